package audittest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/manifest"
)

// Samples are manifest texts by repository path, such as the repository's
// own sample manifests under environments/. A history generated from them
// pins each path with its own sample's text, changing only the version, the
// artifact digest and the dates.
type Samples map[string]string

// RepositoryRoot returns the root of the promobot source tree that holds the
// working directory: the nearest folder above it with a go.mod. Tests run in
// their package's folder, so this finds the repository from any package.
func RepositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("audittest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// ReadSamples reads every manifest environments/<env>/<model>.yaml under
// root.
func ReadSamples(root string) (Samples, error) {
	out := Samples{}
	err := fs.WalkDir(os.DirFS(root), manifest.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, _, ok := manifest.EnvironmentAndModel(p); !ok {
			return nil
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return err
		}
		out[p] = string(data)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("audittest: no manifests under %s", filepath.Join(root, manifest.Root))
	}
	return out, nil
}

// sample is one sample manifest prepared for rendering.
type sample struct {
	text    string
	version string    // the version it pins
	sha256  string    // the digest it pins
	day     time.Time // the day its version was released
}

var (
	sampleVersion = regexp.MustCompile(`(?m)^version: "([^"\n]+)"$`)
	sampleSHA256  = regexp.MustCompile(`(?m)^  sha256: ([0-9a-f]{64})$`)
	sampleDate    = regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}`)
)

// prepare checks that every sample pins a quoted version and a digest in
// the block style the renderer rewrites, and finds each sample's release
// day: the day its version names (2026.11.20-1), else its latest date.
func (s Samples) prepare() (map[string]sample, error) {
	out := map[string]sample{}
	for p, text := range s {
		v := sampleVersion.FindStringSubmatch(text)
		d := sampleSHA256.FindStringSubmatch(text)
		if v == nil || d == nil {
			return nil, fmt.Errorf("audittest: sample %s has no quoted version or no artifact sha256 line", p)
		}
		smp := sample{text: text, version: v[1], sha256: d[1]}
		if day, _, _ := strings.Cut(v[1], "-"); len(day) == len("2006.01.02") {
			smp.day, _ = time.Parse("2006.01.02", day)
		}
		if smp.day.IsZero() {
			for _, m := range sampleDate.FindAllString(text, -1) {
				if t, err := time.Parse(time.DateOnly, m); err == nil && t.After(smp.day) {
					smp.day = t
				}
			}
		}
		if smp.day.IsZero() {
			return nil, fmt.Errorf("audittest: sample %s holds no date", p)
		}
		out[p] = smp
	}
	return out, nil
}

// render returns the sample's text pinning version, released on day: the
// version replaced wherever the sample names its own (the version key, the
// artifact and report addresses), the digest replaced, and every date moved
// by the days between the sample's release and this one. revalidated moves
// the validatedAt date that many more days, for an edit that keeps the
// version.
func (smp sample) render(model, version string, day time.Time, revalidated int) string {
	text := strings.ReplaceAll(smp.text, smp.version, version)
	text = strings.Replace(text, smp.sha256, ArtifactSHA256(model, version), 1)
	shift := int(day.Sub(smp.day).Hours() / 24)
	lines := strings.SplitAfter(text, "\n")
	for i, line := range lines {
		days := shift
		if strings.HasPrefix(strings.TrimLeft(line, " "), "validatedAt:") {
			days += revalidated
		}
		lines[i] = sampleDate.ReplaceAllStringFunc(line, func(d string) string {
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				return d
			}
			return t.AddDate(0, 0, days).Format(time.DateOnly)
		})
	}
	return strings.Join(lines, "")
}

// sampleModels returns the models and environments the samples cover,
// requiring one sample for every environment of a generated history and
// every model.
func sampleModels(samples map[string]sample) ([]string, error) {
	var models []string
	for p := range samples {
		_, model, _ := manifest.EnvironmentAndModel(p)
		if !slices.Contains(models, model) {
			models = append(models, model)
		}
	}
	slices.Sort(models)
	for _, m := range models {
		for _, env := range largeEnvironments {
			if _, ok := samples[path.Join(manifest.Root, env, m+".yaml")]; !ok {
				return nil, fmt.Errorf("audittest: the samples lack %s", manifest.Path(env, m))
			}
		}
	}
	return models, nil
}
