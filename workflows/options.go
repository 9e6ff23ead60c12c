package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// writeOptions are the options of activities that write to a Oneserve system.
//
// There is no attempt limit: while a system is down (5xx, timeouts, 429) the
// event waits and is applied when it recovers, and later events of the link
// wait behind it, which keeps them in order. Failures that retrying cannot fix
// are non-retryable errors from the activity and put the link into
// NeedsAttention instead.
func writeOptions(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		// Activities heartbeat every second while they run (none do for
		// most, which finish sooner), so a worker that dies mid-call is
		// noticed within 5 s and the call retried elsewhere: make drill's
		// longest stalls followed a worker kill -9 by this timeout. The
		// worker sends heartbeats unthrottled (activities.HeartbeatThrottle).
		HeartbeatTimeout: 5 * time.Second,
		// Retries back off by half again each time (1, 1.5, 2.3, 3.4, 5.1,
		// 7.6 s), to every 10 s, not minutes: a link waiting on a recovered
		// system would otherwise sit idle for up to the whole interval.
		// make drill (a quarter of calls failing, a worker killed every
		// 10 s) measured the longest stalls as one event's retries: 34 s
		// with a 30 s ceiling, 11.8 s with a 10 s one and doubling (three
		// 5xx, a kill, then an 8 s step). The system's API budget, not the
		// interval, is what keeps many waiting links from crowding it.
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 1.5,
			MaximumInterval:    10 * time.Second,
		},
		Summary: summary,
	}
}
