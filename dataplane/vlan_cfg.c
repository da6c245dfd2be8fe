/*
 * vlan_cfg.c - VLAN configuration, as the kernel's br_vlan.c: filtering
 * on or off, the switch's protocol, the default PVID, each port's
 * membership and PCP maps, and per-VLAN counters.  Control side.
 */
#include "dataplane/dp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "dataplane/dp_private.h"
#include "lib/rcu.h"

/* A port's VLAN configuration as a new port gets it: the default PVID,
 * egress untagged, identity PCP maps. */
struct dp_vlan_obj *dp_vlan_obj_new(uint16_t default_pvid)
{
	struct dp_vlan_obj *vo = calloc(1, sizeof(*vo));

	if (!vo)
		return NULL;
	vlan_port_init(&vo->cfg.mbr);
	if (default_pvid)
		vlan_port_add(&vo->cfg.mbr, default_pvid, true, true);
	vlan_qos_map_init(&vo->cfg.ingress_qos);
	vlan_qos_map_init(&vo->cfg.egress_qos);
	return vo;
}

/* Wait until no poll thread can still be learning under the old rules,
 * then forget the dynamic entries they made: of @port (FDB_NO_PORT: all)
 * in @vid (FDB_ANY_VID: all). */
static void dp_flush_after_readers(struct dp *dp, uint32_t port, uint16_t vid)
{
	rcu_sync();
	fdb_flush(dp->fdb, port, vid, FDB_FLUSH_DYNAMIC);
}

int dp_set_vlan_filtering(struct dp *dp, bool on)
{
	struct dp_conf *conf;

	if (dp->conf->vlan_filtering == on)
		return 0;
	conf = dp_conf_copy(dp);
	if (!conf)
		return -ENOMEM;
	conf->vlan_filtering = on;
	dp_conf_publish(dp, conf);
	dp_flush_after_readers(dp, FDB_NO_PORT, FDB_ANY_VID);
	return 0;
}

bool dp_get_vlan_filtering(struct dp *dp)
{
	return rcu_consume(&dp->conf)->vlan_filtering;
}

int dp_set_vlan_protocol(struct dp *dp, uint16_t tpid)
{
	struct dp_conf *conf;

	if (tpid != VLAN_TPID_8021Q && tpid != VLAN_TPID_8021AD)
		return -EINVAL;
	if (dp->conf->tpid == tpid)
		return 0;
	conf = dp_conf_copy(dp);
	if (!conf)
		return -ENOMEM;
	conf->tpid = tpid;
	dp_conf_publish(dp, conf);
	/* Frames classify differently now: what was learned may be wrong. */
	if (conf->vlan_filtering)
		dp_flush_after_readers(dp, FDB_NO_PORT, FDB_ANY_VID);
	return 0;
}

uint16_t dp_get_vlan_protocol(struct dp *dp)
{
	return rcu_consume(&dp->conf)->tpid;
}

int dp_port_get_vlan(struct dp *dp, uint32_t index, struct dp_vlan_cfg *cfg)
{
	const struct dp_conf *conf;
	int err = -ENOENT;

	if (index >= DP_MAX_PORTS)
		return err;
	rcu_read_begin();
	conf = rcu_consume(&dp->conf);
	if (conf->port[index]) {
		*cfg = conf->vlan[index]->cfg;
		err = 0;
	}
	rcu_read_end();
	return err;
}

/* Dynamic entries of a port in a VLAN the port has just left; only
 * those (br_fdb_delete_by_port(br, p, vid, 0) for each deleted VID), so
 * VID 0 entries and hand-added ones in other VLANs stay. */
struct dp_left_match {
	uint64_t (*left)[VLAN_N_VID / 64];	/* [DP_MAX_PORTS] */
};

static bool dp_entry_left_vlan(const struct fdb_entry_info *e, void *arg)
{
	const struct dp_left_match *lm = arg;

	return !(e->flags & FDB_STATIC) && e->port < DP_MAX_PORTS &&
	       e->vid < VLAN_N_VID && vlan_bit(lm->left[e->port], e->vid);
}

/* Replace the VLAN configuration of every port in @cfgs (NULL: keep) in
 * one snapshot. */
