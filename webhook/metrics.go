package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/internal/platform"
)

// The outcomes of a webhook request, the outcome label of
// o2o_webhook_requests (docs/metrics.md).
const (
	outcomeAccepted            = "accepted"             // 202: Temporal holds the event for at least one link
	outcomeIgnoredType         = "ignored_type"         // 200: an event type O2O does not handle
	outcomeNoLink              = "no_link"              // 200: the event concerns no (running) link
	outcomeLinkClosed          = "link_closed"          // 200: the link for the job has closed
	outcomeBadSignature        = "bad_signature"        // 401: signature, id or timestamp refused
	outcomeBadCredential       = "bad_credential"       // 401: header token or Basic credentials missing or wrong
	outcomeMalformed           = "malformed"            // 400: unreadable body or invalid event
	outcomeTooLarge            = "too_large"            // 413: body over webhook.maxBodyBytes
	outcomeReadTimeout         = "read_timeout"         // 408: the body did not arrive within webhook.readTimeout
	outcomeUnknownSystem       = "unknown_system"       // 404: no such system in the configuration
	outcomePollOnly            = "poll_only"            // 404: the system is configured for polling (events: poll)
	outcomeTemporalUnavailable = "temporal_unavailable" // 503: Temporal did not accept the event
	// outcomeOther is a request the handler gave no outcome: a route-level
	// refusal (405), or a panic (500).
	outcomeOther = "other"
)

// webhookRoute is the route whose requests are measured.
const webhookRoute = "/webhooks/:system"

// outcomeKey is where the handler leaves the outcome for the middleware.
const outcomeKey = "o2o.webhookOutcome"

// unknownSystem is the system label of a request to a system that is not
// configured: the path is the sender's, so its value must not become a label.
const unknownSystem = "unknown"

// setOutcome records what became of a webhook request, for its metrics.
func setOutcome(c echo.Context, outcome string) { c.Set(outcomeKey, outcome) }

// useMetrics serves GET /metrics (no authentication: it holds counts and
// timings only, no secrets and no job data) and measures POST
// /webhooks/{system} into the process's metrics. Without metrics it does
// nothing.
func useMetrics(e *echo.Echo, cfg *config.Config, metrics ...*platform.Metrics) {
	var m *platform.Metrics
	for _, mm := range metrics {
		if mm != nil {
			m = mm
		}
	}
	if m == nil {
		return
	}
	e.Use(webhookMetrics(cfg, m.MetricsHandler()))
	e.GET("/metrics", echo.WrapHandler(m.HTTPHandler()))
}

// webhookMetrics counts each webhook request (o2o_webhook_requests, by
// system, HTTP status and outcome) and times it (o2o_webhook_latency, by
// system and status). Other routes pass through unmeasured.
func webhookMetrics(cfg *config.Config, h client.MetricsHandler) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			if c.Path() != webhookRoute {
				return next(c)
			}
			start := time.Now()
			system := c.Param("system")
			if cfg.System(system) == nil {
				system = unknownSystem
			}
			defer func() {
				p := recover()
				status := c.Response().Status
				if p != nil {
					// The recovering middleware further out answers 500.
					status = http.StatusInternalServerError
				}
				outcome, _ := c.Get(outcomeKey).(string)
				if outcome == "" {
					outcome = outcomeOther
				}
				code := strconv.Itoa(status)
				sh := h.WithTags(map[string]string{"system": system, "status": code})
				sh.WithTags(map[string]string{"outcome": outcome}).Counter("o2o_webhook_requests").Inc(1)
				sh.Timer("o2o_webhook_latency").Record(time.Since(start))
				if p != nil {
					panic(p)
				}
			}()
			if err = next(c); err != nil {
				// Answer now, so that the status measured is the one sent.
				c.Error(err)
			}
			return nil
		}
	}
}
