/*
 * src/check_registry.c: what the registry writes that the check reads,
 * the service its WWW-Authenticate challenge names and the first error
 * of its JSON error body.  The first cases of each table are what
 * Debian's docker-registry answers.
 */
#include <string.h>

#include "unit.h"

#define REALM	"realm=\"http://127.0.0.1:1/auth\""

static const struct {
	const char	*name;
	const char	*h;
	size_t		 sz;	/* of the output buffer */
	const char	*want;	/* NULL: refused */
} challenges[] = {
	{ "GET /v2/", "Bearer " REALM ",service=\"registry.test\"", 256,
	    "registry.test" },
	{ "the catalog", "Bearer " REALM ",service=\"registry.test\","
	    "scope=\"registry:catalog:*\"", 256, "registry.test" },
	{ "an invalid token", "Bearer " REALM ",service=\"registry.test\","
	    "scope=\"registry:catalog:*\",error=\"invalid_token\"", 256,
	    "registry.test" },
	{ "Docker Hub", "Bearer realm=\"https://auth.docker.io/token\","
	    "service=\"registry.docker.io\"", 256, "registry.docker.io" },
	{ "unquoted, last", "Bearer " REALM ",service=registry.test:5000",
	    256, "registry.test:5000" },
	{ "unquoted, first", "Bearer service=registry.test:5000, " REALM,
	    256, "registry.test:5000" },
	{ "quoted, first", "Bearer service=\"registry.test\"," REALM, 256,
	    "registry.test" },
	{ "names in any case",
	    "bearer Realm=\"x\", SERVICE = \"registry.test\"", 256,
	    "registry.test" },
	{ "a comma inside the realm's quotes",
	    "Bearer realm=\"https://p.test/token,service=evil\","
	    "service=\"registry.test\"", 256, "registry.test" },
	{ "an escaped quote inside the realm's quotes",
	    "Bearer realm=\"a\\\",service=evil\",service=\"registry.test\"",
	    256, "registry.test" },
	/* Refused. */
	{ "Basic", "Basic realm=\"Registry Realm\"", 256, NULL },
	{ "Bearer alone", "Bearer", 256, NULL },
	{ "no parameters", "Bearer ", 256, NULL },
	{ "a token68", "Bearer dG9rZW4=", 256, NULL },
	{ "no service", "Bearer " REALM ",scope=\"registry:catalog:*\"", 256,
	    NULL },
	{ "xservice is not service", "Bearer " REALM ",xservice=\"evil\"",
	    256, NULL },
	{ "service only inside quotes",
	    "Bearer realm=\"https://p.test/token,service=evil\"", 256, NULL },
	{ "an empty service", "Bearer " REALM ",service=\"\"", 256, NULL },
	{ "an empty unquoted service", "Bearer " REALM ",service=", 256,
	    NULL },
	{ "an unterminated quote", "Bearer " REALM ",service=\"registry.test",
	    256, NULL },
	{ "no comma between", "Bearer " REALM "service=\"registry.test\"",
	    256, NULL },
	{ "a backslash", "Bearer service=\"registry\\.test\"", 256, NULL },
	{ "a quote in a token", "Bearer service=regis\"try", 256, NULL },
	/* "registry.test" needs 14 bytes. */
	{ "just fits", "Bearer " REALM ",service=\"registry.test\"", 14,
	    "registry.test" },
	{ "too long", "Bearer " REALM ",service=\"registry.test\"", 13, NULL },
	{ "too long, unquoted", "Bearer service=registry.test", 13, NULL },
};

START_TEST(registry_bearer)
{
	char	out[256];
	int	rc;

	memset(out, 'x', sizeof(out));
	rc = registry_bearer_service(challenges[_i].h, out, challenges[_i].sz);
	if (challenges[_i].want == NULL) {
		ck_assert_msg(rc == -1, "%s: %d, \"%.*s\", want -1",
		    challenges[_i].name, rc, (int)sizeof(out) - 1, out);
		return;
	}
	ck_assert_msg(rc == 0, "%s: %d, want 0", challenges[_i].name, rc);
	ck_assert_msg(strcmp(out, challenges[_i].want) == 0, "%s: \"%s\", "
	    "want \"%s\"", challenges[_i].name, out, challenges[_i].want);
}
END_TEST

