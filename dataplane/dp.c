/*
 * dp.c - the per-frame pipeline, and the workers that run it.
 *
 * The path of one burst, as the kernel's br_input.c has it for one frame:
 * dp_worker_input() takes the snapshot, dp_burst() runs pass one
 * (dp_decide_rcu(): sanity, link-local rules, VLAN ingress, learning,
 * lookup) over every frame, then pass two (dp_deliver(): one copy per
 * egress port, tag pushed, popped or kept on the way, dp_tx_build()); the
 * copies wait in the worker's queue until dp_worker_post() hands them to
 * the ports' kinds.
 */
#include "dataplane/dp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "dataplane/dp_private.h"
#include "dataplane/uring.h"
#include "lib/mac.h"
#include "lib/rcu.h"

/* Where pass one sends a frame. */
enum {
	DP_TO_DROP = -1,
	DP_TO_FLOOD = -2,
};

/* What pass one learned about a frame, for pass two. */
struct dp_meta {
	int to;			/* port index, DP_TO_DROP or DP_TO_FLOOD */
	uint32_t flood_flag;	/* with DP_TO_FLOOD: which flood flag */
	uint16_t vid;		/* classified VLAN; 0 with filtering off */
	uint8_t pcp;
	bool dei;
	bool had_tag;		/* arrived with the switch's tag */
};

/*
 * The pipeline is written once and compiled three times, by always-inline
 * functions that take the mode as a constant:
 *   DP_MODE_FAST     what runs when nobody watches: no hook at all;
 *   DP_MODE_OBSERVE  with a trace record to fill (when one is wanted) and
 *                    frames copied to capture rings;
 *   DP_MODE_EXPLAIN  what would happen to a frame: nothing is counted,
 *                    learned, cached or sent.
 * A burst picks its mode once (one branch on the snapshot's watchers).
 */
enum dp_mode {
	DP_MODE_FAST,
	DP_MODE_OBSERVE,
	DP_MODE_EXPLAIN,
};

#define DP_INLINE static inline __attribute__((always_inline))

/* Count, unless explaining. */
#define DP_COUNT(mode, p)						\
	do {								\
		if ((mode) != DP_MODE_EXPLAIN)				\
			OWN_ADD((p), 1);				\
	} while (0)

/* Note in the trace, when there is one. */
#define DP_TRACE(tr, field, value)					\
	do {								\
		if (tr)							\
			(tr)->field = (value);				\
	} while (0)


/*
 * VLAN ingress with filtering on: fill m->vid (0: drop), m->pcp, m->dei,
 * m->had_tag.  Returns false when the frame must be dropped.
 */
DP_INLINE bool dp_vlan_in_rcu(enum dp_mode mode, const struct dp_conf *conf,
			      struct dp_port *in, const struct dp_frame *f,
			      struct dp_meta *m, struct dp_trace *tr)
{
	const struct dp_vlan_cfg *vc = &conf->vlan[in->index]->cfg;
	struct dp_port_stats *st = &in->stats;
	struct vlan_tag tag;

	switch (vlan_parse(f->data, f->len, conf->tpid, &tag)) {
	case VLAN_TRUNCATED:
		DP_COUNT(mode, &st->drop_bad_tag);
		DP_TRACE(tr, drop, DP_TR_DROP_BAD_TAG);
		return false;
	case VLAN_TAGGED:
		m->had_tag = true;
		break;
	case VLAN_UNTAGGED:
		/* Another TPID's tag stays in the payload, as in Linux. */
		m->had_tag = false;
		break;
	}
	DP_TRACE(tr, vlan_in, !m->had_tag ? DP_TR_VLAN_UNTAGGED :
			      tag.vid ? DP_TR_VLAN_TAGGED :
					DP_TR_VLAN_PRIORITY);
	m->vid = vlan_ingress(&vc->mbr, m->had_tag, &tag);
	if (!m->vid) {
		DP_COUNT(mode, &st->drop_vlan);
		DP_TRACE(tr, vid, m->had_tag ? tag.vid : 0);
		DP_TRACE(tr, drop, DP_TR_DROP_VLAN);
		return false;
	}
	/* A priority tag keeps its PCP; an untagged frame has none. */
	m->pcp = m->had_tag ? vc->ingress_qos.to[tag.pcp] : 0;
	m->dei = m->had_tag && tag.dei;
	DP_TRACE(tr, vid, m->vid);
	DP_TRACE(tr, pcp, m->pcp);
	if (mode != DP_MODE_EXPLAIN) {
		OWN_ADD(&in->vstats[m->vid].rx_packets, 1);
		OWN_ADD(&in->vstats[m->vid].rx_bytes, f->len);
	}
	return true;
}

static bool dp_vlan_member(const struct dp_conf *conf, uint32_t port,
			   uint16_t vid)
{
	return !conf->vlan_filtering ||
	       vlan_is_member(&conf->vlan[port]->cfg.mbr, vid);
}

/* The cache slot of @key. */
static struct dp_l2c_ent *dp_l2c_slot(struct dp_worker *w, uint64_t key)
{
	return &w->l2c[(key * 0x9e3779b97f4a7c15ULL) >> 52 &
		       (DP_L2C_SIZE - 1)];
}

