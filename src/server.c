/*
 * The FastCGI responder's serving core.  health.workers event loops
 * (epoll) share the listening socket; each owns the connections it
 * accepts, from accept to close, and does all their reading and writing,
 * never blocking: an idle connection kept open by the web server (nginx
 * fastcgi_keep_conn, HAProxy keep-conn) costs a descriptor, not a thread.
 * A request that waits for a health run leaves its connection parked;
 * the checker thread only hands the result back to the owning loop, which
 * writes the answer, so a stalled web-server socket delays only its own
 * request.  Bounded everywhere: a connection must send its request within
 * READ_TIMEOUT, parameters are bounded (fcgi.c), connections are capped
 * below the descriptor limit, accepting pauses when descriptors run out
 * (as OpenBSD's slowcgi does), and SIGTERM ends the process within
 * STOP_GRACE plus a second.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define READ_TIMEOUT	5.0	/* seconds for a whole request to arrive */
#define IDLE_TIMEOUT	300.0	/* a kept connection may idle this long */
#define WRITE_TIMEOUT	10.0	/* seconds for an answer to leave */
#define LINGER_TIMEOUT	2.0	/* seconds to drain what the peer still sends */
#define STOP_GRACE	10.0	/* SIGTERM: waiting requests then get 503 */
#define PAUSE		0.1	/* accepting pauses this long when full */
#define RESERVE_FDS	32	/* kept for checks, files, logs */
#define TICK_MS		100	/* deadlines are looked at this often */
#define READ_CHUNK	16384
#define IN_MAX		(FCGI_PARAMS_MAX + 2 * 65536 + READ_CHUNK)
#define EVENTS		64
#define ACCEPTS		64	/* per wake-up, to share the work */

enum cstate { C_READ, C_BUSY, C_WRITE, C_LINGER };

struct loop;

struct conn {
	int		 fd;
	struct loop	*lp;
	enum cstate	 state;
	unsigned	 events;	/* registered with epoll; 0: none */
	struct fcgi	 f;
	unsigned char	*in;
	size_t		 inlen, incap;
	struct wbuf	 out;
	double		 deadline;	/* of what it is doing now */
	int		 kept;		/* it served a request already */
	int		 close_after;	/* close once out is written */
	struct request	*req;		/* in flight */
	struct conn	*prev, *next;	/* the loop's connections */
	struct conn	*done_next;	/* in the loop's done queue */
};

struct server;

struct loop {
	pthread_t	 tid;
	struct server	*srv;
	int		 ep;
	int		 evfd;		/* wakes the loop */
	pthread_mutex_t	 lock;		/* the done queue */
	struct conn	*done;		/* parked requests with their result */
	struct conn	*conns;
	double		 paused_until;	/* accepting again then; 0: not paused */
	int		 listening;	/* the listener is in ep */
	int		 stopped;	/* it has seen the stop */
};

struct server {
	int		 lfd;
	struct frontend	*fe;
	struct loop	*loops;
	long		 nloops;
	long		 conn_max;
	long		 nconns;	/* atomic, over every loop */
	long		 max_requests;	/* 0: no limit */
	long		 served;	/* atomic */
	int		 stopping;	/* atomic */
	double		 stop_at;	/* waiting requests get 503 then */
	int		 full_said;	/* atomic: "out of descriptors" logged */
};


