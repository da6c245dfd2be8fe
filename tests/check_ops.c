/*
 * check_ops.c - unit tests for the operations layer (switch/ops.h): every
 * operation on memory ports (kind "mem"), without root, through a whole
 * switch (sw_init()) as the daemon has it, with the exact error line of
 * each refusal and the state it must leave unchanged.
 *
 * The checked fixture registers the test thread with liburcu, makes the
 * switch, and takes sw->lock for the whole test (online, as a control
 * request runs); teardown lets go of it and shuts the switch down.  The
 * operations check both in debug and sanitizer builds
 * (sw_assert_locked(), rcu_assert_not_reader()).
 *
 *   one case:     CK_RUN_CASE=fdb_add build/tests/check_ops
 *   sanitizers:   CK_FORK=no build-asan/tests/check_ops
 */
#include "switch/ops.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <urcu-qsbr.h>

#include "lib/mac.h"
#include "lib/rcu.h"

#define CHECK_COMMON_FDB
#include "check_common.h"

/* A memory port's flags when added: it takes no offloads. */
#define MEM_FLAGS (DP_PORT_DEFAULT_FLAGS & ~DP_PORT_OFFLOAD)

static struct sw fx_sw;
#define SW (&fx_sw)

/* The reason of the operation called last (through OP()). */
static struct sw_why why;

/* stderr while a test reads the log, and the client end of a monitor. */
static FILE *log_file;
static int saved_stderr = -1;
static int monitor_fd = -1;

static void setup(void)
{
	rcu_register_thread();
	ck_assert_int_eq(sw_init(SW, SW_DEFAULT_MAX_LEARNED), 0);
	sw_lock(SW);
}

static void teardown(void)
{
	if (saved_stderr >= 0) {
		fflush(stderr);
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	if (log_file) {
		fclose(log_file);
		log_file = NULL;
	}
	sw_unlock(SW);
	sw_fini(SW);
	if (monitor_fd >= 0) {
		close(monitor_fd);
		monitor_fd = -1;
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
}

/* ---- helpers ---- */

#define OP(call) (memset(&why, 0, sizeof(why)), (call))

/* @call succeeds. */
#define ck_op_ok(call)							\
	do {								\
		int ret_ = OP(call);					\
									\
		ck_assert_msg(ret_ == 0, "%s: %d \"%s\"", #call, ret_,	\
			      why.msg);					\
	} while (0)

/* @call fails with @err and exactly the line @line. */
#define ck_op_err(call, err, line)					\
	do {								\
		int ret_ = OP(call);					\
									\
		ck_assert_msg(ret_ == (err), "%s: %d, want %d (\"%s\")", \
			      #call, ret_, (err), why.msg);		\
		ck_assert_str_eq(why.msg, (line));			\
	} while (0)

/* Add memory port @name; its index. */
static uint32_t add_port(const char *name)
{
	int index;

	ck_op_ok(sw_op_port_add(SW, name, "mem", &why));
	index = dp_port_lookup(SW->dp, name);
	ck_assert_int_ge(index, 0);
	return index;
}

static uint32_t port_flags(uint32_t index)
{
	struct dp_port_info info;

	ck_assert_int_eq(dp_port_get_info(SW->dp, index, &info), 0);
	return info.flags;
}

static struct dp_vlan_cfg port_vlan(uint32_t index)
{
	struct dp_vlan_cfg vc;

	ck_assert_int_eq(dp_port_get_vlan(SW->dp, index, &vc), 0);
	return vc;
}

/* The VIDs port @index is a member of, as "1,10,11" ("" for none), and
 * its PVID. */
static const char *members(uint32_t index, uint16_t *pvid)
{
	static char buf[4096 * 5];
	struct dp_vlan_cfg vc = port_vlan(index);
	size_t n = 0;

	buf[0] = '\0';
	for (uint16_t vid = 1; vid < VLAN_N_VID - 1; vid++)
		if (vlan_is_member(&vc.mbr, vid))
			n += snprintf(buf + n, sizeof(buf) - n, "%s%u",
				      n ? "," : "", vid);
	if (pvid)
		*pvid = vc.mbr.pvid;
	return buf;
}

static bool untagged(uint32_t index, uint16_t vid)
{
	struct dp_vlan_cfg vc = port_vlan(index);

	return vlan_bit(vc.mbr.untagged, vid);
}

/* The entries of @mac, as "VID:PORT:FLAGS" in VID order ("" for none);
 * FLAGS is s (static), y (sticky), l (learned) or -. */
static const char *entries_of(const uint8_t *mac)
{
	static char buf[4096 * 16];
	struct dump *d = dump_table(SW->fdb);
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t vid = 0; vid < VLAN_N_VID; vid++) {
		const struct fdb_entry_info *e = dump_find(d, vid, mac);

		if (!e)
			continue;
		n += snprintf(buf + n, sizeof(buf) - n, "%s%u:%u:%s%s%s%s",
			      n ? " " : "", vid, e->port,
			      e->flags & FDB_STATIC ? "s" : "",
			      e->flags & FDB_STICKY ? "y" : "",
			      e->flags & FDB_LEARNED ? "l" : "",
			      e->flags ? "" : "-");
	}
	return buf;
}

/* Learn @src on port @index: a broadcast from it through the pipeline. */
static void learn(uint32_t index, const uint8_t *src)
{
	uint8_t data[64] = { 0 };
	struct dp_frame f = { .data = data, .len = sizeof(data) };

	memcpy(data, mac_bcast, ETH_ALEN);
	memcpy(data + ETH_ALEN, src, ETH_ALEN);
	dp_input(SW->dp, index, &f, 1, dp_now_ms());
	rcu_quiescent();
}

/* The log (sw_log() writes to stderr) into a file until log_end(). */
static void log_begin(void)
{
	fflush(stderr);
	log_file = tmpfile();
	ck_assert_ptr_nonnull(log_file);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_ge(dup2(fileno(log_file), STDERR_FILENO), 0);
}

/* What was logged since log_begin(), the time stamps cut off:
 * "info: m0: link down, port disabled\n..." */
static const char *log_end(void)
{
	static char buf[8192];
	char line[512];
	size_t n = 0;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	rewind(log_file);
	buf[0] = '\0';
	while (fgets(line, sizeof(line), log_file)) {
		const char *p = strstr(line, "] ");

		n += snprintf(buf + n, sizeof(buf) - n, "%s",
			      p ? p + 2 : line);
	}
	fclose(log_file);
	log_file = NULL;
	return buf;
}

/* ---- port add ---- */

START_TEST(test_port_add)
{
	struct dp_port_info info;
	uint16_t pvid;
	uint32_t m0;

	log_begin();
	m0 = add_port("m0");
	ck_assert_str_eq(log_end(), "info: m0: port 0 added (created)\n");
	ck_assert_int_eq(dp_port_get_info(SW->dp, m0, &info), 0);
	ck_assert_str_eq(info.name, "m0");
	ck_assert_str_eq(info.kind, "mem");
	ck_assert_uint_eq(info.flags, MEM_FLAGS | DP_PORT_UP);
	/* As a new Linux bridge port: VLAN 1, PVID, egress untagged. */
	ck_assert_str_eq(members(m0, &pvid), "1");
	ck_assert_uint_eq(pvid, 1);
	ck_assert(untagged(m0, 1));
	ck_assert_uint_eq(add_port("m1"), m0 + 1);
	/* The longest name there is. */
	add_port("a23456789abcdef");
}
END_TEST

START_TEST(test_port_add_invalid_name)
{
	static const char *const bad[] = {
		"", ".", "..", "a/b", "a:b", "x%d", "a b", "tab\t",
		"a23456789abcdefg", NULL
	};
	char want[128];

	for (int i = 0; bad[i]; i++) {
		snprintf(want, sizeof(want),
			 "Error: argument \"%s\" is wrong: not a valid interface name",
			 bad[i]);
		ck_op_err(sw_op_port_add(SW, bad[i], "mem", &why), -EINVAL,
			  want);
	}
	{
		uint32_t idx[4];

		ck_assert_uint_eq(dp_port_list(SW->dp, idx, 4), 0);
	}
}
END_TEST

START_TEST(test_port_add_duplicate)
{
	uint32_t m0 = add_port("m0");
	uint32_t idx[4];

	ck_op_err(sw_op_port_add(SW, "m0", "mem", &why), -EEXIST,
		  "Error: argument \"m0\" is wrong: already a port");
	/* Whatever the kind asked for. */
	ck_op_err(sw_op_port_add(SW, "m0", "tap", &why), -EEXIST,
		  "Error: argument \"m0\" is wrong: already a port");
	ck_assert_uint_eq(dp_port_list(SW->dp, idx, 4), 1);
	ck_assert_uint_eq(idx[0], m0);
}
END_TEST

START_TEST(test_port_add_unknown_kind)
{
	ck_op_err(sw_op_port_add(SW, "m0", "bogus", &why), -EINVAL,
		  "Error: argument \"bogus\" is wrong: unknown port kind");
	ck_assert_int_eq(dp_port_lookup(SW->dp, "m0"), -ENOENT);
	/* The name is checked first, as the user sees it. */
	ck_op_err(sw_op_port_add(SW, "a/b", "bogus", &why), -EINVAL,
		  "Error: argument \"a/b\" is wrong: not a valid interface name");
}
END_TEST

START_TEST(test_port_add_too_many)
{
	char name[IFNAMSIZ];

	for (unsigned int i = 0; i < DP_MAX_PORTS; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		ck_assert_int_eq(OP(sw_op_port_add(SW, name, "mem", &why)), 0);
	}
	ck_op_err(sw_op_port_add(SW, "one_more", "mem", &why), -ENOSPC,
		  "Error: argument \"one_more\" is wrong: too many ports");
	ck_assert_int_eq(dp_port_lookup(SW->dp, "one_more"), -ENOENT);
}
END_TEST

/* ---- port del ---- */

START_TEST(test_port_del)
{
	uint32_t m0 = add_port("m0"), m1 = add_port("m1");
	uint32_t idx[4];

	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, FDB_STATIC,
			       &why));
	learn(m0, mac_b);
	learn(m1, mac_c);
	ck_assert_str_eq(entries_of(mac_b), "0:0:l");
	log_begin();
	ck_op_ok(sw_op_port_del(SW, "m0", &why));
	ck_assert_str_eq(log_end(), "info: m0: port 0 removed\n");
	ck_assert_int_eq(dp_port_lookup(SW->dp, "m0"), -ENOENT);
	ck_assert_uint_eq(dp_port_list(SW->dp, idx, 4), 1);
	ck_assert_uint_eq(idx[0], m1);
	/* Every entry on it goes, static or not; the others stay. */
	ck_assert_str_eq(entries_of(mac_a), "");
	ck_assert_str_eq(entries_of(mac_b), "");
	ck_assert_str_eq(entries_of(mac_c), "0:1:l");
	/* Its name can be used again. */
	ck_assert_uint_eq(add_port("m0"), m0);
}
END_TEST

