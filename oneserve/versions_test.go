package oneserve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/oneserve"
)

func TestJobVersions(t *testing.T) {
	_, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"AC000001","reportedDate":"27/11/2026 09:30",
		"version":"3","versionStatus":"Pending",
		"versions":[{"number":1,"jobRef":"AC000007","status":"Approved"},{"number":"2","jobRef":"AC000009","status":"Rejected"},{"number":3,"jobRef":"AC000001","status":"Pending"}]}`))
	j, err := c.Job(context.Background(), "AC000001")
	require.NoError(t, err)
	require.Equal(t, 3, j.Version)
	require.Equal(t, "Pending", j.VersionStatus)
	require.Equal(t, []oneserve.JobVersion{
		{Number: 1, JobRef: "AC000007", Status: "Approved"},
		{Number: 2, JobRef: "AC000009", Status: "Rejected"},
		{Number: 3, JobRef: "AC000001", Status: "Pending"},
	}, j.Versions)

	// Absent (versioning off, an older system): zero values.
	_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"AC2"}`))
	j, err = c.Job(context.Background(), "AC2")
	require.NoError(t, err)
	require.Zero(t, j.Version)
	require.Empty(t, j.VersionStatus)
	require.Nil(t, j.Versions)
	_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"AC2","version":null,"versionStatus":null,"versions":null}`))
	j, err = c.Job(context.Background(), "AC2")
	require.NoError(t, err)
	require.Zero(t, j.Version)
	require.Nil(t, j.Versions)

	for body, want := range map[string]string{
		`"version":"two"`: "version: ",
		`"version":0`:     "version: ",
		`"version":"1.5"`: "version: ",
		`"versions":[{"jobRef":"X","status":"New"}]`:   "versions[0].number: is required",
		`"versions":[{"number":-1,"jobRef":"X"}]`:      "versions[0].number: ",
		`"versions":[{"number":1},{"number":"x"}]`:     "versions[1].number: ",
		`"versions":{"number":1}`:                      "answer is not the expected JSON",
		`"versions":[{"number":{"n":1},"jobRef":"X"}]`: "answer is not the expected JSON",
	} {
		_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"AC3",`+body+`}`))
		_, err = c.Job(context.Background(), "AC3")
		oe := oneserveError(t, err)
		require.Equal(t, oneserve.KindPermanent, oe.Kind, body)
		require.Contains(t, oe.Message, want, body)
	}
}

// versionLinesBody decodes the versionLines body, requiring every value to
// be a JSON string.
func versionLinesBody(t *testing.T, b []byte) (top map[string]string, changes []map[string]string) {
	t.Helper()
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &raw), "body %s", b)
	var items []json.RawMessage
	require.NoError(t, json.Unmarshal(raw["changes"], &items), "changes must be an array")
	for _, ch := range items {
		changes = append(changes, stringFields(t, ch))
	}
	delete(raw, "changes")
	rest, err := json.Marshal(raw)
	require.NoError(t, err)
	return stringFields(t, rest), changes
}

func TestChangeVersionLines(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, b []byte) {
		// Strict: the top level must be submitVersion and changes only.
		var raw map[string]json.RawMessage
		if json.Unmarshal(b, &raw) != nil || len(raw) != 2 || raw["changes"] == nil || raw["submitVersion"] == nil {
			jsonReply(400, `{"result":"error","result_msg":"bad body"}`)(w, r, b)
			return
		}
		jsonReply(200, `{"result":"success","result_msg":"","version":"2"}`)(w, r, b)
	})
	v, err := c.ChangeVersionLines(context.Background(), "AC/000001", true, []oneserve.VersionLineChange{
		{Change: oneserve.LineRemove, ClientRef: "o2o:l1:137128", Quantity: "ignored"},
		{Change: oneserve.LineQuantity, ActivityID: "137129", Quantity: "2.50"},
		{Change: oneserve.LineQuantity, ClientRef: "L3", ActivityID: "137130", Quantity: "1"},
	})
	require.NoError(t, err)
	require.Equal(t, 2, v)
	r := f.only(t)
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/tenant/rest/workflow/job/AC%2F000001/versionLines", r.EscapedPath)
	requireCommonHeaders(t, r)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.Empty(t, r.RawQuery)
	top, changes := versionLinesBody(t, r.Body)
	require.Equal(t, map[string]string{"submitVersion": "1"}, top)
	require.Equal(t, []map[string]string{
		{"change": "remove", "clientRef": "o2o:l1:137128"},
		{"change": "quantity", "activityId": "137129", "quantity": "2.50"},
		{"change": "quantity", "clientRef": "L3", "activityId": "137130", "quantity": "1"},
	}, changes, "strings only; a remove carries no quantity; empty references are omitted")

	// submitVersion 0: the current version; the answer's version as a number.
	f, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","version":5}`))
	v, err = c.ChangeVersionLines(context.Background(), "AC1", false, []oneserve.VersionLineChange{{Change: "quantity", ClientRef: "L1", Quantity: "3"}})
	require.NoError(t, err)
	require.Equal(t, 5, v)
	top, _ = versionLinesBody(t, f.only(t).Body)
	require.Equal(t, "0", top["submitVersion"])
}

