/*
 * src/config.c: the defaults, the names of keys and variables, how
 * values are typed (Ruby's Integer(), Psych's YAML), the YAML file, the
 * environment, lenient loading, CCONFIG_PREFIX, what config_load settles
 * and --print-config.  The rules are cconfig's (SPEC 4).
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

/* Returns whether key k of cfg holds its default value. */
static int
is_default(enum ckey k)
{
	struct config	 def;
	int		 same;

	ck_assert_int_eq(config_init(&def), CONF_OK);
	same = cfg_int(&cfg, k) == cfg_int(&def, k) &&
	    strcmp(cfg_str(&cfg, k), cfg_str(&def, k)) == 0;
	config_free(&def);
	return same;
}

/* Returns the first key of cfg not at its default, or -1. */
static int
first_changed(void)
{
	int k;

	for (k = 0; k < K__MAX; k++)
		if (!is_default(k))
			return k;
	return -1;
}

/* ---------------------------------------------- defaults and names */

/* Every key: its path and default (Portus's config/config.yml values). */
static const struct {
	const char	*path;
	long		 i;
	const char	*s;	/* for a string key */
} defaults[K__MAX] = {
	[K_CLAIR_SERVER] = { "security.clair.server", 0, "" },
	[K_CLAIR_HEALTH_PORT] = { "security.clair.health_port", 6061, NULL },
	[K_CLAIR_TIMEOUT] = { "security.clair.timeout", 900, NULL },
	[K_REG_TIMEOUT] = { "registry.timeout.value", 2, NULL },
	[K_REG_READ_TIMEOUT] = { "registry.read_timeout.value", 120, NULL },
	[K_REG_HOSTNAME] = { "registry.hostname", 0, "" },
	[K_REG_USE_SSL] = { "registry.use_ssl", 0, NULL },
	[K_LDAP_ENABLED] = { "ldap.enabled", 0, NULL },
	[K_LDAP_HOSTNAME] = { "ldap.hostname", 0, "ldap_hostname" },
	[K_LDAP_PORT] = { "ldap.port", 389, NULL },
	[K_LDAP_TIMEOUT] = { "ldap.timeout", 5, NULL },
	[K_LDAP_METHOD] = { "ldap.encryption.method", 0, "" },
	[K_LDAP_CA_FILE] = { "ldap.encryption.options.ca_file", 0, "" },
	[K_LDAP_AUTH_ENABLED] = { "ldap.authentication.enabled", 0, NULL },
	[K_LDAP_BIND_DN] = { "ldap.authentication.bind_dn", 0, "" },
	[K_LDAP_PASSWORD] = { "ldap.authentication.password", 0, "" },
	[K_HEALTH_TIMEOUT] = { "health.timeout", 5, NULL },
	[K_HEALTH_CACHE_TTL] = { "health.cache_ttl", 1, NULL },
	[K_HEALTH_MIGRATIONS] = { "health.database.migrations_path", 0, "" },
	[K_HEALTH_WORKERS] = { "health.workers", 4, NULL },
	[K_HEALTH_ALLOW] = { "health.allow", 0, "" },
	[K_HEALTH_CA_FILE] = { "health.ca_file", 0, "" },
	[K_HEALTH_INTERVAL] = { "health.interval", 0, NULL },
	[K_HEALTH_MAX_REQUESTS] = { "health.max_requests", 0, NULL },
	/* Under $TMPDIR: config_load settles it. */
	[K_HEALTH_CACHE_DIR] = { "health.cache_dir", 0, "" },
	[K_HEALTH_SANDBOX] = { "health.sandbox", 1, NULL },
	[K_HEALTH_OPTIONAL] = { "health.optional", 0, "" },
	[K_HEALTH_PORTUS_URL] = { "health.portus.url", 0, "" },
	[K_MACHINE_FQDN] = { "machine_fqdn.value", 0, "portus.test.lan" },
	[K_KEY_PATH] = { "key.path", 0, "" },
	[K_DB_ADAPTER] = { "db.adapter", 0, "" },
	[K_DB_HOST] = { "db.host", 0, "localhost" },
	[K_DB_USERNAME] = { "db.username", 0, "root" },
	[K_DB_PASSWORD] = { "db.password", 0, "" },
	[K_DB_DATABASE] = { "db.database", 0, "portus_production" },
	/* The adapter's own port: config_load settles it. */
	[K_DB_PORT] = { "db.port", 0, NULL },
	[K_DB_SOCKET] = { "db.socket", 0, "" },
	[K_DB_TIMEOUT] = { "db.timeout", 0, NULL },
};

START_TEST(cfg_default)
{
	const char *path = defaults[_i].path;

	ck_assert_msg(path != NULL, "key %d has no row", _i);
	ck_assert_str_eq(config_keyname(_i), path);
	if (defaults[_i].s != NULL)
		ck_assert_msg(strcmp(cfg_str(&cfg, _i), defaults[_i].s) == 0,
		    "%s: \"%s\", want \"%s\"", path, cfg_str(&cfg, _i),
		    defaults[_i].s);
	else
		ck_assert_msg(cfg_int(&cfg, _i) == defaults[_i].i,
		    "%s: %ld, want %ld", path, cfg_int(&cfg, _i),
		    defaults[_i].i);
	ck_assert_msg(strcmp(cfg.v[_i].src, "default") == 0, "%s: from %s",
	    path, cfg.v[_i].src);
}
END_TEST

START_TEST(cfg_init_state)
{
	ck_assert_str_eq(cfg.prefix, "PORTUS");
	ck_assert_uint_eq(cfg.nallow, 0);
	ck_assert_int_eq(cfg.allow_unknown, 0);
}
END_TEST

START_TEST(cfg_str_of_freed_is_empty)
{
	/* After config_free the accessor still returns a string. */
	config_free(&cfg);
	ck_assert_str_eq(cfg_str(&cfg, K_DB_HOST), "");
}
END_TEST

static const struct {
	const char	*prefix;	/* cfg's, or NULL for no cfg */
	enum ckey	 k;
	size_t		 sz;
	const char	*want;
} envnames[] = {
	{ NULL, K_CLAIR_HEALTH_PORT, 128, "PORTUS_SECURITY_CLAIR_HEALTH_PORT" },
	{ NULL, K_REG_READ_TIMEOUT, 128, "PORTUS_REGISTRY_READ_TIMEOUT_VALUE" },
	{ NULL, K_LDAP_PASSWORD, 128, "PORTUS_LDAP_AUTHENTICATION_PASSWORD" },
	{ NULL, K_LDAP_CA_FILE, 128, "PORTUS_LDAP_ENCRYPTION_OPTIONS_CA_FILE" },
	{ NULL, K_DB_PORT, 128, "PORTUS_DB_PORT" },
	{ "PORTUS", K_HEALTH_TIMEOUT, 128, "PORTUS_HEALTH_TIMEOUT" },
	{ "", K_HEALTH_TIMEOUT, 128, "PORTUS_HEALTH_TIMEOUT" },
	{ "ACME", K_HEALTH_TIMEOUT, 128, "ACME_HEALTH_TIMEOUT" },
	/* database.yml's variables keep their names. */
	{ "ACME", K_DB_PORT, 128, "PORTUS_DB_PORT" },
	{ "ACME", K_DB_PASSWORD, 128, "PORTUS_DB_PASSWORD" },
	/* Cut to the buffer. */
	{ NULL, K_CLAIR_HEALTH_PORT, 10, "PORTUS_SE" },
	{ "ACME", K_CLAIR_HEALTH_PORT, 8, "ACME_SE" },
};

START_TEST(cfg_envname)
{
	char buf[128];

	if (envnames[_i].prefix != NULL)
		snprintf(cfg.prefix, sizeof(cfg.prefix), "%s",
		    envnames[_i].prefix);
	config_envname(envnames[_i].prefix != NULL ? &cfg : NULL,
	    envnames[_i].k, buf, envnames[_i].sz);
	ck_assert_msg(strcmp(buf, envnames[_i].want) == 0,
	    "%s under prefix %s, %zu bytes: %s", config_keyname(envnames[_i].k),
	    envnames[_i].prefix ? envnames[_i].prefix : "(none)",
	    envnames[_i].sz, buf);
}
END_TEST

START_TEST(cfg_envname_tiny_buffer_stays_inside)
{
	char	buf[16];
	size_t	i;

	/* A buffer shorter than "PORTUS_" must not be written past. */
	memset(buf, 'X', sizeof(buf));
	config_envname(NULL, K_DB_PORT, buf, 4);
	ck_assert_int_eq(buf[3], '\0');
	for (i = 4; i < sizeof(buf); i++)
		ck_assert_msg(buf[i] == 'X', "byte %zu written past size 4",
		    i);
}
END_TEST

