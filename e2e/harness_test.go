//go:build integration

// Package e2e runs O2O end to end: a real Temporal dev server (the pinned
// CLI), the real worker and webhook binaries as processes, and the simulated
// Oneserve systems, all talking over HTTP and gRPC. Run with `make integration`.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/internal/devenv"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

// Development-only credentials, the same values make run uses.
var devEnv = devenv.Credentials

var (
	devServer *testsuite.DevServer
	// devServerUI is the dev server's Web UI, e.g. http://127.0.0.1:34567.
	devServerUI string
	binDir      string
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	cli := devCLI()
	if _, err := os.Stat(cli); err != nil {
		return 1, fmt.Errorf("the Temporal CLI is not at %s: run `make integration` (it builds the pinned CLI) or set O2O_TEMPORAL_CLI", cli)
	}
	for k, v := range devEnv {
		os.Setenv(k, v)
	}
	dir, err := os.MkdirTemp("", "o2o-e2e-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	binDir = dir
	build := exec.Command("go", "build", "-o", dir+"/", "../worker", "../webhook", "../starter")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 1, fmt.Errorf("build binaries: %w", err)
	}

	if clusterBuild {
		// The cluster build (make cluster-test) runs only the tests that
		// start their own Temporal cluster: no dev server.
		flag.Parse()
		if run := flag.Lookup("test.run").Value.String(); !strings.HasPrefix(run, "^TestCluster") {
			return 1, fmt.Errorf("the cluster build runs only -run '^TestCluster...' (make cluster-test), not %q", run)
		}
		return m.Run(), nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true"}
	args = append(args, platform.DevServerFlags(workflows.SearchAttributes)...)
	// The Web UI runs too, on a free port, for the browser tests.
	uiPort, err := loopbackPort()
	if err != nil {
		return 1, err
	}
	devServer, err = testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  cli,
		LogLevel:      "error",
		ExtraArgs:     args,
		ClientOptions: &client.Options{Namespace: "default"},
		EnableUI:      true,
		UIPort:        uiPort,
	})
	if err != nil {
		return 1, fmt.Errorf("start Temporal dev server: %w", err)
	}
	devServerUI = "http://127.0.0.1:" + uiPort
	defer devServer.Stop()
	return m.Run(), nil
}

// devCLI is the pinned Temporal CLI (make builds it; O2O_TEMPORAL_CLI says where).
func devCLI() string {
	if cli := os.Getenv("O2O_TEMPORAL_CLI"); cli != "" {
		return cli
	}
	return "../bin/temporal"
}

// clusterBuild is true in the cluster build (build tags integration and
// cluster, make cluster-test), whose tests start their own Temporal cluster.
var clusterBuild bool

// stack is one O2O deployment under test: simulated acme (primary) and
// fixit (secondary), a worker and a webhook server (or several: topology).
type stack struct {
	t          *testing.T
	sim        *simulator.Simulator
	simURL     string
	webhookURL string
	configPath string
	extraEnv   []string // see newStackFrom
	temporal   string   // the Temporal frontend address
	worker     *process
	webhook    *process
	workers    []*process // worker is workers[0]
	webhooks   []*process // webhook is webhooks[0]
}

// topology is where a stack's processes connect and how many of them run.
type topology struct {
	temporal string // the Temporal frontend; "" is the dev server
	workers  int
	webhooks int
	// retry is the simulated senders' redelivery schedule ("" is a short one
	// of 1.4 s, enough while Temporal stays up).
	retry []time.Duration
	// starting: do not wait for the webhook servers to be ready (for tests
	// of processes that start before Temporal).
	starting bool
}

// newStack starts everything. prefix makes this test's job refs (and so its
// workflow ids) unique on the shared Temporal server.
func newStack(t *testing.T, prefix string) *stack {
	t.Helper()
	return newStackWith(t, prefix, nil)
}

// newStackWith is newStack with the configuration edited by tweak.
func newStackWith(t *testing.T, prefix string, tweak func(cfg []byte) []byte) *stack {
	t.Helper()
	seed, cfg := devSetup(t)
	if tweak != nil {
		cfg = tweak(cfg)
	}
	return newStackFrom(t, prefix, seed, cfg)
}

