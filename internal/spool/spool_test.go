package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// recordCases are the record sizes the tests, the fuzz seeds and the benchmarks use.
var recordCases = []struct {
	name string
	size int
}{
	{"empty", 0},
	{"tiny", 7},
	{"event_1k", 1 << 10},
	{"batch_100k", 100 << 10},
}

// eqBytes compares byte slices directly: cmp's element-wise diff of 100 KB records
// takes seconds.
var eqBytes = cmp.Comparer(bytes.Equal)

// payload is a record of n bytes that names i, so a test can tell records apart.
func payload(i, n int) []byte {
	b := make([]byte, n)
	tag := fmt.Appendf(nil, "%d:", i)
	for j := range b {
		b[j] = tag[j%len(tag)]
	}
	return b
}

func mustOpen(t testing.TB, dir string, o Options) *Spool {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func mustClose(t testing.TB, s *Spool) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func mustAppend(t testing.TB, s *Spool, rec []byte) ID {
	t.Helper()
	id, err := s.Append(rec)
	if err != nil {
		t.Fatalf("Append(%d bytes): %v", len(rec), err)
	}
	return id
}

// readAll reads every unacknowledged record without acknowledging them.
func readAll(t testing.TB, s *Spool) []Record {
	t.Helper()
	recs, err := s.Read(1<<30, 1<<30)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return recs
}

// segFiles returns the segment files in dir and their sizes.
func segFiles(t testing.TB, dir string) (names []string, total int64) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), segExt) {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, e.Name())
			total += fi.Size()
		}
	}
	return names, total
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range recordCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir, Options{MaxBytes: 8 << 20, SegmentBytes: 256 << 10})
			var want []Record
			for i := range 20 {
				rec := payload(i, tc.size)
				id := mustAppend(t, s, rec)
				want = append(want, Record{ID: id, Data: rec})
			}
			for i, r := range want {
				if r.ID != ID(i+1) {
					t.Fatalf("record %d has ID %d, want %d", i, r.ID, i+1)
				}
			}
			got := readAll(t, s)
			if diff := cmp.Diff(want, got, eqBytes); diff != "" {
				t.Fatalf("Read (-want +got):\n%s", diff)
			}
			// Read does not remove.
			if diff := cmp.Diff(want, readAll(t, s), eqBytes); diff != "" {
				t.Fatalf("second Read (-want +got):\n%s", diff)
			}
			if err := s.Ack(want[6].ID); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[7:], readAll(t, s), eqBytes); diff != "" {
				t.Fatalf("Read after Ack(7) (-want +got):\n%s", diff)
			}
			if got := s.Stats().Records; got != 13 {
				t.Errorf("Stats.Records = %d, want 13", got)
			}
			mustClose(t, s)

			s = mustOpen(t, dir, Options{MaxBytes: 8 << 20, SegmentBytes: 256 << 10})
			defer mustClose(t, s)
			if diff := cmp.Diff(want[7:], readAll(t, s), eqBytes); diff != "" {
				t.Fatalf("Read after reopen (-want +got):\n%s", diff)
			}
			if st := s.Stats(); st.Records != 13 || st.Corrupt != 0 || st.Dropped != 0 {
				t.Errorf("Stats after reopen = %+v, want 13 records, nothing corrupt or dropped", st)
			}
			// IDs keep growing after a reopen.
			if id := mustAppend(t, s, []byte("next")); id != 21 {
				t.Errorf("first ID after reopen = %d, want 21", id)
			}
			if err := s.Ack(21); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, s); len(got) != 0 {
				t.Errorf("Read after acking everything returned %d records", len(got))
			}
			if st := s.Stats(); st.Records != 0 {
				t.Errorf("Stats.Records after acking everything = %d", st.Records)
			}
		})
	}
}

