// Package plural words a count for people: "1 activity", "2 activities".
// Every message O2O shows with a count (link event details, the Web UI's
// current details, CLI and console lines) says it through this package, so
// that none reads "1 activities".
package plural

import "strconv"

// Integer is a count.
type Integer interface {
	~int | ~int32 | ~int64
}

// Count is n followed by its word: one when n is 1, else many ("0 events",
// "1 event", "2 events").
func Count[N Integer](n N, one, many string) string {
	return strconv.FormatInt(int64(n), 10) + " " + Word(n, one, many)
}

// Word is one when n is 1, else many: the noun of a list that is not
// counted ("activity 137001", "activities 137001, 137002").
func Word[N Integer](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
