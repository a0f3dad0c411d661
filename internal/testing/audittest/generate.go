package audittest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// Large configures a generated history.
type Large struct {
	// Commits is the number of commits on main.
	Commits int
	// Touching is how many of them change a manifest under environments/.
	Touching int
	// Models is the number of models; zero means 20. Ignored with Samples.
	Models int
	// Samples, when set, are the manifests the history pins: one model per
	// sample model name, each path rendered from its own sample with only the
	// version, digest and dates changed. They must cover dev, test and prod
	// for every model. Without Samples, manifests are rendered by Pin.YAML.
	Samples Samples
	// SourceFiles is the number of files outside environments/; zero means 400.
	SourceFiles int
	// Repack runs `git repack -a -d` after the import, as a gc would.
	Repack bool
	// CommitGraph writes .git/objects/info/commit-graph after the import.
	CommitGraph bool
	// Seed makes the history reproducible.
	Seed uint64
}

// GenerationStart is the author time of the first generated commit.
var GenerationStart = time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)

// largeEnvironments are the environments of generated histories, in
// promotion order.
var largeEnvironments = []string{"dev", "test", "prod"}

// GenerateLarge writes a bare repository at dir whose branch main holds
// cfg.Commits linear commits, cfg.Touching of them (the first included)
// changing manifests. It drives `git fast-import`, so twenty thousand
// commits take a few seconds.
func GenerateLarge(dir string, cfg Large) error {
	if cfg.Models == 0 {
		cfg.Models = 20
	}
	var samples map[string]sample
	models := make([]string, 0, cfg.Models)
	if cfg.Samples != nil {
		var err error
		if samples, err = cfg.Samples.prepare(); err != nil {
			return err
		}
		if models, err = sampleModels(samples); err != nil {
			return err
		}
		cfg.Models = len(models)
	} else {
		for m := range cfg.Models {
			models = append(models, modelName(m))
		}
	}
	if cfg.SourceFiles == 0 {
		cfg.SourceFiles = 400
	}
	if cfg.Touching < 1 || cfg.Touching > cfg.Commits {
		return fmt.Errorf("audittest: touching must be in [1, commits], got %d of %d", cfg.Touching, cfg.Commits)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := gitRun(dir, nil, "init", "--quiet", "--bare", "--initial-branch=main"); err != nil {
		return err
	}
	cmd := exec.Command("git", "fast-import", "--quiet", "--done")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("audittest: start git fast-import: %w", err)
	}
	werr := writeStream(in, cfg, models, samples)
	cerr := in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("audittest: git fast-import: %v: %s", err, stderr.String())
	}
	if werr != nil {
		return werr
	}
	if cerr != nil {
		return cerr
	}
	if cfg.Repack {
		if err := gitRun(dir, nil, "repack", "-a", "-d", "-q"); err != nil {
			return err
		}
	}
	if cfg.CommitGraph {
		if err := gitRun(dir, nil, "commit-graph", "write", "--reachable"); err != nil {
			return err
		}
	}
	return nil
}

// gitRun runs git in dir and returns its stdout when out is not nil.
func gitRun(dir string, out io.Writer, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(dir, ".no-global-config"))
	var stderr bytes.Buffer
	cmd.Stdout = out
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("audittest: git %v: %v: %s", args, err, stderr.String())
	}
	return nil
}

// generator holds the promotion state while the stream is written.
type generator struct {
	rng      *rand.Rand
	cfg      Large
	models   []string             // model names, by model number
	samples  map[string]sample    // path → sample, nil to render with Pin.YAML
	released map[string]time.Time // version → release day, with samples
	next     []int                // next version number per model
	pinned   map[string]Pin       // path → current pin
	pastProd map[int][]string     // model → versions pinned in prod so far
	content  map[string]string    // path → committed manifest text
}

// changes reports whether files differ from the committed manifests.
func (g *generator) changes(files map[string]string) bool {
	for p, c := range files {
		if g.content[p] != c {
			return true
		}
	}
	return false
}

// commit records files as committed.
func (g *generator) commit(files map[string]string) {
	for p, c := range files {
		g.content[p] = c
	}
}

