/*
 * src/request.c: CGI variables to a route (paths, methods, components,
 * ?exclude=, the format the client accepts), percent-decoding, and the
 * head of the response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define NOT_FOUND	"{\"error\":\"not found\"}"
#define BAD_PATH	"{\"error\":\"bad request: invalid path\"}"
#define BAD_METHOD	"{\"error\":\"bad request: invalid method\"}"
#define NOT_ALLOWED	"{\"error\":\"method not allowed\"}"
#define TOO_LONG	"{\"error\":\"request URI too long\"}"
#define NO_COMPONENT	"{\"error\":\"unknown component\"}"
#define BAD_EXCLUDE	"{\"error\":\"bad request: unknown component in " \
			    "exclude\"}"

/* Routes a request given its CGI variables (NULL: unset). */
static void
route(const char *method, const char *path_info, const char *request_uri,
    const char *query, const char *accept, struct answer *a)
{
	struct reqinfo ri = { method, path_info, request_uri, query, accept };

	request_route(&ri, a);
}

/* Checks an answer's body: want (NULL: none), and always a JSON object
 * with an "error" member when there is one. */
static void
check_body(const char *what, const struct answer *a, const char *want)
{
	json_object *o;

	if (want == NULL) {
		ck_assert_msg(a->body == NULL, "%s: body %s", what, a->body);
		return;
	}
	ck_assert_msg(a->body != NULL && strcmp(a->body, want) == 0,
	    "%s: body %s, want %s", what, a->body ? a->body : "(none)", want);
	ck_assert_ptr_nonnull(o = json_tokener_parse(a->body));
	ck_assert_ptr_nonnull(json_str(o, "error"));
	json_object_put(o);
}

/* ------------------------------------------------------------ paths */

static const struct {
	const char	*pi;	/* PATH_INFO */
	const char	*uri;	/* REQUEST_URI */
	int		 status;
	enum route	 route;
	const char	*body;
} paths[] = {
	{ "/_ping", NULL, 200, ROUTE_PING, NULL },
	{ "/api/v1/_ping", NULL, 200, ROUTE_PING, NULL },
	{ "/_health", NULL, 200, ROUTE_HEALTH, NULL },
	{ "/api/v1/health", NULL, 200, ROUTE_HEALTH, NULL },
	{ "/_metrics", NULL, 200, ROUTE_METRICS, NULL },
	{ "/_ping/", NULL, 200, ROUTE_PING, NULL },
	{ "/api/v1/health/", NULL, 200, ROUTE_HEALTH, NULL },
	/* PATH_INFO is matched exactly. */
	{ "/_pingx", NULL, 404, ROUTE_NONE, NOT_FOUND },
	{ "/_ping/x", NULL, 404, ROUTE_NONE, NOT_FOUND },
	{ "//_ping", NULL, 404, ROUTE_NONE, NOT_FOUND },
	{ "/api/v1/_health", NULL, 404, ROUTE_NONE, NOT_FOUND },
	{ "/_ping//", NULL, 404, ROUTE_NONE, NOT_FOUND },
	{ "/", NULL, 404, ROUTE_NONE, NOT_FOUND },
	{ "/portus/_ping", NULL, 404, ROUTE_NONE, NOT_FOUND },
	{ "/nope", NULL, 404, ROUTE_NONE, NOT_FOUND },
	/* Without it, REQUEST_URI's path, decoded, on its last segments. */
	{ "", "/portus/_health?x=1", 200, ROUTE_HEALTH, NULL },
	{ NULL, "/portus/api/v1/_ping", 200, ROUTE_PING, NULL },
	{ NULL, "/_ping#frag", 200, ROUTE_PING, NULL },
	{ "", "/%5Fping", 200, ROUTE_PING, NULL },
	{ NULL, "/portus/.well/_ping", 200, ROUTE_PING, NULL },
	{ "", "/foo_ping", 404, ROUTE_NONE, NOT_FOUND },
	{ "", "/portus/x_health", 404, ROUTE_NONE, NOT_FOUND },
	{ "", "/_ping%00", 400, ROUTE_NONE, BAD_PATH },
	{ "", "/%zz", 400, ROUTE_NONE, BAD_PATH },
	{ "", "/_ping%", 400, ROUTE_NONE, BAD_PATH },
	{ NULL, "/portus/../_ping", 400, ROUTE_NONE, BAD_PATH },
	{ NULL, "/portus/%2e/_health", 400, ROUTE_NONE, BAD_PATH },
	/* PATH_INFO wins. */
	{ "/_ping", "/portus/_health", 200, ROUTE_PING, NULL },
	{ "/nope", "/_ping", 404, ROUTE_NONE, NOT_FOUND },
	{ NULL, NULL, 404, ROUTE_NONE, NOT_FOUND },
};

