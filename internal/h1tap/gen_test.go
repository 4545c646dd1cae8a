package h1tap

import (
	"strconv"
	"strings"
)

// choices reads fuzz input as a sequence of decisions; past its end every decision
// is 0.
type choices struct{ b []byte }

func (c *choices) next() byte {
	if len(c.b) == 0 {
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

// pick returns one of opts.
func pick[T any](c *choices, opts ...T) T { return opts[int(c.next())%len(opts)] }

// chance reports true with probability about n/256.
func (c *choices) chance(n int) bool { return int(c.next()) < n }

// generate turns fuzz input into a pipelined stream of mostly well-formed requests
// with the variations that decide framing: Content-Length and Transfer-Encoding
// alone, together, repeated, folded or malformed; chunk extensions, trailers and
// bad chunk lines; bare LF; obs-fold; CR/LF between requests; upgrades. Byte-level
// mutation alone rarely keeps a stream valid enough to reach the body rules.
func generate(in []byte) string {
	c := &choices{b: in}
	var s strings.Builder
	for n := 0; n < 6 && len(c.b) > 0; n++ {
		if c.chance(12) {
			s.WriteString(pick(c, "\r\n", "\n", "\r\n\r\n", "\r\n\r\n\r\n"))
		}
		eol := "\r\n"
		if c.chance(24) {
			eol = "\n"
		}
		method := pick(c, "GET", "GET", "POST", "POST", "PUT", "HEAD", "OPTIONS", "DELETE", "PATCH", "M-X", "CONNECT", "PRI")
		target := pick(c, "/", "/a?b=c", "/x", "*", "http://h/x", "h:443", "/%zz")
		version := "HTTP/1.1"
		if c.chance(24) {
			version = pick(c, "HTTP/1.0", "HTTP/1.9", "HTTP/2.0", "HTTP/0.9", "http/1.1")
		}
		s.WriteString(method + " " + target + " " + version + eol)

		body := pick(c, "", "hello", "a\r\nb", strings.Repeat("b", int(c.next())))
		// Framing: 0 none, 1 Content-Length, 2 chunked, 3 both.
		framing := c.next() % 4
		var fields []string
		if !c.chance(8) {
			fields = append(fields, pick(c, "Host", "host", "HOST")+": a")
		}
		if framing&1 != 0 {
			for k := 1 + int(c.next()%8/7); k > 0; k-- { // sometimes twice
				fields = append(fields, "Content-Length: "+lengthValue(c, len(body)))
			}
		}
		if framing&2 != 0 {
			for k := 1 + int(c.next()%16/15); k > 0; k-- {
				v := "chunked"
				if c.chance(24) {
					v = pick(c, "Chunked", "gzip", "chunked, gzip", "identity", "chunked ")
				}
				fields = append(fields, "Transfer-Encoding: "+v)
			}
		}
		for h := int(c.next() % 6); h > 0; h-- {
			fields = append(fields, extraField(c))
		}
		// Shuffle a little: swap a pair.
		if len(fields) > 1 {
			a, b := int(c.next())%len(fields), int(c.next())%len(fields)
			fields[a], fields[b] = fields[b], fields[a]
		}
		for _, f := range fields {
			if c.chance(40) {
				f = flipCase(c, f[:strings.IndexByte(f, ':')]) + f[strings.IndexByte(f, ':'):]
			}
			if c.chance(16) {
				f = strings.Replace(f, ": ", pick(c, ":", ":\t", " : ", ":"+eol+" "), 1)
			}
			s.WriteString(f)
			if c.chance(10) {
				s.WriteString(eol + pick(c, " ", "\t", "  ") + pick(c, "", "more", "1"))
			}
			s.WriteString(eol)
		}
		s.WriteString(eol)
		switch {
		case framing&2 != 0:
			writeChunks(c, &s, body)
		case framing&1 != 0:
			s.WriteString(body)
		case c.chance(8):
			s.WriteString(body) // an undeclared body: the next request line
		}
	}
	return s.String()
}

// lengthValue is a Content-Length value for n, now and then a malformed one.
func lengthValue(c *choices, n int) string {
	v := strconv.Itoa(n)
	if !c.chance(40) {
		return v
	}
	return pick(c, "+"+v, "0"+v, " "+v+" ", "", strconv.Itoa(n+1), v+", "+v, "-1", "0x"+v, "99999999999999999999")
}

// extraField is a header field that does not decide framing, or one that may.
func extraField(c *choices) string {
	switch c.next() % 12 {
	case 0:
		return "User-Agent: " + pick(c, "ua/1", "", "a\tb", "x y ")
	case 1:
		return "Upgrade: websocket"
	case 2:
		return "Trailer: " + pick(c, "X-T", "Content-Length", "")
	case 3:
		return "Pragma: no-cache"
	case 4:
		return "Expect: " + pick(c, "100-continue", "nothing")
	case 5:
		return "Connection: " + pick(c, "close", "keep-alive", "Upgrade")
	case 6:
		return "Cache-Control: max-age=0"
	case 7:
		return pick(c, "Cookie", "Referer", "Accept-Language", "sec-ch-ua") + ": 1"
	case 8:
		return pick(c, "X Bad", "X\x00Y", "", "X-\xe9") + ": 1"
	case 9:
		return "X-V: " + pick(c, "a\x00b", "\x7f", "\xe9", "a\rb")
	}
	return pick(c, "X-A", "x-a", "Accept", "X-"+strings.Repeat("n", 40)) + ": v"
}

func flipCase(c *choices, s string) string {
	b := []byte(s)
	for i := range b {
		if c.chance(128) && ('a' <= b[i]|0x20 && b[i]|0x20 <= 'z') {
			b[i] ^= 0x20
		}
	}
	return string(b)
}

// writeChunks writes body in chunked coding with the variations net/http is strict
// about.
func writeChunks(c *choices, s *strings.Builder, body string) {
	for len(body) > 0 {
		n := min(1+int(c.next()%8), len(body))
		size := strconv.FormatInt(int64(n), 16)
		switch c.next() % 32 {
		case 0:
			size = "0000" + size
		case 1:
			size = strings.ToUpper(size) + " "
		case 2:
			size += ";ext=1"
		case 3:
			size += " ;ext"
		case 4:
			size = " " + size
		}
		end, after := "\r\n", "\r\n"
		if c.chance(24) {
			end = pick(c, "\n", "\r\r\n", "\r")
		}
		if c.chance(24) {
			after = pick(c, "\n", "", "\r\n\r\n")
		}
		s.WriteString(size + end + body[:n] + after)
		body = body[n:]
	}
	s.WriteString(pick(c, "0\r\n", "0\r\n", "0\r\n", "0;x\r\n", "0\n"))
	for t := int(c.next() % 4 / 2); t > 0; t-- {
		s.WriteString(pick(c, "X-T: 1", "X-U: 2", "X-T: 1", " folded", "bad") + pick(c, "\r\n", "\r\n", "\r\n", "\n"))
	}
	s.WriteString(pick(c, "\r\n", "\r\n", "\r\n", "\n"))
}
