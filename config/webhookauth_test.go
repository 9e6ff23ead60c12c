package config_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/config"
)

const (
	hookTokenNew = "acme-hook-token-NEW-0123456789"
	hookTokenOld = "acme-hook-token-OLD-9876543210"
	basicUser    = "oneserve-fixit"
	basicPassNew = "fixit-password-NEW-abcdefgh"
	basicPassOld = "fixit-password-OLD-hgfedcba"
)

// acmeAuth replaces acme's webhookSecretsEnv line of baseYAML with block
// (indented four spaces, one key a line).
func acmeAuth(block string) string {
	return strings.Replace(baseYAML, "    webhookSecretsEnv: ACME_SECRETS\n", block, 1)
}

// fixitAuth does the same for fixit.
func fixitAuth(block string) string {
	return strings.Replace(baseYAML, "    webhookSecretsEnv: FIXIT_SECRETS\n", block, 1)
}

const headerTokenBlock = "    webhookAuth: {mode: header-token, header: X-Oneserve-Token, tokensEnv: ACME_HOOK_TOKENS}\n"
const basicBlock = "    webhookAuth: {mode: basic, userEnv: FIXIT_HOOK_USER, passwordsEnv: FIXIT_HOOK_PASSWORDS}\n"

func authModesEnv() map[string]string {
	env := baseEnv()
	env["ACME_HOOK_TOKENS"] = hookTokenNew + " " + hookTokenOld
	env["FIXIT_HOOK_USER"] = basicUser
	env["FIXIT_HOOK_PASSWORDS"] = basicPassNew + "\n" + basicPassOld
	return env
}

// bothModes is baseYAML with acme on header-token and fixit on basic.
func bothModes() string {
	doc := acmeAuth(headerTokenBlock)
	return strings.Replace(doc, "    webhookSecretsEnv: FIXIT_SECRETS\n", basicBlock, 1)
}

