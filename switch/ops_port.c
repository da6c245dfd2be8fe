/*
 * ops_port.c - the port operations (ops.h): add, delete, set, and what
 * the link monitor does when a port's device goes up, down or away, as
 * the kernel's br_if.c and br_setport().
 */
#include "switch/ops.h"

#include <errno.h>
#include <string.h>

#include "lib/rcu.h"

int sw_port_find(struct sw *sw, const char *name, uint32_t *index,
		 struct sw_why *why)
{
	int i = dp_port_lookup(sw->dp, name);

	*index = FDB_NO_PORT;
	if (i < 0)
		return sw_why_arg(why, name, "no such port");
	*index = i;
	return 0;
}

static bool sw_ifname_valid(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= IFNAMSIZ || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return false;
	/* As the kernel's dev_valid_name(), and no '%': TUNSETIFF would
	 * take it as a pattern and make a device of another name. */
	for (; *name; name++) {
		unsigned char c = *name;

		if (c == '/' || c == ':' || c == '%' || c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

int sw_op_port_add(struct sw *sw, const char *name, const char *kind_name,
		   struct sw_why *why)
{
	const struct port_ops *kind;
	const char *reason = "";
	struct dp_port *port;
	int err, index;

	sw_assert_locked(sw);
	rcu_assert_not_reader();
	if (!kind_name)
		kind_name = sw->port_kind;
	if (!sw_ifname_valid(name))
		return sw_why_arg(why, name, "not a valid interface name");
	kind = kind_name ? port_kind_find(kind_name) : port_kind_for(name);
	if (!kind)
		return sw_why_arg(why, kind_name, "unknown port kind");
	if (dp_port_lookup(sw->dp, name) >= 0) {
		sw_why_arg(why, name, "already a port");
		return -EEXIST;
	}
	err = kind->open(name, &port, &reason);
	if (err) {
		sw_why_arg(why, name, reason);
		return err;
	}
	index = dp_port_attach(sw->dp, port, true);
	if (index < 0) {
		sw_why_arg(why, name, index == -ENOSPC ? "too many ports" :
			   strerror(-index));
		port->ops->close(port);
		return index;
	}
	sw_log(LOG_INFO, "%s: port %d added (%s)", name, index,
	       port->opened_as);
	sw_obs_port_event(sw, DP_EV_PORT_ADDED, index, port->name);
	/* The device may not be up after all (carrier): look now. */
	sw_link_check_locked(sw, index);
	return 0;
}

/* A removal that waited longer than this for the port's poll thread says
 * so: the thread was stopped or starved. */
#define SW_SLOW_REMOVAL_MS 1000
/*
 * With more entries than this in the table, a removed port's entries are
 * flushed by the ager, not by the removal: a flush walks every entry (a
 * second or more at a million, under ASan), and the control thread must
 * stay free to answer.  Below it the removal flushes at once, as it
 * always did.
 */
#define SW_FLUSH_NOW_MAX 65536

int sw_op_port_remove(struct sw *sw, uint32_t index, struct sw_why *note)
{
	struct fdb_stats st;
	struct dp_port *port;
	char name[IFNAMSIZ];
	uint64_t waited;
	int err;

	sw_assert_locked(sw);
	rcu_assert_not_reader();
	port = dp_port_get(sw->dp, index);
	if (!port)
		return -ENOENT;
	strcpy(name, port->name);
	/* Its watchers first: a capture of it is closed with what it has,
	 * and a stream of it ends, before the port is gone. */
	sw_obs_port_removed_locked(sw, index);
	/* The link monitor may be asking the port about its device. */
	sw_link_wait_idle(sw);
	fdb_get_stats(sw->fdb, &st);
	err = st.n_entries > SW_FLUSH_NOW_MAX ?
	      dp_port_detach_deferred(sw->dp, index) :
	      dp_port_detach(sw->dp, index);
	if (err)
		return err;
	waited = dp_port_detach_waited_ms(sw->dp);
	if (waited > SW_SLOW_REMOVAL_MS) {
		sw_log(LOG_WARNING,
		       "%s: removal waited %llu ms for its poll thread",
		       name, (unsigned long long)waited);
		sw_why_set(note, 0,
			   "Warning: %s: removal waited %llu ms for its poll thread to let go of it",
			   name, (unsigned long long)waited);
	}
	sw_log(LOG_INFO, "%s: port %u removed", name, index);
	sw_obs_port_event(sw, DP_EV_PORT_REMOVED, index, name);
	return 0;
}

int sw_op_port_del(struct sw *sw, const char *name, struct sw_why *why)
{
	uint32_t index;
	int err;

	err = sw_port_find(sw, name, &index, why);
	if (err)
		return err;
	err = sw_op_port_remove(sw, index, why);
	if (err)
		return sw_why_set(why, err, "Error: %s", strerror(-err));
	return 0;
}

int sw_op_port_gone(struct sw *sw, uint32_t index)
{
	struct dp_port *port;

	sw_assert_locked(sw);
	port = dp_port_get(sw->dp, index);
	if (!port)
		return -ENOENT;
	sw_log(LOG_INFO, "%s: device deleted", port->name);
	return sw_op_port_remove(sw, index, NULL);
}

int sw_op_port_link(struct sw *sw, uint32_t index, bool up)
{
	struct dp_port_info info;
	int err;

	sw_assert_locked(sw);
	rcu_assert_not_reader();
	if (dp_port_get_info(sw->dp, index, &info))
		return -ENOENT;
	if (!!(info.flags & DP_PORT_UP) == up)
		return 0;
	/* Down before what it flushes; up after it forwards. */
	if (!up)
		sw_obs_port_event(sw, DP_EV_PORT_DOWN, index, info.name);
	err = dp_port_set_flags(sw->dp, index, DP_PORT_UP,
				up ? DP_PORT_UP : 0);
	if (err)
		return err;	/* nothing changed; the next rescan retries */
	sw_log(LOG_INFO, "%s: link %s, port %s", info.name,
	       up ? "up" : "down", up ? "forwarding" : "disabled");
	if (up)
		sw_obs_port_event(sw, DP_EV_PORT_UP, index, info.name);
	return 0;
}

int sw_op_port_mtu(struct sw *sw, uint32_t index, uint32_t mtu)
{
	struct dp_port_info info;
	int err;

	sw_assert_locked(sw);
	rcu_assert_not_reader();
	if (dp_port_get_info(sw->dp, index, &info))
		return -ENOENT;
	if (info.mtu == mtu)
		return 0;
	err = dp_port_set_mtu(sw->dp, index, mtu);
	if (err)
		return err;	/* nothing changed; the next rescan retries */
	sw_log(LOG_INFO, "%s: mtu %u", info.name, mtu);
	return 0;
}

void sw_qos_edit_init(struct vlan_qos_map *edit)
{
	memset(edit->to, SW_QOS_KEEP, sizeof(edit->to));
}

/* Apply @edit to @map; -EINVAL (nothing changed) for a PCP above 7. */
static int sw_qos_apply(struct vlan_qos_map *map,
			const struct vlan_qos_map *edit, struct sw_why *why)
{
	char word[8];

	for (unsigned int from = 0; from < 8; from++) {
		if (edit->to[from] == SW_QOS_KEEP || edit->to[from] <= 7)
			continue;
		snprintf(word, sizeof(word), "%u:%u", from,
			 edit->to[from]);
		return sw_why_arg(why, word,
				  "a PCP map word is FROM:TO, each 0-7");
	}
	for (unsigned int from = 0; from < 8; from++)
		if (edit->to[from] != SW_QOS_KEEP)
			map->to[from] = edit->to[from];
	return 0;
}

/* The flags `port set` may change: DP_PORT_UP is the link's. */
#define SW_PORT_SETTABLE						\
	(DP_PORT_LEARNING | DP_PORT_FLOOD | DP_PORT_MCAST_FLOOD |	\
	 DP_PORT_BCAST_FLOOD | DP_PORT_REORDER_HDR | DP_PORT_OFFLOAD)

int sw_op_port_set(struct sw *sw, const char *name,
		   const struct sw_port_settings *set, struct sw_why *why)
{
	bool set_vlan = set->ingress_qos || set->egress_qos;
	struct dp_vlan_cfg old_vc, vc;
	struct dp_port *port;
	uint32_t index;
	int err;

	sw_assert_locked(sw);
	rcu_assert_not_reader();
	err = sw_port_find(sw, name, &index, why);
	if (err)
		return err;
	if (!set->flags_mask && !set_vlan)
		return sw_why_set(why, -EINVAL,
				  "Error: port set: nothing to set");
	if (set->flags_mask & ~SW_PORT_SETTABLE)
		return sw_why_set(why, -EINVAL,
				  "Error: port set: flags %#x are not settings",
				  set->flags_mask & ~SW_PORT_SETTABLE);
	port = dp_port_get(sw->dp, index);
	if ((set->flags_mask & set->flags_value & DP_PORT_OFFLOAD) &&
	    !port->offload_caps)
		return sw_why_set(why, -EOPNOTSUPP,
				  "Error: argument \"offload\" is wrong: %s takes no offloads",
				  port->name);
	err = dp_port_get_vlan(sw->dp, index, &old_vc);
	if (err)
		return sw_why_set(why, err, "Error: %s", strerror(-err));
	vc = old_vc;
	if (set->ingress_qos) {
		err = sw_qos_apply(&vc.ingress_qos, set->ingress_qos, why);
		if (err)
			return err;
	}
	if (set->egress_qos) {
		err = sw_qos_apply(&vc.egress_qos, set->egress_qos, why);
		if (err)
			return err;
	}

	/* Checked; now apply, the maps first, as before. */
	if (set_vlan) {
		err = dp_port_set_vlan(sw->dp, index, &vc);
		if (err)
			return sw_why_set(why, err, "Error: %s",
					  strerror(-err));
	}
	/* As in Linux, learning off keeps what was already learned. */
	if (!set->flags_mask)
		return 0;
	err = dp_port_set_flags(sw->dp, index, set->flags_mask,
				set->flags_value);
	if (err) {
		/* All or nothing: the old maps back.  Membership is the
		 * same, so this flushes nothing. */
		if (set_vlan)
			dp_port_set_vlan(sw->dp, index, &old_vc);
		return sw_why_set(why, err, "Error: port set: %s",
				  strerror(-err));
	}
	return 0;
}
