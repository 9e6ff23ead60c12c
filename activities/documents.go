// Document copy: the CopyDocument activity streams one document from one
// side of a link to the other.
//
// Why the bytes never pass through Temporal: every activity input and result
// is stored in the workflow's history, a payload may be at most 2 MiB, a
// history at most 50 MiB, and what is stored is replicated and kept for the
// retention period. A document (a gas certificate, a 40 MB photo set) would
// hit those limits, bloat every replay, and leave customer documents in
// Temporal's database. So the workflow passes only references (link, side,
// job refs, the source's document id, name, size, checksum) and gets back a
// small receipt (target document id, size, sha256). The activity itself
// moves the bytes between the two Oneserve systems, always fetching from the
// source system's configured base URL, by document id, through its client:
// never from a URL found in a payload.
//
// How memory stays bounded: the download's body is read in 32 KiB chunks by
// one goroutine, hashed (sha256) and counted, and written into an io.Pipe
// whose other end is the upload's request body. A pipe write returns only
// once the upload has taken the bytes, so the source is read no faster than
// the target accepts them, and at most two chunk buffers (64 KiB) exist per
// copy whatever the document's size. The last chunk is held back until the
// source has reached its end and the size and checksum have been verified:
// when they do not match, the pipe is closed with an error instead, the
// upload is cut short and the target never stores a complete (corrupted)
// document.
//
// Heartbeats: while the activity runs it records the bytes copied so far
// every second (the SDK batches them to the server), and once more at the
// end. They are regular whatever the two systems are doing, so Temporal
// notices a dead worker by the HeartbeatTimeout, and the cancellation their
// answers carry ends the copy at once: the download, the pipe and the
// upload all end with the activity's context. A source that stops sending in
// the middle of a document is not left to the HeartbeatTimeout: when the
// copier has waited on it for the source system's configured call timeout,
// the copy is abandoned with a retryable error.
//
// Retries: the upload API cannot resume, so a failed attempt leaves nothing
// behind and the next attempt starts from the beginning. Every copy carries
// the marker rules.DocumentClientRef as its clientRef, and every attempt first looks
// for it among the target job's documents, so a copy whose answer was lost is
// found rather than made twice.
package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/plural"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/oneserve"
	"github.com/o2o-sync/o2o/rules"
)

// MaxDocumentBytes caps the size of a copied document (default 512 MiB). A
// larger one is not copied: CopyDocument fails with the non-retryable
// ErrTypeDocumentTooLarge. Set it before the worker starts (tests lower it).
var MaxDocumentBytes int64 = 512 << 20

const (
	// copyChunk is the size of one read from the source.
	copyChunk = 32 << 10
	// heartbeatEvery is the time between two progress heartbeats.
	heartbeatEvery = time.Second
)

// CopyDocumentInput asks for one document to be copied to the other side of a link.
type CopyDocumentInput struct {
	Link           string          `json:"link"`
	From           events.Side     `json:"from"`           // side the document is on (primary|secondary)
	SourceJobRef   string          `json:"sourceJobRef"`   // the job's ref in the source system
	TargetJobRef   string          `json:"targetJobRef"`   // the job's ref in the target system
	Document       events.Document `json:"document"`       // as reported by the source's DOCUMENT_UPLOADED
	TargetCategory string          `json:"targetCategory"` // category on the target side (already mapped by the caller)
}