static enum dp_tr_learn dp_tr_learn_of(enum fdb_learn_result res)
{
	switch (res) {
	case FDB_LEARN_NEW:
		return DP_TR_LEARN_NEW;
	case FDB_LEARN_REFRESHED:
		return DP_TR_LEARN_REFRESHED;
	case FDB_LEARN_MOVED:
		return DP_TR_LEARN_MOVED;
	case FDB_LEARN_STICKY:
		return DP_TR_LEARN_STICKY;
	case FDB_LEARN_LIMIT:
		return DP_TR_LEARN_LIMIT;
	case FDB_LEARN_NOMEM:
		break;
	}
	return DP_TR_LEARN_NOMEM;
}

/*
 * Learn that @src in @vid is on port @in, unless this thread did so on
 * the same port less than DP_L2C_REFRESH_MS ago and nothing moved since.
 * A failure to learn (limit, memory) only means later frames to this MAC
 * keep flooding; fdb/ counts it, and nothing is cached, so every frame
 * tries (and counts) again.  Explaining, it only says what would happen.
 */
DP_INLINE enum dp_tr_learn dp_learn_rcu(enum dp_mode mode,
					struct dp_worker *w, uint16_t vid,
					const uint8_t *src, uint32_t in,
					uint64_t now_ms, uint32_t *from)
{
	struct fdb *fdb = w->dp->fdb;
	enum fdb_learn_result res;
	struct dp_l2c_ent *e;
	uint64_t key;

	if (mode == DP_MODE_EXPLAIN)
		return dp_tr_learn_of(fdb_learn_peek_rcu(fdb, vid, src, in,
							 from));
	if (!w->l2c)
		return dp_tr_learn_of(fdb_learn_rcu(fdb, vid, src, in, now_ms,
						    from));
	key = fdb_key(vid, src);
	e = dp_l2c_slot(w, key);
	if (e->key == key && e->port == in && e->gen == w->gen &&
	    now_ms - e->refreshed_ms < DP_L2C_REFRESH_MS)
		return DP_TR_LEARN_REFRESHED;
	res = fdb_learn_rcu(fdb, vid, src, in, now_ms, from);
	switch (res) {
	case FDB_LEARN_MOVED:
		/* Our own move: what this thread remembers may point to
		 * the old port, for the rest of this burst too. */
		w->gen = fdb_gen(fdb);
		/* fall through */
	case FDB_LEARN_NEW:
	case FDB_LEARN_REFRESHED:
		e->key = key;
		e->port = in;
		e->gen = w->gen;
		e->refreshed_ms = now_ms;
		break;
	default:
		break;
	}
	return dp_tr_learn_of(res);
}

/* Where @dst in @vid is: a port index, or FDB_NO_PORT. */
static uint32_t dp_lookup_rcu(struct dp_worker *w, uint16_t vid,
			      const uint8_t *dst)
{
	struct fdb *fdb = w->dp->fdb;
	struct dp_l2c_ent *e;
	uint64_t key;
	uint32_t port;

	if (!w->l2c)
		return fdb_lookup_rcu(fdb, vid, dst);
	key = fdb_key(vid, dst);
	e = dp_l2c_slot(w, key);
	if (e->key == key && e->gen == w->gen && e->port != FDB_NO_PORT)
		return e->port;
	port = fdb_lookup_rcu(fdb, vid, dst);
	/* Misses are not kept: a new entry does not bump the generation. */
	if (port != FDB_NO_PORT) {
		e->key = key;
		e->port = port;
		e->gen = w->gen;
		e->refreshed_ms = 0;
	}
	return port;
}

/*
 * Pass one for one frame: classify, learn, look up.  Fills @m: a port
 * index, DP_TO_FLOOD (with the flood flag) or DP_TO_DROP, and the VLAN;
 * and @tr, when there is one.  Caller holds rcu_read_lock().
 */
DP_INLINE void dp_decide_rcu(enum dp_mode mode, struct dp_worker *w,
			     const struct dp_conf *conf, struct dp_port *in,
			     uint32_t in_flags, const struct dp_frame *f,
			     uint64_t now_ms, struct dp_meta *m,
			     struct dp_trace *tr)
{
	const uint8_t *dst = f->data, *src = f->data + 6;
	struct dp_port_stats *st = &in->stats;
	bool forward_ll = false;
	uint32_t out;

