// Package clientip finds the IP address of the client that sent an HTTP request,
// believing forwarding headers only as far as configured proxies vouch for them.
//
// # Trust model
//
// The one address a server knows for certain is the peer of the TCP connection,
// http.Request.RemoteAddr. Everything in a request header was written by somebody,
// and the question is only who: a header is believed exactly when the hop that wrote
// it is a trusted proxy.
//
//   - With no trusted proxies (the zero [Config]), headers are never read and the
//     client is RemoteAddr. This is the default because anyone can send
//     "X-Forwarded-For: 1.2.3.4".
//   - If RemoteAddr is not a trusted proxy, the client is RemoteAddr, whatever the
//     headers say.
//   - If RemoteAddr is a trusted proxy, the chain is read from the right. A proxy
//     appends the address of its own peer, so the rightmost entry was written by
//     RemoteAddr, the entry left of it by that address, and so on. Entries that are
//     trusted proxies are skipped; the first entry that is not a trusted proxy is
//     the client. The entries to its left were written by the client or by hosts
//     before it and are never believed. Taking the leftmost entry instead is the
//     classic spoofing bug (CVE-2025-46814 in fastapi-guard): the leftmost entry is
//     whatever the client chose to send.
//   - If every entry is a trusted proxy, the leftmost one is the client (an internal
//     host calling through the proxies).
//   - If an entry cannot be parsed, or is "unknown" or an obfuscated identifier in
//     Forwarded, the walk stops and the last good address is the client: the hop
//     that wrote the bad entry, which is RemoteAddr if it was the rightmost. The
//     malformed text is never used.
//   - The walk is bounded: at most 32 list elements (empty ones included) and the
//     last 4 KiB of header text are examined, and an element longer than any
//     address could be (128 bytes; 512 for a Forwarded element) is malformed.
//     Where a bound cuts the chain, the walk stops as at a malformed entry, so a
//     long header costs little more than a short one.
//
// Every header line of a field is read, last line first, as one comma-separated
// list, because a proxy may add a line instead of appending to the existing one.
//
// # Which header
//
// [Config.Header] chooses where the chain comes from:
//
//   - "" (the default) or "X-Forwarded-For": X-Forwarded-For, as a chain.
//   - "Forwarded": RFC 7239's Forwarded header (its for= parameters), as a chain.
//     Only the configured header is read, never a fallback to the other: whether a
//     header is present is up to the client, so a fallback would let the client
//     choose which header is believed when a proxy writes one and passes the other
//     through.
//   - Any other name, such as "X-Real-IP" or "CF-Connecting-IP": a header holding a
//     single address. It is believed only when RemoteAddr is trusted, and only if
//     the request has exactly one such line holding exactly one address;
//     otherwise the client is RemoteAddr. Every trusted proxy must set this
//     header, replacing any copy the client sent: one that passes the client's
//     copy through lets the client choose its address.
//
// # Addresses
//
// Every address, from RemoteAddr or a header, is normalised before it is compared
// or returned: an IPv4-mapped IPv6 address becomes IPv4 (::ffff:192.0.2.1 becomes
// 192.0.2.1), an IPv6 zone is dropped (fe80::1%eth0 becomes fe80::1) and a port is
// dropped (192.0.2.1:8080, [2001:db8::1]:4711). A RemoteAddr that is not an IP
// address, as on a Unix socket ("@" or ""), gives the zero netip.Addr, and then no
// header is read either.
//
// Rate limits should be keyed by [Prefix] of the client address, not the address
// itself: a single IPv6 host usually owns a whole /64 and can rotate through it.
package clientip