func writeStream(w io.Writer, cfg Large, models []string, samples map[string]sample) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	g := &generator{
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		cfg:      cfg,
		models:   models,
		samples:  samples,
		released: map[string]time.Time{},
		next:     make([]int, cfg.Models),
		pinned:   map[string]Pin{},
		pastProd: map[int][]string{},
		content:  map[string]string{},
	}
	// Spread the touching commits evenly; the first commit always touches.
	touchEvery := float64(cfg.Commits) / float64(cfg.Touching)
	nextTouch, touched := 0.0, 0
	for i := 0; i < cfg.Commits; i++ {
		when := GenerationStart.Add(time.Duration(i) * 10 * time.Minute).Unix()
		files := map[string]string{}
		var deletes []string
		var msg string
		switch {
		case i == 0:
			msg = "Initial import"
			for f := 0; f < cfg.SourceFiles; f++ {
				files[sourcePath(f)] = sourceContent(f, 0)
			}
			for m := 0; m < cfg.Models; m++ {
				v := g.newVersion(m)
				for _, env := range largeEnvironments {
					p := Pin{Environment: env, Model: g.models[m], Version: v}
					g.pin(p, files)
				}
				g.pastProd[m] = append(g.pastProd[m], v)
			}
			g.commit(files)
			touched++
			nextTouch += touchEvery
		case float64(i) >= nextTouch && touched < cfg.Touching:
			msg = g.promotion(files, &deletes)
			if !g.changes(files) {
				// The chosen step pinned what was already pinned: register
				// a new version instead, so every touching commit changes
				// a manifest.
				clear(files)
				m := g.rng.IntN(cfg.Models)
				p := Pin{Environment: "dev", Model: g.models[m], Version: g.newVersion(m)}
				g.pin(p, files)
				msg = "Register " + p.Model + " " + p.Version
			}
			g.commit(files)
			touched++
			nextTouch += touchEvery
		default:
			f := g.rng.IntN(cfg.SourceFiles)
			files[sourcePath(f)] = sourceContent(f, i)
			msg = fmt.Sprintf("Refactor %s", sourcePath(f))
		}
		fmt.Fprintf(bw, "commit refs/heads/main\nmark :%d\n", i+1)
		fmt.Fprintf(bw, "author Dev %d <dev%d@example.com> %d +0000\n", i%7, i%7, when)
		fmt.Fprintf(bw, "committer GitHub <noreply@github.com> %d +0000\n", when)
		fmt.Fprintf(bw, "data %d\n%s\n", len(msg), msg)
		if i > 0 {
			fmt.Fprintf(bw, "from :%d\n", i)
		}
		for _, p := range deletes {
			fmt.Fprintf(bw, "D %s\n", p)
		}
		for _, p := range sortedKeys(files) {
			fmt.Fprintf(bw, "M 100644 inline %s\ndata %d\n%s\n", p, len(files[p]), files[p])
		}
	}
	bw.WriteString("done\n")
	return bw.Flush()
}

func (g *generator) newVersion(m int) string {
	g.next[m]++
	if g.samples != nil {
		// Versions of the samples' kind: the release day and a build.
		day := GenerationStart.AddDate(0, 0, g.next[m])
		v := day.Format("2006.01.02") + "-1"
		g.released[v] = day
		return v
	}
	return fmt.Sprintf("%d.%02d.%d", 2024+g.next[m]/365, 1+(g.next[m]/30)%12, g.next[m])
}

func (g *generator) pin(p Pin, files map[string]string) {
	g.pinned[p.Path()] = p
	files[p.Path()] = g.render(p)
}

// render writes a pin with its sample, or with Pin.YAML when there are no
// samples.
func (g *generator) render(p Pin) string {
	if g.samples == nil {
		return p.YAML()
	}
	return g.samples[p.Path()].render(p.Model, p.Version, g.released[p.Version], p.revalidated)
}

// promotion changes one or two manifests the way a team would: mostly new
// versions in dev and promotions, sometimes a rollback or an edit.
func (g *generator) promotion(files map[string]string, deletes *[]string) string {
	m := g.rng.IntN(g.cfg.Models)
	name := g.models[m]
	cur := func(env string) Pin { return g.pinned[Pin{Environment: env, Model: name}.Path()] }
	switch r := g.rng.IntN(100); {
	case r < 40:
		p := Pin{Environment: "dev", Model: name, Version: g.newVersion(m)}
		g.pin(p, files)
		return "Register " + name + " " + p.Version
	case r < 65:
		p := cur("dev")
		p.Environment = "test"
		g.pin(p, files)
		return "Promote " + name + " " + p.Version + " to test"
	case r < 85:
		p := cur("test")
		p.Environment = "prod"
		p.Ticket = fmt.Sprintf("CHG-%04d", g.rng.IntN(10000))
		g.pin(p, files)
		g.pastProd[m] = append(g.pastProd[m], p.Version)
		return "Promote " + name + " " + p.Version + " to prod"
	case r < 90:
		past := g.pastProd[m]
		p := cur("prod")
		p.Version = past[g.rng.IntN(len(past))]
		p.Ticket = fmt.Sprintf("CHG-%04d", g.rng.IntN(10000))
		g.pin(p, files)
		return "Roll back " + name + " in prod to " + p.Version
	case r < 99:
		p := cur("test")
		if g.samples != nil {
			// The samples' text stays as written apart from versions,
			// digests and dates: an edit revalidates the version.
			p.revalidated++
			g.pin(p, files)
			return "Revalidate " + name + " " + p.Version + " in test"
		}
		p.Notes = fmt.Sprintf("Reviewed on run %d.", g.rng.IntN(1_000_000))
		g.pin(p, files)
		return "Annotate " + name + " in test"
	default:
		// A bundle promotion: two models move to test together.
		p := cur("dev")
		p.Environment = "test"
		g.pin(p, files)
		q := g.pinned[Pin{Environment: "dev", Model: g.models[(m+1)%g.cfg.Models]}.Path()]
		q.Environment = "test"
		g.pin(q, files)
		return "Promote bundle to test"
	}
}

func modelName(m int) string { return fmt.Sprintf("model-%02d", m) }

func sourcePath(f int) string { return fmt.Sprintf("src/pkg%02d/file%03d.go", f/20, f) }

func sourceContent(f, rev int) string {
	return fmt.Sprintf("package pkg%02d\n\n// Revision %d of file %d.\nconst Revision%d = %d\n", f/20, rev, f, f, rev)
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
