package simulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/simulator"
)

// post sends a console form and returns where it redirects to, which must
// be the console page (POST, redirect, GET).
func (h *harness) post(path string, form url.Values) *url.URL {
	h.t.Helper()
	return h.postBody(path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

func (h *harness) postBody(path, contentType string, body io.Reader) *url.URL {
	h.t.Helper()
	req, err := http.NewRequest("POST", h.srv.URL+path, body)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", contentType)
	client := *h.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	require.NoError(h.t, err)
	resp.Body.Close()
	require.Equal(h.t, http.StatusSeeOther, resp.StatusCode, "POST %s", path)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(h.t, err)
	require.Equal(h.t, "/", loc.Path)
	return loc
}

// postOK posts a console form that must succeed and returns its message.
func (h *harness) postOK(path string, form url.Values) string {
	h.t.Helper()
	loc := h.post(path, form)
	require.Empty(h.t, loc.Query().Get("error"), "POST %s", path)
	require.NotEmpty(h.t, loc.Query().Get("ok"))
	return loc.Query().Get("ok")
}

// postError posts a console form that must be refused and returns why.
func (h *harness) postError(path string, form url.Values) string {
	h.t.Helper()
	loc := h.post(path, form)
	require.Empty(h.t, loc.Query().Get("ok"), "POST %s", path)
	require.NotEmpty(h.t, loc.Query().Get("error"))
	return loc.Query().Get("error")
}

// page is the console page at a redirect's location.
func (h *harness) page(loc string) string {
	h.t.Helper()
	status, header, body := h.do("GET", loc, nil, nil)
	require.Equal(h.t, http.StatusOK, status)
	require.Equal(h.t, "text/html; charset=utf-8", header.Get("Content-Type"))
	return string(body)
}

func uploadForm(t *testing.T, fileName, contentType, content string, fields map[string]string) (string, io.Reader) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	part, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Disposition": {fmt.Sprintf(`form-data; name="file"; filename=%q`, fileName)},
		"Content-Type":        {contentType},
	})
	require.NoError(t, err)
	_, err = part.Write([]byte(content))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), &buf
}

