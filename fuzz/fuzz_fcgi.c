/*
 * libFuzzer driver for the FastCGI record reader (fcgi.c): the input is
 * what a web server (or anyone who reaches the socket) sends on one
 * connection.  It is fed in pieces of every size, as reads deliver it;
 * each complete request is looked at and answered, as the server does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fcgi	 f;
	struct wbuf	 out;
	enum fcgi_ev	 ev;
	unsigned char	*in;
	size_t		 have = 0, fed = 0, used, step;
	char *const	*e;
	const char	*v;

	memset(&f, 0, sizeof(f));
	memset(&out, 0, sizeof(out));
	if ((in = malloc(size + 1)) == NULL)
		return 0;
	/* The first byte picks the size of the pieces. */
	step = size > 0 ? (size_t)data[0] % 64 + 1 : 1;
	while (fed < size) {
		step = step > size - fed ? size - fed : step;
		memcpy(in + have, data + fed, step);
		have += step;
		fed += step;
		for (;;) {
			used = fcgi_read(&f, in, have, &out, &ev);
			if (used > have)
				abort();
			memmove(in, in + used, have - used);
			have -= used;
			if (ev == FCGI_BAD)
				goto out;
			if (ev == FCGI_NONE)
				break;
			if (ev == FCGI_REQUEST) {
				/* Every parameter is a terminated NAME=VALUE. */
				for (e = fcgi_envp(&f); *e != NULL; e++)
					if (strchr(*e, '=') == NULL)
						abort();
				v = fcgi_param(&f, "REQUEST_METHOD");
				if (v != NULL && strlen(v) > FCGI_PARAMS_MAX)
					abort();
			}
			if (f.id <= 0 || f.id > 0xffff)
				abort();
			(void)fcgi_respond(&out, f.id, "Status: 200 OK\r\n\r\n",
			    18);
			fcgi_reset(&f);
		}
		if (out.len > WBUF_MAX)
			abort();
		wbuf_reset(&out);
	}
out:
	fcgi_free(&f);
	wbuf_free(&out);
	free(in);
	return 0;
}
