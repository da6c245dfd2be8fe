/*
 * check_vlan.c - unit tests for vlan/: tag parse, TCI layout, push and pop,
 * port membership, ingress classification, egress tagging, PCP maps, and a
 * randomized push/parse/pop round trip.
 *
 * Everything here is a pure function over bytes, so each test builds its
 * frames by hand and compares exact bytes.  Frames handed to vlan_parse(),
 * vlan_push() and vlan_pop() live in heap buffers of exactly the size the
 * call may touch, so that ASan reports a read or write one byte too far.
 *
 *   one case:     CK_RUN_CASE=roundtrip build/tests/check_vlan
 *   another seed: VLAN_TEST_SEED=0x1234 CK_RUN_CASE=roundtrip ...
 *   sanitizers:   CK_FORK=no build-asan/tests/check_vlan
 */
#include "vlan/vlan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_common.h"

#define ROUNDTRIP_SEED	0x5eed0f7a9c0ffee1ULL
#define ROUNDTRIP_ITERS	20000
#define FRAME_MAX	1518

/* dst 02:00:00:00:00:02, src 02:00:00:00:00:01 */
#define MACS	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, \
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01

/* Helpers */

/* A heap copy of @len bytes, exactly @size bytes long (@size >= @len). */
static uint8_t *frame_dup(const uint8_t *bytes, uint32_t len, uint32_t size)
{
	uint8_t *buf = malloc(size ? size : 1);

	ck_assert_ptr_nonnull(buf);
	memset(buf, 0xee, size);
	memcpy(buf, bytes, len);
	return buf;
}

/* The first offset where two byte strings differ, or -1. */
static long first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

#define ck_assert_bytes(got, got_len, want, want_len)			\
	do {								\
		const uint8_t *g_ = (got), *w_ = (want);		\
		size_t gl_ = (got_len), wl_ = (want_len);		\
		long d_;						\
									\
		ck_assert_msg(gl_ == wl_, "length %zu, want %zu",	\
			      gl_, wl_);				\
		d_ = first_diff(g_, w_, gl_);				\
		ck_assert_msg(d_ < 0, "byte %ld is 0x%02x, want "	\
			      "0x%02x",				\
			      d_, d_ < 0 ? 0 : g_[d_],			\
			      d_ < 0 ? 0 : w_[d_]);			\
	} while (0)

#define ck_assert_tag(tag, want_tpid, want_pcp, want_dei, want_vid)	\
	do {								\
		ck_assert_uint_eq((tag)->tpid, (want_tpid));		\
		ck_assert_uint_eq((tag)->pcp, (want_pcp));		\
		ck_assert_uint_eq((tag)->dei, (want_dei));		\
		ck_assert_uint_eq((tag)->vid, (want_vid));		\
	} while (0)

/* Parse @len bytes of @bytes from an exact-size heap copy. */
static enum vlan_parse_result parse(const uint8_t *bytes, uint32_t len,
				    uint16_t tpid, struct vlan_tag *tag)
{
	uint8_t *buf = frame_dup(bytes, len, len);
	enum vlan_parse_result res = vlan_parse(buf, len, tpid, tag);

	free(buf);
	return res;
}

static const struct vlan_tag poison_tag = {
	.tpid = 0xdead, .pcp = 6, .dei = true, .vid = 0x0bad,
};

/* ---- parse ---- */

START_TEST(test_parse_untagged)
{
	const uint8_t ipv4[] = { MACS, 0x08, 0x00, 0x45, 0x00, 0x00, 0x54 };
	const uint8_t arp_min[] = { MACS, 0x08, 0x06 };
	struct vlan_tag tag = poison_tag;

	ck_assert_int_eq(parse(ipv4, sizeof(ipv4), VLAN_TPID_8021Q, &tag),
			 VLAN_UNTAGGED);
	ck_assert_int_eq(parse(ipv4, sizeof(ipv4), VLAN_TPID_8021AD, &tag),
			 VLAN_UNTAGGED);
	/* A 14-byte frame is only an Ethernet header. */
	ck_assert_int_eq(parse(arp_min, sizeof(arp_min), VLAN_TPID_8021Q,
			       &tag), VLAN_UNTAGGED);
}
END_TEST

