/*
 * The FastCGI protocol, as a responder speaks it: records in, records
 * out, nothing else (no socket, no thread, no allocation beyond bounded
 * buffers).  One request at a time per connection, as slowcgi and kcgi
 * do: FCGI_MPXS_CONNS is 0, and a second request on a busy connection is
 * turned away with FCGI_CANT_MPX_CONN.  Parameters are bounded in size;
 * a request body (FCGI_STDIN) is read and dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define FCGI_VERSION		1
#define FCGI_BEGIN_REQUEST	1
#define FCGI_ABORT_REQUEST	2
#define FCGI_END_REQUEST	3
#define FCGI_PARAMS		4
#define FCGI_STDIN		5
#define FCGI_STDOUT		6
#define FCGI_DATA		8
#define FCGI_GET_VALUES		9
#define FCGI_GET_VALUES_RESULT	10
#define FCGI_UNKNOWN_TYPE	11

#define FCGI_RESPONDER		1
#define FCGI_KEEP_CONN		1

#define FCGI_REQUEST_COMPLETE	0
#define FCGI_CANT_MPX_CONN	1
#define FCGI_UNKNOWN_ROLE	3

#define HEADER_LEN		8
#define CONTENT_MAX		65535

/* Returns 0 when out can take len more bytes (growing up to WBUF_MAX),
 * -1 when not. */
static int
wbuf_room(struct wbuf *w, size_t len)
{
	unsigned char	*nb;
	size_t		 cap;

	if (w->len + len <= w->cap)
		return 0;
	if (w->len + len > WBUF_MAX)
		return -1;
	for (cap = w->cap ? w->cap : 1024; cap < w->len + len; cap *= 2)
		continue;
	if ((nb = realloc(w->b, cap)) == NULL)
		return -1;
	w->b = nb;
	w->cap = cap;
	return 0;
}

/* Appends len bytes.  Returns 0, or -1 (nothing appended). */
int
wbuf_add(struct wbuf *w, const void *p, size_t len)
{
	if (wbuf_room(w, len) == -1)
		return -1;
	memcpy(w->b + w->len, p, len);
	w->len += len;
	return 0;
}

/* Empties w, keeping its memory. */
void
wbuf_reset(struct wbuf *w)
{
	w->len = w->off = 0;
}

void
wbuf_free(struct wbuf *w)
{
	free(w->b);
	memset(w, 0, sizeof(*w));
}

/* Appends one record header.  Returns 0, or -1. */
static int
put_header(struct wbuf *out, int type, int id, size_t len)
{
	unsigned char h[HEADER_LEN];

	h[0] = FCGI_VERSION;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = 0;	/* no padding */
	h[7] = 0;
	return wbuf_add(out, h, sizeof(h));
}

/* Appends an FCGI_END_REQUEST with protocol status ps.  Returns 0, or
 * -1. */
static int
put_end(struct wbuf *out, int id, int ps)
{
	unsigned char b[8] = { 0, 0, 0, 0, (unsigned char)ps, 0, 0, 0 };

	return put_header(out, FCGI_END_REQUEST, id, sizeof(b)) == 0 ?
	    wbuf_add(out, b, sizeof(b)) : -1;
}

/*
 * Appends the answer to request id: data as FCGI_STDOUT records, the
 * empty record that ends the stream, and FCGI_END_REQUEST.  Returns 0, or
 * -1 when it does not fit.
 */
int
fcgi_respond(struct wbuf *out, int id, const char *data, size_t len)
{
	size_t n;

	while (len > 0) {
		n = len > CONTENT_MAX ? CONTENT_MAX : len;
		if (put_header(out, FCGI_STDOUT, id, n) == -1 ||
		    wbuf_add(out, data, n) == -1)
			return -1;
		data += n;
		len -= n;
	}
	if (put_header(out, FCGI_STDOUT, id, 0) == -1)
		return -1;
	return put_end(out, id, FCGI_REQUEST_COMPLETE);
}

/* Reads a name-value length (1 byte, or 4 with the top bit set).
 * Returns the length, or -1 when p runs out first. */
static long
nv_len(const unsigned char **p, const unsigned char *end)
{
	long v;

	if (*p >= end)
		return -1;
	if (!(**p & 0x80))
		return *(*p)++;
	if (end - *p < 4)
		return -1;
	v = (long)((*p)[0] & 0x7f) << 24 | (long)(*p)[1] << 16 |
	    (long)(*p)[2] << 8 | (long)(*p)[3];
	*p += 4;
	return v;
}

