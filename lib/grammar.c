/*
 * grammar.c - the control commands: every object, command and argument,
 * and the lookups and synopses made from them (lib/grammar.h).
 *
 * The table reproduces what the daemon parsed by hand before it: the
 * same words, and where a word alone shows the mistake, the same error
 * lines (the `why`, `missing` and `unknown_why` texts below).  Help texts
 * follow README.md.
 */
#include "lib/grammar.h"

#include <stdio.h>
#include <string.h>

static const char *const dir_choices[] = { "rx", "tx", "both", NULL };
static const char *const tpid_choices[] = { "802.1Q", "802.1ad", NULL };

#define ONOFF(k, h)							\
	{ .key = (k), .type = GR_ONOFF, .meta = "on|off", .help = (h) }
#define COUNT(h)							\
	{ .key = "count", .type = GR_U32, .meta = "N", .min = 1,	\
	  .max = UINT32_MAX, .help = (h) }
#define DIR								\
	{ .key = "dir", .type = GR_CHOICE, .meta = "rx|tx|both",	\
	  .choices = dir_choices,					\
	  .help = "frames received, sent, or both (the default)" }

/* ---- port ---- */

static const struct gr_arg port_show_args[] = {
	{ .key = "dev", .type = GR_WORD,
	  .flags = GR_POSITIONAL | GR_KEY_OPTIONAL, .meta = "IFNAME",
	  .help = "only this port" },
	{ .key = NULL },
};

/* "dev" names the value for gr_get(); it is no keyword here, so that
 * "port add dev" adds a port named dev, as it always did. */
const char *const gr_port_kinds[] = { "tap", "afpacket", "afxdp", NULL };

static const struct gr_arg port_add_args[] = {
	{ .key = "dev", .type = GR_WORD,
	  .flags = GR_POSITIONAL | GR_REQUIRED, .meta = "IFNAME",
	  .help = "a tap (created if absent) or an existing device to attach" },
	{ .key = "type", .type = GR_CHOICE, .meta = "tap|afpacket|afxdp",
	  .choices = gr_port_kinds,
	  .help = "the port kind; without it, tap for a tap or a new name, afpacket for any other device" },
	{ .key = NULL },
};

static const struct gr_arg port_del_args[] = {
	{ .key = "dev", .type = GR_WORD,
	  .flags = GR_POSITIONAL | GR_KEY_OPTIONAL | GR_REQUIRED,
	  .meta = "IFNAME", .missing = "usage: port del IFNAME",
	  .help = "the port" },
	{ .key = NULL },
};

static const struct gr_arg port_set_args[] = {
	{ .key = "dev", .type = GR_WORD,
	  .flags = GR_POSITIONAL | GR_KEY_OPTIONAL | GR_REQUIRED,
	  .meta = "IFNAME",
	  .missing = "usage: port set IFNAME FLAG on|off ...",
	  .help = "the port" },
	ONOFF("learning", "learn the source addresses of frames received here"),
	ONOFF("flood", "flood unknown unicast to the port"),
	ONOFF("mcast_flood", "flood multicast to the port"),
	ONOFF("bcast_flood", "flood broadcast to the port"),
	ONOFF("reorder_hdr",
	      "off: frames leave the port tagged even where its membership is untagged"),
	ONOFF("offload",
	      "checksum and segmentation offloads; off: the switch completes and cuts up what it sends there"),
	{ .key = "ingress_qos_map", .alias = "ingress-qos-map",
	  .type = GR_QOS_MAP, .meta = "FROM:TO...",
	  .help = "rewrite the PCP of frames arriving on the port" },
	{ .key = "egress_qos_map", .alias = "egress-qos-map",
	  .type = GR_QOS_MAP, .meta = "FROM:TO...",
	  .help = "rewrite the PCP of frames leaving the port tagged" },
	{ .key = NULL },
};

static const struct gr_cmd port_cmds[] = {
	{ .name = "show", .id = GR_CMD_PORT_SHOW, .answer = GR_ANSWER_LIST,
	  .args = port_show_args, .unknown_why = "unexpected",
	  .help = "one line per port: kind, state, link, flags; -s adds counters" },
	{ .name = "add", .id = GR_CMD_PORT_ADD, .answer = GR_ANSWER_NONE,
	  .args = port_add_args,
	  .help = "attach a device (creating a tap if absent), bring it up" },
	{ .name = "del", .id = GR_CMD_PORT_DEL, .answer = GR_ANSWER_NONE,
	  .args = port_del_args,
	  .help = "detach the port; a tap the switch created disappears, any other device stays as it was" },
	{ .name = "set", .id = GR_CMD_PORT_SET, .answer = GR_ANSWER_NONE,
	  .args = port_set_args, .unknown_why = "unknown port setting",
	  .help = "per-port settings; the flags are all on by default" },
	{ .help = NULL },
};

