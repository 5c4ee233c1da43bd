/*
 * One health run: every check starts at once and shares one deadline, so
 * a hanging dependency costs one timeout, not one per component.  Around
 * it, the shared state of the process: the cached result and the kept
 * connections, behind one lock.  Requests never run checks themselves:
 * they are queued as waiters and answered by the checker thread when its
 * run ends, so that a worker thread is never held by a dependency and the
 * dependencies see one run however many requests arrive.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"

#define WAITERS_MAX	4096

struct waiter {
	health_cb	 cb;
	void		*arg;
	struct waiter	*next;
};

struct handles {
	struct db	*db;
	struct http	*registry;
	struct http	*clair;
	struct http	*ldap;
};

struct health {
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;		/* the checker has work */
	const struct config *cfg;
	unsigned	 mask;
	struct handles	 hd;
	struct result	*cached;	/* the last finished run */
	struct waiter	*waiters;
	size_t		 nwaiters;
	int		 want;		/* a run is asked for */
	int		 running;	/* a run is in flight */
	int		 quit;
	pthread_t	 checker;
	struct compres	 last[COMP__MAX];	/* for logging changes */
};

/* One check of a run: what it needs and where it writes. */
struct task {
	const struct config *cfg;
	struct handles	*hd;
	double		 deadline;
	unsigned	 mask;
	struct compres	*comp;
	void		(*fn)(struct task *);
	int		 timed;		/* the component timed, or -1 */
};

/* Logs, once per configuration, what the checks will make of it. */
void
health_lint(const struct config *cfg)
{
	char url[1024];

	if ((health_mask(cfg) & 1u << COMP_CLAIR) &&
	    clair_health_url(cfg_str(cfg, K_CLAIR_SERVER),
	    cfg_int(cfg, K_CLAIR_HEALTH_PORT), url, sizeof(url)) ==
	    URL_ADDED_SCHEME)
		plog(PL_WARN, "security.clair.server has no scheme; "
		    "using http://");
}

/* Returns the components a run checks under cfg. */
unsigned
health_mask(const struct config *cfg)
{
	unsigned m = 1u << COMP_DATABASE | 1u << COMP_REGISTRY;

	if (*cfg_str(cfg, K_CLAIR_SERVER) != '\0')
		m |= 1u << COMP_CLAIR;
	if (cfg_int(cfg, K_LDAP_ENABLED))
		m |= 1u << COMP_LDAP;
	return m;
}

/* The database, and the registry when it comes from the registries
 * table (it needs the row first). */
static void
task_db(struct task *t)
{
	struct compres	*db = &t->comp[COMP_DATABASE];
	struct compres	*reg = &t->comp[COMP_REGISTRY];
	struct regrow	 rr;
	enum dbstate	 st;
	double		 start = mono_now();

	memset(&rr, 0, sizeof(rr));
	rr.lookup = (t->mask & 1u << COMP_REGISTRY) &&
	    *cfg_str(t->cfg, K_REG_HOSTNAME) == '\0';
	st = db_check(t->hd->db, t->cfg, t->deadline, &rr, db->reason,
	    sizeof(db->reason));
	if (t->mask & 1u << COMP_DATABASE) {
		compres_set(db, st == DB_UP, db_message(st), NULL);
		db->ms = (mono_now() - start) * 1000.0;
	}
	if (!rr.lookup)
		return;
	start = mono_now();
	if (!rr.db_ok)
		compres_set(reg, 0, "registry is not reachable",
		    "database unavailable");
	else if (!rr.found)
		compres_set(reg, 0, "no registry configured", NULL);
	else
		http_check_registry(t->hd->registry, t->cfg, rr.hostname,
		    rr.use_ssl, t->deadline, reg);
	reg->ms = (mono_now() - start) * 1000.0;
}

/* The registry named by registry.hostname. */
static void
task_registry(struct task *t)
{
	http_check_registry(t->hd->registry, t->cfg,
	    cfg_str(t->cfg, K_REG_HOSTNAME),
	    (int)cfg_int(t->cfg, K_REG_USE_SSL), t->deadline,
	    &t->comp[COMP_REGISTRY]);
}

static void
task_clair(struct task *t)
{
	http_check_clair(t->hd->clair, t->cfg, t->deadline,
	    &t->comp[COMP_CLAIR]);
}

static void
task_ldap(struct task *t)
{
	http_check_ldap(t->hd->ldap, t->cfg, t->deadline, &t->comp[COMP_LDAP]);
}

/* Runs one task and times its component (task_db times its own two). */
static void
task_run(struct task *t)
{
	double start = mono_now();

	t->fn(t);
	if (t->timed >= 0)
		t->comp[t->timed].ms = (mono_now() - start) * 1000.0;
}

