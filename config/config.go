// Package config loads and validates O2O's one YAML configuration file: the
// Oneserve systems O2O talks to and the links between them.
//
// Secrets never sit in the file. Each key ending in "Env" names the
// environment variable that holds the value. Loading fails with an error that
// names the key and the problem; see docs/configuration.md for every key and
// o2o.example.yaml for an annotated example.
package config

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
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/secretenv"
	"github.com/o2o-sync/o2o/oneserve"
)

// EnvConfigPath is the environment variable holding the config file's path.
const EnvConfigPath = "O2O_CONFIG"

// Config is the whole configuration.
type Config struct {
	// Systems are the Oneserve systems, keyed by the name used in
	// POST /webhooks/{system}.
	Systems map[string]*System `yaml:"systems"`
	// Links pair a primary system with a secondary one.
	Links []*Link `yaml:"links"`
	// Webhook configures the webhook server.
	Webhook Webhook `yaml:"webhook"`
}

// System is one Oneserve tenant.
type System struct {
	// Name is the map key, filled in by Load.
	Name string `yaml:"-"`
	// BaseURL is the tenant's web-app URL; API calls go to BaseURL + "/rest/...".
	BaseURL string `yaml:"baseURL"`
	// AuthTokenEnv names the variable holding the OS-REST-AUTH-TOKEN.
	AuthTokenEnv string `yaml:"authTokenEnv"`
	// WebhookSecretsEnv names the variable holding the system's Standard
	// Webhooks secrets, whsec_..., separated by spaces (several during rotation).
	// Only with webhookAuth.mode standard-webhooks (the default).
	WebhookSecretsEnv string `yaml:"webhookSecretsEnv"`
	// WebhookAuth says how the system's webhooks prove where they come from
	// (default: Standard Webhooks signatures, with WebhookSecretsEnv).
	WebhookAuth WebhookAuth `yaml:"webhookAuth"`
	// Events says how O2O learns of changes in this system: EventsWebhook
	// (default), EventsPoll or EventsBoth.
	Events string `yaml:"events"`
	// Trust says how far the system's webhook payloads are believed:
	// TrustPayload (default) or TrustNudge.
	Trust string `yaml:"trust"`
	// APIUser is the user name O2O acts as in this system. Events whose actor
	// is this user are O2O's own writes coming back and are not sent on.
	APIUser string `yaml:"apiUser"`
	// Timeout bounds one API call (default 30s).
	Timeout Duration `yaml:"timeout"`
	// Paths overrides the endpoints that Oneserve does not document publicly;
	// empty ones are filled from oneserve.DefaultPaths.
	Paths oneserve.Paths `yaml:"paths"`
	// Limits is the API budget O2O keeps to in this system, shared by all
	// the worker's calls to it: requestsPerSecond and concurrency, each
	// filled from oneserve.DefaultLimits (10/s, 4) when 0 or absent.
	Limits oneserve.Limits `yaml:"limits"`
	// Poll says how O2O reads the system for changes when it is polled
	// (events poll or both): see Poll.
	Poll Poll `yaml:"poll"`

	// AuthToken and WebhookSecrets are read from the environment by Load.
	AuthToken      string          `yaml:"-"`
	WebhookSecrets []events.Secret `yaml:"-"`
}

// The ways a system's webhooks can authenticate (System.WebhookAuth.Mode).
const (
	// AuthStandardWebhooks: webhook-id, webhook-timestamp and an HMAC
	// webhook-signature, with secrets from webhookSecretsEnv. The default.
	AuthStandardWebhooks = "standard-webhooks"
	// AuthHeaderToken: a shared secret in a configured header.
	AuthHeaderToken = "header-token"
	// AuthBasic: HTTP Basic authentication.
	AuthBasic = "basic"
)

// How O2O learns of a system's changes (System.Events).
const (
	// EventsWebhook: the system sends webhooks. The default.
	EventsWebhook = "webhook"
	// EventsPoll: the system sends nothing; O2O reads it. It has no webhook
	// endpoint and needs no webhook credentials.
	EventsPoll = "poll"
	// EventsBoth: the system sends webhooks and O2O reads it as well.
	EventsBoth = "both"
)

// How far a system's webhook payloads are trusted (System.Trust).
const (
	// TrustPayload: the payload is decoded strictly and its content used.
	// The default.
	TrustPayload = "payload"
	// TrustNudge: only the job reference is taken from the payload; the
	// event becomes an events.Nudge, and the link reads the job itself.
	TrustNudge = "nudge"
)

// WebhookAuth configures how a system's webhooks are authenticated. Each
// mode takes its own keys and no others; see docs/configuration.md.
type WebhookAuth struct {
	// Mode is AuthStandardWebhooks (default), AuthHeaderToken or AuthBasic.
	Mode string `yaml:"mode"`
	// Header is the request header carrying the shared secret (header-token).
	Header string `yaml:"header"`
	// TokensEnv names the variable holding the shared secret(s), separated
	// by spaces: several during a rotation (header-token).
	TokensEnv string `yaml:"tokensEnv"`
	// UserEnv names the variable holding the Basic user name (basic).
	UserEnv string `yaml:"userEnv"`
	// PasswordsEnv names the variable holding the Basic password(s),
	// separated by spaces: several during a rotation (basic).
	PasswordsEnv string `yaml:"passwordsEnv"`

	// Tokens, User and Passwords are read from the environment by Load.
	Tokens    []string `yaml:"-"`
	User      string   `yaml:"-"`
	Passwords []string `yaml:"-"`
}

// ReceivesWebhooks reports whether the system sends webhooks to O2O (events
// webhook or both). A system in poll mode has no webhook endpoint.
func (s *System) ReceivesWebhooks() bool { return s.Events != EventsPoll }

// Polled reports whether O2O reads the system for changes (events poll or both).
func (s *System) Polled() bool { return s.Events == EventsPoll || s.Events == EventsBoth }

// Nudges reports whether the system's webhooks are only nudges: O2O takes
// the job reference from them and nothing else.
func (s *System) Nudges() bool { return s.Trust == TrustNudge }

