package simulator_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/simulator"
)

func TestDocumentUploadListDownload(t *testing.T) {
	h := startDev(t)
	status, resp := h.rest("fixit", "POST", "/workflow/job/createJob", validCreateJob())
	require.Equal(t, http.StatusOK, status, resp)

	// Big enough to be streamed in many chunks, small enough to stay fast.
	content := make([]byte, 3<<20+17)
	_, _ = rand.Read(content)
	sum := sha256.Sum256(content)
	hexSum := hex.EncodeToString(sum[:])
	clientRef := "o2o:acme-fixit:acme:D7"

	upload := func(jobRef, query string, checksum string, body []byte) (int, map[string]any) {
		hdr := http.Header{simulator.AuthHeader: {fixitToken}, "Content-Type": {"application/pdf"}}
		if checksum != "" {
			hdr.Set(simulator.ChecksumHeader, checksum)
		}
		status, _, raw := h.do("POST", "/fixit/rest/documents/job/"+jobRef+"?"+query, hdr, bytes.NewReader(body))
		var out map[string]any
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
		return status, out
	}
	q := url.Values{"fileName": {"gas-cert.pdf"}, "category": {"Certificates"}, "clientRef": {clientRef}}.Encode()

	status, resp = upload("FX000001", q, hexSum, content)
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, map[string]any{"result": "success", "result_msg": "", "documentId": "D1",
		"size": fmt.Sprint(len(content)), "sha256": hexSum}, resp)

	// The list.
	status, list := h.rest("fixit", "GET", "/documents/job/FX000001", nil)
	require.Equal(t, http.StatusOK, status)
	requireAllStrings(t, list, "documents")
	docs := list["documents"].([]any)
	require.Len(t, docs, 1)
	d := docs[0].(map[string]any)
	require.Equal(t, "D1", d["documentId"])
	require.Equal(t, "gas-cert.pdf", d["fileName"])
	require.Equal(t, "Certificates", d["category"])
	require.Equal(t, fmt.Sprint(len(content)), d["size"])
	require.Equal(t, hexSum, d["sha256"])
	require.Equal(t, "application/pdf", d["contentType"])
	require.Equal(t, clientRef, d["clientRef"])
	require.Regexp(t, regexp.MustCompile(`^\d\d/\d\d/\d{4} \d\d:\d\d$`), d["uploadedDate"])

	// Full download.
	auth := http.Header{simulator.AuthHeader: {fixitToken}}
	status, header, body := h.do("GET", "/fixit/rest/documents/D1/content", auth, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "application/pdf", header.Get("Content-Type"))
	require.Equal(t, fmt.Sprint(len(content)), header.Get("Content-Length"))
	require.Equal(t, hexSum, header.Get(simulator.ChecksumHeader))
	require.True(t, bytes.Equal(content, body))

	// Resuming with Range.
	auth.Set("Range", "bytes=1000000-")
	status, header, body = h.do("GET", "/fixit/rest/documents/D1/content", auth, nil)
	require.Equal(t, http.StatusPartialContent, status)
	require.Equal(t, fmt.Sprintf("bytes 1000000-%d/%d", len(content)-1, len(content)), header.Get("Content-Range"))
	require.True(t, bytes.Equal(content[1000000:], body))

	// The echo: an API upload emits DOCUMENT_UPLOADED as the API user, with
	// the clientRef O2O gave it, which is how O2O recognises its own copy.
	outbox := h.app.Outbox("fixit")
	require.Len(t, outbox, 1)
	ev, err := events.Decode(outbox[0].Body, outbox[0].ID, "fixit")
	require.NoError(t, err)
	require.Equal(t, events.DocumentUploaded, ev.Type)
	require.Equal(t, "o2o-api", ev.Actor)
	require.Equal(t, "FX000001", ev.JobRef)
	require.Equal(t, "AC000001", ev.JobClientRef)
	require.Equal(t, &events.Document{DocumentID: "D1", FileName: "gas-cert.pdf", Category: "Certificates",
		Size: int64(len(content)), SHA256: hexSum, ClientRef: clientRef}, ev.Document)

	// Refusals.
	wrong := sha256.Sum256([]byte("something else"))
	for _, c := range []struct {
		jobRef, query, checksum string
		status                  int
		want                    string
	}{
		{"FX000001", q, hex.EncodeToString(wrong[:]), 400, "X-Checksum-SHA256 does not match the body"},
		{"FX000001", q, "abc", 400, "X-Checksum-SHA256 must be 64 hexadecimal characters"},
		{"FX000001", "fileName=a.pdf&category=Gas+Certificate", "", 400, `category "Gas Certificate" is not a document category`},
		{"FX000001", "fileName=a.pdf", "", 400, "category is required"},
		{"FX000001", "category=Certificates", "", 400, "fileName is required"},
		{"FX000001", "fileName=..%2Fetc%2Fpasswd&category=Certificates", "", 400, "plain file name"},
		{"FX000404", q, "", 404, `job "FX000404" not found`},
	} {
		status, resp := upload(c.jobRef, c.query, c.checksum, content[:1000])
		require.Equal(t, c.status, status, c.want)
		require.Equal(t, "error", resp["result"])
		require.Contains(t, resp["result_msg"], c.want)
	}
	_, list = h.rest("fixit", "GET", "/documents/job/FX000001", nil)
	require.Len(t, list["documents"], 1, "refused uploads are not stored")
	require.Len(t, h.app.Outbox("fixit"), 1, "and emit nothing")

	// An upload without a checksum is accepted, hashed by the server.
	status, resp = upload("FX000001", "fileName=photo.jpg&category=Site+Photos", "", []byte("jpeg"))
	require.Equal(t, http.StatusOK, status, resp)
	require.Equal(t, "D2", resp["documentId"])
}
