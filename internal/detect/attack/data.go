package attack

// This file holds the keyword lists, as data. The lists are functions returning fresh
// slices so that nothing package-level is mutable; New builds its tables from them
// once.

// Keyword groups. A detector runs its expensive checks only when its group was hit.
const (
	gSQL        group = 1 << iota // SQL keywords that rarely occur in prose
	gSQLFunc                      // SQL functions used by injections (sleep, benchmark, …)
	gSQLCatalog                   // system catalogs and procedures only injections name
	gUnion                        // union
	gSelect                       // select
	gSQLStmt                      // statement keywords that may follow ';'
	gSQLMisc                      // CASE WHEN, HAVING, GROUP BY, empty system calls, JSON operators
	gSQLCall                      // functions only SQL has (group_concat, ifnull, xmltype, …)
	gSQLExtra                     // words of rarer SQL constructs (EXECUTE IMMEDIATE, WHEN … THEN, …)
	gJS                           // JavaScript sinks
	gPHPWeak                      // PHP functions whose names are also English words
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
	gUATool                       // offensive scanner names (acted on in User-Agent only)
	gJavaMagic                    // Java serialisation stream markers (verified case-sensitively)
	gHTTPVer                      // "http/": a request line smuggled into a value
	gWinCmd                       // if, for, alias: cmd.exe and shell control words
)

func keywords() []keyword {
	var kws []keyword
	add := func(g group, flags kwFlag, words ...string) {
		for _, w := range words {
			kws = append(kws, keyword{text: w, group: g, flags: flags})
		}
	}
	// SQL. Words common in English ("or", "and", "like", "user") are not keywords
	// here: libinjection's tokenizer judges them in context. Each group gates one
	// confirming expression, so ordinary text runs none of them.
	add(gSQL, kwWord, "union", "insert", "delete", "update", "drop", "truncate", "declare",
		"exec", "execute", "having", "select", "shutdown", "procedure", "sleep", "benchmark",
		"pg_sleep", "waitfor", "outfile", "dumpfile", "load_file", "extractvalue", "updatexml",
		"concat", "concat_ws", "group_concat", "unhex", "xmltype", "case", "schema_name",
		"table_name", "column_name", "json_extract", "substring", "ascii", "char", "null",
		"information_schema", "sysobjects", "xp_cmdshell", "dbms_pipe", "utl_http")
	add(gUnion, kwWord, "union")
	add(gSelect, kwWord, "select")
	add(gSQLStmt, kwWord, "drop", "insert", "delete", "update", "truncate", "create", "alter",
		"exec", "execute", "declare", "shutdown", "grant", "revoke", "select", "waitfor",
		"replace", "set")
	add(gSQLFunc, kwStart, "sleep", "benchmark", "pg_sleep", "waitfor", "load_file",
		"extractvalue", "updatexml", "dbms_pipe", "dbms_lock", "utl_http", "utl_inaddr",
		"dbms_ldap", "xp_cmdshell", "xp_dirtree", "sp_executesql", "pg_read_file",
		"lo_import", "outfile", "dumpfile", "information_schema", "sysobjects", "syscolumns",
		"sqlite_master", "msysaccessobjects", "pg_shadow", "@@version", "@@datadir",
		"@@hostname", "@@basedir", "/*!")
	add(gSQLMisc, 0, "case when", "having", "group by", "declare", "procedure",
		"current_user(", "session_user(", "system_user(", "database(", "db_name(",
		"schema_name(", "user_name(", "suser_name(", "suser_sname(", "is_srvrolemember(",
		"db_id(", "host_name(", "version(", "@@version(", "json_", "->", "<@", "@>", "as `",
		"as \"", ")like", ") like", "order by")
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
	// Functions no language but SQL names this way; called bare, they are an
	// injection's building blocks. Excel, JavaScript and PHP names (concat, mid, trim,
	// round, md5) are not here.
	add(gSQLCall, kwStart, "group_concat", "concat_ws", "make_set", "name_const", "ifnull",
		"unhex", "xmltype", "sysdate", "uncompress", "coalesce", "benchmark", "pg_sleep",
		"sleep", "extractvalue", "updatexml", "randomblob", "substring_index", "openrowset",
		"opendatasource", "nvarchar", "varchar", "to_timestamp_tz", "bfilename", "elt",
		"load_file", "current_database", "sqlite_version", "utl_inaddr", "dbms_xmlgen",
		"pg_read_file", "json_keys", "st_latfromgeohash", "gtid_subset")
	// Words the extra expression needs (with gSQL's words only after a ';'):
	// EXECUTE IMMEDIATE, CREATE …, ALTER TABLE, WHEN … THEN, CONVERT(INT, …), boolean
	// literals, FROM `table`, UNION ALL SELECT, subqueries, EXEC master.
	add(gSQLExtra, kwWord, "immediate", "when", "convert", "true", "false", "create", "alter",
		"union", "select")
	add(gSQLExtra, kwStart, "master.")
	add(gSQLExtra, kwStart, "from `")
	add(gSQLMisc, 0, "as '")

	// XSS.
	add(gXSS, 0, "<script", "</script", "javascript:", "vbscript:", "livescript:",
		"data:text/html", "data:image/svg", "data:application", "expression(", "-moz-binding",
		"behavior:", "srcdoc", "formaction", "xlink:href", "<!--", "-->", "<![cdata[", "+adw-")
	// JavaScript sinks and gadgets, which gate the JavaScript expression.
	add(gJS, 0, "alert", "prompt", "confirm", "document", "window.", "location.", "innerhtml",
		"outerhtml", "textcontent", "innertext", "fromcharcode", "eval(", "settimeout",
		"setinterval", "function", "constructor", "atob", "btoa", ".call", ".apply", ".bind",
		"reflect.", "![]", "+[]", "url(", "-moz-binding", "self[", "top[", "parent[", "frames[",
		"globalthis", "content[", "window[", "(document)")
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
	add(gPHPFunc, kwStart, "exec", "eval", "assert")
	add(gPHPWeak, kwWord, "system", "assert", "include", "require", "extract",
		"glob", "chr", "mail", "copy", "file", "constant", "unlink", "rename", "mkdir", "rmdir",
		"chmod", "chown")
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
		"=>", "while(", "while (", "while\t", "for(;", "for (;", "import os", "compile(", "range(",
		"@{", "_$$nd_func$$_", "require.", "._load", "new function", ".spawn(",
		"db.", ";return", "; return", "do{", "do {")
	add(gXXE, 0, "<!doctype", "<!entity", "<!element", "<!attlist", "system \"",
		"system '", "public \"", "%xxe", "xinclude", "<xi:include")
	add(gCRLF, 0, "set-cookie", "location:", "content-type", "content-length",
		"refresh:", "x-xss-protection", "access-control-", "transfer-encoding",
		"http/1.", "http/2", "<html", "host:", "cache-control", "content-security-policy",
		"link:", "x-forwarded", "content-disposition")
	add(gUATool, 0, scannerAgents()...)
	add(gJavaMagic, 0, "ro0ab", "kztaau", "cs7qaf", "aced0005")
	add(gHTTPVer, 0, "http/")
	add(gWinCmd, kwWord, "if", "for", "alias")
	add(gNoSQL, 0, "$ne", "$eq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$or",
		"$and", "$not", "$nor", "$exists", "$type", "$regex", "$where", "$expr",
		"$text", "$search", "$elemmatch", "$all", "$size", "$mod", "$jsonschema",
		"$function", "$accumulator", "$comment")
	return kws
}

