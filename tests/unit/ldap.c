/*
 * src/starttls.c: the parser of the server's answer to STARTTLS (RFC
 * 4511, 4.14), and the relay that hands the connection to libcurl,
 * against an LDAP server played by a thread.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

/* slapd's go-ahead: resultCode 0, empty matchedDN and diagnosticMessage. */
static const unsigned char tls_yes[] = {
	0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00,
	0x04, 0x00, 0x04, 0x00
};

/* A refusal (protocolError, as slapd without a certificate answers) with
 * a diagnosticMessage, lengths in long form. */
static const unsigned char tls_no[] = {
	0x30, 0x81, 0x2b, 0x02, 0x01, 0x01, 0x78, 0x81, 0x25, 0x0a, 0x01,
	0x02, 0x04, 0x00, 0x04, 0x1e, 'u', 'n', 's', 'u', 'p', 'p', 'o',
	'r', 't', 'e', 'd', ' ', 'e', 'x', 't', 'e', 'n', 'd', 'e', 'd',
	' ', 'o', 'p', 'e', 'r', 'a', 't', 'i', 'o', 'n'
};

/* The go-ahead with the optional responseName. */
static const unsigned char tls_named[] = {
	0x30, 0x24, 0x02, 0x01, 0x01, 0x78, 0x1f, 0x0a, 0x01, 0x00,
	0x04, 0x00, 0x04, 0x00, 0x8a, 0x16, '1', '.', '3', '.', '6',
	'.', '1', '.', '4', '.', '1', '.', '1', '4', '6', '6', '.',
	'2', '0', '0', '3', '7'
};

/* Notices of Disconnection (messageID 0): success and unavailable. */
static const unsigned char bye0[] = {
	0x30, 0x0c, 0x02, 0x01, 0x00, 0x78, 0x07, 0x0a, 0x01, 0x00,
	0x04, 0x00, 0x04, 0x00
};
static const unsigned char bye52[] = {
	0x30, 0x0c, 0x02, 0x01, 0x00, 0x78, 0x07, 0x0a, 0x01, 0x34,
	0x04, 0x00, 0x04, 0x00
};

/* The go-ahead, then the first bytes of a TLS handshake. */
static const unsigned char yes_then_tls[] = {
	0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00,
	0x04, 0x00, 0x04, 0x00, 0x16, 0x03, 0x01
};

static const struct {
	const char		*name;
	const unsigned char	*b;
	size_t			 len;
	long			 ret;	/* the answer's length */
	int			 code;	/* its resultCode */
} answers[] = {
#define A(n, b, ret, code) { n, b, sizeof(b), ret, code }
	A("the go-ahead", tls_yes, sizeof(tls_yes), 0),
	A("a refusal", tls_no, sizeof(tls_no), 2),
	A("the go-ahead, named", tls_named, sizeof(tls_named), 0),
	/* A disconnection is never a go-ahead. */
	A("a disconnection", bye0, sizeof(bye0), 80),
	A("a disconnection, unavailable", bye52, sizeof(bye52), 52),
	/* Bytes after the message are not part of it. */
	A("the go-ahead, then TLS", yes_then_tls, sizeof(tls_yes), 0),
#undef A
};

START_TEST(starttls_parse_answer)
{
	long	r;
	int	code = -1;

	r = starttls_parse(answers[_i].b, answers[_i].len, &code);
	ck_assert_msg(r == answers[_i].ret, "%s: %ld bytes, want %ld",
	    answers[_i].name, r, answers[_i].ret);
	ck_assert_msg(code == answers[_i].code, "%s: resultCode %d, want %d",
	    answers[_i].name, code, answers[_i].code);
}
END_TEST

START_TEST(starttls_parse_partial)
{
	size_t	i;
	int	code;

	/* Every part of an answer asks for more. */
	for (i = 0; i < (size_t)answers[_i].ret; i++)
		ck_assert_msg(starttls_parse(answers[_i].b, i, &code) == 0,
		    "%s: %zu bytes", answers[_i].name, i);
}
END_TEST

