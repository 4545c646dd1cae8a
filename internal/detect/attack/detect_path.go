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
			score := 70
			switch {
			case steps >= 2:
				score = 95
			case v.kind == kindPath || v.kind == kindFilename:
				// A browser never sends "../" in a path, and a file name never
				// holds one.
				score = 90
			case v.hits.groups&gFile != 0:
				score = 95
			case !strings.Contains(v.app, "../") && !strings.Contains(v.app, `..\`):
				// Written encoded (%2e%2e%2f, ..%c0%af): only evasion does that.
				score = 85
			case sensitiveTarget(t[at:]):
				score = 85
			case strings.Contains(v.app, `..\`):
				// Backslash traversal: Windows servers, or a filter bypass.
				score = 80
			}
			res.add(CodePathTraversal, score, excerptAt(t, at))
			return
		}
	}
	if v.hits.groups&gFile != 0 {
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
	if v.kind == kindParam && systemPath(t) {
		res.add(CodePathTraversal, 85, excerptAt(t, 0))
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

// sensitiveTarget reports whether the path after a single "../" names something
// configuration- or secret-like ("../config.php", "../logs/error_log", "../.env")
// rather than content ("../images/logo.png").
func sensitiveTarget(p string) bool {
	for _, comp := range strings.FieldsFunc(strings.ToLower(p), func(r rune) bool { return r == '/' || r == '\\' }) {
		if comp == "." || comp == ".." || strings.Trim(comp, ".") == "" {
			continue
		}
		if comp[0] == '.' {
			return true // a hidden file: ../.history, ../.env
		}
		name := comp
		if i := strings.IndexByte(name, '.'); i > 0 {
			switch name[i:] {
			case ".log", ".conf", ".cfg", ".ini", ".env", ".sql", ".bak", ".old", ".key", ".pem", ".passwd", ".db", ".yml", ".yaml", ".xml", ".properties", ".php", ".inc":
				return true
			}
			name = name[:i]
		}
		switch name {
		case "etc", "proc", "sys", "boot", "windows", "winnt", "system32", "log", "logs", "conf", "config",
			"configuration", "settings", "backup", "backups", "dump", "secrets", "secret", "passwd", "shadow",
			"web-inf", "meta-inf", "credentials", "id_rsa", "private", "admin":
			return true
		}
		for _, suf := range []string{"_log", "-log", "_conf", "-conf", "config"} {
			if strings.HasSuffix(name, suf) {
				return true
			}
		}
	}
	return false
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
		"proc/1/", "proc/sched_debug", "proc/sys/", "proc/net/", "proc/interrupts", "sys/class/",
		"sys/kernel/", "etc/subuid", "etc/subgid", "etc/apache2/", "etc/httpd/", "etc/nginx/",
		"etc/mysql/", "etc/ssh/", "etc/php", "etc/security/", "system32/drivers/etc", "system32/config/sam",
		"system32/cmd.exe", "windows/win.ini", ".docker/", ".kube/config", "autoexec.bat", "win.ini", "boot.ini",
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

// systemPath reports whether a parameter value is an absolute file-system path into
// the server's own system directories: "/var/log/httpd/access_log",
// "/usr/local/etc/php.ini", "/boot/grub/grub.conf", "/.bash_history",
// `C:\inetpub\wwwroot\global.asa`. Applications take relative names or URL paths
// in parameters ("/account/settings" as a redirect target), not paths from the root
// of the server's disk, so a value naming one is a file-inclusion attempt even
// without "../". Only directories no site's URL space uses are listed; "/home" alone
// is a page, and a home directory counts only with a hidden file in it.
func systemPath(t string) bool {
	var rest string
	switch {
	case len(t) > 4 && t[0] == '/' && isLetter(t[1]) && t[2] == ':' && (t[3] == '/' || t[3] == '\\'):
		return windowsFile(t[4:]) // "/C:/inetpub/…", as a file: URL's path has it
	case len(t) > 1 && t[0] == '/':
		rest = t[1:]
	case len(t) > 3 && isLetter(t[0]) && t[1] == ':' && (t[2] == '/' || t[2] == '\\'):
		// A drive letter: a file to read (a log, a configuration, the web
		// root's files), not a program's path, which is a command's business
		// (CRS counts "C:\Windows\System32\ls" in a form as benign).
		return windowsFile(t[3:])
	default:
		return false
	}
	first, tail, more := cutSeparator(rest)
	if first == "" {
		return false
	}
	if first[0] == '.' && strings.Trim(first, ".") != "" {
		// A hidden file at the root (/.bash_history, /.ssh/…), but not the
		// one URL space every site has there.
		return !strings.EqualFold(first, ".well-known")
	}
	if !more || tail == "" {
		return false
	}
	switch strings.ToLower(first) {
	case "etc", "var", "usr", "proc", "boot", "root", "bin", "sbin", "lib64", "windows", "winnt", "inetpub",
		"xampp", "wamp", "wamp64", "appserv":
		return true
	case "apache", "apache2", "httpd", "nginx":
		// A documentation site may have /nginx/install; a server's own
		// directory holds its logs and configuration.
		low := strings.ToLower(tail)
		return strings.Contains(low, "log") || strings.Contains(low, "conf") || strings.Contains(low, ".ini")
	case "home", "users":
		// A hidden file or directory in a user's home: /home/u/.ssh/id_rsa.
		if strings.Contains(tail, "/.") || strings.Contains(tail, "\\.") {
			return true
		}
	}
	// Under any other directory, a server's log or configuration file by name:
	// /opt/lampp/logs/error_log, /home/apache/conf/httpd.conf.
	return serverFile(tail)
}

// serverFile reports whether the last component of path p is named like a server's
// log, configuration or password file.
func serverFile(p string) bool {
	name := strings.ToLower(p[strings.LastIndexAny(p, `/\`)+1:])
	switch name {
	case "access_log", "error_log", "accesslog", "errorlog", "passwd", "master.passwd", "shadow", ".htpasswd":
		return true
	}
	for _, suf := range []string{".conf", ".ini", ".cnf", ".log", "_log", "-log"} {
		if len(name) > len(suf) && strings.HasSuffix(name, suf) {
			return true
		}
	}
	return false
}

// windowsFile reports whether p, a path after a drive letter, names a server file an
// attacker reads: under the web root or a server's own directory, or a log,
// configuration or database file anywhere.
func windowsFile(p string) bool {
	low := strings.ToLower(p)
	for _, dir := range []string{"inetpub", "apache", "xampp", "wamp", "appserv", "nginx", "mysql", "php", "program files"} {
		if strings.HasPrefix(low, dir) {
			return true
		}
	}
	if i := strings.LastIndexByte(low, '.'); i >= 0 && !strings.ContainsAny(low[i:], `/\`) {
		switch low[i:] {
		case ".ini", ".log", ".conf", ".cfg", ".config", ".asa", ".xml", ".bak", ".sql", ".db", ".mdb", ".sam", ".inf":
			return true
		}
	}
	return false
}

// cutSeparator splits s at its first slash or backslash.
func cutSeparator(s string) (before, after string, found bool) {
	if i := strings.IndexAny(s, "/\\"); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

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
	if ls[0] == '.' && n > 1 && ls[1] != '.' && !isServedDotSegment(string(ls)) {
		// Any other hidden file or directory: tool and editor metadata, never
		// content ("/.cursorignore", "/.zed/settings.json").
		if i := indexByte(ls[1:], '.'); i > 0 {
			if sc, ok := s.probes[string(ls[:i+1])]; ok && sc >= 85 {
				return sc
			}
		}
		return 80
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
	if databaseArchive(string(ls)) {
		return 85
	}
	return 0
}

// databaseArchive reports a compressed database dump by its conventional names:
// "db_backup.rar", "mysql.zip", "dump.gz" (name is lower case). Other archives are
// downloads a site may well serve ("report.zip").
func databaseArchive(name string) bool {
	dot := strings.IndexByte(name, '.')
	if dot <= 0 {
		return false
	}
	switch name[dot:] {
	case ".7z", ".rar", ".zip", ".gz", ".bz2", ".bzip2", ".gzip", ".xz":
	default:
		return false
	}
	switch name[:dot] {
	case "db", "dbase", "database", "db_backup", "db-backup", "dbbackup", "dbdump", "db_dump", "dump",
		"mysql", "mysqldump", "sql", "pgdump", "pg_dump", "postgres", "backup", "site_backup", "sitebackup":
		return true
	}
	return false
}

// isServedDotSegment reports hidden path segments that sites serve on purpose.
func isServedDotSegment(seg string) bool {
	switch seg {
	case ".well-known", ".auth", ".netlify", ".vercel", ".cdn-cgi", ".within.website":
		return true
	}
	return false
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
// extension (also hidden as "shell.php.jpg", "photo. php", "x.php%00.png", "a.php5"),
// a traversal, or a NUL-truncation trick.
func (s *Scanner) detectFilename(v *value, res *result) {
	if strings.IndexByte(v.app, 0) >= 0 {
		res.add(CodeProtocol, 85, v.app)
	}
	// Windows and some servers ignore trailing dots and blanks, and blanks around a
	// dot: "shell.php. " and "photo. php" are both .php.
	var b strings.Builder
	for i := 0; i < len(v.norm); i++ {
		c := v.norm[i]
		if c == ' ' || c == '\t' {
			continue
		}
		b.WriteByte(lower(c))
	}
	name := strings.TrimRight(b.String(), ".")
	if i := strings.LastIndexAny(name, "/\\"); i >= 0 {
		name = name[i+1:]
	}
	if strings.HasPrefix(name, "sess_") && len(name) >= 20 {
		// A PHP session file: uploading one plants a session.
		res.add(CodePHPInjection, 85, v.norm)
		return
	}
	parts := strings.Split(name, ".")
	if len(parts) < 2 {
		return
	}
	for i, ext := range parts[1:] {
		last := i == len(parts)-2
		if code, ok := scriptExtension(ext, last); ok {
			res.add(code, 90, v.norm)
			return
		}
	}
}

// scriptExtension reports whether ext (lower case, no dot) makes a server run the
// file, and with which finding code. Inner extensions ("a.php.jpg") count for the
// script types Apache's AddHandler runs anywhere in the name.
func scriptExtension(ext string, last bool) (string, bool) {
	switch {
	case strings.HasPrefix(ext, "php") || ext == "phtml" || ext == "pht" || ext == "phar" || ext == "pgif" || ext == "inc" && last:
		return CodePHPInjection, true
	case strings.HasPrefix(ext, "jsp") || ext == "jsw" || ext == "jsv" || ext == "war" && last:
		return CodeJavaInjection, true
	}
	if !last {
		return "", false
	}
	switch ext {
	case "asp", "aspx", "asa", "asax", "ascx", "ashx", "asmx", "cer", "cshtml", "vbhtml", "shtml", "shtm",
		"stm", "cfm", "cfml", "cfc", "cgi", "pl", "htaccess", "user.ini":
		return CodeCodeInjection, true
	}
	return "", false
}
