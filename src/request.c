/*
 * From CGI variables to a route and a status, and the head of the
 * response.  Nothing here reads a body, allocates, or talks to libfcgi:
 * main.c hands the variables in and writes what comes out.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define METHOD_MAX_LEN	16

static const struct {
	const char	*path;
	enum route	 route;
} routes[] = {
	{ "/_ping", ROUTE_PING },
	{ "/api/v1/_ping", ROUTE_PING },
	{ "/_health", ROUTE_HEALTH },
	{ "/api/v1/health", ROUTE_HEALTH },
	{ "/_metrics", ROUTE_METRICS },
};

#define ERR_BADMETHOD	"{\"error\":\"bad request: invalid method\"}"
#define ERR_BADPATH	"{\"error\":\"bad request: invalid path\"}"
#define ERR_NOTFOUND	"{\"error\":\"not found\"}"
#define ERR_METHOD	"{\"error\":\"method not allowed\"}"
#define ERR_TOOLONG	"{\"error\":\"request URI too long\"}"
#define ERR_FORBIDDEN	"{\"error\":\"forbidden\"}"
#define ERR_COMPONENT	"{\"error\":\"unknown component\"}"
#define ERR_EXCLUDE	"{\"error\":\"bad request: unknown component " \
			    "in exclude\"}"

/* Returns the reason phrase of an HTTP status we send. */
const char *
status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	}
	return "Unknown";
}

/* Returns the length of the percent-decoded in, written to out, or -1
 * for a bad escape, a NUL byte, or an out buffer too small. */
int
path_decode(const char *in, char *out, size_t outsz)
{
	size_t	 n = 0;
	int	 hi, lo;

	if (outsz == 0)
		return -1;
	for (; *in != '\0'; in++) {
		if (n + 1 >= outsz)
			return -1;
		if (*in != '%') {
			out[n++] = *in;
			continue;
		}
		if (!isxdigit((unsigned char)in[1]) ||
		    !isxdigit((unsigned char)in[2]))
			return -1;
		hi = isdigit((unsigned char)in[1]) ? in[1] - '0' :
		    (tolower((unsigned char)in[1]) - 'a' + 10);
		lo = isdigit((unsigned char)in[2]) ? in[2] - '0' :
		    (tolower((unsigned char)in[2]) - 'a' + 10);
		if (hi == 0 && lo == 0)
			return -1;
		out[n++] = (char)(hi << 4 | lo);
		in += 2;
	}
	out[n] = '\0';
	return (int)n;
}

/* Returns the fixed route whose path is p (exact), or whose path ends p
 * (suffix).  ROUTE_NONE otherwise. */
static enum route
match_fixed(const char *p, size_t len, int suffix)
{
	size_t	 i, rl;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		rl = strlen(routes[i].path);
		if (len < rl || (!suffix && len != rl))
			continue;
		if (memcmp(p + len - rl, routes[i].path, rl) == 0)
			return routes[i].route;
	}
	return ROUTE_NONE;
}

/*
 * Returns the route of path p (exactly, or on its last segments when
 * suffix), allowing one trailing slash.  A health route followed by one
 * more segment names a component: *comp is its index, COMP__MAX for a
 * name that is none; -1 for the whole document.
 */
static enum route
match(const char *p, size_t len, int suffix, int *comp)
{
	const char	*slash;
	char		 name[16];
	size_t		 nl;
	enum route	 r;
	int		 c;

	*comp = -1;
	if (len > 1 && p[len - 1] == '/')
		len--;
	if ((r = match_fixed(p, len, suffix)) != ROUTE_NONE)
		return r;
	if ((slash = memrchr(p, '/', len)) == NULL || slash == p ||
	    match_fixed(p, (size_t)(slash - p), suffix) != ROUTE_HEALTH)
		return ROUTE_NONE;
	nl = len - (size_t)(slash + 1 - p);
	if (nl == 0 || nl >= sizeof(name)) {
		*comp = COMP__MAX;
		return ROUTE_HEALTH;
	}
	memcpy(name, slash + 1, nl);
	name[nl] = '\0';
	*comp = (c = comp_from_name(name)) < 0 ? COMP__MAX : c;
	return ROUTE_HEALTH;
}

/*
 * Reads "exclude=NAME[,NAME...]" parameters (repeatable) of the query q
 * into *mask.  Returns 0, or -1 for a name that is no component.
 */