// The console makes each change through the same action as the /sim JSON
// API: the same sequence of user actions, once by each, emits the same
// Integration Events, byte for byte.
func TestConsoleEmitsWhatTheSimAPIEmits(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	opts := simulator.Options{Now: func() time.Time { return now }}
	api := newHarness(t, devSeed(t), opts)
	con := newHarness(t, devSeed(t), opts)

	// By the /sim API.
	var job simulator.SimJobResponse
	api.simOK("POST", "acme", "/jobs", map[string]any{
		"clientId": "28", "siteRef": "SITE-001", "contactRef": "CON-001", "priorityId": "1", "description": "Dripping tap",
		"activities": []map[string]string{{"code": "PLB001", "quantity": "2", "description": "Fix tap"}},
	}, &job)
	ref, act := job.JobRef, job.Activities[0].ID
	api.simOK("POST", "acme", "/activities/"+act+"/assign", map[string]string{"teamId": "7"}, nil)
	api.simOK("POST", "acme", "/jobs/"+ref+"/status", map[string]string{"statusId": "2"}, nil)
	var appt struct {
		ID string `json:"appointmentId"`
	}
	api.simOK("POST", "acme", "/jobs/"+ref+"/appointments", map[string]string{"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T11:00:00Z"}, &appt)
	first := appt.ID
	api.simOK("POST", "acme", "/appointments/"+appt.ID+"/reschedule", map[string]string{"start": "2026-12-02T13:00:00Z", "end": "2026-12-02T14:00:00Z", "reason": "tenant away"}, nil)
	api.simOK("POST", "acme", "/appointments/"+appt.ID+"/cancel", map[string]string{"reason": "no access"}, nil)
	api.simOK("POST", "acme", "/jobs/"+ref+"/appointments", map[string]string{"start": "2026-12-03T09:00:00Z", "end": "2026-12-03T10:00:00Z"}, &appt)
	api.simOK("POST", "acme", "/appointments/"+appt.ID+"/complete", map[string]string{}, nil)
	status, _, body := api.do("POST", "/acme/sim/jobs/"+ref+"/documents?category=Photos&fileName=tap.txt",
		http.Header{"Content-Type": {"text/plain"}}, strings.NewReader("a photo of a tap"))
	require.Equal(t, http.StatusCreated, status, "%s", body)
	api.simOK("POST", "acme", "/documents/D1/approve", map[string]string{"reason": "looks right"}, nil)
	api.simOK("POST", "acme", "/documents/D1/reject", map[string]string{"reason": "wrong tap"}, nil)
	api.simOK("POST", "acme", "/jobs/"+ref+"/versions", map[string]any{"reason": "more work",
		"changes": []map[string]string{{"change": "add", "code": "PLB002", "quantity": "2"}}}, nil)
	api.simOK("POST", "acme", "/jobs/"+ref+"/versions/2/approve", map[string]string{"reason": "fine"}, nil)
	api.simOK("POST", "acme", "/jobs/"+ref+"/versions", map[string]any{"submit": false,
		"changes": []map[string]string{{"change": "quantity", "activityId": act, "quantity": "3"}}}, nil)
	api.simOK("POST", "acme", "/jobs/"+ref+"/versions/3/reject", map[string]string{"reason": "too much"}, nil)

	// The same by the console's forms.
	msg := con.postOK("/acme/console/jobs", url.Values{"clientId": {"28"}, "siteRef": {"SITE-001"}, "contactRef": {"CON-001"},
		"priorityId": {"1"}, "description": {"Dripping tap"}, "code": {"PLB001"}, "quantity": {"2"}, "activityDescription": {"Fix tap"}})
	require.Equal(t, "Raised job "+ref+" with activity "+act+" (PLB001) (no event: raising a job is not one)", msg)
	msg = con.postOK("/acme/console/activities/assign", url.Values{"activityId": {act}, "teamId": {"7"}})
	require.Contains(t, msg, "Assigned activity "+act+" of job "+ref+" to Fixit Plumbing (subcontract): ACTIVITY_ASSIGNED ")
	con.postOK("/acme/console/jobs/"+ref+"/status", url.Values{"statusId": {"2"}})
	// A datetime-local value is UK time (GMT in December).
	msg = con.postOK("/acme/console/jobs/"+ref+"/appointments", url.Values{"start": {"2026-12-01T09:00"}, "end": {"2026-12-01T11:00"}})
	require.Contains(t, msg, "Booked appointment "+first+" on job "+ref+" for 01/12/2026 09:00–11:00: APPOINTMENT_CREATED ")
	con.postOK("/acme/console/appointments/"+first+"/reschedule", url.Values{"start": {"2026-12-02T13:00"}, "end": {"2026-12-02T14:00"}, "reason": {"tenant away"}})
	con.postOK("/acme/console/appointments/"+first+"/cancel", url.Values{"reason": {"no access"}})
	con.postOK("/acme/console/jobs/"+ref+"/appointments", url.Values{"start": {"2026-12-03T09:00"}, "end": {"2026-12-03T10:00"}})
	con.postOK("/acme/console/appointments/"+appt.ID+"/complete", nil)
	ct, upload := uploadForm(t, "tap.txt", "text/plain", "a photo of a tap", map[string]string{"category": "Photos"})
	loc := con.postBody("/acme/console/jobs/"+ref+"/documents", ct, upload)
	require.Contains(t, loc.Query().Get("ok"), "Uploaded tap.txt (16 bytes) to job "+ref+" as document D1 in Photos: DOCUMENT_UPLOADED")
	con.postOK("/acme/console/documents/D1/approve", url.Values{"reason": {"looks right"}})
	con.postOK("/acme/console/documents/D1/reject", url.Values{"reason": {"wrong tap"}})
	con.postOK("/acme/console/jobs/"+ref+"/versions", url.Values{"change": {"add"}, "code": {"PLB002"}, "quantity": {"2"},
		"activityId": {act}, "reason": {"more work"}, "submit": {"1"}})
	con.postOK("/acme/console/jobs/"+ref+"/versions/2", url.Values{"decision": {"approve"}, "reason": {"fine"}})
	con.postOK("/acme/console/jobs/"+ref+"/versions", url.Values{"change": {"quantity"}, "activityId": {act}, "code": {"PLB001"}, "quantity": {"3"}})
	con.postOK("/acme/console/jobs/"+ref+"/versions/3", url.Values{"decision": {"reject"}, "reason": {"too much"}})

	want, got := api.app.Outbox("acme"), con.app.Outbox("acme")
	require.Len(t, got, len(want))
	require.Len(t, got, 14)
	for i := range want {
		require.Equal(t, want[i].Type, got[i].Type, "event %d", i)
		require.JSONEq(t, string(want[i].Body), string(got[i].Body), "event %d (%s)", i, want[i].Type)
	}
	apiJob, _ := api.app.Job("acme", ref)
	conJob, _ := con.app.Job("acme", ref)
	require.Equal(t, apiJob.Activities, conJob.Activities)
	require.Equal(t, apiJob.Versions, conJob.Versions)
}

