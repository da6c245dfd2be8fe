/*
 * ops.h - the operations layer: one function per thing a user can do to
 * the switch, as the kernel's br_if.c, br_fdb.c and br_vlan.c sit under
 * br_ioctl.c and br_netlink.c.
 *
 * Design
 * ------
 * An operation takes parsed arguments - names, numbers, MAC addresses,
 * never words to lex - applies the bridge's rules (which VLANs an fdb add
 * fans out to, which group_fwd_mask bits may be set, ...), and is all or
 * nothing: every argument is checked against the switch as it is before
 * anything changes, and where applying can still fail half-way (out of
 * memory) what was done is put back, as br_setport() puts the old flags
 * back.  It returns 0 or -errno, and on error a one-line reason in a
 * struct sw_why, the whole line the user sees:
 *
 *	Error: argument "WORD" is wrong: REASON
 *
 * WORD is the value as the operation has it: a MAC address as
 * mac_format() writes it, a number in decimal (a mask in hex), a name as
 * given.
 *
 * Who calls them: the control socket's handlers (ctl_*.c) after lexing a
 * request, the daemon's options (main.c), the link monitor (link.c), and
 * the unit tests (tests/check_ops.c), on memory ports and without root.
 * None of them knows the lexer's structs (lib/grammar.h), nor the control
 * request.
 *
 * Thread safety
 * -------------
 * Every operation runs under sw->lock (sw_lock()), online, outside any
 * read-side section, as sw.h's *_locked functions; debug and sanitizer
 * builds check both (sw_assert_locked(), rcu_assert_not_reader()).  Those
 * that remove a port or flush entries wait for a grace period.
 */
#ifndef TAPSWITCH_SWITCH_OPS_H
#define TAPSWITCH_SWITCH_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "switch/sw.h"

/* Why an operation failed: the whole line, "Error: ..." (empty when it
 * did not fail, or failed with nothing more to say than its errno). */
struct sw_why {
	char msg[256];
};

/* Write "Error: argument "@word" is wrong: @reason" into @why (NULL: do
 * nothing).  Returns -EINVAL. */
