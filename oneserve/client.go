// Package oneserve is a typed client for the Oneserve legacy REST API
// ({baseURL}/rest/...), the only way O2O talks to a Oneserve system.
//
// docs/oneserve-api.md is the contract: which endpoints O2O calls, the field
// names, the per-endpoint date layouts (UK local time) and how HTTP statuses
// are classified. Every call sends the OS-REST-AUTH-TOKEN header, sends
// numbers as JSON strings, decodes numbers-or-strings tolerantly and checks
// the result/result_msg envelope even on HTTP 200. Every failure is an
// *Error whose Kind tells the caller whether to retry.
//
// The calls in assumed.go use endpoints that Oneserve does not document
// publicly; their paths are Options.Paths, defaulting to DefaultPaths.
package oneserve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/o2o-sync/o2o/internal/lenient"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the tenant's web-app URL without a trailing slash (one is
	// trimmed); calls go to BaseURL + "/rest/...". It may carry a path
	// segment, e.g. https://app.oneserve.co.uk/tenant.
	BaseURL string
	// Token is sent as OS-REST-AUTH-TOKEN on every call. It never appears in
	// an error.
	Token string
	// Timeout bounds one call (default 30s). For document downloads and
	// uploads it bounds only the wait for the response headers (and, while
	// uploading, a stall of the body): a large document may take longer, so
	// its body is bounded by ctx alone.
	Timeout time.Duration
	// Paths are the assumed endpoints; empty fields fall back to
	// DefaultPaths.
	Paths Paths
	// HTTPClient is used when set (a copy of it, with redirects refused).
	// Leave its Timeout at zero: it would cut long document transfers.
	// Default: a client with dial, TLS handshake and idle timeouts.
	HTTPClient *http.Client
	// Location is the zone of every date Oneserve reads or writes (default
	// Europe/London).
	Location *time.Location
	// UserAgent is sent as User-Agent (default "o2o"), so that Oneserve can
	// tell O2O's traffic apart in its logs.
	UserAgent string
	// Observer, when set, is called once per HTTP call the client makes,
	// after it ends: op names the call ("createJob", "job", ...; the same
	// as Error.Op), status is the HTTP status (0 when no answer came:
	// network error, timeout, cancellation), d the time taken and err what
	// the call returned (nil on success). For a document download the call
	// ends when the headers arrive; the body is the caller's to read. Calls
	// refused before sending are not observed. It must be safe for
	// concurrent use and quick: it runs on the caller's goroutine.
	Observer func(op string, status int, d time.Duration, err error)
	// Limits is the API budget every call of this Client goes through
	// (requests per second and concurrency; zero fields: no limit). Share
	// one Client per system so that all its callers share the budget. A
	// 429 answer holds back every call of the Client until its Retry-After,
	// whatever the Limits. See limits.go.
	Limits Limits
}

// Client calls one Oneserve system. It is safe for concurrent use, and all
// its calls share one API budget (Options.Limits), so share one Client per
// system.
type Client struct {
	baseURL   string
	token     string
	timeout   time.Duration
	paths     Paths
	hc        *http.Client
	loc       *time.Location
	userAgent string
	observer  func(op string, status int, d time.Duration, err error)
	budget    *budget
}

const (
	defaultTimeout = 30 * time.Second
	// maxResponse bounds the JSON bodies read into memory: the largest real
	// answer (a site with its jobs) is far smaller, and a misbehaving proxy
	// must not exhaust the worker's memory.
	maxResponse = 8 << 20
)

// errCallTimeout is the cancellation cause when the per-call timeout fires;
// it tells our own timeout apart from the caller's context ending.
var errCallTimeout = errors.New("oneserve: per-call timeout")