START_TEST(test_parse_8021q_fields)
{
	static const struct {
		uint8_t tci_hi, tci_lo;
		uint8_t pcp;
		bool dei;
		uint16_t vid;
	} cases[] = {
		{ 0x00, 0x0a, 0, false, 10 },
		{ 0xa0, 0x0a, 5, false, 10 },
		{ 0xe0, 0x00, 7, false, 0 },	/* PCP 7, priority tag */
		{ 0x10, 0x00, 0, true, 0 },	/* DEI alone */
		{ 0x00, 0x00, 0, false, 0 },	/* priority tag, PCP 0 */
		{ 0x0f, 0xff, 0, false, 4095 },	/* VID 4095 alone */
		{ 0xff, 0xff, 7, true, 4095 },	/* every bit */
		{ 0xef, 0xff, 7, false, 4095 },
		{ 0x30, 0x01, 1, true, 1 },
		{ 0x0f, 0xfe, 0, false, 4094 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t frame[] = { MACS, 0x81, 0x00, cases[i].tci_hi,
					  cases[i].tci_lo, 0x08, 0x00, 0x45 };
		struct vlan_tag tag = poison_tag;

		ck_assert_msg(parse(frame, sizeof(frame), VLAN_TPID_8021Q,
				    &tag) == VLAN_TAGGED, "case %zu", i);
		ck_assert_msg(tag.tpid == VLAN_TPID_8021Q &&
			      tag.pcp == cases[i].pcp &&
			      tag.dei == cases[i].dei &&
			      tag.vid == cases[i].vid,
			      "case %zu: TCI %02x%02x parsed as tpid %#x "
			      "pcp %u dei %d vid %u, want pcp %u dei %d "
			      "vid %u", i,
			      cases[i].tci_hi, cases[i].tci_lo, tag.tpid,
			      tag.pcp, tag.dei, tag.vid, cases[i].pcp,
			      cases[i].dei, cases[i].vid);
	}
}
END_TEST

/* An 18-byte frame is the shortest tagged one: the tag and an ethertype. */
START_TEST(test_parse_minimal_tagged)
{
	const uint8_t frame[] = { MACS, 0x81, 0x00, 0x20, 0x64, 0x08, 0x06 };
	struct vlan_tag tag = poison_tag;

	ck_assert_int_eq(parse(frame, sizeof(frame), VLAN_TPID_8021Q, &tag),
			 VLAN_TAGGED);
	ck_assert_tag(&tag, VLAN_TPID_8021Q, 1, false, 100);
}
END_TEST

/* Only the TPID asked for counts as a tag; the other is an ethertype. */
START_TEST(test_parse_tpid_selects)
{
	const uint8_t ad[] = { MACS, 0x88, 0xa8, 0x60, 0xc8, 0x08, 0x00 };
	const uint8_t q[] = { MACS, 0x81, 0x00, 0x60, 0xc8, 0x08, 0x00 };
	struct vlan_tag tag = poison_tag;

	ck_assert_int_eq(parse(ad, sizeof(ad), VLAN_TPID_8021AD, &tag),
			 VLAN_TAGGED);
	ck_assert_tag(&tag, VLAN_TPID_8021AD, 3, false, 200);
	ck_assert_int_eq(parse(ad, sizeof(ad), VLAN_TPID_8021Q, &tag),
			 VLAN_UNTAGGED);

	tag = poison_tag;
	ck_assert_int_eq(parse(q, sizeof(q), VLAN_TPID_8021Q, &tag),
			 VLAN_TAGGED);
	ck_assert_tag(&tag, VLAN_TPID_8021Q, 3, false, 200);
	ck_assert_int_eq(parse(q, sizeof(q), VLAN_TPID_8021AD, &tag),
			 VLAN_UNTAGGED);

	/* Byte order: 0x0081 and 0xa888 are not tags. */
	{
		const uint8_t swapped_q[] = { MACS, 0x00, 0x81, 0, 10, 8, 0 };
		const uint8_t swapped_ad[] = { MACS, 0xa8, 0x88, 0, 10, 8, 0 };

		ck_assert_int_eq(parse(swapped_q, sizeof(swapped_q),
				       VLAN_TPID_8021Q, &tag), VLAN_UNTAGGED);
		ck_assert_int_eq(parse(swapped_ad, sizeof(swapped_ad),
				       VLAN_TPID_8021AD, &tag), VLAN_UNTAGGED);
	}
}
END_TEST

/* QinQ: only the outer tag is parsed, whatever the inner one is. */
START_TEST(test_parse_double_tagged)
{
	const uint8_t qinq[] = { MACS, 0x88, 0xa8, 0x00, 0x64, /* S 100 */
				 0x81, 0x00, 0xa0, 0x0a,	/* C 10 */
				 0x08, 0x00, 0x45 };
	const uint8_t qq[] = { MACS, 0x81, 0x00, 0xe0, 0x14,	/* 20 */
			       0x81, 0x00, 0x30, 0x1e,		/* 30 */
			       0x08, 0x06 };
	struct vlan_tag tag = poison_tag;

	ck_assert_int_eq(parse(qinq, sizeof(qinq), VLAN_TPID_8021AD, &tag),
			 VLAN_TAGGED);
	ck_assert_tag(&tag, VLAN_TPID_8021AD, 0, false, 100);
	/* The C-tag is behind the S-tag: to an 802.1Q switch, untagged. */
	ck_assert_int_eq(parse(qinq, sizeof(qinq), VLAN_TPID_8021Q, &tag),
			 VLAN_UNTAGGED);

	tag = poison_tag;
	ck_assert_int_eq(parse(qq, sizeof(qq), VLAN_TPID_8021Q, &tag),
			 VLAN_TAGGED);
	ck_assert_tag(&tag, VLAN_TPID_8021Q, 7, false, 20);
	ck_assert_int_eq(parse(qq, sizeof(qq), VLAN_TPID_8021AD, &tag),
			 VLAN_UNTAGGED);
}
END_TEST

START_TEST(test_parse_truncated)
{
	const uint8_t q[] = { MACS, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00 };
	const uint8_t ad[] = { MACS, 0x88, 0xa8, 0x00, 0x0a, 0x08, 0x00 };
	struct vlan_tag tag;

	for (uint32_t len = 14; len < VLAN_ETH_HLEN; len++) {
		tag = poison_tag;
		ck_assert_msg(parse(q, len, VLAN_TPID_8021Q, &tag) ==
			      VLAN_TRUNCATED, "8100, %u bytes", len);
		ck_assert_msg(parse(ad, len, VLAN_TPID_8021AD, &tag) ==
			      VLAN_TRUNCATED, "88a8, %u bytes", len);
		/* Not the TPID asked for: a plain short frame. */
		ck_assert_msg(parse(q, len, VLAN_TPID_8021AD, &tag) ==
			      VLAN_UNTAGGED, "8100 as 88a8, %u bytes", len);
		ck_assert_msg(parse(ad, len, VLAN_TPID_8021Q, &tag) ==
			      VLAN_UNTAGGED, "88a8 as 8100, %u bytes", len);
	}
	ck_assert_int_eq(parse(q, VLAN_ETH_HLEN, VLAN_TPID_8021Q, &tag),
			 VLAN_TAGGED);
	ck_assert_int_eq(parse(ad, VLAN_ETH_HLEN, VLAN_TPID_8021AD, &tag),
			 VLAN_TAGGED);
}
END_TEST

/* ---- TCI and tag layout ---- */

START_TEST(test_tci)
{
	struct vlan_tag tag = { .tpid = VLAN_TPID_8021Q };

	ck_assert_uint_eq(vlan_tci(&tag), 0x0000);
	tag.vid = 4095;
	ck_assert_uint_eq(vlan_tci(&tag), 0x0fff);
	tag.vid = 0;
	tag.dei = true;
	ck_assert_uint_eq(vlan_tci(&tag), 0x1000);
	tag.dei = false;
	tag.pcp = 7;
	ck_assert_uint_eq(vlan_tci(&tag), 0xe000);
	tag.pcp = 1;
	ck_assert_uint_eq(vlan_tci(&tag), 0x2000);
	tag.pcp = 5;
	tag.vid = 10;
	ck_assert_uint_eq(vlan_tci(&tag), 0xa00a);
	tag.pcp = 7;
	tag.dei = true;
	tag.vid = 4095;
	ck_assert_uint_eq(vlan_tci(&tag), 0xffff);
	/* A VID above 12 bits cannot spill into DEI or PCP. */
	tag.pcp = 0;
	tag.dei = false;
	tag.vid = 0x1abc;
	ck_assert_uint_eq(vlan_tci(&tag), 0x0abc);
}
END_TEST

START_TEST(test_tag_write)
{
	static const struct {
		struct vlan_tag tag;
		uint8_t bytes[VLAN_HLEN];
	} cases[] = {
		{ { VLAN_TPID_8021Q, 0, false, 1 },
		  { 0x81, 0x00, 0x00, 0x01 } },
		{ { VLAN_TPID_8021Q, 5, false, 10 },
		  { 0x81, 0x00, 0xa0, 0x0a } },
		{ { VLAN_TPID_8021Q, 7, true, 4095 },
		  { 0x81, 0x00, 0xff, 0xff } },
		{ { VLAN_TPID_8021Q, 0, true, 0 }, { 0x81, 0x00, 0x10, 0x00 } },
		{ { VLAN_TPID_8021Q, 3, false, 0x123 },
		  { 0x81, 0x00, 0x61, 0x23 } },
		{ { VLAN_TPID_8021AD, 6, true, 4094 },
		  { 0x88, 0xa8, 0xdf, 0xfe } },
		{ { 0x9100, 0, false, 0 }, { 0x91, 0x00, 0x00, 0x00 } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[VLAN_HLEN + 2];
		const uint8_t want_tail[2] = { 0x5a, 0x5a };

		memset(out, 0x5a, sizeof(out));
		vlan_tag_write(&cases[i].tag, out);
		ck_assert_msg(first_diff(out, cases[i].bytes, VLAN_HLEN) < 0,
			      "case %zu: %02x %02x %02x %02x", i, out[0],
			      out[1], out[2], out[3]);
		/* Four bytes and not one more. */
		ck_assert_bytes(out + VLAN_HLEN, 2, want_tail, 2);
	}
}
END_TEST

/* ---- push and pop ---- */

START_TEST(test_push_untagged)
{
	const uint8_t frame[] = { MACS, 0x08, 0x00, 0x45, 0x00, 0x00, 0x1c,
				  0xde, 0xad };
	const uint8_t want[] = { MACS, 0x81, 0x00, 0xa0, 0x0a, 0x08, 0x00,
				 0x45, 0x00, 0x00, 0x1c, 0xde, 0xad };
	const struct vlan_tag tag = { VLAN_TPID_8021Q, 5, false, 10 };
	uint8_t *buf = frame_dup(frame, sizeof(frame), sizeof(frame) + 4);
	uint32_t len = vlan_push(buf, sizeof(frame), &tag);

	ck_assert_bytes(buf, len, want, sizeof(want));
	free(buf);
}
END_TEST

/* Pushing onto a tagged frame makes the new tag the outer one. */
START_TEST(test_push_tagged)
{
	const uint8_t frame[] = { MACS, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x06,
				  0x00, 0x01 };
	const uint8_t want[] = { MACS, 0x88, 0xa8, 0x30, 0x64,
				 0x81, 0x00, 0x00, 0x0a, 0x08, 0x06,
				 0x00, 0x01 };
	const struct vlan_tag tag = { VLAN_TPID_8021AD, 1, true, 100 };
	uint8_t *buf = frame_dup(frame, sizeof(frame), sizeof(frame) + 4);
	uint32_t len = vlan_push(buf, sizeof(frame), &tag);
	struct vlan_tag got = poison_tag;

	ck_assert_bytes(buf, len, want, sizeof(want));
	ck_assert_int_eq(vlan_parse(buf, len, VLAN_TPID_8021AD, &got),
			 VLAN_TAGGED);
	ck_assert_tag(&got, VLAN_TPID_8021AD, 1, true, 100);
	free(buf);
}
END_TEST

START_TEST(test_push_minimal)
{
	const uint8_t frame[] = { MACS, 0x88, 0xb5 };
	const uint8_t want[] = { MACS, 0x81, 0x00, 0xef, 0xfe, 0x88, 0xb5 };
	const struct vlan_tag tag = { VLAN_TPID_8021Q, 7, false, 4094 };
	uint8_t *buf = frame_dup(frame, sizeof(frame), sizeof(frame) + 4);
	uint32_t len = vlan_push(buf, sizeof(frame), &tag);

	ck_assert_uint_eq(len, VLAN_ETH_HLEN);
	ck_assert_bytes(buf, len, want, sizeof(want));
	free(buf);
}
END_TEST

START_TEST(test_push_pop_roundtrip)
{
	uint8_t frame[64] = { MACS, 0x08, 0x00 };
	const struct vlan_tag tags[] = {
		{ VLAN_TPID_8021Q, 0, false, 1 },
		{ VLAN_TPID_8021Q, 7, true, 4095 },
		{ VLAN_TPID_8021Q, 0, false, 0 },
		{ VLAN_TPID_8021AD, 4, false, 300 },
	};

	for (size_t i = 14; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		uint8_t *buf = frame_dup(frame, sizeof(frame),
					 sizeof(frame) + 4);
		uint32_t len = vlan_push(buf, sizeof(frame), &tags[i]);

		ck_assert_uint_eq(len, sizeof(frame) + 4);
		len = vlan_pop(buf, len);
		ck_assert_bytes(buf, len, frame, sizeof(frame));
		free(buf);
	}
}
END_TEST

START_TEST(test_pop_tagged)
{
	const uint8_t frame[] = { MACS, 0x81, 0x00, 0xa0, 0x0a, 0x08, 0x00,
				  0x45, 0x00 };
	const uint8_t want[] = { MACS, 0x08, 0x00, 0x45, 0x00 };
	uint8_t *buf = frame_dup(frame, sizeof(frame), sizeof(frame));
	uint32_t len = vlan_pop(buf, sizeof(frame));

	ck_assert_bytes(buf, len, want, sizeof(want));
	free(buf);
}
END_TEST

/* An 18-byte tagged frame pops to a bare 14-byte header. */
START_TEST(test_pop_minimal)
{
	const uint8_t frame[] = { MACS, 0x81, 0x00, 0x00, 0x01, 0x88, 0xcc };
	const uint8_t want[] = { MACS, 0x88, 0xcc };
	uint8_t *buf = frame_dup(frame, sizeof(frame), sizeof(frame));
	uint32_t len = vlan_pop(buf, sizeof(frame));

	ck_assert_bytes(buf, len, want, sizeof(want));
	free(buf);
}
END_TEST

/* Shorter than a tagged header: 0, and the bytes are left alone. */
START_TEST(test_pop_short)
{
	const uint8_t frame[] = { MACS, 0x81, 0x00, 0x00, 0x0a, 0x08 };

	for (uint32_t len = 0; len < VLAN_ETH_HLEN; len++) {
		uint8_t *buf = frame_dup(frame, len, len);

		ck_assert_msg(vlan_pop(buf, len) == 0, "%u bytes", len);
		ck_assert_bytes(buf, len, frame, len);
		free(buf);
	}
}
END_TEST

START_TEST(test_pop_double_tagged)
{
	const uint8_t frame[] = { MACS, 0x88, 0xa8, 0x00, 0x64,
				  0x81, 0x00, 0xa0, 0x0a, 0x08, 0x00, 0x45 };
	const uint8_t want[] = { MACS, 0x81, 0x00, 0xa0, 0x0a, 0x08, 0x00,
				 0x45 };
	uint8_t *buf = frame_dup(frame, sizeof(frame), sizeof(frame));
	uint32_t len = vlan_pop(buf, sizeof(frame));
	struct vlan_tag tag = poison_tag;

	ck_assert_bytes(buf, len, want, sizeof(want));
	ck_assert_int_eq(vlan_parse(buf, len, VLAN_TPID_8021Q, &tag),
			 VLAN_TAGGED);
	ck_assert_tag(&tag, VLAN_TPID_8021Q, 5, false, 10);
	free(buf);
}
END_TEST

/* ---- membership ---- */

static struct vlan_port fx_port;

static void setup_port(void)
{
	memset(&fx_port, 0xa5, sizeof(fx_port));
	vlan_port_init(&fx_port);
}

static void teardown_port(void)
{
}

/* Every field of @vp says "no VLANs". */
static void assert_port_empty(const struct vlan_port *vp)
{
	ck_assert_uint_eq(vp->pvid, 0);
	ck_assert_uint_eq(vp->n_members, 0);
	for (unsigned int i = 0; i < VLAN_N_VID / 64; i++) {
		ck_assert_msg(vp->member[i] == 0, "member[%u] %#" PRIx64, i,
			      vp->member[i]);
		ck_assert_msg(vp->untagged[i] == 0, "untagged[%u] %#" PRIx64,
			      i, vp->untagged[i]);
	}
	for (unsigned int vid = 0; vid < VLAN_N_VID + 2; vid++)
		ck_assert_msg(!vlan_is_member(vp, (uint16_t)vid), "vid %u",
			      vid);
}

START_TEST(test_port_init_empty)
{
	assert_port_empty(&fx_port);
}
END_TEST

/* Linux's default for a new bridge port: VLAN 1, PVID, egress untagged. */
START_TEST(test_port_default_pvid)
{
	ck_assert_int_eq(vlan_port_add(&fx_port, 1, true, true), 0);
	ck_assert_uint_eq(fx_port.pvid, 1);
	ck_assert_uint_eq(fx_port.n_members, 1);
	ck_assert(vlan_is_member(&fx_port, 1));
	ck_assert(vlan_bit(fx_port.untagged, 1));
	ck_assert(!vlan_is_member(&fx_port, 2));
	ck_assert_uint_eq(fx_port.member[0], 1ull << 1);
	ck_assert_uint_eq(fx_port.untagged[0], 1ull << 1);
}
END_TEST

START_TEST(test_port_add_range)
{
	static const uint16_t bad[] = { 0, 4095, 4096, 4097, 0xffff };
	struct vlan_port before;

	ck_assert_int_eq(vlan_port_add(&fx_port, 10, true, true), 0);
	before = fx_port;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(vlan_port_add(&fx_port, bad[i], true, true) ==
			      -EINVAL, "vid %u", bad[i]);
		ck_assert_msg(vlan_port_add(&fx_port, bad[i], false, false) ==
			      -EINVAL, "vid %u", bad[i]);
		/* Refused means untouched. */
		ck_assert_msg(memcmp(&before, &fx_port, sizeof(before)) == 0,
			      "vid %u changed the port", bad[i]);
	}

	ck_assert_int_eq(vlan_port_add(&fx_port, 1, false, false), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 4094, false, true), 0);
	ck_assert(vlan_is_member(&fx_port, 1));
	ck_assert(vlan_is_member(&fx_port, 4094));
	ck_assert(!vlan_is_member(&fx_port, 4095));
	ck_assert(!vlan_is_member(&fx_port, 0));
	ck_assert_uint_eq(fx_port.member[0], 1ull << 1 | 1ull << 10);
	ck_assert_uint_eq(fx_port.member[63], 1ull << 62);
	ck_assert_uint_eq(fx_port.untagged[63], 1ull << 62);
	ck_assert_uint_eq(fx_port.n_members, 3);
	ck_assert_uint_eq(fx_port.pvid, 10);
}
END_TEST