static int
parse_exclude(const char *q, unsigned *mask)
{
	char	 val[256], *name, *end;
	size_t	 len;
	int	 c;

	*mask = 0;
	for (; q != NULL && *q != '\0'; q += len + (q[len] != '\0')) {
		len = strcspn(q, "&;");
		if (len < 8 || strncmp(q, "exclude=", 8) != 0)
			continue;
		if (len - 8 >= sizeof(val))
			return -1;
		memcpy(val, q + 8, len - 8);
		val[len - 8] = '\0';
		if (path_decode(val, val, sizeof(val)) < 0)
			return -1;
		for (name = val; *name != '\0'; name = end) {
			end = name + strcspn(name, ",");
			if (*end == ',')
				*end++ = '\0';
			if (*name == '\0')
				continue;
			if ((c = comp_from_name(name)) < 0)
				return -1;
			*mask |= 1u << c;
		}
	}
	return 0;
}

/* Returns the format a client's Accept header asks for: the IETF health
 * format when named, a page when a browser prefers HTML, else Portus's. */
static enum format
negotiate(const char *accept)
{
	if (accept == NULL)
		return FMT_PORTUS;
	if (strcasestr(accept, "application/health+json") != NULL)
		return FMT_HEALTH_JSON;
	if (strcasestr(accept, "text/html") != NULL &&
	    strcasestr(accept, "application/json") == NULL)
		return FMT_HTML;
	return FMT_PORTUS;
}

/* Returns 1 if the path p has a "." or ".." segment: a client playing
 * with the suffix match gets a clear 400. */
static int
dot_segment(const char *p)
{
	size_t n;

	while ((p = strchr(p, '/')) != NULL) {
		p++;
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' &&
		    p[1] == '.'))
			return 1;
	}
	return 0;
}

/* Returns 1 if m is an HTTP token (RFC 9110) of a sane length. */
static int
valid_method(const char *m)
{
	size_t i;

	for (i = 0; m[i] != '\0'; i++)
		if (i >= METHOD_MAX_LEN || (!isalnum((unsigned char)m[i]) &&
		    strchr("!#$%&'*+-.^_`|~", m[i]) == NULL))
			return 0;
	return i > 0;
}

/*
 * Decides the answer to a request from its CGI variables.  PATH_INFO is
 * matched exactly; without it the path of REQUEST_URI is decoded and
 * matched on its last segments (a deployment under a sub-URI).
 */
void
request_route(const struct reqinfo *ri, struct answer *a)
{
	char		 buf[PATH_MAX_LEN + 1];
	const char	*p, *q;
	size_t		 len;
	int		 n;

	memset(a, 0, sizeof(*a));
	a->route = ROUTE_NONE;
	a->comp = -1;
	if (ri->method == NULL || !valid_method(ri->method)) {
		a->status = 400;
		a->body = ERR_BADMETHOD;
		return;
	}
	if (strcmp(ri->method, "HEAD") == 0)
		a->head = 1;
	else if (strcmp(ri->method, "GET") != 0) {
		a->status = 405;
		a->body = ERR_METHOD;
		return;
	}
	if (ri->path_info != NULL && ri->path_info[0] != '\0') {
		len = strlen(ri->path_info);
		if (len > PATH_MAX_LEN) {
			a->status = 414;
			a->body = ERR_TOOLONG;
			return;
		}
		a->route = match(ri->path_info, len, 0, &a->comp);
	} else if (ri->request_uri != NULL && ri->request_uri[0] != '\0') {
		p = ri->request_uri;
		len = strcspn(p, "?#");
		if (len > PATH_MAX_LEN) {
			a->status = 414;
			a->body = ERR_TOOLONG;
			return;
		}
		memcpy(buf, p, len);
		buf[len] = '\0';
		if ((n = path_decode(buf, buf, sizeof(buf))) < 0 ||
		    dot_segment(buf)) {
			a->status = 400;
			a->body = ERR_BADPATH;
			return;
		}
		a->route = match(buf, (size_t)n, 1, &a->comp);
	}
	if (a->route == ROUTE_NONE) {
		a->status = 404;
		a->body = ERR_NOTFOUND;
		return;
	}
	if (a->route == ROUTE_HEALTH && a->comp == COMP__MAX) {
		a->route = ROUTE_NONE;
		a->status = 404;
		a->body = ERR_COMPONENT;
		return;
	}
	q = ri->query_string;
	if (q == NULL && ri->request_uri != NULL &&
	    (q = strchr(ri->request_uri, '?')) != NULL)
		q++;
	if (a->route == ROUTE_HEALTH && parse_exclude(q, &a->exclude) == -1) {
		a->route = ROUTE_NONE;
		a->status = 400;
		a->body = ERR_EXCLUDE;
		return;
	}
	a->format = negotiate(ri->accept);
	a->status = 200;
}

/* Reads an IPv4 or IPv6 address into 16 bytes (IPv4 as ::ffff:a.b.c.d).
 * Returns its family, 4 (also for an IPv4-mapped IPv6 address) or 6, or
 * -1. */
