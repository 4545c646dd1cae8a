package attack

// This file holds the keyword lists, as data. The lists are functions returning fresh
// slices so that nothing package-level is mutable; New builds its tables from them
// once.

// Keyword groups. A detector runs its expensive checks only when its group was hit.
const (
	gSQL        group = 1 << iota // SQL keywords that rarely occur in prose
	gSQLFunc                      // SQL functions used by injections (sleep, benchmark, …)
	gSQLCatalog                   // system catalogs and procedures only injections name
	gXSS                          // HTML/JS sinks: tags, schemes, handlers
	gFile                         // sensitive files: /etc/passwd, win.ini, …
	gShell                        // shell syntax: ${IFS}, /bin/sh, /dev/tcp, …
	gJava                         // Java classes, gadgets, OGNL/SpEL syntax
	gJNDI                         // jndi
	gPHP                          // PHP syntax and wrappers
	gPHPFunc                      // PHP functions that execute or read
	gSSRF                         // URL schemes and internal host names
	gCode                         // template and server-side JavaScript/Python injection
	gXXE                          // <!DOCTYPE / <!ENTITY
	gCRLF                         // response header names used in CRLF injection
	gNoSQL                        // MongoDB query operators
	gProbe                        // sensitive path segments scanners probe
)

func keywords() []keyword {
	var kws []keyword
	add := func(g group, flags kwFlag, words ...string) {
		for _, w := range words {
			kws = append(kws, keyword{text: w, group: g, flags: flags})
		}
	}
	// SQL. Words common in English ("or", "and", "select") are not keywords here:
	// libinjection's tokenizer judges them in context.
	add(gSQL, kwWord, "union", "information_schema", "sysobjects", "syscolumns",
		"mysql.user", "pg_catalog", "pg_shadow", "xp_cmdshell", "sp_executesql",
		"waitfor", "outfile", "dumpfile", "load_file", "sqlite_master", "msysaccessobjects",
		"msysobjects", "tempdb", "all_tables", "user_tables", "dbms_pipe", "dbms_ldap",
		"utl_http", "utl_inaddr", "@@version", "@@datadir", "schema_name", "table_name",
		"column_name", "concat_ws", "group_concat", "insert", "delete", "update", "drop",
		"truncate", "declare", "exec", "execute", "having", "select", "shutdown",
		"procedure", "sleep", "benchmark", "pg_sleep", "extractvalue", "updatexml",
		"information_schema.tables", "null", "case", "when", "like", "rlike", "regexp",
		"sounds", "collate", "between", "unhex", "hex", "char", "chr", "ascii", "concat",
		"substring", "substr", "mid", "ord", "version", "database", "user", "current_user",
		"system_user", "session_user", "pg_read_file", "lo_import", "lo_get", "copy",
		"into", "values", "where", "from", "limit", "offset", "order", "group", "dual",
		"iif", "ifnull", "nullif", "coalesce", "cast", "convert", "elt", "make_set",
		"name_const", "floor", "rand", "md5", "sha1", "json_extract", "jsonb",
		"xmltype", "polygon", "multipoint", "geometrycollection", "linestring",
		"sqlite_version", "randomblob", "exp", "isnull", "charindex", "len",
		"dbms_xmlgen", "ctxsys", "openrowset", "opendatasource", "bulk", "master..",
		"xp_", "sp_", "0x")
	add(gSQLCatalog, kwWord, "information_schema", "pg_catalog", "sysobjects", "syscolumns",
		"sqlite_master", "msysaccessobjects", "msysobjects", "pg_shadow", "xp_cmdshell",
		"xp_dirtree", "xp_regread", "xp_regwrite", "xp_fileexist", "sp_password",
		"sp_executesql", "sp_oacreate", "sp_makewebtask", "dbms_pipe", "utl_http", "utl_inaddr",
		"dbms_ldap", "dbms_xmlgen", "sqlite_compileoption_used", "sqlite_compileoption_get",
		"pg_read_file", "pg_ls_dir", "lo_import", "lo_export", "mysql.user", "sys.sql_logins",
		"master..sysdatabases", "sys.databases", "@@version", "@@datadir", "@@basedir",
		"@@hostname", "load_file", "into outfile", "into dumpfile")
	add(gSQLFunc, kwStart, "sleep", "benchmark", "pg_sleep", "waitfor", "load_file",
		"extractvalue", "updatexml", "dbms_pipe", "utl_http", "xp_cmdshell")

	// XSS.
	add(gXSS, 0, "<script", "</script", "javascript:", "vbscript:", "livescript:",
		"data:text/html", "data:image/svg", "data:application", "<iframe", "<frame", "<svg",
		"<img", "<image", "<body", "<object", "<embed", "<applet", "<meta", "<base",
		"<link", "<style", "<form", "<input", "<button", "<video", "<audio", "<source",
		"<details", "<marquee", "<isindex", "<math", "<xss", "<a ", "<a/", "<div",
		"<table", "<td", "<x ", "<html", "<textarea", "<select", "<keygen", "<template",
		"<animate", "<set", "<handler", "<listener", "<bgsound", "<layer", "<ilayer",
		"<xml", "<import", "<frameset", "<plaintext", "<xmp", "<noscript", "<title",
		"expression(", "-moz-binding", "behavior:", "srcdoc", "formaction", "xlink:href",
		"document.cookie", "document.domain", "document.write", "document.location",
		"window.location", "location.href", "innerhtml", "outerhtml", "fromcharcode",
		"alert(", "alert`", "prompt(", "prompt`", "confirm(", "confirm`", "eval(",
		"settimeout(", "setinterval(", "constructor(", "atob(", "top[", "self[",
		"window[", "parent[", "globalthis", "import(", "<!--", "-->", "<![cdata[",
		"+adw-", "window.", "document", "settimeout", "setinterval", "function", "atob",
		"btoa", ".call", ".apply", ".bind", "reflect.", "![]", "+[]", "url(", "formaction",
		"innerhtml", "textcontent", "innertext")
	// Shell.
	add(gShell, 0, "${ifs", "$ifs", "/bin/", "/usr/bin/", "/usr/local/bin/", "/sbin/",
		"/dev/tcp/", "/dev/udp/", "/dev/null", "$(", "${", "<(", ">(", "() {",
		"&&", "||", "/tmp/", "/var/tmp/", "2>&1", ">&", "0<&", "$@", "$*", "$0", "$_",
		"nc -", "ncat ", "bash -", "sh -", "cmd /", "cmd.exe", "powershell", "pwsh",
		"%comspec%", "%systemroot%", "%windir%", "$env:", "iex(", "iex ",
		"invoke-expression", "invoke-webrequest", "downloadstring", "certutil",
		"bitsadmin", "rundll32", "regsvr32", "mshta", "wscript", "cscript")
	// Sensitive files.
	add(gFile, 0, "etc/passwd", "etc/shadow", "etc/group", "etc/hosts", "etc/issue",
		"etc/motd", "etc/sudoers", "etc/crontab", "etc/fstab", "etc/mysql", "etc/httpd",
		"etc/apache2", "etc/nginx", "etc/ssh", "etc/security", "etc/resolv.conf",
		"etc/environment", "etc/profile", "etc/bashrc", "etc/master.passwd",
		"proc/self", "proc/version", "proc/cpuinfo", "proc/meminfo", "proc/net",
		"proc/1/", "proc/sched_debug", "win.ini", "boot.ini", "system.ini", "autoexec.bat",
		"windows/system32", "winnt/system32", "windows\\system32", "system32/drivers",
		"inetpub", "web.config", "wp-config.php", ".htpasswd", ".htaccess", "id_rsa",
		"id_dsa", "id_ecdsa", "id_ed25519", "authorized_keys", "known_hosts",
		".bash_history", ".zsh_history", ".mysql_history", ".psql_history", ".ssh/",
		".aws/credentials", ".git/config", ".git/head", ".env", "/var/log/", "var/run/",
		"/var/www/", "/usr/local/", "/root/", "/home/", "c:/", "c:\\", "file:",
		"php://", "phar://", "zip://", "expect://", "glob://", "compress.zlib://",
		"compress.bzip2://", "data://", "zlib:")
	// Java.
	add(gJava, 0, "java.", "javax.", "jdk.", "sun.", "com.sun.", "org.apache.",
		"org.springframework", "org.codehaus", "org.omg.", "com.opensymphony",
		"ognl", "@ognl", "_memberaccess", "#context", "#_memberaccess", "%{", "#{",
		"classloader", "class.module", "getruntime", "processbuilder", "runtime.",
		"invokertransformer", "instantiatetransformer", "instantiatefactory",
		"clonetransformer", "prototypeclonefactory", "prototypeserializationfactory",
		"whileclosure", "forclosure", "chainedtransformer", "constanttransformer",
		"lazymap", "templatesimpl", "xmldecoder", "scriptenginemanager", "bsh.",
		"groovy.", "getclass", "forname", "newinstance", "getmethod", "invoke(",
		"t(java", "t (java", "new java", "java.lang", "rmi:", "iiop:", "corba")
	add(gJNDI, 0, "jndi", "j}", "${", "$\\u007b", "lower:", "upper:", "::-", "env:",
		"sys:", "date:", "base64:", "main:", "ctx:", "bundle:")
	// PHP.
	add(gPHP, 0, "<?php", "<?=", "<? ", "?>", "php://", "$_get", "$_post", "$_request",
		"$_cookie", "$_server", "$_files", "$_env", "$_session", "$globals", "phar://",
		"expect://", "allow_url_include", "allow_url_fopen", "auto_prepend_file",
		"auto_append_file", "disable_functions", "open_basedir", "safe_mode",
		"o:", "a:", "c:", "__destruct", "__wakeup", "__tostring", ".php", ".phtml",
		".phar", "[php]", "@$", "${@", "<?", "php]", "php}", "data:text/plain")
	add(gPHPFunc, kwStart, phpFunctions()...)
	// SSRF.
	add(gSSRF, 0, "://", "localhost", "127.", "169.254", "0x", "metadata", "[::",
		"[0:", "::ffff", "fd00:ec2", "100.100.100.200", "2852039166", "0251.",
		"0177.", "017700000001", "2130706433", ".internal", "kubernetes", "0.0.0.0",
		"192.168.", "10.", "172.", "fe80:", "[fc", "[fd", "instance-data", "gopher:",
		"dict:", "file:", "ldap:", "tftp:", "jar:", "netdoc:", "ftp:", "sftp:")
	// Template, Node.js and Python code injection.
	add(gCode, 0, "{{", "}}", "{%", "<%", "%>", "${", "#{", "*{", "@{", "__class__",
		"__mro__", "__subclasses__", "__globals__", "__builtins__", "__import__",
		"__init__", "__proto__", "constructor.prototype", "child_process",
		"require(", "process.", "mainmodule", "global.process", "execsync", "spawnsync",
		"os.system", "os.popen", "subprocess", "getattr(", "lipsum", "cycler",
		"self._templatereference", "request.application", "config.items",
		"freemarker", "?new(", "new()", ".exec(", "$class", "#set(", "#foreach",
		"velocity", "@(", "#{7", "${7", "{{7", "this.constructor", "function(",
		"=>", "while(", "while (", "for(;;", "for (;;", "import os", "compile(", "range(",
		"@{", "_$$nd_func$$_", "require.", "._load", "new function", ".spawn(")
	add(gXXE, 0, "<!doctype", "<!entity", "<!element", "<!attlist", "system \"",
		"system '", "public \"", "%xxe", "xinclude", "<xi:include")
	add(gCRLF, 0, "set-cookie", "location:", "content-type", "content-length",
		"refresh:", "x-xss-protection", "access-control-", "transfer-encoding",
		"http/1.", "http/2", "<html", "host:", "cache-control", "content-security-policy",
		"link:", "x-forwarded", "content-disposition")
	add(gNoSQL, 0, "$ne", "$eq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$or",
		"$and", "$not", "$nor", "$exists", "$type", "$regex", "$where", "$expr",
		"$text", "$search", "$elemmatch", "$all", "$size", "$mod", "$jsonschema",
		"$function", "$accumulator")
	return kws
}

