/*
 * The clair component, as Portus checks it: security.clair.server with
 * its port replaced by security.clair.health_port (http:// added when it
 * has no scheme), GET /health, reachable on 200.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "extern.h"

#define CLAIR_DOWN	"clair is not reachable"

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

void
check_clair(struct probe *p)
{
	struct httpreq	 r;
	const char	*reason = NULL;
	char		 url[1024];
	long		 code, t;

	switch (clair_health_url(cfg_str(p->cfg, K_CLAIR_SERVER),
	    cfg_int(p->cfg, K_CLAIR_HEALTH_PORT), url, sizeof(url))) {
	case URL_OK:
	case URL_ADDED_SCHEME:
		break;
	case URL_BAD_SCHEME:
		compres_set(p->res, 0, CLAIR_DOWN ": neither HTTP nor HTTPS",
		    NULL);
		return;
	case URL_INVALID:
		compres_set(p->res, 0, CLAIR_DOWN, "invalid URL");
		return;
	}
	t = cfg_int(p->cfg, K_CLAIR_TIMEOUT);
	http_req(&r, p, url, t, t);
	code = http_get(p->handle, &r, &reason);
	http_result(p, code, reason, "clair is reachable", CLAIR_DOWN);
}