START_TEST(route_path)
{
	struct answer	a;
	char		what[128];

	snprintf(what, sizeof(what), "PATH_INFO %s, REQUEST_URI %s",
	    paths[_i].pi ? paths[_i].pi : "(unset)",
	    paths[_i].uri ? paths[_i].uri : "(unset)");
	route("GET", paths[_i].pi, paths[_i].uri, NULL, NULL, &a);
	ck_assert_msg(a.status == paths[_i].status, "%s: status %d", what,
	    a.status);
	ck_assert_msg(a.route == paths[_i].route, "%s: route %d", what,
	    a.route);
	check_body(what, &a, paths[_i].body);
	if (a.status == 200)
		ck_assert_msg(a.comp == -1 && a.exclude == 0 && a.head == 0 &&
		    a.format == FMT_PORTUS, "%s: comp %d exclude %u head %d "
		    "format %d", what, a.comp, a.exclude, a.head, a.format);
}
END_TEST

/* Paths at and over PATH_MAX_LEN. */
static const struct {
	const char	*prefix;
	char		 c;
	size_t		 n;
	int		 uri;	/* as REQUEST_URI, else PATH_INFO */
	int		 status;
	enum route	 route;
} longs[] = {
	{ "/", 'a', PATH_MAX_LEN, 0, 414, ROUTE_NONE },
	{ "/", 'a', PATH_MAX_LEN - 1, 0, 404, ROUTE_NONE },
	{ "/", 'a', PATH_MAX_LEN, 1, 414, ROUTE_NONE },
	/* The query is not the path. */
	{ "/_ping?", 'q', 4 * PATH_MAX_LEN, 1, 200, ROUTE_PING },
};

START_TEST(route_long_path)
{
	struct answer	 a;
	char		*p;

	p = long_string(longs[_i].prefix, longs[_i].c, longs[_i].n);
	route("GET", longs[_i].uri ? "" : p, longs[_i].uri ? p : NULL, NULL,
	    NULL, &a);
	ck_assert_msg(a.status == longs[_i].status && a.route ==
	    longs[_i].route, "%s + %zu x '%c' as %s: status %d",
	    longs[_i].prefix, longs[_i].n, longs[_i].c,
	    longs[_i].uri ? "REQUEST_URI" : "PATH_INFO", a.status);
	if (a.status == 414)
		check_body("too long", &a, TOO_LONG);
	free(p);
}
END_TEST

/* ---------------------------------------------------------- methods */

#define G40	"GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG"

static const struct {
	const char	*method;
	int		 status;
	int		 head;
} methods[] = {
	{ "GET", 200, 0 },
	{ "HEAD", 200, 1 },
	{ "POST", 405, 0 },
	{ "PUT", 405, 0 },
	{ "DELETE", 405, 0 },
	{ "OPTIONS", 405, 0 },
	{ "PATCH", 405, 0 },
	{ "get", 405, 0 },
	{ "ABCDEFGHIJKLMNOP", 405, 0 },
	/* Not an HTTP token of at most 16 bytes. */
	{ NULL, 400, 0 },
	{ "", 400, 0 },
	{ "G ET", 400, 0 },
	{ "GET\r\n", 400, 0 },
	{ "ABCDEFGHIJKLMNOPQ", 400, 0 },
	{ G40, 400, 0 },
};

