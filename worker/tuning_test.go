package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestTuningKeepsTheSDKDefaultsWhenUnsetButTheStickyCache(t *testing.T) {
	var opts worker.Options
	cache, err := tuning(envOf(nil), &opts)
	require.NoError(t, err)
	require.Equal(t, DefaultStickyCache, cache, "O2O's measured default, not the SDK's 10,000")
	require.Equal(t, worker.Options{}, opts)
}

func TestTuningFromTheEnvironment(t *testing.T) {
	var opts worker.Options
	cache, err := tuning(envOf(map[string]string{
		envPollers: "8", envWorkflowSlots: "200", envActivitySlots: "400", envLocalActivitySlots: "50",
		envStickyCache: "20000", envEagerActivities: "false",
	}), &opts)
	require.NoError(t, err)
	require.Equal(t, 20000, cache)
	require.Equal(t, 8, opts.MaxConcurrentWorkflowTaskPollers)
	require.Equal(t, 8, opts.MaxConcurrentActivityTaskPollers)
	require.Equal(t, 200, opts.MaxConcurrentWorkflowTaskExecutionSize)
	require.Equal(t, 400, opts.MaxConcurrentActivityExecutionSize)
	require.Equal(t, 50, opts.MaxConcurrentLocalActivityExecutionSize)
	require.True(t, opts.DisableEagerActivities)

	opts = worker.Options{}
	_, err = tuning(envOf(map[string]string{envPollers: "auto"}), &opts)
	require.NoError(t, err)
	require.NotNil(t, opts.WorkflowTaskPollerBehavior)
	require.NotNil(t, opts.ActivityTaskPollerBehavior)
	require.Zero(t, opts.MaxConcurrentWorkflowTaskPollers)
}

func TestTuningNamesEveryBadVariable(t *testing.T) {
	var opts worker.Options
	_, err := tuning(envOf(map[string]string{envPollers: "many", envActivitySlots: "0", envEagerActivities: "maybe"}), &opts)
	require.ErrorContains(t, err, `O2O_WORKER_POLLERS="many": want "auto" or a whole number from 1 to 100`)
	require.ErrorContains(t, err, `O2O_WORKER_ACTIVITY_SLOTS="0": want a whole number from 1 to 10000`)
	require.ErrorContains(t, err, `O2O_WORKER_EAGER_ACTIVITIES="maybe": want true or false`)
}
