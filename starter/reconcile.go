package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/o2o-sync/o2o/workflows"
)

func (a *app) reconcileCmd() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "reconcile LINK [PRIMARY_JOB_REF]",
		Short: "Reconcile a link's open links (or one job) against both systems now",
		Long: `Read both jobs of every open link of LINK (or only of PRIMARY_JOB_REF) from the
two systems and give each link the facts it did not know: an assignment, a
status, an appointment or a document whose webhook never came. The link applies
them in order, like webhook events, recorded with source "reconcile"; a job
that has gone or moved puts its link into NeedsAttention.

The same runs every links[].reconcileEvery from the schedule o2o-reconcile:LINK
(pause it in the Web UI's Schedules page). A reconciliation already running for
the same scope is joined, not doubled. Prints the result when it is done; a
run that could not check every link has failed (the Web UI shows it so), and
the command exits 1 naming them.`,
		Example: `  starter reconcile acme-fixit
  starter reconcile acme-fixit AC000123`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageErrorf("want LINK and optionally PRIMARY_JOB_REF; got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			link, ref := args[0], ""
			if _, err := a.link(link); err != nil {
				return err
			}
			if len(args) == 2 {
				var err error
				if ref, err = primaryJobRef(args[1]); err != nil {
					return err
				}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c, err := a.temporal(ctx)
			if err != nil {
				return err
			}
			run, err := workflows.StartReconcile(ctx, c, link, ref)
			if err != nil {
				return fmt.Errorf("start reconciliation: %w", err)
			}
			// A run that could not check every link fails; its result
			// names them.
			res, err := workflows.ReconcileRunResult(ctx, run)
			if err != nil && !workflows.IsReconcileIncomplete(err) {
				return fmt.Errorf("reconciliation %s: %w", run.GetID(), err)
			}
			fmt.Fprintln(a.stdout, res.Summary())
			for _, f := range res.Failures {
				fmt.Fprintln(a.stdout, "  not read:", f)
			}
			if res.Failed > 0 {
				return reported{}
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the result")
	return cmd
}
