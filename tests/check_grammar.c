/*
 * check_grammar.c - unit tests for lib/grammar.c and lib/lex.c: the
 * table itself (every handler id once, help everywhere), finding objects
 * and commands by prefix, synopses, and the lexer on every argument type,
 * with the exact error line of each mistake.
 *
 * A request is written as one string, words split at spaces, and goes
 * through gr_find_cmd() then gr_lex(), as the daemon's dispatch does.
 *
 *   one case:     CK_RUN_CASE=types build/tests/check_grammar
 *   sanitizers:   CK_FORK=no build-asan/tests/check_grammar
 */
#include "lib/grammar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_common.h"

#define ERR_SIZE 256
#define MAX_WORDS 128

/* The words of the request lexed last: the values point into them. */
static struct {
	char buf[16384];
	char *argv[MAX_WORDS];
	int argc;
} req;

static void split(const char *line)
{
	char *p;

	ck_assert_uint_lt(strlen(line), sizeof(req.buf));
	strcpy(req.buf, line);
	req.argc = 0;
	for (p = strtok(req.buf, " "); p; p = strtok(NULL, " ")) {
		ck_assert_int_lt(req.argc, MAX_WORDS);
		req.argv[req.argc++] = p;
	}
}

/* Find the command of @line and lex its arguments into @out.  Returns
 * gr_lex()'s result, or -ENOENT when no command was found; @err holds
 * the error line. */
static int lex(const char *line, struct gr_args *out, char *err)
{
	const struct gr_cmd *cmd;
	int first;

	err[0] = '\0';
	split(line);
	cmd = gr_find_cmd(req.argc, req.argv, &first, err, ERR_SIZE);
	if (!cmd)
		return -ENOENT;
	return gr_lex(cmd, req.argc - first, req.argv + first, out, err,
		      ERR_SIZE);
}

/* @line lexes; the arguments land in @a. */
#define lex_ok(line, a)							\
	do {								\
		char err_[ERR_SIZE];					\
		int ret_ = lex((line), (a), err_);			\
									\
		ck_assert_msg(ret_ == 0, "%s: %d %s", (line), ret_,	\
			      err_);					\
	} while (0)

/* @line is refused with exactly the line @want. */
#define lex_err(line, want)						\
	do {								\
		struct gr_args a_;					\
		char err_[ERR_SIZE];					\
		int ret_ = lex((line), &a_, err_);			\
									\
		ck_assert_msg(ret_ == -EINVAL, "%s: lexed (%d)",	\
			      (line), ret_);				\
		ck_assert_str_eq(err_, (want));				\
	} while (0)

/* The value of @key, which must be there. */
static const struct gr_value *get(const struct gr_args *a, const char *key)
{
	const struct gr_value *v = gr_get(a, key);

	ck_assert_msg(v != NULL, "no \"%s\"", key);
	return v;
}

static const struct gr_cmd *cmd_of(const char *line, int *first)
{
	char err[ERR_SIZE];

	split(line);
	return gr_find_cmd(req.argc, req.argv, first, err, sizeof(err));
}

static const struct gr_cmd *cmd_by_id(enum gr_cmd_id id)
{
	for (const struct gr_object *o = gr_objects; o->name; o++)
		for (const struct gr_cmd *c = o->cmds; c->help; c++)
			if (c->id == id)
				return c;
	ck_abort_msg("no command with id %d", id);
	return NULL;
}

/* ---- the table ---- */

START_TEST(test_table_ids)
{
	unsigned int seen[GR_N_CMDS] = { 0 };
	unsigned int n = 0;

	for (const struct gr_object *o = gr_objects; o->name; o++) {
		for (const struct gr_cmd *c = o->cmds; c->help; c++) {
			ck_assert_int_ge(c->id, 0);
			ck_assert_int_lt(c->id, GR_N_CMDS);
			seen[c->id]++;
			n++;
		}
	}
	for (unsigned int id = 0; id < GR_N_CMDS; id++)
		ck_assert_msg(seen[id] == 1, "id %u appears %u times", id,
			      seen[id]);
	ck_assert_uint_eq(n, GR_N_CMDS);
}
END_TEST

START_TEST(test_table_help)
{
	for (const struct gr_object *o = gr_objects; o->name; o++) {
		ck_assert_msg(o->help && o->help[0], "%s: no help", o->name);
		ck_assert_ptr_nonnull(o->cmds[0].help);
		for (const struct gr_cmd *c = o->cmds; c->help; c++) {
			unsigned int n_args = 0;

			ck_assert_msg(c->help[0], "%s %s: empty help",
				      o->name, c->name ? c->name : "");
			ck_assert_ptr_eq(gr_object_of(c), o);
			/* Objects that are their own command have one. */
			if (!c->name)
				ck_assert_ptr_null(c[1].help);
			for (const struct gr_arg *a = c->args; a->key; a++) {
				n_args++;
				ck_assert_msg(a->help && a->help[0],
					      "%s %s: no help", o->name, a->key);
				ck_assert_msg(a->type == GR_FLAG ||
					      (a->meta && a->meta[0]),
					      "%s %s: no meta", o->name,
					      a->key);
				if (a->type == GR_CHOICE)
					ck_assert_ptr_nonnull(a->choices);
				if (a->flags & GR_KEY_OPTIONAL)
					ck_assert(a->flags & GR_POSITIONAL);
				if (a->type == GR_U32)
					ck_assert_uint_le(a->min, a->max);
			}
			/* The lexer's mask of the arguments given. */
			ck_assert_uint_le(n_args, 64);
		}
	}
}
END_TEST

