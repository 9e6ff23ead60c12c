package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/converter"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/codec"
)

// This file is the codec server: Temporal's codec-server protocol (POST
// {endpoint}/encode and {endpoint}/decode, a JSON {"payloads": [...]} in,
// the same out) over O2O's payload codec, so that the Web UI and the CLI
// show operators the payloads Temporal stores encrypted. It decrypts
// personal data, so it is guarded like the operator API: the bearer token,
// and CORS only for the configured Web UI origins (docs/operations.md).

// codecPath is the codec endpoint: --codec-endpoint http://host:8080/codec.
const codecPath = "/codec"

// maxCodecBody bounds one encode or decode request: the UI sends the
// payloads of a history page, each at most Temporal's 2 MB blob limit.
const maxCodecBody = 8 << 20

// envUIWithoutToken, set to 1, lets the configured Web UI origins decode
// without the bearer token, from the loopback interface only: the dev
// server's UI has no login and cannot send one. make run sets it.
const envUIWithoutToken = "O2O_DEV_UI_CODEC_WITHOUT_TOKEN"

// codecServer serves the codec endpoint.
type codecServer struct {
	handler http.Handler
	token   string
	origins []string
	// uiWithoutToken: see envUIWithoutToken.
	uiWithoutToken bool
	log            *zap.Logger
}

// serveCodec adds the codec endpoint to e.
func serveCodec(e *echo.Echo, pc *codec.Codec, token string, origins []string, uiWithoutToken bool, log *zap.Logger) {
	cs := &codecServer{
		handler: converter.NewPayloadCodecHTTPHandler(pc),
		token:   token, origins: origins, uiWithoutToken: uiWithoutToken, log: log,
	}
	for _, op := range []string{"/encode", "/decode"} {
		e.OPTIONS(codecPath+op, cs.preflight)
		e.POST(codecPath+op, cs.serve)
	}
}

// allowed reports whether origin is a configured Web UI origin.
func (cs *codecServer) allowed(origin string) bool {
	return origin != "" && slices.Contains(cs.origins, origin)
}

// preflight answers the browser's CORS preflight. It carries no
// credentials, so it needs none; a foreign origin gets no grant.
func (cs *codecServer) preflight(c echo.Context) error {
	h := c.Response().Header()
	h.Add("Vary", "Origin")
	origin := c.Request().Header.Get("Origin")
	if !cs.allowed(origin) {
		return c.NoContent(http.StatusForbidden)
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", http.MethodPost)
	// What the Web UI sends: its token (when configured to pass it), the
	// namespace, JSON.
	h.Set("Access-Control-Allow-Headers", "Authorization, Authorization-Extras, Content-Type, X-Namespace")
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Max-Age", "600")
	return c.NoContent(http.StatusNoContent)
}

func (cs *codecServer) serve(c echo.Context) error {
	r := c.Request()
	h := c.Response().Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	switch {
	case origin == "":
		// Not a browser: the CLI, curl.
	case cs.allowed(origin):
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	default:
		// A page of another site: refused before anything is decoded,
		// whatever it sends.
		cs.log.Warn("Codec request refused: origin not allowed", zap.String("origin", sanitize(origin)))
		return errorReply(c, http.StatusForbidden, "origin not allowed")
	}
	if !cs.authorized(r, origin) {
		h.Set("WWW-Authenticate", `Bearer realm="o2o"`)
		return errorReply(c, http.StatusUnauthorized, "a valid bearer token is required")
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxCodecBody)
	cs.handler.ServeHTTP(c.Response(), r)
	return nil
}

// authorized: the operator token, or in development (envUIWithoutToken) a
// configured UI origin calling over the loopback interface.
func (cs *codecServer) authorized(r *http.Request, origin string) bool {
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && cs.token != "" {
		g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(cs.token))
		if subtle.ConstantTimeCompare(g[:], w[:]) == 1 {
			return true
		}
	}
	return cs.uiWithoutToken && cs.allowed(origin) && isLoopback(r.RemoteAddr)
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackListenAddr reports whether a listen address accepts loopback
// connections only (envUIWithoutToken requires it).
func loopbackListenAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
