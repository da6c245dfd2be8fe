/*
 * pktgen - the bench's frame generator: an AF_PACKET socket with a
 * PACKET_TX_RING on one interface, and a counter of what arrives at the
 * receiving interface, in another namespace, over the same window.
 *
 *   pktgen -i IFNAME [-d MAC] [-s MAC|self] [-k K] [-l LEN] [-e TYPE]
 *          [-t SECONDS] [-w SECONDS] [-n COUNT] [-r PPS]
 *          [-R NS:IFNAME] [-p PID]... [-C CPU]
 *
 *   -i IFNAME   send on IFNAME, in the namespace pktgen runs in
 *   -d MAC      destination MAC (default ff:ff:ff:ff:ff:ff)
 *   -s MAC      the first source MAC (default 02:b5:00:00:00:00), or
 *               "self" for IFNAME's own address
 *   -k K        cycle the source through K addresses: the low 24 bits of
 *               the first one plus 0, 1, ..., K-1 (default 1; at most 2^24)
 *   -l LEN      frame length as RFC 2544 counts it, with the 4-byte FCS
 *               the kernel never sees: LEN-4 bytes are written; 64 to
 *               1518 (default 64, i.e. 60 bytes handed to the kernel)
 *   -e TYPE     ethertype (default 0x88b5, IEEE local experimental: a
 *               receiving host has no handler for it and drops it at once)
 *   -t SECONDS  length of the measured window (default 1; at most 600)
 *   -w SECONDS  send this long first, unmeasured, to reach steady state
 *   -n COUNT    stop after COUNT frames (the window still bounds the run)
 *   -r PPS      pace the sending to PPS frames per second
 *   -R NS:IF    the receiver: IF's rx_packets, read by netlink in network
 *               namespace NS (a name under /run/netns, or "-" for ours) at
 *               the start and at the end of the window
 *   -p PID      a switch process whose utime+stime (/proc/PID/stat) over
 *               the window is reported; repeatable
 *   -C CPU      pin pktgen to CPU
 *
 * It prints one JSON object on stdout:
 *
 *   {"ifname":"v0","len":64,"wire_len":60,"sources":1,"window_s":1.0002,
 *    "sent":412345,"tx_pps":412262,"dev_tx_dropped":0,
 *    "rx":310022,"rx_pps":309960,"cpu_s":0.93,"cpu_ns_per_frame":3000.1}
 *
 * "sent" is the number of frames the kernel took off the ring during the
 * window (a frame the device then dropped - a full tap queue - counts as
 * sent; "dev_tx_dropped" is the sending device's own drop counter over
 * the window).  "rx" is the receiving interface's rx_packets delta over the
 * same window: frames delivered into the receiving host, whatever was sent.
 * Frames still inside the switch when the window closes are not counted,
 * just as those inside it when the window opened were not sent within it.
 * Without -R, "rx" and the fields after it are absent; without -p the cpu
 * fields are.
 *
 * How it sends: TPACKET_V2 TX ring of PKTGEN_RING_FRAMES slots with
 * PACKET_QDISC_BYPASS, so a frame goes straight to the driver's xmit.  Each
 * slot is filled once with the frame; per frame only the source MAC (for
 * -k) and the slot status are written; one send(MSG_DONTWAIT) hands every
 * filled slot to the kernel.  The socket is bound with protocol 0, so it
 * receives nothing.
 *
 * Exit status: 0 when the run completed, 1 on a system error, 2 on bad
 * usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKTGEN_FRAME_SIZE	2048	/* ring slot: header + 1514 bytes */
#define PKTGEN_BLOCK_SIZE	(1 << 16)
#define PKTGEN_BLOCK_NR		64
#define PKTGEN_RING_FRAMES	\
	(PKTGEN_BLOCK_NR * (PKTGEN_BLOCK_SIZE / PKTGEN_FRAME_SIZE))