// devSetup is make run's seed and configuration, as the tests run them.
func devSetup(t *testing.T) (simulator.Seed, []byte) {
	t.Helper()
	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.NoError(t, err)
	cfg, err := os.ReadFile("../o2o.example.yaml")
	require.NoError(t, err)
	// Every stack's worker keeps the one reconciliation schedule of link
	// acme-fixit on the shared dev server up to date; a year keeps it from
	// firing into another test's links. Reconciliation tests reconcile one
	// job at a time with starter reconcile.
	cfg = bytes.Replace(cfg, []byte("    closeAfter: 72h\n"), []byte("    closeAfter: 72h\n    reconcileEvery: 8760h\n"), 1)
	return seed, cfg
}

// prefixes are the job-ref prefixes stacks have used in this run, with the
// test that used each. Every stack shares the one dev server, so two stacks
// with one prefix hand out the same job refs, and one test's links show up
// in the other's (a list by job ref found two rows).
var prefixes = struct {
	sync.Mutex
	by map[string]string
}{by: map[string]string{}}

// claimPrefix fails the test if another test's stack used prefix.
func claimPrefix(t *testing.T, prefix string) {
	t.Helper()
	prefixes.Lock()
	defer prefixes.Unlock()
	if other, ok := prefixes.by[prefix]; ok && other != t.Name() {
		t.Fatalf("job ref prefix %q is already used by %s: give each stack its own", prefix, other)
	}
	prefixes.by[prefix] = t.Name()
}

// newStackFrom starts a stack of the simulated systems of seed, with the
// O2O configuration cfg, for tests of other topologies than acme-fixit.
// Every system sends its webhooks to the stack's webhook server and has
// prefix before its jobRefPrefix; "http://localhost:9100" in cfg becomes
// the simulator's URL. env is added to the environment of the worker, the
// webhook server and the starter (credentials of systems of the test's own).
func newStackFrom(t *testing.T, prefix string, seed simulator.Seed, cfg []byte, env ...string) *stack {
	t.Helper()
	return newStackOn(t, topology{workers: 1, webhooks: 1}, prefix, seed, cfg, env...)
}

// newStackOn is newStackFrom on a topology: top.workers workers and
// top.webhooks webhook servers on the Temporal at top.temporal. The
// simulated systems send their webhooks to the webhook servers in turn (the
// first system to the first server, the second to the second, ...).
func newStackOn(t *testing.T, top topology, prefix string, seed simulator.Seed, cfg []byte, env ...string) *stack {
	t.Helper()
	claimPrefix(t, prefix)
	s := &stack{t: t, extraEnv: env, temporal: top.temporal}
	if s.temporal == "" {
		s.temporal = devServer.FrontendHostPort()
	}
	var webhookAddrs []string
	for range max(top.webhooks, 1) {
		webhookAddrs = append(webhookAddrs, freeAddr(t))
	}
	s.webhookURL = "http://" + webhookAddrs[0]

	for i := range seed.Systems {
		sys := &seed.Systems[i]
		sys.WebhookURL = "http://" + webhookAddrs[i%len(webhookAddrs)] + "/webhooks/" + sys.Name
		sys.JobRefPrefix = prefix + sys.JobRefPrefix
	}
	retry := top.retry
	if retry == nil {
		retry = []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, time.Second}
	}
	// The console links each linked job to its workflow in the Web UI and
	// to its link state, as make run's does.
	// (A test of a configuration O2O refuses gets no such links.)
	console := simulator.Console{TemporalUI: devServerUI, OperatorAPI: s.webhookURL, OperatorToken: devEnv["O2O_API_TOKEN"]}
	if parsed, err := config.Parse(cfg, config.Options{SkipSecrets: true}); err == nil {
		console.Links, console.WorkflowID = simulator.ConsoleLinks(parsed), workflows.WorkflowID
	}
	var err error
	s.sim, err = simulator.New(seed, simulator.Options{RetrySchedule: retry, Console: console})
	require.NoError(t, err)
	srv := httptest.NewServer(s.sim.Handler())
	s.simURL = srv.URL
	t.Cleanup(func() { srv.Close(); s.sim.Close() })

	cfg = bytes.ReplaceAll(cfg, []byte("http://localhost:9100"), []byte(s.simURL))
	s.configPath = filepath.Join(t.TempDir(), "o2o.yaml")
	require.NoError(t, os.WriteFile(s.configPath, cfg, 0o600))

	for range max(top.workers, 1) {
		s.workers = append(s.workers, s.start("worker"))
	}
	for _, addr := range webhookAddrs {
		s.webhooks = append(s.webhooks, s.start("webhook", "O2O_WEBHOOK_ADDR="+addr))
	}
	s.worker, s.webhook = s.workers[0], s.webhooks[0]
	if top.starting {
		return s
	}
	for _, addr := range webhookAddrs {
		require.Eventually(t, func() bool {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, 30*time.Second, 100*time.Millisecond, "webhook server %s did not become ready", addr)
	}
	return s
}

