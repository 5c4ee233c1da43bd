/*
 * The LDAP component: a bind to ldap.hostname:ldap.port as Portus's
 * health check does it, through libcurl's LDAP support, encrypted as
 * ldap.encryption.method says (start_tls is done ahead of libcurl by
 * starttls.c).  A server that answers the bind with an error gives its
 * reason alone, as Portus shows it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "extern.h"

#define LDAP_DOWN	"LDAP server is not reachable"
#define LDAP_STEP_MAX_MS 64	/* see perform_stepped() */

enum { LDAP_UNKNOWN = -1, LDAP_PLAIN, LDAP_SIMPLE_TLS, LDAP_START_TLS };

/* The kept handles: the easy handle, and the multi handle that drives
 * it (and keeps libcurl's CA cache). */
struct ldap {
	CURL	*curl;
	CURLM	*multi;
};

/* Returns a new handle holder, or NULL. */
void *
ldap_open(void)
{
	return calloc(1, sizeof(struct ldap));
}

void
ldap_close(void *arg)
{
	struct ldap *h = arg;

	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	free(h);
}

/*
 * Returns the encryption of ldap.encryption.method as Portus reads it:
 * start_tls (or starttls), simple_tls, or none for empty and plain;
 * LDAP_UNKNOWN for anything else, which Portus also treats as none.
 */
int
ldap_method(const char *method)
{
	if (strcmp(method, "start_tls") == 0 || strcmp(method, "starttls") == 0)
		return LDAP_START_TLS;
	if (strcmp(method, "simple_tls") == 0)
		return LDAP_SIMPLE_TLS;
	if (*method == '\0' || strcmp(method, "plain") == 0)
		return LDAP_PLAIN;
	return LDAP_UNKNOWN;
}

/* Discards what the search returns. */
static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	(void)buf;
	(void)arg;
	return size * n;
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
 * ldap.encryption.method, trusting ldap.encryption.options.ca_file (else
 * health.ca_file), and reads the root DSE.  Fills the result with
 * Portus's message, or the server's reason.
 */
void
check_ldap(struct probe *p)
{
	const struct config *cfg = p->cfg;
	struct ldap	*h = p->handle;
	struct compres	*cr = p->res;
	const char	*ca = cfg_str(cfg, K_LDAP_CA_FILE);
	char		 url[512], errbuf[CURL_ERROR_SIZE], why[96];
	const char	*reason, *host;
	struct starttls	 st = { .st = TLS_OK };
	long		 ms;
	int		 method, relayed, v6, auth;
	CURLcode	 rc;

	method = ldap_method(cfg_str(cfg, K_LDAP_METHOD));
	if (*ca == '\0')
		ca = cfg_str(cfg, K_HEALTH_CA_FILE);
	/* After STARTTLS the relay carries TLS from the first byte.  An
	 * IPv6 address goes in brackets. */
	host = cfg_str(cfg, K_LDAP_HOSTNAME);
	v6 = strchr(host, ':') != NULL && *host != '[';
	if (snprintf(url, sizeof(url), "%s://%s%s%s:%ld/",
	    method == LDAP_SIMPLE_TLS || method == LDAP_START_TLS ? "ldaps" :
	    "ldap", v6 ? "[" : "", host, v6 ? "]" : "",
	    cfg_int(cfg, K_LDAP_PORT)) >= (int)sizeof(url)) {
		compres_set(cr, 0, LDAP_DOWN, "invalid URL");
		return;
	}
	if ((ms = cap_ms(cfg_int(cfg, K_LDAP_TIMEOUT), p->deadline)) <= 0) {
		compres_set(cr, 0, LDAP_DOWN, "connection timed out");
		return;
	}
	if (http_global_init() == -1) {
		compres_set(cr, 0, LDAP_DOWN, "cannot initialise libcurl");
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
	    method == LDAP_START_TLS ? starttls_socket : NULL);
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
	/* The server answered the bind: its reason alone, as Portus shows
	 * it (libcurl reports Invalid Credentials as LOGIN_DENIED). */
	if (rc == CURLE_LOGIN_DENIED) {
		compres_set(cr, 0, ldap_code_name(49, why, sizeof(why)), NULL);
		return;
	}
	if ((reason = ldap_reason(errbuf, why, sizeof(why))) != NULL &&
	    (relayed || st.st == TLS_OK)) {
		compres_set(cr, 0, reason, NULL);
		return;
	}
	if (!relayed && st.st == TLS_DENIED) {
		snprintf(why, sizeof(why), "%s: ", starttls_strerror(st.st));
		ldap_code_name(st.code, why + strlen(why),
		    sizeof(why) - strlen(why));
		reason = why;
	} else if (!relayed && st.st != TLS_OK)
		reason = starttls_strerror(st.st);
	else
		reason = curl_phrase(rc);
	compres_set(cr, 0, LDAP_DOWN, reason);
}
