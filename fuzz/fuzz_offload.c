/*
 * fuzz_offload.c - libFuzzer target for dataplane/offload.c: the
 * validation of virtio-net headers (dp_offload_valid), checksum
 * completion (dp_sw_csum) and segmentation (dp_sw_gso), each fed a
 * random header and a random frame.
 *
 * Input: a virtio-net header, then the frame.
 *
 *	byte 0      flags (VIRTIO_NET_HDR_F_*)
 *	byte 1      gso_type
 *	bytes 2-3   hdr_len      } big-endian here, whatever the
 *	bytes 4-5   gso_size     } struct's byte order
 *	bytes 6-7   csum_start   }
 *	bytes 8-9   csum_offset  }
 *	byte 10     after how many segments emit stops (0: never)
 *	bytes 11-   the frame, from its destination MAC on
 *
 * The frame sits in a buffer of exactly its length and the segments are
 * built in one of exactly DP_SEG_MAX bytes, so ASan sees any access past
 * either.  What is checked, independently of offload.c (the checksums
 * with fuzz_ref_sum(), the layout parsed plainly here):
 *   - dp_offload_valid() accepts nothing offload.h says it refuses: an
 *     unknown GSO type, ECN without TCP, a GSO size of 0 or GSO_BY_FRAGS,
 *     hdr_len past the frame, checksum offsets outside it or inside the
 *     Ethernet header and tags, a TCP or UDP checksum field that is not
 *     TCP's or UDP's, more UDP segments than the kernel takes;
 *   - dp_sw_csum() fails exactly when the offsets do not fit, changes
 *     nothing but the two bytes of the field, and the checksum it
 *     writes verifies (when the field is at an even offset);
 *   - dp_sw_gso() emits nothing when it fails; otherwise as many segments
 *     as it says, each at most DP_SEG_MAX bytes and in the buffer given,
 *     all but the last of headers + gso_size bytes, the payload in order,
 *     the Ethernet header and tags as they were, IPv4 total length, id
 *     and header checksum, IPv6 payload length, TCP sequence numbers, UDP
 *     length, and TCP or UDP checksums that verify; and it stops when
 *     emit says so, returning what emit returned.
 * Each input is independent: no state outlives it.
 */
#include "dataplane/offload.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_common.h"

#define UDP_MAX_SEGMENTS 128
#define GSO_BY_FRAGS	0xffff

/* The Ethernet header with its 802.1Q/802.1ad tags: 0 when cut short. */
static uint32_t ref_l2_len(const uint8_t *f, uint32_t len)
{
	uint32_t off = 12;

	while (off + 2 <= len) {
		uint16_t proto = fz_be16(f + off);

		if (proto != 0x8100 && proto != 0x88a8)
			return off + 2;
		off += 4;
	}
	return 0;
}

/* What offload.h promises dp_offload_valid() refuses. */
static void check_valid(const struct virtio_net_hdr *vh, const uint8_t *f,
			uint32_t len)
{
	uint8_t type = vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	bool csum = vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	uint32_t start = vh->csum_start, off = vh->csum_offset;

	fuzz_assert(type == VIRTIO_NET_HDR_GSO_NONE ||
		    type == VIRTIO_NET_HDR_GSO_TCPV4 ||
		    type == VIRTIO_NET_HDR_GSO_TCPV6 ||
		    type == VIRTIO_NET_HDR_GSO_UDP_L4,
		    "valid with gso_type %#x", vh->gso_type);
	fuzz_assert(!(vh->gso_type & VIRTIO_NET_HDR_GSO_ECN) ||
		    type == VIRTIO_NET_HDR_GSO_TCPV4 ||
		    type == VIRTIO_NET_HDR_GSO_TCPV6,
		    "valid with ECN on gso_type %#x", vh->gso_type);
	fuzz_assert(vh->hdr_len <= len, "valid with hdr_len %u > len %u",
		    vh->hdr_len, len);
	if (csum) {
		uint32_t l2 = ref_l2_len(f, len);

		fuzz_assert(l2 && start >= l2,
			    "valid with csum_start %u inside the %u-byte L2 header",
			    start, l2);
		fuzz_assert(start + off + 2 <= len,
			    "valid with csum field %u+%u past len %u", start,
			    off, len);
	}
	if (type == VIRTIO_NET_HDR_GSO_NONE)
		return;
	fuzz_assert(vh->gso_size && vh->gso_size != GSO_BY_FRAGS,
		    "valid GSO with gso_size %u", vh->gso_size);
	if (type == VIRTIO_NET_HDR_GSO_UDP_L4) {
		fuzz_assert(csum && off == 6,
			    "valid USO without UDP's checksum field (off %u)",
			    off);
		fuzz_assert(start + 8 <= len &&
			    len - start - 8 <=
				    (uint32_t)vh->gso_size * UDP_MAX_SEGMENTS,
			    "valid USO of more than %u segments",
			    UDP_MAX_SEGMENTS);
	} else if (csum) {
		fuzz_assert(off == 16, "valid TSO with csum_offset %u", off);
		fuzz_assert(start + 20 <= len,
			    "valid TSO with no room for a TCP header");
	}
}

