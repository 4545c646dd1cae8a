// Package redact removes secrets and personal data from text, HTTP headers, URLs,
// query strings, form bodies and JSON before they are stored or sent. Vigil's
// telemetry agent runs every event through it before the event leaves the process; it
// works on its own, with the standard library only.
//
// A [Redactor] is made once from a [Config] and shared. It finds secrets two ways: by
// name (the values of an Authorization header, a "password" member, a "token" query
// parameter are secrets whatever they look like) and by shape (a JWT or a GitHub token
// is a secret wherever it appears, including in free text such as a log line or a
// detector's quote of a request).
//
// # Placeholders
//
// A secret is replaced by
//
//	[REDACTED:<KIND>:<n>_chars]
//
// where n is the number of characters (runes) of the replaced value, after decoding the
// JSON string escapes or percent-encoding of its container. The kinds:
//
//	JWT           a JSON Web Token (or JWE): "eyJ" base64url, then one or more ".part"
//	BEARER        the credential after "Bearer" (or in an Authorization value) that is not a JWT
//	BASIC         the base64 "user:password" after "Basic"
//	AWS_KEY       an AWS access key ID: AKIA, ASIA, ... and 16 upper-case letters or digits
//	GITHUB_TOKEN  ghp_, gho_, ghu_, ghs_, ghr_ and 30+ alphanumerics; github_pat_ and 20+
//	STRIPE_KEY    sk_live_, sk_test_, rk_live_, rk_test_, whsec_ and 10+ alphanumerics
//	SLACK_TOKEN   xoxb-, xoxp-, xoxa-, xoxo-, xoxs-, xoxr-, xoxe-, xapp- and 10+ characters
//	GOOGLE_KEY    AIza and 35 characters (API key); ya29. and 20+ (OAuth access token)
//	OPENAI_KEY    sk- and 20+ base64url characters (OpenAI sk-proj-, and Anthropic sk-ant-)
//	TOKEN         a high-entropy token (below), or a GitLab glpat-, npm npm_ or SendGrid SG. key
//	PRIVATE_KEY   a PEM block "-----BEGIN ... PRIVATE KEY-----" to its END line (or to the
//	              end of the text when the END line is missing)
//	CARD          a payment card number (below)
//	PASSWORD      the value of a password-like field, or the password of a URL's user information
//	SECRET        the value of another sensitive field or header, of any shape
//	COOKIE        a cookie's value without a recognised shape
//
// A value found by name takes the kind of its shape when it has one (a JWT in a
// "token" parameter is JWT), else the kind of its name. Values that are already
// placeholders are left alone, so redacting twice gives what redacting once gives.
//
// # E-mail addresses and phone numbers
//
// E-mail addresses and phone numbers are personal data rather than secrets: they are
// masked ("j***@g***.com", "+* (***) ***-**71"), replaced with a keyed hash
// ("email:hmac:1a2b3c4d5e6f", so that Studio can correlate events without seeing the
// address) or kept, as [Config].Emails and [Config].Phones say (see [Mode]). Masks and
// hashes are not found again.
//
// In free text, an e-mail address is a local part of letters, digits and "._%+-", an
// "@" (or its encoding "%40"), and a domain of at least two labels whose last is two or
// more letters. A phone number is an international number ("+" and 8 to 15 digits,
// with single spaces, dots, dashes or parentheses between them) or a North American
// one written with separators ("(415) 555-2671", "415-555-2671"). Bare digit runs are
// not taken for phone numbers, and other national formats are found only in fields
// named like phone numbers (phone, mobile, tel, msisdn, ...): [Redactor.Phone] applies
// to those whatever they hold, and [Redactor.Email] to fields named email or mail.
//
// # Names
//
// Header values are replaced whole when the name is Authorization,
// Proxy-Authorization, X-Api-Key, Api-Key, X-Auth or X-Amz-Security-Token, or contains
// token, secret, session, passw, apikey, api-key, api_key, credential, signature,
// csrf, xsrf, private-key or access-key (case ignored), or is one of
// [Config].Headers. Cookie and Set-Cookie keep cookie names and Set-Cookie attributes.
//
// Field names (JSON members, query and form parameters) are compared with case, "-",
// "_", "." and spaces ignored. PASSWORD: names containing passw or passphrase, and
// pwd, pass, pin, pincode. SECRET: names containing secret, token, apikey, accesskey,
// privatekey, credential, sessionid, sessid, authorization, signature, cookie, jwt or
// bearer; the names session, sid, key, code, auth, authcode, otp, totp, mfa, sig, cvv,
// cvc, ssn, nonce, hmac, license and a few more; and [Config].Fields. In free text
// ("password=x", `"api_key": "x"`, "Authorization: Bearer x"), only the unambiguous
// names count: not key, code, pin, auth and the like, which ordinary messages use
// ("status code: 502"); and a SECRET name glued to the next word by a colon
// ("cookie:theme", "header:x-token") is a label naming a field, as Vigil's findings
// write them, not a pair (PASSWORD names are pairs either way; a token glued on is
// still found by its shape).
//
// # High-entropy tokens
//
// Opaque secrets without a known prefix are found by how random they look. A run of
// letters, digits and "+/-_~%" of at least 20 characters is a TOKEN when it has both
// upper- and lower-case letters, the character class changes between at least 30% of
// its adjacent alphanumeric pairs (40% with no digit), less than 55% of it is in
// word-like runs (a capital and three or more lower-case letters), and the Shannon
// entropy of its characters is at least 0.8·log2(length) bits (length capped at 64).
// Dots split runs (they separate JWT parts and host labels); a run that starts with
// "/" or does not pass as a whole is split at "/" and each part is tried alone, so a
// token in a path is found and the path kept.
//
// Kept on purpose: hex digests, UUIDs, ULIDs (Vigil's request IDs) and other
// single-case identifiers, because IDs are what an operator needs to read; names
// followed by a file extension (".png", ".js", ...); camelCase identifiers and
// user agents. The cost: secrets written in one case (hex session IDs, base32 TOTP
// seeds) are found only by name, and random mixed-case IDs such as 21-character
// nanoids are redacted. About 3% of random 20-character base64url tokens, 1% of
// 32-character and 0.5% of 40-character ones are missed (TestGenericMissRate
// measures it); longer tokens are missed less.
//
// # Card numbers
//
// A card number is 13 to 19 digits, in groups separated by single spaces or dashes,
// that passes the Luhn check and starts like a card of a network (3, 4, 5, 6, or
// 2221–2720), not inside a word or a decimal number. Luhn alone would take one random
// number in ten; the prefix rule keeps millisecond timestamps and snowflake IDs, which
// start with 1. A Luhn-valid order number starting with 3–6 is still redacted. When
// more digit groups follow a card (its security code), the longest valid prefix of
// whole groups is the card.
//
// # Not redacted
//
// Attack payloads (SQL injection, XSS, path traversal) are kept for forensics unless
// they sit in a sensitive field; client IP addresses are kept; secrets split across
// strings, encoded (base64 of a JSON with a password inside, except Basic
// credentials) or outside ASCII are not found. Redaction lowers the risk of what is
// stored; it does not make untrusted text safe to render.
package redact
