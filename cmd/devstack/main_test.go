package main

import (
	"fmt"
	"net"
	"os"
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
