package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/o2o-sync/o2o/lifecycle"
)

// SignalOperator carries a lifecycle.OperatorRequest (with its Action) as a
// signal, for clients that cannot send updates. Its outcome, accepted or
// refused, is written to the link's operator log.
const SignalOperator = "operator"

// registerOperator offers every operator action (lifecycle.Actions) as an
// update whose validator is the machine's, and the operator signal.
func (w *linkedJob) registerOperator(ctx workflow.Context) error {
	for _, action := range lifecycle.Actions {
		err := workflow.SetUpdateHandlerWithOptions(ctx, action,
			func(ctx workflow.Context, r lifecycle.OperatorRequest) (string, error) {
				// Re-check: the state may have moved since validation.
				if err := w.m.Validate(action, r); err != nil {
					return "", err
				}
				return w.operate(ctx, action, r), nil
			},
			workflow.UpdateHandlerOptions{Validator: func(r lifecycle.OperatorRequest) error { return w.m.Validate(action, r) }})
		if err != nil {
			return err
		}
	}
	ch := workflow.GetSignalChannel(ctx, SignalOperator)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r lifecycle.OperatorRequest
			ch.Receive(ctx, &r)
			if err := w.m.Validate(r.Action, r); err != nil {
				w.m.Refuse(workflow.Now(ctx), r, err)
				w.publish(ctx)
				continue
			}
			w.operate(ctx, r.Action, r)
		}
	})
	return nil
}

// operate applies a validated action and returns what the caller is told.
func (w *linkedJob) operate(ctx workflow.Context, action string, r lifecycle.OperatorRequest) string {
	answer := w.m.Operate(workflow.Now(ctx), action, r)
	w.logger.Info("Operator action", "action", action, "by", r.By)
	// Links started before operator actions published their state from the
	// handler must replay as they ran.
	if workflow.GetVersion(ctx, versionOperatorPublish, workflow.DefaultVersion, 1) == 1 {
		w.publish(ctx)
	}
	return answer
}