/* Keywords are unique within a command, or gr_get() mixes them up. */
START_TEST(test_table_keys_unique)
{
	for (const struct gr_object *o = gr_objects; o->name; o++)
		for (const struct gr_cmd *c = o->cmds; c->help; c++)
			for (const struct gr_arg *a = c->args; a->key; a++)
				for (const struct gr_arg *b = a + 1; b->key;
				     b++)
					ck_assert_str_ne(a->key, b->key);
}
END_TEST

START_TEST(test_table_order)
{
	static const char *const names[] = {
		"port", "fdb", "vlan", "show", "set", "capture", "trace",
		"explain", "dump", "monitor", NULL
	};
	int i;

	for (i = 0; names[i]; i++)
		ck_assert_str_eq(gr_objects[i].name, names[i]);
	ck_assert_ptr_null(gr_objects[i].name);
	/* The first command is the default: show, where there is one. */
	ck_assert_str_eq(gr_objects[0].cmds[0].name, "show");
	ck_assert_str_eq(gr_objects[1].cmds[0].name, "show");
	ck_assert_str_eq(gr_objects[2].cmds[0].name, "show");
	ck_assert_str_eq(gr_objects[3].cmds[0].name, "show");
	ck_assert_str_eq(gr_objects[5].cmds[0].name, "show");
	for (i = 4; names[i]; i++)
		if (i != 5)
			ck_assert_ptr_null(gr_objects[i].cmds[0].name);
}
END_TEST

START_TEST(test_table_answers)
{
	static const struct {
		enum gr_cmd_id id;
		enum gr_answer answer;
	} want[] = {
		{ GR_CMD_PORT_SHOW, GR_ANSWER_LIST },
		{ GR_CMD_PORT_ADD, GR_ANSWER_NONE },
		{ GR_CMD_PORT_DEL, GR_ANSWER_NONE },
		{ GR_CMD_PORT_SET, GR_ANSWER_NONE },
		{ GR_CMD_FDB_SHOW, GR_ANSWER_LIST },
		{ GR_CMD_FDB_ADD, GR_ANSWER_NONE },
		{ GR_CMD_FDB_REPLACE, GR_ANSWER_NONE },
		{ GR_CMD_FDB_DEL, GR_ANSWER_NONE },
		{ GR_CMD_FDB_FLUSH, GR_ANSWER_NONE },
		{ GR_CMD_VLAN_SHOW, GR_ANSWER_LIST },
		{ GR_CMD_VLAN_ADD, GR_ANSWER_NONE },
		{ GR_CMD_VLAN_DEL, GR_ANSWER_NONE },
		{ GR_CMD_SHOW, GR_ANSWER_SINGLE },
		{ GR_CMD_SET, GR_ANSWER_NONE },
		{ GR_CMD_CAPTURE_SHOW, GR_ANSWER_DATA },
		{ GR_CMD_CAPTURE_START, GR_ANSWER_DATA },
		{ GR_CMD_CAPTURE_STOP, GR_ANSWER_DATA },
		{ GR_CMD_TRACE, GR_ANSWER_STREAM },
		{ GR_CMD_EXPLAIN, GR_ANSWER_DATA },
		{ GR_CMD_DUMP, GR_ANSWER_STREAM },
		{ GR_CMD_MONITOR, GR_ANSWER_STREAM },
	};

	ck_assert_uint_eq(sizeof(want) / sizeof(want[0]), GR_N_CMDS);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_int_eq(cmd_by_id(want[i].id)->answer,
				 want[i].answer);
}
END_TEST

/* ---- finding objects and commands ---- */

#define find_is(line, want_id, want_first)				\
	do {								\
		const struct gr_cmd *c_;				\
		int first_ = -1;					\
									\
		c_ = cmd_of((line), &first_);				\
		ck_assert_msg(c_ != NULL, "%s: not found", (line));	\
		ck_assert_int_eq(c_->id, (want_id));			\
		ck_assert_int_eq(first_, (want_first));			\
	} while (0)

START_TEST(test_find_prefix)
{
	find_is("f s", GR_CMD_FDB_SHOW, 2);
	find_is("fdb", GR_CMD_FDB_SHOW, 1);
	find_is("fdb sh dev tap0", GR_CMD_FDB_SHOW, 2);
	find_is("f a 02:00:00:00:00:01", GR_CMD_FDB_ADD, 2);
	find_is("fdb r", GR_CMD_FDB_REPLACE, 2);
	find_is("fdb d", GR_CMD_FDB_DEL, 2);
	find_is("fdb fl", GR_CMD_FDB_FLUSH, 2);
	find_is("s", GR_CMD_SHOW, 1);
	find_is("show", GR_CMD_SHOW, 1);
	find_is("show show", GR_CMD_SHOW, 2);
	find_is("show s", GR_CMD_SHOW, 2);
	find_is("se ageing_time 10", GR_CMD_SET, 1);
	find_is("p", GR_CMD_PORT_SHOW, 1);
	find_is("port s", GR_CMD_PORT_SHOW, 2);
	find_is("port se tap0", GR_CMD_PORT_SET, 2);
	find_is("v a", GR_CMD_VLAN_ADD, 2);
	find_is("c", GR_CMD_CAPTURE_SHOW, 1);
	find_is("cap st file /x", GR_CMD_CAPTURE_START, 2);
	find_is("cap sto", GR_CMD_CAPTURE_STOP, 2);
	find_is("t count 1", GR_CMD_TRACE, 1);
	find_is("e dev x frame 00", GR_CMD_EXPLAIN, 1);
	find_is("d dev x", GR_CMD_DUMP, 1);
	find_is("m", GR_CMD_MONITOR, 1);
	/* An object that is its own command: the next word is an
	 * argument, even one that looks like a command. */
	find_is("set show", GR_CMD_SET, 1);
	find_is("trace show", GR_CMD_TRACE, 1);
}
END_TEST

