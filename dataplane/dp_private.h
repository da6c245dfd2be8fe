/*
 * dp_private.h - what the data plane's files share: the data plane object,
 * the worker that runs the pipeline, the poll threads as the control side
 * sees them.  Not for users of the data plane.
 *
 *   dp.c        the pipeline, and the workers that run it
 *   conf.c      the configuration snapshot (conf.h)
 *   settings.c  the data plane object and switch-wide settings
 *   ports.c     the port table: attach, detach, flags, info
 *   vlan_cfg.c  VLAN filtering, protocol, default PVID, port membership
 *   poll.c      poll threads; uring.c their io_uring
 *   port_*.c    the port kinds (port.h); netdev.c device flags for them
 */
#ifndef TAPSWITCH_DP_PRIVATE_H
#define TAPSWITCH_DP_PRIVATE_H

#include "dataplane/dp.h"

#include <pthread.h>

#include <urcu-qsbr.h>

#include "dataplane/conf.h"
#include "lib/atomic.h"

/* A port's receive buffers: DP_RX_SETS sets of DP_BURST, each the
 * headroom for a virtio-net header, then the frame. */
#define DP_BUF_STRIDE (((DP_VNET_HDR_LEN + DP_FRAME_MAX) + 63) & ~63u)
#define DP_RX_SETS 2
#define DP_BUFS_USED ((size_t)DP_RX_SETS * DP_BURST * DP_BUF_STRIDE)

struct dp_uring;

/*
 * A thread's memory of where (VID, MAC) keys pointed, as VALE's learning
 * micro-cache: valid while the table's generation has not moved (nothing
 * moved, aged or was deleted since).  A source refreshed here less than
 * DP_L2C_REFRESH_MS ago, on the same port, is not learned again: the
 * table's last-seen time lags by at most that much.
 */
#define DP_L2C_SIZE		4096		/* entries, a power of 2 */
#define DP_L2C_REFRESH_MS	200
struct dp_l2c_ent {
	uint64_t key;
	uint32_t port;			/* FDB_NO_PORT: empty */
	uint32_t gen;
	uint64_t refreshed_ms;		/* learned here then; 0: only looked up */
};

/* Tx counters gathered over a burst, added to the ports' at its end. */
#define DP_TX_ACC 8
struct dp_tx_acc {
	struct dp_port *port;
	uint16_t vid;
	uint32_t packets;
	uint64_t bytes;
};

/* dp_worker_post(): which group a port's copies are in, in pass @pass. */
struct dp_post_grp {
	uint32_t pass;
	uint8_t g;
};

/*
 * What one thread running the pipeline keeps between frames: the egress
 * copies pass two has decided but not yet written, the learning cache,
 * counters not yet added, and scratch room for the software offload path.
 * One per poll thread; dp_input() makes a short-lived one.
 */
#define DP_TXQ 64
struct dp_worker {
	struct dp *dp;
	struct dp_io io;		/* io.ring NULL: copies written at once */
	unsigned int n_tx;
	struct dp_tx tx[DP_TXQ];
	/* &tx[i], set once: a burst to one port is handed to its kind as
	 * it is queued, without building a pointer array. */
	struct dp_tx *txp[DP_TXQ];
	uint32_t gen;			/* fdb_gen() as the burst began */
	unsigned int n_acc;
	struct dp_tx_acc acc[DP_TX_ACC];
	struct dp_l2c_ent *l2c;		/* [DP_L2C_SIZE]; NULL: no cache */
	/* While an observed burst runs: its watchers, the VLAN of the
	 * frame being delivered, and trace records (DP_BURST, lazily). */
	const struct dp_obs_set *obs;
	uint16_t obs_vid;
	struct dp_trace *traces;
	uint8_t *lin;			/* a frame as it leaves, linear */
	uint8_t *seg;			/* one software segment */
	uint32_t post_pass;
	struct dp_post_grp grp[DP_MAX_PORTS];
};

/* A poll thread, as the control side starts, kicks and stops it. */
struct dp_poller {
	pthread_t thread;
	uint32_t index;			/* its slot in dp->pollers */
	int stop_fd;			/* eventfd: wakes a blocked poll() */
	bool stopping;			/* atomic: seen between bursts */
	bool uring;			/* atomic: the thread runs on io_uring */
	uint64_t seen_gen;		/* atomic: the snapshot it has seen */
	struct dp *dp;
	bool want_uring;		/* dp->io, as the thread started */
	uint32_t busy_poll_us;
	int cpu;			/* pinned there; -1: not pinned */
	bool running;
};

struct dp {
	struct fdb *fdb;
	struct dp_conf *conf;		/* RCU-published */
	uint16_t default_pvid;		/* control side only */
	struct dp_io_opts io;		/* control side only */
	struct dp_poller pollers[DP_MAX_PORTS];
	dp_port_gone_func *gone_cb;
	void *gone_arg;
	uint64_t detach_waited_ms;	/* control side only */
	/* Per index: a detached port's entries wait for
	 * dp_flush_deferred() (atomic; set by the control side, cleared by
	 * the flusher). */
	uint8_t flush_pending[DP_MAX_PORTS];
};

/* dp.c */
/* 0 or -ENOMEM.  With @cache false the worker has no learning cache
 * (a short-lived one would gain nothing from it). */
int dp_worker_init(struct dp_worker *w, struct dp *dp, bool cache);
void dp_worker_fini(struct dp_worker *w);
/* As dp_input(), but the egress copies may stay queued in @w: the caller
 * writes them (dp_worker_flush(), or with its ring's next round) before it
 * announces a quiescent state. */
void dp_worker_input(struct dp_worker *w, uint32_t index,
		     struct dp_frame *frames, unsigned int n,
		     uint64_t now_ms);
/* Hand the queued copies to their ports' tx_burst(), a run of copies to
 * one port at a time, in order; with w->io.ring, the kinds may queue them
 * there for the caller to submit. */
void dp_worker_post(struct dp_worker *w);
/* Write every queued copy now, in order, and wait for the outcomes. */
void dp_worker_flush(struct dp_worker *w);
/* Add the gathered tx counters to the ports'; before a quiescent state. */
void dp_tx_acc_publish(struct dp_worker *w);

/* vlan_cfg.c: the VLAN configuration of a new port: the default PVID,
 * egress untagged, identity PCP maps.  NULL when out of memory. */
struct dp_vlan_obj *dp_vlan_obj_new(uint16_t default_pvid);

/*
 * poll.c, control thread.  Attaching: prepare (receive buffers) before the
 * port is published, added after (start or kick its thread).  Detaching:
 * removed after it is unpublished (its thread stopped, when @last, or
 * seen to have let go of it), release after a grace period.
 */
int dp_poll_port_prepare(struct dp *dp, struct dp_port *port);
int dp_poll_port_added(struct dp *dp, struct dp_port *port);
/* Returns how long it waited for the thread, in ms. */
uint64_t dp_poll_port_removed(struct dp *dp, uint32_t index, bool last);
void dp_poll_port_release(struct dp_port *port);
/* The thread that serves port @index's slot in dp->pollers. */
uint32_t dp_poll_thread_of(const struct dp *dp, uint32_t index);
/* Whether port @index's poll thread runs on io_uring now. */
bool dp_poll_uring(struct dp *dp, uint32_t index);

#endif /* TAPSWITCH_DP_PRIVATE_H */
