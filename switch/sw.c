/*
 * sw.c - the switch instance: its lock, start-up and shutdown, and the
 * ageing thread.  What changes the switch afterwards - ports, entries,
 * VLANs, settings - are the operations (ops.h, ops_*.c).
 */
#include "switch/sw.h"
#include "switch/ops.h"

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

#ifdef TS_CHECK_CONTEXT
/* Its address names the calling thread while it lives: no system call,
 * and no two live threads share it. */
static __thread char sw_thread_self;

static uintptr_t sw_self(void)
{
	return (uintptr_t)&sw_thread_self;
}

/*
 * Only the holder writes lock_owner (itself after taking the lock, 0
 * before letting go), so it reads back its own value; any other thread
 * may read a stale one, but never its own address.  Relaxed atomics:
 * other threads read it unlocked, and TSan must see no plain race.
 */
bool sw_lock_held(const struct sw *sw)
{
	return __atomic_load_n(&sw->lock_owner, __ATOMIC_RELAXED) == sw_self();
}
#endif

void sw_lock(struct sw *sw)
{
	rcu_offline();
	pthread_mutex_lock(&sw->lock);
#ifdef TS_CHECK_CONTEXT
	__atomic_store_n(&sw->lock_owner, sw_self(), __ATOMIC_RELAXED);
#endif
	rcu_thread_online();
}

void sw_unlock(struct sw *sw)
{
	sw_assert_locked(sw);
	rcu_offline();
#ifdef TS_CHECK_CONTEXT
	__atomic_store_n(&sw->lock_owner, 0, __ATOMIC_RELAXED);
#endif
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
	int err;

	memset(sw, 0, sizeof(*sw));
	err = -pthread_mutex_init(&sw->lock, NULL);
	if (err)
		return err;
	sw->ageing_s = SW_DEFAULT_AGEING_S;
	sw->max_watchers = SW_DEFAULT_MAX_WATCHERS;
	sw->ager_stop_fd = -1;
	err = -ENOMEM;
	sw->fdb = fdb_create(max_learned);
	if (!sw->fdb)
		goto out_destroy_lock;
	sw->dp = dp_create(sw->fdb);
	if (!sw->dp)
		goto out_destroy_fdb;
	dp_set_port_gone_cb(sw->dp, sw_port_gone, sw);
	err = sw_obs_init(sw);
	if (err)
		goto out_destroy_dp;
	return 0;

out_destroy_dp:
	dp_destroy(sw->dp);
	sw->dp = NULL;
out_destroy_fdb:
	fdb_destroy(sw->fdb);
	sw->fdb = NULL;
out_destroy_lock:
	pthread_mutex_destroy(&sw->lock);
	return err;
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
		/* What port removals left to flush (ops_port.c). */
		dp_flush_deferred(sw->dp);
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
		sw_op_port_remove(sw, idx[i], NULL);
	dp_destroy(sw->dp);
	fdb_destroy(sw->fdb);
	sw_unlock(sw);
	pthread_mutex_destroy(&sw->lock);
}
