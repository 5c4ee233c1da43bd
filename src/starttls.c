/*
 * LDAP STARTTLS (RFC 4511, 4.14) ahead of libcurl.  libcurl's own STARTTLS
 * over OpenLDAP is broken from 7.87 to 8.5 (Debian 12 ships 7.88), and
 * 7.88 also ignores CURL_SOCKOPT_ALREADY_CONNECTED, so a socket on which
 * the extended operation has been done cannot be handed over directly.
 * Instead: connect to the server, ask for STARTTLS, and on success relay
 * that connection to a one-shot listener on 127.0.0.1, to which libcurl
 * then connects as if to an ldaps:// server.  The TLS handshake (checked
 * against the URL's host name), the bind and everything after stay
 * libcurl's; this file only speaks plain TCP.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define RESPONSE_MAX	4096	/* bytes of one STARTTLS response */
#define RELAY_BUF	16384

/*
 * LDAPMessage { messageID 1, protocolOp ExtendedRequest { requestName
 * [0] "1.3.6.1.4.1.1466.20037" } } in BER.
 */
static const unsigned char starttls_request[] = {
	0x30, 0x1d,			/* SEQUENCE, 29 bytes */
	0x02, 0x01, 0x01,		/* messageID INTEGER 1 */
	0x77, 0x18,			/* [APPLICATION 23] ExtendedRequest */
	0x80, 0x16,			/* [0] requestName, 22 bytes */
	'1', '.', '3', '.', '6', '.', '1', '.', '4', '.', '1', '.',
	'1', '4', '6', '6', '.', '2', '0', '0', '3', '7',
};

struct relay {
	int		 up;		/* the server, after STARTTLS */
	int		 lst;		/* the one-shot listener */
	int		 stop[2];	/* a byte on stop[1] ends the relay */
	struct sockaddr_in client;	/* libcurl's end, bound in advance */
	double		 deadline;
	pthread_t	 thread;
};

/* Returns a fixed phrase for a status. */
const char *
starttls_strerror(enum tlsstatus st)
{
	switch (st) {
	case TLS_OK:
		return "ok";
	case TLS_REFUSED:
		return "connection refused";
	case TLS_TIMEOUT:
		return "connection timed out";
	case TLS_RESET:
		return "connection reset";
	case TLS_NOT_LDAP:
		return "not an LDAP server";
	case TLS_DENIED:
		return "start_tls refused";
	default:
		return "out of resources";
	}
}

/*
 * Reads a BER tag and length at *p (not past end).  Returns 1 with
 * *tag, *len and *p past the header, 0 when more bytes are needed, -1
 * when malformed (multi-byte tags, indefinite or oversized lengths).
 */
static int
ber_header(const unsigned char **p, const unsigned char *end,
    unsigned *tag, size_t *len)
{
	const unsigned char	*q = *p;
	size_t			 n, i;

	if (end - q < 2)
		return 0;
	if ((q[0] & 0x1f) == 0x1f)
		return -1;
	*tag = q[0];
	if (q[1] < 0x80) {
		*len = q[1];
		*p = q + 2;
		return 1;
	}
	n = q[1] & 0x7f;
	if (n == 0 || n > 3)
		return -1;
	if ((size_t)(end - q) < 2 + n)
		return 0;
	for (*len = 0, i = 0; i < n; i++)
		*len = (*len << 8) | q[2 + i];
	*p = q + 2 + n;
	return 1;
}

/*
 * Reads a small non-negative INTEGER or ENUMERATED body of len bytes.
 * Returns it, or -1 when it does not fit.
 */
