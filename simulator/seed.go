package simulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/o2o-sync/o2o/events"
)

// Seed is the simulator's starting state: the Oneserve systems it hosts and
// their reference data. It is read from YAML by LoadSeed (dev/simulator.yaml
// is the annotated example) or built in Go by tests.
type Seed struct {
	Systems []SystemSeed `yaml:"systems"`
}

// SystemSeed describes one simulated Oneserve system (tenant).
type SystemSeed struct {
	// Name is the path segment the system lives under: its Oneserve base URL
	// is http://host:port/{Name}.
	Name string `yaml:"name"`
	// AuthTokenEnv names the environment variable holding the
	// OS-REST-AUTH-TOKEN that every /rest call must carry.
	AuthTokenEnv string `yaml:"authTokenEnv"`
	// APIUser is the user name that API writes are recorded under, and the
	// actor of the events they cause.
	APIUser string `yaml:"apiUser"`
	// WebhookURL is where the system POSTs its Integration Events. Empty means
	// events are recorded in the outbox but never sent.
	WebhookURL string `yaml:"webhookURL"`
	// Events is EventsWebhook (the default: events are sent to WebhookURL),
	// EventsPoll (a system that sends no webhooks at all, whatever
	// WebhookURL says: its events are only recorded, for O2O to find by
	// reading the system) or EventsBoth (sent, like webhook; O2O's polling is
	// O2O's business). The same words as O2O's systems.<name>.events.
	Events string `yaml:"events"`
	// WebhookSecretEnv names the environment variable holding the whsec_...
	// secret the system signs its webhooks with. Several space-separated
	// secrets are accepted and all of them sign, as during a rotation.
	WebhookSecretEnv string `yaml:"webhookSecretEnv"`
	// JobRefPrefix starts every job ref the system issues ("FX" → FX000001).
	JobRefPrefix string `yaml:"jobRefPrefix"`
	// FirstActivityID is the first activity id issued (default 137000).
	// Giving each system its own range makes an id used against the wrong
	// system fail loudly instead of finding an unrelated activity.
	FirstActivityID int `yaml:"firstActivityId"`

	Clients            []Client    `yaml:"clients"`
	Sites              []Site      `yaml:"sites"`
	Contacts           []Contact   `yaml:"contacts"`
	Teams              []Ref       `yaml:"teams"`
	Priorities         []Ref       `yaml:"priorities"`
	Statuses           []Ref       `yaml:"statuses"`
	WorkLogTypes       []Ref       `yaml:"workLogTypes"`
	WorkTypes          []Ref       `yaml:"workTypes"`
	Workflows          []Ref       `yaml:"workflows"`
	Services           []Ref       `yaml:"services"`
	EventCodes         []EventCode `yaml:"eventCodes"`
	DocumentCategories []string    `yaml:"documentCategories"`
	SORCodes           []SORCode   `yaml:"sorCodes"`

	// EventIDs maps event codes (of EventCodes) to the numeric event ids
	// that jobEventsXML filters on: Oneserve names an event type by code
	// when writing (sigEventCode) and by id when reading (eventIdList). A
	// code without an entry gets the next free id from 1001, in the order
	// of EventCodes.
	EventIDs map[string]string `yaml:"eventIds"`

	// WorkflowEvents are the job events this tenant's Oneserve workflow
	// records by itself when a user changes a job, so that jobEventsXML
	// finds the change: what a tenant polled by O2O configures
	// (docs/reconciliation.md, "Polling"). Empty: none is recorded, and a
	// job's history holds only what API clients wrote.
	WorkflowEvents WorkflowEvents `yaml:"workflowEvents"`

	// AuthToken and WebhookSecrets are read from the environment by
	// LoadSeed; tests set them directly.
	AuthToken      string          `yaml:"-"`
	WebhookSecrets []events.Secret `yaml:"-"`
}

// Ref is an item of reference data that Oneserve addresses by numeric id and
// shows by name: a team, priority, status, work log type, and so on.
type Ref struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
}

// Client is a client (the organisation jobs are done for).
type Client = Ref

// Site is a property jobs are raised against. Sites belong to a client and
// are addressed by client id plus site ref.
type Site struct {
	ClientID    string   `yaml:"clientId" json:"clientId"`
	SiteRef     string   `yaml:"siteRef" json:"siteRef"`
	Name        string   `yaml:"name" json:"name"`
	Address1    string   `yaml:"address1" json:"address1"`
	Postcode    string   `yaml:"postcode" json:"postcode"`
	ContactRefs []string `yaml:"contactRefs" json:"contactRefs"`
}

// Contact is a person who can be named as a job's contact. Seeds must only
// hold made-up people.
type Contact struct {
	ContactRef string `yaml:"contactRef" json:"contactRef"`
	Name       string `yaml:"name" json:"name"`
}

