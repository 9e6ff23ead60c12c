package simulator_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/simulator"
)

// eventsDoc is jobEventsXML's answer as a client reads it.
type eventsDoc struct {
	XMLName xml.Name `xml:"jobs"`
	Jobs    []struct {
		JobRef               string `xml:"jobRef"`
		EventRecordedBy      string `xml:"eventRecordedBy"`
		EventDateTime        string `xml:"eventDateTime"`
		EventRef             string `xml:"eventRef"`
		EventDescription     string `xml:"eventDescription"`
		EventNotes           string `xml:"eventNotes"`
		EventNoteDescription string `xml:"eventNoteDescription"`
	} `xml:"job"`
}

// jobEvents calls jobEventsXML in system with the path exactly as given
// (already percent-encoded) and returns the status and raw body.
func (h *harness) jobEvents(system, path string) (int, http.Header, []byte) {
	h.t.Helper()
	return h.do(http.MethodGet, "/"+system+"/rest/workflow/job/jobEventsXML/"+path,
		http.Header{"Os-Rest-Auth-Token": {tokenFor(system)}}, nil)
}

// eventsOK calls jobEventsXML and decodes a 200 answer.
func (h *harness) eventsOK(system, path string) eventsDoc {
	h.t.Helper()
	status, hdr, body := h.jobEvents(system, path)
	require.Equal(h.t, http.StatusOK, status, "%s", body)
	require.Equal(h.t, "application/xml; charset=utf-8", hdr.Get("Content-Type"))
	require.True(h.t, strings.HasPrefix(string(body), `<?xml version="1.0" encoding="UTF-8"?>`), "%s", body)
	var doc eventsDoc
	require.NoError(h.t, xml.Unmarshal(body, &doc), "%s", body)
	return doc
}

// twoClientFixit is the dev seed with a second client in fixit, so that
// events can be told apart by client.
func twoClientFixit(t *testing.T) *harness {
	t.Helper()
	seed := devSeed(t)
	for i := range seed.Systems {
		if seed.Systems[i].Name != "fixit" {
			continue
		}
		sys := &seed.Systems[i]
		sys.Clients = append(sys.Clients, simulator.Client{ID: "42", Name: "Other Housing"})
		sys.Sites = append(sys.Sites, simulator.Site{ClientID: "42", SiteRef: "SITE-001", Name: "1 High Street"})
		sys.SORCodes = append(sys.SORCodes, simulator.SORCode{ClientID: "42", Code: "PLB001"})
	}
	return newHarness(t, seed, simulator.Options{})
}

