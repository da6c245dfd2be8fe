/*
 * check_offload.c - unit tests for the offload path: checksum completion
 * and segmentation in software (dataplane/offload.c), and the pipeline
 * carrying super-frames and partial checksums between memory ports that
 * take them (header passed on, its offsets moved with a pushed or popped
 * tag) and ports that do not (completed or cut up, and counted).
 *
 * Every frame is built by hand here, and every result is checked against
 * a naive reference written for the test: an RFC 1071 checksum over a
 * freshly built pseudo-header, the payload bytes reassembled in order,
 * the header fields one by one.
 *
 *   one case:   CK_RUN_CASE=gso build/tests/check_offload
 *   sanitizers: CK_FORK=no build-asan/tests/check_offload
 */
#include "dataplane/offload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <urcu-qsbr.h>

#include "dataplane/dp.h"
#include "fdb/fdb.h"
#include "lib/rcu.h"

#define CHECK_COMMON_FDB
#include "check_common.h"

#define MAX_FRAME 70000

/* ---- building frames ---- */

struct tframe {
	uint8_t data[MAX_FRAME];
	uint32_t len;
	struct virtio_net_hdr vnet;
	uint32_t l3, l4, hdr_len, payload_len;
};

enum l4_kind { L4_TCP, L4_UDP };

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1071, the plain way: 16-bit big-endian words, end-around carry. */
static uint16_t ref_sum(const uint8_t *p, uint32_t len, uint32_t start)
{
	uint32_t sum = start;

	for (uint32_t i = 0; i < len; i++) {
		sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
		if (sum > 0xffff)
			sum = (sum & 0xffff) + 1;
	}
	return (uint16_t)sum;
}

/* The pseudo-header sum (not complemented) for @l4_len bytes of @proto. */
static uint16_t ref_pseudo(const uint8_t *frame, uint32_t l3, bool v6,
			   uint8_t proto, uint32_t l4_len)
{
	uint8_t ph[40];
	uint32_t n;

	memset(ph, 0, sizeof(ph));
	if (v6) {
		memcpy(ph, frame + l3 + 8, 32);
		ph[34] = l4_len >> 8;
		ph[35] = l4_len & 0xff;
		ph[39] = proto;
		n = 40;
	} else {
		memcpy(ph, frame + l3 + 12, 8);
		ph[9] = proto;
		ph[10] = l4_len >> 8;
		ph[11] = l4_len & 0xff;
		n = 12;
	}
	return ref_sum(ph, n, 0);
}

/* Whether the L4 checksum of a frame verifies. */
static bool l4_csum_ok(const uint8_t *frame, uint32_t len, uint32_t l3,
		       uint32_t l4, bool v6, uint8_t proto)
{
	uint16_t s = ref_pseudo(frame, l3, v6, proto, len - l4);

	return ref_sum(frame + l4, len - l4, s) == 0xffff;
}

static bool ip4_csum_ok(const uint8_t *frame, uint32_t l3)
{
	return ref_sum(frame + l3, (frame[l3] & 0xf) * 4u, 0) == 0xffff;
}

/*
 * A TCP or UDP frame of @payload_len bytes as a host's stack hands it to
 * a tap with offloads on: partial checksum (the pseudo-header sum in the
 * field), and with @mss a GSO super-frame.  @n_tags 802.1Q tags after the
 * MACs; TCP gets 12 bytes of options (timestamps), as Linux sends.
 */