	rcu_assert_reader();
	m->to = DP_TO_DROP;
	m->vid = 0;
	m->had_tag = false;
	if (f->len < DP_ETH_HLEN) {
		DP_COUNT(mode, &st->drop_runt);
		DP_TRACE(tr, drop, DP_TR_DROP_RUNT);
		return;
	}
	if (mac_is_mcast(src) || mac_is_zero(src)) {
		DP_COUNT(mode, &st->drop_src);
		DP_TRACE(tr, drop, DP_TR_DROP_SOURCE);
		return;
	}
	if (caa_unlikely(f->vnet.flags | f->vnet.gso_type) &&
	    !dp_offload_valid(&f->vnet, f->data, f->len)) {
		DP_COUNT(mode, &st->drop_bad_offload);
		DP_TRACE(tr, drop, DP_TR_DROP_BAD_OFFLOAD);
		return;
	}
	if (caa_unlikely(mac_is_link_local(dst))) {
		/* Pause frames never cross a bridge, and teach it nothing. */
		if (dst[5] == 0x01) {
			DP_COUNT(mode, &st->drop_link_local);
			DP_TRACE(tr, drop, DP_TR_DROP_LINK_LOCAL);
			return;
		}
		/* BPDUs are forwarded while STP is off (always, here). */
		forward_ll = dst[5] == 0x00 ||
			     (conf->ll_fwd_mask & (1u << dst[5]));
	}
	/* The VLAN filter comes before learning, so that a frame it drops
	 * cannot poison the table. */
	if (conf->vlan_filtering &&
	    !dp_vlan_in_rcu(mode, conf, in, f, m, tr))
		return;

	/*
	 * Learn before the link-local verdict: Linux learns from link-local
	 * frames it consumes, too.
	 */
	if (conf->learning && (in_flags & DP_PORT_LEARNING)) {
		uint32_t from = FDB_NO_PORT;
		enum dp_tr_learn res = dp_learn_rcu(mode, w, m->vid, src,
						    in->index, now_ms, &from);

		DP_TRACE(tr, learn, res);
		DP_TRACE(tr, learn_from, from);
	} else {
		DP_TRACE(tr, learn, DP_TR_LEARN_OFF);
	}

	if (caa_unlikely(mac_is_link_local(dst))) {
		if (!forward_ll) {
			DP_COUNT(mode, &st->drop_link_local);
			DP_TRACE(tr, drop, DP_TR_DROP_LINK_LOCAL);
			return;
		}
		DP_TRACE(tr, lookup, DP_TR_LOOKUP_LINK_LOCAL);
	}

	if (dst[0] & 1) {
		m->flood_flag = mac_is_bcast(dst) ? DP_PORT_BCAST_FLOOD :
						       DP_PORT_MCAST_FLOOD;
		m->to = DP_TO_FLOOD;
		if (tr && tr->lookup == DP_TR_LOOKUP_NONE)
			tr->lookup = mac_is_bcast(dst) ?
				DP_TR_LOOKUP_BROADCAST :
				DP_TR_LOOKUP_MULTICAST;
		return;
	}
	out = mode == DP_MODE_EXPLAIN ? fdb_lookup_rcu(w->dp->fdb, m->vid, dst)
				      : dp_lookup_rcu(w, m->vid, dst);
	if (out >= DP_MAX_PORTS || !conf->port[out]) {
		m->flood_flag = DP_PORT_FLOOD;
		m->to = DP_TO_FLOOD;
		DP_TRACE(tr, lookup, DP_TR_LOOKUP_MISS);
		return;
	}
	DP_TRACE(tr, lookup, DP_TR_LOOKUP_HIT);
	DP_TRACE(tr, lookup_port, out);
	if (out == in->index) {
		DP_COUNT(mode, &st->drop_same_port);
		DP_TRACE(tr, drop, DP_TR_DROP_SAME_PORT);
		return;
	}
	/* Known, but not in this VLAN there (br_allowed_egress). */
	if (!dp_vlan_member(conf, out, m->vid)) {
		DP_COUNT(mode, &st->drop_vlan);
		DP_TRACE(tr, drop, DP_TR_DROP_EGRESS_VLAN);
		return;
	}
	m->to = out;
}

/* ---- pass two: egress copies ---- */

/*
 * Build the copy of @f that leaves port @p.  With VLAN filtering on, the
 * tag is rewritten on the way: the MAC addresses, then the tag the egress
 * membership asks for (or none), then the bytes after the tag the frame
 * came with - one received buffer serves every port.  The offload
 * offsets in the virtio-net header move with the tag.
 */
static void dp_tx_build(const struct dp_conf *conf, uint32_t p,
			const struct dp_frame *f, const struct dp_meta *m,
			struct dp_tx *tx)
{
	const struct dp_vlan_cfg *vc;
	struct iovec *iov = tx->iov;
	int n = 1, delta = 0;
	uint32_t hdr;
	bool reorder;

	tx->port = conf->port[p];
	tx->io_pending = false;
	tx->vnet = f->vnet;
	/* The header as it came, when it sits before the frame: the write
	 * may then take header and frame as one buffer. */
	iov[0] = (struct iovec){ f->vnet_in_buf ? f->data - DP_VNET_HDR_LEN :
						   (uint8_t *)&tx->vnet,
				 DP_VNET_HDR_LEN };
	if (!conf->vlan_filtering) {
		iov[n++] = (struct iovec){ f->data, f->len };
		tx->len = f->len;
		tx->vid = 0;
		tx->iovcnt = n;
		return;
	}

