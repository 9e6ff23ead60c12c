//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/workflows"
)

// The browser tests drive Debian's Chromium, headless, through chromedp
// (the DevTools protocol from Go: no Node toolchain): the Temporal Web UI
// of the dev server, as an operator uses it, and the simulator's console,
// as the systems' users would.

// browser starts a headless Chromium for one test. Without Chromium the
// test is skipped, unless O2O_REQUIRE_BROWSER is set (CI sets it), when it
// fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("/usr/bin/chromium")
	if err != nil {
		if path, err = exec.LookPath("chromium"); err != nil {
			if os.Getenv("O2O_REQUIRE_BROWSER") != "" {
				t.Fatal("O2O_REQUIRE_BROWSER is set but Chromium is not installed (apt-get install -y chromium chromium-driver)")
			}
			t.Skip("Chromium is not installed (apt-get install -y chromium); O2O_REQUIRE_BROWSER=1 makes this a failure")
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser, which lives as long as ctx: no
	// deadline on it; each step has its own.
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return ctx
}

// step runs actions, each batch with a generous deadline.
func step(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		screenshot(t, ctx, "failed")
		require.NoError(t, err)
	}
}

// get runs an action that answers a value.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		screenshot(t, ctx, "failed")
		require.NoError(t, err)
	}
	return v
}

// screenshot saves the page as O2O_BROWSER_SHOTS/<test>-<name>.png, when
// that directory is set: to look at what the browser saw.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("O2O_BROWSER_SHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, t.Name()+"-"+name+".png"), buf, 0o644)
	}
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// text is the visible text of the first element matching a CSS selector,
// "" when there is none.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(css)+`) || {innerText: ""}).innerText`))
}

// flash waits for the console's message after a form, until it says want:
// the page before the form's redirect may still show the previous one.
func flash(t *testing.T, ctx context.Context, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := text(t, ctx, "#flash")
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, "flash")
			t.Fatalf("the console's message never said %q; it says %q", want, got)
		}
		step(t, ctx, chromedp.Sleep(100*time.Millisecond))
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// visible selects the visible elements matching a CSS selector whose text
// is exactly label.
func visible(css, label string) chromedp.JSPath {
	return chromedp.JSPath(`[...document.querySelectorAll(` + jsString(css) + `)].filter(e => e.offsetParent && e.innerText.trim() == ` + jsString(label) + `)`)
}

// until reloads url until cond holds (generous deadline, no timed
// assertion: the deadline only bounds a failure).
func until(t *testing.T, ctx context.Context, url, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		step(t, ctx, chromedp.Navigate(url))
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, "until")
			t.Fatalf("%s: not seen at %s", what, url)
		}
		step(t, ctx, chromedp.Sleep(300*time.Millisecond))
	}
}

// metadataJS is the text of the workflow page's User Metadata tab: the
// summary, the details and the current details, each rendered from
// Markdown in a frame of its own.
const metadataJS = `[...document.querySelectorAll("main iframe[title=output]")].map(f => f.contentDocument && f.contentDocument.body ? f.contentDocument.body.innerText : "").join("\n")`

// updateDialog finds the Web UI's "Send an Update" dialog, open and shown
// (the page holds more than one copy of it).
const updateDialog = `[...document.querySelectorAll('dialog[data-testid="update-confirmation-modal"]')].find(d => d.open && d.checkVisibility())`

// inDialog selects the elements matching css in the update dialog whose
// text is label (any text when label is "").
func inDialog(css, label string) chromedp.JSPath {
	return chromedp.JSPath(`[...((` + updateDialog + `) || document.createElement("div")).querySelectorAll(` + jsString(css) + `)].filter(e => ` +
		jsString(label) + ` == "" || e.innerText.trim() == ` + jsString(label) + `)`)
}

