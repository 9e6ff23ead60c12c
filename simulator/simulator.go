// Package simulator simulates Oneserve systems (tenants) for O2O: their
// legacy REST API as docs/oneserve-api.md describes it, a control surface
// for acting as a user of each system, and signed, ordered, retried delivery
// of their Integration Events to a webhook URL.
//
// It is used by `make run` (cmd/oneserve-sim), by end-to-end tests over HTTP
// and by benchmarks, so it validates requests the way the real system would
// and answers with the same envelope and status codes, including the awkward
// ones (an application error inside an HTTP 200).
//
// One Simulator hosts several named systems. Each lives under the path
// prefix /{system}, so its Oneserve base URL is http://host:port/{system}.
//
// The Oneserve API, with the OS-REST-AUTH-TOKEN header (401 otherwise):
//
//	POST /{system}/rest/workflow/job/createJob
//	POST /{system}/rest/workflow/job/addEventByClientRef
//	POST /{system}/rest/workflow/activity/addActivityByClientRef
//	GET  /{system}/rest/workflow/job/{jobRef}
//	GET  /{system}/rest/workflow/job/jobEventsXML/{startDate}/{endDate}/{clientRef}/{eventIdList}  (XML)
//	GET  /{system}/rest/contact/sites/{clientId}/{siteRef}
//	GET  /{system}/rest/activities?ids=a,b (at most 20)
//	GET  /{system}/rest/activities/{id}
//	GET  /{system}/rest/documents/job/{jobRef}
//	POST /{system}/rest/documents/job/{jobRef}?fileName=&category=&clientRef=
//	GET  /{system}/rest/documents/{documentId}/content
//
// The control surface (JSON, no token). Changes are made as SimActor and
// emit their Integration Event; answers carry its id as "eventId":
//
//	POST   /{system}/sim/sites                         add a site (no event)
//	POST   /{system}/sim/contacts                      add a contact {"contactRef","name"} (no event)
//	POST   /{system}/sim/sorCodes                      add an SOR code {"clientId","code","description"} (no event)
//	POST   /{system}/sim/jobs                          create a job (no event)
//	GET    /{system}/sim/jobs[?clientRef=]             jobs with everything on them
//	GET    /{system}/sim/jobs/{jobRef}
//	POST   /{system}/sim/activities/{id}/assign        {"teamId"}
//	DELETE /{system}/sim/activities/{id}               delete a line (no event)
//	DELETE /{system}/sim/jobs/{jobRef}                 delete a job (no event)
//	POST   /{system}/sim/jobs/{jobRef}/status          {"status"} or {"statusId"}
//	POST   /{system}/sim/jobs/{jobRef}/appointments    {"start","end"} (RFC 3339)
//	POST   /{system}/sim/appointments/{id}/reschedule  {"start","end","reason"}
//	POST   /{system}/sim/appointments/{id}/cancel      {"reason"}
//	POST   /{system}/sim/appointments/{id}/complete    {}
//	POST   /{system}/sim/jobs/{jobRef}/documents?category=&fileName=[&clientRef=]  raw body
//	POST   /{system}/sim/documents/{documentId}/approve  {"reason"} (optional)
//	POST   /{system}/sim/documents/{documentId}/reject   {"reason"} (required)
//	GET    /{system}/sim/outbox                        events and their delivery
//	GET    /{system}/sim/requests                      the /rest request log
//	GET    /{system}/sim/faults                        active faults
//	POST   /{system}/sim/faults                        {"op","status","count","retryAfter","delay","message","after"}
//	                                                   or {"op":"deliver","drop","types","seed","count"}: webhooks never sent
//	DELETE /{system}/sim/faults
//	GET    /{system}/sim/dropped                       webhooks a deliver fault dropped
//	POST   /{system}/sim/dropped/{id}/deliver          send a dropped webhook late, with its webhook-id
//
// A system whose seed says events: poll sends no webhooks at all: its
// events are only recorded in its outbox.
//
// GET / is the console (console.go): an HTML page showing every system and
// acting in it as a user would, through HTML forms posted to
// /{system}/console/... that make the same changes as the /sim actions;
// GET /healthz answers ok.
package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
	_ "time/tzdata" // Oneserve dates are UK local time; don't depend on the host's zoneinfo.
)

// london is the zone of every Oneserve date string.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("simulator: " + err.Error()) // embedded by time/tzdata
	}
	return loc
}()

