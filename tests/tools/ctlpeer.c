/*
 * ctlpeer - a control client that misbehaves, for the black-box tests:
 *
 *   ctlpeer SOCKET idle SECONDS      connect, send nothing, hold it open
 *   ctlpeer SOCKET trickle SECONDS   connect, send a request a byte a
 *                                    second, never finishing it
 *   ctlpeer SOCKET garbage N         N times: connect, send a request
 *                                    with a NUL byte in it, close
 *   ctlpeer SOCKET slowread SECONDS  `fdb show`, its answer taken 4 KiB
 *                                    every 20 ms for SECONDS, then the
 *                                    rest at once; prints "bytes N
 *                                    complete 0|1" (1: it ended with its
 *                                    status line and the empty line)
 *   ctlpeer SOCKET probe SECONDS     every 100 ms, `port show`, timed
 *                                    from its request to the end of its
 *                                    answer; prints "probes N max_ms M
 *                                    failed F median_ms D p99_ms P" at
 *                                    the end
 *
 * It prints nothing else; exit status 0, or 1 when it cannot connect (or
 * a probe got no answer).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
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

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One `port show`, whole: its time in ms, or -1. */
static double probe_once(const char *path)
{
	static const char req[] = "port\nshow\n\n";
	char buf[65536];
	double t0 = now_ms();
	int fd = peer_connect(path);
	ssize_t n;

	if (fd < 0)
		return -1;
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0) {
		close(fd);
		return -1;
	}
	/* The answer ends with its status line and an empty line; the
	 * daemon closes the connection after it. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? -1 : now_ms() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int probe(const char *path, long seconds)
{
	double end = now_ms() + seconds * 1e3, max = 0, *t;
	long n = 0, ok = 0, failed = 0;

	/* One every 100 ms at most: room for all of them. */
	t = calloc(seconds * 10 + 1, sizeof(*t));
	if (!t)
		return 1;
	while (now_ms() < end && n <= seconds * 10) {
		double ms = probe_once(path);

		if (ms < 0) {
			failed++;
		} else {
			t[ok++] = ms;
			if (ms > max)
				max = ms;
		}
		n++;
		poll(NULL, 0, 100);
	}
	qsort(t, ok, sizeof(*t), cmp_double);
	printf("probes %ld max_ms %.1f failed %ld median_ms %.1f p99_ms %.1f\n",
	       n, max, failed, ok ? t[ok / 2] : 0.0,
	       ok ? t[ok * 99 / 100] : 0.0);
	free(t);
	return failed ? 1 : 0;
}

/* A client that reads a big answer slowly, but steadily. */
static int slowread(const char *path, long seconds)
{
	static const char req[] = "fdb\nshow\n\n";
	double end = now_ms() + seconds * 1e3;
	size_t len = 0, cap = 1 << 20;
	char *text = malloc(cap);
	int fd = peer_connect(path), complete;
	ssize_t n;

	if (fd < 0 || !text)
		return 1;
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
		return 1;
	for (;;) {
		bool slow = now_ms() < end;

		if (len + 65536 > cap) {
			char *more = realloc(text, cap *= 2);

			if (!more)
				return 1;
			text = more;
		}
		n = read(fd, text + len, slow ? 4096 : 65536);
		if (n <= 0)
			break;
		len += n;
		if (slow)
			poll(NULL, 0, 20);
	}
	close(fd);
	complete = len >= 11 && !memcmp(text + len - 2, "\n\n", 2) &&
		   memmem(text, len, "\nstatus 0", 9) != NULL;
	printf("bytes %zu complete %d\n", len, complete);
	free(text);
	return complete ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *req = "port\nshow\n";
	long n;
	int fd;

	if (argc != 4 || (n = strtol(argv[3], NULL, 10)) <= 0) {
		fprintf(stderr,
			"usage: ctlpeer SOCKET idle|trickle|probe|slowread SECONDS | SOCKET garbage N\n");
		return 2;
	}
	if (!strcmp(argv[2], "probe"))
		return probe(argv[1], n);
	if (!strcmp(argv[2], "slowread"))
		return slowread(argv[1], n);
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
