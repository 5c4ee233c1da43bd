/*
 * The registry component, as Portus checks it: GET /v2/ with no
 * credentials; reachable on 200 or 401 carrying the registry's API
 * version header.  The registry is registry.hostname (with
 * registry.use_ssl) when set, else the first row of Portus's registries
 * table, which the database check reads before this one runs.
 */
#include <stdio.h>

#include "extern.h"

#define REG_DOWN	"registry is not reachable"

/* Probes the registry at host (with TLS when ssl).  Fills cr. */
static void
probe(struct probe *p, const char *host, int ssl)
{
	struct httpreq	 r;
	const char	*reason = NULL;
	char		 url[512], phrase[32];
	long		 code, ct, rt;

	if (snprintf(url, sizeof(url), "%s://%s/v2/", ssl ? "https" : "http",
	    host) >= (int)sizeof(url)) {
		compres_set(p->res, 0, REG_DOWN, "invalid URL");
		return;
	}
	ct = cfg_int(p->cfg, K_REG_TIMEOUT);
	rt = cfg_int(p->cfg, K_REG_READ_TIMEOUT);
	r.url = url;
	r.ca_file = cfg_str(p->cfg, K_HEALTH_CA_FILE);
	r.connect_ms = cap_ms(ct, p->deadline);
	r.total_ms = cap_ms(ct + rt, p->deadline);
	r.apiver_header = "docker-distribution-api-version";
	code = http_get(p->handle, &r, &reason);
	if (code < 0)
		compres_set(p->res, 0, REG_DOWN, reason);
	else if ((code == 200 || code == 401) && r.apiver)
		compres_set(p->res, 1, "registry is reachable", NULL);
	else if (code == 200 || code == 401)
		compres_set(p->res, 0, REG_DOWN, "not a Docker registry");
	else {
		snprintf(phrase, sizeof(phrase), "HTTP %ld", code);
		compres_set(p->res, 0, REG_DOWN, phrase);
	}
}

void
check_registry(struct probe *p)
{
	const struct regrow *rr = p->row;

	if (*cfg_str(p->cfg, K_REG_HOSTNAME) != '\0')
		probe(p, cfg_str(p->cfg, K_REG_HOSTNAME),
		    (int)cfg_int(p->cfg, K_REG_USE_SSL));
	else if (!rr->db_ok)
		compres_set(p->res, 0, REG_DOWN, "database unavailable");
	else if (!rr->found)
		compres_set(p->res, 0, "no registry configured", NULL);
	else
		probe(p, rr->hostname, rr->use_ssl);
}