// Options tune a Simulator. The zero value is ready to use.
type Options struct {
	// Logger receives one line per emitted event and per delivery result.
	// Tokens and secrets are never logged. Default: discard.
	Logger *slog.Logger
	// HTTPClient sends webhooks. Redirects are never followed, whatever the
	// client says, and each attempt is limited to 10 seconds.
	// Default: a client with no other settings.
	HTTPClient *http.Client
	// Now is the simulated clock for job dates and event timestamps.
	// Default: time.Now.
	Now func() time.Time
	// RetrySchedule is the wait after each failed delivery attempt; its last
	// entry repeats. A larger Retry-After from the receiver wins.
	// Default: DefaultRetrySchedule.
	RetrySchedule []time.Duration
	// MaxAttempts is how many times an event is tried before it is marked
	// failed and the next one is sent. Default: DefaultMaxAttempts.
	MaxAttempts int
	// OutboxLimit is how many finished (delivered, failed, recorded)
	// events each system's outbox remembers; older ones are forgotten.
	// Default: 10,000.
	OutboxLimit int
	// Console says where O2O is, for the console's links to each linked
	// job's workflow and link state. Default: no such links.
	Console Console
}

// Simulator hosts simulated Oneserve systems. It is safe for concurrent use.
type Simulator struct {
	// mu guards all systems' data and outboxes.
	mu      sync.Mutex
	systems map[string]*system
	order   []*system // seed order, for listings
	// changed is closed and replaced whenever an outbox changes, so that
	// WaitDelivered can wait without polling.
	changed chan struct{}

	log         *slog.Logger
	client      *http.Client
	now         func() time.Time
	schedule    []time.Duration
	maxAttempts int
	docDir      string
	handler     http.Handler
	console     Console

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New validates the seed, creates the systems and starts one webhook sender
// per system that has a webhook URL. Call Close to stop them.
func New(seed Seed, opts Options) (*Simulator, error) {
	if err := seed.Validate(); err != nil {
		return nil, fmt.Errorf("simulator: seed: %w", err)
	}
	for _, d := range opts.RetrySchedule {
		if d <= 0 {
			return nil, errors.New("simulator: every RetrySchedule entry must be positive")
		}
	}
	s := &Simulator{
		systems:     map[string]*system{},
		changed:     make(chan struct{}),
		log:         opts.Logger,
		now:         opts.Now,
		schedule:    slices.Clone(opts.RetrySchedule),
		maxAttempts: opts.MaxAttempts,
		console:     opts.Console,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if len(s.schedule) == 0 {
		s.schedule = slices.Clone(DefaultRetrySchedule)
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = DefaultMaxAttempts
	}
	// A shallow copy, so that the caller's client keeps its own redirect
	// policy. A sender must not follow redirects: a 3xx is a failed attempt.
	client := http.Client{}
	if opts.HTTPClient != nil {
		client = *opts.HTTPClient
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = &client

	dir, err := os.MkdirTemp("", "oneserve-sim-")
	if err != nil {
		return nil, fmt.Errorf("simulator: document directory: %w", err)
	}
	s.docDir = dir

	for _, ss := range seed.Systems {
		sys := newSystem(s, ss)
		if opts.OutboxLimit > 0 {
			sys.outbox.limit = opts.OutboxLimit
		}
		s.systems[ss.Name] = sys
		s.order = append(s.order, sys)
	}
	s.handler = s.routes()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, sys := range s.order {
		if sys.seed.sendsWebhooks() {
			s.wg.Add(1)
			go s.deliver(sys)
		}
	}
	return s, nil
}

// Handler returns the HTTP handler serving every system, the /sim control
// surface and the console.
func (s *Simulator) Handler() http.Handler { return s.handler }

// Close stops the webhook senders, waits for them, and deletes the stored
// documents. Undelivered events are dropped. Stop the HTTP server first.
func (s *Simulator) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		if err := os.RemoveAll(s.docDir); err != nil {
			s.log.Warn("removing document directory", "error", err)
		}
	})
}

// Systems returns the system names, in seed order.
func (s *Simulator) Systems() []string {
	names := make([]string, len(s.order))
	for i, sys := range s.order {
		names[i] = sys.seed.Name
	}
	return names
}

// Job returns a copy of a job, as GET /{system}/sim/jobs/{jobRef} shows it.
func (s *Simulator) Job(system, jobRef string) (Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sys := s.systems[system]
	if sys == nil || sys.jobsByRef[jobRef] == nil {
		return Job{}, false
	}
	return sys.jobsByRef[jobRef].snapshot(), true
}

// Outbox returns copies of a system's remembered events, in the order they
// were produced. Nil for an unknown system.
func (s *Simulator) Outbox(system string) []OutboxEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	sys := s.systems[system]
	if sys == nil {
		return nil
	}
	return sys.outbox.list()
}

// notifyLocked wakes WaitDelivered callers. s.mu must be held.
func (s *Simulator) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Simulator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveUI)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.restRoutes(mux)
	s.simRoutes(mux)
	s.dropRoutes(mux)
	s.consoleRoutes(mux)
	return mux
}