static void build(struct tframe *f, bool v6, enum l4_kind kind,
		  uint32_t payload_len, uint16_t mss, int n_tags,
		  uint8_t tcp_flags)
{
	uint8_t *d = f->data;
	uint32_t off = 12, l4_len, thlen = kind == L4_TCP ? 32 : 8;
	uint8_t proto = kind == L4_TCP ? 6 : 17;

	memset(f, 0, sizeof(*f));
	memcpy(d, mac_b, 6);
	memcpy(d + 6, mac_a, 6);
	for (int t = 0; t < n_tags; t++, off += 4) {
		put_be16(d + off, 0x8100);
		put_be16(d + off + 2, (uint16_t)(10 + t));
	}
	put_be16(d + off, v6 ? 0x86dd : 0x0800);
	f->l3 = off + 2;
	if (v6) {
		d[f->l3] = 0x60;
		put_be16(d + f->l3 + 4, (uint16_t)(thlen + payload_len));
		d[f->l3 + 6] = proto;
		d[f->l3 + 7] = 64;
		for (int i = 0; i < 16; i++) {
			d[f->l3 + 8 + i] = (uint8_t)(0x20 + i);
			d[f->l3 + 24 + i] = (uint8_t)(0x40 + i);
		}
		f->l4 = f->l3 + 40;
	} else {
		d[f->l3] = 0x45;
		put_be16(d + f->l3 + 2, (uint16_t)(20 + thlen + payload_len));
		put_be16(d + f->l3 + 4, 0x1234);	/* id */
		d[f->l3 + 6] = 0x40;		/* DF */
		d[f->l3 + 8] = 64;
		d[f->l3 + 9] = proto;
		memcpy(d + f->l3 + 12, (uint8_t[]){ 198, 18, 0, 1 }, 4);
		memcpy(d + f->l3 + 16, (uint8_t[]){ 198, 18, 0, 2 }, 4);
		put_be16(d + f->l3 + 10, (uint16_t)~ref_sum(d + f->l3, 20, 0));
		f->l4 = f->l3 + 20;
	}
	if (kind == L4_TCP) {
		put_be16(d + f->l4, 40000);
		put_be16(d + f->l4 + 2, 5201);
		memcpy(d + f->l4 + 4, (uint8_t[]){ 0xff, 0xff, 0xf0, 0x00 },
		       4);			/* seq: wraps mid-frame */
		memcpy(d + f->l4 + 8, (uint8_t[]){ 0, 0, 0x10, 0 }, 4);
		d[f->l4 + 12] = (thlen / 4) << 4;
		d[f->l4 + 13] = tcp_flags;
		put_be16(d + f->l4 + 14, 502);
		d[f->l4 + 20] = 1;		/* NOP, NOP, timestamps */
		d[f->l4 + 21] = 1;
		d[f->l4 + 22] = 8;
		d[f->l4 + 23] = 10;
	} else {
		put_be16(d + f->l4, 40000);
		put_be16(d + f->l4 + 2, 5201);
		put_be16(d + f->l4 + 4, (uint16_t)(8 + payload_len));
	}
	f->hdr_len = f->l4 + thlen;
	for (uint32_t i = 0; i < payload_len; i++)
		d[f->hdr_len + i] = (uint8_t)(i * 7 + i / 251);
	f->payload_len = payload_len;
	f->len = f->hdr_len + payload_len;
	l4_len = f->len - f->l4;
	/* What the stack leaves in the field: the pseudo-header sum. */
	put_be16(d + f->l4 + (kind == L4_TCP ? 16 : 6),
		 ref_pseudo(d, f->l3, v6, proto, l4_len));
	f->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	f->vnet.csum_start = f->l4;
	f->vnet.csum_offset = kind == L4_TCP ? 16 : 6;
	if (mss) {
		f->vnet.gso_type = kind == L4_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4 :
				   v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
					VIRTIO_NET_HDR_GSO_TCPV4;
		f->vnet.gso_size = mss;
		f->vnet.hdr_len = f->hdr_len;
	}
}

/* ---- collecting segments ---- */

struct segs {
	unsigned int n;
	uint32_t len[64];
	uint8_t *data[64];
};

static int collect(const uint8_t *seg, uint32_t seg_len, void *arg)
{
	struct segs *s = arg;

	ck_assert_uint_lt(s->n, 64);
	s->data[s->n] = malloc(seg_len);
	ck_assert_ptr_nonnull(s->data[s->n]);
	memcpy(s->data[s->n], seg, seg_len);
	s->len[s->n] = seg_len;
	s->n++;
	return 0;
}

static void segs_free(struct segs *s)
{
	for (unsigned int i = 0; i < s->n; i++)
		free(s->data[i]);
	s->n = 0;
}

/*
 * Check that @s is @orig cut correctly: as many segments as mss says,
 * headers rewritten field by field, checksums valid, the payload intact
 * and in order.
 */
