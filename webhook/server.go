package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// deliverTimeout bounds the wait for Temporal to accept an event. Senders
// give up on a request after 10-30 s; answering 503 first lets them retry.
const deliverTimeout = config.WebhookDeliverTimeout

// retryAfterSeconds is sent with 503 so the sender redelivers soon.
const retryAfterSeconds = "5"

type server struct {
	cfg      *config.Config
	temporal client.Client
	log      *zap.Logger
	now      func() time.Time
}

// newServer returns the HTTP handler: the webhook routes, the link-state API
// and health checks.
func newServer(cfg *config.Config, tc client.Client, log *zap.Logger, metrics ...*platform.Metrics) *echo.Echo {
	s := &server{cfg: cfg, temporal: tc, log: log, now: time.Now}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(middleware.Recover())
	useMetrics(e, cfg, metrics...)

	e.POST("/webhooks/:system", s.webhook)
	e.GET("/links/:link/:primaryJobRef", s.linkState, s.requireToken)
	e.POST("/links/:link/:primaryJobRef/:action", s.operate, s.requireToken)
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.ready)
	e.GET("/", index)
	return e
}

// endpoints is what GET / answers: someone who opens the server's address
// in a browser or with curl learns what it serves instead of "not found".
var endpoints = struct {
	Service   string   `json:"service"`
	Endpoints []string `json:"endpoints"`
	Docs      string   `json:"docs"`
}{
	Service: "O2O webhook server",
	Endpoints: []string{
		"POST /webhooks/{system}: the systems' Integration Events (docs/events.md)",
		"GET /links/{link}/{primaryJobRef}: a link's state (bearer token)",
		"POST /links/{link}/{primaryJobRef}/{action}: an operator action: " + strings.Join(lifecycle.Actions, ", ") + " (bearer token)",
		"POST /codec/{encode,decode}: the codec server for the Temporal Web UI and CLI (bearer token)",
		"GET /metrics: Prometheus metrics",
		"GET /healthz, GET /readyz: health checks",
	},
	Docs: "docs/operations.md and docs/events.md in O2O's repository",
}

func index(c echo.Context) error { return c.JSON(http.StatusOK, endpoints) }

type reply struct {
	Status string   `json:"status"`
	Reason string   `json:"reason,omitempty"`
	Links  []string `json:"links,omitempty"`
}

func errorReply(c echo.Context, code int, msg string) error {
	return c.JSON(code, map[string]string{"error": msg})
}

// webhook receives one Integration Event. It answers 202 only once Temporal
// has durably accepted the event for every link it concerns; anything short
// of that is a 5xx so that the sender redelivers.
func (s *server) webhook(c echo.Context) error {
	name := c.Param("system")
	sys, refused := s.webhookSystem(name)
	if refused != nil {
		return refused.reply(c)
	}
	r := c.Request()
	body, refused := readBody(c, s.cfg.Webhook.MaxBodyBytes)
	if refused != nil {
		return refused.reply(c)
	}
	id, authErr := authenticate(sys, r, body, s.now())
	log := s.log.With(zap.String("system", name), zap.String("eventId", sanitize(id)))
	if authErr != nil {
		log.Warn("Webhook rejected", zap.String("auth", sys.WebhookAuth.Mode), zap.Error(authErr))
		setOutcome(c, authErr.outcome)
		if authErr.challenge != "" {
			c.Response().Header().Set("WWW-Authenticate", authErr.challenge)
		}
		return errorReply(c, http.StatusUnauthorized, authErr.Error())
	}

	var ev events.Event
	var err error
	if sys.Nudges() {
		// trust: nudge: nothing but the job reference is taken from the
		// payload, whatever its type; the link reads the job itself.
		var sent events.Type
		ev, sent, err = events.DecodeNudge(body, id, name, s.now())
		log = log.With(zap.String("sentType", sanitize(string(sent))))
	} else {
		ev, err = events.Decode(body, id, name)
	}
	if errors.Is(err, events.ErrUnhandledType) {
		log.Info("Webhook ignored: event type not handled", zap.String("eventType", sanitize(string(ev.Type))))
		setOutcome(c, outcomeIgnoredType)
		return c.JSON(http.StatusOK, reply{Status: "ignored", Reason: "event type " + string(ev.Type) + " is not handled by O2O"})
	}
	if err != nil {
		log.Warn("Webhook rejected: malformed", zap.Error(err))
		setOutcome(c, outcomeMalformed)
		return errorReply(c, http.StatusBadRequest, err.Error())
	}
	return s.deliver(c, log.With(zap.String("eventType", string(ev.Type)), zap.String("jobRef", ev.JobRef)), ev)
}

