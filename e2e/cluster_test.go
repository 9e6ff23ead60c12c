//go:build integration && cluster

// The cluster build: O2O on a real Temporal cluster — the Temporal server
// built from its Go module at the version docker-compose.yml pins, on
// PostgreSQL, configured by deploy/temporal/config_template.yaml (the file
// the compose file mounts) — with two workers and two webhook servers. Run
// with `make cluster-test`, which builds the server and its SQL tool into
// bin/ and passes them in O2O_TEMPORAL_SERVER, O2O_TEMPORAL_SQL_TOOL,
// O2O_TEMPORAL_SCHEMA, O2O_TEMPORAL_SERVER_VERSION and O2O_PG_BIN.

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

func init() { clusterBuild = true }

const clusterNamespace = "default"

// cluster is a Temporal server on a private PostgreSQL, both children of
// the test, torn down (data included) when the test ends, passed or not.
type cluster struct {
	t       *testing.T
	root    string   // the server's --root: config/docker.yaml, config/dynamicconfig/
	env     []string // the server's environment, which also renders its config
	server  *process
	address string // the frontend, host:port
}

func clusterEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	require.NotEmpty(t, v, "%s is not set: run `make cluster-test`", name)
	return v
}

func freePort(t *testing.T) string {
	_, port, err := net.SplitHostPort(freeAddr(t))
	require.NoError(t, err)
	return port
}

// serverPorts hands out free ports below 32768: Temporal keeps membership
// ports in a smallint column (cluster_membership.rpc_port), and the kernel's
// ephemeral ports, which freePort returns, are above it.
type serverPorts map[int]bool

