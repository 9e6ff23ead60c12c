//go:build integration

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/lifecycle"

	"github.com/o2o-sync/o2o/workflows"
)

// starterRun is one run of the starter binary.
type starterRun struct {
	stdout, stderr string
	code           int
}

func (r starterRun) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// starter runs the starter binary against this stack, with extra
// environment variables (which win over the stack's).
func (s *stack) starter(env []string, args ...string) starterRun {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "starter"), args...)
	cmd.Env = s.env(env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := starterRun{stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		s.t.Fatalf("run starter %v: %v", args, err)
	}
	return r
}

// listed runs starter list --json with args until check accepts the rows
// (visibility is eventually consistent).
func (s *stack) listed(check func(c *assert.CollectT, rows []map[string]any), args ...string) {
	s.t.Helper()
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		r := s.starter(nil, append([]string{"list", "--json"}, args...)...)
		if !assert.Equal(c, 0, r.code, r.String()) {
			return
		}
		var rows []map[string]any
		if !assert.NoError(c, json.Unmarshal([]byte(r.stdout), &rows), r.stdout) {
			return
		}
		check(c, rows)
	}, 30*time.Second, 300*time.Millisecond)
}

// oneRow expects exactly one listed link, the job's, with state and status.
func oneRow(ref, state, status string) func(c *assert.CollectT, rows []map[string]any) {
	return func(c *assert.CollectT, rows []map[string]any) {
		if !assert.Len(c, rows, 1) {
			return
		}
		assert.Equal(c, "acme-fixit", rows[0]["link"])
		assert.Equal(c, ref, rows[0]["primaryJobRef"])
		assert.Equal(c, state, rows[0]["state"])
		assert.Equal(c, status, rows[0]["status"])
	}
}

func TestStarterListPauseResume(t *testing.T) {
	s := newStack(t, "SA")
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	ref := job.JobRef
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(ref, 1).SecondaryJobRef

	// list finds the link by state, by link and by either job ref.
	s.listed(oneRow(ref, "Linked", "running"), "--state", "Linked", "--job", ref)
	s.listed(oneRow(ref, "Linked", "running"), "--job", fx)
	s.listed(func(c *assert.CollectT, rows []map[string]any) {
		var refs []any
		for _, r := range rows {
			refs = append(refs, r["primaryJobRef"])
		}
		assert.Contains(c, refs, ref)
	}, "--link", "acme-fixit", "--open")
	r := s.starter(nil, "list", "--state", "NeedsAttention", "--job", ref)
	require.Equal(t, 0, r.code, r.String())
	require.Equal(t, "No links found.\n", r.stdout)
	r = s.starter(nil, "list", "--link", "acme-fixit", "--job", ref)
	require.Equal(t, 0, r.code, r.String())
	require.Regexp(t, `LINK +PRIMARY +SECONDARY +STATE +STATUS +STARTED\nacme-fixit +`+ref+` +`+fx+` +Linked +running +\d{4}-\d\d-\d\d \d\d:\d\d\n`, r.stdout)
	r = s.starter(nil, "list", "--state", "Bogus")
	require.Equal(t, 2, r.code, r.String())
	require.Contains(t, r.stderr, "one of Linking, Linked, NeedsAttention, Paused, Closed")

	// Pause: events queue.
	r = s.starter(nil, "pause", "--by", "e2e", "--reason", "checking the job by phone", "acme-fixit", ref)
	require.Equal(t, 0, r.code, r.String())
	require.Equal(t, "LinkedJob:acme-fixit:"+ref+": paused; events queue until resumed\n", r.stdout)
	s.act("fixit", http.MethodPost, "/jobs/"+fx+"/status", map[string]string{"status": "Accepted"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", ref)
		assert.Equal(c, lifecycle.StatePaused, st.State)
		assert.Equal(c, 1, st.Pending)
		assert.Len(c, st.Events, 1)
	}, 20*time.Second, 100*time.Millisecond)
	require.Empty(t, s.job("acme", ref).History, "nothing applied while paused")
	s.listed(oneRow(ref, "Paused", "running"), "--state", "paused", "--job", ref)

	r = s.starter(nil, "pause", "--by", "e2e", "acme-fixit", ref)
	require.Equal(t, 1, r.code, r.String())
	require.Equal(t, "refused: link is already paused\n", r.stderr)

	r = s.starter(nil, "state", "acme-fixit", ref)
	require.Equal(t, 0, r.code, r.String())
	require.Contains(t, r.stdout, "State:      Paused")
	require.Contains(t, r.stdout, "Pending:    1")
	require.Regexp(t, `pause +e2e +checking the job by phone`, r.stdout)

	// Resume: the queued event goes ahead.
	r = s.starter(nil, "resume", "--by", "e2e", "acme-fixit", ref)
	require.Equal(t, 0, r.code, r.String())
	require.Contains(t, r.stdout, "resumed; 1 queued event(s) go ahead")
	st := s.settle(ref, 2)
	require.Equal(t, lifecycle.StateLinked, st.State)
	require.Equal(t, lifecycle.OutcomeApplied, st.Events[1].Outcome, st.Events[1].Detail)
	require.Equal(t, []string{"SACC"}, historyCodes(s.job("acme", ref)))
}

