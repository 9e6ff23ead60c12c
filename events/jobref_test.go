package events_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
)

func TestCanonicalJobRef(t *testing.T) {
	for in, want := range map[string]string{
		"AC000005":                           "AC000005",
		"ac000005":                           "AC000005",
		"Ac000005":                           "AC000005",
		" AC000005":                          "AC000005",
		"ac000005 \t\n":                      "AC000005",
		"\u00a0ac000005\u00a0":               "AC000005", // a spreadsheet's non-breaking space
		"j023t4":                             "J023T4",
		"fx-1_2.3/4":                         "FX-1_2.3/4",
		strings.Repeat("a", 50):              strings.Repeat("A", 50),
		"  " + strings.Repeat("b", 50) + " ": strings.Repeat("B", 50),
	} {
		got, err := events.CanonicalJobRef(in)
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want, got, "%q", in)
		again, err := events.CanonicalJobRef(got)
		require.NoError(t, err)
		assert.Equal(t, got, again, "canonical is a fixed point")
		assert.True(t, events.IsCanonicalJobRef(got))
	}
	for in, problem := range map[string]string{
		"":                      "it is empty",
		" \t ":                  "it is empty",
		strings.Repeat("a", 51): "it is longer than 50 characters",
		"AC 000005":             "it may hold only",
		"AC000005'":             "it may hold only",
		`AC"1`:                  "it may hold only",
		`AC\1`:                  "it may hold only",
		"AC:1":                  "it may hold only",
		"AC,1":                  "it may hold only",
		"AC%201":                "it may hold only",
		"AC\x00":                "it may hold only",
		"ÅC000005":              "it may hold only", // no Unicode case folding: it could name another job
		"ﬀ1":                    "it may hold only",
	} {
		got, err := events.CanonicalJobRef(in)
		var re *events.JobRefError
		require.ErrorAs(t, err, &re, "%q", in)
		assert.Contains(t, re.Problem, problem, "%q", in)
		assert.Empty(t, got)
		if in != "" && strings.TrimSpace(in) != "" {
			assert.NotContains(t, err.Error(), strings.TrimSpace(in), "the error does not quote its input")
		}
	}
	for _, s := range []string{"ac000005", " AC000005", "AC 1", ""} {
		assert.False(t, events.IsCanonicalJobRef(s), "%q", s)
	}
}

func TestClientJobRef(t *testing.T) {
	// A Client Job Ref that is a job ref is canonical, so that a secondary
	// event finds the link of the primary job O2O wrote there.
	assert.Equal(t, "AC000001", events.ClientJobRef(" ac000001 "))
	// Free text of the client's own is kept: it names no link, and the
	// event is not refused for it.
	assert.Equal(t, "PO 1234/5", events.ClientJobRef(" PO 1234/5 "))
	assert.Equal(t, "", events.ClientJobRef(""))
}

// Webhook payloads: a job ref in lower case or padded names the same job
// as the canonical one; one that cannot be a job ref is refused (400).
func TestDecodeCanonicalJobRefs(t *testing.T) {
	for _, ref := range []string{`"ac000001"`, `" AC000001 "`, `"\tac000001"`} {
		ev, err := events.Decode([]byte(with(t, exAssigned, "jobRef", ref)), "i", "s")
		require.NoError(t, err, ref)
		assert.Equal(t, "AC000001", ev.JobRef, ref)

		ev, err = events.Decode([]byte(with(t, exStatus, "jobClientRef", ref)), "i", "s")
		require.NoError(t, err, ref)
		assert.Equal(t, "AC000001", ev.JobClientRef, ref)

		ev, err = events.Decode([]byte(with(t, exVersionCreated, "previousVersionJobRef", ref)), "i", "s")
		require.NoError(t, err, ref)
		assert.Equal(t, "AC000001", ev.Version.PreviousJobRef, ref)
	}
	ev, err := events.Decode([]byte(with(t, exStatus, "jobRef", `" fx000042"`)), "i", "s")
	require.NoError(t, err)
	assert.Equal(t, "FX000042", ev.JobRef)

	ev, err = events.Decode([]byte(with(t, exStatus, "jobClientRef", `"HA 2291/a"`)), "i", "s")
	require.NoError(t, err, "a client's own Client Job Ref is not refused")
	assert.Equal(t, "HA 2291/a", ev.JobClientRef)

	for _, c := range []struct{ example, field, value string }{
		{exAssigned, "jobRef", `"AC 000001"`},
		{exAssigned, "jobRef", `"AC000001' OR 1=1"`},
		{exStatus, "jobRef", `"FX:1"`},
		{exVersionCreated, "previousVersionJobRef", `"AC\"1"`},
	} {
		_, err := events.Decode([]byte(with(t, c.example, c.field, c.value)), "i", "s")
		var fe *events.FieldError
		require.True(t, errors.As(err, &fe), "%s %s: %v", c.field, c.value, err)
		assert.Equal(t, "data."+c.field, fe.Field)
		assert.Contains(t, fe.Problem, "is not a job ref")
	}
}

func TestDecodeNudgeCanonicalJobRefs(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	ev, _, err := events.DecodeNudge([]byte(`{"data":{"jobRef":" ac000001 ","jobClientRef":"fx000009"}}`), "i", "s", now)
	require.NoError(t, err)
	assert.Equal(t, "AC000001", ev.JobRef)
	assert.Equal(t, "FX000009", ev.JobClientRef)

	_, _, err = events.DecodeNudge([]byte(`{"jobRef":"AC 1"}`), "i", "s", now)
	var fe *events.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "jobRef", fe.Field)
}
