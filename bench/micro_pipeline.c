/*
 * micro_pipeline.c - the per-frame pipeline alone, as a poll thread runs
 * it: dp_worker_run() driven directly over ports whose backend only
 * counts what it is given.
 *
 * What is measured
 * ----------------
 * One thread, registered with liburcu (QSBR), plays every poll thread in
 * turn, each with its own struct dp_worker - one per ingress port, as the
 * daemon runs one poll thread a port by default: for each burst of
 * DP_BURST frames it reads the clock (dp_now_ms()), calls dp_worker_run()
 * for the burst's ingress port and announces a quiescent state - the
 * poll loop's work per burst, minus the system calls.  That is the
 * pipeline the A/B bench's tapswitch runs: a worker keeps a learning
 * cache (a source it refreshed on the same port less than 200 ms ago is
 * not learned again; destinations it looked up are remembered while the
 * table's generation, fdb_gen(), does not move) and adds the tx counters
 * once a burst.  One row runs dp_input() instead, as a comparison:
 * "steady-2p, no cache (dp_input)" - a short-lived worker a call, no
 * cache - interleaved rep by rep with steady-2p, so that the machine's
 * speed swings hit both alike; their ratio is printed under the table.
 *
 * The frames are 64-byte Ethernet frames built before the clock starts,
 * in a pool per ingress port that the loop hands over by pointer,
 * cycling, as if the kernel had just written them into the receive
 * buffers (no offloads: vnet zeroed, vnet_in_buf false).  The egress
 * ports are a "sink" backend defined here whose tx() counts and returns:
 * the memory backend of dataplane/port_mem.c mallocs, copies and queues
 * every frame under a mutex, which would measure malloc rather than the
 * pipeline (it is run once, as mem-steady-2p, for comparison).
 *
 * The rate is frames per second of the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID): Mpps per core.  Wall-clock and whole-process
 * CPU (liburcu's call_rcu() thread frees entries) are reported beside it.
 *
 * The table grows in learn-new only (and while the 1M scenario is filled
 * before the clock starts).  The hash table does not resize itself: the
 * daemon's ageing thread calls fdb_maintain(), at most 500 ms apart.  The
 * loop plays that thread between batches - every 64Ki frames, outside any
 * read-side section, when a resize is due - and the time it takes is
 * taken out of the figures and shown beside them ("resizes" in the notes,
 * bench/micro_common.h).  Under a fast flood of new sources the daemon's
 * chains grow longer between two ticks than they do here.
 *
 * Checks
 * ------
 * Each scenario is checked after its run: every frame must have done what
 * the scenario says (one copy per frame for unicast, n-1 for floods, a
 * tag on every copy with VLANs, nothing learned in steady state, every
 * source learned or refused in the learning ones, no drops), and the
 * pool must be unchanged - the pipeline may modify frames in place; if
 * it starts to, reusing the pool would be wrong and the run says so.
 * Then the table is walked (fdb_dump()): every source the traffic uses
 * must have an entry on its port, refreshed during the run (last seen at
 * or after the run's start) when the run is long enough for that (200 ms
 * and a pool cycle, with a margin; "*" beside the lag when not); "lag" is the longest time since a source entry
 * was last seen, at the end of the run: about a pool cycle without the
 * cache, up to 200 ms with it.  Calls into the table are counted
 * (bench/micro.mk links with --wrap=fdb_learn_rcu,fdb_lookup_rcu: an
 * increment and a jump a call, in every row alike): "lrn/fr" and "lkp/fr"
 * are the fdb_learn_rcu() and fdb_lookup_rcu() calls a frame, 1.00 each
 * without a cache.  learn-new, learn-limit and steady-2p-1M defeat the
 * cache by design (every source new, or a million of them), and say so.
 *
 * Scenarios (name: what every frame does)
 *   steady-2p         port 0 -> port 1; src one of 1024 hosts learned on
 *                     port 0 (refresh), dst one of 1024 on port 1 (hit)
 *   steady-2p-input   the same through dp_input(): no learning cache
 *   steady-2p-64      steady-2p with 64 hosts a port: the 128 addresses
 *                     fit the worker's 1024-entry cache (1024 hosts a
 *                     port and 1024 slots for sources and destinations
 *                     do not: steady-2p shows what that costs)
 *   steady-4p         4 ports in turn, 1024 hosts on each, every frame to
 *                     a host on another port
 *   steady-2p-1M      steady-2p with 512Ki hosts a port: a 1M-entry table
 *   learn-new         port 0 -> port 1 with a source MAC never seen
 *                     before: every frame inserts; the table is unlimited
 *                     and grows (its size at the end is printed)
 *   learn-limit       max_learned 65536, reached: every frame a new source
 *                     refused (a MAC flood at the limit), still forwarded
 *   flood-bcast-4p    4 ports in turn, broadcast: 3 copies a frame
 *   flood-unknown-4p  4 ports in turn, unknown unicast: a lookup miss and
 *                     3 copies
 *   vlan-access-trunk VLAN filtering on; port 0 access (PVID 10,
 *                     untagged) -> port 1 trunk (10 tagged): classify,
 *                     learn and look up in VLAN 10, tag pushed by iovec
 *   mem-steady-2p     steady-2p over the memory backend, its queue
 *                     drained after every burst (in the timed loop)
 *
 * Each scenario runs 5 times for 1 s (--quick: once), each time on a
 * switch and table built afresh; the table prints the median and the
 * best.  The best matters on this VM: its vCPUs swing, for tens of
 * seconds at a time, between two speeds (steady-2p through dp_input()
 * ~21 and ~12.5 Mpps, with no other process running and no steal time),
 * so compare two builds only with interleaved runs.  "other" is the CPU
 * other processes used meanwhile (from /proc/stat), "buckets" the FDB
 * hash table's bucket count at the end (fdb_get_stats()).
 *
 *   build/bench/micro_pipeline [--quick] [--only NAME,...] [--json PATH]
 *   perf record -g build/bench/micro_pipeline --only steady-2p --reps 1
 *   valgrind --tool=callgrind --collect-atstart=no --toggle-collect=run_loop \
 *       build/bench/micro_pipeline --only steady-2p --reps 1 --frames 409600
 *       (callgrind counts the 5% warm-up too: divide by 430080 frames)
 */
#include "dataplane/dp.h"

#include <getopt.h>
#include <stddef.h>
#include <urcu-qsbr.h>

#include "bench/micro_common.h"

#define MAX_PORTS	4
#define MAX_REPS	16
#define ACCESS_VID	10
#define TARGET_MPPS	20.0	/* issue 4: pipeline alone >= 20 Mpps */
#define FRAME_HEADROOM	64
#define REFRESH_MS	200	/* dp.h: the learning cache's refresh */
#define MAINTAIN_BURSTS	(MC_MAINTAIN_EVERY / DP_BURST)

/* Index spaces for mc_mac(): hosts of port p, new sources, unknowns. */
#define HOST_INDEX(p, j)	(((uint64_t)(p) << 28) + (j))
#define NEWSRC_INDEX(k)		((1ull << 36) + (k))
#define UNKNOWN_INDEX(j)	((1ull << 37) + (j))

/* ---- calls into the table, counted ---- */

/*
 * bench/micro.mk links this binary with --wrap for the two functions the
 * pipeline calls per frame, and defines MICRO_COUNT_CALLS: calls from the
 * data plane land here first.  One thread calls them: plain counters.
 */