func TestReadLimits(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{MaxBytes: 1 << 20, SegmentBytes: 1 << 10})
	defer mustClose(t, s)
	sizes := []int{100, 100, 500, 100, 900, 10, 10}
	for i, n := range sizes {
		mustAppend(t, s, payload(i, n))
	}
	ids := func(recs []Record) []ID {
		var out []ID
		for _, r := range recs {
			out = append(out, r.ID)
		}
		return out
	}
	tests := []struct {
		name              string
		maxRecords, bytes int
		want              []ID
	}{
		{"one_record", 1, 1 << 20, []ID{1}},
		{"records_limit", 3, 1 << 20, []ID{1, 2, 3}},
		{"bytes_limit_exact", 10, 700, []ID{1, 2, 3}},
		{"bytes_limit_short", 10, 699, []ID{1, 2}},
		{"first_larger_than_bytes", 10, 1, []ID{1}},
		{"zero_records", 0, 1 << 20, nil},
		{"across_segments", 10, 1 << 20, []ID{1, 2, 3, 4, 5, 6, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := s.Read(tc.maxRecords, tc.bytes)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ids(recs)); diff != "" {
				t.Errorf("IDs (-want +got):\n%s", diff)
			}
			for _, r := range recs {
				if want := payload(int(r.ID-1), sizes[r.ID-1]); !bytes.Equal(r.Data, want) {
					t.Errorf("record %d: wrong data", r.ID)
				}
			}
		})
	}
	// Acknowledge past a large record that Read returned alone, then within segments.
	if err := s.Ack(3); err != nil {
		t.Fatal(err)
	}
	recs, _ := s.Read(10, 1)
	if diff := cmp.Diff([]ID{4}, ids(recs)); diff != "" {
		t.Errorf("after Ack(3) (-want +got):\n%s", diff)
	}
	if err := s.Ack(6); err != nil { // not where the last Read ended: walks headers
		t.Fatal(err)
	}
	recs, _ = s.Read(10, 1<<20)
	if diff := cmp.Diff([]ID{7}, ids(recs)); diff != "" {
		t.Errorf("after Ack(6) (-want +got):\n%s", diff)
	}
	if err := s.Ack(8); err == nil {
		t.Error("Ack of an ID never appended succeeded")
	}
	if err := s.Ack(2); err != nil { // below the acked ID: nothing to do
		t.Error(err)
	}
}

func TestAckDeletesSegments(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{MaxBytes: 1 << 20, SegmentBytes: 1 << 10})
	defer mustClose(t, s)
	for i := range 40 {
		mustAppend(t, s, payload(i, 200)) // 220-byte frames: 4 per segment
	}
	if names, _ := segFiles(t, dir); len(names) != 10 {
		t.Fatalf("%d segments, want 10: %v", len(names), names)
	}
	recs, err := s.Read(9, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(recs[len(recs)-1].ID); err != nil { // records 1-9: two segments
		t.Fatal(err)
	}
	names, total := segFiles(t, dir)
	if len(names) != 8 || names[0] != segName(9) {
		t.Errorf("after Ack(9): segments %v, want 8 from %s", names, segName(9))
	}
	if st := s.Stats(); st.Segments != 8 || st.Bytes != total || st.Records != 31 {
		t.Errorf("Stats = %+v, want 8 segments, %d bytes, 31 records", st, total)
	}
	if err := s.Ack(40); err != nil {
		t.Fatal(err)
	}
	// The active segment stays for the next records; all others go.
	if names, _ := segFiles(t, dir); len(names) != 1 {
		t.Errorf("after Ack(40): segments %v, want only the active one", names)
	}
	if id := mustAppend(t, s, []byte("x")); id != 41 {
		t.Errorf("ID = %d, want 41", id)
	}
	if recs := readAll(t, s); len(recs) != 1 || recs[0].ID != 41 {
		t.Errorf("Read = %v, want record 41", recs)
	}
}

// writeRecords creates a spool in dir holding records 0…n-1 of size bytes and
// closes it, returning the records.
func writeRecords(t *testing.T, dir string, o Options, n, size int) []Record {
	t.Helper()
	s := mustOpen(t, dir, o)
	var recs []Record
	for i := range n {
		rec := payload(i, size)
		recs = append(recs, Record{ID: mustAppend(t, s, rec), Data: rec})
	}
	mustClose(t, s)
	return recs
}

