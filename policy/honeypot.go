package policy

// DefaultHoneypotPaths returns the built-in bait paths, a new slice on each call. They
// are paths that scanners probe and that real applications do not serve: secrets and
// credentials, version-control metadata, editor and deployment leftovers, database dumps,
// debug and status pages, and exploit targets of software a Go service does not run.
// Paths that applications do serve, even if scanners probe them too (/admin, /login,
// /api, /robots.txt, /.well-known/…, /config.json, /cgi-bin/, /owa/, /console,
// /server-status, /actuator/health), are deliberately absent. A service that does serve a
// built-in path (WordPress serves /wp-login.php; a Spring Boot service may expose
// /actuator/env to its admin server) lists it in Honeypot.Except.
//
// Entries ending in "/" match the directory and everything below it; entries starting
// with "/**/" match the name at any depth. Matching is case-insensitive and applies to the
// cleaned path (see Honeypot).
func DefaultHoneypotPaths() []string {
	return []string{
		// Environment files with secrets, at the root and at any depth.
		"/**/.env",
		"/.env.local",
		"/.env.production",
		"/.env.prod",
		"/.env.development",
		"/.env.dev",
		"/.env.staging",
		"/.env.bak",
		"/.env.backup",
		"/.env.old",
		"/.env.save",
		// Version-control metadata.
		"/**/.git/",
		"/.svn/",
		"/.hg/",
		"/.bzr/",
		// Credentials, shell and editor leftovers.
		"/.aws/",
		"/.ssh/",
		"/.docker/config.json",
		"/.dockercfg",
		"/.npmrc",
		"/.htpasswd",
		"/.htaccess",
		"/.bash_history",
		"/.DS_Store",
		"/.vscode/sftp.json",
		"/sftp-config.json",
		"/.idea/",
		"/web.config",
		"/WEB-INF/",
		"/etc/passwd",
		// Database dumps.
		"/backup.sql",
		"/dump.sql",
		"/db.sql",
		"/database.sql",
		// WordPress (a WordPress site lists its paths in Honeypot.Except).
		"/wp-login.php",
		"/wp-config.php",
		"/wp-config.php.bak",
		"/wp-config.php~",
		"/wp-config.bak",
		"/wp-config.old",
		"/xmlrpc.php",
		"/wp-admin/install.php",
		"/wp-admin/setup-config.php",
		"/wp-includes/wlwmanifest.xml",
		// PHP tools, debug pages and exploit targets.
		"/phpmyadmin/",
		"/pma/",
		"/adminer.php",
		"/phpinfo.php",
		"/info.php",
		"/vendor/phpunit/",
		"/_ignition/execute-solution",
		"/storage/logs/laravel.log",
		// Framework internals.
		"/actuator/env",
		"/actuator/heapdump",
		// Router and IoT exploit targets.
		"/boaform/",
		"/HNAP1",
		"/GponForm/",
	}
}
