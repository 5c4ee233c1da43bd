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
	char		 url[1024];
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
	http_req(&r, p, url, t, t);
	code = http_get(p->handle, &r, &reason);
	http_result(p, code, reason, "Portus is reachable", PORTUS_DOWN);
}
