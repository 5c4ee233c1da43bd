/*
 * libFuzzer driver for the one thing portus-health reads from an LDAP
 * server itself: the answer to STARTTLS (starttls_parse()).  Checks the
 * contract of its return value and that the length it reports is that of
 * a complete message: parsing exactly those bytes gives the same answer,
 * and one byte fewer asks for more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*copy;
	long		 n, again;
	int		 code = -1, code2 = -1;

	/* An exact-size copy, so that ASan sees any read past the end. */
	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	n = starttls_parse(copy, size, &code);
	if (n < -1 || n > (long)size)
		abort();
	if (n > 0) {
		if (code < 0)
			abort();
		again = starttls_parse(copy, (size_t)n, &code2);
		if (again != n || code2 != code)
			abort();
		if (starttls_parse(copy, (size_t)n - 1, &code2) != 0)
			abort();
	}
	free(copy);
	return 0;
}
