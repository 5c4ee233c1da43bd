/*
 * The benchmark's reference CGI program: the least a CGI program can do,
 * an empty 200.  Built twice (bench/Makefile): bench/cgi-bare linked with
 * nothing but the C library, and bench/cgi-bare-libs linked (and so
 * loaded at start) with the libraries portus-health links, to tell the
 * cost of starting a process from the cost of loading them.
 */
#include <stdio.h>

int
main(void)
{
	fputs("Status: 200 OK\r\nContent-Length: 0\r\n"
	    "Cache-Control: no-cache\r\n\r\n", stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
