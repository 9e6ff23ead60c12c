package main

import (
	"net"
	"net/http"
	"sync"

	"github.com/o2o-sync/o2o/config"
)

// The edge: what the webhook server allows a connection before it is cut
// (docs/operations.md, "The edge"). Every limit is in webhook.* of the
// configuration.

// maxHeaderBytes caps a request's headers (Go's default is 1 MiB).
const maxHeaderBytes = 32 << 10

// newHTTPServer is the server with the configured timeouts: headers must
// arrive within readHeaderTimeout and the whole request within readTimeout,
// so a connection that sends nothing, or trickles its headers or body, is
// cut; writeTimeout bounds the whole exchange; idleTimeout closes a
// kept-alive connection that sends no next request.
func newHTTPServer(h http.Handler, w config.Webhook) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: w.ReadHeaderTimeout.D(),
		ReadTimeout:       w.ReadTimeout.D(),
		WriteTimeout:      w.WriteTimeout.D(),
		IdleTimeout:       w.IdleTimeout.D(),
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// limitListener accepts at most n connections open at once: Accept waits
// for one to close, and the connections beyond wait in the kernel's listen
// backlog. With the body limit it bounds the memory requests can take.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close stops Accept, also while it waits for a slot.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// open is the number of connections open now.
func (l *limitListener) open() int { return len(l.slots) }

// limitedConn gives its slot back once, on its first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
