package simulator_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/simulator"
)

// versionedFixitJob creates FX000001 in fixit through createJob, as O2O
// would: client ref AC000001, one line (245000, PLB001 × 2) whose client
// ref is the primary activity id 137001.
func versionedFixitJob(t *testing.T, h *harness) {
	t.Helper()
	body := validCreateJob()
	body["activities"] = []any{map[string]any{"code": "PLB001", "quantity": "2", "clientRef": "137001"}}
	status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", body)
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, "FX000001", resp["jobRef"])
}

// readVersions returns the job read's version, versionStatus and versions.
func readVersions(t *testing.T, h *harness, system, jobRef string) (string, string, []any, map[string]any) {
	t.Helper()
	status, job := h.rest(system, "GET", "/workflow/job/"+jobRef, nil)
	require.Equal(t, http.StatusOK, status, job)
	requireAllStrings(t, job, "job")
	return job["version"].(string), job["versionStatus"].(string), job["versions"].([]any), job
}

func versionEntry(number, jobRef, status string) map[string]any {
	return map[string]any{"number": number, "jobRef": jobRef, "status": status}
}

// lastEventData is the data object of the system's last emitted webhook
// body, as sent.
func lastEventData(t *testing.T, h *harness, system string) (string, map[string]any) {
	t.Helper()
	outbox := h.app.Outbox(system)
	require.NotEmpty(t, outbox)
	var body struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(outbox[len(outbox)-1].Body, &body))
	return body.Type, body.Data
}

