package model

import (
	"fmt"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // UK time without the host's zone files
)

// WriteKind is what O2O does to a target job.
type WriteKind string

const (
	CreateJob      WriteKind = "create-job"      // the linked job, in the secondary
	AddLine        WriteKind = "line"            // one of its lines: an activity assigned to the team
	JobEvent       WriteKind = "job-event"       // a job event (status, appointment, withdrawal, decision)
	CopyDocument   WriteKind = "document"        // a document copied from the other side
	RaiseVersionW  WriteKind = "version"         // a version raised with the other side's changes
	DecideVersionW WriteKind = "version-decided" // the secondary's version decided, with its job event
)

// Target is one job O2O writes to: the primary job, or the linked job of a link
// (named by its link and primary job, as the secondary's job ref is not known in
// advance).
type Target struct {
	Link string
	Job  string // primary job ref
	Side Side   // the system written to
}

func (t Target) String() string { return fmt.Sprintf("%s/%s/%s", t.Link, t.Job, t.Side) }

// Write is one write O2O must make (or has made, for observed writes) to a Target.
type Write struct {
	Kind WriteKind
	// Identity, as reconciliation.md "Facts and their identity" names facts.
	Status          string          // JobEvent of a status
	Appointment     string          // JobEvent of an appointment
	AppointmentKind AppointmentKind //
	Start           time.Time       // its start; compared in UK local time
	Document        string          // CopyDocument, or JobEvent of a withdrawal: the source document id
	Activity        string          // AddLine: the primary activity id
	Version         int             // RaiseVersionW, DecideVersionW, JobEvent of a decision: the source version
	Decision        Decision        //

	// Content, compared once the identity matches.
	Code     string   // JobEvent, DecideVersionW: the job event code
	Category string   // CopyDocument: the target category
	LineCode string   // AddLine: its SOR code
	Changes  []Change // RaiseVersionW

	// Optional: O2O may not be able to know this fact (a status passed through while
	// its webhook was lost); if present, it is still once and in order.
	Optional bool
	// Unordered: its place among the target's writes is not promised (a fact learned
	// by reading, a late delivery, a line joined to a job being created).
	Unordered bool
}

// Key is the write's identity in its target. Two expected writes may share a key (a
// status reached twice); the n-th observed is matched with the n-th expected.
func (w Write) Key() string {
	switch w.Kind {
	case CreateJob:
		return "job"
	case AddLine:
		return "line:" + w.Activity
	case CopyDocument:
		return "document:" + w.Document
	case RaiseVersionW:
		return fmt.Sprintf("version:%d", w.Version)
	case DecideVersionW:
		return fmt.Sprintf("version:%d:%s", w.Version, w.Decision)
	}
	switch {
	case w.Status != "":
		return "event:status:" + w.Status
	case w.Appointment != "" && w.AppointmentKind == Rescheduled:
		return "event:appointment:" + w.Appointment + ":at:" + UK(w.Start)
	case w.Appointment != "":
		return "event:appointment:" + w.Appointment + ":" + string(w.AppointmentKind)
	case w.Document != "":
		return "event:withdrawn:" + w.Document
	case w.Decision != "":
		return fmt.Sprintf("event:version:%d:%s", w.Version, w.Decision)
	}
	return "event:" + w.Code
}

// Facts is what is compared once a write's identity matched.
func (w Write) Facts() string {
	var ch []string
	for _, c := range w.Changes {
		ch = append(ch, c.Change+":"+c.Code+"x"+c.Quantity)
	}
	start := ""
	if w.Appointment != "" {
		start = UK(w.Start)
	}
	return fmt.Sprintf("code=%s category=%s sor=%s start=%s changes=%s",
		w.Code, w.Category, w.LineCode, start, strings.Join(ch, ","))
}

func (w Write) String() string { return w.Key() + " {" + w.Facts() + "}" }

var london, _ = time.LoadLocation("Europe/London") // never fails: time/tzdata is linked in

// UK is t as UK local date and time, to the minute: appointment job events carry
// "the date and time (UK)" (README, What syncs).
func UK(t time.Time) string { return t.In(london).Format("2006-01-02 15:04") }

// DivergenceKind is how an observed target differs from the model.
type DivergenceKind string

const (
	Missing    DivergenceKind = "missing"      // expected, not observed
	Duplicated DivergenceKind = "duplicated"   // observed more often than expected
	Unexpected DivergenceKind = "unexpected"   // observed, never expected
	OutOfOrder DivergenceKind = "out-of-order" // observed before a write that must precede it
	Differs    DivergenceKind = "differs"      // identity matches, content does not
)

// Divergence is one difference between the model and a target.
type Divergence struct {
	Kind   DivergenceKind
	Target Target
	Write  Write
	Detail string
}

func (d Divergence) String() string {
	s := fmt.Sprintf("%s %s: %s", d.Target, d.Kind, d.Write)
	if d.Detail != "" {
		s += " (" + d.Detail + ")"
	}
	return s
}

// Compare holds the writes observed in each target against the expected ones. Every
// target of either map is compared; a target with no expected writes must have none.
func Compare(expected, observed map[Target][]Write) []Divergence {
	targets := map[Target]bool{}
	for t := range expected {
		targets[t] = true
	}
	for t := range observed {
		targets[t] = true
	}
	var ts []Target
	for t := range targets {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].String() < ts[j].String() })
	var out []Divergence
	for _, t := range ts {
		out = append(out, compareTarget(t, expected[t], observed[t])...)
	}
	return out
}

// compareTarget: the n-th observed write of a key is the n-th expected of that key;
// order is checked among the ordered expected writes that were observed.
func compareTarget(t Target, exp, obs []Write) []Divergence {
	var out []Divergence
	count := map[string]int{}
	for _, o := range obs {
		count[o.Key()]++
	}
	all := map[string][]int{} // expected indices by key
	for i, w := range exp {
		all[w.Key()] = append(all[w.Key()], i)
	}
	// Where fewer were observed than expected, the optional ones (earliest first)
	// are the ones O2O could not know: leave them out of the matching.
	byKey := map[string][]int{}
	for k, idx := range all {
		drop := len(idx) - count[k]
		for _, i := range idx {
			if drop > 0 && exp[i].Optional {
				drop--
				continue
			}
			byKey[k] = append(byKey[k], i)
		}
	}
	seen := map[string]int{}
	matched := make([]bool, len(exp))
	last := -1 // index of the last ordered expected write matched
	for _, o := range obs {
		k := o.Key()
		idx := byKey[k]
		n := seen[k]
		seen[k]++
		switch {
		case len(all[k]) == 0:
			out = append(out, Divergence{Kind: Unexpected, Target: t, Write: o})
			continue
		case n >= len(idx):
			out = append(out, Divergence{Kind: Duplicated, Target: t, Write: o,
				Detail: fmt.Sprintf("observed %d times, expected %d", count[k], len(idx))})
			continue
		}
		i := idx[n]
		e := exp[i]
		matched[i] = true
		if !e.Optional && o.Facts() != e.Facts() {
			out = append(out, Divergence{Kind: Differs, Target: t, Write: o, Detail: "expected " + e.Facts()})
		}
		if e.Unordered {
			continue
		}
		if i < last {
			out = append(out, Divergence{Kind: OutOfOrder, Target: t, Write: o,
				Detail: "expected before " + exp[last].Key()})
			continue
		}
		last = i
	}
	for i, e := range exp {
		if !matched[i] && !e.Optional {
			out = append(out, Divergence{Kind: Missing, Target: t, Write: e})
		}
	}
	return out
}
