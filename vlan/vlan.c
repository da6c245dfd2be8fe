/*
 * vlan.c - 802.1Q/802.1ad tags and membership: pure functions.
 */
#include "vlan/vlan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ETH_ALEN2 12	/* destination and source MAC */

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

enum vlan_parse_result vlan_parse(const uint8_t *frame, uint32_t len,
				  uint16_t tpid, struct vlan_tag *tag)
{
	uint16_t tci;

	if (get_be16(frame + ETH_ALEN2) != tpid)
		return VLAN_UNTAGGED;
	if (len < VLAN_ETH_HLEN)
		return VLAN_TRUNCATED;
	tci = get_be16(frame + ETH_ALEN2 + 2);
	tag->tpid = tpid;
	tag->pcp = tci >> 13;
	tag->dei = tci >> 12 & 1;
	tag->vid = tci & VLAN_VID_MASK;
	return VLAN_TAGGED;
}

void vlan_tag_write(const struct vlan_tag *tag, uint8_t out[VLAN_HLEN])
{
	uint16_t tci = vlan_tci(tag);

	out[0] = tag->tpid >> 8;
	out[1] = tag->tpid & 0xff;
	out[2] = tci >> 8;
	out[3] = tci & 0xff;
}

uint32_t vlan_push(uint8_t *frame, uint32_t len, const struct vlan_tag *tag)
{
	memmove(frame + ETH_ALEN2 + VLAN_HLEN, frame + ETH_ALEN2,
		len - ETH_ALEN2);
	vlan_tag_write(tag, frame + ETH_ALEN2);
	return len + VLAN_HLEN;
}

uint32_t vlan_pop(uint8_t *frame, uint32_t len)
{
	if (len < VLAN_ETH_HLEN)
		return 0;
	memmove(frame + ETH_ALEN2, frame + ETH_ALEN2 + VLAN_HLEN,
		len - ETH_ALEN2 - VLAN_HLEN);
	return len - VLAN_HLEN;
}

static void bit_set(uint64_t *map, uint16_t vid, bool on)
{
	if (on)
		map[vid / 64] |= 1ull << (vid % 64);
	else
		map[vid / 64] &= ~(1ull << (vid % 64));
}

void vlan_port_init(struct vlan_port *vp)
{
	memset(vp, 0, sizeof(*vp));
}

int vlan_port_add(struct vlan_port *vp, uint16_t vid, bool pvid,
		  bool untagged)
{
	if (vid == 0 || vid >= VLAN_N_VID - 1)
		return -EINVAL;
	if (!vlan_bit(vp->member, vid))
		vp->n_members++;
	bit_set(vp->member, vid, true);
	bit_set(vp->untagged, vid, untagged);
	if (pvid)
		vp->pvid = vid;
	else if (vp->pvid == vid)
		vp->pvid = 0;
	return 0;
}

int vlan_port_del(struct vlan_port *vp, uint16_t vid)
{
	if (!vlan_is_member(vp, vid))
		return -ENOENT;
	bit_set(vp->member, vid, false);
	bit_set(vp->untagged, vid, false);
	vp->n_members--;
	if (vp->pvid == vid)
		vp->pvid = 0;
	return 0;
}

uint16_t vlan_ingress(const struct vlan_port *vp, bool tagged,
		      const struct vlan_tag *tag)
{
	/* Untagged and priority-tagged frames belong to the PVID. */
	if (!tagged || tag->vid == 0)
		return vp->pvid;
	if (!vlan_is_member(vp, tag->vid) || tag->vid == VLAN_N_VID - 1)
		return 0;
	return tag->vid;
}

void vlan_qos_map_init(struct vlan_qos_map *map)
{
	for (int i = 0; i < 8; i++)
		map->to[i] = i;
}

int vlan_qos_map_parse(struct vlan_qos_map *map, int argc,
		       char *const argv[])
{
	struct vlan_qos_map tmp = *map;

	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (strlen(w) != 3 || w[1] != ':' || w[0] < '0' || w[0] > '7' ||
		    w[2] < '0' || w[2] > '7')
			return -EINVAL;
		tmp.to[w[0] - '0'] = w[2] - '0';
	}
	*map = tmp;
	return 0;
}
