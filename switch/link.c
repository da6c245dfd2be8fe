/*
 * link.c - the link monitor: each port's state follows its device,
 * wherever the device goes.
 *
 * A port's device may be moved into another network namespace after
 * `port add` (a tap, into a lab host's namespace).  Netlink in our
 * namespace then reports an RTM_DELLINK that cannot be told from a
 * deletion, and reports nothing more about it.  So the monitor treats
 * every link event in our namespace, every "device gone" from a poll
 * thread, and a short timer alike, as a reason to ask every port's kind
 * for its link state (port_ops.link_state: the tap kind asks its fd where
 * the device is and reads its flags there, dataplane/port_tap.c):
 *   - the device was deleted: remove the port (sw_op_port_gone());
 *   - up and running: the port forwards; else it is disabled (and loses
 *     its dynamic FDB entries), as a Linux bridge port
 *     (sw_op_port_link()).
 *
 * Thread safety: as sw.h says.
 */
#include "switch/sw.h"
#include "switch/ops.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
	int kick_fd;
	pthread_t thread;
	bool running;
};

void sw_link_rescan_locked(struct sw *sw)
{
	uint32_t idx[DP_MAX_PORTS];
	unsigned int n;

	sw_assert_locked(sw);
	if (!sw->link)
		return;
	n = dp_port_list(sw->dp, idx, DP_MAX_PORTS);
	for (unsigned int i = 0; i < n; i++) {
		struct dp_port *port = dp_port_get(sw->dp, idx[i]);
		struct port_link link;
		int err;

		/* A kind without a device to follow keeps the link it has. */
		if (!port || !port->ops->link_state)
			continue;
		err = port->ops->link_state(port, &link);
		if (err == -EBADFD) {
			sw_op_port_gone(sw, idx[i]);
			continue;
		}
		if (err)
			continue;	/* renamed under us, say: next time */
		sw_op_port_mtu(sw, idx[i], link.mtu);
		sw_op_port_link(sw, idx[i], link.up);
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
	link->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (link->kick_fd < 0) {
		err = -errno;
		goto out_free;
	}
	link->running = true;
	err = -pthread_create(&link->thread, NULL, sw_link_thread, link);
	if (err)
		goto out_close_kick;
	sw->link = link;
	return 0;

out_close_kick:
	close(link->kick_fd);
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
	free(link);
}
