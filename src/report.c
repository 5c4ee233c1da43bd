/*
 * Results to messages, and messages to the health document (json-c).
 * The messages are Portus's own: monitors match on them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json.h>

#include "extern.h"

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
		if (json_object_object_add(doc, components[c].name, o) != 0) {
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

/* Writes Unix time t as RFC 3339 UTC into buf. */
static void
rfc3339(double t, char *buf, size_t sz)
{
	struct tm	 tm;
	time_t		 s = (time_t)t;

	if (gmtime_r(&s, &tm) == NULL ||
	    strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sz, "1970-01-01T00:00:00Z");
}

/* Renders the IETF health check format (draft-inadarei-api-health-check)
 * of res, with the overall status (pass, warn or fail).  Returns a string
 * to free, or NULL. */
static char *
render_health_json(const struct compres *res, double wall,
    const char *status, size_t *len)
{
	json_object	*doc, *checks, *list, *o;
	const char	*s;
	char		*out = NULL, when[32], ms[32], output[COMP__MAX * 200];
	size_t		 n, used = 0;
	int		 c;

	rfc3339(wall, when, sizeof(when));
	output[0] = '\0';
	if ((doc = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(doc, "status", json_object_new_string(status));
	json_object_object_add(doc, "description",
	    json_object_new_string("health of Portus and what it relies on"));
	checks = json_object_new_object();
	json_object_object_add(doc, "checks", checks);
	for (c = 0; c < COMP__MAX && checks != NULL; c++) {
		if (!res[c].present)
			continue;
		list = json_object_new_array();
		o = json_object_new_object();
		if (list == NULL || o == NULL) {
			json_object_put(list);
			json_object_put(o);
			goto out;
		}
		json_object_array_add(list, o);
		snprintf(output, sizeof(output), "%s:responseTime",
		    components[c].name);
		json_object_object_add(checks, output, list);
		output[0] = '\0';
		json_object_object_add(o, "componentType",
		    json_object_new_string(components[c].type));
		snprintf(ms, sizeof(ms), "%.3f", res[c].ms);
		json_object_object_add(o, "observedValue",
		    json_object_new_double_s(res[c].ms, ms));
		json_object_object_add(o, "observedUnit",
		    json_object_new_string("ms"));
		json_object_object_add(o, "status",
		    json_object_new_string(res[c].success ? "pass" : "fail"));
		json_object_object_add(o, "time", json_object_new_string(when));
		if (!res[c].success)
			json_object_object_add(o, "output",
			    json_object_new_string(res[c].msg));
	}
	/* The top-level output: every failure, one after the other. */
	for (c = 0; c < COMP__MAX; c++)
		if (res[c].present && !res[c].success &&
		    used + strlen(res[c].msg) + 3 < sizeof(output))
			used += (size_t)snprintf(output + used,
			    sizeof(output) - used, "%s%s", used ? "; " : "",
			    res[c].msg);
	if (strcmp(status, "pass") != 0)
		json_object_object_add(doc, "output",
		    json_object_new_string(output));
	s = json_object_to_json_string_length(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s != NULL && (out = malloc(n + 1)) != NULL) {
		memcpy(out, s, n + 1);
		*len = n;
	}
out:
	json_object_put(doc);
	return out;
}

/* A growing string for the page and the metrics. */
struct buf {
	char	*s;
	size_t	 len, cap;
	int	 failed;
};

/* Appends to b with printf formatting; remembers a failure. */
static void
buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*ns;
	int	 n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		if ((ns = realloc(b->s, b->cap * 2 + (size_t)n)) == NULL) {
			b->failed = 1;
			return;
		}
		b->s = ns;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

/* Appends s to b with &, <, >, " and ' escaped for HTML. */
static void
buf_html(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&':
			buf_printf(b, "&amp;");
			break;
		case '<':
			buf_printf(b, "&lt;");
			break;
		case '>':
			buf_printf(b, "&gt;");
			break;
		case '"':
			buf_printf(b, "&quot;");
			break;
		case '\'':
			buf_printf(b, "&#39;");
			break;
		default:
			buf_printf(b, "%c", *s);
		}
}

/* Starts b.  Returns 0, or -1. */
static int
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
	b->cap = 2048;
	return (b->s = malloc(b->cap)) == NULL ? -1 : 0;
}

/* Returns b's string (to free) and its length, or NULL after a failure. */
static char *
buf_done(struct buf *b, size_t *len)
{
	if (b->failed) {
		free(b->s);
		return NULL;
	}
	*len = b->len;
	return b->s;
}

/* Writes how long ago (now - t) was, in words: "42 s", "3 min",
 * "5 h", "2 days". */
