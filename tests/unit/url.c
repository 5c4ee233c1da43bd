/*
 * src/check_clair.c: the URL of clair's health port, as Portus builds it
 * from security.clair.server and security.clair.health_port.
 */
#include <string.h>

#include "unit.h"

static void
url_setup(void)
{
	ck_assert_int_eq(http_global_init(), 0);
}

static void
url_teardown(void)
{
	http_global_free();
}

static const struct {
	const char	*server;
	long		 port;
	size_t		 sz;
	enum urlstatus	 st;
	const char	*want;	/* when there is one */
} urls[] = {
	{ "http://clair:6060", 6061, 512, URL_OK, "http://clair:6061/health" },
	{ "https://clair.example.com", 6061, 512, URL_OK,
	    "https://clair.example.com:6061/health" },
	{ "http://clair", 8080, 512, URL_OK, "http://clair:8080/health" },
	{ "http://[::1]:6060", 6061, 512, URL_OK, "http://[::1]:6061/health" },
	{ "http://clair:6060/some/path?q=1#f", 6061, 512, URL_OK,
	    "http://clair:6061/health" },
	/* No scheme: http:// is added (and said). */
	{ "clair:6060", 6061, 512, URL_ADDED_SCHEME,
	    "http://clair:6061/health" },
	{ "clair", 6061, 512, URL_ADDED_SCHEME, "http://clair:6061/health" },
	{ "ftp://clair", 6061, 512, URL_BAD_SCHEME, NULL },
	{ "gopher://clair:70", 6061, 512, URL_BAD_SCHEME, NULL },
	{ "", 6061, 512, URL_INVALID, NULL },
	{ "http://", 6061, 512, URL_INVALID, NULL },
	/* "http://clair:6061/health" is 24 bytes and needs 25. */
	{ "http://clair:6060", 6061, 24, URL_INVALID, NULL },
	{ "http://clair:6060", 6061, 25, URL_OK, "http://clair:6061/health" },
};

START_TEST(url_clair_health)
{
	char		out[512];
	enum urlstatus	st;

	out[0] = '\0';
	st = clair_health_url(urls[_i].server, urls[_i].port, out,
	    urls[_i].sz);
	ck_assert_msg(st == urls[_i].st, "\"%s\", port %ld, %zu bytes: "
	    "status %d, want %d", urls[_i].server, urls[_i].port, urls[_i].sz,
	    st, urls[_i].st);
	if (urls[_i].want != NULL)
		ck_assert_msg(strcmp(out, urls[_i].want) == 0, "\"%s\": %s, "
		    "want %s", urls[_i].server, out, urls[_i].want);
}
END_TEST

Suite *
url_suite(void)
{
	Suite	*s = suite_create("url");
	TCase	*tc;

	tc = tcase_create("clair");
	tcase_add_unchecked_fixture(tc, url_setup, url_teardown);
	tcase_add_loop_test(tc, url_clair_health, 0, NELEM(urls));
	suite_add_tcase(s, tc);
	return s;
}
