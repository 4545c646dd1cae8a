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
	// cmdPrefix marks commands that run the command after them ("time", "nohup");
	// it is combined with cmdStrong or cmdWeak.
	cmdPrefix cmdClass = 4
)

// commandTable maps lower-case command names to their class.
func commandTable() map[string]cmdClass {
	strong := []string{
		"whoami", "uname", "ifconfig", "ipconfig", "netstat", "wget", "curl", "nc", "ncat",
		"netcat", "bash", "sh", "zsh", "ksh", "csh", "tcsh", "dash", "busybox", "nslookup",
		"systeminfo", "tasklist", "taskkill", "powershell", "pwsh", "certutil", "bitsadmin",
		"socat", "telnet", "chmod", "chown", "crontab", "useradd", "usermod", "base64", "xxd",
		"hexdump", "nmap", "wmic", "ls", "pwd", "lsof", "printenv", "getent", "passwd", "sudo",
		"uptime", "hostname", "whois", "tracert", "traceroute", "mkfifo", "mknod", "nohup",
		"xargs", "awk", "gawk", "nawk", "sed", "grep", "egrep", "fgrep", "tac", "strace",
		"ltrace", "jrunscript", "jshell", "irb", "tclsh", "openssl", "killall", "pkill",
		"chattr", "lsattr", "dmesg", "journalctl", "iptables", "sysctl", "modprobe", "insmod",
		"lsmod", "tcpdump", "netsh", "regedit", "schtasks", "icacls", "cacls", "findstr",
		"nltest", "dsquery", "qwinsta", "mshta", "rundll32", "regsvr32", "cscript", "wscript",
		"msiexec", "forfiles", "getmac", "iex", "iwr", "md5sum", "sha1sum", "sha256sum", "zcat",
		"bzcat", "xzcat", "zstdcat", "gunzip", "unzip", "uuencode", "uudecode", "base32",
		"readlink", "realpath", "whereis", "ldd", "gdb", "chroot", "setsid", "nsenter",
		"unshare", "capsh", "php-cgi", "lwp-download", "lynx", "vim", "emacs", "nano", "tmux",
		"systemctl", "invoke-expression", "invoke-webrequest", "start-process", "get-content",
		"get-childitem", "get-process", "new-object", "ansible", "ansible-playbook",
		"ansible-galaxy", "ansible-doc", "ansible-console", "ansible-pull", "ansible-vault",
		"ansible-config", "ansible-inventory", "chef-client", "chef-shell", "chef-solo",
		"chef-vault", "chef-apply", "knife", "puppet", "salt-call", "salt-run", "terraform",
		"flock", "perf", "rmt", "rmt-dump", "zstd", "7z", "7za", "bzip2", "cscli", "ipset",
		"nft", "ethtool", "tshark", "ngrep", "hashcat", "msfconsole", "msfvenom", "objdump",
		"readelf", "pkexec", "doas", "runuser", "setcap", "getcap", "chpasswd", "visudo",
		"dpkg-query", "rpm2cpio", "cpio", "ftpget", "ftpput", "sshpass", "proxychains",
		"telnetd", "httpd", "inetd", "xterm", "gnome-terminal", "ksh93", "mksh", "rbash",
		"sftp", "smbclient", "rpcclient", "ldapsearch", "mysql", "psql", "sqlite3", "mongo",
		"redis-cli", "vssadmin", "wevtutil", "bcdedit", "takeown", "whoami.exe", "reg.exe",
		"net1", "ntdsutil", "psexec", "wsl", "bash.exe", "curl.exe", "wget.exe",
		"iwmi", "gwmi", "irm", "saps", "icm", "invoke-wmimethod", "invoke-command",
		// SQLite shell dot-commands, run by an injected ".shell" or ".system".
		".shell", ".system", ".sh", ".databases", ".tables", ".dump", ".import", ".output",
		".load", ".read", ".once", ".schema",
		"cpulimit", "c89", "c99", "adduser", "deluser", "userdel", "groupadd", "gpasswd",
		"shred", "wipe", "srm", "losetup", "cryptsetup", "debugfs", "fdisk", "mkfs",
	}
	weak := []string{
		"cat", "more", "less", "head", "tail", "find", "locate", "sort", "cut", "echo",
		"env", "set", "export", "fetch", "sleep", "time", "timeout", "touch", "mkdir",
		"rmdir", "ln", "zip", "gzip", "exec", "eval", "source", "last", "lastlog", "w",
		"who", "users", "history", "mount", "free", "top", "service", "init", "dd", "file",
		"stat", "which", "type", "command", "alias", "vi", "ed", "tee", "diff", "cmp", "at",
		"batch", "jobs", "expr", "yes", "seq", "tr", "rev", "paste", "split", "docker",
		"kubectl", "apt", "apt-get", "yum", "dnf", "rpm", "dpkg", "pip", "npm", "gem", "git",
		"svn", "mail", "sendmail", "node", "nodejs", "java", "gcc", "cc", "make", "host",
		"date", "cal", "bc", "factor", "dir", "copy", "del", "erase", "ren", "move", "start",
		"call", "ver", "vol", "where", "query", "net", "sc", "view", "nice", "script",
		"groups", "finger", "arp", "route", "ss", "ip", "strings", "printf", "crypt", "true",
		"false", "bg", "fg", "gci", "gc", "column", "renice", "expect", "wish", "python",
		"python2", "python3", "perl", "ruby", "php", "lua", "ping", "su", "ps", "cmd", "reg",
		"id", "kill", "rm", "mv", "cp", "dig", "ssh", "scp", "rsync", "ftp", "tftp", "nl",
		"od", "df", "du", "uniq", "wc", "shutdown", "reboot", "halt", "salt", "vagrant",
		"xz", "watch", "nproc", "arch", "tty", "stty", "logger", "wall", "write",
	}
	t := make(map[string]cmdClass, len(strong)+len(weak))
	for _, w := range weak {
		t[w] = cmdWeak
	}
	for _, w := range strong {
		t[w] = cmdStrong
	}
	// Prefix commands run the command that follows them: "time curl …".
	for _, w := range []string{"time", "nohup", "sudo", "env", "exec", "timeout", "nice", "xargs",
		"command", "builtin", "eval", "watch", "strace", "busybox", "doas", "setsid", "stdbuf",
		"unbuffer", "flock"} {
		if t[w] == 0 {
			t[w] = cmdWeak
		}
		t[w] |= cmdPrefix
	}
	return t
}

