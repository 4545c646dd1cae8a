package bot_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/vigilhq/vigil/internal/detect/bot"
)

func ExampleDetector_Classify() {
	d, err := bot.New(bot.Config{})
	if err != nil {
		panic(err)
	}
	for _, ua := range []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/151.0.0.0 Safari/537.36",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"python-requests/2.32.3",
		"sqlmap/1.8.2#stable (https://sqlmap.org)",
	} {
		c := d.Classify(ua)
		fmt.Printf("%s %q %s %d claimed=%q\n", c.Kind, c.Category, c.Name, c.Major, c.Claimed)
	}
	// Output:
	// browser "" chrome 151 claimed=""
	// crawler "search" googlebot 2 claimed="google"
	// library "library" python-requests 2 claimed=""
	// scanner "scanner" sqlmap 1 claimed=""
}

func ExampleDetector_InspectRequest() {
	d, err := bot.New(bot.Config{})
	if err != nil {
		panic(err)
	}
	// A script that copies Chrome's User-Agent but none of Chrome's other headers.
	r := httptest.NewRequest("GET", "https://shop.example/", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/151.0.0.0 Safari/537.36")
	r.Header.Set("Accept-Encoding", "gzip")
	for _, f := range d.InspectRequest(nil, r, d.Classify(r.UserAgent())) {
		fmt.Printf("%s %d %s\n", f.Code, f.Score, f.Detail)
	}
	// Output:
	// ua_inconsistent 30 chromium 89+ over tls without sec-ch-ua
	// ua_inconsistent 30 no sec-fetch-site from a browser that sends fetch metadata
	// ua_inconsistent 25 browser user-agent without accept-language
	// ua_inconsistent 20 browser user-agent over tls without br in accept-encoding
}
