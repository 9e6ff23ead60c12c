package chaos

import (
	"fmt"
	"sort"
	"strings"

	"github.com/o2o-sync/o2o/chaos/model"
)

// Summary counts lives' steps by action kind, by variant (what a kind did:
// an appointment's change, a version's side, a reopening, ...) and by fault
// kind, for the run's summary table.
type Summary struct {
	Lives    int
	Actions  map[string]int
	Variants map[string]int
	Faults   map[FaultKind]int
}

// Summarize counts the steps of lives.
func Summarize(lives []Life) Summary {
	s := Summary{Lives: len(lives), Actions: map[string]int{}, Variants: map[string]int{}, Faults: map[FaultKind]int{}}
	for _, l := range lives {
		status := map[string]string{} // job/side → status
		assigned := map[string]int{}  // job → activities assigned to a link's team
		for _, st := range l.Steps {
			a := st.Action
			s.Actions[a.Kind.String()]++
			for _, v := range variants(a, status, assigned) {
				s.Variants[a.Kind.String()+":"+v]++
			}
			if a.Kind == model.AddSite || a.Kind == model.AddContact || a.Kind == model.AddCode {
				s.Variants[a.Kind.String()]++
			}
			for _, f := range st.Faults {
				s.Faults[f.Kind]++
			}
		}
	}
	return s
}

func variants(a model.Action, status map[string]string, assigned map[string]int) []string {
	switch a.Kind {
	case model.Appointment:
		return []string{string(a.AppointmentKind)}
	case model.DecideVersion:
		return []string{string(a.Decision), a.Side.String()}
	case model.RaiseVersion:
		out := []string{a.Side.String()}
		for _, c := range a.Changes {
			out = append(out, c.Change)
		}
		return out
	case model.Status:
		key := a.System + "/" + a.Job + "/" + a.Side.String()
		prev := status[key]
		status[key] = a.Status
		out := []string{a.Status}
		if prev == "Completed" || prev == "Cancelled" {
			out = append(out, "reopened")
		}
		return out
	case model.Assign:
		if a.Team != systems[a.System].team {
			return []string{"other-team"}
		}
		assigned[a.System+"/"+a.Job]++
		if assigned[a.System+"/"+a.Job] > 1 {
			return []string{"second-activity"}
		}
	case model.Upload:
		if a.Category == "Internal" {
			return []string{"unshared"}
		}
	}
	return nil
}

// Table renders the summary as a plain text table.
func (s Summary) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d lives\n", s.Lives)
	table := func(title string, m map[string]int) {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		fmt.Fprintf(&b, "%s:\n", title)
		for _, k := range ks {
			fmt.Fprintf(&b, "  %-28s %6d\n", k, m[k])
		}
	}
	table("actions", s.Actions)
	table("variants", s.Variants)
	faults := map[string]int{}
	for _, k := range FaultKinds {
		faults[string(k)] = s.Faults[k]
	}
	table("faults", faults)
	return b.String()
}
