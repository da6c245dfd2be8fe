/*
 * port_tap.c - the tap backend: one /dev/net/tun file descriptor per port,
 * non-blocking, read in bursts by the port's poll thread.
 *
 * The daemon holds the descriptor, so the device may be moved into another
 * network namespace and keep working.  A deleted device shows on the
 * descriptor as POLLERR, and read/write/TUNGETIFF fail with EBADFD.
 *
 * Every frame read or written is preceded by a virtio-net header
 * (IFF_VNET_HDR), and the device is told it may hand us partial checksums
 * and TCP/UDP super-frames (TUNSETOFFLOAD): the host's stack then skips
 * segmentation and checksumming on the way in, and the receiving host's
 * skips them on the way out - one 64 KiB frame crosses the switch instead
 * of 45.  Writes take such frames whatever the receiving tap's own
 * offload setting.
 */
#include "dataplane/dp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

/* Not in every uapi header yet (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

#define TAP_OFFLOADS_TSO \
	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

struct tap_port {
	struct dp_port up;
	bool created;			/* by us, rather than attached to */
	unsigned int offloads;		/* TUN_F_* the device may send */
};

static int tap_rx_burst(struct dp_port *port, struct dp_frame *frames,
			unsigned int n)
{
	uint32_t hl = port->vnet_hdr_len;
	unsigned int i = 0;

	while (i < n) {
		struct dp_frame *f = &frames[i];
		ssize_t len = read(port->fd, f->data - hl, DP_FRAME_MAX + hl);

		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return i ? (int)i : -errno;
		}
		if ((size_t)len < hl)
			continue;	/* the kernel never does this */
		if (hl)
			memcpy(&f->vnet, f->data - hl, sizeof(f->vnet));
		else
			memset(&f->vnet, 0, sizeof(f->vnet));
		f->vnet_in_buf = hl == DP_VNET_HDR_LEN;
		f->len = len - hl;
		i++;
	}
	return i;
}

static int tap_tx(struct dp_port *port, struct dp_tx *tx)
{
	int skip = port->vnet_hdr_len ? 0 : 1;
	int n = dp_iov_merge(tx->iov + skip, tx->iovcnt - skip);
	ssize_t ret = n == 1 ? write(port->fd, tx->iov[skip].iov_base,
				     tx->iov[skip].iov_len)
			     : writev(port->fd, tx->iov + skip, n);

	if (ret < 0)
		return -errno;
	return ret == (ssize_t)(tx->len + port->vnet_hdr_len) ? 0 : -EIO;
}

static int tap_set_offload(struct dp_port *port, bool on)
{
	struct tap_port *tp = (struct tap_port *)port;

	if (!port->vnet_hdr_len)
		return on ? -EOPNOTSUPP : 0;
	if (ioctl(port->fd, TUNSETOFFLOAD, on ? tp->offloads : 0) < 0)
		return -errno;
	return 0;
}

static void tap_destroy(struct dp_port *port)
{
	struct tap_port *tp = (struct tap_port *)port;

	/* A tap we attached to is left without the offloads we asked for.
	 * Closing a tap we created removes the device, wherever it is. */
	if (!tp->created && port->vnet_hdr_len)
		ioctl(port->fd, TUNSETOFFLOAD, 0);
	close(port->fd);
	free(port);
}

static const struct dp_port_ops tap_ops = {
	.kind = "tap",
	.rx_burst = tap_rx_burst,
	.tx = tap_tx,
	.set_offload = tap_set_offload,
	.destroy = tap_destroy,
	.fd_frames = true,
};

/* Ask for TSO and, where the kernel has it (6.2), USO; 0 or -errno. */
static int tap_offload_init(struct tap_port *tp)
{
	int fd = tp->up.fd;

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

int dp_tap_port_open(const char *name, struct dp_port **port, bool *created)
{
	int hdr_len = DP_VNET_HDR_LEN;
	struct tap_port *tp;
	struct ifreq ifr;
	bool existed;
	int fd, err;

	if (!name[0] || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	existed = if_nametoindex(name) != 0;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
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
	tp->up.ops = &tap_ops;
	tp->up.fd = fd;
	memcpy(tp->up.name, ifr.ifr_name, IFNAMSIZ);
	tp->up.name[IFNAMSIZ - 1] = '\0';
	tp->created = !existed;
	/* The header is 10 bytes unless someone set another size on a
	 * persistent tap: say ours. */
	tp->up.vnet_hdr_len = DP_VNET_HDR_LEN;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		err = -errno;
		goto out_free_tp;
	}
	err = tap_offload_init(tp);
	if (err)
		goto out_free_tp;
	*port = &tp->up;
	if (created)
		*created = tp->created;
	return 0;

out_free_tp:
	free(tp);
out_close_fd:
	close(fd);
	return err;
}

int dp_tap_port_query(struct dp_port *port, char name[IFNAMSIZ])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(port->fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return 0;
}

int dp_tap_port_netns(struct dp_port *port)
{
	int fd = ioctl(port->fd, TUNGETDEVNETNS);

	return fd < 0 ? -errno : fd;
}

bool dp_tap_port_created(const struct dp_port *port)
{
	return port->ops == &tap_ops && ((const struct tap_port *)port)->created;
}
