// Package spool is a bounded, crash-safe, checksummed first-in first-out queue of
// records on disk. The telemetry agent writes each batch it could not deliver yet to a
// spool, so that events survive a Studio outage or a restart of the process.
//
// # Use
//
// [Open] recovers a directory; [Spool.Append] adds a record and returns its [ID];
// [Spool.Read] returns the oldest records not acknowledged yet, without removing them;
// [Spool.Ack] acknowledges every record up to an ID once they are delivered. Delivery is
// at-least-once: a record is returned by Read until it is acknowledged, also after a
// crash, so a crash between delivering a record and acknowledging it delivers it again.
// The agent's idempotency keys let Studio drop the duplicate.
//
// # On disk
//
// A spool directory holds segment files, an ack checkpoint and a lock file:
//
//	00000000000000000001.seg   records 1…k: 20-digit decimal ID of the first record
//	00000000000000000417.seg   records k+1…, the last segment is the one appended to
//	ack                        "VSA1", ID (uint64 LE), CRC-32C of the previous 12 bytes
//	lock                       empty; held with flock(2) while a Spool is open
//
// A segment is a sequence of records, each a 20-byte header followed by its payload,
// all integers little-endian:
//
//	offset 0   uint32  payload length
//	offset 4   uint64  record ID: 1, 2, 3, … with no gaps
//	offset 12  uint32  CRC-32C (Castagnoli) of the payload
//	offset 16  uint32  CRC-32C of bytes 0–15 of this header
//	offset 20  payload
//
// A new segment starts when the next record would take the current one past
// [Options.SegmentBytes]. The checkpoint holds the highest acknowledged ID and is
// replaced by writing ack.tmp and renaming it, so it is always the old or the new one.
// Segments whose records are all acknowledged are deleted.
//
// # Recovery
//
// Open reads every segment and checks both checksums of every record. A header that
// does not check (or whose ID or length is impossible) starts an unreadable run that
// ends at the next valid header, found byte by byte; a record whose payload does not
// check is skipped. Both are counted in [Stats].Corrupt, using the gap in IDs where it
// is known. Bytes after the last valid record of the last segment are a torn write and
// are truncated. A missing or damaged checkpoint counts as nothing acknowledged: its
// records are delivered again, never lost.
//
// # Guarantees
//
// When Append returns nil the record has been written to the file with one pwrite(2):
// it survives the death of the process (SIGKILL, a panic, the OOM killer) whatever the
// [SyncPolicy], because the kernel's page cache outlives the process. Surviving a power
// loss or a kernel crash needs an fsync: [SyncAlways] does one before Append returns,
// [SyncInterval] (the default) within [Options.SyncEvery] of it, [SyncNever] leaves it
// to the kernel's writeback. After a power loss without that fsync, the newest records
// may be missing or torn; recovery counts them and keeps everything before them. When
// Ack returns nil the checkpoint survives the death of the process; a power loss may
// roll it back, which delivers records again. If Append returns an error, the record
// is not in the spool and the spool is as it was.
//
// # Bounds
//
// The segment files never hold more than [Options.MaxBytes] bytes together (their
// sizes as stat(2) reports them; the file system rounds each up to its block size).
// The only other files are the 16-byte checkpoint, its 16-byte replacement while it
// is written, and the empty lock file. To make room, Append deletes whole segments,
// oldest first, and counts their unacknowledged records in [Stats].Dropped, so one
// drop loses at most [Options.SegmentBytes]. A record larger than a segment is
// refused with [ErrTooLarge]. Open keeps at most one buffer of the size of one segment.
package spool

