/*
 * port_tap.c - the tap kind: one /dev/net/tun file descriptor per port,
 * non-blocking, read in bursts by the port's poll thread.
 *
 * `port add NAME` creates the tap, or attaches to an existing persistent
 * one of that name, and brings it up; a tap it created disappears when
 * the port goes (closing the last descriptor deletes it, wherever it is),
 * one it attached to is put back down if we brought it up.
 *
 * The daemon holds the descriptor, so the device may be moved into another
 * network namespace and keep working: TUNGETIFF on the descriptor still
 * answers with its current name, TUNGETDEVNETNS gives its namespace, where
 * the link state is read.  A deleted device shows on the descriptor as
 * POLLERR, and read/write/TUNGETIFF fail with EBADFD.
 *
 * Every frame read or written is preceded by a virtio-net header
 * (IFF_VNET_HDR), and the device is told it may hand us partial checksums
 * and TCP/UDP super-frames (TUNSETOFFLOAD): the host's stack then skips
 * segmentation and checksumming on the way in, and the receiving host's
 * skips them on the way out - one 64 KiB frame crosses the switch instead
 * of 45.  Writes take such frames whatever the receiving tap's own
 * offload setting.
 *
 * I/O: with the poll thread's ring, reads and writes are queued there
 * (uring.h) and go to the kernel with everything else of the round; without
 * it, one read() per frame and one write() per copy.
 */
#include "dataplane/port.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dataplane/netdev.h"
#include "dataplane/offload.h"
#include "dataplane/uring.h"
#include "lib/atomic.h"

/* Not in every uapi header yet (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

#define TAP_OFFLOADS_TSO \
	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

/* Reads a poll-thread round can queue for one port. */
#define TAP_MAX_READS 32

struct tap_port {
	struct dp_port up;
	int fd;
	uint32_t hdr_len;		/* virtio-net header: DP_VNET_HDR_LEN */
	bool created;			/* by us, rather than attached to */
	bool brought_up;		/* attached to a down tap: we set it up */
	unsigned int offloads;		/* TUN_F_* the device may send */
	/* The poll thread's reads queued on its ring, and their results. */
	unsigned int n_queued;
	int32_t res[TAP_MAX_READS];
};

static struct tap_port *tap_port(struct dp_port *port)
{
	return (struct tap_port *)port;
}

/* Frame @f from the @len bytes read into the buffer before its data. */
static void tap_frame_of(struct tap_port *tp, struct dp_frame *f,
			 uint32_t len)
{
	uint32_t hl = tp->hdr_len;

	if (hl)
		memcpy(&f->vnet, f->data - hl, sizeof(f->vnet));
	else
		memset(&f->vnet, 0, sizeof(f->vnet));
	f->vnet_in_buf = hl == DP_VNET_HDR_LEN;
	f->len = len - hl;
}

static unsigned int tap_rx_prepare(struct dp_port *port, struct dp_io *io,
				   struct dp_frame *frames, unsigned int n)
{
	struct tap_port *tp = tap_port(port);
	uint32_t hl = tp->hdr_len;
	unsigned int i;

	if (n > TAP_MAX_READS)
		n = TAP_MAX_READS;
	for (i = 0; i < n; i++)
		if (dp_uring_read(io->ring, port, tp->fd, frames[i].data - hl,
				  hl + DP_FRAME_MAX, &tp->res[i]))
			break;		/* the ring is full: fewer this round */
	tp->n_queued = i;
	return i;
}

/* The reads the ring ran: keep the frames, in order. */
static int tap_rx_collect(struct tap_port *tp, struct dp_io *io,
			  struct dp_frame *frames)
{
	unsigned int n = 0;
	int err = 0;

