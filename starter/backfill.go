package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/plural"
	"github.com/o2o-sync/o2o/workflows"
)

// assignment is one valid line of a backfill file.
type assignment struct {
	Line       int
	JobRef     string
	ActivityID string
	// DuplicateOf is the earlier line with the same job and activity, or 0.
	DuplicateOf int
}

// badLine is a line of a backfill file that cannot be used.
type badLine struct {
	Line int
	Text string
	Err  string
}

// backfillFile is a parsed backfill file, in file order.
type backfillFile struct {
	Assignments []assignment
	Bad         []badLine
	// Entries is the number of non-blank, non-comment, non-header lines.
	Entries int
}

const (
	maxActivityID  = 18
	maxLineLength  = 4096
	maxBackfillErr = 60 // characters of a bad line quoted back
)

// checkActivityID refuses what cannot be a Oneserve activity id (a whole number).
func checkActivityID(v string) error {
	if v == "" {
		return errors.New("the activity id is empty")
	}
	if len(v) > maxActivityID || strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return errors.New("the activity id must be a whole number (Oneserve's activity id, e.g. 137045)")
	}
	return nil
}

// isHeader reports whether a line's two fields name the columns rather than
// hold data: "primaryJobRef,activityId", "Job Ref,Activity ID", ...
func isHeader(fields []string) bool {
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, s)
	}
	job, act := norm(fields[0]), norm(fields[1])
	return strings.Contains(job, "job") && strings.Contains(act, "activity") && checkActivityID(fields[1]) != nil
}

// unquote removes the double quotes a spreadsheet may put around a field.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// parseBackfill reads a backfill file: primaryJobRef,activityId a line, an
// optional header, blank lines and # comments. Bad lines are collected, not
// fatal; only a read error is.
func parseBackfill(r io.Reader) (*backfillFile, error) {
	out := &backfillFile{}
	seen := map[[2]string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxLineLength)
	n, first := 0, true
	for sc.Scan() {
		n++
		text := sc.Text()
		if n == 1 {
			text = strings.TrimPrefix(text, "\uFEFF") // a spreadsheet's byte-order mark
		}
		line := strings.TrimSpace(text)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(format string, args ...any) {
			out.Bad = append(out.Bad, badLine{Line: n, Text: shorten(line), Err: fmt.Sprintf(format, args...)})
		}
		if !utf8.ValidString(line) {
			out.Entries++
			first = false
			bad("not valid UTF-8 text")
			continue
		}
		fields := strings.Split(line, ",")
		if len(fields) == 2 {
			fields[0], fields[1] = unquote(fields[0]), unquote(fields[1])
		}
		if first && len(fields) == 2 && isHeader(fields) {
			first = false
			continue
		}
		first = false
		out.Entries++
		if len(fields) != 2 {
			bad("want 2 fields, primaryJobRef,activityId; got %d", len(fields))
			continue
		}
		// The job ref in its canonical form (events.CanonicalJobRef):
		// "ac000005" and "AC000005" are one job, and a duplicate.
		ref, err := events.CanonicalJobRef(fields[0])
		if err != nil {
			bad("%v", err)
			continue
		}
		if err := checkActivityID(fields[1]); err != nil {
			bad("%v", err)
			continue
		}
		a := assignment{Line: n, JobRef: ref, ActivityID: fields[1]}
		key := [2]string{a.JobRef, a.ActivityID}
		if prev, dup := seen[key]; dup {
			a.DuplicateOf = prev
		} else {
			seen[key] = n
		}
		out.Assignments = append(out.Assignments, a)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d is longer than %d bytes: is this a backfill file?", n+1, maxLineLength)
		}
		return nil, err
	}
	return out, nil
}

func shorten(s string) string {
	if utf8.RuneCountInString(s) <= maxBackfillErr {
		return s
	}
	return string([]rune(s)[:maxBackfillErr-1]) + "…"
}

// backfill outcomes, as printed.
const (
	outcomeStarted   = "started"
	outcomeAlready   = "already linked"
	outcomeClosed    = "closed"
	outcomeError     = "error"
	outcomeDuplicate = "duplicate"
	outcomeValid     = "ok"
)