// A user raises a version, approves it, raises another without submitting
// and rejects it. Every action emits its event in exactly the schema
// events.Decode accepts; the old version moves to a new ref and the current
// one keeps the job's.
func TestSimVersionsRaiseAndDecide(t *testing.T) {
	h := startDev(t)
	versionedFixitJob(t, h)
	v, st, list, _ := readVersions(t, h, "fixit", "FX000001")
	require.Equal(t, "1", v, "a job starts at version 1")
	require.Equal(t, "Approved", st)
	require.Equal(t, []any{versionEntry("1", "FX000001", "Approved")}, list)

	// Raise version 2: one added line, one changed quantity (by client ref).
	var raised simulator.SimVersionResponse
	h.simOK("POST", "fixit", "/jobs/FX000001/versions", map[string]any{
		"reason": "Second radiator found corroded",
		"changes": []map[string]any{
			{"change": "add", "code": "PLB002", "quantity": "1", "clientRef": "V2-1"},
			{"change": "quantity", "clientRef": "137001", "quantity": 3},
		},
	}, &raised)
	require.Equal(t, "FX000001", raised.JobRef)
	require.Equal(t, "FX000002", raised.PreviousVersionJobRef, "the old version gets the next ref")
	require.Equal(t, 2, raised.Version.Number)
	require.Equal(t, "Pending", raised.Version.Status, "submitted by default")
	require.Equal(t, simulator.SimActor, raised.Version.CreatedBy)
	wantChanges := []events.LineChange{
		{Change: "add", ActivityID: "245001", ClientRef: "V2-1", Code: "PLB002", Quantity: "1"},
		{Change: "quantity", ActivityID: "245000", ClientRef: "137001", Code: "PLB001", Quantity: "3"},
	}
	require.Equal(t, wantChanges, raised.Version.Changes)

	evs := decodeOutbox(t, h, "fixit")
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, raised.EventID, ev.ID)
	require.Equal(t, events.VersionCreated, ev.Type)
	require.Equal(t, "FX000001", ev.JobRef)
	require.Equal(t, "AC000001", ev.JobClientRef)
	require.Equal(t, simulator.SimActor, ev.Actor)
	require.Equal(t, &events.Version{Number: 2, PreviousJobRef: "FX000002", Status: "Pending", Reason: "Second radiator found corroded",
		Changes: wantChanges}, ev.Version)
	typ, data := lastEventData(t, h, "fixit")
	require.Equal(t, "VERSION_CREATED", typ)
	require.Equal(t, map[string]any{
		"jobRef": "FX000001", "jobClientRef": "AC000001", "actor": "sim-user", "version": "2", "previousVersionJobRef": "FX000002",
		"status": "Pending", "reason": "Second radiator found corroded", "changes": []any{
			map[string]any{"change": "add", "activityId": "245001", "clientRef": "V2-1", "code": "PLB002", "quantity": "1"},
			map[string]any{"change": "quantity", "activityId": "245000", "clientRef": "137001", "code": "PLB001", "quantity": "3"},
		},
	}, data, "the body on the wire, every scalar a string")

	// The job keeps its ref and holds version 2; FX000002 holds version 1
	// with the old lines (new ids).
	v, st, list, job := readVersions(t, h, "fixit", "FX000001")
	require.Equal(t, "2", v)
	require.Equal(t, "Pending", st)
	wantList := []any{versionEntry("1", "FX000002", "Approved"), versionEntry("2", "FX000001", "Pending")}
	require.Equal(t, wantList, list)
	require.Equal(t, []any{
		map[string]any{"id": "245000", "code": "PLB001", "description": "Replace tap washer", "quantity": "3", "status": "1", "clientRef": "137001"},
		map[string]any{"id": "245001", "code": "PLB002", "description": "Clear blocked drain", "quantity": "1", "status": "1", "clientRef": "V2-1"},
	}, job["activities"])
	v, st, list, old := readVersions(t, h, "fixit", "FX000002")
	require.Equal(t, "1", v)
	require.Equal(t, "Approved", st)
	require.Equal(t, wantList, list, "a superseded version lists the job's versions too")
	require.Equal(t, "AC000001", old["clientRef"])
	require.Equal(t, []any{
		map[string]any{"id": "245002", "code": "PLB001", "description": "Replace tap washer", "quantity": "2", "status": "1", "clientRef": "137001"},
	}, old["activities"])
	j, ok := h.app.Job("fixit", "FX000002")
	require.True(t, ok)
	require.Equal(t, "FX000001", j.CurrentJobRef)

	// Refusals: another version while this one is Pending; deciding a
	// superseded or unknown version, or through the superseded ref.
	for _, c := range []struct {
		path   string
		body   any
		status int
		want   string
	}{
		{"/jobs/FX000001/versions", map[string]any{"changes": []map[string]any{{"change": "remove", "activityId": "245001"}}}, 409, "version 2 of job FX000001 is Pending"},
		{"/jobs/FX000002/versions", map[string]any{"changes": []map[string]any{{"change": "remove", "activityId": "245002"}}}, 409, "job FX000002 holds version 1 of job FX000001, which is superseded"},
		{"/jobs/FX000001/versions/1/approve", nil, 409, "version 1 of job FX000001 is superseded"},
		{"/jobs/FX000001/versions/3/approve", nil, 404, "job FX000001 has no version 3"},
		{"/jobs/FX000002/versions/1/approve", nil, 409, "superseded"},
		{"/jobs/FX000001/versions/two/approve", nil, 400, `version "two" must be a whole number`},
		{"/jobs/FX000001/versions/2/delete", nil, 404, `no action "delete"`},
		{"/jobs/FX999999/versions/2/approve", nil, 404, `job "FX999999" not found`},
		{"/jobs/FX000001/versions/2/approve", map[string]any{"reason": strings.Repeat("r", 1001)}, 400, "reason must be at most 1000 characters"},
	} {
		var out map[string]string
		require.Equal(t, c.status, h.sim("POST", "fixit", c.path, c.body, &out), c.path)
		require.Contains(t, out["error"], c.want, c.path)
	}
	require.Len(t, h.app.Outbox("fixit"), 1, "refusals emit nothing")

	// Approve version 2.
	var approved simulator.SimVersionResponse
	h.simOK("POST", "fixit", "/jobs/FX000001/versions/2/approve", map[string]any{"reason": "Agreed by phone"}, &approved)
	require.Equal(t, "Approved", approved.Version.Status)
	require.Equal(t, "Agreed by phone", approved.Version.DecisionReason)
	require.Equal(t, simulator.SimActor, approved.Version.DecidedBy)
	evs = decodeOutbox(t, h, "fixit")
	require.Len(t, evs, 2)
	require.Equal(t, approved.EventID, evs[1].ID)
	require.Equal(t, events.VersionStatusChanged, evs[1].Type)
	require.Equal(t, "FX000001", evs[1].JobRef)
	require.Equal(t, "AC000001", evs[1].JobClientRef)
	require.Equal(t, simulator.SimActor, evs[1].Actor)
	require.Equal(t, &events.Version{Number: 2, Status: "Approved", Reason: "Agreed by phone"}, evs[1].Version)
	typ, data = lastEventData(t, h, "fixit")
	require.Equal(t, "VERSION_STATUS_CHANGED", typ)
	require.Equal(t, map[string]any{"jobRef": "FX000001", "jobClientRef": "AC000001", "actor": "sim-user", "version": "2",
		"status": "Approved", "reason": "Agreed by phone"}, data)
	var out map[string]string
	require.Equal(t, 409, h.sim("POST", "fixit", "/jobs/FX000001/versions/2/cancel", nil, &out))
	require.Equal(t, "version 2 of job FX000001 is Approved, not New or Pending", out["error"])

	// Version 3, saved without submitting (New): a removed line by id.
	raised = simulator.SimVersionResponse{} // decode afresh
	h.simOK("POST", "fixit", "/jobs/FX000001/versions", map[string]any{
		"submit": false, "changes": []map[string]any{{"change": "remove", "activityId": "245001"}},
	}, &raised)
	require.Equal(t, 3, raised.Version.Number)
	require.Equal(t, "New", raised.Version.Status)
	require.Equal(t, "FX000003", raised.PreviousVersionJobRef)
	require.Equal(t, []events.LineChange{{Change: "remove", ActivityID: "245001", ClientRef: "V2-1", Code: "PLB002"}}, raised.Version.Changes)
	_, st, list, job = readVersions(t, h, "fixit", "FX000001")
	require.Equal(t, "New", st)
	require.Equal(t, []any{versionEntry("1", "FX000002", "Approved"), versionEntry("2", "FX000003", "Approved"), versionEntry("3", "FX000001", "New")}, list)
	require.Len(t, job["activities"], 1)
	status, _ := h.rest("fixit", "GET", "/activities/245001", nil)
	require.Equal(t, http.StatusNotFound, status, "a removed line is gone")

	// Reject it, with no body at all.
	h.simOK("POST", "fixit", "/jobs/FX000001/versions/3/reject", nil, &approved)
	require.Equal(t, "Rejected", approved.Version.Status)
	evs = decodeOutbox(t, h, "fixit")
	require.Len(t, evs, 4)
	require.Equal(t, &events.Version{Number: 3, PreviousJobRef: "FX000003", Status: "New", Changes: raised.Version.Changes}, evs[2].Version)
	require.Equal(t, &events.Version{Number: 3, Status: "Rejected"}, evs[3].Version)
	_, data = lastEventData(t, h, "fixit")
	require.NotContains(t, data, "reason", "no reason, no field")
	require.NotContains(t, data, "changes")

	// After a rejection a new version can be raised again; cancel it.
	raised = simulator.SimVersionResponse{}
	h.simOK("POST", "fixit", "/jobs/FX000001/versions", map[string]any{
		"changes": []map[string]any{{"change": "quantity", "activityId": "245000", "quantity": "0.5"}},
	}, &raised)
	require.Equal(t, 4, raised.Version.Number)
	h.simOK("POST", "fixit", "/jobs/FX000001/versions/4/cancel", map[string]any{"reason": "Raised by mistake"}, &approved)
	require.Equal(t, "Cancelled", approved.Version.Status)
	evs = decodeOutbox(t, h, "fixit")
	require.Equal(t, &events.Version{Number: 4, Status: "Cancelled", Reason: "Raised by mistake"}, evs[len(evs)-1].Version)
}

