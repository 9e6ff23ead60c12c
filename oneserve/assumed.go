// Assumed endpoints: Job, Documents, DownloadDocument, UploadDocument,
// ChangeVersionLines and SetVersionStatus call endpoints that Oneserve's public documentation does not describe.
// Their paths, fields and behaviour are ASSUMPTIONS, the smallest sensible
// shape, written down in docs/oneserve-api.md ("Assumed endpoints") and
// mirrored by the simulator. The paths are configurable (Paths, set per
// system under "paths" in the configuration) so that they can be pointed at
// the real endpoints once Oneserve confirms them; if the real field names
// differ, this file is the one place to change.

package oneserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/o2o-sync/o2o/internal/lenient"
)

// Paths are the assumed (undocumented) Oneserve endpoints, relative to
// BaseURL. {jobRef}, {documentId} and {version} are replaced per call. See
// docs/oneserve-api.md, "Assumptions". The yaml tags are the keys of a
// system's "paths" in O2O's configuration file (package config).
type Paths struct {
	JobRead          string `yaml:"jobRead"`
	DocumentList     string `yaml:"documentList"`
	DocumentDownload string `yaml:"documentDownload"`
	DocumentUpload   string `yaml:"documentUpload"`
	// VersionLines removes lines and changes quantities, in a new version
	// or the current one (ChangeVersionLines).
	VersionLines string `yaml:"versionLines"`
	// VersionStatus approves, rejects or cancels a version (SetVersionStatus).
	VersionStatus string `yaml:"versionStatus"`
}

// DefaultPaths are used for any path a system does not override.
var DefaultPaths = Paths{
	JobRead:          "/rest/workflow/job/{jobRef}",
	DocumentList:     "/rest/documents/job/{jobRef}",
	DocumentDownload: "/rest/documents/{documentId}/content",
	DocumentUpload:   "/rest/documents/job/{jobRef}",
	VersionLines:     "/rest/workflow/job/{jobRef}/versionLines",
	VersionStatus:    "/rest/workflow/job/{jobRef}/version/{version}/status",
}

// Job reads a job by its reference (ASSUMPTION: GET paths.jobRead). An
// unknown job is an error for which IsNotFound holds.
func (c *Client) Job(ctx context.Context, jobRef string) (*Job, error) {
	const op = "job"
	if jobRef == "" {
		return nil, invalid(op, "jobRef is required")
	}
	return c.readJob(ctx, op, expand(c.paths.JobRead, "{jobRef}", jobRef))
}

// jobWire is the job document of the assumed job read.
type jobWire struct {
	JobRef       lenient.Scalar `json:"jobRef"`
	ClientRef    lenient.Scalar `json:"clientRef"`
	ClientID     lenient.Scalar `json:"clientId"`
	SiteRef      lenient.Scalar `json:"siteRef"`
	ContactRef   lenient.Scalar `json:"contactRef"`
	Priority     lenient.Scalar `json:"priority"`
	PriorityID   lenient.Scalar `json:"priorityId"`
	Description  lenient.Scalar `json:"description"`
	ReportedDate lenient.Scalar `json:"reportedDate"`
	Status       lenient.Scalar `json:"status"`
	StatusID     lenient.Scalar `json:"statusId"`
	// Version, VersionStatus and Versions are ASSUMPTIONS (job versions).
	Version       lenient.Scalar `json:"version"`
	VersionStatus lenient.Scalar `json:"versionStatus"`
	Versions      []struct {
		Number lenient.Scalar `json:"number"`
		JobRef lenient.Scalar `json:"jobRef"`
		Status lenient.Scalar `json:"status"`
	} `json:"versions"`
	Activities []struct {
		ID          lenient.Scalar `json:"id"`
		Code        lenient.Scalar `json:"code"`
		Description lenient.Scalar `json:"description"`
		Quantity    lenient.Scalar `json:"quantity"`
		SupplierID  lenient.Scalar `json:"supplierId"`
		Status      lenient.Scalar `json:"status"`
		ClientRef   lenient.Scalar `json:"clientRef"`
	} `json:"activities"`
	Events []struct {
		Code          lenient.Scalar `json:"code"`
		Note          lenient.Scalar `json:"note"`
		Date          lenient.Scalar `json:"date"`
		AppointmentID lenient.Scalar `json:"appointmentId"`
	} `json:"events"`
	Appointments []struct {
		AppointmentID lenient.Scalar `json:"appointmentId"`
		Start         lenient.Scalar `json:"start"`
		End           lenient.Scalar `json:"end"`
		Status        lenient.Scalar `json:"status"`
		Reason        lenient.Scalar `json:"reason"`
	} `json:"appointments"`
}

