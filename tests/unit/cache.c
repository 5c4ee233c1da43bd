/*
 * src/cache.c: the text of the shared result file, which another process
 * of the same configuration wrote (cache_render) and this one believes
 * only when it is whole, ours, for this key, and sound (cache_parse).
 */
#include <string.h>
#include <unistd.h>

#include "unit.h"

#define KEY	"db18a6cd560dcdd9ad15841af0bc51c0" \
		"439aa28d81109b92d1ed04ffd305934e"

/* A file as portus-health 0.1.0 wrote it (registry.hostname and
 * PORTUS_KEY_PATH set, a registry whose service is not its hostname). */
static const char written[] = "{\"format\":\"portus-health/1\","
    "\"key\":\"" KEY "\",\"wall\":1795601311.2924724,\"pid\":7223,"
    "\"comp\":{\"database\":{\"success\":false,\"msg\":\"cannot connect to "
    "database\",\"ms\":3.1405470008394332},\"registry\":{\"success\":false,"
    "\"msg\":\"registry rejects Portus's tokens: service registry.test is "
    "not its hostname\",\"ms\":7.4876950002362719}},\"hist\":{\"database\":"
    "{\"since\":1795601307.6260495,\"marks\":[[1795601307.6260495,false,"
    "1.1781779527664185],[1795601308.8474205,false,0.9161980152130127],"
    "[1795601310.0675821,false,0.35631799697875977],[1795601311.2924724,"
    "false,3.1405470371246338]]},\"registry\":{\"since\":"
    "1795601307.6260495,\"marks\":[[1795601307.6260495,false,"
    "5.1524310111999512],[1795601308.8474205,false,2.3227651119232178],"
    "[1795601310.0675821,false,3.3736340999603271],[1795601311.2924724,"
    "false,7.4876952171325684]]}}}";

/* Returns cache_parse's answer for the NUL-terminated text s, into a
 * result the caller frees. */
static int
parse(const char *key, const char *s, struct result **res, long *pid)
{
	ck_assert_ptr_nonnull(*res = calloc(1, sizeof(**res)));
	return cache_parse(key, s, strlen(s), *res, pid);
}

START_TEST(cache_parse_written)
{
	struct result	*r;
	long		 pid = 0;

	ck_assert_int_eq(parse(KEY, written, &r, &pid), 0);
	ck_assert_int_eq(pid, 7223);
	ck_assert(r->wall == 1795601311.2924724);
	ck_assert_int_eq(r->comp[COMP_DATABASE].present, 1);
	ck_assert_int_eq(r->comp[COMP_DATABASE].success, 0);
	ck_assert_str_eq(r->comp[COMP_DATABASE].msg,
	    "cannot connect to database");
	ck_assert(r->comp[COMP_DATABASE].ms == 3.1405470008394332);
	ck_assert_str_eq(r->comp[COMP_REGISTRY].msg, "registry rejects "
	    "Portus's tokens: service registry.test is not its hostname");
	ck_assert_int_eq(r->comp[COMP_CLAIR].present, 0);
	ck_assert_int_eq(r->hist[COMP_DATABASE].n, 4);
	ck_assert(r->hist[COMP_DATABASE].since == 1795601307.6260495);
	ck_assert(r->hist[COMP_REGISTRY].m[3].wall == 1795601311.2924724);
	ck_assert(r->hist[COMP_REGISTRY].m[3].ms == (float)7.4876952171325684);
	ck_assert_int_eq(r->hist[COMP_REGISTRY].m[3].ok, 0);
	ck_assert_int_eq(r->hist[COMP_LDAP].n, 0);
	free(r);
}
END_TEST

/* What a file gives back is what was rendered, and the file is written
 * by this process. */