// unixCommands are shell commands an injected payload runs. Words that are also
// common English are included; detectCmdi requires shell syntax around them and
// arguments that look like a command line.
func unixCommands() []string {
	return []string{
		"id", "whoami", "uname", "ifconfig", "ip", "netstat", "ss", "ps", "pwd", "ls",
		"dir", "cat", "tac", "more", "less", "head", "tail", "nl", "od", "xxd", "hexdump",
		"strings", "grep", "egrep", "fgrep", "find", "locate", "awk", "gawk", "sed",
		"cut", "sort", "uniq", "wc", "echo", "printf", "env", "printenv", "set", "export",
		"wget", "curl", "fetch", "lwp-download", "lynx", "nc", "ncat", "netcat", "nmap",
		"socat", "telnet", "ssh", "scp", "rsync", "ftp", "tftp", "bash", "sh", "zsh",
		"dash", "ksh", "csh", "tcsh", "fish", "busybox", "python", "python2", "python3",
		"perl", "ruby", "php", "node", "nodejs", "lua", "java", "gcc", "cc", "make",
		"ping", "nslookup", "dig", "host", "traceroute", "sleep", "time", "timeout",
		"kill", "killall", "pkill", "rm", "rmdir", "mv", "cp", "touch", "mkdir", "chmod",
		"chown", "chgrp", "ln", "tar", "zip", "unzip", "gzip", "gunzip", "base64",
		"openssl", "xargs", "exec", "eval", "source", "sudo", "su", "passwd", "crontab",
		"useradd", "usermod", "adduser", "groups", "last", "lastlog", "w", "who",
		"users", "history", "hostname", "mount", "df", "du", "free", "top", "lsof",
		"systemctl", "service", "shutdown", "reboot", "halt", "init", "iptables",
		"chattr", "lsattr", "dd", "file", "stat", "readlink", "realpath", "which",
		"whereis", "type", "command", "alias", "unalias", "vi", "vim", "nano", "ed",
		"emacs", "tee", "diff", "cmp", "md5sum", "sha1sum", "sha256sum", "crypt",
		"nohup", "screen", "tmux", "at", "batch", "mkfifo", "mknod", "jobs", "disown",
		"bg", "fg", "expr", "test", "true", "false", "yes", "seq", "tr", "rev", "paste",
		"column", "split", "tee", "ldd", "strace", "ltrace", "gdb", "docker", "kubectl",
		"apt", "apt-get", "yum", "dnf", "rpm", "dpkg", "pip", "npm", "gem", "git",
		"svn", "mail", "sendmail", "mutt", "irb", "jrunscript", "jshell", "awk",
		"tclsh", "wish", "expect", "php-cgi", "phpinfo", "sysctl", "modprobe",
		"insmod", "lsmod", "getent", "finger", "arp", "route", "tcpdump", "whois",
		"dmesg", "journalctl", "uptime", "date", "cal", "bc", "factor", "base32",
		"uuencode", "uudecode", "zcat", "bzcat", "xzcat", "less", "pg", "view", "chroot",
		"nice", "renice", "setsid", "stdbuf", "unshare", "nsenter", "capsh", "script",
	}
}

