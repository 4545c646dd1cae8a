package guardagent

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxBodySize is the largest request body Studio accepts, in bytes, both as sent and
// after gzip is undone: 256 KiB, the official service's cap (§5, guard-agent
// CHANGELOG v2.8.0). A larger body is answered 413, on which the Python client halves
// the batch and resends each half (v2.7.1 and later; older clients may loop on 413).
//
// The decompressed form is capped too, and also answered 413 rather than 400: a
// legitimate batch that compresses well but expands past the cap becomes acceptable
// once halved, whereas 400 would make the client drop it. A gzip bomb costs Studio at
// most MaxBodySize+1 bytes of output before it is refused.
const MaxBodySize = 256 << 10

// Body is a request body as read by ReadBody.
type Body struct {
	// Wire is the body exactly as sent: what Python and TypeScript clients sign.
	Wire []byte
	// JSON is the body with gzip undone: what guard-agent-go signs and what the
	// decoders read. It is Wire itself when the body was not compressed.
	JSON []byte
	// Gzip reports that the body was sent with Content-Encoding gzip.
	Gzip bool
}

// ReadBody reads a request body of at most MaxBodySize bytes and undoes
// Content-Encoding gzip (also spelled x-gzip, in any case) with the same cap on the
// output. contentEncoding is the Content-Encoding header's value; "" and "identity"
// mean an uncompressed body.
//
// Errors are *Error: 413 for a body over the cap, as sent or decompressed; 400 for a
// truncated or corrupt gzip stream (including trailing bytes that are not another gzip
// member) and for any other Content-Encoding. When r itself fails (the client went
// away, a connection broke), the read error is returned wrapped, not as an *Error:
// ErrorReply answers it 500, which the client retries, since resending can succeed.
//
// An unknown encoding is 400 rather than 415 because the Python client drops a batch on
// 400 but requeues it forever on a status it does not know (§4).
func ReadBody(r io.Reader, contentEncoding string) (*Body, error) {
	wire, err := readCapped(r)
	if err != nil {
		return nil, err
	}
	b := &Body{Wire: wire, JSON: wire}
	switch enc := strings.ToLower(strings.TrimSpace(contentEncoding)); enc {
	case "", "identity":
		return b, nil
	case "gzip", "x-gzip":
		b.Gzip = true
	default:
		return nil, errorf(http.StatusBadRequest, "unsupported Content-Encoding; send gzip or an uncompressed body")
	}
	zr, err := gzip.NewReader(bytes.NewReader(wire))
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Msg: "body is not valid gzip", Err: err}
	}
	b.JSON, err = readCapped(zr)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, &Error{Status: http.StatusBadRequest, Msg: "body is not valid gzip", Err: err}
	}
	return b, nil
}

// readCapped reads r to its end, refusing with 413 once it yields more than
// MaxBodySize bytes.
func readCapped(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, MaxBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if n > MaxBodySize {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Msg: MsgTooLarge}
	}
	return buf.Bytes(), nil
}
