package platform

import (
	"errors"
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
	l := NewTemporalLogger(zap.New(core, zap.AddCaller()), nil)
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

// The activity errors the hook picks are written at WARN with its fields,
// through With too; every other ERROR stays one.
func TestTemporalLoggerWritesExpectedActivityErrorsAsWarnings(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	expected := errors.New("refused")
	l := NewTemporalLogger(zap.New(core, zap.AddCaller()), func(workflowID string, err error) ([]zap.Field, bool) {
		return []zap.Field{zap.String("link", workflowID)}, err == expected
	})
	log.With(l, "Namespace", "default").Error("Activity error.", "WorkflowID", "w1", "ActivityType", "A", "Error", expected)
	l.Error("Activity error.", "WorkflowID", "w2", "Error", errors.New("boom"))
	l.Error("Something else.", "WorkflowID", "w3", "Error", expected)
	all := logs.All()
	require.Len(t, all, 3)
	assert.Equal(t, zapcore.WarnLevel, all[0].Level)
	assert.Equal(t, "w1", all[0].ContextMap()["link"])
	assert.Equal(t, "default", all[0].ContextMap()["Namespace"])
	assert.Equal(t, "temporallog_test.go", filepath.Base(all[0].Caller.File))
	assert.Equal(t, zapcore.ErrorLevel, all[1].Level)
	assert.Equal(t, zapcore.ErrorLevel, all[2].Level)
}