// EventCode is a job event code (sigEventCode, at most 6 characters) that
// addEventByClientRef accepts.
type EventCode struct {
	Code string `yaml:"code"`
	Name string `yaml:"name"`
}

// WorkflowEvents names, per kind of change, the event code (one of the
// system's EventCodes, with its numeric id in EventIDs) that the system
// records as a job event on the job when the change happens, whoever makes
// it. An empty code records nothing for that kind.
type WorkflowEvents struct {
	// Assigned: an activity of the job is assigned to a team (what O2O's
	// discovery of new links reads in a primary).
	Assigned string `yaml:"assigned"`
	// StatusChanged: the job's status changes.
	StatusChanged string `yaml:"statusChanged"`
	// Appointment: an appointment is booked, rescheduled, cancelled or
	// completed.
	Appointment string `yaml:"appointment"`
	// DocumentUploaded: a document is uploaded to the job (through the API
	// too).
	DocumentUploaded string `yaml:"documentUploaded"`
	// DocumentApproval: a document of the job is approved or rejected.
	DocumentApproval string `yaml:"documentApproval"`
}

// SORCode is a schedule-of-rates code a client's jobs may carry as activities.
type SORCode struct {
	ClientID    string `yaml:"clientId"`
	Code        string `yaml:"code"`
	Description string `yaml:"description"`
}

// The values of SystemSeed.Events.
const (
	EventsWebhook = "webhook"
	EventsPoll    = "poll"
	EventsBoth    = "both"
)

// sendsWebhooks reports whether the system POSTs its events: it has a
// webhook URL and is not in poll mode.
func (sys SystemSeed) sendsWebhooks() bool {
	return sys.WebhookURL != "" && sys.Events != EventsPoll
}

// StatusNewlyCreated is the status every new job starts in. Each system's
// seed must define it.
const StatusNewlyCreated = "Newly Created"

const defaultFirstActivityID = 137000

// LoadSeed reads a seed file and fills in each system's token and webhook
// secrets from the environment variables the file names. Nothing else is
// expanded. The seed is validated; errors name the system and the key.
func LoadSeed(path string) (Seed, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("seed: %w", err)
	}
	var seed Seed
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	// Unknown keys are almost always typos that would otherwise silently
	// drop reference data, so they are errors.
	dec.KnownFields(true)
	if err := dec.Decode(&seed); err != nil && !errors.Is(err, io.EOF) {
		return Seed{}, fmt.Errorf("seed %s: %w", path, err)
	}
	for i := range seed.Systems {
		sys := &seed.Systems[i]
		if sys.AuthTokenEnv == "" {
			return Seed{}, fmt.Errorf("seed %s: system %q: authTokenEnv is required", path, sys.Name)
		}
		sys.AuthToken = os.Getenv(sys.AuthTokenEnv)
		if sys.AuthToken == "" {
			return Seed{}, fmt.Errorf("seed %s: system %q: environment variable %s (authTokenEnv) is not set", path, sys.Name, sys.AuthTokenEnv)
		}
		if sys.WebhookSecretEnv != "" {
			v := os.Getenv(sys.WebhookSecretEnv)
			if v == "" {
				return Seed{}, fmt.Errorf("seed %s: system %q: environment variable %s (webhookSecretEnv) is not set", path, sys.Name, sys.WebhookSecretEnv)
			}
			// The error from ParseSecrets never quotes the secret.
			secrets, err := events.ParseSecrets(v)
			if err != nil {
				return Seed{}, fmt.Errorf("seed %s: system %q: environment variable %s (webhookSecretEnv): %w", path, sys.Name, sys.WebhookSecretEnv, err)
			}
			sys.WebhookSecrets = secrets
		}
	}
	if err := seed.Validate(); err != nil {
		return Seed{}, fmt.Errorf("seed %s: %w", path, err)
	}
	return seed, nil
}

var (
	systemNameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	jobRefPrefixRE = regexp.MustCompile(`^[A-Z]{1,6}$`)
)

// reservedNames cannot be system names because the simulator serves its own
// page at that top-level path.
var reservedNames = map[string]bool{"healthz": true}

// Validate checks that the seed is internally consistent: unique names and
// ids, references that resolve, and the values the simulator relies on.
func (s Seed) Validate() error {
	if len(s.Systems) == 0 {
		return errors.New("at least one system is required")
	}
	names := map[string]bool{}
	for i, sys := range s.Systems {
		if !systemNameRE.MatchString(sys.Name) || reservedNames[sys.Name] {
			return fmt.Errorf("systems[%d]: name %q must be 1-40 lower-case letters, digits, '-' or '_' (and not a reserved path)", i, sys.Name)
		}
		if names[sys.Name] {
			return fmt.Errorf("systems[%d]: name %q is used twice", i, sys.Name)
		}
		names[sys.Name] = true
		if err := sys.validate(); err != nil {
			return fmt.Errorf("system %q: %w", sys.Name, err)
		}
	}
	return nil
}

