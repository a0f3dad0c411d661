package promote

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The name patterns of the manifest schema. They are checked before a name
// is used to build a repository path or a branch name, so that a model
// called "../x" can never reach outside environments/.
var (
	namePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

func checkName(what, name string) error {
	if !namePattern.MatchString(name) {
		return usagef("%s %q is not a valid name: use lower-case letters, digits and dashes (at most 63)", what, name)
	}
	return nil
}

func checkVersion(version string) error {
	if !versionPattern.MatchString(version) {
		return usagef("version %q is not valid: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit", version)
	}
	return nil
}

// BranchPrefix starts every branch promobot creates.
const BranchPrefix = "promobot/"

// maxBranchLength caps branch names well below the limits of git hosts and
// file systems (a ref is also a file path under .git/refs).
const maxBranchLength = 100

// BranchName returns the deterministic branch of a change that pins the
// given model versions in env: promobot/<env>/<model>-<version> for one
// model, with a short hash of every model and version appended when several
// models move together, and rollback- before the model for rollbacks. Names
// are reduced to safe characters and capped in length; whenever a name had
// to be changed, the hash suffix keeps distinct changes apart.
func BranchName(kind Kind, env string, moves map[string]string) string {
	models := make([]string, 0, len(moves))
	for m := range moves {
		models = append(models, m)
	}
	sort.Strings(models)
	var leaf string
	if len(models) > 0 {
		leaf = models[0] + "-" + moves[models[0]]
	}
	if kind == Rollback {
		leaf = "rollback-" + leaf
	}
	raw := BranchPrefix + env + "/" + leaf
	safeEnv, safeLeaf := safeRefComponent(env), safeRefComponent(leaf)
	name := BranchPrefix + safeEnv + "/" + safeLeaf
	needHash := len(models) > 1 || name != raw
	if needHash || len(name) > maxBranchLength {
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s", kind, env)
		for _, m := range models {
			fmt.Fprintf(h, "\x00%s\x00%s", m, moves[m])
		}
		suffix := "-" + hex.EncodeToString(h.Sum(nil))[:8]
		room := maxBranchLength - len(BranchPrefix) - len(safeEnv) - 1 - len(suffix)
		if len(safeLeaf) > room {
			safeLeaf = strings.TrimRight(safeLeaf[:max(room, 1)], ".-")
		}
		name = BranchPrefix + safeEnv + "/" + safeLeaf + suffix
	}
	return name
}

// safeRefComponent keeps letters, digits, '.', '_' and '-', replaces
// anything else with '-', and removes what git forbids in a ref component:
// "..", a leading '.', a trailing '.' and a trailing ".lock".
func safeRefComponent(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := b.String()
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
	}
	out = strings.TrimLeft(out, ".")
	for strings.HasSuffix(out, ".lock") || strings.HasSuffix(out, ".") {
		out = strings.TrimSuffix(strings.TrimSuffix(out, ".lock"), ".")
	}
	if out == "" {
		out = "change"
	}
	return out
}
