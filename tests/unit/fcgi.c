/*
 * src/fcgi.c: the FastCGI records of a responder.  Streams of records
 * are built here byte by byte and fed whole or one byte at a time; each
 * row says what the reader must make of them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define BEGIN		1
#define ABORT		2
#define END		3
#define PARAMS		4
#define STDIN		5
#define STDOUT		6
#define GET_VALUES	9
#define VALUES_RESULT	10
#define UNKNOWN_TYPE	11

/* A stream under construction. */
struct stream {
	unsigned char	 b[8192];
	size_t		 len;
};

static void
put(struct stream *s, const void *p, size_t n)
{
	ck_assert_uint_le(s->len + n, sizeof(s->b));
	if (n == 0)
		return;		/* p may be NULL then */
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

/* Appends a record of type and id with content c (n bytes), padded. */
static void
rec(struct stream *s, int type, int id, const void *c, size_t n, int pad)
{
	unsigned char h[8] = { 1, (unsigned char)type, (unsigned char)(id >> 8),
	    (unsigned char)id, (unsigned char)(n >> 8), (unsigned char)n,
	    (unsigned char)pad, 0 };
	static const unsigned char zero[255];

	put(s, h, sizeof(h));
	put(s, c, n);
	put(s, zero, (size_t)pad);
}

static void
begin(struct stream *s, int id, int role, int keep)
{
	unsigned char b[8] = { 0, (unsigned char)role, (unsigned char)keep };

	rec(s, BEGIN, id, b, sizeof(b), 0);
}

/* Appends one name-value pair to buf (4-byte lengths when long). */
static size_t
nv(unsigned char *buf, const char *n, const char *v)
{
	size_t		 nl = strlen(n), vl = strlen(v), o = 0, i;
	const size_t	 len[2] = { nl, vl };

	for (i = 0; i < 2; i++)
		if (len[i] < 128)
			buf[o++] = (unsigned char)len[i];
		else {
			buf[o++] = (unsigned char)(0x80 | len[i] >> 24);
			buf[o++] = (unsigned char)(len[i] >> 16);
			buf[o++] = (unsigned char)(len[i] >> 8);
			buf[o++] = (unsigned char)len[i];
		}
	memcpy(buf + o, n, nl);
	memcpy(buf + o + nl, v, vl);
	return o + nl + vl;
}

/* Appends a PARAMS stream of NULL-terminated name, value pairs, and the
 * empty record that ends it. */
static void
params(struct stream *s, int id, const char *const *pairs)
{
	unsigned char	 body[4096];
	size_t		 n = 0;

	for (; pairs[0] != NULL; pairs += 2)
		n += nv(body + n, pairs[0], pairs[1]);
	rec(s, PARAMS, id, body, n, 0);
	rec(s, PARAMS, id, NULL, 0, 0);
}

static const char *const ping[] = { "REQUEST_METHOD", "GET", "PATH_INFO",
    "/_ping", NULL };

/*
 * Feeds s to a fresh reader, whole or one byte at a time, until the first
 * event; the replies land in out.  Returns the event.
 */
static enum fcgi_ev
feed(struct fcgi *f, const struct stream *s, int bytewise, struct wbuf *out,
    size_t *used)
{
	enum fcgi_ev	 ev = FCGI_NONE;
	size_t		 have, u;

	memset(f, 0, sizeof(*f));
	*used = 0;
	for (have = bytewise ? 1 : s->len; ; have++) {
		if (have > s->len)
			break;
		u = fcgi_read(f, s->b + *used, have - *used, out, &ev);
		*used += u;
		if (ev != FCGI_NONE || have == s->len)
			break;
	}
	return ev;
}

START_TEST(fcgi_request)
{
	struct stream	 s = { .len = 0 };
	struct fcgi	 f;
	struct wbuf	 out = { 0 };
	size_t		 used;

	begin(&s, 7, 1, 1);
	params(&s, 7, ping);
	rec(&s, STDIN, 7, NULL, 0, 0);
	ck_assert_int_eq(feed(&f, &s, _i, &out, &used), FCGI_REQUEST);
	ck_assert_int_eq(f.id, 7);
	ck_assert_int_eq(f.keep, 1);
	ck_assert_str_eq(fcgi_param(&f, "REQUEST_METHOD"), "GET");
	ck_assert_str_eq(fcgi_param(&f, "PATH_INFO"), "/_ping");
	ck_assert_ptr_null(fcgi_param(&f, "PATH"));
	ck_assert_str_eq(fcgi_envp(&f)[0], "REQUEST_METHOD=GET");
	ck_assert_ptr_null(fcgi_envp(&f)[2]);
	/* The empty STDIN record after it is left for later. */
	ck_assert_uint_eq(s.len - used, 8);
	ck_assert_uint_eq(out.len, 0);
	fcgi_free(&f);
	wbuf_free(&out);
}
END_TEST

/* Streams that must not make a request, and what each does instead. */
static const struct {
	const char	*name;
	enum fcgi_ev	 ev;
	int		 reply;		/* the type of the reply, or 0 */
	int		 status;	/* END_REQUEST's protocol status */
} odd[] = {
	{ "a role other than responder", FCGI_NONE, END, 3 },
	{ "a second request while one is open", FCGI_REQUEST, END, 1 },
	{ "FCGI_GET_VALUES", FCGI_NONE, VALUES_RESULT, -1 },
	{ "a management record of an unknown type", FCGI_NONE, UNKNOWN_TYPE,
	    -1 },
	{ "FCGI_ABORT_REQUEST", FCGI_ABORT, 0, -1 },
	{ "version 2", FCGI_BAD, 0, -1 },
	{ "PARAMS lengths past the record", FCGI_BAD, 0, -1 },
	{ "BEGIN_REQUEST twice for one id", FCGI_BAD, 0, -1 },
	{ "STDOUT from the web server", FCGI_BAD, 0, -1 },
	{ "records of a request never begun", FCGI_NONE, 0, -1 },
};

/* Builds the stream of row i of odd[]. */
static void
odd_stream(int i, struct stream *s)
{
	static const unsigned char gv[] = { 15, 0, 'F', 'C', 'G', 'I', '_',
	    'M', 'P', 'X', 'S', '_', 'C', 'O', 'N', 'N', 'S' };
	static const unsigned char badlen[] = { 0x80, 0, 1, 0, 1, 'a', 'b' };

	switch (i) {
	case 0:
		begin(s, 1, 2, 0);
		break;
	case 1:
		begin(s, 1, 1, 0);
		begin(s, 2, 1, 0);
		params(s, 1, ping);
		break;
	case 2:
		rec(s, GET_VALUES, 0, gv, sizeof(gv), 0);
		break;
	case 3:
		rec(s, 99, 0, "x", 1, 0);
		break;
	case 4:
		begin(s, 1, 1, 0);
		rec(s, ABORT, 1, NULL, 0, 0);
		break;
	case 5:
		begin(s, 1, 1, 0);
		s->b[0] = 2;
		break;
	case 6:
		begin(s, 1, 1, 0);
		rec(s, PARAMS, 1, badlen, sizeof(badlen), 0);
		rec(s, PARAMS, 1, NULL, 0, 0);
		break;
	case 7:
		begin(s, 1, 1, 0);
		begin(s, 1, 1, 0);
		break;
	case 8:
		begin(s, 1, 1, 0);
		rec(s, STDOUT, 1, "x", 1, 0);
		break;
	case 9:
		rec(s, PARAMS, 9, "ab", 2, 3);
		rec(s, STDIN, 9, NULL, 0, 0);
		break;
	}
}

START_TEST(fcgi_odd)
{
	struct stream	 s = { .len = 0 };
	struct fcgi	 f;
	struct wbuf	 out = { 0 };
	size_t		 used;
	int		 row = _i / 2;

	odd_stream(row, &s);
	ck_assert_msg(feed(&f, &s, _i % 2, &out, &used) == odd[row].ev,
	    "%s: event", odd[row].name);
	if (odd[row].reply == 0)
		ck_assert_msg(out.len == 0, "%s: a reply", odd[row].name);
	else {
		ck_assert_msg(out.len >= 8 && out.b[1] == odd[row].reply,
		    "%s: reply type %d", odd[row].name,
		    out.len >= 8 ? out.b[1] : -1);
		if (odd[row].status >= 0)
			ck_assert_msg(out.len == 16 &&
			    out.b[12] == odd[row].status, "%s: status",
			    odd[row].name);
	}
	/* The second request is refused, the first one still made. */
	if (row == 1) {
		ck_assert_int_eq(f.id, 1);
		ck_assert_int_eq((out.b[2] << 8) | out.b[3], 2);
	}
	/* FCGI_GET_VALUES: "no multiplexing". */
	if (row == 2)
		ck_assert_ptr_nonnull(memmem(out.b, out.len,
		    "FCGI_MPXS_CONNS0", 16));
	fcgi_free(&f);
	wbuf_free(&out);
}
END_TEST

START_TEST(fcgi_params_bounded)
{
	struct stream	*s;
	struct fcgi	 f;
	struct wbuf	 out = { 0 };
	unsigned char	 chunk[60000];
	size_t		 used, i, n = 0;
	enum fcgi_ev	 ev = FCGI_NONE;

	ck_assert_ptr_nonnull(s = calloc(1, sizeof(*s)));
	memset(chunk, 'a', sizeof(chunk));
	memset(&f, 0, sizeof(f));
	begin(s, 1, 1, 0);
	ck_assert_uint_eq(fcgi_read(&f, s->b, s->len, &out, &ev), s->len);
	/* Record after record, past FCGI_PARAMS_MAX: read and dropped. */
	for (i = 0; i < FCGI_PARAMS_MAX / sizeof(chunk) + 2; i++) {
		unsigned char h[8] = { 1, PARAMS, 0, 1,
		    (unsigned char)(sizeof(chunk) >> 8),
		    (unsigned char)sizeof(chunk), 0, 0 };
		unsigned char *r;

		ck_assert_ptr_nonnull(r = malloc(8 + sizeof(chunk)));
		memcpy(r, h, 8);
		memcpy(r + 8, chunk, sizeof(chunk));
		used = fcgi_read(&f, r, 8 + sizeof(chunk), &out, &ev);
		free(r);
		ck_assert_uint_eq(used, 8 + sizeof(chunk));
		ck_assert_int_eq(ev, FCGI_NONE);
		n += sizeof(chunk);
	}
	ck_assert_uint_gt(n, FCGI_PARAMS_MAX);
	ck_assert_uint_le(f.plen, FCGI_PARAMS_MAX);
	s->len = 0;
	rec(s, PARAMS, 1, NULL, 0, 0);
	fcgi_read(&f, s->b, s->len, &out, &ev);
	ck_assert_int_eq(ev, FCGI_TOOBIG);
	fcgi_free(&f);
	wbuf_free(&out);
	free(s);
}
END_TEST

START_TEST(fcgi_names_dropped)
{
	struct stream	 s = { .len = 0 };
	struct fcgi	 f;
	struct wbuf	 out = { 0 };
	size_t		 used;
	static const char *const pairs[] = { "A=B", "x", "", "empty name",
	    "PATH_INFO", "/_ping", NULL };

	begin(&s, 1, 1, 0);
	params(&s, 1, pairs);
	ck_assert_int_eq(feed(&f, &s, 0, &out, &used), FCGI_REQUEST);
	/* A name with "=" could pose as another; an empty one is none. */
	ck_assert_str_eq(fcgi_envp(&f)[0], "PATH_INFO=/_ping");
	ck_assert_ptr_null(fcgi_envp(&f)[1]);
	ck_assert_ptr_null(fcgi_param(&f, "A"));
	fcgi_free(&f);
	wbuf_free(&out);
}
END_TEST

START_TEST(fcgi_respond_records)
{
	struct wbuf	 out = { 0 };
	char		*big;
	size_t		 n = 70000, o = 0, total = 0, clen;

	ck_assert_ptr_nonnull(big = malloc(n));
	memset(big, 'x', n);
	ck_assert_int_eq(fcgi_respond(&out, 300, big, n), 0);
	/* STDOUT records of at most 65535 bytes, the empty one, END. */
	while (o < out.len && out.b[o + 1] == STDOUT) {
		ck_assert_int_eq(out.b[0 + o], 1);
		ck_assert_int_eq(out.b[o + 2] << 8 | out.b[o + 3], 300);
		clen = (size_t)(out.b[o + 4] << 8 | out.b[o + 5]);
		total += clen;
		o += 8 + clen + out.b[o + 6];
		if (clen == 0)
			break;
	}
	ck_assert_uint_eq(total, n);
	ck_assert_int_eq(out.b[o + 1], END);
	ck_assert_uint_eq(out.len, o + 16);
	ck_assert_int_eq(out.b[o + 12], 0);	/* FCGI_REQUEST_COMPLETE */
	free(big);
	wbuf_free(&out);
}
END_TEST

START_TEST(fcgi_keep_two_requests)
{
	struct stream	 s = { .len = 0 };
	struct fcgi	 f;
	struct wbuf	 out = { 0 };
	enum fcgi_ev	 ev;
	size_t		 used;
	static const char *const head[] = { "REQUEST_METHOD", "HEAD", NULL };

	begin(&s, 1, 1, 1);
	params(&s, 1, ping);
	rec(&s, STDIN, 1, "body", 4, 4);
	rec(&s, STDIN, 1, NULL, 0, 0);
	begin(&s, 2, 1, 1);
	params(&s, 2, head);
	ck_assert_int_eq(feed(&f, &s, 0, &out, &used), FCGI_REQUEST);
	ck_assert_int_eq(f.id, 1);
	fcgi_reset(&f);
	/* The first request's STDIN is dropped; the second comes. */
	used += fcgi_read(&f, s.b + used, s.len - used, &out, &ev);
	ck_assert_int_eq(ev, FCGI_REQUEST);
	ck_assert_int_eq(f.id, 2);
	ck_assert_str_eq(fcgi_param(&f, "REQUEST_METHOD"), "HEAD");
	ck_assert_uint_eq(used, s.len);
	fcgi_free(&f);
	wbuf_free(&out);
}
END_TEST

Suite *
fcgi_suite(void)
{
	Suite	*s = suite_create("fcgi");
	TCase	*tc = tcase_create("records");

	tcase_add_loop_test(tc, fcgi_request, 0, 2);
	tcase_add_loop_test(tc, fcgi_odd, 0, 2 * (int)NELEM(odd));
	tcase_add_test(tc, fcgi_params_bounded);
	tcase_add_test(tc, fcgi_names_dropped);
	tcase_add_test(tc, fcgi_respond_records);
	tcase_add_test(tc, fcgi_keep_two_requests);
	suite_add_tcase(s, tc);
	return s;
}
