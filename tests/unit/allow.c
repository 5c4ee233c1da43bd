/*
 * health.allow: CIDR ranges (net_parse), who may see /_health and
 * /_metrics (net_allowed, request_allow in src/request.c), and the
 * loopback-only rule while health.allow could not be read
 * (cfg->allow_unknown, set by src/config.c).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* IPv4 is kept as ::ffff:a.b.c.d, so its prefix counts 96 more. */
static const struct {
	const char	*s;
	int		 ok;
	int		 family;
	int		 prefix;
} nets[] = {
	{ "10.0.0.0/8", 1, 4, 104 },
	{ "127.0.0.1", 1, 4, 128 },
	{ "0.0.0.0/0", 1, 4, 96 },
	{ "::1", 1, 6, 128 },
	{ "2001:db8::/32", 1, 6, 32 },
	{ "::ffff:10.0.0.0/104", 1, 4, 104 },
	{ "10.0.0.0/33", 0, 0, 0 },
	{ "::1/129", 0, 0, 0 },
	{ "10.0.0/8", 0, 0, 0 },
	{ "10.0.0.0/", 0, 0, 0 },
	{ "10.0.0.0/-1", 0, 0, 0 },
	{ "10.0.0.0/8x", 0, 0, 0 },
	{ "host.example", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "::ffff:10.0.0.0/95", 0, 0, 0 },
	{ "1.2.3.4/8/8", 0, 0, 0 },
	{ "::ffff:0:0/-99999999999999999999", 0, 0, 0 },
	{ "10.0.0.0/+8", 0, 0, 0 },
	{ "10.0.0.0/ 8", 0, 0, 0 },
	{ "10.0.0.0/0008", 0, 0, 0 },
};

START_TEST(allow_net_parse)
{
	struct net	n;
	int		r;

	r = net_parse(nets[_i].s, &n);
	ck_assert_msg(r == (nets[_i].ok ? 0 : -1), "\"%s\": %s", nets[_i].s,
	    r == 0 ? "accepted" : "refused");
	if (!nets[_i].ok)
		return;
	ck_assert_msg(n.family == nets[_i].family &&
	    n.prefix == nets[_i].prefix, "\"%s\": family %d prefix %d",
	    nets[_i].s, n.family, n.prefix);
}
END_TEST

/* Whether a client may see /_health under health.allow RANGES. */
static const struct {
	const char	*ranges;
	const char	*ip;	/* NULL: no address known */
	int		 want;
} clients[] = {
	/* Empty: everyone. */
	{ "", "203.0.113.9", 1 },
	{ "", NULL, 1 },
	{ "10.0.0.0/8", "10.255.1.2", 1 },
	{ "10.0.0.0/8", "11.0.0.1", 0 },
	{ "192.168.1.128/25", "192.168.1.200", 1 },
	{ "192.168.1.128/25", "192.168.1.127", 0 },
	{ "127.0.0.1", "127.0.0.1", 1 },
	{ "127.0.0.1", "127.0.0.2", 0 },
	{ "0.0.0.0/0", "198.51.100.1", 1 },
	{ "2001:db8::/32", "2001:db8:1::5", 1 },
	{ "2001:db8::/32", "2001:db9::5", 0 },
	{ "::1", "::1", 1 },
	{ "fe80::/10", "febf::1", 1 },
	{ "fe80::/10", "fec0::1", 0 },
	/* ::/0 is every IPv6 client, no IPv4 one; a mapped client is IPv4. */
	{ "::/0", "127.0.0.1", 0 },
	{ "0.0.0.0/0", "::1", 0 },
	{ "127.0.0.0/8", "::ffff:127.0.0.5", 1 },
	{ "::ffff:10.0.0.0/104", "10.9.9.9", 1 },
	/* Lists, and clients that are no address. */
	{ "10.0.0.0/8, ::1 192.0.2.1", "192.0.2.1", 1 },
	{ "10.0.0.0/8,::1", "::1", 1 },
	{ "10.0.0.0/8", NULL, 0 },
	{ "10.0.0.0/8", "not-an-address", 0 },
	{ "10.0.0.0/8", "", 0 },
};

