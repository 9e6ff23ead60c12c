package simulator_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/simulator"
)

// acceptAll answers every verified webhook 200.
func acceptAll(int, []byte, http.ResponseWriter) {}

// statusChanges makes n status changes on a new acme job (after assigning
// its activity) and returns the eventId each /sim answer gave.
func (h *harness) statusChanges(n int) (assigned string, changed []string) {
	h.t.Helper()
	jobRef, actID := h.newAcmeJob()
	var resp struct {
		EventID string `json:"eventId"`
	}
	h.simOK("POST", "acme", "/activities/"+actID+"/assign", map[string]string{"teamId": "7"}, &resp)
	assigned = resp.EventID
	for i := range n {
		status := "In Progress"
		if i%2 == 1 {
			status = "On Hold"
		}
		h.simOK("POST", "acme", "/jobs/"+jobRef+"/status", map[string]string{"status": status}, &resp)
		changed = append(changed, resp.EventID)
	}
	return assigned, changed
}

// droppedRun runs 20 status changes under a seeded drop fault and returns
// which of them (by position) were dropped.
func droppedRun(t *testing.T, seed int) []int {
	rc := newReceiver(t, acmeSecret, acceptAll)
	h := newHarness(t, withWebhook(devSeed(t), "acme", rc.srv.URL), simulator.Options{})
	var fault simulator.Fault
	require.Equal(t, http.StatusCreated, h.sim("POST", "acme", "/faults",
		map[string]any{"op": "deliver", "drop": 0.3, "types": []string{"JOB_STATUS_CHANGED"}, "seed": seed}, &fault))
	require.Equal(t, simulator.OpDeliver, fault.Op)
	require.Equal(t, 0.3, fault.Drop)
	require.Equal(t, uint64(seed), *fault.Seed)
	require.Equal(t, -1, fault.Count, "a share applies until cleared")

	assigned, changed := h.statusChanges(20)
	waitDelivered(t, h)

	var dropped []simulator.OutboxEvent
	h.simOK("GET", "acme", "/dropped", nil, &dropped)
	require.NotEmpty(t, dropped)
	require.Less(t, len(dropped), 20)
	var sent []string
	for _, r := range rc.requests() {
		sent = append(sent, r.id)
	}
	require.Contains(t, sent, assigned, "other types are never dropped")
	var positions []int
	for _, ev := range dropped {
		require.Equal(t, events.JobStatusChanged, ev.Type)
		require.Equal(t, simulator.StateDropped, ev.State)
		require.True(t, ev.Dropped)
		require.Zero(t, ev.Attempts)
		require.NotContains(t, sent, ev.ID, "a dropped webhook is never sent")
		i := slices.Index(changed, ev.ID)
		require.GreaterOrEqual(t, i, 0, "the /sim answer named the dropped event")
		positions = append(positions, i)
	}
	require.Len(t, sent, 21-len(dropped), "every other webhook was sent")

	// The outbox shows them in place.
	outbox := h.app.Outbox("acme")
	require.Len(t, outbox, 21)
	for _, ev := range outbox {
		require.Equal(t, slices.ContainsFunc(dropped, func(d simulator.OutboxEvent) bool { return d.ID == ev.ID }), ev.Dropped)
	}
	return positions
}

func TestDropFaultIsDeterministicWhenSeeded(t *testing.T) {
	first := droppedRun(t, 42)
	require.Equal(t, first, droppedRun(t, 42), "the same seed over the same events drops the same ones")
	t.Logf("seed 42 drops status changes %v of 20", first)
}

func TestDropFaultCountAndClear(t *testing.T) {
	rc := newReceiver(t, acmeSecret, acceptAll)
	h := newHarness(t, withWebhook(devSeed(t), "acme", rc.srv.URL), simulator.Options{})
	// drop 1, count 2: exactly the next two webhooks, of any type.
	var fault simulator.Fault
	h.simOK("POST", "acme", "/faults", `{"op":"deliver","drop":"1","count":"2"}`, &fault)
	require.NotNil(t, fault.Seed, "a random seed is chosen, and reported")

	assigned, changed := h.statusChanges(3)
	waitDelivered(t, h)
	var dropped []simulator.OutboxEvent
	h.simOK("GET", "acme", "/dropped", nil, &dropped)
	require.Len(t, dropped, 2)
	require.Equal(t, assigned, dropped[0].ID)
	require.Equal(t, changed[0], dropped[1].ID)
	require.Len(t, rc.requests(), 2)

	var faults []simulator.Fault
	h.simOK("GET", "acme", "/faults", nil, &faults)
	require.Empty(t, faults, "the fault is used up")
	_, _, page := h.do("GET", "/", nil, nil)
	require.Contains(t, string(page), "2 dropped", "the overview counts them")

	// Until cleared: DELETE /faults removes a deliver fault too.
	h.simOK("POST", "acme", "/faults", map[string]any{"op": "deliver", "drop": 1}, nil)
	_, _, page = h.do("GET", "/", nil, nil)
	require.Contains(t, string(page), "fault: drop 1 of all webhooks (until cleared)")
	h.simOK("DELETE", "acme", "/faults", nil, nil)
	h.statusChanges(1)
	waitDelivered(t, h)
	h.simOK("GET", "acme", "/dropped", nil, &dropped)
	require.Len(t, dropped, 2)
	require.Len(t, rc.requests(), 4)
}

