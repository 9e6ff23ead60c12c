// jobEventsXML: the documented way to read job events
// (GET /rest/workflow/job/jobEventsXML/{startDate}/{endDate}/{clientRef}/{eventIdList}),
// O2O's polling source. What Oneserve documents is followed exactly; where
// it is silent (the XML root, the eventDateTime layout, the envelope, the
// window's ends) the choices are marked ASSUMPTION here and listed in
// docs/oneserve-api.md ("jobEventsXML").

package oneserve

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// JobEventsPathDateLayout is how jobEventsXML's path dates are written, in
// the client's Location, as the documented example does
// (29-May-2012%2010:30:00 once percent-encoded).
const JobEventsPathDateLayout = "02-Jan-2006 15:04:05"

// jobEventsDateTimeLayouts are tried in order when reading eventDateTime,
// in the client's Location. ASSUMPTION: the first, the layout of the path
// dates; the others (addEventByClientRef's layout, slashes, no seconds,
// ISO 8601 without an offset) keep a small difference in the real
// endpoint from making every event unreadable. An ISO 8601 date with an
// offset (xs:dateTime, as a Java XML binding writes it) is read as the
// instant it names.
var jobEventsDateTimeLayouts = []string{
	JobEventsPathDateLayout, "02-Jan-2006 15:04",
	EventDateLayout, "02-01-2006 15:04",
	"02/01/2006 15:04:05", "02/01/2006 15:04",
	"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05",
}

// maxJobEventsResponse bounds a jobEventsXML answer read into memory. A
// month of a busy tenant's events (eventNotes is unbounded) can be far
// larger than any JSON answer; a larger answer is refused, asking for
// shorter windows (JobEventWindows' size).
const maxJobEventsResponse = 64 << 20

// maxNumericID is the longest numeric id accepted in a path.
const maxNumericID = 18

// JobEventRecord is one job event as jobEventsXML returns it (one "job"
// element). Fields are the documented element names.
type JobEventRecord struct {
	// JobRef is the job's reference (jobRef).
	JobRef string
	// RecordedBy is who recorded the event, forename and surname
	// (eventRecordedBy).
	RecordedBy string
	// DateTime is the event's date and time (eventDateTime), read in the
	// client's Location.
	DateTime time.Time
	// EventRef is the event's code, at most 6 characters (eventRef): the
	// sigEventCode addEventByClientRef writes, not the numeric event id.
	EventRef string
	// Description is the event's name (eventDescription).
	Description string
	// Notes is the event's text (eventNotes), kept as sent.
	Notes string
	// NoteDescription is the name of the configured note, if any
	// (eventNoteDescription).
	NoteDescription string
}

// Window is a time range for jobEventsXML: both ends are sent to the second.
type Window struct {
	From, To time.Time
}

