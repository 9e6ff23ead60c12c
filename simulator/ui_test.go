package simulator_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOverviewPage(t *testing.T) {
	h := startDev(t)
	h.simOK("POST", "acme", "/jobs", map[string]any{
		"clientId": "28", "siteRef": "SITE-002", "priority": "Urgent",
		"description": `<script>alert("x")</script>`,
	}, nil)
	h.simOK("POST", "acme", "/jobs/AC000001/status", map[string]string{"status": "In Progress"}, nil)

	status, header, body := h.do("GET", "/?refresh=3", nil, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "text/html; charset=utf-8", header.Get("Content-Type"))
	page := string(body)
	require.Contains(t, page, `<meta http-equiv="refresh" content="3">`)
	require.Contains(t, page, "AC000001")
	require.Contains(t, page, "In Progress")
	require.Contains(t, page, "JOB_STATUS_CHANGED")
	require.Contains(t, page, "fixit")
	require.NotContains(t, page, "<script>", "everything shown is escaped")
	require.Contains(t, page, "&lt;script&gt;")

	status, _, _ = h.do("GET", "/healthz", nil, nil)
	require.Equal(t, http.StatusOK, status)
}

// The console counts in words: "1 older job", not "1 older jobs" (issue 17).
func TestOverviewPageCountsInWords(t *testing.T) {
	h := startDev(t)
	for range 51 { // the page shows the newest 50
		h.simOK("POST", "acme", "/jobs", map[string]any{"clientId": "28", "siteRef": "SITE-002", "priority": "Urgent"}, nil)
	}
	_, _, body := h.do("GET", "/", nil, nil)
	require.Contains(t, string(body), "… and 1 older job.</p>")
}
