/*
 * src/report.c: the messages a document carries (with db_message and
 * compres_set, which write them), Portus's document, the IETF
 * health+json format, the page for people, /_metrics, and the error
 * bodies.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* A result: the database up (1.5 ms), the registry down, clair up with a
 * message that needs escaping; ldap absent. */
static void
sample_result(struct result *r)
{
	memset(r, 0, sizeof(*r));
	compres_set(&r->comp[COMP_DATABASE], 1, "database is up-to-date", NULL);
	compres_set(&r->comp[COMP_REGISTRY], 0, "registry is not reachable",
	    "connection refused");
	compres_set(&r->comp[COMP_CLAIR], 1, "clair <is> reachable & \"ok\"",
	    NULL);
	r->comp[COMP_DATABASE].ms = 1.5;
	r->wall = 1795489777.25;
}

/* --------------------------------------------------------- messages */

static const struct {
	enum dbstate	 st;
	const char	*msg;
} db_messages[] = {
	{ DB_UP, "database is up-to-date" },
	{ DB_INIT, "database is initializing" },
	{ DB_MISSING, "database has not been created" },
	{ DB_DOWN, "cannot connect to database" },
	{ DB_UNKNOWN, "unknown error" },
};

START_TEST(report_db_message)
{
	ck_assert_str_eq(db_message(db_messages[_i].st), db_messages[_i].msg);
}
END_TEST

/* compres_set: the message is base, then ": reason" when there is one. */
static const struct {
	int		 success;
	const char	*base;
	const char	*reason;
	const char	*msg;
} messages[] = {
	{ 1, "registry is reachable", NULL, "registry is reachable" },
	{ 0, "clair is not reachable", "", "clair is not reachable" },
	{ 0, "registry is not reachable", "connection refused",
	    "registry is not reachable: connection refused" },
};

START_TEST(report_compres)
{
	struct compres cr;

	memset(&cr, 0, sizeof(cr));
	compres_set(&cr, messages[_i].success, messages[_i].base,
	    messages[_i].reason);
	ck_assert_int_eq(cr.present, 1);
	ck_assert_int_eq(cr.success, messages[_i].success);
	ck_assert_str_eq(cr.msg, messages[_i].msg);
}
END_TEST

START_TEST(report_compres_truncates)
{
	struct compres	 cr;
	char		*r;

	memset(&cr, 0, sizeof(cr));
	r = long_string("", 'r', 1000);
	compres_set(&cr, 0, "registry is not reachable", r);
	ck_assert_uint_eq(strlen(cr.msg), sizeof(cr.msg) - 1);
	ck_assert_int_eq(strncmp(cr.msg, "registry is not reachable: rrr",
	    30), 0);
	free(r);
}
END_TEST

/* --------------------------------------------------- the document */

START_TEST(report_json_spec_example)
{
	struct compres	 r[COMP__MAX];
	char		*s;
	size_t		 len = 0;

	memset(r, 0, sizeof(r));
	compres_set(&r[COMP_DATABASE], 1, db_message(DB_UP), NULL);
	compres_set(&r[COMP_REGISTRY], 1, "registry is reachable", NULL);
	compres_set(&r[COMP_CLAIR], 1, "clair is reachable", NULL);
	ck_assert_ptr_nonnull(s = report_json(r, 0, &len));
	ck_assert_str_eq(s,
	    "{\"database\":{\"msg\":\"database is up-to-date\","
	    "\"success\":true},"
	    "\"registry\":{\"msg\":\"registry is reachable\","
	    "\"success\":true},"
	    "\"clair\":{\"msg\":\"clair is reachable\",\"success\":true}}");
	ck_assert_uint_eq(len, strlen(s));
	free(s);
}
END_TEST

