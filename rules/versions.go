package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/o2o-sync/o2o/events"
)

// Variations: a version of the linked job raised on one side (lines added,
// removed or changed in quantity) is raised on the other with the same
// changes; the side that did not raise it decides it, and the decision
// travels back: the primary's decision is applied to the secondary's version
// (with a job event carrying the reason), the secondary's decision on a
// scope change raised in the primary reaches the primary as a job event.

// VersionPair links a version on each side: the one raised and the one O2O
// raised to mirror it.
type VersionPair struct {
	RaisedBy  events.Side `json:"raisedBy"`
	Primary   int         `json:"primary"`
	Secondary int         `json:"secondary"`
}

// Number is the pair's version number on side.
func (p VersionPair) Number(side events.Side) int {
	if side == events.Secondary {
		return p.Secondary
	}
	return p.Primary
}

// VersionSpec is a version to raise on the Target side of a Command.
type VersionSpec struct {
	// SourceNumber is the version it mirrors, on the other side.
	SourceNumber int    `json:"sourceNumber"`
	Reason       string `json:"reason,omitempty"`
	// Lines are the changes, naming the target side's lines: an add gives
	// the new line's code, quantity and client ref (the source line's id,
	// so later changes find it); a remove or quantity change names the
	// target line by activity id or client ref.
	Lines []events.LineChange `json:"lines"`
}

// VersionDecision is a decision to apply to the Target side's version.
type VersionDecision struct {
	Number int    `json:"number"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// The version decisions that travel.
var versionDecisions = []string{"Approved", "Rejected", "Cancelled"}

func decideVersion(l Link, f Facts, ev events.Event) Command {
	c := l.Config
	if !c.Versions.Enabled {
		return skip("versions are not synchronised on this link (versions.enabled)")
	}
	v := ev.Version
	if ev.Type == events.VersionCreated {
		return Command{Action: CreateVersion, Target: other(ev.Side), Version: &VersionSpec{
			SourceNumber: v.Number, Reason: v.Reason, Lines: mirrorLines(ev.Side, v.Changes)}}
	}
	// A status change.
	status, ok := decision(v.Status)
	if !ok {
		return skip(fmt.Sprintf("version %d of %s is now %s: only approvals, rejections and cancellations travel", v.Number, ev.JobRef, v.Status))
	}
	i := slices.IndexFunc(f.Versions, func(p VersionPair) bool { return p.Number(ev.Side) == v.Number })
	switch {
	case i < 0:
		return skip(fmt.Sprintf("version %d of %s %s is not linked to a version in the other system", v.Number, ev.System, ev.JobRef))
	case f.Versions[i].RaisedBy == ev.Side:
		return skip(fmt.Sprintf("version %d was raised in %s; its decision is taken in the other system", v.Number, ev.System))
	}
	p := f.Versions[i]
	note := fmt.Sprintf("Version %d %s in %s", v.Number, strings.ToLower(status), ev.System)
	if r := strings.TrimSpace(v.Reason); r != "" {
		note += ". Reason: " + r
	}
	target := other(ev.Side)
	note += fmt.Sprintf(" [version %d here]", p.Number(target))
	cmd := Command{Action: AddJobEvent, Target: target, EventCode: c.VersionEventCode(ev.Side, status), Note: note, Date: ev.OccurredAt}
	if ev.Side == events.Primary {
		// The contractor decided the subcontractor's variation: decide it there too.
		cmd.Action = DecideVersion
		cmd.Decision = &VersionDecision{Number: p.Number(target), Status: status, Reason: v.Reason}
	}
	return cmd
}

func decision(status string) (string, bool) {
	i := slices.IndexFunc(versionDecisions, func(d string) bool { return strings.EqualFold(d, status) })
	if i < 0 {
		return "", false
	}
	return versionDecisions[i], true
}

// mirrorLines says the source's line changes in the target's terms. Lines
// O2O makes carry their source line's id as client ref (a secondary line
// made from a primary activity, a primary line added by a mirrored
// variation). So a target line is the one whose client ref is the source
// line's id, or else the one whose id is the source line's client ref; the
// activity resolves which (ActivityID and ClientRef below are those two
// candidates). A new line gets the source line's id as its client ref.
func mirrorLines(_ events.Side, changes []events.LineChange) []events.LineChange {
	out := make([]events.LineChange, 0, len(changes))
	for _, ch := range changes {
		m := events.LineChange{Change: ch.Change, Code: ch.Code, Quantity: ch.Quantity, ClientRef: ch.ActivityID}
		if ch.Change != "add" {
			m.ActivityID = ch.ClientRef
		}
		out = append(out, m)
	}
	return out
}