START_TEST(cfg_strerror)
{
	int a, b;

	ck_assert_str_eq(config_strerror(CONF_OK), "no error");
	for (a = CONF_OK; a <= CONF_ERR_NOMEM; a++)
		for (b = a + 1; b <= CONF_ERR_NOMEM; b++)
			ck_assert_msg(strcmp(config_strerror(a),
			    config_strerror(b)) != 0, "%d and %d read alike",
			    a, b);
}
END_TEST

/* Which request parameters are settings (the web server may pass them). */
static const struct {
	const char	*name;
	const char	*prefix;
	int		 want;
} settings[] = {
	{ "PORTUS_HEALTH_TIMEOUT", "PORTUS", 1 },
	{ "PORTUS_DB_HOST", "ACME", 1 },
	{ "PORTUS_HEALTH_TIMEOUT", "ACME", 1 },
	{ "ACME_HEALTH_TIMEOUT", "ACME", 1 },
	{ "ACME_LOCAL_CONFIG_PATH", "ACME", 1 },
	{ "CCONFIG_PREFIX", "ACME", 1 },
	{ "CCONFIG_PREFIX", "PORTUS", 1 },
	{ "ACMEX_HEALTH_TIMEOUT", "ACME", 0 },
	{ "ACME", "ACME", 0 },
	{ "PORTUS", "PORTUS", 0 },
	{ "CCONFIG_PREFIXES", "PORTUS", 0 },
	{ "portus_health_timeout", "PORTUS", 0 },
	{ "HTTP_PORTUS_HEALTH_TIMEOUT", "PORTUS", 0 },
	{ "XPORTUS_DB_HOST", "PORTUS", 0 },
	{ "PATH", "PORTUS", 0 },
	{ "ACME_X", "", 0 },
};

START_TEST(cfg_is_setting)
{
	ck_assert_msg(config_is_setting(settings[_i].name,
	    settings[_i].prefix) == settings[_i].want, "%s under prefix "
	    "\"%s\": want %d", settings[_i].name, settings[_i].prefix,
	    settings[_i].want);
}
END_TEST

/* ----------------------------------------------------------- typing */

/* Ruby's Integer(): 1 with the value, 0 for no integer, -1 too large. */
static const struct {
	const char	*s;
	int		 r;
	long		 v;
} ruby_ints[] = {
	{ "0", 1, 0 },
	{ "42", 1, 42 },
	{ " 42 ", 1, 42 },
	{ "\t42\n", 1, 42 },
	{ "-7", 1, -7 },
	{ "+7", 1, 7 },
	{ "010", 1, 8 },
	{ "-010", 1, -8 },
	{ "00", 1, 0 },
	{ "0x1A", 1, 26 },
	{ "0X1a", 1, 26 },
	{ "-0x10", 1, -16 },
	{ "0b101", 1, 5 },
	{ "0B11", 1, 3 },
	{ "0o17", 1, 15 },
	{ "0O17", 1, 15 },
	{ "0d19", 1, 19 },
	{ "0D019", 1, 19 },
	{ "1_000", 1, 1000 },
	{ "1_000_000", 1, 1000000 },
	{ "0_7", 1, 7 },
	{ "0x1_f", 1, 31 },
	{ "9223372036854775807", 1, LONG_MAX },
	{ "-9223372036854775808", 1, LONG_MIN },
	{ "0x7fffffffffffffff", 1, LONG_MAX },
	{ "9223372036854775808", -1, 0 },
	{ "-9223372036854775809", -1, 0 },
	{ "0x8000000000000000", -1, 0 },
	{ "99999999999999999999", -1, 0 },
	{ "1__0", 0, 0 },
	{ "_1", 0, 0 },
	{ "1_", 0, 0 },
	{ "0_", 0, 0 },
	{ "0x_1", 0, 0 },
	{ "08", 0, 0 },
	{ "09", 0, 0 },
	{ "0x", 0, 0 },
	{ "0b", 0, 0 },
	{ "0b2", 0, 0 },
	{ "0o8", 0, 0 },
	{ "0x1G", 0, 0 },
	{ "", 0, 0 },
	{ " ", 0, 0 },
	{ "-", 0, 0 },
	{ "+-1", 0, 0 },
	{ "- 1", 0, 0 },
	{ "4 2", 0, 0 },
	{ "abc", 0, 0 },
	{ "12abc", 0, 0 },
	{ "1.5", 0, 0 },
	{ "1e3", 0, 0 },
};

START_TEST(cfg_ruby_integer)
{
	long	v = 12345;
	int	r;

	r = ruby_integer(ruby_ints[_i].s, &v);
	ck_assert_msg(r == ruby_ints[_i].r, "Integer(\"%s\"): %d, want %d",
	    ruby_ints[_i].s, r, ruby_ints[_i].r);
	if (r == 1)
		ck_assert_msg(v == ruby_ints[_i].v, "Integer(\"%s\"): %ld, "
		    "want %ld", ruby_ints[_i].s, v, ruby_ints[_i].v);
	else
		ck_assert_msg(v == 12345, "Integer(\"%s\"): wrote %ld",
		    ruby_ints[_i].s, v);
}
END_TEST

/* An environment value: true/false in any case, an integer as Ruby reads
 * it (too large: LONG_MAX, for the range check), else a string. */
static const struct {
	const char	*s;
	enum ctype	 t;
	long		 v;
} typed[] = {
	{ "true", CT_BOOL, 1 },
	{ "FALSE", CT_BOOL, 0 },
	{ "True", CT_BOOL, 1 },
	{ "tRuE", CT_BOOL, 1 },
	{ "42", CT_INT, 42 },
	{ "-3", CT_INT, -3 },
	{ "0", CT_INT, 0 },
	{ " 4", CT_INT, 4 },
	{ "4 ", CT_INT, 4 },
	{ "010", CT_INT, 8 },
	{ "0x10", CT_INT, 16 },
	{ "1_000", CT_INT, 1000 },
	{ "99999999999999999999", CT_INT, LONG_MAX },
	{ "08", CT_STR, 0 },
	{ "4x", CT_STR, 0 },
	{ "", CT_STR, 0 },
	{ "1.5", CT_STR, 0 },
	{ "yes", CT_STR, 0 },
	{ "truex", CT_STR, 0 },
	{ " true", CT_STR, 0 },
};

START_TEST(cfg_type_value)
{
	enum ctype	t;
	long		v = -1;

	t = config_type_value(typed[_i].s, &v);
	ck_assert_msg(t == typed[_i].t, "\"%s\": type %d, want %d",
	    typed[_i].s, t, typed[_i].t);
	if (t != CT_STR)
		ck_assert_msg(v == typed[_i].v, "\"%s\": %ld, want %ld",
		    typed[_i].s, v, typed[_i].v);
}
END_TEST

/* ------------------------------------- values from YAML and variables */

/* A value given to a key and what comes of it. */
struct vrow {
	enum ckey	 k;
	const char	*in;	/* as the YAML file or the variable writes it */
	enum cstatus	 st;
	long		 i;	/* then, for a number or boolean key */
	const char	*s;	/* then, for a string key */
	const char	*why;	/* or the error: "KEY: why (from SOURCE)" */
};

#define ROW_INT(k, in, i)	{ k, in, CONF_OK, i, NULL, NULL }
#define ROW_STR(k, in, s)	{ k, in, CONF_OK, 0, s, NULL }
#define ROW_ERR(k, in, st, why)	{ k, in, st, 0, NULL, why }

#define NOT_INT		"expected an integer"
#define NOT_BOOL	"expected a boolean (true or false)"

/*
 * Checks what loading row r from src (status got) did: the value and its
 * source; or, for a bad value, the whole message (key and source, never
 * the text) and the default kept.
 */
static void
check_row(const struct vrow *r, const char *what, const char *src,
    enum cstatus got)
{
	const char	*key = config_keyname(r->k);
	char		 want[512];

	ck_assert_msg(got == r->st, "%s: status %d, want %d (%s)", what, got,
	    r->st, emsg);
	if (r->st != CONF_OK) {
		snprintf(want, sizeof(want), "%s: %s (from %s)", key, r->why,
		    src);
		ck_assert_msg(strcmp(emsg, want) == 0, "%s: error \"%s\", "
		    "want \"%s\"", what, emsg, want);
		ck_assert_msg(is_default(r->k), "%s: default not kept", what);
		ck_assert_msg(strcmp(cfg.v[r->k].src, "default") == 0,
		    "%s: from %s", what, cfg.v[r->k].src);
		return;
	}
	ck_assert_msg(emsg[0] == '\0', "%s: error \"%s\"", what, emsg);
	if (r->s != NULL)
		ck_assert_msg(strcmp(cfg_str(&cfg, r->k), r->s) == 0,
		    "%s: \"%s\", want \"%s\"", what, cfg_str(&cfg, r->k), r->s);
	else
		ck_assert_msg(cfg_int(&cfg, r->k) == r->i, "%s: %ld, want %ld",
		    what, cfg_int(&cfg, r->k), r->i);
	ck_assert_msg(strcmp(cfg.v[r->k].src, src) == 0, "%s: from %s, "
	    "want %s", what, cfg.v[r->k].src, src);
}

