/*
 * pktio - send and capture raw Ethernet frames on several interfaces in
 * several network namespaces, from one process.
 *
 *   pktio [-w SETTLE_MS] [-a] NS:IFNAME...
 *
 * For each NS:IFNAME argument (NS is a name under /run/netns, or "-" for
 * the namespace pktio runs in) pktio enters the namespace, opens an
 * AF_PACKET raw socket bound to that interface, and returns to its own
 * namespace.  A socket belongs to the namespace it was created in for its
 * whole life, so one process can then serve interfaces in any number of
 * namespaces without entering them again.
 *
 * Commands come on stdin, one per line (blank lines and lines starting
 * with '#' are ignored):
 *
 *   send I HEX   send the frame HEX (hex digits, no separators) on
 *                interface I (0-based, in argument order), then collect
 *                for the settle time
 *   wait MS      collect for MS milliseconds
 *   quit         exit 0 (so does end of input)
 *
 * Collecting prints every frame received meanwhile on any interface as
 * "rx J HEX" (J the interface index, HEX lowercase), then a line "." and
 * flushes stdout.  Within one collection the lines are ordered by
 * interface, and by arrival on each interface, so that two runs of the
 * same commands through two switches can be compared with diff(1) even
 * though the order in which a switch writes to its egress ports is not
 * defined.
 *
 * Frames are filtered before printing: our own transmissions
 * (PACKET_OUTGOING) always; host noise - IPv6 (ethertype 0x86dd) and
 * frames to 33:33:xx:xx:xx:xx - unless -a is given.
 *
 * Frames that the kernel received with an 802.1Q tag stripped into
 * metadata (VLAN receive offload) are printed with the tag put back, so
 * the output is the frame as it was on the wire.
 *
 * Exit status: 0 on quit or end of input, 1 on a system error, 2 on bad
 * usage or a bad command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKTIO_MAX_IFACES	64
#define PKTIO_FRAME_MAX		65536	/* larger frames are reported cut */
#define PKTIO_MAX_CAPTURE	100000	/* frames kept per collection */
#define PKTIO_DEFAULT_SETTLE_MS	30
#define PKTIO_MAX_WAIT_MS	600000	/* every run is bounded in time */
#define PKTIO_VLAN_HLEN		4

struct iface {
	char *spec;		/* "NS:IFNAME" as given, for messages */
	int fd;			/* AF_PACKET socket, bound to the interface */
};

/* One received frame, kept until the collection ends and is printed. */
struct capture {
	unsigned int iface;
	unsigned int seq;	/* arrival order, to keep the sort stable */
	size_t len;
	unsigned char *data;
};

static struct iface ifaces[PKTIO_MAX_IFACES];
static unsigned int n_ifaces;
static unsigned long settle_ms = PKTIO_DEFAULT_SETTLE_MS;	/* -w */
static bool show_all;		/* -a: do not filter host noise */
static unsigned long lineno;	/* of stdin, for error messages */

