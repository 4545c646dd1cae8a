package clientip

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigilhq/vigil/internal/vigiltest"
)

// proxies are the trusted proxies of most cases below. 198.51.100.0/24,
// 203.0.113.0/24, 192.0.2.0/24 and 2001:db8::/32 outside 2001:db8:ffff::/48 are
// clients; 10.x, loopback and 2001:db8:ffff:: are proxies.
var proxies = []string{"10.0.0.0/8", "127.0.0.1", "::1", "2001:db8:ffff::/48"}

// line is one request header line.
type line struct{ name, value string }

func xff(v string) line       { return line{"X-Forwarded-For", v} }
func forwarded(v string) line { return line{"Forwarded", v} }

// resolveCases feeds TestClientIP, the fuzz seeds and BenchmarkClientIP. want is
// the expected client address, "" for the zero Addr. Expectations are worked out
// by hand from the trust model in the package doc.
var resolveCases = []struct {
	name   string
	cfg    Config
	remote string
	lines  []line
	want   string
}{
	// No trusted proxies: headers are never read.
	{"no_proxies_no_headers", Config{}, "203.0.113.9:1234", nil, "203.0.113.9"},
	{"no_proxies_spoofed_xff", Config{}, "203.0.113.9:1234", []line{xff("1.2.3.4")}, "203.0.113.9"},
	{"no_proxies_spoofed_xff_chain", Config{}, "203.0.113.9:1234", []line{xff("1.2.3.4, 10.0.0.1")}, "203.0.113.9"},
	{"no_proxies_spoofed_forwarded", Config{}, "203.0.113.9:1234", []line{forwarded("for=1.2.3.4")}, "203.0.113.9"},
	{"no_proxies_spoofed_real_ip", Config{}, "203.0.113.9:1234", []line{{"X-Real-Ip", "1.2.3.4"}}, "203.0.113.9"},
	{"no_proxies_ipv6_peer", Config{}, "[2001:db8::9]:443", []line{xff("1.2.3.4")}, "2001:db8::9"},

	// Untrusted peer: headers ignored even with proxies configured.
	{"untrusted_peer_xff_ignored", Config{TrustedProxies: proxies}, "203.0.113.9:1234", []line{xff("1.2.3.4")}, "203.0.113.9"},
	{"untrusted_peer_trusted_looking_xff_ignored", Config{TrustedProxies: proxies}, "203.0.113.9:1234", []line{xff("10.0.0.7")}, "203.0.113.9"},
	{"untrusted_peer_forwarded_ignored", Config{TrustedProxies: proxies}, "203.0.113.9:1234", []line{forwarded("for=1.2.3.4")}, "203.0.113.9"},

	// Trusted peer, X-Forwarded-For walked right to left.
	{"trusted_peer_no_header", Config{TrustedProxies: proxies}, "10.0.0.1:5555", nil, "10.0.0.1"},
	{"trusted_peer_one_hop", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7")}, "198.51.100.7"},
	{"loopback_proxy_one_hop", Config{TrustedProxies: proxies}, "127.0.0.1:50000", []line{xff("198.51.100.7")}, "198.51.100.7"},
	{"right_to_left_skips_trusted", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("1.2.3.4, 198.51.100.7, 10.0.0.2, 10.0.0.3")}, "198.51.100.7"},
	{"spoofed_leftmost_not_taken", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("10.0.0.99, 198.51.100.7")}, "198.51.100.7"},
	{"spoofed_loopback_leftmost_not_taken", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("127.0.0.1, 203.0.113.5, 10.0.0.2")}, "203.0.113.5"},
	{"multiple_header_lines", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("1.2.3.4, 198.51.100.7"), xff("10.0.0.2")}, "198.51.100.7"},
	{"multiple_header_lines_last_first", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7"), xff("203.0.113.5")}, "203.0.113.5"},
	{"multiple_header_lines_empty_last", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7"), xff("")}, "198.51.100.7"},
	{"all_trusted_returns_leftmost", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("10.0.0.5, 10.0.0.3, 10.0.0.2")}, "10.0.0.5"},
	{"all_trusted_across_lines", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("10.0.0.5"), xff("127.0.0.1")}, "10.0.0.5"},
	{"malformed_rightmost_returns_peer", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7, garbage")}, "10.0.0.1"},
	{"malformed_returns_hop_that_wrote_it", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7, nonsense, 10.0.0.2")}, "10.0.0.2"},
	{"malformed_two_addresses_without_comma", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("1.2.3.4 5.6.7.8")}, "10.0.0.1"},
	{"malformed_hostname", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("client.example.com")}, "10.0.0.1"},
	{"malformed_truncated_ipv4", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100")}, "10.0.0.1"},
	{"malformed_leading_zero", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.051.100.7")}, "10.0.0.1"},
	{"malformed_quoted_xff_entry", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff(`"198.51.100.7"`)}, "10.0.0.1"},
	{"malformed_port_too_big", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7:65536")}, "10.0.0.1"},
	{"malformed_empty_port", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7:")}, "10.0.0.1"},
	{"malformed_ipv4_in_brackets", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("[198.51.100.7]")}, "10.0.0.1"},
	{"malformed_unclosed_bracket", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("[2001:db8::7")}, "10.0.0.1"},
	{"malformed_obfuscated_port_in_xff", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7:_abc")}, "10.0.0.1"},
	{"empty_elements_skipped", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff(" , 198.51.100.7 ,, \t")}, "198.51.100.7"},
	{"empty_header_returns_peer", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("")}, "10.0.0.1"},
	{"xff_ipv4_port", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7:4711")}, "198.51.100.7"},
	{"xff_ipv6", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("2001:db8::7")}, "2001:db8::7"},
	{"xff_ipv6_brackets", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("[2001:db8::7]")}, "2001:db8::7"},
	{"xff_ipv6_brackets_port", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("[2001:db8::7]:4711")}, "2001:db8::7"},
	{"xff_ipv6_chain", Config{TrustedProxies: proxies}, "[2001:db8:ffff::1]:443", []line{xff("2001:db8:1::7, 2001:db8:ffff::2")}, "2001:db8:1::7"},
	{"xff_mapped_entry_unmapped", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("::ffff:198.51.100.7")}, "198.51.100.7"},
	{"xff_mapped_trusted_proxy_skipped", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7, ::ffff:10.0.0.2")}, "198.51.100.7"},
	{"xff_zone_stripped", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("fe80::9%eth1")}, "fe80::9"},
	{"xff_zone_in_brackets_stripped", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("[fe80::9%eth1]:80")}, "fe80::9"},

	// RemoteAddr forms.
	{"mapped_trusted_peer", Config{TrustedProxies: proxies}, "[::ffff:10.0.0.1]:80", []line{xff("198.51.100.7")}, "198.51.100.7"},
	{"mapped_untrusted_peer", Config{}, "[::ffff:203.0.113.9]:80", nil, "203.0.113.9"},
	{"zone_in_remote_addr", Config{}, "[fe80::1%eth0]:80", nil, "fe80::1"},
	{"ipv6_loopback_proxy", Config{TrustedProxies: proxies}, "[::1]:8080", []line{xff("198.51.100.7")}, "198.51.100.7"},
	{"bare_ipv4_remote_addr", Config{}, "203.0.113.9", nil, "203.0.113.9"},
	{"bare_ipv6_remote_addr", Config{}, "2001:db8::9", nil, "2001:db8::9"},
	{"unix_socket_at", Config{TrustedProxies: proxies}, "@", []line{xff("198.51.100.7")}, ""},
	{"unix_socket_empty", Config{TrustedProxies: proxies}, "", []line{xff("198.51.100.7")}, ""},
	{"unix_socket_path", Config{}, "/run/app.sock", nil, ""},
	{"hostname_remote_addr", Config{TrustedProxies: proxies}, "localhost:80", []line{xff("198.51.100.7")}, ""},

	// Forwarded (RFC 7239).
	{"forwarded_basic", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("for=198.51.100.7")}, "198.51.100.7"},
	{"forwarded_quoted_ipv6_port", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for="[2001:db8:cafe::17]:4711"`)}, "2001:db8:cafe::17"},
	{"forwarded_quoted_ipv4_port", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for="198.51.100.7:80"`)}, "198.51.100.7"},
	{"forwarded_quoted_ipv4", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for="198.51.100.7"`)}, "198.51.100.7"},
	{"forwarded_other_params", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("proto=https;for=198.51.100.7;by=10.0.0.1;host=example.com")}, "198.51.100.7"},
	{"forwarded_case_insensitive_name", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("For=198.51.100.7;PROTO=https")}, "198.51.100.7"},
	{"forwarded_right_to_left", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("for=192.0.2.43, for=198.51.100.7, for=10.0.0.2")}, "198.51.100.7"},
	{"forwarded_multiple_lines", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("for=192.0.2.43"), forwarded("for=198.51.100.7"), forwarded("for=10.0.0.2")}, "198.51.100.7"},
	{"forwarded_all_trusted", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for=10.0.0.3, for="[::1]"`)}, "10.0.0.3"},
	{"forwarded_unknown_stops", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("for=198.51.100.7, for=unknown, for=10.0.0.2")}, "10.0.0.2"},
	{"forwarded_unknown_quoted_stops", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for="unknown"`)}, "10.0.0.1"},
	{"forwarded_obfuscated_stops", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("for=198.51.100.7, for=_hidden")}, "10.0.0.1"},
	{"forwarded_obfuscated_port", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for="[2001:db8::7]:_p1"`)}, "2001:db8::7"},
	{"forwarded_comma_in_quoted_param", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for=203.0.113.5, for=198.51.100.7;ext="a, for=10.0.0.9"`)}, "198.51.100.7"},
	{"forwarded_semicolon_in_quoted_param", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`ext="x;for=10.0.0.9";for=198.51.100.7`)}, "198.51.100.7"},
	{"forwarded_empty_pairs_and_elements", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(" , ;for=198.51.100.7;; ,")}, "198.51.100.7"},
	{"forwarded_unquoted_brackets", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("for=[2001:db8::7]")}, "2001:db8::7"},
	{"forwarded_mapped", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for="[::ffff:198.51.100.7]"`)}, "198.51.100.7"},
	{"forwarded_unbalanced_quote", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for="198.51.100.7`)}, "10.0.0.1"},
	{"forwarded_unbalanced_quote_left_of_good", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for=198.51.100.7", for=10.0.0.2`)}, "10.0.0.2"},
	{"forwarded_backslash", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for="198.51.100.7\\"`)}, "10.0.0.1"},
	{"forwarded_no_for", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("proto=https;by=10.0.0.1")}, "10.0.0.1"},
	{"forwarded_duplicate_for", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("for=198.51.100.7;for=203.0.113.5")}, "10.0.0.1"},
	{"forwarded_space_around_equals", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("for = 198.51.100.7")}, "10.0.0.1"},
	{"forwarded_empty_value", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for=""`)}, "10.0.0.1"},
	{"forwarded_bad_param_name", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("fo r=198.51.100.7")}, "10.0.0.1"},
	{"forwarded_ipv4_in_brackets", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for="[198.51.100.7]"`)}, "10.0.0.1"},
	{"forwarded_read_as_xff_is_malformed", Config{TrustedProxies: proxies, Header: "X-Forwarded-For"}, "10.0.0.1:5555", []line{xff("for=198.51.100.7")}, "10.0.0.1"},

	// Which header.
	{"xff_preferred_over_forwarded", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{forwarded("for=203.0.113.5"), xff("198.51.100.7")}, "198.51.100.7"},
	{"header_forwarded_only", Config{TrustedProxies: proxies, Header: "forwarded"}, "10.0.0.1:5555", []line{xff("1.2.3.4"), forwarded("for=203.0.113.5")}, "203.0.113.5"},
	{"header_xff_only_ignores_forwarded", Config{TrustedProxies: proxies, Header: "x-forwarded-for"}, "10.0.0.1:5555", []line{forwarded("for=203.0.113.5")}, "10.0.0.1"},
	{"real_ip_from_trusted_peer", Config{TrustedProxies: proxies, Header: "X-Real-IP"}, "10.0.0.1:5555", []line{{"X-Real-Ip", "198.51.100.7"}}, "198.51.100.7"},
	{"real_ip_from_untrusted_peer_ignored", Config{TrustedProxies: proxies, Header: "X-Real-IP"}, "203.0.113.9:1234", []line{{"X-Real-Ip", "198.51.100.7"}}, "203.0.113.9"},
	{"real_ip_configured_xff_ignored", Config{TrustedProxies: proxies, Header: "X-Real-IP"}, "10.0.0.1:5555", []line{xff("198.51.100.7")}, "10.0.0.1"},
	{"real_ip_two_lines_ignored", Config{TrustedProxies: proxies, Header: "X-Real-IP"}, "10.0.0.1:5555", []line{{"X-Real-Ip", "1.2.3.4"}, {"X-Real-Ip", "198.51.100.7"}}, "10.0.0.1"},
	{"real_ip_list_ignored", Config{TrustedProxies: proxies, Header: "X-Real-IP"}, "10.0.0.1:5555", []line{{"X-Real-Ip", "198.51.100.7, 1.2.3.4"}}, "10.0.0.1"},
	{"real_ip_garbage_ignored", Config{TrustedProxies: proxies, Header: "X-Real-IP"}, "10.0.0.1:5555", []line{{"X-Real-Ip", "unknown"}}, "10.0.0.1"},
	{"real_ip_trusted_value_returned", Config{TrustedProxies: proxies, Header: "X-Real-IP"}, "10.0.0.1:5555", []line{{"X-Real-Ip", " 10.0.0.8 "}}, "10.0.0.8"},
	{"cf_connecting_ip_ipv6", Config{TrustedProxies: proxies, Header: "CF-Connecting-IP"}, "10.0.0.1:5555", []line{{"Cf-Connecting-Ip", "2001:db8::7"}}, "2001:db8::7"},
	{"cf_connecting_ip_mapped", Config{TrustedProxies: proxies, Header: "cf-connecting-ip"}, "10.0.0.1:5555", []line{{"Cf-Connecting-Ip", "::ffff:198.51.100.7"}}, "198.51.100.7"},

	// Bounds.
	{"entry_cap_stops_walk", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7, " + trustedRun(1, 40))}, "10.0.1.9"},
	{"entry_cap_exactly_32", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7, " + trustedRun(1, 31))}, "198.51.100.7"},
	{"entry_cap_across_lines", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7"), xff(trustedRun(1, 20)), xff(trustedRun(21, 40))}, "10.0.1.9"},
	{"entry_cap_counts_empty_elements", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7" + strings.Repeat(",", 32) + "10.0.0.2")}, "10.0.0.2"},
	{"entry_cap_empty_elements_just_fit", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7" + strings.Repeat(",", 31) + "10.0.0.2")}, "198.51.100.7"},
	{"entry_cap_counts_empty_lines", Config{TrustedProxies: proxies}, "10.0.0.1:5555", append([]line{xff("198.51.100.7")}, repeatLine(xff(""), 32)...), "10.0.0.1"},
	{"many_empty_elements", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7" + strings.Repeat(",", 5000) + "10.0.0.2")}, "10.0.0.2"},
	{"entry_longest_accepted", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff(strings.Repeat(" ", 116) + "198.51.100.7")}, "198.51.100.7"},
	{"entry_too_long", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff(strings.Repeat(" ", 117) + "198.51.100.7")}, "10.0.0.1"},
	{"entry_too_long_after_trusted", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7" + strings.Repeat(" ", 5000) + ", 10.0.0.2")}, "10.0.0.2"},
	{"byte_cap_cuts_inside_entry", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff(paddedChain("192.168.1.10" + strings.Repeat(" ", 86)))}, "10.0.0.2"},
	{"byte_cap_just_fits", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff(paddedChain("192.168.1.10" + strings.Repeat(" ", 85)))}, "192.168.1.10"},
	{"forwarded_byte_cap_cuts_inside_element", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("xfor=192.168.1.10," + paddedForwarded(59))}, "10.0.0.2"},
	{"forwarded_byte_cap_just_fits", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("for=192.168.1.10," + paddedForwarded(59))}, "192.168.1.10"},
	{"forwarded_byte_cap_inside_quotes", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for="198.51.100.7",` + paddedForwarded(68))}, "10.0.0.2"},
	{"forwarded_byte_cap_across_lines", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded("for=198.51.100.7"), forwarded(paddedForwarded(76))}, "10.0.0.2"},
	{"forwarded_element_too_long", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for=198.51.100.7;host="` + strings.Repeat("a", 500) + `"`)}, "10.0.0.1"},
	{"forwarded_element_longest_accepted", Config{TrustedProxies: proxies, Header: "Forwarded"}, "10.0.0.1:5555", []line{forwarded(`for=198.51.100.7;host="` + strings.Repeat("a", 512-40) + `"` + strings.Repeat(" ", 16))}, "198.51.100.7"},
	{"huge_real_ip_ignored", Config{TrustedProxies: proxies, Header: "X-Real-IP"}, "10.0.0.1:5555", []line{{"X-Real-Ip", strings.Repeat(" ", 5000) + "198.51.100.7"}}, "10.0.0.1"},
}

// trustedRun returns "10.0.1.from, …, 10.0.1.to".
func trustedRun(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		if i > from {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "10.0.1.%d", i)
	}
	return b.String()
}

// repeatLine returns n copies of l.
func repeatLine(l line, n int) []line {
	ls := make([]line, n)
	for i := range ls {
		ls[i] = l
	}
	return ls
}

// paddedChain returns an X-Forwarded-For value of 32 elements whose last 31 take
// 3999 bytes with their commas: first, then 30 empty elements of 128 spaces, then
// 10.0.0.2 padded to 128 bytes. So first is cut by the 4096-byte bound exactly
// when it is longer than 97 bytes.
func paddedChain(first string) string {
	parts := []string{first}
	for range 30 {
		parts = append(parts, strings.Repeat(" ", maxEntryBytes))
	}
	parts = append(parts, strings.Repeat(" ", maxEntryBytes-8)+"10.0.0.2")
	return strings.Join(parts, ",")
}

// paddedForwarded returns a Forwarded value of 4020+m bytes: eight empty elements
// of 500 spaces, then for=10.0.0.2 after m spaces.
func paddedForwarded(m int) string {
	return strings.Repeat(strings.Repeat(" ", 500)+",", 8) + strings.Repeat(" ", m) + "for=10.0.0.2"
}

// newRequest builds a server-side request as net/http would hand it to a handler.
func newRequest(remote string, lines []line) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = remote
	for _, l := range lines {
		req.Header.Add(l.name, l.value)
	}
	return req
}

func TestClientIP(t *testing.T) {
	for _, tc := range resolveCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.cfg)
			if err != nil {
				t.Fatalf("New(%+v): %v", tc.cfg, err)
			}
			var want netip.Addr
			if tc.want != "" {
				want = netip.MustParseAddr(tc.want)
			}
			if got := r.ClientIP(newRequest(tc.remote, tc.lines)); got != want {
				t.Errorf("ClientIP = %v, want %v", got, want)
			}
		})
	}
}

// TestBoundsArithmetic checks that the bound cases are built as their names say:
// one byte more or less and the cut falls elsewhere.
func TestBoundsArithmetic(t *testing.T) {
	want := map[string][]int{
		"byte_cap_cuts_inside_entry":             {maxHeaderBytes + 1},
		"byte_cap_just_fits":                     {maxHeaderBytes},
		"forwarded_byte_cap_cuts_inside_element": {maxHeaderBytes + 1},
		"forwarded_byte_cap_just_fits":           {maxHeaderBytes},
		"forwarded_byte_cap_inside_quotes":       {maxHeaderBytes + 11}, // cut after `for="198.5`
		"forwarded_byte_cap_across_lines":        {16, maxHeaderBytes},
		"entry_longest_accepted":                 {maxEntryBytes},
		"entry_too_long":                         {maxEntryBytes + 1},
		"forwarded_element_too_long":             {524},
		"forwarded_element_longest_accepted":     {maxElementBytes},
	}
	for _, tc := range resolveCases {
		w, ok := want[tc.name]
		if !ok {
			continue
		}
		delete(want, tc.name)
		var got []int
		for _, l := range tc.lines {
			got = append(got, len(l.value))
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("%s: line lengths (-want +got):\n%s", tc.name, diff)
		}
	}
	for name := range want {
		t.Errorf("no case named %s", name)
	}
}

