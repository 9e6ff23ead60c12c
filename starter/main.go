// Command starter is O2O's operator CLI. It reads the same configuration as
// the other processes (O2O_CONFIG; secrets are not needed) and Temporal's
// standard client variables.
//
//	starter state acme-fixit AC000001          print a link's state
//	starter link  acme-fixit AC000001 137001   link a job whose activity is already assigned
//	starter retry acme-fixit AC000001          retry the event a link is blocked on
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/workflows"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		os.Exit(1)
	}
}

// app holds what every command needs, made once per run.
type app struct {
	cfg    *config.Config
	client client.Client
	out    io.Writer
}

func newRoot() *cobra.Command {
	a := &app{out: os.Stdout}
	root := &cobra.Command{
		Use:           "starter",
		Short:         "Operate O2O links: start them, inspect them",
		SilenceUsage:  true,
		SilenceErrors: false,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadFromEnv(config.Options{SkipSecrets: true})
			if err != nil {
				return err
			}
			log, err := platform.NewLogger("starter")
			if err != nil {
				return err
			}
			// The CLI's own output is for people; keep the client quiet.
			c, err := platform.Dial(cmd.Context(), log.WithOptions(zap.IncreaseLevel(zap.WarnLevel)))
			if err != nil {
				return err
			}
			a.cfg, a.client = cfg, c
			return nil
		},
		PersistentPostRun: func(*cobra.Command, []string) {
			if a.client != nil {
				a.client.Close()
			}
		},
	}
	root.AddCommand(a.stateCmd(), a.linkCmd(), a.retryCmd())
	return root
}

func (a *app) stateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "state LINK PRIMARY_JOB_REF",
		Short: "Print a link's state and the events it has processed",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.cfg.Link(args[0]) == nil {
				return fmt.Errorf("unknown link %q (configured: %s)", args[0], linkNames(a.cfg))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
			defer cancel()
			st, err := workflows.QueryState(ctx, a.client, args[0], args[1])
			if errors.Is(err, workflows.ErrNoLink) {
				return fmt.Errorf("no link %s for job %s", args[0], args[1])
			}
			if err != nil {
				return fmt.Errorf("query %s: %w", workflows.WorkflowID(args[0], args[1]), err)
			}
			if asJSON {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printState(a.out, st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the state as JSON (the same document as GET /links/...)")
	return cmd
}

func (a *app) linkCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "link LINK PRIMARY_JOB_REF ACTIVITY_ID",
		Short: "Start a link for a job whose activity is already assigned to the link's team",
		Long: `Start a link by hand, as if the primary had just reported the assignment.
Use it for assignments made before O2O was running, or whose webhook was lost.
It is safe to repeat: the workflow id comes from the link and job, and the
event id from the activity, so a second run changes nothing. O2O re-reads the
job and the activity from the primary before creating anything.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			l := a.cfg.Link(args[0])
			if l == nil {
				return fmt.Errorf("unknown link %q (configured: %s)", args[0], linkNames(a.cfg))
			}
			ref, activityID := args[1], args[2]
			ev := events.Event{
				ID:         "manual:" + l.Name + ":" + ref + ":" + activityID,
				System:     l.Primary.System,
				Side:       events.Primary,
				Type:       events.ActivityAssigned,
				OccurredAt: time.Now().UTC(),
				JobRef:     ref,
				Assignment: &events.Assignment{ActivityID: activityID, TeamID: l.Primary.Team.ID, TeamName: l.Primary.Team.Name},
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
			defer cancel()
			err := workflows.Deliver(ctx, a.client, l, ref, ev, true)
			if errors.Is(err, workflows.ErrLinkClosed) {
				return fmt.Errorf("the link for %s has closed; it is not restarted", ref)
			}
			if err != nil {
				return fmt.Errorf("start %s: %w", workflows.WorkflowID(l.Name, ref), err)
			}
			fmt.Fprintf(a.out, "Started %s.\nFollow it with: starter state %s %s\n", workflows.WorkflowID(l.Name, ref), l.Name, ref)
			return nil
		},
	}
}

func (a *app) retryCmd() *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "retry LINK PRIMARY_JOB_REF",
		Short: "Retry the event a link is blocked on, after fixing its cause",
		Long: `Retry the event that put a link into NeedsAttention, typically after fixing
the data the error names (a missing site, an unmapped priority). The link
reloads its configuration first, so configuration fixes count too.
Refused when the link does not need attention.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.cfg.Link(args[0]) == nil {
				return fmt.Errorf("unknown link %q (configured: %s)", args[0], linkNames(a.cfg))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			h, err := a.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID:   workflows.WorkflowID(args[0], args[1]),
				UpdateName:   workflows.UpdateRetry,
				Args:         []any{workflows.RetryRequest{By: by}},
				WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			if err != nil {
				return fmt.Errorf("retry refused: %w", err)
			}
			var answer string
			if err := h.Get(ctx, &answer); err != nil {
				return fmt.Errorf("retry refused: %w", err)
			}
			fmt.Fprintf(a.out, "%s: %s\n", workflows.WorkflowID(args[0], args[1]), answer)
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", os.Getenv("USER"), "who is asking, for the link's record")
	return cmd
}

func printState(w io.Writer, st *workflows.LinkState) {
	sec := st.SecondaryJobRef
	if sec == "" {
		sec = "-"
	}
	fmt.Fprintf(w, "Link:       %s\nPrimary:    %s\nSecondary:  %s\nState:      %s\n", st.Link, st.PrimaryJobRef, sec, st.State)
	if st.LastError != "" {
		fmt.Fprintf(w, "Last error: %s\n", st.LastError)
	}
	fmt.Fprintf(w, "Pending:    %d\n\n", st.Pending)
	if len(st.Events) == 0 {
		fmt.Fprintln(w, "No events processed yet.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROCESSED\tTYPE\tDIRECTION\tOUTCOME\tDETAIL")
	for _, e := range st.Events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ProcessedAt.Format(time.DateTime), e.Type, e.Direction, e.Outcome, e.Detail)
	}
	_ = tw.Flush()
}

func linkNames(cfg *config.Config) string {
	names := make([]string, 0, len(cfg.Links))
	for _, l := range cfg.Links {
		names = append(names, l.Name)
	}
	return strings.Join(names, ", ")
}
