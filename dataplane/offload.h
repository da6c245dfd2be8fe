/*
 * offload.h - checksum and segmentation offloads, done in software.
 *
 * Design
 * ------
 * A tap opened with IFF_VNET_HDR hands us, before each frame, the
 * virtio-net header the kernel keeps for it: the frame may be a GSO
 * super-frame (up to 64 KiB of TCP or UDP payload to be cut into
 * gso_size pieces) and its transport checksum may be partial (only the
 * pseudo-header sum is in place; csum_start and csum_offset say where the
 * rest goes).  A tap port takes such frames whole on egress, and that is
 * the fast path.  A port that cannot take them (offloads turned off, a
 * backend without a header) gets what a NIC without offloads would have
 * put on the wire: the checksum completed (dp_sw_csum) or the super-frame
 * cut into ordinary frames, each with its own IP and transport checksum
 * (dp_sw_gso), the way the kernel's skb_checksum_help() and
 * tcp_gso_segment() / __udp_gso_segment() do it.
 *
 * The frame may carry 802.1Q/802.1ad tags between the MAC addresses and
 * the IP header; the offsets in the header count them (the data plane
 * moves csum_start and hdr_len when it pushes or pops a tag).
 *
 * Thread safety: pure functions over caller-owned buffers.
 */
#ifndef TAPSWITCH_OFFLOAD_H
#define TAPSWITCH_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5	/* GSO frame, UDP, segmented (USO) */
#endif

/* What a port takes on egress: bits of one word. */
enum dp_offload_bit {
	DP_OFFLOAD_CSUM_BIT,		/* partial checksums */
	DP_OFFLOAD_TSO4_BIT,		/* TCP/IPv4 super-frames */
	DP_OFFLOAD_TSO6_BIT,		/* TCP/IPv6 super-frames */
	DP_OFFLOAD_TSO_ECN_BIT,		/* ... with the ECN flag */
	DP_OFFLOAD_USO_BIT,		/* UDP super-frames (both IP versions) */
};
#define DP_OFFLOAD_CSUM		(1u << DP_OFFLOAD_CSUM_BIT)
#define DP_OFFLOAD_TSO4		(1u << DP_OFFLOAD_TSO4_BIT)
#define DP_OFFLOAD_TSO6		(1u << DP_OFFLOAD_TSO6_BIT)
#define DP_OFFLOAD_TSO_ECN	(1u << DP_OFFLOAD_TSO_ECN_BIT)
#define DP_OFFLOAD_USO		(1u << DP_OFFLOAD_USO_BIT)
#define DP_OFFLOAD_ALL \
	(DP_OFFLOAD_CSUM | DP_OFFLOAD_TSO4 | DP_OFFLOAD_TSO6 | \
	 DP_OFFLOAD_TSO_ECN | DP_OFFLOAD_USO)

/* The offloads a frame with header @vh needs of its egress port. */
uint32_t dp_offload_needs(const struct virtio_net_hdr *vh);

/*
 * Whether the header of the @len-byte frame at @frame is one we can honour,
 * checked as the kernel's virtio_net_hdr_to_skb() checks what a tap or a
 * packet socket is handed: a known GSO type with a size, the checksum
 * offsets inside the frame and after its Ethernet header and tags, the
 * checksum field TCP's or UDP's, hdr_len within the frame, no more UDP
 * segments than the kernel takes.  Other flags (DATA_VALID: a tap says
 * the checksum was checked) pass.  A frame that
 * fails is dropped and counted; nothing past this trusts a field unchecked.
 */
bool dp_offload_valid(const struct virtio_net_hdr *vh, const uint8_t *frame,
		      uint32_t len);

/*
 * Complete the partial checksum of the @len-byte frame at @frame in place,
 * as skb_checksum_help(): the ones' complement sum from csum_start to the
 * end, folded, stored at csum_start + csum_offset.  Returns 0, or -EINVAL
 * when the offsets do not fit the frame.
 */
int dp_sw_csum(uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh);

/*
 * Cut the super-frame at @frame (@len bytes, header @vh) into frames of
 * at most gso_size bytes of payload, each built in @seg (DP_SEG_MAX bytes
 * are always enough; nothing past the segment being built is read or
 * written, and nothing past @len of the frame) with complete
 * IPv4 header, TCP or UDP checksums, TCP sequence numbers and flags as
 * tcp_gso_segment() sets them, and handed to @emit in order; @emit
 * returns 0 to go on.  Returns the number of segments, or -EINVAL when
 * the frame is not a well-formed TCP or UDP super-frame (nothing was
 * emitted then), or the first non-zero value @emit returned.
 */
#define DP_SEG_MAX 65536
int dp_sw_gso(const uint8_t *frame, uint32_t len,
	      const struct virtio_net_hdr *vh, uint8_t *seg,
	      int (*emit)(const uint8_t *seg, uint32_t seg_len, void *arg),
	      void *arg);

/* The Internet checksum helpers the above use; exposed for the tests. */
uint32_t dp_csum_add(uint32_t sum, const uint8_t *data, uint32_t len);
uint16_t dp_csum_fold(uint32_t sum);

#endif /* TAPSWITCH_OFFLOAD_H */
