/*
 * The three modes of the one binary: a FastCGI responder with worker
 * threads (standard input is a listening socket, or --listen), a CGI
 * program (REQUEST_METHOD set), and the command line (--check).  All
 * libfcgi calls live here.
 */
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "extern.h"

#define EXIT_USAGE	2
#define HEAD_MAX	512
#define BACKLOG		128

#define ERR_BUSY	"{\"error\":\"too many requests waiting\"}"
#define ERR_NOMEM	"{\"error\":\"out of memory\"}"
#define ERR_DISABLED	"{\"error\":\"component not enabled\"}"

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
/*
 * Sanitizer builds (make SANITIZE=1) only: reports go to files that the
 * test runner collects, also from processes a web server starts with an
 * environment of its own.  Never in a normal build.
 */
const char	*__asan_default_options(void);
const char	*__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "log_path=/tmp/portus-health-san/asan:detect_leaks=1";
}

const char *
__ubsan_default_options(void)
{
	return "log_path=/tmp/portus-health-san/ubsan:print_stacktrace=1";
}
#endif

/* Where a response goes: a FastCGI stream or standard output; and the
 * counters it is counted in (FastCGI only). */
struct sink {
	FCGX_Stream	*fs;
	FILE		*fp;
	struct counters	*cnt;
	int		 config_ok;	/* for /_metrics */
};

struct server {
	int		 fd;		/* the listening socket */
	struct site	*site;		/* the process's own settings */
	struct sites	*sites;		/* for settings passed per request */
	const char	*prefix;	/* CCONFIG_PREFIX of the process */
	struct counters	 cnt;		/* requests answered */
	long		 max_requests;	/* 0: no limit */
	long		 served;	/* atomic */
	int		 stopping;	/* atomic */
};

/* A worker thread and whether it still runs. */
struct worker {
	pthread_t	 tid;
	struct server	*srv;
	int		 running;	/* atomic */
};

/* A FastCGI request waiting for the health run in flight. */
struct parked {
	FCGX_Request	*req;
	struct answer	 a;
	struct counters	*cnt;
	struct site	*site;
	struct siteview	 view;		/* held until answered */
};

static void
sink_write(struct sink *s, const char *buf, size_t len)
{
	if (s->fs != NULL)
		FCGX_PutStr(buf, (int)len, s->fs);
	else
		fwrite(buf, 1, len, s->fp);
}

/* Writes a whole response to the request a and counts it; HEAD gets the
 * head of the GET answer. */
static void
respond(struct sink *s, const struct answer *a, int status, enum mime m,
    const char *body, size_t len)
{
	char	 buf[HEAD_MAX];
	int	 n;

	if (s->cnt != NULL)
		__atomic_add_fetch(&s->cnt->n[a->route][status_index(status)],
		    1, __ATOMIC_RELAXED);
	if ((n = response_head(buf, sizeof(buf), status, m, len)) < 0)
		return;
	sink_write(s, buf, (size_t)n);
	if (!a->head && body != NULL)
		sink_write(s, body, len);
}

/* Writes a fixed JSON error. */
static void
respond_error(struct sink *s, const struct answer *a, int status,
    const char *body)
{
	respond(s, a, status, MIME_JSON, body, strlen(body));
}

/*
 * Writes the answer to a health or metrics request from res (NULL: none
 * could be had): Portus's document as cached, or rendered for this
 * request (one component, some left out, another format).
 */
static void
respond_result(struct sink *s, const struct answer *a, struct result *res)
{
	static const enum mime mimes[] = { [FMT_PORTUS] = MIME_JSON,
	    [FMT_HEALTH_JSON] = MIME_HEALTH_JSON, [FMT_HTML] = MIME_HTML };
	char		*body;
	size_t		 len;
	unsigned	 mask = ~a->exclude;
	int		 ok;

	if (res == NULL) {
		respond_error(s, a, 500, ERR_NOMEM);
		return;
	}
	if (a->route == ROUTE_METRICS) {
		if ((body = report_metrics(res, s->cnt, s->config_ok, &len)) ==
		    NULL)
			respond_error(s, a, 500, ERR_NOMEM);
		else
			respond(s, a, 200, MIME_PROMETHEUS, body, len);
		free(body);
		return;
	}
	if (a->comp < 0 && a->exclude == 0 && a->format == FMT_PORTUS) {
		respond(s, a, res->ok ? 200 : 503, MIME_JSON, res->json,
		    res->jsonlen);
		return;
	}
	if (a->comp >= 0) {
		if (!res->comp[a->comp].present) {
			respond_error(s, a, 404, ERR_DISABLED);
			return;
		}
		mask = 1u << a->comp;
	}
	if ((body = report_render(res, mask, a->format, &len, &ok)) == NULL)
		respond_error(s, a, 500, ERR_NOMEM);
	else
		respond(s, a, ok ? 200 : 503, mimes[a->format], body, len);
	free(body);
}

