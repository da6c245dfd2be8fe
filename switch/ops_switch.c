/*
 * ops_switch.c - the switch-wide settings (`set`, the daemon's options),
 * and the one-line reasons every operation gives (ops.h).
 */
#include "switch/ops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <urcu-qsbr.h>

#include "lib/atomic.h"
#include "lib/rcu.h"

int sw_why_set(struct sw_why *why, int err, const char *fmt, ...)
{
	va_list ap;

	if (why) {
		va_start(ap, fmt);
		vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

int sw_why_arg(struct sw_why *why, const char *word, const char *reason)
{
	return sw_why_set(why, -EINVAL, "Error: argument \"%s\" is wrong: %s",
			  word, reason);
}

/* Restricted as in Linux: STP, MAC pause and LACP are never forwarded. */
#define SW_GROUP_FWD_RESTRICTED 0x0007

static int sw_apply_ageing(struct sw *sw, uint32_t ageing_s)
{
	uint32_t old = sw->ageing_s;
	int err;

	if ((old == 0) != (ageing_s == 0)) {
		err = dp_set_learning(sw->dp, ageing_s != 0);
		if (err)
			return err;
	}
	STORE(&sw->ageing_s, ageing_s);
	/*
	 * With ageing_time 0 nothing is remembered, as in Linux.  Wait for
	 * the poll threads to see learning off first: one still in a burst
	 * begun before would put back what we flush.
	 */
	if (!ageing_s && old) {
		rcu_sync();
		fdb_flush(sw->fdb, FDB_NO_PORT, FDB_ANY_VID,
			  FDB_FLUSH_DYNAMIC);
	}
	return 0;
}

/* Every setting of @set in range: 0, or -EINVAL naming the first that is
 * not (its value as a word: a number, a mask in hex). */
static int sw_settings_check(const struct sw_settings *set,
			     struct sw_why *why)
{
	char word[16];

	if (!(set->given & SW_SET_ALL))
		return sw_why_set(why, -EINVAL,
				  "Error: usage: set ageing_time SEC | max_learned N | group_fwd_mask MASK");
	if (set->given & ~SW_SET_ALL)
		return sw_why_set(why, -EINVAL,
				  "Error: set: settings %#x are unknown",
				  set->given & ~SW_SET_ALL);
	if ((set->given & SW_SET_AGEING_TIME) &&
	    set->ageing_s > SW_MAX_AGEING_S) {
		snprintf(word, sizeof(word), "%u", set->ageing_s);
		return sw_why_arg(why, word,
				  "ageing_time is 0-1000000 seconds");
	}
	if (set->given & SW_SET_GROUP_FWD_MASK) {
		snprintf(word, sizeof(word), "%#x", set->group_fwd_mask);
		if (set->group_fwd_mask > 0xffff)
			return sw_why_arg(why, word,
					  "group_fwd_mask is 0-0xffff");
		if (set->group_fwd_mask & SW_GROUP_FWD_RESTRICTED)
			return sw_why_arg(why, word,
					  "bits 0-2 (STP, pause, LACP) cannot be forwarded");
	}
	if ((set->given & SW_SET_VLAN_FILTERING) && set->vlan_filtering > 1) {
		snprintf(word, sizeof(word), "%u", set->vlan_filtering);
		return sw_why_arg(why, word, "vlan_filtering is 0 or 1");
	}
	if ((set->given & SW_SET_VLAN_PROTOCOL) &&
	    set->vlan_protocol != VLAN_TPID_8021Q &&
	    set->vlan_protocol != VLAN_TPID_8021AD) {
		snprintf(word, sizeof(word), "%#06x", set->vlan_protocol);
		return sw_why_arg(why, word,
				  "vlan_protocol is 802.1Q or 802.1ad");
	}
	if ((set->given & SW_SET_DEFAULT_PVID) &&
	    set->default_pvid >= VLAN_N_VID - 1) {
		snprintf(word, sizeof(word), "%u", set->default_pvid);
		return sw_why_arg(why, word,
				  "default_pvid is 0 (none) or 1-4094");
	}
	if ((set->given & SW_SET_MAX_WATCHERS) &&
	    (!set->max_watchers || set->max_watchers > SW_MAX_WATCHERS)) {
		snprintf(word, sizeof(word), "%u", set->max_watchers);
		return sw_why_arg(why, word, "max_watchers is 1-1024");
	}
	return 0;
}

/* The settings as they are now, for putting back. */
static void sw_settings_get(struct sw *sw, struct sw_settings *set)
{
	set->given = SW_SET_ALL;
	set->ageing_s = sw->ageing_s;
	set->max_learned = fdb_get_max_learned(sw->fdb);
	set->group_fwd_mask = dp_get_group_fwd_mask(sw->dp);
	set->vlan_filtering = dp_get_vlan_filtering(sw->dp);
	set->vlan_protocol = dp_get_vlan_protocol(sw->dp);
	set->default_pvid = dp_get_default_pvid(sw->dp);
	set->max_watchers = sw->max_watchers;
}

/*
 * Apply the settings of @set in @given, in order; on an error stop and
 * return it, with *@applied the bits done.  Each dp_set_* returns 0 or
 * -ENOMEM and changes nothing on error.
 */
static int sw_settings_apply(struct sw *sw, const struct sw_settings *set,
			     uint32_t given, uint32_t *applied)
{
	int err = 0;

	*applied = 0;
	if (given & SW_SET_GROUP_FWD_MASK) {
		err = dp_set_group_fwd_mask(sw->dp, set->group_fwd_mask);
		if (err)
			return err;
		*applied |= SW_SET_GROUP_FWD_MASK;
	}
	if (given & SW_SET_MAX_LEARNED) {
		fdb_set_max_learned(sw->fdb, set->max_learned);
		*applied |= SW_SET_MAX_LEARNED;
	}
	if (given & SW_SET_AGEING_TIME) {
		err = sw_apply_ageing(sw, set->ageing_s);
		if (err)
			return err;
		*applied |= SW_SET_AGEING_TIME;
	}
	if (given & SW_SET_VLAN_PROTOCOL) {
		err = dp_set_vlan_protocol(sw->dp, set->vlan_protocol);
		if (err)
			return err;
		*applied |= SW_SET_VLAN_PROTOCOL;
	}
	if (given & SW_SET_DEFAULT_PVID) {
		err = dp_set_default_pvid(sw->dp, set->default_pvid);
		if (err)
			return err;
		*applied |= SW_SET_DEFAULT_PVID;
	}
	if (given & SW_SET_VLAN_FILTERING) {
		err = dp_set_vlan_filtering(sw->dp, set->vlan_filtering);
		if (err)
			return err;
		*applied |= SW_SET_VLAN_FILTERING;
	}
	/* Watchers running past a lowered limit go on: it holds new
	 * ones back. */
	if (given & SW_SET_MAX_WATCHERS) {
		STORE(&sw->max_watchers, set->max_watchers);
		*applied |= SW_SET_MAX_WATCHERS;
	}
	return 0;
}

int sw_op_set(struct sw *sw, const struct sw_settings *set,
	      struct sw_why *why)
{
	struct sw_settings old;
	uint32_t applied, undone;
	int err;

	sw_assert_locked(sw);
	rcu_assert_not_reader();
	err = sw_settings_check(set, why);
	if (err)
		return err;
	sw_settings_get(sw, &old);
	err = sw_settings_apply(sw, set, set->given, &applied);
	if (err) {
		/* Out of memory half-way: put back what was changed, best
		 * effort (that needs memory too), so that a failed `set`
		 * leaves the settings as they were.  Entries a change
		 * flushed stay gone. */
		sw_settings_apply(sw, &old, applied, &undone);
		return sw_why_set(why, err, "Error: out of memory");
	}
	return 0;
}