/* Writes the YAML document giving key k the scalar in, one section a
 * line ("health:\n  timeout: 5\n"); the value's source ("t.yml:2") goes
 * into src. */
static void
yaml_doc(enum ckey k, const char *in, char *doc, size_t sz, char *src,
    size_t srcsz)
{
	const char	*p = config_keyname(k), *dot;
	size_t		 n = 0;
	int		 depth = 0;

	for (; (dot = strchr(p, '.')) != NULL; p = dot + 1, depth++)
		n += (size_t)snprintf(doc + n, sz - n, "%*s%.*s:\n",
		    2 * depth, "", (int)(dot - p), p);
	n += (size_t)snprintf(doc + n, sz - n, "%*s%s: %s\n", 2 * depth, "",
	    p, in);
	ck_assert_uint_lt(n, sz);
	snprintf(src, srcsz, YNAME ":%d", depth + 1);
}

/* Loads row r as a YAML file and checks what it did. */
static void
yaml_row(const struct vrow *r)
{
	char doc[512], src[32], what[256];

	yaml_doc(r->k, r->in, doc, sizeof(doc), src, sizeof(src));
	snprintf(what, sizeof(what), "YAML %s: %s", config_keyname(r->k),
	    r->in);
	check_row(r, what, src, yaml(doc));
}

/* Applies row r as its PORTUS_* variable and checks what it did. */
static void
env_row(const struct vrow *r)
{
	char	 name[128], var[256], src[160];
	char	*envp[] = { var, NULL };

	config_envname(NULL, r->k, name, sizeof(name));
	snprintf(var, sizeof(var), "%s=%s", name, r->in);
	snprintf(src, sizeof(src), "environment %s", name);
	check_row(r, var, src, env(envp));
}

static const struct vrow yaml_numbers[] = {
	ROW_INT(K_HEALTH_TIMEOUT, "9", 9),
	ROW_INT(K_CLAIR_HEALTH_PORT, "7000", 7000),
	ROW_INT(K_LDAP_PORT, "1", 1),
	ROW_INT(K_LDAP_PORT, "65535", 65535),
	ROW_INT(K_HEALTH_CACHE_TTL, "0", 0),
	ROW_INT(K_HEALTH_TIMEOUT, "+7", 7),
	/* Plain integers as Psych reads them. */
	ROW_INT(K_HEALTH_TIMEOUT, "010", 8),
	ROW_INT(K_HEALTH_TIMEOUT, "0x1A", 26),
	ROW_INT(K_HEALTH_TIMEOUT, "0b101", 5),
	ROW_INT(K_HEALTH_MAX_REQUESTS, "1_000", 1000),
	ROW_INT(K_HEALTH_MAX_REQUESTS, "1,000,000", 1000000),
	ROW_INT(K_HEALTH_MAX_REQUESTS, "0x1_0", 16),
	/* No octal to Psych: the text "08", which is the number 8. */
	ROW_INT(K_HEALTH_TIMEOUT, "08", 8),
	/* A number in quotes is that number, in decimal (Portus's files). */
	ROW_INT(K_HEALTH_TIMEOUT, "\"5\"", 5),
	ROW_INT(K_CLAIR_HEALTH_PORT, "'6061'", 6061),
	ROW_INT(K_HEALTH_TIMEOUT, "\"010\"", 10),
	ROW_INT(K_HEALTH_TIMEOUT, "\" 42 \"", 42),
	ROW_ERR(K_HEALTH_TIMEOUT, "\"0x10\"", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "\"\"", CONF_ERR_TYPE, NOT_INT),
	/* Psych has no 0o nor 0d: text, and no decimal number. */
	ROW_ERR(K_HEALTH_TIMEOUT, "0o17", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "0d19", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_CLAIR_HEALTH_PORT, "abc", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "soon", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "true", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "1.5", CONF_ERR_TYPE, NOT_INT),
	/* In a decimal, "_" and "," stand between digits or it is text. */
	ROW_ERR(K_HEALTH_TIMEOUT, "1_", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "1__0", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "1,", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "1,_0", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_CLAIR_HEALTH_PORT, "0", CONF_ERR_RANGE,
	    "0 is out of range 1-65535"),
	ROW_ERR(K_LDAP_PORT, "70000", CONF_ERR_RANGE,
	    "70000 is out of range 1-65535"),
	ROW_ERR(K_REG_TIMEOUT, "-1", CONF_ERR_RANGE,
	    "-1 is out of range 1-86400"),
	ROW_ERR(K_HEALTH_TIMEOUT, "\"0\"", CONF_ERR_RANGE,
	    "0 is out of range 1-3600"),
	ROW_ERR(K_HEALTH_TIMEOUT, "99999999999999999999", CONF_ERR_RANGE,
	    "out of range 1-3600"),
	ROW_ERR(K_HEALTH_TIMEOUT, "\"99999999999999999999\"", CONF_ERR_RANGE,
	    "out of range 1-3600"),
};

START_TEST(cfg_yaml_number)
{
	yaml_row(&yaml_numbers[_i]);
}
END_TEST

static const struct vrow yaml_booleans[] = {
	ROW_INT(K_REG_USE_SSL, "yes", 1),
	ROW_INT(K_REG_USE_SSL, "no", 0),
	ROW_INT(K_REG_USE_SSL, "true", 1),
	ROW_INT(K_REG_USE_SSL, "false", 0),
	ROW_INT(K_REG_USE_SSL, "on", 1),
	ROW_INT(K_REG_USE_SSL, "off", 0),
	ROW_INT(K_REG_USE_SSL, "TRUE", 1),
	ROW_ERR(K_REG_USE_SSL, "\"true\"", CONF_ERR_TYPE, NOT_BOOL),
	ROW_ERR(K_REG_USE_SSL, "1", CONF_ERR_TYPE, NOT_BOOL),
	/* A feature's "enabled" is on for the boolean true alone. */
	ROW_INT(K_LDAP_ENABLED, "true", 1),
	ROW_INT(K_LDAP_ENABLED, "yes", 1),
	ROW_INT(K_LDAP_ENABLED, "false", 0),
	ROW_INT(K_LDAP_ENABLED, "\"true\"", 0),
	ROW_INT(K_LDAP_ENABLED, "1", 0),
	ROW_INT(K_LDAP_ENABLED, "enabled", 0),
	/* ldap.authentication.enabled: anything but false, as Ruby tests. */
	ROW_INT(K_LDAP_AUTH_ENABLED, "true", 1),
	ROW_INT(K_LDAP_AUTH_ENABLED, "false", 0),
	ROW_INT(K_LDAP_AUTH_ENABLED, "no", 0),
	ROW_INT(K_LDAP_AUTH_ENABLED, "\"false\"", 1),
	ROW_INT(K_LDAP_AUTH_ENABLED, "0", 1),
	ROW_INT(K_LDAP_AUTH_ENABLED, "\"\"", 1),
};

START_TEST(cfg_yaml_boolean)
{
	yaml_row(&yaml_booleans[_i]);
}
END_TEST

static const struct vrow yaml_strings[] = {
	ROW_STR(K_CLAIR_SERVER, "http://clair:6060", "http://clair:6060"),
	/* A string key takes any scalar as its text. */
	ROW_STR(K_REG_HOSTNAME, "5000", "5000"),
	ROW_STR(K_REG_HOSTNAME, "010", "010"),
	ROW_STR(K_REG_HOSTNAME, "true", "true"),
	ROW_STR(K_LDAP_PASSWORD, "1234", "1234"),
	ROW_STR(K_LDAP_CA_FILE, "/etc/ssl/ldap-ca.pem", "/etc/ssl/ldap-ca.pem"),
	/* A blank string is blank, but for a secret. */
	ROW_STR(K_LDAP_HOSTNAME, "\"\"", ""),
	ROW_STR(K_LDAP_HOSTNAME, "\"   \"", ""),
	ROW_STR(K_LDAP_HOSTNAME, "\" \\t \"", ""),
	ROW_STR(K_LDAP_HOSTNAME, "\" ldap \"", " ldap "),
	ROW_STR(K_HEALTH_ALLOW, "\" \"", ""),
	ROW_STR(K_LDAP_PASSWORD, "\"  \"", "  "),
};

START_TEST(cfg_yaml_string)
{
	yaml_row(&yaml_strings[_i]);
}
END_TEST

/* A YAML null keeps the default, whatever the key's type. */
static const struct {
	enum ckey	 k;
	const char	*in;
} yaml_nulls[] = {
	{ K_HEALTH_TIMEOUT, "" },
	{ K_HEALTH_TIMEOUT, "~" },
	{ K_HEALTH_TIMEOUT, "null" },
	{ K_HEALTH_TIMEOUT, "Null" },
	{ K_HEALTH_TIMEOUT, "NULL" },
	{ K_CLAIR_HEALTH_PORT, "~" },
	{ K_REG_USE_SSL, "~" },
	{ K_LDAP_ENABLED, "null" },
	{ K_LDAP_AUTH_ENABLED, "" },
	{ K_LDAP_HOSTNAME, "~" },
	{ K_LDAP_PASSWORD, "~" },
	{ K_LDAP_CA_FILE, "" },
	{ K_HEALTH_ALLOW, "~" },
};

