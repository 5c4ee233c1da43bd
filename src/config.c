/*
 * Configuration with the semantics of Portus's cconfig: built-in defaults,
 * overridden by a local YAML file, overridden by PORTUS_* environment
 * variables.  Every key lives in one table; parsing, the environment
 * mapping, validation, printing and masking all walk it.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "extern.h"

#define CF_SECRET	0x01	/* never printed nor echoed */
#define CF_ENVONLY	0x02	/* database.yml settings: environment only */
#define CF_LIST		0x04	/* CIDR ranges: a YAML list, or a string with
				   commas or spaces between them */
#define CF_FEATURE	0x08	/* a feature's "enabled": on only for the
				   boolean true (cconfig's enabled?) */
#define CF_TRUTHY	0x10	/* on for any value but false, as Ruby tests
				   it (Portus's ldap authentication) */
#define CF_COMPS	0x20	/* component names: a YAML list, or a string
				   with commas or spaces between them */

#define CONF_FILE_MAX	(1024 * 1024)
#define CONF_DEFAULT	"config/config-local.yml"
#define PREFIX_DEFAULT	"PORTUS"
/* Where Portus's RPM and container image put its migrations. */
#define MIGRATIONS_DEFAULT "/srv/Portus/db/migrate"

struct confdef {
	const char	*path;
	enum ctype	 type;
	const char	*defstr;	/* CT_STR */
	long		 defint;	/* CT_INT, CT_BOOL */
	long		 min, max;	/* CT_INT */
	unsigned	 flags;
};

static const struct confdef defs[K__MAX] = {
	[K_CLAIR_SERVER] = { "security.clair.server", CT_STR, "", 0, 0, 0, 0 },
	[K_CLAIR_HEALTH_PORT] = { "security.clair.health_port", CT_INT, NULL,
	    6061, 1, 65535, 0 },
	[K_CLAIR_TIMEOUT] = { "security.clair.timeout", CT_INT, NULL,
	    900, 1, 86400, 0 },
	[K_REG_TIMEOUT] = { "registry.timeout.value", CT_INT, NULL,
	    2, 1, 86400, 0 },
	[K_REG_READ_TIMEOUT] = { "registry.read_timeout.value", CT_INT, NULL,
	    120, 1, 86400, 0 },
	[K_REG_HOSTNAME] = { "registry.hostname", CT_STR, "", 0, 0, 0, 0 },
	[K_REG_USE_SSL] = { "registry.use_ssl", CT_BOOL, NULL, 0, 0, 1, 0 },
	[K_LDAP_ENABLED] = { "ldap.enabled", CT_BOOL, NULL, 0, 0, 1,
	    CF_FEATURE },
	[K_LDAP_HOSTNAME] = { "ldap.hostname", CT_STR, "ldap_hostname",
	    0, 0, 0, 0 },
	[K_LDAP_PORT] = { "ldap.port", CT_INT, NULL, 389, 1, 65535, 0 },
	[K_LDAP_TIMEOUT] = { "ldap.timeout", CT_INT, NULL, 5, 1, 86400, 0 },
	[K_LDAP_METHOD] = { "ldap.encryption.method", CT_STR, "",
	    0, 0, 0, 0 },
	[K_LDAP_CA_FILE] = { "ldap.encryption.options.ca_file", CT_STR, "",
	    0, 0, 0, 0 },
	[K_LDAP_AUTH_ENABLED] = { "ldap.authentication.enabled", CT_BOOL, NULL,
	    0, 0, 1, CF_TRUTHY },
	[K_LDAP_BIND_DN] = { "ldap.authentication.bind_dn", CT_STR, "",
	    0, 0, 0, 0 },
	[K_LDAP_PASSWORD] = { "ldap.authentication.password", CT_STR, "",
	    0, 0, 0, CF_SECRET },
	[K_HEALTH_TIMEOUT] = { "health.timeout", CT_INT, NULL, 5, 1, 3600, 0 },
	[K_HEALTH_CACHE_TTL] = { "health.cache_ttl", CT_INT, NULL,
	    1, 0, 86400, 0 },
	[K_HEALTH_MIGRATIONS] = { "health.database.migrations_path", CT_STR, "",
	    0, 0, 0, 0 },
	[K_HEALTH_WORKERS] = { "health.workers", CT_INT, NULL, 4, 1, 256, 0 },
	[K_HEALTH_ALLOW] = { "health.allow", CT_STR, "", 0, 0, 0, CF_LIST },
	[K_HEALTH_CA_FILE] = { "health.ca_file", CT_STR, "", 0, 0, 0, 0 },
	[K_HEALTH_INTERVAL] = { "health.interval", CT_INT, NULL,
	    0, 0, 86400, 0 },
	[K_HEALTH_MAX_REQUESTS] = { "health.max_requests", CT_INT, NULL,
	    0, 0, 1000000000, 0 },
	/* "": $TMPDIR/portus-health-UID, set by settle(). */
	[K_HEALTH_CACHE_DIR] = { "health.cache_dir", CT_STR, "", 0, 0, 0, 0 },
	[K_HEALTH_SANDBOX] = { "health.sandbox", CT_BOOL, NULL, 1, 0, 1, 0 },
	[K_HEALTH_OPTIONAL] = { "health.optional", CT_STR, "", 0, 0, 0,
	    CF_COMPS },
	[K_HEALTH_PORTUS_URL] = { "health.portus.url", CT_STR, "", 0, 0, 0, 0 },
	[K_MACHINE_FQDN] = { "machine_fqdn.value", CT_STR, "portus.test.lan",
	    0, 0, 0, 0 },
	/* Portus's secrets.yml: encryption_private_key_path. */
	[K_KEY_PATH] = { "key.path", CT_STR, "", 0, 0, 0, CF_ENVONLY },
	[K_DB_ADAPTER] = { "db.adapter", CT_STR, "", 0, 0, 0, CF_ENVONLY },
	[K_DB_HOST] = { "db.host", CT_STR, "localhost", 0, 0, 0, CF_ENVONLY },
	[K_DB_USERNAME] = { "db.username", CT_STR, "root", 0, 0, 0, CF_ENVONLY },
	[K_DB_PASSWORD] = { "db.password", CT_STR, "", 0, 0, 0,
	    CF_ENVONLY | CF_SECRET },
	[K_DB_DATABASE] = { "db.database", CT_STR, "portus_production",
	    0, 0, 0, CF_ENVONLY },
	/* 0: the adapter's own port, set when the adapter is known. */
	[K_DB_PORT] = { "db.port", CT_INT, NULL, 0, 1, 65535, CF_ENVONLY },
	[K_DB_SOCKET] = { "db.socket", CT_STR, "", 0, 0, 0, CF_ENVONLY },
	[K_DB_TIMEOUT] = { "db.timeout", CT_INT, NULL, 0, 0, 86400,
	    CF_ENVONLY },
};

/*
 * Keys of Portus's own config.yml that this program does not use: a
 * Portus config-local.yml carries them, so they are passed over quietly.
 * Anything else unknown earns a warning (it is likely a typo).
 */
static const char *const portus_keys[] = {
	"email", "gravatar", "delete", "oauth", "first_user_admin", "signup",
	"check_ssl_usage", "display_name", "user_permission",
	"anonymous_browsing", "background", "pagination", "feature",
	"security.zypper", "security.dummy", "registry.jwt_expiration_time",
	"registry.catalog_page", "ldap.base", "ldap.group_base", "ldap.filter",
	"ldap.uid", "ldap.admin_base", "ldap.guess_email", "ldap.group_sync",
	"ldap.encryption.options.ssl_version", NULL
};

static const char *const typenames[] = { "a string", "an integer",
    "a boolean (true or false)" };

const char *
config_strerror(enum cstatus st)
{
	switch (st) {
	case CONF_OK:
		return "no error";
	case CONF_ERR_FILE:
		return "cannot read the configuration file";
	case CONF_ERR_YAML:
		return "invalid YAML configuration";
	case CONF_ERR_TYPE:
		return "a setting has the wrong type";
	case CONF_ERR_RANGE:
		return "a setting is out of range";
	case CONF_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}

/* Writes a formatted message into err (if any); returns st. */
static enum cstatus
cerr(enum cstatus st, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum cstatus
cerr(enum cstatus st, char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errsz > 0) {
		va_start(ap, fmt);
		if (vsnprintf(err, errsz, fmt, ap) < 0)
			err[0] = '\0';
		va_end(ap);
	}
	return st;
}

/* Returns the dotted key path, e.g. "security.clair.server". */
const char *
config_keyname(enum ckey k)
{
	return defs[k].path;
}

/* Copies src into buf of size sz (> 0), cut to fit.  Returns the length
 * copied. */
static size_t
strlcpy_n(char *buf, const char *src, size_t sz)
{
	size_t n = strlen(src);

	if (n >= sz)
		n = sz - 1;
	memcpy(buf, src, n);
	buf[n] = '\0';
	return n;
}

/*
 * Returns the environment name of a key in buf: the prefix (PORTUS, or
 * CCONFIG_PREFIX) and the path in upper case joined by "_"; the database
 * settings keep PORTUS_DB_*, as Portus's database.yml reads them.
 */
const char *
config_envname(const struct config *cfg, enum ckey k, char *buf, size_t sz)
{
	const char	*p;
	size_t		 n;

	if (sz == 0)
		return buf;
	n = strlcpy_n(buf, (defs[k].flags & CF_ENVONLY) || cfg == NULL ||
	    cfg->prefix[0] == '\0' ? PREFIX_DEFAULT : cfg->prefix, sz);
	if (n + 1 < sz)
		buf[n++] = '_';
	for (p = defs[k].path; *p != '\0' && n + 1 < sz; p++)
		buf[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
	buf[n] = '\0';
	return buf;
}

/*
 * Returns whether the variable name is a setting for prefix (a request
 * parameter the web server may pass): the prefix's own variables, the
 * PORTUS_* ones (the database's keep that name), CCONFIG_PREFIX.
 */
int
config_is_setting(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(name, PREFIX_DEFAULT "_", sizeof(PREFIX_DEFAULT)) == 0 ||
	    (n > 0 && strncmp(name, prefix, n) == 0 && name[n] == '_') ||
	    strcmp(name, "CCONFIG_PREFIX") == 0;
}

const char *
cfg_str(const struct config *cfg, enum ckey k)
{
	return cfg->v[k].s != NULL ? cfg->v[k].s : "";
}

/* Sets the string key k to value, from src (a process-level override).
 * Returns 0, or -1 when out of memory. */
int
config_set(struct config *cfg, enum ckey k, const char *value,
    const char *src)
{
	char *dup;

	if ((dup = strdup(value)) == NULL)
		return -1;
	free(cfg->v[k].s);
	cfg->v[k].s = dup;
	snprintf(cfg->v[k].src, sizeof(cfg->v[k].src), "%s", src);
	return 0;
}

long
cfg_int(const struct config *cfg, enum ckey k)
{
	return cfg->v[k].i;
}

/* Returns the value of digit c in base, or -1. */
static int
digit(int c, int base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'z')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'Z')
		v = c - 'A' + 10;
	else
		return -1;
	return v < base ? v : -1;
}

/*
 * Reads s as Ruby's Integer() does: blanks around, a sign, then 0x, 0b,
 * 0o or 0d, or a leading 0 for octal ("010" is 8), digits with single
 * underscores between them.  Returns 1 with *out set, 0 when s is no
 * integer, -1 when it is one too large for a long.
 */
int
ruby_integer(const char *s, long *out)
{
	unsigned long	 v = 0, lim;
	int		 neg = 0, base = 10, d, ndig = 0, under = 0;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && s[1] != '\0' && strchr("xXbBoOdD", s[1]) != NULL) {
		base = strchr("xX", s[1]) ? 16 : strchr("bB", s[1]) ? 2 :
		    strchr("oO", s[1]) ? 8 : 10;
		s += 2;
	} else if (s[0] == '0' && s[1] != '\0' &&
	    !isspace((unsigned char)s[1])) {
		base = 8;
		s++;
		under = 1;	/* "0_7" is 7: the 0 was a digit */
	}
	lim = neg ? (unsigned long)LONG_MAX + 1 : (unsigned long)LONG_MAX;
	for (; *s != '\0' && !isspace((unsigned char)*s); s++) {
		if (*s == '_') {
			if (!under && ndig == 0)
				return 0;
			if (s[1] == '_' || s[1] == '\0' ||
			    isspace((unsigned char)s[1]))
				return 0;
			continue;
		}
		if ((d = digit(*s, base)) < 0)
			return 0;
		ndig++;
		if (v > (lim - (unsigned long)d) / (unsigned long)base)
			v = lim + 1;	/* too large; keep reading */
		else
			v = v * (unsigned long)base + (unsigned long)d;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '\0' || (ndig == 0 && !under))
		return 0;
	if (v > lim)
		return -1;
	*out = neg ? (long)(0 - v) : (long)v;
	return 1;
}

/* Reads s as a plain decimal number ("6061", " -3 ", leading zeros
 * decimal): how Portus's own files write a number in quotes.  Returns
 * as ruby_integer does. */
static int
decimal_string(const char *s, long *out)
{
	const char	*p = s;
	char		*end;
	long		 v;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return 0;
	if (errno == ERANGE)
		return -1;
	*out = v;
	return 1;
}

/*
 * Reads a plain YAML scalar as an integer as Ruby's Psych does (YAML
 * 1.1): a decimal with "_" or "," only between digits, or 0x, 0b and a
 * leading 0 for octal, which take "_" and "," anywhere after the prefix.
 * Returns as ruby_integer does.
 */
static int
yaml_integer(const char *s, long *out)
{
	char		 buf[96];
	const char	*p = s;
	size_t		 n = 0;

	if (*p == '+' || *p == '-')
		p++;
	/* A decimal (not 0-prefixed): separators between digits only. */
	if (isdigit((unsigned char)*p) && *p != '0') {
		for (; *p != '\0'; p++)
			if ((*p == '_' || *p == ',') &&
			    !(isdigit((unsigned char)p[-1]) &&
			    isdigit((unsigned char)p[1])))
				return 0;
	}
	if (*s == '\0' || isspace((unsigned char)*s) || *s == '_' ||
	    *s == ',')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '_' || *s == ',')
			continue;
		if (isspace((unsigned char)*s) || n + 1 >= sizeof(buf))
			return n + 1 >= sizeof(buf) && !isspace(
			    (unsigned char)*s) ? -1 : 0;
		buf[n++] = *s;
	}
	buf[n] = '\0';
	/* Psych has no 0o or 0d. */
	if (n >= 2 && buf[buf[0] == '+' || buf[0] == '-'] == '0' &&
	    strchr("oOdD", buf[(buf[0] == '+' || buf[0] == '-') + 1]) != NULL)
		return 0;
	return ruby_integer(buf, out);
}

