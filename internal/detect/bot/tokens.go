package bot

// token is a curated, case-insensitive substring that identifies a client family. Tokens
// take precedence over the crawler patterns: they give the stable names, the crawler
// claims that DNS can verify, and the split between libraries, automation and attack tools
// that the patterns' tags do not make.
type token struct {
	lit      string // lower case
	kind     Kind
	category string
	name     string
	claimed  string
	prefix   bool   // lit must start the User-Agent
	detail   string // set by buildRules
}

// curatedTokens returns the token table in priority order: the first token found wins.
// Within a kind, more specific tokens come before the ones they contain ("pycurl/" before
// "curl/").
func curatedTokens() []token {
	scanner := func(lit, name string) token { return token{lit: lit, kind: Scanner, category: "scanner", name: name} }
	auto := func(lit, name string) token {
		return token{lit: lit, kind: Automation, category: "automation", name: name}
	}
	lib := func(lit, name string) token { return token{lit: lit, kind: Library, category: "library", name: name} }
	crawler := func(lit, cat, name, claimed string) token {
		return token{lit: lit, kind: Crawler, category: cat, name: name, claimed: claimed}
	}
	return []token{
		// Attack and vulnerability-scanning tools.
		scanner("sqlmap", "sqlmap"),
		scanner("nikto", "nikto"),
		scanner("nuclei", "nuclei"),
		scanner("acunetix", "acunetix"),
		scanner("nessus", "nessus"),
		scanner("masscan", "masscan"),
		scanner("zgrab", "zgrab"),
		scanner("wpscan", "wpscan"),
		scanner("dirbuster", "dirbuster"),
		scanner("gobuster", "gobuster"),
		scanner("feroxbuster", "feroxbuster"),
		scanner("fuzz faster u fool", "ffuf"),
		scanner("ffuf", "ffuf"),
		scanner("wfuzz", "wfuzz"),
		scanner("w3af", "w3af"),
		scanner("nmap scripting engine", "nmap"),
		scanner("nmap/", "nmap"),
		scanner("openvas", "openvas"),
		scanner("arachni", "arachni"),
		scanner("skipfish", "skipfish"),
		scanner("netsparker", "netsparker"),
		scanner("appscan", "appscan"),
		scanner("webinspect", "webinspect"),
		scanner("jaeles", "jaeles"),
		scanner("xsser", "xsser"),
		scanner("commix", "commix"),
		scanner("havij", "havij"),
		scanner("zmeu", "zmeu"),
		scanner("morfeus", "morfeus"),
		scanner("dotdotpwn", "dotdotpwn"),
		scanner("fimap", "fimap"),
		scanner("sqlninja", "sqlninja"),
		scanner("bsqlbf", "bsqlbf"),
		scanner("zaproxy", "zap"),
		scanner("owasp zap", "zap"),
		scanner("paros/", "paros"),
		scanner("wapiti", "wapiti"),
		scanner("whatweb", "whatweb"),
		scanner("(hydra)", "hydra"),
		scanner("thc-hydra", "hydra"),

		// Driven browsers.
		auto("headlesschrome", "headless-chrome"),
		auto("headless chrome", "headless-chrome"),
		auto("phantomjs", "phantomjs"),
		auto("slimerjs", "slimerjs"),
		auto("selenium", "selenium"),
		auto("webdriver", "webdriver"),
		auto("puppeteer", "puppeteer"),
		auto("playwright", "playwright"),
		auto("htmlunit", "htmlunit"),
		auto("jsdom/", "jsdom"),
		auto("zombie.js", "zombie"),

		// Crawlers whose operator can be checked (see claimTable).
		crawler("googlebot-image", "search", "googlebot-image", "google"),
		crawler("googlebot-news", "search", "googlebot-news", "google"),
		crawler("googlebot-video", "search", "googlebot-video", "google"),
		crawler("googlebot", "search", "googlebot", "google"),
		crawler("google-inspectiontool", "search", "google-inspectiontool", "google"),
		crawler("storebot-google", "search", "storebot-google", "google"),
		crawler("googleother", "search", "googleother", "google"),
		crawler("google-cloudvertexbot", "ai", "google-cloudvertexbot", "google"),
		crawler("adsbot-google", "ads", "adsbot-google", "google"),
		crawler("mediapartners-google", "ads", "mediapartners-google", "google"),
		crawler("feedfetcher-google", "feed", "feedfetcher-google", "google"),
		crawler("apis-google", "other", "apis-google", "google"),
		crawler("bingbot", "search", "bingbot", "bing"),
		crawler("msnbot", "search", "msnbot", "bing"),
		crawler("adidxbot", "ads", "adidxbot", "bing"),
		crawler("bingpreview", "social", "bingpreview", "bing"),
		crawler("applebot", "search", "applebot", "apple"),
		crawler("duckduckbot", "search", "duckduckbot", "duckduckgo"),
		crawler("duckassistbot", "ai", "duckassistbot", "duckduckgo"),
		crawler("yandexbot", "search", "yandexbot", "yandex"),
		crawler("yandeximages", "search", "yandeximages", "yandex"),
		crawler("yandex.com/bots", "search", "yandex", "yandex"),
		crawler("baiduspider", "search", "baiduspider", "baidu"),
		crawler("gptbot", "ai", "gptbot", "openai"),
		crawler("chatgpt-user", "ai", "chatgpt-user", "openai"),
		crawler("oai-searchbot", "ai", "oai-searchbot", "openai"),

		// HTTP libraries and command-line tools.
		lib("pycurl/", "pycurl"),
		lib("curl/", "curl"),
		lib("wget/", "wget"),
		lib("python-requests/", "python-requests"),
		lib("python-urllib/", "python-urllib"),
		lib("python-httpx/", "httpx"),
		lib("aiohttp/", "aiohttp"),
		lib("urllib3/", "urllib3"),
		lib("httpie/", "httpie"),
		lib("go-http-client/", "go-http-client"),
		lib("fasthttp", "fasthttp"),
		lib("okhttp/", "okhttp"),
		lib("apache-httpclient/", "apache-httpclient"),
		lib("apache-httpasyncclient/", "apache-httpclient"),
		lib("commons-httpclient/", "apache-httpclient"),
		lib("java-http-client/", "java"),
		{lit: "java/", kind: Library, category: "library", name: "java", prefix: true},
		lib("node-fetch", "node-fetch"),
		lib("undici", "undici"),
		lib("axios/", "axios"),
		lib("sindresorhus/got", "got"),
		lib("libwww-perl/", "libwww-perl"),
		lib("windowspowershell/", "powershell"),
		lib("powershell/", "powershell"),
		lib("guzzlehttp/", "guzzle"),
		lib("faraday v", "faraday"),
		lib("rest-client/", "rest-client"),
		lib("http.rb/", "http.rb"),
		lib("reqwest/", "reqwest"),
		lib("dart/", "dart"),
		lib("deno/", "deno"),
		lib("bun/", "bun"),
		lib("restsharp/", "restsharp"),
		lib("postmanruntime/", "postman"),
		lib("insomnia/", "insomnia"),
		lib("scrapy/", "scrapy"),
		lib("colly", "colly"),
		lib("mechanize", "mechanize"),
		lib("hackney/", "hackney"),
	}
}

// exactLibraries names libraries whose whole User-Agent is one short word.
func exactLibrary(ua string) (name string, ok bool) {
	switch ua {
	case "node":
		return "undici", true
	case "Ruby":
		return "ruby", true
	}
	return "", false
}

// claim is an operator's verification rule.
type claim struct {
	idx     uint8
	domains []string // PTR names must end in one of these; none: not verifiable by DNS
}

// claimTable returns the operators of Class.Claimed. Domains come from each operator's
// documentation of crawler verification.
func claimTable() map[string]claim {
	return map[string]claim{
		"google": {1, []string{"googlebot.com", "google.com", "googleusercontent.com"}},
		"bing":   {2, []string{"search.msn.com"}},
		"apple":  {3, []string{"applebot.apple.com"}},
		"yandex": {4, []string{"yandex.ru", "yandex.net", "yandex.com"}},
		"baidu":  {5, []string{"baidu.com", "baidu.jp"}},
		// OpenAI and DuckDuckGo publish IP ranges, not PTR names: NotApplicable here.
		"openai":     {6, nil},
		"duckduckgo": {7, nil},
	}
}
