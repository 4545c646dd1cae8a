package attack

import (
	"strings"
)

// detectTraversal reports directory traversal ("../" after decoding, in any
// separator style) and references to files no request should name (/etc/passwd,
// win.ini, /proc/self/environ), plus PHP stream wrappers that read files.
func (s *Scanner) detectTraversal(v *value, res *result) {
	t := v.norm
	if v.has(clsDot) {
		steps, at := traversalSteps(t)
		if steps > 0 {
			score := 80
			switch {
			case steps >= 2:
				score = 95
			case v.kind == kindPath:
				score = 90
			case v.hits.groups&gFile != 0:
				score = 95
			}
			res.add(CodePathTraversal, score, excerptAt(t, at))
			return
		}
	}
	if v.hits.groups&gFile == 0 {
		return
	}
	if at, ok := sensitiveFile(t, v.kind); ok {
		res.add(CodePathTraversal, 90, excerptAt(t, at))
		return
	}
	for _, w := range []string{"php://filter", "php://fd", "php://memory", "php://temp", "php://stdin", "zip://", "phar://",
		"glob://", "compress.zlib://", "compress.bzip2://", "zlib:"} {
		if i := indexFold(t, w); i >= 0 {
			res.add(CodePathTraversal, 95, excerptAt(t, i))
			return
		}
	}
}

// traversalSteps counts "../" steps: runs of two or more dots followed by a slash or
// backslash (or ending the value), where the run starts a path component. It
// returns the count and the first position.
func traversalSteps(t string) (int, int) {
	n, first := 0, -1
	for i := 0; i+1 < len(t); i++ {
		if t[i] != '.' || t[i+1] != '.' {
			continue
		}
		if i > 0 && !isPathBoundary(t[i-1]) {
			// Skip the rest of this run of dots ("wait..." in prose).
			for i < len(t) && t[i] == '.' {
				i++
			}
			continue
		}
		j := i
		for j < len(t) && t[j] == '.' {
			j++
		}
		if j == len(t) && i > 0 && (t[i-1] == '/' || t[i-1] == '\\') || j < len(t) && (t[j] == '/' || t[j] == '\\' || t[j] == ';' && j+1 < len(t) && t[j+1] == '/') {
			if first < 0 {
				first = i
			}
			n++
		}
		i = j - 1
	}
	return n, first
}

func isPathBoundary(c byte) bool {
	switch c {
	case '/', '\\', '=', ':', '\'', '"', ' ', '\t', ';', '|', '&', '(', ',', '`', '[', '{', '>', '<':
		return true
	}
	return false
}

// sensitiveFile finds a sensitive file reference that is anchored like a path: after
// a separator or at the start of the value, not inside a word.
func sensitiveFile(t string, k kind) (int, bool) {
	for _, f := range []string{"etc/passwd", "etc/shadow", "etc/group", "etc/hosts", "etc/issue",
		"etc/sudoers", "etc/crontab", "etc/fstab", "etc/master.passwd", "etc/resolv.conf",
		"etc/environment", "etc/motd", "etc/profile", "proc/self/", "proc/version", "proc/cpuinfo",
		"proc/1/", "proc/sched_debug", "windows/system32", "winnt/system32", "windows\\system32",
		"system32/drivers/etc", "system32/config/sam", "autoexec.bat", "win.ini", "boot.ini",
		"system.ini", ".ssh/id_", ".ssh/authorized_keys", ".aws/credentials", ".htpasswd",
		"id_rsa", ".bash_history", ".git/config", "wp-config.php", "web.config", ".env"} {
		for off := 0; off < len(t); {
			i := indexFold(t[off:], f)
			if i < 0 {
				break
			}
			i += off
			off = i + 1
			end := i + len(f)
			if end < len(t) && isWordByte(t[end]) && !strings.HasSuffix(f, "/") && !strings.HasSuffix(f, "_") {
				continue
			}
			before := byte(0)
			if i > 0 {
				before = t[i-1]
			}
			switch f {
			case "web.config", "wp-config.php", ".env", ".htpasswd", ".git/config", "id_rsa", ".bash_history":
				// Names that prose or a URL may carry: only as a path target after
				// traversal or an absolute path.
				if before != '/' && before != '\\' || k == kindPath {
					continue
				}
				if i < 2 || !strings.Contains(t[:i], "/") {
					continue
				}
			case "win.ini", "boot.ini", "system.ini", "autoexec.bat":
				if before != 0 && before != '/' && before != '\\' && before != '=' && before != ' ' && before != ':' {
					continue
				}
			default:
				if before != 0 && before != '/' && before != '\\' && before != '=' && before != ':' && before != '\'' && before != '"' && before != ' ' && before != '>' && before != ';' && before != '|' && before != '@' {
					continue
				}
			}
			return i, true
		}
	}
	return 0, false
}