START_TEST(route_method)
{
	const char	*m = methods[_i].method;
	struct answer	 a;

	route(m, "/_health", NULL, NULL, NULL, &a);
	ck_assert_msg(a.status == methods[_i].status, "%s: status %d",
	    m ? m : "(unset)", a.status);
	ck_assert_msg(a.head == methods[_i].head, "%s: head %d",
	    m ? m : "(unset)", a.head);
	ck_assert_int_eq(a.route, a.status == 200 ? ROUTE_HEALTH : ROUTE_NONE);
	check_body(m ? m : "(unset)", &a, a.status == 405 ? NOT_ALLOWED :
	    a.status == 400 ? BAD_METHOD : NULL);
}
END_TEST

/* ------------------------------------- components, exclude, formats */

static const struct {
	const char	*pi;
	const char	*uri;
	int		 status;
	int		 comp;	/* -1: the whole document */
	const char	*body;
} comps[] = {
	{ "/_health/database", NULL, 200, COMP_DATABASE, NULL },
	{ "/_health/registry", NULL, 200, COMP_REGISTRY, NULL },
	{ "/api/v1/health/clair/", NULL, 200, COMP_CLAIR, NULL },
	{ "/_health/ldap", NULL, 200, COMP_LDAP, NULL },
	{ "", "/portus/_health/registry?x=1", 200, COMP_REGISTRY, NULL },
	{ "/_health", NULL, 200, -1, NULL },
	{ "/_health/nosuch", NULL, 404, 0, NO_COMPONENT },
	{ "/_health/Database", NULL, 404, 0, NO_COMPONENT },
	{ "/_health/aaaaaaaaaaaaaaaa", NULL, 404, 0, NO_COMPONENT },
	{ "/_health//", NULL, 404, 0, NO_COMPONENT },
	{ "/_health/database/x", NULL, 404, 0, NOT_FOUND },
	{ "/_ping/database", NULL, 404, 0, NOT_FOUND },
};

START_TEST(route_component)
{
	struct answer	a;
	const char	*what = comps[_i].pi[0] ? comps[_i].pi : comps[_i].uri;

	route("GET", comps[_i].pi, comps[_i].uri, NULL, NULL, &a);
	ck_assert_msg(a.status == comps[_i].status, "%s: status %d", what,
	    a.status);
	check_body(what, &a, comps[_i].body);
	if (a.status != 200)
		ck_assert_int_eq(a.route, ROUTE_NONE);
	else
		ck_assert_msg(a.route == ROUTE_HEALTH && a.comp ==
		    comps[_i].comp, "%s: route %d comp %d", what, a.route,
		    a.comp);
}
END_TEST

static const struct {
	const char	*pi;
	const char	*uri;
	const char	*query;	/* QUERY_STRING */
	int		 status;
	unsigned	 exclude;
} excludes[] = {
	{ "/_health", NULL, "exclude=clair", 200, 1u << COMP_CLAIR },
	{ "/_health", NULL, "a=1&exclude=clair,registry&exclude=database",
	    200, 1u << COMP_CLAIR | 1u << COMP_REGISTRY | 1u << COMP_DATABASE },
	{ "/_health", NULL, "exclude=ldap;exclude=clair", 200,
	    1u << COMP_LDAP | 1u << COMP_CLAIR },
	{ "/_health", NULL, "exclude=clair%2Cregistry", 200,
	    1u << COMP_CLAIR | 1u << COMP_REGISTRY },
	{ "/_health", NULL, "exclude=database,,clair", 200,
	    1u << COMP_DATABASE | 1u << COMP_CLAIR },
	{ "", "/_health?exclude=registry", NULL, 200, 1u << COMP_REGISTRY },
	{ "/_health", NULL, "exclude=", 200, 0 },
	{ "/_health", NULL, "xexclude=bogus", 200, 0 },
	{ "/_health", NULL, "exclude=bogus", 400, 0 },
	{ "/_health", NULL, "exclude=%zz", 400, 0 },
	/* Only health routes read it. */
	{ "/_ping", NULL, "exclude=bogus", 200, 0 },
};

