package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/o2o-sync/o2o/activities"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/rules"
	"github.com/o2o-sync/o2o/simulator"
)

// docFixture is the activities fixture (acme and fixit simulated over HTTP)
// with a primary job in acme and its linked job in fixit.
type docFixture struct {
	*fixture
	primaryRef, secondaryRef string
}

func newDocFixture(t *testing.T, tweak func(string) string) *docFixture {
	t.Helper()
	f := &docFixture{fixture: newFixture(t, tweak)}
	var p simulator.SimJobResponse
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/acme/sim/jobs", map[string]any{
		"clientId": "28", "siteRef": "SITE-001", "contactRef": "CON-001", "priority": "Emergency", "description": "Boiler service",
		"activities": []map[string]string{{"code": "PLB001", "quantity": "1"}},
	}, &p))
	var s simulator.SimJobResponse
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/fixit/sim/jobs", map[string]any{
		"clientId": "41", "clientRef": p.JobRef, "siteRef": "SITE-001", "priority": "P1 Emergency", "description": "Boiler service",
		"activities": []map[string]string{{"code": "PLB001", "quantity": "1"}},
	}, &s))
	f.primaryRef, f.secondaryRef = p.JobRef, s.JobRef
	return f
}

// jobRef is the linked job's ref in system.
func (f *docFixture) jobRef(system string) string {
	if system == "acme" {
		return f.primaryRef
	}
	return f.secondaryRef
}

// userUploads uploads a document as a user of system would, and returns it
// as the DOCUMENT_UPLOADED event would report it.
func (f *docFixture) userUploads(system, category, fileName, contentType string, body []byte) events.Document {
	f.t.Helper()
	q := url.Values{"category": {category}, "fileName": {fileName}}
	req, err := http.NewRequest(http.MethodPost, f.url+"/"+system+"/sim/jobs/"+f.jobRef(system)+"/documents?"+q.Encode(), bytes.NewReader(body))
	require.NoError(f.t, err)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	require.Equal(f.t, http.StatusCreated, resp.StatusCode)
	var d simulator.Document
	require.NoError(f.t, json.NewDecoder(resp.Body).Decode(&d))
	size, err := strconv.ParseInt(d.Size, 10, 64)
	require.NoError(f.t, err)
	return events.Document{DocumentID: d.DocumentID, FileName: d.FileName, Category: d.Category, Size: size, SHA256: d.SHA256}
}

// documents lists the documents of the linked job in system.
func (f *docFixture) documents(system string) []*simulator.Document {
	f.t.Helper()
	var job simulator.Job
	require.Equal(f.t, http.StatusOK, f.sim(http.MethodGet, "/"+system+"/sim/jobs/"+f.jobRef(system), nil, &job))
	return job.Documents
}

