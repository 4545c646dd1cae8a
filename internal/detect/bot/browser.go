package bot

import "strings"

// uaScan is what parseBrowser learns from a User-Agent's products and comments.
type uaScan struct {
	webkit, safari, presto                         bool
	chrome, crios, firefox, fxios, edg, edgios     int // major versions; -1 when absent
	edgeLegacy, opr, opt, samsung, yandex, vivaldi int
	version, versionMinor                          int // Version/x.y
	ios, android, webView, compatible, msie, trid  bool
	iosMajor, iosMinor                             int
	ie                                             int // MSIE version, or rv: under Trident
	unknownProduct, oddComment                     bool
}

// parseBrowser reads ua as a browser User-Agent. browserish reports that it names a
// browser family; clean that it has nothing but that browser's usual tokens and one
// platform comment without crawler words, so no crawler pattern need run.
func parseBrowser(ua string) (c Class, browserish, clean bool) {
	if !strings.HasPrefix(ua, "Mozilla/5.0 (") && !strings.HasPrefix(ua, "Mozilla/4.0 (compatible; MSIE ") &&
		!strings.HasPrefix(ua, "Opera/9.80 (") {
		return c, false, false
	}
	s := uaScan{chrome: -1, crios: -1, firefox: -1, fxios: -1, edg: -1, edgios: -1,
		edgeLegacy: -1, opr: -1, opt: -1, samsung: -1, yandex: -1, vivaldi: -1, version: -1}
	comments := 0
	for i := 0; i < len(ua); {
		switch ua[i] {
		case ' ':
			i++
		case '(':
			j := strings.IndexByte(ua[i:], ')')
			if j < 0 {
				s.oddComment = true
				j = len(ua) - i
			}
			comments++
			s.comment(ua[i+1:i+j], comments)
			i += j + 1
		default:
			j := i
			for j < len(ua) && ua[j] != ' ' && ua[j] != '(' {
				j++
			}
			s.product(ua[i:j])
			i = j
		}
	}

	c.Kind = Browser
	ios := s.ios
	blink := false
	switch {
	case s.edgios >= 0:
		c.Name, c.Major = "edge", s.edgios
	case s.edg >= 0:
		c.Name, c.Major, blink = "edge", s.edg, true
	case s.edgeLegacy >= 0:
		c.Name, c.Major = "edge", s.edgeLegacy
	case s.opr >= 0:
		c.Name, c.Major, blink = "opera", s.opr, true
	case s.opt >= 0:
		c.Name, c.Major = "opera", s.opt
	case s.presto:
		c.Name, c.Major = "opera", s.version
	case s.samsung >= 0:
		c.Name, c.Major, blink = "samsung", s.samsung, true
	case s.yandex >= 0:
		c.Name, c.Major, blink = "yabrowser", s.yandex, true
	case s.vivaldi >= 0:
		c.Name, c.Major, blink = "vivaldi", s.vivaldi, true
	case s.fxios >= 0:
		c.Name, c.Major = "firefox", s.fxios
	case s.firefox >= 0:
		c.Name, c.Major = "firefox", s.firefox
	case s.crios >= 0:
		c.Name, c.Major = "chrome", s.crios
	case s.chrome >= 0:
		c.Name, c.Major, blink = "chrome", s.chrome, true
	case s.ie > 0:
		c.Name, c.Major = "ie", s.ie
	case s.webkit && s.safari && s.version >= 0 && !s.android:
		c.Name, c.Major = "safari", s.version
	case s.webkit && s.android:
		c.Name, c.Major = "android", s.version // the pre-Chrome Android browser
	case s.webkit && ios:
		c.Name = "webview" // an iOS app's WKWebView
	default:
		return Class{}, false, false
	}
	browserish = true
	c.Major = max(c.Major, 0)

	clean = !s.unknownProduct && !s.oddComment && comments <= 2 && (!s.compatible || s.msie)
	lenient := !clean || s.webView || c.Name == "webview" || c.Name == "android"
	if lenient {
		c.flags |= flagLenient
	}
	switch {
	case ios:
		// Every iOS browser uses WebKit's network stack: judge it by the iOS version.
		c.flags |= flagWebKit | flagIOS
		v := s.iosMajor*100 + s.iosMinor
		if s.iosMajor == 0 && c.Name == "safari" {
			v = s.version*100 + s.versionMinor
		}
		if v >= 1604 {
			c.flags |= flagFetchMeta
		}
		if v >= 1100 {
			c.flags |= flagBrotli
		}
	case blink:
		c.flags |= flagBlink
		c.engine = uint16(min(max(s.chrome, 0), 0xffff))
		if s.chrome >= 89 {
			c.flags |= flagClientHints
		}
		if s.chrome >= 76 {
			c.flags |= flagFetchMeta
		}
		if s.chrome >= 51 {
			c.flags |= flagBrotli
		}
	case c.Name == "firefox":
		c.flags |= flagGecko
		if c.Major >= 90 {
			c.flags |= flagFetchMeta
		}
		if c.Major >= 44 {
			c.flags |= flagBrotli
		}
	case c.Name == "safari":
		c.flags |= flagWebKit
		if v := s.version*100 + s.versionMinor; v >= 1604 {
			c.flags |= flagFetchMeta
		}
		if s.version >= 11 {
			c.flags |= flagBrotli
		}
	case c.Name == "android":
		c.flags |= flagWebKit
	}
	if lenient {
		c.flags &^= flagClientHints | flagFetchMeta | flagBrotli
	}
	return c, browserish, clean
}

