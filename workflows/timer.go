package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// graceTimer is the grace period before a link closes: one timer that is
// started, moved or called off as the machine's closing time changes (the
// pattern of samples-go's updatabletimer). It is polled, not waited on, so
// the workflow's main loop stays the only place that blocks.
type graceTimer struct {
	at       time.Time
	future   workflow.Future
	cancel   workflow.CancelFunc
	reported bool
}

// Set makes the grace period end at at, or calls it off when at is nil. An
// unchanged at leaves the running timer alone.
func (t *graceTimer) Set(ctx workflow.Context, at *time.Time) {
	if at != nil && t.cancel != nil && t.at.Equal(*at) {
		return
	}
	if t.cancel != nil {
		t.cancel() // no command if it has already fired
		*t = graceTimer{}
	}
	if at == nil {
		return
	}
	d := max(at.Sub(workflow.Now(ctx)), 0)
	tctx, cancel := workflow.WithCancel(ctx)
	t.at, t.cancel = *at, cancel
	t.future = workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: "Grace period before closing the link"})
}

// Ready reports whether the timer has ended and Fired has not yet said so.
func (t *graceTimer) Ready() bool {
	return t.future != nil && !t.reported && t.future.IsReady()
}

// Fired reports, once, that the grace period ending at at is over.
func (t *graceTimer) Fired(ctx workflow.Context) (at time.Time, fired bool) {
	if !t.Ready() {
		return time.Time{}, false
	}
	t.reported = true
	return t.at, t.future.Get(ctx, nil) == nil
}