// cmdGate are the classes a command injection needs: a separator, a substitution or
// a shell construct.
const cmdGate = clsSemi | clsPipe | clsAmp | clsTick | clsDollar | clsNL | clsBrace | clsLT | clsGT | clsParen

// detectCmdi reports OS command injection: a shell separator or substitution
// followed by a command, and shell constructs that have no other use (${IFS},
// /dev/tcp, shellshock's "() {", glob-obfuscated paths). Ordinary prose with
// semicolons or pipes passes because the word after the separator must be a command
// and, for commands that are also English words, be followed by command-line
// arguments.
func (s *Scanner) detectCmdi(v *value, res *result) {
	if !v.has(cmdGate) && v.hits.groups&gShell == 0 && !v.has(clsQuestion|clsBracket|clsStar) && !v.has(clsSpace) {
		return
	}
	t := v.norm
	if v.hits.groups&gShell != 0 || v.has(clsPct) {
		if sc, at := s.shellConstruct(t); sc > 0 {
			res.add(CodeCmdi, sc, excerptAt(t, at))
			return
		}
	}
	if v.hits.groups&gWinCmd != 0 {
		// Windows FOR and IF, bash alias definitions.
		if loc := s.re.winFor.FindStringIndex(t); loc != nil {
			res.add(CodeCmdi, 90, excerptAt(t, loc[0]))
			return
		}
	}
	if v.has(clsQuestion|clsBracket|clsStar) && v.has(clsSlash) {
		if at, ok := s.globCommandPath(t); ok {
			res.add(CodeCmdi, 90, excerptAt(t, at))
			return
		}
	}
	if v.has(clsQuestion|clsBracket|clsStar) && v.has(clsSlash) {
		if at, ok := globSensitivePath(t); ok {
			res.add(CodeCmdi, 90, excerptAt(t, at))
			return
		}
	}
	if v.has(clsDollar) {
		if i := strings.Index(t, "$(("); i >= 0 {
			// Arithmetic expansion, $((93+33)): a probe commix uses.
			res.add(CodeCmdi, 85, excerptAt(t, i))
			return
		}
	}
	if v.has(clsDollar | clsBrace) {
		if loc := s.re.shellParamExp.FindStringIndex(t); loc != nil {
			res.add(CodeCmdi, 85, excerptAt(t, loc[0]))
			return
		}
	}
	// A command at the very start of the value: only with a command line that could
	// not be prose.
	if sc, ok := s.commandAt(t, 0, 0, false); ok {
		res.add(CodeCmdi, sc, excerptAt(t, 0))
		return
	}
	if !v.has(cmdGate) {
		return
	}
	for i := 0; i < len(t); i++ {
		k := strings.IndexAny(t[i:], ";\n\r|&`$<>{")
		if k < 0 {
			break
		}
		i += k
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
			// Backticks are also how chat and Markdown quote code ("use `npm
			// install`"), so they count as a plain separator.
			start = i + 1
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
		if t[i] == ';' && v.kind == kindUA && productToken(t[start:]) {
			// "(…; java 1.8.0_77; …)": a User-Agent comment lists products
			// with their versions between semicolons.
			continue
		}
		if sc, ok := s.commandAt(t, start, t[i], strong); ok {
			res.add(CodeCmdi, sc, excerptAt(t, i))
			return
		}
	}
}

