package oneserve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/oneserve"
)

const token = "tok-3f9a1c77-SECRET"

// seen is one request as the fake server received it; tests assert on it in
// the test goroutine.
type seen struct {
	Method, Path, EscapedPath, RawQuery string
	Query                               url.Values
	Header                              http.Header
	Body                                []byte
	ContentLength                       int64
}

// fake is a Oneserve system that records every request and answers with reply.
type fake struct {
	mu    sync.Mutex
	reqs  []seen
	reply func(w http.ResponseWriter, r *http.Request, body []byte)
	srv   *httptest.Server
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fake) only(t *testing.T) seen {
	t.Helper()
	r := f.requests()
	require.Len(t, r, 1)
	return r[0]
}

// newFake starts a fake system and a client for it whose BaseURL carries a
// tenant path segment, as real Oneserve URLs do.
func newFake(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, body []byte), opts ...func(*oneserve.Options)) (*fake, *oneserve.Client) {
	t.Helper()
	f := &fake{reply: reply}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{
			Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Query: r.URL.Query(), Header: r.Header.Clone(), Body: b, ContentLength: r.ContentLength,
		})
		f.mu.Unlock()
		f.reply(w, r, b)
	}))
	t.Cleanup(f.srv.Close)
	o := oneserve.Options{BaseURL: f.srv.URL + "/tenant/", Token: token, Timeout: 5 * time.Second}
	for _, fn := range opts {
		fn(&o)
	}
	c, err := oneserve.New(o)
	require.NoError(t, err)
	return f, c
}

func jsonReply(status int, body string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const success = `{"result":"success","result_msg":""}`

// stringFields decodes a JSON object and requires every value to be a JSON
// string, as Oneserve's examples send them.
func stringFields(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &raw), "body %s", body)
	out := map[string]string{}
	for k, v := range raw {
		if k == "activities" {
			continue
		}
		var s string
		require.NoError(t, json.Unmarshal(v, &s), "field %s must be a JSON string, got %s", k, v)
		out[k] = s
	}
	return out
}

func requireCommonHeaders(t *testing.T, r seen) {
	t.Helper()
	require.Equal(t, token, r.Header.Get("OS-REST-AUTH-TOKEN"))
	require.Equal(t, "o2o", r.Header.Get("User-Agent"))
}

func london(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	return loc
}

func oneserveError(t *testing.T, err error) *oneserve.Error {
	t.Helper()
	require.Error(t, err)
	var oe *oneserve.Error
	require.True(t, errors.As(err, &oe), "want *oneserve.Error, got %T: %v", err, err)
	return oe
}

func TestNew(t *testing.T) {
	for _, bad := range []string{"", "ftp://host/x", "/tenant", "host.example/tenant", "https://", "https://h/t?x=1", "https://user:pw@h/t"} {
		_, err := oneserve.New(oneserve.Options{BaseURL: bad, Token: token})
		require.Error(t, err, "BaseURL %q", bad)
		require.NotContains(t, err.Error(), "pw@")
	}
	c, err := oneserve.New(oneserve.Options{BaseURL: "https://app.oneserve.co.uk/tenant/", Token: token})
	require.NoError(t, err)
	require.Equal(t, "https://app.oneserve.co.uk/tenant", c.BaseURL())

	_, err = oneserve.New(oneserve.Options{BaseURL: "https://h/t", Paths: oneserve.Paths{JobRead: "/rest/job/{documentId}"}})
	require.Error(t, err, "a path without its placeholder is refused")
}

func TestCreateJob(t *testing.T) {
	cases := []struct {
		name       string
		reported   time.Time
		contactRef string
		wantDate   string
		wantMode   string
	}{
		{"winter UTC, with contact", time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC), "CON-001", "27/11/2026 09:30", "2"},
		{"summer is BST, no contact", time.Date(2026, 7, 1, 8, 30, 0, 0, time.UTC), "", "01/07/2026 09:30", "0"},
		{"other zone converted", time.Date(2026, 7, 1, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), "", "02/07/2026 05:30", "0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"FX000001"}`))
			ref, err := c.CreateJob(context.Background(), oneserve.CreateJobRequest{
				ClientRef: "AC000001", SiteRef: "SITE-001", ReportedDate: tc.reported, ContactRef: tc.contactRef,
				ClientID: "41", WorkLogTypeID: "3", WorkTypeID: "12", WorkflowID: "4", ServiceID: "9", PriorityID: "11",
				Description: "Dripping tap in kitchen",
				Activities:  []oneserve.JobActivity{{Code: "PLB001", Quantity: "2"}, {Code: "PLB002", Quantity: "0.5"}},
			})
			require.NoError(t, err)
			require.Equal(t, "FX000001", ref)

			r := f.only(t)
			require.Equal(t, http.MethodPost, r.Method)
			require.Equal(t, "/tenant/rest/workflow/job/createJob", r.Path)
			requireCommonHeaders(t, r)
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			require.Equal(t, "application/json", r.Header.Get("Accept"))

			want := map[string]string{
				"clientRef": "AC000001", "siteRef": "SITE-001", "reportedDate": tc.wantDate,
				"contactMode": tc.wantMode, "clientId": "41", "workLogTypeId": "3", "workTypeId": "12",
				"workflowId": "4", "serviceId": "9", "priorityId": "11", "description": "Dripping tap in kitchen",
			}
			if tc.contactRef != "" {
				want["contactRef"] = tc.contactRef
			}
			require.Equal(t, want, stringFields(t, r.Body))

			var body struct {
				Activities []map[string]json.RawMessage `json:"activities"`
			}
			require.NoError(t, json.Unmarshal(r.Body, &body))
			require.Equal(t, []map[string]json.RawMessage{
				{"code": json.RawMessage(`"PLB001"`), "quantity": json.RawMessage(`"2"`)},
				{"code": json.RawMessage(`"PLB002"`), "quantity": json.RawMessage(`"0.5"`)},
			}, body.Activities)
		})
	}
}

