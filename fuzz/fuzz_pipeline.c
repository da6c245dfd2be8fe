/*
 * fuzz_pipeline.c - libFuzzer target for the frame pipeline
 * (dataplane/dp.c): random frames, with random virtio-net headers and
 * VLAN tag stacks, through a switch of 2-6 memory ports whose flags,
 * offloads, VLAN membership and PCP maps are random too, with
 * configuration changes between the bursts.
 *
 * Each input is a program, read a field at a time (fuzz_common.h):
 *
 *   switch     1 byte: bit 0 VLAN filtering, bit 1 802.1ad, bit 2 run
 *              through a worker (the poll threads' learning cache) rather
 *              than dp_input(), bit 3 watchers on (trace and capture
 *              subscriptions: the pipeline's observed build), bit 4
 *              learning off, bits 5-7 max_learned (0: no limit);
 *              2 bytes group_fwd_mask; 1 byte: bits 0-3 the number of
 *              ports - 2 (mod 5), bits 4-7 the default PVID (VID table)
 *   each port  flags, offload caps, PCP maps, then 0-3 VLAN edits
 *   then ops   until the input ends: a burst of frames into one port,
 *              port flags, a VLAN edit, a switch-wide change, a static
 *              entry, a flush, failing transmits, a port detached or
 *              attached, time passing (see run_op())
 *
 * A frame is either raw bytes, or built: a destination and a source from
 * a small set of addresses (so that frames learn, hit and move), 0-3 tags
 * of any TPID, an EtherType, a payload; optionally a virtio-net header.
 *
 * Each input builds its data plane and ports from nothing and destroys
 * them at the end: an input is a whole story (learning, then hits, then
 * moves), and a crash reproduces from its input alone.  The forwarding
 * table alone is kept from one input to the next, emptied (every entry
 * flushed) and its limit set again: destroying it waits for every
 * call_rcu() callback (rcu_barrier()), and liburcu's call_rcu thread
 * batches them 10 ms at a time, which would hold each input up that long.
 * Its cumulative counters (learned, moved) are all it carries over, and
 * nothing here reads them.
 *
 * After every burst, what the ports received and the counters are
 * checked against a twin of the rules that do not depend on the table
 * (DESIGN.md "Frame semantics"), written plainly here:
 *   - nothing leaves by the port it came in on (there is no hairpin
 *     mode), nor by a port that is down;
 *   - every copy comes from a frame of the burst the rules accept, with
 *     its source and destination; with VLAN filtering on, the egress port
 *     is a member of that frame's VLAN, and the tag it leaves with (or
 *     without) is what the port's membership, reorder_hdr and PCP maps
 *     say; a broadcast or multicast copy goes only to ports that flood
 *     that class;
 *   - a virtio-net header handed to a port is one it takes (its offload
 *     flag and caps) and is valid for the copy it comes with;
 *   - counters add up: rx as sent, each early drop reason exactly as the
 *     twin counts it, the table-dependent ones within their bounds, each
 *     port's tx equal to what it received;
 *   - with watchers on, each frame's trace agrees with the twin and the
 *     copies, and the capture saw every frame come in.
 */
#include "dataplane/dp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "fuzz/fuzz_common.h"
#include "lib/rcu.h"

#define MAX_PORTS	6
#define MAX_BURST	40		/* more than DP_BURST: it splits */
#define MAX_BUILT	16384		/* payload of a built frame */
#define RAW_MAX		2048
#define COPY_MAX	(DP_FRAME_MAX + 2 * VLAN_HLEN)

static const uint16_t vid_table[16] = {
	1, 2, 3, 10, 100, 4094, 0, 4095, 1, 2, 10, 20, 30, 1000, 4093, 7,
};

static const uint8_t macs[5][6] = {
	{ 0x02, 0, 0, 0, 0, 0x0a }, { 0x02, 0, 0, 0, 0, 0x0b },
	{ 0x02, 0, 0, 0, 0, 0x0c }, { 0x02, 0, 0, 0, 0, 0x0d },
	{ 0x02, 0, 0, 0, 0, 0x0e },
};

/* One frame of a burst, and what the twin says of it. */
struct tx_frame {
	uint8_t *data;			/* as sent (the pipeline gets a copy) */
	uint32_t len;
	struct virtio_net_hdr vnet;
	/* The twin. */
	int drop;			/* DP_TR_DROP_*: an early drop */
	bool accepted;			/* past every check the table does
					 * not decide */
	bool mcast;			/* ... to a group (floods) */
	uint16_t vid;			/* filtering on: its VLAN */
	bool had_tag;
	uint8_t pcp;			/* in the switch, after ingress_qos */
	bool dei;
};

/* The switch of one input. */
struct fx {
	struct fdb *fdb;
	struct dp *dp;
	struct dp_worker *w;
	struct dp_port *port[MAX_PORTS];	/* NULL: detached */
	bool failing[MAX_PORTS];
	unsigned int n_ports;
	unsigned int n_created;			/* names: p0, p1, ... */
	uint64_t now;
	bool observe;
	struct dp_ring trace_ring, frame_ring;
	uint64_t trace_taken, frame_taken;
	uint8_t *copy;				/* COPY_MAX: a popped copy */
	uint8_t *rec;				/* a ring record */
};

