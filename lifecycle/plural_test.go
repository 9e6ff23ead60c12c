package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// An event's detail counts in words: "with 1 activity", never
// "with 1 activities" (issue 17).
func TestEventDetailsSayCountsInWords(t *testing.T) {
	h := newHarness(t, Options{Compat: CompatCurrent})
	h.deliver(assignment("a0", "137001", "7", t0))
	h.run()
	recs := h.m.TakeRecords()
	require.Len(t, recs, 1)
	require.Equal(t, "linked job FX000001 created in fixit with 1 activity", recs[0].Detail)

	h.deliver(assignment("a1", "137002", "7", t0.Add(1)))
	h.run()
	recs = h.m.TakeRecords()
	require.Len(t, recs, 1)
	require.Equal(t, "activity 137002 added to FX000001 in fixit", recs[0].Detail)
}