// The changes of a user's version are checked like createJob's lines: SOR
// codes of the job's client, positive decimal quantities, lines of the job.
// A refused request changes nothing and emits nothing.
func TestSimVersionValidation(t *testing.T) {
	h := startDev(t)
	versionedFixitJob(t, h)
	for _, c := range []struct {
		name    string
		changes any
		want    string
	}{
		{"no changes", []any{}, "changes is required"},
		{"absent changes", nil, "changes is required"},
		{"unknown SOR code", []map[string]any{{"change": "add", "code": "ELE001", "quantity": "1"}}, `changes[0].code "ELE001" is not an SOR code of clientId 41`},
		{"add without code", []map[string]any{{"change": "add", "quantity": "1"}}, "changes[0].code is required"},
		{"add without quantity", []map[string]any{{"change": "add", "code": "PLB002"}}, "changes[0].quantity is required"},
		{"zero quantity", []map[string]any{{"change": "quantity", "activityId": "245000", "quantity": "0"}}, `changes[0].quantity "0" must be a positive decimal`},
		{"exponent", []map[string]any{{"change": "add", "code": "PLB002", "quantity": "1e3"}}, `changes[0].quantity "1e3" must be a positive decimal`},
		{"unknown line", []map[string]any{{"change": "remove", "activityId": "999999"}}, `changes[0]: no line with activityId "999999" or clientRef "" on job FX000001`},
		{"unknown client ref", []map[string]any{{"change": "add", "code": "PLB002", "quantity": "1"}, {"change": "quantity", "clientRef": "NOPE", "quantity": "2"}}, `changes[1]: no line with activityId "" or clientRef "NOPE"`},
		{"removed twice", []map[string]any{{"change": "remove", "activityId": "245000"}, {"change": "remove", "clientRef": "137001"}}, `changes[1]: no line`},
		{"no line named", []map[string]any{{"change": "remove"}}, "changes[0].activityId or changes[0].clientRef is required"},
		{"bad kind", []map[string]any{{"change": "delete", "activityId": "245000"}}, `changes[0].change "delete" must be add, remove or quantity`},
		{"no kind", []map[string]any{{"activityId": "245000"}}, "changes[0].change is required"},
		{"wrong type", []map[string]any{{"change": "add", "code": []string{"PLB002"}, "quantity": "1"}}, "has the wrong type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := map[string]any{}
			if c.changes != nil {
				body["changes"] = c.changes
			}
			var out map[string]string
			require.Equal(t, http.StatusBadRequest, h.sim("POST", "fixit", "/jobs/FX000001/versions", body, &out))
			require.Contains(t, out["error"], c.want)
		})
	}
	var out map[string]string
	require.Equal(t, http.StatusBadRequest, h.sim("POST", "fixit", "/jobs/FX000001/versions", map[string]any{
		"reason": strings.Repeat("x", 1001), "changes": []map[string]any{{"change": "remove", "activityId": "245000"}},
	}, &out))
	require.Contains(t, out["error"], "reason must be at most 1000 characters")
	require.Equal(t, http.StatusNotFound, h.sim("POST", "fixit", "/jobs/FX999999/versions", map[string]any{
		"changes": []map[string]any{{"change": "remove", "activityId": "245000"}},
	}, &out))

	v, _, _, job := readVersions(t, h, "fixit", "FX000001")
	require.Equal(t, "1", v, "nothing was raised")
	require.Len(t, job["activities"], 1)
	require.Empty(t, h.app.Outbox("fixit"))
	_, ok := h.app.Job("fixit", "FX000002")
	require.False(t, ok, "no ref was used")
}

