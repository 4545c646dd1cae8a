// Package attack detects attack payloads in HTTP requests: the in-process, low
// false-positive core of Vigil's "attack payloads" detector.
//
// A [Scanner] examines the raw and decoded path, every name and value of the query
// string (all values of repeated keys), cookie names and values, the headers an
// application reads, and the body when it is form data, JSON (every key and string
// leaf), multipart (field names, values, file names), XML (text and attribute values)
// or text. Each value is normalised with package decode (repeated URL decoding, HTML
// entities, NFKC, overlong UTF-8, path cleaning, JavaScript escapes) and then
// examined by per-attack detectors. It appends [detect.Finding] values with Detector
// "attack" to a caller's slice; a clean request costs no allocation.
//
// # How values are judged
//
// Work is bounded and mostly skipped. A value made only of letters, digits, '-' and
// '_' is checked for one thing (a Java serialisation marker) and left. Any other
// value gets one pass that records its character classes and one case-insensitive
// keyword pass over a merged table of every detector's keywords. A detector runs its
// expensive confirmation (libinjection, an RE2 expression anchored near the keyword,
// an IP parser) only when its keywords and character classes are present, so
// ordinary text such as a browser's User-Agent runs none. No expression backtracks;
// the engine examines at most WindowBytes at once. User-Agent and Referer values
// and paths that scanned clean are remembered in a small bounded cache, so what a
// browser repeats on every request is examined once; only clean verdicts are cached,
// keyed by the exact value and how it was examined. Cookie and parameter values are
// not cached: they differ per user, and most are letters and digits that the first
// test already settles.
//
// # The scan budget
//
// Padding must not hide an attack, so nothing within a request's scan budget is
// skipped: every value is examined however many come before it, and a value longer
// than WindowBytes is examined whole, in windows of WindowBytes that overlap by
// WindowOverlap (a window starts after a separator near the overlap's start), so any
// payload of up to 768 bytes lies whole inside one window. A long value draws at most
// one finding per code, the strongest of its windows.
//
// The budget bounds the work: each value examined costs its length in bytes (at
// least one), and a request may spend HeaderScanBytes (net/http's default limit on
// the request line and headers) plus twice MaxBodyBytes (an XML body is examined as
// text and again by value). A request that net/http's default server accepts, with a
// body within MaxBodyBytes, is therefore examined whole. Most values cost one pass of
// a byte-class table; only values with punctuation pay for the engine, whose cost on
// punctuation-dense input is about 15 MB/s, so a budget-sized request costs tens of
// milliseconds at worst.
//
// What lies beyond the budget — values after it ran out, the rest of the value it
// ran out in, the body past MaxBodyBytes — is not examined and is reported as
// too_many_params, value_too_long or body_not_scanned. Alone these keep moderate
// scores (60, 30, 50): large requests are legitimate, and how much to distrust them
// is policy's to set through weights. But when the examined part of the same request
// holds an attack finding scoring 50 or more, each of them scores 80, so the request
// blocks at the default threshold: a weak signal followed by more padding than the
// scanner will read is treated as the attack it is likely to be.
//
// Precision comes from context, not from word lists alone: a shell command counts
// only after a shell separator or substitution and, when it is also an English word
// ("cat", "time", "more"), only with command-line arguments; libinjection's verdict
// on a value without quotes counts only when its fingerprint has SQL structure that
// prose lacks; "../" counts only when it starts a path component; a javascript:
// scheme only where it can be a URL.
//
// # Codes and scores
//
// Scores follow one scale: 90–100 is strong evidence and blocks on its own at the
// default threshold of 80; 80–89 blocks on its own but is a pattern with known
// benign look-alikes; below 80 is a signal that blocks only combined with others or
// through policy weights. Codes are stable; policy refers to them.
//
//	sqli              95 UNION SELECT; 90 libinjection (quoted context, or SQL
//	                  structure), time and file functions (not method calls such
//	                  as time.sleep), stacked statements; 85 SELECT…FROM where the
//	                  query is in code rather than quoted in prose, SELECT of an SQL
//	                  function, subqueries, system catalogs, PostgreSQL casts,
//	                  numeric tautologies in a value with SQL punctuation, x=x and
//	                  'a'='a' tautologies, a quote closed and the rest commented
//	                  away or ended with ';', escaped-quote breakouts, a comment
//	                  glued to a keyword (SELECT/**/), EXECUTE IMMEDIATE, CREATE
//	                  FUNCTION, CONVERT(INT, subquery), MongoDB operators in keys;
//	                  80 a value that opens with a logical operator and a comparison
//	                  ("AND 7=(", "|| x == '"), bare calls of functions only SQL has
//	                  (group_concat, ifnull, xmltype); 60 libinjection on prose-like
//	                  text. Values with /* comments or typographic quotes are also
//	                  judged with comments read as blanks, comments dropped
//	                  ("UN/**/ION"), MySQL executable comments opened and ’ ‘ ´ ′
//	                  read as ASCII quotes
//	xss               95 script-capable tags, javascript:/vbscript: URLs; 90 event
//	                  handlers, data:text/html, libinjection with an active part;
//	                  85 JavaScript sinks (alert(, document.cookie, JSFuck);
//	                  70 libinjection alone (rich-text markup looks like it)
//	path_traversal    95 two or more "../" steps, or one with a sensitive file, file
//	                  stream wrappers (php://filter, zip://, phar://); 90 "../" in
//	                  the URL path or an upload's file name, absolute sensitive
//	                  files (/etc/passwd, /proc/self/environ, win.ini); 85 one step
//	                  written encoded (%2e%2e%2f) or towards a config, log, secret
//	                  or hidden file, and a parameter that is an absolute path into
//	                  the server's system directories (/var/log/…, /usr/local/etc/…,
//	                  /.bash_history, C:\inetpub\…) or to a file named like a log or
//	                  configuration; 80 one "..\"; 70 one plain "../" towards
//	                  anything else ("../images/logo.png")
//	cmdi              100 shellshock; 95 ${IFS}, /dev/tcp; 90 a command after a
//	                  separator or inside $(…)/`…`, /bin/sh paths, PowerShell and
//	                  cmd idioms, Windows FOR loops, glob-obfuscated paths; 85 shell
//	                  parameter and arithmetic expansion
//	ssrf              95 cloud metadata (169.254.169.254 in every encoding,
//	                  fd00:ec2::254, metadata.google.internal, 100.100.100.200),
//	                  gopher:// and dict://; 90 loopback and unspecified hosts,
//	                  file://; 85 link-local and cluster-internal names, jar:;
//	                  80 tftp/ldap/sftp schemes; 70 private addresses. A bare host
//	                  without a scheme scores 5 less. Parameters only.
//	scanner_probe     90 offensive scanner User-Agents, VCS and credential dotfiles
//	                  (.git/, .env, .htpasswd); 85 backup and dump names (.bak,
//	                  .sql, ~, .sql.7z, .tar.bz2) and compressed database dumps by
//	                  name (db_backup.rar, mysql.zip, dump.gz); 80 any other hidden
//	                  path segment; 70/60 paths some
//	                  sites do serve (web.config, config.php)
//	log4shell         100 a Log4j lookup that reaches JNDI, nested lookups resolved
//	java_injection    95 OGNL, Spring4Shell, deserialisation gadgets and stream
//	                  markers (rO0AB); 90 ProcessBuilder, hex stream marker; 85
//	                  Runtime next to Java words; 80 other JDK class names
//	php_injection     95 <?php, expect://; 90 other open tags, calls of PHP
//	                  functions that execute or read, superglobals, php://, script
//	                  upload names (.php, .phtml); 85 variable functions, serialised
//	                  objects, php.ini directives, data: wrapper
//	code_injection    95 Node child_process, Python __globals__/__builtins__; 90
//	                  template injection ({{…__class__…}}, <%= … %>), prototype
//	                  pollution, Perl @{[…]}, require('fs'); 85 process.* access,
//	                  infinite loops, server-side JavaScript in MongoDB queries
//	                  (db.x.insert(…), "';return 'a'=='a'", do{…}while(…)); also
//	                  server-side includes (<!--#exec)
//	xxe               95 external or parameter entities; 90 XInclude; 85 DOCTYPE
//	                  with an internal subset or SYSTEM id; 70 a bare <!ENTITY
//	ldap_injection    85 a value that closes an LDAP filter and opens another
//	session_fixation  90 script or meta tags that set cookies; 85 a session-ID
//	                  parameter on a request referred by another site; 60 the same
//	                  with no Referer
//	protocol          90 CRLF header injection or response splitting, a request
//	                  line inside a value, both Content-Length and
//	                  Transfer-Encoding, UTF-7 or EBCDIC charsets; 85 NUL bytes,
//	                  overlong UTF-8, a second media type in Content-Type, line
//	                  breaks in names or the path, two Content-Dispositions in a
//	                  part; 80 exotic part charsets, malformed part headers; 70
//	                  other control characters; 50 UTF-16/32 charsets; 40 more than
//	                  256 parameters
//	body_not_scanned  50 the body was larger than MaxBodyBytes (its prefix was
//	                  scanned; 80 with an attack finding elsewhere), had a
//	                  Content-Encoding, could not be read, or was malformed
//	                  multipart (then scanned as text)
//	too_many_params   60 values past the scan budget were not examined (80 with an
//	                  attack finding elsewhere)
//	value_too_long    30 the scan budget ran out inside a value, which was examined
//	                  on its first part (80 with an attack finding elsewhere)
//
// Detail reads "<where>: <code> (<excerpt>)", where is for example "path",
// "query:id", "query-name", "cookie:session", "header:User-Agent",
// "body:json:user.name" or "body:multipart-filename:upload", and the excerpt is at
// most 48 bytes of the matched text with control characters escaped.
//
// # What it does not do
//
// Headers with a fixed browser grammar (Accept, Sec-CH-UA, Sec-Fetch-*) and
// credentials (Authorization) are not scanned; other headers are, including unknown
// ones, where Log4Shell and header injection live. File contents in multipart
// uploads are not scanned. Base64-encoded payloads are not decoded, except Java
// serialisation markers, which are recognised in encoded form.
package attack
