// Command devstack runs the whole of O2O on one machine for `make run`: the
// Temporal dev server (with its Web UI), two simulated Oneserve systems, the
// worker and the webhook server, each as its own process. It prints where to
// look, prefixes each process's output with its name, and on Ctrl-C stops
// them in the right order: webhook first (no new events), then the worker,
// the simulators and finally Temporal.
//
// It is a development tool: the tokens and secrets it sets are fixed,
// public, development-only values.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/o2o-sync/o2o/internal/devenv"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/workflows"
)

// Development-only credentials, shared by O2O and the simulator. Payloads
// are encrypted, as in production; the Web UI reads them through the
// webhook server's codec endpoint (codecEndpoint).
var devEnv = append(devenv.List(), "O2O_PAYLOAD_KEYS="+devenv.PayloadKey)

// codecEndpoint is the webhook server's codec server, which the dev
// server's Web UI and the CLI (through .run/env) decode payloads with.
const codecEndpoint = "http://localhost:8080/codec"

func main() {
	bin := flag.String("bin", "bin", "directory holding the built binaries and the temporal CLI")
	dataDir := flag.String("data", ".run", "directory for the Temporal database and logs")
	cfgPath := flag.String("config", "o2o.example.yaml", "O2O configuration file")
	seed := flag.String("seed", "dev/simulator.yaml", "simulator seed file")
	keep := flag.Bool("keep", false, "keep the previous run's Temporal data (by default each run starts fresh, like the simulated systems)")
	flag.Parse()
	if err := run(*bin, *dataDir, *cfgPath, *seed, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan error
}

// prepare checks that the stack's ports are free and readies the data
// directory, returning the path of Temporal's database.
func prepare(dataDir string, keep bool) (db string, _ error) {
	for _, port := range []int{7233, 8233, 9100, 8080, 9464} {
		if inUse(fmt.Sprintf(":%d", port)) {
			return "", fmt.Errorf("port %d is already in use%s; stop it (an earlier make run?) and try again", port, portHolder(port))
		}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", err
	}
	db = filepath.Join(dataDir, "temporal.db")
	if !keep {
		// The simulated systems start empty each run; links from an earlier
		// run would point at jobs that no longer exist. Keep the last run's
		// data beside, for a look.
		if err := os.Rename(db, db+".prev"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return db, nil
}

// stopAll stops the started processes, the last started first: each is
// asked to stop, and killed if it has not within 35s.
func stopAll(started []*proc) {
	for i := len(started) - 1; i >= 0; i-- {
		p := started[i]
		_ = p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(35 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		fmt.Printf("devstack: %s stopped\n", p.name)
	}
}

// step is one process of the stack.
type step struct {
	name  string
	path  string
	args  []string
	ready string // URL or host:port that answers once the process is up
}

// steps lists the stack's processes in the order they start.
func steps(bin, db, seed string) []step {
	temporalArgs := []string{"server", "start-dev",
		"--db-filename", db, "--ip", "127.0.0.1",
		"--port", "7233", "--ui-port", "8233", "--log-level", "error",
		"--ui-codec-endpoint", codecEndpoint,
	}
	// Search attributes are registered at start, so links are filterable in
	// the Web UI from the first workflow.
	temporalArgs = append(temporalArgs, platform.DevServerFlags(workflows.SearchAttributes)...)
	return []step{
		// The Web UI answers last: waiting for it keeps the banner below
		// the dev server's own lines (the worker waits for Temporal anyway).
		{"temporal", filepath.Join(bin, "temporal"), temporalArgs, "http://127.0.0.1:8233/"},
		{"simulator", filepath.Join(bin, "oneserve-sim"), []string{"-seed", seed, "-addr", "127.0.0.1:9100"}, "http://127.0.0.1:9100/"},
		{"worker", filepath.Join(bin, "worker"), nil, "http://127.0.0.1:9464/readyz"},
		{"webhook", filepath.Join(bin, "webhook"), nil, "http://127.0.0.1:8080/readyz"},
	}
}

// run starts the stack, prints the banner and waits for Ctrl-C or for a
// process to exit, then stops them all.
func run(bin, dataDir, cfgPath, seed string, keep bool) error {
	db, err := prepare(dataDir, keep)
	if err != nil {
		return err
	}
	// A closed terminal (SIGHUP) stops everything like Ctrl-C does. Output
	// piped into a program that has gone (make run | tee, then Ctrl-C)
	// must not kill devstack before it has stopped its children: writes
	// then fail instead of raising SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	env := append(os.Environ(), devEnv...)
	env = append(env, "O2O_CONFIG="+cfgPath, "TEMPORAL_ADDRESS=127.0.0.1:7233", "TEMPORAL_NAMESPACE=default", "O2O_LOG_FORMAT=console")

	var started []*proc
	defer func() { stopAll(started) }()

	// Everything listens on the loopback only: the dev tokens are public.
	env = append(env, "O2O_WEBHOOK_ADDR=127.0.0.1:8080", "O2O_METRICS_ADDR=127.0.0.1:9464")
	// The dev server's Web UI has no login, so it cannot send the operator
	// token: its origin may decode without one, over loopback only.
	env = append(env, "O2O_DEV_UI_CODEC_WITHOUT_TOKEN=1")
	// A second terminal gets the same settings with `source .run/env`
	// (the starter, curl with the operator token).
	if err := writeEnv(filepath.Join(dataDir, "env"), append(append([]string{}, devEnv...),
		"O2O_CONFIG="+absPath(cfgPath), "TEMPORAL_ADDRESS=127.0.0.1:7233", "TEMPORAL_NAMESPACE=default",
		// The temporal CLI decodes through the codec server with these.
		"TEMPORAL_CODEC_ENDPOINT="+codecEndpoint, "TEMPORAL_CODEC_AUTH=Bearer dev-operator-token-0001")); err != nil {
		return err
	}
	for _, s := range steps(bin, db, seed) {
		p, err := start(s.name, s.path, s.args, env)
		if err != nil {
			return err
		}
		started = append(started, p)
		if s.ready != "" {
			if err := waitReady(ctx, s.ready, p); err != nil {
				return fmt.Errorf("%s did not start: %w", s.name, err)
			}
		}
	}

	fmt.Print(banner)
	select {
	case <-ctx.Done():
		fmt.Println("\ndevstack: stopping (webhook, worker, simulator, Temporal)...")
		return nil
	case err := <-firstExit(started):
		return err
	}
}

const banner = `
────────────────────────────────────────────────────────────────────────────
 O2O is running.

   Temporal Web UI     http://localhost:8233   (filter: O2OState="NeedsAttention";
                       the README's "Day to day" has the views to save)
                       payloads are encrypted; the UI decodes them at http://localhost:8080/codec
   Simulated systems   http://localhost:9100   (the console: acme = primary, fixit = secondary)
   Webhook server      http://localhost:8080   (GET / lists its endpoints)
   Worker metrics      http://localhost:9464/metrics   (also /healthz, /readyz)

 Try the flow in the console (raise a job in acme, assign it to team 7), or
 from a terminal (see README, "Try it by hand"):
   curl -s localhost:9100/acme/sim/jobs -d '{"clientId":"28","siteRef":"SITE-001",
     "contactRef":"CON-001","priority":"Emergency","description":"Dripping tap",
     "activities":[{"code":"PLB001","quantity":"1","description":"Replace tap washer"}]}'
   curl -s -X POST localhost:9100/acme/sim/activities/<activity id>/assign -d '{"teamId":"7"}'
   curl -s -H 'Authorization: Bearer dev-operator-token-0001' localhost:8080/links/acme-fixit/<job ref>

 In another terminal, source .run/env first: then bin/starter and bin/temporal
 find Temporal, the configuration and the keys (bin/starter list --state NeedsAttention).

 Ctrl-C stops everything.
────────────────────────────────────────────────────────────────────────────
`

func start(name, path string, args, env []string) (*proc, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s: %s is missing; run `make build` first", name, path)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	// Own process group: Ctrl-C in the terminal reaches devstack only, which
	// then stops the children in order. Should devstack die without doing
	// so (kill -9), the kernel sends each child SIGTERM (Pdeathsig).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan error, 1)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); prefix(name, stdout) }()
	go func() { wg.Wait(); p.done <- cmd.Wait() }()
	return p, nil
}

func prefix(name string, r io.Reader) {
	quiet := name == "temporal" && os.Getenv("DEVSTACK_ALL_LOGS") == ""
	explained := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if quiet && benignTemporalError(line) {
			if !explained {
				explained = true
				fmt.Printf("%-9s | %s\n", name, benignNote)
			}
			continue
		}
		fmt.Printf("%-9s | %s\n", name, line)
	}
}

// benignNote replaces the dev server's first "context canceled" error line.
const benignNote = `(devstack hides the dev server's "context canceled" errors: a client ` +
	`gave up a request, usually a long poll ended by a worker stopping. ` +
	`They are harmless. DEVSTACK_ALL_LOGS=1 shows them.)`

// benignTemporalError reports whether a dev-server log line is an error
// only because its caller went away (a cancelled long poll or request):
// the dev server logs those at error level, which reads as a fault.
func benignTemporalError(line string) bool {
	return strings.Contains(line, "context canceled")
}

func waitReady(ctx context.Context, target string, p *proc) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("exited: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		if strings.HasPrefix(target, "http") {
			resp, err := http.Get(target)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode < 500 {
					return nil
				}
			}
			continue
		}
		if conn, err := net.DialTimeout("tcp", target, time.Second); err == nil {
			conn.Close()
			return nil
		}
	}
	return errors.New("not ready after 60s")
}

