package attack

import "github.com/vigilhq/vigil/internal/nfa"

// expr is one of the scanner's expressions and where its compiled form goes.
type expr struct {
	dst **nfa.Regexp
	src string
}

// exprs lists every expression. All are RE2 (linear time), case-insensitive, and run
// only on values that already passed a keyword or character-class gate. Package nfa
// runs them: the standard library's results from a program the garbage collector does
// not scan (see its package documentation).
func (re *regexps) exprs() []expr {
	return []expr{
		// SQL.
		{&re.unionSelect, `(?i)\bunion\b(?:[\s/*()!+\-.]|\bdistinctrow\b|\bdistinct\b|\ball\b|/\*.*?\*/)*\bselect\b\s*(?:[\d*@('"\x60(/+-]|null\b|all\b|distinct|top\b|[\w.$]+\s*(?:,|\bfrom\b|--|#|/\*|\(|\)|;|\bas\b))`},
		{&re.sqlStacked, `(?i);\s*(?:drop\s+(?:table|database|schema|user|view|index|procedure|function)\b|insert\s+(?:/\*.*?\*/\s*)?into\b|delete\s+from\b|update\s+[\w.` + "`" + `"\[\]]+\s+set\b|truncate\s+table\b|create\s+(?:table|user|database|procedure|function|login)\b|alter\s+(?:table|user|database|login)\b|exec(?:ute)?\s*(?:\(|@|master\.|xp_|sp_)|declare\s+@|shutdown\b|grant\s+\w+|revoke\s+\w+|select\b.{0,80}\bfrom\b|select\s*(?:\*|@@|\(|\d)|waitfor\s+(?:delay|time)\b|replace\b.{0,40}\bvalues\b|set\s+@)`},
		{&re.sqlTimeFunc, `(?i)(?:\b(?:sleep|pg_sleep|benchmark)\s*(?:/\*.*?\*/\s*)*\(\s*[\d'"(@\-]|\bwaitfor\b\s+(?:delay|time)\s+['"\d]|\bdbms_pipe\.receive_message\s*\(|\bdbms_lock\.sleep\s*\(|\b(?:load_file|extractvalue|updatexml|utl_http\.request|utl_inaddr\.\w+|dbms_ldap\.init|xp_cmdshell|xp_dirtree|sp_executesql|pg_read_file|lo_import)\b\s*\(?|\binto\s+(?:out|dump)file\b|\binformation_schema\b|\b(?:sysobjects|syscolumns|sqlite_master|msysaccessobjects|pg_shadow)\b|@@(?:version|datadir|hostname|basedir)\b|/\*!\d{0,5}\s*\w)`},
		{&re.sqlFunc, `(?i)\bselect\b\s*(?:\*|@@\w|(?:top\s+\d+|distinct)\s|(?:count|concat|group_concat|char|user|version|database|substring|ascii|load_file|sleep|null)\s*\(|null\b|\d+\s*,)[\s\S]{0,120}?\bfrom\b`},
		{&re.sqlTautology, `(?i)['"` + "`" + `]\s*(?:\)\s*)*(?:or|and|\|\||&&|xor)\b\s*(?:\(\s*)*['"` + "`" + `]?[\w.]+['"` + "`" + `]?\s*(?:=|<>|!=|<=>|\blike\b|\bis\b|>|<)`},
		{&re.sqlQuoteComment, `(?i)['"` + "`" + `]\s*\)*\s*(?:\b(?:or|and|xor|not|collate|notnull|isnull|union|select|like|ilike|glob|regexp|rlike|having|order\s+by|group\s+by|limit|procedure|waitfor|sleep|is|in|between|div|mod|sounds)\b|[=<>!|&^+*/%-]|;).{0,80}?(?:--|#|/\*)[\s\-+;]*$|['"` + "`" + `]\s*\)*\s*;\s*(?:--|#|/\*)`},
		{&re.sqlMisc, `(?i)\bcase\s+when\b.{0,80}?\bthen\b|\bhaving\s+count\s*\(|\bgroup\s+by\b.{0,80}?\bhaving\b|\)\s*like\s*\(|\bdeclare\s*(?:/\*.*?\*/\s*)*@\w|\bprocedure\s+analyse\b|\b(?:current_user|session_user|system_user|database|db_name|schema_name|user_name|suser_name|suser_sname|is_srvrolemember|db_id|host_name|@@version|version)\s*\(\s*(?:\)|$)|(?:[)\x60]|\b\d+)\s*as\s*[\x60"']\w+[\x60"']\s*from\b|^\s*['"\x60]\s*\)?\s*;?\s*(?:union\s+(?:all\s+)?select|alter\s+(?:table|user|database)|drop\s+(?:table|database)|select\s+\S|insert\s+into|delete\s+from|update\s+\S+\s+set|exec\s|declare\s+@|waitfor\s+delay)|\b(?:or|and)\s+'[^']{0,120}'\s*(?:->>?|#>>?|<@|@>|\?[|&]?)\s*'|\b(?:or|and)\s+json_\w+\s*\(`},
		{&re.sqlCast, `(?i)['")\w]\s*::\s*(?:jsonb?|int[248]?|integer|bigint|smallint|text|varchar|numeric|regclass|bool(?:ean)?|bytea|xml|inet|double\s+precision|real|float[48]?|oid|regproc|uuid|timestamp|date)\b|\b(?:or|and)\b\s*(?:'[^']{0,80}'|"[^"]{0,80}")\s*(?:<@|@>|\?[|&]?\s*(?:'|array\b)|->>?|#>>?)`},
		{&re.sqlSelectCall, `(?i)\bselect\b\s*(?:\(\s*)*(?:(?:char|chr|concat(?:_ws)?|group_concat|count|user|current_user|version|database|schema|substring|substr|mid|ascii|ord|load_file|sleep|benchmark|if|ifnull|cast|convert|hex|unhex|md5|extractvalue|updatexml|xmltype)\s*\(|case\s+when\b|(?:pg_sleep|benchmark|sleep|load_file|@@\w+)\b)`},
		{&re.sqlLeadLogic, `(?i)(?:^|=)[\s(]*(?:and|or|xor|&&|\|\|)\s*[\s(]*(?:[\w.@$\x60]+|'[^']{0,40}'|"[^"]{0,40}")\s*(?:={1,3}|!={0,2}|<>|<=>|>=?|<=?|\blike\s*['"]|\bis\s+(?:not\s+)?(?:null|true|false)\b|\bin\s*\(|\bbetween\s+\d|#|--)\s*(?:['"(!\x60@\w-]|$)`},
		{&re.sqlOnlyCall, `(?i)(?:^|[^\pL\pN_])(?:group_concat|concat_ws|make_set|name_const|ifnull|unhex|xmltype|sysdate|uncompress|coalesce|benchmark|pg_sleep|sleep|extractvalue|updatexml|randomblob|substring_index|openrowset|opendatasource|n?varchar|to_timestamp_tz|bfilename|elt|load_file|current_database|sqlite_version|utl_inaddr\.\w+|dbms_xmlgen\.\w+|pg_read_file|json_keys|st_latfromgeohash|gtid_subset)\s*(?:/\*.*?\*/\s*)*\(`},
		{&re.sqlExtra, `(?i)\bexecute\s+immediate\b|\bcreate\s+(?:or\s+replace\s+)?(?:function|procedure|trigger)\s+[\w.\x60"\[\]]+\s*\(|\bcreate\s+table\s+[\w.\x60"\[\]]+\s*\(|\balter\s+table\s+[\x60"\[][^\x60"\]]+[\x60"\]]\s+(?:add|drop|change|modify|alter|rename)\b|\)\s*when\s+\d+\s+then\b|\bconvert\s*\(\s*(?:int|n?varchar|n?char)\b[^,]{0,8},\s*\(?\s*(?:select|union|char|@@|db_name|user|cast)\b|\b\d+\s*\)*\s*(?:or|and|xor|\|\||&&)\s+(?:true|false)\b|['"\x60]\s*\)*\s*(?:or|and|xor|\|\||&&)\s+(?:true|false)\b\s*(?:;|--|#|/\*|$|\)|&&|\|\|)|\bunion\s+all\s+select\b|(?:\bin|\bexists|=)\s*\(\s*select\b|\bfrom\s+\x60[^\x60]{1,64}\x60(?:\.\x60[^\x60]{1,64}\x60)?\s+(?:where|limit|group|order|join|union)\b|\bexec(?:ute)?\s+master\.|;\s*(?:drop|truncate|shutdown|delete|alter)\s*(?:--|#|/\*)?\s*$|^\s*(?:drop|alter|truncate|delete|insert|update|create|exec)\b[^;]{1,80};\s*(?:--|#|/\*)`},
		{&re.sqlCommentKw, `(?i)\b(?:select|union|from|where|drop|table|insert|into|update|delete|having|limit|exec|declare|values|sleep|benchmark)/\*|\*/(?:select|union|from|where|drop|table|insert|into|update|delete|having|limit|exec|declare|values)\b`},
		// XSS.
		{&re.xssTag, `(?i)^(?:<\s*/?\s*(?:[a-z]+:)?(?:script|iframe|frame|frameset|object|embed|applet|base|xss|isindex|meta|vmlframe|noscript|layer|ilayer|bgsound)(?:[\s/>]|$)|<\s*style\b[^>]*>[^<]*(?:expression\s*\(|@import|javascript:|-moz-binding|behavior\s*:|url\s*\()|<\s*[a-z][\w:-]*\b[^>]*?\b(?:src|href|action|formaction|data|xlink:href|srcdoc|background|dynsrc|lowsrc|poster|code|codebase|to|from|values|by)\s*=\s*["'\x60]?\s*(?:javascript|vbscript|livescript|data\s*:\s*(?:text/html|image/svg|application/))|<\s*link\b[^>]*\brel\s*=\s*["']?\s*import|<\s*svg\b[^>]*>\s*<\s*script|<\?\s*import\b|<!--\s*#\s*(?:exec|include|echo|set|config|printenv|fsize|flastmod)\b)`},
		{&re.xssHandler, `(?i)(?:<\s*[a-z!][\w:-]*|["'\x60]|\s)[^<>]*?[\s/"'\x60;](?:on[a-z]{3,}|formaction|srcdoc)\s*=\s*["'\x60]?(?:[^\s"'\x60]|$)`},
		{&re.xssJSCall, `(?i)(?:^|[;'"\x60(){}\[\]+\-*/|&=,!?:<>\s])\s*(?:alert|prompt|confirm)\s*(?:\(|\x60)|\b(?:document\s*\.\s*(?:cookie|domain|write(?:ln)?\s*\(|location|body\s*\.|createelement\s*\(|queryselector(?:all)?\s*\(|getelementby\w+\s*\(|forms|images|links)|window\s*\.\s*(?:location|open\s*\(|name\b)|location\s*\.\s*(?:href|hash|replace|assign)\s*[=(]|\.\s*(?:innerhtml|outerhtml|textcontent|innertext)\s*=)|\(\s*document\s*\)|\bdocument\s*\[\s*["'\x60]|\b(?:self|top|parent|window|frames|globalthis|content)\s*\[\s*["'\x60]|\b(?:string\.fromcharcode|eval\s*\(\s*(?:atob|string\.fromcharcode|unescape|decodeuri|location|name)|set(?:timeout|interval)\s*\(\s*[\w"'\x60]|new\s+function\s*\(|\.constructor\s*\(\s*["'\x60]|\[\s*\]\s*\.\s*constructor\s*\.\s*constructor|(?:atob|btoa)\s*\(|\.\s*(?:call|apply|bind)\s*\x60|reflect\s*\.\s*\w+)|[!+]\[\]|url\s*\(\s*["']?\s*(?:javascript|vbscript):|-moz-binding\s*:`},
		// PHP.
		{&re.phpCall, `(?i)(?:^|[^\w$>.:-])(?:\(?\s*["']?(?:exec|eval|assert)["']?\s*\)?(?:\s|/\*.*?\*/|#[^\n]*\n|//[^\n]*\n)*\([^)]{0,80}\)|["'(]?\s*@?\s*(?:shell_exec|passthru|popen|proc_open|pcntl_exec|create_function|call_user_func(?:_array)?|preg_replace|base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|convert_uudecode|hex2bin|file_get_contents|file_put_contents|fopen|fwrite|fputs|readfile|fpassthru|highlight_file|show_source|include_once|require_once|phpinfo|posix_\w+|ini_set|ini_get|putenv|unserialize|move_uploaded_file|scandir|opendir|readdir|curl_exec|fsockopen|pfsockopen|stream_socket_client|var_dump|print_r|var_export|get_defined_vars|get_current_user|getcwd|php_uname|phpversion|parse_str|escapeshellcmd|escapeshellarg|array_map|array_filter|array_walk|usort|uasort|register_shutdown_function|register_tick_function|iterator_apply|ob_start|func_get_args|strrev|strip_tags|filegroup|fileowner|fileperms|symlink|link|chroot|chgrp|lchown|getmypid|getmyuid|gethostbyname|get_cfg_var|apache_child_terminate|proc_nice|proc_terminate|shm_open|dl)\s*["']?\s*(?:\)\s*)?(?:\s|/\*.*?\*/|#[^\n]*\n|//[^\n]*\n)*\()`},
		{&re.phpCallWeak, `(?i)(?:^|[^\w$>.:-])(?:\(\s*["']?\s*(?:system|exec|eval|assert|include|require|extract|glob|chr|mail|copy|file|constant|unlink|rename|mkdir|rmdir|chmod|chown)\s*["']?\s*\)|["']\s*(?:system|exec|eval|assert|include|require|extract|glob|chr|mail|copy|file|constant|unlink|rename|mkdir|rmdir|chmod|chown)\s*["']|(?:system|exec|eval|assert|include|require|extract|glob|chr|mail|copy|file|constant|unlink|rename|mkdir|rmdir|chmod|chown))\s*(?:(?:/\*.*?\*/|#[^\n]*\n|//[^\n]*\n)\s*)*\(\s*(?:["'\x60$@(\[]|\)|\w+\s*\(|[\w./-]+\s*\)|\d)`},
		{&re.phpOpenTag, `(?i)<\?(?:php|=|\s+(?:php|echo|print|system|exec|eval|include|require|passthru|phpinfo|\$|@)|\s[^>]*\?>|\s*$)|\[\s*/?\s*php\s*\]|\{\s*/?\s*php\s*\}`},
		{&re.phpVarCall, `(?:\$\{?_?\w*\}?|@\$\w*)\s*(?:\[[^\]]{0,20}\]\s*|\{[^}]{0,20}\}\s*|\s*/\*.*?\*/\s*|\s*#[^\r\n]*[\r\n]+\s*|\s*//[^\r\n]*[\r\n]+\s*)*\(\s*[\w'"$.()\[\]-]{0,40}\s*\)`},
		{&re.phpSerial, `(?:^|[;{}\s"'=])[OCa]:\d+:(?:"[\w\\]+":\d+:)?\{`},
		// Java.
		{&re.javaFQCN, `(?i)\b(?:java|javax|jdk|sun|com\.sun|org\.apache|org\.springframework|org\.codehaus|org\.omg|com\.opensymphony|bsh|groovy)(?:\s*\.\s*[a-z_$][\w$]*)+`},
		{&re.jsLoop, `(?i)\bwhile\s*\(\s*(?:!\s*(?:false|[-+]?0|""|''|` + "``" + `|null|undefined|nan|\[\s*\]|\{\s*\})|true|[-+]?infinity|[-+]?[1-9]\d*|\[\s*\]|\{\s*\}|!!\s*\[\s*\])\s*\)|\bfor\s*\(\s*;\s*;\s*\)`},
		// Server-side JavaScript, as MongoDB's $where, mapReduce and eval run it: a
		// shell call on a collection, a string or number closed and followed by a
		// return of a constant or comparison, a do…while whose body is code (a busy
		// wait).
		{&re.jsInject, `(?i)(?:^|[^\w.$])db\s*\.\s*[\w$]+\s*\.\s*(?:insert|insertone|insertmany|find|findone|findandmodify|remove|update|updateone|updatemany|deleteone|deletemany|drop|mapreduce|aggregate|save|replaceone)\s*\(|(?:^\s*[-+]?\d+|['"\x60])\s*;\s*return\s*(?:\(|true\b|false\b|1\b|['"\x60]|this\b|\w+\s*[=!]=)|\bdo\s*\{[^}]*[;=(][^}]*\}\s*while\s*\(`},
		{&re.phpConcatCall, `['"]\w{1,8}['"]\s*\.\s*['"]\w{1,8}['"][^;]{0,60}[;)]\s*(?:\$\w+|\(\s*\$?\w+\s*\)|\w+)?\s*(?:/\*.*?\*/\s*)?(?:\[[^\]]*\]\s*)*\(\s*['"\w]|\(\s*\w+\s*\.\s*\(\s*\w+\s*\)\s*\.\s*\w+\s*\)\s*\(`},
		{&re.perlInterp, `@\{\s*\[[^\]]*\]`},
		{&re.ldapInj, `^[^(]*\)\s*\(\s*[|&!]?\s*\(?\s*[a-zA-Z][\w.;-]*\s*[~<>]?=|\*\s*\)\s*\(\s*[|&!]\s*\(`},
		{&re.winFor, `(?i)\bfor\s+(?:/[dflr]\s+(?:"[^"]*"\s+|[\w:\\]+\s+)?)*%%?\S*\s+in\s*\([^)]*\)\s*do\b|\bif\s+(?:/i\s+)?(?:not\s+)?(?:(?:exist|defined|errorlevel)\s+\S+|\S+\s*==+\s*\S+|\S+\s+(?:equ|neq|lss|leq|gtr|geq)\s+\S+)\s+(?:\(|@?[a-z])|\balias\s+[+-]?[\w.-]+\s*=`},
		{&re.shellParamExp, `\$\{[A-Za-z_]\w*(?::-?\d|[#%/^,~][^}]{0,20}\})`},
		{&re.requestLine, `(?i)(?:^|[\r\n])[ \t]*(?:get|post|head|put|delete|options|connect|trace|patch|propfind)\s+\S+\s+http/\d`},
		{&re.cookieSet, `(?i)\.cookie\b[^\n]{0,80}?\b(?:expires|domain|path|max-age)\s*=|http-equiv\s*=\s*["']?\s*set-cookie`},
		// Protocol.
		{&re.crlfHeader, `(?i)[\r\n][ \t]*(?:set-cookie|location|content-type|content-length|refresh|x-xss-protection|access-control-[\w-]+|transfer-encoding|host|cache-control|content-security-policy|link|x-forwarded-[\w-]+|content-disposition|connection|cookie|upgrade)[ \t]*:|\r?\n\r?\n\s*(?:<|http/\d)|[\r\n]\s*http/\d\.\d\s+\d{3}`},
		// Code injection.
		{&re.ssti, `(?i)\{\{[^}]*(?:__\w+__|\bconfig\b|\brequest\b|\bself\b|\blipsum\b|\bcycler\b|\bjoiner\b|\bnamespace\b|\bget_flashed_messages\b|\burl_for\b|\d+\s*[*+/-]\s*\d+|\|\s*attr\b)[^}]*\}\}|\{%[^%]*\b(?:import|for|if|set|include|extends|debug)\b[^%]*(?:__\w+__|os\b|popen|system|subprocess|config)[^%]*%\}|<%=?[^%]*(?:\bsystem\b|\bexec\b|\bIO\.popen|\bFile\.|` + "`" + `|\bRuntime\b|\bprocess\b|\brequire\b|\d+\s*[*+]\s*\d+)[^%]*%>|[$#*@]\{[^}]*(?:\bT\s*\(|\bnew\s+java|getclass|getruntime|forname|\.exec\s*\(|\d+\s*[*+]\s*\d+)[^}]*\}|\$\{\{|#set\s*\(\s*\$\w+\s*=|\bfreemarker\.template\.utility\.execute|\?new\s*\(\s*\)`},
	}
}

// compile builds every expression.
func (re *regexps) compile() error {
	for _, e := range re.exprs() {
		r, err := nfa.Compile(e.src)
		if err != nil {
			return err
		}
		*e.dst = r
	}
	return nil
}
