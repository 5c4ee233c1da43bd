/*
 * libFuzzer driver for the request surface.  The input is
 *
 *	METHOD \n PATH_INFO \n REQUEST_URI [\n REMOTE_ADDR [\n HEALTH_ALLOW
 *	    [\n QUERY_STRING [\n HTTP_ACCEPT]]]]
 *
 * (a missing part is an unset variable).  It is routed with
 * request_route(), filtered with request_allow() under a health.allow
 * taken from the last part, and checked against the contract of struct
 * answer.  The whole input also goes through path_decode(), out of place
 * and in place.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define ALLOW_SEP	", \t\n"	/* what separates health.allow items */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Aborts unless the answer keeps the promises made in extern.h; 403
 * comes from request_allow only. */
static void
check_answer(const struct reqinfo *ri, const struct answer *a, int allow)
{
	char	head[512];
	int	n;

	if (a->status != 200 && a->status != 400 && a->status != 404 &&
	    a->status != 405 && a->status != 414 &&
	    !(allow && a->status == 403))
		abort();
	if ((a->route != ROUTE_NONE) != (a->status == 200))
		abort();
	if ((a->body != NULL) != (a->status != 200))
		abort();
	if (a->head && strcmp(ri->method, "HEAD") != 0)
		abort();
	n = response_head(head, sizeof(head), a->status, 1,
	    a->body != NULL ? strlen(a->body) : 0);
	if (n <= 0 || (size_t)n >= sizeof(head) || strlen(head) != (size_t)n)
		abort();
}

/* Decodes in into a heap buffer of exactly outsz bytes (so that ASan
 * sees any overrun), checks the result, and returns it or -1. */
static int
check_decode(const char *in, size_t outsz, char **outp)
{
	char	*out;
	int	 n;

	*outp = NULL;
	if ((out = malloc(outsz)) == NULL)
		return -1;
	n = path_decode(in, out, outsz);
	if (n >= 0 && ((size_t)n >= outsz || strlen(out) != (size_t)n ||
	    (size_t)n > strlen(in)))
		abort();
	if (n < 0)
		free(out);
	else
		*outp = out;
	return n;
}

/* Returns 1 if ip is, word for word, one of the items of list. */
static int
listed(const char *list, const char *ip)
{
	size_t len, iplen = strlen(ip);

	for (;;) {
		list += strspn(list, ALLOW_SEP);
		if (*list == '\0')
			return 0;
		len = strcspn(list, ALLOW_SEP);
		if (len == iplen && iplen > 0 && memcmp(list, ip, len) == 0)
			return 1;
		list += len;
	}
}

/* Splits s at its first newline: returns what follows, or NULL. */
static char *
cut(char *s)
{
	char *nl;

	if (s == NULL || (nl = strchr(s, '\n')) == NULL)
		return NULL;
	*nl = '\0';
	return nl + 1;
}

/* Routes the request in buf, then filters it through health.allow. */
static void
route(char *buf)
{
	struct reqinfo	 ri;
	struct answer	 a;
	struct config	 cfg;
	struct net	 one;
	char		 name[64], *var = NULL, *env[2], err[256];
	const char	*ip, *allow;
	size_t		 len;

	memset(&ri, 0, sizeof(ri));
	ri.method = buf;
	ri.path_info = cut(buf);
	ri.request_uri = cut((char *)ri.path_info);
	ip = cut((char *)ri.request_uri);
	allow = cut((char *)ip);
	ri.query_string = cut((char *)allow);
	ri.accept = cut((char *)ri.query_string);

	request_route(&ri, &a);
	check_answer(&ri, &a, 0);

	/* health.allow reaches the program as a setting; go through it. */
	if (config_init(&cfg) != CONF_OK)
		return;
	env[0] = env[1] = NULL;
	if (allow != NULL) {
		config_envname(NULL, K_HEALTH_ALLOW, name, sizeof(name));
		len = strlen(name) + 1 + strlen(allow) + 1;
		if ((var = malloc(len)) == NULL)
			goto out;
		snprintf(var, len, "%s=%s", name, allow);
		env[0] = var;
	}
	if (config_apply_env(&cfg, env, err, sizeof(err)) == CONF_OK) {
		/* An address listed as such is let in. */
		if (ip != NULL && allow != NULL && strchr(ip, '/') == NULL &&
		    listed(allow, ip) && net_parse(ip, &one) == 0 &&
		    !net_allowed(&cfg, ip))
			abort();
		request_allow(&cfg, ip, &a);
		check_answer(&ri, &a, 1);
	}
out:
	free(var);
	config_free(&cfg);

	/* An unset method is a bad request, not a crash. */
	ri.method = NULL;
	request_route(&ri, &a);
	if (a.status != 400)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf, *out, *small, dummy;
	int	 n, m;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;

	/* path_decode on the whole input, cut at its first NUL. */
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (path_decode(buf, &dummy, 0) != -1)
		abort();
	n = check_decode(buf, strlen(buf) + 1, &out);
	/* A tight buffer either fails or gives the same result. */
	m = check_decode(buf, 16, &small);
	if (m >= 0 && (m != n || strcmp(small, out) != 0))
		abort();
	/* request_route decodes in place: that must agree too. */
	if (n >= 0 && (path_decode(buf, buf, strlen(buf) + 1) != n ||
	    strcmp(buf, out) != 0))
		abort();
	free(small);
	free(out);

	memcpy(buf, data, size);
	buf[size] = '\0';
	route(buf);
	free(buf);
	return 0;
}
