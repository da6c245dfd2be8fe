/*
 * fuzz_ctl.c - libFuzzer target for the control requests: the splitting
 * of a request off the wire (ctl_request_end, ctl_request_split), the
 * command lookup and lexer (lib/grammar.c, lib/lex.c), the dispatch and
 * the handlers (switch/ctl_*.c) and the operations under them
 * (switch/ops_*.c), on a whole switch of memory ports - no socket, no
 * device: ctl_run() is what the control socket calls with each request.
 *
 * Input: requests in the wire format, one after the other, as a client
 * sends them (lib/ctl_wire.h: one word per line, an empty line after
 * each), at most MAX_REQUESTS of them.  One word more than the daemon
 * knows: "inject\nDEV\nHEX\n\n" sends the frame HEX into port DEV
 * through the data plane, so that the table learns and requests meet
 * learned entries.
 *
 * Neutralised: requests that would open a file or hand the connection
 * to a stream - capture start, trace, dump, monitor, and explain with a
 * pcap file - are split and lexed as any other (ctl_parse()'s path), but
 * not run.  `explain ... frame HEX` runs; so do capture show and stop,
 * which never find a capture here.
 *
 * One switch serves every input (sw_init() once, port kind "mem"), and
 * is put back to its first state before each: every port removed, every
 * setting as the first `show` had it (a `set` request made from that
 * answer), the table empty - and checked to be so.  Rebuilding it for
 * each input would cost an rcu_barrier() each, 10 ms with liburcu's
 * batching call_rcu thread.  What carries over are the table's
 * cumulative counters (learned, moved, ...) that `show` prints; no check
 * here reads them.
 *
 * Checked, for every request run:
 *   - ctl_run() returns 0 and no stream took the request over;
 *   - the answer is text ending with "status N" and its empty line, N the
 *     request's status (0 or -errno), and parses (ctl_response_parse(),
 *     ctl_stream_next()) to that status with nothing left over; a failure
 *     has its "Error: ..." line and no records (no partial output), a
 *     success no "Error: " line (a note may come with it);
 *   - a request that failed, and any that only reads (the shows,
 *     explain, capture stop), changed nothing: ports, their flags, VLANs
 *     and PCP maps, the settings and the table are as before (all or
 *     nothing);
 *   - a change that succeeded is there: the port `port add` added is in
 *     `port show`, the one `port del` removed is not, the flags and maps
 *     of `port set`, the VLANs of `vlan add` and `vlan del`, the entries
 *     of `fdb add`, `replace`, `del` and `flush`, the settings of `set`
 *     in `show`'s answer.
 */
#include "switch/ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "fuzz/fuzz_common.h"
#include "lib/ctl_wire.h"
#include "lib/mac.h"
#include "lib/rcu.h"

#define MAX_REQUESTS	32
#define MAX_PORTS	64	/* at most one a request */

static struct sw fz_sw;
#define SW (&fz_sw)

/* ---- the switch's state, as the checks compare it ---- */

struct snap_port {
	uint32_t index;
	char name[IFNAMSIZ];
	uint32_t flags;
	struct dp_vlan_cfg vc;
};

struct snap {
	unsigned int n_ports;
	struct snap_port port[MAX_PORTS];
	uint32_t ageing_s, max_learned;
	uint16_t gfm, tpid, default_pvid;
	bool filtering;
	size_t n_fdb, cap_fdb;
	struct fdb_entry_info *fdb;	/* sorted, updated_ms left out */
};

static void snap_fdb_add(const struct fdb_entry_info *info, void *arg)
{
	struct snap *s = arg;

	if (s->n_fdb == s->cap_fdb) {
		size_t cap = s->cap_fdb ? 2 * s->cap_fdb : 64;
		struct fdb_entry_info *v = realloc(s->fdb, cap * sizeof(*v));

		fuzz_assert(v, "out of memory");
		s->fdb = v;
		s->cap_fdb = cap;
	}
	s->fdb[s->n_fdb] = *info;
	/* When it was last seen is not state a request changes. */
	s->fdb[s->n_fdb].updated_ms = 0;
	s->n_fdb++;
}