func TestCreateJobAnswers(t *testing.T) {
	req := oneserve.CreateJobRequest{ClientRef: "AC1", SiteRef: "S1", ReportedDate: time.Now()}

	_, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":123456}`))
	ref, err := c.CreateJob(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, "123456", ref, "a bare-number jobRef is read as text")

	_, c = newFake(t, jsonReply(200, success))
	_, err = c.CreateJob(context.Background(), req)
	require.Equal(t, oneserve.KindPermanent, oneserveError(t, err).Kind, "success without jobRef is unusable")

	f, c := newFake(t, jsonReply(200, success))
	_, err = c.CreateJob(context.Background(), oneserve.CreateJobRequest{SiteRef: "S1", ReportedDate: time.Now()})
	require.Equal(t, oneserve.KindPermanent, oneserveError(t, err).Kind)
	require.Empty(t, f.requests(), "an invalid request is not sent")
}

func TestAddEventByClientRef(t *testing.T) {
	f, c := newFake(t, jsonReply(200, success))
	err := c.AddEventByClientRef(context.Background(), oneserve.JobEvent{
		JobRef: "J023T4", JobClientRef: "IGNORED", ClientID: "28", EventCode: "N",
		AppointmentID: "42923", NoteID: "81", Note: "Engineer booked",
		Date: time.Date(2020, 7, 13, 12, 48, 0, 0, time.UTC), // 13:48 BST
	})
	require.NoError(t, err)
	r := f.only(t)
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/tenant/rest/workflow/job/addEventByClientRef", r.Path)
	requireCommonHeaders(t, r)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.Equal(t, map[string]string{
		"jobRef": "J023T4", "clientId": "28", "sigEventCode": "N", "appointmentId": "42923",
		"noteId": "81", "note": "Engineer booked", "date": "13-07-2020 13:48:00",
	}, stringFields(t, r.Body))

	f, c = newFake(t, jsonReply(200, success))
	err = c.AddEventByClientRef(context.Background(), oneserve.JobEvent{
		JobClientRef: "AC000001", ClientID: "28", EventCode: "ACC", Note: "Accepted",
		Date: time.Date(2026, 1, 5, 7, 4, 9, 0, london(t)),
	})
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"jobClientRef": "AC000001", "clientId": "28", "sigEventCode": "ACC", "note": "Accepted", "date": "05-01-2026 07:04:09",
	}, stringFields(t, f.only(t).Body), "empty optional fields are omitted")
}

