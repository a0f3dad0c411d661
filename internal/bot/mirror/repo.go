package mirror

import "github.com/example-org/promobot/internal/gitrepo"

// Repo returns the reader of the mirror holding the commits, for callers
// that walk its history (issuing attestations walks the default branch's
// first-parent history).
func (c *Commits) Repo() *gitrepo.Repo { return c.reader }
