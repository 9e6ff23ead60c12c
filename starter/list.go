package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"

	"github.com/o2o-sync/o2o/workflows"
)

// states are the link states --state accepts.
var states = []lifecycle.State{
	lifecycle.StateLinking, lifecycle.StateLinked, lifecycle.StateNeedsAttention,
	lifecycle.StatePaused, lifecycle.StateClosed,
}

// listFilter is what list looks for; the zero value finds every link.
type listFilter struct {
	State string
	Link  string
	Job   string
	Open  bool
}

// maxListValue bounds a filter value; refs and names are far shorter.
const maxListValue = 200

// checkQueryValue refuses a filter value that could change the meaning of
// the visibility query: values are quoted, so quotes, backslashes and
// control characters are not allowed in them.
func checkQueryValue(flag, v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return usageErrorf("--%s is empty", flag)
	case len(v) > maxListValue:
		return usageErrorf("--%s is longer than %d characters", flag, maxListValue)
	case strings.ContainsAny(v, "\"'`\\"):
		return usageErrorf("--%s %q: quotes and backslashes are not allowed", flag, v)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return usageErrorf("--%s: control characters are not allowed", flag)
	}
	return nil
}

// parseState accepts a link state in any case and returns its canonical name.
func parseState(v string) (lifecycle.State, error) {
	names := make([]string, len(states))
	for i, s := range states {
		if strings.EqualFold(string(s), strings.TrimSpace(v)) {
			return s, nil
		}
		names[i] = string(s)
	}
	return "", usageErrorf("--state %q is not a link state (one of %s)", v, strings.Join(names, ", "))
}

// quote makes a visibility-query string literal of a value checkQueryValue accepted.
func quote(v string) string { return `"` + v + `"` }

// buildQuery turns the filter into a Temporal visibility query. It only
// ever finds LinkedJob workflows, and leaves out the runs a link continued
// as new from, so that each link appears once.
func buildQuery(f listFilter) (string, error) {
	clauses := []string{"WorkflowType = " + quote(workflows.WorkflowName)}
	if f.Open {
		clauses = append(clauses, `ExecutionStatus = "Running"`)
	} else {
		clauses = append(clauses, `ExecutionStatus != "ContinuedAsNew"`)
	}
	if f.State != "" {
		st, err := parseState(f.State)
		if err != nil {
			return "", err
		}
		clauses = append(clauses, workflows.AttrState.GetName()+" = "+quote(string(st)))
	}
	if f.Link != "" {
		if err := checkQueryValue("link", f.Link); err != nil {
			return "", err
		}
		clauses = append(clauses, workflows.AttrLink.GetName()+" = "+quote(f.Link))
	}
	if f.Job != "" {
		// The job ref in its canonical form (events.CanonicalJobRef), and
		// in lower case and as typed: a link started under "ac000005"
		// before refs were normalised (issue 17) is found too, so that it
		// can be told apart from AC000005's.
		ref, err := events.CanonicalJobRef(f.Job)
		if err != nil {
			return "", usageErrorf("--job %q: %v", f.Job, err)
		}
		forms := []string{quote(ref)}
		for _, v := range []string{strings.ToLower(ref), strings.TrimSpace(f.Job)} {
			if v != ref && !slices.Contains(forms, quote(v)) {
				forms = append(forms, quote(v)) // a job ref's characters only: safe in quotes
			}
		}
		is := " = " + forms[0]
		if len(forms) > 1 {
			is = " IN (" + strings.Join(forms, ", ") + ")"
		}
		clauses = append(clauses, "("+workflows.AttrPrimaryJobRef.GetName()+is+
			" OR "+workflows.AttrSecondaryJobRef.GetName()+is+")")
	}
	return strings.Join(clauses, " AND "), nil
}

// linkRow is one link as list prints it.
type linkRow struct {
	WorkflowID      string     `json:"workflowId"`
	RunID           string     `json:"runId"`
	Link            string     `json:"link"`
	PrimaryJobRef   string     `json:"primaryJobRef"`
	SecondaryJobRef string     `json:"secondaryJobRef"`
	State           string     `json:"state"`
	Status          string     `json:"status"`
	StartedAt       time.Time  `json:"startedAt"`
	ClosedAt        *time.Time `json:"closedAt,omitempty"`
}

// maxPage is the most executions asked for per visibility call.
const maxPage = 1000