func (used serverPorts) next(t *testing.T) string {
	t.Helper()
	for range 1000 {
		p := 20000 + rand.IntN(12000)
		if used[p] {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		l.Close()
		used[p] = true
		return strconv.Itoa(p)
	}
	t.Fatal("no free port below 32768")
	return ""
}

// startCluster starts PostgreSQL, creates Temporal's two databases with the
// SQL tool and starts the server.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	serverBin := clusterEnv(t, "O2O_TEMPORAL_SERVER")
	sqlTool := clusterEnv(t, "O2O_TEMPORAL_SQL_TOOL")
	schemaDir := clusterEnv(t, "O2O_TEMPORAL_SCHEMA")
	pgBin := clusterEnv(t, "O2O_PG_BIN")

	// One pinned version: the binary is the version the compose file pins.
	version := clusterEnv(t, "O2O_TEMPORAL_SERVER_VERSION")
	out, err := exec.Command(serverBin, "--version").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), version, "the built server is the pinned version")
	compose, err := os.ReadFile("../docker-compose.yml")
	require.NoError(t, err)
	tags := regexp.MustCompile(`image: temporalio/(server|admin-tools):(\S+)`).FindAllStringSubmatch(string(compose), -1)
	require.NotEmpty(t, tags)
	for _, m := range tags {
		tag, _, _ := strings.Cut(m[2], "-") // admin-tools: 1.29.1-tctl-1.18.4-cli-1.5.0
		require.Equal(t, version, tag, "docker-compose.yml pins temporalio/%s to the version the test runs", m[1])
	}

	// PostgreSQL refuses to run as root: as root, it runs as the postgres user.
	base, err := os.MkdirTemp("", "o2o-cluster-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o755))
	pgData := filepath.Join(base, "pg")
	require.NoError(t, os.Mkdir(pgData, 0o700))
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root, PostgreSQL needs the postgres user (Debian's postgresql package creates it)")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(pgData, uid, gid))
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	initdb := exec.Command(filepath.Join(pgBin, "initdb"), "-D", pgData, "-U", "temporal", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err = initdb.CombinedOutput()
	require.NoError(t, err, "initdb: %s", out)

	pgPort := freePort(t)
	// fsync off: PostgreSQL itself is never killed here, and the test is
	// about Temporal and O2O surviving their own crashes.
	pg := exec.Command(filepath.Join(pgBin, "postgres"), "-D", pgData, "-p", pgPort, "-k", "",
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	pg.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	pgp := &process{cmd: pg, done: make(chan error, 1)}
	pg.Stdout, pg.Stderr = pgp, pgp
	require.NoError(t, pg.Start())
	go func() { pgp.done <- pg.Wait() }()
	t.Cleanup(func() {
		// SIGINT is PostgreSQL's fast shutdown.
		_ = pg.Process.Signal(syscall.SIGINT)
		select {
		case <-pgp.done:
		case <-time.After(30 * time.Second):
			_ = pg.Process.Kill()
			<-pgp.done
		}
		if t.Failed() {
			t.Logf("---- postgres output ----\n%s", pgp.output())
		}
	})
	require.Eventually(t, func() bool {
		return exec.Command(filepath.Join(pgBin, "pg_isready"), "-q", "-U", "temporal", "-h", "127.0.0.1", "-p", pgPort).Run() == nil
	}, 30*time.Second, 100*time.Millisecond, "PostgreSQL did not start: %s", pgp.output())

	// The schema, as the compose file's temporal-schema job creates it.
	sql := func(db string, args ...string) {
		t.Helper()
		args = append([]string{"--plugin", "postgres12", "--endpoint", "127.0.0.1", "--port", pgPort,
			"--user", "temporal", "--password", "temporal", "--database", db}, args...)
		out, err := exec.Command(sqlTool, args...).CombinedOutput()
		require.NoError(t, err, "temporal-sql-tool %s: %s", strings.Join(args, " "), out)
	}
	for db, dir := range map[string]string{"temporal": "temporal", "temporal_visibility": "visibility"} {
		sql(db, "create-database")
		sql(db, "setup-schema", "-v", "0.0")
		sql(db, "update-schema", "-d", filepath.Join(schemaDir, dir, "versioned"))
	}

	c := &cluster{t: t, root: filepath.Join(base, "temporal")}
	require.NoError(t, os.MkdirAll(filepath.Join(c.root, "config", "dynamicconfig"), 0o755))
	dynamic := filepath.Join(c.root, "config", "dynamicconfig", "docker.yaml")
	require.NoError(t, os.WriteFile(dynamic, nil, 0o644))
	ports := serverPorts{}
	grpcPort := ports.next(t)
	c.address = "127.0.0.1:" + grpcPort
	// The compose file's temporal service environment, with private ports.
	c.env = append(os.Environ(),
		"DB=postgres12", "DB_PORT="+pgPort, "POSTGRES_SEEDS=127.0.0.1",
		"POSTGRES_USER=temporal", "POSTGRES_PWD=temporal",
		"BIND_ON_IP=127.0.0.1", "NUM_HISTORY_SHARDS=8", "LOG_LEVEL=warn",
		"DYNAMIC_CONFIG_FILE_PATH="+dynamic,
		"FRONTEND_GRPC_PORT="+grpcPort, "FRONTEND_HTTP_PORT="+ports.next(t),
		"FRONTEND_MEMBERSHIP_PORT="+ports.next(t),
		"HISTORY_GRPC_PORT="+ports.next(t), "HISTORY_MEMBERSHIP_PORT="+ports.next(t),
		"MATCHING_GRPC_PORT="+ports.next(t), "MATCHING_MEMBERSHIP_PORT="+ports.next(t),
		"WORKER_GRPC_PORT="+ports.next(t), "WORKER_MEMBERSHIP_PORT="+ports.next(t),
	)
	rendered, err := renderServerConfig("../deploy/temporal/config_template.yaml", c.env)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(c.root, "config", "docker.yaml"), rendered, 0o644))
	c.start()
	t.Cleanup(func() {
		if c.server != nil {
			c.server.stop(t)
			if t.Failed() {
				t.Logf("---- temporal-server output ----\n%s", c.server.output())
			}
		}
	})
	return c
}

// renderServerConfig renders the server config template as the
// temporalio/server image's entrypoint does (dockerize): Go text/template,
// the environment as .Env, and dockerize's default (the second argument when
// the variable is not set at all).
func renderServerConfig(path string, environ []string) ([]byte, error) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tpl, err := template.New(filepath.Base(path)).Funcs(template.FuncMap{
		"default": func(args ...any) (string, error) {
			if len(args) != 2 {
				return "", fmt.Errorf("default takes a value and its default, not %d arguments", len(args))
			}
			if args[0] != nil {
				return fmt.Sprint(args[0]), nil
			}
			return fmt.Sprint(args[1]), nil
		},
	}).Option("missingkey=default").Parse(string(src))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, struct{ Env map[string]string }{env}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// start starts the server (as the image does: --env docker start) and
// waits until its frontend answers.
func (c *cluster) start() {
	t := c.t
	t.Helper()
	c.server = startProcess(t, clusterEnv(t, "O2O_TEMPORAL_SERVER"),
		[]string{"--root", c.root, "--config", "config", "--env", "docker", "--allow-no-auth", "start"}, c.env)
	deadline := time.Now().Add(90 * time.Second)
	for {
		tc, err := client.Dial(client.Options{HostPort: c.address, Namespace: clusterNamespace, Logger: quietLogger{}})
		if err == nil {
			_, err = tc.CheckHealth(context.Background(), &client.CheckHealthRequest{})
			tc.Close()
			if err == nil {
				return
			}
		}
		select {
		case exit := <-c.server.done:
			t.Fatalf("the Temporal server exited (%v): %v\n%s", exit, err, c.server.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Temporal server did not start: %v\n%s", err, c.server.output())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// crash kills the server (SIGKILL) and starts it again on the same data.
func (c *cluster) crash() {
	c.t.Helper()
	_ = c.server.cmd.Process.Kill()
	<-c.server.done
	c.start()
}

// client is a Temporal client of the cluster's namespace.
func (c *cluster) client() client.Client {
	c.t.Helper()
	tc, err := client.Dial(client.Options{HostPort: c.address, Namespace: clusterNamespace, Logger: quietLogger{}})
	require.NoError(c.t, err)
	c.t.Cleanup(tc.Close)
	return tc
}

// setupNamespace creates the namespace and O2O's search attributes, as the
// compose file's temporal-setup job does, through the project's own setup
// path (platform.RegisterSearchAttributes, which the worker also runs).
func (c *cluster) setupNamespace() {
	t := c.t
	t.Helper()
	nc, err := client.NewNamespaceClient(client.Options{HostPort: c.address, Logger: quietLogger{}})
	require.NoError(t, err)
	defer nc.Close()
	ctx := context.Background()
	require.NoError(t, nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: clusterNamespace, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)}))
	tc := c.client()
	// The frontend learns of a new namespace within its refresh interval.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.NoError(ct, platform.RegisterSearchAttributes(ctx, tc, clusterNamespace, workflows.SearchAttributes))
	}, 60*time.Second, 500*time.Millisecond)
}