START_TEST(report_json_absent_left_out)
{
	struct compres	 r[COMP__MAX];
	char		*s;
	size_t		 len;

	memset(r, 0, sizeof(r));
	compres_set(&r[COMP_DATABASE], 0, db_message(DB_DOWN), NULL);
	compres_set(&r[COMP_REGISTRY], 0, "no registry configured", NULL);
	ck_assert_ptr_nonnull(s = report_json(r, 0, &len));
	ck_assert_str_eq(s,
	    "{\"database\":{\"msg\":\"cannot connect to database\","
	    "\"success\":false},"
	    "\"registry\":{\"msg\":\"no registry configured\","
	    "\"success\":false}}");
	free(s);
}
END_TEST

START_TEST(report_json_fixed_order)
{
	struct compres	 r[COMP__MAX];
	char		*s, *d, *g, *c, *l;
	size_t		 len;

	/* Filled backwards; the document still reads in SPEC order. */
	memset(r, 0, sizeof(r));
	compres_set(&r[COMP_LDAP], 1, "LDAP server is reachable", NULL);
	compres_set(&r[COMP_CLAIR], 0, "clair is not reachable", NULL);
	compres_set(&r[COMP_REGISTRY], 1, "registry is reachable", NULL);
	compres_set(&r[COMP_DATABASE], 1, db_message(DB_UP), NULL);
	ck_assert_ptr_nonnull(s = report_json(r, 0, &len));
	ck_assert_ptr_nonnull(d = strstr(s, "\"database\""));
	ck_assert_ptr_nonnull(g = strstr(s, "\"registry\""));
	ck_assert_ptr_nonnull(c = strstr(s, "\"clair\""));
	ck_assert_ptr_nonnull(l = strstr(s, "\"ldap\""));
	ck_assert_ptr_eq(d, s + 1);
	ck_assert(d < g && g < c && c < l);
	free(s);
}
END_TEST

START_TEST(report_json_escapes)
{
	static const char	 nasty[] =
	    "a \"quoted\" back\\slash\x01\n\ttab";
	struct compres		 r[COMP__MAX];
	json_object		*o, *reg;
	char			*s;
	size_t			 len, i;

	memset(r, 0, sizeof(r));
	compres_set(&r[COMP_REGISTRY], 0, nasty, NULL);
	ck_assert_ptr_nonnull(s = report_json(r, 0, &len));
	for (i = 0; i < len; i++)
		ck_assert_msg((unsigned char)s[i] >= 0x20,
		    "raw control byte at %zu", i);
	ck_assert_ptr_nonnull(o = json_tokener_parse(s));
	ck_assert(json_object_object_get_ex(o, "registry", &reg));
	ck_assert_str_eq(json_str(reg, "msg"), nasty);
	json_object_put(o);
	free(s);
}
END_TEST

START_TEST(report_json_slash_not_escaped)
{
	struct compres	 r[COMP__MAX];
	char		*s;
	size_t		 len;

	memset(r, 0, sizeof(r));
	compres_set(&r[COMP_CLAIR], 0, "clair is not reachable",
	    "http://clair:6061/health");
	ck_assert_ptr_nonnull(s = report_json(r, 0, &len));
	ck_assert_ptr_nonnull(strstr(s, "http://clair:6061/health"));
	ck_assert_ptr_null(strstr(s, "\\/"));
	free(s);
}
END_TEST

START_TEST(report_json_pretty_same_object)
{
	struct compres	 r[COMP__MAX];
	json_object	*a, *b;
	char		*compact, *pretty;
	size_t		 clen, plen;

	memset(r, 0, sizeof(r));
	compres_set(&r[COMP_DATABASE], 0, db_message(DB_INIT), NULL);
	compres_set(&r[COMP_REGISTRY], 1, "registry is reachable", NULL);
	compres_set(&r[COMP_LDAP], 0, "LDAP server is not reachable",
	    "connection timed out");
	ck_assert_ptr_nonnull(compact = report_json(r, 0, &clen));
	ck_assert_ptr_nonnull(pretty = report_json(r, 1, &plen));
	ck_assert_ptr_null(strchr(compact, '\n'));
	ck_assert_ptr_nonnull(strchr(pretty, '\n'));
	ck_assert_uint_eq(plen, strlen(pretty));
	ck_assert_ptr_nonnull(a = json_tokener_parse(compact));
	ck_assert_ptr_nonnull(b = json_tokener_parse(pretty));
	ck_assert_int_eq(json_object_equal(a, b), 1);
	json_object_put(a);
	json_object_put(b);
	free(compact);
	free(pretty);
}
END_TEST