	vc = &conf->vlan[p]->cfg;
	reorder = conf->flags[p] & DP_PORT_REORDER_HDR;
	hdr = m->had_tag ? 2 * 6 + VLAN_HLEN : 2 * 6;
	iov[n++] = (struct iovec){ f->data, 2 * 6 };
	tx->len = f->len - hdr + 2 * 6;
	if (m->had_tag)
		delta -= VLAN_HLEN;
	if (vlan_egress_tagged(&vc->mbr, m->vid, reorder)) {
		struct vlan_tag tag = {
			.tpid = conf->tpid,
			.pcp = vc->egress_qos.to[m->pcp],
			.dei = m->dei,
			.vid = m->vid,
		};

		vlan_tag_write(&tag, tx->tag);
		iov[n++] = (struct iovec){ tx->tag, VLAN_HLEN };
		tx->len += VLAN_HLEN;
		delta += VLAN_HLEN;
	}
	iov[n++] = (struct iovec){ f->data + hdr, f->len - hdr };
	tx->iovcnt = n;
	tx->vid = m->vid;
	if (caa_unlikely(delta && (tx->vnet.flags | tx->vnet.gso_type))) {
		if (tx->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			tx->vnet.csum_start += delta;
		if (tx->vnet.hdr_len)
			tx->vnet.hdr_len += delta;
		iov[0].iov_base = &tx->vnet;
	}
}

void dp_tx_acc_publish(struct dp_worker *w)
{
	for (unsigned int i = 0; i < w->n_acc; i++) {
		const struct dp_tx_acc *a = &w->acc[i];
		struct dp_port *out = a->port;

		ADD(&out->stats.tx_packets, a->packets);
		ADD(&out->stats.tx_bytes, a->bytes);
		if (a->vid) {
			ADD(&out->vstats[a->vid].tx_packets, a->packets);
			ADD(&out->vstats[a->vid].tx_bytes, a->bytes);
		}
	}
	w->n_acc = 0;
}

/*
 * Several threads may send to one port: its tx counters are atomic.  Two
 * locked adds a copy would cost more than the pipeline's own work, so a
 * burst's are gathered here by (port, VLAN) and added once.
 */
static void dp_tx_acc_add(struct dp_worker *w, struct dp_port *port,
			  uint16_t vid, uint32_t packets, uint64_t bytes)
{
	struct dp_tx_acc *a;
	unsigned int i;

	for (i = 0; i < w->n_acc; i++) {
		a = &w->acc[i];
		if (a->port == port && a->vid == vid) {
			a->packets += packets;
			a->bytes += bytes;
			return;
		}
	}
	if (w->n_acc == DP_TX_ACC)
		dp_tx_acc_publish(w);
	a = &w->acc[w->n_acc++];
	a->port = port;
	a->vid = vid;
	a->packets = packets;
	a->bytes = bytes;
}

static void dp_tx_done(struct dp_worker *w, const struct dp_tx *tx, int err)
{
	if (err)
		ADD(&tx->port->stats.tx_errors, 1);
	else
		dp_tx_acc_add(w, tx->port, tx->vid, 1, tx->len);
}

/*
 * Count what a kind's tx_burst() did with @n copies to @port: those it
 * sent or failed now; those it queued on the ring are counted when the
 * ring completes them.  A port's copies are mostly of one VLAN: summed,
 * then added once.
 */
static void dp_tx_run_done(struct dp_worker *w, struct dp_port *port,
			   struct dp_tx *const *txs, unsigned int n)
{
	uint16_t vid = txs[0]->vid;
	uint32_t packets = 0;
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < n; i++) {
		const struct dp_tx *tx = txs[i];

		if (tx->io_pending)
			continue;
		if (caa_unlikely(tx->err || tx->vid != vid)) {
			dp_tx_done(w, tx, tx->err);
			continue;
		}
		packets++;
		bytes += tx->len;
	}
	if (packets)
		dp_tx_acc_add(w, port, vid, packets, bytes);
}

int dp_worker_init(struct dp_worker *w, struct dp *dp, bool cache)
{
	w->dp = dp;
	w->io = (struct dp_io){ .w = w };
	w->post_pass = 0;
	memset(w->grp, 0, sizeof(w->grp));
	w->n_tx = 0;
	for (unsigned int i = 0; i < DP_TXQ; i++)
		w->txp[i] = &w->tx[i];
	w->n_acc = 0;
	w->gen = 0;
	w->lin = NULL;
	w->seg = NULL;
	w->l2c = NULL;
	w->obs = NULL;
	w->obs_vid = 0;
	w->traces = NULL;
	if (!cache)
		return 0;
	w->l2c = malloc(DP_L2C_SIZE * sizeof(*w->l2c));
	if (!w->l2c)
		return -ENOMEM;
	for (unsigned int i = 0; i < DP_L2C_SIZE; i++) {
		w->l2c[i].key = 0;
		w->l2c[i].port = FDB_NO_PORT;
	}
	return 0;
}

void dp_worker_fini(struct dp_worker *w)
{
	free(w->lin);
	free(w->seg);
	free(w->l2c);
	free(w->traces);
	w->lin = w->seg = NULL;
	w->l2c = NULL;
	w->traces = NULL;
}

