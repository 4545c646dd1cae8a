package spool

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
	"strings"
)

// hdrSize is the size of a record's header: length, ID, payload CRC, header CRC.
const hdrSize = 20

// castagnoli is the CRC-32C table; the standard library uses the SSE4.2/ARMv8 CRC
// instructions for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Names of the files in a spool directory besides the segments.
const (
	segExt   = ".seg"    // segment files: 20-digit decimal ID of their first record + segExt
	ackName  = "ack"     // the ack checkpoint
	ackTmp   = "ack.tmp" // the next checkpoint, before its rename
	lockName = "lock"    // held with flock(2) while a Spool is open
	ackSize  = 16        // "VSA1", ID, CRC-32C of the first 12 bytes
)

var ackMagic = [4]byte{'V', 'S', 'A', '1'}

// putHeader writes the header of the record (id, payload) into b[:hdrSize].
func putHeader(b []byte, id ID, payload []byte) {
	binary.LittleEndian.PutUint32(b[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint64(b[4:], uint64(id))
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(payload, castagnoli))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
}

// header is a decoded record header.
type header struct {
	n   int64  // payload length
	id  ID     // record ID
	crc uint32 // CRC-32C of the payload
}

// frame is the size of the whole record, header included.
func (h header) frame() int64 { return hdrSize + h.n }

// parseHeader decodes b[:hdrSize]; ok is false if b is short or the header's own
// checksum does not match, in which case nothing in it can be trusted.
func parseHeader(b []byte) (h header, ok bool) {
	if len(b) < hdrSize || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return header{}, false
	}
	return header{
		n:   int64(binary.LittleEndian.Uint32(b[0:])),
		id:  ID(binary.LittleEndian.Uint64(b[4:])),
		crc: binary.LittleEndian.Uint32(b[12:]),
	}, true
}

// hole is a byte range of a segment that holds no readable record: a record whose
// payload does not match its checksum, or bytes with no valid header.
type hole struct{ start, end int64 }

// scanResult is what scan found in one segment's bytes.
type scanResult struct {
	end   int64  // offset just past the last frame with a valid header
	n     int    // records whose header and payload are valid
	last  ID     // ID of the last of them, 0 if none
	next  ID     // ID expected after the last frame with a valid header
	lost  int64  // records lost to corruption before end (ID gaps, bad payloads, ≥1 per unreadable run)
	holes []hole // unreadable ranges before end, in order
}

// scan walks the records of one segment. IDs must increase from expect and stay
// below limit. A header whose checksum, ID or length is wrong starts an unreadable run
// that ends at the next acceptable header (found byte by byte); a header followed by a
// payload that does not match its checksum is a one-record hole. fn is called with the
// ID and offset of every valid record, in order. Bytes after res.end hold no acceptable
// header: a torn tail, or garbage.
func scan(data []byte, expect, limit ID, fn func(id ID, off int64)) (res scanResult) {
	off := 0
	skipped := false
	defer func() { res.next = expect }()
	for off < len(data) {
		h, ok := acceptable(data[off:], expect, limit)
		if !ok {
			q := resync(data, off+1, expect, limit)
			if q < 0 {
				break
			}
			res.holes = append(res.holes, hole{int64(off), int64(q)})
			skipped, off = true, q
			continue
		}
		gap := int64(h.id - expect)
		if skipped && gap == 0 {
			gap = 1
		}
		res.lost += gap
		skipped = false
		end := off + int(h.frame())
		if crc32.Checksum(data[off+hdrSize:end], castagnoli) == h.crc {
			res.n++
			res.last = h.id
			if fn != nil {
				fn(h.id, int64(off))
			}
		} else {
			res.lost++
			res.holes = append(res.holes, hole{int64(off), int64(end)})
		}
		expect = h.id + 1
		off = end
		res.end = int64(off)
	}
	return res
}

// acceptable decodes the header at b[0:] and reports whether it can start a record:
// a matching header checksum, an ID in [expect, limit) and a payload inside b.
func acceptable(b []byte, expect, limit ID) (header, bool) {
	h, ok := parseHeader(b)
	if !ok || h.id < expect || h.id >= limit || h.n > int64(len(b)-hdrSize) {
		return h, false
	}
	return h, true
}

// resync returns the first offset ≥ from at which an acceptable header starts, or -1.
func resync(data []byte, from int, expect, limit ID) int {
	for q := from; q+hdrSize <= len(data); q++ {
		if _, ok := acceptable(data[q:], expect, limit); ok {
			return q
		}
	}
	return -1
}

// segName is the file name of the segment whose first record is base.
func segName(base ID) string { return fmt.Sprintf("%020d%s", uint64(base), segExt) }

// parseSegName returns the base ID of a segment file name.
func parseSegName(name string) (ID, bool) {
	digits, ok := strings.CutSuffix(name, segExt)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || v == 0 || v == math.MaxUint64 {
		return 0, false
	}
	return ID(v), true
}

// encodeAck is the checkpoint file's content for id.
func encodeAck(id ID) []byte {
	b := make([]byte, ackSize)
	copy(b, ackMagic[:])
	binary.LittleEndian.PutUint64(b[4:], uint64(id))
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[:12], castagnoli))
	return b
}

// decodeAck returns the ID in a checkpoint file; ok is false if it is damaged.
func decodeAck(b []byte) (ID, bool) {
	if len(b) != ackSize || [4]byte(b[:4]) != ackMagic ||
		crc32.Checksum(b[:12], castagnoli) != binary.LittleEndian.Uint32(b[12:]) {
		return 0, false
	}
	return ID(binary.LittleEndian.Uint64(b[4:])), true
}