// refusal is an error answer that ends a webhook request before its event
// is read, with the outcome it is counted under.
type refusal struct {
	outcome string
	code    int
	msg     string
}

func (f *refusal) reply(c echo.Context) error {
	setOutcome(c, f.outcome)
	return errorReply(c, f.code, f.msg)
}

// webhookSystem is the named system, if it receives webhooks.
func (s *server) webhookSystem(name string) (*config.System, *refusal) {
	sys := s.cfg.System(name)
	if sys == nil {
		return nil, &refusal{outcomeUnknownSystem, http.StatusNotFound, "unknown system"}
	}
	if !sys.ReceivesWebhooks() {
		// Answered like an unknown system, before anything is read: the
		// system has no endpoint, and no credentials to check one with.
		return nil, &refusal{outcomePollOnly, http.StatusNotFound, "system " + name + " is configured for polling (events: poll): it has no webhook endpoint"}
	}
	return sys, nil
}

// readBody reads the request's body, at most limit bytes of it.
func readBody(c echo.Context, limit int64) ([]byte, *refusal) {
	r := c.Request()
	if r.ContentLength > limit {
		// Declared too large: refused before a byte of it is read.
		return nil, &refusal{outcomeTooLarge, http.StatusRequestEntityTooLarge, "body is larger than the allowed size"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &refusal{outcomeTooLarge, http.StatusRequestEntityTooLarge, "body is larger than the allowed size"}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// webhook.readTimeout: the body came too slowly.
			return nil, &refusal{outcomeReadTimeout, http.StatusRequestTimeout, "the body did not arrive within the read timeout"}
		}
		return nil, &refusal{outcomeMalformed, http.StatusBadRequest, "could not read the body"}
	}
	return body, nil
}

// deliver hands a valid event to every link it concerns, and answers
// accepted if at least one running link took it.
func (s *server) deliver(c echo.Context, log *zap.Logger, ev events.Event) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), deliverTimeout)
	defer cancel()
	targets, err := ownLinks(ctx, s.temporal, ev, route(s.cfg, ev))
	if err != nil {
		log.Error("Temporal could not say which link the event is for; asking the sender to retry", zap.Error(err))
		return temporalUnavailable(c)
	}
	if len(targets) == 0 {
		log.Info("Webhook ignored: concerns no link")
		setOutcome(c, outcomeNoLink)
		return c.JSON(http.StatusOK, reply{Status: "ignored", Reason: "the event concerns no link"})
	}
	var accepted, closed []string
	for _, t := range targets {
		ev.Side = t.side
		err := workflows.Deliver(ctx, s.temporal, t.link, t.primaryJobRef, ev, t.start)
		switch {
		case err == nil:
			accepted = append(accepted, t.link.Name)
		case errors.Is(err, workflows.ErrNoLink):
		case errors.Is(err, workflows.ErrLinkClosed):
			closed = append(closed, t.link.Name)
		default:
			log.Error("Temporal did not accept the event; asking the sender to retry", zap.String("link", t.link.Name), zap.Error(err))
			return temporalUnavailable(c)
		}
	}
	switch {
	case len(accepted) > 0:
		log.Info("Webhook accepted", zap.Strings("links", accepted))
		setOutcome(c, outcomeAccepted)
		return c.JSON(http.StatusAccepted, reply{Status: "accepted", Links: accepted})
	case len(closed) > 0:
		log.Info("Webhook for a closed link; not reviving it", zap.Strings("links", closed))
		setOutcome(c, outcomeLinkClosed)
		return c.JSON(http.StatusOK, reply{Status: "ignored", Reason: "the link for this job has closed", Links: closed})
	default:
		log.Info("Webhook ignored: no running link for this job")
		setOutcome(c, outcomeNoLink)
		return c.JSON(http.StatusOK, reply{Status: "ignored", Reason: "no running link for this job"})
	}
}

// temporalUnavailable answers 503 with Retry-After: nothing was
// acknowledged, and the sender redelivers soon.
func temporalUnavailable(c echo.Context) error {
	c.Response().Header().Set("Retry-After", retryAfterSeconds)
	setOutcome(c, outcomeTemporalUnavailable)
	return errorReply(c, http.StatusServiceUnavailable, "O2O cannot store events right now; retry later")
}

// target is one link an event must reach.
type target struct {
	link          *config.Link
	side          events.Side
	primaryJobRef string
	start         bool
}