	for (unsigned int i = 0; i < tp->n_queued; i++) {
		int32_t res = tp->res[i];

		if (res >= (int32_t)tp->hdr_len) {
			frames[n].data = frames[i].data;
			tap_frame_of(tp, &frames[n++], res);
		} else if (res == -EBADFD) {
			err = res;
		} else if (res == -EOPNOTSUPP || res == -EINVAL) {
			/* No RWF_NOWAIT on this kernel's taps. */
			dp_io_ring_failed(io);
		} else if (res < 0 && res != -EAGAIN && res != -EINTR) {
			OWN_ADD(&tp->up.stats.rx_errors, 1);
		}
	}
	tp->n_queued = 0;
	return n ? (int)n : err;
}

static int tap_rx_burst(struct dp_port *port, struct dp_io *io,
			struct dp_frame *frames, unsigned int n)
{
	struct tap_port *tp = tap_port(port);
	uint32_t hl = tp->hdr_len;
	unsigned int i = 0;

	if (tp->n_queued)
		return tap_rx_collect(tp, io, frames);
	while (i < n) {
		struct dp_frame *f = &frames[i];
		ssize_t len = read(tp->fd, f->data - hl, DP_FRAME_MAX + hl);

		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return i ? (int)i : -errno;
		}
		if ((size_t)len < hl)
			continue;	/* the kernel never does this */
		tap_frame_of(tp, f, len);
		i++;
	}
	return i;
}

static void tap_tx_burst(struct dp_port *port, struct dp_io *io,
			 struct dp_tx *const *txs, unsigned int n)
{
	struct tap_port *tp = tap_port(port);
	int skip = tp->hdr_len ? 0 : 1;

	for (unsigned int i = 0; i < n; i++) {
		struct dp_tx *tx = txs[i];
		int n_iov = dp_iov_merge(tx->iov + skip, tx->iovcnt - skip);
		struct iovec *iov = tx->iov + skip;
		ssize_t ret;

		if (io->ring && !dp_uring_write(io->ring, tp->fd, tx, iov,
						n_iov))
			continue;
		ret = n_iov == 1 ? write(tp->fd, iov[0].iov_base,
					 iov[0].iov_len)
				 : writev(tp->fd, iov, n_iov);
		tx->err = ret < 0 ? -errno :
			  (size_t)ret == tx->len + tp->hdr_len ? 0 : -EIO;
	}
}

static int tap_set_offload(struct dp_port *port, bool on)
{
	struct tap_port *tp = tap_port(port);

	if (!tp->hdr_len)
		return on ? -EOPNOTSUPP : 0;
	if (ioctl(tp->fd, TUNSETOFFLOAD, on ? tp->offloads : 0) < 0)
		return -errno;
	return 0;
}

/* The device's current name (it may have been renamed): 0, or -EBADFD
 * when it was deleted. */
static int tap_ifname(struct tap_port *tp, char name[IFNAMSIZ])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(tp->fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return 0;
}

static int tap_link_state(struct dp_port *port, struct port_link *link)
{
	struct tap_port *tp = tap_port(port);
	unsigned int flags = 0, mtu = 0;
	int nsfd, err;

	err = tap_ifname(tp, link->ifname);
	if (err)
		return err;
	nsfd = ioctl(tp->fd, TUNGETDEVNETNS);
	if (nsfd < 0)
		return -errno;
	err = netdev_get_link(nsfd, link->ifname, &flags, &mtu);
	close(nsfd);
	if (err)
		return err;
	link->up = (flags & IFF_UP) && (flags & IFF_RUNNING);
	link->mtu = mtu;
	return 0;
}

static void tap_close(struct dp_port *port)
{
	struct tap_port *tp = tap_port(port);
	char name[IFNAMSIZ];
	bool restore_down = false;

	/*
	 * A tap we attached to goes back down if we brought it up, as long
	 * as it is still in our namespace (under whatever name it has now),
	 * and without the offloads we asked for.  Closing a tap we created
	 * removes the device, wherever it is.
	 */
	if (!tp->created) {
		int nsfd = ioctl(tp->fd, TUNGETDEVNETNS);

		restore_down = tp->brought_up && nsfd >= 0 &&
			       netdev_netns_is_own(nsfd) &&
			       !tap_ifname(tp, name);
		if (nsfd >= 0)
			close(nsfd);
		if (tp->hdr_len)
			ioctl(tp->fd, TUNSETOFFLOAD, 0);
	}
	close(tp->fd);
	if (restore_down)
		netdev_set_up(name, false, NULL);
	free(tp);
}