START_TEST(test_port_del_no_such_port)
{
	add_port("m0");
	ck_op_err(sw_op_port_del(SW, "m1", &why), -EINVAL,
		  "Error: argument \"m1\" is wrong: no such port");
	ck_op_ok(sw_op_port_del(SW, "m0", &why));
	ck_op_err(sw_op_port_del(SW, "m0", &why), -EINVAL,
		  "Error: argument \"m0\" is wrong: no such port");
	ck_assert_int_eq(sw_op_port_remove(SW, 0, NULL), -ENOENT);
	ck_assert_int_eq(sw_op_port_remove(SW, DP_MAX_PORTS, NULL), -ENOENT);
}
END_TEST

/* ---- port set ---- */

START_TEST(test_port_set_flags)
{
	uint32_t m0 = add_port("m0"), m1 = add_port("m1");
	struct sw_port_settings set = {
		.flags_mask = DP_PORT_LEARNING | DP_PORT_FLOOD,
		.flags_value = DP_PORT_FLOOD,
	};

	ck_op_ok(sw_op_port_set(SW, "m0", &set, &why));
	ck_assert_uint_eq(port_flags(m0),
			  (MEM_FLAGS | DP_PORT_UP) & ~DP_PORT_LEARNING);
	ck_assert_uint_eq(port_flags(m1), MEM_FLAGS | DP_PORT_UP);
	set.flags_mask = DP_PORT_MCAST_FLOOD | DP_PORT_BCAST_FLOOD |
			 DP_PORT_REORDER_HDR | DP_PORT_LEARNING;
	set.flags_value = DP_PORT_LEARNING;
	ck_op_ok(sw_op_port_set(SW, "m0", &set, &why));
	ck_assert_uint_eq(port_flags(m0), DP_PORT_UP | DP_PORT_LEARNING |
					  DP_PORT_FLOOD);
	/* Offload off on a port that has none: nothing to refuse. */
	set.flags_mask = DP_PORT_OFFLOAD;
	set.flags_value = 0;
	ck_op_ok(sw_op_port_set(SW, "m0", &set, &why));
}
END_TEST

