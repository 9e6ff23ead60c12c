package simulator

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/o2o-sync/o2o/events"
)

// This file stores uploaded document bytes on disk. Bodies are streamed to
// a file while being hashed, so documents of hundreds of megabytes cost no
// memory.

// maxDocumentBytes bounds one upload.
const maxDocumentBytes = 2 << 30

// upload is a document upload, from the API or from /sim.
type upload struct {
	jobRef    string
	fileName  string
	category  string
	clientRef string
	actor     string
}

// storeDocument validates an upload, streams the request body to disk,
// checks X-Checksum-SHA256 when sent, and records the document. It returns
// a copy of the document and the id of the DOCUMENT_UPLOADED event emitted.
func (s *Simulator) storeDocument(sys *system, w http.ResponseWriter, r *http.Request, up upload) (doc *Document, eventID string, _ *apiError) {
	want, contentType, err := up.check(r)
	if err != nil {
		return nil, "", err
	}
	// Check the job and category before reading a possibly large body.
	s.mu.Lock()
	err = sys.checkUploadTarget(up)
	s.mu.Unlock()
	if err != nil {
		return nil, "", err
	}
	path, size, sum, err := s.receiveDocument(sys, w, r, want)
	if err != nil {
		return nil, "", err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	job, err := sys.job(up.jobRef) // a /sim user may have deleted it meanwhile
	if err != nil {
		os.Remove(path)
		return nil, "", err
	}
	stored := sys.addDocument(job, &Document{
		FileName: up.fileName, Category: up.category, Size: strconv.FormatInt(size, 10), SHA256: sum,
		ContentType: contentType, ClientRef: up.clientRef, path: path,
	}, up.actor)
	c := *stored
	return &c, sys.lastEventID(), nil
}

// check validates the upload's names and headers, returning the checksum
// the client sent (lower case; "" when none) and the content type.
func (up upload) check(r *http.Request) (want, contentType string, _ *apiError) {
	switch {
	case strings.TrimSpace(up.fileName) == "":
		return "", "", badRequest("fileName is required")
	case strings.ContainsAny(up.fileName, "/\\\x00"):
		return "", "", badRequest("fileName %q must be a plain file name, without path separators", up.fileName)
	}
	if err := maxLen("fileName", up.fileName, 255); err != nil {
		return "", "", err
	}
	if up.category == "" {
		return "", "", badRequest("category is required")
	}
	if err := maxLen("clientRef", up.clientRef, 255); err != nil {
		return "", "", err
	}
	want = strings.ToLower(strings.TrimSpace(r.Header.Get(ChecksumHeader)))
	if want != "" && !isHex64(want) {
		return "", "", badRequest("%s must be 64 hexadecimal characters", ChecksumHeader)
	}
	contentType = r.Header.Get("Content-Type")
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	if err := maxLen("Content-Type", contentType, 255); err != nil {
		return "", "", err
	}
	return want, contentType, nil
}

// checkUploadTarget checks the upload's job and category. s.mu must be held.
func (sys *system) checkUploadTarget(up upload) *apiError {
	if _, err := sys.job(up.jobRef); err != nil {
		return err
	}
	if !sys.categories[up.category] {
		return badRequest("category %q is not a document category of this system", up.category)
	}
	return nil
}

// receiveDocument streams the request body to a new file in the document
// directory, hashing it on the way, and checks the hash against want when
// set. It returns the file's path, size and hash; on an error the file is
// gone.
func (s *Simulator) receiveDocument(sys *system, w http.ResponseWriter, r *http.Request, want string) (path string, size int64, sum string, _ *apiError) {
	f, err := os.CreateTemp(s.docDir, sys.seed.Name+"-*.bin")
	if err != nil {
		return "", 0, "", &apiError{http.StatusInternalServerError, "cannot store the document"}
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), http.MaxBytesReader(w, r.Body, maxDocumentBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", 0, "", &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("document must be at most %d bytes", mbe.Limit)}
		}
		return "", 0, "", badRequest("reading the document body: %v", err)
	}
	if err := f.Close(); err != nil {
		return "", 0, "", &apiError{http.StatusInternalServerError, "cannot store the document"}
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if want != "" && want != sum {
		return "", 0, "", badRequest("%s does not match the body (body hashes to %s)", ChecksumHeader, sum)
	}
	keep = true
	return f.Name(), n, sum, nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// decideDocument sets a document's approval status to decision
// (DocumentApproved or DocumentRejected) as a user would, and emits
// DOCUMENT_APPROVED or DOCUMENT_REJECTED with the reason. Deciding again is
// allowed and emits again: a user can withdraw an approval (reject it) and
// approve once more. A rejection needs a reason. s.mu must be held.
func (sys *system) decideDocument(id, decision, reason, actor string) (*Document, *apiError) {
	if decision == DocumentRejected && reason == "" {
		return nil, badRequest("reason is required")
	}
	if err := maxLen("reason", reason, 1000); err != nil {
		return nil, err
	}
	doc := sys.documents[id]
	if doc == nil {
		return nil, notFound("document %q not found", id)
	}
	job, err := sys.job(doc.JobRef)
	if err != nil {
		return nil, err // the job was deleted under /sim
	}
	previous := doc.ApprovalStatus
	doc.ApprovalStatus, doc.ApprovalReason = decision, reason
	t, verb := events.DocumentApproved, "approved"
	if decision == DocumentRejected {
		t, verb = events.DocumentRejected, "rejected"
	}
	d := documentData(job, actor, doc)
	d.Reason = reason
	sys.emit(t, d)
	note := fmt.Sprintf("Document %s (%s) %s (was %s)", doc.DocumentID, doc.FileName, verb, previous)
	if reason != "" {
		note += ": " + reason
	}
	sys.recordWorkflowEvent(job, sys.seed.WorkflowEvents.DocumentApproval, note, actor)
	c := *doc
	return &c, nil
}
