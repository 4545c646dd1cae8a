package attack

import (
	"strings"
)

// cmdClass says how much a command word alone proves.
type cmdClass uint8

const (
	// cmdStrong commands are not English words (whoami, uname, wget): after a shell
	// separator they are an injection whatever follows.
	cmdStrong cmdClass = iota + 1
	// cmdWeak commands are also words (cat, time, more, find): they need arguments
	// that look like a command line.
	cmdWeak
)

// commandTable maps lower-case command names to their class.
func commandTable() map[string]cmdClass {
	strong := []string{
		"whoami", "uname", "ifconfig", "ipconfig", "netstat", "wget", "curl", "nc", "ncat",
		"netcat", "bash", "sh", "zsh", "ksh", "csh", "tcsh", "dash", "busybox", "python",
		"python2", "python3", "perl", "ruby", "php", "nslookup", "systeminfo", "tasklist",
		"taskkill", "powershell", "pwsh", "cmd", "certutil", "bitsadmin", "socat", "telnet",
		"chmod", "chown", "crontab", "useradd", "usermod", "base64", "xxd", "hexdump",
		"nmap", "wmic", "id", "ls", "ps", "pwd", "df", "du", "lsof", "printenv", "getent",
		"passwd", "sudo", "su", "ping", "uptime", "hostname", "whois", "tracert",
		"traceroute", "mkfifo", "mknod", "nohup", "xargs", "awk", "gawk", "sed", "grep",
		"egrep", "fgrep", "tac", "nl", "od", "strace", "ltrace", "jrunscript", "jshell",
		"irb", "tclsh", "lua", "openssl", "rm", "mv", "cp", "dig", "scp", "ssh", "rsync",
		"tftp", "ftp", "kill", "killall", "pkill", "chattr", "lsattr", "dmesg",
		"journalctl", "iptables", "sysctl", "modprobe", "insmod", "lsmod", "tcpdump",
		"netsh", "reg", "regedit", "schtasks", "icacls", "cacls", "findstr", "nltest",
		"dsquery", "qwinsta", "mshta", "rundll32", "regsvr32", "cscript", "wscript",
		"msiexec", "forfiles", "attrib", "getmac", "iex", "iwr", "wc", "uniq", "md5sum",
		"sha1sum", "sha256sum", "zcat", "bzcat", "xzcat", "gunzip", "unzip", "uuencode",
		"uudecode", "base32", "readlink", "realpath", "whereis", "ldd", "gdb", "chroot",
		"setsid", "nsenter", "unshare", "capsh", "php-cgi", "lwp-download", "lynx",
		"printf", "vim", "emacs", "nano", "uudecode", "tmux", "screen", "systemctl",
		"invoke-expression", "invoke-webrequest", "start-process", "get-content",
		"get-childitem", "get-process", "new-object", "shutdown", "reboot", "halt",
	}
	weak := []string{
		"cat", "more", "less", "head", "tail", "find", "locate", "sort", "cut", "echo",
		"env", "set", "export", "fetch", "sleep", "time", "timeout", "touch", "mkdir",
		"rmdir", "ln", "tar", "zip", "gzip", "exec", "eval", "source", "last", "lastlog",
		"w", "who", "users", "history", "mount", "free", "top", "service", "init", "dd",
		"file", "stat", "which", "type", "command", "alias", "vi", "ed", "tee", "diff",
		"cmp", "at", "batch", "jobs", "expr", "test", "yes", "seq", "tr", "rev", "paste",
		"split", "docker", "kubectl", "apt", "apt-get", "yum", "dnf", "rpm", "dpkg", "pip",
		"npm", "gem", "git", "svn", "mail", "sendmail", "node", "nodejs", "java", "gcc",
		"cc", "make", "host", "date", "cal", "bc", "factor", "dir", "copy", "del", "erase",
		"ren", "move", "start", "call", "ver", "vol", "where", "query", "for", "if", "net",
		"sc", "view", "pg", "nice", "script", "groups", "finger", "arp", "route", "ss",
		"ip", "strings", "printf", "crypt", "true", "false", "disown", "bg", "fg", "gci",
		"gc", "tee", "column", "stdbuf", "renice", "expect", "wish", "unalias", "phpinfo",
	}
	t := make(map[string]cmdClass, len(strong)+len(weak))
	for _, w := range weak {
		t[w] = cmdWeak
	}
	for _, w := range strong {
		t[w] = cmdStrong
	}
	return t
}