START_TEST(test_port_set_refused)
{
	uint32_t m0 = add_port("m0");
	struct vlan_qos_map edit;
	struct sw_port_settings set = { 0 };
	struct dp_vlan_cfg before = port_vlan(m0), after;

	ck_op_err(sw_op_port_set(SW, "m0", &set, &why), -EINVAL,
		  "Error: port set: nothing to set");
	/* The port is looked for first. */
	ck_op_err(sw_op_port_set(SW, "m9", &set, &why), -EINVAL,
		  "Error: argument \"m9\" is wrong: no such port");
	/* Offload on a port without offloads, with other changes: none of
	 * them is made. */
	sw_qos_edit_init(&edit);
	edit.to[1] = 2;
	set.flags_mask = DP_PORT_LEARNING | DP_PORT_OFFLOAD;
	set.flags_value = DP_PORT_OFFLOAD;
	set.ingress_qos = &edit;
	ck_op_err(sw_op_port_set(SW, "m0", &set, &why), -EOPNOTSUPP,
		  "Error: argument \"offload\" is wrong: m0 takes no offloads");
	ck_assert_uint_eq(port_flags(m0), MEM_FLAGS | DP_PORT_UP);
	after = port_vlan(m0);
	ck_assert_mem_eq(&after.ingress_qos, &before.ingress_qos,
			 sizeof(before.ingress_qos));
	/* A PCP above 7, with a flag change. */
	edit.to[2] = 9;
	set.flags_mask = DP_PORT_LEARNING;
	set.flags_value = 0;
	ck_op_err(sw_op_port_set(SW, "m0", &set, &why), -EINVAL,
		  "Error: argument \"2:9\" is wrong: a PCP map word is FROM:TO, each 0-7");
	ck_assert_uint_eq(port_flags(m0), MEM_FLAGS | DP_PORT_UP);
	after = port_vlan(m0);
	ck_assert_mem_eq(&after, &before, sizeof(before));
	/* The link is the monitor's, not a setting. */
	set.flags_mask = DP_PORT_UP;
	set.ingress_qos = NULL;
	ck_op_err(sw_op_port_set(SW, "m0", &set, &why), -EINVAL,
		  "Error: port set: flags 0x10 are not settings");
	ck_assert_uint_eq(port_flags(m0), MEM_FLAGS | DP_PORT_UP);
}
END_TEST

START_TEST(test_port_set_qos)
{
	static char w12[] = "1:2", w34[] = "3:4", w15[] = "1:5", w70[] = "7:0";
	char *const in1[] = { w12, w34 }, *const in2[] = { w15 };
	char *const eg[] = { w70 };
	uint32_t m0 = add_port("m0");
	struct vlan_qos_map in_edit, eg_edit;
	struct sw_port_settings set = { .ingress_qos = &in_edit };
	struct dp_vlan_cfg vc;

	sw_qos_edit_init(&in_edit);
	ck_assert_int_eq(vlan_qos_map_parse(&in_edit, 2, in1), 0);
	ck_op_ok(sw_op_port_set(SW, "m0", &set, &why));
	vc = port_vlan(m0);
	ck_assert_mem_eq(vc.ingress_qos.to, "\0\2\2\4\4\5\6\7", 8);
	ck_assert_mem_eq(vc.egress_qos.to, "\0\1\2\3\4\5\6\7", 8);
	/* On top of what the map holds, as ip link's words; with a flag
	 * and the other map in the same call. */
	sw_qos_edit_init(&in_edit);
	ck_assert_int_eq(vlan_qos_map_parse(&in_edit, 1, in2), 0);
	sw_qos_edit_init(&eg_edit);
	ck_assert_int_eq(vlan_qos_map_parse(&eg_edit, 1, eg), 0);
	set.egress_qos = &eg_edit;
	set.flags_mask = DP_PORT_FLOOD;
	ck_op_ok(sw_op_port_set(SW, "m0", &set, &why));
	vc = port_vlan(m0);
	ck_assert_mem_eq(vc.ingress_qos.to, "\0\5\2\4\4\5\6\7", 8);
	ck_assert_mem_eq(vc.egress_qos.to, "\0\1\2\3\4\5\6\0", 8);
	ck_assert_uint_eq(port_flags(m0),
			  (MEM_FLAGS | DP_PORT_UP) & ~DP_PORT_FLOOD);
	/* Membership untouched. */
	ck_assert_str_eq(members(m0, NULL), "1");
}
END_TEST

/* ---- the link monitor's operations ---- */

/* Read from the monitor's client end until @want has come (a few
 * seconds at most); everything read so far. */
static const char *monitor_read_until(const char *want)
{
	static char buf[16384];
	static size_t n;

	for (int tries = 0; tries < 500 && !strstr(buf, want); tries++) {
		struct pollfd pfd = { .fd = monitor_fd, .events = POLLIN };
		ssize_t got;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		got = read(monitor_fd, buf + n, sizeof(buf) - 1 - n);
		if (got <= 0)
			break;
		n += got;
		buf[n] = '\0';
	}
	return buf;
}

