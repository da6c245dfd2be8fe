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
 * Asking a tap is asking the kernel under its rtnl lock, which a busy
 * lab (taps created and deleted, devices moved) can hold for seconds.
 * So the monitor asks without sw->lock: it notes the ports under the
 * lock, lets go, asks each kind, and takes the lock again to apply what
 * it learned to the ports that are still the ones it asked about (a
 * port's serial, dataplane/port.h).  A removal waits, under sw->lock, for
 * the asking to end before the port is closed (sw_link_wait_idle()):
 * while the monitor asks, the ports it asks about stay open.
 *
 * Thread safety: as sw.h says.  link->mu is taken under sw->lock, never
 * the other way round.
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

/* What the monitor asked one port's kind, and the answer. */
struct sw_link_probe {
	struct dp_port *port;
	uint32_t index;
	uint64_t serial;
	int err;
	struct port_link link;
};

struct sw_link {
	struct sw *sw;
	int kick_fd;
	pthread_t thread;
	bool running;

	/* The monitor is asking kinds, without sw->lock: @busy, guarded by
	 * @mu; @idle is signalled when it stops. */
	pthread_mutex_t mu;
	pthread_cond_t idle;
	bool busy;
	struct sw_link_probe probe[DP_MAX_PORTS];
};

/* Under sw->lock: what a kind said of port @index.  A kind's error other
 * than "deleted" - renamed under us, say - is looked at next time. */
static void sw_link_apply_locked(struct sw *sw, uint32_t index, int err,
				 const struct port_link *link)
{
	if (err == -EBADFD) {
		sw_op_port_gone(sw, index);
		return;
	}
	if (err)
		return;
	sw_op_port_mtu(sw, index, link->mtu);
	sw_op_port_link(sw, index, link->up);
}

void sw_link_check_locked(struct sw *sw, uint32_t index)
{
	struct dp_port *port;
	struct port_link link;

	sw_assert_locked(sw);
	port = dp_port_get(sw->dp, index);
	/* A kind without a device to follow keeps the link it has. */
	if (!sw->link || !port || !port->ops->link_state)
		return;
	sw_link_apply_locked(sw, index, port->ops->link_state(port, &link),
			     &link);
}

static void sw_link_set_busy(struct sw_link *link, bool busy)
{
	pthread_mutex_lock(&link->mu);
	link->busy = busy;
	if (!busy)
		pthread_cond_broadcast(&link->idle);
	pthread_mutex_unlock(&link->mu);
}

void sw_link_wait_idle(struct sw *sw)
{
	struct sw_link *link = sw->link;

	sw_assert_locked(sw);
	if (!link)
		return;
	pthread_mutex_lock(&link->mu);
	while (link->busy)
		pthread_cond_wait(&link->idle, &link->mu);
	pthread_mutex_unlock(&link->mu);
}

/* The monitor's look at every port: note them, ask their kinds unlocked,
 * apply the answers. */
static void sw_link_rescan(struct sw_link *link)
{
	struct sw *sw = link->sw;
	uint32_t idx[DP_MAX_PORTS];
	unsigned int n, m = 0;

	sw_lock(sw);
	n = dp_port_list(sw->dp, idx, DP_MAX_PORTS);
	for (unsigned int i = 0; i < n; i++) {
		struct dp_port *port = dp_port_get(sw->dp, idx[i]);

		if (!port || !port->ops->link_state)
			continue;
		link->probe[m++] = (struct sw_link_probe){
			.port = port,
			.index = idx[i],
			.serial = port->serial,
		};
	}
	if (m)
		sw_link_set_busy(link, true);
	sw_unlock(sw);
	if (!m)
		return;

	for (unsigned int k = 0; k < m; k++) {
		struct sw_link_probe *p = &link->probe[k];

		p->err = p->port->ops->link_state(p->port, &p->link);
	}
	sw_link_set_busy(link, false);

	sw_lock(sw);
	for (unsigned int k = 0; k < m; k++) {
		const struct sw_link_probe *p = &link->probe[k];
		struct dp_port *port = dp_port_get(sw->dp, p->index);

		/* Removed while we asked (and maybe another port in its
		 * place): what we learned is of a port that is gone. */
		if (port && port->serial == p->serial)
			sw_link_apply_locked(sw, p->index, p->err, &p->link);
	}
	sw_unlock(sw);
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
		sw_link_rescan(link);
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
	pthread_mutex_init(&link->mu, NULL);
	pthread_cond_init(&link->idle, NULL);
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
	pthread_cond_destroy(&link->idle);
	pthread_mutex_destroy(&link->mu);
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
	pthread_cond_destroy(&link->idle);
	pthread_mutex_destroy(&link->mu);
	free(link);
}
