/*
 * ctlpeer - a control client that misbehaves, for the black-box tests:
 *
 *   ctlpeer SOCKET idle SECONDS      connect, send nothing, hold it open
 *   ctlpeer SOCKET trickle SECONDS   connect, send a request a byte a
 *                                    second, never finishing it
 *   ctlpeer SOCKET garbage N         N times: connect, send a request
 *                                    with a NUL byte in it, close
 *
 * It prints nothing; exit status 0, or 1 when it cannot connect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int peer_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "ctlpeer: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *req = "port\nshow\n";
	long n;
	int fd;

	if (argc != 4 || (n = strtol(argv[3], NULL, 10)) <= 0) {
		fprintf(stderr,
			"usage: ctlpeer SOCKET idle|trickle SECONDS | SOCKET garbage N\n");
		return 2;
	}
	if (!strcmp(argv[2], "garbage")) {
		static const char bad[] = "port\0show\n\n";

		for (long i = 0; i < n; i++) {
			char buf[256];

			fd = peer_connect(argv[1]);
			if (fd < 0)
				return 1;
			if (send(fd, bad, sizeof(bad) - 1, MSG_NOSIGNAL) < 0) {
				/* Refused before we finished: as good. */
			}
			shutdown(fd, SHUT_WR);
			while (read(fd, buf, sizeof(buf)) > 0)
				;
			close(fd);
		}
		return 0;
	}
	fd = peer_connect(argv[1]);
	if (fd < 0)
		return 1;
	for (long t = 0; t < n; t++) {
		if (!strcmp(argv[2], "trickle") && req[t % strlen(req)] &&
		    send(fd, &req[t % strlen(req)], 1, MSG_NOSIGNAL) < 0)
			break;		/* dropped by the daemon: as good */
		sleep(1);
	}
	close(fd);
	return 0;
}