static const struct {
	const char	*name;
	const char	*body;
	const char	*code;	/* NULL: none read */
	const char	*msg;
} bodies[] = {
	{ "GET /v2/", "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":"
	    "\"authentication required\",\"detail\":null}]}", "UNAUTHORIZED",
	    "authentication required" },
	{ "the catalog", "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":"
	    "\"authentication required\",\"detail\":[{\"Type\":\"registry\","
	    "\"Class\":\"\",\"Name\":\"catalog\",\"Action\":\"*\"}]}]}",
	    "UNAUTHORIZED", "authentication required" },
	{ "a manifest", "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\","
	    "\"message\":\"manifest unknown\",\"detail\":{\"Tag\":"
	    "\"latest\"}}]}",
	    "MANIFEST_UNKNOWN", "manifest unknown" },
	{ "the first of two", "{\"errors\":[{\"code\":\"DENIED\",\"message\":"
	    "\"requested access to the resource is denied\"},{\"code\":"
	    "\"UNAUTHORIZED\"}]}", "DENIED",
	    "requested access to the resource is denied" },
	{ "no message", "{\"errors\":[{\"code\":\"DENIED\"}]}", "DENIED", "" },
	{ "a message not a string", "{\"errors\":[{\"code\":\"DENIED\","
	    "\"message\":42}]}", "DENIED", "" },
	{ "non-printable made '?'", "{\"errors\":[{\"code\":\"BAD\\u0001CODE"
	    "\\n\",\"message\":\"tab\\there, caf\\u00e9\\u001b[31m\"}]}",
	    "BAD?CODE?", "tab?here, caf???[31m" },
	{ "a NUL ends it", "{\"errors\":[{\"code\":\"DENIED\\u0000MORE\"}]}",
	    "DENIED", "" },
	/* Refused. */
	{ "a catalog", "{\"repositories\":[]}", NULL, NULL },
	{ "no errors", "{}", NULL, NULL },
	{ "no error in errors", "{\"errors\":[]}", NULL, NULL },
	{ "errors an object", "{\"errors\":{\"code\":\"DENIED\"}}", NULL,
	    NULL },
	{ "an error a string", "{\"errors\":[\"DENIED\"]}", NULL, NULL },
	{ "the code a number", "{\"errors\":[{\"code\":401}]}", NULL, NULL },
	{ "not JSON", "404 page not found\n", NULL, NULL },
	{ "HTML", "<html><body>502 Bad Gateway</body></html>", NULL, NULL },
	{ "cut short", "{\"errors\":[{\"code\":\"UNAUTH", NULL, NULL },
	{ "empty", "", NULL, NULL },
};

START_TEST(registry_error)
{
	char	code[48], msg[256];
	int	rc;

	rc = registry_error_code(bodies[_i].body, code, sizeof(code), msg,
	    sizeof(msg));
	if (bodies[_i].code == NULL) {
		ck_assert_msg(rc == -1, "%s: %d, want -1", bodies[_i].name, rc);
		return;
	}
	ck_assert_msg(rc == 0, "%s: %d, want 0", bodies[_i].name, rc);
	ck_assert_msg(strcmp(code, bodies[_i].code) == 0, "%s: code \"%s\", "
	    "want \"%s\"", bodies[_i].name, code, bodies[_i].code);
	ck_assert_msg(strcmp(msg, bodies[_i].msg) == 0, "%s: message \"%s\", "
	    "want \"%s\"", bodies[_i].name, msg, bodies[_i].msg);
}
END_TEST

/* The code and the message are cut to their buffers; none is no room. */
START_TEST(registry_error_sizes)
{
	const char	*body = bodies[0].body;
	char		 code[8], msg[5];

	memset(code, 'x', sizeof(code));
	memset(msg, 'x', sizeof(msg));
	ck_assert_int_eq(registry_error_code(body, code, sizeof(code), msg,
	    sizeof(msg)), 0);
	ck_assert_str_eq(code, "UNAUTHO");
	ck_assert_str_eq(msg, "auth");
	ck_assert_int_eq(registry_error_code(body, code, 1, msg, 1), 0);
	ck_assert_str_eq(code, "");
	ck_assert_str_eq(msg, "");
	memset(code, 'x', sizeof(code));
	ck_assert_int_eq(registry_error_code(body, code, 0, msg,
	    sizeof(msg)), -1);
	ck_assert_int_eq(registry_error_code(body, code, sizeof(code), msg,
	    0), -1);
	ck_assert_int_eq(code[0], 'x');
}
END_TEST

Suite *
registry_suite(void)
{
	Suite	*s = suite_create("registry");
	TCase	*tc;

	tc = tcase_create("answers");
	tcase_add_loop_test(tc, registry_bearer, 0, NELEM(challenges));
	tcase_add_loop_test(tc, registry_error, 0, NELEM(bodies));
	tcase_add_test(tc, registry_error_sizes);
	suite_add_tcase(s, tc);
	return s;
}