static long
ber_small(const unsigned char *p, size_t len)
{
	long	v = 0;
	size_t	i;

	if (len == 0 || len > 4 || (p[0] & 0x80))
		return -1;
	for (i = 0; i < len; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Parses the server's answer to the STARTTLS request at the start of buf.
 * Returns its length in bytes with *code set to its resultCode (0 = go
 * ahead), 0 when the message is not complete yet, -1 when buf does not
 * start with an LDAP ExtendedResponse to it.  A Notice of Disconnection
 * (messageID 0) counts as an answer, never as a go-ahead.
 */
long
starttls_parse(const unsigned char *buf, size_t len, int *code)
{
	const unsigned char	*p = buf, *end = buf + len, *msgend;
	unsigned		 tag;
	size_t			 n;
	long			 id, rc;
	int			 r;

	if ((r = ber_header(&p, end, &tag, &n)) <= 0)
		return r;
	if (tag != 0x30 || n > RESPONSE_MAX)
		return -1;
	if ((size_t)(end - p) < n)
		return 0;
	msgend = p + n;
	if (ber_header(&p, msgend, &tag, &n) != 1 || tag != 0x02 ||
	    (size_t)(msgend - p) < n || (id = ber_small(p, n)) < 0)
		return -1;
	p += n;
	if (id != 0 && id != 1)
		return -1;
	/* [APPLICATION 24] ExtendedResponse, then its resultCode. */
	if (ber_header(&p, msgend, &tag, &n) != 1 || tag != 0x78 ||
	    (size_t)(msgend - p) < n)
		return -1;
	if (ber_header(&p, msgend, &tag, &n) != 1 || tag != 0x0a ||
	    (size_t)(msgend - p) < n || (rc = ber_small(p, n)) < 0)
		return -1;
	*code = (int)rc;
	if (id == 0 && *code == 0)
		*code = 80;	/* other */
	return (long)(msgend - buf);
}

/* Returns the milliseconds left before deadline, at least 0. */
static int
ms_left(double deadline)
{
	double left = (deadline - mono_now()) * 1000.0;

	return left <= 0.0 ? 0 : left > 86400000.0 ? 86400000 : (int)left + 1;
}

/* Waits for events on fd until deadline.  Returns TLS_OK or a status. */
static enum tlsstatus
wait_fd(int fd, short events, double deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	int		ms, n;

	for (;;) {
		if ((ms = ms_left(deadline)) == 0)
			return TLS_TIMEOUT;
		if ((n = poll(&pfd, 1, ms)) > 0)
			return TLS_OK;
		if (n < 0 && errno != EINTR)
			return TLS_SYSTEM;
	}
}

/* Sends all of buf before deadline.  Returns TLS_OK or a status. */
static enum tlsstatus
send_all(int fd, const void *buf, size_t len, double deadline)
{
	const char	*p = buf;
	ssize_t		 n;
	enum tlsstatus	 st;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return TLS_RESET;
		if ((st = wait_fd(fd, POLLOUT, deadline)) != TLS_OK)
			return st;
	}
	return TLS_OK;
}

/* Maps a connect error to a status. */
static enum tlsstatus
connect_status(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EADDRNOTAVAIL:
		return TLS_REFUSED;
	case ETIMEDOUT:
		return TLS_TIMEOUT;
	default:
		return TLS_RESET;
	}
}

/*
 * Connects to the server at sa and asks for STARTTLS, before deadline.
 * Returns TLS_OK with *fd the connection, ready for a TLS handshake; else
 * a status, with *code the server's resultCode for TLS_DENIED.
 */
static enum tlsstatus
ask_starttls(const struct sockaddr *sa, socklen_t salen, double deadline,
    int *fd, int *code)
{
	unsigned char	 buf[RESPONSE_MAX + 8];
	size_t		 have = 0;
	ssize_t		 n;
	long		 r;
	socklen_t	 elen = sizeof(int);
	int		 s, err = 0;
	enum tlsstatus	 st;

	if ((s = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return TLS_SYSTEM;
	if (connect(s, sa, salen) == -1) {
		if (errno != EINPROGRESS) {
			st = connect_status(errno);
			goto out;
		}
		if ((st = wait_fd(s, POLLOUT, deadline)) != TLS_OK)
			goto out;
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 ||
		    err != 0) {
			st = connect_status(err);
			goto out;
		}
	}
	if ((st = send_all(s, starttls_request, sizeof(starttls_request),
	    deadline)) != TLS_OK)
		goto out;
	for (;;) {
		if ((st = wait_fd(s, POLLIN, deadline)) != TLS_OK)
			goto out;
		n = recv(s, buf + have, sizeof(buf) - have, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			st = TLS_RESET;
			goto out;
		}
		have += (size_t)n;
		if ((r = starttls_parse(buf, have, code)) != 0)
			break;
		if (have == sizeof(buf)) {
			st = TLS_NOT_LDAP;
			goto out;
		}
	}
	/* Nothing may follow the answer before the handshake. */
	if (r < 0 || (size_t)r != have) {
		st = TLS_NOT_LDAP;
		goto out;
	}
	st = *code == 0 ? TLS_OK : TLS_DENIED;
out:
	if (st == TLS_OK)
		*fd = s;
	else
		close(s);
	return st;
}

/* Returns a TCP socket bound to 127.0.0.1 on a free port, its address
 * in *sin, or -1. */
static int
loopback_socket(struct sockaddr_in *sin)
{
	socklen_t	len = sizeof(*sin);
	int		s;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(s, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)sin, &len) == -1) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * Accepts libcurl's connection on the listener; any other peer (another
 * local process racing for the port) is turned away.  Returns the
 * accepted socket, or -1 at the deadline or on a stop.
 */
