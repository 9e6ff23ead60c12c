package main

import (
	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/sdk/worker"
)

// Worker tuning, from the environment (docs/operations.md#worker-tuning).
// Unset variables keep the Temporal SDK's defaults, which make bench's
// throughput runs have not shown a reason to change on a 2-core machine,
// except the sticky cache (DefaultStickyCache).
const (
	// envPollers: "auto" (the SDK's autoscaling pollers) or the number of
	// pollers for each of workflow and activity tasks.
	envPollers = "O2O_WORKER_POLLERS"
	// envWorkflowSlots, envActivitySlots, envLocalActivitySlots: how many
	// tasks of each kind run at once.
	envWorkflowSlots      = "O2O_WORKER_WORKFLOW_SLOTS"
	envActivitySlots      = "O2O_WORKER_ACTIVITY_SLOTS"
	envLocalActivitySlots = "O2O_WORKER_LOCAL_ACTIVITY_SLOTS"
	// envStickyCache: how many workflows the worker keeps in memory (a link
	// evicted from it replays its history on its next event).
	envStickyCache = "O2O_WORKER_STICKY_CACHE"
	// envEagerActivities: "true" lets a workflow task start its activities
	// on this worker at once (the server must allow it); "false" disables it.
	envEagerActivities = "O2O_WORKER_EAGER_ACTIVITIES"
)

// DefaultStickyCache is how many links the worker keeps in memory unless
// O2O_WORKER_STICKY_CACHE says otherwise. The SDK's 10,000 costs about
// 66 KiB of RSS per open link at 10,000 open links; 2,000 costs 15 KiB
// (make bench, 2026-11-30), with the same throughput while a link's events
// find it cached. A link evicted from the cache replays its short history
// (continue-as-new every 200 events) on its next event.
const DefaultStickyCache = 2000

// tuning applies the environment's tuning to opts and returns the sticky
// cache size to set. Every problem is reported, each naming its variable.
func tuning(getenv func(string) string, opts *worker.Options) (stickyCache int, err error) {
	var problems []string
	number := func(name string, max int) int {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > max {
			problems = append(problems, fmt.Sprintf("%s=%q: want a whole number from 1 to %d", name, v, max))
			return 0
		}
		return n
	}
	switch v := strings.TrimSpace(getenv(envPollers)); strings.ToLower(v) {
	case "":
	case "auto":
		opts.WorkflowTaskPollerBehavior = worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})
		opts.ActivityTaskPollerBehavior = worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})
	default:
		if n := number(envPollers, 100); n > 0 {
			opts.MaxConcurrentWorkflowTaskPollers, opts.MaxConcurrentActivityTaskPollers = n, n
		} else if len(problems) > 0 {
			problems[len(problems)-1] = fmt.Sprintf("%s=%q: want \"auto\" or a whole number from 1 to 100", envPollers, v)
		}
	}
	opts.MaxConcurrentWorkflowTaskExecutionSize = number(envWorkflowSlots, 10000)
	opts.MaxConcurrentActivityExecutionSize = number(envActivitySlots, 10000)
	opts.MaxConcurrentLocalActivityExecutionSize = number(envLocalActivitySlots, 10000)
	stickyCache = number(envStickyCache, 1_000_000)
	if stickyCache == 0 {
		stickyCache = DefaultStickyCache
	}
	switch v := strings.TrimSpace(getenv(envEagerActivities)); strings.ToLower(v) {
	case "", "true":
	case "false":
		opts.DisableEagerActivities = true
	default:
		problems = append(problems, fmt.Sprintf("%s=%q: want true or false", envEagerActivities, v))
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("worker tuning: %s", strings.Join(problems, "; "))
	}
	return stickyCache, nil
}
