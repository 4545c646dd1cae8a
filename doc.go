// Package vigil is application-layer security for net/http services: a middleware that
// identifies who is calling, decides per request whether to allow, rate-limit or block it,
// and reports every decision without slowing the request.
//
// Three lines protect a service:
//
//	g, err := vigil.New(vigil.Config{})
//	if err != nil { … }
//	http.ListenAndServe(":8080", g.Handler(app))
//
// # The request pipeline
//
// For every request the guard establishes the client IP (from the connection, or from
// forwarding headers only when they come from Config.TrustedProxies), computes the
// request DNA, and runs:
//
//   - fast gates, which are final: the allow list skips every check; the deny list,
//     active bans (IP, CIDR, DNA) and honeypot paths block. A honeypot hit also bans the
//     client, longer for repeat offenders;
//   - policy rules, which add score or decide the action;
//   - detectors: bots and automation, attack payloads (SQL injection, XSS, path
//     traversal, command injection, SSRF, scanner probes, …) in the path, query,
//     cookies, selected headers and the body;
//   - rate limits per IP (IPv6 per /64), per DNA, per route and per rule, tighter for
//     clients with a raised score.
//
// Signal scores combine as a probabilistic OR, 1 − Π(1 − wᵢ·sᵢ/100), with per-code weights
// from the policy; a score at or above the block threshold (80 by default) blocks.
//
// # Monitor mode
//
// With policy mode "monitor" the guard decides but enforces nothing and reveals nothing:
// every request reaches the handler, X-Vigil-Action says "allow", and the verdict and event
// carry WouldBe, the action that block mode would have taken. No bans are placed.
//
// # Faults
//
// Nothing on the request path waits on the network. An internal fault (a store error, a
// detector panic) lets the request through, unless Config.FailClosed is set, and is
// reported by a log line, Config.OnError and an EventError event.
package vigil