START_TEST(test_find_alias)
{
	find_is("link", GR_CMD_PORT_SHOW, 1);
	find_is("link set tap0 flood off", GR_CMD_PORT_SET, 2);
	ck_assert_ptr_eq(gr_find_object("link"), &gr_objects[0]);
	/* An alias is matched whole, never as a prefix. */
	ck_assert_ptr_null(gr_find_object("lin"));
	ck_assert_ptr_null(gr_find_object("l"));
	ck_assert_ptr_null(gr_find_object("links"));
}
END_TEST

START_TEST(test_find_unknown)
{
	char *argv[3] = { NULL };
	char err[ERR_SIZE];
	int first = -1;

	ck_assert_ptr_null(gr_find_object(""));
	ck_assert_ptr_null(gr_find_object("ports"));
	ck_assert_ptr_null(gr_find_object("x"));

	split("bogus show");
	ck_assert_ptr_null(gr_find_cmd(req.argc, req.argv, &first, err,
				       sizeof(err)));
	ck_assert_str_eq(err,
			 "Error: unknown object \"bogus\"; try \"tapswitchctl help\"");
	split("fdb bogus");
	ck_assert_ptr_null(gr_find_cmd(req.argc, req.argv, &first, err,
				       sizeof(err)));
	ck_assert_str_eq(err,
			 "Error: unknown command \"bogus\" for \"fdb\"; try \"tapswitchctl fdb help\"");
	/* The words as typed. */
	split("f showx");
	ck_assert_ptr_null(gr_find_cmd(req.argc, req.argv, &first, err,
				       sizeof(err)));
	ck_assert_str_eq(err,
			 "Error: unknown command \"showx\" for \"f\"; try \"tapswitchctl f help\"");
	split("show x");
	ck_assert_ptr_null(gr_find_cmd(req.argc, req.argv, &first, err,
				       sizeof(err)));
	ck_assert_str_eq(err,
			 "Error: unknown command \"x\" for \"show\"; try \"tapswitchctl show help\"");
	/* err may be NULL. */
	ck_assert_ptr_null(gr_find_cmd(req.argc, req.argv, &first, NULL, 0));
	ck_assert_ptr_null(gr_find_cmd(0, argv, &first, err, sizeof(err)));
}
END_TEST

/* ---- synopses ---- */

static const char *synopsis(enum gr_cmd_id id)
{
	static char buf[512];
	int n = gr_synopsis(cmd_by_id(id), buf, sizeof(buf));

	ck_assert_int_eq(n, (int)strlen(buf));
	return buf;
}

START_TEST(test_synopsis)
{
	ck_assert_str_eq(synopsis(GR_CMD_FDB_ADD),
			 "fdb add MAC dev IFNAME [vlan VID] [static|dynamic] [sticky]");
	ck_assert_str_eq(synopsis(GR_CMD_FDB_SHOW),
			 "fdb show [dev IFNAME] [vlan VID]");
	ck_assert_str_eq(synopsis(GR_CMD_FDB_FLUSH),
			 "fdb flush [dev IFNAME] [vlan VID] [static|dynamic]");
	ck_assert_str_eq(synopsis(GR_CMD_PORT_SHOW),
			 "port show [[dev] IFNAME]");
	ck_assert_str_eq(synopsis(GR_CMD_PORT_ADD),
			 "port add IFNAME [type tap|afpacket|afxdp]");
	ck_assert_str_eq(synopsis(GR_CMD_PORT_DEL), "port del [dev] IFNAME");
	ck_assert_str_eq(synopsis(GR_CMD_PORT_SET),
			 "port set [dev] IFNAME [learning on|off] [flood on|off] "
			 "[mcast_flood on|off] [bcast_flood on|off] "
			 "[reorder_hdr on|off] [offload on|off] "
			 "[ingress_qos_map FROM:TO...] [egress_qos_map FROM:TO...]");
	ck_assert_str_eq(synopsis(GR_CMD_VLAN_ADD),
			 "vlan add dev IFNAME vid VID[-VID] [pvid] [untagged]");
	ck_assert_str_eq(synopsis(GR_CMD_VLAN_DEL),
			 "vlan del dev IFNAME vid VID[-VID]");
	ck_assert_str_eq(synopsis(GR_CMD_SHOW), "show");
	ck_assert_str_eq(synopsis(GR_CMD_CAPTURE_SHOW), "capture show");
	ck_assert_str_eq(synopsis(GR_CMD_CAPTURE_START),
			 "capture start [dev IFNAME] [dir rx|tx|both] [vlan VID] "
			 "file PATH [force] [count N] [snaplen N]");
	ck_assert_str_eq(synopsis(GR_CMD_CAPTURE_STOP),
			 "capture stop [dev IFNAME] [id N]");
	ck_assert_str_eq(synopsis(GR_CMD_TRACE),
			 "trace [dev IFNAME] [vlan VID] [count N]");
	ck_assert_str_eq(synopsis(GR_CMD_EXPLAIN),
			 "explain dev IFNAME {frame HEX | pcap PATH}");
	ck_assert_str_eq(synopsis(GR_CMD_DUMP),
			 "dump dev IFNAME [dir rx|tx|both] [count N]");
	ck_assert_str_eq(synopsis(GR_CMD_MONITOR),
			 "monitor [fdb] [port] [count N]");
	ck_assert_str_eq(synopsis(GR_CMD_SET),
			 "set [ageing_time SEC] [max_learned N] "
			 "[group_fwd_mask MASK] [vlan_filtering 0|1] "
			 "[vlan_protocol 802.1Q|802.1ad] [default_pvid VID] "
			 "[max_watchers N]");
}
END_TEST