static int
relay_accept(struct relay *r)
{
	struct pollfd		pfd[2];
	struct sockaddr_in	peer;
	socklen_t		len;
	int			s, ms;

	pfd[0].fd = r->lst;
	pfd[0].events = POLLIN;
	pfd[1].fd = r->stop[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if ((ms = ms_left(r->deadline)) == 0)
			return -1;
		if (poll(pfd, 2, ms) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd[1].revents)
			return -1;
		if (!pfd[0].revents)
			continue;
		len = sizeof(peer);
		s = accept4(r->lst, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s == -1)
			continue;
		if (len == sizeof(peer) && peer.sin_family == AF_INET &&
		    peer.sin_port == r->client.sin_port &&
		    peer.sin_addr.s_addr == r->client.sin_addr.s_addr)
			return s;
		close(s);
	}
}

/*
 * The relay thread: takes libcurl's connection, then copies bytes both
 * ways until both sides have closed, the deadline passes, or a stop.
 */
static void *
relay_run(void *arg)
{
	struct relay	*r = arg;
	struct pollfd	 pfd[3];
	char		 buf[RELAY_BUF];
	int		 fds[2], open[2] = { 1, 1 }, c, i, ms, one = 1;
	ssize_t		 n;

	if ((c = relay_accept(r)) == -1)
		return NULL;
	fds[0] = c;
	fds[1] = r->up;
	/* Relayed TLS records must not wait for Nagle and delayed ACKs. */
	for (i = 0; i < 2; i++)
		(void)setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	while (open[0] || open[1]) {
		for (i = 0; i < 2; i++) {
			pfd[i].fd = open[i] ? fds[i] : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		pfd[2].fd = r->stop[0];
		pfd[2].events = POLLIN;
		pfd[2].revents = 0;
		if ((ms = ms_left(r->deadline)) == 0)
			break;
		if (poll(pfd, 3, ms) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[2].revents)
			break;
		for (i = 0; i < 2; i++) {
			if (!pfd[i].revents)
				continue;
			n = recv(fds[i], buf, sizeof(buf), 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				/* Pass the end on; the other way may go on. */
				open[i] = 0;
				shutdown(fds[!i], SHUT_WR);
				continue;
			}
			if (send_all(fds[!i], buf, (size_t)n, r->deadline) !=
			    TLS_OK) {
				open[0] = open[1] = 0;
				break;
			}
		}
	}
	close(c);
	return NULL;
}

/*
 * Connects to the LDAP server at sa, asks it for STARTTLS and, when it
 * agrees, starts relaying that connection to a listener on 127.0.0.1.
 * Returns TLS_OK with *rp the relay, *fd an unconnected socket to give
 * libcurl and *lsin the address to connect it to; else a status (*code
 * the server's resultCode for TLS_DENIED).  Free with relay_close().
 */
enum tlsstatus
relay_open(const struct sockaddr *sa, socklen_t salen, double deadline,
    struct relay **rp, int *fd, struct sockaddr_in *lsin, int *code)
{
	struct relay	*r;
	enum tlsstatus	 st;

	*rp = NULL;
	*fd = -1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return TLS_SYSTEM;
	r->lst = r->stop[0] = r->stop[1] = -1;
	r->deadline = deadline;
	if ((st = ask_starttls(sa, salen, deadline, &r->up, code)) != TLS_OK) {
		free(r);
		return st;
	}
	st = TLS_SYSTEM;
	if ((r->lst = loopback_socket(lsin)) == -1 ||
	    listen(r->lst, 1) == -1 ||
	    (*fd = loopback_socket(&r->client)) == -1 ||
	    pipe2(r->stop, O_CLOEXEC) == -1 ||
	    pthread_create(&r->thread, NULL, relay_run, r) != 0)
		goto fail;
	*rp = r;
	return TLS_OK;
fail:
	if (*fd != -1)
		close(*fd);
	*fd = -1;
	if (r->stop[0] != -1) {
		close(r->stop[0]);
		close(r->stop[1]);
	}
	if (r->lst != -1)
		close(r->lst);
	close(r->up);
	free(r);
	return st;
}

/* Ends the relay, waits for its thread, and frees it. */
void
relay_close(struct relay *r)
{
	char c = 'x';

	if (r == NULL)
		return;
	while (write(r->stop[1], &c, 1) == -1 && errno == EINTR)
		continue;
	pthread_join(r->thread, NULL);
	close(r->stop[0]);
	close(r->stop[1]);
	close(r->lst);
	close(r->up);
	free(r);
}
