//go:build integration

package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

func documentID(t *testing.T, uploaded string) string {
	t.Helper()
	var d struct {
		DocumentID string `json:"documentId"`
	}
	require.NoError(t, json.Unmarshal([]byte(uploaded), &d))
	require.NotEmpty(t, d.DocumentID)
	return d.DocumentID
}

// TestDocumentApprovalEndToEnd: fixit's documents need approval before they
// reach acme. Held then approved → copied once; held then rejected → never;
// approved before its upload's webhook arrived → copied once and the late
// upload is a duplicate; an approval withdrawn after the copy → the copy
// stays and acme gets the configured job event; an operator releases one.
func TestDocumentApprovalEndToEnd(t *testing.T) {
	s := newStackWith(t, "DA", func(cfg []byte) []byte {
		return bytes.Replace(cfg, []byte("    closeAfter: 72h\n"), []byte("    closeAfter: 72h\n"+
			"    documentApproval: { secondaryToPrimary: required, withdrawnEvents: { secondaryToPrimary: SDOCWD } }\n"), 1)
	})
	job := s.createAcmeJob("SITE-001", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	fx := s.settle(job.JobRef, 1).SecondaryJobRef
	acmeDocs := func() map[string]int {
		out := map[string]int{}
		for _, d := range s.job("acme", job.JobRef).Documents {
			out[d.FileName]++
		}
		return out
	}
	state := func() lifecycle.LinkState {
		st, _ := s.linkState("acme-fixit", job.JobRef)
		return st
	}
	eventually := func(msg string, cond func(c *assert.CollectT)) {
		t.Helper()
		require.EventuallyWithT(t, cond, 30*time.Second, 200*time.Millisecond, msg)
	}

	// Held, then approved.
	d1 := documentID(t, s.upload("fixit", fx, "Site Photos", "before.jpg", []byte("\xff\xd8 before")))
	eventually("held", func(c *assert.CollectT) {
		st := state()
		if assert.Len(c, st.HeldDocuments, 1) {
			assert.Equal(c, d1, st.HeldDocuments[0].DocumentID)
			assert.Equal(c, "Site Photos", st.HeldDocuments[0].Category)
		}
	})
	require.Empty(t, acmeDocs(), "nothing travels before approval")
	s.act("fixit", http.MethodPost, "/documents/"+d1+"/approve", map[string]string{})
	eventually("copied at approval", func(c *assert.CollectT) {
		assert.Equal(c, map[string]int{"before.jpg": 1}, acmeDocs())
		assert.Empty(c, state().HeldDocuments)
	})

	// Held, then rejected: never travels.
	d2 := documentID(t, s.upload("fixit", fx, "Site Photos", "blurred.jpg", []byte("\xff\xd8 blurred")))
	eventually("held", func(c *assert.CollectT) { assert.Len(c, state().HeldDocuments, 1) })
	s.act("fixit", http.MethodPost, "/documents/"+d2+"/reject", map[string]string{"reason": "Blurred"})
	eventually("dropped", func(c *assert.CollectT) {
		st := state()
		assert.Empty(c, st.HeldDocuments)
		last := st.Events[len(st.Events)-1]
		assert.Equal(c, events.DocumentRejected, last.Type)
		assert.Equal(c, lifecycle.OutcomeSkipped, last.Outcome)
		assert.Contains(c, last.Detail, "rejected in fixit: reason: Blurred; not copied")
	})

	// Approved before its upload's webhook arrived.
	s.act("fixit", http.MethodPost, "/faults", map[string]any{"op": "deliver", "drop": 1, "types": []string{"DOCUMENT_UPLOADED"}, "seed": 1, "count": 1})
	d3 := documentID(t, s.upload("fixit", fx, "Site Photos", "after.jpg", []byte("\xff\xd8 after")))
	lost := s.dropped("fixit")
	require.Len(t, lost, 1)
	s.act("fixit", http.MethodPost, "/documents/"+d3+"/approve", map[string]string{"reason": "Looks good"})
	eventually("copied from the approval", func(c *assert.CollectT) {
		assert.Equal(c, 1, acmeDocs()["after.jpg"])
	})
	require.Equal(t, http.StatusAccepted, do(t, http.MethodPost, s.simURL+"/fixit/sim/dropped/"+lost[0].ID+"/deliver", nil, nil, nil))
	eventually("the late upload is a duplicate", func(c *assert.CollectT) {
		st := state()
		last := st.Events[len(st.Events)-1]
		assert.Equal(c, events.DocumentUploaded, last.Type)
		assert.Equal(c, lifecycle.OutcomeDuplicate, last.Outcome)
	})

	// The first approval withdrawn after its copy: the copy stays, acme is told.
	s.act("fixit", http.MethodPost, "/documents/"+d1+"/reject", map[string]string{"reason": "Wrong property"})
	eventually("withdrawal told", func(c *assert.CollectT) {
		assert.Equal(c, []string{"SDOCWD"}, historyCodes(s.job("acme", job.JobRef)))
	})
	require.Equal(t, 1, acmeDocs()["before.jpg"], "the copy stays")

	// An operator releases a held document.
	d4 := documentID(t, s.upload("fixit", fx, "Site Photos", "meter.jpg", []byte("\xff\xd8 meter")))
	eventually("held", func(c *assert.CollectT) { assert.Len(c, state().HeldDocuments, 1) })
	var out map[string]string
	require.Equal(t, http.StatusConflict, do(t, http.MethodPost, s.webhookURL+"/links/acme-fixit/"+job.JobRef+"/release", s.operator(),
		map[string]string{"by": "ops@acme", "documentId": d4}, &out), "a release needs a reason")
	require.Equal(t, http.StatusOK, do(t, http.MethodPost, s.webhookURL+"/links/acme-fixit/"+job.JobRef+"/release", s.operator(),
		map[string]string{"by": "ops@acme", "reason": "client approved by phone", "documentId": d4}, &out), "%v", out)
	eventually("released and copied", func(c *assert.CollectT) {
		assert.Equal(c, 1, acmeDocs()["meter.jpg"])
		assert.Empty(c, state().HeldDocuments)
	})
	require.Equal(t, map[string]int{"before.jpg": 1, "after.jpg": 1, "meter.jpg": 1}, acmeDocs(), "each copied once; the rejected one never")
	recordHistory(t, "document-approval", workflows.WorkflowID("acme-fixit", job.JobRef))
}
