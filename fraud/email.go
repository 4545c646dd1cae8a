package fraud

import "github.com/vigilhq/vigil/internal/emailcheck"

// The e-mail analysis lives in an internal package that the guard uses directly, so that
// a service that only uses the middleware does not link the phone-number metadata of
// this package. The names below are that package's, unchanged; the documentation of
// package fraud describes them.

type (
	// EmailAnalyzer analyses e-mail addresses; see NewEmailAnalyzer.
	EmailAnalyzer = emailcheck.EmailAnalyzer
	// EmailConfig configures an EmailAnalyzer.
	EmailConfig = emailcheck.EmailConfig
	// EmailReport is what EmailAnalyzer.AnalyzeEmail found about one address.
	EmailReport = emailcheck.EmailReport
	// EmailCluster is a group of addresses DetectEmailAbuse links to one actor.
	EmailCluster = emailcheck.EmailCluster
	// Signal is one explained finding with its points.
	Signal = emailcheck.Signal
	// MXResult is a domain's deliverability.
	MXResult = emailcheck.MXResult
	// LookupStatus is the outcome of a DNS look-up.
	LookupStatus = emailcheck.LookupStatus
	// Provider names the mailbox provider whose rules made a canonical form.
	Provider = emailcheck.Provider
	// Resolver is the DNS interface an EmailAnalyzer uses; *net.Resolver implements it.
	Resolver = emailcheck.Resolver
)

// Defaults of the EmailConfig DNS settings.
const (
	DefaultLookupTimeout = emailcheck.DefaultLookupTimeout
	DefaultCacheSize     = emailcheck.DefaultCacheSize
	DefaultPositiveTTL   = emailcheck.DefaultPositiveTTL
	DefaultNegativeTTL   = emailcheck.DefaultNegativeTTL
	DefaultUnknownTTL    = emailcheck.DefaultUnknownTTL
)

// Look-up outcomes.
const (
	LookupSkipped = emailcheck.LookupSkipped
	LookupFound   = emailcheck.LookupFound
	LookupNone    = emailcheck.LookupNone
	LookupNull    = emailcheck.LookupNull
	LookupUnknown = emailcheck.LookupUnknown
)

// Providers.
const (
	ProviderOther           = emailcheck.ProviderOther
	ProviderGoogle          = emailcheck.ProviderGoogle
	ProviderGoogleWorkspace = emailcheck.ProviderGoogleWorkspace
	ProviderMicrosoft       = emailcheck.ProviderMicrosoft
	ProviderApple           = emailcheck.ProviderApple
	ProviderProton          = emailcheck.ProviderProton
	ProviderYandex          = emailcheck.ProviderYandex
	ProviderFastmail        = emailcheck.ProviderFastmail
	ProviderYahoo           = emailcheck.ProviderYahoo
	ProviderZoho            = emailcheck.ProviderZoho
	ProviderRackspace       = emailcheck.ProviderRackspace
)

// NewEmailAnalyzer validates cfg and returns an analyzer. It starts nothing.
func NewEmailAnalyzer(cfg EmailConfig) (*EmailAnalyzer, error) {
	return emailcheck.NewEmailAnalyzer(cfg)
}

// CanonicalEmail returns the canonical form of addr (the identity key: every spelling of
// one mailbox has the same one) and whether addr is a valid address.
func CanonicalEmail(addr string) (string, bool) { return emailcheck.CanonicalEmail(addr) }

// DetectEmailAbuse groups the addresses of many accounts into clusters that are one
// person or actor, each with the rule that linked them.
func DetectEmailAbuse(emails []string) []EmailCluster { return emailcheck.DetectEmailAbuse(emails) }
