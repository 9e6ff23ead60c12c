package simulator

import (
	"cmp"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// jobEventsPathLayout is jobEventsXML's path date, as the documented
// example writes it (29-May-2012%2010:30:00 once percent-encoded).
const jobEventsPathLayout = "02-Jan-2006 15:04:05"

// jobEventsXMLDoc is jobEventsXML's answer: a "job" element per event
// (docs/oneserve-api.md, "jobEventsXML"; the root's name is an assumption).
type jobEventsXMLDoc struct {
	XMLName xml.Name          `xml:"jobs"`
	Jobs    []jobEventsXMLJob `xml:"job"`
}

type jobEventsXMLJob struct {
	JobRef               string `xml:"jobRef"`
	EventRecordedBy      string `xml:"eventRecordedBy"`
	EventDateTime        string `xml:"eventDateTime"`
	EventRef             string `xml:"eventRef"`
	EventDescription     string `xml:"eventDescription"`
	EventNotes           string `xml:"eventNotes"`
	EventNoteDescription string `xml:"eventNoteDescription"`
	// Documented fields O2O does not read; sent so that clients are seen
	// to ignore what they do not use.
	EventCount string `xml:"eventCount"`
	SiteRef    string `xml:"siteRef"`
}

// jobEventsXML: GET /rest/workflow/job/jobEventsXML/{startDate}/{endDate}/{clientRef}/{eventIdList}.
// The events recorded on the client's jobs whose date is within the window
// (both ends inclusive) and whose event id is listed, oldest first (events
// with the same date in the order they were recorded), as XML. The path is
// checked strictly, so that a client bug shows as a 400 naming the part:
// dates exactly dd-MMM-yyyy HH:mm:ss (percent-encoded, UK local time), at
// most one month apart; a numeric client id of this system; event ids that
// are numbers and configured here.
func (s *Simulator) jobEventsXML(sys *system, w http.ResponseWriter, r *http.Request) {
	q, err := parseJobEventsPath(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	s.mu.Lock()
	list, err := sys.findJobEvents(q)
	s.mu.Unlock()
	if err != nil {
		writeAPIError(w, err)
		return
	}
	b, merr := xml.MarshalIndent(jobEventsDoc(list), "", "  ")
	if merr != nil {
		writeError(w, http.StatusInternalServerError, "encoding the answer: "+merr.Error())
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// jobEventsQuery is what a jobEventsXML path asks for.
type jobEventsQuery struct {
	start, end time.Time
	clientID   string
	wanted     map[string]bool // normalised event ids
}

// parseJobEventsPath checks jobEventsXML's path strictly, part by part.
func parseJobEventsPath(r *http.Request) (jobEventsQuery, *apiError) {
	start, err := jobEventsPathDate("startDate", r.PathValue("startDate"))
	if err != nil {
		return jobEventsQuery{}, err
	}
	end, err := jobEventsPathDate("endDate", r.PathValue("endDate"))
	if err != nil {
		return jobEventsQuery{}, err
	}
	if end.Before(start) {
		return jobEventsQuery{}, badRequest("endDate %s is before startDate %s", end.Format(jobEventsPathLayout), start.Format(jobEventsPathLayout))
	}
	if limit := addMonth(start); end.After(limit) {
		return jobEventsQuery{}, badRequest("the window %s to %s is longer than one month (endDate at most %s)",
			start.Format(jobEventsPathLayout), end.Format(jobEventsPathLayout), limit.Format(jobEventsPathLayout))
	}
	clientID := r.PathValue("clientRef")
	if !isWhole(clientID) {
		return jobEventsQuery{}, badRequest("clientRef %q must be the client's numeric id", clientID)
	}
	rawIDs := r.PathValue("eventIdList")
	wanted := map[string]bool{}
	for i, id := range strings.Split(rawIDs, ",") {
		if !isWhole(id) {
			return jobEventsQuery{}, badRequest("eventIdList %q: item %d (%q) must be a numeric event id", rawIDs, i, id)
		}
		wanted[normID(id)] = true
	}
	return jobEventsQuery{start, end, clientID, wanted}, nil
}

// foundEvent is an event jobEventsXML answers with.
type foundEvent struct {
	job *Job
	ev  HistoryEvent
	at  time.Time
	seq int
}

// findJobEvents lists the events q asks for, oldest first (events with the
// same date in the order they were recorded); an unknown client or event id
// is an error. s.mu must be held.
func (sys *system) findJobEvents(q jobEventsQuery) ([]foundEvent, *apiError) {
	if _, ok := sys.clients[q.clientID]; !ok {
		return nil, notFound("clientRef %s is not a client of %s", q.clientID, sys.seed.Name)
	}
	known := map[string]bool{}
	for _, id := range sys.eventIDs {
		known[normID(id)] = true
	}
	var unknown []string
	for id := range q.wanted {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, badRequest("eventIdList: %s is not an event id of %s", strings.Join(unknown, ", "), sys.seed.Name)
	}
	var list []foundEvent
	for _, job := range sys.jobs {
		if job.ClientID != q.clientID {
			continue
		}
		for _, e := range job.History {
			if !q.wanted[normID(e.EventID)] {
				continue
			}
			// Dates were validated when the events were recorded.
			at, _ := time.ParseInLocation(eventDateLayout, e.Date, london)
			if at.Before(q.start) || at.After(q.end) {
				continue
			}
			seq, _ := strconv.Atoi(e.ID)
			list = append(list, foundEvent{job, e, at, seq})
		}
	}
	slices.SortFunc(list, func(a, b foundEvent) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq)) })
	return list, nil
}

// jobEventsDoc is the XML answer listing the found events.
func jobEventsDoc(list []foundEvent) jobEventsXMLDoc {
	doc := jobEventsXMLDoc{Jobs: make([]jobEventsXMLJob, 0, len(list))}
	for _, f := range list {
		doc.Jobs = append(doc.Jobs, jobEventsXMLJob{
			JobRef: f.job.JobRef, EventRecordedBy: f.ev.AddedBy, EventDateTime: f.at.Format(jobEventsPathLayout),
			EventRef: f.ev.Code, EventDescription: f.ev.Name, EventNotes: f.ev.Note,
			EventCount: strconv.Itoa(len(list)), SiteRef: f.job.SiteRef,
		})
	}
	return doc
}

// jobEventsPathDate reads one of jobEventsXML's path dates (already
// percent-decoded), UK local time.
func jobEventsPathDate(name, v string) (time.Time, *apiError) {
	t, err := time.ParseInLocation(jobEventsPathLayout, v, london)
	if err != nil {
		return time.Time{}, badRequest("%s %q must be dd-MMM-yyyy HH:mm:ss, percent-encoded (e.g. 29-May-2012%%2010:30:00)", name, v)
	}
	return t, nil
}

// addMonth returns the same wall-clock time a calendar month later; a day
// the next month lacks becomes its last day (31 January → 28 February),
// as Java's plusMonths does.
func addMonth(t time.Time) time.Time {
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	if last := time.Date(y, m+2, 0, 0, 0, 0, 0, t.Location()).Day(); d > last {
		d = last
	}
	return time.Date(y, m+1, d, hh, mm, ss, t.Nanosecond(), t.Location())
}

// normID writes a whole number without leading zeros, so that 071 and 71
// name the same event id.
func normID(id string) string {
	n, err := strconv.ParseUint(id, 10, 63)
	if err != nil {
		return id
	}
	return strconv.FormatUint(n, 10)
}