/* As snprintf: the length it needed, whatever the room. */
START_TEST(test_synopsis_short_buffer)
{
	const struct gr_cmd *cmd = cmd_by_id(GR_CMD_FDB_DEL);
	const char *full = "fdb del MAC dev IFNAME [vlan VID]";
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(gr_synopsis(cmd, buf, sizeof(buf)), strlen(full));
	ck_assert_str_eq(buf, "fdb del");
	ck_assert_int_eq(gr_synopsis(cmd, NULL, 0), strlen(full));
	ck_assert_int_eq(gr_synopsis(cmd, buf, 1), strlen(full));
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_synopsis_marked)
{
	char buf[256];

	gr_synopsis_marked(cmd_by_id(GR_CMD_VLAN_SHOW), buf, sizeof(buf));
	ck_assert_str_eq(buf, "\001vlan\003 \001show\003 [[\001dev\003] "
			 "\002IFNAME\003]");
	gr_arg_synopsis(&cmd_by_id(GR_CMD_FDB_ADD)->args[1], false, buf,
			sizeof(buf));
	ck_assert_str_eq(buf, "dev IFNAME");
	gr_arg_synopsis(&cmd_by_id(GR_CMD_PORT_DEL)->args[0], false, buf,
			sizeof(buf));
	ck_assert_str_eq(buf, "[dev] IFNAME");
	gr_arg_synopsis(&cmd_by_id(GR_CMD_PORT_ADD)->args[0], true, buf,
			sizeof(buf));
	ck_assert_str_eq(buf, "\002IFNAME\003");
}
END_TEST

/* ---- the lexer: each type ---- */

START_TEST(test_type_word_flag)
{
	struct gr_args a;

	lex_ok("fdb add 02:00:00:00:00:01 dev tap0 static sticky", &a);
	ck_assert_ptr_eq(a.cmd, cmd_by_id(GR_CMD_FDB_ADD));
	ck_assert_uint_eq(a.n, 4);
	ck_assert_str_eq(get(&a, "dev")->word, "tap0");
	ck_assert_str_eq(get(&a, "static")->word, "static");
	ck_assert_str_eq(get(&a, "sticky")->word, "sticky");
	ck_assert_ptr_null(gr_get(&a, "dynamic"));
	ck_assert_ptr_null(gr_get(&a, "vlan"));
	/* In the order given. */
	ck_assert_str_eq(a.v[0].arg->key, "mac");
	ck_assert_str_eq(a.v[1].arg->key, "dev");
	ck_assert_str_eq(a.v[2].arg->key, "static");
	ck_assert_str_eq(a.v[3].arg->key, "sticky");
	lex_ok("monitor fdb port", &a);
	ck_assert_uint_eq(a.n, 2);
}
END_TEST

START_TEST(test_type_mac)
{
	static const uint8_t want[6] = { 0x02, 0, 0, 0, 0xab, 0x01 };
	struct gr_args a;

	lex_ok("fdb del 02:00:00:00:AB:01 dev tap0", &a);
	ck_assert_mem_eq(get(&a, "mac")->mac, want, 6);
	ck_assert_str_eq(get(&a, "mac")->word, "02:00:00:00:AB:01");
	lex_err("fdb add xx dev tap0",
		"Error: argument \"xx\" is wrong: not a MAC address (xx:xx:xx:xx:xx:xx)");
	lex_err("fdb del 02:00:00:00:00 dev tap0",
		"Error: argument \"02:00:00:00:00\" is wrong: not a MAC address (xx:xx:xx:xx:xx:xx)");
}
END_TEST

START_TEST(test_type_vid)
{
	static const char *const bad[] = {
		"0", "4095", "-1", "+5", "1x", "x", "0x", "99999999999", "1.5",
		NULL
	};
	struct gr_args a;
	char line[128], want[128];

	lex_ok("fdb show vlan 1", &a);
	ck_assert_uint_eq(get(&a, "vlan")->u32, 1);
	lex_ok("fdb show vlan 4094", &a);
	ck_assert_uint_eq(get(&a, "vlan")->u32, 4094);
	lex_ok("fdb show vlan 0x10", &a);
	ck_assert_uint_eq(get(&a, "vlan")->u32, 16);
	/* As the daemon always read numbers (strtoul's base 0, iproute2's
	 * get_u32): a leading zero is octal. */
	lex_ok("trace vlan 010", &a);
	ck_assert_uint_eq(get(&a, "vlan")->u32, 8);
	lex_err("trace vlan 08",
		"Error: argument \"08\" is wrong: VLAN ID must be 1-4094");
	for (int i = 0; bad[i]; i++) {
		snprintf(line, sizeof(line), "fdb show vlan %s", bad[i]);
		snprintf(want, sizeof(want),
			 "Error: argument \"%s\" is wrong: VLAN ID must be 1-4094",
			 bad[i]);
		lex_err(line, want);
	}
}
END_TEST

START_TEST(test_type_vids)
{
	static const char *const bad[] = {
		"0", "4095", "0-5", "5-", "-5", "1-4095", "a-b", "1-2-3",
		"12345678901234567", NULL
	};
	struct gr_args a;
	char line[128], want[128];

	lex_ok("vlan add dev tap0 vid 10", &a);
	ck_assert_uint_eq(get(&a, "vid")->vids.lo, 10);
	ck_assert_uint_eq(get(&a, "vid")->vids.hi, 10);
	lex_ok("vlan del dev tap0 vid 10-4094", &a);
	ck_assert_uint_eq(get(&a, "vid")->vids.lo, 10);
	ck_assert_uint_eq(get(&a, "vid")->vids.hi, 4094);
	lex_ok("vlan add dev tap0 vid 7-7 pvid untagged", &a);
	ck_assert_uint_eq(get(&a, "vid")->vids.lo, 7);
	ck_assert_uint_eq(get(&a, "vid")->vids.hi, 7);
	ck_assert_ptr_nonnull(gr_get(&a, "pvid"));
	ck_assert_ptr_nonnull(gr_get(&a, "untagged"));
	/* pvid on a range is the operation's to refuse. */
	lex_ok("vlan add dev tap0 vid 2-5 pvid", &a);
	lex_err("vlan add dev tap0 vid 20-10",
		"Error: argument \"20-10\" is wrong: a range goes from low to high");
	for (int i = 0; bad[i]; i++) {
		snprintf(line, sizeof(line), "vlan add dev tap0 vid %s",
			 bad[i]);
		snprintf(want, sizeof(want),
			 "Error: argument \"%s\" is wrong: VLAN ID must be 1-4094",
			 bad[i]);
		lex_err(line, want);
	}
}
END_TEST

