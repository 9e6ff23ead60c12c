package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// operate carries out an operator action on a link:
// POST /links/{link}/{primaryJobRef}/{action} (lifecycle.Actions) with
// {"by": "...", "reason": "..."} (release and drop add "documentId"). The
// link validates the action; a refusal is a 409 with the reason.
func (s *server) operate(c echo.Context) error {
	link, action := c.Param("link"), c.Param("action")
	if s.cfg.Link(link) == nil {
		return errorReply(c, http.StatusNotFound, "unknown link")
	}
	if !slices.Contains(lifecycle.Actions, action) {
		return errorReply(c, http.StatusNotFound, "unknown action; one of "+strings.Join(lifecycle.Actions, ", "))
	}
	ref, err := jobRefParam(c)
	if err != nil {
		return errorReply(c, http.StatusBadRequest, "primaryJobRef: "+err.Error())
	}
	var req lifecycle.OperatorRequest
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 16<<10))
	if err != nil {
		return errorReply(c, http.StatusRequestEntityTooLarge, "body is larger than the allowed size")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 15*time.Second)
	defer cancel()
	// An unknown job is a 404 whatever the body; then the body is judged.
	if _, running, err := workflows.LinkedSecondaryJobRef(ctx, s.temporal, link, ref); err == nil && !running {
		return errorReply(c, http.StatusNotFound, "no running link for this job")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorReply(c, http.StatusBadRequest, `body must be {"by": "...", "reason": "..."} (and "documentId" for release and drop)`)
	}
	if strings.TrimSpace(req.By) == "" {
		return errorReply(c, http.StatusBadRequest, `say who is asking: {"by": "..."}`)
	}
	req.Action = ""
	answer, err := workflows.Operate(ctx, s.temporal, link, ref, action, req)
	var refused *workflows.RefusedError
	switch {
	case err == nil:
		s.log.Info("Operator action", zap.String("link", link), zap.String("primaryJobRef", ref), zap.String("action", action), zap.String("by", sanitize(req.By)))
		return c.JSON(http.StatusOK, map[string]string{"result": answer})
	case errors.Is(err, workflows.ErrNoLink):
		return errorReply(c, http.StatusNotFound, "no running link for this job")
	case errors.As(err, &refused):
		return errorReply(c, http.StatusConflict, refused.Reason)
	}
	s.log.Warn("Operator action failed", zap.String("link", link), zap.String("action", action), zap.Error(err))
	c.Response().Header().Set("Retry-After", retryAfterSeconds)
	return errorReply(c, http.StatusServiceUnavailable, "the link did not answer (is a worker running?)")
}
