package challenge

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

// pageStyle is the page's only style sheet, allowed by its hash.
const pageStyle = `body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222}
progress{width:100%;height:.6rem}#vigil-error{color:#a00}`

// pageScript is the page's only script, allowed by its hash. It reads the challenge
// from the data attributes of #vigil-challenge, searches for a nonce with one Web
// Worker per core (at most eight; worker i tries i, i+n, i+2n, …) or, when workers
// cannot start, on the main thread in slices that leave the page responsive, POSTs the
// first nonce found to the verify path and reloads the page.
//
// pow returns the search function. SHA-256 is written out rather than taken from
// crypto.subtle: that API exists only in secure contexts (not on plain HTTP to a host
// other than localhost), and one promise per candidate is slow: TestE2EChromiumHash
// measured 70,000 to 160,000 hashes a second with crypto.subtle.digest (64 calls
// awaited at a time) against 1.5 to 2.2 million with this code. The state after the
// token's whole 64-byte blocks is computed once per call, so each candidate costs one
// compression (two when the tail does not fit).
const pageScript = `(function () {
"use strict";
function pow() {
  var K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  var IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  var W = new Int32Array(64), S = new Int32Array(8), M = new Int32Array(8), buf = new Uint8Array(128);
  function block(st, b, o) {
    var i, x, y;
    for (i = 0; i < 16; i++, o += 4) W[i] = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
    for (i = 16; i < 64; i++) {
      x = W[i - 15]; y = W[i - 2];
      W[i] = (((x >>> 7 | x << 25) ^ (x >>> 18 | x << 14) ^ (x >>> 3)) +
        ((y >>> 17 | y << 15) ^ (y >>> 19 | y << 13) ^ (y >>> 10)) + W[i - 16] + W[i - 7]) | 0;
    }
    var a = st[0], c = st[1], d = st[2], e = st[3], f = st[4], g = st[5], h = st[6], k = st[7], t1, t2;
    for (i = 0; i < 64; i++) {
      t1 = (k + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) + ((f & g) ^ (~f & h)) + K[i] + W[i]) | 0;
      t2 = (((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) + ((a & c) ^ (a & d) ^ (c & d))) | 0;
      k = h; h = g; g = f; f = (e + t1) | 0; e = d; d = c; c = a; a = (t1 + t2) | 0;
    }
    st[0] = (st[0] + a) | 0; st[1] = (st[1] + c) | 0; st[2] = (st[2] + d) | 0; st[3] = (st[3] + e) | 0;
    st[4] = (st[4] + f) | 0; st[5] = (st[5] + g) | 0; st[6] = (st[6] + h) | 0; st[7] = (st[7] + k) | 0;
  }
  // search tries the nonces start, start+step, … (count of them) and returns the
  // first whose hash has bits leading zero bits, or -1.
  return function search(token, bits, start, step, count) {
    var i, j, n = token.length, full = n - n % 64, tail = n - full, tb = new Uint8Array(n);
    for (i = 0; i < n; i++) tb[i] = token.charCodeAt(i);
    for (i = 0; i < 8; i++) M[i] = IV[i];
    for (i = 0; i < full; i += 64) block(M, tb, i);
    for (i = 0; i < tail; i++) buf[i] = tb[full + i];
    for (var c = 0, x = start; c < count; c++, x += step) {
      var s = String(x), p = tail, len;
      for (j = 0; j < s.length; j++) buf[p++] = s.charCodeAt(j);
      len = (n + s.length) * 8;
      buf[p++] = 0x80;
      var end = p + 8 <= 64 ? 64 : 128;
      while (p < end - 4) buf[p++] = 0;
      buf[p++] = len >>> 24; buf[p++] = len >>> 16; buf[p++] = len >>> 8; buf[p] = len;
      for (i = 0; i < 8; i++) S[i] = M[i];
      block(S, buf, 0);
      if (end === 128) block(S, buf, 64);
      if (Math.clz32(S[0]) >= bits) return x; // bits <= 32: the first word decides
    }
    return -1;
  };
}

var root = document.getElementById("vigil-challenge");
var token = root.getAttribute("data-token"), bits = +root.getAttribute("data-bits"), path = root.getAttribute("data-path");
var status = document.getElementById("vigil-status"), bar = document.getElementById("vigil-bar"), err = document.getElementById("vigil-error");
var expected = Math.pow(2, bits), tried = 0, done = false, workers = [], BATCH = 20000;
root.hidden = false;

function progress(n) {
  tried += n;
  bar.value = 1 - Math.exp(-tried / expected);
}
function fail(msg) {
  done = true;
  stop();
  status.textContent = "The check did not complete.";
  err.textContent = msg + " Reload the page to try again.";
}
function stop() {
  for (var i = 0; i < workers.length; i++) workers[i].terminate();
  workers = [];
}
function submit(nonce) {
  if (done) return;
  done = true;
  stop();
  bar.value = 1;
  status.textContent = "Verified. Loading the page\u2026";
  fetch(path, {
    method: "POST", credentials: "same-origin", cache: "no-store", redirect: "error",
    body: new URLSearchParams({token: token, nonce: String(nonce)})
  }).then(function (r) {
    if (r.ok) { location.reload(); return; }
    return r.text().then(function (t) { fail("The server said: " + t.trim() + "."); });
  }, function () { fail("The network failed."); });
}
function mainThread() {
  stop();
  var search = pow(), next = 0;
  (function slice() {
    if (done) return;
    var x = search(token, bits, next, 1, BATCH);
    if (x >= 0) { submit(x); return; }
    next += BATCH;
    progress(BATCH);
    setTimeout(slice, 0);
  })();
}
function start() {
  var n = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 8)), url;
  try {
    url = URL.createObjectURL(new Blob([
      "var search=(" + pow.toString() + ")(),B=" + BATCH + ";" +
      "onmessage=function(e){var d=e.data,x=d.start;for(;;){var r=search(d.token,d.bits,x,d.step,B);" +
      "if(r>=0){postMessage({found:r});return;}x+=d.step*B;postMessage({tried:B});}};"
    ], {type: "text/javascript"}));
    for (var i = 0; i < n; i++) {
      var w = new Worker(url);
      w.onmessage = function (e) {
        if (e.data.found !== undefined) submit(e.data.found); else progress(e.data.tried);
      };
      w.onerror = function (e) { if (e) e.preventDefault(); if (!done && workers.length) mainThread(); };
      workers.push(w);
      w.postMessage({token: token, bits: bits, start: i, step: n});
    }
  } catch (e) {
    mainThread();
  }
}
start();
})();`

