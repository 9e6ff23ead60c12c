package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/simulator"
)

// simStack is the two simulated systems of the example configuration,
// in-process, with the configuration pointing at them.
type simStack struct {
	t   *testing.T
	url string
}

func newSimStack(t *testing.T) *simStack {
	t.Helper()
	for k, v := range map[string]string{
		"O2O_ACME_TOKEN":            "check-acme-token",
		"O2O_FIXIT_TOKEN":           "check-fixit-token",
		"O2O_ACME_WEBHOOK_SECRETS":  "whsec_" + strings.Repeat("A", 43) + "=",
		"O2O_FIXIT_WEBHOOK_SECRETS": "whsec_" + strings.Repeat("F", 43) + "=",
		"SIM_ACME_WEBHOOK_SECRET":   "whsec_" + strings.Repeat("A", 43) + "=",
		"SIM_FIXIT_WEBHOOK_SECRET":  "whsec_" + strings.Repeat("F", 43) + "=",
		"O2O_API_TOKEN":             "check-operator-token-0001",
	} {
		t.Setenv(k, v)
	}
	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.NoError(t, err)
	for i := range seed.Systems {
		seed.Systems[i].WebhookURL = ""
	}
	sim, err := simulator.New(seed, simulator.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })

	cfg, err := os.ReadFile("../o2o.example.yaml")
	require.NoError(t, err)
	cfg = bytes.ReplaceAll(cfg, []byte("http://localhost:9100"), []byte(srv.URL))
	path := filepath.Join(t.TempDir(), "o2o.yaml")
	require.NoError(t, os.WriteFile(path, cfg, 0o600))
	t.Setenv("O2O_CONFIG", path)
	return &simStack{t: t, url: srv.URL}
}

func (s *simStack) post(path string, body any, out any) {
	s.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(s.t, err)
	resp, err := http.Post(s.url+path, "application/json", bytes.NewReader(b))
	require.NoError(s.t, err)
	defer resp.Body.Close()
	require.Less(s.t, resp.StatusCode, 300, path)
	if out != nil {
		require.NoError(s.t, json.NewDecoder(resp.Body).Decode(out))
	}
}

// job creates a job in acme and returns its ref and first activity id.
func (s *simStack) job(site, contact, priority string, codes ...string) (string, string) {
	var acts []map[string]string
	for _, c := range codes {
		acts = append(acts, map[string]string{"code": c, "quantity": "2", "description": c})
	}
	var out struct {
		JobRef     string `json:"jobRef"`
		Activities []struct {
			ID string `json:"id"`
		} `json:"activities"`
	}
	s.post("/acme/sim/jobs", map[string]any{"clientId": "28", "siteRef": site, "contactRef": contact,
		"priority": priority, "description": "check", "activities": acts}, &out)
	return out.JobRef, out.Activities[0].ID
}

func (s *simStack) assign(activityID, team string) {
	s.post("/acme/sim/activities/"+activityID+"/assign", map[string]string{"teamId": team}, nil)
}

func TestCheckPassesForAGoodJob(t *testing.T) {
	s := newSimStack(t)
	ref, act := s.job("SITE-001", "CON-001", "Emergency", "PLB001")
	s.assign(act, "7")

	r := run(t, nil, "check", "--job", ref)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.False(t, r.dialed, "check never connects to Temporal")
	out := r.stdout
	for _, want := range []string{
		"System acme",
		"✓ reachable, token (O2O_ACME_TOKEN) accepted",
		"✓ reachable, token (O2O_FIXIT_TOKEN) accepted",
		`✓ job read (GET /rest/workflow/job/{jobRef}) — an unknown job answered HTTP 404: job "O2O-PREFLIGHT-0" not found`,
		"✓ document list (GET /rest/documents/job/{jobRef}) — an unknown job answered HTTP 404",
		"✓ document download (GET /rest/documents/{documentId}/content) — an unknown document answered HTTP 404",
		"Link acme-fixit  acme → fixit",
		"✓ acme: job " + ref + " read (site SITE-001, contact CON-001, priority Emergency",
		"✓ priority Emergency → P1 Emergency (11)",
		"✓ fixit: site SITE-001 exists for client Acme Housing (41)",
		"✓ fixit: contact CON-001 is a contact of site SITE-001",
		"✓ acme: 1 activity(ies) assigned to team Fixit Plumbing (subcontract) (7): " + act + " PLB001 × 2",
		"SOR code(s) PLB001: not checkable through Oneserve's public API; fixit checks them when it creates the linked job",
		"document categories (Gas Certificate → Certificates, Photos → Site Photos)",
		"All checks passed.",
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "✗")
}