// New checks the options and builds a Client. It fails on a BaseURL that is
// not an absolute http(s) URL, because every call would fail later with a
// less helpful message.
func New(o Options) (*Client, error) {
	base := strings.TrimRight(strings.TrimSpace(o.BaseURL), "/")
	u, err := url.Parse(base)
	switch {
	case base == "":
		return nil, errors.New("oneserve: BaseURL is required")
	case err != nil:
		return nil, fmt.Errorf("oneserve: BaseURL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("oneserve: BaseURL %q must be an absolute http(s) URL", base)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("oneserve: BaseURL %q must not carry a query, fragment or credentials", u.Redacted())
	}
	if strings.ContainsAny(o.Token, "\r\n\x00") {
		// Caught here because net/http would refuse every request later.
		return nil, errors.New("oneserve: Token contains a line break or NUL")
	}
	c := &Client{
		baseURL:   base,
		token:     o.Token,
		timeout:   o.Timeout,
		paths:     o.Paths,
		loc:       o.Location,
		userAgent: o.UserAgent,
		observer:  o.Observer,
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.userAgent == "" {
		c.userAgent = "o2o"
	}
	if c.loc == nil {
		if c.loc, err = loadLondon(); err != nil {
			return nil, err
		}
	}
	if err := c.setPaths(); err != nil {
		return nil, err
	}
	if c.budget, err = newBudget(o.Limits); err != nil {
		return nil, err
	}
	if o.HTTPClient != nil {
		hc := *o.HTTPClient
		c.hc = &hc
	} else {
		c.hc = &http.Client{Transport: defaultTransport()}
	}
	c.hc.CheckRedirect = refuseRedirect
	return c, nil
}

// setPaths fills empty paths from DefaultPaths and checks that each
// keeps its placeholder, so that a mistyped path fails at start-up.
func (c *Client) setPaths() error {
	for _, p := range []struct {
		name, placeholder string
		v                 *string
		def               string
		also              string // a second placeholder, if any
	}{
		{"JobRead", "{jobRef}", &c.paths.JobRead, DefaultPaths.JobRead, ""},
		{"DocumentList", "{jobRef}", &c.paths.DocumentList, DefaultPaths.DocumentList, ""},
		{"DocumentDownload", "{documentId}", &c.paths.DocumentDownload, DefaultPaths.DocumentDownload, ""},
		{"DocumentUpload", "{jobRef}", &c.paths.DocumentUpload, DefaultPaths.DocumentUpload, ""},
		{"VersionLines", "{jobRef}", &c.paths.VersionLines, DefaultPaths.VersionLines, ""},
		{"VersionStatus", "{jobRef}", &c.paths.VersionStatus, DefaultPaths.VersionStatus, "{version}"},
	} {
		if *p.v == "" {
			*p.v = p.def
		}
		if !strings.HasPrefix(*p.v, "/") || !strings.Contains(*p.v, p.placeholder) {
			return fmt.Errorf("oneserve: Paths.%s %q must start with / and contain %s", p.name, *p.v, p.placeholder)
		}
		if p.also != "" && !strings.Contains(*p.v, p.also) {
			return fmt.Errorf("oneserve: Paths.%s %q must contain %s", p.name, *p.v, p.also)
		}
	}
	return nil
}

// defaultTransport bounds each step of making a connection, so that an
// unreachable system fails fast; the per-call timeout covers the rest.
func defaultTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// refuseRedirect stops at the first redirect: O2O only talks to the
// configured base URL, and following a redirect would send the token to
// another address (or a POST body to a login page). The 3xx is returned to
// the caller, which turns it into a permanent error.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// BaseURL returns the configured base URL, without a trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// Timeout is how long one call may take (Options.Timeout).
func (c *Client) Timeout() time.Duration { return c.timeout }

// envelope is the result/result_msg pair on every JSON answer.
type envelope struct {
	Result    lenient.Scalar `json:"result"`
	ResultMsg lenient.Scalar `json:"result_msg"`
}

// expand puts an escaped path parameter into an endpoint template.
func expand(template, placeholder, value string) string {
	return strings.ReplaceAll(template, placeholder, url.PathEscape(value))
}

// invalid reports a call the client refuses to send, because an empty
// reference would address a different path or the wrong job.
func invalid(op, format string, args ...any) *Error {
	return &Error{Op: op, Kind: KindPermanent, Message: fmt.Sprintf(format, args...)}
}

// newRequest builds a request to BaseURL+path with the headers every call
// carries. path must already be escaped; query is an encoded query string.
func (c *Client) newRequest(ctx context.Context, method, path, query string, body io.Reader) (*http.Request, error) {
	u := c.baseURL + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("OS-REST-AUTH-TOKEN", c.token)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	return req, nil
}

// callContext derives the context of one call: it is cancelled with
// errCallTimeout when the returned timer fires. Callers stop (or reset) the
// timer; using a timer rather than context.WithTimeout lets the document
// calls stop counting once the headers arrive, without cutting the body.
func (c *Client) callContext(ctx context.Context) (context.Context, context.CancelCauseFunc, *time.Timer) {
	callCtx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(c.timeout, func() { cancel(errCallTimeout) })
	return callCtx, cancel, timer
}

// observe reports one HTTP call that started at start to the Observer.
func (c *Client) observe(op string, status int, start time.Time, err error) {
	if c.observer != nil {
		c.observer(op, status, time.Since(start), err)
	}
}

// doJSON performs one JSON call: in (if not nil) is the request body, out
// (if not nil) receives the answer after the envelope has been checked.
func (c *Client) doJSON(ctx context.Context, op, method, path, query string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &Error{Op: op, Kind: KindPermanent, Message: "encode request: " + err.Error(), Err: err}
		}
		body = bytes.NewReader(b)
	}
	prepare := func(req *http.Request) *Error {
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return nil
	}
	return c.do(ctx, op, method, path, query, body, maxResponse, prepare, func(code int, b []byte) error {
		return c.decode(op, code, b, out)
	})
}

