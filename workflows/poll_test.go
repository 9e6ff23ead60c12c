package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/internal/linktest"
	"github.com/o2o-sync/o2o/workflows"
)

// pollRun is one run of the Poll workflow in the SDK's test environment,
// with its activities mocked: read answers each window, dispatch each batch.
type pollRun struct {
	prev     *workflows.PollResult
	now      time.Time
	in       workflows.PollInput
	read     func(activities.ReadJobEventsInput) (activities.ReadJobEventsResult, error)
	dispatch func(workflows.PollDispatchInput) (workflows.PollDispatchResult, error)

	// What the run asked.
	windows    []activities.ReadJobEventsInput
	dispatched []workflows.PollJob
}

func (r *pollRun) execute(t *testing.T) (workflows.PollResult, error) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	acts, err := activities.New(linktest.Config())
	require.NoError(t, err)
	workflows.Register(env, acts, nil)
	env.SetStartTime(r.now)
	if r.prev != nil {
		env.SetLastCompletionResult(*r.prev)
	}
	env.OnActivity(acts.ReadJobEvents, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReadJobEventsInput) (activities.ReadJobEventsResult, error) {
			r.windows = append(r.windows, in)
			return r.read(in)
		})
	poller := &workflows.Poller{}
	env.OnActivity(poller.PollDispatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.PollDispatchInput) (workflows.PollDispatchResult, error) {
			require.Equal(t, r.in.System, in.System)
			r.dispatched = append(r.dispatched, in.Jobs...)
			if r.dispatch == nil {
				return workflows.PollDispatchResult{Reconciled: len(in.Jobs)}, nil
			}
			return r.dispatch(in)
		}).Maybe()
	env.ExecuteWorkflow(workflows.PollWorkflowName, r.in)
	if err := env.GetWorkflowError(); err != nil {
		return workflows.PollResult{}, err
	}
	var res workflows.PollResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res, nil
}

// at is a time on the tests' day (UTC).
func at(hh, mm, ss int) time.Time { return time.Date(2026, 11, 27, hh, mm, ss, 0, time.UTC) }

func ev(key, jobRef string, when time.Time) activities.PolledEvent {
	return activities.PolledEvent{Key: key, ClientID: "41", JobRef: jobRef, At: when}
}

var fixitPoll = workflows.PollInput{System: "fixit", Overlap: 5 * time.Minute, Lookback: time.Hour}

// TestPollReadsFromTheMarkLessTheOverlapAndActsOnWhatIsNew: a run reads
// from the previous run's high-water mark less the overlap up to now; the
// events the previous run handled (its Seen) and events read twice are
// skipped; the new ones are grouped by job and dispatched once per job;
// the result carries the new mark and the keys of the events within the
// overlap, for the next run.
func TestPollReadsFromTheMarkLessTheOverlapAndActsOnWhatIsNew(t *testing.T) {
	r := &pollRun{
		prev: &workflows.PollResult{System: "fixit", Mark: at(9, 58, 0), Seen: []string{"k1"}},
		now:  at(10, 0, 0).Add(700 * time.Millisecond),
		in:   fixitPoll,
		read: func(activities.ReadJobEventsInput) (activities.ReadJobEventsResult, error) {
			assigned := ev("k4", "AC000002", at(9, 55, 0))
			assigned.ClientID, assigned.Assignment = "28", true
			return activities.ReadJobEventsResult{Calls: 2, Events: []activities.PolledEvent{
				ev("k0", "FX000007", at(9, 53, 0)),  // dated before the mark but recorded late: first read now
				ev("k1", "FX000001", at(9, 57, 30)), // handled by the previous run
				ev("k2", "FX000001", at(9, 59, 0)),
				ev("k3", "FX000001", at(9, 59, 10)),
				assigned,
				ev("k2", "FX000001", at(9, 59, 0)), // the same event twice in one answer
			}}, nil
		},
	}
	res, err := r.execute(t)
	require.NoError(t, err)

	require.Equal(t, []activities.ReadJobEventsInput{{System: "fixit", From: at(9, 53, 0), To: at(10, 0, 0)}}, r.windows,
		"one window, from the mark less the overlap to now (whole seconds)")
	require.Equal(t, []workflows.PollJob{
		{ClientID: "41", JobRef: "FX000007", At: at(9, 53, 0)},
		{ClientID: "41", JobRef: "FX000001", At: at(9, 59, 10)},
		{ClientID: "28", JobRef: "AC000002", At: at(9, 55, 0), Assignment: true},
	}, r.dispatched, "each job once, with its latest event's date")
	require.Equal(t, at(10, 0, 0), res.Mark)
	require.Equal(t, []string{"k1", "k2", "k3", "k4"}, res.Seen, "the events within the overlap (from 09:55:00), each once")
	require.Equal(t, 6, res.Read)
	require.Equal(t, 4, res.New)
	require.Equal(t, 3, res.Jobs)
	require.Equal(t, 3, res.Reconciled)
	require.Equal(t, 2, res.Calls)
	require.Equal(t, 1, res.Windows)
	require.Contains(t, res.Summary(), "6 job events read (4 new, on 3 jobs)")

	// The next run, a minute later, reads the overlap again: what this run
	// handled is skipped; only the new event is dispatched.
	next := &pollRun{prev: &res, now: at(10, 1, 0), in: fixitPoll,
		read: func(activities.ReadJobEventsInput) (activities.ReadJobEventsResult, error) {
			return activities.ReadJobEventsResult{Events: []activities.PolledEvent{
				ev("k1", "FX000001", at(9, 57, 30)), ev("k2", "FX000001", at(9, 59, 0)),
				ev("k3", "FX000001", at(9, 59, 10)), ev("k5", "FX000009", at(10, 0, 30)),
			}}, nil
		}}
	res, err = next.execute(t)
	require.NoError(t, err)
	require.Equal(t, []activities.ReadJobEventsInput{{System: "fixit", From: at(9, 55, 0), To: at(10, 1, 0)}}, next.windows)
	require.Equal(t, []workflows.PollJob{{ClientID: "41", JobRef: "FX000009", At: at(10, 0, 30)}}, next.dispatched)
	require.Equal(t, at(10, 1, 0), res.Mark)
	require.Equal(t, []string{"k1", "k2", "k3", "k5"}, res.Seen, "k4 (09:55:00) is not read again: it is outside the overlap now")
	require.Equal(t, 1, res.New)
}

