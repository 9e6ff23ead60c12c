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

	"github.com/o2o-sync/o2o/simulator"
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
	t.Setenv("O2O_CONFIG", "") // no links to O2O from the console
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

// Given O2O's configuration, the console knows the links, builds workflow
// ids as O2O does, and reads link states from the webhook server with the
// operator token.
func TestConsoleOptionsFromO2OConfig(t *testing.T) {
	t.Setenv("O2O_API_TOKEN", "op-token")
	t.Setenv("O2O_WEBHOOK_ADDR", "")
	c, err := consoleOptions("../../o2o.example.yaml", "http://localhost:8233", "default", "")
	require.NoError(t, err)
	require.Equal(t, []simulator.ConsoleLink{{Name: "acme-fixit", Primary: "acme", PrimaryClientID: "28", TeamID: "7",
		Secondary: "fixit", SecondaryClientID: "41"}}, c.Links)
	require.Equal(t, "LinkedJob:acme-fixit:AC000001", c.WorkflowID("acme-fixit", "AC000001"))
	require.Equal(t, "http://127.0.0.1:8080", c.OperatorAPI, "webhook.addr :8080, on the loopback")
	require.Equal(t, "op-token", c.OperatorToken)

	t.Setenv("O2O_WEBHOOK_ADDR", "127.0.0.1:18080")
	c, err = consoleOptions("../../o2o.example.yaml", "http://localhost:8233", "default", "")
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:18080", c.OperatorAPI)

	c, err = consoleOptions("", "http://localhost:8233", "default", "")
	require.NoError(t, err)
	require.Nil(t, c.WorkflowID, "without a configuration the console shows no links to O2O")

	_, err = consoleOptions("nope.yaml", "", "", "")
	require.ErrorContains(t, err, "nope.yaml")
}
