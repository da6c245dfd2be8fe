/*
 * settings.c - the data plane object, and the switch-wide settings the
 * pipeline reads from the snapshot: group_fwd_mask, learning, watchers;
 * how the poll threads do their I/O.  Control side, as dp.h says.
 */
#include "dataplane/dp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu-qsbr.h>

#include "dataplane/dp_private.h"
#include "lib/rcu.h"

uint64_t dp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct dp *dp_create(struct fdb *fdb)
{
	struct dp *dp = calloc(1, sizeof(*dp));

	if (!dp)
		return NULL;
	dp->fdb = fdb;
	dp->conf = calloc(1, sizeof(*dp->conf));
	if (!dp->conf) {
		free(dp);
		return NULL;
	}
	dp->conf->learning = true;
	dp->conf->tpid = VLAN_TPID_8021Q;
	dp->default_pvid = 1;
	dp->io.uring = true;
	return dp;
}

void dp_set_io_opts(struct dp *dp, const struct dp_io_opts *opts)
{
	dp->io = *opts;
}

void dp_get_io_opts(struct dp *dp, struct dp_io_opts *opts)
{
	*opts = dp->io;
}

void dp_destroy(struct dp *dp)
{
	if (!dp)
		return;
	for (uint32_t i = 0; i < DP_MAX_PORTS; i++)
		if (dp->conf->port[i])
			dp_port_detach(dp, i);
	rcu_sync();
	free(dp->conf->obs);
	free(dp->conf);
	free(dp);
}

void dp_set_port_gone_cb(struct dp *dp, dp_port_gone_func *cb, void *arg)
{
	dp->gone_cb = cb;
	dp->gone_arg = arg;
}

struct fdb *dp_fdb(const struct dp *dp)
{
	return dp->fdb;
}

int dp_set_obs(struct dp *dp, const struct dp_obs_sub *subs, unsigned int n)
{
	struct dp_obs_set *obs = NULL, *old = dp->conf->obs;
	struct dp_conf *conf = dp_conf_copy(dp);

	if (!conf)
		return -ENOMEM;
	if (n) {
		obs = malloc(sizeof(*obs) + n * sizeof(obs->sub[0]));
		if (!obs) {
			free(conf);
			return -ENOMEM;
		}
		obs->n = n;
		memcpy(obs->sub, subs, n * sizeof(obs->sub[0]));
	}
	conf->obs = obs;
	dp_conf_publish(dp, conf);
	if (old)
		call_rcu(&old->rcu, dp_obs_set_free_rcu);
	return 0;
}

int dp_set_group_fwd_mask(struct dp *dp, uint16_t mask)
{
	struct dp_conf *conf = dp_conf_copy(dp);

	if (!conf)
		return -ENOMEM;
	conf->group_fwd_mask = mask;
	dp_conf_publish(dp, conf);
	return 0;
}

uint16_t dp_get_group_fwd_mask(struct dp *dp)
{
	return rcu_consume(&dp->conf)->group_fwd_mask;
}

int dp_set_learning(struct dp *dp, bool on)
{
	struct dp_conf *conf = dp_conf_copy(dp);

	if (!conf)
		return -ENOMEM;
	conf->learning = on;
	dp_conf_publish(dp, conf);
	return 0;
}