#define PKTGEN_BATCH		256	/* slots filled per send() */
#define PKTGEN_MAX_SECONDS	600
#define PKTGEN_MAX_PIDS		8
#define PKTGEN_FCS_LEN		4
#define PKTGEN_MIN_LEN		64
#define PKTGEN_MAX_LEN		1518
#define PKTGEN_STALL_NS		2000000000LL	/* no slot freed for 2 s */
#define PKTGEN_NL_BUF		16384

/* Where in a TPACKET_V2 slot the frame starts (no PACKET_TX_HAS_OFF). */
#define PKTGEN_DATA_OFF		TPACKET_ALIGN(sizeof(struct tpacket2_hdr))

struct options {
	const char *ifname;
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	bool src_self;
	uint32_t n_sources;
	unsigned int len;		/* RFC 2544 length, with FCS */
	uint16_t ethertype;
	double window_s;
	double warmup_s;
	uint64_t max_frames;		/* 0: no limit */
	double rate_pps;		/* 0: unpaced */
	char *rx_ns;			/* NULL: no receiver counting */
	const char *rx_ifname;
	pid_t pids[PKTGEN_MAX_PIDS];
	unsigned int n_pids;
	int cpu;			/* -1: not pinned */
};

/* A netlink route socket in some namespace, asking for one link's stats. */
struct link_stats_src {
	int fd;
	int ifindex;
	const char *ifname;
	uint32_t seq;
};

struct snapshot {
	int64_t t_ns;
	uint64_t rx_packets;
	uint64_t tx_dropped;
	uint64_t cpu_ticks;
	uint64_t submitted;		/* slots handed to the kernel so far */
	uint64_t pending;		/* of those, not yet taken off the ring */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pktgen -i IFNAME [-d MAC] [-s MAC|self] [-k K] [-l LEN] [-e TYPE]\n"
		"              [-t SECONDS] [-w SECONDS] [-n COUNT] [-r PPS]\n"
		"              [-R NS:IFNAME] [-p PID]... [-C CPU]\n");
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool parse_mac(const char *text, uint8_t mac[ETH_ALEN])
{
	unsigned int b[ETH_ALEN];
	char tail;
	int i;

	if (sscanf(text, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != ETH_ALEN)
		return false;
	for (i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return false;
		mac[i] = (uint8_t)b[i];
	}
	return true;
}

static bool parse_u64(const char *text, uint64_t min, uint64_t max,
		      uint64_t *value)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno || end == text || *end || text[0] == '-' || v < min ||
	    v > max)
		return false;
	*value = v;
	return true;
}