// quietLogger keeps the SDK's retries while the server starts out of the
// test output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// kill9 kills a process with SIGKILL: no shutdown, whatever it was doing is
// cut off.
func kill9(p *process) {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// TestClusterTwoWorkersSurviveAWorkerKillAndATemporalCrash runs 20 linked
// jobs, each with four changes after its assignment, through two webhook
// servers (acme's webhooks reach one, fixit's the other) and two workers on
// the cluster; mid-load one worker is killed with SIGKILL and the Temporal
// server is killed and restarted. Every event is applied exactly once: each
// job's history in the other system holds exactly the expected job event
// codes in order, there is one linked job per primary job, and every link
// ends in its exact state.
func TestClusterTwoWorkersSurviveAWorkerKillAndATemporalCrash(t *testing.T) {
	c := startCluster(t)
	c.setupNamespace()

	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.NoError(t, err)
	cfg, err := os.ReadFile("../o2o.example.yaml")
	require.NoError(t, err)
	cfg = bytes.Replace(cfg, []byte("    closeAfter: 72h\n"), []byte("    closeAfter: 72h\n    reconcileEvery: 8760h\n"), 1)
	// A real sender keeps redelivering for longer than a Temporal restart.
	retry := []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second,
		10 * time.Second, 20 * time.Second, 30 * time.Second, 60 * time.Second}
	s := newStackOn(t, topology{temporal: c.address, workers: 2, webhooks: 2, retry: retry}, "CL", seed, cfg)

	const n = 20
	jobs := make([]simJob, n)
	for i := range jobs {
		site, line := "SITE-001", [2]string{"PLB001", "1"}
		if i%2 == 1 {
			site, line = "SITE-002", [2]string{"PLB002", "1"}
		}
		jobs[i] = s.createAcmeJob(site, "CON-00"+site[len(site)-1:], line)
		s.assign("acme", jobs[i].Activities[0].ID, "7")
	}
	fx := make([]string, n)
	for i, job := range jobs {
		fx[i] = s.settle(job.JobRef, 1).SecondaryJobRef
		require.NotEmpty(t, fx[i])
	}
	t.Logf("%d links created on the cluster", n)

	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	appts := make([]string, n)
	for i := range jobs {
		if i == n/2 {
			kill9(s.workers[1])
			t.Logf("worker 2 killed (SIGKILL) after %d jobs' first changes", i)
		}
		s.act("fixit", http.MethodPost, "/jobs/"+fx[i]+"/status", map[string]string{"status": "Accepted"})
		a := s.act("fixit", http.MethodPost, "/jobs/"+fx[i]+"/appointments", map[string]string{
			"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)})
		appts[i] = fmt.Sprint(a["appointmentId"])
	}
	// Events are still in flight: the server crashes under them.
	c.crash()
	t.Log("Temporal server killed (SIGKILL) and restarted")
	for i, job := range jobs {
		if i == n/2 {
			s.workers[1] = s.start("worker")
			t.Log("worker 2 restarted")
		}
		s.act("acme", http.MethodPost, "/jobs/"+job.JobRef+"/status", map[string]string{"status": "On Hold"})
		s.act("fixit", http.MethodPost, "/appointments/"+appts[i]+"/complete", map[string]string{})
	}

	// Five events each: the assignment, Accepted, the appointment booked,
	// On Hold, the appointment completed.
	const applied = 5
	duplicates := 0
	for i, job := range jobs {
		var st lifecycle.LinkState
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			var code int
			st, code = s.linkState("acme-fixit", job.JobRef)
			assert.Equal(ct, http.StatusOK, code)
			assert.Equal(ct, applied, appliedCount(st), "events applied for %s", job.JobRef)
			assert.Zero(ct, st.Pending)
		}, 2*time.Minute, 250*time.Millisecond)

		require.Equal(t, lifecycle.StateLinked, st.State, job.JobRef)
		require.Equal(t, fx[i], st.SecondaryJobRef)
		require.Equal(t, "On Hold", st.PrimaryStatus, job.JobRef)
		require.Equal(t, "Accepted", st.SecondaryStatus, job.JobRef)
		seen := map[string]bool{}
		for _, e := range st.Events {
			switch e.Outcome {
			case lifecycle.OutcomeApplied:
				require.False(t, seen[e.ID], "event %s applied twice on %s", e.ID, job.JobRef)
				seen[e.ID] = true
			case lifecycle.OutcomeDuplicate:
				duplicates++
			}
		}
		require.Equal(t, []string{"SACC", "APPT", "APCOM"}, historyCodes(s.job("acme", job.JobRef)), "acme job %s", job.JobRef)
		require.Equal(t, []string{"PHOLD"}, historyCodes(s.job("fixit", fx[i])), "fixit job %s", fx[i])
		require.Len(t, s.secondaryJobs(job.JobRef), 1, "one linked job for %s", job.JobRef)
	}
	t.Logf("all %d links exact; %d redelivered events recognised as duplicates", n, duplicates)
}

func appliedCount(st lifecycle.LinkState) int {
	n := 0
	for _, e := range st.Events {
		if e.Outcome == lifecycle.OutcomeApplied {
			n++
		}
	}
	return n
}