/* There is one PVID: setting it elsewhere moves it. */
START_TEST(test_port_pvid_moves)
{
	ck_assert_int_eq(vlan_port_add(&fx_port, 10, true, true), 0);
	ck_assert_uint_eq(fx_port.pvid, 10);
	ck_assert_int_eq(vlan_port_add(&fx_port, 20, true, false), 0);
	ck_assert_uint_eq(fx_port.pvid, 20);
	ck_assert(vlan_is_member(&fx_port, 10));
	ck_assert(vlan_bit(fx_port.untagged, 10));
	ck_assert(vlan_is_member(&fx_port, 20));
	ck_assert(!vlan_bit(fx_port.untagged, 20));
	ck_assert_uint_eq(fx_port.n_members, 2);

	/* Adding another VID without pvid leaves the PVID where it is. */
	ck_assert_int_eq(vlan_port_add(&fx_port, 30, false, false), 0);
	ck_assert_uint_eq(fx_port.pvid, 20);
	/* So does re-adding a VID that is not the PVID. */
	ck_assert_int_eq(vlan_port_add(&fx_port, 10, false, true), 0);
	ck_assert_uint_eq(fx_port.pvid, 20);
	/* And re-adding the PVID as PVID. */
	ck_assert_int_eq(vlan_port_add(&fx_port, 20, true, false), 0);
	ck_assert_uint_eq(fx_port.pvid, 20);
	ck_assert_uint_eq(fx_port.n_members, 3);
}
END_TEST

