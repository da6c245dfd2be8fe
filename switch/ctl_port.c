/*
 * ctl_port.c - the port commands: show, add, del, set (ctl.h).
 */
#include "switch/ctl.h"

#include <errno.h>
#include <string.h>

#include "lib/ctl_wire.h"

/* A PCP map as the words `ip -d link show` prints: "FROM:TO" for every
 * entry that is not the identity. */
static void put_qos_map(FILE *out, const char *key,
			const struct vlan_qos_map *map)
{
	char words[8][4];
	const char *list[9];
	int n = 0;

	for (unsigned int from = 0; from < 8; from++) {
		if (map->to[from] == from)
			continue;
		/* Both are PCPs, 0..7: one digit each. */
		words[n][0] = (char)('0' + from);
		words[n][1] = ':';
		words[n][2] = (char)('0' + (map->to[from] & 7));
		words[n][3] = '\0';
		list[n] = words[n];
		n++;
	}
	list[n] = NULL;
	ctl_put_list(out, key, list);
}

static void put_qos_maps(struct ctl_req *r, uint32_t index)
{
	struct dp_vlan_cfg vc;

	if (dp_port_get_vlan(r->sw->dp, index, &vc))
		return;
	put_qos_map(r->out, "ingress_qos_map", &vc.ingress_qos);
	put_qos_map(r->out, "egress_qos_map", &vc.egress_qos);
}

static void put_port(struct ctl_req *r, uint32_t index)
{
	struct dp_port_info info;
	const struct dp_port_stats *s = &info.stats;
	FILE *out = r->out;

	if (dp_port_get_info(r->sw->dp, index, &info))
		return;
	ctl_put_obj(out, "port");
	ctl_put_str(out, "ifname", info.name);
	ctl_put_str(out, "kind", info.kind);
	ctl_put_str(out, "state",
		    info.flags & DP_PORT_UP ? "forwarding" : "disabled");
	ctl_put_str(out, "link", info.flags & DP_PORT_UP ? "up" : "down");
	ctl_put_bool(out, "learning", info.flags & DP_PORT_LEARNING);
	ctl_put_bool(out, "flood", info.flags & DP_PORT_FLOOD);
	ctl_put_bool(out, "mcast_flood", info.flags & DP_PORT_MCAST_FLOOD);
	ctl_put_bool(out, "bcast_flood", info.flags & DP_PORT_BCAST_FLOOD);
	ctl_put_bool(out, "reorder_hdr", info.flags & DP_PORT_REORDER_HDR);
	ctl_put_bool(out, "offload", info.flags & DP_PORT_OFFLOAD);
	if (info.mtu)
		ctl_put_num(out, "mtu", info.mtu);
	if (info.io)
		ctl_put_str(out, "io", info.io);
	if (info.io_buffers)
		ctl_put_str(out, "io_buffers", info.io_buffers);
	put_qos_maps(r, index);
	ctl_put_num(out, "stats.rx_packets", s->rx_packets);
	ctl_put_num(out, "stats.rx_bytes", s->rx_bytes);
	ctl_put_num(out, "stats.tx_packets", s->tx_packets);
	ctl_put_num(out, "stats.tx_bytes", s->tx_bytes);
	ctl_put_num(out, "stats.flooded", s->flooded);
	ctl_put_num(out, "stats.drop_runt", s->drop_runt);
	ctl_put_num(out, "stats.drop_src", s->drop_src);
	ctl_put_num(out, "stats.drop_link_local", s->drop_link_local);
	ctl_put_num(out, "stats.drop_same_port", s->drop_same_port);
	ctl_put_num(out, "stats.drop_port_down", s->drop_port_down);
	ctl_put_num(out, "stats.drop_vlan", s->drop_vlan);
	ctl_put_num(out, "stats.drop_bad_tag", s->drop_bad_tag);
	ctl_put_num(out, "stats.drop_bad_offload", s->drop_bad_offload);
	ctl_put_num(out, "stats.drop_no_egress", s->drop_no_egress);
	ctl_put_num(out, "stats.tx_errors", s->tx_errors);
	ctl_put_num(out, "stats.rx_errors", s->rx_errors);
	ctl_put_num(out, "stats.rx_missed", s->rx_missed);
	ctl_put_num(out, "stats.tx_sw_csum", s->tx_sw_csum);
	ctl_put_num(out, "stats.tx_sw_gso", s->tx_sw_gso);
	ctl_put_num(out, "stats.tx_drop_mtu", s->tx_drop_mtu);
}