// versionLines (assumed endpoint): with submitVersion 1 a new version,
// echoed as VERSION_CREATED with the API user as actor; with 0 the change
// is made in the current version, silently, and recorded on it while it is
// still Pending. The version status endpoint decides it.
func TestRESTVersionLinesAndStatus(t *testing.T) {
	h := startDev(t)
	versionedFixitJob(t, h)
	addLine := validActivityByClientRef() // PLB002, client ref o2o:l1:137128, on AC000001
	status, resp := h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", addActivityBody(addLine))
	require.Equal(t, http.StatusOK, status, resp)
	require.Empty(t, h.app.Outbox("fixit"), "submitVersion 0 adds in place, silently")

	status, resp = h.rest("fixit", "POST", "/workflow/job/FX000001/versionLines", map[string]any{
		"submitVersion": "1", "reason": "Less pipe needed",
		"changes": []any{
			map[string]any{"change": "remove", "clientRef": "o2o:l1:137128"},
			map[string]any{"change": "quantity", "activityId": "245000", "clientRef": "137001", "quantity": "1.25"},
		},
	})
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, map[string]any{"result": "success", "result_msg": "", "version": "2"}, resp)
	evs := decodeOutbox(t, h, "fixit")
	require.Len(t, evs, 1)
	require.Equal(t, events.VersionCreated, evs[0].Type)
	require.Equal(t, "o2o-api", evs[0].Actor, "the API user: O2O recognises its own echo")
	require.Equal(t, &events.Version{Number: 2, PreviousJobRef: "FX000002", Status: "Pending", Reason: "Less pipe needed",
		Changes: []events.LineChange{
			{Change: "remove", ActivityID: "245001", ClientRef: "o2o:l1:137128", Code: "PLB002"},
			{Change: "quantity", ActivityID: "245000", ClientRef: "137001", Code: "PLB001", Quantity: "1.25"},
		}}, evs[0].Version)

	// In place (submitVersion 0): recorded on the pending version 2.
	status, resp = h.rest("fixit", "POST", "/workflow/job/FX000001/versionLines", map[string]any{
		"submitVersion": 0, "changes": []any{map[string]any{"change": "quantity", "clientRef": "137001", "quantity": 4}},
	})
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, "2", resp["version"])
	require.Len(t, h.app.Outbox("fixit"), 1, "no event for an in-place change")
	j, _ := h.app.Job("fixit", "FX000001")
	require.Equal(t, "4", j.Activities[0].Quantity)
	require.Len(t, j.Versions[1].Changes, 3)
	require.Equal(t, events.LineChange{Change: "quantity", ActivityID: "245000", ClientRef: "137001", Code: "PLB001", Quantity: "4"}, j.Versions[1].Changes[2])

	// Refusals.
	for _, c := range []struct {
		path   string
		body   any
		status int
		want   string
	}{
		{"/workflow/job/FX000001/versionLines", map[string]any{"submitVersion": "1", "changes": []any{map[string]any{"change": "remove", "activityId": "245000"}}}, 409, "version 2 of job FX000001 is Pending"},
		{"/workflow/job/FX000001/versionLines", map[string]any{"submitVersion": "0", "changes": []any{map[string]any{"change": "remove", "clientRef": "GONE"}}}, 400, `no line with activityId "" or clientRef "GONE" on job FX000001`},
		{"/workflow/job/FX000001/versionLines", map[string]any{"submitVersion": "0", "changes": []any{map[string]any{"change": "add", "code": "PLB002", "quantity": "1"}}}, 400, `changes[0].change "add" must be remove or quantity`},
		{"/workflow/job/FX000001/versionLines", map[string]any{"submitVersion": "2", "changes": []any{map[string]any{"change": "remove", "activityId": "245000"}}}, 400, `submitVersion "2" must be 0 or 1`},
		{"/workflow/job/FX000001/versionLines", map[string]any{"submitVersion": "0"}, 400, "changes is required"},
		{"/workflow/job/FX000001/versionLines", map[string]any{"submitVersion": "0", "changes": []any{map[string]any{"change": "quantity", "activityId": "245000"}}}, 400, "changes[0].quantity is required"},
		{"/workflow/job/FX999999/versionLines", map[string]any{"submitVersion": "0", "changes": []any{map[string]any{"change": "remove", "activityId": "245000"}}}, 404, `job "FX999999" not found`},
		{"/workflow/job/FX000002/versionLines", map[string]any{"submitVersion": "0", "changes": []any{map[string]any{"change": "remove", "activityId": "245003"}}}, 409, "superseded"},
		{"/workflow/job/FX000001/version/2/status", map[string]any{"status": "Pending"}, 400, `status "Pending" must be Approved, Rejected or Cancelled`},
		{"/workflow/job/FX000001/version/2/status", map[string]any{}, 400, "status is required"},
		{"/workflow/job/FX000001/version/x/status", map[string]any{"status": "Approved"}, 400, `version "x" must be a whole number`},
		{"/workflow/job/FX000001/version/1/status", map[string]any{"status": "Approved"}, 409, "version 1 of job FX000001 is superseded"},
		{"/workflow/job/FX000001/version/9/status", map[string]any{"status": "Approved"}, 404, "has no version 9"},
		{"/workflow/job/FX000002/version/1/status", map[string]any{"status": "Approved"}, 409, "superseded"},
	} {
		status, resp := h.rest("fixit", "POST", c.path, c.body)
		require.Equal(t, c.status, status, "%s %v: %v", c.path, c.body, resp)
		require.Equal(t, "error", resp["result"])
		require.Contains(t, resp["result_msg"], c.want, c.path)
	}
	require.Len(t, h.app.Outbox("fixit"), 1)

	// Approve through the API: echoed with the API user as actor.
	status, resp = h.rest("fixit", "POST", "/workflow/job/FX000001/version/2/status", map[string]any{"status": "Approved", "reason": "As agreed"})
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, map[string]any{"result": "success", "result_msg": ""}, resp)
	evs = decodeOutbox(t, h, "fixit")
	require.Len(t, evs, 2)
	require.Equal(t, events.VersionStatusChanged, evs[1].Type)
	require.Equal(t, "o2o-api", evs[1].Actor)
	require.Equal(t, &events.Version{Number: 2, Status: "Approved", Reason: "As agreed"}, evs[1].Version)
	_, st, _, _ := readVersions(t, h, "fixit", "FX000001")
	require.Equal(t, "Approved", st)
	status, resp = h.rest("fixit", "POST", "/workflow/job/FX000001/version/2/status", map[string]any{"status": "Cancelled"})
	require.Equal(t, http.StatusConflict, status)
	require.Equal(t, "version 2 of job FX000001 is Approved, not New or Pending", resp["result_msg"])

	// A superseded version's ref takes job events like any job.
	status, resp = h.rest("fixit", "POST", "/workflow/job/addEventByClientRef", map[string]any{
		"jobRef": "FX000002", "clientId": "41", "sigEventCode": "PNOTE", "note": "old version", "date": "27-11-2026 10:00:00",
	})
	require.Equal(t, http.StatusOK, status, resp)

	// Faults can target the new operations by name.
	var fault map[string]any
	h.simOK("POST", "fixit", "/faults", map[string]any{"op": "versionStatus", "status": 503, "times": 1}, &fault)
	status, _ = h.rest("fixit", "POST", "/workflow/job/FX000001/version/2/status", map[string]any{"status": "Approved"})
	require.Equal(t, http.StatusServiceUnavailable, status)
}

