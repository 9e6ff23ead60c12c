// Package linktest is the link the unit tests of the lifecycle machine and
// the LinkedJob workflow share: acme (primary, team 7) → fixit, its
// configuration and its events. It is for tests only.
package linktest

import (
	"strings"
	"time"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/rules"
)

// Name is the link's name; PrimaryJobRef and SecondaryJobRef are its jobs.
const (
	Name            = "acme-fixit"
	PrimaryJobRef   = "AC000001"
	SecondaryJobRef = "FX000001"
)

// YAML is the configuration: only the secondary's Accepted and In Progress
// statuses and the primary's Cancelled status are mapped.
const YAML = `
systems:
  acme: {baseURL: "http://acme.invalid", authTokenEnv: T, webhookSecretsEnv: S, apiUser: o2o-api}
  fixit: {baseURL: "http://fixit.invalid", authTokenEnv: T, webhookSecretsEnv: S, apiUser: o2o-api}
links:
  - name: acme-fixit
    primary: {system: acme, client: {name: Acme, id: 28}, team: {name: Fixit, id: 7}}
    secondary:
      system: fixit
      workLogType: {name: R, id: 3}
      workType: {name: P, id: 12}
      workflow: {name: S, id: 4}
      client: {name: Acme, id: 41}
      service: {name: P, id: 9}
      acceptedStatus: Accepted
    priorities: [{primary: {name: Emergency, id: 1}, secondary: {name: P1, id: 11}}]
    documentCategories: [{primary: Gas Certificate, secondary: Certificates}, {primary: Photos, secondary: Site Photos}]
    statusEvents:
      primaryToSecondary: [{status: Cancelled, eventCode: PCAN}]
      secondaryToPrimary: [{status: Accepted, eventCode: SACC}, {status: In Progress, eventCode: SPROG}]
    appointmentEvents: {created: APPT, rescheduled: RESCH, cancelled: APCAN, completed: APCOM}
`

// Config parses YAML with made-up secrets.
func Config() *config.Config {
	cfg, err := config.Parse([]byte(YAML), config.Options{Getenv: Getenv})
	if err != nil {
		panic(err)
	}
	return cfg
}

// Getenv is the made-up environment of YAML: a webhook secret in S, a
// token in every other variable, and no *_FILE variant of any.
func Getenv(k string) string {
	switch {
	case strings.HasSuffix(k, "_FILE"):
		return ""
	case k == "S":
		return "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	}
	return "token"
}

// Rules is the link as the rules see it.
func Rules() rules.Link {
	return rules.Link{Config: *Config().Link(Name), PrimaryAPIUser: "o2o-api", SecondaryAPIUser: "o2o-api"}
}

// T0 is when the tests' events start.
var T0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// Assignment is an ACTIVITY_ASSIGNED of the primary job.
func Assignment(id, activityID, team string, at time.Time) events.Event {
	return events.Event{ID: id, System: "acme", Side: events.Primary, Type: events.ActivityAssigned, OccurredAt: at,
		JobRef: PrimaryJobRef, Assignment: &events.Assignment{ActivityID: activityID, TeamID: team}}
}

// Status is a JOB_STATUS_CHANGED on one side.
func Status(id string, side events.Side, status string, at time.Time) events.Event {
	ev := events.Event{ID: id, Side: side, Type: events.JobStatusChanged, OccurredAt: at, Status: &events.StatusChange{Status: status}}
	if side == events.Primary {
		ev.System, ev.JobRef = "acme", PrimaryJobRef
	} else {
		ev.System, ev.JobRef, ev.JobClientRef = "fixit", SecondaryJobRef, PrimaryJobRef
	}
	return ev
}