/* Answers a route that needs settings while they are broken: 503 with
 * the error, which names a key or a file and line but never a value. */
static void
respond_config_error(struct sink *s, const struct answer *a, const char *err)
{
	char	*body;
	size_t	 len;

	if ((body = report_error("configuration", err, &len)) == NULL)
		respond_error(s, a, 500, ERR_NOMEM);
	else
		respond(s, a, 503, MIME_JSON, body, len);
	free(body);
}

/* Answers everything that needs no health result.  Returns 1 if it
 * did. */
static int
respond_plain(struct sink *s, const struct answer *a)
{
	if (a->route == ROUTE_HEALTH || a->route == ROUTE_METRICS)
		return 0;
	if (a->route == ROUTE_PING)
		respond(s, a, 200, MIME_NONE, NULL, 0);
	else
		respond_error(s, a, a->status, a->body);
	return 1;
}

/* Finishes a FastCGI request and frees it. */
static void
request_done(FCGX_Request *req)
{
	FCGX_Finish_r(req);
	free(req);
}

/* Called with the result of the run a parked request waited for. */
static void
on_result(struct result *res, void *arg)
{
	struct parked	*p = arg;
	struct sink	 s = { p->req->out, NULL, p->cnt, p->view.config_ok };

	respond_result(&s, &p->a, res);
	result_release(res);
	request_done(p->req);
	site_put(p->site, &p->view);
	free(p);
}

/*
 * Returns the site for a request: the process's own, or the one for the
 * settings the web server passed with it (PORTUS_* and the prefix's
 * variables; client headers arrive as HTTP_*, so they can never name a
 * setting).  NULL when those are too many or too long.
 */
static struct site *
fcgi_site(struct server *srv, FCGX_Request *req)
{
	char		 key[8192];
	size_t		 n = 0, len;
	char		**e;

	for (e = req->envp; *e != NULL; e++) {
		if (!config_is_setting(*e, srv->prefix))
			continue;
		len = strlen(*e);
		if (strchr(*e, '\n') != NULL || n + len + 2 > sizeof(key))
			return NULL;
		memcpy(key + n, *e, len);
		n += len;
		key[n++] = '\n';
	}
	if (n == 0)
		return srv->site;
	key[n] = '\0';
	return sites_get(srv->sites, key, environ);
}

/*
 * Serves one accepted FastCGI request.  Returns 1 if the request was
 * handed to the health state (the worker must not touch it again).
 */
static int
fcgi_serve(struct server *srv, FCGX_Request *req)
{
	struct reqinfo	 ri;
	struct answer	 a;
	struct sink	 s = { req->out, NULL, &srv->cnt, 1 };
	struct parked	*p;
	struct site	*site;
	struct siteview	 v;
	struct result	*res;

	ri.method = FCGX_GetParam("REQUEST_METHOD", req->envp);
	ri.path_info = FCGX_GetParam("PATH_INFO", req->envp);
	ri.request_uri = FCGX_GetParam("REQUEST_URI", req->envp);
	ri.query_string = FCGX_GetParam("QUERY_STRING", req->envp);
	ri.accept = FCGX_GetParam("HTTP_ACCEPT", req->envp);
	request_route(&ri, &a);
	if (respond_plain(&s, &a))
		return 0;
	if ((site = fcgi_site(srv, req)) == NULL) {
		respond_config_error(&s, &a, "too many distinct per-request "
		    "settings");
		return 0;
	}
	site_get(site, &v);
	request_allow(v.cfg, FCGX_GetParam("REMOTE_ADDR", req->envp), &a);
	s.config_ok = v.config_ok;
	if (respond_plain(&s, &a))
		goto out;
	if (v.health == NULL) {
		respond_config_error(&s, &a, v.error);
		goto out;
	}
	/* The common case: a fresh result, answered by this worker. */
	if ((res = health_cached(v.health)) != NULL) {
		respond_result(&s, &a, res);
		result_release(res);
		goto out;
	}
	if ((p = malloc(sizeof(*p))) == NULL) {
		respond_error(&s, &a, 500, ERR_NOMEM);
		goto out;
	}
	p->req = req;
	p->a = a;
	p->cnt = &srv->cnt;
	p->site = site;
	p->view = v;
	if (health_request(v.health, on_result, p) == -1) {
		free(p);
		respond_error(&s, &a, 503, ERR_BUSY);
		goto out;
	}
	return 1;
out:
	site_put(site, &v);
	return 0;
}

