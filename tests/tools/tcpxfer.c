/*
 * tcpxfer - a bounded TCP transfer whose content is checked end to end.
 *
 *   tcpxfer recv ADDR PORT SECONDS
 *       listen on ADDR:PORT, take one connection, read it to the end;
 *       print "BYTES HASH"
 *   tcpxfer send ADDR PORT BYTES SEED SECONDS
 *       connect (retrying until SECONDS pass), send BYTES of a
 *       pseudo-random stream from SEED in 64 KiB writes, close;
 *       print "BYTES HASH"
 *
 * HASH is FNV-1a (64 bits) of the bytes: the two lines are equal when
 * everything arrived, in order, unchanged.  Every wait is bounded by
 * SECONDS (SIGALRM); exit status 0 on success, 1 on any error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK 65536

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int parse_addr(const char *addr, const char *port,
		      struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, "tcpxfer: bad address %s\n", addr);
		return -1;
	}
	return 0;
}

static int do_recv(const struct sockaddr_in *sa)
{
	static uint8_t buf[CHUNK];
	uint64_t h = 0xcbf29ce484222325ULL, total = 0;
	int one = 1, lfd, fd;
	ssize_t n;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (const struct sockaddr *)sa, sizeof(*sa)) ||
	    listen(lfd, 1)) {
		perror("tcpxfer: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("tcpxfer: accept");
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		h = fnv1a(h, buf, n);
		total += n;
	}
	if (n < 0) {
		perror("tcpxfer: read");
		return 1;
	}
	printf("%" PRIu64 " %016" PRIx64 "\n", total, h);
	close(fd);
	close(lfd);
	return 0;
}

static int do_send(const struct sockaddr_in *sa, uint64_t bytes,
		   uint64_t seed)
{
	static uint8_t buf[CHUNK];
	uint64_t h = 0xcbf29ce484222325ULL, sent = 0, s = seed | 1;
	int fd = -1;

	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			perror("tcpxfer: socket");
			return 1;
		}
		if (!connect(fd, (const struct sockaddr *)sa, sizeof(*sa)))
			break;
		if (errno != ECONNREFUSED) {
			perror("tcpxfer: connect");
			return 1;
		}
		close(fd);
		usleep(50000);	/* the receiver is not listening yet */
	}
	while (sent < bytes) {
		size_t n = bytes - sent < CHUNK ? bytes - sent : CHUNK;
		size_t off = 0;

		for (size_t i = 0; i < n; i += 8) {
			uint64_t r = xorshift(&s);

			memcpy(buf + i, &r, n - i < 8 ? n - i : 8);
		}
		h = fnv1a(h, buf, n);
		while (off < n) {
			ssize_t w = write(fd, buf + off, n - off);

			if (w < 0) {
				perror("tcpxfer: write");
				return 1;
			}
			off += w;
		}
		sent += n;
	}
	/* Wait for the receiver to have read everything. */
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	printf("%" PRIu64 " %016" PRIx64 "\n", sent, h);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;

	if (argc == 5 && !strcmp(argv[1], "recv")) {
		if (parse_addr(argv[2], argv[3], &sa))
			return 1;
		alarm((unsigned int)atoi(argv[4]));
		return do_recv(&sa);
	}
	if (argc == 7 && !strcmp(argv[1], "send")) {
		if (parse_addr(argv[2], argv[3], &sa))
			return 1;
		alarm((unsigned int)atoi(argv[6]));
		return do_send(&sa, strtoull(argv[4], NULL, 0),
			       strtoull(argv[5], NULL, 0));
	}
	fprintf(stderr, "usage: tcpxfer recv ADDR PORT SECONDS\n"
			"       tcpxfer send ADDR PORT BYTES SEED SECONDS\n");
	return 1;
}