static uint64_t n_learn_calls, n_lookup_calls;

#ifdef MICRO_COUNT_CALLS
#define CALLS_COUNTED true
uint32_t __real_fdb_lookup_rcu(struct fdb *fdb, uint16_t vid,
			       const uint8_t mac[FDB_MAC_LEN]);
uint32_t __wrap_fdb_lookup_rcu(struct fdb *fdb, uint16_t vid,
			       const uint8_t mac[FDB_MAC_LEN]);
enum fdb_learn_result __real_fdb_learn_rcu(struct fdb *fdb, uint16_t vid,
					   const uint8_t mac[FDB_MAC_LEN],
					   uint32_t port, uint64_t now_ms,
					   uint32_t *old_port);
enum fdb_learn_result __wrap_fdb_learn_rcu(struct fdb *fdb, uint16_t vid,
					   const uint8_t mac[FDB_MAC_LEN],
					   uint32_t port, uint64_t now_ms,
					   uint32_t *old_port);

uint32_t __wrap_fdb_lookup_rcu(struct fdb *fdb, uint16_t vid,
			       const uint8_t mac[FDB_MAC_LEN])
{
	n_lookup_calls++;
	return __real_fdb_lookup_rcu(fdb, vid, mac);
}

enum fdb_learn_result __wrap_fdb_learn_rcu(struct fdb *fdb, uint16_t vid,
					   const uint8_t mac[FDB_MAC_LEN],
					   uint32_t port, uint64_t now_ms,
					   uint32_t *old_port)
{
	n_learn_calls++;
	return __real_fdb_learn_rcu(fdb, vid, mac, port, now_ms, old_port);
}
#else
#define CALLS_COUNTED false
#endif

enum traffic {
	TRAFFIC_UNICAST,	/* known host to known host */
	TRAFFIC_BCAST,
	TRAFFIC_UNKNOWN,	/* known host to a MAC nobody has */
	TRAFFIC_NEWSRC,		/* never-seen source to a known host */
};

enum backend {
	BACKEND_SINK,
	BACKEND_MEM,
};

struct scenario {
	const char *name;
	const char *label;		/* in the table; NULL: the name */
	const char *what;
	unsigned int n_ports;
	unsigned int n_in;		/* ingress ports in turn: 0..n_in-1 */
	uint32_t hosts;			/* per port; a power of 2 */
	uint32_t max_learned;		/* 0: unlimited */
	bool fill_to_limit;		/* learn on port 0 up to the limit */
	bool vlan;
	enum traffic traffic;
	enum backend backend;
	bool input;			/* dp_input(): no learning cache */
	unsigned int pair;		/* same non-zero: reps interleaved */
	const char *defeats;		/* why the cache cannot help, or NULL */
};

static const struct scenario scenarios[] = {
	{ .name = "steady-2p",
	  .what = "port 0 -> port 1, 1024 hosts learned on each: refresh + "
		  "hit + 1 tx",
	  .n_ports = 2, .n_in = 1, .hosts = 1024, .pair = 1 },
	{ .name = "steady-2p-input",
	  .label = "steady-2p, no cache (dp_input)",
	  .what = "steady-2p through dp_input(): no learning cache, tx "
		  "counters as before (comparison)",
	  .n_ports = 2, .n_in = 1, .hosts = 1024, .input = true, .pair = 1 },
	{ .name = "steady-2p-64",
	  .what = "steady-2p with 64 hosts on each port: the 128 addresses "
		  "fit the 1024-entry learning cache",
	  .n_ports = 2, .n_in = 1, .hosts = 64 },
	{ .name = "steady-4p",
	  .what = "4 ports in turn, 1024 hosts on each, to a host on another "
		  "port",
	  .n_ports = 4, .n_in = 4, .hosts = 1024 },
	{ .name = "steady-2p-1M",
	  .what = "steady-2p with 512Ki hosts on each port: 1M-entry table",
	  .n_ports = 2, .n_in = 1, .hosts = 512 * 1024,
	  .defeats = "512Ki sources and as many destinations for a "
		     "1024-entry cache" },
	{ .name = "learn-new",
	  .what = "port 0 -> port 1, every source MAC new: insert, table "
		  "unlimited",
	  .n_ports = 2, .n_in = 1, .hosts = 1024,
	  .traffic = TRAFFIC_NEWSRC,
	  .defeats = "every source is new; the 1024 destinations still use "
		     "it" },
	{ .name = "learn-limit",
	  .what = "max_learned 65536 full, every source new and refused, "
		  "forwarded",
	  .n_ports = 2, .n_in = 1, .hosts = 1024, .max_learned = 65536,
	  .fill_to_limit = true, .traffic = TRAFFIC_NEWSRC,
	  .defeats = "every source is new and refused: nothing to cache" },
	{ .name = "flood-bcast-4p",
	  .what = "4 ports in turn, broadcast from known hosts: 3 copies",
	  .n_ports = 4, .n_in = 4, .hosts = 1024, .traffic = TRAFFIC_BCAST },
	{ .name = "flood-unknown-4p",
	  .what = "4 ports in turn, unknown unicast: lookup miss + 3 copies",
	  .n_ports = 4, .n_in = 4, .hosts = 1024,
	  .traffic = TRAFFIC_UNKNOWN },
	{ .name = "vlan-access-trunk",
	  .what = "filtering on, access (PVID 10) -> trunk (10 tagged), tag "
		  "pushed",
	  .n_ports = 2, .n_in = 1, .hosts = 1024, .vlan = true },
	{ .name = "mem-steady-2p",
	  .what = "steady-2p over the memory backend (malloc+copy+mutex per "
		  "tx)",
	  .n_ports = 2, .n_in = 1, .hosts = 1024, .backend = BACKEND_MEM },
};
#define N_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const char *sc_label(const struct scenario *sc)
{
	return sc->label ? sc->label : sc->name;
}

/* The CPU the measuring thread is pinned to (-1: none), for
 * mc_maintain() to put back. */
static int pinned_cpu = -1;

/* ---- the sink backend: tx counts, nothing else ---- */

struct sink_port {
	struct dp_port up;
	uint64_t n_tx;
	uint64_t n_bytes;
};

static int sink_rx_burst(struct dp_port *port, struct dp_io *io,
			 struct dp_frame *frames, unsigned int n)
{
	(void)port;
	(void)io;
	(void)frames;
	(void)n;
	return 0;
}

/* One thread delivers here in this benchmark: plain counters.  iov[0] is
 * the virtio-net header, iov[1..] the frame; tx->len counts the frame. */
static void sink_tx_burst(struct dp_port *port, struct dp_io *io,
			  struct dp_tx *const *txs, unsigned int n)
{
	struct sink_port *sp = (struct sink_port *)port;

	(void)io;
	for (unsigned int i = 0; i < n; i++) {
		sp->n_tx++;
		sp->n_bytes += txs[i]->len;
		txs[i]->err = 0;
	}
}

static void sink_close(struct dp_port *port)
{
	free(port);
}

static const struct port_ops sink_ops = {
	.kind = "sink",
	.rx_burst = sink_rx_burst,
	.tx_burst = sink_tx_burst,
	.close = sink_close,
};