// content downloads a document's bytes through system's REST API.
func (f *docFixture) content(system, documentID string) []byte {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+"/"+system+"/rest/documents/"+documentID+"/content", nil)
	require.NoError(f.t, err)
	req.Header.Set("OS-REST-AUTH-TOKEN", testEnv["O2O_"+strings.ToUpper(system)+"_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	require.Equal(f.t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return b
}

func (f *docFixture) fault(system string, fault map[string]any) {
	f.t.Helper()
	require.Equal(f.t, http.StatusCreated, f.sim(http.MethodPost, "/"+system+"/sim/faults", fault, nil))
}

// input asks for doc, uploaded in the from system, to be copied to the other.
func (f *docFixture) input(from events.Side, doc events.Document, category string) activities.CopyDocumentInput {
	in := activities.CopyDocumentInput{Link: "acme-fixit", From: from, Document: doc, TargetCategory: category}
	in.SourceJobRef, in.TargetJobRef = f.primaryRef, f.secondaryRef
	if from == events.Secondary {
		in.SourceJobRef, in.TargetJobRef = f.secondaryRef, f.primaryRef
	}
	return in
}

func (f *docFixture) copyDoc(in activities.CopyDocumentInput) (lifecycle.Result, error) {
	return executeCopy(f.t, f.env, f.acts, in)
}

// copyActivityEnv is an activity environment whose acme-fixit link copies
// from src to dst (tweak, when not nil, edits the configuration's text);
// both are closed when the test ends.
func copyActivityEnv(t *testing.T, src *fakeSource, dst *fakeTarget, tweak func(string) string) (*activities.Activities, *testsuite.TestActivityEnvironment) {
	t.Cleanup(src.Close)
	t.Cleanup(dst.Close)
	acts := fakeLinkActivities(t, src.URL(), dst.URL(), tweak)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return acts, env
}

func executeCopy(t *testing.T, env *testsuite.TestActivityEnvironment, acts *activities.Activities, in activities.CopyDocumentInput) (lifecycle.Result, error) {
	t.Helper()
	v, err := env.ExecuteActivity(acts.CopyDocument, in)
	if err != nil {
		return lifecycle.Result{}, err
	}
	var res lifecycle.Result
	require.NoError(t, v.Get(&res))
	return res, nil
}

// randomBytes are n bytes that do not compress.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// retryableType asserts that err is a retryable application error and
// returns its type.
func retryableType(t *testing.T, err error) string {
	t.Helper()
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an application error, got %v", err)
	require.False(t, app.NonRetryable(), "want retryable: %v", err)
	return app.Type()
}

// lowerMaxDocumentBytes sets activities.MaxDocumentBytes for one test.
func lowerMaxDocumentBytes(t *testing.T, n int64) {
	old := activities.MaxDocumentBytes
	activities.MaxDocumentBytes = n
	t.Cleanup(func() { activities.MaxDocumentBytes = old })
}

func TestDocumentClientRef(t *testing.T) {
	require.Equal(t, "o2o:acme-fixit:acme:D17", rules.DocumentClientRef("acme-fixit", "acme", "D17"))
}

func TestCopyDocumentPrimaryToSecondaryOnce(t *testing.T) {
	f := newDocFixture(t, nil)
	body := randomBytes(300_000)
	doc := f.userUploads("acme", "Gas Certificate", "gas-cert.pdf", "application/pdf", body)

	res, err := f.copyDoc(f.input(events.Primary, doc, "Certificates"))
	require.NoError(t, err)
	require.False(t, res.Existed)
	require.Equal(t, int64(len(body)), res.Size)
	require.Equal(t, sha256Hex(body), res.SHA256)

	docs := f.documents("fixit")
	require.Len(t, docs, 1)
	got := docs[0]
	require.Equal(t, res.TargetDocumentID, got.DocumentID)
	require.Equal(t, "Certificates", got.Category)
	require.Equal(t, "gas-cert.pdf", got.FileName)
	require.Equal(t, "application/pdf", got.ContentType)
	require.Equal(t, "o2o:acme-fixit:acme:"+doc.DocumentID, got.ClientRef)
	require.Equal(t, "o2o-api", got.UploadedBy, "written as O2O's API user")
	require.Equal(t, sha256Hex(body), got.SHA256)
	require.Equal(t, body, f.content("fixit", got.DocumentID), "the same bytes")

	// Temporal runs activities at least once: a second run finds the copy.
	again, err := f.copyDoc(f.input(events.Primary, doc, "Certificates"))
	require.NoError(t, err)
	require.True(t, again.Existed)
	require.Equal(t, res.TargetDocumentID, again.TargetDocumentID)
	require.Equal(t, res.SHA256, again.SHA256)
	require.Equal(t, res.Size, again.Size)
	require.Len(t, f.documents("fixit"), 1, "still one copy")
	require.Len(t, f.documents("acme"), 1, "nothing written to the source")
}

func TestCopyDocumentSecondaryToPrimary(t *testing.T) {
	f := newDocFixture(t, nil)
	body := randomBytes(70_000)
	doc := f.userUploads("fixit", "Site Photos", "after.jpg", "image/jpeg", body)

	res, err := f.copyDoc(f.input(events.Secondary, doc, "Photos"))
	require.NoError(t, err)
	require.False(t, res.Existed)

	docs := f.documents("acme")
	require.Len(t, docs, 1)
	require.Equal(t, res.TargetDocumentID, docs[0].DocumentID)
	require.Equal(t, "Photos", docs[0].Category)
	require.Equal(t, "after.jpg", docs[0].FileName)
	require.Equal(t, "image/jpeg", docs[0].ContentType)
	require.Equal(t, "o2o:acme-fixit:fixit:"+doc.DocumentID, docs[0].ClientRef)
	require.Equal(t, sha256Hex(body), docs[0].SHA256)
	require.Equal(t, body, f.content("acme", docs[0].DocumentID))
}

func TestCopyDocumentWithoutDeclaredChecksumVerifiesTheCopy(t *testing.T) {
	f := newDocFixture(t, nil)
	body := []byte("%PDF-1.4 tiny\n")
	doc := f.userUploads("acme", "Gas Certificate", "tiny.pdf", "application/pdf", body)
	doc.SHA256, doc.Size = "", 0 // an event without them; the download still declares them

	res, err := f.copyDoc(f.input(events.Primary, doc, "Certificates"))
	require.NoError(t, err)
	require.Equal(t, sha256Hex(body), res.SHA256)
	require.Equal(t, int64(len(body)), res.Size)
}

func TestCopyDocumentAfterALostResponseDoesNotDuplicate(t *testing.T) {
	f := newDocFixture(t, nil)
	body := randomBytes(200_000)
	doc := f.userUploads("acme", "Photos", "before.jpg", "image/jpeg", body)
	// fixit stores the copy but the answer never reaches O2O.
	f.fault("fixit", map[string]any{"op": "uploadDocument", "after": true, "count": 1})

	// The attempt looks for the copy before it fails, finds it and checks it.
	first, err := f.copyDoc(f.input(events.Primary, doc, "Site Photos"))
	require.NoError(t, err)
	require.Equal(t, sha256Hex(body), first.SHA256)
	require.Len(t, f.documents("fixit"), 1, "the copy was stored once")

	res, err := f.copyDoc(f.input(events.Primary, doc, "Site Photos")) // a retry all the same
	require.NoError(t, err)
	require.True(t, res.Existed)
	docs := f.documents("fixit")
	require.Len(t, docs, 1, "the retry found it instead of copying it again")
	require.Equal(t, docs[0].DocumentID, res.TargetDocumentID)
	require.Equal(t, sha256Hex(body), res.SHA256)
}

func TestCopyDocumentSourceOutageIsRetryable(t *testing.T) {
	f := newDocFixture(t, nil)
	doc := f.userUploads("acme", "Photos", "before.jpg", "image/jpeg", randomBytes(10_000))
	f.fault("acme", map[string]any{"op": "downloadDocument", "status": 503, "retryAfter": "5", "count": 1})

	_, err := f.copyDoc(f.input(events.Primary, doc, "Site Photos"))
	require.Equal(t, activities.ErrTypeUnavailable, retryableType(t, err))
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	require.Equal(t, 5*time.Second, app.NextRetryDelay(), "Retry-After is honoured")
	require.Contains(t, err.Error(), "acme")
	require.Empty(t, f.documents("fixit"))

	res, err := f.copyDoc(f.input(events.Primary, doc, "Site Photos")) // acme is back
	require.NoError(t, err)
	require.False(t, res.Existed)
	require.Len(t, f.documents("fixit"), 1)
}

func TestCopyDocumentTargetOutageIsRetryable(t *testing.T) {
	f := newDocFixture(t, nil)
	doc := f.userUploads("acme", "Photos", "before.jpg", "image/jpeg", randomBytes(100_000))
	f.fault("fixit", map[string]any{"op": "uploadDocument", "status": 503, "count": 1})

	_, err := f.copyDoc(f.input(events.Primary, doc, "Site Photos"))
	require.Equal(t, activities.ErrTypeUnavailable, retryableType(t, err))
	require.Contains(t, err.Error(), "fixit")
	require.Empty(t, f.documents("fixit"))
}

func TestCopyDocumentUnknownSourceDocumentIsNonRetryable(t *testing.T) {
	f := newDocFixture(t, nil)
	doc := events.Document{DocumentID: "D424242", FileName: "ghost.pdf", Category: "Gas Certificate"}

	_, err := f.copyDoc(f.input(events.Primary, doc, "Certificates"))
	require.Equal(t, activities.ErrTypeNotFound, nonRetryableType(t, err))
	require.Contains(t, err.Error(), "acme")
	require.Contains(t, err.Error(), "D424242")
	require.Empty(t, f.documents("fixit"))
}

func TestCopyDocumentUnknownTargetCategoryIsNonRetryable(t *testing.T) {
	f := newDocFixture(t, nil)
	doc := f.userUploads("acme", "Photos", "before.jpg", "image/jpeg", randomBytes(50_000))

	_, err := f.copyDoc(f.input(events.Primary, doc, "Holiday Snaps"))
	require.Equal(t, activities.ErrTypeRejected, nonRetryableType(t, err))
	require.Contains(t, err.Error(), "Holiday Snaps")
	require.Empty(t, f.documents("fixit"))
}

func TestCopyDocumentTooLargeIsNonRetryableAndStoresNothing(t *testing.T) {
	f := newDocFixture(t, nil)
	lowerMaxDocumentBytes(t, 100_000)

	// Declared by the download (Content-Length); the event says nothing.
	doc := f.userUploads("acme", "Photos", "huge.jpg", "image/jpeg", randomBytes(150_000))
	doc.Size = 0
	_, err := f.copyDoc(f.input(events.Primary, doc, "Site Photos"))
	require.Equal(t, activities.ErrTypeDocumentTooLarge, nonRetryableType(t, err))
	require.Contains(t, err.Error(), "too large to copy")
	require.Contains(t, err.Error(), "document "+doc.DocumentID)
	require.NotContains(t, err.Error(), "huge.jpg", "errors reach lastError and logs: a document is named by id, not file name")
	require.Empty(t, f.documents("fixit"))

	// Declared by the event: refused before downloading.
	doc.Size = 150_000
	f.fault("acme", map[string]any{"op": "downloadDocument", "status": 500, "count": 1})
	_, err = f.copyDoc(f.input(events.Primary, doc, "Site Photos"))
	require.Equal(t, activities.ErrTypeDocumentTooLarge, nonRetryableType(t, err), "no download attempted")
	require.Empty(t, f.documents("fixit"))
}

func TestCopyDocumentTooLargeWithoutDeclaredSizeAbortsTheUpload(t *testing.T) {
	lowerMaxDocumentBytes(t, 256<<10)
	src := newFakeSource(1<<20, false, false) // chunked, no checksum
	dst := newFakeTarget()
	acts, env := copyActivityEnv(t, src, dst, nil)

	_, err := executeCopy(t, env, acts, activities.CopyDocumentInput{
		Link: "acme-fixit", From: events.Primary, SourceJobRef: "AC1", TargetJobRef: "FX1",
		Document: events.Document{DocumentID: "D1", FileName: "stream.bin"}, TargetCategory: "Certificates",
	})
	require.Equal(t, activities.ErrTypeDocumentTooLarge, nonRetryableType(t, err))
	require.Contains(t, err.Error(), "so far")
	require.Zero(t, dst.completed(), "the target never received a whole document")
	require.Eventually(t, func() bool { return dst.aborted() == 1 }, 5*time.Second, 10*time.Millisecond, "the upload was cut short")
	dst.mu.Lock()
	defer dst.mu.Unlock()
	require.LessOrEqual(t, dst.lastBytes, int64(256<<10), "no byte beyond the limit was sent")
}

func TestCopyDocumentChecksumMismatchIsRetryableAndStoresNothing(t *testing.T) {
	f := newDocFixture(t, nil)
	body := randomBytes(500_000)
	doc := f.userUploads("acme", "Gas Certificate", "gas-cert.pdf", "application/pdf", body)
	doc.SHA256 = sha256Hex([]byte("something else")) // the event disagrees with the bytes

	_, err := f.copyDoc(f.input(events.Primary, doc, "Certificates"))
	require.Equal(t, activities.ErrTypeChecksumMismatch, retryableType(t, err))
	require.Contains(t, err.Error(), "sha256")
	require.Empty(t, f.documents("fixit"), "refused before anything was sent: nothing stored")

	// A size that disagrees is caught the same way.
	doc.SHA256, doc.Size = "", int64(len(body))+1
	_, err = f.copyDoc(f.input(events.Primary, doc, "Certificates"))
	require.Equal(t, activities.ErrTypeChecksumMismatch, retryableType(t, err))
	require.Empty(t, f.documents("fixit"))
}

func TestCopyDocumentCorruptDownloadIsRetryableAndStoresNothing(t *testing.T) {
	// The download declares a checksum its bytes do not have (damaged in
	// transit); its Content-Length is right, so only the held-back last
	// chunk keeps the target from storing it.
	src := newFakeSource(3<<20, true, true)
	src.sha = sha256Hex([]byte("not the content"))
	dst := newFakeTarget()
	acts, env := copyActivityEnv(t, src, dst, nil)

	_, err := executeCopy(t, env, acts, activities.CopyDocumentInput{
		Link: "acme-fixit", From: events.Primary, SourceJobRef: "AC1", TargetJobRef: "FX1",
		Document: events.Document{DocumentID: "D1", FileName: "photo.jpg"}, TargetCategory: "Site Photos",
	})
	require.Equal(t, activities.ErrTypeChecksumMismatch, retryableType(t, err))
	require.Zero(t, dst.completed())
	require.Eventually(t, func() bool { return dst.aborted() == 1 }, 5*time.Second, 10*time.Millisecond)
}

func TestCopyDocumentStoredWithAnotherChecksumNeedsAttention(t *testing.T) {
	// Nobody declares a checksum, so the target cannot refuse a damaged
	// copy; it reports what it stored, which is not what was sent.
	src := newFakeSource(100_000, true, false)
	dst := newFakeTarget()
	dst.answerSHA = sha256Hex([]byte("damaged"))
	acts, env := copyActivityEnv(t, src, dst, nil)

	_, err := executeCopy(t, env, acts, activities.CopyDocumentInput{
		Link: "acme-fixit", From: events.Primary, SourceJobRef: "AC1", TargetJobRef: "FX1",
		Document: events.Document{DocumentID: "D1", FileName: "photo.jpg"}, TargetCategory: "Site Photos",
	})
	require.Equal(t, activities.ErrTypeCopyCorrupted, nonRetryableType(t, err), "a retry would find the marked copy and stop there")
	require.Contains(t, err.Error(), "check the copy")
	require.Contains(t, err.Error(), src.sha)
}

func TestCopyDocumentRejectsBadInput(t *testing.T) {
	f := newDocFixture(t, nil)
	doc := events.Document{DocumentID: "D1", FileName: "a.pdf"}
	in := f.input("sideways", doc, "Certificates")
	_, err := f.copyDoc(in)
	require.Equal(t, activities.ErrTypeInvalidInput, nonRetryableType(t, err))

	in = f.input(events.Primary, doc, "")
	_, err = f.copyDoc(in)
	require.Equal(t, activities.ErrTypeInvalidInput, nonRetryableType(t, err))

	in = f.input(events.Primary, doc, "Certificates")
	in.Link = "nope"
	_, err = f.copyDoc(in)
	require.Equal(t, activities.ErrTypeConfig, nonRetryableType(t, err))
}

// slowAcme puts a proxy in front of acme's REST API that serves document
// downloads at bytesPerSecond.
func slowAcme(t *testing.T, bytesPerSecond int) func(string) string {
	return func(doc string) string {
		m := regexp.MustCompile(`baseURL: (\S+)/acme\n`).FindStringSubmatch(doc)
		require.NotNil(t, m)
		target, err := url.Parse(m[1])
		require.NoError(t, err)
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.FlushInterval = -1
		proxy.ModifyResponse = func(resp *http.Response) error {
			if strings.HasSuffix(resp.Request.URL.Path, "/content") {
				resp.Body = &slowBody{ReadCloser: resp.Body, rate: float64(bytesPerSecond), start: time.Now()}
			}
			return nil
		}
		srv := httptest.NewServer(proxy)
		t.Cleanup(srv.Close)
		return strings.Replace(doc, m[0], "baseURL: "+srv.URL+"/acme\n", 1)
	}
}

// slowBody lets rate bytes a second through.
type slowBody struct {
	io.ReadCloser
	rate  float64
	start time.Time
	sent  int
}

func (b *slowBody) Read(p []byte) (int, error) {
	if len(p) > 16<<10 {
		p = p[:16<<10]
	}
	n, err := b.ReadCloser.Read(p)
	b.sent += n
	time.Sleep(time.Until(b.start.Add(time.Duration(float64(b.sent) / b.rate * float64(time.Second)))))
	return n, err
}

// heartbeats records every RecordHeartbeat call of an activity (the test
// environment's listener only sees those the SDK would send to the server,
// which it throttles to one per 30 s or so).
type heartbeats struct {
	interceptor.WorkerInterceptorBase
	mu    sync.Mutex
	bytes []int64
	at    []time.Time
}

func (h *heartbeats) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &heartbeatsIn{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, h: h}
}