/* -------------------------------------------- formats of one request */

START_TEST(render_portus_subset)
{
	struct result	 r;
	char		*s;
	size_t		 len;
	int		 ok;

	sample_result(&r);
	ck_assert_ptr_nonnull(s = report_render(&r, 1u << COMP_DATABASE,
	    FMT_PORTUS, &len, &ok));
	ck_assert_str_eq(s, "{\"database\":{\"msg\":\"database is up-to-date\","
	    "\"success\":true}}");
	ck_assert_int_eq(ok, 1);
	free(s);
}
END_TEST

START_TEST(render_health_json_format)
{
	struct result	 r;
	json_object	*o, *c, *v;
	char		*s;
	size_t		 len;
	int		 ok;

	sample_result(&r);
	ck_assert_ptr_nonnull(s = report_render(&r, ~0u, FMT_HEALTH_JSON, &len,
	    &ok));
	ck_assert_int_eq(ok, 0);
	ck_assert_ptr_nonnull(o = json_tokener_parse(s));
	ck_assert_str_eq(json_str(o, "status"), "fail");
	ck_assert(json_object_object_get_ex(o, "checks", &c));
	ck_assert(json_object_object_get_ex(c, "database:responseTime", &v));
	v = json_object_array_get_idx(v, 0);
	ck_assert_str_eq(json_str(v, "componentType"), "datastore");
	ck_assert_str_eq(json_str(v, "observedUnit"), "ms");
	ck_assert(json_object_get_double(json_object_object_get(v,
	    "observedValue")) == 1.5);
	ck_assert_str_eq(json_str(v, "time"), "2026-11-24T03:09:37Z");
	ck_assert(!json_object_object_get_ex(v, "output", NULL));
	ck_assert(json_object_object_get_ex(c, "registry:responseTime", &v));
	v = json_object_array_get_idx(v, 0);
	ck_assert_str_eq(json_str(v, "output"),
	    "registry is not reachable: connection refused");
	json_object_put(o);
	free(s);
	/* Without the failing component: pass, no output. */
	ck_assert_ptr_nonnull(s = report_render(&r, ~(1u << COMP_REGISTRY),
	    FMT_HEALTH_JSON, &len, &ok));
	ck_assert_int_eq(ok, 1);
	ck_assert_ptr_null(strstr(s, "\"output\""));
	ck_assert_ptr_nonnull(strstr(s, "\"status\":\"pass\""));
	free(s);
}
END_TEST

START_TEST(render_html_page)
{
	struct result	 r;
	char		*s;
	size_t		 len;
	int		 ok;

	sample_result(&r);
	ck_assert_ptr_nonnull(s = report_render(&r, ~0u, FMT_HTML, &len, &ok));
	ck_assert_ptr_nonnull(strstr(s, "<meta http-equiv=\"refresh\""));
	ck_assert_ptr_nonnull(strstr(s, "Portus is unhealthy"));
	ck_assert_ptr_nonnull(strstr(s, "<div class=\"comp\" id=\"registry\">"
	    "<div class=\"line\"><span class=\"name\">registry</span>"
	    "<span class=\"state down\">down</span>"));
	/* Messages are escaped; nothing external, no script. */
	ck_assert_ptr_nonnull(strstr(s, "clair &lt;is&gt; reachable &amp; "
	    "&quot;ok&quot;"));
	ck_assert_ptr_null(strstr(s, "<script"));
	ck_assert_ptr_null(strstr(s, "http://"));
	ck_assert_ptr_null(strstr(s, "https://"));
	free(s);
}
END_TEST

