package simulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/simulator"
)

const (
	acmeToken  = "acme-test-token"
	fixitToken = "fixit-test-token"
)

var (
	acmeSecret  = events.Secret(bytes.Repeat([]byte{0xA1}, 32))
	fixitSecret = events.Secret(bytes.Repeat([]byte{0xF1}, 32))
)

// devSeed loads dev/simulator.yaml with test credentials in the
// environment, and with webhooks switched off (tests that deliver set a
// receiver's URL).
func devSeed(t *testing.T) simulator.Seed {
	t.Helper()
	t.Setenv("O2O_ACME_TOKEN", acmeToken)
	t.Setenv("O2O_FIXIT_TOKEN", fixitToken)
	t.Setenv("SIM_ACME_WEBHOOK_SECRET", acmeSecret.String())
	t.Setenv("SIM_FIXIT_WEBHOOK_SECRET", fixitSecret.String())
	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.NoError(t, err)
	for i := range seed.Systems {
		seed.Systems[i].WebhookURL = ""
	}
	return seed
}

// harness is a simulator behind an httptest server.
type harness struct {
	t   *testing.T
	app *simulator.Simulator
	srv *httptest.Server
}

func newHarness(t *testing.T, seed simulator.Seed, opts simulator.Options) *harness {
	t.Helper()
	sim, err := simulator.New(seed, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return &harness{t: t, app: sim, srv: srv}
}

// startDev is a harness over the dev seed without webhooks.
func startDev(t *testing.T) *harness {
	t.Helper()
	return newHarness(t, devSeed(t), simulator.Options{})
}

func tokenFor(system string) string {
	if system == "acme" {
		return acmeToken
	}
	return fixitToken
}

// do sends a request and returns the status, headers and body.
func (h *harness) do(method, path string, header http.Header, body io.Reader) (int, http.Header, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	require.NoError(h.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.srv.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, resp.Header, b
}

func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok {
		return strings.NewReader(s)
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return bytes.NewReader(b)
}

// rest calls /{system}/rest{path} with the system's token and decodes the
// JSON answer, which must carry the envelope.
func (h *harness) rest(system, method, path string, body any) (int, map[string]any) {
	h.t.Helper()
	hdr := http.Header{"Os-Rest-Auth-Token": {tokenFor(system)}}
	if body != nil {
		hdr.Set("Content-Type", "application/json")
	}
	status, _, b := h.do(method, "/"+system+"/rest"+path, hdr, jsonBody(h.t, body))
	var out map[string]any
	require.NoError(h.t, json.Unmarshal(b, &out), "body: %s", b)
	require.Contains(h.t, out, "result", "every answer carries the envelope: %s", b)
	require.Contains(h.t, out, "result_msg", "every answer carries the envelope: %s", b)
	return status, out
}

// sim calls /{system}/sim{path} and decodes the JSON answer into out (when
// not nil).
func (h *harness) sim(method, system, path string, body, out any) int {
	h.t.Helper()
	status, _, b := h.do(method, "/"+system+"/sim"+path, nil, jsonBody(h.t, body))
	if out != nil {
		require.NoError(h.t, json.Unmarshal(b, out), "body: %s", b)
	}
	return status
}

// simOK is sim that requires a 2xx answer.
func (h *harness) simOK(method, system, path string, body, out any) {
	h.t.Helper()
	var raw json.RawMessage
	status := h.sim(method, system, path, body, &raw)
	require.True(h.t, status >= 200 && status < 300, "%s %s: %d %s", method, path, status, raw)
	if out != nil {
		require.NoError(h.t, json.Unmarshal(raw, out))
	}
}

// newAcmeJob creates a job in acme as a user would, and returns its ref
// and first activity id.
func (h *harness) newAcmeJob() (jobRef, activityID string) {
	h.t.Helper()
	var resp simulator.SimJobResponse
	h.simOK("POST", "acme", "/jobs", map[string]any{
		"clientId": "28", "siteRef": "SITE-001", "contactRef": "CON-001", "priority": "Emergency",
		"description": "Dripping tap in kitchen",
		"activities":  []map[string]string{{"code": "PLB001", "quantity": "2", "description": "Fix tap"}},
	}, &resp)
	require.Len(h.t, resp.Activities, 1)
	return resp.JobRef, resp.Activities[0].ID
}

// validCreateJob is the createJob body of docs/oneserve-api.md, valid in fixit.
func validCreateJob() map[string]any {
	return map[string]any{
		"clientRef": "AC000001", "siteRef": "SITE-001", "reportedDate": "27/11/2026 09:30",
		"contactMode": "2", "contactRef": "CON-001", "clientId": "41", "workLogTypeId": "3",
		"workTypeId": "12", "workflowId": "4", "serviceId": "9", "priorityId": "11",
		"description": "Dripping tap in kitchen",
		"activities":  []any{map[string]any{"code": "PLB001", "quantity": "2"}},
	}
}

// requireAllStrings fails if any JSON number or boolean appears in v:
// Oneserve sends every scalar as a string.
func requireAllStrings(t *testing.T, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			requireAllStrings(t, e, path+"."+k)
		}
	case []any:
		for _, e := range x {
			requireAllStrings(t, e, path+"[]")
		}
	case float64, bool:
		t.Fatalf("%s is %T %v, want a string", path, v, v)
	}
}
