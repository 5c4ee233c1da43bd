/*
 * The components of a health run, as data: one row each, read by the
 * health run, the reports and the command line.  Adding a component is
 * one enum value in extern.h, one row here and the file of its check.
 */
#include <string.h>

#include "extern.h"

/* Returns why clair is not checked, or NULL when it is. */
static const char *
clair_disabled(const struct config *cfg)
{
	return *cfg_str(cfg, K_CLAIR_SERVER) == '\0' ?
	    "security.clair.server is empty" : NULL;
}

/* Returns why LDAP is not checked, or NULL when it is. */
static const char *
ldap_disabled(const struct config *cfg)
{
	return cfg_int(cfg, K_LDAP_ENABLED) ? NULL : "ldap.enabled is not true";
}

/* Returns why Portus itself is not checked, or NULL when it is. */
static const char *
portus_disabled(const struct config *cfg)
{
	return *cfg_str(cfg, K_HEALTH_PORTUS_URL) == '\0' ?
	    "health.portus.url is empty" : NULL;
}

/* The registry comes from Portus's registries table, which the database
 * check reads, unless registry.hostname names it. */
static int
registry_after(const struct config *cfg)
{
	return *cfg_str(cfg, K_REG_HOSTNAME) == '\0' ? COMP_DATABASE : -1;
}

const struct component components[COMP__MAX] = {
	[COMP_DATABASE] = { "database", "datastore", NULL, db_open, db_close,
	    check_database, NULL },
	[COMP_REGISTRY] = { "registry", "component", NULL, registry_open,
	    registry_close, check_registry, registry_after },
	[COMP_CLAIR] = { "clair", "component", clair_disabled, http_open,
	    http_close, check_clair, NULL },
	[COMP_LDAP] = { "ldap", "component", ldap_disabled, ldap_open,
	    ldap_close, check_ldap, NULL },
	[COMP_PORTUS] = { "portus", "system", portus_disabled, http_open,
	    http_close, check_portus, NULL },
};

/* Returns the name of component c, as the document uses it. */
const char *
comp_name(int c)
{
	return components[c].name;
}

/* Returns the component called name, or -1. */
int
comp_from_name(const char *name)
{
	int c;

	for (c = 0; c < COMP__MAX; c++)
		if (strcmp(components[c].name, name) == 0)
			return c;
	return -1;
}

/* Returns the mask of the components cfg enables. */
unsigned
comp_enabled(const struct config *cfg)
{
	unsigned	 m = 0;
	int		 c;

	for (c = 0; c < COMP__MAX; c++)
		if (components[c].disabled == NULL ||
		    components[c].disabled(cfg) == NULL)
			m |= 1u << c;
	return m;
}

/*
 * Returns whether the components of mask present in comp make a healthy
 * whole: every one that is not optional succeeded.  When only optional
 * ones are asked for (/_health/clair, --check -c clair), they count.
 */
int
comp_ok(const struct compres *comp, unsigned mask, unsigned optional)
{
	int c, required = 0;

	for (c = 0; c < COMP__MAX; c++)
		if (comp[c].present && (mask & 1u << c) &&
		    !(optional & 1u << c))
			required = 1;
	for (c = 0; c < COMP__MAX; c++) {
		if (!comp[c].present || !(mask & 1u << c))
			continue;
		if (required && (optional & 1u << c))
			continue;
		if (!comp[c].success)
			return 0;
	}
	return 1;
}

/* Fills a component result: msg is base, plus ": reason" when given. */
void
compres_set(struct compres *cr, int success, const char *base,
    const char *reason)
{
	cr->present = 1;
	cr->success = success;
	if (reason != NULL && *reason != '\0')
		snprintf(cr->msg, sizeof(cr->msg), "%s: %s", base, reason);
	else
		snprintf(cr->msg, sizeof(cr->msg), "%s", base);
}
