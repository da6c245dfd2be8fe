/*
 * conf.h - the configuration snapshot the pipeline reads, and how the
 * control side replaces it.  Shared by the pipeline (dp.c), the poll
 * threads (poll.c) and the control-side files that change the snapshot
 * (ports.c, vlan_cfg.c, settings.c).  Not for users of the data plane.
 *
 * Everything the pipeline reads that the control side can change is one
 * immutable struct dp_conf: readers take it with rcu_consume() once a
 * burst; the control side copies it (dp_conf_copy()), edits the copy,
 * publishes it (dp_conf_publish()), and the old one is freed after a
 * grace period.  Parts that are large and change rarely (a port's VLAN
 * configuration, the watchers) are separate objects the snapshot points
 * to, shared between snapshots and replaced - never edited - on change.
 *
 * Thread safety: dp_conf_get/copy/publish are for the control side only
 * (serialised by the caller, online); readers use rcu_consume(&dp->conf)
 * and hold the snapshot until their next quiescent state.
 */
#ifndef TAPSWITCH_DP_CONF_H
#define TAPSWITCH_DP_CONF_H

#include <urcu-qsbr.h>

#include "dataplane/dp.h"

struct dp_conf {
	struct rcu_head rcu;
	uint64_t gen;			/* one more with every publication */
	uint16_t group_fwd_mask;
	/* The link-local groups 01:80:C2:00:00:0X forwarded (bit X): the
	 * mask, and with 802.1ad VLAN filtering the groups a provider
	 * bridge must pass, as the kernel's group_fwd_mask_required.
	 * Derived; dp_conf_publish() sets it. */
	uint16_t ll_fwd_mask;
	bool learning;			/* ageing_time != 0 */
	bool vlan_filtering;
	uint16_t tpid;			/* the switch's VLAN protocol */
	uint32_t n_active;
	uint16_t active[DP_MAX_PORTS];	/* attached ports, ascending */
	struct dp_port *port[DP_MAX_PORTS];
	uint32_t flags[DP_MAX_PORTS];
	/* The longest frame without GSO a port takes: its MTU, the
	 * Ethernet header and one tag, as the kernel's is_skb_forwardable();
	 * UINT32_MAX where no MTU is known. */
	uint32_t max_len[DP_MAX_PORTS];
	struct dp_vlan_obj *vlan[DP_MAX_PORTS];
	struct dp_obs_set *obs;		/* watchers; NULL: none */
};

/* The watchers' subscriptions as published (dp_set_obs()). */
struct dp_obs_set {
	struct rcu_head rcu;
	unsigned int n;
	struct dp_obs_sub sub[];
};

/* A port's VLAN configuration as published. */
struct dp_vlan_obj {
	struct rcu_head rcu;
	struct dp_vlan_cfg cfg;
};

/* Control side.  The snapshot published now (the control side is the
 * only writer: a plain load is enough). */
struct dp_conf *dp_conf_get(struct dp *dp);
/* Control side.  A private copy of it to edit; NULL when out of memory. */
struct dp_conf *dp_conf_copy(struct dp *dp);
/* Control side.  Publish @conf (a copy, edited); the old snapshot is
 * freed after a grace period. */
void dp_conf_publish(struct dp *dp, struct dp_conf *conf);
/* Rebuild conf->active from conf->port. */
void dp_conf_rebuild_active(struct dp_conf *conf);

/* call_rcu() callbacks for the shared parts. */
void dp_vlan_obj_free_rcu(struct rcu_head *head);
void dp_obs_set_free_rcu(struct rcu_head *head);

#endif /* TAPSWITCH_DP_CONF_H */
