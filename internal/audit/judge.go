package audit

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// JudgePoint is where the audit starts judging bypasses: the changes of a
// commit and after it, or the changes at or after a time.
type JudgePoint struct {
	// Given is the point as written: a commit hash or a date or time.
	Given string `json:"given"`
	// Commit is the full hash when Given names a commit.
	Commit string `json:"commit,omitempty"`
	// Time is the commit's committer time, or the date or time given.
	Time time.Time `json:"time"`
}

// ErrJudgeFrom marks a judging point that is neither a commit of the
// repository nor a date or time: a usage or configuration error.
var ErrJudgeFrom = errors.New("bad judging point")

// judgeHash is an abbreviated or full commit hash.
var judgeHash = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

// resolveJudgePoint reads s as a commit of the repository (a hash or any
// revision git resolves) or, failing that, as a date or RFC 3339 time.
func (r *Repository) resolveJudgePoint(s string) (*JudgePoint, error) {
	if t, _, err := ParseTime(s, false); err == nil {
		return &JudgePoint{Given: s, Time: t}, nil
	}
	if !judgeHash.MatchString(s) {
		return nil, fmt.Errorf("%w: judge from %q: neither a commit hash nor a date (2006-01-02) or RFC 3339 time", ErrJudgeFrom, s)
	}
	full, _, h, err := r.ResolveRef(s)
	if err != nil || full != h.String() {
		return nil, fmt.Errorf("%w: judge from %q: no such commit in the repository", ErrJudgeFrom, s)
	}
	t, err := r.commitTime(h)
	if err != nil {
		return nil, fmt.Errorf("judge from %q: %w", s, err)
	}
	return &JudgePoint{Given: s, Commit: h.String(), Time: t}, nil
}

// judgeFrom marks the records before p as BeforeJudging, clearing their
// bypass. With a commit, the records from its first change on are judged
// when it changed manifests, else those at or after its time; with a time,
// those at or after it.
func judgeFrom(records []Record, p *JudgePoint) {
	if p == nil {
		return
	}
	first := len(records)
	for i := range records {
		if p.Commit != "" && records[i].Commit == p.Commit {
			first = i
			break
		}
	}
	for i := range records {
		r := &records[i]
		before := r.Time.Before(p.Time)
		if first < len(records) {
			before = i < first
		}
		if before {
			r.BeforeJudging, r.Bypass, r.BypassReason = true, false, ""
		}
	}
}
