/*
 * libFuzzer driver for the environment surface: the input is a list of
 * "NAME=VALUE" strings separated by NUL or newline bytes, handed to
 * config_apply_env() as envp; every value is also typed on its own with
 * config_type_value() and read by ruby_integer(), which must agree with
 * strtol() on plain decimal numbers.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define ENV_MAX	64	/* strings per input; the rest is ignored */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 cfg;
	enum cstatus	 st;
	enum ctype	 t;
	char		*buf, *envp[ENV_MAX + 1], *val, *end, err[256];
	size_t		 i, n = 0;
	long		 iv, ref;
	int		 r;

	/* One copy, cut in place: each separator becomes a terminator. */
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	envp[n++] = buf;
	for (i = 0; i < size && n < ENV_MAX; i++)
		if (buf[i] == '\n' || buf[i] == '\0') {
			buf[i] = '\0';
			envp[n++] = buf + i + 1;
		}
	envp[n] = NULL;

	for (i = 0; i < n; i++) {
		val = strchr(envp[i], '=');
		val = val != NULL ? val + 1 : envp[i];
		iv = -1;
		t = config_type_value(val, &iv);
		if (t == CT_BOOL && iv != 0 && iv != 1)
			abort();
		/* "123", "-45": no prefix, no leading zero, no blank. */
		if (val[0] == '\0' || val[0] == '0' || (val[0] == '-' &&
		    (val[1] == '0' || val[1] == '\0')) ||
		    strspn(val + (val[0] == '-'), "0123456789") !=
		    strlen(val + (val[0] == '-')))
			continue;
		errno = 0;
		ref = strtol(val, &end, 10);
		r = ruby_integer(val, &iv);
		if (errno == ERANGE ? r != -1 : (r != 1 || iv != ref))
			abort();
	}

	if (config_init(&cfg) == CONF_OK) {
		err[0] = '\0';
		st = config_apply_env(&cfg, envp, err, sizeof(err));
		/* Every failure says why, in a terminated message. */
		if (st != CONF_OK && (err[0] == '\0' ||
		    memchr(err, '\0', sizeof(err)) == NULL))
			abort();
		config_free(&cfg);
	}
	free(buf);
	return 0;
}
