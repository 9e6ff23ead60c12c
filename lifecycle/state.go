package lifecycle

import (
	"slices"
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
// (the reason is in the detail). Failed: it was tried, the target refused
// it, and an operator gave up on it (skip) or unlinked the link.
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
	// PrimaryStatus and SecondaryStatus are the jobs' statuses as the link
	// last learned them (from an event or a read), with when they changed.
	PrimaryStatus     string     `json:"primaryStatus,omitempty"`
	PrimaryStatusAt   *time.Time `json:"primaryStatusAt,omitempty"`
	SecondaryStatus   string     `json:"secondaryStatus,omitempty"`
	SecondaryStatusAt *time.Time `json:"secondaryStatusAt,omitempty"`
	// Versions are the job's versions on each side the link knows of
	// (variations), oldest first; SecondaryAliases the refs the linked job's
	// superseded versions took (primary and secondary).
	Versions         []VersionRecord `json:"versions,omitempty"`
	PrimaryAliases   []string        `json:"primaryAliases,omitempty"`
	SecondaryAliases []string        `json:"secondaryAliases,omitempty"`
	// HeldDocuments are documents waiting for approval in their source
	// (documentApproval), oldest first.
	HeldDocuments []HeldDocument `json:"heldDocuments,omitempty"`
	// PausedFrom is the state a paused link resumes into.
	PausedFrom State `json:"pausedFrom,omitempty"`
	// NextStep says what an operator can do, when the link waits for one.
	NextStep string `json:"nextStep,omitempty"`
	// OperatorLog lists the latest operator actions, accepted or refused.
	OperatorLog []OperatorAction `json:"operatorLog,omitempty"`
	UpdatedAt   time.Time        `json:"updatedAt"`
}

// EventRecord is one processed event.
type EventRecord struct {
	ID        string      `json:"id"`
	Type      events.Type `json:"type"`
	Direction string      `json:"direction"`
	Outcome   Outcome     `json:"outcome"`
	Detail    string      `json:"detail"`
	// Source is where the event came from: "" for a webhook, "reconcile".
	Source      string    `json:"source,omitempty"`
	OccurredAt  time.Time `json:"occurredAt"`
	ProcessedAt time.Time `json:"processedAt"`
}

// MaxEventRecords bounds the event list kept in a link's state, so that a
// link that lives for years keeps a small, serialisable state.
const MaxEventRecords = 500

func (s *LinkState) record(r EventRecord) {
	s.Events = append(s.Events, r)
	if over := len(s.Events) - MaxEventRecords; over > 0 {
		s.Events = append([]EventRecord(nil), s.Events[over:]...)
		s.EventsDropped += over
	}
}

// HeldDocument is a document waiting for approval before it is copied.
type HeldDocument struct {
	Side       events.Side `json:"side"`
	System     string      `json:"system"`
	JobRef     string      `json:"jobRef"`
	DocumentID string      `json:"documentId"`
	FileName   string      `json:"fileName"`
	Category   string      `json:"category"`
	Size       int64       `json:"size,omitempty"`
	SHA256     string      `json:"sha256,omitempty"`
	// Since is when it was uploaded; EventID the upload event.
	Since   time.Time `json:"since"`
	EventID string    `json:"eventId"`
	// Released: an operator released it; it is copied in its turn.
	Released bool `json:"released,omitempty"`
}

// VersionRecord is one version of the job on one side.
type VersionRecord struct {
	Side   events.Side `json:"side"`
	Number int         `json:"number"`
	Status string      `json:"status"`
	// RaisedBy is the side a user raised it on; Counterpart its linked
	// version's number on the other side (0 while there is none).
	RaisedBy    events.Side `json:"raisedBy"`
	Counterpart int         `json:"counterpart,omitempty"`
	// PreviousJobRef is the ref the version it superseded took.
	PreviousJobRef string              `json:"previousJobRef,omitempty"`
	Lines          []events.LineChange `json:"lines,omitempty"`
	Reason         string              `json:"reason,omitempty"`
}

// VariationPending reports whether a version waits for a decision.
func (s LinkState) VariationPending() bool {
	for _, v := range s.Versions {
		if v.Status == "New" || v.Status == "Pending" {
			return true
		}
	}
	return false
}

// AliasRefs lists the refs the superseded versions of both jobs took.
func (s LinkState) AliasRefs() []string {
	return append(slices.Clone(s.PrimaryAliases), s.SecondaryAliases...)
}
