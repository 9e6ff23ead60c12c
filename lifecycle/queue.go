package lifecycle

import (
	"slices"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/rules"
)

// queue holds the events a link has received but not finished, in the order
// they will be applied.
type queue []events.Event

// insert takes in a delivered event. Events of one side are kept in the
// order their source produced them: an event that arrives late (a sender's
// retry overtaken by a later event) goes before the later ones still
// waiting. A fixed head (being applied, or blocked) is never overtaken.
func (q queue) insert(ev events.Event, headFixed bool) queue {
	pos := len(q)
	for j := len(q) - 1; j >= 0; j-- {
		if headFixed && j == 0 {
			break
		}
		if q[j].Side != ev.Side {
			continue
		}
		if !q[j].OccurredAt.After(ev.OccurredAt) {
			break
		}
		pos = j
	}
	return slices.Insert(q, pos, ev)
}

// ready returns the index of the first event that can be applied now, or
// -1. Events that need the linked job wait, in order, until it exists; an
// assignment behind them may go first because it is what creates the job. A
// redelivery may go first too: it is only recorded.
func (q queue) ready(linked bool, seen *seenIDs) int {
	for i, ev := range q {
		if linked || !rules.NeedsLinkedJob(ev) || seen.has(ev.ID) {
			return i
		}
	}
	return -1
}

// toFront moves the event at i to the head, so that events arriving while
// it is applied queue behind it.
func (q queue) toFront(i int) queue {
	if i == 0 {
		return q
	}
	ev := q[i]
	return append(queue{ev}, slices.Delete(q, i, i+1)...)
}

// maxSeenIDs bounds the event-id memory used to drop redeliveries. It is far
// larger than any sender's redelivery window for one job.
const maxSeenIDs = 5000

// seenIDs remembers the most recent event ids, oldest first. It is a plain
// slice so that it serialises deterministically through continue-as-new; the
// index is rebuilt on load.
type seenIDs struct {
	order []string
	index map[string]bool
}

func newSeenIDs(ids []string) *seenIDs {
	s := &seenIDs{index: make(map[string]bool, len(ids))}
	for _, id := range ids {
		s.add(id)
	}
	return s
}

func (s *seenIDs) has(id string) bool { return s.index[id] }

func (s *seenIDs) add(id string) {
	if s.index[id] {
		return
	}
	s.order = append(s.order, id)
	s.index[id] = true
	if len(s.order) > maxSeenIDs {
		delete(s.index, s.order[0])
		s.order = s.order[1:]
	}
}