START_TEST(cfg_yaml_null)
{
	char doc[512], src[32];

	yaml_doc(yaml_nulls[_i].k, yaml_nulls[_i].in, doc, sizeof(doc), src,
	    sizeof(src));
	ck_assert_msg(yaml(doc) == CONF_OK, "%s: %s: %s",
	    config_keyname(yaml_nulls[_i].k), yaml_nulls[_i].in, emsg);
	ck_assert_msg(is_default(yaml_nulls[_i].k), "%s: %s: changed",
	    config_keyname(yaml_nulls[_i].k), yaml_nulls[_i].in);
	ck_assert_str_eq(cfg.v[yaml_nulls[_i].k].src, "default");
	ck_assert_int_eq(cfg.allow_unknown, 0);
}
END_TEST

static const struct vrow env_numbers[] = {
	ROW_INT(K_CLAIR_HEALTH_PORT, "7001", 7001),
	ROW_INT(K_DB_PORT, "6543", 6543),
	/* As Ruby's Integer() reads them. */
	ROW_INT(K_HEALTH_TIMEOUT, " 42 ", 42),
	ROW_INT(K_HEALTH_TIMEOUT, "+7", 7),
	ROW_INT(K_HEALTH_TIMEOUT, "010", 8),
	ROW_INT(K_HEALTH_TIMEOUT, "0x1A", 26),
	ROW_INT(K_HEALTH_TIMEOUT, "0b101", 5),
	ROW_INT(K_HEALTH_TIMEOUT, "0o17", 15),
	ROW_INT(K_HEALTH_TIMEOUT, "0d19", 19),
	ROW_INT(K_HEALTH_MAX_REQUESTS, "1_000", 1000),
	/* No integer to Ruby: the text "08", which is the number 8. */
	ROW_INT(K_HEALTH_TIMEOUT, "08", 8),
	ROW_ERR(K_CLAIR_HEALTH_PORT, "abc", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_CACHE_TTL, "soon", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "true", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "1.5", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "1__0", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_HEALTH_TIMEOUT, "hunter2", CONF_ERR_TYPE, NOT_INT),
	ROW_ERR(K_DB_PORT, "70000", CONF_ERR_RANGE,
	    "70000 is out of range 1-65535"),
	ROW_ERR(K_CLAIR_TIMEOUT, "-5", CONF_ERR_RANGE,
	    "-5 is out of range 1-86400"),
	ROW_ERR(K_HEALTH_TIMEOUT, "0", CONF_ERR_RANGE,
	    "0 is out of range 1-3600"),
	ROW_ERR(K_HEALTH_TIMEOUT, "-0x10", CONF_ERR_RANGE,
	    "-16 is out of range 1-3600"),
	ROW_ERR(K_HEALTH_TIMEOUT, "9223372036854775808", CONF_ERR_RANGE,
	    "out of range 1-3600"),
	ROW_ERR(K_HEALTH_TIMEOUT, "-9223372036854775809", CONF_ERR_RANGE,
	    "out of range 1-3600"),
};

START_TEST(cfg_env_number)
{
	env_row(&env_numbers[_i]);
}
END_TEST

static const struct vrow env_booleans[] = {
	ROW_INT(K_REG_USE_SSL, "TRUE", 1),
	ROW_INT(K_REG_USE_SSL, "True", 1),
	ROW_INT(K_REG_USE_SSL, "false", 0),
	ROW_ERR(K_REG_USE_SSL, "1", CONF_ERR_TYPE, NOT_BOOL),
	ROW_ERR(K_REG_USE_SSL, "yes", CONF_ERR_TYPE, NOT_BOOL),
	/* A feature's "enabled" is on for the boolean true alone. */
	ROW_INT(K_LDAP_ENABLED, "true", 1),
	ROW_INT(K_LDAP_ENABLED, "TRUE", 1),
	ROW_INT(K_LDAP_ENABLED, "false", 0),
	ROW_INT(K_LDAP_ENABLED, "1", 0),
	ROW_INT(K_LDAP_ENABLED, "yes", 0),
	ROW_INT(K_LDAP_ENABLED, "on", 0),
	/* ldap.authentication.enabled: anything but false, as Ruby tests. */
	ROW_INT(K_LDAP_AUTH_ENABLED, "true", 1),
	ROW_INT(K_LDAP_AUTH_ENABLED, "false", 0),
	ROW_INT(K_LDAP_AUTH_ENABLED, "FALSE", 0),
	ROW_INT(K_LDAP_AUTH_ENABLED, "1", 1),
	ROW_INT(K_LDAP_AUTH_ENABLED, "0", 1),
	ROW_INT(K_LDAP_AUTH_ENABLED, "no", 1),
	ROW_INT(K_LDAP_AUTH_ENABLED, "", 1),
};

START_TEST(cfg_env_boolean)
{
	env_row(&env_booleans[_i]);
}
END_TEST

static const struct vrow env_strings[] = {
	ROW_STR(K_DB_HOST, "db.example", "db.example"),
	ROW_STR(K_LDAP_CA_FILE, "/etc/ssl/ldap-ca.pem", "/etc/ssl/ldap-ca.pem"),
	ROW_STR(K_HEALTH_ALLOW, "10.0.0.0/8, ::1", "10.0.0.0/8, ::1"),
	/* A bad range is named by its place, never by its text. */
	ROW_ERR(K_HEALTH_ALLOW, "hunter2", CONF_ERR_TYPE,
	    "range 1 is not an IPv4 or IPv6 address or CIDR range"),
	ROW_ERR(K_HEALTH_ALLOW, "10.0.0.0/8, s3cret", CONF_ERR_TYPE,
	    "range 2 is not an IPv4 or IPv6 address or CIDR range"),
	/* A string key keeps the text, whatever it looks like. */
	ROW_STR(K_REG_HOSTNAME, "42", "42"),
	ROW_STR(K_REG_HOSTNAME, "010", "010"),
	ROW_STR(K_CLAIR_SERVER, "true", "true"),
	/* A blank string is blank, but for a secret. */
	ROW_STR(K_LDAP_HOSTNAME, "", ""),
	ROW_STR(K_LDAP_HOSTNAME, "   ", ""),
	ROW_STR(K_LDAP_HOSTNAME, "\t", ""),
	ROW_STR(K_LDAP_BIND_DN, " cn=admin ", " cn=admin "),
	ROW_STR(K_LDAP_PASSWORD, " ", " "),
	ROW_STR(K_DB_PASSWORD, "  ", "  "),
};

START_TEST(cfg_env_string)
{
	env_row(&env_strings[_i]);
}
END_TEST

START_TEST(cfg_env_overrides_yaml)
{
	char *envp[] = { "PORTUS_HEALTH_TIMEOUT=7", NULL };

	ck_assert_int_eq(yaml("health:\n  timeout: 9\n  cache_ttl: 3\n"),
	    CONF_OK);
	ck_assert_int_eq(env(envp), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 7);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 3);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_TIMEOUT), 2);
}
END_TEST

START_TEST(cfg_env_name_prefix_only_ignored)
{
	char *envp[] = { "PORTUS_DB_PORTX=1", "PORTUS_DB_PORT",
	    "XPORTUS_DB_PORT=2", NULL };

	ck_assert_int_eq(env(envp), CONF_OK);
	ck_assert_int_eq(first_changed(), -1);
}
END_TEST

START_TEST(cfg_env_null_envp)
{
	ck_assert_int_eq(env(NULL), CONF_OK);
	ck_assert_int_eq(first_changed(), -1);
}
END_TEST

/* --------------------------------------------------- YAML documents */

START_TEST(cfg_yaml_nested_override)
{
	ck_assert_int_eq(yaml(
	    "security:\n"
	    "  clair:\n"
	    "    server: http://clair:6060\n"
	    "    health_port: 7000\n"
	    "registry:\n"
	    "  read_timeout:\n"
	    "    value: 30\n"), CONF_OK);
	ck_assert_str_eq(cfg_str(&cfg, K_CLAIR_SERVER), "http://clair:6060");
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_HEALTH_PORT), 7000);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_READ_TIMEOUT), 30);
	ck_assert_str_eq(cfg.v[K_REG_READ_TIMEOUT].src, YNAME ":7");
	/* Keys the file does not name keep their defaults. */
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_TIMEOUT), 900);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_TIMEOUT), 2);
}
END_TEST

START_TEST(cfg_yaml_flow_mapping)
{
	ck_assert_int_eq(yaml("health: {timeout: 3, cache_ttl: 0}\n"),
	    CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 3);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 0);
}
END_TEST

