package model

import (
	"reflect"
	"testing"
)

func TestCompare(t *testing.T) {
	tg := Target{"acme-fixit", "J", Secondary}
	job := Write{Kind: CreateJob}
	la := Write{Kind: AddLine, Activity: "a", LineCode: "PLB001", Unordered: true}
	lb := Write{Kind: AddLine, Activity: "b", LineCode: "PLB002", Unordered: true}
	hold := Write{Kind: JobEvent, Status: "On Hold", Code: "PHOLD"}
	holdOpt := hold
	holdOpt.Optional = true
	cancel := Write{Kind: JobEvent, Status: "Cancelled", Code: "PCAN"}
	d1 := Write{Kind: CopyDocument, Document: "D1", Category: "Site Photos"}
	d1wrongCat := d1
	d1wrongCat.Category = "Certificates"

	for _, tc := range []struct {
		name          string
		expected, obs []Write
		want          []DivergenceKind
	}{
		{"exactly as expected", []Write{job, la, hold, d1}, []Write{job, la, hold, d1}, nil},
		{"lines in any place (joined to a job being created)", []Write{job, la, hold, lb}, []Write{job, lb, la, hold}, nil},
		{"missing", []Write{job, la, hold}, []Write{job, la}, []DivergenceKind{Missing}},
		{"duplicated", []Write{job, la, hold}, []Write{job, la, hold, hold}, []DivergenceKind{Duplicated}},
		{"unexpected (an echo written back)", []Write{job, la}, []Write{job, la, d1}, []DivergenceKind{Unexpected}},
		{"out of order", []Write{job, hold, d1}, []Write{job, d1, hold}, []DivergenceKind{OutOfOrder}},
		{"differs", []Write{job, d1}, []Write{job, d1wrongCat}, []DivergenceKind{Differs}},
		{"the same status twice, in order", []Write{job, hold, cancel, hold}, []Write{job, hold, cancel, hold}, nil},
		{"an optional write may be absent", []Write{job, holdOpt, cancel, hold}, []Write{job, cancel, hold}, nil},
		{"an optional write present keeps its place", []Write{job, holdOpt, cancel, hold}, []Write{job, hold, cancel, hold}, nil},
		{"an optional write is still once", []Write{job, holdOpt, cancel}, []Write{job, hold, hold, cancel}, []DivergenceKind{Duplicated}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []DivergenceKind
			for _, d := range Compare(map[Target][]Write{tg: tc.expected}, map[Target][]Write{tg: tc.obs}) {
				got = append(got, d.Kind)
				t.Log(d)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("divergences %v, want %v", got, tc.want)
			}
		})
	}

	// A target the model does not know must have no writes.
	other := Target{"acme-fixit", "K", Secondary}
	ds := Compare(nil, map[Target][]Write{other: {job}})
	if len(ds) != 1 || ds[0].Kind != Unexpected || ds[0].Target != other {
		t.Errorf("a job O2O must not have written to: %v", ds)
	}
}

func TestJobEventFromCode(t *testing.T) {
	l := acmeFixit()
	for _, tc := range []struct {
		target Side
		code   string
		want   Write
	}{
		{Primary, "SACC", Write{Kind: JobEvent, Code: "SACC", Status: "Accepted"}},
		{Secondary, "PHOLD", Write{Kind: JobEvent, Code: "PHOLD", Status: "On Hold"}},
		{Primary, "RESCH", Write{Kind: JobEvent, Code: "RESCH", AppointmentKind: Rescheduled}},
		{Primary, "SVREJ", Write{Kind: JobEvent, Code: "SVREJ", Decision: Rejected}},
		{Primary, "SDOCWD", Write{Kind: JobEvent, Code: "SDOCWD"}},
	} {
		if got := l.JobEvent(tc.target, tc.code); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s: %+v, want %+v", tc.target, tc.code, got, tc.want)
		}
	}
}
