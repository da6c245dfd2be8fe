/*
 * ctl_vlan.c - the vlan commands: show, add, del (ctl.h).
 */
#include "switch/ctl.h"

#include <errno.h>

#include "lib/ctl_wire.h"

static void put_port_vlans(struct ctl_req *r, uint32_t index)
{
	char name[IFNAMSIZ];
	struct dp_vlan_cfg vc;

	if (!dp_port_name(r->sw->dp, index, name) ||
	    dp_port_get_vlan(r->sw->dp, index, &vc))
		return;
	if (!vc.mbr.n_members) {
		/* A port with no VLAN still shows, with an empty list. */
		ctl_put_obj(r->out, "vlan");
		ctl_put_str(r->out, "ifname", name);
		return;
	}
	for (uint16_t vid = 1; vid < VLAN_N_VID - 1; vid++) {
		const char *flags[3] = { NULL };
		struct dp_vlan_stats vs;
		int nf = 0;

		if (!vlan_is_member(&vc.mbr, vid))
			continue;
		if (vc.mbr.pvid == vid)
			flags[nf++] = "PVID";
		if (vlan_bit(vc.mbr.untagged, vid))
			flags[nf++] = "Egress Untagged";
		dp_port_get_vlan_stats(r->sw->dp, index, vid, &vs);
		ctl_put_obj(r->out, "vlan");
		ctl_put_str(r->out, "ifname", name);
		ctl_put_num(r->out, "vlan", vid);
		ctl_put_list(r->out, "flags", flags);
		ctl_put_num(r->out, "stats.rx_packets", vs.rx_packets);
		ctl_put_num(r->out, "stats.rx_bytes", vs.rx_bytes);
		ctl_put_num(r->out, "stats.tx_packets", vs.tx_packets);
		ctl_put_num(r->out, "stats.tx_bytes", vs.tx_bytes);
	}
}

int ctl_vlan_show(struct ctl_req *r, const struct gr_args *a)
{
	return ctl_put_ports(r, a, put_port_vlans);
}

/* dev and vid, or NULL and 0..0 when not given: the operation says
 * what the usage is. */
static void vlan_args(const struct gr_args *a, const char **dev,
		      uint16_t *lo, uint16_t *hi)
{
	const struct gr_value *d = gr_get(a, "dev");
	const struct gr_value *v = gr_get(a, "vid");

	*dev = d ? d->word : NULL;
	*lo = v ? v->vids.lo : 0;
	*hi = v ? v->vids.hi : 0;
}

int ctl_vlan_add(struct ctl_req *r, const struct gr_args *a)
{
	struct sw_why why = { "" };
	uint16_t lo, hi;
	const char *dev;
	int err;

	vlan_args(a, &dev, &lo, &hi);
	err = sw_op_vlan_add(r->sw, dev, lo, hi, gr_get(a, "pvid") != NULL,
			     gr_get(a, "untagged") != NULL, &why);
	return err ? ctl_op_err(r, err, &why) : 0;
}

int ctl_vlan_del(struct ctl_req *r, const struct gr_args *a)
{
	struct sw_why why = { "" };
	uint16_t lo, hi;
	const char *dev;
	int err;

	vlan_args(a, &dev, &lo, &hi);
	err = sw_op_vlan_del(r->sw, dev, lo, hi, &why);
	return err ? ctl_op_err(r, err, &why) : 0;
}
