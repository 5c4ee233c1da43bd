/*
 * The result shared by every process of one configuration: mod_fcgid's
 * processes, lighttpd's max-procs, and CGI's one process per request all
 * see one health run per health.cache_ttl.  The last result lives in a
 * small file of a private directory (health.cache_dir), named by a digest
 * of the effective settings, so that two sites never share.  One process
 * takes the lock and checks while the others wait for its result (single
 * flight); the file is written whole and renamed into place.
 *
 * Nothing there is trusted blindly: a directory or file that is not ours,
 * a symbolic link, group- or world-writable permissions, a truncated,
 * oversized or foreign file are ignored, logged once, and the process
 * checks by itself.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "extern.h"

#define CACHE_FORMAT	"portus-health/1"
#define CACHE_MAX	(64 * 1024)	/* bytes of a result file */
#define KEY_HEX		32		/* of the digest, in the names */
#define MS_MAX		1e9		/* of a check's duration */
#define TIME_MAX	253402300800.0	/* year 10000, past RFC 3339 */
#define LOCK_POLL_MS	10

/* Why the cache is not used, each logged once per process. */
enum distrust {
	D_DIR,		/* the directory is not ours, or too open */
	D_FILE,		/* a file is not ours, or too open, or a link */
	D_FORMAT,	/* a file is not one of ours */
	D_WRITE,	/* cannot write */
	D__MAX
};

struct shared {
	int		 dirfd;
	char		 key[2 * 32 + 1];	/* the whole digest, in hex */
	char		 result[KEY_HEX + 8];	/* file names */
	char		 lock[KEY_HEX + 8];
	int		 lockfd;		/* open while locked */
	unsigned	 optional;		/* health.optional */
	int		 said[D__MAX];
};

static pthread_mutex_t	 said_lock = PTHREAD_MUTEX_INITIALIZER;
static int		 said_dir;	/* per process: D_DIR */

/* Logs a reason not to trust the cache, once per kind per shared. */
static void
distrust(struct shared *sh, enum distrust d, const char *fmt, const char *a,
    const char *b)
{
	if (sh != NULL) {
		if (sh->said[d])
			return;
		sh->said[d] = 1;
	}
	plog(PL_WARN, fmt, a, b);
}

/* Writes the digest of cfg's effective settings (every key's value,
 * secrets too, so that another password is another site) as hex. */