static int fdb_info_cmp(const void *pa, const void *pb)
{
	const struct fdb_entry_info *a = pa, *b = pb;

	if (a->vid != b->vid)
		return a->vid < b->vid ? -1 : 1;
	return memcmp(a->mac, b->mac, 6);
}

/* Take @s (its fdb array is reused). */
static void snap_take(struct snap *s)
{
	uint32_t idx[DP_MAX_PORTS];
	unsigned int n;

	sw_lock(SW);
	n = dp_port_list(SW->dp, idx, DP_MAX_PORTS);
	fuzz_assert(n <= MAX_PORTS, "%u ports", n);
	s->n_ports = n;
	for (unsigned int k = 0; k < n; k++) {
		struct snap_port *p = &s->port[k];
		struct dp_port_info info;

		memset(p, 0, sizeof(*p));
		fuzz_assert(!dp_port_get_info(SW->dp, idx[k], &info) &&
			    !dp_port_get_vlan(SW->dp, idx[k], &p->vc),
			    "port %u listed, not there", idx[k]);
		p->index = idx[k];
		memcpy(p->name, info.name, IFNAMSIZ);
		p->flags = info.flags;
	}
	s->ageing_s = __atomic_load_n(&SW->ageing_s, __ATOMIC_RELAXED);
	s->max_learned = fdb_get_max_learned(SW->fdb);
	s->gfm = dp_get_group_fwd_mask(SW->dp);
	s->tpid = dp_get_vlan_protocol(SW->dp);
	s->default_pvid = dp_get_default_pvid(SW->dp);
	s->filtering = dp_get_vlan_filtering(SW->dp);
	s->n_fdb = 0;
	fdb_dump(SW->fdb, snap_fdb_add, s);
	if (s->n_fdb)
		qsort(s->fdb, s->n_fdb, sizeof(*s->fdb), fdb_info_cmp);
	sw_unlock(SW);
}

/* What differs between @a and @b, or NULL. */
static const char *snap_diff(const struct snap *a, const struct snap *b)
{
	if (a->n_ports != b->n_ports)
		return "the number of ports";
	for (unsigned int k = 0; k < a->n_ports; k++) {
		const struct snap_port *p = &a->port[k], *q = &b->port[k];

		if (p->index != q->index || strcmp(p->name, q->name))
			return "a port's name or index";
		if (p->flags != q->flags)
			return "a port's flags";
		if (memcmp(&p->vc.mbr, &q->vc.mbr, sizeof(p->vc.mbr)))
			return "a port's VLANs";
		if (memcmp(&p->vc.ingress_qos, &q->vc.ingress_qos, 8) ||
		    memcmp(&p->vc.egress_qos, &q->vc.egress_qos, 8))
			return "a port's PCP maps";
	}
	if (a->ageing_s != b->ageing_s || a->max_learned != b->max_learned ||
	    a->gfm != b->gfm || a->tpid != b->tpid ||
	    a->default_pvid != b->default_pvid ||
	    a->filtering != b->filtering)
		return "a setting";
	if (a->n_fdb != b->n_fdb ||
	    (a->n_fdb && memcmp(a->fdb, b->fdb, a->n_fdb * sizeof(*a->fdb))))
		return "the table";
	return NULL;
}

static const struct snap_port *snap_port(const struct snap *s,
					 const char *name)
{
	for (unsigned int k = 0; k < s->n_ports; k++)
		if (!strcmp(s->port[k].name, name))
			return &s->port[k];
	return NULL;
}

static const struct fdb_entry_info *snap_fdb(const struct snap *s,
					     uint16_t vid, const uint8_t *mac)
{
	for (size_t k = 0; k < s->n_fdb; k++)
		if (s->fdb[k].vid == vid && !memcmp(s->fdb[k].mac, mac, 6))
			return &s->fdb[k];
	return NULL;
}

static struct snap snap_first, snap_before, snap_after;