START_TEST(test_link_down_up)
{
	uint32_t m0 = add_port("m0"), m1 = add_port("m1");
	struct sw_obs_filter f = {
		.port = DP_OBS_ANY_PORT, .port_events = true,
		.dirs = DP_DIR_RX | DP_DIR_TX, .ifname = "all",
	};
	int sv[2];

	/* A monitor of port events, as `tapswitchctl monitor port`. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	ck_assert_int_eq(sw_stream_start_locked(SW, SW_OBS_MONITOR, &f,
						sv[0]), 0);
	monitor_fd = sv[1];

	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, FDB_STATIC,
			       &why));
	ck_op_ok(sw_op_fdb_add(SW, mac_d, "m0", FDB_ANY_VID, 0, &why));
	learn(m0, mac_b);
	learn(m1, mac_c);
	log_begin();
	ck_assert_int_eq(sw_op_port_link(SW, m0, false), 0);
	ck_assert_str_eq(log_end(), "info: m0: link down, port disabled\n");
	ck_assert_uint_eq(port_flags(m0), MEM_FLAGS);
	ck_assert_uint_eq(port_flags(m1), MEM_FLAGS | DP_PORT_UP);
	/* Its dynamic entries go, learned or added; static ones stay, and
	 * so does what other ports have. */
	ck_assert_str_eq(entries_of(mac_a), "0:0:s");
	ck_assert_str_eq(entries_of(mac_b), "");
	ck_assert_str_eq(entries_of(mac_d), "");
	ck_assert_str_eq(entries_of(mac_c), "0:1:l");

	/* No change: nothing happens, nothing is logged. */
	log_begin();
	ck_assert_int_eq(sw_op_port_link(SW, m0, false), 0);
	ck_assert_str_eq(log_end(), "");

	log_begin();
	ck_assert_int_eq(sw_op_port_link(SW, m0, true), 0);
	ck_assert_str_eq(log_end(), "info: m0: link up, port forwarding\n");
	ck_assert_uint_eq(port_flags(m0), MEM_FLAGS | DP_PORT_UP);
	ck_assert_str_eq(entries_of(mac_a), "0:0:s");

	ck_assert_int_eq(sw_op_port_link(SW, DP_MAX_PORTS - 1, true),
			 -ENOENT);

	/* The monitor heard down, then up. */
	{
		const char *text = monitor_read_until("s event=up\n");
		const char *down = strstr(text, "s event=down\n");
		const char *up = strstr(text, "s event=up\n");

		ck_assert_msg(down && up && down < up, "monitor: %s", text);
		ck_assert_ptr_nonnull(strstr(down, "s ifname=m0\n"));
	}
}
END_TEST

START_TEST(test_port_gone)
{
	uint32_t m0 = add_port("m0");

	add_port("m1");
	log_begin();
	ck_assert_int_eq(sw_op_port_gone(SW, m0), 0);
	ck_assert_str_eq(log_end(),
			 "info: m0: device deleted\n"
			 "info: m0: port 0 removed\n");
	ck_assert_int_eq(dp_port_lookup(SW->dp, "m0"), -ENOENT);
	ck_assert_int_eq(dp_port_lookup(SW->dp, "m1"), 1);
	ck_assert_int_eq(sw_op_port_gone(SW, m0), -ENOENT);
}
END_TEST

/* ---- fdb ---- */

/* Filtering on; m0 in VLANs 1 (its PVID), 10, 11, 12; m1 in 1 and 11;
 * m2 in none. */
static void vlan_topology(void)
{
	struct sw_settings set = {
		.given = SW_SET_VLAN_FILTERING, .vlan_filtering = 1,
	};

	ck_assert_uint_eq(add_port("m0"), 0);
	ck_assert_uint_eq(add_port("m1"), 1);
	ck_assert_uint_eq(add_port("m2"), 2);
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_op_ok(sw_op_vlan_add(SW, "m0", 10, 12, false, false, &why));
	ck_op_ok(sw_op_vlan_add(SW, "m1", 11, 11, false, false, &why));
	ck_op_ok(sw_op_vlan_del(SW, "m2", 1, 1, &why));
}

START_TEST(test_fdb_add)
{
	add_port("m0");
	add_port("m1");
	/* Filtering off: one entry, VID 0; static unless dynamic. */
	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, FDB_STATIC,
			       &why));
	ck_assert_str_eq(entries_of(mac_a), "0:0:s");
	ck_op_ok(sw_op_fdb_add(SW, mac_b, "m1", FDB_ANY_VID, FDB_STICKY,
			       &why));
	ck_assert_str_eq(entries_of(mac_b), "0:1:y");
	ck_op_ok(sw_op_fdb_add(SW, mac_c, "m1", FDB_ANY_VID,
			       FDB_STATIC | FDB_STICKY, &why));
	ck_assert_str_eq(entries_of(mac_c), "0:1:sy");
	ck_op_ok(sw_op_fdb_add(SW, mac_d, "m0", FDB_ANY_VID, 0, &why));
	ck_assert_str_eq(entries_of(mac_d), "0:0:-");
	/* A VLAN given while filtering is off: the port is in VLAN 1. */
	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m1", 1, FDB_STATIC, &why));
	ck_assert_str_eq(entries_of(mac_a), "0:0:s 1:1:s");
}
END_TEST

START_TEST(test_fdb_add_refused)
{
	static const uint8_t zero[6] = { 0 };

	add_port("m0");
	ck_op_err(sw_op_fdb_add(SW, mac_a, NULL, FDB_ANY_VID, FDB_STATIC,
				&why), -EINVAL,
		  "Error: fdb add needs dev IFNAME");
	ck_op_err(sw_op_fdb_add(SW, mac_a, "m9", FDB_ANY_VID, FDB_STATIC,
				&why), -EINVAL,
		  "Error: argument \"m9\" is wrong: no such port");
	ck_op_err(sw_op_fdb_add(SW, mac_mcast, "m0", FDB_ANY_VID,
				FDB_STATIC, &why), -EINVAL,
		  "Error: argument \"01:00:5e:00:00:01\" is wrong: not a unicast MAC address");
	ck_op_err(sw_op_fdb_add(SW, mac_bcast, "m0", FDB_ANY_VID,
				FDB_STATIC, &why), -EINVAL,
		  "Error: argument \"ff:ff:ff:ff:ff:ff\" is wrong: not a unicast MAC address");
	ck_op_err(sw_op_fdb_replace(SW, zero, "m0", FDB_ANY_VID, FDB_STATIC,
				    &why), -EINVAL,
		  "Error: argument \"00:00:00:00:00:00\" is wrong: not a unicast MAC address");
	ck_op_err(sw_op_fdb_add(SW, mac_a, "m0", 4095, FDB_STATIC, &why),
		  -EINVAL,
		  "Error: argument \"4095\" is wrong: VLAN ID must be 1-4094");
	ck_op_err(sw_op_fdb_add(SW, mac_a, "m0", 0, FDB_STATIC, &why),
		  -EINVAL,
		  "Error: argument \"0\" is wrong: VLAN ID must be 1-4094");
	ck_op_err(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, FDB_LEARNED,
				&why), -EINVAL,
		  "Error: fdb add: flags 0x4 are not an entry's");
	ck_assert_uint_eq(dump_table(SW->fdb)->n, 0);

	/* Known already, learned or added: add refuses, replace takes it. */
	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, 0, &why));
	ck_op_err(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, FDB_STATIC,
				&why), -EINVAL,
		  "Error: argument \"02:00:00:00:00:0a\" is wrong: an entry exists; use fdb replace");
	ck_assert_str_eq(entries_of(mac_a), "0:0:-");
	learn(0, mac_b);
	ck_op_err(sw_op_fdb_add(SW, mac_b, "m0", FDB_ANY_VID, FDB_STATIC,
				&why), -EINVAL,
		  "Error: argument \"02:00:00:00:00:0b\" is wrong: an entry exists; use fdb replace");
	ck_assert_str_eq(entries_of(mac_b), "0:0:l");
	ck_op_ok(sw_op_fdb_replace(SW, mac_b, "m0", FDB_ANY_VID,
				   FDB_STATIC | FDB_STICKY, &why));
	ck_assert_str_eq(entries_of(mac_b), "0:0:sy");
}
END_TEST