static void
ago(double now, double t, char *buf, size_t sz)
{
	double d = now - t;

	if (d < 0)
		d = 0;
	if (d < 120)
		snprintf(buf, sz, "%.0f s", d);
	else if (d < 2 * 3600)
		snprintf(buf, sz, "%.0f min", d / 60);
	else if (d < 2 * 86400)
		snprintf(buf, sz, "%.0f h", d / 3600);
	else
		snprintf(buf, sz, "%.0f days", d / 86400);
}

/*
 * Renders the page for people: each component green or red, with its
 * message, since when its state holds ("down for 3 min"), its last
 * latency, and a strip of its last HISTORY_MAX results (red and green
 * marks, their times on hover); it refreshes itself.  No script, no
 * external asset; it wraps on a phone's screen.  Returns a string to
 * free, or NULL.
 */
static char *
render_html(const struct result *res, const struct compres *part, int ok,
    size_t *len)
{
	const struct chist	*h;
	struct buf		 b;
	char			 when[32], at[32], since[32];
	double			 now = wall_now();
	int			 c, i, up;

	if (buf_init(&b) == -1)
		return NULL;
	rfc3339(res->wall, when, sizeof(when));
	buf_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta http-equiv=\"refresh\" content=\"10\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">"
	    "<title>Portus health: %s</title><style>"
	    "body{font-family:sans-serif;margin:1em auto;padding:0 1em;"
	    "max-width:60em;color:#222}"
	    "h1{font-size:1.4em}"
	    ".comp{border-bottom:1px solid #ddd;padding:.6em 0}"
	    ".line{display:flex;flex-wrap:wrap;gap:.3em .8em;"
	    "align-items:baseline}"
	    ".name{font-weight:bold;min-width:5em}"
	    ".state{color:#fff;font-weight:bold;padding:0 .5em}"
	    ".up{background:#2e7d32}.down{background:#c62828}"
	    ".msg{overflow-wrap:anywhere;flex:1 1 12em}"
	    ".note{color:#666}"
	    ".strip{display:flex;flex-wrap:wrap;gap:2px;margin-top:.4em}"
	    ".strip span{display:inline-block;width:.6em;height:1.2em}"
	    ".strip .ok{background:#2e7d32}.strip .ko{background:#c62828}"
	    "h1.up,h1.down{color:#fff;padding:.2em .5em}"
	    "</style></head><body>\n"
	    "<h1 id=\"overall\" class=\"%s\">Portus is %s</h1>\n",
	    ok ? "healthy" : "unhealthy", ok ? "up" : "down",
	    ok ? "healthy" : "unhealthy");
	for (c = 0; c < COMP__MAX; c++) {
		if (!part[c].present)
			continue;
		h = &res->hist[c];
		up = part[c].success;
		buf_printf(&b, "<div class=\"comp\" id=\"%s\"><div "
		    "class=\"line\"><span class=\"name\">%s</span><span "
		    "class=\"state %s\">%s</span>", components[c].name,
		    components[c].name, up ? "up" : "down", up ? "up" : "down");
		if (h->n > 0) {
			ago(now, h->since, since, sizeof(since));
			buf_printf(&b, "<span class=\"since\">%s for %s</span>",
			    up ? "up" : "down", since);
		}
		buf_printf(&b, "<span class=\"msg\">");
		buf_html(&b, part[c].msg);
		buf_printf(&b, "</span><span class=\"note\">%.0f ms%s</span>"
		    "</div>", part[c].ms, res->optional & 1u << c ?
		    ", optional" : "");
		if (h->n > 0) {
			buf_printf(&b, "<div class=\"strip\" title=\"the last "
			    "%d results, oldest first\">", h->n);
			for (i = 0; i < h->n; i++) {
				rfc3339(h->m[i].wall, at, sizeof(at));
				buf_printf(&b, "<span class=\"%s\" title=\"%s %s "
				    "%.0f ms\"></span>", h->m[i].ok ? "ok" :
				    "ko", at, h->m[i].ok ? "up" : "down",
				    (double)h->m[i].ms);
			}
			buf_printf(&b, "</div>");
		}
		buf_printf(&b, "</div>\n");
	}
	buf_printf(&b, "<p class=\"note\">Checked at <time>%s</time>. This "
	    "page refreshes every 10 seconds.</p></body></html>\n", when);
	return buf_done(&b, len);
}

/*
 * Renders res for one request: only the components of mask, in format
 * f.  *ok says whether all of those succeeded.  Returns a string to free
 * and its length, or NULL.
 */
char *
report_render(const struct result *res, unsigned mask, enum format f,
    size_t *len, int *ok)
{
	struct compres	 part[COMP__MAX];
	int		 c, all = 1;

	*ok = comp_ok(res->comp, mask, res->optional);
	for (c = 0; c < COMP__MAX; c++) {
		part[c] = res->comp[c];
		part[c].present = part[c].present && (mask & 1u << c);
		if (part[c].present && !part[c].success)
			all = 0;
	}
	switch (f) {
	case FMT_HEALTH_JSON:
		/* An optional component down: "warn", as the draft has it. */
		return render_health_json(part, res->wall, *ok ? all ? "pass" :
		    "warn" : "fail", len);
	case FMT_HTML:
		return render_html(res, part, *ok, len);
	case FMT_PORTUS:
		break;
	}
	return report_json(part, 0, len);
}

