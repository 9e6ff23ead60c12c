package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/o2o-sync/o2o/chaos/model"
	"github.com/o2o-sync/o2o/simulator"
)

var tokens = map[string]string{"acme": "acme-token", "bravo": "bravo-token", "fixit": "fixit-token"}

// startSimulator serves the chaos systems (simulator.yaml) in process; no
// webhook is sent, as no O2O runs.
func startSimulator(t *testing.T) string {
	t.Helper()
	for sys, tok := range tokens {
		t.Setenv("O2O_"+strings.ToUpper(sys)+"_TOKEN", tok)
		t.Setenv("SIM_"+strings.ToUpper(sys)+"_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	}
	seed, err := simulator.LoadSeed(SeedFile)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.New(seed, simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return srv.URL
}

// A life executed with no O2O running: the systems hold no write of O2O's,
// and the check reports every write the model expects as missing, and
// nothing else.
func TestLifeWithoutO2OMissesEveryWrite(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			base := startSimulator(t)
			ids := NewIDs()
			ex := &Executor{Base: base, IDs: ids}
			m := model.New(Links(), Systems())
			done := map[model.Kind]int{}
			for i, s := range Generate(seed).Steps {
				if err := m.Apply(s.Action); err != nil {
					t.Fatalf("step %d: the model refuses %s: %v", i, s.Action.Kind, err)
				}
				err := ex.Do(ctx, s.Action)
				var se *SimError
				switch {
				case err == nil:
					done[s.Action.Kind]++
				case errors.Is(err, ErrNotUser), errors.Is(err, ErrNoLinkedJob):
				case errors.As(err, &se) && dependsOnO2O(s.Action):
					// a version or decision of one O2O should have mirrored
				default:
					t.Fatalf("step %d (%s %+v): %v", i, s.Action.Kind, s.Action, err)
				}
			}
			if done[model.Raise] == 0 || done[model.Assign] == 0 {
				t.Fatalf("the life did little: %v", done)
			}
			obs, err := (&Observer{Base: base, IDs: ids}).Observe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(obs) != 0 {
				t.Fatalf("writes observed with no O2O running: %v", obs)
			}
			exp := m.Expect().Writes
			want := 0
			for _, ws := range exp {
				for _, w := range ws {
					if !w.Optional {
						want++
					}
				}
			}
			ds := model.Compare(exp, obs)
			if want == 0 || len(ds) != want {
				t.Fatalf("%d divergences for %d expected writes", len(ds), want)
			}
			for _, d := range ds {
				if d.Kind != model.Missing {
					t.Errorf("not a missing write: %s", d)
				}
			}
		})
	}
}

// dependsOnO2O: an action on a version the primary holds only if O2O mirrored it.
func dependsOnO2O(a model.Action) bool {
	return a.Kind == model.RaiseVersion || a.Kind == model.DecideVersion
}

// rest calls a system's Oneserve API as its API user, as O2O does.
func rest(t *testing.T, base, sys, path, contentType, body string) {
	t.Helper()
	h := http.Header{simulator.AuthHeader: {tokens[sys]}}
	var out struct {
		Result    string `json:"result"`
		ResultMsg string `json:"result_msg"`
	}
	err := do(context.Background(), http.DefaultClient, "POST", base+"/"+sys+"/rest"+path, contentType, h, strings.NewReader(body), &out)
	if err != nil || out.Result != "success" {
		t.Fatalf("%s %s: %v %+v", sys, path, err, out)
	}
}

