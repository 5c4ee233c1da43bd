/*
 * The MariaDB/MySQL driver of the database component (PORTUS_DB_ADAPTER
 * unset or mysql2: Portus's default).  All libmariadb calls live here.
 * MariaDB Connector/C's non-blocking API drives every step, so that the
 * check waits on the socket itself and gives up at the run's one
 * deadline like every other check.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "extern.h"

#define WAIT_DEADLINE	(-1)

static pthread_once_t	 once = PTHREAD_ONCE_INIT;
static int		 lib_ok;

/* The library's global state, once, before any connection (it is not
 * safe to let two threads set it up at once). */
static void
lib_init(void)
{
	lib_ok = mysql_library_init(0, NULL, NULL) == 0;
}

/*
 * Waits for what a _start or _cont call asked (status) until deadline.
 * Returns the events to hand to the _cont call, or WAIT_DEADLINE.
 */
static int
wait_mysql(MYSQL *m, int status, double deadline)
{
	struct pollfd	 pfd;
	double		 left;
	int		 ms, libms = -1, r, ev = 0;

	pfd.fd = mysql_get_socket(m);
	pfd.events = (status & MYSQL_WAIT_READ ? POLLIN : 0) |
	    (status & MYSQL_WAIT_WRITE ? POLLOUT : 0) |
	    (status & MYSQL_WAIT_EXCEPT ? POLLPRI : 0);
	if (status & MYSQL_WAIT_TIMEOUT)
		libms = (int)mysql_get_timeout_value_ms(m);
	for (;;) {
		if ((left = deadline - mono_now()) <= 0)
			return WAIT_DEADLINE;
		ms = (int)(left * 1000) + 1;
		if (libms >= 0 && libms < ms)
			ms = libms;
		r = poll(&pfd, pfd.events != 0 ? 1 : 0, ms);
		if (r == -1 && errno == EINTR)
			continue;
		break;
	}
	if (r == 0)
		return ms == libms ? MYSQL_WAIT_TIMEOUT : WAIT_DEADLINE;
	if (r < 0)
		return MYSQL_WAIT_READ | MYSQL_WAIT_WRITE;	/* let it fail */
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
		ev |= MYSQL_WAIT_READ;
	if (pfd.revents & (POLLOUT | POLLERR))
		ev |= MYSQL_WAIT_WRITE;
	if (pfd.revents & POLLPRI)
		ev |= MYSQL_WAIT_EXCEPT;
	return ev;
}

/* Gives up on m in the middle of an operation: the socket is shut first,
 * so that closing sends nothing and never blocks. */
static void
abandon(MYSQL *m)
{
	mariadb_cancel(m);
	mysql_close(m);
}

/* Returns whether a client error means the connection is gone. */
static int
lost(unsigned int err)
{
	return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST ||
	    err == CR_SERVER_LOST_EXTENDED;
}

/*
 * Connects with the PORTUS_DB_* settings before deadline
 * (PORTUS_DB_SOCKET is a socket file, as mysql2 reads it, and wins over
 * the host).  Returns the connection, or NULL with *st DB_MISSING for
 * error 1049 (unknown database) and DB_DOWN otherwise.
 */
