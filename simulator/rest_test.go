package simulator_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/simulator"
)

func TestCreateJobRoundTrip(t *testing.T) {
	h := startDev(t)

	status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, "success", resp["result"])
	require.Equal(t, "", resp["result_msg"])
	require.Equal(t, "FX000001", resp["jobRef"])

	// Job read (assumed endpoint).
	status, job := h.rest("fixit", "GET", "/workflow/job/FX000001", nil)
	require.Equal(t, http.StatusOK, status)
	requireAllStrings(t, job, "job")
	require.Equal(t, "AC000001", job["clientRef"])
	require.Equal(t, "41", job["clientId"])
	require.Equal(t, "SITE-001", job["siteRef"])
	require.Equal(t, "CON-001", job["contactRef"])
	require.Equal(t, "P1 Emergency", job["priority"])
	require.Equal(t, "11", job["priorityId"])
	require.Equal(t, "27/11/2026 09:30", job["reportedDate"])
	require.Equal(t, simulator.StatusNewlyCreated, job["status"])
	require.Equal(t, "1", job["statusId"])
	acts := job["activities"].([]any)
	require.Len(t, acts, 1)
	act := acts[0].(map[string]any)
	require.Equal(t, "245000", act["id"], "fixit's activity ids start at its firstActivityId")
	require.Equal(t, "PLB001", act["code"])
	require.Equal(t, "2", act["quantity"])
	require.Equal(t, "Replace tap washer", act["description"], "defaults to the SOR description")

	// The site lookup finds it by client ref: what makes O2O's create idempotent.
	status, site := h.rest("fixit", "GET", "/contact/sites/41/SITE-001", nil)
	require.Equal(t, http.StatusOK, status)
	requireAllStrings(t, site, "site")
	require.Equal(t, "SITE-001", site["siteRef"])
	require.Equal(t, "41", site["clientId"])
	require.Equal(t, []any{map[string]any{"contactRef": "CON-001", "name": "Testy McTestface"}}, site["contacts"])
	require.Equal(t, []any{map[string]any{"jobRef": "FX000001", "clientRef": "AC000001", "status": "Newly Created"}}, site["jobs"])

	// Activities read, list and single.
	status, list := h.rest("fixit", "GET", "/activities?ids=245000,999999", nil)
	require.Equal(t, http.StatusOK, status)
	requireAllStrings(t, list, "activities")
	got := list["activities"].([]any)
	require.Len(t, got, 1, "unknown ids are left out")
	a := got[0].(map[string]any)
	require.Equal(t, "245000", a["id"])
	require.Equal(t, "50001", a["jobId"])
	require.Equal(t, "2", a["quantity"])
	require.Equal(t, "9", a["serviceId"])
	require.NotContains(t, a, "supplierId", "not assigned yet")

	status, single := h.rest("fixit", "GET", "/activities/245000", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "245000", single["id"])

	// A bare number is tolerated where a string is expected.
	body := validCreateJob()
	body["clientId"] = 41
	body["contactMode"] = 0
	delete(body, "contactRef")
	status, resp = h.rest("fixit", "POST", "/workflow/job/createJob", body)
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, "FX000002", resp["jobRef"])
	j, ok := h.app.Job("fixit", "FX000002")
	require.True(t, ok)
	require.Empty(t, j.ContactRef)
	require.Equal(t, "o2o-api", j.CreatedBy)
}