static bool parse_seconds(const char *text, double min, double *value)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !(v >= min) ||
	    v > PKTGEN_MAX_SECONDS)
		return false;
	*value = v;
	return true;
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	static const uint8_t default_src[ETH_ALEN] = { 0x02, 0xb5, 0, 0, 0, 0 };
	uint64_t v;
	char *colon;
	int c;

	memset(opt, 0, sizeof(*opt));
	memset(opt->dst, 0xff, ETH_ALEN);
	memcpy(opt->src, default_src, ETH_ALEN);
	opt->n_sources = 1;
	opt->len = PKTGEN_MIN_LEN;
	opt->ethertype = 0x88b5;
	opt->window_s = 1.0;
	opt->cpu = -1;

	while ((c = getopt(argc, argv, "i:d:s:k:l:e:t:w:n:r:R:p:C:h")) != -1) {
		switch (c) {
		case 'i':
			opt->ifname = optarg;
			break;
		case 'd':
			if (!parse_mac(optarg, opt->dst))
				goto bad;
			break;
		case 's':
			if (strcmp(optarg, "self") == 0)
				opt->src_self = true;
			else if (!parse_mac(optarg, opt->src) ||
				 (opt->src[0] & 1))
				goto bad;
			break;
		case 'k':
			if (!parse_u64(optarg, 1, 1U << 24, &v))
				goto bad;
			opt->n_sources = (uint32_t)v;
			break;
		case 'l':
			if (!parse_u64(optarg, PKTGEN_MIN_LEN, PKTGEN_MAX_LEN,
				       &v))
				goto bad;
			opt->len = (unsigned int)v;
			break;
		case 'e':
			if (!parse_u64(optarg, 0x600, 0xffff, &v))
				goto bad;
			opt->ethertype = (uint16_t)v;
			break;
		case 't':
			if (!parse_seconds(optarg, 0.001, &opt->window_s))
				goto bad;
			break;
		case 'w':
			if (!parse_seconds(optarg, 0, &opt->warmup_s))
				goto bad;
			break;
		case 'n':
			if (!parse_u64(optarg, 1, UINT64_MAX / 2, &v))
				goto bad;
			opt->max_frames = v;
			break;
		case 'r':
			if (!parse_u64(optarg, 1, 1000000000, &v))
				goto bad;
			opt->rate_pps = (double)v;
			break;
		case 'R':
			colon = strchr(optarg, ':');
			if (!colon || colon == optarg || !colon[1])
				goto bad;
			*colon = '\0';
			opt->rx_ns = optarg;
			opt->rx_ifname = colon + 1;
			break;
		case 'p':
			if (opt->n_pids == PKTGEN_MAX_PIDS ||
			    !parse_u64(optarg, 1, INT32_MAX, &v))
				goto bad;
			opt->pids[opt->n_pids++] = (pid_t)v;
			break;
		case 'C':
			if (!parse_u64(optarg, 0, CPU_SETSIZE - 1, &v))
				goto bad;
			opt->cpu = (int)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || !opt->ifname) {
		usage(stderr);
		return -EINVAL;
	}
	if (strlen(opt->ifname) >= IFNAMSIZ ||
	    (opt->rx_ifname && strlen(opt->rx_ifname) >= IFNAMSIZ)) {
		fprintf(stderr, "pktgen: interface name too long\n");
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "pktgen: bad value for -%c: \"%s\"\n", c, optarg);
	return -EINVAL;
}

/* ------------------------------------------------------------ netlink */

/*
 * A socket belongs to the namespace it was created in for its whole life,
 * so to read a link in another namespace: enter it, make the socket, come
 * back.
 */
static int socket_in_netns(const char *ns, int domain, int type, int proto)
{
	char path[256];
	int self_fd, ns_fd, fd, err;

	if (strcmp(ns, "-") == 0)
		return socket(domain, type | SOCK_CLOEXEC, proto);
	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self_fd < 0)
		return -errno;
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		err = -errno;
		goto out_close_self;
	}
	if (setns(ns_fd, CLONE_NEWNET) < 0) {
		err = -errno;
		goto out_close_ns;
	}
	fd = socket(domain, type | SOCK_CLOEXEC, proto);
	err = fd < 0 ? -errno : fd;
	if (setns(self_fd, CLONE_NEWNET) < 0) {
		/* Cannot happen for our own namespace; never go on in the
		 * wrong one. */
		perror("pktgen: setns back");
		exit(1);
	}
out_close_ns:
	close(ns_fd);
out_close_self:
	close(self_fd);
	return err;
}

static int link_stats_open(struct link_stats_src *src, const char *ns,
			   const char *ifname)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int fd;

	fd = socket_in_netns(ns, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	src->fd = fd;
	src->ifindex = 0;
	src->ifname = ifname;
	src->seq = 0;
	return 0;
}

/*
 * One RTM_GETLINK round trip: the link's 64-bit rx_packets and tx_dropped.
 * The first request names the link, later ones use the index it answered.
 */
