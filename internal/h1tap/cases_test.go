package h1tap

import (
	"math/rand/v2"
	"strings"
)

// view is a Head as the tests compare it.
type view struct {
	Status    Status
	Method    string
	Target    string
	Names     []string
	Lines     int
	UA        string
	TE        string
	Upgrade   string
	CL        int64
	HasCL     bool
	Cookie    bool
	Referer   bool
	Lang      bool
	Truncated bool
	Folded    bool
}

func viewOf(h Head) view {
	cl, hasCL := h.ContentLength()
	return view{
		Status:    h.Status(),
		Method:    h.Method(),
		Target:    h.Target(),
		Names:     h.AppendNames(nil),
		Lines:     h.Lines(),
		UA:        h.UserAgent(),
		TE:        h.TransferEncoding(),
		Upgrade:   h.Upgrade(),
		CL:        cl,
		HasCL:     hasCL,
		Cookie:    h.HasCookie(),
		Referer:   h.HasReferer(),
		Lang:      h.HasAcceptLanguage(),
		Truncated: h.Truncated(),
		Folded:    h.Folded(),
	}
}

// pop is one handler's Pop and what it must return.
type pop struct {
	method, target string
	want           view
}

// tapCase is a byte stream from a client and the Pops of the handlers net/http runs
// for it, in order. The first served pops are requests net/http hands to a handler;
// the pops after them probe the tap's state where net/http would have closed the
// connection. Expectations are written from the HTTP/1.1 grammar and net/http's
// rules, not copied from the tap's output; the server tests check the served pops
// against a real http.Server.
type tapCase struct {
	name   string
	in     string
	pops   []pop
	served int
}

// crlf joins lines with CRLF and ends the head with an empty line.
func crlf(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }

func unknown(method, target string, s Status) pop {
	return pop{method, target, view{Status: s, Names: nil}}
}

// chromeHead is Chrome's top-level navigation over HTTP/1.1: the headers of
// vigiltest.NavigationRequest in the order and case Chrome sends them (sec-ch-ua*
// lowercase, everything else Title-Case).
var chromeHead = crlf(
	"GET /products/42?ref=home HTTP/1.1",
	"Host: shop.example",
	"Connection: keep-alive",
	`sec-ch-ua: "Chromium";v="142", "Google Chrome";v="142", "Not_A Brand";v="99"`,
	"sec-ch-ua-mobile: ?0",
	`sec-ch-ua-platform: "Windows"`,
	"Upgrade-Insecure-Requests: 1",
	"User-Agent: "+chromeUA,
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
	"Sec-Fetch-Site: same-origin",
	"Sec-Fetch-Mode: navigate",
	"Sec-Fetch-User: ?1",
	"Sec-Fetch-Dest: document",
	"Accept-Encoding: gzip, deflate, br, zstd",
	"Accept-Language: en-GB,en;q=0.9,de;q=0.8",
	"Cookie: session=3f1c2a9e8b7d6c5f4a3b2c1d0e9f8a7b; theme=dark",
)

const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"

var chromeView = view{
	Status: StatusOK, Method: "GET", Target: "/products/42?ref=home",
	Names: []string{"Host", "Connection", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform",
		"Upgrade-Insecure-Requests", "User-Agent", "Accept", "Sec-Fetch-Site", "Sec-Fetch-Mode",
		"Sec-Fetch-User", "Sec-Fetch-Dest", "Accept-Encoding", "Accept-Language", "Cookie"},
	Lines: 15, UA: chromeUA, Cookie: true, Lang: true,
}

// The verified case of the reference: four pipelined requests, each with the names
// host, content-length (or transfer-encoding), X-Zed, user-agent.
var pipeline = crlf("GET /one HTTP/1.1", "host: a", "content-length: 0", "X-Zed: 1", "user-agent: client/1") +
	crlf("POST /two HTTP/1.1", "host: a", "content-length: 5", "X-Zed: 2", "user-agent: client/2") + "hello" +
	crlf("POST /three HTTP/1.1", "host: a", "transfer-encoding: chunked", "X-Zed: 3", "user-agent: client/3") +
	"4;ext=1;q=\"x y\"\r\nwiki\r\n5\r\npedia\r\n0\r\nX-Sum: 9\r\nX-Other: 1\r\n\r\n" +
	crlf("GET /four HTTP/1.1", "host: a", "content-length: 0", "X-Zed: 4", "user-agent: client/4")