func TestStarterSkipAndUnlink(t *testing.T) {
	s := newStack(t, "SB")
	// SITE-003 is missing in fixit: the link needs attention.
	job := s.createAcmeJob("SITE-003", "CON-003", [2]string{"PLB001", "1"})
	ref := job.JobRef
	s.assign("acme", job.Activities[0].ID, "7")
	s.waitStateAttention(ref)
	s.listed(oneRow(ref, "NeedsAttention", "running"), "--state", "NeedsAttention", "--link", "acme-fixit", "--job", ref)

	// Skip without a reason: a usage error, said before asking the link.
	r := s.starter(nil, "skip", "--by", "e2e", "acme-fixit", ref)
	require.Equal(t, 2, r.code, r.String())
	require.Contains(t, r.stderr, "skip needs --reason")
	require.Empty(t, r.stdout)

	r = s.starter(nil, "skip", "--by", "e2e", "--reason", "the site is not a fixit site", "acme-fixit", ref)
	require.Equal(t, 0, r.code, r.String())
	require.Contains(t, r.stdout, "skipped event ")
	st := s.settle(ref, 1)
	require.Equal(t, lifecycle.OutcomeFailed, st.Events[0].Outcome)
	require.Contains(t, st.Events[0].Detail, "skipped by e2e: the site is not a fixit site")
	require.NotEqual(t, lifecycle.StateNeedsAttention, st.State)

	// Unlink: a reason is required too; then the link closes.
	r = s.starter(nil, "unlink", "--by", "e2e", "acme-fixit", ref)
	require.Equal(t, 2, r.code, r.String())
	require.Contains(t, r.stderr, "unlink needs --reason")
	r = s.starter(nil, "unlink", "--by", "e2e", "--reason", "raised in error", "acme-fixit", ref)
	require.Equal(t, 0, r.code, r.String())
	require.Contains(t, r.stdout, "unlinking: both jobs stay as they are; the link closes")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, _ := s.linkState("acme-fixit", ref)
		assert.Equal(c, lifecycle.StateClosed, st.State)
	}, 20*time.Second, 100*time.Millisecond)
	s.listed(oneRow(ref, "Closed", "completed"), "--state", "Closed", "--job", ref)
	s.listed(func(c *assert.CollectT, rows []map[string]any) { assert.Empty(c, rows) }, "--job", ref, "--open")

	// A closed link takes no more actions.
	r = s.starter(nil, "resume", "--by", "e2e", "acme-fixit", ref)
	require.Equal(t, 1, r.code, r.String())
	require.Contains(t, r.stderr, "no running link acme-fixit for job "+ref)
	r = s.starter(nil, "retry", "--by", "e2e", "acme-fixit", "SB404404")
	require.Equal(t, 1, r.code, r.String())
	require.Contains(t, r.stderr, "no running link acme-fixit for job SB404404")
}