// CopyDocument copies a document from the side it was uploaded on to the
// linked job on the other side, streaming it from the source's download to
// the target's upload (see the top of this file). It first looks for a copy
// made by an earlier attempt and returns it with Existed set.
func (a *Activities) CopyDocument(ctx context.Context, in CopyDocumentInput) (res lifecycle.Result, err error) {
	defer func() { err = giveUpOnPersistentMismatch(ctx, err) }()
	e, err := a.copyEnds(in)
	if err != nil {
		return lifecycle.Result{}, err
	}
	doc := in.Document
	limit := MaxDocumentBytes
	log := activity.GetLogger(ctx)

	// copyCtx ends the download once the upload is over, whatever happened,
	// or when the source stalls.
	copyCtx, endCopy := context.WithCancelCause(ctx)
	defer endCopy(nil)
	var progress copyProgress
	stopBeats := heartbeatCopy(ctx, &progress, a.cfg.Systems[e.srcSys].Timeout.D(), endCopy)
	defer stopBeats()

	// An earlier attempt may have copied it and lost the answer.
	if res, found, err := e.earlierCopy(ctx, in); err != nil || found {
		return res, err
	}
	if doc.Size > limit {
		return lifecycle.Result{}, tooLarge(e.what, formatBytes(doc.Size), limit)
	}
	if err := e.checkOnSourceJob(ctx, in); err != nil {
		return lifecycle.Result{}, err
	}
	dl, err := e.src.DownloadDocument(copyCtx, doc.DocumentID, 0)
	if err != nil {
		return lifecycle.Result{}, classify(e.srcSys, err)
	}
	defer dl.Body.Close()
	if err := e.checkDownload(dl, doc, limit); err != nil {
		return lifecycle.Result{}, err
	}

	log.Info("Copying document", "link", in.Link, "sourceSystem", e.srcSys, "documentId", doc.DocumentID,
		"size", dl.Size, "targetSystem", e.dstSys, "targetJobRef", in.TargetJobRef,
		"targetCategory", in.TargetCategory)
	start := time.Now()
	c := &docCopier{
		ctx: ctx, stop: copyCtx, progress: &progress, src: dl.Body, hash: sha256.New(), limit: limit,
		what: e.what, srcSys: e.srcSys, size: dl.Size, eventSize: doc.Size,
		sha: strings.ToLower(dl.SHA256), eventSHA: strings.ToLower(doc.SHA256),
	}
	stored, err := e.send(ctx, in, dl, c, endCopy)
	if err != nil {
		return lifecycle.Result{}, err
	}
	sum, err := e.checkStored(in, stored, c)
	if err != nil {
		return lifecycle.Result{}, err
	}
	stopBeats()
	activity.RecordHeartbeat(ctx, c.n)
	elapsed := time.Since(start)
	log.Info("Copied document", "documentId", doc.DocumentID, "targetSystem", e.dstSys,
		"targetDocumentId", stored.DocumentID, "bytes", c.n, "seconds", elapsed.Seconds())
	return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, TargetDocumentID: stored.DocumentID, Size: c.n, SHA256: sum}, nil
}

// docCopyEnds are the two ends of one document copy and the names its
// errors and its marker use.
type docCopyEnds struct {
	srcSys, dstSys string
	src, dst       *oneserve.Client
	// marker is the clientRef the copy carries, by which a later attempt
	// finds it.
	marker string
	// what names the document by id, never by file name: it goes into
	// errors, and so into lastError, the Web UI's details and log lines,
	// which are not personal.
	what string
}

// copyEnds checks a copy's input and resolves which system it goes from
// and to.
func (a *Activities) copyEnds(in CopyDocumentInput) (docCopyEnds, error) {
	l, primary, secondary, err := a.link(in.Link)
	if err != nil {
		return docCopyEnds{}, err
	}
	var e docCopyEnds
	switch in.From {
	case events.Primary:
		e.srcSys, e.dstSys, e.src, e.dst = l.Primary.System, l.Secondary.System, primary, secondary
	case events.Secondary:
		e.srcSys, e.dstSys, e.src, e.dst = l.Secondary.System, l.Primary.System, secondary, primary
	default:
		return docCopyEnds{}, invalidInput("from %q must be %q or %q", in.From, events.Primary, events.Secondary)
	}
	doc := in.Document
	switch {
	case doc.DocumentID == "":
		return docCopyEnds{}, invalidInput("document.documentId is required")
	case strings.TrimSpace(doc.FileName) == "":
		return docCopyEnds{}, invalidInput("document.fileName is required")
	case in.TargetJobRef == "":
		return docCopyEnds{}, invalidInput("targetJobRef is required")
	case in.TargetCategory == "":
		return docCopyEnds{}, invalidInput("targetCategory is required")
	}
	e.marker = rules.DocumentClientRef(in.Link, e.srcSys, doc.DocumentID)
	e.what = fmt.Sprintf("document %s of %s job %s", doc.DocumentID, e.srcSys, in.SourceJobRef)
	return e, nil
}