/*
 * Types an environment value as cconfig does: true/false in any case are
 * booleans, integers as Ruby's Integer() reads them are integers (one
 * too large for a long counts as an integer too: the caller's range check
 * refuses it), anything else is a string.  Returns the type; *iv holds
 * the boolean or integer (LONG_MAX when too large).
 */
enum ctype
config_type_value(const char *s, long *iv)
{
	int r;

	if (strcasecmp(s, "true") == 0) {
		*iv = 1;
		return CT_BOOL;
	}
	if (strcasecmp(s, "false") == 0) {
		*iv = 0;
		return CT_BOOL;
	}
	if ((r = ruby_integer(s, iv)) != 0) {
		if (r < 0)
			*iv = LONG_MAX;
		return CT_INT;
	}
	return CT_STR;
}

/* Copies s into buf for an error message: bounded, printable. */
static const char *
quote_value(int secret, const char *s, char *buf, size_t sz)
{
	size_t i, n;

	if (secret)
		return "(hidden)";
	if (sz < 8)
		return "";
	buf[0] = '"';
	for (i = 0, n = 1; s[i] != '\0' && n + 5 < sz && i < 48; i++)
		buf[n++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/*
 * Parses a list of CIDR ranges (commas or blanks between them) into
 * cfg->allow.  Returns CONF_OK, or an error naming the key, the range
 * and the source.
 */
static enum cstatus
check_nets(struct config *cfg, const struct confdef *d, const char *s,
    const char *src, char *err, size_t errsz)
{
	char	 item[128];
	size_t	 len, n = 0;

	for (;;) {
		s += strspn(s, ", \t\n");
		if (*s == '\0')
			break;
		len = strcspn(s, ", \t\n");
		if (len >= sizeof(item) || n == ALLOW_MAX) {
			return cerr(CONF_ERR_RANGE, err, errsz, "%s: %s "
			    "(from %s)", d->path, n == ALLOW_MAX ?
			    "too many ranges" : "range too long", src);
		}
		memcpy(item, s, len);
		item[len] = '\0';
		if (net_parse(item, &cfg->allow[n]) == -1)
			return cerr(CONF_ERR_TYPE, err, errsz, "%s: range %zu "
			    "is not an IPv4 or IPv6 address or CIDR range "
			    "(from %s)", d->path, n + 1, src);
		n++;
		s += len;
	}
	cfg->nallow = n;
	return CONF_OK;
}

/* Returns whether s is empty or only blanks (Ruby's blank?). */
static int
blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

/*
 * Parses a list of component names (commas or blanks between them) into
 * cfg->optional.  Returns CONF_OK, or an error naming the key, the place
 * of the name and the source.
 */
static enum cstatus
check_comps(struct config *cfg, const struct confdef *d, const char *s,
    const char *src, char *err, size_t errsz)
{
	char		 name[32];
	unsigned	 mask = 0;
	size_t		 len, n = 0;
	int		 c;

	for (;;) {
		s += strspn(s, ", \t\n");
		if (*s == '\0')
			break;
		len = strcspn(s, ", \t\n");
		n++;
		if (len >= sizeof(name))
			c = -1;
		else {
			memcpy(name, s, len);
			name[len] = '\0';
			c = comp_from_name(name);
		}
		if (c < 0)
			return cerr(CONF_ERR_TYPE, err, errsz, "%s: item %zu is "
			    "not a component (database, registry, clair, ldap, "
			    "portus) (from %s)", d->path, n, src);
		mask |= 1u << c;
		s += len;
	}
	cfg->optional = mask;
	return CONF_OK;
}

/*
 * Stores for key k a value of type t (text s, number iv) from src, as
 * Portus would use it: a string key takes any value's text (blanks alone
 * are blank), a number key an integer or a number in quotes, a feature's
 * "enabled" is on only for the boolean true.  Returns CONF_OK, or a type
 * or range error naming key and source but never the text, which may be
 * a secret given to the wrong key.
 */
static enum cstatus
set_value(struct config *cfg, enum ckey k, enum ctype t, long iv,
    const char *s, const char *src, char *err, size_t errsz)
{
	const struct confdef	*d = &defs[k];
	struct cvalue		*v = &cfg->v[k];
	char			*dup;
	enum cstatus		 st;
	int			 r;

	switch (d->type) {
	case CT_STR:
		if ((d->flags & CF_LIST) && (st = check_nets(cfg, d, s, src,
		    err, errsz)) != CONF_OK)
			return st;
		if ((d->flags & CF_COMPS) && (st = check_comps(cfg, d, s, src,
		    err, errsz)) != CONF_OK)
			return st;
		if (!(d->flags & CF_SECRET) && blank(s))
			s = "";
		if ((dup = strdup(s)) == NULL)
			return cerr(CONF_ERR_NOMEM, err, errsz, "out of memory");
		free(v->s);
		v->s = dup;
		break;
	case CT_INT:
		if (t == CT_STR && (r = decimal_string(s, &iv)) != 0) {
			t = CT_INT;
			if (r < 0)
				iv = LONG_MAX;
		}
		if (t != CT_INT)
			return cerr(CONF_ERR_TYPE, err, errsz, "%s: expected %s "
			    "(from %s)", d->path, typenames[d->type], src);
		if (iv == LONG_MAX || iv == LONG_MIN)
			return cerr(CONF_ERR_RANGE, err, errsz, "%s: out of "
			    "range %ld-%ld (from %s)", d->path, d->min, d->max,
			    src);
		if (iv < d->min || iv > d->max)
			return cerr(CONF_ERR_RANGE, err, errsz, "%s: %ld is out "
			    "of range %ld-%ld (from %s)", d->path, iv, d->min,
			    d->max, src);
		v->i = iv;
		break;
	case CT_BOOL:
		if (t != CT_BOOL && (d->flags & (CF_FEATURE | CF_TRUTHY))) {
			iv = (d->flags & CF_TRUTHY) != 0;
			plog(PL_WARN, "%s is not a boolean (from %s): %s, as "
			    "Portus reads it", d->path, src, iv ? "on" : "off");
		} else if (t != CT_BOOL)
			return cerr(CONF_ERR_TYPE, err, errsz, "%s: expected %s "
			    "(from %s)", d->path, typenames[d->type], src);
		v->i = iv;
		break;
	}
	if (snprintf(v->src, sizeof(v->src), "%s", src) < 0)
		v->src[0] = '\0';
	return CONF_OK;
}

/* Fills cfg with the built-in defaults.  Returns CONF_OK or NOMEM. */
enum cstatus
config_init(struct config *cfg)
{
	size_t k;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->prefix, sizeof(cfg->prefix), "%s", PREFIX_DEFAULT);
	for (k = 0; k < K__MAX; k++) {
		snprintf(cfg->v[k].src, sizeof(cfg->v[k].src), "default");
		if (defs[k].type != CT_STR) {
			cfg->v[k].i = defs[k].defint;
			continue;
		}
		if ((cfg->v[k].s = strdup(defs[k].defstr)) == NULL) {
			config_free(cfg);
			return CONF_ERR_NOMEM;
		}
	}
	return CONF_OK;
}

/* Frees what config_init and the loaders allocated. */
void
config_free(struct config *cfg)
{
	size_t k;

	for (k = 0; k < K__MAX; k++) {
		free(cfg->v[k].s);
		cfg->v[k].s = NULL;
	}
}

/* Returns the value of NAME in envp, or NULL. */
static const char *
env_lookup(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/*
 * Applies the prefix's variables of envp (PORTUS_*, or CCONFIG_PREFIX's)
 * over cfg.  A bad value keeps what was there.  Returns CONF_OK, or the
 * first error (err says what).
 */
enum cstatus
config_apply_env(struct config *cfg, char *const *envp, char *err,
    size_t errsz)
{
	char		 name[128], src[160], e[512];
	const char	*val;
	enum cstatus	 st, first = CONF_OK;
	enum ctype	 t;
	long		 iv;
	size_t		 k;

	for (k = 0; k < K__MAX; k++) {
		config_envname(cfg, k, name, sizeof(name));
		if ((val = env_lookup(envp, name)) == NULL)
			continue;
		t = config_type_value(val, &iv);
		snprintf(src, sizeof(src), "environment %s", name);
		st = set_value(cfg, k, t, iv, val, src, e, sizeof(e));
		if (k == K_HEALTH_ALLOW)
			cfg->allow_unknown = st != CONF_OK;
		if (st != CONF_OK && first == CONF_OK) {
			first = st;
			cerr(st, err, errsz, "%s", e);
		}
	}
	return first;
}

/* Returns the table entry for a dotted path, or -1. */
static int
find_key(const char *path)
{
	size_t k;

	for (k = 0; k < K__MAX; k++)
		if (strcmp(defs[k].path, path) == 0)
			return (int)k;
	return -1;
}

/* Returns 1 if some key of the table lies below path. */
static int
is_section(const char *path)
{
	size_t k, len = strlen(path);

	for (k = 0; k < K__MAX; k++)
		if (strncmp(defs[k].path, path, len) == 0 &&
		    defs[k].path[len] == '.')
			return 1;
	return 0;
}

/* Returns 1 if path is a Portus key, or lies below one, we do not use. */
static int
is_portus_key(const char *path)
{
	size_t	i, len;

	for (i = 0; portus_keys[i] != NULL; i++) {
		len = strlen(portus_keys[i]);
		if (strncmp(path, portus_keys[i], len) == 0 &&
		    (path[len] == '\0' || path[len] == '.'))
			return 1;
	}
	return 0;
}

/*
 * Types a YAML scalar as Ruby's Psych does for the shapes we accept: a
 * plain null (empty, ~, null) is *isnull, a plain boolean or integer is
 * that, anything else (quoted text too) is a string.
 */
static enum ctype
yaml_type(const yaml_node_t *n, long *iv, int *isnull)
{
	const char	*s = (const char *)n->data.scalar.value;
	int		 r;

	*isnull = 0;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return CT_STR;
	if (*s == '\0' || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0) {
		*isnull = 1;
		return CT_STR;
	}
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "on") == 0) {
		*iv = 1;
		return CT_BOOL;
	}
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
	    strcasecmp(s, "off") == 0) {
		*iv = 0;
		return CT_BOOL;
	}
	if ((r = yaml_integer(s, iv)) != 0) {
		if (r < 0)
			*iv = LONG_MAX;
		return CT_INT;
	}
	return CT_STR;
}