// settled waits until the element js finds is shown at full opacity and
// has not moved since the last frame: the dialog and its menus fade and
// zoom in, and the dialog recentres as its content grows; a click while
// they move can miss or hit the wrong item.
func settled(js string) chromedp.Action[bool] {
	return chromedp.Poll[bool](`(() => {
		const e = ` + js + `;
		if (!e || !e.checkVisibility() || getComputedStyle(e).opacity != "1") return false;
		const r = JSON.stringify(e.getBoundingClientRect()), still = window.__o2oRect === r;
		window.__o2oRect = r;
		return still;
	})()`)
}

// sendUpdate sends an update from the workflow page as an operator does:
// More Actions → Send an Update, pick the name, enter the JSON, Submit. It
// returns the error the dialog shows, or "" once the dialog has closed.
func sendUpdate(t *testing.T, ctx context.Context, name, body string) string {
	t.Helper()
	step(t, ctx,
		chromedp.Click(visible("button", "More Actions")),
		chromedp.Click(visible("[role=menuitem], li", "Send an Update")),
	)
	get(t, ctx, settled(updateDialog))
	step(t, ctx, chromedp.Click(inDialog(`[data-testid="update-select-button"]`, "")))
	get(t, ctx, settled(`[...(`+updateDialog+`).querySelectorAll("[role=option]")].find(o => o.innerText.trim() == `+jsString(name)+`)`))
	step(t, ctx, chromedp.Click(inDialog("[role=option]", name)))
	get(t, ctx, chromedp.Poll[bool](`(`+updateDialog+`).querySelector('[data-testid="update-select"]').value == `+jsString(name)))
	// The data field is a JSON code editor: the text goes in as one
	// insertion, as a paste would (typed, it would meet the editor's
	// bracket auto-closing).
	require.True(t, get(t, ctx, chromedp.Evaluate[bool](`(() => { const e = (`+updateDialog+`).querySelector("[role=textbox]"); e.focus();
		document.execCommand("selectAll"); return document.execCommand("insertText", false, `+jsString(body)+`) })()`)))
	// Leaving the field formats the JSON, which grows the field and moves
	// the buttons: leave it (as a Tab away would) before aiming at Submit.
	get(t, ctx, chromedp.Evaluate[bool](`(() => { (`+updateDialog+`).querySelector("[role=textbox]").blur(); return true })()`))
	get(t, ctx, chromedp.Poll[bool](`!(`+updateDialog+`).querySelector('[data-testid="confirm-modal-button"]').disabled`))
	get(t, ctx, settled(`(`+updateDialog+`).querySelector('[data-testid="confirm-modal-button"]')`))
	screenshot(t, ctx, "update-"+name)
	step(t, ctx, chromedp.Click(inDialog(`[data-testid="confirm-modal-button"]`, "")))
	// Either the dialog closes (accepted) or it shows why not.
	alert := `(() => { const d = ` + updateDialog + `; return d ? [...d.querySelectorAll("[role=alert]")].map(e => e.innerText).join(" ").trim() : "" })()`
	get(t, ctx, chromedp.Poll[bool](`!(`+updateDialog+`) || `+alert+` != ""`))
	msg := get(t, ctx, chromedp.Evaluate[string](alert))
	if msg != "" {
		screenshot(t, ctx, "update-"+name+"-refused")
	}
	return msg
}

