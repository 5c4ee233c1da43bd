/*
 * Private interfaces of portus-health.  Data flows one way:
 * request -> route -> health run -> checks -> JSON -> response.
 */
#ifndef PORTUS_HEALTH_EXTERN_H
#define PORTUS_HEALTH_EXTERN_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdio.h>

#define PH_VERSION	"0.1.0"
#define PH_NAME		"portus-health"

/* log.c: one line per event on standard error. */
enum plevel { PL_ERROR, PL_WARN, PL_INFO, PL_DEBUG };
void		 plog(enum plevel, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 plog_set_level(enum plevel);
double		 mono_now(void);

/* config.c: defaults table -> config-local.yml -> PORTUS_* environment. */
enum ctype { CT_STR, CT_INT, CT_BOOL };

enum ckey {
	K_CLAIR_SERVER,
	K_CLAIR_HEALTH_PORT,
	K_CLAIR_TIMEOUT,
	K_REG_TIMEOUT,
	K_REG_READ_TIMEOUT,
	K_REG_HOSTNAME,
	K_REG_USE_SSL,
	K_LDAP_ENABLED,
	K_LDAP_HOSTNAME,
	K_LDAP_PORT,
	K_LDAP_TIMEOUT,
	K_LDAP_METHOD,
	K_LDAP_AUTH_ENABLED,
	K_LDAP_BIND_DN,
	K_LDAP_PASSWORD,
	K_HEALTH_TIMEOUT,
	K_HEALTH_CACHE_TTL,
	K_HEALTH_MIGRATIONS,
	K_HEALTH_WORKERS,
	K_HEALTH_ALLOW,
	K_HEALTH_CA_FILE,
	K_HEALTH_INTERVAL,
	K_HEALTH_MAX_REQUESTS,
	K_DB_ADAPTER,
	K_DB_HOST,
	K_DB_USERNAME,
	K_DB_PASSWORD,
	K_DB_DATABASE,
	K_DB_PORT,
	K_DB_SOCKET,
	K_DB_TIMEOUT,
	K__MAX
};

enum cstatus {
	CONF_OK,
	CONF_ERR_FILE,		/* cannot read the file */
	CONF_ERR_YAML,		/* not YAML, or not a mapping */
	CONF_ERR_TYPE,		/* a value of the wrong type */
	CONF_ERR_RANGE,		/* a value out of its bounds */
	CONF_ERR_NOMEM
};

struct cvalue {
	long		 i;		/* CT_INT and CT_BOOL */
	char		*s;		/* CT_STR */
	char		 src[160];	/* where the value came from */
};

/* An IPv4 or IPv6 range; IPv4 is kept as ::ffff:a.b.c.d. */
struct net {
	unsigned char	 addr[16];
	int		 family;	/* 4 or 6 */
	int		 prefix;	/* 0-128, over the 16 bytes */
};

#define ALLOW_MAX	32

struct config {
	struct cvalue	 v[K__MAX];
	char		 file[512];	/* the local file looked at */
	struct net	 allow[ALLOW_MAX];	/* health.allow, parsed */
	size_t		 nallow;	/* 0: everyone */
};

const char	*config_strerror(enum cstatus);
enum cstatus	 config_init(struct config *);
void		 config_free(struct config *);
enum cstatus	 config_load(struct config *, char *const *, char *, size_t);
enum cstatus	 config_load_yaml(struct config *, const char *, size_t,
		    const char *, char *, size_t);
enum cstatus	 config_load_file(struct config *, const char *, char *,
		    size_t);
enum cstatus	 config_apply_env(struct config *, char *const *, char *,
		    size_t);
void		 config_print(const struct config *, FILE *);
const char	*config_keyname(enum ckey);
const char	*config_envname(enum ckey, char *, size_t);
enum ctype	 config_type_value(const char *, long *);
const char	*cfg_str(const struct config *, enum ckey);
long		 cfg_int(const struct config *, enum ckey);

/* request.c: CGI variables -> route, status; response head. */
enum route { ROUTE_NONE, ROUTE_PING, ROUTE_HEALTH, ROUTE_METRICS };

/* How a health result is written: Portus's document (the default), the
 * IETF health check format, a page for people. */
enum format { FMT_PORTUS, FMT_HEALTH_JSON, FMT_HTML };

/* Content types of the responses. */
enum mime { MIME_NONE, MIME_JSON, MIME_HEALTH_JSON, MIME_HTML,
    MIME_PROMETHEUS };

struct reqinfo {
	const char	*method;
	const char	*path_info;
	const char	*request_uri;
	const char	*query_string;	/* may be NULL */
	const char	*accept;	/* HTTP_ACCEPT, may be NULL */
};

struct answer {
	int		 status;	/* 200, 400, 403, 404, 405, 414 */
	enum route	 route;
	int		 head;		/* HEAD: headers only */
	const char	*body;		/* fixed JSON error body, or NULL */
	int		 comp;		/* /_health/NAME: that one; else -1 */
	unsigned	 exclude;	/* ?exclude=NAME,...: left out */
	enum format	 format;
};

#define PATH_MAX_LEN	2048

void		 request_route(const struct reqinfo *, struct answer *);
int		 net_parse(const char *, struct net *);
int		 net_allowed(const struct config *, const char *);
void		 request_allow(const struct config *, const char *,
		    struct answer *);
int		 path_decode(const char *, char *, size_t);
int		 response_head(char *, size_t, int, int, size_t);
const char	*status_text(int);

struct result;
struct counters;

/* report.c: results -> messages -> JSON. */
enum comp { COMP_DATABASE, COMP_REGISTRY, COMP_CLAIR, COMP_LDAP, COMP__MAX };

enum dbstate {
	DB_UP,
	DB_INIT,
	DB_MISSING,
	DB_DOWN,
	DB_UNKNOWN
};

struct compres {
	int		 present;	/* part of this run */
	int		 success;
	char		 msg[192];	/* what the body says */
	char		 reason[256];	/* what the log says */
	double		 ms;		/* how long the check took */
};

const char	*comp_name(enum comp);
int		 comp_from_name(const char *);
const char	*db_message(enum dbstate);
void		 compres_set(struct compres *, int, const char *,
		    const char *);
char		*report_json(const struct compres *, int, size_t *);
char		*report_render(const struct result *, unsigned, enum format,
		    size_t *, int *);
char		*report_metrics(const struct result *, const struct counters *,
		    size_t *);
int		 status_index(int);

/* check_db.c: PostgreSQL through libpq. */
struct db;

struct regrow {
	int		 lookup;	/* 1: the table was asked */
	int		 db_ok;		/* 1: the database answered */
	int		 found;
	char		 hostname[256];
	int		 use_ssl;
};

struct db	*db_new(void);
void		 db_free(struct db *);
enum dbstate	 db_check(struct db *, const struct config *, double,
		    struct regrow *, char *, size_t);

/* check_http.c: registry and clair through libcurl. */
struct http;

enum urlstatus { URL_OK, URL_ADDED_SCHEME, URL_BAD_SCHEME, URL_INVALID };

int		 http_global_init(void);
void		 http_global_free(void);
struct http	*http_new(void);
void		 http_free(struct http *);
enum urlstatus	 clair_health_url(const char *, long, char *, size_t);
void		 http_check_registry(struct http *, const struct config *,
		    const char *, int, double, struct compres *);
void		 http_check_clair(struct http *, const struct config *,
		    double, struct compres *);
void		 http_check_ldap(struct http *, const struct config *,
		    double, struct compres *);

/* starttls.c: LDAP STARTTLS done ahead of libcurl, through a relay. */
struct relay;

enum tlsstatus {
	TLS_OK,
	TLS_REFUSED,
	TLS_TIMEOUT,
	TLS_RESET,
	TLS_NOT_LDAP,
	TLS_DENIED,		/* the server answered with a resultCode */
	TLS_SYSTEM
};

const char	*starttls_strerror(enum tlsstatus);
long		 starttls_parse(const unsigned char *, size_t, int *);
enum tlsstatus	 relay_open(const struct sockaddr *, socklen_t, double,
		    struct relay **, int *, struct sockaddr_in *, int *);
void		 relay_close(struct relay *);

/* health.c: one health run, its deadline, the cache, coalescing. */
struct result {
	int		 refs;
	int		 ok;		/* every component succeeded */
	struct compres	 comp[COMP__MAX];
	char		*json;		/* compact document */
	size_t		 jsonlen;
	double		 at;		/* mono_now() when finished */
	double		 wall;		/* Unix time when finished */
};

/* Requests answered, by route and status (for /_metrics). */
#define STATUS_KINDS	10

struct counters {
	long		 n[ROUTE_METRICS + 1][STATUS_KINDS];	/* atomic */
};

struct health;
typedef void	(*health_cb)(struct result *, void *);

unsigned	 health_mask(const struct config *);
void		 health_lint(const struct config *);
struct health	*health_new(const struct config *);
void		 health_free(struct health *);
const struct config *health_config(const struct health *);
struct result	*health_cached(struct health *);
int		 health_request(struct health *, health_cb, void *);
struct result	*health_run_once(const struct config *, unsigned);
void		 result_release(struct result *);

struct sites;

struct sites	*sites_new(void);
void		 sites_free(struct sites *);
struct health	*sites_get(struct sites *, const char *, char *const *);

#endif
