package workflows_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/o2o-sync/o2o/codec"
	"github.com/o2o-sync/o2o/workflows"
)

// These tests replay the recorded histories (written without encryption)
// through the data converter every O2O process uses once payload keys are
// set: links started before encryption was switched on keep running, and
// links whose payloads were encrypted with an older key keep running after
// a rotation.

func codecKey(t *testing.T, id string) codec.Key {
	t.Helper()
	k := codec.Key{ID: id, Secret: make([]byte, 32)}
	_, err := rand.Read(k.Secret)
	require.NoError(t, err)
	return k
}

func replayer(t *testing.T, keys ...codec.Key) worker.WorkflowReplayer {
	t.Helper()
	c, err := codec.New(keys...)
	require.NoError(t, err)
	dc := codec.DataConverter(c)
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		DataConverter: dc, FailureConverter: codec.FailureConverter(dc),
	})
	require.NoError(t, err)
	workflows.RegisterWorkflows(r)
	return r
}

func loadHistory(t *testing.T, path string) *historypb.History {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	return h
}

// encryptFrom encrypts, with c, every payload of the events from the
// index from on (search attributes stay plain, as the SDK writes them):
// the history of a link that ran under c's key from that event.
func encryptFrom(t *testing.T, h *historypb.History, from int, c *codec.Codec) int {
	t.Helper()
	n := 0
	for _, ev := range h.Events[from:] {
		require.NoError(t, proxy.VisitPayloads(context.Background(), ev, proxy.VisitPayloadsOptions{
			SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				n += len(ps)
				return c.Encode(ps)
			},
		}))
	}
	return n
}

func histories(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/histories/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

func TestRecordedHistoriesReplayWithEncryptionSwitchedOn(t *testing.T) {
	r := replayer(t, codecKey(t, "k1"))
	for _, f := range histories(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			require.NoError(t, r.ReplayWorkflowHistory(nil, loadHistory(t, f)))
		})
	}
}

// A link that ran its first half before encryption and its second half under
// key 1 replays once key 2 encrypts; a process that has dropped key 1 too
// early says which key it lacks instead of failing obscurely.
func TestHistoriesEncryptedWithAnOlderKeyReplayAfterRotation(t *testing.T) {
	k1, k2 := codecKey(t, "2026-01"), codecKey(t, "2026-06")
	old, err := codec.New(k1)
	require.NoError(t, err)
	rotated := replayer(t, k2, k1)
	tooEarly := replayer(t, k2)
	for _, f := range histories(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			whole := loadHistory(t, f)
			require.Positive(t, encryptFrom(t, whole, 0, old))
			require.NoError(t, rotated.ReplayWorkflowHistory(nil, whole))

			half := loadHistory(t, f)
			encryptFrom(t, half, len(half.Events)/2, old)
			require.NoError(t, rotated.ReplayWorkflowHistory(nil, half))

			err := tooEarly.ReplayWorkflowHistory(nil, whole)
			require.Error(t, err)
			// The Reconcile workflow fails on its input before its first
			// command, which the replayer reports as a mismatch instead.
			if whole.Events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName() == "LinkedJob" {
				require.ErrorContains(t, err, `encrypted with key "2026-01", which is not among this process's keys (2026-06)`)
			}
		})
	}
}
