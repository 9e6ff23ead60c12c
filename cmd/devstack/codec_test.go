package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/codec"
)

// make run encrypts, as production does, with a key the codec accepts; the
// UI and the CLI are pointed at the codec server.
func TestDevStackRunsEncrypted(t *testing.T) {
	i := slices.IndexFunc(devEnv, func(v string) bool { return strings.HasPrefix(v, codec.EnvKeys+"=") })
	require.GreaterOrEqual(t, i, 0, "make run sets %s", codec.EnvKeys)
	c, err := codec.FromEnv(func(name string) string {
		if name == codec.EnvKeys {
			return strings.TrimPrefix(devEnv[i], codec.EnvKeys+"=")
		}
		return ""
	})
	require.NoError(t, err)
	require.Equal(t, "dev-1", c.ActiveKeyID())
	require.True(t, strings.HasSuffix(codecEndpoint, "/codec"))
}
