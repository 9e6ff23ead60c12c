package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

func (a *app) stateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "state LINK PRIMARY_JOB_REF",
		Short: "Print a link's state and the events it has processed",
		Long: `Print a link's state: both job refs, its state, the error it is blocked on,
pending events, the events it has processed and the operator actions taken.
--json prints the same document as GET /links/{link}/{primaryJobRef}.`,
		Example: `  starter state acme-fixit AC000123
  starter state --json acme-fixit AC000123 | jq .lastError`,
		Args: exactArgs("LINK", "PRIMARY_JOB_REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.link(args[0]); err != nil {
				return err
			}
			link := args[0]
			ref, err := primaryJobRef(args[1])
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
			defer cancel()
			c, err := a.temporal(ctx)
			if err != nil {
				return err
			}
			st, err := workflows.QueryState(ctx, c, link, ref)
			if errors.Is(err, workflows.ErrNoLink) {
				return noLink(link, ref)
			}
			if err != nil {
				return fmt.Errorf("query %s: %w", workflows.WorkflowID(link, ref), err)
			}
			if asJSON {
				return writeJSON(a.stdout, st)
			}
			printState(a.stdout, st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the state as JSON (the same document as GET /links/...)")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printState(w io.Writer, st *lifecycle.LinkState) {
	sec := st.SecondaryJobRef
	if sec == "" {
		sec = "-"
	}
	fmt.Fprintf(w, "Link:       %s\nPrimary:    %s\nSecondary:  %s\nState:      %s\n", st.Link, st.PrimaryJobRef, sec, st.State)
	if st.State == lifecycle.StatePaused && st.PausedFrom != "" {
		fmt.Fprintf(w, "Resumes to: %s\n", st.PausedFrom)
	}
	if st.LastError != "" {
		fmt.Fprintf(w, "Last error: %s\n", st.LastError)
	}
	if st.NextStep != "" {
		fmt.Fprintf(w, "Next step:  %s\n", st.NextStep)
	}
	if st.ClosesAt != nil {
		fmt.Fprintf(w, "Closes at:  %s (%s)\n", when(*st.ClosesAt), st.ClosingReason)
	}
	fmt.Fprintf(w, "Pending:    %d\n\n", st.Pending)
	if len(st.Events) == 0 {
		fmt.Fprintln(w, "No events processed yet.")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PROCESSED\tTYPE\tDIRECTION\tOUTCOME\tDETAIL")
		for _, e := range st.Events {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", when(e.ProcessedAt), e.Type, e.Direction, e.Outcome, e.Detail)
		}
		_ = tw.Flush()
	}
	if len(st.HeldDocuments) > 0 {
		fmt.Fprintln(w, "\nHeld for approval (starter release|drop --document ID):")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DOCUMENT\tFROM\tNAME\tCATEGORY\tSINCE\tRELEASED")
		for _, h := range st.HeldDocuments {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", h.DocumentID, h.System, h.FileName, h.Category, when(h.Since), h.Released)
		}
		_ = tw.Flush()
	}
	if len(st.OperatorLog) > 0 {
		fmt.Fprintln(w, "\nOperator actions:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AT\tACTION\tBY\tREASON\tREFUSED")
		for _, o := range st.OperatorLog {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", whenText(o.At), o.Action, o.By, dash(o.Reason), dash(o.Refused))
		}
		_ = tw.Flush()
	}
}

// when is how state shows a time: in the operator's time zone, to the
// second, zone named ("2026-12-08 09:30:00 GMT"): one format for every
// time it prints, whatever form the link state holds it in.
func when(t time.Time) string { return t.Local().Format(time.DateTime + " MST") }

// whenText is when for a time the link state holds as RFC 3339 text (the
// operator log's); text that is not one is shown as it is.
func whenText(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return when(t)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