/* ---- running a request, checking its answer ---- */

/* The words of a request, for the messages. */
static const char *words(int argc, char *const argv[])
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && n < sizeof(buf) - 1; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
			      argv[i]);
	return buf;
}

/*
 * Run @argv through ctl_run() and check its answer; the parsed answer in
 * *@resp (free it).  Returns the request's status.
 */
static int run(int argc, char *argv[], struct ctl_response *resp)
{
	struct ctl_answer ans;
	struct ctl_stream st;
	const char *last;
	char *end;
	FILE *in;
	int ret;

	ret = ctl_run(SW, argc, argv, -1, &ans);
	fuzz_assert(ret == 0, "ctl_run %d for \"%s\"", ret,
		    words(argc, argv));
	fuzz_assert(!ans.handed_off, "a stream took \"%s\"",
		    words(argc, argv));
	fuzz_assert(ans.text && ans.len >= 10 && strlen(ans.text) == ans.len &&
		    ans.text[ans.len - 1] == '\n' &&
		    ans.text[ans.len - 2] == '\n',
		    "the answer to \"%s\" does not end with its empty line",
		    words(argc, argv));
	fuzz_assert(ans.status <= 0 && ans.status >= -4095,
		    "status %d", ans.status);
	/* The last line: the status. */
	for (last = ans.text + ans.len - 2; last > ans.text && last[-1] != '\n';
	     last--)
		;
	fuzz_assert(!strncmp(last, "status ", 7) &&
		    strtol(last + 7, &end, 10) == ans.status &&
		    end == ans.text + ans.len - 2,
		    "\"%s\": last line \"%.*s\", status %d", words(argc, argv),
		    (int)(ans.text + ans.len - 1 - last), last, ans.status);

	in = fmemopen(ans.text, ans.len, "r");
	fuzz_assert(in, "fmemopen");
	ret = ctl_response_parse(in, resp);
	fuzz_assert(ret == 0, "\"%s\": its answer does not parse (%d)",
		    words(argc, argv), ret);
	fuzz_assert(fgetc(in) == EOF, "\"%s\": text after the answer",
		    words(argc, argv));
	fclose(in);
	fuzz_assert(resp->status == ans.status, "parsed status %d, sent %d",
		    resp->status, ans.status);
	if (ans.status) {
		fuzz_assert(resp->error && !strncmp(resp->error, "Error: ", 7),
			    "\"%s\" failed (%d) without an error line",
			    words(argc, argv), ans.status);
		fuzz_assert(!resp->n_records,
			    "\"%s\" failed with %u records: partial output",
			    words(argc, argv), resp->n_records);
	}
	/* A success may carry a line too: a note (a slow port removal's
	 * warning), never an error. */
	fuzz_assert(ans.status || !resp->error ||
		    strncmp(resp->error, "Error: ", 7),
		    "\"%s\" succeeded with \"%s\"", words(argc, argv),
		    resp->error);

	/* The client's record-by-record reader agrees. */
	in = fmemopen(ans.text, ans.len, "r");
	fuzz_assert(in, "fmemopen");
	ctl_stream_init(&st);
	ret = ctl_stream_next(in, &st);
	fuzz_assert(ret == 0 && !st.streaming && st.ended &&
		    st.resp.status == ans.status &&
		    st.resp.n_records == resp->n_records,
		    "\"%s\": ctl_stream_next %d, %u records of %u",
		    words(argc, argv), ret, st.resp.n_records,
		    resp->n_records);
	ctl_stream_free(&st);
	fclose(in);
	free(ans.text);
	return ans.status;
}

/* Run a request of the harness's own (a show, to check an answer). */
static int run_words(struct ctl_response *resp, int argc, ...)
{
	char *argv[8];
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	return run(argc, argv, resp);
}

static const char *field(const struct ctl_record *rec, const char *key)
{
	const struct ctl_field *f = ctl_record_get(rec, key);

	return f ? f->value : NULL;
}