// validate checks the system's seed part by part; the first problem found
// is returned.
func (sys SystemSeed) validate() error {
	if err := sys.validateAccess(); err != nil {
		return err
	}
	clients, err := sys.validateParties()
	if err != nil {
		return err
	}
	if err := sys.validateRefLists(); err != nil {
		return err
	}
	if err := sys.validateEventCodes(); err != nil {
		return err
	}
	return sys.validateCatalogue(clients)
}

// validateAccess checks how O2O reaches the system and is told of events:
// the token and API user, the event delivery, and the job ref prefix and
// first activity id.
func (sys SystemSeed) validateAccess() error {
	if sys.AuthToken == "" {
		return errors.New("auth token is empty (set the variable named by authTokenEnv)")
	}
	if strings.TrimSpace(sys.APIUser) == "" {
		return errors.New("apiUser is required")
	}
	switch sys.Events {
	case "", EventsWebhook, EventsPoll, EventsBoth:
	default:
		return fmt.Errorf("events %q must be webhook, poll or both", sys.Events)
	}
	if sys.WebhookURL != "" {
		u, err := url.Parse(sys.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("webhookURL %q must be an absolute http(s) URL", sys.WebhookURL)
		}
		if len(sys.WebhookSecrets) == 0 {
			return errors.New("a webhook secret is required when webhookURL is set (set webhookSecretEnv)")
		}
	}
	if !jobRefPrefixRE.MatchString(sys.JobRefPrefix) {
		return fmt.Errorf("jobRefPrefix %q must be 1-6 upper-case letters", sys.JobRefPrefix)
	}
	if sys.FirstActivityID < 0 {
		return errors.New("firstActivityId must not be negative")
	}
	return nil
}

// validateParties checks the clients, the contacts and the clients' sites,
// and returns the clients by id.
func (sys SystemSeed) validateParties() (map[string]string, error) {
	clients, err := refIndex("clients", sys.Clients)
	if err != nil {
		return nil, err
	}
	if len(clients) == 0 {
		return nil, errors.New("at least one client is required")
	}
	contacts := map[string]bool{}
	for i, c := range sys.Contacts {
		if c.ContactRef == "" || len(c.ContactRef) > 50 {
			return nil, fmt.Errorf("contacts[%d]: contactRef is required (at most 50 characters)", i)
		}
		if contacts[c.ContactRef] {
			return nil, fmt.Errorf("contacts[%d]: contactRef %q is used twice", i, c.ContactRef)
		}
		contacts[c.ContactRef] = true
	}
	sites := map[string]bool{}
	for i, st := range sys.Sites {
		if _, ok := clients[st.ClientID]; !ok {
			return nil, fmt.Errorf("sites[%d]: clientId %q is not one of the clients", i, st.ClientID)
		}
		if st.SiteRef == "" || len(st.SiteRef) > 50 {
			return nil, fmt.Errorf("sites[%d]: siteRef is required (at most 50 characters)", i)
		}
		key := st.ClientID + "/" + st.SiteRef
		if sites[key] {
			return nil, fmt.Errorf("sites[%d]: siteRef %q is used twice for client %s", i, st.SiteRef, st.ClientID)
		}
		sites[key] = true
		for _, ref := range st.ContactRefs {
			if !contacts[ref] {
				return nil, fmt.Errorf("sites[%d]: contactRef %q is not one of the contacts", i, ref)
			}
		}
	}
	return clients, nil
}

// validateRefLists checks the id-and-name lists: teams, priorities, work
// classifications and statuses (which must include Newly Created).
func (sys SystemSeed) validateRefLists() error {
	for _, list := range []struct {
		key  string
		refs []Ref
	}{
		{"teams", sys.Teams}, {"priorities", sys.Priorities}, {"workLogTypes", sys.WorkLogTypes},
		{"workTypes", sys.WorkTypes}, {"workflows", sys.Workflows}, {"services", sys.Services},
	} {
		if _, err := refIndex(list.key, list.refs); err != nil {
			return err
		}
	}
	statuses, err := refIndex("statuses", sys.Statuses)
	if err != nil {
		return err
	}
	if _, ok := byName(statuses, StatusNewlyCreated); !ok {
		return fmt.Errorf("statuses must include %q, the status of every new job", StatusNewlyCreated)
	}
	return nil
}

