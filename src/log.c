/*
 * One-line events on standard error, which the web server puts in its
 * error log.  Each line is written with a single write(2) so that lines
 * from several threads never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

static volatile enum plevel maxlevel = PL_INFO;

static const char *const levelnames[] = { "error", "warning", "info", "debug" };

/* Sets the most verbose level that is still written. */
void
plog_set_level(enum plevel l)
{
	maxlevel = l;
}

/* Writes one event line; control characters become '?'. */
void
plog(enum plevel l, const char *fmt, ...)
{
	char		 line[1024], ts[32];
	va_list		 ap;
	struct tm	 tm;
	time_t		 t;
	int		 n, m;
	size_t		 i, len;

	if (l > maxlevel)
		return;
	t = time(NULL);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		ts[0] = '\0';
	n = snprintf(line, sizeof(line), "%s %s[%ld]: %s: ", ts, PH_NAME,
	    (long)getpid(), levelnames[l]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	len = strlen(line);
	for (i = (size_t)n; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
}

/* Returns seconds on the monotonic clock. */
double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns Unix time, in seconds. */
double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