static int link_stats_read(struct link_stats_src *src, uint64_t *rx_packets,
			   uint64_t *tx_dropped)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[64];
	} req;
	static char buf[PKTGEN_NL_BUF];
	struct rtnl_link_stats64 stats;
	struct ifinfomsg *ifi;
	struct nlmsghdr *nh;
	struct rtattr *rta;
	ssize_t n;
	int attr_len;
	bool found = false;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = ++src->seq;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = src->ifindex;
	if (!src->ifindex) {
		size_t name_len = strlen(src->ifname) + 1;

		rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = IFLA_IFNAME;
		rta->rta_len = (unsigned short)RTA_LENGTH(name_len);
		memcpy(RTA_DATA(rta), src->ifname, name_len);
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) +
				   RTA_ALIGN(rta->rta_len);
	}
	if (send(src->fd, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(src->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != src->seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error ? e->error : -EPROTO;
			}
			if (nh->nlmsg_type != RTM_NEWLINK)
				continue;
			ifi = NLMSG_DATA(nh);
			src->ifindex = ifi->ifi_index;
			attr_len = (int)IFLA_PAYLOAD(nh);
			for (rta = IFLA_RTA(ifi); RTA_OK(rta, attr_len);
			     rta = RTA_NEXT(rta, attr_len)) {
				if (rta->rta_type != IFLA_STATS64 ||
				    RTA_PAYLOAD(rta) < sizeof(stats))
					continue;
				memcpy(&stats, RTA_DATA(rta), sizeof(stats));
				*rx_packets = stats.rx_packets;
				*tx_dropped = stats.tx_dropped;
				found = true;
			}
			return found ? 0 : -ENODATA;
		}
	}
}

/* ---------------------------------------------------------- CPU time */

/* utime + stime of PID (all its threads, live and gone), in clock ticks. */
static int proc_cpu_ticks(pid_t pid, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long utime, stime;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* The name (field 2) may hold spaces and ')': skip past the last. */
	p = strrchr(buf, ')');
	if (!p)
		return -EPROTO;
	p++;
	/* Field 3 (state) follows; utime and stime are fields 14 and 15. */
	for (field = 3; field < 14; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EPROTO;
	}
	if (sscanf(p, " %llu %llu", &utime, &stime) != 2)
		return -EPROTO;
	*ticks = utime + stime;
	return 0;
}

/* ------------------------------------------------------------ the ring */

struct tx_ring {
	int fd;
	uint8_t *map;
	size_t map_len;
	unsigned int head;		/* next slot to fill */
	unsigned int wire_len;
};

static struct tpacket2_hdr *slot(struct tx_ring *ring, unsigned int i)
{
	return (struct tpacket2_hdr *)(ring->map + (size_t)i * PKTGEN_FRAME_SIZE);
}

static uint8_t *slot_data(struct tx_ring *ring, unsigned int i)
{
	return (uint8_t *)slot(ring, i) + PKTGEN_DATA_OFF;
}

static uint32_t slot_status(struct tx_ring *ring, unsigned int i)
{
	return __atomic_load_n(&slot(ring, i)->tp_status, __ATOMIC_ACQUIRE);
}

