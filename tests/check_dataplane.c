/*
 * check_dataplane.c - unit tests for dataplane/: the per-frame pipeline
 * driven through memory ports (sanity, link-local, learn, move, hairpin,
 * flood classes, port down, egress errors, counters, detach, bursts), a
 * randomized differential test against a deliberately naive twin of the
 * rules (DESIGN.md "Frame semantics"), and two concurrency tests.
 *
 * The checked fixture registers the test thread with liburcu (QSBR) and
 * leaves it online for the whole test, creates the table, the data plane
 * and four memory ports mem0..mem3 (indexes 0..3, up).  Frames go in with
 * dp_input() from outside any read-side section, and the test announces a
 * quiescent state after each call, as a poll thread does (rcu_quiescent()
 * and rcu_offline() of fdb/rcu_tsan.h, so that TSan sees the edge from a
 * reader's quiescent state to a reclaim).  Control calls
 * (dp_port_*, dp_set_*, fdb_add/del/dump) are made online, outside a
 * read-side section, as dp.h and fdb.h ask.  Teardown destroys the data
 * plane before the table: dp_destroy() flushes entries into the table.
 *
 * Every delivery test asserts exactly which ports received which bytes,
 * and that no port holds anything else.
 *
 *   one case:     CK_RUN_CASE=differential build/tests/check_dataplane
 *   another seed: DP_TEST_SEED=0x1234 CK_RUN_CASE=differential ...
 *   sanitizers:   CK_FORK=no (see the Makefile's asan/tsan targets)
 */
#include "dataplane/dp.h"
#include "lib/rcu.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <urcu-qsbr.h>

#define FRAME_MAX	128
#define CHECK_COMMON_DP
#include "check_common.h"

#define ALL_PORTS	((1u << N_PORTS) - 1)

static const uint8_t mac_mcast6[ETH_ALEN] = { 0x33, 0x33, 0, 0, 0, 0x01 };
static const uint8_t mac_zero[ETH_ALEN] = { 0 };

/* Helpers */

/* 01:80:c2:00:00:XX, in one of 16 per-thread buffers used in turn. */
static const uint8_t *mac_ll(uint8_t x)
{
	static __thread uint8_t mac[16][ETH_ALEN];
	static __thread unsigned int next;
	uint8_t *m = mac[next++ % 16];

	m[0] = 0x01;
	m[1] = 0x80;
	m[2] = 0xc2;
	m[3] = 0;
	m[4] = 0;
	m[5] = x;
	return m;
}

static const char *mask_str(unsigned int mask, char buf[32])
{
	size_t n = 0;

	n += snprintf(buf + n, 32 - n, "{");
	for (unsigned int p = 0; p < 8; p++)
		if (mask & BIT(p))
			n += snprintf(buf + n, 32 - n, "%s%u",
				      n > 1 ? "," : "", p);
	snprintf(buf + n, 32 - n, "}");
	return buf;
}

/*
 * A frame @dst <- @src of @len bytes.  The EtherType bytes carry a
 * sequence number (the pipeline does not look at them), the payload a
 * pattern, so that every frame a test sends is different.  For a runt the
 * header is still written, past @len, where the pipeline must not look.
 */
static void mkframe_seq(struct tframe *f, const uint8_t *dst,
			const uint8_t *src, uint32_t len, uint16_t seq)
{
	ck_assert_uint_le(len, FRAME_MAX);
	memset(f, 0, sizeof(*f));
	memcpy(f->data, dst, ETH_ALEN);
	memcpy(f->data + ETH_ALEN, src, ETH_ALEN);
	f->data[12] = seq >> 8;
	f->data[13] = seq;
	for (uint32_t i = DP_ETH_HLEN; i < FRAME_MAX; i++)
		f->data[i] = (uint8_t)(i * 7 + seq);
	f->len = len;
}

static struct tframe mkframe(const uint8_t *dst, const uint8_t *src,
			     uint32_t len)
{
	struct tframe f;

	mkframe_seq(&f, dst, src, len, fx_seq++);
	return f;
}

/* Build and send one frame; returns it for the checks. */
static struct tframe send_frame(uint32_t in, const uint8_t *dst,
				const uint8_t *src, uint32_t len)
{
	struct tframe f = mkframe(dst, src, len);

	input(in, &f);
	return f;
}

/*
 * Every port in @mask received @f, once, and no port holds anything
 * else: the exact delivery of one frame.
 */
#define expect_only(f, mask) expect_only_((f), (mask), __LINE__)
static void expect_only_(const struct tframe *f, unsigned int mask, int line)
{
	unsigned int got = 0, extra = 0;
	char want_s[32], got_s[32], extra_s[32], m1[18], m2[18];

	for (uint32_t p = 0; p < N_PORTS; p++) {
		uint8_t buf[FRAME_MAX + 16];
		int len;

		if (!(mask & BIT(p)) || !fx_port[p])
			continue;
		len = dp_mem_port_pop(fx_port[p], buf, sizeof(buf));
		if (len < 0)
			continue;
		ck_assert_msg((uint32_t)len == f->len &&
			      !memcmp(buf, f->data, f->len),
			      "line %d: port %u received a %d-byte frame, not "
			      "the %u-byte frame %s <- %s sent", line, p, len,
			      f->len, mac_str(f->data, m1),
			      mac_str(f->data + 6, m2));
		got |= BIT(p);
	}
	for (uint32_t p = 0; p < N_PORTS; p++)
		if (pending(p))
			extra |= BIT(p);
	ck_assert_msg(got == mask && !extra,
		      "line %d: frame %s <- %s (%u bytes): want it on ports "
		      "%s, got it on %s, other frames pending on %s", line,
		      mac_str(f->data, m1), mac_str(f->data + 6, m2), f->len,
		      mask_str(mask, want_s), mask_str(got, got_s),
		      mask_str(extra, extra_s));
}

#define expect_nothing() expect_nothing_(__LINE__)
static void expect_nothing_(int line)
{
	for (uint32_t p = 0; p < N_PORTS; p++)
		ck_assert_msg(!pending(p), "line %d: port %u holds %u "
			      "frame(s), want none", line, p, pending(p));
}

static void drain(uint32_t p)
{
	uint8_t buf[FRAME_MAX + 16];

	while (fx_port[p] && dp_mem_port_pop(fx_port[p], buf, sizeof(buf)) >= 0)
		;
}

static uint32_t lookup(const uint8_t *mac)
{
	return lookup_in(dp_fdb(fx_dp), 0, mac);
}

static void set_flags(uint32_t p, uint32_t mask, uint32_t value)
{
	ck_assert_int_eq(dp_port_set_flags(fx_dp, p, mask, value), 0);
	ck_assert_uint_eq(port_flags(p) & mask, value & mask);
}

/* Every table counter, exactly; the ones not named must be 0. */
#define ck_assert_fdb_stats(...) \
	ck_assert_fdb_stats_in(dp_fdb(fx_dp), __VA_ARGS__)

/* Fixtures */

static void setup(void)
{
	mem_setup();
	ck_assert_ptr_eq(dp_fdb(fx_dp), fx_fdb);
}

/* runt */

START_TEST(test_runt_dropped)
{
	const uint32_t lens[] = { 0, 1, 6, 12, 13 };
	uint64_t bytes = 0;

	/* Unicast to a known MAC, and broadcast: neither leaves. */
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_b, 2, FDB_STATIC, fx_now), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		send_frame(0, mac_bcast, mac_a, lens[i]);
		send_frame(0, mac_b, mac_a, lens[i]);
		bytes += 2 * lens[i];
		expect_nothing();
	}
	ck_assert_port_stats(0, .rx_packets = 10, .rx_bytes = bytes,
			     .drop_runt = 10);
	for (uint32_t p = 1; p < N_PORTS; p++)
		ck_assert_port_stats(p, .rx_packets = 0);
	/* 13 bytes hold the whole source MAC: still not learned. */
	ck_assert_uint_eq(lookup(mac_a), FDB_NO_PORT);
	ck_assert_fdb_stats(.n_entries = 1);
}
END_TEST

START_TEST(test_min_frame_forwarded)
{
	struct tframe f;

	f = send_frame(0, mac_bcast, mac_a, DP_ETH_HLEN);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	ck_assert_uint_eq(lookup(mac_a), 0);
	f = send_frame(1, mac_a, mac_b, DP_ETH_HLEN);
	expect_only(&f, BIT(0));
	ck_assert_port_stats(0, .rx_packets = 1, .rx_bytes = 14,
			     .tx_packets = 1, .tx_bytes = 14, .flooded = 1);
	ck_assert_port_stats(1, .rx_packets = 1, .rx_bytes = 14,
			     .tx_packets = 1, .tx_bytes = 14);
	ck_assert_fdb_stats(.n_learned = 2, .n_entries = 2, .n_dynamic = 2);
}
END_TEST

/* source MAC */

START_TEST(test_src_multicast_dropped)
{
	const uint8_t *srcs[] = { mac_mcast, mac_mcast6, mac_bcast,
				  mac_ll(0x00) };
	unsigned int n = 0;

	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_b, 2, FDB_STATIC, fx_now), 0);
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		send_frame(1, mac_bcast, srcs[i], 60);
		send_frame(1, mac_b, srcs[i], 60);
		send_frame(1, mac_unknown, srcs[i], 60);
		n += 3;
		expect_nothing();
		ck_assert_uint_eq(lookup(srcs[i]), FDB_NO_PORT);
	}
	ck_assert_port_stats(1, .rx_packets = n, .rx_bytes = 60 * n,
			     .drop_src = n);
	ck_assert_fdb_stats(.n_entries = 1);
}
END_TEST

START_TEST(test_src_zero_dropped)
{
	send_frame(3, mac_bcast, mac_zero, 60);
	send_frame(3, mac_a, mac_zero, 60);
	send_frame(3, mac_ll(0x02), mac_zero, 60);
	expect_nothing();
	ck_assert_uint_eq(lookup(mac_zero), FDB_NO_PORT);
	ck_assert_port_stats(3, .rx_packets = 3, .rx_bytes = 180,
			     .drop_src = 3);
	ck_assert_fdb_stats(.n_entries = 0);
}
END_TEST

/* link-local 01:80:c2:00:00:0X */

START_TEST(test_ll_pause_dropped_not_learned)
{
	send_frame(0, mac_ll(0x01), mac_a, 60);
	expect_nothing();
	ck_assert_uint_eq(lookup(mac_a), FDB_NO_PORT);
	ck_assert_port_stats(0, .rx_packets = 1, .rx_bytes = 60,
			     .drop_link_local = 1);
	ck_assert_fdb_stats(.n_entries = 0);
}
END_TEST

