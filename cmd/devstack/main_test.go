package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