// product records one top-level product token, "Name/Version" or "Name".
func (s *uaScan) product(p string) {
	name, ver, _ := strings.Cut(p, "/")
	major := leadingInt(ver)
	switch name {
	case "Mozilla", "Gecko", "like", "Yowser":
	case "AppleWebKit":
		s.webkit = true
	case "Safari":
		s.safari = true
	case "Mobile":
	case "Version":
		s.version = major
		if _, minor, ok := strings.Cut(ver, "."); ok {
			s.versionMinor = leadingInt(minor)
		}
	case "Chrome", "Chromium":
		s.chrome = major
	case "CriOS":
		s.crios = major
	case "Firefox":
		s.firefox = major
	case "FxiOS":
		s.fxios = major
	case "Edg", "EdgA":
		s.edg = major
	case "EdgiOS":
		s.edgios = major
	case "Edge":
		s.edgeLegacy = major
	case "OPR":
		s.opr = major
	case "OPT":
		s.opt = major
	case "Presto":
		s.presto = true
	case "Opera":
		if s.version < 0 {
			s.version = major
		}
	case "SamsungBrowser":
		s.samsung = major
	case "YaBrowser":
		s.yandex = major
	case "Vivaldi":
		s.vivaldi = major
	default:
		// Other browsers (UCBrowser, MiuiBrowser, SogouMobileBrowser) name themselves so;
		// anything else is an app, a web view or a crawler.
		if len(name) <= len("Browser") || !strings.HasSuffix(name, "Browser") {
			s.unknownProduct = true
		}
	}
}

// comment records one comment. The first is the platform; the only other comment a
// clean browser sends is "(KHTML, like Gecko)".
func (s *uaScan) comment(c string, n int) {
	if n > 1 {
		if c != "KHTML, like Gecko" && c != "KHTML like Gecko" {
			s.oddComment = true
		}
		return
	}
	desktop := (strings.Contains(c, "Windows") || strings.Contains(c, "Macintosh") || strings.Contains(c, "X11")) &&
		!strings.Contains(c, "Android") && !strings.Contains(c, "Windows Phone") && !strings.Contains(c, "iP")
	for part := range strings.SplitSeq(c, ";") {
		part = strings.TrimSpace(part)
		if desktop && !s.compatible && !desktopPart(part) {
			// Desktop platform comments use a small vocabulary; crawlers that pose as a
			// desktop browser often add their name here ("X11; Datanyze; Linux x86_64").
			s.oddComment = true
		}
		switch {
		case part == "wv":
			s.webView = true
		case part == "compatible":
			s.compatible = true
		case strings.HasPrefix(part, "MSIE "):
			s.msie = true
			s.ie = leadingInt(part[len("MSIE "):])
		case strings.HasPrefix(part, "Trident/"):
			s.trid = true
		case strings.HasPrefix(part, "rv:") && s.trid && s.ie == 0:
			s.ie = leadingInt(part[len("rv:"):])
		case strings.HasPrefix(part, "Android"):
			s.android = true
		case strings.HasPrefix(part, "iPhone") || strings.HasPrefix(part, "iPad") ||
			strings.HasPrefix(part, "iPod") || strings.HasPrefix(part, "CPU "):
			s.ios = true
			if i := strings.Index(part, "OS "); i >= 0 {
				v := part[i+3:]
				s.iosMajor = leadingInt(v)
				if _, minor, ok := strings.Cut(v, "_"); ok {
					s.iosMinor = leadingInt(minor)
				}
			}
		}
	}
	if s.trid && s.ie == 0 {
		s.ie = 11
	}
	for _, w := range [...]string{"http", "www.", "@", "bot", "crawl", "spider", "+"} {
		if indexFold(c, w) >= 0 {
			s.oddComment = true
			break
		}
	}
}

// desktopPart reports a part of a Windows, macOS or Linux platform comment that browsers
// send: the OS and architecture, "U", a locale, a Firefox "rv:" or an IE token.
func desktopPart(p string) bool {
	switch p {
	case "Windows", "Win64", "x64", "WOW64", "ARM", "Touch", "U", "I", "N", "Macintosh", "X11",
		"Linux", "Ubuntu", "Fedora", "Linux x86_64", "Linux i686", "Linux aarch64", "Linux armv7l",
		"Trident/7.0", "compatible", "":
		return true
	}
	for _, prefix := range [...]string{"Windows NT ", "Windows ", "Win ", "Intel Mac OS X", "PPC Mac OS X",
		"Mac OS X", "CrOS ", "FreeBSD ", "OpenBSD ", "NetBSD ", "SunOS ", "Linux ", "rv:", "MSIE ", "Trident/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return isLocale(p)
}

// isLocale reports a language tag such as "en", "en-US" or "zh_CN".
func isLocale(p string) bool {
	if len(p) != 2 && len(p) != 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case i == 2 && (c == '-' || c == '_'):
		case i != 2 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'):
		default:
			return false
		}
	}
	return true
}