// earlierCopy looks for the copy an earlier attempt made (by its marker)
// and, when there is one whose checksum agrees, returns it as the result.
func (e docCopyEnds) earlierCopy(ctx context.Context, in CopyDocumentInput) (lifecycle.Result, bool, error) {
	doc := in.Document
	existing, err := e.dst.Documents(ctx, in.TargetJobRef)
	if err != nil {
		return lifecycle.Result{}, false, classify(e.dstSys, err)
	}
	for _, d := range existing {
		if d.ClientRef != e.marker {
			continue
		}
		if doc.SHA256 != "" && d.SHA256 != "" && !strings.EqualFold(doc.SHA256, d.SHA256) {
			return lifecycle.Result{}, false, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"the copy of %s in %s job %s (document %s) has sha256 %s, but %s declares %s; check the copy",
				e.what, e.dstSys, in.TargetJobRef, d.DocumentID, d.SHA256, e.srcSys, doc.SHA256), ErrTypeCopyCorrupted, nil)
		}
		activity.GetLogger(ctx).Info("Document already copied; not copying again", "documentId", doc.DocumentID,
			"targetSystem", e.dstSys, "targetJobRef", in.TargetJobRef, "targetDocumentId", d.DocumentID)
		return lifecycle.Result{Outcome: lifecycle.OutcomeApplied, TargetDocumentID: d.DocumentID, Size: d.Size, SHA256: strings.ToLower(d.SHA256), Existed: true}, true, nil
	}
	return lifecycle.Result{}, false, nil
}

// checkOnSourceJob checks that the document belongs to the job the event
// named: an event cannot make O2O copy another job's (or another client's)
// document.
func (e docCopyEnds) checkOnSourceJob(ctx context.Context, in CopyDocumentInput) error {
	srcDocs, err := e.src.Documents(ctx, in.SourceJobRef)
	if err != nil {
		return classify(e.srcSys, err)
	}
	if !slices.ContainsFunc(srcDocs, func(d oneserve.Document) bool { return d.DocumentID == in.Document.DocumentID }) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s: document %s is not on job %s; not copied", e.srcSys, in.Document.DocumentID, in.SourceJobRef), ErrTypeNotFound, nil)
	}
	return nil
}

// checkDownload checks what the download's headers declare against the
// limit and the event before any byte is sent.
func (e docCopyEnds) checkDownload(dl *oneserve.Download, doc events.Document, limit int64) error {
	switch {
	case dl.Offset != 0:
		return fmt.Errorf("%s: download of %s started at byte %d, not 0", e.srcSys, e.what, dl.Offset)
	case dl.Size > limit:
		return tooLarge(e.what, formatBytes(dl.Size), limit)
	case dl.Size >= 0 && doc.Size > 0 && dl.Size != doc.Size:
		return mismatch("%s: %s is %d bytes to download, but its event declared %d", e.srcSys, e.what, dl.Size, doc.Size)
	case dl.SHA256 != "" && doc.SHA256 != "" && !strings.EqualFold(dl.SHA256, doc.SHA256):
		// One of them is wrong whatever the bytes are: do not send them.
		return mismatch("%s: %s is downloaded with sha256 %s, but its event declared %s", e.srcSys, e.what, dl.SHA256, doc.SHA256)
	}
	return nil
}

// send streams the download through c into the target's upload and returns
// what the target stored. When the upload's answer is lost after all of it
// was sent, it looks for the copy by its marker before failing.
func (e docCopyEnds) send(ctx context.Context, in CopyDocumentInput, dl *oneserve.Download, c *docCopier, endCopy context.CancelCauseFunc) (*oneserve.Document, error) {
	doc := in.Document
	declared := strings.ToLower(dl.SHA256)
	if declared == "" {
		declared = strings.ToLower(doc.SHA256)
	}
	pr, pw := io.Pipe()
	c.dst = pw
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run()
	}()
	stored, upErr := e.dst.UploadDocument(ctx, in.TargetJobRef, oneserve.Upload{
		FileName: doc.FileName, Category: in.TargetCategory, ClientRef: e.marker,
		ContentType: dl.ContentType, SHA256: declared, Size: dl.Size, Body: pr,
	})
	// Stop the copier wherever it is (writing to a finished upload, or
	// reading a download nobody wants any more) and wait for it.
	pr.CloseWithError(errUploadOver)
	endCopy(errUploadOver)
	<-done

	if err := ctx.Err(); err != nil {
		activity.GetLogger(ctx).Info("Document copy cancelled", "documentId", doc.DocumentID, "bytes", c.n)
		return nil, err
	}
	if c.err != nil {
		// The copier's reason (too large, checksum, source failure) is why
		// the upload failed, whatever the upload itself reports.
		return nil, c.err
	}
	if upErr != nil {
		// All of it was sent but no answer came: look for the copy (by
		// its marker) before failing, and check it like any other.
		look := func(ctx context.Context) (bool, error) {
			docs, err := e.dst.Documents(ctx, in.TargetJobRef)
			if err != nil {
				return false, err
			}
			for i := range docs {
				if docs[i].ClientRef == e.marker {
					stored = &docs[i]
					return true, nil
				}
			}
			return false, nil
		}
		if !c.finished || !settled(ctx, upErr, look) {
			return nil, classify(e.dstSys, upErr)
		}
	}
	return stored, nil
}