/* Whether `port show` lists port @name. */
static bool port_listed(const char *name)
{
	struct ctl_response resp;
	bool found = false;

	fuzz_assert(!run_words(&resp, 2, "port", "show"), "port show failed");
	for (unsigned int i = 0; i < resp.n_records; i++) {
		const char *ifname = field(&resp.records[i], "ifname");

		fuzz_assert(!strcmp(resp.records[i].kind, "port") && ifname,
			    "port show: a record without ifname");
		if (!strcmp(ifname, name)) {
			fuzz_assert(!found, "port show: %s twice", name);
			found = true;
		}
	}
	fuzz_assert(resp.n_records == snap_after.n_ports,
		    "port show: %u records, %u ports", resp.n_records,
		    snap_after.n_ports);
	ctl_response_free(&resp);
	return found;
}

/* ---- what a change that succeeded must have done ---- */

/* The VIDs an fdb request without "vlan" means, on port @p. */
static bool fdb_vid_in(const struct snap *s, const struct snap_port *p,
		       const struct gr_args *a, uint16_t vid)
{
	const struct gr_value *v = gr_get(a, "vlan");

	if (v)
		return vid == v->u32;
	if (!s->filtering)
		return vid == 0;
	return vlan_is_member(&p->vc.mbr, vid);
}

static void check_fdb_change(enum gr_cmd_id id, const struct gr_args *a)
{
	const struct gr_value *mac = gr_get(a, "mac"), *dev = gr_get(a, "dev");
	const struct snap_port *p;
	uint32_t want_flags = (gr_get(a, "dynamic") ? 0 : FDB_STATIC) |
			      (gr_get(a, "sticky") ? FDB_STICKY : 0);
	unsigned int n = 0;

	if (id == GR_CMD_FDB_FLUSH) {
		const struct gr_value *vlan = gr_get(a, "vlan");

		p = dev ? snap_port(&snap_after, dev->word) : NULL;
		for (size_t k = 0; k < snap_after.n_fdb; k++) {
			const struct fdb_entry_info *e = &snap_after.fdb[k];

			if (p && e->port != p->index)
				continue;
			if (vlan && e->vid != vlan->u32)
				continue;
			if (gr_get(a, "static") && !(e->flags & FDB_STATIC))
				continue;
			if (gr_get(a, "dynamic") && (e->flags & FDB_STATIC))
				continue;
			fuzz_fail("fdb flush left an entry that matches");
		}
		return;
	}
	fuzz_assert(mac && dev, "fdb change without mac or dev");
	p = snap_port(&snap_after, dev->word);
	fuzz_assert(p, "fdb change on %s, no such port", dev->word);
	for (uint32_t vid = 0; vid < VLAN_N_VID; vid++) {
		const struct fdb_entry_info *e;

		if (!fdb_vid_in(&snap_before, p, a, (uint16_t)vid))
			continue;
		e = snap_fdb(&snap_after, (uint16_t)vid, mac->mac);
		n++;
		if (id == GR_CMD_FDB_DEL) {
			fuzz_assert(!e || e->port != p->index,
				    "fdb del: the entry in VLAN %u is there",
				    vid);
			continue;
		}
		fuzz_assert(e && e->port == p->index,
			    "fdb add: no entry in VLAN %u on %s", vid,
			    dev->word);
		fuzz_assert((e->flags & (FDB_STATIC | FDB_STICKY)) ==
			    want_flags,
			    "fdb add: flags %#x, want %#x", e->flags,
			    want_flags);
	}
	fuzz_assert(n, "fdb change in no VLAN succeeded");
}