func (h *heartbeats) list() ([]int64, []time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int64(nil), h.bytes...), append([]time.Time(nil), h.at...)
}

type heartbeatsIn struct {
	interceptor.ActivityInboundInterceptorBase
	h *heartbeats
}

func (i *heartbeatsIn) Init(out interceptor.ActivityOutboundInterceptor) error {
	return i.Next.Init(&heartbeatsOut{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: out}, h: i.h})
}

type heartbeatsOut struct {
	interceptor.ActivityOutboundInterceptorBase
	h *heartbeats
}

func (o *heartbeatsOut) RecordHeartbeat(ctx context.Context, details ...any) {
	if len(details) == 1 {
		if n, ok := details[0].(int64); ok {
			o.h.mu.Lock()
			o.h.bytes = append(o.h.bytes, n)
			o.h.at = append(o.h.at, time.Now())
			o.h.mu.Unlock()
		}
	}
	o.Next.RecordHeartbeat(ctx, details...)
}

func TestCopyDocumentHeartbeatsProgress(t *testing.T) {
	f := newDocFixture(t, slowAcme(t, 3<<19)) // 4 MiB in about 2.7 s
	body := randomBytes(4 << 20)
	doc := f.userUploads("acme", "Photos", "survey.jpg", "image/jpeg", body)

	beats := &heartbeats{}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{beats}})
	var mu sync.Mutex
	var sent []int64
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var n int64
		if details.Get(&n) == nil {
			mu.Lock()
			sent = append(sent, n)
			mu.Unlock()
		}
	})
	env.RegisterActivity(f.acts)

	start := time.Now()
	res, err := executeCopy(t, env, f.acts, f.input(events.Primary, doc, "Site Photos"))
	took := time.Since(start)
	require.NoError(t, err)
	require.Equal(t, sha256Hex(body), res.SHA256)
	require.Greater(t, took, 2*time.Second, "the proxy slows the download down")

	got, at := beats.list()
	t.Logf("copy took %s; heartbeats: %v", took, got)
	require.LessOrEqual(t, len(got), int(took/time.Second)+2, "at most about one a second")
	var during []int64 // progress reported while the copy ran
	for i, n := range got {
		if i > 0 {
			require.GreaterOrEqual(t, n, got[i-1], "byte counts never go back")
		}
		if i > 0 && i < len(got)-1 {
			require.GreaterOrEqual(t, at[i].Sub(at[i-1]), 900*time.Millisecond, "progress heartbeats are a second apart")
		}
		if n > 0 && n < int64(len(body)) && (len(during) == 0 || n > during[len(during)-1]) {
			during = append(during, n)
		}
	}
	require.GreaterOrEqual(t, len(during), 2, "increasing byte counts during the copy")
	require.Equal(t, int64(len(body)), got[len(got)-1], "the last one is the whole document")

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, sent, "heartbeats reach Temporal")
	require.LessOrEqual(t, sent[0], int64(len(body)))
}