void dp_io_tx_done(struct dp_io *io, const struct dp_tx *tx, int err)
{
	dp_tx_done(io->w, tx, err);
}

/*
 * The queued copies, gathered by port: each port's kind is called once
 * with all of its copies, in the order they were queued (frames to
 * different ports may leave in another order than they came; to one
 * port, never) - one call where a copy a call cost as much as the
 * pipeline's own work on a frame to many ports.  A port's group is found
 * by its index in w->grp; with one port (the common case) the queue is
 * the group as it is, handed over as w->txp.
 */
void dp_worker_post(struct dp_worker *w)
{
	struct dp_tx *sorted[DP_TXQ];
	struct dp_port *port_of[DP_TXQ];
	uint8_t n_of[DP_TXQ], at_of[DP_TXQ], grp_of[DP_TXQ];
	unsigned int n_grp = 0, i;
	struct dp_port *port;
	uint32_t pass;

	if (!w->n_tx)
		return;
	/* Mostly a burst goes to one port: then the queue is its run. */
	port = w->tx[0].port;
	for (i = 1; i < w->n_tx && w->tx[i].port == port; i++)
		;
	if (i == w->n_tx) {
		port->ops->tx_burst(port, &w->io, w->txp, w->n_tx);
		dp_tx_run_done(w, port, w->txp, w->n_tx);
		return;
	}
	/* w->grp[port index] names the port's group while its pass is this
	 * one: no clearing between calls. */
	pass = ++w->post_pass;
	for (i = 0; i < w->n_tx; i++) {
		struct dp_post_grp *pg;

		port = w->tx[i].port;
		pg = &w->grp[port->index];
		if (pg->pass != pass) {
			pg->pass = pass;
			pg->g = (uint8_t)n_grp;
			port_of[n_grp] = port;
			n_of[n_grp++] = 0;
		}
		n_of[pg->g]++;
		grp_of[i] = pg->g;
	}
	for (unsigned int k = 0, at = 0; k < n_grp; k++) {
		at_of[k] = (uint8_t)at;
		at += n_of[k];
	}
	for (i = 0; i < w->n_tx; i++)
		sorted[at_of[grp_of[i]]++] = &w->tx[i];
	for (unsigned int k = 0, at = 0; k < n_grp; k++) {
		port = port_of[k];
		port->ops->tx_burst(port, &w->io, sorted + at, n_of[k]);
		dp_tx_run_done(w, port, sorted + at, n_of[k]);
		at += n_of[k];
	}
}

void dp_worker_flush(struct dp_worker *w)
{
	if (w->n_tx) {
		dp_worker_post(w);
		if (w->io.ring)
			dp_uring_submit(w->io.ring, &w->io);
		w->n_tx = 0;
	}
	dp_tx_acc_publish(w);
}

/* Send @tx (not in the worker's queue) now, whatever the worker's ring. */
static void dp_tx_now(struct dp_worker *w, struct dp_tx *tx)
{
	struct dp_io io = { .w = w };

	tx->io_pending = false;
	tx->port->ops->tx_burst(tx->port, &io, &tx, 1);
	dp_tx_done(w, tx, tx->err);
}

/* ---- what watchers see ---- */

/* Whether @sub wants frames (or traces) of port @port in VLAN @vid. */
static bool dp_obs_match(const struct dp_obs_sub *sub, uint32_t port,
			 uint16_t vid)
{
	return (sub->port == DP_OBS_ANY_PORT || sub->port == port) &&
	       (!sub->vid || sub->vid == vid) &&
	       (!sub->limit ||
		__atomic_load_n(sub->taken, __ATOMIC_RELAXED) < sub->limit);
}

static void dp_obs_put(const struct dp_obs_sub *sub,
		       const struct dp_rec_hdr *hdr, const struct iovec *iov,
		       int iovcnt, uint32_t max_data)
{
	/* Stamped in the ring, so that what many threads put is in time
	 * order there. */
	if (dp_ring_put(sub->ring, hdr, sizeof(*hdr),
			offsetof(struct dp_rec_hdr, ts_ns), iov, iovcnt,
			max_data))
		__atomic_fetch_add(sub->taken, 1, __ATOMIC_RELAXED);
}

/* Copy a frame (gathered from @iov, @len bytes) to every capture that
 * wants it. */
static void dp_obs_frame(const struct dp_obs_set *obs, enum dp_dir dir,
			 uint32_t port, uint16_t vid, const struct iovec *iov,
			 int iovcnt, uint32_t len)
{
	struct dp_rec_hdr hdr = {
		.type = DP_REC_FRAME,
		.dir = dir,
		.port = port,
		.len = len,
	};

	for (unsigned int i = 0; i < obs->n; i++) {
		const struct dp_obs_sub *sub = &obs->sub[i];

		if (sub->trace || !(sub->dirs & dir) ||
		    !dp_obs_match(sub, port, vid))
			continue;
		hdr.caplen = len < sub->snaplen ? len : sub->snaplen;
		dp_obs_put(sub, &hdr, iov, iovcnt, hdr.caplen);
	}
}