static void check_vlan_change(enum gr_cmd_id id, const struct gr_args *a)
{
	const struct gr_value *dev = gr_get(a, "dev"), *vid = gr_get(a, "vid");
	const struct snap_port *p;

	fuzz_assert(dev && vid, "vlan change without dev or vid");
	p = snap_port(&snap_after, dev->word);
	fuzz_assert(p, "vlan change on %s, no such port", dev->word);
	for (uint32_t v = vid->vids.lo; v <= vid->vids.hi; v++) {
		bool member = vlan_is_member(&p->vc.mbr, (uint16_t)v);

		if (id == GR_CMD_VLAN_DEL) {
			fuzz_assert(!member && p->vc.mbr.pvid != v,
				    "vlan del: %u still there", v);
			continue;
		}
		fuzz_assert(member, "vlan add: %u not there", v);
		fuzz_assert(vlan_bit(p->vc.mbr.untagged, (uint16_t)v) ==
			    !!gr_get(a, "untagged"),
			    "vlan add: %u untagged wrong", v);
		fuzz_assert((p->vc.mbr.pvid == v) == !!gr_get(a, "pvid"),
			    "vlan add: pvid %u, VLAN %u", p->vc.mbr.pvid, v);
	}
}

static void check_port_set(const struct gr_args *a)
{
	static const struct {
		const char *key;
		uint32_t flag;
	} flags[] = {
		{ "learning", DP_PORT_LEARNING },
		{ "flood", DP_PORT_FLOOD },
		{ "mcast_flood", DP_PORT_MCAST_FLOOD },
		{ "bcast_flood", DP_PORT_BCAST_FLOOD },
		{ "reorder_hdr", DP_PORT_REORDER_HDR },
		{ "offload", DP_PORT_OFFLOAD },
	};
	const struct gr_value *dev = gr_get(a, "dev");
	const struct snap_port *before, *after;
	struct vlan_qos_map in, eg;

	fuzz_assert(dev, "port set without dev");
	before = snap_port(&snap_before, dev->word);
	after = snap_port(&snap_after, dev->word);
	fuzz_assert(before && after, "port set on %s, no such port",
		    dev->word);
	in = before->vc.ingress_qos;
	eg = before->vc.egress_qos;
	for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
		const struct gr_value *v = gr_get(a, flags[k].key);
		uint32_t want = before->flags & flags[k].flag;

		if (v)
			want = v->on ? flags[k].flag : 0;
		fuzz_assert((after->flags & flags[k].flag) == want,
			    "port set: %s wrong", flags[k].key);
	}
	/* The map words, in the order given, on top of the maps there. */
	for (unsigned int i = 0; i < a->n; i++) {
		const struct gr_value *v = &a->v[i];
		struct vlan_qos_map *map;

		if (v->arg->type != GR_QOS_MAP)
			continue;
		map = !strcmp(v->arg->key, "ingress_qos_map") ? &in : &eg;
		for (unsigned int w = 0; w < v->list.n; w++) {
			const char *word = v->list.words[w];

			fuzz_assert(strlen(word) == 3 && word[1] == ':',
				    "port set: map word \"%s\" taken", word);
			map->to[word[0] - '0'] = (uint8_t)(word[2] - '0');
		}
	}
	fuzz_assert(!memcmp(&in, &after->vc.ingress_qos, sizeof(in)) &&
		    !memcmp(&eg, &after->vc.egress_qos, sizeof(eg)),
		    "port set: PCP maps not as asked");
}

/* `set`: the last value of each setting given is in `show`. */
static void check_set(const struct gr_args *a)
{
	struct ctl_response resp;
	const struct ctl_record *rec;

	fuzz_assert(!run_words(&resp, 1, "show"), "show failed");
	fuzz_assert(resp.n_records == 1 &&
		    !strcmp(resp.records[0].kind, "switch"),
		    "show: %u records", resp.n_records);
	rec = &resp.records[0];
	for (unsigned int i = 0; i < a->n; i++) {
		const struct gr_value *v = &a->v[i];
		const char *key = v->arg->key, *got = field(rec, key);
		char want[16];

		if (gr_get(a, key) != v)
			continue;	/* a later one wins */
		if (v->arg->type == GR_CHOICE)
			snprintf(want, sizeof(want), "%s",
				 v->arg->choices[v->choice]);
		else
			snprintf(want, sizeof(want), "%u", v->u32);
		fuzz_assert(got && !strcmp(got, want),
			    "set %s %s: show says %s", key, want,
			    got ? got : "nothing");
	}
	ctl_response_free(&resp);
}