START_TEST(allow_client)
{
	char	 var[256];
	char	*envp[] = { var, NULL };

	snprintf(var, sizeof(var), "PORTUS_HEALTH_ALLOW=%s",
	    clients[_i].ranges);
	ck_assert_int_eq(env(envp), CONF_OK);
	ck_assert_msg(net_allowed(&cfg, clients[_i].ip) == clients[_i].want,
	    "%s under \"%s\": want %d", clients[_i].ip ? clients[_i].ip :
	    "(none)", clients[_i].ranges, clients[_i].want);
}
END_TEST

/* request_allow: health and metrics answer 403 to others; /_ping never. */
static const struct {
	const char	*path;
	const char	*ip;
	int		 status;
} requests[] = {
	{ "/_health", "192.0.2.1", 403 },
	{ "/_health/database", "192.0.2.1", 403 },
	{ "/_metrics", "192.0.2.1", 403 },
	{ "/_ping", "192.0.2.1", 200 },
	{ "/_health", "10.1.2.3", 200 },
	{ "/_metrics", "10.1.2.3", 200 },
};

START_TEST(allow_request)
{
	struct reqinfo	 ri = { "GET", requests[_i].path, NULL, NULL, NULL };
	struct answer	 a;
	char		*envp[] = { "PORTUS_HEALTH_ALLOW=10.0.0.0/8", NULL };

	ck_assert_int_eq(env(envp), CONF_OK);
	request_route(&ri, &a);
	request_allow(&cfg, requests[_i].ip, &a);
	ck_assert_msg(a.status == requests[_i].status, "%s from %s: %d",
	    requests[_i].path, requests[_i].ip, a.status);
	if (a.status == 403) {
		ck_assert_str_eq(a.body, "{\"error\":\"forbidden\"}");
		ck_assert_int_eq(a.route, ROUTE_NONE);
	}
}
END_TEST

/* While health.allow is unknown, loopback alone may see: never open. */
static const struct {
	const char	*ip;
	int		 want;
} loopback[] = {
	{ "127.0.0.1", 1 },
	{ "127.1.2.3", 1 },
	{ "::1", 1 },
	{ "::ffff:127.0.0.1", 1 },
	{ "10.0.0.1", 0 },
	{ "192.0.2.1", 0 },
	{ "2001:db8::1", 0 },
	{ "::2", 0 },
	{ "not-an-address", 0 },
	{ NULL, 0 },
};

START_TEST(allow_unknown_loopback_only)
{
	const char *ip = loopback[_i].ip;

	cfg.allow_unknown = 1;
	ck_assert_msg(net_allowed(&cfg, ip) == loopback[_i].want,
	    "%s: want %d", ip ? ip : "(none)", loopback[_i].want);
	/* Even with ranges that would let everyone in. */
	ck_assert_int_eq(net_parse("0.0.0.0/0", &cfg.allow[0]), 0);
	ck_assert_int_eq(net_parse("::/0", &cfg.allow[1]), 0);
	cfg.nallow = 2;
	ck_assert_msg(net_allowed(&cfg, ip) == loopback[_i].want,
	    "%s under 0.0.0.0/0, ::/0: want %d", ip ? ip : "(none)",
	    loopback[_i].want);
}
END_TEST

/* YAML files, and whether health.allow is then known. */
static const struct {
	const char	*name;
	const char	*yaml;
	int		 unknown;
} files[] = {
	{ "a good list", "health:\n  allow: [10.0.0.0/8]\n", 0 },
	{ "no health.allow", "health:\n  timeout: 3\n", 0 },
	{ "another key bad", "ldap:\n  port: banana\n", 0 },
	{ "an empty document", "", 0 },
	{ "a bad range", "health:\n  allow: [10.0.0.0/8, bogus]\n", 1 },
	{ "a bad string", "health:\n  allow: bogus\n", 1 },
	{ "a mapping", "health:\n  allow: {a: b}\n", 1 },
	{ "a list of lists", "health:\n  allow: [[10.0.0.0/8]]\n", 1 },
	{ "a scalar for health", "health: 5\n", 1 },
	{ "not a mapping", "- a\n- b\n", 1 },
	{ "not YAML", "health: {allow: [\n", 1 },
	/* The walk stops at a bad merge key, before health is read. */
	{ "a walk stopped", "ldap:\n  <<: 5\nhealth:\n  allow: [10.0.0.0/8]\n",
	    1 },
};

