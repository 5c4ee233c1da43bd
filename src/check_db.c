/*
 * The database component, with Portus's semantics: connect with the
 * PORTUS_DB_* settings, then look at schema_migrations (and, when asked,
 * the first row of registries).  All libpq calls live here.  Everything
 * is non-blocking against one absolute deadline, and the connection is
 * kept across runs and made again after a failure.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "extern.h"

#define VERSION_LEN	14	/* Rails migration versions: YYYYMMDDHHMMSS */
#define VERSIONS_MAX	4096

struct db {
	PGconn	*conn;		/* kept between runs; NULL after a failure */
};

enum qstatus { Q_OK, Q_LOST, Q_TIMEOUT };

/* Returns a new, unconnected handle, or NULL. */
struct db *
db_new(void)
{
	return calloc(1, sizeof(struct db));
}

/* Closes the connection and frees the handle. */
void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db);
}

/* Drops the kept connection. */
static void
db_drop(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
}

/* Copies the first line of a libpq message into reason. */
static void
first_line(const char *msg, char *reason, size_t sz)
{
	size_t n;

	while (*msg == ' ' || *msg == '\n')
		msg++;
	n = strcspn(msg, "\n");
	snprintf(reason, sz, "%.*s", (int)n, msg);
}

/* Waits until conn's socket is ready for reading (or writing).  Returns
 * 1 when ready, 0 at the deadline, -1 on error. */
static int
wait_sock(PGconn *conn, int forwrite, double deadline)
{
	struct pollfd	 pfd;
	double		 left;
	int		 r;

	if ((pfd.fd = PQsocket(conn)) < 0)
		return -1;
	pfd.events = forwrite ? POLLOUT : POLLIN;
	for (;;) {
		left = deadline - mono_now();
		if (left <= 0)
			return 0;
		r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		return r > 0 ? 1 : 0;
	}
}

/*
 * Connects with the PORTUS_DB_* settings before deadline.  Returns DB_UP
 * with db->conn set, DB_MISSING for SQLSTATE 3D000, else DB_DOWN.
 */
static enum dbstate
db_connect(struct db *db, const struct config *cfg, double deadline,
    char *reason, size_t sz)
{
	const char		*kw[8], *val[8];
	char			 port[16];
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	PGconn			*conn;
	const char		*msg;
	enum dbstate		 st;
	int			 n = 0, r;

	kw[n] = "host";
	val[n++] = *cfg_str(cfg, K_DB_SOCKET) != '\0' ?
	    cfg_str(cfg, K_DB_SOCKET) : cfg_str(cfg, K_DB_HOST);
	snprintf(port, sizeof(port), "%ld", cfg_int(cfg, K_DB_PORT));
	kw[n] = "port";
	val[n++] = port;
	kw[n] = "user";
	val[n++] = cfg_str(cfg, K_DB_USERNAME);
	kw[n] = "dbname";
	val[n++] = cfg_str(cfg, K_DB_DATABASE);
	kw[n] = "application_name";
	val[n++] = PH_NAME;
	if (*cfg_str(cfg, K_DB_PASSWORD) != '\0') {
		kw[n] = "password";
		val[n++] = cfg_str(cfg, K_DB_PASSWORD);
	}
	kw[n] = val[n] = NULL;
	if (cfg_int(cfg, K_DB_TIMEOUT) > 0 &&
	    mono_now() + (double)cfg_int(cfg, K_DB_TIMEOUT) < deadline)
		deadline = mono_now() + (double)cfg_int(cfg, K_DB_TIMEOUT);

	if ((conn = PQconnectStartParams(kw, val, 0)) == NULL) {
		snprintf(reason, sz, "out of memory");
		return DB_DOWN;
	}
	/* The SQLSTATE in connection errors tells "no such database". */
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
	while (PQstatus(conn) != CONNECTION_BAD && ps != PGRES_POLLING_OK &&
	    ps != PGRES_POLLING_FAILED) {
		r = wait_sock(conn, ps == PGRES_POLLING_WRITING, deadline);
		if (r == 0) {
			snprintf(reason, sz, "connection timed out");
			PQfinish(conn);
			return DB_DOWN;
		}
		if (r < 0)
			break;
		ps = PQconnectPoll(conn);
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		msg = PQerrorMessage(conn);
		first_line(msg, reason, sz);
		st = strstr(msg, "3D000") != NULL ? DB_MISSING : DB_DOWN;
		PQfinish(conn);
		return st;
	}
	if (PQsetnonblocking(conn, 1) != 0) {
		first_line(PQerrorMessage(conn), reason, sz);
		PQfinish(conn);
		return DB_DOWN;
	}
	db->conn = conn;
	return DB_UP;
}

