package platform

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// countingKey counts how often a log key is turned into text.
type countingKey struct{ n *int }

func (k countingKey) String() string { *k.n++; return "key" }

func TestTemporalLoggerSkipsDisabledLevelsBeforeBuildingFields(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	l := NewTemporalLogger(zap.New(core, zap.AddCaller()))
	n := 0
	l.Debug("dropped", countingKey{&n}, 1)
	assert.Zero(t, n, "a debug line below the level must not build its fields")
	assert.Zero(t, logs.Len())

	l.Info("kept", countingKey{&n}, 2, "dangling")
	assert.Equal(t, 1, n)
	require.Equal(t, 1, logs.Len())
	e := logs.All()[0]
	assert.Equal(t, map[string]any{"key": int64(2), "_extra": "dangling"}, e.ContextMap())
	assert.Equal(t, "temporallog_test.go", filepath.Base(e.Caller.File), "the caller is the SDK's call site, not the adapter")

	log.With(l, "workflow", "w1").Warn("warned")
	require.Equal(t, 2, logs.Len())
	assert.Equal(t, "temporallog_test.go", filepath.Base(logs.All()[1].Caller.File))
	assert.Equal(t, "w1", logs.All()[1].ContextMap()["workflow"])
}