START_TEST(route_exclude)
{
	struct answer	a;
	const char	*q = excludes[_i].query ? excludes[_i].query :
	    excludes[_i].uri;

	route("GET", excludes[_i].pi, excludes[_i].uri, excludes[_i].query,
	    NULL, &a);
	ck_assert_msg(a.status == excludes[_i].status, "%s: status %d", q,
	    a.status);
	if (a.status == 400)
		check_body(q, &a, BAD_EXCLUDE);
	else
		ck_assert_msg(a.exclude == excludes[_i].exclude, "%s: "
		    "exclude %#x, want %#x", q, a.exclude,
		    excludes[_i].exclude);
}
END_TEST

static const struct {
	const char	*accept;	/* HTTP_ACCEPT, or NULL */
	enum format	 format;
} accepts[] = {
	{ NULL, FMT_PORTUS },
	{ "*/*", FMT_PORTUS },
	{ "application/json", FMT_PORTUS },
	{ "application/health+json", FMT_HEALTH_JSON },
	{ "application/health+json, text/html", FMT_HEALTH_JSON },
	{ "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	    FMT_HTML },
	{ "TEXT/HTML", FMT_HTML },
	{ "application/json, text/html", FMT_PORTUS },
};

START_TEST(route_format)
{
	struct answer a;

	route("GET", "/_health", NULL, NULL, accepts[_i].accept, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_msg(a.format == accepts[_i].format, "Accept %s: format %d",
	    accepts[_i].accept ? accepts[_i].accept : "(unset)", a.format);
}
END_TEST

/* ----------------------------------------------------- path_decode */

static const struct {
	const char	*in;
	size_t		 sz;
	int		 ret;
	const char	*out;	/* when decoded */
} decodes[] = {
	{ "%41b", 32, 2, "Ab" },
	{ "/%5f%2Fx", 32, 4, "/_/x" },
	{ "", 32, 0, "" },
	{ "%zz", 32, -1, NULL },
	{ "%4", 32, -1, NULL },
	{ "a%", 32, -1, NULL },
	{ "%g1", 32, -1, NULL },
	{ "%00", 32, -1, NULL },
	/* The buffer holds the NUL too. */
	{ "abc", 3, -1, NULL },
	{ "abc", 4, 3, "abc" },
	{ "%41%42%43", 3, -1, NULL },
	{ "%41%42%43", 4, 3, "ABC" },
	{ "", 0, -1, NULL },
};

START_TEST(route_decode)
{
	char	out[32];
	int	r;

	memset(out, 'X', sizeof(out));
	r = path_decode(decodes[_i].in, out, decodes[_i].sz);
	ck_assert_msg(r == decodes[_i].ret, "\"%s\" into %zu: %d",
	    decodes[_i].in, decodes[_i].sz, r);
	if (decodes[_i].out != NULL)
		ck_assert_msg(strcmp(out, decodes[_i].out) == 0, "\"%s\": "
		    "\"%s\"", decodes[_i].in, out);
	if (decodes[_i].sz == 0)
		ck_assert_msg(out[0] == 'X', "written with size 0");
}
END_TEST

/* ---------------------------------------------------- response head */

static const struct {
	int		 status;
	const char	*text;
} statuses[] = {
	{ 200, "OK" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 414, "URI Too Long" },
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
	{ 999, "Unknown" },
};

START_TEST(head_status)
{
	char	buf[512], line[64];
	int	n, st = statuses[_i].status;

	ck_assert_str_eq(status_text(st), statuses[_i].text);
	n = response_head(buf, sizeof(buf), st, MIME_JSON, 31);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq((size_t)n, strlen(buf));
	snprintf(line, sizeof(line), "Status: %d %s\r\n", st,
	    statuses[_i].text);
	ck_assert_msg(strncmp(buf, line, strlen(line)) == 0, "%d: %s", st,
	    buf);
	/* Allow goes with 405 alone. */
	ck_assert_msg((strstr(buf, "\r\nAllow: GET, HEAD\r\n") != NULL) ==
	    (st == 405), "%d: %s", st, buf);
	ck_assert_msg((strstr(buf, "Allow:") != NULL) == (st == 405), "%d",
	    st);
}
END_TEST

static const struct {
	enum mime	 mime;
	const char	*type;	/* NULL: no Content-Type */
} mimes[] = {
	{ MIME_NONE, NULL },
	{ MIME_JSON, "application/json; charset=utf-8" },
	{ MIME_HEALTH_JSON, "application/health+json; charset=utf-8" },
	{ MIME_HTML, "text/html; charset=utf-8" },
	{ MIME_PROMETHEUS, "text/plain; version=0.0.4; charset=utf-8" },
};

START_TEST(head_content_type)
{
	char buf[512], line[128];

	ck_assert_int_gt(response_head(buf, sizeof(buf), 200, mimes[_i].mime,
	    10), 0);
	if (mimes[_i].type == NULL) {
		ck_assert_ptr_null(strstr(buf, "Content-Type:"));
		return;
	}
	snprintf(line, sizeof(line), "\r\nContent-Type: %s\r\n",
	    mimes[_i].type);
	ck_assert_msg(strstr(buf, line) != NULL, "mime %d: %s",
	    mimes[_i].mime, buf);
}
END_TEST

START_TEST(head_common_headers)
{
	char buf[512];

	ck_assert_int_gt(response_head(buf, sizeof(buf), 200, 0, 0), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nCache-Control: no-cache\r\n"));
	ck_assert_ptr_nonnull(strstr(buf,
	    "\r\nX-Content-Type-Options: nosniff\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nContent-Length: 0\r\n"));
}
END_TEST

START_TEST(head_content_length)
{
	char buf[512];

	ck_assert_int_gt(response_head(buf, sizeof(buf), 200, 1, 123456), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nContent-Length: 123456\r\n"));
}
END_TEST

START_TEST(head_ends_with_blank_line)
{
	char	buf[512];
	size_t	len;

	ck_assert_int_gt(response_head(buf, sizeof(buf), 404, 1, 5), 0);
	len = strlen(buf);
	ck_assert_uint_ge(len, 4);
	ck_assert_str_eq(buf + len - 4, "\r\n\r\n");
	/* ... and the blank line is the only one. */
	ck_assert_ptr_eq(strstr(buf, "\r\n\r\n"), buf + len - 4);
}
END_TEST

START_TEST(head_buffer_too_small)
{
	char	buf[512];
	int	n;

	n = response_head(buf, sizeof(buf), 405, 1, 31);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(response_head(buf, (size_t)n, 405, 1, 31), -1);
	ck_assert_int_eq(response_head(buf, (size_t)n + 1, 405, 1, 31), n);
	ck_assert_int_eq(response_head(buf, 10, 200, 0, 0), -1);
}
END_TEST

Suite *
route_suite(void)
{
	Suite	*s = suite_create("route");
	TCase	*tc;

	tc = tcase_create("route");
	tcase_add_loop_test(tc, route_path, 0, NELEM(paths));
	tcase_add_loop_test(tc, route_long_path, 0, NELEM(longs));
	tcase_add_loop_test(tc, route_method, 0, NELEM(methods));
	tcase_add_loop_test(tc, route_component, 0, NELEM(comps));
	tcase_add_loop_test(tc, route_exclude, 0, NELEM(excludes));
	tcase_add_loop_test(tc, route_format, 0, NELEM(accepts));
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_loop_test(tc, route_decode, 0, NELEM(decodes));
	suite_add_tcase(s, tc);

	tc = tcase_create("head");
	tcase_add_loop_test(tc, head_status, 0, NELEM(statuses));
	tcase_add_loop_test(tc, head_content_type, 0, NELEM(mimes));
	tcase_add_test(tc, head_common_headers);
	tcase_add_test(tc, head_content_length);
	tcase_add_test(tc, head_ends_with_blank_line);
	tcase_add_test(tc, head_buffer_too_small);
	suite_add_tcase(s, tc);
	return s;
}