static const struct {
	const char	*name;
	const char	*b;
	size_t		 len;
} bad[] = {
#define B(n, s) { n, s, sizeof(s) - 1 }
	B("a mail server's greeting", "220 smtp.portus.test ESMTP\r\n"),
	B("an HTTP answer", "HTTP/1.1 400 Bad Request\r\n\r\n"),
	B("indefinite length", "\x30\x80\x02\x01\x01"),
	B("a length of four bytes", "\x30\x84\x00\x00\x00\x0c"),
	B("longer than the limit", "\x30\x82\x10\x01"),
	B("a multi-byte tag", "\x3f\x01\x00"),
	B("messageID not an INTEGER",
	    "\x30\x0c\x04\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00"),
	B("another messageID",
	    "\x30\x0c\x02\x01\x02\x78\x07\x0a\x01\x00\x04\x00\x04\x00"),
	B("a negative messageID",
	    "\x30\x0c\x02\x01\xff\x78\x07\x0a\x01\x00\x04\x00\x04\x00"),
	B("an empty messageID",
	    "\x30\x0b\x02\x00\x78\x07\x0a\x01\x00\x04\x00\x04\x00"),
	B("a BindResponse instead",
	    "\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00"),
	B("resultCode not ENUMERATED",
	    "\x30\x0c\x02\x01\x01\x78\x07\x02\x01\x00\x04\x00\x04\x00"),
	B("a resultCode of five bytes",
	    "\x30\x10\x02\x01\x01\x78\x0b\x0a\x05\x00\x00\x00\x00\x00"
	    "\x04\x00\x04\x00"),
	B("the response longer than the message",
	    "\x30\x05\x02\x01\x01\x78\x10"),
	B("messageID longer than the message", "\x30\x03\x02\x09\x01"),
	B("nothing inside", "\x30\x00"),
#undef B
};

START_TEST(starttls_parse_rejects)
{
	int code;

	ck_assert_msg(starttls_parse((const unsigned char *)bad[_i].b,
	    bad[_i].len, &code) == -1, "%s accepted", bad[_i].name);
}
END_TEST

static const struct {
	enum tlsstatus	 st;
	const char	*text;
} tls_texts[] = {
	{ TLS_OK, "ok" },
	{ TLS_REFUSED, "connection refused" },
	{ TLS_TIMEOUT, "connection timed out" },
	{ TLS_RESET, "connection reset" },
	{ TLS_NOT_LDAP, "not an LDAP server" },
	{ TLS_DENIED, "start_tls refused" },
	{ TLS_SYSTEM, "out of resources" },
};

START_TEST(starttls_strerror_text)
{
	ck_assert_str_eq(starttls_strerror(tls_texts[_i].st),
	    tls_texts[_i].text);
}
END_TEST

/* An LDAP server in a thread: reads the STARTTLS request, answers with
 * answer (if any), then echoes until the client closes. */
struct peer {
	int			 lst;
	const unsigned char	*answer;
	size_t			 len;
	unsigned char		 req[64];
	ssize_t			 reqlen;
};

static void *
peer_run(void *arg)
{
	struct peer	*p = arg;
	char		 buf[256];
	ssize_t		 n;
	int		 c;

	if ((c = accept(p->lst, NULL, NULL)) == -1)
		return NULL;
	p->reqlen = recv(c, p->req, sizeof(p->req), 0);
	if (p->answer != NULL) {
		if (send(c, p->answer, p->len, MSG_NOSIGNAL) < 0)
			goto out;
		while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
			if (send(c, buf, (size_t)n, MSG_NOSIGNAL) < 0)
				break;
	} else
		while (recv(c, buf, sizeof(buf), 0) > 0)
			continue;
out:
	close(c);
	return NULL;
}

/* Starts a peer on 127.0.0.1; its address goes in sin. */
static void
peer_start(struct peer *p, pthread_t *t, struct sockaddr_in *sin,
    const unsigned char *answer, size_t len)
{
	socklen_t	sl = sizeof(*sin);

	memset(p, 0, sizeof(*p));
	p->answer = answer;
	p->len = len;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(p->lst = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(p->lst, (struct sockaddr *)sin, sizeof(*sin)), 0);
	ck_assert_int_eq(getsockname(p->lst, (struct sockaddr *)sin, &sl), 0);
	ck_assert_int_eq(listen(p->lst, 4), 0);
	ck_assert_int_eq(pthread_create(t, NULL, peer_run, p), 0);
}