/* A worker thread: accept, serve, and again, until told to stop. */
static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct server	*srv = w->srv;
	FCGX_Request	*req = NULL;
	int		 r;

	while (!__atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE)) {
		if (req == NULL) {
			/* Accept fails on EINTR: that is how we are stopped. */
			if ((req = malloc(sizeof(*req))) == NULL ||
			    FCGX_InitRequest(req, srv->fd,
			    FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
				plog(PL_ERROR, "cannot set up a request");
				break;
			}
		}
		if ((r = FCGX_Accept_r(req)) < 0) {
			if (r == -EINTR)
				continue;
			/* Not a socket we can accept on: nothing to serve. */
			plog(PL_ERROR, "accept: %s", strerror(-r));
			kill(getpid(), SIGTERM);
			break;
		}
		if (fcgi_serve(srv, req))
			req = NULL;	/* now owned by the health state */
		else
			FCGX_Finish_r(req);
		if (srv->max_requests > 0 && __atomic_add_fetch(&srv->served,
		    1, __ATOMIC_ACQ_REL) == srv->max_requests) {
			plog(PL_INFO, "served health.max_requests (%ld) "
			    "requests; recycling", srv->max_requests);
			kill(getpid(), SIGTERM);
		}
	}
	if (req != NULL) {
		FCGX_Free(req, 1);
		free(req);
	}
	__atomic_store_n(&w->running, 0, __ATOMIC_RELEASE);
	return NULL;
}

/* SIGUSR2 only interrupts a worker's accept(2). */
static void
on_wake(int sig)
{
	(void)sig;
}

/* Returns 1 if fd is a listening socket (spawn-fcgi, mod_fcgid,
 * systemd socket activation hand one on standard input). */
static int
is_listener(int fd)
{
	int		 v = 0;
	socklen_t	 len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 &&
	    v != 0;
}

/*
 * Waits for SIGTERM or SIGINT (mod_fcgid and systemd stop us so, and a
 * worker at health.max_requests raises it); SIGHUP meanwhile has every
 * configuration read again.  Then stops the workers: each
 * finishes the request in hand; one still blocked in accept(2) is woken
 * by SIGUSR2, again until it has gone.  The listening socket itself is
 * left alone: systemd may hand it to our successor.
 */
