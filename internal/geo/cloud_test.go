package geo

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rangeCases feed TestParseRanges, the seeds of FuzzParseRanges and Open's tests. A
// case reads testdata/file when file is set, else parses data. The expected prefixes
// were written by hand from the inputs.
var rangeCases = []rangeCase{
	{
		name: "aws", file: "aws-ip-ranges.json", wantLabel: "cloud:aws",
		want: []string{"3.5.140.0/22", "18.208.0.0/13", "18.208.0.0/13", "2600:1f14::/35"},
	},
	{
		name: "gcp_cloud_json", file: "gcp-cloud.json", wantLabel: "cloud:gcp",
		want: []string{"34.35.0.0/16", "2600:1900:8000::/44", "34.80.0.0/15"},
	},
	{
		name: "google_goog_json", file: "goog.json", wantLabel: "cloud:google",
		want: []string{"8.8.4.0/24", "8.8.8.0/24", "2001:4860::/32"},
	},
	{
		name: "azure_service_tags", file: "azure-servicetags.json", wantLabel: "cloud:azure",
		want: []string{"4.145.74.52/30", "2603:1030:c06:1::480/121", "13.69.0.0/17", "20.50.0.0/18", "2603:1020:200::/46"},
	},
	{
		name: "oracle", file: "oracle-public_ip_ranges.json", wantLabel: "cloud:oracle",
		want: []string{"129.146.0.0/21", "134.70.8.0/21", "130.61.0.0/16"},
	},
	{
		name: "cloudflare_v4_text", file: "cloudflare-ips-v4", wantLabel: "list:cloudflare-ips-v4",
		want: []string{"173.245.48.0/20", "103.21.244.0/22", "104.16.0.0/13"},
	},
	{
		name: "cloudflare_v6_text", file: "cloudflare-ips-v6", wantLabel: "list:cloudflare-ips-v6",
		want: []string{"2400:cb00::/32", "2606:4700::/32"},
	},
	{
		name: "text_comments_addresses_mapped", file: "scrapers.txt", wantLabel: "list:scrapers.txt",
		want: []string{"192.0.2.0/24", "198.51.100.7/32", "198.51.100.128/25", "2001:db8:1::/48"},
	},
	{
		name: "text_crlf_bom_unmasked", data: "\xef\xbb\xbf10.1.2.3/8\r\n\r\n  2001:db8::1/32  \r\n",
		wantLabel: "list:inline", want: []string{"10.0.0.0/8", "2001:db8::/32"},
	},
	{
		name: "aws_ipv4_only_file", data: `{"syncToken":"1","createDate":"2026-11-20-22-13-06","prefixes":[{"ip_prefix":"52.95.245.0/24","region":"us-east-1","service":"AMAZON"}]}`,
		wantLabel: "cloud:aws", want: []string{"52.95.245.0/24"},
	},
	{name: "text_bad_line", data: "192.0.2.0/24\nnot-a-cidr\n", wantErr: "line 2: "},
	{name: "text_prefix_too_long", data: "192.0.2.0/33\n", wantErr: "line 1: "},
	{name: "text_zone", data: "fe80::1%eth0\n", wantErr: "has a zone"},
	{name: "text_only_comments", data: "# nothing here\n\n", wantErr: "no prefixes"},
	{name: "empty", data: "", wantErr: "no prefixes"},
	{name: "binary", data: "\x00\x01\x02MaxMind.com", wantErr: "line 1: not text (byte 0x00)"},
	{name: "text_non_ascii", data: "192.0.2.0/24\n１９２.0.2.0/24\n", wantErr: "line 2: not text (byte 0xef)"},
	{name: "json_truncated", data: `{"prefixes": [{"ip_prefix": "3.5.140.0/22"`, wantErr: "JSON: "},
	{name: "json_unknown", data: `{"ranges": ["192.0.2.0/24"]}`, wantErr: "no known format"},
	{name: "json_two_formats", data: `{"values": [], "regions": []}`, wantErr: "more than one format"},
	{name: "json_aws_and_google", data: `{"prefixes": [{"ip_prefix": "192.0.2.0/24"}, {"ipv4Prefix": "198.51.100.0/24"}]}`, wantErr: "mixes"},
	{name: "aws_entry_without_prefix", data: `{"createDate": "x", "prefixes": [{"region": "us-east-1"}]}`, wantErr: "prefixes[0]: no ip_prefix"},
	{name: "aws_bad_ipv6", data: `{"createDate": "x", "prefixes": [], "ipv6_prefixes": [{"ipv6_prefix": "2600:1f14::/129"}]}`, wantErr: "ipv6_prefixes[0].ipv6_prefix"},
	{name: "aws_empty", data: `{"createDate": "x", "prefixes": [], "ipv6_prefixes": []}`, wantErr: "aws ranges: no prefixes"},
	{name: "google_entry_both", data: `{"creationTime": "x", "prefixes": [{"ipv4Prefix": "8.8.8.0/24", "ipv6Prefix": "2001:4860::/32"}]}`, wantErr: "both"},
	{name: "google_entry_neither", data: `{"creationTime": "x", "prefixes": [{"service": "Google Cloud"}]}`, wantErr: "no ipv4Prefix or ipv6Prefix"},
	{name: "azure_without_properties", data: `{"values": [{"name": "ActionGroup"}]}`, wantErr: `values[0] ("ActionGroup"): no properties`},
	{name: "azure_bad_prefix", data: `{"values": [{"name": "X", "properties": {"addressPrefixes": ["13.69.0.0/17", "13.69.0.0"]}}]}`, wantErr: "addressPrefixes[1]"},
	{name: "oracle_without_cidr", data: `{"regions": [{"region": "us-phoenix-1", "cidrs": [{"tags": ["OCI"]}]}]}`, wantErr: "no cidr"},
	{name: "oracle_without_cidrs", data: `{"regions": [{"region": "us-phoenix-1"}]}`, wantErr: "no cidrs"},
	{name: "json_trailing_garbage", data: `{"regions": []} x`, wantErr: "JSON: "},
}

