// Package fraud analyses the identity data that applications collect at sign-up and
// login, and links accounts that belong to one person. It works on its own, without
// the rest of Vigil.
//
// # E-mail addresses
//
// [EmailAnalyzer.AnalyzeEmail] checks one address and returns an [EmailReport]: syntax,
// the canonical form, the provider, disposable, free and role flags, deliverability
// through DNS, and a risk score from 0 to 100 that is the sum of explained [Signal]
// values. [CanonicalEmail] computes the canonical form alone. [DetectEmailAbuse] groups
// the addresses of many accounts into [EmailCluster] values. The rules follow Vigil's
// fraud reference (shared/reference/fraud-rules.md §1–4).
//
// # Syntax
//
// Accepted addresses are the subset of RFC 5321 and RFC 5322 that providers issue: a
// dot-atom local part (no leading, trailing or doubled dot) or a quoted string, "@", and
// a host name of at least two labels whose top-level label is not numeric. Limits: 64
// octets for the local part, 253 for the domain, 63 for a label, 254 for the address.
// UTF-8 local parts (RFC 6531) and internationalised domain names are accepted; domains
// are converted to ASCII with IDNA (UTS #46 lookup mapping). Surrounding white space is
// trimmed. Refused: comments, display names, folding white space, several "@" outside
// quotes and address literals such as user@[192.0.2.1]. A refused address gets Valid
// false and the code of the rule in EmailReport.Invalid.
//
// # Canonical form
//
// The canonical form is an identity key: every spelling of one mailbox has the same
// one. Count, deduplicate and rate-limit by it, but always deliver to the address the
// user typed. The local part is lower-cased (every large provider ignores case, though
// RFC 5321 does not promise it), a quoted local part whose content needs no quotes is
// unquoted, and then the provider's rules apply:
//
//	provider          detected by                                   dots     +tag  domain
//	google            gmail.com, googlemail.com                     removed  cut   gmail.com
//	google_workspace  MX aspmx.l.google.com, *.aspmx.l.google.com,  kept     cut   kept
//	                  *.googlemail.com or smtp.google.com
//	microsoft         outlook.*, hotmail.*, live.*, msn.com, ...    kept     cut   kept
//	apple             icloud.com, me.com, mac.com                   kept     cut   kept
//	proton            proton.me, protonmail.com, protonmail.ch,     kept     cut   proton.me
//	                  pm.me
//	yandex            yandex.ru, .com, .ua, .by, .kz, ya.ru,        kept     cut   yandex.ru
//	                  narod.ru
//	fastmail          fastmail.com, fastmail.fm,                    kept     cut   kept
//	                  messagingengine.com, MX *.messagingengine.com
//	yahoo             yahoo.*, ymail.com, rocketmail.com            kept     kept  kept
//	zoho              MX *.zoho.com, *.zoho.eu, *.zoho.in           kept     kept  kept
//	rackspace         MX *.emailsrvr.com                            kept     kept  kept
//	other             anything else                                 kept     kept  kept
//
// Fastmail's subdomain addressing folds anything@user.fastmail.com into
// user@fastmail.com. Yahoo's "base-keyword" addresses are separate mailboxes of one
// account, and for Zoho, Rackspace and unknown domains a "+tag" is not relied on to
// reach the untagged mailbox, so those stay in the canonical form and link accounts
// only as clusters ([DetectEmailAbuse]).
//
// The provider is decided by the domain when one of the lists above names it. For any
// other domain, the most preferred host of the MX records that the deliverability check
// looked up names the provider. So the rules of a custom domain whose mail Google hosts
// (Google Workspace) cut "+tags" but keep dots: Google ignores dots for consumer Gmail
// only. Without DNS ([EmailConfig].Offline, or [CanonicalEmail]) such a domain is
// "other" and its canonical form keeps the tag. A "+tag" that follows a dot is kept
// (a.@outlook.com is not an address), and Gmail addresses with doubled dots are
// refused by the syntax check rather than collapsed.
//
// # Disposable, free and role addresses
//
// The disposable list and its allowlist are embedded from disposable-email-domains
// (CC0-1.0; data/NOTICE). A domain matches when it or a parent up to its registrable
// domain (eTLD+1 in the public suffix list) is listed, so a listed mailbox service
// covers its subdomains while a listed subdomain of a shared dynamic-DNS provider covers
// only itself. Lists are consulted in this order and the first hit decides: domains
// allowed at run time ([EmailConfig].Allow, [EmailAnalyzer.AllowDomains]), domains added
// at run time ([EmailConfig].Disposable, [EmailAnalyzer.AddDisposable]), the embedded
// allowlist, the embedded list. The free-provider list (written for Vigil, with every
// disposable domain removed) and the role names (RFC 2142 plus noreply, admin and root)
// are informational.
//
// # Deliverability
//
// Unless the analyzer is offline, the domain's MX records are looked up, and when there
// are none its A/AAAA records (RFC 5321 §5.1). A null MX (RFC 7505) or a domain with
// neither record scores high. The look-ups of one address share one timeout
// ([EmailConfig].LookupTimeout, 300 ms by default), concurrent look-ups of one domain
// are merged, and results are cached in a bounded cache: positive answers for 24 h,
// negative ones for 1 h, failures for 1 min. A failure or timeout fails open: the
// status is "unknown" and a zero-score signal says so; the address is never called
// invalid for it. No SMTP probing is done.
//
// The cache is state, and the package keeps none, so there is no package-level
// AnalyzeEmail: create one EmailAnalyzer and share it.
//
// # Signals
//
// Codes and scores of EmailReport.Reasons; the risk score is their sum, at most 100:
//
//	email_empty, email_invalid_utf8, email_no_at, email_multiple_at,
//	email_local_empty, email_local_too_long, email_local_dot, email_local_char,
//	email_local_quote, email_domain_empty, email_domain_too_long, email_domain_label,
//	email_domain_idna, email_domain_single_label, email_domain_numeric_tld,
//	email_ip_literal, email_too_long                                         100  invalid
//	email_null_mx, email_no_mx      the domain cannot receive mail             90
//	email_disposable                a disposable-mailbox domain                80
//	email_role                      a function, not a person                   20
//	email_quoted_local              a quoted local part                        20
//	email_utf8_local                a non-ASCII local part                     10
//	email_implicit_mx               no MX, mail goes to the A/AAAA host        10
//	email_dns_unknown               a look-up failed: fail open                 0
//	email_disposable_allowed        listed as disposable but allowed            0
//	email_provider_mx               the provider was found by MX                0
//	email_subaddress                the address has a +tag                      0
//	email_free                      a free consumer provider                    0
//
// Cluster codes are listed at [DetectEmailAbuse].
//
// # Trust model
//
// Every address is untrusted input: it is parsed without regular expressions or
// recursion, looked up only as a validated host name with a trailing dot (no search
// domains), and never used to build anything but DNS queries. Each new domain costs an
// MX query (and A/AAAA queries when it has no MX), so a flood of unique domains causes
// as many queries, merged per domain and each bounded by the lookup timeout. DNS answers are trusted
// as far as the resolver is; a domain owner controls its own records and can make its
// addresses look deliverable. A canonical form only links spellings of one mailbox; it
// is not proof that two accounts are one person, and clusters are signals to weigh,
// not verdicts.
//
// # Phone numbers
//
// [AnalyzePhone] checks one number offline with the numbering-plan metadata of
// github.com/nyaruka/phonenumbers (Google's libphonenumber): validity, E.164 form,
// region, type, and a mismatch with the client IP's country, into a [PhoneReport].
// Metadata knows VoIP ranges only in some countries; US and Canadian numbers cannot be
// told VoIP offline. [DetectPhoneCycling] finds actors cycling through numbers and
// bursts of sends to one block of numbers (SMS pumping), rules 1 and 2 of the fraud
// reference §6.2.
package fraud
