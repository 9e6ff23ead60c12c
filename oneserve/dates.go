package oneserve

import (
	"fmt"
	"strings"
	"time"

	// The zone database is embedded so that Europe/London loads on minimal
	// container images without /usr/share/zoneinfo; every Oneserve date is UK
	// local time and a silent fallback to UTC would shift them by an hour in
	// summer.
	_ "time/tzdata"
)

// Oneserve writes and reads dates as UK local text without a zone, in a
// different layout per endpoint (docs/oneserve-api.md, "Dates").
const (
	// CreateJobDateLayout is createJob's reportedDate: dd/mm/yyyy hh:mm.
	CreateJobDateLayout = "02/01/2006 15:04"
	// EventDateLayout is addEventByClientRef's date: dd-mm-yyyy HH:mm:ss.
	EventDateLayout = "02-01-2006 15:04:05"
	// JobReadDateLayout is the assumed job read's reportedDate: dd/mm/yyyy hh:mm.
	JobReadDateLayout = "02/01/2006 15:04"
	// JobReadEventDateLayout is the assumed job read's events[].date, the
	// layout addEventByClientRef writes: dd-mm-yyyy HH:mm:ss.
	JobReadEventDateLayout = EventDateLayout
)

// defaultZone is where every Oneserve system we know of keeps its clock.
const defaultZone = "Europe/London"

// loadLondon returns Europe/London from the embedded zone database.
func loadLondon() (*time.Location, error) {
	loc, err := time.LoadLocation(defaultZone)
	if err != nil {
		return nil, fmt.Errorf("oneserve: load time zone %s: %w", defaultZone, err)
	}
	return loc, nil
}

// formatDate writes t as local time in loc, whatever zone t carries, so that
// an instant recorded in UTC is sent as the wall-clock time Oneserve expects.
func formatDate(t time.Time, loc *time.Location, layout string) string {
	return t.In(loc).Format(layout)
}

// jobReadDateLayouts are tried in order when reading a job's reportedDate.
// The first is the assumed layout; the others accept the same date with
// seconds or without a time, so that a small difference in the real endpoint
// does not make every job unreadable.
var jobReadDateLayouts = []string{JobReadDateLayout, "02/01/2006 15:04:05", "02/01/2006"}

// eventReadDateLayouts are tried in order when reading a history event's
// date: the assumed layout, then the same without seconds, then the
// slash-separated forms the job read uses for reportedDate.
var eventReadDateLayouts = []string{JobReadEventDateLayout, "02-01-2006 15:04", "02/01/2006 15:04:05", JobReadDateLayout}

// layoutText writes a Go date layout the way Oneserve's documentation
// does, for error messages: "02-01-2006 15:04:05" is "dd-mm-yyyy hh:mm:ss".
var layoutText = strings.NewReplacer("2006", "yyyy", "02", "dd", "01", "mm", "15", "hh", "04", "mm", "05", "ss")

// parseDate reads a local date in loc. Empty text is the zero time: the
// field is absent, which is not an error.
func parseDate(s string, loc *time.Location, layouts ...string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	want := "(none)"
	if len(layouts) > 0 {
		want = layoutText.Replace(layouts[0])
	}
	return time.Time{}, fmt.Errorf("date %q is not in the layout %s", s, want)
}
