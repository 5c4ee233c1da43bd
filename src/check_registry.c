/*
 * The registry component, as Portus checks it: GET /v2/ with no
 * credentials; reachable on 200 or 401 carrying the registry's API
 * version header.  The registry is registry.hostname (with
 * registry.use_ssl) when set, else the first row of Portus's registries
 * table, which the database check reads before this one runs.
 *
 * Beyond Portus, usable and not only reachable: when Portus's key is
 * configured (PORTUS_KEY_PATH), a token made as Portus makes them is
 * presented to /v2/_catalog, as docker login would have it; a registry
 * whose auth.token settings disagree with Portus's key, issuer or
 * service rejects it, and the component fails with the registry's error
 * code.  Portus finds a token's registry by its hostname, so the service
 * the registry names must be that hostname.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json.h>

#include "extern.h"

#define REG_DOWN	"registry is not reachable"
#define REG_REJECTS	"registry rejects Portus's tokens"
#define REG_UNUSABLE	"registry is not usable"
#define BODY_MAX	8192

/* The kept handle: the HTTP connection, and Portus's key, read once. */
struct registry {
	void		*http;
	struct signer	*signer;
	int		 loaded;	/* the key was tried */
	char		 why[128];	/* why it could not be read */
};

void *
registry_open(void)
{
	struct registry *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->http = http_open()) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
registry_close(void *arg)
{
	struct registry *r = arg;

	if (r == NULL)
		return;
	http_close(r->http);
	signer_free(r->signer);
	free(r);
}

/*
 * Reads the service out of a WWW-Authenticate value: Bearer, then
 * parameters NAME=TOKEN or NAME="QUOTED" separated by commas
 * (realm="...",service="..."), the names in any case.  What a quoted
 * value holds is never taken for a parameter.  Returns 0 with the
 * service in out, or -1 when the registry asks for no bearer token,
 * names no service, says it in a malformed way (an unterminated quote,
 * no comma between two parameters), or names one no hostname can be
 * (empty, a backslash, too long for sz).
 */
int
registry_bearer_service(const char *h, char *out, size_t sz)
{
	const char	*p, *name, *val;
	size_t		 nlen, vlen;

	if (strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	for (p = h + 7;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			return -1;
		name = p;
		nlen = strcspn(p, "= \t,\"");
		p += nlen;
		p += strspn(p, " \t");
		if (nlen == 0 || *p++ != '=')
			return -1;	/* a token68, or not a challenge */
		p += strspn(p, " \t");
		if (*p == '"') {
			/* A quoted-pair may hide a quote: skip it whole. */
			for (val = ++p; *p != '"'; p++)
				if (*p == '\0' || (*p == '\\' && *++p == '\0'))
					return -1;
			vlen = (size_t)(p++ - val);
		} else {
			val = p;
			vlen = strcspn(p, " \t,\"");
			p += vlen;
		}
		p += strspn(p, " \t");
		if (*p != ',' && *p != '\0')
			return -1;	/* no comma before the next */
		if (nlen != 7 || strncasecmp(name, "service", 7) != 0)
			continue;
		if (vlen == 0 || vlen >= sz || memchr(val, '\\', vlen) != NULL)
			return -1;
		memcpy(out, val, vlen);
		out[vlen] = '\0';
		return 0;
	}
}

/* Copies s into out with anything but printable ASCII made '?'. */
static void
printable(const char *s, char *out, size_t sz)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < sz; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	out[i] = '\0';
}

/*
 * Reads the registry's first error out of its answer's body, {"errors":
 * [{"code": ..., "message": ...}]}: the code into code, the message (for
 * the log) into msg, both cut to their sizes and made printable ASCII.
 * Returns 0, or -1 when the body holds no error code.
 */
int
registry_error_code(const char *body, char *code, size_t csz, char *msg,
    size_t msz)
{
	json_object	*doc, *errs, *e, *v;
	int		 rc = -1;

	if (csz == 0 || msz == 0 || (doc = json_tokener_parse(body)) == NULL)
		return -1;
	if (json_object_object_get_ex(doc, "errors", &errs) &&
	    json_object_is_type(errs, json_type_array) &&
	    json_object_array_length(errs) > 0 &&
	    (e = json_object_array_get_idx(errs, 0)) != NULL &&
	    json_object_object_get_ex(e, "code", &v) &&
	    json_object_is_type(v, json_type_string)) {
		printable(json_object_get_string(v), code, csz);
		msg[0] = '\0';
		if (json_object_object_get_ex(e, "message", &v) &&
		    json_object_is_type(v, json_type_string))
			printable(json_object_get_string(v), msg, msz);
		rc = 0;
	}
	json_object_put(doc);
	return rc;
}

