/*
 * src/sha256.c: the digest that names a shared result, against the
 * test vectors of FIPS 180-2, fed whole and in pieces of every size.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static const struct {
	const char	*in;
	size_t		 repeat;
	const char	*hex;
} vectors[] = {
	{ "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

/* Returns the hex digest of vectors[i], fed in pieces of step bytes. */
static void
digest(int i, size_t step, char *hex)
{
	struct sha256	 c;
	unsigned char	 md[32];
	char		*all;
	size_t		 n = strlen(vectors[i].in) * vectors[i].repeat, o, j;

	ck_assert_ptr_nonnull(all = malloc(n + 1));
	for (j = 0; j < vectors[i].repeat; j++)
		memcpy(all + j * strlen(vectors[i].in), vectors[i].in,
		    strlen(vectors[i].in));
	sha256_init(&c);
	for (o = 0; o < n; o += step)
		sha256_update(&c, all + o, n - o < step ? n - o : step);
	sha256_final(&c, md);
	for (j = 0; j < 32; j++)
		snprintf(hex + 2 * j, 3, "%02x", md[j]);
	free(all);
}

START_TEST(sha256_vectors)
{
	static const size_t steps[] = { 1, 3, 55, 56, 63, 64, 65, 1000000 };
	char	 hex[65];
	size_t	 s;

	for (s = 0; s < NELEM(steps); s++) {
		digest(_i, steps[s], hex);
		ck_assert_msg(strcmp(hex, vectors[_i].hex) == 0,
		    "vector %d in pieces of %zu: %s", _i, steps[s], hex);
	}
}
END_TEST

Suite *
sha256_suite(void)
{
	Suite	*s = suite_create("sha256");
	TCase	*tc = tcase_create("vectors");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, sha256_vectors, 0, (int)NELEM(vectors));
	suite_add_tcase(s, tc);
	return s;
}