static void check_csum(const struct virtio_net_hdr *vh, const uint8_t *f,
		       uint32_t len)
{
	uint32_t start = vh->csum_start, at = start + vh->csum_offset;
	uint8_t *copy = malloc(len ? len : 1);
	bool fits = at + 2 <= len;
	int ret;

	if (!copy)
		return;
	memcpy(copy, f, len);
	ret = dp_sw_csum(copy, len, vh);
	fuzz_assert(fits ? ret == 0 : ret == -EINVAL,
		    "dp_sw_csum %d with field at %u of %u", ret, at, len);
	if (ret) {
		fuzz_assert(!memcmp(copy, f, len),
			    "dp_sw_csum failed but changed the frame");
		free(copy);
		return;
	}
	fuzz_assert(!memcmp(copy, f, at) &&
		    !memcmp(copy + at + 2, f + at + 2, len - at - 2),
		    "dp_sw_csum changed bytes outside its field at %u", at);
	/* The field held the pseudo-header sum: with it summed in, the
	 * completed region must verify. */
	if ((at - start) % 2 == 0)
		fuzz_assert(fuzz_ref_sum(copy + start, len - start,
					 fz_be16(f + at)) == 0xffff,
			    "checksum at %u (from %u, %u bytes) does not verify",
			    at, start, len);
	free(copy);
}

/* What the segments are checked against. */
struct gso_check {
	const uint8_t *frame;
	uint32_t len;
	const struct virtio_net_hdr *vh;
	const uint8_t *seg_buf;
	unsigned int stop_after;	/* emit returns 1 then; 0: never */
	unsigned int n;			/* segments seen */
	uint32_t hdr;			/* headers, from the first segment */
	bool one;			/* the first segment was the frame */
	unsigned int n_short;		/* segments shorter than hdr + mss */
	uint64_t payload;		/* payload bytes seen */
	/* The layout, parsed plainly here. */
	uint32_t l3, l4;
	bool ipv6, tcp;
};

/* Where the IP and L4 headers are, as a sender lays them out; false when
 * the frame is not IPv4 or IPv6. */
