package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// actionDoc describes one operator action's command.
type actionDoc struct {
	action, short, long, example string
	// reasonRequired: the link refuses the action without --reason.
	reasonRequired bool
	// document: the action names a held document (--document).
	document bool
}

var actionDocs = []actionDoc{
	{
		action: lifecycle.ActionRetry,
		short:  "Retry the event a link is blocked on, after fixing its cause",
		long: `Retry the event that put a link into NeedsAttention, typically after fixing
the data the error names (a missing site, an unmapped priority). The link
reloads its configuration first, so configuration fixes count too.
Refused when the link does not need attention.`,
		example: `  starter retry acme-fixit AC000123 --by ops@acme --reason "site added in fixit"`,
	},
	{
		action: lifecycle.ActionSkip,
		short:  "Give up on the event a link is blocked on and let the events behind it through",
		long: `Give up on the event that put a link into NeedsAttention: it is recorded as
failed, with its error and who skipped it and why, and the events queued behind
it go ahead.
Nothing is written to either system for the skipped event.
Refused when the link does not need attention, or without --reason.`,
		example:        `  starter skip acme-fixit AC000123 --by ops@acme --reason "job raised twice; fixit has it as FX000077"`,
		reasonRequired: true,
	},
	{
		action: lifecycle.ActionPause,
		short:  "Stop applying a link's events; they queue until resume",
		long: `Pause a link: events keep arriving and queue, in order, but none is applied
until the link is resumed. Refused when the link is already paused or closed.`,
		example: `  starter pause acme-fixit AC000123 --by ops@acme --reason "fixit migrating the job"`,
	},
	{
		action: lifecycle.ActionResume,
		short:  "Resume a paused link: its queued events go ahead, in order",
		long: `Resume a paused link: it returns to the state it was paused from and its
queued events are applied in order. Refused when the link is not paused.`,
		example: `  starter resume acme-fixit AC000123 --by ops@acme`,
	},
	{
		action: lifecycle.ActionUnlink,
		short:  "Stop syncing a job for good: both jobs stay as they are and the link closes",
		long: `Unlink: the link closes at once; both jobs stay as they are in both systems.
Later events for the job are answered, not applied, and the link is not
started again. Refused when the link is already closed, or without --reason.`,
		example:        `  starter unlink acme-fixit AC000123 --by ops@acme --reason "subcontract withdrawn by phone"`,
		reasonRequired: true,
	},
	{
		action: lifecycle.ActionRelease,
		short:  "Copy a document held for approval now, without waiting for its approval",
		long: `Release a document the link holds for approval (documentApproval: required):
it is copied to the other side in its turn, as if it had been approved. The
link state lists held documents (starter state). Refused when no such
document is held, or without --document and --reason.`,
		example:        `  starter release acme-fixit AC000123 --by ops@acme --document D1042 --reason "approved by the client by phone"`,
		reasonRequired: true,
		document:       true,
	},
	{
		action: lifecycle.ActionDrop,
		short:  "Give up on a document held for approval: it is never copied",
		long: `Drop a document the link holds for approval: it leaves the held list and is
never copied, even if it is approved later in its system. Refused when no such
document is held, or without --document and --reason.`,
		example:        `  starter drop acme-fixit AC000123 --by ops@acme --document D1042 --reason "uploaded to the wrong job"`,
		reasonRequired: true,
		document:       true,
	},
}

func (a *app) actionCmds() []*cobra.Command {
	cmds := make([]*cobra.Command, 0, len(actionDocs))
	for _, d := range actionDocs {
		cmds = append(cmds, a.actionCmd(d))
	}
	return cmds
}

// envOperator names who asks when --by is not given. Every action records
// who asked, as over HTTP and in the Web UI, where "by" is required: a login
// name ($USER) or a fixed "starter" would record an account, not a person.
const envOperator = "O2O_OPERATOR"

func (a *app) actionCmd(d actionDoc) *cobra.Command {
	var by, reason, document string
	cmd := &cobra.Command{
		Use:     d.action + " LINK PRIMARY_JOB_REF",
		Short:   d.short,
		Long:    d.long + "\n\nThe link answers at once; its answer is printed. Exit status 1 when it refuses.",
		Example: d.example,
		Args:    exactArgs("LINK", "PRIMARY_JOB_REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			link := args[0]
			if _, err := a.link(link); err != nil {
				return err
			}
			ref, err := primaryJobRef(args[1])
			if err != nil {
				return err
			}
			// What the link would refuse anyway is a usage error, said here.
			if strings.TrimSpace(by) == "" {
				return usageErrorf("%s needs --by (who is asking, recorded in the link's operator log), or %s set", d.action, envOperator)
			}
			if d.reasonRequired && strings.TrimSpace(reason) == "" {
				return usageErrorf("%s needs --reason (it is recorded in the link's operator log)", d.action)
			}
			if d.document && strings.TrimSpace(document) == "" {
				return usageErrorf("%s needs --document (the held document's id; see starter state %s %s)", d.action, link, ref)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			c, err := a.temporal(ctx)
			if err != nil {
				return err
			}
			id := workflows.WorkflowID(link, ref)
			answer, err := workflows.Operate(ctx, c, link, ref, d.action, lifecycle.OperatorRequest{By: by, Reason: reason, DocumentID: document})
			if errors.Is(err, workflows.ErrNoLink) {
				return noLink(link, ref)
			}
			if err != nil {
				var refused *workflows.RefusedError
				if errors.As(err, &refused) {
					return refused
				}
				return fmt.Errorf("%s %s: %w", d.action, id, err)
			}
			fmt.Fprintf(a.stdout, "%s: %s\n", id, answer)
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", os.Getenv(envOperator), "who is asking, recorded in the link's operator log (required; default $"+envOperator+")")
	reasonHelp := "why, recorded in the link's operator log"
	if d.reasonRequired {
		reasonHelp += " (required: the link refuses " + d.action + " without one)"
	}
	cmd.Flags().StringVar(&reason, "reason", "", reasonHelp)
	if d.document {
		cmd.Flags().StringVar(&document, "document", "", "the held document's id (see starter state)")
	}
	return cmd
}

// primaryJobRef reads a PRIMARY_JOB_REF argument in its canonical form
// (events.CanonicalJobRef), the one the link's workflow id holds: "ac000005"
// names AC000005's link. A text that is not a job ref is a usage error.
func primaryJobRef(arg string) (string, error) {
	ref, err := events.CanonicalJobRef(arg)
	if err != nil {
		return "", usageErrorf("PRIMARY_JOB_REF %q: %v", arg, err)
	}
	return ref, nil
}

// noLink is the answer for a job without a running link, with where to look.
func noLink(link, ref string) error {
	return fmt.Errorf("no running link %s for job %s: %s was never started or has closed (see: starter list --job %s)",
		link, ref, workflows.WorkflowID(link, ref), ref)
}
