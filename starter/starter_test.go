package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/o2o-sync/o2o/lifecycle"
)

// result is one run of the CLI in-process.
type result struct {
	stdout, stderr string
	code           int
	dialed         bool
}

// run runs the CLI with args. tc is the Temporal client handed out when a
// command dials (nil: dialling fails, as with no Temporal at all).
func run(t *testing.T, tc client.Client, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	var r result
	a := newApp(&out, &errb)
	a.dial = func(context.Context) (client.Client, error) {
		r.dialed = true
		if tc == nil {
			return nil, errors.New("connect to Temporal at localhost:7233: unreachable (test)")
		}
		return tc, nil
	}
	root := a.root()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(context.Background())
	r.code = a.exitCode(cmd, err)
	r.stdout, r.stderr = out.String(), errb.String()
	return r
}

// exampleConfig points O2O_CONFIG at the example configuration.
func exampleConfig(t *testing.T) {
	t.Helper()
	t.Setenv("O2O_CONFIG", "../o2o.example.yaml")
}

func TestBuildQuery(t *testing.T) {
	base := `WorkflowType = "LinkedJob" AND ExecutionStatus != "ContinuedAsNew"`
	for _, c := range []struct {
		name string
		f    listFilter
		want string
	}{
		{"everything", listFilter{}, base},
		{"state", listFilter{State: "NeedsAttention"}, base + ` AND O2OState = "NeedsAttention"`},
		{"state in any case", listFilter{State: "needsattention"}, base + ` AND O2OState = "NeedsAttention"`},
		{"link", listFilter{Link: "acme-fixit"}, base + ` AND O2OLink = "acme-fixit"`},
		// The canonical ref, and the forms a link started before refs were
		// normalised may hold: lower case, and as typed (issue 17).
		{"job", listFilter{Job: "AC000123"}, base + ` AND (O2OPrimaryJobRef IN ("AC000123", "ac000123") OR O2OSecondaryJobRef IN ("AC000123", "ac000123"))`},
		{"job padded", listFilter{Job: " AC000123 "}, base + ` AND (O2OPrimaryJobRef IN ("AC000123", "ac000123") OR O2OSecondaryJobRef IN ("AC000123", "ac000123"))`},
		{"job in lower case", listFilter{Job: "ac000123"}, base + ` AND (O2OPrimaryJobRef IN ("AC000123", "ac000123") OR O2OSecondaryJobRef IN ("AC000123", "ac000123"))`},
		{"job in mixed case", listFilter{Job: "Ac000123"}, base + ` AND (O2OPrimaryJobRef IN ("AC000123", "ac000123", "Ac000123") OR O2OSecondaryJobRef IN ("AC000123", "ac000123", "Ac000123"))`},
		{"job without letters", listFilter{Job: "000123"}, base + ` AND (O2OPrimaryJobRef = "000123" OR O2OSecondaryJobRef = "000123")`},
		{"open", listFilter{Open: true}, `WorkflowType = "LinkedJob" AND ExecutionStatus = "Running"`},
		{"all", listFilter{State: "Paused", Link: "l1", Job: "FX/1", Open: true},
			`WorkflowType = "LinkedJob" AND ExecutionStatus = "Running" AND O2OState = "Paused" AND O2OLink = "l1" AND (O2OPrimaryJobRef IN ("FX/1", "fx/1") OR O2OSecondaryJobRef IN ("FX/1", "fx/1"))`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := buildQuery(c.f)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestBuildQueryRefusesUnsafeValues(t *testing.T) {
	for _, f := range []listFilter{
		{State: "Broken"},
		{State: "Linked OR 1=1"},
		{Link: `acme" OR O2OLink != "x`},
		{Link: "acme'"},
		{Job: `AC\"1`},
		{Job: "AC`1"},
		{Job: "AC\n1"},
		{Job: strings.Repeat("A", maxListValue+1)},
		{Link: "   "},
	} {
		_, err := buildQuery(f)
		require.Error(t, err, "%+v", f)
		var usage *usageError
		require.ErrorAs(t, err, &usage)
	}
	_, err := buildQuery(listFilter{State: "Closed"})
	require.NoError(t, err)
	_, err = parseState("Paused ")
	require.NoError(t, err)
	_, err = parseState("Running")
	require.ErrorContains(t, err, "one of Linking, Linked, NeedsAttention, Paused, Closed")
}

func TestParseBackfill(t *testing.T) {
	in := "\uFEFFPrimary Job Ref, Activity ID\r\n" +
		"# exported 2026-11-27\r\n" +
		"\r\n" +
		"AC000001,137000\r\n" +
		"  AC000002 , 137001  \n" +
		`"AC000003","137002"` + "\n" +
		"AC000004\n" +
		"AC000005,137004,extra\n" +
		"AC000006,abc\n" +
		"AC 7,137006\n" +
		",137007\n" +
		"AC000001,137000\n" +
		"   # indented comment\n"
	f, err := parseBackfill(strings.NewReader(in))
	require.NoError(t, err)
	require.Equal(t, 9, f.Entries)
	require.Equal(t, []assignment{
		{Line: 4, JobRef: "AC000001", ActivityID: "137000"},
		{Line: 5, JobRef: "AC000002", ActivityID: "137001"},
		{Line: 6, JobRef: "AC000003", ActivityID: "137002"},
		{Line: 12, JobRef: "AC000001", ActivityID: "137000", DuplicateOf: 4},
	}, f.Assignments)
	var lines []int
	var errs []string
	for _, b := range f.Bad {
		lines = append(lines, b.Line)
		errs = append(errs, b.Err)
	}
	require.Equal(t, []int{7, 8, 9, 10, 11}, lines)
	require.Contains(t, errs[0], "want 2 fields")
	require.Contains(t, errs[1], "got 3")
	require.Contains(t, errs[2], "whole number")
	require.Contains(t, errs[3], "not a job ref: it may hold only")
	require.Contains(t, errs[4], "not a job ref: it is empty")
}

// A backfill file's job refs take their canonical form: a lower-case or
// padded ref names the same job, and repeats it (issue 17).
func TestParseBackfillCanonicalJobRefs(t *testing.T) {
	f, err := parseBackfill(strings.NewReader("ac000001,137000\n\" ac000002 \",137001\n\tAc000003 ,137002\nAC000001,137000\nac:4,137003\n"))
	require.NoError(t, err)
	require.Equal(t, []assignment{
		{Line: 1, JobRef: "AC000001", ActivityID: "137000"},
		{Line: 2, JobRef: "AC000002", ActivityID: "137001"},
		{Line: 3, JobRef: "AC000003", ActivityID: "137002"},
		{Line: 4, JobRef: "AC000001", ActivityID: "137000", DuplicateOf: 1},
	}, f.Assignments)
	require.Len(t, f.Bad, 1)
	require.Equal(t, 5, f.Bad[0].Line)
}

func TestPrimaryJobRefArgument(t *testing.T) {
	for _, arg := range []string{"ac000005", " AC000005", "Ac000005\t"} {
		ref, err := primaryJobRef(arg)
		require.NoError(t, err)
		require.Equal(t, "AC000005", ref)
	}
	for _, arg := range []string{"", "AC 5", "AC000005'", "LinkedJob:acme-fixit:ac000005"} {
		_, err := primaryJobRef(arg)
		var usage *usageError
		require.ErrorAs(t, err, &usage, "%q", arg)
		require.ErrorContains(t, err, "not a job ref")
	}
}

func TestParseBackfillHeaderIsOptionalAndOnlyFirst(t *testing.T) {
	f, err := parseBackfill(strings.NewReader("AC1,1\njobRef,activityId\n"))
	require.NoError(t, err)
	require.Len(t, f.Assignments, 1)
	require.Len(t, f.Bad, 1, "a header after data is a bad line")

	f, err = parseBackfill(strings.NewReader("# nothing\n\n"))
	require.NoError(t, err)
	require.Zero(t, f.Entries)

	_, err = parseBackfill(strings.NewReader(strings.Repeat("x", maxLineLength+1)))
	require.ErrorContains(t, err, "line 1 is longer")
}

func TestUsageErrorsExit2WithoutTemporal(t *testing.T) {
	exampleConfig(t)
	for _, args := range [][]string{
		{"nosuch"},
		{"list", "--state", "Broken"},
		{"list", "--limit", "0"},
		{"list", "--link", `a"b`},
		{"list", "--job", ""},
		{"list", "extra"},
		{"link", "acme-fixit", "AC1"},
		{"link", "acme-fixit", "--dry-run"},
		{"link", "acme-fixit", "AC1", "--file", "x.csv"},
		{"link", "acme-fixit", "AC1", "not-a-number"},
		{"link", "nosuch", "AC1", "1"},
		{"skip", "acme-fixit"},
		{"retry", "nosuch", "AC1"},
		{"state", "acme-fixit", ""},
		{"check", "extra"},
		{"check", "--job", "AC 1"},
		{"pause", "acme-fixit", "AC1", "--nosuchflag"},
	} {
		r := run(t, nil, args...)
		require.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
		require.False(t, r.dialed, "%v must not connect to Temporal", args)
		require.Contains(t, r.stderr, "-h' for usage", args)
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	for _, name := range []string{"state", "list", "link", "check", "retry", "skip", "pause", "resume", "unlink"} {
		r := run(t, nil, name, "-h")
		require.Equal(t, 0, r.code, name)
		require.Contains(t, r.stdout, "Usage:", name)
		require.False(t, r.dialed)
	}
	r := run(t, nil, "help")
	require.Equal(t, 0, r.code)
	for _, name := range []string{"state", "list", "link", "check", "retry", "skip", "pause", "resume", "unlink"} {
		require.Contains(t, r.stdout, "\n  "+name+" ", name)
	}
	r = run(t, nil, "skip", "-h")
	require.Contains(t, r.stdout, "required: the link refuses skip without one")
}

// Every action records who asked: --by, or O2O_OPERATOR; without either it
// is a usage error, said before Temporal is asked, as HTTP and the Web UI
// refuse a request without "by" (issue 17: a retry recorded "BY starter").
func TestActionsNeedBy(t *testing.T) {
	exampleConfig(t)
	t.Setenv("USER", "alice")
	t.Setenv(envOperator, "")
	require.Len(t, actionDocs, len(lifecycle.Actions), "a command for every action")
	for _, d := range actionDocs {
		args := []string{d.action, "acme-fixit", "AC1", "--reason", "why"}
		if d.document {
			args = append(args, "--document", "D1")
		}
		r := run(t, nil, args...)
		require.Equal(t, 2, r.code, "%s: %s", d.action, r.stderr)
		require.Contains(t, r.stderr, d.action+" needs --by", d.action)
		require.False(t, r.dialed, d.action)
		r = run(t, nil, append(args, "--by", "  ")...)
		require.Equal(t, 2, r.code, "%s: %s", d.action, r.stderr)
	}

	t.Setenv(envOperator, "ops@acme")
	tc := &mocks.Client{}
	h := &mocks.WorkflowUpdateHandle{}
	h.On("Get", mock.Anything, mock.Anything).Return(nil)
	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		return o.Args[0].(lifecycle.OperatorRequest).By == "ops@acme"
	})).Return(h, nil).Once()
	r := run(t, tc, "retry", "acme-fixit", "AC1")
	require.Equal(t, 0, r.code, r.stderr)
	tc.AssertExpectations(t)
}

func TestTemporalUnreachableIsAFailure(t *testing.T) {
	exampleConfig(t)
	r := run(t, nil, "pause", "acme-fixit", "AC1", "--by", "alice")
	require.Equal(t, 1, r.code)
	require.True(t, r.dialed)
	require.Contains(t, r.stderr, "connect to Temporal")
}

func TestActionsUseOperate(t *testing.T) {
	exampleConfig(t)
	t.Setenv(envOperator, "alice")

	// Accepted: the link's answer is printed.
	tc := &mocks.Client{}
	h := &mocks.WorkflowUpdateHandle{}
	h.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		*(args.Get(1).(*string)) = "paused; events queue until resumed"
	}).Return(nil)
	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		r := o.Args[0].(lifecycle.OperatorRequest)
		return o.WorkflowID == "LinkedJob:acme-fixit:AC1" && o.UpdateName == "pause" && r.By == "alice" && r.Reason == "because"
	})).Return(h, nil).Once()
	r := run(t, tc, "pause", "acme-fixit", "AC1", "--reason", "because")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "LinkedJob:acme-fixit:AC1: paused; events queue until resumed\n", r.stdout)
	tc.AssertExpectations(t)

	// Refused: the link's reason, exit 1.
	tc = &mocks.Client{}
	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		return o.UpdateName == "skip" && o.Args[0].(lifecycle.OperatorRequest).By == "bob"
	})).Return(nil, temporal.NewApplicationError("link is Linked, not NeedsAttention: nothing to skip", "")).Once()
	r = run(t, tc, "skip", "--by", "bob", "--reason", "why not", "acme-fixit", "AC1")
	require.Equal(t, 1, r.code)
	require.Equal(t, "refused: link is Linked, not NeedsAttention: nothing to skip\n", r.stderr)

	// What the link would refuse for sure is a usage error, said without asking it.
	for _, args := range [][]string{{"skip", "acme-fixit", "AC1"}, {"unlink", "acme-fixit", "AC1"}, {"drop", "acme-fixit", "AC1", "--reason", "x"}} {
		r = run(t, &mocks.Client{}, args...)
		require.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
		require.Contains(t, r.stderr, "needs --")
	}

	// No such link.
	tc = &mocks.Client{}
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(nil, serviceerror.NewNotFound("workflow not found")).Once()
	r = run(t, tc, "retry", "acme-fixit", "AC9")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "no running link acme-fixit for job AC9")
}

