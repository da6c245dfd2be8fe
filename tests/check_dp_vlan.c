/*
 * check_dp_vlan.c - unit tests for the VLAN part of the dataplane
 * pipeline, with VLAN filtering on (DESIGN.md "Frame semantics"): default
 * membership and default_pvid, ingress classification (PVID, priority
 * tags, no PVID, non-members, VID 4095, truncated tags, the other TPID,
 * vlan_protocol), learning and lookup per (VID, MAC), flooding within a
 * VLAN, egress tagging and stripping with reorder_hdr, PCP maps,
 * membership changes (what they flush, and forwarding while they
 * happen), VLAN filtering turned off again, per-VLAN counters, and a
 * randomized differential test against a naive twin written plainly here.
 *
 * The checked fixture is the one of check_dataplane.c (mem_setup() of
 * check_common.h): the test thread is a registered QSBR thread, online
 * for the whole test; four memory ports mem0..mem3 (indexes 0..3, up);
 * then VLAN filtering is turned on.
 * Frames go in with dp_input() from outside any read-side section,
 * followed by a quiescent state, as a poll thread does.  Control calls
 * are made online, outside a read-side section.  Teardown destroys the
 * data plane before the table.
 *
 * Every delivery test asserts the exact bytes each port received and that
 * no port holds anything else.  Expected frames are written out here
 * byte by byte (a tag is inserted or removed with memcpy), never with
 * vlan_push()/vlan_pop(), so that the test does not share the code it
 * checks.
 *
 * Memberships are written as strings: "10pu 20" is VLAN 10 as PVID and
 * egress untagged, and VLAN 20 tagged.
 *
 *   one case:     CK_RUN_CASE=differential build/tests/check_dp_vlan
 *   another seed: DP_VLAN_TEST_SEED=0x1234 CK_RUN_CASE=differential ...
 *   sanitizers:   CK_FORK=no (see the Makefile's asan/tsan targets)
 */
#include "dataplane/dp.h"
#include "lib/rcu.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <urcu-qsbr.h>

#define FRAME_MAX	160
#define CHECK_COMMON_DP
#include "check_common.h"

#define PAYLOAD		46	/* an untagged frame of 60 bytes */
#define TPID_Q		VLAN_TPID_8021Q
#define TPID_AD		VLAN_TPID_8021AD
#define ETH_P_IP	0x0800
#define HEX_MAX		(3 * FRAME_MAX + 1)

/* Helpers: bytes */

static uint16_t mk_tci(uint8_t pcp, bool dei, uint16_t vid)
{
	return (uint16_t)(pcp << 13 | (dei ? 0x1000 : 0) | vid);
}

static const char *hex(const uint8_t *p, uint32_t len, char buf[HEX_MAX])
{
	size_t n = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < len && i < FRAME_MAX; i++)
		n += snprintf(buf + n, HEX_MAX - n, "%s%02x",
			      i == 12 ? "|" : i ? " " : "", p[i]);
	return buf;
}

/* Frames are built field by field: the MACs, tags, an EtherType, a
 * payload whose pattern differs from one frame to the next. */
static void fb_start(struct tframe *f, const uint8_t *dst, const uint8_t *src)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->data, dst, ETH_ALEN);
	memcpy(f->data + ETH_ALEN, src, ETH_ALEN);
	f->len = 2 * ETH_ALEN;
}

static void fb_u16(struct tframe *f, uint16_t v)
{
	ck_assert_uint_le(f->len + 2, FRAME_MAX);
	put_be16(f->data + f->len, v);
	f->len += 2;
}

static void fb_tag(struct tframe *f, uint16_t tpid, uint8_t pcp, bool dei,
		   uint16_t vid)
{
	fb_u16(f, tpid);
	fb_u16(f, mk_tci(pcp, dei, vid));
}

static void fb_payload(struct tframe *f, uint32_t n)
{
	ck_assert_uint_le(f->len + n, FRAME_MAX);
	for (uint32_t i = 0; i < n; i++)
		f->data[f->len++] = (uint8_t)(i * 7 + fx_seq * 13 + 1);
	fx_seq++;
}

/* dst <- src, EtherType IPv4, 46 bytes of payload: 60 bytes. */
static struct tframe untagged(const uint8_t *dst, const uint8_t *src)
{
	struct tframe f;

	fb_start(&f, dst, src);
	fb_u16(&f, ETH_P_IP);
	fb_payload(&f, PAYLOAD);
	return f;
}

/* The same with one tag: 64 bytes. */
static struct tframe tagged(const uint8_t *dst, const uint8_t *src,
			    uint16_t tpid, uint8_t pcp, bool dei, uint16_t vid)
{
	struct tframe f;

	fb_start(&f, dst, src);
	fb_tag(&f, tpid, pcp, dei, vid);
	fb_u16(&f, ETH_P_IP);
	fb_payload(&f, PAYLOAD);
	return f;
}

/* @f with a tag inserted after the MAC addresses: 4 bytes more. */
static struct tframe with_tag(const struct tframe *f, uint16_t tpid,
			      uint8_t pcp, bool dei, uint16_t vid)
{
	struct tframe t;

	ck_assert_uint_ge(f->len, 12);
	ck_assert_uint_le(f->len + 4, FRAME_MAX);
	memset(&t, 0, sizeof(t));
	memcpy(t.data, f->data, 12);
	put_be16(t.data + 12, tpid);
	put_be16(t.data + 14, mk_tci(pcp, dei, vid));
	memcpy(t.data + 16, f->data + 12, f->len - 12);
	t.len = f->len + 4;
	return t;
}

/* @f without the 4 bytes after its MAC addresses. */
static struct tframe without_tag(const struct tframe *f)
{
	struct tframe t;

	ck_assert_uint_ge(f->len, 16);
	memset(&t, 0, sizeof(t));
	memcpy(t.data, f->data, 12);
	memcpy(t.data + 12, f->data + 16, f->len - 16);
	t.len = f->len - 4;
	return t;
}

/* @f with its outer tag replaced. */
static struct tframe retagged(const struct tframe *f, uint16_t tpid,
			      uint8_t pcp, bool dei, uint16_t vid)
{
	struct tframe t = without_tag(f);

	return with_tag(&t, tpid, pcp, dei, vid);
}

/* Helpers: the pipeline */

/* Pop one frame of @port and compare it with @want, byte for byte. */
#define pop_expect(port, want, what) \
	pop_expect_((port), (want), (what), __LINE__)
static void pop_expect_(struct dp_port *port, const struct tframe *want,
			const char *what, int line)
{
	uint8_t buf[FRAME_MAX + 16];
	char h1[HEX_MAX], h2[HEX_MAX];
	int len = dp_mem_port_pop(port, buf, sizeof(buf));

	ck_assert_msg(len >= 0, "line %d: %s received nothing; want %u "
		      "bytes\n  %s", line, what, want->len,
		      hex(want->data, want->len, h1));
	ck_assert_msg((uint32_t)len == want->len &&
		      !memcmp(buf, want->data, want->len),
		      "line %d: %s received %d bytes\n  %s\nwant %u bytes\n"
		      "  %s", line, what, len,
		      hex(buf, (uint32_t)len, h1), want->len,
		      hex(want->data, want->len, h2));
}

/*
 * Port p received exactly want[p] (nothing when NULL), and no port holds
 * anything else.
 */
#define expect_out(...)						\
	expect_out_(__LINE__,						\
		    (const struct tframe *const[N_PORTS]){ __VA_ARGS__ })
#define expect_none() expect_out(NULL, NULL, NULL, NULL)
static void expect_out_(int line, const struct tframe *const want[N_PORTS])
{
	for (uint32_t p = 0; p < N_PORTS; p++) {
		char what[32];

		if (!want[p])
			continue;
		snprintf(what, sizeof(what), "port %u", p);
		pop_expect_(fx_port[p], want[p], what, line);
	}
	for (uint32_t p = 0; p < N_PORTS; p++) {
		uint8_t buf[FRAME_MAX + 16];
		char h[HEX_MAX];
		unsigned int n = pending(p);
		int len;

		if (!n)
			continue;
		len = dp_mem_port_pop(fx_port[p], buf, sizeof(buf));
		ck_abort_msg("line %d: port %u holds %u frame(s) more than "
			     "expected, the first of %d bytes:\n  %s", line, p,
			     n, len, hex(buf, len > 0 ? (uint32_t)len : 0, h));
	}
}

static void set_reorder_hdr(uint32_t p, bool on)
{
	ck_assert_int_eq(dp_port_set_flags(fx_dp, p, DP_PORT_REORDER_HDR,
					   on ? DP_PORT_REORDER_HDR : 0), 0);
	ck_assert_uint_eq(!!(port_flags(p) & DP_PORT_REORDER_HDR), on);
}

/* Helpers: membership */

static void mbr_set_bit(uint64_t *map, uint16_t vid)
{
	map[vid / 64] |= 1ull << (vid % 64);
}

static bool mbr_bit(const uint64_t *map, uint16_t vid)
{
	return map[vid / 64] >> (vid % 64) & 1;
}

/* "10pu 20": written plainly, not with vlan_port_add(). */
static void mbr_build(struct vlan_port *vp, const char *spec)
{
	const char *s = spec;

	memset(vp, 0, sizeof(*vp));
	while (*s) {
		unsigned long vid;
		char *end;

		if (*s == ' ') {
			s++;
			continue;
		}
		vid = strtoul(s, &end, 10);
		ck_assert_msg(end != s && vid >= 1 && vid <= 4094,
			      "bad membership \"%s\"", spec);
		if (!mbr_bit(vp->member, vid))
			vp->n_members++;
		mbr_set_bit(vp->member, vid);
		for (s = end; *s && *s != ' '; s++) {
			if (*s == 'p')
				vp->pvid = vid;
			else if (*s == 'u')
				mbr_set_bit(vp->untagged, vid);
			else
				ck_abort_msg("bad membership \"%s\"", spec);
		}
	}
}

static const char *mbr_str(const struct vlan_port *vp, char buf[256])
{
	size_t n = 0;

	buf[0] = 0;
	for (uint32_t vid = 0; vid < VLAN_N_VID && n < 200; vid++) {
		if (!mbr_bit(vp->member, vid))
			continue;
		n += snprintf(buf + n, 256 - n, "%s%u%s%s", n ? " " : "",
			      vid, vp->pvid == vid ? "p" : "",
			      mbr_bit(vp->untagged, vid) ? "u" : "");
	}
	if (vp->pvid && !mbr_bit(vp->member, vp->pvid))
		snprintf(buf + n, 256 - n, " (pvid %u, not a member)",
			 vp->pvid);
	return buf;
}

static struct dp_vlan_cfg get_vlan(uint32_t p)
{
	struct dp_vlan_cfg cfg;

	ck_assert_int_eq(dp_port_get_vlan(fx_dp, p, &cfg), 0);
	return cfg;
}

static void set_vlan(uint32_t p, const struct dp_vlan_cfg *cfg)
{
	ck_assert_int_eq(dp_port_set_vlan(fx_dp, p, cfg), 0);
}

/* Replace port @p's membership, keeping its PCP maps. */
static void set_members(uint32_t p, const char *spec)
{
	struct dp_vlan_cfg cfg = get_vlan(p);

	mbr_build(&cfg.mbr, spec);
	set_vlan(p, &cfg);
}

#define ck_assert_members(p, spec) \
	ck_assert_members_(fx_dp, (p), (spec), __LINE__)
static void ck_assert_members_(struct dp *dp, uint32_t p, const char *spec,
			       int line)
{
	struct dp_vlan_cfg cfg;
	struct vlan_port want;
	char got_s[256], want_s[256];

	ck_assert_int_eq(dp_port_get_vlan(dp, p, &cfg), 0);
	mbr_build(&want, spec);
	ck_assert_msg(!memcmp(cfg.mbr.member, want.member,
			      sizeof(want.member)) &&
		      !memcmp(cfg.mbr.untagged, want.untagged,
			      sizeof(want.untagged)) &&
		      cfg.mbr.pvid == want.pvid &&
		      cfg.mbr.n_members == want.n_members,
		      "line %d: port %u is a member of \"%s\" (%u VLANs), "
		      "want \"%s\" (%u)", line, p, mbr_str(&cfg.mbr, got_s),
		      cfg.mbr.n_members, mbr_str(&want, want_s),
		      want.n_members);
}

/* Helpers: counters */

/* The counters of VLAN @vid on port @p, exactly. */
#define ck_assert_vstats(p, vid, rxp, rxb, txp, txb)			\
	ck_assert_vstats_((p), (vid), (rxp), (rxb), (txp), (txb), __LINE__)
