package activities

import (
	"fmt"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/lifecycle"
	"github.com/o2o-sync/o2o/oneserve"
)

// supersededJob is CreateLinkedJob's answer for a primary job ref that
// holds a superseded version of a job (variations): the job read lists the
// job's versions, and the current one is under another ref. Such a ref
// never gets a linked job of its own — the job is the current ref's, and so
// is its link — whether or not that link has learned the ref yet (its
// VERSION_CREATED may be late, or lost). The result is a skip naming the
// current ref; SupersededBy tells the would-be link to close.
func supersededJob(l *config.Link, job *oneserve.Job, primaryJobRef string) (lifecycle.Result, bool) {
	if !job.Superseded() {
		return lifecycle.Result{}, false
	}
	cur := job.CurrentRef()
	res := lifecycle.Skipped(fmt.Sprintf("job %s in %s holds version %d of job %s, which has a later version: its assignments are not linked; job %s is linked by its own link (%s %s), so no linked job was created for %s",
		primaryJobRef, l.Primary.System, job.Version, cur, cur, l.Name, cur, primaryJobRef))
	res.SupersededBy = cur
	return res, true
}