// An operator opens a link that needs attention in the Web UI (from the
// console's link to it), sees why, fixes the cause in the simulated
// secondary (the console's add-site form), and sends the retry update from
// the UI's dialog; an update the link refuses shows its reason there.
func TestBrowserOperatorRetriesFromTheWebUI(t *testing.T) {
	ctx := browser(t)
	s := newStack(t, "BW")
	// SITE-003 exists in acme but not in fixit (dev/simulator.yaml).
	job := s.createAcmeJob("SITE-003", "CON-001", [2]string{"PLB001", "1"})
	s.assign("acme", job.Activities[0].ID, "7")
	require.Contains(t, s.waitStateAttention(job.JobRef).LastError, "site SITE-003")
	wid := workflows.WorkflowID("acme-fixit", job.JobRef)
	t.Cleanup(func() {
		if t.Failed() {
			st, code := s.linkState("acme-fixit", job.JobRef)
			b, _ := json.MarshalIndent(st, "", " ")
			t.Logf("link state at the failure (HTTP %d): %s", code, b)
		}
	})

	// The console links the job to its workflow in the Web UI.
	card := "#acme-" + job.JobRef
	step(t, ctx, chromedp.Navigate(s.simURL+"/"))
	href := get(t, ctx, chromedp.AttributeValue(chromedp.CSS(card+" a.workflow"), "href"))
	require.Equal(t, devServerUI+"/namespaces/default/workflows/"+wid, href.Value)

	// The workflow page; its User Metadata tab says what is wrong.
	step(t, ctx, chromedp.Navigate(href.Value), chromedp.WaitVisible(visible("button", "More Actions")))
	require.Contains(t, get(t, ctx, chromedp.Location()), "/workflows/"+wid+"/", "the UI opens the link's latest run")
	step(t, ctx, chromedp.Click(visible("a, button", "User Metadata")))
	get(t, ctx, chromedp.Poll[bool](metadataJS+`.includes("does not exist in fixit")`))
	screenshot(t, ctx, "needs-attention")
	require.Regexp(t, `State\s+NeedsAttention`, get(t, ctx, chromedp.Evaluate[string](metadataJS)))

	// An update the link refuses: its reason is shown in the dialog, and
	// nothing changes.
	require.Contains(t, sendUpdate(t, ctx, lifecycle.ActionRetry, `{"reason": "who am I?"}`), "say who is asking (by)")
	step(t, ctx, chromedp.Click(inDialog(`button[aria-label="Cancel"]`, "")))
	st, _ := s.linkState("acme-fixit", job.JobRef)
	require.Equal(t, lifecycle.StateNeedsAttention, st.State)

	// Fix the cause as fixit's administrator would, in fixit's console.
	step(t, ctx,
		chromedp.Navigate(s.simURL+"/"),
		chromedp.Click(chromedp.CSS("#fixit-sites > summary")),
		chromedp.SetValue(chromedp.CSS(`#fixit-sites form.addsite input[name="siteRef"]`), "SITE-003"),
		chromedp.SetValue(chromedp.CSS(`#fixit-sites form.addsite input[name="name"]`), "3 Station Road"),
		chromedp.Click(visible("#fixit-sites form.addsite button", "Add site")),
	)
	require.Equal(t, "fixit: Added site SITE-003 for client 41 (no event)", flash(t, ctx, "Added site SITE-003"))

	// Retry from the Web UI.
	step(t, ctx, chromedp.Navigate(href.Value), chromedp.WaitVisible(visible("button", "More Actions")))
	require.Empty(t, sendUpdate(t, ctx, lifecycle.ActionRetry, `{"by": "ops@example", "reason": "site added in fixit"}`))

	// Linked: by the link's state, ...
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		st, code := s.linkState("acme-fixit", job.JobRef)
		assert.Equal(c, http.StatusOK, code)
		assert.Equal(c, lifecycle.StateLinked, st.State)
	}, 90*time.Second, 200*time.Millisecond)
	require.Len(t, s.secondaryJobs(job.JobRef), 1)
	// ... and on the workflow's page.
	linked := regexp.MustCompile(`State\s+Linked\b`)
	until(t, ctx, href.Value, "the Linked state in User Metadata", func() bool {
		step(t, ctx, chromedp.WaitVisible(visible("a, button", "User Metadata")), chromedp.Click(visible("a, button", "User Metadata")))
		get(t, ctx, chromedp.Poll[bool](metadataJS+`.includes("State")`))
		return linked.MatchString(get(t, ctx, chromedp.Evaluate[string](metadataJS)))
	})
	screenshot(t, ctx, "linked")
}