// badField is a permanent error for an answer whose field cannot be read.
func (c *Client) badField(op, field string, err error) *Error {
	return &Error{Op: op, StatusCode: http.StatusOK, Kind: KindPermanent, Message: c.clean(field + ": " + err.Error()), Err: err}
}

// readJob performs a job read at path and converts the answer.
func (c *Client) readJob(ctx context.Context, op, path string) (*Job, error) {
	var out jobWire
	if err := c.doJSON(ctx, op, http.MethodGet, path, "", nil, &out); err != nil {
		return nil, err
	}
	reported, err := parseDate(string(out.ReportedDate), c.loc, jobReadDateLayouts...)
	if err != nil {
		return nil, c.badField(op, "reportedDate", err)
	}
	j := &Job{
		JobRef: string(out.JobRef), ClientRef: string(out.ClientRef), ClientID: string(out.ClientID),
		SiteRef: string(out.SiteRef), ContactRef: string(out.ContactRef), Priority: string(out.Priority),
		PriorityID: string(out.PriorityID), Description: string(out.Description), Status: string(out.Status),
		StatusID: string(out.StatusID), ReportedDate: reported, VersionStatus: string(out.VersionStatus),
	}
	if j.Version, err = versionNumber(out.Version); err != nil {
		return nil, c.badField(op, "version", err)
	}
	for i, v := range out.Versions {
		n, err := versionNumber(v.Number)
		if err == nil && n == 0 {
			err = errors.New("is required")
		}
		if err != nil {
			return nil, c.badField(op, fmt.Sprintf("versions[%d].number", i), err)
		}
		j.Versions = append(j.Versions, JobVersion{Number: n, JobRef: string(v.JobRef), Status: string(v.Status)})
	}
	for _, a := range out.Activities {
		j.Activities = append(j.Activities, JobLine{
			ID: string(a.ID), Code: string(a.Code), Description: string(a.Description),
			Quantity: string(a.Quantity), SupplierID: string(a.SupplierID), Status: string(a.Status),
			ClientRef: string(a.ClientRef),
		})
	}
	for i, e := range out.Events {
		date, err := parseDate(string(e.Date), c.loc, eventReadDateLayouts...)
		if err != nil {
			return nil, c.badField(op, fmt.Sprintf("events[%d].date", i), err)
		}
		j.Events = append(j.Events, HistoryEvent{
			Code: string(e.Code), Note: string(e.Note), AppointmentID: string(e.AppointmentID), Date: date,
		})
	}
	for i, a := range out.Appointments {
		start, err := parseDate(string(a.Start), c.loc, eventReadDateLayouts...)
		if err == nil && start.IsZero() {
			err = fmt.Errorf("is required")
		}
		if err != nil {
			return nil, c.badField(op, fmt.Sprintf("appointments[%d].start", i), err)
		}
		end, err := parseDate(string(a.End), c.loc, eventReadDateLayouts...)
		if err != nil {
			return nil, c.badField(op, fmt.Sprintf("appointments[%d].end", i), err)
		}
		j.Appointments = append(j.Appointments, JobAppointment{
			AppointmentID: string(a.AppointmentID), Start: start, End: end, Status: string(a.Status), Reason: string(a.Reason),
		})
	}
	return j, nil
}

// documentWire is one document as the list and upload answers carry it.
type documentWire struct {
	DocumentID  lenient.Scalar `json:"documentId"`
	FileName    lenient.Scalar `json:"fileName"`
	Category    lenient.Scalar `json:"category"`
	Size        lenient.Scalar `json:"size"`
	SHA256      lenient.Scalar `json:"sha256"`
	ContentType lenient.Scalar `json:"contentType"`
	ClientRef   lenient.Scalar `json:"clientRef"`
	// ApprovalStatus is ASSUMPTION: Pending, Approved or Rejected.
	ApprovalStatus lenient.Scalar `json:"approvalStatus"`
	// UploadedDate is read like the job read's reportedDate.
	UploadedDate lenient.Scalar `json:"uploadedDate"`
}

