package events_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
)

// The version examples of docs/events.md.
const (
	exVersionCreated = `{"type":"VERSION_CREATED","timestamp":"2026-12-02T09:15:00Z",
 "data":{"jobRef":"FX000042","jobClientRef":"AC000001","actor":"surveyor.3","version":"2","previousVersionJobRef":"FX000057","status":"Pending",
  "reason":"Second radiator found corroded","changes":[
   {"change":"add","clientRef":"V2-1","code":"RAD01","quantity":"1"},
   {"change":"quantity","activityId":"137002","clientRef":"137001","code":"PLB02","quantity":"2.50"},
   {"change":"remove","activityId":"137003","code":"PLB09"}]}}`
	exVersionStatus = `{"type":"VERSION_STATUS_CHANGED","timestamp":"2026-12-02T11:40:00Z",
 "data":{"jobRef":"AC000001","jobClientRef":"HA-2291","actor":"contracts.manager","version":2,"status":"Approved","reason":"Agreed by phone"}}`
)

func TestDecodeVersionEvents(t *testing.T) {
	ev, err := events.Decode([]byte(exVersionCreated), "msg_v1", "fixit")
	require.NoError(t, err)
	assert.Equal(t, events.Event{
		ID: "msg_v1", System: "fixit", Type: events.VersionCreated, OccurredAt: ev.OccurredAt,
		JobRef: "FX000042", JobClientRef: "AC000001", Actor: "surveyor.3",
		Version: &events.Version{Number: 2, PreviousJobRef: "FX000057", Status: "Pending", Reason: "Second radiator found corroded",
			Changes: []events.LineChange{
				{Change: "add", ClientRef: "V2-1", Code: "RAD01", Quantity: "1"},
				{Change: "quantity", ActivityID: "137002", ClientRef: "137001", Code: "PLB02", Quantity: "2.50"},
				{Change: "remove", ActivityID: "137003", Code: "PLB09"},
			}},
	}, ev)
	assert.True(t, time.Date(2026, 12, 2, 9, 15, 0, 0, time.UTC).Equal(ev.OccurredAt))
	assert.True(t, ev.Type.Handled())
	assert.False(t, ev.Type.IsAppointment())

	ev, err = events.Decode([]byte(exVersionStatus), "msg_v2", "acme")
	require.NoError(t, err)
	assert.Equal(t, events.Event{
		ID: "msg_v2", System: "acme", Type: events.VersionStatusChanged, OccurredAt: ev.OccurredAt,
		JobRef: "AC000001", JobClientRef: "HA-2291", Actor: "contracts.manager",
		Version: &events.Version{Number: 2, Status: "Approved", Reason: "Agreed by phone"},
	}, ev)
	assert.True(t, ev.Type.Handled())

	// Every status; version 1 may change status (a job under approval
	// rules), but is never created by an event.
	for _, st := range []string{"New", "Pending", "Approved", "Rejected", "Cancelled"} {
		ev, err := events.Decode([]byte(with(t, with(t, exVersionStatus, "status", `"`+st+`"`), "version", `"1"`)), "i", "s")
		require.NoError(t, err, st)
		assert.Equal(t, st, ev.Version.Status)
		assert.Equal(t, 1, ev.Version.Number)
	}
	ev, err = events.Decode([]byte(with(t, exVersionCreated, "status", `"New"`)), "i", "s")
	require.NoError(t, err)
	assert.Equal(t, "New", ev.Version.Status)

	// Numbers as numbers; a remove's quantity is ignored.
	ev, err = events.Decode([]byte(with(t, with(t, exVersionCreated, "version", `17`), "changes",
		`[{"change":"quantity","activityId":137002,"quantity":3.5},{"change":"remove","clientRef":7,"quantity":"junk"},{"change":"add","code":"RAD01","quantity":2}]`)), "i", "s")
	require.NoError(t, err)
	assert.Equal(t, 17, ev.Version.Number)
	assert.Equal(t, []events.LineChange{
		{Change: "quantity", ActivityID: "137002", Quantity: "3.5"},
		{Change: "remove", ClientRef: "7"},
		{Change: "add", Code: "RAD01", Quantity: "2"},
	}, ev.Version.Changes)

	// The Event round-trips through JSON (a workflow signal payload), with
	// the internal field names.
	for _, b := range []string{exVersionCreated, exVersionStatus} {
		ev, err := events.Decode([]byte(b), "i", "s")
		require.NoError(t, err)
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		var back events.Event
		require.NoError(t, json.Unmarshal(raw, &back))
		assert.Equal(t, ev.Version, back.Version)
		assert.Equal(t, ev.JobRef, back.JobRef)
	}
	raw, err := json.Marshal(mustDecode(t, exVersionCreated).Version)
	require.NoError(t, err)
	assert.JSONEq(t, `{"number":2,"previousJobRef":"FX000057","status":"Pending","reason":"Second radiator found corroded","changes":[
		{"change":"add","clientRef":"V2-1","code":"RAD01","quantity":"1"},
		{"change":"quantity","activityId":"137002","clientRef":"137001","code":"PLB02","quantity":"2.50"},
		{"change":"remove","activityId":"137003","code":"PLB09"}]}`, string(raw))
}

