/*
 * The database component, with Portus's semantics, over either of
 * Portus's two adapters: PORTUS_DB_ADAPTER unset or "mysql2" is MariaDB
 * or MySQL (check_mysql.c), "postgresql" is PostgreSQL (check_pg.c).
 * Connect with the PORTUS_DB_* settings, then look at schema_migrations
 * (and, when the registry check needs it, the first row of registries).
 * Both queries are plain SQL that either dialect runs; the comparison
 * with the migrations on disk happens here.  The connection is kept
 * across runs and made again after a failure.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define VERSION_LEN	14	/* Rails migration versions: YYYYMMDDHHMMSS */
#define VERSIONS_MAX	4096

/* The kept handle: a driver's connection, and which driver made it. */
struct db {
	const struct dbdriver	*drv;
	void			*conn;
};

/* The migration versions: on disk (wanted), and how many the database
 * has of them. */
struct versions {
	char	**v;		/* sorted, unique */
	size_t	 n;
	size_t	 found;		/* rows of schema_migrations among v */
	size_t	 rows;		/* rows of schema_migrations in all */
};

/* Returns the driver for PORTUS_DB_ADAPTER, as Portus's database.yml
 * reads it (unset: mysql2), or NULL for another adapter. */
const struct dbdriver *
db_driver(const struct config *cfg)
{
	const char *a = cfg_str(cfg, K_DB_ADAPTER);

	if (*a == '\0' || strcmp(a, mysql_driver.adapter) == 0)
		return &mysql_driver;
	if (strcmp(a, pg_driver.adapter) == 0)
		return &pg_driver;
	return NULL;
}

/* Returns Portus's message for a database state. */
const char *
db_message(enum dbstate st)
{
	switch (st) {
	case DB_UP:
		return "database is up-to-date";
	case DB_INIT:
		return "database is initializing";
	case DB_MISSING:
		return "database has not been created";
	case DB_DOWN:
		return "cannot connect to database";
	case DB_UNKNOWN:
		break;
	}
	return "unknown error";
}

/* Returns the word Portus's bin/check_db.rb prints for a state. */
const char *
db_check_word(enum dbstate st)
{
	switch (st) {
	case DB_UP:
		return "DB_READY";
	case DB_INIT:
		return "DB_EMPTY";
	case DB_MISSING:
		return "DB_MISSING";
	case DB_DOWN:
		return "DB_DOWN";
	case DB_UNKNOWN:
		break;
	}
	return "DB_UNKNOWN";
}

/* Returns a new, unconnected handle, or NULL. */
void *
db_open(void)
{
	return calloc(1, sizeof(struct db));
}

/* Drops the kept connection. */
static void
db_drop(struct db *db)
{
	if (db->conn != NULL)
		db->drv->close(db->conn);
	db->conn = NULL;
	db->drv = NULL;
}

/* Closes the connection and frees the handle. */
void
db_close(void *arg)
{
	struct db *db = arg;

	if (db == NULL)
		return;
	db_drop(db);
	free(db);
}

/* qsort comparator for version strings. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
versions_free(struct versions *vs)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		free(vs->v[i]);
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

/* Returns 1 if name is a Rails migration file, NNNNNNNNNNNNNN_name.rb. */
static int
is_migration(const char *name)
{
	size_t len = strlen(name), i;

	if (len < VERSION_LEN + 4 || name[VERSION_LEN] != '_' ||
	    strcmp(name + len - 3, ".rb") != 0)
		return 0;
	for (i = 0; i < VERSION_LEN; i++)
		if (!isdigit((unsigned char)name[i]))
			return 0;
	return 1;
}

/*
 * Reads the Rails migration versions in dir into vs, sorted and unique.
 * Returns 0, or -1 with reason set.
 */
static int
versions_read(const char *dir, struct versions *vs, char *reason, size_t sz)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 i, n = 0;

	memset(vs, 0, sizeof(*vs));
	if ((d = opendir(dir)) == NULL) {
		snprintf(reason, sz, "cannot read migrations_path: %s",
		    strerror(errno));
		return -1;
	}
	if ((vs->v = calloc(VERSIONS_MAX, sizeof(*vs->v))) == NULL)
		goto nomem;
	while ((de = readdir(d)) != NULL && vs->n < VERSIONS_MAX) {
		if (!is_migration(de->d_name))
			continue;
		if ((vs->v[vs->n] = strndup(de->d_name, VERSION_LEN)) == NULL)
			goto nomem;
		vs->n++;
	}
	closedir(d);
	qsort(vs->v, vs->n, sizeof(*vs->v), cmp_str);
	for (i = 0; i < vs->n; i++) {
		if (n > 0 && strcmp(vs->v[i], vs->v[n - 1]) == 0) {
			free(vs->v[i]);
			continue;
		}
		vs->v[n++] = vs->v[i];
	}
	vs->n = n;
	return 0;
nomem:
	closedir(d);
	versions_free(vs);
	snprintf(reason, sz, "out of memory");
	return -1;
}

/* Counts a schema_migrations row, and whether it is one of ours. */
static int
on_version(void *arg, const char *const *col, int ncol)
{
	struct versions *vs = arg;

	vs->rows++;
	if (ncol >= 1 && col[0] != NULL && vs->n > 0 &&
	    bsearch(&col[0], vs->v, vs->n, sizeof(*vs->v), cmp_str) != NULL)
		vs->found++;
	return 0;
}