// A refused form redirects to the page with the reason, shown (escaped)
// above everything, and changes nothing.
func TestConsoleShowsWhyAFormWasRefused(t *testing.T) {
	h := startDev(t)
	for _, c := range []struct {
		path string
		form url.Values
		want string
	}{
		{"/acme/console/jobs", url.Values{"clientId": {"28"}, "siteRef": {"SITE-404"}, "priorityId": {"1"}}, `siteRef "SITE-404" does not exist for clientId 28`},
		{"/acme/console/jobs", url.Values{"clientId": {"28"}, "siteRef": {"SITE-001"}}, "priorityId is required"},
		{"/acme/console/activities/assign", url.Values{"activityId": {"137000"}}, "teamId is required"},
		{"/acme/console/activities/assign", url.Values{"activityId": {"999"}, "teamId": {"7"}}, `activity "999" not found`},
		{"/acme/console/jobs/AC000404/status", url.Values{"statusId": {"2"}}, `job "AC000404" not found`},
		{"/acme/console/jobs/AC000404/appointments", url.Values{"start": {"tomorrow"}, "end": {"2026-12-01T10:00"}}, `start "tomorrow" must be a date and time`},
		{"/acme/console/appointments/1/snooze", nil, `no action "snooze"`},
		{"/acme/console/documents/D9/reject", url.Values{}, "reason is required"},
		{"/acme/console/jobs/AC000404/versions/2", url.Values{"decision": {"maybe"}}, `decision "maybe" must be approve, reject or cancel`},
		{"/acme/console/sites", url.Values{"clientId": {"28"}, "siteRef": {"SITE-001"}}, "site SITE-001 already exists for client 28"},
		{"/acme/console/contacts", url.Values{"contactRef": {"CON-001"}, "name": {"X"}}, "contact CON-001 already exists"},
		{"/acme/console/contacts", url.Values{"contactRef": {"CON-009"}}, "name is required"},
	} {
		require.Contains(t, h.postError(c.path, c.form), c.want, "POST %s", c.path)
	}
	require.Empty(t, h.app.Outbox("acme"))

	loc := h.post("/acme/console/jobs", url.Values{"clientId": {"28"}, "siteRef": {`<b>x</b>`}, "priorityId": {"1"}})
	page := h.page(loc.String())
	require.Contains(t, page, `<div class="flash error" id="flash" role="alert"><b>acme</b>: refused: siteRef &#34;&lt;b&gt;x&lt;/b&gt;&#34; does not exist for clientId 28</div>`)

	// An upload without a file.
	ct, body := uploadForm(t, "", "text/plain", "", map[string]string{"category": "Photos"})
	h.simOK("POST", "acme", "/jobs", map[string]any{"clientId": "28", "siteRef": "SITE-001", "priority": "Urgent"}, nil)
	loc = h.postBody("/acme/console/jobs/AC000001/documents", ct, body)
	require.Equal(t, "choose a file to upload", loc.Query().Get("error"))
	require.Equal(t, "#acme-AC000001", "#"+loc.Fragment)
}