func TestTornTail(t *testing.T) {
	const size = 50
	frame := hdrSize + size
	// Every cut inside the last record: header, payload, and exactly at its end.
	for cut := 1; cut <= frame; cut++ {
		dir := t.TempDir()
		recs := writeRecords(t, dir, Options{}, 5, size)
		path := filepath.Join(dir, segName(1))
		if err := os.Truncate(path, int64(5*frame-cut)); err != nil {
			t.Fatal(err)
		}
		s := mustOpen(t, dir, Options{})
		wantCorrupt := int64(1)
		if cut == frame {
			wantCorrupt = 0 // the file ends exactly after record 4: nothing torn
		}
		if diff := cmp.Diff(recs[:4], readAll(t, s), eqBytes); diff != "" {
			t.Fatalf("cut %d: Read (-want +got):\n%s", cut, diff)
		}
		if st := s.Stats(); st.Corrupt != wantCorrupt || st.Records != 4 {
			t.Fatalf("cut %d: Stats = %+v, want 4 records, %d corrupt", cut, st, wantCorrupt)
		}
		if fi, _ := os.Stat(path); fi.Size() != int64(4*frame) {
			t.Fatalf("cut %d: segment is %d bytes, want the torn tail truncated to %d", cut, fi.Size(), 4*frame)
		}
		// It keeps working, and the tail is not counted again.
		id := mustAppend(t, s, []byte("after"))
		if id != 5 {
			t.Fatalf("cut %d: ID after recovery = %d, want 5", cut, id)
		}
		mustClose(t, s)
		s = mustOpen(t, dir, Options{})
		got := readAll(t, s)
		if st := s.Stats(); st.Corrupt != 0 || len(got) != 5 || string(got[4].Data) != "after" {
			t.Fatalf("cut %d: second reopen: %d records, Stats %+v", cut, len(got), st)
		}
		mustClose(t, s)
	}
}

func TestCorruption(t *testing.T) {
	const size = 100
	frame := int64(hdrSize + size)
	o := Options{MaxBytes: 1 << 20, SegmentBytes: 4 * frame} // 4 records per segment
	tests := []struct {
		name    string
		seg     ID    // segment to damage
		off     int64 // offset in it
		data    []byte
		appendZ bool // append data instead of overwriting
		lost    []ID // records no longer readable
		corrupt int64
		next    ID // ID of the next record
	}{
		{"payload_byte_sealed", 1, frame + hdrSize + 10, []byte{0xff}, false, []ID{2}, 1, 12},
		{"payload_byte_last", 9, frame + hdrSize + 10, []byte{0xff}, false, []ID{10}, 1, 12},
		{"length_byte_sealed", 5, frame, []byte{0x7f}, false, []ID{6}, 1, 12},
		{"id_byte_sealed", 5, frame + 4, []byte{0x42}, false, []ID{6}, 1, 12},
		{"header_crc_last", 9, 2*frame + 17, []byte{0x01}, false, []ID{11}, 1, 11},
		{"two_headers_sealed", 1, frame + 1, bytes.Repeat([]byte{0xaa}, int(frame)), false, []ID{2, 3}, 2, 12},
		{"last_record_of_sealed", 1, 3*frame + hdrSize, []byte{1, 2, 3}, false, []ID{4}, 1, 12},
		{"last_record_header_of_sealed", 1, 3 * frame, []byte{1, 2, 3}, false, []ID{4}, 1, 12},
		{"first_record_of_segment", 5, 0, []byte{9}, false, []ID{5}, 1, 12},
		{"zeros_after_last", 9, 3 * frame, make([]byte, 4096), true, nil, 1, 12},
		{"whole_segment_zeroed", 5, 0, make([]byte, 4*frame), false, []ID{5, 6, 7, 8}, 4, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			recs := writeRecords(t, dir, o, 11, size) // segments 1, 5 and 9 (3 records)
			path := filepath.Join(dir, segName(tc.seg))
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tc.appendZ {
				_, err = f.Seek(0, 2)
				if err == nil {
					_, err = f.Write(tc.data)
				}
			} else {
				_, err = f.WriteAt(tc.data, tc.off)
			}
			if err != nil {
				t.Fatal(err)
			}
			f.Close()

			s := mustOpen(t, dir, o)
			var want []Record
			for _, r := range recs {
				if !slices.Contains(tc.lost, r.ID) {
					want = append(want, r)
				}
			}
			if diff := cmp.Diff(want, readAll(t, s), eqBytes); diff != "" {
				t.Errorf("Read (-want +got):\n%s", diff)
			}
			if st := s.Stats(); st.Corrupt != tc.corrupt || st.Records != int64(len(want)) {
				t.Errorf("Stats = %+v, want %d records, %d corrupt", st, len(want), tc.corrupt)
			}
			// Still works: append, acknowledge everything piecewise, reopen.
			id := mustAppend(t, s, []byte("more"))
			if id != tc.next {
				t.Errorf("next ID = %d, want %d", id, tc.next)
			}
			for _, r := range want {
				if err := s.Ack(r.ID); err != nil {
					t.Fatal(err)
				}
			}
			got := readAll(t, s)
			if len(got) != 1 || got[0].ID != tc.next {
				t.Errorf("after acking all but the new record: %v", got)
			}
			mustClose(t, s)
			s = mustOpen(t, dir, o)
			defer mustClose(t, s)
			got = readAll(t, s)
			if len(got) != 1 || got[0].ID != tc.next {
				t.Errorf("after reopen: %v", got)
			}
		})
	}
}