/* ---- fdb ---- */

#define FDB_MAC								\
	{ .key = "mac", .type = GR_MAC,					\
	  .flags = GR_POSITIONAL | GR_REQUIRED, .meta = "MAC",		\
	  .missing = "a MAC address is needed",				\
	  .help = "the entry's address" }
#define FDB_DEV(missing_)						\
	{ .key = "dev", .type = GR_WORD, .flags = GR_REQUIRED,		\
	  .meta = "IFNAME", .missing = (missing_),			\
	  .help = "the port the address is behind" }
#define FDB_VLAN							\
	{ .key = "vlan", .type = GR_VID, .meta = "VID",			\
	  .help = "the entry's VLAN; without it, VID 0 while filtering is off, every VLAN of the port while it is on" }
#define FDB_STATE							\
	{ .key = "static", .type = GR_FLAG, .group = 1,			\
	  .help = "the entry never ages (the default)" },		\
	{ .key = "dynamic", .type = GR_FLAG, .group = 1,		\
	  .help = "the entry ages as a learned one" },			\
	{ .key = "sticky", .type = GR_FLAG,				\
	  .help = "the entry never moves to another port" }

static const struct gr_arg fdb_show_args[] = {
	{ .key = "dev", .type = GR_WORD, .meta = "IFNAME",
	  .help = "only this port's entries" },
	{ .key = "vlan", .type = GR_VID, .meta = "VID",
	  .help = "only this VLAN's entries" },
	{ .key = NULL },
};

static const struct gr_arg fdb_add_args[] = {
	FDB_MAC,
	FDB_DEV("fdb add needs dev IFNAME"),
	FDB_VLAN,
	FDB_STATE,
	{ .key = NULL },
};

static const struct gr_arg fdb_replace_args[] = {
	FDB_MAC,
	FDB_DEV("fdb replace needs dev IFNAME"),
	FDB_VLAN,
	FDB_STATE,
	{ .key = NULL },
};

static const struct gr_arg fdb_del_args[] = {
	FDB_MAC,
	FDB_DEV("fdb del needs dev IFNAME"),
	FDB_VLAN,
	{ .key = NULL },
};

static const struct gr_arg fdb_flush_args[] = {
	{ .key = "dev", .type = GR_WORD, .meta = "IFNAME",
	  .help = "only this port's entries" },
	{ .key = "vlan", .type = GR_VID, .meta = "VID",
	  .help = "only this VLAN's entries" },
	{ .key = "static", .type = GR_FLAG, .group = 1,
	  .help = "only static entries" },
	{ .key = "dynamic", .type = GR_FLAG, .group = 1,
	  .help = "only dynamic entries" },
	{ .key = NULL },
};

static const struct gr_cmd fdb_cmds[] = {
	{ .name = "show", .id = GR_CMD_FDB_SHOW, .answer = GR_ANSWER_LIST,
	  .args = fdb_show_args,
	  .help = "the forwarding table, sorted by port, VLAN and MAC" },
	{ .name = "add", .id = GR_CMD_FDB_ADD, .answer = GR_ANSWER_NONE,
	  .args = fdb_add_args,
	  .help = "add an entry; an error if the MAC is already known" },
	{ .name = "replace", .id = GR_CMD_FDB_REPLACE,
	  .answer = GR_ANSWER_NONE, .args = fdb_replace_args,
	  .help = "add an entry, or replace the one there" },
	{ .name = "del", .id = GR_CMD_FDB_DEL, .answer = GR_ANSWER_NONE,
	  .args = fdb_del_args,
	  .help = "delete the entry if it points to that port" },
	{ .name = "flush", .id = GR_CMD_FDB_FLUSH, .answer = GR_ANSWER_NONE,
	  .args = fdb_flush_args,
	  .help = "remove the matching entries, static and dynamic unless one is named" },
	{ .help = NULL },
};

/* ---- vlan ---- */

#define VLAN_DEV							\
	{ .key = "dev", .type = GR_WORD, .flags = GR_REQUIRED,		\
	  .meta = "IFNAME", .help = "the port" }