// addActivityByClientRef with submitVersion 1 raises a version of each job
// touched, holding its added lines, and echoes VERSION_CREATED per job with
// the API user as actor. All or nothing: a job with an undecided version
// refuses the call (409) before anything is added.
func TestRESTAddActivityByClientRefRaisesVersions(t *testing.T) {
	h := startDev(t)
	versionedFixitJob(t, h)
	second := validCreateJob()
	second["clientRef"] = "AC000002"
	status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", second) // FX000002, line 245001
	require.Equal(t, http.StatusOK, status, resp)

	other := validActivityByClientRef()
	other["jobClientRef"] = "AC000002"
	other["clientRef"] = "o2o:l1:137130"
	other["totalQuantity"] = 2
	body := addActivityBody(validActivityByClientRef(), other)
	body["submitVersion"] = "1"
	status, resp = h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", body)
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, "Activity(ies) Posted", resp["result_msg"])

	evs := decodeOutbox(t, h, "fixit")
	require.Len(t, evs, 2, "one version per job")
	require.Equal(t, "FX000001", evs[0].JobRef)
	require.Equal(t, "AC000001", evs[0].JobClientRef)
	require.Equal(t, "o2o-api", evs[0].Actor)
	require.Equal(t, &events.Version{Number: 2, PreviousJobRef: "FX000003", Status: "Pending",
		Changes: []events.LineChange{{Change: "add", ActivityID: "245002", ClientRef: "o2o:l1:137128", Code: "PLB002", Quantity: "1.5"}}}, evs[0].Version)
	require.Equal(t, "FX000002", evs[1].JobRef)
	require.Equal(t, &events.Version{Number: 2, PreviousJobRef: "FX000004", Status: "Pending",
		Changes: []events.LineChange{{Change: "add", ActivityID: "245004", ClientRef: "o2o:l1:137130", Code: "PLB002", Quantity: "2"}}}, evs[1].Version)
	v, st, list, job := readVersions(t, h, "fixit", "FX000001")
	require.Equal(t, "2", v)
	require.Equal(t, "Pending", st)
	require.Equal(t, []any{versionEntry("1", "FX000003", "Approved"), versionEntry("2", "FX000001", "Pending")}, list)
	require.Len(t, job["activities"], 2)
	_, _, _, old := readVersions(t, h, "fixit", "FX000003")
	require.Len(t, old["activities"], 1, "the superseded version keeps the lines it had")

	// A later in-place add (submitVersion 0) joins the pending version.
	third := validActivityByClientRef()
	third["clientRef"] = "o2o:l1:137131"
	status, resp = h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", addActivityBody(third))
	require.Equal(t, http.StatusOK, status, resp)
	j, _ := h.app.Job("fixit", "FX000001")
	require.Len(t, j.Versions[1].Changes, 2)
	require.Equal(t, "o2o:l1:137131", j.Versions[1].Changes[1].ClientRef)
	require.Len(t, h.app.Outbox("fixit"), 2)

	// Version 2 is Pending: another submitted add is refused, for both jobs.
	status, resp = h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", body)
	require.Equal(t, http.StatusConflict, status, resp)
	require.Contains(t, resp["result_msg"], "version 2 of job FX000001 is Pending")
	// A quantity a version cannot carry is refused.
	h.simOK("POST", "fixit", "/jobs/FX000001/versions/2/approve", nil, nil)
	h.simOK("POST", "fixit", "/jobs/FX000002/versions/2/approve", nil, nil)
	exp := validActivityByClientRef()
	exp["totalQuantity"] = "1e1"
	body = addActivityBody(exp)
	body["submitVersion"] = "1"
	status, resp = h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", body)
	require.Equal(t, http.StatusBadRequest, status, resp)
	require.Contains(t, resp["result_msg"], `activities[0].totalQuantity "1e1" must be a positive decimal`)
	j, _ = h.app.Job("fixit", "FX000001")
	require.Len(t, j.Activities, 3, "nothing added by the refused calls")
	require.Equal(t, 2, j.Version)
}