START_TEST(test_fdb_add_vlans)
{
	vlan_topology();
	/* Without a VLAN: every VLAN of the port. */
	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, FDB_STATIC,
			       &why));
	ck_assert_str_eq(entries_of(mac_a), "1:0:s 10:0:s 11:0:s 12:0:s");
	ck_op_ok(sw_op_fdb_add(SW, mac_b, "m1", FDB_ANY_VID, 0, &why));
	ck_assert_str_eq(entries_of(mac_b), "1:1:- 11:1:-");
	/* One VLAN, a member. */
	ck_op_ok(sw_op_fdb_add(SW, mac_c, "m1", 11, FDB_STICKY, &why));
	ck_assert_str_eq(entries_of(mac_c), "11:1:y");
	/* Not a member: "FDB entry with unconfigured vlan". */
	ck_op_err(sw_op_fdb_add(SW, mac_d, "m1", 10, FDB_STATIC, &why),
		  -EINVAL,
		  "Error: argument \"10\" is wrong: the port is not a member of that VLAN");
	ck_op_err(sw_op_fdb_replace(SW, mac_d, "m1", 12, FDB_STATIC, &why),
		  -EINVAL,
		  "Error: argument \"12\" is wrong: the port is not a member of that VLAN");
	/* No VLAN at all. */
	ck_op_err(sw_op_fdb_add(SW, mac_d, "m2", FDB_ANY_VID, FDB_STATIC,
				&why), -EINVAL,
		  "Error: argument \"02:00:00:00:00:0d\" is wrong: the port is in no VLAN");
	ck_op_err(sw_op_fdb_replace(SW, mac_d, "m2", FDB_ANY_VID, FDB_STATIC,
				    &why), -EINVAL,
		  "Error: argument \"02:00:00:00:00:0d\" is wrong: the port is in no VLAN");
	ck_assert_str_eq(entries_of(mac_d), "");
}
END_TEST

/* add is all or nothing: one VID that knows the MAC, and none is added;
 * replace takes them all. */
START_TEST(test_fdb_add_exists_all_or_nothing)
{
	vlan_topology();
	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m1", 11, 0, &why));
	ck_op_err(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, FDB_STATIC,
				&why), -EINVAL,
		  "Error: argument \"02:00:00:00:00:0a\" is wrong: an entry exists; use fdb replace");
	ck_assert_str_eq(entries_of(mac_a), "11:1:-");
	ck_op_ok(sw_op_fdb_replace(SW, mac_a, "m0", FDB_ANY_VID, FDB_STATIC,
				   &why));
	ck_assert_str_eq(entries_of(mac_a), "1:0:s 10:0:s 11:0:s 12:0:s");
	/* Replace over a static one, with other flags. */
	ck_op_ok(sw_op_fdb_replace(SW, mac_a, "m1", 11, FDB_STICKY, &why));
	ck_assert_str_eq(entries_of(mac_a), "1:0:s 10:0:s 11:1:y 12:0:s");
	/* An add in a VID that does not know it. */
	ck_op_ok(sw_op_fdb_add(SW, mac_b, "m0", 10, FDB_STATIC, &why));
	ck_op_ok(sw_op_fdb_add(SW, mac_b, "m0", 12, 0, &why));
	ck_assert_str_eq(entries_of(mac_b), "10:0:s 12:0:-");
}
END_TEST

START_TEST(test_fdb_del)
{
	vlan_topology();
	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, FDB_STATIC,
			       &why));
	ck_op_err(sw_op_fdb_del(SW, mac_a, NULL, FDB_ANY_VID, &why), -EINVAL,
		  "Error: fdb del needs dev IFNAME");
	ck_op_err(sw_op_fdb_del(SW, mac_a, "m9", FDB_ANY_VID, &why), -EINVAL,
		  "Error: argument \"m9\" is wrong: no such port");
	/* Only on the port it points to. */
	ck_op_err(sw_op_fdb_del(SW, mac_a, "m1", FDB_ANY_VID, &why), -EINVAL,
		  "Error: argument \"02:00:00:00:00:0a\" is wrong: no such entry on that port");
	ck_op_err(sw_op_fdb_del(SW, mac_b, "m0", FDB_ANY_VID, &why), -EINVAL,
		  "Error: argument \"02:00:00:00:00:0b\" is wrong: no such entry on that port");
	ck_assert_str_eq(entries_of(mac_a), "1:0:s 10:0:s 11:0:s 12:0:s");
	/* One VLAN. */
	ck_op_ok(sw_op_fdb_del(SW, mac_a, "m0", 10, &why));
	ck_assert_str_eq(entries_of(mac_a), "1:0:s 11:0:s 12:0:s");
	ck_op_err(sw_op_fdb_del(SW, mac_a, "m0", 10, &why), -EINVAL,
		  "Error: argument \"02:00:00:00:00:0a\" is wrong: no such entry on that port");
	/* Without one: the port's VLANs, whichever hold it. */
	ck_op_ok(sw_op_fdb_del(SW, mac_a, "m0", FDB_ANY_VID, &why));
	ck_assert_str_eq(entries_of(mac_a), "");
	ck_op_err(sw_op_fdb_del(SW, mac_a, "m0", FDB_ANY_VID, &why), -EINVAL,
		  "Error: argument \"02:00:00:00:00:0a\" is wrong: no such entry on that port");
}
END_TEST