// do performs one call whose answer is read whole into memory (at most
// limit bytes, plus one to detect a larger answer): prepare (if not nil)
// adjusts the request before it is sent, and decode reads a 2xx answer. A
// non-2xx answer is classified by statusError. The Observer sees the call
// with the error do returns, decoding errors included.
//
// A read (GET) that meets a server error or a refused or reset connection
// is tried again at once, twice at most, a moment apart: a read changes
// nothing, and a blip of the system then costs one call, not a failed
// activity attempt and its backoff (with several reads in an attempt, one
// blip in four calls failed most attempts). A timeout is not tried again
// here (the system is slow, not blipping), nor a 429 (the budget holds
// every call back), nor a write (only the activity knows how to look for
// its own earlier result).
func (c *Client) do(ctx context.Context, op, method, path, query string, body io.Reader, limit int64,
	prepare func(*http.Request) *Error, decode func(code int, b []byte) error) error {
	err := c.doOnce(ctx, op, method, path, query, body, limit, prepare, decode)
	for _, pause := range readRetryPauses {
		if method != http.MethodGet || !blip(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		err = c.doOnce(ctx, op, method, path, query, body, limit, prepare, decode)
	}
	return err
}

// readRetryPauses are the pauses before a read's second and third tries.
var readRetryPauses = []time.Duration{100 * time.Millisecond, 400 * time.Millisecond}

// blip reports whether err is a passing failure worth an immediate second
// try of a read: a 5xx answer without Retry-After, or a connection refused
// or reset.
func blip(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindTemporary || e.RetryAfter > 0 {
		return false // a Retry-After is the system asking for a pause: Temporal's retry waits it
	}
	return e.StatusCode >= 500 || errors.Is(e.Err, syscall.ECONNREFUSED) || errors.Is(e.Err, syscall.ECONNRESET)
}

func (c *Client) doOnce(ctx context.Context, op, method, path, query string, body io.Reader, limit int64,
	prepare func(*http.Request) *Error, decode func(code int, b []byte) error) (err error) {
	release, e := c.acquire(ctx, op)
	if e != nil {
		return e
	}
	defer release()
	callCtx, cancel, timer := c.callContext(ctx)
	defer cancel(nil)
	defer timer.Stop()
	req, err := c.newRequest(callCtx, method, path, query, body)
	if err != nil {
		return c.buildError(op, err)
	}
	if prepare != nil {
		if e := prepare(req); e != nil {
			return e
		}
	}
	start, status := time.Now(), 0
	defer func() { c.observe(op, status, start, err) }()
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(op, ctx, callCtx, err)
	}
	status = resp.StatusCode
	defer resp.Body.Close()
	b, e := c.readAnswer(op, ctx, callCtx, resp, limit)
	if e != nil {
		return e
	}
	return decode(resp.StatusCode, b)
}

