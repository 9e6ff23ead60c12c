package simulator_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/simulator"
)

// validActivityByClientRef is one addActivityByClientRef item, valid in
// fixit for the job validCreateJob creates (client ref AC000001).
func validActivityByClientRef() map[string]any {
	return map[string]any{
		"jobClientRef": "AC000001", "clientId": "41", "code": "PLB002", "clientRef": "o2o:l1:137128",
		"description": "Clear the drain", "completedQuantity": "0", "totalQuantity": "1.5",
	}
}

func addActivityBody(items ...map[string]any) map[string]any {
	acts := make([]any, len(items))
	for i, it := range items {
		acts[i] = it
	}
	// "0": plain adds to the current version; versions_test.go covers "1".
	return map[string]any{"submitVersion": "0", "activities": acts}
}

// jobActivities returns the activities of a job as the job read shows them.
func jobActivities(t *testing.T, h *harness, system, jobRef string) []any {
	t.Helper()
	status, job := h.rest(system, "GET", "/workflow/job/"+jobRef, nil)
	require.Equal(t, http.StatusOK, status, job)
	return job["activities"].([]any)
}

func TestAddActivityByClientRefRoundTrip(t *testing.T) {
	h := startDev(t)
	status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
	require.Equal(t, http.StatusOK, status, resp)
	second := validCreateJob()
	second["clientRef"] = "AC000002"
	status, resp = h.rest("fixit", "POST", "/workflow/job/createJob", second)
	require.Equal(t, http.StatusOK, status, resp)
	outboxBefore := len(h.app.Outbox("fixit"))

	noDesc := validActivityByClientRef()
	delete(noDesc, "description")
	noDesc["clientRef"] = "o2o:l1:137129"
	noDesc["code"] = "PLB001"
	noDesc["completedQuantity"] = 1 // bare numbers are tolerated
	noDesc["totalQuantity"] = 2
	other := validActivityByClientRef()
	other["jobClientRef"] = "AC000002"
	other["clientRef"] = "o2o:l1:137130"
	status, resp = h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef",
		addActivityBody(validActivityByClientRef(), noDesc, other))
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, map[string]any{"result": "success", "result_msg": "Activity(ies) Posted"}, resp)

	// The job read shows the new lines, with their client refs; the line
	// created with the job has an empty one.
	status, job := h.rest("fixit", "GET", "/workflow/job/FX000001", nil)
	require.Equal(t, http.StatusOK, status)
	requireAllStrings(t, job, "job")
	require.Equal(t, []any{
		map[string]any{"id": "245000", "code": "PLB001", "description": "Replace tap washer", "quantity": "2", "status": "1", "clientRef": ""},
		map[string]any{"id": "245002", "code": "PLB002", "description": "Clear the drain", "quantity": "1.5", "status": "1", "clientRef": "o2o:l1:137128"},
		map[string]any{"id": "245003", "code": "PLB001", "description": "Replace tap washer", "quantity": "2", "status": "1", "clientRef": "o2o:l1:137129"},
	}, job["activities"], "new numeric ids, no supplier, description defaults to the SOR's")
	require.Equal(t, []any{
		map[string]any{"id": "245001", "code": "PLB001", "description": "Replace tap washer", "quantity": "2", "status": "1", "clientRef": ""},
		map[string]any{"id": "245004", "code": "PLB002", "description": "Clear the drain", "quantity": "1.5", "status": "1", "clientRef": "o2o:l1:137130"},
	}, jobActivities(t, h, "fixit", "FX000002"), "each item goes to its own job")

	j, _ := h.app.Job("fixit", "FX000001")
	require.Len(t, j.Activities, 3)
	added := j.Activities[2]
	require.Equal(t, "o2o-api", added.AddedBy)
	require.Equal(t, "1", added.CompletedQuantity)
	require.Equal(t, "o2o:l1:137129", added.ClientRef)
	require.Empty(t, added.SupplierID)
	require.False(t, added.LastModified.IsZero())
	require.Equal(t, "o2o-api", j.Activities[0].AddedBy, "createJob lines record their creator too")

	// The activities read reports them, with their completed quantity.
	status, list := h.rest("fixit", "GET", "/activities?ids=245000,245003", nil)
	require.Equal(t, http.StatusOK, status)
	got := list["activities"].([]any)
	require.Len(t, got, 2)
	require.Equal(t, "0", got[0].(map[string]any)["completedQuantity"])
	a := got[1].(map[string]any)
	require.Equal(t, "1", a["completedQuantity"])
	require.Equal(t, "2", a["quantity"])
	require.Equal(t, "50001", a["jobId"])
	require.NotContains(t, a, "supplierId")

	require.Len(t, h.app.Outbox("fixit"), outboxBefore, "addActivityByClientRef emits no Integration Event")

	// submitVersion "1" (a new version of each job touched; versions_test.go),
	// or none at all, is accepted too.
	for _, sv := range []any{"0", 1, nil} {
		body := addActivityBody(validActivityByClientRef())
		if sv == nil {
			delete(body, "submitVersion")
		} else {
			body["submitVersion"] = sv
		}
		status, resp = h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", body)
		require.Equal(t, http.StatusOK, status, resp)
	}
	require.Len(t, jobActivities(t, h, "fixit", "FX000001"), 6)
}