static struct dp_port *sink_port_create(const char *name)
{
	struct sink_port *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return NULL;
	sp->up.ops = &sink_ops;
	sp->up.poll_fd = -1;		/* no poll thread: we drive it */
	snprintf(sp->up.name, sizeof(sp->up.name), "%s", name);
	return &sp->up;
}

/* ---- one scenario's switch, table and frames ---- */

struct bench {
	const struct scenario *sc;
	uint32_t frame_len;
	struct fdb *fdb;
	struct dp *dp;
	struct dp_port *port[MAX_PORTS];
	struct dp_worker *w[MAX_PORTS];	/* per ingress port; none: input */
	uint32_t n_pool;		/* frames per ingress port */
	uint32_t stride;		/* bytes from frame to frame */
	uint8_t *pool[MAX_PORTS];	/* n_pool * stride bytes */
	struct dp_frame *frames[MAX_PORTS];
	uint32_t cursor[MAX_PORTS];
	uint64_t next_src;		/* TRAFFIC_NEWSRC: next new source */
	unsigned int bursts;		/* since the last look at the table */
	struct mc_maint maint;		/* the ager's work, since creation */
	uint8_t drain_buf[2048];	/* BACKEND_MEM: popped frames */
};

/* The walk of the table after a run (see the top of the file). */
struct refresh {
	bool applies;			/* traffic from known hosts */
	bool long_enough;		/* to require a refresh of each */
	uint64_t sources;		/* entries found on ingress ports */
	uint64_t want;			/* entries the traffic's sources have */
	uint64_t stale;			/* of which not refreshed in the run */
	uint64_t max_lag_ms;		/* end of run - last seen, at most */
	double mean_lag_ms;
};

/* What one timed run counted. */
struct rep {
	uint64_t frames;
	struct mc_times t;		/* the ager's time taken out */
	uint64_t tx_packets, tx_bytes, flooded, drops;
	uint64_t learned, limit_miss, moved;
	uint64_t entries_start, entries_end;
	uint64_t learn_calls, lookup_calls;
	unsigned long buckets_end;
	unsigned int resizes;		/* fdb_maintain() during the run */
	struct mc_times maint;		/* the time they took */
	struct refresh refresh;
	double other_cpus;		/* other processes' load meanwhile */
	double mpps_cpu, mpps_wall, ns_per_frame;
};

/* A permutation of [0, n) for n a power of 2: odd multipliers. */
static uint32_t perm(uint32_t j, uint32_t n, uint32_t mult)
{
	return (j * mult) & (n - 1);
}

/* Frame @j of ingress port @p, into @buf (frame_len bytes). */
static void gen_frame(const struct bench *b, unsigned int p, uint32_t j,
		      uint8_t *buf)
{
	const struct scenario *sc = b->sc;
	uint32_t h = sc->hosts;
	unsigned int q;

	memset(buf, 0, b->frame_len);
	switch (sc->traffic) {
	case TRAFFIC_UNICAST:
	case TRAFFIC_NEWSRC:
		q = sc->n_ports == 2 ? 1 - p :
		    (p + 1 + j % (sc->n_ports - 1)) % sc->n_ports;
		mc_mac(HOST_INDEX(q, perm(j, h, 0x85ebca77u)), buf);
		break;
	case TRAFFIC_BCAST:
		memset(buf, 0xff, MC_ETH_ALEN);
		break;
	case TRAFFIC_UNKNOWN:
		mc_mac(UNKNOWN_INDEX(j), buf);
		break;
	}
	/* TRAFFIC_NEWSRC overwrites this per burst. */
	mc_mac(HOST_INDEX(p, perm(j, h, 0x9e3779b1u)), buf + MC_ETH_ALEN);
	buf[12] = 0x08;			/* IPv4, for what it is worth */
	buf[13] = 0x00;
	for (uint32_t i = DP_ETH_HLEN; i < b->frame_len; i++)
		buf[i] = (uint8_t)(i + j);
}

/* Learn @mac on @port directly in the table: the pre-filled state. */
static enum fdb_learn_result prefill_one(struct bench *b, uint16_t vid,
					 uint64_t index, uint32_t port,
					 uint64_t now_ms)
{
	enum fdb_learn_result res;
	uint8_t mac[MC_ETH_ALEN];

	mc_mac(index, mac);
	rcu_read_begin();
	res = fdb_learn_rcu(b->fdb, vid, mac, port, now_ms, NULL);
	rcu_read_end();
	if ((index & 255) == 0)
		rcu_quiescent_state();
	/* The ager's tick, outside the read-side section. */
	if ((index & (MC_MAINTAIN_EVERY - 1)) == MC_MAINTAIN_EVERY - 1)
		mc_maintain(b->fdb, pinned_cpu, &b->maint);
	return res;
}

static int vlan_setup(struct bench *b)
{
	struct dp_vlan_cfg cfg;
	int err;

	err = dp_set_vlan_filtering(b->dp, true);
	for (unsigned int p = 0; !err && p < b->sc->n_ports; p++) {
		err = dp_port_get_vlan(b->dp, p, &cfg);
		if (err)
			break;
		vlan_port_init(&cfg.mbr);
		/* Port 0 is the access port, the others trunks. */
		err = p == 0 ? vlan_port_add(&cfg.mbr, ACCESS_VID, true, true)
			     : vlan_port_add(&cfg.mbr, ACCESS_VID, false,
					     false);
		if (!err)
			err = dp_port_set_vlan(b->dp, p, &cfg);
	}
	return err;
}

static void bench_destroy(struct bench *b)
{
	for (unsigned int p = 0; p < MAX_PORTS; p++)
		dp_worker_destroy(b->w[p]);
	/* The data plane flushes into the table: it goes first. */
	dp_destroy(b->dp);
	for (unsigned int p = 0; p < MAX_PORTS; p++) {
		free(b->pool[p]);
		free(b->frames[p]);
	}
	fdb_destroy(b->fdb);
	free(b);
}