static int get_if_mac(int fd, const char *ifname, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

static int tx_ring_open(struct tx_ring *ring, struct options *opt)
{
	struct tpacket_req req = {
		.tp_block_size = PKTGEN_BLOCK_SIZE,
		.tp_block_nr = PKTGEN_BLOCK_NR,
		.tp_frame_size = PKTGEN_FRAME_SIZE,
		.tp_frame_nr = PKTGEN_RING_FRAMES,
	};
	struct sockaddr_ll sll;
	int version = TPACKET_V2, one = 1, sndbuf = 16 << 20;
	unsigned int ifindex, i;
	uint8_t *data;
	int err;

	ring->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (ring->fd < 0)
		return -errno;
	ifindex = if_nametoindex(opt->ifname);
	if (!ifindex) {
		err = -errno;
		goto out_close;
	}
	if (opt->src_self) {
		err = get_if_mac(ring->fd, opt->ifname, opt->src);
		if (err)
			goto out_close;
	}
	if (setsockopt(ring->fd, SOL_PACKET, PACKET_VERSION, &version,
		       sizeof(version)) < 0 ||
	    setsockopt(ring->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
		       sizeof(one)) < 0 ||
	    setsockopt(ring->fd, SOL_PACKET, PACKET_TX_RING, &req,
		       sizeof(req)) < 0) {
		err = -errno;
		goto out_close;
	}
	/* Best effort: more skbs in flight before send() says EAGAIN. */
	(void)setsockopt(ring->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
			 sizeof(sndbuf));
	/* Protocol 0: the socket only sends, nothing is queued to it. */
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)ifindex;
	sll.sll_protocol = 0;
	if (bind(ring->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		err = -errno;
		goto out_close;
	}
	ring->map_len = (size_t)PKTGEN_BLOCK_SIZE * PKTGEN_BLOCK_NR;
	ring->map = mmap(NULL, ring->map_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED, ring->fd, 0);
	if (ring->map == MAP_FAILED) {
		err = -errno;
		goto out_close;
	}
	ring->head = 0;
	ring->wire_len = opt->len - PKTGEN_FCS_LEN;

	/* Every slot holds the whole frame from now on; sending rewrites
	 * only the source MAC's low bytes when -k cycles it. */
	for (i = 0; i < PKTGEN_RING_FRAMES; i++) {
		data = slot_data(ring, i);
		memset(data, 0, ring->wire_len);
		memcpy(data, opt->dst, ETH_ALEN);
		memcpy(data + ETH_ALEN, opt->src, ETH_ALEN);
		data[12] = (uint8_t)(opt->ethertype >> 8);
		data[13] = (uint8_t)opt->ethertype;
		memcpy(data + 14, "tapswitch-bench", 15);
		slot(ring, i)->tp_len = ring->wire_len;
	}
	return 0;
out_close:
	close(ring->fd);
	return err;
}

/* Slots handed to the kernel that it has not taken off the ring yet. */
static uint64_t tx_ring_pending(struct tx_ring *ring)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < PKTGEN_RING_FRAMES; i++) {
		uint32_t st = slot_status(ring, i);

		if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING))
			n++;
	}
	return n;
}

/* ---------------------------------------------------------- the run */

struct run {
	struct options *opt;
	struct tx_ring ring;
	struct link_stats_src rx;	/* receiving link, its namespace */
	struct link_stats_src tx;	/* our own link, for tx_dropped */
	bool have_rx;
	uint64_t submitted;		/* slots filled and handed over */
	uint64_t wrong_format;		/* slots the kernel refused */
	uint32_t src_next;		/* index of the next source MAC */
	uint32_t src_base;		/* low 24 bits of -s */
};

static int take_snapshot(struct run *run, struct snapshot *snap)
{
	uint64_t ticks, dummy;
	unsigned int i;
	int err;

	memset(snap, 0, sizeof(*snap));
	snap->t_ns = now_ns();
	snap->submitted = run->submitted;
	snap->pending = tx_ring_pending(&run->ring);
	if (run->have_rx) {
		err = link_stats_read(&run->rx, &snap->rx_packets, &dummy);
		if (err) {
			fprintf(stderr, "pktgen: stats of %s:%s: %s\n",
				run->opt->rx_ns, run->opt->rx_ifname,
				strerror(-err));
			return err;
		}
	}
	err = link_stats_read(&run->tx, &dummy, &snap->tx_dropped);
	if (err) {
		fprintf(stderr, "pktgen: stats of %s: %s\n", run->opt->ifname,
			strerror(-err));
		return err;
	}
	for (i = 0; i < run->opt->n_pids; i++) {
		err = proc_cpu_ticks(run->opt->pids[i], &ticks);
		if (err) {
			fprintf(stderr, "pktgen: /proc/%d/stat: %s\n",
				(int)run->opt->pids[i], strerror(-err));
			return err;
		}
		snap->cpu_ticks += ticks;
	}
	return 0;
}

/*
 * Fill up to @budget free slots from the head and hand them over with one
 * send().  Returns how many were filled (0: the ring is full), or -errno
 * when send() failed for a reason other than back-pressure or a drop by
 * the device.
 */
