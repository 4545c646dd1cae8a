// Package ui is Studio's web dashboard: an HTML shell, plain ES modules, a style
// sheet and a few vendored libraries (uPlot, d3-geo, topojson-client, world-atlas),
// embedded in the binary and served as they are, with no build step.
//
// The pages and assets are public: they hold no data. Every piece of data the page
// shows comes from Studio's JSON API, which authenticates each call itself (the
// session cookie, X-Vigil-Project and, on changes, X-CSRF-Token).
//
// Every answer carries a strict Content-Security-Policy (scripts, styles, images and
// connections from Studio's own origin only, no inline script), nosniff,
// no-referrer and DENY framing. Assets live under /ui/<version>/, where version is a
// hash of everything embedded, so they are cached for a year and a new build is a
// new URL; the shell at / is revalidated (ETag) on every load.
//
// The vendored files, their versions, sources, licences and checksums are listed in
// static/vendor/VENDOR.md; a test checks the checksums.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
)

//go:embed static
var static embed.FS

// versionToken is the placeholder in index.html that New replaces with the asset
// version.
const versionToken = "__VERSION__"

// Prefix is the path under which the assets are served.
const Prefix = "/ui/"

// CSP is the Content-Security-Policy of every answer: nothing but Studio's own
// origin, no inline script or style element, no plugins, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
	"frame-ancestors 'none'"

// contentTypes maps the embedded files' extensions to their media types; a file
// with another extension (the licence texts) is served as plain text.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".md":   "text/markdown; charset=utf-8",
}

// ContentType is the media type the handler serves the file name with.
func ContentType(name string) string {
	if t, ok := contentTypes[path.Ext(name)]; ok {
		return t
	}
	return "text/plain; charset=utf-8"
}

type asset struct {
	data  []byte
	ctype string
	etag  string
}

// Handler serves the dashboard: the shell at / and the assets under
// /ui/<version>/. Make it with New. It is safe for concurrent use.
type Handler struct {
	version string
	shell   asset
	assets  map[string]asset // by path under static/, e.g. "js/app.js"
}

// New reads the embedded files and prepares the handler.
func New() (*Handler, error) {
	files, err := Files()
	if err != nil {
		return nil, err
	}
	// The version hashes every file's name and content.
	sum := sha256.New()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(sum, "%s\x00%d\x00", name, len(files[name]))
		sum.Write(files[name])
	}
	h := &Handler{version: hex.EncodeToString(sum.Sum(nil))[:16], assets: map[string]asset{}}
	for name, data := range files {
		if name == "index.html" {
			continue
		}
		h.assets[name] = newAsset(name, data)
	}
	index, ok := files["index.html"]
	if !ok {
		return nil, fmt.Errorf("ui: no index.html embedded")
	}
	h.shell = newAsset("index.html", bytes.ReplaceAll(index, []byte(versionToken), []byte(h.version)))
	return h, nil
}

func newAsset(name string, data []byte) asset {
	s := sha256.Sum256(data)
	return asset{data: data, ctype: ContentType(name), etag: `"` + hex.EncodeToString(s[:16]) + `"`}
}

// Files returns every embedded file by its path under static/ ("index.html",
// "js/app.js", "vendor/uplot/LICENSE").
func Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		out[strings.TrimPrefix(p, "static/")] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: reading the embedded files: %w", err)
	}
	return out, nil
}

// Version is the asset version: a hash of every embedded file.
func (h *Handler) Version() string { return h.version }

// AssetPaths returns the URL path of every asset, for tests and links.
func (h *Handler) AssetPaths() []string {
	out := make([]string, 0, len(h.assets))
	for name := range h.assets {
		out = append(out, Prefix+h.version+"/"+name)
	}
	sort.Strings(out)
	return out
}

// SetHeaders sets the security headers every dashboard answer carries.
func SetHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// ServeShell answers GET / with the application shell. It is revalidated on every
// load, so a new build's asset URLs are picked up at once.
func (h *Handler) ServeShell(w http.ResponseWriter, r *http.Request) {
	SetHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-cache")
	h.serve(w, r, h.shell)
}

// ServeAsset answers GET /ui/<version>/<file>. The current version's files are
// cached for a year (immutable); a request naming another version — a page loaded
// before an upgrade — gets today's file, revalidated each time.
func (h *Handler) ServeAsset(w http.ResponseWriter, r *http.Request) {
	SetHeaders(w.Header())
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	version, name, ok2 := strings.Cut(rest, "/")
	a, found := h.assets[name]
	if !ok || !ok2 || !found {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	if version == h.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	h.serve(w, r, a)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, a asset) {
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("ETag", a.etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(a.data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.data)
	}
}

// etagMatch reports whether an If-None-Match value names etag (weakly, as RFC 9110
// asks for If-None-Match).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