static struct bench *bench_create(const struct scenario *sc,
				  uint32_t frame_len)
{
	struct bench *b = calloc(1, sizeof(*b));
	uint16_t vid = sc->vlan ? ACCESS_VID : 0;
	uint64_t now = dp_now_ms();
	int err = 0;

	if (!b)
		return NULL;
	b->sc = sc;
	b->frame_len = frame_len;
	b->fdb = fdb_create(sc->max_learned);
	b->dp = b->fdb ? dp_create(b->fdb) : NULL;
	if (!b->dp)
		goto fail;
	mc_maint_init(&b->maint, b->fdb);
	for (unsigned int p = 0; p < sc->n_ports; p++) {
		char name[IFNAMSIZ];
		struct dp_port *port;
		int index;

		snprintf(name, sizeof(name), "%s%u",
			 sc->backend == BACKEND_MEM ? "mem" : "sink", p);
		port = sc->backend == BACKEND_MEM ? dp_mem_port_create(name)
						  : sink_port_create(name);
		if (!port)
			goto fail;
		index = dp_port_attach(b->dp, port, true);
		if (index != (int)p) {
			fprintf(stderr, "%s: attach %s: %d\n", sc->name, name,
				index);
			port->ops->close(port);
			goto fail;
		}
		b->port[p] = port;
	}
	/* A worker per ingress port: the poll thread each would have. */
	for (unsigned int p = 0; !sc->input && p < sc->n_in; p++)
		if (!(b->w[p] = dp_worker_create(b->dp)))
			goto fail;
	/* Filtering first: turning it on forgets what was learned. */
	if (sc->vlan && (err = vlan_setup(b))) {
		fprintf(stderr, "%s: VLAN setup: %s\n", sc->name,
			strerror(-err));
		goto fail;
	}
	for (unsigned int p = 0; p < sc->n_ports; p++)
		for (uint32_t j = 0; j < sc->hosts; j++)
			if (prefill_one(b, vid, HOST_INDEX(p, j), p, now) !=
			    FDB_LEARN_NEW) {
				fprintf(stderr, "%s: prefill failed\n",
					sc->name);
				goto fail;
			}
	if (sc->fill_to_limit) {
		uint64_t j = sc->hosts;

		while (prefill_one(b, vid, HOST_INDEX(0, j), 0, now) ==
		       FDB_LEARN_NEW)
			j++;
	}
	/* Filled: the ager's next tick sizes the table for it. */
	mc_maintain(b->fdb, pinned_cpu, &b->maint);

	/* Every source once per pool cycle; 1024 frames at least. */
	b->n_pool = sc->traffic == TRAFFIC_NEWSRC ? 1024 : sc->hosts;
	if (b->n_pool < 1024)
		b->n_pool = 1024;
	/* Room before each frame, as rx_burst() buffers have (for a
	 * virtio-net header); cache-line aligned frames. */
	b->stride = FRAME_HEADROOM + ((frame_len + 63) & ~63u);
	for (unsigned int p = 0; p < sc->n_in; p++) {
		b->pool[p] = aligned_alloc(64, (size_t)b->n_pool * b->stride);
		b->frames[p] = calloc(b->n_pool, sizeof(*b->frames[p]));
		if (!b->pool[p] || !b->frames[p])
			goto fail;
		for (uint32_t j = 0; j < b->n_pool; j++) {
			uint8_t *buf = b->pool[p] + (size_t)j * b->stride +
				       FRAME_HEADROOM;
			struct dp_frame *f = &b->frames[p][j];

			gen_frame(b, p, j, buf);
			f->data = buf;
			f->len = frame_len;
			/* An ordinary frame: no offloads, no header read
			 * with it. */
			memset(&f->vnet, 0, sizeof(f->vnet));
			f->vnet_in_buf = false;
		}
	}
	return b;

fail:
	bench_destroy(b);
	return NULL;
}

/* Whether the pool still holds what gen_frame() wrote (for new-source
 * traffic, except the source addresses, which the loop rewrites). */
static bool pool_intact(const struct bench *b)
{
	static const struct virtio_net_hdr zero;
	uint8_t want[DP_FRAME_MAX];

	for (unsigned int p = 0; p < b->sc->n_in; p++)
		for (uint32_t j = 0; j < b->n_pool; j++) {
			const struct dp_frame *f = &b->frames[p][j];
			const uint8_t *got = b->pool[p] +
					     (size_t)j * b->stride +
					     FRAME_HEADROOM;

			gen_frame(b, p, j, want);
			if (f->len != b->frame_len || f->data != got ||
			    f->vnet_in_buf ||
			    memcmp(&f->vnet, &zero, sizeof(zero)))
				return false;
			if (b->sc->traffic == TRAFFIC_NEWSRC) {
				if (memcmp(got, want, MC_ETH_ALEN) ||
				    memcmp(got + 12, want + 12,
					   b->frame_len - 12))
					return false;
			} else if (memcmp(got, want, b->frame_len)) {
				return false;
			}
		}
	return true;
}

/* One burst on ingress port @p: what a poll thread does per wake-up,
 * less the read() that filled the buffers. */
static inline void one_burst(struct bench *b, unsigned int p)
{
	uint32_t c = b->cursor[p];
	struct dp_frame *f = &b->frames[p][c];
	uint64_t now;

	if (b->sc->traffic == TRAFFIC_NEWSRC)
		for (unsigned int i = 0; i < DP_BURST; i++)
			mc_mac(NEWSRC_INDEX(b->next_src++),
			       f[i].data + MC_ETH_ALEN);
	now = dp_now_ms();
	if (b->sc->input)
		dp_input(b->dp, p, f, DP_BURST, now);
	else
		dp_worker_run(b->w[p], p, f, DP_BURST, now);
	rcu_quiescent_state();
	if (b->sc->backend == BACKEND_MEM)
		for (unsigned int q = 0; q < b->sc->n_ports; q++)
			while (dp_mem_port_pop(b->port[q], b->drain_buf,
					       sizeof(b->drain_buf)) >= 0)
				;
	c += DP_BURST;
	b->cursor[p] = c + DP_BURST <= b->n_pool ? c : 0;
}

/* Bursts between two looks at the wall clock. */
#define CHECK_EVERY 64

/*
 * Run bursts, ingress ports in turn, for @seconds or @max_frames.  Every
 * 64Ki frames, between bursts, the ager's turn: fdb_maintain() when a
 * resize is due (its time goes to b->maint, for the caller to take out).
 */
static uint64_t run_loop(struct bench *b, double seconds, uint64_t max_frames)
{
	uint64_t end = mc_wall_ns() + (uint64_t)(seconds * 1e9);
	uint64_t frames = 0;
	unsigned int p = 0;

	do {
		for (unsigned int k = 0; k < CHECK_EVERY; k++) {
			one_burst(b, p);
			if (++p == b->sc->n_in)
				p = 0;
		}
		frames += CHECK_EVERY * DP_BURST;
		if ((b->bursts += CHECK_EVERY) >= MAINTAIN_BURSTS) {
			b->bursts = 0;
			mc_maintain(b->fdb, pinned_cpu, &b->maint);
		}
	} while (frames < max_frames && mc_wall_ns() < end);
	return frames;
}

struct counters {
	uint64_t tx_packets, tx_bytes, flooded, drops;
	uint64_t learn_calls, lookup_calls;
	struct fdb_stats fdb;
};

static void read_counters(struct bench *b, struct counters *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned int p = 0; p < b->sc->n_ports; p++) {
		struct dp_port_info info;
		const struct dp_port_stats *s = &info.stats;

		if (dp_port_get_info(b->dp, p, &info))
			continue;
		c->tx_packets += s->tx_packets;
		c->tx_bytes += s->tx_bytes;
		c->flooded += s->flooded;
		c->drops += s->drop_runt + s->drop_src + s->drop_link_local +
			    s->drop_same_port + s->drop_port_down +
			    s->drop_vlan + s->drop_bad_tag +
			    s->drop_bad_offload + s->tx_errors;
	}
	c->learn_calls = n_learn_calls;
	c->lookup_calls = n_lookup_calls;
	fdb_get_stats(b->fdb, &c->fdb);
}

/* ---- did the sources' entries stay fresh? ---- */

struct refresh_walk {
	uint32_t n_in;
	uint16_t vid;
	uint64_t start_ms, end_ms;
	uint64_t n, stale, max_lag, sum_lag;
};

