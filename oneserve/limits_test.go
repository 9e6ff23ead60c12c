package oneserve_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/oneserve"
)

func withLimits(l oneserve.Limits) func(*oneserve.Options) {
	return func(o *oneserve.Options) { o.Limits = l }
}

func TestLimitsAreChecked(t *testing.T) {
	for _, l := range []oneserve.Limits{{RequestsPerSecond: -1}, {Concurrency: -2}, {RequestsPerSecond: math.NaN()}, {RequestsPerSecond: math.Inf(1)}} {
		_, err := oneserve.New(oneserve.Options{BaseURL: "https://h/t", Limits: l})
		require.ErrorContains(t, err, "Limits.", "%+v", l)
	}
	_, err := oneserve.New(oneserve.Options{BaseURL: "https://h/t", Limits: oneserve.DefaultLimits})
	require.NoError(t, err)
	require.Equal(t, oneserve.Limits{RequestsPerSecond: 10, Concurrency: 4}, oneserve.DefaultLimits)
}

func TestConcurrencyNeverAboveTheSetting(t *testing.T) {
	const limit, calls = 3, 24
	var inFlight, most atomic.Int32
	full := make(chan struct{})
	var fullOnce sync.Once
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if n == limit {
			fullOnce.Do(func() { close(full) })
		}
		// The first calls wait until the limit is reached, so that the
		// test also shows the calls really run side by side (a guard
		// keeps a broken limiter from hanging it); every call then takes
		// a moment, so that calls let through beyond the limit would pile
		// up.
		select {
		case <-full:
		case <-time.After(5 * time.Second):
		}
		time.Sleep(10 * time.Millisecond)
		jsonReply(200, success)(w, r, nil)
	}, withLimits(oneserve.Limits{Concurrency: limit}))

	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			var err error
			switch i % 3 {
			case 0:
				_, err = c.Site(context.Background(), "41", "S1")
			case 1:
				err = c.AddEventByClientRef(context.Background(), oneserve.JobEvent{JobRef: "J1", ClientID: "41", EventCode: "N", Note: "n", Date: time.Now()})
			case 2:
				_, err = c.UploadDocument(context.Background(), "J1", oneserve.Upload{FileName: "a.txt", Category: "C", Size: 3, Body: strings.NewReader("abc")})
			}
			// Uploads get the envelope without a documentId: refused, but sent.
			if err != nil {
				require.Contains(t, err.Error(), "documentId")
			}
		})
	}
	wg.Wait()
	require.Len(t, f.requests(), calls)
	require.Equal(t, int32(limit), most.Load(), "never more than %d in flight, and that many side by side", limit)
}

func TestDownloadFreesItsSlotWhenTheHeadersArrive(t *testing.T) {
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if strings.HasSuffix(r.URL.Path, "/content") {
			w.Header().Set("Content-Length", "5")
			_, _ = io.WriteString(w, "hello")
			return
		}
		jsonReply(200, success)(w, r, nil)
	}, withLimits(oneserve.Limits{Concurrency: 1}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := c.DownloadDocument(ctx, "D1", 0)
	require.NoError(t, err)
	defer d.Body.Close()
	// While the body is still unread (as when it is being copied into an
	// upload), the system's only slot is free for other calls.
	_, err = c.Site(ctx, "41", "S1")
	require.NoError(t, err)
	b, err := io.ReadAll(d.Body)
	require.NoError(t, err)
	require.Equal(t, "hello", string(b))
}

func TestBudgetWaitEndsWithTheContext(t *testing.T) {
	// Waiting for a token: one call per 1,000 s, the first one used.
	f, c := newFake(t, jsonReply(200, success), withLimits(oneserve.Limits{RequestsPerSecond: 0.001}))
	_, err := c.Site(context.Background(), "41", "S1")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = c.Site(ctx, "41", "S1")
	require.ErrorIs(t, err, context.Canceled)
	require.True(t, oneserve.IsTemporary(err))
	require.Equal(t, "site", oneserveError(t, err).Op)
	require.Len(t, f.requests(), 1, "the cancelled call was never sent")

	// Waiting for a slot held by a call that does not end.
	release := make(chan struct{})
	f, c = newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.URL.Path == "/tenant/rest/contact/sites/41/HANG" {
			<-release
		}
		jsonReply(200, success)(w, r, nil)
	}, withLimits(oneserve.Limits{Concurrency: 1}))
	defer close(release)
	hung := make(chan error, 1)
	go func() {
		_, err := c.Site(context.Background(), "41", "HANG")
		hung <- err
	}()
	require.Eventually(t, func() bool { return len(f.requests()) == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err = c.AddEventByClientRef(ctx, oneserve.JobEvent{JobRef: "J1", ClientID: "41", EventCode: "N", Note: "n", Date: time.Now()})
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, f.requests(), 1, "the waiting call was never sent")

	// A context already over is not even queued.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = c.Site(ctx, "41", "S1")
	require.ErrorIs(t, err, context.Canceled)
}