static struct fx fx;
/* FUZZ_VERBOSE set: each burst, frame and copy on stderr, to follow a
 * crash's input. */
static bool verbose;

static void show_bytes(const char *what, unsigned int i, const uint8_t *d,
		       uint32_t len, const struct virtio_net_hdr *vh)
{
	if (!verbose)
		return;
	fprintf(stderr, "  %s %u: %u bytes", what, i, len);
	for (uint32_t k = 0; k < len && k < 24; k++)
		fprintf(stderr, "%s%02x", k == 6 || k == 12 ? " | " : " ",
			d[k]);
	if (vh->flags | vh->gso_type)
		fprintf(stderr, " vnet flags %#x gso %#x hdr_len %u size %u csum %u+%u",
			vh->flags, vh->gso_type, vh->hdr_len, vh->gso_size,
			vh->csum_start, vh->csum_offset);
	fputc('\n', stderr);
}
/* The table, kept across inputs (see the top of the file). */
static struct fdb *fuzz_fdb;

/* ---- the configuration, as the twin reads it ---- */

struct port_view {
	bool attached;
	uint32_t flags;
	uint32_t caps;
	struct dp_vlan_cfg vc;
};

struct sw_view {
	bool filtering;
	uint16_t tpid;
	uint16_t gfm;
	struct port_view p[MAX_PORTS];
};

static void view_read(struct sw_view *v)
{
	memset(v, 0, sizeof(*v));
	v->filtering = dp_get_vlan_filtering(fx.dp);
	v->tpid = dp_get_vlan_protocol(fx.dp);
	v->gfm = dp_get_group_fwd_mask(fx.dp);
	for (unsigned int i = 0; i < fx.n_ports; i++) {
		struct dp_port_info info;

		if (!fx.port[i] || dp_port_get_info(fx.dp, i, &info))
			continue;
		v->p[i].attached = true;
		v->p[i].flags = info.flags;
		v->p[i].caps = info.offload_caps;
		fuzz_assert(!dp_port_get_vlan(fx.dp, i, &v->p[i].vc),
			    "port %u: no VLAN configuration", i);
	}
}

static bool is_member(const struct sw_view *v, unsigned int p, uint16_t vid)
{
	return !v->filtering || vlan_is_member(&v->p[p].vc.mbr, vid);
}

static bool is_link_local(const uint8_t *m)
{
	return m[0] == 0x01 && m[1] == 0x80 && m[2] == 0xc2 && !m[3] &&
	       !m[4] && !(m[5] & 0xf0);
}

/*
 * The link-local groups 01:80:C2:00:00:0X forwarded: group_fwd_mask, and
 * with 802.1ad filtering the Nearest Customer Bridge groups (0B, 0C, 0D,
 * 0F) too, as the kernel's BR_GROUPFWD_8021AD.
 */
static uint16_t ll_fwd_mask(const struct sw_view *v)
{
	uint16_t mask = v->gfm;

	if (v->filtering && v->tpid == VLAN_TPID_8021AD)
		mask |= 0xb800;
	return mask;
}

/*
 * The rules the table does not decide, in the pipeline's order (runt,
 * source, offload header, pause, VLAN in, link-local), for frame @f
 * arriving on @in.
 */
static void twin(const struct sw_view *v, unsigned int in, struct tx_frame *f)
{
	const uint8_t *d = f->data;
	const struct vlan_port *mbr = &v->p[in].vc.mbr;

	f->drop = DP_TR_DROP_NONE;
	f->accepted = false;
	f->vid = 0;
	f->had_tag = false;
	f->pcp = 0;
	f->dei = false;
	if (!(v->p[in].flags & DP_PORT_UP)) {
		f->drop = DP_TR_DROP_PORT_DOWN;
		return;
	}
	if (f->len < 14) {
		f->drop = DP_TR_DROP_RUNT;
		return;
	}
	if ((d[6] & 1) || !(d[6] | d[7] | d[8] | d[9] | d[10] | d[11])) {
		f->drop = DP_TR_DROP_SOURCE;
		return;
	}
	if ((f->vnet.flags | f->vnet.gso_type) &&
	    !dp_offload_valid(&f->vnet, d, f->len)) {
		f->drop = DP_TR_DROP_BAD_OFFLOAD;
		return;
	}
	if (is_link_local(d) && d[5] == 0x01) {
		f->drop = DP_TR_DROP_LINK_LOCAL;
		return;
	}
	if (v->filtering) {
		if (fz_be16(d + 12) == v->tpid) {
			uint16_t tci, vid;

			if (f->len < 18) {
				f->drop = DP_TR_DROP_BAD_TAG;
				return;
			}
			tci = fz_be16(d + 14);
			vid = tci & 0xfff;
			f->had_tag = true;
			f->pcp = v->p[in].vc.ingress_qos.to[tci >> 13];
			f->dei = tci >> 12 & 1;
			if (!vid)
				f->vid = mbr->pvid;
			else if (vid != 4095 && vlan_is_member(mbr, vid))
				f->vid = vid;
		} else {
			f->vid = mbr->pvid;
		}
		if (!f->vid) {
			f->drop = DP_TR_DROP_VLAN;
			return;
		}
	}
	if (is_link_local(d) && d[5] != 0 && !(ll_fwd_mask(v) & (1u << d[5]))) {
		f->drop = DP_TR_DROP_LINK_LOCAL;
		return;
	}
	f->accepted = true;
	f->mcast = d[0] & 1;
}

