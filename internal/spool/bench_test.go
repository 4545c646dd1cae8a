package spool

import (
	"testing"
)

// BenchmarkAppend appends records of each size with the default options (SyncInterval
// every 100 ms, 256 MiB in 8 MiB segments, dropping the oldest once full).
func BenchmarkAppend(b *testing.B) {
	for _, tc := range recordCases {
		b.Run(tc.name, func(b *testing.B) {
			s := mustOpen(b, b.TempDir(), Options{})
			defer mustClose(b, s)
			rec := payload(1, tc.size)
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Append(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendSyncAlways is the price of an fsync per record.
func BenchmarkAppendSyncAlways(b *testing.B) {
	s := mustOpen(b, b.TempDir(), Options{Sync: SyncAlways})
	defer mustClose(b, s)
	rec := payload(1, 100<<10)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAck delivers records of each size: Read up to 1 MiB, Ack, repeat.
func BenchmarkReadAck(b *testing.B) {
	for _, tc := range recordCases {
		b.Run(tc.name, func(b *testing.B) {
			s := mustOpen(b, b.TempDir(), Options{})
			defer mustClose(b, s)
			rec := payload(1, tc.size)
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				if s.Stats().Records == 0 {
					for range 1000 {
						if _, err := s.Append(rec); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StartTimer()
				recs, err := s.Read(1, 1<<20)
				if err != nil || len(recs) != 1 {
					b.Fatal(len(recs), err)
				}
				if err := s.Ack(recs[0].ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
