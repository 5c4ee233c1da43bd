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

/* The kept handle of each component (a connection kept across runs). */
struct handles {
	void		*h[COMP__MAX];
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
	struct shared	*sh;		/* the result other processes share */
};

/* One thread of a run: a component and those that must run after it. */
struct task {
	struct probe	 p[COMP__MAX];
	int		 order[COMP__MAX];
	int		 n;
};

/* Logs, once per configuration, what the checks will make of it. */
void
health_lint(const struct config *cfg)
{
	char url[1024];

	if ((comp_enabled(cfg) & 1u << COMP_CLAIR) &&
	    clair_health_url(cfg_str(cfg, K_CLAIR_SERVER),
	    cfg_int(cfg, K_CLAIR_HEALTH_PORT), url, sizeof(url)) ==
	    URL_ADDED_SCHEME)
		plog(PL_WARN, "security.clair.server has no scheme; "
		    "using http://");
	if ((comp_enabled(cfg) & 1u << COMP_LDAP) &&
	    ldap_method(cfg_str(cfg, K_LDAP_METHOD)) < 0)
		plog(PL_WARN, "ldap.encryption.method is none of start_tls, "
		    "simple_tls or empty; no encryption is used, as Portus "
		    "does");
	if (db_driver(cfg) == NULL)
		plog(PL_WARN, "PORTUS_DB_ADAPTER is neither mysql2 nor "
		    "postgresql: the database is an unknown error, as in "
		    "Portus");
}

/* Runs the checks of one thread, one after the other, each timed. */
static void
task_run(struct task *t)
{
	double	 start;
	int	 i;

	for (i = 0; i < t->n; i++) {
		start = mono_now();
		components[t->order[i]].check(&t->p[i]);
		t->p[i].res->ms = (mono_now() - start) * 1000.0;
	}
}

static void *
task_main(void *arg)
{
	task_run(arg);
	return NULL;
}

/*
 * Runs the checks of mask concurrently with handles hd, all bound by
 * health.timeout; a component that must run after another (the registry
 * after the database that names it) runs in that one's thread, and that
 * one runs even when mask leaves it out.  Returns a result with one
 * reference, or NULL.
 */