static void
wait_and_stop(struct server *srv, struct worker *ws, long n,
    const sigset_t *stopset)
{
	struct timespec	 ts = { 0, 50 * 1000 * 1000 };
	long		 i, alive;
	int		 sig;

	for (;;) {
		if (sigwait(stopset, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		plog(PL_INFO, "SIGHUP: reading the configuration again");
		site_reload_all();
		site_poll(srv->site);
		sites_poll(srv->sites);
	}
	plog(PL_INFO, "stopping (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
	__atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE);
	FCGX_ShutdownPending();
	do {
		for (i = 0, alive = 0; i < n; i++)
			if (__atomic_load_n(&ws[i].running, __ATOMIC_ACQUIRE)) {
				pthread_kill(ws[i].tid, SIGUSR2);
				alive++;
			}
		if (alive > 0)
			nanosleep(&ts, NULL);
	} while (alive > 0);
}

/* Serves FastCGI on fd with health.workers threads (of the process's
 * own settings, or their default when those are broken).  Returns an
 * exit status. */
static int
fcgi_main(int fd)
{
	struct server	 srv;
	struct worker	*ws = NULL;
	struct sigaction sa;
	struct siteview	 v;
	sigset_t	 stopset;
	long		 i, n, started = 0;
	int		 rc = EXIT_FAILURE;

	/* Every thread inherits the mask: only sigwait sees these. */
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stopset, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_wake;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);

	memset(&srv, 0, sizeof(srv));
	srv.fd = fd;
	if (FCGX_Init() != 0) {
		plog(PL_ERROR, "cannot initialise libfcgi");
		return EXIT_FAILURE;
	}
	if ((srv.site = site_new(NULL, environ)) == NULL ||
	    (srv.sites = sites_new()) == NULL) {
		plog(PL_ERROR, "cannot start: out of memory");
		goto out;
	}
	site_get(srv.site, &v);
	srv.prefix = v.cfg->prefix;
	srv.max_requests = cfg_int(v.cfg, K_HEALTH_MAX_REQUESTS);
	n = cfg_int(v.cfg, K_HEALTH_WORKERS);
	site_put(srv.site, &v);
	if ((ws = calloc((size_t)n, sizeof(*ws))) == NULL) {
		plog(PL_ERROR, "cannot start: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ws[i].srv = &srv;
		ws[i].running = 1;
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
			plog(PL_ERROR, "cannot start worker %ld: %s", i,
			    strerror(errno));
			ws[i].running = 0;
			break;
		}
		started++;
	}
	if (started > 0) {
		plog(PL_INFO, "FastCGI responder %s ready, %ld workers",
		    PH_VERSION, started);
		wait_and_stop(&srv, ws, started, &stopset);
		rc = EXIT_SUCCESS;
	}
	for (i = 0; i < started; i++)
		pthread_join(ws[i].tid, NULL);
out:
	free(ws);
	sites_free(srv.sites);
	site_free(srv.site);
	return rc;
}

/* Serves one CGI request from the environment, with cfg (err: why it is
 * broken, or NULL).  Returns an exit status. */
static int
cgi_main(const struct config *cfg, const char *err)
{
	struct reqinfo	 ri;
	struct answer	 a;
	struct sink	 s = { NULL, stdout, NULL, err == NULL };
	struct result	*res;

	ri.method = getenv("REQUEST_METHOD");
	ri.path_info = getenv("PATH_INFO");
	ri.request_uri = getenv("REQUEST_URI");
	ri.query_string = getenv("QUERY_STRING");
	ri.accept = getenv("HTTP_ACCEPT");
	request_route(&ri, &a);
	if (!respond_plain(&s, &a)) {
		request_allow(cfg, getenv("REMOTE_ADDR"), &a);
		if (respond_plain(&s, &a))
			;
		else if (err != NULL)
			respond_config_error(&s, &a, err);
		else {
			res = health_run_once(cfg, comp_enabled(cfg));
			respond_result(&s, &a, res);
			result_release(res);
		}
	}
	return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Returns 1 if a PORTUS_HEALTH_QUIET value means yes (t, y, 1...). */
static int
env_yes(const char *v)
{
	return v != NULL && strchr("tTyY1", v[0]) != NULL && v[0] != '\0';
}

/*
 * The command-line check: the components named (or every enabled one),
 * the document printed pretty.  Returns 0 when all succeed, 1 when not,
 * EXIT_USAGE for a name that is not a component.
 */
static int
check_main(const struct config *cfg, unsigned mask, int quiet)
{
	struct result	*res;
	char		*json;
	size_t		 len;
	unsigned	 enabled = comp_enabled(cfg);
	int		 c, rc;

	if (mask == 0)
		mask = enabled;
	for (c = 0; c < COMP__MAX; c++)
		if ((mask & 1u << c) && !(enabled & 1u << c)) {
			fprintf(stderr, "%s: component %s is not enabled "
			    "(%s)\n", PH_NAME, comp_name(c),
			    components[c].disabled(cfg));
			return EXIT_FAILURE;
		}
	if ((res = health_run_once(cfg, mask)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", PH_NAME);
		return EXIT_FAILURE;
	}
	rc = res->ok ? EXIT_SUCCESS : EXIT_FAILURE;
	if (!quiet) {
		if ((json = report_json(res->comp, 1, &len)) == NULL)
			rc = EXIT_FAILURE;
		else {
			printf("%s\n", json);
			free(json);
		}
	}
	result_release(res);
	return rc;
}

/* Prints the database's state as Portus's bin/check_db.rb does.  Returns
 * 0 for DB_READY, 1 otherwise. */
static int
check_db_main(const struct config *cfg)
{
	enum dbstate	 st;
	char		 reason[256];
	void		*db;

	if ((db = db_open()) == NULL) {
		fprintf(stderr, "%s: out of memory\n", PH_NAME);
		return EXIT_FAILURE;
	}
	st = db_check(db, cfg, mono_now() + (double)cfg_int(cfg,
	    K_HEALTH_TIMEOUT), NULL, reason, sizeof(reason));
	db_close(db);
	if (st != DB_UP)
		plog(PL_WARN, "database: %s (%s)", db_message(st), reason);
	printf("%s\n", db_check_word(st));
	return st == DB_UP ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Adds the component called name to *mask.  Returns 0, or -1. */
static int
add_component(unsigned *mask, const char *name)
{
	int c;

	if ((c = comp_from_name(name)) < 0) {
		fprintf(stderr, "%s: unknown component \"%s\" (database, "
		    "registry, clair, ldap)\n", PH_NAME, name);
		return -1;
	}
	*mask |= 1u << c;
	return 0;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s                      FastCGI (socket on stdin) or CGI\n"
	    "       %s --listen ADDR        FastCGI on unix:/path or HOST:PORT\n"
	    "       %s --check [-q] [-c NAME]...\n"
	    "       %s --check-db | --print-config | --help | --version\n",
	    PH_NAME, PH_NAME, PH_NAME, PH_NAME);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'C' },
		{ "check-db", no_argument, NULL, 'D' },
		{ "component", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "listen", required_argument, NULL, 'l' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct config	 cfg;
	char		 err[512], name[48];
	const char	*listen = NULL, *v;
	unsigned	 mask = 0, fromargs;
	int		 ch, check = 0, checkdb = 0, printcfg = 0, quiet = 0;
	int		 rc, fd, i, cmdline;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "c:hq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			check = 1;
			break;
		case 'D':
			checkdb = 1;
			break;
		case 'c':
			if (add_component(&mask, optarg) == -1)
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'l':
			listen = optarg;
			break;
		case 'p':
			printcfg = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'V':
			printf("%s %s\n", PH_NAME, PH_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	fromargs = mask;
	cmdline = check + checkdb + printcfg;
	if (optind != argc || cmdline > 1 || (cmdline && listen != NULL) ||
	    ((mask || quiet) && !check)) {
		usage(stderr);
		return EXIT_USAGE;
	}

	fd = listen != NULL ? -1 : (is_listener(STDIN_FILENO) ? 0 : -1);
	if (!cmdline && listen == NULL && fd == -1 &&
	    getenv("REQUEST_METHOD") == NULL) {
		fprintf(stderr, "%s: not started by a web server: no "
		    "REQUEST_METHOD and standard input is not a socket\n",
		    PH_NAME);
		usage(stderr);
		return EXIT_USAGE;
	}
	/* A FastCGI responder reads (and reads again) its own. */
	if (listen != NULL || fd == 0) {
		if (listen != NULL &&
		    (fd = FCGX_OpenSocket(strncmp(listen, "unix:", 5) == 0 ?
		    listen + 5 : listen, BACKLOG)) < 0) {
			plog(PL_ERROR, "cannot listen on %s", listen);
			return EXIT_FAILURE;
		}
		rc = fcgi_main(fd);
		http_global_free();
		return rc;
	}
	if (config_load(&cfg, environ, err, sizeof(err)) != CONF_OK) {
		plog(PL_ERROR, "configuration: %s", err);
		/* /_ping stays up; every other route says why. */
		rc = cmdline ? EXIT_USAGE : cgi_main(&cfg, err);
		goto out;
	}
	health_lint(&cfg);
	if (printcfg) {
		config_print(&cfg, stdout);
		rc = EXIT_SUCCESS;
	} else if (checkdb) {
		rc = check_db_main(&cfg);
	} else if (check) {
		quiet |= env_yes(getenv("PORTUS_HEALTH_QUIET"));
		/* -c on the command line wins over the environment. */
		for (i = 1; i <= 5 && fromargs == 0; i++) {
			snprintf(name, sizeof(name),
			    "PORTUS_HEALTH_COMPONENT_%d", i);
			if ((v = getenv(name)) != NULL && *v != '\0' &&
			    add_component(&mask, v) == -1) {
				rc = EXIT_USAGE;
				goto out;
			}
		}
		if (quiet)
			plog_set_level(PL_ERROR);
		rc = check_main(&cfg, mask, quiet);
	} else
		rc = cgi_main(&cfg, NULL);
out:
	http_global_free();
	config_free(&cfg);
	return rc;
}
