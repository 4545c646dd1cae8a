// Package knownclients maps network fingerprints to the client families that produce
// them, and checks whether the fingerprints of a request agree with the family its
// User-Agent claims.
//
// A [Table] holds client families (chrome, firefox, safari, curl, go, python-requests,
// ...), each with a [Kind] (browser, library, crawler, automation), the TLS stacks it
// uses and evidence templates: JA4 values, HTTP/2 SETTINGS and pseudo-header orders,
// and header-order templates for HTTP/1.1 and HTTP/2. [Default] returns the table
// embedded in the binary; [Parse] reads another and [Table.Merge] lays a policy
// overlay over one, so new browser releases need no new binary.
//
// # Trust model
//
// Every fingerprint is chosen by the client. A match says what a client looks like, not
// what it is: impersonation libraries copy browser TLS and HTTP/2 fingerprints, and
// TLS-intercepting proxies, CDNs and antivirus products replace the client's TLS (and
// sometimes its header order) with their own. Use lookups and [Table.Compare] as
// signals combined with behaviour, never as the only key of a ban. Lookup inputs may be
// untrusted; they are only compared, never interpreted. Table data (the embedded file
// and overlays) is trusted configuration and is validated strictly.
//
// # Stacks and families
//
// JA4 is a_b_c; its b part ("JA4_b") hashes the sorted cipher list, which a TLS
// library's configuration decides. A JA4_b therefore identifies a TLS stack that
// several families share: every Chromium-based browser uses BoringSSL as Chromium
// configures it, python-requests and urllib share Python's ssl module. Full JA4 values
// change with resumption (pre_shared_key and session tickets add extensions) and with
// releases, so each family lists several, and a comparison falls back to JA4_b.
//
// A family may name another in "like": it then shares all of that family's
// fingerprints (Edge, Opera, Brave and headless Chrome are like chrome). A family and
// every family it is like form a group, named by the family at the end of the chain.
// Lookups return the owner of the evidence and every family like it. A family may also
// map an operating system to the family whose fingerprints it shows there, under
// "platforms": every browser on iOS uses WebKit networking, so chrome on "ios" shows
// safari's fingerprints.
//
// # Lookups and confidence
//
// [Table.ByJA4], [Table.ByJA4B], [Table.ByH2] and [Table.ByHeaderOrder] return
// [Match] values with a [Confidence] that orders the kinds of evidence: an exact JA4
// (90) over a JA4_b stack (70) over HTTP/2 SETTINGS with pseudo-header order (50),
// SETTINGS alone (45) or pseudo-header order alone (40), over an exact header order
// (30) and a tolerant one (20).
//
// HTTP/2 evidence is compared as the Akamai string's SETTINGS and WINDOW_UPDATE fields
// ("S|WU") and its pseudo-header order ("m,a,s,p"). SETTINGS ids of the GREASE shape
// 0x?a?a are dropped before comparing. The PRIORITY field is not compared, because
// implementations disagree on what it holds.
//
// # Header-order tolerance
//
// A header template lists names in the order a family sends them, with their case, and
// marks some optional. Names are compared by identity case-insensitively, and then
// their spelling must be the template's exactly (case is part of the fingerprint: a
// Title-Case Sec-Ch-Ua over HTTP/1.1 was canonicalised by a Go or Java stack, not sent
// by Chrome). Observed names match a template
//
//   - exactly when they are the template's names, in order, with the same spelling and
//     nothing else;
//   - tolerantly when every non-optional template name is present, the names the
//     template lists appear in its order and spelling, each at most once, and at most
//     [MaxInserted] other names (Cookie, Referer, a custom header, ...) are inserted
//     anywhere, no more than the template names present. The cost of a tolerant match is the number of absent optional names
//     plus the number of inserted ones; lookups return the cheapest templates.
//
// HTTP/2 pseudo-header names (starting with ':') are ignored in header orders. A
// template has a request kind: "navigation" templates describe top-level navigations
// only (subresources, XHR, preflights and service-worker requests send other headers),
// "any" templates describe every request of a library.
//
// # Consistency
//
// [Table.Compare] compares three layers of evidence with the family a request claims
// and returns an [Assessment]. Each layer agrees, disagrees or is unknown; evidence that
// is absent or not in the table is unknown, never disagreement, and so is every layer
// for which the table has no data about the claimed family (its stacks, HTTP/2 values
// or header templates for the protocol).
//
//   - TLS (weight 3): agrees when the JA4 is one of the claimed group's, or when its
//     JA4_b belongs to a stack the claimed family uses (so resumption and new releases
//     still agree); disagrees when the JA4_b belongs to another stack, or when a
//     browser's JA4 offers another first ALPN than the family always offers ("h1" or
//     "00" under a Chrome User-Agent is a scripted client).
//   - HTTP/2 (weight 2): disagrees when the SETTINGS or the pseudo-header order are
//     known for other families but not for the claimed group; agrees when they are the
//     group's.
//   - Headers (weight 1): agrees when a template of the claimed group matches exactly
//     or tolerantly; disagrees when a name the group's binding templates list arrives
//     with another spelling, when the names contradict the order of every binding
//     template that applies to the request kind, or when the names are exactly another
//     family's template. Navigation templates are applied to order only when the
//     caller says the request is a navigation.
//
// The score is the sum of the weights of the disagreeing layers. The verdict is
// inconsistent for a score of 2 or more (TLS or HTTP/2 disagree), suspicious for 1
// (only the header order disagrees), consistent for 0 when at least one layer agrees,
// and unknown when no layer could be compared. Before comparing, the claimed family is
// replaced by the family its "platforms" entry names for the claimed operating system,
// and Chromium forks and headless Chrome compare as chrome through "like".
//
// # Data format
//
// The data is one JSON object; unknown fields are errors, and every entry and value
// names where it came from in a "source" field.
//
//	{
//	  "version": 1,                     // the format version, FormatVersion (required)
//	  "revision": "2026-11-21.1",       // names the data release
//	  "stacks": [{
//	    "name": "boringssl", "description": "...", "source": "...",
//	    "ja4b": [{"value": "8daaf6152771", "source": "..."}]   // unique across stacks
//	  }],
//	  "families": [{
//	    "name": "chrome", "kind": "browser", "description": "...", "source": "...",
//	    "like": "",                     // share another family's fingerprints
//	    "stacks": ["boringssl"],        // inherited through like when absent
//	    "alpn": ["h2"],                 // JA4 ALPN codes always offered first; inherited
//	    "platforms": {"ios": "safari"}, // OS → family whose fingerprints show; inherited
//	    "ja4": [{"value": "t13d1516h2_8daaf6152771_02713d6af862", "source": "..."}],
//	    "h2": [{"akamai": "S|WU|P|PS", "source": "..."},
//	           {"settings": "S|WU", "pseudo": "m,p,a,s", "source": "..."},
//	           {"pseudo": "m,a,s,p", "source": "..."}],
//	    "headers": [{"proto": "h1", "request": "navigation", "case": "mixed",
//	                 "binding": true, "names": ["Host", "..."], "optional": ["..."],
//	                 "source": "..."}]
//	  }]
//	}
//
// A JA4's cipher hash must be a "ja4b" value of one of the family's stacks. "case" is
// "lower", "title" or "mixed" and must agree with the names ([CaseOf]); "request" is
// "navigation", "other" or "any". A template is "binding" when the family always sends
// that order for that request kind, so that contradicting it counts against a claim;
// other templates only produce matches. An overlay for [Table.Merge] has the same
// format, and its stacks and families may carry "extend": true.
//
// The embedded file is data/knownclients.json, and data/NOTICE holds the licences of
// the sources it draws on (see [Notice]).
package knownclients
