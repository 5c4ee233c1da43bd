/*
 * libFuzzer driver for the environment surface: the input is a list of
 * "NAME=VALUE" strings separated by NUL or newline bytes, handed to
 * config_apply_env() as envp; every value is also typed on its own with
 * config_type_value().
 */
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
	char		*buf, *envp[ENV_MAX + 1], *val, err[256];
	size_t		 i, n = 0;
	long		 iv;

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