static void check_segments(const struct tframe *orig, const struct segs *s,
			   bool v6, enum l4_kind kind)
{
	uint32_t mss = orig->vnet.gso_size, off = 0;
	unsigned int want = (orig->payload_len + mss - 1) / mss;
	uint8_t proto = kind == L4_TCP ? 6 : 17;

	ck_assert_uint_eq(s->n, want);
	for (unsigned int i = 0; i < s->n; i++) {
		const uint8_t *d = s->data[i];
		uint32_t plen = s->len[i] - orig->hdr_len;

		ck_assert_uint_eq(plen, i + 1 < s->n ? mss :
					orig->payload_len - (s->n - 1) * mss);
		/* Everything before the IP header is as it was. */
		ck_assert_mem_eq(d, orig->data, orig->l3);
		if (v6) {
			ck_assert_uint_eq(get_be16(d + orig->l3 + 4),
					  s->len[i] - orig->l3 - 40);
		} else {
			ck_assert_uint_eq(get_be16(d + orig->l3 + 2),
					  s->len[i] - orig->l3);
			ck_assert_uint_eq(get_be16(d + orig->l3 + 4),
					  (uint16_t)(0x1234 + i));
			ck_assert(ip4_csum_ok(d, orig->l3));
		}
		if (kind == L4_TCP) {
			uint8_t flags = orig->data[orig->l4 + 13];

			ck_assert_uint_eq(get32(d + orig->l4 + 4),
					  (uint32_t)(0xfffff000u + off));
			if (i > 0)
				flags &= ~0x80;		/* CWR */
			if (i + 1 < s->n)
				flags &= ~0x09;		/* FIN, PSH */
			ck_assert_uint_eq(d[orig->l4 + 13], flags);
			/* Options travel in every segment. */
			ck_assert_mem_eq(d + orig->l4 + 20,
					 orig->data + orig->l4 + 20, 12);
		} else {
			ck_assert_uint_eq(get_be16(d + orig->l4 + 4),
					  s->len[i] - orig->l4);
		}
		ck_assert_msg(l4_csum_ok(d, s->len[i], orig->l3, orig->l4, v6,
					 proto),
			      "segment %u: bad L4 checksum", i);
		ck_assert_mem_eq(d + orig->hdr_len,
				 orig->data + orig->hdr_len + off, plen);
		off += plen;
	}
	ck_assert_uint_eq(off, orig->payload_len);
}

/* ---- checksum ---- */

