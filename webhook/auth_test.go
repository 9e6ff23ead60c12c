package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/mocks"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/internal/platform"
	"github.com/o2o-sync/o2o/workflows"
)

// The credentials of the three webhookAuth modes: acme sends a header token,
// fixit HTTP Basic, legacy Standard Webhooks signatures. Each has a new and
// an old credential, as during a rotation.
const (
	acmeTokenNew    = "acme-hook-token-NEW-0123456789"
	acmeTokenOld    = "acme-hook-token-OLD-9876543210"
	fixitUser       = "oneserve-fixit"
	fixitPassNew    = "fixit-password-NEW-abcdefgh"
	fixitPassOld    = "fixit-password-OLD-hgfedcba"
	legacySecretNew = "whsec_bGVnYWN5LXNlY3JldC1uZXctMDAwMDAwMDAwMDAw"
	legacySecretOld = "whsec_bGVnYWN5LXNlY3JldC1vbGQtMDAwMDAwMDAwMDAw"
)

const authLinks = `
links:
  - name: acme-fixit
    primary: {system: acme, client: {name: Acme, id: 28}, team: {name: Fixit, id: 7}}
    secondary: &secondary
      system: fixit
      workLogType: {name: R, id: 3}
      workType: {name: P, id: 12}
      workflow: {name: S, id: 4}
      client: {name: Acme, id: 41}
      service: {name: P, id: 9}
      acceptedStatus: Accepted
    priorities: [{primary: {name: Emergency, id: 1}, secondary: {name: P1, id: 11}}]
    statusEvents: &statusEvents
      primaryToSecondary: [{status: Cancelled, eventCode: PCAN}]
      secondaryToPrimary: [{status: Accepted, eventCode: SACC}]
    appointmentEvents: &appointmentEvents {created: APPT, rescheduled: RESCH, cancelled: APCAN, completed: APCOM}
  - name: legacy-fixit
    primary: {system: legacy, client: {name: Legacy, id: 29}, team: {name: Fixit, id: 7}}
    secondary: *secondary
    priorities: [{primary: {name: Emergency, id: 1}, secondary: {name: P1, id: 11}}]
    statusEvents: *statusEvents
    appointmentEvents: *appointmentEvents
webhook:
  apiTokenEnv: API_TOKEN
`

func authEnv() map[string]string {
	return map[string]string{
		"ACME_TOKENS":     acmeTokenNew + " " + acmeTokenOld,
		"FIXIT_USER":      fixitUser,
		"FIXIT_PASSWORDS": fixitPassNew + " " + fixitPassOld,
		"LEGACY_SECRETS":  legacySecretNew + " " + legacySecretOld,
		"API_TOKEN":       apiToken,
	}
}

// authConfig loads the three systems as the webhook server does: webhook
// credentials only, no API token in the environment.
func authConfig(t *testing.T) *config.Config {
	t.Helper()
	doc := `
systems:
  acme:
    baseURL: http://acme.invalid
    authTokenEnv: ACME_API_TOKEN
    apiUser: o2o-api
    webhookAuth: {mode: header-token, header: X-Oneserve-Token, tokensEnv: ACME_TOKENS}
  fixit:
    baseURL: http://fixit.invalid
    authTokenEnv: FIXIT_API_TOKEN
    apiUser: o2o-api
    webhookAuth: {mode: basic, userEnv: FIXIT_USER, passwordsEnv: FIXIT_PASSWORDS}
  legacy:
    baseURL: http://legacy.invalid
    authTokenEnv: LEGACY_API_TOKEN
    webhookSecretsEnv: LEGACY_SECRETS
    apiUser: o2o-api
` + authLinks
	env := authEnv()
	cfg, err := config.Parse([]byte(doc), config.Options{WebhookOnly: true, Getenv: func(k string) string { return env[k] }})
	require.NoError(t, err)
	return cfg
}

// authFixture is the webhook server behind a real HTTP listener, with a
// mocked Temporal and its logs kept.
type authFixture struct {
	t    *testing.T
	tc   *mocks.Client
	url  string
	logs *observer.ObservedLogs
}

