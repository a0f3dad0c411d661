package objectstore

import (
	"testing"
)

// FuzzApplyDelta feeds arbitrary deltas: errors are fine, panics and
// outputs of the wrong size are not.
func FuzzApplyDelta(f *testing.F) {
	f.Add([]byte("hello world"), []byte{11, 5, 0x90, 5, 'x'})
	f.Add([]byte("abc"), []byte{3, 3, 0x91, 0, 3})
	f.Add([]byte(""), []byte{0, 2, 2, 'h', 'i'})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		out, err := applyDelta(base, delta)
		if err != nil {
			return
		}
		// The header's target size is what the output must have.
		at, size, shift := 0, 0, 0
		for at < len(delta) { // skip the source size
			c := delta[at]
			at++
			if c&0x80 == 0 {
				break
			}
		}
		for at < len(delta) {
			c := delta[at]
			at++
			size |= int(c&0x7f) << shift
			shift += 7
			if c&0x80 == 0 {
				break
			}
		}
		if len(out) != size {
			t.Fatalf("output is %d bytes, header says %d", len(out), size)
		}
	})
}

// FuzzParseObjects runs the tree and commit parsers over arbitrary bytes.
func FuzzParseObjects(f *testing.F) {
	f.Add([]byte("100644 a.yaml\x0001234567890123456789040000 dir\x0001234567890123456789"))
	f.Add([]byte("tree 0123456789012345678901234567890123456789\nparent 0123456789012345678901234567890123456789\nauthor A <a@b> 1 +0000\n\nmsg\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		_ = WalkTree(data, func(e TreeEntry) bool {
			n++
			if len(e.Name) == 0 {
				t.Fatal("an entry without a name")
			}
			return true
		})
		_, _, _ = FindTreeEntry(data, "environments")
		_, _ = ParseCommit(data)
		_, _, _ = CommitTreeAndParent(data)
		_, _, _ = parseLooseHeader([20]byte{}, data)
	})
}