static long fill_and_send(struct run *run, unsigned int budget)
{
	struct tx_ring *ring = &run->ring;
	const struct options *opt = run->opt;
	unsigned int filled = 0;

	while (filled < budget) {
		struct tpacket2_hdr *hdr = slot(ring, ring->head);
		uint32_t st = slot_status(ring, ring->head);

		if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING))
			break;
		if (st & TP_STATUS_WRONG_FORMAT)
			run->wrong_format++;
		if (opt->n_sources > 1) {
			uint32_t low = (run->src_base + run->src_next) & 0xffffff;
			uint8_t *src = slot_data(ring, ring->head) + ETH_ALEN;

			src[3] = (uint8_t)(low >> 16);
			src[4] = (uint8_t)(low >> 8);
			src[5] = (uint8_t)low;
			if (++run->src_next == opt->n_sources)
				run->src_next = 0;
		}
		hdr->tp_len = ring->wire_len;
		__atomic_store_n(&hdr->tp_status, TP_STATUS_SEND_REQUEST,
				 __ATOMIC_RELEASE);
		if (++ring->head == PKTGEN_RING_FRAMES)
			ring->head = 0;
		filled++;
	}
	if (!filled)
		return 0;
	run->submitted += filled;
	if (send(ring->fd, NULL, 0, MSG_DONTWAIT) < 0) {
		/* ENOBUFS: the device dropped one (a full tap queue);
		 * EAGAIN: the socket's send buffer is full for now.  The
		 * slots left behind go with the next send(). */
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return filled;
}

/*
 * Send until @deadline_ns, or until the frame limit; paced if -r.
 * Returns 0, or -errno.
 */