/* ---- building the switch ---- */

static struct dp_port *new_port(uint32_t caps)
{
	char name[IFNAMSIZ];

	snprintf(name, sizeof(name), "p%u", fx.n_created++);
	return caps ? dp_mem_port_create_offload(name, caps) :
		      dp_mem_port_create(name);
}

/* A VLAN edit of port @p, as the operations make them: membership
 * through vlan_port_add()/vlan_port_del(). */
static void vlan_edit(unsigned int p, uint8_t op)
{
	struct dp_vlan_cfg vc;
	uint16_t vid = vid_table[op & 0xf];

	if (p >= fx.n_ports || !fx.port[p] || dp_port_get_vlan(fx.dp, p, &vc))
		return;
	if (op & 0x80)
		vlan_port_del(&vc.mbr, vid);
	else
		vlan_port_add(&vc.mbr, vid, op & 0x10, op & 0x20);
	if (op & 0x40) {
		/* A PCP map that moves things: 0-7 each way. */
		for (unsigned int i = 0; i < 8; i++) {
			vc.ingress_qos.to[i] = (uint8_t)((i + op) & 7);
			vc.egress_qos.to[i] = (uint8_t)((7 - i + vid) & 7);
		}
	}
	fuzz_assert(!dp_port_set_vlan(fx.dp, p, &vc), "port %u: set_vlan", p);
}

static void port_flags(unsigned int p, uint8_t mask, uint8_t value)
{
	uint32_t m = mask & 0x7f, val = value & 0x7f;
	int err;

	if (p >= fx.n_ports || !fx.port[p])
		return;
	err = dp_port_set_flags(fx.dp, p, m, val);
	/* Offload on a port that takes none is refused; nothing else. */
	fuzz_assert(!err || err == -EOPNOTSUPP, "port %u: set_flags %d", p,
		    err);
}

static void fx_setup(struct fz *in)
{
	uint8_t sw = fz_u8(in);
	uint16_t gfm = fz_u16(in);
	uint8_t np = fz_u8(in);

	memset(&fx, 0, sizeof(fx));
	fx.now = 1000;
	fx.fdb = fuzz_fdb;
	fdb_set_max_learned(fx.fdb, (sw >> 5) & 7);
	fx.dp = dp_create(fx.fdb);
	fuzz_assert(fx.dp, "dp_create");
	fx.copy = malloc(COPY_MAX);
	fx.rec = malloc(sizeof(struct dp_rec_hdr) + sizeof(struct dp_trace) +
			COPY_MAX);
	fuzz_assert(fx.copy && fx.rec, "out of memory");
	if (sw & 4) {
		fx.w = dp_worker_create(fx.dp);
		fuzz_assert(fx.w, "dp_worker_create");
	}
	/* 4095 is no VID: then no default PVID at all. */
	fuzz_assert(!dp_set_default_pvid(fx.dp, vid_table[np >> 4] % 4095),
		    "default pvid");
	fx.n_ports = 2 + np % 5;
	for (unsigned int p = 0; p < fx.n_ports; p++) {
		uint8_t flags = fz_u8(in), caps = fz_u8(in);
		uint8_t n_edits;

		caps = flags & 0x80 ? caps & DP_OFFLOAD_ALL : 0;
		fx.port[p] = new_port(caps);
		fuzz_assert(fx.port[p], "port create");
		fuzz_assert(dp_port_attach(fx.dp, fx.port[p], true) == (int)p,
			    "port %u attach", p);
		/* Offload only where it is taken: set_flags refuses the
		 * whole change otherwise (run_op() tries that). */
		port_flags(p, 0x7f, caps ? flags : flags & ~DP_PORT_OFFLOAD);
		n_edits = fz_u8(in) & 3;
		for (unsigned int k = 0; k < n_edits; k++)
			vlan_edit(p, fz_u8(in));
	}
	fuzz_assert(!dp_set_vlan_protocol(fx.dp, sw & 2 ? VLAN_TPID_8021AD :
							  VLAN_TPID_8021Q),
		    "vlan protocol");
	fuzz_assert(!dp_set_group_fwd_mask(fx.dp, gfm), "group_fwd_mask");
	fuzz_assert(!dp_set_learning(fx.dp, !(sw & 16)), "learning");
	fuzz_assert(!dp_set_vlan_filtering(fx.dp, sw & 1), "filtering");
	if (sw & 8) {
		struct dp_obs_sub subs[2] = {
			{ .port = DP_OBS_ANY_PORT, .trace = true,
			  .taken = &fx.trace_taken, .ring = &fx.trace_ring },
			{ .port = DP_OBS_ANY_PORT,
			  .dirs = DP_DIR_RX | DP_DIR_TX, .snaplen = 128,
			  .taken = &fx.frame_taken, .ring = &fx.frame_ring },
		};

		fuzz_assert(!dp_ring_init(&fx.trace_ring, 1 << 20) &&
			    !dp_ring_init(&fx.frame_ring, 1 << 20), "rings");
		fuzz_assert(!dp_set_obs(fx.dp, subs, 2), "dp_set_obs");
		fx.observe = true;
	}
}

