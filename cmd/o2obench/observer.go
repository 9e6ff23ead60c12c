package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/o2o-sync/o2o/internal/lenient"
)

// observer sits in front of the simulated systems and sees every call
// made to them: it counts the /rest calls per system, and records when
// each job event write (addEventByClientRef) and each job creation
// (createJob) succeeded — the moment the change is visible in the target
// system. It changes nothing.
type observer struct {
	next http.Handler

	mu sync.Mutex
	// calls counts /rest requests per system, whatever their outcome.
	calls map[string]int64
	// writes: "system/jobRef" → when each successful job event write
	// (of any code) to that job ended, in order.
	writes map[string][]time.Time
	// created: the client ref of each job created in a system through
	// createJob ("system/clientRef") → the job refs created for it.
	created map[string][]string
	// createdAt: the same key → when each creation ended.
	createdAt map[string][]time.Time
	creates   int64 // successful createJob calls, all systems
}

func newObserver(next http.Handler) *observer {
	return &observer{next: next, calls: map[string]int64{}, writes: map[string][]time.Time{},
		created: map[string][]string{}, createdAt: map[string][]time.Time{}}
}

const (
	pathAddEvent  = "/rest/workflow/job/addEventByClientRef"
	pathCreateJob = "/rest/workflow/job/createJob"
)

func (o *observer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	system, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || !strings.HasPrefix("/"+rest, "/rest/") {
		o.next.ServeHTTP(w, r)
		return
	}
	o.mu.Lock()
	o.calls[system]++
	o.mu.Unlock()
	path := "/" + rest
	if r.Method != http.MethodPost || (path != pathAddEvent && path != pathCreateJob) {
		o.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "observer: read body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{ResponseWriter: w}
	o.next.ServeHTTP(rec, r)
	at := time.Now()
	if rec.status() != http.StatusOK {
		return
	}
	var reply struct {
		Result string         `json:"result"`
		JobRef lenient.Scalar `json:"jobRef"`
	}
	if json.Unmarshal(rec.body.Bytes(), &reply) != nil || reply.Result != "success" {
		return // Oneserve's failure inside an HTTP 200
	}
	var in struct {
		JobRef       lenient.Scalar `json:"jobRef"`
		JobClientRef lenient.Scalar `json:"jobClientRef"`
		ClientRef    lenient.Scalar `json:"clientRef"`
	}
	_ = json.Unmarshal(body, &in)
	o.mu.Lock()
	defer o.mu.Unlock()
	switch path {
	case pathAddEvent:
		ref := string(in.JobRef)
		if ref == "" {
			ref = string(in.JobClientRef)
		}
		key := system + "/" + ref
		o.writes[key] = append(o.writes[key], at)
	case pathCreateJob:
		key := system + "/" + string(in.ClientRef)
		o.created[key] = append(o.created[key], string(reply.JobRef))
		o.createdAt[key] = append(o.createdAt[key], at)
		o.creates++
	}
}

// callsTotal is the number of /rest calls to every system so far.
func (o *observer) callsTotal() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var n int64
	for _, c := range o.calls {
		n += c
	}
	return n
}

// writesTo is when each successful job event write to system's job ref
// ended (a copy).
func (o *observer) writesTo(system, ref string) []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]time.Time(nil), o.writes[system+"/"+ref]...)
}

// writeCount is how many job events were written to each of refs.
func (o *observer) writeCounts(system string, refs []string) []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]int, len(refs))
	for i, ref := range refs {
		out[i] = len(o.writes[system+"/"+ref])
	}
	return out
}

// createdFor is the job refs created in system with the client ref.
func (o *observer) createdFor(system, clientRef string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.created[system+"/"+clientRef]...)
}

func (o *observer) createCount() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.creates
}

// recorder keeps the status and (the start of) the body of a response.
type recorder struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if r.body.Len() < 64<<10 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

// capture receives the simulated systems' webhooks and keeps them by
// webhook-id, for the bench to deliver to O2O itself.
type capture struct {
	mu     sync.Mutex
	events map[string][]byte // webhook-id → body
}

func newCapture() *capture { return &capture{events: map[string][]byte{}} }

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	id := r.Header.Get("webhook-id")
	if err != nil || id == "" {
		http.Error(w, "capture: bad webhook", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.events[id] = body
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// take removes and returns the body of the webhook with the id.
func (c *capture) take(id string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.events[id]
	delete(c.events, id)
	return b, ok
}
