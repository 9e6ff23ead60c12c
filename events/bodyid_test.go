package events_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/o2o-sync/o2o/events"
)

func TestBodyID(t *testing.T) {
	hash := func(b string) string {
		sum := sha256.Sum256([]byte(b))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	for _, c := range []struct{ name, body, want string }{
		{"the body's own id", `{"id":"evt-42","type":"X"}`, "id:acme:evt-42"},
		{"a numeric id", `{"id":4200017,"type":"X"}`, "id:acme:4200017"},
		{"no id", `{"type":"X","data":{"jobRef":"AC1"}}`, ""},
		{"an id only inside data", `{"type":"X","data":{"id":"evt-42"}}`, ""},
		{"an empty id", `{"id":"","type":"X"}`, ""},
		{"an id with a space", `{"id":"evt 42"}`, ""},
		{"an id that is not ASCII", `{"id":"évt-42"}`, ""},
		{"an id too long", `{"id":"` + strings.Repeat("x", 201) + `"}`, ""},
		{"an id of the wrong type", `{"id":{"n":1}}`, ""},
		{"not JSON", `id=42`, ""},
	} {
		want := c.want
		if want == "" {
			want = hash(c.body)
		}
		assert.Equal(t, want, events.BodyID("acme", []byte(c.body)), c.name)
	}
	// Stable: the same body always has the same id; a different body another.
	body := []byte(`{"type":"JOB_STATUS_CHANGED","data":{"jobRef":"AC1","status":"On Hold"}}`)
	assert.Equal(t, events.BodyID("acme", body), events.BodyID("acme", body))
	assert.NotEqual(t, events.BodyID("acme", body), events.BodyID("acme", append(body, ' ')))
	// Two systems numbering their events alike do not collide.
	assert.NotEqual(t, events.BodyID("acme", []byte(`{"id":1}`)), events.BodyID("fixit", []byte(`{"id":1}`)))
}