/* Registers the connection for events (0: none at all). */
static void
conn_watch(struct conn *c, unsigned events)
{
	struct epoll_event ev;

	if (events == c->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (events == 0)
		epoll_ctl(c->lp->ep, EPOLL_CTL_DEL, c->fd, NULL);
	else
		epoll_ctl(c->lp->ep, c->events == 0 ? EPOLL_CTL_ADD :
		    EPOLL_CTL_MOD, c->fd, &ev);
	c->events = events;
}

/* Closes the connection and frees it; a request in flight must have been
 * taken back first. */
static void
conn_close(struct conn *c)
{
	struct loop *lp = c->lp;

	conn_watch(c, 0);
	close(c->fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		lp->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	request_free(c->req);
	fcgi_free(&c->f);
	wbuf_free(&c->out);
	free(c->in);
	free(c);
	__atomic_sub_fetch(&lp->srv->nconns, 1, __ATOMIC_RELAXED);
}

/* Sets the read deadline: a request begun (or a new connection) has
 * READ_TIMEOUT to arrive whole; a kept connection may idle longer. */
static void
conn_idle(struct conn *c, double now)
{
	c->state = C_READ;
	c->deadline = now + (c->kept && c->inlen == 0 && c->f.id == 0 ?
	    IDLE_TIMEOUT : READ_TIMEOUT);
}

enum flush { FLUSH_DONE, FLUSH_PENDING, FLUSH_CLOSED };

/*
 * Ends a connection whose last answer is written.  Closing a socket with
 * unread bytes (the web server's end of FCGI_STDIN, say) makes the peer's
 * next read fail, answer unread: so say we are done (shutdown) and read
 * until the peer closes too, for LINGER_TIMEOUT at most, as libfcgi does.
 */
static void
conn_linger(struct conn *c)
{
	if (shutdown(c->fd, SHUT_WR) == -1) {
		conn_close(c);
		return;
	}
	c->state = C_LINGER;
	c->deadline = mono_now() + LINGER_TIMEOUT;
	conn_watch(c, EPOLLIN);
}

/* Reads and drops what a lingering connection still gets; closes it at
 * the end of the stream. */
static void
conn_drain(struct conn *c)
{
	unsigned char	 buf[4096];
	ssize_t		 n;

	while ((n = read(c->fd, buf, sizeof(buf))) > 0 ||
	    (n == -1 && errno == EINTR))
		continue;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		conn_close(c);
}

/*
 * Writes what waits in out.  When all of it is out, the connection reads
 * again (or closes, after an answer that ends it).  Returns FLUSH_DONE,
 * FLUSH_PENDING (the loop writes the rest when it can) or FLUSH_CLOSED
 * (c is gone).
 */
static enum flush
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->out.off < c->out.len) {
		n = write(c->fd, c->out.b + c->out.off, c->out.len - c->out.off);
		if (n > 0) {
			c->out.off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_watch(c, EPOLLOUT);
			return FLUSH_PENDING;
		}
		conn_close(c);
		return FLUSH_CLOSED;
	}
	wbuf_reset(&c->out);
	if (c->close_after || __atomic_load_n(&c->lp->srv->stopping,
	    __ATOMIC_ACQUIRE)) {
		conn_linger(c);
		return FLUSH_CLOSED;
	}
	conn_idle(c, mono_now());
	conn_watch(c, EPOLLIN);
	return FLUSH_DONE;
}

/* Starts writing out (an answer, or replies to management records). */
static enum flush
conn_send(struct conn *c)
{
	c->state = C_WRITE;
	c->deadline = mono_now() + WRITE_TIMEOUT;
	return conn_flush(c);
}

/* Counts an answered request; the one that reaches health.max_requests
 * stops the process, as SIGTERM does. */
static void
count_served(struct server *srv)
{
	if (srv->max_requests > 0 && __atomic_add_fetch(&srv->served, 1,
	    __ATOMIC_ACQ_REL) == srv->max_requests) {
		plog(PL_INFO, "served health.max_requests (%ld) requests; "
		    "recycling", srv->max_requests);
		kill(getpid(), SIGTERM);
	}
}

/* Sends the request's answer and finishes the request.  Returns as
 * conn_flush does. */
static enum flush
conn_answer(struct conn *c)
{
	const struct wbuf *o = request_output(c->req);

	if (fcgi_respond(&c->out, c->f.id, (const char *)o->b, o->len) == -1)
		c->close_after = 1;
	if (!c->f.keep)
		c->close_after = 1;
	request_free(c->req);
	c->req = NULL;
	fcgi_reset(&c->f);
	c->kept = 1;
	count_served(c->lp->srv);
	return conn_send(c);
}

/* A parked request's result has come (from the checker thread, or at
 * once): queue its connection for its loop. */
static void
on_ready(struct request *r, void *arg)
{
	struct conn	*c = arg;
	struct loop	*lp = c->lp;
	uint64_t	 one = 1;

	(void)r;
	pthread_mutex_lock(&lp->lock);
	c->done_next = lp->done;
	lp->done = c;
	pthread_mutex_unlock(&lp->lock);
	(void)!write(lp->evfd, &one, sizeof(one));
}

/* Returns a parameter of the request on the connection. */
static const char *
param(const char *name, void *arg)
{
	return fcgi_param(arg, name);
}

/* No variable at all: for a request whose parameters could not be read. */
static const char *
no_param(const char *name, void *arg)
{
	(void)name;
	(void)arg;
	return NULL;
}

/* Starts the request whose parameters just came (or were too large).
 * Returns as conn_flush does; FLUSH_PENDING also when it is parked. */