// detectPath reports what only the URL path reveals: requests for files and
// directories no site serves (.git/, .env, backups), by exact path segment and by
// file-name suffix.
func (s *Scanner) detectPath(v *value, res *result) {
	t := v.norm
	if !v.has(clsDot|clsTilde) && v.hits.groups&gProbe == 0 {
		// Only probe names with a dot or a tilde are listed, apart from a few
		// that the keyword scan flags.
		return
	}
	for start := 0; start < len(t); {
		end := strings.IndexByte(t[start:], '/')
		if end < 0 {
			end = len(t)
		} else {
			end += start
		}
		seg := t[start:end]
		last := end == len(t)
		if seg != "" {
			if sc := s.probeSegment(seg, last); sc > 0 {
				res.add(CodeScannerProbe, sc, excerptAt(t, start))
				return
			}
		}
		start = end + 1
	}
}

// probeSegment scores one path segment: an exact sensitive name, a dotfile name with
// a variant suffix (.env.local), or a backup suffix on the last segment.
func (s *Scanner) probeSegment(seg string, last bool) int {
	if len(seg) > 128 {
		return 0
	}
	var buf [128]byte
	n := copy(buf[:], seg)
	for i := 0; i < n; i++ {
		buf[i] = lower(buf[i])
	}
	ls := buf[:n]
	if sc, ok := s.probes[string(ls)]; ok {
		return sc
	}
	if ls[0] == '.' && n > 1 {
		// .env.production, .git.bak, .htpasswd~ : a listed dotfile with a suffix.
		if i := indexByte(ls[1:], '.'); i > 0 {
			if sc, ok := s.probes[string(ls[:i+1])]; ok && sc >= 85 {
				return sc
			}
		}
	}
	if !last {
		return 0
	}
	for _, suf := range s.backups {
		if len(ls) > len(suf) && string(ls[len(ls)-len(suf):]) == suf {
			// A backup of something: "index.php.bak", "db.sql", "site.tar.gz".
			return 85
		}
	}
	return 0
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// probeTable maps exact lower-case path segments to their score.
func probeTable() map[string]int {
	t := map[string]int{}
	for _, p := range probeSegments() {
		switch {
		case strings.HasPrefix(p, "."), strings.HasPrefix(p, "id_"):
			t[p] = 90
		case p == "cvs" || p == "_darcs":
			t[p] = 85
		case strings.HasSuffix(p, ".php"), strings.HasPrefix(p, "server-"):
			// Scanned for, but some sites do serve a config.php or info.php.
			t[p] = 60
		default:
			t[p] = 70
		}
	}
	// Served on purpose by ordinary sites.
	delete(t, ".well-known-nope")
	return t
}

// detectFilename reports upload file names that carry a server-side script
// extension, a traversal, or a NUL-truncation trick.
func (s *Scanner) detectFilename(v *value, res *result) {
	t := strings.TrimRight(v.norm, " .\t")
	if strings.IndexByte(v.app, 0) >= 0 {
		res.add(CodeProtocol, 85, v.app)
	}
	lt := strings.ToLower(t)
	for _, ext := range s.uploadExts {
		if strings.HasSuffix(lt, ext) || strings.Contains(lt, ext+".") && ext != ".config" && ext != ".cer" && ext != ".pl" && ext != ".py" && ext != ".rb" && ext != ".sh" && ext != ".cgi" {
			res.add(CodePHPInjection, 90, t)
			return
		}
		if i := strings.Index(lt, ext); i >= 0 && i+len(ext) < len(lt) && (lt[i+len(ext)] == ' ' || lt[i+len(ext)] == ';' || lt[i+len(ext)] == ':') {
			res.add(CodePHPInjection, 90, t)
			return
		}
	}
}