type rangeCase struct {
	name      string
	file      string
	data      string
	wantLabel string
	want      []string
	wantErr   string // substring of the error; "" for success
}

// input returns the case's text-list label and data.
func (tc rangeCase) input(t testing.TB) (label string, data []byte) {
	t.Helper()
	if tc.file == "" {
		return "list:inline", []byte(tc.data)
	}
	data, err := os.ReadFile(filepath.Join("testdata", tc.file))
	if err != nil {
		t.Fatal(err)
	}
	return listLabel(tc.file), data
}

func TestParseRanges(t *testing.T) {
	for _, tc := range rangeCases {
		t.Run(tc.name, func(t *testing.T) {
			textLabel, data := tc.input(t)
			label, pfxs, err := parseRanges(textLabel, data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseRanges error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if label != tc.wantLabel {
				t.Errorf("label = %q, want %q", label, tc.wantLabel)
			}
			got := make([]string, len(pfxs))
			for i, p := range pfxs {
				got[i] = p.String()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("prefixes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRangePrefixUnmapsIPv4(t *testing.T) {
	for in, want := range map[string]string{
		"::ffff:192.0.2.0/120":  "192.0.2.0/24",
		"::ffff:192.0.2.77/128": "192.0.2.77/32",
		"::ffff:0:0/96":         "0.0.0.0/0",
		"::ffff:0:0/80":         "::/80", // wider than the mapped range: stays IPv6
	} {
		p, err := parseRangePrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("parseRangePrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
}

// TestReadRangesErrorsNameTheFile checks the errors Open passes on.
func TestReadRangesErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "ip-ranges.json")
	if err := os.WriteFile(bad, []byte(`{"prefixes": [{"ip_prefix": "3.5.140.0/33"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(big, make([]byte, maxRangesFile+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{bad, bad + `: prefixes[0].ip_prefix: netip.ParsePrefix("3.5.140.0/33")`},
		{big, big + ": larger than 64 MiB"},
		{filepath.Join(dir, "missing.json"), "missing.json: no such file or directory"},
	} {
		_, _, err := readRanges(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("readRanges(%s) error = %v, want one containing %q", tc.path, err, tc.want)
		}
	}
}

func TestEmbeddedHostingASNs(t *testing.T) {
	set, err := parseHostingASNs(embeddedHostingASNs)
	if err != nil {
		t.Fatal(err)
	}
	for _, asn := range []uint32{16509, 14618, 8987, 396982, 8075, 14061, 16276, 24940, 63949, 20473, 31898, 45102, 132203, 12876, 51167, 60781, 16265, 9009} {
		if set[asn] == "" {
			t.Errorf("AS%d missing or without a name", asn)
		}
	}
	// Left out on purpose (see the file's header): Googlebot and Google's services,
	// Cloudflare WARP users, CDNs.
	for _, asn := range []uint32{15169, 13335, 20940, 54113} {
		if _, ok := set[asn]; ok {
			t.Errorf("AS%d is listed, but the file says it is left out", asn)
		}
	}
}

func TestParseHostingASNs(t *testing.T) {
	for _, tc := range []struct {
		name, data, wantErr string
		want                map[uint32]string
	}{
		{name: "names_and_as_prefix", data: "# header\n\n16509 # Amazon\nAS14061\n", want: map[uint32]string{16509: "Amazon", 14061: ""}},
		{name: "zero", data: "0 # reserved\n", wantErr: "line 1"},
		{name: "too_big", data: "4294967296\n", wantErr: "line 1"},
		{name: "duplicate", data: "16509\n16509\n", wantErr: "line 2: AS16509 listed twice"},
		{name: "empty", data: "# only a comment\n", wantErr: "no ASNs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHostingASNs([]byte(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPublic(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "203.0.113.9": true, "2001:db8::1": true, "2600:1f14::1": true,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "127.0.0.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "100.127.255.255": false, "100.128.0.1": true,
		"0.1.2.3": false, "255.255.255.255": false, "224.0.0.1": false,
		"::1": false, "::": false, "fe80::1": false, "fd00::1": false, "ff02::1": false,
	} {
		if got := public(netip.MustParseAddr(s)); got != want {
			t.Errorf("public(%s) = %v, want %v", s, got, want)
		}
	}
	if public(netip.Addr{}) {
		t.Error("public(invalid) = true")
	}
}
