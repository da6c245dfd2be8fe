/*
 * ops_fdb.c - the forwarding table operations (ops.h): entries added,
 * replaced and deleted by hand, and flushes, with the rules of the
 * kernel's br_fdb_add() and br_fdb_delete().
 */
#include "switch/ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mac.h"
#include "lib/rcu.h"

/* The flags an entry added by hand may have. */
#define SW_FDB_USER_FLAGS (FDB_STATIC | FDB_STICKY)

/* @vid is one VID (1-4094) or FDB_ANY_VID. */
static int sw_fdb_check_vid(uint16_t vid, struct sw_why *why)
{
	char word[8];

	if (vid == FDB_ANY_VID || (vid >= 1 && vid < VLAN_N_VID - 1))
		return 0;
	snprintf(word, sizeof(word), "%u", vid);
	return sw_why_arg(why, word, "VLAN ID must be 1-4094");
}

/*
 * The VLANs an fdb add/replace/del without "vlan" applies to: VID 0 while
 * filtering is off; with it on, every VLAN of the port, as Linux's
 * br_fdb_add "adds the entry for every vlan on this port" (Linux also
 * adds one for VID 0, which no lookup uses while filtering is on; we do
 * not).  Returns how many VIDs are in @vids.
 */
static unsigned int sw_fdb_target_vids(struct sw *sw, uint32_t port,
				       uint16_t vid, uint16_t *vids)
{
	struct dp_vlan_cfg vc;
	unsigned int n = 0;

	if (vid != FDB_ANY_VID) {
		vids[n++] = vid;
		return n;
	}
	if (!dp_get_vlan_filtering(sw->dp) ||
	    dp_port_get_vlan(sw->dp, port, &vc)) {
		vids[n++] = 0;
		return n;
	}
	for (uint16_t v = 1; v < VLAN_N_VID - 1; v++)
		if (vlan_is_member(&vc.mbr, v))
			vids[n++] = v;
	return n;
}

/* What the table held for one MAC before a replace, to put back if the
 * replace fails half-way. */
struct sw_fdb_prior {
	const uint8_t *mac;
	uint32_t port[VLAN_N_VID];	/* FDB_NO_PORT: no entry */
	uint32_t flags[VLAN_N_VID];
};

/* What the table holds for @mac in each of @vids[0..@n): a lookup each,
 * not a walk of the table (a million entries take seconds to walk, all
 * of them under sw->lock). */
static void sw_fdb_prior_collect(struct sw *sw, struct sw_fdb_prior *prior,
				 const uint16_t *vids, unsigned int n)
{
	struct fdb_entry_info info;

	rcu_read_begin();
	for (unsigned int k = 0; k < n; k++) {
		if (!fdb_get_rcu(sw->fdb, vids[k], prior->mac, &info))
			continue;
		prior->port[vids[k]] = info.port;
		prior->flags[vids[k]] = info.flags;
	}
	rcu_read_end();
}

/*
 * Undo the first @n inserts of @vids: put back what @prior says was
 * there, or delete what was added.  Best effort: it runs after an
 * insert ran out of memory, and putting an entry back needs memory too.
 */
static void sw_fdb_undo(struct sw *sw, const uint8_t mac[FDB_MAC_LEN],
			uint32_t index, const uint16_t *vids, unsigned int n,
			const struct sw_fdb_prior *prior, uint64_t now)
{
	for (unsigned int k = 0; k < n; k++) {
		uint16_t vid = vids[k];

		if (prior && prior->port[vid] != FDB_NO_PORT)
			fdb_insert(sw->fdb, vid, mac, prior->port[vid],
				   prior->flags[vid] & SW_FDB_USER_FLAGS, now,
				   true);
		else
			fdb_del(sw->fdb, vid, mac, index);
	}
}

