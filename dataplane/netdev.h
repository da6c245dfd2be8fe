/*
 * netdev.h - what the port kinds ask of a network device by its name:
 * bring it up or down, read its flags - in the daemon's network namespace
 * or, for a device moved away, in the one it lives in now.
 *
 * Through libnl-route-3 (its -NLE_* codes are translated to -errno here).
 * A query in another namespace opens a netlink socket there for that one
 * query: a socket kept open would keep the namespace, and the device in
 * it, alive after `ip netns del`.
 *
 * Thread safety: any thread.  A query in another namespace moves the
 * calling thread there for the time it takes to open a socket, and back.
 */
#ifndef TAPSWITCH_DP_NETDEV_H
#define TAPSWITCH_DP_NETDEV_H

#include <stdbool.h>
#include <stddef.h>

/* Set IFF_UP on device @name in our namespace (@up) or clear it; *was_up
 * (when not NULL) receives whether it was up.  0 or -errno. */
int netdev_set_up(const char *name, bool up, bool *was_up);

/* The flags (IFF_*) and MTU of device @name in the namespace @netns_fd
 * (-1: ours).  0 or -errno (-ENODEV: no such device there). */
int netdev_get_link(int netns_fd, const char *name, unsigned int *flags,
		    unsigned int *mtu);

/* The name of the driver of device @name in our namespace ("tun" for a
 * tap, "veth", ...), as `ethtool -i` prints it.  0 or -errno (-ENODEV: no
 * such device). */
int netdev_driver(const char *name, char *driver, size_t size);

/* Where device @ifindex of our namespace is and whether it is up
 * (IFF_UP and IFF_RUNNING): its name now, its MTU.  0, or -EBADFD when
 * no device has that index any more (deleted, or moved away). */
int netdev_link_of_index(int ifindex, char name[16], bool *up,
			 unsigned int *mtu);

/* A socket bound to device @ifindex had nothing to read: was it because
 * the device went away?  Reads (and so clears) the socket's pending
 * error.  0, or -EBADFD when @ifindex names no device any more. */
int netdev_fd_gone(int fd, int ifindex);

/* Hold device @ifindex promiscuous: a packet socket with a promiscuous
 * membership, which the kernel drops (and the device's promiscuity with
 * it) when the socket closes, also if the process dies.  The socket, or
 * -errno. */
int netdev_promisc_hold(int ifindex);

/* How many receive queues device @name has (ethtool's channels; 1 when
 * it cannot say). */
unsigned int netdev_rx_queues(const char *name);

/* Whether the namespace @netns_fd is the daemon's own. */
bool netdev_netns_is_own(int netns_fd);

/* Keep our namespace's stack from giving device @name an IPv6 address
 * (and sending its own frames into the switch).  Best effort: a kernel
 * without IPv6 has nothing to disable. */
void netdev_disable_ipv6(const char *name);

#endif /* TAPSWITCH_DP_NETDEV_H */