// JobEvents reads the events whose numeric event ids are in eventIDs,
// recorded between from and to on the jobs of the client with numeric id
// clientID (jobEventsXML). Oneserve allows at most one month between from
// and to; a longer window is refused here, without calling (split it with
// JobEventWindows). Both dates are sent to the second in the client's
// Location (sub-seconds are dropped), and, ASSUMPTION, both ends are
// inclusive: contiguous windows read the boundary second twice, so callers
// de-duplicate. The events come back in the order the system sends them.
//
// A malformed answer (not XML, a job without jobRef or eventRef, an
// eventDateTime that cannot be read) is a permanent error naming the field
// and the job; nothing is returned from it.
func (c *Client) JobEvents(ctx context.Context, from, to time.Time, clientID string, eventIDs []string) ([]JobEventRecord, error) {
	const op = "jobEventsXML"
	switch {
	case from.IsZero() || to.IsZero():
		return nil, invalid(op, "from and to are required")
	case !to.After(from):
		return nil, invalid(op, "to (%s) must be after from (%s)", c.pathDate(to), c.pathDate(from))
	case !isNumericID(clientID):
		return nil, invalid(op, "clientID %q must be the client's numeric id", clientID)
	case len(eventIDs) == 0:
		return nil, invalid(op, "at least one event id is required")
	}
	for i, id := range eventIDs {
		if !isNumericID(id) {
			return nil, invalid(op, "eventIDs[%d] %q must be a numeric event id (not an event code)", i, id)
		}
	}
	if limit := c.monthAfter(from); to.Truncate(time.Second).After(limit) {
		return nil, invalid(op, "window %s to %s is longer than one month, Oneserve's limit (at most %s); split it with JobEventWindows",
			c.pathDate(from), c.pathDate(to), c.pathDate(limit))
	}
	path := "/rest/workflow/job/jobEventsXML/" + url.PathEscape(c.pathDate(from)) + "/" + url.PathEscape(c.pathDate(to)) +
		"/" + clientID + "/" + strings.Join(eventIDs, ",")
	prepare := func(req *http.Request) *Error {
		req.Header.Set("Accept", "application/xml, text/xml;q=0.9, */*;q=0.1")
		// The documented example encodes the dates' space as %20 and
		// leaves the colons and commas as they are; make sure the request
		// line carries exactly that (net/http would re-encode a path it
		// does not take as already escaped).
		if !strings.HasSuffix(req.URL.EscapedPath(), path) {
			return invalid(op, "request path %q is not the one built (%q)", req.URL.EscapedPath(), path)
		}
		return nil
	}
	var out []JobEventRecord
	err := c.do(ctx, op, http.MethodGet, path, "", nil, maxJobEventsResponse, prepare, func(code int, b []byte) error {
		var err error
		out, err = c.decodeJobEvents(op, code, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// JobEventWindows splits from–to into contiguous windows that each
// JobEvents accepts: each shorter than one month (in the client's
// Location), and no longer than size when size > 0. Each window starts
// where the previous one ended, so a reader that de-duplicates misses
// nothing whether the system treats the end as inclusive or exclusive.
// No windows when to is not after from.
func (c *Client) JobEventWindows(from, to time.Time, size time.Duration) []Window {
	if size > 0 && size < time.Second {
		size = time.Second // the dates are sent to the second
	}
	var out []Window
	for start := from; to.After(start); {
		end := c.monthAfter(start).Add(-time.Second)
		if size > 0 && start.Add(size).Before(end) {
			end = start.Add(size)
		}
		if to.Before(end) {
			end = to
		}
		out = append(out, Window{From: start, To: end})
		start = end
	}
	return out
}

// pathDate writes t as jobEventsXML's path dates, before encoding.
func (c *Client) pathDate(t time.Time) string { return formatDate(t, c.loc, JobEventsPathDateLayout) }

// monthAfter returns the same wall-clock time one calendar month after t
// (to the second, in the client's Location), the end of the longest
// window Oneserve allows from t. A day that the next month lacks becomes
// its last day (31 January → 28 or 29 February), the way Java's
// plusMonths does, rather than spilling into the month after.
func (c *Client) monthAfter(t time.Time) time.Time {
	return addMonth(t.In(c.loc).Truncate(time.Second))
}

func addMonth(t time.Time) time.Time {
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	if last := time.Date(y, m+2, 0, 0, 0, 0, 0, t.Location()).Day(); d > last {
		d = last
	}
	return time.Date(y, m+1, d, hh, mm, ss, 0, t.Location())
}

// isNumericID reports whether s is a whole number as the API's ids are.
func isNumericID(s string) bool {
	if s == "" || len(s) > maxNumericID {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// jobEventsWire is jobEventsXML's answer. ASSUMPTION: a root element of
// any name (not checked) whose "job" children are the events; no
// result/result_msg envelope, but one is checked when present. Elements
// not named here (eventCount, ownerName, siteRef, ...) are ignored.
type jobEventsWire struct {
	Result    string         `xml:"result"`
	ResultMsg string         `xml:"result_msg"`
	Jobs      []jobEventWire `xml:"job"`
}

type jobEventWire struct {
	JobRef               string `xml:"jobRef"`
	EventRecordedBy      string `xml:"eventRecordedBy"`
	EventDateTime        string `xml:"eventDateTime"`
	EventRef             string `xml:"eventRef"`
	EventDescription     string `xml:"eventDescription"`
	EventNotes           string `xml:"eventNotes"`
	EventNoteDescription string `xml:"eventNoteDescription"`
}

// decodeJobEvents reads a 2xx jobEventsXML answer.
func (c *Client) decodeJobEvents(op string, code int, body []byte) ([]JobEventRecord, error) {
	bad := func(format string, args ...any) *Error {
		return &Error{Op: op, StatusCode: code, Kind: KindPermanent, Message: c.clean(fmt.Sprintf(format, args...))}
	}
	if len(body) > maxJobEventsResponse {
		return nil, bad("answer larger than %d MiB; read shorter windows", maxJobEventsResponse>>20)
	}
	trimmed := bytes.TrimSpace(body)
	if bytes.HasPrefix(trimmed, []byte("{")) {
		// A JSON answer is the envelope of the other endpoints: a refusal
		// carries its reason; anything else is not what was asked for.
		var env envelope
		if json.Unmarshal(trimmed, &env) == nil && env.Result != "" && !strings.EqualFold(strings.TrimSpace(string(env.Result)), "success") {
			return nil, bad("%s", cmp.Or(string(env.ResultMsg), "result "+string(env.Result)))
		}
		return nil, bad("answer is JSON, not the expected XML")
	}
	var out jobEventsWire
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&out); err != nil {
		return nil, &Error{Op: op, StatusCode: code, Kind: KindPermanent, Message: c.clean("answer is not the expected XML: " + err.Error()), Err: err}
	}
	if r := strings.TrimSpace(out.Result); r != "" && !strings.EqualFold(r, "success") {
		return nil, bad("%s", cmp.Or(strings.TrimSpace(out.ResultMsg), "result "+r))
	}
	events := make([]JobEventRecord, 0, len(out.Jobs))
	for i, j := range out.Jobs {
		jobRef := strings.TrimSpace(j.JobRef)
		where := fmt.Sprintf("job[%d]", i)
		if jobRef == "" {
			return nil, bad("%s: jobRef is missing", where)
		}
		where = fmt.Sprintf("job[%d] (jobRef %s)", i, jobRef)
		eventRef := strings.TrimSpace(j.EventRef)
		if eventRef == "" {
			return nil, bad("%s: eventRef is missing", where)
		}
		at, err := c.parseEventDateTime(j.EventDateTime)
		if err != nil {
			return nil, &Error{Op: op, StatusCode: code, Kind: KindPermanent, Message: c.clean(where + ": eventDateTime " + err.Error()), Err: err}
		}
		events = append(events, JobEventRecord{
			JobRef: jobRef, RecordedBy: strings.TrimSpace(j.EventRecordedBy), DateTime: at, EventRef: eventRef,
			Description: strings.TrimSpace(j.EventDescription), Notes: j.EventNotes,
			NoteDescription: strings.TrimSpace(j.EventNoteDescription),
		})
	}
	return events, nil
}

// parseEventDateTime reads an eventDateTime: an ISO 8601 date with an
// offset as the instant it names, else one of jobEventsDateTimeLayouts in
// the client's Location. Empty text is an error: every event has a date.
func (c *Client) parseEventDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("is missing")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(c.loc), nil
	}
	for _, l := range jobEventsDateTimeLayouts {
		if t, err := time.ParseInLocation(l, s, c.loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date like 29-May-2012 10:30:00", s)
}

// charsetReader lets the XML decoder read the single-byte encodings a Java
// server may declare (ISO-8859-1, US-ASCII) besides UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii":
		return &latin1Reader{r: in}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (UTF-8 or ISO-8859-1 expected)", label)
}

// latin1Reader converts ISO-8859-1 bytes (each byte one code point) to UTF-8.
type latin1Reader struct {
	r   io.Reader
	buf []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(p) < 2 {
		return 0, io.ErrShortBuffer
	}
	if cap(l.buf) < len(p)/2 {
		l.buf = make([]byte, len(p)/2)
	}
	n, err := l.r.Read(l.buf[:len(p)/2])
	out := p[:0]
	for _, b := range l.buf[:n] {
		if b < 0x80 {
			out = append(out, b)
		} else {
			out = append(out, 0xC0|b>>6, 0x80|b&0x3F)
		}
	}
	return len(out), err
}
