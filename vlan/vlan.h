/*
 * vlan.h - 802.1Q / 802.1ad headers and per-port VLAN membership.
 *
 * Design
 * ------
 * Pure functions over bytes and small structs: no threads, no I/O, no
 * knowledge of ports.  The data plane classifies a frame once at ingress
 * (vlan_parse, vlan_ingress), carries the result (VID, PCP, DEI, whether
 * the frame arrived tagged) beside the bytes, and at each egress port asks
 * vlan_egress_tagged() whether that copy leaves with a tag; the tag itself
 * is then added or skipped with a scatter-gather write, so one received
 * buffer serves every egress port without being rewritten.
 * vlan_push()/vlan_pop() rewrite a buffer in place for callers that want
 * bytes (tests, capture).
 *
 * Membership (struct vlan_port) is a bitmap of member VIDs 1..4094, a
 * bitmap of those that leave untagged, and at most one PVID.  The data
 * plane publishes it as part of an immutable RCU snapshot; functions
 * here never modify a published one.
 *
 * Thread safety: none needed; callers own their arguments.
 */
#ifndef TAPSWITCH_VLAN_H
#define TAPSWITCH_VLAN_H

#include <stdbool.h>
#include <stdint.h>

#define VLAN_N_VID	4096
#define VLAN_VID_MASK	0x0fff
#define VLAN_HLEN	4
#define VLAN_ETH_HLEN	18
#define VLAN_TPID_8021Q	0x8100
#define VLAN_TPID_8021AD 0x88a8

/* The outer tag of a frame, as parsed or to be pushed. */
struct vlan_tag {
	uint16_t tpid;
	uint8_t pcp;		/* 0..7 */
	bool dei;
	uint16_t vid;		/* 0..4095; 0 = priority tag */
};

enum vlan_parse_result {
	VLAN_UNTAGGED,		/* outer ethertype is not @tpid */
	VLAN_TAGGED,		/* *tag filled */
	VLAN_TRUNCATED,		/* ethertype says tag, frame too short */
};

/* Parse the outer tag if its TPID is @tpid.  @len >= 14. */
enum vlan_parse_result vlan_parse(const uint8_t *frame, uint32_t len,
				  uint16_t tpid, struct vlan_tag *tag);

static inline uint16_t vlan_tci(const struct vlan_tag *tag)
{
	return (uint16_t)(tag->pcp << 13 | (tag->dei ? 1u << 12 : 0) |
			  (tag->vid & VLAN_VID_MASK));
}

/* Write the 4 bytes of @tag (TPID, TCI) in network order at @out. */
void vlan_tag_write(const struct vlan_tag *tag, uint8_t out[VLAN_HLEN]);

/*
 * Insert @tag after the MAC addresses of the @len-byte frame at @frame
 * (@len >= 12), in place; the buffer must hold @len + 4 bytes.  Returns
 * the new length.
 */
uint32_t vlan_push(uint8_t *frame, uint32_t len, const struct vlan_tag *tag);

/* Remove the 4 bytes after the MAC addresses (the outer tag; the caller
 * parsed it) in place.  Returns the new length, or 0 when the frame is
 * shorter than a tagged header. */
uint32_t vlan_pop(uint8_t *frame, uint32_t len);

/* ---- membership ---- */

struct vlan_port {
	uint64_t member[VLAN_N_VID / 64];
	uint64_t untagged[VLAN_N_VID / 64];
	uint16_t pvid;			/* 0: none */
	uint16_t n_members;
};

static inline bool vlan_bit(const uint64_t *map, uint16_t vid)
{
	return map[vid / 64] >> (vid % 64) & 1;
}

static inline bool vlan_is_member(const struct vlan_port *vp, uint16_t vid)
{
	return vid && vid < VLAN_N_VID && vlan_bit(vp->member, vid);
}

/* A port with no VLANs; then, as Linux does for a new bridge port,
 * vlan_port_add(vp, default_pvid, true, true) when default_pvid != 0. */
void vlan_port_init(struct vlan_port *vp);

/* Add (or change) membership of @vid (1..4094).  @pvid makes it the PVID;
 * adding without @pvid to the current PVID clears the PVID, as Linux does.
 * Returns 0 or -EINVAL. */
int vlan_port_add(struct vlan_port *vp, uint16_t vid, bool pvid,
		  bool untagged);
/* Remove @vid; if it was the PVID, the port has none.  0 or -ENOENT. */
int vlan_port_del(struct vlan_port *vp, uint16_t vid);

/*
 * Ingress classification with VLAN filtering on.  @tagged says whether the
 * frame carried the switch's TPID; @tag its tag then.  Returns the VID the
 * frame belongs to, or 0 when it must be dropped (no PVID for an untagged
 * or priority-tagged frame; not a member of the tag's VID; VID 4095).
 */
uint16_t vlan_ingress(const struct vlan_port *vp, bool tagged,
		      const struct vlan_tag *tag);

/* Whether a frame in @vid leaves @vp with a tag.  Caller checked
 * membership.  @reorder_hdr false keeps the tag even where untagged. */
static inline bool vlan_egress_tagged(const struct vlan_port *vp,
				      uint16_t vid, bool reorder_hdr)
{
	return !reorder_hdr || !vlan_bit(vp->untagged, vid);
}

/* ---- priority maps (ip link ... type vlan ingress-qos-map) ---- */

/* PCP -> PCP, identity by default. */
struct vlan_qos_map {
	uint8_t to[8];
};

void vlan_qos_map_init(struct vlan_qos_map *map);

/* Parse "FROM:TO [FROM:TO]..." words (0..7 each) into @map on top of what
 * it holds.  Returns 0 or -EINVAL (map unchanged). */
int vlan_qos_map_parse(struct vlan_qos_map *map, int argc,
		       char *const argv[]);

#endif /* TAPSWITCH_VLAN_H */
