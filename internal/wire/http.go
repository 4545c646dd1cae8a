package wire

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/vigilhq/vigil/policy"
)

// Media types.
const (
	ContentTypeJSON    = "application/json"
	ContentTypeProblem = "application/problem+json"
	ContentTypeStream  = "text/event-stream"
)

// HeaderIdempotencyKey is the header that repeats a batch's ID on POST
// /v1/ingest/events and /v1/ingest/metrics. Besides telling proxies and Studio the key
// before the body is read, it makes net/http's client resend the request by itself when
// a kept-alive connection turns out to have been closed by the server. Studio answers
// 400 when it differs from the body's batch_id.
const HeaderIdempotencyKey = "Idempotency-Key"

// Errors of ReadBody.
var (
	// ErrTooLarge means the body, compressed or not, is over the limit: answer 413.
	ErrTooLarge = errors.New("body too large")
	// ErrEncoding means a Content-Encoding other than gzip or identity: answer 415.
	ErrEncoding = errors.New("unsupported content encoding")
)

// ReadBody reads a request body of at most limit bytes after decompression (and at
// most limit bytes as sent), undoing "Content-Encoding: gzip". It returns ErrTooLarge,
// ErrEncoding, or another error for a broken gzip stream or a failed read (answer 400).
// It is Studio's reader, and the in-memory server's.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	raw, err := readAtMost(r.Body, limit)
	if err != nil {
		return nil, err
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return raw, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return readAtMost(zr, limit)
	default:
		return nil, fmt.Errorf("%w %.32q", ErrEncoding, enc)
	}
}

func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// Gzip compresses a body for "Content-Encoding: gzip". It uses gzip.BestSpeed, which
// takes about a third of the time of the default level for a body about 40% larger
// (on agent event batches): the agent runs in the guarded process, where CPU counts
// more than bytes. It is safe for concurrent use.
func Gzip(data []byte) []byte {
	b := bytes.NewBuffer(make([]byte, 0, len(data)/8+64))
	zw, _ := gzipWriters.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(b, gzip.BestSpeed) // a valid level: no error
	} else {
		zw.Reset(b)
	}
	zw.Write(data) // writes to a bytes.Buffer do not fail
	zw.Close()
	zw.Reset(nil) // keep no reference to b
	gzipWriters.Put(zw)
	return b.Bytes()
}

// gzipWriters keeps Gzip's writers for reuse: each holds over a megabyte of
// compressor state, too much to allocate per batch. A cache, not state: what Gzip
// returns does not depend on it.
var gzipWriters sync.Pool

// Problem is the body of every error answer (RFC 9457, application/problem+json).
// Field names the offending field of the request body, in the form FieldError uses,
// when there is one.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Field  string `json:"field,omitempty"`
}

// WriteProblem answers with status and a Problem. A *FieldError in err fills Field and
// Detail; other errors are not shown (their text may be internal).
func WriteProblem(w http.ResponseWriter, status int, err error) {
	p := Problem{Title: http.StatusText(status), Status: status}
	var fe *FieldError
	if errors.As(err, &fe) {
		p.Field, p.Detail = fe.Field, fe.Msg
	}
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", ContentTypeProblem)
	w.WriteHeader(status)
	w.Write(body)
}

// WritePolicyEvent writes one policy snapshot as a server-sent event:
//
//	event: policy
//	id: <version>
//	data: <snapshot JSON on one line>
//
// data is what EncodePolicy returned.
func WritePolicyEvent(w io.Writer, version int64, data []byte) error {
	_, err := fmt.Fprintf(w, "event: policy\nid: %d\ndata: %s\n\n", version, data)
	return err
}

// MaxStreamEvent is the largest server-sent event StreamReader accepts, in bytes.
const MaxStreamEvent = policy.MaxSize + 4096

// StreamReader reads GET /v1/policy/stream: it skips comments (": ping") and events
// other than "policy", and returns each policy snapshot. It is not safe for concurrent
// use.
type StreamReader struct {
	r      *bufio.Reader
	lastID string
}

// NewStreamReader reads events from r, the response body.
func NewStreamReader(r io.Reader) *StreamReader {
	return &StreamReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// LastEventID returns the id of the last event read, for the Last-Event-ID header of
// the next connection; empty before the first.
func (s *StreamReader) LastEventID() string { return s.lastID }

// Next returns the next policy snapshot. A *FieldError means that one event was
// malformed: the stream may be read on. Any other error (io.EOF when the server closed
// the stream, a line over MaxStreamEvent) ends the stream.
func (s *StreamReader) Next() (PolicySnapshot, error) {
	var (
		event string
		data  []byte
		size  int
		lines int
	)
	for {
		line, err := s.readLine(MaxStreamEvent - size)
		if err != nil {
			return PolicySnapshot{}, err
		}
		size += len(line) + 1
		if len(line) == 0 { // end of an event
			if lines > 0 && event == "policy" {
				snap, err := DecodePolicy(data)
				if err == nil && strconv.FormatInt(snap.Version, 10) != s.lastID {
					return PolicySnapshot{}, fieldErr("id", "%.32q differs from the snapshot's version %d", s.lastID, snap.Version)
				}
				return snap, err
			}
			event, data, size, lines = "", nil, 0, 0
			continue
		}
		lines++
		if line[0] == ':' {
			continue // comment
		}
		name, value, _ := strings.Cut(string(line), ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "event":
			event = value
		case "data":
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, value...)
			if data == nil {
				data = []byte{}
			}
		case "id":
			if !strings.ContainsRune(value, 0) {
				s.lastID = value
			}
		}
	}
}

// readLine returns the next line without its ending (LF or CRLF; a lone CR, which
// the SSE format also allows, is not a line end here), failing when it is longer than
// limit bytes.
func (s *StreamReader) readLine(limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := s.r.ReadSlice('\n')
		if len(line)+len(frag) > limit+1 {
			return nil, fmt.Errorf("stream event longer than %d bytes", MaxStreamEvent)
		}
		line = append(line, frag...)
		switch {
		case err == nil:
			line = line[:len(line)-1]
			return bytes.TrimSuffix(line, []byte{'\r'}), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}