START_TEST(test_ll_pause_never_forwarded)
{
	/* Not even when the mask names it. */
	ck_assert_int_eq(dp_set_group_fwd_mask(fx_dp, 0xffff), 0);
	ck_assert_uint_eq(dp_get_group_fwd_mask(fx_dp), 0xffff);
	send_frame(0, mac_ll(0x01), mac_a, 60);
	expect_nothing();
	ck_assert_uint_eq(lookup(mac_a), FDB_NO_PORT);
	ck_assert_port_stats(0, .rx_packets = 1, .rx_bytes = 60,
			     .drop_link_local = 1);
}
END_TEST

START_TEST(test_ll_bpdu_flooded)
{
	struct tframe f = send_frame(2, mac_ll(0x00), mac_c, 60);

	expect_only(&f, BIT(0) | BIT(1) | BIT(3));
	ck_assert_uint_eq(lookup(mac_c), 2);
	ck_assert_port_stats(2, .rx_packets = 1, .rx_bytes = 60,
			     .flooded = 1);
	ck_assert_port_stats(0, .tx_packets = 1, .tx_bytes = 60);
	ck_assert_fdb_stats(.n_learned = 1, .n_entries = 1, .n_dynamic = 1);
}
END_TEST

START_TEST(test_ll_consumed_but_learned)
{
	/* LACP (:02) and LLDP (:0e) are consumed, but teach the source. */
	send_frame(0, mac_ll(0x02), mac_a, 60);
	expect_nothing();
	ck_assert_uint_eq(lookup(mac_a), 0);
	send_frame(1, mac_ll(0x0e), mac_b, 60);
	expect_nothing();
	ck_assert_uint_eq(lookup(mac_b), 1);
	/* Every other group address of the range, too (mask 0). */
	for (uint8_t x = 0x03; x <= 0x0f; x++) {
		send_frame(2, mac_ll(x), mac_c, 60);
		expect_nothing();
	}
	ck_assert_uint_eq(lookup(mac_c), 2);
	ck_assert_port_stats(0, .rx_packets = 1, .rx_bytes = 60,
			     .drop_link_local = 1);
	ck_assert_port_stats(1, .rx_packets = 1, .rx_bytes = 60,
			     .drop_link_local = 1);
	ck_assert_port_stats(2, .rx_packets = 13, .rx_bytes = 13 * 60,
			     .drop_link_local = 13);
	ck_assert_fdb_stats(.n_learned = 3, .n_entries = 3, .n_dynamic = 3);
	/* And a learned MAC is then reachable by unicast. */
	{
		struct tframe f = send_frame(3, mac_a, mac_d, 60);

		expect_only(&f, BIT(0));
	}
}
END_TEST

START_TEST(test_ll_group_fwd_mask)
{
	struct tframe f;

	ck_assert_uint_eq(dp_get_group_fwd_mask(fx_dp), 0);
	ck_assert_int_eq(dp_set_group_fwd_mask(fx_dp, 1u << 0x0e), 0);
	ck_assert_uint_eq(dp_get_group_fwd_mask(fx_dp), 1u << 0x0e);
	f = send_frame(1, mac_ll(0x0e), mac_b, 60);
	expect_only(&f, BIT(0) | BIT(2) | BIT(3));
	ck_assert_uint_eq(lookup(mac_b), 1);
	/* Only the named group. */
	send_frame(1, mac_ll(0x02), mac_b, 60);
	send_frame(1, mac_ll(0x0d), mac_b, 60);
	expect_nothing();
	ck_assert_port_stats(1, .rx_packets = 3, .rx_bytes = 180,
			     .flooded = 1, .drop_link_local = 2);
	/* A forwarded group is multicast: mcast_flood applies. */
	set_flags(3, DP_PORT_MCAST_FLOOD, 0);
	f = send_frame(1, mac_ll(0x0e), mac_b, 60);
	expect_only(&f, BIT(0) | BIT(2));
	/* Back to 0: consumed again. */
	ck_assert_int_eq(dp_set_group_fwd_mask(fx_dp, 0), 0);
	send_frame(1, mac_ll(0x0e), mac_b, 60);
	expect_nothing();
}
END_TEST

/*
 * As the kernel's bridge with vlan_protocol 802.1ad and VLAN filtering
 * (br_recalculate_fwd_mask(): BR_GROUPFWD_8021AD): the Nearest Customer
 * Bridge groups 01:80:C2:00:00:0B, 0C, 0D and 0F cross a provider bridge
 * whatever group_fwd_mask says; the others, as with 802.1Q.  Without VLAN
 * filtering, or with 802.1Q, they are consumed.
 */
START_TEST(test_ll_8021ad_customer_groups)
{
	struct tframe f;

	ck_assert_int_eq(dp_set_vlan_protocol(fx_dp, VLAN_TPID_8021AD), 0);
	for (uint8_t x = 0x02; x <= 0x0f; x++)
		send_frame(0, mac_ll(x), mac_a, 60);
	expect_nothing();
	ck_assert_int_eq(dp_set_vlan_filtering(fx_dp, true), 0);
	for (uint8_t x = 0x02; x <= 0x0f; x++) {
		f = send_frame(0, mac_ll(x), mac_a, 60);
		if (x == 0x0b || x == 0x0c || x == 0x0d || x == 0x0f)
			expect_only(&f, BIT(1) | BIT(2) | BIT(3));
		else
			expect_nothing();
	}
	send_frame(0, mac_ll(0x01), mac_a, 60);		/* pause: never */
	expect_nothing();
	/* group_fwd_mask still adds to it. */
	ck_assert_int_eq(dp_set_group_fwd_mask(fx_dp, 1u << 0x0e), 0);
	f = send_frame(0, mac_ll(0x0e), mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	ck_assert_uint_eq(dp_get_group_fwd_mask(fx_dp), 1u << 0x0e);
	/* 802.1Q again: 0B is consumed. */
	ck_assert_int_eq(dp_set_vlan_protocol(fx_dp, VLAN_TPID_8021Q), 0);
	send_frame(0, mac_ll(0x0b), mac_a, 60);
	expect_nothing();
}
END_TEST

START_TEST(test_ll_range_boundary)
{
	/* 01:80:c2:00:00:10 and 01:80:c2:00:01:00 are ordinary multicast. */
	static const uint8_t near1[ETH_ALEN] = { 1, 0x80, 0xc2, 0, 1, 0 };
	static const uint8_t near2[ETH_ALEN] = { 1, 0x80, 0xc2, 0, 0, 0x21 };
	struct tframe f;

	f = send_frame(0, mac_ll(0x10), mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	f = send_frame(0, near1, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	f = send_frame(0, near2, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	ck_assert_port_stats(0, .rx_packets = 3, .rx_bytes = 180,
			     .flooded = 3);
}
END_TEST

/* learning */

START_TEST(test_learn_and_forward)
{
	struct tframe f;

	f = send_frame(0, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	ck_assert_uint_eq(lookup(mac_a), 0);
	ck_assert_fdb_stats(.n_learned = 1, .n_entries = 1, .n_dynamic = 1);

	f = send_frame(1, mac_a, mac_b, 60);
	expect_only(&f, BIT(0));
	ck_assert_uint_eq(lookup(mac_b), 1);
	f = send_frame(0, mac_b, mac_a, 60);
	expect_only(&f, BIT(1));
	/* Seen again on the same port: a refresh, not a new entry. */
	ck_assert_fdb_stats(.n_learned = 2, .n_entries = 2, .n_dynamic = 2);
	ck_assert_port_stats(0, .rx_packets = 2, .rx_bytes = 120,
			     .tx_packets = 1, .tx_bytes = 60, .flooded = 1);
	ck_assert_port_stats(1, .rx_packets = 1, .rx_bytes = 60,
			     .tx_packets = 2, .tx_bytes = 120);
	ck_assert_port_stats(2, .tx_packets = 1, .tx_bytes = 60);
	ck_assert_port_stats(3, .tx_packets = 1, .tx_bytes = 60);
}
END_TEST

START_TEST(test_learn_port_flag_off)
{
	struct tframe f;

	set_flags(0, DP_PORT_LEARNING, 0);
	f = send_frame(0, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	ck_assert_uint_eq(lookup(mac_a), FDB_NO_PORT);
	for (int i = 0; i < 3; i++) {
		f = send_frame(1, mac_a, mac_b, 60);
		expect_only(&f, BIT(0) | BIT(2) | BIT(3));
		f = send_frame(0, mac_b, mac_a, 60);
		expect_only(&f, BIT(1));
	}
	/* The other ports still learn. */
	ck_assert_uint_eq(lookup(mac_b), 1);
	ck_assert_fdb_stats(.n_learned = 1, .n_entries = 1, .n_dynamic = 1);
	ck_assert_port_stats(1, .rx_packets = 3, .rx_bytes = 180,
			     .tx_packets = 4, .tx_bytes = 240, .flooded = 3);
	/* And back on. */
	set_flags(0, DP_PORT_LEARNING, DP_PORT_LEARNING);
	send_frame(0, mac_b, mac_a, 60);
	drain(1);
	ck_assert_uint_eq(lookup(mac_a), 0);
	f = send_frame(1, mac_a, mac_b, 60);
	expect_only(&f, BIT(0));
}
END_TEST

START_TEST(test_learn_switch_off)
{
	struct tframe f;

	ck_assert_int_eq(dp_set_learning(fx_dp, false), 0);
	for (uint32_t p = 0; p < N_PORTS; p++) {
		static const uint8_t *srcs[] = { mac_a, mac_b, mac_c, mac_d };

		f = send_frame(p, mac_bcast, srcs[p], 60);
		expect_only(&f, ALL_PORTS & ~BIT(p));
		ck_assert_uint_eq(lookup(srcs[p]), FDB_NO_PORT);
	}
	f = send_frame(1, mac_a, mac_b, 60);
	expect_only(&f, BIT(0) | BIT(2) | BIT(3));
	/* Link-local frames do not teach it either. */
	send_frame(0, mac_ll(0x02), mac_a, 60);
	expect_nothing();
	ck_assert_fdb_stats(.n_entries = 0);

	ck_assert_int_eq(dp_set_learning(fx_dp, true), 0);
	send_frame(0, mac_ll(0x02), mac_a, 60);
	ck_assert_uint_eq(lookup(mac_a), 0);
	ck_assert_fdb_stats(.n_learned = 1, .n_entries = 1, .n_dynamic = 1);
}
END_TEST

/* move */

START_TEST(test_move)
{
	struct tframe f;

	send_frame(0, mac_bcast, mac_a, 60);
	for (uint32_t p = 1; p < N_PORTS; p++)
		drain(p);
	ck_assert_uint_eq(lookup(mac_a), 0);
	f = send_frame(2, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(0) | BIT(1) | BIT(3));
	ck_assert_uint_eq(lookup(mac_a), 2);
	ck_assert_fdb_stats(.n_learned = 1, .n_moved = 1, .n_entries = 1,
			    .n_dynamic = 1);
	f = send_frame(1, mac_a, mac_b, 60);
	expect_only(&f, BIT(2));
	f = send_frame(3, mac_a, mac_c, 60);
	expect_only(&f, BIT(2));
	/* And back. */
	send_frame(0, mac_b, mac_a, 60);
	drain(1);
	f = send_frame(1, mac_a, mac_b, 60);
	expect_only(&f, BIT(0));
	ck_assert_fdb_stats(.n_learned = 3, .n_moved = 2, .n_entries = 3,
			    .n_dynamic = 3);
}
END_TEST

START_TEST(test_move_sticky_static)
{
	struct tframe f;

	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_a, 0,
				 FDB_STATIC | FDB_STICKY, fx_now), 0);
	/* A frame from A on port 2 is still forwarded... */
	f = send_frame(2, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(0) | BIT(1) | BIT(3));
	/* ...but A stays on port 0. */
	ck_assert_uint_eq(lookup(mac_a), 0);
	f = send_frame(1, mac_a, mac_b, 60);
	expect_only(&f, BIT(0));
	ck_assert_fdb_stats(.n_learned = 1, .n_entries = 2, .n_dynamic = 1);
	ck_assert_uint_eq(count_entries_in(fx_fdb, 0, FDB_ANY_VID,
					   FDB_STATIC | FDB_STICKY), 1);
}
END_TEST

/* hairpin */

START_TEST(test_same_port_dropped)
{
	struct tframe f;

	send_frame(0, mac_bcast, mac_a, 60);
	for (uint32_t p = 1; p < N_PORTS; p++)
		drain(p);
	send_frame(0, mac_a, mac_b, 60);
	expect_nothing();
	/* The source is still learned. */
	ck_assert_uint_eq(lookup(mac_b), 0);
	/* A static entry on the ingress port: the same. */
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_c, 3, FDB_STATIC, fx_now), 0);
	send_frame(3, mac_c, mac_d, 60);
	expect_nothing();
	/* A frame to itself. */
	send_frame(2, mac_unknown, mac_unknown, 60);
	expect_nothing();
	ck_assert_port_stats(0, .rx_packets = 2, .rx_bytes = 120,
			     .flooded = 1, .drop_same_port = 1);
	ck_assert_port_stats(3, .rx_packets = 1, .rx_bytes = 60,
			     .tx_packets = 1, .tx_bytes = 60,
			     .drop_same_port = 1);
	ck_assert_port_stats(2, .rx_packets = 1, .rx_bytes = 60,
			     .tx_packets = 1, .tx_bytes = 60,
			     .drop_same_port = 1);
	/* Unicast elsewhere still works. */
	f = send_frame(1, mac_b, mac_c, 60);
	expect_only(&f, BIT(0));
}
END_TEST

/* flooding */

START_TEST(test_flood_classes)
{
	const uint8_t *dsts[] = { mac_unknown, mac_bcast, mac_mcast,
				  mac_mcast6 };

	for (uint32_t in = 0; in < N_PORTS; in++) {
		for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
			struct tframe f = send_frame(in, dsts[i], mac_a, 64);

			expect_only(&f, ALL_PORTS & ~BIT(in));
		}
	}
	for (uint32_t p = 0; p < N_PORTS; p++)
		ck_assert_port_stats(p, .rx_packets = 4, .rx_bytes = 256,
				     .tx_packets = 12, .tx_bytes = 12 * 64,
				     .flooded = 4);
	/* mac_a moved around: 1 learned, 3 moves. */
	ck_assert_fdb_stats(.n_learned = 1, .n_moved = 3, .n_entries = 1,
			    .n_dynamic = 1);
}
END_TEST

/* Port 2 without @flag: only the frames of that class skip it. */
static void check_one_flood_flag(uint32_t flag, const uint8_t *excluded_dst)
{
	const uint8_t *dsts[] = { mac_unknown, mac_bcast, mac_mcast };

	set_flags(2, flag, 0);
	ck_assert_uint_eq(port_flags(2),
			  (MEM_DEFAULT_FLAGS | DP_PORT_UP) & ~flag);
	for (size_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		struct tframe f = send_frame(0, dsts[i], mac_a, 60);
		unsigned int want = BIT(1) | BIT(2) | BIT(3);

		if (dsts[i] == excluded_dst)
			want &= ~BIT(2);
		expect_only(&f, want);
	}
	/* The flooded counter counts the frame, not the copies. */
	ck_assert_port_stats(0, .rx_packets = 3, .rx_bytes = 180,
			     .flooded = 3);
	ck_assert_port_stats(2, .tx_packets = 2, .tx_bytes = 120);
	/* A flood flag does not stop known unicast. */
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_c, 2, FDB_STATIC, fx_now), 0);
	{
		struct tframe f = send_frame(0, mac_c, mac_a, 60);

		expect_only(&f, BIT(2));
	}
	/* Nor frames received on the port. */
	{
		struct tframe f = send_frame(2, excluded_dst, mac_c, 60);

		expect_only(&f, BIT(0) | BIT(1) | BIT(3));
	}
}