static struct capture *captures;
static unsigned int n_captures;
static bool capture_overflow;

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("pktio: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A bad command line or a bad command: exit 2, naming the input line. */
static void __attribute__((format(printf, 1, 2), noreturn))
bad_input(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (lineno)
		fprintf(stderr, "pktio: line %lu: ", lineno);
	else
		fputs("pktio: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void usage(FILE *out)
{
	fputs("usage: pktio [-w SETTLE_MS] [-a] NS:IFNAME...\n"
	      "  NS is a name under /run/netns, or - for the current namespace\n"
	      "  -w MS  collect for MS ms after each send (default 30)\n"
	      "  -a     print all frames (do not drop IPv6 and 33:33:xx host noise)\n"
	      "commands on stdin:\n"
	      "  send I HEX   send frame HEX on interface I (0-based)\n"
	      "  wait MS      collect for MS ms\n"
	      "  quit\n"
	      "each collection prints \"rx J HEX\" lines, then \".\"\n", out);
}

/* Parse a decimal number in [0, max]; false if S is anything else. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *val)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*val = v;
	return true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Open the socket for one NS:IFNAME.  ORIG_NS is an fd for the namespace
 * to come back to.  The socket is opened with protocol 0 (it receives
 * nothing) and only starts receiving at bind(), so no frame from another
 * interface can slip in between.
 */
static void open_iface(struct iface *ifc, int orig_ns)
{
	struct sockaddr_ll sll;
	char path[PATH_MAX];
	char *colon, *ns, *ifname;
	struct ifreq ifr;
	int ns_fd = -1, one = 1, rcvbuf = 4 << 20;

	colon = strchr(ifc->spec, ':');
	if (!colon || colon == ifc->spec || !colon[1])
		bad_input("argument \"%s\" is wrong: expected NS:IFNAME",
			  ifc->spec);
	ns = strndup(ifc->spec, (size_t)(colon - ifc->spec));
	if (!ns)
		die("out of memory");
	ifname = colon + 1;
	if (strlen(ifname) >= IFNAMSIZ)
		bad_input("argument \"%s\" is wrong: interface name too long",
			  ifc->spec);

	if (strcmp(ns, "-")) {
		if (strchr(ns, '/'))
			bad_input("argument \"%s\" is wrong: bad namespace name",
				  ifc->spec);
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		ns_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (ns_fd < 0)
			die("%s: cannot open %s: %s", ifc->spec, path,
			    strerror(errno));
		if (setns(ns_fd, CLONE_NEWNET) < 0)
			die("%s: setns: %s", ifc->spec, strerror(errno));
	}

	ifc->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (ifc->fd < 0)
		die("%s: socket(AF_PACKET): %s", ifc->spec, strerror(errno));

	/* The ifindex must be looked up in the interface's namespace. */
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(ifc->fd, SIOCGIFINDEX, &ifr) < 0)
		die("%s: no interface %s in namespace %s: %s", ifc->spec,
		    ifname, ns, strerror(errno));

	/* Tags stripped by VLAN offload come back as auxiliary data. */
	if (setsockopt(ifc->fd, SOL_PACKET, PACKET_AUXDATA, &one,
		       sizeof(one)) < 0)
		die("%s: PACKET_AUXDATA: %s", ifc->spec, strerror(errno));
	/* A bigger buffer so that a burst of floods is not lost. */
	if (setsockopt(ifc->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		die("%s: SO_RCVBUF: %s", ifc->spec, strerror(errno));

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (bind(ifc->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("%s: bind: %s", ifc->spec, strerror(errno));

	if (ns_fd >= 0) {
		if (setns(orig_ns, CLONE_NEWNET) < 0)
			die("%s: setns back: %s", ifc->spec, strerror(errno));
		close(ns_fd);
	}
	free(ns);
}

/* True for frames a host sends on its own: IPv6 and IPv6 multicast. */
static bool is_host_noise(const unsigned char *frame, size_t len)
{
	if (len >= 2 && frame[0] == 0x33 && frame[1] == 0x33)
		return true;
	if (len >= 14 && frame[12] == 0x86 && frame[13] == 0xdd)
		return true;
	return false;
}

static void keep_frame(unsigned int iface, const unsigned char *frame,
		       size_t len)
{
	struct capture *c;

	if (n_captures == PKTIO_MAX_CAPTURE) {
		capture_overflow = true;
		return;
	}
	c = &captures[n_captures];
	c->iface = iface;
	c->seq = n_captures;
	c->len = len;
	c->data = malloc(len ? len : 1);
	if (!c->data)
		die("out of memory");
	memcpy(c->data, frame, len);
	n_captures++;
}

/*
 * Read every frame waiting on interface I (the socket is non-blocking
 * through MSG_DONTWAIT) and keep those that pass the filters.
 */
static void drain_iface(unsigned int i)
{
	static unsigned char buf[PKTIO_FRAME_MAX + PKTIO_VLAN_HLEN];
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} control;
	struct sockaddr_ll from;
	struct cmsghdr *cmsg;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
	size_t len;

	for (;;) {
		struct tpacket_auxdata *aux = NULL;

		iov.iov_base = buf;
		iov.iov_len = PKTIO_FRAME_MAX;
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = &control;
		msg.msg_controllen = sizeof(control);

		n = recvmsg(ifaces[i].fd, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			/* The interface went away (a test deleted it):
			 * that is no reason to stop serving the others. */
			if (errno == ENETDOWN || errno == ENXIO ||
			    errno == ENODEV)
				return;
			die("%s: recvmsg: %s", ifaces[i].spec, strerror(errno));
		}
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		len = (size_t)n;
		if (msg.msg_flags & MSG_TRUNC)
			fprintf(stderr, "pktio: %s: frame longer than %d bytes cut\n",
				ifaces[i].spec, PKTIO_FRAME_MAX);

		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg;
		     cmsg = CMSG_NXTHDR(&msg, cmsg)) {
			if (cmsg->cmsg_level == SOL_PACKET &&
			    cmsg->cmsg_type == PACKET_AUXDATA &&
			    cmsg->cmsg_len >= CMSG_LEN(sizeof(*aux)))
				aux = (struct tpacket_auxdata *)CMSG_DATA(cmsg);
		}
		/* Put a tag stripped by offload back after the MACs. */
		if (aux && (aux->tp_status & TP_STATUS_VLAN_VALID) &&
		    len >= 12) {
			uint16_t tpid = ETH_P_8021Q;

			if (aux->tp_status & TP_STATUS_VLAN_TPID_VALID)
				tpid = aux->tp_vlan_tpid;
			memmove(buf + 12 + PKTIO_VLAN_HLEN, buf + 12, len - 12);
			buf[12] = (unsigned char)(tpid >> 8);
			buf[13] = (unsigned char)tpid;
			buf[14] = (unsigned char)(aux->tp_vlan_tci >> 8);
			buf[15] = (unsigned char)aux->tp_vlan_tci;
			len += PKTIO_VLAN_HLEN;
		}
		if (!show_all && is_host_noise(buf, len))
			continue;
		keep_frame(i, buf, len);
	}
}

/*
 * The interface went down or away: the socket reports ENETDOWN once.
 * Clear it, so that the socket receives again once the interface is back
 * up; if there was nothing to clear, stop polling it in this collection
 * rather than spin.
 */
static void clear_error(struct pollfd *pfd)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(pfd->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || !err)
		pfd->fd = -1;
}

static int cmp_capture(const void *a, const void *b)
{
	const struct capture *ca = a, *cb = b;

	if (ca->iface != cb->iface)
		return ca->iface < cb->iface ? -1 : 1;
	return ca->seq < cb->seq ? -1 : ca->seq > cb->seq;
}

/*
 * Receive on all interfaces for MS milliseconds, then print what came,
 * ordered by interface, and the "." that ends the collection.
 */
static void collect(unsigned long ms)
{
	static const char hex[] = "0123456789abcdef";
	struct pollfd pfds[PKTIO_MAX_IFACES];
	uint64_t deadline = now_ms() + ms;
	unsigned int i;
	size_t k;

	for (i = 0; i < n_ifaces; i++) {
		pfds[i].fd = ifaces[i].fd;
		pfds[i].events = POLLIN;
	}
	/*
	 * Poll until the deadline, then once more without waiting, so that
	 * what is already queued is read even when MS is 0, and a stream of
	 * frames cannot keep us here past the deadline.
	 */
	for (;;) {
		uint64_t now = now_ms();
		bool last = now >= deadline;
		int ret;

		ret = poll(pfds, n_ifaces, last ? 0 : (int)(deadline - now));
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (i = 0; i < n_ifaces; i++) {
			if (pfds[i].revents & POLLIN)
				drain_iface(i);
			else if (pfds[i].revents & POLLERR)
				clear_error(&pfds[i]);
			else if (pfds[i].revents & POLLNVAL)
				pfds[i].fd = -1;
		}
		if (last)
			break;
	}

	/* A frame storm (a forwarding loop?) would make any output a lie. */
	if (capture_overflow)
		die("more than %d frames in one collection", PKTIO_MAX_CAPTURE);
	qsort(captures, n_captures, sizeof(*captures), cmp_capture);
	for (k = 0; k < n_captures; k++) {
		struct capture *c = &captures[k];
		size_t b;

		printf("rx %u ", c->iface);
		for (b = 0; b < c->len; b++) {
			putchar(hex[c->data[b] >> 4]);
			putchar(hex[c->data[b] & 0xf]);
		}
		putchar('\n');
		free(c->data);
	}
	n_captures = 0;
	puts(".");
	if (fflush(stdout) == EOF)
		die("stdout: %s", strerror(errno));
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void cmd_send(const char *idx_str, const char *hexstr)
{
	static unsigned char frame[PKTIO_FRAME_MAX];
	unsigned long idx;
	size_t hexlen, len, b;
	ssize_t n;

	if (!idx_str || !hexstr)
		bad_input("usage: send I HEX");
	if (!parse_uint(idx_str, n_ifaces - 1, &idx))
		bad_input("interface \"%s\" is wrong: expected 0..%u",
			  idx_str, n_ifaces - 1);
	hexlen = strlen(hexstr);
	if (hexlen % 2)
		bad_input("frame is wrong: odd number of hex digits");
	len = hexlen / 2;
	if (len == 0 || len > PKTIO_FRAME_MAX)
		bad_input("frame is wrong: length %zu not in 1..%d", len,
			  PKTIO_FRAME_MAX);
	for (b = 0; b < len; b++) {
		int hi = hex_nibble(hexstr[2 * b]);
		int lo = hex_nibble(hexstr[2 * b + 1]);

		if (hi < 0 || lo < 0)
			bad_input("frame is wrong: \"%.2s\" at offset %zu is not hex",
				  hexstr + 2 * b, 2 * b);
		frame[b] = (unsigned char)(hi << 4 | lo);
	}

	/*
	 * The socket is bound to the interface, so send() goes there.  The
	 * kernel refuses frames shorter than an Ethernet header (EINVAL from
	 * dev_validate_header()): runts cannot be injected this way.
	 */
	n = send(ifaces[idx].fd, frame, len, 0);
	if (n < 0)
		die("%s: send of %zu bytes: %s", ifaces[idx].spec, len,
		    strerror(errno));
	if ((size_t)n != len)
		die("%s: short send: %zd of %zu bytes", ifaces[idx].spec, n,
		    len);
}

/* Run one command line; false on quit. */
static bool run_line(char *line)
{
	char *cmd, *arg1, *arg2, *extra, *save = NULL;
	unsigned long ms;

	cmd = strtok_r(line, " \t\r\n", &save);
	if (!cmd || cmd[0] == '#')
		return true;
	arg1 = strtok_r(NULL, " \t\r\n", &save);
	arg2 = arg1 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	extra = arg2 ? strtok_r(NULL, " \t\r\n", &save) : NULL;

	if (!strcmp(cmd, "send")) {
		if (extra)
			bad_input("usage: send I HEX");
		cmd_send(arg1, arg2);
		collect(settle_ms);
	} else if (!strcmp(cmd, "wait")) {
		if (!arg1 || arg2)
			bad_input("usage: wait MS");
		if (!parse_uint(arg1, PKTIO_MAX_WAIT_MS, &ms))
			bad_input("time \"%s\" is wrong: expected 0..%d ms",
				  arg1, PKTIO_MAX_WAIT_MS);
		collect(ms);
	} else if (!strcmp(cmd, "quit")) {
		if (arg1)
			bad_input("usage: quit");
		return false;
	} else {
		bad_input("unknown command \"%s\" (send, wait, quit)", cmd);
	}
	return true;
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	int opt, orig_ns;

	while ((opt = getopt(argc, argv, "+w:ah")) != -1) {
		switch (opt) {
		case 'w':
			if (!parse_uint(optarg, PKTIO_MAX_WAIT_MS, &settle_ms))
				bad_input("settle time \"%s\" is wrong: expected 0..%d ms",
					  optarg, PKTIO_MAX_WAIT_MS);
			break;
		case 'a':
			show_all = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	if (argc - optind > PKTIO_MAX_IFACES)
		bad_input("too many interfaces (at most %d)", PKTIO_MAX_IFACES);

	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig_ns < 0)
		die("cannot open /proc/self/ns/net: %s", strerror(errno));
	for (; optind < argc; optind++) {
		ifaces[n_ifaces].spec = argv[optind];
		open_iface(&ifaces[n_ifaces], orig_ns);
		n_ifaces++;
	}
	close(orig_ns);

	captures = calloc(PKTIO_MAX_CAPTURE, sizeof(*captures));
	if (!captures)
		die("out of memory");

	while (getline(&line, &cap, stdin) != -1) {
		lineno++;
		if (!run_line(line))
			break;
	}
	if (ferror(stdin))
		die("stdin: %s", strerror(errno));
	free(line);
	return 0;
}