// page is the pre-rendered challenge page: head, then the token, then tail.
type page struct {
	head, tail []byte
	csp        string
}

// newPage renders the page for the verify path and difficulty and computes its CSP.
// path is known to need no escaping (validPath).
func newPage(path string, difficulty int) page {
	head := `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>Checking your browser</title>
<style>` + pageStyle + `</style></head>
<body><h1>Checking your browser</h1>
<noscript><p>This site checks that visitors are browsers by asking them to run a short computation in JavaScript. Enable JavaScript and reload the page.</p></noscript>
<main id="vigil-challenge" hidden data-path="` + path + `" data-bits="` + strconv.Itoa(difficulty) + `" data-token="`
	tail := `">
<p id="vigil-status">This takes a second or two.</p>
<progress id="vigil-bar" max="1" value="0"></progress>
<p id="vigil-error" role="alert"></p>
</main>
<script>` + pageScript + `</script>
</body></html>
`
	csp := strings.Join([]string{
		"default-src 'none'",
		"script-src " + hashSource(pageScript),
		"style-src " + hashSource(pageStyle),
		"worker-src blob:",
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
	return page{head: []byte(head), tail: []byte(tail), csp: csp}
}

// hashSource is the CSP hash source that allows an inline element with content s.
func hashSource(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// write writes the page with tok and its length; the body only when body is true.
func (p *page) write(w http.ResponseWriter, headOnly bool, tok []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(p.head)+len(tok)+len(p.tail)))
	w.WriteHeader(http.StatusForbidden)
	if headOnly {
		return
	}
	_, _ = w.Write(p.head)
	_, _ = w.Write(tok)
	_, _ = w.Write(p.tail)
}