// document converts a listed document. An uploadedDate that cannot be read
// is left zero rather than failing the list: it only dates a fact.
func (d documentWire) document(loc *time.Location) Document {
	uploaded, _ := parseDate(string(d.UploadedDate), loc, jobReadDateLayouts...)
	return Document{
		DocumentID: string(d.DocumentID), FileName: string(d.FileName), Category: string(d.Category),
		ContentType: string(d.ContentType), SHA256: string(d.SHA256), ClientRef: string(d.ClientRef),
		Size: sizeOf(d.Size), Approval: string(d.ApprovalStatus), Uploaded: uploaded,
	}
}

// Documents lists a job's documents (ASSUMPTION: GET paths.documentList).
func (c *Client) Documents(ctx context.Context, jobRef string) ([]Document, error) {
	const op = "documents"
	if jobRef == "" {
		return nil, invalid(op, "jobRef is required")
	}
	var out struct {
		Documents []documentWire `json:"documents"`
	}
	if err := c.doJSON(ctx, op, http.MethodGet, expand(c.paths.DocumentList, "{jobRef}", jobRef), "", nil, &out); err != nil {
		return nil, err
	}
	docs := make([]Document, 0, len(out.Documents))
	for _, d := range out.Documents {
		docs = append(docs, d.document(c.loc))
	}
	return docs, nil
}

// DownloadDocument opens a document's content (ASSUMPTION: GET
// paths.documentDownload) and streams it: nothing is buffered, so any size
// can be copied. An offset > 0 asks for the rest of the document only
// (Range: bytes=offset-), to resume an interrupted copy; the answer's Offset
// says where Body really starts. The per-call timeout covers only the wait
// for the headers; reading Body is bounded by ctx. The caller must close Body.
func (c *Client) DownloadDocument(ctx context.Context, documentID string, offset int64) (_ *Download, err error) {
	const op = "downloadDocument"
	switch {
	case documentID == "":
		return nil, invalid(op, "documentID is required")
	case offset < 0:
		return nil, invalid(op, "offset %d is negative", offset)
	}
	// The budget's slot is freed once the headers are in: reading the
	// body is the caller's, and may feed an upload to another system.
	release, e := c.acquire(ctx, op)
	if e != nil {
		return nil, e
	}
	defer release()
	callCtx, cancel, timer := c.callContext(ctx)
	ok := false
	defer func() {
		if !ok {
			timer.Stop()
			cancel(nil)
		}
	}()
	req, err := c.downloadRequest(callCtx, documentID, offset)
	if err != nil {
		return nil, c.buildError(op, err)
	}
	start, status := time.Now(), 0
	defer func() { c.observe(op, status, start, err) }()
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(op, ctx, callCtx, err)
	}
	status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The timer still runs: a stalled error body must not hang the call.
		defer resp.Body.Close()
		_, e := c.readAnswer(op, ctx, callCtx, resp, maxResponse)
		return nil, e
	}
	if !timer.Stop() {
		// The timeout fired just as the headers arrived; callCtx is gone.
		resp.Body.Close()
		return nil, c.transportError(op, ctx, callCtx, errCallTimeout)
	}
	d, e := c.download(op, resp)
	if e != nil {
		resp.Body.Close()
		return nil, e
	}
	d.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	ok = true
	return d, nil
}

// downloadRequest builds the download's request: the document's bytes as
// stored, from offset on.
func (c *Client) downloadRequest(ctx context.Context, documentID string, offset int64) (*http.Request, error) {
	req, err := c.newRequest(ctx, http.MethodGet, expand(c.paths.DocumentDownload, "{documentId}", documentID), "", nil)
	if err != nil {
		return nil, err
	}
	// The body is the document, not JSON (errors still come as JSON).
	req.Header.Set("Accept", "*/*")
	// Offsets, sizes and the checksum refer to the stored bytes, so the
	// transport must not negotiate a compressed encoding.
	req.Header.Set("Accept-Encoding", "identity")
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	return req, nil
}