// route finds the links an event concerns. An assignment to a link's team in
// its primary starts the link; every other event only reaches a link that
// already runs. Secondary events find their candidate links through the
// job's client ref, which O2O set to the primary job ref when it created the
// job (ownLinks picks among several). A nudge is never an assignment: it
// only reaches running links, by whichever ref it names.
func route(cfg *config.Config, ev events.Event) []target {
	var out []target
	for _, l := range cfg.Links {
		switch ev.System {
		case l.Primary.System:
			if ev.JobRef == "" { // a nudge naming only a client ref
				continue
			}
			if ev.Type == events.ActivityAssigned {
				if ev.Assignment.TeamID != l.Primary.Team.ID {
					continue
				}
				out = append(out, target{link: l, side: events.Primary, primaryJobRef: ev.JobRef, start: true})
				continue
			}
			out = append(out, target{link: l, side: events.Primary, primaryJobRef: ev.JobRef})
		case l.Secondary.System:
			// A Client Job Ref that is not a job ref (the client's own
			// free text) names no link.
			primaryJobRef, err := events.CanonicalJobRef(ev.JobClientRef)
			if err != nil || ev.Type == events.ActivityAssigned {
				continue
			}
			out = append(out, target{link: l, side: events.Secondary, primaryJobRef: primaryJobRef})
		}
	}
	return out
}

// ownLinks narrows a secondary event's candidate links (route) to the one
// whose linked job it concerns. A secondary serving several primaries can
// hold jobs with the same client ref for two of them, so when more than one
// link is a candidate, each one's recorded secondary job ref is read
// (workflows.LinkedSecondaryJobRef: one Describe per candidate) and the
// event goes to the links that recorded its job ref or, when none did, to
// those still creating their linked job: they queue it, and skip it once
// their job exists if it is not theirs. A candidate without a workflow is
// no target. One candidate, or a nudge naming no job ref, costs no call.
func ownLinks(ctx context.Context, tc client.Client, ev events.Event, targets []target) ([]target, error) {
	candidates := 0
	for _, t := range targets {
		if t.side == events.Secondary {
			candidates++
		}
	}
	if candidates < 2 || ev.JobRef == "" {
		return targets, nil
	}
	var out, own, creating []target
	for _, t := range targets {
		if t.side != events.Secondary {
			out = append(out, t)
			continue
		}
		ref, running, err := workflows.LinkedSecondaryJobRef(ctx, tc, t.link.Name, t.primaryJobRef)
		switch {
		case err != nil:
			return nil, err
		case ref != "" && strings.EqualFold(ref, ev.JobRef):
			own = append(own, t)
		case ref == "" && running:
			creating = append(creating, t)
		}
	}
	if len(own) == 0 {
		own = creating
	}
	return append(out, own...), nil
}

// linkState answers GET /links/{link}/{primaryJobRef} with the workflow's
// linkState query result.
func (s *server) linkState(c echo.Context) error {
	link := c.Param("link")
	if s.cfg.Link(link) == nil {
		return errorReply(c, http.StatusNotFound, "unknown link")
	}
	ref, err := jobRefParam(c)
	if err != nil {
		return errorReply(c, http.StatusBadRequest, "primaryJobRef: "+err.Error())
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 10*time.Second)
	defer cancel()
	st, err := workflows.QueryState(ctx, s.temporal, link, ref)
	if errors.Is(err, workflows.ErrNoLink) {
		return errorReply(c, http.StatusNotFound, "no link for this job")
	}
	if err != nil {
		s.log.Warn("Link state query failed", zap.String("link", link), zap.String("primaryJobRef", sanitize(ref)), zap.Error(err))
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
		return errorReply(c, http.StatusServiceUnavailable, "the link state is not available right now (is a worker running?)")
	}
	return c.JSON(http.StatusOK, st)
}

// jobRefParam reads the {primaryJobRef} of a /links route in its canonical
// form (events.CanonicalJobRef): "ac000005" and "%20AC000005" name
// AC000005's link, and a text that is not a job ref is a *events.JobRefError
// (answered 400, not quoted back). A '/' in a ref arrives as %2F.
func jobRefParam(c echo.Context) (string, error) {
	p := c.Param("primaryJobRef")
	if v, err := url.PathUnescape(p); err == nil {
		p = v
	}
	return events.CanonicalJobRef(p)
}

// requireToken guards operator endpoints with the configured bearer token.
func (s *server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		want := s.cfg.Webhook.APIToken
		if want == "" {
			return next(c)
		}
		got, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="o2o"`)
			return errorReply(c, http.StatusUnauthorized, "a valid bearer token is required")
		}
		return next(c)
	}
}

func (s *server) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return errorReply(c, http.StatusServiceUnavailable, "Temporal is not reachable")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// errorHandler answers echo's own errors (unknown route, wrong method) in the
// same JSON shape as ours.
func (s *server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		msg = strings.ToLower(http.StatusText(code))
	} else {
		s.log.Error("Request failed", zap.Error(err))
	}
	_ = errorReply(c, code, msg)
}

// sanitize bounds a caller-supplied value before it goes into a log line.
func sanitize(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