// readBackfill reads and parses the backfill file at path ("-" for standard
// input); name is how the messages call it. A file without a single entry
// is an error.
func readBackfill(path string) (file *backfillFile, name string, err error) {
	var r io.Reader = os.Stdin
	name = "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		r, name = f, path
	}
	file, err = parseBackfill(r)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	if file.Entries == 0 {
		return nil, "", fmt.Errorf("%s holds no primaryJobRef,activityId line", name)
	}
	return file, name, nil
}

// backfill links every assignment of a file, one at a time, and reports
// each line and a summary.
func (a *app) backfill(ctx context.Context, l *config.Link, path string, dryRun bool) error {
	file, name, err := readBackfill(path)
	if err != nil {
		return err
	}

	counts := map[string]int{}
	emit := func(line int, ref, act, outcome, detail string) {
		counts[outcome]++
		if detail != "" {
			detail = ": " + detail
		}
		fmt.Fprintf(a.stdout, "line %-4d %-14s %-10s %s%s\n", line, dash(ref), dash(act), outcome, detail)
	}
	// Report in file order: bad lines interleaved with the good ones.
	bad := file.Bad
	flushBad := func(before int) {
		for len(bad) > 0 && (before == 0 || bad[0].Line < before) {
			emit(bad[0].Line, "", "", outcomeError, fmt.Sprintf("%s (%q)", bad[0].Err, bad[0].Text))
			bad = bad[1:]
		}
	}

	var c client.Client
	if !dryRun {
		dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		c, err = a.temporal(dctx)
		cancel()
		if err != nil {
			return err
		}
	}
	interrupted := false
	for _, as := range file.Assignments {
		flushBad(as.Line)
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		switch {
		case as.DuplicateOf > 0:
			emit(as.Line, as.JobRef, as.ActivityID, outcomeDuplicate, fmt.Sprintf("same as line %d; skipped", as.DuplicateOf))
		case dryRun:
			emit(as.Line, as.JobRef, as.ActivityID, outcomeValid, "")
		default:
			outcome, detail := linkOne(ctx, c, l, as)
			emit(as.Line, as.JobRef, as.ActivityID, outcome, detail)
		}
	}
	if !interrupted {
		flushBad(0)
	}

	a.backfillSummary(l, name, file.Entries, counts, dryRun)
	if interrupted {
		fmt.Fprintln(a.stdout, "Interrupted: the lines not listed above were not attempted.")
		return reported{}
	}
	if counts[outcomeError] > 0 {
		return reported{}
	}
	return nil
}

// backfillSummary prints the count of each outcome after the lines.
func (a *app) backfillSummary(l *config.Link, name string, entries int, counts map[string]int, dryRun bool) {
	failed := counts[outcomeError]
	fmt.Fprintln(a.stdout)
	if dryRun {
		fmt.Fprintf(a.stdout, "Dry run of %s for link %s: %d valid, %d duplicate, %d bad (%s); nothing was started.\n",
			name, l.Name, counts[outcomeValid], counts[outcomeDuplicate], failed, plural.Count(entries, "line", "lines"))
	} else {
		fmt.Fprintf(a.stdout, "Link %s from %s: %d started, %d already linked, %d closed, %d duplicate, %d failed (%s).\n",
			l.Name, name, counts[outcomeStarted], counts[outcomeAlready], counts[outcomeClosed], counts[outcomeDuplicate], failed, plural.Count(entries, "line", "lines"))
	}
}

// linkOne delivers one assignment and says what became of it.
func linkOne(ctx context.Context, c client.Client, l *config.Link, as assignment) (outcome, detail string) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	id := workflows.WorkflowID(l.Name, as.JobRef)
	running := false
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		running = d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	case !errors.As(err, &nf):
		return outcomeError, fmt.Sprintf("look up %s: %v", id, err)
	}
	err = workflows.Deliver(ctx, c, l, as.JobRef, assignmentEvent(l, as.JobRef, as.ActivityID), true)
	switch {
	case errors.Is(err, workflows.ErrLinkClosed):
		return outcomeClosed, "the link for this job has finished; it is not restarted"
	case err != nil:
		return outcomeError, fmt.Sprintf("start %s: %v", id, err)
	case running:
		return outcomeAlready, "assignment delivered to the running link"
	}
	return outcomeStarted, id
}