// A life whose writes are made by hand, as O2O must make them, through the
// systems' REST API as their API user: the check finds nothing missing and
// nothing else; the same write made twice is reported duplicated.
func TestHandMadeWritesMatchTheModel(t *testing.T) {
	ctx := context.Background()
	base := startSimulator(t)
	ids := NewIDs()
	ex := &Executor{Base: base, IDs: ids}
	m := model.New(Links(), Systems())
	act := func(a model.Action) {
		t.Helper()
		if err := m.Apply(a); err != nil {
			t.Fatal(err)
		}
		if err := ex.Do(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	start := t0.Add(24 * time.Hour)
	act(model.Action{Kind: model.Raise, System: "acme", Job: "J1", Site: "SITE-001", Contact: "CON-001", Priority: "Emergency",
		Lines: []model.Line{{Activity: "J1-a", Code: "PLB001", Quantity: "1"}, {Activity: "J1-b", Code: "PLB002", Quantity: "1"}}})
	act(model.Action{Kind: model.Assign, System: "acme", Job: "J1", Activity: "J1-a", Team: "7"})
	ref := ids.JobRef["J1"]
	// O2O creates the linked job with the assigned line.
	rest(t, base, "fixit", "/workflow/job/createJob", "application/json", fmt.Sprintf(`{"clientRef":%q,"siteRef":"SITE-001",
		"reportedDate":"01/07/2026 10:00","contactMode":"2","contactRef":"CON-001","clientId":"41","workLogTypeId":"3",
		"workTypeId":"12","workflowId":"4","serviceId":"9","priorityId":"11","description":"chaos",
		"activities":[{"code":"PLB001","quantity":"1","clientRef":%q}]}`, ref, ids.Activity["J1-a"]))
	act(model.Action{Kind: model.Status, Side: model.Secondary, Link: "acme-fixit", Job: "J1", Status: "Accepted"})
	act(model.Action{Kind: model.Appointment, Side: model.Secondary, Link: "acme-fixit", Job: "J1", Appointment: "A1",
		AppointmentKind: model.Booked, Start: start})
	act(model.Action{Kind: model.Upload, Side: model.Primary, System: "acme", Link: "acme-fixit", Job: "J1", Document: "J1-p-D1", Category: "Photos"})
	act(model.Action{Kind: model.Status, Side: model.Primary, System: "acme", Link: "acme-fixit", Job: "J1", Status: "On Hold"})

	event := func(sys, jobRef, code, note string) {
		client := map[string]string{"acme": "28", "fixit": "41"}[sys]
		rest(t, base, sys, "/workflow/job/addEventByClientRef", "application/json",
			fmt.Sprintf(`{"jobRef":%q,"clientId":%q,"sigEventCode":%q,"note":%q,"date":"01-07-2026 10:00:00"}`, jobRef, client, code, note))
	}
	linked, err := ex.linkedJobs(ctx, "acme-fixit", ref)
	if err != nil || len(linked) != 1 {
		t.Fatalf("linked job: %v %v", linked, err)
	}
	fx := linked[0].JobRef
	event("acme", ref, "SACC", "Accepted: fixit job "+fx+" is now Accepted")
	event("acme", ref, "APPT", fmt.Sprintf("Appointment booked by fixit for %s [fixit appointment %s, job %s]",
		start.In(london).Format("Mon 2 Jan 2006 15:04"), ids.Appointment["J1/A1"], fx))
	q := url.Values{"fileName": {"J1-p-D1.pdf"}, "category": {"Site Photos"}, "clientRef": {"o2o:acme-fixit:acme:" + ids.Document["J1-p-D1"]}}
	rest(t, base, "fixit", "/documents/job/"+fx+"?"+q.Encode(), "application/pdf", "%PDF-1.4 copy")
	event("fixit", fx, "PHOLD", "acme job "+ref+" is now On Hold")

	check := func() []model.Divergence {
		obs, err := (&Observer{Base: base, IDs: ids}).Observe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return model.Compare(m.Expect().Writes, obs)
	}
	if ds := check(); len(ds) != 0 {
		t.Fatalf("divergences: %v\nexpected:\n%s", ds, m.Expect().Describe())
	}
	event("fixit", fx, "PHOLD", "acme job "+ref+" is now On Hold")
	ds := check()
	if len(ds) != 1 || ds[0].Kind != model.Duplicated {
		t.Fatalf("a status written twice: %v", ds)
	}
}

// Versions both ways, a document held for approval, approved and withdrawn,
// an appointment moved: written by hand as O2O must, the check finds them
// all; a decision O2O wrote without deciding the version is reported.
func TestHandMadeVersionsDocumentsAppointments(t *testing.T) {
	ctx := context.Background()
	base := startSimulator(t)
	ids := NewIDs()
	ex := &Executor{Base: base, IDs: ids}
	m := model.New(Links(), Systems())
	act := func(a model.Action) {
		t.Helper()
		if err := m.Apply(a); err != nil {
			t.Fatal(err)
		}
		if err := ex.Do(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	sec := func(a model.Action) model.Action {
		a.Side, a.Link, a.Job = model.Secondary, "acme-fixit", "J1"
		return a
	}
	act(model.Action{Kind: model.Raise, System: "acme", Job: "J1", Site: "SITE-001", Contact: "CON-001", Priority: "Urgent",
		Lines: []model.Line{{Activity: "J1-a", Code: "PLB001", Quantity: "1"}}})
	act(model.Action{Kind: model.Assign, System: "acme", Job: "J1", Activity: "J1-a", Team: "7"})
	ref := ids.JobRef["J1"]
	rest(t, base, "fixit", "/workflow/job/createJob", "application/json", fmt.Sprintf(`{"clientRef":%q,"siteRef":"SITE-001",
		"reportedDate":"01/07/2026 10:00","contactMode":"2","contactRef":"CON-001","clientId":"41","workLogTypeId":"3",
		"workTypeId":"12","workflowId":"4","serviceId":"9","priorityId":"12","description":"chaos",
		"activities":[{"code":"PLB001","quantity":"1","clientRef":%q}]}`, ref, ids.Activity["J1-a"]))
	linked, err := ex.linkedJobs(ctx, "acme-fixit", ref)
	if err != nil || len(linked) != 1 {
		t.Fatalf("linked job: %v %v", linked, err)
	}
	fx := linked[0].JobRef
	event := func(sys, jobRef, code, note string) {
		client := map[string]string{"acme": "28", "fixit": "41"}[sys]
		rest(t, base, sys, "/workflow/job/addEventByClientRef", "application/json",
			fmt.Sprintf(`{"jobRef":%q,"clientId":%q,"sigEventCode":%q,"note":%q,"date":"01-07-2026 10:00:00"}`, jobRef, client, code, note))
	}
	when := func(h int) (time.Time, string) {
		at := t0.Add(time.Duration(h) * time.Hour)
		return at, at.In(london).Format("Mon 2 Jan 2006 15:04")
	}

	act(sec(model.Action{Kind: model.Upload, Document: "J1-s-D1", Category: "Certificates"})) // held: approval required
	act(sec(model.Action{Kind: model.Approve, Document: "J1-s-D1", Category: "Certificates"}))
	q := url.Values{"fileName": {"J1-s-D1.pdf"}, "category": {"Gas Certificate"}, "clientRef": {"o2o:acme-fixit:fixit:" + ids.Document["J1-s-D1"]}}
	rest(t, base, "acme", "/documents/job/"+ref+"?"+q.Encode(), "application/pdf", "%PDF-1.4 copy")

	at, s := when(24)
	act(sec(model.Action{Kind: model.Appointment, Appointment: "A1", AppointmentKind: model.Booked, Start: at}))
	event("acme", ref, "APPT", fmt.Sprintf("Appointment booked by fixit for %s [fixit appointment %s, job %s]", s, ids.Appointment["J1/A1"], fx))

	act(sec(model.Action{Kind: model.Reject, Document: "J1-s-D1", Category: "Certificates"}))
	event("acme", ref, "SDOCWD", "Approval of document J1-s-D1.pdf withdrawn in fixit (chaos reject); the copy O2O made earlier stays")

	at2, s2 := when(48)
	act(sec(model.Action{Kind: model.Appointment, Appointment: "A1", AppointmentKind: model.Rescheduled, Start: at2, Reason: "tenant asked"}))
	event("acme", ref, "RESCH", fmt.Sprintf("Appointment rescheduled by fixit to %s (was %s). Reason: tenant asked [fixit appointment %s, job %s]",
		s2, s, ids.Appointment["J1/A1"], fx))

	// The subcontractor's variation, mirrored into acme as version 2: the added
	// line through addActivityByClientRef, the quantity through versionLines.
	act(sec(model.Action{Kind: model.RaiseVersion, Changes: []model.Change{{Change: "add", Code: "RAD01", Quantity: "1"}, {Change: "quantity", Code: "PLB001", Quantity: "2"}}}))
	var fxJob, acJob simulator.Job
	if err := ex.call(ctx, "GET", "/fixit/sim/jobs/"+fx, nil, &fxJob); err != nil {
		t.Fatal(err)
	}
	rest(t, base, "acme", "/workflow/activity/addActivityByClientRef", "application/json", fmt.Sprintf(`{"submitVersion":"1","activities":[
		{"jobClientRef":"CH-J1","clientId":"28","code":"RAD01","clientRef":%q,"completedQuantity":"0","totalQuantity":"1"}]}`, lineWithCode(fxJob, "RAD01")))
	if err := ex.call(ctx, "GET", "/acme/sim/jobs/"+ref, nil, &acJob); err != nil {
		t.Fatal(err)
	}
	rest(t, base, "acme", "/workflow/job/"+ref+"/versionLines", "application/json",
		fmt.Sprintf(`{"submitVersion":"0","changes":[{"change":"quantity","activityId":%q,"quantity":"2"}]}`, lineWithCode(acJob, "PLB001")))

	// The contractor approves it: O2O approves the subcontractor's version 2, with PVAPP.
	act(model.Action{Kind: model.DecideVersion, Side: model.Primary, System: "acme", Link: "acme-fixit", Job: "J1", Version: 2, Decision: model.Approved})
	rest(t, base, "fixit", "/workflow/job/"+fx+"/version/2/status", "application/json", `{"status":"Approved","reason":"chaos approve"}`)
	event("fixit", fx, "PVAPP", "Version 2 approved in acme. Reason: chaos approve [version 2 here]")

	check := func() []model.Divergence {
		obs, err := (&Observer{Base: base, IDs: ids}).Observe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return model.Compare(m.Expect().Writes, obs)
	}
	if ds := check(); len(ds) != 0 {
		t.Fatalf("divergences: %v\nexpected:\n%s", ds, m.Expect().Describe())
	}
	if n := len(m.Expect().Writes[model.Target{Link: "acme-fixit", Job: "J1", Side: model.Primary}]); n != 5 {
		t.Fatalf("%d writes expected in the primary, want 5 (copy, APPT, SDOCWD, RESCH, version)", n)
	}

	// A decision event for a version O2O did not decide so: the check sees it.
	event("fixit", fx, "PVREJ", "Version 2 rejected in acme [version 2 here]")
	ds := check()
	if len(ds) != 1 || ds[0].Kind != model.Unexpected {
		t.Fatalf("a decision never made: %v", ds)
	}
}