static void fx_teardown(void)
{
	dp_worker_destroy(fx.w);
	/* The data plane, then what its snapshots named, then the table. */
	dp_destroy(fx.dp);
	if (fx.observe) {
		dp_ring_destroy(&fx.trace_ring);
		dp_ring_destroy(&fx.frame_ring);
	}
	/* What the next input must not see. */
	fdb_flush(fx.fdb, FDB_NO_PORT, FDB_ANY_VID, FDB_FLUSH_ALL);
	free(fx.copy);
	free(fx.rec);
}

/* ---- frames ---- */

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return p + 2;
}

/* One frame of a burst, from the input: raw, or built. */
static void read_frame(struct fz *in, struct tx_frame *f)
{
	uint8_t how = fz_u8(in);
	const uint8_t *bytes;

	memset(f, 0, sizeof(*f));
	if (how & 0x40) {
		uint16_t want = fz_u16(in) % RAW_MAX;

		f->len = (uint32_t)fz_take(in, want, &bytes);
		f->data = malloc(f->len ? f->len : 1);
		fuzz_assert(f->data, "out of memory");
		memcpy(f->data, bytes, f->len);
	} else {
		uint8_t shape = fz_u8(in), n_tags = shape & 3;
		uint16_t plen = fz_u16(in) % MAX_BUILT;
		uint8_t *d, *p;
		size_t got;

		f->data = d = calloc(1, 12 + 4 * 3 + 2 + plen);
		fuzz_assert(d, "out of memory");
		switch (how & 7) {
		case 0: case 1: case 2: case 3:
			memcpy(d, macs[how & 3], 6);
			break;
		case 4:
			memset(d, 0xff, 6);
			break;
		case 5:
			memcpy(d, (uint8_t[]){ 0x01, 0, 0x5e, 0, 0, 1 }, 6);
			break;
		case 6:
			memcpy(d, (uint8_t[]){ 0x01, 0x80, 0xc2, 0, 0, 0 }, 6);
			d[5] = fz_u8(in) & 0x1f;
			break;
		default:
			for (int i = 0; i < 6; i++)
				d[i] = fz_u8(in);
		}
		switch (how >> 3 & 7) {
		case 5:
			memcpy(d + 6, (uint8_t[]){ 0x01, 0, 0x5e, 0, 0, 1 }, 6);
			break;
		case 6:
			memset(d + 6, 0, 6);
			break;
		case 7:
			for (int i = 0; i < 6; i++)
				d[6 + i] = fz_u8(in);
			break;
		default:
			memcpy(d + 6, macs[how >> 3 & 7], 6);
		}
		p = d + 12;
		for (unsigned int t = 0; t < n_tags; t++) {
			static const uint16_t tpids[4] = {
				VLAN_TPID_8021Q, VLAN_TPID_8021AD, 0x9100,
				0x8100,
			};
			uint16_t tci = fz_u16(in);

			p = put16(p, tpids[tci >> 14]);
			/* The VID from the table, the PCP and DEI as given. */
			p = put16(p, (uint16_t)((tci & 0xf000) |
						vid_table[tci & 0xf]));
		}
		switch (shape >> 2 & 3) {
		case 0:
			p = put16(p, 0x0800);
			break;
		case 1:
			p = put16(p, 0x86dd);
			break;
		case 2:
			p = put16(p, 0x0806);
			break;
		default:
			p = put16(p, fz_u16(in));
		}
		got = fz_take(in, plen, &bytes);
		memcpy(p, bytes, got);
		f->len = (uint32_t)(p - d) + plen;
	}
	if (how & 0x80) {
		f->vnet.flags = fz_u8(in);
		f->vnet.gso_type = fz_u8(in);
		f->vnet.hdr_len = fz_u16(in);
		f->vnet.gso_size = fz_u16(in);
		f->vnet.csum_start = fz_u16(in);
		f->vnet.csum_offset = fz_u16(in);
	}
}

/* ---- checking a burst ---- */

struct counters {
	struct dp_port_stats s[MAX_PORTS];
};

static void counters_read(struct counters *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned int p = 0; p < fx.n_ports; p++) {
		struct dp_port_info info;

		if (fx.port[p] && !dp_port_get_info(fx.dp, p, &info))
			c->s[p] = info.stats;
	}
}

#define DELTA(field) (after.s[in].field - before.s[in].field)

/* The tag a copy of @f leaves port @p with: whether it has one, and the
 * TCI. */