START_TEST(test_fdb_flush)
{
	vlan_topology();
	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, FDB_STATIC,
			       &why));
	ck_op_ok(sw_op_fdb_add(SW, mac_b, "m0", FDB_ANY_VID, 0, &why));
	ck_op_ok(sw_op_fdb_add(SW, mac_c, "m1", FDB_ANY_VID, FDB_STATIC,
			       &why));
	ck_op_ok(sw_op_fdb_add(SW, mac_d, "m1", FDB_ANY_VID, 0, &why));

	ck_op_err(sw_op_fdb_flush(SW, "m9", FDB_ANY_VID, FDB_FLUSH_ALL,
				  &why), -EINVAL,
		  "Error: argument \"m9\" is wrong: no such port");
	ck_op_err(sw_op_fdb_flush(SW, NULL, 4095, FDB_FLUSH_ALL, &why),
		  -EINVAL,
		  "Error: argument \"4095\" is wrong: VLAN ID must be 1-4094");
	ck_assert_uint_eq(dump_table(SW->fdb)->n, 12);

	/* A VLAN, of any port, dynamic only. */
	ck_op_ok(sw_op_fdb_flush(SW, NULL, 11, FDB_FLUSH_DYNAMIC, &why));
	ck_assert_str_eq(entries_of(mac_b), "1:0:- 10:0:- 12:0:-");
	ck_assert_str_eq(entries_of(mac_d), "1:1:-");
	ck_assert_str_eq(entries_of(mac_a), "1:0:s 10:0:s 11:0:s 12:0:s");
	/* A port, static only. */
	ck_op_ok(sw_op_fdb_flush(SW, "m0", FDB_ANY_VID, FDB_FLUSH_STATIC,
				 &why));
	ck_assert_str_eq(entries_of(mac_a), "");
	ck_assert_str_eq(entries_of(mac_b), "1:0:- 10:0:- 12:0:-");
	ck_assert_str_eq(entries_of(mac_c), "1:1:s 11:1:s");
	/* A port and a VLAN, every kind. */
	ck_op_ok(sw_op_fdb_flush(SW, "m1", 1, FDB_FLUSH_ALL, &why));
	ck_assert_str_eq(entries_of(mac_c), "11:1:s");
	ck_assert_str_eq(entries_of(mac_d), "");
	/* Everything. */
	ck_op_ok(sw_op_fdb_flush(SW, NULL, FDB_ANY_VID, FDB_FLUSH_ALL, &why));
	ck_assert_uint_eq(dump_table(SW->fdb)->n, 0);
}
END_TEST

/* ---- vlan ---- */

START_TEST(test_vlan_add)
{
	uint32_t m0 = add_port("m0");
	uint16_t pvid;

	ck_op_ok(sw_op_vlan_add(SW, "m0", 10, 20, false, true, &why));
	ck_assert_str_eq(members(m0, &pvid),
			 "1,10,11,12,13,14,15,16,17,18,19,20");
	ck_assert_uint_eq(pvid, 1);
	ck_assert(untagged(m0, 10) && untagged(m0, 20));
	ck_op_ok(sw_op_vlan_add(SW, "m0", 30, 30, true, false, &why));
	ck_assert_str_eq(members(m0, &pvid),
			 "1,10,11,12,13,14,15,16,17,18,19,20,30");
	ck_assert_uint_eq(pvid, 30);
	ck_assert(!untagged(m0, 30));
	/* Again, as a changed membership. */
	ck_op_ok(sw_op_vlan_add(SW, "m0", 10, 10, true, false, &why));
	members(m0, &pvid);
	ck_assert_uint_eq(pvid, 10);
	ck_assert(!untagged(m0, 10));
	ck_op_ok(sw_op_vlan_add(SW, "m0", 4094, 4094, false, false, &why));
	ck_assert_str_eq(members(m0, NULL),
			 "1,10,11,12,13,14,15,16,17,18,19,20,30,4094");
}
END_TEST

START_TEST(test_vlan_add_refused)
{
	uint32_t m0 = add_port("m0");
	struct dp_vlan_cfg before = port_vlan(m0), after;

	ck_op_err(sw_op_vlan_add(SW, "m0", 2, 5, true, false, &why), -EINVAL,
		  "Error: argument \"pvid\" is wrong: a range of VLANs cannot be the PVID");
	ck_op_err(sw_op_vlan_add(SW, "m9", 2, 2, false, false, &why),
		  -EINVAL, "Error: argument \"m9\" is wrong: no such port");
	ck_op_err(sw_op_vlan_add(SW, NULL, 2, 2, false, false, &why),
		  -EINVAL,
		  "Error: usage: vlan add dev IFNAME vid VID[-VID] [pvid] [untagged]");
	ck_op_err(sw_op_vlan_add(SW, "m0", 0, 0, false, false, &why),
		  -EINVAL,
		  "Error: usage: vlan add dev IFNAME vid VID[-VID] [pvid] [untagged]");
	ck_op_err(sw_op_vlan_add(SW, "m0", 20, 10, false, false, &why),
		  -EINVAL,
		  "Error: argument \"20-10\" is wrong: a range goes from low to high");
	ck_op_err(sw_op_vlan_add(SW, "m0", 4095, 4095, false, false, &why),
		  -EINVAL,
		  "Error: argument \"4095\" is wrong: VLAN ID must be 1-4094");
	ck_op_err(sw_op_vlan_add(SW, "m0", 10, 4095, false, false, &why),
		  -EINVAL,
		  "Error: argument \"10-4095\" is wrong: VLAN ID must be 1-4094");
	after = port_vlan(m0);
	ck_assert_mem_eq(&after, &before, sizeof(before));
}
END_TEST

START_TEST(test_vlan_del)
{
	uint32_t m0 = add_port("m0");
	struct dp_vlan_cfg before;
	uint16_t pvid;

	ck_op_ok(sw_op_vlan_add(SW, "m0", 10, 20, false, false, &why));
	ck_op_ok(sw_op_vlan_add(SW, "m0", 15, 15, true, true, &why));
	before = port_vlan(m0);
	/* The first VID that is not a member is named; nothing goes. */
	ck_op_err(sw_op_vlan_del(SW, "m0", 15, 25, &why), -EINVAL,
		  "Error: argument \"21\" is wrong: the port is not a member");
	ck_op_err(sw_op_vlan_del(SW, "m0", 2, 2, &why), -EINVAL,
		  "Error: argument \"2\" is wrong: the port is not a member");
	ck_op_err(sw_op_vlan_del(SW, NULL, 2, 2, &why), -EINVAL,
		  "Error: usage: vlan del dev IFNAME vid VID[-VID]");
	ck_op_err(sw_op_vlan_del(SW, "m9", 2, 2, &why), -EINVAL,
		  "Error: argument \"m9\" is wrong: no such port");
	{
		struct dp_vlan_cfg after = port_vlan(m0);

		ck_assert_mem_eq(&after, &before, sizeof(before));
	}
	/* A range holding the PVID: the port has none after. */
	ck_op_ok(sw_op_vlan_del(SW, "m0", 12, 18, &why));
	ck_assert_str_eq(members(m0, &pvid), "1,10,11,19,20");
	ck_assert_uint_eq(pvid, 0);
	ck_op_ok(sw_op_vlan_del(SW, "m0", 1, 1, &why));
	ck_assert_str_eq(members(m0, NULL), "10,11,19,20");
}
END_TEST