#define VLAN_VID							\
	{ .key = "vid", .type = GR_VIDS, .flags = GR_REQUIRED,		\
	  .meta = "VID[-VID]", .help = "the VLAN, or a range of them" }

static const struct gr_arg vlan_show_args[] = {
	{ .key = "dev", .type = GR_WORD,
	  .flags = GR_POSITIONAL | GR_KEY_OPTIONAL, .meta = "IFNAME",
	  .help = "only this port" },
	{ .key = NULL },
};

/* Missing dev or vid: "usage: " and the synopsis.  "pvid" on a range is
 * the operation's to refuse. */
static const struct gr_arg vlan_add_args[] = {
	VLAN_DEV,
	VLAN_VID,
	{ .key = "pvid", .type = GR_FLAG,
	  .help = "untagged frames arriving on the port join this VLAN (one VID only)" },
	{ .key = "untagged", .type = GR_FLAG,
	  .help = "frames of this VLAN leave the port without a tag" },
	{ .key = NULL },
};

static const struct gr_arg vlan_del_args[] = {
	VLAN_DEV,
	VLAN_VID,
	{ .key = NULL },
};

static const struct gr_cmd vlan_cmds[] = {
	{ .name = "show", .id = GR_CMD_VLAN_SHOW, .answer = GR_ANSWER_LIST,
	  .args = vlan_show_args, .unknown_why = "unexpected",
	  .help = "VLAN membership, as bridge vlan show; -s adds per-VLAN counters" },
	{ .name = "add", .id = GR_CMD_VLAN_ADD, .answer = GR_ANSWER_NONE,
	  .args = vlan_add_args,
	  .help = "make the port a member of the VLANs" },
	{ .name = "del", .id = GR_CMD_VLAN_DEL, .answer = GR_ANSWER_NONE,
	  .args = vlan_del_args,
	  .help = "take the port out of the VLANs and forget its entries learned there" },
	{ .help = NULL },
};

/* ---- show, set ---- */

static const struct gr_arg no_args[] = {
	{ .key = NULL },
};

static const struct gr_cmd show_cmds[] = {
	{ .name = "show", .id = GR_CMD_SHOW, .answer = GR_ANSWER_SINGLE,
	  .args = no_args, .unknown_why = "unexpected",
	  .help = "switch-wide settings; -s adds the table's counters and size" },
	{ .help = NULL },
};

/* Which settings the switch has is the daemon's to say when none is
 * given; group_fwd_mask's restricted bits are the operation's. */
static const struct gr_arg set_args[] = {
	{ .key = "ageing_time", .type = GR_U32, .meta = "SEC", .min = 0,
	  .max = 1000000, .why = "ageing_time is 0-1000000 seconds",
	  .help = "FDB ageing time; 0 disables learning and forgets dynamic entries" },
	{ .key = "max_learned", .type = GR_U32, .meta = "N", .min = 0,
	  .max = UINT32_MAX, .help = "learned-entry limit; 0: none" },
	{ .key = "group_fwd_mask", .type = GR_U32, .meta = "MASK", .min = 0,
	  .max = 0xffff, .why = "group_fwd_mask is 0-0xffff",
	  .help = "link-local groups 01:80:C2:00:00:0X to forward (bit X); bits 0-2 cannot be set" },
	{ .key = "vlan_filtering", .type = GR_U32, .meta = "0|1", .min = 0,
	  .max = 1, .why = "vlan_filtering is 0 or 1",
	  .help = "802.1Q VLAN filtering; a change forgets the dynamic entries" },
	{ .key = "vlan_protocol", .type = GR_CHOICE, .flags = GR_NOCASE,
	  .meta = "802.1Q|802.1ad", .choices = tpid_choices,
	  .help = "the switch's tag: 802.1Q (TPID 0x8100) or 802.1ad (0x88a8)" },
	{ .key = "default_pvid", .type = GR_U32, .meta = "VID", .min = 0,
	  .max = 4094, .why = "default_pvid is 0 (none) or 1-4094",
	  .help = "the VLAN new ports join as PVID, untagged; 0: none" },
	{ .key = "max_watchers", .type = GR_U32, .meta = "N", .min = 1,
	  .max = 1024, .why = "max_watchers is 1-1024",
	  .help = "captures, traces, dumps and monitors running at once (default 16)" },
	{ .key = NULL },
};

static const struct gr_cmd set_cmds[] = {
	{ .name = NULL, .id = GR_CMD_SET, .answer = GR_ANSWER_NONE,
	  .args = set_args, .unknown_why = "unknown setting",
	  .help = "change switch-wide settings; all are checked before any is applied" },
	{ .help = NULL },
};