func TestDroppedWebhookDeliveredLateKeepsItsID(t *testing.T) {
	rc := newReceiver(t, acmeSecret, acceptAll)
	h := newHarness(t, withWebhook(devSeed(t), "acme", rc.srv.URL), simulator.Options{})
	h.simOK("POST", "acme", "/faults", map[string]any{"op": "deliver", "drop": 1, "count": 1, "types": []string{"JOB_STATUS_CHANGED"}}, nil)
	_, changed := h.statusChanges(2)
	waitDelivered(t, h)
	require.Len(t, rc.requests(), 2)
	lost := changed[0]
	var original simulator.OutboxEvent
	for _, ev := range h.app.Outbox("acme") {
		if ev.ID == lost {
			original = ev
		}
	}
	require.Equal(t, simulator.StateDropped, original.State)

	var late simulator.OutboxEvent
	require.Equal(t, http.StatusAccepted, h.sim("POST", "acme", "/dropped/"+lost+"/deliver", nil, &late))
	require.Equal(t, lost, late.ID)
	require.Equal(t, simulator.StatePending, late.State)
	waitDelivered(t, h)

	got := rc.requests()
	require.Len(t, got, 3)
	require.Equal(t, lost, got[2].id, "sent late with its original webhook-id")
	require.JSONEq(t, string(original.Body), string(got[2].body), "and its original body")

	var dropped []simulator.OutboxEvent
	h.simOK("GET", "acme", "/dropped", nil, &dropped)
	require.Len(t, dropped, 1)
	require.Equal(t, simulator.StateDelivered, dropped[0].State)
	require.True(t, dropped[0].Dropped)
	outbox := h.app.Outbox("acme")
	require.Len(t, outbox, 3, "the event is listed once")
	require.Equal(t, lost, outbox[1].ID, "in the place it was produced")

	var resp map[string]string
	require.Equal(t, http.StatusConflict, h.sim("POST", "acme", "/dropped/"+lost+"/deliver", nil, &resp))
	require.Contains(t, resp["error"], "already sent late (state delivered)")
	require.Equal(t, http.StatusNotFound, h.sim("POST", "acme", "/dropped/"+changed[1]+"/deliver", nil, &resp))
	require.Contains(t, resp["error"], "no dropped webhook")
}

func TestDropFaultValidation(t *testing.T) {
	h := startDev(t)
	for body, want := range map[string]string{
		`{"op":"deliver"}`:                                      `drop "" must be a share of the webhooks`,
		`{"op":"deliver","drop":0}`:                             `drop "0" must be a share`,
		`{"op":"deliver","drop":1.5}`:                           `drop "1.5" must be a share`,
		`{"op":"deliver","drop":"x"}`:                           `drop "x" must be a share`,
		`{"op":"deliver","drop":0.5,"status":500}`:              `a "deliver" fault takes drop, duplicate, reorder, hold, types, seed and count only`,
		`{"op":"deliver","drop":0.5,"delay":"1s"}`:              `takes drop, duplicate, reorder, hold, types, seed and count only`,
		`{"op":"deliver","drop":0.5,"types":["NUDGE"]}`:         `type "NUDGE" is not an event type the simulator sends`,
		`{"op":"deliver","drop":0.5,"seed":-1}`:                 `seed "-1" must be a whole number`,
		`{"op":"deliver","drop":0.5,"count":-2}`:                `count "-2"`,
		`{"op":"createJob","status":500,"drop":0.5}`:            `drop, duplicate, reorder, hold and types are for op "deliver"`,
		`{"op":"*","status":500,"types":["DOCUMENT_UPLOADED"]}`: `drop, duplicate, reorder, hold and types are for op "deliver"`,
	} {
		var resp map[string]string
		require.Equal(t, http.StatusBadRequest, h.sim("POST", "acme", "/faults", body, &resp), body)
		require.Contains(t, resp["error"], want, body)
	}
}

// A system in poll mode sends no webhooks at all, even with a webhook URL:
// its events are only recorded, and no fault can drop them.
func TestPollModeSystemSendsNoWebhooks(t *testing.T) {
	rc := newReceiver(t, acmeSecret, acceptAll)
	seed := withWebhook(devSeed(t), "acme", rc.srv.URL)
	seed.Systems[0].Events = simulator.EventsPoll
	h := newHarness(t, seed, simulator.Options{})
	h.simOK("POST", "acme", "/faults", map[string]any{"op": "deliver", "drop": 1}, nil)

	h.statusChanges(2)
	waitDelivered(t, h) // nothing is ever pending
	require.Empty(t, rc.requests())
	require.Zero(t, rc.rejected.Load())
	var outbox []simulator.OutboxEvent
	h.simOK("GET", "acme", "/outbox", nil, &outbox)
	require.Len(t, outbox, 3)
	for _, ev := range outbox {
		require.Equal(t, simulator.StateRecorded, ev.State)
		require.False(t, ev.Dropped)
	}
	var dropped []simulator.OutboxEvent
	h.simOK("GET", "acme", "/dropped", nil, &dropped)
	require.Empty(t, dropped)
	_, _, page := h.do("GET", "/", nil, nil)
	require.Contains(t, string(page), "webhooks recorded only")

	// The seed file says so per system; other values are refused.
	raw, err := os.ReadFile("../dev/simulator.yaml")
	require.NoError(t, err)
	line := "    webhookURL: http://localhost:8080/webhooks/acme\n"
	require.Contains(t, string(raw), line)
	path := filepath.Join(t.TempDir(), "seed.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(raw), line, line+"    events: poll\n", 1)), 0o600))
	loaded, err := simulator.LoadSeed(path)
	require.NoError(t, err)
	require.Equal(t, simulator.EventsPoll, loaded.Systems[0].Events)
	require.Empty(t, loaded.Systems[1].Events, "webhook by default")
	seed.Systems[0].Events = "push"
	require.ErrorContains(t, seed.Validate(), `events "push" must be webhook, poll or both`)
	seed.Systems[0].Events = simulator.EventsBoth
	require.NoError(t, seed.Validate())
}