func TestSite(t *testing.T) {
	f, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"","clientId":41,"siteRef":"SITE 1/A",
		"siteId":90017,"name":"1 High St","postcode":"AB1 2CD","address1":"1 High St","latitude":51.5,
		"contacts":[{"contactRef":"CON-001"},{"contactRef":77}],
		"jobs":[{"jobRef":"FX000001","clientRef":"AC000001","status":"Newly Created"},{"jobRef":"FX000002","clientRef":"","status":3}]}`))
	s, err := c.Site(context.Background(), "41", "SITE 1/A")
	require.NoError(t, err)
	require.Equal(t, &oneserve.Site{
		ClientID: "41", SiteRef: "SITE 1/A", SiteID: "90017", Name: "1 High St", Postcode: "AB1 2CD",
		Contacts: []oneserve.SiteContact{{ContactRef: "CON-001"}, {ContactRef: "77"}},
		Jobs: []oneserve.SiteJob{
			{JobRef: "FX000001", ClientRef: "AC000001", Status: "Newly Created"},
			{JobRef: "FX000002", ClientRef: "", Status: "3"},
		},
	}, s)
	r := f.only(t)
	require.Equal(t, http.MethodGet, r.Method)
	require.Equal(t, "/tenant/rest/contact/sites/41/SITE%201%2FA", r.EscapedPath, "path parameters are escaped")
	requireCommonHeaders(t, r)
	require.Equal(t, "application/json", r.Header.Get("Accept"))
}

func TestSiteNotFound(t *testing.T) {
	_, c := newFake(t, jsonReply(404, `{"result":"error","result_msg":"Site SITE-9 not found"}`))
	_, err := c.Site(context.Background(), "41", "SITE-9")
	require.True(t, oneserve.IsNotFound(err))
	require.False(t, oneserve.IsTemporary(err))
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindNotFound, oe.Kind)
	require.Equal(t, 404, oe.StatusCode)
	require.Equal(t, "oneserve site: HTTP 404: Site SITE-9 not found", err.Error())
}

func TestActivitiesBatches(t *testing.T) {
	var ids []string
	for i := range 45 {
		ids = append(ids, fmt.Sprint(1000+i))
	}
	deleted := []string{`true`, `"true"`, `"1"`, `1`, `false`, `"0"`, `0`, `null`}
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		var items []string
		for i, id := range strings.Split(r.URL.Query().Get("ids"), ",") {
			items = append(items, fmt.Sprintf(`{"id":%s,"jobId":"77","supplierId":7,"quantity":2.50,"completedQuantity":"0",`+
				`"description":"Fix tap","ref":"R","libraryActivityId":5,"serviceId":"9","status":1,"isDeleted":%s,"lastModified":"x"}`,
				id, deleted[i%len(deleted)]))
		}
		jsonReply(200, `{"result":"success","result_msg":"","activities":[`+strings.Join(items, ",")+`]}`)(w, r, nil)
	})
	got, err := c.Activities(context.Background(), ids)
	require.NoError(t, err)

	reqs := f.requests()
	require.Len(t, reqs, 3)
	var sent []string
	for i, r := range reqs {
		require.Equal(t, http.MethodGet, r.Method)
		require.Equal(t, "/tenant/rest/activities", r.Path)
		require.NotContains(t, r.RawQuery, "%2C", "ids are joined with plain commas")
		batch := strings.Split(r.Query.Get("ids"), ",")
		require.LessOrEqual(t, len(batch), 20)
		require.Len(t, batch, []int{20, 20, 5}[i])
		sent = append(sent, batch...)
		requireCommonHeaders(t, r)
	}
	require.Equal(t, ids, sent)

	require.Len(t, got, 45)
	for i, a := range got {
		require.Equal(t, ids[i], a.ID)
		require.Equal(t, i%20%len(deleted) < 4, a.IsDeleted, "isDeleted %s", deleted[i%20%len(deleted)])
	}
	require.Equal(t, oneserve.Activity{
		ID: "1000", JobID: "77", SupplierID: "7", Quantity: "2.50", CompletedQuantity: "0", Description: "Fix tap",
		Ref: "R", LibraryActivityID: "5", ServiceID: "9", Status: "1", IsDeleted: true,
	}, got[0])

	none, err := c.Activities(context.Background(), nil)
	require.NoError(t, err)
	require.Empty(t, none)
	require.Len(t, f.requests(), 3, "no ids, no call")
}

func TestEnvelopeErrorOnHTTP200(t *testing.T) {
	_, c := newFake(t, jsonReply(200, `{"result":"error","result_msg":"Job not found"}`))
	err := c.AddEventByClientRef(context.Background(), oneserve.JobEvent{JobRef: "J1", ClientID: "28", EventCode: "N", Note: "n", Date: time.Now()})
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, "Job not found", oe.Message)
	require.Equal(t, 200, oe.StatusCode)
	require.False(t, oneserve.IsTemporary(err))
	require.False(t, oneserve.IsNotFound(err))
	require.Contains(t, err.Error(), "Job not found")

	for _, body := range []string{`<html>login</html>`, `{"jobRef":"X"}`, `{"result":"error","result_msg":""}`} {
		_, c := newFake(t, jsonReply(200, body))
		_, err := c.Job(context.Background(), "J1")
		require.Equal(t, oneserve.KindPermanent, oneserveError(t, err).Kind, "body %s", body)
	}
}

func TestStatusClassification(t *testing.T) {
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		status     int
		retryAfter string
		body       string
		kind       oneserve.Kind
		wantRetry  time.Duration
		wantMsg    string
	}{
		{503, "7", "", oneserve.KindTemporary, 7 * time.Second, "Service Unavailable"},
		{429, httpDate, `{"result":"error","result_msg":"Too many calls"}`, oneserve.KindTemporary, 90 * time.Second, "Too many calls"},
		{408, "", "", oneserve.KindTemporary, 0, "Request Timeout"},
		{500, "", "java.lang.NullPointerException\n\tat com.oneserve", oneserve.KindTemporary, 0, "java.lang.NullPointerException at com.oneserve"},
		{502, "soon", "<html><body>Bad gateway</body></html>", oneserve.KindTemporary, 0, "Bad Gateway"},
		{401, "", `{"result":"error","result_msg":"Invalid token"}`, oneserve.KindUnauthorized, 0, "Invalid token"},
		{403, "", "", oneserve.KindUnauthorized, 0, "Forbidden"},
		{404, "", "", oneserve.KindNotFound, 0, "Not Found"},
		{400, "", `{"result":"error","result_msg":"Site SITE-9 not found"}`, oneserve.KindPermanent, 0, "Site SITE-9 not found"},
		{405, "", "", oneserve.KindPermanent, 0, "Method Not Allowed"},
		{409, "3", "", oneserve.KindPermanent, 0, "Conflict"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			_, c := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			_, err := c.CreateJob(context.Background(), oneserve.CreateJobRequest{ClientRef: "AC1", SiteRef: "SITE-9", ReportedDate: time.Now()})
			oe := oneserveError(t, err)
			require.Equal(t, tc.kind, oe.Kind, oe.Error())
			require.Equal(t, tc.status, oe.StatusCode)
			require.Equal(t, tc.wantMsg, oe.Message)
			require.Equal(t, tc.kind == oneserve.KindTemporary, oneserve.IsTemporary(err))
			require.Equal(t, tc.kind == oneserve.KindNotFound, oneserve.IsNotFound(err))
			require.InDelta(t, tc.wantRetry.Seconds(), oe.RetryAfter.Seconds(), 2)
			require.Equal(t, fmt.Sprintf("oneserve createJob: HTTP %d: %s", tc.status, tc.wantMsg), err.Error())
		})
	}
}

func TestTokenNeverInError(t *testing.T) {
	long := strings.Repeat("x", 1000)
	_, c := newFake(t, jsonReply(401, `{"result":"error","result_msg":"token `+token+` is unknown `+long+`"}`))
	_, err := c.Job(context.Background(), "J1")
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindUnauthorized, oe.Kind)
	require.NotContains(t, err.Error(), token)
	require.Contains(t, oe.Message, "is unknown", "the rest of the message is kept")
	require.LessOrEqual(t, len([]rune(oe.Message)), 300, "message is truncated")

	// A network error names the URL but never the header.
	f, c := newFake(t, jsonReply(200, success))
	f.srv.Close()
	_, err = c.Site(context.Background(), "41", "S1")
	oe = oneserveError(t, err)
	require.Equal(t, oneserve.KindTemporary, oe.Kind)
	require.Zero(t, oe.StatusCode)
	require.NotContains(t, err.Error(), token)
}

func TestRedirectRefused(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = io.WriteString(w, success)
	}))
	t.Cleanup(other.Close)
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, other.URL+"/login", http.StatusFound)
	})
	_, err := c.Site(context.Background(), "41", "S1")
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, http.StatusFound, oe.StatusCode)
	require.Contains(t, oe.Message, "redirect")
	require.Zero(t, elsewhere.Load(), "the redirect is not followed")
}

// hangingServer never answers until the test ends or the client goes away.
func hangingServer(t *testing.T) string {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv.URL
}

func TestPerCallTimeoutIsTemporary(t *testing.T) {
	c, err := oneserve.New(oneserve.Options{BaseURL: hangingServer(t), Token: token, Timeout: 150 * time.Millisecond})
	require.NoError(t, err)
	// A guard so that a missing timeout fails the test instead of hanging it.
	guard, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	start := time.Now()
	_, err = c.Job(guard, "J1")
	require.Less(t, time.Since(start), 3*time.Second)
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindTemporary, oe.Kind)
	require.True(t, oneserve.IsTemporary(err))
	require.Zero(t, oe.StatusCode)
	require.False(t, errors.Is(err, context.Canceled), "our timeout is not the caller's cancellation")
	require.Contains(t, err.Error(), "no answer within 150ms")
	require.Equal(t, 150*time.Millisecond, oe.RetryAfter,
		"the system may still be working on the call: the retry waits as long again before it looks for the result")

	// The same for a download: the wait for headers is bounded.
	_, err = c.DownloadDocument(guard, "D1", 0)
	require.True(t, oneserve.IsTemporary(err), "%v", err)
	require.False(t, errors.Is(err, context.DeadlineExceeded), "the guard did not fire: %v", err)
}

// Unanswered tells a write's caller that the system may have applied it: a
// timeout or a connection lost mid-request, not a refused connection or an
// answer.
func TestUnansweredOnlyWhenTheRequestMayHaveLanded(t *testing.T) {
	c, err := oneserve.New(oneserve.Options{BaseURL: hangingServer(t), Token: token, Timeout: 100 * time.Millisecond})
	require.NoError(t, err)
	err = c.AddEventByClientRef(context.Background(), oneserve.JobEvent{JobRef: "J1", ClientID: "41", EventCode: "E1", Note: "n", Date: time.Now()})
	require.True(t, oneserveError(t, err).Unanswered, "timed out: %v", err)

	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, herr := http.NewResponseController(w).Hijack()
		require.NoError(t, herr)
		conn.Close()
	}))
	t.Cleanup(hangUp.Close)
	c, err = oneserve.New(oneserve.Options{BaseURL: hangUp.URL, Token: token})
	require.NoError(t, err)
	err = c.AddEventByClientRef(context.Background(), oneserve.JobEvent{JobRef: "J1", ClientID: "41", EventCode: "E1", Note: "n", Date: time.Now()})
	require.True(t, oneserveError(t, err).Unanswered, "hung up mid-request: %v", err)

	f, c := newFake(t, jsonReply(503, `{"result":"error","result_msg":"busy"}`))
	err = c.AddEventByClientRef(context.Background(), oneserve.JobEvent{JobRef: "J1", ClientID: "41", EventCode: "E1", Note: "n", Date: time.Now()})
	require.False(t, oneserveError(t, err).Unanswered, "answered 503: %v", err)

	f.srv.Close() // nothing listens there any more
	c, err = oneserve.New(oneserve.Options{BaseURL: f.srv.URL, Token: token})
	require.NoError(t, err)
	err = c.AddEventByClientRef(context.Background(), oneserve.JobEvent{JobRef: "J1", ClientID: "41", EventCode: "E1", Note: "n", Date: time.Now()})
	require.False(t, oneserveError(t, err).Unanswered, "connection refused: %v", err)
}

func TestCallerCancel(t *testing.T) {
	c, err := oneserve.New(oneserve.Options{BaseURL: hangingServer(t), Token: token, Timeout: 10 * time.Second})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.Documents(ctx, "J1")
	require.Less(t, time.Since(start), 3*time.Second)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, "documents", oneserveError(t, err).Op)

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = c.UploadDocument(ctx, "J1", oneserve.Upload{FileName: "a.pdf", Category: "C", Size: 3, Body: strings.NewReader("abc")})
	require.ErrorIs(t, err, context.Canceled)
	_, err = c.DownloadDocument(ctx, "D1", 0)
	require.ErrorIs(t, err, context.Canceled)
}

func TestJob(t *testing.T) {
	f, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"",
		"jobRef":"AC/1","clientRef":"","clientId":28,"siteRef":"SITE-001",
		"contactRef":"CON-001","priority":"Emergency","priorityId":1,
		"description":"Dripping tap in kitchen","reportedDate":"01/07/2026 09:30",
		"status":"Newly Created","statusId":"1",
		"activities":[{"id":137128,"code":"PLB001","description":"Fix tap","quantity":"2","supplierId":7,"status":"1"}]}`))
	j, err := c.Job(context.Background(), "AC/1")
	require.NoError(t, err)
	r := f.only(t)
	require.Equal(t, http.MethodGet, r.Method)
	require.Equal(t, "/tenant/rest/workflow/job/AC%2F1", r.EscapedPath)
	requireCommonHeaders(t, r)

	require.True(t, j.ReportedDate.Equal(time.Date(2026, 7, 1, 8, 30, 0, 0, time.UTC)), "09:30 BST is 08:30 UTC, got %v", j.ReportedDate)
	j.ReportedDate = time.Time{}
	require.Equal(t, &oneserve.Job{
		JobRef: "AC/1", ClientID: "28", SiteRef: "SITE-001", ContactRef: "CON-001", Priority: "Emergency",
		PriorityID: "1", Description: "Dripping tap in kitchen", Status: "Newly Created", StatusID: "1",
		Activities: []oneserve.JobLine{{ID: "137128", Code: "PLB001", Description: "Fix tap", Quantity: "2", SupplierID: "7", Status: "1"}},
	}, j)

	_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"AC2","reportedDate":"27/11/2026 09:30"}`))
	j, err = c.Job(context.Background(), "AC2")
	require.NoError(t, err)
	require.True(t, j.ReportedDate.Equal(time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)), "winter is GMT, got %v", j.ReportedDate)

	_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"AC3"}`))
	j, err = c.Job(context.Background(), "AC3")
	require.NoError(t, err)
	require.True(t, j.ReportedDate.IsZero())

	_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"AC4","reportedDate":"2026-11-27T09:30"}`))
	_, err = c.Job(context.Background(), "AC4")
	require.Equal(t, oneserve.KindPermanent, oneserveError(t, err).Kind)

	_, c = newFake(t, jsonReply(404, `{"result":"error","result_msg":"Job not found"}`))
	_, err = c.Job(context.Background(), "NOPE")
	require.True(t, oneserve.IsNotFound(err))
}

func TestConfiguredPaths(t *testing.T) {
	f, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"J1","documents":[]}`), func(o *oneserve.Options) {
		o.Paths = oneserve.Paths{JobRead: "/api/v2/jobs/{jobRef}/detail"}
	})
	_, err := c.Job(context.Background(), "J1")
	require.NoError(t, err)
	_, err = c.Documents(context.Background(), "J1")
	require.NoError(t, err)
	reqs := f.requests()
	require.Equal(t, "/tenant/api/v2/jobs/J1/detail", reqs[0].Path)
	require.Equal(t, "/tenant"+strings.ReplaceAll(oneserve.DefaultPaths.DocumentList, "{jobRef}", "J1"), reqs[1].Path, "unset paths use the defaults")
}

