package model

import "strings"

// Side is one of a link's two systems.
type Side int

const (
	Primary   Side = iota // where the job originates (the contractor)
	Secondary             // where O2O creates the linked job (the subcontractor)
)

func (s Side) String() string {
	if s == Primary {
		return "primary"
	}
	return "secondary"
}

// Other is the side a fact of s is written to.
func (s Side) Other() Side { return 1 - s }

// Link is the part of one links[] entry the model needs, named as in
// docs/configuration.md ("links"). It is the model's own type, not config.Link, so
// that a reviewer can hold it against that table line by line.
type Link struct {
	Name      string // links[].name
	Primary   string // primary.system
	Secondary string // secondary.system
	Team      string // primary.team.id: assigning an activity to it creates the linked job

	PrimaryEnd       []string // primary.endStatuses (default Completed, Cancelled)
	PrimaryCancelled []string // primary.cancelledStatuses (default Cancelled)
	SecondaryEnd     []string // secondary.endStatuses (default Completed, Cancelled)
	AcceptedStatus   string   // secondary.acceptedStatus; must be mapped in StatusEvents[Secondary]

	// Priorities lists the primary priority names that are mapped
	// (priorities[].primary.name, matched case-insensitively).
	Priorities []string

	// StatusEvents maps, per source side, a status name to the job event code written
	// on the other side (statusEvents.primaryToSecondary / .secondaryToPrimary).
	StatusEvents map[Side]map[string]string

	// AppointmentEvents are the primary's job event codes for the secondary's
	// appointment changes (appointmentEvents.created, .rescheduled, .cancelled, .completed).
	AppointmentEvents map[AppointmentKind]string

	// Categories are the shared document categories (documentCategories).
	Categories []Category

	// Approval says, per source side, whether documentApproval is "required".
	Approval map[Side]bool
	// Withdrawn is documentApproval.withdrawnEvents, per source side of the document:
	// the job event code written on the other side when an approval is withdrawn after
	// the copy ("" = only recorded).
	Withdrawn map[Side]string

	// Versions is versions.enabled; VersionEvents its job event codes per deciding
	// side (versions.events.primaryToSecondary / .secondaryToPrimary).
	Versions      bool
	VersionEvents map[Side]map[Decision]string
}

// Category is one documentCategories entry.
type Category struct{ Primary, Secondary string }

// WithDefaults fills the keys docs/configuration.md gives defaults for.
func (l Link) WithDefaults() Link {
	if l.PrimaryEnd == nil {
		l.PrimaryEnd = []string{"Completed", "Cancelled"}
	}
	if l.PrimaryCancelled == nil {
		l.PrimaryCancelled = []string{"Cancelled"}
	}
	if l.SecondaryEnd == nil {
		l.SecondaryEnd = []string{"Completed", "Cancelled"}
	}
	return l
}

// category is the category a document of side s in cat is copied into, if shared.
func (l *Link) category(s Side, cat string) (string, bool) {
	for _, c := range l.Categories {
		if s == Primary && c.Primary == cat {
			return c.Secondary, true
		}
		if s == Secondary && c.Secondary == cat {
			return c.Primary, true
		}
	}
	return "", false
}

// priorityMapped: "Matched by name, case-insensitively" (configuration.md, priorities).
func (l *Link) priorityMapped(p string) bool {
	for _, q := range l.Priorities {
		if strings.EqualFold(p, q) {
			return true
		}
	}
	return false
}

// System is the reference data of one system that O2O's writes are checked against
// (operations.md, Known limits: "the secondary checks them when the job is created").
type System struct {
	Name string
	// Sites maps a site ref to the contact refs it has (operations.md, starter check:
	// "its contact must be one of that site's contacts").
	Sites map[string][]string
	// Codes are the SOR codes the system knows.
	Codes map[string]bool
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// JobEvent is the write a job event with code, found in the job of side target,
// stands for as far as its code tells (a status, an appointment change, a withdrawal,
// a version decision): a checker reading O2O's job events back adds what the note
// says (the appointment and its start, the document, the version).
func (l Link) JobEvent(target Side, code string) Write {
	w := Write{Kind: JobEvent, Code: code}
	src := target.Other()
	for st, c := range l.StatusEvents[src] {
		if c == code {
			w.Status = st
		}
	}
	for k, c := range l.AppointmentEvents {
		if c == code && target == Primary {
			w.AppointmentKind = k
		}
	}
	for d, c := range l.VersionEvents[src] {
		if c == code && target == Primary { // into the secondary, a decision is a version-decided write
			w.Decision = d
		}
	}
	return w
}