static enum flush
conn_request(struct conn *c, int toobig)
{
	struct server *srv = c->lp->srv;

	if ((c->req = request_new(toobig ? no_param : param, &c->f)) == NULL) {
		conn_close(c);
		return FLUSH_CLOSED;
	}
	if (toobig) {
		/* The rest of the stream cannot be trusted to resync. */
		serve_toobig(c->req);
		c->close_after = 1;
		return conn_answer(c);
	}
	/* Nothing is read while the request is in hand: FastCGI web
	 * servers send one request at a time on a connection. */
	if (serve_fcgi(c->req, srv->fe, fcgi_envp(&c->f), on_ready, c))
		return conn_answer(c);
	c->state = C_BUSY;
	conn_watch(c, 0);
	return FLUSH_PENDING;
}

/*
 * Reads the records in the input buffer, acting on each event, for as
 * long as the connection is reading (requests sent one after the other
 * are answered in turn, with no recursion).
 */
static void
conn_process(struct conn *c)
{
	enum fcgi_ev	 ev;
	enum flush	 fl = FLUSH_DONE;
	size_t		 used;

	while (c->state == C_READ) {
		used = fcgi_read(&c->f, c->in, c->inlen, &c->out, &ev);
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		switch (ev) {
		case FCGI_NONE:
			/* Replies to management records, if any. */
			if (c->out.len > c->out.off) {
				fl = conn_send(c);
				break;
			}
			if (c->inlen == 0 && c->f.id == 0)
				conn_idle(c, mono_now());
			return;
		case FCGI_REQUEST:
			fl = conn_request(c, 0);
			break;
		case FCGI_TOOBIG:
			fl = conn_request(c, 1);
			break;
		case FCGI_ABORT:
			if (fcgi_respond(&c->out, c->f.id, NULL, 0) == -1 ||
			    !c->f.keep)
				c->close_after = 1;
			fcgi_reset(&c->f);
			fl = conn_send(c);
			break;
		case FCGI_BAD:
			conn_close(c);
			return;
		}
		if (fl != FLUSH_DONE)
			return;
	}
}

/* Reads what the connection has, then acts on it. */
static void
conn_read(struct conn *c)
{
	unsigned char	*nb;
	size_t		 cap;
	ssize_t		 n;
	int		 begun = c->inlen > 0 || c->f.id != 0;

	for (;;) {
		if (c->incap - c->inlen < READ_CHUNK) {
			cap = c->incap + READ_CHUNK * 2;
			if (cap > IN_MAX || (nb = realloc(c->in, cap)) == NULL) {
				conn_close(c);	/* not FastCGI as we know it */
				return;
			}
			c->in = nb;
			c->incap = cap;
		}
		n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
		if (n > 0) {
			c->inlen += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_close(c);	/* end of file, or an error */
		return;
	}
	/* A new request gets READ_TIMEOUT from its first byte. */
	if (!begun && c->inlen > 0)
		c->deadline = mono_now() + READ_TIMEOUT;
	conn_process(c);
}

/* Answers a request (parked till now) and reads on. */
static void
conn_finish(struct conn *c)
{
	if (conn_answer(c) == FLUSH_DONE && c->inlen > 0)
		conn_process(c);
}

/* Stops accepting in this loop for PAUSE seconds. */
static void
pause_accepting(struct loop *lp)
{
	if (lp->listening) {
		epoll_ctl(lp->ep, EPOLL_CTL_DEL, lp->srv->lfd, NULL);
		lp->listening = 0;
	}
	lp->paused_until = mono_now() + PAUSE;
}

/* Watches the listener (again). */
static void
listen_again(struct loop *lp)
{
	struct epoll_event ev;

	if (lp->listening)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = NULL;
	if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, lp->srv->lfd, &ev) == 0)
		lp->listening = 1;
	lp->paused_until = 0;
}

/* Accepts what waits on the listener, up to the connection cap. */
static void
do_accept(struct loop *lp)
{
	struct server	*srv = lp->srv;
	struct conn	*c;
	int		 i, fd;

	for (i = 0; i < ACCEPTS; i++) {
		if (__atomic_load_n(&srv->nconns, __ATOMIC_RELAXED) >=
		    srv->conn_max) {
			pause_accepting(lp);
			return;
		}
		fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* EMFILE, ENFILE, ENOBUFS: pause and come back; the
			 * waiting connections stay in the backlog. */
			if (!__atomic_exchange_n(&srv->full_said, 1,
			    __ATOMIC_RELAXED))
				plog(PL_WARN, "accept: %s; pausing accepting",
				    strerror(errno));
			pause_accepting(lp);
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			pause_accepting(lp);
			return;
		}
		__atomic_add_fetch(&srv->nconns, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&srv->full_said, 0, __ATOMIC_RELAXED);
		c->fd = fd;
		c->lp = lp;
		c->next = lp->conns;
		if (lp->conns != NULL)
			lp->conns->prev = c;
		lp->conns = c;
		conn_idle(c, mono_now());
		conn_watch(c, EPOLLIN);
	}
}

