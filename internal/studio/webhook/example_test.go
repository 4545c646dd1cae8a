package webhook_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/vigilhq/vigil/internal/studio/webhook"
)

// A receiver checks the signature over the raw body before it parses it.
func ExampleVerify() {
	secret := []byte("a3f1c2d4e5b60718293a4b5c6d7e8f90a3f1c2d4e5b60718293a4b5c6d7e8f90") // as Studio showed it
	body := []byte(`{"type":"ban"}`)
	sent := time.Unix(1700000000, 0)
	header := webhook.Sign(secret, sent, body)
	fmt.Println(header)

	fmt.Println(webhook.Verify(secret, header, body, sent.Add(time.Minute), 0))
	fmt.Println(webhook.Verify(secret, header, []byte(`{"type":"ping"}`), sent, 0))
	fmt.Println(webhook.Verify(secret, header, body, sent.Add(time.Hour), 0))
	// Output:
	// t=1700000000,v1=1bca1537f7ab3c6791bdf394df3c231b7b62197c89002b6e378fb04ed5907ac2
	// <nil>
	// webhook: signature does not match
	// webhook: signature timestamp outside the tolerance
}

// An HTTP handler that receives Studio's webhooks.
func Example_receiver() {
	secret := []byte("a3f1c2d4e5b60718293a4b5c6d7e8f90a3f1c2d4e5b60718293a4b5c6d7e8f90")
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), body, time.Now(), 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Deliveries may repeat: skip a Vigil-Delivery ID already handled.
		fmt.Printf("%s delivery %s: %s\n", r.Header.Get(webhook.HeaderEvent), r.Header.Get(webhook.HeaderDelivery), body)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(receiver)
	defer srv.Close()

	// What a Sender does, by hand.
	body := []byte(`{"type":"ping"}`)
	for _, key := range [][]byte{secret, []byte("not the secret")} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set(webhook.HeaderSignature, webhook.Sign(key, time.Now(), body))
		req.Header.Set(webhook.HeaderEvent, "ping")
		req.Header.Set(webhook.HeaderDelivery, "42")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// ping delivery 42: {"type":"ping"}
	// 204
	// 401
}