START_TEST(test_flood_flag_unknown_unicast)
{
	check_one_flood_flag(DP_PORT_FLOOD, mac_unknown);
}
END_TEST

START_TEST(test_flood_flag_bcast)
{
	check_one_flood_flag(DP_PORT_BCAST_FLOOD, mac_bcast);
}
END_TEST

START_TEST(test_flood_flag_mcast)
{
	check_one_flood_flag(DP_PORT_MCAST_FLOOD, mac_mcast);
}
END_TEST

START_TEST(test_flood_flags_all_off)
{
	const uint32_t all = DP_PORT_FLOOD | DP_PORT_MCAST_FLOOD |
			     DP_PORT_BCAST_FLOOD;
	struct tframe f;

	set_flags(1, all, 0);
	set_flags(3, all, 0);
	f = send_frame(0, mac_unknown, mac_a, 60);
	expect_only(&f, BIT(2));
	f = send_frame(0, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(2));
	set_flags(2, all, 0);
	/* Nowhere to go: counted as flooded, and as going nowhere. */
	send_frame(0, mac_mcast, mac_a, 60);
	expect_nothing();
	ck_assert_port_stats(0, .rx_packets = 3, .rx_bytes = 180,
			     .flooded = 3, .drop_no_egress = 1);
}
END_TEST

/* port down */

START_TEST(test_down_not_flooded_or_forwarded)
{
	struct tframe f;

	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_c, 2, FDB_STATIC, fx_now), 0);
	set_flags(2, DP_PORT_UP, 0);
	ck_assert_uint_eq(port_flags(2), MEM_DEFAULT_FLAGS);
	f = send_frame(0, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(3));
	f = send_frame(0, mac_unknown, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(3));
	f = send_frame(0, mac_mcast, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(3));
	f = send_frame(0, mac_ll(0x00), mac_a, 60);
	expect_only(&f, BIT(1) | BIT(3));
	/* Known unicast to the down port: dropped, not flooded. */
	send_frame(0, mac_c, mac_a, 60);
	expect_nothing();
	ck_assert_port_stats(2, .rx_packets = 0);
	ck_assert_port_stats(0, .rx_packets = 5, .rx_bytes = 300,
			     .flooded = 4, .drop_no_egress = 1);
}
END_TEST

START_TEST(test_down_rx_dropped)
{
	set_flags(3, DP_PORT_UP, 0);
	send_frame(3, mac_bcast, mac_d, 60);
	send_frame(3, mac_a, mac_d, 60);
	send_frame(3, mac_ll(0x02), mac_d, 60);
	send_frame(3, mac_bcast, mac_zero, 60);
	send_frame(3, mac_bcast, mac_d, 10);
	expect_nothing();
	ck_assert_uint_eq(lookup(mac_d), FDB_NO_PORT);
	ck_assert_port_stats(3, .rx_packets = 5, .rx_bytes = 250,
			     .drop_port_down = 5);
	ck_assert_fdb_stats(.n_entries = 0);
}
END_TEST

START_TEST(test_down_flushes_dynamic_keeps_static)
{
	send_frame(2, mac_bcast, mac_c, 60);
	send_frame(2, mac_bcast, mac_d, 60);
	send_frame(0, mac_bcast, mac_a, 60);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_b, 2, FDB_STATIC, fx_now), 0);
	for (uint32_t p = 0; p < N_PORTS; p++)
		drain(p);
	ck_assert_fdb_stats(.n_learned = 3, .n_entries = 4, .n_dynamic = 3);

	set_flags(2, DP_PORT_UP, 0);
	ck_assert_uint_eq(lookup(mac_c), FDB_NO_PORT);
	ck_assert_uint_eq(lookup(mac_d), FDB_NO_PORT);
	ck_assert_uint_eq(lookup(mac_b), 2);
	ck_assert_uint_eq(lookup(mac_a), 0);
	ck_assert_fdb_stats(.n_learned = 3, .n_entries = 2, .n_dynamic = 1);
	/* Setting a flag that is already set flushes nothing. */
	set_flags(0, DP_PORT_UP, DP_PORT_UP);
	ck_assert_uint_eq(lookup(mac_a), 0);
	/* Nor does taking some other flag away. */
	set_flags(0, DP_PORT_FLOOD, 0);
	ck_assert_uint_eq(lookup(mac_a), 0);
}
END_TEST

START_TEST(test_down_then_up)
{
	struct tframe f;

	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_c, 2, FDB_STATIC, fx_now), 0);
	send_frame(2, mac_bcast, mac_d, 60);
	for (uint32_t p = 0; p < N_PORTS; p++)
		drain(p);
	set_flags(2, DP_PORT_UP, 0);
	/* D was flushed; frames to it flood to the ports that are up. */
	f = send_frame(0, mac_d, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(3));
	set_flags(2, DP_PORT_UP, DP_PORT_UP);
	ck_assert_uint_eq(port_flags(2), MEM_DEFAULT_FLAGS | DP_PORT_UP);
	f = send_frame(0, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	f = send_frame(0, mac_c, mac_a, 60);
	expect_only(&f, BIT(2));
	f = send_frame(2, mac_a, mac_d, 60);
	expect_only(&f, BIT(0));
	ck_assert_uint_eq(lookup(mac_d), 2);
	f = send_frame(1, mac_d, mac_b, 60);
	expect_only(&f, BIT(2));
}
END_TEST

/* egress errors */

START_TEST(test_tx_error)
{
	struct tframe f;

	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_c, 2, FDB_STATIC, fx_now), 0);
	dp_mem_port_fail_tx(fx_port[2], EIO);
	f = send_frame(0, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(3));
	f = send_frame(0, mac_c, mac_a, 70);
	expect_only(&f, 0);
	ck_assert_port_stats(2, .tx_errors = 2);
	ck_assert_port_stats(1, .tx_packets = 1, .tx_bytes = 60);
	ck_assert_port_stats(3, .tx_packets = 1, .tx_bytes = 60);
	ck_assert_port_stats(0, .rx_packets = 2, .rx_bytes = 130,
			     .flooded = 1);
	/* A failing port still receives and forwards. */
	f = send_frame(2, mac_a, mac_c, 60);
	expect_only(&f, BIT(0));
	dp_mem_port_fail_tx(fx_port[2], 0);
	f = send_frame(0, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	ck_assert_port_stats(2, .rx_packets = 1, .rx_bytes = 60,
			     .tx_packets = 1, .tx_bytes = 60, .tx_errors = 2);
}
END_TEST