/* Answers the parked requests whose result has come. */
static void
drain_done(struct loop *lp)
{
	struct conn	*c, *next;
	uint64_t	 n;

	(void)!read(lp->evfd, &n, sizeof(n));
	pthread_mutex_lock(&lp->lock);
	c = lp->done;
	lp->done = NULL;
	pthread_mutex_unlock(&lp->lock);
	for (; c != NULL; c = next) {
		next = c->done_next;
		serve_finish(c->req);
		conn_finish(c);
	}
}

/* Deadlines, pauses and the stop, looked at every tick. */
static void
housekeeping(struct loop *lp, double now)
{
	struct server	*srv = lp->srv;
	struct conn	*c, *next;
	int		 stopping;

	stopping = __atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE);
	if (stopping && !lp->stopped) {
		lp->stopped = 1;
		pause_accepting(lp);
		lp->paused_until = 0;
	}
	if (!stopping && lp->paused_until != 0 && now >= lp->paused_until)
		listen_again(lp);
	for (c = lp->conns; c != NULL; c = next) {
		next = c->next;
		switch (c->state) {
		case C_READ:
			/* Stopping: idle ones go; one begun may finish. */
			if (now >= c->deadline || (stopping && c->inlen == 0 &&
			    c->f.id == 0) || (stopping && now >= srv->stop_at))
				conn_close(c);
			break;
		case C_WRITE:
		case C_LINGER:
			if (now >= c->deadline)
				conn_close(c);
			break;
		case C_BUSY:
			/* A run still not done: 503 rather than a hang. */
			if (stopping && now >= srv->stop_at &&
			    serve_cancel(c->req))
				conn_finish(c);
			break;
		}
	}
}

/* One event loop. */
static void *
loop_main(void *arg)
{
	struct loop		*lp = arg;
	struct server		*srv = lp->srv;
	struct epoll_event	 evs[EVENTS];
	struct conn		*c;
	double			 now;
	int			 i, n;

	listen_again(lp);
	for (;;) {
		n = epoll_wait(lp->ep, evs, EVENTS, TICK_MS);
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				do_accept(lp);
				continue;
			}
			if (evs[i].data.ptr == &lp->evfd) {
				drain_done(lp);
				continue;
			}
			c = evs[i].data.ptr;
			if (c->state == C_READ)
				conn_read(c);
			else if (c->state == C_LINGER)
				conn_drain(c);
			else if (c->state == C_WRITE &&
			    conn_flush(c) == FLUSH_DONE && c->inlen > 0)
				conn_process(c);
		}
		now = mono_now();
		housekeeping(lp, now);
		if (lp->stopped && lp->conns == NULL)
			break;
		/* A connection stuck past every deadline is given up. */
		if (lp->stopped && now >= srv->stop_at + 1.0) {
			while ((c = lp->conns) != NULL) {
				if (c->state == C_BUSY)
					break;	/* its result is on its way */
				conn_close(c);
			}
			if (lp->conns == NULL || now >= srv->stop_at + 2.0)
				break;
		}
	}
	return NULL;
}

/* Returns the most connections the descriptor limit allows, after
 * raising the soft limit to the hard one. */
static long
connections_allowed(long nloops)
{
	struct rlimit	 rl;
	long		 n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 64;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	n = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536 ? 65536 :
	    (long)rl.rlim_cur;
	n -= RESERVE_FDS + 2 * nloops;
	return n < 4 ? 4 : n;
}

/*
 * Serves FastCGI on the listening socket lfd with nloops event loops and
 * the frontend fe, until *stop is set (SIGTERM): then stops accepting,
 * lets the requests in hand finish and answers the waiting ones (503 when
 * their run is not done within STOP_GRACE).  The listening socket is left
 * open and unchanged but for O_NONBLOCK, for the next process.  Returns 0,
 * or -1 when nothing could be started.
 */
