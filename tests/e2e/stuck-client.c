/*
 * stuck-client.c - a control client that sends one request and then never
 * reads its replies, for the end-to-end tests: the service must go on
 * serving everyone else.
 *
 *   mcd-stuck-client SOCKET SECONDS TYPE STRING...
 *
 * TYPE is the request's number (ctl.h: 1 launch, 2 end).  Prints "sent"
 * once the request is out, then sleeps SECONDS and exits without reading.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ctl.h"

int main(int argc, char **argv)
{
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: mcd-stuck-client SOCKET SECONDS TYPE STRING...\n");
		return 2;
	}
	fd = ctl_connect(argv[1]);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (ctl_send(fd, (uint32_t)strtoul(argv[3], NULL, 10),
		     (const char *const *)argv + 4, (unsigned)(argc - 4)) < 0) {
		perror("send");
		return 1;
	}
	printf("sent\n");
	fflush(stdout);
	sleep((unsigned)atoi(argv[2]));
	close(fd);
	return 0;
}
