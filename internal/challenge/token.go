package challenge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math/bits"
	"time"
)

// Token and cookie formats. Both are unpadded base64url (RFC 4648 §5), decoded
// strictly so that each value has exactly one encoding.
//
//	challenge token: version 1 | expiry (8, big-endian Unix seconds) | difficulty (1) |
//	                 random (16) | HMAC-SHA256(challenge key, the above ‖ binding) (32)
//	pass cookie:     version 1 | expiry (8) | HMAC-SHA256(pass key, the above ‖ binding) (32)
//
// The binding's encoding is appendBinding's; it is not in the token or the cookie.
const (
	version = 1

	tokenPayload = 1 + 8 + 1 + 16
	tokenBytes   = tokenPayload + sha256.Size
	tokenChars   = (tokenBytes*8 + 5) / 6

	passPayload = 1 + 8
	passBytes   = passPayload + sha256.Size
	passChars   = (passBytes*8 + 5) / 6

	// maxNonceDigits bounds a solution's length. JavaScript counts exactly to 2^53,
	// 16 digits.
	maxNonceDigits = 20
)

// b64 is the strict unpadded base64url encoding of tokens and cookies.
var b64 = base64.RawURLEncoding.Strict()

// token is what a challenge token says once its HMAC has been checked.
type token struct {
	expiry     int64 // Unix seconds
	difficulty int
}

// issue appends a new challenge token for b, expiring ChallengeTTL after now, to dst.
func (c *Challenger) issue(dst []byte, b Binding, now time.Time) []byte {
	var random [16]byte
	_, _ = rand.Read(random[:]) // never fails: crypto/rand.Read crashes the program instead
	return c.issueWith(dst, b, now, random)
}

// issueWith is issue with the token's random bytes given.
func (c *Challenger) issueWith(dst []byte, b Binding, now time.Time, random [16]byte) []byte {
	var raw [tokenBytes]byte
	raw[0] = version
	binary.BigEndian.PutUint64(raw[1:9], uint64(now.Add(c.cfg.ChallengeTTL).Unix()))
	raw[9] = byte(c.cfg.Difficulty)
	copy(raw[10:tokenPayload], random[:])
	var sum [sha256.Size]byte
	mac(&c.challengeMACs, &sum, raw[:tokenPayload], b)
	copy(raw[tokenPayload:], sum[:])
	return b64.AppendEncode(dst, raw[:])
}

// parseToken decodes s and checks its HMAC for b. It does not check the expiry.
func (c *Challenger) parseToken(s string, b Binding) (token, bool) {
	var raw [tokenBytes]byte
	if !b.IPPrefix.IsValid() || !decode(raw[:], s) || raw[0] != version {
		return token{}, false
	}
	var sum [sha256.Size]byte
	mac(&c.challengeMACs, &sum, raw[:tokenPayload], b)
	if !hmac.Equal(sum[:], raw[tokenPayload:]) {
		return token{}, false
	}
	t := token{expiry: int64(binary.BigEndian.Uint64(raw[1:9])), difficulty: int(raw[9])}
	if t.difficulty < 1 || t.difficulty > MaxDifficulty {
		return token{}, false // unreachable: only New's validated difficulties are signed
	}
	return t, true
}

// pass appends a pass cookie value for b expiring at exp to dst.
func (c *Challenger) pass(dst []byte, b Binding, exp time.Time) []byte {
	var raw [passBytes]byte
	raw[0] = version
	binary.BigEndian.PutUint64(raw[1:9], uint64(exp.Unix()))
	var sum [sha256.Size]byte
	mac(&c.passMACs, &sum, raw[:passPayload], b)
	copy(raw[passPayload:], sum[:])
	return b64.AppendEncode(dst, raw[:])
}

// validPass reports whether s is a pass cookie value for b valid at now. It checks the
// cheap things first: a request with an expired pass costs no HMAC.
func (c *Challenger) validPass(s string, b Binding, now time.Time) bool {
	var raw [passBytes]byte
	if !decode(raw[:], s) || raw[0] != version {
		return false
	}
	exp := int64(binary.BigEndian.Uint64(raw[1:9]))
	if t := now.Unix(); t >= exp || exp > now.Add(c.cfg.PassTTL+maxSkew).Unix() {
		return false
	}
	var sum [sha256.Size]byte
	mac(&c.passMACs, &sum, raw[:passPayload], b)
	return hmac.Equal(sum[:], raw[passPayload:])
}

// decode decodes s, strictly, into exactly len(dst) bytes, without allocating.
func decode(dst []byte, s string) bool {
	var src [tokenChars]byte
	if len(s) != b64.EncodedLen(len(dst)) || len(s) > len(src) {
		return false
	}
	n := copy(src[:], s)
	k, err := b64.Decode(dst, src[:n])
	return err == nil && k == len(dst)
}

// validNonce reports whether s is a solution's shape: 1 to maxNonceDigits ASCII
// digits.
func validNonce(s string) bool {
	if s == "" || len(s) > maxNonceDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// solves reports whether SHA-256(tok ‖ nonce) starts with difficulty zero bits, for
// difficulty up to 64.
func solves(tok, nonce string, difficulty int) bool {
	var buf [tokenChars + maxNonceDigits]byte
	if len(tok)+len(nonce) > len(buf) {
		return false
	}
	n := copy(buf[:], tok)
	n += copy(buf[n:], nonce)
	sum := sha256.Sum256(buf[:n])
	return bits.LeadingZeros64(binary.BigEndian.Uint64(sum[:8])) >= difficulty
}
