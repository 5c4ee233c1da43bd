/*
 * The PostgreSQL driver of the database component (PORTUS_DB_ADAPTER
 * postgresql).  All libpq calls live here.  Everything is non-blocking
 * against one absolute deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "extern.h"

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
 * Connects with the PORTUS_DB_* settings before deadline
 * (PORTUS_DB_SOCKET is a socket directory, as libpq reads it).  Returns
 * the connection, or NULL with *st DB_MISSING for SQLSTATE 3D000 and
 * DB_DOWN otherwise.
 */
static void *
pg_connect(const struct config *cfg, double deadline, enum dbstate *st,
    char *reason, size_t sz)
{
	const char		*kw[8], *val[8];
	char			 port[16];
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	PGconn			*conn;
	const char		*msg;
	int			 n = 0, r;

	*st = DB_DOWN;
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
		return NULL;
	}
	/* The SQLSTATE in connection errors tells "no such database". */
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
	while (PQstatus(conn) != CONNECTION_BAD && ps != PGRES_POLLING_OK &&
	    ps != PGRES_POLLING_FAILED) {
		r = wait_sock(conn, ps == PGRES_POLLING_WRITING, deadline);
		if (r == 0) {
			snprintf(reason, sz, "connection timed out");
			PQfinish(conn);
			return NULL;
		}
		if (r < 0)
			break;
		ps = PQconnectPoll(conn);
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		msg = PQerrorMessage(conn);
		first_line(msg, reason, sz);
		if (strstr(msg, "3D000") != NULL)
			*st = DB_MISSING;
		PQfinish(conn);
		return NULL;
	}
	if (PQsetnonblocking(conn, 1) != 0) {
		first_line(PQerrorMessage(conn), reason, sz);
		PQfinish(conn);
		return NULL;
	}
	*st = DB_UP;
	return conn;
}

/* Waits for and collects the results of the query sent on conn.  Returns
 * Q_OK with *res set (the first result; it may be an error), or how the
 * wait ended. */
static enum qstatus
pg_collect(PGconn *conn, double deadline, PGresult **res)
{
	PGresult	*r;
	int		 f, w;

	*res = NULL;
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
			if ((w = wait_sock(conn, 0, deadline)) <= 0 ||
			    !PQconsumeInput(conn)) {
				PQclear(*res);
				*res = NULL;
				return w == 0 ? Q_TIMEOUT : Q_LOST;
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

/*
 * Runs sql on the connection before deadline and hands each row to cb.
 * Returns Q_OK, Q_NO_TABLE (SQLSTATE 42P01), Q_ERROR (reason holds the
 * SQLSTATE, never SQL), Q_LOST or Q_TIMEOUT.
 */
static enum qstatus
pg_query(void *arg, const char *sql, double deadline, db_row_cb cb,
    void *cbarg, char *reason, size_t sz)
{
	PGconn		*conn = arg;
	PGresult	*res;
	const char	*code, *col[8];
	enum qstatus	 qs;
	int		 i, j, nf;

	if (!PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0))
		return Q_LOST;
	if ((qs = pg_collect(conn, deadline, &res)) != Q_OK)
		return qs;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (code != NULL && strcmp(code, "42P01") == 0)
			qs = Q_NO_TABLE;
		else {
			snprintf(reason, sz, "query failed: SQLSTATE %s",
			    code != NULL ? code : "unknown");
			qs = Q_ERROR;
		}
		PQclear(res);
		return qs;
	}
	nf = PQnfields(res);
	if (nf > (int)(sizeof(col) / sizeof(col[0])))
		nf = (int)(sizeof(col) / sizeof(col[0]));
	for (i = 0; i < PQntuples(res); i++) {
		for (j = 0; j < nf; j++)
			col[j] = PQgetisnull(res, i, j) ? NULL :
			    PQgetvalue(res, i, j);
		if (cb(cbarg, col, nf) != 0)
			break;
	}
	PQclear(res);
	return Q_OK;
}

static void
pg_close(void *conn)
{
	PQfinish(conn);
}

const struct dbdriver pg_driver = {
	"postgresql", 5432, pg_connect, pg_query, pg_close
};