/* ---- one request ---- */

/* The harness's own word: "inject DEV HEX". */
static void inject(int argc, char *argv[])
{
	uint8_t frame[GR_HEX_MAX];
	struct dp_frame f = { .data = frame };
	int index;

	if (argc != 3)
		return;
	for (const char *h = argv[2];
	     h[0] && h[1] && f.len < sizeof(frame); h += 2) {
		unsigned int byte;

		if (sscanf(h, "%2x", &byte) != 1)
			break;
		frame[f.len++] = (uint8_t)byte;
	}
	sw_lock(SW);
	index = dp_port_lookup(SW->dp, argv[1]);
	sw_unlock(SW);
	if (index < 0)
		return;
	/* A poll thread's context: online, outside the lock. */
	rcu_thread_online();
	dp_input(SW->dp, (uint32_t)index, &f, 1, dp_now_ms());
	rcu_offline();
}

/*
 * Whether the request may run here: not one that opens a file or starts
 * a stream.  @cmd and @a are the lexed request (NULL when it does not
 * lex: then ctl_run() answers with the error and runs no handler).
 */
static bool runnable(const struct gr_cmd *cmd, const struct gr_args *a)
{
	if (!cmd)
		return true;
	switch (cmd->id) {
	case GR_CMD_CAPTURE_START:
	case GR_CMD_TRACE:
	case GR_CMD_DUMP:
	case GR_CMD_MONITOR:
		return false;
	case GR_CMD_EXPLAIN:
		return !gr_get(a, "pcap");
	default:
		return true;
	}
}

static bool read_only(enum gr_cmd_id id)
{
	switch (id) {
	case GR_CMD_PORT_SHOW:
	case GR_CMD_FDB_SHOW:
	case GR_CMD_VLAN_SHOW:
	case GR_CMD_SHOW:
	case GR_CMD_CAPTURE_SHOW:
	case GR_CMD_CAPTURE_STOP:
	case GR_CMD_EXPLAIN:
		return true;
	default:
		return false;
	}
}

static void one_request(int argc, char *argv[])
{
	const struct gr_cmd *cmd;
	struct ctl_response resp;
	const struct gr_value *dev;
	struct gr_args args;
	const char *diff;
	int first, status;

	if (argc >= 1 && !strcmp(argv[0], "inject")) {
		inject(argc, argv);
		return;
	}
	/* As ctl_run() finds and lexes it, to know what it will do. */
	cmd = gr_find_cmd(argc, argv, &first, NULL, 0);
	if (cmd && gr_lex(cmd, argc - first, argv + first, &args, NULL, 0))
		cmd = NULL;
	if (!runnable(cmd, &args))
		return;

	snap_take(&snap_before);
	status = run(argc, argv, &resp);
	ctl_response_free(&resp);
	snap_take(&snap_after);
	diff = snap_diff(&snap_before, &snap_after);
	if (status || !cmd || read_only(cmd->id)) {
		fuzz_assert(!diff, "\"%s\" (status %d) changed %s",
			    words(argc, argv), status, diff);
		return;
	}
	dev = gr_get(&args, "dev");
	switch (cmd->id) {
	case GR_CMD_PORT_ADD:
		fuzz_assert(dev && snap_port(&snap_after, dev->word) &&
			    port_listed(dev->word),
			    "port add %s: not there", dev ? dev->word : "?");
		break;
	case GR_CMD_PORT_DEL:
		fuzz_assert(dev && !snap_port(&snap_after, dev->word) &&
			    !port_listed(dev->word),
			    "port del %s: still there", dev ? dev->word : "?");
		break;
	case GR_CMD_PORT_SET:
		check_port_set(&args);
		break;
	case GR_CMD_VLAN_ADD:
	case GR_CMD_VLAN_DEL:
		check_vlan_change(cmd->id, &args);
		break;
	case GR_CMD_FDB_ADD:
	case GR_CMD_FDB_REPLACE:
	case GR_CMD_FDB_DEL:
	case GR_CMD_FDB_FLUSH:
		check_fdb_change(cmd->id, &args);
		break;
	case GR_CMD_SET:
		check_set(&args);
		break;
	default:
		break;
	}
}

