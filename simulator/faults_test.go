package simulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/simulator"
)

func TestFaultCountAndRetryAfter(t *testing.T) {
	h := startDev(t)
	require.Equal(t, http.StatusCreated, h.sim("POST", "fixit", "/faults",
		`{"op":"createJob","status":503,"count":2,"retryAfter":"1","delay":"0s"}`, nil))

	for range 2 {
		status, header, body := h.do("POST", "/fixit/rest/workflow/job/createJob",
			http.Header{simulator.AuthHeader: {fixitToken}}, jsonBody(t, validCreateJob()))
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "1", header.Get("Retry-After"))
		require.JSONEq(t, `{"result":"error","result_msg":"simulated fault (503)"}`, string(body))
	}
	// Other operations are unaffected, and the fault is used up.
	status, _ := h.rest("fixit", "GET", "/contact/sites/41/SITE-001", nil)
	require.Equal(t, http.StatusOK, status)
	status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, "FX000001", resp["jobRef"], "faulted requests created nothing")

	var faults []simulator.Fault
	h.simOK("GET", "fixit", "/faults", nil, &faults)
	require.Empty(t, faults)
}

func TestFaultUntilClearedAndEnvelopeOn200(t *testing.T) {
	h := startDev(t)
	h.simOK("POST", "acme", "/faults", map[string]any{"op": "*", "status": 500, "count": -1}, nil)
	for range 3 {
		status, _ := h.rest("acme", "GET", "/contact/sites/28/SITE-001", nil)
		require.Equal(t, http.StatusInternalServerError, status)
	}
	var faults []simulator.Fault
	h.simOK("GET", "acme", "/faults", nil, &faults)
	require.Len(t, faults, 1)
	require.Equal(t, -1, faults[0].Count)

	h.simOK("DELETE", "acme", "/faults", nil, nil)
	status, _ := h.rest("acme", "GET", "/contact/sites/28/SITE-001", nil)
	require.Equal(t, http.StatusOK, status)

	// A 2xx fault: the error is only in the envelope.
	h.simOK("POST", "acme", "/faults", map[string]any{"op": "addEventByClientRef", "status": "200", "message": "REST0099 Event rejected"}, nil)
	status, resp := h.rest("acme", "POST", "/workflow/job/addEventByClientRef", map[string]string{})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"result": "error", "result_msg": "REST0099 Event rejected"}, resp)
}

func TestFaultDelayCausesClientTimeout(t *testing.T) {
	h := startDev(t)
	h.simOK("POST", "acme", "/faults", map[string]any{"op": "site", "delay": "300ms"}, nil)

	client := &http.Client{Timeout: 50 * time.Millisecond}
	req, err := http.NewRequest("GET", h.srv.URL+"/acme/rest/contact/sites/28/SITE-001", nil)
	require.NoError(t, err)
	req.Header.Set(simulator.AuthHeader, acmeToken)
	_, err = client.Do(req)
	require.Error(t, err)
	require.True(t, errors.Is(err, context.DeadlineExceeded) || isTimeout(err), "%v", err)

	// The handler gives up when the client does, and the log says so.
	require.Eventually(t, func() bool {
		var log []simulator.RequestLogEntry
		h.simOK("GET", "acme", "/requests", nil, &log)
		return len(log) == 1 && log[0].Status == 499
	}, 2*time.Second, 10*time.Millisecond)

	// A delay-only fault then serves the request normally.
	h.simOK("POST", "acme", "/faults", map[string]any{"op": "site", "delay": "50ms"}, nil)
	began := time.Now()
	status, _ := h.rest("acme", "GET", "/contact/sites/28/SITE-001", nil)
	require.Equal(t, http.StatusOK, status)
	require.GreaterOrEqual(t, time.Since(began), 50*time.Millisecond)
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

func TestFaultValidation(t *testing.T) {
	h := startDev(t)
	for body, want := range map[string]string{
		`{"op":"deleteJob","status":500}`:            `op "deleteJob" must be * or one of`,
		`{"op":"job","status":42}`:                   `status "42" must be an HTTP status code`,
		`{"op":"job"}`:                               "a fault needs a status, a delay, after, or a combination",
		`{"op":"job","status":500,"count":-2}`:       `count "-2"`,
		`{"op":"job","status":500,"retryAfter":"x"}`: `retryAfter "x"`,
		`{"op":"job","delay":"soon"}`:                `delay "soon"`,
	} {
		var resp map[string]string
		require.Equal(t, http.StatusBadRequest, h.sim("POST", "acme", "/faults", body, &resp), body)
		require.Contains(t, resp["error"], want, body)
	}
}

func TestLostResponseFaultAppliesTheChangeButHidesTheAnswer(t *testing.T) {
	h := startDev(t)
	h.simOK(http.MethodPost, "fixit", "/faults", map[string]any{"op": "createJob", "after": true}, nil)
	body := validCreateJob()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/fixit/rest/workflow/job/createJob", bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("OS-REST-AUTH-TOKEN", fixitToken)
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err, "the connection closes without an answer")

	var jobs []simulator.Job
	h.simOK(http.MethodGet, "fixit", "/jobs?clientRef="+body["clientRef"].(string), nil, &jobs)
	require.Len(t, jobs, 1, "but the job was created")
}
