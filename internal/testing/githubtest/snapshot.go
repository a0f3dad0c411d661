package githubtest

import "fmt"

// LastID returns the newest id the emulator has given out (to a review, a
// check run, an issue, ...). Ids only grow, so a check run whose id is
// greater than LastID at some moment was created after that moment: a
// load generator uses it to tell evaluations started after a change from
// those started before it.
func (e *Emulator) LastID() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nextID
}

// AllCheckRuns returns every check run of owner/name, oldest first: the
// emulator's record of check-run writes, to count evaluations across
// replicas of the bot.
func (e *Emulator) AllCheckRuns(owner, name string) []CheckRun {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []CheckRun
	for _, cr := range e.sortedCheckRuns() {
		if cr.repo == owner+"/"+name {
			snap := cr.CheckRun
			snap.Annotations = nil
			out = append(out, snap)
		}
	}
	return out
}

// SetLabels replaces the labels of issue or pull request number, as a
// user editing them on GitHub would, and returns the id it gave the
// change (see LastID).
func (e *Emulator) SetLabels(owner, name string, number int, labels []string) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.repoLocked(owner, name)
	if err != nil {
		return 0, err
	}
	is := r.issues[number]
	if is == nil {
		return 0, fmt.Errorf("githubtest: no issue %s#%d", r.fullName(), number)
	}
	is.labels = dedupeLabels(nil, labels)
	is.updatedAt = e.now()
	return e.newID(), nil
}