// listLinks reads the links query selects, page by page, up to limit of
// them; more says whether visibility has more beyond the last page read.
func listLinks(ctx context.Context, c client.Client, query string, limit int) (rows []linkRow, more bool, err error) {
	var token []byte
	for len(rows) < limit {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			PageSize: int32(min(limit-len(rows), maxPage)), Query: query, NextPageToken: token,
		})
		if err != nil {
			return nil, false, fmt.Errorf("list links (query %s): %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			if len(rows) < limit {
				rows = append(rows, rowOf(e))
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	return rows, len(token) > 0, nil
}

// checkListFlags refuses a --limit below 1 and a filter given empty.
func checkListFlags(cmd *cobra.Command, limit int) error {
	if limit < 1 {
		return usageErrorf("--limit must be at least 1")
	}
	for _, name := range []string{"state", "link", "job"} {
		if fl := cmd.Flags().Lookup(name); fl.Changed && strings.TrimSpace(fl.Value.String()) == "" {
			return usageErrorf("--%s is empty", name)
		}
	}
	return nil
}

func (a *app) listCmd() *cobra.Command {
	var (
		f      listFilter
		limit  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List links, filtered by state, link, job or open/closed",
		Long: `List links through Temporal visibility: one line per linked job with both
job refs, the link's state (the O2OState search attribute) and whether its
workflow is running or completed. Filters combine with AND; --job matches the
primary or the secondary job ref.

Visibility is eventually consistent: a link started or changed a moment ago
may take a second to show here. starter state reads the link itself.`,
		Example: `  starter list --state NeedsAttention
  starter list --link acme-fixit --open
  starter list --job FX000045
  starter list --state paused --json | jq -r '.[].primaryJobRef'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("list takes no arguments, only flags (got %q)", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkListFlags(cmd, limit); err != nil {
				return err
			}
			query, err := buildQuery(f)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
			defer cancel()
			c, err := a.temporal(ctx)
			if err != nil {
				return err
			}
			rows, more, err := listLinks(ctx, c, query, limit)
			if err != nil {
				return err
			}
			if asJSON {
				if rows == nil {
					rows = []linkRow{}
				}
				return writeJSON(a.stdout, rows)
			}
			printRows(a.stdout, rows)
			if len(rows) == limit && more {
				fmt.Fprintf(a.stderr, "(showing the first %d; there are more: raise --limit or narrow the filters)\n", limit)
			}
			return nil
		},
	}
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = string(s)
	}
	cmd.Flags().StringVar(&f.State, "state", "", "only links in this state: "+strings.Join(names, ", "))
	cmd.Flags().StringVar(&f.Link, "link", "", "only this link (its name in the configuration)")
	cmd.Flags().StringVar(&f.Job, "job", "", "only the link of this job ref, primary or secondary")
	cmd.Flags().BoolVar(&f.Open, "open", false, "only links whose workflow is running (not closed)")
	cmd.Flags().IntVar(&limit, "limit", 100, "list at most this many links")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the links as a JSON array")
	return cmd
}

func rowOf(e *workflowpb.WorkflowExecutionInfo) linkRow {
	r := linkRow{
		WorkflowID: e.GetExecution().GetWorkflowId(),
		RunID:      e.GetExecution().GetRunId(),
		Status:     statusName(e.GetStatus()),
	}
	fields := e.GetSearchAttributes().GetIndexedFields()
	r.Link = keyword(fields, workflows.AttrLink.GetName())
	r.PrimaryJobRef = keyword(fields, workflows.AttrPrimaryJobRef.GetName())
	r.SecondaryJobRef = keyword(fields, workflows.AttrSecondaryJobRef.GetName())
	r.State = keyword(fields, workflows.AttrState.GetName())
	if link, ref, ok := workflows.ParseWorkflowID(r.WorkflowID); ok {
		if r.Link == "" {
			r.Link = link
		}
		if r.PrimaryJobRef == "" {
			r.PrimaryJobRef = ref
		}
	}
	if t := e.GetStartTime(); t != nil {
		r.StartedAt = t.AsTime()
	}
	if t := e.GetCloseTime(); t != nil && e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		ct := t.AsTime()
		r.ClosedAt = &ct
	}
	return r
}

// keyword decodes one Keyword search attribute; "" when absent.
func keyword(fields map[string]*commonpb.Payload, name string) string {
	p, ok := fields[name]
	if !ok {
		return ""
	}
	var v string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
		var list []string // a Keyword may be written as a one-element list
		if converter.GetDefaultDataConverter().FromPayload(p, &list) == nil && len(list) > 0 {
			return list[0]
		}
		return ""
	}
	return v
}

// statusName is the workflow's status in lower case: running, completed,
// failed, terminated, canceled, timed-out, continued-as-new.
func statusName(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return "running"
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "completed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "failed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "terminated"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "canceled"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "timed-out"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "continued-as-new"
	}
	return "unknown"
}

func printRows(w io.Writer, rows []linkRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "No links found.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LINK\tPRIMARY\tSECONDARY\tSTATE\tSTATUS\tSTARTED")
	for _, r := range rows {
		started := "-"
		if !r.StartedAt.IsZero() {
			started = r.StartedAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", dash(r.Link), dash(r.PrimaryJobRef), dash(r.SecondaryJobRef), dash(r.State), r.Status, started)
	}
	_ = tw.Flush()
}
