/*
 * The reference FastCGI responder of the benchmark: the ceiling of the
 * nginx + libfcgi stack.  A plain libfcgi accept loop in N threads (N from
 * PORTUS_HEALTH_WORKERS, default 4, as portus-health), each with its own
 * FCGX_Request, on the listening socket spawn-fcgi hands over as standard
 * input.  Every request gets an empty 200 and nothing else: no routing, no
 * parameters read, no allocation per request.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#define WORKERS_DEFAULT	4
#define WORKERS_MAX	256

static const char answer[] =
    "Status: 200 OK\r\n"
    "Content-Length: 0\r\n"
    "Cache-Control: no-cache\r\n"
    "\r\n";

static void *
worker(void *arg)
{
	FCGX_Request	req;

	(void)arg;
	if (FCGX_InitRequest(&req, 0, 0) != 0) {
		fprintf(stderr, "ref: FCGX_InitRequest failed\n");
		return NULL;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(answer, (int)sizeof(answer) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	fprintf(stderr, "ref: accept failed; worker stops\n");
	FCGX_Free(&req, 1);
	return NULL;
}

int
main(void)
{
	pthread_t	 tids[WORKERS_MAX];
	const char	*v;
	char		*end;
	long		 n = WORKERS_DEFAULT, i, started = 0;

	signal(SIGPIPE, SIG_IGN);
	if ((v = getenv("PORTUS_HEALTH_WORKERS")) != NULL && *v != '\0') {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || *end != '\0' || n < 1 || n > WORKERS_MAX) {
			fprintf(stderr, "ref: PORTUS_HEALTH_WORKERS must be "
			    "1-%d\n", WORKERS_MAX);
			return 2;
		}
	}
	if (FCGX_Init() != 0) {
		fprintf(stderr, "ref: FCGX_Init failed\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (pthread_create(&tids[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "ref: cannot start worker %ld\n", i);
			break;
		}
		started++;
	}
	fprintf(stderr, "ref: ready, %ld workers\n", started);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	return started > 0 ? 0 : 1;
}
