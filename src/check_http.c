/*
 * The registry, clair and LDAP components, and the libcurl plumbing they
 * share.  All libcurl calls live here.  Each component keeps its own easy
 * handle so that keep-alive connections are reused across runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "extern.h"

#define APIVER_HEADER	"docker-distribution-api-version:"
#define REG_DOWN	"registry is not reachable"
#define CLAIR_DOWN	"clair is not reachable"
#define LDAP_DOWN	"LDAP server is not reachable"
#define LDAP_STEP_MAX_MS 64	/* see perform_stepped() */

struct http {
	CURL	*curl;
	CURLM	*multi;		/* LDAP only: keeps libcurl's CA cache */
};

struct xfer {
	int	 apiver;	/* the registry's API-version header was seen */
};

/* Initialises libcurl; call once before any thread starts.  Returns 0. */
int
http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
http_global_free(void)
{
	curl_global_cleanup();
}

/* Returns a new handle holder, or NULL. */
struct http *
http_new(void)
{
	return calloc(1, sizeof(struct http));
}

/* Closes kept connections and frees the holder. */
void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	free(h);
}

/* Notes the API-version header; a new status line starts over. */
static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * n, hl = sizeof(APIVER_HEADER) - 1;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0)
		x->apiver = 0;
	else if (len >= hl && strncasecmp(buf, APIVER_HEADER, hl) == 0)
		x->apiver = 1;
	return len;
}

/* Discards the body. */
static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	(void)buf;
	(void)arg;
	return size * n;
}

/* Returns a short fixed phrase for a transfer error. */
static const char *
curl_reason(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return "connection refused";
	case CURLE_OPERATION_TIMEDOUT:
		return "connection timed out";
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "host not found";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return "SSL error";
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return "connection reset";
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return "invalid URL";
	default:
		return "HTTP error";
	}
}

/*
 * GETs url with the given timeouts (milliseconds), trusting the CA file
 * ca when not empty.  Returns the HTTP
 * status, or -1 with *reason pointing at a fixed phrase.
 */
