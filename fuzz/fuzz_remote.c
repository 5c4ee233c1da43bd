/*
 * libFuzzer driver for what other parties write that portus-health
 * parses: the shared result file (written by another process of the
 * same configuration, src/cache.c) and the registry's answers
 * (src/check_registry.c).  The input is
 *
 *	SURFACE TEXT
 *
 * where the first byte, modulo 3, picks the surface ('0', '1' and '2' in
 * the seeds) and the rest is its text:
 *
 *	0  a result file for the key KEY, through cache_parse(); what it
 *	   accepts is rendered again (cache_render()) and parsed back, and
 *	   goes through every report, as shared_read() hands it on;
 *	1  a WWW-Authenticate value, through registry_bearer_service();
 *	2  a registry's error body, through registry_error_code().
 *
 * Each answer is held to its contract, not only to not crashing, and any
 * breach aborts: see fuzz_cache(), check_bearer(), check_error().
 *
 * The seeds result-* of surface 0 are files portus-health wrote; those
 * written under another configuration have their key replaced by KEY,
 * but for one kept as written (a foreign key), and the one with
 * HISTORY_MAX marks keeps one component, to fit -max_len.  The seeds of
 * 1 and 2 are what Debian's docker-registry answers, Docker Hub's
 * challenge, and forms a registry may use (unquoted, service first,
 * Basic).  Findings are kept too: result-wall-1e28 and
 * result-mark-time-1e300 (times past time_t were believed),
 * wwwauth-realm-hides-service and wwwauth-no-comma (a service= inside
 * quotes was taken), result-newline-after (white space after the
 * document is not a cut).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "extern.h"

/* The key of a configuration (registry.hostname and PORTUS_KEY_PATH set),
 * and another one. */
#define KEY	"db18a6cd560dcdd9ad15841af0bc51c0" \
		"439aa28d81109b92d1ed04ffd305934e"
#define KEY2	"db18a6cd560dcdd9ad15841af0bc51c0" \
		"439aa28d81109b92d1ed04ffd305934f"

/* The bounds cache.c promises: a duration below 1e9 ms, a time before
 * the year 10000. */
#define MS_MAX		1e9
#define TIME_MAX	253402300800.0
#define FILE_MAX	(64 * 1024)

#define SERVICE_SZ	256	/* check_registry.c's buffer */
#define CODE_SZ		48
#define MSG_SZ		256

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Returns a heap copy of the len bytes at p, of exactly that size (so
 * that ASan sees a read past its end); one byte when len is 0. */