// download reads what a 2xx download answer's headers say of the document:
// its size, type and checksum, and for a 206 where the body starts.
func (c *Client) download(op string, resp *http.Response) (*Download, *Error) {
	d := &Download{
		Size:        resp.ContentLength,
		ContentType: resp.Header.Get("Content-Type"),
		SHA256:      strings.TrimSpace(resp.Header.Get("X-Checksum-SHA256")),
	}
	if d.Size < 0 {
		d.Size = -1
	}
	if resp.StatusCode == http.StatusPartialContent {
		start, total, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			return nil, &Error{Op: op, StatusCode: resp.StatusCode, Kind: KindPermanent, Message: c.clean(err.Error()), Err: err}
		}
		d.Offset, d.Size = start, total
	}
	return d, nil
}

// parseContentRange reads "bytes start-end/total" (total may be "*",
// unknown, reported as -1).
func parseContentRange(v string) (start, total int64, err error) {
	bad := fmt.Errorf("206 answer with unreadable Content-Range %q", v)
	rest, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !found {
		return 0, 0, bad
	}
	span, size, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, bad
	}
	first, last, found := strings.Cut(span, "-")
	if !found {
		return 0, 0, bad
	}
	start, err1 := strconv.ParseInt(strings.TrimSpace(first), 10, 64)
	end, err2 := strconv.ParseInt(strings.TrimSpace(last), 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, bad
	}
	if strings.TrimSpace(size) == "*" {
		return start, -1, nil
	}
	total, err = strconv.ParseInt(strings.TrimSpace(size), 10, 64)
	if err != nil || total <= end {
		return 0, 0, bad
	}
	return start, total, nil
}

// cancelOnClose releases the download's context when the caller closes Body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

// Close closes the body and releases its context.
func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// UploadDocument stores a document against a job (ASSUMPTION: POST
// paths.documentUpload?fileName=..&category=..&clientRef=..) and returns it
// as stored. u.Body is streamed as the raw request body. The per-call timeout
// does not limit the whole upload, only a stalled target: it fires when the
// system has taken no body bytes for that long, or has not answered that long
// after the last one. Otherwise the upload is bounded by ctx. A Read blocked
// inside u.Body itself is not interrupted (net/http waits for it), so u.Body
// should end with ctx, as a Download's Body does.
func (c *Client) UploadDocument(ctx context.Context, jobRef string, u Upload) (_ *Document, err error) {
	const op = "uploadDocument"
	switch {
	case jobRef == "":
		return nil, invalid(op, "jobRef is required")
	case u.FileName == "":
		return nil, invalid(op, "FileName is required")
	case u.Body == nil:
		return nil, invalid(op, "Body is required")
	}
	release, e := c.acquire(ctx, op)
	if e != nil {
		return nil, e
	}
	defer release()
	callCtx, cancel, timer := c.callContext(ctx)
	defer cancel(nil)
	defer timer.Stop()
	body := &progressReader{ctx: callCtx, r: u.Body, timer: timer, timeout: c.timeout}
	// Once UploadDocument returns, the transport may still hold the body for
	// a moment; stop it starting reads of the caller's reader, which the
	// caller may close.
	defer body.stop()
	req, err := c.uploadRequest(callCtx, jobRef, u, body)
	if err != nil {
		return nil, c.buildError(op, err)
	}
	start, status := time.Now(), 0
	defer func() { c.observe(op, status, start, err) }()
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(op, ctx, callCtx, err)
	}
	status = resp.StatusCode
	defer resp.Body.Close()
	b, e := c.readAnswer(op, ctx, callCtx, resp, maxResponse)
	if e != nil {
		return nil, e
	}
	var out documentWire
	if err := c.decode(op, resp.StatusCode, b, &out); err != nil {
		return nil, err
	}
	return c.storedDocument(op, resp.StatusCode, out, u)
}

// uploadContentType is the Content-Type an upload is sent with.
func uploadContentType(u Upload) string {
	if u.ContentType == "" {
		return "application/octet-stream"
	}
	return u.ContentType
}