// A site and a contact added by the console are shown, and a job can be
// raised at the new site with the new contact.
func TestConsoleAddsSitesAndContacts(t *testing.T) {
	h := startDev(t)
	require.Equal(t, "Added contact CON-009, Cas Example (no event)",
		h.postOK("/fixit/console/contacts", url.Values{"contactRef": {"CON-009"}, "name": {"Cas Example"}}))
	require.Equal(t, "Added site SITE-003 for client 41 (no event)", h.postOK("/fixit/console/sites", url.Values{
		"clientId": {"41"}, "siteRef": {"SITE-003"}, "name": {"3 Station Road"}, "postcode": {"ZZ1 3CC"}, "contactRefs": {"CON-009", "CON-001"}}))
	page := h.page("/")
	require.Contains(t, page, "<td><b>SITE-003</b></td><td>3 Station Road</td>")
	require.Contains(t, page, "CON-009 (Cas Example) CON-001 (Testy McTestface)")
	require.Contains(t, page, `<option value="CON-009">CON-009 · Cas Example</option>`)
	require.Contains(t, h.postOK("/fixit/console/jobs", url.Values{"clientId": {"41"}, "siteRef": {"SITE-003"},
		"contactRef": {"CON-009"}, "priorityId": {"11"}}), "Raised job FX000001")

	// The /sim API adds contacts too.
	var c map[string]string
	h.simOK("POST", "acme", "/contacts", map[string]string{"contactRef": "CON-010", "name": "Dee Example"}, &c)
	require.Equal(t, map[string]string{"contactRef": "CON-010", "name": "Dee Example"}, c)
	require.Equal(t, http.StatusConflict, h.sim("POST", "acme", "/contacts", map[string]string{"contactRef": "CON-010", "name": "Dee"}, nil))
}

// The page's forms carry the ids of what they act on, from the current
// state, and post to the console's actions.
func TestConsolePageOffersFormsWithTheIDsFilledIn(t *testing.T) {
	h := startDev(t)
	ref, act := h.newAcmeJob()
	h.simOK("POST", "acme", "/jobs/"+ref+"/appointments", map[string]string{"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T11:00:00Z"}, nil)
	status, _, body := h.do("POST", "/acme/sim/jobs/"+ref+"/documents?category=Photos&fileName=tap.jpg", nil, strings.NewReader("x"))
	require.Equal(t, http.StatusCreated, status, "%s", body)
	h.simOK("POST", "acme", "/jobs/"+ref+"/versions", map[string]any{"changes": []map[string]string{{"change": "add", "code": "PLB002", "quantity": "1"}}}, nil)

	page := h.page("/")
	for _, want := range []string{
		`<form class="block raise" id="acme-raise" method="post" action="/acme/console/jobs">`,
		`<option value="SITE-003">SITE-003 · 3 Station Road (client 28)</option>`,
		`<div class="job" id="acme-` + ref + `">`,
		`<form class="assign" method="post" action="/acme/console/activities/assign">`,
		`<option value="` + act + `">` + act + ` · PLB001</option>`,
		`<option value="7">Fixit Plumbing (subcontract) (7)</option>`,
		`action="/acme/console/jobs/` + ref + `/status"`,
		`<option value="1" selected>Newly Created</option>`,
		`action="/acme/console/appointments/42901/reschedule"`,
		`<input type="datetime-local" name="start" value="2026-12-01T09:00">`,
		`action="/acme/console/documents/D1/approve"`,
		`action="/acme/console/documents/D1/reject"`,
		`action="/acme/console/jobs/` + ref + `/versions/2"`, // version 2 is Pending: decide it
		`<form class="block addsite" method="post" action="/acme/console/sites">`,
		`action="/fixit/console/contacts"`,
	} {
		require.Contains(t, page, want)
	}
	require.NotContains(t, page, `http-equiv="refresh"`, "a console being filled in must not reload")
	require.Contains(t, h.page("/?refresh=3"), `<meta http-equiv="refresh" content="3">`)
	require.NotContains(t, page, "Web UI", "no links to O2O when the console is not told where it is")
}