static struct result *
run(const struct config *cfg, struct handles *hd, unsigned mask)
{
	struct task	 tasks[COMP__MAX];
	struct compres	 scratch[COMP__MAX];
	pthread_t	 tids[COMP__MAX];
	int		 started[COMP__MAX], after[COMP__MAX];
	struct regrow	 row;
	struct result	*res;
	struct probe	*p;
	unsigned	 torun = mask;
	double		 deadline;
	int		 n = 0, i, c, d;

	if ((res = calloc(1, sizeof(*res))) == NULL)
		return NULL;
	res->refs = 1;
	memset(&row, 0, sizeof(row));
	memset(scratch, 0, sizeof(scratch));
	deadline = mono_now() + (double)cfg_int(cfg, K_HEALTH_TIMEOUT);
	for (c = 0; c < COMP__MAX; c++) {
		after[c] = components[c].after != NULL ?
		    components[c].after(cfg) : -1;
		if ((mask & 1u << c) && after[c] >= 0)
			torun |= 1u << after[c];
	}
	/* One thread per component that follows none, then its
	 * followers. */
	for (c = 0; c < COMP__MAX; c++) {
		if (!(torun & 1u << c) || after[c] >= 0)
			continue;
		tasks[n].n = 0;
		tasks[n].order[tasks[n].n++] = c;
		for (d = 0; d < COMP__MAX; d++)
			if ((torun & 1u << d) && after[d] == c)
				tasks[n].order[tasks[n].n++] = d;
		for (i = 0; i < tasks[n].n; i++) {
			d = tasks[n].order[i];
			p = &tasks[n].p[i];
			p->cfg = cfg;
			p->handle = hd->h[d];
			p->deadline = deadline;
			/* What mask leaves out is run but not shown. */
			p->res = (mask & 1u << d) ? &res->comp[d] : &scratch[d];
			p->row = &row;
			p->want_row = i + 1 < tasks[n].n;
		}
		n++;
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

	res->optional = cfg->optional;
	res->ok = comp_ok(res->comp, ~0u, res->optional);
	res->at = mono_now();
	res->wall = wall_now();
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

/* Opens the kept handle of every component.  Returns 0, or -1. */
static int
handles_open(struct handles *hd)
{
	int c, rc = 0;

	for (c = 0; c < COMP__MAX; c++)
		if ((hd->h[c] = components[c].open()) == NULL)
			rc = -1;
	return rc;
}

static void
handles_close(struct handles *hd)
{
	int c;

	for (c = 0; c < COMP__MAX; c++)
		if (hd->h[c] != NULL)
			components[c].close(hd->h[c]);
	memset(hd, 0, sizeof(*hd));
}

/* Returns how long a shared result may be used: health.interval in
 * background mode, else health.cache_ttl (0: not shared). */
static long
share_ttl(const struct config *cfg)
{
	long interval = cfg_int(cfg, K_HEALTH_INTERVAL);

	return interval > 0 ? interval : cfg_int(cfg, K_HEALTH_CACHE_TTL);
}

/*
 * Continues the history of prev (NULL: none) with the result res: one
 * mark per component it checked, the oldest dropped past HISTORY_MAX,
 * and since when the present state holds.
 */
void
history_add(struct result *res, const struct result *prev)
{
	const struct chist	*ph;
	struct chist		*h;
	int			 c;

	for (c = 0; c < COMP__MAX; c++) {
		h = &res->hist[c];
		if (prev != NULL && prev->hist[c].n > 0)
			*h = prev->hist[c];
		else
			memset(h, 0, sizeof(*h));
		if (!res->comp[c].present)
			continue;
		ph = h;
		if (ph->n == 0 || ph->m[ph->n - 1].ok != res->comp[c].success)
			h->since = res->wall;
		if (h->n == HISTORY_MAX) {
			memmove(h->m, h->m + 1, (HISTORY_MAX - 1) *
			    sizeof(h->m[0]));
			h->n--;
		}
		h->m[h->n].wall = res->wall;
		h->m[h->n].ms = (float)res->comp[c].ms;
		h->m[h->n].ok = (unsigned char)res->comp[c].success;
		h->n++;
	}
}

/*
 * Returns a result for cfg's components: the one the processes of this
 * configuration share when it is fresh, else one this process checks
 * while the others wait for it (sh NULL: not shared).  With others, a
 * result of this process's own is not used (the checker thread has it
 * already, and its run is due).  A result this process checks continues
 * the history of the shared one, or of prev.  *ran says whether this
 * process checked.  One reference, or NULL.
 */
static struct result *
run_shared(const struct config *cfg, struct handles *hd, unsigned mask,
    struct shared *sh, int others, const struct result *prev, int *ran)
{
	struct result	*res, *last = NULL;
	long		 ttl = share_ttl(cfg);
	int		 lk = 0, fresh;

	*ran = 0;
	if (sh != NULL) {
		if ((res = shared_read(sh, ttl, others, &fresh)) != NULL &&
		    fresh)
			return res;
		result_release(res);
		/* The one holding the lock checks within health.timeout. */
		lk = shared_lock(sh, mono_now() +
		    (double)cfg_int(cfg, K_HEALTH_TIMEOUT) + 1.0);
		if (lk == 1 && (last = shared_read(sh, ttl, others, &fresh)) !=
		    NULL && fresh) {
			shared_unlock(sh);
			return last;
		}
	}
	*ran = 1;
	if ((res = run(cfg, hd, mask)) != NULL)
		history_add(res, last != NULL && (prev == NULL ||
		    last->wall > prev->wall) ? last : prev);
	result_release(last);
	if (lk == 1) {
		if (res != NULL)
			shared_write(sh, res);
		shared_unlock(sh);
	}
	return res;
}

/* Logs every failure of a result this process checked (one process,
 * one run: each is news for the log). */
static void
log_failures(const struct result *res)
{
	const struct compres	*cr;
	int			 c;

	for (c = 0; res != NULL && c < COMP__MAX; c++) {
		cr = &res->comp[c];
		if (cr->present && !cr->success)
			plog(PL_WARN, "%s is down: %s%s%s%s", comp_name(c),
			    cr->msg, *cr->reason ? " (" : "", cr->reason,
			    *cr->reason ? ")" : "");
	}
}

/*
 * Runs the checks of mask once, with fresh connections and no cache (the
 * command line).  Returns a result to release, or NULL.
 */
struct result *
health_run_once(const struct config *cfg, unsigned mask)
{
	struct handles	 hd;
	struct result	*res = NULL;

	if (handles_open(&hd) == 0)
		res = run(cfg, &hd, mask);
	handles_close(&hd);
	log_failures(res);
	return res;
}

/*
 * Returns the result of every enabled component for one CGI request: the
 * one the processes of this configuration share when fresh, or a run of
 * this process's, shared in turn.  A result to release, or NULL.
 */
struct result *
health_run_shared(const struct config *cfg)
{
	struct shared	*sh = NULL;
	struct handles	 hd;
	struct result	*res = NULL;
	int		 ran = 0;

	if (share_ttl(cfg) > 0)
		sh = shared_open(cfg);
	if (handles_open(&hd) == 0)
		res = run_shared(cfg, &hd, comp_enabled(cfg), sh, 0, NULL,
		    &ran);
	handles_close(&hd);
	shared_close(sh);
	if (ran)
		log_failures(res);
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
	int		 ran;

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

		res = run_shared(h->cfg, &h->hd, h->mask, h->sh, 1, h->cached,
		    &ran);
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
	h->mask = comp_enabled(cfg);
	if (handles_open(&h->hd) == -1)
		goto fail;
	if (share_ttl(cfg) > 0)
		h->sh = shared_open(cfg);
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
	shared_close(h->sh);
	handles_close(&h->hd);
	free(h);
	return NULL;
}

/* Returns whether h's checker is idle: no run in flight, no request
 * waiting (freeing h then never waits for a dependency). */
int
health_idle(struct health *h)
{
	int idle;

	pthread_mutex_lock(&h->lock);
	idle = !h->running && !h->want && h->nwaiters == 0;
	pthread_mutex_unlock(&h->lock);
	return idle;
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
	shared_close(h->sh);
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

/* Takes back a request queued with arg.  Returns 1 when it was still
 * waiting (its callback will never be called), 0 when the run ended and
 * the callback was or is being called. */
int
health_cancel(struct health *h, void *arg)
{
	struct waiter	**pp, *w;
	int		  found = 0;

	pthread_mutex_lock(&h->lock);
	for (pp = &h->waiters; (w = *pp) != NULL; pp = &w->next)
		if (w->arg == arg) {
			*pp = w->next;
			h->nwaiters--;
			free(w);
			found = 1;
			break;
		}
	pthread_mutex_unlock(&h->lock);
	return found;
}
