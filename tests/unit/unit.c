/*
 * Unit tests of the pure parts of portus-health: the configuration merge
 * (config.c), routing and the response head (request.c), messages and
 * the health document (report.c), clair's health URL (check_http.c), and
 * LDAP STARTTLS and its relay (starttls.c, against a peer in a thread).
 * One behaviour per test; the contract is the product specification.
 *
 * Build and run: make tests/unit/unit && tests/unit/unit
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <json.h>

#include "extern.h"

#define YNAME	"t.yml"		/* the file name config_load_yaml reports */

/* ------------------------------------------------------------ helpers */

static struct config	 cfg;
static char		 err[512];

static void
config_setup(void)
{
	ck_assert_int_eq(config_init(&cfg), CONF_OK);
	err[0] = '\0';
}

static void
config_teardown(void)
{
	config_free(&cfg);
}

/* Loads the YAML text y over cfg, as if it were the file YNAME. */
static enum cstatus
yaml(const char *y)
{
	return config_load_yaml(&cfg, y, strlen(y), YNAME, err, sizeof(err));
}

/* Applies the NULL-terminated environment envp over cfg. */
static enum cstatus
env(char *const *envp)
{
	return config_apply_env(&cfg, envp, err, sizeof(err));
}

/* Makes a private temporary directory; dir must hold 64 bytes. */
static void
tmpdir_make(char *dir)
{
	snprintf(dir, 64, "/tmp/ph-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Writes text to dir/name; the full path goes to path (PATH_MAX). */
static void
tmpfile_write(const char *dir, const char *name, const char *text,
    char *path)
{
	FILE *fp;

	snprintf(path, PATH_MAX, "%s/%s", dir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Returns config_print's output; the caller frees it. */
static char *
print_config(void)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = open_memstream(&buf, &len));
	config_print(&cfg, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return buf;
}

/* Copies the line of config_print's output for key into line. */
static void
print_line(const char *out, const char *key, char *line, size_t sz)
{
	const char	*p = out, *end;
	size_t		 klen = strlen(key), n;

	for (;;) {
		ck_assert_msg(p != NULL && *p != '\0', "no line for %s", key);
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			break;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	end = strchr(p, '\n');
	n = end != NULL ? (size_t)(end - p) : strlen(p);
	ck_assert_uint_lt(n, sz);
	memcpy(line, p, n);
	line[n] = '\0';
}

/* Routes a request given its CGI variables (NULL: unset). */
static void
route(const char *method, const char *path_info, const char *request_uri,
    struct answer *a)
{
	struct reqinfo ri;

	memset(&ri, 0, sizeof(ri));
	ri.method = method;
	ri.path_info = path_info;
	ri.request_uri = request_uri;
	request_route(&ri, a);
}

/* Asserts that a GET of PATH_INFO p is a 404 with a JSON error body. */
static void
assert_path_info_404(const char *p)
{
	struct answer a;

	route("GET", p, NULL, &a);
	ck_assert_msg(a.status == 404, "PATH_INFO %s: status %d", p,
	    a.status);
	ck_assert_int_eq(a.route, ROUTE_NONE);
	ck_assert_ptr_nonnull(a.body);
	ck_assert_ptr_nonnull(strstr(a.body, "not found"));
}

/* Returns a string of n copies of c after prefix; the caller frees it. */
static char *
long_string(const char *prefix, char c, size_t n)
{
	size_t	 pl = strlen(prefix);
	char	*s;

	ck_assert_ptr_nonnull(s = malloc(pl + n + 1));
	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	s[pl + n] = '\0';
	return s;
}

/* Returns the string member key of the JSON object o (or NULL). */
static const char *
json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* ----------------------------------------------- config: defaults */

START_TEST(cfg_defaults_security_registry)
{
	ck_assert_str_eq(cfg_str(&cfg, K_CLAIR_SERVER), "");
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_HEALTH_PORT), 6061);
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_TIMEOUT), 900);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_TIMEOUT), 2);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_READ_TIMEOUT), 120);
	ck_assert_str_eq(cfg_str(&cfg, K_REG_HOSTNAME), "");
	ck_assert_int_eq(cfg_int(&cfg, K_REG_USE_SSL), 0);
}
END_TEST

START_TEST(cfg_defaults_ldap)
{
	/* Portus's config/config.yml values. */
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_ENABLED), 0);
	ck_assert_str_eq(cfg_str(&cfg, K_LDAP_HOSTNAME), "ldap_hostname");
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_PORT), 389);
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_TIMEOUT), 5);
	ck_assert_str_eq(cfg_str(&cfg, K_LDAP_METHOD), "");
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_AUTH_ENABLED), 0);
	ck_assert_str_eq(cfg_str(&cfg, K_LDAP_BIND_DN), "");
	ck_assert_str_eq(cfg_str(&cfg, K_LDAP_PASSWORD), "");
}
END_TEST

START_TEST(cfg_defaults_health)
{
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 5);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 1);
	ck_assert_str_eq(cfg_str(&cfg, K_HEALTH_MIGRATIONS), "");
}
END_TEST

START_TEST(cfg_defaults_db)
{
	ck_assert_str_eq(cfg_str(&cfg, K_DB_ADAPTER), "");
	ck_assert_str_eq(cfg_str(&cfg, K_DB_HOST), "localhost");
	ck_assert_str_eq(cfg_str(&cfg, K_DB_USERNAME), "root");
	ck_assert_str_eq(cfg_str(&cfg, K_DB_PASSWORD), "");
	ck_assert_str_eq(cfg_str(&cfg, K_DB_DATABASE), "portus_production");
	ck_assert_int_eq(cfg_int(&cfg, K_DB_PORT), 5432);
	ck_assert_str_eq(cfg_str(&cfg, K_DB_SOCKET), "");
}
END_TEST

START_TEST(cfg_defaults_source)
{
	ck_assert_str_eq(cfg.v[K_CLAIR_HEALTH_PORT].src, "default");
	ck_assert_str_eq(cfg.v[K_DB_HOST].src, "default");
}
END_TEST

START_TEST(cfg_str_of_freed_is_empty)
{
	/* After config_free the accessor still returns a string. */
	config_free(&cfg);
	ck_assert_str_eq(cfg_str(&cfg, K_DB_HOST), "");
}
END_TEST

/* ------------------------------------------ config: names and typing */

START_TEST(cfg_keyname)
{
	ck_assert_str_eq(config_keyname(K_CLAIR_HEALTH_PORT),
	    "security.clair.health_port");
	ck_assert_str_eq(config_keyname(K_REG_READ_TIMEOUT),
	    "registry.read_timeout.value");
}
END_TEST

START_TEST(cfg_envname)
{
	char buf[128];

	ck_assert_str_eq(config_envname(NULL, K_CLAIR_HEALTH_PORT, buf, sizeof(buf)),
	    "PORTUS_SECURITY_CLAIR_HEALTH_PORT");
	ck_assert_str_eq(config_envname(NULL, K_REG_READ_TIMEOUT, buf, sizeof(buf)),
	    "PORTUS_REGISTRY_READ_TIMEOUT_VALUE");
	ck_assert_str_eq(config_envname(NULL, K_LDAP_PASSWORD, buf, sizeof(buf)),
	    "PORTUS_LDAP_AUTHENTICATION_PASSWORD");
	ck_assert_str_eq(config_envname(NULL, K_DB_PORT, buf, sizeof(buf)),
	    "PORTUS_DB_PORT");
}
END_TEST

START_TEST(cfg_envname_truncates)
{
	char buf[10];

	ck_assert_str_eq(config_envname(NULL, K_CLAIR_HEALTH_PORT, buf, sizeof(buf)),
	    "PORTUS_SE");
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

START_TEST(cfg_type_bool)
{
	long v = -1;

	ck_assert_int_eq(config_type_value("true", &v), CT_BOOL);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(config_type_value("FALSE", &v), CT_BOOL);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(config_type_value("True", &v), CT_BOOL);
	ck_assert_int_eq(v, 1);
}
END_TEST

START_TEST(cfg_type_int)
{
	long v = 0;

	ck_assert_int_eq(config_type_value("42", &v), CT_INT);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(config_type_value("-3", &v), CT_INT);
	ck_assert_int_eq(v, -3);
	ck_assert_int_eq(config_type_value("0", &v), CT_INT);
	ck_assert_int_eq(v, 0);
}
END_TEST

START_TEST(cfg_type_str)
{
	long v = 0;

	ck_assert_int_eq(config_type_value("4x", &v), CT_STR);
	ck_assert_int_eq(config_type_value("", &v), CT_STR);
	ck_assert_int_eq(config_type_value(" 4", &v), CT_STR);
	ck_assert_int_eq(config_type_value("4 ", &v), CT_STR);
	ck_assert_int_eq(config_type_value("99999999999999999999", &v),
	    CT_STR);
	ck_assert_int_eq(config_type_value("yes", &v), CT_STR);
	ck_assert_int_eq(config_type_value("truex", &v), CT_STR);
	ck_assert_int_eq(config_type_value("0x10", &v), CT_STR);
}
END_TEST

/* --------------------------------------------------- config: YAML */

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
	/* Keys the file does not name keep their defaults. */
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_TIMEOUT), 900);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_TIMEOUT), 2);
}
END_TEST