// validateEventCodes checks the workflow event codes, the codes the
// workflow events use, and the codes' event ids.
func (sys SystemSeed) validateEventCodes() error {
	codes := map[string]bool{}
	for i, c := range sys.EventCodes {
		if c.Code == "" || len(c.Code) > 6 {
			return fmt.Errorf("eventCodes[%d]: code %q must be 1-6 characters", i, c.Code)
		}
		if codes[c.Code] {
			return fmt.Errorf("eventCodes[%d]: code %q is used twice", i, c.Code)
		}
		codes[c.Code] = true
	}
	for _, w := range []struct{ key, code string }{
		{"assigned", sys.WorkflowEvents.Assigned}, {"statusChanged", sys.WorkflowEvents.StatusChanged},
		{"appointment", sys.WorkflowEvents.Appointment}, {"documentUploaded", sys.WorkflowEvents.DocumentUploaded},
		{"documentApproval", sys.WorkflowEvents.DocumentApproval},
	} {
		if w.code != "" && !codes[w.code] {
			return fmt.Errorf("workflowEvents.%s: %q is not one of the eventCodes", w.key, w.code)
		}
	}
	usedIDs := map[string]string{}
	for _, code := range slices.Sorted(maps.Keys(sys.EventIDs)) {
		id := sys.EventIDs[code]
		if !codes[code] {
			return fmt.Errorf("eventIds: %q is not one of the eventCodes", code)
		}
		if n, err := strconv.ParseUint(id, 10, 63); err != nil || fmt.Sprint(n) != id {
			return fmt.Errorf("eventIds: %s: id %q must be a whole number", code, id)
		}
		if other, dup := usedIDs[id]; dup {
			return fmt.Errorf("eventIds: %s: id %s is also the id of %s", code, id, other)
		}
		usedIDs[id] = code
	}
	return nil
}

// validateCatalogue checks the document categories and the clients' SOR
// codes.
func (sys SystemSeed) validateCatalogue(clients map[string]string) error {
	cats := map[string]bool{}
	for i, c := range sys.DocumentCategories {
		if strings.TrimSpace(c) == "" || len(c) > 100 {
			return fmt.Errorf("documentCategories[%d] must be 1-100 characters", i)
		}
		if cats[c] {
			return fmt.Errorf("documentCategories[%d]: %q is listed twice", i, c)
		}
		cats[c] = true
	}
	sor := map[string]bool{}
	for i, c := range sys.SORCodes {
		if _, ok := clients[c.ClientID]; !ok {
			return fmt.Errorf("sorCodes[%d]: clientId %q is not one of the clients", i, c.ClientID)
		}
		if c.Code == "" || len(c.Code) > 200 {
			return fmt.Errorf("sorCodes[%d]: code is required (at most 200 characters)", i)
		}
		if sor[c.ClientID+"/"+c.Code] {
			return fmt.Errorf("sorCodes[%d]: code %q is listed twice for client %s", i, c.Code, c.ClientID)
		}
		sor[c.ClientID+"/"+c.Code] = true
	}
	return nil
}

// firstDefaultEventID is the first id given to an event code that
// eventIds leaves out.
const firstDefaultEventID = 1001

// eventIDs returns every event code's numeric id: the configured ones, and
// the next free id from firstDefaultEventID for the others, in the order of
// EventCodes. The seed must be valid.
func (sys SystemSeed) eventIDs() map[string]string {
	ids := make(map[string]string, len(sys.EventCodes))
	used := map[string]bool{}
	for code, id := range sys.EventIDs {
		ids[code] = id
		used[id] = true
	}
	next := firstDefaultEventID
	for _, c := range sys.EventCodes {
		if _, ok := ids[c.Code]; ok {
			continue
		}
		for used[strconv.Itoa(next)] {
			next++
		}
		ids[c.Code] = strconv.Itoa(next)
		used[ids[c.Code]] = true
	}
	return ids
}

// refIndex checks a list of reference data (numeric, unique ids; non-empty,
// unique names) and returns it keyed by id.
func refIndex(key string, refs []Ref) (map[string]string, error) {
	ids := make(map[string]string, len(refs))
	seenNames := map[string]bool{}
	for i, r := range refs {
		if n, err := strconv.ParseUint(r.ID, 10, 63); err != nil || fmt.Sprint(n) != r.ID {
			return nil, fmt.Errorf("%s[%d]: id %q must be a whole number", key, i, r.ID)
		}
		if _, dup := ids[r.ID]; dup {
			return nil, fmt.Errorf("%s[%d]: id %s is used twice", key, i, r.ID)
		}
		if strings.TrimSpace(r.Name) == "" {
			return nil, fmt.Errorf("%s[%d]: name is required", key, i)
		}
		if seenNames[r.Name] {
			return nil, fmt.Errorf("%s[%d]: name %q is used twice", key, i, r.Name)
		}
		seenNames[r.Name] = true
		ids[r.ID] = r.Name
	}
	return ids, nil
}

// byName finds the id of the entry called name.
func byName(ids map[string]string, name string) (string, bool) {
	for id, n := range ids {
		if n == name {
			return id, true
		}
	}
	return "", false
}
