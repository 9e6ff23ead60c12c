//go:build integration

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// TestProcessesStartedBeforeTemporalWaitAndSaySo starts the worker and the
// webhook server while no Temporal answers at their address (as after a
// reboot, with Temporal or its database still coming up). They must stay up
// and say what they wait for; the webhook must answer 503 + Retry-After, not
// 202, for an event it cannot store; once Temporal comes up, the sender's
// redelivery is accepted and the link is made.
func TestProcessesStartedBeforeTemporalWaitAndSaySo(t *testing.T) {
	addr := freeAddr(t)
	seed, cfg := devSetup(t)
	// The simulated sender redelivers for about a minute, as a real one would.
	retry := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second}
	s := newStackOn(t, topology{temporal: addr, starting: true, retry: retry}, "WT", seed, cfg)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, s.worker.output(), "Waiting: Temporal at "+addr)
		assert.Contains(c, s.webhook.output(), "Waiting: Temporal to answer")
	}, 60*time.Second, 100*time.Millisecond)
	require.Nil(t, s.worker.cmd.ProcessState, "the worker must wait, not exit")

	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, s.webhook.output(), "Temporal did not accept the event; asking the sender to retry")
	}, 30*time.Second, 100*time.Millisecond, "an event Temporal cannot store is answered 503, not acknowledged")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true"}
	late, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  devCLI(),
		LogLevel:      "error",
		ExtraArgs:     append(args, platform.DevServerFlags(workflows.SearchAttributes)...),
		ClientOptions: &client.Options{HostPort: addr, Namespace: "default"},
	})
	require.NoError(t, err)
	defer late.Stop()

	s.waitState("acme-fixit", job.JobRef, lifecycle.StateLinked, 1)
	require.Len(t, s.secondaryJobs(job.JobRef), 1)
	require.Contains(t, s.worker.output(), "Done waiting")
	require.NotContains(t, s.worker.output(), `"level":"error"`, "waiting is not an error")
}
