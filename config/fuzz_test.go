package config_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/o2o-sync/o2o/config"
)

var (
	fuzzNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	fuzzIDRE   = regexp.MustCompile(`^[0-9]{1,18}$`)
)

func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(examplePath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(baseYAML))
	f.Add([]byte(strings.Replace(baseYAML, "webhook:\n", linkBlock("acme-fixit-2", "8")+"webhook:\n", 1)))
	for _, broken := range []string{
		"",
		"---\n",
		"null",
		"[]",
		"systems: {}\nlinks: []\n",
		"systems:\n  a: ~\n  b: ~\nlinks: [~]\n",
		"a: &a [*a, *a]\n",
		"systems: &s {x: *s}\n",
		strings.Replace(baseYAML, "baseURL: https://acme.example.com/", "baseURL: \"http://[::1\"", 1),
		strings.Replace(baseYAML, "      system: fixit\n", "      system: nope\n", 1),
		strings.Replace(baseYAML, "authTokenEnv: ACME_TOKEN", "authTokenEnv: abc-123-secret", 1),
		strings.Replace(baseYAML, "    apiUser: o2o-api\n  fixit:", "    apiUser: o2o-api\n    timeout: 99999999999h\n    paths: {jobRead: \"/x/{jobRef}/{documentId}\"}\n  fixit:", 1),
		strings.Replace(baseYAML, "links:\n", "links:\n  - {}\n  - name: x\n", 1),
		strings.Replace(string(example), "\n  ", "\n\t", 3),
		string(example[:len(example)/2]),
	} {
		f.Add([]byte(broken))
	}

	env := exampleEnv()
	for k, v := range baseEnv() {
		env[k] = v
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		opt := config.Options{Getenv: getenv(env)}
		cfg, err := config.Parse(doc, opt)
		if err != nil {
			if cfg != nil {
				t.Fatal("a config and an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			// Values from the environment never appear in messages.
			for _, v := range env {
				for _, part := range strings.Fields(v) {
					if strings.Contains(err.Error(), part) && !bytes.Contains(doc, []byte(part)) {
						t.Fatalf("error quotes an environment value: %v", err)
					}
				}
			}
			// Deterministic: the same document gives the same message.
			if _, err2 := config.Parse(doc, opt); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("non-deterministic error: %v then %v", err, err2)
			}
			return
		}
		if len(cfg.Systems) < 2 {
			t.Fatalf("%d systems", len(cfg.Systems))
		}
		for name, s := range cfg.Systems {
			if s == nil || s.Name != name || !fuzzNameRE.MatchString(name) {
				t.Fatalf("system %q: %+v", name, s)
			}
			if s.Timeout <= 0 || s.AuthToken == "" {
				t.Fatalf("system %q not fully loaded: %+v", name, s)
			}
			// A system that sends webhooks has the credentials of its mode.
			a := s.WebhookAuth
			if s.ReceivesWebhooks() && (a.Mode == config.AuthStandardWebhooks && len(s.WebhookSecrets) == 0 ||
				a.Mode == config.AuthHeaderToken && (a.Header == "" || len(a.Tokens) == 0) ||
				a.Mode == config.AuthBasic && (a.User == "" || len(a.Passwords) == 0)) {
				t.Fatalf("system %q: webhook credentials not loaded: mode %q", name, a.Mode)
			}
			for _, p := range []string{s.Paths.JobRead, s.Paths.DocumentList, s.Paths.DocumentUpload} {
				if !strings.HasPrefix(p, "/") || !strings.Contains(p, "{jobRef}") {
					t.Fatalf("system %q: path %q", name, p)
				}
			}
			if !strings.Contains(s.Paths.DocumentDownload, "{documentId}") {
				t.Fatalf("system %q: path %q", name, s.Paths.DocumentDownload)
			}
		}
		if len(cfg.Links) == 0 {
			t.Fatal("no links")
		}
		names := map[string]bool{}
		for _, l := range cfg.Links {
			if l == nil || !fuzzNameRE.MatchString(l.Name) || names[l.Name] {
				t.Fatalf("link %+v", l)
			}
			names[l.Name] = true
			if cfg.Link(l.Name) != l {
				t.Fatalf("Link(%q) does not find it", l.Name)
			}
			p, s := cfg.System(l.Primary.System), cfg.System(l.Secondary.System)
			if p == nil || s == nil || p == s {
				t.Fatalf("link %q: systems %q/%q", l.Name, l.Primary.System, l.Secondary.System)
			}
			for _, r := range []config.Ref{l.Primary.Client, l.Primary.Team, l.Secondary.WorkLogType, l.Secondary.WorkType,
				l.Secondary.Workflow, l.Secondary.Client, l.Secondary.Service} {
				if r.Name == "" || !fuzzIDRE.MatchString(r.ID) {
					t.Fatalf("link %q: ref %+v", l.Name, r)
				}
			}
			if len(l.Priorities) == 0 || l.CloseAfter <= 0 {
				t.Fatalf("link %q: %+v", l.Name, l)
			}
			if l.StatusEvent("secondary", l.Secondary.AcceptedStatus) == nil {
				t.Fatalf("link %q: accepted status unmapped", l.Name)
			}
		}
		if cfg.Webhook.Addr == "" || cfg.Webhook.MaxBodyBytes < 1024 {
			t.Fatalf("webhook %+v", cfg.Webhook)
		}
	})
}
