package formscan_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/vigilhq/vigil/internal/formscan"
)

// A signup request: the e-mail address and phone number are found in one pass, and
// the handler still reads the body the client sent.
func Example() {
	r := httptest.NewRequest("POST", "/signup",
		strings.NewReader(`{"user":{"Email":"ann@example.com"},"phone":4915112345678,"password":"x"}`))
	r.Header.Set("Content-Type", "application/json")

	body, ok, err := formscan.Read(r, 64<<10)
	if err != nil || !ok {
		fmt.Println("body not scanned")
		return
	}
	v := formscan.Find(r.Header.Get("Content-Type"), body,
		[]string{"email", "e-mail"}, []string{"phone", "tel"})
	fmt.Printf("email=%s phone=%s\n", v[0], v[1])

	rest, _ := io.ReadAll(r.Body)
	fmt.Println(string(rest))
	// Output:
	// email=ann@example.com phone=4915112345678
	// {"user":{"Email":"ann@example.com"},"phone":4915112345678,"password":"x"}
}

// A body larger than the bound is not examined, and still reaches the handler whole.
func ExampleRead_tooLarge() {
	r := httptest.NewRequest("POST", "/login", strings.NewReader("username=ann&padding="+strings.Repeat("x", 100)))
	r.ContentLength = -1 // unknown, as with chunked encoding

	body, ok, err := formscan.Read(r, 64)
	fmt.Println(body == nil, ok, err)
	rest, _ := io.ReadAll(r.Body)
	fmt.Println(len(rest))
	// Output:
	// true false <nil>
	// 121
}
