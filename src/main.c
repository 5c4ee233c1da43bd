/*
 * The three modes of the one binary: a FastCGI responder (standard input
 * is a listening socket, or --listen; server.c serves it), a CGI program
 * (REQUEST_METHOD set), and the command line (--check, --check-db,
 * --print-config); options, the process's signals.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define EXIT_USAGE	2

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
/*
 * Sanitizer builds (make SANITIZE=1) only: reports go to files that the
 * test runner collects, also from processes a web server starts with an
 * environment of its own.  Never in a normal build.
 */
const char	*__asan_default_options(void);
const char	*__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "log_path=/tmp/portus-health-san/asan:detect_leaks=1";
}

const char *
__ubsan_default_options(void)
{
	return "log_path=/tmp/portus-health-san/ubsan:print_stacktrace=1";
}
#endif

/* Returns 1 if fd is a listening socket (spawn-fcgi, mod_fcgid,
 * systemd socket activation hand one on standard input). */
static int
is_listener(int fd)
{
	int		 v = 0;
	socklen_t	 len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 &&
	    v != 0;
}

/*
 * A FastCGI responder started as root serves as the user named by --user
 * (its socket is open already); without --user it refuses, as php-fpm
 * does.  A unix socket it made itself (listen, "unix:PATH") becomes that
 * user's, mode 0660, so a web server running as that user or group can
 * connect.  As another user, --user may only name that user.  Returns 0,
 * or -1 (said on standard error).
 */