/* counters */

START_TEST(test_counters_exact)
{
	struct tframe f;

	f = send_frame(0, mac_bcast, mac_a, 60);	/* 0 -> 1 2 3 */
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	f = send_frame(1, mac_a, mac_b, 100);		/* 1 -> 0 */
	expect_only(&f, BIT(0));
	f = send_frame(2, mac_unknown, mac_c, 128);	/* 2 -> 0 1 3 */
	expect_only(&f, BIT(0) | BIT(1) | BIT(3));
	send_frame(3, mac_bcast, mac_d, 13);		/* runt */
	send_frame(3, mac_a, mac_zero, 64);		/* bad source */
	send_frame(3, mac_ll(0x03), mac_d, 64);		/* consumed */
	f = send_frame(3, mac_c, mac_d, 90);		/* 3 -> 2 */
	expect_only(&f, BIT(2));
	send_frame(0, mac_a, mac_a, 66);		/* hairpin */
	expect_nothing();

	ck_assert_port_stats(0, .rx_packets = 2, .rx_bytes = 126,
			     .tx_packets = 2, .tx_bytes = 228, .flooded = 1,
			     .drop_same_port = 1);
	ck_assert_port_stats(1, .rx_packets = 1, .rx_bytes = 100,
			     .tx_packets = 2, .tx_bytes = 188);
	ck_assert_port_stats(2, .rx_packets = 1, .rx_bytes = 128,
			     .tx_packets = 2, .tx_bytes = 150, .flooded = 1);
	ck_assert_port_stats(3, .rx_packets = 4, .rx_bytes = 231,
			     .tx_packets = 2, .tx_bytes = 188, .drop_runt = 1,
			     .drop_src = 1, .drop_link_local = 1);
	ck_assert_fdb_stats(.n_learned = 4, .n_entries = 4, .n_dynamic = 4);
}
END_TEST

START_TEST(test_counters_reset_on_attach)
{
	struct dp_port *p;
	struct dp_port_info info;

	send_frame(1, mac_bcast, mac_b, 60);
	ck_assert_int_eq(dp_port_detach(fx_dp, 3), 0);
	fx_port[3] = NULL;
	p = dp_mem_port_create("memX");
	ck_assert_ptr_nonnull(p);
	p->stats.rx_packets = 42;	/* whatever the backend left there */
	ck_assert_int_eq(dp_port_attach(fx_dp, p, true), 3);
	fx_port[3] = p;
	ck_assert_port_stats(3, .rx_packets = 0);
	ck_assert_int_eq(dp_port_get_info(fx_dp, 3, &info), 0);
	ck_assert_str_eq(info.name, "memX");
	ck_assert_str_eq(info.kind, "mem");
	ck_assert_uint_eq(info.index, 3);
}
END_TEST

/* detach */

START_TEST(test_detach_flushes)
{
	struct dp_port_info info;
	struct tframe f;
	uint32_t idx[DP_MAX_PORTS];

	send_frame(2, mac_bcast, mac_c, 60);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_d, 2, FDB_STATIC | FDB_STICKY,
				 fx_now), 0);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_a, 0, FDB_STATIC, fx_now), 0);
	for (uint32_t p = 0; p < N_PORTS; p++)
		drain(p);
	ck_assert_uint_eq(lookup(mac_c), 2);

	ck_assert_int_eq(dp_port_detach(fx_dp, 2), 0);
	fx_port[2] = NULL;
	ck_assert_int_eq(dp_port_detach(fx_dp, 2), -ENOENT);
	ck_assert_int_eq(dp_port_get_info(fx_dp, 2, &info), -ENOENT);
	ck_assert_ptr_null(dp_port_get(fx_dp, 2));
	ck_assert_int_eq(dp_port_lookup(fx_dp, "mem2"), -ENOENT);
	ck_assert_int_eq(dp_port_set_flags(fx_dp, 2, DP_PORT_UP, 0), -ENOENT);
	ck_assert_uint_eq(dp_port_list(fx_dp, idx, DP_MAX_PORTS), 3);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 1);
	ck_assert_uint_eq(idx[2], 3);
	/* Its entries went, static ones too; the others stay. */
	ck_assert_uint_eq(lookup(mac_c), FDB_NO_PORT);
	ck_assert_uint_eq(lookup(mac_d), FDB_NO_PORT);
	ck_assert_uint_eq(lookup(mac_a), 0);
	ck_assert_fdb_stats(.n_learned = 1, .n_entries = 1);
	/* Frames to its MACs flood to the ports left. */
	f = send_frame(1, mac_c, mac_b, 60);
	expect_only(&f, BIT(0) | BIT(3));
	f = send_frame(1, mac_d, mac_b, 60);
	expect_only(&f, BIT(0) | BIT(3));
	f = send_frame(0, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(3));
	/* Input on the detached index is ignored. */
	send_frame(2, mac_bcast, mac_c, 60);
	expect_nothing();
	ck_assert_uint_eq(lookup(mac_c), FDB_NO_PORT);
}
END_TEST

/*
 * A detach that leaves its flush for later (a big table): the old port's
 * entries stay until dp_flush_deferred(), but a frame to one of them
 * floods as for a miss, and the index goes to no new port before then.
 */
START_TEST(test_detach_deferred_flush)
{
	struct dp_port *p;
	struct tframe f;

	send_frame(1, mac_bcast, mac_b, 60);
	for (uint32_t i = 0; i < N_PORTS; i++)
		drain(i);
	ck_assert_int_eq(dp_port_detach_deferred(fx_dp, 1), 0);
	fx_port[1] = NULL;
	ck_assert_uint_eq(lookup(mac_b), 1);		/* still there */
	f = send_frame(0, mac_b, mac_a, 60);
	expect_only(&f, BIT(2) | BIT(3));		/* a miss: flooded */
	p = dp_mem_port_create("newport");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(dp_port_attach(fx_dp, p, true), N_PORTS);
	ck_assert_uint_eq(dp_flush_deferred(fx_dp), 1);
	ck_assert_uint_eq(lookup(mac_b), FDB_NO_PORT);
	ck_assert_uint_eq(dp_flush_deferred(fx_dp), 0);
	/* Flushed: index 1 is free again. */
	p = dp_mem_port_create("newport2");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(dp_port_attach(fx_dp, p, true), 1);
	fx_port[1] = p;
}
END_TEST

START_TEST(test_detach_index_reuse)
{
	struct dp_port *p;
	struct tframe f;

	send_frame(1, mac_bcast, mac_b, 60);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_d, 1, FDB_STATIC, fx_now), 0);
	for (uint32_t i = 0; i < N_PORTS; i++)
		drain(i);
	ck_assert_int_eq(dp_port_detach(fx_dp, 1), 0);
	fx_port[1] = NULL;

	p = dp_mem_port_create("newport");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(dp_port_attach(fx_dp, p, true), 1);
	fx_port[1] = p;
	ck_assert_int_eq(dp_port_lookup(fx_dp, "newport"), 1);
	/* Nothing of the old port's is inherited. */
	ck_assert_uint_eq(lookup(mac_b), FDB_NO_PORT);
	ck_assert_uint_eq(lookup(mac_d), FDB_NO_PORT);
	ck_assert_uint_eq(count_entries_in(fx_fdb, 1, FDB_ANY_VID, 0), 0);
	f = send_frame(0, mac_b, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	f = send_frame(3, mac_d, mac_c, 60);
	expect_only(&f, BIT(0) | BIT(1) | BIT(2));
	ck_assert_port_stats(1, .tx_packets = 2, .tx_bytes = 120);
	/* And the new port learns and forwards normally. */
	f = send_frame(1, mac_a, mac_b, 60);
	expect_only(&f, BIT(0));
	f = send_frame(2, mac_b, mac_c, 60);
	expect_only(&f, BIT(1));
}
END_TEST

START_TEST(test_attach_down_and_duplicate)
{
	struct dp_port *p = dp_mem_port_create("mem1");
	struct tframe f;
	int idx;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(dp_port_attach(fx_dp, p, true), -EEXIST);
	p->ops->close(p);	/* the caller still owned it */

	p = dp_mem_port_create("mem4");
	ck_assert_ptr_nonnull(p);
	idx = dp_port_attach(fx_dp, p, false);
	ck_assert_int_eq(idx, 4);
	ck_assert_uint_eq(port_flags(4), MEM_DEFAULT_FLAGS);
	f = send_frame(0, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	ck_assert_uint_eq(dp_mem_port_pending(p), 0);
	set_flags(4, DP_PORT_UP, DP_PORT_UP);
	f = send_frame(0, mac_bcast, mac_a, 60);
	expect_only(&f, BIT(1) | BIT(2) | BIT(3));
	ck_assert_uint_eq(dp_mem_port_pending(p), 1);
	/* teardown's dp_destroy() detaches and frees it with the rest */
}
END_TEST

/* bursts */

/* @n frames from port 0, of every kind, each delivered in order. */
static void check_burst(unsigned int n)
{
	struct tframe *fs = calloc(n, sizeof(*fs));
	unsigned int *want = calloc(n, sizeof(*want));

	ck_assert_ptr_nonnull(fs);
	ck_assert_ptr_nonnull(want);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_b, 1, FDB_STATIC, fx_now), 0);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_c, 2, FDB_STATIC, fx_now), 0);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_d, 0, FDB_STATIC, fx_now), 0);
	for (unsigned int i = 0; i < n; i++) {
		switch (i % 7) {
		case 0:
			fs[i] = mkframe(mac_bcast, mac_a, 60 + i % 40);
			want[i] = BIT(1) | BIT(2) | BIT(3);
			break;
		case 1:
		case 4:
			fs[i] = mkframe(mac_b, mac_a, 60 + i % 40);
			want[i] = BIT(1);
			break;
		case 2:
			fs[i] = mkframe(mac_c, mac_a, 60 + i % 40);
			want[i] = BIT(2);
			break;
		case 3:
			fs[i] = mkframe(mac_d, mac_a, 60);	/* hairpin */
			want[i] = 0;
			break;
		case 5:
			fs[i] = mkframe(mac_unknown, mac_a, 60 + i % 40);
			want[i] = BIT(1) | BIT(2) | BIT(3);
			break;
		default:
			fs[i] = mkframe(mac_bcast, mac_a, 5);	/* runt */
			want[i] = 0;
		}
	}
	input_burst(0, fs, n);
	for (uint32_t p = 1; p < N_PORTS; p++) {
		unsigned int k = 0, n_want = 0;

		for (unsigned int i = 0; i < n; i++)
			n_want += !!(want[i] & BIT(p));
		ck_assert_uint_eq(pending(p), n_want);
		for (unsigned int i = 0; i < n; i++) {
			uint8_t buf[FRAME_MAX + 16];
			int len;

			if (!(want[i] & BIT(p)))
				continue;
			len = dp_mem_port_pop(fx_port[p], buf, sizeof(buf));
			ck_assert_msg(len == (int)fs[i].len &&
				      !memcmp(buf, fs[i].data, fs[i].len),
				      "port %u: frame #%u of its queue is not "
				      "frame %u of the burst", p, k, i);
			k++;
		}
	}
	expect_nothing();
	{
		struct dp_port_stats st = { .rx_packets = n };
		uint64_t tx[N_PORTS] = { 0 }, tx_bytes[N_PORTS] = { 0 };

		for (unsigned int i = 0; i < n; i++) {
			st.rx_bytes += fs[i].len;
			st.flooded += i % 7 == 0 || i % 7 == 5;
			st.drop_same_port += i % 7 == 3;
			st.drop_runt += i % 7 == 6;
			for (uint32_t p = 1; p < N_PORTS; p++) {
				tx[p] += !!(want[i] & BIT(p));
				tx_bytes[p] += want[i] & BIT(p) ? fs[i].len : 0;
			}
		}
		ck_assert_port_stats(0, .rx_packets = st.rx_packets,
				     .rx_bytes = st.rx_bytes,
				     .flooded = st.flooded,
				     .drop_same_port = st.drop_same_port,
				     .drop_runt = st.drop_runt);
		for (uint32_t p = 1; p < N_PORTS; p++)
			ck_assert_port_stats(p, .tx_packets = tx[p],
					     .tx_bytes = tx_bytes[p]);
		ck_assert_fdb_stats(.n_learned = 1, .n_entries = 4,
				    .n_dynamic = 1);
	}
	free(fs);
	free(want);
}