/* ---- the switch, from one input to the next ---- */

/*
 * The request that puts every setting back: "set KEY VALUE ..." with each
 * field of the first `show` that is a keyword of `set` - so that a
 * setting added to the grammar is reset without a change here.
 */
static char *reset_argv[2 * 32 + 1];
static int reset_argc;

static void reset_request_make(void)
{
	const struct gr_cmd *set;
	struct ctl_response resp;
	char *argv[1] = { (char *)"set" };
	int first;

	set = gr_find_cmd(1, argv, &first, NULL, 0);
	fuzz_assert(set && set->id == GR_CMD_SET, "no set command");
	fuzz_assert(!run_words(&resp, 1, "show") && resp.n_records == 1,
		    "show");
	reset_argv[reset_argc++] = strdup("set");
	for (unsigned int i = 0; i < resp.records[0].n_fields; i++) {
		const struct ctl_field *f = &resp.records[0].fields[i];

		if (!gr_find_keyword(set, f->key) || reset_argc + 2 >
		    (int)(sizeof(reset_argv) / sizeof(reset_argv[0])))
			continue;
		reset_argv[reset_argc++] = strdup(f->key);
		reset_argv[reset_argc++] = strdup(f->value);
	}
	for (int i = 0; i < reset_argc; i++)
		fuzz_assert(reset_argv[i], "out of memory");
	ctl_response_free(&resp);
}

static void reset(void)
{
	uint32_t idx[DP_MAX_PORTS];
	struct ctl_response resp;
	unsigned int n;
	const char *diff;

	sw_lock(SW);
	n = dp_port_list(SW->dp, idx, DP_MAX_PORTS);
	for (unsigned int k = 0; k < n; k++)
		fuzz_assert(!sw_op_port_remove(SW, idx[k], NULL),
			    "reset: remove");
	sw_unlock(SW);
	fuzz_assert(!run(reset_argc, reset_argv, &resp), "reset: %s",
		    resp.error);
	ctl_response_free(&resp);
	sw_lock(SW);
	fdb_flush(SW->fdb, FDB_NO_PORT, FDB_ANY_VID, FDB_FLUSH_ALL);
	sw_unlock(SW);
	snap_take(&snap_before);
	diff = snap_diff(&snap_first, &snap_before);
	fuzz_assert(!diff, "reset: %s differs from the first state", diff);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rcu_register_thread();
	fuzz_assert(!sw_init(SW, SW_DEFAULT_MAX_LEARNED), "sw_init");
	/* Never a tap: `port add` makes memory ports. */
	SW->port_kind = "mem";
	/* The control thread's context: offline between requests. */
	rcu_offline();
	snap_take(&snap_first);
	reset_request_make();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	reset();
	for (unsigned int n = 0; n < MAX_REQUESTS && off < size; n++) {
		char *argv[CTL_MAX_WORDS], *buf;
		ssize_t end;
		int argc;

		/* As the control socket reads it: up to the empty line,
		 * CTL_MAX_REQUEST bytes at most. */
		end = ctl_request_end((const char *)data + off, size - off);
		if (end < 0 || end > CTL_MAX_REQUEST)
			break;
		/* Exactly the request's bytes: ASan sees a read past it. */
		buf = malloc((size_t)end);
		fuzz_assert(buf, "out of memory");
		memcpy(buf, data + off, (size_t)end);
		off += (size_t)end;
		argc = ctl_request_split(buf, (size_t)end, argv, CTL_MAX_WORDS);
		if (argc >= 0) {
			for (int i = 0; i < argc; i++)
				fuzz_assert(argv[i] >= buf &&
					    argv[i] + strlen(argv[i]) <
						    buf + end &&
					    !strchr(argv[i], '\n'),
					    "word %d split wrong", i);
			one_request(argc, argv);
		}
		free(buf);
	}
	return 0;
}