func TestTooManyRequestsBlocksTheSystemsNextCalls(t *testing.T) {
	var sent atomic.Int32
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if sent.Add(1) == 1 {
			w.Header().Set("Retry-After", "120")
			jsonReply(429, `{"result":"error","result_msg":"Too many calls"}`)(w, r, nil)
			return
		}
		jsonReply(200, success)(w, r, nil)
	}, withLimits(oneserve.DefaultLimits))
	_, err := c.CreateJob(context.Background(), oneserve.CreateJobRequest{ClientRef: "AC1", SiteRef: "S1", ReportedDate: time.Now()})
	oe := oneserveError(t, err)
	require.Equal(t, 429, oe.StatusCode)
	require.Equal(t, 120*time.Second, oe.RetryAfter)

	// Every other call of this client, whatever its endpoint, is held back
	// and handed back with the time left: nothing reaches the system.
	for _, call := range []func() error{
		func() error { _, err := c.Site(context.Background(), "41", "S1"); return err },
		func() error { _, err := c.Documents(context.Background(), "J1"); return err },
		func() error { _, err := c.DownloadDocument(context.Background(), "D1", 0); return err },
		func() error {
			_, err := c.UploadDocument(context.Background(), "J1", oneserve.Upload{FileName: "a", Category: "C", Body: strings.NewReader("x")})
			return err
		},
	} {
		err := call()
		oe := oneserveError(t, err)
		require.Equal(t, oneserve.KindTemporary, oe.Kind, oe.Error())
		require.Zero(t, oe.StatusCode)
		require.Greater(t, oe.RetryAfter, 100*time.Second)
		require.LessOrEqual(t, oe.RetryAfter, 120*time.Second)
		require.Contains(t, oe.Message, "429")
	}
	require.Len(t, f.requests(), 1)

	// Another system's client (its own budget) is not held back.
	other, oc := newFake(t, jsonReply(200, success))
	_, err = oc.Site(context.Background(), "41", "S1")
	require.NoError(t, err)
	require.Len(t, other.requests(), 1)

	// A 503's Retry-After is the caller's (Temporal's retry delay) only: the
	// system's other calls go on.
	var n atomic.Int32
	f, c = newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(503)
			return
		}
		jsonReply(200, success)(w, r, nil)
	})
	_, err = c.Site(context.Background(), "41", "S1")
	require.Equal(t, 120*time.Second, oneserveError(t, err).RetryAfter)
	_, err = c.Site(context.Background(), "41", "S1")
	require.NoError(t, err)
	require.Len(t, f.requests(), 2)
	require.False(t, errors.Is(err, context.Canceled))
}

// TestAReadIsTriedAgainAfterABlipAndAWriteIsNot: a read that meets a 5xx is
// tried again at once (it changes nothing), up to three tries; a write is
// never (only the activity can look for its earlier result); a 5xx with
// Retry-After is the system asking for a pause and is left to Temporal.
func TestAReadIsTriedAgainAfterABlipAndAWriteIsNot(t *testing.T) {
	var n atomic.Int32
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if n.Add(1) <= 2 {
			jsonReply(502, `{"result":"failure","result_msg":"bad gateway"}`)(w, r, nil)
			return
		}
		jsonReply(200, success)(w, r, nil)
	})
	_, err := c.Site(context.Background(), "41", "S1")
	require.NoError(t, err, "the third try of the read succeeds")
	require.Len(t, f.requests(), 3)

	n.Store(0)
	f, c = newFake(t, jsonReply(503, `{"result":"failure","result_msg":"busy"}`))
	err = c.AddEventByClientRef(context.Background(), oneserve.JobEvent{JobRef: "FX1", ClientID: "41", EventCode: "E", Date: time.Now()})
	require.Equal(t, oneserve.KindTemporary, oneserveError(t, err).Kind)
	require.Len(t, f.requests(), 1, "a write is tried once")

	_, err = c.Site(context.Background(), "41", "S1")
	require.Error(t, err)
	require.Len(t, f.requests(), 4, "a read that keeps failing: three tries, then Temporal's retry")

	f, c = newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Retry-After", "30")
		jsonReply(503, `{"result":"failure","result_msg":"maintenance"}`)(w, r, nil)
	})
	_, err = c.Site(context.Background(), "41", "S1")
	require.Equal(t, 30*time.Second, oneserveError(t, err).RetryAfter)
	require.Len(t, f.requests(), 1, "a Retry-After is waited by Temporal's retry, not tried again at once")
}
