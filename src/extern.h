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
double		 wall_now(void);

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
	K_LDAP_CA_FILE,
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
	K_HEALTH_CACHE_DIR,
	K_HEALTH_SANDBOX,
	K_HEALTH_OPTIONAL,
	K_HEALTH_PORTUS_URL,
	K_MACHINE_FQDN,
	K_KEY_PATH,
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
#define PREFIX_MAX	32

struct config {
	struct cvalue	 v[K__MAX];
	char		 prefix[PREFIX_MAX];	/* CCONFIG_PREFIX, upper case */
	char		 file[512];	/* the local file looked at */
	struct net	 allow[ALLOW_MAX];	/* health.allow, parsed */
	size_t		 nallow;	/* 0: everyone */
	int		 allow_unknown;	/* health.allow could not be read */
	unsigned	 optional;	/* health.optional, as a mask */
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
void		 config_diff(const struct config *, const struct config *);
const char	*config_keyname(enum ckey);
const char	*config_envname(const struct config *, enum ckey, char *,
		    size_t);
int		 config_is_setting(const char *, const char *);
int		 ruby_integer(const char *, long *);
enum ctype	 config_type_value(const char *, long *);
const char	*cfg_str(const struct config *, enum ckey);
int		 config_set(struct config *, enum ckey, const char *,
		    const char *);
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
int		 response_head_retry(char *, size_t, int, int, size_t, int);
const char	*status_text(int);

/* fcgi.c: the FastCGI protocol of a responder (records in, records out). */
#define WBUF_MAX	(1024 * 1024)	/* bytes waiting to be written */
#define FCGI_PARAMS_MAX	(256 * 1024)	/* a request's parameters */

struct wbuf {
	unsigned char	*b;
	size_t		 len, cap;
	size_t		 off;		/* written so far */
};

enum fcgi_ev {
	FCGI_NONE,	/* nothing to do: more bytes are needed */
	FCGI_REQUEST,	/* a request's parameters are complete */
	FCGI_ABORT,	/* the web server gave the request up */
	FCGI_TOOBIG,	/* its parameters are over FCGI_PARAMS_MAX */
	FCGI_BAD	/* not FastCGI: close the connection */
};

struct fcgi {
	int		 id;		/* the request on the connection; 0: none */
	int		 keep;		/* FCGI_KEEP_CONN */
	int		 ready;		/* its parameters are complete */
	int		 aborted;
	int		 toobig;
	unsigned char	*params;	/* the PARAMS stream */
	size_t		 plen, pcap;
	char		**vars;		/* decoded: NAME=VALUE, NULL-terminated */
	char		*varbuf;
};

int		 wbuf_add(struct wbuf *, const void *, size_t);
void		 wbuf_reset(struct wbuf *);
void		 wbuf_free(struct wbuf *);
size_t		 fcgi_read(struct fcgi *, const unsigned char *, size_t,
		    struct wbuf *, enum fcgi_ev *);
int		 fcgi_respond(struct wbuf *, int, const char *, size_t);
const char	*fcgi_param(const struct fcgi *, const char *);
char *const	*fcgi_envp(const struct fcgi *);
void		 fcgi_reset(struct fcgi *);
void		 fcgi_free(struct fcgi *);

/*
 * component.c: the components, as data.  Each has a name (the key in the
 * document), an IETF componentType, whether the configuration enables it
 * (and why not), a kept handle (a connection kept across runs), its check,
 * and the component it must run after under a configuration.
 */
enum comp { COMP_DATABASE, COMP_REGISTRY, COMP_CLAIR, COMP_LDAP, COMP_PORTUS,
    COMP__MAX };

struct compres {
	int		 present;	/* part of this run */
	int		 success;
	char		 msg[192];	/* what the body says */
	char		 reason[256];	/* what the log says */
	double		 ms;		/* how long the check took */
};

/* The first row of Portus's registries table, read by the database check
 * for the registry check that runs after it. */
struct regrow {
	int		 db_ok;		/* the database answered */
	int		 found;
	char		 hostname[256];
	int		 use_ssl;
};

/* What one check is given. */
struct probe {
	const struct config *cfg;
	void		*handle;	/* the component's kept handle */
	double		 deadline;	/* mono_now() of the run's end */
	struct compres	*res;		/* where the check writes */
	struct regrow	*row;		/* shared by the database and registry */
	int		 want_row;	/* the run needs the registries row */
};

struct component {
	const char	*name;
	const char	*type;
	const char	*(*disabled)(const struct config *);
	void		*(*open)(void);
	void		 (*close)(void *);
	void		 (*check)(struct probe *);
	int		 (*after)(const struct config *);
};

extern const struct component components[COMP__MAX];

const char	*comp_name(int);
int		 comp_from_name(const char *);
unsigned	 comp_enabled(const struct config *);
int		 comp_ok(const struct compres *, unsigned, unsigned);
void		 compres_set(struct compres *, int, const char *,
		    const char *);

/* check_db.c: the database component, over one of two drivers. */
enum dbstate {
	DB_UP,
	DB_INIT,
	DB_MISSING,
	DB_DOWN,
	DB_UNKNOWN
};

/* How a query ended. */
enum qstatus {
	Q_OK,		/* rows were handed to the callback */
	Q_NO_TABLE,	/* the table does not exist */
	Q_ERROR,	/* another SQL error (reason says which) */
	Q_LOST,		/* the connection broke */
	Q_TIMEOUT	/* the deadline came */
};

/* Called with each row of a query: its columns as text (NULL for SQL
 * NULL).  Returns 0 to go on. */
typedef int	(*db_row_cb)(void *, const char *const *, int);

struct dbdriver {
	const char	*adapter;	/* PORTUS_DB_ADAPTER */
	long		 port;		/* its default port */
	void		*(*connect)(const struct config *, double,
			    enum dbstate *, char *, size_t);
	enum qstatus	 (*query)(void *, const char *, double, db_row_cb,
			    void *, char *, size_t);
	void		 (*close)(void *);
};

extern const struct dbdriver pg_driver;		/* check_pg.c */
extern const struct dbdriver mysql_driver;	/* check_mysql.c */

const struct dbdriver *db_driver(const struct config *);
const char	*db_message(enum dbstate);
void		*db_open(void);
void		 db_close(void *);
enum dbstate	 db_check(void *, const struct config *, double,
		    struct regrow *, char *, size_t);
void		 check_database(struct probe *);
const char	*db_check_word(enum dbstate);

/* curl.c: the libcurl plumbing the HTTP checks share. */
struct http;

struct httpreq {
	const char	*url;
	const char	*ca_file;	/* "" for the system's CAs */
	long		 connect_ms;
	long		 total_ms;
	const char	*apiver_header;	/* a header to look for, or NULL */
	int		 apiver;	/* out: that header was seen */
	const char	*bearer;	/* a token to present, or NULL */
	char		*wwwauth;	/* out: WWW-Authenticate, if not NULL */
	size_t		 wwwauth_sz;
	char		*body;		/* out: the body's start, if not NULL */
	size_t		 body_sz;
	size_t		 body_len;
};

int		 http_global_init(void);
void		 http_global_free(void);
void		*http_open(void);
void		 http_close(void *);
long		 http_get(struct http *, struct httpreq *, const char **);
void		 http_req(struct httpreq *, const struct probe *, const char *,
		    long, long);
void		 http_result(struct probe *, long, const char *, const char *,
		    const char *);
long		 cap_ms(long, double);
const char	*curl_phrase(int);

/* check_registry.c, check_clair.c, check_ldap.c: the HTTP and LDAP
 * components. */
enum urlstatus { URL_OK, URL_ADDED_SCHEME, URL_BAD_SCHEME, URL_INVALID };

void		 check_registry(struct probe *);
int		 registry_bearer_service(const char *, char *, size_t);
int		 registry_error_code(const char *, char *, size_t, char *,
		    size_t);
enum urlstatus	 clair_health_url(const char *, long, char *, size_t);
void		 check_clair(struct probe *);
void		 check_portus(struct probe *);
void		*ldap_open(void);
void		 ldap_close(void *);
void		 check_ldap(struct probe *);
int		 ldap_method(const char *);

/* token.c: registry tokens as Portus makes them (all libcrypto calls). */
struct signer;

struct signer	*signer_load(const char *, char *, size_t);
void		 signer_free(struct signer *);
const char	*signer_kid(const struct signer *);
char		*token_make(struct signer *, const char *, const char *, char *,
		    size_t);
void		*registry_open(void);
void		 registry_close(void *);

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

/* sha256.c: SHA-256, for the names of shared results. */
#include <stdint.h>

struct sha256 {
	uint32_t	 h[8];
	unsigned char	 buf[64];
	size_t		 n;		/* bytes in buf */
	size_t		 len;		/* bytes in all */
};

void		 sha256_init(struct sha256 *);
void		 sha256_update(struct sha256 *, const void *, size_t);
void		 sha256_final(struct sha256 *, unsigned char *);

/* cache.c: the result shared by the processes of one configuration. */
struct shared;

struct shared	*shared_open(const struct config *);
void		 shared_close(struct shared *);
struct result	*shared_read(struct shared *, long, int, int *);
int		 shared_lock(struct shared *, double);
void		 shared_unlock(struct shared *);
void		 shared_write(struct shared *, const struct result *);
int		 cache_parse(const char *, const char *, size_t,
		    struct result *, long *);
char		*cache_render(const char *, const struct result *, size_t *);

/* health.c: one health run, its deadline, the cache, coalescing. */
#define HISTORY_MAX	60	/* results kept per component */

/* One past result of a component. */
struct mark {
	double		 wall;		/* Unix time of the run */
	float		 ms;
	unsigned char	 ok;
};

/* A component's recent results, oldest first, and since when its
 * present state holds. */
struct chist {
	int		 n;
	struct mark	 m[HISTORY_MAX];
	double		 since;
};

struct result {
	int		 refs;
	int		 ok;		/* every component that counts succeeded */
	unsigned	 optional;	/* components that do not count */
	struct compres	 comp[COMP__MAX];
	char		*json;		/* compact document */
	size_t		 jsonlen;
	double		 at;		/* mono_now() when finished */
	double		 wall;		/* Unix time when finished */
	struct chist	 hist[COMP__MAX];
};

/* Requests answered, by route and status (for /_metrics). */
#define STATUS_KINDS	10

struct counters {
	long		 n[ROUTE_METRICS + 1][STATUS_KINDS];	/* atomic */
};

struct health;
typedef void	(*health_cb)(struct result *, void *);

void		 health_lint(const struct config *);
struct health	*health_new(const struct config *);
void		 health_free(struct health *);
int		 health_idle(struct health *);
const struct config *health_config(const struct health *);
struct result	*health_cached(struct health *);
int		 health_request(struct health *, health_cb, void *);
int		 health_cancel(struct health *, void *);
struct result	*health_run_once(const struct config *, unsigned);
struct result	*health_run_shared(const struct config *);
void		 history_add(struct result *, const struct result *);
void		 result_release(struct result *);

/* report.c: results -> JSON, health+json, the page, metrics. */
char		*report_json(const struct compres *, int, size_t *);
char		*report_render(const struct result *, unsigned, enum format,
		    size_t *, int *);
char		*report_metrics(const struct result *, const struct counters *,
		    int, size_t *);
int		 status_index(int);
char		*report_error(const char *, const char *, size_t *);

/* serve.c: one request, from its variables to its answer, for CGI and
 * FastCGI alike. */
struct request;
struct frontend;
struct site;
struct sites;
typedef const char *(*var_fn)(const char *, void *);
typedef void	(*request_cb)(struct request *, void *);

struct request	*request_new(var_fn, void *);
void		 request_free(struct request *);
int		 serve_fcgi(struct request *, struct frontend *, char *const *,
		    request_cb, void *);
void		 serve_finish(struct request *);
int		 serve_cancel(struct request *);
void		 serve_toobig(struct request *);
void		 serve_cgi(struct request *, const struct config *,
		    const char *);
const struct wbuf *request_output(const struct request *);
struct frontend	*frontend_new(struct site *, struct sites *, const char *,
		    long);
void		 frontend_free(struct frontend *);

/* sandbox.c: dropping root, and the sandbox after start-up. */
int		 drop_privileges(const char *, char *, size_t);
int		 sandbox(const struct config *);

/* server.c: the FastCGI responder's event loops. */
struct server;

struct server	*server_start(int, struct frontend *, long, long);
void		 server_stop(struct server *);
long		 server_park_max(long);
int		 listen_on(const char *);

/* site.c: the settings of the process, or of one set of per-request
 * parameters, and the health state that checks with them; the file is
 * read again when it changes. */
struct site;
struct sites;

struct siteview {
	struct health	*health;	/* NULL while the settings are broken */
	const struct config *cfg;	/* always usable (defaults if broken) */
	const char	*error;		/* the configuration error, or NULL */
	int		 config_ok;	/* no error, and the file read last */
};

struct site	*site_new(char *const *, char *const *, const char *);
void		 site_free(struct site *);
void		 site_get(struct site *, struct siteview *);
void		 site_put(struct site *, struct siteview *);
void		 site_reload_all(void);
void		 site_poll(struct site *);
void		 sites_poll(struct sites *);
int		 site_busy(struct site *);
int		 sites_busy(struct sites *);
struct sites	*sites_new(const char *);
void		 sites_free(struct sites *);
struct site	*sites_get(struct sites *, const char *, char *const *);

#endif