static void ck_assert_vstats_(uint32_t p, uint16_t vid, uint64_t rxp,
			      uint64_t rxb, uint64_t txp, uint64_t txb,
			      int line)
{
	struct dp_vlan_stats s;

	ck_assert_int_eq(dp_port_get_vlan_stats(fx_dp, p, vid, &s), 0);
	ck_assert_msg(s.rx_packets == rxp && s.rx_bytes == rxb &&
		      s.tx_packets == txp && s.tx_bytes == txb,
		      "line %d: port %u VLAN %u: rx %" PRIu64 "/%" PRIu64
		      "B tx %" PRIu64 "/%" PRIu64 "B, want rx %" PRIu64 "/%"
		      PRIu64 "B tx %" PRIu64 "/%" PRIu64 "B", line, p, vid,
		      s.rx_packets, s.rx_bytes, s.tx_packets, s.tx_bytes,
		      rxp, rxb, txp, txb);
}

/* Helpers: the table */

/* Entries on @port (FDB_NO_PORT: any) in @vid (FDB_ANY_VID: any) with all
 * of @flags. */
static unsigned int count_entries(uint32_t port, uint16_t vid, uint32_t flags)
{
	return count_entries_in(fx_fdb, port, vid, flags);
}

/* The table holds (@vid, @mac) on @port with exactly @flags; with @port
 * FDB_NO_PORT, it holds nothing for (@vid, @mac). */
#define ck_assert_entry(vid, mac, port, flags) \
	ck_assert_entry_((vid), (mac), (port), (flags), __LINE__)
static void ck_assert_entry_(uint16_t vid, const uint8_t *mac, uint32_t port,
			     uint32_t flags, int line)
{
	const struct fdb_entry_info *e = dump_find(dump_table(fx_fdb), vid,
						   mac);

	if (port == FDB_NO_PORT)
		ck_assert_msg(!e, "line %d: VLAN %u %02x:..:%02x is in the "
			      "table (port %u flags %#x), want it absent",
			      line, vid, mac[0], mac[5], e ? e->port : 0,
			      e ? e->flags : 0);
	else
		ck_assert_msg(e && e->port == port && e->flags == flags,
			      "line %d: VLAN %u %02x:..:%02x: %s port %u "
			      "flags %#x, want port %u flags %#x", line, vid,
			      mac[0], mac[5], e ? "on" : "absent",
			      e ? e->port : 0, e ? e->flags : 0, port, flags);
}

/* Fixtures */

static void setup(void)
{
	mem_setup();
	ck_assert(!dp_get_vlan_filtering(fx_dp));
	ck_assert_int_eq(dp_set_vlan_filtering(fx_dp, true), 0);
	ck_assert(dp_get_vlan_filtering(fx_dp));
}

/* A fifth port, outside fx_port[] (expect_out() does not look at it);
 * dp_destroy() frees it. */
static struct dp_port *attach_extra(const char *name, uint32_t index)
{
	struct dp_port *port = dp_mem_port_create(name);

	ck_assert_ptr_nonnull(port);
	ck_assert_int_eq(dp_port_attach(fx_dp, port, true), index);
	return port;
}

/* default membership */

START_TEST(test_default_membership)
{
	struct dp_vlan_cfg cfg;
	struct tframe f, t;

	ck_assert_uint_eq(dp_get_default_pvid(fx_dp), 1);
	ck_assert_uint_eq(dp_get_vlan_protocol(fx_dp), TPID_Q);
	for (uint32_t p = 0; p < N_PORTS; p++) {
		ck_assert_members(p, "1pu");
		cfg = get_vlan(p);
		for (unsigned int i = 0; i < 8; i++) {
			ck_assert_uint_eq(cfg.ingress_qos.to[i], i);
			ck_assert_uint_eq(cfg.egress_qos.to[i], i);
		}
	}
	ck_assert_int_eq(dp_port_get_vlan(fx_dp, N_PORTS, &cfg), -ENOENT);
	ck_assert_int_eq(dp_port_set_vlan(fx_dp, N_PORTS, &cfg), -ENOENT);
	ck_assert_int_eq(dp_port_get_vlan(fx_dp, DP_MAX_PORTS, &cfg), -ENOENT);

	/* Untagged: VLAN 1, and untagged everywhere. */
	f = untagged(mac_bcast, mac_a);
	input(0, &f);
	expect_out(NULL, &f, &f, &f);
	ck_assert_entry(1, mac_a, 0, FDB_LEARNED);
	ck_assert_entry(0, mac_a, FDB_NO_PORT, 0);

	/* Tagged 1: accepted, leaves untagged. */
	f = tagged(mac_bcast, mac_b, TPID_Q, 3, false, 1);
	t = without_tag(&f);
	input(1, &f);
	expect_out(&t, NULL, &t, &t);

	/* Tagged 2: nobody is a member. */
	f = tagged(mac_bcast, mac_c, TPID_Q, 0, false, 2);
	input(2, &f);
	expect_none();
	ck_assert_port_stats(2, .rx_packets = 1, .rx_bytes = 64,
			     .tx_packets = 2, .tx_bytes = 120, .drop_vlan = 1);
	ck_assert_port_stats(0, .rx_packets = 1, .rx_bytes = 60,
			     .tx_packets = 1, .tx_bytes = 60, .flooded = 1);

	/* A port attached later joins VLAN 1 too. */
	attach_extra("mem4", 4);
	ck_assert_members(4, "1pu");
}
END_TEST

START_TEST(test_default_pvid_change)
{
	struct dp_port *p4;
	struct tframe f, t;

	set_members(2, "1p 10");	/* PVID 1, but tagged: not a default */
	set_members(3, "1u 20pu");	/* 1 untagged, but not the PVID */

	/* Something learned in VLAN 1 on every port. */
	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 1);
	input(0, &f);
	expect_out(NULL, &f, &t, &f);
	f = untagged(mac_bcast, mac_b);
	t = with_tag(&f, TPID_Q, 0, false, 1);
	input(1, &f);
	expect_out(&f, NULL, &t, &f);
	f = tagged(mac_bcast, mac_c, TPID_Q, 0, false, 1);
	t = without_tag(&f);
	input(2, &f);
	expect_out(&t, &t, NULL, &t);
	f = tagged(mac_bcast, mac_d, TPID_Q, 0, false, 1);
	t = without_tag(&f);
	input(3, &f);
	expect_out(&t, &t, &f, NULL);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, 1, FDB_LEARNED), 4);

	ck_assert_int_eq(dp_set_default_pvid(fx_dp, 10), 0);
	ck_assert_uint_eq(dp_get_default_pvid(fx_dp), 10);
	ck_assert_members(0, "10pu");
	ck_assert_members(1, "10pu");
	ck_assert_members(2, "1p 10");
	ck_assert_members(3, "1u 20pu");
	/* Ports 0 and 1 left VLAN 1: what they learned there is gone. */
	ck_assert_entry(1, mac_a, FDB_NO_PORT, 0);
	ck_assert_entry(1, mac_b, FDB_NO_PORT, 0);
	ck_assert_entry(1, mac_c, 2, FDB_LEARNED);
	ck_assert_entry(1, mac_d, 3, FDB_LEARNED);

	/* A new port joins the new default. */
	p4 = attach_extra("mem4", 4);
	ck_assert_members(4, "10pu");
	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, &f, &t, NULL);
	pop_expect(p4, &f, "port 4");
	ck_assert_uint_eq(dp_mem_port_pending(p4), 0);
	ck_assert_entry(10, mac_a, 0, FDB_LEARNED);

	/* VLAN 1 goes on among the ports still in it. */
	f = untagged(mac_bcast, mac_c);
	input(2, &f);
	expect_out(NULL, NULL, NULL, &f);

	ck_assert_int_eq(dp_set_default_pvid(fx_dp, 4095), -EINVAL);
	ck_assert_int_eq(dp_set_default_pvid(fx_dp, 0xffff), -EINVAL);
	ck_assert_uint_eq(dp_get_default_pvid(fx_dp), 10);
	ck_assert_members(0, "10pu");
	ck_assert_int_eq(dp_set_default_pvid(fx_dp, 10), 0);
	ck_assert_int_eq(dp_set_default_pvid(fx_dp, 4094), 0);
	ck_assert_members(0, "4094pu");
	ck_assert_members(1, "4094pu");
	ck_assert_members(2, "1p 10");
	ck_assert_members(3, "1u 20pu");
	ck_assert_members(4, "4094pu");
}
END_TEST

START_TEST(test_default_pvid_none)
{
	struct tframe f;

	f = untagged(mac_bcast, mac_a);
	input(0, &f);
	expect_out(NULL, &f, &f, &f);

	ck_assert_int_eq(dp_set_default_pvid(fx_dp, 0), 0);
	ck_assert_uint_eq(dp_get_default_pvid(fx_dp), 0);
	for (uint32_t p = 0; p < N_PORTS; p++)
		ck_assert_members(p, "");
	ck_assert_entry(1, mac_a, FDB_NO_PORT, 0);

	/* No PVID, no VLAN: everything is dropped. */
	f = untagged(mac_bcast, mac_a);
	input(0, &f);
	f = tagged(mac_bcast, mac_a, TPID_Q, 2, false, 0);
	input(0, &f);
	f = tagged(mac_bcast, mac_a, TPID_Q, 0, false, 1);
	input(0, &f);
	expect_none();
	ck_assert_port_stats(0, .rx_packets = 4, .rx_bytes = 60 * 2 + 64 * 2,
			     .flooded = 1, .drop_vlan = 3);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 0);

	/* A new port has no VLAN either. */
	attach_extra("mem4", 4);
	ck_assert_members(4, "");
	ck_assert_int_eq(dp_set_default_pvid(fx_dp, 0), 0);
}
END_TEST

/*
 * Linux parity (__br_vlan_set_default_pvid): a port that is already a
 * member of the new default VLAN is left alone, even when it still has
 * the old default as PVID, egress untagged - "do not conflict with user
 * configuration".
 */
START_TEST(test_default_pvid_linux_keeps_member)
{
	set_members(1, "1pu 10");
	ck_assert_int_eq(dp_set_default_pvid(fx_dp, 10), 0);
	ck_assert_members(0, "10pu");
	ck_assert_members(1, "1pu 10");
	ck_assert_members(2, "10pu");
}
END_TEST

/*
 * Linux parity (__br_vlan_set_default_pvid): from no default (0) to a
 * VLAN, every port that is not yet a member of it joins it as PVID,
 * egress untagged (the "old_pvid &&" test lets every port through).
 */
START_TEST(test_default_pvid_linux_from_none)
{
	ck_assert_int_eq(dp_set_default_pvid(fx_dp, 0), 0);
	for (uint32_t p = 0; p < N_PORTS; p++)
		ck_assert_members(p, "");
	ck_assert_int_eq(dp_set_default_pvid(fx_dp, 5), 0);
	for (uint32_t p = 0; p < N_PORTS; p++)
		ck_assert_members(p, "5pu");
}
END_TEST

/* ingress */

START_TEST(test_ingress_untagged_pvid)
{
	struct tframe f, t;

	set_members(0, "10pu");
	set_members(1, "10");
	set_members(2, "10u");
	/* port 3: 1pu */

	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, &t, &f, NULL);
	ck_assert_entry(10, mac_a, 0, FDB_LEARNED);
	ck_assert_entry(1, mac_a, FDB_NO_PORT, 0);
	ck_assert_entry(0, mac_a, FDB_NO_PORT, 0);

	/* And back, tagged 10 from the trunk: to port 0 only, untagged. */
	f = tagged(mac_a, mac_b, TPID_Q, 0, false, 10);
	t = without_tag(&f);
	input(1, &f);
	expect_out(&t, NULL, NULL, NULL);
	ck_assert_port_stats(0, .rx_packets = 1, .rx_bytes = 60,
			     .tx_packets = 1, .tx_bytes = 60, .flooded = 1);
	ck_assert_port_stats(1, .rx_packets = 1, .rx_bytes = 64,
			     .tx_packets = 1, .tx_bytes = 64);
}
END_TEST