func TestDocuments(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	f, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"","documents":[
		{"documentId":"D17","fileName":"gas-cert.pdf","category":"Gas Certificate","size":"48213","sha256":"`+sum+`",
		 "contentType":"application/pdf","clientRef":"","uploadedDate":"27/11/2026 10:02","approvalStatus":"Approved"},
		{"documentId":18,"fileName":"photo.jpg","category":"Photos","size":1024,"contentType":"image/jpeg","clientRef":"o2o:l1:primary:D9","approvalStatus":"Rejected"},
		{"documentId":"D19","fileName":"x","category":"C"},
		{"documentId":"D20","fileName":"y","category":"C","approvalStatus":"Pending","uploadedDate":"yesterday"},
		{"documentId":"D21","fileName":"z","category":"C","approvalStatus":null}]}`))
	docs, err := c.Documents(context.Background(), "FX000001")
	require.NoError(t, err)
	// uploadedDate is UK local time, like reportedDate; one that cannot be
	// read is left zero (it only dates a fact).
	require.Len(t, docs, 5)
	require.Equal(t, time.Date(2026, 11, 27, 10, 2, 0, 0, time.UTC), docs[0].Uploaded.UTC(), "27/11/2026 10:02 is GMT in November")
	for i := range docs {
		if i > 0 {
			require.True(t, docs[i].Uploaded.IsZero(), "document %d", i)
		}
		docs[i].Uploaded = time.Time{}
	}
	require.Equal(t, []oneserve.Document{
		{DocumentID: "D17", FileName: "gas-cert.pdf", Category: "Gas Certificate", ContentType: "application/pdf", SHA256: sum, Size: 48213,
			Approval: oneserve.ApprovalApproved},
		{DocumentID: "18", FileName: "photo.jpg", Category: "Photos", ContentType: "image/jpeg", ClientRef: "o2o:l1:primary:D9", Size: 1024,
			Approval: oneserve.ApprovalRejected},
		{DocumentID: "D19", FileName: "x", Category: "C", Size: -1}, // no approvalStatus: ""
		{DocumentID: "D20", FileName: "y", Category: "C", Size: -1, Approval: oneserve.ApprovalPending},
		{DocumentID: "D21", FileName: "z", Category: "C", Size: -1},
	}, docs)
	r := f.only(t)
	require.Equal(t, http.MethodGet, r.Method)
	require.Equal(t, "/tenant/rest/documents/job/FX000001", r.Path)
	requireCommonHeaders(t, r)
}

func TestDownloadWhole(t *testing.T) {
	content := []byte("%PDF-1.7 whole document")
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("X-Checksum-SHA256", "abc123")
		w.Header().Set("Content-Length", fmt.Sprint(len(content)))
		_, _ = w.Write(content)
	})
	d, err := c.DownloadDocument(context.Background(), "D 17", 0)
	require.NoError(t, err)
	got, err := io.ReadAll(d.Body)
	require.NoError(t, err)
	require.NoError(t, d.Body.Close())
	require.Equal(t, content, got)
	require.Equal(t, int64(len(content)), d.Size)
	require.Equal(t, int64(0), d.Offset)
	require.Equal(t, "application/pdf", d.ContentType)
	require.Equal(t, "abc123", d.SHA256)

	r := f.only(t)
	require.Equal(t, http.MethodGet, r.Method)
	require.Equal(t, "/tenant/rest/documents/D%2017/content", r.EscapedPath)
	require.Empty(t, r.Header.Get("Range"), "no Range without an offset")
	requireCommonHeaders(t, r)
}

func TestDownloadResume(t *testing.T) {
	content := []byte("0123456789abcdef")
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		// http.ServeContent honours Range the way a real server does.
		w.Header().Set("X-Checksum-SHA256", "sum")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
	})
	d, err := c.DownloadDocument(context.Background(), "D17", 5)
	require.NoError(t, err)
	defer d.Body.Close()
	got, err := io.ReadAll(d.Body)
	require.NoError(t, err)
	require.Equal(t, "56789abcdef", string(got))
	require.Equal(t, int64(5), d.Offset)
	require.Equal(t, int64(16), d.Size, "Size is the whole document's, from Content-Range")
	require.Equal(t, "bytes=5-", f.only(t).Header.Get("Range"))

	// A server that ignores Range sends everything from 0.
	_, c = newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { _, _ = w.Write(content) })
	d, err = c.DownloadDocument(context.Background(), "D17", 5)
	require.NoError(t, err)
	defer d.Body.Close()
	got, err = io.ReadAll(d.Body)
	require.NoError(t, err)
	require.Equal(t, content, got)
	require.Equal(t, int64(0), d.Offset)

	// An unreadable Content-Range cannot be resumed safely.
	_, c = newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Range", "bytes */16")
		w.WriteHeader(http.StatusPartialContent)
	})
	_, err = c.DownloadDocument(context.Background(), "D17", 5)
	require.Equal(t, oneserve.KindPermanent, oneserveError(t, err).Kind)

	_, c = newFake(t, jsonReply(404, `{"result":"error","result_msg":"Document not found"}`))
	_, err = c.DownloadDocument(context.Background(), "D99", 0)
	require.True(t, oneserve.IsNotFound(err))
	require.Contains(t, err.Error(), "Document not found")
}

// TestDownloadStreams proves the body is not buffered and not cut by the
// per-call timeout: the server sends the second half only after the client
// has read the first, and more than Timeout later.
func TestDownloadStreams(t *testing.T) {
	firstRead := make(chan struct{})
	var signalled atomic.Bool
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		_, _ = io.WriteString(w, "first-")
		w.(http.Flusher).Flush()
		select {
		case <-firstRead:
			signalled.Store(true)
		case <-time.After(5 * time.Second):
		}
		time.Sleep(400 * time.Millisecond) // longer than Timeout
		_, _ = io.WriteString(w, "second")
	}, func(o *oneserve.Options) { o.Timeout = 150 * time.Millisecond })

	d, err := c.DownloadDocument(context.Background(), "D1", 0)
	require.NoError(t, err)
	defer d.Body.Close()
	require.Equal(t, int64(-1), d.Size, "no Content-Length: unknown")
	buf := make([]byte, len("first-"))
	_, err = io.ReadFull(d.Body, buf)
	require.NoError(t, err)
	close(firstRead)
	rest, err := io.ReadAll(d.Body)
	require.NoError(t, err)
	require.Equal(t, "first-second", string(buf)+string(rest))
	require.True(t, signalled.Load(), "the first half arrived before the server sent the second")
}

func TestUpload(t *testing.T) {
	content := bytes.Repeat([]byte("document bytes "), 1000)
	sum := strings.Repeat("0f", 32)
	f, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"","documentId":"D18","size":15000,"sha256":"`+sum+`"}`))
	doc, err := c.UploadDocument(context.Background(), "FX 1", oneserve.Upload{
		FileName: "gas cert&1.pdf", Category: "Gas Certificate", ClientRef: "o2o:l1:primary:D17",
		ContentType: "application/pdf", SHA256: sum, Size: int64(len(content)), Body: bytes.NewReader(content),
	})
	require.NoError(t, err)
	require.Equal(t, &oneserve.Document{
		DocumentID: "D18", FileName: "gas cert&1.pdf", Category: "Gas Certificate", ContentType: "application/pdf",
		SHA256: sum, ClientRef: "o2o:l1:primary:D17", Size: 15000,
	}, doc)

	r := f.only(t)
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/tenant/rest/documents/job/FX%201", r.EscapedPath)
	require.Equal(t, url.Values{"fileName": {"gas cert&1.pdf"}, "category": {"Gas Certificate"}, "clientRef": {"o2o:l1:primary:D17"}}, r.Query)
	requireCommonHeaders(t, r)
	require.Equal(t, "application/pdf", r.Header.Get("Content-Type"))
	require.Equal(t, sum, r.Header.Get("X-Checksum-SHA256"))
	require.Equal(t, int64(len(content)), r.ContentLength)
	require.Equal(t, content, r.Body)
}

