//go:build integration

package e2e

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/cmd/drill/drill"
)

// TestDrillSmall is make drill at a small size: 50 links × 5 events, every
// webhook delivered twice and 10% out of order, target calls failing and
// timing out, one worker kill -9 and one Temporal kill -9 and restart (its
// own dev server, on a database file). Nothing may be lost, applied twice,
// applied out of the order O2O received it, or acknowledged without being
// stored. The fault rates on target calls are lower than make drill's (5%
// 5xx, 1% timeouts instead of 20% and 5%), which keeps it within about two
// minutes: at make drill's rates a job creation (several calls) fails most
// attempts, and the activity's backoff makes the slowest links take minutes.
func TestDrillSmall(t *testing.T) {
	cli := os.Getenv("O2O_TEMPORAL_CLI")
	if cli == "" {
		cli = "../bin/temporal"
	}
	o := drill.Defaults()
	o.Links, o.EventsPerLink, o.Concurrency = 50, 5, 25
	o.ServerErrors, o.Timeouts = 0.05, 0.01
	o.KillEvery, o.MaxKills = 5*time.Second, 1
	o.DrainTimeout = 5 * time.Minute
	o.BinDir, o.TemporalCLI = binDir, cli
	o.SeedFile, o.ConfigFile = "../dev/simulator.yaml", "../o2o.example.yaml"
	var out bytes.Buffer
	o.Out = &out

	rep, err := drill.Run(context.Background(), o)
	t.Log("\n" + out.String())
	require.NoError(t, err)
	var b bytes.Buffer
	rep.Print(&b)
	t.Log(b.String())

	require.Equal(t, 250, rep.Events, "every event was produced")
	require.Zero(t, rep.Lost, "lost")
	require.Zero(t, rep.Duplicated, "duplicated")
	require.Zero(t, rep.OutOfOrder, "out of order")
	require.Zero(t, rep.AckedNotStored, "acknowledged but not stored")
	require.True(t, rep.Drained)
	require.Equal(t, 1, rep.WorkerKills)
	require.True(t, rep.OK())
}