// Webhook configures the webhook server.
type Webhook struct {
	// Addr is the listen address; O2O_WEBHOOK_ADDR overrides it (default ":8080").
	Addr string `yaml:"addr"`
	// MaxBodyBytes caps a webhook body (default 1 MiB).
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// ReadHeaderTimeout bounds reading a request's headers (default 5s):
	// a connection that sends no request, or trickles its headers, is cut.
	ReadHeaderTimeout Duration `yaml:"readHeaderTimeout"`
	// ReadTimeout bounds reading a whole request, body included (default
	// 15s): a body that trickles in is cut, answered 408 if still possible.
	ReadTimeout Duration `yaml:"readTimeout"`
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its answer (default 30s); it must leave room for ReadTimeout and
	// the wait for Temporal (8s).
	WriteTimeout Duration `yaml:"writeTimeout"`
	// IdleTimeout closes a kept-alive connection that sends no next request
	// (default 60s).
	IdleTimeout Duration `yaml:"idleTimeout"`
	// MaxConnections caps the connections open at once (default 1024);
	// further ones wait in the listen backlog until one closes. Bounds the
	// memory bodies can take: at most MaxConnections × MaxBodyBytes.
	MaxConnections int `yaml:"maxConnections"`
	// APITokenEnv names the variable holding the bearer token for the
	// link-state and operator endpoints. The webhook server refuses to start
	// without it; the worker and the starter do not need it.
	APITokenEnv string `yaml:"apiTokenEnv"`
	// Codec configures the codec server (/codec/encode, /codec/decode).
	Codec WebhookCodec `yaml:"codec"`

	APIToken string `yaml:"-"`
}

// WebhookDeliverTimeout bounds the webhook server's wait for Temporal to
// accept an event; webhook.writeTimeout must leave room for it.
const WebhookDeliverTimeout = 8 * time.Second

// WebhookCodec configures the codec server the Temporal Web UI and CLI
// call to read O2O's encrypted payloads (docs/operations.md).
type WebhookCodec struct {
	// UIOrigins are the Web UI origins (scheme://host[:port]) whose pages
	// may call the codec server from the browser (CORS). None: only
	// clients outside a browser (the CLI) can.
	UIOrigins []string `yaml:"uiOrigins"`
}

// Ref is a configured item known by name in the Oneserve UI and by numeric
// ID in the API.
type Ref struct {
	Name string `yaml:"name"`
	ID   string `yaml:"id"`
}

func (r Ref) String() string { return fmt.Sprintf("%s (%s)", r.Name, r.ID) }

// Link pairs a primary system with a secondary one.
type Link struct {
	// Name identifies the link in workflow ids, URLs and the Web UI.
	Name      string    `yaml:"name"`
	Primary   Primary   `yaml:"primary"`
	Secondary Secondary `yaml:"secondary"`
	// Priorities maps each primary priority to a secondary one. A job whose
	// priority is not listed is not created; the link needs attention.
	Priorities []PriorityMapping `yaml:"priorities"`
	// DocumentCategories are the shared categories, mapped between systems.
	DocumentCategories []CategoryMapping `yaml:"documentCategories"`
	// StatusEvents map job statuses to the job event written on the other side.
	StatusEvents StatusEvents `yaml:"statusEvents"`
	// Versions configures variations: job versions raised on one side are
	// raised on the other, and decisions on them travel back.
	Versions Versions `yaml:"versions"`
	// DocumentApproval says, per direction, whether a document in a shared
	// category travels only once approved in its source system.
	DocumentApproval DocumentApproval `yaml:"documentApproval"`
	// AppointmentEvents are the event codes written in the primary for the
	// secondary's appointment changes.
	AppointmentEvents AppointmentEvents `yaml:"appointmentEvents"`
	// CloseAfter is how long a finished link waits for late events and
	// documents before it closes (default 72h).
	CloseAfter Duration `yaml:"closeAfter"`
	// ReconcileEvery is how often the link's open links are reconciled
	// against both systems (default 15m; at least 1s). The reads are spread
	// over most of the interval, and a run stops at the end of it.
	ReconcileEvery Duration `yaml:"reconcileEvery"`
	// ReconcileHeartbeatTimeout is how long a reconciliation's read that
	// stops heartbeating (its worker gone) is given before Temporal tries
	// it again (default 1m; from 100ms, at most reconcileEvery). Only tests
	// that compress reconcileEvery to seconds need to change it.
	ReconcileHeartbeatTimeout Duration `yaml:"reconcileHeartbeatTimeout"`
	// Discovery says how a polled primary's new assignments to the link's
	// team are found without their webhook: see Discovery.
	Discovery Discovery `yaml:"discovery"`
}

// ReconcileEvery's and ReconcileHeartbeatTimeout's defaults and bounds.
const (
	DefaultReconcileEvery            = 15 * time.Minute
	DefaultReconcileHeartbeatTimeout = time.Minute
	minReconcileEvery                = time.Second
	minReconcileHeartbeatTimeout     = 100 * time.Millisecond
)

// Primary is the primary side of a link.
type Primary struct {
	System string `yaml:"system"`
	// Client is the client that owns the primary jobs (used to address them
	// in addEventByClientRef).
	Client Ref `yaml:"client"`
	// Team is the team that represents the secondary; assigning an activity
	// to it creates the linked job.
	Team Ref `yaml:"team"`
	// EndStatuses are the primary job statuses in which the job has ended
	// (default Completed, Cancelled).
	EndStatuses []string `yaml:"endStatuses"`
	// CancelledStatuses are the end statuses that mean the primary cancelled
	// the job: the link then closes whatever the secondary's status
	// (default Cancelled). Each must be mapped in statusEvents.primaryToSecondary,
	// so the cancellation reaches the secondary.
	CancelledStatuses []string `yaml:"cancelledStatuses"`
}

