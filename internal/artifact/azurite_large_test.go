package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
)

// sparseReader generates size bytes that are zero except for an 8-byte
// offset stamp at the start of every MiB: it looks like a sparse file but
// every MiB differs, so misplaced or repeated ranges change the digest.
type sparseReader struct {
	size, pos int64
}

func (r *sparseReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.pos)]
	clear(p)
	const stride = 1 << 20
	for mark := (r.pos + stride - 1) / stride * stride; mark < r.pos+int64(len(p)); mark += stride {
		var stamp [8]byte
		binary.BigEndian.PutUint64(stamp[:], uint64(mark)|1)
		copy(p[mark-r.pos:], stamp[:])
	}
	r.pos += int64(len(p))
	return len(p), nil
}

func testAzuriteLargeArtifactBoundedMemory(t *testing.T, env *azuriteEnv) {
	if testing.Short() {
		t.Skip("skipping the 2 GiB artifact in -short mode")
	}
	const size = 2 << 30

	start := time.Now()
	digest := uploadRepeatedBlocks(t, env, "large/model.bin", size)
	t.Logf("uploaded 2 GiB in %v", time.Since(start).Round(time.Millisecond))

	v, _ := env.verifier(t, env.sharedKey())
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	res, err := v.Verify(t.Context(), Spec{URI: env.az.BlobURL(testContainer, "large/model.bin"), SHA256: digest, Size: ptr(int64(size))}, false)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Verify: %v\n%s", err, res)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("verified 2 GiB in %v (%.0f MB/s); allocated %.1f MiB in total, heap in use %.1f MiB",
		elapsed.Round(time.Millisecond), float64(size)/elapsed.Seconds()/1e6,
		float64(allocated)/(1<<20), float64(after.HeapInuse)/(1<<20))
	// Everything allocated during the whole verification, not just what
	// is live at the end, stays far below the artifact's size.
	const limit = 64 << 20
	if allocated > limit {
		t.Errorf("verifying 2 GiB allocated %d MiB, more than %d MiB: memory is not flat", allocated>>20, limit>>20)
	}
	if res.BytesRead != size {
		t.Errorf("read %d bytes, want %d", res.BytesRead, size)
	}
}

// uploadRepeatedBlocks builds a blob of size bytes from a few distinct
// 16 MiB blocks, each staged once and listed many times in the committed
// block list, so that Azurite holds (and the test uploads) only those few
// blocks. It returns the hex sha256 of the whole blob.
func uploadRepeatedBlocks(t *testing.T, env *azuriteEnv, name string, size int64) string {
	t.Helper()
	const blockSize, distinct = 16 << 20, 5
	if size%blockSize != 0 {
		t.Fatalf("size %d is not a multiple of the block size", size)
	}
	bb := env.client.ServiceClient().NewContainerClient(testContainer).NewBlockBlobClient(name)
	blocks := make([][]byte, distinct)
	ids := make([]string, distinct)
	for i := range blocks {
		blocks[i] = make([]byte, blockSize)
		if _, err := io.ReadFull(&sparseReader{size: size, pos: int64(i) * blockSize}, blocks[i]); err != nil {
			t.Fatal(err)
		}
		ids[i] = base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "block-%06d", i))
		if _, err := bb.StageBlock(t.Context(), ids[i], streaming.NopCloser(bytes.NewReader(blocks[i])), nil); err != nil {
			t.Fatalf("staging block %d: %v", i, err)
		}
	}
	h := sha256.New()
	var list []string
	for i := range size / blockSize {
		// Blocks 0,3,1,4,2,0,3,...: neighbours always differ.
		k := int(i*3) % distinct
		list = append(list, ids[k])
		h.Write(blocks[k])
	}
	if _, err := bb.CommitBlockList(t.Context(), list, nil); err != nil {
		t.Fatalf("committing %d blocks: %v", len(list), err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
