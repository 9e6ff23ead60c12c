package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/lifecycle"
)

// What the Web UI and the CLI show counts in words: "1 event processed",
// never "1 events processed" (issue 17).
func TestSummariesSayCountsInWords(t *testing.T) {
	st := lifecycle.LinkState{State: lifecycle.StateLinked, PrimaryJobRef: "AC000001",
		Events: []lifecycle.EventRecord{{ID: "e1"}}, HeldDocuments: []lifecycle.HeldDocument{{DocumentID: "D1"}}}
	d := details(st)
	require.Contains(t, d, "1 event processed, 0 waiting.")
	require.Contains(t, d, "**1 document held for approval**")

	require.Equal(t, "link acme-fixit: 1 checked, 1 fact read, 1 missing and queued, 0 failed",
		ReconcileResult{Link: "acme-fixit", Checked: 1, Found: 1, Missing: 1}.Summary())
	require.Equal(t, "system acme: 1 job event read (1 new, on 1 job): 1 link reconciled, 0 discovered, 1 job of no link, 0 failed",
		PollResult{System: "acme", Read: 1, New: 1, Jobs: 1, Reconciled: 1, NoLink: 1}.Summary())
}