static int dp_ports_set_vlan(struct dp *dp,
			     const struct dp_vlan_cfg *const *cfgs)
{
	struct dp_vlan_obj *fresh[DP_MAX_PORTS] = { NULL };
	struct dp_vlan_obj *old[DP_MAX_PORTS] = { NULL };
	struct dp_conf *conf = dp_conf_copy(dp);
	struct dp_left_match lm;
	bool left_any = false;
	uint32_t i;

	lm.left = calloc(DP_MAX_PORTS, sizeof(*lm.left));
	if (!conf || !lm.left)
		goto out_nomem;
	for (i = 0; i < DP_MAX_PORTS; i++) {
		if (!cfgs[i] || !conf->port[i])
			continue;
		fresh[i] = malloc(sizeof(*fresh[i]));
		if (!fresh[i])
			goto out_nomem;
		fresh[i]->cfg = *cfgs[i];
	}
	for (i = 0; i < DP_MAX_PORTS; i++) {
		if (!fresh[i])
			continue;
		old[i] = conf->vlan[i];
		for (uint32_t w = 0; w < VLAN_N_VID / 64; w++) {
			lm.left[i][w] = old[i]->cfg.mbr.member[w] &
					~fresh[i]->cfg.mbr.member[w];
			left_any |= lm.left[i][w] != 0;
		}
		conf->vlan[i] = fresh[i];
	}
	dp_conf_publish(dp, conf);
	/* Unpublished now; readers of older snapshots may still use them. */
	for (i = 0; i < DP_MAX_PORTS; i++)
		if (old[i])
			call_rcu(&old[i]->rcu, dp_vlan_obj_free_rcu);

	/*
	 * Forget what was learned in the VLANs a port left (br_vlan_delete
	 * flushes the port's entries in that VLAN), once no poll thread can
	 * still be learning under the old membership.
	 */
	if (left_any) {
		rcu_sync();
		fdb_flush_match(dp->fdb, dp_entry_left_vlan, &lm);
	}
	free(lm.left);
	return 0;

out_nomem:
	for (i = 0; i < DP_MAX_PORTS; i++)
		free(fresh[i]);
	free(lm.left);
	free(conf);
	return -ENOMEM;
}

int dp_port_set_vlan(struct dp *dp, uint32_t index,
		     const struct dp_vlan_cfg *cfg)
{
	const struct dp_vlan_cfg *cfgs[DP_MAX_PORTS] = { NULL };

	if (index >= DP_MAX_PORTS || !dp->conf->port[index])
		return -ENOENT;
	cfgs[index] = cfg;
	return dp_ports_set_vlan(dp, cfgs);
}

int dp_set_default_pvid(struct dp *dp, uint16_t vid)
{
	const struct dp_vlan_cfg *cfgs[DP_MAX_PORTS] = { NULL };
	struct dp_vlan_cfg *tmp;
	uint16_t old = dp->default_pvid;
	struct dp_conf *conf = dp_conf_get(dp);
	int err = 0;

	if (vid >= VLAN_N_VID - 1)
		return -EINVAL;
	if (vid == old)
		return 0;
	tmp = calloc(DP_MAX_PORTS, sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	/*
	 * As __br_vlan_set_default_pvid(): a port whose PVID is still the
	 * old default, egress untagged (or every port, when there was no
	 * default), moves to the new one, unless it is a member of the new
	 * VLAN already - that would conflict with what the user set up.
	 * With @vid 0 (br_vlan_disable_default_pvid()) such ports just lose
	 * the old default.
	 */
	for (uint32_t k = 0; k < conf->n_active; k++) {
		uint32_t i = conf->active[k];
		struct vlan_port *mbr = &tmp[i].mbr;

		tmp[i] = conf->vlan[i]->cfg;
		if (old && (mbr->pvid != old || !vlan_bit(mbr->untagged, old)))
			continue;
		if (vlan_is_member(mbr, vid) || (!old && !vid))
			continue;
		if (old)
			vlan_port_del(mbr, old);
		if (vid)
			vlan_port_add(mbr, vid, true, true);
		cfgs[i] = &tmp[i];
	}
	err = dp_ports_set_vlan(dp, cfgs);
	if (!err)
		STORE(&dp->default_pvid, vid);
	free(tmp);
	return err;
}

uint16_t dp_get_default_pvid(struct dp *dp)
{
	return LOAD(&dp->default_pvid);
}

int dp_port_get_vlan_stats(struct dp *dp, uint32_t index, uint16_t vid,
			   struct dp_vlan_stats *stats)
{
	const struct dp_conf *conf;
	const struct dp_vlan_stats *v;
	int err = -ENOENT;

	if (index >= DP_MAX_PORTS || vid >= VLAN_N_VID)
		return err;
	rcu_read_begin();
	conf = rcu_consume(&dp->conf);
	if (conf->port[index]) {
		v = &conf->port[index]->vstats[vid];
		stats->rx_packets = LOAD(&v->rx_packets);
		stats->rx_bytes = LOAD(&v->rx_bytes);
		stats->tx_packets = LOAD(&v->tx_packets);
		stats->tx_bytes = LOAD(&v->tx_bytes);
		err = 0;
	}
	rcu_read_end();
	return err;
}
