package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/internal/platform"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return rec.Code, string(b)
}

func TestEndpointHealthReadinessAndMetrics(t *testing.T) {
	m, err := platform.NewMetrics("worker")
	require.NoError(t, err)
	defer m.Close()
	st := &status{}
	h := newEndpoint(m, st)

	code, _ := get(t, h, "/healthz")
	require.Equal(t, http.StatusOK, code, "up before the worker starts")
	code, _ = get(t, h, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code, "not ready before the worker starts")

	tc := mocks.NewClient(t)
	tc.On("CheckHealth", mock.Anything, mock.Anything).Return(&client.CheckHealthResponse{}, nil).Once()
	tc.On("CheckHealth", mock.Anything, mock.Anything).Return(nil, errors.New("connection refused")).Once()
	st.started(tc)
	code, _ = get(t, h, "/readyz")
	require.Equal(t, http.StatusOK, code)
	code, body := get(t, h, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code, "Temporal unreachable")
	require.NotContains(t, body, "connection refused")

	st.stopping()
	code, _ = get(t, h, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code, "not ready while stopping")

	code, body = get(t, h, "/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "go_goroutines")
}

func TestEndpointListensAndShutsDown(t *testing.T) {
	srv, errc, err := serveEndpoint("127.0.0.1:0", http.NotFoundHandler(), zap.NewNop())
	require.NoError(t, err)
	require.NotNil(t, srv)
	shutdownEndpoint(srv, zap.NewNop())
	require.Empty(t, errc)

	srv, _, err = serveEndpoint("off", nil, zap.NewNop())
	require.NoError(t, err)
	require.Nil(t, srv)

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	_, _, err = serveEndpoint(taken.Addr().String(), http.NotFoundHandler(), zap.NewNop())
	require.ErrorContains(t, err, "O2O_METRICS_ADDR", "a taken port fails the start, saying what to change")
}