func firstExit(ps []*proc) <-chan error {
	ch := make(chan error, len(ps))
	for _, p := range ps {
		go func() {
			err := <-p.done
			p.done <- err
			ch <- fmt.Errorf("%s exited unexpectedly: %v", p.name, err)
		}()
	}
	return ch
}

func inUse(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return true
	}
	l.Close()
	return false
}

// portHolder names the process listening on a local TCP port, as
// " (held by pid 1234, temporal)", or "" when it cannot tell (Linux /proc
// only, and only for processes this user may inspect).
func portHolder(port int) string {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fields := strings.Fields(line)
			// local_address is HEX_IP:HEX_PORT; state 0A is LISTEN.
			if len(fields) < 10 || fields[3] != "0A" {
				continue
			}
			if _, p, ok := strings.Cut(fields[1], ":"); ok && p == fmt.Sprintf("%04X", port) {
				inodes[fields[9]] = true
			}
		}
	}
	if len(inodes) == 0 {
		return ""
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		target, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(target, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] {
			pid := strings.Split(fd, "/")[2]
			comm, _ := os.ReadFile("/proc/" + pid + "/comm")
			return fmt.Sprintf(" (held by pid %s, %s)", pid, strings.TrimSpace(string(comm)))
		}
	}
	return ""
}

// writeEnv writes the variables as a file a shell can source.
func writeEnv(path string, vars []string) error {
	var b strings.Builder
	b.WriteString("# Written by make run: development-only values. In another terminal: source .run/env\n")
	for _, v := range vars {
		k, val, _ := strings.Cut(v, "=")
		fmt.Fprintf(&b, "export %s='%s'\n", k, val)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