func TestChangeVersionLinesRefusedBeforeSending(t *testing.T) {
	cases := map[string]struct {
		jobRef  string
		changes []oneserve.VersionLineChange
		want    string
	}{
		"no jobRef":      {"", []oneserve.VersionLineChange{{Change: "remove", ClientRef: "L"}}, "jobRef is required"},
		"no changes":     {"AC1", nil, "at least one change is required"},
		"add":            {"AC1", []oneserve.VersionLineChange{{Change: "add", ClientRef: "L", Quantity: "1"}}, `changes[0]: Change "add" must be "remove" or "quantity"`},
		"empty change":   {"AC1", []oneserve.VersionLineChange{{ClientRef: "L"}}, `changes[0]: Change "" must be "remove" or "quantity"`},
		"no line":        {"AC1", []oneserve.VersionLineChange{{Change: "remove", ClientRef: "L"}, {Change: "remove"}}, "changes[1]: ClientRef or ActivityID is required"},
		"no quantity":    {"AC1", []oneserve.VersionLineChange{{Change: "quantity", ActivityID: "1"}}, "changes[0]: Quantity is required"},
		"Remove (case)":  {"AC1", []oneserve.VersionLineChange{{Change: "Remove", ActivityID: "1"}}, `changes[0]: Change "Remove" must be "remove" or "quantity"`},
		"no line at all": {"AC1", []oneserve.VersionLineChange{{Change: "quantity", Quantity: "2"}}, "changes[0]: ClientRef or ActivityID is required"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, c := newFake(t, jsonReply(200, success))
			_, err := c.ChangeVersionLines(context.Background(), tc.jobRef, true, tc.changes)
			oe := oneserveError(t, err)
			require.Equal(t, oneserve.KindPermanent, oe.Kind)
			require.Equal(t, "versionLines", oe.Op)
			require.Equal(t, 0, oe.StatusCode)
			require.Equal(t, tc.want, oe.Message)
			require.Empty(t, f.requests(), "an invalid request is not sent")
		})
	}
}

func TestChangeVersionLinesAnswers(t *testing.T) {
	changes := []oneserve.VersionLineChange{{Change: "remove", ClientRef: "L1"}}
	call := func(status int, body string) (int, error) {
		_, c := newFake(t, jsonReply(status, body))
		return c.ChangeVersionLines(context.Background(), "AC1", true, changes)
	}

	// Errors in the envelope on HTTP 200, and answers without a version.
	for body, want := range map[string]string{
		`{"result":"error","result_msg":"REST0004 Job not found"}`: "REST0004 Job not found",
		`{"result":"success","result_msg":""}`:                     "answer has no version",
		`{"result":"success","result_msg":"","version":""}`:        "answer has no version",
		`{"result":"success","result_msg":"","version":"v2"}`:      "is not a version number",
		`{"version":2}`: "answer has no result envelope",
		`not json`:      "answer is not the expected JSON",
	} {
		_, err := call(200, body)
		oe := oneserveError(t, err)
		require.Equal(t, oneserve.KindPermanent, oe.Kind, body)
		require.Equal(t, 200, oe.StatusCode, body)
		require.Contains(t, oe.Message, want, body)
	}

	_, err := call(400, `{"result":"error","result_msg":"changes[0]: no line with clientRef \"L1\" on job AC1"}`)
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, 400, oe.StatusCode)
	require.Contains(t, oe.Message, `"L1"`)

	_, err = call(409, `{"result":"error","result_msg":"version 2 of job AC1 is Pending"}`)
	oe = oneserveError(t, err)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, 409, oe.StatusCode)

	_, err = call(404, `{"result":"error","result_msg":"job \"AC1\" not found"}`)
	require.True(t, oneserve.IsNotFound(err))
	_, err = call(401, `{"result":"error","result_msg":"REST0001"}`)
	require.Equal(t, oneserve.KindUnauthorized, oneserveError(t, err).Kind)
	_, err = call(503, "")
	require.True(t, oneserve.IsTemporary(err))
}

