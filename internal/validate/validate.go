// Package validate checks the manifests and the policy of a GitOps
// repository: YAML safety, schemas, path consistency, declared environments,
// allowed artifact locations, and that a version of a model is the same
// wherever it is pinned.
package validate

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/schema"
	"github.com/example-org/promobot/internal/yamldoc"
	"github.com/example-org/promobot/schemas"
)

// Options say what to validate.
type Options struct {
	// Paths are slash-separated paths relative to the repository root, of
	// files or folders. Empty means the environments folder.
	Paths []string
	// Workers bounds parallel decoding; zero means GOMAXPROCS.
	Workers int
	// Verify, when set, is called for every manifest that passed the other
	// checks (for example to verify its artifact against storage) and its
	// problems are added to the report.
	Verify func(ctx context.Context, doc *manifest.Document, pol *policy.Policy) []diag.Problem
}

// Result is the outcome of a validation run.
type Result struct {
	Report diag.Report
	// Policy is the loaded policy, nil when it has problems.
	Policy *policy.Policy
	// Manifests is the number of manifest files that decoded to a mapping,
	// valid or not. Run keeps no document past its checks: a repository of
	// fifty thousand manifests must validate in bounded memory.
	Manifests int
}

// Run validates the repository whose root is fsys. Problems are data; the
// error is reserved for failures to read the repository at all.
func Run(ctx context.Context, fsys fs.FS, opts Options) (*Result, error) {
	res := &Result{}
	var problems []diag.Problem
	manifestSchema, policySchema, ps := repoconfig.Schemas(fsys)
	problems = append(problems, ps...)

	pol, ps, err := repoconfig.ReadPolicy(fsys, policySchema)
	if err != nil {
		return nil, err
	}
	problems = append(problems, ps...)
	res.Policy = pol

	files, ps, err := collect(fsys, opts.Paths)
	if err != nil {
		return nil, err
	}
	problems = append(problems, ps...)

	pins, ps, err := loadAll(ctx, fsys, files, manifestSchema, pol, opts.Workers)
	if err != nil {
		return nil, err
	}
	problems = append(problems, ps...)
	res.Manifests = len(pins)

	problems = append(problems, checkVersions(pins, func(p pin, message string, field string) diag.Problem {
		return problemAt(fsys, p.path, message, field)
	})...)
	if opts.Verify != nil && pol != nil {
		ps, err := verifyAll(ctx, fsys, pins, manifestSchema, pol, opts.Verify)
		if err != nil {
			return nil, err
		}
		problems = append(problems, ps...)
	}
	diag.Sort(problems)
	res.Report = diag.Report{Files: len(files) + 1, Valid: !diag.HasErrors(problems), Problems: problems}
	return res, nil
}