func TestAddActivityByClientRefValidation(t *testing.T) {
	h := startDev(t)
	status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
	require.Equal(t, http.StatusOK, status, resp)

	item := func(mutate func(map[string]any)) map[string]any {
		b := validActivityByClientRef()
		mutate(b)
		return b
	}
	cases := []struct {
		name string
		body any
		want string
	}{
		{"bad submitVersion", func() any { b := addActivityBody(validActivityByClientRef()); b["submitVersion"] = "2"; return b }(), `submitVersion "2" must be 0 or 1`},
		{"no activities", map[string]any{"submitVersion": "1"}, "activities is required"},
		{"empty activities", map[string]any{"submitVersion": "1", "activities": []any{}}, "activities is required"},
		{"missing jobClientRef", addActivityBody(item(func(b map[string]any) { delete(b, "jobClientRef") })), "activities[0].jobClientRef is required"},
		{"jobClientRef too long", addActivityBody(item(func(b map[string]any) { b["jobClientRef"] = strings.Repeat("j", 51) })), "activities[0].jobClientRef must be at most 50 characters"},
		{"missing clientId", addActivityBody(item(func(b map[string]any) { delete(b, "clientId") })), "activities[0].clientId is required"},
		{"clientId not a number", addActivityBody(item(func(b map[string]any) { b["clientId"] = "C41" })), `activities[0].clientId "C41" must be a whole number`},
		{"missing code", addActivityBody(item(func(b map[string]any) { delete(b, "code") })), "activities[0].code is required"},
		{"code too long", addActivityBody(item(func(b map[string]any) { b["code"] = strings.Repeat("C", 21) })), "activities[0].code must be at most 20 characters"},
		{"code not in the client's SOR codes", addActivityBody(item(func(b map[string]any) { b["code"] = "ELE001" })), `activities[0].code "ELE001" is not an SOR code of clientId 41`},
		{"missing clientRef", addActivityBody(item(func(b map[string]any) { delete(b, "clientRef") })), "activities[0].clientRef is required"},
		{"clientRef too long", addActivityBody(item(func(b map[string]any) { b["clientRef"] = strings.Repeat("r", 51) })), "activities[0].clientRef must be at most 50 characters"},
		{"description too long", addActivityBody(item(func(b map[string]any) { b["description"] = strings.Repeat("d", 1001) })), "activities[0].description must be at most 1000 characters"},
		{"missing completedQuantity", addActivityBody(item(func(b map[string]any) { delete(b, "completedQuantity") })), "activities[0].completedQuantity is required"},
		{"completedQuantity not decimal", addActivityBody(item(func(b map[string]any) { b["completedQuantity"] = "half" })), `activities[0].completedQuantity "half" must be a decimal of 0 or more`},
		{"negative completedQuantity", addActivityBody(item(func(b map[string]any) { b["completedQuantity"] = "-1" })), "must be a decimal of 0 or more"},
		{"missing totalQuantity", addActivityBody(item(func(b map[string]any) { delete(b, "totalQuantity") })), "activities[0].totalQuantity is required"},
		{"totalQuantity not decimal", addActivityBody(item(func(b map[string]any) { b["totalQuantity"] = "1,5" })), `activities[0].totalQuantity "1,5" must be a positive decimal`},
		{"zero totalQuantity", addActivityBody(item(func(b map[string]any) { b["totalQuantity"] = "0" })), "must be a positive decimal"},
		{"wrong type", addActivityBody(item(func(b map[string]any) { b["code"] = []string{"PLB001"} })), "has the wrong type"},
		// All or nothing: a bad second item refuses the valid first one too.
		{"second item refused", addActivityBody(validActivityByClientRef(), item(func(b map[string]any) { b["code"] = "NOPE01" })), `activities[1].code "NOPE01" is not an SOR code of clientId 41`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", tc.body)
			require.Equal(t, http.StatusBadRequest, status, resp)
			require.Equal(t, "error", resp["result"])
			require.Contains(t, resp["result_msg"], tc.want)
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		status, resp := h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", "{not json")
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "body is not valid JSON", resp["result_msg"])
	})

	require.Len(t, jobActivities(t, h, "fixit", "FX000001"), 1, "no refused request added an activity")

	// A later valid call gets the next id: refused calls used none.
	status, resp = h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", addActivityBody(validActivityByClientRef()))
	require.Equal(t, http.StatusOK, status, resp)
	acts := jobActivities(t, h, "fixit", "FX000001")
	require.Len(t, acts, 2)
	require.Equal(t, "245001", acts[1].(map[string]any)["id"])
}

