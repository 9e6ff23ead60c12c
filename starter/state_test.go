package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/lifecycle"
)

// state prints every time in one format, in the operator's zone: the
// events' (times), the held documents' and the close's, and the operator
// log's (RFC 3339 text in the state) alike (issue 17: two formats).
func TestStatePrintsOneTimeFormat(t *testing.T) {
	zone := time.FixedZone("BST", 3600)
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = zone
	at := time.Date(2026, 12, 8, 9, 30, 0, 0, time.UTC)
	closes := at.Add(72 * time.Hour)
	st := &lifecycle.LinkState{
		Link: "acme-fixit", PrimaryJobRef: "AC000001", State: lifecycle.StateLinked, ClosesAt: &closes, ClosingReason: "ended",
		Events:        []lifecycle.EventRecord{{ID: "e1", Type: "ACTIVITY_ASSIGNED", Outcome: lifecycle.OutcomeApplied, ProcessedAt: at}},
		HeldDocuments: []lifecycle.HeldDocument{{DocumentID: "D1", System: "fixit", FileName: "f.pdf", Category: "Photos", Since: at}},
		OperatorLog:   []lifecycle.OperatorAction{{At: at.Format(time.RFC3339), Action: "pause", By: "ops"}},
	}
	var b bytes.Buffer
	printState(&b, st)
	out := b.String()
	require.Contains(t, out, "Closes at:  2026-12-11 10:30:00 BST (ended)")
	stamps := regexp.MustCompile(`\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?\S*( [A-Z]{3})?`).FindAllString(out, -1)
	require.Len(t, stamps, 4, out)
	for _, s := range stamps[1:] {
		require.Equal(t, "2026-12-08 10:30:00 BST", s, out)
	}
	require.False(t, strings.Contains(out, "T09:30"), out)
}
