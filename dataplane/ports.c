/*
 * ports.c - the port table, as the kernel's br_if.c: attach, detach, the
 * per-port flags, and what the control side reads of a port.  Control
 * side, as dp.h says, but for dp_port_name().
 */
#include "dataplane/dp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "dataplane/dp_private.h"
#include "lib/rcu.h"

/* The last port serial given (dp_port_attach(), under the caller's
 * configuration lock; serials are process-wide, so that two switches'
 * ports never share one either - atomic for that). */
static uint64_t dp_port_serial;

struct dp_port *dp_port_get(struct dp *dp, uint32_t index)
{
	return index < DP_MAX_PORTS ? dp_conf_get(dp)->port[index] : NULL;
}

int dp_port_lookup(struct dp *dp, const char *name)
{
	const struct dp_conf *conf;
	int found = -ENOENT;

	rcu_read_begin();
	conf = rcu_consume(&dp->conf);
	for (uint32_t k = 0; k < conf->n_active; k++) {
		uint32_t i = conf->active[k];

		if (!strcmp(conf->port[i]->name, name)) {
			found = i;
			break;
		}
	}
	rcu_read_end();
	return found;
}

/*
 * The index of a port whose entries are still to be flushed is not given
 * to a new port (flush_pending, an atomic byte per index): until the
 * flush, those entries name an index with no port, which the pipeline
 * takes for a miss and `fdb show` leaves out.
 */
static bool dp_index_free(struct dp *dp, uint32_t i)
{
	return !dp->conf->port[i] &&
	       !__atomic_load_n(&dp->flush_pending[i], __ATOMIC_ACQUIRE);
}

/* conf->max_len of a port with MTU @mtu. */
static uint32_t dp_max_len_of(uint32_t mtu)
{
	return mtu && mtu < 0x10000000 ? mtu + DP_ETH_HLEN + VLAN_HLEN :
						      UINT32_MAX;
}

int dp_port_attach(struct dp *dp, struct dp_port *port, bool up)
{
	struct dp_conf *conf, *rollback;
	struct dp_vlan_obj *vo;
	uint32_t i;
	int err;

	rcu_assert_not_reader();
	if (dp_port_lookup(dp, port->name) >= 0)
		return -EEXIST;
	for (i = 0; i < DP_MAX_PORTS; i++)
		if (dp_index_free(dp, i))
			break;
	if (i == DP_MAX_PORTS)
		return -ENOSPC;
	/* Everything up front: the way back must not need memory. */
	port->index = i;
	port->serial = __atomic_add_fetch(&dp_port_serial, 1,
					  __ATOMIC_RELAXED);
	port->rx_gone = false;
	err = -ENOMEM;
	port->vstats = calloc(VLAN_N_VID, sizeof(*port->vstats));
	if (!port->vstats)
		return err;
	vo = dp_vlan_obj_new(dp->default_pvid);
	if (!vo)
		goto out_free_vstats;
	conf = dp_conf_copy(dp);
	if (!conf)
		goto out_free_vo;
	rollback = dp_conf_copy(dp);
	if (!rollback)
		goto out_free_conf;
	err = dp_poll_port_prepare(dp, port);
	if (err)
		goto out_free_rollback;

	memset(&port->stats, 0, sizeof(port->stats));
	conf->port[i] = port;
	conf->vlan[i] = vo;
	conf->flags[i] = DP_PORT_DEFAULT_FLAGS | (up ? DP_PORT_UP : 0);
	conf->max_len[i] = dp_max_len_of(port->mtu);
	if (!port->offload_caps)
		conf->flags[i] &= ~DP_PORT_OFFLOAD;
	dp_conf_rebuild_active(conf);
	dp_conf_publish(dp, conf);
	err = dp_poll_port_added(dp, port);
	if (err)
		goto out_unpublish;
	free(rollback);
	return i;

out_unpublish:
	/* Nothing can have been learned on it, but other threads may be
	 * writing to it until a grace period ends.  The snapshot that held
	 * it goes with that grace period. */
	dp_conf_publish(dp, rollback);
	rcu_sync();
	dp_poll_port_release(port);
	goto out_free_vo;
out_free_rollback:
	free(rollback);
out_free_conf:
	free(conf);
out_free_vo:
	free(vo);
out_free_vstats:
	free(port->vstats);
	port->vstats = NULL;
	return err;
}

