package oneserve_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/oneserve"
)

// eventsPathRE is jobEventsXML's path exactly as documented: dates like
// 29-May-2012%2010:30:00 (the space as %20, colons as they are), a numeric
// client id and a comma-separated list of numeric event ids.
var eventsPathRE = regexp.MustCompile(`^/tenant/rest/workflow/job/jobEventsXML/` +
	`(\d{2}-[A-Z][a-z]{2}-\d{4}%20\d{2}:\d{2}:\d{2})/(\d{2}-[A-Z][a-z]{2}-\d{4}%20\d{2}:\d{2}:\d{2})/(\d+)/(\d+(?:,\d+)*)$`)

// eventsServer is a strict jobEventsXML: it checks the raw request line
// (what went over the wire, before any decoding) against the documented
// shape, answers 400 to anything else, and records the request URIs.
type eventsServer struct {
	mu    sync.Mutex
	uris  []string
	reply func(w http.ResponseWriter, r *http.Request)
}

func (s *eventsServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.uris...)
}

func newEventsServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) (*eventsServer, *oneserve.Client) {
	t.Helper()
	s := &eventsServer{reply: reply}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.uris = append(s.uris, r.RequestURI)
		s.mu.Unlock()
		switch {
		case r.Method != http.MethodGet:
			http.Error(w, "method", http.StatusMethodNotAllowed)
		case r.Header.Get("OS-REST-AUTH-TOKEN") != token:
			http.Error(w, "token", http.StatusUnauthorized)
		case !strings.Contains(r.Header.Get("Accept"), "xml"):
			http.Error(w, "Accept must ask for XML", http.StatusNotAcceptable)
		case !eventsPathRE.MatchString(r.RequestURI):
			http.Error(w, "path not in the documented form: "+r.RequestURI, http.StatusBadRequest)
		default:
			s.reply(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := oneserve.New(oneserve.Options{BaseURL: srv.URL + "/tenant", Token: token, Timeout: 5 * time.Second})
	require.NoError(t, err)
	return s, c
}

func xmlReply(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

const emptyEvents = `<?xml version="1.0" encoding="UTF-8"?><jobs></jobs>`

func TestJobEventsPathIsTheDocumentedOne(t *testing.T) {
	loc := london(t)
	cases := []struct {
		name     string
		from, to time.Time
		client   string
		ids      []string
		wantURI  string
	}{
		{"the documented example", time.Date(2012, 5, 29, 10, 30, 0, 0, loc), time.Date(2012, 5, 30, 0, 0, 0, 0, loc), "1", []string{"71", "135", "326"},
			"/tenant/rest/workflow/job/jobEventsXML/29-May-2012%2010:30:00/30-May-2012%2000:00:00/1/71,135,326"},
		{"UTC in summer is sent as BST, sub-seconds dropped", time.Date(2026, 7, 1, 8, 30, 15, 900e6, time.UTC), time.Date(2026, 7, 1, 23, 0, 0, 0, time.UTC), "28", []string{"5"},
			"/tenant/rest/workflow/job/jobEventsXML/01-Jul-2026%2009:30:15/02-Jul-2026%2000:00:00/28/5"},
		{"winter is GMT", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 9, 0, 0, 0, time.UTC), "41", []string{"1001", "1002"},
			"/tenant/rest/workflow/job/jobEventsXML/01-Dec-2026%2009:00:00/31-Dec-2026%2009:00:00/41/1001,1002"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newEventsServer(t, xmlReply(200, emptyEvents))
			got, err := c.JobEvents(context.Background(), tc.from, tc.to, tc.client, tc.ids)
			require.NoError(t, err)
			require.Empty(t, got)
			require.Equal(t, []string{tc.wantURI}, s.requests(), "the raw request line: %%20 for the space, never '+'")
		})
	}
}

func TestJobEventsDecodesTheXML(t *testing.T) {
	loc := london(t)
	// Unknown elements (documented ones O2O does not use, and others) are
	// ignored; the root's name is not checked; CDATA and entities are text.
	body := `<?xml version="1.0" encoding="UTF-8"?>
<jobEventsResponse>
  <eventCount>2</eventCount>
  <job>
    <jobRef>AC000001</jobRef>
    <eventRecordedBy>Ada Example</eventRecordedBy>
    <eventDateTime>01-Jul-2026 10:30:00</eventDateTime>
    <eventRef>SACC</eventRef>
    <eventDescription>Subcontractor accepted</eventDescription>
    <eventNotes><![CDATA[Accepted <by> phone
second line]]></eventNotes>
    <eventNoteDescription>Phone call</eventNoteDescription>
    <eventCount>2</eventCount>
    <ownerName>Bob Placeholder</ownerName>
    <siteRef>SITE-001</siteRef>
    <siteAdd1>1 High Street</siteAdd1>
    <somethingNew><nested a="1">x</nested></somethingNew>
  </job>
  <job>
    <jobRef>AC000002</jobRef>
    <eventRecordedBy>o2o api</eventRecordedBy>
    <eventDateTime>29-Dec-2026 08:05:59</eventDateTime>
    <eventRef>APPT</eventRef>
    <eventDescription>Appointment &amp; booking</eventDescription>
    <eventNotes>Booked for 30/12/2026 09:00</eventNotes>
    <eventNoteDescription></eventNoteDescription>
  </job>
  <unrelated/>
</jobEventsResponse>`
	_, c := newEventsServer(t, xmlReply(200, body))
	got, err := c.JobEvents(context.Background(), time.Date(2026, 7, 1, 0, 0, 0, 0, loc), time.Date(2026, 7, 31, 0, 0, 0, 0, loc), "28", []string{"71"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.True(t, got[0].DateTime.Equal(time.Date(2026, 7, 1, 9, 30, 0, 0, time.UTC)), "10:30 BST, got %v", got[0].DateTime)
	require.True(t, got[1].DateTime.Equal(time.Date(2026, 12, 29, 8, 5, 59, 0, time.UTC)), "GMT, got %v", got[1].DateTime)
	got[0].DateTime, got[1].DateTime = time.Time{}, time.Time{}
	require.Equal(t, []oneserve.JobEventRecord{
		{JobRef: "AC000001", RecordedBy: "Ada Example", EventRef: "SACC", Description: "Subcontractor accepted",
			Notes: "Accepted <by> phone\nsecond line", NoteDescription: "Phone call"},
		{JobRef: "AC000002", RecordedBy: "o2o api", EventRef: "APPT", Description: "Appointment & booking",
			Notes: "Booked for 30/12/2026 09:00"},
	}, got)
}

func TestJobEventsDateTimeLayoutsAndEncodings(t *testing.T) {
	loc := london(t)
	want := time.Date(2026, 7, 1, 9, 30, 0, 0, time.UTC) // 10:30 BST
	for _, dt := range []string{
		"01-Jul-2026 10:30:00", "01-JUL-2026 10:30:00", "01-Jul-2026 10:30", "01-07-2026 10:30:00", "01/07/2026 10:30",
		"2026-07-01T10:30:00", "2026-07-01T10:30:00.000", "2026-07-01T10:30:00+01:00", "2026-07-01T09:30:00Z", " 01-Jul-2026 10:30:00\n",
	} {
		_, c := newEventsServer(t, xmlReply(200, `<jobs><job><jobRef>AC1</jobRef><eventRef>N</eventRef><eventDateTime>`+dt+`</eventDateTime></job></jobs>`))
		got, err := c.JobEvents(context.Background(), want.Add(-time.Hour), want.Add(time.Hour), "28", []string{"1"})
		require.NoError(t, err, dt)
		require.True(t, got[0].DateTime.Equal(want), "%q read as %v", dt, got[0].DateTime)
		require.Equal(t, loc.String(), got[0].DateTime.Location().String())
	}

	// A Java server may declare ISO-8859-1.
	latin1 := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><jobs><job><jobRef>AC1</jobRef><eventRef>N</eventRef>" +
		"<eventDateTime>01-Jul-2026 10:30:00</eventDateTime><eventNotes>Caf\xe9 \xa35</eventNotes></job></jobs>"
	_, c := newEventsServer(t, xmlReply(200, latin1))
	got, err := c.JobEvents(context.Background(), want.Add(-time.Hour), want.Add(time.Hour), "28", []string{"1"})
	require.NoError(t, err)
	require.Equal(t, "Café £5", got[0].Notes)
}

func TestJobEventsMalformedAnswerNamesTheField(t *testing.T) {
	loc := london(t)
	good := `<job><jobRef>AC000001</jobRef><eventRef>SACC</eventRef><eventDateTime>01-Jul-2026 10:30:00</eventDateTime></job>`
	cases := []struct {
		name, body string
		want       []string
	}{
		{"unreadable eventDateTime", `<jobs>` + good + `<job><jobRef>AC000002</jobRef><eventRef>APPT</eventRef><eventDateTime>31/13/2026 25:00</eventDateTime></job></jobs>`,
			[]string{"eventDateTime", "AC000002", "job[1]", `"31/13/2026 25:00"`}},
		{"missing eventDateTime", `<jobs><job><jobRef>AC000003</jobRef><eventRef>APPT</eventRef></job></jobs>`,
			[]string{"eventDateTime is missing", "AC000003"}},
		{"missing jobRef", `<jobs>` + good + `<job><eventRef>APPT</eventRef><eventDateTime>01-Jul-2026 10:30:00</eventDateTime></job></jobs>`,
			[]string{"job[1]: jobRef is missing"}},
		{"missing eventRef", `<jobs><job><jobRef>AC000004</jobRef><eventDateTime>01-Jul-2026 10:30:00</eventDateTime></job></jobs>`,
			[]string{"eventRef is missing", "AC000004"}},
		{"not XML", `Internal error`, []string{"not the expected XML"}},
		{"truncated XML", `<jobs>` + good + `<job><jobRef>AC9`, []string{"not the expected XML"}},
		{"an HTML login page", `<!DOCTYPE html><html><body><p>Please log in<br></body></html>`, []string{"not the expected XML"}},
		{"XML envelope refusal on 200", `<response><result>error</result><result_msg>REST0007 Too many days</result_msg></response>`,
			[]string{"REST0007 Too many days"}},
		{"JSON envelope refusal on 200", `{"result":"error","result_msg":"REST0009 Unknown client"}`, []string{"REST0009 Unknown client"}},
		{"JSON success is not XML", `{"result":"success","result_msg":""}`, []string{"JSON, not the expected XML"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newEventsServer(t, xmlReply(200, tc.body))
			got, err := c.JobEvents(context.Background(), time.Date(2026, 7, 1, 0, 0, 0, 0, loc), time.Date(2026, 7, 2, 0, 0, 0, 0, loc), "28", []string{"71"})
			require.Nil(t, got, "nothing is returned from a malformed answer")
			oe := oneserveError(t, err)
			require.Equal(t, oneserve.KindPermanent, oe.Kind)
			require.Equal(t, "jobEventsXML", oe.Op)
			require.Equal(t, 200, oe.StatusCode)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestJobEventsRefusedBeforeCalling(t *testing.T) {
	loc := london(t)
	from := time.Date(2026, 1, 31, 10, 0, 0, 0, loc)
	cases := []struct {
		name     string
		from, to time.Time
		client   string
		ids      []string
		want     string
	}{
		{"longer than a month", from, time.Date(2026, 3, 1, 10, 0, 0, 0, loc), "28", []string{"1"}, "longer than one month"},
		{"31 January + 1 month is 28 February, not 3 March", from, time.Date(2026, 2, 28, 10, 0, 1, 0, loc), "28", []string{"1"}, "at most 28-Feb-2026 10:00:00"},
		{"a year", from, from.AddDate(1, 0, 0), "28", []string{"1"}, "split it with JobEventWindows"},
		{"to before from", from, from.Add(-time.Hour), "28", []string{"1"}, "must be after from"},
		{"empty window", from, from, "28", []string{"1"}, "must be after from"},
		{"zero from", time.Time{}, from, "28", []string{"1"}, "from and to are required"},
		{"client ref, not id", from, from.Add(time.Hour), "ACME", []string{"1"}, `clientID "ACME" must be the client's numeric id`},
		{"empty client", from, from.Add(time.Hour), "", []string{"1"}, "clientID"},
		{"no event ids", from, from.Add(time.Hour), "28", nil, "at least one event id"},
		{"an event code", from, from.Add(time.Hour), "28", []string{"71", "SACC"}, `eventIDs[1] "SACC" must be a numeric event id`},
		{"an empty id", from, from.Add(time.Hour), "28", []string{""}, "eventIDs[0]"},
		{"a list in one id", from, from.Add(time.Hour), "28", []string{"1,2"}, "eventIDs[0]"},
		{"a negative id", from, from.Add(time.Hour), "28", []string{"-1"}, "eventIDs[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newEventsServer(t, xmlReply(200, emptyEvents))
			_, err := c.JobEvents(context.Background(), tc.from, tc.to, tc.client, tc.ids)
			oe := oneserveError(t, err)
			require.Equal(t, oneserve.KindPermanent, oe.Kind)
			require.Zero(t, oe.StatusCode)
			require.Contains(t, err.Error(), tc.want)
			require.Empty(t, s.requests(), "refused without calling")
		})
	}

	// Exactly one month is allowed, 31 January's month ending on 28 February.
	s, c := newEventsServer(t, xmlReply(200, emptyEvents))
	_, err := c.JobEvents(context.Background(), from, time.Date(2026, 2, 28, 10, 0, 0, 0, loc), "28", []string{"1"})
	require.NoError(t, err)
	_, err = c.JobEvents(context.Background(), time.Date(2026, 3, 15, 0, 0, 0, 0, loc), time.Date(2026, 4, 15, 0, 0, 0, 0, loc), "28", []string{"1"})
	require.NoError(t, err, "a month across the change to BST")
	require.Len(t, s.requests(), 2)
}

func TestJobEventWindows(t *testing.T) {
	loc := london(t)
	s, c := newEventsServer(t, xmlReply(200, emptyEvents))
	from, to := time.Date(2026, 1, 31, 10, 0, 0, 0, loc), time.Date(2026, 6, 2, 12, 30, 0, 0, loc)
	for _, size := range []time.Duration{0, 7 * 24 * time.Hour, 90 * 24 * time.Hour, time.Hour} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			ws := c.JobEventWindows(from, to, size)
			require.NotEmpty(t, ws)
			require.Equal(t, from, ws[0].From)
			require.Equal(t, to, ws[len(ws)-1].To)
			for i, w := range ws {
				require.True(t, w.To.After(w.From), "window %d", i)
				require.True(t, w.To.Before(w.From.AddDate(0, 1, 0)), "window %d is shorter than a month", i)
				if size > 0 {
					require.LessOrEqual(t, w.To.Sub(w.From), size)
				}
				if i > 0 {
					require.Equal(t, ws[i-1].To, w.From, "contiguous: nothing falls between two windows")
				}
			}
			if size == 0 {
				require.Len(t, ws, 5, "the longest windows Oneserve allows")
				require.Equal(t, time.Date(2026, 2, 28, 9, 59, 59, 0, loc), ws[0].To)
			}
			if size == time.Hour {
				return // 2,954 windows; the guard is checked on the others
			}
			n := len(s.requests())
			for _, w := range ws {
				_, err := c.JobEvents(context.Background(), w.From, w.To, "28", []string{"1"})
				require.NoError(t, err, "every window passes the month guard")
			}
			require.Len(t, s.requests(), n+len(ws))
		})
	}
	require.Empty(t, c.JobEventWindows(to, from, 0), "no windows when to is not after from")
	require.Empty(t, c.JobEventWindows(from, from, 0))
}

func TestJobEventsErrorsAreClassifiedAsElsewhere(t *testing.T) {
	loc := london(t)
	cases := []struct {
		status     int
		retryAfter string
		body       string
		kind       oneserve.Kind
		wantRetry  time.Duration
		wantMsg    string
	}{
		{429, "30", `{"result":"error","result_msg":"Too many calls"}`, oneserve.KindTemporary, 30 * time.Second, "Too many calls"},
		{503, "7", "", oneserve.KindTemporary, 7 * time.Second, "Service Unavailable"},
		{500, "", "<html><body>Error</body></html>", oneserve.KindTemporary, 0, "Internal Server Error"},
		{401, "", `{"result":"error","result_msg":"Invalid token"}`, oneserve.KindUnauthorized, 0, "Invalid token"},
		{403, "", "", oneserve.KindUnauthorized, 0, "Forbidden"},
		{404, "", "", oneserve.KindNotFound, 0, "Not Found"},
		{400, "", `{"result":"error","result_msg":"Date range exceeds one month"}`, oneserve.KindPermanent, 0, "Date range exceeds one month"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			_, c := newEventsServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			got, err := c.JobEvents(context.Background(), time.Date(2026, 7, 1, 0, 0, 0, 0, loc), time.Date(2026, 7, 2, 0, 0, 0, 0, loc), "28", []string{"71"})
			require.Nil(t, got)
			oe := oneserveError(t, err)
			require.Equal(t, tc.kind, oe.Kind, oe.Error())
			require.Equal(t, tc.status, oe.StatusCode)
			require.Equal(t, tc.wantMsg, oe.Message)
			require.Equal(t, tc.wantRetry, oe.RetryAfter)
			require.Equal(t, fmt.Sprintf("oneserve jobEventsXML: HTTP %d: %s", tc.status, tc.wantMsg), err.Error())
		})
	}

	// The caller's cancellation passes through, as for every call.
	_, c := newEventsServer(t, xmlReply(200, emptyEvents))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.JobEvents(ctx, time.Date(2026, 7, 1, 0, 0, 0, 0, loc), time.Date(2026, 7, 2, 0, 0, 0, 0, loc), "28", []string{"71"})
	require.ErrorIs(t, err, context.Canceled)
	require.True(t, oneserve.IsTemporary(err))
}

// TestJobEventsAgainstSimulator is a contract test: the client's path and
// the simulator's strict parsing agree, and what addEventByClientRef wrote
// comes back from jobEventsXML, window by window.
func TestJobEventsAgainstSimulator(t *testing.T) {
	c := fixitAgainstSimulator(t)
	ctx, loc := context.Background(), london(t)

	jobRef, err := c.CreateJob(ctx, oneserve.CreateJobRequest{
		ClientRef: "AC000001", SiteRef: "SITE-001", ReportedDate: time.Date(2026, 1, 5, 9, 30, 0, 0, loc),
		ClientID: "41", WorkLogTypeID: "3", WorkTypeID: "12", WorkflowID: "4", ServiceID: "9", PriorityID: "11",
	})
	require.NoError(t, err)
	dates := []time.Time{
		time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC),   // GMT
		time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC),  // the morning the clocks go forward
		time.Date(2026, 6, 30, 22, 15, 0, 0, time.UTC), // 23:15 BST
	}
	for i, d := range dates {
		code := []string{"PHOLD", "PNOTE", "PCAN"}[i]
		require.NoError(t, c.AddEventByClientRef(ctx, oneserve.JobEvent{JobRef: jobRef, ClientID: "41", EventCode: code, Note: fmt.Sprint("event ", i), Date: d}))
	}

	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2026, 7, 1, 0, 0, 0, 0, loc)
	var all []oneserve.JobEventRecord
	for _, w := range c.JobEventWindows(from, to, 0) {
		got, err := c.JobEvents(ctx, w.From, w.To, "41", []string{"201", "202", "203"})
		require.NoError(t, err, "window %v", w)
		all = append(all, got...)
	}
	require.Len(t, all, 3)
	for i, e := range all {
		require.Equal(t, jobRef, e.JobRef)
		require.True(t, e.DateTime.Equal(dates[i]), "event %d: %v, want %v", i, e.DateTime, dates[i])
		require.Equal(t, fmt.Sprint("event ", i), e.Notes)
		require.Equal(t, "o2o-api", e.RecordedBy)
	}
	require.Equal(t, []string{"PHOLD", "PNOTE", "PCAN"}, []string{all[0].EventRef, all[1].EventRef, all[2].EventRef})
	require.Equal(t, "Client put on hold", all[0].Description)

	// Filtered by id.
	got, err := c.JobEvents(ctx, time.Date(2026, 6, 1, 0, 0, 0, 0, loc), to, "41", []string{"202"})
	require.NoError(t, err)
	require.Empty(t, got)

	// The simulator's refusals come back as typed errors.
	_, err = c.JobEvents(ctx, from, from.Add(time.Hour), "41", []string{"105"})
	oe := oneserveError(t, err)
	require.Equal(t, oneserve.KindPermanent, oe.Kind)
	require.Equal(t, http.StatusBadRequest, oe.StatusCode)
	require.Contains(t, oe.Message, "105 is not an event id of fixit")
	_, err = c.JobEvents(ctx, from, from.Add(time.Hour), "28", []string{"201"})
	require.True(t, oneserve.IsNotFound(err), "%v", err)
}