// uploadRequest builds the upload's request: the document's name, category
// and client reference in the query, body as the raw request body, its
// size, type and checksum in the headers.
func (c *Client) uploadRequest(ctx context.Context, jobRef string, u Upload, body io.Reader) (*http.Request, error) {
	q := url.Values{}
	q.Set("fileName", u.FileName)
	q.Set("category", u.Category)
	if u.ClientRef != "" {
		q.Set("clientRef", u.ClientRef)
	}
	req, err := c.newRequest(ctx, http.MethodPost, expand(c.paths.DocumentUpload, "{jobRef}", jobRef), q.Encode(), body)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Size > 0:
		req.ContentLength = u.Size
	case u.Size < 0:
		req.ContentLength = -1 // unknown: sent chunked
	} // 0: net/http checks whether the body is really empty
	req.Header.Set("Content-Type", uploadContentType(u))
	if u.SHA256 != "" {
		req.Header.Set("X-Checksum-SHA256", u.SHA256)
	}
	return req, nil
}

// storedDocument checks the upload's answer against what was sent and
// returns the document as stored; what the answer leaves out is taken from
// the upload.
func (c *Client) storedDocument(op string, code int, out documentWire, u Upload) (*Document, error) {
	if out.DocumentID == "" {
		return nil, &Error{Op: op, StatusCode: code, Kind: KindPermanent, Message: "answer has no documentId"}
	}
	d := Document{
		DocumentID: string(out.DocumentID), FileName: u.FileName, Category: u.Category,
		ContentType: uploadContentType(u), SHA256: string(out.SHA256), ClientRef: u.ClientRef, Size: sizeOf(out.Size),
	}
	if d.SHA256 == "" {
		d.SHA256 = u.SHA256
	} else if u.SHA256 != "" && !strings.EqualFold(d.SHA256, u.SHA256) {
		// The system is meant to refuse a mismatch with 400; a stored copy
		// with another checksum is a corrupted copy and needs a person.
		return nil, &Error{Op: op, StatusCode: code, Kind: KindPermanent,
			Message: c.clean(fmt.Sprintf("document %s stored with sha256 %s, sent %s", d.DocumentID, d.SHA256, u.SHA256))}
	}
	if d.Size < 0 && u.Size > 0 {
		d.Size = u.Size
	}
	return &d, nil
}

// errUploadFinished is what the transport reads from an upload body after
// UploadDocument has returned.
var errUploadFinished = errors.New("oneserve: upload finished")

// progressReader re-arms the per-call timer on every chunk read, so that the
// timeout measures a stall rather than the length of the whole upload, and
// stops reading the caller's reader once the call is over.
type progressReader struct {
	ctx     context.Context
	r       io.Reader
	timer   *time.Timer
	timeout time.Duration
	done    atomic.Bool
}

// Read implements io.Reader.
func (p *progressReader) Read(b []byte) (int, error) {
	if p.done.Load() {
		return 0, errUploadFinished
	}
	if err := p.ctx.Err(); err != nil {
		return 0, err // the call is over; do not take more of the caller's data
	}
	n, err := p.r.Read(b)
	if n > 0 && !p.done.Load() {
		p.timer.Reset(p.timeout)
	}
	return n, err
}

// stop refuses later reads. It does not wait for a read in progress: that
// read may be blocked on the caller's reader, and waiting could hang the
// call after it has already failed.
func (p *progressReader) stop() { p.done.Store(true) }

// versionNumber reads a version number: "" is 0 (not sent), otherwise a
// whole number of at least 1.
func versionNumber(s lenient.Scalar) (int, error) {
	t := strings.TrimSpace(string(s))
	if t == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a version number (a whole number of at least 1)", t)
	}
	return n, nil
}

// The line changes ChangeVersionLines makes (VersionLineChange.Change).
// Added lines go through AddActivitiesByClientRef.
const (
	LineRemove   = "remove"
	LineQuantity = "quantity"
)

// The decisions SetVersionStatus sends.
const (
	VersionApproved  = "Approved"
	VersionRejected  = "Rejected"
	VersionCancelled = "Cancelled"
)

// The statuses of a version not decided yet (Job.VersionStatus): raised
// but not submitted, and submitted (open to a decision).
const (
	VersionNew     = "New"
	VersionPending = "Pending"
)

