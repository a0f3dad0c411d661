package chain

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/audit"
)

// records makes n distinct records.
func records(n int) []audit.Record {
	out := make([]audit.Record, n)
	for i := range out {
		out[i] = audit.Record{
			Time:        time.Date(2026, 5, 1+i, 9, 0, 0, 0, time.UTC),
			Environment: "prod", Model: "forecaster", Path: "environments/prod/forecaster.yaml",
			Kind: audit.KindPromote, FromVersion: fmt.Sprintf("1.%d.0", i), ToVersion: fmt.Sprintf("1.%d.0", i+1),
			Commit:  fmt.Sprintf("%040x", i+1),
			Subject: fmt.Sprintf("Promote forecaster 1.%d.0 <to> \"prod\" (#%d)", i+1, i+1),
		}
	}
	return out
}

func exportFile(t *testing.T, path string, recs []audit.Record) ExportResult {
	t.Helper()
	res, err := Export(t.Context(), FileSink{Path: path}, recs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// exportConcurrently runs workers exporters side by side, each exporting
// ever longer prefixes of recs, step records more each time, to its own sink
// from newSink. A conflict is an expected answer; any other error fails t.
func exportConcurrently(t *testing.T, workers, step int, recs []audit.Record, newSink func() (Sink, error)) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			sink, err := newSink()
			if err != nil {
				errs <- err
				return
			}
			for n := step; n <= len(recs); n += step {
				if _, err := Export(t.Context(), sink, recs[:n]); err != nil && !errors.Is(err, ErrConflict) {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestExportVerifyRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	all := records(7)
	first := exportFile(t, path, all[:4])
	if first.Existing != 0 || first.Appended != 4 {
		t.Fatalf("first export = %+v, want 4 appended", first)
	}
	again := exportFile(t, path, all[:4])
	if again.Appended != 0 || again.Head != first.Head {
		t.Fatalf("second export = %+v, want nothing appended and head %s", again, first.Head)
	}
	more := exportFile(t, path, all)
	if more.Existing != 4 || more.Appended != 3 {
		t.Fatalf("third export = %+v, want 3 appended after 4", more)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := Verify(data)
	if v.Broken != nil || v.Count != 7 || v.Head != more.Head {
		t.Fatalf("Verify = %+v, %v; want 7 intact records with head %s", v, v.Broken, more.Head)
	}
	for i, e := range v.Entries {
		if e.Seq != int64(i+1) {
			t.Errorf("entry %d has seq %d", i, e.Seq)
		}
		key, err := recordKey(e.Record)
		if err != nil || key != all[i].Key() {
			t.Errorf("entry %d is %q (%v), want %q", i, key, err, all[i].Key())
		}
	}
	if got := exportFile(t, path, all); got.Appended != 0 {
		t.Errorf("re-export appended %d records", got.Appended)
	}
}

// TestVerifyFindsEveryFlippedByte flips each byte of a log in turn and
// checks that Verify reports the record holding it.
func TestVerifyFindsEveryFlippedByte(t *testing.T) {
	data, _, err := Lines(0, Genesis, encodeAll(t, records(4)))
	if err != nil {
		t.Fatal(err)
	}
	lineOf := make([]int, len(data))
	line := 1
	for i, c := range data {
		lineOf[i] = line
		if c == '\n' {
			line++
		}
	}
	for i := range data {
		for _, mask := range []byte{0x01, 0x20} {
			bad := bytes.Clone(data)
			bad[i] ^= mask
			v := Verify(bad)
			if v.Broken == nil {
				t.Fatalf("flipping byte %d (%q) with %#x went unnoticed", i, data[i], mask)
			}
			if v.Broken.Line != lineOf[i] || v.Broken.Index != lineOf[i]-1 || v.Count != lineOf[i]-1 {
				t.Fatalf("flipping byte %d (%q, line %d) reported %+v after %d records", i, data[i], lineOf[i], v.Broken, v.Count)
			}
		}
	}
}

func encodeAll(t *testing.T, recs []audit.Record) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range recs {
		b, err := jsonMarshal(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestVerifyReportsTheFirstBrokenLink(t *testing.T) {
	data, _, err := Lines(0, Genesis, encodeAll(t, records(5)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")[:5]
	join := func(idx ...int) []byte {
		var b strings.Builder
		for _, i := range idx {
			b.WriteString(lines[i])
		}
		return []byte(b.String())
	}
	cases := []struct {
		name  string
		log   []byte
		index int
		want  string
	}{
		{name: "removed record", log: join(0, 1, 3, 4), index: 2, want: "sequence number is 4, expected 3"},
		{name: "swapped records", log: join(0, 2, 1, 3, 4), index: 1, want: "sequence number is 3, expected 2"},
		{name: "truncated write", log: data[:len(data)-10], index: 4, want: "no newline"},
		{name: "duplicated record", log: join(0, 1, 1, 2), index: 2, want: "sequence number is 2, expected 3"},
		{name: "extra whitespace", log: []byte(strings.Replace(string(data), `{"seq":3,`, `{"seq":3, `, 1)), index: 2, want: "canonical form"},
		{name: "unknown field", log: []byte(strings.Replace(string(data), `{"seq":2,`, `{"note":"x","seq":2,`, 1)), index: 1, want: "not a valid log line"},
		{name: "forged first record", log: append([]byte(strings.Replace(lines[0], "1.1.0", "9.9.9", 1)), join(1, 2, 3, 4)...), index: 0, want: "the record was changed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Verify(tc.log)
			if v.Broken == nil {
				t.Fatal("not detected")
			}
			if v.Broken.Index != tc.index || !strings.Contains(v.Broken.Reason, tc.want) {
				t.Errorf("broken = %+v, want index %d mentioning %q", v.Broken, tc.index, tc.want)
			}
		})
	}
}

// A forger who rewrites a record and recomputes every later hash makes a
// chain that verifies on its own, but no longer contains the old head.
func TestRecomputedChainLosesTheAnchor(t *testing.T) {
	recs := records(3)
	_, head, err := Lines(0, Genesis, encodeAll(t, recs))
	if err != nil {
		t.Fatal(err)
	}
	recs[1].ToVersion = "6.6.6"
	forged, forgedHead, err := Lines(0, Genesis, encodeAll(t, recs))
	if err != nil {
		t.Fatal(err)
	}
	v := Verify(forged)
	if v.Broken != nil {
		t.Fatalf("forged chain should verify by itself: %v", v.Broken)
	}
	for _, e := range v.Entries {
		if e.Hash == head {
			t.Fatal("forged chain still contains the original head")
		}
	}
	if forgedHead == head {
		t.Fatal("heads are equal")
	}
}

func TestExportRefuses(t *testing.T) {
	dir := t.TempDir()
	recs := records(4)
	for _, tc := range []struct {
		name    string
		prepare func(path string)
		history []audit.Record
		want    string
		is      error // an error the answer must wrap, if any
	}{
		{name: "a broken log", history: recs, want: "does not verify",
			prepare: func(path string) {
				exportFile(t, path, recs[:2])
				data, _ := os.ReadFile(path)
				_ = os.WriteFile(path, bytes.Replace(data, []byte("1.1.0"), []byte("1.1.1"), 1), 0o644)
			}},
		{name: "a rewritten history", history: append([]audit.Record{recs[1]}, recs[2:]...), want: "rewritten", is: ErrHistoryMismatch,
			prepare: func(path string) { exportFile(t, path, recs[:2]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			tc.prepare(path)
			before, _ := os.ReadFile(path)
			_, err := Export(t.Context(), FileSink{Path: path}, tc.history)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want one wrapping %v", err, tc.is)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("the log was changed")
			}
		})
	}
}

func TestExportBehindTheLogAppendsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	recs := records(4)
	exportFile(t, path, recs)
	got := exportFile(t, path, recs[:3])
	if got.Appended != 0 || got.Existing != 4 || got.Ahead != 1 {
		t.Errorf("export of an older history = %+v, want nothing appended and the log 1 ahead", got)
	}
}

func TestFileSinkRefusesAStaleOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	sink := FileSink{Path: path}
	if err := sink.Append(t.Context(), 0, []byte("a\n")); err != nil {
		t.Fatal(err)
	}
	err := sink.Append(t.Context(), 0, []byte("b\n"))
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "a\n" {
		t.Errorf("log = %q", data)
	}
}

// TestConcurrentExportsDoNotInterleave runs exporters of the same history
// side by side: the log ends with each record exactly once.
func TestConcurrentExportsDoNotInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	recs := records(30)
	exportConcurrently(t, 8, 5, recs, func() (Sink, error) { return FileSink{Path: path}, nil })
	if got := exportFile(t, path, recs); got.Existing != 30 || got.Appended != 0 {
		t.Fatalf("final export = %+v, want 30 existing", got)
	}
	data, _ := os.ReadFile(path)
	if v := Verify(data); v.Broken != nil || v.Count != 30 {
		t.Fatalf("Verify = %d records, %v", v.Count, v.Broken)
	}
}

func TestBlocksEndAtLines(t *testing.T) {
	data := []byte("aaaa\nbb\ncccccc\nd\n")
	got := blocks(data, 8)
	want := []string{"aaaa\nbb\n", "cccccc\n", "d\n"}
	var gs []string
	for _, b := range got {
		gs = append(gs, string(b))
	}
	if diff := cmp.Diff(want, gs); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
	if long := blocks([]byte("0123456789\nx\n"), 4); len(long) != 2 || string(long[0]) != "0123456789\n" {
		t.Errorf("a line longer than a block: %q", long)
	}
}