import (
	"cmp"
	"encoding"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Defaults for the zero fields of [Options].
const (
	DefaultMaxBytes     = 256 << 20
	DefaultSegmentBytes = 8 << 20
	DefaultSyncEvery    = 100 * time.Millisecond
)

// maxReadAhead bounds the buffer Read fills at once when its limits are large.
const maxReadAhead = 1 << 20

// Errors returned by a Spool.
var (
	ErrClosed   = errors.New("spool: closed")
	ErrTooLarge = errors.New("spool: record larger than a segment")
)

// Options configure a spool. The zero value is a 256 MiB spool of 8 MiB segments
// synced every 100 ms.
type Options struct {
	// MaxBytes bounds the total size of the segment files. Past it, Append deletes
	// the oldest segments and counts their records as dropped. Zero means
	// DefaultMaxBytes.
	MaxBytes int64 `yaml:"max_bytes"`

	// SegmentBytes is the size a segment grows to before a new one is started; it is
	// also the largest record (with its 20-byte header) and what one drop loses at
	// most. Zero means DefaultSegmentBytes, or MaxBytes/8 (at least 4 KiB, at most
	// MaxBytes) if that is smaller.
	SegmentBytes int64 `yaml:"segment_bytes"`

	// Sync says when written records are fsynced; see the package doc for what
	// survives what. The zero value is SyncInterval.
	Sync SyncPolicy `yaml:"sync"`

	// SyncEvery is the period of SyncInterval. Zero means DefaultSyncEvery.
	SyncEvery time.Duration `yaml:"sync_every"`
}

// SyncPolicy says when a spool fsyncs. Its text form is "interval", "always" or
// "never"; the zero value is SyncInterval.
type SyncPolicy int

// Sync policies.
const (
	// SyncInterval fsyncs in the background every Options.SyncEvery if anything was
	// written, and on Close.
	SyncInterval SyncPolicy = iota
	// SyncAlways fsyncs every record before Append returns and the checkpoint and the
	// directory before Ack returns. It costs a disk flush per call.
	SyncAlways
	// SyncNever leaves flushing to the kernel, also on Close.
	SyncNever
)

var syncNames = [...]string{SyncInterval: "interval", SyncAlways: "always", SyncNever: "never"}

// String returns the text form of p.
func (p SyncPolicy) String() string {
	if p >= 0 && int(p) < len(syncNames) {
		return syncNames[p]
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// MarshalText implements [encoding.TextMarshaler].
func (p SyncPolicy) MarshalText() ([]byte, error) {
	if p < 0 || int(p) >= len(syncNames) {
		return nil, fmt.Errorf("spool: unknown sync policy %d", int(p))
	}
	return []byte(syncNames[p]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]; the empty string is SyncInterval.
func (p *SyncPolicy) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = SyncInterval
		return nil
	}
	for i, name := range syncNames {
		if string(b) == name {
			*p = SyncPolicy(i)
			return nil
		}
	}
	return fmt.Errorf("spool: unknown sync policy %q (want interval, always or never)", b)
}

var (
	_ encoding.TextMarshaler   = SyncPolicy(0)
	_ encoding.TextUnmarshaler = (*SyncPolicy)(nil)
)

// withDefaults fills in zero fields and checks o.
func (o Options) withDefaults() (Options, error) {
	if o.MaxBytes < 0 || o.SegmentBytes < 0 || o.SyncEvery < 0 {
		return o, errors.New("spool: negative option")
	}
	if o.Sync < 0 || int(o.Sync) >= len(syncNames) {
		return o, fmt.Errorf("spool: unknown sync policy %d", int(o.Sync))
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = min(DefaultSegmentBytes, max(o.MaxBytes/8, 4<<10), o.MaxBytes)
	}
	if o.SyncEvery == 0 {
		o.SyncEvery = DefaultSyncEvery
	}
	if o.SegmentBytes > o.MaxBytes {
		return o, fmt.Errorf("spool: SegmentBytes %d > MaxBytes %d", o.SegmentBytes, o.MaxBytes)
	}
	if o.SegmentBytes <= hdrSize || o.SegmentBytes > math.MaxUint32 {
		return o, fmt.Errorf("spool: SegmentBytes %d out of range (%d, 4 GiB)", o.SegmentBytes, hdrSize)
	}
	return o, nil
}

// ID identifies a record: 1 for the first record of a spool, then one more for each
// record appended, also across restarts, except that the IDs of records lost in a torn
// tail are given again. An ID is never below an acknowledged one. The zero ID is no
// record.
type ID uint64

// Record is a record returned by Read.
type Record struct {
	ID   ID
	Data []byte // owned by the caller
}

// Stats describe a spool. Counters count since Open.
type Stats struct {
	Records      int64 // records not acknowledged yet
	Bytes        int64 // size of the segment files, at most Options.MaxBytes
	Segments     int   // number of segment files
	Dropped      int64 // unacknowledged records deleted to stay within MaxBytes
	DroppedBytes int64 // their bytes, headers included
	Corrupt      int64 // records lost to damaged or torn data (at least one per damaged run)
	SyncErrors   int64 // background fsyncs that failed
}

// file is what a Spool needs of an *os.File; tests inject failing ones.
type file interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Sync() error
	Close() error
}

// openFunc opens a file like os.OpenFile.
type openFunc func(name string, flag int, perm os.FileMode) (file, error)

func osOpen(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// segment is one segment file.
type segment struct {
	base  ID     // ID in the file name
	last  ID     // ID of the last valid record, 0 if none
	n     int    // valid records
	size  int64  // file size; the next record goes here
	holes []hole // unreadable ranges, in order
	f     file   // open handle, nil if not open; read-write for the active segment
	gone  bool   // deleted
}

// holeAt returns the end of the hole starting at off, if there is one.
func (g *segment) holeAt(off int64) (int64, bool) {
	for _, h := range g.holes {
		if h.start == off {
			return h.end, true
		}
	}
	return 0, false
}

// addHole records an unreadable range.
func (g *segment) addHole(h hole) {
	i, _ := slices.BinarySearchFunc(g.holes, h.start, func(a hole, off int64) int { return cmp.Compare(a.start, off) })
	g.holes = slices.Insert(g.holes, i, h)
}

// cursor is a position in a segment: a byte offset and the number of valid records
// before it.
type cursor struct {
	off int64
	idx int
}

// Spool is an on-disk FIFO of records; create one with [Open]. It is safe for
// concurrent use. A directory is used by one Spool at a time, also across processes.
type Spool struct {
	dir   string
	o     Options
	open  openFunc
	lock  *os.File
	stop  chan struct{} // closed by Close to end syncLoop
	done  chan struct{} // closed by syncLoop when it returns
	mu    sync.Mutex
	segs  []*segment // oldest first
	act   *segment   // the segment appended to (the last of segs), nil if none
	cur   cursor     // first record not acknowledged in segs[0]
	hint  readHint   // where the last Read ended
	next  ID         // ID of the next record
	acked ID         // highest acknowledged ID
	bytes int64      // total size of segs
	buf   []byte     // frame being written

	dirty    bool   // act written since the last sync
	dirDirty bool   // directory changed since the last sync
	unsynced []file // sealed segments to sync and close

	dropped, droppedBytes, corrupt, syncErrs int64
	closed                                   bool
}

// readHint remembers where the last Read ended, so that acknowledging its last record
// moves the cursor without reading the records again.
type readHint struct {
	id  ID
	seg *segment
	pos cursor
}

// Open opens the spool in dir, creating the directory if needed, and recovers it:
// see the package doc. The spool is locked against other processes until Close. With
// SyncInterval, Open starts a goroutine that Close ends.
func Open(dir string, o Options) (*Spool, error) {
	return open(dir, o, osOpen)
}

func open(dir string, o Options, openFile openFunc) (*Spool, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("spool: lock %s: %w", dir, err)
	}
	s := &Spool{dir: dir, o: o, open: openFile, lock: lock}
	if err := s.recover(); err != nil {
		s.closeFiles()
		unlockDir(lock)
		return nil, err
	}
	if o.Sync == SyncInterval {
		s.stop, s.done = make(chan struct{}), make(chan struct{})
		go s.syncLoop(o.SyncEvery)
	}
	return s, nil
}

// recover loads the checkpoint and the segments, repairs a torn tail and positions
// the cursor after the acknowledged records.
func (s *Spool) recover() error {
	if err := os.Remove(filepath.Join(s.dir, ackTmp)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, ackName))
	switch {
	case err == nil:
		s.acked, _ = decodeAck(b) // damaged: nothing acknowledged, deliver again
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("spool: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	var bases []ID
	for _, e := range entries {
		if base, ok := parseSegName(e.Name()); ok && e.Type().IsRegular() {
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)

	var data []byte
	for i, base := range bases {
		path := filepath.Join(s.dir, segName(base))
		last := i == len(bases)-1
		limit := ID(math.MaxUint64)
		if !last {
			limit = bases[i+1]
		}
		data, err = readInto(data[:0], path)
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		g := &segment{base: base, size: int64(len(data))}
		pos := cursor{off: -1}
		r := scan(data, base, limit, func(id ID, off int64) {
			if id > s.acked && pos.off < 0 {
				pos.off = off
			} else if pos.off < 0 {
				pos.idx++
			}
		})
		g.n, g.last, g.holes = r.n, r.last, r.holes
		s.corrupt += r.lost
		if tail := int64(len(data)) - r.end; last {
			// Bytes past the last record, then unreadable records just before them,
			// are a torn write: cut them off so they are counted once.
			if tail > 0 {
				s.corrupt++
			}
			end := r.end
			for len(g.holes) > 0 && g.holes[len(g.holes)-1].end == end {
				end = g.holes[len(g.holes)-1].start
				g.holes = g.holes[:len(g.holes)-1]
			}
			if end < g.size {
				if err := os.Truncate(path, end); err != nil {
					return fmt.Errorf("spool: truncate torn tail: %w", err)
				}
				g.size = end
			}
		} else if tail > 0 {
			g.holes = append(g.holes, hole{r.end, g.size})
		}
		if !last {
			// IDs missing before the next segment were lost, at least one record if
			// there is garbage at the end.
			lost := int64(limit - r.next)
			if tail := int64(len(data)) - r.end; tail > 0 && lost == 0 {
				lost = 1
			}
			s.corrupt += lost
		}
		if pos.off < 0 {
			pos = cursor{off: g.size, idx: g.n}
		}
		if g.n == 0 || g.last <= s.acked {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			continue
		}
		if len(s.segs) == 0 {
			s.cur = pos
		}
		s.segs = append(s.segs, g)
		s.bytes += g.size
	}

	s.next = s.acked + 1
	if len(s.segs) > 0 {
		g := s.segs[len(s.segs)-1]
		s.next = max(s.next, g.last+1)
		if g.size < s.o.SegmentBytes {
			f, err := s.open(filepath.Join(s.dir, segName(g.base)), os.O_RDWR, 0)
			if err != nil {
				return fmt.Errorf("spool: %w", err)
			}
			g.f, s.act = f, g
		}
	}
	if s.next == math.MaxUint64 {
		return errors.New("spool: IDs exhausted")
	}
	for s.bytes > s.o.MaxBytes {
		if err := s.dropOldest(); err != nil {
			return err
		}
	}
	return s.settle()
}

// readInto reads the file at path into buf.
func readInto(buf []byte, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return buf, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return buf, err
	}
	buf = slices.Grow(buf[:0], int(fi.Size()))
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 4096)
		}
	}
}