static void refresh_cb(const struct fdb_entry_info *e, void *arg)
{
	struct refresh_walk *rw = arg;
	uint64_t lag;

	/* The sources: learned entries on ingress ports (the traffic
	 * uses every host of those ports as a source). */
	if (e->port >= rw->n_in || e->vid != rw->vid ||
	    !(e->flags & FDB_LEARNED))
		return;
	rw->n++;
	rw->stale += e->updated_ms < rw->start_ms;
	lag = rw->end_ms > e->updated_ms ? rw->end_ms - e->updated_ms : 0;
	rw->sum_lag += lag;
	if (lag > rw->max_lag)
		rw->max_lag = lag;
}

/*
 * Walk the table after a run from @start_ms to @end_ms.  Each source
 * comes back once a pool cycle, and with the cache is learned again at
 * its first frame REFRESH_MS or more after it last was (before the run
 * started, at worst): a run longer than REFRESH_MS and a cycle must have
 * refreshed every one.  The cycle is estimated from the run's mean rate:
 * half a cycle more, and 20 ms, for the rate's swings.
 */
static void refresh_check(struct bench *b, const struct rep *r,
			  uint64_t start_ms, uint64_t end_ms,
			  struct refresh *out)
{
	const struct scenario *sc = b->sc;
	struct refresh_walk rw = {
		.n_in = sc->n_in, .vid = sc->vlan ? ACCESS_VID : 0,
		.start_ms = start_ms, .end_ms = end_ms,
	};
	double wall_ms = r->t.wall_ns / 1e6;
	double cycle_ms = wall_ms * ((double)b->n_pool * sc->n_in) /
			  (double)r->frames;

	memset(out, 0, sizeof(*out));
	out->applies = sc->traffic != TRAFFIC_NEWSRC;
	if (!out->applies)
		return;
	out->want = (uint64_t)sc->hosts * sc->n_in;
	out->long_enough = wall_ms > REFRESH_MS + 1.5 * cycle_ms + 20;
	fdb_dump(b->fdb, refresh_cb, &rw);
	out->sources = rw.n;
	out->stale = rw.stale;
	out->max_lag_ms = rw.max_lag;
	out->mean_lag_ms = rw.n ? (double)rw.sum_lag / rw.n : 0;
}

/*
 * Whether the run did what the scenario says; a reason in @why if not.
 */
static bool rep_check(const struct bench *b, const struct rep *r, bool intact,
		      char *why, size_t size)
{
	const struct scenario *sc = b->sc;
	bool flood = sc->traffic == TRAFFIC_BCAST ||
		     sc->traffic == TRAFFIC_UNKNOWN;
	uint64_t copies = flood ? sc->n_ports - 1 : 1;
	uint32_t out_len = b->frame_len + (sc->vlan ? 4 : 0);
	uint64_t learned = 0, limit = 0;
	const struct refresh *rf = &r->refresh;

	if (sc->traffic == TRAFFIC_NEWSRC) {
		learned = sc->max_learned ? 0 : r->frames;
		limit = sc->max_learned ? r->frames : 0;
	}
	if (!intact)
		snprintf(why, size, "the pipeline modified the frames in "
			 "place: reusing them is wrong, figures invalid");
	else if (r->tx_packets != r->frames * copies)
		snprintf(why, size, "%" PRIu64 " copies sent for %" PRIu64
			 " frames, want %" PRIu64 " each", r->tx_packets,
			 r->frames, copies);
	else if (r->tx_bytes != r->tx_packets * out_len)
		snprintf(why, size, "%" PRIu64 " bytes sent, want %u a copy",
			 r->tx_bytes, out_len);
	else if (r->flooded != (flood ? r->frames : 0))
		snprintf(why, size, "%" PRIu64 " frames flooded", r->flooded);
	else if (r->drops)
		snprintf(why, size, "%" PRIu64 " drops", r->drops);
	else if (r->learned != learned || r->limit_miss != limit ||
		 r->moved)
		snprintf(why, size, "learned %" PRIu64 ", limit misses %"
			 PRIu64 ", moved %" PRIu64 "; want %" PRIu64 ", %"
			 PRIu64 ", 0", r->learned, r->limit_miss, r->moved,
			 learned, limit);
	else if (CALLS_COUNTED && r->learn_calls > r->frames)
		snprintf(why, size, "%" PRIu64 " learn calls for %" PRIu64
			 " frames", r->learn_calls, r->frames);
	else if (rf->applies && rf->sources != rf->want)
		snprintf(why, size, "%" PRIu64 " source entries in the table, "
			 "want %" PRIu64, rf->sources, rf->want);
	else if (rf->applies && rf->long_enough && rf->stale)
		snprintf(why, size, "%" PRIu64 " of %" PRIu64 " source entries "
			 "not refreshed during the run", rf->stale,
			 rf->sources);
	else
		return true;
	return false;
}

/* A warm-up, then one timed run. */
static int run_rep(struct bench *b, double seconds, uint64_t max_frames,
		   struct rep *r, char *why, size_t why_size)
{
	struct counters c0, c1;
	struct mc_maint m0;
	struct mc_times t0;
	uint64_t start_ms, end_ms;
	bool intact;

	/* Warm-up: 5% of the frames, at most 50 ms unless counting
	 * frames (--frames gives a huge duration). */
	run_loop(b, seconds >= 1e5 ? seconds :
		    seconds / 20 < 0.05 ? seconds / 20 : 0.05,
		 max_frames / 20);
	read_counters(b, &c0);
	m0 = b->maint;
	start_ms = dp_now_ms();
	t0 = mc_times_now();
	r->frames = run_loop(b, seconds, max_frames);
	r->t = mc_times_since(&t0);
	end_ms = dp_now_ms();
	read_counters(b, &c1);
	/* The ager's work is not the poll thread's: out of the figures. */
	r->resizes = b->maint.resizes - m0.resizes;
	r->maint = mc_times_sub(&b->maint.spent, &m0.spent);
	r->t = mc_times_sub(&r->t, &r->maint);
	refresh_check(b, r, start_ms, end_ms, &r->refresh);
	/* The ager's next tick, and the size it leaves. */
	mc_maintain(b->fdb, pinned_cpu, &b->maint);
	r->buckets_end = mc_fdb_buckets(b->fdb);
	intact = pool_intact(b);

	r->tx_packets = c1.tx_packets - c0.tx_packets;
	r->tx_bytes = c1.tx_bytes - c0.tx_bytes;
	r->flooded = c1.flooded - c0.flooded;
	r->drops = c1.drops - c0.drops;
	r->learned = c1.fdb.n_learned - c0.fdb.n_learned;
	r->limit_miss = c1.fdb.n_limit_miss - c0.fdb.n_limit_miss;
	r->moved = c1.fdb.n_moved - c0.fdb.n_moved;
	r->entries_start = c0.fdb.n_entries;
	r->entries_end = c1.fdb.n_entries;
	r->learn_calls = c1.learn_calls - c0.learn_calls;
	r->lookup_calls = c1.lookup_calls - c0.lookup_calls;
	r->other_cpus = mc_other_cpus(&r->t);
	r->mpps_cpu = r->frames / (r->t.thread_ns / 1e3);
	r->mpps_wall = r->frames / (r->t.wall_ns / 1e3);
	r->ns_per_frame = (double)r->t.thread_ns / r->frames;
	return rep_check(b, r, intact, why, why_size) ? 0 : -1;
}

/*
 * The cost of writing new source addresses into the frames, which
 * learn-* scenarios pay inside their timed loop and a real switch does
 * not (the kernel's read() writes them): timed alone, to subtract.
 */