START_TEST(test_ingress_priority_tagged)
{
	static const struct {
		uint8_t pcp;
		bool dei;
	} cases[] = { { 0, false }, { 5, true }, { 7, false }, { 1, true } };
	struct tframe f, t1, t2;

	set_members(0, "10pu");
	set_members(1, "10");
	set_members(2, "10u");

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = tagged(mac_bcast, mac_a, TPID_Q, cases[i].pcp,
			   cases[i].dei, 0);
		/* VID 0 becomes the PVID; PCP and DEI are kept. */
		t1 = retagged(&f, TPID_Q, cases[i].pcp, cases[i].dei, 10);
		t2 = without_tag(&f);
		ck_assert_uint_eq(t1.len, f.len);
		ck_assert_uint_eq(t2.len, f.len - 4);
		input(0, &f);
		expect_out(NULL, &t1, &t2, NULL);
	}
	ck_assert_entry(10, mac_a, 0, FDB_LEARNED);
	ck_assert_entry(0, mac_a, FDB_NO_PORT, 0);
	ck_assert_port_stats(0, .rx_packets = 4, .rx_bytes = 4 * 64,
			     .flooded = 4);
}
END_TEST

START_TEST(test_ingress_no_pvid)
{
	struct tframe f, t;

	set_members(0, "10");
	set_members(1, "10");
	set_members(2, "10u");

	f = untagged(mac_bcast, mac_b);
	input(0, &f);
	f = tagged(mac_bcast, mac_b, TPID_Q, 5, true, 0);
	input(0, &f);
	expect_none();
	ck_assert_port_stats(0, .rx_packets = 2, .rx_bytes = 60 + 64,
			     .drop_vlan = 2);
	/* The filter comes before learning. */
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 0);
	ck_assert_vstats(0, 0, 0, 0, 0, 0);
	ck_assert_vstats(0, 1, 0, 0, 0, 0);
	ck_assert_vstats(0, 10, 0, 0, 0, 0);

	/* Tagged in a VLAN it is a member of: passes. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 0, false, 10);
	t = without_tag(&f);
	input(0, &f);
	expect_out(NULL, &f, &t, NULL);
	ck_assert_port_stats(0, .rx_packets = 3, .rx_bytes = 60 + 2 * 64,
			     .flooded = 1, .drop_vlan = 2);
	ck_assert_entry(10, mac_a, 0, FDB_LEARNED);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 1);
}
END_TEST

START_TEST(test_ingress_not_member)
{
	struct tframe f, t;

	set_members(0, "1pu 10");
	set_members(1, "1pu 10 20");
	set_members(2, "20 30");

	f = tagged(mac_bcast, mac_b, TPID_Q, 0, false, 20);
	input(0, &f);
	f = tagged(mac_bcast, mac_b, TPID_Q, 7, true, 30);
	input(0, &f);
	f = tagged(mac_bcast, mac_b, TPID_Q, 0, false, 11);
	input(0, &f);
	expect_none();
	ck_assert_port_stats(0, .rx_packets = 3, .rx_bytes = 3 * 64,
			     .drop_vlan = 3);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 0);

	f = tagged(mac_bcast, mac_a, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, &f, NULL, NULL);
	f = tagged(mac_bcast, mac_a, TPID_Q, 0, false, 1);
	t = without_tag(&f);
	input(0, &f);
	expect_out(NULL, &t, NULL, &t);
	ck_assert_port_stats(0, .rx_packets = 5, .rx_bytes = 5 * 64,
			     .flooded = 2, .drop_vlan = 3);
}
END_TEST

START_TEST(test_ingress_vid_4095)
{
	struct dp_vlan_cfg cfg;
	struct tframe f;

	set_members(0, "1pu 10");
	set_members(1, "1pu 10");

	f = tagged(mac_bcast, mac_a, TPID_Q, 0, false, 4095);
	input(0, &f);
	expect_none();
	ck_assert_port_stats(0, .rx_packets = 1, .rx_bytes = 64,
			     .drop_vlan = 1);

	/* Even with bit 4095 set in a membership written by hand. */
	for (uint32_t p = 0; p < 2; p++) {
		cfg = get_vlan(p);
		mbr_set_bit(cfg.mbr.member, 4095);
		cfg.mbr.n_members++;
		set_vlan(p, &cfg);
	}
	input(0, &f);
	expect_none();
	ck_assert_port_stats(0, .rx_packets = 2, .rx_bytes = 128,
			     .drop_vlan = 2);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 0);
	ck_assert_vstats(0, 4095, 0, 0, 0, 0);
}
END_TEST

START_TEST(test_ingress_truncated_tag)
{
	uint64_t bytes = 0;
	struct tframe f, t;

	set_members(1, "1");	/* tagged, no PVID */

	for (uint32_t len = 14; len < 18; len++) {
		fb_start(&f, mac_bcast, mac_b);
		fb_u16(&f, TPID_Q);
		fb_payload(&f, len - 14);
		ck_assert_uint_eq(f.len, len);
		input(0, &f);
		bytes += len;
	}
	expect_none();
	ck_assert_port_stats(0, .rx_packets = 4, .rx_bytes = bytes,
			     .drop_bad_tag = 4);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 0);
	ck_assert_vstats(0, 1, 0, 0, 0, 0);
	ck_assert_vstats(0, 0, 0, 0, 0, 0);

	/* 18 bytes: a whole tag and an EtherType, nothing more. */
	fb_start(&f, mac_bcast, mac_a);
	fb_tag(&f, TPID_Q, 2, false, 1);
	fb_u16(&f, ETH_P_IP);
	ck_assert_uint_eq(f.len, 18);
	t = without_tag(&f);
	input(0, &f);
	expect_out(NULL, &f, &t, &t);
	bytes += 18;

	/* The other TPID at the same place is no tag: untagged frames. */
	for (uint32_t len = 14; len < 18; len++) {
		fb_start(&f, mac_bcast, mac_c);
		fb_u16(&f, TPID_AD);
		fb_payload(&f, len - 14);
		t = with_tag(&f, TPID_Q, 0, false, 1);
		input(0, &f);
		expect_out(NULL, &t, &f, &f);
		bytes += len;
	}
	ck_assert_port_stats(0, .rx_packets = 9, .rx_bytes = bytes,
			     .flooded = 5, .drop_bad_tag = 4);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 2);
}
END_TEST

START_TEST(test_ingress_other_tpid)
{
	struct tframe f, t;

	set_members(3, "1");	/* tagged in VLAN 1 */

	/* An 802.1ad tag on an 802.1Q switch: payload, the frame is
	 * untagged and takes the PVID. */
	f = tagged(mac_bcast, mac_a, TPID_AD, 3, false, 10);
	t = with_tag(&f, TPID_Q, 0, false, 1);
	input(0, &f);
	expect_out(NULL, &f, &f, &t);
	ck_assert_entry(1, mac_a, 0, FDB_LEARNED);
	ck_assert_entry(10, mac_a, FDB_NO_PORT, 0);

	/* QinQ, 88a8 outside and 8100 inside: untagged all the same. */
	fb_start(&f, mac_bcast, mac_b);
	fb_tag(&f, TPID_AD, 1, true, 100);
	fb_tag(&f, TPID_Q, 2, false, 10);
	fb_u16(&f, ETH_P_IP);
	fb_payload(&f, PAYLOAD);
	t = with_tag(&f, TPID_Q, 0, false, 1);
	input(1, &f);
	expect_out(&f, NULL, &f, &t);
	ck_assert_port_stats(0, .rx_packets = 1, .rx_bytes = 64,
			     .tx_packets = 1, .tx_bytes = 68, .flooded = 1);

	/* An 802.1ad switch: the roles swap. */
	ck_assert_int_eq(dp_set_vlan_protocol(fx_dp, 0x1234), -EINVAL);
	ck_assert_int_eq(dp_set_vlan_protocol(fx_dp, TPID_AD), 0);
	ck_assert_uint_eq(dp_get_vlan_protocol(fx_dp), TPID_AD);
	/* Frames classify differently now: dynamic entries are gone. */
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 0);
	set_members(0, "1pu 10");
	set_members(1, "10u");
	set_members(2, "10");

	f = tagged(mac_bcast, mac_a, TPID_AD, 3, false, 10);
	t = without_tag(&f);
	input(0, &f);
	expect_out(NULL, &t, &f, NULL);
	ck_assert_entry(10, mac_a, 0, FDB_LEARNED);

	/* An 8100 tag is payload now: untagged, VLAN 1, 88a8 added. */
	f = tagged(mac_bcast, mac_c, TPID_Q, 5, true, 10);
	t = with_tag(&f, TPID_AD, 0, false, 1);
	input(0, &f);
	expect_out(NULL, NULL, NULL, &t);
	ck_assert_entry(1, mac_c, 0, FDB_LEARNED);

	/* QinQ as an 802.1ad switch sees it: the inner 8100 tag stays. */
	fb_start(&f, mac_bcast, mac_d);
	fb_tag(&f, TPID_AD, 4, false, 10);
	fb_tag(&f, TPID_Q, 0, false, 20);
	fb_u16(&f, ETH_P_IP);
	fb_payload(&f, PAYLOAD);
	t = without_tag(&f);
	ck_assert_uint_eq(get_be16(t.data + 12), TPID_Q);
	input(0, &f);
	expect_out(NULL, &t, &f, NULL);

	/* An 802.1ad priority tag. */
	f = tagged(mac_bcast, mac_a, TPID_AD, 6, true, 0);
	t = retagged(&f, TPID_AD, 6, true, 1);
	input(0, &f);
	expect_out(NULL, NULL, NULL, &t);

	/* A truncated 88a8 tag is a bad tag now; a short 8100 frame is
	 * not. */
	fb_start(&f, mac_bcast, mac_b);
	fb_u16(&f, TPID_AD);
	fb_payload(&f, 2);
	input(0, &f);
	expect_none();
	fb_start(&f, mac_bcast, mac_b);
	fb_u16(&f, TPID_Q);
	t = with_tag(&f, TPID_AD, 0, false, 1);
	input(0, &f);
	expect_out(NULL, NULL, NULL, &t);
	ck_assert_port_stats(0, .rx_packets = 7,
			     .rx_bytes = 64 + 64 + 68 + 64 + 16 + 14 + 64,
			     .tx_packets = 1, .tx_bytes = 68, .flooded = 6,
			     .drop_bad_tag = 1);

	/* Back to 802.1Q. */
	ck_assert_int_eq(dp_set_vlan_protocol(fx_dp, TPID_Q), 0);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 0);
	f = tagged(mac_bcast, mac_a, TPID_AD, 0, false, 10);
	t = with_tag(&f, TPID_Q, 0, false, 1);
	input(0, &f);
	expect_out(NULL, NULL, NULL, &t);
}
END_TEST

/* learning and lookup per (VID, MAC) */

START_TEST(test_learn_per_vlan)
{
	struct fdb_stats fs;
	struct tframe f, t;

	set_members(0, "10pu");
	set_members(1, "20pu");
	set_members(2, "10 20");

	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, NULL, &t, NULL);
	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 20);
	input(1, &f);
	expect_out(NULL, NULL, &t, NULL);

	/* Two entries, not one that moved. */
	ck_assert_entry(10, mac_a, 0, FDB_LEARNED);
	ck_assert_entry(20, mac_a, 1, FDB_LEARNED);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 2);
	ck_assert_uint_eq(lookup_in(fx_fdb, 10, mac_a), 0);
	ck_assert_uint_eq(lookup_in(fx_fdb, 20, mac_a), 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 1, mac_a), FDB_NO_PORT);
	fdb_get_stats(fx_fdb, &fs);
	ck_assert_uint_eq(fs.n_learned, 2);
	ck_assert_uint_eq(fs.n_moved, 0);

	/* Lookup by the frame's VLAN. */
	f = tagged(mac_a, mac_c, TPID_Q, 0, false, 10);
	t = without_tag(&f);
	input(2, &f);
	expect_out(&t, NULL, NULL, NULL);
	f = tagged(mac_a, mac_c, TPID_Q, 0, false, 20);
	t = without_tag(&f);
	input(2, &f);
	expect_out(NULL, &t, NULL, NULL);
	ck_assert_entry(10, mac_c, 2, FDB_LEARNED);
	ck_assert_entry(20, mac_c, 2, FDB_LEARNED);

	/* Seen again in VLAN 10 on port 0: VLAN 20's entry stays put. */
	f = untagged(mac_c, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, NULL, &t, NULL);
	ck_assert_entry(20, mac_a, 1, FDB_LEARNED);
	fdb_get_stats(fx_fdb, &fs);
	ck_assert_uint_eq(fs.n_moved, 0);
	ck_assert_port_stats(2, .rx_packets = 2, .rx_bytes = 128,
			     .tx_packets = 3, .tx_bytes = 3 * 64);
}
END_TEST