START_TEST(test_type_onoff)
{
	struct gr_args a;

	lex_ok("port set tap0 learning on flood off mcast_flood 1 "
	       "bcast_flood 0 reorder_hdr off offload on", &a);
	ck_assert(get(&a, "learning")->on);
	ck_assert(!get(&a, "flood")->on);
	ck_assert(get(&a, "mcast_flood")->on);
	ck_assert(!get(&a, "bcast_flood")->on);
	ck_assert(!get(&a, "reorder_hdr")->on);
	ck_assert(get(&a, "offload")->on);
	lex_err("port set tap0 learning yes",
		"Error: argument \"yes\" is wrong: learning takes on or off");
	lex_err("port set tap0 offload ON",
		"Error: argument \"ON\" is wrong: offload takes on or off");
	lex_err("port set tap0 flood 2",
		"Error: argument \"2\" is wrong: flood takes on or off");
}
END_TEST

START_TEST(test_type_u32)
{
	struct gr_args a;

	lex_ok("set ageing_time 0 max_learned 4294967295 group_fwd_mask 0xffff "
	       "vlan_filtering 1 default_pvid 4094", &a);
	ck_assert_uint_eq(get(&a, "ageing_time")->u32, 0);
	ck_assert_uint_eq(get(&a, "max_learned")->u32, 4294967295u);
	ck_assert_uint_eq(get(&a, "group_fwd_mask")->u32, 0xffff);
	ck_assert_uint_eq(get(&a, "vlan_filtering")->u32, 1);
	ck_assert_uint_eq(get(&a, "default_pvid")->u32, 4094);
	lex_ok("set ageing_time 1000000 default_pvid 0 group_fwd_mask 0X4000",
	       &a);
	ck_assert_uint_eq(get(&a, "ageing_time")->u32, 1000000);
	ck_assert_uint_eq(get(&a, "group_fwd_mask")->u32, 0x4000);
	lex_err("set ageing_time 1000001",
		"Error: argument \"1000001\" is wrong: ageing_time is 0-1000000 seconds");
	lex_err("set ageing_time -1",
		"Error: argument \"-1\" is wrong: ageing_time is 0-1000000 seconds");
	lex_err("set max_learned 4294967296",
		"Error: argument \"4294967296\" is wrong: max_learned is 0-4294967295");
	lex_err("set max_learned 1k",
		"Error: argument \"1k\" is wrong: max_learned is 0-4294967295");
	lex_err("set group_fwd_mask 0x10000",
		"Error: argument \"0x10000\" is wrong: group_fwd_mask is 0-0xffff");
	lex_err("set group_fwd_mask zz",
		"Error: argument \"zz\" is wrong: group_fwd_mask is 0-0xffff");
	lex_err("set vlan_filtering 2",
		"Error: argument \"2\" is wrong: vlan_filtering is 0 or 1");
	lex_err("set default_pvid 4095",
		"Error: argument \"4095\" is wrong: default_pvid is 0 (none) or 1-4094");
	lex_ok("capture start file /x count 4294967295 snaplen 65792", &a);
	ck_assert_uint_eq(get(&a, "count")->u32, 4294967295u);
	ck_assert_uint_eq(get(&a, "snaplen")->u32, 65792);
	lex_ok("capture start file /x snaplen 14", &a);
	lex_err("trace count 0",
		"Error: argument \"0\" is wrong: count is 1-4294967295");
	lex_err("capture start file /x snaplen 13",
		"Error: argument \"13\" is wrong: snaplen is 14-65792");
	lex_err("capture start file /x snaplen 65793",
		"Error: argument \"65793\" is wrong: snaplen is 14-65792");
	lex_ok("capture stop id 3", &a);
	ck_assert_uint_eq(get(&a, "id")->u32, 3);
	lex_err("capture stop id 0",
		"Error: argument \"0\" is wrong: id is a capture's number");
}
END_TEST

START_TEST(test_type_choice)
{
	struct gr_args a;

	lex_ok("dump dev tap0 dir rx", &a);
	ck_assert_uint_eq(get(&a, "dir")->choice, 0);
	lex_ok("capture start dir both file /x", &a);
	ck_assert_uint_eq(get(&a, "dir")->choice, 2);
	lex_err("dump dev tap0 dir RX",
		"Error: argument \"RX\" is wrong: dir is rx, tx or both");
	lex_err("dump dev tap0 dir sideways",
		"Error: argument \"sideways\" is wrong: dir is rx, tx or both");
	lex_ok("set vlan_protocol 802.1ad", &a);
	ck_assert_uint_eq(get(&a, "vlan_protocol")->choice, 1);
	/* Case-insensitive. */
	lex_ok("set vlan_protocol 802.1q", &a);
	ck_assert_uint_eq(get(&a, "vlan_protocol")->choice, 0);
	lex_ok("set vlan_protocol 802.1AD", &a);
	ck_assert_uint_eq(get(&a, "vlan_protocol")->choice, 1);
	lex_err("set vlan_protocol 802.1x",
		"Error: argument \"802.1x\" is wrong: vlan_protocol is 802.1Q or 802.1ad");
}
END_TEST

