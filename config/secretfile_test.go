package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/config"
)

// secretFile writes value as a mounted secret would be (with a trailing
// line break) and returns its path.
func secretFile(t *testing.T, value string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte(value+"\n"), 0o600))
	return p
}

// Every secret the file names by variable can come from NAME_FILE instead
// (Docker and Kubernetes secrets), line break trimmed.
func TestSecretsFromFiles(t *testing.T) {
	env := map[string]string{}
	for k, v := range exampleEnv() {
		env[k+"_FILE"] = secretFile(t, v)
	}
	cfg, err := config.Load(examplePath, config.Options{Getenv: getenv(env)})
	require.NoError(t, err)
	acme, fixit := cfg.System("acme"), cfg.System("fixit")
	assert.Equal(t, acmeTokenVal, acme.AuthToken)
	assert.Equal(t, fixitTokenVal, fixit.AuthToken)
	require.Len(t, acme.WebhookSecrets, 1)
	assert.Equal(t, acmeSecret, acme.WebhookSecrets[0].String())
	require.Len(t, fixit.WebhookSecrets, 2, "a rotation's two secrets, from one file")
	assert.Equal(t, apiTokenVal, cfg.Webhook.APIToken)

	// The modes that sign nothing: header tokens, Basic user and passwords.
	env = map[string]string{}
	for k, v := range authModesEnv() {
		env[k+"_FILE"] = secretFile(t, v)
	}
	cfg, err = config.Parse([]byte(bothModes()), config.Options{Getenv: getenv(env)})
	require.NoError(t, err)
	assert.Equal(t, []string{hookTokenNew, hookTokenOld}, cfg.System("acme").WebhookAuth.Tokens)
	assert.Equal(t, basicUser, cfg.System("fixit").WebhookAuth.User)
	assert.Len(t, cfg.System("fixit").WebhookAuth.Passwords, 2)
}

// Both the variable and its _FILE set is an error naming both, reported
// once, never quoting the secret.
func TestSecretInBothPlaces(t *testing.T) {
	env := exampleEnv()
	env["O2O_ACME_TOKEN_FILE"] = secretFile(t, acmeTokenVal)
	env["O2O_API_TOKEN_FILE"] = secretFile(t, apiTokenVal)
	env["O2O_FIXIT_WEBHOOK_SECRETS_FILE"] = "/nonexistent/o2o-secret"
	_, err := config.Load(examplePath, config.Options{Getenv: getenv(env)})
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "3 problem(s)")
	assert.Contains(t, msg, "systems.acme.authTokenEnv: both O2O_ACME_TOKEN and O2O_ACME_TOKEN_FILE are set; set only one")
	assert.Contains(t, msg, "webhook.apiTokenEnv: both O2O_API_TOKEN and O2O_API_TOKEN_FILE are set; set only one")
	assert.Contains(t, msg, "systems.fixit.webhookSecretsEnv: both O2O_FIXIT_WEBHOOK_SECRETS and O2O_FIXIT_WEBHOOK_SECRETS_FILE are set")
	assert.NotContains(t, msg, "is not set")
	assert.NotContains(t, msg, acmeTokenVal)
	assert.NotContains(t, msg, apiTokenVal)

	delete(env, "O2O_FIXIT_WEBHOOK_SECRETS")
	delete(env, "O2O_ACME_TOKEN_FILE")
	delete(env, "O2O_API_TOKEN_FILE")
	_, err = config.Load(examplePath, config.Options{Getenv: getenv(env)})
	require.ErrorContains(t, err, "systems.fixit.webhookSecretsEnv: O2O_FIXIT_WEBHOOK_SECRETS_FILE: open /nonexistent/o2o-secret: no such file or directory")
}

func TestCodecUIOrigins(t *testing.T) {
	cfg, err := config.Parse([]byte(baseYAML+"  codec: {uiOrigins: [\"http://localhost:8233\", \"https://ui.example.com:8443\"]}\n"), config.Options{Getenv: getenv(baseEnv())})
	require.NoError(t, err)
	assert.Equal(t, []string{"http://localhost:8233", "https://ui.example.com:8443"}, cfg.Webhook.Codec.UIOrigins)

	_, err = config.Parse([]byte(baseYAML+"  codec: {uiOrigins: [\"http://localhost:8233/\", \"localhost:8233\", \"*\"]}\n"), config.Options{Getenv: getenv(baseEnv())})
	require.ErrorContains(t, err, "3 problem(s)")
	require.ErrorContains(t, err, `webhook.codec.uiOrigins[0]: "http://localhost:8233/" must be an origin like https://temporal-ui.example.com`)
	require.ErrorContains(t, err, `webhook.codec.uiOrigins[2]: "*" must be an origin`)
}
