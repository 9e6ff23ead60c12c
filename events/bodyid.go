package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// BodyID is the id of an event that arrived without a webhook-id header
// (webhookAuth modes header-token and basic, which sign nothing). It is
// derived from the body, so that every redelivery of the same body has the
// same id and the link recognises it as a duplicate:
//
//   - the body's own top-level "id" (a string or number of 1-200 visible
//     ASCII characters, no spaces), as "id:<system>:<id>" — the system name
//     keeps two systems that number their events alike apart;
//   - otherwise "sha256:" and the hexadecimal SHA-256 of the raw body.
//
// A sender that changes the body between redeliveries (a fresh delivery
// timestamp, say) and has no "id" gets a new id each time; de-duplication
// by fact then stands between it and a second application.
func BodyID(system string, body []byte) string {
	var top struct {
		ID *Text `json:"id"`
	}
	if json.Unmarshal(body, &top) == nil && top.ID != nil && usableID(string(*top.ID)) {
		return "id:" + system + ":" + string(*top.ID)
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func usableID(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