// TestPollWindows: the first run (no mark) reads back the lookback, in
// windows of at most an hour; a run that fell far behind reads at most 48
// windows and the next run goes on from there; a run with nothing to read
// keeps the state as it was.
func TestPollWindows(t *testing.T) {
	none := func(activities.ReadJobEventsInput) (activities.ReadJobEventsResult, error) {
		return activities.ReadJobEventsResult{}, nil
	}
	first := &pollRun{now: at(10, 0, 0), in: workflows.PollInput{System: "fixit", Overlap: time.Minute, Lookback: 90 * time.Minute}, read: none}
	res, err := first.execute(t)
	require.NoError(t, err)
	require.Equal(t, []activities.ReadJobEventsInput{
		{System: "fixit", From: at(8, 30, 0), To: at(9, 30, 0)},
		{System: "fixit", From: at(9, 30, 0), To: at(10, 0, 0)},
	}, first.windows)
	require.Equal(t, at(10, 0, 0), res.Mark)
	require.Equal(t, at(8, 30, 0), res.From)
	require.Empty(t, res.Seen)
	require.Empty(t, first.dispatched, "nothing new, nothing dispatched")

	behind := &pollRun{prev: &workflows.PollResult{System: "fixit", Mark: at(10, 0, 0).Add(-72 * time.Hour)}, now: at(10, 0, 0), in: fixitPoll, read: none}
	res, err = behind.execute(t)
	require.NoError(t, err)
	require.Len(t, behind.windows, 48)
	from := at(9, 55, 0).Add(-72 * time.Hour)
	require.Equal(t, from, behind.windows[0].From)
	for i, w := range behind.windows {
		require.Equal(t, from.Add(time.Duration(i)*time.Hour), w.From, "contiguous")
		require.Equal(t, time.Hour, w.To.Sub(w.From))
	}
	require.Equal(t, from.Add(48*time.Hour), res.Mark, "the mark stops where the reading stopped")

	// A previous result of another system is not used (read from the lookback).
	other := &pollRun{prev: &workflows.PollResult{System: "acme", Mark: at(9, 59, 0)}, now: at(10, 0, 0), in: fixitPoll, read: none}
	_, err = other.execute(t)
	require.NoError(t, err)
	require.Equal(t, at(9, 0, 0), other.windows[0].From)
}

