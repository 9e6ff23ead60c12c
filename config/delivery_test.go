package config_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/config"
)

func TestEventsAndTrustDefaults(t *testing.T) {
	cfg, err := config.Parse([]byte(baseYAML), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	acme := cfg.System("acme")
	assert.Equal(t, config.EventsWebhook, acme.Events)
	assert.Equal(t, config.TrustPayload, acme.Trust)
	assert.True(t, acme.ReceivesWebhooks())
	assert.False(t, acme.Polled())
	assert.False(t, acme.Nudges())

	doc := strings.NewReplacer(
		"    webhookSecretsEnv: ACME_SECRETS\n", "    webhookSecretsEnv: ACME_SECRETS\n    events: both\n    trust: nudge\n",
		"    webhookSecretsEnv: FIXIT_SECRETS\n", "    webhookSecretsEnv: FIXIT_SECRETS\n    events: poll\n",
	).Replace(baseYAML)
	cfg, err = config.Parse([]byte(doc), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	acme, fixit := cfg.System("acme"), cfg.System("fixit")
	assert.True(t, acme.ReceivesWebhooks())
	assert.True(t, acme.Polled())
	assert.True(t, acme.Nudges())
	assert.False(t, fixit.ReceivesWebhooks())
	assert.True(t, fixit.Polled())
}

// A system in poll mode sends no webhooks: its webhook credentials are
// neither required nor read, by any process.
func TestPollModeNeedsNoWebhookCredentials(t *testing.T) {
	for name, block := range map[string]string{
		"no credential keys at all":     "    events: poll\n",
		"Standard Webhooks keys kept":   "    webhookSecretsEnv: FIXIT_SECRETS\n    events: poll\n",
		"header-token without its keys": "    webhookAuth: {mode: header-token}\n    events: poll\n",
		"basic with its keys":           "    webhookAuth: {mode: basic, userEnv: FIXIT_HOOK_USER, passwordsEnv: FIXIT_HOOK_PASSWORDS}\n    events: poll\n",
	} {
		t.Run(name, func(t *testing.T) {
			doc := fixitAuth(block)
			env := without(baseEnv(), "FIXIT_SECRETS")
			for _, opt := range []config.Options{{}, {WebhookOnly: true}} {
				var asked []string
				opt.Getenv = func(k string) string {
					asked = append(asked, strings.TrimSuffix(k, "_FILE")) // one secret, two places
					return env[k]
				}
				cfg, err := config.Parse([]byte(doc), opt)
				require.NoError(t, err)
				assert.False(t, cfg.System("fixit").ReceivesWebhooks())
				for _, k := range asked {
					assert.False(t, strings.HasPrefix(k, "FIXIT_") && k != "FIXIT_TOKEN", "read %s", k)
				}
			}
		})
	}
}

func TestEventsAndTrustValidation(t *testing.T) {
	for _, c := range []struct {
		name, block string
		want        []string
	}{
		{"unknown events", "    webhookSecretsEnv: FIXIT_SECRETS\n    events: push\n", []string{"systems.fixit.events: must be webhook, poll or both"}},
		{"unknown trust", "    webhookSecretsEnv: FIXIT_SECRETS\n    trust: some\n", []string{"systems.fixit.trust: must be payload or nudge"}},
		{"nudge without webhooks", "    events: poll\n    trust: nudge\n",
			[]string{"systems.fixit.trust: nudge is about webhooks, and a system with events: poll sends none"}},
		// Poll mode does not excuse another mode's keys, nor a malformed one.
		{"poll with a key of another mode", "    webhookSecretsEnv: FIXIT_SECRETS\n    webhookAuth: {mode: basic}\n    events: poll\n",
			[]string{"systems.fixit.webhookSecretsEnv: is only used with webhookAuth.mode standard-webhooks; this system's mode is basic"}},
		{"poll with a secret as a variable name", "    webhookSecretsEnv: whsec_abc\n    events: poll\n",
			[]string{"systems.fixit.webhookSecretsEnv: must be an environment variable name like O2O_TOKEN, not the value itself"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := fixitAuth(c.block)
			_, err := config.Parse([]byte(doc), config.Options{Getenv: getenv(baseEnv())})
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), strconv.Itoa(len(c.want))+" problem(s)")
		})
	}
}