/* The history: a mark per result, the oldest dropped, since when the
 * present state holds; the page shows the strip and the "since". */
START_TEST(render_html_history)
{
	struct result	 prev, r;
	char		*s, *p;
	size_t		 len;
	int		 ok, i, n;

	sample_result(&prev);
	memset(prev.hist, 0, sizeof(prev.hist));
	history_add(&prev, NULL);
	ck_assert_int_eq(prev.hist[COMP_REGISTRY].n, 1);
	ck_assert(prev.hist[COMP_REGISTRY].since == prev.wall);
	/* The registry stays down, then the database goes down too. */
	for (i = 0; i < HISTORY_MAX + 5; i++) {
		r = prev;
		r.wall = prev.wall + 10;
		r.comp[COMP_DATABASE].success = i < 10;
		history_add(&r, &prev);
		prev = r;
	}
	ck_assert_int_eq(r.hist[COMP_REGISTRY].n, HISTORY_MAX);
	ck_assert(r.hist[COMP_REGISTRY].m[HISTORY_MAX - 1].wall == r.wall);
	/* Down since the first run: the oldest marks went, "since" stays. */
	ck_assert(r.hist[COMP_REGISTRY].since == r.wall - 10.0 *
	    (HISTORY_MAX + 5));
	/* The database went down at the twelfth run. */
	ck_assert(r.hist[COMP_DATABASE].since == r.wall - 10.0 *
	    (HISTORY_MAX + 5 - 11));
	ck_assert_ptr_nonnull(s = report_render(&r, ~0u, FMT_HTML, &len, &ok));
	ck_assert_ptr_nonnull(strstr(s, "<span class=\"since\">down for "));
	for (n = 0, p = s; (p = strstr(p, "<span class=\"ko\"")) != NULL; p++)
		n++;
	/* Of 66 runs, the last 60: the registry's all red, the database's
	 * 5 green and 55 red, clair's all green. */
	ck_assert_int_eq(n, HISTORY_MAX + 55);
	for (n = 0, p = s; (p = strstr(p, "<span class=\"ok\"")) != NULL; p++)
		n++;
	ck_assert_int_eq(n, 5 + HISTORY_MAX);
	free(s);
}
END_TEST

/* ------------------------------------------------------------ metrics */

