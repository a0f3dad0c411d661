package accessreview

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/repoconfig"
)

// Tree is what a review reads from a commit of the default branch: the
// policy, the files and the CODEOWNERS file GitHub uses.
type Tree struct {
	Repository
	// CODEOWNERS is the content of CODEOWNERSPath; nil if none.
	CODEOWNERS []byte
}

// ReadTree reads the policy, every file's path and CODEOWNERS from fsys. A
// missing or invalid policy is an error: there is nothing to review
// against.
func ReadTree(fsys fs.FS) (Tree, error) {
	_, policySchema, _ := repoconfig.Schemas(fsys)
	pol, problems, err := repoconfig.ReadPolicy(fsys, policySchema)
	if err != nil {
		return Tree{}, err
	}
	if pol == nil || len(problems) > 0 {
		msgs := make([]string, 0, len(problems))
		for _, p := range problems {
			msgs = append(msgs, p.String())
		}
		return Tree{}, fmt.Errorf("the policy is missing or invalid: %s", strings.Join(msgs, "; "))
	}
	ownersPath, ownersData, err := codeowners.Find(func(p string) ([]byte, bool, error) {
		data, err := fs.ReadFile(fsys, p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return data, err == nil, err
	})
	if err != nil && !errors.Is(err, codeowners.ErrNotFound) {
		return Tree{}, err
	}
	var files []string
	if err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	}); err != nil {
		return Tree{}, err
	}
	return Tree{Repository: Repository{Policy: pol, Files: files, CODEOWNERSPath: ownersPath}, CODEOWNERS: ownersData}, nil
}

// Input returns the Gather input for owner/repo reviewed at now, with the
// requirements of the tree's default sources.
func (t Tree) Input(owner, repo string, promotions []Promotion, now time.Time) Input {
	return Input{
		Owner: owner, Repo: repo, CODEOWNERSPath: t.CODEOWNERSPath, CODEOWNERS: t.CODEOWNERS,
		Requirements: Requirements(t.Repository, DefaultSources), Promotions: promotions, Now: now,
	}
}

// PromotionsOf returns the promotions, registrations and rollbacks among
// records, with their authors, for the maker-checker review.
func PromotionsOf(records []audit.Record) []Promotion {
	var out []Promotion
	for _, rec := range records {
		if rec.Kind != audit.KindPromote && rec.Kind != audit.KindRegister && rec.Kind != audit.KindRollback {
			continue
		}
		p := Promotion{Environment: rec.Environment, Time: rec.Time}
		if rec.PullRequest != nil {
			p.Author = strings.ToLower(rec.PullRequest.Author)
		}
		out = append(out, p)
	}
	return out
}