func TestWebhookAuthModesLoad(t *testing.T) {
	cfg, err := config.Parse([]byte(bothModes()), config.Options{Getenv: getenv(authModesEnv())})
	require.NoError(t, err)

	acme := cfg.System("acme")
	assert.Equal(t, config.AuthHeaderToken, acme.WebhookAuth.Mode)
	assert.Equal(t, "X-Oneserve-Token", acme.WebhookAuth.Header)
	assert.Equal(t, []string{hookTokenNew, hookTokenOld}, acme.WebhookAuth.Tokens, "two tokens during a rotation")
	assert.Empty(t, acme.WebhookSecrets)

	fixit := cfg.System("fixit")
	assert.Equal(t, config.AuthBasic, fixit.WebhookAuth.Mode)
	assert.Equal(t, basicUser, fixit.WebhookAuth.User)
	assert.Equal(t, []string{basicPassNew, basicPassOld}, fixit.WebhookAuth.Passwords, "two passwords during a rotation")

	// The default is Standard Webhooks, as before the key existed.
	cfg, err = config.Parse([]byte(baseYAML), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	assert.Equal(t, config.AuthStandardWebhooks, cfg.System("acme").WebhookAuth.Mode)
	assert.Len(t, cfg.System("acme").WebhookSecrets, 1)
	cfg, err = config.Parse([]byte(acmeAuth("    webhookSecretsEnv: ACME_SECRETS\n    webhookAuth: {mode: standard-webhooks}\n")),
		config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	assert.Len(t, cfg.System("acme").WebhookSecrets, 1)
}

func TestWebhookAuthValidation(t *testing.T) {
	short := "short-token"
	cases := []struct {
		name string
		yaml string
		env  map[string]string
		want []string
	}{
		{name: "unknown mode", yaml: acmeAuth("    webhookAuth: {mode: hmac}\n"),
			want: []string{"systems.acme.webhookAuth.mode: must be standard-webhooks, header-token or basic"}},
		{name: "standard-webhooks without its secrets", yaml: acmeAuth(""),
			want: []string{"systems.acme.webhookSecretsEnv: is required (the name of an environment variable)"}},
		{name: "standard-webhooks with another mode's keys", yaml: acmeAuth("    webhookSecretsEnv: ACME_SECRETS\n    webhookAuth: {header: X-Token, tokensEnv: ACME_HOOK_TOKENS, userEnv: U, passwordsEnv: P}\n"),
			want: []string{
				"systems.acme.webhookAuth.header: is only used with webhookAuth.mode header-token; this system's mode is standard-webhooks",
				"systems.acme.webhookAuth.tokensEnv: is only used with webhookAuth.mode header-token; this system's mode is standard-webhooks",
				"systems.acme.webhookAuth.userEnv: is only used with webhookAuth.mode basic; this system's mode is standard-webhooks",
				"systems.acme.webhookAuth.passwordsEnv: is only used with webhookAuth.mode basic; this system's mode is standard-webhooks",
			}},
		{name: "header-token without its keys", yaml: acmeAuth("    webhookAuth: {mode: header-token}\n"),
			want: []string{
				"systems.acme.webhookAuth.header: is required (the request header that carries the shared secret, e.g. X-Oneserve-Token)",
				"systems.acme.webhookAuth.tokensEnv: is required (the name of an environment variable)",
			}},
		{name: "header-token with Standard Webhooks secrets", yaml: acmeAuth("    webhookSecretsEnv: ACME_SECRETS\n" + headerTokenBlock),
			want: []string{"systems.acme.webhookSecretsEnv: is only used with webhookAuth.mode standard-webhooks; this system's mode is header-token"}},
		{name: "header-token with Basic keys", yaml: acmeAuth("    webhookAuth: {mode: header-token, header: X-T, tokensEnv: ACME_HOOK_TOKENS, passwordsEnv: P}\n"),
			want: []string{"systems.acme.webhookAuth.passwordsEnv: is only used with webhookAuth.mode basic; this system's mode is header-token"}},
		{name: "header name with a space", yaml: acmeAuth("    webhookAuth: {mode: header-token, header: X Token, tokensEnv: ACME_HOOK_TOKENS}\n"),
			want: []string{"systems.acme.webhookAuth.header: must be an HTTP header name: letters, digits and '-', at most 64 characters"}},
		{name: "Authorization as the token header", yaml: acmeAuth("    webhookAuth: {mode: header-token, header: authorization, tokensEnv: ACME_HOOK_TOKENS}\n"),
			want: []string{"systems.acme.webhookAuth.header: cannot be authorization: use webhookAuth.mode basic for HTTP Basic"}},
		{name: "a Standard Webhooks header as the token header", yaml: acmeAuth("    webhookAuth: {mode: header-token, header: Webhook-Signature, tokensEnv: ACME_HOOK_TOKENS}\n"),
			want: []string{"systems.acme.webhookAuth.header: cannot be Webhook-Signature: it belongs to Standard Webhooks"}},
		{name: "the token itself instead of a variable name", yaml: acmeAuth("    webhookAuth: {mode: header-token, header: X-T, tokensEnv: " + hookTokenNew + "}\n"),
			want: []string{"systems.acme.webhookAuth.tokensEnv: must be an environment variable name like O2O_TOKEN, not the value itself"}},
		{name: "tokens not set", yaml: acmeAuth(headerTokenBlock), env: without(authModesEnv(), "ACME_HOOK_TOKENS"),
			want: []string{"systems.acme.webhookAuth.tokensEnv: environment variable ACME_HOOK_TOKENS is not set"}},
		{name: "a short token", yaml: acmeAuth(headerTokenBlock), env: with(authModesEnv(), "ACME_HOOK_TOKENS", hookTokenNew+" "+short),
			want: []string{"systems.acme.webhookAuth.tokensEnv: token 2 in ACME_HOOK_TOKENS must be at least 16 characters"}},
		{name: "a token that is not ASCII", yaml: acmeAuth(headerTokenBlock), env: with(authModesEnv(), "ACME_HOOK_TOKENS", "tøken-tøken-tøken-tøken"),
			want: []string{"systems.acme.webhookAuth.tokensEnv: token 1 in ACME_HOOK_TOKENS must be printable ASCII (it travels in an HTTP header)"}},
		{name: "basic without its keys", yaml: fixitAuth("    webhookAuth: {mode: basic}\n"),
			want: []string{
				"systems.fixit.webhookAuth.userEnv: is required (the name of an environment variable)",
				"systems.fixit.webhookAuth.passwordsEnv: is required (the name of an environment variable)",
			}},
		{name: "basic with a header", yaml: fixitAuth("    webhookAuth: {mode: basic, header: X-T, userEnv: FIXIT_HOOK_USER, passwordsEnv: FIXIT_HOOK_PASSWORDS}\n"),
			want: []string{"systems.fixit.webhookAuth.header: is only used with webhookAuth.mode header-token; this system's mode is basic"}},
		{name: "basic user and passwords not set", yaml: fixitAuth(basicBlock), env: without(authModesEnv(), "FIXIT_HOOK_USER", "FIXIT_HOOK_PASSWORDS"),
			want: []string{
				"systems.fixit.webhookAuth.userEnv: environment variable FIXIT_HOOK_USER is not set",
				"systems.fixit.webhookAuth.passwordsEnv: environment variable FIXIT_HOOK_PASSWORDS is not set",
			}},
		{name: "a user name with a colon", yaml: fixitAuth(basicBlock), env: with(authModesEnv(), "FIXIT_HOOK_USER", "one:serve"),
			want: []string{"systems.fixit.webhookAuth.userEnv: the user name in FIXIT_HOOK_USER must not contain ':' or control characters (HTTP Basic cannot carry them)"}},
		{name: "a short password", yaml: fixitAuth(basicBlock), env: with(authModesEnv(), "FIXIT_HOOK_PASSWORDS", short),
			want: []string{"systems.fixit.webhookAuth.passwordsEnv: password 1 in FIXIT_HOOK_PASSWORDS must be at least 16 characters"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = authModesEnv()
			}
			cfg, err := config.Parse([]byte(tc.yaml), config.Options{Getenv: getenv(env)})
			require.Error(t, err)
			assert.Nil(t, cfg)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), strconv.Itoa(len(tc.want))+" problem(s)", "only the expected problems")
			for _, v := range env {
				for _, secret := range strings.Fields(v) {
					if len(secret) >= 8 && !strings.Contains(tc.yaml, secret) {
						assert.NotContains(t, err.Error(), secret, "the error must not quote a secret")
					}
				}
			}
		})
	}
}

