/*
 * link.c - device state through libnl-route-3: bringing taps up, and the
 * link monitor that follows each port's device wherever it goes.
 *
 * A tap port's device may be moved into another network namespace after
 * `port add`.  Netlink in our namespace then reports an RTM_DELLINK that
 * cannot be told from a deletion, and reports nothing more about it.  So
 * the monitor treats every link event in our namespace, every "device
 * gone" from a poll thread, and a short timer alike, as a reason to look
 * at every port again:
 *   - TUNGETIFF on the port's fd fails with EBADFD: the device was
 *     deleted; remove the port;
 *   - otherwise TUNGETDEVNETNS tells the namespace the device is in now,
 *     and a netlink socket opened there for the one query reads its
 *     flags: up and running -> the port forwards, else it is disabled
 *     (and loses its dynamic FDB entries).
 * No socket is kept open in another namespace: it would keep that
 * namespace, and the tap in it, alive after `ip netns del`.
 *
 * Thread safety: sw_link_set_up() from any thread; the rest as sw.h says.
 */
#include "switch/sw.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <urcu-qsbr.h>

#include "lib/rcu.h"

/* How often ports in other namespaces are looked at without an event. */
#define SW_LINK_POLL_MS 200

struct sw_link {
	struct sw *sw;
	int own_netns_fd;
	ino_t own_netns_ino;
	int kick_fd;
	pthread_t thread;
	bool running;
};

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

/* A connected NETLINK_ROUTE socket in the namespace @netns_fd (-1: ours).
 * The socket stays in the namespace it was created in. */
static struct nl_sock *link_socket(int netns_fd, int own_fd)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return NULL;
	if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	err = nl_connect(sk, NETLINK_ROUTE);
	if (netns_fd >= 0 && setns(own_fd, CLONE_NEWNET) < 0) {
		/* This thread is stranded in another namespace. */
		sw_log(LOG_ERR, "link: cannot return to our namespace: %m");
		abort();
	}
	if (err) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static int link_get_flags(struct nl_sock *sk, const char *name,
			  unsigned int *flags)
{
	struct rtnl_link *link;
	int err = rtnl_link_get_kernel(sk, 0, name, &link);

	if (err < 0)
		return nlerr_to_errno(err);
	*flags = rtnl_link_get_flags(link);
	rtnl_link_put(link);
	return 0;
}

int sw_link_set_up(const char *name, bool up, bool *was_up)
{
	struct rtnl_link *link, *change;
	struct nl_sock *sk = link_socket(-1, -1);
	int err;

	if (!sk)
		return -ENOMEM;
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

static ino_t netns_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

bool sw_link_in_own_netns(struct dp_port *port)
{
	int self, fd = dp_tap_port_netns(port);
	bool own = false;

	if (fd < 0)
		return false;
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self >= 0) {
		own = netns_ino(self) == netns_ino(fd);
		close(self);
	}
	close(fd);
	return own;
}

/* Look at one tap port's device: 0, or -EBADFD when it was deleted. */
static int link_probe_port(struct sw_link *link, struct dp_port *port,
			   bool *up)
{
	char devname[IFNAMSIZ];
	unsigned int flags = 0;
	struct nl_sock *sk;
	int nsfd, err;

	err = dp_tap_port_query(port, devname);
	if (err)
		return err;
	nsfd = dp_tap_port_netns(port);
	if (nsfd < 0)
		return nsfd;
	if (netns_ino(nsfd) == link->own_netns_ino)
		sk = link_socket(-1, -1);
	else
		sk = link_socket(nsfd, link->own_netns_fd);
	close(nsfd);
	if (!sk)
		return -ENOMEM;
	err = link_get_flags(sk, devname, &flags);
	nl_socket_free(sk);
	if (err)
		return err;
	*up = (flags & IFF_UP) && (flags & IFF_RUNNING);
	return 0;
}

