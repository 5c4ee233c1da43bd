/*
 * src/component.c: the components as data: their names and types, the
 * name lookup, which ones a configuration enables (and why not), and
 * what the registry check runs after.
 */
#include <string.h>

#include "unit.h"

#define DB	(1u << COMP_DATABASE)
#define REG	(1u << COMP_REGISTRY)
#define CLAIR	(1u << COMP_CLAIR)
#define LDAP	(1u << COMP_LDAP)
#define PORTUS	(1u << COMP_PORTUS)

static const struct {
	int		 c;
	const char	*name;	/* the document's key */
	const char	*type;	/* IETF componentType */
} names[] = {
	{ COMP_DATABASE, "database", "datastore" },
	{ COMP_REGISTRY, "registry", "component" },
	{ COMP_CLAIR, "clair", "component" },
	{ COMP_LDAP, "ldap", "component" },
	{ COMP_PORTUS, "portus", "system" },
};

START_TEST(comp_names)
{
	int c = names[_i].c;

	ck_assert_str_eq(comp_name(c), names[_i].name);
	ck_assert_str_eq(components[c].type, names[_i].type);
	ck_assert_int_eq(comp_from_name(names[_i].name), c);
}
END_TEST

START_TEST(comp_names_cover_all)
{
	ck_assert_int_eq(NELEM(names), COMP__MAX);
}
END_TEST

static const char *const strangers[] = {
	"postgres", "", "Database", "ldap ", "clai", "registryx",
};

START_TEST(comp_from_unknown)
{
	ck_assert_msg(comp_from_name(strangers[_i]) == -1, "\"%s\" found",
	    strangers[_i]);
}
END_TEST

/* Why a component is not checked, when it is not. */
static const char *const reasons[COMP__MAX] = {
	[COMP_CLAIR] = "security.clair.server is empty",
	[COMP_LDAP] = "ldap.enabled is not true",
	[COMP_PORTUS] = "health.portus.url is empty",
};

static const struct {
	const char	*var;	/* one variable, or NULL */
	unsigned	 mask;	/* the components enabled */
	int		 after;	/* what the registry check runs after */
} enables[] = {
	{ NULL, DB | REG, COMP_DATABASE },
	{ "PORTUS_SECURITY_CLAIR_SERVER=clair:6060", DB | REG | CLAIR,
	    COMP_DATABASE },
	{ "PORTUS_SECURITY_CLAIR_SERVER=  ", DB | REG, COMP_DATABASE },
	{ "PORTUS_LDAP_ENABLED=true", DB | REG | LDAP, COMP_DATABASE },
	{ "PORTUS_LDAP_ENABLED=1", DB | REG, COMP_DATABASE },
	{ "PORTUS_LDAP_ENABLED=false", DB | REG, COMP_DATABASE },
	/* registry.hostname bypasses the registries table. */
	{ "PORTUS_REGISTRY_HOSTNAME=registry.test:5000", DB | REG, -1 },
	{ "PORTUS_HEALTH_PORTUS_URL=http://127.0.0.1:3000", DB | REG | PORTUS,
	    COMP_DATABASE },
	{ "PORTUS_HEALTH_PORTUS_URL= ", DB | REG, COMP_DATABASE },
};

START_TEST(comp_enabled_by)
{
	const char	*what = enables[_i].var ? enables[_i].var : "defaults";
	const char	*why;
	char		*envp[] = { (char *)enables[_i].var, NULL };
	int		 c;

	ck_assert_int_eq(env(envp), CONF_OK);
	ck_assert_msg(comp_enabled(&cfg) == enables[_i].mask, "%s: %#x, "
	    "want %#x", what, comp_enabled(&cfg), enables[_i].mask);
	for (c = 0; c < COMP__MAX; c++) {
		why = components[c].disabled != NULL ?
		    components[c].disabled(&cfg) : NULL;
		if (enables[_i].mask & 1u << c)
			ck_assert_msg(why == NULL, "%s: %s disabled: %s", what,
			    comp_name(c), why);
		else
			ck_assert_msg(why != NULL && reasons[c] != NULL &&
			    strcmp(why, reasons[c]) == 0, "%s: %s disabled "
			    "because \"%s\"", what, comp_name(c), why);
	}
	ck_assert_msg(components[COMP_REGISTRY].after(&cfg) ==
	    enables[_i].after, "%s: registry after %d", what,
	    components[COMP_REGISTRY].after(&cfg));
	for (c = 0; c < COMP__MAX; c++)
		if (c != COMP_REGISTRY)
			ck_assert_ptr_null(components[c].after);
}
END_TEST

/* Which components make a healthy whole, optional ones aside. */
static const struct {
	const char	*name;
	unsigned	 present, failed, mask, optional;
	int		 ok;
} oks[] = {
	{ "all up", DB | REG | CLAIR, 0, ~0u, 0, 1 },
	{ "clair down", DB | REG | CLAIR, CLAIR, ~0u, 0, 0 },
	{ "clair down, optional", DB | REG | CLAIR, CLAIR, ~0u, CLAIR, 1 },
	{ "the database down, clair optional", DB | REG | CLAIR, DB, ~0u,
	    CLAIR, 0 },
	{ "clair alone asked, down, optional", DB | REG | CLAIR, CLAIR, CLAIR,
	    CLAIR, 0 },
	{ "clair alone asked, up, optional", DB | REG | CLAIR, 0, CLAIR,
	    CLAIR, 1 },
	{ "clair left out, down", DB | REG | CLAIR, CLAIR, DB | REG, 0, 1 },
	{ "an optional one absent", DB | REG, 0, ~0u, LDAP, 1 },
	{ "every one optional, one down", DB | REG, REG, ~0u, DB | REG, 0 },
};

START_TEST(comp_ok_with_optional)
{
	struct compres	 r[COMP__MAX];
	int		 c;

	memset(r, 0, sizeof(r));
	for (c = 0; c < COMP__MAX; c++) {
		r[c].present = (oks[_i].present & 1u << c) != 0;
		r[c].success = !(oks[_i].failed & 1u << c);
	}
	ck_assert_msg(comp_ok(r, oks[_i].mask, oks[_i].optional) == oks[_i].ok,
	    "%s", oks[_i].name);
}
END_TEST

Suite *
component_suite(void)
{
	Suite	*s = suite_create("component");
	TCase	*tc;

	tc = tcase_create("names");
	tcase_add_loop_test(tc, comp_names, 0, NELEM(names));
	tcase_add_test(tc, comp_names_cover_all);
	tcase_add_loop_test(tc, comp_from_unknown, 0, NELEM(strangers));
	tcase_add_loop_test(tc, comp_ok_with_optional, 0, NELEM(oks));
	suite_add_tcase(s, tc);

	tc = tcase_create("enabled");
	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_loop_test(tc, comp_enabled_by, 0, NELEM(enables));
	suite_add_tcase(s, tc);
	return s;
}