func TestJobEventsXMLReturnsWrittenEventsByWindowClientAndID(t *testing.T) {
	h := twoClientFixit(t)
	newJob := func(clientID, clientRef string) string {
		body := validCreateJob()
		body["clientId"], body["clientRef"], body["contactMode"] = clientID, clientRef, "0"
		delete(body, "contactRef")
		if clientID == "42" {
			for _, k := range []string{"workLogTypeId", "workTypeId", "workflowId", "serviceId"} {
				body[k] = validCreateJob()[k]
			}
		}
		status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", body)
		require.Equal(t, http.StatusOK, status, resp)
		return resp["jobRef"].(string)
	}
	job1, job2, other := newJob("41", "AC000001"), newJob("41", "AC000002"), newJob("42", "OT000001")
	addEvent := func(jobRef, clientID, code, date, note string) {
		status, resp := h.rest("fixit", "POST", "/workflow/job/addEventByClientRef", map[string]any{
			"jobRef": jobRef, "clientId": clientID, "sigEventCode": code, "note": note, "date": date,
		})
		require.Equal(t, http.StatusOK, status, resp)
		require.Equal(t, "success", resp["result"], resp)
	}
	addEvent(job1, "41", "PCAN", "15-07-2026 12:00:00", "cancelled mid-July")
	addEvent(job2, "41", "PHOLD", "01-07-2026 10:00:00", "on hold, first of July")
	addEvent(job1, "41", "PNOTE", "01-07-2026 10:00:00", "a note at the same time")
	addEvent(job2, "41", "PCAN", "02-08-2026 09:00:00", "cancelled in August")
	addEvent(job1, "41", "PCAN", "30-06-2026 23:59:59", "just before the window")
	addEvent(other, "42", "PCAN", "10-07-2026 08:00:00", "another client's job")

	// Every event written through the API carries its code's event id.
	j, ok := h.app.Job("fixit", job1)
	require.True(t, ok)
	require.Equal(t, []string{"201", "203", "201"}, []string{j.History[0].EventID, j.History[1].EventID, j.History[2].EventID})

	// July, all three codes (PCAN 201, PHOLD 202, PNOTE 203), client 41:
	// oldest first, the same date in the order recorded (BST, UK local).
	doc := h.eventsOK("fixit", "01-Jul-2026%2000:00:00/31-Jul-2026%2023:59:59/41/201,202,203")
	type ev struct{ job, code, date, note string }
	var got []ev
	for _, e := range doc.Jobs {
		got = append(got, ev{e.JobRef, e.EventRef, e.EventDateTime, e.EventNotes})
	}
	require.Equal(t, []ev{
		{job2, "PHOLD", "01-Jul-2026 10:00:00", "on hold, first of July"},
		{job1, "PNOTE", "01-Jul-2026 10:00:00", "a note at the same time"},
		{job1, "PCAN", "15-Jul-2026 12:00:00", "cancelled mid-July"},
	}, got)
	require.Equal(t, "Client put on hold", doc.Jobs[0].EventDescription, "the code's configured name")
	require.Equal(t, "o2o-api", doc.Jobs[0].EventRecordedBy)

	// Only the listed event ids.
	doc = h.eventsOK("fixit", "01-Jul-2026%2000:00:00/31-Jul-2026%2023:59:59/41/201")
	require.Len(t, doc.Jobs, 1)
	require.Equal(t, "cancelled mid-July", doc.Jobs[0].EventNotes)

	// Only the client's jobs.
	doc = h.eventsOK("fixit", "01-Jul-2026%2000:00:00/31-Jul-2026%2023:59:59/42/201,202,203")
	require.Len(t, doc.Jobs, 1)
	require.Equal(t, other, doc.Jobs[0].JobRef)

	// Both ends are inclusive, to the second.
	doc = h.eventsOK("fixit", "30-Jun-2026%2023:59:59/01-Jul-2026%2010:00:00/41/201,202,203")
	require.Len(t, doc.Jobs, 3)
	require.Equal(t, "just before the window", doc.Jobs[0].EventNotes)
	doc = h.eventsOK("fixit", "01-Jul-2026%2010:00:01/15-Jul-2026%2011:59:59/41/201,202,203")
	require.Empty(t, doc.Jobs)

	// A window of exactly one month, across months.
	doc = h.eventsOK("fixit", "15-Jul-2026%2012:00:00/15-Aug-2026%2012:00:00/41/201")
	require.Len(t, doc.Jobs, 2)
	require.Equal(t, "02-Aug-2026 09:00:00", doc.Jobs[1].EventDateTime)

	// An id with a leading zero is the same id.
	doc = h.eventsOK("fixit", "01-Jul-2026%2000:00:00/31-Jul-2026%2023:59:59/41/0202")
	require.Len(t, doc.Jobs, 1)

	// The request is in the request log under its op.
	var log []simulator.RequestLogEntry
	h.simOK("GET", "fixit", "/requests", nil, &log)
	require.Equal(t, simulator.OpJobEvents, log[len(log)-1].Op)
}

