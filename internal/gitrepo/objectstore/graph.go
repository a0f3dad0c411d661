package objectstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// NoParent is the parent position of a root commit in a Graph.
const NoParent = ^uint32(0)

// Graph is git's commit-graph file (or chain of files), mapped into memory:
// for every commit it records the root tree, the parents and the commit
// time, so a walk needs no commit object at all.
type Graph struct {
	layers []*graphLayer
	total  uint32
}

type graphLayer struct {
	data       []byte
	unmap      func() error
	base       uint32 // number of commits in the layers below
	count      uint32
	fanout     []byte
	oids, cdat []byte
}

// OpenGraph maps the commit-graph of the repository at gitDir. It returns
// nil and no error when the repository has none.
func OpenGraph(gitDir string) (*Graph, error) {
	info := filepath.Join(gitDir, "objects", "info")
	single := filepath.Join(info, "commit-graph")
	if _, err := os.Stat(single); err == nil {
		g := &Graph{}
		if err := g.addLayer(single); err != nil {
			g.Close()
			return nil, err
		}
		return g, nil
	}
	chain, err := os.ReadFile(filepath.Join(info, "commit-graphs", "commit-graph-chain"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	g := &Graph{}
	for _, line := range strings.Fields(string(chain)) {
		if len(line) != 40 {
			g.Close()
			return nil, fmt.Errorf("objectstore: bad commit-graph chain entry %q", line)
		}
		if err := g.addLayer(filepath.Join(info, "commit-graphs", "graph-"+line+".graph")); err != nil {
			g.Close()
			return nil, err
		}
	}
	return g, nil
}

// Close unmaps the graph files.
func (g *Graph) Close() error {
	if g == nil {
		return nil
	}
	var errs []error
	for _, l := range g.layers {
		errs = append(errs, l.unmap())
	}
	g.layers = nil
	return errors.Join(errs...)
}

func (g *Graph) addLayer(path string) error {
	data, unmap, err := mapFile(path)
	if err != nil {
		return err
	}
	l := &graphLayer{data: data, unmap: unmap, base: g.total}
	if err := l.parse(); err != nil {
		_ = unmap()
		return fmt.Errorf("objectstore: commit-graph %s: %w", filepath.Base(path), err)
	}
	if uint64(g.total)+uint64(l.count) >= uint64(NoParent>>4) {
		_ = unmap()
		return fmt.Errorf("objectstore: commit-graph %s is too large", filepath.Base(path))
	}
	g.layers = append(g.layers, l)
	g.total += l.count
	return nil
}

func (l *graphLayer) parse() error {
	d := l.data
	if len(d) < 8 || string(d[:4]) != "CGPH" {
		return errors.New("not a commit-graph file")
	}
	if d[4] != 1 {
		return fmt.Errorf("unsupported version %d", d[4])
	}
	if d[5] != 1 {
		return errors.New("only SHA-1 commit-graphs are supported")
	}
	chunks := int(d[6])
	table := 8
	if len(d) < table+12*(chunks+1) {
		return errors.New("truncated chunk table")
	}
	for i := 0; i < chunks; i++ {
		e := d[table+12*i:]
		id := string(e[:4])
		start := binary.BigEndian.Uint64(e[4:12])
		end := binary.BigEndian.Uint64(e[16:24])
		if start > end || end > uint64(len(d)) {
			return fmt.Errorf("chunk %s is out of range", id)
		}
		chunk := d[start:end]
		switch id {
		case "OIDF":
			l.fanout = chunk
		case "OIDL":
			l.oids = chunk
		case "CDAT":
			l.cdat = chunk
		}
	}
	if len(l.fanout) != 256*4 {
		return errors.New("missing or bad OIDF chunk")
	}
	l.count = binary.BigEndian.Uint32(l.fanout[255*4:])
	if uint64(len(l.oids)) != 20*uint64(l.count) || uint64(len(l.cdat)) != 36*uint64(l.count) {
		return errors.New("OIDL or CDAT chunk does not match the commit count")
	}
	return nil
}

// Lookup returns the graph position of commit h.
func (g *Graph) Lookup(h plumbing.Hash) (uint32, bool) {
	if g == nil {
		return 0, false
	}
	for _, l := range g.layers {
		lo := uint32(0)
		if h[0] > 0 {
			lo = binary.BigEndian.Uint32(l.fanout[4*(int(h[0])-1):])
		}
		hi := binary.BigEndian.Uint32(l.fanout[4*int(h[0]):])
		if hi > l.count || lo > hi {
			continue
		}
		for lo < hi {
			mid := (lo + hi) / 2
			switch c := bytes.Compare(l.oids[20*mid:20*mid+20], h[:]); {
			case c == 0:
				return l.base + mid, true
			case c < 0:
				lo = mid + 1
			default:
				hi = mid
			}
		}
	}
	return 0, false
}

func (g *Graph) layer(pos uint32) (*graphLayer, uint32, bool) {
	for i := len(g.layers) - 1; i >= 0; i-- {
		l := g.layers[i]
		if pos >= l.base && pos < l.base+l.count {
			return l, pos - l.base, true
		}
	}
	return nil, 0, false
}

// Hash returns the commit hash at pos.
func (g *Graph) Hash(pos uint32) (plumbing.Hash, bool) {
	var h plumbing.Hash
	l, i, ok := g.layer(pos)
	if !ok {
		return h, false
	}
	copy(h[:], l.oids[20*i:])
	return h, true
}

// GraphCommit is what the commit-graph records about one commit.
type GraphCommit struct {
	// Tree is the root tree.
	Tree plumbing.Hash
	// FirstParent is the graph position of the first parent, NoParent for a
	// root commit.
	FirstParent uint32
	// Time is the committer time in Unix seconds.
	Time int64
}

// Commit returns the record of the commit at pos.
func (g *Graph) Commit(pos uint32) (GraphCommit, error) {
	l, i, ok := g.layer(pos)
	if !ok {
		return GraphCommit{}, fmt.Errorf("objectstore: commit-graph position %d is out of range", pos)
	}
	e := l.cdat[36*i : 36*i+36]
	var c GraphCommit
	copy(c.Tree[:], e[:20])
	p1 := binary.BigEndian.Uint32(e[20:24])
	c.FirstParent = NoParent
	if p1 != 0x70000000 {
		if p1 >= g.total {
			return GraphCommit{}, fmt.Errorf("objectstore: commit-graph parent %d is out of range", p1)
		}
		c.FirstParent = p1
	}
	c.Time = int64(binary.BigEndian.Uint64(e[28:36]) & 0x3ffffffff)
	return c, nil
}