START_TEST(test_burst_exact)
{
	check_burst(DP_BURST);
}
END_TEST

START_TEST(test_burst_over)
{
	check_burst(DP_BURST + 1);
}
END_TEST

START_TEST(test_burst_many)
{
	check_burst(5 * DP_BURST + 7);
}
END_TEST

/* Within one call, a frame sees what the frames before it taught. */
START_TEST(test_burst_learning_in_order)
{
	struct tframe fs[3 * DP_BURST];

	for (unsigned int i = 0; i < 3 * DP_BURST; i++) {
		uint8_t src[ETH_ALEN] = { 0x02, 1, 0, 0, 0, (uint8_t)i };
		uint8_t dst[ETH_ALEN] = { 0x02, 1, 0, 0, 0, (uint8_t)(i - 1) };

		/* Frame i comes from MAC i and goes to MAC i - 1, learned
		 * on this same port by the frame before: a hairpin drop. */
		fs[i] = mkframe(i ? dst : mac_bcast, src, 60);
	}
	input_burst(3, fs, 3 * DP_BURST);
	for (uint32_t p = 0; p < 3; p++) {
		ck_assert_uint_eq(pending(p), 1);
		drain(p);
	}
	ck_assert_port_stats(3, .rx_packets = 3 * DP_BURST,
			     .rx_bytes = 60 * 3 * DP_BURST, .flooded = 1,
			     .drop_same_port = 3 * DP_BURST - 1);
	ck_assert_fdb_stats(.n_learned = 3 * DP_BURST,
			    .n_entries = 3 * DP_BURST,
			    .n_dynamic = 3 * DP_BURST);
}
END_TEST

/*
 * Differential test: random frames through the real pipeline and through
 * a naive twin of the rules of DESIGN.md "Frame semantics", written
 * plainly: a linear array for the table, the rules as a list of ifs.  For
 * every frame the exact set of ports that received it must agree; the
 * counters and the table are compared now and then and at the end.
 */

#define DIFF_SEED	0x7a95c0ffee15beefULL
#define DIFF_FRAMES	20000
#define DIFF_POOL	6
#define DIFF_BURST_MAX	40
#define TWIN_MAX	64

struct twin_entry {
	uint8_t mac[ETH_ALEN];
	uint32_t port;
	bool is_static;
	bool sticky;
};

struct twin {
	struct twin_entry e[TWIN_MAX];
	unsigned int n;
	uint32_t flags[N_PORTS];
	bool fails[N_PORTS];
	bool learning;
	uint16_t group_fwd_mask;
	struct dp_port_stats st[N_PORTS];
	uint64_t n_learned;
	uint64_t n_moved;
};

static int twin_find(const struct twin *tw, const uint8_t *mac)
{
	for (unsigned int i = 0; i < tw->n; i++)
		if (!memcmp(tw->e[i].mac, mac, ETH_ALEN))
			return i;
	return -1;
}

static void twin_remove(struct twin *tw, int i)
{
	tw->e[i] = tw->e[--tw->n];
}

static void twin_learn(struct twin *tw, const uint8_t *mac, uint32_t port)
{
	int i = twin_find(tw, mac);

	if (i < 0) {
		ck_assert_uint_lt(tw->n, TWIN_MAX);
		memcpy(tw->e[tw->n].mac, mac, ETH_ALEN);
		tw->e[tw->n].port = port;
		tw->e[tw->n].is_static = false;
		tw->e[tw->n].sticky = false;
		tw->n++;
		tw->n_learned++;
		return;
	}
	/* Static entries move too; sticky ones never. */
	if (tw->e[i].port != port && !tw->e[i].sticky) {
		tw->e[i].port = port;
		tw->n_moved++;
	}
}

/* Forget the entries on @port: the dynamic ones, or all. */
static void twin_flush_port(struct twin *tw, uint32_t port, bool all)
{
	for (int i = tw->n - 1; i >= 0; i--)
		if (tw->e[i].port == port && (all || !tw->e[i].is_static))
			twin_remove(tw, i);
}

/* The ports that receive @len bytes at @data arriving on @in. */
static unsigned int twin_input(struct twin *tw, uint32_t in,
			       const uint8_t *data, uint32_t len)
{
	const uint8_t *dst = data, *src = data + 6;
	struct dp_port_stats *st = &tw->st[in];
	unsigned int out = 0, got = 0;
	bool dst_is_link_local, src_ok, flood = false;
	uint32_t flood_flag = 0;

	st->rx_packets++;
	st->rx_bytes += len;
	if (!(tw->flags[in] & DP_PORT_UP)) {
		st->drop_port_down++;
		return 0;
	}
	if (len < 14) {
		st->drop_runt++;
		return 0;
	}
	src_ok = !(src[0] & 1) && memcmp(src, mac_zero, ETH_ALEN) != 0;
	if (!src_ok) {
		st->drop_src++;
		return 0;
	}
	dst_is_link_local = dst[0] == 0x01 && dst[1] == 0x80 &&
			    dst[2] == 0xc2 && dst[3] == 0 && dst[4] == 0 &&
			    dst[5] <= 0x0f;
	if (dst_is_link_local && dst[5] == 0x01) {
		st->drop_link_local++;	/* pause: not even learned */
		return 0;
	}
	if (tw->learning && (tw->flags[in] & DP_PORT_LEARNING))
		twin_learn(tw, src, in);
	if (dst_is_link_local && dst[5] != 0x00 &&
	    !(tw->group_fwd_mask & (1u << dst[5]))) {
		st->drop_link_local++;
		return 0;
	}
	if (!memcmp(dst, mac_bcast, ETH_ALEN)) {
		flood = true;
		flood_flag = DP_PORT_BCAST_FLOOD;
	} else if (dst[0] & 1) {
		flood = true;
		flood_flag = DP_PORT_MCAST_FLOOD;
	} else {
		int i = twin_find(tw, dst);

		if (i < 0) {
			flood = true;
			flood_flag = DP_PORT_FLOOD;
		} else if (tw->e[i].port == in) {
			st->drop_same_port++;
			return 0;
		} else if (tw->flags[tw->e[i].port] & DP_PORT_UP) {
			out = BIT(tw->e[i].port);
		} else {
			st->drop_no_egress++;	/* its port is down */
			return 0;
		}
	}
	if (flood) {
		st->flooded++;
		for (uint32_t p = 0; p < N_PORTS; p++)
			if (p != in && (tw->flags[p] & DP_PORT_UP) &&
			    (tw->flags[p] & flood_flag))
				out |= BIT(p);
		if (!out)
			st->drop_no_egress++;
	}
	for (uint32_t p = 0; p < N_PORTS; p++) {
		if (!(out & BIT(p)))
			continue;
		if (tw->fails[p]) {
			tw->st[p].tx_errors++;
			continue;
		}
		tw->st[p].tx_packets++;
		tw->st[p].tx_bytes += len;
		got |= BIT(p);
	}
	return got;
}

static void diff_mac(uint64_t *rng, uint8_t mac[ETH_ALEN], bool is_src)
{
	static const uint8_t *invalid_src[] = { mac_mcast, mac_bcast, mac_zero,
						mac_mcast6 };
	uint32_t r = rng_below(rng, 100);
	uint8_t pool[ETH_ALEN] = { 0x02, 0, 0, 0, 1, 0 };

	if (is_src) {
		if (r < 5) {
			memcpy(mac, invalid_src[rng_below(rng, 4)], ETH_ALEN);
			return;
		}
		pool[5] = rng_below(rng, DIFF_POOL);
		memcpy(mac, pool, ETH_ALEN);
		return;
	}
	if (r < 45) {
		pool[5] = rng_below(rng, DIFF_POOL);
		memcpy(mac, pool, ETH_ALEN);
	} else if (r < 55) {
		memcpy(mac, mac_bcast, ETH_ALEN);
	} else if (r < 65) {
		memcpy(mac, rng_below(rng, 2) ? mac_mcast : mac_mcast6,
		       ETH_ALEN);
		mac[5] = rng_next(rng);
	} else if (r < 80) {
		/* 01:80:c2:00:00:00-1f: half of them are link-local */
		memcpy(mac, mac_ll((uint8_t)rng_below(rng, 0x20)), ETH_ALEN);
	} else {
		pool[4] = 2;	/* never a source */
		pool[5] = rng_next(rng);
		memcpy(mac, pool, ETH_ALEN);
	}
}

