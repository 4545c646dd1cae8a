package behaviour_test

import (
	"fmt"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/internal/detect/behaviour"
)

// A script walks /items/1..100 every 200 ms and loads no assets: after each answer the
// caller reports the request, and before the next one it asks for findings.
func Example() {
	tr := behaviour.New(behaviour.Config{})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= 100; i++ {
		path := "/items/" + strconv.Itoa(i)
		tr.Observe("203.0.113.7", behaviour.Observation{
			Time:   start.Add(time.Duration(i) * 200 * time.Millisecond),
			Method: "GET",
			Path:   path,
			Status: 200,
			Asset:  behaviour.IsAsset(path, "", "*/*"),
		})
	}
	for _, f := range tr.Check(nil, "203.0.113.7", start.Add(21*time.Second)) {
		fmt.Println(f.Code, f.Score)
		fmt.Println(f.Detail)
	}
	// Output:
	// automated_behaviour 95
	// regular_timing (cv 0.000), sequential_ids (99 equal steps), no_assets (100 pages), over 100 requests
}
