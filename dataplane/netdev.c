/*
 * netdev.c - device flags through libnl-route-3 (netdev.h).
 */
#include "dataplane/netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if.h>
#include <linux/sockios.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

/* libnl's -NLE_* codes are not errno values. */
static int nlerr_to_errno(int nlerr)
{
	switch (abs(nlerr)) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND:
		return -ENODEV;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_INVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static ino_t netns_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* The calling thread's own namespace, as an fd; -1 when it cannot be
 * opened. */
static int own_netns(void)
{
	return open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
}

bool netdev_netns_is_own(int netns_fd)
{
	int self = own_netns();
	bool own;

	if (self < 0)
		return false;
	own = netns_ino(self) == netns_ino(netns_fd);
	close(self);
	return own;
}

/* A connected NETLINK_ROUTE socket in the namespace @netns_fd (-1: ours).
 * The socket stays in the namespace it was created in. */
static int netdev_socket(int netns_fd, struct nl_sock **skp)
{
	struct nl_sock *sk;
	int self = -1, err;

	if (netns_fd >= 0 && !netdev_netns_is_own(netns_fd)) {
		self = own_netns();
		if (self < 0)
			return -errno;
	}
	sk = nl_socket_alloc();
	if (!sk) {
		err = -ENOMEM;
		goto out_close_self;
	}
	if (self >= 0 && setns(netns_fd, CLONE_NEWNET) < 0) {
		err = -errno;
		goto out_free_sock;
	}
	err = nlerr_to_errno(nl_connect(sk, NETLINK_ROUTE));
	if (self >= 0 && setns(self, CLONE_NEWNET) < 0) {
		/* This thread is stranded in another namespace, where
		 * everything it does next would go wrong. */
		fprintf(stderr, "tapswitch: cannot return to our network "
			"namespace: %s\n", strerror(errno));
		abort();
	}
	if (err)
		goto out_free_sock;
	if (self >= 0)
		close(self);
	*skp = sk;
	return 0;

out_free_sock:
	nl_socket_free(sk);
out_close_self:
	if (self >= 0)
		close(self);
	return err;
}

int netdev_get_link(int netns_fd, const char *name, unsigned int *flags,
		    unsigned int *mtu)
{
	struct rtnl_link *link;
	struct nl_sock *sk;
	int err;

	err = netdev_socket(netns_fd, &sk);
	if (err)
		return err;
	err = rtnl_link_get_kernel(sk, 0, name, &link);
	if (err < 0) {
		err = nlerr_to_errno(err);
		goto out_free_sock;
	}
	*flags = rtnl_link_get_flags(link);
	*mtu = rtnl_link_get_mtu(link);
	rtnl_link_put(link);
out_free_sock:
	nl_socket_free(sk);
	return err;
}

int netdev_set_up(const char *name, bool up, bool *was_up)
{
	struct rtnl_link *link, *change;
	struct nl_sock *sk;
	int err;

	err = netdev_socket(-1, &sk);
	if (err)
		return err;
	err = rtnl_link_get_kernel(sk, 0, name, &link);
	if (err < 0) {
		err = nlerr_to_errno(err);
		goto out_free_sock;
	}
	if (was_up)
		*was_up = rtnl_link_get_flags(link) & IFF_UP;
	change = rtnl_link_alloc();
	if (!change) {
		err = -ENOMEM;
		goto out_put_link;
	}
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	else
		rtnl_link_unset_flags(change, IFF_UP);
	err = nlerr_to_errno(rtnl_link_change(sk, link, change, 0));
	rtnl_link_put(change);
out_put_link:
	rtnl_link_put(link);
out_free_sock:
	nl_socket_free(sk);
	return err;
}

void netdev_disable_ipv6(const char *name)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	f = fopen(path, "w");
	if (!f)
		return;		/* no IPv6 here: nothing to do */
	fputs("1\n", f);
	fclose(f);
}

/* An ethtool request @cmd (its first field the command) about device
 * @name in our namespace.  0 or -errno. */
static int netdev_ethtool(const char *name, void *cmd)
{
	struct ifreq ifr;
	int fd, err = 0;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, name);
	ifr.ifr_data = cmd;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

int netdev_driver(const char *name, char *driver, size_t size)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	int err = netdev_ethtool(name, &info);

	if (!err)
		snprintf(driver, size, "%.*s", (int)sizeof(info.driver),
			 info.driver);
	return err;
}

unsigned int netdev_rx_queues(const char *name)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	unsigned int n;

	if (netdev_ethtool(name, &ch))
		return 1;
	n = ch.rx_count + ch.combined_count;
	return n ? n : 1;
}

int netdev_link_of_index(int ifindex, char name[16], bool *up,
			 unsigned int *mtu)
{
	unsigned int flags = 0;
	int err;

	if (!if_indextoname(ifindex, name))
		return errno == ENXIO || errno == ENODEV ? -EBADFD : -errno;
	err = netdev_get_link(-1, name, &flags, mtu);
	if (err)
		return err == -ENODEV ? -EBADFD : err;
	*up = (flags & IFF_UP) && (flags & IFF_RUNNING);
	return 0;
}

int netdev_fd_gone(int fd, int ifindex)
{
	char name[IFNAMSIZ];
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || !err)
		return 0;
	return if_indextoname(ifindex, name) ? 0 : -EBADFD;
}

int netdev_promisc_hold(int ifindex)
{
	struct packet_mreq mr = {
		.mr_ifindex = ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};
	/* Protocol 0: it receives nothing. */
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}
