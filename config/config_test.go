package config_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/oneserve"
)

const examplePath = "../o2o.example.yaml"

// secretOf returns a well-formed whsec_ secret of n bytes, each byte = fill.
func secretOf(n int, fill byte) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = fill + byte(i)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

var (
	acmeSecret    = secretOf(32, 1)
	fixitSecret   = secretOf(24, 100)
	fixitOldSec   = secretOf(64, 200)
	acmeTokenVal  = "acme-token-Zq7xKp2W"
	fixitTokenVal = "fixit-token-Lm4vNb8T"
	apiTokenVal   = "api-token-0123456789abcdef"
)

// exampleEnv holds the variables o2o.example.yaml names.
func exampleEnv() map[string]string {
	return map[string]string{
		"O2O_ACME_TOKEN":            acmeTokenVal,
		"O2O_ACME_WEBHOOK_SECRETS":  acmeSecret,
		"O2O_FIXIT_TOKEN":           fixitTokenVal,
		"O2O_FIXIT_WEBHOOK_SECRETS": fixitSecret + " " + fixitOldSec,
		"O2O_API_TOKEN":             apiTokenVal,
	}
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestLoadExample(t *testing.T) {
	cfg, err := config.Load(examplePath, config.Options{Getenv: getenv(exampleEnv())})
	require.NoError(t, err)

	// Systems.
	require.Len(t, cfg.Systems, 2)
	acme, fixit := cfg.System("acme"), cfg.System("fixit")
	require.NotNil(t, acme)
	require.NotNil(t, fixit)
	assert.Nil(t, cfg.System("nope"))
	assert.Equal(t, "acme", acme.Name)
	assert.Equal(t, "fixit", fixit.Name)
	assert.Equal(t, "http://localhost:9100/acme", acme.BaseURL)
	assert.Equal(t, "http://localhost:9100/fixit", fixit.BaseURL)
	assert.Equal(t, "O2O_ACME_TOKEN", acme.AuthTokenEnv)
	assert.Equal(t, "o2o-api", acme.APIUser)
	assert.Equal(t, 30*time.Second, acme.Timeout.D())
	assert.Equal(t, 30*time.Second, fixit.Timeout.D(), "default timeout")
	assert.Equal(t, oneserve.DefaultPaths, acme.Paths, "default paths (the override is commented out)")
	assert.Equal(t, oneserve.DefaultPaths, fixit.Paths)
	assert.Equal(t, "/rest/workflow/job/{jobRef}", fixit.Paths.JobRead)
	assert.Equal(t, "/rest/documents/{documentId}/content", fixit.Paths.DocumentDownload)

	// Secrets read from the environment.
	assert.Equal(t, acmeTokenVal, acme.AuthToken)
	assert.Equal(t, fixitTokenVal, fixit.AuthToken)
	require.Len(t, acme.WebhookSecrets, 1)
	assert.Equal(t, acmeSecret, acme.WebhookSecrets[0].String())
	require.Len(t, fixit.WebhookSecrets, 2, "rotation: two secrets in one variable")
	assert.Equal(t, fixitSecret, fixit.WebhookSecrets[0].String())
	assert.Equal(t, fixitOldSec, fixit.WebhookSecrets[1].String())

	// Links.
	require.Len(t, cfg.Links, 1)
	l := cfg.Link("acme-fixit")
	require.NotNil(t, l)
	assert.Same(t, cfg.Links[0], l)
	assert.Nil(t, cfg.Link("acme-other"))
	assert.Equal(t, "acme", l.Primary.System)
	assert.Equal(t, "fixit", l.Secondary.System)
	assert.Equal(t, config.Ref{Name: "Acme Housing", ID: "28"}, l.Primary.Client, "YAML number ids become strings")
	assert.Equal(t, config.Ref{Name: "Fixit Plumbing (subcontract)", ID: "7"}, l.Primary.Team)
	assert.Equal(t, config.Ref{Name: "Responsive Repairs", ID: "3"}, l.Secondary.WorkLogType)
	assert.Equal(t, config.Ref{Name: "Plumbing", ID: "12"}, l.Secondary.WorkType)
	assert.Equal(t, config.Ref{Name: "Subcontract", ID: "4"}, l.Secondary.Workflow)
	assert.Equal(t, config.Ref{Name: "Acme Housing", ID: "41"}, l.Secondary.Client)
	assert.Equal(t, config.Ref{Name: "Plumbing", ID: "9"}, l.Secondary.Service)
	assert.Equal(t, "Plumbing (9)", l.Secondary.Service.String())
	assert.Equal(t, "Accepted", l.Secondary.AcceptedStatus)
	assert.Equal(t, []config.PriorityMapping{
		{Primary: config.Ref{Name: "Emergency", ID: "1"}, Secondary: config.Ref{Name: "P1 Emergency", ID: "11"}},
		{Primary: config.Ref{Name: "Urgent", ID: "2"}, Secondary: config.Ref{Name: "P2 Urgent", ID: "12"}},
		{Primary: config.Ref{Name: "Routine", ID: "3"}, Secondary: config.Ref{Name: "P3 Routine", ID: "13"}},
	}, l.Priorities)
	assert.Equal(t, []config.CategoryMapping{
		{Primary: "Gas Certificate", Secondary: "Certificates"},
		{Primary: "Photos", Secondary: "Site Photos"},
	}, l.DocumentCategories)
	assert.Equal(t, []config.StatusEvent{
		{Status: "Cancelled", EventCode: "PCAN", Note: "The client cancelled this job"},
		{Status: "On Hold", EventCode: "PHOLD", Note: "The client put this job on hold"},
	}, l.StatusEvents.PrimaryToSecondary)
	require.Len(t, l.StatusEvents.SecondaryToPrimary, 3)
	assert.Equal(t, config.StatusEvent{Status: "Accepted", EventCode: "SACC", Note: "The subcontractor accepted the job"},
		l.StatusEvents.SecondaryToPrimary[0])
	assert.Equal(t, config.AppointmentEvents{Created: "APPT", Rescheduled: "RESCH", Cancelled: "APCAN", Completed: "APCOM"},
		l.AppointmentEvents)
	assert.Equal(t, 72*time.Hour, l.CloseAfter.D())

	// Webhook server.
	assert.Equal(t, ":8080", cfg.Webhook.Addr)
	assert.Equal(t, int64(1<<20), cfg.Webhook.MaxBodyBytes)
	assert.Equal(t, []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, 60 * time.Second},
		[]time.Duration{cfg.Webhook.ReadHeaderTimeout.D(), cfg.Webhook.ReadTimeout.D(), cfg.Webhook.WriteTimeout.D(), cfg.Webhook.IdleTimeout.D()})
	assert.Equal(t, 1024, cfg.Webhook.MaxConnections)
	assert.Equal(t, "O2O_API_TOKEN", cfg.Webhook.APITokenEnv)
	assert.Equal(t, apiTokenVal, cfg.Webhook.APIToken)
}

