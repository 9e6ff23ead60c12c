package simulator_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/simulator"
)

// A rate fault applies to its share of the matching requests, the same ones
// for the same seed; the others go on to the next fault or are served.
func TestRateFaultAppliesToAShareRepeatably(t *testing.T) {
	run := func() []int {
		h := startDev(t)
		var f simulator.Fault
		require.Equal(t, http.StatusCreated, h.sim("POST", "acme", "/faults",
			map[string]any{"op": "*", "status": 503, "rate": 0.25, "count": -1, "seed": 7}, &f))
		require.Equal(t, 0.25, f.Rate)
		require.Equal(t, uint64(7), *f.Seed)
		// A second fault gets what the first passes over: at most its own share.
		h.simOK("POST", "acme", "/faults", map[string]any{"op": "*", "status": 502, "rate": 0.5, "count": -1, "seed": 8}, nil)
		var failed503 []int
		n502 := 0
		for i := range 200 {
			status, _ := h.rest("acme", "GET", "/contact/sites/28/SITE-001", nil)
			switch status {
			case http.StatusServiceUnavailable:
				failed503 = append(failed503, i)
			case http.StatusBadGateway:
				n502++
			default:
				require.Equal(t, http.StatusOK, status)
			}
		}
		// 25% of 200 and 50% of the rest, within wide bounds.
		require.InDelta(t, 50, len(failed503), 25)
		require.InDelta(t, 75, n502, 30)
		var faults []simulator.Fault
		h.simOK("GET", "acme", "/faults", nil, &faults)
		require.Len(t, faults, 2, "rate faults last until cleared")
		return failed503
	}
	require.Equal(t, run(), run(), "the same seed fails the same requests")
}

// A rate fault with a delay longer than the client's timeout makes that
// share of the calls time out; with after, the change is made all the same.
func TestRateFaultTimesOutAShare(t *testing.T) {
	h := startDev(t)
	h.simOK("POST", "fixit", "/faults", map[string]any{"op": "createJob", "delay": "2s", "after": true, "rate": 1, "count": 1}, nil)
	client := &http.Client{Timeout: 200 * time.Millisecond}
	req, err := http.NewRequest("POST", h.srv.URL+"/fixit/rest/workflow/job/createJob", jsonBody(t, validCreateJob()))
	require.NoError(t, err)
	req.Header.Set(simulator.AuthHeader, fixitToken)
	_, err = client.Do(req)
	var timeout interface{ Timeout() bool }
	require.True(t, errors.As(err, &timeout) && timeout.Timeout(), "the call timed out: %v", err)
	_, ok := h.app.Job("fixit", "FX000001")
	require.True(t, ok, "the job was created although its answer never came")
}

func TestRateFaultValidation(t *testing.T) {
	h := startDev(t)
	for body, want := range map[string]string{
		`{"op":"*","status":500,"rate":0}`:           `rate "0" must be a share of the requests`,
		`{"op":"*","status":500,"rate":2}`:           `rate "2" must be a share`,
		`{"op":"*","status":500,"seed":3}`:           `seed is for a fault with a rate`,
		`{"op":"*","status":500,"duplicate":0.5}`:    `are for op "deliver"`,
		`{"op":"deliver","drop":0.5,"rate":0.5}`:     `takes drop, duplicate, reorder, hold, types, seed and count only`,
		`{"op":"deliver","duplicate":1.5}`:           `duplicate "1.5" must be a share of the webhooks`,
		`{"op":"deliver","duplicate":1,"hold":"1s"}`: `hold is how long reordered webhooks are held back: it needs reorder`,
		`{"op":"deliver","reorder":0.5,"hold":"x"}`:  `hold "x" must be a duration`,
	} {
		var resp map[string]string
		require.Equal(t, http.StatusBadRequest, h.sim("POST", "acme", "/faults", body, &resp), body)
		require.Contains(t, resp["error"], want, body)
	}
}

// duplicate 1: every webhook is delivered twice, with the same webhook-id
// and body, the second after the first was answered.
func TestDuplicateFaultSendsEveryWebhookTwice(t *testing.T) {
	rc := newReceiver(t, acmeSecret, acceptAll)
	h := newHarness(t, withWebhook(devSeed(t), "acme", rc.srv.URL), simulator.Options{})
	h.simOK("POST", "acme", "/faults", map[string]any{"op": "deliver", "duplicate": 1}, nil)
	assigned, changed := h.statusChanges(3)
	waitDelivered(t, h)

	ids := append([]string{assigned}, changed...)
	got := map[string]int{}
	var bodies = map[string][]byte{}
	for _, r := range rc.requests() {
		got[r.id]++
		if b, ok := bodies[r.id]; ok {
			require.Equal(t, string(b), string(r.body), "a redelivery sends the same body")
		}
		bodies[r.id] = r.body
	}
	for _, id := range ids {
		require.Equal(t, 2, got[id], "webhook %s delivered twice", id)
	}
	outbox := h.app.Outbox("acme")
	require.Len(t, outbox, 8)
	for i := 0; i < len(outbox); i += 2 {
		require.Equal(t, outbox[i].ID, outbox[i+1].ID, "each redelivery is listed beside its first sending")
		require.False(t, outbox[i].Redelivery)
		require.True(t, outbox[i+1].Redelivery)
		require.True(t, outbox[i+1].Delivered)
	}
}

// reorder 1 with a hold: each webhook waits out its hold while the ones
// produced after it go first, so they arrive in another order than they
// were produced; none is lost.
func TestReorderFaultHoldsWebhooksBack(t *testing.T) {
	rc := newReceiver(t, acmeSecret, acceptAll)
	h := newHarness(t, withWebhook(devSeed(t), "acme", rc.srv.URL), simulator.Options{})
	// Half the webhooks are held back for 300 ms.
	var f simulator.Fault
	h.simOK("POST", "acme", "/faults", map[string]any{"op": "deliver", "reorder": 0.5, "hold": "300ms", "seed": 1}, &f)
	require.Equal(t, "300ms", f.Hold)
	assigned, changed := h.statusChanges(11)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.app.WaitDelivered(ctx))

	produced := append([]string{assigned}, changed...)
	var arrived []string
	for _, r := range rc.requests() {
		arrived = append(arrived, r.id)
	}
	require.ElementsMatch(t, produced, arrived, "each webhook arrives once")
	require.NotEqual(t, produced, arrived, "some arrive after webhooks produced later")
	held := 0
	for i, ev := range h.app.Outbox("acme") {
		if ev.HeldBack {
			held++
			// The next webhook, produced at once, was not held back: it
			// arrived first.
			if i+1 < len(produced) && !h.app.Outbox("acme")[i+1].HeldBack {
				require.Less(t, slices.Index(arrived, produced[i+1]), slices.Index(arrived, ev.ID))
			}
		}
	}
	require.Positive(t, held)
}