/* Ask for TSO and, where the kernel has it (6.2), USO; 0 or -errno. */
static int tap_offload_init(struct tap_port *tp)
{
	int fd = tp->fd;

	tp->offloads = TAP_OFFLOADS_TSO | TUN_F_USO4 | TUN_F_USO6;
	if (ioctl(fd, TUNSETOFFLOAD, tp->offloads) < 0) {
		tp->offloads = TAP_OFFLOADS_TSO;
		if (ioctl(fd, TUNSETOFFLOAD, tp->offloads) < 0)
			return -errno;
	}
	tp->up.offload_caps = DP_OFFLOAD_CSUM | DP_OFFLOAD_TSO4 |
			      DP_OFFLOAD_TSO6 | DP_OFFLOAD_TSO_ECN;
	if (tp->offloads & TUN_F_USO4)
		tp->up.offload_caps |= DP_OFFLOAD_USO;
	return 0;
}

static const char *tap_why(int err)
{
	switch (err) {
	case -EBUSY:
		return "device busy (a tap attached elsewhere)";
	case -EINVAL:
		return "exists and is not a tap device";
	case -EPERM:
		return "permission denied (needs CAP_NET_ADMIN)";
	default:
		return strerror(-err);
	}
}

static int tap_open(const char *name, struct dp_port **port,
		    const char **why)
{
	int hdr_len = DP_VNET_HDR_LEN;
	struct tap_port *tp;
	struct ifreq ifr;
	bool existed, was_up = false;
	unsigned int flags;
	int fd, err;

	if (!name[0] || strlen(name) >= IFNAMSIZ) {
		*why = "not a valid interface name";
		return -EINVAL;
	}
	existed = if_nametoindex(name) != 0;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		goto out_why;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		goto out_close_fd;
	}
	tp = calloc(1, sizeof(*tp));
	if (!tp) {
		err = -ENOMEM;
		goto out_close_fd;
	}
	tp->up.ops = &port_tap_ops;
	tp->up.poll_fd = fd;
	tp->fd = fd;
	memcpy(tp->up.name, ifr.ifr_name, IFNAMSIZ);
	tp->up.name[IFNAMSIZ - 1] = '\0';
	tp->created = !existed;
	tp->up.opened_as = tp->created ? "created" :
					 "attached to an existing tap";
	/* The header is 10 bytes unless someone set another size on a
	 * persistent tap: say ours. */
	tp->hdr_len = DP_VNET_HDR_LEN;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		err = -errno;
		goto out_free_tp;
	}
	err = tap_offload_init(tp);
	if (err)
		goto out_free_tp;
	/*
	 * A port is a switch port, not a host interface: keep the stack in
	 * our namespace from giving the tap an IPv6 link-local address and
	 * sending its own frames into the switch.  Taps we attach to are
	 * left as their owner set them.
	 */
	if (tp->created)
		netdev_disable_ipv6(tp->up.name);
	err = netdev_set_up(tp->up.name, true, &was_up);
	if (err) {
		*why = "cannot bring the device up";
		goto out_free_tp_why;
	}
	/* The MTU the pipeline holds frames to; the link monitor follows
	 * it from now on. */
	if (netdev_get_link(-1, tp->up.name, &flags, &tp->up.mtu))
		tp->up.mtu = 0;
	tp->brought_up = !tp->created && !was_up;
	*port = &tp->up;
	return 0;

out_free_tp:
	*why = tap_why(err);
out_free_tp_why:
	free(tp);
	close(fd);
	return err;
out_close_fd:
	close(fd);
out_why:
	*why = tap_why(err);
	return err;
}

const struct port_ops port_tap_ops = {
	.kind = "tap",
	.open = tap_open,
	.rx_prepare = tap_rx_prepare,
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.link_state = tap_link_state,
	.set_offload = tap_set_offload,
	.close = tap_close,
};