// Secondary is the secondary side of a link: how linked jobs are created.
type Secondary struct {
	System      string `yaml:"system"`
	WorkLogType Ref    `yaml:"workLogType"`
	WorkType    Ref    `yaml:"workType"`
	Workflow    Ref    `yaml:"workflow"`
	Client      Ref    `yaml:"client"`
	Service     Ref    `yaml:"service"`
	// AcceptedStatus is the secondary job status that means the
	// subcontractor accepted the job.
	AcceptedStatus string `yaml:"acceptedStatus"`
	// EndStatuses are the secondary job statuses in which the job has ended
	// (default Completed, Cancelled).
	EndStatuses []string `yaml:"endStatuses"`
}

// PriorityMapping maps one primary priority to a secondary priority.
type PriorityMapping struct {
	Primary   Ref `yaml:"primary"`
	Secondary Ref `yaml:"secondary"`
}

// CategoryMapping names a shared document category in both systems.
type CategoryMapping struct {
	Primary   string `yaml:"primary"`
	Secondary string `yaml:"secondary"`
}

// StatusEvents holds both directions of status mapping.
type StatusEvents struct {
	PrimaryToSecondary []StatusEvent `yaml:"primaryToSecondary"`
	SecondaryToPrimary []StatusEvent `yaml:"secondaryToPrimary"`
}

// StatusEvent says: when the source job reaches Status, add a job event
// with EventCode (and Note) to the other system's job.
type StatusEvent struct {
	Status    string `yaml:"status"`
	EventCode string `yaml:"eventCode"`
	Note      string `yaml:"note"`
}

// Versions configures variations (job versions) for a link.
type Versions struct {
	// Enabled turns variations on (default off).
	Enabled bool `yaml:"enabled"`
	// Events are the job event codes written, with the decision's reason,
	// on the receiving side when a version is approved, rejected or
	// cancelled on the other (per direction: codes belong to the system
	// they are written in).
	Events struct {
		PrimaryToSecondary VersionEvents `yaml:"primaryToSecondary"`
		SecondaryToPrimary VersionEvents `yaml:"secondaryToPrimary"`
	} `yaml:"events"`
}

// VersionEvents are the job event codes for version decisions.
type VersionEvents struct {
	Approved  string `yaml:"approved"`
	Rejected  string `yaml:"rejected"`
	Cancelled string `yaml:"cancelled"`
}

// VersionEventCode is the job event code written on the side opposite from
// for a decision (Approved, Rejected or Cancelled) taken there; "" if none.
func (l *Link) VersionEventCode(from events.Side, status string) string {
	e := l.Versions.Events.PrimaryToSecondary
	if from == events.Secondary {
		e = l.Versions.Events.SecondaryToPrimary
	}
	switch strings.ToLower(status) {
	case "approved":
		return e.Approved
	case "rejected":
		return e.Rejected
	case "cancelled":
		return e.Cancelled
	}
	return ""
}

// Document approval settings (DocumentApproval's directions).
const (
	// ApprovalOff: documents travel when uploaded (the default).
	ApprovalOff = "off"
	// ApprovalRequired: documents travel once approved in their source.
	ApprovalRequired = "required"
)

// DocumentApproval configures document approval per direction.
type DocumentApproval struct {
	PrimaryToSecondary string `yaml:"primaryToSecondary"`
	SecondaryToPrimary string `yaml:"secondaryToPrimary"`
	// WithdrawnEvents are the job event codes written on the receiving side
	// when a document's approval is withdrawn after it was copied (the copy
	// stays); none: the withdrawal is only recorded.
	WithdrawnEvents struct {
		PrimaryToSecondary string `yaml:"primaryToSecondary"`
		SecondaryToPrimary string `yaml:"secondaryToPrimary"`
	} `yaml:"withdrawnEvents"`
}

// ApprovalRequired reports whether documents from side travel only once
// approved there.
func (l *Link) ApprovalRequired(from events.Side) bool {
	if from == events.Secondary {
		return l.DocumentApproval.SecondaryToPrimary == ApprovalRequired
	}
	return l.DocumentApproval.PrimaryToSecondary == ApprovalRequired
}

// WithdrawnEventCode is the job event written on the other side when a
// document from side has its approval withdrawn after the copy ("" none).
func (l *Link) WithdrawnEventCode(from events.Side) string {
	if from == events.Secondary {
		return l.DocumentApproval.WithdrawnEvents.SecondaryToPrimary
	}
	return l.DocumentApproval.WithdrawnEvents.PrimaryToSecondary
}

// AppointmentEvents are job event codes for the secondary's appointment events.
type AppointmentEvents struct {
	Created     string `yaml:"created"`
	Rescheduled string `yaml:"rescheduled"`
	Cancelled   string `yaml:"cancelled"`
	Completed   string `yaml:"completed"`
}

// Duration is a time.Duration written as "30s", "72h".
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration like 30s or 72h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Options change what Load requires.
type Options struct {
	// Getenv reads environment variables (default os.Getenv).
	Getenv func(string) string
	// SkipSecrets loads without reading tokens and webhook secrets, for tools
	// that only need the shape of the configuration (the starter's state command).
	SkipSecrets bool
	// TokensOnly reads the systems' API tokens but not the webhook
	// credentials or the operator token, for processes that call the
	// systems and serve no webhooks (the worker, the starter's check command).
	TokensOnly bool
	// WebhookOnly reads the webhook credentials of the systems that send
	// webhooks and the operator token, but not the systems' API tokens: for
	// the webhook server, which never calls the systems.
	WebhookOnly bool
}

// Load reads, decodes and validates the file at path.
func Load(path string, opt Options) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b, opt)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// ErrConfigNotSet is LoadFromEnv's error when O2O_CONFIG is not set, so that
// a caller can say where the setting is (the starter: `source .run/env`).
var ErrConfigNotSet = errors.New(EnvConfigPath + " is not set")

// LoadFromEnv loads the file named by O2O_CONFIG.
func LoadFromEnv(opt Options) (*Config, error) {
	path := os.Getenv(EnvConfigPath)
	if path == "" {
		return nil, fmt.Errorf("config: %w; it must name the configuration file (see o2o.example.yaml)", ErrConfigNotSet)
	}
	return Load(path, opt)
}