static double gen_cost_ns(const struct bench *b, uint64_t frames)
{
	struct dp_frame *f = b->frames[0];
	uint64_t t0, k = 1ull << 40;
	uint32_t c = 0;

	if (b->sc->traffic != TRAFFIC_NEWSRC)
		return 0;
	t0 = mc_thread_ns();
	for (uint64_t i = 0; i < frames; i += DP_BURST) {
		for (unsigned int j = 0; j < DP_BURST; j++)
			mc_mac(NEWSRC_INDEX(k++), f[c + j].data + MC_ETH_ALEN);
		/* Keep the stores: the compiler cannot see who reads. */
		__asm__ __volatile__("" : : "r"(f[c].data) : "memory");
		c = c + 2 * DP_BURST <= b->n_pool ? c + DP_BURST : 0;
	}
	return (double)(mc_thread_ns() - t0) / (double)frames;
}

/* ---- output ---- */

struct scen_result {
	const struct scenario *sc;
	unsigned int n_reps;
	struct rep reps[MAX_REPS];
	double gen_ns;
	bool ok;
	char why[160];
};

static double med(const struct scen_result *res, size_t offset)
{
	double v[MAX_REPS];

	for (unsigned int i = 0; i < res->n_reps; i++)
		v[i] = *(const double *)((const char *)&res->reps[i] + offset);
	return mc_median(v, res->n_reps);
}

#define MED(res, field) med((res), offsetof(struct rep, field))

/* The best repetition: what the code does when the machine lets it
 * (this VM's vCPUs swing between two speeds, see bench/micro.sh). */
static double best_mpps(const struct scen_result *res)
{
	double best = 0;

	for (unsigned int i = 0; i < res->n_reps; i++)
		if (res->reps[i].mpps_cpu > best)
			best = res->reps[i].mpps_cpu;
	return best;
}

/* Calls a frame, over every rep (0 when not counted). */
static double per_frame(const struct scen_result *res, bool learn)
{
	uint64_t calls = 0, frames = 0;

	for (unsigned int i = 0; i < res->n_reps; i++) {
		calls += learn ? res->reps[i].learn_calls
			       : res->reps[i].lookup_calls;
		frames += res->reps[i].frames;
	}
	return frames ? (double)calls / (double)frames : 0;
}

#define NAME_W 30

static void print_header(void)
{
	printf("%-*s %5s %8s %9s %6s %8s %9s %5s %5s %6s %6s %6s %5s %8s "
	       "%6s %s\n", NAME_W, "scenario", "ports", "fdb", "Mpps/core",
	       "best", "ns/frame", "Mpps wall", "proc%", "tx/fr", "lrn/fr",
	       "lkp/fr", "gen ns", "other", "buckets", "lag ms", "check");
}

static void print_row(const struct scen_result *res)
{
	const struct rep *last = &res->reps[res->n_reps ? res->n_reps - 1 : 0];
	double mpps = MED(res, mpps_cpu), lo = mpps, hi = mpps, other = 0;
	char range[32] = "", lrn[16] = "-", lkp[16] = "-", lag[16] = "-";

	if (!res->n_reps) {
		printf("%-*s %5u  %s\n", NAME_W, sc_label(res->sc),
		       res->sc->n_ports, res->why);
		fflush(stdout);
		return;
	}
	for (unsigned int i = 0; i < res->n_reps; i++) {
		if (res->reps[i].other_cpus > other)
			other = res->reps[i].other_cpus;
		if (res->reps[i].mpps_cpu < lo)
			lo = res->reps[i].mpps_cpu;
		if (res->reps[i].mpps_cpu > hi)
			hi = res->reps[i].mpps_cpu;
	}
	if (res->n_reps > 1)
		snprintf(range, sizeof(range), " (%.2f-%.2f)", lo, hi);
	if (CALLS_COUNTED) {
		snprintf(lrn, sizeof(lrn), "%.3f", per_frame(res, true));
		snprintf(lkp, sizeof(lkp), "%.3f", per_frame(res, false));
	}
	if (last->refresh.applies)
		snprintf(lag, sizeof(lag), "%" PRIu64 "%s",
			 last->refresh.max_lag_ms,
			 last->refresh.long_enough ? "" : "*");
	printf("%-*s %5u %8" PRIu64 " %9.2f %6.2f %8.1f %9.2f %5.0f %5.2f "
	       "%6s %6s %6.1f %5.2f %8lu %6s %s%s\n", NAME_W,
	       sc_label(res->sc), res->sc->n_ports, last->entries_end, mpps,
	       hi, MED(res, ns_per_frame), MED(res, mpps_wall),
	       100.0 * last->t.process_ns / last->t.wall_ns,
	       (double)last->tx_packets / last->frames, lrn, lkp, res->gen_ns,
	       other, last->buckets_end, lag, res->ok ? "ok" : res->why,
	       range);
	fflush(stdout);
}

/* Median ratio of @a's rate to @b's over the reps they ran interleaved
 * (rep k of one beside rep k of the other); 0 if none. */
static double pair_ratio(const struct scen_result *a,
			 const struct scen_result *b, unsigned int *n)
{
	double v[MAX_REPS];

	*n = a->n_reps < b->n_reps ? a->n_reps : b->n_reps;
	for (unsigned int i = 0; i < *n; i++)
		v[i] = a->reps[i].mpps_cpu / b->reps[i].mpps_cpu;
	return mc_median(v, *n);
}

