package lifecycle

import "github.com/o2o-sync/o2o/events"

// Result is what carrying out one command produced. Every activity that
// writes to a Oneserve system returns one; the machine records it and learns
// from it. Activities report what they found and did; they do not decide
// what it means for the link.
type Result struct {
	// Outcome is OutcomeApplied, or OutcomeSkipped when the activity found at
	// the source that there was nothing to do (Detail says why).
	Outcome Outcome `json:"outcome,omitempty"`
	// Detail is the reason for a skip, or a remark on what was done.
	Detail string `json:"detail,omitempty"`
	// Existed: an earlier attempt had already done it (found, not written again).
	Existed bool `json:"existed,omitempty"`

	// SecondaryJobRef is the linked job, once created or found.
	SecondaryJobRef string `json:"secondaryJobRef,omitempty"`
	// ActivityIDs are the primary activities now on the linked job.
	ActivityIDs []string `json:"activityIds,omitempty"`

	// TargetDocumentID, Size and SHA256 are a document copy's receipt.
	TargetDocumentID string `json:"targetDocumentId,omitempty"`
	Size             int64  `json:"size,omitempty"`
	SHA256           string `json:"sha256,omitempty"`

	// Version is the number of the version a CreateVersion raised.
	Version int `json:"version,omitempty"`
	// SupersededRefs are the refs the target job's superseded versions
	// hold, as the job read after a version write lists them: the link
	// takes them as the target side's aliases, whether or not the echo of
	// the write ever arrives.
	SupersededRefs []string `json:"supersededRefs,omitempty"`

	// SupersededBy is, for a skipped CreateJob, the ref of the job's
	// current version when the primary job ref holds a superseded one: the
	// job is that ref's, and so is its link; this link closes.
	SupersededBy string `json:"supersededBy,omitempty"`

	// Facts are facts a read found (ReadFacts); the link takes those it
	// does not know, as a reconciliation's.
	Facts []events.Event `json:"facts,omitempty"`

	// Skipped is how results recorded before the uniform result said
	// "nothing to do" (links started earlier replay them); never written.
	Skipped string `json:"skipped,omitempty"`
}

// normalize reads a result recorded by older activities the way current
// ones write it.
func (r Result) normalize() Result {
	if r.Outcome != "" {
		return r
	}
	if r.Skipped != "" {
		r.Outcome, r.Detail, r.Skipped = OutcomeSkipped, r.Skipped, ""
		return r
	}
	r.Outcome = OutcomeApplied
	return r
}

// Applied is the result of a write that was carried out.
func Applied() Result { return Result{Outcome: OutcomeApplied} }

// Skipped is the result of a write that was not needed, with the reason.
func Skipped(reason string) Result { return Result{Outcome: OutcomeSkipped, Detail: reason} }
