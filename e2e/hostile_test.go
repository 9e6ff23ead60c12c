//go:build integration

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/o2o-sync/o2o/events"
)

// hostileRequest is one request from outside, and what it must get.
type hostileRequest struct {
	category string
	system   string
	id       string
	body     string
	// sign: "ok", "none", "wrong-secret", "stale", "future", "tampered"
	sign string
	want int
}

func assignBody(jobRef string) string {
	return `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"` + jobRef + `","activityId":"137000","teamId":"7"}}`
}

// send delivers a hostile request to a webhook server.
func sendHostile(t *testing.T, baseURL string, r hostileRequest) int {
	t.Helper()
	req, err := hostileHTTPRequest(baseURL, r)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable {
		require.NotEmpty(t, resp.Header.Get("Retry-After"), "503 must say when to retry")
	}
	return resp.StatusCode
}

// hostileHTTPRequest builds r's request, signed as r.sign says with the
// secret of r.system's sender (acme's for a system that is not fixit).
func hostileHTTPRequest(baseURL string, r hostileRequest) (*http.Request, error) {
	own, other := devEnv["SIM_ACME_WEBHOOK_SECRET"], devEnv["SIM_FIXIT_WEBHOOK_SECRET"]
	if r.system == "fixit" {
		own, other = other, own
	}
	secret, err := events.ParseSecret(own)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	body := []byte(r.body)
	req, err := http.NewRequest(http.MethodPost, baseURL+"/webhooks/"+r.system, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	set := func(ts time.Time, sig string) {
		req.Header.Set(events.HeaderID, r.id)
		req.Header.Set(events.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set(events.HeaderSignature, sig)
	}
	switch r.sign {
	case "ok":
		set(now, events.Sign(secret, r.id, now, body))
	case "wrong-secret":
		wrong, err := events.ParseSecret(other)
		if err != nil {
			return nil, err
		}
		set(now, events.Sign(wrong, r.id, now, body))
	case "stale":
		old := now.Add(-6 * time.Minute)
		set(old, events.Sign(secret, r.id, old, body))
	case "future":
		later := now.Add(6 * time.Minute)
		set(later, events.Sign(secret, r.id, later, body))
	case "tampered":
		set(now, events.Sign(secret, r.id, now, []byte(strings.Replace(r.body, "HX", "HY", 1))))
	}
	return req, nil
}

func countLinks(t *testing.T) int64 {
	t.Helper()
	resp, err := devServer.Client().CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: "default", Query: "WorkflowType='LinkedJob'"})
	require.NoError(t, err)
	return resp.Count
}

// TestHostileInputChangesNothing sends the webhook server every kind of bad
// request and checks the status of each, that no workflow was started, and
// that no secret or personal data reached the logs. It prints the figures.
func TestHostileInputChangesNothing(t *testing.T) {
	s := newStack(t, "HX")
	before := countLinks(t)
	big := `{"type":"ACTIVITY_ASSIGNED","pad":"` + strings.Repeat("A", 2<<20) + `"}`
	requests := []hostileRequest{
		{"bad signature", "acme", "h1", assignBody("HX1"), "wrong-secret", 401},
		{"bad signature", "acme", "h2", assignBody("HX2"), "tampered", 401},
		{"bad signature", "acme", "h3", assignBody("HX3"), "none", 401},
		{"stale timestamp", "acme", "h4", assignBody("HX4"), "stale", 401},
		{"stale timestamp", "acme", "h5", assignBody("HX5"), "future", 401},
		{"malformed", "acme", "h6", `{"type":"ACTIVITY_ASSIGNED",`, "ok", 400},
		{"malformed", "acme", "h7", `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"HX7"}}`, "ok", 400},
		{"malformed", "acme", "h8", `{"type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"HX8","activityId":[1],"teamId":"7"}}`, "ok", 400},
		{"malformed", "acme", "h9", `[]`, "ok", 400},
		{"oversized", "acme", "h10", big, "ok", 413},
		{"unknown system", "nowhere", "h11", assignBody("HX11"), "ok", 404},
		{"unknown type", "acme", "h12", `{"type":"APPOINTMENT_FOLLOW_ON_NEEDED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"HX12"}}`, "ok", 200},
		{"no link (other team)", "acme", "h13", strings.Replace(assignBody("HX13"), `"teamId":"7"`, `"teamId":"8"`, 1), "ok", 200},
		{"no link (job never linked)", "acme", "h14", `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"HX14","status":"Cancelled"}}`, "ok", 200},
		{"malformed", "acme", "h15", `{"type":"DOCUMENT_UPLOADED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"HX15","documentId":"D1","fileName":"../../etc/passwd","category":"Photos"}}`, "ok", 400},
		// A URL in a payload is never used: documents are fetched by id from the owning system's configured base URL.
		{"no link (document with a URL)", "acme", "h16", `{"type":"DOCUMENT_UPLOADED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"HX16","documentId":"D1","fileName":"x.pdf","category":"Photos","url":"http://169.254.169.254/latest/meta-data/"}}`, "ok", 200},
	}

	// A second webhook server whose Temporal is unreachable: it must start,
	// refuse readiness, and answer 503 so that senders redeliver.
	deadTemporal := freeAddr(t)
	downAddr := freeAddr(t)
	down := startProcess(t, filepath.Join(binDir, "webhook"), nil, append(s.env("O2O_WEBHOOK_ADDR="+downAddr), "TEMPORAL_ADDRESS="+deadTemporal))
	t.Cleanup(func() { down.stop(t) })
	downURL := "http://" + downAddr
	require.Eventually(t, func() bool {
		resp, err := http.Get(downURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 30*time.Second, 100*time.Millisecond, "a webhook server without Temporal starts and reports not ready")

	type tally struct{ sent, asExpected int }
	figures := map[string]*tally{}
	var order []string
	record := func(category string, ok bool) {
		if figures[category] == nil {
			figures[category] = &tally{}
			order = append(order, category)
		}
		figures[category].sent++
		if ok {
			figures[category].asExpected++
		}
	}
	for _, r := range requests {
		code := sendHostile(t, s.webhookURL, r)
		record(fmt.Sprintf("%s → %d", r.category, r.want), code == r.want)
		require.Equal(t, r.want, code, "%s (%s)", r.category, r.id)
	}
	for i := range 3 {
		code := sendHostile(t, downURL, hostileRequest{"Temporal down", "acme", fmt.Sprintf("hd%d", i), assignBody(fmt.Sprintf("HXD%d", i)), "ok", 503})
		record("Temporal down → 503", code == 503)
		require.Equal(t, http.StatusServiceUnavailable, code)
	}

	after := countLinks(t)
	require.Equal(t, before, after, "no hostile request started a workflow")

	t.Logf("hostile requests (all to one webhook server unless noted):")
	for _, k := range order {
		t.Logf("  %-40s sent %d, answered as expected %d", k, figures[k].sent, figures[k].asExpected)
	}
	t.Logf("  workflows started by them: %d", after-before)

	// Nothing secret or personal in any log line.
	logs := s.webhook.output() + s.worker.output() + down.output()
	for name, v := range devEnv {
		require.NotContains(t, logs, v, "%s leaked into the logs", name)
		if sec, ok := strings.CutPrefix(v, "whsec_"); ok {
			require.NotContains(t, logs, sec, "%s leaked into the logs", name)
		}
	}
	for _, personal := range []string{"Testy McTestface", "Ada Example", "Bob Placeholder"} {
		require.NotContains(t, logs, personal)
	}
	require.NotContains(t, logs, "169.254.169.254")
}