// buildError is the permanent error of a request that could not be built.
func (c *Client) buildError(op string, err error) *Error {
	return &Error{Op: op, Kind: KindPermanent, Message: c.clean("build request: " + err.Error()), Err: err}
}

// readAnswer reads an answer whole (at most limit bytes, plus one to detect
// a larger answer) and classifies it: a failed read by transportError, a
// non-2xx status by statusError. The JSON calls, the document upload and a
// download's error answer all read their answers this way.
func (c *Client) readAnswer(op string, ctx, callCtx context.Context, resp *http.Response, limit int64) ([]byte, *Error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, c.transportError(op, ctx, callCtx, err)
	}
	if e := c.statusError(op, resp, b); e != nil {
		return nil, e
	}
	return b, nil
}

// transportError classifies a failure to get (or read) an answer: the
// caller's own cancellation is passed through so that errors.Is sees it;
// everything else (our per-call timeout, network errors) is temporary.
func (c *Client) transportError(op string, parent, callCtx context.Context, err error) *Error {
	if perr := parent.Err(); perr != nil {
		msg := perr.Error()
		if cause := context.Cause(parent); cause != nil && cause != perr {
			msg += ": " + cause.Error()
		}
		return &Error{Op: op, Kind: KindTemporary, Message: c.clean("call abandoned: " + msg), Err: perr, Unanswered: true}
	}
	if errors.Is(context.Cause(callCtx), errCallTimeout) {
		// The system may still be working on the call after we stopped
		// waiting (found by make drill: a write applied after its timeout,
		// then again by a retry that looked too soon). The retry waits as
		// long again before it looks for an earlier attempt's result.
		return &Error{Op: op, Kind: KindTemporary, Message: fmt.Sprintf("no answer within %s", c.timeout), Err: err, RetryAfter: c.timeout, Unanswered: true}
	}
	// A refused connection never carried the request; anything else (a
	// reset, an EOF mid-answer) may have.
	return &Error{Op: op, Kind: KindTemporary, Message: c.clean(err.Error()), Err: err, Unanswered: !errors.Is(err, syscall.ECONNREFUSED)}
}

// statusError turns a non-2xx answer into an *Error, with the envelope's
// result_msg as message when the body has one. It returns nil for a 2xx.
func (c *Client) statusError(op string, resp *http.Response, body []byte) *Error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	e := &Error{Op: op, StatusCode: code, Kind: kindForStatus(code)}
	if code >= 300 && code < 400 {
		e.Kind = KindPermanent
		e.Message = c.clean(fmt.Sprintf("redirect to %q refused: O2O only calls the configured base URL", resp.Header.Get("Location")))
		return e
	}
	e.Message = c.clean(errorText(code, body))
	if e.Kind == KindTemporary {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	if code == http.StatusTooManyRequests {
		// The system says O2O as a whole calls too often: hold back every
		// call of this client, not just the caller's retry.
		c.budget.tooManyRequests(e.RetryAfter)
	}
	return e
}

// errorText picks the most useful reason from an error body: the envelope's
// result_msg, else the body itself when it is short text (not an HTML page),
// else the status text.
func errorText(code int, body []byte) string {
	if len(body) > maxResponse {
		body = body[:maxResponse]
	}
	var env envelope
	if json.Unmarshal(body, &env) == nil && env.ResultMsg != "" {
		return string(env.ResultMsg)
	}
	t := strings.TrimSpace(string(body))
	if t != "" && len(t) <= 2*maxMessage && !strings.HasPrefix(t, "<") && !strings.HasPrefix(t, "{") {
		return t
	}
	if s := http.StatusText(code); s != "" {
		return s
	}
	return "unexpected status"
}