func TestZeroAndNilResolver(t *testing.T) {
	req := newRequest("[::ffff:203.0.113.9]:1234", []line{xff("198.51.100.7"), forwarded("for=1.2.3.4"), {"X-Real-Ip", "1.2.3.4"}})
	want := netip.MustParseAddr("203.0.113.9")
	for name, r := range map[string]*Resolver{"nil": nil, "zero": {}} {
		if got := r.ClientIP(req); got != want {
			t.Errorf("%s resolver: ClientIP = %v, want %v", name, got, want)
		}
		if r.Trusted(want) {
			t.Errorf("%s resolver trusts %v", name, want)
		}
	}
}

func TestTrusted(t *testing.T) {
	r, err := New(Config{TrustedProxies: proxies})
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]bool{
		"10.1.2.3":           true,
		"::ffff:10.1.2.3":    true,
		"127.0.0.1":          true,
		"127.0.0.2":          false,
		"::1":                true,
		"::1%lo":             true,
		"2001:db8:ffff::9":   true,
		"2001:db8:fffe::9":   false,
		"203.0.113.9":        false,
		"::ffff:203.0.113.9": false,
	} {
		if got := r.Trusted(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Trusted(%s) = %v, want %v", ip, got, want)
		}
	}
	if r.Trusted(netip.Addr{}) {
		t.Error("Trusted(zero Addr) = true")
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		wantIn []string
	}{
		{"bad_proxy_entry", Config{TrustedProxies: []string{"10.0.0.0/8", "proxy.internal"}}, []string{"TrustedProxies", "entry 1", `"proxy.internal"`}},
		{"proxy_prefix_too_long", Config{TrustedProxies: []string{"10.0.0.0/40"}}, []string{"TrustedProxies", "entry 0", `"10.0.0.0/40"`}},
		{"empty_proxy_entry", Config{TrustedProxies: []string{""}}, []string{"TrustedProxies", "entry 0"}},
		{"header_with_space", Config{TrustedProxies: proxies, Header: "X Real IP"}, []string{"Header", `"X Real IP"`}},
		{"header_with_colon", Config{TrustedProxies: proxies, Header: "X-Real-IP:"}, []string{"Header", `"X-Real-IP:"`}},
		{"header_without_proxies", Config{Header: "X-Real-IP"}, []string{"Header", `"X-Real-IP"`, "TrustedProxies"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.cfg)
			if err == nil {
				t.Fatalf("New(%+v) = %v, nil; want an error", tc.cfg, r)
			}
			if r != nil {
				t.Errorf("New returned a Resolver with an error")
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestPrefix(t *testing.T) {
	cases := []struct {
		name, ip, want string
	}{
		{"ipv4", "192.0.2.7", "192.0.2.7/32"},
		{"ipv4_mapped", "::ffff:192.0.2.7", "192.0.2.7/32"},
		{"ipv6", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"ipv6_same_64_same_key", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"ipv6_next_64", "2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"ipv6_zone_dropped", "fe80::1%eth0", "fe80::/64"},
		{"ipv6_loopback", "::1", "::/64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := Prefix(netip.MustParseAddr(tc.ip)), netip.MustParsePrefix(tc.want); got != want {
				t.Errorf("Prefix(%s) = %v, want %v", tc.ip, got, want)
			}
		})
	}
	if got := Prefix(netip.Addr{}); got != (netip.Prefix{}) {
		t.Errorf("Prefix(zero Addr) = %v, want the zero Prefix", got)
	}
}

// TestAppendPrefix holds AppendPrefix to Prefix(ip).AppendTo: the fixed cases above, every
// octet value in every position of an IPv4 address (digit-count boundaries included),
// and the zero Addr.
func TestAppendPrefix(t *testing.T) {
	check := func(ip netip.Addr) {
		t.Helper()
		if got, want := string(AppendPrefix([]byte("k:"), ip)), string(Prefix(ip).AppendTo([]byte("k:"))); got != want {
			t.Fatalf("AppendPrefix(%v) = %q, want %q", ip, got, want)
		}
	}
	for _, s := range []string{"192.0.2.7", "::ffff:192.0.2.7", "2001:db8:1:2:3:4:5:6", "fe80::1%eth0", "::1", "0.0.0.0", "255.255.255.255"} {
		check(netip.MustParseAddr(s))
	}
	check(netip.Addr{}) // appends nothing
	for o := range 256 {
		for pos := range 4 {
			a := [4]byte{10, 20, 30, 40}
			a[pos] = byte(o)
			check(netip.AddrFrom4(a))
		}
	}
}

// TestOverHTTP runs requests through a real net/http server on loopback, so the
// RemoteAddr format and header canonicalisation are the server's own.
func TestOverHTTP(t *testing.T) {
	cases := []struct {
		name    string
		trusted []string
		lines   []line
		want    string
	}{
		{"untrusted_loopback_ignores_xff", nil, []line{{"x-forwarded-for", "198.51.100.7"}}, "127.0.0.1"},
		{"trusted_loopback_reads_xff", []string{"127.0.0.1"}, []line{{"x-forwarded-for", "198.51.100.7"}}, "198.51.100.7"},
		{"trusted_loopback_two_lines", []string{"127.0.0.0/8"}, []line{{"X-Forwarded-For", "203.0.113.5, 198.51.100.7"}, {"x-forwarded-for", "127.0.0.9"}}, "198.51.100.7"},
		{"trusted_loopback_forwarded_not_read_by_default", []string{"127.0.0.1"}, []line{{"forwarded", `for="[2001:db8::7]:4711"`}}, "127.0.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(Config{TrustedProxies: tc.trusted})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				io.WriteString(w, r.ClientIP(req).String())
			}))
			defer srv.Close()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range tc.lines {
				req.Header.Add(l.name, l.value)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(body)); diff != "" {
				t.Errorf("client IP (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	r, err := New(Config{TrustedProxies: proxies})
	if err != nil {
		t.Fatal(err)
	}
	want := netip.MustParseAddr("198.51.100.7")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			req := newRequest("10.0.0.1:5555", []line{xff("1.2.3.4, 198.51.100.7, 10.0.0.2")})
			for range 1000 {
				if got := r.ClientIP(req); got != want {
					t.Errorf("ClientIP = %v, want %v", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestAllocs holds the hot paths to zero allocations.
func TestAllocs(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		remote string
		lines  []line
	}{
		{"no_trusted_proxies", Config{}, "203.0.113.9:1234", []line{xff("1.2.3.4")}},
		{"no_trusted_proxies_ipv6", Config{}, "[2001:db8::9]:1234", nil},
		{"untrusted_peer", Config{TrustedProxies: proxies}, "203.0.113.9:1234", []line{xff("1.2.3.4")}},
		{"one_xff_hop", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7")}},
		{"one_xff_hop_ipv6", Config{TrustedProxies: proxies}, "[2001:db8:ffff::1]:443", []line{xff("2001:db8::7")}},
		{"xff_chain", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("1.2.3.4, 198.51.100.7, 10.0.0.2, 10.0.0.3")}},
		{"xff_port", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{xff("198.51.100.7:4711")}},
		{"forwarded", Config{TrustedProxies: proxies}, "10.0.0.1:5555", []line{forwarded(`for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2`)}},
		{"real_ip", Config{TrustedProxies: proxies, Header: "X-Real-IP"}, "10.0.0.1:5555", []line{{"X-Real-Ip", "198.51.100.7"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			req := newRequest(tc.remote, tc.lines)
			if n := vigiltest.AllocsPerRun(100, func() { r.ClientIP(req) }); n != 0 {
				t.Errorf("ClientIP: %v allocs per run, want 0", n)
			}
		})
	}
}

func BenchmarkClientIP(b *testing.B) {
	for _, tc := range resolveCases {
		r, err := New(tc.cfg)
		if err != nil {
			b.Fatal(err)
		}
		req := newRequest(tc.remote, tc.lines)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.ClientIP(req)
			}
		})
	}
}

// TestNoHeaderFallback is the H5 attack: a trusted proxy writes Forwarded and passes the
// client's X-Forwarded-For through. Whatever Header says, only one header is read, so the
// client cannot choose its address by sending the other one.
func TestNoHeaderFallback(t *testing.T) {
	req := &http.Request{RemoteAddr: "10.0.0.1:5555", Header: http.Header{
		"Forwarded":       {"for=203.0.113.50"},
		"X-Forwarded-For": {"192.0.2.99"},
	}}
	fwd := mustNew(t, Config{TrustedProxies: []string{"10.0.0.0/8"}, Header: "Forwarded"})
	if got := fwd.ClientIP(req); got != netip.MustParseAddr("203.0.113.50") {
		t.Errorf("Header Forwarded: %v, want 203.0.113.50", got)
	}
	def := mustNew(t, Config{TrustedProxies: []string{"10.0.0.0/8"}})
	delete(req.Header, "X-Forwarded-For")
	if got := def.ClientIP(req); got != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("default reads Forwarded when X-Forwarded-For is absent: %v", got)
	}
}

func TestTrustedIn(t *testing.T) {
	r := mustNew(t, Config{TrustedProxies: []string{"2001:db8::1", "10.0.0.0/8"}})
	for _, tc := range []struct {
		pfx  string
		want bool
	}{
		{"2001:db8::/64", true},      // holds the proxy
		{"2001:db8:0:1::/64", false}, // next /64
		{"10.1.2.3/32", true},        // inside a trusted prefix
		{"11.0.0.0/8", false},
		{"0.0.0.0/0", true},
	} {
		if got := r.TrustedIn(netip.MustParsePrefix(tc.pfx)); got != tc.want {
			t.Errorf("TrustedIn(%s) = %v, want %v", tc.pfx, got, tc.want)
		}
	}
}