// productToken reports whether s starts with a product name and a dotted version, as
// a User-Agent comment's entries do: " java 12.0.2", " Python 3.9.7".
func productToken(s string) bool {
	s = strings.TrimLeft(s, " ")
	name := 0
	for name < len(s) && (isLetter(s[name]) || s[name] == '_' || s[name] == '-') {
		name++
	}
	if name == 0 || name == len(s) || s[name] != ' ' && s[name] != '/' {
		return false
	}
	v := s[name+1:]
	n := 0
	for n < len(v) && ('0' <= v[n] && v[n] <= '9' || v[n] == '.' || v[n] == '_') {
		n++
	}
	return n > 2 && v[0] >= '0' && v[0] <= '9' && strings.IndexByte(v[:n], '.') > 0
}

// commandAt reads the shell word at t[start:] and reports whether it is a command
// used as an injection, with its score. sep is the separator byte before it, 0 for
// the start of the value.
func (s *Scanner) commandAt(t string, start int, sep byte, strongSep bool) (int, bool) {
	class, next, evaded := s.commandWordEv(t, start)
	if class == 0 {
		return 0, false
	}
	if sep == '{' {
		// Brace expansion needs a comma right after the command: {cat,/etc/passwd}.
		// Judged before quoting tricks, as {"id":"x"} is JSON, not c"a"t.
		if next < len(t) && t[next] == ',' {
			return 90, true
		}
		return 0, false
	}
	if evaded {
		return 90, true
	}
	tight := start < len(t) && !isSpace(t[start]) && t[start] != '+' // no blank between separator and command
	prefixed := false
	for hops := 0; class&cmdPrefix != 0 && hops < 3; hops++ {
		// "time curl …": judge the command the prefix runs.
		c2, n2 := s.commandWord(t, skipArgsOfPrefix(t, next))
		if c2 == 0 {
			break
		}
		class, next, prefixed = c2, n2, true
	}
	class &^= cmdPrefix
	args := t[next:]
	if sep == 0 {
		// The value starts with the command: the text must read as a command line.
		if class == cmdStrong && (prefixed || looksLikeArgs(args, false, true) || shortCommandLine(args)) {
			return 90, true
		}
		if class == cmdWeak && prefixed && looksLikeArgs(args, true, true) {
			return 90, true
		}
		if class == cmdWeak && looksLikeArgs(args, false, true) && pathArg(args) {
			return 90, true
		}
		return 0, false
	}
	if strongSep {
		// Inside $(…) or `…` any command runs: "$(echo x)".
		return 90, args == "" || !isWordByte(args[0])
	}
	if class == cmdStrong || prefixed {
		// After a separator an unambiguous command is enough when what follows
		// could be its arguments ("; whoami", "|id;"), not a word or a comma
		// continuing something else (";base64,SSBs" in a data: URL).
		return 90, args == "" || strings.IndexByte(" \t+;|&`)<>\n\r", args[0]) >= 0
	}
	if looksLikeArgs(args, strongSep || tight, false) {
		return 90, true
	}
	return 0, false
}