func newAuthFixture(t *testing.T) *authFixture {
	tc := mocks.NewClient(t)
	core, logs := observer.New(zapcore.DebugLevel)
	srv := httptest.NewServer(newServer(authConfig(t), tc, zap.New(core)))
	t.Cleanup(srv.Close)
	return &authFixture{t: t, tc: tc, url: srv.URL, logs: logs}
}

// send POSTs body to /webhooks/{system} with the given headers and returns
// the status, headers and body of the answer.
func (f *authFixture) send(system, body string, header http.Header) (int, http.Header, string) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.url+"/webhooks/"+system, strings.NewReader(body))
	require.NoError(f.t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// requireNoSecretLeaked checks that no credential reached the logs or an
// answer.
func (f *authFixture) requireNoSecretLeaked(answers ...string) {
	f.t.Helper()
	secrets := []string{acmeTokenNew, acmeTokenOld, fixitPassNew, fixitPassOld,
		strings.TrimPrefix(legacySecretNew, "whsec_"), strings.TrimPrefix(legacySecretOld, "whsec_")}
	var logged strings.Builder
	for _, e := range f.logs.All() {
		fmt.Fprintf(&logged, "%s %v\n", e.Message, e.ContextMap())
	}
	require.NotEmpty(f.t, logged.String())
	for _, s := range secrets {
		require.NotContains(f.t, logged.String(), s, "a credential reached the logs")
		for _, a := range answers {
			require.NotContains(f.t, a, s, "a credential reached an answer")
		}
	}
}

func statusChange(jobRef, clientRef string) string {
	return `{"type":"JOB_STATUS_CHANGED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"` + jobRef +
		`","jobClientRef":"` + clientRef + `","status":"Accepted"}}`
}

func bodySHA(body string) string {
	sum := sha256.Sum256([]byte(body))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestHeaderTokenAuthentication(t *testing.T) {
	f := newAuthFixture(t)
	var ids []string
	f.tc.On("SignalWithStartWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC000001", workflows.SignalEvent,
		mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).
		Run(func(args mock.Arguments) { ids = append(ids, args.Get(3).(events.Event).ID) }).
		Return(nil, nil).Times(3)

	body := assignment("7")
	// The new token and, during a rotation, the old one are accepted.
	for _, token := range []string{acmeTokenNew, acmeTokenOld} {
		code, _, answer := f.send("acme", body, http.Header{"X-Oneserve-Token": {token}})
		require.Equal(t, http.StatusAccepted, code, answer)
		require.JSONEq(t, `{"status":"accepted","links":["acme-fixit"]}`, answer)
	}
	// No webhook-id: the id is the body's hash, the same on every
	// redelivery; a webhook-id header, unauthenticated here, is ignored.
	code, _, _ := f.send("acme", body, http.Header{"X-Oneserve-Token": {acmeTokenNew}, events.HeaderID: {"msg_forged"}})
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, []string{bodySHA(body), bodySHA(body), bodySHA(body)}, ids)

	var answers []string
	for _, c := range []struct {
		name   string
		header http.Header
		want   string
	}{
		{"missing", nil, "missing X-Oneserve-Token header"},
		{"empty", http.Header{"X-Oneserve-Token": {""}}, "missing X-Oneserve-Token header"},
		{"wrong", http.Header{"X-Oneserve-Token": {"acme-hook-token-NEW-012345678X"}}, "the X-Oneserve-Token header does not match"},
		{"a prefix of the token", http.Header{"X-Oneserve-Token": {acmeTokenNew[:20]}}, "the X-Oneserve-Token header does not match"},
		{"the token with more after it", http.Header{"X-Oneserve-Token": {acmeTokenNew + "x"}}, "the X-Oneserve-Token header does not match"},
		{"twice, one wrong", http.Header{"X-Oneserve-Token": {"wrong-token-0000000000", acmeTokenNew}}, "the X-Oneserve-Token header is given more than once"},
		{"another system's credential", http.Header{"Authorization": {"Basic " + basic(fixitUser, fixitPassNew)}}, "missing X-Oneserve-Token header"},
		{"the operator token", http.Header{"Authorization": {"Bearer " + apiToken}}, "missing X-Oneserve-Token header"},
		{"a Standard Webhooks signature", signedHeaders(legacySecretNew, "msg_1", body), "missing X-Oneserve-Token header"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, header, answer := f.send("acme", body, c.header)
			require.Equal(t, http.StatusUnauthorized, code, answer)
			require.JSONEq(t, `{"error":"`+c.want+`"}`, answer)
			require.Empty(t, header.Get("WWW-Authenticate"))
			answers = append(answers, answer)
		})
	}
	f.requireNoSecretLeaked(answers...)
}