func TestStarterBackfill(t *testing.T) {
	s := newStack(t, "SC")
	// Assignments made while O2O was not listening: their events are lost.
	s.webhook.stop(t)
	one := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	two := s.createAcmeJob("SITE-002", "CON-002", [2]string{"PLB002", "2"})
	s.assign("acme", one.Activities[0].ID, "7")
	s.assign("acme", two.Activities[0].ID, "7")

	file := filepath.Join(t.TempDir(), "jobs.csv")
	require.NoError(t, os.WriteFile(file, []byte("primaryJobRef,activityId\n"+
		"# assignments lost on 27 November\n\n"+
		one.JobRef+","+one.Activities[0].ID+"\n"+
		"this line,is,bad\n"+
		two.JobRef+","+two.Activities[0].ID+"\n"), 0o600))

	// A dry run checks the file and starts nothing.
	r := s.starter(nil, "link", "acme-fixit", "--file", file, "--dry-run")
	require.Equal(t, 1, r.code, r.String())
	require.Contains(t, r.stdout, "2 valid, 0 duplicate, 1 bad (3 lines); nothing was started")
	require.Regexp(t, `line 5 +- +- +error: want 2 fields`, r.stdout)
	_, err := devServer.Client().DescribeWorkflowExecution(t.Context(), workflows.WorkflowID("acme-fixit", one.JobRef), "")
	require.Error(t, err, "a dry run starts nothing")

	// The real run starts both and reports the bad line; exit 1.
	r = s.starter(nil, "link", "acme-fixit", "--file", file)
	require.Equal(t, 1, r.code, r.String())
	require.Regexp(t, `line 4 +`+one.JobRef+` +`+one.Activities[0].ID+` +started: LinkedJob:acme-fixit:`+one.JobRef, r.stdout)
	require.Regexp(t, `line 5 +- +- +error: want 2 fields, primaryJobRef,activityId; got 3`, r.stdout)
	require.Regexp(t, `line 6 +`+two.JobRef+` +`+two.Activities[0].ID+` +started`, r.stdout)
	require.Contains(t, r.stdout, "Link acme-fixit from "+file+": 2 started, 0 already linked, 0 closed, 0 duplicate, 1 failed (3 lines).")

	for _, ref := range []string{one.JobRef, two.JobRef} {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			r := s.starter(nil, "state", "--json", "acme-fixit", ref)
			var st lifecycle.LinkState
			if assert.Equal(c, 0, r.code, r.String()) && assert.NoError(c, json.Unmarshal([]byte(r.stdout), &st)) {
				assert.Equal(c, lifecycle.StateLinked, st.State)
				assert.NotEmpty(c, st.SecondaryJobRef)
			}
		}, 60*time.Second, 300*time.Millisecond)
		require.Len(t, s.secondaryJobs(ref), 1)
	}

	// Again: both already linked, nothing new.
	r = s.starter(nil, "link", "acme-fixit", "--file", file)
	require.Equal(t, 1, r.code, r.String())
	require.Contains(t, r.stdout, "0 started, 2 already linked, 0 closed, 0 duplicate, 1 failed (3 lines).")
	s.listed(func(c *assert.CollectT, rows []map[string]any) { assert.Len(c, rows, 1) }, "--link", "acme-fixit", "--job", two.JobRef)
	for _, ref := range []string{one.JobRef, two.JobRef} {
		require.Len(t, s.secondaryJobs(ref), 1, "never a second job")
	}

	// A clean file exits 0.
	clean := filepath.Join(t.TempDir(), "clean.csv")
	require.NoError(t, os.WriteFile(clean, []byte(one.JobRef+","+one.Activities[0].ID+"\n"), 0o600))
	r = s.starter(nil, "link", "acme-fixit", "--file", clean)
	require.Equal(t, 0, r.code, r.String())
	require.Contains(t, r.stdout, "0 started, 1 already linked")
}

func TestStarterCheck(t *testing.T) {
	s := newStack(t, "SD")
	good := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "2"})
	s.assign("acme", good.Activities[0].ID, "7")
	s.settle(good.JobRef, 1)
	bad := s.createAcmeJob("SITE-003", "CON-003", [2]string{"PLB001", "1"})
	// check needs no Temporal: point it at nothing.
	noTemporal := []string{"TEMPORAL_ADDRESS=127.0.0.1:1"}

	r := s.starter(noTemporal, "check", "--job", good.JobRef)
	require.Equal(t, 0, r.code, r.String())
	for _, want := range []string{
		"✓ reachable, token (O2O_ACME_TOKEN) accepted",
		"✓ reachable, token (O2O_FIXIT_TOKEN) accepted",
		"✓ job read (GET /rest/workflow/job/{jobRef}) — an unknown job answered HTTP 404",
		"✓ acme: job " + good.JobRef + " read (site SITE-001, contact CON-001, priority Emergency",
		"✓ priority Emergency → P1 Emergency (11)",
		"✓ fixit: site SITE-001 exists for client Acme Housing (41)",
		"✓ fixit: contact CON-001 is a contact of site SITE-001",
		"✓ acme: 1 activity(ies) assigned to team Fixit Plumbing (subcontract) (7): " + good.Activities[0].ID + " PLB001 × 2",
		"SOR code(s) PLB001: not checkable through Oneserve's public API",
		"✓ fixit: job read and document list confirmed with ",
		"All checks passed",
	} {
		require.Contains(t, r.stdout, want)
	}

	r = s.starter(noTemporal, "check", "--job", good.JobRef, "--job", bad.JobRef)
	require.Equal(t, 1, r.code, r.String())
	require.Contains(t, r.stdout, "✗ fixit: site SITE-003 (client 41) does not exist — needed by "+bad.JobRef)
	require.Contains(t, r.stdout, "1 check(s) failed:")

	r = s.starter(append(noTemporal, "O2O_FIXIT_TOKEN=not-the-token"), "check", "--job", good.JobRef)
	require.Equal(t, 1, r.code, r.String())
	require.Contains(t, r.stdout, "✗ fixit: token refused (HTTP 401")
	require.Contains(t, r.stdout, "check that O2O_FIXIT_TOKEN holds the token of O2O's API user in fixit")
	require.NotContains(t, r.stdout+r.stderr, "not-the-token")
	require.False(t, strings.Contains(r.stdout, "✗ acme"), r.stdout)
}