START_TEST(cfg_yaml_merge_key)
{
	/* The mapping's own keys win, before or after the merge key. */
	ck_assert_int_eq(yaml(
	    "x-ldap: &common\n"
	    "  hostname: ldap.portus.test\n"
	    "  port: 636\n"
	    "  timeout: 9\n"
	    "ldap:\n"
	    "  port: 389\n"
	    "  <<: *common\n"
	    "  enabled: true\n"), CONF_OK);
	ck_assert_str_eq(cfg_str(&cfg, K_LDAP_HOSTNAME), "ldap.portus.test");
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_PORT), 389);
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_TIMEOUT), 9);
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_ENABLED), 1);
	/* A merged value names the line it came from. */
	ck_assert_str_eq(cfg.v[K_LDAP_TIMEOUT].src, YNAME ":4");
}
END_TEST

START_TEST(cfg_yaml_merge_list_first_wins)
{
	ck_assert_int_eq(yaml(
	    "a: &a {timeout: 3}\n"
	    "b: &b {timeout: 4, cache_ttl: 6}\n"
	    "c: &c {<<: *b, workers: 7}\n"
	    "health:\n"
	    "  <<: [*a, *c]\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 3);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 6);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_WORKERS), 7);
}
END_TEST

START_TEST(cfg_yaml_merge_whole_sections)
{
	/* A merged section is replaced whole by the mapping's own. */
	ck_assert_int_eq(yaml(
	    "base: &base\n"
	    "  ldap: {enabled: true, port: 1389}\n"
	    "  health: {timeout: 8}\n"
	    "<<: *base\n"
	    "ldap: {hostname: ldap.portus.test}\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 8);
	ck_assert_str_eq(cfg_str(&cfg, K_LDAP_HOSTNAME), "ldap.portus.test");
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_ENABLED), 0);
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_PORT), 389);
}
END_TEST

START_TEST(cfg_yaml_quoted_merge_key_is_a_key)
{
	/* A quoted "<<" is an ordinary (unknown) key. */
	ck_assert_int_eq(yaml("a: &a {timeout: 3}\nhealth:\n  '<<': *a\n"),
	    CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 5);
}
END_TEST

START_TEST(cfg_yaml_last_key_wins)
{
	char *log;

	/* As Ruby reads it: a section given twice is the last one alone. */
	log_start();
	ck_assert_int_eq(yaml(
	    "health:\n"
	    "  timeout: 3\n"
	    "  timeout: 4\n"
	    "ldap:\n"
	    "  enabled: true\n"
	    "ldap:\n"
	    "  port: 1389\n"), CONF_OK);
	log = log_end();
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 4);
	ck_assert_str_eq(cfg.v[K_HEALTH_TIMEOUT].src, YNAME ":3");
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_PORT), 1389);
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_ENABLED), 0);
	ck_assert_msg(strstr(log, YNAME ":2: \"timeout\" is given again on "
	    "line 3, which counts instead") != NULL, "log: %s", log);
	free(log);
	/* The earlier one is not even type-checked. */
	config_reset();
	ck_assert_int_eq(yaml("health:\n  timeout: soon\n  timeout: 4\n"),
	    CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 4);
}
END_TEST

START_TEST(cfg_yaml_alias_resolves)
{
	ck_assert_int_eq(yaml(
	    "base: &clair {server: \"http://c:6060\", health_port: 6070}\n"
	    "security:\n"
	    "  clair: *clair\n"), CONF_OK);
	ck_assert_str_eq(cfg_str(&cfg, K_CLAIR_SERVER), "http://c:6060");
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_HEALTH_PORT), 6070);
}
END_TEST

START_TEST(cfg_yaml_billion_laughs)
{
	/* Nine levels of nine aliases: 9^9 leaves if anything expanded. */
	static const char doc[] =
	    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
	    "m0: &m0 {k0: *i, k1: *i, k2: *i, k3: *i}\n"
	    "m1: &m1 {k0: *m0, k1: *m0, k2: *m0, k3: *m0}\n"
	    "m2: &m2 {k0: *m1, k1: *m1, k2: *m1, k3: *m1}\n"
	    "security: {clair: *m2, dummy: *i}\n"
	    "ldap: {authentication: *m2, encryption: *m2}\n"
	    "health: {timeout: 7}\n";

	/* Expanded, this is billions of nodes: it would never end within
	 * the test case's time limit.  No bound of our own, which a busy
	 * machine could exceed. */
	ck_assert_int_eq(yaml(doc), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 7);
}
END_TEST

START_TEST(cfg_yaml_self_alias_terminates)
{
	/* An anchor used inside its own mapping makes a cycle. */
	ck_assert_int_eq(yaml("security: &s\n  clair: *s\n"), CONF_OK);
	ck_assert_int_eq(yaml("ldap: &l\n  authentication: *l\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_PORT), 389);
}
END_TEST

/* Documents that hold no setting at all; an empty section is one too
 * (cconfig reads local[k] || {}). */
static const char *const empty_docs[] = {
	"", "---\n", "# only a comment\n", "~\n", "null\n", "--- ~\n",
	"health:\n", "health: ~\n", "health: null\n",
	"security:\n  clair:\n    # server: x\n", "ldap:\n  encryption:\n",
};

START_TEST(cfg_yaml_empty_document)
{
	ck_assert_msg(yaml(empty_docs[_i]) == CONF_OK, "\"%s\": %s",
	    empty_docs[_i], emsg);
	ck_assert_int_eq(first_changed(), -1);
	ck_assert_int_eq(cfg.allow_unknown, 0);
}
END_TEST

/* Documents that are an error; every message names the file first. */
static const struct {
	const char	*name;
	const char	*yaml;
	enum cstatus	 st;
	const char	*says[4];	/* parts of the message */
} bad_docs[] = {
	/* The second ':' on line 2 sits in column 13. */
	{ "a second colon", "health:\n  timeout: 5: 6\n", CONF_ERR_YAML,
	    { YNAME ":2:13: invalid YAML" } },
	{ "an unclosed flow mapping", "health: {timeout: 5\n", CONF_ERR_YAML,
	    { "invalid YAML" } },
	{ "a list at the top", "- a\n- b\n", CONF_ERR_YAML,
	    { YNAME ":1: the top level is not a mapping" } },
	{ "a scalar at the top", "hello\n", CONF_ERR_YAML,
	    { "the top level is not a mapping" } },
	{ "a scalar for a section", "health: 5\n", CONF_ERR_TYPE,
	    { YNAME ":1: health: expected a mapping, got a scalar" } },
	{ "a list for a section", "ldap: [a]\n", CONF_ERR_TYPE,
	    { YNAME ":1: ldap: expected a mapping, got a list" } },
	{ "a mapping for a number", "health:\n  timeout:\n    value: 5\n",
	    CONF_ERR_TYPE, { YNAME ":3", "health.timeout", NOT_INT,
	    "a mapping" } },
	{ "a list for a string", "security:\n  clair:\n    server: [a, b]\n",
	    CONF_ERR_TYPE, { YNAME ":3", "security.clair.server",
	    "expected a string", "a list" } },
	{ "a list of mappings for health.allow",
	    "health:\n  allow: [{a: b}]\n", CONF_ERR_TYPE,
	    { YNAME ":2", "health.allow", "expected a list of strings" } },
	{ "aliases that multiply into a string key",
	    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "security: {clair: {server: *c}}\n", CONF_ERR_TYPE,
	    { "security.clair.server" } },
	{ "a number merged", "health:\n  <<: 5\n", CONF_ERR_TYPE,
	    { YNAME ":2: the merge key << takes a mapping or a list of "
	    "mappings" } },
	{ "a scalar in the merged list", "health:\n  <<: [{timeout: 3}, x]\n",
	    CONF_ERR_TYPE, { "the merge key << takes a mapping" } },
	/* A mapping that merges itself ends in an error, not a loop. */
	{ "a mapping merging itself", "health: &h\n  timeout: 3\n  <<: *h\n",
	    CONF_ERR_YAML, { "merge keys nested more than 8 deep" } },
	{ "merges that multiply",
	    "a: &a {timeout: 3}\n"
	    "b: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a]}\n"
	    "c: &c {<<: [*b, *b, *b, *b, *b, *b, *b, *b]}\n"
	    "d: &d {<<: [*c, *c, *c, *c, *c, *c, *c, *c]}\n"
	    "health: {<<: [*d, *d, *d, *d, *d, *d, *d, *d]}\n", CONF_ERR_YAML,
	    { "more than 64 merged mappings" } },
};

START_TEST(cfg_yaml_bad_document)
{
	const char	*name = bad_docs[_i].name;
	enum cstatus	 st;
	size_t		 i;

	st = yaml(bad_docs[_i].yaml);
	ck_assert_msg(st == bad_docs[_i].st, "%s: status %d, want %d (%s)",
	    name, st, bad_docs[_i].st, emsg);
	ck_assert_msg(strncmp(emsg, YNAME ":", strlen(YNAME ":")) == 0,
	    "%s: %s", name, emsg);
	for (i = 0; i < NELEM(bad_docs[_i].says) &&
	    bad_docs[_i].says[i] != NULL; i++)
		ck_assert_msg(strstr(emsg, bad_docs[_i].says[i]) != NULL,
		    "%s: \"%s\" does not say \"%s\"", name, emsg,
		    bad_docs[_i].says[i]);
}
END_TEST

/*
 * Documents that change nothing: what the log says of them (NULL:
 * nothing).  Portus's own keys pass quietly, so that its
 * config-local.yml can be shared as it is.
 */
static const struct {
	const char	*yaml;
	const char	*warns;
} ignored[] = {
	{ "nosuch: 1\n", YNAME ":1: unknown key \"nosuch\" ignored" },
	{ "security:\n  clair:\n    helth_port: 1\n",
	    YNAME ":3: unknown key \"security.clair.helth_port\" ignored" },
	/* Ruby reads a dotted key as a name, not a path. */
	{ "ldap.enabled: true\n", YNAME ":1: unknown key \"ldap.enabled\" "
	    "ignored (a section is a mapping of its own)" },
	{ "health:\n  database.migrations_path: /x\n",
	    "unknown key \"database.migrations_path\" ignored" },
	{ "? [a, b]\n: 1\n", YNAME ":1: a key that is not a string is "
	    "ignored" },
	/* database.yml's settings come from the environment alone. */
	{ "db:\n  host: evil.example\n  port: 1\n  password: leaked\n",
	    YNAME ":2: db.host is read from the environment only "
	    "(PORTUS_DB_HOST), ignored" },
	{ "ldap:\n  enabled: \"true\"\n", "ldap.enabled is not a boolean "
	    "(from " YNAME ":2): off, as Portus reads it" },
	{ "email:\n  from: portus@example.com\n", NULL },
	{ "machine_fqdn:\n  value: portus.test.lan\n", NULL },
	{ "ldap:\n  base: dc=portus,dc=test\n  encryption:\n    options:\n"
	    "      ssl_version: TLSv1_2\n", NULL },
};

START_TEST(cfg_yaml_ignored)
{
	enum cstatus	 st;
	char		*log;

	log_start();
	st = yaml(ignored[_i].yaml);
	log = log_end();
	ck_assert_msg(st == CONF_OK, "row %d: %s", _i, emsg);
	ck_assert_msg(first_changed() == -1, "row %d changed %s", _i,
	    config_keyname(first_changed()));
	if (ignored[_i].warns == NULL)
		ck_assert_msg(log[0] == '\0', "row %d logged: %s", _i, log);
	else
		ck_assert_msg(strstr(log, ignored[_i].warns) != NULL,
		    "row %d logged \"%s\", not \"%s\"", _i, log,
		    ignored[_i].warns);
	ck_assert_msg(strstr(log, "leaked") == NULL, "a value logged: %s",
	    log);
	free(log);
}
END_TEST

/* ----------------------------------------------------- lenient loading */

START_TEST(cfg_lenient_yaml)
{
	/* Both bad keys keep their defaults; the first error is told; the
	 * good key after them counts. */
	ck_assert_int_eq(yaml("health:\n  timeout: soon\n  cache_ttl: -1\n"
	    "  workers: 8\n"), CONF_ERR_TYPE);
	ck_assert_str_eq(emsg, "health.timeout: " NOT_INT " (from " YNAME
	    ":2)");
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 5);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 1);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_WORKERS), 8);
}
END_TEST