// shortCommandLine reports whether the text after a command word is one to three
// further words and nothing else ("ansible-config dump", "uname -a"): the shape of a
// command line rather than a sentence. A bare command word alone does not count
// (User-Agents such as "wget" or "curl" are that).
func shortCommandLine(args string) bool {
	f := strings.Fields(strings.ReplaceAll(args, "+", " "))
	if len(f) == 0 || len(f) > 3 {
		return false
	}
	for _, w := range f {
		for i := 0; i < len(w); i++ {
			if c := w[i]; !isWordByte(c) && c != '-' && c != '.' && c != '/' && c != ':' && c != '=' {
				return false
			}
		}
	}
	return true
}

// skipArgsOfPrefix skips the options and numeric arguments of a prefix command
// ("timeout 5 sh", "nice -n 10 sh") and returns where the next word starts.
func skipArgsOfPrefix(t string, i int) int {
	for {
		j := i
		for j < len(t) && (t[j] == ' ' || t[j] == '\t' || t[j] == '+') {
			j++
		}
		k := j
		if k < len(t) && (t[k] == '-' || t[k] >= '0' && t[k] <= '9') {
			for k < len(t) && t[k] != ' ' && t[k] != '\t' && t[k] != '+' {
				k++
			}
			i = k
			continue
		}
		return j
	}
}

// pathArg reports whether the first argument is an absolute or home path or an
// option, which a sentence starting with an English command word would not have.
func pathArg(args string) bool {
	a := strings.TrimLeft(args, " \t+")
	return a != "" && (a[0] == '/' || a[0] == '~' || a[0] == '-' && len(a) > 1 && a[1] != ' ')
}

// looksLikeArgs reports whether the text after a command word reads as its command
// line: nothing (when endOK), another separator, a redirection, or an argument that
// starts like an option, a path, a variable or a quoted string. strict (for a
// command at the start of a value) refuses numbers and lone separators.
func looksLikeArgs(args string, endOK, strict bool) bool {
	i := 0
	sp := 0
	for i < len(args) && (args[i] == ' ' || args[i] == '\t' || args[i] == '+') {
		i++
		sp++
	}
	if hasPrefixFold(args[i:], "${ifs") || hasPrefixFold(args[i:], "$ifs") {
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
		case ';', '|', '&', '`', ')':
			return endOK && !strict
		case '<', '>':
			return true
		}
		return false
	}
	switch c {
	case '-':
		// An option: "-la", "--help", "-c". Not a dash used as punctuation (" - ").
		return i+1 < len(args) && (isWordByte(args[i+1]) || args[i+1] == '-')
	case '/', '~', '$', '\\', '>', '<', '`':
		return true
	case 'h', 'H', 'f', 'F':
		// A URL: curl http://…, wget ftp://…
		return hasPrefixFold(args[i:], "http://") || hasPrefixFold(args[i:], "https://") || hasPrefixFold(args[i:], "ftp://")
	case '*', '?', '|', ';', '&':
		return !strict
	case '.':
		return i+1 < len(args) && (args[i+1] == '/' || args[i+1] == '.')
	case '\'', '"':
		return !strict
	}
	if i+2 < len(args) && (args[i+1] == ':') && (args[i+2] == '\\' || args[i+2] == '/') && (c|0x20 >= 'a' && c|0x20 <= 'z') {
		// A Windows drive path: dir C:\, type c:/boot.ini.
		return true
	}
	if c >= '0' && c <= '9' && !strict {
		// sleep 5, ping 127.0.0.1, kill 9: a number argument.
		j := i
		for j < len(args) && (args[j] >= '0' && args[j] <= '9' || args[j] == '.') {
			j++
		}
		return j == len(args) || strings.IndexByte(" ;|&`)\n", args[j]) >= 0
	}
	return false
}

