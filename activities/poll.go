package activities

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"time"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/oneserve"
	"github.com/o2o-sync/o2o/rules"
)

// Polling (docs/reconciliation.md, "Polling"): the Poll workflow reads a
// polled system's job events (jobEventsXML) window by window; each job
// event names a job, whose link is then reconciled, or, for an assignment
// event on a primary job with no link yet, started (discovery). What is
// read from jobEventsXML is only ever a pointer to a job: the facts come
// from reading the jobs.

// ReadJobEventsInput asks for one window of a polled system's job events.
type ReadJobEventsInput struct {
	System string    `json:"system"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
}

// PolledEvent is one job event a poll read, reduced to what the poll needs.
type PolledEvent struct {
	// Key identifies the job event: read again (windows overlap), it has
	// the same key (JobEventKey).
	Key string `json:"key"`
	// ClientID is the client whose events were read; JobRef the job, in the
	// polled system.
	ClientID string `json:"clientId"`
	JobRef   string `json:"jobRef"`
	// At is the event's date (eventDateTime).
	At time.Time `json:"at"`
	// Assignment: the event is a discovery assignment event
	// (links[].discovery.assignmentEventId) of this primary system.
	Assignment bool `json:"assignment,omitempty"`
}

// ReadJobEventsResult is what one window held.
type ReadJobEventsResult struct {
	// Events are in the order read, each key once.
	Events []PolledEvent `json:"events"`
	// Calls is how many jobEventsXML calls were made.
	Calls int `json:"calls"`
}

// ReadJobEvents reads the job events of a polled system recorded in one
// window, for every client the system's links use in it: the change events
// (systems.<name>.poll.eventIds) on the jobs of each of them, and the
// discovery assignment events on the jobs of the clients it is the primary
// of. A window longer than jobEventsXML allows is read in parts. Reading is
// all it does; a malformed answer fails it, naming the field, and nothing
// from it is used.
func (a *Activities) ReadJobEvents(ctx context.Context, in ReadJobEventsInput) (ReadJobEventsResult, error) {
	sys := a.cfg.System(in.System)
	if sys == nil || !sys.Polled() {
		return ReadJobEventsResult{}, configMissing("system %q is not polled in the configuration (events: poll or both)", in.System)
	}
	c := a.clients[in.System]
	defer keepAlive(ctx)()
	var res ReadJobEventsResult
	index := map[string]int{}
	for _, q := range pollQueries(a.cfg, in.System) {
		for _, w := range c.JobEventWindows(in.From, in.To, 0) {
			res.Calls++
			recs, err := c.JobEvents(ctx, w.From, w.To, q.clientID, q.eventIDs)
			if err != nil {
				return ReadJobEventsResult{}, classify(in.System, err)
			}
			for _, r := range recs {
				key := JobEventKey(q.clientID, r)
				if i, ok := index[key]; ok {
					res.Events[i].Assignment = res.Events[i].Assignment || q.assignment
					continue
				}
				index[key] = len(res.Events)
				res.Events = append(res.Events, PolledEvent{Key: key, ClientID: q.clientID, JobRef: r.JobRef, At: r.DateTime.UTC(), Assignment: q.assignment})
			}
		}
	}
	return res, nil
}

// pollQuery is one jobEventsXML selection a poll of a system makes.
type pollQuery struct {
	clientID   string
	eventIDs   []string
	assignment bool
}

// pollQueries lists the selections a poll of system makes, in a stable
// order: per client of its links, the change events, then the assignment
// events of the links whose primary it is (for their client).
func pollQueries(cfg *config.Config, system string) []pollQuery {
	changes, _ := cfg.PollEventIDs(system)
	var clients []string
	assignments := map[string][]string{}
	for _, l := range cfg.Links {
		switch system {
		case l.Primary.System:
			clients = append(clients, l.Primary.Client.ID)
			if id := l.Discovery.AssignmentEventID; id != "" && !slices.Contains(assignments[l.Primary.Client.ID], id) {
				assignments[l.Primary.Client.ID] = append(assignments[l.Primary.Client.ID], id)
			}
		case l.Secondary.System:
			clients = append(clients, l.Secondary.Client.ID)
		}
	}
	slices.Sort(clients)
	var out []pollQuery
	for _, c := range slices.Compact(clients) {
		if len(changes) > 0 {
			out = append(out, pollQuery{clientID: c, eventIDs: changes})
		}
		if ids := assignments[c]; len(ids) > 0 {
			out = append(out, pollQuery{clientID: c, eventIDs: ids, assignment: true})
		}
	}
	return out
}

// JobEventKey identifies a job event read through jobEventsXML, which gives
// events no id: the client, job, event code, date, who recorded it and the
// notes, hashed (a key carries no personal data and has a fixed size).
func JobEventKey(clientID string, r oneserve.JobEventRecord) string {
	h := sha256.New()
	for _, part := range []string{clientID, r.JobRef, r.EventRef, r.DateTime.UTC().Format(time.RFC3339), r.RecordedBy, r.Notes} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return base32.StdEncoding.EncodeToString(h.Sum(nil))[:20]
}

// PollLink is a link a polled system takes part in: its configuration, the
// system's side in it and the link's client in that system.
type PollLink struct {
	Link     config.Link `json:"link"`
	Side     events.Side `json:"side"`
	ClientID string      `json:"clientId"`
}

// PollLinks lists the links a polled system takes part in, in
// configuration order: the poll maps the jobs it finds to them.
func (a *Activities) PollLinks(_ context.Context, system string) ([]PollLink, error) {
	var out []PollLink
	for _, l := range a.cfg.Links {
		switch system {
		case l.Primary.System:
			out = append(out, PollLink{Link: *l, Side: events.Primary, ClientID: l.Primary.Client.ID})
		case l.Secondary.System:
			out = append(out, PollLink{Link: *l, Side: events.Secondary, ClientID: l.Secondary.Client.ID})
		}
	}
	return out, nil
}

// DiscoverInput names a primary job on which a poll found an assignment
// event, and no link.
type DiscoverInput struct {
	Link          string `json:"link"`
	PrimaryJobRef string `json:"primaryJobRef"`
	// At is when the assignment event was recorded (the events' time).
	At time.Time `json:"at"`
}

// DiscoverResult is what a discovery read found.
type DiscoverResult struct {
	// Assignments are ACTIVITY_ASSIGNED events, one per activity of the
	// job assigned to the link's team, as a webhook would have reported
	// them: Source reconcile, and an id derived from the fact's identity
	// (rules.FactKeys), the one a reconciliation gives the same fact.
	Assignments []events.Event `json:"assignments"`
	// Calls is how many API calls the read made.
	Calls int `json:"calls"`
}

// DiscoverAssignments reads a primary job and returns its activities
// assigned to the link's team, as events that start the link exactly as
// the assignment's webhook would. A job that no longer exists, or that
// belongs to another client, has none.
func (a *Activities) DiscoverAssignments(ctx context.Context, in DiscoverInput) (DiscoverResult, error) {
	l, primary, _, err := a.link(in.Link)
	if err != nil {
		return DiscoverResult{}, err
	}
	defer keepAlive(ctx)()
	res := DiscoverResult{Calls: 1}
	job, err := primary.Job(ctx, in.PrimaryJobRef)
	switch {
	case oneserve.IsNotFound(err):
		return res, nil
	case err != nil:
		return DiscoverResult{}, classify(l.Primary.System, err)
	case job.ClientID != "" && job.ClientID != l.Primary.Client.ID:
		return res, nil
	}
	at := in.At
	if at.IsZero() {
		at = time.Now().UTC()
	}
	for _, line := range job.Activities {
		if line.SupplierID != l.Primary.Team.ID {
			continue
		}
		ev := events.Event{System: l.Primary.System, Side: events.Primary, Type: events.ActivityAssigned, OccurredAt: at,
			JobRef: in.PrimaryJobRef, Source: events.FromReconcile,
			Assignment: &events.Assignment{ActivityID: line.ID, TeamID: line.SupplierID}}
		ev.ID = rules.FactID(rules.FactKeys(ev)[0])
		res.Assignments = append(res.Assignments, ev)
	}
	return res, nil
}