func TestCopyDocumentStalledSourceIsRetryable(t *testing.T) {
	src := newFakeSource(1<<20, true, true)
	src.stallAfter = 100_000
	dst := newFakeTarget()
	acts, env := copyActivityEnv(t, src, dst, func(doc string) string {
		return strings.Replace(doc, "timeout: 30s", "timeout: 1s", 1) // acme's call timeout
	})

	start := time.Now()
	_, err := executeCopy(t, env, acts, activities.CopyDocumentInput{
		Link: "acme-fixit", From: events.Primary, SourceJobRef: "AC1", TargetJobRef: "FX1",
		Document: events.Document{DocumentID: "D1", FileName: "photo.jpg"}, TargetCategory: "Site Photos",
	})
	took := time.Since(start)
	require.Equal(t, activities.ErrTypeUnavailable, retryableType(t, err))
	require.Contains(t, err.Error(), "acme sent no more of document D1")
	require.Less(t, took, 5*time.Second, "noticed after about the call timeout, not the StartToClose")
	require.Zero(t, dst.completed())
}

func TestCopyDocumentStopsPromptlyWhenCancelled(t *testing.T) {
	f := newDocFixture(t, slowAcme(t, 2<<20)) // 8 MiB in about 4 s
	doc := f.userUploads("acme", "Photos", "survey.jpg", "image/jpeg", randomBytes(8<<20))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	env.RegisterActivity(f.acts)

	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	_, err := executeCopy(t, env, f.acts, f.input(events.Primary, doc, "Site Photos"))
	took := time.Since(start)
	require.Error(t, err)
	t.Logf("cancelled after %s: %v", took, err)
	require.Less(t, took, 1500*time.Millisecond, "the copy (about 4 s) stopped soon after the cancellation")
	require.Empty(t, f.documents("fixit"), "nothing stored")
}

func TestCopyDocumentOfAnotherJobIsRefused(t *testing.T) {
	f := newDocFixture(t, nil)
	doc := f.userUploads("acme", "Gas Certificate", "cert.pdf", "application/pdf", []byte("certificate"))
	var other simulator.SimJobResponse
	require.Equal(t, http.StatusCreated, f.sim(http.MethodPost, "/acme/sim/jobs", map[string]any{
		"clientId": "28", "siteRef": "SITE-002", "priority": "Routine", "description": "Another job",
		"activities": []map[string]string{{"code": "PLB002", "quantity": "1"}},
	}, &other))
	in := f.input(events.Primary, doc, "Certificates")
	in.SourceJobRef = other.JobRef // the event names a job the document is not on

	_, err := f.copyDoc(in)
	require.Equal(t, activities.ErrTypeNotFound, nonRetryableType(t, err))
	require.Contains(t, err.Error(), "is not on job "+other.JobRef)
	require.Empty(t, f.documents("fixit"))
}