/* The statuses counted for /_metrics, in the order of their index. */
static const int statuses[STATUS_KINDS] = { 200, 400, 403, 404, 405, 414,
    500, 503, 0, 0 };
static const char *const routenames[ROUTE_METRICS + 1] = {
	[ROUTE_NONE] = "other",
	[ROUTE_PING] = "ping",
	[ROUTE_HEALTH] = "health",
	[ROUTE_METRICS] = "metrics",
};

/* Returns the counter index of an HTTP status (the last one for any
 * other status). */
int
status_index(int status)
{
	int i;

	for (i = 0; i < STATUS_KINDS - 1 && statuses[i] != 0; i++)
		if (statuses[i] == status)
			return i;
	return STATUS_KINDS - 1;
}

/*
 * Renders the Prometheus text exposition of res (each component up or
 * down, its last check's duration and time), whether the configuration
 * was last read without error, and the request counters cnt (may be
 * NULL).  Returns a string to free, or NULL.
 */
char *
report_metrics(const struct result *res, const struct counters *cnt,
    int config_ok, size_t *len)
{
	struct buf	 b;
	long		 v;
	int		 c, r, i;

	if (buf_init(&b) == -1)
		return NULL;
	buf_printf(&b, "# HELP portus_health_up Whether the last check of "
	    "the component succeeded (1) or failed (0).\n"
	    "# TYPE portus_health_up gauge\n");
	for (c = 0; c < COMP__MAX; c++)
		if (res->comp[c].present)
			buf_printf(&b, "portus_health_up{component=\"%s\"} %d\n",
			    components[c].name, res->comp[c].success);
	buf_printf(&b, "# HELP portus_health_check_duration_seconds How long "
	    "the last check of the component took.\n"
	    "# TYPE portus_health_check_duration_seconds gauge\n");
	for (c = 0; c < COMP__MAX; c++)
		if (res->comp[c].present)
			buf_printf(&b, "portus_health_check_duration_seconds"
			    "{component=\"%s\"} %.6f\n", components[c].name,
			    res->comp[c].ms / 1000.0);
	buf_printf(&b, "# HELP portus_health_check_timestamp_seconds When "
	    "the last check of the component ended, in Unix time.\n"
	    "# TYPE portus_health_check_timestamp_seconds gauge\n");
	for (c = 0; c < COMP__MAX; c++)
		if (res->comp[c].present)
			buf_printf(&b, "portus_health_check_timestamp_seconds"
			    "{component=\"%s\"} %.3f\n", components[c].name,
			    res->wall);
	buf_printf(&b, "# HELP portus_health_config_ok Whether the "
	    "configuration was last read without error (1) or not (0, the "
	    "last good one is in use).\n"
	    "# TYPE portus_health_config_ok gauge\n"
	    "portus_health_config_ok %d\n", config_ok);
	if (cnt != NULL) {
		buf_printf(&b, "# HELP portus_health_requests_total Requests "
		    "answered, by route and HTTP status.\n"
		    "# TYPE portus_health_requests_total counter\n");
		for (r = 0; r <= ROUTE_METRICS; r++)
			for (i = 0; i < STATUS_KINDS; i++) {
				v = __atomic_load_n(&cnt->n[r][i],
				    __ATOMIC_RELAXED);
				if (v == 0)
					continue;
				if (statuses[i] != 0)
					buf_printf(&b, "portus_health_requests_"
					    "total{route=\"%s\",code=\"%d\"} "
					    "%ld\n", routenames[r],
					    statuses[i], v);
				else
					buf_printf(&b, "portus_health_requests_"
					    "total{route=\"%s\",code=\"other\"}"
					    " %ld\n", routenames[r], v);
			}
	}
	return buf_done(&b, len);
}

/* Renders {"error": "<what>: <msg>"} with msg escaped.  Returns a string
 * to free, or NULL. */
char *
report_error(const char *what, const char *msg, size_t *len)
{
	json_object	*doc;
	const char	*s;
	char		*out = NULL, text[640];
	size_t		 n;

	snprintf(text, sizeof(text), "%s: %s", what, msg);
	if ((doc = json_object_new_object()) == NULL)
		return NULL;
	if (json_object_object_add(doc, "error",
	    json_object_new_string(text)) == 0 &&
	    (s = json_object_to_json_string_length(doc,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n)) !=
	    NULL && (out = malloc(n + 1)) != NULL) {
		memcpy(out, s, n + 1);
		*len = n;
	}
	json_object_put(doc);
	return out;
}