START_TEST(test_learn_other_vlan_floods)
{
	struct tframe f, t;

	set_members(0, "10pu");
	set_members(1, "20pu");
	set_members(2, "10u");
	set_members(3, "10 20");

	f = untagged(mac_bcast, mac_b);
	t = with_tag(&f, TPID_Q, 0, false, 20);
	input(1, &f);
	expect_out(NULL, NULL, NULL, &t);
	ck_assert_entry(20, mac_b, 1, FDB_LEARNED);

	/* To b in VLAN 10, where b is unknown: flooded in VLAN 10 only. */
	f = untagged(mac_b, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, NULL, &f, &t);
	ck_assert_port_stats(0, .rx_packets = 1, .rx_bytes = 60,
			     .flooded = 1);

	/* In VLAN 20 it is known: unicast. */
	f = tagged(mac_b, mac_c, TPID_Q, 0, false, 20);
	t = without_tag(&f);
	input(3, &f);
	expect_out(NULL, &t, NULL, NULL);
	ck_assert_port_stats(3, .rx_packets = 1, .rx_bytes = 64,
			     .tx_packets = 2, .tx_bytes = 128);
}
END_TEST

/* flooding */

START_TEST(test_flood_members_only)
{
	const uint8_t *dsts[] = { mac_bcast, mac_mcast, mac_unknown };
	struct tframe f, t;

	set_members(0, "10pu 20");
	set_members(1, "10u");
	set_members(2, "20u");
	set_members(3, "1pu 30");

	for (unsigned int i = 0; i < 3; i++) {
		f = untagged(dsts[i], mac_a);
		input(0, &f);
		expect_out(NULL, &f, NULL, NULL);
		f = tagged(dsts[i], mac_a, TPID_Q, 1, false, 20);
		t = without_tag(&f);
		input(0, &f);
		expect_out(NULL, NULL, &t, NULL);
	}
	ck_assert_port_stats(0, .rx_packets = 6, .rx_bytes = 3 * 60 + 3 * 64,
			     .flooded = 6);
	ck_assert_port_stats(3);

	/* A VLAN with one member: flooded to nobody, so going nowhere. */
	f = tagged(mac_bcast, mac_c, TPID_Q, 0, false, 30);
	input(3, &f);
	expect_none();
	ck_assert_port_stats(3, .rx_packets = 1, .rx_bytes = 64,
			     .flooded = 1, .drop_no_egress = 1);
}
END_TEST

START_TEST(test_unicast_to_non_member)
{
	struct tframe f, t;

	set_members(0, "10pu");
	set_members(1, "10u");
	set_members(2, "20pu");

	/* c is known on port 2, in VLAN 10 where port 2 is no member. */
	ck_assert_int_eq(fdb_add(fx_fdb, 10, mac_c, 2, FDB_STATIC, fx_now), 0);
	f = untagged(mac_c, mac_a);
	input(0, &f);
	expect_none();
	ck_assert_port_stats(0, .rx_packets = 1, .rx_bytes = 60,
			     .drop_vlan = 1);
	ck_assert_port_stats(2);

	/* Once port 2 joins VLAN 10, it gets there. */
	set_members(2, "10 20pu");
	f = untagged(mac_c, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, NULL, &t, NULL);
	ck_assert_port_stats(0, .rx_packets = 2, .rx_bytes = 120,
			     .drop_vlan = 1);
}
END_TEST

/* egress */

START_TEST(test_egress_strip_keep_insert)
{
	uint8_t buf[FRAME_MAX + 16];
	struct tframe f, t;
	int len;

	set_members(0, "10pu 20");
	set_members(1, "10u 20u");
	set_members(2, "10 20");
	set_members(3, "20pu");

	/* Received untagged, sent tagged: exactly 4 bytes more, right
	 * after the MAC addresses. */
	f = untagged(mac_bcast, mac_a);
	input(0, &f);
	len = dp_mem_port_pop(fx_port[2], buf, sizeof(buf));
	ck_assert_int_eq(len, f.len + 4);
	ck_assert_mem_eq(buf, f.data, 12);
	ck_assert_uint_eq(buf[12], 0x81);
	ck_assert_uint_eq(buf[13], 0x00);
	ck_assert_uint_eq(buf[14], 0x00);
	ck_assert_uint_eq(buf[15], 0x0a);
	ck_assert_mem_eq(buf + 16, f.data + 12, f.len - 12);
	expect_out(NULL, &f, NULL, NULL);

	/* Received tagged: stripped where untagged, kept as it came where
	 * tagged. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 6, true, 20);
	t = without_tag(&f);
	input(0, &f);
	expect_out(NULL, &t, &f, &t);
	f = tagged(mac_a, mac_b, TPID_Q, 2, false, 10);
	t = without_tag(&f);
	input(2, &f);
	expect_out(&t, NULL, NULL, NULL);

	/* The highest VID. */
	set_members(0, "10pu 20 4094");
	set_members(2, "10 20 4094u");
	f = tagged(mac_bcast, mac_c, TPID_Q, 7, true, 4094);
	t = without_tag(&f);
	input(0, &f);
	expect_out(NULL, NULL, &t, NULL);
	f = untagged(mac_bcast, mac_c);
	input(2, &f);
	expect_none();				/* port 2 has no PVID */
	set_members(2, "10 20 4094pu");
	input(2, &f);
	t = with_tag(&f, TPID_Q, 0, false, 4094);
	ck_assert_uint_eq(get_be16(t.data + 14), 0x0ffe);
	expect_out(&t, NULL, NULL, NULL);

	/* An 802.1ad switch inserts 88a8 tags. */
	ck_assert_int_eq(dp_set_vlan_protocol(fx_dp, TPID_AD), 0);
	f = untagged(mac_bcast, mac_d);
	input(0, &f);
	len = dp_mem_port_pop(fx_port[2], buf, sizeof(buf));
	ck_assert_int_eq(len, f.len + 4);
	ck_assert_mem_eq(buf, f.data, 12);
	ck_assert_uint_eq(buf[12], 0x88);
	ck_assert_uint_eq(buf[13], 0xa8);
	ck_assert_uint_eq(buf[14], 0x00);
	ck_assert_uint_eq(buf[15], 0x0a);
	ck_assert_mem_eq(buf + 16, f.data + 12, f.len - 12);
	expect_out(NULL, &f, NULL, NULL);
}
END_TEST

START_TEST(test_egress_pcp_dei_travel)
{
	struct tframe f, t, t2;

	set_members(0, "10");
	set_members(1, "10");
	set_members(2, "10u");
	set_members(3, "10pu");

	for (uint8_t pcp = 0; pcp < 8; pcp++) {
		for (int dei = 0; dei < 2; dei++) {
			f = tagged(mac_bcast, mac_a, TPID_Q, pcp, dei, 10);
			t = without_tag(&f);
			input(0, &f);
			expect_out(NULL, &f, &t, &t);
		}
	}
	/* PCP and DEI of a priority tag travel to the PVID's tag. */
	f = tagged(mac_bcast, mac_b, TPID_Q, 4, true, 0);
	t = retagged(&f, TPID_Q, 4, true, 10);
	t2 = without_tag(&f);
	input(3, &f);
	expect_out(&t, &t, &t2, NULL);
}
END_TEST

START_TEST(test_egress_reorder_hdr_off)
{
	struct tframe f, t, t2;

	set_members(0, "10pu 20");
	set_members(1, "10pu");
	set_members(2, "10");
	set_members(3, "20pu");
	set_reorder_hdr(1, false);

	/* Tagged in: the tag stays on port 1, PCP and DEI with it. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 5, true, 10);
	input(0, &f);
	expect_out(NULL, &f, &f, NULL);

	/* Untagged in: port 1 gets its VLAN's tag all the same. */
	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, &t, &t, NULL);

	/* Priority-tagged in: the PVID with the frame's PCP. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 3, false, 0);
	t = retagged(&f, TPID_Q, 3, false, 10);
	input(0, &f);
	expect_out(NULL, &t, &t, NULL);

	/* Only the egress port's flag counts: from port 1, untagged, to
	 * an untagged member with reorder_hdr on. */
	f = untagged(mac_bcast, mac_b);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(1, &f);
	expect_out(&f, NULL, &t, NULL);

	/* A tagged member with reorder_hdr off: tagged, as always. */
	set_reorder_hdr(2, false);
	f = tagged(mac_bcast, mac_a, TPID_Q, 1, false, 10);
	t = without_tag(&f);
	set_reorder_hdr(1, true);
	input(0, &f);
	expect_out(NULL, &t, &f, NULL);

	/* Port 3, VLAN 20 untagged and reorder_hdr off: the VLAN 20 tag
	 * stays; what it sends itself is classified as before. */
	set_reorder_hdr(3, false);
	f = tagged(mac_bcast, mac_c, TPID_Q, 2, false, 20);
	input(0, &f);
	expect_out(NULL, NULL, NULL, &f);
	f = untagged(mac_bcast, mac_d);
	t2 = with_tag(&f, TPID_Q, 0, false, 20);
	input(3, &f);
	expect_out(&t2, NULL, NULL, NULL);
}
END_TEST

/* PCP maps */

START_TEST(test_qos_identity)
{
	struct tframe f;

	set_members(0, "10");
	set_members(1, "10");
	for (uint32_t p = 0; p < N_PORTS; p++) {
		struct dp_vlan_cfg cfg = get_vlan(p);

		for (unsigned int i = 0; i < 8; i++) {
			ck_assert_uint_eq(cfg.ingress_qos.to[i], i);
			ck_assert_uint_eq(cfg.egress_qos.to[i], i);
		}
	}
	for (uint8_t pcp = 0; pcp < 8; pcp++) {
		f = tagged(mac_bcast, mac_a, TPID_Q, pcp, false, 10);
		input(0, &f);
		expect_out(NULL, &f, NULL, NULL);
	}
}
END_TEST

START_TEST(test_qos_maps)
{
	struct dp_vlan_cfg cfg0, cfg1, got;
	struct tframe f, t1, t2, t3;

	set_members(0, "10pu");
	set_members(1, "10");
	set_members(2, "10");
	set_members(3, "10u");

	cfg0 = get_vlan(0);
	cfg0.ingress_qos.to[3] = 5;
	cfg0.ingress_qos.to[5] = 1;
	cfg0.egress_qos.to[7] = 0;	/* frames from port 0: not used */
	set_vlan(0, &cfg0);
	cfg1 = get_vlan(1);
	cfg1.egress_qos.to[5] = 2;
	cfg1.egress_qos.to[0] = 4;
	cfg1.egress_qos.to[1] = 6;
	cfg1.ingress_qos.to[3] = 7;	/* frames from port 0: not used */
	set_vlan(1, &cfg1);
	got = get_vlan(0);
	ck_assert_mem_eq(&got.ingress_qos, &cfg0.ingress_qos,
			 sizeof(got.ingress_qos));
	ck_assert_mem_eq(&got.egress_qos, &cfg0.egress_qos,
			 sizeof(got.egress_qos));
	ck_assert_members(0, "10pu");

	/* 3 -> 5 in; out 5 -> 2 on port 1, identity on port 2. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 3, true, 10);
	t1 = retagged(&f, TPID_Q, 2, true, 10);
	t2 = retagged(&f, TPID_Q, 5, true, 10);
	t3 = without_tag(&f);
	input(0, &f);
	expect_out(NULL, &t1, &t2, &t3);

	/* 5 -> 1 in; 1 -> 6 on port 1. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 5, false, 10);
	t1 = retagged(&f, TPID_Q, 6, false, 10);
	t2 = retagged(&f, TPID_Q, 1, false, 10);
	t3 = without_tag(&f);
	input(0, &f);
	expect_out(NULL, &t1, &t2, &t3);

	/* 4: identity both ways. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 4, false, 10);
	t3 = without_tag(&f);
	input(0, &f);
	expect_out(NULL, &f, &f, &t3);

	/* Untagged: PCP 0 in the switch; 0 -> 4 on port 1. */
	f = untagged(mac_bcast, mac_a);
	t1 = with_tag(&f, TPID_Q, 4, false, 10);
	t2 = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, &t1, &t2, &f);

	/* Priority tag: the ingress map applies to its PCP. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 3, false, 0);
	t1 = retagged(&f, TPID_Q, 2, false, 10);
	t2 = retagged(&f, TPID_Q, 5, false, 10);
	t3 = without_tag(&f);
	input(0, &f);
	expect_out(NULL, &t1, &t2, &t3);

	/* From port 1 its own ingress map: 3 -> 7; identity out of 2. */
	f = tagged(mac_bcast, mac_b, TPID_Q, 3, false, 10);
	t2 = retagged(&f, TPID_Q, 7, false, 10);
	t3 = without_tag(&f);
	input(1, &f);
	expect_out(&t3, NULL, &t2, &t3);

	/* A kept tag (reorder_hdr off) goes through the egress map too. */
	cfg0 = get_vlan(3);
	cfg0.egress_qos.to[5] = 3;
	set_vlan(3, &cfg0);
	set_reorder_hdr(3, false);
	f = tagged(mac_bcast, mac_a, TPID_Q, 3, true, 10);
	t1 = retagged(&f, TPID_Q, 2, true, 10);
	t2 = retagged(&f, TPID_Q, 5, true, 10);
	t3 = retagged(&f, TPID_Q, 3, true, 10);
	input(0, &f);
	expect_out(NULL, &t1, &t2, &t3);

	/* Identity again. */
	vlan_qos_map_init(&cfg1.ingress_qos);
	vlan_qos_map_init(&cfg1.egress_qos);
	set_vlan(1, &cfg1);
	f = tagged(mac_bcast, mac_a, TPID_Q, 5, false, 10);
	t1 = retagged(&f, TPID_Q, 1, false, 10);
	t3 = retagged(&f, TPID_Q, 1, false, 10);
	input(0, &f);
	expect_out(NULL, &t1, &t1, &t3);
}
END_TEST