START_TEST(test_csum_add_matches_reference)
{
	uint8_t buf[1001];

	for (uint32_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	for (uint32_t len = 0; len <= sizeof(buf); len += 37) {
		uint16_t want = (uint16_t)~ref_sum(buf, len, 0);

		ck_assert_uint_eq(dp_csum_fold(dp_csum_add(0, buf, len)),
				  want);
	}
	/* All ones: the sum is 0xffff, its complement 0. */
	memset(buf, 0xff, 64);
	ck_assert_uint_eq(dp_csum_fold(dp_csum_add(0, buf, 64)), 0);
}
END_TEST

START_TEST(test_sw_csum_tcp4)
{
	static struct tframe f;

	build(&f, false, L4_TCP, 1000, 0, 0, 0x18);
	ck_assert(!l4_csum_ok(f.data, f.len, f.l3, f.l4, false, 6));
	ck_assert_int_eq(dp_sw_csum(f.data, f.len, &f.vnet), 0);
	ck_assert(l4_csum_ok(f.data, f.len, f.l3, f.l4, false, 6));
}
END_TEST

START_TEST(test_sw_csum_udp6_odd_length_tagged)
{
	static struct tframe f;

	build(&f, true, L4_UDP, 333, 0, 2, 0);
	ck_assert_int_eq(dp_sw_csum(f.data, f.len, &f.vnet), 0);
	ck_assert(l4_csum_ok(f.data, f.len, f.l3, f.l4, true, 17));
	ck_assert_uint_ne(get_be16(f.data + f.l4 + 6), 0);
}
END_TEST

START_TEST(test_sw_csum_bad_offsets)
{
	static struct tframe f;

	build(&f, false, L4_TCP, 10, 0, 0, 0);
	f.vnet.csum_start = f.len - 1;
	f.vnet.csum_offset = 0;
	ck_assert_int_eq(dp_sw_csum(f.data, f.len, &f.vnet), -EINVAL);
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
}
END_TEST

/* ---- segmentation ---- */

static void gso_case(bool v6, enum l4_kind kind, uint32_t payload,
		     uint16_t mss, int n_tags, uint8_t flags)
{
	static struct tframe f;
	static uint8_t seg[DP_SEG_MAX];
	struct segs s = { 0 };
	int n;

	build(&f, v6, kind, payload, mss, n_tags, flags);
	ck_assert(dp_offload_valid(&f.vnet, f.data, f.len));
	n = dp_sw_gso(f.data, f.len, &f.vnet, seg, collect, &s);
	ck_assert_int_eq(n, (int)((payload + mss - 1) / mss));
	check_segments(&f, &s, v6, kind);
	segs_free(&s);
}

START_TEST(test_gso_tcp4)
{
	/* PSH|ACK|FIN|CWR: FIN and PSH on the last, CWR on the first. */
	gso_case(false, L4_TCP, 64000, 1448, 0, 0x99);
}
END_TEST

START_TEST(test_gso_tcp4_uneven_and_exact)
{
	gso_case(false, L4_TCP, 1448 * 3 + 1, 1448, 0, 0x10);
	gso_case(false, L4_TCP, 1448 * 3, 1448, 0, 0x18);
	gso_case(false, L4_TCP, 100, 1448, 0, 0x18);	/* one segment */
}
END_TEST

START_TEST(test_gso_tcp6)
{
	gso_case(true, L4_TCP, 30001, 1428, 0, 0x18);
}
END_TEST

START_TEST(test_gso_udp4_udp6)
{
	gso_case(false, L4_UDP, 9000, 1472, 0, 0);
	gso_case(true, L4_UDP, 9001, 1452, 0, 0);
}
END_TEST

START_TEST(test_gso_tagged)
{
	gso_case(false, L4_TCP, 20000, 1448, 1, 0x18);
	gso_case(true, L4_TCP, 20000, 1448, 2, 0x18);
}
END_TEST

START_TEST(test_gso_invalid)
{
	static struct tframe f;
	static uint8_t seg[DP_SEG_MAX];
	struct segs s = { 0 };

	build(&f, false, L4_TCP, 5000, 1448, 0, 0x18);
	/* gso_size 0 */
	f.vnet.gso_size = 0;
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	ck_assert_int_eq(dp_sw_gso(f.data, f.len, &f.vnet, seg, collect, &s),
			 -EINVAL);
	/* UFO: not ours to do */
	f.vnet.gso_size = 1448;
	f.vnet.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	/* TCPv6 type on an IPv4 frame */
	f.vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	ck_assert_int_eq(dp_sw_gso(f.data, f.len, &f.vnet, seg, collect, &s),
			 -EINVAL);
	/* truncated in the TCP header */
	f.vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	ck_assert_int_eq(dp_sw_gso(f.data, f.l4 + 10, &f.vnet, seg, collect,
				   &s), -EINVAL);
	/* not IP at all */
	put_be16(f.data + 12, 0x88b5);
	ck_assert_int_eq(dp_sw_gso(f.data, f.len, &f.vnet, seg, collect, &s),
			 -EINVAL);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_offload_needs)
{
	struct virtio_net_hdr vh = { 0 };

	ck_assert_uint_eq(dp_offload_needs(&vh), 0);
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	ck_assert_uint_eq(dp_offload_needs(&vh), DP_OFFLOAD_CSUM);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	ck_assert_uint_eq(dp_offload_needs(&vh), DP_OFFLOAD_CSUM |
			  DP_OFFLOAD_TSO4 | DP_OFFLOAD_TSO_ECN);
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	ck_assert_uint_eq(dp_offload_needs(&vh),
			  DP_OFFLOAD_CSUM | DP_OFFLOAD_TSO6);
	vh.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	ck_assert_uint_eq(dp_offload_needs(&vh),
			  DP_OFFLOAD_CSUM | DP_OFFLOAD_USO);
}
END_TEST

/* ---- the pipeline, over memory ports ---- */

/*
 * Port 0: where frames come in; port 1: takes every offload; port 2:
 * takes none.  With @vlan, filtering is on: port 0 is an access port of
 * VLAN 10, ports 1 and 2 trunks (VLAN 10 tagged).
 */
static struct fdb *fx_fdb;
static struct dp *fx_dp;
static struct dp_port *fx_port[3];
static uint8_t fx_buf[MAX_FRAME];

static void setup(void)
{
	rcu_register_thread();
	fx_fdb = fdb_create(0);
	ck_assert_ptr_nonnull(fx_fdb);
	fx_dp = dp_create(fx_fdb);
	ck_assert_ptr_nonnull(fx_dp);
	fx_port[0] = dp_mem_port_create_offload("in", DP_OFFLOAD_ALL);
	fx_port[1] = dp_mem_port_create_offload("all", DP_OFFLOAD_ALL);
	fx_port[2] = dp_mem_port_create("none");
	for (uint32_t p = 0; p < 3; p++) {
		ck_assert_ptr_nonnull(fx_port[p]);
		ck_assert_int_eq(dp_port_attach(fx_dp, fx_port[p], true), p);
	}
}

static void teardown(void)
{
	dp_destroy(fx_dp);
	fdb_destroy(fx_fdb);
	rcu_tsan_quiescent();
	rcu_unregister_thread();
}

static void set_vlan(uint32_t p, uint16_t vid, bool pvid, bool untagged)
{
	struct dp_vlan_cfg vc;

	ck_assert_int_eq(dp_port_get_vlan(fx_dp, p, &vc), 0);
	vlan_port_del(&vc.mbr, 1);
	ck_assert_int_eq(vlan_port_add(&vc.mbr, vid, pvid, untagged), 0);
	ck_assert_int_eq(dp_port_set_vlan(fx_dp, p, &vc), 0);
}

static void input(uint32_t in, const struct tframe *f)
{
	struct dp_frame df = { .len = f->len, .vnet = f->vnet };

	df.data = malloc(f->len);
	ck_assert_ptr_nonnull(df.data);
	memcpy(df.data, f->data, f->len);
	dp_input(fx_dp, in, &df, 1, 1000);
	rcu_quiescent();
	free(df.data);
}

static struct dp_port_stats stats(uint32_t p)
{
	struct dp_port_info info;

	ck_assert_int_eq(dp_port_get_info(fx_dp, p, &info), 0);
	return info.stats;
}

START_TEST(test_dp_gso_passes_whole)
{
	static struct tframe f;
	struct virtio_net_hdr vh;
	int len;

	build(&f, false, L4_TCP, 60000, 1448, 0, 0x18);
	input(0, &f);		/* unknown unicast: flooded to 1 and 2 */
	len = dp_mem_port_pop_vnet(fx_port[1], fx_buf, sizeof(fx_buf), &vh);
	ck_assert_int_eq(len, (int)f.len);
	ck_assert_mem_eq(fx_buf, f.data, f.len);
	ck_assert_mem_eq(&vh, &f.vnet, sizeof(vh));
	ck_assert_int_eq(dp_mem_port_pop(fx_port[1], fx_buf, sizeof(fx_buf)),
			 -EAGAIN);
	ck_assert_uint_eq(stats(1).tx_packets, 1);
	ck_assert_uint_eq(stats(1).tx_sw_gso, 0);
}
END_TEST

/* An MTU holds back frames, not super-frames: those are cut to size by
 * whoever sends them on (the receiving stack, or our segmentation). */
START_TEST(test_dp_mtu_spares_gso)
{
	static struct tframe f;
	int len;

	ck_assert_int_eq(dp_port_set_mtu(fx_dp, 1, 1500), 0);
	ck_assert_int_eq(dp_port_set_mtu(fx_dp, 2, 1500), 0);
	build(&f, false, L4_TCP, 60000, 1448, 0, 0x18);
	input(0, &f);
	len = dp_mem_port_pop(fx_port[1], fx_buf, sizeof(fx_buf));
	ck_assert_int_eq(len, (int)f.len);
	ck_assert_uint_eq(stats(1).tx_drop_mtu, 0);
	/* Port 2 takes no offloads: its segments fit the MTU. */
	ck_assert_uint_eq(stats(2).tx_packets, (60000 + 1447) / 1448);
	ck_assert_uint_eq(stats(2).tx_drop_mtu, 0);
	/* A plain frame over it is held back, on both. */
	build(&f, false, L4_UDP, 1500, 0, 0, 0);
	f.vnet.flags = 0;
	input(0, &f);
	ck_assert_uint_eq(stats(1).tx_drop_mtu, 1);
	ck_assert_uint_eq(stats(2).tx_drop_mtu, 1);
}
END_TEST

START_TEST(test_dp_gso_cut_for_port_without)
{
	static struct tframe f;
	struct segs s = { 0 };
	struct virtio_net_hdr vh;
	int len;

	build(&f, false, L4_TCP, 10000, 1448, 0, 0x18);
	input(0, &f);
	while ((len = dp_mem_port_pop_vnet(fx_port[2], fx_buf, sizeof(fx_buf),
					   &vh)) >= 0) {
		struct virtio_net_hdr zero = { 0 };

		ck_assert_mem_eq(&vh, &zero, sizeof(vh));
		collect(fx_buf, len, &s);
	}
	check_segments(&f, &s, false, L4_TCP);
	ck_assert_uint_eq(stats(2).tx_packets, s.n);
	ck_assert_uint_eq(stats(2).tx_sw_gso, 1);
	ck_assert_uint_eq(stats(2).tx_bytes,
			  f.len + (s.n - 1) * (uint64_t)f.hdr_len);
	segs_free(&s);
}
END_TEST

START_TEST(test_dp_csum_completed_for_port_without)
{
	static struct tframe f;
	struct virtio_net_hdr vh;
	int len;

	build(&f, true, L4_UDP, 501, 0, 0, 0);
	input(0, &f);
	len = dp_mem_port_pop_vnet(fx_port[2], fx_buf, sizeof(fx_buf), &vh);
	ck_assert_int_eq(len, (int)f.len);
	ck_assert_uint_eq(vh.flags, 0);
	ck_assert(l4_csum_ok(fx_buf, len, f.l3, f.l4, true, 17));
	ck_assert_uint_eq(stats(2).tx_sw_csum, 1);
	/* The port that takes partial checksums got the frame as it came:
	 * completing it for port 2 did not touch the shared buffer. */
	len = dp_mem_port_pop_vnet(fx_port[1], fx_buf, sizeof(fx_buf), &vh);
	ck_assert_int_eq(len, (int)f.len);
	ck_assert_mem_eq(fx_buf, f.data, f.len);
	ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
}
END_TEST

START_TEST(test_dp_offload_off_port_flag)
{
	static struct tframe f;
	int n = 0;

	/* A port that can but is told not to: cut up, counted. */
	ck_assert_int_eq(dp_port_set_flags(fx_dp, 1, DP_PORT_OFFLOAD, 0), 0);
	build(&f, false, L4_TCP, 4000, 1448, 0, 0x18);
	input(0, &f);
	while (dp_mem_port_pop(fx_port[1], fx_buf, sizeof(fx_buf)) >= 0)
		n++;
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(stats(1).tx_sw_gso, 1);
	/* A port that cannot is not told it can. */
	ck_assert_int_eq(dp_port_set_flags(fx_dp, 2, DP_PORT_OFFLOAD,
					   DP_PORT_OFFLOAD), -EOPNOTSUPP);
}
END_TEST

START_TEST(test_dp_vlan_push_moves_offsets)
{
	static struct tframe f, tagged;
	struct virtio_net_hdr vh;
	int len;

	ck_assert_int_eq(dp_set_vlan_filtering(fx_dp, true), 0);
	set_vlan(0, 10, true, true);
	set_vlan(1, 10, false, false);
	set_vlan(2, 10, false, false);
	build(&f, false, L4_TCP, 20000, 1448, 0, 0x18);
	build(&tagged, false, L4_TCP, 20000, 1448, 1, 0x18);
	input(0, &f);
	/* Port 1: the same super-frame, tagged, offsets 4 bytes on. */
	len = dp_mem_port_pop_vnet(fx_port[1], fx_buf, sizeof(fx_buf), &vh);
	ck_assert_int_eq(len, (int)f.len + 4);
	ck_assert_mem_eq(fx_buf, tagged.data, tagged.len);
	ck_assert_uint_eq(vh.csum_start, f.vnet.csum_start + 4);
	ck_assert_uint_eq(vh.hdr_len, f.vnet.hdr_len + 4);
	ck_assert_uint_eq(vh.gso_size, f.vnet.gso_size);
	ck_assert_uint_eq(vh.gso_type, f.vnet.gso_type);
	/* Port 2: segments, each tagged and valid. */
	{
		struct segs s = { 0 };

		while ((len = dp_mem_port_pop(fx_port[2], fx_buf,
					      sizeof(fx_buf))) >= 0)
			collect(fx_buf, len, &s);
		check_segments(&tagged, &s, false, L4_TCP);
		segs_free(&s);
	}
}
END_TEST

START_TEST(test_dp_vlan_pop_moves_offsets)
{
	static struct tframe f, untagged;
	struct virtio_net_hdr vh;
	int len;

	ck_assert_int_eq(dp_set_vlan_filtering(fx_dp, true), 0);
	set_vlan(0, 10, false, false);		/* trunk in */
	set_vlan(1, 10, true, true);		/* access out */
	set_vlan(2, 10, true, true);
	build(&f, true, L4_TCP, 20000, 1448, 1, 0x18);
	build(&untagged, true, L4_TCP, 20000, 1448, 0, 0x18);
	input(0, &f);
	len = dp_mem_port_pop_vnet(fx_port[1], fx_buf, sizeof(fx_buf), &vh);
	ck_assert_int_eq(len, (int)untagged.len);
	ck_assert_mem_eq(fx_buf, untagged.data, untagged.len);
	ck_assert_uint_eq(vh.csum_start, f.vnet.csum_start - 4);
	ck_assert_uint_eq(vh.hdr_len, f.vnet.hdr_len - 4);
	{
		struct segs s = { 0 };

		while ((len = dp_mem_port_pop(fx_port[2], fx_buf,
					      sizeof(fx_buf))) >= 0)
			collect(fx_buf, len, &s);
		check_segments(&untagged, &s, true, L4_TCP);
		segs_free(&s);
	}
}
END_TEST

START_TEST(test_dp_bad_header_dropped)
{
	static struct tframe f;

	build(&f, false, L4_TCP, 3000, 1448, 0, 0x18);
	f.vnet.gso_type = VIRTIO_NET_HDR_GSO_UDP;	/* UFO */
	input(0, &f);
	build(&f, false, L4_TCP, 3000, 1448, 0, 0x18);
	f.vnet.csum_start = (uint16_t)(f.len - 1);	/* out of the frame */
	input(0, &f);
	build(&f, false, L4_TCP, 3000, 1448, 0, 0x18);
	f.vnet.hdr_len = (uint16_t)(f.len + 100);	/* past the end */
	input(0, &f);
	build(&f, false, L4_TCP, 3000, 1448, 0, 0x18);
	f.vnet.csum_start = 2;				/* in the MACs */
	input(0, &f);
	ck_assert_uint_eq(stats(0).drop_bad_offload, 4);
	ck_assert_uint_eq(dp_mem_port_pending(fx_port[1]), 0);
	ck_assert_uint_eq(dp_mem_port_pending(fx_port[2]), 0);
	/* Nothing learned from them either. */
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, mac_a), FDB_NO_PORT);
}
END_TEST