func TestJobEventsXMLPathIsStrict(t *testing.T) {
	h := startDev(t)
	cases := []struct {
		name, path string
		status     int
		want       string
	}{
		{"'+' for the space", "01-Jul-2026+00:00:00/02-Jul-2026%2000:00:00/41/201", 400, `startDate "01-Jul-2026+00:00:00" must be dd-MMM-yyyy HH:mm:ss`},
		{"numeric month", "01-Jul-2026%2000:00:00/02-07-2026%2000:00:00/41/201", 400, `endDate "02-07-2026 00:00:00"`},
		{"ISO date", "2026-07-01T00:00:00Z/02-Jul-2026%2000:00:00/41/201", 400, "startDate"},
		{"no seconds", "01-Jul-2026%2000:00/02-Jul-2026%2000:00:00/41/201", 400, "startDate"},
		{"end before start", "02-Jul-2026%2000:00:00/01-Jul-2026%2000:00:00/41/201", 400, "endDate 01-Jul-2026 00:00:00 is before startDate"},
		{"over a month", "01-Jul-2026%2000:00:00/01-Aug-2026%2000:00:01/41/201", 400, "longer than one month (endDate at most 01-Aug-2026 00:00:00)"},
		{"31 January + 1 month is 28 February", "31-Jan-2026%2010:00:00/01-Mar-2026%2010:00:00/41/201", 400, "at most 28-Feb-2026 10:00:00"},
		{"client ref, not id", "01-Jul-2026%2000:00:00/02-Jul-2026%2000:00:00/ACME/201", 400, `clientRef "ACME" must be the client's numeric id`},
		{"unknown client", "01-Jul-2026%2000:00:00/02-Jul-2026%2000:00:00/28/201", 404, "clientRef 28 is not a client of fixit"},
		{"an event code", "01-Jul-2026%2000:00:00/02-Jul-2026%2000:00:00/41/201,PCAN", 400, `item 1 ("PCAN") must be a numeric event id`},
		{"an empty item", "01-Jul-2026%2000:00:00/02-Jul-2026%2000:00:00/41/201,,202", 400, "item 1"},
		{"ids of the other system", "01-Jul-2026%2000:00:00/02-Jul-2026%2000:00:00/41/105,201", 400, "eventIdList: 105 is not an event id of fixit"},
		{"a missing part", "01-Jul-2026%2000:00:00/02-Jul-2026%2000:00:00/41", 404, "no such endpoint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := h.jobEvents("fixit", tc.path)
			require.Equal(t, tc.status, status, "%s", body)
			var env map[string]string
			require.NoError(t, json.Unmarshal(body, &env), "errors carry the envelope: %s", body)
			require.Equal(t, "error", env["result"])
			require.Contains(t, env["result_msg"], tc.want)
		})
	}

	// Only GET, and only with the token.
	status, _, _ := h.do(http.MethodPost, "/fixit/rest/workflow/job/jobEventsXML/01-Jul-2026%2000:00:00/02-Jul-2026%2000:00:00/41/201",
		http.Header{"Os-Rest-Auth-Token": {fixitToken}}, nil)
	require.Equal(t, http.StatusMethodNotAllowed, status)
	status, _, _ = h.do(http.MethodGet, "/fixit/rest/workflow/job/jobEventsXML/01-Jul-2026%2000:00:00/02-Jul-2026%2000:00:00/41/201", nil, nil)
	require.Equal(t, http.StatusUnauthorized, status)

	// A correct call with nothing recorded answers an empty list.
	doc := h.eventsOK("fixit", "01-Jul-2026%2000:00:00/02-Jul-2026%2000:00:00/41/201,202")
	require.Empty(t, doc.Jobs)
}

func TestSeedEventIDs(t *testing.T) {
	// dev/simulator.yaml gives every code used in o2o.example.yaml an id.
	h := startDev(t)
	jobRef, _ := h.newAcmeJob()
	for code, id := range map[string]string{"APPT": "101", "RESCH": "102", "APCAN": "103", "APCOM": "104", "SACC": "105", "SCOMP": "106", "SCAN": "107"} {
		status, resp := h.rest("acme", "POST", "/workflow/job/addEventByClientRef", map[string]any{
			"jobRef": jobRef, "clientId": "28", "sigEventCode": code, "note": "n", "date": "01-07-2026 10:00:00",
		})
		require.Equal(t, http.StatusOK, status, resp)
		doc := h.eventsOK("acme", "01-Jul-2026%2000:00:00/02-Jul-2026%2000:00:00/28/"+id)
		require.Len(t, doc.Jobs, 1, code)
		require.Equal(t, code, doc.Jobs[0].EventRef)
	}

	// A code without an id gets the next free one from 1001, in list order.
	seed := devSeed(t)
	fixit := &seed.Systems[1]
	require.Equal(t, "fixit", fixit.Name)
	fixit.EventIDs = map[string]string{"PHOLD": "1001"}
	h = newHarness(t, seed, simulator.Options{})
	for _, code := range []string{"PCAN", "PHOLD", "PNOTE"} {
		status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
		require.Equal(t, http.StatusOK, status, resp)
		status, resp = h.rest("fixit", "POST", "/workflow/job/addEventByClientRef", map[string]any{
			"jobRef": resp["jobRef"], "clientId": "41", "sigEventCode": code, "note": "n", "date": "01-07-2026 10:00:00",
		})
		require.Equal(t, http.StatusOK, status, resp)
	}
	var ids []string
	for _, ref := range []string{"FX000001", "FX000002", "FX000003"} {
		j, _ := h.app.Job("fixit", ref)
		ids = append(ids, j.History[0].EventID)
	}
	require.Equal(t, []string{"1002", "1001", "1003"}, ids)

	// Refused seeds name the problem.
	for want, ids := range map[string]map[string]string{
		`eventIds: "NOPE" is not one of the eventCodes`:  {"NOPE": "1"},
		`eventIds: PCAN: id "x1" must be a whole number`: {"PCAN": "x1"},
		`eventIds: PHOLD: id 7 is also the id of PCAN`:   {"PCAN": "7", "PHOLD": "7"},
		`eventIds: PCAN: id "07" must be a whole number`: {"PCAN": "07"},
	} {
		seed := devSeed(t)
		seed.Systems[1].EventIDs = ids
		_, err := simulator.New(seed, simulator.Options{})
		require.ErrorContains(t, err, want)
		require.ErrorContains(t, err, `system "fixit"`)
	}
}