static void
digest(const struct config *cfg, char *hex, size_t sz)
{
	struct sha256	 c;
	unsigned char	 md[32];
	char		 num[32];
	size_t		 i;
	int		 k;

	sha256_init(&c);
	sha256_update(&c, CACHE_FORMAT, sizeof(CACHE_FORMAT));
	for (k = 0; k < K__MAX; k++) {
		if (k == K_HEALTH_CACHE_DIR)
			continue;
		sha256_update(&c, config_keyname(k),
		    strlen(config_keyname(k)) + 1);
		if (cfg->v[k].s != NULL)
			sha256_update(&c, cfg->v[k].s, strlen(cfg->v[k].s) + 1);
		snprintf(num, sizeof(num), "%ld", cfg->v[k].i);
		sha256_update(&c, num, strlen(num) + 1);
	}
	sha256_final(&c, md);
	for (i = 0; i < sizeof(md) && 2 * i + 2 < sz; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Returns whether the open file fd may be believed: a regular file of
 * ours, with one name, not writable by others. */
static int
trusted_file(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_uid == geteuid() && (sb.st_mode & 022) == 0 &&
	    sb.st_nlink == 1;
}

/*
 * Opens the shared result of cfg: health.cache_dir made (0700) if need
 * be, and checked.  Returns it, or NULL when results are not shared (no
 * cache, or a directory that cannot be trusted: logged once).
 */
struct shared *
shared_open(const struct config *cfg)
{
	struct shared	*sh;
	struct stat	 sb;
	const char	*dir = cfg_str(cfg, K_HEALTH_CACHE_DIR);
	int		 fd, log;

	if (*dir == '\0')
		return NULL;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		fd = -1;
		goto bad;
	}
	/* No link, not someone else's, nobody else may write in it. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &sb) == -1 || sb.st_uid != geteuid() ||
	    (sb.st_mode & 077) != 0)
		goto bad;
	if ((sh = calloc(1, sizeof(*sh))) == NULL)
		goto fail;
	sh->dirfd = fd;
	sh->lockfd = -1;
	sh->optional = cfg->optional;
	digest(cfg, sh->key, sizeof(sh->key));
	snprintf(sh->result, sizeof(sh->result), "%.*s.json", KEY_HEX,
	    sh->key);
	snprintf(sh->lock, sizeof(sh->lock), "%.*s.lock", KEY_HEX, sh->key);
	return sh;
bad:
	pthread_mutex_lock(&said_lock);
	log = !said_dir;
	said_dir = 1;
	pthread_mutex_unlock(&said_lock);
	if (log)
		distrust(NULL, D_DIR, "health.cache_dir %s: %s; each process "
		    "checks by itself", dir, fd == -1 && errno != 0 ?
		    strerror(errno) : "not a private directory of this user "
		    "(owner, mode 0700, no link)");
fail:
	if (fd != -1)
		close(fd);
	return NULL;
}

void
shared_close(struct shared *sh)
{
	if (sh == NULL)
		return;
	shared_unlock(sh);
	close(sh->dirfd);
	free(sh);
}

/* Returns the number o holds (an integer or a double) if it is in [0,
 * max), else -1: no NaN, no infinity, no time the page cannot write. */
static double
number(json_object *o, double max)
{
	double d;

	if (!json_object_is_type(o, json_type_double) &&
	    !json_object_is_type(o, json_type_int))
		return -1;
	d = json_object_get_double(o);
	return d >= 0 && d < max ? d : -1;
}

/* Returns whether o is the string want, to its last byte. */
static int
is_string(json_object *o, const char *want)
{
	return json_object_is_type(o, json_type_string) &&
	    (size_t)json_object_get_string_len(o) == strlen(want) &&
	    strcmp(json_object_get_string(o), want) == 0;
}

/* Reads component c of the file's "comp" object into cr.  Returns 0, or
 * -1 when it is malformed. */
static int
read_comp(json_object *o, struct compres *cr)
{
	json_object	*v;
	const char	*msg;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "success", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return -1;
	cr->success = json_object_get_boolean(v);
	if (!json_object_object_get_ex(o, "msg", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) >= (int)sizeof(cr->msg))
		return -1;
	msg = json_object_get_string(v);
	if (strlen(msg) != (size_t)json_object_get_string_len(v))
		return -1;	/* a NUL inside */
	snprintf(cr->msg, sizeof(cr->msg), "%s", msg);
	if (!json_object_object_get_ex(o, "ms", &v) ||
	    (cr->ms = number(v, MS_MAX)) < 0)
		return -1;
	cr->present = 1;
	return 0;
}

/*
 * Reads the histories of the file ({"NAME": {"since": T, "marks": [[T,
 * OK, MS], ...]}}) into res.  Returns 0, or -1 when malformed.
 */
static int
read_hist(json_object *hist, struct result *res)
{
	json_object	*o, *v, *marks, *m;
	struct chist	*h;
	size_t		 i, n;
	double		 ms;
	int		 c;

	for (c = 0; c < COMP__MAX; c++) {
		if (!json_object_object_get_ex(hist, comp_name(c), &o))
			continue;
		h = &res->hist[c];
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "since", &v) ||
		    (h->since = number(v, TIME_MAX)) < 0 ||
		    !json_object_object_get_ex(o, "marks", &marks) ||
		    !json_object_is_type(marks, json_type_array) ||
		    (n = json_object_array_length(marks)) > HISTORY_MAX)
			return -1;
		for (i = 0; i < n; i++) {
			m = json_object_array_get_idx(marks, i);
			if (!json_object_is_type(m, json_type_array) ||
			    json_object_array_length(m) != 3 ||
			    (h->m[i].wall = number(json_object_array_get_idx(m,
			    0), TIME_MAX)) < 0 ||
			    !json_object_is_type(json_object_array_get_idx(m,
			    1), json_type_boolean) ||
			    (ms = number(json_object_array_get_idx(m, 2),
			    MS_MAX)) < 0)
				return -1;
			h->m[i].ok = (unsigned char)json_object_get_boolean(
			    json_object_array_get_idx(m, 1));
			/* Kept as a float, which may round up to the bound. */
			if (!((h->m[i].ms = (float)ms) < MS_MAX))
				return -1;
		}
		h->n = (int)n;
	}
	return 0;
}

/*
 * Parses a result file's text (len bytes, no NUL needed) into res, and
 * the process that wrote it into *pid.  Returns 0, or -1 when it is not
 * a result of ours for key.
 */