void sw_link_rescan_locked(struct sw *sw)
{
	struct sw_link *link = sw->link;
	uint32_t idx[DP_MAX_PORTS];
	unsigned int n;

	if (!link)
		return;
	n = dp_port_list(sw->dp, idx, DP_MAX_PORTS);
	for (unsigned int i = 0; i < n; i++) {
		struct dp_port *port = dp_port_get(sw->dp, idx[i]);
		struct dp_port_info info;
		bool up = false, was;
		int err;

		if (!port || strcmp(port->ops->kind, "tap"))
			continue;
		err = link_probe_port(link, port, &up);
		if (err == -EBADFD) {
			sw_log(LOG_INFO, "%s: device deleted", port->name);
			sw_port_del_locked(sw, idx[i]);
			continue;
		}
		if (err)
			continue;	/* renamed under us, say: next time */
		if (dp_port_get_info(sw->dp, idx[i], &info))
			continue;
		was = info.flags & DP_PORT_UP;
		if (was == up)
			continue;
		/* Down before what it flushes; up after it forwards. */
		if (!up)
			sw_obs_port_event(sw, DP_EV_PORT_DOWN, idx[i],
					  info.name);
		dp_port_set_flags(sw->dp, idx[i], DP_PORT_UP,
				  up ? DP_PORT_UP : 0);
		sw_log(LOG_INFO, "%s: link %s, port %s", info.name,
		       up ? "up" : "down", up ? "forwarding" : "disabled");
		if (up)
			sw_obs_port_event(sw, DP_EV_PORT_UP, idx[i],
					  info.name);
	}
}

static int link_on_event(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;	/* the rescan after the batch does the work */
}

static void *sw_link_thread(void *arg)
{
	struct sw_link *link = arg;
	struct sw *sw = link->sw;
	struct nl_sock *events = nl_socket_alloc();
	struct pollfd pfd[2] = {
		{ .fd = link->kick_fd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};

	rcu_register_thread();
	rcu_offline();
	if (events) {
		nl_socket_disable_seq_check(events);
		nl_socket_modify_cb(events, NL_CB_VALID, NL_CB_CUSTOM,
				    link_on_event, NULL);
		if (nl_connect(events, NETLINK_ROUTE) == 0 &&
		    nl_socket_add_membership(events, RTNLGRP_LINK) == 0 &&
		    nl_socket_set_nonblocking(events) == 0) {
			pfd[1].fd = nl_socket_get_fd(events);
		} else {
			sw_log(LOG_WARNING,
			       "link: no netlink events, polling only");
		}
	}

	for (;;) {
		uint64_t kicks;
		int n = poll(pfd, 2, SW_LINK_POLL_MS);

		if (n < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			if (read(link->kick_fd, &kicks, sizeof(kicks)) < 0) {
				/* EAGAIN: another reader took it. */
			}
			if (!__atomic_load_n(&link->running, __ATOMIC_ACQUIRE))
				break;
		}
		if (pfd[1].fd >= 0 && pfd[1].revents)
			while (nl_recvmsgs_default(events) >= 0)
				;
		sw_lock(sw);
		sw_link_rescan_locked(sw);
		sw_unlock(sw);
	}
	nl_socket_free(events);
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

int sw_link_start(struct sw *sw)
{
	struct sw_link *link = calloc(1, sizeof(*link));
	int err;

	if (!link)
		return -ENOMEM;
	link->sw = sw;
	link->own_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (link->own_netns_fd < 0) {
		err = -errno;
		goto out_free;
	}
	link->own_netns_ino = netns_ino(link->own_netns_fd);
	link->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (link->kick_fd < 0) {
		err = -errno;
		goto out_close_ns;
	}
	link->running = true;
	err = -pthread_create(&link->thread, NULL, sw_link_thread, link);
	if (err)
		goto out_close_kick;
	sw->link = link;
	return 0;

out_close_kick:
	close(link->kick_fd);
out_close_ns:
	close(link->own_netns_fd);
out_free:
	free(link);
	return err;
}

void sw_link_kick(struct sw *sw)
{
	uint64_t one = 1;

	if (sw->link && write(sw->link->kick_fd, &one, sizeof(one)) < 0) {
		/* Only fails when the counter would overflow: kicked. */
	}
}

void sw_link_stop(struct sw *sw)
{
	struct sw_link *link = sw->link;

	if (!link || !__atomic_load_n(&link->running, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&link->running, false, __ATOMIC_RELEASE);
	sw_link_kick(sw);
	pthread_join(link->thread, NULL);
}

/* Main thread, after dp_destroy(): no poll thread can kick any more. */
void sw_link_free(struct sw *sw)
{
	struct sw_link *link = sw->link;

	if (!link)
		return;
	sw->link = NULL;
	close(link->kick_fd);
	close(link->own_netns_fd);
	free(link);
}