static int dp_port_detach__(struct dp *dp, uint32_t index, bool defer)
{
	struct dp_vlan_obj *vo;
	struct dp_conf *conf;
	struct dp_port *port;
	bool last = true;

	rcu_assert_not_reader();
	if (index >= DP_MAX_PORTS || !dp->conf->port[index])
		return -ENOENT;
	port = dp->conf->port[index];
	conf = dp_conf_copy(dp);
	if (!conf)
		return -ENOMEM;		/* nothing changed yet */

	/*
	 * Unpublish the port, and make sure its poll thread has let go of
	 * it (stopped, or seen the new snapshot): that thread is the only
	 * one that learns entries pointing to this port.  A grace period
	 * later no reader of the old snapshot is left either: forget what
	 * names the port, and close it.
	 */
	vo = conf->vlan[index];
	conf->port[index] = NULL;
	conf->flags[index] = 0;
	conf->vlan[index] = NULL;
	dp_conf_rebuild_active(conf);
	for (uint32_t k = 0; k < conf->n_active; k++) {
		uint32_t i = conf->active[k];

		if (conf->port[i]->poll_fd >= 0 &&
		    dp_poll_thread_of(dp, i) == dp_poll_thread_of(dp, index))
			last = false;
	}
	dp_conf_publish(dp, conf);
	dp->detach_waited_ms = port->poll_fd >= 0 ?
			       dp_poll_port_removed(dp, index, last) : 0;
	rcu_sync();
	if (defer)
		__atomic_store_n(&dp->flush_pending[index], 1,
				 __ATOMIC_RELEASE);
	else
		fdb_flush(dp->fdb, index, FDB_ANY_VID, FDB_FLUSH_ALL);
	free(vo);
	free(port->vstats);
	port->vstats = NULL;
	dp_poll_port_release(port);
	port->ops->close(port);
	return 0;
}

int dp_port_detach(struct dp *dp, uint32_t index)
{
	return dp_port_detach__(dp, index, false);
}

int dp_port_detach_deferred(struct dp *dp, uint32_t index)
{
	return dp_port_detach__(dp, index, true);
}

unsigned int dp_flush_deferred(struct dp *dp)
{
	unsigned int n = 0;

	rcu_assert_not_reader();
	for (uint32_t i = 0; i < DP_MAX_PORTS; i++) {
		if (!__atomic_load_n(&dp->flush_pending[i], __ATOMIC_ACQUIRE))
			continue;
		n += fdb_flush(dp->fdb, i, FDB_ANY_VID, FDB_FLUSH_ALL);
		/* Flushed: the index may be a new port's. */
		__atomic_store_n(&dp->flush_pending[i], 0, __ATOMIC_RELEASE);
	}
	return n;
}

int dp_port_set_flags(struct dp *dp, uint32_t index, uint32_t mask,
		      uint32_t value)
{
	struct dp_port *port;
	struct dp_conf *conf;
	uint32_t old, new;
	int err;

	rcu_assert_not_reader();
	if (index >= DP_MAX_PORTS || !dp->conf->port[index])
		return -ENOENT;
	port = dp->conf->port[index];
	old = dp->conf->flags[index];
	new = (old & ~mask) | (value & mask);
	if (new == old)
		return 0;
	if ((new & DP_PORT_OFFLOAD) && !port->offload_caps)
		return -EOPNOTSUPP;
	conf = dp_conf_copy(dp);
	if (!conf)
		return -ENOMEM;
	/* The device first: what it sends us from now on, we can take
	 * either way; what we send is decided by the flag. */
	if (((old ^ new) & DP_PORT_OFFLOAD) && port->ops->set_offload) {
		err = port->ops->set_offload(port, new & DP_PORT_OFFLOAD);
		if (err) {
			free(conf);
			return err;
		}
	}
	conf->flags[index] = new;
	dp_conf_publish(dp, conf);
	/*
	 * Down: forget what was learned there, as br_fdb_delete_by_port.
	 * Wait for the readers of the old snapshot first: the port's own
	 * poll thread may still be learning from a burst that began while
	 * the port was up, and would put back what we flush.
	 */
	if ((old & DP_PORT_UP) && !(conf->flags[index] & DP_PORT_UP)) {
		rcu_sync();
		fdb_flush(dp->fdb, index, FDB_ANY_VID, FDB_FLUSH_DYNAMIC);
	}
	return 0;
}