// With Console set, a linked job links to its workflow in the Web UI, to
// the linked job in the other system and to its link state, read from the
// operator API with the operator token.
func TestConsoleLinksJobsToTheirWorkflow(t *testing.T) {
	var gotAuth, gotPath string
	operator := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"link": "acme-fixit", "state": "NeedsAttention",
			"lastError": "site SITE-003 <does not exist>", "nextStep": "add the site, then retry"})
	}))
	defer operator.Close()
	h := newHarness(t, devSeed(t), simulator.Options{Console: simulator.Console{
		Links:      []simulator.ConsoleLink{{Name: "acme-fixit", Primary: "acme", PrimaryClientID: "28", TeamID: "7", Secondary: "fixit", SecondaryClientID: "41"}},
		WorkflowID: func(link, ref string) string { return "LinkedJob:" + link + ":" + ref },
		TemporalUI: "http://127.0.0.1:8233/", OperatorAPI: operator.URL, OperatorToken: "op-token",
	}})
	ref, act := h.newAcmeJob()
	require.NotContains(t, h.page("/"), "Web UI", "not linked before the assignment")
	h.postOK("/acme/console/activities/assign", url.Values{"activityId": {act}, "teamId": {"8"}})
	require.NotContains(t, h.page("/"), "Web UI", "not linked by another team")
	h.postOK("/acme/console/activities/assign", url.Values{"activityId": {act}, "teamId": {"7"}})
	page := h.page("/")
	require.Contains(t, page, `<a class="workflow" href="http://127.0.0.1:8233/namespaces/default/workflows/LinkedJob:acme-fixit:`+ref+`" target="_blank" rel="noopener">workflow LinkedJob:acme-fixit:`+ref+` (Web UI)</a>`)
	require.Contains(t, page, `<a class="state" href="/acme/console/jobs/`+ref+`/link?link=acme-fixit">link state</a>`)
	require.Contains(t, page, "no job in fixit yet")
	// The card says the link is stuck, and why, as its link-state page does
	// (issue 17: "no job in fixit yet" in grey hid it).
	require.Contains(t, page, `<span class="linkstate NeedsAttention">NeedsAttention</span> <span class="lasterror">site SITE-003 &lt;does not exist&gt;</span>`)

	// What O2O would do: the linked job in fixit, with the primary ref as its client ref.
	status, _ := h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
	require.Equal(t, http.StatusOK, status)
	page = h.page("/")
	require.Contains(t, page, `linked job <a class="linked" href="#fixit-FX000001">FX000001 in fixit</a>`)
	require.Contains(t, page, `linked job <a class="linked" href="#acme-`+ref+`">`+ref+` in acme</a>`)
	require.Contains(t, page, `href="/fixit/console/jobs/FX000001/link?link=acme-fixit"`)

	status, _, body := h.do("GET", "/fixit/console/jobs/FX000001/link?link=acme-fixit", nil, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Bearer op-token", gotAuth)
	require.Equal(t, "/links/acme-fixit/"+ref, gotPath)
	require.Contains(t, string(body), `state <b id="state">NeedsAttention</b>`)
	require.Contains(t, string(body), "last error: site SITE-003 &lt;does not exist&gt;")
	require.Contains(t, string(body), "next step: add the site, then retry")

	status, _, _ = h.do("GET", "/acme/console/jobs/AC000404/link", nil, nil)
	require.Equal(t, http.StatusNotFound, status)
}

// A card whose link state cannot be read says why, and the page does not
// wait long for an operator API that does not answer.
func TestConsoleCardSaysWhyTheLinkStateIsMissing(t *testing.T) {
	operator := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"no link for this job"}`))
	}))
	defer operator.Close()
	links := []simulator.ConsoleLink{{Name: "acme-fixit", Primary: "acme", TeamID: "7", Secondary: "fixit"}}
	wid := func(link, ref string) string { return "LinkedJob:" + link + ":" + ref }
	h := newHarness(t, devSeed(t), simulator.Options{Console: simulator.Console{Links: links, WorkflowID: wid, OperatorAPI: operator.URL}})
	ref, act := h.newAcmeJob()
	h.postOK("/acme/console/activities/assign", url.Values{"activityId": {act}, "teamId": {"7"}})
	require.Contains(t, h.page("/"), `<span class="muted linkstate">state not read: no link for this job</span>`)

	hung := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hung }))
	defer silent.Close()
	defer close(hung) // first: Close waits for the handler
	h = newHarness(t, devSeed(t), simulator.Options{Console: simulator.Console{Links: links, WorkflowID: wid, OperatorAPI: silent.URL}})
	ref, act = h.newAcmeJob()
	h.postOK("/acme/console/activities/assign", url.Values{"activityId": {act}, "teamId": {"7"}})
	page := h.page("/")
	require.Contains(t, page, "state not read: O2O did not answer in time")
	require.Contains(t, page, `id="acme-`+ref+`"`)
}

// A form posted from another site (a browser says so) is refused.
func TestConsoleRefusesCrossSitePosts(t *testing.T) {
	h := startDev(t)
	status, _, _ := h.do("POST", "/acme/console/contacts", http.Header{
		"Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/x-www-form-urlencoded"},
	}, strings.NewReader("contactRef=CON-666&name=Mallory"))
	require.Equal(t, http.StatusForbidden, status)
	status, _, _ = h.do("POST", "/nowhere/console/contacts", nil, nil)
	require.Equal(t, http.StatusNotFound, status)
}