struct walk {
	struct config	*cfg;
	yaml_document_t	*doc;
	const char	*name;
	char		*err;		/* the first error */
	size_t		 errsz;
	enum cstatus	 st;		/* of the first error */
	int		 merges;	/* merged mappings walked so far */
};

/* Notes an error of the walk; the first one is what it reports.
 * Returns st. */
static enum cstatus
wnote(struct walk *w, enum cstatus st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum cstatus
wnote(struct walk *w, enum cstatus st, const char *fmt, ...)
{
	va_list ap;

	if (w->st != CONF_OK)
		return st;
	w->st = st;
	if (w->err != NULL && w->errsz > 0) {
		va_start(ap, fmt);
		if (vsnprintf(w->err, w->errsz, fmt, ap) < 0)
			w->err[0] = '\0';
		va_end(ap);
	}
	return st;
}

/*
 * Mappings whose keys win over the one being walked: the mapping holding
 * a merge key over what it merges, and earlier merged mappings over later
 * ones (YAML's merge key, as Ruby's Psych applies it).
 */
struct shadow {
	yaml_node_t		*map;
	int			 own;	/* its own keys only, not its merges */
	const struct shadow	*next;
};

#define MERGE_DEPTH	8	/* nested merge keys */
#define MERGE_MAX	64	/* merged mappings in one file */

/* Returns whether n is YAML's merge key: a plain "<<". */
static int
is_merge_key(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    strcmp((const char *)n->data.scalar.value, "<<") == 0;
}

/* Returns whether the scalar nodes a and b hold the same text. */
static int
same_key(const yaml_node_t *a, const yaml_node_t *b)
{
	return a->type == YAML_SCALAR_NODE && b->type == YAML_SCALAR_NODE &&
	    a->data.scalar.length == b->data.scalar.length &&
	    memcmp(a->data.scalar.value, b->data.scalar.value,
	    a->data.scalar.length) == 0;
}

/*
 * Returns whether mapping map gives key kn a value, itself or through
 * its merge keys (those down to MERGE_DEPTH from depth; none when depth
 * is MERGE_DEPTH).
 */
static int
has_key(yaml_document_t *doc, yaml_node_t *map, const yaml_node_t *kn,
    int depth)
{
	yaml_node_pair_t	*p;
	yaml_node_item_t	*it;
	yaml_node_t		*k, *v, *m;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return 0;
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		if ((k = yaml_document_get_node(doc, p->key)) == NULL ||
		    (v = yaml_document_get_node(doc, p->value)) == NULL)
			continue;
		if (!is_merge_key(k)) {
			if (same_key(k, kn))
				return 1;
			continue;
		}
		if (depth >= MERGE_DEPTH)
			continue;
		if (v->type == YAML_MAPPING_NODE &&
		    has_key(doc, v, kn, depth + 1))
			return 1;
		if (v->type != YAML_SEQUENCE_NODE)
			continue;
		for (it = v->data.sequence.items.start;
		    it < v->data.sequence.items.top; it++)
			if ((m = yaml_document_get_node(doc, *it)) != NULL &&
			    has_key(doc, m, kn, depth + 1))
				return 1;
	}
	return 0;
}