static bool ref_layout(struct gso_check *c)
{
	uint32_t l2 = ref_l2_len(c->frame, c->len);
	uint16_t proto;

	if (!l2)
		return false;
	proto = fz_be16(c->frame + l2 - 2);
	c->l3 = l2;
	c->tcp = (c->vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) !=
		 VIRTIO_NET_HDR_GSO_UDP_L4;
	if (proto == ETH_P_IP && l2 < c->len) {
		c->ipv6 = false;
		c->l4 = l2 + (c->frame[l2] & 0xf) * 4u;
	} else if (proto == ETH_P_IPV6) {
		c->ipv6 = true;
		c->l4 = l2 + 40;
	} else {
		return false;
	}
	if (c->vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		c->l4 = c->vh->csum_start;
	return true;
}

static void check_segment_headers(struct gso_check *c, const uint8_t *seg,
				  uint32_t seg_len, unsigned int i)
{
	uint32_t l3 = c->l3, l4 = c->l4, l4_len, pseudo;

	fuzz_assert(l4 + (c->tcp ? 20 : 8) <= seg_len,
		    "segment %u of %u bytes has no room for L4 at %u", i,
		    seg_len, l4);
	fuzz_assert(!memcmp(seg, c->frame, l3),
		    "segment %u: Ethernet header or tags changed", i);
	l4_len = seg_len - l4;
	if (c->ipv6) {
		fuzz_assert(fz_be16(seg + l3 + 4) == seg_len - l3 - 40,
			    "segment %u: IPv6 payload length %u, %u bytes", i,
			    fz_be16(seg + l3 + 4), seg_len);
		pseudo = fuzz_ref_sum(seg + l3 + 8, 32, 0);
	} else {
		uint32_t ihl = (seg[l3] & 0xf) * 4u;

		fuzz_assert(fz_be16(seg + l3 + 2) == seg_len - l3,
			    "segment %u: IPv4 total length %u, %u bytes", i,
			    fz_be16(seg + l3 + 2), seg_len);
		fuzz_assert(fz_be16(seg + l3 + 4) ==
			    (uint16_t)(fz_be16(c->frame + l3 + 4) + i),
			    "segment %u: IPv4 id %#x", i,
			    fz_be16(seg + l3 + 4));
		fuzz_assert(fuzz_ref_sum(seg + l3, ihl, 0) == 0xffff,
			    "segment %u: IPv4 header checksum", i);
		pseudo = fuzz_ref_sum(seg + l3 + 12, 8, 0);
	}
	pseudo += (c->tcp ? 6 : 17) + (l4_len & 0xffff) + (l4_len >> 16);
	fuzz_assert(fuzz_ref_sum(seg + l4, l4_len, pseudo) == 0xffff,
		    "segment %u: %s checksum does not verify", i,
		    c->tcp ? "TCP" : "UDP");
	if (c->tcp) {
		uint32_t seq0 = (uint32_t)fz_be16(c->frame + l4 + 4) << 16 |
				fz_be16(c->frame + l4 + 6);
		uint32_t seq = (uint32_t)fz_be16(seg + l4 + 4) << 16 |
			       fz_be16(seg + l4 + 6);

		fuzz_assert(seq == seq0 + (uint32_t)i * c->vh->gso_size,
			    "segment %u: TCP seq %#x, first %#x", i, seq, seq0);
	} else {
		fuzz_assert(fz_be16(seg + l4 + 4) == l4_len,
			    "segment %u: UDP length %u, %u bytes", i,
			    fz_be16(seg + l4 + 4), l4_len);
	}
}

static int emit(const uint8_t *seg, uint32_t seg_len, void *arg)
{
	struct gso_check *c = arg;
	uint32_t mss = c->vh->gso_size, i = c->n++;

	fuzz_assert(seg == c->seg_buf, "segment %u not built in the buffer",
		    i);
	fuzz_assert(seg_len <= DP_SEG_MAX, "segment %u of %u bytes", i,
		    seg_len);
	fuzz_assert(c->l3 != UINT32_MAX, "a frame that is not IP was cut up");
	if (i == 0) {
		/* One segment is the whole frame; with more, the first
		 * is the headers and gso_size bytes. */
		c->one = seg_len == c->len;
		if (!c->one) {
			fuzz_assert(seg_len > mss && seg_len - mss < c->len,
				    "first segment %u bytes, mss %u, frame %u",
				    seg_len, mss, c->len);
			c->hdr = seg_len - mss;
		}
	} else {
		fuzz_assert(!c->one, "a second segment after the whole frame");
		fuzz_assert(!c->n_short,
			    "segment %u after a short one", i);
	}
	if (!c->one) {
		uint32_t plen, from;

		fuzz_assert(seg_len > c->hdr && seg_len - c->hdr <= mss,
			    "segment %u: %u bytes, headers %u, mss %u", i,
			    seg_len, c->hdr, mss);
		plen = seg_len - c->hdr;
		from = c->hdr + i * mss;
		fuzz_assert(from + plen <= c->len,
			    "segment %u: payload past the frame", i);
		fuzz_assert(!memcmp(seg + c->hdr, c->frame + from, plen),
			    "segment %u: payload not the frame's at %u", i,
			    from);
		if (plen < mss)
			c->n_short++;
		c->payload += plen;
	}
	check_segment_headers(c, seg, seg_len, i);
	return c->stop_after && c->n == c->stop_after ? 1 : 0;
}

static void check_gso(const struct virtio_net_hdr *vh, const uint8_t *f,
		      uint32_t len, unsigned int stop_after)
{
	struct gso_check c = {
		.frame = f, .len = len, .vh = vh, .stop_after = stop_after,
	};
	uint8_t *seg = malloc(DP_SEG_MAX);
	int ret;

	if (!seg)
		return;
	c.seg_buf = seg;
	if (!ref_layout(&c)) {
		/* Not IP: it must refuse before emitting anything. */
		c.l3 = c.l4 = UINT32_MAX;
	}
	ret = dp_sw_gso(f, len, vh, seg, emit, &c);
	if (ret < 0) {
		fuzz_assert(ret == -EINVAL, "dp_sw_gso returned %d", ret);
		fuzz_assert(!c.n, "dp_sw_gso failed after %u segments", c.n);
	} else if (stop_after && c.n == stop_after) {
		fuzz_assert(ret == 1, "emit stopped it, yet it returned %d",
			    ret);
	} else {
		fuzz_assert(ret > 0 && (unsigned int)ret == c.n,
			    "dp_sw_gso returned %d after %u segments", ret,
			    c.n);
		if (!c.one)
			fuzz_assert(c.payload == len - c.hdr,
				    "%llu payload bytes in segments, %u in the frame",
				    (unsigned long long)c.payload,
				    len - c.hdr);
	}
	free(seg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	struct virtio_net_hdr vh;
	const uint8_t *bytes;
	unsigned int stop_after;
	uint8_t *frame;
	uint32_t len;

	if (size < 11)
		return 0;
	memset(&vh, 0, sizeof(vh));
	vh.flags = fz_u8(&in);
	vh.gso_type = fz_u8(&in);
	vh.hdr_len = fz_u16(&in);
	vh.gso_size = fz_u16(&in);
	vh.csum_start = fz_u16(&in);
	vh.csum_offset = fz_u16(&in);
	stop_after = fz_u8(&in);
	len = (uint32_t)fz_take(&in, DP_SEG_MAX + 512, &bytes);
	/* Exactly @len bytes: ASan sees a read past the frame. */
	frame = malloc(len ? len : 1);
	if (!frame)
		return 0;
	memcpy(frame, bytes, len);

	(void)dp_offload_needs(&vh);
	if (dp_offload_valid(&vh, frame, len))
		check_valid(&vh, frame, len);
	check_csum(&vh, frame, len);
	/* The pipeline cuts up only frames with a GSO type; the function
	 * must stand anything all the same. */
	check_gso(&vh, frame, len, stop_after);
	free(frame);
	return 0;
}