// globSensitivePath finds a path written with shell globs that matches a sensitive
// file or shell binary: /e??/p?sswd, /[e]tc/pa[s]swd, /bi[n]/ba*h.
func globSensitivePath(t string) (int, bool) {
	for i := 0; i < len(t); i++ {
		if t[i] != '/' || i > 0 && (isWordByte(t[i-1]) || t[i-1] == '/') {
			continue
		}
		j := i
		for j < len(t) && !isSpace(t[j]) && strings.IndexByte(";|&'\"`)<>", t[j]) < 0 {
			j++
		}
		tok := t[i:j]
		if !strings.ContainsAny(tok, "?*[") {
			continue
		}
		for _, target := range []string{"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/hosts", "/bin/sh", "/bin/bash",
			"/bin/cat", "/bin/nc", "/usr/bin/id", "/usr/bin/wget", "/usr/bin/curl", "/bin/busybox", "/usr/bin/whoami",
			"/bin/ls", "/usr/bin/python", "/usr/bin/perl", "/proc/self/environ"} {
			if globMatch(tok, target) {
				return i, true
			}
		}
		i = j
	}
	return 0, false
}

// shellshockStart reports whether the "()" at i starts the value (after blanks or
// a quote) or an assignment, as a Bash function import does; "function() {" in
// JavaScript does not.
func shellshockStart(t string, i int) bool {
	j := i
	for j > 0 && (isSpace(t[j-1]) || t[j-1] == '\'' || t[j-1] == '"') {
		j--
	}
	return j == 0 || t[j-1] == '=' || t[j-1] == ':' || t[j-1] == ';'
}

// globCommandPath finds a glob-written path to a command in a binary directory:
// /usr/bin/[u]name, /usr/[a-z]in/bash, /b??/c?t.
func (s *Scanner) globCommandPath(t string) (int, bool) {
	for i := 0; i < len(t); i++ {
		if t[i] != '/' || i > 0 && (isWordByte(t[i-1]) || t[i-1] == '/') {
			continue
		}
		j := i
		for j < len(t) && !isSpace(t[j]) && strings.IndexByte(";|&'\"`)<>", t[j]) < 0 {
			j++
		}
		tok := t[i:j]
		i = j
		slash := strings.LastIndexByte(tok, '/')
		if slash <= 0 || !strings.ContainsAny(tok, "?*[") {
			continue
		}
		dir, base := tok[:slash], tok[slash+1:]
		inBin := false
		for _, d := range []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"} {
			if globMatch(dir, d) {
				inBin = true
				break
			}
		}
		if !inBin || base == "" {
			continue
		}
		if !strings.ContainsAny(base, "?*[") {
			if _, ok := s.cmds[strings.ToLower(base)]; ok {
				return i - len(tok), true
			}
			continue
		}
		for name := range s.cmds {
			if globMatch(base, name) && len(name) > 1 {
				return i - len(tok), true
			}
		}
	}
	return 0, false
}