/*
 * Presents a token made with Portus's key to the registry at base (its
 * /v2/ asked for one, naming service), whose hostname in Portus's terms
 * is host.  Fills the result.
 */
static void
usable(struct probe *p, struct registry *reg, const char *base,
    const char *host, const char *service)
{
	struct httpreq	 r;
	const char	*reason;
	char		 url[600], why[160], code[48], msg[256], body[BODY_MAX];
	char		 svc[96], *token;
	long		 st, ct, rt;

	if (strcmp(service, host) != 0) {
		printable(service, svc, sizeof(svc));
		snprintf(why, sizeof(why), "service %s is not its hostname",
		    svc);
		compres_set(p->res, 0, REG_REJECTS, why);
		return;
	}
	if ((token = token_make(reg->signer, cfg_str(p->cfg, K_MACHINE_FQDN),
	    service, why, sizeof(why))) == NULL) {
		compres_set(p->res, 0, REG_UNUSABLE, why);
		return;
	}
	snprintf(url, sizeof(url), "%s/v2/_catalog?n=1", base);
	ct = cfg_int(p->cfg, K_REG_TIMEOUT);
	rt = cfg_int(p->cfg, K_REG_READ_TIMEOUT);
	http_req(&r, p, url, ct, ct + rt);
	r.bearer = token;
	r.body = body;
	r.body_sz = sizeof(body);
	st = http_get(reg->http, &r, &reason);
	explicit_bzero(token, strlen(token));
	free(token);
	if (st == 200) {
		compres_set(p->res, 1, "registry is reachable", NULL);
		return;
	}
	if (st < 0) {
		compres_set(p->res, 0, REG_DOWN, reason);
		return;
	}
	if (registry_error_code(body, code, sizeof(code), msg,
	    sizeof(msg)) == 0) {
		plog(PL_WARN, "registry: the catalog with Portus's token: "
		    "HTTP %ld, %s: %s", st, code, msg);
		compres_set(p->res, 0, REG_REJECTS, code);
	} else {
		snprintf(code, sizeof(code), "HTTP %ld", st);
		compres_set(p->res, 0, REG_REJECTS, code);
	}
}

/* Probes the registry at host (with TLS when ssl).  Fills the result. */
static void
probe(struct probe *p, const char *host, int ssl)
{
	struct registry	*reg = p->handle;
	const char	*key = cfg_str(p->cfg, K_KEY_PATH);
	struct httpreq	 r;
	const char	*reason = NULL;
	char		 base[512], url[520], phrase[32], wwwauth[512];
	char		 service[256];
	long		 code, ct, rt;

	if (snprintf(base, sizeof(base), "%s://%s", ssl ? "https" : "http",
	    host) >= (int)sizeof(base)) {
		compres_set(p->res, 0, REG_DOWN, "invalid URL");
		return;
	}
	snprintf(url, sizeof(url), "%s/v2/", base);
	ct = cfg_int(p->cfg, K_REG_TIMEOUT);
	rt = cfg_int(p->cfg, K_REG_READ_TIMEOUT);
	http_req(&r, p, url, ct, ct + rt);
	r.apiver_header = "docker-distribution-api-version";
	r.wwwauth = wwwauth;
	r.wwwauth_sz = sizeof(wwwauth);
	code = http_get(reg->http, &r, &reason);
	if (code < 0) {
		compres_set(p->res, 0, REG_DOWN, reason);
		return;
	}
	if ((code != 200 && code != 401) || !r.apiver) {
		if (code == 200 || code == 401)
			snprintf(phrase, sizeof(phrase), "not a Docker "
			    "registry");
		else
			snprintf(phrase, sizeof(phrase), "HTTP %ld", code);
		compres_set(p->res, 0, REG_DOWN, phrase);
		return;
	}
	/* Reachable, as Portus sees it; usable, when the key says how. */
	if (*key == '\0' || code == 200) {
		compres_set(p->res, 1, "registry is reachable", NULL);
		return;
	}
	if (!reg->loaded) {
		reg->loaded = 1;
		if ((reg->signer = signer_load(key, reg->why,
		    sizeof(reg->why))) == NULL)
			plog(PL_ERROR, "registry: %s", reg->why);
	}
	if (reg->signer == NULL) {
		compres_set(p->res, 0, REG_UNUSABLE, reg->why);
		return;
	}
	if (registry_bearer_service(wwwauth, service, sizeof(service)) ==
	    -1) {
		compres_set(p->res, 0, REG_REJECTS, "it asks for no token of "
		    "a service");
		return;
	}
	usable(p, reg, base, host, service);
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