static long
http_get(struct http *h, const char *url, const char *ca, long connect_ms,
    long total_ms, struct xfer *x, const char **reason)
{
	CURLcode	 rc;
	long		 code = 0;

	if (connect_ms <= 0 || total_ms <= 0) {
		*reason = "connection timed out";
		return -1;
	}
	if (h->curl == NULL) {
		if ((h->curl = curl_easy_init()) == NULL) {
			*reason = "out of memory";
			return -1;
		}
		curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(h->curl, CURLOPT_USERAGENT,
		    PH_NAME "/" PH_VERSION);
		curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	/* NULL puts back libcurl's default bundle. */
	curl_easy_setopt(h->curl, CURLOPT_CAINFO, *ca != '\0' ? ca : NULL);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, total_ms);
	if ((rc = curl_easy_perform(h->curl)) != CURLE_OK) {
		*reason = curl_reason(rc);
		return -1;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* Returns the smaller of a setting in seconds and what is left, in ms. */
static long
cap_ms(long seconds, double deadline)
{
	double left = (deadline - mono_now()) * 1000.0;

	if (left < (double)seconds * 1000.0)
		return left < 1.0 ? 0 : (long)left;
	return seconds * 1000;
}

/*
 * Probes the registry at host (with TLS when ssl) as Portus does: GET
 * /v2/ with no credentials; reachable on 200 or 401 carrying the
 * API-version header.  Fills cr.
 */
void
http_check_registry(struct http *h, const struct config *cfg,
    const char *host, int ssl, double deadline, struct compres *cr)
{
	struct xfer	 x = { 0 };
	const char	*reason = NULL;
	char		 url[512], phrase[32];
	long		 code, ct, rt;

	if (snprintf(url, sizeof(url), "%s://%s/v2/", ssl ? "https" : "http",
	    host) >= (int)sizeof(url)) {
		compres_set(cr, 0, REG_DOWN, "invalid URL");
		return;
	}
	ct = cfg_int(cfg, K_REG_TIMEOUT);
	rt = cfg_int(cfg, K_REG_READ_TIMEOUT);
	code = http_get(h, url, cfg_str(cfg, K_HEALTH_CA_FILE),
	    cap_ms(ct, deadline), cap_ms(ct + rt, deadline), &x, &reason);
	if (code < 0)
		compres_set(cr, 0, REG_DOWN, reason);
	else if ((code == 200 || code == 401) && x.apiver)
		compres_set(cr, 1, "registry is reachable", NULL);
	else if (code == 200 || code == 401)
		compres_set(cr, 0, REG_DOWN, "not a Docker registry");
	else {
		snprintf(phrase, sizeof(phrase), "HTTP %ld", code);
		compres_set(cr, 0, REG_DOWN, phrase);
	}
}

/*
 * Builds the URL of clair's health port from security.clair.server:
 * http:// is added when there is no scheme, the port is replaced, the
 * path becomes /health.  Returns URL_OK or URL_ADDED_SCHEME with out
 * filled, URL_BAD_SCHEME for a scheme other than http(s), URL_INVALID.
 */
enum urlstatus
clair_health_url(const char *server, long port, char *out, size_t sz)
{
	CURLU		*u;
	char		*full = NULL, *scheme = NULL, *res = NULL, ps[16];
	size_t		 len;
	enum urlstatus	 st = URL_INVALID;
	int		 added;

	added = strstr(server, "://") == NULL;
	len = strlen(server) + sizeof("http://");
	if ((u = curl_url()) == NULL || (full = malloc(len)) == NULL)
		goto out;
	snprintf(full, len, "%s%s", added ? "http://" : "", server);
	if (curl_url_set(u, CURLUPART_URL, full, CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		goto out;
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		st = URL_BAD_SCHEME;
		goto out;
	}
	snprintf(ps, sizeof(ps), "%ld", port);
	if (curl_url_set(u, CURLUPART_PORT, ps, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, "/health", 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &res, 0) != CURLUE_OK)
		goto out;
	if (snprintf(out, sz, "%s", res) >= (int)sz)
		goto out;
	st = added ? URL_ADDED_SCHEME : URL_OK;
out:
	curl_free(res);
	curl_free(scheme);
	free(full);
	curl_url_cleanup(u);
	return st;
}

/* Probes clair's health port as Portus does: reachable on 200.
 * Fills cr. */
void
http_check_clair(struct http *h, const struct config *cfg, double deadline,
    struct compres *cr)
{
	struct xfer	 x = { 0 };
	const char	*reason = NULL;
	char		 url[1024], phrase[32];
	long		 code, t;

	switch (clair_health_url(cfg_str(cfg, K_CLAIR_SERVER),
	    cfg_int(cfg, K_CLAIR_HEALTH_PORT), url, sizeof(url))) {
	case URL_OK:
	case URL_ADDED_SCHEME:
		break;
	case URL_BAD_SCHEME:
		compres_set(cr, 0, CLAIR_DOWN ": neither HTTP nor HTTPS", NULL);
		return;
	case URL_INVALID:
		compres_set(cr, 0, CLAIR_DOWN, "invalid URL");
		return;
	}
	t = cfg_int(cfg, K_CLAIR_TIMEOUT);
	code = http_get(h, url, cfg_str(cfg, K_HEALTH_CA_FILE),
	    cap_ms(t, deadline), cap_ms(t, deadline), &x, &reason);
	if (code == 200)
		compres_set(cr, 1, "clair is reachable", NULL);
	else if (code < 0)
		compres_set(cr, 0, CLAIR_DOWN, reason);
	else {
		snprintf(phrase, sizeof(phrase), "HTTP %ld", code);
		compres_set(cr, 0, CLAIR_DOWN, phrase);
	}
}

/*
 * LDAP result codes as libcurl's OpenLDAP backend words them (OpenLDAP's
 * ldap_err2string) and as Portus shows them (net-ldap's wording).
 */
static const struct {
	const char	*openldap;
	const char	*name;
	int		 code;
} ldap_results[] = {
	{ "Invalid credentials", "Invalid Credentials", 49 },
	{ "No such object", "No Such Object", 32 },
	{ "Inappropriate authentication", "Inappropriate Authentication", 48 },
	{ "Insufficient access", "Insufficient Access Rights", 50 },
	{ "Server is unwilling to perform", "Unwilling to perform", 53 },
	{ "Server is unavailable", "Unavailable", 52 },
	{ "Confidentiality required", "Confidentiality Required", 13 },
	{ "Invalid DN syntax", "Invalid DN Syntax", 34 },
	{ "Operations error", "Operations Error", 1 },
	{ "Protocol error", "Protocol Error", 2 },
};

/* Returns the name of LDAP result code as "Name (code N)" in buf. */
static const char *
ldap_code_name(int code, char *buf, size_t sz)
{
	size_t i;

	for (i = 0; i < sizeof(ldap_results) / sizeof(ldap_results[0]); i++)
		if (ldap_results[i].code == code) {
			snprintf(buf, sz, "%s (code %d)", ldap_results[i].name,
			    code);
			return buf;
		}
	snprintf(buf, sz, "code %d", code);
	return buf;
}

/* Returns the LDAP result named in libcurl's error text, as
 * "Name (code N)" in buf, or NULL. */
static const char *
ldap_reason(const char *errbuf, char *buf, size_t sz)
{
	size_t i;

	for (i = 0; i < sizeof(ldap_results) / sizeof(ldap_results[0]); i++)
		if (strcasestr(errbuf, ldap_results[i].openldap) != NULL)
			return ldap_code_name(ldap_results[i].code, buf, sz);
	return NULL;
}

/*
 * Runs the transfer on c.  libcurl's OpenLDAP backend does not always
 * tell which socket it waits on (nor can bytes held inside TLS show on
 * the socket), and left to itself libcurl then sleeps up to a second
 * between LDAP steps.  So look in on it after 1 ms, and back off to
 * LDAP_STEP_MAX_MS while nothing happens.  Returns the transfer's result.
 */
static CURLcode
perform_stepped(CURLM *m, CURL *c)
{
	CURLMsg		*msg;
	CURLcode	 rc = CURLE_OUT_OF_MEMORY;
	int		 running = 1, left, n, step = 1;

	if (curl_multi_add_handle(m, c) != CURLM_OK)
		return rc;
	while (running) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (!running)
			break;
		if (curl_multi_poll(m, NULL, 0, step, &n) != CURLM_OK)
			break;
		step = n > 0 ? 1 : step * 2 > LDAP_STEP_MAX_MS ?
		    LDAP_STEP_MAX_MS : step * 2;
	}
	while ((msg = curl_multi_info_read(m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE)
			rc = msg->data.result;
	curl_multi_remove_handle(m, c);
	return rc;
}

/* What the STARTTLS socket callback shares with the check. */
struct starttls {
	double		 deadline;
	struct relay	*relay;
	enum tlsstatus	 st;		/* of the last attempt */
	int		 code;		/* the server's, for TLS_DENIED */
};

/*
 * libcurl's socket opener for start_tls: does STARTTLS with the address
 * libcurl resolved, and points libcurl at the relay instead (libcurl may
 * change the address here).  Returns libcurl's socket, or CURL_SOCKET_BAD
 * so that libcurl tries its next address or gives up.
 */
static curl_socket_t
starttls_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct starttls		*t = arg;
	struct sockaddr_in	 lsin;
	int			 fd;

	if (purpose != CURLSOCKTYPE_IPCXN || t->relay != NULL ||
	    a->socktype != SOCK_STREAM)
		return CURL_SOCKET_BAD;
	t->st = relay_open(&a->addr, a->addrlen, t->deadline, &t->relay, &fd,
	    &lsin, &t->code);
	if (t->st != TLS_OK)
		return CURL_SOCKET_BAD;
	a->family = AF_INET;
	a->protocol = IPPROTO_TCP;
	a->addrlen = sizeof(lsin);
	memcpy(&a->addr, &lsin, sizeof(lsin));
	return fd;
}

/*
 * Binds to ldap.hostname:ldap.port, with ldap.authentication.bind_dn and
 * password when authentication is enabled (else anonymously), over
 * ldap.encryption.method (start_tls, simple_tls, or none), and reads the
 * root DSE.  Fills cr with Portus's message, or the server's reason.
 */
void
http_check_ldap(struct http *h, const struct config *cfg, double deadline,
    struct compres *cr)
{
	const char	*method = cfg_str(cfg, K_LDAP_METHOD);
	const char	*ca = cfg_str(cfg, K_HEALTH_CA_FILE);
	char		 url[512], errbuf[CURL_ERROR_SIZE], why[96];
	const char	*reason, *host;
	struct starttls	 st = { .st = TLS_OK };
	long		 ms;
	int		 starttls = 0, tls = 0, relayed, v6, auth;
	CURLcode	 rc;

	if (strcmp(method, "start_tls") == 0 ||
	    strcmp(method, "starttls") == 0)
		starttls = 1;
	else if (strcmp(method, "simple_tls") == 0)
		tls = 1;
	else if (*method != '\0' && strcmp(method, "plain") != 0) {
		compres_set(cr, 0, LDAP_DOWN, "unknown encryption method");
		return;
	}
	/* After STARTTLS the relay carries TLS from the first byte.  An
	 * IPv6 address goes in brackets. */
	host = cfg_str(cfg, K_LDAP_HOSTNAME);
	v6 = strchr(host, ':') != NULL && *host != '[';
	if (snprintf(url, sizeof(url), "%s://%s%s%s:%ld/",
	    tls || starttls ? "ldaps" : "ldap", v6 ? "[" : "", host,
	    v6 ? "]" : "", cfg_int(cfg, K_LDAP_PORT)) >= (int)sizeof(url)) {
		compres_set(cr, 0, LDAP_DOWN, "invalid URL");
		return;
	}
	if ((ms = cap_ms(cfg_int(cfg, K_LDAP_TIMEOUT), deadline)) <= 0) {
		compres_set(cr, 0, LDAP_DOWN, "connection timed out");
		return;
	}
	if (h->curl == NULL) {
		if ((h->curl = curl_easy_init()) == NULL) {
			compres_set(cr, 0, LDAP_DOWN, "out of memory");
			return;
		}
		curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "ldap,ldaps");
		curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
		/* A new connection and bind each run: the bind is what is
		 * checked, and an idle LDAP connection is not kept open. */
		curl_easy_setopt(h->curl, CURLOPT_FORBID_REUSE, 1L);
	}
	if (h->multi == NULL && (h->multi = curl_multi_init()) == NULL) {
		compres_set(cr, 0, LDAP_DOWN, "out of memory");
		return;
	}
	errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(h->curl, CURLOPT_CAINFO, *ca != '\0' ? ca : NULL);
	st.deadline = mono_now() + (double)ms / 1000.0;
	curl_easy_setopt(h->curl, CURLOPT_OPENSOCKETFUNCTION,
	    starttls ? starttls_socket : NULL);
	curl_easy_setopt(h->curl, CURLOPT_OPENSOCKETDATA, &st);
	auth = cfg_int(cfg, K_LDAP_AUTH_ENABLED);
	curl_easy_setopt(h->curl, CURLOPT_USERNAME,
	    auth ? cfg_str(cfg, K_LDAP_BIND_DN) : NULL);
	curl_easy_setopt(h->curl, CURLOPT_PASSWORD,
	    auth ? cfg_str(cfg, K_LDAP_PASSWORD) : NULL);
	rc = perform_stepped(h->multi, h->curl);
	/* Nothing may point into this frame once it returns. */
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_OPENSOCKETDATA, NULL);
	/* libcurl has closed the connection (no reuse): stop the relay. */
	relayed = st.relay != NULL;
	relay_close(st.relay);
	if (rc == CURLE_OK) {
		compres_set(cr, 1, "LDAP server is reachable", NULL);
		return;
	}
	if (rc == CURLE_LOGIN_DENIED)
		/* libcurl reports LDAP's Invalid Credentials so. */
		reason = "Invalid Credentials (code 49)";
	else if (!relayed && st.st == TLS_DENIED) {
		snprintf(why, sizeof(why), "%s: ", starttls_strerror(st.st));
		ldap_code_name(st.code, why + strlen(why),
		    sizeof(why) - strlen(why));
		reason = why;
	} else if (!relayed && st.st != TLS_OK)
		reason = starttls_strerror(st.st);
	else if ((reason = ldap_reason(errbuf, why, sizeof(why))) == NULL)
		reason = curl_reason(rc);
	compres_set(cr, 0, LDAP_DOWN, reason);
}