START_TEST(cfg_lenient_env)
{
	char *envp[] = { "PORTUS_HEALTH_TIMEOUT=soon",
	    "PORTUS_HEALTH_CACHE_TTL=-1", "PORTUS_HEALTH_WORKERS=8", NULL };

	ck_assert_int_eq(env(envp), CONF_ERR_TYPE);
	ck_assert_str_eq(emsg, "health.timeout: " NOT_INT " (from "
	    "environment PORTUS_HEALTH_TIMEOUT)");
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 5);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 1);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_WORKERS), 8);
}
END_TEST

START_TEST(cfg_lenient_load)
{
	char	 dir[64], path[PATH_MAX], var[PATH_MAX + 32];
	char	 want[PATH_MAX + 64];
	char	*envp[] = { var, "PORTUS_HEALTH_CACHE_TTL=-1",
	    "PORTUS_HEALTH_WORKERS=8", NULL };

	/* The file's error comes first; the environment is still read. */
	tmpdir_make(dir);
	tmpfile_write(dir, "c.yml", "health:\n  timeout: soon\n", path);
	snprintf(var, sizeof(var), "PORTUS_LOCAL_CONFIG_PATH=%s", path);
	ck_assert_int_eq(load(envp), CONF_ERR_TYPE);
	snprintf(want, sizeof(want), "health.timeout: " NOT_INT " (from "
	    "%s:2)", path);
	ck_assert_str_eq(emsg, want);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 5);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 1);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_WORKERS), 8);
}
END_TEST

/* ------------------------------------------------------- files, load */

START_TEST(cfg_file_missing_is_ok)
{
	ck_assert_int_eq(config_load_file(&cfg, NOFILE, emsg, sizeof(emsg)),
	    CONF_OK);
	ck_assert_int_eq(first_changed(), -1);
}
END_TEST

START_TEST(cfg_file_directory_is_error)
{
	char dir[64];

	tmpdir_make(dir);
	ck_assert_int_eq(config_load_file(&cfg, dir, emsg, sizeof(emsg)),
	    CONF_ERR_FILE);
	ck_assert_ptr_nonnull(strstr(emsg, dir));
}
END_TEST

START_TEST(cfg_file_errors_name_the_file)
{
	char dir[64], path[PATH_MAX];

	tmpdir_make(dir);
	tmpfile_write(dir, "c.yml", "health:\n  timeout: x\n", path);
	ck_assert_int_eq(config_load_file(&cfg, path, emsg, sizeof(emsg)),
	    CONF_ERR_TYPE);
	ck_assert_msg(strstr(emsg, path) != NULL, "error: %s", emsg);
}
END_TEST

START_TEST(cfg_load_local_config_path)
{
	char	 dir[64], path[PATH_MAX], var[PATH_MAX + 32];
	char	*envp[] = { var, "PORTUS_HEALTH_TIMEOUT=7", NULL };

	tmpdir_make(dir);
	tmpfile_write(dir, "local.yml",
	    "security:\n  clair:\n    server: clair:6060\n"
	    "health:\n  timeout: 9\n", path);
	snprintf(var, sizeof(var), "PORTUS_LOCAL_CONFIG_PATH=%s", path);
	ck_assert_int_eq(load(envp), CONF_OK);
	ck_assert_str_eq(cfg.file, path);
	ck_assert_str_eq(cfg_str(&cfg, K_CLAIR_SERVER), "clair:6060");
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 7);
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_TIMEOUT), 900);
}
END_TEST

START_TEST(cfg_load_default_path_in_cwd)
{
	char	 dir[64], sub[128], path[PATH_MAX];
	char	*envp[] = { NULL };

	tmpdir_make(dir);
	snprintf(sub, sizeof(sub), "%s/config", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	tmpfile_write(sub, "config-local.yml", "health:\n  cache_ttl: 4\n",
	    path);
	ck_assert_int_eq(chdir(dir), 0);	/* a forked test: no leak */
	ck_assert_int_eq(load(envp), CONF_OK);
	ck_assert_str_eq(cfg.file, "config/config-local.yml");
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 4);
}
END_TEST

START_TEST(cfg_load_bad_file_keeps_defaults)
{
	char	 dir[64], path[PATH_MAX], var[PATH_MAX + 32];
	char	*envp[] = { var, "PORTUS_HEALTH_TIMEOUT=7", NULL };

	/* cfg stays usable, and the caller frees it (the fixture does). */
	tmpdir_make(dir);
	tmpfile_write(dir, "bad.yml", "- not\n- a mapping\n", path);
	snprintf(var, sizeof(var), "PORTUS_LOCAL_CONFIG_PATH=%s", path);
	ck_assert_int_eq(load(envp), CONF_ERR_YAML);
	ck_assert_ptr_nonnull(strstr(emsg, path));
	ck_assert_str_eq(cfg_str(&cfg, K_DB_HOST), "localhost");
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 7);
}
END_TEST

START_TEST(cfg_load_env_error_after_file)
{
	char	 dir[64], path[PATH_MAX], var[PATH_MAX + 32];
	char	*envp[] = { var, "PORTUS_HEALTH_CACHE_TTL=soon", NULL };

	/* The bad variable keeps the value before it: the file's. */
	tmpdir_make(dir);
	tmpfile_write(dir, "ok.yml", "health:\n  cache_ttl: 2\n", path);
	snprintf(var, sizeof(var), "PORTUS_LOCAL_CONFIG_PATH=%s", path);
	ck_assert_int_eq(load(envp), CONF_ERR_TYPE);
	ck_assert_str_eq(emsg, "health.cache_ttl: " NOT_INT " (from "
	    "environment PORTUS_HEALTH_CACHE_TTL)");
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 2);
}
END_TEST