func mustDecode(t *testing.T, body string) events.Event {
	t.Helper()
	ev, err := events.Decode([]byte(body), "i", "s")
	require.NoError(t, err)
	return ev
}

// changes returns exVersionCreated with its changes replaced by raw.
func changes(t *testing.T, raw string) string {
	t.Helper()
	return with(t, exVersionCreated, "changes", raw)
}

func TestDecodeVersionRequiredFields(t *testing.T) {
	var cases []errCase
	for ex, fields := range map[string][]string{
		exVersionCreated: {"jobRef", "version", "previousVersionJobRef", "status", "changes"},
		exVersionStatus:  {"jobRef", "version", "status"},
	} {
		var env struct{ Type string }
		require.NoError(t, json.Unmarshal([]byte(ex), &env))
		for _, f := range fields {
			cases = append(cases,
				errCase{env.Type + " without " + f, without(t, ex, f), "data." + f, "is required"},
				errCase{env.Type + " with null " + f, with(t, ex, f, `null`), "data." + f, "is required"})
			if f != "changes" {
				cases = append(cases, errCase{env.Type + " with blank " + f, with(t, ex, f, `" "`), "data." + f, "is required"})
			}
		}
	}
	cases = append(cases,
		errCase{"no changes", changes(t, `[]`), "data.changes", "must have at least one change"},
		errCase{"add without code", changes(t, `[{"change":"add","quantity":"1"}]`), "data.changes[0].code", "is required"},
		errCase{"add with blank code", changes(t, `[{"change":"add","code":" ","quantity":"1"}]`), "data.changes[0].code", "is required"},
		errCase{"add without quantity", changes(t, `[{"change":"add","code":"RAD01"}]`), "data.changes[0].quantity", "is required"},
		errCase{"remove without line", changes(t, `[{"change":"remove","code":"RAD01"}]`), "data.changes[0].activityId", "is required when clientRef is not given"},
		errCase{"quantity without line", changes(t, `[{"change":"quantity","quantity":"2"}]`), "data.changes[0].activityId", "is required when clientRef is not given"},
		errCase{"quantity without quantity", changes(t, `[{"change":"add","code":"A","quantity":"1"},{"change":"quantity","clientRef":"L1"}]`), "data.changes[1].quantity", "is required"},
		errCase{"without change", changes(t, `[{"activityId":"1","quantity":"2"}]`), "data.changes[0].change", "is required"},
	)
	checkFieldErrors(t, cases)

	// Optional fields may be left out.
	for _, opt := range []struct{ example, field string }{
		{exVersionCreated, "reason"}, {exVersionCreated, "actor"}, {exVersionCreated, "jobClientRef"},
		{exVersionStatus, "reason"}, {exVersionStatus, "jobClientRef"},
	} {
		_, err := events.Decode([]byte(without(t, opt.example, opt.field)), "i", "s")
		assert.NoError(t, err, "without optional %s", opt.field)
	}
	// Either line reference is enough.
	for _, c := range []string{
		`{"change":"remove","activityId":"1"}`, `{"change":"remove","clientRef":"L1"}`,
		`{"change":"quantity","activityId":"1","quantity":"2"}`, `{"change":"quantity","clientRef":"L1","quantity":"0.5"}`,
		`{"change":"add","code":"RAD01","quantity":"1","activityId":"9","clientRef":"L9"}`,
	} {
		_, err := events.Decode([]byte(changes(t, `[`+c+`]`)), "i", "s")
		assert.NoError(t, err, c)
	}
	// VERSION_STATUS_CHANGED ignores the creation fields, whatever their shape.
	ev, err := events.Decode([]byte(with(t, with(t, exVersionStatus, "changes", `"x"`), "previousVersionJobRef", `{}`)), "i", "s")
	require.NoError(t, err)
	assert.Nil(t, ev.Version.Changes)
	assert.Empty(t, ev.Version.PreviousJobRef)
}

