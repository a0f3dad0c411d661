// Package objectstore reads git objects straight from a repository's
// packfiles and loose objects, for history walks that must visit tens of
// thousands of trees quickly.
//
// go-git reads packed objects through seeks and buffered reads on the pack
// file, which costs tens of microseconds per object. This package maps the
// pack and its index into memory (read-only), finds objects by binary search
// in the index, inflates them with reused zlib readers and resolves deltas
// with a bounded cache of recently used bases, so that reading a small tree
// costs a few microseconds. It only reads: it never writes to the repository.
//
// Only SHA-1 repositories are supported. Every length and offset read from
// disk is bounds-checked, so a corrupt or hostile repository yields an error,
// never a panic.
package objectstore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// Type is a git object type.
type Type int8

// The object types, numbered as in packfiles.
const (
	Commit Type = 1
	Tree   Type = 2
	Blob   Type = 3
	Tag    Type = 4
)

// String returns the name git uses for the type.
func (t Type) String() string {
	switch t {
	case Commit:
		return "commit"
	case Tree:
		return "tree"
	case Blob:
		return "blob"
	case Tag:
		return "tag"
	}
	return fmt.Sprintf("type(%d)", int(t))
}

// ErrNotFound is returned when no pack or loose object holds a hash.
var ErrNotFound = errors.New("object not found")

// Store reads objects of one repository. It is not safe for concurrent use:
// give each goroutine its own Store.
type Store struct {
	dirs   []string // objects directories: the repository's, then alternates
	packs  []*pack
	cache  *lru
	inf    inflater
	forked bool // the packs belong to another Store
	opts   Options
}

// Options tunes a Store.
type Options struct {
	// CacheBytes bounds the cache of inflated objects used as delta bases
	// and re-read trees; zero means 64 MiB.
	CacheBytes int
}

// Open opens the object database of the repository whose git directory is
// gitDir (the .git folder, or the folder of a bare repository).
func Open(gitDir string, opts Options) (*Store, error) {
	if opts.CacheBytes == 0 {
		opts.CacheBytes = 64 << 20
	}
	if err := checkObjectFormat(gitDir); err != nil {
		return nil, err
	}
	s := &Store{cache: newLRU(opts.CacheBytes), opts: opts}
	objects := filepath.Join(gitDir, "objects")
	s.dirs = append(s.dirs, objects)
	alternates, err := readAlternates(objects, 0)
	if err != nil {
		return nil, err
	}
	s.dirs = append(s.dirs, alternates...)
	for _, dir := range s.dirs {
		idxs, err := filepath.Glob(filepath.Join(dir, "pack", "*.idx"))
		if err != nil {
			return nil, err
		}
		sort.Strings(idxs)
		for _, idx := range idxs {
			p, err := openPack(idx)
			if errors.Is(err, os.ErrNotExist) {
				continue // a pack removed by a concurrent gc
			}
			if err != nil {
				s.Close()
				return nil, err
			}
			s.packs = append(s.packs, p)
		}
	}
	return s, nil
}

// checkObjectFormat refuses repositories that do not use SHA-1 object names.
func checkObjectFormat(gitDir string) error {
	data, err := os.ReadFile(filepath.Join(gitDir, "config"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("objectstore: %s is not a git directory", gitDir)
		}
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.ToLower(strings.Join(strings.Fields(sc.Text()), ""))
		if strings.HasPrefix(line, "objectformat=") && line != "objectformat=sha1" {
			return fmt.Errorf("objectstore: %s uses %s object names; only sha1 is supported", gitDir, strings.TrimPrefix(line, "objectformat="))
		}
	}
	return nil
}

// readAlternates follows objects/info/alternates, depth-limited as git does.
func readAlternates(objects string, depth int) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(objects, "info", "alternates"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if depth >= 5 {
		return nil, fmt.Errorf("objectstore: alternates nested too deeply under %s", objects)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !filepath.IsAbs(line) {
			line = filepath.Join(objects, line)
		}
		out = append(out, line)
		more, err := readAlternates(line, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// Fork returns a Store that shares this one's mapped packs but has its own
// cache, for use by another goroutine. The fork must not be used after the
// original is closed; closing the fork releases nothing.
func (s *Store) Fork() *Store {
	return &Store{dirs: s.dirs, packs: s.packs, cache: newLRU(s.opts.CacheBytes), forked: true, opts: s.opts}
}

// Close releases the mapped packs.
func (s *Store) Close() error {
	if s.forked {
		s.packs = nil
		return nil
	}
	var errs []error
	for _, p := range s.packs {
		errs = append(errs, p.close())
	}
	s.packs = nil
	return errors.Join(errs...)
}

// Read returns the type and content of the object named h. The returned
// slice may be shared with the cache: callers must not modify it.
func (s *Store) Read(h plumbing.Hash) (Type, []byte, error) {
	for _, p := range s.packs {
		if off, ok := p.find(h); ok {
			t, data, err := s.readPacked(p, off)
			if err != nil {
				return 0, nil, fmt.Errorf("objectstore: read %s from %s: %w", h, filepath.Base(p.name), err)
			}
			return t, data, nil
		}
	}
	if e, ok := s.cache.get(h); ok {
		return e.typ, e.data, nil
	}
	t, data, err := s.readLoose(h)
	if err != nil {
		return 0, nil, err
	}
	s.cache.put(h, entry{typ: t, data: data})
	return t, data, nil
}

// ReadType is Read that also checks the object's type.
func (s *Store) ReadType(h plumbing.Hash, want Type) ([]byte, error) {
	t, data, err := s.Read(h)
	if err != nil {
		return nil, err
	}
	if t != want {
		return nil, fmt.Errorf("objectstore: %s is a %s, not a %s", h, t, want)
	}
	return data, nil
}

// readLoose reads objects/xx/yyyy… from each objects directory.
func (s *Store) readLoose(h plumbing.Hash) (Type, []byte, error) {
	hex := h.String()
	for _, dir := range s.dirs {
		raw, err := os.ReadFile(filepath.Join(dir, hex[:2], hex[2:]))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		data, err := s.inf.inflateAll(raw, maxObjectSize+64)
		if err != nil {
			return 0, nil, fmt.Errorf("objectstore: loose object %s: %w", h, err)
		}
		return parseLooseHeader(h, data)
	}
	return 0, nil, fmt.Errorf("objectstore: %s: %w", h, ErrNotFound)
}

func parseLooseHeader(h plumbing.Hash, data []byte) (Type, []byte, error) {
	nul := bytes.IndexByte(data, 0)
	if nul < 0 || nul > 32 {
		return 0, nil, fmt.Errorf("objectstore: loose object %s has no header", h)
	}
	name, size, ok := strings.Cut(string(data[:nul]), " ")
	if !ok {
		return 0, nil, fmt.Errorf("objectstore: loose object %s has a bad header", h)
	}
	var t Type
	switch name {
	case "commit":
		t = Commit
	case "tree":
		t = Tree
	case "blob":
		t = Blob
	case "tag":
		t = Tag
	default:
		return 0, nil, fmt.Errorf("objectstore: loose object %s has unknown type %q", h, name)
	}
	body := data[nul+1:]
	if fmt.Sprint(len(body)) != size {
		return 0, nil, fmt.Errorf("objectstore: loose object %s is %d bytes, header says %s", h, len(body), size)
	}
	return t, body, nil
}
