package simulator_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/simulator"
)

func TestLoadSeedDev(t *testing.T) {
	t.Setenv("O2O_ACME_TOKEN", acmeToken)
	t.Setenv("O2O_FIXIT_TOKEN", fixitToken)
	t.Setenv("SIM_ACME_WEBHOOK_SECRET", acmeSecret.String())
	t.Setenv("SIM_FIXIT_WEBHOOK_SECRET", fixitSecret.String())
	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.NoError(t, err)
	require.Len(t, seed.Systems, 2)

	acme, fixit := seed.Systems[0], seed.Systems[1]
	require.Equal(t, "acme", acme.Name)
	require.Equal(t, acmeToken, acme.AuthToken)
	require.Equal(t, []byte(acmeSecret), []byte(acme.WebhookSecrets[0]))
	require.Equal(t, "o2o-api", acme.APIUser)
	require.Equal(t, "http://localhost:8080/webhooks/acme", acme.WebhookURL)
	require.Equal(t, "AC", acme.JobRefPrefix)
	require.Equal(t, simulator.Ref{ID: "28", Name: "Acme Housing"}, acme.Clients[0])
	require.Contains(t, acme.Teams, simulator.Ref{ID: "7", Name: "Fixit Plumbing (subcontract)"})

	require.Equal(t, "fixit", fixit.Name)
	require.Equal(t, fixitToken, fixit.AuthToken)
	require.Equal(t, "FX", fixit.JobRefPrefix)
	require.Equal(t, simulator.Ref{ID: "41", Name: "Acme Housing"}, fixit.Clients[0])
	require.Contains(t, fixit.Priorities, simulator.Ref{ID: "11", Name: "P1 Emergency"})
	require.Contains(t, fixit.Statuses, simulator.Ref{ID: "2", Name: "Accepted"})

	// The deliberate gaps.
	for _, s := range fixit.Sites {
		require.NotEqual(t, "SITE-003", s.SiteRef)
	}
	for _, c := range fixit.SORCodes {
		require.NotEqual(t, "ELE001", c.Code)
	}
}

func TestLoadSeedEnvErrors(t *testing.T) {
	t.Setenv("O2O_ACME_TOKEN", acmeToken)
	t.Setenv("O2O_FIXIT_TOKEN", "")
	t.Setenv("SIM_ACME_WEBHOOK_SECRET", acmeSecret.String())
	t.Setenv("SIM_FIXIT_WEBHOOK_SECRET", fixitSecret.String())
	_, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.ErrorContains(t, err, "O2O_FIXIT_TOKEN")

	t.Setenv("O2O_FIXIT_TOKEN", fixitToken)
	t.Setenv("SIM_ACME_WEBHOOK_SECRET", "not-a-secret-value")
	_, err = simulator.LoadSeed("../dev/simulator.yaml")
	require.ErrorContains(t, err, "SIM_ACME_WEBHOOK_SECRET")
	require.NotContains(t, err.Error(), "not-a-secret-value", "errors never quote secrets")

	_, err = simulator.LoadSeed("does-not-exist.yaml")
	require.Error(t, err)
}

func TestLoadSeedRejectsUnknownKeys(t *testing.T) {
	t.Setenv("SEED_TEST_TOKEN", "x")
	path := filepath.Join(t.TempDir(), "seed.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
systems:
  - name: one
    authTokenEnv: SEED_TEST_TOKEN
    apiUser: api
    jobRefPrefix: ON
    clients: [{ id: 1, name: C }]
    statuses: [{ id: 1, name: Newly Created }]
    sitez: []
`), 0o600))
	_, err := simulator.LoadSeed(path)
	require.ErrorContains(t, err, "sitez")
}

func minimalSystem() simulator.SystemSeed {
	return simulator.SystemSeed{
		Name: "one", AuthToken: "t", APIUser: "api", JobRefPrefix: "ON",
		Clients:  []simulator.Ref{{ID: "1", Name: "Client"}},
		Statuses: []simulator.Ref{{ID: "1", Name: simulator.StatusNewlyCreated}},
		Contacts: []simulator.Contact{{ContactRef: "C1", Name: "Fake Person"}},
		Sites:    []simulator.Site{{ClientID: "1", SiteRef: "S1", ContactRefs: []string{"C1"}}},
	}
}

func TestSeedValidate(t *testing.T) {
	require.NoError(t, simulator.Seed{Systems: []simulator.SystemSeed{minimalSystem()}}.Validate())

	cases := map[string]struct {
		mutate func(*simulator.Seed)
		want   string
	}{
		"no systems":             {func(s *simulator.Seed) { s.Systems = nil }, "at least one system"},
		"bad name":               {func(s *simulator.Seed) { s.Systems[0].Name = "Has Space" }, "name"},
		"reserved name":          {func(s *simulator.Seed) { s.Systems[0].Name = "healthz" }, "reserved"},
		"duplicate name":         {func(s *simulator.Seed) { s.Systems = append(s.Systems, s.Systems[0]) }, "used twice"},
		"no token":               {func(s *simulator.Seed) { s.Systems[0].AuthToken = "" }, "auth token"},
		"no api user":            {func(s *simulator.Seed) { s.Systems[0].APIUser = "" }, "apiUser"},
		"bad prefix":             {func(s *simulator.Seed) { s.Systems[0].JobRefPrefix = "fx" }, "jobRefPrefix"},
		"webhook no secret":      {func(s *simulator.Seed) { s.Systems[0].WebhookURL = "http://localhost:1/x" }, "webhook secret"},
		"bad webhook url":        {func(s *simulator.Seed) { s.Systems[0].WebhookURL = "localhost:1" }, "webhookURL"},
		"site of unknown client": {func(s *simulator.Seed) { s.Systems[0].Sites[0].ClientID = "2" }, `clientId "2"`},
		"site unknown contact":   {func(s *simulator.Seed) { s.Systems[0].Sites[0].ContactRefs = []string{"C9"} }, `contactRef "C9"`},
		"no newly created": {func(s *simulator.Seed) {
			s.Systems[0].Statuses = []simulator.Ref{{ID: "1", Name: "Open"}}
		}, "Newly Created"},
		"non-numeric id": {func(s *simulator.Seed) {
			s.Systems[0].Teams = []simulator.Ref{{ID: "x7", Name: "T"}}
		}, "teams[0]: id"},
		"duplicate id": {func(s *simulator.Seed) {
			s.Systems[0].Priorities = []simulator.Ref{{ID: "1", Name: "A"}, {ID: "1", Name: "B"}}
		}, "used twice"},
		"long event code": {func(s *simulator.Seed) {
			s.Systems[0].EventCodes = []simulator.EventCode{{Code: "TOOLONG", Name: "x"}}
		}, "1-6 characters"},
		"sor of unknown client": {func(s *simulator.Seed) {
			s.Systems[0].SORCodes = []simulator.SORCode{{ClientID: "9", Code: "X"}}
		}, "sorCodes[0]"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			seed := simulator.Seed{Systems: []simulator.SystemSeed{minimalSystem()}}
			tc.mutate(&seed)
			err := seed.Validate()
			require.Error(t, err)
			require.True(t, strings.Contains(err.Error(), tc.want), "%q should mention %q", err, tc.want)

			_, err = simulator.New(seed, simulator.Options{})
			require.Error(t, err, "New validates too")
		})
	}
}
