package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/workflows"
)

// startLink starts link l for one job, delivering the assignment of
// activityID as the primary's webhook would have.
func (a *app) startLink(ctx context.Context, l *config.Link, jobRef, activityID string) error {
	ref, err := primaryJobRef(jobRef)
	if err != nil {
		return err
	}
	if err := checkActivityID(activityID); err != nil {
		return usageErrorf("ACTIVITY_ID %q: %v", activityID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := a.temporal(ctx)
	if err != nil {
		return err
	}
	err = workflows.Deliver(ctx, c, l, ref, assignmentEvent(l, ref, activityID), true)
	if errors.Is(err, workflows.ErrLinkClosed) {
		return fmt.Errorf("the link for %s has closed; it is not restarted", ref)
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", workflows.WorkflowID(l.Name, ref), err)
	}
	fmt.Fprintf(a.stdout, "Started %s.\nFollow it with: starter state %s %s\n", workflows.WorkflowID(l.Name, ref), l.Name, ref)
	return nil
}

func (a *app) linkCmd() *cobra.Command {
	var (
		file   string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "link LINK PRIMARY_JOB_REF ACTIVITY_ID | link LINK --file FILE [--dry-run]",
		Short: "Start a link for a job whose activity is already assigned to the link's team",
		Long: `Start a link by hand, as if the primary had just reported the assignment.
Use it for assignments made before O2O was running, or whose webhook was lost.
It is safe to repeat: the workflow id comes from the link and job, and the
event id from the activity, so a second run changes nothing. O2O re-reads the
job and the activity from the primary before creating anything.

With --file, link many jobs (a backfill). The file has one assignment a line:

    primaryJobRef,activityId

A header line (e.g. "primaryJobRef,activityId"), blank lines and lines
starting with # are ignored; --file - reads standard input. Each line is
reported as started, already linked (the link was running: the assignment is
delivered to it, which changes nothing if it already had it), closed (the
link has finished; it is not restarted) or error, then a summary. A bad line
does not stop the others; the exit status is 1 if any line failed.
--dry-run only checks the file and connects to nothing.`,
		Example: `  starter link acme-fixit AC000123 137045
  starter link acme-fixit --file jobs.csv --dry-run
  starter link acme-fixit --file jobs.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			if file != "" {
				if len(args) != 1 {
					return usageErrorf("with --file, give only the link: starter link LINK --file FILE (got %d arguments)", len(args))
				}
				return nil
			}
			if dryRun {
				return usageErrorf("--dry-run checks a --file; give --file FILE")
			}
			if cmd.Flags().Changed("file") {
				return usageErrorf("--file is empty")
			}
			return exactArgs("LINK", "PRIMARY_JOB_REF", "ACTIVITY_ID")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := a.link(args[0])
			if err != nil {
				return err
			}
			if file != "" {
				return a.backfill(cmd.Context(), l, file, dryRun)
			}
			return a.startLink(cmd.Context(), l, args[1], args[2])
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "link every primaryJobRef,activityId line of this file (- for standard input)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "with --file: check the file only; start nothing")
	return cmd
}

// assignmentEvent is the ACTIVITY_ASSIGNED event a manual link delivers.
// Its id depends only on the link, job and activity, so repeating it is a
// duplicate the link recognises.
func assignmentEvent(l *config.Link, ref, activityID string) events.Event {
	return events.Event{
		ID:         "manual:" + l.Name + ":" + ref + ":" + activityID,
		System:     l.Primary.System,
		Side:       events.Primary,
		Type:       events.ActivityAssigned,
		OccurredAt: time.Now().UTC(),
		JobRef:     ref,
		Assignment: &events.Assignment{ActivityID: activityID, TeamID: l.Primary.Team.ID, TeamName: l.Primary.Team.Name},
	}
}