/* ---- watching: capture, trace, explain, dump, monitor ---- */

static const struct gr_arg capture_start_args[] = {
	{ .key = "dev", .type = GR_WORD, .meta = "IFNAME",
	  .help = "the port (default: every port)" },
	DIR,
	{ .key = "vlan", .type = GR_VID, .meta = "VID",
	  .help = "only frames of this VLAN" },
	{ .key = "file", .type = GR_PATH, .flags = GR_REQUIRED,
	  .meta = "PATH", .missing = "capture start needs file PATH",
	  .help = "the pcap file, made absolute by tapswitchctl and written by the daemon: a new file (mode 0600), or a FIFO; never a symbolic link or a device" },
	{ .key = "force", .type = GR_FLAG,
	  .help = "an existing regular file is overwritten (without it, that is an error)" },
	COUNT("stop after N frames"),
	{ .key = "snaplen", .type = GR_U32, .meta = "N", .min = 14,
	  .max = 65536 + 256,	/* DP_FRAME_MAX */
	  .help = "bytes kept of each frame (default 262144)" },
	{ .key = NULL },
};

static const struct gr_arg capture_stop_args[] = {
	{ .key = "dev", .type = GR_WORD, .meta = "IFNAME",
	  .help = "only this port's captures" },
	{ .key = "id", .type = GR_U32, .meta = "N", .min = 1,
	  .max = UINT32_MAX, .why = "id is a capture's number",
	  .help = "only the capture with this id" },
	{ .key = NULL },
};

static const struct gr_cmd capture_cmds[] = {
	{ .name = "show", .id = GR_CMD_CAPTURE_SHOW, .answer = GR_ANSWER_DATA,
	  .args = no_args,
	  .help = "the captures, running or finished; -s adds frames, bytes and drops" },
	{ .name = "start", .id = GR_CMD_CAPTURE_START,
	  .answer = GR_ANSWER_DATA, .args = capture_start_args,
	  .help = "write the frames of a port, or of every port, to a pcap file" },
	{ .name = "stop", .id = GR_CMD_CAPTURE_STOP, .answer = GR_ANSWER_DATA,
	  .args = capture_stop_args,
	  .help = "stop captures (all, a port's, one) and report what they wrote" },
	{ .help = NULL },
};

static const struct gr_arg trace_args[] = {
	{ .key = "dev", .type = GR_WORD, .meta = "IFNAME",
	  .help = "only frames arriving on this port" },
	{ .key = "vlan", .type = GR_VID, .meta = "VID",
	  .help = "only frames of this VLAN" },
	COUNT("stop after N frames"),
	{ .key = NULL },
};

static const struct gr_cmd trace_cmds[] = {
	{ .name = NULL, .id = GR_CMD_TRACE, .answer = GR_ANSWER_STREAM,
	  .args = trace_args,
	  .help = "stream every frame's decisions as they are made" },
	{ .help = NULL },
};

static const struct gr_arg explain_args[] = {
	{ .key = "dev", .type = GR_WORD, .flags = GR_REQUIRED,
	  .meta = "IFNAME", .missing = "explain needs dev IFNAME",
	  .help = "the port the frame arrives on" },
	{ .key = "frame", .type = GR_HEX, .flags = GR_REQUIRED, .group = 1,
	  .meta = "HEX", .missing = "explain needs frame HEX or pcap PATH",
	  .help = "the frame in hex, from its destination address on" },
	{ .key = "pcap", .type = GR_PATH, .flags = GR_REQUIRED, .group = 1,
	  .meta = "PATH", .missing = "explain needs frame HEX or pcap PATH",
	  .help = "a pcap file: explain each of its frames" },
	{ .key = NULL },
};

static const struct gr_cmd explain_cmds[] = {
	{ .name = NULL, .id = GR_CMD_EXPLAIN, .answer = GR_ANSWER_DATA,
	  .args = explain_args,
	  .help = "what the switch would do now with the frame, without sending it or learning from it" },
	{ .help = NULL },
};

static const struct gr_arg dump_args[] = {
	{ .key = "dev", .type = GR_WORD, .flags = GR_REQUIRED,
	  .meta = "IFNAME", .missing = "dump needs dev IFNAME",
	  .help = "the port" },
	DIR,
	COUNT("stop after N frames"),
	{ .key = NULL },
};

