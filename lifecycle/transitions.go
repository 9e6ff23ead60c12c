package lifecycle

import (
	"fmt"
	"strings"
)

// The transition table: for each state a link can be in and each input the
// machine takes, the state it moves to and what it records. It is data so
// that docs/lifecycle.md is rendered from it and a test drives the machine
// through every cell and checks it does exactly this.

// Input is one kind of input the machine takes.
type Input string

// The inputs, in the order of the table's columns.
const (
	InEventArrives    Input = "event arrives"
	InFactsOffered    Input = "facts offered"
	InApplied         Input = "event applied"
	InNothingToDo     Input = "event needs nothing"
	InRedelivery      Input = "redelivery's turn"
	InRefused         Input = "target refuses"
	InRetry           Input = "retry"
	InSkip            Input = "skip"
	InPause           Input = "pause"
	InResume          Input = "resume"
	InUnlink          Input = "unlink"
	InRelease         Input = "release"
	InDrop            Input = "drop"
	InGraceOver       Input = "grace period over"
	InContinueAsNew   Input = "continue-as-new"
	notApplicable           = "—"
	pausedFromLinked        = "Paused (from Linked)"
	pausedFromBlocked       = "Paused (from NeedsAttention)"
)

// Inputs lists the table's columns.
var Inputs = []Input{InEventArrives, InFactsOffered, InApplied, InNothingToDo, InRedelivery, InRefused,
	InRetry, InSkip, InPause, InResume, InUnlink, InRelease, InDrop, InGraceOver, InContinueAsNew}

// TableStates lists the table's rows. A paused link remembers the state it
// resumes into, which decides what retry and skip may do, so it has two.
var TableStates = []string{string(StateLinking), string(StateLinked), string(StateNeedsAttention),
	pausedFromLinked, pausedFromBlocked, string(StateClosed)}

// Transition is one cell of the table.
type Transition struct {
	From string
	On   Input
	// To is the state afterwards; "—" when the input cannot happen in From.
	To string
	// Records is the outcome recorded for an event ("" for none).
	Records Outcome
	// Refused: an operator action Validate refuses (the state is unchanged).
	Refused bool
	// Note says why, or what else happens.
	Note string
}

// InputNotes explain the inputs.
var InputNotes = map[Input]string{
	InEventArrives:  "A webhook's event reaches the link (signal). It queues behind the events of its side that happened before it.",
	InFactsOffered:  "A reconciliation read the jobs and offers the facts it found (the offerFacts update). Those the link knows, or has queued, are dropped without a record.",
	InApplied:       "The event at the head of the queue was applied by its activity.",
	InNothingToDo:   "The rules (or the activity, reading the source) found nothing to do for the event at the head.",
	InRedelivery:    "The event whose turn it is was finished before (same event id): a sender's redelivery.",
	InRefused:       "The target refused the event's write, or the link's configuration could not be loaded: retrying will not help.",
	InRetry:         "Operator: try the blocked event again, with the configuration reloaded.",
	InSkip:          "Operator (who, why required): give up on the blocked event.",
	InPause:         "Operator: stop applying events; they queue.",
	InResume:        "Operator: undo pause.",
	InUnlink:        "Operator (who, why required): stop syncing for good; both jobs stay as they are.",
	InRelease:       "Operator (who, why required): copy a document held for approval now (documentApproval).",
	InDrop:          "Operator (who, why required): give up on a document held for approval; it is never copied.",
	InGraceOver:     "The grace period after the job ended (closeAfter) is over.",
	InContinueAsNew: "The run hands its state to a new run (every 200 events, or when Temporal suggests it).",
}

const (
	linking = string(StateLinking)
	linked  = string(StateLinked)
	blocked = string(StateNeedsAttention)
	closed  = string(StateClosed)
)

