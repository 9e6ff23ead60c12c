package chaos

import (
	"reflect"
	"testing"

	"github.com/o2o-sync/o2o/chaos/model"
)

// The same seed gives the same life, fault plan included; another seed another.
func TestGenerateIsDeterministic(t *testing.T) {
	for seed := range uint64(20) {
		if a, b := Generate(seed), Generate(seed); !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d made two different lives:\n%s\n%s", seed, a, b)
		}
	}
	a := Generate(42)
	if reflect.DeepEqual(a.Steps, Generate(43).Steps) {
		t.Fatal("seeds 42 and 43 made the same life")
	}
}

// Over 100 seeds every life has at least MinActions user actions, and every
// action kind (but MapPriority, which needs O2O's configuration changed) and
// every fault kind occur; the model accepts every step it was given.
func TestGenerateCoversEveryKind(t *testing.T) {
	var lives []Life
	for seed := range uint64(100) {
		l := Generate(seed)
		if n := l.UserActions(); n < MinActions {
			t.Errorf("seed %d: %d user actions", seed, n)
		}
		m := model.New(Links(), Systems())
		for i, s := range l.Steps {
			if err := m.Apply(s.Action); err != nil {
				t.Fatalf("seed %d step %d (%s): the model refuses it: %v", seed, i, s.Action.Kind, err)
			}
		}
		lives = append(lives, l)
	}
	sum := Summarize(lives)
	t.Log("\n" + sum.Table())
	for k := model.Raise; k <= model.Elapse; k++ {
		if k != model.MapPriority && sum.Actions[k.String()] == 0 {
			t.Errorf("no %s in 100 lives", k)
		}
	}
	for _, k := range FaultKinds {
		if sum.Faults[k] == 0 {
			t.Errorf("no %s in 100 lives", k)
		}
	}
	for _, k := range []string{"appointment:created", "appointment:rescheduled", "appointment:cancelled", "appointment:completed",
		"decide-version:approved", "decide-version:rejected", "decide-version:cancelled", "decide-version:primary", "decide-version:secondary",
		"raise-version:primary", "raise-version:secondary", "raise-version:add", "raise-version:remove", "raise-version:quantity",
		"status:reopened", "status:Cancelled", "assign:other-team", "assign:second-activity", "upload:unshared", "add-site", "add-contact", "add-code"} {
		if sum.Variants[k] == 0 {
			t.Errorf("no %s in 100 lives", k)
		}
	}
}
