package config_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/oneserve"
)

// withAcmeLimits puts a limits block (YAML flow mapping) under systems.acme.
func withAcmeLimits(t *testing.T, limits string) []byte {
	t.Helper()
	const at = "    apiUser: o2o-api\n  fixit:"
	require.Equal(t, 1, strings.Count(baseYAML, at))
	return []byte(strings.Replace(baseYAML, at, "    apiUser: o2o-api\n    limits: "+limits+"\n  fixit:", 1))
}

func TestLimitsDefaultsAndOverrides(t *testing.T) {
	cfg, err := config.Parse([]byte(baseYAML), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	assert.Equal(t, oneserve.Limits{RequestsPerSecond: 10, Concurrency: 4}, cfg.System("acme").Limits, "defaults")
	assert.Equal(t, oneserve.DefaultLimits, cfg.System("fixit").Limits)

	cfg, err = config.Parse(withAcmeLimits(t, "{requestsPerSecond: 2.5, concurrency: 1}"), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	assert.Equal(t, oneserve.Limits{RequestsPerSecond: 2.5, Concurrency: 1}, cfg.System("acme").Limits)
	assert.Equal(t, oneserve.DefaultLimits, cfg.System("fixit").Limits, "each system has its own")

	// One key set, the other defaulted; 0 means the default.
	cfg, err = config.Parse(withAcmeLimits(t, "{requestsPerSecond: 0, concurrency: 8}"), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	assert.Equal(t, oneserve.Limits{RequestsPerSecond: 10, Concurrency: 8}, cfg.System("acme").Limits)

	// The example sets them explicitly, to the defaults.
	cfg, err = config.Load(examplePath, config.Options{Getenv: getenv(exampleEnv())})
	require.NoError(t, err)
	assert.Equal(t, oneserve.DefaultLimits, cfg.System("acme").Limits)
	assert.Equal(t, oneserve.DefaultLimits, cfg.System("fixit").Limits)
}

func TestLimitsInvalid(t *testing.T) {
	for limits, want := range map[string]string{
		"{requestsPerSecond: -1}":   "systems.acme.limits.requestsPerSecond: must be more than 0 and at most 1000",
		"{requestsPerSecond: 5000}": "systems.acme.limits.requestsPerSecond: must be more than 0 and at most 1000",
		"{requestsPerSecond: .nan}": "systems.acme.limits.requestsPerSecond",
		"{concurrency: -3}":         "systems.acme.limits.concurrency: must be a whole number from 1 to 100",
		"{concurrency: 1000}":       "systems.acme.limits.concurrency: must be a whole number from 1 to 100",
		"{requestsPerSecond: lots}": "cannot unmarshal",
		"{requestsPerSecnd: 5}":     "field requestsPerSecnd not found",
		"{rps: 5, concurrency: 0}":  "field rps not found",
	} {
		_, err := config.Parse(withAcmeLimits(t, limits), config.Options{Getenv: getenv(baseEnv())})
		require.Error(t, err, limits)
		assert.Contains(t, err.Error(), want, limits)
	}

	// Both problems at once, each naming its key.
	_, err := config.Parse(withAcmeLimits(t, "{requestsPerSecond: -1, concurrency: -1}"), config.Options{Getenv: getenv(baseEnv())})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 problem(s)")
}
