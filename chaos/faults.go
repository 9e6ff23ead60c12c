package chaos

import (
	"math/rand/v2"

	"github.com/o2o-sync/o2o/chaos/model"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/simulator"
)

// FaultKind is one kind of fault of issue 18, item 3.
type FaultKind string

const (
	// Webhooks of the action's event, in the system where the action happens.
	WebhookDrop      FaultKind = "webhook-drop"      // never sent: O2O learns it by reading
	WebhookDuplicate FaultKind = "webhook-duplicate" // sent twice
	WebhookReorder   FaultKind = "webhook-reorder"   // held back while later ones go ahead
	WebhookDelay     FaultKind = "webhook-delay"     // held back long (reorder with a long hold)
	ReceiverDown     FaultKind = "receiver-down"     // the webhook server stopped while it is sent (runner)

	// The API operation O2O uses for the action's write, in the system written to.
	API5xx        FaultKind = "api-5xx"
	API429        FaultKind = "api-429"
	APITimeout    FaultKind = "api-timeout"
	APILostAnswer FaultKind = "api-lost-answer" // applied, answer lost
	APISlow       FaultKind = "api-slow"
	APIOutage     FaultKind = "api-outage" // every operation of the system, many requests

	// Processes, done by the runner just before the action.
	KillWorker      FaultKind = "kill-worker"
	KillWebhook     FaultKind = "kill-webhook"
	RestartTemporal FaultKind = "restart-temporal"
)

// FaultKinds lists every kind, in the order of a summary table.
var FaultKinds = []FaultKind{WebhookDrop, WebhookDuplicate, WebhookReorder, WebhookDelay, ReceiverDown,
	API5xx, API429, APITimeout, APILostAnswer, APISlow, APIOutage, KillWorker, KillWebhook, RestartTemporal}

// The delays of APITimeout and APISlow: the runner's O2O configuration must
// set systems.*.timeout between them (configuration.md; e.g. 3s), so that one
// times out and the other only slows.
const (
	TimeoutDelay = "10s"
	SlowDelay    = "1s"
)

// Fault is one fault of a step's plan. Sim, when set, is posted to
// POST /{System}/sim/faults before the action; otherwise the runner acts
// (processes, the receiver).
type Fault struct {
	Kind   FaultKind
	System string
	Sim    *simulator.Fault
}

// eventType is the Integration Event an action makes its system send.
func eventType(a model.Action) events.Type {
	switch a.Kind {
	case model.Assign:
		return events.ActivityAssigned
	case model.Status:
		return events.JobStatusChanged
	case model.Upload:
		return events.DocumentUploaded
	case model.Approve:
		return events.DocumentApproved
	case model.Reject:
		return events.DocumentRejected
	case model.RaiseVersion:
		return events.VersionCreated
	case model.DecideVersion:
		return events.VersionStatusChanged
	case model.Appointment:
		return map[model.AppointmentKind]events.Type{model.Booked: events.AppointmentCreated,
			model.Rescheduled: events.AppointmentRescheduled, model.Cancelled: events.AppointmentCancelled,
			model.Completed: events.AppointmentCompleted}[a.AppointmentKind]
	}
	return ""
}

// writeOp is the REST operation O2O writes an action's fact with (oneserve-api.md).
func writeOp(a model.Action) string {
	switch a.Kind {
	case model.Assign:
		return simulator.OpCreateJob
	case model.Upload, model.Approve, model.Release:
		return simulator.OpUploadDocument
	case model.RaiseVersion:
		return simulator.OpAddActivityByClientRef
	case model.DecideVersion:
		if a.Side == model.Primary {
			return simulator.OpVersionStatus
		}
	case model.Retry, model.Resume:
		return simulator.OpJob // the re-read before a retried write
	}
	return simulator.OpAddEvent
}

// lossy says which deliveries the docs let a read miss (doc.go, What the model
// assumes): statuses, appointments and documents may be learned late or by
// reading. Assignments are always taken to reach O2O (the model leaves
// discovery out), and versions are not read back, so theirs are never dropped
// or reordered.
func lossy(a model.Action) bool {
	switch a.Kind {
	case model.Status, model.Appointment, model.Upload, model.Approve, model.Reject:
		return true
	}
	return false
}

// planFaults draws the faults of one action and the delivery they leave the
// model with. source is the system the action happens in (its webhooks),
// target the one O2O writes its fact to.
func planFaults(r *rand.Rand, a model.Action, source, target string) ([]Fault, model.Delivery) {
	var out []Fault
	delivery := model.Prompt
	seed := r.Uint64() >> 11 // the simulator takes seeds a JSON number holds
	if typ := eventType(a); typ != "" && source != "" && r.IntN(3) == 0 {
		kinds := []FaultKind{WebhookDuplicate, ReceiverDown}
		if lossy(a) {
			kinds = append(kinds, WebhookDrop, WebhookReorder, WebhookDelay)
		}
		k := kinds[r.IntN(len(kinds))]
		f := Fault{Kind: k, System: source}
		deliver := &simulator.Fault{Op: simulator.OpDeliver, Count: 1, Types: []events.Type{typ}, Seed: &seed}
		switch k {
		case WebhookDrop:
			deliver.Drop, delivery = 1, model.Lost
		case WebhookDuplicate:
			deliver.Duplicate = 1
		case WebhookReorder:
			deliver.Reorder, deliver.Hold, delivery = 1, "1s", model.Late
		case WebhookDelay:
			deliver.Reorder, deliver.Hold, delivery = 1, "8s", model.Late
		case ReceiverDown:
			deliver = nil
		}
		f.Sim = deliver
		out = append(out, f)
	}
	if target != "" && r.IntN(3) == 0 {
		k := []FaultKind{API5xx, API429, APITimeout, APILostAnswer, APISlow, APIOutage}[r.IntN(6)]
		op := writeOp(a)
		f := &simulator.Fault{Op: op, Count: 1}
		switch k {
		case API5xx:
			f.Status, f.Count = []int{500, 502, 503, 504}[r.IntN(4)], 1+r.IntN(3)
		case API429:
			f.Status, f.RetryAfter = 429, "1"
		case APITimeout:
			f.Delay = TimeoutDelay
		case APILostAnswer:
			f.Status, f.After = 502, true
		case APISlow:
			f.Delay = SlowDelay
		case APIOutage:
			f.Op, f.Status, f.Count = "*", 503, 10+r.IntN(20)
		}
		out = append(out, Fault{Kind: k, System: target, Sim: f})
	}
	if r.IntN(25) == 0 {
		k := []FaultKind{KillWorker, KillWebhook, RestartTemporal}[r.IntN(3)]
		out = append(out, Fault{Kind: k})
	}
	return out, delivery
}