static void json_scenario(FILE *f, const struct scen_result *res)
{
	const struct scenario *sc = res->sc;

	fprintf(f, "{\"name\":");
	mc_json_str(f, sc->name);
	fprintf(f, ",\"label\":");
	mc_json_str(f, sc_label(sc));
	fprintf(f, ",\"what\":");
	mc_json_str(f, sc->what);
	fprintf(f, ",\"ports\":%u,\"ingress_ports\":%u,\"hosts_per_port\":%"
		PRIu32 ",\"max_learned\":%" PRIu32 ",\"vlan_filtering\":%s,"
		"\"backend\":\"%s\",\"runs\":\"%s\",\"learning_cache\":%s,"
		"\"cache_defeated_by\":",
		sc->n_ports, sc->n_in, sc->hosts, sc->max_learned,
		sc->vlan ? "true" : "false",
		sc->backend == BACKEND_MEM ? "mem" : "sink",
		sc->input ? "dp_input" : "dp_worker_run",
		sc->input ? "false" : "true");
	if (sc->defeats && !sc->input)
		mc_json_str(f, sc->defeats);
	else
		fprintf(f, "null");
	fprintf(f, ",\"check\":");
	mc_json_str(f, res->ok ? "ok" : res->why);
	fprintf(f, ",\"mpps_per_core\":%.4f,\"best_mpps_per_core\":%.4f,"
		"\"ns_per_frame\":%.3f,\"mpps_wall\":%.4f,"
		"\"gen_ns_per_frame\":%.3f,\"mpps_per_core_net_of_gen\":%.4f,",
		MED(res, mpps_cpu), best_mpps(res), MED(res, ns_per_frame),
		MED(res, mpps_wall), res->gen_ns,
		res->n_reps ? mc_finite(1e3 / (MED(res, ns_per_frame) -
					       res->gen_ns)) : 0);
	if (CALLS_COUNTED)
		fprintf(f, "\"fdb_learn_calls_per_frame\":%.4f,"
			"\"fdb_lookup_calls_per_frame\":%.4f,",
			per_frame(res, true), per_frame(res, false));
	else
		fprintf(f, "\"fdb_learn_calls_per_frame\":null,"
			"\"fdb_lookup_calls_per_frame\":null,");
	fprintf(f, "\"reps\":[");
	for (unsigned int i = 0; i < res->n_reps; i++) {
		const struct rep *r = &res->reps[i];
		const struct refresh *rf = &r->refresh;

		fprintf(f, "%s{\"frames\":%" PRIu64 ",\"thread_cpu_s\":%.6f,"
			"\"wall_s\":%.6f,\"process_cpu_s\":%.6f,"
			"\"mpps_per_core\":%.4f,\"mpps_wall\":%.4f,"
			"\"ns_per_frame\":%.3f,\"tx_frames\":%" PRIu64
			",\"tx_per_frame\":%.4f,\"fdb_entries_start\":%" PRIu64
			",\"fdb_entries_end\":%" PRIu64 ",\"fdb_buckets_end\":%lu"
			",\"fdb_learned\":%" PRIu64 ",\"fdb_limit_miss\":%" PRIu64
			",\"fdb_learn_calls\":%" PRIu64 ",\"fdb_lookup_calls\":%"
			PRIu64 ",\"maintain_resizes\":%u,\"maintain_wall_ms\":"
			"%.3f,\"maintain_process_cpu_ms\":%.3f,"
			"\"other_cpus\":%.3f,\"refresh\":",
			i ? "," : "", r->frames, r->t.thread_ns / 1e9,
			r->t.wall_ns / 1e9, r->t.process_ns / 1e9, r->mpps_cpu,
			r->mpps_wall, r->ns_per_frame, r->tx_packets,
			(double)r->tx_packets / r->frames, r->entries_start,
			r->entries_end, r->buckets_end, r->learned,
			r->limit_miss, r->learn_calls, r->lookup_calls,
			r->resizes, r->maint.wall_ns / 1e6,
			r->maint.process_ns / 1e6, r->other_cpus);
		if (rf->applies)
			fprintf(f, "{\"source_entries\":%" PRIu64 ",\"want\":%"
				PRIu64 ",\"stale\":%" PRIu64 ",\"checked\":%s,"
				"\"max_lag_ms\":%" PRIu64 ",\"mean_lag_ms\":%.1f}"
				"}", rf->sources, rf->want, rf->stale,
				rf->long_enough ? "true" : "false",
				rf->max_lag_ms, rf->mean_lag_ms);
		else
			fprintf(f, "null}");
	}
	fprintf(f, "]}");
}

static const struct scen_result *find_result(const struct scen_result *res,
					     unsigned int n, const char *name)
{
	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(res[i].sc->name, name) && res[i].n_reps)
			return &res[i];
	return NULL;
}

static int write_json(const char *path, const struct scen_result *results,
		      unsigned int n, double seconds, unsigned int reps,
		      bool quick, int cpu, uint32_t frame_len)
{
	FILE *f = fopen(path, "w");
	const struct scen_result *steady, *input;

	if (!f) {
		fprintf(stderr, "Error: %s: %s\n", path, strerror(errno));
		return -1;
	}
	steady = find_result(results, n, "steady-2p");
	input = find_result(results, n, "steady-2p-input");
	fprintf(f, "{\"benchmark\":\"micro_pipeline\",");
	mc_json_machine(f);
	fprintf(f, ",\"quick\":%s,\"seconds_per_rep\":%.3f,\"reps\":%u,"
		"\"pinned_cpu\":%d,\"frame_len\":%" PRIu32 ",\"burst\":%d,"
		"\"runs\":\"dp_worker_run, a worker per ingress port\","
		"\"fdb_calls_counted\":%s,\"target_mpps_per_core\":%.1f",
		quick ? "true" : "false", seconds, reps, cpu, frame_len,
		DP_BURST, CALLS_COUNTED ? "true" : "false", TARGET_MPPS);
	if (steady)
		fprintf(f, ",\"steady_2p_median_meets_target\":%s,"
			"\"steady_2p_best_meets_target\":%s",
			MED(steady, mpps_cpu) >= TARGET_MPPS ? "true" : "false",
			best_mpps(steady) >= TARGET_MPPS ? "true" : "false");
	if (steady && input) {
		unsigned int pairs;
		double ratio = pair_ratio(steady, input, &pairs);

		fprintf(f, ",\"cache_vs_dp_input\":{\"scenario\":\"steady-2p\","
			"\"baseline\":\"steady-2p-input\",\"pairs\":%u,"
			"\"median_ratio\":%.4f}", pairs, mc_finite(ratio));
	}
	fprintf(f, ",\"scenarios\":[");
	for (unsigned int i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_scenario(f, &results[i]);
	}
	fprintf(f, "]}\n");
	return fclose(f) ? -1 : 0;
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: micro_pipeline [--quick] [--seconds S] [--reps N] "
		"[--only NAME,...]\n"
		"                      [--json PATH] [--cpu N|-1] [--len BYTES]"
		" [--frames N] [--list]\n"
		"  --quick      1 repetition of 1 s per scenario (default: 5 "
		"of 1 s)\n"
		"  --only       run these scenarios (see --list)\n"
		"  --cpu        pin the measuring thread (default: the last "
		"CPU; -1: don't)\n"
		"  --len        frame length (default 64)\n"
		"  --frames     a fixed number of frames per repetition, not "
		"a duration\n               (for perf and callgrind; plus 5%% "
		"of warm-up)\n");
}

/* One repetition of @sc into @res. */
static int one_rep(const struct scenario *sc, struct scen_result *res,
		   uint32_t frame_len, double secs, uint64_t max_frames)
{
	struct bench *b = bench_create(sc, frame_len);
	char why[160];

	if (!b) {
		fprintf(stderr, "Error: %s: setup failed\n", sc->name);
		return -1;
	}
	if (run_rep(b, secs, max_frames, &res->reps[res->n_reps], why,
		    sizeof(why)) && res->ok) {
		res->ok = false;
		snprintf(res->why, sizeof(res->why), "%s", why);
	}
	if (res->n_reps == 0)
		res->gen_ns = gen_cost_ns(b, 4000000);
	res->n_reps++;
	bench_destroy(b);
	return 0;
}

