package h2tap_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/vigilhq/vigil/internal/h2tap"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// A Chromium-like connection start, written with the x/net Framer and fed to a Tap.
func Example() {
	var conn bytes.Buffer
	conn.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&conn, nil)
	fr.WriteSettings(
		http2.Setting{ID: http2.SettingHeaderTableSize, Val: 65536},
		http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: 6291456},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: 262144},
	)
	fr.WriteWindowUpdate(0, 15663105)
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{
		{":method", "GET"}, {":authority", "shop.example"}, {":scheme", "https"}, {":path", "/"},
		{"sec-ch-ua-mobile", "?0"}, {"user-agent", "Mozilla/5.0"}, {"accept", "text/html"},
	} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true,
		Priority: http2.PriorityParam{Exclusive: true, Weight: 255},
	})

	tap := h2tap.New(h2tap.Config{})
	tap.Feed(conn.Bytes())
	fp, _ := tap.Fingerprint()
	fmt.Println(fp.Akamai())
	fmt.Println(fp.AkamaiHash())
	fmt.Printf("%+v\n", fp.HeadersPriority)
	s, _ := tap.Take("GET", "shop.example", "/")
	fmt.Println(s.ID, s.Pseudo, s.Names)
	// Output:
	// 1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p
	// 52d84b11737d980aef856699f885ca86
	// {StreamID:0 Exclusive:true DependsOn:0 Weight:256}
	// 1 [:method :authority :scheme :path] [sec-ch-ua-mobile user-agent accept]
}

// tapListener gives every accepted connection its own Tap.
type tapListener struct{ net.Listener }

func (l tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &h2tap.Conn{Conn: c, Tap: h2tap.New(h2tap.Config{})}, nil
}

// Serving tapped connections with the standard HTTP/2 server on its unencrypted
// path. In production the accepted connection is Vigil's *tls.Conn; here it is plain
// TCP on loopback, and the client is Go's own.
func ExampleConn() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &http.Server{
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return h2tap.NewContext(ctx, c.(*h2tap.Conn).Tap)
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tap := h2tap.FromContext(r.Context())
			s, ok := tap.Take(r.Method, r.Host, r.RequestURI)
			fp, _ := tap.Fingerprint()
			fmt.Fprintln(w, ok, s.Pseudo, fp.Akamai())
		}),
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(tapListener{ln})
	defer srv.Close()

	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output:
	// true [:authority :method :path :scheme] 2:0;4:4194304;5:16384;6:10485760|1073741824|0|a,m,p,s
}

// Comparing a client's settings with a template, ignoring GREASE settings.
func ExampleSettingsEqual() {
	template, _ := h2tap.ParseAkamai("1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p")
	client := []h2tap.Setting{{ID: 1, Value: 65536}, {ID: 2, Value: 0}, {ID: 0x7a9a, Value: 3127563}, {ID: 4, Value: 6291456}, {ID: 6, Value: 262144}}
	fmt.Println(h2tap.SettingsEqual(client, template.Settings))
	// Output: true
}