/* bridge vlan add vid 10 dev X (no pvid) on the PVID clears it. */
START_TEST(test_port_readd_clears_pvid)
{
	ck_assert_int_eq(vlan_port_add(&fx_port, 10, true, true), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 10, false, true), 0);
	ck_assert_uint_eq(fx_port.pvid, 0);
	ck_assert(vlan_is_member(&fx_port, 10));
	ck_assert(vlan_bit(fx_port.untagged, 10));
	ck_assert_uint_eq(fx_port.n_members, 1);
}
END_TEST

START_TEST(test_port_untagged_flag)
{
	ck_assert_int_eq(vlan_port_add(&fx_port, 100, false, true), 0);
	ck_assert(vlan_bit(fx_port.untagged, 100));
	ck_assert_uint_eq(fx_port.untagged[1], 1ull << 36);
	/* Re-adding without untagged clears the flag, as Linux does. */
	ck_assert_int_eq(vlan_port_add(&fx_port, 100, false, false), 0);
	ck_assert(!vlan_bit(fx_port.untagged, 100));
	ck_assert_uint_eq(fx_port.untagged[1], 0);
	ck_assert(vlan_is_member(&fx_port, 100));
	ck_assert_int_eq(vlan_port_add(&fx_port, 100, true, true), 0);
	ck_assert(vlan_bit(fx_port.untagged, 100));
	ck_assert_uint_eq(fx_port.n_members, 1);
	/* Neighbours are not touched. */
	ck_assert(!vlan_bit(fx_port.untagged, 99));
	ck_assert(!vlan_bit(fx_port.untagged, 101));
}
END_TEST

