package plural

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 activities"}, {1, "1 activity"}, {2, "2 activities"}, {11, "11 activities"}} {
		if got := Count(c.n, "activity", "activities"); got != c.want {
			t.Errorf("Count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := Count(int64(1), "byte", "bytes"); got != "1 byte" {
		t.Errorf("Count(int64(1)) = %q", got)
	}
	if got := Word(2, "activity", "activities"); got != "activities" {
		t.Errorf("Word(2) = %q", got)
	}
}
