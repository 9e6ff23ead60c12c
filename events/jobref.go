package events

import "strings"

// MaxJobRef is the longest job ref O2O takes: Oneserve's job refs are
// Text(50).
const MaxJobRef = 50

// JobRefError says why a text is not a job ref. It never quotes the text.
type JobRefError struct{ Problem string }

func (e *JobRefError) Error() string { return "not a job ref: " + e.Problem }

// JobRefChars names the characters a job ref may hold, for messages.
const JobRefChars = "letters, digits, '-', '_', '.' and '/'"

// CanonicalJobRef is the one normalisation of job refs: every entry point
// (webhook payloads, polled events, the operator API and CLI, backfill
// files, reconciliation) passes a job ref through it before it names a
// link, and workflows.WorkflowID builds ids only from its result, so that
// one job reaches one link whichever way its ref was typed.
//
// It drops surrounding white space and writes the ref in upper case.
// Oneserve documents neither (docs/oneserve-api.md, "Job refs",
// ASSUMPTION): its refs are upper-case letters and digits ("J023T4"), so
// "ac000005" typed by an operator means AC000005, and no system holds two
// jobs whose refs differ only in case. A text that cannot be a job ref —
// empty, longer than MaxJobRef, or holding anything but JobRefChars (a
// space inside, a quote, a colon, a control character) — is refused with
// a *JobRefError rather than changed: changing it could make it name
// another job.
func CanonicalJobRef(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", &JobRefError{"it is empty"}
	case len(s) > MaxJobRef:
		return "", &JobRefError{"it is longer than 50 characters"}
	case strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '/')
	}):
		return "", &JobRefError{"it may hold only " + JobRefChars}
	}
	return strings.ToUpper(s), nil
}

// IsCanonicalJobRef reports whether s is a job ref in its canonical form,
// as CanonicalJobRef returns it. A LinkedJob workflow whose id holds
// another form was started before refs were normalised (issue 17).
func IsCanonicalJobRef(s string) bool {
	c, err := CanonicalJobRef(s)
	return err == nil && c == s
}

// ClientJobRef reads a job's Client Job Ref. Oneserve stores free text
// there; on a job O2O created it is the primary job ref, which is how a
// secondary event finds its link. So it is the canonical job ref when it
// is one, and otherwise kept as it is (white space trimmed): such a value
// names no link, and refusing it would refuse the events
// of every job whose client wrote a reference of its own.
func ClientJobRef(s string) string {
	if ref, err := CanonicalJobRef(s); err == nil {
		return ref
	}
	return strings.TrimSpace(s)
}

// jobRefField reads a required job ref field of a payload: canonical, or a
// *FieldError naming the field.
func jobRefField(field, s string) (string, error) {
	ref, err := CanonicalJobRef(s)
	if err != nil {
		return "", &FieldError{field, "is " + err.Error()}
	}
	return ref, nil
}
