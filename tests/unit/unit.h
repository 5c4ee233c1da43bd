/*
 * What the unit tests share.  Each file tests one module of src/ and
 * gives one suite; main.c runs them all and holds these helpers.
 */
#ifndef PORTUS_HEALTH_UNIT_H
#define PORTUS_HEALTH_UNIT_H

#include <stddef.h>

#include <check.h>
#include <json.h>

#include "extern.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define YNAME		"t.yml"	/* the file name yaml() reports */
#define NOFILE		"/nonexistent/ph-unit/config-local.yml"

/* The configuration of a test (config_setup) and the message of its
 * last error. */
extern struct config	 cfg;
extern char		 emsg[512];

void		 config_setup(void);
void		 config_teardown(void);
void		 config_reset(void);
enum cstatus	 yaml(const char *);
enum cstatus	 env(char *const *);
enum cstatus	 load(char *const *);
void		 tmpdir_make(char *);
void		 tmpfile_write(const char *, const char *, const char *,
		    char *);
char		*print_config(void);
void		 print_line(const char *, const char *, char *, size_t);
void		 log_start(void);
char		*log_end(void);
char		*long_string(const char *, char, size_t);
const char	*json_str(json_object *, const char *);

Suite		*allow_suite(void);
Suite		*cache_suite(void);
Suite		*component_suite(void);
Suite		*config_suite(void);
Suite		*fcgi_suite(void);
Suite		*ldap_suite(void);
Suite		*registry_suite(void);
Suite		*report_suite(void);
Suite		*route_suite(void);
Suite		*sha256_suite(void);
Suite		*url_suite(void);

#endif