/*
 * Runs one query with text parameters before deadline.  Returns Q_OK
 * with *res set (the caller clears it; it may be an error result), Q_LOST
 * when the connection broke, Q_TIMEOUT at the deadline.
 */
static enum qstatus
db_query(PGconn *conn, const char *sql, int np, const char *const *params,
    double deadline, PGresult **res)
{
	PGresult	*r;
	int		 f, w;

	*res = NULL;
	if (!PQsendQueryParams(conn, sql, np, NULL, params, NULL, NULL, 0))
		return Q_LOST;
	while ((f = PQflush(conn)) == 1) {
		/* Read too while writing, as libpq asks of async callers. */
		if ((w = wait_sock(conn, 1, deadline)) <= 0)
			return w == 0 ? Q_TIMEOUT : Q_LOST;
		if (!PQconsumeInput(conn))
			return Q_LOST;
	}
	if (f == -1)
		return Q_LOST;
	for (;;) {
		while (PQisBusy(conn)) {
			if ((w = wait_sock(conn, 0, deadline)) <= 0) {
				PQclear(*res);
				*res = NULL;
				return w == 0 ? Q_TIMEOUT : Q_LOST;
			}
			if (!PQconsumeInput(conn)) {
				PQclear(*res);
				*res = NULL;
				return Q_LOST;
			}
		}
		if ((r = PQgetResult(conn)) == NULL)
			break;
		if (*res == NULL)
			*res = r;
		else
			PQclear(r);
	}
	if (*res == NULL || PQstatus(conn) == CONNECTION_BAD) {
		PQclear(*res);
		*res = NULL;
		return Q_LOST;
	}
	return Q_OK;
}

/* qsort comparator for version strings. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Reads the Rails migration versions (NNNNNNNNNNNNNN_name.rb) in dir as
 * a PostgreSQL array literal.  Returns the literal (caller frees) and
 * their number in *count, or NULL with reason set.
 */
static char *
migration_versions(const char *dir, size_t *count, char *reason, size_t sz)
{
	DIR		*d;
	struct dirent	*de;
	char		*vers[VERSIONS_MAX], *lit = NULL;
	size_t		 n = 0, i, j, len, used = 0;

	*count = 0;
	if ((d = opendir(dir)) == NULL) {
		snprintf(reason, sz, "cannot read migrations_path: %s",
		    strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL && n < VERSIONS_MAX) {
		len = strlen(de->d_name);
		if (len < VERSION_LEN + 4 || de->d_name[VERSION_LEN] != '_' ||
		    strcmp(de->d_name + len - 3, ".rb") != 0)
			continue;
		for (j = 0; j < VERSION_LEN; j++)
			if (!isdigit((unsigned char)de->d_name[j]))
				break;
		if (j < VERSION_LEN)
			continue;
		if ((vers[n] = strndup(de->d_name, VERSION_LEN)) == NULL)
			goto out;
		n++;
	}
	qsort(vers, n, sizeof(vers[0]), cmp_str);
	if ((lit = malloc(n * (VERSION_LEN + 1) + 3)) == NULL)
		goto out;
	lit[used++] = '{';
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(vers[i], vers[i - 1]) == 0)
			continue;
		if (*count > 0)
			lit[used++] = ',';
		memcpy(lit + used, vers[i], VERSION_LEN);
		used += VERSION_LEN;
		(*count)++;
	}
	lit[used++] = '}';
	lit[used] = '\0';
out:
	if (lit == NULL)
		snprintf(reason, sz, "out of memory");
	for (i = 0; i < n; i++)
		free(vers[i]);
	closedir(d);
	return lit;
}

/* Returns the reason for an error result: its SQLSTATE, never SQL. */
static void
result_reason(const PGresult *res, char *reason, size_t sz)
{
	const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	snprintf(reason, sz, "query failed: SQLSTATE %s",
	    code != NULL ? code : "unknown");
}