START_TEST(test_port_del)
{
	static const uint16_t never[] = { 0, 1, 11, 4094, 4095, 4096, 0xffff };

	ck_assert_int_eq(vlan_port_add(&fx_port, 10, true, true), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 20, false, false), 0);
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		ck_assert_msg(vlan_port_del(&fx_port, never[i]) == -ENOENT,
			      "vid %u", never[i]);
	ck_assert_uint_eq(fx_port.n_members, 2);

	ck_assert_int_eq(vlan_port_del(&fx_port, 20), 0);
	ck_assert(!vlan_is_member(&fx_port, 20));
	ck_assert_uint_eq(fx_port.n_members, 1);
	ck_assert_uint_eq(fx_port.pvid, 10);
	ck_assert_int_eq(vlan_port_del(&fx_port, 20), -ENOENT);

	/* Deleting the PVID leaves the port without one. */
	ck_assert_int_eq(vlan_port_del(&fx_port, 10), 0);
	ck_assert_uint_eq(fx_port.pvid, 0);
	/* And without a trace: the untagged bit went with it. */
	assert_port_empty(&fx_port);
	ck_assert_int_eq(vlan_port_del(&fx_port, 10), -ENOENT);
}
END_TEST

START_TEST(test_port_n_members)
{
	struct vlan_port empty;

	for (uint16_t vid = 1; vid <= 4094; vid++)
		ck_assert_int_eq(vlan_port_add(&fx_port, vid, false,
					       vid & 1), 0);
	ck_assert_uint_eq(fx_port.n_members, 4094);
	for (uint16_t vid = 1; vid <= 4094; vid++)
		ck_assert_int_eq(vlan_port_add(&fx_port, vid, vid == 7,
					       false), 0);
	ck_assert_uint_eq(fx_port.n_members, 4094);
	ck_assert_uint_eq(fx_port.pvid, 7);
	for (unsigned int i = 0; i < VLAN_N_VID / 64; i++) {
		uint64_t want = ~0ull;

		if (i == 0)
			want &= ~1ull;			/* VID 0 */
		if (i == VLAN_N_VID / 64 - 1)
			want &= ~(1ull << 63);		/* VID 4095 */
		ck_assert_msg(fx_port.member[i] == want, "member[%u] %#"
			      PRIx64, i, fx_port.member[i]);
		ck_assert_uint_eq(fx_port.untagged[i], 0);
	}
	for (uint16_t vid = 4094; vid >= 1; vid--) {
		ck_assert_int_eq(vlan_port_del(&fx_port, vid), 0);
		ck_assert_uint_eq(fx_port.n_members, vid - 1);
	}
	vlan_port_init(&empty);
	ck_assert(memcmp(&empty, &fx_port, sizeof(empty)) == 0);
	assert_port_empty(&fx_port);
}
END_TEST