/* The VLAN a frame is in, for a capture's "vlan VID": as classified with
 * filtering on; the outer tag's otherwise (0: none). */
static uint16_t dp_obs_vid(const struct dp_conf *conf,
			   const struct dp_frame *f, const struct dp_meta *m)
{
	struct vlan_tag tag;

	if (m->vid)
		return m->vid;
	if (f->len >= DP_ETH_HLEN &&
	    vlan_parse(f->data, f->len, conf->tpid, &tag) == VLAN_TAGGED)
		return tag.vid;
	return 0;
}

struct dp_soft_ctx {
	struct dp_worker *w;
	const struct dp_tx *orig;
};

static int dp_soft_emit(const uint8_t *seg, uint32_t seg_len, void *arg)
{
	const struct dp_soft_ctx *ctx = arg;
	struct dp_tx tx = {
		.port = ctx->orig->port,
		.vid = ctx->orig->vid,
		.iovcnt = 2,
		.len = seg_len,
	};

	tx.iov[0] = (struct iovec){ &tx.vnet, DP_VNET_HDR_LEN };
	tx.iov[1] = (struct iovec){ (void *)seg, seg_len };
	if (ctx->w->obs)
		dp_obs_frame(ctx->w->obs, DP_DIR_TX, tx.port->index,
			     ctx->w->obs_vid, tx.iov + 1, 1, seg_len);
	/* One software segment, sent at once: it lives in the worker's
	 * scratch. */
	dp_tx_now(ctx->w, &tx);
	return 0;
}

/*
 * The egress port cannot take what @tx carries (@missing, DP_OFFLOAD_*):
 * do it here, as a NIC without offloads would need it done.  The slow
 * path: the frame is copied once, as it leaves, then completed or cut up.
 */
static void dp_tx_soft(struct dp_worker *w, struct dp_tx *tx,
		       uint32_t missing)
{
	struct dp_port *out = tx->port;
	struct dp_soft_ctx ctx = { w, tx };
	uint32_t len = 0;
	int ret;

	if (!w->lin)
		w->lin = malloc(DP_FRAME_MAX + VLAN_HLEN);
	if (!w->seg)
		w->seg = malloc(DP_SEG_MAX);
	if (!w->lin || !w->seg) {
		dp_tx_done(w, tx, -ENOMEM);
		return;
	}
	for (int i = 1; i < tx->iovcnt; i++) {
		memcpy(w->lin + len, tx->iov[i].iov_base, tx->iov[i].iov_len);
		len += tx->iov[i].iov_len;
	}
	if (missing & ~DP_OFFLOAD_CSUM) {
		ret = dp_sw_gso(w->lin, len, &tx->vnet, w->seg, dp_soft_emit,
				&ctx);
		if (ret < 0)
			dp_tx_done(w, tx, ret);
		else
			ADD(&out->stats.tx_sw_gso, 1);
		return;
	}
	if (dp_sw_csum(w->lin, len, &tx->vnet)) {
		dp_tx_done(w, tx, -EINVAL);
		return;
	}
	ADD(&out->stats.tx_sw_csum, 1);
	memset(&tx->vnet, 0, sizeof(tx->vnet));
	tx->iov[0].iov_base = &tx->vnet;
	tx->iov[1] = (struct iovec){ w->lin, len };
	tx->iovcnt = 2;
	if (w->obs)
		dp_obs_frame(w->obs, DP_DIR_TX, out->index, w->obs_vid,
			     tx->iov + 1, 1, len);
	dp_tx_now(w, tx);
}

/*
 * Queue the copy of @f for port @p, or send it the slow way; note it in
 * the trace; show it to the captures.  Explaining, only note it.
 */
DP_INLINE void dp_deliver(enum dp_mode mode, struct dp_worker *w,
			  const struct dp_conf *conf, uint32_t p,
			  const struct dp_frame *f, const struct dp_meta *m,
			  struct dp_trace *tr)
{
	struct dp_tx *tx;
	uint32_t caps, missing;