func TestCreateJobValidation(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(map[string]any)
		want   string
	}{
		{"missing clientRef", func(b map[string]any) { delete(b, "clientRef") }, "clientRef is required"},
		{"clientRef too long", func(b map[string]any) { b["clientRef"] = strings.Repeat("x", 51) }, "clientRef must be at most 50 characters"},
		{"missing siteRef", func(b map[string]any) { delete(b, "siteRef") }, "siteRef is required"},
		{"missing reportedDate", func(b map[string]any) { delete(b, "reportedDate") }, "reportedDate is required"},
		{"bad reportedDate", func(b map[string]any) { b["reportedDate"] = "2026-11-27T09:30:00Z" }, `reportedDate "2026-11-27T09:30:00Z" must be dd/mm/yyyy hh:mm`},
		{"missing contactMode", func(b map[string]any) { delete(b, "contactMode") }, "contactMode is required"},
		{"contactMode out of range", func(b map[string]any) { b["contactMode"] = "5" }, `contactMode "5" must be a whole number from 0 to 4`},
		{"contactMode unsupported", func(b map[string]any) { b["contactMode"] = "3" }, "contactMode 3 is not supported"},
		{"mode 2 without contactRef", func(b map[string]any) { delete(b, "contactRef") }, "contactRef is required when contactMode is 2"},
		{"unknown contactRef", func(b map[string]any) { b["contactRef"] = "CON-999" }, `contactRef "CON-999" does not exist`},
		{"missing clientId", func(b map[string]any) { delete(b, "clientId") }, "clientId is required"},
		{"unknown clientId", func(b map[string]any) { b["clientId"] = "28" }, `clientId "28" is not a known client`},
		{"unknown site", func(b map[string]any) { b["siteRef"] = "SITE-003" }, `siteRef "SITE-003" does not exist for clientId 41`},
		{"missing priorityId", func(b map[string]any) { delete(b, "priorityId") }, "priorityId is required"},
		{"unknown priorityId", func(b map[string]any) { b["priorityId"] = "1" }, `priorityId "1" is not a known priority`},
		{"missing workLogTypeId", func(b map[string]any) { delete(b, "workLogTypeId") }, "workLogTypeId is required"},
		{"unknown workLogTypeId", func(b map[string]any) { b["workLogTypeId"] = "99" }, `workLogTypeId "99" is not a known work log type`},
		{"unknown workTypeId", func(b map[string]any) { b["workTypeId"] = "99" }, `workTypeId "99" is not a known work type`},
		{"unknown workflowId", func(b map[string]any) { b["workflowId"] = "99" }, `workflowId "99" is not a known workflow`},
		{"unknown serviceId", func(b map[string]any) { b["serviceId"] = "99" }, `serviceId "99" is not a known service`},
		{"SOR code not in client", func(b map[string]any) {
			b["activities"] = []any{map[string]any{"code": "PLB001", "quantity": "1"}, map[string]any{"code": "ELE001", "quantity": "1"}}
		}, `activities[1].code "ELE001" is not an SOR code of clientId 41`},
		{"missing quantity", func(b map[string]any) { b["activities"] = []any{map[string]any{"code": "PLB001"}} }, `activities[0].quantity "" must be a positive decimal`},
		{"zero quantity", func(b map[string]any) { b["activities"] = []any{map[string]any{"code": "PLB001", "quantity": "0"}} }, "must be a positive decimal"},
		{"description too long", func(b map[string]any) { b["description"] = strings.Repeat("d", 2001) }, "description must be at most 2000 characters"},
		{"wrong type", func(b map[string]any) { b["clientId"] = []string{"41"} }, "clientId has the wrong type"},
	}
	h := startDev(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := validCreateJob()
			tc.mutate(body)
			status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", body)
			require.Equal(t, http.StatusBadRequest, status, resp)
			require.Equal(t, "error", resp["result"])
			require.Contains(t, resp["result_msg"], tc.want)
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", "{not json")
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "body is not valid JSON", resp["result_msg"])
	})

	var jobs []simulator.Job
	h.simOK("GET", "fixit", "/jobs", nil, &jobs)
	require.Empty(t, jobs, "no refused request created a job")
}

func TestAuthentication(t *testing.T) {
	h := startDev(t)
	for name, token := range map[string]string{"missing": "", "wrong": "nope", "other system's": fixitToken} {
		t.Run(name, func(t *testing.T) {
			hdr := http.Header{}
			if token != "" {
				hdr.Set(simulator.AuthHeader, token)
			}
			status, _, body := h.do("GET", "/acme/rest/contact/sites/28/SITE-001", hdr, nil)
			require.Equal(t, http.StatusUnauthorized, status)
			require.JSONEq(t, `{"result":"error","result_msg":"REST0001 missing or invalid OS-REST-AUTH-TOKEN"}`, string(body))
		})
	}
	// Unknown paths are only revealed to authenticated callers.
	status, _, _ := h.do("GET", "/acme/rest/nope", nil, nil)
	require.Equal(t, http.StatusUnauthorized, status)
	status, resp := h.rest("acme", "GET", "/nope", nil)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "error", resp["result"])
	// Unknown system.
	status, _, _ = h.do("GET", "/nosuch/rest/activities?ids=1", nil, nil)
	require.Equal(t, http.StatusNotFound, status)
}