var pipelinePops = []pop{
	{"GET", "/one", view{Status: StatusOK, Method: "GET", Target: "/one", Lines: 4, UA: "client/1", HasCL: true,
		Names: []string{"host", "content-length", "X-Zed", "user-agent"}}},
	{"POST", "/two", view{Status: StatusOK, Method: "POST", Target: "/two", Lines: 4, UA: "client/2", CL: 5, HasCL: true,
		Names: []string{"host", "content-length", "X-Zed", "user-agent"}}},
	{"POST", "/three", view{Status: StatusOK, Method: "POST", Target: "/three", Lines: 4, UA: "client/3", TE: "chunked",
		Names: []string{"host", "transfer-encoding", "X-Zed", "user-agent"}}},
	{"GET", "/four", view{Status: StatusOK, Method: "GET", Target: "/four", Lines: 4, UA: "client/4", HasCL: true,
		Names: []string{"host", "content-length", "X-Zed", "user-agent"}}},
}

// after is a plain request that follows a case's interesting one, to show the tap is
// still in step (or has given up).
var after = crlf("GET /after HTTP/1.1", "Host: a")

var afterView = view{Status: StatusOK, Method: "GET", Target: "/after", Names: []string{"Host"}, Lines: 1}

func afterPop() pop { return pop{"GET", "/after", afterView} }

const bigPad = 70000 // a header value longer than the 64 KiB recording bound