	if (tr && tr->n_egress < DP_TR_MAX_EGRESS) {
		bool tagged = conf->vlan_filtering &&
			vlan_egress_tagged(&conf->vlan[p]->cfg.mbr, m->vid,
					   conf->flags[p] &
					   DP_PORT_REORDER_HDR);
		uint32_t len = f->len;

		if (conf->vlan_filtering)
			len += (tagged ? VLAN_HLEN : 0) -
			       (m->had_tag ? VLAN_HLEN : 0);
		tr->egress[tr->n_egress].port = p;
		tr->egress[tr->n_egress].filtering = conf->vlan_filtering;
		tr->egress[tr->n_egress].tagged = tagged;
		tr->egress[tr->n_egress].too_big = !f->vnet.gso_type &&
						   len > conf->max_len[p];
		tr->n_egress++;
	}
	if (mode == DP_MODE_EXPLAIN)
		return;
	if (w->n_tx == DP_TXQ)
		dp_worker_flush(w);
	tx = &w->tx[w->n_tx];
	dp_tx_build(conf, p, f, m, tx);
	/* Longer than the egress port's MTU takes: not sent, as the kernel's
	 * is_skb_forwardable() has it (a super-frame is cut to size later). */
	if (caa_unlikely(tx->len > conf->max_len[p]) && !f->vnet.gso_type) {
		ADD(&tx->port->stats.tx_drop_mtu, 1);
		return;
	}
	if (caa_likely(!(f->vnet.flags | f->vnet.gso_type))) {
		if (mode == DP_MODE_OBSERVE && w->obs)
			dp_obs_frame(w->obs, DP_DIR_TX, p, w->obs_vid,
				     tx->iov + 1, tx->iovcnt - 1, tx->len);
		w->n_tx++;
		return;
	}
	caps = conf->flags[p] & DP_PORT_OFFLOAD ? tx->port->offload_caps : 0;
	missing = dp_offload_needs(&tx->vnet) & ~caps;
	if (!missing) {
		if (mode == DP_MODE_OBSERVE && w->obs)
			dp_obs_frame(w->obs, DP_DIR_TX, p, w->obs_vid,
				     tx->iov + 1, tx->iovcnt - 1, tx->len);
		w->n_tx++;
		return;
	}
	/* What is queued for any port goes first: frames keep their order. */
	dp_worker_flush(w);
	dp_tx_soft(w, tx, missing);
}

/* The trace's start: what the frame is. */
static void dp_trace_begin(struct dp_trace *tr, const struct dp_frame *f)
{
	memset(tr, 0, offsetof(struct dp_trace, egress));
	tr->len = f->len;
	tr->learn_from = FDB_NO_PORT;
	tr->lookup_port = FDB_NO_PORT;
	if (f->len >= 6)
		memcpy(tr->dst, f->data, 6);
	if (f->len >= 12)
		memcpy(tr->src, f->data + 6, 6);
	if (f->len >= DP_ETH_HLEN)
		tr->ethertype = (uint16_t)(f->data[12] << 8 | f->data[13]);
}

/* Hand a finished trace to every trace watcher that wants it; @vid as
 * for captures (dp_obs_vid()). */
static void dp_obs_trace(const struct dp_obs_set *obs, uint32_t port,
			 uint16_t vid, struct dp_trace *tr)
{
	struct dp_rec_hdr hdr = {
		.type = DP_REC_TRACE,
		.port = port,
		.len = tr->len,
	};
	struct iovec iov = { tr, dp_trace_size(tr) };

	for (unsigned int i = 0; i < obs->n; i++) {
		const struct dp_obs_sub *sub = &obs->sub[i];

		if (!sub->trace || !dp_obs_match(sub, port, vid))
			continue;
		hdr.caplen = iov.iov_len;
		dp_obs_put(sub, &hdr, &iov, 1, iov.iov_len);
	}
}

/* Whether some trace watcher may want frames of port @port. */
static bool dp_obs_traces(const struct dp_obs_set *obs, uint32_t port)
{
	for (unsigned int i = 0; i < obs->n; i++)
		if (obs->sub[i].trace &&
		    (obs->sub[i].port == DP_OBS_ANY_PORT ||
		     obs->sub[i].port == port))
			return true;
	return false;
}

/*
 * One burst (at most DP_BURST frames) from port @index, in @mode.  @trs:
 * a trace record for each frame, or NULL.  Pass one decides every frame
 * inside one read-side section; pass two queues the copies outside it
 * (a tap write is a system call): with QSBR nothing read in pass one is
 * freed before this thread's next quiescent state, which comes after the
 * queue is written out.  Tap writes do not block.
 */
