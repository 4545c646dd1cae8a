package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/fingerprint"
	"github.com/vigilhq/vigil/internal/graceful"
	"github.com/vigilhq/vigil/internal/selfsigned"
	"github.com/vigilhq/vigil/policy"
)

func newFingerprint() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fingerprint",
		Short: "See the DNA Vigil computes for a client",
	}
	cmd.AddCommand(newFingerprintServe())
	return cmd
}

func newFingerprintServe() *cobra.Command {
	var listen, certFile, keyFile string
	var selfSigned bool
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] [--tls-self-signed | --tls-cert F --tls-key F]",
		Short: "Answer every request with the caller's DNA as JSON",
		Long: `Serve answers every request with what Vigil sees of the caller, as JSON:
protocol, header order (null when unknown), DNA, JA4 and JA3, the HTTP/2
fingerprint, the client family and kind, and the guard's signals.

Without TLS it serves plain HTTP/1.1 and sees the header order but no TLS or
HTTP/2 fingerprint. With --tls-self-signed (or a certificate) it terminates TLS
itself and sees everything, over HTTP/1.1 and HTTP/2. The guard runs in monitor
mode: it decides, but blocks nothing.`,
		Example: `  vigil fingerprint serve --tls-self-signed --listen 127.0.0.1:8443
  curl -sk https://localhost:8443/ | jq .`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cert *tls.Certificate
			switch {
			case selfSigned && (certFile != "" || keyFile != ""):
				return usageError{err: errors.New("--tls-self-signed cannot be combined with --tls-cert"), usage: cmd.UseLine()}
			case (certFile == "") != (keyFile == ""):
				return usageError{err: errors.New("--tls-cert and --tls-key go together"), usage: cmd.UseLine()}
			case selfSigned:
				c, err := selfsigned.Certificate()
				if err != nil {
					return err
				}
				cert = &c
			case certFile != "":
				c, err := tls.LoadX509KeyPair(certFile, keyFile)
				if err != nil {
					return fmt.Errorf("tls: %w", err)
				}
				cert = &c
			}
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			p := policy.Default()
			p.Mode = policy.ModeMonitor
			g, err := vigil.New(vigil.Config{Policy: p, Logger: log})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			log.Info("vigil fingerprint listening", "addr", ln.Addr().String(), "tls", cert != nil)
			return serveFingerprints(cmd.Context(), ln, cert, g, log)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&listen, "listen", "127.0.0.1:8443", "`address` to listen on, host:port")
	fs.BoolVar(&selfSigned, "tls-self-signed", false, "terminate TLS with a new self-signed certificate for localhost")
	fs.StringVar(&certFile, "tls-cert", "", "PEM certificate `file` (with --tls-key)")
	fs.StringVar(&keyFile, "tls-key", "", "PEM private key `file`")
	return cmd
}

// fingerprintReport is the JSON answer of vigil fingerprint serve.
type fingerprintReport struct {
	Protocol    string            `json:"protocol"`
	HeaderOrder []string          `json:"header_order"`
	Pseudo      string            `json:"pseudo_header_order,omitempty"`
	DNA         string            `json:"dna"`
	HDNA        string            `json:"hdna,omitempty"`
	JA4         string            `json:"ja4"`
	JA4R        string            `json:"ja4_r,omitempty"`
	JA3         string            `json:"ja3"`
	JA3N        string            `json:"ja3n,omitempty"`
	H2          *fingerprint.H2   `json:"h2"`
	Client      clientReport      `json:"client"`
	Signals     []vigil.Signal    `json:"signals"`
	Detail      fingerprint.DNA   `json:"detail"`
	Request     map[string]string `json:"request"`
}

type clientReport struct {
	Family     string `json:"family"`
	Kind       string `json:"kind"`
	Confidence string `json:"confidence"`
}

// fingerprintHandler reports the caller's DNA as the guard sees it.
func fingerprintHandler(g *vigil.Guard) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := g.Check(r)
		d := v.DNA
		rep := fingerprintReport{
			Protocol: d.Protocol, HeaderOrder: d.HeaderOrder, DNA: d.ID, HDNA: d.HDNA, H2: d.H2,
			Client:  clientReport{Family: d.Family, Kind: d.Kind, Confidence: confidence(d, v.Signals)},
			Signals: v.Signals, Detail: d,
			Request: map[string]string{"method": r.Method, "target": r.RequestURI, "proto": r.Proto,
				"user_agent": r.UserAgent(), "client_ip": v.ClientIP.String()},
		}
		if rep.Protocol == "" {
			rep.Protocol = map[int]string{1: "h1", 2: "h2"}[r.ProtoMajor]
		}
		if rep.Signals == nil {
			rep.Signals = []vigil.Signal{}
		}
		if d.TLS != nil {
			rep.JA4, rep.JA4R, rep.JA3, rep.JA3N = d.TLS.JA4, d.TLS.JA4R, d.TLS.JA3, d.TLS.JA3N
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	})
}

// confidence says how much the family rests on: "high" when the connection's
// fingerprints were observed and none contradicts the User-Agent, "medium" when only
// some were, "low" when the family comes from the User-Agent alone or a fingerprint
// contradicts it, "none" when there is no family.
func confidence(d fingerprint.DNA, signals []vigil.Signal) string {
	for _, s := range signals {
		if s.Detector == "fingerprint" {
			return "low"
		}
	}
	switch {
	case d.Family == "":
		return "none"
	case d.TLS != nil && d.HeaderOrder != nil:
		return "high"
	case d.TLS != nil || d.HeaderOrder != nil:
		return "medium"
	}
	return "low"
}

// serveFingerprints serves the report on ln until ctx ends: over TLS through a
// fingerprint.Server when cert is set, else plain HTTP/1.1 on a wrapped listener.
func serveFingerprints(ctx context.Context, ln net.Listener, cert *tls.Certificate, g *vigil.Guard, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           fingerprintHandler(g),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	var server graceful.Server
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		server = &fingerprint.Server{HTTP: srv, Logger: log}
	} else {
		if err := fingerprint.Instrument(srv); err != nil {
			return err
		}
		ln = fingerprint.WrapListener(ln)
		server = srv
	}
	return graceful.Serve(ctx, server, ln, 5*time.Second)
}