static void *
task_main(void *arg)
{
	task_run(arg);
	return NULL;
}

/*
 * Runs the checks of mask concurrently with handles hd, all bound by
 * health.timeout.  Returns a result with one reference, or NULL.
 */
static struct result *
run(const struct config *cfg, struct handles *hd, unsigned mask)
{
	struct task	 tasks[COMP__MAX];
	pthread_t	 tids[COMP__MAX];
	int		 started[COMP__MAX];
	struct result	*res;
	struct timespec	 wall;
	double		 deadline;
	size_t		 n = 0, i;
	int		 c;

	if ((res = calloc(1, sizeof(*res))) == NULL)
		return NULL;
	res->refs = 1;
	deadline = mono_now() + (double)cfg_int(cfg, K_HEALTH_TIMEOUT);
	if ((mask & 1u << COMP_DATABASE) || ((mask & 1u << COMP_REGISTRY) &&
	    *cfg_str(cfg, K_REG_HOSTNAME) == '\0')) {
		tasks[n].timed = -1;
		tasks[n++].fn = task_db;
	}
	if ((mask & 1u << COMP_REGISTRY) &&
	    *cfg_str(cfg, K_REG_HOSTNAME) != '\0') {
		tasks[n].timed = COMP_REGISTRY;
		tasks[n++].fn = task_registry;
	}
	if (mask & 1u << COMP_CLAIR) {
		tasks[n].timed = COMP_CLAIR;
		tasks[n++].fn = task_clair;
	}
	if (mask & 1u << COMP_LDAP) {
		tasks[n].timed = COMP_LDAP;
		tasks[n++].fn = task_ldap;
	}
	for (i = 0; i < n; i++) {
		tasks[i].cfg = cfg;
		tasks[i].hd = hd;
		tasks[i].deadline = deadline;
		tasks[i].mask = mask;
		tasks[i].comp = res->comp;
	}
	/* All but the last in threads of their own; the last right here. */
	for (i = 0; i + 1 < n; i++)
		started[i] = pthread_create(&tids[i], NULL, task_main,
		    &tasks[i]) == 0;
	for (i = 0; i + 1 < n; i++)
		if (!started[i])
			task_run(&tasks[i]);
	if (n > 0)
		task_run(&tasks[n - 1]);
	for (i = 0; i + 1 < n; i++)
		if (started[i])
			pthread_join(tids[i], NULL);

	res->ok = 1;
	for (c = 0; c < COMP__MAX; c++)
		if (res->comp[c].present && !res->comp[c].success)
			res->ok = 0;
	res->at = mono_now();
	clock_gettime(CLOCK_REALTIME, &wall);
	res->wall = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
	if ((res->json = report_json(res->comp, 0, &res->jsonlen)) == NULL) {
		free(res);
		return NULL;
	}
	return res;
}