/* membership changes */

START_TEST(test_membership_leave_flushes)
{
	struct tframe f, t;

	set_members(0, "10pu 20");
	set_members(1, "10pu");
	set_members(2, "20pu");
	set_members(3, "10 20");

	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, &f, NULL, &t);
	f = tagged(mac_bcast, mac_c, TPID_Q, 0, false, 20);
	t = without_tag(&f);
	input(0, &f);
	expect_out(NULL, NULL, &t, &f);
	f = untagged(mac_bcast, mac_b);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(1, &f);
	expect_out(&f, NULL, NULL, &t);
	ck_assert_int_eq(fdb_add(fx_fdb, 10, mac_d, 0, FDB_STATIC, fx_now), 0);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 4);

	/* Joining a VLAN, or changing flags, flushes nothing. */
	set_members(0, "10p 20u 30");
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 4);
	set_members(0, "10pu 20 30");
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 4);

	/* Leaving VLAN 10: port 0's dynamic entries in VLAN 10 go; its
	 * entries in VLAN 20, its static ones, and other ports' stay. */
	set_members(0, "20 30");
	ck_assert_entry(10, mac_a, FDB_NO_PORT, 0);
	ck_assert_entry(20, mac_c, 0, FDB_LEARNED);
	ck_assert_entry(10, mac_b, 1, FDB_LEARNED);
	ck_assert_entry(10, mac_d, 0, FDB_STATIC);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 3);

	/* To a in VLAN 10: unknown now, flooded where port 0 is not. */
	f = untagged(mac_a, mac_b);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(1, &f);
	expect_out(NULL, NULL, NULL, &t);
	/* To d (static, on a port that left VLAN 10): dropped. */
	f = untagged(mac_d, mac_b);
	input(1, &f);
	expect_none();
	ck_assert_port_stats(1, .rx_packets = 3, .rx_bytes = 180,
			     .tx_packets = 1, .tx_bytes = 60, .flooded = 2,
			     .drop_vlan = 1);

	/* Leaving everything. */
	set_members(0, "");
	ck_assert_entry(20, mac_c, FDB_NO_PORT, 0);
	ck_assert_entry(10, mac_d, 0, FDB_STATIC);
	ck_assert_entry(10, mac_b, 1, FDB_LEARNED);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 2);
}
END_TEST

/*
 * Leaving VLAN 10 flushes the port's dynamic entries in VLAN 10, and
 * nothing else: not an entry without FDB_STATIC that was added by hand
 * in a VLAN the port is not a member of (fdb add ... vlan 30 dynamic).
 */
START_TEST(test_membership_leave_flushes_that_vlan_only)
{
	struct tframe f, t;

	set_members(0, "10pu 20");
	set_members(1, "10 20");
	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, &t, NULL, NULL);
	ck_assert_int_eq(fdb_add(fx_fdb, 30, mac_c, 0, 0, fx_now), 0);
	ck_assert_entry(30, mac_c, 0, 0);

	set_members(0, "20");
	ck_assert_entry(10, mac_a, FDB_NO_PORT, 0);
	ck_assert_entry(30, mac_c, 0, 0);
}
END_TEST

/*
 * Frames keep flowing while membership changes: a worker plays port 0's
 * poll thread (PVID 10) and sends, in order, broadcasts (even sequence
 * numbers) and unicasts to b (odd), which is static on port 1, while the
 * test thread changes port 2's membership MC_TOGGLES times.  Port 1
 * (10 untagged) and port 3 (10 tagged) never change and must receive
 * every frame meant for them, in order and exact; port 2 flips between
 * tagged, untagged and no member of VLAN 10, and must receive only
 * broadcasts, in order, each in one of the two forms.  The worker stays
 * at most MC_AHEAD frames ahead of what the test thread has checked.
 */
#define MC_TOGGLES	200
#define MC_AHEAD	4096

struct mc_worker {
	pthread_t thread;
	struct dp *dp;
	uint64_t rng;
	int stop;
	uint32_t checked;	/* frames port 1 got, as the test saw */
	uint32_t n_sent;	/* read after the join */
};

static void mc_frame(struct tframe *f, uint32_t seq)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->data, seq & 1 ? mac_b : mac_bcast, ETH_ALEN);
	memcpy(f->data + ETH_ALEN, mac_a, ETH_ALEN);
	put_be16(f->data + 12, ETH_P_IP);
	f->data[14] = seq >> 24;
	f->data[15] = seq >> 16;
	f->data[16] = seq >> 8;
	f->data[17] = seq;
	for (uint32_t i = 18; i < 60; i++)
		f->data[i] = (uint8_t)(i + seq);
	f->len = 60;
}

static void *mc_worker_run(void *arg)
{
	struct mc_worker *w = arg;
	struct tframe fs[DP_BURST];
	struct dp_frame df[DP_BURST] = { 0 };
	uint32_t seq = 0;

	rcu_register_thread();
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		unsigned int n = 1 + rng_below(&w->rng, DP_BURST);

		if (seq - __atomic_load_n(&w->checked, __ATOMIC_ACQUIRE) >
		    MC_AHEAD) {
			rcu_quiescent();
			sched_yield();
			continue;
		}
		for (unsigned int i = 0; i < n; i++) {
			mc_frame(&fs[i], seq + i);
			df[i].data = fs[i].data;
			df[i].len = fs[i].len;
		}
		dp_input(w->dp, 0, df, n, dp_now_ms());
		rcu_quiescent();
		seq += n;
	}
	w->n_sent = seq;
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

struct mc_state {
	uint32_t next1, next3;
	long last2;
	unsigned long n2, n2_tagged;
	uint64_t bytes2;
};

static void mc_drain(struct mc_worker *w, struct mc_state *st)
{
	uint8_t buf[FRAME_MAX + 16];
	struct tframe want, tw;
	int len;

	ck_assert_uint_eq(pending(0), 0);
	while ((len = dp_mem_port_pop(fx_port[3], buf, sizeof(buf))) >= 0) {
		mc_frame(&want, st->next3);
		tw = with_tag(&want, TPID_Q, 0, false, 10);
		ck_assert_msg((uint32_t)len == tw.len &&
			      !memcmp(buf, tw.data, tw.len),
			      "port 3: broadcast %u missing or wrong",
			      st->next3);
		st->next3 += 2;
	}
	while ((len = dp_mem_port_pop(fx_port[2], buf, sizeof(buf))) >= 0) {
		bool is_tagged = len >= 18 && get_be16(buf + 12) == TPID_Q;
		const uint8_t *s = buf + (is_tagged ? 18 : 14);
		uint32_t seq = (uint32_t)s[0] << 24 | s[1] << 16 | s[2] << 8 |
			       s[3];

		ck_assert_msg(seq % 2 == 0 && (long)seq > st->last2,
			      "port 2: frame %u after %ld", seq, st->last2);
		mc_frame(&want, seq);
		if (is_tagged)
			want = with_tag(&want, TPID_Q, 0, false, 10);
		ck_assert_msg((uint32_t)len == want.len &&
			      !memcmp(buf, want.data, want.len),
			      "port 2: frame %u (%s) wrong", seq,
			      is_tagged ? "tagged" : "untagged");
		st->last2 = seq;
		st->n2++;
		st->n2_tagged += is_tagged;
		st->bytes2 += len;
	}
	/* Port 1 last: what it got tells the worker how far it may go. */
	while ((len = dp_mem_port_pop(fx_port[1], buf, sizeof(buf))) >= 0) {
		mc_frame(&want, st->next1);
		ck_assert_msg((uint32_t)len == want.len &&
			      !memcmp(buf, want.data, want.len),
			      "port 1: frame %u missing or wrong", st->next1);
		st->next1++;
	}
	__atomic_store_n(&w->checked, st->next1, __ATOMIC_RELEASE);
}