static char *
copy(const void *p, size_t len)
{
	char *s;

	if ((s = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(s, p, len);
	return s;
}

/* Returns the same as copy(), with a NUL after the bytes. */
static char *
copy_str(const void *p, size_t len)
{
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* Aborts unless d is a number in [0, max). */
static void
in_range(double d, double max)
{
	if (!(d >= 0 && d < max))
		abort();
}

/* Aborts unless r is what cache_parse() may give: messages terminated
 * within their buffers, durations and times in range, at most
 * HISTORY_MAX marks, and the components it did not read untouched. */
static void
check_result(const struct result *r)
{
	static const struct compres	 zero;
	const struct compres		*cr;
	const struct chist		*h;
	int				 c, i;

	in_range(r->wall, TIME_MAX);
	for (c = 0; c < COMP__MAX; c++) {
		cr = &r->comp[c];
		if (!cr->present) {
			if (memcmp(cr, &zero, sizeof(zero)) != 0)
				abort();
		} else {
			if (memchr(cr->msg, '\0', sizeof(cr->msg)) == NULL ||
			    (cr->success != 0 && cr->success != 1) ||
			    cr->reason[0] != '\0')
				abort();
			in_range(cr->ms, MS_MAX);
		}
		h = &r->hist[c];
		if (h->n < 0 || h->n > HISTORY_MAX)
			abort();
		if (h->n > 0)
			in_range(h->since, TIME_MAX);
		for (i = 0; i < h->n; i++) {
			in_range(h->m[i].wall, TIME_MAX);
			in_range(h->m[i].ms, MS_MAX);
			if (h->m[i].ok > 1)
				abort();
		}
	}
}

/* Aborts unless a and b are the same result, as a file keeps it: the
 * components present, the histories that have marks. */
static void
same_result(const struct result *a, const struct result *b)
{
	const struct compres	*ca, *cb;
	const struct chist	*ha, *hb;
	int			 c, i;

	if (a->wall != b->wall)
		abort();
	for (c = 0; c < COMP__MAX; c++) {
		ca = &a->comp[c];
		cb = &b->comp[c];
		if (ca->present != cb->present || (ca->present &&
		    (ca->success != cb->success || ca->ms != cb->ms ||
		    strcmp(ca->msg, cb->msg) != 0)))
			abort();
		ha = &a->hist[c];
		hb = &b->hist[c];
		if (ha->n != hb->n || (ha->n > 0 && ha->since != hb->since))
			abort();
		for (i = 0; i < ha->n; i++)
			if (ha->m[i].wall != hb->m[i].wall ||
			    ha->m[i].ms != hb->m[i].ms ||
			    ha->m[i].ok != hb->m[i].ok)
				abort();
	}
}

/* Renders r in every format the responder answers with; none may fail. */
static void
reports(struct result *r)
{
	static const enum format fmts[] = { FMT_PORTUS, FMT_HEALTH_JSON,
	    FMT_HTML };
	char	*s;
	size_t	 len, i;
	int	 ok;

	r->ok = comp_ok(r->comp, ~0u, r->optional);
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if ((s = report_render(r, ~0u, fmts[i], &len, &ok)) == NULL ||
		    strlen(s) != len)
			abort();
		free(s);
	}
	if ((s = report_metrics(r, NULL, 1, &len)) == NULL)
		abort();
	free(s);
}

/*
 * Parses the file text of len bytes; what is accepted must be a sound
 * result, must not be accepted for another key or cut short, and must
 * come back the same through cache_render() and cache_parse(), whose
 * text is then a fixed point.
 */
static void
fuzz_cache(const uint8_t *data, size_t len)
{
	struct result	*r, *r2, *r3;
	char		*buf, *text, *text2;
	size_t		 tlen, tlen2, core;
	long		 pid = -1, pid2 = -1;

	if ((r = calloc(3, sizeof(*r))) == NULL)
		abort();
	r2 = r + 1;
	r3 = r + 2;
	buf = copy(data, len);
	if (cache_parse(KEY, buf, len, r, &pid) == -1)
		goto out;
	check_result(r);
	if (cache_parse(KEY2, buf, len, r2, &pid2) != -1)
		abort();
	/* A file cut short (a writer that died) is never believed; what
	 * may be cut is white space after the document. */
	for (core = len; core > 0 && strchr(" \t\n\r", buf[core - 1]) != NULL &&
	    buf[core - 1] != '\0'; core--)
		continue;
	memset(r2, 0, sizeof(*r2));
	if (core > 0 && cache_parse(KEY, buf, core - 1, r2, &pid2) != -1)
		abort();
	memset(r2, 0, sizeof(*r2));
	if (core > 1 && cache_parse(KEY, buf, core / 2, r2, &pid2) != -1)
		abort();
	reports(r);

	if ((text = cache_render(KEY, r, &tlen)) == NULL || tlen > FILE_MAX)
		abort();
	free(buf);
	buf = copy(text, tlen);
	free(text);
	memset(r2, 0, sizeof(*r2));
	if (cache_parse(KEY, buf, tlen, r2, &pid2) != 0 || pid2 != getpid())
		abort();
	check_result(r2);
	same_result(r, r2);
	if (cache_parse(KEY, buf, tlen - 1, r3, &pid2) != -1)
		abort();
	if ((text2 = cache_render(KEY, r2, &tlen2)) == NULL ||
	    tlen2 != tlen || memcmp(text2, buf, tlen) != 0)
		abort();
	free(text2);
out:
	free(buf);
	free(r);
}

/* Returns 1 if the n bytes at q, within h, are the value of a parameter
 * named service: NAME BWS = BWS VALUE or "VALUE". */
static int
service_value(const char *h, const char *q, size_t n)
{
	const char	*b = q;
	int		 quoted = 0;

	if (b > h && b[-1] == '"') {
		quoted = 1;
		b--;
	}
	while (b > h && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	if (b == h || b[-1] != '=')
		return 0;
	b--;
	while (b > h && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	if (b - h < 8 || strncasecmp(b - 7, "service", 7) != 0 ||
	    strchr(" \t,", b[-8]) == NULL)
		return 0;
	if (quoted)
		return q[n] == '"';
	return q[n] == '\0' || q[n] == ' ' || q[n] == '\t' || q[n] == ',';
}

/* Returns 1 if out appears in h as the value of a service parameter. */
static int
named(const char *h, const char *out)
{
	const char	*q;
	size_t		 n = strlen(out);

	for (q = h; (q = strstr(q, out)) != NULL; q++)
		if (service_value(h, q, n))
			return 1;
	return 0;
}

/*
 * Reads the service of the WWW-Authenticate value h.  A service found is
 * non-empty, fits, holds no quote or backslash, and is the value of a
 * service parameter of h; the same comes out of a buffer just large
 * enough, and none out of one a byte smaller; a quoted parameter put in
 * front of the others, holding their text, changes nothing.
 */
static void
check_bearer(const char *h, size_t len)
{
	char	 out[SERVICE_SZ], big[4200], *tight, *h2, *p;
	size_t	 n, i;
	int	 rc, rc2;

	rc = registry_bearer_service(h, out, sizeof(out));
	if (rc != 0 && rc != -1)
		abort();
	if (rc == 0) {
		n = strlen(out);
		if (n == 0 || n >= sizeof(out) || strchr(out, '"') != NULL ||
		    strchr(out, '\\') != NULL || !named(h, out))
			abort();
		tight = copy(out, n + 1);
		memset(tight, 'x', n + 1);
		if (registry_bearer_service(h, tight, n + 1) != 0 ||
		    strcmp(tight, out) != 0)
			abort();
		if (registry_bearer_service(h, tight, n) != -1)
			abort();
		free(tight);
	} else if (len < sizeof(big) && registry_bearer_service(h, big,
	    sizeof(big)) == 0 && strlen(big) < sizeof(out))
		abort();	/* refused only for its length, which fits */

	if (strncasecmp(h, "Bearer ", 7) != 0)
		return;
	/* Bearer x="REST without quotes or backslashes",REST */
	if ((h2 = malloc(2 * len + 16)) == NULL)
		abort();
	p = h2 + snprintf(h2, 16, "Bearer x=\"");
	for (i = 7; i < len; i++)
		if (h[i] != '"' && h[i] != '\\')
			*p++ = h[i];
	*p++ = '"';
	*p++ = ',';
	memcpy(p, h + 7, len - 7 + 1);
	rc2 = registry_bearer_service(h2, big, sizeof(out));
	if (rc2 != rc || (rc == 0 && strcmp(big, out) != 0))
		abort();
	free(h2);
}

/* Aborts unless s is printable ASCII, shorter than sz. */
static void
printable(const char *s, size_t sz)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			abort();
	if (i >= sz)
		abort();
}

/* Returns whether s is t cut to sz - 1 bytes. */
static int
cut_of(const char *s, const char *t, size_t sz)
{
	size_t n = strlen(t) < sz - 1 ? strlen(t) : sz - 1;

	return strlen(s) == n && strncmp(s, t, n) == 0;
}

/*
 * Reads the error of the body.  Its code and message are printable
 * ASCII within their sizes; small buffers give the same answer cut
 * short; empty buffers are refused.
 */
static void
check_error(const char *body, unsigned char small)
{
	char	 code[CODE_SZ] = "", msg[MSG_SZ] = "", *c2, *m2;
	size_t	 csz = small % 8 + 1, msz = small / 8 % 8 + 1;
	int	 rc;

	rc = registry_error_code(body, code, sizeof(code), msg, sizeof(msg));
	if (rc != 0 && rc != -1)
		abort();
	if (rc == 0) {
		printable(code, sizeof(code));
		printable(msg, sizeof(msg));
	}
	c2 = copy("", 0);
	m2 = copy("", 0);
	if (registry_error_code(body, c2, 0, m2, 0) != -1)
		abort();
	free(c2);
	free(m2);
	c2 = copy(code, csz);
	m2 = copy(msg, msz);
	if (registry_error_code(body, c2, csz, m2, msz) != rc ||
	    (rc == 0 && (!cut_of(c2, code, csz) || !cut_of(m2, msg, msz))))
		abort();
	free(c2);
	free(m2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_cache(data + 1, size - 1);
		break;
	case 1:
		s = copy_str(data + 1, size - 1);
		check_bearer(s, strlen(s));
		free(s);
		break;
	default:
		s = copy_str(data + 1, size - 1);
		check_error(s, (unsigned char)(size > 1 ? data[1] : 0));
		free(s);
		break;
	}
	return 0;
}