START_TEST(cfg_yaml_source_names_file_line)
{
	ck_assert_int_eq(yaml("health:\n  timeout: 9\n"), CONF_OK);
	ck_assert_str_eq(cfg.v[K_HEALTH_TIMEOUT].src, YNAME ":2");
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

START_TEST(cfg_yaml_merge_errors)
{
	ck_assert_int_eq(yaml("health:\n  <<: 5\n"), CONF_ERR_TYPE);
	ck_assert_str_eq(err, YNAME ":2: the merge key << takes a mapping "
	    "or a list of mappings");
	config_free(&cfg);
	config_setup();
	ck_assert_int_eq(yaml("health:\n  <<: [{timeout: 3}, x]\n"),
	    CONF_ERR_TYPE);
	config_free(&cfg);
	config_setup();
	/* A mapping that merges itself ends in an error, not a loop. */
	ck_assert_int_eq(yaml("health: &h\n  timeout: 3\n  <<: *h\n"),
	    CONF_ERR_YAML);
	ck_assert_ptr_nonnull(strstr(err, "merge keys nested more than"));
	config_free(&cfg);
	config_setup();
	/* Merges that multiply are cut off. */
	ck_assert_int_eq(yaml(
	    "a: &a {timeout: 3}\n"
	    "b: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a]}\n"
	    "c: &c {<<: [*b, *b, *b, *b, *b, *b, *b, *b]}\n"
	    "d: &d {<<: [*c, *c, *c, *c, *c, *c, *c, *c]}\n"
	    "health: {<<: [*d, *d, *d, *d, *d, *d, *d, *d]}\n"),
	    CONF_ERR_YAML);
	ck_assert_ptr_nonnull(strstr(err, "more than 64 merged mappings"));
	config_free(&cfg);
	config_setup();
	/* A quoted "<<" is an ordinary (unknown) key. */
	ck_assert_int_eq(yaml("a: &a {timeout: 3}\nhealth:\n  '<<': *a\n"),
	    CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 5);
}
END_TEST

START_TEST(cfg_yaml_last_key_wins)
{
	/* As Ruby reads it: a section given twice is the last one alone. */
	ck_assert_int_eq(yaml(
	    "health:\n"
	    "  timeout: 3\n"
	    "  timeout: 4\n"
	    "ldap:\n"
	    "  enabled: true\n"
	    "ldap:\n"
	    "  port: 1389\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 4);
	ck_assert_str_eq(cfg.v[K_HEALTH_TIMEOUT].src, YNAME ":3");
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_PORT), 1389);
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_ENABLED), 0);
	/* The earlier one is not even type-checked. */
	config_free(&cfg);
	config_setup();
	ck_assert_int_eq(yaml("health:\n  timeout: soon\n  timeout: 4\n"),
	    CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 4);
}
END_TEST