START_TEST(cache_round_trip)
{
	struct result	*r, *back;
	char		*text;
	size_t		 len;
	long		 pid = 0;
	int		 c, i;

	ck_assert_int_eq(parse(KEY, written, &r, &pid), 0);
	r->comp[COMP_LDAP].present = 1;
	r->comp[COMP_LDAP].success = 1;
	snprintf(r->comp[COMP_LDAP].msg, sizeof(r->comp[0].msg),
	    "\"quoted\", \\, \x01, caf\xc3\xa9");
	r->comp[COMP_LDAP].ms = 0;
	r->hist[COMP_LDAP].n = HISTORY_MAX;
	r->hist[COMP_LDAP].since = 1795601200;
	for (i = 0; i < HISTORY_MAX; i++) {
		r->hist[COMP_LDAP].m[i].wall = 1795601200 + i;
		r->hist[COMP_LDAP].m[i].ok = i % 2;
		r->hist[COMP_LDAP].m[i].ms = (float)i / 3;
	}
	ck_assert_ptr_nonnull(text = cache_render(KEY, r, &len));
	ck_assert_ptr_nonnull(back = calloc(1, sizeof(*back)));
	ck_assert_int_eq(cache_parse(KEY, text, len, back, &pid), 0);
	ck_assert_int_eq(pid, getpid());
	ck_assert(back->wall == r->wall);
	for (c = 0; c < COMP__MAX; c++) {
		ck_assert_int_eq(back->comp[c].present, r->comp[c].present);
		ck_assert_int_eq(back->comp[c].success, r->comp[c].success);
		ck_assert_str_eq(back->comp[c].msg, r->comp[c].msg);
		ck_assert(back->comp[c].ms == r->comp[c].ms);
		ck_assert_int_eq(back->hist[c].n, r->hist[c].n);
		ck_assert(back->hist[c].since == r->hist[c].since);
		for (i = 0; i < r->hist[c].n; i++) {
			ck_assert(back->hist[c].m[i].wall ==
			    r->hist[c].m[i].wall);
			ck_assert(back->hist[c].m[i].ms == r->hist[c].m[i].ms);
			ck_assert_int_eq(back->hist[c].m[i].ok,
			    r->hist[c].m[i].ok);
		}
	}
	/* Cut short by a byte, it is not believed. */
	ck_assert_int_eq(cache_parse(KEY, text, len - 1, back, &pid), -1);
	free(text);
	free(back);
	free(r);
}
END_TEST

/* The parts of a sound file, each of which a case below replaces. */
#define FORMAT	"\"format\":\"portus-health/1\""
#define OURKEY	"\"key\":\"" KEY "\""
#define WALL	"\"wall\":1795601311.5"
#define PID	"\"pid\":7223"
#define ONECOMP(s)	"\"comp\":{\"database\":" s "}"
#define ONEHIST(s)	"\"hist\":{\"database\":" s "}"
#define MARK(s)		ONEHIST("{\"since\":1795601307.5," \
			    "\"marks\":[" s "]}")
#define COMP	ONECOMP("{\"success\":false,\"msg\":\"down\",\"ms\":3.5}")
#define HIST	MARK("[1795601307.5,false,1.5]")
#define DOC(f, k, w, p, c, h)	"{" f "," k "," w "," p "," c "," h "}"