/* ---- ingress ---- */

static struct vlan_tag ctag(uint8_t pcp, uint16_t vid)
{
	return (struct vlan_tag){ VLAN_TPID_8021Q, pcp, false, vid };
}

START_TEST(test_ingress_untagged)
{
	/* A tag the frame did not carry must be ignored. */
	const struct vlan_tag stale = ctag(0, 20);

	ck_assert_int_eq(vlan_port_add(&fx_port, 20, false, false), 0);
	/* No PVID: dropped. */
	ck_assert_uint_eq(vlan_ingress(&fx_port, false, &stale), 0);

	ck_assert_int_eq(vlan_port_add(&fx_port, 10, true, true), 0);
	ck_assert_uint_eq(vlan_ingress(&fx_port, false, &stale), 10);

	/* PVID cleared by a re-add: dropped again. */
	ck_assert_int_eq(vlan_port_add(&fx_port, 10, false, true), 0);
	ck_assert_uint_eq(vlan_ingress(&fx_port, false, &stale), 0);
}
END_TEST

START_TEST(test_ingress_priority_tagged)
{
	const struct vlan_tag prio = ctag(6, 0);
	const struct vlan_tag prio_dei = { VLAN_TPID_8021Q, 7, true, 0 };

	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &prio), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 30, true, true), 0);
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &prio), 30);
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &prio_dei), 30);
	ck_assert_int_eq(vlan_port_del(&fx_port, 30), 0);
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &prio), 0);
}
END_TEST

START_TEST(test_ingress_tagged)
{
	const struct vlan_tag t10 = ctag(0, 10), t20 = ctag(5, 20);
	const struct vlan_tag t1 = ctag(0, 1), t4094 = ctag(7, 4094);
	const struct vlan_tag t11 = ctag(0, 11);

	ck_assert_int_eq(vlan_port_add(&fx_port, 1, true, true), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 10, false, false), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 4094, false, true), 0);

	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &t10), 10);
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &t1), 1);
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &t4094), 4094);
	/* Not a member: dropped, not moved to the PVID. */
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &t20), 0);
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &t11), 0);

	/* Membership without a PVID still admits tagged frames. */
	ck_assert_int_eq(vlan_port_del(&fx_port, 1), 0);
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &t10), 10);
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &t1), 0);
}
END_TEST

START_TEST(test_ingress_vid_4095)
{
	const struct vlan_tag reserved = ctag(0, 4095);

	ck_assert_int_eq(vlan_port_add(&fx_port, 1, true, true), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 4094, false, false), 0);
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &reserved), 0);

	/* Even a port whose bitmap claims 4095 (vlan_port_add refuses it,
	 * but struct vlan_port is open) must not admit it. */
	fx_port.member[4095 / 64] |= 1ull << (4095 % 64);
	ck_assert_uint_eq(vlan_ingress(&fx_port, true, &reserved), 0);
}
END_TEST

/* ---- egress ---- */

START_TEST(test_egress)
{
	ck_assert_int_eq(vlan_port_add(&fx_port, 1, true, true), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 10, false, true), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 20, false, false), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 30, true, false), 0);
	ck_assert_int_eq(vlan_port_add(&fx_port, 4094, false, true), 0);

	/* Untagged membership: stripped, unless reorder_hdr is off. */
	ck_assert(!vlan_egress_tagged(&fx_port, 1, true));
	ck_assert(!vlan_egress_tagged(&fx_port, 10, true));
	ck_assert(!vlan_egress_tagged(&fx_port, 4094, true));
	ck_assert(vlan_egress_tagged(&fx_port, 1, false));
	ck_assert(vlan_egress_tagged(&fx_port, 10, false));
	ck_assert(vlan_egress_tagged(&fx_port, 4094, false));

	/* Tagged membership (PVID or not): tagged either way. */
	ck_assert(vlan_egress_tagged(&fx_port, 20, true));
	ck_assert(vlan_egress_tagged(&fx_port, 20, false));
	ck_assert(vlan_egress_tagged(&fx_port, 30, true));
	ck_assert(vlan_egress_tagged(&fx_port, 30, false));

	/* Re-adding 10 as tagged changes its egress. */
	ck_assert_int_eq(vlan_port_add(&fx_port, 10, false, false), 0);
	ck_assert(vlan_egress_tagged(&fx_port, 10, true));
}
END_TEST

/* ---- PCP maps ---- */

/* vlan_qos_map_parse() takes writable words; copy string constants. */
static int qos_parse(struct vlan_qos_map *map, int argc,
		     const char *const words[])
{
	char buf[8][16];
	char *argv[8];

	ck_assert_int_le(argc, 8);
	for (int i = 0; i < argc; i++) {
		ck_assert_uint_lt(strlen(words[i]), sizeof(buf[i]));
		strcpy(buf[i], words[i]);
		argv[i] = buf[i];
	}
	return vlan_qos_map_parse(map, argc, argv);
}