START_TEST(render_metrics_text)
{
	struct result	 r;
	struct counters	 cnt;
	char		*s;
	size_t		 len;

	sample_result(&r);
	memset(&cnt, 0, sizeof(cnt));
	cnt.n[ROUTE_PING][status_index(200)] = 7;
	cnt.n[ROUTE_NONE][status_index(404)] = 2;
	cnt.n[ROUTE_HEALTH][status_index(302)] = 1;
	ck_assert_ptr_nonnull(s = report_metrics(&r, &cnt, 1, &len));
	ck_assert_uint_eq(len, strlen(s));
	ck_assert_ptr_nonnull(strstr(s, "# TYPE portus_health_up gauge\n"
	    "portus_health_up{component=\"database\"} 1\n"
	    "portus_health_up{component=\"registry\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(s, "portus_health_check_duration_seconds"
	    "{component=\"database\"} 0.001500\n"));
	ck_assert_ptr_nonnull(strstr(s, "portus_health_check_timestamp_seconds"
	    "{component=\"clair\"} 1795489777.250\n"));
	ck_assert_ptr_null(strstr(s, "component=\"ldap\""));
	ck_assert_ptr_nonnull(strstr(s, "portus_health_requests_total{route="
	    "\"ping\",code=\"200\"} 7\n"));
	ck_assert_ptr_nonnull(strstr(s, "portus_health_requests_total{route="
	    "\"other\",code=\"404\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(s, "{route=\"health\",code=\"other\"} 1"));
	ck_assert_ptr_null(strstr(s, "code=\"503\""));
	free(s);
	ck_assert_ptr_nonnull(s = report_metrics(&r, NULL, 1, &len));
	ck_assert_ptr_null(strstr(s, "requests_total"));
	free(s);
}
END_TEST

START_TEST(render_metrics_config_ok)
{
	struct result	 r;
	char		*s;
	size_t		 len;

	sample_result(&r);
	ck_assert_ptr_nonnull(s = report_metrics(&r, NULL, _i, &len));
	ck_assert_ptr_nonnull(strstr(s, "# TYPE portus_health_config_ok "
	    "gauge\n"));
	ck_assert_msg(strstr(s, _i ? "\nportus_health_config_ok 1\n" :
	    "\nportus_health_config_ok 0\n") != NULL, "config_ok %d: %s", _i,
	    s);
	free(s);
}
END_TEST

/* Counters by status: those /_metrics names, then one for the rest. */
static const struct {
	int	status;
	int	index;
} indexes[] = {
	{ 200, 0 }, { 400, 1 }, { 403, 2 }, { 404, 3 }, { 405, 4 },
	{ 414, 5 }, { 500, 6 }, { 503, 7 }, { 302, STATUS_KINDS - 1 },
	{ 0, STATUS_KINDS - 1 },
};

START_TEST(report_status_index)
{
	ck_assert_msg(status_index(indexes[_i].status) == indexes[_i].index,
	    "%d: index %d", indexes[_i].status,
	    status_index(indexes[_i].status));
}
END_TEST

/* --------------------------------------------------------- error body */

static const struct {
	const char	*what;
	const char	*msg;
	const char	*want;
} errors[] = {
	{ "configuration", "health.timeout: expected an integer (from "
	    "/etc/portus/config-local.yml:2)", "{\"error\":\"configuration: "
	    "health.timeout: expected an integer (from "
	    "/etc/portus/config-local.yml:2)\"}" },
	{ "configuration", "t.yml:1: \"x\" \\ \x01", "{\"error\":"
	    "\"configuration: t.yml:1: \\\"x\\\" \\\\ \\u0001\"}" },
	{ "configuration", "", "{\"error\":\"configuration: \"}" },
};

START_TEST(report_error_body)
{
	char	*s;
	size_t	 len;

	ck_assert_ptr_nonnull(s = report_error(errors[_i].what, errors[_i].msg,
	    &len));
	ck_assert_msg(strcmp(s, errors[_i].want) == 0, "%s: %s",
	    errors[_i].msg, s);
	ck_assert_uint_eq(len, strlen(s));
	free(s);
}
END_TEST

Suite *
report_suite(void)
{
	Suite	*s = suite_create("report");
	TCase	*tc;

	tc = tcase_create("messages");
	tcase_add_loop_test(tc, report_db_message, 0, NELEM(db_messages));
	tcase_add_loop_test(tc, report_compres, 0, NELEM(messages));
	tcase_add_test(tc, report_compres_truncates);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, report_json_spec_example);
	tcase_add_test(tc, report_json_absent_left_out);
	tcase_add_test(tc, report_json_fixed_order);
	tcase_add_test(tc, report_json_escapes);
	tcase_add_test(tc, report_json_slash_not_escaped);
	tcase_add_test(tc, report_json_pretty_same_object);
	tcase_add_loop_test(tc, report_error_body, 0, NELEM(errors));
	suite_add_tcase(s, tc);

	tc = tcase_create("formats");
	tcase_add_test(tc, render_portus_subset);
	tcase_add_test(tc, render_health_json_format);
	tcase_add_test(tc, render_html_page);
	tcase_add_test(tc, render_html_history);
	suite_add_tcase(s, tc);

	tc = tcase_create("metrics");
	tcase_add_test(tc, render_metrics_text);
	tcase_add_loop_test(tc, render_metrics_config_ok, 0, 2);
	tcase_add_loop_test(tc, report_status_index, 0, NELEM(indexes));
	suite_add_tcase(s, tc);
	return s;
}