// phpFunctions are PHP functions that run code or commands, or read and write files.
func phpFunctions() []string {
	return []string{
		"shell_exec", "passthru", "popen", "proc_open", "pcntl_exec", "create_function",
		"call_user_func", "call_user_func_array", "preg_replace", "array_map", "array_filter",
		"usort", "uasort", "register_shutdown_function", "register_tick_function",
		"base64_decode", "gzinflate", "gzuncompress", "gzdecode", "str_rot13",
		"convert_uudecode", "hex2bin", "file_get_contents", "file_put_contents", "fopen",
		"fwrite", "fputs", "readfile", "fpassthru", "highlight_file", "show_source",
		"include_once", "require_once", "phpinfo", "posix_", "ini_set", "ini_get", "putenv",
		"unserialize", "move_uploaded_file", "symlink", "scandir", "opendir", "readdir",
		"curl_exec", "fsockopen", "pfsockopen", "stream_socket_client", "var_dump", "print_r",
		"var_export", "get_defined_vars", "get_current_user", "getcwd", "php_uname",
		"phpversion", "parse_str", "escapeshellcmd", "escapeshellarg", "func_get_args",
		"array_walk", "ob_start", "iterator_apply", "strrev", "strip_tags", "filegroup",
		"fileowner", "fileperms", "chroot", "chgrp", "lchown", "getmypid", "getmyuid",
		"gethostbyname", "get_cfg_var", "apache_child_terminate", "proc_nice",
		"proc_terminate", "shm_open", "dl",
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
		".copy", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.bzip2", ".tar.gzip", ".tar.xz", ".tbz2",
		".sql.7z", ".sql.rar", ".sql.xz", ".sql.tgz",
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
