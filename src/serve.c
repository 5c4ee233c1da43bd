/*
 * One request's life, for CGI and FastCGI alike: made from its variables
 * by request_new (one function reads them, whatever gives them), answered
 * at once or parked until a health run ends, and freed by request_free,
 * which lets go of everything it held.  The answer is a CGI response
 * (head and body) in a buffer: CGI writes it out, FastCGI wraps it in
 * records.  Nothing here touches a socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define HEAD_MAX	512
#define KEY_MAX		8192	/* per-request settings, one a line */
#define RETRY_AFTER	1	/* seconds, for "come back later" */

#define ERR_BUSY	"{\"error\":\"too many requests waiting\"}"
#define ERR_NOMEM	"{\"error\":\"out of memory\"}"
#define ERR_DISABLED	"{\"error\":\"component not enabled\"}"
#define ERR_STOPPING	"{\"error\":\"stopping\"}"
#define ERR_TOOBIG	"{\"error\":\"request parameters too large\"}"

extern char **environ;

/* Where FastCGI requests come from: the settings they are served with,
 * what they counted, how many may wait for a health run. */
struct frontend {
	struct site	*site;		/* the process's own settings */
	struct sites	*sites;		/* settings passed per request */
	char		 prefix[PREFIX_MAX];	/* CCONFIG_PREFIX of the process:
					 * a copy, as a reload frees the
					 * configuration it came from */
	struct counters	 cnt;		/* requests answered */
	long		 parked;	/* atomic: requests waiting */
	long		 park_max;
};

struct request {
	struct reqinfo	 ri;
	const char	*remote;	/* REMOTE_ADDR, may be NULL */
	struct answer	 a;
	struct wbuf	 out;		/* the CGI response */
	struct frontend	*fe;		/* FastCGI: counted there */
	struct site	*site;		/* held from site_get ... */
	struct siteview	 view;		/* ... to request_free */
	struct result	*res;		/* what a parked request waited for */
	int		 parked;
	request_cb	 cb;
	void		*cbarg;
};

/* Returns a frontend serving with site (and sites for per-request
 * settings), letting park_max requests wait at once; NULL when out of
 * memory. */
struct frontend *
frontend_new(struct site *site, struct sites *sites, const char *prefix,
    long park_max)
{
	struct frontend *fe;

	if ((fe = calloc(1, sizeof(*fe))) == NULL)
		return NULL;
	fe->site = site;
	fe->sites = sites;
	snprintf(fe->prefix, sizeof(fe->prefix), "%s", prefix);
	fe->park_max = park_max > 0 ? park_max : 1;
	return fe;
}

void
frontend_free(struct frontend *fe)
{
	free(fe);
}

/* Returns a request made from the variables get(name, ctx) gives: the
 * CGI environment or a FastCGI request's parameters; NULL when out of
 * memory.  The variables must outlive the request. */
struct request *
request_new(var_fn get, void *ctx)
{
	struct request *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->ri.method = get("REQUEST_METHOD", ctx);
	r->ri.path_info = get("PATH_INFO", ctx);
	r->ri.request_uri = get("REQUEST_URI", ctx);
	r->ri.query_string = get("QUERY_STRING", ctx);
	r->ri.accept = get("HTTP_ACCEPT", ctx);
	r->remote = get("REMOTE_ADDR", ctx);
	request_route(&r->ri, &r->a);
	return r;
}

/* Frees the request and lets go of what it held: its settings, its
 * result, its answer. */
void
request_free(struct request *r)
{
	if (r == NULL)
		return;
	if (r->site != NULL)
		site_put(r->site, &r->view);
	result_release(r->res);
	wbuf_free(&r->out);
	free(r);
}

/* Returns the answer, once made. */
const struct wbuf *
request_output(const struct request *r)
{
	return &r->out;
}

/* Writes a whole response and counts it; HEAD gets the head of the GET
 * answer; retry > 0 adds Retry-After. */
