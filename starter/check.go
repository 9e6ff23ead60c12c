package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/oneserve"
)

// preflightRef is a reference no real site, job or document has: reading it
// must answer 404, which shows the system is reachable, takes the token and
// routes the path, without touching real data.
const preflightRef = "O2O-PREFLIGHT-0"

// checkJobRefs returns the --job refs in canonical form, each once, in the
// order given.
func checkJobRefs(jobs []string) ([]string, error) {
	var refs []string
	for _, j := range jobs {
		ref, err := events.CanonicalJobRef(j)
		if err != nil {
			return nil, usageErrorf("--job %q: %v", j, err)
		}
		if !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
	}
	return refs, nil
}

// checkLinks returns the links named by --link, each once, or every link
// when none is named.
func checkLinks(cfg *config.Config, only []string) ([]*config.Link, error) {
	if len(only) == 0 {
		return cfg.Links, nil
	}
	var links []*config.Link
	for _, name := range only {
		l := cfg.Link(name)
		if l == nil {
			return nil, usageErrorf("unknown link %q (configured: %s)", name, linkNames(cfg))
		}
		if !slices.Contains(links, l) {
			links = append(links, l)
		}
	}
	return links, nil
}

func (a *app) checkCmd() *cobra.Command {
	var jobs, only []string
	cmd := &cobra.Command{
		Use:   "check [--link NAME] [--job PRIMARY_JOB_REF]...",
		Short: "Preflight: check the live Oneserve systems (and real jobs) the way O2O will use them",
		Long: `Check, against the LIVE systems, what O2O needs before going live or after a
change of configuration, tokens or reference data. Only reads are made;
nothing is written to either system, and Temporal is not contacted.

It loads the configuration WITH its secrets (all the variables it names must
be set, as for the worker), then for each system:
  - reachable and token accepted: the documented site lookup for a site that
    does not exist (` + preflightRef + `) must answer 404, not 401/403, 5xx or
    a network error;
  - the assumed endpoints O2O reads (job read, document list, document
    download) answer 404 for a job or document that does not exist, not
    401/403/405. A 404 cannot tell an unknown job from a wrong path, so the
    server's message is shown; --job confirms them with a real job.
For each link and each --job (a primary job ref, checked in every selected
link): the job is read from the primary; its priority must be mapped; its
site must exist in the secondary for the link's secondary client, and its
contact must be one of that site's contacts; its activities assigned to the
link's team are listed with their SOR codes.

SOR codes, document categories, job event codes and the ids of the
secondary's work log type, work type, workflow, service and priorities cannot
be checked through Oneserve's public API: each system checks them when O2O
writes (creates the job, copies a document, adds an event), and a refusal
makes that link NeedsAttention, naming what is missing.

Prints ✓ for each check that passed, ✗ for each that failed (with what is
wrong where), ! for warnings and · for notes. Exit status 1 if any check
failed.`,
		Example: `  starter check
  starter check --job AC000123 --job AC000124
  starter check --link acme-fixit --job AC000123`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("check takes no arguments; give jobs with --job REF (got %q)", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			refs, err := checkJobRefs(jobs)
			if err != nil {
				return err
			}
			// This command needs the tokens: load everything, as the worker does.
			cfg, err := config.LoadFromEnv(config.Options{TokensOnly: true})
			if err != nil {
				return err
			}
			links, err := checkLinks(cfg, only)
			if err != nil {
				return err
			}
			if !runCheck(cmd.Context(), a.stdout, cfg, links, refs) {
				return reported{}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&jobs, "job", nil, "a primary job ref to check in every selected link (repeatable)")
	cmd.Flags().StringArrayVar(&only, "link", nil, "check only this link (repeatable; default: every link)")
	return cmd
}

// checker runs the preflight and writes its report.
type checker struct {
	w        io.Writer
	cfg      *config.Config
	clients  map[string]*oneserve.Client
	broken   map[string]string // system → why it cannot be checked further
	problems []string
	warnings int
}

// runCheck checks the systems the links use, then each link with the jobs,
// and reports whether everything passed.
func runCheck(ctx context.Context, w io.Writer, cfg *config.Config, links []*config.Link, jobs []string) bool {
	c := &checker{w: w, cfg: cfg, clients: map[string]*oneserve.Client{}, broken: map[string]string{}}
	fmt.Fprintf(w, "O2O preflight: %d system(s), %d link(s), %d job(s)\n", len(c.systemsOf(links)), len(links), len(jobs))
	for _, name := range c.systemsOf(links) {
		fmt.Fprintln(w)
		c.system(ctx, name, links)
	}
	for _, l := range links {
		fmt.Fprintln(w)
		c.link(ctx, l, jobs)
	}
	fmt.Fprintln(w)
	switch {
	case len(c.problems) == 0 && c.warnings == 0:
		fmt.Fprintln(w, "All checks passed.")
	case len(c.problems) == 0:
		fmt.Fprintf(w, "All checks passed, with %d warning(s) (!) above.\n", c.warnings)
	default:
		fmt.Fprintf(w, "%d check(s) failed:\n", len(c.problems))
		for _, p := range c.problems {
			fmt.Fprintf(w, "  ✗ %s\n", p)
		}
	}
	return len(c.problems) == 0
}

func (c *checker) line(indent int, mark, msg string) {
	fmt.Fprintf(c.w, "%s%s %s\n", strings.Repeat("  ", indent), mark, msg)
}

func (c *checker) pass(indent int, format string, args ...any) {
	c.line(indent, "✓", fmt.Sprintf(format, args...))
}

func (c *checker) fail(indent int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.problems = append(c.problems, msg)
	c.line(indent, "✗", msg)
}

func (c *checker) warn(indent int, format string, args ...any) {
	c.warnings++
	c.line(indent, "!", fmt.Sprintf(format, args...))
}

func (c *checker) note(indent int, format string, args ...any) {
	c.line(indent, "·", fmt.Sprintf(format, args...))
}

// systemsOf lists the systems the links use, sorted.
func (c *checker) systemsOf(links []*config.Link) []string {
	set := map[string]bool{}
	for _, l := range links {
		set[l.Primary.System], set[l.Secondary.System] = true, true
	}
	return slices.Sorted(maps.Keys(set))
}

// clientFor returns a client id the system knows: the first link's client
// on that side.
func clientFor(system string, links []*config.Link) config.Ref {
	for _, l := range links {
		if l.Primary.System == system {
			return l.Primary.Client
		}
		if l.Secondary.System == system {
			return l.Secondary.Client
		}
	}
	return config.Ref{Name: "none", ID: "0"}
}

// system checks one system: reachable, token accepted, assumed endpoints routed.
func (c *checker) system(ctx context.Context, name string, links []*config.Link) {
	s := c.cfg.Systems[name]
	fmt.Fprintf(c.w, "System %s  %s\n", name, s.BaseURL)
	cl, err := oneserve.New(oneserve.Options{
		BaseURL: s.BaseURL, Token: s.AuthToken, Timeout: s.Timeout.D(), Paths: s.Paths,
		UserAgent: "o2o-starter-check", Limits: s.Limits,
	})
	if err != nil {
		c.broken[name] = err.Error()
		c.fail(1, "%s: %v", name, err)
		return
	}
	c.clients[name] = cl
	c.reachable(ctx, name, cl, links)
	if why, broken := c.broken[name]; broken {
		c.note(1, "the endpoint checks of %s are skipped: %s", name, why)
		return
	}
	c.endpoints(ctx, name, cl)
}

// reachable checks that system name answers, and takes O2O's token, with
// the documented site lookup of a site that does not exist; a failure marks
// the system broken.
func (c *checker) reachable(ctx context.Context, name string, cl *oneserve.Client, links []*config.Link) {
	s := c.cfg.Systems[name]
	client := clientFor(name, links)
	_, err := cl.Site(ctx, client.ID, preflightRef)
	_, err = cl.Site(ctx, client.ID, preflightRef)
	p := classify(err)
	switch {
	case p.ok:
		c.pass(1, "reachable, token (%s) accepted — the site lookup of an unknown site (client %s) answered %s", s.AuthTokenEnv, client.ID, p.answer())
		if p.bareNotFound {
			c.warn(2, "that 404 carried no Oneserve error message: check that baseURL is the tenant's Oneserve URL")
		}
	case p.unauthorized:
		c.broken[name] = "its token was refused"
		c.fail(1, "%s: token refused (%s): check that %s holds the token of O2O's API user in %s, and that the network lets O2O in",
			name, p.answer(), s.AuthTokenEnv, name)
	case p.unreachable:
		c.broken[name] = "it is not reachable"
		c.fail(1, "%s: not reachable at %s: %s", name, s.BaseURL, p.msg)
	default:
		c.broken[name] = "its site lookup failed"
		c.fail(1, "%s: the site lookup (GET /rest/contact/sites/{clientId}/{siteRef}) answered %s; expected 404 for an unknown site", name, p.answer())
	}
}

// endpoints checks that the assumed endpoints O2O reads answer 404 for a job
// or document that does not exist, as a configured path should.
func (c *checker) endpoints(ctx context.Context, name string, cl *oneserve.Client) {
	s := c.cfg.Systems[name]
	endpoints := []struct {
		what, key, path, unknown string
		call                     func() error
	}{
		{"job read", "jobRead", s.Paths.JobRead, "job", func() error { _, err := cl.Job(ctx, preflightRef); return err }},
		{"document list", "documentList", s.Paths.DocumentList, "job", func() error { _, err := cl.Documents(ctx, preflightRef); return err }},
		{"document download", "documentDownload", s.Paths.DocumentDownload, "document", func() error {
			d, err := cl.DownloadDocument(ctx, preflightRef, 0)
			if err == nil {
				d.Body.Close()
			}
			return err
		}},
	}
	for _, e := range endpoints {
		p := classify(e.call())
		switch {
		case p.notFound:
			c.pass(1, "%s (GET %s) — an unknown %s answered %s", e.what, e.path, e.unknown, p.answer())
		case p.ok:
			c.warn(1, "%s: %s (GET %s) answered %s for a %s that should not exist (%s): check systems.%s.paths.%s",
				name, e.what, e.path, p.answer(), e.unknown, preflightRef, name, e.key)
		case p.methodNotAllowed:
			c.fail(1, "%s: %s (GET %s) answered %s: that path does not take GET; check systems.%s.paths.%s",
				name, e.what, e.path, p.answer(), name, e.key)
		case p.unauthorized:
			c.fail(1, "%s: %s (GET %s) refused the token (%s): O2O's API user may lack the permission for it",
				name, e.what, e.path, p.answer())
		default:
			c.fail(1, "%s: %s (GET %s) answered %s; expected 404 for an unknown %s (systems.%s.paths.%s)",
				name, e.what, e.path, p.answer(), e.unknown, name, e.key)
		}
	}
	c.note(1, "a 404 cannot tell an unknown job from a wrong path: the messages above, and a real job (--job, or a job already linked), tell")
}

// probe is what the answer to a read says about a system.
type probe struct {
	ok               bool // 2xx, or 404 for something that does not exist
	notFound         bool
	bareNotFound     bool // a 404 without Oneserve's message
	unauthorized     bool
	unreachable      bool
	methodNotAllowed bool
	status           int
	msg              string
}

// answer is the status and the server's message: `HTTP 404: job "X" not found`.
func (p probe) answer() string {
	if p.status == 0 {
		return p.msg
	}
	if p.msg == "" {
		return fmt.Sprintf("HTTP %d", p.status)
	}
	return fmt.Sprintf("HTTP %d: %s", p.status, p.msg)
}

// classify reads the error of a read of something that does not exist.
func classify(err error) probe {
	if err == nil {
		return probe{ok: true, status: http.StatusOK}
	}
	var e *oneserve.Error
	if !errors.As(err, &e) {
		return probe{msg: err.Error()}
	}
	p := probe{status: e.StatusCode, msg: e.Message}
	switch {
	case e.Kind == oneserve.KindNotFound:
		p.ok, p.notFound = true, true
		p.bareNotFound = e.Message == "" || e.Message == http.StatusText(http.StatusNotFound)
	case e.Kind == oneserve.KindUnauthorized:
		p.unauthorized = true
	case e.StatusCode == 0:
		p.unreachable = true
	case e.StatusCode == http.StatusMethodNotAllowed:
		p.methodNotAllowed = true
	}
	return p
}

// link checks one link and each job in it.
func (c *checker) link(ctx context.Context, l *config.Link, jobs []string) {
	fmt.Fprintf(c.w, "Link %s  %s → %s\n", l.Name, l.Primary.System, l.Secondary.System)
	if len(jobs) == 0 {
		c.note(1, "no --job given: sites, contacts, priorities and activities are checked per job; add --job PRIMARY_JOB_REF to check real jobs")
	}
	for _, ref := range jobs {
		fmt.Fprintf(c.w, "  Job %s\n", ref)
		c.job(ctx, l, ref)
	}
	var cats []string
	for _, m := range l.DocumentCategories {
		cats = append(cats, m.Primary+" → "+m.Secondary)
	}
	c.note(1, "not checkable through Oneserve's public API, so checked by each system when O2O writes (a refusal makes the link NeedsAttention, naming it):")
	c.note(2, "SOR codes, by %s when it creates a linked job", l.Secondary.System)
	c.note(2, "document categories (%s), by the system a document is copied to", orNone(strings.Join(cats, ", ")))
	c.note(2, "job event codes (%s in %s; %s in %s)", orNone(strings.Join(eventCodes(l, true), ", ")), l.Secondary.System,
		orNone(strings.Join(eventCodes(l, false), ", ")), l.Primary.System)
	c.note(2, "the ids of work log type %s, work type %s, workflow %s, service %s and the priorities, by %s when it creates a linked job",
		l.Secondary.WorkLogType, l.Secondary.WorkType, l.Secondary.Workflow, l.Secondary.Service, l.Secondary.System)
}

// eventCodes are the job event codes O2O writes into the secondary (toSecondary) or the primary.
func eventCodes(l *config.Link, toSecondary bool) []string {
	var codes []string
	if toSecondary {
		for _, s := range l.StatusEvents.PrimaryToSecondary {
			codes = append(codes, s.EventCode)
		}
	} else {
		for _, s := range l.StatusEvents.SecondaryToPrimary {
			codes = append(codes, s.EventCode)
		}
		ae := l.AppointmentEvents
		codes = append(codes, ae.Created, ae.Rescheduled, ae.Cancelled, ae.Completed)
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// job checks one primary job against a link: what creating its linked job needs.
func (c *checker) job(ctx context.Context, l *config.Link, ref string) {
	const in = 2
	pSys, sSys := l.Primary.System, l.Secondary.System
	if why, broken := c.broken[pSys]; broken {
		c.note(in, "skipped: %s cannot be read (%s)", pSys, why)
		return
	}
	primary := c.clients[pSys]
	job, err := primary.Job(ctx, ref)
	if err != nil {
		if oneserve.IsNotFound(err) {
			c.fail(in, "%s: job %s does not exist (%s)", pSys, ref, classify(err).answer())
		} else {
			c.fail(in, "%s: reading job %s failed: %v", pSys, ref, err)
		}
		return
	}
	c.pass(in, "%s: job %s read (site %s, contact %s, priority %s, status %s)", pSys, ref,
		dash(job.SiteRef), dash(job.ContactRef), dash(job.Priority), dash(job.Status))
	if docs, err := primary.Documents(ctx, ref); err != nil {
		c.fail(in, "%s: the document list of %s failed: %v (systems.%s.paths.documentList)", pSys, ref, err, pSys)
	} else {
		c.pass(in, "%s: document list of %s answered (%d document(s))", pSys, ref, len(docs))
	}
	if job.ClientID != "" && job.ClientID != l.Primary.Client.ID {
		c.warn(in, "%s: job %s belongs to client %s, not the link's client %s: job events written back name the link's client",
			pSys, ref, job.ClientID, l.Primary.Client)
	}

	// Priority.
	if prio, ok := l.Priority(job.Priority); ok {
		c.pass(in, "priority %s → %s", job.Priority, prio)
	} else {
		c.fail(in, "%s: priority %q of %s has no mapping (add it under the link's priorities)", l.Name, job.Priority, ref)
	}

	// Site and contact in the secondary.
	switch why, broken := c.broken[sSys]; {
	case job.SiteRef == "":
		c.fail(in, "%s: job %s has no site reference — the linked job needs one", pSys, ref)
	case broken:
		c.note(in, "site and contact not checked: %s cannot be read (%s)", sSys, why)
	default:
		c.site(ctx, l, job, ref)
	}

	// Activities assigned to the link's team.
	c.activities(ctx, l, job, ref)
}

// site checks the job's site and contact in the secondary, and looks for a
// linked job O2O already created there.
func (c *checker) site(ctx context.Context, l *config.Link, job *oneserve.Job, ref string) {
	const in = 2
	sSys, client := l.Secondary.System, l.Secondary.Client
	secondary := c.clients[sSys]
	site, err := secondary.Site(ctx, client.ID, job.SiteRef)
	if oneserve.IsNotFound(err) {
		c.fail(in, "%s: site %s (client %s) does not exist — needed by %s", sSys, job.SiteRef, client.ID, ref)
		return
	}
	if err != nil {
		c.fail(in, "%s: looking up site %s (client %s) failed: %v", sSys, job.SiteRef, client.ID, err)
		return
	}
	c.pass(in, "%s: site %s exists for client %s", sSys, job.SiteRef, client)
	switch {
	case job.ContactRef == "":
		c.note(in, "job %s has no contact: the linked job is created without one", ref)
	case slices.ContainsFunc(site.Contacts, func(ct oneserve.SiteContact) bool { return ct.ContactRef == job.ContactRef }):
		c.pass(in, "%s: contact %s is a contact of site %s", sSys, job.ContactRef, job.SiteRef)
	default:
		c.fail(in, "%s: contact %s is not a contact of site %s (client %s) — needed by %s", sSys, job.ContactRef, job.SiteRef, client.ID, ref)
	}
	for _, sj := range site.Jobs {
		if sj.ClientRef != ref {
			continue
		}
		c.note(in, "%s: linked job %s already exists at the site (status %s); O2O finds it rather than creating another", sSys, sj.JobRef, dash(sj.Status))
		// A real job confirms the secondary's assumed read paths.
		if _, err := secondary.Job(ctx, sj.JobRef); err != nil {
			c.fail(in, "%s: reading the linked job %s failed: %v (systems.%s.paths.jobRead)", sSys, sj.JobRef, err, sSys)
		} else if _, err := secondary.Documents(ctx, sj.JobRef); err != nil {
			c.fail(in, "%s: the document list of the linked job %s failed: %v (systems.%s.paths.documentList)", sSys, sj.JobRef, err, sSys)
		} else {
			c.pass(in, "%s: job read and document list confirmed with %s", sSys, sj.JobRef)
		}
		break
	}
}

// activities lists the job's activities assigned to the link's team,
// confirmed through the documented activities read, as O2O does.
func (c *checker) activities(ctx context.Context, l *config.Link, job *oneserve.Job, ref string) {
	const in = 2
	pSys, team := l.Primary.System, l.Primary.Team
	var ids []string
	lines := map[string]oneserve.JobLine{}
	for _, line := range job.Activities {
		if line.SupplierID == team.ID {
			ids = append(ids, line.ID)
			lines[line.ID] = line
		}
	}
	if len(ids) == 0 {
		c.warn(in, "%s: no activity of %s is assigned to team %s yet: nothing is linked until one is", pSys, ref, team)
		return
	}
	acts, err := c.clients[pSys].Activities(ctx, ids)
	if err != nil {
		c.fail(in, "%s: the activities read (GET /rest/activities?ids=...) for %s failed: %v", pSys, ref, err)
		return
	}
	confirmed := map[string]bool{}
	for _, a := range acts {
		if a.SupplierID == team.ID && !a.IsDeleted {
			confirmed[a.ID] = true
		}
	}
	var listed, codes []string
	for _, id := range ids {
		line := lines[id]
		if !confirmed[id] {
			c.warn(in, "%s: activity %s (%s) shows team %s in the job read but not in the activities read: O2O will not link it", pSys, id, line.Code, team.ID)
			continue
		}
		listed = append(listed, fmt.Sprintf("%s %s × %s", id, dash(line.Code), dash(line.Quantity)))
		codes = append(codes, line.Code)
	}
	if len(listed) == 0 {
		return
	}
	c.pass(in, "%s: %d activity(ies) assigned to team %s: %s", pSys, len(listed), team, strings.Join(listed, ", "))
	slices.Sort(codes)
	c.note(in, "SOR code(s) %s: not checkable through Oneserve's public API; %s checks them when it creates the linked job",
		strings.Join(slices.Compact(codes), ", "), l.Secondary.System)
}