START_TEST(allow_unknown_from_yaml)
{
	yaml(files[_i].yaml);
	ck_assert_msg(cfg.allow_unknown == files[_i].unknown, "%s: %d",
	    files[_i].name, cfg.allow_unknown);
}
END_TEST

/*
 * Through config_load: a broken file leaves health.allow unknown unless
 * the environment then sets it well.
 */
static const struct {
	const char	*name;
	const char	*file;	/* NULL: no file; "/": a directory */
	const char	*allow;	/* PORTUS_HEALTH_ALLOW, or NULL */
	int		 unknown;
	int		 nallow;
} loads[] = {
	{ "no file", NULL, NULL, 0, 0 },
	{ "a good file", "health:\n  allow: [10.0.0.0/8, \"::1\"]\n", NULL,
	    0, 2 },
	{ "an unreadable file", "/", NULL, 1, 0 },
	{ "not YAML", "health: {\n", NULL, 1, 0 },
	{ "not a mapping", "- a\n", NULL, 1, 0 },
	{ "a bad value", "health:\n  allow: bogus\n", NULL, 1, 0 },
	{ "not YAML, then set", "health: {\n", "10.0.0.0/8", 0, 1 },
	{ "unreadable, then set", "/", "10.0.0.0/8, ::1", 0, 2 },
	{ "a bad value, then set", "health:\n  allow: bogus\n", "::1", 0, 1 },
	{ "unreadable, set empty", "/", "", 0, 0 },
	{ "a good file, bad variable", "health:\n  allow: [\"::1\"]\n",
	    "bogus", 1, 1 },
};

START_TEST(allow_unknown_from_load)
{
	char	 dir[64], path[PATH_MAX], v1[PATH_MAX + 32], v2[256];
	char	*envp[] = { v1, NULL, NULL };

	tmpdir_make(dir);
	if (loads[_i].file == NULL)
		snprintf(path, sizeof(path), "%s/none.yml", dir);
	else if (strcmp(loads[_i].file, "/") == 0)
		snprintf(path, sizeof(path), "%s", dir);
	else
		tmpfile_write(dir, "c.yml", loads[_i].file, path);
	snprintf(v1, sizeof(v1), "PORTUS_LOCAL_CONFIG_PATH=%s", path);
	if (loads[_i].allow != NULL) {
		snprintf(v2, sizeof(v2), "PORTUS_HEALTH_ALLOW=%s",
		    loads[_i].allow);
		envp[1] = v2;
	}
	load(envp);
	ck_assert_msg(cfg.allow_unknown == loads[_i].unknown, "%s: %d",
	    loads[_i].name, cfg.allow_unknown);
	ck_assert_msg((int)cfg.nallow == loads[_i].nallow, "%s: %zu ranges",
	    loads[_i].name, cfg.nallow);
}
END_TEST

Suite *
allow_suite(void)
{
	Suite	*s = suite_create("allow");
	TCase	*tc;

	tc = tcase_create("ranges");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_loop_test(tc, allow_net_parse, 0, NELEM(nets));
	tcase_add_loop_test(tc, allow_client, 0, NELEM(clients));
	tcase_add_loop_test(tc, allow_request, 0, NELEM(requests));
	suite_add_tcase(s, tc);

	tc = tcase_create("unknown");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_loop_test(tc, allow_unknown_loopback_only, 0,
	    NELEM(loopback));
	tcase_add_loop_test(tc, allow_unknown_from_yaml, 0, NELEM(files));
	tcase_add_loop_test(tc, allow_unknown_from_load, 0, NELEM(loads));
	suite_add_tcase(s, tc);
	return s;
}