static void print_notes(const struct scen_result *results, unsigned int n)
{
	const struct scen_result *steady, *input;
	double busiest = 0;

	for (unsigned int i = 0; i < n; i++)
		for (unsigned int k = 0; k < results[i].n_reps; k++)
			if (results[i].reps[k].other_cpus > busiest)
				busiest = results[i].reps[k].other_cpus;
	if (busiest > 0.2)
		printf("\nwarning: other processes used up to %.2f CPUs during "
		       "a run (column \"other\"): wall figures and shared "
		       "caches suffer\n", busiest);
	printf("\n");
	for (unsigned int i = 0; i < n; i++) {
		const struct scen_result *res = &results[i];
		const struct rep *last;

		if (!res->n_reps)
			continue;
		last = &res->reps[res->n_reps - 1];
		if (res->sc->defeats && !res->sc->input)
			printf("%s: defeats the learning cache (%s)\n",
			       res->sc->name, res->sc->defeats);
		if (last->resizes || last->maint.wall_ns)
			printf("%s: fdb_maintain() resized the table %u times "
			       "in the last run (%.1f ms wall, %.1f ms process "
			       "CPU), left out of its figures\n",
			       res->sc->name, last->resizes,
			       last->maint.wall_ns / 1e6,
			       last->maint.process_ns / 1e6);
	}
	steady = find_result(results, n, "steady-2p");
	input = find_result(results, n, "steady-2p-input");
	if (steady && input) {
		unsigned int pairs;
		double ratio = pair_ratio(steady, input, &pairs);

		printf("learning cache: steady-2p through dp_worker_run() runs "
		       "at %.2fx the rate of dp_input() (median of %u "
		       "interleaved pairs)", ratio, pairs);
		if (CALLS_COUNTED)
			printf("; table calls a frame: learn %.3f vs %.3f, "
			       "lookup %.3f vs %.3f", per_frame(steady, true),
			       per_frame(input, true), per_frame(steady, false),
			       per_frame(input, false));
		printf("\n");
	}
	if (steady)
		printf("steady-2p: %.2f Mpps per core (median), %.2f (best); "
		       "target %.0f: %s by the median, %s by the best\n",
		       MED(steady, mpps_cpu), best_mpps(steady), TARGET_MPPS,
		       MED(steady, mpps_cpu) >= TARGET_MPPS ? "met" : "missed",
		       best_mpps(steady) >= TARGET_MPPS ? "met" : "missed");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ "json", required_argument, NULL, 'j' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "len", required_argument, NULL, 'l' },
		{ "frames", required_argument, NULL, 'f' },
		{ "list", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct scen_result *results;
	const char *only = NULL, *json = NULL;
	double seconds = -1, dval;
	long reps = -1, lval, cpu = mc_ncpus() - 1, frame_len = 64;
	bool quick = false, all_ok = true;
	uint64_t frames = 0;
	unsigned int n_res = 0;
	struct fdb *keeper;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			quick = true;
			break;
		case 's':
			if (!mc_parse_double(optarg, &dval) || dval <= 0)
				goto bad;
			seconds = dval;
			break;
		case 'r':
			if (!mc_parse_long(optarg, &lval) || lval < 1 ||
			    lval > MAX_REPS)
				goto bad;
			reps = lval;
			break;
		case 'o':
			only = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'c':
			if (!mc_parse_long(optarg, &lval) || lval < -1 ||
			    lval >= mc_ncpus())
				goto bad;
			cpu = lval;
			break;
		case 'l':
			if (!mc_parse_long(optarg, &lval) || lval < 60 ||
			    lval > 1514)
				goto bad;
			frame_len = lval;
			break;
		case 'f':
			if (!mc_parse_long(optarg, &lval) || lval < 1)
				goto bad;
			frames = (uint64_t)lval;
			break;
		case 'L':
			for (unsigned int i = 0; i < N_SCENARIOS; i++)
				printf("%-18s %s\n", scenarios[i].name,
				       scenarios[i].what);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc)
		goto bad_arg;
	if (seconds < 0)
		seconds = 1.0;
	if (reps < 0)
		reps = quick ? 1 : 5;
	results = calloc(N_SCENARIOS, sizeof(*results));
	if (!results)
		return 1;

	rcu_register_thread();
	/*
	 * A table kept for the whole run, created before pinning: liburcu
	 * starts its helper threads (call_rcu(), the hash tables' worker)
	 * with the first callback and the first table, and a thread
	 * inherits its creator's CPU mask - they must not share our CPU.
	 */
	keeper = fdb_create(0);
	if (!keeper)
		return 1;
	{
		static const uint8_t mac[MC_ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };

		if (fdb_add(keeper, 0, mac, 0, 0, 0) ||
		    fdb_del(keeper, 0, mac, FDB_NO_PORT))
			return 1;
		synchronize_rcu();
	}
	if (mc_pin((int)cpu)) {
		fprintf(stderr, "warning: cannot pin to CPU %ld\n", cpu);
		cpu = -1;
	}
	pinned_cpu = (int)cpu;
	mc_ticks_per_ns();

	printf("micro_pipeline: %" PRIu32 "-byte frames, bursts of %d, %u x "
	       "%.1f s per scenario, CPU %ld%s\n", (uint32_t)frame_len,
	       DP_BURST, (unsigned int)reps, seconds, cpu,
	       cpu < 0 ? " (not pinned)" : "");
	printf("Every row runs dp_worker_run() (a worker per ingress port, "
	       "with its learning cache)\nbut the dp_input() one, run "
	       "interleaved with steady-2p.  Mpps/core = frames / thread\nCPU "
	       "time (median of the reps, best beside it; range in brackets); "
	       "proc%% = process\nCPU / wall; tx/fr = copies a frame; lrn/fr, "
	       "lkp/fr = fdb_learn_rcu(), fdb_lookup_rcu()\ncalls a frame; gen "
	       "ns = harness cost of writing new source MACs, inside the\n"
	       "figure; other = CPUs other processes used meanwhile; buckets "
	       "= the FDB's at the end;\nlag ms = the longest a source entry "
	       "went unrefreshed, at the end of the run\n(*: a run too short "
	       "to require that every source be refreshed in it).\n\n");
	print_header();
	for (unsigned int i = 0; i < N_SCENARIOS;) {
		/* A group: scenarios with the same pair number run rep by
		 * rep in turn; a scenario without one is a group alone. */
		unsigned int first = n_res, end = i + 1;

		while (scenarios[i].pair && end < N_SCENARIOS &&
		       scenarios[end].pair == scenarios[i].pair)
			end++;
		for (unsigned int j = i; j < end; j++)
			if (mc_selected(only, scenarios[j].name)) {
				results[n_res].sc = &scenarios[j];
				results[n_res].ok = true;
				n_res++;
			}
		for (long k = 0; k < reps; k++)
			for (unsigned int r = first; r < n_res; r++) {
				const struct scenario *sc = results[r].sc;
				/* learn-new grows the table by every
				 * frame: bound it. */
				uint64_t max_frames =
					sc->traffic == TRAFFIC_NEWSRC &&
					!sc->max_learned ? 8000000 : UINT64_MAX;
				double secs = seconds;

				/* --frames: that many (in steps of 2048),
				 * whatever it takes. */
				if (frames) {
					max_frames = frames;
					secs = 1e6;
				}
				if (one_rep(sc, &results[r],
					    (uint32_t)frame_len, secs,
					    max_frames))
					return 1;
			}
		for (unsigned int r = first; r < n_res; r++) {
			all_ok &= results[r].ok;
			print_row(&results[r]);
		}
		i = end;
	}
	if (!n_res) {
		fprintf(stderr, "Error: no scenario matches \"%s\"\n", only);
		return 2;
	}
	print_notes(results, n_res);
	if (json && write_json(json, results, n_res, seconds,
			       (unsigned int)reps, quick, (int)cpu,
			       (uint32_t)frame_len))
		return 1;
	fdb_destroy(keeper);
	rcu_unregister_thread();
	free(results);
	return all_ok ? 0 : 1;

bad:
	fprintf(stderr, "Error: argument \"%s\" is wrong\n", optarg);
	return 2;
bad_arg:
	fprintf(stderr, "Error: argument \"%s\" is wrong: unexpected\n",
		argv[optind]);
	return 2;
}
