package geo

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// embeddedHostingASNs is data/hosting_asns.txt: one ASN per line, "#" comments.
//
//go:embed data/hosting_asns.txt
var embeddedHostingASNs []byte

// parseHostingASNs parses a list of ASNs, one per line, each optionally followed by
// a "#" comment naming its holder. It returns a fresh set the caller may extend.
func parseHostingASNs(data []byte) (map[uint32]string, error) {
	set := map[uint32]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, name, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		asn, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(line), "AS"), 10, 32)
		if err != nil || asn == 0 {
			return nil, fmt.Errorf("line %d: %q is not an AS number", n, line)
		}
		if _, dup := set[uint32(asn)]; dup {
			return nil, fmt.Errorf("line %d: AS%d listed twice", n, asn)
		}
		set[uint32(asn)] = strings.TrimSpace(name)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return nil, errors.New("no ASNs")
	}
	return set, nil
}
