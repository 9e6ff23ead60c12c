//go:build integration

package e2e

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/workflows"
)

// TestDockerComposeIsValidAndPinned validates docker-compose.yml with
// docker-compose itself (no engine needed) and checks that every image is
// pinned to a version. .ci/run installs Debian's docker-compose.
func TestDockerComposeIsValidAndPinned(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	require.NoError(t, err, "docker-compose is needed to validate docker-compose.yml (apt-get install docker-compose)")
	cmd := exec.Command(bin, "-f", "../docker-compose.yml", "config")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	cfg := string(out)
	for _, svc := range []string{"postgresql", "temporal-schema", "temporal", "temporal-setup", "temporal-ui", "o2o-worker", "o2o-webhook"} {
		require.Contains(t, cfg, "\n  "+svc+":\n", "service %s", svc)
	}
	images := regexp.MustCompile(`(?m)^\s+image: (\S+)$`).FindAllStringSubmatch(cfg, -1)
	require.NotEmpty(t, images)
	for _, m := range images {
		name, tag, ok := strings.Cut(m[1], ":")
		require.True(t, ok, "image %s has no tag", m[1])
		require.NotEqual(t, "latest", tag, "image %s must be pinned", name)
		// Temporal's admin-tools images name the versions of the CLIs they carry too.
		require.Regexp(t, `^[0-9]+\.[0-9]+(\.[0-9]+)?(-tctl-[0-9.]+-cli-[0-9.]+)?$`, tag, "image %s must be pinned to a version", name)
	}
	for sa := range workflows.SearchAttributes {
		require.Contains(t, cfg, sa, "search attribute %s is created", sa)
	}
}
