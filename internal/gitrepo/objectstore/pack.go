package objectstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/klauspost/compress/zlib"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// maxObjectSize bounds the inflated size of any object this package reads.
const maxObjectSize = 64 << 20

// maxDeltaChain bounds delta chains; git's default depth is 50.
const maxDeltaChain = 10_000

// ErrTooLarge is returned for objects larger than the package reads.
var ErrTooLarge = errors.New("object is larger than 64 MiB")

// Pack object types that are deltas.
const (
	ofsDelta = 6
	refDelta = 7
)

// pack is one mapped packfile with its index.
type pack struct {
	name    string
	idx     []byte
	data    []byte
	unmap   []func() error
	count   uint32
	fanout  [256]uint32
	version int // index version, 1 or 2
	// Offsets of the tables inside idx (version 2).
	hashes, offsets, large int
}

func openPack(idxPath string) (*pack, error) {
	idx, unmapIdx, err := mapFile(idxPath)
	if err != nil {
		return nil, err
	}
	packPath := strings.TrimSuffix(idxPath, ".idx") + ".pack"
	data, unmapPack, err := mapFile(packPath)
	if err != nil {
		_ = unmapIdx()
		return nil, err
	}
	p := &pack{name: packPath, idx: idx, data: data, unmap: []func() error{unmapIdx, unmapPack}}
	if err := p.parseIndex(); err != nil {
		_ = p.close()
		return nil, fmt.Errorf("objectstore: %s: %w", idxPath, err)
	}
	if len(data) < 12 || string(data[:4]) != "PACK" {
		_ = p.close()
		return nil, fmt.Errorf("objectstore: %s is not a packfile", packPath)
	}
	return p, nil
}

func (p *pack) close() error {
	var errs []error
	for _, f := range p.unmap {
		errs = append(errs, f())
	}
	p.unmap = nil
	return errors.Join(errs...)
}

func (p *pack) parseIndex() error {
	idx := p.idx
	fanoutAt := 0
	p.version = 1
	if len(idx) >= 8 && bytes.Equal(idx[:4], []byte{0xff, 't', 'O', 'c'}) {
		if v := binary.BigEndian.Uint32(idx[4:8]); v != 2 {
			return fmt.Errorf("unsupported pack index version %d", v)
		}
		p.version = 2
		fanoutAt = 8
	}
	if len(idx) < fanoutAt+256*4 {
		return errors.New("pack index is truncated")
	}
	var prev uint32
	for i := range 256 {
		n := binary.BigEndian.Uint32(idx[fanoutAt+4*i:])
		if n < prev {
			return errors.New("pack index fan-out is not monotonic")
		}
		p.fanout[i], prev = n, n
	}
	p.count = p.fanout[255]
	n := int(p.count)
	if p.version == 1 {
		p.hashes = fanoutAt + 256*4
		if len(idx) < p.hashes+24*n {
			return errors.New("pack index is truncated")
		}
		return nil
	}
	p.hashes = fanoutAt + 256*4
	p.offsets = p.hashes + 20*n + 4*n
	p.large = p.offsets + 4*n
	if len(idx) < p.large+40 {
		return errors.New("pack index is truncated")
	}
	return nil
}

// hashAt returns the i-th sorted hash of the index.
func (p *pack) hashAt(i int) []byte {
	if p.version == 1 {
		at := p.hashes + 24*i + 4
		return p.idx[at : at+20]
	}
	at := p.hashes + 20*i
	return p.idx[at : at+20]
}