/* Leaving a VLAN forgets the entries learned there. */
START_TEST(test_vlan_del_flushes)
{
	struct sw_settings set = {
		.given = SW_SET_VLAN_FILTERING, .vlan_filtering = 1,
	};
	uint32_t m0 = add_port("m0");
	uint8_t data[64] = { 0 };
	struct dp_frame fr = { .data = data, .len = sizeof(data) };

	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_op_ok(sw_op_vlan_add(SW, "m0", 10, 10, false, false, &why));
	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m0", 10, FDB_STATIC, &why));
	/* A frame tagged VLAN 10 from mac_b. */
	memcpy(data, mac_bcast, ETH_ALEN);
	memcpy(data + ETH_ALEN, mac_b, ETH_ALEN);
	put_be16(data + 12, 0x8100);
	put_be16(data + 14, 10);
	put_be16(data + 16, 0x0800);
	dp_input(SW->dp, m0, &fr, 1, dp_now_ms());
	rcu_quiescent();
	learn(m0, mac_c);
	ck_assert_str_eq(entries_of(mac_b), "10:0:l");
	ck_op_ok(sw_op_vlan_del(SW, "m0", 10, 10, &why));
	ck_assert_str_eq(entries_of(mac_b), "");
	ck_assert_str_eq(entries_of(mac_a), "10:0:s");
	ck_assert_str_eq(entries_of(mac_c), "1:0:l");
}
END_TEST

/* ---- set ---- */

START_TEST(test_set_each)
{
	struct sw_settings set = { .given = SW_SET_AGEING_TIME,
				   .ageing_s = 100 };

	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert_uint_eq(SW->ageing_s, 100);
	set = (struct sw_settings){ .given = SW_SET_MAX_LEARNED,
				    .max_learned = 10 };
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert_uint_eq(fdb_get_max_learned(SW->fdb), 10);
	set = (struct sw_settings){ .given = SW_SET_GROUP_FWD_MASK,
				    .group_fwd_mask = 0x4000 };
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert_uint_eq(dp_get_group_fwd_mask(SW->dp), 0x4000);
	set = (struct sw_settings){ .given = SW_SET_VLAN_FILTERING,
				    .vlan_filtering = 1 };
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert(dp_get_vlan_filtering(SW->dp));
	set = (struct sw_settings){ .given = SW_SET_VLAN_PROTOCOL,
				    .vlan_protocol = VLAN_TPID_8021AD };
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert_uint_eq(dp_get_vlan_protocol(SW->dp), VLAN_TPID_8021AD);
	set = (struct sw_settings){ .given = SW_SET_DEFAULT_PVID,
				    .default_pvid = 5 };
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert_uint_eq(dp_get_default_pvid(SW->dp), 5);
	/* The others as they were. */
	ck_assert_uint_eq(SW->ageing_s, 100);
	ck_assert_uint_eq(fdb_get_max_learned(SW->fdb), 10);
	ck_assert_uint_eq(dp_get_group_fwd_mask(SW->dp), 0x4000);
	ck_assert(dp_get_vlan_filtering(SW->dp));
	ck_assert_uint_eq(dp_get_vlan_protocol(SW->dp), VLAN_TPID_8021AD);

	/* All at once. */
	set = (struct sw_settings){
		.given = SW_SET_ALL, .ageing_s = 0, .max_learned = 0,
		.group_fwd_mask = 0xfff8, .vlan_filtering = 0,
		.vlan_protocol = VLAN_TPID_8021Q, .default_pvid = 0,
		.max_watchers = 3,
	};
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert_uint_eq(SW->max_watchers, 3);
	ck_assert_uint_eq(SW->ageing_s, 0);
	ck_assert_uint_eq(fdb_get_max_learned(SW->fdb), 0);
	ck_assert_uint_eq(dp_get_group_fwd_mask(SW->dp), 0xfff8);
	ck_assert(!dp_get_vlan_filtering(SW->dp));
	ck_assert_uint_eq(dp_get_vlan_protocol(SW->dp), VLAN_TPID_8021Q);
	ck_assert_uint_eq(dp_get_default_pvid(SW->dp), 0);
}
END_TEST

/* What a refused `set` must leave: the defaults. */
static void assert_default_settings(void)
{
	ck_assert_uint_eq(SW->ageing_s, SW_DEFAULT_AGEING_S);
	ck_assert_uint_eq(fdb_get_max_learned(SW->fdb),
			  SW_DEFAULT_MAX_LEARNED);
	ck_assert_uint_eq(dp_get_group_fwd_mask(SW->dp), 0);
	ck_assert(!dp_get_vlan_filtering(SW->dp));
	ck_assert_uint_eq(dp_get_vlan_protocol(SW->dp), VLAN_TPID_8021Q);
	ck_assert_uint_eq(dp_get_default_pvid(SW->dp), 1);
	ck_assert_uint_eq(SW->max_watchers, SW_DEFAULT_MAX_WATCHERS);
}

