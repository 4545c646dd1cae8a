package h2tap

import "net"

// Conn is a net.Conn whose reads feed a [Tap]: every byte Read returns has been given
// to Tap.Feed first, so the Tap sees each frame before the server does. Writes and
// everything else go to the embedded Conn unchanged.
//
// Conn deliberately has no ConnectionState method, even around a *tls.Conn, so that
// net/http serves it on its unencrypted HTTP/2 path; see the package documentation.
// The zero value is not usable: Conn must be set. A nil Tap feeds nothing. A Conn is
// as safe for concurrent use as the embedded Conn, with one reader at a time.
type Conn struct {
	net.Conn
	Tap *Tap
}

// Read reads from the embedded Conn and feeds what it read to the Tap.
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.Tap != nil {
		c.Tap.Feed(b[:n])
	}
	return n, err
}
