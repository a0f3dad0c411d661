package main

import (
	"github.com/spf13/pflag"
)

// serveEnv maps each serve flag to the environment variable that sets it
// when the flag is not given.
var serveEnv = []struct{ flag, env string }{
	{"addr", "PROMOBOT_ADDR"},
	{"app-id", "PROMOBOT_APP_ID"},
	{"private-key", "PROMOBOT_PRIVATE_KEY"},
	{"webhook-secret", "PROMOBOT_WEBHOOK_SECRET"},
	{"webhook-secret-file", "PROMOBOT_WEBHOOK_SECRET_FILE"},
	{"github-url", "GITHUB_API_URL"},
	// The dashboard's sign-in (serve_dashboard_auth.go).
	{"dashboard-url", "PROMOBOT_DASHBOARD_URL"},
	{"github-web-url", "GITHUB_SERVER_URL"},
	{"oauth-client-id", "PROMOBOT_OAUTH_CLIENT_ID"},
	{"oauth-client-secret", "PROMOBOT_OAUTH_CLIENT_SECRET"},
	{"oauth-client-secret-file", "PROMOBOT_OAUTH_CLIENT_SECRET_FILE"},
	{"session-keys", "PROMOBOT_SESSION_KEYS"},
	{"session-keys-file", "PROMOBOT_SESSION_KEYS_FILE"},
	{"dashboard-access-ttl", "PROMOBOT_DASHBOARD_ACCESS_TTL"},
	{"check-name", "PROMOBOT_CHECK_NAME"},
	{"workers", "PROMOBOT_WORKERS"},
	{"queue-size", "PROMOBOT_QUEUE_SIZE"},
	{"queue", "PROMOBOT_QUEUE"},
	{"visibility-timeout", "PROMOBOT_VISIBILITY_TIMEOUT"},
	{"max-dequeue", "PROMOBOT_MAX_DEQUEUE"},
	{"cache-dir", "PROMOBOT_CACHE_DIR"},
	{"job-timeout", "PROMOBOT_JOB_TIMEOUT"},
	{"shutdown-timeout", "PROMOBOT_SHUTDOWN_TIMEOUT"},
	{"resync-interval", "PROMOBOT_RESYNC_INTERVAL"},
	{"recheck-interval", "PROMOBOT_RECHECK_INTERVAL"},
	{"log-level", "PROMOBOT_LOG_LEVEL"},
	{"log-format", "PROMOBOT_LOG_FORMAT"},
	{"verify-artifacts", "PROMOBOT_VERIFY_ARTIFACTS"},
	{"chatops", "PROMOBOT_CHATOPS"},
	{"bypass-issues", "PROMOBOT_BYPASS_ISSUES"},
	{"audit-sink", "PROMOBOT_AUDIT_SINK"},
	{"audit-delay", "PROMOBOT_AUDIT_DELAY"},
	{"attest-key", "PROMOBOT_ATTEST_KEY"},
	{"attest-keyvault-key", "PROMOBOT_ATTEST_KEYVAULT_KEY"},
	{"attest-store", "PROMOBOT_ATTEST_STORE"},
	{"access-review-issue", "PROMOBOT_ACCESS_REVIEW_ISSUE"},
	{"access-review-interval", "PROMOBOT_ACCESS_REVIEW_INTERVAL"},
	{"drift-reports", "PROMOBOT_DRIFT_REPORTS"},
	{"drift-issue", "PROMOBOT_DRIFT_ISSUE"},
	{"drift-interval", "PROMOBOT_DRIFT_INTERVAL"},
	{"dashboard-addr", "PROMOBOT_DASHBOARD_ADDR"},
	{"lease-container", "PROMOBOT_LEASE_CONTAINER"},
	{"lease-period", "PROMOBOT_LEASE_PERIOD"},
}

// fromEnv sets every flag not given on the command line from its
// environment variable, if set. Values are never echoed: some are secrets.
func fromEnv(fl *pflag.FlagSet, e *env) error {
	for _, m := range serveEnv {
		v := e.getenv(m.env)
		if v == "" || fl.Changed(m.flag) {
			continue
		}
		if err := fl.Set(m.flag, v); err != nil {
			return usageError("%s: not a valid value for --%s", m.env, m.flag)
		}
	}
	return nil
}
