package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/events"
)

// TestShutdownFinishesInFlightRequests starts a request whose SignalWithStart
// takes a while, asks the server to stop meanwhile, and checks that the
// request still gets its 202, that new connections are refused, and that
// serve returns only afterwards.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	f := newFixture(t)
	inFlight := make(chan struct{})
	f.tc.On("SignalWithStartWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Run(func(mock.Arguments) { close(inFlight); time.Sleep(500 * time.Millisecond) }).Return(nil, nil).Once()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, l, newHTTPServer(f.srv, testConfig(t).Webhook), zap.NewNop()) }()
	url := "http://" + l.Addr().String()

	status := make(chan int, 1)
	go func() {
		body := assignment("7")
		req, _ := http.NewRequest(http.MethodPost, url+"/webhooks/acme", strings.NewReader(body))
		secret, _ := events.ParseSecret(acmeSecret)
		now := time.Now()
		req.Header.Set(events.HeaderID, "msg_sd")
		req.Header.Set(events.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(events.HeaderSignature, events.Sign(secret, "msg_sd", now, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	<-inFlight
	stop()

	require.Equal(t, http.StatusAccepted, <-status, "the in-flight request is finished, not dropped")
	require.NoError(t, <-served)
	_, err = net.DialTimeout("tcp", l.Addr().String(), time.Second)
	require.Error(t, err, "no new connections after shutdown")
}