START_TEST(test_type_path)
{
	struct gr_args a;

	lex_ok("capture start file /tmp/x.pcap", &a);
	ck_assert_str_eq(get(&a, "file")->word, "/tmp/x.pcap");
	lex_ok("explain dev tap0 pcap /srv/in.pcap", &a);
	ck_assert_str_eq(get(&a, "pcap")->word, "/srv/in.pcap");
	lex_err("capture start file x.pcap",
		"Error: argument \"x.pcap\" is wrong: the file must be an absolute path");
	lex_err("explain dev tap0 pcap ../in.pcap",
		"Error: argument \"../in.pcap\" is wrong: the file must be an absolute path");
}
END_TEST

START_TEST(test_type_hex)
{
	static char line[GR_HEX_MAX * 2 + 64];
	uint8_t buf[GR_HEX_MAX];
	struct gr_args a;
	size_t n;

	lex_ok("explain dev tap0 frame ffFF0102", &a);
	ck_assert_uint_eq(get(&a, "frame")->hex.n_bytes, 4);
	ck_assert_uint_eq(gr_hex_decode(get(&a, "frame"), buf, sizeof(buf)),
			  4);
	ck_assert_mem_eq(buf, "\xff\xff\x01\x02", 4);
	/* No more than @size. */
	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(gr_hex_decode(get(&a, "frame"), buf, 2), 2);
	ck_assert_mem_eq(buf, "\xff\xff\x00\x00", 4);
	lex_err("explain dev tap0 frame fff",
		"Error: argument \"fff\" is wrong: not whole bytes in hex");
	lex_err("explain dev tap0 frame zz",
		"Error: argument \"zz\" is wrong: not hex digits");
	lex_err("explain dev tap0 frame 0x00",
		"Error: argument \"0x00\" is wrong: not hex digits");

	/* GR_HEX_MAX bytes, and one more. */
	n = snprintf(line, sizeof(line), "explain dev tap0 frame ");
	memset(line + n, 'a', GR_HEX_MAX * 2);
	line[n + GR_HEX_MAX * 2] = '\0';
	lex_ok(line, &a);
	ck_assert_uint_eq(get(&a, "frame")->hex.n_bytes, GR_HEX_MAX);
	ck_assert_uint_eq(gr_hex_decode(get(&a, "frame"), buf, sizeof(buf)),
			  GR_HEX_MAX);
	ck_assert_uint_eq(buf[GR_HEX_MAX - 1], 0xaa);
	strcat(line, "aa");
	{
		static char err[GR_HEX_MAX * 2 + 128];
		struct gr_args b;

		split(line);
		ck_assert_int_eq(gr_lex(cmd_by_id(GR_CMD_EXPLAIN), 4,
					req.argv + 1, &b, err, sizeof(err)),
				 -EINVAL);
		ck_assert(strstr(err, "is wrong: not whole bytes in hex"));
	}
}
END_TEST

START_TEST(test_type_qos_map)
{
	struct gr_args a;
	const struct gr_value *v;

	lex_ok("port set tap0 ingress_qos_map 1:2 3:4 learning on", &a);
	v = get(&a, "ingress_qos_map");
	ck_assert_uint_eq(v->list.n, 2);
	ck_assert_str_eq(v->word, "1:2");
	ck_assert_str_eq(v->list.words[0], "1:2");
	ck_assert_str_eq(v->list.words[1], "3:4");
	ck_assert(get(&a, "learning")->on);
	/* The other spelling is the same argument. */
	lex_ok("port set tap0 egress-qos-map 5:1", &a);
	v = get(&a, "egress_qos_map");
	ck_assert_uint_eq(v->list.n, 1);
	ck_assert_str_eq(v->arg->key, "egress_qos_map");
	lex_err("port set tap0 ingress_qos_map",
		"Error: \"ingress_qos_map\" needs FROM:TO words");
	lex_err("port set tap0 egress-qos-map learning on",
		"Error: \"egress-qos-map\" needs FROM:TO words");
	lex_err("port set tap0 ingress_qos_map 1:2 8:1",
		"Error: argument \"8:1\" is wrong: a PCP map word is FROM:TO, each 0-7");
	lex_err("port set tap0 ingress_qos_map 1:22",
		"Error: argument \"1:22\" is wrong: a PCP map word is FROM:TO, each 0-7");
}
END_TEST

/* ---- keywords, values, unknown words ---- */

START_TEST(test_needs_argument)
{
	lex_err("fdb show dev", "Error: \"dev\" needs an argument");
	lex_err("fdb show vlan", "Error: \"vlan\" needs an argument");
	lex_err("port show dev", "Error: \"dev\" needs an argument");
	lex_err("port set tap0 learning",
		"Error: \"learning\" needs an argument");
	lex_err("set ageing_time", "Error: \"ageing_time\" needs an argument");
	lex_err("capture start file", "Error: \"file\" needs an argument");
	lex_err("explain dev tap0 frame", "Error: \"frame\" needs an argument");
	lex_err("trace count", "Error: \"count\" needs an argument");
}
END_TEST

