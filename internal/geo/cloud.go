package geo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
)

// maxRangesFile bounds a cloud ranges file. The largest published one, Azure's
// Service Tags, is a few megabytes.
const maxRangesFile = 64 << 20

// readRanges reads a cloud ranges file and returns its Info.Hosting label and
// prefixes.
func readRanges(path string) (string, []netip.Prefix, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("geo: cloud ranges: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRangesFile+1))
	if err != nil {
		return "", nil, fmt.Errorf("geo: cloud ranges %s: %w", path, err)
	}
	if len(data) > maxRangesFile {
		return "", nil, fmt.Errorf("geo: cloud ranges %s: larger than %d MiB", path, maxRangesFile>>20)
	}
	label, pfxs, err := parseRanges(listLabel(path), data)
	if err != nil {
		return "", nil, fmt.Errorf("geo: cloud ranges %s: %w", path, err)
	}
	return label, pfxs, nil
}

// parseRanges parses a cloud ranges file of any supported format, told from its
// content: JSON (AWS, Google, Azure, Oracle) when it starts with "{", else text with
// one CIDR per line. textLabel is the label of a text list. The prefixes returned
// are masked, IPv4 ones in IPv4 form; there is at least one.
func parseRanges(textLabel string, data []byte) (string, []netip.Prefix, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return parseRangesJSON(t)
	}
	pfxs, err := parseRangesText(data)
	if err != nil {
		return "", nil, err
	}
	return textLabel, pfxs, nil
}

// rangesJSON holds the fields of every supported JSON format. A pointer is nil when
// its key is absent, which is how the format is told.
type rangesJSON struct {
	// AWS ip-ranges.json: {"syncToken", "createDate", "prefixes": [{"ip_prefix",
	// "region", "service", ...}], "ipv6_prefixes": [{"ipv6_prefix", ...}]}.
	// Google cloud.json and goog.json: {"syncToken", "creationTime", "prefixes":
	// [{"ipv4Prefix" | "ipv6Prefix", "service", "scope"}]}; goog.json entries have
	// neither service nor scope.
	CreateDate   *string       `json:"createDate"`
	CreationTime *string       `json:"creationTime"`
	Prefixes     *[]prefixJSON `json:"prefixes"`
	IPv6Prefixes *[]struct {
		IPv6Prefix *string `json:"ipv6_prefix"`
	} `json:"ipv6_prefixes"`

	// Azure Service Tags: {"changeNumber", "cloud", "values": [{"name", "id",
	// "properties": {"addressPrefixes": [...], ...}}]}.
	Values *[]struct {
		Name       string `json:"name"`
		Properties *struct {
			AddressPrefixes []string `json:"addressPrefixes"`
		} `json:"properties"`
	} `json:"values"`

	// Oracle public_ip_ranges.json: {"last_updated_timestamp", "regions":
	// [{"region", "cidrs": [{"cidr", "tags"}]}]}.
	Regions *[]struct {
		Region string `json:"region"`
		CIDRs  *[]struct {
			CIDR *string `json:"cidr"`
		} `json:"cidrs"`
	} `json:"regions"`
}

// prefixJSON is an entry of "prefixes" in AWS's and Google's formats.
type prefixJSON struct {
	IPPrefix   *string `json:"ip_prefix"`  // AWS
	IPv4Prefix *string `json:"ipv4Prefix"` // Google
	IPv6Prefix *string `json:"ipv6Prefix"` // Google
	Service    *string `json:"service"`
	Scope      *string `json:"scope"` // Google cloud.json
}