static int
addr_parse(const char *s, unsigned char *addr)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	unsigned char v4[4];

	if (inet_pton(AF_INET, s, v4) == 1) {
		memcpy(addr, mapped, sizeof(mapped));
		memcpy(addr + 12, v4, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, s, addr) != 1)
		return -1;
	return memcmp(addr, mapped, sizeof(mapped)) == 0 ? 4 : 6;
}

/* Parses "ADDR" or "ADDR/PREFIX" into n.  Returns 0, or -1. */
int
net_parse(const char *s, struct net *n)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long		 prefix;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if ((n->family = addr_parse(buf, n->addr)) == -1)
		return -1;
	if (slash == NULL) {
		n->prefix = 128;
		return 0;
	}
	/* One to three digits, nothing else: no sign, no blank, no overflow. */
	if (strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
	    strlen(slash + 1) > 3)
		return -1;
	prefix = strtol(slash + 1, &end, 10);
	/* A mapped range ("::ffff:0:0/96") is IPv4 with the prefix less 96. */
	if (n->family == 4 && strchr(buf, ':') != NULL)
		prefix -= 96;
	if (slash[1] == '\0' || *end != '\0' || prefix < 0 ||
	    prefix > (n->family == 4 ? 32 : 128))
		return -1;
	n->prefix = (int)prefix + (n->family == 4 ? 96 : 0);
	return 0;
}

/* Returns 1 if the client address ip may see /_health under cfg
 * (health.allow empty: everyone; unknown, because the file is broken:
 * loopback only), 0 if not or if ip is no address (unless everyone may).  An
 * IPv4 client matches IPv4 ranges only, an IPv6 client IPv6 ones. */
int
net_allowed(const struct config *cfg, const char *ip)
{
	static const unsigned char loopback6[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 1 };
	unsigned char	 a[16];
	const struct net *n;
	size_t		 i;
	int		 fam, full, rest;

	if (ip == NULL || (fam = addr_parse(ip, a)) == -1)
		return cfg->nallow == 0 && !cfg->allow_unknown;
	/* Never fail open: while a broken file leaves health.allow unknown,
	 * only this host may see (the error). */
	if (cfg->allow_unknown)
		return fam == 4 ? a[12] == 127 : memcmp(a, loopback6, 16) == 0;
	if (cfg->nallow == 0)
		return 1;
	for (i = 0; i < cfg->nallow; i++) {
		n = &cfg->allow[i];
		if (n->family != fam)
			continue;
		full = n->prefix / 8;
		rest = n->prefix % 8;
		if (memcmp(a, n->addr, (size_t)full) != 0)
			continue;
		if (rest == 0 || ((a[full] ^ n->addr[full]) &
		    (0xff << (8 - rest)) & 0xff) == 0)
			return 1;
	}
	return 0;
}

/* Turns a health or metrics answer into 403 when health.allow does not
 * let the client at ip see it.  /_ping stays open to all. */
void
request_allow(const struct config *cfg, const char *ip, struct answer *a)
{
	if ((a->route != ROUTE_HEALTH && a->route != ROUTE_METRICS) ||
	    net_allowed(cfg, ip))
		return;
	a->route = ROUTE_NONE;
	a->status = 403;
	a->body = ERR_FORBIDDEN;
}

/* Returns the Content-Type value of m, or NULL for none. */
static const char *
mime_type(enum mime m)
{
	switch (m) {
	case MIME_NONE:
		break;
	case MIME_JSON:
		return "application/json; charset=utf-8";
	case MIME_HEALTH_JSON:
		return "application/health+json; charset=utf-8";
	case MIME_HTML:
		return "text/html; charset=utf-8";
	case MIME_PROMETHEUS:
		return "text/plain; version=0.0.4; charset=utf-8";
	}
	return NULL;
}

/*
 * Writes the CGI response head for status into buf: the content type of
 * mime (an enum mime), the length of the body a GET would carry.
 * Returns the length written, or -1 if buf is too small.
 */
int
response_head(char *buf, size_t sz, int status, int mime, size_t bodylen)
{
	return response_head_retry(buf, sz, status, mime, bodylen, 0);
}

/* response_head, with Retry-After when retry > 0 (seconds). */
int
response_head_retry(char *buf, size_t sz, int status, int mime,
    size_t bodylen, int retry)
{
	const char	*type = mime_type((enum mime)mime);
	char		 extra[48] = "";
	int		 n;

	if (retry > 0)
		snprintf(extra, sizeof(extra), "Retry-After: %d\r\n", retry);
	n = snprintf(buf, sz,
	    "Status: %d %s\r\n"
	    "%s%s%s"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-cache\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s%s"
	    "\r\n",
	    status, status_text(status),
	    type != NULL ? "Content-Type: " : "", type != NULL ? type : "",
	    type != NULL ? "\r\n" : "",
	    bodylen,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "",
	    extra);
	if (n < 0 || (size_t)n >= sz)
		return -1;
	return n;
}