// Each process asks the environment only for what it uses: the worker
// (TokensOnly) the API tokens, the webhook server (WebhookOnly) the webhook
// credentials of its mode and the operator token, the starter nothing.
func TestEachProcessReadsOnlyWhatItUses(t *testing.T) {
	doc := bothModes()
	env := authModesEnv()
	load := func(opt config.Options) (*config.Config, []string) {
		var asked []string
		opt.Getenv = func(k string) string {
			// A secret is looked up as NAME and as NAME_FILE: one secret.
			asked = append(asked, strings.TrimSuffix(k, "_FILE"))
			return env[k]
		}
		cfg, err := config.Parse([]byte(doc), opt)
		require.NoError(t, err)
		slices.Sort(asked)
		return cfg, slices.Compact(asked)
	}

	cfg, asked := load(config.Options{TokensOnly: true})
	assert.Equal(t, []string{"ACME_TOKEN", "FIXIT_TOKEN"}, asked)
	assert.Empty(t, cfg.System("acme").WebhookAuth.Tokens)

	cfg, asked = load(config.Options{WebhookOnly: true})
	assert.Equal(t, []string{"ACME_HOOK_TOKENS", "API_TOKEN", "FIXIT_HOOK_PASSWORDS", "FIXIT_HOOK_USER"}, asked)
	assert.Empty(t, cfg.System("acme").AuthToken)
	assert.Len(t, cfg.System("acme").WebhookAuth.Tokens, 2)

	_, asked = load(config.Options{SkipSecrets: true})
	assert.Empty(t, asked)

	_, asked = load(config.Options{})
	assert.Len(t, asked, 6, "everything, for tools that need it all")

	// The webhook server starts without the API tokens...
	_, err := config.Parse([]byte(doc), config.Options{WebhookOnly: true, Getenv: getenv(without(env, "ACME_TOKEN", "FIXIT_TOKEN"))})
	require.NoError(t, err)
	// ...and the worker without any webhook credential.
	_, err = config.Parse([]byte(doc), config.Options{TokensOnly: true, Getenv: getenv(map[string]string{"ACME_TOKEN": "a", "FIXIT_TOKEN": "f"})})
	require.NoError(t, err)
}

func with(env map[string]string, k, v string) map[string]string {
	env[k] = v
	return env
}

func without(env map[string]string, keys ...string) map[string]string {
	for _, k := range keys {
		delete(env, k)
	}
	return env
}