START_TEST(test_unknown_words)
{
	lex_err("fdb show bogus",
		"Error: argument \"bogus\" is wrong: unexpected here");
	lex_err("fdb show tap0",
		"Error: argument \"tap0\" is wrong: unexpected here");
	/* Keywords are never abbreviated. */
	lex_err("fdb show de tap0",
		"Error: argument \"de\" is wrong: unexpected here");
	lex_err("fdb add 02:00:00:00:00:01 dev tap0 all",
		"Error: argument \"all\" is wrong: unexpected here");
	lex_err("fdb del 02:00:00:00:00:01 dev tap0 static",
		"Error: argument \"static\" is wrong: unexpected here");
	lex_err("vlan del dev tap0 vid 3 pvid",
		"Error: argument \"pvid\" is wrong: unexpected here");
	lex_err("port set tap0 bogus on",
		"Error: argument \"bogus\" is wrong: unknown port setting");
	lex_err("port set tap0 learning on lear on",
		"Error: argument \"lear\" is wrong: unknown port setting");
	lex_err("set bogus 1",
		"Error: argument \"bogus\" is wrong: unknown setting");
	lex_err("set ageing_time 3 ageing 3",
		"Error: argument \"ageing\" is wrong: unknown setting");
	lex_err("port show tap0 x",
		"Error: argument \"x\" is wrong: unexpected");
	lex_err("vlan show dev tap0 x",
		"Error: argument \"x\" is wrong: unexpected");
	lex_err("show show x", "Error: argument \"x\" is wrong: unexpected");
	lex_err("capture show x",
		"Error: argument \"x\" is wrong: unexpected here");
	lex_err("capture stop bogus 1",
		"Error: argument \"bogus\" is wrong: unexpected here");
	lex_err("trace dir rx",
		"Error: argument \"dir\" is wrong: unexpected here");
	lex_err("dump dev tap0 vlan 3",
		"Error: argument \"vlan\" is wrong: unexpected here");
	lex_err("monitor dev tap0",
		"Error: argument \"dev\" is wrong: unexpected here");
	lex_err("explain dev tap0 file /x",
		"Error: argument \"file\" is wrong: unexpected here");
	lex_err("port add a b",
		"Error: argument \"b\" is wrong: unexpected here");
}
END_TEST

/* ---- required arguments and groups ---- */

START_TEST(test_required)
{
	lex_err("fdb add", "Error: a MAC address is needed");
	lex_err("fdb del", "Error: a MAC address is needed");
	lex_err("fdb add dev tap0", "Error: a MAC address is needed");
	lex_err("fdb add 02:00:00:00:00:01", "Error: fdb add needs dev IFNAME");
	lex_err("fdb replace 02:00:00:00:00:01 static",
		"Error: fdb replace needs dev IFNAME");
	lex_err("fdb del 02:00:00:00:00:01 vlan 3",
		"Error: fdb del needs dev IFNAME");
	lex_err("vlan add dev tap0",
		"Error: usage: vlan add dev IFNAME vid VID[-VID] [pvid] [untagged]");
	lex_err("vlan add vid 3 pvid",
		"Error: usage: vlan add dev IFNAME vid VID[-VID] [pvid] [untagged]");
	lex_err("vlan del vid 3",
		"Error: usage: vlan del dev IFNAME vid VID[-VID]");
	lex_err("vlan del", "Error: usage: vlan del dev IFNAME vid VID[-VID]");
	lex_err("port add",
		"Error: usage: port add IFNAME [type tap|afpacket|afxdp]");
	lex_err("port add x type veth",
		"Error: argument \"veth\" is wrong: type is tap, afpacket or afxdp");
	lex_err("port del", "Error: usage: port del IFNAME");
	lex_err("port set", "Error: usage: port set IFNAME FLAG on|off ...");
	lex_err("port set learning on",
		"Error: usage: port set IFNAME FLAG on|off ...");
	lex_err("capture start", "Error: capture start needs file PATH");
	lex_err("capture start dev tap0 count 3",
		"Error: capture start needs file PATH");
	lex_err("explain frame 00", "Error: explain needs dev IFNAME");
	lex_err("explain", "Error: explain needs dev IFNAME");
	lex_err("dump", "Error: dump needs dev IFNAME");
	lex_err("dump dir rx count 2", "Error: dump needs dev IFNAME");
}
END_TEST

START_TEST(test_nothing_required)
{
	struct gr_args a;

	lex_ok("fdb", &a);
	ck_assert_uint_eq(a.n, 0);
	lex_ok("fdb flush", &a);
	lex_ok("port show", &a);
	lex_ok("vlan", &a);
	lex_ok("capture stop", &a);
	lex_ok("trace", &a);
	lex_ok("monitor", &a);
	/* Which settings are given is the operation's to check. */
	lex_ok("set", &a);
	ck_assert_uint_eq(a.n, 0);
	lex_ok("port set tap0", &a);
	ck_assert_uint_eq(a.n, 1);
}
END_TEST

START_TEST(test_groups)
{
	struct gr_args a;

	lex_err("fdb add 02:00:00:00:00:01 dev tap0 static dynamic",
		"Error: static and dynamic exclude each other");
	lex_err("fdb replace 02:00:00:00:00:01 dev tap0 dynamic sticky static",
		"Error: static and dynamic exclude each other");
	lex_err("fdb flush static dynamic",
		"Error: static and dynamic exclude each other");
	lex_ok("fdb flush dynamic", &a);
	lex_ok("fdb add 02:00:00:00:00:01 dev tap0 dynamic sticky", &a);
	/* Once each is no conflict. */
	lex_ok("fdb add 02:00:00:00:00:01 dev tap0 static static", &a);
	/* A required group: exactly one. */
	lex_err("explain dev tap0",
		"Error: explain needs frame HEX or pcap PATH");
	lex_err("explain dev tap0 frame 00 pcap /x.pcap",
		"Error: explain needs frame HEX or pcap PATH");
	lex_ok("explain dev tap0 frame 00", &a);
	ck_assert_ptr_null(gr_get(&a, "pcap"));
	lex_ok("explain pcap /x.pcap dev tap0", &a);
	ck_assert_ptr_null(gr_get(&a, "frame"));
}
END_TEST

/* ---- positionals ---- */

