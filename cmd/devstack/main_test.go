package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPortHolderNamesTheProcessListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	require.True(t, inUse(fmt.Sprintf(":%d", port)))
	holder := portHolder(port)
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc here")
	}
	require.Contains(t, holder, fmt.Sprintf("held by pid %d", os.Getpid()))
}

func TestWriteEnvIsSourceable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	require.NoError(t, writeEnv(path, []string{"O2O_API_TOKEN=dev-operator-token-0001", "O2O_CONFIG=/x/o2o.yaml"}))
	out, err := exec.Command("sh", "-c", ". "+path+" && echo \"$O2O_API_TOKEN $O2O_CONFIG\"").Output()
	require.NoError(t, err)
	require.Equal(t, "dev-operator-token-0001 /x/o2o.yaml\n", string(out))
}

func TestPrefixHidesTheDevServersCancelledRequestsOnceExplained(t *testing.T) {
	in := strings.Join([]string{
		`time=2026-11-30T16:00:00Z level=ERROR msg="service failures" operation=PollWorkflowTaskQueue error="context canceled"`,
		`time=2026-11-30T16:00:01Z level=ERROR msg="Persistent fetch operation Failure" error="context canceled"`,
		`time=2026-11-30T16:00:02Z level=ERROR msg="history shard unavailable" error="disk full"`,
	}, "\n") + "\n"
	out := captureStdout(t, func() { prefix("temporal", strings.NewReader(in)) })
	assert.Equal(t, 1, strings.Count(out, "context canceled"), "the note names them once; the lines are hidden:\n%s", out)
	assert.Contains(t, out, "DEVSTACK_ALL_LOGS=1")
	assert.Contains(t, out, "disk full", "a real error still shows")

	t.Setenv("DEVSTACK_ALL_LOGS", "1")
	out = captureStdout(t, func() { prefix("temporal", strings.NewReader(in)) })
	assert.Equal(t, 2, strings.Count(out, `error="context canceled"`))

	// Other processes' lines are never hidden.
	t.Setenv("DEVSTACK_ALL_LOGS", "")
	out = captureStdout(t, func() { prefix("worker", strings.NewReader(in)) })
	assert.Equal(t, 2, strings.Count(out, `error="context canceled"`))
}

func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	saved := os.Stdout
	os.Stdout = w
	f()
	os.Stdout = saved
	require.NoError(t, w.Close())
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}

// The banner's Web UI filter is one of the views the README's "Day to day"
// tells an operator to save: a newcomer must not be shown two ways.
func TestBannerFilterIsAReadmeView(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, day, ok := strings.Cut(string(readme), "## Day to day")
	require.True(t, ok, "the README has a Day to day section")
	day, _, _ = strings.Cut(day, "\n## ")
	filters := regexp.MustCompile(`filter: ([^;)\n]+)`).FindAllStringSubmatch(banner, -1)
	require.NotEmpty(t, filters, "the banner suggests a filter")
	for _, f := range filters {
		require.Contains(t, day, "| `"+f[1]+"` |", "the banner's filter %s is not one of the README's views", f[1])
	}
	require.Contains(t, banner, "source .run/env")
}
