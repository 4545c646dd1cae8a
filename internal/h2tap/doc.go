// Package h2tap reads the HTTP/2 fingerprint of a client from a copy of the bytes it
// sends, next to Go's own HTTP/2 server, which exposes none of it.
//
// A [Tap] is a shadow parser for one connection. It is fed exactly the client→server
// bytes the HTTP/2 server reads, in order, and records what net/http throws away: the
// first SETTINGS frame in wire order, the first connection-level WINDOW_UPDATE, the
// PRIORITY frames, and for every request stream the header names in wire order with the
// pseudo-headers kept apart. From these it builds the Akamai HTTP/2 fingerprint
// ([Fingerprint.Akamai]) and lets a handler find the header order of its own request
// ([Tap.Take]).
//
// # Serving a tapped connection
//
// [Conn] wraps a net.Conn so that every Read feeds its Tap before the bytes reach the
// server. Vigil terminates TLS itself, wraps the *tls.Conn of a connection that
// negotiated "h2" in a Conn (which does not implement ConnectionState) and hands it to
// an http.Server whose Protocols allow only unencrypted HTTP/2, so that a connection
// that negotiated "http/1.1" cannot switch to HTTP/2 by sending the preface.
// ConnContext stores the Tap with [NewContext] and the middleware finds it with
// [FromContext]. Because the Tap sees the bytes of a HEADERS frame before the server
// does, a handler always runs after its stream was recorded. On this path the HTTP/2
// server skips its TLS checks and sets no r.TLS: the TLS configuration must require
// TLS 1.2 or later itself, and the middleware restores the TLS state from the
// connection context.
//
// # Trust model
//
// Everything the Tap reads was written by the client, and the client may be hostile.
// The Tap never alters or drops a byte of the real connection and never waits for
// anything: [Tap.Feed] only parses what it is given. On any error — a bad preface, a
// malformed frame among those it reads, an HPACK error, a limit exceeded — the Tap
// marks itself unavailable ("h2 DNA unavailable", [ErrUnavailable]), frees what it
// holds and ignores all further bytes, while the server goes on with the connection as
// it sees fit. A caller must then treat the HTTP/2 fingerprint and header order of
// that connection as unknown, never guess them.
//
// The work and memory of a Tap are bounded whatever the client sends:
//
//   - DATA payloads, and the payloads of every frame type the Tap does not read, are
//     skipped without being buffered. The other frames are parsed as they arrive,
//     through a few bytes of state, except header blocks.
//   - A header block (a HEADERS frame and its CONTINUATION frames, without padding and
//     priority fields) is collected up to [Config.MaxHeaderBlockBytes]; a longer one
//     (a CONTINUATION flood) makes the Tap unavailable.
//   - At most 16 PRIORITY frames and 32 settings are kept; further ones are skipped
//     (a PRIORITY flood costs constant work per frame and no memory).
//   - At most 128 header fields are recorded per stream; the rest of the block is still
//     decoded, to keep the HPACK state in step with the server, and the stream is
//     marked Truncated.
//   - Streams wait for their handler in a FIFO of at most [Config.MaxPendingStreams]
//     streams whose recorded names and values total at most MaxHeaderBlockBytes; the
//     oldest is dropped first, a stream that alone exceeds that total is not kept,
//     and RST_STREAM drops its stream (Rapid Reset).
//
// The HPACK dynamic table is decoded with one golang.org/x/net/http2/hpack Decoder per
// connection, sized by what the server advertises ([Config.HeaderTableSize]). A
// client's own SETTINGS_HEADER_TABLE_SIZE sizes the table the server encodes
// responses with, so it does not change the Tap's decoder.
//
// # Fingerprint conventions
//
// The Akamai string is S|WU|P|PS as printed by browserleaks, tls.peet.ws, Scrapfly and
// curl_cffi: settings as id:value joined by ";", the first stream-0 WINDOW_UPDATE
// increment or "00", PRIORITY frames (never the priority fields of HEADERS frames) as
// stream:exclusive:dependsOn:weight with weight = wire value + 1 joined by "," or "0",
// and the first letters of the first request's pseudo-headers joined by ",". The
// connection fingerprint is frozen when the first request's header block has been
// decoded, so it does not change during the life of the connection. Settings ids of the
// GREASE shape 0x?a?a are kept in the string; [SettingsEqual] compares settings without
// them.
package h2tap
