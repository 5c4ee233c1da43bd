/*
 * Results to messages, and messages to the health document (json-c).
 * The messages are Portus's own: monitors match on them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "extern.h"

static const char *const compnames[COMP__MAX] = {
	[COMP_DATABASE] = "database",
	[COMP_REGISTRY] = "registry",
	[COMP_CLAIR] = "clair",
	[COMP_LDAP] = "ldap",
};

/* Returns the name of a component, as used in the document. */
const char *
comp_name(enum comp c)
{
	return compnames[c];
}

/* Returns the component called name, or -1. */
int
comp_from_name(const char *name)
{
	int c;

	for (c = 0; c < COMP__MAX; c++)
		if (strcmp(compnames[c], name) == 0)
			return c;
	return -1;
}

/* Returns Portus's message for a database state. */
const char *
db_message(enum dbstate st)
{
	switch (st) {
	case DB_UP:
		return "database is up-to-date";
	case DB_INIT:
		return "database is initializing";
	case DB_MISSING:
		return "database has not been created";
	case DB_DOWN:
		return "cannot connect to database";
	case DB_UNKNOWN:
		break;
	}
	return "unknown error";
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

/*
 * Renders the components present in res, in document order, compact or
 * pretty.  Returns a string the caller frees, its length in *len; NULL
 * when out of memory.
 */
char *
report_json(const struct compres *res, int pretty, size_t *len)
{
	json_object	*doc, *o;
	const char	*s;
	char		*out = NULL;
	size_t		 n;
	int		 c, flags;

	if ((doc = json_object_new_object()) == NULL)
		return NULL;
	for (c = 0; c < COMP__MAX; c++) {
		if (!res[c].present)
			continue;
		if ((o = json_object_new_object()) == NULL)
			goto out;
		if (json_object_object_add(doc, compnames[c], o) != 0) {
			json_object_put(o);
			goto out;
		}
		if (json_object_object_add(o, "msg",
		    json_object_new_string(res[c].msg)) != 0 ||
		    json_object_object_add(o, "success",
		    json_object_new_boolean(res[c].success)) != 0)
			goto out;
	}
	flags = JSON_C_TO_STRING_NOSLASHESCAPE | (pretty ?
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
	    JSON_C_TO_STRING_PLAIN);
	if ((s = json_object_to_json_string_length(doc, flags, &n)) == NULL)
		goto out;
	if ((out = malloc(n + 1)) == NULL)
		goto out;
	memcpy(out, s, n + 1);
	*len = n;
out:
	json_object_put(doc);
	return out;
}
