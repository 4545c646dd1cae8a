// Package tlsfp reads a TLS ClientHello and computes its JA4 and JA3 fingerprints.
//
// There are two sources of a hello, with different trust and exactness:
//
//   - The raw bytes, as the client sent them. A [Tee] wraps the accepted net.Conn below
//     crypto/tls (tls.Server(tee, cfg)), records what crypto/tls reads until the first
//     complete ClientHello has gone by, and then passes reads straight through.
//     [ParseClientHello] parses such bytes, reassembling a hello split over several TLS
//     records. Fingerprints from raw bytes are exact, and they exist even for hellos that
//     crypto/tls refuses to parse (a duplicate extension, a server name with a trailing
//     dot), which never reach GetConfigForClient.
//   - A *tls.ClientHelloInfo, as GetConfigForClient receives it ([FromClientHelloInfo]).
//     It needs no wrapping, and its JA4 is exact. Its JA3 is exact except for one field:
//     crypto/tls does not expose the legacy client_version when the supported_versions
//     extension is present, so JA3 then assumes 771 (TLS 1.2, which RFC 8446 requires
//     TLS 1.3 clients to send) and [Fingerprint.JA3VersionAssumed] says so.
//
// The two can differ in one deployment: when the server holds Encrypted Client Hello
// keys, the Tee sees the outer hello that is on the wire, while crypto/tls hands
// GetConfigForClient the decrypted inner one.
//
// Everything in a ClientHello is chosen by the client. A fingerprint says which TLS stack
// the client claims to be through its behaviour; a capable client can imitate another.
// Use fingerprints as evidence, never as authentication.
//
// # Fingerprints
//
// JA4 (FoxIO, BSD-3-Clause) is a_b_c: a is "t" (TLS over TCP; QUIC and DTLS hellos are not
// read here), the version (highest non-GREASE supported_versions entry, else the legacy
// version), "d" or "i" for SNI present or not, the cipher and extension counts (GREASE
// excluded, capped at 99) and two characters of the first ALPN value; b is the truncated
// SHA-256 of the sorted cipher list; c that of the sorted extension list without SNI and
// ALPN, followed by "_" and the signature algorithms in wire order when there are any.
// JA4_r shows the lists instead of their hashes, and JA4_o and JA4_ro keep the original
// order (SNI and ALPN included). GREASE values are ignored everywhere. As in FoxIO's
// reference implementation, c is 000000000000 in both JA4 and JA4_o when the sorted
// extension list is empty and there are no signature algorithms, and b is 000000000000
// when there are no ciphers. The other JA4+ methods (JA4H, JA4S, ...) are under a
// different licence and are not implemented.
//
// JA3 (Salesforce, BSD-3-Clause) is "version,ciphers,extensions,curves,point formats" in
// decimal with GREASE removed, and its MD5. JA3N is JA3 with the extensions sorted, which
// keeps one value for browsers that permute their extension order per connection.
//
// # Limits
//
// A ClientHello body may be at most 64 KiB (crypto/tls's limit, [MaxHelloBody]), each
// TLS record at most 16 KiB of payload. A Tee records only the handshake message, never
// more than 4 bytes plus its limit, whatever the record framing.
package tlsfp