// collect expands the requested paths into manifest files.
func collect(fsys fs.FS, paths []string) ([]string, []diag.Problem, error) {
	if len(paths) == 0 {
		paths = []string{manifest.Root}
	}
	var files []string
	var problems []diag.Problem
	seen := map[string]bool{}
	problems = append(problems, layoutProblems(fsys, paths)...)
	for _, p := range paths {
		p = path.Clean(p)
		if irregularOnTheWay(fsys, p) {
			continue // reported by layoutProblems; never followed
		}
		info, err := fs.Stat(fsys, p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				problems = append(problems, diag.Problem{File: p, Message: "no such file or folder"})
				continue
			}
			return nil, nil, err
		}
		if !info.IsDir() {
			if p != policy.Path && !seen[p] {
				seen[p] = true
				files = append(files, p)
			}
			continue
		}
		err = fs.WalkDir(fsys, p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if problem, ok := irregularEntry(fsys, q, d); ok {
				problems = append(problems, problem)
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() || seen[q] {
				return nil
			}
			switch {
			case strings.HasSuffix(q, ".yaml"):
				seen[q] = true
				files = append(files, q)
			case strings.HasSuffix(q, ".yml"):
				problems = append(problems, diag.Problem{File: q, Message: "manifest files must end in .yaml, not .yml"})
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	sort.Strings(files)
	return files, problems, nil
}

// loadAll decodes the files in parallel, each read and decoded once, and
// runs the checks that need one document and the policy (nil when it has
// problems). It returns, in path order, what the cross-file checks need of
// each manifest that decoded to a mapping; the documents themselves are
// dropped as soon as they are checked.
func loadAll(ctx context.Context, fsys fs.FS, files []string, sch *schema.Schema, pol *policy.Policy, workers int) ([]pin, []diag.Problem, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type out struct {
		pin      pin
		ok       bool // pin holds a manifest
		problems []diag.Problem
		err      error
	}
	results := make([]out, len(files))
	var allowed location.Allowlist
	if pol != nil {
		allowed = location.NewAllowlist(pol.Artifacts.AllowedLocations, pol.Artifacts.AllowLocal)
	}
	var wg sync.WaitGroup
	var next atomic.Int64 // the index of the next file to take
	for range min(workers, max(len(files), 1)) {
		wg.Go(func() {
			// The file's bytes live until the next file: nothing of the
			// document outlives its checks (pin copies what it keeps).
			var buf yamldoc.Buffer
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				doc, ps, err := loadFile(fsys, files[i], sch, &buf)
				if err != nil {
					results[i] = out{err: err}
					continue
				}
				r := out{problems: ps}
				if doc != nil && doc.Manifest != nil {
					if pol != nil {
						r.problems = append(r.problems, checkEnvironment(doc, pol)...)
						r.problems = append(r.problems, checkLocation(doc, pol, allowed)...)
					}
					r.pin, r.ok = pinOf(doc), true
				}
				results[i] = r
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var pins []pin
	var problems []diag.Problem
	for _, r := range results {
		if r.err != nil {
			return nil, nil, r.err
		}
		if r.ok {
			pins = append(pins, r.pin)
		}
		problems = append(problems, r.problems...)
	}
	return pins, problems, nil
}

// loadFile reads and decodes one manifest. A file over the size limit is a
// problem, not an error, and yields no document. With buf, the file is read
// into it and the document must not be kept past buf's next use.
func loadFile(fsys fs.FS, p string, sch *schema.Schema, buf *yamldoc.Buffer) (*manifest.Document, []diag.Problem, error) {
	var data []byte
	var err error
	if buf != nil {
		data, err = buf.ReadFile(fsys, p, yamldoc.DefaultLimits)
	} else {
		data, err = yamldoc.ReadFile(fsys, p, yamldoc.DefaultLimits)
	}
	if err != nil {
		var tooBig *yamldoc.Error
		if errors.As(err, &tooBig) {
			return nil, []diag.Problem{tooBig.Problem(p)}, nil
		}
		return nil, nil, err
	}
	doc, ps := repoconfig.LoadManifest(p, data, sch)
	return doc, ps, nil
}

// verifyAll calls verify for every valid manifest, loading each again so
// that no more than one document is held at a time.
func verifyAll(ctx context.Context, fsys fs.FS, pins []pin, sch *schema.Schema, pol *policy.Policy, verify func(context.Context, *manifest.Document, *policy.Policy) []diag.Problem) ([]diag.Problem, error) {
	var problems []diag.Problem
	for _, p := range pins {
		if !p.valid {
			continue
		}
		doc, _, err := loadFile(fsys, p.path, sch, nil)
		if err != nil {
			return nil, err
		}
		if doc != nil && doc.Valid {
			problems = append(problems, verify(ctx, doc, pol)...)
		}
	}
	return problems, nil
}

// The layout of the gated paths: the engine gates a symbolic link or a
// submodule at or under environments/, schemas/, the policy or CODEOWNERS,
// and never follows one, so validate reports one on disk rather than
// checking what it points to.

// gatedPaths are the paths whose entries must be regular files in folders.
var gatedPaths = []string{manifest.Root, ".github", policy.Path, "schemas", schemas.ModelDeploymentPath, schemas.PolicyPath, "CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"}

// layoutProblems reports the gated paths, and the folders on the way to
// the requested paths, that are symbolic links.
func layoutProblems(fsys fs.FS, paths []string) []diag.Problem {
	var out []diag.Problem
	seen := map[string]bool{}
	check := func(p string) {
		if seen[p] {
			return
		}
		seen[p] = true
		if info, err := fs.Lstat(fsys, p); err == nil {
			if problem, ok := irregularEntry(fsys, p, fs.FileInfoToDirEntry(info)); ok {
				out = append(out, problem)
			}
		}
	}
	for _, p := range gatedPaths {
		check(p)
	}
	for _, p := range paths {
		parts := strings.Split(path.Clean(p), "/")
		for i := range parts {
			check(strings.Join(parts[:i+1], "/"))
		}
	}
	return out
}

// irregularOnTheWay reports whether p or a folder on the way to it is a
// symbolic link.
func irregularOnTheWay(fsys fs.FS, p string) bool {
	parts := strings.Split(p, "/")
	for i := range parts {
		if info, err := fs.Lstat(fsys, strings.Join(parts[:i+1], "/")); err == nil && info.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
			return true
		}
	}
	return false
}

// irregularEntry returns the problem of an entry that is not a regular
// file or a folder: a symbolic link, a submodule (a folder holding .git),
// or anything else.
func irregularEntry(fsys fs.FS, p string, d fs.DirEntry) (diag.Problem, bool) {
	t := d.Type()
	switch {
	case t&fs.ModeSymlink != 0:
		return diag.Problem{File: p, Message: p + " is a symbolic link; promobot never follows one under a gated path (the bot gates it as a layout change): make it a regular file or folder"}, true
	case t.IsDir():
		if _, err := fs.Lstat(fsys, path.Join(p, ".git")); err == nil {
			return diag.Problem{File: p, Message: p + " is a submodule or a nested repository; promobot reads only regular files in folders under a gated path"}, true
		}
	case !t.IsRegular():
		return diag.Problem{File: p, Message: p + " is not a regular file; promobot reads only regular files in folders under a gated path"}, true
	}
	return diag.Problem{}, false
}