// ChangeVersionLines removes lines of a job and changes line quantities
// (ASSUMPTION: POST paths.versionLines). Over a decided current version
// they make a new version, submitted (Pending) when submitVersion is true,
// else New (not submitted: a later call adds to it and submits it); into a
// New or Pending current version they go in place, and submitVersion
// submits a New one (a Pending one refuses it). See docs/oneserve-api.md
// "Job versions".
// A line is addressed by its ClientRef, or its ActivityID when it has none;
// both may be sent. It returns the job's version number after the change.
// The call is refused without sending when changes is empty, a change is
// neither LineRemove nor LineQuantity, names no line, or (LineQuantity) has
// no Quantity. Not idempotent with submitVersion: a retry after a lost
// answer may raise another version, so callers read the job's versions
// first.
func (c *Client) ChangeVersionLines(ctx context.Context, jobRef string, submitVersion bool, changes []VersionLineChange) (version int, err error) {
	const op = "versionLines"
	switch {
	case jobRef == "":
		return 0, invalid(op, "jobRef is required")
	case len(changes) == 0:
		return 0, invalid(op, "at least one change is required")
	}
	body := versionLinesBody{SubmitVersion: "0", Changes: make([]versionLineBody, 0, len(changes))}
	if submitVersion {
		body.SubmitVersion = "1"
	}
	for i, ch := range changes {
		switch {
		case ch.Change != LineRemove && ch.Change != LineQuantity:
			return 0, invalid(op, "changes[%d]: Change %q must be %q or %q", i, ch.Change, LineRemove, LineQuantity)
		case ch.ClientRef == "" && ch.ActivityID == "":
			return 0, invalid(op, "changes[%d]: ClientRef or ActivityID is required", i)
		case ch.Change == LineQuantity && ch.Quantity == "":
			return 0, invalid(op, "changes[%d]: Quantity is required", i)
		}
		b := versionLineBody{Change: ch.Change, ClientRef: ch.ClientRef, ActivityID: ch.ActivityID}
		if ch.Change == LineQuantity {
			b.Quantity = ch.Quantity
		}
		body.Changes = append(body.Changes, b)
	}
	var out struct {
		Version lenient.Scalar `json:"version"`
	}
	if err := c.doJSON(ctx, op, http.MethodPost, expand(c.paths.VersionLines, "{jobRef}", jobRef), "", body, &out); err != nil {
		return 0, err
	}
	n, err := versionNumber(out.Version)
	if err == nil && n == 0 {
		err = errors.New("answer has no version")
	}
	if err != nil {
		return 0, &Error{Op: op, StatusCode: http.StatusOK, Kind: KindPermanent, Message: c.clean(err.Error()), Err: err}
	}
	return n, nil
}

// versionLinesBody is the assumed versionLines call's JSON body. Every
// value is a string, as Oneserve's documented bodies send them.
type versionLinesBody struct {
	SubmitVersion string            `json:"submitVersion"`
	Changes       []versionLineBody `json:"changes"`
}

type versionLineBody struct {
	Change     string `json:"change"`
	ClientRef  string `json:"clientRef,omitempty"`
	ActivityID string `json:"activityId,omitempty"`
	Quantity   string `json:"quantity,omitempty"`
}

// SetVersionStatus approves, rejects or cancels version number version of
// a job (ASSUMPTION: POST paths.versionStatus with {"status","reason"}).
// status is VersionApproved, VersionRejected or VersionCancelled; reason is
// optional (at most 1000 characters) and omitted when empty. A system
// refuses (409, a permanent error) a version that is not the job's current
// one or is no longer New or Pending.
func (c *Client) SetVersionStatus(ctx context.Context, jobRef string, version int, status, reason string) error {
	const op = "versionStatus"
	switch {
	case jobRef == "":
		return invalid(op, "jobRef is required")
	case version < 1:
		return invalid(op, "version %d is not a version number", version)
	case status != VersionApproved && status != VersionRejected && status != VersionCancelled:
		return invalid(op, "status %q must be %s, %s or %s", status, VersionApproved, VersionRejected, VersionCancelled)
	}
	path := expand(expand(c.paths.VersionStatus, "{jobRef}", jobRef), "{version}", strconv.Itoa(version))
	body := struct {
		Status string `json:"status"`
		Reason string `json:"reason,omitempty"`
	}{status, reason}
	return c.doJSON(ctx, op, http.MethodPost, path, "", body, nil)
}
