package simulator

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	require.Equal(t, 3*time.Second, parseRetryAfter("3", now))
	require.Equal(t, 90*time.Second, parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	require.Zero(t, parseRetryAfter("", now))
	require.Zero(t, parseRetryAfter("-1", now))
	require.Zero(t, parseRetryAfter("soon", now))
	require.Zero(t, parseRetryAfter(now.Add(-time.Hour).Format(http.TimeFormat), now), "a date in the past")
}

func TestRetryDelayRepeatsLastEntry(t *testing.T) {
	s := &Simulator{schedule: DefaultRetrySchedule}
	require.Equal(t, 100*time.Millisecond, s.retryDelay(1))
	require.Equal(t, 500*time.Millisecond, s.retryDelay(2))
	require.Equal(t, 30*time.Second, s.retryDelay(7))
	require.Equal(t, 30*time.Second, s.retryDelay(49))
}
