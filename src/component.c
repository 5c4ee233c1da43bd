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
	[COMP_REGISTRY] = { "registry", "component", NULL, http_open,
	    http_close, check_registry, registry_after },
	[COMP_CLAIR] = { "clair", "component", clair_disabled, http_open,
	    http_close, check_clair, NULL },
	[COMP_LDAP] = { "ldap", "component", ldap_disabled, ldap_open,
	    ldap_close, check_ldap, NULL },
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
