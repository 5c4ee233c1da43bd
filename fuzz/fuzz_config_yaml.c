/*
 * libFuzzer driver for the configuration file surface: each input is the
 * text of a config-local.yml, applied over the defaults with
 * config_load_yaml() and then printed as --print-config prints it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Unknown-key warnings would flood stderr and slow the run down. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	plog_set_level(PL_ERROR);
	return 0;
}

/*
 * Checks what config_print wrote: one header line and one line per key
 * (values are made printable, so no input can add lines), and the
 * secret is either empty or masked.
 */
static void
check_print(const char *out, size_t len)
{
	const char	*p, *pw = "\nldap.authentication.password ";
	size_t		 lines = 0, i;

	for (i = 0; i < len; i++)
		if (out[i] == '\n')
			lines++;
	if (lines != K__MAX + 1 || strlen(out) != len)
		abort();
	if ((p = strstr(out, pw)) == NULL)
		abort();
	/* The value column starts after the key padded to 34 and a space. */
	p += 1 + 35;
	if (strncmp(p, "\"\" ", 3) != 0 && strncmp(p, "\"********\" ", 11) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 cfg;
	enum cstatus	 st;
	char		 err[256], *out = NULL;
	size_t		 outlen = 0;
	FILE		*fp;

	if (config_init(&cfg) != CONF_OK)
		return 0;
	err[0] = '\0';
	st = config_load_yaml(&cfg, (const char *)data, size, "fuzz.yml",
	    err, sizeof(err));
	/* Every failure says why, in a terminated message. */
	if (st != CONF_OK && (err[0] == '\0' ||
	    memchr(err, '\0', sizeof(err)) == NULL))
		abort();
	if ((fp = open_memstream(&out, &outlen)) != NULL) {
		config_print(&cfg, fp);
		if (fclose(fp) == 0)
			check_print(out, outlen);
		free(out);
	}
	config_free(&cfg);
	return 0;
}
