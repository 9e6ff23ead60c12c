package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/config"
)

// withPoll sets fixit's events and poll block, and the link's discovery
// block (either may be empty).
func withPoll(t *testing.T, acmeEvents, fixitBlock, discovery string) []byte {
	t.Helper()
	doc := baseYAML
	edit := func(old, new string) {
		require.Equal(t, 1, strings.Count(doc, old), old)
		doc = strings.Replace(doc, old, new, 1)
	}
	if acmeEvents != "" {
		edit("    webhookSecretsEnv: ACME_SECRETS\n", "    webhookSecretsEnv: ACME_SECRETS\n    events: "+acmeEvents+"\n")
	}
	if fixitBlock != "" {
		edit("    webhookSecretsEnv: FIXIT_SECRETS\n", "    webhookSecretsEnv: FIXIT_SECRETS\n"+fixitBlock)
	}
	if discovery != "" {
		edit("    appointmentEvents:", "    discovery: "+discovery+"\n    appointmentEvents:")
	}
	return []byte(doc)
}

func TestPollDefaultsAndOverrides(t *testing.T) {
	parse := func(doc []byte) *config.Config {
		t.Helper()
		cfg, err := config.Parse(doc, config.Options{Getenv: getenv(baseEnv())})
		require.NoError(t, err)
		return cfg
	}
	// Not polled: no poll settings, nothing to read.
	cfg := parse([]byte(baseYAML))
	assert.Equal(t, config.Poll{}, cfg.System("fixit").Poll)
	changes, assignments := cfg.PollEventIDs("fixit")
	assert.Empty(t, changes)
	assert.Empty(t, assignments)

	// Polled with defaults; YAML numbers are ids as strings.
	cfg = parse(withPoll(t, "", "    events: poll\n    poll: {eventIds: [211, \"212\"]}\n", ""))
	assert.Equal(t, config.Poll{Every: config.Duration(time.Minute), EventIDs: []string{"211", "212"},
		Overlap: config.Duration(5 * time.Minute), Lookback: config.Duration(time.Hour)}, cfg.System("fixit").Poll)
	changes, assignments = cfg.PollEventIDs("fixit")
	assert.Equal(t, []string{"211", "212"}, changes)
	assert.Empty(t, assignments, "fixit is no link's primary")

	// Every key set; discovery on a polled primary with no change ids.
	cfg = parse(withPoll(t, "both", "    events: both\n    poll: {every: 5s, eventIds: [211], overlap: 30s, lookback: 48h}\n",
		"{assignmentEventId: 110}"))
	assert.Equal(t, config.Poll{Every: config.Duration(5 * time.Second), EventIDs: []string{"211"},
		Overlap: config.Duration(30 * time.Second), Lookback: config.Duration(48 * time.Hour)}, cfg.System("fixit").Poll)
	assert.Equal(t, "110", cfg.Link("acme-fixit").Discovery.AssignmentEventID)
	changes, assignments = cfg.PollEventIDs("acme")
	assert.Empty(t, changes)
	assert.Equal(t, []string{"110"}, assignments)
	assert.Equal(t, time.Minute, cfg.System("acme").Poll.Every.D(), "acme is polled (both) with the defaults")
}

func TestPollInvalid(t *testing.T) {
	for name, c := range map[string]struct {
		acmeEvents, fixit, discovery string
		want                         []string
	}{
		"poll on a system that is not polled": {fixit: "    poll: {eventIds: [211]}\n",
			want: []string{"systems.fixit.poll: is only used with events: poll or both (this system's events is webhook)"}},
		"event code instead of id": {fixit: "    events: poll\n    poll: {eventIds: [SACC, 211, 211]}\n",
			want: []string{`systems.fixit.poll.eventIds[0]: "SACC" must be a numeric event id, as jobEventsXML takes them (not an event code)`,
				"systems.fixit.poll.eventIds[2]: event id 211 is listed twice"}},
		"every too short and too long": {fixit: "    events: poll\n    poll: {every: 500ms, overlap: 61m, lookback: 721h}\n",
			want: []string{"systems.fixit.poll.every: must be from 1s to 24h",
				"systems.fixit.poll.overlap: must be from 1s to 1h",
				"systems.fixit.poll.lookback: must be at most 720h"}},
		"every way too long": {fixit: "    events: poll\n    poll: {every: 48h}\n",
			want: []string{"systems.fixit.poll.every: must be from 1s to 24h"}},
		"not a duration": {fixit: "    events: poll\n    poll: {every: often}\n",
			want: []string{`"often" is not a duration like 30s or 72h`}},
		"a typo": {fixit: "    events: poll\n    poll: {evry: 1m}\n",
			want: []string{"field evry not found"}},
		"discovery on a primary that is not polled": {discovery: "{assignmentEventId: 110}",
			want: []string{"links[0] (acme-fixit).discovery.assignmentEventId: discovery reads the primary's job events, but acme is not polled: set systems.acme.events to poll or both"}},
		"discovery with a code": {acmeEvents: "poll", discovery: "{assignmentEventId: ASSIGN}",
			want: []string{`links[0] (acme-fixit).discovery.assignmentEventId: "ASSIGN" must be a numeric event id`}},
		"discovery typo": {acmeEvents: "poll", discovery: "{assignmentEventID: 110}",
			want: []string{"field assignmentEventID not found"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Parse(withPoll(t, c.acmeEvents, c.fixit, c.discovery), config.Options{Getenv: getenv(baseEnv())})
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
