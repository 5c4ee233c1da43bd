/*
 * The portus component (off by default): Portus's own server, Puma, asked
 * for its /api/v1/_ping at health.portus.url.  portus-health answers when
 * Portus is down, that is its point; a load balancer that picks Portus
 * backends by /_health must see a dead Puma all the same.
 */
#include <stdio.h>
#include <string.h>

#include "extern.h"

#define PORTUS_DOWN	"Portus is not reachable"

void
check_portus(struct probe *p)
{
	struct httpreq	 r;
	const char	*base = cfg_str(p->cfg, K_HEALTH_PORTUS_URL), *reason;
	char		 url[1024], phrase[32];
	size_t		 n = strlen(base);
	long		 code, t = cfg_int(p->cfg, K_HEALTH_TIMEOUT);

	/* One slash between the URL and the route, whatever it ends with. */
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (strstr(base, "://") == NULL ||
	    snprintf(url, sizeof(url), "%.*s/api/v1/_ping", (int)n, base) >=
	    (int)sizeof(url)) {
		compres_set(p->res, 0, PORTUS_DOWN, "invalid URL");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.url = url;
	r.ca_file = cfg_str(p->cfg, K_HEALTH_CA_FILE);
	r.connect_ms = cap_ms(t, p->deadline);
	r.total_ms = cap_ms(t, p->deadline);
	code = http_get(p->handle, &r, &reason);
	if (code == 200)
		compres_set(p->res, 1, "Portus is reachable", NULL);
	else if (code < 0)
		compres_set(p->res, 0, PORTUS_DOWN, reason);
	else {
		snprintf(phrase, sizeof(phrase), "HTTP %ld", code);
		compres_set(p->res, 0, PORTUS_DOWN, phrase);
	}
}