struct server *
server_start(int lfd, struct frontend *fe, long nloops, long max_requests)
{
	struct server	*srv;
	struct epoll_event ev;
	long		 i;
	int		 fl;

	if ((fl = fcntl(lfd, F_GETFL)) == -1 ||
	    fcntl(lfd, F_SETFL, fl | O_NONBLOCK) == -1) {
		plog(PL_ERROR, "listening socket: %s", strerror(errno));
		return NULL;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL ||
	    (srv->loops = calloc((size_t)nloops, sizeof(*srv->loops))) ==
	    NULL) {
		free(srv);
		return NULL;
	}
	srv->lfd = lfd;
	srv->fe = fe;
	srv->max_requests = max_requests;
	srv->conn_max = connections_allowed(nloops);
	for (i = 0; i < nloops; i++) {
		struct loop *lp = &srv->loops[i];

		lp->srv = srv;
		pthread_mutex_init(&lp->lock, NULL);
		lp->ep = epoll_create1(EPOLL_CLOEXEC);
		lp->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &lp->evfd;
		if (lp->ep == -1 || lp->evfd == -1 ||
		    epoll_ctl(lp->ep, EPOLL_CTL_ADD, lp->evfd, &ev) == -1 ||
		    pthread_create(&lp->tid, NULL, loop_main, lp) != 0) {
			plog(PL_ERROR, "cannot start event loop %ld: %s", i,
			    strerror(errno));
			if (lp->ep != -1)
				close(lp->ep);
			if (lp->evfd != -1)
				close(lp->evfd);
			pthread_mutex_destroy(&lp->lock);
			break;
		}
		srv->nloops++;
	}
	if (srv->nloops == 0) {
		free(srv->loops);
		free(srv);
		return NULL;
	}
	plog(PL_INFO, "FastCGI responder %s ready, %ld event loops, at most "
	    "%ld connections", PH_VERSION, srv->nloops, srv->conn_max);
	return srv;
}

/* Returns the most requests that may wait for a health run at once: each
 * holds a connection, and some must stay free for /_ping. */
long
server_park_max(long nloops)
{
	long n = connections_allowed(nloops);

	return n > 8 ? n * 3 / 4 : n / 2 + 1;
}

/* Stops the loops (see server_start), waits for them, and frees the
 * server. */
void
server_stop(struct server *srv)
{
	uint64_t	 one = 1;
	long		 i;

	srv->stop_at = mono_now() + STOP_GRACE;
	__atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE);
	for (i = 0; i < srv->nloops; i++)
		(void)!write(srv->loops[i].evfd, &one, sizeof(one));
	for (i = 0; i < srv->nloops; i++) {
		pthread_join(srv->loops[i].tid, NULL);
		close(srv->loops[i].ep);
		close(srv->loops[i].evfd);
		pthread_mutex_destroy(&srv->loops[i].lock);
	}
	free(srv->loops);
	free(srv);
}

/*
 * Opens a listening socket on addr: unix:PATH (a stale socket file is
 * replaced), HOST:PORT, [V6]:PORT or :PORT (every address).  Returns the
 * descriptor, or -1 (logged).
 */
int
listen_on(const char *addr)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *res = NULL, *ai;
	struct stat		 sb;
	char			 host[256];
	const char		*port;
	size_t			 hl;
	int			 fd = -1, on = 1, gai;

	if (strncmp(addr, "unix:", 5) == 0) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(addr + 5) >= sizeof(sun.sun_path)) {
			plog(PL_ERROR, "%s: path too long", addr);
			return -1;
		}
		memcpy(sun.sun_path, addr + 5, strlen(addr + 5) + 1);
		if (lstat(sun.sun_path, &sb) == 0 && S_ISSOCK(sb.st_mode))
			unlink(sun.sun_path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
		    listen(fd, SOMAXCONN) == -1)
			goto fail;
		return fd;
	}
	if ((port = strrchr(addr, ':')) == NULL) {
		plog(PL_ERROR, "%s: expected unix:PATH or HOST:PORT", addr);
		return -1;
	}
	hl = (size_t)(port - addr);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		plog(PL_ERROR, "%s: host too long", addr);
		return -1;
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((gai = getaddrinfo(hl > 0 ? host : NULL, port + 1, &hints,
	    &res)) != 0) {
		plog(PL_ERROR, "%s: %s", addr, gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, SOMAXCONN) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd != -1)
		return fd;
fail:
	plog(PL_ERROR, "cannot listen on %s: %s", addr, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}