// cmdGate are the classes a command injection needs: a separator, a substitution or
// a shell construct.
const cmdGate = clsSemi | clsPipe | clsAmp | clsTick | clsDollar | clsNL | clsBrace | clsLT | clsGT | clsParen

// detectCmdi reports OS command injection: a shell separator or substitution
// followed by a command, and shell constructs that have no other use (${IFS},
// /dev/tcp, shellshock's "() {"). Ordinary prose with semicolons or pipes passes
// because the word after the separator must be a command and, for commands that are
// also English words, be followed by command-line arguments.
func (s *Scanner) detectCmdi(v *value, res *result) {
	if !v.has(cmdGate) && v.hits.groups&gShell == 0 {
		return
	}
	t := v.norm
	if v.hits.groups&gShell != 0 {
		if sc, at := s.shellConstruct(t); sc > 0 {
			res.add(CodeCmdi, sc, excerptAt(t, at))
			return
		}
	}
	if !v.has(cmdGate) {
		return
	}
	for i := 0; i < len(t); i++ {
		var start int
		strong := false // separator alone is strong evidence (substitution)
		switch c := t[i]; c {
		case ';', '\n', '\r':
			start = i + 1
		case '|', '&':
			start = i + 1
			if start < len(t) && t[start] == c {
				start++
			}
		case '`':
			start = i + 1
			strong = strings.IndexByte(t[start:], '`') >= 0
		case '$', '<', '>':
			if i+1 < len(t) && t[i+1] == '(' {
				start = i + 2
				strong = strings.IndexByte(t[start:], ')') >= 0
			} else {
				continue
			}
		case '{':
			// Brace expansion: {cat,/etc/passwd}.
			start = i + 1
		default:
			continue
		}
		if sc, ok := s.commandAt(t, start, t[i], strong); ok {
			res.add(CodeCmdi, sc, excerptAt(t, i))
			return
		}
	}
}

// commandAt reads the shell word at t[start:] and reports whether it is a command
// used as an injection, with its score. sep is the separator byte before it.
func (s *Scanner) commandAt(t string, start int, sep byte, strongSep bool) (int, bool) {
	word, next := shellWord(t, start)
	if word == "" {
		return 0, false
	}
	class, ok := s.cmds[word]
	if !ok {
		return 0, false
	}
	if sep == '{' {
		// Brace expansion needs a comma right after the command.
		if next < len(t) && t[next] == ',' {
			return 90, true
		}
		return 0, false
	}
	args := t[next:]
	if class == cmdStrong {
		if strongSep || looksLikeArgs(args, true) {
			return 90, true
		}
		return 0, false
	}
	if looksLikeArgs(args, strongSep || sep == '|' && word != "w") {
		return 90, true
	}
	return 0, false
}

// looksLikeArgs reports whether the text after a command word reads as its command
// line: nothing (when endOK), another separator, a redirection, or an argument that
// starts like an option, a path, a variable or a quoted string.
func looksLikeArgs(args string, endOK bool) bool {
	i := 0
	sp := 0
	for i < len(args) && (args[i] == ' ' || args[i] == '\t' || args[i] == '+') {
		i++
		sp++
	}
	if strings.HasPrefix(strings.ToLower(args[i:]), "${ifs}") || strings.HasPrefix(strings.ToLower(args[i:]), "$ifs") {
		return true
	}
	if i == len(args) {
		return endOK
	}
	c := args[i]
	if sp == 0 {
		// Directly after the word: only a separator, redirection or end counts
		// ("cat/etc/passwd" does not run).
		switch c {
		case ';', '|', '&', '`', ')', '\n', '\r', '<', '>':
			return endOK || c == '<' || c == '>'
		case '\'', '"':
			// c''at: handled by shellWord; a trailing quote ends a substitution.
			return endOK
		}
		return false
	}
	switch c {
	case '-':
		// An option: "-la", "--help", "-c". Not a dash used as punctuation (" - ").
		return i+1 < len(args) && (isWordByte(args[i+1]) || args[i+1] == '-')
	case '/', '~', '$', '\\', '>', '<', '*', '?', '`', '|', ';', '&':
		return true
	case '.':
		return i+1 < len(args) && (args[i+1] == '/' || args[i+1] == '.' || isWordByte(args[i+1]))
	case '\'', '"':
		return true
	}
	if c >= '0' && c <= '9' {
		// sleep 5, ping 127.0.0.1, kill 9: a number argument.
		j := i
		for j < len(args) && (args[j] >= '0' && args[j] <= '9' || args[j] == '.') {
			j++
		}
		return j == len(args) || args[j] == ' ' || args[j] == ';' || args[j] == '|' || args[j] == '&' || args[j] == '`' || args[j] == ')'
	}
	// A word argument: only IP-ish or file-ish words ("cat passwd" is too English).
	j := i
	for j < len(args) && (isWordByte(args[j]) || args[j] == '.' || args[j] == '-') {
		j++
	}
	w := args[i:j]
	if strings.Contains(w, ".") && j < len(args) && (args[j] == ';' || args[j] == '|' || args[j] == '&' || args[j] == '`') {
		return true
	}
	return false
}