func TestMethodNotAllowed(t *testing.T) {
	h := startDev(t)
	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/workflow/job/createJob", "POST"},
		{"PUT", "/workflow/job/addEventByClientRef", "POST"},
		{"POST", "/contact/sites/28/SITE-001", "GET"},
		{"DELETE", "/documents/job/AC000001", "GET, POST"},
		{"POST", "/documents/D1/content", "GET"},
	} {
		hdr := http.Header{simulator.AuthHeader: {acmeToken}}
		status, header, body := h.do(c.method, "/acme/rest"+c.path, hdr, nil)
		require.Equal(t, http.StatusMethodNotAllowed, status, "%s %s", c.method, c.path)
		require.Equal(t, c.allow, header.Get("Allow"))
		require.Contains(t, string(body), `"result":"error"`)
	}
}

func TestAddEventByClientRef(t *testing.T) {
	h := startDev(t)
	acmeJob, _ := h.newAcmeJob()
	status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
	require.Equal(t, http.StatusOK, status, resp)

	event := func(mutate func(map[string]any)) map[string]any {
		b := map[string]any{"jobRef": acmeJob, "clientId": "28", "sigEventCode": "SACC",
			"note": "The subcontractor accepted the job", "date": "27-11-2026 10:00:00"}
		if mutate != nil {
			mutate(b)
		}
		return b
	}

	// By jobRef.
	status, resp = h.rest("acme", "POST", "/workflow/job/addEventByClientRef", event(nil))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"result": "success", "result_msg": ""}, resp)
	job, _ := h.app.Job("acme", acmeJob)
	require.Len(t, job.History, 1)
	ev := job.History[0]
	require.Equal(t, "SACC", ev.Code)
	require.Equal(t, "Subcontractor accepted", ev.Name)
	require.Equal(t, "The subcontractor accepted the job", ev.Note)
	require.Equal(t, "27-11-2026 10:00:00", ev.Date)
	require.Equal(t, "o2o-api", ev.AddedBy)

	// By jobClientRef + clientId (the secondary job's client ref is the primary ref).
	status, resp = h.rest("fixit", "POST", "/workflow/job/addEventByClientRef", map[string]any{
		"jobRef": "", "jobClientRef": "AC000001", "clientId": "41", "sigEventCode": "PCAN",
		"note": "The client cancelled this job", "date": "27-11-2026 11:00:00", "appointmentId": "42901",
	})
	require.Equal(t, http.StatusOK, status, resp)
	fj, _ := h.app.Job("fixit", "FX000001")
	require.Len(t, fj.History, 1)
	require.Equal(t, "PCAN", fj.History[0].Code)
	require.Equal(t, "42901", fj.History[0].AppointmentID)

	// Unknown job: HTTP 200, the error only in the envelope.
	for name, mutate := range map[string]func(map[string]any){
		"unknown jobRef":       func(b map[string]any) { b["jobRef"] = "AC999999" },
		"job of other client":  func(b map[string]any) { b["clientId"] = "41" },
		"unknown jobClientRef": func(b map[string]any) { b["jobRef"] = ""; b["jobClientRef"] = "NOPE" },
	} {
		status, resp = h.rest("acme", "POST", "/workflow/job/addEventByClientRef", event(mutate))
		require.Equal(t, http.StatusOK, status, name)
		require.Equal(t, map[string]any{"result": "error", "result_msg": "REST0004 Job not found"}, resp, name)
	}

	// Validation.
	for _, c := range []struct {
		mutate func(map[string]any)
		want   string
	}{
		{func(b map[string]any) { delete(b, "jobRef") }, "jobRef or jobClientRef is required"},
		{func(b map[string]any) { delete(b, "clientId") }, "clientId is required"},
		{func(b map[string]any) { delete(b, "sigEventCode") }, "sigEventCode is required"},
		{func(b map[string]any) { b["sigEventCode"] = "TOOLONG" }, "sigEventCode must be at most 6 characters"},
		{func(b map[string]any) { b["sigEventCode"] = "PCAN" }, `sigEventCode "PCAN" is not a configured event code`},
		{func(b map[string]any) { delete(b, "note") }, "note is required"},
		{func(b map[string]any) { b["note"] = strings.Repeat("n", 1001) }, "note must be at most 1000 characters"},
		{func(b map[string]any) { delete(b, "date") }, "date is required"},
		{func(b map[string]any) { b["date"] = "27/11/2026 10:00" }, `date "27/11/2026 10:00" must be dd-mm-yyyy HH:mm:ss`},
		{func(b map[string]any) { b["appointmentId"] = "A1" }, `appointmentId "A1" must be a whole number`},
	} {
		status, resp = h.rest("acme", "POST", "/workflow/job/addEventByClientRef", event(c.mutate))
		require.Equal(t, http.StatusBadRequest, status, c.want)
		require.Equal(t, "error", resp["result"])
		require.Contains(t, resp["result_msg"], c.want)
	}
	job, _ = h.app.Job("acme", acmeJob)
	require.Len(t, job.History, 1, "refused events are not recorded")
}

