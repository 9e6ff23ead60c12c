package workflows

import (
	"time"

	"github.com/o2o-sync/o2o/events"
)

// State is where a link is in its life.
type State string

// The link states (contract: DESIGN.md §3).
const (
	// StateLinking: the linked job is being created.
	StateLinking State = "Linking"
	// StateLinked: both jobs exist and events flow.
	StateLinked State = "Linked"
	// StateNeedsAttention: an event failed in a way retrying will not fix;
	// later events wait behind it until an operator retries or skips it.
	StateNeedsAttention State = "NeedsAttention"
	// StatePaused: an operator paused the link; events queue.
	StatePaused State = "Paused"
	// StateClosed: the link has finished.
	StateClosed State = "Closed"
)

// Outcome is what became of one event.
type Outcome string

// The outcomes (contract). Skipped: the rules say there is nothing to do
// (the reason is in the detail). Failed: it could not be applied and an
// operator gave up on it (skip).
const (
	OutcomeApplied   Outcome = "applied"
	OutcomeSkipped   Outcome = "skipped"
	OutcomeDuplicate Outcome = "duplicate"
	OutcomeFailed    Outcome = "failed"
)

// LinkState is the answer to the linkState query and to
// GET /links/{link}/{primaryJobRef}.
type LinkState struct {
	Link            string `json:"link"`
	PrimaryJobRef   string `json:"primaryJobRef"`
	SecondaryJobRef string `json:"secondaryJobRef"`
	State           State  `json:"state"`
	// LastError is the message of the failure the link is blocked on, if any.
	LastError string `json:"lastError"`
	// Events lists processed events, oldest first. Only the newest
	// MaxEventRecords are kept; EventsDropped counts the ones let go.
	Events        []EventRecord `json:"events"`
	EventsDropped int           `json:"eventsDropped,omitempty"`
	// Pending is the number of events received but not yet processed.
	Pending int `json:"pending"`
	// LinkedActivities are the primary activity ids on the linked job.
	LinkedActivities []string `json:"linkedActivities,omitempty"`
	// PrimaryEnded and SecondaryEnded say whether each side's job is in one
	// of its end statuses; PrimaryCancelled whether the primary cancelled it.
	PrimaryEnded     bool `json:"primaryEnded"`
	SecondaryEnded   bool `json:"secondaryEnded"`
	PrimaryCancelled bool `json:"primaryCancelled"`
	// ClosesAt is when the link closes, once the job has ended; ClosingReason says why.
	ClosesAt      *time.Time `json:"closesAt,omitempty"`
	ClosingReason string     `json:"closingReason,omitempty"`
	// PausedFrom is the state a paused link resumes into.
	PausedFrom State `json:"pausedFrom,omitempty"`
	// OperatorLog lists the latest operator actions, accepted or refused.
	OperatorLog []OperatorAction `json:"operatorLog,omitempty"`
	UpdatedAt   time.Time        `json:"updatedAt"`
}

// EventRecord is one processed event.
type EventRecord struct {
	ID          string      `json:"id"`
	Type        events.Type `json:"type"`
	Direction   string      `json:"direction"`
	Outcome     Outcome     `json:"outcome"`
	Detail      string      `json:"detail"`
	OccurredAt  time.Time   `json:"occurredAt"`
	ProcessedAt time.Time   `json:"processedAt"`
}

// MaxEventRecords bounds the event list kept in a link's state, so that a
// link that lives for years keeps a small, serialisable state.
const MaxEventRecords = 500

// maxSeenIDs bounds the event-id memory used to drop redeliveries. It is far
// larger than any sender's redelivery window for one job.
const maxSeenIDs = 5000

func (s *LinkState) record(r EventRecord) {
	s.Events = append(s.Events, r)
	if over := len(s.Events) - MaxEventRecords; over > 0 {
		s.Events = append([]EventRecord(nil), s.Events[over:]...)
		s.EventsDropped += over
	}
}

// seenIDs remembers the most recent event ids, oldest first. It is a plain
// slice so that it serialises deterministically through continue-as-new; the
// index is rebuilt on load.
type seenIDs struct {
	order []string
	index map[string]bool
}

func newSeenIDs(ids []string) *seenIDs {
	s := &seenIDs{index: make(map[string]bool, len(ids))}
	for _, id := range ids {
		s.add(id)
	}
	return s
}

func (s *seenIDs) has(id string) bool { return s.index[id] }

func (s *seenIDs) add(id string) {
	if s.index[id] {
		return
	}
	s.order = append(s.order, id)
	s.index[id] = true
	if len(s.order) > maxSeenIDs {
		delete(s.index, s.order[0])
		s.order = s.order[1:]
	}
}