// windowsCommands are cmd.exe and PowerShell commands.
func windowsCommands() []string {
	return []string{
		"whoami", "ipconfig", "systeminfo", "tasklist", "taskkill", "net", "netsh",
		"reg", "regedit", "sc", "wmic", "type", "dir", "copy", "del", "erase", "ren",
		"move", "attrib", "icacls", "cacls", "schtasks", "at", "certutil", "bitsadmin",
		"powershell", "pwsh", "cmd", "start", "call", "ver", "vol", "findstr", "where",
		"nltest", "dsquery", "qwinsta", "query", "shutdown", "mshta", "rundll32",
		"regsvr32", "cscript", "wscript", "msiexec", "forfiles", "for", "if", "set",
		"echo", "ping", "nslookup", "tracert", "route", "arp", "getmac", "hostname",
		"get-process", "get-childitem", "get-content", "invoke-expression",
		"invoke-webrequest", "start-process", "new-object", "iex", "iwr", "gci", "gc",
		"cat", "ls", "rm", "cp", "mv", "curl", "wget",
	}
}

// phpFunctions are PHP functions that run code or commands, or read and write files.
func phpFunctions() []string {
	return []string{
		"system", "exec", "shell_exec", "passthru", "popen", "proc_open", "pcntl_exec",
		"eval", "assert", "create_function", "call_user_func", "call_user_func_array",
		"preg_replace", "array_map", "array_filter", "usort", "uasort",
		"register_shutdown_function", "register_tick_function", "base64_decode",
		"gzinflate", "gzuncompress", "gzdecode", "str_rot13", "convert_uudecode",
		"hex2bin", "file_get_contents", "file_put_contents", "fopen", "fwrite", "fputs",
		"readfile", "file", "fpassthru", "highlight_file", "show_source", "include",
		"include_once", "require", "require_once", "phpinfo", "posix_getpwuid",
		"posix_kill", "posix_setuid", "posix_uname", "ini_set", "ini_get", "putenv",
		"getenv", "unserialize", "move_uploaded_file", "copy", "unlink", "rename",
		"symlink", "chmod", "chown", "mkdir", "rmdir", "scandir", "glob", "opendir",
		"readdir", "dl", "mail", "mb_send_mail", "curl_exec", "fsockopen",
		"pfsockopen", "stream_socket_client", "var_dump", "print_r", "var_export",
		"debug_zval_dump", "get_defined_vars", "get_current_user", "getcwd",
		"php_uname", "phpversion", "extract", "parse_str", "str_replace", "chr", "ord",
		"strrev", "urldecode", "rawurldecode", "escapeshellcmd", "escapeshellarg",
		"func_get_args", "constant", "method_exists", "reflectionfunction",
		"invokeargs", "array_walk", "ob_start", "iterator_apply", "session_start",
	}
}