static const struct {
	const char	*name;
	const char	*text;
	int		 rc;
} files[] = {
	{ "sound", DOC(FORMAT, OURKEY, WALL, PID, COMP, HIST), 0 },
	{ "no history", "{" FORMAT "," OURKEY "," WALL "," PID "," COMP "}",
	    0 },
	{ "a component unknown here", DOC(FORMAT, OURKEY, WALL, PID,
	    "\"comp\":{\"nosuch\":{}}", HIST), 0 },
	{ "a duration in whole ms", DOC(FORMAT, OURKEY, WALL, PID,
	    ONECOMP("{\"success\":true,\"msg\":\"up\",\"ms\":3}"), HIST), 0 },
	/* Not ours. */
	{ "another format", DOC("\"format\":\"portus-health/2\"", OURKEY,
	    WALL, PID, COMP, HIST), -1 },
	{ "the format, then a NUL", DOC("\"format\":\"portus-health/1\\u0000"
	    "\"", OURKEY, WALL, PID, COMP, HIST), -1 },
	{ "another key", DOC(FORMAT, "\"key\":\"" KEY "0\"", WALL, PID, COMP,
	    HIST), -1 },
	{ "the key cut short", DOC(FORMAT, "\"key\":\"db18a6cd\"", WALL, PID,
	    COMP, HIST), -1 },
	{ "the key, then a NUL", DOC(FORMAT, "\"key\":\"" KEY "\\u0000\"",
	    WALL, PID, COMP, HIST), -1 },
	{ "no format", "{" OURKEY "," WALL "," PID "," COMP "," HIST "}", -1 },
	{ "not an object", "[" FORMAT "]", -1 },
	{ "not JSON", "portus-health/1", -1 },
	{ "empty", "", -1 },
	{ "cut short", "{" FORMAT "," OURKEY "," WALL, -1 },
	{ "a newline after it", DOC(FORMAT, OURKEY, WALL, PID, COMP, HIST)
	    "\n", 0 },
	{ "something after it", DOC(FORMAT, OURKEY, WALL, PID, COMP, HIST)
	    "{}", -1 },
	/* Of the wrong type. */
	{ "the pid a string", DOC(FORMAT, OURKEY, WALL, "\"pid\":\"7223\"",
	    COMP, HIST), -1 },
	{ "the time an integer", DOC(FORMAT, OURKEY, "\"wall\":1795601311",
	    PID, COMP, HIST), -1 },
	{ "comp an array", DOC(FORMAT, OURKEY, WALL, PID, "\"comp\":[]",
	    HIST), -1 },
	{ "success a string", DOC(FORMAT, OURKEY, WALL, PID,
	    ONECOMP("{\"success\":\"false\",\"msg\":\"down\",\"ms\":3.5}"),
	    HIST), -1 },
	{ "the message a number", DOC(FORMAT, OURKEY, WALL, PID,
	    ONECOMP("{\"success\":false,\"msg\":42,\"ms\":3.5}"), HIST), -1 },
	{ "no duration", DOC(FORMAT, OURKEY, WALL, PID,
	    ONECOMP("{\"success\":false,\"msg\":\"down\"}"), HIST), -1 },
	{ "hist an array", DOC(FORMAT, OURKEY, WALL, PID, COMP,
	    "\"hist\":[]"), -1 },
	{ "a mark of two", DOC(FORMAT, OURKEY, WALL, PID, COMP,
	    MARK("[1795601307.5,false]")), -1 },
	{ "a mark's state a number", DOC(FORMAT, OURKEY, WALL, PID, COMP,
	    MARK("[1795601307.5,0,1.5]")), -1 },
	{ "no since", DOC(FORMAT, OURKEY, WALL, PID, COMP,
	    ONEHIST("{\"marks\":[]}")), -1 },
	/* Out of range: the page writes times and durations. */
	{ "a message with a NUL", DOC(FORMAT, OURKEY, WALL, PID,
	    ONECOMP("{\"success\":false,\"msg\":\"do\\u0000wn\",\"ms\":3.5}"),
	    HIST), -1 },
	{ "a negative duration", DOC(FORMAT, OURKEY, WALL, PID,
	    ONECOMP("{\"success\":false,\"msg\":\"down\",\"ms\":-1.0}"), HIST),
	    -1 },
	{ "a duration of 1e9 ms", DOC(FORMAT, OURKEY, WALL, PID,
	    ONECOMP("{\"success\":false,\"msg\":\"down\",\"ms\":1e9}"), HIST),
	    -1 },
	{ "the time NaN", DOC(FORMAT, OURKEY, "\"wall\":NaN", PID, COMP,
	    HIST), -1 },
	{ "the time negative", DOC(FORMAT, OURKEY, "\"wall\":-1.5", PID,
	    COMP, HIST), -1 },
	{ "the time past time_t", DOC(FORMAT, OURKEY, "\"wall\":1e300", PID,
	    COMP, HIST), -1 },
	{ "since Infinity", DOC(FORMAT, OURKEY, WALL, PID, COMP,
	    ONEHIST("{\"since\":Infinity,\"marks\":[]}")), -1 },
	{ "a mark's time past time_t", DOC(FORMAT, OURKEY, WALL, PID, COMP,
	    MARK("[1e300,false,1.5]")), -1 },
	{ "a mark's time NaN", DOC(FORMAT, OURKEY, WALL, PID, COMP,
	    MARK("[NaN,false,1.5]")), -1 },
	{ "a mark's duration Infinity", DOC(FORMAT, OURKEY, WALL, PID, COMP,
	    MARK("[1795601307.5,false,Infinity]")), -1 },
	{ "a mark's duration a float of 1e9", DOC(FORMAT, OURKEY, WALL, PID,
	    COMP, MARK("[1795601307.5,false,999999999.9]")), -1 },
};

