package spool

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// frameOf is the bytes of a record as Append writes them.
func frameOf(id ID, data []byte) []byte {
	b := make([]byte, hdrSize+len(data))
	putHeader(b, id, data)
	copy(b[hdrSize:], data)
	return b
}

// FuzzOpen recovers a spool from arbitrary bytes: a first segment, an optional second
// one, and a checkpoint. Open must not fail or panic, and every record Read returns
// must be one whose header and payload check, framed exactly as found in the input.
func FuzzOpen(f *testing.F) {
	var valid []byte
	id := ID(1)
	for _, tc := range recordCases {
		for i := range 3 {
			valid = append(valid, frameOf(id, payload(i, min(tc.size, 3000)))...)
			id++
		}
	}
	second := frameOf(id, []byte("second segment"))
	flipped := bytes.Clone(valid)
	flipped[hdrSize+2] ^= 1
	header := bytes.Clone(valid)
	header[4] ^= 0x80
	f.Add(valid, []byte(nil), []byte(nil), uint16(id-2))
	f.Add(valid[:len(valid)-7], second, encodeAck(3), uint16(id-2))
	f.Add(flipped, second, encodeAck(1), uint16(id-2))
	f.Add(header, []byte(nil), []byte("junk"), uint16(0))
	f.Add(append(bytes.Clone(valid), make([]byte, 100)...), second, encodeAck(id), uint16(id-2))
	f.Add([]byte{}, []byte{}, []byte{}, uint16(0))

	f.Fuzz(func(t *testing.T, seg1, seg2, ack []byte, base2 uint16) {
		dir := t.TempDir()
		write := func(name string, b []byte) {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		write(segName(1), seg1)
		if len(seg2) > 0 {
			write(segName(ID(base2)+2), seg2)
		}
		if len(ack) > 0 {
			write(ackName, ack)
		}
		acked, _ := decodeAck(ack)
		o := Options{Sync: SyncNever, MaxBytes: 1 << 30, SegmentBytes: 1 << 20}
		s, err := Open(dir, o)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		recs := readAll(t, s)
		for i, r := range recs {
			fr := frameOf(r.ID, r.Data)
			if !bytes.Contains(seg1, fr) && !bytes.Contains(seg2, fr) {
				t.Fatalf("record %d (ID %d, %d bytes) is not a valid frame of the input", i, r.ID, len(r.Data))
			}
			if r.ID <= acked {
				t.Fatalf("record %d has ID %d, acknowledged up to %d", i, r.ID, acked)
			}
			if i > 0 && r.ID <= recs[i-1].ID {
				t.Fatalf("IDs out of order: %d after %d", r.ID, recs[i-1].ID)
			}
		}
		if st := s.Stats(); st.Records != int64(len(recs)) || st.Bytes > int64(len(seg1)+len(seg2)) {
			t.Fatalf("Stats = %+v with %d records read from %d bytes", st, len(recs), len(seg1)+len(seg2))
		}
		// The recovered spool works and recovers to the same records.
		newID, err := s.Append([]byte("new"))
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if newID <= acked || len(recs) > 0 && newID <= recs[len(recs)-1].ID {
			t.Fatalf("new record has ID %d after %d acknowledged and %d records", newID, acked, len(recs))
		}
		mustClose(t, s)
		s = mustOpen(t, dir, o)
		defer mustClose(t, s)
		again := readAll(t, s)
		if len(again) != len(recs)+1 || again[len(recs)].ID != newID || string(again[len(recs)].Data) != "new" {
			t.Fatalf("after reopen: %d records, want the %d before and the new one", len(again), len(recs))
		}
		for i, r := range recs {
			if again[i].ID != r.ID || !bytes.Equal(again[i].Data, r.Data) {
				t.Fatalf("after reopen record %d is %d, was %d", i, again[i].ID, r.ID)
			}
		}
	})
}
