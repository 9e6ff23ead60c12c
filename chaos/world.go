// Package chaos runs random job lives against simulated Oneserve systems and
// checks what O2O wrote against package model (issue 18). This layer has no
// Temporal in it: Generate makes a seeded life and its fault plan, an
// Executor performs the life's user actions over the simulator's /sim API,
// and Observe reads back O2O's writes in the form model.Compare takes. The
// runner that starts O2O, injects the plan's faults and waits where a step
// says comes on top.
package chaos

import (
	"time"

	"github.com/o2o-sync/o2o/chaos/model"
)

// The world every life is played in: simulator.yaml seeds the simulated
// systems, and these are the same facts as the model and the generator see
// them. O2O's configuration for the runner must say the same (link names,
// teams, codes, categories, approval and versions).

// SeedFile is the simulator seed of the chaos systems, relative to this package.
const SeedFile = "simulator.yaml"

// APIUser is the user every system records O2O's writes under (simulator.yaml).
const APIUser = "o2o-api"

// system is one simulated system as the generator and the executor need it.
type system struct {
	name     string
	clientID string // the client whose jobs a life raises (primaries) or O2O creates (per link, secondaries)
	team     string // the link's team (primaries)
	other    string // a team no link watches (primaries; "" = none)
	sites    []string
	contact  map[string]string // site → its contact in this system
	codes    []string          // SOR codes a user may raise lines with
}

var systems = map[string]system{
	"acme": {name: "acme", clientID: "28", team: "7", other: "8",
		sites:   []string{"SITE-001", "SITE-002", "SITE-003", "SITE-004"},
		contact: map[string]string{"SITE-001": "CON-001", "SITE-002": "CON-002", "SITE-003": "CON-003", "SITE-004": "CON-004"},
		codes:   []string{"PLB001", "PLB002", "RAD01", "ELE001"}},
	"bravo": {name: "bravo", clientID: "28", team: "5",
		sites:   []string{"SITE-001"},
		contact: map[string]string{"SITE-001": "CON-001"},
		codes:   []string{"PLB001", "PLB002", "RAD01"}},
	"fixit": {name: "fixit", codes: []string{"PLB001", "PLB002", "RAD01", "GAS001"}},
}

// secondaryClient is the client of fixit that each link's jobs are created under.
var secondaryClient = map[string]string{"acme-fixit": "41", "bravo-fixit": "42"}

// linkOf names the link of a primary system (each primary has one here).
var linkOf = map[string]string{"acme": "acme-fixit", "bravo": "bravo-fixit"}

// Links is the links' configuration as the model reads it.
func Links() []model.Link {
	link := func(name, primary, team string) model.Link {
		return model.Link{
			Name: name, Primary: primary, Secondary: "fixit", Team: team,
			AcceptedStatus: "Accepted",
			Priorities:     []string{"Emergency", "Urgent", "Routine"},
			StatusEvents: map[model.Side]map[string]string{
				model.Primary:   {"Cancelled": "PCAN", "On Hold": "PHOLD"},
				model.Secondary: {"Accepted": "SACC", "Completed": "SCOMP", "Cancelled": "SCAN"},
			},
			AppointmentEvents: map[model.AppointmentKind]string{model.Booked: "APPT", model.Rescheduled: "RESCH",
				model.Cancelled: "APCAN", model.Completed: "APCOM"},
			Categories: []model.Category{{Primary: "Gas Certificate", Secondary: "Certificates"}, {Primary: "Photos", Secondary: "Site Photos"}},
			Approval:   map[model.Side]bool{model.Secondary: true},
			Withdrawn:  map[model.Side]string{model.Secondary: "SDOCWD"},
			Versions:   true,
			VersionEvents: map[model.Side]map[model.Decision]string{
				model.Primary:   {model.Approved: "PVAPP", model.Rejected: "PVREJ", model.VersionCanceled: "PVCAN"},
				model.Secondary: {model.Approved: "SVAPP", model.Rejected: "SVREJ", model.VersionCanceled: "SVCAN"},
			},
		}
	}
	return []model.Link{link("acme-fixit", "acme", "7"), link("bravo-fixit", "bravo", "5")}
}

// Systems is the systems' reference data as the model reads it (simulator.yaml).
// A site lists the contacts the system has at all: the simulator and O2O refuse
// a contact only when the system does not know it.
func Systems() []model.System {
	codes := func(cs ...string) map[string]bool {
		m := map[string]bool{}
		for _, c := range cs {
			m[c] = true
		}
		return m
	}
	return []model.System{
		{Name: "acme", Sites: map[string][]string{"SITE-001": {"CON-001"}, "SITE-002": {"CON-002"}, "SITE-003": {"CON-003"}, "SITE-004": {"CON-004"}},
			Codes: codes("PLB001", "PLB002", "RAD01", "ELE001")},
		{Name: "bravo", Sites: map[string][]string{"SITE-001": {"CON-001"}}, Codes: codes("PLB001", "PLB002", "RAD01")},
		{Name: "fixit", Sites: map[string][]string{"SITE-001": {"CON-001"}, "SITE-002": {"CON-002"}, "SITE-004": nil},
			Codes: codes("PLB001", "PLB002", "RAD01", "GAS001")},
	}
}

// t0 is when every life's appointments are counted from (a BST date, so UK
// time and UTC differ).
var t0 = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

// ConfigFile is O2O's configuration for the runner, relative to this package:
// the same links as Links (config_test.go checks it).
const ConfigFile = "o2o.yaml"