START_TEST(test_set_refused)
{
	/* Every setting valid but one, and that one last applied: none
	 * is applied. */
	struct sw_settings good = {
		.given = SW_SET_ALL, .ageing_s = 10, .max_learned = 5,
		.group_fwd_mask = 0x4000, .vlan_filtering = 1,
		.vlan_protocol = VLAN_TPID_8021AD, .default_pvid = 7,
		.max_watchers = 5,
	};
	struct sw_settings set;

	set = (struct sw_settings){ 0 };
	ck_op_err(sw_op_set(SW, &set, &why), -EINVAL,
		  "Error: usage: set ageing_time SEC | max_learned N | group_fwd_mask MASK");

	for (uint32_t mask = 1; mask <= 7; mask++) {
		char want[128];

		set = good;
		set.group_fwd_mask = 0x4000 | mask;
		snprintf(want, sizeof(want),
			 "Error: argument \"%#x\" is wrong: bits 0-2 (STP, pause, LACP) cannot be forwarded",
			 0x4000 | mask);
		ck_op_err(sw_op_set(SW, &set, &why), -EINVAL, want);
		assert_default_settings();
	}
	set = good;
	set.group_fwd_mask = 0x10000;
	ck_op_err(sw_op_set(SW, &set, &why), -EINVAL,
		  "Error: argument \"0x10000\" is wrong: group_fwd_mask is 0-0xffff");
	set = good;
	set.ageing_s = SW_MAX_AGEING_S + 1;
	ck_op_err(sw_op_set(SW, &set, &why), -EINVAL,
		  "Error: argument \"1000001\" is wrong: ageing_time is 0-1000000 seconds");
	set = good;
	set.vlan_filtering = 2;
	ck_op_err(sw_op_set(SW, &set, &why), -EINVAL,
		  "Error: argument \"2\" is wrong: vlan_filtering is 0 or 1");
	set = good;
	set.vlan_protocol = 0x9100;
	ck_op_err(sw_op_set(SW, &set, &why), -EINVAL,
		  "Error: argument \"0x9100\" is wrong: vlan_protocol is 802.1Q or 802.1ad");
	set = good;
	set.default_pvid = 4095;
	ck_op_err(sw_op_set(SW, &set, &why), -EINVAL,
		  "Error: argument \"4095\" is wrong: default_pvid is 0 (none) or 1-4094");
	set = good;
	set.max_watchers = 0;
	ck_op_err(sw_op_set(SW, &set, &why), -EINVAL,
		  "Error: argument \"0\" is wrong: max_watchers is 1-1024");
	set.max_watchers = 1025;
	ck_op_err(sw_op_set(SW, &set, &why), -EINVAL,
		  "Error: argument \"1025\" is wrong: max_watchers is 1-1024");
	assert_default_settings();
	/* The edges are good. */
	set = good;
	set.ageing_s = SW_MAX_AGEING_S;
	set.group_fwd_mask = 0xfff8;
	set.default_pvid = 4094;
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert_uint_eq(SW->ageing_s, SW_MAX_AGEING_S);
	ck_assert_uint_eq(dp_get_default_pvid(SW->dp), 4094);
}
END_TEST

/* ageing_time 0: nothing learned stays, learning is off, as Linux. */
START_TEST(test_set_ageing_zero)
{
	struct sw_settings set = { .given = SW_SET_AGEING_TIME };
	uint32_t m0 = add_port("m0");

	ck_op_ok(sw_op_fdb_add(SW, mac_a, "m0", FDB_ANY_VID, FDB_STATIC,
			       &why));
	ck_op_ok(sw_op_fdb_add(SW, mac_d, "m0", FDB_ANY_VID, 0, &why));
	learn(m0, mac_b);
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert_str_eq(entries_of(mac_a), "0:0:s");
	ck_assert_str_eq(entries_of(mac_b), "");
	ck_assert_str_eq(entries_of(mac_d), "");
	learn(m0, mac_c);
	ck_assert_str_eq(entries_of(mac_c), "");
	set.ageing_s = 300;
	ck_op_ok(sw_op_set(SW, &set, &why));
	learn(m0, mac_c);
	ck_assert_str_eq(entries_of(mac_c), "0:0:l");
}
END_TEST

/* default_pvid moves the ports still on the old default, as Linux's
 * __br_vlan_set_default_pvid(); the others keep theirs. */
START_TEST(test_set_default_pvid)
{
	struct sw_settings set = { .given = SW_SET_DEFAULT_PVID,
				   .default_pvid = 5 };
	uint32_t m0 = add_port("m0"), m1 = add_port("m1");
	uint32_t m2 = add_port("m2"), m3;
	uint16_t pvid;

	/* m1: its own PVID; m2: VLAN 1 tagged. */
	ck_op_ok(sw_op_vlan_add(SW, "m1", 7, 7, true, true, &why));
	ck_op_ok(sw_op_vlan_add(SW, "m2", 1, 1, true, false, &why));
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert_str_eq(members(m0, &pvid), "5");
	ck_assert_uint_eq(pvid, 5);
	ck_assert(untagged(m0, 5));
	ck_assert_str_eq(members(m1, &pvid), "1,7");
	ck_assert_uint_eq(pvid, 7);
	ck_assert_str_eq(members(m2, &pvid), "1");
	ck_assert_uint_eq(pvid, 1);
	/* A new port joins the new default. */
	m3 = add_port("m3");
	ck_assert_str_eq(members(m3, &pvid), "5");
	ck_assert_uint_eq(pvid, 5);
	/* 0: none; the ports on the default lose it. */
	set.default_pvid = 0;
	ck_op_ok(sw_op_set(SW, &set, &why));
	ck_assert_str_eq(members(m0, &pvid), "");
	ck_assert_uint_eq(pvid, 0);
	ck_assert_str_eq(members(m3, NULL), "");
	ck_assert_str_eq(members(m1, NULL), "1,7");
	ck_assert_str_eq(members(add_port("m4"), NULL), "");
}
END_TEST

static Suite *ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc;

	tc = tcase_create("port_add");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_port_add);
	tcase_add_test(tc, test_port_add_invalid_name);
	tcase_add_test(tc, test_port_add_duplicate);
	tcase_add_test(tc, test_port_add_unknown_kind);
	tcase_add_test(tc, test_port_add_too_many);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("port_del");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_port_del);
	tcase_add_test(tc, test_port_del_no_such_port);
	suite_add_tcase(s, tc);

	tc = tcase_create("port_set");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_port_set_flags);
	tcase_add_test(tc, test_port_set_refused);
	tcase_add_test(tc, test_port_set_qos);
	suite_add_tcase(s, tc);

	tc = tcase_create("link");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_link_down_up);
	tcase_add_test(tc, test_port_gone);
	suite_add_tcase(s, tc);

	tc = tcase_create("fdb_add");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fdb_add);
	tcase_add_test(tc, test_fdb_add_refused);
	tcase_add_test(tc, test_fdb_add_vlans);
	suite_add_tcase(s, tc);

	tc = tcase_create("fdb_replace");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fdb_add_exists_all_or_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("fdb_del");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fdb_del);
	suite_add_tcase(s, tc);

	tc = tcase_create("fdb_flush");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fdb_flush);
	suite_add_tcase(s, tc);

	tc = tcase_create("vlan_add");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_vlan_add);
	tcase_add_test(tc, test_vlan_add_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("vlan_del");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_vlan_del);
	tcase_add_test(tc, test_vlan_del_flushes);
	suite_add_tcase(s, tc);

	tc = tcase_create("set");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_set_each);
	tcase_add_test(tc, test_set_refused);
	tcase_add_test(tc, test_set_ageing_zero);
	tcase_add_test(tc, test_set_default_pvid);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return check_main(ops_suite());
}