// scannerAgents are User-Agent fragments of offensive scanners and exploitation
// tools. A real browser or ordinary client never sends them.
func scannerAgents() []string {
	return []string{
		"sqlmap", "nikto", "nuclei", "acunetix", "masscan", "zgrab", "wpscan",
		"dirbuster", "gobuster", "nessus", "arachni", "nmap scripting engine", "nmap nse",
		"openvas", "w3af", "havij", "netsparker", "invicti", "appscan", "webinspect",
		"zmeu", "morfeus", "fuzz faster u fool", "ffuf", "feroxbuster", "wfuzz",
		"commix", "jaeles", "xsstrike", "skipfish", "sqlninja", "bsqlbf", "fimap",
		"joomscan", "whatweb", "paros", "burpcollaborator", "interact.sh", "dirsearch",
		"hydra", "medusa", "metasploit", "grabber", "vega/", "zap/", "owasp zap",
		"struts-pwn", "brutus", "webshag", "uniscan", "wapiti", "nstealth", "netlab360",
		"cgichk", "httprint", "jbrofuzz", "mysqloit", "pangolin", "sf/", "teh forest lobster",
		"absinthe", "black widow", "bilbo", "ecairn", "hexometer", "dotdotpwn",
		"scan4you", "crowdstrike", "log4shell", "zmap", "censys", "httpx - open-source",
	}
}

