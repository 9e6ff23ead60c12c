package simulator_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/simulator"
)

type received struct {
	id, timestamp, signature string
	body                     []byte
	at                       time.Time
}

// receiver is a webhook endpoint that verifies every request like O2O
// does and answers with respond, n counting accepted requests from 0.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	got      []received
	rejected atomic.Int32
}

func newReceiver(t *testing.T, secret events.Secret, respond func(n int, body []byte, w http.ResponseWriter)) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, ts, sig := r.Header.Get(events.HeaderID), r.Header.Get(events.HeaderTimestamp), r.Header.Get(events.HeaderSignature)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
			events.Verify([]events.Secret{secret}, id, ts, sig, body, time.Now()) != nil {
			rc.rejected.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, received{id, ts, sig, body, time.Now()})
		rc.mu.Unlock()
		respond(n, body, w)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// withWebhook points a system of the dev seed at url.
func withWebhook(seed simulator.Seed, system, url string) simulator.Seed {
	for i := range seed.Systems {
		if seed.Systems[i].Name == system {
			seed.Systems[i].WebhookURL = url
		}
	}
	return seed
}

func waitDelivered(t *testing.T, h *harness) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, h.app.WaitDelivered(ctx))
}

func TestDeliveryOrderedSignedRetry(t *testing.T) {
	// The first request is refused with 503 and Retry-After: 1, which must
	// win over the 10ms schedule; everything after is accepted.
	rc := newReceiver(t, acmeSecret, func(n int, _ []byte, w http.ResponseWriter) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := newHarness(t, withWebhook(devSeed(t), "acme", rc.srv.URL), simulator.Options{
		RetrySchedule: []time.Duration{10 * time.Millisecond},
	})

	jobRef, actID := h.newAcmeJob()
	h.simOK("POST", "acme", "/activities/"+actID+"/assign", map[string]string{"teamId": "7"}, nil)
	h.simOK("POST", "acme", "/jobs/"+jobRef+"/status", map[string]string{"status": "On Hold"}, nil)
	h.simOK("POST", "acme", "/jobs/"+jobRef+"/status", map[string]string{"status": "Cancelled"}, nil)
	waitDelivered(t, h)

	got := rc.requests()
	require.Zero(t, rc.rejected.Load(), "every request is signed and verifiable")
	require.Len(t, got, 4)
	require.Equal(t, got[0].id, got[1].id, "a redelivery keeps its webhook-id")
	require.Equal(t, got[0].body, got[1].body, "and its body")
	require.NotEqual(t, got[0].signature, got[1].signature, "but is signed afresh with a new timestamp")
	require.GreaterOrEqual(t, got[1].at.Sub(got[0].at), 900*time.Millisecond, "Retry-After is honoured")
	require.Regexp(t, `^msg_[0-9a-f]{32}$`, got[0].id)

	// Delivered in the order produced, the failing head blocking the rest.
	outbox := h.app.Outbox("acme")
	require.Len(t, outbox, 3)
	for i, ev := range outbox {
		require.Equal(t, ev.ID, got[i+1].id)
		require.True(t, ev.Delivered)
		require.Equal(t, simulator.StateDelivered, ev.State)
		require.Equal(t, http.StatusNoContent, ev.LastStatus)
	}
	require.Equal(t, 2, outbox[0].Attempts)
	require.Equal(t, 1, outbox[1].Attempts)
	var statuses []string
	for _, r := range got[1:] {
		ev, err := events.Decode(r.body, r.id, "acme")
		require.NoError(t, err)
		if ev.Status != nil {
			statuses = append(statuses, ev.Status.Status)
		}
	}
	require.Equal(t, []string{"On Hold", "Cancelled"}, statuses)

	// The outbox over HTTP shows the same.
	var listed []simulator.OutboxEvent
	h.simOK("GET", "acme", "/outbox", nil, &listed)
	require.Len(t, listed, 3)
	require.JSONEq(t, string(outbox[0].Body), string(listed[0].Body))
	require.Equal(t, 2, listed[0].Attempts)
}

func TestDeliveryGivesUpWithoutFollowingRedirects(t *testing.T) {
	var redirected atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		redirected.Add(1)
	}))
	t.Cleanup(elsewhere.Close)
	// The status change is answered with a redirect, which must count as a
	// failure (not be followed); the sender gives up after 3 attempts and
	// moves on to the next event.
	rc := newReceiver(t, acmeSecret, func(_ int, body []byte, w http.ResponseWriter) {
		var env struct{ Type string }
		_ = json.Unmarshal(body, &env)
		if env.Type == string(events.JobStatusChanged) {
			w.Header().Set("Location", elsewhere.URL)
			w.WriteHeader(http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(http.StatusOK)
	})

	h := newHarness(t, withWebhook(devSeed(t), "acme", rc.srv.URL), simulator.Options{
		RetrySchedule: []time.Duration{time.Millisecond},
		MaxAttempts:   3,
	})
	jobRef, actID := h.newAcmeJob()
	h.simOK("POST", "acme", "/jobs/"+jobRef+"/status", map[string]string{"status": "On Hold"}, nil)
	h.simOK("POST", "acme", "/activities/"+actID+"/assign", map[string]string{"teamId": "7"}, nil)
	waitDelivered(t, h)

	require.Zero(t, redirected.Load(), "redirects are never followed")
	outbox := h.app.Outbox("acme")
	require.Len(t, outbox, 2)
	require.Equal(t, simulator.StateFailed, outbox[0].State)
	require.False(t, outbox[0].Delivered)
	require.Equal(t, 3, outbox[0].Attempts)
	require.Equal(t, http.StatusTemporaryRedirect, outbox[0].LastStatus)
	require.Equal(t, simulator.StateDelivered, outbox[1].State)
}

func TestWaitDeliveredTimesOutAndCloseStops(t *testing.T) {
	rc := newReceiver(t, acmeSecret, func(_ int, _ []byte, w http.ResponseWriter) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	sim, err := simulator.New(withWebhook(devSeed(t), "acme", rc.srv.URL), simulator.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	h := &harness{t: t, app: sim, srv: srv}
	_, actID := h.newAcmeJob()
	h.simOK("POST", "acme", "/activities/"+actID+"/assign", map[string]string{"teamId": "7"}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	require.ErrorContains(t, sim.WaitDelivered(ctx), "1 event(s) still pending")
	require.Equal(t, simulator.StatePending, sim.Outbox("acme")[0].State)
	require.NotNil(t, sim.Outbox("acme")[0].NextAttemptAt)

	done := make(chan struct{})
	go func() { sim.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not stop the sender while it waited to retry")
	}
	sim.Close() // idempotent
}

func TestRecordOnlyWithoutWebhookURL(t *testing.T) {
	h := startDev(t)
	_, actID := h.newAcmeJob()
	h.simOK("POST", "acme", "/activities/"+actID+"/assign", map[string]string{"teamId": "7"}, nil)
	waitDelivered(t, h) // nothing is pending
	outbox := h.app.Outbox("acme")
	require.Len(t, outbox, 1)
	require.Equal(t, simulator.StateRecorded, outbox[0].State)
	require.Zero(t, outbox[0].Attempts)
}