// find returns the pack offset of h.
func (p *pack) find(h plumbing.Hash) (int64, bool) {
	lo := 0
	if h[0] > 0 {
		lo = int(p.fanout[h[0]-1])
	}
	hi := int(p.fanout[h[0]])
	key := binary.BigEndian.Uint64(h[:8])
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		at := p.hashAt(mid)
		c := 0
		if k := binary.BigEndian.Uint64(at[:8]); k < key {
			c = -1
		} else if k > key {
			c = 1
		} else {
			c = bytes.Compare(at[8:], h[8:])
		}
		switch {
		case c == 0:
			return p.offsetAt(mid)
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0, false
}

func (p *pack) offsetAt(i int) (int64, bool) {
	if p.version == 1 {
		return int64(binary.BigEndian.Uint32(p.idx[p.hashes+24*i:])), true
	}
	v := binary.BigEndian.Uint32(p.idx[p.offsets+4*i:])
	if v&0x80000000 == 0 {
		return int64(v), true
	}
	at := p.large + 8*int(v&0x7fffffff)
	if at+8 > len(p.idx)-40 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(p.idx[at:])), true
}

// header parses the object header at off: its type, inflated size, where
// the compressed data starts, and for deltas the base.
func (p *pack) header(off int64) (typ int, size int64, dataAt int64, baseOff int64, baseHash plumbing.Hash, err error) {
	if off < 12 || off >= int64(len(p.data)) {
		return 0, 0, 0, 0, baseHash, fmt.Errorf("offset %d is outside the pack", off)
	}
	at := off
	c := p.data[at]
	at++
	typ = int(c>>4) & 7
	size = int64(c & 0x0f)
	shift := uint(4)
	for c&0x80 != 0 {
		if at >= int64(len(p.data)) || shift > 56 {
			return 0, 0, 0, 0, baseHash, fmt.Errorf("bad object header at offset %d", off)
		}
		c = p.data[at]
		at++
		size |= int64(c&0x7f) << shift
		shift += 7
	}
	switch typ {
	case ofsDelta:
		if at >= int64(len(p.data)) {
			return 0, 0, 0, 0, baseHash, fmt.Errorf("truncated delta at offset %d", off)
		}
		c = p.data[at]
		at++
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if at >= int64(len(p.data)) || rel > 1<<55 {
				return 0, 0, 0, 0, baseHash, fmt.Errorf("bad delta offset at offset %d", off)
			}
			c = p.data[at]
			at++
			rel = (rel+1)<<7 | int64(c&0x7f)
		}
		if rel <= 0 || rel > off {
			return 0, 0, 0, 0, baseHash, fmt.Errorf("delta at offset %d points outside the pack", off)
		}
		baseOff = off - rel
	case refDelta:
		if at+20 > int64(len(p.data)) {
			return 0, 0, 0, 0, baseHash, fmt.Errorf("truncated delta at offset %d", off)
		}
		copy(baseHash[:], p.data[at:at+20])
		at += 20
	case int(Commit), int(Tree), int(Blob), int(Tag):
	default:
		return 0, 0, 0, 0, baseHash, fmt.Errorf("unknown object type %d at offset %d", typ, off)
	}
	if size > maxObjectSize {
		return 0, 0, 0, 0, baseHash, ErrTooLarge
	}
	return typ, size, at, baseOff, baseHash, nil
}

// readPacked resolves the object at off, following its delta chain.
func (s *Store) readPacked(p *pack, off int64) (Type, []byte, error) {
	type link struct {
		key   cacheKey
		delta []byte
	}
	var short [8]link // most chains are short: keep them off the heap
	chain := short[:0]
	var baseType Type
	var base []byte
	for {
		key := cacheKey{p, off}
		if e, ok := s.cache.getOffset(key); ok {
			baseType, base = e.typ, e.data
			break
		}
		typ, size, dataAt, baseOff, baseHash, err := p.header(off)
		if err != nil {
			return 0, nil, err
		}
		data, err := s.inf.inflateAt(p.data[dataAt:], int(size))
		if err != nil {
			return 0, nil, fmt.Errorf("inflate object at offset %d: %w", off, err)
		}
		switch typ {
		case ofsDelta:
			chain = append(chain, link{key, data})
			off = baseOff
		case refDelta:
			chain = append(chain, link{key, data})
			bp, boff, ok := s.locate(baseHash)
			if !ok {
				t, b, err := s.readLoose(baseHash)
				if err != nil {
					return 0, nil, err
				}
				baseType, base = t, b
				goto apply
			}
			p, off = bp, boff
		default:
			baseType, base = Type(typ), data
			s.cache.putOffset(key, entry{typ: baseType, data: base})
			goto apply
		}
		if len(chain) > maxDeltaChain {
			return 0, nil, errors.New("delta chain is too long")
		}
	}
apply:
	for i := len(chain) - 1; i >= 0; i-- {
		out, err := applyDelta(base, chain[i].delta)
		if err != nil {
			return 0, nil, fmt.Errorf("apply delta at offset %d: %w", chain[i].key.off, err)
		}
		base = out
		s.cache.putOffset(chain[i].key, entry{typ: baseType, data: base})
	}
	return baseType, base, nil
}

