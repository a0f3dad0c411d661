package audit

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"reflect"
	"slices"

	"github.com/example-org/promobot/internal/yamldoc"
	"github.com/example-org/promobot/internal/yamldoc/quickyaml"
)

// manifestInfo is what the audit reads from one manifest blob.
type manifestInfo struct {
	version, sha256 string
	problem         string // why the file could not be read, empty when it could
}

// readManifest extracts the version and artifact digest of a manifest,
// through the fast path when it applies and the safe YAML decoder
// otherwise.
func readManifest(data []byte, scratch *quickyaml.Scratch) (manifestInfo, bool) {
	if v, s, _, ok := quickyaml.Manifest(data, false, scratch); ok {
		return manifestInfo{version: v, sha256: s}, true
	}
	return decodeManifest(data), false
}

// sectionSum is the hash of the text of one top-level entry of a manifest
// read by the fast path, kept per blob so that an edit's changed keys are
// found without reading the two files again.
type sectionSum struct {
	key string
	sum uint64
}

// summarize is readManifest that also returns the section hashes of a
// document the fast path read (nil otherwise). keys interns key names.
func summarize(data []byte, scratch *quickyaml.Scratch, seed maphash.Seed, keys map[string]string) (manifestInfo, []sectionSum, bool) {
	v, s, sections, ok := quickyaml.Manifest(data, true, scratch)
	if !ok {
		return decodeManifest(data), nil, false
	}
	sums := make([]sectionSum, len(sections))
	for i, sec := range sections {
		k, found := keys[string(sec.Key)]
		if !found {
			k = string(sec.Key)
			keys[k] = k
		}
		sums[i] = sectionSum{key: k, sum: maphash.Bytes(seed, sec.Text)}
	}
	return manifestInfo{version: v, sha256: s}, sums, true
}

// diffSums lists the keys whose text differs between two summarized
// documents, as diffSections does for their sections.
func diffSums(a, b []sectionSum) []string {
	var out []string
	find := func(list []sectionSum, key string) (uint64, bool) {
		for _, s := range list {
			if s.key == key {
				return s.sum, true
			}
		}
		return 0, false
	}
	for _, s := range a {
		if t, ok := find(b, s.key); !ok || t != s.sum {
			out = append(out, s.key)
		}
	}
	for _, s := range b {
		if _, ok := find(a, s.key); !ok {
			out = append(out, s.key)
		}
	}
	slices.Sort(out)
	return out
}

// decodeManifest reads a manifest with yamldoc, the safe decoder behind
// repoconfig.LoadManifest, and takes version and artifact.sha256 the way repoconfig.LoadManifest
// does; a fuzz test holds the two to the same answers. It skips the schema
// and path checks, whose problems do not concern the audit, which records
// what was pinned: only a file that is not a YAML mapping at all yields a
// problem.
func decodeManifest(data []byte) manifestInfo {
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		var e *yamldoc.Error
		if !errors.As(err, &e) {
			return manifestInfo{problem: "manifest cannot be decoded: " + err.Error()}
		}
		return manifestInfo{problem: fmt.Sprintf("manifest cannot be decoded: %d:%d: %s", e.Line, e.Column, e.Message)}
	}
	root, ok := doc.Value.(map[string]any)
	if !ok {
		line, col := doc.Position(nil, false)
		return manifestInfo{problem: fmt.Sprintf("manifest cannot be decoded: %d:%d: manifest must be a YAML mapping", line, col)}
	}
	info := manifestInfo{}
	info.version, _ = root["version"].(string)
	if a, ok := root["artifact"].(map[string]any); ok {
		info.sha256, _ = a["sha256"].(string)
	}
	return info
}

// changedFields lists the top-level keys whose values differ between two
// versions of a manifest, sorted. It compares the text of each entry when
// both files are in the plain style, and decoded values otherwise.
func changedFields(before, after []byte, scratch *[2]quickyaml.Scratch) ([]string, error) {
	_, _, a, okA := quickyaml.Manifest(before, true, &scratch[0])
	_, _, b, okB := quickyaml.Manifest(after, true, &scratch[1])
	if okA && okB {
		return diffSections(a, b), nil
	}
	va, err := topLevel(before)
	if err != nil {
		return nil, err
	}
	vb, err := topLevel(after)
	if err != nil {
		return nil, err
	}
	return diffKeys(va, vb, func(x, y any) bool { return reflect.DeepEqual(x, y) }), nil
}

func topLevel(data []byte) (map[string]any, error) {
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		return nil, err
	}
	m, ok := doc.Value.(map[string]any)
	if !ok {
		return nil, errors.New("manifest is not a YAML mapping")
	}
	return m, nil
}

// diffSections lists the keys whose text differs between two documents.
func diffSections(a, b []quickyaml.Section) []string {
	var out []string
	find := func(list []quickyaml.Section, key []byte) ([]byte, bool) {
		for _, s := range list {
			if bytes.Equal(s.Key, key) {
				return s.Text, true
			}
		}
		return nil, false
	}
	for _, s := range a {
		if t, ok := find(b, s.Key); !ok || !bytes.Equal(t, s.Text) {
			out = append(out, string(s.Key))
		}
	}
	for _, s := range b {
		if _, ok := find(a, s.Key); !ok {
			out = append(out, string(s.Key))
		}
	}
	slices.Sort(out)
	return out
}

func diffKeys[V any](a, b map[string]V, equal func(x, y V) bool) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if y, ok := b[k]; !ok || !equal(a[k], y) {
			out = append(out, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