// Parse decodes and validates a configuration document. Unknown keys are errors.
func Parse(b []byte, opt Options) (*Config, error) {
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, cleanYAMLError(err)
	}
	c.defaults()
	if err := c.validate(opt); err != nil {
		return nil, err
	}
	return &c, nil
}

func cleanYAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	return errors.New(msg)
}

// defaults fills in what the configuration leaves out.
func (c *Config) defaults() {
	for name, s := range c.Systems {
		if s != nil {
			s.defaults(name)
		}
	}
	for _, l := range c.Links {
		if l != nil {
			l.defaults()
		}
	}
	c.pollDefaults()
	c.Webhook.defaults()
}

func (s *System) defaults(name string) {
	s.Name = name
	if s.Timeout == 0 {
		s.Timeout = Duration(30 * time.Second)
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	if s.WebhookAuth.Mode == "" {
		s.WebhookAuth.Mode = AuthStandardWebhooks
	}
	if s.Events == "" {
		s.Events = EventsWebhook
	}
	if s.Trust == "" {
		s.Trust = TrustPayload
	}
	if s.Paths.JobRead == "" {
		s.Paths.JobRead = oneserve.DefaultPaths.JobRead
	}
	if s.Paths.DocumentList == "" {
		s.Paths.DocumentList = oneserve.DefaultPaths.DocumentList
	}
	if s.Paths.DocumentDownload == "" {
		s.Paths.DocumentDownload = oneserve.DefaultPaths.DocumentDownload
	}
	if s.Paths.DocumentUpload == "" {
		s.Paths.DocumentUpload = oneserve.DefaultPaths.DocumentUpload
	}
	if s.Paths.VersionLines == "" {
		s.Paths.VersionLines = oneserve.DefaultPaths.VersionLines
	}
	if s.Paths.VersionStatus == "" {
		s.Paths.VersionStatus = oneserve.DefaultPaths.VersionStatus
	}
	if s.Limits.RequestsPerSecond == 0 {
		s.Limits.RequestsPerSecond = oneserve.DefaultLimits.RequestsPerSecond
	}
	if s.Limits.Concurrency == 0 {
		s.Limits.Concurrency = oneserve.DefaultLimits.Concurrency
	}
}

func (l *Link) defaults() {
	if l.CloseAfter == 0 {
		l.CloseAfter = Duration(72 * time.Hour)
	}
	if l.ReconcileEvery == 0 {
		l.ReconcileEvery = Duration(DefaultReconcileEvery)
	}
	if l.ReconcileHeartbeatTimeout == 0 {
		l.ReconcileHeartbeatTimeout = Duration(min(DefaultReconcileHeartbeatTimeout, l.ReconcileEvery.D()))
	}
	if l.Primary.EndStatuses == nil {
		l.Primary.EndStatuses = []string{"Completed", "Cancelled"}
	}
	if l.Primary.CancelledStatuses == nil {
		l.Primary.CancelledStatuses = []string{"Cancelled"}
	}
	if l.Secondary.EndStatuses == nil {
		l.Secondary.EndStatuses = []string{"Completed", "Cancelled"}
	}
}

func (w *Webhook) defaults() {
	if w.Addr == "" {
		w.Addr = ":8080"
	}
	if w.MaxBodyBytes == 0 {
		w.MaxBodyBytes = 1 << 20
	}
	for _, d := range []struct {
		v   *Duration
		def time.Duration
	}{
		{&w.ReadHeaderTimeout, 5 * time.Second}, {&w.ReadTimeout, 15 * time.Second},
		{&w.WriteTimeout, 30 * time.Second}, {&w.IdleTimeout, 60 * time.Second},
	} {
		if *d.v == 0 {
			*d.v = Duration(d.def)
		}
	}
	if w.MaxConnections == 0 {
		w.MaxConnections = 1024
	}
}

// problems collects validation errors so that one run reports all of them.
type problems []string

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	idRE     = regexp.MustCompile(`^[0-9]{1,18}$`)
	envRE    = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	eventRE  = regexp.MustCompile(`^[A-Za-z0-9_]{1,6}$`)
	placeRE  = regexp.MustCompile(`\{[a-zA-Z]+\}`)
	pathVars = map[string][]string{
		"jobRead": {"{jobRef}"}, "documentList": {"{jobRef}"},
		"documentDownload": {"{documentId}"}, "documentUpload": {"{jobRef}"},
		"versionLines": {"{jobRef}"}, "versionStatus": {"{jobRef}", "{version}"},
	}
)

// The largest API budget accepted for a system: beyond these, a value is
// more likely a typo than a tenant's real allowance.
const (
	maxRequestsPerSecond = 1000
	maxConcurrency       = 100
)

// validate reports every problem in the configuration at once, sorted, so
// that the output does not depend on the order checks run in. It also reads
// the secrets the process needs (opt says which).
func (c *Config) validate(opt Options) error {
	var p problems
	c.validateSystems(&p, opt)
	c.validateLinks(&p)
	c.validateWebhook(&p, opt)
	c.validatePoll(&p)
	if len(p) > 0 {
		slices.Sort(p)
		return fmt.Errorf("%d problem(s):\n  %s", len(p), strings.Join(p, "\n  "))
	}
	return nil
}

// validateSystems checks each system and reads its secrets.
func (c *Config) validateSystems(p *problems, opt Options) {
	if len(c.Systems) == 0 {
		p.add("systems", "at least two systems are required")
	}
	for _, name := range sortedKeys(c.Systems) {
		s := c.Systems[name]
		key := "systems." + name
		if s == nil {
			p.add(key, "is empty")
			continue
		}
		if !nameRE.MatchString(name) {
			p.add(key, "system names must be lower-case letters, digits and '-', at most 40 characters")
		}
		validateBaseURL(p, key+".baseURL", s.BaseURL)
		c.validateEnv(p, key+".authTokenEnv", s.AuthTokenEnv, true)
		c.validateDelivery(p, key, s)
		if s.APIUser == "" {
			p.add(key+".apiUser", "is required (the user name O2O writes as, used to recognise its own changes)")
		}
		validatePaths(p, key+".paths", s.Paths)
		validateLimits(p, key+".limits", s.Limits)
		if !opt.SkipSecrets {
			readSystemSecrets(p, key, s, opt)
		}
	}
	if len(c.Systems) == 1 {
		p.add("systems", "at least two systems are required")
	}
}