static int send_until(struct run *run, int64_t start_ns, int64_t deadline_ns,
		      uint64_t first_submitted)
{
	const struct options *opt = run->opt;
	int64_t now = now_ns(), last_progress = now;
	struct pollfd pfd = { .fd = run->ring.fd, .events = POLLOUT };
	unsigned int budget;
	long n;

	while (!stop_requested && now < deadline_ns) {
		budget = PKTGEN_BATCH;
		if (opt->max_frames) {
			uint64_t left = opt->max_frames - run->submitted;

			if (!left)
				break;
			if (left < budget)
				budget = (unsigned int)left;
		}
		if (opt->rate_pps > 0) {
			double due = opt->rate_pps * (double)(now - start_ns) / 1e9;
			double ahead = due - (double)(run->submitted - first_submitted);

			if (ahead < 1.0) {
				struct timespec ts = { 0, 20000 };

				nanosleep(&ts, NULL);
				now = now_ns();
				continue;
			}
			if (ahead < budget)
				budget = (unsigned int)ahead;
		}
		n = fill_and_send(run, budget);
		if (n < 0) {
			fprintf(stderr, "pktgen: send on %s: %s\n", opt->ifname,
				strerror((int)-n));
			return (int)n;
		}
		now = now_ns();
		if (n > 0) {
			last_progress = now;
			continue;
		}
		/* Ring full: kick the kernel and wait for a slot. */
		if (send(run->ring.fd, NULL, 0, MSG_DONTWAIT) < 0 &&
		    errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "pktgen: send on %s: %s\n", opt->ifname,
				strerror(errno));
			return -errno;
		}
		(void)poll(&pfd, 1, 1);
		now = now_ns();
		if (now - last_progress > PKTGEN_STALL_NS) {
			fprintf(stderr, "pktgen: TX ring on %s stalled\n",
				opt->ifname);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

static void drain(struct run *run)
{
	struct pollfd pfd = { .fd = run->ring.fd, .events = POLLOUT };
	int64_t give_up = now_ns() + PKTGEN_STALL_NS;

	while (tx_ring_pending(&run->ring) && now_ns() < give_up) {
		(void)send(run->ring.fd, NULL, 0, MSG_DONTWAIT);
		(void)poll(&pfd, 1, 1);
	}
}

static void print_result(const struct run *run, const struct snapshot *a,
			 const struct snapshot *b)
{
	const struct options *opt = run->opt;
	double secs = (double)(b->t_ns - a->t_ns) / 1e9;
	uint64_t sent, rx = b->rx_packets - a->rx_packets;
	long clk_tck = sysconf(_SC_CLK_TCK);

	/* Taken off the ring within the window: handed over, less what was
	 * still waiting at the end, plus what was waiting at the start. */
	sent = (b->submitted - a->submitted) + a->pending - b->pending;
	if (secs <= 0)
		secs = 1e-9;
	printf("{\"ifname\":\"%s\",\"len\":%u,\"wire_len\":%u,\"sources\":%u,"
	       "\"window_s\":%.4f,\"sent\":%llu,\"tx_pps\":%.0f,"
	       "\"dev_tx_dropped\":%llu,\"wrong_format\":%llu",
	       opt->ifname, opt->len, opt->len - PKTGEN_FCS_LEN,
	       opt->n_sources, secs, (unsigned long long)sent,
	       (double)sent / secs,
	       (unsigned long long)(b->tx_dropped - a->tx_dropped),
	       (unsigned long long)run->wrong_format);
	if (run->have_rx)
		printf(",\"rx_if\":\"%s\",\"rx\":%llu,\"rx_pps\":%.0f",
		       opt->rx_ifname, (unsigned long long)rx,
		       (double)rx / secs);
	if (opt->n_pids) {
		double cpu_s = (double)(b->cpu_ticks - a->cpu_ticks) /
			       (double)clk_tck;

		printf(",\"cpu_s\":%.3f,\"cpu_util\":%.3f", cpu_s,
		       cpu_s / secs);
		if (run->have_rx && rx)
			printf(",\"cpu_ns_per_frame\":%.1f",
			       cpu_s * 1e9 / (double)rx);
	}
	printf("}\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct options opt;
	struct run run;
	struct snapshot before, after;
	struct sigaction sa;
	int64_t t0, window_start;
	int err;

	if (parse_options(argc, argv, &opt))
		return 2;
	memset(&run, 0, sizeof(run));
	run.opt = &opt;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (opt.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(opt.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			perror("pktgen: sched_setaffinity");
			return 1;
		}
	}
	if (opt.rx_ns) {
		err = link_stats_open(&run.rx, opt.rx_ns, opt.rx_ifname);
		if (err) {
			fprintf(stderr, "pktgen: netlink in namespace %s: %s\n",
				opt.rx_ns, strerror(-err));
			return 1;
		}
		run.have_rx = true;
	}
	err = link_stats_open(&run.tx, "-", opt.ifname);
	if (err) {
		fprintf(stderr, "pktgen: netlink: %s\n", strerror(-err));
		return 1;
	}
	err = tx_ring_open(&run.ring, &opt);
	if (err) {
		fprintf(stderr, "pktgen: TX ring on %s: %s\n", opt.ifname,
			strerror(-err));
		return 1;
	}
	run.src_base = ((uint32_t)opt.src[3] << 16) |
		       ((uint32_t)opt.src[4] << 8) | opt.src[5];

	t0 = now_ns();
	if (opt.warmup_s > 0) {
		err = send_until(&run, t0, t0 + (int64_t)(opt.warmup_s * 1e9),
				 0);
		if (err)
			return 1;
	}
	if (take_snapshot(&run, &before))
		return 1;
	window_start = before.t_ns;
	err = send_until(&run, window_start,
			 window_start + (int64_t)(opt.window_s * 1e9),
			 run.submitted);
	if (err)
		return 1;
	/* With -n every frame must really go out before we exit: let the
	 * kernel take what is still on the ring (bounded). */
	if (opt.max_frames)
		drain(&run);
	if (take_snapshot(&run, &after))
		return 1;
	print_result(&run, &before, &after);
	return 0;
}