// The default Getenv is os.Getenv, and LoadFromEnv finds the file via O2O_CONFIG.
func TestLoadFromEnvUsesProcessEnvironment(t *testing.T) {
	for k, v := range exampleEnv() {
		t.Setenv(k, v)
	}
	t.Setenv(config.EnvConfigPath, examplePath)
	cfg, err := config.LoadFromEnv(config.Options{})
	require.NoError(t, err)
	assert.Equal(t, acmeTokenVal, cfg.System("acme").AuthToken)
	assert.Equal(t, apiTokenVal, cfg.Webhook.APIToken)

	t.Setenv(config.EnvConfigPath, "")
	_, err = config.LoadFromEnv(config.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "O2O_CONFIG is not set")
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml"), config.Options{})
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)

	p := filepath.Join(t.TempDir(), "o2o.yaml")
	require.NoError(t, os.WriteFile(p, nil, 0o600))
	_, err = config.Load(p, config.Options{Getenv: getenv(nil)})
	require.EqualError(t, err, "config "+p+": the file is empty")
}

func TestSkipSecretsLoadsWithoutEnvironment(t *testing.T) {
	var asked []string
	cfg, err := config.Load(examplePath, config.Options{SkipSecrets: true, Getenv: func(k string) string {
		asked = append(asked, k)
		return ""
	}})
	require.NoError(t, err)
	assert.Empty(t, asked, "SkipSecrets must not read any variable")
	for _, s := range cfg.Systems {
		assert.Empty(t, s.AuthToken)
		assert.Empty(t, s.WebhookSecrets)
		assert.NotEmpty(t, s.AuthTokenEnv)
	}
	assert.Empty(t, cfg.Webhook.APIToken)
	assert.NotNil(t, cfg.Link("acme-fixit"))

	// Without SkipSecrets the same empty environment is an error naming every variable.
	_, err = config.Load(examplePath, config.Options{Getenv: getenv(nil)})
	require.Error(t, err)
	for _, want := range []string{
		"systems.acme.authTokenEnv: environment variable O2O_ACME_TOKEN is not set",
		"systems.acme.webhookSecretsEnv: environment variable O2O_ACME_WEBHOOK_SECRETS is not set",
		"systems.fixit.authTokenEnv: environment variable O2O_FIXIT_TOKEN is not set",
		"systems.fixit.webhookSecretsEnv: environment variable O2O_FIXIT_WEBHOOK_SECRETS is not set",
		"webhook.apiTokenEnv: environment variable O2O_API_TOKEN is not set",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Contains(t, err.Error(), "5 problem(s)")
}

// baseYAML is a small valid configuration that the invalid cases edit.
const baseYAML = `systems:
  acme:
    baseURL: https://acme.example.com/
    authTokenEnv: ACME_TOKEN
    webhookSecretsEnv: ACME_SECRETS
    apiUser: o2o-api
  fixit:
    baseURL: https://fixit.example.com
    authTokenEnv: FIXIT_TOKEN
    webhookSecretsEnv: FIXIT_SECRETS
    apiUser: o2o-api
links:
  - name: acme-fixit
    primary:
      system: acme
      client: {name: Acme Housing, id: 28}
      team: {name: Fixit Plumbing, id: 7}
    secondary:
      system: fixit
      workLogType: {name: Responsive Repairs, id: 3}
      workType: {name: Plumbing, id: 12}
      workflow: {name: Subcontract, id: 4}
      client: {name: Acme Housing, id: 41}
      service: {name: Plumbing, id: 9}
      acceptedStatus: Accepted
    priorities:
      - {primary: {name: Emergency, id: 1}, secondary: {name: P1 Emergency, id: 11}}
      - {primary: {name: Routine, id: 3}, secondary: {name: P3 Routine, id: 13}}
    documentCategories:
      - {primary: Gas Certificate, secondary: Certificates}
    statusEvents:
      primaryToSecondary:
        - {status: Cancelled, eventCode: PCAN}
      secondaryToPrimary:
        - {status: Accepted, eventCode: SACC, note: accepted}
    appointmentEvents: {created: APPT, rescheduled: RESCH, cancelled: APCAN, completed: APCOM}
webhook:
  apiTokenEnv: API_TOKEN
`

func baseEnv() map[string]string {
	return map[string]string{
		"ACME_TOKEN": acmeTokenVal, "FIXIT_TOKEN": fixitTokenVal,
		"ACME_SECRETS": acmeSecret, "FIXIT_SECRETS": fixitSecret,
		"API_TOKEN": apiTokenVal,
	}
}

// linkBlock returns base's link re-named and pointing at another team.
func linkBlock(name, teamID string) string {
	start := strings.Index(baseYAML, "  - name: acme-fixit\n")
	end := strings.Index(baseYAML, "webhook:\n")
	b := baseYAML[start:end]
	b = strings.Replace(b, "name: acme-fixit", "name: "+name, 1)
	return strings.Replace(b, "team: {name: Fixit Plumbing, id: 7}", "team: {name: Other, id: "+teamID+"}", 1)
}

func TestBaseConfigIsValid(t *testing.T) {
	cfg, err := config.Parse([]byte(baseYAML), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	assert.Equal(t, "https://acme.example.com", cfg.System("acme").BaseURL, "trailing slash trimmed")

	// A second link on another team is fine too.
	two := strings.Replace(baseYAML, "webhook:\n", linkBlock("acme-fixit-2", "8")+"webhook:\n", 1)
	cfg, err = config.Parse([]byte(two), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	require.Len(t, cfg.Links, 2)
	assert.Equal(t, "8", cfg.Link("acme-fixit-2").Primary.Team.ID)
}

func TestParseInvalid(t *testing.T) {
	// edit replaces exactly one occurrence of old in baseYAML; a typo in the
	// table fails the test instead of silently testing the valid base.
	edit := func(pairs ...string) string {
		t.Helper()
		s := baseYAML
		for i := 0; i < len(pairs); i += 2 {
			require.Equal(t, 1, strings.Count(s, pairs[i]), "edit target %q", pairs[i])
			s = strings.Replace(s, pairs[i], pairs[i+1], 1)
		}
		return s
	}
	withEnv := func(k, v string) map[string]string {
		e := baseEnv()
		if v == "" {
			delete(e, k)
		} else {
			e[k] = v
		}
		return e
	}
	lineOf := func(doc, needle string) int {
		i := strings.Index(doc, needle)
		require.GreaterOrEqual(t, i, 0)
		return strings.Count(doc[:i], "\n") + 1
	}
	typo := edit("    apiUser: o2o-api\n  fixit:", "    apiUsr: o2o-api\n  fixit:")
	typoLink := edit("      acceptedStatus: Accepted", "      acceptedStatu: Accepted")
	wrongType := edit("webhook:\n", "webhook:\n  maxBodyBytes: lots\n")
	shortSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("only-23-bytes-of-secret"))
	longSecret := secretOf(65, 7)

	cases := []struct {
		name   string
		yaml   string
		env    map[string]string // nil: baseEnv()
		want   []string          // each must appear in the error
		secret []string          // none may appear in the error
	}{
		{name: "missing ref id", yaml: edit("workType: {name: Plumbing, id: 12}", "workType: {name: Plumbing}"),
			want: []string{"links[0] (acme-fixit).secondary.workType.id: is required"}},
		{name: "missing ref name", yaml: edit("client: {name: Acme Housing, id: 28}", "client: {id: 28}"),
			want: []string{"links[0] (acme-fixit).primary.client.name: is required"}},
		{name: "missing link name", yaml: edit("  - name: acme-fixit\n", "  - name: \"\"\n"),
			want: []string{"links[0].name: is required"}},
		{name: "bad link name", yaml: edit("  - name: acme-fixit\n", "  - name: Acme_Fixit\n"),
			want: []string{"links[0] (Acme_Fixit).name: link names must be lower-case"}},
		{name: "missing accepted status", yaml: edit("      acceptedStatus: Accepted\n", ""),
			want: []string{"links[0] (acme-fixit).secondary.acceptedStatus: is required"}},
		{name: "missing apiUser", yaml: edit("    apiUser: o2o-api\n  fixit:", "  fixit:"),
			want: []string{"systems.acme.apiUser: is required"}},
		{name: "missing baseURL", yaml: edit("    baseURL: https://fixit.example.com\n", ""),
			want: []string{"systems.fixit.baseURL: is required"}},
		{name: "missing authTokenEnv", yaml: edit("    authTokenEnv: FIXIT_TOKEN\n", ""),
			want: []string{"systems.fixit.authTokenEnv: is required (the name of an environment variable)"}},
		{name: "unknown system in link", yaml: edit("      system: fixit\n", "      system: fixitt\n"),
			want: []string{`links[0] (acme-fixit).secondary.system: unknown system "fixitt" (known: acme, fixit)`}},
		{name: "unknown primary system", yaml: edit("      system: acme\n", "      system: acne\n"),
			want: []string{`links[0] (acme-fixit).primary.system: unknown system "acne"`}},
		{name: "link to itself", yaml: edit("      system: fixit\n", "      system: acme\n"),
			want: []string{"links[0] (acme-fixit).secondary.system: must differ from primary.system"}},
		{name: "edge timeouts that cannot answer", yaml: edit("webhook:\n", "webhook:\n  readHeaderTimeout: 20s\n  writeTimeout: 20s\n  maxConnections: 4\n"),
			want: []string{"webhook.readHeaderTimeout: must not be longer than webhook.readTimeout (15s)",
				"webhook.writeTimeout: must be at least webhook.readTimeout (15s) + 8s (the wait for Temporal)",
				"webhook.maxConnections: must be at least 16"}},
		{name: "duplicate link name", yaml: edit("webhook:\n", linkBlock("acme-fixit", "8")+"webhook:\n"),
			want: []string{"links[1] (acme-fixit).name: duplicate link: links[0] has the same name"}},
		{name: "same team linked twice", yaml: edit("webhook:\n", linkBlock("acme-fixit-2", "7")+"webhook:\n"),
			want: []string{"links[1] (acme-fixit-2).primary.team: duplicate link: acme-fixit already links team 7 of acme"}},
		{name: "unmapped accepted status", yaml: edit("acceptedStatus: Accepted", "acceptedStatus: Agreed"),
			want: []string{`links[0] (acme-fixit).statusEvents.secondaryToPrimary: must map the accepted status "Agreed"`}},
		{name: "accepted status mapped only primary-to-secondary",
			yaml: edit("acceptedStatus: Accepted", "acceptedStatus: Cancelled"),
			want: []string{`links[0] (acme-fixit).statusEvents.secondaryToPrimary: must map the accepted status "Cancelled"`}},
		{name: "duplicate priority mapping",
			yaml: edit("      - {primary: {name: Routine, id: 3}", "      - {primary: {name: Emergency, id: 3}"),
			want: []string{`links[0] (acme-fixit).priorities[1].primary.name: priority "Emergency" is mapped twice`}},
		{name: "duplicate priority mapping, other case",
			yaml: edit("      - {primary: {name: Routine, id: 3}", "      - {primary: {name: EMERGENCY, id: 3}"),
			want: []string{`links[0] (acme-fixit).priorities[1].primary.name: priority "EMERGENCY" is mapped twice`}},
		{name: "no priorities",
			yaml: edit("      - {primary: {name: Emergency, id: 1}, secondary: {name: P1 Emergency, id: 11}}\n      - {primary: {name: Routine, id: 3}, secondary: {name: P3 Routine, id: 13}}\n", ""),
			want: []string{"links[0] (acme-fixit).priorities: at least one priority mapping is required"}},
		{name: "duplicate status mapping",
			yaml: edit("        - {status: Cancelled, eventCode: PCAN}\n", "        - {status: Cancelled, eventCode: PCAN}\n        - {status: Cancelled, eventCode: PCAN2}\n"),
			want: []string{`links[0] (acme-fixit).statusEvents.primaryToSecondary[1].status: status "Cancelled" is mapped twice`}},
		{name: "duplicate status mapping, other case",
			yaml: edit("        - {status: Accepted, eventCode: SACC, note: accepted}\n", "        - {status: Accepted, eventCode: SACC, note: accepted}\n        - {status: ACCEPTED, eventCode: SACC2}\n"),
			want: []string{`links[0] (acme-fixit).statusEvents.secondaryToPrimary[1].status: status "ACCEPTED" is mapped twice`}},
		{name: "duplicate category mapping, other case",
			yaml: edit("      - {primary: Gas Certificate, secondary: Certificates}\n", "      - {primary: Gas Certificate, secondary: Certificates}\n      - {primary: gas certificate, secondary: Other}\n"),
			want: []string{"links[0] (acme-fixit).documentCategories[1]: category is mapped twice"}},
		{name: "duplicate category mapping",
			yaml: edit("      - {primary: Gas Certificate, secondary: Certificates}\n", "      - {primary: Gas Certificate, secondary: Certificates}\n      - {primary: Photos, secondary: Certificates}\n"),
			want: []string{"links[0] (acme-fixit).documentCategories[1]: category is mapped twice"}},
		{name: "appointment event code longer than 6", yaml: edit("created: APPT", "created: APPTMNT"),
			want: []string{"links[0] (acme-fixit).appointmentEvents.created: must be 1-6 letters or digits"}},
		{name: "status event code longer than 6", yaml: edit("eventCode: SACC", "eventCode: SACCEPT"),
			want: []string{"links[0] (acme-fixit).statusEvents.secondaryToPrimary[0].eventCode: must be 1-6 letters or digits"}},
		{name: "event code missing", yaml: edit("cancelled: APCAN, ", ""),
			want: []string{"links[0] (acme-fixit).appointmentEvents.cancelled: is required"}},
		{name: "event code with space", yaml: edit("eventCode: PCAN", `eventCode: "P CAN"`),
			want: []string{"links[0] (acme-fixit).statusEvents.primaryToSecondary[0].eventCode: must be 1-6 letters or digits"}},
		{name: "non-numeric id", yaml: edit("team: {name: Fixit Plumbing, id: 7}", "team: {name: Fixit Plumbing, id: seven}"),
			want: []string{"links[0] (acme-fixit).primary.team.id: must be a whole number"}},
		{name: "negative id", yaml: edit("service: {name: Plumbing, id: 9}", "service: {name: Plumbing, id: -9}"),
			want: []string{"links[0] (acme-fixit).secondary.service.id: must be a whole number"}},
		{name: "fractional id", yaml: edit("secondary: {name: P3 Routine, id: 13}", "secondary: {name: P3 Routine, id: 1.5}"),
			want: []string{"links[0] (acme-fixit).priorities[1].secondary.id: must be a whole number"}},
		{name: "baseURL not absolute", yaml: edit("baseURL: https://acme.example.com/", "baseURL: acme.example.com/x"),
			want: []string{"systems.acme.baseURL: must be an absolute http(s) URL"}},
		{name: "baseURL not http", yaml: edit("baseURL: https://acme.example.com/", "baseURL: ftp://acme.example.com/"),
			want: []string{"systems.acme.baseURL: must be an absolute http(s) URL"}},
		{name: "baseURL with credentials",
			yaml:   edit("baseURL: https://acme.example.com/", "baseURL: https://o2o:Pw-Hunter2-Xy@acme.example.com/"),
			want:   []string{"systems.acme.baseURL: must not carry a query, fragment or credentials"},
			secret: []string{"Pw-Hunter2-Xy"}},
		{name: "baseURL with query", yaml: edit("baseURL: https://acme.example.com/", "baseURL: https://acme.example.com/?token=Qy7-tok"),
			want: []string{"systems.acme.baseURL: must not carry a query, fragment or credentials"}, secret: []string{"Qy7-tok"}},
		{name: "secret env var missing", env: withEnv("ACME_SECRETS", ""),
			want: []string{"systems.acme.webhookSecretsEnv: environment variable ACME_SECRETS is not set"}},
		{name: "secret env var blank", env: withEnv("ACME_SECRETS", "  \t "),
			want: []string{"systems.acme.webhookSecretsEnv: environment variable ACME_SECRETS is not set"}},
		{name: "secret env var holds only separators", env: withEnv("ACME_SECRETS", " , ,"),
			want: []string{"systems.acme.webhookSecretsEnv: environment variable ACME_SECRETS holds no whsec_ secret"}},
		{name: "token env var missing", env: withEnv("FIXIT_TOKEN", ""),
			want: []string{"systems.fixit.authTokenEnv: environment variable FIXIT_TOKEN is not set"}},
		{name: "secret without whsec_", env: withEnv("ACME_SECRETS", strings.TrimPrefix(acmeSecret, "whsec_")),
			want:   []string{`systems.acme.webhookSecretsEnv: ACME_SECRETS: secret 1 must start with "whsec_"`},
			secret: []string{strings.TrimPrefix(acmeSecret, "whsec_")}},
		{name: "secret bad base64", env: withEnv("ACME_SECRETS", "whsec_Not*Base64*Sekrit!"),
			want:   []string{"systems.acme.webhookSecretsEnv: ACME_SECRETS: secret 1 is not valid base64"},
			secret: []string{"Not*Base64*Sekrit!", "Sekrit"}},
		{name: "secret too short", env: withEnv("ACME_SECRETS", shortSecret),
			want:   []string{"systems.acme.webhookSecretsEnv: ACME_SECRETS: secret 1 must decode to 24-64 bytes, not 23"},
			secret: []string{strings.TrimPrefix(shortSecret, "whsec_"), "only-23-bytes"}},
		{name: "secret too long", env: withEnv("ACME_SECRETS", longSecret),
			want:   []string{"systems.acme.webhookSecretsEnv: ACME_SECRETS: secret 1 must decode to 24-64 bytes, not 65"},
			secret: []string{strings.TrimPrefix(longSecret, "whsec_")}},
		{name: "second secret malformed", env: withEnv("ACME_SECRETS", acmeSecret+" whsec_Zm9vYmFy"),
			want:   []string{"systems.acme.webhookSecretsEnv: ACME_SECRETS: secret 2 must decode to 24-64 bytes, not 6"},
			secret: []string{strings.TrimPrefix(acmeSecret, "whsec_"), "Zm9vYmFy"}},
		{name: "api token too short", env: withEnv("API_TOKEN", "short-Tk9"),
			want: []string{"webhook.apiTokenEnv: the token in API_TOKEN must be at least 16 characters"}, secret: []string{"short-Tk9"}},
		{name: "api token missing", env: withEnv("API_TOKEN", ""),
			want: []string{"webhook.apiTokenEnv: environment variable API_TOKEN is not set"}},
		{name: "unknown key with line number", yaml: typo,
			want: []string{fmt.Sprintf("line %d: field apiUsr not found", lineOf(typo, "apiUsr"))}},
		{name: "unknown key in a link with line number", yaml: typoLink,
			want: []string{fmt.Sprintf("line %d: field acceptedStatu not found", lineOf(typoLink, "acceptedStatu"))}},
		{name: "empty file", yaml: "", want: []string{"the file is empty"}},
		{name: "only comments", yaml: "# nothing here\n", want: []string{"the file is empty"}},
		{name: "no links", yaml: "systems: {}\n",
			want: []string{"systems: at least two systems are required", "links: at least one link is required"}},
		{name: "one system", yaml: edit("  fixit:\n    baseURL: https://fixit.example.com\n    authTokenEnv: FIXIT_TOKEN\n    webhookSecretsEnv: FIXIT_SECRETS\n    apiUser: o2o-api\n", ""),
			want: []string{"systems: at least two systems are required", `links[0] (acme-fixit).secondary.system: unknown system "fixit" (known: acme)`}},
		{name: "empty system", yaml: edit("  fixit:\n    baseURL: https://fixit.example.com\n    authTokenEnv: FIXIT_TOKEN\n    webhookSecretsEnv: FIXIT_SECRETS\n    apiUser: o2o-api\n", "  fixit:\n"),
			want: []string{"systems.fixit: is empty"}},
		{name: "bad system name", yaml: strings.ReplaceAll(baseYAML, "fixit", "Fix_It"),
			env:  map[string]string{"ACME_TOKEN": "a", "ACME_SECRETS": acmeSecret, "Fix_It_TOKEN": "b", "Fix_It_SECRETS": fixitSecret, "API_TOKEN": apiTokenVal},
			want: []string{"systems.Fix_It: system names must be lower-case"}},
		{name: "token value instead of env var name",
			yaml:   edit("authTokenEnv: ACME_TOKEN", "authTokenEnv: abc-123-secret"),
			want:   []string{"systems.acme.authTokenEnv: must be an environment variable name like O2O_TOKEN, not the value itself"},
			secret: []string{"abc-123-secret"}},
		{name: "secret value instead of env var name",
			yaml:   edit("webhookSecretsEnv: ACME_SECRETS", "webhookSecretsEnv: "+acmeSecret),
			want:   []string{"systems.acme.webhookSecretsEnv: must be an environment variable name like O2O_TOKEN, not the value itself"},
			secret: []string{strings.TrimPrefix(acmeSecret, "whsec_")}},
		{name: "api token value instead of env var name",
			yaml:   edit("apiTokenEnv: API_TOKEN", "apiTokenEnv: tok-Secret-9f8e7d6c5b4a"),
			want:   []string{"webhook.apiTokenEnv: must be an environment variable name like O2O_TOKEN, not the value itself"},
			secret: []string{"tok-Secret-9f8e7d6c5b4a"}},
		{name: "path override without {jobRef}",
			yaml: edit("    apiUser: o2o-api\n  fixit:", "    apiUser: o2o-api\n    paths: {jobRead: /rest/workflow/job}\n  fixit:"),
			want: []string{"systems.acme.paths.jobRead: must contain {jobRef}"}},
		{name: "path override with wrong placeholder",
			yaml: edit("    apiUser: o2o-api\n  fixit:", "    apiUser: o2o-api\n    paths: {documentDownload: \"/rest/documents/{jobRef}/content\"}\n  fixit:"),
			want: []string{"systems.acme.paths.documentDownload: must contain {documentId}", "systems.acme.paths.documentDownload: unknown placeholder {jobRef}"}},
		{name: "relative path override",
			yaml: edit("    apiUser: o2o-api\n  fixit:", "    apiUser: o2o-api\n    paths: {documentUpload: \"rest/documents/job/{jobRef}\"}\n  fixit:"),
			want: []string{"systems.acme.paths.documentUpload: must start with /"}},
		{name: "bad duration", yaml: edit("    apiUser: o2o-api\n  fixit:", "    apiUser: o2o-api\n    timeout: 30 seconds\n  fixit:"),
			want: []string{`"30 seconds" is not a duration like 30s or 72h`, "line 7"}},
		{name: "negative duration", yaml: edit("    appointmentEvents:", "    closeAfter: -1h\n    appointmentEvents:"),
			want: []string{`"-1h" is not a duration`}},
		{name: "reconcileEvery too short", yaml: edit("    appointmentEvents:", "    reconcileEvery: 500ms\n    appointmentEvents:"),
			want: []string{"links[0] (acme-fixit).reconcileEvery: must be at least 1s"}},
		{name: "reconcileHeartbeatTimeout out of range", yaml: edit("    appointmentEvents:", "    reconcileEvery: 10s\n    reconcileHeartbeatTimeout: 11s\n    appointmentEvents:"),
			want: []string{"links[0] (acme-fixit).reconcileHeartbeatTimeout: must be from 100ms to reconcileEvery (10s)"}},
		{name: "reconcileHeartbeatTimeout too short", yaml: edit("    appointmentEvents:", "    reconcileHeartbeatTimeout: 50ms\n    appointmentEvents:"),
			want: []string{"links[0] (acme-fixit).reconcileHeartbeatTimeout: must be from 100ms"}},
		{name: "maxBodyBytes too small", yaml: edit("webhook:\n", "webhook:\n  maxBodyBytes: 100\n"),
			want: []string{"webhook.maxBodyBytes: must be between 1024 and 16777216"}},
		{name: "wrong YAML type", yaml: wrongType,
			want: []string{fmt.Sprintf("line %d: cannot unmarshal !!str `lots` into int64", lineOf(wrongType, "lots"))}},
		{name: "duplicate YAML key", yaml: edit("    apiUser: o2o-api\n  fixit:", "    apiUser: o2o-api\n    apiUser: other\n  fixit:"),
			want: []string{`mapping key "apiUser" already defined`}},
		{name: "empty link", yaml: edit("webhook:\n", "  -\nwebhook:\n"), want: []string{"links[1]: is empty"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.yaml
			if doc == "" && tc.want[0] != "the file is empty" {
				doc = baseYAML
			}
			env := tc.env
			if env == nil {
				env = baseEnv()
			}
			cfg, err := config.Parse([]byte(doc), config.Options{Getenv: getenv(env)})
			require.Error(t, err)
			assert.Nil(t, cfg)
			msg := err.Error()
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
			for _, s := range append(tc.secret, acmeTokenVal, fixitTokenVal, apiTokenVal,
				strings.TrimPrefix(acmeSecret, "whsec_"), strings.TrimPrefix(fixitSecret, "whsec_")) {
				assert.NotContains(t, msg, s, "the error must not quote a secret")
			}
			// Stable: the same input gives the same message.
			_, err2 := config.Parse([]byte(doc), config.Options{Getenv: getenv(env)})
			require.Error(t, err2)
			assert.Equal(t, msg, err2.Error())
		})
	}
}

// All problems are reported at once, sorted, with a count.
func TestParseReportsEveryProblem(t *testing.T) {
	doc := strings.NewReplacer(
		"workType: {name: Plumbing, id: 12}", "workType: {name: Plumbing}",
		"created: APPT", "created: APPTMNT",
		"baseURL: https://acme.example.com/", "baseURL: /acme",
	).Replace(baseYAML)
	_, err := config.Parse([]byte(doc), config.Options{Getenv: getenv(baseEnv())})
	require.EqualError(t, err, "3 problem(s):\n"+
		"  links[0] (acme-fixit).appointmentEvents.created: must be 1-6 letters or digits (Oneserve's sigEventCode)\n"+
		"  links[0] (acme-fixit).secondary.workType.id: is required (the numeric ID the Oneserve API uses)\n"+
		"  systems.acme.baseURL: must be an absolute http(s) URL")
}

func TestParseDefaultsAndOverrides(t *testing.T) {
	doc := strings.NewReplacer(
		"    apiUser: o2o-api\n  fixit:", "    apiUser: o2o-api\n    timeout: 5s\n    paths: {jobRead: \"/api/v2/jobs/{jobRef}\"}\n  fixit:",
		"    appointmentEvents:", "    closeAfter: 1h30m\n    appointmentEvents:",
		"webhook:\n", "webhook:\n  addr: 127.0.0.1:9000\n  maxBodyBytes: 2048\n",
	).Replace(baseYAML)
	cfg, err := config.Parse([]byte(doc), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	acme := cfg.System("acme")
	assert.Equal(t, 5*time.Second, acme.Timeout.D())
	assert.Equal(t, "/api/v2/jobs/{jobRef}", acme.Paths.JobRead)
	assert.Equal(t, oneserve.DefaultPaths.DocumentList, acme.Paths.DocumentList, "paths not overridden keep their default")
	assert.Equal(t, oneserve.DefaultPaths.DocumentDownload, acme.Paths.DocumentDownload)
	assert.Equal(t, oneserve.DefaultPaths.DocumentUpload, acme.Paths.DocumentUpload)
	assert.Equal(t, 90*time.Minute, cfg.Links[0].CloseAfter.D())
	assert.Equal(t, 15*time.Minute, cfg.Links[0].ReconcileEvery.D(), "default reconcileEvery")
	assert.Equal(t, time.Minute, cfg.Links[0].ReconcileHeartbeatTimeout.D(), "default reconcileHeartbeatTimeout")
	assert.Equal(t, "127.0.0.1:9000", cfg.Webhook.Addr)
	assert.Equal(t, int64(2048), cfg.Webhook.MaxBodyBytes)

	// A reconcileEvery compressed to seconds takes the heartbeat timeout
	// down with it (a heartbeat timeout longer than the run would not do).
	short := strings.Replace(baseYAML, "    appointmentEvents:", "    reconcileEvery: 20s\n    appointmentEvents:", 1)
	cfg, err = config.Parse([]byte(short), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	assert.Equal(t, 20*time.Second, cfg.Links[0].ReconcileEvery.D())
	assert.Equal(t, 20*time.Second, cfg.Links[0].ReconcileHeartbeatTimeout.D())

	// Without webhook.apiTokenEnv the token is simply empty.
	noToken := strings.Replace(baseYAML, "webhook:\n  apiTokenEnv: API_TOKEN\n", "", 1)
	require.NotEqual(t, baseYAML, noToken)
	cfg, err = config.Parse([]byte(noToken), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	assert.Empty(t, cfg.Webhook.APIToken)
	assert.Equal(t, ":8080", cfg.Webhook.Addr)
	assert.Equal(t, int64(1<<20), cfg.Webhook.MaxBodyBytes)
	assert.Equal(t, 72*time.Hour, cfg.Links[0].CloseAfter.D(), "default closeAfter")
	assert.Equal(t, 30*time.Second, cfg.System("fixit").Timeout.D(), "default timeout")

	// Ids given as strings are kept as they are.
	quoted := strings.Replace(baseYAML, "team: {name: Fixit Plumbing, id: 7}", `team: {name: Fixit Plumbing, id: "0007"}`, 1)
	cfg, err = config.Parse([]byte(quoted), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	assert.Equal(t, "0007", cfg.Links[0].Primary.Team.ID)
}

func exampleLink(t *testing.T) *config.Link {
	t.Helper()
	cfg, err := config.Load(examplePath, config.Options{SkipSecrets: true})
	require.NoError(t, err)
	l := cfg.Link("acme-fixit")
	require.NotNil(t, l)
	return l
}

func TestLinkStatusEvent(t *testing.T) {
	l := exampleLink(t)
	cases := []struct {
		side   events.Side
		status string
		code   string // "" = not mapped
	}{
		{events.Primary, "Cancelled", "PCAN"},
		{events.Primary, "cancelled", "PCAN"},
		{events.Primary, "ON HOLD", "PHOLD"},
		{events.Secondary, "Cancelled", "SCAN"},
		{events.Secondary, "CANCELLED", "SCAN"},
		{events.Secondary, "accepted", "SACC"},
		{events.Secondary, "Completed", "SCOMP"},
		{events.Secondary, "On Hold", ""},  // only mapped primary→secondary
		{events.Primary, "Accepted", ""},   // only mapped secondary→primary
		{events.Primary, "Cancelled ", ""}, // no trimming: exact up to case
		{events.Primary, "", ""},
		{events.Secondary, "In Progress", ""},
	}
	for _, tc := range cases {
		got := l.StatusEvent(tc.side, tc.status)
		if tc.code == "" {
			assert.Nil(t, got, "%s %q", tc.side, tc.status)
			continue
		}
		if assert.NotNil(t, got, "%s %q", tc.side, tc.status) {
			assert.Equal(t, tc.code, got.EventCode, "%s %q", tc.side, tc.status)
		}
	}
	got := l.StatusEvent(events.Secondary, "completed")
	require.NotNil(t, got)
	assert.Equal(t, config.StatusEvent{Status: "Completed", EventCode: "SCOMP", Note: "The subcontractor completed the job"}, *got)
}

func TestLinkPriority(t *testing.T) {
	l := exampleLink(t)
	for in, want := range map[string]config.Ref{
		"Emergency": {Name: "P1 Emergency", ID: "11"},
		"emergency": {Name: "P1 Emergency", ID: "11"},
		"URGENT":    {Name: "P2 Urgent", ID: "12"},
		"Routine":   {Name: "P3 Routine", ID: "13"},
	} {
		got, ok := l.Priority(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "Low", "P1 Emergency", "Emergency!"} {
		got, ok := l.Priority(in)
		assert.False(t, ok, in)
		assert.Equal(t, config.Ref{}, got, in)
	}
}

func TestLinkCategory(t *testing.T) {
	l := exampleLink(t)
	cases := []struct {
		side events.Side
		in   string
		want string // "" = not shared
	}{
		{events.Primary, "Gas Certificate", "Certificates"},
		{events.Primary, "gas certificate", "Certificates"},
		{events.Primary, "PHOTOS", "Site Photos"},
		{events.Secondary, "Certificates", "Gas Certificate"},
		{events.Secondary, "site photos", "Photos"},
		{events.Primary, "Certificates", ""},      // a secondary name, reported by the primary
		{events.Secondary, "Gas Certificate", ""}, // a primary name, reported by the secondary
		{events.Secondary, "Photos", ""},
		{events.Primary, "Invoices", ""},
		{events.Primary, "", ""},
	}
	for _, tc := range cases {
		got, ok := l.Category(tc.side, tc.in)
		assert.Equal(t, tc.want != "", ok, "%s %q", tc.side, tc.in)
		assert.Equal(t, tc.want, got, "%s %q", tc.side, tc.in)
	}
}

func TestTokensOnlyReadsTheAPITokensAndNothingElse(t *testing.T) {
	env := map[string]string{"O2O_ACME_TOKEN": "acme-token", "O2O_FIXIT_TOKEN": "fixit-token"}
	var asked []string
	cfg, err := config.Load("../o2o.example.yaml", config.Options{TokensOnly: true, Getenv: func(k string) string {
		if !strings.HasSuffix(k, "_FILE") { // each secret is also looked for in NAME_FILE
			asked = append(asked, k)
		}
		return env[k]
	}})
	require.NoError(t, err, "webhook secrets and the operator token are not needed")
	require.Equal(t, "acme-token", cfg.System("acme").AuthToken)
	require.Equal(t, "fixit-token", cfg.System("fixit").AuthToken)
	require.Empty(t, cfg.System("acme").WebhookSecrets)
	require.ElementsMatch(t, []string{"O2O_ACME_TOKEN", "O2O_FIXIT_TOKEN"}, asked)

	_, err = config.Load("../o2o.example.yaml", config.Options{TokensOnly: true, Getenv: func(string) string { return "" }})
	require.ErrorContains(t, err, "systems.acme.authTokenEnv: environment variable O2O_ACME_TOKEN is not set")
}

func TestDocumentApprovalIsValidated(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	require.NoError(t, err)
	base := string(raw)
	add := func(block string) string {
		return strings.Replace(base, "    closeAfter: 72h\n", "    closeAfter: 72h\n"+block, 1)
	}
	cfg, err := config.Parse([]byte(add("    documentApproval: {secondaryToPrimary: required, withdrawnEvents: {secondaryToPrimary: SWDRAW}}\n")), config.Options{SkipSecrets: true})
	require.NoError(t, err)
	l := cfg.Link("acme-fixit")
	require.True(t, l.ApprovalRequired(events.Secondary))
	require.False(t, l.ApprovalRequired(events.Primary))
	require.Equal(t, "SWDRAW", l.WithdrawnEventCode(events.Secondary))

	_, err = config.Parse([]byte(add("    documentApproval: {primaryToSecondary: maybe, withdrawnEvents: {secondaryToPrimary: SWDRAW}}\n")), config.Options{SkipSecrets: true})
	require.ErrorContains(t, err, `links[0] (acme-fixit).documentApproval.primaryToSecondary: must be "required" or "off"`)
	require.ErrorContains(t, err, `links[0] (acme-fixit).documentApproval.withdrawnEvents.secondaryToPrimary: is only used when documentApproval.secondaryToPrimary is "required"`)
}

func TestVersionsNeedEveryDecisionCodeWhenEnabled(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	require.NoError(t, err)
	add := func(block string) []byte {
		return []byte(strings.Replace(string(raw), "    closeAfter: 72h\n", "    closeAfter: 72h\n"+block, 1))
	}
	cfg, err := config.Parse(add("    versions:\n      enabled: true\n      events:\n"+
		"        primaryToSecondary: { approved: PVAPP, rejected: PVREJ, cancelled: PVCAN }\n"+
		"        secondaryToPrimary: { approved: SVAPP, rejected: SVREJ, cancelled: SVCAN }\n"), config.Options{SkipSecrets: true})
	require.NoError(t, err)
	l := cfg.Link("acme-fixit")
	require.Equal(t, "PVREJ", l.VersionEventCode(events.Primary, "Rejected"))
	require.Equal(t, "SVAPP", l.VersionEventCode(events.Secondary, "approved"))
	require.Empty(t, l.VersionEventCode(events.Secondary, "Pending"))

	_, err = config.Parse(add("    versions: { enabled: true }\n"), config.Options{SkipSecrets: true})
	require.ErrorContains(t, err, "links[0] (acme-fixit).versions.events.primaryToSecondary.approved: is required")
	_, err = config.Parse(add("    versions: { enabled: false }\n"), config.Options{SkipSecrets: true})
	require.NoError(t, err, "codes are only needed when enabled")
}