func basic(user, pass string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func signedHeaders(secret, id, body string) http.Header {
	s, err := events.ParseSecret(secret)
	if err != nil {
		panic(err)
	}
	now := time.Now()
	return http.Header{
		events.HeaderID:        {id},
		events.HeaderTimestamp: {strconv.FormatInt(now.Unix(), 10)},
		events.HeaderSignature: {events.Sign(s, id, now, []byte(body))},
	}
}

func TestBasicAuthentication(t *testing.T) {
	f := newAuthFixture(t)
	var got []events.Event
	// fixit is the secondary of both links: each is asked which fixit job it
	// recorded; neither has one yet, so an event for AC000001 goes to each.
	f.tc.On("DescribeWorkflowExecution", mock.Anything, mock.Anything, "").
		Return(describedLink(running, ""), nil).Times(4)
	f.tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", workflows.SignalEvent, mock.Anything).
		Run(func(args mock.Arguments) { got = append(got, args.Get(4).(events.Event)) }).
		Return(nil).Times(4)

	body := statusChange("FX000001", "AC000001")
	for _, pass := range []string{fixitPassNew, fixitPassOld} {
		code, _, answer := f.send("fixit", body, http.Header{"Authorization": {"Basic " + basic(fixitUser, pass)}})
		require.Equal(t, http.StatusAccepted, code, answer)
		require.JSONEq(t, `{"status":"accepted","links":["acme-fixit","legacy-fixit"]}`, answer)
	}
	require.Len(t, got, 4)
	for _, ev := range got {
		require.Equal(t, bodySHA(body), ev.ID)
		require.Equal(t, events.Secondary, ev.Side)
	}

	var answers []string
	for _, c := range []struct {
		name   string
		header http.Header
		want   string
	}{
		{"missing", nil, "missing HTTP Basic credentials (Authorization: Basic ...)"},
		{"wrong password", http.Header{"Authorization": {"Basic " + basic(fixitUser, fixitPassNew+"x")}}, "the HTTP Basic credentials do not match"},
		{"wrong user", http.Header{"Authorization": {"Basic " + basic("someone-else", fixitPassNew)}}, "the HTTP Basic credentials do not match"},
		{"empty password", http.Header{"Authorization": {"Basic " + basic(fixitUser, "")}}, "the HTTP Basic credentials do not match"},
		{"both passwords at once", http.Header{"Authorization": {"Basic " + basic(fixitUser, fixitPassNew+" "+fixitPassOld)}}, "the HTTP Basic credentials do not match"},
		{"not base64", http.Header{"Authorization": {"Basic %%%"}}, "missing HTTP Basic credentials"},
		{"the operator token", http.Header{"Authorization": {"Bearer " + apiToken}}, "missing HTTP Basic credentials"},
		{"another system's token", http.Header{"X-Oneserve-Token": {acmeTokenNew}}, "missing HTTP Basic credentials"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, header, answer := f.send("fixit", body, c.header)
			require.Equal(t, http.StatusUnauthorized, code, answer)
			require.Contains(t, answer, c.want)
			require.Equal(t, basicChallenge, header.Get("WWW-Authenticate"), "Basic clients are told how to authenticate")
			answers = append(answers, answer)
		})
	}
	f.requireNoSecretLeaked(answers...)
}

