package knownclients

import "strings"

// splitAkamai splits an Akamai HTTP/2 fingerprint S|WU|P|PS into its fields.
func splitAkamai(s string) (settings, wu, prio, pseudo string, ok bool) {
	settings, rest, ok1 := strings.Cut(s, "|")
	wu, rest, ok2 := strings.Cut(rest, "|")
	prio, pseudo, ok3 := strings.Cut(rest, "|")
	if !ok1 || !ok2 || !ok3 || strings.IndexByte(pseudo, '|') >= 0 {
		return "", "", "", "", false
	}
	return settings, wu, prio, pseudo, true
}

// appendSettingsKey appends the comparison key of the SETTINGS and WINDOW_UPDATE fields
// to b: "S|WU" with the settings whose id has the GREASE shape 0x?a?a left out. Other
// pairs are kept byte for byte, malformed ones included: they then match nothing.
func appendSettingsKey(b []byte, settings, wu string) []byte {
	first := true
	for settings != "" {
		pair := settings
		if i := strings.IndexByte(settings, ';'); i >= 0 {
			pair, settings = settings[:i], settings[i+1:]
		} else {
			settings = ""
		}
		if isGREASEPair(pair) {
			continue
		}
		if !first {
			b = append(b, ';')
		}
		first = false
		b = append(b, pair...)
	}
	b = append(b, '|')
	return append(b, wu...)
}

// hasGREASE reports whether any pair of the SETTINGS field has a GREASE-shaped id.
func hasGREASE(settings string) bool {
	for settings != "" {
		pair := settings
		if i := strings.IndexByte(settings, ';'); i >= 0 {
			pair, settings = settings[:i], settings[i+1:]
		} else {
			settings = ""
		}
		if isGREASEPair(pair) {
			return true
		}
	}
	return false
}

// isGREASEPair reports whether pair is "id:value" with a decimal id of the shape
// 0x?a?a, the reserved values clients send to exercise extension points (RFC 8701 for
// TLS; Chrome has sent such SETTINGS ids, for example 31386 = 0x7a9a).
func isGREASEPair(pair string) bool {
	id := 0
	i := 0
	for ; i < len(pair) && pair[i] != ':'; i++ {
		c := pair[i]
		if c < '0' || c > '9' || i >= 5 {
			return false
		}
		id = id*10 + int(c-'0')
	}
	if i == 0 || i == len(pair) || id > 0xffff {
		return false
	}
	return id&0x0f0f == 0x0a0a
}

// parseH2Key splits an observed Akamai string and writes the comparison key of its
// SETTINGS and WINDOW_UPDATE fields ("S|WU", GREASE removed) into buf. buf should be
// large enough to keep the key on the caller's stack; a longer key is allocated. The
// results are separate, not a struct, so that escape analysis keeps buf on the stack
// while settings and pseudo (substrings of akamai) go elsewhere.
func parseH2Key(akamai string, buf []byte) (settings, pseudo string, key []byte, ok bool) {
	settings, wu, _, pseudo, ok := splitAkamai(akamai)
	if !ok {
		return "", "", nil, false
	}
	if hasGREASE(settings) {
		key = appendSettingsKey(buf[:0], settings, wu)
	} else {
		key = append(buf[:0], akamai[:len(settings)+1+len(wu)]...)
	}
	return settings, pseudo, key, true
}