static const struct gr_cmd dump_cmds[] = {
	{ .name = NULL, .id = GR_CMD_DUMP, .answer = GR_ANSWER_STREAM,
	  .args = dump_args,
	  .help = "stream each frame of a port in hex" },
	{ .help = NULL },
};

static const struct gr_arg monitor_args[] = {
	{ .key = "fdb", .type = GR_FLAG,
	  .help = "FDB events: learned, moved, aged, deleted, flushed, added, replaced" },
	{ .key = "port", .type = GR_FLAG,
	  .help = "port events: added, removed, up, down" },
	COUNT("stop after N events"),
	{ .key = NULL },
};

static const struct gr_cmd monitor_cmds[] = {
	{ .name = NULL, .id = GR_CMD_MONITOR, .answer = GR_ANSWER_STREAM,
	  .args = monitor_args,
	  .help = "stream FDB and port events (without fdb or port: both), as bridge monitor" },
	{ .help = NULL },
};

/* In the order prefixes are matched: "s" is show, "se" set. */
const struct gr_object gr_objects[] = {
	{ .name = "port", .alias = "link", .cmds = port_cmds,
	  .help = "the switch's ports, the taps it forwards between" },
	{ .name = "fdb", .cmds = fdb_cmds,
	  .help = "the forwarding database" },
	{ .name = "vlan", .cmds = vlan_cmds,
	  .help = "the ports' VLAN membership" },
	{ .name = "show", .cmds = show_cmds,
	  .help = "the switch-wide settings" },
	{ .name = "set", .cmds = set_cmds,
	  .help = "change switch-wide settings" },
	{ .name = "capture", .cmds = capture_cmds,
	  .help = "write frames to pcap files" },
	{ .name = "trace", .cmds = trace_cmds,
	  .help = "the switch's decisions, frame by frame, live" },
	{ .name = "explain", .cmds = explain_cmds,
	  .help = "what the switch would do with a frame" },
	{ .name = "dump", .cmds = dump_cmds,
	  .help = "frames in hex, live" },
	{ .name = "monitor", .cmds = monitor_cmds,
	  .help = "FDB and port events, live" },
	{ .name = NULL },
};

bool gr_matches(const char *word, const char *keyword)
{
	size_t len = strlen(word);

	return len && !strncmp(word, keyword, len);
}

const struct gr_object *gr_find_object(const char *word)
{
	for (const struct gr_object *obj = gr_objects; obj->name; obj++)
		if (gr_matches(word, obj->name) ||
		    (obj->alias && !strcmp(word, obj->alias)))
			return obj;
	return NULL;
}

const struct gr_cmd *gr_find_cmd(int argc, char *const argv[],
				 int *first_arg, char *err, size_t err_size)
{
	const struct gr_object *obj;

	if (argc < 1) {
		if (err)
			snprintf(err, err_size, "Error: empty request");
		return NULL;
	}
	obj = gr_find_object(argv[0]);
	if (!obj) {
		if (err)
			snprintf(err, err_size,
				 "Error: unknown object \"%s\"; try \"tapswitchctl help\"",
				 argv[0]);
		return NULL;
	}
	/* An object that is its own command, or one given alone. */
	if (!obj->cmds[0].name || argc == 1) {
		*first_arg = 1;
		return &obj->cmds[0];
	}
	for (const struct gr_cmd *cmd = obj->cmds; cmd->help; cmd++) {
		if (gr_matches(argv[1], cmd->name)) {
			*first_arg = 2;
			return cmd;
		}
	}
	if (err)
		snprintf(err, err_size,
			 "Error: unknown command \"%s\" for \"%s\"; try \"tapswitchctl %s help\"",
			 argv[1], argv[0], argv[0]);
	return NULL;
}

const struct gr_arg *gr_find_keyword(const struct gr_cmd *cmd,
				     const char *word)
{
	for (const struct gr_arg *arg = cmd->args; arg->key; arg++) {
		if ((arg->flags & GR_POSITIONAL) &&
		    !(arg->flags & GR_KEY_OPTIONAL))
			continue;
		if (!strcmp(word, arg->key) ||
		    (arg->alias && !strcmp(word, arg->alias)))
			return arg;
	}
	return NULL;
}

const struct gr_object *gr_object_of(const struct gr_cmd *cmd)
{
	for (const struct gr_object *obj = gr_objects; obj->name; obj++) {
		const struct gr_cmd *c;

		for (c = obj->cmds; c->help; c++)
			if (c == cmd)
				return obj;
	}
	return NULL;
}

