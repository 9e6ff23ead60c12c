package secretenv_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/internal/secretenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestLookup(t *testing.T) {
	v, err := secretenv.Lookup(env(map[string]string{"TOKEN": "from-env"}), "TOKEN")
	require.NoError(t, err)
	require.Equal(t, "from-env", v)

	// A mounted secret usually ends in a line break; it is not part of the secret.
	v, err = secretenv.Lookup(env(map[string]string{"TOKEN_FILE": write(t, "from-file\r\n\n")}), "TOKEN")
	require.NoError(t, err)
	require.Equal(t, "from-file", v)

	// Inner line breaks and spaces stay: a list of secrets may use them.
	v, err = secretenv.Lookup(env(map[string]string{"TOKEN_FILE": write(t, "one two\n")}), "TOKEN")
	require.NoError(t, err)
	require.Equal(t, "one two", v)

	v, err = secretenv.Lookup(env(nil), "TOKEN")
	require.NoError(t, err)
	require.Empty(t, v, "neither set: the caller says what is missing")
}

func TestLookupErrors(t *testing.T) {
	_, err := secretenv.Lookup(env(map[string]string{"TOKEN": "secret-value", "TOKEN_FILE": write(t, "x")}), "TOKEN")
	require.EqualError(t, err, "both TOKEN and TOKEN_FILE are set; set only one")

	_, err = secretenv.Lookup(env(map[string]string{"TOKEN_FILE": "/nonexistent/secret"}), "TOKEN")
	require.ErrorContains(t, err, "TOKEN_FILE: open /nonexistent/secret")
	require.ErrorIs(t, err, os.ErrNotExist)

	p := write(t, "\n")
	_, err = secretenv.Lookup(env(map[string]string{"TOKEN_FILE": p}), "TOKEN")
	require.EqualError(t, err, "TOKEN_FILE names "+p+", which is empty")
}
