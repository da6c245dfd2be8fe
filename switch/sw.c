/*
 * sw.c - the switch instance: ports, settings, and the ageing thread.
 */
#include "switch/sw.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "lib/rcu.h"

/* How often the ager scans: expiry comes at most this late. */
#define SW_AGER_TICK_MS 500

void sw_lock(struct sw *sw)
{
	rcu_offline();
	pthread_mutex_lock(&sw->lock);
	rcu_thread_online();
}

void sw_unlock(struct sw *sw)
{
	rcu_offline();
	pthread_mutex_unlock(&sw->lock);
}

static void sw_port_gone(struct dp *dp, uint32_t index, void *arg)
{
	struct sw *sw = arg;

	(void)dp;
	(void)index;
	/* A poll thread: hand the removal to the link monitor. */
	sw_link_kick(sw);
}

int sw_init(struct sw *sw, uint32_t max_learned)
{
	memset(sw, 0, sizeof(*sw));
	pthread_mutex_init(&sw->lock, NULL);
	sw->ageing_s = SW_DEFAULT_AGEING_S;
	sw->ager_stop_fd = -1;
	sw->fdb = fdb_create(max_learned);
	if (!sw->fdb)
		return -ENOMEM;
	sw->dp = dp_create(sw->fdb);
	if (!sw->dp) {
		fdb_destroy(sw->fdb);
		return -ENOMEM;
	}
	dp_set_port_gone_cb(sw->dp, sw_port_gone, sw);
	if (sw_obs_init(sw)) {
		dp_destroy(sw->dp);
		fdb_destroy(sw->fdb);
		return -ENOMEM;
	}
	return 0;
}

static void *sw_ager_thread(void *arg)
{
	struct sw *sw = arg;
	struct pollfd pfd = { .fd = sw->ager_stop_fd, .events = POLLIN };
	uint64_t next_scan_ms = 0;
	uint32_t last_ageing_s = UINT32_MAX;

	rcu_register_thread();
	rcu_offline();
	while (poll(&pfd, 1, SW_AGER_TICK_MS) == 0 ||
	       (pfd.revents == 0 && errno == EINTR)) {
		uint32_t ageing_s =
			__atomic_load_n(&sw->ageing_s, __ATOMIC_RELAXED);
		uint64_t now = dp_now_ms(), next;

		rcu_thread_online();
		fdb_maintain(sw->fdb);
		/*
		 * Scan only when something can have expired: the earliest
		 * deadline the last scan saw has come, or the ageing time
		 * changed.  Refreshes only move deadlines later, and a new
		 * entry's is ageing_time away, so nothing expires sooner.
		 * ageing_time 0: nothing learned stays, and neither does a
		 * dynamic entry added by hand (Linux's hold time 0).
		 */
		if (!ageing_s || ageing_s != last_ageing_s ||
		    now >= next_scan_ms) {
			fdb_age_next(sw->fdb, now, (uint64_t)ageing_s * 1000,
				     &next);
			next_scan_ms = next != UINT64_MAX ? next :
				       now + (uint64_t)ageing_s * 1000;
			last_ageing_s = ageing_s;
		}
		rcu_offline();
		/* Sessions that ended: out of the data path, freed. */
		sw_obs_reap(sw);
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

int sw_start_ager(struct sw *sw)
{
	int err;

	sw->ager_stop_fd = eventfd(0, EFD_CLOEXEC);
	if (sw->ager_stop_fd < 0)
		return -errno;
	err = pthread_create(&sw->ager, NULL, sw_ager_thread, sw);
	if (err) {
		close(sw->ager_stop_fd);
		sw->ager_stop_fd = -1;
		return -err;
	}
	sw->ager_running = true;
	return 0;
}

/* Main thread, registered and offline; the control server and the link
 * thread are stopped. */
void sw_fini(struct sw *sw)
{
	uint32_t idx[DP_MAX_PORTS];
	uint64_t one = 1;
	unsigned int n;

	if (sw->ager_running) {
		if (write(sw->ager_stop_fd, &one, sizeof(one)) < 0)
			sw_log(LOG_ERR, "ager: cannot signal stop: %m");
		pthread_join(sw->ager, NULL);
		sw->ager_running = false;
	}
	if (sw->ager_stop_fd >= 0)
		close(sw->ager_stop_fd);
	sw_lock(sw);
	sw_obs_fini_locked(sw);
	n = dp_port_list(sw->dp, idx, DP_MAX_PORTS);
	for (unsigned int i = 0; i < n; i++)
		sw_port_del_locked(sw, idx[i]);
	dp_destroy(sw->dp);
	fdb_destroy(sw->fdb);
	sw_unlock(sw);
	pthread_mutex_destroy(&sw->lock);
}

static bool sw_ifname_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= IFNAMSIZ || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return false;
	/* As the kernel's dev_valid_name(), and no '%': TUNSETIFF would
	 * take it as a pattern and make a device of another name. */
	for (; *name; name++) {
		unsigned char c = *name;

		if (c == '/' || c == ':' || c == '%' || c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

int sw_port_add_locked(struct sw *sw, const char *name, const char **why)
{
	const struct port_ops *kind = port_kind_find("tap");
	struct dp_port *port;
	int err, index;

	if (!sw_ifname_valid(name)) {
		*why = "not a valid interface name";
		return -EINVAL;
	}
	if (dp_port_lookup(sw->dp, name) >= 0) {
		*why = "already a port";
		return -EEXIST;
	}
	err = kind->open(name, &port, why);
	if (err)
		return err;
	index = dp_port_attach(sw->dp, port, true);
	if (index < 0) {
		*why = index == -ENOSPC ? "too many ports" : strerror(-index);
		port->ops->close(port);
		return index;
	}
	sw_log(LOG_INFO, "%s: port %d added (%s)", name, index,
	       port->opened_as);
	sw_obs_port_event(sw, DP_EV_PORT_ADDED, index, port->name);
	/* The device may not be up after all (carrier): look now. */
	sw_link_rescan_locked(sw);
	return 0;
}

int sw_port_del_locked(struct sw *sw, uint32_t index)
{
	struct dp_port *port = dp_port_get(sw->dp, index);
	char name[IFNAMSIZ];
	int err;

	if (!port)
		return -ENOENT;
	strcpy(name, port->name);
	sw_obs_port_removed_locked(sw, index);
	err = dp_port_detach(sw->dp, index);
	if (err)
		return err;
	sw_log(LOG_INFO, "%s: port %u removed", name, index);
	sw_obs_port_event(sw, DP_EV_PORT_REMOVED, index, name);
	return 0;
}

int sw_set_ageing_locked(struct sw *sw, uint32_t ageing_s)
{
	uint32_t old = sw->ageing_s;
	int err;

	if ((old == 0) != (ageing_s == 0)) {
		err = dp_set_learning(sw->dp, ageing_s != 0);
		if (err)
			return err;
	}
	__atomic_store_n(&sw->ageing_s, ageing_s, __ATOMIC_RELAXED);
	/*
	 * With ageing_time 0 nothing is remembered, as in Linux.  Wait for
	 * the poll threads to see learning off first: one still in a burst
	 * begun before would put back what we flush.
	 */
	if (!ageing_s && old) {
		rcu_tsan_quiescent();
		synchronize_rcu();
		fdb_flush(sw->fdb, FDB_NO_PORT, FDB_ANY_VID,
			  FDB_FLUSH_DYNAMIC);
	}
	return 0;
}