func TestDecodeVersionWrongTypes(t *testing.T) {
	checkFieldErrors(t, []errCase{
		{"version bool", with(t, exVersionCreated, "version", `true`), "data.version", "wrong type"},
		{"version object", with(t, exVersionStatus, "version", `{"n":"`+secret+`"}`), "data.version", "wrong type"},
		{"previousVersionJobRef array", with(t, exVersionCreated, "previousVersionJobRef", `["`+secret+`"]`), "data.previousVersionJobRef", "wrong type"},
		{"status bool", with(t, exVersionCreated, "status", `false`), "data.status", "wrong type"},
		{"status object", with(t, exVersionStatus, "status", `{}`), "data.status", "wrong type"},
		{"reason array", with(t, exVersionStatus, "reason", `["`+secret+`"]`), "data.reason", "wrong type"},
		{"created reason object", with(t, exVersionCreated, "reason", `{}`), "data.reason", "wrong type"},
		{"changes object", changes(t, `{"change":"add"}`), "data.changes", "must be an array of changes"},
		{"changes string", changes(t, `"`+secret+`"`), "data.changes", "must be an array of changes"},
		{"changes number", changes(t, `1`), "data.changes", "must be an array of changes"},
		{"change item string", changes(t, `["`+secret+`"]`), "data.changes[0]", "must be a JSON object"},
		{"change item array", changes(t, `[{"change":"remove","clientRef":"L"},[1]]`), "data.changes[1]", "must be a JSON object"},
		{"change item null", changes(t, `[null]`), "data.changes[0]", "must be a JSON object"},
		{"change bool", changes(t, `[{"change":true}]`), "data.changes[0].change", "wrong type"},
		{"activityId object", changes(t, `[{"change":"remove","activityId":{}}]`), "data.changes[0].activityId", "wrong type"},
		{"clientRef array", changes(t, `[{"change":"remove","clientRef":["`+secret+`"]}]`), "data.changes[0].clientRef", "wrong type"},
		{"code bool", changes(t, `[{"change":"add","code":true,"quantity":"1"}]`), "data.changes[0].code", "wrong type"},
		{"quantity bool", changes(t, `[{"change":"add","code":"A","quantity":false}]`), "data.changes[0].quantity", "wrong type"},
	})
}