// TestCorruptionAfterOpen damages records the spool has already checked.
func TestCorruptionAfterOpen(t *testing.T) {
	dir := t.TempDir()
	o := Options{MaxBytes: 1 << 20, SegmentBytes: 4 << 10}
	recs := writeRecords(t, dir, o, 6, 100)
	s := mustOpen(t, dir, o)
	defer mustClose(t, s)
	f, err := os.OpenFile(filepath.Join(dir, segName(1)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	frame := int64(hdrSize + 100)
	f.WriteAt([]byte{0xff}, 1*frame+hdrSize+1) // payload of record 2
	f.WriteAt([]byte{0xff}, 4*frame+3)         // header of record 5
	f.Close()
	want := []Record{recs[0], recs[2], recs[3]}
	for range 2 { // counted once
		if diff := cmp.Diff(want, readAll(t, s), eqBytes); diff != "" {
			t.Fatalf("Read (-want +got):\n%s", diff)
		}
		if st := s.Stats(); st.Corrupt != 3 || st.Records != 3 {
			t.Fatalf("Stats = %+v, want 3 records, 3 corrupt (2, and 5-6)", st)
		}
	}
	if id := mustAppend(t, s, []byte("new")); id != 7 {
		t.Errorf("ID = %d, want 7", id)
	}
	if err := s.Ack(4); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, s)
	if len(got) != 1 || got[0].ID != 7 {
		t.Errorf("Read after Ack(4) = %v, want record 7", got)
	}
}

func TestDamagedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	recs := writeRecords(t, dir, Options{}, 5, 10)
	s := mustOpen(t, dir, Options{})
	if err := s.Ack(3); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)
	if err := os.WriteFile(filepath.Join(dir, ackName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, Options{})
	defer mustClose(t, s)
	// Nothing acknowledged: delivered again rather than lost.
	if diff := cmp.Diff(recs, readAll(t, s), eqBytes); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
}

// TestCheckpointAhead is a power loss that kept the checkpoint but lost records:
// new records must get IDs above it, or they would count as acknowledged.
func TestCheckpointAhead(t *testing.T) {
	dir := t.TempDir()
	writeRecords(t, dir, Options{}, 5, 10)
	s := mustOpen(t, dir, Options{})
	if err := s.Ack(5); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)
	if err := os.Remove(filepath.Join(dir, segName(1))); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, Options{})
	defer mustClose(t, s)
	if id := mustAppend(t, s, []byte("x")); id != 6 {
		t.Errorf("ID = %d, want 6", id)
	}
	if got := readAll(t, s); len(got) != 1 || got[0].ID != 6 {
		t.Errorf("Read = %v, want record 6", got)
	}
}

func TestBound(t *testing.T) {
	const (
		maxBytes = 10 << 10
		segBytes = 2 << 10
		size     = 300 // 320-byte frames, 6 per segment
	)
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{MaxBytes: maxBytes, SegmentBytes: segBytes})
	const n = 200
	for i := range n {
		mustAppend(t, s, payload(i, size))
		if _, total := segFiles(t, dir); total > maxBytes {
			t.Fatalf("after record %d the segments hold %d bytes > MaxBytes %d", i, total, maxBytes)
		}
		if st := s.Stats(); st.Bytes > maxBytes {
			t.Fatalf("Stats.Bytes = %d > %d", st.Bytes, maxBytes)
		}
	}
	got := readAll(t, s)
	st := s.Stats()
	if st.Dropped+int64(len(got)) != n || st.Dropped == 0 {
		t.Errorf("%d records readable + %d dropped, want %d in all, some dropped", len(got), st.Dropped, n)
	}
	if st.DroppedBytes != st.Dropped*(hdrSize+size) {
		t.Errorf("DroppedBytes = %d, want %d", st.DroppedBytes, st.Dropped*(hdrSize+size))
	}
	// The readable records are the newest, in order: the oldest were dropped.
	for i, r := range got {
		if want := ID(n - len(got) + i + 1); r.ID != want || !bytes.Equal(r.Data, payload(int(want-1), size)) {
			t.Fatalf("record %d has ID %d, want %d", i, r.ID, want)
		}
	}
	// Dropping a partly acknowledged segment counts only its unacknowledged records.
	if err := s.Ack(got[2].ID); err != nil {
		t.Fatal(err)
	}
	before := s.Stats()
	for i := range 12 {
		mustAppend(t, s, payload(n+i, size))
	}
	after := s.Stats()
	if after.Records > before.Records+12 || after.Dropped-before.Dropped != before.Records+12-after.Records {
		t.Errorf("before %+v, after %+v: drops not counted as unacknowledged records lost", before, after)
	}
	mustClose(t, s)

	// A smaller bound on reopen drops the oldest at once.
	s = mustOpen(t, dir, Options{MaxBytes: 4 << 10, SegmentBytes: segBytes})
	defer mustClose(t, s)
	if _, total := segFiles(t, dir); total > 4<<10 {
		t.Errorf("after reopening with a smaller bound the segments hold %d bytes", total)
	}
	if st := s.Stats(); st.Dropped == 0 {
		t.Errorf("Stats = %+v, want drops", st)
	}
}