#define ck_assert_qos(map, ...)						\
	do {								\
		const uint8_t want_[8] = { __VA_ARGS__ };		\
		ck_assert_bytes((map)->to, 8, want_, 8);		\
	} while (0)

START_TEST(test_qos_init)
{
	struct vlan_qos_map map;

	memset(&map, 0xff, sizeof(map));
	vlan_qos_map_init(&map);
	ck_assert_qos(&map, 0, 1, 2, 3, 4, 5, 6, 7);
}
END_TEST

START_TEST(test_qos_parse)
{
	const char *const w1[] = { "1:5", "7:0" };
	const char *const w2[] = { "2:3" };
	const char *const w3[] = { "0:7", "7:7" };
	const char *const w4[] = { "4:1", "4:2" };
	struct vlan_qos_map map;

	vlan_qos_map_init(&map);
	ck_assert_int_eq(qos_parse(&map, 2, w1), 0);
	ck_assert_qos(&map, 0, 5, 2, 3, 4, 5, 6, 0);
	/* On top of what the map holds. */
	ck_assert_int_eq(qos_parse(&map, 1, w2), 0);
	ck_assert_qos(&map, 0, 5, 3, 3, 4, 5, 6, 0);
	ck_assert_int_eq(qos_parse(&map, 2, w3), 0);
	ck_assert_qos(&map, 7, 5, 3, 3, 4, 5, 6, 7);
	/* Words apply in order: the last one for a PCP wins. */
	ck_assert_int_eq(qos_parse(&map, 2, w4), 0);
	ck_assert_qos(&map, 7, 5, 3, 3, 2, 5, 6, 7);
	/* No words, no change. */
	ck_assert_int_eq(qos_parse(&map, 0, w1), 0);
	ck_assert_qos(&map, 7, 5, 3, 3, 2, 5, 6, 7);
}
END_TEST

START_TEST(test_qos_invalid)
{
	static const char *const bad[] = {
		"8:1", "1:8", "1-2", "1:", ":1", "11:2", "1:22", "", "1",
		"a:1", "1:a", "-1:2", " 1:2", "1:2 ", "1::", "9:9", "/:0",
		"0:/",
	};
	struct vlan_qos_map map, before;

	vlan_qos_map_init(&map);
	{
		const char *const w[] = { "3:6" };

		ck_assert_int_eq(qos_parse(&map, 1, w), 0);
	}
	before = map;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Alone, and after a valid word that must not apply. */
		const char *const alone[] = { bad[i] };
		const char *const after[] = { "1:5", "2:4", bad[i] };

		ck_assert_msg(qos_parse(&map, 1, alone) == -EINVAL,
			      "\"%s\" accepted", bad[i]);
		ck_assert_msg(memcmp(&map, &before, sizeof(map)) == 0,
			      "\"%s\" changed the map", bad[i]);
		ck_assert_msg(qos_parse(&map, 3, after) == -EINVAL,
			      "\"1:5 2:4 %s\" accepted", bad[i]);
		ck_assert_msg(memcmp(&map, &before, sizeof(map)) == 0,
			      "\"1:5 2:4 %s\" changed the map", bad[i]);
	}
	ck_assert_qos(&map, 0, 1, 2, 6, 4, 5, 6, 7);
}
END_TEST

/* ---- randomized round trip ---- */

static struct vlan_tag random_tag(uint64_t *rng)
{
	struct vlan_tag tag;

	tag.tpid = rng_below(rng, 2) ? VLAN_TPID_8021AD : VLAN_TPID_8021Q;
	tag.pcp = rng_below(rng, 8);
	tag.dei = rng_below(rng, 2);
	tag.vid = rng_below(rng, VLAN_N_VID);
	return tag;
}

/* The 4 tag bytes, written the naive way. */
static void naive_tag_bytes(const struct vlan_tag *tag, uint8_t out[4])
{
	out[0] = tag->tpid / 256;
	out[1] = tag->tpid % 256;
	out[2] = tag->pcp * 32 + tag->dei * 16 + tag->vid / 256;
	out[3] = tag->vid % 256;
}