func validateBaseURL(p *problems, key, v string) {
	u, err := url.Parse(v)
	switch {
	case v == "":
		p.add(key, "is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		p.add(key, "must be an absolute http(s) URL")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		p.add(key, "must not carry a query, fragment or credentials")
	}
}

// validatePaths checks that each API path is absolute and holds exactly the
// placeholders its call fills in (pathVars).
func validatePaths(p *problems, key string, paths oneserve.Paths) {
	for k, v := range map[string]string{"jobRead": paths.JobRead, "documentList": paths.DocumentList,
		"documentDownload": paths.DocumentDownload, "documentUpload": paths.DocumentUpload,
		"versionLines": paths.VersionLines, "versionStatus": paths.VersionStatus} {
		if !strings.HasPrefix(v, "/") {
			p.add(key+"."+k, "must start with /")
		}
		for _, want := range pathVars[k] {
			if !strings.Contains(v, want) {
				p.add(key+"."+k, "must contain %s", want)
			}
		}
		for _, got := range placeRE.FindAllString(v, -1) {
			if !slices.Contains(pathVars[k], got) {
				p.add(key+"."+k, "unknown placeholder %s", got)
			}
		}
	}
}

func validateLimits(p *problems, key string, l oneserve.Limits) {
	if r := l.RequestsPerSecond; !(r > 0 && r <= maxRequestsPerSecond) {
		p.add(key+".requestsPerSecond", "must be more than 0 and at most %d (calls per second; 0 or absent: %v)", maxRequestsPerSecond, oneserve.DefaultLimits.RequestsPerSecond)
	}
	if n := l.Concurrency; n < 1 || n > maxConcurrency {
		p.add(key+".concurrency", "must be a whole number from 1 to %d (calls in flight at once; 0 or absent: %d)", maxConcurrency, oneserve.DefaultLimits.Concurrency)
	}
}

// readSystemSecrets reads the secrets of one system that this process uses:
// the API token to call the system, the webhook credentials to receive its
// webhooks. A key holding something other than a variable name (often the
// secret itself) has been reported by validateEnv; it is never looked up or
// quoted.
func readSystemSecrets(p *problems, key string, s *System, opt Options) {
	if !opt.WebhookOnly && envRE.MatchString(s.AuthTokenEnv) {
		var ok bool
		if s.AuthToken, ok = secret(p, key+".authTokenEnv", s.AuthTokenEnv, opt.Getenv); ok && s.AuthToken == "" {
			p.add(key+".authTokenEnv", "environment variable %s is not set", s.AuthTokenEnv)
		}
	}
	if !opt.TokensOnly && s.ReceivesWebhooks() {
		readWebhookCredentials(p, key, s, opt.Getenv)
	}
}

// validateLinks checks each link, and that no two links share a name or
// link the same team of the same primary system.
func (c *Config) validateLinks(p *problems) {
	if len(c.Links) == 0 {
		p.add("links", "at least one link is required")
	}
	seen := map[string]int{}
	pairs := map[string]string{}
	for i, l := range c.Links {
		key := fmt.Sprintf("links[%d]", i)
		if l == nil {
			p.add(key, "is empty")
			continue
		}
		if l.Name != "" {
			key = fmt.Sprintf("links[%d] (%s)", i, l.Name)
		}
		switch {
		case l.Name == "":
			p.add(key+".name", "is required")
		case !nameRE.MatchString(l.Name):
			p.add(key+".name", "link names must be lower-case letters, digits and '-', at most 40 characters")
		default:
			if j, dup := seen[l.Name]; dup {
				p.add(key+".name", "duplicate link: links[%d] has the same name", j)
			}
			seen[l.Name] = i
		}
		pair := l.Primary.System + "/" + l.Primary.Team.ID
		if other, dup := pairs[pair]; dup && l.Primary.Team.ID != "" {
			p.add(key+".primary.team", "duplicate link: %s already links team %s of %s", other, l.Primary.Team.ID, l.Primary.System)
		}
		pairs[pair] = l.Name
		c.validateLink(p, key, l)
	}
}

// validateLink checks one link on its own.
func (c *Config) validateLink(p *problems, key string, l *Link) {
	if l.ReconcileEvery.D() < minReconcileEvery {
		p.add(key+".reconcileEvery", "must be at least 1s (a reconciliation reads both jobs of every open link; absent: %s)", DefaultReconcileEvery)
	}
	if hb := l.ReconcileHeartbeatTimeout.D(); hb < minReconcileHeartbeatTimeout || hb > l.ReconcileEvery.D() {
		p.add(key+".reconcileHeartbeatTimeout", "must be from 100ms to reconcileEvery (%s) (absent: %s, or reconcileEvery if shorter)", l.ReconcileEvery.D(), DefaultReconcileHeartbeatTimeout)
	}
	c.validateSides(p, key, l)
	validateMappings(p, key, l)
	validateStatusMapping(p, key, l)
	validateLinkEvents(p, key, l)
}

// validateSides checks the primary and secondary sections: their systems
// and the configured items a linked job is created with.
func (c *Config) validateSides(p *problems, key string, l *Link) {
	c.validateSystem(p, key+".primary.system", l.Primary.System)
	c.validateSystem(p, key+".secondary.system", l.Secondary.System)
	if l.Primary.System != "" && l.Primary.System == l.Secondary.System {
		p.add(key+".secondary.system", "must differ from primary.system")
	}
	validateRefs(p, key+".primary", map[string]Ref{"client": l.Primary.Client, "team": l.Primary.Team})
	validateRefs(p, key+".secondary", map[string]Ref{"workLogType": l.Secondary.WorkLogType, "workType": l.Secondary.WorkType,
		"workflow": l.Secondary.Workflow, "client": l.Secondary.Client, "service": l.Secondary.Service})
	if l.Secondary.AcceptedStatus == "" {
		p.add(key+".secondary.acceptedStatus", "is required")
	}
}

// validateMappings checks the priority and document category mappings.
// Both are matched case-insensitively, so their duplicates are too.
func validateMappings(p *problems, key string, l *Link) {
	if len(l.Priorities) == 0 {
		p.add(key+".priorities", "at least one priority mapping is required")
	}
	for j, m := range l.Priorities {
		pk := fmt.Sprintf("%s.priorities[%d]", key, j)
		validateRefs(p, pk, map[string]Ref{"primary": m.Primary, "secondary": m.Secondary})
		if m.Primary.Name != "" && slices.ContainsFunc(l.Priorities[:j], func(o PriorityMapping) bool {
			return strings.EqualFold(o.Primary.Name, m.Primary.Name)
		}) {
			p.add(pk+".primary.name", "priority %q is mapped twice", m.Primary.Name)
		}
	}
	for j, m := range l.DocumentCategories {
		ck := fmt.Sprintf("%s.documentCategories[%d]", key, j)
		if m.Primary == "" {
			p.add(ck+".primary", "is required")
		}
		if m.Secondary == "" {
			p.add(ck+".secondary", "is required")
		}
		if slices.ContainsFunc(l.DocumentCategories[:j], func(o CategoryMapping) bool {
			return strings.EqualFold(o.Primary, m.Primary) || strings.EqualFold(o.Secondary, m.Secondary)
		}) {
			p.add(ck, "category is mapped twice")
		}
	}
}

// validateStatusMapping checks the status events, and that the statuses the
// link acts on (acceptance, cancellation) are mapped so they reach the other
// side.
func validateStatusMapping(p *problems, key string, l *Link) {
	for dir, list := range directions(l.StatusEvents.PrimaryToSecondary, l.StatusEvents.SecondaryToPrimary) {
		validateStatusEvents(p, key+".statusEvents."+dir, list)
	}
	if l.Secondary.AcceptedStatus != "" && l.StatusEvent(events.Secondary, l.Secondary.AcceptedStatus) == nil {
		p.add(key+".statusEvents.secondaryToPrimary", "must map the accepted status %q (secondary.acceptedStatus), so that acceptance reaches the primary", l.Secondary.AcceptedStatus)
	}
	for _, st := range l.Primary.CancelledStatuses {
		if !slices.ContainsFunc(l.Primary.EndStatuses, func(e string) bool { return strings.EqualFold(e, st) }) {
			p.add(key+".primary.cancelledStatuses", "%q must also be one of primary.endStatuses", st)
		}
		if l.StatusEvent(events.Primary, st) == nil {
			p.add(key+".statusEvents.primaryToSecondary", "must map the cancelled status %q (primary.cancelledStatuses), so that a cancellation reaches the secondary", st)
		}
	}
}

// validateLinkEvents checks the event codes written for appointments,
// version decisions and withdrawn documents, and the document approval
// modes.
func validateLinkEvents(p *problems, key string, l *Link) {
	validateEventCodes(p, key+".appointmentEvents", map[string]string{"created": l.AppointmentEvents.Created,
		"rescheduled": l.AppointmentEvents.Rescheduled, "cancelled": l.AppointmentEvents.Cancelled, "completed": l.AppointmentEvents.Completed})
	if l.Versions.Enabled {
		for dir, e := range directions(l.Versions.Events.PrimaryToSecondary, l.Versions.Events.SecondaryToPrimary) {
			validateEventCodes(p, key+".versions.events."+dir, map[string]string{"approved": e.Approved, "rejected": e.Rejected, "cancelled": e.Cancelled})
		}
	}
	type approval struct{ mode, withdrawn string }
	for dir, d := range directions(
		approval{l.DocumentApproval.PrimaryToSecondary, l.DocumentApproval.WithdrawnEvents.PrimaryToSecondary},
		approval{l.DocumentApproval.SecondaryToPrimary, l.DocumentApproval.WithdrawnEvents.SecondaryToPrimary},
	) {
		if d.mode != "" && d.mode != ApprovalOff && d.mode != ApprovalRequired {
			p.add(key+".documentApproval."+dir, "must be %q or %q", ApprovalRequired, ApprovalOff)
		}
		if d.withdrawn != "" {
			validateEventCode(p, key+".documentApproval.withdrawnEvents."+dir, d.withdrawn)
			if d.mode != ApprovalRequired {
				p.add(key+".documentApproval.withdrawnEvents."+dir, "is only used when documentApproval.%s is %q", dir, ApprovalRequired)
			}
		}
	}
}

// validateWebhook checks the webhook server's settings and reads its API
// token.
func (c *Config) validateWebhook(p *problems, opt Options) {
	if c.Webhook.MaxBodyBytes < 1024 || c.Webhook.MaxBodyBytes > 16<<20 {
		p.add("webhook.maxBodyBytes", "must be between 1024 and 16777216")
	}
	if w := c.Webhook; w.ReadHeaderTimeout > w.ReadTimeout {
		p.add("webhook.readHeaderTimeout", "must not be longer than webhook.readTimeout (%s)", w.ReadTimeout.D())
	}
	if w := c.Webhook; w.WriteTimeout.D() < w.ReadTimeout.D()+WebhookDeliverTimeout {
		p.add("webhook.writeTimeout", "must be at least webhook.readTimeout (%s) + %s (the wait for Temporal), or valid events could not be answered", w.ReadTimeout.D(), WebhookDeliverTimeout)
	}
	if c.Webhook.MaxConnections < 16 {
		p.add("webhook.maxConnections", "must be at least 16")
	}
	if c.Webhook.APITokenEnv != "" {
		c.validateEnv(p, "webhook.apiTokenEnv", c.Webhook.APITokenEnv, false)
		if !opt.SkipSecrets && !opt.TokensOnly && envRE.MatchString(c.Webhook.APITokenEnv) {
			token, ok := secret(p, "webhook.apiTokenEnv", c.Webhook.APITokenEnv, opt.Getenv)
			c.Webhook.APIToken = token
			switch {
			case !ok:
			case token == "":
				p.add("webhook.apiTokenEnv", "environment variable %s is not set", c.Webhook.APITokenEnv)
			case len(token) < 16:
				p.add("webhook.apiTokenEnv", "the token in %s must be at least 16 characters", c.Webhook.APITokenEnv)
			}
		}
	}
	for i, o := range c.Webhook.Codec.UIOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			p.add(fmt.Sprintf("webhook.codec.uiOrigins[%d]", i), "%q must be an origin like https://temporal-ui.example.com (scheme, host, optional port; no path)", o)
		}
	}
}