func TestUploadRefused(t *testing.T) {
	_, c := newFake(t, jsonReply(400, `{"result":"error","result_msg":"Checksum mismatch"}`))
	_, err := c.UploadDocument(context.Background(), "FX1", oneserve.Upload{FileName: "a", Category: "C", SHA256: "00", Size: 1, Body: strings.NewReader("a")})
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, "Checksum mismatch", oe.Message)

	_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","documentId":"D1","sha256":"ff"}`))
	_, err = c.UploadDocument(context.Background(), "FX1", oneserve.Upload{FileName: "a", Category: "C", SHA256: "00", Size: 1, Body: strings.NewReader("a")})
	require.Equal(t, oneserve.KindPermanent, oneserveError(t, err).Kind, "a stored copy with another checksum is refused")
}

// TestUploadStreams proves the body is streamed (the server has the first
// half before the client has produced the second), sent chunked when its
// size is unknown, and not cut by the per-call timeout while it progresses.
func TestUploadStreams(t *testing.T) {
	firstHalf := make(chan struct{})
	type result struct {
		body          []byte
		contentLength int64
		query         url.Values
		ct, sum       string
	}
	got := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 5)
		_, err := io.ReadFull(r.Body, buf)
		if err == nil {
			close(firstHalf)
		}
		rest, _ := io.ReadAll(r.Body)
		got <- result{append(buf, rest...), r.ContentLength, r.URL.Query(), r.Header.Get("Content-Type"), r.Header.Get("X-Checksum-SHA256")}
		_, _ = io.WriteString(w, `{"result":"success","result_msg":"","documentId":"D20"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := oneserve.New(oneserve.Options{BaseURL: srv.URL, Token: token, Timeout: 150 * time.Millisecond})
	require.NoError(t, err)

	pr, pw := io.Pipe()
	writerErr := make(chan error, 1)
	go func() {
		if _, err := io.WriteString(pw, "half-"); err != nil {
			writerErr <- err
			return
		}
		select {
		case <-firstHalf:
		case <-time.After(5 * time.Second):
			writerErr <- errors.New("the server never got the first half: the body was not streamed")
			pw.CloseWithError(errors.New("not streamed"))
			return
		}
		// Keep writing for longer than Timeout, in small steps.
		for range 6 {
			time.Sleep(80 * time.Millisecond)
			_, _ = io.WriteString(pw, ".")
		}
		writerErr <- pw.Close()
	}()
	doc, err := c.UploadDocument(context.Background(), "FX1", oneserve.Upload{FileName: "f.bin", Category: "Photos", Size: -1, Body: pr})
	require.NoError(t, err)
	require.NoError(t, <-writerErr)
	require.Equal(t, "D20", doc.DocumentID)
	require.Equal(t, int64(-1), doc.Size)
	r := <-got
	require.Equal(t, "half-......", string(r.body))
	require.Equal(t, int64(-1), r.contentLength, "unknown size is sent chunked")
	require.Equal(t, url.Values{"fileName": {"f.bin"}, "category": {"Photos"}}, r.query, "empty clientRef is not sent")
	require.Equal(t, "application/octet-stream", r.ct)
	require.Empty(t, r.sum)
}

// zeros is an endless source of zero bytes, to upload more than the socket
// buffers hold without allocating it.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// TestUploadStallTimesOut checks that the per-call timeout still ends an
// upload whose target stops taking the body, or takes it all and never answers.
func TestUploadStallTimesOut(t *testing.T) {
	readAllThenHang := func(t *testing.T) string {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		return srv.URL
	}
	for name, server := range map[string]func(*testing.T) string{
		"server stops reading": hangingServer,
		"server never answers": readAllThenHang,
	} {
		t.Run(name, func(t *testing.T) {
			c, err := oneserve.New(oneserve.Options{BaseURL: server(t), Token: token, Timeout: 200 * time.Millisecond})
			require.NoError(t, err)
			const size = 64 << 20
			done := make(chan error, 1)
			go func() {
				_, err := c.UploadDocument(context.Background(), "FX1", oneserve.Upload{
					FileName: "f", Category: "C", Size: size, Body: io.LimitReader(zeros{}, size),
				})
				done <- err
			}()
			select {
			case err := <-done:
				require.True(t, oneserve.IsTemporary(err), "%v", err)
				require.False(t, errors.Is(err, context.Canceled))
			case <-time.After(20 * time.Second):
				t.Fatal("a stalled upload was not cut by the per-call timeout")
			}
		})
	}
}

func TestAddActivitiesByClientRef(t *testing.T) {
	f, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"Activity(ies) Posted"}`))
	err := c.AddActivitiesByClientRef(context.Background(), true, []oneserve.ActivityByClientRef{
		{JobClientRef: "AC/000001", ClientID: "41", Code: "PLB001", ClientRef: "o2o:l1:137128",
			Description: "Fix tap", CompletedQuantity: "0.5", TotalQuantity: "2.50"},
		{JobClientRef: "AC000002", ClientID: "41", Code: "PLB002", ClientRef: "o2o:l1:137129", TotalQuantity: "1"},
	})
	require.NoError(t, err)
	r := f.only(t)
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/tenant/rest/workflow/activity/addActivityByClientRef", r.Path)
	requireCommonHeaders(t, r)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.Equal(t, "application/json", r.Header.Get("Accept"))
	require.Empty(t, r.RawQuery)

	require.Equal(t, map[string]string{"submitVersion": "1"}, stringFields(t, r.Body), "only submitVersion and activities at the top level")
	var body struct {
		Activities []json.RawMessage `json:"activities"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &body))
	require.Len(t, body.Activities, 2)
	require.Equal(t, map[string]string{
		"jobClientRef": "AC/000001", "clientId": "41", "code": "PLB001", "clientRef": "o2o:l1:137128",
		"description": "Fix tap", "completedQuantity": "0.5", "totalQuantity": "2.50",
	}, stringFields(t, body.Activities[0]), "every field is a JSON string, sent as given")
	require.Equal(t, map[string]string{
		"jobClientRef": "AC000002", "clientId": "41", "code": "PLB002", "clientRef": "o2o:l1:137129",
		"completedQuantity": "0", "totalQuantity": "1",
	}, stringFields(t, body.Activities[1]), "an empty description is omitted; an empty completedQuantity is sent as 0")

	f, c = newFake(t, jsonReply(200, success))
	require.NoError(t, c.AddActivitiesByClientRef(context.Background(), false, []oneserve.ActivityByClientRef{
		{JobClientRef: "AC1", ClientID: "41", Code: "PLB001", ClientRef: "A1", CompletedQuantity: "0", TotalQuantity: "1"},
	}))
	require.Equal(t, "0", stringFields(t, f.only(t).Body)["submitVersion"])
}

func TestAddActivitiesByClientRefRefusedBeforeSending(t *testing.T) {
	valid := oneserve.ActivityByClientRef{JobClientRef: "AC1", ClientID: "41", Code: "PLB001", ClientRef: "A1", TotalQuantity: "1"}
	cases := map[string]struct {
		acts []oneserve.ActivityByClientRef
		want string
	}{
		"no activities":         {nil, "at least one activity is required"},
		"empty list":            {[]oneserve.ActivityByClientRef{}, "at least one activity is required"},
		"no JobClientRef":       {[]oneserve.ActivityByClientRef{valid, func() oneserve.ActivityByClientRef { a := valid; a.JobClientRef = ""; return a }()}, "activities[1]: JobClientRef is required"},
		"no ClientID":           {[]oneserve.ActivityByClientRef{func() oneserve.ActivityByClientRef { a := valid; a.ClientID = ""; return a }()}, "activities[0]: ClientID is required"},
		"no Code":               {[]oneserve.ActivityByClientRef{func() oneserve.ActivityByClientRef { a := valid; a.Code = ""; return a }()}, "activities[0]: Code is required"},
		"no activity ClientRef": {[]oneserve.ActivityByClientRef{func() oneserve.ActivityByClientRef { a := valid; a.ClientRef = ""; return a }()}, "activities[0]: ClientRef is required"},
		"no TotalQuantity":      {[]oneserve.ActivityByClientRef{func() oneserve.ActivityByClientRef { a := valid; a.TotalQuantity = ""; return a }()}, "activities[0]: TotalQuantity is required"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, c := newFake(t, jsonReply(200, success))
			err := c.AddActivitiesByClientRef(context.Background(), true, tc.acts)
			oe := oneserveError(t, err)
			require.Equal(t, oneserve.KindPermanent, oe.Kind)
			require.Equal(t, "addActivityByClientRef", oe.Op)
			require.Equal(t, 0, oe.StatusCode)
			require.Equal(t, tc.want, oe.Message)
			require.Empty(t, f.requests(), "an invalid request is not sent")
		})
	}
}

func TestAddActivitiesByClientRefAnswers(t *testing.T) {
	acts := []oneserve.ActivityByClientRef{{JobClientRef: "NOPE", ClientID: "41", Code: "PLB001", ClientRef: "A1", TotalQuantity: "1"}}

	// Unknown job: HTTP 200 with the error only in the envelope.
	_, c := newFake(t, jsonReply(200, `{"result":"error","result_msg":"REST0004 Job not found"}`))
	err := c.AddActivitiesByClientRef(context.Background(), false, acts)
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, 200, oe.StatusCode)
	require.Equal(t, "REST0004 Job not found", oe.Message)
	require.Equal(t, "oneserve addActivityByClientRef: HTTP 200: REST0004 Job not found", err.Error())

	_, c = newFake(t, jsonReply(400, `{"result":"error","result_msg":"activities[0].code \"XX\" is not an SOR code of clientId 41"}`))
	err = c.AddActivitiesByClientRef(context.Background(), false, acts)
	oe = oneserveError(t, err)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, 400, oe.StatusCode)
	require.Contains(t, oe.Message, `"XX"`)

	_, c = newFake(t, jsonReply(503, ""))
	require.True(t, oneserve.IsTemporary(c.AddActivitiesByClientRef(context.Background(), false, acts)))
}

func TestJobHistoryAndActivityClientRefs(t *testing.T) {
	_, c := newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"FX000001","clientRef":"AC000001",
		"activities":[{"id":"245000","code":"PLB001","quantity":"2","status":"1","clientRef":""},
		              {"id":245001,"code":"PLB002","quantity":"1","status":1,"clientRef":"o2o:l1:137128"},
		              {"id":"245002","code":"PLB002","quantity":"1","status":"1"}],
		"events":[{"code":"SACC","note":"Accepted","date":"13-07-2020 13:48:00","appointmentId":"42923"},
		          {"code":"N","note":"Winter note","date":"05-01-2026 07:04:09","appointmentId":""},
		          {"code":"PNOTE","note":"no appointment field","date":"05-01-2026 07:05"},
		          {"code":"X","note":"no date"}]}`))
	j, err := c.Job(context.Background(), "FX000001")
	require.NoError(t, err)
	require.Equal(t, []string{"", "o2o:l1:137128", ""}, []string{j.Activities[0].ClientRef, j.Activities[1].ClientRef, j.Activities[2].ClientRef})
	require.Equal(t, "245001", j.Activities[1].ID)

	require.Len(t, j.Events, 4)
	require.True(t, j.Events[0].Date.Equal(time.Date(2020, 7, 13, 12, 48, 0, 0, time.UTC)), "13:48 BST is 12:48 UTC, got %v", j.Events[0].Date)
	require.True(t, j.Events[1].Date.Equal(time.Date(2026, 1, 5, 7, 4, 9, 0, time.UTC)), "winter is GMT, got %v", j.Events[1].Date)
	require.True(t, j.Events[2].Date.Equal(time.Date(2026, 1, 5, 7, 5, 0, 0, time.UTC)), "a date without seconds is read too")
	require.True(t, j.Events[3].Date.IsZero())
	for i := range j.Events {
		j.Events[i].Date = time.Time{}
	}
	require.Equal(t, []oneserve.HistoryEvent{
		{Code: "SACC", Note: "Accepted", AppointmentID: "42923"},
		{Code: "N", Note: "Winter note"},
		{Code: "PNOTE", Note: "no appointment field"},
		{Code: "X", Note: "no date"},
	}, j.Events)

	// Older systems send neither events nor activity client refs.
	_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"J1","activities":[{"id":"1","code":"C"}]}`))
	j, err = c.Job(context.Background(), "J1")
	require.NoError(t, err)
	require.Empty(t, j.Events)
	require.Equal(t, []oneserve.JobLine{{ID: "1", Code: "C"}}, j.Activities)

	// An unreadable event date breaks the contract.
	_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"J1","events":[{"code":"N","note":"n","date":"2020-07-13T13:48:00Z"}]}`))
	_, err = c.Job(context.Background(), "J1")
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, `events[0].date: date "2020-07-13T13:48:00Z" is not in the layout dd-mm-yyyy hh:mm:ss`, oe.Message)

	_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"J1","reportedDate":"x"}`))
	_, err = c.Job(context.Background(), "J1")
	require.Equal(t, `reportedDate: date "x" is not in the layout dd/mm/yyyy hh:mm`, oneserveError(t, err).Message)

	// Events must be an array of objects.
	_, c = newFake(t, jsonReply(200, `{"result":"success","result_msg":"","jobRef":"J1","events":[{"code":{"x":1}}]}`))
	_, err = c.Job(context.Background(), "J1")
	require.Equal(t, oneserve.KindPermanent, oneserveError(t, err).Kind)
}
