package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/rules"
)

// Operator actions. The workflow offers each as a Temporal update (named
// after the action) whose validator is Validate, so the caller gets a clear
// yes or no, and as an operator signal for clients that cannot send updates.
const (
	// ActionRetry tries the event a blocked link is stuck on again (with the
	// link's configuration reloaded).
	ActionRetry = "retry"
	// ActionSkip gives up on the blocked event (recorded as failed, with the
	// error and who skipped it and why) and lets the events behind it through.
	ActionSkip = "skip"
	// ActionPause stops applying events; they queue until ActionResume.
	ActionPause = "pause"
	// ActionResume undoes ActionPause.
	ActionResume = "resume"
	// ActionUnlink stops syncing for good: both jobs stay as they are, the
	// link closes once no event is being applied, and later events for it
	// are answered, not applied.
	ActionUnlink = "unlink"
	// ActionRelease copies a document held for approval now (who and why
	// recorded), without waiting for its approval.
	ActionRelease = "release"
	// ActionDrop gives up on a document held for approval: it is never
	// copied, even if approved later.
	ActionDrop = "drop"
)

// Actions lists the operator actions; each is also the name of its update.
var Actions = []string{ActionRetry, ActionSkip, ActionPause, ActionResume, ActionUnlink, ActionRelease, ActionDrop}

// OperatorRequest is the argument of every operator action.
type OperatorRequest struct {
	// Action is only read from the operator signal; updates are named.
	Action string `json:"action,omitempty"`
	// By says who asks; it is recorded.
	By string `json:"by"`
	// Reason is recorded; skip, unlink, release and drop require it.
	Reason string `json:"reason,omitempty"`
	// DocumentID names the held document release and drop act on.
	DocumentID string `json:"documentId,omitempty"`
}

// OperatorAction is one entry of a link's operator log.
type OperatorAction struct {
	At     string `json:"at"`
	Action string `json:"action"`
	By     string `json:"by"`
	Reason string `json:"reason,omitempty"`
	// Refused holds the reason an action sent as a signal was refused.
	Refused string `json:"refused,omitempty"`
}

// maxOperatorLog bounds the operator log kept in the state.
const maxOperatorLog = 50

// Validate says whether action can be applied now, and if not, why (a
// Refusal).
func (m *Machine) Validate(action string, r OperatorRequest) error {
	if !slices.Contains(Actions, action) {
		return refuse("unknown action (one of %s)", strings.Join(Actions, ", "))
	}
	if strings.TrimSpace(r.By) == "" {
		return refuse("say who is asking (by)")
	}
	st := m.st.State
	if m.closed || m.unlink != nil {
		return refuse("link is already closed: nothing to %s", action)
	}
	switch action {
	case ActionRetry:
		if m.failure == "" {
			return refuse("link is %s, not %s: nothing to retry", st, StateNeedsAttention)
		}
		if m.retry || (m.busy != nil && m.busy.retry) {
			return refuse("the blocked event is already being retried")
		}
	case ActionSkip:
		if m.failure == "" {
			return refuse("link is %s, not %s: nothing to skip", st, StateNeedsAttention)
		}
		if m.busy != nil {
			return refuse("the blocked event is being retried right now; if it fails again, skip it then")
		}
		if strings.TrimSpace(r.Reason) == "" {
			return refuse("skipping an event needs a reason, for the record")
		}
	case ActionPause:
		if m.paused {
			return refuse("link is already paused")
		}
	case ActionResume:
		if !m.paused {
			return refuse("link is %s, not %s: nothing to resume", st, StatePaused)
		}
	case ActionUnlink:
		if strings.TrimSpace(r.Reason) == "" {
			return refuse("unlinking needs a reason, for the record")
		}
	case ActionRelease, ActionDrop:
		i := m.heldByID(r.DocumentID)
		switch {
		case strings.TrimSpace(r.DocumentID) == "":
			return refuse("say which held document (documentId)")
		case i < 0:
			return refuse("document %q: no such document is held for approval on this link", r.DocumentID)
		case m.st.HeldDocuments[i].Released:
			return refuse("document %q is already released; it is copied in its turn", r.DocumentID)
		case strings.TrimSpace(r.Reason) == "":
			return refuse("%s of a held document needs a reason, for the record", action)
		}
	}
	return nil
}