/* Returns the key node that gives kn again after pair in map, or NULL. */
static yaml_node_t *
given_again(yaml_document_t *doc, yaml_node_t *map, yaml_node_pair_t *pair,
    const yaml_node_t *kn)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;

	for (p = pair + 1; p < map->data.mapping.pairs.top; p++)
		if ((k = yaml_document_get_node(doc, p->key)) != NULL &&
		    !is_merge_key(k) && same_key(k, kn))
			return k;
	return NULL;
}

/* Returns whether a mapping of sh gives key kn a value. */
static int
shadowed(yaml_document_t *doc, const yaml_node_t *kn, const struct shadow *sh)
{
	for (; sh != NULL; sh = sh->next)
		if (has_key(doc, sh->map, kn, sh->own ? MERGE_DEPTH : 0))
			return 1;
	return 0;
}

/* Joins the scalars of a YAML list with ", " into *out (to free).
 * Returns a status. */
static enum cstatus
join_list(struct walk *w, yaml_node_t *seq, const char *path,
    const char *src, char **out)
{
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	size_t			 len = 1, used = 0, l;
	char			*buf;

	for (it = seq->data.sequence.items.start;
	    it < seq->data.sequence.items.top; it++) {
		n = yaml_document_get_node(w->doc, *it);
		if (n == NULL || n->type != YAML_SCALAR_NODE)
			return wnote(w, CONF_ERR_TYPE,
			    "%s: %s: expected a list of strings", src, path);
		len += n->data.scalar.length + 2;
	}
	if ((buf = malloc(len)) == NULL)
		return wnote(w, CONF_ERR_NOMEM, "out of memory");
	for (it = seq->data.sequence.items.start;
	    it < seq->data.sequence.items.top; it++) {
		n = yaml_document_get_node(w->doc, *it);
		l = n->data.scalar.length;
		if (used > 0) {
			memcpy(buf + used, ", ", 2);
			used += 2;
		}
		memcpy(buf + used, n->data.scalar.value, l);
		used += l;
	}
	buf[used] = '\0';
	*out = buf;
	return CONF_OK;
}