START_TEST(cfg_prefix_renames)
{
	char	 dir[64], mine[PATH_MAX], other[PATH_MAX];
	char	 v1[PATH_MAX + 32], v2[PATH_MAX + 32], name[64];
	char	*envp[] = { "CCONFIG_PREFIX=acme", v1, v2,
	    "ACME_HEALTH_TIMEOUT=7", "PORTUS_HEALTH_TIMEOUT=9",
	    "PORTUS_DB_HOST=db.example", "ACME_DB_HOST=wrong.example", NULL };

	tmpdir_make(dir);
	tmpfile_write(dir, "acme.yml", "health:\n  cache_ttl: 4\n", mine);
	tmpfile_write(dir, "portus.yml", "health:\n  cache_ttl: 9\n", other);
	snprintf(v1, sizeof(v1), "ACME_LOCAL_CONFIG_PATH=%s", mine);
	snprintf(v2, sizeof(v2), "PORTUS_LOCAL_CONFIG_PATH=%s", other);
	ck_assert_int_eq(load(envp), CONF_OK);
	ck_assert_str_eq(cfg.prefix, "ACME");
	ck_assert_str_eq(cfg.file, mine);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 4);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 7);
	ck_assert_str_eq(cfg.v[K_HEALTH_TIMEOUT].src,
	    "environment ACME_HEALTH_TIMEOUT");
	/* database.yml's variables keep their names. */
	ck_assert_str_eq(cfg_str(&cfg, K_DB_HOST), "db.example");
	ck_assert_str_eq(config_envname(&cfg, K_HEALTH_TIMEOUT, name,
	    sizeof(name)), "ACME_HEALTH_TIMEOUT");
	ck_assert_str_eq(config_envname(&cfg, K_DB_HOST, name, sizeof(name)),
	    "PORTUS_DB_HOST");
}
END_TEST

/* CCONFIG_PREFIX: upper case, letters, digits and _ alone, and never
 * HTTP* (a CGI environment holds the client's headers as HTTP_*). */
static const struct {
	const char	*in;
	enum cstatus	 st;
	const char	*prefix;	/* the one then used */
} prefixes[] = {
	{ "acme", CONF_OK, "ACME" },
	{ "Acme_2", CONF_OK, "ACME_2" },
	{ "PORTUS", CONF_OK, "PORTUS" },
	{ "", CONF_OK, "PORTUS" },
	{ "abcdefghijklmnopqrstuvwxyz01234", CONF_OK,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234" },
	{ "abcdefghijklmnopqrstuvwxyz012345", CONF_ERR_TYPE, "PORTUS" },
	{ "a-b", CONF_ERR_TYPE, "PORTUS" },
	{ "a b", CONF_ERR_TYPE, "PORTUS" },
	{ "HTTP", CONF_ERR_TYPE, "PORTUS" },
	{ "http_proxy", CONF_ERR_TYPE, "PORTUS" },
	{ "Https", CONF_ERR_TYPE, "PORTUS" },
};

START_TEST(cfg_prefix)
{
	const char	*p = prefixes[_i].prefix;
	char		 v1[128], v2[128], v3[128];
	char		*envp[] = { v1, v2, v3, "PORTUS_HEALTH_TIMEOUT=7",
	    NULL };
	enum cstatus	 st;

	snprintf(v1, sizeof(v1), "CCONFIG_PREFIX=%s", prefixes[_i].in);
	snprintf(v2, sizeof(v2), "%s_LOCAL_CONFIG_PATH=%s", p, NOFILE);
	snprintf(v3, sizeof(v3), "%s_HEALTH_CACHE_TTL=3", p);
	st = load(envp);
	ck_assert_msg(st == prefixes[_i].st, "%s: status %d (%s)", v1, st,
	    emsg);
	ck_assert_msg(strcmp(cfg.prefix, p) == 0, "%s: prefix %s", v1,
	    cfg.prefix);
	ck_assert_str_eq(cfg.file, NOFILE);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 3);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT),
	    strcmp(p, "PORTUS") == 0 ? 7 : 5);
	if (st != CONF_OK)
		ck_assert_msg(strncmp(emsg, "CCONFIG_PREFIX: ", 16) == 0 &&
		    strstr(emsg, "using PORTUS") != NULL, "%s: %s", v1, emsg);
}
END_TEST

/* db.port's default is the adapter's, settled by config_load. */
static const struct {
	const char	*adapter;	/* PORTUS_DB_ADAPTER, or NULL */
	const char	*port;		/* PORTUS_DB_PORT, or NULL */
	enum cstatus	 st;
	long		 want;
	const char	*src;
} db_ports[] = {
	{ NULL, NULL, CONF_OK, 3306, "default (mysql2)" },
	{ "mysql2", NULL, CONF_OK, 3306, "default (mysql2)" },
	{ "postgresql", NULL, CONF_OK, 5432, "default (postgresql)" },
	{ "postgresql", "6543", CONF_OK, 6543, "environment PORTUS_DB_PORT" },
	{ "mysql2", "70000", CONF_ERR_RANGE, 3306, "default (mysql2)" },
};

START_TEST(cfg_db_port_by_adapter)
{
	char	 a[64], p[64], *out, line[256], want[128];
	char	*envp[4] = { "PORTUS_LOCAL_CONFIG_PATH=" NOFILE };
	size_t	 n = 1;

	if (db_ports[_i].adapter != NULL) {
		snprintf(a, sizeof(a), "PORTUS_DB_ADAPTER=%s",
		    db_ports[_i].adapter);
		envp[n++] = a;
	}
	if (db_ports[_i].port != NULL) {
		snprintf(p, sizeof(p), "PORTUS_DB_PORT=%s", db_ports[_i].port);
		envp[n++] = p;
	}
	envp[n] = NULL;
	ck_assert_msg(load(envp) == db_ports[_i].st, "row %d: %s", _i, emsg);
	ck_assert_msg(cfg_int(&cfg, K_DB_PORT) == db_ports[_i].want,
	    "row %d: port %ld", _i, cfg_int(&cfg, K_DB_PORT));
	ck_assert_str_eq(cfg.v[K_DB_PORT].src, db_ports[_i].src);
	out = print_config();
	print_line(out, "db.port", line, sizeof(line));
	snprintf(want, sizeof(want), "# %s", db_ports[_i].src);
	ck_assert_msg(strstr(line, want) != NULL, "row %d: %s", _i, line);
	free(out);
}
END_TEST

/* health.database.migrations_path: Portus's directory when it exists
 * (it is not made here: whether it exists is the machine's). */
static const struct {
	const char	*var;		/* a variable setting it, or NULL */
	const char	*want;		/* NULL: the machine's default */
} migrations[] = {
	{ NULL, NULL },
	{ "PORTUS_HEALTH_DATABASE_MIGRATIONS_PATH=/opt/portus/db/migrate",
	    "/opt/portus/db/migrate" },
	{ "PORTUS_HEALTH_DATABASE_MIGRATIONS_PATH=", "" },
};

/* health.optional: component names, as a list or a string. */
static const struct {
	const char	*yaml;		/* the value in YAML, or NULL */
	const char	*env;		/* or in the environment */
	unsigned	 mask;
	const char	*error;		/* a part of the error, or NULL */
} optionals[] = {
	{ "[clair]", NULL, 1u << COMP_CLAIR, NULL },
	{ "[clair, ldap]", NULL, 1u << COMP_CLAIR | 1u << COMP_LDAP, NULL },
	{ "clair", NULL, 1u << COMP_CLAIR, NULL },
	{ "[]", NULL, 0, NULL },
	{ NULL, "clair ldap,portus", 1u << COMP_CLAIR | 1u << COMP_LDAP |
	    1u << COMP_PORTUS, NULL },
	{ NULL, "", 0, NULL },
	{ "[clair, nosuch]", NULL, 0, "health.optional: item 2 is not a "
	    "component" },
	{ NULL, "Clair", 0, "health.optional: item 1 is not a component" },
	{ "[[clair]]", NULL, 0, "expected a list of strings" },
};

START_TEST(cfg_optional)
{
	char	 doc[128], var[128];
	char	*envp[] = { var, NULL };
	enum cstatus st;

	if (optionals[_i].yaml != NULL) {
		snprintf(doc, sizeof(doc), "health:\n  optional: %s\n",
		    optionals[_i].yaml);
		st = yaml(doc);
	} else {
		snprintf(var, sizeof(var), "PORTUS_HEALTH_OPTIONAL=%s",
		    optionals[_i].env);
		st = env(envp);
	}
	if (optionals[_i].error != NULL) {
		ck_assert_msg(st != CONF_OK && strstr(emsg,
		    optionals[_i].error) != NULL, "row %d: %s", _i, emsg);
		ck_assert_uint_eq(cfg.optional, 0);
		return;
	}
	ck_assert_msg(st == CONF_OK, "row %d: %s", _i, emsg);
	ck_assert_msg(cfg.optional == optionals[_i].mask, "row %d: %#x", _i,
	    cfg.optional);
}
END_TEST

