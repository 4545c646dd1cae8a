// Package h1tap records the header order of HTTP/1 requests from the bytes a server
// reads, which net/http parses into an unordered map.
//
// A Conn wraps each accepted connection and feeds what net/http reads to the
// connection's Tap, a push parser that follows the request stream as net/http does:
// the request line, the header lines up to the empty line (names in wire order, raw
// case and duplicates kept; obs-fold continuations and bare-LF line ends accepted, as
// Go accepts them), then the body, skipped without copying (Content-Length, or
// chunked with extensions and trailers), then the next request. Each parsed head is
// queued; a handler takes its request's head with Pop, which returns it only when it
// matches the request's method and target.
//
// # Trust model
//
// The tap exists to say how a client ordered and spelled its headers, so a wrong
// answer is worse than none: a client must never be able to make the tap attribute
// another request's head (a browser's, say) to its own. The tap therefore mirrors
// net/http's framing decisions (Content-Length and Transfer-Encoding together,
// duplicated or malformed Content-Length, HTTP/1.0, chunk-size lines, trailers, CR/LF
// after a POST) and, wherever it is not sure net/http reads the stream the same way,
// stops parsing and reports every later request on the connection as unknown. A Pop
// that does not match the oldest queued head has the same effect. Upgrade, CONNECT,
// the HTTP/2 preface and Stop (a hijack) end parsing too: what follows is not HTTP/1.
//
// Only plaintext HTTP/1 can be tapped this way: the tap must see the bytes after TLS,
// so the server has to read through a Conn that wraps the TLS connection, not own
// the TLS connection itself.
//
// # Limits
//
// The tap records the first 64 KiB of a head and at most 128 names; past that it
// keeps parsing and counting and marks the head truncated. It queues at most 8 heads;
// deeper pipelining (more than 8 small requests in one 4 KiB read) makes it give up
// on the connection, as does a method longer than 64 bytes, which net/http would
// accept. It holds only the recorded parts of the head being parsed, never a whole
// line or body, and after each head releases scratch buffers that grew past 1 KiB, so
// a slow client costs no more than its head's recorded parts (about 130 KiB at
// worst) and an idle connection about 700 bytes. Bounding how long a client may take
// to send a head is the server's job: http.Server.ReadHeaderTimeout.
package h1tap
