package proc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStartStopKillAndTheLog(t *testing.T) {
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	log := filepath.Join(t.TempDir(), "child.log")

	// A child that ignores SIGTERM is killed after the grace period.
	p, err := Start("child", sh, []string{"-c", `trap "" TERM; echo hello; while :; do sleep 0.05; done`}, nil, log)
	require.NoError(t, err)
	require.Positive(t, p.Pid())
	require.Eventually(t, func() bool { b, _ := os.ReadFile(log); return strings.Contains(string(b), "hello") }, 5*time.Second, 10*time.Millisecond)
	require.False(t, p.Exited())
	p.Stop(50 * time.Millisecond)
	require.True(t, p.Exited())
	require.Error(t, p.Err(), "killed")

	// A second start appends to the same log, under its own header.
	p, err = Start("child", sh, []string{"-c", "echo again"}, nil, log)
	require.NoError(t, err)
	<-p.Done()
	require.NoError(t, p.Err())
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(b), "---- child started at "))
	require.Contains(t, string(b), "hello\n")
	require.Contains(t, string(b), "again\n")

	_, err = Start("nothing", filepath.Join(t.TempDir(), "absent"), nil, nil, log)
	require.ErrorContains(t, err, "is missing")
}