// globMatch matches a shell glob against a name: '?' and a bracket expression each
// match one byte, '*' any run of bytes not crossing '/'.
func globMatch(pat, name string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for k := 0; k <= len(name); k++ {
				if k > 0 && name[k-1] == '/' {
					return false
				}
				if globMatch(pat[1:], name[k:]) {
					return true
				}
			}
			return false
		case '?':
			if name == "" || name[0] == '/' {
				return false
			}
			pat, name = pat[1:], name[1:]
		case '[':
			end := strings.IndexByte(pat, ']')
			if end < 0 || name == "" || name[0] == '/' {
				return false
			}
			pat, name = pat[end+1:], name[1:]
		default:
			if name == "" || lower(pat[0]) != name[0] {
				return false
			}
			pat, name = pat[1:], name[1:]
		}
	}
	return name == ""
}

// commandWord reads one shell word from t[i:] the way a shell would see it after
// evasions: leading blanks, ${IFS} and redirections skipped; quotes, backslashes,
// "$@" and empty "${}" expansions removed; a /bin/ or /usr/bin/ prefix and a .exe
// suffix stripped. It returns the word's command class (0 when it is not a known
// command) and the index after it. It does not allocate.
func (s *Scanner) commandWord(t string, i int) (cmdClass, int) {
	c, next, _ := s.commandWordEv(t, i)
	return c, next
}

// commandWordEv is commandWord that also reports whether the word was obfuscated:
// quotes, backslashes, empty substitutions or unset variables inside it (c”at,
// w\ho\ami, una$$me, pi“ng). Nobody writes a command that way but to slip it past a
// filter.
func (s *Scanner) commandWordEv(t string, i int) (cmdClass, int, bool) {
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
	evaded := false
	for i < len(t) {
		c := t[i]
		switch {
		case c == '\'' || c == '"' || c == '\\':
			i++
			evaded = evaded || n > 0
			continue
		case c == '`' && i+1 < len(t) && t[i+1] == '`' && n > 0:
			i += 2 // an empty substitution: pi``ng
			evaded = true
			continue
		case c == '$' && i+1 < len(t) && strings.IndexByte("@*!?-$#0123456789", t[i+1]) >= 0:
			i += 2 // a special parameter: c$@at, una$$me
			evaded = evaded || n > 0
			continue
		case c == '$' && i+2 < len(t) && (t[i+1] == '{' && t[i+2] == '}' || t[i+1] == '(' && t[i+2] == ')'):
			i += 3
			evaded = evaded || n > 0
			continue
		case c == '$' && n > 0 && i+1 < len(t) && (isWordByte(t[i+1]) && !(t[i+1] >= '0' && t[i+1] <= '9')):
			// An unset variable glued into the word: sh$XX, uname$u.
			i++
			for i < len(t) && isWordByte(t[i]) {
				i++
			}
			evaded = true
			continue
		case c == '/':
			// A path: keep only the last component (/usr/bin/id → id).
			n = 0
			i++
			continue
		case isWordByte(c) || c == '-' || c == '.':
			if n == len(buf) {
				return 0, i, false
			}
			buf[n] = lower(c)
			n++
			i++
			continue
		}
		break
	}
	if n > 4 && string(buf[n-4:n]) == ".exe" {
		n -= 4
	}
	if n == 0 {
		return 0, i, false
	}
	return s.cmds[string(buf[:n])], i, evaded
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
	// Shellshock: an environment value that starts with a function definition.
	for _, p := range []string{"() {", "(){"} {
		if i := strings.Index(lt, p); i >= 0 && strings.Contains(lt[i:], ";") && shellshockStart(lt, i) {
			return 100, i
		}
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
			if c, _ := s.commandWord(lt, i); c != 0 && (i == 0 || !isWordByte(lt[i-1])) {
				return 90, i
			}
			off = i + len(p)
		}
	}
	if i := indexFold(lt, "${shell}"); i >= 0 {
		return 90, i
	}
	if strings.HasPrefix(strings.TrimSpace(lt), "() {") {
		return 90, 0 // shellshock's function definition on its own
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
