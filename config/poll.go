package config

import (
	"fmt"
	"slices"
	"time"
)

// Polling: how O2O reads a system for changes with jobEventsXML when the
// system is polled (events: poll or both), and how a polled primary's new
// assignments are discovered. docs/configuration.md ("Polling") lists the
// keys; docs/reconciliation.md ("Polling") says what a poll does.

// Poll configures the reading of one polled system
// (systems.<name>.poll). Each job event found names a job; O2O reconciles
// the link(s) of that job, so the facts come from reading the jobs, not
// from the job event.
type Poll struct {
	// Every is how often the system's job events are read (default 1m;
	// 1s to 24h).
	Every Duration `yaml:"every"`
	// EventIDs are the numeric ids (jobEventsXML's eventIdList, not the
	// codes) of the job events the tenant's Oneserve workflow records when
	// something O2O syncs happens on a job: a status change, an
	// appointment booked or moved, a document uploaded. Without any, a
	// poll finds no changes (only a discovery's assignments, when a link
	// whose primary this system is has one); the links' scheduled
	// reconciliation still reads every open link.
	EventIDs []string `yaml:"eventIds"`
	// Overlap is how much of the time already read each poll reads again
	// (default 5m; 1s to 1h), so that an event recorded late, or dated a
	// little before it was written, is still found. Events read twice are
	// recognised and acted on once. At most 1h: the keys of the events
	// within it are carried from one poll to the next.
	Overlap Duration `yaml:"overlap"`
	// Lookback is how far back the very first poll reads, when there is no
	// high-water mark yet (default 1h; at most 720h).
	Lookback Duration `yaml:"lookback"`
}

// Discovery finds a polled primary's new assignments to the link's team
// whose webhook never came (links[].discovery). ASSUMPTION (documented in
// docs/oneserve-api.md): the primary's Oneserve workflow records a job event
// when an activity is assigned to a team; the public API has no search of
// activities by team.
type Discovery struct {
	// AssignmentEventID is the numeric id of that job event. Each one a poll
	// finds on a job with no link makes O2O read the job and start the link
	// for the activities assigned to the link's team.
	AssignmentEventID string `yaml:"assignmentEventId"`
}

// Poll defaults.
const (
	DefaultPollEvery    = time.Minute
	DefaultPollOverlap  = 5 * time.Minute
	DefaultPollLookback = time.Hour
)

// Poll limits: beyond these a value is more likely a typo than a choice.
const (
	minPollEvery    = time.Second
	maxPollEvery    = 24 * time.Hour
	maxPollOverlap  = time.Hour
	maxPollLookback = 30 * 24 * time.Hour
)

func (p Poll) isZero() bool {
	return p.Every == 0 && len(p.EventIDs) == 0 && p.Overlap == 0 && p.Lookback == 0
}

// pollDefaults fills the poll settings of polled systems.
func (c *Config) pollDefaults() {
	for _, s := range c.Systems {
		if s == nil || !s.Polled() {
			continue
		}
		if s.Poll.Every == 0 {
			s.Poll.Every = Duration(DefaultPollEvery)
		}
		if s.Poll.Overlap == 0 {
			s.Poll.Overlap = Duration(DefaultPollOverlap)
		}
		if s.Poll.Lookback == 0 {
			s.Poll.Lookback = Duration(DefaultPollLookback)
		}
	}
}

// validatePoll checks systems.<name>.poll and links[].discovery.
func (c *Config) validatePoll(p *problems) {
	for _, name := range sortedKeys(c.Systems) {
		s := c.Systems[name]
		if s == nil {
			continue
		}
		key := "systems." + name + ".poll"
		if !s.Polled() {
			if !s.Poll.isZero() {
				p.add(key, "is only used with events: poll or both (this system's events is %s)", s.Events)
			}
			continue
		}
		if d := s.Poll.Every.D(); d < minPollEvery || d > maxPollEvery {
			p.add(key+".every", "must be from 1s to 24h (how often the system's job events are read; absent: %s)", DefaultPollEvery)
		}
		if d := s.Poll.Overlap.D(); d < time.Second || d > maxPollOverlap {
			p.add(key+".overlap", "must be from 1s to 1h (how much each poll reads again of what the last one read; absent: %s)", DefaultPollOverlap)
		}
		if s.Poll.Lookback.D() > maxPollLookback {
			p.add(key+".lookback", "must be at most 720h (how far back the first poll reads; absent: %s)", DefaultPollLookback)
		}
		for i, id := range s.Poll.EventIDs {
			k := fmt.Sprintf("%s.eventIds[%d]", key, i)
			switch {
			case !idRE.MatchString(id):
				p.add(k, "%q must be a numeric event id, as jobEventsXML takes them (not an event code)", id)
			case slices.Contains(s.Poll.EventIDs[:i], id):
				p.add(k, "event id %s is listed twice", id)
			}
		}
	}
	for i, l := range c.Links {
		if l == nil || l.Discovery.AssignmentEventID == "" {
			continue
		}
		key := fmt.Sprintf("links[%d]", i)
		if l.Name != "" {
			key = fmt.Sprintf("links[%d] (%s)", i, l.Name)
		}
		key += ".discovery.assignmentEventId"
		if !idRE.MatchString(l.Discovery.AssignmentEventID) {
			p.add(key, "%q must be a numeric event id, as jobEventsXML takes them (not an event code)", l.Discovery.AssignmentEventID)
		}
		if s := c.Systems[l.Primary.System]; s != nil && !s.Polled() {
			p.add(key, "discovery reads the primary's job events, but %s is not polled: set systems.%s.events to poll or both", l.Primary.System, l.Primary.System)
		}
	}
}

// PollEventIDs returns the job event ids a poll of the system reads:
// changes, its poll.eventIds, and assignments, the discovery
// assignmentEventId of each link whose primary it is (each id once). Both
// are empty for a system that is not polled.
func (c *Config) PollEventIDs(system string) (changes, assignments []string) {
	s := c.Systems[system]
	if s == nil || !s.Polled() {
		return nil, nil
	}
	for _, l := range c.Links {
		if id := l.Discovery.AssignmentEventID; l.Primary.System == system && id != "" && !slices.Contains(assignments, id) {
			assignments = append(assignments, id)
		}
	}
	return slices.Clone(s.Poll.EventIDs), assignments
}
