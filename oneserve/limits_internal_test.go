package oneserve

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is a clock that never waits: sleeping moves it forward to the
// time slept until (never back), so that a test sees the budget's waits
// as times without taking them.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.now) {
		f.now = t
	}
	return nil
}

// clockedServer answers every call with reply and records the fake time
// each call arrived at.
type clockedServer struct {
	mu       sync.Mutex
	arrivals []time.Time
}

func (s *clockedServer) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.arrivals)
}

func newClockedClient(t *testing.T, clk *fakeClock, limits Limits, reply func(w http.ResponseWriter, n int)) (*clockedServer, *Client) {
	t.Helper()
	s := &clockedServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.arrivals = append(s.arrivals, clk.Now())
		n := len(s.arrivals)
		s.mu.Unlock()
		reply(w, n)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, Token: "t", Timeout: 10 * time.Second, Limits: limits})
	require.NoError(t, err)
	c.budget.clock = clk
	return s, c
}

func okSite(w http.ResponseWriter, _ int) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"result":"success","result_msg":"","siteRef":"S1"}`)
}

// maxInAnySecond is the most arrivals within any window [t, t+1s).
func maxInAnySecond(times []time.Time) int {
	best := 0
	for i, start := range times {
		n := 0
		for _, t := range times[i:] {
			if t.Sub(start) < time.Second {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func TestBudgetSpacesCallsAtTheRate(t *testing.T) {
	clk := newFakeClock()
	start := clk.Now()
	s, c := newClockedClient(t, clk, Limits{RequestsPerSecond: 5}, okSite)
	const n = 12
	for range n {
		_, err := c.Site(context.Background(), "28", "S1")
		require.NoError(t, err)
	}
	got := s.times()
	require.Len(t, got, n)
	for i, at := range got {
		require.Equal(t, time.Duration(i)*200*time.Millisecond, at.Sub(start), "call %d: one every 200 ms at 5/s, none at once", i)
	}
	require.Equal(t, 5, maxInAnySecond(got), "never more than 5 in any second")
}

func TestBudgetIsSharedByConcurrentCallers(t *testing.T) {
	clk := newFakeClock()
	start := clk.Now()
	s, c := newClockedClient(t, clk, Limits{RequestsPerSecond: 4, Concurrency: 3}, okSite)
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := c.Site(context.Background(), "28", "S1")
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Len(t, s.times(), n)
	// 20 tokens at 4/s (burst 1) take 19 × 250 ms whoever asks for them:
	// without a shared budget, the fake clock would not have moved.
	require.Equal(t, 19*250*time.Millisecond, clk.Now().Sub(start))
}

func TestTooManyRequestsHoldsBackEveryCall(t *testing.T) {
	clk := newFakeClock()
	start := clk.Now()
	s, c := newClockedClient(t, clk, Limits{}, func(w http.ResponseWriter, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		okSite(w, n)
	})
	_, err := c.Site(context.Background(), "28", "S1")
	require.True(t, IsTemporary(err))
	require.Equal(t, 3*time.Second, err.(*Error).RetryAfter)

	// The next calls, whoever makes them, start no sooner than 3 s later.
	for range 3 {
		_, err = c.Site(context.Background(), "28", "S1")
		require.NoError(t, err)
	}
	got := s.times()
	require.Len(t, got, 4)
	require.Equal(t, start, got[0])
	for _, at := range got[1:] {
		require.Equal(t, 3*time.Second, at.Sub(start))
	}
}

func TestTooManyRequestsWithoutRetryAfterPausesBriefly(t *testing.T) {
	clk := newFakeClock()
	start := clk.Now()
	s, c := newClockedClient(t, clk, Limits{RequestsPerSecond: 10, Concurrency: 2}, func(w http.ResponseWriter, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		okSite(w, n)
	})
	_, err := c.Site(context.Background(), "28", "S1")
	require.True(t, IsTemporary(err))
	_, err = c.Site(context.Background(), "28", "S1")
	require.NoError(t, err)
	require.Equal(t, tooManyRequestsPause, s.times()[1].Sub(start))
}

func TestLongPauseIsHandedBackAsRetryAfter(t *testing.T) {
	clk := newFakeClock()
	s, c := newClockedClient(t, clk, Limits{RequestsPerSecond: 10}, func(w http.ResponseWriter, n int) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err := c.Site(context.Background(), "28", "S1")
	require.True(t, IsTemporary(err))

	// 120 s is longer than a call may take (Timeout 10 s): the call is not
	// sent and not held; the caller is told when to come back.
	before := clk.Now()
	_, err = c.Documents(context.Background(), "J1")
	oe := err.(*Error)
	require.Equal(t, KindTemporary, oe.Kind)
	require.Equal(t, "documents", oe.Op)
	require.Zero(t, oe.StatusCode, "not sent")
	require.Equal(t, 120*time.Second, oe.RetryAfter)
	require.Contains(t, oe.Message, "429")
	require.Len(t, s.times(), 1)
	require.Equal(t, before, clk.Now(), "nothing waited")

	// Once the pause is over, calls go again.
	require.NoError(t, clk.SleepUntil(context.Background(), before.Add(120*time.Second)))
	_, _ = c.Site(context.Background(), "28", "S1")
	require.Len(t, s.times(), 2)

	// A pause that the call's deadline would not survive is handed back too.
	clk2 := newFakeClock()
	s2, c2 := newClockedClient(t, clk2, Limits{}, func(w http.ResponseWriter, n int) {
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, _ = c2.Site(context.Background(), "28", "S1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = c2.Site(ctx, "28", "S1")
	require.Equal(t, 5*time.Second, err.(*Error).RetryAfter)
	require.Len(t, s2.times(), 1)
}

func TestRateWaitPastTheDeadlineIsNotStarted(t *testing.T) {
	clk := newFakeClock()
	s, c := newClockedClient(t, clk, Limits{RequestsPerSecond: 0.01}, okSite) // one call per 100 s
	_, err := c.Site(context.Background(), "28", "S1")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := clk.Now()
	_, err = c.Site(ctx, "28", "S1")
	oe := err.(*Error)
	require.Equal(t, KindTemporary, oe.Kind)
	require.Equal(t, 100*time.Second, oe.RetryAfter)
	require.True(t, strings.HasPrefix(oe.Message, "not sent: the API budget (0.01 requests/s)"), oe.Message)
	require.Len(t, s.times(), 1)
	require.Equal(t, before, clk.Now())

	// The token it did not use is given back: a call without a deadline
	// waits for the next one, 100 s after the first call, not 200 s.
	_, err = c.Site(context.Background(), "28", "S1")
	require.NoError(t, err)
	require.Equal(t, 100*time.Second, s.times()[1].Sub(s.times()[0]))
}
