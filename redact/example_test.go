package redact_test

import (
	"fmt"
	"net/http"

	"github.com/vigilhq/vigil/redact"
)

// Secrets in free text are found by shape and replaced by placeholders; e-mail
// addresses are masked; IDs, timestamps and attack payloads are kept.
func ExampleRedactor_String() {
	r, err := redact.New(redact.Config{})
	if err != nil {
		panic(err)
	}
	for _, s := range []string{
		"sqli in q: ' OR 1=1-- (request 01ARZ3NDEKTSV4RRFFQ69G5FAV at 2024-01-15T10:30:00Z)",
		"login by jane.doe@example.com with password=hunter2",
		"paid with 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE",
		"GET /reset/Q8wZ3xY7lM2nB5vC9kD1hF6j",
	} {
		fmt.Println(r.String(s))
	}
	// Output:
	// sqli in q: ' OR 1=1-- (request 01ARZ3NDEKTSV4RRFFQ69G5FAV at 2024-01-15T10:30:00Z)
	// login by j***@e***.com with password=[REDACTED:PASSWORD:7_chars]
	// paid with [REDACTED:CARD:19_chars], key [REDACTED:AWS_KEY:20_chars]
	// GET /reset/[REDACTED:TOKEN:24_chars]
}

// Sensitive headers are replaced whole, with the kind of credential they hold; cookie
// names are kept.
func ExampleRedactor_Header() {
	r, err := redact.New(redact.Config{})
	if err != nil {
		panic(err)
	}
	fmt.Println("Authorization:", r.Header("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"))
	fmt.Println("Authorization:", r.Header("Authorization", "Basic dXNlcjpwYXNz"))
	fmt.Println("Cookie:", r.Header("Cookie", "sid=3f2a9b8c7d6e5f40; theme=dark"))
	fmt.Println("Accept:", r.Header("Accept", "text/html"))
	// Output:
	// Authorization: [REDACTED:JWT:56_chars]
	// Authorization: [REDACTED:BASIC:18_chars]
	// Cookie: sid=[REDACTED:COOKIE:16_chars]; theme=[REDACTED:COOKIE:4_chars]
	// Accept: text/html
}

// Headers redacts a copy of a whole header map.
func ExampleRedactor_Headers() {
	r, err := redact.New(redact.Config{Headers: []string{"X-Tenant-Secret"}})
	if err != nil {
		panic(err)
	}
	h := r.Headers(http.Header{"X-Tenant-Secret": {"abc"}, "X-Request-Id": {"01ARZ3NDEKTSV4RRFFQ69G5FAV"}})
	fmt.Println(h.Get("X-Tenant-Secret"), h.Get("X-Request-Id"))
	// Output:
	// [REDACTED:SECRET:3_chars] 01ARZ3NDEKTSV4RRFFQ69G5FAV
}

// Query keeps parameter names and replaces sensitive values; the fragment of a URL is
// a query too.
func ExampleRedactor_URL() {
	r, err := redact.New(redact.Config{})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.URL("/callback?code=4%2F0AX4XfWh&state=xyz&page=2#access_token=ya29.a0AfH6SMBx3"))
	fmt.Println(r.Query("user=bob&password=p%40ss&email=jane%40example.com"))
	// Output:
	// /callback?code=[REDACTED:SECRET:10_chars]&state=xyz&page=2#access_token=[REDACTED:SECRET:16_chars]
	// user=bob&password=[REDACTED:PASSWORD:4_chars]&email=j***@e***.com
}

// JSON keeps the document's structure; members named like secrets are replaced
// whatever their type.
func ExampleRedactor_JSON() {
	r, err := redact.New(redact.Config{})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(r.JSON([]byte(`{"user":"bob","password":"hunter2","pin":1234,"card":"4111111111111111"}`))))
	// Output:
	// {"user":"bob","password":"[REDACTED:PASSWORD:7_chars]","pin":"[REDACTED:PASSWORD:4_chars]","card":"[REDACTED:CARD:16_chars]"}
}

// In Hash mode, equal addresses give equal keyed hashes, so events can be correlated
// without revealing the address.
func ExampleMode() {
	r, err := redact.New(redact.Config{Emails: redact.Hash, Key: []byte("0123456789abcdef")})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Email("John.Doe@gmail.com"))
	fmt.Println(r.String("signup from john.doe@gmail.com"))
	fmt.Println(r.Phone("+1 (415) 555-2671"))
	// Output:
	// email:hmac:17835fcaa186
	// signup from email:hmac:17835fcaa186
	// +* (***) ***-**71
}