// Refusal is why an operator action was refused. Its text is made of the
// link's state, action names and document ids only, never of tenants' data,
// so payload encryption leaves it readable (PlainText): the Web UI's update
// dialog, which cannot decode an encrypted failure, shows it as it is.
type Refusal string

func (r Refusal) Error() string { return string(r) }

// PlainText marks a Refusal as safe to store unencrypted.
func (Refusal) PlainText() {}

func refuse(format string, args ...any) error { return Refusal(fmt.Sprintf(format, args...)) }

// Operate applies an action Validate accepted and returns what the caller
// is told. The action is written to the operator log.
func (m *Machine) Operate(now time.Time, action string, r OperatorRequest) string {
	if err := m.Validate(action, r); err != nil {
		panic("lifecycle: Operate without Validate: " + err.Error())
	}
	m.logOperator(now, OperatorAction{Action: action, By: r.By, Reason: r.Reason})
	var answer string
	switch action {
	case ActionRetry:
		m.retry, m.reload = true, true
		answer = "retrying the blocked event"
		if m.paused {
			answer += " once the link is resumed"
		}
	case ActionSkip:
		ev := m.queue[0]
		m.finish(now, ev, newRecord(ev, now, OutcomeFailed, fmt.Sprintf("failed: %s; skipped by %s: %s", m.failure, r.By, r.Reason)), true)
		answer = fmt.Sprintf("skipped event %s; %d event(s) behind it go ahead", ev.ID, len(m.queue))
	case ActionPause:
		m.paused = true
		answer = "paused; events queue until resumed"
	case ActionResume:
		m.paused = false
		answer = fmt.Sprintf("resumed; %d queued event(s) go ahead", len(m.queue))
	case ActionUnlink:
		u := r
		m.unlink = &u
		answer = "unlinking: both jobs stay as they are; the link closes"
	case ActionRelease:
		h := &m.st.HeldDocuments[m.heldByID(r.DocumentID)]
		h.Released = true
		m.Deliver(now, events.Event{ID: "release:" + string(h.Side) + ":" + h.DocumentID, System: h.System, Side: h.Side,
			Type: events.DocumentReleased, OccurredAt: now, JobRef: h.JobRef, Source: "operator",
			Document: &events.Document{DocumentID: h.DocumentID, FileName: h.FileName, Category: h.Category, Size: h.Size, SHA256: h.SHA256}})
		answer = fmt.Sprintf("released document %s; it is copied in its turn", h.DocumentID)
	case ActionDrop:
		h := m.st.HeldDocuments[m.heldByID(r.DocumentID)]
		m.unhold(h.Side, h.DocumentID)
		m.known.add(rules.DroppedDocumentKey(h.Side, h.DocumentID))
		answer = fmt.Sprintf("dropped document %s; it will not be copied", h.DocumentID)
	}
	m.settle(now)
	return answer
}

// Refuse writes an action that was refused to the operator log (for
// actions sent as signals, whose sender cannot be answered).
func (m *Machine) Refuse(now time.Time, r OperatorRequest, why error) {
	m.logOperator(now, OperatorAction{Action: r.Action, By: r.By, Reason: r.Reason, Refused: why.Error()})
	m.settle(now)
}

func (m *Machine) logOperator(now time.Time, a OperatorAction) {
	a.At = now.UTC().Format("2006-01-02T15:04:05Z")
	m.st.OperatorLog = append(m.st.OperatorLog, a)
	if over := len(m.st.OperatorLog) - maxOperatorLog; over > 0 {
		m.st.OperatorLog = slices.Delete(m.st.OperatorLog, 0, over)
	}
}