static int sw_fdb_insert(struct sw *sw, const uint8_t mac[FDB_MAC_LEN],
			 const char *dev, uint16_t vid, uint32_t flags,
			 bool replace, struct sw_why *why)
{
	struct sw_fdb_prior *prior = NULL;
	uint16_t vids[VLAN_N_VID];
	char word[MAC_STR_LEN];
	unsigned int n, k;
	uint32_t index;
	uint64_t now;
	int err;

	sw_assert_locked(sw);
	rcu_assert_not_reader();
	mac_format(mac, word);
	/* Both said "fdb add" before the grammar had a line of its own for
	 * replace; the lexer catches it first now. */
	if (!dev)
		return sw_why_set(why, -EINVAL,
				  "Error: fdb add needs dev IFNAME");
	err = sw_port_find(sw, dev, &index, why);
	if (!err)
		err = sw_fdb_check_vid(vid, why);
	if (err)
		return err;
	if (flags & ~SW_FDB_USER_FLAGS)
		return sw_why_set(why, -EINVAL,
				  "Error: fdb add: flags %#x are not an entry's",
				  flags & ~SW_FDB_USER_FLAGS);
	if (mac_is_mcast(mac) || mac_is_zero(mac))
		return sw_why_arg(why, word, "not a unicast MAC address");
	/* As br_fdb_add(): "FDB entry with unconfigured vlan". */
	if (vid != FDB_ANY_VID) {
		struct dp_vlan_cfg vc;

		if (dp_port_get_vlan(sw->dp, index, &vc) ||
		    !vlan_is_member(&vc.mbr, vid))
			return sw_why_set(why, -EINVAL,
					  "Error: argument \"%u\" is wrong: "
					  "the port is not a member of that VLAN",
					  vid);
	}
	n = sw_fdb_target_vids(sw, index, vid, vids);
	if (!n)
		return sw_why_arg(why, word, "the port is in no VLAN");
	if (!replace) {
		/* All or nothing: look for an entry in every VID first. */
		bool exists = false;

		rcu_read_begin();
		for (k = 0; k < n && !exists; k++)
			exists = fdb_lookup_rcu(sw->fdb, vids[k], mac) !=
				 FDB_NO_PORT;
		rcu_read_end();
		if (exists)
			return sw_why_arg(why, word,
					  "an entry exists; use fdb replace");
	} else {
		prior = malloc(sizeof(*prior));
		if (!prior)
			return sw_why_set(why, -ENOMEM,
					  "Error: out of memory");
		prior->mac = mac;
		for (unsigned int v = 0; v < VLAN_N_VID; v++)
			prior->port[v] = FDB_NO_PORT;
		sw_fdb_prior_collect(sw, prior, vids, n);
	}

	/*
	 * Replace even for an add: a poll thread may have learned the MAC
	 * since the look above, and the user's entry wins, as it would
	 * had it come first.
	 */
	now = dp_now_ms();
	for (k = 0; k < n; k++) {
		err = fdb_insert(sw->fdb, vids[k], mac, index, flags, now,
				 true);
		if (err) {
			sw_fdb_undo(sw, mac, index, vids, k, prior, now);
			free(prior);
			return sw_why_set(why, err, "Error: out of memory");
		}
	}
	free(prior);
	return 0;
}

int sw_op_fdb_add(struct sw *sw, const uint8_t mac[FDB_MAC_LEN],
		  const char *dev, uint16_t vid, uint32_t flags,
		  struct sw_why *why)
{
	return sw_fdb_insert(sw, mac, dev, vid, flags, false, why);
}

int sw_op_fdb_replace(struct sw *sw, const uint8_t mac[FDB_MAC_LEN],
		      const char *dev, uint16_t vid, uint32_t flags,
		      struct sw_why *why)
{
	return sw_fdb_insert(sw, mac, dev, vid, flags, true, why);
}

int sw_op_fdb_del(struct sw *sw, const uint8_t mac[FDB_MAC_LEN],
		  const char *dev, uint16_t vid, struct sw_why *why)
{
	uint16_t vids[VLAN_N_VID];
	unsigned int n, deleted = 0;
	char word[MAC_STR_LEN];
	uint32_t index;
	int err;

	sw_assert_locked(sw);
	rcu_assert_not_reader();
	if (!dev)
		return sw_why_set(why, -EINVAL,
				  "Error: fdb del needs dev IFNAME");
	err = sw_port_find(sw, dev, &index, why);
	if (!err)
		err = sw_fdb_check_vid(vid, why);
	if (err)
		return err;
	n = sw_fdb_target_vids(sw, index, vid, vids);
	for (unsigned int k = 0; k < n; k++)
		deleted += !fdb_del(sw->fdb, vids[k], mac, index);
	if (!deleted)
		return sw_why_arg(why, mac_format(mac, word),
				  "no such entry on that port");
	return 0;
}

int sw_op_fdb_flush(struct sw *sw, const char *dev, uint16_t vid,
		    enum fdb_flush_kind kind, struct sw_why *why)
{
	uint32_t index = FDB_NO_PORT;
	int err;

	sw_assert_locked(sw);
	rcu_assert_not_reader();
	if (dev) {
		err = sw_port_find(sw, dev, &index, why);
		if (err)
			return err;
	}
	err = sw_fdb_check_vid(vid, why);
	if (err)
		return err;
	if (kind != FDB_FLUSH_DYNAMIC && kind != FDB_FLUSH_STATIC &&
	    kind != FDB_FLUSH_ALL)
		return sw_why_set(why, -EINVAL,
				  "Error: fdb flush: no such kind of entry");
	fdb_flush(sw->fdb, index, vid, kind);
	return 0;
}