static enum cstatus walk_mapping(struct walk *, yaml_node_t *, const char *,
		    const struct shadow *, int);

/*
 * Applies what the merge key of map (on line) brings in (v: one mapping
 * or a list of them, the first winning), under the keys of map itself
 * and of the shadows sh.  Returns a status.
 */
static enum cstatus
walk_merge(struct walk *w, yaml_node_t *map, yaml_node_t *v,
    unsigned long line, const char *prefix, const struct shadow *sh,
    int depth)
{
	struct shadow		 own = { map, 1, sh }, chain[MERGE_MAX];
	const struct shadow	*top = &own;
	yaml_node_item_t	*it;
	yaml_node_t		*m;
	enum cstatus		 st;
	size_t			 n = 0;

	if (depth >= MERGE_DEPTH)
		return wnote(w, CONF_ERR_YAML, "%s:%lu: merge "
		    "keys nested more than %d deep", w->name, line,
		    MERGE_DEPTH);
	if (v->type == YAML_MAPPING_NODE) {
		if (++w->merges > MERGE_MAX)
			goto toomany;
		return walk_mapping(w, v, prefix, top, depth + 1);
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return wnote(w, CONF_ERR_TYPE, "%s:%lu: the "
		    "merge key << takes a mapping or a list of mappings",
		    w->name, line);
	for (it = v->data.sequence.items.start;
	    it < v->data.sequence.items.top; it++) {
		m = yaml_document_get_node(w->doc, *it);
		if (m == NULL || m->type != YAML_MAPPING_NODE)
			return wnote(w, CONF_ERR_TYPE,
			    "%s:%lu: the merge key << takes a mapping or a "
			    "list of mappings", w->name, line);
		if (++w->merges > MERGE_MAX || n == MERGE_MAX)
			goto toomany;
		if ((st = walk_mapping(w, m, prefix, top, depth + 1)) !=
		    CONF_OK)
			return st;
		/* This one wins over the ones after it. */
		chain[n].map = m;
		chain[n].own = 0;
		chain[n].next = top;
		top = &chain[n++];
	}
	return CONF_OK;
toomany:
	return wnote(w, CONF_ERR_YAML, "%s:%lu: more than %d "
	    "merged mappings", w->name, line, MERGE_MAX);
}

/* Returns whether n is a plain YAML null: empty, ~ or null. */
static int
yaml_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && (*v == '\0' ||
	    strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0);
}