static void
respond_retry(struct request *r, int status, enum mime m, const char *body,
    size_t len, int retry)
{
	char	 head[HEAD_MAX];
	int	 n;

	if (r->fe != NULL)
		__atomic_add_fetch(&r->fe->cnt.n[r->a.route]
		    [status_index(status)], 1, __ATOMIC_RELAXED);
	wbuf_reset(&r->out);
	if ((n = response_head_retry(head, sizeof(head), status, m, len,
	    retry)) < 0 || wbuf_add(&r->out, head, (size_t)n) == -1 ||
	    (!r->a.head && body != NULL && wbuf_add(&r->out, body, len) == -1))
		wbuf_reset(&r->out);
}

static void
respond(struct request *r, int status, enum mime m, const char *body,
    size_t len)
{
	respond_retry(r, status, m, body, len, 0);
}

/* Writes a fixed JSON error. */
static void
respond_error(struct request *r, int status, const char *body)
{
	respond(r, status, MIME_JSON, body, strlen(body));
}

/* Answers a route that needs settings while they are broken: 503 with
 * the error, which names a key or a file and line but never a value. */
static void
respond_config_error(struct request *r, const char *err)
{
	char	*body;
	size_t	 len;

	if ((body = report_error("configuration", err, &len)) == NULL)
		respond_error(r, 500, ERR_NOMEM);
	else
		respond(r, 503, MIME_JSON, body, len);
	free(body);
}

/* Answers everything that needs no health result.  Returns 1 if it
 * did. */
static int
respond_plain(struct request *r)
{
	if (r->a.route == ROUTE_HEALTH || r->a.route == ROUTE_METRICS)
		return 0;
	if (r->a.route == ROUTE_PING)
		respond(r, 200, MIME_NONE, NULL, 0);
	else
		respond_error(r, r->a.status, r->a.body);
	return 1;
}

/*
 * Writes the answer to a health or metrics request from res (NULL: none
 * could be had): Portus's document as cached, or rendered for this
 * request (one component, some left out, another format).
 */
static void
respond_result(struct request *r, struct result *res, int config_ok)
{
	static const enum mime mimes[] = { [FMT_PORTUS] = MIME_JSON,
	    [FMT_HEALTH_JSON] = MIME_HEALTH_JSON, [FMT_HTML] = MIME_HTML };
	const struct answer *a = &r->a;
	char		*body;
	size_t		 len;
	unsigned	 mask = ~a->exclude;
	int		 ok;

	if (res == NULL) {
		respond_error(r, 500, ERR_NOMEM);
		return;
	}
	if (a->route == ROUTE_METRICS) {
		if ((body = report_metrics(res, r->fe != NULL ? &r->fe->cnt :
		    NULL, config_ok, &len)) == NULL)
			respond_error(r, 500, ERR_NOMEM);
		else
			respond(r, 200, MIME_PROMETHEUS, body, len);
		free(body);
		return;
	}
	if (a->comp < 0 && a->exclude == 0 && a->format == FMT_PORTUS) {
		respond(r, res->ok ? 200 : 503, MIME_JSON, res->json,
		    res->jsonlen);
		return;
	}
	if (a->comp >= 0) {
		if (!res->comp[a->comp].present) {
			respond_error(r, 404, ERR_DISABLED);
			return;
		}
		mask = 1u << a->comp;
	}
	if ((body = report_render(res, mask, a->format, &len, &ok)) == NULL)
		respond_error(r, 500, ERR_NOMEM);
	else
		respond(r, ok ? 200 : 503, mimes[a->format], body, len);
	free(body);
}

/*
 * Returns the site for a FastCGI request: the process's own, or the one
 * for the settings the web server passed with it (PORTUS_* and the
 * prefix's variables; client headers arrive as HTTP_*, so they can never
 * name a setting).  NULL when those are too many or too long.
 */
static struct site *
request_site(struct frontend *fe, char *const *envp)
{
	char	 key[KEY_MAX];
	size_t	 n = 0, len;

	for (; *envp != NULL; envp++) {
		if (!config_is_setting(*envp, fe->prefix))
			continue;
		len = strlen(*envp);
		if (strchr(*envp, '\n') != NULL || n + len + 2 > sizeof(key))
			return NULL;
		memcpy(key + n, *envp, len);
		n += len;
		key[n++] = '\n';
	}
	if (n == 0)
		return fe->site;
	key[n] = '\0';
	return sites_get(fe->sites, key, environ);
}

