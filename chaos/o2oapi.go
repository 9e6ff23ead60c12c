package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/o2o-sync/o2o/lifecycle"
)

// O2O is the runner's client of the webhook server's operator API
// (docs/operations.md): GET /links/{link}/{ref} for a link's state, which the
// runner's waits poll, and POST /links/{link}/{ref}/{action} for the life's
// operator steps. It does not retry: the waits poll, and an operator step is
// repeated by the runner only when the server says the link did not answer.
type O2O struct {
	BaseURL string // the webhook server, e.g. http://127.0.0.1:8080
	Token   string // webhook.apiTokenEnv's value
	HTTP    *http.Client
}

// ErrNoLink is a 404: no link (or no running link, for an action) for the job.
var ErrNoLink = errors.New("no link for this job")

// StatusError is any other answer than 200 (or 404): Code 409 is the link
// refusing an action (Message says why), 503 the link not answering.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string { return fmt.Sprintf("o2o answered %d: %s", e.Code, e.Message) }

// State reads a link's state.
func (o *O2O) State(ctx context.Context, link, primaryJobRef string) (*lifecycle.LinkState, error) {
	var st lifecycle.LinkState
	if err := o.do(ctx, http.MethodGet, o.path(link, primaryJobRef), nil, &st); err != nil {
		return nil, fmt.Errorf("state of %s %s: %w", link, primaryJobRef, err)
	}
	return &st, nil
}

// Operate carries out an operator action (lifecycle.Actions) on a link;
// release and drop name the held document in req.DocumentID.
func (o *O2O) Operate(ctx context.Context, link, primaryJobRef, action string, req lifecycle.OperatorRequest) (string, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	var answer struct {
		Result string `json:"result"`
	}
	if err := o.do(ctx, http.MethodPost, o.path(link, primaryJobRef)+"/"+url.PathEscape(action), body, &answer); err != nil {
		return "", fmt.Errorf("%s on %s %s: %w", action, link, primaryJobRef, err)
	}
	return answer.Result, nil
}

func (o *O2O) path(link, ref string) string {
	return strings.TrimRight(o.BaseURL, "/") + "/links/" + url.PathEscape(link) + "/" + url.PathEscape(ref)
}

func (o *O2O) do(ctx context.Context, method, u string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+o.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := o.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return json.Unmarshal(b, out)
	case http.StatusNotFound:
		return ErrNoLink
	}
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	return &StatusError{Code: resp.StatusCode, Message: msg}
}
