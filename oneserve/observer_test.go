package oneserve_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/oneserve"
)

// observed is one call reported to Options.Observer.
type observed struct {
	op     string
	status int
	d      time.Duration
	err    error
}

type recorder struct {
	mu    sync.Mutex
	calls []observed
}

func (r *recorder) observe(op string, status int, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, observed{op, status, d, err})
}

func (r *recorder) take() []observed {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) option(o *oneserve.Options) { o.Observer = r.observe }

func TestObserverSeesEveryCallWithOpStatusAndDuration(t *testing.T) {
	rec := &recorder{}
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		time.Sleep(5 * time.Millisecond)
		switch {
		case strings.HasSuffix(r.URL.Path, "/createJob"):
			jsonReply(200, `{"result":"success","jobRef":"FX1"}`)(w, r, nil)
		case strings.Contains(r.URL.Path, "/sites/"):
			jsonReply(404, `{"result":"failure","result_msg":"no such site"}`)(w, r, nil)
		case strings.HasSuffix(r.URL.Path, "/addEventByClientRef"):
			jsonReply(200, `{"result":"failure","result_msg":"refused"}`)(w, r, nil)
		case strings.HasSuffix(r.URL.Path, "/content"):
			_, _ = io.WriteString(w, "document")
		case r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/documents"):
			jsonReply(200, `{"result":"success","documentId":"D9"}`)(w, r, nil)
		default:
			jsonReply(503, `{"result":"failure","result_msg":"busy"}`)(w, r, nil)
		}
	}, rec.option)
	ctx := context.Background()

	_, err := c.CreateJob(ctx, oneserve.CreateJobRequest{ClientRef: "AC1", SiteRef: "S1", ReportedDate: time.Now()})
	require.NoError(t, err)
	_, err = c.Site(ctx, "41", "S1")
	require.Error(t, err)
	err = c.AddEventByClientRef(ctx, oneserve.JobEvent{JobRef: "FX1", ClientID: "41", EventCode: "E", Date: time.Now()})
	require.Error(t, err)
	d, err := c.DownloadDocument(ctx, "D1", 0)
	require.NoError(t, err)
	require.NoError(t, d.Body.Close())
	_, err = c.UploadDocument(ctx, "FX1", oneserve.Upload{FileName: "a.pdf", Category: "C", Size: 3, Body: strings.NewReader("abc")})
	require.NoError(t, err)
	_, err = c.Job(ctx, "AC1")
	require.Error(t, err)

	calls := rec.take()
	require.Len(t, calls, 8, "one observation per HTTP call (the failed read is tried three times)")
	want := []struct {
		op     string
		status int
		failed bool
	}{
		{"createJob", 200, false},
		{"site", 404, true},
		{"addEventByClientRef", 200, true}, // refused in the envelope
		{"downloadDocument", 200, false},
		{"uploadDocument", 200, false},
		{"job", 503, true},
		{"job", 503, true},
		{"job", 503, true},
	}
	for i, w := range want {
		got := calls[i]
		require.Equal(t, w.op, got.op, "call %d", i)
		require.Equal(t, w.status, got.status, w.op)
		require.Equal(t, w.failed, got.err != nil, "%s: %v", w.op, got.err)
		require.GreaterOrEqual(t, got.d, 5*time.Millisecond, w.op)
	}
	var oe *oneserve.Error
	require.ErrorAs(t, calls[1].err, &oe)
	require.Equal(t, "site", oe.Op)
}

func TestObserverSeesNetworkErrorsAsStatusZeroAndNotRefusedCalls(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now

	rec := &recorder{}
	c, err := oneserve.New(oneserve.Options{BaseURL: "http://" + addr, Token: token, Timeout: 2 * time.Second, Observer: rec.observe})
	require.NoError(t, err)

	_, err = c.Site(context.Background(), "41", "S1")
	require.Error(t, err)
	calls := rec.take()
	require.Len(t, calls, 3, "a refused connection: a read is tried three times")
	require.Equal(t, "site", calls[0].op)
	require.Equal(t, 0, calls[0].status)
	require.Error(t, calls[0].err)

	// A call refused before sending is no HTTP call.
	_, err = c.Site(context.Background(), "", "S1")
	require.Error(t, err)
	require.Empty(t, rec.take())
}