// TestBoundSingleSegment uses a bound that holds less than two segments, so the active
// segment itself is dropped.
func TestBoundSingleSegment(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{MaxBytes: 1000, SegmentBytes: 1000})
	defer mustClose(t, s)
	for i := range 50 {
		mustAppend(t, s, payload(i, 180)) // 200-byte frames
		if _, total := segFiles(t, dir); total > 1000 {
			t.Fatalf("segments hold %d bytes", total)
		}
	}
	got := readAll(t, s)
	if len(got) == 0 || got[len(got)-1].ID != 50 {
		t.Fatalf("Read = %d records, want the newest ones ending with 50", len(got))
	}
	if st := s.Stats(); st.Dropped+int64(len(got)) != 50 {
		t.Errorf("Stats = %+v with %d readable", st, len(got))
	}
}

func TestTooLarge(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{MaxBytes: 4 << 10, SegmentBytes: 1 << 10})
	defer mustClose(t, s)
	if _, err := s.Append(make([]byte, 1<<10-hdrSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Append of a record larger than a segment: %v, want ErrTooLarge", err)
	}
	if _, err := s.Append(make([]byte, 1<<10-hdrSize)); err != nil {
		t.Errorf("Append of a record that fills a segment: %v", err)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want Options // zero: an error
	}{
		{"zero", Options{}, Options{MaxBytes: 256 << 20, SegmentBytes: 8 << 20, SyncEvery: 100 * time.Millisecond}},
		{"small_max", Options{MaxBytes: 1 << 20}, Options{MaxBytes: 1 << 20, SegmentBytes: 128 << 10, SyncEvery: 100 * time.Millisecond}},
		{"tiny_max", Options{MaxBytes: 1000}, Options{MaxBytes: 1000, SegmentBytes: 1000, SyncEvery: 100 * time.Millisecond}},
		{"segment_over_max", Options{MaxBytes: 1000, SegmentBytes: 2000}, Options{}},
		{"segment_under_header", Options{SegmentBytes: hdrSize}, Options{}},
		{"negative", Options{MaxBytes: -1}, Options{}},
		{"bad_policy", Options{Sync: 7}, Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.o.withDefaults()
			if tc.want == (Options{}) {
				if err == nil {
					t.Errorf("withDefaults(%+v) = %+v, want an error", tc.o, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("withDefaults(%+v) = %+v, %v; want %+v", tc.o, got, err, tc.want)
			}
		})
	}
}

func TestSyncPolicyText(t *testing.T) {
	for _, p := range []SyncPolicy{SyncInterval, SyncAlways, SyncNever} {
		b, err := p.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var q SyncPolicy = 9
		if err := q.UnmarshalText(b); err != nil || q != p || p.String() != string(b) {
			t.Errorf("%v → %q → %v, %v", p, b, q, err)
		}
	}
	var p SyncPolicy = SyncNever
	if err := p.UnmarshalText(nil); err != nil || p != SyncInterval {
		t.Errorf("empty text → %v, %v; want interval", p, err)
	}
	if err := p.UnmarshalText([]byte("sometimes")); err == nil {
		t.Error("unknown policy accepted")
	}
	if _, err := SyncPolicy(5).MarshalText(); err == nil {
		t.Error("unknown policy marshalled")
	}
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("second Open of an open spool succeeded")
	}
	mustClose(t, s)
	s = mustOpen(t, dir, Options{})
	mustClose(t, s)
}