START_TEST(test_dp_segment_errors_counted)
{
	static struct tframe f;

	/* A header that passes ingress checks but is not TCP inside. */
	build(&f, false, L4_TCP, 3000, 1448, 0, 0x18);
	f.data[f.l3 + 9] = 17;
	input(0, &f);
	ck_assert_uint_eq(stats(2).tx_errors, 1);
	ck_assert_uint_eq(stats(2).tx_packets, 0);
	ck_assert_uint_eq(dp_mem_port_pending(fx_port[2]), 0);
	/* The port that takes it whole still got it: the switch does not
	 * judge what the receiving stack will. */
	ck_assert_uint_eq(dp_mem_port_pending(fx_port[1]), 1);
}
END_TEST

/*
 * An IPv6 super-frame whose csum_start points into the IPv6 header: taken
 * for where TCP starts, it made a header shorter than the IPv6 one, and
 * each segment's checksum read the 40-byte header past the segment's end
 * (a heap overflow when the buffer holds just the segment).  Refused now,
 * without touching the buffer.
 */
START_TEST(test_gso_v6_csum_start_in_ip_header)
{
	static struct tframe f;
	struct segs s = { 0 };
	uint8_t *seg;

	build(&f, true, L4_TCP, 64, 8, 0, 0x18);
	f.vnet.csum_start = f.l3;
	f.data[f.l3 + 12] = 0x50;	/* "doff" 5 there: 20 bytes */
	seg = malloc(f.l3 + 20 + 8);	/* what such a segment takes */
	ck_assert_ptr_nonnull(seg);
	ck_assert_int_eq(dp_sw_gso(f.data, f.len, &f.vnet, seg, collect, &s),
			 -EINVAL);
	ck_assert_uint_eq(s.n, 0);
	free(seg);
}
END_TEST