// A version put together in two calls and submitted by the last (issue
// 17): versionLines with submitVersion "0" over a decided version raises
// it New (not submitted, not open to a decision by the API's rules of
// submission); addActivityByClientRef with "1" adds its lines into that New
// version and submits it (Pending, VERSION_STATUS_CHANGED). And the other
// way round: a New version takes versionLines "1" and is submitted.
// Submitting again while Pending is refused.
func TestRESTVersionPutTogetherThenSubmitted(t *testing.T) {
	h := startDev(t)
	versionedFixitJob(t, h)
	status, resp := h.rest("fixit", "POST", "/workflow/job/FX000001/versionLines", map[string]any{
		"submitVersion": "0", "changes": []any{map[string]any{"change": "quantity", "clientRef": "137001", "quantity": "3"}},
	})
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, "2", resp["version"])
	v, st, list, _ := readVersions(t, h, "fixit", "FX000001")
	require.Equal(t, "2", v)
	require.Equal(t, "New", st, "raised, not submitted")
	require.Equal(t, []any{versionEntry("1", "FX000002", "Approved"), versionEntry("2", "FX000001", "New")}, list)
	evs := decodeOutbox(t, h, "fixit")
	require.Len(t, evs, 1)
	require.Equal(t, events.VersionCreated, evs[0].Type)
	require.Equal(t, "New", evs[0].Version.Status)

	body := addActivityBody(validActivityByClientRef())
	body["submitVersion"] = "1"
	status, resp = h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", body)
	require.Equal(t, http.StatusOK, status, resp)
	v, st, list, job := readVersions(t, h, "fixit", "FX000001")
	require.Equal(t, "2", v, "the lines joined version 2: no version 3")
	require.Equal(t, "Pending", st)
	require.Equal(t, []any{versionEntry("1", "FX000002", "Approved"), versionEntry("2", "FX000001", "Pending")}, list)
	require.Len(t, job["activities"], 2)
	j, _ := h.app.Job("fixit", "FX000001")
	require.Equal(t, []events.LineChange{
		{Change: "quantity", ActivityID: "245000", ClientRef: "137001", Code: "PLB001", Quantity: "3"},
		{Change: "add", ActivityID: j.Activities[1].ID, ClientRef: "o2o:l1:137128", Code: "PLB002", Quantity: "1.5"},
	}, j.Versions[1].Changes, "the version holds both calls' changes")
	evs = decodeOutbox(t, h, "fixit")
	require.Len(t, evs, 2)
	require.Equal(t, events.VersionStatusChanged, evs[1].Type, "submitted")
	require.Equal(t, "o2o-api", evs[1].Actor)
	require.Equal(t, &events.Version{Number: 2, Status: "Pending"}, evs[1].Version)

	// Pending: a second submission is refused, by either call.
	status, resp = h.rest("fixit", "POST", "/workflow/activity/addActivityByClientRef", body)
	require.Equal(t, http.StatusConflict, status, resp)
	require.Contains(t, resp["result_msg"], "version 2 of job FX000001 is Pending")
	status, resp = h.rest("fixit", "POST", "/workflow/job/FX000001/versionLines", map[string]any{
		"submitVersion": "1", "changes": []any{map[string]any{"change": "quantity", "clientRef": "137001", "quantity": "4"}},
	})
	require.Equal(t, http.StatusConflict, status, resp)

	// Decided, then the other order: a New version (an add with "0" goes
	// in place), versionLines "1" completes and submits it.
	h.simOK("POST", "fixit", "/jobs/FX000001/versions/2/approve", nil, nil)
	status, resp = h.rest("fixit", "POST", "/workflow/job/FX000001/versionLines", map[string]any{
		"submitVersion": "0", "changes": []any{map[string]any{"change": "remove", "clientRef": "o2o:l1:137128"}},
	})
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, "3", resp["version"])
	status, resp = h.rest("fixit", "POST", "/workflow/job/FX000001/versionLines", map[string]any{
		"submitVersion": "1", "changes": []any{map[string]any{"change": "quantity", "clientRef": "137001", "quantity": "5"}},
	})
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, "3", resp["version"], "joined version 3")
	v, st, _, job = readVersions(t, h, "fixit", "FX000001")
	require.Equal(t, "3", v)
	require.Equal(t, "Pending", st)
	require.Len(t, job["activities"], 1)
	typ, data := lastEventData(t, h, "fixit")
	require.Equal(t, string(events.VersionStatusChanged), typ)
	require.Equal(t, "Pending", data["status"])
}