static int
become(const char *user, const char *listen)
{
	struct passwd	*pw;
	char		 err[256];

	if (geteuid() == 0) {
		if (user == NULL) {
			fprintf(stderr, "%s: refusing to serve FastCGI as "
			    "root: give --user NAME (the socket is opened "
			    "first), or start it as that user\n", PH_NAME);
			return -1;
		}
		if (listen != NULL && strncmp(listen, "unix:", 5) == 0 &&
		    (pw = getpwnam(user)) != NULL &&
		    (chown(listen + 5, pw->pw_uid, pw->pw_gid) == -1 ||
		    chmod(listen + 5, 0660) == -1)) {
			fprintf(stderr, "%s: %s: %s\n", PH_NAME, listen + 5,
			    strerror(errno));
			return -1;
		}
		if (drop_privileges(user, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s: %s\n", PH_NAME, err);
			return -1;
		}
		return 0;
	}
	if (user != NULL && ((pw = getpwnam(user)) == NULL ||
	    pw->pw_uid != geteuid())) {
		fprintf(stderr, "%s: --user %s: only root can become another "
		    "user\n", PH_NAME, user);
		return -1;
	}
	return 0;
}

/*
 * Serves FastCGI on the listening socket fd, with the process's own
 * settings (their defaults while those are broken) for the number of
 * event loops, until SIGTERM or SIGINT (mod_fcgid and systemd stop us
 * so, and health.max_requests raises it); SIGHUP meanwhile has every
 * configuration read again.  Returns an exit status.
 */
static int
fcgi_main(int fd)
{
	struct site	*site = NULL;
	struct sites	*sites = NULL;
	struct frontend	*fe = NULL;
	struct server	*srv = NULL;
	struct siteview	 v;
	struct config	 boot;
	sigset_t	 set;
	long		 loops, maxreq;
	int		 sig, rc = EXIT_FAILURE, busy;

	/* Every thread inherits the mask: only sigwait sees these. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	/* The sandbox goes on before the first thread starts (Landlock binds
	 * the thread that asks, and those it starts). */
	config_load(&boot, environ, NULL, 0);
	sandbox(&boot);
	config_free(&boot);
	if ((site = site_new(NULL, environ, NULL)) == NULL) {
		plog(PL_ERROR, "cannot start: out of memory");
		goto out;
	}
	site_get(site, &v);
	if ((sites = sites_new(cfg_str(v.cfg, K_HEALTH_CACHE_DIR))) == NULL) {
		site_put(site, &v);
		plog(PL_ERROR, "cannot start: out of memory");
		goto out;
	}
	loops = cfg_int(v.cfg, K_HEALTH_WORKERS);
	maxreq = cfg_int(v.cfg, K_HEALTH_MAX_REQUESTS);
	fe = frontend_new(site, sites, v.cfg->prefix, server_park_max(loops));
	site_put(site, &v);
	if (fe == NULL || (srv = server_start(fd, fe, loops, maxreq)) == NULL)
		goto out;
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		plog(PL_INFO, "SIGHUP: reading the configuration again");
		site_reload_all();
		site_poll(site);
		sites_poll(sites);
	}
	plog(PL_INFO, "stopping (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
	server_stop(srv);
	rc = EXIT_SUCCESS;
out:
	/* A health run still in flight (a dependency that hangs) is not
	 * waited for: the process ends without freeing what it uses. */
	busy = (site != NULL && site_busy(site)) ||
	    (sites != NULL && sites_busy(sites));
	if (busy) {
		plog(PL_INFO, "a health run is still in flight; not waiting "
		    "for it");
		fflush(stdout);
		_exit(rc);
	}
	frontend_free(fe);
	sites_free(sites);
	site_free(site);
	return rc;
}

/* A CGI variable. */
static const char *
cgi_var(const char *name, void *arg)
{
	(void)arg;
	return getenv(name);
}

/* Serves one CGI request from the environment, with cfg (err: why it is
 * broken, or NULL).  Returns an exit status. */
static int
cgi_main(const struct config *cfg, const char *err)
{
	struct request		*r;
	const struct wbuf	*o;
	int			 rc = EXIT_FAILURE;

	if ((r = request_new(cgi_var, NULL)) == NULL)
		return EXIT_FAILURE;
	serve_cgi(r, cfg, err);
	o = request_output(r);
	if (fwrite(o->b, 1, o->len, stdout) == o->len && fflush(stdout) == 0)
		rc = EXIT_SUCCESS;
	request_free(r);
	return rc;
}

/* Returns 1 if a PORTUS_HEALTH_QUIET value means yes (t, y, 1...). */
static int
env_yes(const char *v)
{
	return v != NULL && strchr("tTyY1", v[0]) != NULL && v[0] != '\0';
}

/*
 * The command-line check: the components named (or every enabled one),
 * the document printed pretty.  Returns 0 when all succeed, 1 when not,
 * EXIT_USAGE for a name that is not a component.
 */
static int
check_main(const struct config *cfg, unsigned mask, int quiet)
{
	struct result	*res;
	char		*json;
	size_t		 len;
	unsigned	 enabled = comp_enabled(cfg);
	int		 c, rc;

	if (mask == 0)
		mask = enabled;
	for (c = 0; c < COMP__MAX; c++)
		if ((mask & 1u << c) && !(enabled & 1u << c)) {
			fprintf(stderr, "%s: component %s is not enabled "
			    "(%s)\n", PH_NAME, comp_name(c),
			    components[c].disabled(cfg));
			return EXIT_FAILURE;
		}
	if ((res = health_run_once(cfg, mask)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", PH_NAME);
		return EXIT_FAILURE;
	}
	rc = res->ok ? EXIT_SUCCESS : EXIT_FAILURE;
	if (!quiet) {
		if ((json = report_json(res->comp, 1, &len)) == NULL)
			rc = EXIT_FAILURE;
		else {
			printf("%s\n", json);
			free(json);
		}
	}
	result_release(res);
	return rc;
}

/* Prints the database's state as Portus's bin/check_db.rb does.  Returns
 * 0 for DB_READY, 1 otherwise. */
static int
check_db_main(const struct config *cfg)
{
	enum dbstate	 st;
	char		 reason[256];
	void		*db;

	if ((db = db_open()) == NULL) {
		fprintf(stderr, "%s: out of memory\n", PH_NAME);
		return EXIT_FAILURE;
	}
	st = db_check(db, cfg, mono_now() + (double)cfg_int(cfg,
	    K_HEALTH_TIMEOUT), NULL, reason, sizeof(reason));
	db_close(db);
	if (st != DB_UP)
		plog(PL_WARN, "database: %s (%s)", db_message(st), reason);
	printf("%s\n", db_check_word(st));
	return st == DB_UP ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* Adds the component called name to *mask.  Returns 0, or -1. */
static int
add_component(unsigned *mask, const char *name)
{
	int c;

	if ((c = comp_from_name(name)) < 0) {
		fprintf(stderr, "%s: unknown component \"%s\" (database, "
		    "registry, clair, ldap, portus)\n", PH_NAME, name);
		return -1;
	}
	*mask |= 1u << c;
	return 0;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s                      FastCGI (socket on stdin) or CGI\n"
	    "       %s --listen ADDR [--user NAME]  FastCGI on unix:/path or "
	    "HOST:PORT\n"
	    "       %s --check [-q] [-c NAME]...\n"
	    "       %s --check-db | --print-config | --help | --version\n",
	    PH_NAME, PH_NAME, PH_NAME, PH_NAME);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'C' },
		{ "check-db", no_argument, NULL, 'D' },
		{ "component", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "listen", required_argument, NULL, 'l' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "user", required_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct config	 cfg;
	char		 err[512], name[48];
	const char	*listen = NULL, *user = NULL, *v;
	unsigned	 mask = 0, fromargs;
	enum cstatus	 st;
	int		 ch, check = 0, checkdb = 0, printcfg = 0, quiet = 0;
	int		 rc, fd, i, cmdline;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "c:hq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			check = 1;
			break;
		case 'D':
			checkdb = 1;
			break;
		case 'c':
			if (add_component(&mask, optarg) == -1)
				return EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'l':
			listen = optarg;
			break;
		case 'p':
			printcfg = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'u':
			user = optarg;
			break;
		case 'V':
			printf("%s %s\n", PH_NAME, PH_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	fromargs = mask;
	cmdline = check + checkdb + printcfg;
	if (optind != argc || cmdline > 1 || (cmdline && listen != NULL) ||
	    ((mask || quiet) && !check)) {
		usage(stderr);
		return EXIT_USAGE;
	}

	fd = listen != NULL ? -1 : (is_listener(STDIN_FILENO) ? 0 : -1);
	if (!cmdline && listen == NULL && fd == -1 &&
	    getenv("REQUEST_METHOD") == NULL) {
		fprintf(stderr, "%s: not started by a web server: no "
		    "REQUEST_METHOD and standard input is not a socket\n",
		    PH_NAME);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (user != NULL && listen == NULL && fd == -1) {
		fprintf(stderr, "%s: --user is for a FastCGI responder "
		    "(--listen, or a socket on standard input)\n", PH_NAME);
		return EXIT_USAGE;
	}
	/* A FastCGI responder reads (and reads again) its own. */
	if (listen != NULL || fd == 0) {
		if (listen != NULL && (fd = listen_on(listen)) == -1)
			return EXIT_FAILURE;
		if (become(user, listen) == -1)
			return EXIT_USAGE;
		rc = fcgi_main(fd);
		http_global_free();
		return rc;
	}
	st = config_load(&cfg, environ, err, sizeof(err));
	if (!cmdline)
		sandbox(&cfg);
	if (st != CONF_OK) {
		plog(PL_ERROR, "configuration: %s", err);
		/* /_ping stays up; every other route says why. */
		rc = cmdline ? EXIT_USAGE : cgi_main(&cfg, err);
		goto out;
	}
	health_lint(&cfg);
	if (printcfg) {
		config_print(&cfg, stdout);
		rc = EXIT_SUCCESS;
	} else if (checkdb) {
		rc = check_db_main(&cfg);
	} else if (check) {
		quiet |= env_yes(getenv("PORTUS_HEALTH_QUIET"));
		/* -c on the command line wins over the environment. */
		for (i = 1; i <= 5 && fromargs == 0; i++) {
			snprintf(name, sizeof(name),
			    "PORTUS_HEALTH_COMPONENT_%d", i);
			if ((v = getenv(name)) != NULL && *v != '\0' &&
			    add_component(&mask, v) == -1) {
				rc = EXIT_USAGE;
				goto out;
			}
		}
		if (quiet)
			plog_set_level(PL_ERROR);
		rc = check_main(&cfg, mask, quiet);
	} else
		rc = cgi_main(&cfg, NULL);
out:
	http_global_free();
	config_free(&cfg);
	return rc;
}
