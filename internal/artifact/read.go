package artifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// errTooLarge stops a read that passes its limit.
var errTooLarge = errors.New("larger than the limit")

// cappedBuffer keeps at most limit bytes and refuses more.
type cappedBuffer struct {
	buf   bytes.Buffer
	limit int64
	over  bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if int64(c.buf.Len())+int64(len(p)) > c.limit {
		c.over = true
		return 0, errTooLarge
	}
	return c.buf.Write(p)
}

// Read verifies the object named by spec exactly as Verify does, without
// requiring a signature, and returns its bytes: for small documents that
// are checked after their digest (a validation report, an SBOM). An object
// of more than limit bytes is refused with ReasonSizeMismatch before all of
// it is read. The bytes are returned only when every check passed.
func (v *Verifier) Read(ctx context.Context, spec Spec, limit int64) ([]byte, Result, error) {
	sink := &cappedBuffer{limit: limit}
	res, err := v.run(ctx, spec, false, sink)
	if sink.over {
		return nil, res, v.fail(ReasonSizeMismatch, spec, fmt.Sprintf("the object has more than the %d bytes allowed", limit), nil)
	}
	if err != nil {
		return nil, res, err
	}
	return sink.buf.Bytes(), res, nil
}
