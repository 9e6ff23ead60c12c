package platform

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestAwaitRetriesWhatWaitingCanMendAndSaysWhy(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	calls := 0
	err := await(context.Background(), zap.New(core), "Temporal at 127.0.0.1:7233", func(context.Context) error {
		calls++
		if calls < 3 {
			return fmt.Errorf("register search attributes: %w", serviceerror.NewUnavailable("persistence unavailable"))
		}
		return nil
	}, time.Millisecond, 2*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, 3, calls)
	warns := logs.FilterMessage("Waiting: Temporal at 127.0.0.1:7233").All()
	require.Len(t, warns, 2, "one line per failed attempt")
	assert.Contains(t, warns[0].ContextMap()["error"], "persistence unavailable")
	assert.Equal(t, 1, logs.FilterMessage("Done waiting").Len())
}

func TestAwaitGivesUpOnARefusal(t *testing.T) {
	calls := 0
	refused := serviceerror.NewPermissionDenied("bad API key", "")
	err := await(context.Background(), zap.NewNop(), "Temporal", func(context.Context) error {
		calls++
		return refused
	}, time.Millisecond, time.Millisecond)
	assert.ErrorIs(t, err, refused)
	assert.Equal(t, 1, calls, "a refusal is not retried")
}

func TestAwaitStopsWhenTheProcessStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := await(ctx, zap.NewNop(), "Temporal", func(context.Context) error {
		calls++
		if calls == 2 {
			cancel()
		}
		return errors.New("connection refused")
	}, time.Millisecond, time.Millisecond)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, calls)
}