// TestPollTriesAgainWhatWasNotHandled: the jobs a dispatch could not
// handle (a failed reconciliation, a secondary job not yet found through
// visibility) keep their events out of Seen, so the next run, reading the
// overlap again, dispatches them again; a dispatch that fails as a whole
// counts every job of its batch as failed.
func TestPollTriesAgainWhatWasNotHandled(t *testing.T) {
	events := func(activities.ReadJobEventsInput) (activities.ReadJobEventsResult, error) {
		return activities.ReadJobEventsResult{Events: []activities.PolledEvent{
			ev("a1", "FX000001", at(9, 58, 0)), ev("b1", "FX000002", at(9, 58, 5)), ev("b2", "FX000002", at(9, 59, 0)),
		}}, nil
	}
	r := &pollRun{prev: &workflows.PollResult{System: "fixit", Mark: at(9, 59, 0)}, now: at(10, 0, 0), in: fixitPoll, read: events,
		dispatch: func(in workflows.PollDispatchInput) (workflows.PollDispatchResult, error) {
			return workflows.PollDispatchResult{Reconciled: 1, Failed: 1, Retry: []workflows.PollJob{in.Jobs[1]},
				Failures: []string{"reconciling link acme-fixit of job FX000002: acme: HTTP 503"}}, nil
		}}
	res, err := r.execute(t)
	require.NoError(t, err)
	require.Equal(t, []string{"a1"}, res.Seen, "FX000002's events are to be handled again")
	require.Equal(t, 1, res.Failed)
	require.Equal(t, 1, res.Retry)
	require.Equal(t, []string{"reconciling link acme-fixit of job FX000002: acme: HTTP 503"}, res.Failures)

	again := &pollRun{prev: &res, now: at(10, 1, 0), in: fixitPoll, read: events}
	res, err = again.execute(t)
	require.NoError(t, err)
	require.Equal(t, []workflows.PollJob{{ClientID: "41", JobRef: "FX000002", At: at(9, 59, 0)}}, again.dispatched)
	require.Equal(t, []string{"a1", "b1", "b2"}, res.Seen)

	broken := &pollRun{prev: &workflows.PollResult{System: "fixit", Mark: at(9, 59, 0)}, now: at(10, 0, 0), in: fixitPoll, read: events,
		dispatch: func(workflows.PollDispatchInput) (workflows.PollDispatchResult, error) {
			return workflows.PollDispatchResult{}, temporal.NewNonRetryableApplicationError("temporal unreachable", "Test", nil)
		}}
	res, err = broken.execute(t)
	require.NoError(t, err)
	require.Equal(t, 2, res.Failed)
	require.Empty(t, res.Seen)
	require.Equal(t, at(10, 0, 0), res.Mark, "the mark moves on: the events are within the overlap of the next run")
	require.Contains(t, res.Failures[0], "jobs 1–2: temporal unreachable")
}

// TestPollThatCannotReadFailsAndKeepsTheMark: a run that cannot read its
// first window fails (the schedule hands the next run the last completed
// run's result, so the mark stays); one that read some windows handles
// them and stops its mark there.
func TestPollThatCannotReadFailsAndKeepsTheMark(t *testing.T) {
	down := func(activities.ReadJobEventsInput) (activities.ReadJobEventsResult, error) {
		return activities.ReadJobEventsResult{}, temporal.NewNonRetryableApplicationError("fixit: jobEventsXML: job[0]: eventRef is missing", activities.ErrTypeRejected, nil)
	}
	r := &pollRun{prev: &workflows.PollResult{System: "fixit", Mark: at(9, 59, 0)}, now: at(10, 0, 0), in: fixitPoll, read: down}
	_, err := r.execute(t)
	require.Error(t, err)
	require.Contains(t, err.Error(), "eventRef is missing")
	require.Empty(t, r.dispatched)

	calls := 0
	partly := &pollRun{prev: &workflows.PollResult{System: "fixit", Mark: at(7, 0, 0)}, now: at(10, 0, 0), in: fixitPoll,
		read: func(in activities.ReadJobEventsInput) (activities.ReadJobEventsResult, error) {
			if calls++; calls == 2 {
				return activities.ReadJobEventsResult{}, temporal.NewNonRetryableApplicationError("fixit: HTTP 401", activities.ErrTypeUnauthorized, errors.New("401"))
			}
			return activities.ReadJobEventsResult{Events: []activities.PolledEvent{ev("x", "FX000001", in.From.Add(time.Minute))}}, nil
		}}
	res, err := partly.execute(t)
	require.NoError(t, err)
	require.Len(t, partly.windows, 2)
	require.Equal(t, at(7, 55, 0), res.Mark, "the end of the one window read")
	require.Equal(t, 1, res.Windows)
	require.Len(t, partly.dispatched, 1)
	require.Contains(t, res.Failures[0], "fixit: HTTP 401")
}
