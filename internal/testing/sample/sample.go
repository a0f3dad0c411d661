// Package sample produces the deterministic artifact bytes behind the sample
// manifests in environments/, so that demos and tests can seed storage with
// blobs whose digests match what the manifests pin.
package sample

import (
	"crypto/sha256"
	"encoding/binary"
)

// ArtifactSize is the size in bytes of every sample artifact.
const ArtifactSize = 64 << 10

// ArtifactBytes returns the sample artifact of a model version: a stream of
// SHA-256 blocks seeded by the model and version, so that every version has
// distinct, reproducible bytes.
func ArtifactBytes(model, version string) []byte {
	seed := sha256.Sum256([]byte("promobot sample artifact\x00" + model + "\x00" + version))
	out := make([]byte, 0, ArtifactSize)
	var block [40]byte
	copy(block[:32], seed[:])
	for i := uint64(0); len(out) < ArtifactSize; i++ {
		binary.BigEndian.PutUint64(block[32:], i)
		sum := sha256.Sum256(block[:])
		out = append(out, sum[:]...)
	}
	return out[:ArtifactSize]
}