DP_INLINE void dp_burst(enum dp_mode mode, struct dp_worker *w,
			const struct dp_conf *conf, uint32_t index,
			struct dp_frame *frames, unsigned int n,
			uint64_t now_ms, struct dp_trace *trs)
{
	struct dp_port *in = conf->port[index];
	uint32_t in_flags = conf->flags[index];
	struct dp_meta meta[DP_BURST];

	rcu_read_begin();
	for (unsigned int i = 0; i < n; i++) {
		struct dp_trace *tr = trs ? &trs[i] : NULL;

		if (tr)
			dp_trace_begin(tr, &frames[i]);
		if (mode != DP_MODE_EXPLAIN) {
			OWN_ADD(&in->stats.rx_packets, 1);
			OWN_ADD(&in->stats.rx_bytes, frames[i].len);
		}
		if (caa_unlikely(!(in_flags & DP_PORT_UP))) {
			DP_COUNT(mode, &in->stats.drop_port_down);
			DP_TRACE(tr, drop, DP_TR_DROP_PORT_DOWN);
			meta[i].to = DP_TO_DROP;
			meta[i].vid = 0;
		} else {
			dp_decide_rcu(mode, w, conf, in, in_flags, &frames[i],
				      now_ms, &meta[i], tr);
		}
		if (mode == DP_MODE_OBSERVE) {
			struct iovec iov = { frames[i].data, frames[i].len };

			dp_obs_frame(w->obs, DP_DIR_RX, index,
				     dp_obs_vid(conf, &frames[i], &meta[i]),
				     &iov, 1, frames[i].len);
		}
	}
	rcu_read_end();

	for (unsigned int i = 0; i < n; i++) {
		const struct dp_meta *m = &meta[i];
		struct dp_trace *tr = trs ? &trs[i] : NULL;

		if (mode == DP_MODE_OBSERVE)
			w->obs_vid = dp_obs_vid(conf, &frames[i], m);
		if (m->to == DP_TO_DROP) {
			DP_TRACE(tr, verdict, DP_TR_DROP);
		} else if (m->to >= 0) {
			if (conf->flags[m->to] & DP_PORT_UP) {
				DP_TRACE(tr, verdict, DP_TR_FORWARD);
				dp_deliver(mode, w, conf, m->to, &frames[i],
					   m, tr);
			} else {
				DP_COUNT(mode, &in->stats.drop_no_egress);
				DP_TRACE(tr, verdict, DP_TR_DROP);
				DP_TRACE(tr, drop, DP_TR_DROP_EGRESS_DOWN);
			}
		} else {
			unsigned int n_out = 0;

			DP_COUNT(mode, &in->stats.flooded);
			DP_TRACE(tr, verdict, DP_TR_FLOOD);
			for (uint32_t k = 0; k < conf->n_active; k++) {
				uint32_t p = conf->active[k];
				uint32_t want = m->flood_flag | DP_PORT_UP;

				if (p != index &&
				    (conf->flags[p] & want) == want &&
				    dp_vlan_member(conf, p, m->vid)) {
					dp_deliver(mode, w, conf, p,
						   &frames[i], m, tr);
					n_out++;
				}
			}
			/* Flooded, to no port at all: dropped, and said so
			 * (it still counts as flooded). */
			if (!n_out) {
				DP_COUNT(mode, &in->stats.drop_no_egress);
				DP_TRACE(tr, verdict, DP_TR_DROP);
				DP_TRACE(tr, drop, DP_TR_DROP_NO_EGRESS);
			}
		}
		if (mode == DP_MODE_OBSERVE && tr)
			dp_obs_trace(w->obs, index, w->obs_vid, tr);
	}
}

void dp_worker_input(struct dp_worker *w, uint32_t index,
		     struct dp_frame *frames, unsigned int n, uint64_t now_ms)
{
	struct dp *dp = w->dp;
	const struct dp_conf *conf;

	rcu_assert_not_reader();
	while (n > DP_BURST) {
		dp_worker_input(w, index, frames, DP_BURST, now_ms);
		frames += DP_BURST;
		n -= DP_BURST;
	}
	/* The caller is online: the snapshot stays until its next
	 * quiescent state. */
	conf = rcu_consume(&dp->conf);
	if (!conf->port[index])
		return;
	w->gen = fdb_gen(dp->fdb);
	/* The one branch a burst pays for its watchers. */
	if (caa_likely(!conf->obs)) {
		dp_burst(DP_MODE_FAST, w, conf, index, frames, n, now_ms,
			 NULL);
		return;
	}
	if (dp_obs_traces(conf->obs, index) && !w->traces)
		w->traces = malloc(DP_BURST * sizeof(*w->traces));
	w->obs = conf->obs;
	dp_burst(DP_MODE_OBSERVE, w, conf, index, frames, n, now_ms,
		 dp_obs_traces(conf->obs, index) ? w->traces : NULL);
	/* The copies' captures are taken as they are queued: the queue
	 * may be written after this returns. */
	w->obs = NULL;
}

int dp_explain(struct dp *dp, uint32_t index, const uint8_t *frame,
	       uint32_t len, struct dp_trace *tr)
{
	struct dp_frame f = { .data = (uint8_t *)frame, .len = len };
	const struct dp_conf *conf;
	struct dp_worker w;

	rcu_assert_not_reader();
	if (index >= DP_MAX_PORTS)
		return -ENOENT;
	dp_worker_init(&w, dp, false);
	conf = rcu_consume(&dp->conf);
	if (!conf->port[index])
		return -ENOENT;
	dp_burst(DP_MODE_EXPLAIN, &w, conf, index, &f, 1, dp_now_ms(), tr);
	dp_worker_fini(&w);
	return 0;
}


struct dp_worker *dp_worker_create(struct dp *dp)
{
	struct dp_worker *w = malloc(sizeof(*w));

	if (w && dp_worker_init(w, dp, true)) {
		free(w);
		return NULL;
	}
	return w;
}

void dp_worker_destroy(struct dp_worker *w)
{
	if (!w)
		return;
	dp_worker_fini(w);
	free(w);
}

void dp_worker_run(struct dp_worker *w, uint32_t index,
		   struct dp_frame *frames, unsigned int n, uint64_t now_ms)
{
	dp_worker_input(w, index, frames, n, now_ms);
	dp_worker_flush(w);
}

void dp_input(struct dp *dp, uint32_t index, struct dp_frame *frames,
	      unsigned int n, uint64_t now_ms)
{
	struct dp_worker w;

	dp_worker_init(&w, dp, false);
	dp_worker_input(&w, index, frames, n, now_ms);
	dp_worker_flush(&w);
	dp_worker_fini(&w);
}
