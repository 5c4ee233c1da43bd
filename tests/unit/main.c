/*
 * The unit tests of portus-health: one file per module of src/, one
 * suite each (tests/unit/config.c tests src/config.c, and so on), all
 * run here by one runner, so that Check prints one "Checks: N,
 * Failures: N, Errors: N" line.  The helpers they share are below.
 *
 * Build and run: make tests/unit/unit && tests/unit/unit
 */
#include <sys/stat.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

struct config	 cfg;
char		 emsg[512];
static char	 tmpbase[32];	/* the run's temporary directories */

void
config_setup(void)
{
	ck_assert_int_eq(config_init(&cfg), CONF_OK);
	emsg[0] = '\0';
}

void
config_teardown(void)
{
	config_free(&cfg);
}

/* Starts cfg again from the defaults, within one test. */
void
config_reset(void)
{
	config_teardown();
	config_setup();
}

/* Loads the YAML text y over cfg, as if it were the file YNAME. */
enum cstatus
yaml(const char *y)
{
	return config_load_yaml(&cfg, y, strlen(y), YNAME, emsg, sizeof(emsg));
}

/* Applies the NULL-terminated environment envp over cfg. */
enum cstatus
env(char *const *envp)
{
	return config_apply_env(&cfg, envp, emsg, sizeof(emsg));
}

/* Makes cfg anew with config_load from the environment envp. */
enum cstatus
load(char *const *envp)
{
	config_free(&cfg);
	return config_load(&cfg, envp, emsg, sizeof(emsg));
}

/* Removes one file or directory met walking the temporary directories. */
static int
remove_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Makes a private temporary directory in the run's, which the runner
 * removes at its end (Check ends a failed test before it could); dir
 * must hold 64 bytes. */
void
tmpdir_make(char *dir)
{
	snprintf(dir, 64, "%s/t.XXXXXX", tmpbase);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Writes text to dir/name; the full path goes to path (PATH_MAX). */
void
tmpfile_write(const char *dir, const char *name, const char *text,
    char *path)
{
	FILE *fp;

	snprintf(path, PATH_MAX, "%s/%s", dir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Returns config_print's output of cfg; the caller frees it. */
char *
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
void
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

static int	 log_saved = -1, log_fd = -1;

/* Sends what plog writes (standard error) to an unnamed temporary file,
 * warnings included, until log_end. */
void
log_start(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/ph-unit-log.XXXXXX");
	ck_assert_int_ge(log_fd = mkstemp(path), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_ge(log_saved = dup(STDERR_FILENO), 0);
	ck_assert_int_eq(dup2(log_fd, STDERR_FILENO), STDERR_FILENO);
	plog_set_level(PL_WARN);
}

/* Returns what was logged since log_start (to free) and puts standard
 * error back. */
char *
log_end(void)
{
	struct stat	 sb;
	char		*buf;

	plog_set_level(PL_ERROR);
	ck_assert_int_eq(dup2(log_saved, STDERR_FILENO), STDERR_FILENO);
	close(log_saved);
	ck_assert_int_eq(fstat(log_fd, &sb), 0);
	ck_assert_ptr_nonnull(buf = malloc((size_t)sb.st_size + 1));
	ck_assert_int_eq(pread(log_fd, buf, (size_t)sb.st_size, 0),
	    sb.st_size);
	buf[sb.st_size] = '\0';
	close(log_fd);
	return buf;
}

/* Returns a string of n copies of c after prefix; the caller frees it. */
char *
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
const char *
json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	plog_set_level(PL_ERROR);	/* the YAML tests warn on purpose */
	snprintf(tmpbase, sizeof(tmpbase), "/tmp/ph-unit.XXXXXX");
	if (mkdtemp(tmpbase) == NULL) {
		perror(tmpbase);
		return EXIT_FAILURE;
	}
	sr = srunner_create(config_suite());
	srunner_add_suite(sr, route_suite());
	srunner_add_suite(sr, allow_suite());
	srunner_add_suite(sr, report_suite());
	srunner_add_suite(sr, component_suite());
	srunner_add_suite(sr, url_suite());
	srunner_add_suite(sr, ldap_suite());
	srunner_add_suite(sr, fcgi_suite());
	srunner_add_suite(sr, sha256_suite());
	srunner_add_suite(sr, cache_suite());
	srunner_add_suite(sr, registry_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(tmpbase, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