func payload(t *testing.T, v any) *commonpb.Payload {
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func TestListPrintsLinks(t *testing.T) {
	started := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	exec := func(ref, sec, state string, status enumspb.WorkflowExecutionStatus) *workflowpb.WorkflowExecutionInfo {
		fields := map[string]*commonpb.Payload{
			"O2OLink": payload(t, "acme-fixit"), "O2OPrimaryJobRef": payload(t, ref), "O2OState": payload(t, state),
		}
		if sec != "" {
			fields["O2OSecondaryJobRef"] = payload(t, sec)
		}
		return &workflowpb.WorkflowExecutionInfo{
			Execution:        &commonpb.WorkflowExecution{WorkflowId: "LinkedJob:acme-fixit:" + ref, RunId: "r-" + ref},
			Status:           status,
			StartTime:        timestamppb.New(started),
			CloseTime:        timestamppb.New(started.Add(time.Hour)),
			SearchAttributes: &commonpb.SearchAttributes{IndexedFields: fields},
		}
	}
	tc := &mocks.Client{}
	tc.On("ListWorkflow", mock.Anything, mock.MatchedBy(func(r *workflowservice.ListWorkflowExecutionsRequest) bool {
		return r.Query == `WorkflowType = "LinkedJob" AND ExecutionStatus != "ContinuedAsNew" AND O2OLink = "acme-fixit"` && r.PageSize == 2
	})).Return(&workflowservice.ListWorkflowExecutionsResponse{
		Executions: []*workflowpb.WorkflowExecutionInfo{
			exec("AC1", "FX1", "NeedsAttention", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING),
			exec("AC2", "", "Closed", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED),
		},
		NextPageToken: []byte("more"),
	}, nil)

	r := run(t, tc, "list", "--link", "acme-fixit", "--limit", "2")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 3)
	require.Equal(t, []string{"LINK", "PRIMARY", "SECONDARY", "STATE", "STATUS", "STARTED"}, strings.Fields(lines[0]))
	require.Equal(t, []string{"acme-fixit", "AC1", "FX1", "NeedsAttention", "running"}, strings.Fields(lines[1])[:5])
	require.Equal(t, []string{"acme-fixit", "AC2", "-", "Closed", "completed"}, strings.Fields(lines[2])[:5])
	require.Contains(t, r.stderr, "showing the first 2")

	r = run(t, tc, "list", "--link", "acme-fixit", "--limit", "2", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"primaryJobRef": "AC1"`)
	require.Contains(t, r.stdout, `"secondaryJobRef": "FX1"`)
	require.Contains(t, r.stdout, `"status": "completed"`)
	require.Contains(t, r.stdout, `"startedAt": "2026-11-27T09:30:00Z"`)
}

func TestBackfillDryRunChecksTheFileOnly(t *testing.T) {
	exampleConfig(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	require.NoError(t, os.WriteFile(good, []byte("primaryJobRef,activityId\nAC1,137000\nAC2,137001\nAC1,137000\n"), 0o600))
	r := run(t, nil, "link", "acme-fixit", "--file", good, "--dry-run")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.False(t, r.dialed)
	require.Contains(t, r.stdout, "2 valid, 1 duplicate, 0 bad (3 lines); nothing was started")

	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("AC1,137000\nAC2;137001\n"), 0o600))
	r = run(t, nil, "link", "acme-fixit", "-f", bad, "--dry-run")
	require.Equal(t, 1, r.code)
	require.False(t, r.dialed)
	require.Contains(t, r.stdout, "line 2")
	require.Contains(t, r.stdout, "want 2 fields")
	require.Contains(t, r.stdout, "1 valid, 0 duplicate, 1 bad (2 lines)")

	empty := filepath.Join(dir, "empty.csv")
	require.NoError(t, os.WriteFile(empty, []byte("# nothing yet\n"), 0o600))
	r = run(t, nil, "link", "acme-fixit", "--file", empty, "--dry-run")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "holds no primaryJobRef,activityId line")

	r = run(t, nil, "link", "acme-fixit", "--file", filepath.Join(dir, "missing.csv"))
	require.Equal(t, 1, r.code)
	require.False(t, r.dialed)
	require.Contains(t, r.stderr, "no such file")
}

func TestBackfillReportsEachLine(t *testing.T) {
	exampleConfig(t)
	path := filepath.Join(t.TempDir(), "jobs.csv")
	require.NoError(t, os.WriteFile(path, []byte("AC1,1\nAC2,2\nbad line\nAC3,3\nAC4,4\n"), 0o600))
	tc := &mocks.Client{}
	running := &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}}
	completed := &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED}}
	nf := serviceerror.NewNotFound("not found")
	tc.On("DescribeWorkflowExecution", mock.Anything, "LinkedJob:acme-fixit:AC1", "").Return(nil, nf)
	tc.On("DescribeWorkflowExecution", mock.Anything, "LinkedJob:acme-fixit:AC2", "").Return(running, nil)
	tc.On("DescribeWorkflowExecution", mock.Anything, "LinkedJob:acme-fixit:AC3", "").Return(completed, nil)
	tc.On("DescribeWorkflowExecution", mock.Anything, "LinkedJob:acme-fixit:AC4", "").Return(nil, nf)
	start := func(id string) any {
		return mock.MatchedBy(func(s string) bool { return s == id })
	}
	tc.On("SignalWithStartWorkflow", mock.Anything, start("LinkedJob:acme-fixit:AC1"), "event", mock.Anything, mock.Anything, "LinkedJob", mock.Anything).Return(nil, nil)
	tc.On("SignalWithStartWorkflow", mock.Anything, start("LinkedJob:acme-fixit:AC2"), "event", mock.Anything, mock.Anything, "LinkedJob", mock.Anything).Return(nil, nil)
	tc.On("SignalWithStartWorkflow", mock.Anything, start("LinkedJob:acme-fixit:AC3"), "event", mock.Anything, mock.Anything, "LinkedJob", mock.Anything).
		Return(nil, serviceerror.NewWorkflowExecutionAlreadyStarted("closed", "", ""))
	tc.On("SignalWithStartWorkflow", mock.Anything, start("LinkedJob:acme-fixit:AC4"), "event", mock.Anything, mock.Anything, "LinkedJob", mock.Anything).
		Return(nil, serviceerror.NewUnavailable("frontend down"))

	r := run(t, tc, "link", "acme-fixit", "--file", path)
	require.Equal(t, 1, r.code, r.stderr)
	out := r.stdout
	require.Regexp(t, `line 1 +AC1 +1 +started: LinkedJob:acme-fixit:AC1`, out)
	require.Regexp(t, `line 2 +AC2 +2 +already linked`, out)
	require.Regexp(t, `line 3 +- +- +error: want 2 fields`, out)
	require.Regexp(t, `line 4 +AC3 +3 +closed`, out)
	require.Regexp(t, `line 5 +AC4 +4 +error: start LinkedJob:acme-fixit:AC4: frontend down`, out)
	require.Contains(t, out, "1 started, 1 already linked, 1 closed, 0 duplicate, 2 failed (5 lines)")
	require.Less(t, strings.Index(out, "line 2 "), strings.Index(out, "line 3 "), "file order")
}

func TestStateOfAnUnknownJobSaysWhereToLookAndRefsAreUpperCase(t *testing.T) {
	exampleConfig(t)
	tc := &mocks.Client{}
	tc.On("QueryWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC9", "", "linkState").
		Return(nil, serviceerror.NewNotFound("workflow not found")).Once()
	r := run(t, tc, "state", "acme-fixit", " ac9 ")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "no running link acme-fixit for job AC9")
	require.Contains(t, r.stderr, "starter list --job AC9", "the same hint as retry gives")
	tc.AssertExpectations(t)
}