/*
 * Applies the value node vn (from src) to key k: a list for a list key,
 * else a scalar; a YAML null keeps the default, as cconfig does.  A bad
 * value is noted and keeps what was there.  Returns a status.
 */
static enum cstatus
walk_value(struct walk *w, enum ckey k, yaml_node_t *vn, const char *src)
{
	const char	*path = defs[k].path;
	char		 e[512], *list = NULL;
	enum cstatus	 st;
	enum ctype	 t;
	long		 iv = 0;
	int		 isnull;

	if (vn->type == YAML_SEQUENCE_NODE &&
	    (defs[k].flags & (CF_LIST | CF_COMPS))) {
		if ((st = join_list(w, vn, path, src, &list)) != CONF_OK)
			return st;
		st = set_value(w->cfg, k, CT_STR, 0, list, src, e, sizeof(e));
		free(list);
	} else if (vn->type != YAML_SCALAR_NODE)
		return wnote(w, CONF_ERR_TYPE, "%s: %s: expected %s, got %s",
		    src, path, typenames[defs[k].type],
		    vn->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
	else {
		t = yaml_type(vn, &iv, &isnull);
		if (isnull)
			return CONF_OK;
		st = set_value(w->cfg, k, t, iv,
		    (const char *)vn->data.scalar.value, src, e, sizeof(e));
	}
	if (st != CONF_OK)
		wnote(w, st, "%s", e);
	return st;
}

/*
 * Applies one mapping node found at prefix, but no key that a shadowing
 * mapping in sh sets (depth: of merge keys).  A key given twice counts
 * once, the last time; a section given twice is the last one alone, as
 * Ruby reads it.  Returns a status.
 */
static enum cstatus
walk_mapping(struct walk *w, yaml_node_t *map, const char *prefix,
    const struct shadow *sh, int depth)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*kn, *vn, *again;
	char			 path[256], src[160], q[64];
	const char		*key;
	enum cstatus		 st;
	int			 k;
	unsigned long		 line;

	for (pair = map->data.mapping.pairs.start;
	    pair < map->data.mapping.pairs.top; pair++) {
		kn = yaml_document_get_node(w->doc, pair->key);
		vn = yaml_document_get_node(w->doc, pair->value);
		if (kn == NULL || vn == NULL)
			continue;
		line = (unsigned long)kn->start_mark.line + 1;
		if (kn->type != YAML_SCALAR_NODE) {
			plog(PL_WARN, "%s:%lu: a key that is not a string is "
			    "ignored", w->name, line);
			continue;
		}
		if (is_merge_key(kn)) {
			if ((st = walk_merge(w, map, vn, line, prefix, sh,
			    depth)) != CONF_OK)
				return st;
			continue;
		}
		key = (const char *)kn->data.scalar.value;
		if ((again = given_again(w->doc, map, pair, kn)) != NULL) {
			plog(PL_WARN, "%s:%lu: %s is given again on line %lu, "
			    "which counts instead", w->name, line,
			    quote_value(0, key, q, sizeof(q)),
			    (unsigned long)again->start_mark.line + 1);
			continue;
		}
		if (shadowed(w->doc, kn, sh))
			continue;
		/* Ruby reads "ldap.enabled: true" as a key of that name. */
		if (strchr(key, '.') != NULL || *key == '\0') {
			plog(PL_WARN, "%s:%lu: unknown key %s ignored (a "
			    "section is a mapping of its own)", w->name, line,
			    quote_value(0, key, q, sizeof(q)));
			continue;
		}
		if (snprintf(path, sizeof(path), "%s%s%s", prefix,
		    *prefix ? "." : "", key) >= (int)sizeof(path)) {
			plog(PL_WARN, "%s:%lu: key too long, ignored",
			    w->name, line);
			continue;
		}
		k = find_key(path);
		if (k < 0) {
			/* An empty section ("health:", "health: ~") is no
			 * setting, as cconfig's local[k] || {} reads it. */
			if (is_section(path) && yaml_null(vn))
				continue;
			if (is_section(path) && vn->type != YAML_MAPPING_NODE) {
				wnote(w, CONF_ERR_TYPE, "%s:%lu: %s: expected "
				    "a mapping, got %s", w->name,
				    (unsigned long)vn->start_mark.line + 1,
				    path, vn->type == YAML_SCALAR_NODE ?
				    "a scalar" : "a list");
				if (strcmp(path, "health") == 0)
					w->cfg->allow_unknown = 1;
			} else if (is_section(path)) {
				if ((st = walk_mapping(w, vn, path, NULL,
				    depth)) != CONF_OK)
					return st;
			} else if (!is_portus_key(path))
				plog(PL_WARN, "%s:%lu: unknown key %s ignored",
				    w->name, line, quote_value(0, path, q,
				    sizeof(q)));
			continue;
		}
		if (defs[k].flags & CF_ENVONLY) {
			config_envname(w->cfg, k, src, sizeof(src));
			plog(PL_WARN, "%s:%lu: %s is read from the environment "
			    "only (%s), ignored", w->name, line, path, src);
			continue;
		}
		line = (unsigned long)vn->start_mark.line + 1;
		snprintf(src, sizeof(src), "%s:%lu", w->name, line);
		if (walk_value(w, k, vn, src) != CONF_OK && k == K_HEALTH_ALLOW)
			w->cfg->allow_unknown = 1;
	}
	return CONF_OK;
}

