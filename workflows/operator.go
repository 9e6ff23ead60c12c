package workflows

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/rules"
)

// Operator actions. Each is a Temporal update whose validator refuses it
// (with the reason) when it does not apply, so the caller gets a clear yes
// or no. The same actions can be sent as the SignalOperator signal — which
// the Temporal Web UI can send — with the outcome, accepted or refused,
// written to the link's operator log.
const (
	// ActionRetry retries the event a link that needs attention is blocked on.
	ActionRetry = "retry"
	// ActionSkip gives up on the blocked event (recorded as failed, with the
	// error and who skipped it and why) and lets the events behind it through.
	ActionSkip = "skip"
	// ActionPause stops applying events; they queue until ActionResume.
	ActionPause = "pause"
	// ActionResume undoes ActionPause.
	ActionResume = "resume"
	// ActionUnlink stops syncing for good: both jobs stay as they are, the
	// link closes at once, and later events for it are answered, not applied.
	ActionUnlink = "unlink"

	// SignalOperator carries an OperatorRequest as a signal.
	SignalOperator = "operator"
)

// Actions lists the operator actions; each is also the name of its update.
var Actions = []string{ActionRetry, ActionSkip, ActionPause, ActionResume, ActionUnlink}

// OperatorRequest is the argument of every operator action.
type OperatorRequest struct {
	// Action is only read from the SignalOperator signal; updates are named.
	Action string `json:"action,omitempty"`
	// By says who asks; it is recorded.
	By string `json:"by"`
	// Reason is recorded; skip and unlink require it.
	Reason string `json:"reason,omitempty"`
}

// RetryRequest is the argument of the retry update (an OperatorRequest).
type RetryRequest = OperatorRequest

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

// validate says whether action can be applied now, and if not, why.
func (w *linkedJob) validate(action string, r OperatorRequest) error {
	if strings.TrimSpace(r.By) == "" {
		return fmt.Errorf("say who is asking (by)")
	}
	st := w.state.State
	switch action {
	case ActionRetry:
		if st != StateNeedsAttention {
			return fmt.Errorf("link is %s, not %s: nothing to retry", st, StateNeedsAttention)
		}
	case ActionSkip:
		if st != StateNeedsAttention {
			return fmt.Errorf("link is %s, not %s: nothing to skip", st, StateNeedsAttention)
		}
		if strings.TrimSpace(r.Reason) == "" {
			return fmt.Errorf("skipping an event needs a reason, for the record")
		}
	case ActionPause:
		if st == StatePaused || st == StateClosed {
			return fmt.Errorf("link is %s: it cannot be paused", st)
		}
	case ActionResume:
		if st != StatePaused {
			return fmt.Errorf("link is %s, not %s: nothing to resume", st, StatePaused)
		}
	case ActionUnlink:
		if st == StateClosed || w.unlink != nil {
			return fmt.Errorf("link is already closed")
		}
		if strings.TrimSpace(r.Reason) == "" {
			return fmt.Errorf("unlinking needs a reason, for the record")
		}
	default:
		return fmt.Errorf("unknown action %q (one of %s)", action, strings.Join(Actions, ", "))
	}
	return nil
}

// operate applies a validated action and returns what the caller is told.
func (w *linkedJob) operate(ctx workflow.Context, action string, r OperatorRequest) string {
	w.logOperator(ctx, OperatorAction{Action: action, By: r.By, Reason: r.Reason})
	w.logger.Info("Operator action", "action", action, "by", r.By)
	var answer string
	switch action {
	case ActionRetry:
		w.retry = true
		answer = "retrying the blocked event"
	case ActionSkip:
		ev := w.queue[0]
		w.finish(ctx, EventRecord{ID: ev.ID, Type: ev.Type, Direction: rules.Direction(ev.Side), OccurredAt: ev.OccurredAt,
			Outcome: OutcomeFailed, Detail: fmt.Sprintf("failed: %s; skipped by %s: %s", w.state.LastError, r.By, r.Reason)})
		answer = fmt.Sprintf("skipped event %s; %d event(s) behind it go ahead", ev.ID, len(w.queue))
	case ActionPause:
		w.state.PausedFrom = w.state.State
		w.state.State = StatePaused
		answer = "paused; events queue until resumed"
	case ActionResume:
		w.state.State, w.state.PausedFrom = w.state.PausedFrom, ""
		answer = fmt.Sprintf("resumed; %d queued event(s) go ahead", len(w.queue))
	case ActionUnlink:
		w.unlink = &r
		answer = "unlinking: both jobs stay as they are; the link closes"
	}
	// Links started before operator actions published their state from the
	// handler must replay as they ran.
	if workflow.GetVersion(ctx, "operator-publish", workflow.DefaultVersion, 1) == 1 {
		w.publish(ctx)
	}
	return answer
}

func (w *linkedJob) logOperator(ctx workflow.Context, a OperatorAction) {
	a.At = workflow.Now(ctx).UTC().Format("2006-01-02T15:04:05Z")
	w.state.OperatorLog = append(w.state.OperatorLog, a)
	if over := len(w.state.OperatorLog) - maxOperatorLog; over > 0 {
		w.state.OperatorLog = slices.Delete(w.state.OperatorLog, 0, over)
	}
}

// registerOperator sets up the operator updates and the operator signal.
func (w *linkedJob) registerOperator(ctx workflow.Context) error {
	for _, action := range Actions {
		err := workflow.SetUpdateHandlerWithOptions(ctx, action,
			func(ctx workflow.Context, r OperatorRequest) (string, error) {
				// Re-check: the state may have moved since validation.
				if err := w.validate(action, r); err != nil {
					return "", err
				}
				return w.operate(ctx, action, r), nil
			},
			workflow.UpdateHandlerOptions{Validator: func(r OperatorRequest) error { return w.validate(action, r) }})
		if err != nil {
			return err
		}
	}
	ch := workflow.GetSignalChannel(ctx, SignalOperator)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r OperatorRequest
			ch.Receive(ctx, &r)
			if err := w.validate(r.Action, r); err != nil {
				w.logOperator(ctx, OperatorAction{Action: r.Action, By: r.By, Reason: r.Reason, Refused: err.Error()})
				w.publish(ctx)
				continue
			}
			w.operate(ctx, r.Action, r)
		}
	})
	return nil
}
