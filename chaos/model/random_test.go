package model

import (
	"math/rand/v2"
	"testing"
)

// Random lives: the model never panics, lastError is set exactly when a link needs
// attention (or is paused from it, which the model shows as Paused), a closed link
// is never revived, and an expectation compared with itself shows no divergence.
func TestRandomLives(t *testing.T) {
	states, writes := map[State]int{}, 0
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 18))
		m := New([]Link{acmeFixit()}, systems())
		pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
		closed := false
		first := raise("J", pick("PLB001", "RAD01"), pick("PLB002", "RAD02"))
		first.Site = pick("SITE-001", "SITE-001", "SITE-003")
		_ = m.Apply(first)
		for range 60 {
			job := "J"
			var a Action
			switch r.IntN(12) {
			case 0, 1:
				a = assign(job, pick("a", "b"), pick("7", "9"))
			case 2:
				a = status(Side(r.IntN(2)), job, pick("Accepted", "On Hold", "Completed", "Cancelled", "In Progress"))
				a.Delivery = Delivery(r.IntN(3))
			case 3:
				a = appt(job, pick("A1", "A2"), AppointmentKind(pick("created", "rescheduled", "cancelled", "completed")), r.IntN(5))
				a.Delivery = Delivery(r.IntN(3))
			case 4:
				a = doc([]Kind{Upload, Approve, Reject}[r.IntN(3)], Side(r.IntN(2)), job, pick("D1", "D2"), pick("Photos", "Site Photos", "Certificates", "Other"))
			case 5:
				a = raiseV(Side(r.IntN(2)), job, Change{"add", pick("PLB001", "RAD01"), "1"})
			case 6:
				a = decide(Side(r.IntN(2)), job, 1+r.IntN(3), Decision(pick("approved", "rejected", "cancelled")))
			case 7:
				a = Action{Kind: []Kind{AddSite, AddCode}[r.IntN(2)], System: pick("acme", "fixit"), Site: "SITE-003", Code: pick("RAD01", "RAD02")}
			case 8:
				a = doc([]Kind{Release, Drop}[r.IntN(2)], Side(r.IntN(2)), job, pick("D1", "D2"), "")
			case 9:
				a = Action{Kind: Elapse}
				if r.IntN(4) > 0 {
					a = status(Primary, job, "In Progress")
				}
			default:
				a = op([]Kind{Pause, Resume, Retry, Skip, Retry, Resume}[r.IntN(6)], job)
				if r.IntN(30) == 0 {
					a = op(Unlink, job)
				}
			}
			before := m.Expect()
			_ = m.Apply(a)
			after := m.Expect()
			for _, l := range after.Links {
				if l.State == NeedsAttention && l.LastError == "" || l.LastError != "" && l.State != NeedsAttention && l.State != Paused {
					t.Fatalf("seed %d: %s with lastError %q", seed, l.State, l.LastError)
				}
				if closed && l.State != Closed {
					t.Fatalf("seed %d: a closed link revived by %s", seed, a.Kind)
				}
				closed = l.State == Closed
			}
			if closed && len(before.Links) == 1 && before.Links[0].State == Closed {
				for tg, ws := range after.Writes {
					if len(ws) != len(before.Writes[tg]) {
						t.Fatalf("seed %d: %s wrote to a closed link", seed, a.Kind)
					}
				}
			}
		}
		if len(m.Expect().Links) == 0 {
			continue
		}
		states[m.Expect().Links[0].State]++
		for _, ws := range m.Expect().Writes {
			writes += len(ws)
		}
		if ds := Compare(m.Expect().Writes, m.Expect().Writes); len(ds) > 0 {
			t.Fatalf("seed %d: the expectation diverges from itself: %v", seed, ds)
		}
	}
	// The lives must reach every state, or the test proves little.
	if len(states) != 5 || writes < 500 {
		t.Errorf("final states %v, %d writes in all", states, writes)
	}
	t.Logf("final states %v, %d writes in all", states, writes)
}
