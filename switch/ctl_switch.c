/*
 * ctl_switch.c - the switch-wide commands: show, set (ctl.h).
 */
#include "switch/ctl.h"

#include <errno.h>
#include <string.h>

#include "lib/atomic.h"
#include "lib/ctl_wire.h"

int ctl_show(struct ctl_req *r, const struct gr_args *a)
{
	struct fdb_stats st;
	FILE *out = r->out;

	(void)a;
	fdb_get_stats(r->sw->fdb, &st);
	ctl_put_obj(out, "switch");
	ctl_put_str(out, "version", SW_VERSION);
	ctl_put_num(out, "ageing_time", LOAD(&r->sw->ageing_s));
	ctl_put_num(out, "max_learned", fdb_get_max_learned(r->sw->fdb));
	ctl_put_num(out, "group_fwd_mask", dp_get_group_fwd_mask(r->sw->dp));
	ctl_put_num(out, "vlan_filtering", dp_get_vlan_filtering(r->sw->dp));
	ctl_put_str(out, "vlan_protocol",
		    dp_get_vlan_protocol(r->sw->dp) == VLAN_TPID_8021AD ?
			    "802.1ad" : "802.1Q");
	ctl_put_num(out, "default_pvid", dp_get_default_pvid(r->sw->dp));
	ctl_put_num(out, "stp_state", 0);
	ctl_put_num(out, "max_watchers", LOAD(&r->sw->max_watchers));
	ctl_put_num(out, "stats.learned", st.n_learned);
	ctl_put_num(out, "stats.moved", st.n_moved);
	ctl_put_num(out, "stats.aged", st.n_aged);
	ctl_put_num(out, "stats.limit_misses", st.n_limit_miss);
	ctl_put_num(out, "stats.learn_nomem", st.n_nomem);
	ctl_put_num(out, "stats.fdb_entries", st.n_entries);
	ctl_put_num(out, "stats.fdb_learned", st.n_dynamic);
	ctl_put_num(out, "stats.fdb_buckets", st.n_buckets);
	return 0;
}

int ctl_set(struct ctl_req *r, const struct gr_args *a)
{
	struct sw_settings set = { 0 };
	struct sw_why why = { "" };
	int err;

	/* In the order given; the last value of a setting wins.  Nothing
	 * given is the operation's to refuse. */
	for (unsigned int i = 0; i < a->n; i++) {
		const struct gr_value *v = &a->v[i];
		const char *key = v->arg->key;

		if (!strcmp(key, "ageing_time")) {
			set.ageing_s = v->u32;
			set.given |= SW_SET_AGEING_TIME;
		} else if (!strcmp(key, "max_learned")) {
			set.max_learned = v->u32;
			set.given |= SW_SET_MAX_LEARNED;
		} else if (!strcmp(key, "group_fwd_mask")) {
			set.group_fwd_mask = v->u32;
			set.given |= SW_SET_GROUP_FWD_MASK;
		} else if (!strcmp(key, "vlan_filtering")) {
			set.vlan_filtering = v->u32;
			set.given |= SW_SET_VLAN_FILTERING;
		} else if (!strcmp(key, "vlan_protocol")) {
			/* The grammar's choices: 802.1Q, 802.1ad. */
			set.vlan_protocol = v->choice ? VLAN_TPID_8021AD :
							VLAN_TPID_8021Q;
			set.given |= SW_SET_VLAN_PROTOCOL;
		} else if (!strcmp(key, "default_pvid")) {
			set.default_pvid = v->u32;
			set.given |= SW_SET_DEFAULT_PVID;
		} else if (!strcmp(key, "max_watchers")) {
			set.max_watchers = v->u32;
			set.given |= SW_SET_MAX_WATCHERS;
		} else {
			return ctl_invarg(r, key, "unknown setting");
		}
	}
	err = sw_op_set(r->sw, &set, &why);
	return err ? ctl_op_err(r, err, &why) : 0;
}
