package chaos

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/o2o-sync/o2o/chaos/model"
	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
)

// TestO2OConfigMatchesWorld loads o2o.yaml, the configuration the runner starts
// O2O with, through the config package and checks it says what world.go's
// Links tell the model and the generator: a drift between them would show as
// divergences that are neither O2O's nor the model's fault.
func TestO2OConfigMatchesWorld(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	env := map[string]string{
		"O2O_ACME_TOKEN": "acme-token-0123456789", "O2O_BRAVO_TOKEN": "bravo-token-0123456789",
		"O2O_FIXIT_TOKEN":          "fixit-token-0123456789",
		"O2O_ACME_WEBHOOK_SECRETS": secret, "O2O_BRAVO_WEBHOOK_SECRETS": secret, "O2O_FIXIT_WEBHOOK_SECRETS": secret,
		"O2O_API_TOKEN": "api-token-0123456789abcdef",
	}
	cfg, err := config.Load(ConfigFile, config.Options{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Systems {
		// Between the API faults' delays: a slow answer only slows, a timeout times out.
		slow, _ := time.ParseDuration(SlowDelay)
		timeout, _ := time.ParseDuration(TimeoutDelay)
		if d := s.Timeout.D(); d <= slow || d >= timeout {
			t.Errorf("systems.%s.timeout = %s, want between %s and %s", s.Name, d, slow, timeout)
		}
		if s.APIUser != APIUser {
			t.Errorf("systems.%s.apiUser = %q, want %q", s.Name, s.APIUser, APIUser)
		}
	}
	if len(cfg.Links) != len(Links()) {
		t.Fatalf("%d links, want %d", len(cfg.Links), len(Links()))
	}
	for _, want := range Links() {
		l := cfg.Link(want.Name)
		if l == nil {
			t.Errorf("link %s missing", want.Name)
			continue
		}
		check := func(what, got, want string) {
			t.Helper()
			if got != want {
				t.Errorf("%s: %s = %q, want %q", l.Name, what, got, want)
			}
		}
		check("primary.system", l.Primary.System, want.Primary)
		check("secondary.system", l.Secondary.System, want.Secondary)
		check("primary.team.id", l.Primary.Team.ID, want.Team)
		check("secondary.client.id", l.Secondary.Client.ID, secondaryClient[want.Name])
		check("secondary.acceptedStatus", l.Secondary.AcceptedStatus, want.AcceptedStatus)
		var prios []string
		for _, p := range l.Priorities {
			prios = append(prios, p.Primary.Name)
		}
		check("priorities", strings.Join(prios, ","), strings.Join(want.Priorities, ","))
		var cats, wantCats []string
		for _, c := range l.DocumentCategories {
			cats = append(cats, c.Primary+"="+c.Secondary)
		}
		for _, c := range want.Categories {
			wantCats = append(wantCats, c.Primary+"="+c.Secondary)
		}
		check("documentCategories", strings.Join(cats, ","), strings.Join(wantCats, ","))
		for side, statuses := range map[model.Side][]config.StatusEvent{model.Primary: l.StatusEvents.PrimaryToSecondary, model.Secondary: l.StatusEvents.SecondaryToPrimary} {
			got := map[string]string{}
			for _, s := range statuses {
				got[s.Status] = s.EventCode
			}
			if len(got) != len(want.StatusEvents[side]) {
				t.Errorf("%s: status events from %v = %v, want %v", l.Name, side, got, want.StatusEvents[side])
			}
			for st, code := range want.StatusEvents[side] {
				check("status event "+st, got[st], code)
			}
		}
		a := l.AppointmentEvents
		check("appointmentEvents.created", a.Created, want.AppointmentEvents[model.Booked])
		check("appointmentEvents.rescheduled", a.Rescheduled, want.AppointmentEvents[model.Rescheduled])
		check("appointmentEvents.cancelled", a.Cancelled, want.AppointmentEvents[model.Cancelled])
		check("appointmentEvents.completed", a.Completed, want.AppointmentEvents[model.Completed])
		for side, from := range map[model.Side]events.Side{model.Primary: events.Primary, model.Secondary: events.Secondary} {
			if got := l.ApprovalRequired(from); got != want.Approval[side] {
				t.Errorf("%s: approval required from %v = %v, want %v", l.Name, side, got, want.Approval[side])
			}
			for d, status := range map[model.Decision]string{model.Approved: "approved", model.Rejected: "rejected", model.VersionCanceled: "cancelled"} {
				check("version event "+status, l.VersionEventCode(from, status), want.VersionEvents[side][d])
			}
		}
		check("documentApproval.withdrawnEvents.secondaryToPrimary", l.DocumentApproval.WithdrawnEvents.SecondaryToPrimary, want.Withdrawn[model.Secondary])
		check("documentApproval.withdrawnEvents.primaryToSecondary", l.DocumentApproval.WithdrawnEvents.PrimaryToSecondary, want.Withdrawn[model.Primary])
		if l.Versions.Enabled != want.Versions {
			t.Errorf("%s: versions.enabled = %v, want %v", l.Name, l.Versions.Enabled, want.Versions)
		}
		if l.CloseAfter.D() > 10*time.Second {
			t.Errorf("%s: closeAfter = %s, want a few seconds (WaitClose waits for it)", l.Name, l.CloseAfter.D())
		}
	}
}
