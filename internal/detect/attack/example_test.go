package attack_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/vigilhq/vigil/internal/detect"
	"github.com/vigilhq/vigil/internal/detect/attack"
)

func ExampleScanner_ScanRequest() {
	s, err := attack.New(attack.Config{})
	if err != nil {
		panic(err)
	}
	body := "comment=" + url.QueryEscape("nice; thanks") + "&next=" + url.QueryEscape("../../etc/passwd")
	r := httptest.NewRequest("POST", "/posts?id=42", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	var buf [8]detect.Finding
	fs, err := s.ScanRequest(buf[:0], r)
	if err != nil {
		panic(err)
	}
	for _, f := range fs {
		fmt.Println(f.Code, f.Score, f.Detail)
	}
	// The handler still reads the whole body.
	rest, _ := io.ReadAll(r.Body)
	fmt.Println(len(rest) == len(body))
	// Output:
	// path_traversal 95 body:form:next: path_traversal (../../etc/passwd)
	// true
}

func ExampleScanner_ScanValue() {
	s, err := attack.New(attack.Config{})
	if err != nil {
		panic(err)
	}
	for _, v := range []string{"O'Brien", "1' OR '1'='1", "select a plan", "${${lower:j}ndi:ldap://x/a}"} {
		fs := s.ScanValue(nil, "query:q", v)
		if len(fs) == 0 {
			fmt.Printf("%q: clean\n", v)
			continue
		}
		fmt.Printf("%q: %s %d\n", v, fs[0].Code, fs[0].Score)
	}
	// Output:
	// "O'Brien": clean
	// "1' OR '1'='1": sqli 90
	// "select a plan": clean
	// "${${lower:j}ndi:ldap://x/a}": log4shell 100
}