static void diff_compare_state(const struct twin *tw, uint64_t seed,
			       unsigned long n_frames)
{
	struct dump *d;
	struct fdb_stats fs;
	unsigned int n_dynamic = 0;
	char m[18];

	for (uint32_t p = 0; p < N_PORTS; p++) {
		struct dp_port_info info;

		ck_assert_int_eq(dp_port_get_info(fx_dp, p, &info), 0);
		diff_assert(info.flags == tw->flags[p], "port %u flags %#x, "
			    "twin %#x", seed, n_frames, p, info.flags,
			    tw->flags[p]);
		diff_assert(pstats_equal(&info.stats, &tw->st[p]),
			    "port %u stats:\n  got  " PSTATS_FMT
			    "\n  twin " PSTATS_FMT, seed, n_frames, p,
			    PSTATS_ARGS(info.stats), PSTATS_ARGS(tw->st[p]));
	}
	d = dump_table(fx_fdb);
	diff_assert(d->n == tw->n, "table has %zu entries, twin %u", seed,
		    n_frames, d->n, tw->n);
	for (size_t i = 0; i < d->n; i++) {
		const struct fdb_entry_info *e = &d->e[i];
		int k = twin_find(tw, e->mac);
		uint32_t want;

		diff_assert(k >= 0, "table has %s, the twin does not", seed,
			    n_frames, mac_str(e->mac, m));
		want = tw->e[k].is_static ? FDB_STATIC : FDB_LEARNED;
		if (tw->e[k].sticky)
			want |= FDB_STICKY;
		diff_assert(e->vid == 0 && e->port == tw->e[k].port &&
			    e->flags == want, "%s: table port %u flags %#x, "
			    "twin port %u flags %#x", seed, n_frames,
			    mac_str(e->mac, m), e->port, e->flags,
			    tw->e[k].port, want);
		n_dynamic += !tw->e[k].is_static;
	}
	fdb_get_stats(fx_fdb, &fs);
	diff_assert(fs.n_learned == tw->n_learned &&
		    fs.n_moved == tw->n_moved && fs.n_entries == tw->n &&
		    fs.n_dynamic == n_dynamic && !fs.n_aged &&
		    !fs.n_limit_miss && !fs.n_nomem,
		    "fdb stats " FSTATS_FMT "; twin learned %" PRIu64
		    " moved %" PRIu64 " entries %u dynamic %u", seed,
		    n_frames, FSTATS_ARGS(fs), tw->n_learned, tw->n_moved,
		    tw->n, n_dynamic);
}

/* One control change between bursts, on the switch and on the twin. */
static void diff_control(struct twin *tw, uint64_t *rng, unsigned int *n_ops)
{
	uint32_t p = rng_below(rng, N_PORTS);
	uint8_t mac[ETH_ALEN] = { 0x02, 0, 0, 0, 1, 0 };
	uint32_t r = rng_below(rng, 100), mask, value, old;
	int k;

	mac[5] = rng_below(rng, DIFF_POOL);
	if (r < 40) {
		/* one flag of one port flips */
		mask = BIT(rng_below(rng, DP_PORT_UP_BIT + 1));
		value = ~tw->flags[p];
		n_ops[0]++;
	} else if (r < 60) {
		/* a port back to its defaults */
		mask = MEM_DEFAULT_FLAGS | DP_PORT_UP;
		value = mask;
		n_ops[1]++;
	} else if (r < 72) {
		uint32_t flags = FDB_STATIC;

		if (rng_below(rng, 2))
			flags |= FDB_STICKY;
		ck_assert_int_eq(fdb_add(fx_fdb, 0, mac, p, flags, fx_now), 0);
		k = twin_find(tw, mac);
		if (k >= 0)
			twin_remove(tw, k);
		memcpy(tw->e[tw->n].mac, mac, ETH_ALEN);
		tw->e[tw->n].port = p;
		tw->e[tw->n].is_static = true;
		tw->e[tw->n].sticky = flags & FDB_STICKY;
		tw->n++;
		n_ops[2]++;
		return;
	} else if (r < 80) {
		k = twin_find(tw, mac);
		ck_assert_int_eq(fdb_del(fx_fdb, 0, mac, FDB_NO_PORT),
				 k >= 0 ? 0 : -ENOENT);
		if (k >= 0)
			twin_remove(tw, k);
		n_ops[3]++;
		return;
	} else if (r < 86) {
		tw->fails[p] = !tw->fails[p];
		dp_mem_port_fail_tx(fx_port[p], tw->fails[p] ? EIO : 0);
		n_ops[4]++;
		return;
	} else if (r < 90) {
		tw->learning = !tw->learning;
		ck_assert_int_eq(dp_set_learning(fx_dp, tw->learning), 0);
		n_ops[5]++;
		return;
	} else if (r < 95) {
		tw->group_fwd_mask = rng_below(rng, 2) ? rng_next(rng) : 0;
		ck_assert_int_eq(dp_set_group_fwd_mask(fx_dp,
						       tw->group_fwd_mask), 0);
		n_ops[6]++;
		return;
	} else {
		/* detach, and attach a new port at the same index */
		char name[IFNAMSIZ];

		ck_assert_int_eq(dp_port_detach(fx_dp, p), 0);
		snprintf(name, sizeof(name), "mem%u", p);
		fx_port[p] = dp_mem_port_create(name);
		ck_assert_ptr_nonnull(fx_port[p]);
		ck_assert_int_eq(dp_port_attach(fx_dp, fx_port[p], true), p);
		twin_flush_port(tw, p, true);
		tw->flags[p] = MEM_DEFAULT_FLAGS | DP_PORT_UP;
		tw->fails[p] = false;
		memset(&tw->st[p], 0, sizeof(tw->st[p]));
		n_ops[7]++;
		return;
	}
	old = tw->flags[p];
	ck_assert_int_eq(dp_port_set_flags(fx_dp, p, mask, value), 0);
	tw->flags[p] = (old & ~mask) | (value & mask);
	if ((old & DP_PORT_UP) && !(tw->flags[p] & DP_PORT_UP))
		twin_flush_port(tw, p, false);
}

/*
 * The worker's learning cache: a source seen again on the same port
 * within 200 ms is not learned again, so the table's last-seen time lags
 * by less than that, never more; a move is learned at once.
 */
static uint64_t entry_updated(const uint8_t *mac)
{
	struct dump *d = dump_table(fx_fdb);
	uint64_t t = 0;

	for (size_t i = 0; i < d->n; i++)
		if (!memcmp(d->e[i].mac, mac, ETH_ALEN))
			t = d->e[i].updated_ms;
	return t;
}

START_TEST(test_worker_refresh_bound)
{
	fx_worker = dp_worker_create(fx_dp);
	ck_assert_ptr_nonnull(fx_worker);
	fx_now = 10000;
	send_frame(0, mac_bcast, mac_a, 60);
	ck_assert_uint_eq(entry_updated(mac_a), 10000);
	for (fx_now = 10010; fx_now < 10200; fx_now += 10) {
		send_frame(0, mac_bcast, mac_a, 60);
		ck_assert_uint_eq(entry_updated(mac_a), 10000);
	}
	fx_now = 10200;
	send_frame(0, mac_bcast, mac_a, 60);
	ck_assert_uint_eq(entry_updated(mac_a), 10200);
	/* Seen on another port: moved at once, and the frame after it to
	 * mac_a goes there, even within the same burst. */
	fx_now = 10210;
	{
		struct tframe fs[2] = { mkframe(mac_bcast, mac_a, 60),
					mkframe(mac_a, mac_b, 60) };

		input_burst(1, &fs[0], 1);
		ck_assert_uint_eq(lookup(mac_a), 1);
		for (uint32_t p = 0; p < N_PORTS; p++)
			drain(p);
		input_burst(2, fs, 2);
		ck_assert_uint_eq(lookup(mac_a), 2);
		/* fs[1] (to mac_a) came from port 2, where mac_a now is */
		ck_assert_uint_eq(pending(1), 1);	/* the broadcast */
		ck_assert_uint_eq(pending(0), 1);
		ck_assert_uint_eq(pending(3), 1);
	}
	dp_worker_destroy(fx_worker);
	fx_worker = NULL;
}
END_TEST

static void differential_run(void);

START_TEST(test_differential)
{
	differential_run();
}
END_TEST

/*
 * The same through a worker, as a poll thread runs it: the learning
 * cache must not change where any frame goes, nor what the table holds.
 */
START_TEST(test_differential_worker)
{
	fx_worker = dp_worker_create(fx_dp);
	ck_assert_ptr_nonnull(fx_worker);
	differential_run();
	dp_worker_destroy(fx_worker);
	fx_worker = NULL;
}
END_TEST

static void differential_run(void)
{
	const uint64_t seed = test_seed("DP_TEST_SEED", DIFF_SEED);
	struct twin *tw = calloc(1, sizeof(*tw));
	struct tframe *fs = calloc(DIFF_BURST_MAX, sizeof(*fs));
	static uint8_t got[N_PORTS][DIFF_BURST_MAX][FRAME_MAX + 16];
	int got_len[N_PORTS][DIFF_BURST_MAX];
	unsigned int n_ops[8] = { 0 }, n_got[N_PORTS], next[N_PORTS];
	unsigned long n_frames = 0, n_bursts = 0, n_delivered = 0;
	uint64_t rng = seed;

	ck_assert_ptr_nonnull(tw);
	ck_assert_ptr_nonnull(fs);
	tw->learning = true;
	for (uint32_t p = 0; p < N_PORTS; p++)
		tw->flags[p] = MEM_DEFAULT_FLAGS | DP_PORT_UP;

	while (n_frames < DIFF_FRAMES) {
		uint32_t in = rng_below(&rng, N_PORTS);
		unsigned int n;

		/* Mostly single frames, sometimes long bursts. */
		n = rng_below(&rng, 4) ? 1 + rng_below(&rng, 4)
				       : 1 + rng_below(&rng, DIFF_BURST_MAX);
		for (unsigned int i = 0; i < n; i++) {
			uint8_t dst[ETH_ALEN], src[ETH_ALEN];
			uint32_t len;

			diff_mac(&rng, dst, false);
			diff_mac(&rng, src, true);
			len = rng_below(&rng, 20) ? 14 + rng_below(&rng, 87)
						  : rng_below(&rng, 14);
			mkframe_seq(&fs[i], dst, src, len, (uint16_t)i);
		}
		input_burst(in, fs, n);

		/* Collect what every port received... */
		for (uint32_t p = 0; p < N_PORTS; p++) {
			n_got[p] = 0;
			next[p] = 0;
			while (n_got[p] < DIFF_BURST_MAX) {
				int len = dp_mem_port_pop(fx_port[p],
						got[p][n_got[p]],
						sizeof(got[p][0]));

				if (len < 0)
					break;
				got_len[p][n_got[p]++] = len;
			}
			diff_assert(!pending(p), "port %u received more "
				    "frames than the burst of %u held", seed,
				    n_frames, p, n);
		}
		/* ...and match it, frame by frame and in order, with the
		 * twin's verdict. */
		for (unsigned int i = 0; i < n; i++) {
			const struct tframe *f = &fs[i];
			unsigned int want, have = 0;
			char d[18], s[18], w[32], h[32];

			want = twin_input(tw, in, f->data, f->len);
			for (uint32_t p = 0; p < N_PORTS; p++) {
				unsigned int k = next[p];

				if (k < n_got[p] &&
				    got_len[p][k] == (int)f->len &&
				    !memcmp(got[p][k], f->data, f->len)) {
					have |= BIT(p);
					next[p]++;
				}
			}
			diff_assert(want == have, "burst %lu frame %u/%u on "
				    "port %u: %s <- %s, %u bytes: twin sends "
				    "it to %s, the switch to %s", seed,
				    n_frames + i, n_bursts, i, n, in,
				    mac_str(f->data, d),
				    mac_str(f->data + 6, s), f->len,
				    mask_str(want, w), mask_str(have, h));
			n_delivered += __builtin_popcount(have);
		}
		for (uint32_t p = 0; p < N_PORTS; p++)
			diff_assert(next[p] == n_got[p], "port %u received "
				    "%u frames of burst %lu the twin does not "
				    "explain", seed, n_frames, p,
				    n_got[p] - next[p], n_bursts);
		n_frames += n;
		n_bursts++;

		if (rng_below(&rng, 100) < 6)
			diff_control(tw, &rng, n_ops);
		if (rng_below(&rng, 10) == 0)
			fx_now += rng_below(&rng, 5000);
		if (n_bursts % 256 == 0)
			diff_compare_state(tw, seed, n_frames);
	}
	diff_compare_state(tw, seed, n_frames);

	/* The run covered what it is meant to. */
	for (unsigned int i = 0; i < 8; i++)
		ck_assert_msg(n_ops[i] > 0, "seed %#" PRIx64 ": control "
			      "operation %u never happened", seed, i);
	ck_assert_msg(n_delivered > DIFF_FRAMES / 2, "seed %#" PRIx64
		      ": only %lu deliveries", seed, n_delivered);
	ck_assert_uint_gt(tw->n_moved, 0);
	free(fs);
	free(tw);
}