int ctl_port_show(struct ctl_req *r, const struct gr_args *a)
{
	return ctl_put_ports(r, a, put_port);
}

int ctl_port_add(struct ctl_req *r, const struct gr_args *a)
{
	const struct gr_value *dev = gr_get(a, "dev");
	const struct gr_value *type = gr_get(a, "type");
	struct sw_why why = { "" };

	if (!dev)
		return ctl_err(r, -EINVAL, "Error: usage: port add IFNAME");
	/* The answer has always been -EINVAL, whatever the reason. */
	if (sw_op_port_add(r->sw, dev->word,
			   type ? gr_port_kinds[type->choice] : NULL, &why))
		return ctl_op_err(r, -EINVAL, &why);
	return 0;
}

int ctl_port_del(struct ctl_req *r, const struct gr_args *a)
{
	const struct gr_value *dev = gr_get(a, "dev");
	struct sw_why why = { "" };
	int err;

	if (!dev)
		return ctl_err(r, -EINVAL, "Error: usage: port del IFNAME");
	err = sw_op_port_del(r->sw, dev->word, &why);
	if (err)
		return ctl_op_err(r, err, &why);
	/* Done, but slowly: the operation says why. */
	snprintf(r->note, sizeof(r->note), "%s", why.msg);
	return 0;
}

/* The on/off settings of `port set`, by keyword. */
static const struct {
	const char *name;
	uint32_t flag;
} port_flags[] = {
	{ "learning", DP_PORT_LEARNING },
	{ "flood", DP_PORT_FLOOD },
	{ "mcast_flood", DP_PORT_MCAST_FLOOD },
	{ "bcast_flood", DP_PORT_BCAST_FLOOD },
	{ "reorder_hdr", DP_PORT_REORDER_HDR },
	{ "offload", DP_PORT_OFFLOAD },
};

static uint32_t port_flag(const char *name)
{
	for (size_t k = 0; k < sizeof(port_flags) / sizeof(port_flags[0]); k++)
		if (!strcmp(name, port_flags[k].name))
			return port_flags[k].flag;
	return 0;
}

int ctl_port_set(struct ctl_req *r, const struct gr_args *a)
{
	const struct gr_value *dev = gr_get(a, "dev");
	struct vlan_qos_map ingress, egress;
	struct sw_port_settings set = { 0 };
	struct sw_why why = { "" };
	int err;

	if (!dev)
		return ctl_err(r, -EINVAL,
			       "Error: usage: port set IFNAME FLAG on|off ...");
	/* In the order given: a later word wins, and map words add to the
	 * ones before, as ip link's vlan options do. */
	for (unsigned int i = 0; i < a->n; i++) {
		const struct gr_value *v = &a->v[i];
		const char *key = v->arg->key;

		if (v->arg->type == GR_QOS_MAP) {
			bool in = !strcmp(key, "ingress_qos_map");
			struct vlan_qos_map *edit = in ? &ingress : &egress;

			if (in ? !set.ingress_qos : !set.egress_qos)
				sw_qos_edit_init(edit);
			if (vlan_qos_map_parse(edit, v->list.n,
					       v->list.words))
				return ctl_invarg(r, v->word,
						  "a PCP map word is FROM:TO, each 0-7");
			if (in)
				set.ingress_qos = edit;
			else
				set.egress_qos = edit;
		} else if (v->arg->type == GR_ONOFF) {
			uint32_t flag = port_flag(key);

			if (!flag)
				return ctl_invarg(r, key,
						  "unknown port setting");
			set.flags_mask |= flag;
			set.flags_value = v->on ? set.flags_value | flag :
						  set.flags_value & ~flag;
		}
	}
	err = sw_op_port_set(r->sw, dev->word, &set, &why);
	return err ? ctl_op_err(r, err, &why) : 0;
}
