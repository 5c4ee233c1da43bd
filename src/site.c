/*
 * The settings a FastCGI responder serves with: those of its own
 * environment, and those of each distinct set of per-request parameters
 * the web server passes (nginx fastcgi_param, Apache SetEnv), which win
 * over the environment.  Each is a site: its configuration, read again
 * when its file changes (looked at no more than once a second) or on
 * SIGHUP, and the health state that checks with it.  A site whose file
 * breaks keeps its last good configuration; one that was never good
 * answers with its error (a configuration error never stops the
 * responder).
 */
#include <sys/stat.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define SITES_MAX	64
#define STAT_EVERY	1.0	/* seconds between looks at the file */

/* One configuration and the health state that checks with it. */
struct state {
	struct config	 cfg;
	struct health	*health;	/* NULL: the configuration is broken */
	char		 error[512];	/* "" when it is not */
	int		 refs;		/* under the site's lock */
	struct state	*next;		/* retired states */
};

/* What identifies a version of the file. */
struct fileid {
	int		 exists;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime, ctime;
};

struct site {
	pthread_mutex_t	 lock;
	char		*cachedir;	/* the process's, for per-request sites */
	char		**envp;		/* owned: the parameters, then environ */
	char		*envbuf;
	struct state	*cur;
	struct state	*retired;	/* replaced, freed once unused */
	struct fileid	 file;		/* of the version last read */
	double		 looked;	/* mono_now() of the last look */
	unsigned	 gen;		/* reload generation seen */
	int		 stale;		/* the file broke: cur is the last good */
};

/* Bumped by SIGHUP (site_reload_all): every site reads its file again. */
static unsigned		 reload_gen;

/* Reads what identifies the file at path now into id. */
static void
file_id(const char *path, struct fileid *id)
{
	struct stat sb;

	memset(id, 0, sizeof(*id));
	if (stat(path, &sb) == -1)
		return;
	id->exists = 1;
	id->dev = sb.st_dev;
	id->ino = sb.st_ino;
	id->size = sb.st_size;
	id->mtime = sb.st_mtim;
	id->ctime = sb.st_ctim;
}