func TestCheckNamesWhatIsMissingWhere(t *testing.T) {
	s := newSimStack(t)
	site3, _ := s.job("SITE-003", "CON-003", "Emergency", "PLB001")
	badContact, _ := s.job("SITE-001", "CON-002", "Emergency", "PLB001")
	unmapped, _ := s.job("SITE-002", "CON-002", "Routine", "PLB001")
	// The link maps no Routine priority any more.
	cfg, err := os.ReadFile(os.Getenv("O2O_CONFIG"))
	require.NoError(t, err)
	cfg = bytes.Replace(cfg, []byte("name: Routine, id: 3"), []byte("name: Standard, id: 3"), 1)
	require.NoError(t, os.WriteFile(os.Getenv("O2O_CONFIG"), cfg, 0o600))

	r := run(t, nil, "check", "--job", site3, "--job", badContact, "--job", unmapped, "--job", "AC999999")
	require.Equal(t, 1, r.code, r.stdout)
	out := r.stdout
	require.Contains(t, out, "✗ fixit: site SITE-003 (client 41) does not exist — needed by "+site3)
	require.Contains(t, out, "✗ fixit: contact CON-002 is not a contact of site SITE-001 (client 41) — needed by "+badContact)
	require.Contains(t, out, "✗ acme: job AC999999 does not exist (HTTP 404")
	require.Contains(t, out, "! acme: no activity of "+site3+" is assigned to team Fixit Plumbing (subcontract) (7) yet")
	require.Contains(t, out, `✗ acme-fixit: priority "Routine" of `+unmapped+` has no mapping (add it under the link's priorities)`)
	require.Contains(t, out, "4 check(s) failed:")
	require.False(t, r.dialed)
}

func TestCheckRefusedToken(t *testing.T) {
	newSimStack(t)
	t.Setenv("O2O_FIXIT_TOKEN", "not-the-fixit-token")
	r := run(t, nil, "check")
	require.Equal(t, 1, r.code, r.stdout)
	require.Contains(t, r.stdout, "✓ reachable, token (O2O_ACME_TOKEN) accepted")
	require.Contains(t, r.stdout, "✗ fixit: token refused (HTTP 401: REST0001 missing or invalid OS-REST-AUTH-TOKEN): check that O2O_FIXIT_TOKEN holds the token of O2O's API user in fixit")
	require.Contains(t, r.stdout, "· the endpoint checks of fixit are skipped: its token was refused")
	require.NotContains(t, r.stdout, "not-the-fixit-token", "never print a token")
}

func TestCheckUnreachableAndWrongPaths(t *testing.T) {
	s := newSimStack(t)
	cfg, err := os.ReadFile(os.Getenv("O2O_CONFIG"))
	require.NoError(t, err)
	// acme's documents endpoints moved to a path that only takes POST;
	// fixit is not there at all.
	cfg = bytes.Replace(cfg, []byte("    # paths:\n"), []byte("    paths:\n      documentList: /rest/workflow/job/createJob/{jobRef}/x\n      documentDownload: /rest/workflow/job/addEventByClientRef?d={documentId}\n"), 1)
	cfg = bytes.Replace(cfg, []byte(s.url+"/fixit"), []byte("http://127.0.0.1:1/fixit"), 1)
	path := filepath.Join(t.TempDir(), "o2o.yaml")
	require.NoError(t, os.WriteFile(path, cfg, 0o600))
	t.Setenv("O2O_CONFIG", path)

	r := run(t, nil, "check")
	require.Equal(t, 1, r.code, r.stdout)
	require.Contains(t, r.stdout, "✗ fixit: not reachable at http://127.0.0.1:1/fixit")
	require.Contains(t, r.stdout, "✓ job read (GET /rest/workflow/job/{jobRef}) — an unknown job answered HTTP 404")
	require.Contains(t, r.stdout, "✗ acme: document download (GET /rest/workflow/job/addEventByClientRef?d={documentId}) answered HTTP 405")
	require.Contains(t, r.stdout, "check systems.acme.paths.documentDownload")
}

func TestCheckNeedsTheSecrets(t *testing.T) {
	newSimStack(t)
	t.Setenv("O2O_ACME_TOKEN", "")
	r := run(t, nil, "check")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "environment variable O2O_ACME_TOKEN is not set")
	require.Empty(t, r.stdout)
}
