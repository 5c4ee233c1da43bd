/*
 * The libcurl plumbing the HTTP checks share: the library set up once,
 * on first use (never on the /_ping path), a kept easy handle per
 * component so that keep-alive connections are reused across runs, one
 * GET with timeouts, and the fixed phrases for transfer errors.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "extern.h"

struct http {
	CURL	*curl;
};

static pthread_once_t	 once = PTHREAD_ONCE_INIT;
static int		 global_ok;

static void
global_init(void)
{
	global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* Sets libcurl up, once, whoever asks first.  Returns 0, or -1. */
int
http_global_init(void)
{
	pthread_once(&once, global_init);
	return global_ok ? 0 : -1;
}

/* Undoes http_global_init, if it ran; call once, when no thread uses
 * libcurl any more. */
void
http_global_free(void)
{
	if (global_ok)
		curl_global_cleanup();
	global_ok = 0;
}

/* Returns a new handle holder, or NULL. */
void *
http_open(void)
{
	return calloc(1, sizeof(struct http));
}

/* Closes kept connections and frees the holder. */
void
http_close(void *arg)
{
	struct http *h = arg;

	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h);
}

#define WWWAUTH		"www-authenticate:"

/* Notes the headers the request looks for; a new status line (after a
 * 100 Continue, say) starts over. */
static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct httpreq	*r = arg;
	size_t		 len = size * n, hl, v;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		r->apiver = 0;
		if (r->wwwauth != NULL)
			r->wwwauth[0] = '\0';
		return len;
	}
	if (r->apiver_header != NULL) {
		hl = strlen(r->apiver_header);
		if (len > hl && buf[hl] == ':' &&
		    strncasecmp(buf, r->apiver_header, hl) == 0)
			r->apiver = 1;
	}
	hl = sizeof(WWWAUTH) - 1;
	if (r->wwwauth != NULL && r->wwwauth_sz > 0 && len > hl &&
	    strncasecmp(buf, WWWAUTH, hl) == 0) {
		for (v = hl; v < len && (buf[v] == ' ' || buf[v] == '\t'); v++)
			continue;
		while (len > v && (buf[len - 1] == '\r' || buf[len - 1] == '\n'))
			len--;
		snprintf(r->wwwauth, r->wwwauth_sz, "%.*s", (int)(len - v),
		    buf + v);
		return size * n;
	}
	return len;
}

/* Keeps the body's start when asked, else drops it. */
static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct httpreq	*r = arg;
	size_t		 len = size * n, take;

	if (r != NULL && r->body != NULL && r->body_len + 1 < r->body_sz) {
		take = r->body_sz - 1 - r->body_len;
		if (take > len)
			take = len;
		memcpy(r->body + r->body_len, buf, take);
		r->body_len += take;
		r->body[r->body_len] = '\0';
	}
	return len;
}

/* Returns a short fixed phrase for a libcurl error code. */
const char *
curl_phrase(int rc)
{
	switch ((CURLcode)rc) {
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
	case CURLE_OUT_OF_MEMORY:
		return "out of memory";
	default:
		return "HTTP error";
	}
}

/*
 * GETs r->url with r's timeouts (milliseconds), trusting r->ca_file when
 * not empty, and notes r->apiver_header.  Returns the HTTP status, or -1
 * with *reason pointing at a fixed phrase.
 */
long
http_get(struct http *h, struct httpreq *r, const char **reason)
{
	struct curl_slist *hdrs = NULL;
	char		 auth[8192];
	CURLcode	 rc;
	long		 code = 0;

	if (r->connect_ms <= 0 || r->total_ms <= 0) {
		*reason = "connection timed out";
		return -1;
	}
	if (http_global_init() == -1) {
		*reason = "cannot initialise libcurl";
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
	r->apiver = 0;
	r->body_len = 0;
	if (r->body != NULL && r->body_sz > 0)
		r->body[0] = '\0';
	if (r->wwwauth != NULL && r->wwwauth_sz > 0)
		r->wwwauth[0] = '\0';
	if (r->bearer != NULL) {
		if (snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    r->bearer) >= (int)sizeof(auth) ||
		    (hdrs = curl_slist_append(NULL, auth)) == NULL) {
			*reason = "out of memory";
			return -1;
		}
	}
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h->curl, CURLOPT_URL, r->url);
	/* NULL puts back libcurl's default bundle. */
	curl_easy_setopt(h->curl, CURLOPT_CAINFO,
	    *r->ca_file != '\0' ? r->ca_file : NULL);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, r->connect_ms);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, r->total_ms);
	rc = curl_easy_perform(h->curl);
	/* Nothing may point into the caller's frame once it returns, nor
	 * keep the token. */
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, NULL);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	explicit_bzero(auth, sizeof(auth));
	if (rc != CURLE_OK) {
		*reason = curl_phrase(rc);
		return -1;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

/* Sets r up for a GET of url by the probe p: its CA file, a connect
 * timeout of connect_s and a whole one of total_s seconds, both capped
 * by the run's deadline. */
void
http_req(struct httpreq *r, const struct probe *p, const char *url,
    long connect_s, long total_s)
{
	memset(r, 0, sizeof(*r));
	r->url = url;
	r->ca_file = cfg_str(p->cfg, K_HEALTH_CA_FILE);
	r->connect_ms = cap_ms(connect_s, p->deadline);
	r->total_ms = cap_ms(total_s, p->deadline);
}

/* Fills p's result from what http_get gave for a plain GET: up (with
 * msg) on 200; else down, with the reason or the HTTP status. */
void
http_result(struct probe *p, long code, const char *reason, const char *up,
    const char *down)
{
	char phrase[32];

	if (code == 200)
		compres_set(p->res, 1, up, NULL);
	else if (code < 0)
		compres_set(p->res, 0, down, reason);
	else {
		snprintf(phrase, sizeof(phrase), "HTTP %ld", code);
		compres_set(p->res, 0, down, phrase);
	}
}

/* Returns the smaller of a setting in seconds and what is left before
 * deadline, in milliseconds (0 when nothing is left). */
long
cap_ms(long seconds, double deadline)
{
	double left = (deadline - mono_now()) * 1000.0;

	if (left < (double)seconds * 1000.0)
		return left < 1.0 ? 0 : (long)left;
	return seconds * 1000;
}