func TestClosed(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{})
	mustAppend(t, s, []byte("x"))
	mustClose(t, s)
	if _, err := s.Append([]byte("y")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if _, err := s.Read(1, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if err := s.Ack(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Ack after Close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

func TestReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions; TestWriteFailure injects the errors instead")
	}
	dir := t.TempDir()
	recs := writeRecords(t, dir, Options{SegmentBytes: 4 << 10}, 3, 10)
	s := mustOpen(t, dir, Options{SegmentBytes: 4 << 10})
	defer mustClose(t, s)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if err := s.Ack(1); err == nil {
		t.Error("Ack in a read-only directory succeeded")
	}
	for range 500 { // fills the segment: the next one cannot be created
		if _, err := s.Append(make([]byte, 100)); err != nil {
			break
		}
	}
	if _, err := s.Append(make([]byte, 100)); err == nil {
		t.Error("Append needing a new segment in a read-only directory succeeded")
	}
	got := readAll(t, s)
	if diff := cmp.Diff(recs, got[:3], eqBytes); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
}

// faultyFS opens real files whose writes, truncations or syncs fail on demand.
type faultyFS struct {
	failCreate   atomic.Bool  // creating a file fails
	failWriteAt  atomic.Int64 // if > 0, a write fails after writing this many bytes
	failTruncate atomic.Bool
	failSync     atomic.Bool
	syncs        atomic.Int64
}

func (fs *faultyFS) open(name string, flag int, perm os.FileMode) (file, error) {
	if fs.failCreate.Load() && flag&os.O_CREATE != 0 {
		return nil, errors.New("injected create failure")
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{f, fs}, nil
}

type faultyFile struct {
	*os.File
	fs *faultyFS
}

func (f *faultyFile) WriteAt(b []byte, off int64) (int, error) {
	if n := f.fs.failWriteAt.Load(); n > 0 {
		n = min(n, int64(len(b)))
		w, _ := f.File.WriteAt(b[:n], off)
		return w, errors.New("injected write failure: no space left on device")
	}
	return f.File.WriteAt(b, off)
}

func (f *faultyFile) Truncate(size int64) error {
	if f.fs.failTruncate.Load() {
		return errors.New("injected truncate failure")
	}
	return f.File.Truncate(size)
}

func (f *faultyFile) Sync() error {
	f.fs.syncs.Add(1)
	if f.fs.failSync.Load() {
		return errors.New("injected sync failure")
	}
	return f.File.Sync()
}

func TestWriteFailure(t *testing.T) {
	tests := []struct {
		name   string
		inject func(*faultyFS)
	}{
		{"partial_write", func(fs *faultyFS) { fs.failWriteAt.Store(30) }},
		{"partial_write_and_truncate", func(fs *faultyFS) { fs.failWriteAt.Store(30); fs.failTruncate.Store(true) }},
		{"one_byte_written_truncate_fails", func(fs *faultyFS) { fs.failWriteAt.Store(1); fs.failTruncate.Store(true) }},
		{"sync", func(fs *faultyFS) { fs.failSync.Store(true) }},
		{"new_segment", func(fs *faultyFS) { fs.failCreate.Store(true) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fs := &faultyFS{}
			o := Options{Sync: SyncAlways, MaxBytes: 64 << 10, SegmentBytes: 1 << 10}
			s, err := open(dir, o, fs.open)
			if err != nil {
				t.Fatal(err)
			}
			var want []Record
			for i := range 4 { // 4 of the 8 120-byte frames a segment holds
				rec := payload(i, 100)
				want = append(want, Record{ID: mustAppend(t, s, rec), Data: rec})
			}
			if tc.name == "new_segment" {
				for i := 4; i < 8; i++ { // fill the segment: the next Append opens a new one
					rec := payload(i, 100)
					want = append(want, Record{ID: mustAppend(t, s, rec), Data: rec})
				}
			}
			before := s.Stats()
			tc.inject(fs)
			for range 3 {
				if _, err := s.Append(payload(99, 100)); err == nil {
					t.Fatal("Append succeeded despite the injected failure")
				}
			}
			if err := s.Ack(want[0].ID); tc.name == "new_segment" && err == nil {
				t.Error("Ack succeeded though the checkpoint cannot be written")
			}
			if diff := cmp.Diff(want, readAll(t, s), eqBytes); diff != "" {
				t.Fatalf("Read after failed appends (-want +got):\n%s", diff)
			}
			if after := s.Stats(); after.Records != before.Records {
				t.Errorf("Stats.Records %d → %d after failed appends", before.Records, after.Records)
			}
			*fs = faultyFS{}
			for i := range 10 {
				rec := payload(100+i, 100)
				want = append(want, Record{ID: mustAppend(t, s, rec), Data: rec})
			}
			for i, r := range want {
				if r.ID != ID(i+1) {
					t.Fatalf("record %d has ID %d: failed appends must not use IDs", i, r.ID)
				}
			}
			if diff := cmp.Diff(want, readAll(t, s), eqBytes); diff != "" {
				t.Fatalf("Read after recovering (-want +got):\n%s", diff)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = mustOpen(t, dir, o)
			defer mustClose(t, s)
			if diff := cmp.Diff(want, readAll(t, s), eqBytes); diff != "" {
				t.Fatalf("Read after reopen (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSyncInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &faultyFS{}
		s, err := open(t.TempDir(), Options{SyncEvery: time.Second}, fs.open)
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, s, []byte("a"))
		if n := fs.syncs.Load(); n != 0 {
			t.Errorf("%d syncs before the interval", n)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := fs.syncs.Load(); n != 1 {
			t.Errorf("%d syncs after one interval, want 1", n)
		}
		time.Sleep(5 * time.Second) // nothing written: nothing to sync
		synctest.Wait()
		if n := fs.syncs.Load(); n != 1 {
			t.Errorf("%d syncs after idle intervals, want 1", n)
		}
		fs.failSync.Store(true)
		mustAppend(t, s, []byte("b"))
		time.Sleep(time.Second)
		synctest.Wait()
		if st := s.Stats(); st.SyncErrors != 1 {
			t.Errorf("Stats.SyncErrors = %d, want 1", st.SyncErrors)
		}
		if err := s.Close(); err == nil {
			t.Error("Close returned nil though its fsync failed")
		}
		// synctest.Test fails if syncLoop outlives Close.
	})
}

func TestSyncAlways(t *testing.T) {
	fs := &faultyFS{}
	s, err := open(t.TempDir(), Options{Sync: SyncAlways}, fs.open)
	if err != nil {
		t.Fatal(err)
	}
	defer mustClose(t, s)
	for i := range 5 {
		mustAppend(t, s, []byte("x"))
		if n := fs.syncs.Load(); n != int64(i+1) {
			t.Fatalf("%d syncs after %d appends", n, i+1)
		}
	}
	if err := s.Ack(5); err != nil {
		t.Fatal(err)
	}
	if n := fs.syncs.Load(); n != 6 {
		t.Errorf("%d syncs after Ack, want 6 (the checkpoint)", n)
	}
}

// TestConcurrent has one goroutine appending while another reads and acknowledges:
// every record arrives once, in order.
func TestConcurrent(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{MaxBytes: 64 << 20, SegmentBytes: 64 << 10})
	defer mustClose(t, s)
	const n = 5000
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			if _, err := s.Append(payload(i, 10+i%700)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	next := 0
	for deadline := time.Now().Add(time.Minute); next < n && time.Now().Before(deadline); {
		recs, err := s.Read(1+next%50, 16<<10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.ID != ID(next+1) || !bytes.Equal(r.Data, payload(next, 10+next%700)) {
				t.Fatalf("got record %d, want %d", r.ID, next+1)
			}
			next++
		}
		if len(recs) > 0 {
			if err := s.Ack(recs[len(recs)-1].ID); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.Stats()
	}
	wg.Wait()
	if next != n {
		t.Fatalf("received %d records, want %d", next, n)
	}
	if st := s.Stats(); st.Records != 0 || st.Segments != 1 {
		t.Errorf("Stats = %+v, want nothing left but the active segment", st)
	}
}

func TestAppendAllocs(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{Sync: SyncNever, SegmentBytes: 64 << 20})
	defer mustClose(t, s)
	rec := make([]byte, 1<<10)
	mustAppend(t, s, rec)
	if n := vigiltest.AllocsPerRun(1000, func() { s.Append(rec) }); n != 0 {
		t.Errorf("Append allocates %v times per record, want 0", n)
	}
}