func TestStandardWebhooksRotationNextToOtherModes(t *testing.T) {
	f := newAuthFixture(t)
	var ids []string
	f.tc.On("SignalWithStartWorkflow", mock.Anything, "LinkedJob:legacy-fixit:AC000001", workflows.SignalEvent,
		mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).
		Run(func(args mock.Arguments) { ids = append(ids, args.Get(3).(events.Event).ID) }).
		Return(nil, nil).Twice()

	body := assignment("7")
	for i, secret := range []string{legacySecretNew, legacySecretOld} {
		id := "msg_rot" + strconv.Itoa(i)
		code, _, answer := f.send("legacy", body, signedHeaders(secret, id, body))
		require.Equal(t, http.StatusAccepted, code, answer)
	}
	require.Equal(t, []string{"msg_rot0", "msg_rot1"}, ids, "the webhook-id is the event id")

	var answers []string
	for name, header := range map[string]http.Header{
		"another system's token":              {"X-Oneserve-Token": {acmeTokenNew}},
		"Basic credentials":                   {"Authorization": {"Basic " + basic(fixitUser, fixitPassNew)}},
		"signed with acme's old-style secret": signedHeaders("whsec_"+strings.Repeat("QUFB", 8), "msg_x", body),
	} {
		code, _, answer := f.send("legacy", body, header)
		require.Equal(t, http.StatusUnauthorized, code, name)
		answers = append(answers, answer)
	}
	f.requireNoSecretLeaked(answers...)
}

func TestBodyIDPrefersTheBodysOwnID(t *testing.T) {
	f := newAuthFixture(t)
	var ids []string
	f.tc.On("SignalWithStartWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) { ids = append(ids, args.Get(3).(events.Event).ID) }).
		Return(nil, nil).Twice()
	withID := `{"id":"evt-42","type":"ACTIVITY_ASSIGNED","timestamp":"2026-11-27T09:30:00Z","data":{"jobRef":"AC000001","activityId":"137001","teamId":"7"}}`
	// A redelivery with a fresh timestamp keeps its id when the body has one.
	redelivered := strings.Replace(withID, "09:30:00Z", "09:35:00Z", 1)
	for _, body := range []string{withID, redelivered} {
		code, _, answer := f.send("acme", body, http.Header{"X-Oneserve-Token": {acmeTokenNew}})
		require.Equal(t, http.StatusAccepted, code, answer)
	}
	require.Equal(t, []string{"id:acme:evt-42", "id:acme:evt-42"}, ids)
}

func TestMatchesAny(t *testing.T) {
	require.True(t, matchesAny("b-secret", []string{"a-secret", "b-secret"}))
	require.True(t, matchesAny("a-secret", []string{"a-secret", "b-secret"}))
	require.False(t, matchesAny("c-secret", []string{"a-secret", "b-secret"}))
	require.False(t, matchesAny("", nil), "no configured secret never matches")
	require.False(t, matchesAny("", []string{}))
	require.False(t, matchesAny("a-secre", []string{"a-secret"}))
}

func TestRefusedCredentialsAreCountedAsBadCredential(t *testing.T) {
	m, err := platform.NewMetrics("webhook")
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	srv := httptest.NewServer(newServer(authConfig(t), mocks.NewClient(t), zap.NewNop(), m))
	t.Cleanup(srv.Close)
	f := &authFixture{t: t, url: srv.URL}
	code, _, _ := f.send("acme", assignment("7"), http.Header{"X-Oneserve-Token": {"wrong-token-0000000000"}})
	require.Equal(t, http.StatusUnauthorized, code)
	code, _, _ = f.send("fixit", assignment("7"), nil)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _, _ = f.send("legacy", assignment("7"), nil)
	require.Equal(t, http.StatusUnauthorized, code)

	want := []string{
		`o2o_webhook_requests_total{outcome="bad_credential",process="webhook",status="401",system="acme"} 1`,
		`o2o_webhook_requests_total{outcome="bad_credential",process="webhook",status="401",system="fixit"} 1`,
		`o2o_webhook_requests_total{outcome="bad_signature",process="webhook",status="401",system="legacy"} 1`,
	}
	var body string
	ok := assertEventually(func() bool {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return true
	})
	require.True(t, ok, body)
}