/* A well-formed super-frame needs no room past each segment. */
START_TEST(test_gso_tight_segment_buffer)
{
	static struct tframe f;
	struct segs s = { 0 };
	uint8_t *seg;

	build(&f, true, L4_TCP, 1000, 100, 1, 0x18);
	seg = malloc(f.hdr_len + 100);
	ck_assert_ptr_nonnull(seg);
	ck_assert_int_eq(dp_sw_gso(f.data, f.len, &f.vnet, seg, collect, &s),
			 10);
	check_segments(&f, &s, true, L4_TCP);
	segs_free(&s);
	free(seg);
}
END_TEST

/* What virtio_net_hdr_to_skb() refuses, we refuse. */
START_TEST(test_offload_valid_rules)
{
	static struct tframe f;

	build(&f, false, L4_TCP, 3000, 1448, 1, 0x18);
	ck_assert(dp_offload_valid(&f.vnet, f.data, f.len));
	f.vnet.hdr_len = (uint16_t)(f.len + 1);
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	build(&f, false, L4_TCP, 3000, 1448, 1, 0x18);
	f.vnet.csum_start = 14;		/* inside the tag */
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	f.vnet.csum_start = 0;		/* inside the MACs */
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	/* The TCP header must fit after csum_start. */
	f.vnet.csum_start = (uint16_t)(f.len - 19);
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	build(&f, false, L4_TCP, 3000, 1448, 0, 0x18);
	f.vnet.csum_offset = 6;		/* not TCP's checksum */
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	build(&f, false, L4_TCP, 3000, 0xffff, 0, 0x18);	/* GSO_BY_FRAGS */
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	/* A frame cut inside its tags has no Ethernet header to speak of. */
	build(&f, false, L4_TCP, 10, 0, 2, 0x18);
	ck_assert(dp_offload_valid(&f.vnet, f.data, f.len));
	ck_assert(!dp_offload_valid(&f.vnet, f.data, 15));
	/* USO: the UDP checksum, to be completed, at most 128 segments. */
	build(&f, true, L4_UDP, 9000, 1452, 0, 0);
	ck_assert(dp_offload_valid(&f.vnet, f.data, f.len));
	f.vnet.flags = 0;
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	build(&f, true, L4_UDP, 9000, 1452, 0, 0);
	f.vnet.csum_offset = 16;
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	build(&f, false, L4_UDP, 9000, 64, 0, 0);	/* 141 segments */
	ck_assert(!dp_offload_valid(&f.vnet, f.data, f.len));
	/* A tap says the checksum was checked: that passes. */
	build(&f, false, L4_TCP, 100, 0, 0, 0x18);
	f.vnet.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	ck_assert(dp_offload_valid(&f.vnet, f.data, f.len));
}
END_TEST