var tapCases = []tapCase{
	{
		name:   "chrome_navigation",
		in:     chromeHead,
		pops:   []pop{{"GET", "/products/42?ref=home", chromeView}},
		served: 1,
	},
	{
		name:   "verified_pipeline",
		in:     pipeline,
		pops:   pipelinePops,
		served: 4,
	},
	{
		name: "bare_lf",
		in:   "GET /lf HTTP/1.1\nHost: a\nX-B: 1\nUser-Agent: lf\n\n" + after,
		pops: []pop{
			{"GET", "/lf", view{Status: StatusOK, Method: "GET", Target: "/lf", Names: []string{"Host", "X-B", "User-Agent"}, Lines: 3, UA: "lf"}},
			afterPop(),
		},
		served: 2,
	},
	{
		// textproto trims each physical line and joins continuations with a
		// space: "part1" + " " + "part2" + " " + "" (the blank continuation).
		name: "obs_fold",
		in:   "GET /fold HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  cont\r\nUser-Agent: part1\r\n\tpart2  \r\n \r\nAccept: */*\r\n\r\n" + after,
		pops: []pop{
			{"GET", "/fold", view{Status: StatusOK, Method: "GET", Target: "/fold", Names: []string{"Host", "X-A", "User-Agent", "Accept"}, Lines: 4, UA: "part1 part2 ", Folded: true}},
			afterPop(),
		},
		served: 2,
	},
	{
		name: "duplicate_names_in_mixed_case",
		in:   crlf("GET /dup HTTP/1.1", "Host: a", "X-A: 1", "x-a: 2", "X-A: 3", "cookie: a=1", "Cookie: b=2"),
		pops: []pop{
			{"GET", "/dup", view{Status: StatusOK, Method: "GET", Target: "/dup", Names: []string{"Host", "X-A", "x-a", "X-A", "cookie", "Cookie"}, Lines: 6, Cookie: true}},
		},
		served: 1,
	},
	{
		name: "uncommon_spellings_and_long_name",
		in:   crlf("GET /raw HTTP/1.1", "HOST: a", "USER-AGENT: shout", "Referer: /", "x-"+strings.Repeat("n", 40)+": 1", "ACCEPT-language: en"),
		pops: []pop{
			{"GET", "/raw", view{Status: StatusOK, Method: "GET", Target: "/raw", Names: []string{"HOST", "USER-AGENT", "Referer", "x-" + strings.Repeat("n", 40), "ACCEPT-language"}, Lines: 5, UA: "shout", Referer: true, Lang: true}},
		},
		served: 1,
	},
	{
		// RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, and
		// net/http accepts the pair.
		name: "content_length_and_chunked",
		in:   crlf("POST /both HTTP/1.1", "Host: a", "Content-Length: 100", "Transfer-Encoding: chunked") + "3\r\nabc\r\n0\r\n\r\n" + after,
		pops: []pop{
			{"POST", "/both", view{Status: StatusOK, Method: "POST", Target: "/both", Names: []string{"Host", "Content-Length", "Transfer-Encoding"}, Lines: 3, CL: 100, HasCL: true, TE: "chunked"}},
			afterPop(),
		},
		served: 2,
	},
	{
		// net/http ignores Transfer-Encoding on HTTP/1.0 (Go issue 12785).
		name: "http10_ignores_transfer_encoding",
		in: crlf("POST /old HTTP/1.0", "Connection: keep-alive", "Transfer-Encoding: chunked", "Content-Length: 3") + "abc" +
			crlf("GET /old2 HTTP/1.0"),
		pops: []pop{
			{"POST", "/old", view{Status: StatusOK, Method: "POST", Target: "/old", Names: []string{"Connection", "Transfer-Encoding", "Content-Length"}, Lines: 3, CL: 3, HasCL: true, TE: "chunked"}},
			{"GET", "/old2", view{Status: StatusOK, Method: "GET", Target: "/old2", Lines: 0}},
		},
		served: 2,
	},
	{
		name: "equal_duplicate_content_length",
		in:   crlf("POST /cl HTTP/1.1", "Host: a", "Content-Length: 3", "content-length:  3 ") + "abc" + after,
		pops: []pop{
			{"POST", "/cl", view{Status: StatusOK, Method: "POST", Target: "/cl", Names: []string{"Host", "Content-Length", "content-length"}, Lines: 3, CL: 3, HasCL: true}},
			afterPop(),
		},
		served: 2,
	},
	{
		name: "folded_content_length",
		in:   "POST /fcl HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 0003\r\n\r\nabc" + after,
		pops: []pop{
			{"POST", "/fcl", view{Status: StatusOK, Method: "POST", Target: "/fcl", Names: []string{"Host", "Content-Length"}, Lines: 2, CL: 3, HasCL: true, Folded: true}},
			afterPop(),
		},
		served: 2,
	},
	{
		name: "lowercase_chunked_with_trailing_whitespace_on_size",
		in:   crlf("PUT /te HTTP/1.1", "Host: a", "transfer-encoding: Chunked") + "3 \t\r\nabc\r\n0\r\n\r\n" + after,
		pops: []pop{
			{"PUT", "/te", view{Status: StatusOK, Method: "PUT", Target: "/te", Names: []string{"Host", "transfer-encoding"}, Lines: 2, TE: "Chunked"}},
			afterPop(),
		},
		served: 2,
	},
	{
		// After a POST net/http discards up to four CR or LF bytes.
		name: "crlf_after_post_body",
		in:   crlf("POST /p HTTP/1.1", "Host: a", "Content-Length: 1") + "x\r\n\r\n" + after,
		pops: []pop{
			{"POST", "/p", view{Status: StatusOK, Method: "POST", Target: "/p", Names: []string{"Host", "Content-Length"}, Lines: 2, CL: 1, HasCL: true}},
			afterPop(),
		},
		served: 2,
	},
	{
		// net/http answers "OPTIONS *" itself; no handler pops it.
		name:   "options_star_answered_by_server",
		in:     crlf("OPTIONS * HTTP/1.1", "Host: a") + after,
		pops:   []pop{afterPop()},
		served: 1,
	},
	{
		name: "upgrade_passthrough",
		in:   crlf("GET /ws HTTP/1.1", "Host: a", "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13") + after,
		pops: []pop{
			{"GET", "/ws", view{Status: StatusOK, Method: "GET", Target: "/ws", Names: []string{"Host", "Connection", "Upgrade", "Sec-WebSocket-Version"}, Lines: 4, Upgrade: "websocket"}},
			unknown("GET", "/after", StatusPassthrough),
		},
		served: 2,
	},
	{
		name: "connect_passthrough",
		in:   crlf("CONNECT example.com:443 HTTP/1.1", "Host: example.com:443") + after,
		pops: []pop{
			{"CONNECT", "example.com:443", view{Status: StatusOK, Method: "CONNECT", Target: "example.com:443", Names: []string{"Host"}, Lines: 1}},
			unknown("GET", "/after", StatusPassthrough),
		},
		served: 2,
	},
	{
		name: "http2_preface_passthrough",
		in:   "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + after,
		pops: []pop{
			{"PRI", "*", view{Status: StatusOK, Method: "PRI", Target: "*"}},
			unknown("GET", "/after", StatusPassthrough),
		},
		served: 1,
	},
	{
		name: "fifo_overflow",
		in:   strings.Repeat(crlf("GET /n HTTP/1.1", "Host: a"), maxQueue+2),
		pops: append(repeatPop(pop{"GET", "/n", view{Status: StatusOK, Method: "GET", Target: "/n", Names: []string{"Host"}, Lines: 1}}, maxQueue),
			unknown("GET", "/n", StatusOverflow), unknown("GET", "/n", StatusOverflow)),
		served: maxQueue + 2,
	},
	{
		// Names after the first 64 KiB are counted, not recorded; the next
		// request is recorded in full again.
		name: "head_over_64k",
		in:   crlf("GET /big HTTP/1.1", "Host: a", "X-Pad: "+strings.Repeat("p", bigPad), "X-After: 1", "User-Agent: late", "Cookie: c=1") + after,
		pops: []pop{
			{"GET", "/big", view{Status: StatusOK, Method: "GET", Target: "/big", Names: []string{"Host", "X-Pad"}, Lines: 5, Cookie: true, Truncated: true}},
			afterPop(),
		},
		served: 2,
	},
	{
		name: "target_over_64k",
		in:   crlf("GET /"+strings.Repeat("t", bigPad)+" HTTP/1.1", "Host: a") + after,
		pops: []pop{
			{"GET", "/" + strings.Repeat("t", bigPad), view{Status: StatusOK, Method: "GET", Target: "/" + strings.Repeat("t", maxHead-len("GET /")), Lines: 1, Truncated: true}},
			afterPop(),
		},
		served: 2,
	},
	{
		name: "more_than_128_names",
		in:   crlf(append([]string{"GET /many HTTP/1.1", "Host: a"}, repeatString("X-N: 1", maxNames+1)...)...) + after,
		pops: []pop{
			{"GET", "/many", view{Status: StatusOK, Method: "GET", Target: "/many", Names: append([]string{"Host"}, repeatString("X-N", maxNames-1)...), Lines: maxNames + 2, Truncated: true}},
			afterPop(),
		},
		served: 2,
	},
	{
		name: "http10_without_host",
		in:   crlf("GET /h10 HTTP/1.0", "Connection: keep-alive") + crlf("GET /h10b HTTP/1.0"),
		pops: []pop{
			{"GET", "/h10", view{Status: StatusOK, Method: "GET", Target: "/h10", Names: []string{"Connection"}, Lines: 1}},
			{"GET", "/h10b", view{Status: StatusOK, Method: "GET", Target: "/h10b"}},
		},
		served: 2,
	},
	// Requests net/http rejects: the tap gives up, so a later Pop (which net/http
	// never makes on these connections) reports StatusInvalid.
	{name: "rejected_space_before_colon", in: crlf("GET /bad HTTP/1.1", "Host : a") + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_missing_host", in: crlf("GET /bad HTTP/1.1", "X-A: 1") + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_two_hosts", in: crlf("GET /bad HTTP/1.1", "Host: a", "host: b") + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_leading_crlf", in: "\r\n" + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_folded_first_line", in: crlf("GET /bad HTTP/1.1", " X-A: 1", "Host: a") + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_control_byte_in_value", in: crlf("GET /bad HTTP/1.1", "Host: a", "X-A: a\x00b") + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_cr_inside_value", in: crlf("GET /bad HTTP/1.1", "Host: a", "X-A: a\rb") + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_conflicting_content_length", in: crlf("POST /bad HTTP/1.1", "Host: a", "Content-Length: 3", "Content-Length: 4") + "abcd" + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_signed_content_length", in: crlf("POST /bad HTTP/1.1", "Host: a", "Content-Length: +3") + "abc" + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_empty_content_length", in: crlf("POST /bad HTTP/1.1", "Host: a", "Content-Length: ") + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_gzip_transfer_encoding", in: crlf("POST /bad HTTP/1.1", "Host: a", "Transfer-Encoding: gzip, chunked") + "0\r\n\r\n" + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_two_transfer_encodings", in: crlf("POST /bad HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked") + "0\r\n\r\n" + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_http2_get", in: crlf("GET /bad HTTP/2.0", "Host: a") + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{name: "rejected_lowercase_version", in: crlf("GET /bad http/1.1", "Host: a") + after,
		pops: []pop{unknown("GET", "/after", StatusInvalid)}},
	{
		name:   "rejected_crlf_after_get",
		in:     crlf("GET /ok HTTP/1.1", "Host: a") + "\r\n" + after,
		pops:   []pop{{"GET", "/ok", view{Status: StatusOK, Method: "GET", Target: "/ok", Names: []string{"Host"}, Lines: 1}}, unknown("GET", "/after", StatusInvalid)},
		served: 1,
	},
	// Bodies net/http fails to read: it serves the request, then closes.
	{
		name:   "chunk_line_with_bare_lf",
		in:     crlf("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "3\nabc\r\n0\r\n\r\n" + after,
		pops:   []pop{{"POST", "/c", chunkedView("/c")}, unknown("GET", "/after", StatusInvalid)},
		served: 1,
	},
	{
		name:   "chunk_size_of_17_digits",
		in:     crlf("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "00000000000000003\r\nabc\r\n0\r\n\r\n" + after,
		pops:   []pop{{"POST", "/c", chunkedView("/c")}, unknown("GET", "/after", StatusInvalid)},
		served: 1,
	},
	{
		name:   "chunk_whitespace_before_extension",
		in:     crlf("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "3 ;x\r\nabc\r\n0\r\n\r\n" + after,
		pops:   []pop{{"POST", "/c", chunkedView("/c")}, unknown("GET", "/after", StatusInvalid)},
		served: 1,
	},
	{
		name:   "chunk_data_without_crlf",
		in:     crlf("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "3\r\nabcX\r\n0\r\n\r\n" + after,
		pops:   []pop{{"POST", "/c", chunkedView("/c")}, unknown("GET", "/after", StatusInvalid)},
		served: 1,
	},
	{
		// net/http reads this trailer only because its look-ahead finds a
		// CRLFCRLF within 4 KiB, here at the end of the next head; the
		// trailer then ends at its first empty line, the bare LF one.
		name:   "trailer_with_bare_lf",
		in:     crlf("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "0\r\nX-T: 1\n\n" + after,
		pops:   []pop{{"POST", "/c", chunkedView("/c")}, afterPop()},
		served: 2,
	},
	{
		// Without a CRLFCRLF in the next 4 KiB net/http fails the body and
		// closes the connection.
		name:   "trailer_without_crlfcrlf_ahead",
		in:     crlf("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "0\r\nX-T: 1\n\nGET /after HTTP/1.1\nHost: a\n\n",
		pops:   []pop{{"POST", "/c", chunkedView("/c")}, afterPop()},
		served: 1,
	},
	{
		name:   "trailer_over_4k",
		in:     crlf("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "0\r\n" + strings.Repeat("X-T: 1\r\n", 600) + "\r\n" + after,
		pops:   []pop{{"POST", "/c", chunkedView("/c")}, unknown("GET", "/after", StatusInvalid)},
		served: 1,
	},
	{
		name:   "chunked_with_16_digit_size_and_trailer",
		in:     crlf("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "0000000000000003\r\nabc\r\n0;last\r\nX-T: 1\r\n\r\n" + after,
		pops:   []pop{{"POST", "/c", chunkedView("/c")}, afterPop()},
		served: 2,
	},
}

func chunkedView(target string) view {
	return view{Status: StatusOK, Method: "POST", Target: target, Names: []string{"Host", "Transfer-Encoding"}, Lines: 2, TE: "chunked"}
}

func repeatPop(p pop, n int) []pop {
	out := make([]pop, n)
	for i := range out {
		out[i] = p
	}
	return out
}

func repeatString(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// A feeding splits a stream into the chunks Feed receives.
type feeding struct {
	name  string
	split func(s string) []string
}

var feedings = []feeding{
	{"whole", func(s string) []string { return []string{s} }},
	{"byte_by_byte", func(s string) []string { return chunks(s, func() int { return 1 }) }},
	{"random_chunks", func(s string) []string {
		r := rand.New(rand.NewPCG(uint64(len(s)), 1))
		return chunks(s, func() int { return 1 + r.IntN(17) })
	}},
}

// chunks cuts s into pieces of the lengths next returns.
func chunks(s string, next func() int) []string {
	var out []string
	for len(s) > 0 {
		n := min(next(), len(s))
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}