// shellWord reads one shell word from t[i:] the way a shell would see it after
// evasions: leading blanks, ${IFS} and redirections skipped; quotes, backslashes,
// "$@" and empty "${}" expansions removed; a /bin/ or /usr/bin/ prefix stripped. It
// returns the lower-cased word (at most 24 bytes) and the index after it.
func shellWord(t string, i int) (string, int) {
	for i < len(t) {
		switch {
		case t[i] == ' ' || t[i] == '\t' || t[i] == '+' || t[i] == '(' || t[i] == '{' && i+1 < len(t) && t[i+1] != '$':
			i++
		case hasPrefixFold(t[i:], "${ifs}"):
			i += 6
		case hasPrefixFold(t[i:], "$ifs"):
			i += 4
		default:
			goto word
		}
	}
word:
	var buf [24]byte
	n := 0
	for i < len(t) {
		c := t[i]
		switch {
		case c == '\'' || c == '"' || c == '\\':
			i++
			continue
		case c == '$' && i+1 < len(t) && (t[i+1] == '@' || t[i+1] == '*'):
			i += 2
			continue
		case c == '$' && i+2 < len(t) && t[i+1] == '{' && t[i+2] == '}':
			i += 3
			continue
		case c == '/':
			// A path: keep only the last component (/usr/bin/id → id).
			n = 0
			i++
			continue
		case isWordByte(c) || c == '-' || c == '.':
			if n == len(buf) {
				return "", i
			}
			buf[n] = lower(c)
			n++
			i++
			continue
		}
		break
	}
	w := string(buf[:n])
	if strings.HasSuffix(w, ".exe") {
		w = w[:len(w)-4]
	}
	return w, i
}

// shellConstruct finds shell syntax that has no innocent use in a parameter and
// returns its score and position.
func (s *Scanner) shellConstruct(t string) (int, int) {
	lt := t
	if i := indexFold(lt, "${ifs"); i >= 0 {
		return 95, i
	}
	if i := indexFold(lt, "$ifs$"); i >= 0 {
		return 95, i
	}
	if i := strings.Index(lt, "() {"); i >= 0 && strings.Contains(lt[i:], ";") {
		return 100, i // shellshock
	}
	if i := strings.Index(lt, "(){"); i >= 0 && strings.Contains(lt[i:], ":;") {
		return 100, i
	}
	for _, p := range []string{"/dev/tcp/", "/dev/udp/"} {
		if i := indexFold(lt, p); i >= 0 {
			return 95, i
		}
	}
	for _, p := range []string{"/bin/", "/usr/bin/", "/usr/local/bin/", "/sbin/", "/usr/sbin/"} {
		for off := 0; off < len(lt); {
			i := indexFold(lt[off:], p)
			if i < 0 {
				break
			}
			i += off
			w, _ := shellWord(lt, i)
			if _, ok := s.cmds[w]; ok && (i == 0 || !isWordByte(lt[i-1])) {
				return 90, i
			}
			off = i + len(p)
		}
	}
	if i := indexFold(lt, "/???/"); i >= 0 {
		return 85, i // glob evasion: /???/c?t
	}
	for _, p := range []string{"cmd /c", "cmd.exe /c", "cmd /k", "cmd.exe /k", "powershell -", "powershell.exe -",
		"pwsh -", "invoke-expression", "downloadstring(", "downloadfile(", "certutil -urlcache",
		"certutil.exe -urlcache", "bitsadmin /transfer", "iex(", "iex (", "mshta http", "mshta.exe http",
		"regsvr32 /s", "rundll32 javascript", "%comspec%", "wscript.shell", "net user ", "net localgroup"} {
		if i := indexFold(lt, p); i >= 0 {
			return 90, i
		}
	}
	for _, p := range []string{"bash -i", "sh -i", "nc -e", "ncat -e", "nc -l", "ncat -l", "nc -c", "bash -c", "sh -c", "zsh -c"} {
		if i := indexFold(lt, p); i >= 0 && (i == 0 || !isWordByte(lt[i-1])) {
			return 90, i
		}
	}
	return 0, 0
}
