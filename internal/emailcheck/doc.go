// Package emailcheck is the e-mail analysis of package fraud: syntax, canonical forms per
// provider, disposable, free and role addresses, deliverability through DNS, risk scores
// and abuse clusters. Package fraud documents it and re-exports its names; the guard
// imports it directly, so that services that only use the middleware do not link fraud's
// phone-number metadata.
package emailcheck
