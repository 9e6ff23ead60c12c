//go:build integration

package e2e

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/simulator"
	"github.com/o2o-sync/o2o/workflows"
)

// Development-only credentials of bolt, the hub test's second primary.
var boltEnv = map[string]string{
	"O2O_BOLT_TOKEN":           "dev-bolt-token",
	"O2O_BOLT_WEBHOOK_SECRETS": "whsec_" + base64.StdEncoding.EncodeToString([]byte("dev-bolt-webhook-secret-000001")),
}

// newHubStack is issue 9's hub: fixit is the subcontractor of two
// primaries, acme (link acme-fixit, fixit client 41) and bolt (link
// bolt-fixit, fixit client 42). bolt is a copy of acme under its own name
// and credentials, with the same jobRefPrefix: both primaries number their
// jobs alike, so fixit holds linked jobs with the same client ref.
func newHubStack(t *testing.T, prefix string) *stack {
	t.Helper()
	seed, err := simulator.LoadSeed("../dev/simulator.yaml")
	require.NoError(t, err)
	acme := seed.Systems[slices.IndexFunc(seed.Systems, func(s simulator.SystemSeed) bool { return s.Name == "acme" })]

	bolt := acme
	bolt.Name = "bolt"
	bolt.AuthTokenEnv, bolt.AuthToken = "O2O_BOLT_TOKEN", boltEnv["O2O_BOLT_TOKEN"]
	secret, err := events.ParseSecret(boltEnv["O2O_BOLT_WEBHOOK_SECRETS"])
	require.NoError(t, err)
	bolt.WebhookSecretEnv, bolt.WebhookSecrets = "SIM_BOLT_WEBHOOK_SECRET", []events.Secret{secret}
	bolt.Clients = []simulator.Client{{ID: "28", Name: "Bolt Homes"}}
	seed.Systems = append(seed.Systems, bolt)
	fixit := &seed.Systems[slices.IndexFunc(seed.Systems, func(s simulator.SystemSeed) bool { return s.Name == "fixit" })]

	// fixit's second client, with what bolt's jobs need.
	fixit.Clients = append(slices.Clone(fixit.Clients), simulator.Client{ID: "42", Name: "Bolt Homes"})
	site := fixit.Sites[slices.IndexFunc(fixit.Sites, func(s simulator.Site) bool { return s.SiteRef == "SITE-001" })]
	site.ClientID = "42"
	fixit.Sites = append(slices.Clone(fixit.Sites), site)
	fixit.SORCodes = append(slices.Clone(fixit.SORCodes), simulator.SORCode{ClientID: "42", Code: "PLB001", Description: "Replace tap washer"})

	// The example configuration, with bolt and its link made from acme's.
	raw, err := os.ReadFile("../o2o.example.yaml")
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &cfg))
	systems := cfg["systems"].(map[string]any)
	boltSys := clone(t, systems["acme"])
	boltSys["baseURL"] = "http://localhost:9100/bolt"
	boltSys["authTokenEnv"], boltSys["webhookSecretsEnv"] = "O2O_BOLT_TOKEN", "O2O_BOLT_WEBHOOK_SECRETS"
	systems["bolt"] = boltSys
	links := cfg["links"].([]any)
	require.Len(t, links, 1)
	acmeLink := links[0].(map[string]any)
	// As in newStackWith: the shared acme-fixit schedule must not fire into
	// other tests' links, nor bolt-fixit's into this one.
	acmeLink["reconcileEvery"] = "8760h"
	boltLink := clone(t, acmeLink)
	boltLink["name"] = "bolt-fixit"
	boltLink["primary"].(map[string]any)["system"] = "bolt"
	boltLink["primary"].(map[string]any)["client"] = map[string]any{"name": "Bolt Homes", "id": 28}
	boltLink["secondary"].(map[string]any)["client"] = map[string]any{"name": "Bolt Homes", "id": 42}
	cfg["links"] = append(links, boltLink)
	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)

	var env []string
	for k, v := range boltEnv {
		env = append(env, k+"="+v)
	}
	return newStackFrom(t, prefix, seed, out, env...)
}

// clone deep-copies a YAML mapping.
func clone(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := yaml.Marshal(v)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, yaml.Unmarshal(b, &out))
	return out
}

// createJob raises a one-line job in a simulated primary (client 28), as
// a user would.
func (s *stack) createJob(system, siteRef, contactRef, code string) simJob {
	s.t.Helper()
	var job simJob
	require.Equal(s.t, http.StatusCreated, do(s.t, http.MethodPost, s.simURL+"/"+system+"/sim/jobs", nil, map[string]any{
		"clientId": "28", "siteRef": siteRef, "contactRef": contactRef, "priority": "Emergency",
		"description": "Leaking pipe", "activities": []map[string]string{{"code": code, "quantity": "1"}},
	}, &job))
	return job
}