func TestSiteAndJobNotFound(t *testing.T) {
	h := startDev(t)
	status, resp := h.rest("fixit", "GET", "/contact/sites/41/SITE-003", nil)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "error", resp["result"])
	require.Contains(t, resp["result_msg"], "SITE-003")

	status, _ = h.rest("acme", "GET", "/contact/sites/41/SITE-001", nil)
	require.Equal(t, http.StatusNotFound, status, "sites are per client")

	status, _ = h.rest("fixit", "GET", "/workflow/job/FX000001", nil)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = h.rest("fixit", "GET", "/activities/1", nil)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = h.rest("fixit", "GET", "/documents/job/FX000001", nil)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = h.rest("fixit", "GET", "/documents/D1/content", nil)
	require.Equal(t, http.StatusNotFound, status)
}

func TestActivitiesRead(t *testing.T) {
	h := startDev(t)
	jobRef, actID := h.newAcmeJob()
	h.simOK("POST", "acme", "/activities/"+actID+"/assign", map[string]string{"teamId": "7"}, nil)

	status, resp := h.rest("acme", "GET", "/activities?ids="+actID, nil)
	require.Equal(t, http.StatusOK, status)
	a := resp["activities"].([]any)[0].(map[string]any)
	require.Equal(t, "7", a["supplierId"], "the assignment is visible at the source")
	require.Equal(t, jobRef, a["jobRef"])

	ids := make([]string, 21)
	for i := range ids {
		ids[i] = fmt.Sprint(137000 + i)
	}
	status, resp = h.rest("acme", "GET", "/activities?ids="+strings.Join(ids, ","), nil)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, resp["result_msg"], "at most 20")

	status, resp = h.rest("acme", "GET", "/activities?ids="+strings.Join(ids[:20], ","), nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, resp["activities"], 1)

	status, _ = h.rest("acme", "GET", "/activities", nil)
	require.Equal(t, http.StatusBadRequest, status)
	status, _ = h.rest("acme", "GET", "/activities?ids=abc", nil)
	require.Equal(t, http.StatusBadRequest, status)
}

func TestRequestLog(t *testing.T) {
	h := startDev(t)
	h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
	h.do("GET", "/fixit/rest/workflow/job/FX000001", nil, nil) // no token

	var log []simulator.RequestLogEntry
	h.simOK("GET", "fixit", "/requests", nil, &log)
	require.Len(t, log, 2)
	require.Equal(t, "POST", log[0].Method)
	require.Equal(t, "/fixit/rest/workflow/job/createJob", log[0].Path)
	require.Equal(t, simulator.OpCreateJob, log[0].Op)
	require.Equal(t, http.StatusOK, log[0].Status)
	require.False(t, log[0].Time.IsZero())
	require.Equal(t, http.StatusUnauthorized, log[1].Status)
	require.Equal(t, simulator.OpJob, log[1].Op)

	_, _, raw := h.do("GET", "/fixit/sim/requests", nil, nil)
	require.NotContains(t, string(raw), fixitToken, "tokens are never recorded")
}