START_TEST(test_positional)
{
	struct gr_args a;

	lex_ok("port del tap0", &a);
	ck_assert_str_eq(get(&a, "dev")->word, "tap0");
	lex_ok("port del dev tap0", &a);
	ck_assert_str_eq(get(&a, "dev")->word, "tap0");
	lex_ok("port show", &a);
	ck_assert_ptr_null(gr_get(&a, "dev"));
	lex_ok("vlan show tap0", &a);
	ck_assert_str_eq(get(&a, "dev")->word, "tap0");
	lex_ok("port set dev tap0 flood off", &a);
	ck_assert_str_eq(get(&a, "dev")->word, "tap0");
	/* After "dev", any word is the value, a keyword too. */
	lex_ok("port set dev learning learning on", &a);
	ck_assert_str_eq(get(&a, "dev")->word, "learning");
	ck_assert(get(&a, "learning")->on);
	lex_ok("capture start dev file file /f", &a);
	ck_assert_str_eq(get(&a, "dev")->word, "file");
	ck_assert_str_eq(get(&a, "file")->word, "/f");
	/* Without GR_KEY_OPTIONAL the key is no keyword: a port named
	 * "dev". */
	lex_ok("port add dev", &a);
	ck_assert_str_eq(get(&a, "dev")->word, "dev");
	/* A keyword is taken as one, wherever it stands. */
	lex_ok("fdb add dev tap0 02:00:00:00:00:01 vlan 3", &a);
	ck_assert_str_eq(get(&a, "mac")->word, "02:00:00:00:00:01");
	ck_assert_uint_eq(get(&a, "vlan")->u32, 3);
	/* One positional each. */
	lex_err("port del tap0 tap1",
		"Error: argument \"tap1\" is wrong: unexpected here");
	lex_err("port set tap0 tap1 learning on",
		"Error: argument \"tap1\" is wrong: unknown port setting");
}
END_TEST

/* gr_get(): the last value given. */
START_TEST(test_get_last)
{
	struct gr_args a;

	lex_ok("fdb show dev a vlan 3 dev b", &a);
	ck_assert_uint_eq(a.n, 3);
	ck_assert_str_eq(get(&a, "dev")->word, "b");
	lex_ok("set ageing_time 10 ageing_time 20", &a);
	ck_assert_uint_eq(get(&a, "ageing_time")->u32, 20);
	ck_assert_ptr_null(gr_get(&a, "max_learned"));
	ck_assert_ptr_null(gr_get(&a, "bogus"));
}
END_TEST

/* An error leaves @out alone. */
START_TEST(test_error_changes_nothing)
{
	struct gr_args a, before;
	char err[ERR_SIZE];

	lex_ok("fdb show dev a", &a);
	memcpy(&before, &a, sizeof(a));
	ck_assert_int_eq(lex("fdb show dev b vlan 0", &a, err), -EINVAL);
	ck_assert_mem_eq(&a, &before, sizeof(a));
	ck_assert_int_eq(lex("fdb add 02:00:00:00:00:01", &a, err), -EINVAL);
	ck_assert_mem_eq(&a, &before, sizeof(a));
	/* A NULL error buffer is allowed. */
	split("fdb show dev");
	ck_assert_int_eq(gr_lex(cmd_by_id(GR_CMD_FDB_SHOW), 1, req.argv + 2,
				&a, NULL, 0), -EINVAL);
	ck_assert_mem_eq(&a, &before, sizeof(a));
}
END_TEST

START_TEST(test_too_many)
{
	char line[GR_MAX_VALUES * 8 + 64];
	struct gr_args a;
	size_t n;

	n = snprintf(line, sizeof(line), "monitor");
	for (int i = 0; i < GR_MAX_VALUES; i++)
		n += snprintf(line + n, sizeof(line) - n, " fdb");
	lex_ok(line, &a);
	ck_assert_uint_eq(a.n, GR_MAX_VALUES);
	strcat(line, " fdb");
	lex_err(line, "Error: too many arguments");
}
END_TEST

static Suite *grammar_suite(void)
{
	Suite *s = suite_create("grammar");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_table_ids);
	tcase_add_test(tc, test_table_help);
	tcase_add_test(tc, test_table_keys_unique);
	tcase_add_test(tc, test_table_order);
	tcase_add_test(tc, test_table_answers);
	suite_add_tcase(s, tc);

	tc = tcase_create("find");
	tcase_add_test(tc, test_find_prefix);
	tcase_add_test(tc, test_find_alias);
	tcase_add_test(tc, test_find_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("synopsis");
	tcase_add_test(tc, test_synopsis);
	tcase_add_test(tc, test_synopsis_short_buffer);
	tcase_add_test(tc, test_synopsis_marked);
	suite_add_tcase(s, tc);

	tc = tcase_create("types");
	tcase_add_test(tc, test_type_word_flag);
	tcase_add_test(tc, test_type_mac);
	tcase_add_test(tc, test_type_vid);
	tcase_add_test(tc, test_type_vids);
	tcase_add_test(tc, test_type_onoff);
	tcase_add_test(tc, test_type_u32);
	tcase_add_test(tc, test_type_choice);
	tcase_add_test(tc, test_type_path);
	tcase_add_test(tc, test_type_hex);
	tcase_add_test(tc, test_type_qos_map);
	suite_add_tcase(s, tc);

	tc = tcase_create("words");
	tcase_add_test(tc, test_needs_argument);
	tcase_add_test(tc, test_unknown_words);
	suite_add_tcase(s, tc);

	tc = tcase_create("required");
	tcase_add_test(tc, test_required);
	tcase_add_test(tc, test_nothing_required);
	suite_add_tcase(s, tc);

	tc = tcase_create("groups");
	tcase_add_test(tc, test_groups);
	suite_add_tcase(s, tc);

	tc = tcase_create("positional");
	tcase_add_test(tc, test_positional);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, test_get_last);
	tcase_add_test(tc, test_error_changes_nothing);
	tcase_add_test(tc, test_too_many);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return check_main(grammar_suite());
}