func TestSetVersionStatus(t *testing.T) {
	for _, st := range []string{oneserve.VersionApproved, oneserve.VersionRejected, oneserve.VersionCancelled} {
		f, c := newFake(t, jsonReply(200, success))
		require.NoError(t, c.SetVersionStatus(context.Background(), "FX/42", 2, st, "Agreed on site"))
		r := f.only(t)
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/tenant/rest/workflow/job/FX%2F42/version/2/status", r.EscapedPath)
		requireCommonHeaders(t, r)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.Equal(t, map[string]string{"status": st, "reason": "Agreed on site"}, stringFields(t, r.Body))
	}
	f, c := newFake(t, jsonReply(200, success))
	require.NoError(t, c.SetVersionStatus(context.Background(), "FX42", 12, "Approved", ""))
	require.Equal(t, map[string]string{"status": "Approved"}, stringFields(t, f.only(t).Body), "an empty reason is omitted")
	require.Equal(t, "/tenant/rest/workflow/job/FX42/version/12/status", f.only(t).Path)

	// Refused without sending.
	for name, tc := range map[string]struct {
		jobRef, status string
		version        int
		want           string
	}{
		"no jobRef":  {"", "Approved", 2, "jobRef is required"},
		"version 0":  {"FX42", "Approved", 0, "version 0 is not a version number"},
		"negative":   {"FX42", "Approved", -2, "version -2 is not a version number"},
		"pending":    {"FX42", "Pending", 2, `status "Pending" must be Approved, Rejected or Cancelled`},
		"lower case": {"FX42", "approved", 2, `status "approved" must be Approved, Rejected or Cancelled`},
	} {
		f, c := newFake(t, jsonReply(200, success))
		err := c.SetVersionStatus(context.Background(), tc.jobRef, tc.version, tc.status, "")
		oe := oneserveError(t, err)
		require.Equal(t, oneserve.KindPermanent, oe.Kind, name)
		require.Equal(t, "versionStatus", oe.Op, name)
		require.Equal(t, tc.want, oe.Message, name)
		require.Empty(t, f.requests(), name)
	}

	// Answers.
	call := func(status int, body string) error {
		_, c := newFake(t, jsonReply(status, body))
		return c.SetVersionStatus(context.Background(), "FX42", 2, "Rejected", "Too dear")
	}
	oe := oneserveError(t, call(200, `{"result":"error","result_msg":"version 2 is Approved"}`))
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, "version 2 is Approved", oe.Message)
	oe = oneserveError(t, call(409, `{"result":"error","result_msg":"version 2 of job FX42 is Approved, not New or Pending"}`))
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, 409, oe.StatusCode)
	require.True(t, oneserve.IsNotFound(call(404, `{"result":"error","result_msg":"job not found"}`)))
	require.True(t, oneserve.IsTemporary(call(502, "")))
	require.Equal(t, oneserve.KindPermanent, oneserveError(t, call(200, `{}`)).Kind, "no envelope")
}