static Suite *offload_suite(void)
{
	Suite *s = suite_create("offload");
	TCase *tc;

	tc = tcase_create("csum");
	tcase_add_test(tc, test_csum_add_matches_reference);
	tcase_add_test(tc, test_sw_csum_tcp4);
	tcase_add_test(tc, test_sw_csum_udp6_odd_length_tagged);
	tcase_add_test(tc, test_sw_csum_bad_offsets);
	tcase_add_test(tc, test_offload_needs);
	suite_add_tcase(s, tc);

	tc = tcase_create("gso");
	tcase_add_test(tc, test_gso_tcp4);
	tcase_add_test(tc, test_gso_tcp4_uneven_and_exact);
	tcase_add_test(tc, test_gso_tcp6);
	tcase_add_test(tc, test_gso_udp4_udp6);
	tcase_add_test(tc, test_gso_tagged);
	tcase_add_test(tc, test_gso_invalid);
	tcase_add_test(tc, test_gso_v6_csum_start_in_ip_header);
	tcase_add_test(tc, test_gso_tight_segment_buffer);
	tcase_add_test(tc, test_offload_valid_rules);
	suite_add_tcase(s, tc);

	tc = tcase_create("pipeline");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dp_gso_passes_whole);
	tcase_add_test(tc, test_dp_mtu_spares_gso);
	tcase_add_test(tc, test_dp_gso_cut_for_port_without);
	tcase_add_test(tc, test_dp_csum_completed_for_port_without);
	tcase_add_test(tc, test_dp_offload_off_port_flag);
	tcase_add_test(tc, test_dp_vlan_push_moves_offsets);
	tcase_add_test(tc, test_dp_vlan_pop_moves_offsets);
	tcase_add_test(tc, test_dp_bad_header_dropped);
	tcase_add_test(tc, test_dp_segment_errors_counted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(offload_suite());
}