/* Returns 1 if res failed for a table that does not exist. */
static int
undefined_table(const PGresult *res)
{
	const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return code != NULL && strcmp(code, "42P01") == 0;
}

/* Looks at schema_migrations.  Returns the state, or -1 when the
 * connection broke or timed out (reason says which). */
static int
check_migrations(PGconn *conn, const struct config *cfg, double deadline,
    char *reason, size_t sz)
{
	static const char sql[] =
	    "SELECT EXISTS (SELECT 1 FROM schema_migrations), "
	    "(SELECT count(DISTINCT version) FROM schema_migrations "
	    "WHERE version = ANY ($1::text[]))";
	const char	*dir = cfg_str(cfg, K_HEALTH_MIGRATIONS);
	const char	*params[1];
	char		*lit = NULL;
	size_t		 want = 0;
	PGresult	*res = NULL;
	enum qstatus	 qs;
	int		 st;

	if (*dir != '\0' &&
	    (lit = migration_versions(dir, &want, reason, sz)) == NULL)
		return DB_UNKNOWN;
	params[0] = lit != NULL ? lit : "{}";
	qs = db_query(conn, sql, 1, params, deadline, &res);
	free(lit);
	if (qs != Q_OK) {
		snprintf(reason, sz, qs == Q_TIMEOUT ? "query timed out" :
		    "connection lost");
		return -1;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		if (undefined_table(res)) {
			snprintf(reason, sz, "no schema_migrations table");
			st = DB_INIT;
		} else {
			result_reason(res, reason, sz);
			st = DB_UNKNOWN;
		}
	} else if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0),
	    "t") != 0) {
		snprintf(reason, sz, "schema_migrations is empty");
		st = DB_INIT;
	} else if (strtoul(PQgetvalue(res, 0, 1), NULL, 10) < want) {
		snprintf(reason, sz, "migrations are pending");
		st = DB_INIT;
	} else
		st = DB_UP;
	PQclear(res);
	return st;
}

/* Reads the first row of Portus's registries table into rr.  Returns 0,
 * or -1 when the connection broke or timed out. */
static int
lookup_registry(PGconn *conn, double deadline, struct regrow *rr,
    char *reason, size_t sz)
{
	static const char sql[] =
	    "SELECT hostname, use_ssl FROM registries ORDER BY id LIMIT 1";
	PGresult	*res;
	enum qstatus	 qs;

	if ((qs = db_query(conn, sql, 0, NULL, deadline, &res)) != Q_OK) {
		snprintf(reason, sz, qs == Q_TIMEOUT ? "query timed out" :
		    "connection lost");
		return -1;
	}
	rr->db_ok = 1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		rr->found = 1;
		snprintf(rr->hostname, sizeof(rr->hostname), "%s",
		    PQgetvalue(res, 0, 0));
		rr->use_ssl = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	} else if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    !undefined_table(res)) {
		rr->db_ok = 0;
		plog(PL_WARN, "registry: cannot read the registries table");
	}
	PQclear(res);
	return 0;
}

/*
 * Checks the database before deadline; when rr->lookup, also reads the
 * registry row into rr.  A kept connection that turns out dead is made
 * again once.  Returns the state; reason says why it is not DB_UP.
 */
enum dbstate
db_check(struct db *db, const struct config *cfg, double deadline,
    struct regrow *rr, char *reason, size_t sz)
{
	const char	*adapter = cfg_str(cfg, K_DB_ADAPTER);
	enum dbstate	 st;
	int		 attempt, reused, r;

	reason[0] = '\0';
	if (strcmp(adapter, "postgresql") != 0) {
		snprintf(reason, sz, "PORTUS_DB_ADAPTER is %s%s%s; only "
		    "postgresql is supported", *adapter ? "\"" : "unset (Portus "
		    "then uses mysql2)", adapter, *adapter ? "\"" : "");
		return DB_UNKNOWN;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		reused = db->conn != NULL;
		if (!reused &&
		    (st = db_connect(db, cfg, deadline, reason, sz)) != DB_UP)
			return st;
		r = check_migrations(db->conn, cfg, deadline, reason, sz);
		if (r >= 0 && rr->lookup &&
		    lookup_registry(db->conn, deadline, rr, reason, sz) < 0)
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