/*
 * Decodes the complete PARAMS stream into NAME=VALUE strings (envp).  A
 * name holding "=" or NUL cannot be looked up and is dropped; a value is
 * cut at a NUL, as C strings are.  Returns 0, or -1 when the stream is
 * malformed.
 */
static int
decode_params(struct fcgi *f)
{
	const unsigned char	*p = f->params, *end;
	long			 nl, vl;
	size_t			 n = 0, used = 0;
	char			*s;

	end = f->plen > 0 ? f->params + f->plen : p;

	/* The pairs never take more room than the stream that holds them,
	 * one pointer and two bytes ("=" and NUL) each at most. */
	f->vars = calloc(f->plen / 2 + 2, sizeof(*f->vars));
	f->varbuf = malloc(f->plen + 1);
	if (f->vars == NULL || f->varbuf == NULL)
		return -1;
	while (p < end) {
		if ((nl = nv_len(&p, end)) < 0 || (vl = nv_len(&p, end)) < 0 ||
		    nl > end - p || vl > end - p - nl)
			return -1;
		if (nl == 0 || memchr(p, '=', (size_t)nl) != NULL ||
		    memchr(p, '\0', (size_t)nl) != NULL) {
			p += nl + vl;
			continue;
		}
		s = f->varbuf + used;
		memcpy(s, p, (size_t)nl);
		s[nl] = '=';
		memcpy(s + nl + 1, p + nl, (size_t)vl);
		s[nl + 1 + vl] = '\0';
		used += (size_t)(nl + vl + 2);
		f->vars[n++] = s;
		p += nl + vl;
	}
	f->vars[n] = NULL;
	return 0;
}

/* Answers FCGI_GET_VALUES: what we are (one connection, one request per
 * connection, no multiplexing).  Returns 0, or -1. */
static int
get_values(struct wbuf *out, const unsigned char *p, size_t len)
{
	static const struct { const char *name, *value; } known[] = {
		{ "FCGI_MAX_CONNS", "1024" },
		{ "FCGI_MAX_REQS", "1024" },
		{ "FCGI_MPXS_CONNS", "0" },
	};
	const unsigned char	*end = p + len;
	unsigned char		 body[256];
	size_t			 bl = 0, i, n, v;
	long			 nl, vl;

	while (p < end) {
		if ((nl = nv_len(&p, end)) < 0 || (vl = nv_len(&p, end)) < 0 ||
		    nl > end - p || vl > end - p - nl)
			break;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			n = strlen(known[i].name);
			v = strlen(known[i].value);
			if ((size_t)nl != n || memcmp(p, known[i].name, n) != 0 ||
			    bl + n + v + 2 > sizeof(body))
				continue;
			body[bl++] = (unsigned char)n;
			body[bl++] = (unsigned char)v;
			memcpy(body + bl, known[i].name, n);
			memcpy(body + bl + n, known[i].value, v);
			bl += n + v;
		}
		p += nl + vl;
	}
	return put_header(out, FCGI_GET_VALUES_RESULT, 0, bl) == 0 ?
	    wbuf_add(out, body, bl) : -1;
}

/* Starts request id (a BEGIN_REQUEST body b).  Returns an event. */
static enum fcgi_ev
begin(struct fcgi *f, int id, const unsigned char *b, size_t len,
    struct wbuf *out)
{
	if (len < 8 || id == 0)
		return FCGI_BAD;
	if (f->id != 0) {
		/* One request at a time on a connection. */
		if (id == f->id)
			return FCGI_BAD;
		return put_end(out, id, FCGI_CANT_MPX_CONN) == 0 ?
		    FCGI_NONE : FCGI_BAD;
	}
	if ((b[0] << 8 | b[1]) != FCGI_RESPONDER)
		return put_end(out, id, FCGI_UNKNOWN_ROLE) == 0 ?
		    FCGI_NONE : FCGI_BAD;
	f->id = id;
	f->keep = b[2] & FCGI_KEEP_CONN;
	f->plen = 0;
	return FCGI_NONE;
}

/* Adds a PARAMS record's content; the empty one ends the stream.
 * Returns an event. */