/*
 * Applies the YAML text buf (named name in messages) over cfg.  A bad
 * value keeps what was there; a file that is not YAML, or not a mapping,
 * changes nothing.  Returns CONF_OK (an empty document is fine), or the
 * first error, naming file and line.
 */
enum cstatus
config_load_yaml(struct config *cfg, const char *buf, size_t len,
    const char *name, char *err, size_t errsz)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
	yaml_node_t	*root;
	struct walk	 w;
	enum cstatus	 st = CONF_OK;

	if (!yaml_parser_initialize(&parser))
		return cerr(CONF_ERR_NOMEM, err, errsz, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		cfg->allow_unknown = 1;
		st = cerr(CONF_ERR_YAML, err, errsz,
		    "%s:%lu:%lu: invalid YAML: %s%s%s", name,
		    (unsigned long)parser.problem_mark.line + 1,
		    (unsigned long)parser.problem_mark.column + 1,
		    parser.problem != NULL ? parser.problem : "syntax error",
		    parser.context != NULL ? " " : "",
		    parser.context != NULL ? parser.context : "");
		yaml_parser_delete(&parser);
		return st;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		goto out;
	/* An empty document, or a null one (~), is no setting at all. */
	if (root->type == YAML_SCALAR_NODE &&
	    root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (root->data.scalar.length == 0 ||
	    strcmp((char *)root->data.scalar.value, "~") == 0 ||
	    strcasecmp((char *)root->data.scalar.value, "null") == 0))
		goto out;
	if (root->type != YAML_MAPPING_NODE) {
		cfg->allow_unknown = 1;
		st = cerr(CONF_ERR_YAML, err, errsz,
		    "%s:%lu: the top level is not a mapping", name,
		    (unsigned long)root->start_mark.line + 1);
		goto out;
	}
	w.cfg = cfg;
	w.doc = &doc;
	w.name = name;
	w.err = err;
	w.errsz = errsz;
	w.st = CONF_OK;
	w.merges = 0;
	/* A walk stopped half-way may have missed health.allow. */
	if (walk_mapping(&w, root, "", NULL, 0) != CONF_OK)
		cfg->allow_unknown = 1;
	st = w.st;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return st;
}

/*
 * Applies the YAML file at path over cfg.  A missing file is fine.
 * Returns a status; err names the file.
 */