int dp_port_set_mtu(struct dp *dp, uint32_t index, uint32_t mtu)
{
	struct dp_conf *conf;

	if (index >= DP_MAX_PORTS || !dp->conf->port[index])
		return -ENOENT;
	if (dp->conf->max_len[index] == dp_max_len_of(mtu))
		return 0;
	conf = dp_conf_copy(dp);
	if (!conf)
		return -ENOMEM;
	conf->max_len[index] = dp_max_len_of(mtu);
	dp_conf_publish(dp, conf);
	return 0;
}

/* dp_port_get_info() of the port at @index in @conf.  Caller holds
 * rcu_read_lock(). */
static int dp_port_info_of(struct dp *dp, const struct dp_conf *conf,
			   uint32_t index, struct dp_port_info *info)
{
	const struct dp_port_stats *s;
	struct dp_port *port;

	rcu_assert_reader();
	port = conf->port[index];
	memcpy(info->name, port->name, sizeof(info->name));
	info->kind = port->ops->kind;
	info->index = index;
	info->flags = conf->flags[index];
	info->mtu = conf->max_len[index] == UINT32_MAX ? 0 :
		    conf->max_len[index] - DP_ETH_HLEN - VLAN_HLEN;
	s = &port->stats;
	info->stats.rx_packets = LOAD(&s->rx_packets);
	info->stats.rx_bytes = LOAD(&s->rx_bytes);
	info->stats.tx_packets = LOAD(&s->tx_packets);
	info->stats.tx_bytes = LOAD(&s->tx_bytes);
	info->stats.flooded = LOAD(&s->flooded);
	info->stats.drop_runt = LOAD(&s->drop_runt);
	info->stats.drop_src = LOAD(&s->drop_src);
	info->stats.drop_link_local = LOAD(&s->drop_link_local);
	info->stats.drop_same_port = LOAD(&s->drop_same_port);
	info->stats.drop_port_down = LOAD(&s->drop_port_down);
	info->stats.drop_vlan = LOAD(&s->drop_vlan);
	info->stats.drop_bad_tag = LOAD(&s->drop_bad_tag);
	info->stats.drop_bad_offload = LOAD(&s->drop_bad_offload);
	info->stats.drop_no_egress = LOAD(&s->drop_no_egress);
	info->stats.tx_errors = LOAD(&s->tx_errors);
	info->stats.rx_errors = LOAD(&s->rx_errors);
	info->stats.rx_missed = LOAD(&s->rx_missed);
	info->stats.tx_sw_csum = LOAD(&s->tx_sw_csum);
	info->stats.tx_sw_gso = LOAD(&s->tx_sw_gso);
	info->stats.tx_drop_mtu = LOAD(&s->tx_drop_mtu);
	info->offload_caps = port->offload_caps;
	info->io = NULL;
	info->io_buffers = NULL;
	if (port->poll_fd >= 0) {
		bool uring = dp_poll_uring(dp, index);

		if (port->io) {
			/* Its own way, whatever the thread has. */
			info->io = port->io;
			return 0;
		}
		info->io = uring ? "uring" : "syscall";
		if (uring)
			info->io_buffers = LOAD(&port->rx_registered) ?
					   "registered" : "plain";
	}
	return 0;
}

int dp_port_get_info(struct dp *dp, uint32_t index,
		     struct dp_port_info *info)
{
	const struct dp_conf *conf;
	int err;

	if (index >= DP_MAX_PORTS)
		return -ENOENT;
	rcu_read_begin();
	conf = rcu_consume(&dp->conf);
	err = conf->port[index] ? dp_port_info_of(dp, conf, index, info) :
				  -ENOENT;
	rcu_read_end();
	return err;
}

unsigned int dp_port_list(struct dp *dp, uint32_t *indexes,
			  unsigned int max)
{
	const struct dp_conf *conf;
	unsigned int n = 0;

	rcu_read_begin();
	conf = rcu_consume(&dp->conf);
	for (uint32_t k = 0; k < conf->n_active && n < max; k++)
		indexes[n++] = conf->active[k];
	rcu_read_end();
	return n;
}

bool dp_port_name(struct dp *dp, uint32_t index, char name[IFNAMSIZ])
{
	const struct dp_conf *conf;
	bool found = false;

	if (index >= DP_MAX_PORTS)
		return false;
	rcu_read_begin();
	conf = rcu_consume(&dp->conf);
	if (conf->port[index]) {
		memcpy(name, conf->port[index]->name, IFNAMSIZ);
		found = true;
	}
	rcu_read_end();
	return found;
}

uint64_t dp_port_detach_waited_ms(struct dp *dp)
{
	return dp->detach_waited_ms;
}