static void *
my_connect(const struct config *cfg, double deadline, enum dbstate *st,
    char *reason, size_t sz)
{
	const char	*sock = cfg_str(cfg, K_DB_SOCKET);
	const char	*host = cfg_str(cfg, K_DB_HOST);
	const char	*pw = cfg_str(cfg, K_DB_PASSWORD);
	MYSQL		*m, *ret = NULL;
	unsigned int	 err;
	int		 status, ev;

	*st = DB_DOWN;
	pthread_once(&once, lib_init);
	if (!lib_ok || (m = mysql_init(NULL)) == NULL) {
		snprintf(reason, sz, "cannot initialise libmariadb");
		return NULL;
	}
	if (cfg_int(cfg, K_DB_TIMEOUT) > 0 &&
	    mono_now() + (double)cfg_int(cfg, K_DB_TIMEOUT) < deadline)
		deadline = mono_now() + (double)cfg_int(cfg, K_DB_TIMEOUT);
	mysql_options(m, MYSQL_OPT_NONBLOCK, 0);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(m, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name",
	    PH_NAME);
	status = mysql_real_connect_start(&ret, m,
	    *sock != '\0' ? "localhost" : host, cfg_str(cfg, K_DB_USERNAME),
	    *pw != '\0' ? pw : NULL, cfg_str(cfg, K_DB_DATABASE),
	    (unsigned int)cfg_int(cfg, K_DB_PORT),
	    *sock != '\0' ? sock : NULL, 0);
	while (status != 0) {
		if ((ev = wait_mysql(m, status, deadline)) == WAIT_DEADLINE) {
			snprintf(reason, sz, "connection timed out");
			abandon(m);
			return NULL;
		}
		status = mysql_real_connect_cont(&ret, m, ev);
	}
	if (ret == NULL) {
		err = mysql_errno(m);
		/* The server's words, which never hold the password. */
		snprintf(reason, sz, "%s (error %u)", mysql_error(m), err);
		if (err == ER_BAD_DB_ERROR)
			*st = DB_MISSING;
		mysql_close(m);
		return NULL;
	}
	*st = DB_UP;
	return m;
}

/* Hands the rows of res to cb. */
static void
rows(MYSQL_RES *res, db_row_cb cb, void *cbarg)
{
	const char	*col[8];
	MYSQL_ROW	 row;
	unsigned int	 nf = mysql_num_fields(res), i;

	if (nf > sizeof(col) / sizeof(col[0]))
		nf = sizeof(col) / sizeof(col[0]);
	/* Stored results are in memory: fetching never blocks. */
	while ((row = mysql_fetch_row(res)) != NULL) {
		for (i = 0; i < nf; i++)
			col[i] = row[i];
		if (cb(cbarg, col, (int)nf) != 0)
			break;
	}
}

/*
 * Runs sql on the connection before deadline and hands each row to cb.
 * Returns Q_OK, Q_NO_TABLE (error 1146), Q_ERROR (reason holds the error
 * number, never SQL), Q_LOST or Q_TIMEOUT.  After Q_LOST or Q_TIMEOUT
 * the connection is closed and must not be used again.
 */
static enum qstatus
my_query(void *arg, const char *sql, double deadline, db_row_cb cb,
    void *cbarg, char *reason, size_t sz)
{
	MYSQL		*m = arg;
	MYSQL_RES	*res = NULL;
	unsigned int	 err;
	int		 status, ev, qret = 1;

	status = mysql_real_query_start(&qret, m, sql, strlen(sql));
	while (status != 0) {
		if ((ev = wait_mysql(m, status, deadline)) == WAIT_DEADLINE)
			goto timeout;
		status = mysql_real_query_cont(&qret, m, ev);
	}
	if (qret == 0) {
		status = mysql_store_result_start(&res, m);
		while (status != 0) {
			if ((ev = wait_mysql(m, status, deadline)) ==
			    WAIT_DEADLINE)
				goto timeout;
			status = mysql_store_result_cont(&res, m, ev);
		}
	}
	if (res != NULL) {
		rows(res, cb, cbarg);
		mysql_free_result(res);
		return Q_OK;
	}
	err = mysql_errno(m);
	if (err == 0)
		return Q_OK;	/* a statement without rows */
	if (err == ER_NO_SUCH_TABLE)
		return Q_NO_TABLE;
	if (lost(err))
		return Q_LOST;
	snprintf(reason, sz, "query failed: error %u", err);
	return Q_ERROR;
timeout:
	/* Half a query on the wire: this connection is done for. */
	mariadb_cancel(m);
	return Q_TIMEOUT;
}

/* Closes a connection: COM_QUIT on a healthy one, nothing on one that
 * timed out (my_query shut it). */
static void
my_close(void *m)
{
	mysql_close(m);
}

const struct dbdriver mysql_driver = {
	"mysql2", 3306, my_connect, my_query, my_close
};
