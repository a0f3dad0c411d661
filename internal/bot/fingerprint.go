package bot

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/githubapi"
)

// fingerprintVersion starts every fingerprint; a fingerprint of another
// version (or none) means the check run must be evaluated again.
const fingerprintVersion = "promobot/1"

// prState is what an evaluation of a pull request read that can change
// without a push to it: its base branch and that branch's tip, its labels
// and its reviews. The resynchronization reads the same from the API and
// compares fingerprints, so that an event lost on the way (a review, a
// label, a base change, a push to the base branch) is caught.
type prState struct {
	number  int
	baseRef string
	// baseSHA is the base branch's tip the evaluation read.
	baseSHA string
	labels  []string
	reviews []githubapi.Review
}

// fingerprint summarizes the states of the pull requests sharing a head
// as "promobot/1:<meta>:<reviews>", where meta covers the pull requests,
// their bases and labels, and reviews their reviews. It fits a check run's
// external id.
func fingerprint(states []prState) string {
	return fingerprintVersion + ":" + metaHash(states) + ":" + reviewsHash(states)
}

// parseFingerprint splits a fingerprint; ok is false for anything else.
func parseFingerprint(s string) (meta, reviews string, ok bool) {
	rest, ok := strings.CutPrefix(s, fingerprintVersion+":")
	if !ok {
		return "", "", false
	}
	meta, reviews, ok = strings.Cut(rest, ":")
	return meta, reviews, ok && meta != "" && reviews != ""
}

// metaHash hashes the numbers, base branches and tips, and labels.
func metaHash(states []prState) string {
	h := sha256.New()
	for _, s := range sorted(states) {
		labels := slices.Clone(s.labels)
		slices.Sort(labels)
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\n", s.number, s.baseRef, s.baseSHA, strings.Join(labels, "\x01"))
	}
	return short(h)
}

// reviewsHash hashes the submitted reviews: their ids, states and commits.
func reviewsHash(states []prState) string {
	h := sha256.New()
	for _, s := range sorted(states) {
		reviews := slices.Clone(s.reviews)
		slices.SortFunc(reviews, func(a, b githubapi.Review) int { return cmp.Compare(a.ID, b.ID) })
		fmt.Fprintf(h, "#%d\n", s.number)
		for _, r := range reviews {
			if r.State == "PENDING" {
				continue
			}
			fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\n", r.ID, strings.ToLower(r.User), r.State, r.CommitID)
		}
	}
	return short(h)
}

func sorted(states []prState) []prState {
	out := slices.Clone(states)
	slices.SortFunc(out, func(a, b prState) int { return cmp.Compare(a.number, b.number) })
	return out
}

// short returns the first 16 bytes of a hash in hex: collisions would need
// to be crafted against SHA-256, and the worst one causes a missed
// resynchronization, not a wrong verdict.
func short(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)[:16]) }