// Transitions is the table, row by row.
var Transitions = []Transition{
	// Linking: the linked job does not exist yet.
	{From: linking, On: InEventArrives, To: linking, Note: "queued; events that need the linked job wait for it, an assignment behind them goes first"},
	{From: linking, On: InFactsOffered, To: linking, Note: "unknown facts queue like events (source reconcile); a job gone is a JobsDrifted fact"},
	{From: linking, On: InApplied, To: linked, Records: OutcomeApplied, Note: "the assignment created (or found) the linked job"},
	{From: linking, On: InNothingToDo, To: linking, Records: OutcomeSkipped, Note: "e.g. another team's assignment; when the primary job ref holds a superseded version (read from the primary), the link closes at once: Closed, queued events skipped"},
	{From: linking, On: InRedelivery, To: linking, Records: OutcomeDuplicate},
	{From: linking, On: InRefused, To: blocked, Note: "lastError set; the event stays at the head, nothing behind it moves"},
	{From: linking, On: InRetry, To: linking, Refused: true, Note: "nothing to retry"},
	{From: linking, On: InSkip, To: linking, Refused: true, Note: "nothing to skip"},
	{From: linking, On: InPause, To: "Paused (from Linking)", Note: "events queue"},
	{From: linking, On: InResume, To: linking, Refused: true, Note: "nothing to resume"},
	{From: linking, On: InUnlink, To: closed, Records: OutcomeSkipped, Note: "once no event is being applied; each queued event recorded skipped"},
	{From: linking, On: InRelease, To: linking, Refused: true, Note: "no such document is held for approval on this link"},
	{From: linking, On: InDrop, To: linking, Refused: true, Note: "no such document is held for approval on this link"},
	{From: linking, On: InGraceOver, To: notApplicable, Note: "no grace period runs before the job has a status"},
	{From: linking, On: InContinueAsNew, To: linking, Note: "queue, de-duplication memory and a pending retry travel"},

	// Linked: both jobs exist; events flow.
	{From: linked, On: InEventArrives, To: linked, Note: "queued in its side's source order"},
	{From: linked, On: InFactsOffered, To: linked, Note: "unknown facts queue (source reconcile); known ones leave no record"},
	{From: linked, On: InApplied, To: linked, Records: OutcomeApplied, Note: "a status that ends the job starts the grace period; a reopening calls it off"},
	{From: linked, On: InNothingToDo, To: linked, Records: OutcomeSkipped, Note: "the reason is the detail"},
	{From: linked, On: InRedelivery, To: linked, Records: OutcomeDuplicate},
	{From: linked, On: InRefused, To: blocked, Note: "lastError set; the event stays at the head"},
	{From: linked, On: InRetry, To: linked, Refused: true, Note: "nothing to retry"},
	{From: linked, On: InSkip, To: linked, Refused: true, Note: "nothing to skip"},
	{From: linked, On: InPause, To: pausedFromLinked, Note: "an event being applied finishes; the rest queue"},
	{From: linked, On: InResume, To: linked, Refused: true, Note: "nothing to resume"},
	{From: linked, On: InUnlink, To: closed, Records: OutcomeSkipped, Note: "once no event is being applied; each queued event recorded skipped"},
	{From: linked, On: InRelease, To: linked, Note: "the document is queued to be copied in its turn"},
	{From: linked, On: InDrop, To: linked, Note: "the document leaves the held list; never copied (operator log)"},
	{From: linked, On: InGraceOver, To: closed, Note: "with nothing queued; otherwise it closes once the queue is empty"},
	{From: linked, On: InContinueAsNew, To: linked, Note: "state, queue and memory travel; a grace period keeps its end"},

	// NeedsAttention: the head event was refused; lastError says why.
	{From: blocked, On: InEventArrives, To: blocked, Note: "queued behind the blocked event"},
	{From: blocked, On: InFactsOffered, To: blocked, Note: "unknown facts queue behind the blocked event"},
	{From: blocked, On: InApplied, To: linked, Records: OutcomeApplied, Note: "after retry: lastError cleared, the queue moves"},
	{From: blocked, On: InNothingToDo, To: linked, Records: OutcomeSkipped, Note: "after retry, e.g. with a changed configuration"},
	{From: blocked, On: InRedelivery, To: notApplicable, Note: "nothing moves while blocked"},
	{From: blocked, On: InRefused, To: blocked, Note: "after retry: lastError is the new error"},
	{From: blocked, On: InRetry, To: blocked, Note: "the blocked event runs again; a second retry or a skip is refused while it runs"},
	{From: blocked, On: InSkip, To: linked, Records: OutcomeFailed, Note: "recorded with the error, who and why; Linking if the linked job does not exist"},
	{From: blocked, On: InPause, To: pausedFromBlocked},
	{From: blocked, On: InResume, To: blocked, Refused: true, Note: "nothing to resume"},
	{From: blocked, On: InUnlink, To: closed, Records: OutcomeFailed, Note: "the blocked event recorded failed with its error, the others skipped"},
	{From: blocked, On: InRelease, To: blocked, Note: "queued behind the blocked event"},
	{From: blocked, On: InDrop, To: blocked, Note: "the document leaves the held list"},
	{From: blocked, On: InGraceOver, To: blocked, Note: "closes once the event is resolved and the queue is empty"},
	{From: blocked, On: InContinueAsNew, To: blocked, Note: "lastError and the blocked event travel"},

	// Paused, resuming into Linked.
	{From: pausedFromLinked, On: InEventArrives, To: pausedFromLinked, Note: "queued"},
	{From: pausedFromLinked, On: InFactsOffered, To: pausedFromLinked, Note: "unknown facts queue"},
	{From: pausedFromLinked, On: InApplied, To: pausedFromLinked, Records: OutcomeApplied, Note: "the event being applied when paused finishes"},
	{From: pausedFromLinked, On: InNothingToDo, To: pausedFromLinked, Records: OutcomeSkipped, Note: "the event being applied when paused finishes"},
	{From: pausedFromLinked, On: InRedelivery, To: notApplicable, Note: "nothing moves while paused"},
	{From: pausedFromLinked, On: InRefused, To: pausedFromBlocked, Note: "the event being applied when paused was refused: lastError set"},
	{From: pausedFromLinked, On: InRetry, To: pausedFromLinked, Refused: true, Note: "nothing to retry"},
	{From: pausedFromLinked, On: InSkip, To: pausedFromLinked, Refused: true, Note: "nothing to skip"},
	{From: pausedFromLinked, On: InPause, To: pausedFromLinked, Refused: true, Note: "already paused"},
	{From: pausedFromLinked, On: InResume, To: linked, Note: "queued events go ahead"},
	{From: pausedFromLinked, On: InUnlink, To: closed, Records: OutcomeSkipped},
	{From: pausedFromLinked, On: InRelease, To: pausedFromLinked, Note: "copied once resumed"},
	{From: pausedFromLinked, On: InDrop, To: pausedFromLinked},
	{From: pausedFromLinked, On: InGraceOver, To: pausedFromLinked, Note: "closes once resumed and the queue is empty"},
	{From: pausedFromLinked, On: InContinueAsNew, To: pausedFromLinked},

	// Paused, resuming into NeedsAttention.
	{From: pausedFromBlocked, On: InEventArrives, To: pausedFromBlocked, Note: "queued"},
	{From: pausedFromBlocked, On: InFactsOffered, To: pausedFromBlocked, Note: "unknown facts queue"},
	{From: pausedFromBlocked, On: InApplied, To: pausedFromLinked, Records: OutcomeApplied, Note: "a retry running when paused went through: lastError cleared (the pause-during-retry defect, fixed)"},
	{From: pausedFromBlocked, On: InNothingToDo, To: pausedFromLinked, Records: OutcomeSkipped, Note: "a retry running when paused found nothing to do"},
	{From: pausedFromBlocked, On: InRedelivery, To: notApplicable, Note: "nothing moves while paused"},
	{From: pausedFromBlocked, On: InRefused, To: pausedFromBlocked, Note: "a retry running when paused was refused again: lastError is the new error"},
	{From: pausedFromBlocked, On: InRetry, To: pausedFromBlocked, Note: "the blocked event runs once resumed"},
	{From: pausedFromBlocked, On: InSkip, To: pausedFromLinked, Records: OutcomeFailed, Note: "recorded with the error, who and why"},
	{From: pausedFromBlocked, On: InPause, To: pausedFromBlocked, Refused: true, Note: "already paused"},
	{From: pausedFromBlocked, On: InResume, To: blocked},
	{From: pausedFromBlocked, On: InUnlink, To: closed, Records: OutcomeFailed, Note: "the blocked event recorded failed with its error, the others skipped"},
	{From: pausedFromBlocked, On: InRelease, To: pausedFromBlocked, Note: "copied once resumed and unblocked"},
	{From: pausedFromBlocked, On: InDrop, To: pausedFromBlocked},
	{From: pausedFromBlocked, On: InGraceOver, To: pausedFromBlocked, Note: "closes once resumed, resolved and the queue is empty"},
	{From: pausedFromBlocked, On: InContinueAsNew, To: pausedFromBlocked},

	// Closed: finished; the workflow has completed or is completing.
	{From: closed, On: InEventArrives, To: closed, Records: OutcomeSkipped, Note: "a late event: recorded with the rules' reason, never applied; the link is not revived"},
	{From: closed, On: InFactsOffered, To: closed, Refused: true, Note: "the link is closed"},
	{From: closed, On: InApplied, To: notApplicable, Note: "a link closes only when no event is being applied"},
	{From: closed, On: InNothingToDo, To: notApplicable, Note: "nothing is applied once closed"},
	{From: closed, On: InRedelivery, To: notApplicable, Note: "nothing is applied once closed"},
	{From: closed, On: InRefused, To: notApplicable, Note: "nothing is applied once closed"},
	{From: closed, On: InRetry, To: closed, Refused: true, Note: "already closed"},
	{From: closed, On: InSkip, To: closed, Refused: true, Note: "already closed"},
	{From: closed, On: InPause, To: closed, Refused: true, Note: "already closed"},
	{From: closed, On: InResume, To: closed, Refused: true, Note: "already closed"},
	{From: closed, On: InUnlink, To: closed, Refused: true, Note: "already closed"},
	{From: closed, On: InRelease, To: closed, Refused: true, Note: "already closed"},
	{From: closed, On: InDrop, To: closed, Refused: true, Note: "already closed"},
	{From: closed, On: InGraceOver, To: notApplicable, Note: "the workflow has ended"},
	{From: closed, On: InContinueAsNew, To: notApplicable, Note: "the workflow has ended"},
}

// RenderTable renders the table in Markdown: one section per state.
func RenderTable() string {
	var b strings.Builder
	b.WriteString("Inputs:\n\n")
	for _, in := range Inputs {
		fmt.Fprintf(&b, "- **%s**: %s\n", in, InputNotes[in])
	}
	for _, from := range TableStates {
		fmt.Fprintf(&b, "\n### %s\n\n| input | becomes | records | note |\n|---|---|---|---|\n", from)
		for _, tr := range Transitions {
			if tr.From != from {
				continue
			}
			to := tr.To
			switch {
			case tr.Refused:
				to = "refused"
			case to == notApplicable:
				to = "cannot happen"
			}
			rec := string(tr.Records)
			if rec == "" {
				rec = notApplicable
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", tr.On, to, rec, tr.Note)
		}
	}
	return b.String()
}