/*
 * Concurrency: poll-thread-like workers run dp_input() on their ports
 * while the control thread changes flags, the table, the switch settings,
 * and detaches and reattaches a port.  Meant for TSan and ASan as much as
 * for its final checks.
 */

#define STRESS_WORKERS	3
#define STRESS_FRAMES	60000

struct worker {
	pthread_t thread;
	struct dp *dp;
	uint32_t port;
	uint64_t rng;
	unsigned long n_frames;	/* what to send */
	unsigned long n_sent;
	uint64_t n_bytes;
	int *stop;
	int *done;
};

static void *stress_worker(void *arg)
{
	struct worker *w = arg;
	struct tframe fs[DP_BURST];
	struct dp_frame df[DP_BURST] = { 0 };
	struct dp_worker *pw;

	rcu_register_thread();
	pw = w->port % 2 ? dp_worker_create(w->dp) : NULL;
	while (w->n_sent < w->n_frames && !LOAD(w->stop)) {
		unsigned int n = 1 + rng_below(&w->rng, DP_BURST);

		if (n > w->n_frames - w->n_sent)
			n = w->n_frames - w->n_sent;

		for (unsigned int i = 0; i < n; i++) {
			uint8_t src[ETH_ALEN] = { 0x02, 0, 0, 0, 1, 0 };
			uint8_t dst[ETH_ALEN];
			uint32_t r = rng_below(&w->rng, 10);

			src[5] = rng_below(&w->rng, 16);
			if (r < 5) {
				memcpy(dst, src, ETH_ALEN);
				dst[5] = rng_below(&w->rng, 16);
			} else if (r < 7) {
				memcpy(dst, mac_bcast, ETH_ALEN);
			} else if (r < 8) {
				memcpy(dst, mac_ll((uint8_t)
						   rng_below(&w->rng, 16)),
				       ETH_ALEN);
			} else {
				memcpy(dst, mac_unknown, ETH_ALEN);
			}
			mkframe_seq(&fs[i], dst, src,
				    14 + rng_below(&w->rng, 50), (uint16_t)i);
			df[i].data = fs[i].data;
			df[i].len = fs[i].len;
			w->n_bytes += fs[i].len;
		}
		/* Odd workers as poll threads do it, with a learning cache. */
		if (pw)
			dp_worker_run(pw, w->port, df, n, dp_now_ms());
		else
			dp_input(w->dp, w->port, df, n, dp_now_ms());
		rcu_quiescent();
		w->n_sent += n;
	}
	dp_worker_destroy(pw);
	__atomic_add_fetch(w->done, 1, __ATOMIC_RELEASE);
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

START_TEST(test_stress)
{
	struct worker w[STRESS_WORKERS];
	unsigned long popped[N_PORTS] = { 0 };
	uint64_t rng = 0x57e55;
	unsigned long n_ops = 0;
	int stop = 0, done = 0;
	uint8_t buf[FRAME_MAX + 16];

	for (uint32_t i = 0; i < STRESS_WORKERS; i++) {
		w[i] = (struct worker){
			.dp = fx_dp, .port = i, .rng = 0x1000 + i,
			.n_frames = STRESS_FRAMES, .stop = &stop,
			.done = &done,
		};
		ck_assert_int_eq(pthread_create(&w[i].thread, NULL,
						stress_worker, &w[i]), 0);
	}
	while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) < STRESS_WORKERS) {
		uint32_t p = rng_below(&rng, N_PORTS);
		uint8_t mac[ETH_ALEN] = { 0x02, 0, 0, 0, 1, 0 };
		uint32_t r = rng_below(&rng, 100);

		mac[5] = rng_below(&rng, 16);
		if (r < 30) {
			uint32_t bit = BIT(rng_below(&rng, DP_PORT_UP_BIT + 1));

			dp_port_set_flags(fx_dp, p, bit,
					  rng_below(&rng, 2) ? bit : 0);
		} else if (r < 45) {
			fdb_add(fx_fdb, 0, mac, p, rng_below(&rng, 2) ?
				FDB_STATIC : FDB_STATIC | FDB_STICKY, dp_now_ms());
		} else if (r < 60) {
			fdb_del(fx_fdb, 0, mac, FDB_NO_PORT);
		} else if (r < 65) {
			fdb_flush(fx_fdb, p, FDB_ANY_VID, FDB_FLUSH_DYNAMIC);
		} else if (r < 70) {
			fdb_age(fx_fdb, dp_now_ms(), 1);
		} else if (r < 75) {
			dp_set_learning(fx_dp, rng_below(&rng, 4) != 0);
		} else if (r < 80) {
			dp_set_group_fwd_mask(fx_dp, rng_next(&rng));
		} else if (r < 83) {
			/* Port 3 has no worker: it may come and go. */
			ck_assert_int_eq(dp_port_detach(fx_dp, 3), 0);
			fx_port[3] = dp_mem_port_create("mem3");
			ck_assert_ptr_nonnull(fx_port[3]);
			ck_assert_int_eq(dp_port_attach(fx_dp, fx_port[3],
							true), 3);
		}
		for (uint32_t q = 0; q < N_PORTS; q++)
			while (dp_mem_port_pop(fx_port[q], buf,
					       sizeof(buf)) >= 0)
				popped[q]++;
		rcu_quiescent();
		n_ops++;
	}
	rcu_offline();
	for (uint32_t i = 0; i < STRESS_WORKERS; i++)
		pthread_join(w[i].thread, NULL);
	rcu_thread_online();

	for (uint32_t q = 0; q < STRESS_WORKERS; q++) {
		struct dp_port_info info;

		while (dp_mem_port_pop(fx_port[q], buf, sizeof(buf)) >= 0)
			popped[q]++;
		ck_assert_int_eq(dp_port_get_info(fx_dp, q, &info), 0);
		ck_assert_uint_eq(w[q].n_sent, STRESS_FRAMES);
		ck_assert_uint_eq(info.stats.rx_packets, w[q].n_sent);
		ck_assert_uint_eq(info.stats.rx_bytes, w[q].n_bytes);
		ck_assert_uint_eq(info.stats.tx_packets, popped[q]);
		ck_assert_uint_eq(info.stats.tx_errors, 0);
	}
	ck_assert_uint_gt(n_ops, 0);
	/* The table is consistent with its counters. */
	{
		struct fdb_stats st;

		fdb_get_stats(fx_fdb, &st);
		ck_assert_uint_eq(count_entries_in(fx_fdb, FDB_NO_PORT,
						   FDB_ANY_VID, 0),
				  st.n_entries);
		ck_assert_uint_eq(count_entries_in(fx_fdb, FDB_NO_PORT,
						   FDB_ANY_VID, FDB_LEARNED),
				  st.n_dynamic);
	}
}
END_TEST

/*
 * A port that goes down loses its dynamic entries (dp.h).  Its own poll
 * thread keeps receiving while that happens; once dp_port_set_flags() has
 * returned and every reader has passed a quiescent state, no dynamic entry
 * may name the port.  The worker here plays the port's poll thread: it
 * sends frames from new source MACs to a static MAC on its own port (so
 * they are learned, then dropped as hairpins, and nothing queues up).
 */

#define RACE_ROUNDS	1000

struct race_worker {
	pthread_t thread;
	struct dp *dp;
	int stop;
	uint32_t next_mac;
};

static void *race_worker(void *arg)
{
	struct race_worker *w = arg;
	struct tframe fs[DP_BURST];
	struct dp_frame df[DP_BURST] = { 0 };
	static const uint8_t mac_s[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x55 };

	rcu_register_thread();
	while (!LOAD(&w->stop)) {
		for (unsigned int i = 0; i < DP_BURST; i++) {
			uint32_t m = w->next_mac++;
			uint8_t src[ETH_ALEN] = { 0x02, 0x01, m >> 24, m >> 16,
						  m >> 8, m };

			mkframe_seq(&fs[i], mac_s, src, 60, (uint16_t)i);
			df[i].data = fs[i].data;
			df[i].len = fs[i].len;
		}
		dp_input(w->dp, 1, df, DP_BURST, dp_now_ms());
		rcu_quiescent();
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

START_TEST(test_down_flush_concurrent)
{
	static const uint8_t mac_s[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x55 };
	struct race_worker w = { .dp = fx_dp };
	unsigned int stale_rounds = 0, stale_entries = 0, rounds;
	struct timespec t0, t;

	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac_s, 1, FDB_STATIC, fx_now), 0);
	ck_assert_int_eq(pthread_create(&w.thread, NULL, race_worker, &w), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (rounds = 0; rounds < RACE_ROUNDS; rounds++) {
		struct fdb_stats st;
		unsigned int stale, spins = 0;

		/* Let the worker learn a little while the port is up. */
		do {
			rcu_quiescent();
			fdb_get_stats(fx_fdb, &st);
		} while (st.n_dynamic < 64 && ++spins < 1000000);

		ck_assert_int_eq(dp_port_set_flags(fx_dp, 1, DP_PORT_UP, 0),
				 0);
		/* Every reader is now past the snapshot with the port up.
		 * (Waiting is a quiescent state of ours: say so to TSan.) */
		rcu_tsan_quiescent();
		synchronize_rcu();
		rcu_tsan_reclaim();
		stale = count_entries_in(fx_fdb, 1, FDB_ANY_VID,
					 FDB_LEARNED);
		if (stale) {
			stale_rounds++;
			stale_entries += stale;
			fdb_flush(fx_fdb, 1, FDB_ANY_VID, FDB_FLUSH_DYNAMIC);
		}
		ck_assert_int_eq(dp_port_set_flags(fx_dp, 1, DP_PORT_UP,
						   DP_PORT_UP), 0);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= 3)
			break;
	}
	STORE(&w.stop, 1);
	rcu_offline();
	pthread_join(w.thread, NULL);
	rcu_thread_online();
	ck_assert_msg(!stale_rounds, "%u of %u times the port went down, "
		      "dynamic entries on it survived the flush (%u in all): "
		      "its poll thread learned from the old snapshot after "
		      "dp_port_set_flags() flushed", stale_rounds, rounds,
		      stale_entries);
}
END_TEST

