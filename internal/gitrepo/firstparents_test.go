package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// fakeCommit is a commit of a synthetic history: its hash and first parent.
type fakeCommit struct{ hash, parent plumbing.Hash }

func fakeHash(i int) plumbing.Hash { return plumbing.NewHash(fmt.Sprintf("%040x", i)) }

func TestFirstParents(t *testing.T) {
	// A chain 5 -> 4 -> 3 -> 2 -> 1 (root).
	commits := map[plumbing.Hash]fakeCommit{}
	for i := 1; i <= 5; i++ {
		c := fakeCommit{hash: fakeHash(i)}
		if i > 1 {
			c.parent = fakeHash(i - 1)
		}
		commits[c.hash] = c
	}
	errRead := errors.New("read failed")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name        string
		ctx         context.Context
		stopAt      int // 0: never
		failAt      int // 0: never
		wantVisits  []int
		wantParents []bool
		wantStopped int // 0: zero hash
		wantReads   int
		wantErr     error
	}{
		{name: "to the root", wantVisits: []int{5, 4, 3, 2, 1}, wantParents: []bool{true, true, true, true, false}, wantReads: 5},
		{name: "stop at the tip reads nothing", stopAt: 5, wantStopped: 5},
		{name: "stop in the middle reads the stop commit once", stopAt: 3, wantVisits: []int{5, 4}, wantParents: []bool{true, true}, wantStopped: 3, wantReads: 3},
		{name: "read error", failAt: 3, wantVisits: []int{5}, wantParents: []bool{true}, wantReads: 3, wantErr: errRead},
		{name: "canceled", ctx: canceled, wantReads: 1, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			var visits []int
			var parents []bool
			reads := 0
			stopped, err := FirstParents(ctx, fakeHash(5), FirstParentWalk[fakeCommit]{
				Read: func(h plumbing.Hash) (fakeCommit, error) {
					reads++
					if tt.failAt != 0 && h == fakeHash(tt.failAt) {
						return fakeCommit{}, errRead
					}
					return commits[h], nil
				},
				Parent: func(c fakeCommit) plumbing.Hash { return c.parent },
				Stop:   func(h plumbing.Hash) bool { return tt.stopAt != 0 && h == fakeHash(tt.stopAt) },
				Visit: func(cur, parent fakeCommit, hasParent bool) error {
					if hasParent == cur.parent.IsZero() || (hasParent && parent.hash != cur.parent) {
						t.Errorf("visit %s: parent %s, hasParent %v", cur.hash, parent.hash, hasParent)
					}
					for i := 1; i <= 5; i++ {
						if cur.hash == fakeHash(i) {
							visits = append(visits, i)
						}
					}
					parents = append(parents, hasParent)
					return nil
				},
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			want := plumbing.ZeroHash
			if tt.wantStopped != 0 {
				want = fakeHash(tt.wantStopped)
			}
			if stopped != want {
				t.Errorf("stoppedAt = %s, want %s", stopped, want)
			}
			if !slices.Equal(visits, tt.wantVisits) || !slices.Equal(parents, tt.wantParents) {
				t.Errorf("visited %v (parents %v), want %v (%v)", visits, parents, tt.wantVisits, tt.wantParents)
			}
			if reads != tt.wantReads {
				t.Errorf("%d reads, want %d", reads, tt.wantReads)
			}
		})
	}
}