/* ---- synopses ---- */

/* A string built as snprintf does: @len counts what was needed. */
struct sbuf {
	char *buf;
	size_t size, len;
	bool marked;
};

static void sb_put(struct sbuf *sb, const char *s)
{
	for (; *s; s++, sb->len++)
		if (sb->len + 1 < sb->size)
			sb->buf[sb->len] = *s;
	if (sb->size)
		sb->buf[sb->len < sb->size ? sb->len : sb->size - 1] = '\0';
}

static void sb_word(struct sbuf *sb, char mark, const char *word)
{
	char m[2] = { mark, '\0' };
	static const char end[2] = { GR_MARK_END, '\0' };

	if (sb->marked)
		sb_put(sb, m);
	sb_put(sb, word);
	if (sb->marked)
		sb_put(sb, end);
}

static void put_arg(struct sbuf *sb, const struct gr_arg *arg)
{
	if (arg->type == GR_FLAG) {
		sb_word(sb, GR_MARK_KEY, arg->key);
		return;
	}
	if (arg->flags & GR_POSITIONAL) {
		if (arg->flags & GR_KEY_OPTIONAL) {
			sb_put(sb, "[");
			sb_word(sb, GR_MARK_KEY, arg->key);
			sb_put(sb, "] ");
		}
		sb_word(sb, GR_MARK_META, arg->meta);
		return;
	}
	sb_word(sb, GR_MARK_KEY, arg->key);
	sb_put(sb, " ");
	sb_word(sb, GR_MARK_META, arg->meta);
}

/* The members of @arg's group from @arg on, as one choice:
 * "[static|dynamic]", "{frame HEX | pcap PATH}". */
static void put_group(struct sbuf *sb, const struct gr_arg *arg)
{
	bool flags_only = true, first = true;
	const struct gr_arg *a;

	for (a = arg; a->key; a++)
		if (a->group == arg->group && a->type != GR_FLAG)
			flags_only = false;
	sb_put(sb, arg->flags & GR_REQUIRED ? "{" : "[");
	for (a = arg; a->key; a++) {
		if (a->group != arg->group || (a->flags & GR_HIDDEN))
			continue;
		if (!first)
			sb_put(sb, flags_only ? "|" : " | ");
		put_arg(sb, a);
		first = false;
	}
	sb_put(sb, arg->flags & GR_REQUIRED ? "}" : "]");
}

static bool group_seen(const struct gr_arg *args, const struct gr_arg *arg)
{
	for (const struct gr_arg *a = args; a < arg; a++)
		if (a->group == arg->group && !(a->flags & GR_HIDDEN))
			return true;
	return false;
}

static int synopsis(const struct gr_cmd *cmd, bool marked, char *buf,
		    size_t size)
{
	struct sbuf sb = { .buf = buf, .size = size, .marked = marked };
	const struct gr_object *obj = gr_object_of(cmd);

	if (size)
		buf[0] = '\0';
	sb_word(&sb, GR_MARK_KEY, obj ? obj->name : "?");
	/* "show show" is "show": the command is the object. */
	if (cmd->name && (!obj || strcmp(cmd->name, obj->name))) {
		sb_put(&sb, " ");
		sb_word(&sb, GR_MARK_KEY, cmd->name);
	}
	for (const struct gr_arg *arg = cmd->args; arg->key; arg++) {
		if (arg->flags & GR_HIDDEN)
			continue;
		if (arg->group) {
			if (!group_seen(cmd->args, arg)) {
				sb_put(&sb, " ");
				put_group(&sb, arg);
			}
			continue;
		}
		sb_put(&sb, " ");
		if (!(arg->flags & GR_REQUIRED))
			sb_put(&sb, "[");
		put_arg(&sb, arg);
		if (!(arg->flags & GR_REQUIRED))
			sb_put(&sb, "]");
	}
	return sb.len;
}

int gr_synopsis(const struct gr_cmd *cmd, char *buf, size_t size)
{
	return synopsis(cmd, false, buf, size);
}

int gr_synopsis_marked(const struct gr_cmd *cmd, char *buf, size_t size)
{
	return synopsis(cmd, true, buf, size);
}

int gr_arg_synopsis(const struct gr_arg *arg, bool marked, char *buf,
		    size_t size)
{
	struct sbuf sb = { .buf = buf, .size = size, .marked = marked };

	if (size)
		buf[0] = '\0';
	put_arg(&sb, arg);
	return sb.len;
}