enum cstatus
config_load_file(struct config *cfg, const char *path, char *err,
    size_t errsz)
{
	struct stat	 sb;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd;
	enum cstatus	 st;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			return CONF_OK;
		return cerr(CONF_ERR_FILE, err, errsz, "%s: cannot read: %s",
		    path, strerror(errno));
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		st = cerr(CONF_ERR_FILE, err, errsz, "%s: not a regular file",
		    path);
		goto out;
	}
	if (sb.st_size > CONF_FILE_MAX) {
		st = cerr(CONF_ERR_FILE, err, errsz, "%s: larger than %d "
		    "bytes", path, CONF_FILE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		st = cerr(CONF_ERR_NOMEM, err, errsz, "out of memory");
		goto out;
	}
	while (len < (size_t)sb.st_size) {
		r = read(fd, buf + len, (size_t)sb.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			st = cerr(CONF_ERR_FILE, err, errsz, "%s: cannot "
			    "read: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	st = config_load_yaml(cfg, buf, len, path, err, errsz);
out:
	free(buf);
	close(fd);
	return st;
}

/* Reads CCONFIG_PREFIX of envp into cfg->prefix, in upper case as
 * cconfig uses it.  Returns a status. */
static enum cstatus
read_prefix(struct config *cfg, char *const *envp, char *err, size_t errsz)
{
	const char	*p = env_lookup(envp, "CCONFIG_PREFIX");
	size_t		 i, n;

	if (p == NULL || *p == '\0')
		return CONF_OK;
	n = strlen(p);
	if (n >= sizeof(cfg->prefix) || strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return cerr(CONF_ERR_TYPE, err, errsz, "CCONFIG_PREFIX: "
		    "expected letters, digits or _, at most %zu (from the "
		    "environment); using %s", sizeof(cfg->prefix) - 1,
		    PREFIX_DEFAULT);
	/* A CGI program's environment holds the client's headers. */
	if (strncasecmp(p, "HTTP", 4) == 0)
		return cerr(CONF_ERR_TYPE, err, errsz, "CCONFIG_PREFIX: a "
		    "prefix starting with HTTP would let request headers set "
		    "settings; using %s", PREFIX_DEFAULT);
	for (i = 0; i <= n; i++)
		cfg->prefix[i] = (char)toupper((unsigned char)p[i]);
	return CONF_OK;
}

/* Settles what the defaults leave to other settings: the database port
 * (the adapter's own) and, where Portus's migrations are installed, the
 * directory of migrations to compare with. */
static void
settle(struct config *cfg, char *const *envp)
{
	const struct dbdriver	*drv;
	struct stat		 sb;
	const char		*tmp;
	char			*dup, dir[512];

	if (cfg->v[K_DB_PORT].i == 0 && (drv = db_driver(cfg)) != NULL) {
		cfg->v[K_DB_PORT].i = drv->port;
		snprintf(cfg->v[K_DB_PORT].src, sizeof(cfg->v[K_DB_PORT].src),
		    "default (%s)", drv->adapter);
	}
	if (strcmp(cfg->v[K_HEALTH_MIGRATIONS].src, "default") == 0 &&
	    stat(MIGRATIONS_DEFAULT, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (dup = strdup(MIGRATIONS_DEFAULT)) != NULL) {
		free(cfg->v[K_HEALTH_MIGRATIONS].s);
		cfg->v[K_HEALTH_MIGRATIONS].s = dup;
		snprintf(cfg->v[K_HEALTH_MIGRATIONS].src,
		    sizeof(cfg->v[K_HEALTH_MIGRATIONS].src),
		    "default (the directory exists)");
	}
	/* The user's own, under $TMPDIR: never a directory shared with the
	 * web server's socket. */
	if (*cfg_str(cfg, K_HEALTH_CACHE_DIR) == '\0' &&
	    strcmp(cfg->v[K_HEALTH_CACHE_DIR].src, "default") == 0) {
		tmp = env_lookup(envp, "TMPDIR");
		if (tmp == NULL || *tmp != '/')
			tmp = "/tmp";
		if (snprintf(dir, sizeof(dir), "%s/portus-health-%ld", tmp,
		    (long)geteuid()) < (int)sizeof(dir) &&
		    (dup = strdup(dir)) != NULL) {
			free(cfg->v[K_HEALTH_CACHE_DIR].s);
			cfg->v[K_HEALTH_CACHE_DIR].s = dup;
			snprintf(cfg->v[K_HEALTH_CACHE_DIR].src,
			    sizeof(cfg->v[K_HEALTH_CACHE_DIR].src),
			    "default ($TMPDIR/portus-health-UID)");
		}
	}
}

/*
 * The whole merge: defaults, the local file (<prefix>_LOCAL_CONFIG_PATH
 * or config/config-local.yml), then the environment envp, as cconfig
 * does it.  A bad value keeps its default, so cfg is always usable and
 * always to be freed with config_free.  Returns CONF_OK, or the first
 * error (err says what and where).
 */
enum cstatus
config_load(struct config *cfg, char *const *envp, char *err, size_t errsz)
{
	char		 name[PREFIX_MAX + 32], e[512];
	const char	*path;
	enum cstatus	 st, st2;

	if ((st = config_init(cfg)) != CONF_OK)
		return cerr(st, err, errsz, "out of memory");
	st = read_prefix(cfg, envp, err, errsz);
	snprintf(name, sizeof(name), "%s_LOCAL_CONFIG_PATH", cfg->prefix);
	path = env_lookup(envp, name);
	if (path == NULL || *path == '\0')
		path = CONF_DEFAULT;
	snprintf(cfg->file, sizeof(cfg->file), "%s", path);
	st2 = config_load_file(cfg, path, e, sizeof(e));
	if (st2 == CONF_ERR_FILE || st2 == CONF_ERR_NOMEM)
		cfg->allow_unknown = 1;
	if (st2 != CONF_OK && st == CONF_OK) {
		st = st2;
		cerr(st, err, errsz, "%s", e);
	}
	st2 = config_apply_env(cfg, envp, e, sizeof(e));
	if (st2 != CONF_OK && st == CONF_OK) {
		st = st2;
		cerr(st, err, errsz, "%s", e);
	}
	settle(cfg, envp);
	return st;
}

/*
 * Returns s with the password of a "user:password@" part (a URL, or a
 * registry host name) replaced by asterisks, in buf; s itself when it
 * has none.
 */
static const char *
mask_userinfo(const char *s, char *buf, size_t sz)
{
	const char	*start, *at, *colon;
	int		 n;

	start = strstr(s, "://");
	start = start != NULL ? start + 3 : s;
	at = start + strcspn(start, "/?#@");
	if (*at != '@')
		return s;
	if ((colon = memchr(start, ':', (size_t)(at - start))) == NULL)
		return s;
	n = snprintf(buf, sz, "%.*s********%s", (int)(colon + 1 - s), s, at);
	return n < 0 || (size_t)n >= sz ? "********" : buf;
}

/* Writes the value of key k, as --print-config shows it (secrets
 * masked, credentials in URLs masked, bounded and printable), into val. */
static void
format_value(const struct config *cfg, enum ckey k, char *val, size_t sz)
{
	const struct confdef	*d = &defs[k];
	const char		*s;
	char			 url[512];
	size_t			 n;

	if (d->type == CT_INT) {
		snprintf(val, sz, "%ld", cfg->v[k].i);
		return;
	}
	if (d->type == CT_BOOL) {
		snprintf(val, sz, "%s", cfg->v[k].i ? "true" : "false");
		return;
	}
	s = cfg_str(cfg, k);
	if ((d->flags & CF_SECRET) && *s != '\0')
		s = "********";
	else
		s = mask_userinfo(s, url, sizeof(url));
	val[0] = '"';
	for (n = 1; *s != '\0' && n + 5 < sz; s++)
		val[n++] = isprint((unsigned char)*s) ? *s : '?';
	if (*s != '\0')
		n += (size_t)snprintf(val + n, 4, "...");
	val[n++] = '"';
	val[n] = '\0';
}

/* Prints the merged configuration, one key a line, secrets masked. */
void
config_print(const struct config *cfg, FILE *fp)
{
	char	 val[128];
	size_t	 k;

	fprintf(fp, "# %s %s: merged configuration (local file %s, "
	    "variables %s_*)\n", PH_NAME, PH_VERSION, cfg->file, cfg->prefix);
	for (k = 0; k < K__MAX; k++) {
		format_value(cfg, k, val, sizeof(val));
		fprintf(fp, "%-34s %-24s # %s\n", defs[k].path, val,
		    cfg->v[k].src);
	}
}

/* Logs each key whose value differs between the configurations was and
 * now (a secret only as changed). */
void
config_diff(const struct config *was, const struct config *now)
{
	char	 val[128];
	size_t	 k;

	for (k = 0; k < K__MAX; k++) {
		if (defs[k].type == CT_STR ? strcmp(cfg_str(was, k),
		    cfg_str(now, k)) == 0 : was->v[k].i == now->v[k].i)
			continue;
		if (defs[k].flags & CF_SECRET) {
			plog(PL_INFO, "configuration: %s changed (%s)",
			    defs[k].path, now->v[k].src);
			continue;
		}
		format_value(now, k, val, sizeof(val));
		plog(PL_INFO, "configuration: %s is now %s (%s)", defs[k].path,
		    val, now->v[k].src);
	}
}
