package main

import (
	"net"
	"net/http"

	"golang.org/x/net/netutil"

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

// limitConnections accepts at most n connections open at once; those beyond
// wait in the kernel's listen backlog until one closes. With the body limit
// it bounds the memory requests can take.
func limitConnections(l net.Listener, n int) net.Listener { return netutil.LimitListener(l, n) }
