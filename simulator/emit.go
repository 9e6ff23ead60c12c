package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/o2o-sync/o2o/events"
)

// This file builds Integration Event bodies in exactly the shape
// events.Decode accepts (docs in events/events.go) and queues them.

// SimActor is the user name that changes made through /sim are attributed
// to: a made-up person at the keyboard of the simulated system.
const SimActor = "sim-user"

// eventBody is the webhook envelope.
type eventBody struct {
	Type      events.Type `json:"type"`
	Timestamp string      `json:"timestamp"`
	Data      eventData   `json:"data"`
}

// eventData is the union of every event type's data. Fields that a type
// does not carry stay empty and are left out.
type eventData struct {
	JobRef       string `json:"jobRef"`
	JobClientRef string `json:"jobClientRef,omitempty"`
	Actor        string `json:"actor,omitempty"`

	// ACTIVITY_ASSIGNED
	ActivityID string `json:"activityId,omitempty"`
	TeamID     string `json:"teamId,omitempty"`
	TeamName   string `json:"teamName,omitempty"`

	// JOB_STATUS_CHANGED
	Status         string `json:"status,omitempty"`
	StatusID       string `json:"statusId,omitempty"`
	PreviousStatus string `json:"previousStatus,omitempty"`

	// APPOINTMENT_* (Reason: DOCUMENT_APPROVED and DOCUMENT_REJECTED too)
	AppointmentID string `json:"appointmentId,omitempty"`
	Start         string `json:"start,omitempty"`
	End           string `json:"end,omitempty"`
	PreviousStart string `json:"previousStart,omitempty"`
	Reason        string `json:"reason,omitempty"`

	// DOCUMENT_UPLOADED, DOCUMENT_APPROVED, DOCUMENT_REJECTED
	DocumentID string `json:"documentId,omitempty"`
	FileName   string `json:"fileName,omitempty"`
	Category   string `json:"category,omitempty"`
	Size       string `json:"size,omitempty"`
	SHA256     string `json:"sha256,omitempty"`
	ClientRef  string `json:"clientRef,omitempty"`

	// VERSION_CREATED, VERSION_STATUS_CHANGED (with Status and Reason)
	Version               string              `json:"version,omitempty"`
	PreviousVersionJobRef string              `json:"previousVersionJobRef,omitempty"`
	Changes               []events.LineChange `json:"changes,omitempty"`
}

func jobData(job *Job, actor string) eventData {
	return eventData{JobRef: job.JobRef, JobClientRef: job.ClientRef, Actor: actor}
}

func appointmentData(t events.Type, job *Job, actor string, a *Appointment) eventData {
	d := jobData(job, actor)
	d.AppointmentID = a.ID
	d.Start = a.Start.Format(time.RFC3339)
	d.End = a.End.Format(time.RFC3339)
	switch t {
	case events.AppointmentRescheduled:
		if a.PreviousStart != nil {
			d.PreviousStart = a.PreviousStart.Format(time.RFC3339)
		}
		d.Reason = a.Reason
	case events.AppointmentCancelled:
		d.Reason = a.Reason
	}
	return d
}

func documentData(job *Job, actor string, doc *Document) eventData {
	d := jobData(job, actor)
	d.DocumentID, d.FileName, d.Category = doc.DocumentID, doc.FileName, doc.Category
	d.Size, d.SHA256, d.ClientRef = doc.Size, doc.SHA256, doc.ClientRef
	return d
}

// emit records an event in the system's outbox and wakes its sender. Events
// are queued under the lock that guards the change they describe, so the
// outbox order is the order in which the changes happened.
func (sys *system) emit(t events.Type, d eventData) {
	now := sys.sim.now()
	body, err := json.Marshal(eventBody{Type: t, Timestamp: now.UTC().Format(time.RFC3339Nano), Data: d})
	if err != nil {
		// Only strings are marshalled; this cannot happen.
		panic("simulator: marshal event: " + err.Error())
	}
	ob := &sys.outbox
	ob.nextSeq++
	ev := &OutboxEvent{
		Seq:       ob.nextSeq,
		ID:        newMessageID(),
		Type:      t,
		JobRef:    d.JobRef,
		Body:      body,
		CreatedAt: now,
	}
	ob.lastID = ev.ID
	var fate fate
	if sys.seed.sendsWebhooks() {
		fate = sys.fateOf(t)
	}
	switch {
	case !sys.seed.sendsWebhooks():
		ev.State = StateRecorded
		ob.finish(ev)
	case fate.drop:
		ob.drop(ev)
		sys.sim.log.Info("webhook dropped (fault)", "system", sys.seed.Name, "id", ev.ID, "type", string(t))
	default:
		ev.State = StatePending
		ev.duplicate = fate.duplicate
		if fate.hold > 0 {
			ev.HeldBack, ev.notBefore = true, time.Now().Add(fate.hold)
		}
		ob.pending = append(ob.pending, ev)
		select {
		case ob.wake <- struct{}{}:
		default: // already signalled
		}
	}
	sys.sim.log.Info("event emitted", "system", sys.seed.Name, "id", ev.ID, "type", string(t),
		"jobRef", d.JobRef, "seq", strconv.Itoa(ev.Seq))
	sys.sim.notifyLocked()
}

// newMessageID returns a webhook-id: unique per event and reused on every
// redelivery, so receivers can de-duplicate.
func newMessageID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return "msg_" + hex.EncodeToString(b)
}