/* health.cache_dir: the user's own directory under $TMPDIR. */
static const struct {
	const char	*tmpdir;	/* TMPDIR, or NULL */
	const char	*set;		/* PORTUS_HEALTH_CACHE_DIR, or NULL */
	const char	*want;		/* with %ld for the user */
} cache_dirs[] = {
	{ NULL, NULL, "/tmp/portus-health-%ld" },
	{ "/var/tmp", NULL, "/var/tmp/portus-health-%ld" },
	{ "relative", NULL, "/tmp/portus-health-%ld" },
	{ "", NULL, "/tmp/portus-health-%ld" },
	{ "/var/tmp", "/srv/cache", "/srv/cache" },
};

START_TEST(cfg_cache_dir_default)
{
	char	 tmp[128], set[128], want[128];
	char	*envp[3] = { NULL, NULL, NULL };
	int	 n = 0;

	if (cache_dirs[_i].tmpdir != NULL) {
		snprintf(tmp, sizeof(tmp), "TMPDIR=%s", cache_dirs[_i].tmpdir);
		envp[n++] = tmp;
	}
	if (cache_dirs[_i].set != NULL) {
		snprintf(set, sizeof(set), "PORTUS_HEALTH_CACHE_DIR=%s",
		    cache_dirs[_i].set);
		envp[n++] = set;
	}
	ck_assert_int_eq(load(envp), CONF_OK);
	snprintf(want, sizeof(want), cache_dirs[_i].want, (long)geteuid());
	ck_assert_msg(strcmp(cfg_str(&cfg, K_HEALTH_CACHE_DIR), want) == 0,
	    "row %d: %s, want %s", _i, cfg_str(&cfg, K_HEALTH_CACHE_DIR), want);
}
END_TEST

START_TEST(cfg_migrations_default)
{
	struct stat	 sb;
	char		*envp[] = { "PORTUS_LOCAL_CONFIG_PATH=" NOFILE,
	    (char *)migrations[_i].var, NULL };
	const char	*want = migrations[_i].want;
	int		 there;

	there = stat("/srv/Portus/db/migrate", &sb) == 0 &&
	    S_ISDIR(sb.st_mode);
	ck_assert_int_eq(load(envp), CONF_OK);
	if (want == NULL) {
		ck_assert_str_eq(cfg_str(&cfg, K_HEALTH_MIGRATIONS),
		    there ? "/srv/Portus/db/migrate" : "");
		ck_assert_str_eq(cfg.v[K_HEALTH_MIGRATIONS].src, there ?
		    "default (the directory exists)" : "default");
	} else {
		ck_assert_str_eq(cfg_str(&cfg, K_HEALTH_MIGRATIONS), want);
		ck_assert_str_eq(cfg.v[K_HEALTH_MIGRATIONS].src,
		    "environment PORTUS_HEALTH_DATABASE_MIGRATIONS_PATH");
	}
}
END_TEST

/* ---------------------------------------------------------- printing */

START_TEST(cfg_print_masks_passwords)
{
	char	*envp[] = { "PORTUS_DB_PASSWORD=s3cret-db-pw", NULL };
	char	*out, line[256];

	ck_assert_int_eq(yaml("ldap:\n  authentication:\n"
	    "    password: hunter2-ldap\n"), CONF_OK);
	ck_assert_int_eq(env(envp), CONF_OK);
	out = print_config();
	ck_assert_ptr_null(strstr(out, "s3cret"));
	ck_assert_ptr_null(strstr(out, "hunter2"));
	print_line(out, "db.password", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "\"********\""));
	print_line(out, "ldap.authentication.password", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "\"********\""));
	free(out);
}
END_TEST

START_TEST(cfg_print_shows_values_and_sources)
{
	char	*envp[] = { "PORTUS_HEALTH_TIMEOUT=8", NULL };
	char	*out, line[256];

	ck_assert_int_eq(env(envp), CONF_OK);
	out = print_config();
	print_line(out, "health.timeout", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, " 8 "));
	ck_assert_ptr_nonnull(strstr(line,
	    "environment PORTUS_HEALTH_TIMEOUT"));
	print_line(out, "db.host", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "\"localhost\""));
	print_line(out, "registry.use_ssl", line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "false"));
	free(out);
}
END_TEST

/* ------------------------------------------------------------- suite */

Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("names");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_loop_test(tc, cfg_default, 0, K__MAX);
	tcase_add_test(tc, cfg_init_state);
	tcase_add_test(tc, cfg_str_of_freed_is_empty);
	tcase_add_loop_test(tc, cfg_envname, 0, NELEM(envnames));
	tcase_add_test(tc, cfg_envname_tiny_buffer_stays_inside);
	tcase_add_test(tc, cfg_strerror);
	tcase_add_loop_test(tc, cfg_is_setting, 0, NELEM(settings));
	suite_add_tcase(s, tc);

	tc = tcase_create("typing");
	tcase_add_loop_test(tc, cfg_ruby_integer, 0, NELEM(ruby_ints));
	tcase_add_loop_test(tc, cfg_type_value, 0, NELEM(typed));
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_loop_test(tc, cfg_yaml_number, 0, NELEM(yaml_numbers));
	tcase_add_loop_test(tc, cfg_yaml_boolean, 0, NELEM(yaml_booleans));
	tcase_add_loop_test(tc, cfg_yaml_string, 0, NELEM(yaml_strings));
	tcase_add_loop_test(tc, cfg_yaml_null, 0, NELEM(yaml_nulls));
	tcase_add_loop_test(tc, cfg_env_number, 0, NELEM(env_numbers));
	tcase_add_loop_test(tc, cfg_env_boolean, 0, NELEM(env_booleans));
	tcase_add_loop_test(tc, cfg_env_string, 0, NELEM(env_strings));
	tcase_add_test(tc, cfg_env_overrides_yaml);
	tcase_add_test(tc, cfg_env_name_prefix_only_ignored);
	tcase_add_test(tc, cfg_env_null_envp);
	suite_add_tcase(s, tc);

	tc = tcase_create("yaml");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, cfg_yaml_nested_override);
	tcase_add_test(tc, cfg_yaml_flow_mapping);
	tcase_add_test(tc, cfg_yaml_merge_key);
	tcase_add_test(tc, cfg_yaml_merge_list_first_wins);
	tcase_add_test(tc, cfg_yaml_merge_whole_sections);
	tcase_add_test(tc, cfg_yaml_quoted_merge_key_is_a_key);
	tcase_add_test(tc, cfg_yaml_last_key_wins);
	tcase_add_test(tc, cfg_yaml_alias_resolves);
	tcase_add_test(tc, cfg_yaml_billion_laughs);
	tcase_add_test(tc, cfg_yaml_self_alias_terminates);
	tcase_add_loop_test(tc, cfg_yaml_empty_document, 0, NELEM(empty_docs));
	tcase_add_loop_test(tc, cfg_yaml_bad_document, 0, NELEM(bad_docs));
	tcase_add_loop_test(tc, cfg_yaml_ignored, 0, NELEM(ignored));
	suite_add_tcase(s, tc);

	tc = tcase_create("lenient");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, cfg_lenient_yaml);
	tcase_add_test(tc, cfg_lenient_env);
	tcase_add_test(tc, cfg_lenient_load);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, cfg_file_missing_is_ok);
	tcase_add_test(tc, cfg_file_directory_is_error);
	tcase_add_test(tc, cfg_file_errors_name_the_file);
	tcase_add_test(tc, cfg_load_local_config_path);
	tcase_add_test(tc, cfg_load_default_path_in_cwd);
	tcase_add_test(tc, cfg_load_bad_file_keeps_defaults);
	tcase_add_test(tc, cfg_load_env_error_after_file);
	tcase_add_test(tc, cfg_prefix_renames);
	tcase_add_loop_test(tc, cfg_prefix, 0, NELEM(prefixes));
	tcase_add_loop_test(tc, cfg_cache_dir_default, 0, NELEM(cache_dirs));
	tcase_add_loop_test(tc, cfg_optional, 0, NELEM(optionals));
	tcase_add_loop_test(tc, cfg_db_port_by_adapter, 0, NELEM(db_ports));
	tcase_add_loop_test(tc, cfg_migrations_default, 0, NELEM(migrations));
	suite_add_tcase(s, tc);

	tc = tcase_create("print");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, cfg_print_masks_passwords);
	tcase_add_test(tc, cfg_print_shows_values_and_sources);
	suite_add_tcase(s, tc);
	return s;
}
