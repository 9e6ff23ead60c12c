// Command starter is O2O's operator CLI. It reads the same configuration as
// the other processes (O2O_CONFIG) and Temporal's standard client variables
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...). Only the commands that talk to
// Temporal connect to it, once per run; only `check` needs the secrets.
//
//	starter state  acme-fixit AC000001          print a link's state
//	starter list   --state NeedsAttention       find links
//	starter link   acme-fixit AC000001 137001   link a job whose activity is already assigned
//	starter link   acme-fixit --file jobs.csv   link many (backfill)
//	starter retry  acme-fixit AC000001 --by you  retry the event a link is blocked on
//	starter skip   acme-fixit AC000001 --by you --reason "..."
//	starter pause | resume acme-fixit AC000001 --by you
//	starter unlink acme-fixit AC000001 --by you --reason "..."
//	starter check  [--job AC000001]             preflight against the live systems
//
// Exit status: 0 on success, 1 when the command failed or was refused, 2 on
// a usage error (unknown command or flag, wrong arguments).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/workflows"
)

func main() {
	ctx, stop := platform.SignalContext()
	a := newApp(os.Stdout, os.Stderr)
	cmd, err := a.root().ExecuteContextC(ctx)
	a.close()
	stop()
	os.Exit(a.exitCode(cmd, err))
}

// app holds what the commands share, made at most once per run: the
// configuration and the one Temporal client, each only when a command asks.
type app struct {
	stdout, stderr io.Writer

	cfg *config.Config
	tc  client.Client
	// dial connects to Temporal; tests replace it.
	dial func(ctx context.Context) (client.Client, error)
	// started is set once flags and arguments have been accepted and a
	// command runs: an error before that is a usage error.
	started bool
}

func newApp(stdout, stderr io.Writer) *app {
	return &app{stdout: stdout, stderr: stderr, dial: dialTemporal}
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "starter",
		Short: "Operate O2O links: find them, inspect them, start, retry, skip, pause, resume and unlink them",
		Long: `starter is O2O's operator CLI.

It reads the configuration named by O2O_CONFIG. The commands that talk to
Temporal (all but check) use Temporal's standard client variables:
TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, TEMPORAL_API_KEY
or TEMPORAL_TLS_CLIENT_CERT_PATH / TEMPORAL_TLS_CLIENT_KEY_PATH.
Only check needs the tokens and secrets the configuration names.
The operator actions record who asks: --by, or O2O_OPERATOR when set.

Exit status: 0 on success, 1 when the command failed or the link refused,
2 on a usage error.`,
		Example: `  starter list --state NeedsAttention
  starter state acme-fixit AC000123
  starter retry acme-fixit AC000123 --by ops@acme
  starter skip acme-fixit AC000123 --by ops@acme --reason "duplicate job, handled by phone"
  starter link acme-fixit --file jobs.csv --dry-run
  starter check --job AC000123`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(*cobra.Command, []string) {
			a.started = true
		},
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.AddCommand(a.stateCmd(), a.listCmd(), a.linkCmd(), a.checkCmd(), a.reconcileCmd())
	for _, c := range a.actionCmds() {
		root.AddCommand(c)
	}
	return root
}

// config loads the configuration without secrets (once).
func (a *app) config() (*config.Config, error) {
	if a.cfg == nil {
		cfg, err := config.LoadFromEnv(config.Options{SkipSecrets: true})
		if err != nil {
			return nil, err
		}
		a.cfg = cfg
	}
	return a.cfg, nil
}

// link loads the configuration and returns the named link.
func (a *app) link(name string) (*config.Link, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	l := cfg.Link(name)
	if l == nil {
		return nil, usageErrorf("unknown link %q (configured: %s)", name, linkNames(cfg))
	}
	return l, nil
}

// temporal returns the process's one Temporal client, connecting on first use.
func (a *app) temporal(ctx context.Context) (client.Client, error) {
	if a.tc == nil {
		c, err := a.dial(ctx)
		if err != nil {
			return nil, err
		}
		a.tc = c
	}
	return a.tc, nil
}

func (a *app) close() {
	if a.tc != nil {
		a.tc.Close()
		a.tc = nil
	}
}

func dialTemporal(ctx context.Context) (client.Client, error) {
	log, err := platform.NewLogger("starter")
	if err != nil {
		return nil, err
	}
	// The CLI's own output is for people; keep the client quiet.
	return platform.Dial(ctx, log.WithOptions(zap.IncreaseLevel(zap.WarnLevel)), nil)
}

// usageError is a mistake in how the command was called: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// reported is a failure the command has already explained on its output
// (check, backfill): nothing more is printed, the exit status is 1.
type reported struct{}

func (reported) Error() string { return "failed (see above)" }

// exitCode prints err for people and returns the process's exit status.
func (a *app) exitCode(cmd *cobra.Command, err error) int {
	if err == nil {
		return 0
	}
	var usage *usageError
	var refused *workflows.RefusedError
	switch {
	case errors.As(err, &reported{}):
		return 1
	case errors.As(err, &refused):
		// The link's own words: "refused: link is Linked, not NeedsAttention: nothing to retry".
		fmt.Fprintln(a.stderr, refused.Error())
		return 1
	case errors.As(err, &usage) || !a.started:
		fmt.Fprintf(a.stderr, "starter: %v\n", err)
		path := "starter"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(a.stderr, "Run '%s -h' for usage.\n", path)
		return 2
	}
	fmt.Fprintf(a.stderr, "starter: %v\n", err)
	if hint := settingsHint(err); hint != "" {
		fmt.Fprintf(a.stderr, "starter: %s\n", hint)
	}
	return 1
}

func linkNames(cfg *config.Config) string {
	names := make([]string, 0, len(cfg.Links))
	for _, l := range cfg.Links {
		names = append(names, l.Name)
	}
	return strings.Join(names, ", ")
}

// exactArgs is cobra.ExactArgs with the names of the arguments in the message.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErrorf("want %d argument(s), %s; got %d", len(names), strings.Join(names, " "), len(args))
		}
		for i, v := range args {
			if strings.TrimSpace(v) == "" {
				return usageErrorf("%s is empty", names[i])
			}
		}
		return nil
	}
}
