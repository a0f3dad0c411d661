package audit

import (
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/gitrepo/objectstore"
	"github.com/example-org/promobot/internal/yamldoc"
)

// explain sets the Ticket and Rationale of each record from the manifest
// its commit left (for a decommission, the one its parent had). A manifest
// that cannot be read leaves both empty: the record's Problem already says
// why.
func (r *Repository) explain(records []Record) {
	type key struct{ commit, path string }
	type why struct{ ticket, rationale string }
	seen := map[key]why{}
	for i := range records {
		rec := &records[i]
		commit := plumbing.NewHash(rec.Commit)
		if rec.Kind == KindDecommission {
			parent, ok := r.firstParent(commit)
			if !ok {
				continue
			}
			commit = parent
		}
		k := key{commit.String(), rec.Path}
		w, ok := seen[k]
		if !ok {
			w.ticket, w.rationale = r.approvalAt(commit, rec.Path)
			seen[k] = w
		}
		rec.Ticket, rec.Rationale = w.ticket, w.rationale
	}
}

// approvalAt reads approval.ticket and approval.rationale of the manifest
// at path in commit; absent fields are empty.
func (r *Repository) approvalAt(commit plumbing.Hash, path string) (ticket, rationale string) {
	data, err := r.fileAt(commit, path)
	if err != nil {
		return "", ""
	}
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		return "", ""
	}
	root, _ := doc.Value.(map[string]any)
	approval, _ := root["approval"].(map[string]any)
	ticket, _ = approval["ticket"].(string)
	rationale, _ = approval["rationale"].(string)
	return ticket, rationale
}

// firstParent returns a commit's first parent.
func (r *Repository) firstParent(commit plumbing.Hash) (plumbing.Hash, bool) {
	data, err := r.store.ReadType(commit, objectstore.Commit)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	c, err := objectstore.ParseCommit(data)
	if err != nil || len(c.Parents) == 0 {
		return plumbing.ZeroHash, false
	}
	return c.Parents[0], true
}