func eventIDs(st lifecycle.LinkState) []string {
	var ids []string
	for _, e := range st.Events {
		ids = append(ids, e.ID)
	}
	return ids
}

// TestHubRoutesEverySecondaryEventToItsOwnLink: two primaries raise jobs
// with the same job ref, both subcontracted to fixit. Each fixit event
// reaches only the link whose linked job it concerns (not merely the links
// its client ref names), so each primary job gets exactly its own job
// events and neither link records anything of the other's, not even as
// skipped.
func TestHubRoutesEverySecondaryEventToItsOwnLink(t *testing.T) {
	s := newHubStack(t, "HB")
	acme := s.createJob("acme", "SITE-001", "CON-001", "PLB001")
	bolt := s.createJob("bolt", "SITE-001", "CON-001", "PLB001")
	require.Equal(t, acme.JobRef, bolt.JobRef, "both primaries number their jobs alike")
	ref := acme.JobRef

	// Each assignment to the Fixit team starts its own primary's link; each
	// link creates its linked job for its own fixit client.
	assignedA := s.assign("acme", acme.Activities[0].ID, "7")
	assignedB := s.assign("bolt", bolt.Activities[0].ID, "7")
	fxA := s.waitState("acme-fixit", ref, lifecycle.StateLinked, 1).SecondaryJobRef
	fxB := s.waitState("bolt-fixit", ref, lifecycle.StateLinked, 1).SecondaryJobRef
	require.NotEqual(t, fxA, fxB)
	clients := map[string]string{}
	for _, j := range s.secondaryJobs(ref) {
		clients[j.JobRef] = j.ClientID
	}
	require.Equal(t, map[string]string{fxA: "41", fxB: "42"}, clients, "two fixit jobs with client ref %s", ref)

	// The webhook server routes by what each link recorded, as Describe
	// shows it; wait for both before fixit speaks, so that no event reaches
	// a link still creating its job (which would queue it, then skip it).
	for link, fx := range map[string]string{"acme-fixit": fxA, "bolt-fixit": fxB} {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			got, running, err := workflows.LinkedSecondaryJobRef(context.Background(), devServer.Client(), link, ref)
			assert.NoError(c, err)
			assert.True(c, running)
			assert.Equal(c, fx, got, link)
		}, 20*time.Second, 100*time.Millisecond)
	}

	// fixit accepts both jobs and books an appointment on bolt's; acme
	// puts its job on hold.
	acceptedA := s.act("fixit", http.MethodPost, "/jobs/"+fxA+"/status", map[string]string{"status": "Accepted"})["eventId"].(string)
	acceptedB := s.act("fixit", http.MethodPost, "/jobs/"+fxB+"/status", map[string]string{"status": "Accepted"})["eventId"].(string)
	start := time.Date(2026, 12, 9, 8, 0, 0, 0, time.UTC)
	bookedB := s.act("fixit", http.MethodPost, "/jobs/"+fxB+"/appointments", map[string]string{
		"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)})["eventId"].(string)
	onHoldA := s.act("acme", http.MethodPost, "/jobs/"+ref+"/status", map[string]string{"status": "On Hold"})["eventId"].(string)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.sim.WaitDelivered(ctx))
	for _, system := range []string{"acme", "bolt", "fixit"} {
		for _, ev := range s.sim.Outbox(system) {
			require.Equal(t, http.StatusAccepted, ev.LastStatus, "%s event %s", system, ev.ID)
		}
	}

	// Each link recorded exactly its own events, every one applied.
	stA := s.waitState("acme-fixit", ref, lifecycle.StateLinked, 3)
	stB := s.waitState("bolt-fixit", ref, lifecycle.StateLinked, 3)
	require.ElementsMatch(t, []string{assignedA, acceptedA, onHoldA}, eventIDs(stA))
	require.ElementsMatch(t, []string{assignedB, acceptedB, bookedB}, eventIDs(stB))
	for _, e := range append(stA.Events, stB.Events...) {
		require.Equal(t, lifecycle.OutcomeApplied, e.Outcome, "%+v", e)
	}

	// Each primary job has exactly its own job events; so has each fixit job.
	require.Equal(t, []string{"SACC"}, historyCodes(s.job("acme", ref)))
	require.Equal(t, []string{"SACC", "APPT"}, historyCodes(s.job("bolt", ref)))
	require.Equal(t, []string{"PHOLD"}, historyCodes(s.job("fixit", fxA)))
	require.Empty(t, historyCodes(s.job("fixit", fxB)))
}
