/*
 * offload.c - checksum completion and segmentation in software, for
 * ports that cannot take partial checksums or super-frames.
 */
#include "dataplane/offload.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <string.h>

#define TCP_FLAG_FIN	0x01
#define TCP_FLAG_PSH	0x08
#define TCP_FLAG_CWR	0x80

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v & 0xffff);
}

uint32_t dp_csum_add(uint32_t sum, const uint8_t *data, uint32_t len)
{
	/* 64-bit accumulator: 64 KiB of 16-bit words cannot overflow it. */
	uint64_t acc = sum;
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		acc += get_be16(data + i);
	if (len & 1)
		acc += (uint32_t)data[len - 1] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t dp_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t dp_offload_needs(const struct virtio_net_hdr *vh)
{
	uint32_t need = 0;

	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		need |= DP_OFFLOAD_CSUM;
	switch (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		need |= DP_OFFLOAD_TSO4;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		need |= DP_OFFLOAD_TSO6;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		need |= DP_OFFLOAD_USO;
		break;
	}
	if (vh->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		need |= DP_OFFLOAD_TSO_ECN;
	return need;
}

/* The length of the Ethernet header of @frame, its VLAN tags counted;
 * 0 when it is cut short. */
static uint32_t l2_len(const uint8_t *frame, uint32_t len)
{
	uint32_t off = 12;

	for (;;) {
		uint16_t proto;

		if (off + 2 > len)
			return 0;
		proto = get_be16(frame + off);
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			return off + 2;
		off += 4;
	}
}

/* As the kernel's UDP_MAX_SEGMENTS. */
#define UDP_MAX_SEGMENTS 128
/* The kernel's GSO_BY_FRAGS: not a size. */
#define GSO_BY_FRAGS 0xffff

bool dp_offload_valid(const struct virtio_net_hdr *vh, const uint8_t *frame,
		      uint32_t len)
{
	uint32_t thlen = 0, start = vh->csum_start, off = vh->csum_offset;

	switch (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (vh->gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		thlen = 20;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		if (vh->gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return false;
		thlen = 8;
		break;
	default:
		return false;		/* UFO and the unknown */
	}
	/* As virtio_net_hdr_to_skb(): every offset inside the frame, the
	 * checksum after the Ethernet header (its tags too: one may be
	 * popped on the way out, and csum_start moves back with it). */
	if (vh->hdr_len > len)
		return false;
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t l2 = l2_len(frame, len);

		if (!l2 || start < l2 ||
		    start + (off + 2 > thlen ? off + 2 : thlen) > len)
			return false;
	}
	if (!thlen)
		return true;
	if (!vh->gso_size || vh->gso_size == GSO_BY_FRAGS)
		return false;
	if (thlen == 20 && (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    off != 16)
		return false;		/* not TCP's checksum field */
	if (thlen == 8) {
		/* USO: the checksum is UDP's, and is to be completed. */
		if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || off != 6)
			return false;
		if (len - (start + thlen) >
		    (uint32_t)vh->gso_size * UDP_MAX_SEGMENTS)
			return false;
	}
	return true;
}

int dp_sw_csum(uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh)
{
	uint32_t start = vh->csum_start, at = start + vh->csum_offset;
	uint16_t csum;

	if (at + 2 > len)
		return -EINVAL;
	/* The field holds the pseudo-header sum: it is summed in. */
	csum = dp_csum_fold(dp_csum_add(0, frame + start, len - start));
	/* 0 means "no checksum" to UDP; the kernel writes 0xffff always
	 * (CSUM_MANGLED_0), which is the same number to TCP. */
	put_be16(frame + at, csum ? csum : 0xffff);
	return 0;
}

/* Where things are in a super-frame. */
struct gso_layout {
	uint32_t l3;		/* IP header */
	uint32_t l4;		/* TCP or UDP header */
	uint32_t hdr_len;	/* headers, up to the payload */
	bool ipv6;
	bool tcp;
};

static int gso_parse(const uint8_t *frame, uint32_t len,
		     const struct virtio_net_hdr *vh, struct gso_layout *lo)
{
	uint8_t type = vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	uint32_t off = 12;
	uint16_t proto;
	uint8_t l4proto;

	/* Skip the tags, as many as there are. */
	for (;;) {
		if (off + 2 > len)
			return -EINVAL;
		proto = get_be16(frame + off);
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		off += 4;
	}
	lo->l3 = off + 2;
	lo->ipv6 = proto == ETH_P_IPV6;
	if (proto == ETH_P_IP) {
		uint32_t ihl;

		if (lo->l3 + 20 > len || (frame[lo->l3] >> 4) != 4)
			return -EINVAL;
		ihl = (frame[lo->l3] & 0xf) * 4u;
		if (ihl < 20 || lo->l3 + ihl > len)
			return -EINVAL;
		l4proto = frame[lo->l3 + 9];
		lo->l4 = lo->l3 + ihl;
	} else if (proto == ETH_P_IPV6) {
		if (lo->l3 + 40 > len || (frame[lo->l3] >> 4) != 6)
			return -EINVAL;
		/* With extension headers, csum_start says where L4 is. */
		l4proto = frame[lo->l3 + 6];
		lo->l4 = lo->l3 + 40;
	} else {
		return -EINVAL;
	}
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (vh->csum_start < lo->l4 && !lo->ipv6)
			return -EINVAL;
		if (vh->csum_start != lo->l4) {
			/* Only IPv6 extension headers put L4 elsewhere, and
			 * they come after the fixed header. */
			if (!lo->ipv6 || vh->csum_start < lo->l4)
				return -EINVAL;
			lo->l4 = vh->csum_start;
			l4proto = type == VIRTIO_NET_HDR_GSO_UDP_L4 ?
					  IPPROTO_UDP : IPPROTO_TCP;
		}
	}
	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (lo->ipv6 != (type == VIRTIO_NET_HDR_GSO_TCPV6) ||
		    l4proto != IPPROTO_TCP || lo->l4 + 20 > len)
			return -EINVAL;
		lo->tcp = true;
		lo->hdr_len = lo->l4 + (frame[lo->l4 + 12] >> 4) * 4u;
		if (lo->hdr_len < lo->l4 + 20 || lo->hdr_len > len)
			return -EINVAL;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		if (l4proto != IPPROTO_UDP || lo->l4 + 8 > len)
			return -EINVAL;
		lo->tcp = false;
		lo->hdr_len = lo->l4 + 8;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* The L4 checksum of a segment: pseudo header, then the L4 bytes. */
static void gso_l4_csum(uint8_t *seg, uint32_t seg_len,
			const struct gso_layout *lo)
{
	uint32_t l4_len = seg_len - lo->l4, sum;
	uint8_t *field = seg + lo->l4 + (lo->tcp ? 16 : 6);
	uint16_t csum;

	if (lo->ipv6)
		sum = dp_csum_add(0, seg + lo->l3 + 8, 32);
	else
		sum = dp_csum_add(0, seg + lo->l3 + 12, 8);
	sum += lo->tcp ? IPPROTO_TCP : IPPROTO_UDP;
	sum += l4_len & 0xffff;
	sum += l4_len >> 16;
	put_be16(field, 0);
	csum = dp_csum_fold(dp_csum_add(sum, seg + lo->l4, l4_len));
	if (!csum && !lo->tcp)
		csum = 0xffff;
	put_be16(field, csum);
}

int dp_sw_gso(const uint8_t *frame, uint32_t len,
	      const struct virtio_net_hdr *vh, uint8_t *seg,
	      int (*emit)(const uint8_t *seg, uint32_t seg_len, void *arg),
	      void *arg)
{
	uint32_t mss = vh->gso_size, payload, n_seg, seq = 0;
	struct gso_layout lo;
	uint16_t ip_id = 0;
	uint8_t tcp_flags = 0;
	int err;

	if (!mss || gso_parse(frame, len, vh, &lo))
		return -EINVAL;
	payload = len - lo.hdr_len;
	if (lo.hdr_len + mss > DP_SEG_MAX)
		return -EINVAL;
	n_seg = payload ? (payload + mss - 1) / mss : 1;
	if (!lo.ipv6)
		ip_id = get_be16(frame + lo.l3 + 4);
	if (lo.tcp) {
		seq = get_be32(frame + lo.l4 + 4);
		tcp_flags = frame[lo.l4 + 13];
	}

	for (uint32_t i = 0; i < n_seg; i++) {
		uint32_t off = i * mss;
		uint32_t plen = payload - off < mss ? payload - off : mss;
		uint32_t seg_len = lo.hdr_len + plen;

		memcpy(seg, frame, lo.hdr_len);
		memcpy(seg + lo.hdr_len, frame + lo.hdr_len + off, plen);
		if (lo.ipv6) {
			put_be16(seg + lo.l3 + 4, seg_len - lo.l3 - 40);
		} else {
			uint32_t ihl = lo.l4 - lo.l3;

			put_be16(seg + lo.l3 + 2, seg_len - lo.l3);
			put_be16(seg + lo.l3 + 4, (uint16_t)(ip_id + i));
			put_be16(seg + lo.l3 + 10, 0);
			put_be16(seg + lo.l3 + 10,
				 dp_csum_fold(dp_csum_add(0, seg + lo.l3, ihl)));
		}
		if (lo.tcp) {
			uint8_t flags = tcp_flags;

			/* As tcp_gso_segment(): CWR on the first segment
			 * only, FIN and PSH on the last only. */
			if (i > 0)
				flags &= ~TCP_FLAG_CWR;
			if (i + 1 < n_seg)
				flags &= ~(TCP_FLAG_FIN | TCP_FLAG_PSH);
			put_be32(seg + lo.l4 + 4, seq + off);
			seg[lo.l4 + 13] = flags;
		} else {
			put_be16(seg + lo.l4 + 4, seg_len - lo.l4);
		}
		gso_l4_csum(seg, seg_len, &lo);
		err = emit(seg, seg_len, arg);
		if (err)
			return err;
	}
	return (int)n_seg;
}