/* Returns the state for a query that did not end with rows, or -1 when
 * the connection broke or timed out (reason says which). */
static int
query_failed(enum qstatus qs, char *reason, size_t sz)
{
	if (qs == Q_LOST || qs == Q_TIMEOUT) {
		snprintf(reason, sz, qs == Q_TIMEOUT ? "query timed out" :
		    "connection lost");
		return -1;
	}
	return DB_UNKNOWN;
}

/*
 * Looks at schema_migrations over conn.  Returns the state, or -1 when
 * the connection broke or timed out (reason says which).
 */
static int
check_migrations(struct db *db, const struct config *cfg, double deadline,
    char *reason, size_t sz)
{
	const char	*dir = cfg_str(cfg, K_HEALTH_MIGRATIONS);
	struct versions	 vs;
	enum qstatus	 qs;
	int		 st;

	memset(&vs, 0, sizeof(vs));
	if (*dir != '\0' && versions_read(dir, &vs, reason, sz) == -1)
		return DB_UNKNOWN;
	qs = db->drv->query(db->conn, "SELECT version FROM schema_migrations",
	    deadline, on_version, &vs, reason, sz);
	if (qs == Q_NO_TABLE) {
		snprintf(reason, sz, "no schema_migrations table");
		st = DB_INIT;
	} else if (qs != Q_OK)
		st = query_failed(qs, reason, sz);
	else if (vs.rows == 0) {
		snprintf(reason, sz, "schema_migrations is empty");
		st = DB_INIT;
	} else if (vs.found < vs.n) {
		snprintf(reason, sz, "%zu of %zu migrations are pending",
		    vs.n - vs.found, vs.n);
		st = DB_INIT;
	} else
		st = DB_UP;
	versions_free(&vs);
	return st;
}

/* Keeps the first row of registries. */
static int
on_registry(void *arg, const char *const *col, int ncol)
{
	struct regrow *rr = arg;

	if (ncol < 2 || col[0] == NULL || rr->found)
		return 0;
	rr->found = 1;
	snprintf(rr->hostname, sizeof(rr->hostname), "%s", col[0]);
	/* PostgreSQL says t, MariaDB 1 (a tinyint(1)). */
	rr->use_ssl = col[1] != NULL && (strcmp(col[1], "t") == 0 ||
	    strcmp(col[1], "1") == 0 || strcmp(col[1], "true") == 0);
	return 0;
}

/* Reads the first row of Portus's registries table into rr.  Returns 0,
 * or -1 when the connection broke or timed out. */
static int
lookup_registry(struct db *db, double deadline, struct regrow *rr,
    char *reason, size_t sz)
{
	char		 why[128];
	enum qstatus	 qs;

	qs = db->drv->query(db->conn,
	    "SELECT hostname, use_ssl FROM registries ORDER BY id LIMIT 1",
	    deadline, on_registry, rr, why, sizeof(why));
	if (qs == Q_LOST || qs == Q_TIMEOUT)
		return query_failed(qs, reason, sz);
	rr->db_ok = qs == Q_OK || qs == Q_NO_TABLE;
	if (qs == Q_ERROR)
		plog(PL_WARN, "registry: cannot read the registries table: %s",
		    why);
	return 0;
}

/*
 * Checks the database before deadline; when rr is not NULL, also reads
 * the registry row into it.  A kept connection that turns out dead is
 * made again once, within the same deadline.  Returns the state; reason
 * says why it is not DB_UP.
 */
enum dbstate
db_check(void *arg, const struct config *cfg, double deadline,
    struct regrow *rr, char *reason, size_t sz)
{
	struct db		*db = arg;
	const struct dbdriver	*drv;
	enum dbstate		 st;
	int			 attempt, reused, r;

	reason[0] = '\0';
	if ((drv = db_driver(cfg)) == NULL) {
		snprintf(reason, sz, "PORTUS_DB_ADAPTER is neither mysql2 nor "
		    "postgresql");
		return DB_UNKNOWN;
	}
	/* A kept connection of the other adapter is of no use. */
	if (db->drv != drv)
		db_drop(db);
	for (attempt = 0; attempt < 2; attempt++) {
		reused = db->conn != NULL;
		if (!reused) {
			db->conn = drv->connect(cfg, deadline, &st, reason, sz);
			if (db->conn == NULL)
				return st;
			db->drv = drv;
		}
		r = check_migrations(db, cfg, deadline, reason, sz);
		if (r >= 0 && rr != NULL &&
		    lookup_registry(db, deadline, rr, reason, sz) < 0)
			r = -1;
		if (r >= 0)
			return (enum dbstate)r;
		db_drop(db);
		/* A kept connection may have died since the last run. */
		if (!reused || mono_now() >= deadline)
			break;
	}
	return DB_DOWN;
}

/* The database component; it also reads the registry row when the
 * registry check needs it. */
void
check_database(struct probe *p)
{
	enum dbstate st;

	st = db_check(p->handle, p->cfg, p->deadline,
	    p->want_row ? p->row : NULL, p->res->reason,
	    sizeof(p->res->reason));
	compres_set(p->res, st == DB_UP, db_message(st), NULL);
}