/* Drops one reference; the last frees the result. */
void
result_release(struct result *res)
{
	if (res == NULL)
		return;
	if (__atomic_sub_fetch(&res->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(res->json);
		free(res);
	}
}

/* Takes one more reference. */
static struct result *
result_ref(struct result *res)
{
	__atomic_add_fetch(&res->refs, 1, __ATOMIC_ACQ_REL);
	return res;
}

/* Opens the kept connection holders.  Returns 0, or -1. */
static int
handles_open(struct handles *hd)
{
	hd->db = db_new();
	hd->registry = http_new();
	hd->clair = http_new();
	hd->ldap = http_new();
	return hd->db != NULL && hd->registry != NULL && hd->clair != NULL &&
	    hd->ldap != NULL ? 0 : -1;
}

static void
handles_close(struct handles *hd)
{
	db_free(hd->db);
	http_free(hd->registry);
	http_free(hd->clair);
	http_free(hd->ldap);
	memset(hd, 0, sizeof(*hd));
}

/*
 * Runs the checks of mask once, with fresh connections and no cache (the
 * command line and CGI).  Returns a result to release, or NULL.
 */
struct result *
health_run_once(const struct config *cfg, unsigned mask)
{
	struct handles		 hd;
	struct result		*res = NULL;
	const struct compres	*cr;
	int			 c;

	if (handles_open(&hd) == 0)
		res = run(cfg, &hd, mask);
	handles_close(&hd);
	/* One process, one run: every failure is news for the log. */
	for (c = 0; res != NULL && c < COMP__MAX; c++) {
		cr = &res->comp[c];
		if (cr->present && !cr->success)
			plog(PL_WARN, "%s is down: %s%s%s%s", comp_name(c),
			    cr->msg, *cr->reason ? " (" : "", cr->reason,
			    *cr->reason ? ")" : "");
	}
	return res;
}

/* Logs the components whose state or message changed since last run. */
static void
log_changes(struct health *h, const struct result *res)
{
	const struct compres	*now;
	struct compres		*was;
	int			 c;

	for (c = 0; c < COMP__MAX; c++) {
		now = &res->comp[c];
		was = &h->last[c];
		if (!now->present || (was->present &&
		    was->success == now->success &&
		    strcmp(was->msg, now->msg) == 0))
			continue;
		if (now->success)
			plog(PL_INFO, "%s is up: %s", comp_name(c), now->msg);
		else
			plog(PL_WARN, "%s is down: %s%s%s%s", comp_name(c),
			    now->msg, *now->reason ? " (" : "", now->reason,
			    *now->reason ? ")" : "");
		*was = *now;
	}
}

/* The checker thread: one run whenever one is asked for; each run's
 * result goes to every waiter queued before it ended. */
static void *
checker_main(void *arg)
{
	struct health	*h = arg;
	struct waiter	*w, *wnext;
	struct result	*res;
	struct timespec	 next;
	long		 interval = cfg_int(h->cfg, K_HEALTH_INTERVAL);

	/* Background mode runs at once, then every health.interval. */
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&h->lock);
	if (interval > 0)
		h->want = 1;
	for (;;) {
		while (!h->want && !h->quit) {
			if (interval == 0)
				pthread_cond_wait(&h->wake, &h->lock);
			else if (pthread_cond_timedwait(&h->wake, &h->lock,
			    &next) == ETIMEDOUT)
				h->want = 1;
		}
		/* Requests still waiting get their answer before we quit. */
		if (!h->want)
			break;
		if (interval > 0) {
			clock_gettime(CLOCK_MONOTONIC, &next);
			next.tv_sec += interval;
		}
		h->want = 0;
		h->running = 1;
		pthread_mutex_unlock(&h->lock);

		res = run(h->cfg, &h->hd, h->mask);
		if (res != NULL)
			log_changes(h, res);

		pthread_mutex_lock(&h->lock);
		if (res != NULL) {
			result_release(h->cached);
			h->cached = res;
		}
		res = h->cached != NULL ? result_ref(h->cached) : NULL;
		w = h->waiters;
		h->waiters = NULL;
		h->nwaiters = 0;
		h->running = 0;
		pthread_mutex_unlock(&h->lock);

		for (; w != NULL; w = wnext) {
			wnext = w->next;
			w->cb(res != NULL ? result_ref(res) : NULL, w->arg);
			free(w);
		}
		result_release(res);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Returns the shared health state for cfg (which must outlive it), with
 * its checker thread running; NULL on failure. */
struct health *
health_new(const struct config *cfg)
{
	struct health		*h;
	pthread_condattr_t	 ca;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->cfg = cfg;
	h->mask = health_mask(cfg);
	if (handles_open(&h->hd) == -1)
		goto fail;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&h->checker, NULL, checker_main, h) != 0) {
		pthread_cond_destroy(&h->wake);
		pthread_mutex_destroy(&h->lock);
		goto fail;
	}
	return h;
fail:
	handles_close(&h->hd);
	free(h);
	return NULL;
}

/* Returns the configuration h checks with. */
const struct config *
health_config(const struct health *h)
{
	return h->cfg;
}

/* Stops the checker after its run and frees everything. */
void
health_free(struct health *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->quit = 1;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->checker, NULL);
	result_release(h->cached);
	handles_close(&h->hd);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Returns a reference to the cached result when it may be served (younger
 * than health.cache_ttl, or any in background mode), else NULL. */
struct result *
health_cached(struct health *h)
{
	struct result	*res = NULL;
	long		 ttl = cfg_int(h->cfg, K_HEALTH_CACHE_TTL);
	int		 background = cfg_int(h->cfg, K_HEALTH_INTERVAL) > 0;

	pthread_mutex_lock(&h->lock);
	if (h->cached != NULL && (background || (ttl > 0 &&
	    mono_now() - h->cached->at < (double)ttl)))
		res = result_ref(h->cached);
	pthread_mutex_unlock(&h->lock);
	return res;
}

/*
 * Asks for a result: cb(result, arg) is called right away with a cached
 * one younger than health.cache_ttl, or by the checker thread when the
 * run in flight (or a new one) ends.  cb owns the reference it is given
 * (NULL when out of memory).  Returns 0, or -1 when too many requests
 * wait already (cb is not called).
 */
