// Package chain keeps the audit trail as a tamper-evident log: JSON lines,
// each holding one audit record, its sequence number, the hash of the
// previous line and its own hash, so that changing, removing or reordering
// any line breaks the chain from that line on. Export appends the records
// a log does not have yet to a Sink (a local file or an Azure append blob)
// with a conditional append, so two writers cannot interleave and a re-run
// appends nothing twice. Verify recomputes the chain and reports the first
// broken link.
package chain

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Genesis is the prev hash of the first line.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// domain separates this hash from any other use of SHA-256.
const domain = "promobot-audit-chain-v1\n"

// Entry is one line of the log.
type Entry struct {
	// Seq is the 1-based position of the line.
	Seq int64 `json:"seq"`
	// Prev is the hash of the previous line, Genesis for the first.
	Prev string `json:"prev"`
	// Record is the audit record as exported, byte for byte.
	Record json.RawMessage `json:"record"`
	// Hash is SHA-256 over the domain string, Seq, Prev and Record.
	Hash string `json:"hash"`
}

// hashOf computes the hash a line with these fields must carry.
func hashOf(seq int64, prev string, record []byte) string {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write([]byte(strconv.FormatInt(seq, 10)))
	h.Write([]byte{'\n'})
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(record)
	return hex.EncodeToString(h.Sum(nil))
}

// encode writes the canonical line of an entry, newline included.
func encode(e Entry) []byte {
	var b bytes.Buffer
	b.WriteString(`{"seq":`)
	b.WriteString(strconv.FormatInt(e.Seq, 10))
	b.WriteString(`,"prev":"`)
	b.WriteString(e.Prev)
	b.WriteString(`","record":`)
	b.Write(e.Record)
	b.WriteString(`,"hash":"`)
	b.WriteString(e.Hash)
	b.WriteString("\"}\n")
	return b.Bytes()
}

// NewEntry builds the entry that follows prev (Genesis and seq 1 for the
// first) for a record already encoded as compact JSON.
func NewEntry(seq int64, prev string, record []byte) (Entry, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, record); err != nil {
		return Entry{}, fmt.Errorf("the record is not JSON: %w", err)
	}
	if bytes.ContainsAny(compact.Bytes(), "\n\r") {
		return Entry{}, errors.New("the record holds a raw line break")
	}
	r := compact.Bytes()
	return Entry{Seq: seq, Prev: prev, Record: r, Hash: hashOf(seq, prev, r)}, nil
}

// Break is the first broken link of a log.
type Break struct {
	// Index is the 0-based index of the broken record; Line its 1-based
	// line number.
	Index int `json:"index"`
	Line  int `json:"line"`
	// Reason says what is wrong.
	Reason string `json:"reason"`
}

// Error implements error.
func (b *Break) Error() string {
	return fmt.Sprintf("chain broken at record %d (line %d): %s", b.Index, b.Line, b.Reason)
}

// Result is what Verify found.
type Result struct {
	// Entries are the lines before the first broken link.
	Entries []Entry `json:"-"`
	// Count is len(Entries).
	Count int `json:"records"`
	// Head is the hash of the last good line, Genesis for an empty log.
	Head string `json:"head"`
	// Broken is the first broken link, nil when the whole log verifies.
	Broken *Break `json:"broken,omitempty"`
}

// Verify recomputes the chain of a log and stops at the first line whose
// JSON, canonical form, sequence number, previous hash or own hash is wrong.
func Verify(data []byte) Result {
	res := Result{Head: Genesis}
	if len(data) == 0 {
		return res
	}
	lines := bytes.SplitAfter(data, []byte{'\n'})
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for i, line := range lines {
		brk := func(format string, args ...any) Result {
			res.Broken = &Break{Index: i, Line: i + 1, Reason: fmt.Sprintf(format, args...)}
			return res
		}
		if !bytes.HasSuffix(line, []byte{'\n'}) {
			return brk("the line has no newline at the end (a truncated write?)")
		}
		var e Entry
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return brk("not a valid log line: %v", err)
		}
		want := int64(i + 1)
		switch {
		case e.Seq != want:
			return brk("sequence number is %d, expected %d", e.Seq, want)
		case e.Prev != res.Head:
			return brk("prev is %s but the previous record's hash is %s", abbrev(e.Prev), abbrev(res.Head))
		}
		if got := hashOf(e.Seq, e.Prev, e.Record); got != e.Hash {
			return brk("hash is %s but the record hashes to %s: the record was changed", abbrev(e.Hash), abbrev(got))
		}
		if !bytes.Equal(encode(e), line) {
			return brk("the line is not in canonical form: bytes outside the record were changed")
		}
		res.Entries = append(res.Entries, e)
		res.Count++
		res.Head = e.Hash
	}
	return res
}

func abbrev(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	if h == "" {
		return `""`
	}
	return h
}

// recordKey reads the identity of an exported audit record: its commit and
// path.
func recordKey(raw []byte) (string, error) {
	var k struct {
		Commit string `json:"commit"`
		Path   string `json:"path"`
	}
	if err := json.Unmarshal(raw, &k); err != nil || k.Commit == "" || k.Path == "" {
		return "", errors.New("record has no commit and path")
	}
	return k.Commit + ":" + k.Path, nil
}

// Lines encodes records as log lines following head (the hash of the last
// line) at sequence number after+1.
func Lines(after int64, head string, records [][]byte) ([]byte, string, error) {
	var out bytes.Buffer
	for i, r := range records {
		e, err := NewEntry(after+int64(i)+1, head, r)
		if err != nil {
			return nil, "", err
		}
		out.Write(encode(e))
		head = e.Hash
	}
	return out.Bytes(), head, nil
}

// describe shortens a key for messages.
func describe(key string) string {
	commit, path, _ := strings.Cut(key, ":")
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return fmt.Sprintf("commit %s, %s", commit, path)
}