func TestAddActivityByClientRefUnknownJob(t *testing.T) {
	h := startDev(t)
	status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
	require.Equal(t, http.StatusOK, status, resp)

	unknown := validActivityByClientRef()
	unknown["jobClientRef"] = "AC999999"
	for name, body := range map[string]any{
		"unknown job":                        addActivityBody(unknown),
		"job ref is a jobRef, not clientRef": addActivityBody(func() map[string]any { b := validActivityByClientRef(); b["jobClientRef"] = "FX000001"; return b }()),
		// All or nothing: the first item's job exists, the second's does not.
		"second job unknown": addActivityBody(validActivityByClientRef(), unknown),
	} {
		t.Run(name, func(t *testing.T) {
			status, resp := h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", body)
			require.Equal(t, http.StatusOK, status, "like addEventByClientRef: HTTP 200, the error only in the envelope")
			require.Equal(t, map[string]any{"result": "error", "result_msg": "REST0004 Job not found"}, resp)
		})
	}
	require.Len(t, jobActivities(t, h, "fixit", "FX000001"), 1, "nothing was added")

	// A job of another client is not found through this client's id.
	status, resp = h.rest("acme", "POST", "/workflow/activity/addActivityByClientRef", addActivityBody(map[string]any{
		"jobClientRef": "AC000001", "clientId": "28", "code": "PLB001", "clientRef": "A1", "completedQuantity": "0", "totalQuantity": "1",
	}))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "REST0004 Job not found", resp["result_msg"], "acme has no job with that client ref")
}

func TestJobReadEvents(t *testing.T) {
	h := startDev(t)
	status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
	require.Equal(t, http.StatusOK, status, resp)

	// No history yet: an empty list.
	status, job := h.rest("fixit", "GET", "/workflow/job/FX000001", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []any{}, job["events"])

	// Recorded out of date order; the read lists them oldest first.
	for _, e := range []map[string]any{
		{"date": "27-11-2026 11:00:00", "sigEventCode": "PCAN", "note": "Cancelled by the client", "appointmentId": "42901"},
		{"date": "27-11-2026 10:00:00", "sigEventCode": "PNOTE", "note": "First note"},
		{"date": "27-11-2026 11:00:00", "sigEventCode": "PNOTE", "note": "Same time, recorded later"},
	} {
		e["jobClientRef"], e["clientId"] = "AC000001", "41"
		status, resp := h.rest("fixit", "POST", "/workflow/job/addEventByClientRef", e)
		require.Equal(t, http.StatusOK, status, resp)
	}
	status, job = h.rest("fixit", "GET", "/workflow/job/FX000001", nil)
	require.Equal(t, http.StatusOK, status)
	requireAllStrings(t, job, "job")
	require.Equal(t, []any{
		map[string]any{"code": "PNOTE", "note": "First note", "date": "27-11-2026 10:00:00"},
		map[string]any{"code": "PCAN", "note": "Cancelled by the client", "date": "27-11-2026 11:00:00", "appointmentId": "42901"},
		map[string]any{"code": "PNOTE", "note": "Same time, recorded later", "date": "27-11-2026 11:00:00"},
	}, job["events"])
}

func TestNewEndpointsMethodsAndFaults(t *testing.T) {
	h := startDev(t)
	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/workflow/activity/addActivityByClientRef", "POST"},
	} {
		status, header, body := h.do(c.method, "/fixit/rest"+c.path, http.Header{simulator.AuthHeader: {fixitToken}}, nil)
		require.Equal(t, http.StatusMethodNotAllowed, status, "%s %s", c.method, c.path)
		require.Equal(t, c.allow, header.Get("Allow"))
		require.Contains(t, string(body), `"result":"error"`)
	}
	status, _, _ := h.do("POST", "/fixit/rest/workflow/activity/addActivityByClientRef", nil, jsonBody(t, addActivityBody(validActivityByClientRef())))
	require.Equal(t, http.StatusUnauthorized, status)

	// Faults can target the new operations by name.
	h.simOK("POST", "fixit", "/faults", map[string]any{"op": simulator.OpAddActivityByClientRef, "status": "200", "message": "REST0099 Version locked"}, nil)
	status, resp := h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", addActivityBody(validActivityByClientRef()))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"result": "error", "result_msg": "REST0099 Version locked"}, resp)

	var log []simulator.RequestLogEntry
	h.simOK("GET", "fixit", "/requests", nil, &log)
	ops := map[string]string{}
	for _, e := range log {
		if e.Method == "POST" && e.Status != http.StatusMethodNotAllowed {
			ops[e.Path] = e.Op
		}
	}
	require.Equal(t, map[string]string{"/fixit/rest/workflow/activity/addActivityByClientRef": simulator.OpAddActivityByClientRef}, ops)
}