// probeSegments are exact path segments (lower case) that only scanners request:
// version-control metadata, credentials, environment files and tool directories
// that are never meant to be served.
func probeSegments() []string {
	return []string{
		".git", ".svn", ".hg", ".bzr", "cvs", ".cvs", "_darcs", ".env", ".ds_store",
		".htaccess", ".htpasswd", ".aws", ".ssh", ".docker", ".kube", ".npmrc",
		".yarnrc", ".pypirc", ".netrc", ".pgpass", ".git-credentials", ".gitconfig",
		".bash_history", ".zsh_history", ".sh_history", ".mysql_history",
		".psql_history", ".bashrc", ".profile", ".idea", ".vscode", ".vs", ".claude",
		".cursor", ".windsurf", ".opencode", ".codex", ".aider", ".continue",
		".terraform", ".terraform.d", ".travis.yml", ".gitlab-ci.yml", ".dockerenv",
		".dockercfg", ".boto", ".s3cfg", ".azure", ".gcloud", ".config", ".composer",
		".circleci", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "web.config",
		"wp-config.php", "config.php", "phpinfo.php", "info.php", "server-status",
		"server-info", "credentials", "credentials.json", "secrets.yml", "secrets.json",
		"database.yml", "docker-compose.yml", "dockerfile", "composer.json",
		"composer.lock", "package-lock.json", "yarn.lock", "web.xml", "jboss-web.xml",
		"localsettings.php", "settings.php", "config.inc.php", "configuration.php",
		"sftp-config.json", ".rovodev", ".cline", ".roo", ".gemini", ".github",
		".history", ".well-known-nope",
	}
}

// backupSuffixes are file-name endings of backups, editor leftovers and dumps.
func backupSuffixes() []string {
	return []string{
		".bak", ".backup", ".bkp", ".old", ".orig", ".original", ".save", ".sav",
		".swp", ".swo", ".tmp", ".temp", "~", ".sql", ".sql.gz", ".sql.bz2", ".sql.zip",
		".sql.tar.gz", ".dump", ".dmp", ".mdb", ".sqlite", ".sqlite3", ".db", ".ldf",
		".mdf", ".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kdbx", ".ovpn",
		".rdp", ".log", ".inc", ".cfg", ".conf", ".ini", ".env", ".yml.bak", ".php~",
		".php.bak", ".php.old", ".php.save", ".php.swp", ".php.orig", ".php.dist",
		".copy", ".tar", ".tar.gz", ".tgz",
	}
}

// dangerousUploadExts are server-side script extensions an upload must not carry.
func dangerousUploadExts() []string {
	return []string{
		".php", ".php3", ".php4", ".php5", ".php7", ".php8", ".phtml", ".pht", ".phps",
		".phar", ".pgif", ".shtml", ".jsp", ".jspx", ".jspf", ".jsw", ".jsv", ".asp",
		".aspx", ".asa", ".cer", ".asax", ".ascx", ".ashx", ".asmx", ".axd", ".cshtml",
		".vbhtml", ".cfm", ".cfml", ".cfc", ".pl", ".cgi", ".py", ".rb", ".sh", ".war",
		".htaccess", ".config", ".user.ini",
	}
}
