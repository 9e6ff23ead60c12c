package drill

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// The drill notes and logs from several goroutines into the caller's
// writer, which need not be safe for that: run with -race, this fails if
// the writes reach it unserialised (make test's TestDrillSmall once did).
func TestNoteFromManyGoroutines(t *testing.T) {
	var out bytes.Buffer
	d := newDrill(Options{Out: &out})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				d.note("goroutine %d", i)
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(out.String(), "\n"); n != 400 {
		t.Fatalf("%d lines written, want 400", n)
	}
	if len(d.timeline) != 400 {
		t.Fatalf("%d marks on the timeline, want 400", len(d.timeline))
	}
}
