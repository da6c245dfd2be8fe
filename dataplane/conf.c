/*
 * conf.c - the configuration snapshot (conf.h): copy, publish, free.
 */
#include "dataplane/conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "dataplane/dp_private.h"
#include "lib/rcu.h"

struct dp_conf *dp_conf_get(struct dp *dp)
{
	/* The control side is the only writer: a plain load is enough. */
	return dp->conf;
}

struct dp_conf *dp_conf_copy(struct dp *dp)
{
	struct dp_conf *conf = malloc(sizeof(*conf));

	if (conf)
		memcpy(conf, dp_conf_get(dp), sizeof(*conf));
	return conf;
}

static void dp_conf_free_rcu(struct rcu_head *head)
{
	rcu_tsan_reclaim();
	free(caa_container_of(head, struct dp_conf, rcu));
}

void dp_vlan_obj_free_rcu(struct rcu_head *head)
{
	rcu_tsan_reclaim();
	free(caa_container_of(head, struct dp_vlan_obj, rcu));
}

/*
 * What an 802.1ad bridge forwards whatever its group_fwd_mask (the
 * kernel's BR_GROUPFWD_8021AD): the Nearest Customer Bridge group
 * addresses, 01:80:C2:00:00:0B, 0C, 0D and 0F - a provider bridge is
 * transparent to its customers' bridges (...:00 is forwarded anyway while
 * STP is off).
 */
#define DP_LL_FWD_8021AD 0xb800u

void dp_conf_publish(struct dp *dp, struct dp_conf *conf)
{
	conf->ll_fwd_mask = conf->group_fwd_mask;
	if (conf->vlan_filtering && conf->tpid == VLAN_TPID_8021AD)
		conf->ll_fwd_mask |= DP_LL_FWD_8021AD;
	struct dp_conf *old = dp->conf;

	conf->gen = old ? old->gen + 1 : 1;
	rcu_publish(&dp->conf, conf);
	if (old)
		call_rcu(&old->rcu, dp_conf_free_rcu);
}

void dp_conf_rebuild_active(struct dp_conf *conf)
{
	conf->n_active = 0;
	for (uint32_t i = 0; i < DP_MAX_PORTS; i++)
		if (conf->port[i])
			conf->active[conf->n_active++] = i;
}

void dp_obs_set_free_rcu(struct rcu_head *head)
{
	rcu_tsan_reclaim();
	free(caa_container_of(head, struct dp_obs_set, rcu));
}