/* Called with the result a parked request waited for, by the checker
 * thread (or at once): keeps it and tells the request's owner. */
static void
on_result(struct result *res, void *arg)
{
	struct request *r = arg;

	r->res = res;
	__atomic_sub_fetch(&r->fe->parked, 1, __ATOMIC_RELAXED);
	r->cb(r, r->cbarg);
}

/*
 * Serves a FastCGI request with parameters envp.  Returns 1 when it is
 * answered (request_output), 0 when it waits for a health run: cb(r,
 * arg) is then called once, from another thread, and its owner calls
 * serve_finish.
 */
int
serve_fcgi(struct request *r, struct frontend *fe, char *const *envp,
    request_cb cb, void *arg)
{
	struct result *res;

	r->fe = fe;
	if (respond_plain(r))
		return 1;
	if ((r->site = request_site(fe, envp)) == NULL) {
		respond_config_error(r, "too many distinct per-request "
		    "settings");
		return 1;
	}
	site_get(r->site, &r->view);
	request_allow(r->view.cfg, r->remote, &r->a);
	if (respond_plain(r))
		return 1;
	if (r->view.health == NULL) {
		respond_config_error(r, r->view.error);
		return 1;
	}
	/* The common case: a fresh result, answered right here. */
	if ((res = health_cached(r->view.health)) != NULL) {
		respond_result(r, res, r->view.config_ok);
		result_release(res);
		return 1;
	}
	/* Each waiting request holds a connection: never more than the
	 * descriptors allow. */
	if (__atomic_add_fetch(&fe->parked, 1, __ATOMIC_RELAXED) >
	    fe->park_max) {
		__atomic_sub_fetch(&fe->parked, 1, __ATOMIC_RELAXED);
		respond_retry(r, 503, MIME_JSON, ERR_BUSY, strlen(ERR_BUSY),
		    RETRY_AFTER);
		return 1;
	}
	r->cb = cb;
	r->cbarg = arg;
	r->parked = 1;
	if (health_request(r->view.health, on_result, r) == -1) {
		__atomic_sub_fetch(&fe->parked, 1, __ATOMIC_RELAXED);
		r->parked = 0;
		respond_retry(r, 503, MIME_JSON, ERR_BUSY, strlen(ERR_BUSY),
		    RETRY_AFTER);
		return 1;
	}
	return 0;
}

/* Makes the answer of a parked request from the result it got; called
 * by its owner after the callback. */
void
serve_finish(struct request *r)
{
	r->parked = 0;
	respond_result(r, r->res, r->view.config_ok);
}

/*
 * Gives up waiting (the responder is stopping and the run is not done):
 * answers 503.  Returns 1 when it did, 0 when the result is on its way
 * (the callback will come).
 */
int
serve_cancel(struct request *r)
{
	if (!r->parked || !health_cancel(r->view.health, r))
		return 0;
	__atomic_sub_fetch(&r->fe->parked, 1, __ATOMIC_RELAXED);
	r->parked = 0;
	respond_retry(r, 503, MIME_JSON, ERR_STOPPING, strlen(ERR_STOPPING),
	    RETRY_AFTER);
	return 1;
}

/* Answers a request whose parameters were too large to read. */
void
serve_toobig(struct request *r)
{
	respond_error(r, 431, ERR_TOOBIG);
}

/* Serves a CGI request with cfg (err: why it is broken, or NULL), at
 * once. */
void
serve_cgi(struct request *r, const struct config *cfg, const char *err)
{
	struct result *res;

	if (respond_plain(r))
		return;
	request_allow(cfg, r->remote, &r->a);
	if (respond_plain(r))
		return;
	if (err != NULL) {
		respond_config_error(r, err);
		return;
	}
	res = health_run_shared(cfg);
	respond_result(r, res, 1);
	result_release(res);
}