int
cache_parse(const char *key, const char *buf, size_t len, struct result *res,
    long *pid)
{
	json_tokener	*tok;
	json_object	*doc = NULL, *v, *comp, *o, *hist;
	int		 c, rc = -1;

	if (len > CACHE_MAX || (tok = json_tokener_new_ex(8)) == NULL)
		return -1;
	doc = json_tokener_parse_ex(tok, buf, (int)len);
	if (doc == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(doc, json_type_object))
		goto out;
	if (!json_object_object_get_ex(doc, "format", &v) ||
	    !is_string(v, CACHE_FORMAT) ||
	    !json_object_object_get_ex(doc, "key", &v) ||
	    !is_string(v, key) ||
	    !json_object_object_get_ex(doc, "pid", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    !json_object_object_get_ex(doc, "comp", &comp) ||
	    !json_object_is_type(comp, json_type_object))
		goto out;
	*pid = (long)json_object_get_int64(v);
	if (!json_object_object_get_ex(doc, "wall", &v) ||
	    !json_object_is_type(v, json_type_double) ||
	    (res->wall = number(v, TIME_MAX)) < 0)
		goto out;
	for (c = 0; c < COMP__MAX; c++)
		if (json_object_object_get_ex(comp, comp_name(c), &o) &&
		    read_comp(o, &res->comp[c]) == -1)
			goto out;
	if (json_object_object_get_ex(doc, "hist", &hist) &&
	    (!json_object_is_type(hist, json_type_object) ||
	    read_hist(hist, res) == -1))
		goto out;
	rc = 0;
out:
	json_object_put(doc);
	json_tokener_free(tok);
	return rc;
}

/* Opens name in the cache directory for reading, if it is to be
 * believed.  Returns the descriptor, or -1 (no file, or logged). */
static int
open_trusted(struct shared *sh, const char *name, int flags)
{
	int fd;

	fd = openat(sh->dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno != ENOENT)
			distrust(sh, D_FILE, "cache file %s: %s; checking "
			    "here", name, errno == ELOOP ?
			    "a symbolic link" : strerror(errno));
		return -1;
	}
	if (!trusted_file(fd)) {
		distrust(sh, D_FILE, "cache file %s: %s; checking here", name,
		    "not a private regular file of this user");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Returns the shared result (with one reference), or NULL when there is
 * none to believe; *fresh says whether it is younger than ttl seconds
 * (with others, a result this process wrote never is: its own run is
 * due, in background mode).
 */
struct result *
shared_read(struct shared *sh, long ttl, int others, int *fresh)
{
	struct result	*res = NULL;
	char		*buf = NULL;
	ssize_t		 n;
	size_t		 len = 0;
	double		 age;
	long		 pid = 0;
	int		 fd;

	*fresh = 0;
	if ((fd = open_trusted(sh, sh->result, O_RDONLY | O_NONBLOCK)) == -1)
		return NULL;
	if ((buf = malloc(CACHE_MAX + 1)) == NULL)
		goto out;
	while (len <= CACHE_MAX && (n = read(fd, buf + len,
	    CACHE_MAX + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		len += (size_t)n;
	}
	if ((res = calloc(1, sizeof(*res))) == NULL)
		goto out;
	if (len > CACHE_MAX ||
	    cache_parse(sh->key, buf, len, res, &pid) == -1) {
		distrust(sh, D_FORMAT, "cache file %s: %s; checking here",
		    sh->result, len > CACHE_MAX ? "too large" :
		    "not a result of this configuration");
		goto bad;
	}
	/* A result from the future (a clock set back) is not believed. */
	age = wall_now() - res->wall;
	if (age < -1.0)
		goto bad;
	*fresh = age < (double)ttl && !(others && pid == getpid());
	res->refs = 1;
	res->optional = sh->optional;
	res->ok = comp_ok(res->comp, ~0u, res->optional);
	res->at = mono_now() - (age > 0 ? age : 0);
	if ((res->json = report_json(res->comp, 0, &res->jsonlen)) == NULL)
		goto bad;
	goto out;
bad:
	free(res);
	res = NULL;
out:
	free(buf);
	close(fd);
	return res;
}

/*
 * Takes the lock of the result before deadline: the others wait for the
 * one that checks.  Returns 1 when held, 0 at the deadline, -1 when the
 * lock cannot be had at all (logged).
 */
int
shared_lock(struct shared *sh, double deadline)
{
	struct timespec	 ts = { 0, LOCK_POLL_MS * 1000000L };
	int		 fd;

	if (sh->lockfd != -1)
		return 1;
	fd = open_trusted(sh, sh->lock, O_RDWR | O_CREAT);
	if (fd == -1)
		return -1;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			sh->lockfd = fd;
			return 1;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return -1;
		}
		if (mono_now() >= deadline) {
			close(fd);
			return 0;
		}
		nanosleep(&ts, NULL);
	}
}

void
shared_unlock(struct shared *sh)
{
	if (sh->lockfd == -1)
		return;
	flock(sh->lockfd, LOCK_UN);
	close(sh->lockfd);
	sh->lockfd = -1;
}

/* Adds the history h of component c to hist, if it has one. */
static void
render_hist(json_object *hist, int c, const struct chist *h)
{
	json_object	*o, *marks, *m;
	int		 i;

	if (h->n == 0 || (o = json_object_new_object()) == NULL)
		return;
	json_object_object_add(hist, comp_name(c), o);
	json_object_object_add(o, "since", json_object_new_double(h->since));
	if ((marks = json_object_new_array()) == NULL)
		return;
	json_object_object_add(o, "marks", marks);
	for (i = 0; i < h->n; i++) {
		if ((m = json_object_new_array()) == NULL)
			return;
		json_object_array_add(m, json_object_new_double(h->m[i].wall));
		json_object_array_add(m, json_object_new_boolean(h->m[i].ok));
		json_object_array_add(m, json_object_new_double(h->m[i].ms));
		json_object_array_add(marks, m);
	}
}

/* Renders res as the text of a result file for key, written by this
 * process.  Returns it (to free, not NUL-terminated), or NULL. */
char *
cache_render(const char *key, const struct result *res, size_t *len)
{
	json_object	*doc, *comp, *o, *hist;
	const char	*s;
	char		*out = NULL;
	size_t		 n;
	int		 c;

	if ((doc = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(doc, "format",
	    json_object_new_string(CACHE_FORMAT));
	json_object_object_add(doc, "key", json_object_new_string(key));
	json_object_object_add(doc, "wall", json_object_new_double(res->wall));
	json_object_object_add(doc, "pid", json_object_new_int64(getpid()));
	comp = json_object_new_object();
	json_object_object_add(doc, "comp", comp);
	for (c = 0; c < COMP__MAX && comp != NULL; c++) {
		if (!res->comp[c].present ||
		    (o = json_object_new_object()) == NULL)
			continue;
		json_object_object_add(comp, comp_name(c), o);
		json_object_object_add(o, "success",
		    json_object_new_boolean(res->comp[c].success));
		json_object_object_add(o, "msg",
		    json_object_new_string(res->comp[c].msg));
		json_object_object_add(o, "ms",
		    json_object_new_double(res->comp[c].ms));
	}
	if ((hist = json_object_new_object()) != NULL) {
		json_object_object_add(doc, "hist", hist);
		for (c = 0; c < COMP__MAX; c++)
			render_hist(hist, c, &res->hist[c]);
	}
	s = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s != NULL && n <= CACHE_MAX && (out = malloc(n)) != NULL) {
		memcpy(out, s, n);
		*len = n;
	}
	json_object_put(doc);
	return out;
}

/* Writes res as the shared result: a new file, renamed into place. */
void
shared_write(struct shared *sh, const struct result *res)
{
	char	 tmp[KEY_HEX + 48], *buf;
	size_t	 len = 0, off = 0;
	ssize_t	 n;
	int	 fd;

	if ((buf = cache_render(sh->key, res, &len)) == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%.*s.%ld.%lx.tmp", KEY_HEX, sh->key,
	    (long)getpid(), (unsigned long)pthread_self());
	fd = openat(sh->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		goto fail;
	while (off < len) {
		if ((n = write(fd, buf + off, len - off)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (close(fd) == -1 || off < len ||
	    renameat(sh->dirfd, tmp, sh->dirfd, sh->result) == -1) {
		unlinkat(sh->dirfd, tmp, 0);
		goto fail;
	}
	free(buf);
	return;
fail:
	distrust(sh, D_WRITE, "cache file %s: cannot write: %s", sh->result,
	    strerror(errno));
	free(buf);
}