#define RT_ASSERT(cond, fmt, ...)					\
	ck_assert_msg((cond), "seed %#" PRIx64 ", iteration %u (len %u, " \
		      "tags %u, outer tpid %#x pcp %u dei %d vid %u): " fmt, \
		      seed, iter, len, n_tags, outer.tpid, outer.pcp,	\
		      outer.dei, outer.vid, ##__VA_ARGS__)

START_TEST(test_roundtrip_random)
{
	const uint64_t seed = test_seed("VLAN_TEST_SEED", ROUNDTRIP_SEED);
	uint64_t rng = seed;
	uint8_t orig[FRAME_MAX];

	for (unsigned int iter = 0; iter < ROUNDTRIP_ITERS; iter++) {
		/* Mostly short frames, where the edges are; some long. */
		uint32_t len = rng_below(&rng, 4) ?
			14 + rng_below(&rng, 64) :
			14 + rng_below(&rng, FRAME_MAX - 14 + 1);
		unsigned int n_tags = 1 + (rng_below(&rng, 4) == 0);
		struct vlan_tag inner = random_tag(&rng);
		struct vlan_tag outer = n_tags == 2 ? random_tag(&rng) : inner;
		struct vlan_tag got = poison_tag;
		uint16_t other_tpid;
		uint8_t want_tag[4];
		uint32_t n, size = len + VLAN_HLEN * n_tags;
		uint8_t *buf;
		long d;

		for (uint32_t i = 0; i < len; i++)
			orig[i] = rng_next(&rng);
		/* Now and then an ethertype that looks like a tag. */
		if (rng_below(&rng, 8) == 0) {
			uint16_t et = rng_below(&rng, 2) ? VLAN_TPID_8021Q :
				VLAN_TPID_8021AD;

			orig[12] = et >> 8;
			orig[13] = et & 0xff;
		}
		buf = frame_dup(orig, len, size);

		n = vlan_push(buf, len, &inner);
		RT_ASSERT(n == len + VLAN_HLEN, "push returned %u", n);
		if (n_tags == 2) {
			n = vlan_push(buf, n, &outer);
			RT_ASSERT(n == size, "second push returned %u", n);
		}

		/* Bytes: MACs, outer tag, [inner tag], original rest. */
		d = first_diff(buf, orig, 12);
		RT_ASSERT(d < 0, "MAC byte %ld changed", d);
		naive_tag_bytes(&outer, want_tag);
		d = first_diff(buf + 12, want_tag, 4);
		RT_ASSERT(d < 0, "outer tag byte %ld is 0x%02x, want 0x%02x",
			  d, buf[12 + (d < 0 ? 0 : d)],
			  want_tag[d < 0 ? 0 : d]);
		if (n_tags == 2) {
			naive_tag_bytes(&inner, want_tag);
			d = first_diff(buf + 16, want_tag, 4);
			RT_ASSERT(d < 0, "inner tag byte %ld differs", d);
		}
		d = first_diff(buf + 12 + VLAN_HLEN * n_tags, orig + 12,
			       len - 12);
		RT_ASSERT(d < 0, "payload byte %ld differs", d);

		/* Parse gives the outer tag back. */
		RT_ASSERT(vlan_parse(buf, n, outer.tpid, &got) == VLAN_TAGGED,
			  "not parsed as tagged");
		RT_ASSERT(got.tpid == outer.tpid && got.pcp == outer.pcp &&
			  got.dei == outer.dei && got.vid == outer.vid,
			  "parsed tpid %#x pcp %u dei %d vid %u", got.tpid,
			  got.pcp, got.dei, got.vid);
		other_tpid = outer.tpid == VLAN_TPID_8021Q ?
			VLAN_TPID_8021AD : VLAN_TPID_8021Q;
		RT_ASSERT(vlan_parse(buf, n, other_tpid, &got) ==
			  VLAN_UNTAGGED, "tagged under TPID %#x", other_tpid);

		/* Pop, pop: the inner tag, then the original frame. */
		n = vlan_pop(buf, n);
		if (n_tags == 2) {
			RT_ASSERT(n == len + VLAN_HLEN, "pop returned %u", n);
			got = poison_tag;
			RT_ASSERT(vlan_parse(buf, n, inner.tpid, &got) ==
				  VLAN_TAGGED, "inner tag not parsed");
			RT_ASSERT(got.pcp == inner.pcp &&
				  got.dei == inner.dei &&
				  got.vid == inner.vid,
				  "inner parsed pcp %u dei %d vid %u", got.pcp,
				  got.dei, got.vid);
			n = vlan_pop(buf, n);
		}
		RT_ASSERT(n == len, "last pop returned %u", n);
		d = first_diff(buf, orig, len);
		RT_ASSERT(d < 0, "after pop byte %ld differs", d);
		free(buf);
	}
}
END_TEST

static Suite *vlan_suite(void)
{
	Suite *s = suite_create("vlan");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_untagged);
	tcase_add_test(tc, test_parse_8021q_fields);
	tcase_add_test(tc, test_parse_minimal_tagged);
	tcase_add_test(tc, test_parse_tpid_selects);
	tcase_add_test(tc, test_parse_double_tagged);
	tcase_add_test(tc, test_parse_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("tag_layout");
	tcase_add_test(tc, test_tci);
	tcase_add_test(tc, test_tag_write);
	suite_add_tcase(s, tc);

	tc = tcase_create("push_pop");
	tcase_add_test(tc, test_push_untagged);
	tcase_add_test(tc, test_push_tagged);
	tcase_add_test(tc, test_push_minimal);
	tcase_add_test(tc, test_push_pop_roundtrip);
	tcase_add_test(tc, test_pop_tagged);
	tcase_add_test(tc, test_pop_minimal);
	tcase_add_test(tc, test_pop_short);
	tcase_add_test(tc, test_pop_double_tagged);
	suite_add_tcase(s, tc);

	tc = tcase_create("membership");
	tcase_add_checked_fixture(tc, setup_port, teardown_port);
	tcase_add_test(tc, test_port_init_empty);
	tcase_add_test(tc, test_port_default_pvid);
	tcase_add_test(tc, test_port_add_range);
	tcase_add_test(tc, test_port_pvid_moves);
	tcase_add_test(tc, test_port_readd_clears_pvid);
	tcase_add_test(tc, test_port_untagged_flag);
	tcase_add_test(tc, test_port_del);
	tcase_add_test(tc, test_port_n_members);
	suite_add_tcase(s, tc);

	tc = tcase_create("vlan_in");
	tcase_add_checked_fixture(tc, setup_port, teardown_port);
	tcase_add_test(tc, test_ingress_untagged);
	tcase_add_test(tc, test_ingress_priority_tagged);
	tcase_add_test(tc, test_ingress_tagged);
	tcase_add_test(tc, test_ingress_vid_4095);
	suite_add_tcase(s, tc);

	tc = tcase_create("vlan_out");
	tcase_add_checked_fixture(tc, setup_port, teardown_port);
	tcase_add_test(tc, test_egress);
	suite_add_tcase(s, tc);

	tc = tcase_create("qos_map");
	tcase_add_test(tc, test_qos_init);
	tcase_add_test(tc, test_qos_parse);
	tcase_add_test(tc, test_qos_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roundtrip_random);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return check_main(vlan_suite());
}