// checkStored checks that the target stored the whole document, with the
// size and checksum that were sent, and returns that checksum.
func (e docCopyEnds) checkStored(in CopyDocumentInput, stored *oneserve.Document, c *docCopier) (string, error) {
	if !c.finished {
		// A success before the whole document was sent: what was stored
		// (with the marker, so a retry would stop at it) is incomplete.
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s accepted %s as document %s in job %s after only %d bytes; check the copy",
			e.dstSys, e.what, stored.DocumentID, in.TargetJobRef, c.n), ErrTypeCopyCorrupted, nil)
	}
	sum := hex.EncodeToString(c.hash.Sum(nil))
	if (stored.SHA256 != "" && !strings.EqualFold(stored.SHA256, sum)) || (stored.Size >= 0 && stored.Size != c.n) {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s stored %s as document %s in job %s with %d bytes and sha256 %s, but %d bytes with sha256 %s were sent; check the copy",
			e.dstSys, e.what, stored.DocumentID, in.TargetJobRef, stored.Size, stored.SHA256, c.n, sum), ErrTypeCopyCorrupted, nil)
	}
	return sum, nil
}

// errUploadOver stops the copier once the upload has returned.
var errUploadOver = errors.New("upload over")

// stallError ends a copy whose source has sent nothing for a while.
type stallError struct{ after time.Duration }

func (e *stallError) Error() string { return fmt.Sprintf("source sent nothing for %s", e.after) }

// copyProgress is what the heartbeats report and watch.
type copyProgress struct {
	bytes atomic.Int64 // read from the source so far
	// waitingSince is when the copier started waiting for the source's next
	// bytes (Unix nanoseconds), 0 while it is not waiting for the source.
	waitingSince atomic.Int64
}

// heartbeatCopy records the bytes copied every heartbeatEvery until stop is
// called (stop waits for the last one, so that none follows the final
// heartbeat). When the copier has waited for the source for stallAfter, it
// ends the copy through end with a *stallError.
func heartbeatCopy(ctx context.Context, p *copyProgress, stallAfter time.Duration, end context.CancelCauseFunc) (stop func()) {
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if since := p.waitingSince.Load(); since != 0 && stallAfter > 0 && time.Since(time.Unix(0, since)) >= stallAfter {
				end(&stallError{after: stallAfter})
			}
			activity.RecordHeartbeat(ctx, p.bytes.Load())
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-finished
		})
	}
}

// docCopier moves a download's bytes into the upload's pipe, counting and
// hashing them, and verifies them before it lets the last chunk go. Its
// fields are read by CopyDocument only after run has returned.
type docCopier struct {
	ctx      context.Context // the activity's
	stop     context.Context // ends when the upload is over, the source stalls, or ctx ends
	progress *copyProgress
	src      io.Reader
	dst      *io.PipeWriter
	hash     hash.Hash
	limit    int64
	what     string
	srcSys   string
	// size and eventSize are the declared sizes (-1 and 0 when unknown), sha
	// and eventSHA the declared checksums (empty when unknown), from the
	// download's headers and from the event.
	size, eventSize int64
	sha, eventSHA   string

	n        int64 // bytes read from the source
	finished bool  // the whole document was verified and written
	err      error // why the copy was abandoned
}