func (s *Store) locate(h plumbing.Hash) (*pack, int64, bool) {
	for _, p := range s.packs {
		if off, ok := p.find(h); ok {
			return p, off, true
		}
	}
	return nil, 0, false
}

// inflater reuses one zlib reader across objects.
type inflater struct {
	src bytes.Reader
	zr  io.ReadCloser
}

// inflateAt inflates exactly size bytes from the zlib stream at the start of
// src.
func (f *inflater) inflateAt(src []byte, size int) ([]byte, error) {
	f.src.Reset(src)
	if f.zr == nil {
		zr, err := zlib.NewReader(&f.src)
		if err != nil {
			return nil, err
		}
		f.zr = zr
	} else if err := f.zr.(zlib.Resetter).Reset(&f.src, nil); err != nil {
		return nil, err
	}
	out := make([]byte, size)
	if _, err := io.ReadFull(f.zr, out); err != nil {
		return nil, err
	}
	return out, nil
}

// inflateAll inflates a whole zlib stream of at most limit bytes.
func (f *inflater) inflateAll(src []byte, limit int64) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	data, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, ErrTooLarge
	}
	return data, nil
}

// applyDelta rebuilds an object from its base and a git delta.
func applyDelta(base, delta []byte) ([]byte, error) {
	at := 0
	varint := func() (int, error) {
		v, shift := 0, uint(0)
		for {
			if at >= len(delta) || shift > 56 {
				return 0, errors.New("truncated delta header")
			}
			c := delta[at]
			at++
			v |= int(c&0x7f) << shift
			shift += 7
			if c&0x80 == 0 {
				return v, nil
			}
		}
	}
	srcSize, err := varint()
	if err != nil {
		return nil, err
	}
	if srcSize != len(base) {
		return nil, fmt.Errorf("delta expects a %d-byte base, have %d bytes", srcSize, len(base))
	}
	dstSize, err := varint()
	if err != nil {
		return nil, err
	}
	if dstSize > maxObjectSize {
		return nil, ErrTooLarge
	}
	out := make([]byte, 0, dstSize)
	for at < len(delta) {
		op := delta[at]
		at++
		switch {
		case op&0x80 != 0:
			var off, n int
			for i := range 4 {
				if op&(1<<i) != 0 {
					if at >= len(delta) {
						return nil, errors.New("truncated copy instruction")
					}
					off |= int(delta[at]) << (8 * i)
					at++
				}
			}
			for i := range 3 {
				if op&(0x10<<i) != 0 {
					if at >= len(delta) {
						return nil, errors.New("truncated copy instruction")
					}
					n |= int(delta[at]) << (8 * i)
					at++
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > len(base) || len(out)+n > dstSize {
				return nil, errors.New("copy instruction out of range")
			}
			out = append(out, base[off:off+n]...)
		case op != 0:
			n := int(op)
			if at+n > len(delta) || len(out)+n > dstSize {
				return nil, errors.New("insert instruction out of range")
			}
			out = append(out, delta[at:at+n]...)
			at += n
		default:
			return nil, errors.New("reserved delta instruction 0")
		}
	}
	if len(out) != dstSize {
		return nil, fmt.Errorf("delta produced %d bytes, expected %d", len(out), dstSize)
	}
	return out, nil
}