START_TEST(cache_parse_file)
{
	struct result	*r;
	long		 pid = 0;
	int		 rc;

	rc = parse(KEY, files[_i].text, &r, &pid);
	ck_assert_msg(rc == files[_i].rc, "%s: %d, want %d", files[_i].name,
	    rc, files[_i].rc);
	if (rc == 0)
		ck_assert_int_eq(pid, 7223);
	free(r);
}
END_TEST

/* Returns a file whose database message is n bytes (to free). */
static char *
with_msg(size_t n)
{
	char	*msg, *doc;
	size_t	 sz;

	msg = long_string("", 'm', n);
	sz = strlen(msg) + 1024;
	ck_assert_ptr_nonnull(doc = malloc(sz));
	snprintf(doc, sz, "{" FORMAT "," OURKEY "," WALL "," PID ","
	    "\"comp\":{\"database\":{\"success\":false,\"msg\":\"%s\","
	    "\"ms\":3.5}}}", msg);
	free(msg);
	return doc;
}

/* A message fills its buffer but for the NUL, and no more. */
START_TEST(cache_parse_msg_size)
{
	struct result	*r;
	char		*doc;
	long		 pid;
	size_t		 max = sizeof(r->comp[0].msg) - 1;

	doc = with_msg(max);
	ck_assert_int_eq(parse(KEY, doc, &r, &pid), 0);
	ck_assert_uint_eq(strlen(r->comp[COMP_DATABASE].msg), max);
	free(r);
	free(doc);
	doc = with_msg(max + 1);
	ck_assert_int_eq(parse(KEY, doc, &r, &pid), -1);
	free(r);
	free(doc);
}
END_TEST

/* Returns a file whose database history has n marks (to free). */
static char *
with_marks(int n)
{
	char	*doc;
	size_t	 sz = 1024 + (size_t)n * 32, len;
	int	 i;

	ck_assert_ptr_nonnull(doc = malloc(sz));
	len = (size_t)snprintf(doc, sz, "{" FORMAT "," OURKEY "," WALL ","
	    PID "," COMP ",\"hist\":{\"database\":{\"since\":1795601200.5,"
	    "\"marks\":[");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(doc + len, sz - len, "%s[%d.5,true,"
		    "1.5]", i > 0 ? "," : "", 1795601200 + i);
	snprintf(doc + len, sz - len, "]}}}");
	return doc;
}

/* HISTORY_MAX marks are kept; one more is not a file of ours. */
START_TEST(cache_parse_marks)
{
	struct result	*r;
	char		*doc;
	long		 pid;

	doc = with_marks(HISTORY_MAX);
	ck_assert_int_eq(parse(KEY, doc, &r, &pid), 0);
	ck_assert_int_eq(r->hist[COMP_DATABASE].n, HISTORY_MAX);
	ck_assert(r->hist[COMP_DATABASE].m[HISTORY_MAX - 1].wall ==
	    1795601200.5 + HISTORY_MAX - 1);
	free(r);
	free(doc);
	doc = with_marks(HISTORY_MAX + 1);
	ck_assert_int_eq(parse(KEY, doc, &r, &pid), -1);
	free(r);
	free(doc);
}
END_TEST

/* The whole file is read or none of it: bytes past len are not. */
START_TEST(cache_parse_len)
{
	struct result	*r;
	char		*doc;
	long		 pid;
	size_t		 len;

	doc = with_marks(1);
	len = strlen(doc);
	ck_assert_ptr_nonnull(r = calloc(1, sizeof(*r)));
	ck_assert_int_eq(cache_parse(KEY, doc, len, r, &pid), 0);
	ck_assert_int_eq(cache_parse(KEY, doc, len - 1, r, &pid), -1);
	ck_assert_int_eq(cache_parse(KEY, doc, 0, r, &pid), -1);
	ck_assert_int_eq(cache_parse(KEY, doc, 64 * 1024 + 1, r, &pid), -1);
	free(r);
	free(doc);
}
END_TEST

Suite *
cache_suite(void)
{
	Suite	*s = suite_create("cache");
	TCase	*tc;

	tc = tcase_create("file");
	tcase_add_test(tc, cache_parse_written);
	tcase_add_test(tc, cache_round_trip);
	tcase_add_loop_test(tc, cache_parse_file, 0, NELEM(files));
	tcase_add_test(tc, cache_parse_msg_size);
	tcase_add_test(tc, cache_parse_marks);
	tcase_add_test(tc, cache_parse_len);
	suite_add_tcase(s, tc);
	return s;
}