func TestDecodeVersionBadValues(t *testing.T) {
	var cases []errCase
	for _, v := range []string{`1`, `"1"`, `0`, `-2`, `"-2"`, `2.5`, `"2.0"`, `"02"`, `"+2"`, `" 2"`, `"two"`, `"` + secret + `"`,
		`1e1`, `99999999999999999999`} {
		cases = append(cases, errCase{"created version " + v, with(t, exVersionCreated, "version", v), "data.version", "must be a whole number of at least 2"})
	}
	for _, v := range []string{`0`, `"0"`, `-1`, `1.5`, `"x"`} {
		cases = append(cases, errCase{"status version " + v, with(t, exVersionStatus, "version", v), "data.version", "must be a whole number of at least 1"})
	}
	for _, st := range []string{`"Approved"`, `"Rejected"`, `"Cancelled"`, `"pending"`, `"` + secret + `"`} {
		cases = append(cases, errCase{"created status " + st, with(t, exVersionCreated, "status", st), "data.status", "must be one of New, Pending"})
	}
	for _, st := range []string{`"approved"`, `"Declined"`, `"Approved "`, `"` + secret + `"`} {
		cases = append(cases, errCase{"status " + st, with(t, exVersionStatus, "status", st), "data.status", "must be one of New, Pending, Approved, Rejected, Cancelled"})
	}
	for _, kind := range []string{`"Add"`, `"delete"`, `"qty"`, `"` + secret + `"`, `"add "`} {
		cases = append(cases, errCase{"change " + kind, changes(t, `[{"change":`+kind+`,"activityId":"1","code":"A","quantity":"1"}]`), "data.changes[0].change", "must be add, remove or quantity"})
	}
	for _, q := range []string{`"0"`, `"0.00"`, `0`, `"-1"`, `-1`, `"1e3"`, `1e3`, `".5"`, `"2."`, `"1,5"`, `"` + secret + `"`,
		`"1234567890123"`, `"1.1234567"`, `"１"`} {
		cases = append(cases,
			errCase{"add quantity " + q, changes(t, `[{"change":"add","code":"A","quantity":`+q+`}]`), "data.changes[0].quantity", "must be a positive decimal"},
			errCase{"quantity " + q, changes(t, `[{"change":"quantity","clientRef":"L","quantity":`+q+`}]`), "data.changes[0].quantity", "must be a positive decimal"})
	}
	checkFieldErrors(t, cases)

	for _, q := range []string{"1", "0.5", "2.50", "123456789012", "0.000001", "007"} {
		ev, err := events.Decode([]byte(changes(t, `[{"change":"quantity","clientRef":"L","quantity":"`+q+`"}]`)), "i", "s")
		require.NoError(t, err, q)
		assert.Equal(t, q, ev.Version.Changes[0].Quantity)
	}
	assert.True(t, events.IsQuantity("2.50"))
	assert.False(t, events.IsQuantity(""))
}

func TestDecodeVersionLimits(t *testing.T) {
	long := func(n int) string { return `"` + strings.Repeat(secret[:1], n-len(secret)) + secret + `"` }
	many := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(`{"change":"remove","activityId":"%d"}`, i+1)
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	checkFieldErrors(t, []errCase{
		{"jobRef 51", with(t, exVersionCreated, "jobRef", long(51)), "data.jobRef", "must be at most 50 characters"},
		{"previousVersionJobRef 51", with(t, exVersionCreated, "previousVersionJobRef", long(51)), "data.previousVersionJobRef", "must be at most 50 characters"},
		{"reason 1001", with(t, exVersionCreated, "reason", long(1001)), "data.reason", "must be at most 1000 characters"},
		{"status reason 1001 runes", with(t, exVersionStatus, "reason", `"`+strings.Repeat("ü", 1001)+`"`), "data.reason", "must be at most 1000 characters"},
		{"status 101", with(t, exVersionStatus, "status", long(101)), "data.status", "must be at most 100 characters"},
		{"activityId 51", changes(t, `[{"change":"remove","activityId":`+long(51)+`}]`), "data.changes[0].activityId", "must be at most 50 characters"},
		{"clientRef 51", changes(t, `[{"change":"remove","clientRef":`+long(51)+`}]`), "data.changes[0].clientRef", "must be at most 50 characters"},
		{"code 201", changes(t, `[{"change":"add","code":`+long(201)+`,"quantity":"1"}]`), "data.changes[0].code", "must be at most 200 characters"},
		{"change 21", changes(t, `[{"change":`+long(21)+`}]`), "data.changes[0].change", "must be at most 20 characters"},
		{"501 changes", changes(t, many(501)), "data.changes", "must have at most 500 changes"},
	})
	for _, b := range []string{
		with(t, exVersionCreated, "reason", `"`+strings.Repeat("ü", 1000)+`"`),
		with(t, exVersionCreated, "previousVersionJobRef", `"`+strings.Repeat("A", 50)+`"`),
		changes(t, many(500)),
		changes(t, `[{"change":"add","code":"`+strings.Repeat("c", 200)+`","quantity":"1","clientRef":"`+strings.Repeat("r", 50)+`"}]`),
	} {
		_, err := events.Decode([]byte(b), "i", "s")
		assert.NoError(t, err)
	}
}
