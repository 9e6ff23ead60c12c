package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"

	"github.com/o2o-sync/o2o/codec"
	"github.com/o2o-sync/o2o/internal/devenv"
	"github.com/o2o-sync/o2o/lifecycle"
)

// encryptedState is a link state as the worker answers a query with payload
// encryption on; get decodes it as a process with dc would.
type encryptedState struct {
	p  *commonpb.Payloads
	dc converter.DataConverter
}

func (v encryptedState) HasValue() bool    { return true }
func (v encryptedState) Get(ptr any) error { return v.dc.FromPayloads(v.p, ptr) }

// In a checkout where make run wrote .run/env, a starter run without its
// settings says to source it, from wherever in the checkout it runs;
// elsewhere it says only what is missing (issue 17: "O2O_CONFIG is not set"
// and "no payload keys" left a newcomer guessing).
func TestMissingSettingsPointAtRunEnv(t *testing.T) {
	example, err := filepath.Abs("../o2o.example.yaml")
	require.NoError(t, err)
	checkout := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(checkout, ".run"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(checkout, ".run", "env"), []byte("export O2O_CONFIG=x\n"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(checkout, "docs"), 0o755))
	t.Setenv(envOperator, "")

	t.Chdir(checkout)
	t.Setenv("O2O_CONFIG", "")
	for _, args := range [][]string{{"state", "acme-fixit", "AC1"}, {"retry", "acme-fixit", "AC1", "--by", "ops"}} {
		r := run(t, nil, args...)
		require.Equal(t, 1, r.code, r.stderr)
		require.Contains(t, r.stderr, "O2O_CONFIG is not set")
		require.Contains(t, r.stderr, "run `source .run/env` in this terminal first", args)
		require.False(t, r.dialed)
	}
	t.Chdir(filepath.Join(checkout, "docs"))
	r := run(t, nil, "state", "acme-fixit", "AC1")
	require.Contains(t, r.stderr, "run `source ../.run/env` in this terminal first")

	// The configuration is there, the payload keys are not: the link's
	// state cannot be read.
	t.Setenv("O2O_CONFIG", example)
	t.Setenv(codec.EnvKeys, "")
	keys, err := codec.ParseKeys(devenv.PayloadKey)
	require.NoError(t, err)
	withKeys, err := codec.New(keys...)
	require.NoError(t, err)
	p, err := codec.DataConverter(withKeys).ToPayloads(lifecycle.LinkState{Link: "acme-fixit"})
	require.NoError(t, err)
	keyless, err := codec.New()
	require.NoError(t, err)
	tc := &mocks.Client{}
	tc.On("QueryWorkflow", mock.Anything, "LinkedJob:acme-fixit:AC1", "", mock.Anything).
		Return(encryptedState{p: p, dc: codec.DataConverter(keyless)}, nil)
	r = run(t, tc, "state", "acme-fixit", "AC1")
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "no payload keys")
	require.Contains(t, r.stderr, "run `source ../.run/env` in this terminal first")

	// Outside such a checkout: what is missing, and no hint.
	t.Chdir(t.TempDir())
	t.Setenv("O2O_CONFIG", "")
	r = run(t, nil, "state", "acme-fixit", "AC1")
	require.Contains(t, r.stderr, "O2O_CONFIG is not set")
	require.NotContains(t, r.stderr, "source")
}