/*
 * A frame without GSO longer than the egress port's MTU, its Ethernet
 * header and one tag is not sent there and is counted (the kernel's
 * is_skb_forwardable()); other ports of a flood still get it.
 */
START_TEST(test_mtu_drop)
{
	struct dp_port_info info;
	struct tframe f;

	f = send_frame(1, mac_a, mac_b, 60);		/* mac_b on port 1 */
	expect_only(&f, BIT(0) | BIT(2) | BIT(3));
	ck_assert_int_eq(dp_port_set_mtu(fx_dp, 1, 60), 0);
	ck_assert_int_eq(dp_port_get_info(fx_dp, 1, &info), 0);
	ck_assert_uint_eq(info.mtu, 60);

	f = send_frame(0, mac_b, mac_a, 60 + 18);	/* just fits */
	expect_only(&f, BIT(1));
	f = send_frame(0, mac_b, mac_a, 60 + 19);
	expect_only(&f, 0);
	f = send_frame(0, mac_unknown, mac_a, 100);	/* a flood */
	expect_only(&f, BIT(2) | BIT(3));
	ck_assert_int_eq(dp_port_get_info(fx_dp, 1, &info), 0);
	ck_assert_uint_eq(info.stats.tx_drop_mtu, 2);
	ck_assert_uint_eq(info.stats.tx_packets, 1);
	ck_assert_int_eq(dp_port_get_info(fx_dp, 0, &info), 0);
	ck_assert_uint_eq(info.stats.tx_drop_mtu, 0);

	/* No MTU: no limit. */
	ck_assert_int_eq(dp_port_set_mtu(fx_dp, 1, 0), 0);
	f = send_frame(0, mac_b, mac_a, 120);
	expect_only(&f, BIT(1));
	ck_assert_int_eq(dp_port_set_mtu(fx_dp, DP_MAX_PORTS, 1500), -ENOENT);
}
END_TEST

/*
 * A kind with a poll thread whose rx_burst() can be held, offline, as a
 * kind blocked in a system call would be.  Removal of such a port must
 * wait until the thread has let go of it, however long that takes: it
 * once went ahead after 5 s and closed the port under the thread.
 */
struct hold_port {
	struct dp_port up;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool hold, inside, closed, closed_inside;
};

static int hold_rx_burst(struct dp_port *port, struct dp_io *io,
			 struct dp_frame *frames, unsigned int n)
{
	struct hold_port *hp = (struct hold_port *)port;
	uint64_t v;

	(void)io;
	(void)frames;
	(void)n;
	if (read(port->poll_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to clear */
	}
	pthread_mutex_lock(&hp->lock);
	if (hp->hold) {
		hp->inside = true;
		pthread_cond_broadcast(&hp->cond);
		pthread_mutex_unlock(&hp->lock);
		rcu_offline();
		pthread_mutex_lock(&hp->lock);
		while (hp->hold)
			pthread_cond_wait(&hp->cond, &hp->lock);
		pthread_mutex_unlock(&hp->lock);
		rcu_thread_online();
		pthread_mutex_lock(&hp->lock);
		hp->inside = false;
	}
	pthread_mutex_unlock(&hp->lock);
	return 0;
}

static void hold_tx_burst(struct dp_port *port, struct dp_io *io,
			  struct dp_tx *const *txs, unsigned int n)
{
	(void)port;
	(void)io;
	for (unsigned int i = 0; i < n; i++)
		txs[i]->err = 0;
}

/* Freed by the test: it looks at what close saw. */
static void hold_close(struct dp_port *port)
{
	struct hold_port *hp = (struct hold_port *)port;

	pthread_mutex_lock(&hp->lock);
	hp->closed = true;
	hp->closed_inside = hp->inside;
	pthread_mutex_unlock(&hp->lock);
	close(port->poll_fd);
}

static const struct port_ops hold_ops = {
	.kind = "hold",
	.rx_burst = hold_rx_burst,
	.tx_burst = hold_tx_burst,
	.close = hold_close,
};

static struct hold_port *hold_port_new(const char *name)
{
	struct hold_port *hp = calloc(1, sizeof(*hp));

	ck_assert_ptr_nonnull(hp);
	hp->up.ops = &hold_ops;
	snprintf(hp->up.name, sizeof(hp->up.name), "%s", name);
	hp->up.poll_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(hp->up.poll_fd, 0);
	pthread_mutex_init(&hp->lock, NULL);
	pthread_cond_init(&hp->cond, NULL);
	return hp;
}

struct detach_job {
	struct dp *dp;
	uint32_t index;
	int err;
	bool done;			/* atomic */
};

static void *detach_thread(void *arg)
{
	struct detach_job *job = arg;

	rcu_register_thread();
	job->err = dp_port_detach(job->dp, job->index);
	__atomic_store_n(&job->done, true, __ATOMIC_RELEASE);
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

START_TEST(test_detach_waits_for_stuck_thread)
{
	struct dp_io_opts io = { .uring = false, .n_threads = 1 };
	struct hold_port *a = hold_port_new("holda"), *b = hold_port_new("holdb");
	struct detach_job job = { .dp = fx_dp };
	uint64_t one = 1;
	pthread_t th;
	int ia, ib;

	/* Both on one poll thread: removing one is not stopping it. */
	dp_set_io_opts(fx_dp, &io);
	ia = dp_port_attach(fx_dp, &a->up, true);
	ib = dp_port_attach(fx_dp, &b->up, true);
	ck_assert_int_ge(ia, 0);
	ck_assert_int_ge(ib, 0);

	/* The thread goes into a's rx_burst and stays there, offline. */
	pthread_mutex_lock(&a->lock);
	a->hold = true;
	pthread_mutex_unlock(&a->lock);
	ck_assert_int_eq(write(a->up.poll_fd, &one, sizeof(one)), 8);
	pthread_mutex_lock(&a->lock);
	while (!a->inside)
		pthread_cond_wait(&a->cond, &a->lock);
	pthread_mutex_unlock(&a->lock);

	job.index = ia;
	rcu_offline();
	ck_assert_int_eq(pthread_create(&th, NULL, detach_thread, &job), 0);
	/* Longer than the 5 s removal used to give up after. */
	sleep(6);
	ck_assert(!__atomic_load_n(&job.done, __ATOMIC_ACQUIRE));
	pthread_mutex_lock(&a->lock);
	ck_assert(!a->closed);
	a->hold = false;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(th, NULL);
	rcu_thread_online();
	ck_assert_int_eq(job.err, 0);
	ck_assert(a->closed);
	ck_assert(!a->closed_inside);
	ck_assert_uint_ge(dp_port_detach_waited_ms(fx_dp), 5900);

	ck_assert_int_eq(dp_port_detach(fx_dp, ib), 0);
	ck_assert(b->closed);
	ck_assert_uint_lt(dp_port_detach_waited_ms(fx_dp), 5900);
	free(a);
	free(b);
}
END_TEST

static Suite *dataplane_suite(void)
{
	Suite *s = suite_create("dataplane");
	TCase *tc;

	tc = tcase_create("runt");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_runt_dropped);
	tcase_add_test(tc, test_min_frame_forwarded);
	suite_add_tcase(s, tc);

	tc = tcase_create("source");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_src_multicast_dropped);
	tcase_add_test(tc, test_src_zero_dropped);
	suite_add_tcase(s, tc);

	tc = tcase_create("link_local");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_ll_pause_dropped_not_learned);
	tcase_add_test(tc, test_ll_pause_never_forwarded);
	tcase_add_test(tc, test_ll_bpdu_flooded);
	tcase_add_test(tc, test_ll_consumed_but_learned);
	tcase_add_test(tc, test_ll_group_fwd_mask);
	tcase_add_test(tc, test_ll_range_boundary);
	tcase_add_test(tc, test_ll_8021ad_customer_groups);
	suite_add_tcase(s, tc);

	tc = tcase_create("learn");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_learn_and_forward);
	tcase_add_test(tc, test_learn_port_flag_off);
	tcase_add_test(tc, test_learn_switch_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("move");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_move);
	tcase_add_test(tc, test_move_sticky_static);
	suite_add_tcase(s, tc);

	tc = tcase_create("same_port");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_same_port_dropped);
	suite_add_tcase(s, tc);

	tc = tcase_create("flood");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_flood_classes);
	tcase_add_test(tc, test_flood_flag_unknown_unicast);
	tcase_add_test(tc, test_flood_flag_bcast);
	tcase_add_test(tc, test_flood_flag_mcast);
	tcase_add_test(tc, test_flood_flags_all_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("port_down");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_down_not_flooded_or_forwarded);
	tcase_add_test(tc, test_down_rx_dropped);
	tcase_add_test(tc, test_down_flushes_dynamic_keeps_static);
	tcase_add_test(tc, test_down_then_up);
	suite_add_tcase(s, tc);

	tc = tcase_create("tx_error");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_tx_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("counters");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_counters_exact);
	tcase_add_test(tc, test_counters_reset_on_attach);
	suite_add_tcase(s, tc);

	tc = tcase_create("detach");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_detach_flushes);
	tcase_add_test(tc, test_detach_index_reuse);
	tcase_add_test(tc, test_detach_deferred_flush);
	tcase_add_test(tc, test_attach_down_and_duplicate);
	suite_add_tcase(s, tc);

	tc = tcase_create("mtu");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_mtu_drop);
	suite_add_tcase(s, tc);

	tc = tcase_create("detach_stuck");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_detach_waits_for_stuck_thread);
	suite_add_tcase(s, tc);

	tc = tcase_create("burst");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_add_test(tc, test_burst_exact);
	tcase_add_test(tc, test_burst_over);
	tcase_add_test(tc, test_burst_many);
	tcase_add_test(tc, test_burst_learning_in_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("differential");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_differential);
	tcase_add_test(tc, test_differential_worker);
	tcase_add_test(tc, test_worker_refresh_bound);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, setup, mem_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stress);
	tcase_add_test(tc, test_down_flush_concurrent);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return check_main(dataplane_suite());
}