START_TEST(relay_carries_bytes)
{
	static const unsigned char want[] = {
		0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16,
		'1', '.', '3', '.', '6', '.', '1', '.', '4', '.', '1', '.',
		'1', '4', '6', '6', '.', '2', '0', '0', '3', '7'
	};
	struct peer		 p;
	struct relay		*r;
	struct sockaddr_in	 sin, lsin;
	pthread_t		 t;
	char			 buf[16];
	int			 fd, other, code = -1;

	peer_start(&p, &t, &sin, tls_yes, sizeof(tls_yes));
	ck_assert_int_eq(relay_open((struct sockaddr *)&sin, sizeof(sin),
	    mono_now() + 5, &r, &fd, &lsin, &code), TLS_OK);
	ck_assert_int_eq(code, 0);
	/* The request on the wire is RFC 4511's ExtendedRequest. */
	ck_assert_int_eq(p.reqlen, sizeof(want));
	ck_assert_mem_eq(p.req, want, sizeof(want));
	ck_assert_uint_eq(ntohl(lsin.sin_addr.s_addr), INADDR_LOOPBACK);
	/* A stranger reaching the listener first is turned away... */
	ck_assert_int_ge(other = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(other, (struct sockaddr *)&lsin,
	    sizeof(lsin)), 0);
	ck_assert_int_eq(send(other, "evil", 4, MSG_NOSIGNAL), 4);
	/* (closed with "evil" unread: a reset rather than an end) */
	ck_assert_int_le(recv(other, buf, sizeof(buf), 0), 0);
	close(other);
	/* ...and the socket given for libcurl reaches the server. */
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&lsin, sizeof(lsin)),
	    0);
	ck_assert_int_eq(send(fd, "hello", 5, MSG_NOSIGNAL), 5);
	ck_assert_int_eq(recv(fd, buf, 5, MSG_WAITALL), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	close(fd);
	relay_close(r);
	pthread_join(t, NULL);
	close(p.lst);
}
END_TEST

START_TEST(relay_refused_and_silent)
{
	struct peer		 p;
	struct relay		*r;
	struct sockaddr_in	 sin, lsin;
	pthread_t		 t;
	double			 start;
	int			 fd, code = -1;

	peer_start(&p, &t, &sin, tls_no, sizeof(tls_no));
	ck_assert_int_eq(relay_open((struct sockaddr *)&sin, sizeof(sin),
	    mono_now() + 5, &r, &fd, &lsin, &code), TLS_DENIED);
	ck_assert_int_eq(code, 2);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(fd, -1);
	pthread_join(t, NULL);
	close(p.lst);

	/*
	 * A peer that never answers: the deadline, not a hang.  The peer
	 * holds the connection until it is closed, so a deadline ignored
	 * would hang here until the test case's time limit fails it; no
	 * upper bound of our own, which a busy machine could exceed.
	 */
	peer_start(&p, &t, &sin, NULL, 0);
	start = mono_now();
	ck_assert_int_eq(relay_open((struct sockaddr *)&sin, sizeof(sin),
	    mono_now() + 0.3, &r, &fd, &lsin, &code), TLS_TIMEOUT);
	ck_assert_double_ge(mono_now() - start, 0.29);
	pthread_join(t, NULL);
	close(p.lst);

	/* Nobody listening. */
	ck_assert_int_eq(relay_open((struct sockaddr *)&sin, sizeof(sin),
	    mono_now() + 5, &r, &fd, &lsin, &code), TLS_REFUSED);
}
END_TEST

Suite *
ldap_suite(void)
{
	Suite	*s = suite_create("ldap");
	TCase	*tc;

	tc = tcase_create("starttls");
	tcase_add_loop_test(tc, starttls_parse_answer, 0, NELEM(answers));
	tcase_add_loop_test(tc, starttls_parse_partial, 0, NELEM(answers));
	tcase_add_loop_test(tc, starttls_parse_rejects, 0, NELEM(bad));
	tcase_add_loop_test(tc, starttls_strerror_text, 0, NELEM(tls_texts));
	suite_add_tcase(s, tc);

	tc = tcase_create("relay");
	/* Only a hang comes near this, however busy the machine. */
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, relay_carries_bytes);
	tcase_add_test(tc, relay_refused_and_silent);
	suite_add_tcase(s, tc);
	return s;
}
