package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func setDevEnv(t *testing.T) {
	t.Setenv("O2O_ACME_TOKEN", "acme-secret-token")
	t.Setenv("O2O_FIXIT_TOKEN", "fixit-secret-token")
	t.Setenv("SIM_ACME_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	t.Setenv("SIM_FIXIT_WEBHOOK_SECRET", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
}

func TestRunServesAndShutsDown(t *testing.T) {
	setDevEnv(t)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-seed", "../../dev/simulator.yaml", "-addr", "127.0.0.1:0"}, &logs, ready)
	}()

	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run ended early: %v\n%s", err, logs.String())
	case <-time.After(5 * time.Second):
		t.Fatal("not ready")
	}

	resp, err := http.Post("http://"+addr+"/fixit/rest/workflow/job/createJob", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, string(body), `"result":"error"`)

	resp, err = http.Post("http://"+addr+"/acme/sim/jobs", "application/json", strings.NewReader(
		`{"clientId":"28","siteRef":"SITE-001","priority":"Emergency","activities":[{"code":"PLB001"}]}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	out := logs.String()
	require.Contains(t, out, "system=acme")
	require.Contains(t, out, "shutting down")
	for _, secret := range []string{"acme-secret-token", "fixit-secret-token", "whsec_"} {
		require.NotContains(t, out, secret, "logs never hold tokens or secrets")
	}
}

func TestRunRejectsBadSeed(t *testing.T) {
	setDevEnv(t)
	t.Setenv("O2O_FIXIT_TOKEN", "")
	var logs syncBuffer
	err := run(context.Background(), []string{"-seed", "../../dev/simulator.yaml", "-addr", "127.0.0.1:0"}, &logs, nil)
	require.ErrorContains(t, err, "O2O_FIXIT_TOKEN")

	err = run(context.Background(), []string{"-seed", "nope.yaml"}, &logs, nil)
	require.ErrorContains(t, err, "nope.yaml")

	err = run(context.Background(), []string{"-bogus"}, &logs, nil)
	require.Error(t, err)
}