START_TEST(cfg_yaml_dotted_key_is_not_a_path)
{
	ck_assert_int_eq(yaml("ldap.enabled: true\nhealth:\n  "
	    "database.migrations_path: /x\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_ENABLED), 0);
	ck_assert_str_eq(cfg_str(&cfg, K_HEALTH_MIGRATIONS), "");
}
END_TEST

START_TEST(cfg_yaml_bool_yes_no_true_false)
{
	ck_assert_int_eq(yaml("registry:\n  use_ssl: yes\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_USE_SSL), 1);
	ck_assert_int_eq(yaml("registry:\n  use_ssl: no\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_USE_SSL), 0);
	ck_assert_int_eq(yaml("registry:\n  use_ssl: true\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_USE_SSL), 1);
	ck_assert_int_eq(yaml("registry:\n  use_ssl: false\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_USE_SSL), 0);
}
END_TEST

START_TEST(cfg_yaml_string_key_keeps_integer_text)
{
	ck_assert_int_eq(yaml("registry:\n  hostname: 5000\n"), CONF_OK);
	ck_assert_str_eq(cfg_str(&cfg, K_REG_HOSTNAME), "5000");
}
END_TEST

START_TEST(cfg_yaml_quoted_int_is_type_error)
{
	ck_assert_int_eq(yaml("health:\n  timeout: \"5\"\n"), CONF_ERR_TYPE);
	ck_assert_ptr_nonnull(strstr(err, "health.timeout"));
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 5);
}
END_TEST

START_TEST(cfg_yaml_wrong_type_names_file_line_key)
{
	ck_assert_int_eq(yaml(
	    "security:\n"
	    "  clair:\n"
	    "    health_port: abc\n"), CONF_ERR_TYPE);
	ck_assert_msg(strstr(err, YNAME ":3") != NULL, "err: %s", err);
	ck_assert_msg(strstr(err, "security.clair.health_port") != NULL,
	    "err: %s", err);
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_HEALTH_PORT), 6061);
}
END_TEST

START_TEST(cfg_yaml_mapping_for_scalar)
{
	ck_assert_int_eq(yaml("health:\n  timeout:\n    value: 5\n"),
	    CONF_ERR_TYPE);
	ck_assert_msg(strstr(err, YNAME ":3") != NULL, "err: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "health.timeout"));
	ck_assert_ptr_nonnull(strstr(err, "mapping"));
}
END_TEST

START_TEST(cfg_yaml_list_for_scalar)
{
	ck_assert_int_eq(yaml("security:\n  clair:\n    server: [a, b]\n"),
	    CONF_ERR_TYPE);
	ck_assert_msg(strstr(err, YNAME ":3") != NULL, "err: %s", err);
	ck_assert_ptr_nonnull(strstr(err, "security.clair.server"));
	ck_assert_ptr_nonnull(strstr(err, "list"));
}
END_TEST

START_TEST(cfg_yaml_port_zero_out_of_range)
{
	ck_assert_int_eq(yaml("security:\n  clair:\n    health_port: 0\n"),
	    CONF_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(err, "security.clair.health_port"));
	ck_assert_ptr_nonnull(strstr(err, YNAME ":3"));
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_HEALTH_PORT), 6061);
}
END_TEST

START_TEST(cfg_yaml_port_70000_out_of_range)
{
	ck_assert_int_eq(yaml("ldap:\n  port: 70000\n"), CONF_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(err, "ldap.port"));
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_PORT), 389);
}
END_TEST

START_TEST(cfg_yaml_port_bounds_accepted)
{
	ck_assert_int_eq(yaml("ldap:\n  port: 1\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_PORT), 1);
	ck_assert_int_eq(yaml("ldap:\n  port: 65535\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_LDAP_PORT), 65535);
}
END_TEST

START_TEST(cfg_yaml_negative_timeout_out_of_range)
{
	ck_assert_int_eq(yaml("registry:\n  timeout:\n    value: -1\n"),
	    CONF_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(err, "registry.timeout.value"));
	ck_assert_int_eq(cfg_int(&cfg, K_REG_TIMEOUT), 2);
}
END_TEST

START_TEST(cfg_yaml_cache_ttl_zero_accepted)
{
	ck_assert_int_eq(yaml("health:\n  cache_ttl: 0\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 0);
}
END_TEST

START_TEST(cfg_yaml_broken_names_line_col)
{
	/* The second ':' on line 2 sits in column 13. */
	ck_assert_int_eq(yaml("health:\n  timeout: 5: 6\n"), CONF_ERR_YAML);
	ck_assert_msg(strstr(err, YNAME ":2:13:") != NULL, "err: %s", err);
}
END_TEST

START_TEST(cfg_yaml_unclosed_flow_is_yaml_error)
{
	ck_assert_int_eq(yaml("health: {timeout: 5\n"), CONF_ERR_YAML);
	ck_assert_msg(strncmp(err, YNAME ":", strlen(YNAME ":")) == 0,
	    "err: %s", err);
}
END_TEST

START_TEST(cfg_yaml_top_level_list)
{
	ck_assert_int_eq(yaml("- a\n- b\n"), CONF_ERR_YAML);
	ck_assert_ptr_nonnull(strstr(err, YNAME ":1"));
	ck_assert_ptr_nonnull(strstr(err, "not a mapping"));
}
END_TEST

START_TEST(cfg_yaml_top_level_scalar)
{
	ck_assert_int_eq(yaml("hello\n"), CONF_ERR_YAML);
	ck_assert_ptr_nonnull(strstr(err, "not a mapping"));
}
END_TEST

START_TEST(cfg_yaml_empty_document)
{
	ck_assert_int_eq(yaml(""), CONF_OK);
	ck_assert_int_eq(yaml("---\n"), CONF_OK);
	ck_assert_int_eq(yaml("# only a comment\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 5);
}
END_TEST

START_TEST(cfg_yaml_unknown_keys_ignored)
{
	ck_assert_int_eq(yaml(
	    "nosuch: 1\n"
	    "security:\n"
	    "  clair:\n"
	    "    helth_port: 1\n"
	    "email:\n"
	    "  from: portus@example.com\n"), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_HEALTH_PORT), 6061);
	ck_assert_str_eq(cfg_str(&cfg, K_CLAIR_SERVER), "");
}
END_TEST

START_TEST(cfg_yaml_db_keys_ignored)
{
	ck_assert_int_eq(yaml(
	    "db:\n"
	    "  host: evil.example\n"
	    "  port: 1\n"
	    "  password: leaked\n"), CONF_OK);
	ck_assert_str_eq(cfg_str(&cfg, K_DB_HOST), "localhost");
	ck_assert_int_eq(cfg_int(&cfg, K_DB_PORT), 5432);
	ck_assert_str_eq(cfg_str(&cfg, K_DB_PASSWORD), "");
}
END_TEST

START_TEST(cfg_yaml_duplicate_key_last_wins)
{
	ck_assert_int_eq(yaml("health:\n  timeout: 3\n  timeout: 4\n"),
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
	double t0;

	t0 = mono_now();
	ck_assert_int_eq(yaml(doc), CONF_OK);
	ck_assert_double_lt(mono_now() - t0, 1.0);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 7);
}
END_TEST

START_TEST(cfg_yaml_laughs_into_scalar_key)
{
	static const char doc[] =
	    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "security: {clair: {server: *c}}\n";

	ck_assert_int_eq(yaml(doc), CONF_ERR_TYPE);
	ck_assert_ptr_nonnull(strstr(err, "security.clair.server"));
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

START_TEST(cfg_yaml_null_for_int_is_type_error)
{
	ck_assert_int_eq(yaml("health:\n  timeout:\n"), CONF_ERR_TYPE);
	ck_assert_ptr_nonnull(strstr(err, "health.timeout"));
}
END_TEST

START_TEST(cfg_yaml_secret_in_file_is_string)
{
	ck_assert_int_eq(yaml("ldap:\n  authentication:\n    password: 1234\n"),
	    CONF_OK);
	ck_assert_str_eq(cfg_str(&cfg, K_LDAP_PASSWORD), "1234");
}
END_TEST

/* ---------------------------------------------- config: environment */

START_TEST(cfg_env_overrides_default)
{
	char *envp[] = { "PORTUS_SECURITY_CLAIR_HEALTH_PORT=7001",
	    "PORTUS_REGISTRY_USE_SSL=TRUE", "PORTUS_DB_HOST=db.example",
	    "PORTUS_DB_PORT=6543", NULL };

	ck_assert_int_eq(env(envp), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_HEALTH_PORT), 7001);
	ck_assert_int_eq(cfg_int(&cfg, K_REG_USE_SSL), 1);
	ck_assert_str_eq(cfg_str(&cfg, K_DB_HOST), "db.example");
	ck_assert_int_eq(cfg_int(&cfg, K_DB_PORT), 6543);
	ck_assert_str_eq(cfg.v[K_DB_PORT].src, "environment PORTUS_DB_PORT");
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

START_TEST(cfg_env_string_key_keeps_text)
{
	char *envp[] = { "PORTUS_REGISTRY_HOSTNAME=42",
	    "PORTUS_SECURITY_CLAIR_SERVER=true", NULL };

	ck_assert_int_eq(env(envp), CONF_OK);
	ck_assert_str_eq(cfg_str(&cfg, K_REG_HOSTNAME), "42");
	ck_assert_str_eq(cfg_str(&cfg, K_CLAIR_SERVER), "true");
}
END_TEST

START_TEST(cfg_env_bad_int)
{
	char *envp[] = { "PORTUS_SECURITY_CLAIR_HEALTH_PORT=abc", NULL };

	ck_assert_int_eq(env(envp), CONF_ERR_TYPE);
	ck_assert_ptr_nonnull(strstr(err, "security.clair.health_port"));
	ck_assert_ptr_nonnull(strstr(err,
	    "environment PORTUS_SECURITY_CLAIR_HEALTH_PORT"));
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_HEALTH_PORT), 6061);
}
END_TEST

START_TEST(cfg_env_bad_bool)
{
	char *envp[] = { "PORTUS_LDAP_ENABLED=1", NULL };

	ck_assert_int_eq(env(envp), CONF_ERR_TYPE);
	ck_assert_ptr_nonnull(strstr(err, "ldap.enabled"));
	ck_assert_ptr_nonnull(strstr(err, "environment PORTUS_LDAP_ENABLED"));
}
END_TEST

START_TEST(cfg_env_out_of_range)
{
	char *envp[] = { "PORTUS_DB_PORT=70000", NULL };

	ck_assert_int_eq(env(envp), CONF_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(err, "db.port"));
	ck_assert_ptr_nonnull(strstr(err, "environment PORTUS_DB_PORT"));
}
END_TEST

START_TEST(cfg_env_negative_timeout)
{
	char *envp[] = { "PORTUS_SECURITY_CLAIR_TIMEOUT=-5", NULL };

	ck_assert_int_eq(env(envp), CONF_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(err, "security.clair.timeout"));
}
END_TEST

START_TEST(cfg_env_name_prefix_only_ignored)
{
	char *envp[] = { "PORTUS_DB_PORTX=1", "PORTUS_DB_PORT",
	    "XPORTUS_DB_PORT=2", NULL };

	ck_assert_int_eq(env(envp), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_DB_PORT), 5432);
}
END_TEST

START_TEST(cfg_env_null_envp)
{
	ck_assert_int_eq(env(NULL), CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_DB_PORT), 5432);
}
END_TEST

/* ------------------------------------------------- config: printing */

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

/* ------------------------------------------------- config: files */

START_TEST(cfg_file_missing_is_ok)
{
	ck_assert_int_eq(config_load_file(&cfg,
	    "/nonexistent/ph-unit/config-local.yml", err, sizeof(err)),
	    CONF_OK);
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 5);
}
END_TEST

START_TEST(cfg_file_directory_is_error)
{
	char dir[64];

	tmpdir_make(dir);
	ck_assert_int_eq(config_load_file(&cfg, dir, err, sizeof(err)),
	    CONF_ERR_FILE);
	ck_assert_ptr_nonnull(strstr(err, dir));
	rmdir(dir);
}
END_TEST

START_TEST(cfg_file_errors_name_the_file)
{
	char dir[64], path[PATH_MAX];

	tmpdir_make(dir);
	tmpfile_write(dir, "c.yml", "health:\n  timeout: x\n", path);
	ck_assert_int_eq(config_load_file(&cfg, path, err, sizeof(err)),
	    CONF_ERR_TYPE);
	ck_assert_msg(strstr(err, path) != NULL, "err: %s", err);
	unlink(path);
	rmdir(dir);
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
	config_free(&cfg);
	ck_assert_int_eq(config_load(&cfg, envp, err, sizeof(err)), CONF_OK);
	ck_assert_str_eq(cfg.file, path);
	ck_assert_str_eq(cfg_str(&cfg, K_CLAIR_SERVER), "clair:6060");
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_TIMEOUT), 7);
	ck_assert_int_eq(cfg_int(&cfg, K_CLAIR_TIMEOUT), 900);
	unlink(path);
	rmdir(dir);
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
	config_free(&cfg);
	ck_assert_int_eq(config_load(&cfg, envp, err, sizeof(err)), CONF_OK);
	ck_assert_str_eq(cfg.file, "config/config-local.yml");
	ck_assert_int_eq(cfg_int(&cfg, K_HEALTH_CACHE_TTL), 4);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}
END_TEST

START_TEST(cfg_load_error_frees)
{
	char	 dir[64], path[PATH_MAX], var[PATH_MAX + 32];
	char	*envp[] = { var, NULL };

	tmpdir_make(dir);
	tmpfile_write(dir, "bad.yml", "- not\n- a mapping\n", path);
	snprintf(var, sizeof(var), "PORTUS_LOCAL_CONFIG_PATH=%s", path);
	config_free(&cfg);
	ck_assert_int_eq(config_load(&cfg, envp, err, sizeof(err)),
	    CONF_ERR_YAML);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_null(cfg.v[K_DB_HOST].s);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(cfg_load_env_error_after_file)
{
	char	 dir[64], path[PATH_MAX], var[PATH_MAX + 32];
	char	*envp[] = { var, "PORTUS_HEALTH_CACHE_TTL=soon", NULL };

	tmpdir_make(dir);
	tmpfile_write(dir, "ok.yml", "health:\n  cache_ttl: 2\n", path);
	snprintf(var, sizeof(var), "PORTUS_LOCAL_CONFIG_PATH=%s", path);
	config_free(&cfg);
	ck_assert_int_eq(config_load(&cfg, envp, err, sizeof(err)),
	    CONF_ERR_TYPE);
	ck_assert_ptr_nonnull(strstr(err,
	    "environment PORTUS_HEALTH_CACHE_TTL"));
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(cfg_strerror)
{
	ck_assert_str_eq(config_strerror(CONF_OK), "no error");
	ck_assert_str_ne(config_strerror(CONF_ERR_YAML),
	    config_strerror(CONF_ERR_TYPE));
}
END_TEST

/* ---------------------------------------------------------- routes */

START_TEST(route_ping_path_info)
{
	struct answer a;

	route("GET", "/_ping", NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_PING);
	ck_assert_int_eq(a.head, 0);
	ck_assert_ptr_null(a.body);
}
END_TEST

START_TEST(route_api_ping_path_info)
{
	struct answer a;

	route("GET", "/api/v1/_ping", NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_PING);
}
END_TEST

START_TEST(route_health_path_info)
{
	struct answer a;

	route("GET", "/_health", NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_HEALTH);
}
END_TEST

START_TEST(route_api_health_path_info)
{
	struct answer a;

	route("GET", "/api/v1/health", NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_HEALTH);
}
END_TEST

START_TEST(route_trailing_slash)
{
	struct answer a;

	route("GET", "/_ping/", NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_PING);
	route("GET", "/api/v1/health/", NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_HEALTH);
}
END_TEST

START_TEST(route_not_found_path_info)
{
	assert_path_info_404("/_pingx");
	assert_path_info_404("/_ping/x");
	assert_path_info_404("//_ping");
	assert_path_info_404("/api/v1/_health");
	assert_path_info_404("/_ping//");
	assert_path_info_404("/");
	assert_path_info_404("/portus/_ping");	/* PATH_INFO is exact */
}
END_TEST

START_TEST(route_not_found_body_is_json)
{
	struct answer	 a;
	json_object	*o;

	route("GET", "/nope", NULL, &a);
	ck_assert_ptr_nonnull(o = json_tokener_parse(a.body));
	ck_assert_str_eq(json_str(o, "error"), "not found");
	json_object_put(o);
}
END_TEST

START_TEST(route_request_uri_subdir_health)
{
	struct answer a;

	route("GET", "", "/portus/_health?x=1", &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_HEALTH);
}
END_TEST

START_TEST(route_request_uri_subdir_api_ping)
{
	struct answer a;

	route("GET", NULL, "/portus/api/v1/_ping", &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_PING);
}
END_TEST

START_TEST(route_request_uri_fragment_dropped)
{
	struct answer a;

	route("GET", NULL, "/_ping#frag", &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_PING);
}
END_TEST

START_TEST(route_request_uri_percent_decoded)
{
	struct answer a;

	route("GET", "", "/%5Fping", &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_PING);
}
END_TEST

START_TEST(route_request_uri_nul_escape)
{
	struct answer a;

	route("GET", "", "/_ping%00", &a);
	ck_assert_int_eq(a.status, 400);
	ck_assert_int_eq(a.route, ROUTE_NONE);
	ck_assert_ptr_nonnull(a.body);
}
END_TEST

START_TEST(route_request_uri_bad_escape)
{
	struct answer a;

	route("GET", "", "/%zz", &a);
	ck_assert_int_eq(a.status, 400);
	route("GET", "", "/_ping%", &a);
	ck_assert_int_eq(a.status, 400);
}
END_TEST

START_TEST(route_request_uri_segment_boundary)
{
	struct answer a;

	route("GET", "", "/foo_ping", &a);
	ck_assert_int_eq(a.status, 404);
	ck_assert_ptr_nonnull(strstr(a.body, "not found"));
	route("GET", "", "/portus/x_health", &a);
	ck_assert_int_eq(a.status, 404);
}
END_TEST

START_TEST(route_path_info_wins)
{
	struct answer a;

	route("GET", "/_ping", "/portus/_health", &a);
	ck_assert_int_eq(a.route, ROUTE_PING);
	route("GET", "/nope", "/_ping", &a);
	ck_assert_int_eq(a.status, 404);
}
END_TEST

START_TEST(route_no_path_at_all)
{
	struct answer a;

	route("GET", NULL, NULL, &a);
	ck_assert_int_eq(a.status, 404);
}
END_TEST

START_TEST(route_head)
{
	struct answer a;

	route("HEAD", "/_health", NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_HEALTH);
	ck_assert_int_eq(a.head, 1);
}
END_TEST

START_TEST(route_other_methods_405)
{
	static const char *const m[] = { "POST", "PUT", "DELETE", "OPTIONS",
	    "PATCH", "get" };
	struct answer	a;
	size_t		i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		route(m[i], "/_ping", NULL, &a);
		ck_assert_msg(a.status == 405, "%s: %d", m[i], a.status);
		ck_assert_ptr_nonnull(a.body);
	}
}
END_TEST

START_TEST(route_bad_methods_400)
{
	char		 m40[41];
	struct answer	 a;

	route(NULL, "/_ping", NULL, &a);
	ck_assert_int_eq(a.status, 400);
	route("", "/_ping", NULL, &a);
	ck_assert_int_eq(a.status, 400);
	route("G ET", "/_ping", NULL, &a);
	ck_assert_int_eq(a.status, 400);
	route("GET\r\n", "/_ping", NULL, &a);
	ck_assert_int_eq(a.status, 400);
	memset(m40, 'G', 40);
	m40[40] = '\0';
	route(m40, "/_ping", NULL, &a);
	ck_assert_int_eq(a.status, 400);
	ck_assert_ptr_nonnull(a.body);
}
END_TEST

START_TEST(route_path_info_too_long)
{
	struct answer	 a;
	char		*p;

	p = long_string("/", 'a', PATH_MAX_LEN);	/* PATH_MAX_LEN + 1 */
	route("GET", p, NULL, &a);
	ck_assert_int_eq(a.status, 414);
	ck_assert_ptr_nonnull(a.body);
	free(p);
}
END_TEST

START_TEST(route_path_info_at_limit)
{
	struct answer	 a;
	char		*p;

	p = long_string("/", 'a', PATH_MAX_LEN - 1);	/* PATH_MAX_LEN */
	route("GET", p, NULL, &a);
	ck_assert_int_eq(a.status, 404);
	free(p);
}
END_TEST

START_TEST(route_request_uri_too_long)
{
	struct answer	 a;
	char		*p;

	p = long_string("/", 'a', PATH_MAX_LEN);
	route("GET", "", p, &a);
	ck_assert_int_eq(a.status, 414);
	free(p);
}
END_TEST

START_TEST(route_request_uri_long_query_ok)
{
	struct answer	 a;
	char		*p;

	p = long_string("/_ping?", 'q', 4 * PATH_MAX_LEN);
	route("GET", "", p, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_PING);
	free(p);
}
END_TEST

START_TEST(decode_plain_and_escapes)
{
	char out[32];

	ck_assert_int_eq(path_decode("%41b", out, sizeof(out)), 2);
	ck_assert_str_eq(out, "Ab");
	ck_assert_int_eq(path_decode("/%5f%2Fx", out, sizeof(out)), 4);
	ck_assert_str_eq(out, "/_/x");
	ck_assert_int_eq(path_decode("", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(decode_bad_escapes)
{
	char out[32];

	ck_assert_int_eq(path_decode("%zz", out, sizeof(out)), -1);
	ck_assert_int_eq(path_decode("%4", out, sizeof(out)), -1);
	ck_assert_int_eq(path_decode("a%", out, sizeof(out)), -1);
	ck_assert_int_eq(path_decode("%g1", out, sizeof(out)), -1);
	ck_assert_int_eq(path_decode("%00", out, sizeof(out)), -1);
}
END_TEST

START_TEST(decode_buffer_too_small)
{
	char out[8];

	ck_assert_int_eq(path_decode("abc", out, 3), -1);
	ck_assert_int_eq(path_decode("abc", out, 4), 3);
	ck_assert_str_eq(out, "abc");
	ck_assert_int_eq(path_decode("%41%42%43", out, 3), -1);
	ck_assert_int_eq(path_decode("%41%42%43", out, 4), 3);
}
END_TEST

START_TEST(decode_zero_size_writes_nothing)
{
	char out[4] = { 'X', 'X', 'X', 'X' };

	/* Even the empty string needs one byte for its NUL. */
	ck_assert_int_eq(path_decode("", out, 0), -1);
	ck_assert_int_eq(out[0], 'X');
}
END_TEST

/* ---------------------------------------------------- response head */

START_TEST(head_405)
{
	char	buf[512];
	int	n;

	n = response_head(buf, sizeof(buf), 405, 1, 31);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq((size_t)n, strlen(buf));
	ck_assert_int_eq(strncmp(buf, "Status: 405 Method Not Allowed\r\n",
	    32), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nAllow: GET, HEAD\r\n"));
}
END_TEST

START_TEST(head_allow_only_for_405)
{
	static const int st[] = { 200, 400, 404, 414, 503 };
	char	buf[512];
	size_t	i;

	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		ck_assert_int_gt(response_head(buf, sizeof(buf), st[i], 1, 0),
		    0);
		ck_assert_msg(strstr(buf, "Allow:") == NULL, "%d", st[i]);
	}
}
END_TEST

START_TEST(head_common_headers)
{
	char buf[512];

	ck_assert_int_gt(response_head(buf, sizeof(buf), 200, 0, 0), 0);
	ck_assert_int_eq(strncmp(buf, "Status: 200 OK\r\n", 16), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nCache-Control: no-cache\r\n"));
	ck_assert_ptr_nonnull(strstr(buf,
	    "\r\nX-Content-Type-Options: nosniff\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nContent-Length: 0\r\n"));
}
END_TEST

START_TEST(head_content_type_only_when_json)
{
	char buf[512];

	ck_assert_int_gt(response_head(buf, sizeof(buf), 503, 1, 10), 0);
	ck_assert_ptr_nonnull(strstr(buf,
	    "\r\nContent-Type: application/json; charset=utf-8\r\n"));
	ck_assert_int_gt(response_head(buf, sizeof(buf), 200, 0, 0), 0);
	ck_assert_ptr_null(strstr(buf, "\r\nContent-Type:"));
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

START_TEST(status_texts)
{
	ck_assert_str_eq(status_text(200), "OK");
	ck_assert_str_eq(status_text(400), "Bad Request");
	ck_assert_str_eq(status_text(404), "Not Found");
	ck_assert_str_eq(status_text(405), "Method Not Allowed");
	ck_assert_str_eq(status_text(414), "URI Too Long");
	ck_assert_str_eq(status_text(500), "Internal Server Error");
	ck_assert_str_eq(status_text(503), "Service Unavailable");
	ck_assert_str_eq(status_text(999), "Unknown");
}
END_TEST

/* ----------------------------------------------------------- report */

START_TEST(report_db_messages)
{
	ck_assert_str_eq(db_message(DB_UP), "database is up-to-date");
	ck_assert_str_eq(db_message(DB_INIT), "database is initializing");
	ck_assert_str_eq(db_message(DB_MISSING),
	    "database has not been created");
	ck_assert_str_eq(db_message(DB_DOWN), "cannot connect to database");
	ck_assert_str_eq(db_message(DB_UNKNOWN), "unknown error");
}
END_TEST

START_TEST(report_compres_without_reason)
{
	struct compres cr;

	memset(&cr, 0, sizeof(cr));
	compres_set(&cr, 1, "registry is reachable", NULL);
	ck_assert_int_eq(cr.present, 1);
	ck_assert_int_eq(cr.success, 1);
	ck_assert_str_eq(cr.msg, "registry is reachable");
	compres_set(&cr, 0, "clair is not reachable", "");
	ck_assert_int_eq(cr.success, 0);
	ck_assert_str_eq(cr.msg, "clair is not reachable");
}
END_TEST

START_TEST(report_compres_with_reason)
{
	struct compres cr;

	memset(&cr, 0, sizeof(cr));
	compres_set(&cr, 0, "registry is not reachable",
	    "connection refused");
	ck_assert_int_eq(cr.present, 1);
	ck_assert_int_eq(cr.success, 0);
	ck_assert_str_eq(cr.msg,
	    "registry is not reachable: connection refused");
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

START_TEST(report_comp_names)
{
	int c;

	ck_assert_str_eq(comp_name(COMP_DATABASE), "database");
	ck_assert_str_eq(comp_name(COMP_REGISTRY), "registry");
	ck_assert_str_eq(comp_name(COMP_CLAIR), "clair");
	ck_assert_str_eq(comp_name(COMP_LDAP), "ldap");
	for (c = 0; c < COMP__MAX; c++)
		ck_assert_int_eq(comp_from_name(comp_name(c)), c);
}
END_TEST

START_TEST(report_comp_from_unknown)
{
	ck_assert_int_eq(comp_from_name("postgres"), -1);
	ck_assert_int_eq(comp_from_name(""), -1);
	ck_assert_int_eq(comp_from_name("Database"), -1);
}
END_TEST

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

/* ------------------------------------------------------- clair URL */

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

/* Asserts clair_health_url(in, 6061) gives status st and URL want. */
static void
assert_clair_url(const char *in, enum urlstatus st, const char *want)
{
	char		out[512];
	enum urlstatus	got;

	out[0] = '\0';
	got = clair_health_url(in, 6061, out, sizeof(out));
	ck_assert_msg(got == st, "%s: status %d, want %d", in, got, st);
	if (want != NULL)
		ck_assert_msg(strcmp(out, want) == 0, "%s: got %s, want %s",
		    in, out, want);
}

START_TEST(url_port_replaced)
{
	assert_clair_url("http://clair:6060", URL_OK,
	    "http://clair:6061/health");
}
END_TEST

START_TEST(url_scheme_added)
{
	assert_clair_url("clair:6060", URL_ADDED_SCHEME,
	    "http://clair:6061/health");
	assert_clair_url("clair", URL_ADDED_SCHEME,
	    "http://clair:6061/health");
}
END_TEST

START_TEST(url_port_appended_https)
{
	assert_clair_url("https://clair.example.com", URL_OK,
	    "https://clair.example.com:6061/health");
}
END_TEST

START_TEST(url_path_query_fragment_dropped)
{
	assert_clair_url("http://clair:6060/some/path?q=1#f", URL_OK,
	    "http://clair:6061/health");
}
END_TEST

START_TEST(url_bad_scheme)
{
	assert_clair_url("ftp://clair", URL_BAD_SCHEME, NULL);
	assert_clair_url("gopher://clair:70", URL_BAD_SCHEME, NULL);
}
END_TEST

START_TEST(url_ipv6)
{
	assert_clair_url("http://[::1]:6060", URL_OK,
	    "http://[::1]:6061/health");
}
END_TEST

START_TEST(url_invalid)
{
	assert_clair_url("", URL_INVALID, NULL);
	assert_clair_url("http://", URL_INVALID, NULL);
}
END_TEST

START_TEST(url_other_port)
{
	char out[64];

	ck_assert_int_eq(clair_health_url("http://clair", 8080, out,
	    sizeof(out)), URL_OK);
	ck_assert_str_eq(out, "http://clair:8080/health");
}
END_TEST

START_TEST(url_buffer_too_small)
{
	char out[64];

	/* "http://clair:6061/health" is 24 bytes and needs 25. */
	ck_assert_int_eq(clair_health_url("http://clair:6060", 6061, out, 24),
	    URL_INVALID);
	ck_assert_int_eq(clair_health_url("http://clair:6060", 6061, out, 25),
	    URL_OK);
	ck_assert_str_eq(out, "http://clair:6061/health");
}
END_TEST

/* ------------------------------------------------------------ suites */

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("defaults");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, cfg_defaults_security_registry);
	tcase_add_test(tc, cfg_defaults_ldap);
	tcase_add_test(tc, cfg_defaults_health);
	tcase_add_test(tc, cfg_defaults_db);
	tcase_add_test(tc, cfg_defaults_source);
	tcase_add_test(tc, cfg_str_of_freed_is_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, cfg_keyname);
	tcase_add_test(tc, cfg_envname);
	tcase_add_test(tc, cfg_envname_truncates);
	tcase_add_test(tc, cfg_envname_tiny_buffer_stays_inside);
	tcase_add_test(tc, cfg_type_bool);
	tcase_add_test(tc, cfg_type_int);
	tcase_add_test(tc, cfg_type_str);
	tcase_add_test(tc, cfg_strerror);
	suite_add_tcase(s, tc);

	tc = tcase_create("yaml");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, cfg_yaml_nested_override);
	tcase_add_test(tc, cfg_yaml_source_names_file_line);
	tcase_add_test(tc, cfg_yaml_flow_mapping);
	tcase_add_test(tc, cfg_yaml_merge_key);
	tcase_add_test(tc, cfg_yaml_merge_list_first_wins);
	tcase_add_test(tc, cfg_yaml_merge_whole_sections);
	tcase_add_test(tc, cfg_yaml_merge_errors);
	tcase_add_test(tc, cfg_yaml_last_key_wins);
	tcase_add_test(tc, cfg_yaml_dotted_key_is_not_a_path);
	tcase_add_test(tc, cfg_yaml_bool_yes_no_true_false);
	tcase_add_test(tc, cfg_yaml_string_key_keeps_integer_text);
	tcase_add_test(tc, cfg_yaml_quoted_int_is_type_error);
	tcase_add_test(tc, cfg_yaml_wrong_type_names_file_line_key);
	tcase_add_test(tc, cfg_yaml_mapping_for_scalar);
	tcase_add_test(tc, cfg_yaml_list_for_scalar);
	tcase_add_test(tc, cfg_yaml_port_zero_out_of_range);
	tcase_add_test(tc, cfg_yaml_port_70000_out_of_range);
	tcase_add_test(tc, cfg_yaml_port_bounds_accepted);
	tcase_add_test(tc, cfg_yaml_negative_timeout_out_of_range);
	tcase_add_test(tc, cfg_yaml_cache_ttl_zero_accepted);
	tcase_add_test(tc, cfg_yaml_broken_names_line_col);
	tcase_add_test(tc, cfg_yaml_unclosed_flow_is_yaml_error);
	tcase_add_test(tc, cfg_yaml_top_level_list);
	tcase_add_test(tc, cfg_yaml_top_level_scalar);
	tcase_add_test(tc, cfg_yaml_empty_document);
	tcase_add_test(tc, cfg_yaml_unknown_keys_ignored);
	tcase_add_test(tc, cfg_yaml_db_keys_ignored);
	tcase_add_test(tc, cfg_yaml_duplicate_key_last_wins);
	tcase_add_test(tc, cfg_yaml_alias_resolves);
	tcase_add_test(tc, cfg_yaml_billion_laughs);
	tcase_add_test(tc, cfg_yaml_laughs_into_scalar_key);
	tcase_add_test(tc, cfg_yaml_self_alias_terminates);
	tcase_add_test(tc, cfg_yaml_null_for_int_is_type_error);
	tcase_add_test(tc, cfg_yaml_secret_in_file_is_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("env");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, cfg_env_overrides_default);
	tcase_add_test(tc, cfg_env_overrides_yaml);
	tcase_add_test(tc, cfg_env_string_key_keeps_text);
	tcase_add_test(tc, cfg_env_bad_int);
	tcase_add_test(tc, cfg_env_bad_bool);
	tcase_add_test(tc, cfg_env_out_of_range);
	tcase_add_test(tc, cfg_env_negative_timeout);
	tcase_add_test(tc, cfg_env_name_prefix_only_ignored);
	tcase_add_test(tc, cfg_env_null_envp);
	suite_add_tcase(s, tc);

	tc = tcase_create("print");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, cfg_print_masks_passwords);
	tcase_add_test(tc, cfg_print_shows_values_and_sources);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, cfg_file_missing_is_ok);
	tcase_add_test(tc, cfg_file_directory_is_error);
	tcase_add_test(tc, cfg_file_errors_name_the_file);
	tcase_add_test(tc, cfg_load_local_config_path);
	tcase_add_test(tc, cfg_load_default_path_in_cwd);
	tcase_add_test(tc, cfg_load_error_frees);
	tcase_add_test(tc, cfg_load_env_error_after_file);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *
route_suite(void)
{
	Suite	*s = suite_create("route");
	TCase	*tc;

	tc = tcase_create("route");
	tcase_add_test(tc, route_ping_path_info);
	tcase_add_test(tc, route_api_ping_path_info);
	tcase_add_test(tc, route_health_path_info);
	tcase_add_test(tc, route_api_health_path_info);
	tcase_add_test(tc, route_trailing_slash);
	tcase_add_test(tc, route_not_found_path_info);
	tcase_add_test(tc, route_not_found_body_is_json);
	tcase_add_test(tc, route_request_uri_subdir_health);
	tcase_add_test(tc, route_request_uri_subdir_api_ping);
	tcase_add_test(tc, route_request_uri_fragment_dropped);
	tcase_add_test(tc, route_request_uri_percent_decoded);
	tcase_add_test(tc, route_request_uri_nul_escape);
	tcase_add_test(tc, route_request_uri_bad_escape);
	tcase_add_test(tc, route_request_uri_segment_boundary);
	tcase_add_test(tc, route_path_info_wins);
	tcase_add_test(tc, route_no_path_at_all);
	tcase_add_test(tc, route_head);
	tcase_add_test(tc, route_other_methods_405);
	tcase_add_test(tc, route_bad_methods_400);
	tcase_add_test(tc, route_path_info_too_long);
	tcase_add_test(tc, route_path_info_at_limit);
	tcase_add_test(tc, route_request_uri_too_long);
	tcase_add_test(tc, route_request_uri_long_query_ok);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_test(tc, decode_plain_and_escapes);
	tcase_add_test(tc, decode_bad_escapes);
	tcase_add_test(tc, decode_buffer_too_small);
	tcase_add_test(tc, decode_zero_size_writes_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("head");
	tcase_add_test(tc, head_405);
	tcase_add_test(tc, head_allow_only_for_405);
	tcase_add_test(tc, head_common_headers);
	tcase_add_test(tc, head_content_type_only_when_json);
	tcase_add_test(tc, head_content_length);
	tcase_add_test(tc, head_ends_with_blank_line);
	tcase_add_test(tc, head_buffer_too_small);
	tcase_add_test(tc, status_texts);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *
report_suite(void)
{
	Suite	*s = suite_create("report");
	TCase	*tc;

	tc = tcase_create("messages");
	tcase_add_test(tc, report_db_messages);
	tcase_add_test(tc, report_compres_without_reason);
	tcase_add_test(tc, report_compres_with_reason);
	tcase_add_test(tc, report_compres_truncates);
	tcase_add_test(tc, report_comp_names);
	tcase_add_test(tc, report_comp_from_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, report_json_spec_example);
	tcase_add_test(tc, report_json_absent_left_out);
	tcase_add_test(tc, report_json_fixed_order);
	tcase_add_test(tc, report_json_escapes);
	tcase_add_test(tc, report_json_slash_not_escaped);
	tcase_add_test(tc, report_json_pretty_same_object);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *
url_suite(void)
{
	Suite	*s = suite_create("url");
	TCase	*tc;

	tc = tcase_create("clair");
	tcase_add_unchecked_fixture(tc, url_setup, url_teardown);
	tcase_add_test(tc, url_port_replaced);
	tcase_add_test(tc, url_scheme_added);
	tcase_add_test(tc, url_port_appended_https);
	tcase_add_test(tc, url_path_query_fragment_dropped);
	tcase_add_test(tc, url_bad_scheme);
	tcase_add_test(tc, url_ipv6);
	tcase_add_test(tc, url_invalid);
	tcase_add_test(tc, url_other_port);
	tcase_add_test(tc, url_buffer_too_small);
	suite_add_tcase(s, tc);
	return s;
}

/* health.allow: CIDR ranges, IPv4 and IPv6 kept apart. */

/* allowed_by RANGES IP: load RANGES as health.allow, test IP. */
static int
allowed_by(const char *ranges, const char *ip)
{
	struct config	 c;
	char		*envp[2], var[256], e[256];
	int		 r;

	snprintf(var, sizeof(var), "PORTUS_HEALTH_ALLOW=%s", ranges);
	envp[0] = var;
	envp[1] = NULL;
	ck_assert_int_eq(config_init(&c), CONF_OK);
	ck_assert_int_eq(config_apply_env(&c, envp, e, sizeof(e)),
	    CONF_OK);
	r = net_allowed(&c, ip);
	config_free(&c);
	return r;
}

START_TEST(allow_empty_is_everyone)
{
	ck_assert_int_eq(allowed_by("", "203.0.113.9"), 1);
	ck_assert_int_eq(allowed_by("", NULL), 1);
}
END_TEST

START_TEST(allow_ipv4_ranges)
{
	ck_assert_int_eq(allowed_by("10.0.0.0/8", "10.255.1.2"), 1);
	ck_assert_int_eq(allowed_by("10.0.0.0/8", "11.0.0.1"), 0);
	ck_assert_int_eq(allowed_by("192.168.1.128/25", "192.168.1.200"), 1);
	ck_assert_int_eq(allowed_by("192.168.1.128/25", "192.168.1.127"), 0);
	ck_assert_int_eq(allowed_by("127.0.0.1", "127.0.0.1"), 1);
	ck_assert_int_eq(allowed_by("127.0.0.1", "127.0.0.2"), 0);
	ck_assert_int_eq(allowed_by("0.0.0.0/0", "198.51.100.1"), 1);
}
END_TEST

START_TEST(allow_ipv6_ranges)
{
	ck_assert_int_eq(allowed_by("2001:db8::/32", "2001:db8:1::5"), 1);
	ck_assert_int_eq(allowed_by("2001:db8::/32", "2001:db9::5"), 0);
	ck_assert_int_eq(allowed_by("::1", "::1"), 1);
	ck_assert_int_eq(allowed_by("fe80::/10", "febf::1"), 1);
	ck_assert_int_eq(allowed_by("fe80::/10", "fec0::1"), 0);
}
END_TEST

START_TEST(allow_families_apart)
{
	/* ::/0 is every IPv6 client, no IPv4 one; a mapped client is IPv4. */
	ck_assert_int_eq(allowed_by("::/0", "127.0.0.1"), 0);
	ck_assert_int_eq(allowed_by("0.0.0.0/0", "::1"), 0);
	ck_assert_int_eq(allowed_by("127.0.0.0/8", "::ffff:127.0.0.5"), 1);
	ck_assert_int_eq(allowed_by("::ffff:10.0.0.0/104", "10.9.9.9"), 1);
}
END_TEST

START_TEST(allow_lists_and_bad_clients)
{
	ck_assert_int_eq(allowed_by("10.0.0.0/8, ::1 192.0.2.1", "192.0.2.1"),
	    1);
	ck_assert_int_eq(allowed_by("10.0.0.0/8,::1", "::1"), 1);
	ck_assert_int_eq(allowed_by("10.0.0.0/8", NULL), 0);
	ck_assert_int_eq(allowed_by("10.0.0.0/8", "not-an-address"), 0);
	ck_assert_int_eq(allowed_by("10.0.0.0/8", ""), 0);
}
END_TEST

START_TEST(allow_bad_ranges_rejected)
{
	struct net	 n;
	static const char *const bad[] = { "10.0.0.0/33", "::1/129", "10.0.0/8",
	    "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "host.example", "",
	    "::ffff:10.0.0.0/95", "1.2.3.4/8/8",
	    "::ffff:0:0/-99999999999999999999", "10.0.0.0/+8", "10.0.0.0/ 8",
	    "10.0.0.0/0008" };
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(net_parse(bad[i], &n) == -1, "%s accepted",
		    bad[i]);
	ck_assert_int_eq(net_parse("10.0.0.0/8", &n), 0);
	ck_assert_int_eq(n.family, 4);
	ck_assert_int_eq(n.prefix, 104);
}
END_TEST

START_TEST(route_dot_segments_400)
{
	struct reqinfo	 ri = { "GET", NULL, "/portus/../_ping", NULL, NULL };
	struct answer	 a;

	request_route(&ri, &a);
	ck_assert_int_eq(a.status, 400);
	ri.request_uri = "/portus/%2e/_health";
	request_route(&ri, &a);
	ck_assert_int_eq(a.status, 400);
	ri.request_uri = "/portus/.well/_ping";
	request_route(&ri, &a);
	ck_assert_int_eq(a.status, 200);
}
END_TEST

START_TEST(allow_turns_health_into_403)
{
	struct config	 c;
	struct reqinfo	 ri = { "GET", "/_health", NULL, NULL, NULL };
	struct answer	 a;
	char		 var[] = "PORTUS_HEALTH_ALLOW=10.0.0.0/8";
	char		*envp[] = { var, NULL };
	char		 e[256];

	ck_assert_int_eq(config_init(&c), CONF_OK);
	ck_assert_int_eq(config_apply_env(&c, envp, e, sizeof(e)),
	    CONF_OK);
	request_route(&ri, &a);
	request_allow(&c, "192.0.2.1", &a);
	ck_assert_int_eq(a.status, 403);
	ck_assert_str_eq(a.body, "{\"error\":\"forbidden\"}");
	ri.path_info = "/_ping";
	request_route(&ri, &a);
	request_allow(&c, "192.0.2.1", &a);
	ck_assert_int_eq(a.status, 200);
	config_free(&c);
}
END_TEST

static Suite *
allow_suite(void)
{
	Suite	*s = suite_create("allow");
	TCase	*tc;

	tc = tcase_create("allow");
	tcase_add_test(tc, allow_empty_is_everyone);
	tcase_add_test(tc, allow_ipv4_ranges);
	tcase_add_test(tc, allow_ipv6_ranges);
	tcase_add_test(tc, allow_families_apart);
	tcase_add_test(tc, allow_lists_and_bad_clients);
	tcase_add_test(tc, allow_bad_ranges_rejected);
	tcase_add_test(tc, allow_turns_health_into_403);
	tcase_add_test(tc, route_dot_segments_400);
	suite_add_tcase(s, tc);
	return s;
}

/* Per-component routes, exclude, formats, metrics. */

/* routeq: like route, with a query string and an Accept header. */
static void
routeq(const char *path_info, const char *request_uri, const char *query,
    const char *accept, struct answer *a)
{
	struct reqinfo ri = { "GET", path_info, request_uri, query, accept };

	request_route(&ri, a);
}

START_TEST(route_component)
{
	struct answer a;

	routeq("/_health/database", NULL, NULL, NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(a.route, ROUTE_HEALTH);
	ck_assert_int_eq(a.comp, COMP_DATABASE);
	routeq("/api/v1/health/clair/", NULL, NULL, NULL, &a);
	ck_assert_int_eq(a.comp, COMP_CLAIR);
	routeq("", "/portus/_health/registry?x=1", NULL, NULL, &a);
	ck_assert_int_eq(a.comp, COMP_REGISTRY);
	routeq("/_health", NULL, NULL, NULL, &a);
	ck_assert_int_eq(a.comp, -1);
	routeq("/_health/nosuch", NULL, NULL, NULL, &a);
	ck_assert_int_eq(a.status, 404);
	ck_assert_str_eq(a.body, "{\"error\":\"unknown component\"}");
	routeq("/_health/database/x", NULL, NULL, NULL, &a);
	ck_assert_int_eq(a.status, 404);
	routeq("/_ping/database", NULL, NULL, NULL, &a);
	ck_assert_int_eq(a.status, 404);
	ck_assert_str_eq(a.body, "{\"error\":\"not found\"}");
}
END_TEST

START_TEST(route_exclude)
{
	struct answer a;

	routeq("/_health", NULL, "exclude=clair", NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_uint_eq(a.exclude, 1u << COMP_CLAIR);
	routeq("/_health", NULL, "a=1&exclude=clair,registry&exclude=database",
	    NULL, &a);
	ck_assert_uint_eq(a.exclude, 1u << COMP_CLAIR | 1u << COMP_REGISTRY |
	    1u << COMP_DATABASE);
	routeq("/_health", NULL, "exclude=clair%2Cregistry", NULL, &a);
	ck_assert_uint_eq(a.exclude, 1u << COMP_CLAIR | 1u << COMP_REGISTRY);
	routeq("", "/_health?exclude=registry", NULL, NULL, &a);
	ck_assert_uint_eq(a.exclude, 1u << COMP_REGISTRY);
	routeq("/_health", NULL, "exclude=bogus", NULL, &a);
	ck_assert_int_eq(a.status, 400);
	routeq("/_health", NULL, "exclude=", NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_uint_eq(a.exclude, 0);
	routeq("/_ping", NULL, "exclude=bogus", NULL, &a);
	ck_assert_int_eq(a.status, 200);
}
END_TEST

START_TEST(route_formats)
{
	struct answer a;

	routeq("/_health", NULL, NULL, NULL, &a);
	ck_assert_int_eq(a.format, FMT_PORTUS);
	routeq("/_health", NULL, NULL, "*/*", &a);
	ck_assert_int_eq(a.format, FMT_PORTUS);
	routeq("/_health", NULL, NULL, "application/health+json", &a);
	ck_assert_int_eq(a.format, FMT_HEALTH_JSON);
	routeq("/_health", NULL, NULL, "text/html,application/xhtml+xml,"
	    "application/xml;q=0.9,*/*;q=0.8", &a);
	ck_assert_int_eq(a.format, FMT_HTML);
	routeq("/_health", NULL, NULL, "application/json, text/html", &a);
	ck_assert_int_eq(a.format, FMT_PORTUS);
	routeq("/_metrics", NULL, NULL, NULL, &a);
	ck_assert_int_eq(a.route, ROUTE_METRICS);
	ck_assert_int_eq(a.status, 200);
}
END_TEST

/* A result with the three components filled in. */
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
	ck_assert(json_object_object_get_ex(o, "status", &v));
	ck_assert_str_eq(json_object_get_string(v), "fail");
	ck_assert(json_object_object_get_ex(o, "checks", &c));
	ck_assert(json_object_object_get_ex(c, "database:responseTime", &v));
	v = json_object_array_get_idx(v, 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v,
	    "componentType")), "datastore");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v,
	    "observedUnit")), "ms");
	ck_assert(json_object_get_double(json_object_object_get(v,
	    "observedValue")) == 1.5);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v,
	    "time")), "2026-11-24T03:09:37Z");
	ck_assert(!json_object_object_get_ex(v, "output", NULL));
	ck_assert(json_object_object_get_ex(c, "registry:responseTime", &v));
	v = json_object_array_get_idx(v, 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(v,
	    "output")), "registry is not reachable: connection refused");
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
	ck_assert_ptr_nonnull(strstr(s, "<tr id=\"registry\"><td>registry</td>"
	    "<td class=\"state down\">down</td>"));
	/* Messages are escaped; nothing external, no script. */
	ck_assert_ptr_nonnull(strstr(s, "clair &lt;is&gt; reachable &amp; "
	    "&quot;ok&quot;"));
	ck_assert_ptr_null(strstr(s, "<script"));
	ck_assert_ptr_null(strstr(s, "http://"));
	ck_assert_ptr_null(strstr(s, "https://"));
	free(s);
}
END_TEST

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
	ck_assert_ptr_nonnull(strstr(s, "# TYPE portus_health_up gauge\n"
	    "portus_health_up{component=\"database\"} 1\n"
	    "portus_health_up{component=\"registry\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(s, "portus_health_check_duration_seconds"
	    "{component=\"database\"} 0.001500\n"));
	ck_assert_ptr_nonnull(strstr(s, "portus_health_check_timestamp_seconds"
	    "{component=\"clair\"} 1795489777.250\n"));
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

static Suite *
formats_suite(void)
{
	Suite	*s = suite_create("formats");
	TCase	*tc;

	tc = tcase_create("formats");
	tcase_add_test(tc, route_component);
	tcase_add_test(tc, route_exclude);
	tcase_add_test(tc, route_formats);
	tcase_add_test(tc, render_health_json_format);
	tcase_add_test(tc, render_portus_subset);
	tcase_add_test(tc, render_html_page);
	tcase_add_test(tc, render_metrics_text);
	suite_add_tcase(s, tc);
	return s;
}

/* ------------------------------------------------------- ldap starttls */

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

START_TEST(starttls_parse_answers)
{
	/* The go-ahead with the optional responseName. */
	static const unsigned char named[] = {
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
	unsigned char	buf[64];
	int		code = -1;

	ck_assert_int_eq(starttls_parse(tls_yes, sizeof(tls_yes), &code),
	    sizeof(tls_yes));
	ck_assert_int_eq(code, 0);
	ck_assert_int_eq(starttls_parse(tls_no, sizeof(tls_no), &code),
	    sizeof(tls_no));
	ck_assert_int_eq(code, 2);
	ck_assert_int_eq(starttls_parse(named, sizeof(named), &code),
	    sizeof(named));
	ck_assert_int_eq(code, 0);
	ck_assert_int_eq(starttls_parse(bye0, sizeof(bye0), &code),
	    sizeof(bye0));
	ck_assert_int_eq(code, 80);
	ck_assert_int_eq(starttls_parse(bye52, sizeof(bye52), &code), 14);
	ck_assert_int_eq(code, 52);
	/* Bytes after the message are not part of it. */
	memcpy(buf, tls_yes, sizeof(tls_yes));
	memcpy(buf + sizeof(tls_yes), "\x16\x03\x01", 3);
	ck_assert_int_eq(starttls_parse(buf, sizeof(tls_yes) + 3, &code),
	    sizeof(tls_yes));
}
END_TEST

START_TEST(starttls_parse_partial)
{
	size_t	i;
	int	code;

	/* Every prefix of a valid answer asks for more. */
	for (i = 0; i < sizeof(tls_yes); i++)
		ck_assert_msg(starttls_parse(tls_yes, i, &code) == 0,
		    "prefix %zu", i);
	for (i = 0; i < sizeof(tls_no); i++)
		ck_assert_msg(starttls_parse(tls_no, i, &code) == 0,
		    "prefix %zu", i);
}
END_TEST

START_TEST(starttls_parse_rejects)
{
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
	size_t	i;
	int	code;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(starttls_parse((const unsigned char *)bad[i].b,
		    bad[i].len, &code) == -1, "%s accepted", bad[i].name);
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

	/* A peer that never answers: the deadline, not a hang. */
	peer_start(&p, &t, &sin, NULL, 0);
	start = mono_now();
	ck_assert_int_eq(relay_open((struct sockaddr *)&sin, sizeof(sin),
	    mono_now() + 0.3, &r, &fd, &lsin, &code), TLS_TIMEOUT);
	ck_assert_double_lt(mono_now() - start, 2.0);
	ck_assert_double_ge(mono_now() - start, 0.29);
	pthread_join(t, NULL);
	close(p.lst);

	/* Nobody listening. */
	ck_assert_int_eq(relay_open((struct sockaddr *)&sin, sizeof(sin),
	    mono_now() + 5, &r, &fd, &lsin, &code), TLS_REFUSED);
	ck_assert_str_eq(starttls_strerror(TLS_REFUSED), "connection refused");
	ck_assert_str_eq(starttls_strerror(TLS_NOT_LDAP),
	    "not an LDAP server");
}
END_TEST

static Suite *
ldap_suite(void)
{
	Suite	*s = suite_create("ldap");
	TCase	*tc;

	tc = tcase_create("starttls");
	tcase_add_test(tc, starttls_parse_answers);
	tcase_add_test(tc, starttls_parse_partial);
	tcase_add_test(tc, starttls_parse_rejects);
	tcase_add_test(tc, relay_carries_bytes);
	tcase_add_test(tc, relay_refused_and_silent);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	plog_set_level(PL_ERROR);	/* the YAML tests warn on purpose */
	sr = srunner_create(config_suite());
	srunner_add_suite(sr, route_suite());
	srunner_add_suite(sr, report_suite());
	srunner_add_suite(sr, url_suite());
	srunner_add_suite(sr, allow_suite());
	srunner_add_suite(sr, formats_suite());
	srunner_add_suite(sr, ldap_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