// Append adds rec to the spool and returns its ID. If the spool is full it first
// deletes the oldest segments (see Stats.Dropped). If it returns an error, rec is not
// in the spool and the spool is unchanged apart from such drops.
func (s *Spool) Append(rec []byte) (ID, error) {
	frame := int64(hdrSize) + int64(len(rec))
	if frame > s.o.SegmentBytes {
		return 0, ErrTooLarge
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if s.act != nil && s.act.size > 0 && s.act.size+frame > s.o.SegmentBytes {
		s.seal()
	}
	var err error
	for s.bytes+frame > s.o.MaxBytes && err == nil {
		err = s.dropOldest()
	}
	if err != nil {
		return 0, err
	}
	if s.act == nil {
		if err := s.create(); err != nil {
			return 0, err
		}
	}
	g, id := s.act, s.next
	s.buf = slices.Grow(s.buf[:0], int(frame))[:frame]
	putHeader(s.buf, id, rec)
	copy(s.buf[hdrSize:], rec)
	n, err := g.f.WriteAt(s.buf, g.size)
	if err == nil && s.o.Sync == SyncAlways {
		err = g.f.Sync()
	}
	if cap(s.buf) > 4<<20 {
		s.buf = nil
	}
	if err != nil {
		s.undo(g, int64(n))
		return 0, fmt.Errorf("spool: append: %w", err)
	}
	g.size += frame
	g.n++
	g.last = id
	s.bytes += frame
	s.next++
	s.dirty = true
	return id, nil
}

// undo removes the n bytes a failed append left at the end of g. If that fails too,
// they become a hole and g is sealed, so that nothing is ever appended after them; a
// segment left with no record is deleted.
func (s *Spool) undo(g *segment, n int64) {
	if n == 0 || g.f.Truncate(g.size) == nil {
		return
	}
	g.addHole(hole{g.size, g.size + n})
	g.size += n
	s.bytes += n
	s.seal()
	if g.n == 0 {
		s.segs = s.segs[:len(s.segs)-1]
		s.bytes -= g.size
		g.gone = true
		os.Remove(filepath.Join(s.dir, segName(g.base))) // if it stays, create truncates it
	}
}

// create starts a new active segment for the next record.
func (s *Spool) create() error {
	// A file of that name holds no record: its records would have IDs ≥ s.next.
	f, err := s.open(filepath.Join(s.dir, segName(s.next)), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("spool: new segment: %w", err)
	}
	if s.o.Sync == SyncAlways {
		if err := syncDir(s.dir); err != nil {
			f.Close()
			os.Remove(filepath.Join(s.dir, segName(s.next)))
			return fmt.Errorf("spool: new segment: %w", err)
		}
	}
	g := &segment{base: s.next, f: f}
	if len(s.segs) == 0 {
		s.cur = cursor{}
	}
	s.segs = append(s.segs, g)
	s.act = g
	s.dirDirty = true
	return nil
}

// seal stops appending to the active segment.
func (s *Spool) seal() {
	g := s.act
	s.act = nil
	if s.o.Sync == SyncInterval {
		// syncLoop syncs and closes it. Even if nothing was written since its last
		// sync, that sync may still be running on this handle.
		s.unsynced = append(s.unsynced, g.f)
	} else {
		g.f.Close()
	}
	g.f = nil
	s.dirty = false
}

// dropOldest deletes the oldest segment, counting its unacknowledged records.
func (s *Spool) dropOldest() error {
	g := s.segs[0]
	s.dropped += int64(g.n - s.cur.idx)
	s.droppedBytes += g.size - s.cur.off
	return s.removeOldest()
}

// removeOldest deletes the oldest segment and moves the cursor to the next one.
func (s *Spool) removeOldest() error {
	g := s.segs[0]
	if g == s.act {
		s.seal()
	}
	if g.f != nil {
		g.f.Close()
		g.f = nil
	}
	g.gone = true
	s.segs = s.segs[1:]
	s.cur = cursor{}
	s.bytes -= g.size
	if err := os.Remove(filepath.Join(s.dir, segName(g.base))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// settle moves the cursor over holes and deletes sealed segments it has left.
func (s *Spool) settle() error {
	for len(s.segs) > 0 {
		g := s.segs[0]
		if end, ok := g.holeAt(s.cur.off); ok {
			s.cur.off = end
			continue
		}
		if g == s.act || s.cur.off < g.size && g.last > s.acked {
			return nil
		}
		if err := s.removeOldest(); err != nil {
			return err
		}
	}
	return nil
}

// Read returns the oldest records not acknowledged yet, in order, without removing
// them: at most maxRecords records, and at most maxBytes bytes of data unless the
// first record alone is larger, in which case it returns that record alone. It
// returns no records if there are none. The returned data is the caller's: each call
// allocates it afresh.
func (s *Spool) Read(maxRecords, maxBytes int) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	var out []Record
	total := int64(0)
	budget := func() int64 { // bytes worth reading ahead
		ahead := max(int64(maxBytes)-total, 0) + hdrSize*int64(maxRecords-len(out))
		return max(min(ahead, maxReadAhead), hdrSize)
	}
	full := false
	for i := 0; i < len(s.segs) && len(out) < maxRecords && !full; i++ {
		g := s.segs[i]
		pos := cursor{}
		if i == 0 {
			pos = s.cur
		}
		f, err := s.reader(g)
		if err != nil {
			return nil, err
		}
		var buf []byte // bytes of g from bufOff
		var bufOff int64
		for pos.off < g.size && len(out) < maxRecords {
			if end, ok := g.holeAt(pos.off); ok {
				pos.off = end
				continue
			}
			if pos.off < bufOff || pos.off+hdrSize > bufOff+int64(len(buf)) {
				if buf, err = readAt(f, pos.off, min(g.size-pos.off, budget())); err != nil {
					return nil, err
				}
				bufOff = pos.off
			}
			h, ok := parseHeader(buf[pos.off-bufOff:])
			if !ok || h.n > g.size-pos.off-hdrSize {
				s.lostRest(g, pos)
				break
			}
			if len(out) > 0 && total+h.n > int64(maxBytes) {
				full = true
				break
			}
			end := pos.off + h.frame()
			if end > bufOff+int64(len(buf)) {
				if buf, err = readAt(f, pos.off, min(g.size-pos.off, max(h.frame(), budget()))); err != nil {
					return nil, err
				}
				bufOff = pos.off
			}
			data := buf[pos.off-bufOff+hdrSize : end-bufOff : end-bufOff]
			if crc32.Checksum(data, castagnoli) != h.crc {
				g.addHole(hole{pos.off, end})
				g.n--
				s.corrupt++
				s.hint = readHint{}
				pos.off = end
				continue
			}
			out = append(out, Record{ID: h.id, Data: data})
			total += h.n
			pos = cursor{off: end, idx: pos.idx + 1}
			s.hint = readHint{h.id, g, pos}
		}
		if i > 0 && g != s.act && g.f != nil {
			g.f.Close()
			g.f = nil
		}
	}
	return out, s.settle()
}

// lostRest makes the rest of g, from pos, a hole: its header no longer checks.
func (s *Spool) lostRest(g *segment, pos cursor) {
	g.addHole(hole{pos.off, g.size})
	s.corrupt += int64(max(g.n-pos.idx, 1))
	g.n = pos.idx
	s.hint = readHint{}
	if g == s.act {
		s.seal()
	}
}

// reader returns a handle to read g.
func (s *Spool) reader(g *segment) (file, error) {
	if g.f == nil {
		f, err := s.open(filepath.Join(s.dir, segName(g.base)), os.O_RDONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		g.f = f
	}
	return g.f, nil
}

// readAt reads n bytes at off into a new buffer.
func readAt(f file, off, n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("spool: read: %w", err)
	}
	return b, nil
}

// Ack acknowledges every record up to and including id: Read no longer returns them
// and their segments are deleted once all their records are acknowledged. Acking an
// ID at or below an earlier one does nothing; acking one never appended is an error.
func (s *Spool) Ack(id ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if id <= s.acked {
		return nil
	}
	if id >= s.next {
		return fmt.Errorf("spool: ack of %d, which was not appended (last is %d)", id, s.next-1)
	}
	if err := s.writeAck(id); err != nil {
		return err
	}
	s.acked = id
	if h := s.hint; h.id == id && !h.seg.gone {
		for s.segs[0] != h.seg {
			if err := s.removeOldest(); err != nil {
				return err
			}
		}
		s.cur = h.pos
	} else if err := s.advance(id); err != nil {
		return err
	}
	return s.settle()
}

// advance moves the cursor past the records up to id by reading their headers.
func (s *Spool) advance(id ID) error {
	var hdr [hdrSize]byte
	for len(s.segs) > 0 {
		g := s.segs[0]
		if end, ok := g.holeAt(s.cur.off); ok {
			s.cur.off = end
			continue
		}
		if g == s.act && (g.last <= id || s.cur.off >= g.size) {
			s.cur = cursor{off: g.size, idx: g.n}
			return nil
		}
		if g.last <= id || s.cur.off >= g.size {
			if err := s.removeOldest(); err != nil {
				return err
			}
			continue
		}
		f, err := s.reader(g)
		if err != nil {
			return err
		}
		if _, err := f.ReadAt(hdr[:], s.cur.off); err != nil {
			return fmt.Errorf("spool: read: %w", err)
		}
		h, ok := parseHeader(hdr[:])
		if !ok || h.n > g.size-s.cur.off-hdrSize {
			s.lostRest(g, s.cur)
			continue
		}
		if h.id > id {
			return nil
		}
		s.cur = cursor{off: s.cur.off + h.frame(), idx: s.cur.idx + 1}
	}
	return nil
}

// writeAck replaces the checkpoint with id.
func (s *Spool) writeAck(id ID) error {
	tmp := filepath.Join(s.dir, ackTmp)
	f, err := s.open(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("spool: ack: %w", err)
	}
	_, err = f.WriteAt(encodeAck(id), 0)
	if err == nil && s.o.Sync == SyncAlways {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, ackName))
	}
	if err == nil && s.o.Sync == SyncAlways {
		err = syncDir(s.dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("spool: ack: %w", err)
	}
	s.dirDirty = true
	return nil
}

// Stats returns the spool's sizes and counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Bytes:        s.bytes,
		Segments:     len(s.segs),
		Dropped:      s.dropped,
		DroppedBytes: s.droppedBytes,
		Corrupt:      s.corrupt,
		SyncErrors:   s.syncErrs,
	}
	for _, g := range s.segs {
		st.Records += int64(g.n)
	}
	if len(s.segs) > 0 {
		st.Records -= int64(s.cur.idx)
	}
	return st
}