int
health_request(struct health *h, health_cb cb, void *arg)
{
	struct waiter	*w;
	struct result	*res;

	if ((res = health_cached(h)) != NULL) {
		cb(res, arg);
		return 0;
	}
	pthread_mutex_lock(&h->lock);
	if (h->nwaiters >= WAITERS_MAX || (w = malloc(sizeof(*w))) == NULL) {
		pthread_mutex_unlock(&h->lock);
		return -1;
	}
	w->cb = cb;
	w->arg = arg;
	w->next = h->waiters;
	h->waiters = w;
	h->nwaiters++;
	/* A run in flight answers every waiter queued before it ends. */
	if (!h->running) {
		h->want = 1;
		pthread_cond_signal(&h->wake);
	}
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/*
 * Settings passed per request by the web server (nginx fastcgi_param,
 * Apache SetEnv under mod_fcgid) win over the process environment.  Each
 * distinct set is parsed once and gets a health state of its own (its own
 * cache and connections); a set that fails to parse is remembered too, so
 * its error is logged once.
 */
#define SITES_MAX	64

struct site {
	char		*key;		/* the PORTUS_* parameters, one a line */
	struct config	 cfg;
	struct health	*health;	/* NULL: the settings are broken */
};

struct sites {
	pthread_mutex_t	 lock;
	struct site	 site[SITES_MAX];
	size_t		 n;
};

/* Returns an empty registry, or NULL. */
struct sites *
sites_new(void)
{
	struct sites *ss;

	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	pthread_mutex_init(&ss->lock, NULL);
	return ss;
}

/* Stops every health state and frees the registry. */
void
sites_free(struct sites *ss)
{
	size_t i;

	if (ss == NULL)
		return;
	for (i = 0; i < ss->n; i++) {
		health_free(ss->site[i].health);
		if (ss->site[i].health != NULL)
			config_free(&ss->site[i].cfg);
		free(ss->site[i].key);
	}
	pthread_mutex_destroy(&ss->lock);
	free(ss);
}

/* Loads the configuration of site s: its parameters first, so that they
 * win, then the process environment.  Returns a status. */
static enum cstatus
site_load(struct site *s, char *const *environ_, char *err, size_t errsz)
{
	char		**envp, *copy, *p;
	size_t		 n = 0, i;
	enum cstatus	 st = CONF_ERR_NOMEM;

	for (i = 0; environ_[i] != NULL; i++)
		continue;
	for (p = s->key; *p != '\0'; p++)
		n += *p == '\n';
	if ((copy = strdup(s->key)) == NULL)
		goto out_nocopy;
	if ((envp = calloc(n + i + 1, sizeof(*envp))) == NULL)
		goto out;
	/* Each line of the key, ended by a newline, is one KEY=VALUE. */
	n = 0;
	for (p = copy; *p != '\0'; ) {
		envp[n++] = p;
		p += strcspn(p, "\n");
		if (*p == '\n')
			*p++ = '\0';
	}
	for (i = 0; environ_[i] != NULL; i++)
		envp[n++] = environ_[i];
	st = config_load(&s->cfg, envp, err, errsz);
	free(envp);
out:
	free(copy);
out_nocopy:
	if (st == CONF_ERR_NOMEM)
		snprintf(err, errsz, "out of memory");
	return st;
}

/*
 * Returns the health state for the per-request settings key (PORTUS_*
 * parameters, each followed by a newline), made on first use over the
 * process environment environ_; NULL when those settings are broken or
 * too many sets were seen (logged once).
 */
struct health *
sites_get(struct sites *ss, const char *key, char *const *environ_)
{
	struct site	*s;
	struct health	*h = NULL;
	char		 err[512];
	size_t		 i;

	pthread_mutex_lock(&ss->lock);
	for (i = 0; i < ss->n; i++)
		if (strcmp(ss->site[i].key, key) == 0) {
			h = ss->site[i].health;
			goto out;
		}
	if (ss->n == SITES_MAX) {
		plog(PL_ERROR, "more than %d distinct sets of per-request "
		    "settings; refusing the new one", SITES_MAX);
		goto out;
	}
	s = &ss->site[ss->n];
	if ((s->key = strdup(key)) == NULL)
		goto out;
	ss->n++;
	if (site_load(s, environ_, err, sizeof(err)) != CONF_OK) {
		plog(PL_ERROR, "per-request settings: %s", err);
		goto out;
	}
	health_lint(&s->cfg);
	if ((h = s->health = health_new(&s->cfg)) == NULL) {
		plog(PL_ERROR, "per-request settings: cannot start a health "
		    "state");
		config_free(&s->cfg);
	}
out:
	pthread_mutex_unlock(&ss->lock);
	return h;
}