START_TEST(test_membership_concurrent)
{
	static const char *const port2[] = { "10", "10u", "", "20pu", "10pu" };
	struct mc_worker w = { .dp = fx_dp, .rng = 0xc0ffee };
	struct mc_state st = { .last2 = -1 };
	struct dp_port_info info;
	struct timespec t0, t;
	uint32_t n;

	set_members(0, "10pu");
	set_members(1, "10u");
	set_members(2, "10");
	set_members(3, "10");
	ck_assert_int_eq(fdb_add(fx_fdb, 10, mac_b, 1, FDB_STATIC, fx_now), 0);

	ck_assert_int_eq(pthread_create(&w.thread, NULL, mc_worker_run, &w),
			 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned int i = 0; i < MC_TOGGLES; i++) {
		uint32_t before = st.next1;

		set_members(2, port2[i % 5]);
		/* Some traffic between any two changes. */
		do {
			mc_drain(&w, &st);
			rcu_quiescent();
			clock_gettime(CLOCK_MONOTONIC, &t);
			ck_assert_msg(t.tv_sec - t0.tv_sec < 30, "port 1 "
				      "stopped receiving: %u frames",
				      st.next1);
		} while (st.next1 - before < 64);
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	rcu_offline();
	pthread_join(w.thread, NULL);
	rcu_thread_online();
	mc_drain(&w, &st);

	n = w.n_sent;
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(st.next1, n);
	ck_assert_uint_eq(st.next3, (n + 1) / 2 * 2);
	ck_assert_int_eq(dp_port_get_info(fx_dp, 0, &info), 0);
	ck_assert_uint_eq(info.stats.rx_packets, n);
	ck_assert_uint_eq(info.stats.drop_vlan, 0);
	ck_assert_uint_eq(info.stats.drop_same_port, 0);
	ck_assert_uint_eq(info.stats.flooded, (n + 1) / 2);
	/* Port 2's changes flushed nothing of port 0's or port 1's. */
	ck_assert_entry(10, mac_a, 0, FDB_LEARNED);
	ck_assert_entry(10, mac_b, 1, FDB_STATIC);
	ck_assert_vstats(0, 10, n, n * 60ull, 0, 0);
	ck_assert_vstats(1, 10, 0, 0, n, n * 60ull);
	ck_assert_vstats(3, 10, 0, 0, (n + 1) / 2, (n + 1) / 2 * 64ull);
	ck_assert_vstats(2, 10, 0, 0, st.n2, st.bytes2);
}
END_TEST

/*
 * A port that leaves a VLAN loses what it learned there, even while its
 * own poll thread keeps learning in that VLAN up to the change: once
 * dp_port_set_vlan() returns, no dynamic entry of the port may be left
 * in the VLAN (and none can come back: its frames are dropped now).  The
 * worker plays port 2's poll thread: frames tagged 10 from new source
 * MACs to a static MAC on port 2 itself (learned, then dropped as
 * hairpins, so that nothing queues up).
 */
#define RACE_ROUNDS	500

struct race_worker {
	pthread_t thread;
	struct dp *dp;
	int stop;
	uint32_t next_mac;
};

static const uint8_t mac_s[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x55 };

static void *race_worker_run(void *arg)
{
	struct race_worker *w = arg;
	struct tframe fs[DP_BURST];
	struct dp_frame df[DP_BURST] = { 0 };

	rcu_register_thread();
	while (!LOAD(&w->stop)) {
		for (unsigned int i = 0; i < DP_BURST; i++) {
			uint32_t m = w->next_mac++;
			uint8_t src[ETH_ALEN] = { 0x02, 0x01, m >> 24, m >> 16,
						  m >> 8, m };

			memset(&fs[i], 0, sizeof(fs[i]));
			memcpy(fs[i].data, mac_s, ETH_ALEN);
			memcpy(fs[i].data + ETH_ALEN, src, ETH_ALEN);
			put_be16(fs[i].data + 12, TPID_Q);
			put_be16(fs[i].data + 14, mk_tci(0, false, 10));
			put_be16(fs[i].data + 16, ETH_P_IP);
			fs[i].len = 64;
			df[i].data = fs[i].data;
			df[i].len = fs[i].len;
		}
		dp_input(w->dp, 2, df, DP_BURST, dp_now_ms());
		rcu_quiescent();
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

START_TEST(test_membership_leave_race)
{
	struct race_worker w = { .dp = fx_dp };
	unsigned int stale_rounds = 0, stale_entries = 0, rounds;
	struct timespec t0, t;

	set_members(2, "10");
	ck_assert_int_eq(fdb_add(fx_fdb, 10, mac_s, 2, FDB_STATIC, fx_now), 0);
	ck_assert_int_eq(pthread_create(&w.thread, NULL, race_worker_run, &w),
			 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (rounds = 0; rounds < RACE_ROUNDS; rounds++) {
		struct fdb_stats fs;
		unsigned int stale, spins = 0;

		set_members(2, "10");
		do {
			rcu_quiescent();
			fdb_get_stats(fx_fdb, &fs);
		} while (fs.n_dynamic < 32 && ++spins < 1000000);

		set_members(2, "1pu");
		stale = count_entries(2, 10, FDB_LEARNED);
		if (stale) {
			stale_rounds++;
			stale_entries += stale;
			fdb_flush(fx_fdb, 2, 10, FDB_FLUSH_DYNAMIC);
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= 3)
			break;
	}
	STORE(&w.stop, 1);
	rcu_offline();
	pthread_join(w.thread, NULL);
	rcu_thread_online();
	ck_assert_msg(!stale_rounds, "%u of %u times port 2 left VLAN 10, "
		      "dynamic entries of it in VLAN 10 survived (%u in all)",
		      stale_rounds, rounds, stale_entries);
	ck_assert_entry(10, mac_s, 2, FDB_STATIC);
}
END_TEST

/* VLAN filtering off again */

START_TEST(test_filtering_off)
{
	struct dp_vlan_cfg cfg;
	struct tframe fs[8], f, t;
	uint64_t bytes = 0;
	unsigned int n = 0;

	set_members(0, "10pu");
	set_members(1, "10 20");
	set_members(2, "20u");
	set_members(3, "10u");
	set_reorder_hdr(3, false);
	cfg = get_vlan(0);
	cfg.ingress_qos.to[3] = 5;
	set_vlan(0, &cfg);

	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, &t, NULL, &t);
	ck_assert_entry(10, mac_a, 0, FDB_LEARNED);
	ck_assert_int_eq(fdb_add(fx_fdb, 10, mac_d, 2, FDB_STATIC, fx_now), 0);

	/* The toggle forgets the dynamic entries, not the static ones. */
	ck_assert_int_eq(dp_set_vlan_filtering(fx_dp, false), 0);
	ck_assert(!dp_get_vlan_filtering(fx_dp));
	ck_assert_entry(10, mac_a, FDB_NO_PORT, 0);
	ck_assert_entry(10, mac_d, 2, FDB_STATIC);

	/* Every layout goes everywhere, byte for byte. */
	fs[n++] = untagged(mac_bcast, mac_a);
	fs[n++] = tagged(mac_bcast, mac_a, TPID_Q, 3, true, 20);
	fs[n++] = tagged(mac_bcast, mac_a, TPID_Q, 3, false, 4095);
	fs[n++] = tagged(mac_bcast, mac_a, TPID_Q, 3, false, 0);
	fs[n++] = tagged(mac_bcast, mac_a, TPID_AD, 1, false, 10);
	fb_start(&fs[n], mac_bcast, mac_a);
	fb_u16(&fs[n], TPID_Q);
	fb_payload(&fs[n++], 1);
	fb_start(&fs[n], mac_bcast, mac_a);
	fb_tag(&fs[n], TPID_Q, 0, false, 30);
	fb_tag(&fs[n], TPID_Q, 0, false, 10);
	fb_u16(&fs[n], ETH_P_IP);
	fb_payload(&fs[n++], PAYLOAD);
	for (unsigned int i = 0; i < n; i++) {
		input(0, &fs[i]);
		expect_out(NULL, &fs[i], &fs[i], &fs[i]);
		bytes += fs[i].len;
	}
	ck_assert_port_stats(0, .rx_packets = 1 + n, .rx_bytes = 60 + bytes,
			     .flooded = 1 + n);
	ck_assert_port_stats(3, .tx_packets = 1 + n, .tx_bytes = 64 + bytes);
	/* No VLAN counter moved. */
	ck_assert_vstats(0, 10, 1, 60, 0, 0);
	ck_assert_vstats(0, 20, 0, 0, 0, 0);
	ck_assert_vstats(0, 0, 0, 0, 0, 0);
	ck_assert_vstats(1, 10, 0, 0, 1, 64);
	ck_assert_vstats(1, 20, 0, 0, 0, 0);

	/* Learning in VID 0, whatever the tag said. */
	ck_assert_entry(0, mac_a, 0, FDB_LEARNED);
	ck_assert_uint_eq(count_entries(FDB_NO_PORT, FDB_ANY_VID, 0), 2);
	f = tagged(mac_a, mac_b, TPID_Q, 0, false, 30);
	input(2, &f);
	expect_out(&f, NULL, NULL, NULL);
	ck_assert_entry(0, mac_b, 2, FDB_LEARNED);
	ck_assert_entry(30, mac_b, FDB_NO_PORT, 0);

	/* On again: the VID 0 entries go. */
	ck_assert_int_eq(dp_set_vlan_filtering(fx_dp, true), 0);
	ck_assert_int_eq(dp_set_vlan_filtering(fx_dp, true), 0);
	ck_assert_entry(0, mac_a, FDB_NO_PORT, 0);
	ck_assert_entry(0, mac_b, FDB_NO_PORT, 0);
	ck_assert_entry(10, mac_d, 2, FDB_STATIC);
	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, &t, NULL, &t);
}
END_TEST

/*
 * With filtering off everything is learned in VID 0, which is no VLAN;
 * a port's VLANs may be set up before filtering is turned on, as a lab
 * script does.  Leaving a VLAN flushes the port's entries in that VLAN
 * only (DESIGN.md; br_vlan_delete), so the VID 0 ones must stay.
 */
START_TEST(test_filtering_off_vlan_change_keeps_vid0)
{
	struct tframe f;

	ck_assert_int_eq(dp_set_vlan_filtering(fx_dp, false), 0);
	f = untagged(mac_bcast, mac_a);
	input(0, &f);
	expect_out(NULL, &f, &f, &f);
	f = untagged(mac_bcast, mac_b);
	input(1, &f);
	expect_out(&f, NULL, &f, &f);
	ck_assert_entry(0, mac_a, 0, FDB_LEARNED);
	ck_assert_entry(0, mac_b, 1, FDB_LEARNED);

	set_members(0, "10pu");		/* leaves VLAN 1 */
	ck_assert_members(0, "10pu");
	ck_assert_msg(lookup_in(fx_fdb, 0, mac_a) == 0, "port 0 left VLAN 1 "
		      "with filtering off, and its VID 0 entry for "
		      "02:00:00:00:00:0a went too (lookup: %u)",
		      lookup_in(fx_fdb, 0, mac_a));
	ck_assert_entry(0, mac_b, 1, FDB_LEARNED);

	/* Known, so not flooded. */
	f = untagged(mac_a, mac_b);
	input(1, &f);
	expect_out(&f, NULL, NULL, NULL);
}
END_TEST

/* per-VLAN counters */

START_TEST(test_vlan_stats)
{
	struct dp_vlan_stats s;
	struct tframe f, t, t2;

	set_members(0, "10pu 20");
	set_members(1, "10u");
	set_members(2, "10 20");
	set_members(3, "20u");

	/* Untagged in (60 bytes), untagged and tagged out. */
	f = untagged(mac_bcast, mac_a);
	input(0, &f);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	expect_out(NULL, &f, &t, NULL);
	ck_assert_vstats(0, 10, 1, 60, 0, 0);
	ck_assert_vstats(1, 10, 0, 0, 1, 60);
	ck_assert_vstats(2, 10, 0, 0, 1, 64);

	/* Tagged in (64 bytes), kept and stripped out. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 0, false, 20);
	input(0, &f);
	t = without_tag(&f);
	expect_out(NULL, NULL, &f, &t);
	ck_assert_vstats(0, 20, 1, 64, 0, 0);
	ck_assert_vstats(2, 20, 0, 0, 1, 64);
	ck_assert_vstats(3, 20, 0, 0, 1, 60);

	/* Priority-tagged in: counted in the PVID, as received. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 4, false, 0);
	t = without_tag(&f);
	t2 = retagged(&f, TPID_Q, 4, false, 10);
	input(0, &f);
	expect_out(NULL, &t, &t2, NULL);
	ck_assert_vstats(0, 10, 2, 124, 0, 0);
	ck_assert_vstats(1, 10, 0, 0, 2, 120);
	ck_assert_vstats(2, 10, 0, 0, 2, 128);

	/* Dropped while being classified: counted in no VLAN. */
	f = tagged(mac_bcast, mac_a, TPID_Q, 0, false, 30);
	input(0, &f);
	f = tagged(mac_bcast, mac_a, TPID_Q, 0, false, 4095);
	input(0, &f);
	fb_start(&f, mac_bcast, mac_a);
	fb_u16(&f, TPID_Q);
	fb_payload(&f, 2);
	input(0, &f);
	expect_none();
	ck_assert_vstats(0, 0, 0, 0, 0, 0);
	ck_assert_vstats(0, 1, 0, 0, 0, 0);
	ck_assert_vstats(0, 30, 0, 0, 0, 0);
	ck_assert_vstats(0, 4095, 0, 0, 0, 0);
	ck_assert_vstats(0, 10, 2, 124, 0, 0);
	ck_assert_vstats(0, 20, 1, 64, 0, 0);

	/* Classified, then dropped (known on a port that is no member of
	 * the VLAN): counted in rx. */
	ck_assert_int_eq(fdb_add(fx_fdb, 10, mac_d, 3, FDB_STATIC, fx_now), 0);
	f = untagged(mac_d, mac_a);
	input(0, &f);
	expect_none();
	ck_assert_vstats(0, 10, 3, 184, 0, 0);
	ck_assert_vstats(3, 10, 0, 0, 0, 0);

	/* A write that fails counts nothing. */
	dp_mem_port_fail_tx(fx_port[1], EIO);
	f = untagged(mac_bcast, mac_a);
	t = with_tag(&f, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, NULL, &t, NULL);
	dp_mem_port_fail_tx(fx_port[1], 0);
	ck_assert_vstats(0, 10, 4, 244, 0, 0);
	ck_assert_vstats(1, 10, 0, 0, 2, 120);
	ck_assert_vstats(2, 10, 0, 0, 3, 192);

	/* Another ingress port, another VLAN. */
	f = tagged(mac_bcast, mac_c, TPID_Q, 0, false, 20);
	t = without_tag(&f);
	input(2, &f);
	expect_out(&f, NULL, NULL, &t);
	ck_assert_vstats(2, 20, 1, 64, 1, 64);
	ck_assert_vstats(0, 20, 1, 64, 1, 64);
	ck_assert_vstats(3, 20, 0, 0, 2, 120);

	/* Per port, tx over all VLANs adds up to the port's tx. */
	for (uint32_t p = 0; p < N_PORTS; p++) {
		struct dp_port_info info;
		uint64_t packets = 0, bytes = 0;

		for (uint32_t vid = 0; vid < VLAN_N_VID; vid++) {
			ck_assert_int_eq(dp_port_get_vlan_stats(fx_dp, p, vid,
								&s), 0);
			packets += s.tx_packets;
			bytes += s.tx_bytes;
		}
		ck_assert_int_eq(dp_port_get_info(fx_dp, p, &info), 0);
		ck_assert_uint_eq(packets, info.stats.tx_packets);
		ck_assert_uint_eq(bytes, info.stats.tx_bytes);
	}
	ck_assert_int_eq(dp_port_get_vlan_stats(fx_dp, 0, VLAN_N_VID, &s),
			 -ENOENT);
	ck_assert_int_eq(dp_port_get_vlan_stats(fx_dp, N_PORTS, 1, &s),
			 -ENOENT);

	/* Filtering off: no VLAN counter moves. */
	ck_assert_int_eq(dp_set_vlan_filtering(fx_dp, false), 0);
	f = untagged(mac_bcast, mac_a);
	input(0, &f);
	expect_out(NULL, &f, &f, &f);
	f = tagged(mac_bcast, mac_a, TPID_Q, 0, false, 10);
	input(0, &f);
	expect_out(NULL, &f, &f, &f);
	ck_assert_vstats(0, 0, 0, 0, 0, 0);
	ck_assert_vstats(0, 10, 4, 244, 0, 0);
	ck_assert_vstats(1, 0, 0, 0, 0, 0);
	ck_assert_vstats(1, 10, 0, 0, 2, 120);
	ck_assert_vstats(2, 10, 0, 0, 3, 192);

	/* A port attached anew starts from zero. */
	ck_assert_int_eq(dp_port_detach(fx_dp, 3), 0);
	fx_port[3] = dp_mem_port_create("mem3");
	ck_assert_ptr_nonnull(fx_port[3]);
	ck_assert_int_eq(dp_port_attach(fx_dp, fx_port[3], true), 3);
	ck_assert_vstats(3, 20, 0, 0, 0, 0);
}
END_TEST

/*
 * A randomized differential test: random frames (untagged,
 * priority-tagged, tagged with member and non-member VIDs, 4095, QinQ,
 * the other TPID, truncated tags, 18-byte frames) through random
 * memberships, reorder_hdr flags, PCP maps, static entries and both
 * VLAN protocols, against a twin that does what DESIGN.md says in the
 * plainest way: arrays of booleans for membership, a linear array for
 * the table, frames rebuilt byte by byte.  Every port's received bytes
 * are compared after every burst; counters, per-VLAN counters and the
 * table every 256 bursts and at the end.
 */
#define DIFF_SEED	0x5eedd1ff0f71a9b0ULL
#define DIFF_FRAMES	20000
#define DIFF_BURST_MAX	40
#define DIFF_MACS	6
#define TWIN_MAX	128
#define DIFF_N_OPS	6

static const uint16_t diff_vids[] = { 1, 10, 20, 30, 4094 };
#define DIFF_N_VIDS	(sizeof(diff_vids) / sizeof(diff_vids[0]))

struct twin_port {
	bool member[VLAN_N_VID];
	bool untagged[VLAN_N_VID];
	uint16_t pvid;
	bool reorder_hdr;
	uint8_t pcp_in[8];
	uint8_t pcp_out[8];
	struct dp_port_stats st;
	struct dp_vlan_stats vst[VLAN_N_VID];
};

struct twin_entry {
	uint16_t vid;
	uint8_t mac[ETH_ALEN];
	uint32_t port;
	uint32_t flags;
};

/* What one port is to receive from one burst, in order. */
struct twin_out {
	unsigned int n;
	unsigned int from[DIFF_BURST_MAX];	/* the frame's index in it */
	struct tframe f[DIFF_BURST_MAX];
};

struct twin {
	struct twin_port port[N_PORTS];
	struct twin_entry e[TWIN_MAX];
	unsigned int n;
	uint16_t tpid;
	/* What the run covered. */
	unsigned long n_bad_tag, n_no_vlan, n_prio, n_inserted, n_stripped,
		      n_kept, n_untagged_out, n_delivered, n_other_tpid;
};

static int twin_find(const struct twin *tw, uint16_t vid, const uint8_t *mac)
{
	for (unsigned int i = 0; i < tw->n; i++)
		if (tw->e[i].vid == vid && !memcmp(tw->e[i].mac, mac, ETH_ALEN))
			return i;
	return -1;
}

static void twin_remove(struct twin *tw, int i)
{
	tw->e[i] = tw->e[--tw->n];
}

static void twin_add(struct twin *tw, uint16_t vid, const uint8_t *mac,
		     uint32_t port, uint32_t flags)
{
	ck_assert_uint_lt(tw->n, TWIN_MAX);
	tw->e[tw->n].vid = vid;
	memcpy(tw->e[tw->n].mac, mac, ETH_ALEN);
	tw->e[tw->n].port = port;
	tw->e[tw->n].flags = flags;
	tw->n++;
}

static void twin_learn(struct twin *tw, uint16_t vid, const uint8_t *mac,
		       uint32_t port)
{
	int i = twin_find(tw, vid, mac);

	if (i < 0)
		twin_add(tw, vid, mac, port, FDB_LEARNED);
	else if (!(tw->e[i].flags & FDB_STICKY))
		tw->e[i].port = port;	/* static ones move too */
}

/* Frame @idx of a burst, @f, arrives on port @in. */
static void twin_input(struct twin *tw, uint32_t in, const struct tframe *f,
		       unsigned int idx, struct twin_out *out)
{
	struct twin_port *ip = &tw->port[in];
	const uint8_t *d = f->data;
	bool had_tag = false, dei = false, flood = false;
	uint16_t tag_vid = 0, vid;
	uint32_t dests = 0;
	uint8_t pcp = 0;

	ip->st.rx_packets++;
	ip->st.rx_bytes += f->len;
	if (get_be16(d + 12) == tw->tpid) {
		uint16_t tci;

		if (f->len < 18) {
			ip->st.drop_bad_tag++;
			tw->n_bad_tag++;
			return;
		}
		had_tag = true;
		tci = get_be16(d + 14);
		pcp = tci >> 13;
		dei = tci >> 12 & 1;
		tag_vid = tci & 0xfff;
	} else if (get_be16(d + 12) == TPID_Q ||
		   get_be16(d + 12) == TPID_AD) {
		tw->n_other_tpid++;
	}
	if (!had_tag || tag_vid == 0)
		vid = ip->pvid;
	else if (tag_vid != 4095 && ip->member[tag_vid])
		vid = tag_vid;
	else
		vid = 0;
	if (!vid) {
		ip->st.drop_vlan++;
		tw->n_no_vlan++;
		return;
	}
	if (had_tag && !tag_vid)
		tw->n_prio++;
	pcp = had_tag ? ip->pcp_in[pcp] : 0;
	ip->vst[vid].rx_packets++;
	ip->vst[vid].rx_bytes += f->len;

	twin_learn(tw, vid, d + 6, in);
	if (d[0] & 1) {
		flood = true;
	} else {
		int k = twin_find(tw, vid, d);

		if (k < 0) {
			flood = true;
		} else if (tw->e[k].port == in) {
			ip->st.drop_same_port++;
			return;
		} else if (!tw->port[tw->e[k].port].member[vid]) {
			ip->st.drop_vlan++;
			return;
		} else {
			dests = BIT(tw->e[k].port);
		}
	}
	if (flood) {
		ip->st.flooded++;
		for (uint32_t p = 0; p < N_PORTS; p++)
			if (p != in && tw->port[p].member[vid])
				dests |= BIT(p);
		if (!dests)
			ip->st.drop_no_egress++;
	}
	for (uint32_t p = 0; p < N_PORTS; p++) {
		struct twin_port *op = &tw->port[p];
		uint32_t hdr = had_tag ? 16 : 12;
		struct tframe *g;
		bool tag_out;

		if (!(dests & BIT(p)))
			continue;
		g = &out[p].f[out[p].n];
		out[p].from[out[p].n++] = idx;
		memset(g, 0, sizeof(*g));
		memcpy(g->data, d, 12);
		g->len = 12;
		tag_out = !op->reorder_hdr || !op->untagged[vid];
		if (tag_out) {
			put_be16(g->data + 12, tw->tpid);
			put_be16(g->data + 14,
				 mk_tci(op->pcp_out[pcp], dei, vid));
			g->len += 4;
		}
		memcpy(g->data + g->len, d + hdr, f->len - hdr);
		g->len += f->len - hdr;
		op->st.tx_packets++;
		op->st.tx_bytes += g->len;
		op->vst[vid].tx_packets++;
		op->vst[vid].tx_bytes += g->len;
		tw->n_delivered++;
		if (tag_out && !had_tag)
			tw->n_inserted++;
		else if (!tag_out && had_tag)
			tw->n_stripped++;
		else if (tag_out)
			tw->n_kept++;
		else
			tw->n_untagged_out++;
	}
}

static void diff_mac(uint64_t *rng, uint8_t mac[ETH_ALEN], bool is_src)
{
	static const uint8_t pool[ETH_ALEN] = { 0x02, 0, 0, 0, 1, 0 };
	uint32_t r = rng_below(rng, 100);

	memcpy(mac, pool, ETH_ALEN);
	if (is_src || r < 50) {
		mac[5] = rng_below(rng, DIFF_MACS);
	} else if (r < 65) {
		memcpy(mac, mac_bcast, ETH_ALEN);
	} else if (r < 75) {
		memcpy(mac, mac_mcast, ETH_ALEN);
		mac[5] = rng_next(rng);
	} else {
		mac[4] = 2;	/* never a source */
		mac[5] = rng_next(rng);
	}
}

static uint16_t diff_vid(uint64_t *rng)
{
	uint32_t r = rng_below(rng, 100);

	if (r < 85)
		return diff_vids[rng_below(rng, DIFF_N_VIDS)];
	if (r < 93)
		return 99;	/* nobody's */
	return 4095;
}

static void diff_frame(uint64_t *rng, uint16_t tpid, struct tframe *f)
{
	uint16_t other = tpid == TPID_Q ? TPID_AD : TPID_Q;
	uint8_t dst[ETH_ALEN], src[ETH_ALEN];
	uint32_t r = rng_below(rng, 100);
	uint8_t pcp = rng_below(rng, 8);
	bool dei = rng_below(rng, 2);

	diff_mac(rng, dst, false);
	diff_mac(rng, src, true);
	fb_start(f, dst, src);
	if (r < 25) {
		/* untagged */
	} else if (r < 35) {
		fb_tag(f, tpid, pcp, dei, 0);
	} else if (r < 65) {
		fb_tag(f, tpid, pcp, dei, diff_vid(rng));
	} else if (r < 72) {
		/* QinQ, with either TPID inside */
		fb_tag(f, tpid, pcp, dei, diff_vid(rng));
		fb_tag(f, rng_below(rng, 2) ? tpid : other,
		       rng_below(rng, 8), false, diff_vid(rng));
	} else if (r < 80) {
		/* the other TPID outside, maybe ours inside */
		fb_tag(f, other, pcp, dei, diff_vid(rng));
		if (rng_below(rng, 2))
			fb_tag(f, tpid, rng_below(rng, 8), false,
			       diff_vid(rng));
	} else if (r < 88) {
		/* truncated: 14..17 bytes */
		fb_u16(f, tpid);
		fb_payload(f, rng_below(rng, 4));
		return;
	} else if (r < 92) {
		/* as short, with the other TPID: no tag at all */
		fb_u16(f, other);
		fb_payload(f, rng_below(rng, 4));
		return;
	} else {
		/* exactly 18 bytes */
		fb_tag(f, tpid, pcp, dei, diff_vid(rng));
		fb_u16(f, ETH_P_IP);
		return;
	}
	fb_u16(f, ETH_P_IP);
	fb_payload(f, rng_below(rng, 61));
}

/* A random membership over diff_vids[] for port @p, on both sides. */
static void diff_set_members(struct twin *tw, uint32_t p, uint64_t *rng)
{
	struct twin_port *tp = &tw->port[p];
	struct dp_vlan_cfg cfg = get_vlan(p);
	uint16_t members[DIFF_N_VIDS];
	unsigned int n = 0;

	memset(&cfg.mbr, 0, sizeof(cfg.mbr));
	for (unsigned int i = 0; i < DIFF_N_VIDS; i++) {
		uint16_t vid = diff_vids[i];

		if (rng_below(rng, 100) >= 60)
			continue;
		mbr_set_bit(cfg.mbr.member, vid);
		if (rng_below(rng, 2))
			mbr_set_bit(cfg.mbr.untagged, vid);
		cfg.mbr.n_members++;
		members[n++] = vid;
	}
	cfg.mbr.pvid = n && rng_below(rng, 4) ? members[rng_below(rng, n)] : 0;
	set_vlan(p, &cfg);

	/* The port's dynamic entries in the VLANs it left go. */
	for (int k = tw->n - 1; k >= 0; k--) {
		const struct twin_entry *e = &tw->e[k];

		if (e->port == p && !(e->flags & FDB_STATIC) &&
		    tp->member[e->vid] && !mbr_bit(cfg.mbr.member, e->vid))
			twin_remove(tw, k);
	}
	for (unsigned int i = 0; i < DIFF_N_VIDS; i++) {
		uint16_t vid = diff_vids[i];

		tp->member[vid] = mbr_bit(cfg.mbr.member, vid);
		tp->untagged[vid] = mbr_bit(cfg.mbr.untagged, vid);
	}
	tp->pvid = cfg.mbr.pvid;
}

static void diff_qos_map(uint64_t *rng, uint8_t to[8])
{
	bool identity = rng_below(rng, 2);

	for (unsigned int i = 0; i < 8; i++)
		to[i] = identity ? i : rng_below(rng, 8);
}

static void diff_set_qos(struct twin *tw, uint32_t p, uint64_t *rng)
{
	struct twin_port *tp = &tw->port[p];
	struct dp_vlan_cfg cfg = get_vlan(p);

	diff_qos_map(rng, tp->pcp_in);
	diff_qos_map(rng, tp->pcp_out);
	memcpy(cfg.ingress_qos.to, tp->pcp_in, 8);
	memcpy(cfg.egress_qos.to, tp->pcp_out, 8);
	set_vlan(p, &cfg);
}

/* One control change between bursts, on the switch and on the twin. */
static void diff_control(struct twin *tw, uint64_t *rng, unsigned int *n_ops)
{
	uint32_t p = rng_below(rng, N_PORTS), r = rng_below(rng, 100);
	uint16_t vid = diff_vids[rng_below(rng, DIFF_N_VIDS)];
	uint8_t mac[ETH_ALEN] = { 0x02, 0, 0, 0, 1, 0 };
	int k;

	mac[5] = rng_below(rng, DIFF_MACS);
	if (r < 35) {
		diff_set_members(tw, p, rng);
		n_ops[0]++;
	} else if (r < 50) {
		tw->port[p].reorder_hdr = !tw->port[p].reorder_hdr;
		set_reorder_hdr(p, tw->port[p].reorder_hdr);
		n_ops[1]++;
	} else if (r < 65) {
		diff_set_qos(tw, p, rng);
		n_ops[2]++;
	} else if (r < 78) {
		uint32_t flags = FDB_STATIC;

		if (rng_below(rng, 2))
			flags |= FDB_STICKY;
		ck_assert_int_eq(fdb_add(fx_fdb, vid, mac, p, flags, fx_now),
				 0);
		k = twin_find(tw, vid, mac);
		if (k >= 0)
			twin_remove(tw, k);
		twin_add(tw, vid, mac, p, flags);
		n_ops[3]++;
	} else if (r < 90) {
		k = twin_find(tw, vid, mac);
		ck_assert_int_eq(fdb_del(fx_fdb, vid, mac, FDB_NO_PORT),
				 k >= 0 ? 0 : -ENOENT);
		if (k >= 0)
			twin_remove(tw, k);
		n_ops[4]++;
	} else {
		/* The other protocol: dynamic entries are forgotten. */
		tw->tpid = tw->tpid == TPID_Q ? TPID_AD : TPID_Q;
		ck_assert_int_eq(dp_set_vlan_protocol(fx_dp, tw->tpid), 0);
		for (k = tw->n - 1; k >= 0; k--)
			if (!(tw->e[k].flags & FDB_STATIC))
				twin_remove(tw, k);
		n_ops[5]++;
	}
}

static void diff_compare_state(const struct twin *tw, uint64_t seed,
			       unsigned long n_frames)
{
	struct dump *d;

	for (uint32_t p = 0; p < N_PORTS; p++) {
		const struct twin_port *tp = &tw->port[p];
		struct dp_port_info info;
		struct dp_vlan_cfg cfg = get_vlan(p);

		ck_assert_int_eq(dp_port_get_info(fx_dp, p, &info), 0);
		diff_assert(pstats_equal(&info.stats, &tp->st),
			    "port %u stats:\n  got  " PSTATS_FMT
			    "\n  twin " PSTATS_FMT, seed, n_frames, p,
			    PSTATS_ARGS(info.stats), PSTATS_ARGS(tp->st));
		diff_assert(cfg.mbr.pvid == tp->pvid, "port %u PVID %u, twin "
			    "%u", seed, n_frames, p, cfg.mbr.pvid, tp->pvid);
		for (uint32_t vid = 0; vid < VLAN_N_VID; vid++) {
			const struct dp_vlan_stats *w = &tp->vst[vid];
			struct dp_vlan_stats s;

			diff_assert(mbr_bit(cfg.mbr.member, vid) ==
				    tp->member[vid], "port %u VLAN %u "
				    "membership differs from the twin's", seed,
				    n_frames, p, vid);
			ck_assert_int_eq(dp_port_get_vlan_stats(fx_dp, p, vid,
								&s), 0);
			diff_assert(s.rx_packets == w->rx_packets &&
				    s.rx_bytes == w->rx_bytes &&
				    s.tx_packets == w->tx_packets &&
				    s.tx_bytes == w->tx_bytes,
				    "port %u VLAN %u: rx %" PRIu64 "/%" PRIu64
				    "B tx %" PRIu64 "/%" PRIu64 "B, twin rx %"
				    PRIu64 "/%" PRIu64 "B tx %" PRIu64 "/%"
				    PRIu64 "B", seed, n_frames, p, vid,
				    s.rx_packets, s.rx_bytes, s.tx_packets,
				    s.tx_bytes, w->rx_packets, w->rx_bytes,
				    w->tx_packets, w->tx_bytes);
		}
	}
	d = dump_table(fx_fdb);
	diff_assert(d->n == tw->n, "table has %zu entries, twin %u", seed,
		    n_frames, d->n, tw->n);
	for (size_t i = 0; i < d->n; i++) {
		const struct fdb_entry_info *e = &d->e[i];
		int k = twin_find(tw, e->vid, e->mac);

		diff_assert(k >= 0 && tw->e[k].port == e->port &&
			    tw->e[k].flags == e->flags, "table: VLAN %u "
			    "..:%02x on port %u flags %#x; twin: %s port %u "
			    "flags %#x", seed, n_frames, e->vid, e->mac[5],
			    e->port, e->flags, k >= 0 ? "on" : "absent",
			    k >= 0 ? tw->e[k].port : 0,
			    k >= 0 ? tw->e[k].flags : 0);
	}
}

START_TEST(test_differential)
{
	/* Static, not on the stack (they are large) nor on the heap (a
	 * failed assertion would leak them with CK_FORK=no). */
	static struct twin twin;
	static struct twin_out out[N_PORTS];
	static struct tframe fs[DIFF_BURST_MAX];
	const uint64_t seed = test_seed("DP_VLAN_TEST_SEED", DIFF_SEED);
	struct twin *tw = &twin;
	unsigned int n_ops[DIFF_N_OPS] = { 0 };
	unsigned long n_frames = 0, n_bursts = 0;
	uint64_t rng = seed;

	memset(tw, 0, sizeof(*tw));
	tw->tpid = TPID_Q;
	for (uint32_t p = 0; p < N_PORTS; p++) {
		struct twin_port *tp = &tw->port[p];

		tp->member[1] = tp->untagged[1] = true;
		tp->pvid = 1;
		tp->reorder_hdr = true;
		for (unsigned int i = 0; i < 8; i++)
			tp->pcp_in[i] = tp->pcp_out[i] = i;
		diff_set_members(tw, p, &rng);
		if (rng_below(&rng, 3) == 0) {
			tp->reorder_hdr = false;
			set_reorder_hdr(p, false);
		}
	}

	while (n_frames < DIFF_FRAMES) {
		uint32_t in = rng_below(&rng, N_PORTS);
		unsigned int n;

		/* Mostly single frames, sometimes long bursts. */
		n = rng_below(&rng, 4) ? 1 + rng_below(&rng, 4)
				       : 1 + rng_below(&rng, DIFF_BURST_MAX);
		for (unsigned int i = 0; i < n; i++)
			diff_frame(&rng, tw->tpid, &fs[i]);
		input_burst(in, fs, n);

		for (uint32_t p = 0; p < N_PORTS; p++)
			out[p].n = 0;
		for (unsigned int i = 0; i < n; i++)
			twin_input(tw, in, &fs[i], i, out);

		/* Every port received exactly what the twin says, in
		 * order. */
		for (uint32_t p = 0; p < N_PORTS; p++) {
			for (unsigned int k = 0; k < out[p].n; k++) {
				const struct tframe *want = &out[p].f[k];
				const struct tframe *f = &fs[out[p].from[k]];
				uint8_t buf[FRAME_MAX + 16];
				char h1[HEX_MAX], h2[HEX_MAX], h3[HEX_MAX];
				int len = dp_mem_port_pop(fx_port[p], buf,
							  sizeof(buf));

				diff_assert(len >= 0 &&
					    (uint32_t)len == want->len &&
					    !memcmp(buf, want->data,
						    want->len),
					    "burst %lu: frame %u of %u on port "
					    "%u (tpid %#x)\n  %s\nport %u "
					    "received %d bytes\n  %s\ntwin "
					    "wants %u bytes\n  %s", seed,
					    n_frames + out[p].from[k],
					    n_bursts, out[p].from[k], n, in,
					    tw->tpid, hex(f->data, f->len, h1),
					    p, len,
					    hex(buf, len > 0 ? (uint32_t)len
							     : 0, h2),
					    want->len,
					    hex(want->data, want->len, h3));
			}
			diff_assert(!pending(p), "burst %lu of %u frames on "
				    "port %u: port %u received %u frame(s) "
				    "the twin does not explain", seed,
				    n_frames, n_bursts, n, in, p, pending(p));
		}
		n_frames += n;
		n_bursts++;

		if (rng_below(&rng, 100) < 8)
			diff_control(tw, &rng, n_ops);
		if (n_bursts % 256 == 0)
			diff_compare_state(tw, seed, n_frames);
	}
	diff_compare_state(tw, seed, n_frames);

	/* The run covered what it is meant to. */
	for (unsigned int i = 0; i < DIFF_N_OPS; i++)
		ck_assert_msg(n_ops[i] > 0, "seed %#" PRIx64 ": control "
			      "operation %u never happened", seed, i);
	ck_assert_msg(tw->n_bad_tag && tw->n_no_vlan && tw->n_prio &&
		      tw->n_inserted && tw->n_stripped && tw->n_kept &&
		      tw->n_untagged_out && tw->n_other_tpid &&
		      tw->n_delivered > DIFF_FRAMES / 4,
		      "seed %#" PRIx64 ": bad tags %lu, no VLAN %lu, priority "
		      "tags %lu, tags inserted %lu, stripped %lu, kept %lu, "
		      "untagged out %lu, other TPID %lu, deliveries %lu",
		      seed, tw->n_bad_tag, tw->n_no_vlan, tw->n_prio,
		      tw->n_inserted, tw->n_stripped, tw->n_kept,
		      tw->n_untagged_out, tw->n_other_tpid, tw->n_delivered);
}
END_TEST

static Suite *dp_vlan_suite(void)
{
	Suite *s = suite_create("dp_vlan");
	TCase *tc;

	tc = tcase_create("default_membership");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_default_membership);
	tcase_add_test(tc, test_default_pvid_change);
	tcase_add_test(tc, test_default_pvid_none);
	tcase_add_test(tc, test_default_pvid_linux_keeps_member);
	tcase_add_test(tc, test_default_pvid_linux_from_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("ingress");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_ingress_untagged_pvid);
	tcase_add_test(tc, test_ingress_priority_tagged);
	tcase_add_test(tc, test_ingress_no_pvid);
	tcase_add_test(tc, test_ingress_not_member);
	tcase_add_test(tc, test_ingress_vid_4095);
	tcase_add_test(tc, test_ingress_truncated_tag);
	tcase_add_test(tc, test_ingress_other_tpid);
	suite_add_tcase(s, tc);

	tc = tcase_create("learn");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_learn_per_vlan);
	tcase_add_test(tc, test_learn_other_vlan_floods);
	suite_add_tcase(s, tc);

	tc = tcase_create("flood");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_flood_members_only);
	tcase_add_test(tc, test_unicast_to_non_member);
	suite_add_tcase(s, tc);

	tc = tcase_create("egress");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_egress_strip_keep_insert);
	tcase_add_test(tc, test_egress_pcp_dei_travel);
	tcase_add_test(tc, test_egress_reorder_hdr_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("qos");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_qos_identity);
	tcase_add_test(tc, test_qos_maps);
	suite_add_tcase(s, tc);

	tc = tcase_create("membership");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_membership_leave_flushes);
	tcase_add_test(tc, test_membership_leave_flushes_that_vlan_only);
	tcase_add_test(tc, test_membership_concurrent);
	tcase_add_test(tc, test_membership_leave_race);
	suite_add_tcase(s, tc);

	tc = tcase_create("filtering_off");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_filtering_off);
	tcase_add_test(tc, test_filtering_off_vlan_change_keeps_vid0);
	suite_add_tcase(s, tc);

	tc = tcase_create("vlan_stats");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_vlan_stats);
	suite_add_tcase(s, tc);

	tc = tcase_create("differential");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_differential);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return check_main(dp_vlan_suite());
}
