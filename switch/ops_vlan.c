/*
 * ops_vlan.c - the VLAN membership operations (ops.h), as `bridge vlan
 * add` and `bridge vlan del`: a port's membership is changed in a copy,
 * checked whole, and published in one step.
 */
#include "switch/ops.h"

#include <errno.h>
#include <string.h>

#include "lib/rcu.h"

/* Port @dev and VLANs @lo..@hi, checked: 0 and the port's configuration
 * in @vc, or -errno. */
static int sw_vlan_prepare(struct sw *sw, bool add, const char *dev,
			   uint16_t lo, uint16_t hi, uint32_t *index,
			   struct dp_vlan_cfg *vc, struct sw_why *why)
{
	char word[16];
	int err;

	sw_assert_locked(sw);
	rcu_assert_not_reader();
	if (!dev || !lo)
		return sw_why_set(why, -EINVAL,
				  "Error: usage: vlan %s dev IFNAME vid VID[-VID]%s",
				  add ? "add" : "del",
				  add ? " [pvid] [untagged]" : "");
	err = sw_port_find(sw, dev, index, why);
	if (err)
		return err;
	if (lo == hi)
		snprintf(word, sizeof(word), "%u", lo);
	else
		snprintf(word, sizeof(word), "%u-%u", lo, hi);
	if (hi >= VLAN_N_VID - 1)
		return sw_why_arg(why, word, "VLAN ID must be 1-4094");
	if (hi < lo)
		return sw_why_arg(why, word, "a range goes from low to high");
	err = dp_port_get_vlan(sw->dp, *index, vc);
	if (err)
		return sw_why_set(why, err, "Error: %s", strerror(-err));
	return 0;
}

static int sw_vlan_publish(struct sw *sw, uint32_t index,
			   const struct dp_vlan_cfg *vc, struct sw_why *why)
{
	int err = dp_port_set_vlan(sw->dp, index, vc);

	if (err)
		return sw_why_set(why, err, "Error: %s", strerror(-err));
	return 0;
}

int sw_op_vlan_add(struct sw *sw, const char *dev, uint16_t lo, uint16_t hi,
		   bool pvid, bool untagged, struct sw_why *why)
{
	struct dp_vlan_cfg vc;
	uint32_t index;
	int err;

	err = sw_vlan_prepare(sw, true, dev, lo, hi, &index, &vc, why);
	if (err)
		return err;
	if (pvid && lo != hi)
		return sw_why_arg(why, "pvid",
				  "a range of VLANs cannot be the PVID");
	for (uint32_t vid = lo; vid <= hi; vid++)
		vlan_port_add(&vc.mbr, vid, pvid, untagged);
	return sw_vlan_publish(sw, index, &vc, why);
}

int sw_op_vlan_del(struct sw *sw, const char *dev, uint16_t lo, uint16_t hi,
		   struct sw_why *why)
{
	struct dp_vlan_cfg vc;
	uint32_t index;
	int err;

	err = sw_vlan_prepare(sw, false, dev, lo, hi, &index, &vc, why);
	if (err)
		return err;
	/* Every one must be a member: the first that is not is named,
	 * and nothing changes. */
	for (uint32_t vid = lo; vid <= hi; vid++) {
		if (!vlan_is_member(&vc.mbr, vid)) {
			char word[8];

			snprintf(word, sizeof(word), "%u", vid);
			return sw_why_arg(why, word,
					  "the port is not a member");
		}
		vlan_port_del(&vc.mbr, vid);
	}
	return sw_vlan_publish(sw, index, &vc, why);
}
