package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/config"
)

// edgeServer serves the fixture's handler with the edge's limits, made
// short: headers within 1 s, the whole request within 2 s.
func edgeServer(t *testing.T, maxConns int) (addr string) {
	t.Helper()
	f := newFixture(t)
	w := testConfig(t).Webhook
	w.ReadHeaderTimeout, w.ReadTimeout = config.Duration(time.Second), config.Duration(2*time.Second)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := limitConnections(raw, maxConns)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, l, newHTTPServer(f.srv, w), zap.NewNop()) }()
	t.Cleanup(func() { stop(); <-done })
	return raw.Addr().String()
}

// TestASlowBodyIsCutOffByTheReadTimeout: a body that trickles in is
// answered 408 and its connection closed, long before it would end.
func TestASlowBodyIsCutOffByTheReadTimeout(t *testing.T) {
	addr := edgeServer(t, 16)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "POST /webhooks/acme HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	require.NoError(t, err)
	// One more byte now and then, as a slow sender would (1,000 bytes would
	// take minutes); the server answers and closes instead.
	go func() {
		for range 100 {
			time.Sleep(200 * time.Millisecond)
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	_, _ = io.Copy(io.Discard, resp.Body)
	// And the connection is closed.
	require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Minute)))
	_, err = br.ReadByte()
	var ne net.Error
	require.Error(t, err)
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "closed by the server, not by the test's own deadline: %v", err)
}

// TestSilentConnectionsAreCutOffByTheHeaderTimeout: a connection that sends
// nothing is closed by the server.
func TestSilentConnectionsAreCutOffByTheHeaderTimeout(t *testing.T) {
	addr := edgeServer(t, 16)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Minute)))
	_, err = c.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "closed by the server, not by the test's own deadline")
}

// TestADeclaredOversizedBodyIsRefusedUnread: a Content-Length over
// webhook.maxBodyBytes is answered 413 at once, without reading the body.
func TestADeclaredOversizedBodyIsRefusedUnread(t *testing.T) {
	addr := edgeServer(t, 16)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	// The body is never sent: the answer comes from the headers alone.
	_, err = io.WriteString(c, "POST /webhooks/acme HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

// TestConnectionsAreCapped: beyond webhook.maxConnections, a connection
// waits (in the listen backlog) until one of those open closes.
func TestConnectionsAreCapped(t *testing.T) {
	addr := edgeServer(t, 16)
	get := func(c net.Conn) <-chan int {
		answered := make(chan int, 1)
		_, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				answered <- 0
				return
			}
			resp.Body.Close()
			answered <- resp.StatusCode
		}()
		return answered
	}
	var held []net.Conn
	for range 16 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		held = append(held, c)
		require.Equal(t, http.StatusOK, <-get(c), "the first 16 are served (and stay open)")
	}

	// The 17th connects (the kernel's backlog) but is not served...
	extra, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer extra.Close()
	answered := get(extra)
	select {
	case code := <-answered:
		t.Fatalf("the 17th connection was served (%d) while 16 were open", code)
	case <-time.After(300 * time.Millisecond):
	}
	// ...until one closes.
	held[0].Close()
	require.Equal(t, http.StatusOK, <-answered)
	for _, c := range held[1:] {
		c.Close()
	}
}