// secret reads the secret held by the variable env, or by the file its
// env_FILE variant names (secretenv). ok is false when a problem with it has
// been reported; "" with ok true means neither is set.
func secret(p *problems, key, env string, getenv func(string) string) (v string, ok bool) {
	v, err := secretenv.Lookup(getenv, env)
	if err != nil {
		p.add(key, "%v", err)
		return "", false
	}
	return v, true
}

func (c *Config) validateEnv(p *problems, key, v string, required bool) {
	switch {
	case v == "" && required:
		p.add(key, "is required (the name of an environment variable)")
	case v != "" && !envRE.MatchString(v):
		p.add(key, "must be an environment variable name like O2O_TOKEN, not the value itself")
	}
}

// minSharedSecret is the shortest header token or Basic password accepted.
const minSharedSecret = 16

var headerRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,63}$`)

// reservedHeaders cannot carry a header token: HTTP, proxies or O2O itself
// give them another meaning. Keys are lower case.
var reservedHeaders = map[string]string{
	"authorization":       "use webhookAuth.mode basic for HTTP Basic",
	"proxy-authorization": "proxies consume it",
	"cookie":              "it is not meant for a shared secret",
	"host":                "HTTP sets it",
	"content-type":        "HTTP sets it",
	"content-length":      "HTTP sets it",
	"transfer-encoding":   "HTTP sets it",
	"connection":          "HTTP sets it",
	"webhook-id":          "it belongs to Standard Webhooks",
	"webhook-timestamp":   "it belongs to Standard Webhooks",
	"webhook-signature":   "it belongs to Standard Webhooks",
}

// validateDelivery checks how the system's changes reach O2O: events, trust
// and webhookAuth. Each webhookAuth mode takes exactly its own keys; they
// are required only when the system sends webhooks (events webhook or both).
func (c *Config) validateDelivery(p *problems, key string, s *System) {
	switch s.Events {
	case EventsWebhook, EventsPoll, EventsBoth:
	default:
		p.add(key+".events", "must be webhook, poll or both")
	}
	switch s.Trust {
	case TrustPayload, TrustNudge:
	default:
		p.add(key+".trust", "must be payload or nudge")
	}
	if s.Events == EventsPoll && s.Trust == TrustNudge {
		p.add(key+".trust", "nudge is about webhooks, and a system with events: poll sends none")
	}
	a, ak := &s.WebhookAuth, key+".webhookAuth"
	switch a.Mode {
	case AuthStandardWebhooks, AuthHeaderToken, AuthBasic:
	default:
		p.add(ak+".mode", "must be standard-webhooks, header-token or basic")
		return
	}
	need := s.ReceivesWebhooks()
	for _, st := range []struct{ key, value, mode string }{
		{key + ".webhookSecretsEnv", s.WebhookSecretsEnv, AuthStandardWebhooks},
		{ak + ".header", a.Header, AuthHeaderToken},
		{ak + ".tokensEnv", a.TokensEnv, AuthHeaderToken},
		{ak + ".userEnv", a.UserEnv, AuthBasic},
		{ak + ".passwordsEnv", a.PasswordsEnv, AuthBasic},
	} {
		switch {
		case st.mode != a.Mode:
			if st.value != "" {
				p.add(st.key, "is only used with webhookAuth.mode %s; this system's mode is %s", st.mode, a.Mode)
			}
		case strings.HasSuffix(st.key, "Env"):
			c.validateEnv(p, st.key, st.value, need)
		case st.value == "":
			if need {
				p.add(st.key, "is required (the request header that carries the shared secret, e.g. X-Oneserve-Token)")
			}
		case !headerRE.MatchString(st.value):
			p.add(st.key, "must be an HTTP header name: letters, digits and '-', at most 64 characters")
		default:
			if why, bad := reservedHeaders[strings.ToLower(st.value)]; bad {
				p.add(st.key, "cannot be %s: %s", st.value, why)
			}
		}
	}
}

// readWebhookCredentials reads the credentials of the system's webhook
// authentication mode from the environment. Messages name the variable and
// never quote its value.
func readWebhookCredentials(p *problems, key string, s *System, getenv func(string) string) {
	a, ak := &s.WebhookAuth, key+".webhookAuth"
	switch a.Mode {
	case AuthStandardWebhooks:
		if !envRE.MatchString(s.WebhookSecretsEnv) {
			return
		}
		secrets, ok := secret(p, key+".webhookSecretsEnv", s.WebhookSecretsEnv, getenv)
		var err error
		if !ok {
			return
		}
		if strings.TrimSpace(secrets) == "" {
			p.add(key+".webhookSecretsEnv", "environment variable %s is not set", s.WebhookSecretsEnv)
		} else if s.WebhookSecrets, err = events.ParseSecrets(secrets); err != nil {
			p.add(key+".webhookSecretsEnv", "%s: %v", s.WebhookSecretsEnv, err)
		} else if len(s.WebhookSecrets) == 0 {
			p.add(key+".webhookSecretsEnv", "environment variable %s holds no whsec_ secret", s.WebhookSecretsEnv)
		}
	case AuthHeaderToken:
		if envRE.MatchString(a.TokensEnv) {
			a.Tokens = readSharedSecrets(p, ak+".tokensEnv", a.TokensEnv, "token", true, getenv)
		}
	case AuthBasic:
		if envRE.MatchString(a.UserEnv) {
			user, ok := secret(p, ak+".userEnv", a.UserEnv, getenv)
			a.User = strings.TrimSpace(user)
			switch {
			case !ok:
			case a.User == "":
				p.add(ak+".userEnv", "environment variable %s is not set", a.UserEnv)
			case strings.ContainsRune(a.User, ':') || strings.ContainsFunc(a.User, isControl):
				p.add(ak+".userEnv", "the user name in %s must not contain ':' or control characters (HTTP Basic cannot carry them)", a.UserEnv)
				a.User = ""
			}
		}
		if envRE.MatchString(a.PasswordsEnv) {
			a.Passwords = readSharedSecrets(p, ak+".passwordsEnv", a.PasswordsEnv, "password", false, getenv)
		}
	}
}

// readSharedSecrets reads one or more secrets separated by spaces (the new
// and the old one during a rotation). Each must be at least minSharedSecret
// characters; a header token must also be visible ASCII, since it travels
// as a header value.
func readSharedSecrets(p *problems, key, env, what string, ascii bool, getenv func(string) string) []string {
	v, ok := secret(p, key, env, getenv)
	if !ok {
		return nil
	}
	list := strings.Fields(v)
	if len(list) == 0 {
		p.add(key, "environment variable %s is not set", env)
		return nil
	}
	for i, v := range list {
		switch {
		case len([]rune(v)) < minSharedSecret:
			p.add(key, "%s %d in %s must be at least %d characters", what, i+1, env, minSharedSecret)
			return nil
		case strings.ContainsFunc(v, isControl) || ascii && strings.ContainsFunc(v, func(r rune) bool { return r > 0x7e }):
			p.add(key, "%s %d in %s must be printable ASCII (it travels in an HTTP header)", what, i+1, env)
			return nil
		}
	}
	return list
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func (c *Config) validateSystem(p *problems, key, name string) {
	if name == "" {
		p.add(key, "is required")
		return
	}
	if _, ok := c.Systems[name]; !ok {
		p.add(key, "unknown system %q (known: %s)", name, strings.Join(sortedKeys(c.Systems), ", "))
	}
}

// validateRefs checks each named {name, id} pair under key: both are
// required, and the id is the number the Oneserve API uses.
func validateRefs(p *problems, key string, refs map[string]Ref) {
	for k, r := range refs {
		rk := key + "." + k
		if r.Name == "" {
			p.add(rk+".name", "is required")
		}
		if r.ID == "" {
			p.add(rk+".id", "is required (the numeric ID the Oneserve API uses)")
		} else if !idRE.MatchString(r.ID) {
			p.add(rk+".id", "must be a whole number")
		}
	}
}

func validateStatusEvents(p *problems, key string, list []StatusEvent) {
	for i, s := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		if s.Status == "" {
			p.add(k+".status", "is required")
		} else if slices.ContainsFunc(list[:i], func(o StatusEvent) bool { return strings.EqualFold(o.Status, s.Status) }) {
			// StatusEvent matches case-insensitively, so duplicates are too.
			p.add(k+".status", "status %q is mapped twice", s.Status)
		}
		validateEventCode(p, k+".eventCode", s.EventCode)
		if len(s.Note) > 1000 {
			p.add(k+".note", "must be at most 1000 characters")
		}
	}
}

// directions keys a per-direction setting by the name its YAML section
// uses, so that both directions are checked by one loop.
func directions[T any](primaryToSecondary, secondaryToPrimary T) map[string]T {
	return map[string]T{"primaryToSecondary": primaryToSecondary, "secondaryToPrimary": secondaryToPrimary}
}

// validateEventCodes checks each named event code under key.
func validateEventCodes(p *problems, key string, codes map[string]string) {
	for k, code := range codes {
		validateEventCode(p, key+"."+k, code)
	}
}

func validateEventCode(p *problems, key, code string) {
	if code == "" {
		p.add(key, "is required (a job event code configured in the target system)")
	} else if !eventRE.MatchString(code) {
		p.add(key, "must be 1-6 letters or digits (Oneserve's sigEventCode)")
	}
}

// System returns the named system, or nil.
func (c *Config) System(name string) *System { return c.Systems[name] }

// Link returns the named link, or nil.
func (c *Config) Link(name string) *Link {
	for _, l := range c.Links {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// StatusEvent returns the mapping for a status change reported by side, or
// nil when that status is not mapped.
func (l *Link) StatusEvent(side events.Side, status string) *StatusEvent {
	list := l.StatusEvents.PrimaryToSecondary
	if side == events.Secondary {
		list = l.StatusEvents.SecondaryToPrimary
	}
	for i := range list {
		if strings.EqualFold(list[i].Status, status) {
			return &list[i]
		}
	}
	return nil
}

// EndStatuses returns the statuses in which side's job has ended.
func (l *Link) EndStatuses(side events.Side) []string {
	if side == events.Secondary {
		return l.Secondary.EndStatuses
	}
	return l.Primary.EndStatuses
}

// Priority returns the secondary priority for a primary priority name, or false.
func (l *Link) Priority(primary string) (Ref, bool) {
	for _, m := range l.Priorities {
		if strings.EqualFold(m.Primary.Name, primary) {
			return m.Secondary, true
		}
	}
	return Ref{}, false
}

// Category maps a document category reported by side to the other side's
// category, or returns false when the category is not shared.
func (l *Link) Category(side events.Side, category string) (string, bool) {
	for _, m := range l.DocumentCategories {
		if side == events.Primary && strings.EqualFold(m.Primary, category) {
			return m.Secondary, true
		}
		if side == events.Secondary && strings.EqualFold(m.Secondary, category) {
			return m.Primary, true
		}
	}
	return "", false
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