int sw_why_arg(struct sw_why *why, const char *word, const char *reason);
/* printf into @why (NULL: do nothing); returns @err. */
int sw_why_set(struct sw_why *why, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- ports (ops_port.c) ---- */

/* The index of port @name into *@index: 0, or -EINVAL ("no such port";
 * *@index is FDB_NO_PORT then).  Not an operation: what the operations
 * and the handlers that only read share.  With or without sw->lock: the
 * port table is read under RCU. */
int sw_port_find(struct sw *sw, const char *name, uint32_t *index,
		 struct sw_why *why);

/*
 * Add the port @name of @kind (port_kind_find(); NULL: sw->port_kind, or
 * when that is NULL the kind the device calls for, port_kind_for()): open
 * the device (a tap is created if absent; an existing device is attached
 * and brought up; "mem" has none), attach it, announce it to the monitor, and look at
 * its link.  -EINVAL (a bad name or kind), -EEXIST (already a port), or
 * the kind's or the data plane's error (-ENOSPC: too many ports).
 */
int sw_op_port_add(struct sw *sw, const char *name, const char *kind,
		   struct sw_why *why);

/* Remove the port @name: its watchers end, its entries go, its device is
 * closed (a tap the switch created disappears).  -EINVAL: no such port.
 * It waits for the port's poll thread however long that takes; when it
 * took more than a second, it succeeds with a warning line in @why. */
int sw_op_port_del(struct sw *sw, const char *name, struct sw_why *why);

/* Remove the port at @index, for shutdown and the link monitor.  0 or
 * -ENOENT; a slow removal's warning goes to @note (NULL: the log only). */
int sw_op_port_remove(struct sw *sw, uint32_t index, struct sw_why *note);

/* The link monitor found the device of port @index deleted: log it and
 * remove the port.  0 or -ENOENT. */
int sw_op_port_gone(struct sw *sw, uint32_t index);

/*
 * The link monitor found the device of port @index @up (administratively
 * up, with carrier) or not.  On a change the port forwards or is
 * disabled, losing its dynamic entries as a Linux bridge port does; the
 * monitor hears "port down" before the flush and "port up" after the port
 * forwards, and the log says "IFNAME: link up, port forwarding" or "link
 * down, port disabled".  0 (a change or none), -ENOENT, or -ENOMEM.
 */
int sw_op_port_link(struct sw *sw, uint32_t index, bool up);

/* The link monitor found the MTU of port @index's device at @mtu (0: no
 * limit known): frames longer than it takes stop being sent there.  0,
 * -ENOENT or -ENOMEM. */
int sw_op_port_mtu(struct sw *sw, uint32_t index, uint32_t mtu);

/*
 * A PCP map edit, as ip link's "FROM:TO" words: to[FROM] for each FROM
 * given, SW_QOS_KEEP for the entries the edit leaves as they are.  Build
 * one with sw_qos_edit_init() then vlan_qos_map_parse().
 */
#define SW_QOS_KEEP 0xff
void sw_qos_edit_init(struct vlan_qos_map *edit);

/* What `port set` changes. */
struct sw_port_settings {
	uint32_t flags_mask;		/* DP_PORT_* to set ... */
	uint32_t flags_value;		/* ... to these bits */
	const struct vlan_qos_map *ingress_qos;	/* an edit, or NULL */
	const struct vlan_qos_map *egress_qos;	/* an edit, or NULL */
};

/*
 * Change port @name's flags (DP_PORT_LEARNING, _FLOOD, _MCAST_FLOOD,
 * _BCAST_FLOOD, _REORDER_HDR, _OFFLOAD; DP_PORT_UP is the link's) and PCP
 * maps.  -EINVAL (no such port, nothing to set, a flag that is not one
 * of those, a PCP above 7), -EOPNOTSUPP (offload on a port that takes
 * none), or the data plane's error.  As in Linux, learning off keeps
 * what was learned.
 */
int sw_op_port_set(struct sw *sw, const char *name,
		   const struct sw_port_settings *set, struct sw_why *why);

/* ---- the forwarding table (ops_fdb.c) ---- */

/*
 * Add an entry for @mac on port @dev (required), as `bridge fdb add`:
 * @mac unicast; @vid a VLAN the port is a member of, or FDB_ANY_VID for
 * none given - then VID 0 while filtering is off, and every VLAN of the
 * port while it is on ("the port is in no VLAN" when it has none).
 * @flags: FDB_STATIC (else the entry ages), FDB_STICKY.  Refused if any
 * of those VIDs knows @mac already (learned or not): nothing is added.
 * -EINVAL, or -ENOMEM (nothing added).
 */
int sw_op_fdb_add(struct sw *sw, const uint8_t mac[FDB_MAC_LEN],
		  const char *dev, uint16_t vid, uint32_t flags,
		  struct sw_why *why);
/* As sw_op_fdb_add(), but an entry there is replaced (`fdb replace`);
 * on -ENOMEM the entries replaced so far are put back. */
int sw_op_fdb_replace(struct sw *sw, const uint8_t mac[FDB_MAC_LEN],
		      const char *dev, uint16_t vid, uint32_t flags,
		      struct sw_why *why);

/* Delete the entries for @mac on port @dev (required) in @vid, or in the
 * VIDs an add without a VLAN would use.  -EINVAL: no such port, or no
 * such entry on that port. */
int sw_op_fdb_del(struct sw *sw, const uint8_t mac[FDB_MAC_LEN],
		  const char *dev, uint16_t vid, struct sw_why *why);

/* Remove the entries of @kind on port @dev (NULL: any) in @vid
 * (FDB_ANY_VID: any).  -EINVAL: no such port. */
int sw_op_fdb_flush(struct sw *sw, const char *dev, uint16_t vid,
		    enum fdb_flush_kind kind, struct sw_why *why);

/* ---- VLAN membership (ops_vlan.c) ---- */

/* Make port @dev a member of VLANs @lo..@hi (1-4094), as PVID (one VID
 * only) and egress untagged if asked.  -EINVAL, or the data plane's
 * error. */
int sw_op_vlan_add(struct sw *sw, const char *dev, uint16_t lo, uint16_t hi,
		   bool pvid, bool untagged, struct sw_why *why);
/* Take port @dev out of VLANs @lo..@hi, all of which it must be a
 * member of; its dynamic entries there go.  -EINVAL, or the data plane's
 * error. */
int sw_op_vlan_del(struct sw *sw, const char *dev, uint16_t lo, uint16_t hi,
		   struct sw_why *why);

/* ---- switch-wide settings (ops_switch.c) ---- */

enum sw_setting_bit {
	SW_SET_AGEING_TIME_BIT,
	SW_SET_MAX_LEARNED_BIT,
	SW_SET_GROUP_FWD_MASK_BIT,
	SW_SET_VLAN_FILTERING_BIT,
	SW_SET_VLAN_PROTOCOL_BIT,
	SW_SET_DEFAULT_PVID_BIT,
	SW_SET_MAX_WATCHERS_BIT,
};
#define SW_SET_AGEING_TIME	(1u << SW_SET_AGEING_TIME_BIT)
#define SW_SET_MAX_LEARNED	(1u << SW_SET_MAX_LEARNED_BIT)
#define SW_SET_GROUP_FWD_MASK	(1u << SW_SET_GROUP_FWD_MASK_BIT)
#define SW_SET_VLAN_FILTERING	(1u << SW_SET_VLAN_FILTERING_BIT)
#define SW_SET_VLAN_PROTOCOL	(1u << SW_SET_VLAN_PROTOCOL_BIT)
#define SW_SET_DEFAULT_PVID	(1u << SW_SET_DEFAULT_PVID_BIT)
#define SW_SET_MAX_WATCHERS	(1u << SW_SET_MAX_WATCHERS_BIT)
#define SW_SET_ALL		((1u << (SW_SET_MAX_WATCHERS_BIT + 1)) - 1)

/* `set`: the settings whose bits are in @given. */
struct sw_settings {
	uint32_t given;			/* SW_SET_* */
	uint32_t ageing_s;		/* to SW_MAX_AGEING_S; 0: no learning */
	uint32_t max_learned;		/* 0: no limit */
	uint32_t group_fwd_mask;	/* 0-0xffff, bits 0-2 clear */
	uint32_t vlan_filtering;	/* 0 or 1 */
	uint16_t vlan_protocol;		/* VLAN_TPID_8021Q or _8021AD */
	uint32_t default_pvid;		/* 0 (none) or 1-4094 */
	uint32_t max_watchers;		/* 1-SW_MAX_WATCHERS */
};

/*
 * Change the settings given, all of them or none: each is checked before
 * any is applied, and they are applied in this order: group_fwd_mask,
 * max_learned, ageing_time, vlan_protocol, default_pvid, vlan_filtering.
 * -EINVAL (none given, one out of range, a restricted group_fwd_mask
 * bit), or -ENOMEM (what was applied is put back, but entries a change
 * flushed stay gone).
 */
int sw_op_set(struct sw *sw, const struct sw_settings *set,
	      struct sw_why *why);

#endif /* TAPSWITCH_SWITCH_OPS_H */