func parseRangesJSON(data []byte) (string, []netip.Prefix, error) {
	var doc rangesJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", nil, fmt.Errorf("JSON: %w", err)
	}
	families := 0
	for _, present := range []bool{doc.Prefixes != nil || doc.IPv6Prefixes != nil, doc.Values != nil, doc.Regions != nil} {
		if present {
			families++
		}
	}
	switch {
	case families == 0:
		return "", nil, errors.New(`JSON in no known format: want AWS ("prefixes", "ipv6_prefixes"), Google ("prefixes"), Azure ("values") or Oracle ("regions")`)
	case families > 1:
		return "", nil, errors.New(`JSON with keys of more than one format ("prefixes", "values", "regions")`)
	}

	var (
		label string
		pfxs  []netip.Prefix
	)
	add := func(where, s string) error {
		p, err := parseRangePrefix(s)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		pfxs = append(pfxs, p)
		return nil
	}
	switch {
	case doc.Values != nil:
		label = "cloud:azure"
		for i, v := range *doc.Values {
			if v.Properties == nil {
				return "", nil, fmt.Errorf("values[%d] (%q): no properties", i, v.Name)
			}
			for j, s := range v.Properties.AddressPrefixes {
				if err := add(fmt.Sprintf("values[%d] (%q).properties.addressPrefixes[%d]", i, v.Name, j), s); err != nil {
					return "", nil, err
				}
			}
		}
	case doc.Regions != nil:
		label = "cloud:oracle"
		for i, r := range *doc.Regions {
			if r.CIDRs == nil {
				return "", nil, fmt.Errorf("regions[%d] (%q): no cidrs", i, r.Region)
			}
			for j, c := range *r.CIDRs {
				if c.CIDR == nil {
					return "", nil, fmt.Errorf("regions[%d] (%q).cidrs[%d]: no cidr", i, r.Region, j)
				}
				if err := add(fmt.Sprintf("regions[%d] (%q).cidrs[%d].cidr", i, r.Region, j), *c.CIDR); err != nil {
					return "", nil, err
				}
			}
		}
	default:
		aws, google := doc.CreateDate != nil || doc.IPv6Prefixes != nil, doc.CreationTime != nil
		gcp := false // an entry names a service or scope: cloud.json rather than goog.json
		var prefixes []prefixJSON
		if doc.Prefixes != nil {
			prefixes = *doc.Prefixes
		}
		for _, e := range prefixes {
			aws = aws || e.IPPrefix != nil
			google = google || e.IPv4Prefix != nil || e.IPv6Prefix != nil
			gcp = gcp || e.Service != nil || e.Scope != nil
		}
		switch {
		case aws && google:
			return "", nil, errors.New("JSON mixes the AWS and Google formats")
		case aws:
			label = "cloud:aws"
			for i, e := range prefixes {
				if e.IPPrefix == nil {
					return "", nil, fmt.Errorf("prefixes[%d]: no ip_prefix", i)
				}
				if err := add(fmt.Sprintf("prefixes[%d].ip_prefix", i), *e.IPPrefix); err != nil {
					return "", nil, err
				}
			}
			if doc.IPv6Prefixes != nil {
				for i, e := range *doc.IPv6Prefixes {
					if e.IPv6Prefix == nil {
						return "", nil, fmt.Errorf("ipv6_prefixes[%d]: no ipv6_prefix", i)
					}
					if err := add(fmt.Sprintf("ipv6_prefixes[%d].ipv6_prefix", i), *e.IPv6Prefix); err != nil {
						return "", nil, err
					}
				}
			}
		case google:
			label = "cloud:google"
			if gcp {
				label = "cloud:gcp"
			}
			for i, e := range prefixes {
				var s *string
				switch {
				case e.IPv4Prefix != nil && e.IPv6Prefix != nil:
					return "", nil, fmt.Errorf("prefixes[%d]: both ipv4Prefix and ipv6Prefix", i)
				case e.IPv4Prefix != nil:
					s = e.IPv4Prefix
				case e.IPv6Prefix != nil:
					s = e.IPv6Prefix
				default:
					return "", nil, fmt.Errorf("prefixes[%d]: no ipv4Prefix or ipv6Prefix", i)
				}
				if err := add(fmt.Sprintf("prefixes[%d]", i), *s); err != nil {
					return "", nil, err
				}
			}
		default:
			return "", nil, errors.New(`JSON "prefixes" in no known format: want "ip_prefix" (AWS) or "ipv4Prefix"/"ipv6Prefix" (Google)`)
		}
	}
	if len(pfxs) == 0 {
		return "", nil, fmt.Errorf("%s ranges: no prefixes", strings.TrimPrefix(label, "cloud:"))
	}
	return label, pfxs, nil
}

// parseRangesText parses one CIDR or address per line. "#" starts a comment, to the
// end of the line; blank lines are skipped.
func parseRangesText(data []byte) ([]netip.Prefix, error) {
	var pfxs []netip.Prefix
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4096)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if i := strings.IndexFunc(line, func(r rune) bool { return r < ' ' && r != '\t' || r >= 0x7f }); i >= 0 {
			return nil, fmt.Errorf("line %d: not text (byte 0x%02x): want JSON or one CIDR per line", n, line[i])
		}
		var (
			p   netip.Prefix
			err error
		)
		if strings.Contains(line, "/") {
			p, err = parseRangePrefix(line)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(line); err == nil && a.Zone() != "" {
				err = fmt.Errorf("address %q has a zone", line)
			}
			if err == nil {
				a = a.Unmap()
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		pfxs = append(pfxs, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, errors.New("not a list of CIDRs: a line longer than 4 KiB")
		}
		return nil, err
	}
	if len(pfxs) == 0 {
		return nil, errors.New("no prefixes: want JSON or one CIDR per line")
	}
	return pfxs, nil
}

// parseRangePrefix parses a CIDR prefix, masks it and turns an IPv4-mapped IPv6
// prefix (::ffff:192.0.2.0/120) into its IPv4 form, because lookups are made with
// unmapped addresses.
func parseRangePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