func (c *docCopier) run() {
	var bufs [2][]byte
	bufs[0], bufs[1] = make([]byte, copyChunk), make([]byte, copyChunk)
	var held []byte // read and checked, not yet written
	cur := 0
	for {
		c.progress.waitingSince.Store(time.Now().UnixNano())
		n, rerr := c.src.Read(bufs[cur])
		c.progress.waitingSince.Store(0)
		if n > 0 {
			chunk := bufs[cur][:n]
			c.hash.Write(chunk)
			c.n += int64(n)
			c.progress.bytes.Store(c.n)
			if err := c.checkRunning(); err != nil {
				c.fail(err)
				return
			}
			if held != nil {
				if _, err := c.dst.Write(held); err != nil {
					c.fail(nil) // the upload is over; its error says why
					return
				}
			}
			held, cur = chunk, 1-cur
		}
		switch {
		case rerr == io.EOF:
			if err := c.checkEnd(); err != nil {
				c.fail(err)
				return
			}
			if held != nil {
				if _, err := c.dst.Write(held); err != nil {
					c.fail(nil)
					return
				}
			}
			c.finished = true
			c.dst.Close()
			return
		case rerr != nil:
			var stalled *stallError
			switch {
			case c.ctx.Err() == nil && errors.As(context.Cause(c.stop), &stalled):
				c.fail(temporal.NewApplicationError(fmt.Sprintf("%s sent no more of %s for %s, after %d bytes; the next attempt starts again",
					c.srcSys, c.what, stalled.after, c.n), ErrTypeUnavailable))
			case c.stop.Err() != nil:
				c.fail(nil) // the upload or the activity is over; they say why
			default:
				c.fail(fmt.Errorf("%s: reading %s after %d bytes: %w", c.srcSys, c.what, c.n, rerr))
			}
			return
		}
	}
}

// fail abandons the copy: the upload's body ends with an error, so the
// target never receives a whole document. A nil err leaves the reason to
// the upload or the context.
func (c *docCopier) fail(err error) {
	c.err = err
	if err == nil {
		err = errUploadOver
	}
	c.dst.CloseWithError(err)
}

// checkRunning checks the bytes read so far.
func (c *docCopier) checkRunning() error {
	switch {
	case c.n > c.limit:
		return tooLarge(c.what, "more than "+formatBytes(c.limit)+" so far (its size was not declared)", c.limit)
	case c.size >= 0 && c.n > c.size:
		return mismatch("%s: %s sent more than the %d bytes it declared", c.srcSys, c.what, c.size)
	case c.eventSize > 0 && c.n > c.eventSize:
		return mismatch("%s: %s is longer than the %d bytes its event declared", c.srcSys, c.what, c.eventSize)
	}
	return nil
}

// checkEnd checks the whole document against every declaration.
func (c *docCopier) checkEnd() error {
	sum := hex.EncodeToString(c.hash.Sum(nil))
	switch {
	case c.size >= 0 && c.n != c.size:
		return mismatch("%s: %s ended after %d of the %d bytes it declared", c.srcSys, c.what, c.n, c.size)
	case c.eventSize > 0 && c.n != c.eventSize:
		return mismatch("%s: %s is %d bytes, but its event declared %d", c.srcSys, c.what, c.n, c.eventSize)
	case c.sha != "" && sum != c.sha:
		return mismatch("%s: %s read with sha256 %s, but the download declared %s", c.srcSys, c.what, sum, c.sha)
	case c.eventSHA != "" && sum != c.eventSHA:
		return mismatch("%s: %s read with sha256 %s, but its event declared %s", c.srcSys, c.what, sum, c.eventSHA)
	}
	return nil
}

func tooLarge(what, size string, limit int64) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"%s is too large to copy: %s, and O2O copies at most %s (MaxDocumentBytes); nothing was stored, copy it by hand",
		what, size, formatBytes(limit)), ErrTypeDocumentTooLarge, nil)
}

// maxMismatchAttempts bounds retries of a copy whose bytes keep disagreeing
// with what the source declares: a one-off corruption in transit is worth a
// retry, a persistent disagreement needs a person.
const maxMismatchAttempts = 5

func giveUpOnPersistentMismatch(ctx context.Context, err error) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrTypeChecksumMismatch || activity.GetInfo(ctx).Attempt < maxMismatchAttempts {
		return err
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s (still after %d attempts; check the document in the source system)",
		app.Message(), activity.GetInfo(ctx).Attempt), ErrTypeChecksumMismatch, err)
}

func mismatch(format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...)+"; nothing was stored, the next attempt reads it again", ErrTypeChecksumMismatch)
}

func invalidInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError("CopyDocument: "+fmt.Sprintf(format, args...), ErrTypeInvalidInput, nil)
}

// formatBytes writes a byte count for people: "12.3 MiB (12897485 bytes)".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB (%d bytes)", float64(n)/(1<<30), n)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
	}
	return plural.Count(n, "byte", "bytes")
}