// A user raises a job in the primary's console and assigns its activity to
// the subcontractor's team, by clicks; the linked job appears in the
// secondary, and the console links the two and the link's state. An
// appointment booked in the secondary's console reaches the primary job.
func TestBrowserConsoleRaiseAssignLinked(t *testing.T) {
	ctx := browser(t)
	s := newStack(t, "BC")
	ref := "BCAC000001"
	card := "#acme-" + ref

	step(t, ctx,
		chromedp.Navigate(s.simURL+"/"),
		chromedp.SetValue(chromedp.CSS(`#acme-raise select[name="siteRef"]`), "SITE-001"),
		chromedp.SetValue(chromedp.CSS(`#acme-raise select[name="contactRef"]`), "CON-001"),
		chromedp.SetValue(chromedp.CSS(`#acme-raise select[name="priorityId"]`), "1"),
		chromedp.SetValue(chromedp.CSS(`#acme-raise input[name="description"]`), "Dripping tap in kitchen"),
		chromedp.SetValue(chromedp.CSS(`#acme-raise select[name="code"]`), "PLB001"),
		chromedp.Click(visible("#acme-raise button", "Raise")),
	)
	require.Regexp(t, `^acme: Raised job `+ref+` with activity \d+ \(PLB001\)`, flash(t, ctx, "Raised job "+ref))
	require.Contains(t, text(t, ctx, card), "Dripping tap in kitchen")
	screenshot(t, ctx, "raised")

	step(t, ctx,
		chromedp.SetValue(chromedp.CSS(card+` form.assign select[name="teamId"]`), "7"),
		chromedp.Click(visible(card+" form.assign button", "Assign")),
	)
	flash(t, ctx, "of job "+ref+" to Fixit Plumbing (subcontract): ACTIVITY_ASSIGNED")
	require.Contains(t, text(t, ctx, card), "assigned to Fixit Plumbing (subcontract)")

	// The linked job appears in fixit.
	until(t, ctx, s.simURL+"/", "the linked job in fixit", func() bool {
		return text(t, ctx, card+" a.linked") != ""
	})
	require.Equal(t, "BCFX000001 in fixit", text(t, ctx, card+" a.linked"))
	step(t, ctx, chromedp.Click(chromedp.CSS(card+" a.linked")))
	require.Equal(t, s.simURL+"/#fixit-BCFX000001", get(t, ctx, chromedp.Location()))
	fixitCard := text(t, ctx, "#fixit-BCFX000001")
	require.Contains(t, fixitCard, "client ref "+ref)
	require.Contains(t, fixitCard, "P1 Emergency")
	require.Contains(t, fixitCard, "PLB001")
	require.Contains(t, fixitCard, "linked job "+ref+" in acme")
	screenshot(t, ctx, "linked")
	href := get(t, ctx, chromedp.AttributeValue(chromedp.CSS("#fixit-BCFX000001 a.workflow"), "href"))
	require.Equal(t, devServerUI+"/namespaces/default/workflows/"+workflows.WorkflowID("acme-fixit", ref), href.Value)

	// The subcontractor books an appointment in fixit's console; acme's job
	// gets the job event.
	step(t, ctx,
		chromedp.Click(chromedp.CSS("#fixit-BCFX000001 details > summary")),
		chromedp.Click(visible("#fixit-BCFX000001 form.book button", "Book appointment")),
	)
	flash(t, ctx, "on job BCFX000001 for")
	require.Contains(t, text(t, ctx, "#flash"), ": APPOINTMENT_CREATED")
	until(t, ctx, s.simURL+"/", "the appointment's job event in acme", func() bool {
		return strings.Contains(text(t, ctx, card), "event APPT")
	})

	// The link's state, from the console.
	state := s.simURL + "/fixit/console/jobs/BCFX000001/link?link=acme-fixit"
	until(t, ctx, state, "the Linked state", func() bool { return text(t, ctx, "#state") == string(lifecycle.StateLinked) })
	require.Contains(t, text(t, ctx, "body"), "secondary job BCFX000001")
	require.True(t, strings.HasPrefix(get(t, ctx, chromedp.Location()), s.simURL))
}
