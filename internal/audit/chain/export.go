package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/example-org/promobot/internal/audit"
)

// Sink is where a log lives.
type Sink interface {
	// Read returns the whole log; a log that does not exist yet is empty.
	Read(ctx context.Context) ([]byte, error)
	// Append writes data at offset, which must be the log's current
	// length: when another writer has appended meanwhile it fails with an
	// error wrapping ErrConflict and writes nothing. data is whole lines.
	Append(ctx context.Context, offset int64, data []byte) error
	// String names the sink for messages, without secrets.
	String() string
}

// ErrConflict is returned by Sink.Append when the log grew since it was
// read. Retrying the export reads the new lines and appends after them.
var ErrConflict = errors.New("the log changed since it was read (another writer appended)")

// ErrHistoryMismatch is returned by Export when the log's records are not the
// history's first records: retrying cannot help until someone decides which
// of the two is right.
var ErrHistoryMismatch = errors.New("the history was rewritten or this is another branch's log")

// ExportResult is what Export did.
type ExportResult struct {
	// Existing is the number of records the log held; Appended how many
	// this export added.
	Existing, Appended int
	// Ahead is how many records the log holds beyond the history given:
	// an exporter with a newer history ran first. A rewritten history is
	// caught when a later export's records stop matching the log's.
	Ahead int
	// Head is the hash of the log's last line afterwards.
	Head string
}

// maxAttempts bounds retries after conflicting appends.
const maxAttempts = 3

// Export appends to the sink the records it does not hold yet. The log must
// verify, and its records must match the history's first records in order
// (by commit and path); otherwise Export refuses to append, since either the
// log or the history was rewritten. Running Export again with the same
// records appends nothing.
func Export(ctx context.Context, sink Sink, records []audit.Record) (ExportResult, error) {
	encoded := make([][]byte, len(records))
	for i := range records {
		b, err := json.Marshal(&records[i])
		if err != nil {
			return ExportResult{}, err
		}
		encoded[i] = b
	}
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var res ExportResult
		res, err = exportOnce(ctx, sink, records, encoded)
		if !errors.Is(err, ErrConflict) {
			return res, err
		}
	}
	return ExportResult{}, fmt.Errorf("export to %s: gave up after %d conflicting appends: %w", sink, maxAttempts, err)
}

func exportOnce(ctx context.Context, sink Sink, records []audit.Record, encoded [][]byte) (ExportResult, error) {
	data, err := sink.Read(ctx)
	if err != nil {
		return ExportResult{}, fmt.Errorf("read the log %s: %w", sink, err)
	}
	v := Verify(data)
	if v.Broken != nil {
		return ExportResult{}, fmt.Errorf("the log %s does not verify, refusing to append: %w", sink, v.Broken)
	}
	for i, e := range v.Entries {
		if i == len(records) {
			break
		}
		key, err := recordKey(e.Record)
		if err != nil {
			return ExportResult{}, fmt.Errorf("the log %s, record %d: %w", sink, i, err)
		}
		if want := records[i].Key(); key != want {
			return ExportResult{}, fmt.Errorf("the log %s, record %d, is %s but the history's is %s: %w", sink, i, describe(key), describe(want), ErrHistoryMismatch)
		}
	}
	res := ExportResult{Existing: v.Count, Head: v.Head}
	if v.Count >= len(records) {
		// Another exporter with a newer history got here first.
		res.Ahead = v.Count - len(records)
		return res, nil
	}
	lines, head, err := Lines(int64(v.Count), v.Head, encoded[v.Count:])
	if err != nil {
		return ExportResult{}, err
	}
	if err := sink.Append(ctx, int64(len(data)), lines); err != nil {
		return ExportResult{}, fmt.Errorf("append to the log %s: %w", sink, err)
	}
	res.Appended, res.Head = len(records)-v.Count, head
	return res, nil
}