// syncLoop fsyncs what was written every period until Close.
func (s *Spool) syncLoop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.syncNow()
		}
	}
}

// syncNow fsyncs the active segment, sealed segments not synced yet and the
// directory, as needed, without holding the lock while the disk works.
func (s *Spool) syncNow() (failed int64) {
	s.mu.Lock()
	var active file
	if s.dirty && s.act != nil {
		active = s.act.f
	}
	sealed, dir := s.unsynced, s.dirDirty
	s.unsynced, s.dirty, s.dirDirty = nil, false, false
	s.mu.Unlock()

	// A segment dropped meanwhile has a closed handle: nothing to sync.
	if active != nil {
		if err := active.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			failed++
		}
	}
	for _, f := range sealed {
		if f.Sync() != nil {
			failed++
		}
		f.Close()
	}
	if dir && syncDir(s.dir) != nil {
		failed++
	}
	if failed > 0 {
		s.mu.Lock()
		s.syncErrs += failed
		s.mu.Unlock()
	}
	return failed
}

// Close syncs (unless the policy is SyncNever), closes the files and releases the
// directory. It returns an error if that final sync failed.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
	var err error
	if s.o.Sync != SyncNever {
		s.mu.Lock()
		s.dirty, s.dirDirty = s.act != nil, true
		s.mu.Unlock()
		if s.syncNow() > 0 {
			err = errors.New("spool: close: fsync failed")
		}
	}
	s.mu.Lock()
	s.closeFiles()
	s.mu.Unlock()
	unlockDir(s.lock)
	return err
}

// closeFiles closes every open handle.
func (s *Spool) closeFiles() {
	for _, g := range s.segs {
		if g.f != nil {
			g.f.Close()
			g.f = nil
		}
	}
	for _, f := range s.unsynced {
		f.Close()
	}
	s.unsynced = nil
	s.act = nil
}

// syncDir fsyncs a directory, making file creations, renames and removals in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