static bool egress_tag(const struct sw_view *v, unsigned int p,
		       const struct tx_frame *f, uint16_t *tci)
{
	const struct port_view *pv = &v->p[p];
	bool reorder = pv->flags & DP_PORT_REORDER_HDR;

	*tci = (uint16_t)(pv->vc.egress_qos.to[f->pcp] << 13 |
			  (f->dei ? 0x1000 : 0) | f->vid);
	return !reorder || !vlan_bit(pv->vc.mbr.untagged, f->vid);
}

/*
 * One copy @c (@len bytes, header @vh) that port @p received of burst
 * @fs[0..@n) from @in.
 */
static void check_copy(const struct sw_view *v, unsigned int in,
		       const struct tx_frame *fs, unsigned int n,
		       unsigned int p, const uint8_t *c, uint32_t len,
		       const struct virtio_net_hdr *vh)
{
	const struct tx_frame *only = NULL;
	unsigned int n_cand = 0, n_member = 0;
	uint32_t needs = dp_offload_needs(vh);

	fuzz_assert(p != in, "a copy left by its ingress port %u", p);
	fuzz_assert(v->p[p].flags & DP_PORT_UP, "a copy to port %u, down", p);
	fuzz_assert(len >= 14 && len <= DP_FRAME_MAX + VLAN_HLEN,
		    "a copy of %u bytes to port %u", len, p);
	for (unsigned int i = 0; i < n; i++) {
		const struct tx_frame *f = &fs[i];

		if (!f->accepted || memcmp(f->data, c, 12))
			continue;
		n_cand++;
		only = f;
		if (is_member(v, p, f->vid))
			n_member++;
	}
	fuzz_assert(n_cand, "port %u got a copy of no frame sent", p);
	fuzz_assert(n_member,
		    "port %u got a copy in a VLAN it is not a member of", p);
	if (c[0] & 1) {
		uint32_t want = (c[0] & c[1] & c[2] & c[3] & c[4] & c[5]) ==
						0xff ? DP_PORT_BCAST_FLOOD :
						       DP_PORT_MCAST_FLOOD;

		fuzz_assert(v->p[p].flags & want,
			    "port %u got a group frame it does not flood", p);
	}
	if (vh->flags | vh->gso_type) {
		/* Flags that ask nothing of it (DATA_VALID) may pass. */
		fuzz_assert(!(needs & ~(v->p[p].flags & DP_PORT_OFFLOAD ?
					v->p[p].caps : 0)),
			    "port %u got offloads %#x it does not take", p,
			    needs);
		fuzz_assert(dp_offload_valid(vh, c, len),
			    "port %u got a header not valid for its copy", p);
	}
	if (n_cand != 1)
		return;
	/* One frame it can be: a partial checksum's offset still points
	 * at the same bytes (it moved with a tag pushed or popped). */
	if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (only->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		fuzz_assert(len - vh->csum_start ==
				    only->len - only->vnet.csum_start &&
			    !memcmp(c + vh->csum_start,
				    only->data + only->vnet.csum_start,
				    len - vh->csum_start),
			    "port %u: csum_start %u, sent with %u", p,
			    vh->csum_start, only->vnet.csum_start);
	/* The bytes it leaves with. */
	if (v->filtering) {
		uint16_t tci;
		uint32_t hdr = only->had_tag ? 16 : 12;

		if (egress_tag(v, p, only, &tci)) {
			fuzz_assert(len >= 16 && fz_be16(c + 12) == v->tpid &&
				    fz_be16(c + 14) == tci,
				    "port %u: tag %04x %04x, want %04x %04x", p,
				    fz_be16(c + 12), fz_be16(c + 14), v->tpid,
				    tci);
			if (!(only->vnet.flags | only->vnet.gso_type))
				fuzz_assert(len == only->len - hdr + 16 &&
					    !memcmp(c + 16, only->data + hdr,
						    only->len - hdr),
					    "port %u: a tagged copy's bytes", p);
		} else if (!(only->vnet.flags | only->vnet.gso_type)) {
			fuzz_assert(len == only->len - hdr + 12 &&
				    !memcmp(c + 12, only->data + hdr,
					    only->len - hdr),
				    "port %u: an untagged copy's bytes", p);
		}
	} else if (!(only->vnet.flags | only->vnet.gso_type)) {
		fuzz_assert(len == only->len && !memcmp(c, only->data, len),
			    "port %u: the copy is not the frame", p);
	}
}

/* Per frame, with watchers on: its trace. */
static void check_traces(const struct sw_view *v, unsigned int in,
			 const struct tx_frame *fs, unsigned int n,
			 uint64_t refused, unsigned int expect_copies[])
{
	unsigned int i = 0;
	uint32_t got;

	while ((got = dp_ring_get(&fx.trace_ring, fx.rec,
				  sizeof(struct dp_rec_hdr) +
					  sizeof(struct dp_trace)))) {
		const struct dp_rec_hdr *h = (const void *)fx.rec;
		struct dp_trace tr;
		const struct tx_frame *f;

		fuzz_assert(h->type == DP_REC_TRACE && h->port == in &&
			    got >= sizeof(*h), "a trace record of port %u",
			    h->port);
		memset(&tr, 0, sizeof(tr));
		memcpy(&tr, fx.rec + sizeof(*h),
		       got - sizeof(*h) < sizeof(tr) ? got - sizeof(*h) :
						       sizeof(tr));
		fuzz_assert(i < n, "more traces than frames");
		f = &fs[i++];
		fuzz_assert(tr.len == f->len, "trace %u: len %u, sent %u", i,
			    tr.len, f->len);
		if (f->drop != DP_TR_DROP_NONE)
			fuzz_assert(tr.verdict == DP_TR_DROP &&
				    tr.drop == f->drop,
				    "trace %u: drop %u, the twin says %d", i,
				    tr.drop, f->drop);
		else
			fuzz_assert(tr.drop != DP_TR_DROP_RUNT &&
				    tr.drop != DP_TR_DROP_SOURCE &&
				    tr.drop != DP_TR_DROP_BAD_OFFLOAD &&
				    tr.drop != DP_TR_DROP_LINK_LOCAL &&
				    tr.drop != DP_TR_DROP_BAD_TAG &&
				    tr.drop != DP_TR_DROP_VLAN &&
				    tr.drop != DP_TR_DROP_PORT_DOWN,
				    "trace %u: drop %u, the twin accepts it",
				    i, tr.drop);
		if (f->accepted && v->filtering)
			fuzz_assert(tr.vid == f->vid,
				    "trace %u: VLAN %u, the twin says %u", i,
				    tr.vid, f->vid);
		fuzz_assert(tr.n_egress < fx.n_ports,
			    "trace %u: %u egress ports", i, tr.n_egress);
		fuzz_assert(tr.verdict != DP_TR_FORWARD ||
			    (tr.n_egress == 1 &&
			     tr.egress[0].port == tr.lookup_port),
			    "trace %u: forwarded to %u ports", i, tr.n_egress);
		for (unsigned int k = 0; k < tr.n_egress; k++) {
			unsigned int p = tr.egress[k].port;
			uint16_t tci;

			fuzz_assert(f->accepted && p < fx.n_ports && p != in &&
				    (v->p[p].flags & DP_PORT_UP) &&
				    is_member(v, p, f->vid),
				    "trace %u: egress to port %u", i, p);
			fuzz_assert(!v->filtering ||
				    !tr.egress[k].tagged ==
					    !egress_tag(v, p, f, &tci),
				    "trace %u: port %u tagged %u", i, p,
				    tr.egress[k].tagged);
			if (tr.verdict == DP_TR_FLOOD && !f->mcast)
				fuzz_assert(v->p[p].flags & DP_PORT_FLOOD,
					    "trace %u: unknown unicast flooded to port %u",
					    i, p);
			expect_copies[p]++;
		}
	}
	if (!refused)
		fuzz_assert(i == n, "%u traces for %u frames", i, n);
	/* The capture saw each frame come in, whole or cut to snaplen. */
	i = 0;
	while ((got = dp_ring_get(&fx.frame_ring, fx.rec, 128 + 64))) {
		const struct dp_rec_hdr *h = (const void *)fx.rec;

		fuzz_assert(h->type == DP_REC_FRAME && h->caplen <= 128 &&
			    h->caplen <= h->len, "a capture record");
		if (h->dir == DP_DIR_RX) {
			fuzz_assert(i < n && h->port == in &&
				    h->len == fs[i].len,
				    "capture: frame %u in", i);
			i++;
		}
	}
	if (!refused)
		fuzz_assert(i == n, "capture: %u frames in of %u", i, n);
}

static void run_burst(struct fz *in_bytes)
{
	uint8_t n_byte = fz_u8(in_bytes), in_byte = fz_u8(in_bytes);
	unsigned int n = 1 + n_byte % MAX_BURST, in = in_byte % MAX_PORTS;
	struct tx_frame fs[MAX_BURST];
	struct dp_frame df[MAX_BURST];
	unsigned int copies[MAX_PORTS] = { 0 }, expect[MAX_PORTS] = { 0 };
	uint64_t bytes[MAX_PORTS] = { 0 };
	struct counters before, after;
	uint64_t refused = 0, rx_bytes = 0;
	unsigned int early[DP_TR_DROP_NO_EGRESS + 1] = { 0 };
	unsigned int n_mcast = 0, n_ucast = 0;
	bool attached, any_gso = false;
	struct sw_view v;

	view_read(&v);
	attached = in < fx.n_ports && v.p[in].attached;
	if (verbose) {
		fprintf(stderr, "burst of %u into port %u, filtering %d tpid %#x gfm %#x\n",
			n, in, v.filtering, v.tpid, v.gfm);
		for (unsigned int p = 0; p < fx.n_ports; p++)
			fprintf(stderr, "  port %u: %s flags %#x caps %#x pvid %u\n",
				p, v.p[p].attached ? "attached" : "none",
				v.p[p].flags, v.p[p].caps, v.p[p].vc.mbr.pvid);
	}
	for (unsigned int i = 0; i < n; i++) {
		read_frame(in_bytes, &fs[i]);
		if (attached)
			twin(&v, in, &fs[i]);
		show_bytes("frame", i, fs[i].data, fs[i].len, &fs[i].vnet);
		if (verbose)
			fprintf(stderr, "    twin: drop %d accepted %d vid %u\n",
				fs[i].drop, fs[i].accepted, fs[i].vid);
		early[fs[i].drop]++;
		if (fs[i].accepted && fs[i].mcast)
			n_mcast++;
		else if (fs[i].accepted)
			n_ucast++;
		if (fs[i].accepted && fs[i].vnet.gso_type)
			any_gso = true;
		rx_bytes += fs[i].len;
		/* A copy of exactly its length: ASan sees a read past it. */
		df[i].data = malloc(fs[i].len ? fs[i].len : 1);
		fuzz_assert(df[i].data, "out of memory");
		memcpy(df[i].data, fs[i].data, fs[i].len);
		df[i].len = fs[i].len;
		df[i].vnet = fs[i].vnet;
		df[i].vnet_in_buf = false;
	}
	counters_read(&before);
	if (fx.observe)
		refused = fx.trace_ring.n_refused + fx.frame_ring.n_refused;
	if (fx.w)
		dp_worker_run(fx.w, in, df, n, fx.now);
	else
		dp_input(fx.dp, in, df, n, fx.now);
	rcu_quiescent();
	counters_read(&after);
	if (fx.observe)
		refused = fx.trace_ring.n_refused + fx.frame_ring.n_refused -
			  refused;

	/* What each port received. */
	for (unsigned int p = 0; p < fx.n_ports; p++) {
		struct virtio_net_hdr vh;
		int len;

		if (!fx.port[p])
			continue;
		while ((len = dp_mem_port_pop_vnet(fx.port[p], fx.copy,
						   COPY_MAX, &vh)) >= 0) {
			fuzz_assert(len <= COPY_MAX, "a copy of %d bytes", len);
			show_bytes("copy to port", p, fx.copy, (uint32_t)len,
				   &vh);
			check_copy(&v, in, fs, n, p, fx.copy, (uint32_t)len,
				   &vh);
			copies[p]++;
			bytes[p] += (uint32_t)len;
		}
	}

	/* The counters. */
	if (attached) {
		fuzz_assert(DELTA(rx_packets) == n &&
			    DELTA(rx_bytes) == rx_bytes,
			    "rx %llu/%llu, sent %u/%llu",
			    (unsigned long long)DELTA(rx_packets),
			    (unsigned long long)DELTA(rx_bytes), n,
			    (unsigned long long)rx_bytes);
		fuzz_assert(DELTA(drop_port_down) ==
				    early[DP_TR_DROP_PORT_DOWN] &&
			    DELTA(drop_runt) == early[DP_TR_DROP_RUNT] &&
			    DELTA(drop_src) == early[DP_TR_DROP_SOURCE] &&
			    DELTA(drop_bad_offload) ==
				    early[DP_TR_DROP_BAD_OFFLOAD] &&
			    DELTA(drop_link_local) ==
				    early[DP_TR_DROP_LINK_LOCAL] &&
			    DELTA(drop_bad_tag) == early[DP_TR_DROP_BAD_TAG],
			    "early drops: down %llu/%u runt %llu/%u src %llu/%u "
			    "offload %llu/%u link_local %llu/%u bad_tag %llu/%u",
			    (unsigned long long)DELTA(drop_port_down),
			    early[DP_TR_DROP_PORT_DOWN],
			    (unsigned long long)DELTA(drop_runt),
			    early[DP_TR_DROP_RUNT],
			    (unsigned long long)DELTA(drop_src),
			    early[DP_TR_DROP_SOURCE],
			    (unsigned long long)DELTA(drop_bad_offload),
			    early[DP_TR_DROP_BAD_OFFLOAD],
			    (unsigned long long)DELTA(drop_link_local),
			    early[DP_TR_DROP_LINK_LOCAL],
			    (unsigned long long)DELTA(drop_bad_tag),
			    early[DP_TR_DROP_BAD_TAG]);
		/* The table decides the rest: a unicast frame is forwarded,
		 * flooded (unknown), dropped (to itself, to a port not in
		 * its VLAN, to a port that is down). */
		fuzz_assert(DELTA(drop_vlan) >= early[DP_TR_DROP_VLAN] &&
			    DELTA(flooded) >= n_mcast &&
			    DELTA(flooded) - n_mcast + DELTA(drop_same_port) +
				    DELTA(drop_vlan) - early[DP_TR_DROP_VLAN] <=
				    n_ucast &&
			    DELTA(drop_no_egress) <= n_mcast + n_ucast,
			    "table drops: vlan %llu (%u in), flooded %llu "
			    "(%u group), same_port %llu, no_egress %llu, %u "
			    "unicast",
			    (unsigned long long)DELTA(drop_vlan),
			    early[DP_TR_DROP_VLAN],
			    (unsigned long long)DELTA(flooded), n_mcast,
			    (unsigned long long)DELTA(drop_same_port),
			    (unsigned long long)DELTA(drop_no_egress), n_ucast);
	}
	for (unsigned int p = 0; p < fx.n_ports; p++) {
		const struct dp_port_stats *b = &before.s[p], *a = &after.s[p];

		if (!fx.port[p])
			continue;
		fuzz_assert(p == in || (a->rx_packets == b->rx_packets &&
					a->flooded == b->flooded),
			    "port %u counted frames it did not receive", p);
		fuzz_assert(a->tx_packets - b->tx_packets == copies[p] &&
			    a->tx_bytes - b->tx_bytes == bytes[p],
			    "port %u: tx %llu/%llu, received %u/%llu", p,
			    (unsigned long long)(a->tx_packets - b->tx_packets),
			    (unsigned long long)(a->tx_bytes - b->tx_bytes),
			    copies[p], (unsigned long long)bytes[p]);
		fuzz_assert(!fx.failing[p] || !copies[p],
			    "port %u failing, yet it received", p);
	}
	if (fx.observe && attached) {
		check_traces(&v, in, fs, n, refused, expect);
		/* A copy a traced port should have, unless it was cut into
		 * segments or its send failed. */
		for (unsigned int p = 0; p < fx.n_ports && !refused && !any_gso;
		     p++)
			fuzz_assert(!fx.port[p] || fx.failing[p] ||
				    expect[p] == copies[p],
				    "port %u: %u copies, traces say %u", p,
				    copies[p], expect[p]);
	} else if (fx.observe) {
		/* Nothing to trace from a port not there; empty the rings. */
		while (dp_ring_get(&fx.trace_ring, fx.rec,
				   sizeof(struct dp_rec_hdr) +
					   sizeof(struct dp_trace)))
			;
		while (dp_ring_get(&fx.frame_ring, fx.rec, 128 + 64))
			;
	}
	for (unsigned int i = 0; i < n; i++) {
		free(fs[i].data);
		free(df[i].data);
	}
}

/* ---- the program ---- */

static void run_op(struct fz *in)
{
	uint8_t op = fz_u8(in);
	unsigned int p;

	switch (op & 7) {
	case 0: case 1: case 2: case 3:
		run_burst(in);
		break;
	case 4: {
		uint8_t port = fz_u8(in), mask = fz_u8(in);

		port_flags(port % MAX_PORTS, mask, fz_u8(in));
		break;
	}
	case 5: {
		uint8_t port = fz_u8(in);

		vlan_edit(port % MAX_PORTS, fz_u8(in));
		break;
	}
	case 6:
		p = (op >> 3) % MAX_PORTS;
		switch (fz_u8(in) % 10) {
		case 0:
			dp_set_vlan_filtering(fx.dp,
					      !dp_get_vlan_filtering(fx.dp));
			break;
		case 1:
			dp_set_vlan_protocol(fx.dp,
					     dp_get_vlan_protocol(fx.dp) ==
							     VLAN_TPID_8021Q ?
						     VLAN_TPID_8021AD :
						     VLAN_TPID_8021Q);
			break;
		case 2:
			dp_set_group_fwd_mask(fx.dp, fz_u16(in));
			break;
		case 3: {
			uint8_t which = fz_u8(in);

			fdb_add(fx.fdb, vid_table[which >> 4] % 4095,
				macs[which % 5], p,
				which & 8 ? FDB_STATIC : FDB_STICKY, fx.now);
			break;
		}
		case 4:
			fdb_flush(fx.fdb, p, FDB_ANY_VID, FDB_FLUSH_DYNAMIC);
			break;
		case 5:
			if (p < fx.n_ports && fx.port[p]) {
				fx.failing[p] = !fx.failing[p];
				dp_mem_port_fail_tx(fx.port[p],
						    fx.failing[p] ? EIO : 0);
			}
			break;
		case 6:
			if (p < fx.n_ports && fx.port[p]) {
				fuzz_assert(!dp_port_detach(fx.dp, p),
					    "detach %u", p);
				fx.port[p] = NULL;
				fx.failing[p] = false;
			}
			break;
		case 7:
			/* A new port takes the lowest free index. */
			for (p = 0; p < fx.n_ports && fx.port[p]; p++)
				;
			if (p < fx.n_ports) {
				fx.port[p] = new_port(fz_u8(in) &
						      DP_OFFLOAD_ALL);
				fuzz_assert(fx.port[p], "port create");
				fuzz_assert(dp_port_attach(fx.dp, fx.port[p],
							   true) == (int)p,
					    "attach at %u", p);
			}
			break;
		case 8:
			dp_set_learning(fx.dp, fz_u8(in) & 1);
			break;
		default:
			fdb_set_max_learned(fx.fdb, fz_u8(in) & 7);
		}
		break;
	default:
		fx.now += fz_u16(in);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* One thread, registered for good, online outside the calls that
	 * go offline themselves: as a test thread and a poll thread in one. */
	rcu_register_thread();
	verbose = getenv("FUZZ_VERBOSE");
	fuzz_fdb = fdb_create(0);
	fuzz_assert(fuzz_fdb, "fdb_create");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	unsigned int n_ops = 0;

	if (size < 4)
		return 0;
	fx_setup(&in);
	/* Bounded: a long input is many bursts, not a long one. */
	while (in.n && n_ops++ < 64)
		run_op(&in);
	fx_teardown();
	rcu_quiescent();
	return 0;
}
