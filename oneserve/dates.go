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
	return time.Time{}, fmt.Errorf("date %q is not in the layout dd/mm/yyyy hh:mm", s)
}
