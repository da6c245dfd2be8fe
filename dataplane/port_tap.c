/*
 * port_tap.c - the tap backend: one /dev/net/tun file descriptor per port,
 * non-blocking, read in bursts by the port's poll thread.
 *
 * The daemon holds the descriptor, so the device may be moved into another
 * network namespace and keep working.  A deleted device shows on the
 * descriptor as POLLERR, and read/write/TUNGETIFF fail with EBADFD.
 */
#include "dataplane/dp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

struct tap_port {
	struct dp_port up;
	bool created;			/* by us, rather than attached to */
};

static int tap_rx_burst(struct dp_port *port, struct dp_frame *frames,
			unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		ssize_t len = read(port->fd, frames[i].data, DP_FRAME_MAX);

		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return i ? (int)i : -errno;
		}
		frames[i].len = len;
	}
	return i;
}

static int tap_tx(struct dp_port *port, const struct iovec *iov, int iovcnt,
		  uint32_t len)
{
	ssize_t ret = writev(port->fd, iov, iovcnt);

	if (ret < 0)
		return -errno;
	return ret == (ssize_t)len ? 0 : -EIO;
}

static void tap_destroy(struct dp_port *port)
{
	/* Closing a tap we created removes the device, wherever it is. */
	close(port->fd);
	free(port);
}

static const struct dp_port_ops tap_ops = {
	.kind = "tap",
	.rx_burst = tap_rx_burst,
	.tx = tap_tx,
	.destroy = tap_destroy,
};

int dp_tap_port_open(const char *name, struct dp_port **port, bool *created)
{
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
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
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
	*port = &tp->up;
	if (created)
		*created = tp->created;
	return 0;

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