// decode checks the envelope of a 2xx answer and fills out. A result other
// than "success" is a refusal even on HTTP 200 (cancelJob, for one, answers
// errors with 200), and an answer without an envelope is not Oneserve's.
func (c *Client) decode(op string, code int, body []byte, out any) error {
	if len(body) > maxResponse {
		return &Error{Op: op, StatusCode: code, Kind: KindPermanent, Message: "answer larger than 8 MiB"}
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return &Error{Op: op, StatusCode: code, Kind: KindPermanent, Message: c.clean("answer is not the expected JSON: " + err.Error()), Err: err}
	}
	switch {
	case env.Result == "":
		return &Error{Op: op, StatusCode: code, Kind: KindPermanent, Message: "answer has no result envelope"}
	case !strings.EqualFold(strings.TrimSpace(string(env.Result)), "success"):
		msg := string(env.ResultMsg)
		if strings.TrimSpace(msg) == "" {
			msg = "result " + string(env.Result)
		}
		return &Error{Op: op, StatusCode: code, Kind: KindPermanent, Message: c.clean(msg)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &Error{Op: op, StatusCode: code, Kind: KindPermanent, Message: c.clean("answer is not the expected JSON: " + err.Error()), Err: err}
	}
	return nil
}

// clean scrubs the token from a message and shortens it.
func (c *Client) clean(msg string) string { return cleanMessage(msg, c.token) }

// CreateJob creates a job (with its worklog and activities) and returns the
// new job's reference. The job is addressed later by its ClientRef, so
// callers look for an existing job at the site before calling again: createJob
// itself is not idempotent.
func (c *Client) CreateJob(ctx context.Context, r CreateJobRequest) (jobRef string, err error) {
	const op = "createJob"
	switch {
	case r.ClientRef == "":
		return "", invalid(op, "ClientRef is required")
	case r.SiteRef == "":
		return "", invalid(op, "SiteRef is required")
	case r.ReportedDate.IsZero():
		return "", invalid(op, "ReportedDate is required")
	}
	body := createJobBody{
		ClientRef:     r.ClientRef,
		SiteRef:       r.SiteRef,
		ReportedDate:  formatDate(r.ReportedDate, c.loc, CreateJobDateLayout),
		ContactMode:   "0",
		ClientID:      r.ClientID,
		WorkLogTypeID: r.WorkLogTypeID,
		WorkTypeID:    r.WorkTypeID,
		WorkflowID:    r.WorkflowID,
		ServiceID:     r.ServiceID,
		PriorityID:    r.PriorityID,
		Description:   r.Description,
	}
	if r.ContactRef != "" {
		body.ContactMode, body.ContactRef = "2", r.ContactRef
	}
	for _, a := range r.Activities {
		body.Activities = append(body.Activities, jobActivityBody(a))
	}
	var out struct {
		JobRef lenient.Scalar `json:"jobRef"`
	}
	if err := c.doJSON(ctx, op, http.MethodPost, "/rest/workflow/job/createJob", "", body, &out); err != nil {
		return "", err
	}
	if out.JobRef == "" {
		return "", &Error{Op: op, StatusCode: http.StatusOK, Kind: KindPermanent, Message: "answer has no jobRef"}
	}
	return string(out.JobRef), nil
}

// createJobBody is createJob's JSON body; see docs/oneserve-api.md.
type createJobBody struct {
	ClientRef     string            `json:"clientRef"`
	SiteRef       string            `json:"siteRef"`
	ReportedDate  string            `json:"reportedDate"`
	ContactMode   string            `json:"contactMode"`
	ContactRef    string            `json:"contactRef,omitempty"`
	ClientID      string            `json:"clientId,omitempty"`
	WorkLogTypeID string            `json:"workLogTypeId,omitempty"`
	WorkTypeID    string            `json:"workTypeId,omitempty"`
	WorkflowID    string            `json:"workflowId,omitempty"`
	ServiceID     string            `json:"serviceId,omitempty"`
	PriorityID    string            `json:"priorityId,omitempty"`
	Description   string            `json:"description,omitempty"`
	Activities    []jobActivityBody `json:"activities,omitempty"`
}

type jobActivityBody struct {
	Code      string `json:"code"`
	Quantity  string `json:"quantity"`
	ClientRef string `json:"clientRef,omitempty"`
}

// AddEventByClientRef adds an event to a job's history, addressing the job
// by JobRef when set, else by JobClientRef and ClientID.
func (c *Client) AddEventByClientRef(ctx context.Context, e JobEvent) error {
	const op = "addEventByClientRef"
	switch {
	case e.JobRef == "" && e.JobClientRef == "":
		return invalid(op, "JobRef or JobClientRef is required")
	case e.ClientID == "":
		return invalid(op, "ClientID is required")
	case e.EventCode == "":
		return invalid(op, "EventCode is required")
	case e.Date.IsZero():
		return invalid(op, "Date is required")
	}
	body := addEventBody{
		ClientID:      e.ClientID,
		SigEventCode:  e.EventCode,
		AppointmentID: e.AppointmentID,
		NoteID:        e.NoteID,
		Note:          e.Note,
		Date:          formatDate(e.Date, c.loc, EventDateLayout),
	}
	// Only the reference Oneserve will use is sent, so that a stale client
	// ref can never be taken for the job meant.
	if e.JobRef != "" {
		body.JobRef = e.JobRef
	} else {
		body.JobClientRef = e.JobClientRef
	}
	return c.doJSON(ctx, op, http.MethodPost, "/rest/workflow/job/addEventByClientRef", "", body, nil)
}

// addEventBody is addEventByClientRef's JSON body.
type addEventBody struct {
	JobRef        string `json:"jobRef,omitempty"`
	JobClientRef  string `json:"jobClientRef,omitempty"`
	ClientID      string `json:"clientId"`
	SigEventCode  string `json:"sigEventCode"`
	AppointmentID string `json:"appointmentId,omitempty"`
	NoteID        string `json:"noteId,omitempty"`
	Note          string `json:"note"`
	Date          string `json:"date"`
}

// AddActivitiesByClientRef adds activities (SOR lines) to jobs found by their
// Client Job Ref and client id (addActivityByClientRef). submitVersion is
// sent as "1" or "0": with versioning on, "1" submits the version the lines
// join (a new one, or the job's New version; ASSUMPTION, see
// docs/oneserve-api.md "Job versions"), "0" adds them to the current
// version; systems without versioning ignore it. The call is refused without
// sending when acts is empty or an activity lacks JobClientRef, ClientID,
// Code, ClientRef or TotalQuantity.
func (c *Client) AddActivitiesByClientRef(ctx context.Context, submitVersion bool, acts []ActivityByClientRef) error {
	const op = "addActivityByClientRef"
	if len(acts) == 0 {
		return invalid(op, "at least one activity is required")
	}
	body := addActivityByClientRefBody{SubmitVersion: "0", Activities: make([]activityByClientRefBody, 0, len(acts))}
	if submitVersion {
		body.SubmitVersion = "1"
	}
	for i, a := range acts {
		for _, f := range []struct{ name, v string }{
			{"JobClientRef", a.JobClientRef}, {"ClientID", a.ClientID}, {"Code", a.Code},
			{"ClientRef", a.ClientRef}, {"TotalQuantity", a.TotalQuantity},
		} {
			if f.v == "" {
				return invalid(op, "activities[%d]: %s is required", i, f.name)
			}
		}
		completed := a.CompletedQuantity
		if completed == "" {
			completed = "0"
		}
		body.Activities = append(body.Activities, activityByClientRefBody{
			JobClientRef: a.JobClientRef, ClientID: a.ClientID, Code: a.Code, ClientRef: a.ClientRef,
			Description: a.Description, CompletedQuantity: completed, TotalQuantity: a.TotalQuantity,
		})
	}
	return c.doJSON(ctx, op, http.MethodPost, "/rest/workflow/activity/addActivityByClientRef", "", body, nil)
}

// addActivityByClientRefBody is addActivityByClientRef's JSON body.
type addActivityByClientRefBody struct {
	SubmitVersion string                    `json:"submitVersion"`
	Activities    []activityByClientRefBody `json:"activities"`
}

type activityByClientRefBody struct {
	JobClientRef      string `json:"jobClientRef"`
	ClientID          string `json:"clientId"`
	Code              string `json:"code"`
	ClientRef         string `json:"clientRef"`
	Description       string `json:"description,omitempty"`
	CompletedQuantity string `json:"completedQuantity"`
	TotalQuantity     string `json:"totalQuantity"`
}

// Site looks up a client's site by reference. An unknown site is an error
// for which IsNotFound holds.
func (c *Client) Site(ctx context.Context, clientID, siteRef string) (*Site, error) {
	const op = "site"
	if clientID == "" || siteRef == "" {
		return nil, invalid(op, "clientID and siteRef are required")
	}
	var out struct {
		ClientID lenient.Scalar `json:"clientId"`
		SiteRef  lenient.Scalar `json:"siteRef"`
		SiteID   lenient.Scalar `json:"siteId"`
		Name     lenient.Scalar `json:"name"`
		Postcode lenient.Scalar `json:"postcode"`
		Contacts []struct {
			ContactRef lenient.Scalar `json:"contactRef"`
		} `json:"contacts"`
		Jobs []struct {
			JobRef    lenient.Scalar `json:"jobRef"`
			ClientRef lenient.Scalar `json:"clientRef"`
			Status    lenient.Scalar `json:"status"`
		} `json:"jobs"`
	}
	path := "/rest/contact/sites/" + url.PathEscape(clientID) + "/" + url.PathEscape(siteRef)
	if err := c.doJSON(ctx, op, http.MethodGet, path, "", nil, &out); err != nil {
		return nil, err
	}
	s := &Site{
		ClientID: string(out.ClientID), SiteRef: string(out.SiteRef), SiteID: string(out.SiteID),
		Name: string(out.Name), Postcode: string(out.Postcode),
	}
	for _, ct := range out.Contacts {
		s.Contacts = append(s.Contacts, SiteContact{ContactRef: string(ct.ContactRef)})
	}
	for _, j := range out.Jobs {
		s.Jobs = append(s.Jobs, SiteJob{JobRef: string(j.JobRef), ClientRef: string(j.ClientRef), Status: string(j.Status)})
	}
	return s, nil
}

// maxActivityIDs is the documented limit of ids per activities read.
const maxActivityIDs = 20

// Activities reads activities by ID, in calls of at most 20 ids (the
// documented limit). Results come back batch by batch, each batch in the
// order the system returns it. No ids means no call.
func (c *Client) Activities(ctx context.Context, ids []string) ([]Activity, error) {
	const op = "activities"
	for _, id := range ids {
		if id == "" || strings.Contains(id, ",") {
			return nil, invalid(op, "activity id %q is empty or contains a comma", id)
		}
	}
	var all []Activity
	for start := 0; start < len(ids); start += maxActivityIDs {
		batch := ids[start:min(start+maxActivityIDs, len(ids))]
		escaped := make([]string, len(batch))
		for i, id := range batch {
			escaped[i] = url.QueryEscape(id)
		}
		var out struct {
			Activities []activityWire `json:"activities"`
		}
		// Commas are left as they are, as in the documented ?ids=137121,137120.
		if err := c.doJSON(ctx, op, http.MethodGet, "/rest/activities", "ids="+strings.Join(escaped, ","), nil, &out); err != nil {
			return nil, err
		}
		for _, a := range out.Activities {
			all = append(all, a.activity())
		}
	}
	return all, nil
}

// activityWire is one entry of the activities read.
type activityWire struct {
	ID                lenient.Scalar `json:"id"`
	JobID             lenient.Scalar `json:"jobId"`
	SupplierID        lenient.Scalar `json:"supplierId"`
	Quantity          lenient.Scalar `json:"quantity"`
	CompletedQuantity lenient.Scalar `json:"completedQuantity"`
	Description       lenient.Scalar `json:"description"`
	Ref               lenient.Scalar `json:"ref"`
	LibraryActivityID lenient.Scalar `json:"libraryActivityId"`
	ServiceID         lenient.Scalar `json:"serviceId"`
	Status            lenient.Scalar `json:"status"`
	IsDeleted         lenient.Bool   `json:"isDeleted"`
}

func (a activityWire) activity() Activity {
	return Activity{
		ID: string(a.ID), JobID: string(a.JobID), SupplierID: string(a.SupplierID),
		Quantity: string(a.Quantity), CompletedQuantity: string(a.CompletedQuantity),
		Description: string(a.Description), Ref: string(a.Ref),
		LibraryActivityID: string(a.LibraryActivityID), ServiceID: string(a.ServiceID),
		Status: string(a.Status), IsDeleted: bool(a.IsDeleted),
	}
}
