// Package browsertest drives Studio's dashboard in a real browser: Debian's
// Chromium, headless, through the DevTools protocol (github.com/chromedp/chromedp).
// The package has no code of its own; its tests are the point.
//
// Each test starts, in-process on loopback, a Studio over a fresh SQLite
// database, a protected application (vigil.Guard) whose agent reports to that
// Studio with an ingest key, and a Chromium with a fresh profile. Traffic reaches
// the application from a trusted proxy that names the client in X-Forwarded-For,
// so one process can play many clients. The tests:
//
//   - sign in through the form and see live events arrive in the feed;
//   - open an attacker's timeline from a feed row, ban it from the dashboard,
//     and see the application block that client within a second;
//   - type an invalid policy and see the error inline, then a valid change,
//     review its diff and publish it, and find the new version through the API;
//   - walk every page and fail on any request outside Studio's origin;
//   - post 2,000 events a second into Studio while the live feed is open, and
//     measure the page's frame intervals, its JavaScript heap and DOM size.
//
// Environment:
//
//   - VIGIL_CHROMIUM: the browser to run (default: chromium on PATH, else
//     /usr/bin/chromium). Without one the tests skip, except under CI (CI set),
//     where a missing browser is a failure.
//   - VIGIL_SCREENSHOTS: a directory; each test writes a PNG there after each step.
//   - VIGIL_LOAD_DURATION: how long the load test posts events (a Go duration,
//     default 60s).
//
// The race detector slows Studio's SQLite ingest below 2,000 events a second on
// two cores, so under it the load test skips; .ci/run runs it on its own without
// the race detector after the README's test command.
package browsertest
