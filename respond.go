package vigil

import (
	"bufio"
	"encoding/json"
	"html/template"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil/internal/ratelimit"
)

// problem is an RFC 9457 problem document. Nothing in it comes from internal errors or
// from the policy's reasons: a client learns that it was stopped and the request ID to
// quote, not why.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
}

var blockPage = template.Must(template.New("block").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Detail}}</p><p>Request ID: <code>{{.RequestID}}</code></p></body></html>
`))

// respond writes the block, challenge, rate-limit or fail-closed response and returns its
// status.
func (g *Guard) respond(w http.ResponseWriter, r *http.Request, d *decision) int {
	v := d.v
	if v.Action == ActionChallenge && !d.failClosed && (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) {
		// A browser navigation gets the proof-of-work page; anything else, which
		// cannot run it, the problem document below.
		g.chal.Page(w, r, g.binding(r, v))
		return http.StatusForbidden
	}
	p := problem{Type: "about:blank", RequestID: v.RequestID}
	h := w.Header()
	switch {
	case d.failClosed:
		p.Status, p.Title = http.StatusServiceUnavailable, "Service unavailable"
		p.Detail = "The request could not be checked and was not let through. Try again later."
	case d.emergency && v.Action == ActionBlock:
		p.Status, p.Title = http.StatusServiceUnavailable, "Service unavailable"
		p.Detail = "The site is not taking requests at the moment. Try again later."
		h.Set("Retry-After", "120")
	case v.Action == ActionRateLimit:
		p.Status, p.Title = http.StatusTooManyRequests, "Too many requests"
		p.Detail = "Slow down and try again later."
		writeRateLimitHeaders(h, d.limitName, d.limit, d.quota)
	default:
		p.Status, p.Title = http.StatusForbidden, "Request blocked"
		p.Detail = "This request was blocked by the site's security policy. If you think this is a mistake, contact the site and quote the request ID."
	}
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	if wantsHTML(r) {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(p.Status)
		if r.Method != http.MethodHead {
			_ = blockPage.Execute(w, p)
		}
		return p.Status
	}
	body, _ := json.Marshal(p) // cannot fail: plain strings and ints
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(p.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(body, '\n'))
	}
	return p.Status
}

// writeRateLimitHeaders writes Retry-After and the IETF RateLimit-Policy and RateLimit
// headers for the limit that denied the request.
func writeRateLimitHeaders(h http.Header, name string, l Limit, q Quota) {
	ratelimit.Result{Limit: ratelimit.Limit(l), Remaining: q.Remaining, RetryAfter: q.RetryAfter, ResetAfter: q.ResetAfter}.Headers(name, h)
}

// wantsHTML reports whether the client prefers an HTML page: a browser navigation.
func wantsHTML(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "text/html") && !strings.Contains(a, "application/json")
}

// responseRecorder observes the status and size of a response. It forwards the optional
// interfaces through Unwrap (for http.ResponseController) and implements Flush and Hijack
// for handlers that assert them directly.
type responseRecorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *responseRecorder) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// WriteString writes s without converting it to a byte slice first when the wrapped
// writer can (net/http's does), as io.WriteString would for the unwrapped writer.
func (w *responseRecorder) WriteString(s string) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := io.WriteString(w.ResponseWriter, s)
	w.bytes += int64(n)
	return n, err
}

func (w *responseRecorder) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher when the wrapped writer supports flushing.
func (w *responseRecorder) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker when the wrapped writer supports it.
func (w *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

// ReadFrom keeps io.Copy's fast path (sendfile) for handlers such as http.ServeFile.
func (w *responseRecorder) ReadFrom(src io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
	}
	w.bytes += n
	return n, err
}