static enum fcgi_ev
params(struct fcgi *f, const unsigned char *c, size_t len)
{
	unsigned char *np;

	if (f->ready)
		return FCGI_NONE;	/* late records of a served stream */
	if (len == 0) {
		if (f->toobig)
			return FCGI_TOOBIG;
		if (decode_params(f) == -1)
			return FCGI_BAD;
		f->ready = 1;
		return FCGI_REQUEST;
	}
	if (f->toobig || f->plen + len > FCGI_PARAMS_MAX) {
		/* Keep reading to the end of the stream, then say so. */
		f->toobig = 1;
		return FCGI_NONE;
	}
	if (f->plen + len > f->pcap) {
		if ((np = realloc(f->params, f->plen + len)) == NULL)
			return FCGI_BAD;
		f->params = np;
		f->pcap = f->plen + len;
	}
	memcpy(f->params + f->plen, c, len);
	f->plen += len;
	return FCGI_NONE;
}

/* Handles one whole record.  Returns an event. */
static enum fcgi_ev
record(struct fcgi *f, int type, int id, const unsigned char *c, size_t len,
    struct wbuf *out)
{
	unsigned char b[8];

	if (id == 0) {
		if (type == FCGI_GET_VALUES)
			return get_values(out, c, len) == 0 ? FCGI_NONE :
			    FCGI_BAD;
		memset(b, 0, sizeof(b));
		b[0] = (unsigned char)type;
		return put_header(out, FCGI_UNKNOWN_TYPE, 0, sizeof(b)) == 0 &&
		    wbuf_add(out, b, sizeof(b)) == 0 ? FCGI_NONE : FCGI_BAD;
	}
	if (type == FCGI_BEGIN_REQUEST)
		return begin(f, id, c, len, out);
	/* Records of a request that is over, or never was: dropped. */
	if (id != f->id)
		return FCGI_NONE;
	switch (type) {
	case FCGI_PARAMS:
		return params(f, c, len);
	case FCGI_ABORT_REQUEST:
		f->aborted = 1;
		return FCGI_ABORT;
	case FCGI_STDIN:
	case FCGI_DATA:
		return FCGI_NONE;
	default:
		return FCGI_BAD;
	}
}

/*
 * Reads the whole records at the start of in (len bytes), replying to
 * what needs no application (FCGI_GET_VALUES, unknown types, a second
 * request) into out.  Stops after the first event the caller must act on.
 * Returns the number of bytes used; *ev says what happened (FCGI_NONE:
 * more bytes are needed).
 */
size_t
fcgi_read(struct fcgi *f, const unsigned char *in, size_t len,
    struct wbuf *out, enum fcgi_ev *ev)
{
	size_t	 used = 0, clen, plen;
	int	 type, id;

	*ev = FCGI_NONE;
	while (len - used >= HEADER_LEN) {
		if (in[used] != FCGI_VERSION) {
			*ev = FCGI_BAD;
			break;
		}
		type = in[used + 1];
		id = in[used + 2] << 8 | in[used + 3];
		clen = (size_t)(in[used + 4] << 8 | in[used + 5]);
		plen = in[used + 6];
		if (len - used < HEADER_LEN + clen + plen)
			break;
		*ev = record(f, type, id, in + used + HEADER_LEN, clen, out);
		used += HEADER_LEN + clen + plen;
		if (*ev != FCGI_NONE)
			break;
	}
	return used;
}

/* Returns the value of parameter name of the request, or NULL. */
const char *
fcgi_param(const struct fcgi *f, const char *name)
{
	size_t	 n = strlen(name);
	char	**v;

	for (v = f->vars; v != NULL && *v != NULL; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

/* Returns the parameters as NAME=VALUE strings, NULL-terminated. */
char *const *
fcgi_envp(const struct fcgi *f)
{
	static char *const none[] = { NULL };

	return f->vars != NULL ? f->vars : none;
}

/* Forgets the request, keeping buffers, for the next one on a kept
 * connection. */
void
fcgi_reset(struct fcgi *f)
{
	free(f->vars);
	free(f->varbuf);
	f->vars = NULL;
	f->varbuf = NULL;
	f->id = f->keep = f->ready = f->aborted = f->toobig = 0;
	f->plen = 0;
}

void
fcgi_free(struct fcgi *f)
{
	fcgi_reset(f);
	free(f->params);
	f->params = NULL;
	f->pcap = 0;
}
