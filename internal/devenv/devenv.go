// Package devenv holds the development-only credentials that make run, the
// end-to-end tests, the benchmark and the drill give O2O and the simulated
// systems: one copy, so that they cannot drift apart. They are published in
// this repository; nothing outside this machine may accept them.
package devenv

import (
	"maps"
	"slices"
)

// Credentials are the variables O2O and the simulator read their tokens
// and webhook secrets from, with their development values.
var Credentials = map[string]string{
	"O2O_ACME_TOKEN":            "dev-acme-token",
	"O2O_FIXIT_TOKEN":           "dev-fixit-token",
	"O2O_ACME_WEBHOOK_SECRETS":  "whsec_ZGV2LWFjbWUtd2ViaG9vay1zZWNyZXQtMDAwMDE=",
	"O2O_FIXIT_WEBHOOK_SECRETS": "whsec_ZGV2LWZpeGl0LXdlYmhvb2stc2VjcmV0LTAwMDE=",
	"SIM_ACME_WEBHOOK_SECRET":   "whsec_ZGV2LWFjbWUtd2ViaG9vay1zZWNyZXQtMDAwMDE=",
	"SIM_FIXIT_WEBHOOK_SECRET":  "whsec_ZGV2LWZpeGl0LXdlYmhvb2stc2VjcmV0LTAwMDE=",
	"O2O_API_TOKEN":             "dev-operator-token-0001",
}

// PayloadKey is the development payload key (O2O_PAYLOAD_KEYS): id dev-1,
// the bytes of "o2o-dev-payload-key-not-secret01".
const PayloadKey = "dev-1:bzJvLWRldi1wYXlsb2FkLWtleS1ub3Qtc2VjcmV0MDE="

// List is Credentials as NAME=value lines, sorted by name, for a process's
// environment.
func List() []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(Credentials)) {
		out = append(out, k+"="+Credentials[k])
	}
	return out
}