static int
file_same(const struct fileid *a, const struct fileid *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void
state_free(struct state *st)
{
	if (st == NULL)
		return;
	health_free(st->health);
	config_free(&st->cfg);
	free(st);
}

/* Reads the site's configuration into a new state, with its health
 * state when the configuration is good.  Returns it, or NULL when out
 * of memory. */
static struct state *
state_load(struct site *s)
{
	struct state	*st;
	enum cstatus	 cs;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	cs = config_load(&st->cfg, s->envp, st->error, sizeof(st->error));
	/* The cache directory is the process's: the one its sandbox lets
	 * it write. */
	if (s->cachedir != NULL && config_set(&st->cfg, K_HEALTH_CACHE_DIR,
	    s->cachedir, "the process's own") == -1)
		cs = CONF_ERR_NOMEM;
	if (cs != CONF_OK) {
		if (st->error[0] == '\0')
			snprintf(st->error, sizeof(st->error), "unreadable");
		return st;
	}
	st->error[0] = '\0';
	health_lint(&st->cfg);
	if ((st->health = health_new(&st->cfg)) == NULL) {
		config_free(&st->cfg);
		free(st);
		return NULL;
	}
	return st;
}

/* Frees the retired states nothing uses any more and whose checker is
 * idle (so that freeing never waits for a dependency). */
static void
reap(struct site *s)
{
	struct state **pp = &s->retired, *st;

	while ((st = *pp) != NULL) {
		if (st->refs == 0 && (st->health == NULL ||
		    health_idle(st->health))) {
			*pp = st->next;
			state_free(st);
		} else
			pp = &st->next;
	}
}

/* Reads the file again if it changed, or if SIGHUP asked; keeps the
 * last good configuration when the new one is broken.  Called with the
 * lock held. */
static void
maybe_reload(struct site *s)
{
	struct fileid	 id;
	struct state	*st;
	unsigned	 gen = __atomic_load_n(&reload_gen, __ATOMIC_ACQUIRE);
	double		 now = mono_now();

	if (gen == s->gen && now - s->looked < STAT_EVERY)
		return;
	s->looked = now;
	file_id(s->cur->cfg.file, &id);
	if (gen == s->gen && file_same(&id, &s->file))
		return;
	s->gen = gen;
	s->file = id;
	if ((st = state_load(s)) == NULL) {
		plog(PL_ERROR, "configuration: out of memory; keeping the "
		    "last one");
		return;
	}
	if (st->health == NULL && s->cur->health != NULL) {
		plog(PL_ERROR, "configuration: %s; keeping the last good one",
		    st->error);
		s->stale = 1;
		state_free(st);
		return;
	}
	if (st->health == NULL) {
		if (strcmp(st->error, s->cur->error) != 0)
			plog(PL_ERROR, "configuration: %s", st->error);
		state_free(st);
		return;
	}
	if (s->cur->health != NULL)
		config_diff(&s->cur->cfg, &st->cfg);
	else
		plog(PL_INFO, "configuration: read without error now");
	s->cur->next = s->retired;
	s->retired = s->cur;
	s->cur = st;
	s->stale = 0;
}

/*
 * Returns the site for the settings envp (the per-request parameters,
 * NULL-terminated, or NULL) over the process environment environ_, with
 * its configuration read (an error is logged once); cachedir, when not
 * NULL, is the cache directory it uses whatever its settings say.  NULL
 * when out of memory.
 */
struct site *
site_new(char *const *params, char *const *environ_, const char *cachedir)
{
	struct site	*s;
	size_t		 n = 0, m = 0, i, len = 0;
	char		*p;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	for (i = 0; params != NULL && params[i] != NULL; i++, n++)
		len += strlen(params[i]) + 1;
	for (i = 0; environ_[i] != NULL; i++, m++)
		continue;
	/* Only the parameters are copied: environ outlives every site. */
	if ((s->envp = calloc(n + m + 1, sizeof(*s->envp))) == NULL ||
	    (len > 0 && (s->envbuf = malloc(len)) == NULL) ||
	    (cachedir != NULL && (s->cachedir = strdup(cachedir)) == NULL))
		goto fail;
	for (i = 0, p = s->envbuf; i < n; i++) {
		s->envp[i] = p;
		p = stpcpy(p, params[i]) + 1;
	}
	for (i = 0; i < m; i++)
		s->envp[n + i] = environ_[i];
	pthread_mutex_init(&s->lock, NULL);
	s->gen = __atomic_load_n(&reload_gen, __ATOMIC_ACQUIRE);
	if ((s->cur = state_load(s)) == NULL) {
		pthread_mutex_destroy(&s->lock);
		goto fail;
	}
	file_id(s->cur->cfg.file, &s->file);
	s->looked = mono_now();
	if (s->cur->health == NULL)
		plog(PL_ERROR, "configuration: %s", s->cur->error);
	return s;
fail:
	free(s->cachedir);
	free(s->envbuf);
	free(s->envp);
	free(s);
	return NULL;
}

/* Frees the site; nothing may use it any more. */
void
site_free(struct site *s)
{
	struct state *st;

	if (s == NULL)
		return;
	while ((st = s->retired) != NULL) {
		s->retired = st->next;
		state_free(st);
	}
	state_free(s->cur);
	pthread_mutex_destroy(&s->lock);
	free(s->cachedir);
	free(s->envbuf);
	free(s->envp);
	free(s);
}

/* Fills v with the site's current configuration and health state, held
 * until site_put. */
void
site_get(struct site *s, struct siteview *v)
{
	pthread_mutex_lock(&s->lock);
	maybe_reload(s);
	reap(s);
	s->cur->refs++;
	v->health = s->cur->health;
	v->cfg = &s->cur->cfg;
	v->error = s->cur->health == NULL ? s->cur->error : NULL;
	v->config_ok = v->error == NULL && !s->stale;
	pthread_mutex_unlock(&s->lock);
}

/* Lets go of what site_get gave. */
void
site_put(struct site *s, struct siteview *v)
{
	struct state *st;

	pthread_mutex_lock(&s->lock);
	if (&s->cur->cfg == v->cfg)
		s->cur->refs--;
	else
		for (st = s->retired; st != NULL; st = st->next)
			if (&st->cfg == v->cfg) {
				st->refs--;
				break;
			}
	pthread_mutex_unlock(&s->lock);
	memset(v, 0, sizeof(*v));
}

/* Asks every site to read its file again (SIGHUP): each does on its
 * next use, or at once through site_poll. */
void
site_reload_all(void)
{
	__atomic_add_fetch(&reload_gen, 1, __ATOMIC_RELEASE);
}

/* Reads the site's file again now if it changed or a reload was asked;
 * frees what is no longer used. */
void
site_poll(struct site *s)
{
	pthread_mutex_lock(&s->lock);
	maybe_reload(s);
	reap(s);
	pthread_mutex_unlock(&s->lock);
}

/* The sites of per-request settings, by their parameters. */
struct sites {
	pthread_mutex_t	 lock;
	char		*cachedir;	/* the process's */
	char		*key[SITES_MAX];	/* the parameters, one a line */
	struct site	*site[SITES_MAX];
	size_t		 n;
	int		 full;		/* said so already */
};

/* Returns an empty registry whose sites use the process's cache
 * directory cachedir, or NULL. */
struct sites *
sites_new(const char *cachedir)
{
	struct sites *ss;

	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	if ((ss->cachedir = strdup(cachedir)) == NULL) {
		free(ss);
		return NULL;
	}
	pthread_mutex_init(&ss->lock, NULL);
	return ss;
}

/* Frees every site and the registry. */
void
sites_free(struct sites *ss)
{
	size_t i;

	if (ss == NULL)
		return;
	for (i = 0; i < ss->n; i++) {
		site_free(ss->site[i]);
		free(ss->key[i]);
	}
	pthread_mutex_destroy(&ss->lock);
	free(ss->cachedir);
	free(ss);
}

/* site_poll for every site of ss. */
void
sites_poll(struct sites *ss)
{
	size_t i, n;

	pthread_mutex_lock(&ss->lock);
	n = ss->n;
	pthread_mutex_unlock(&ss->lock);
	/* Sites are only ever added, and stay until sites_free. */
	for (i = 0; i < n; i++)
		site_poll(ss->site[i]);
}

/* Makes the site of key (NAME=VALUE lines, each ended by a newline) over
 * environ_, in the cache directory cachedir.  Returns it, or NULL. */
static struct site *
site_of_key(const char *key, char *const *environ_, const char *cachedir)
{
	struct site	 *s = NULL;
	char		**params, *copy, *p;
	size_t		  n = 0;

	for (p = (char *)key; *p != '\0'; p++)
		n += *p == '\n';
	if ((copy = strdup(key)) == NULL)
		return NULL;
	if ((params = calloc(n + 1, sizeof(*params))) != NULL) {
		for (n = 0, p = copy; *p != '\0'; ) {
			params[n++] = p;
			p += strcspn(p, "\n");
			if (*p == '\n')
				*p++ = '\0';
		}
		s = site_new(params, environ_, cachedir);
		free(params);
	}
	free(copy);
	return s;
}

/*
 * Returns the site for the per-request settings key (NAME=VALUE lines,
 * each ended by a newline), made on first use over the process
 * environment environ_; NULL when too many sets were seen (logged once)
 * or out of memory.
 */
struct site *
sites_get(struct sites *ss, const char *key, char *const *environ_)
{
	struct site	*s = NULL;
	size_t		 i;

	pthread_mutex_lock(&ss->lock);
	for (i = 0; i < ss->n; i++)
		if (strcmp(ss->key[i], key) == 0) {
			s = ss->site[i];
			goto out;
		}
	if (ss->n == SITES_MAX) {
		if (!ss->full)
			plog(PL_ERROR, "more than %d distinct sets of "
			    "per-request settings; refusing new ones",
			    SITES_MAX);
		ss->full = 1;
		goto out;
	}
	if ((ss->key[ss->n] = strdup(key)) == NULL)
		goto out;
	if ((s = site_of_key(key, environ_, ss->cachedir)) == NULL) {
		free(ss->key[ss->n]);
		ss->key[ss->n] = NULL;
		goto out;
	}
	ss->site[ss->n++] = s;
out:
	pthread_mutex_unlock(&ss->lock);
	return s;
}

/* Returns whether a health run of the site is in flight (freeing it
 * would wait for that run). */
int
site_busy(struct site *s)
{
	struct state	*st;
	int		 busy = 0;

	pthread_mutex_lock(&s->lock);
	for (st = s->cur; st != NULL; st = st == s->cur ? s->retired :
	    st->next)
		if (st->health != NULL && !health_idle(st->health))
			busy = 1;
	pthread_mutex_unlock(&s->lock);
	return busy;
}

/* site_busy for any site of ss. */
int
sites_busy(struct sites *ss)
{
	size_t	 i;
	int	 busy = 0;

	pthread_mutex_lock(&ss->lock);
	for (i = 0; i < ss->n; i++)
		busy |= site_busy(ss->site[i]);
	pthread_mutex_unlock(&ss->lock);
	return busy;
}