func (s *stack) env(extra ...string) []string {
	env := append(os.Environ(),
		"O2O_CONFIG="+s.configPath,
		"TEMPORAL_ADDRESS="+s.temporal,
		"TEMPORAL_NAMESPACE=default",
		"O2O_METRICS_ADDR=127.0.0.1:0", // tests run beside make run
	)
	env = append(env, s.extraEnv...)
	return append(env, extra...)
}

func (s *stack) start(name string, extraEnv ...string) *process {
	p := startProcess(s.t, filepath.Join(binDir, name), nil, s.env(extraEnv...))
	s.t.Cleanup(func() {
		p.stop(s.t)
		if s.t.Failed() {
			s.t.Logf("---- %s output ----\n%s", name, p.output())
		}
	})
	return p
}

// process is a running binary whose output is kept for failure reports.
type process struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func startProcess(t *testing.T, path string, args, env []string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(path, args...), done: make(chan error, 1)}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p, p
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	return p
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// stop asks for a graceful shutdown (SIGTERM) and waits for it.
func (p *process) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 40s of SIGTERM", p.cmd.Path)
	}
}

// loopbackPort is a TCP port free on the loopback.
func loopbackPort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port), nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// do sends a JSON request and decodes a JSON answer into out (if non-nil).
// consoleCard is the job's card on the simulator console's page.
func (s *stack) consoleCard(system, jobRef string) string {
	s.t.Helper()
	resp, err := http.Get(s.simURL + "/")
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	require.Equal(s.t, http.StatusOK, resp.StatusCode)
	_, card, ok := strings.Cut(string(b), `<div class="job" id="`+system+`-`+jobRef+`">`)
	require.True(s.t, ok, "no card for job %s of %s", jobRef, system)
	card, _, _ = strings.Cut(card, `<div class="job" `)
	return card
}

func do(t *testing.T, method, url string, header map[string]string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && len(b) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
	return resp.StatusCode
}

func (s *stack) operator() map[string]string {
	return map[string]string{"Authorization": "Bearer " + devEnv["O2O_API_TOKEN"]}
}

// recordHistory saves a workflow's history for the replay tests in
// workflows/ when O2O_RECORD_HISTORIES=1 (make record-histories). Commit the
// files: they guard the workflow's determinism against future changes.
// Existing files are kept — histories recorded by older code are the point —
// unless O2O_RECORD_HISTORIES=overwrite.
func recordHistory(t *testing.T, name, workflowID string) {
	t.Helper()
	recordRunHistory(t, name, workflowID, "")
}

// recordRunHistory is recordHistory for one run of the workflow (runID ""
// is the latest), e.g. a run that ended in continue-as-new.
func recordRunHistory(t *testing.T, name, workflowID, runID string) {
	t.Helper()
	mode := os.Getenv("O2O_RECORD_HISTORIES")
	if mode != "1" && mode != "overwrite" {
		return
	}
	cli := devCLI()
	args := []string{"workflow", "show", "--address", devServer.FrontendHostPort(),
		"--namespace", "default", "--workflow-id", workflowID, "--output", "json"}
	if runID != "" {
		args = append(args, "--run-id", runID)
	}
	out, err := exec.Command(cli, args...).Output()
	require.NoError(t, err)
	path := filepath.Join("..", "workflows", "testdata", "histories", name+".json")
	if _, err := os.Stat(path); err == nil && mode != "overwrite" {
		return
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, out, 0o644))
	t.Logf("recorded %s", path)
}

// configLink is the example configuration's link, for tests that deliver
// events straight to Temporal.
var configLink = func() config.Link {
	cfg, err := config.Load("../o2o.example.yaml", config.Options{SkipSecrets: true})
	if err != nil {
		panic(err)
	}
	return *cfg.Links[0]
}()

func clientUpdate(workflowID string) client.UpdateWorkflowOptions {
	return client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: lifecycle.ActionRetry,
		Args:         []any{lifecycle.OperatorRequest{By: "e2e"}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
}