func TestConfiguredVersionPaths(t *testing.T) {
	f, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"","version":"2"}`), func(o *oneserve.Options) {
		o.Paths = oneserve.Paths{VersionLines: "/api/jobs/{jobRef}/lines", VersionStatus: "/api/jobs/{jobRef}/versions/{version}"}
	})
	_, err := c.ChangeVersionLines(context.Background(), "J1", true, []oneserve.VersionLineChange{{Change: "remove", ActivityID: "1"}})
	require.NoError(t, err)
	require.NoError(t, c.SetVersionStatus(context.Background(), "J1", 2, "Cancelled", "x"))
	reqs := f.requests()
	require.Equal(t, "/tenant/api/jobs/J1/lines", reqs[0].Path)
	require.Equal(t, "/tenant/api/jobs/J1/versions/2", reqs[1].Path)

	for _, p := range []oneserve.Paths{
		{VersionLines: "/rest/versionLines"},
		{VersionLines: "rest/{jobRef}/versionLines"},
		{VersionStatus: "/rest/{jobRef}/status"},
		{VersionStatus: "/rest/version/{version}/status"},
	} {
		_, err := oneserve.New(oneserve.Options{BaseURL: "https://h/t", Paths: p})
		require.Error(t, err, "%+v", p)
	}
	require.Equal(t, "/rest/workflow/job/{jobRef}/versionLines", oneserve.DefaultPaths.VersionLines)
	require.Equal(t, "/rest/workflow/job/{jobRef}/version/{version}/status", oneserve.DefaultPaths.VersionStatus)
}

// TestVersionsAgainstSimulator is a contract test: the client's version
// calls and the simulator's assumed endpoints understand each other.
func TestVersionsAgainstSimulator(t *testing.T) {
	c := fixitAgainstSimulator(t)
	ctx := context.Background()
	jobRef, err := c.CreateJob(ctx, oneserve.CreateJobRequest{
		ClientRef: "AC000001", SiteRef: "SITE-001", ReportedDate: time.Date(2026, 7, 1, 9, 30, 0, 0, london(t)),
		ClientID: "41", WorkLogTypeID: "3", WorkTypeID: "12", WorkflowID: "4", ServiceID: "9", PriorityID: "11",
		Activities: []oneserve.JobActivity{{Code: "PLB001", Quantity: "2", ClientRef: "137001"}},
	})
	require.NoError(t, err)
	j, err := c.Job(ctx, jobRef)
	require.NoError(t, err)
	require.Equal(t, 1, j.Version)
	require.Equal(t, "Approved", j.VersionStatus)
	require.Equal(t, []oneserve.JobVersion{{Number: 1, JobRef: jobRef, Status: "Approved"}}, j.Versions)

	// A variation as O2O raises it: the added line in a new version, the
	// changed quantity in that same version.
	require.NoError(t, c.AddActivitiesByClientRef(ctx, true, []oneserve.ActivityByClientRef{
		{JobClientRef: "AC000001", ClientID: "41", Code: "PLB002", ClientRef: "245900", TotalQuantity: "1"},
	}))
	v, err := c.ChangeVersionLines(ctx, jobRef, false, []oneserve.VersionLineChange{{Change: oneserve.LineQuantity, ClientRef: "137001", Quantity: "3"}})
	require.NoError(t, err)
	require.Equal(t, 2, v)
	j, err = c.Job(ctx, jobRef)
	require.NoError(t, err)
	require.Equal(t, 2, j.Version)
	require.Equal(t, "Pending", j.VersionStatus)
	require.Equal(t, []oneserve.JobVersion{{Number: 1, JobRef: "FX000002", Status: "Approved"}, {Number: 2, JobRef: jobRef, Status: "Pending"}}, j.Versions)
	require.Equal(t, "3", j.Activities[0].Quantity)
	require.Equal(t, "245900", j.Activities[1].ClientRef)
	old, err := c.Job(ctx, "FX000002")
	require.NoError(t, err)
	require.Equal(t, 1, old.Version)
	require.Equal(t, "2", old.Activities[0].Quantity)

	// Refusals are typed: a second submitted version while one is pending
	// (409), an unknown line (400), a superseded version (409).
	_, err = c.ChangeVersionLines(ctx, jobRef, true, []oneserve.VersionLineChange{{Change: oneserve.LineRemove, ActivityID: "245000"}})
	oe := oneserveError(t, err)
	require.Equal(t, 409, oe.StatusCode)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	_, err = c.ChangeVersionLines(ctx, jobRef, false, []oneserve.VersionLineChange{{Change: oneserve.LineRemove, ClientRef: "NOPE"}})
	oe = oneserveError(t, err)
	require.Equal(t, 400, oe.StatusCode)
	require.Contains(t, oe.Message, `"NOPE"`)
	oe = oneserveError(t, c.SetVersionStatus(ctx, jobRef, 1, oneserve.VersionApproved, ""))
	require.Equal(t, 409, oe.StatusCode)
	require.True(t, oneserve.IsNotFound(c.SetVersionStatus(ctx, jobRef, 7, oneserve.VersionApproved, "")))

	require.NoError(t, c.SetVersionStatus(ctx, jobRef, 2, oneserve.VersionApproved, "As agreed"))
	j, err = c.Job(ctx, jobRef)
	require.NoError(t, err)
	require.Equal(t, "Approved", j.VersionStatus)
	require.Equal(t, "Approved", j.Versions[1].Status)

	// Remove in a new version, then cancel it.
	v, err = c.ChangeVersionLines(ctx, jobRef, true, []oneserve.VersionLineChange{{Change: oneserve.LineRemove, ClientRef: "245900"}})
	require.NoError(t, err)
	require.Equal(t, 3, v)
	require.NoError(t, c.SetVersionStatus(ctx, jobRef, 3, oneserve.VersionCancelled, ""))
	oe = oneserveError(t, c.SetVersionStatus(ctx, jobRef, 3, oneserve.VersionRejected, ""))
	require.Equal(t, 409, oe.StatusCode)
}
