/*
 * ctl_server.c - the control socket: parse a request, validate all of it,
 * then apply it under sw->lock and answer with data (cli/ctl_wire.h).
 *
 * One request per connection, served one at a time by one thread.  A
 * request is fully validated before anything changes or is printed; an
 * error is one line, "Error: argument "X" is wrong: why".
 */
#include "switch/sw.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "lib/rcu.h"

#include "lib/ctl_wire.h"
#include "lib/io.h"
#include "lib/mac.h"

#include <pcap/pcap.h>

struct sw_ctl {
	struct sw *sw;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int stop_fd;
	pthread_t thread;
};

/* One request being served. */
struct req {
	struct sw *sw;
	int argc;
	char **argv;
	FILE *out;
	int fd;			/* the client */
	bool handed_off;	/* a stream session owns @fd now */
	char error[256];
};

static int req_err(struct req *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int req_err(struct req *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return err;
}

static int invarg(struct req *r, const char *arg, const char *why)
{
	return req_err(r, -EINVAL, "Error: argument \"%s\" is wrong: %s", arg,
		       why);
}

/* iproute2's matches(): @arg is a non-empty prefix of @keyword. */
static bool matches(const char *arg, const char *keyword)
{
	size_t len = strlen(arg);

	return len && !strncmp(arg, keyword, len);
}

static int parse_u32(const char *arg, uint32_t max, uint32_t *val)
{
	unsigned long long v;
	char *end;

	if (!arg[0] || arg[0] == '-' || arg[0] == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*val = v;
	return 0;
}

/* "on"/"off" as bridge link set takes them. */
static int parse_on_off(struct req *r, const char *key, const char *arg,
			bool *val)
{
	if (!strcmp(arg, "on") || !strcmp(arg, "1"))
		*val = true;
	else if (!strcmp(arg, "off") || !strcmp(arg, "0"))
		*val = false;
	else
		return req_err(r, -EINVAL,
			       "Error: argument \"%s\" is wrong: %s takes on or off",
			       arg, key);
	return 0;
}

static int need_arg(struct req *r, int i, const char *key)
{
	if (i >= r->argc)
		return req_err(r, -EINVAL,
			       "Error: \"%s\" needs an argument", key);
	return 0;
}

static int lookup_port(struct req *r, const char *name, uint32_t *index)
{
	int i = dp_port_lookup(r->sw->dp, name);

	*index = FDB_NO_PORT;
	if (i < 0)
		return invarg(r, name, "no such port");
	*index = i;
	return 0;
}

static int parse_vid(struct req *r, const char *arg, uint16_t *vid)
{
	uint32_t v;

	if (parse_u32(arg, 4094, &v) || v == 0)
		return invarg(r, arg, "VLAN ID must be 1-4094");
	*vid = v;
	return 0;
}

/* ---- port ---- */

static int do_port_add(struct req *r)
{
	const char *why = "";
	int err;

	if (r->argc != 3)
		return req_err(r, -EINVAL, "Error: usage: port add IFNAME");
	err = sw_port_add_locked(r->sw, r->argv[2], &why);
	if (err)
		return invarg(r, r->argv[2], why);
	return 0;
}

static int do_port_del(struct req *r)
{
	uint32_t index;
	int i = 2, err;

	if (i < r->argc && !strcmp(r->argv[i], "dev"))
		i++;
	if (r->argc != i + 1)
		return req_err(r, -EINVAL, "Error: usage: port del IFNAME");
	err = lookup_port(r, r->argv[i], &index);
	if (err)
		return err;
	return sw_port_del_locked(r->sw, index);
}

/* A PCP map as the words `ip -d link show` prints: "FROM:TO" for every
 * entry that is not the identity. */
static void put_qos_map(FILE *out, const char *key,
			const struct vlan_qos_map *map)
{
	char words[8][4];
	const char *list[9];
	int n = 0;

	for (unsigned int from = 0; from < 8; from++) {
		if (map->to[from] == from)
			continue;
		/* Both are PCPs, 0..7: one digit each. */
		words[n][0] = (char)('0' + from);
		words[n][1] = ':';
		words[n][2] = (char)('0' + (map->to[from] & 7));
		words[n][3] = '\0';
		list[n] = words[n];
		n++;
	}
	list[n] = NULL;
	ctl_put_list(out, key, list);
}

static void put_qos_maps(struct req *r, uint32_t index)
{
	struct dp_vlan_cfg vc;

	if (dp_port_get_vlan(r->sw->dp, index, &vc))
		return;
	put_qos_map(r->out, "ingress_qos_map", &vc.ingress_qos);
	put_qos_map(r->out, "egress_qos_map", &vc.egress_qos);
}

static void put_port(struct req *r, uint32_t index)
{
	struct dp_port_info info;
	const struct dp_port_stats *s = &info.stats;
	FILE *out = r->out;

	if (dp_port_get_info(r->sw->dp, index, &info))
		return;
	ctl_put_obj(out, "port");
	ctl_put_str(out, "ifname", info.name);
	ctl_put_str(out, "kind", info.kind);
	ctl_put_str(out, "state",
		    info.flags & DP_PORT_UP ? "forwarding" : "disabled");
	ctl_put_str(out, "link", info.flags & DP_PORT_UP ? "up" : "down");
	ctl_put_bool(out, "learning", info.flags & DP_PORT_LEARNING);
	ctl_put_bool(out, "flood", info.flags & DP_PORT_FLOOD);
	ctl_put_bool(out, "mcast_flood", info.flags & DP_PORT_MCAST_FLOOD);
	ctl_put_bool(out, "bcast_flood", info.flags & DP_PORT_BCAST_FLOOD);
	ctl_put_bool(out, "reorder_hdr", info.flags & DP_PORT_REORDER_HDR);
	ctl_put_bool(out, "offload", info.flags & DP_PORT_OFFLOAD);
	if (info.io)
		ctl_put_str(out, "io", info.io);
	if (info.io_buffers)
		ctl_put_str(out, "io_buffers", info.io_buffers);
	put_qos_maps(r, index);
	ctl_put_num(out, "stats.rx_packets", s->rx_packets);
	ctl_put_num(out, "stats.rx_bytes", s->rx_bytes);
	ctl_put_num(out, "stats.tx_packets", s->tx_packets);
	ctl_put_num(out, "stats.tx_bytes", s->tx_bytes);
	ctl_put_num(out, "stats.flooded", s->flooded);
	ctl_put_num(out, "stats.drop_runt", s->drop_runt);
	ctl_put_num(out, "stats.drop_src", s->drop_src);
	ctl_put_num(out, "stats.drop_link_local", s->drop_link_local);
	ctl_put_num(out, "stats.drop_same_port", s->drop_same_port);
	ctl_put_num(out, "stats.drop_port_down", s->drop_port_down);
	ctl_put_num(out, "stats.drop_vlan", s->drop_vlan);
	ctl_put_num(out, "stats.drop_bad_tag", s->drop_bad_tag);
	ctl_put_num(out, "stats.drop_bad_offload", s->drop_bad_offload);
	ctl_put_num(out, "stats.drop_no_egress", s->drop_no_egress);
	ctl_put_num(out, "stats.tx_errors", s->tx_errors);
	ctl_put_num(out, "stats.rx_errors", s->rx_errors);
	ctl_put_num(out, "stats.tx_sw_csum", s->tx_sw_csum);
	ctl_put_num(out, "stats.tx_sw_gso", s->tx_sw_gso);
}

static int do_port_show(struct req *r)
{
	uint32_t idx[DP_MAX_PORTS], index;
	unsigned int n;
	int i = 2, err;

	if (i < r->argc && !strcmp(r->argv[i], "dev")) {
		err = need_arg(r, ++i, "dev");
		if (err)
			return err;
	}
	if (i < r->argc) {
		if (r->argc != i + 1)
			return invarg(r, r->argv[i + 1], "unexpected");
		err = lookup_port(r, r->argv[i], &index);
		if (err)
			return err;
		put_port(r, index);
		return 0;
	}
	n = dp_port_list(r->sw->dp, idx, DP_MAX_PORTS);
	for (unsigned int k = 0; k < n; k++)
		put_port(r, idx[k]);
	return 0;
}

static const struct {
	const char *name;
	uint32_t flag;
} port_flags[] = {
	{ "learning", DP_PORT_LEARNING },
	{ "flood", DP_PORT_FLOOD },
	{ "mcast_flood", DP_PORT_MCAST_FLOOD },
	{ "bcast_flood", DP_PORT_BCAST_FLOOD },
	{ "reorder_hdr", DP_PORT_REORDER_HDR },
	{ "offload", DP_PORT_OFFLOAD },
};

/* How many FROM:TO words follow position @i. */
static int count_map_words(struct req *r, int i)
{
	int n = 0;

	while (i + n < r->argc && strchr(r->argv[i + n], ':'))
		n++;
	return n;
}

static int do_port_set(struct req *r)
{
	uint32_t index, mask = 0, value = 0;
	struct dp_vlan_cfg vc;
	bool set_vlan = false;
	int i = 2, err;

	if (i < r->argc && !strcmp(r->argv[i], "dev"))
		i++;
	if (i >= r->argc)
		return req_err(r, -EINVAL,
			       "Error: usage: port set IFNAME FLAG on|off ...");
	err = lookup_port(r, r->argv[i], &index);
	if (err)
		return err;
	err = dp_port_get_vlan(r->sw->dp, index, &vc);
	if (err)
		return err;
	for (i++; i < r->argc; i += 2) {
		unsigned int k;
		bool on = false;

		/* ingress_qos_map 1:2 3:4 ..., as ip link's vlan options. */
		if (!strcmp(r->argv[i], "ingress_qos_map") ||
		    !strcmp(r->argv[i], "ingress-qos-map") ||
		    !strcmp(r->argv[i], "egress_qos_map") ||
		    !strcmp(r->argv[i], "egress-qos-map")) {
			struct vlan_qos_map *map = r->argv[i][0] == 'i' ?
				&vc.ingress_qos : &vc.egress_qos;
			int n = count_map_words(r, i + 1);

			if (!n)
				return req_err(r, -EINVAL,
					       "Error: \"%s\" needs FROM:TO words",
					       r->argv[i]);
			if (vlan_qos_map_parse(map, n, r->argv + i + 1))
				return invarg(r, r->argv[i + 1],
					      "a PCP map word is FROM:TO, each 0-7");
			set_vlan = true;
			i += n - 1;
			continue;
		}
		for (k = 0; k < sizeof(port_flags) / sizeof(port_flags[0]); k++)
			if (!strcmp(r->argv[i], port_flags[k].name))
				break;
		if (k == sizeof(port_flags) / sizeof(port_flags[0]))
			return invarg(r, r->argv[i], "unknown port setting");
		err = need_arg(r, i + 1, r->argv[i]);
		if (!err)
			err = parse_on_off(r, r->argv[i], r->argv[i + 1], &on);
		if (err)
			return err;
		mask |= port_flags[k].flag;
		value = on ? value | port_flags[k].flag
			   : value & ~port_flags[k].flag;
	}
	if (!mask && !set_vlan)
		return req_err(r, -EINVAL, "Error: port set: nothing to set");
	if ((mask & value & DP_PORT_OFFLOAD) &&
	    !dp_port_get(r->sw->dp, index)->offload_caps)
		return req_err(r, -EOPNOTSUPP,
			       "Error: argument \"offload\" is wrong: %s takes no offloads",
			       dp_port_get(r->sw->dp, index)->name);
	if (set_vlan) {
		err = dp_port_set_vlan(r->sw->dp, index, &vc);
		if (err)
			return err;
	}
	/* As in Linux, learning off keeps what was already learned. */
	if (!mask)
		return 0;
	err = dp_port_set_flags(r->sw->dp, index, mask, value);
	if (err)
		return req_err(r, err, "Error: port set: %s", strerror(-err));
	return 0;
}

/* ---- fdb ---- */

/* The optional words shared by fdb add/del/show/flush. */
struct fdb_args {
	uint8_t mac[6];
	bool has_mac;
	uint32_t port;		/* FDB_NO_PORT: none given */
	uint16_t vid;		/* FDB_ANY_VID: none given */
	bool is_static, is_dynamic, sticky, all;
};

static int parse_fdb_args(struct req *r, int i, bool want_mac,
			  const char *const *allowed, struct fdb_args *a)
{
	int err;

	memset(a, 0, sizeof(*a));
	a->port = FDB_NO_PORT;
	a->vid = FDB_ANY_VID;
	if (want_mac) {
		if (i >= r->argc)
			return req_err(r, -EINVAL,
				       "Error: a MAC address is needed");
		if (mac_parse(r->argv[i], a->mac))
			return invarg(r, r->argv[i],
				      "not a MAC address (xx:xx:xx:xx:xx:xx)");
		a->has_mac = true;
		i++;
	}
	for (; i < r->argc; i++) {
		const char *w = r->argv[i];
		bool ok = false;

		for (int k = 0; allowed[k]; k++)
			ok |= !strcmp(w, allowed[k]);
		if (!ok)
			return invarg(r, w, "unexpected here");
		if (!strcmp(w, "dev")) {
			err = need_arg(r, ++i, w);
			if (!err)
				err = lookup_port(r, r->argv[i], &a->port);
		} else if (!strcmp(w, "vlan")) {
			err = need_arg(r, ++i, w);
			if (!err)
				err = parse_vid(r, r->argv[i], &a->vid);
		} else {
			err = 0;
			if (!strcmp(w, "static"))
				a->is_static = true;
			else if (!strcmp(w, "dynamic"))
				a->is_dynamic = true;
			else if (!strcmp(w, "sticky"))
				a->sticky = true;
			else if (!strcmp(w, "all"))
				a->all = true;
		}
		if (err)
			return err;
	}
	if (a->is_static + a->is_dynamic + a->all > 1)
		return req_err(r, -EINVAL,
			       "Error: static, dynamic and all exclude each other");
	return 0;
}

/*
 * The VLANs an fdb add/replace/del without "vlan" applies to: VID 0 while
 * filtering is off; with it on, every VLAN of the port, as Linux's
 * br_fdb_add "adds the entry for every vlan on this port" (Linux also
 * adds one for VID 0, which no lookup uses while filtering is on; we do
 * not).  Returns how many VIDs are in @vids.
 */
static unsigned int fdb_target_vids(struct req *r, const struct fdb_args *a,
				    uint16_t *vids)
{
	struct dp_vlan_cfg vc;
	unsigned int n = 0;

	if (a->vid != FDB_ANY_VID) {
		vids[n++] = a->vid;
		return n;
	}
	if (!dp_get_vlan_filtering(r->sw->dp) ||
	    dp_port_get_vlan(r->sw->dp, a->port, &vc)) {
		vids[n++] = 0;
		return n;
	}
	for (uint16_t vid = 1; vid < VLAN_N_VID - 1; vid++)
		if (vlan_is_member(&vc.mbr, vid))
			vids[n++] = vid;
	return n;
}

static int fdb_add_or_replace(struct req *r, bool replace)
{
	uint16_t vids[VLAN_N_VID];
	unsigned int n;
	static const char *const allowed[] = {
		"dev", "vlan", "static", "dynamic", "sticky", NULL
	};
	struct fdb_args a;
	uint32_t flags;
	int err;

	err = parse_fdb_args(r, 2, true, allowed, &a);
	if (err)
		return err;
	if (a.port == FDB_NO_PORT)
		return req_err(r, -EINVAL, "Error: fdb add needs dev IFNAME");
	if ((a.mac[0] & 1) || !(a.mac[0] | a.mac[1] | a.mac[2] | a.mac[3] |
				a.mac[4] | a.mac[5]))
		return invarg(r, r->argv[2], "not a unicast MAC address");
	flags = a.is_dynamic ? 0 : FDB_STATIC;
	if (a.sticky)
		flags |= FDB_STICKY;
	/* As br_fdb_add(): "FDB entry with unconfigured vlan". */
	if (a.vid != FDB_ANY_VID) {
		struct dp_vlan_cfg vc;

		if (dp_port_get_vlan(r->sw->dp, a.port, &vc) ||
		    !vlan_is_member(&vc.mbr, a.vid))
			return req_err(r, -EINVAL,
				       "Error: argument \"%u\" is wrong: "
				       "the port is not a member of that VLAN",
				       a.vid);
	}
	n = fdb_target_vids(r, &a, vids);
	if (!n)
		return invarg(r, r->argv[2], "the port is in no VLAN");
	/* All or nothing: look for an existing entry before adding any. */
	if (!replace) {
		bool exists = false;

		rcu_read_begin();
		for (unsigned int k = 0; k < n && !exists; k++)
			exists = fdb_lookup_rcu(r->sw->fdb, vids[k], a.mac) !=
				 FDB_NO_PORT;
		rcu_read_end();
		if (exists)
			return invarg(r, r->argv[2],
				      "an entry exists; use fdb replace");
	}
	for (unsigned int k = 0; k < n; k++) {
		err = fdb_insert(r->sw->fdb, vids[k], a.mac, a.port, flags,
				 dp_now_ms(), true);
		if (err)
			return req_err(r, err, "Error: out of memory");
	}
	return 0;
}

/* As `bridge fdb add`: fails if the MAC is known (learned or not). */
static int do_fdb_add(struct req *r)
{
	return fdb_add_or_replace(r, false);
}

static int do_fdb_replace(struct req *r)
{
	return fdb_add_or_replace(r, true);
}

static int do_fdb_del(struct req *r)
{
	static const char *const allowed[] = { "dev", "vlan", NULL };
	uint16_t vids[VLAN_N_VID];
	unsigned int n, deleted = 0;
	struct fdb_args a;
	int err;

	err = parse_fdb_args(r, 2, true, allowed, &a);
	if (err)
		return err;
	if (a.port == FDB_NO_PORT)
		return req_err(r, -EINVAL, "Error: fdb del needs dev IFNAME");
	n = fdb_target_vids(r, &a, vids);
	for (unsigned int k = 0; k < n; k++)
		deleted += !fdb_del(r->sw->fdb, vids[k], a.mac, a.port);
	if (!deleted)
		return invarg(r, r->argv[2], "no such entry on that port");
	return 0;
}

static int do_fdb_flush(struct req *r)
{
	static const char *const allowed[] = {
		"dev", "vlan", "static", "dynamic", NULL
	};
	/* As `bridge fdb flush`: no state word, every state. */
	enum fdb_flush_kind kind = FDB_FLUSH_ALL;
	struct fdb_args a;
	int err;

	err = parse_fdb_args(r, 2, false, allowed, &a);
	if (err)
		return err;
	if (a.is_static)
		kind = FDB_FLUSH_STATIC;
	else if (a.is_dynamic)
		kind = FDB_FLUSH_DYNAMIC;
	fdb_flush(r->sw->fdb, a.port, a.vid, kind);
	return 0;
}

struct fdb_walk {
	struct fdb_entry_info *v;
	size_t n, cap;
	bool failed;
	uint32_t port;
	uint16_t vid;
};

static void fdb_collect(const struct fdb_entry_info *info, void *arg)
{
	struct fdb_walk *w = arg;

	if (w->port != FDB_NO_PORT && info->port != w->port)
		return;
	if (w->vid != FDB_ANY_VID && info->vid != w->vid)
		return;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct fdb_entry_info *v = realloc(w->v, cap * sizeof(*v));

		if (!v) {
			w->failed = true;
			return;
		}
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = *info;
}

static int fdb_info_cmp(const void *pa, const void *pb)
{
	const struct fdb_entry_info *a = pa, *b = pb;

	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->vid != b->vid)
		return a->vid < b->vid ? -1 : 1;
	return memcmp(a->mac, b->mac, 6);
}

static int do_fdb_show(struct req *r)
{
	static const char *const allowed[] = { "dev", "vlan", NULL };
	struct fdb_walk w = { 0 };
	struct fdb_args a;
	uint64_t now = dp_now_ms();
	int err;

	err = parse_fdb_args(r, 2, false, allowed, &a);
	if (err)
		return err;
	w.port = a.port;
	w.vid = a.vid;
	fdb_dump(r->sw->fdb, fdb_collect, &w);
	if (w.failed) {
		free(w.v);
		return req_err(r, -ENOMEM, "Error: out of memory");
	}
	if (w.n)
		qsort(w.v, w.n, sizeof(*w.v), fdb_info_cmp);
	for (size_t k = 0; k < w.n; k++) {
		const struct fdb_entry_info *e = &w.v[k];
		struct dp_port *port = dp_port_get(r->sw->dp, e->port);
		const char *flags[3] = { NULL };
		int nf = 0;
		char mac[18];

		if (!port)
			continue;	/* its port is being removed */
		mac_format(e->mac, mac);
		ctl_put_obj(r->out, "fdb");
		ctl_put_str(r->out, "mac", mac);
		ctl_put_str(r->out, "ifname", port->name);
		/* As Linux prints it: no vlan while filtering is off. */
		if (e->vid)
			ctl_put_num(r->out, "vlan", e->vid);
		if (e->flags & FDB_STATIC)
			flags[nf++] = "static";
		if (e->flags & FDB_STICKY)
			flags[nf++] = "sticky";
		ctl_put_list(r->out, "flags", flags);
		ctl_put_num(r->out, "age",
			    now > e->updated_ms ? (now - e->updated_ms) / 1000
						: 0);
	}
	free(w.v);
	return 0;
}

/* ---- switch-wide ---- */

static int do_show(struct req *r)
{
	struct fdb_stats st;
	FILE *out = r->out;

	if (r->argc > 1 && !matches(r->argv[1], "show"))
		return invarg(r, r->argv[1], "unexpected");
	fdb_get_stats(r->sw->fdb, &st);
	ctl_put_obj(out, "switch");
	ctl_put_str(out, "version", SW_VERSION);
	ctl_put_num(out, "ageing_time", r->sw->ageing_s);
	ctl_put_num(out, "max_learned", fdb_get_max_learned(r->sw->fdb));
	ctl_put_num(out, "group_fwd_mask", dp_get_group_fwd_mask(r->sw->dp));
	ctl_put_num(out, "vlan_filtering", dp_get_vlan_filtering(r->sw->dp));
	ctl_put_str(out, "vlan_protocol",
		    dp_get_vlan_protocol(r->sw->dp) == VLAN_TPID_8021AD ?
			    "802.1ad" : "802.1Q");
	ctl_put_num(out, "default_pvid", dp_get_default_pvid(r->sw->dp));
	ctl_put_num(out, "stp_state", 0);
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

/* Restricted as in Linux: STP, MAC pause and LACP are never forwarded. */
#define GROUP_FWD_RESTRICTED 0x0007

static int do_set(struct req *r)
{
	bool set_ageing = false, set_max = false, set_mask = false;
	bool set_filtering = false, set_proto = false, set_pvid = false;
	uint32_t ageing = 0, max = 0, mask = 0, filtering = 0, pvid = 0;
	uint16_t tpid = 0;
	int err;

	if (r->argc < 2)
		return req_err(r, -EINVAL,
			       "Error: usage: set ageing_time SEC | max_learned N | group_fwd_mask MASK");
	/* Validate every pair before changing anything. */
	for (int i = 1; i < r->argc; i += 2) {
		const char *key = r->argv[i];

		err = need_arg(r, i + 1, key);
		if (err)
			return err;
		if (!strcmp(key, "ageing_time")) {
			if (parse_u32(r->argv[i + 1], SW_MAX_AGEING_S, &ageing))
				return invarg(r, r->argv[i + 1],
					      "ageing_time is 0-1000000 seconds");
			set_ageing = true;
		} else if (!strcmp(key, "max_learned")) {
			if (parse_u32(r->argv[i + 1], UINT32_MAX, &max))
				return invarg(r, r->argv[i + 1],
					      "max_learned is 0-4294967295");
			set_max = true;
		} else if (!strcmp(key, "group_fwd_mask")) {
			if (parse_u32(r->argv[i + 1], 0xffff, &mask))
				return invarg(r, r->argv[i + 1],
					      "group_fwd_mask is 0-0xffff");
			if (mask & GROUP_FWD_RESTRICTED)
				return invarg(r, r->argv[i + 1],
					      "bits 0-2 (STP, pause, LACP) cannot be forwarded");
			set_mask = true;
		} else if (!strcmp(key, "vlan_filtering")) {
			if (parse_u32(r->argv[i + 1], 1, &filtering))
				return invarg(r, r->argv[i + 1],
					      "vlan_filtering is 0 or 1");
			set_filtering = true;
		} else if (!strcmp(key, "vlan_protocol")) {
			if (!strcasecmp(r->argv[i + 1], "802.1Q"))
				tpid = VLAN_TPID_8021Q;
			else if (!strcasecmp(r->argv[i + 1], "802.1ad"))
				tpid = VLAN_TPID_8021AD;
			else
				return invarg(r, r->argv[i + 1],
					      "vlan_protocol is 802.1Q or 802.1ad");
			set_proto = true;
		} else if (!strcmp(key, "default_pvid")) {
			if (parse_u32(r->argv[i + 1], 4094, &pvid))
				return invarg(r, r->argv[i + 1],
					      "default_pvid is 0 (none) or 1-4094");
			set_pvid = true;
		} else {
			return invarg(r, key, "unknown setting");
		}
	}
	if (set_mask) {
		err = dp_set_group_fwd_mask(r->sw->dp, mask);
		if (err)
			return req_err(r, err, "Error: out of memory");
	}
	if (set_max)
		fdb_set_max_learned(r->sw->fdb, max);
	if (set_ageing) {
		err = sw_set_ageing_locked(r->sw, ageing);
		if (err)
			return req_err(r, err, "Error: out of memory");
	}
	err = 0;
	if (set_proto)
		err = dp_set_vlan_protocol(r->sw->dp, tpid);
	if (!err && set_pvid)
		err = dp_set_default_pvid(r->sw->dp, pvid);
	if (!err && set_filtering)
		err = dp_set_vlan_filtering(r->sw->dp, filtering);
	if (err)
		return req_err(r, err, "Error: out of memory");
	return 0;
}

/* ---- vlan ---- */

/* VID or VID-VID, each 1-4094. */
static int parse_vid_range(struct req *r, const char *arg, uint16_t *lo,
			   uint16_t *hi)
{
	char buf[16], *dash;
	uint32_t a, b;

	if (strlen(arg) >= sizeof(buf))
		return invarg(r, arg, "VLAN ID must be 1-4094");
	strcpy(buf, arg);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_u32(buf, 4094, &a) || a == 0 ||
	    (dash && (parse_u32(dash + 1, 4094, &b) || b == 0)))
		return invarg(r, arg, "VLAN ID must be 1-4094");
	if (!dash)
		b = a;
	if (b < a)
		return invarg(r, arg, "a range goes from low to high");
	*lo = a;
	*hi = b;
	return 0;
}

static int do_vlan_change(struct req *r, bool add)
{
	bool pvid = false, untagged = false, have_vid = false;
	uint16_t lo = 0, hi = 0;
	uint32_t index = FDB_NO_PORT;
	struct dp_vlan_cfg vc;
	int err;

	for (int i = 2; i < r->argc; i++) {
		const char *w = r->argv[i];

		if (!strcmp(w, "dev")) {
			err = need_arg(r, ++i, w);
			if (!err)
				err = lookup_port(r, r->argv[i], &index);
		} else if (!strcmp(w, "vid")) {
			err = need_arg(r, ++i, w);
			if (!err)
				err = parse_vid_range(r, r->argv[i], &lo, &hi);
			have_vid = !err;
		} else if (add && !strcmp(w, "pvid")) {
			pvid = true;
			err = 0;
		} else if (add && !strcmp(w, "untagged")) {
			untagged = true;
			err = 0;
		} else {
			err = invarg(r, w, "unexpected here");
		}
		if (err)
			return err;
	}
	if (index == FDB_NO_PORT || !have_vid)
		return req_err(r, -EINVAL, "Error: usage: vlan %s dev IFNAME vid VID[-VID]%s",
			       add ? "add" : "del", add ? " [pvid] [untagged]" : "");
	if (pvid && lo != hi)
		return invarg(r, "pvid", "a range of VLANs cannot be the PVID");
	err = dp_port_get_vlan(r->sw->dp, index, &vc);
	if (err)
		return err;
	for (uint32_t vid = lo; vid <= hi; vid++) {
		if (add) {
			vlan_port_add(&vc.mbr, vid, pvid, untagged);
		} else if (!vlan_is_member(&vc.mbr, vid)) {
			char vs[8];

			snprintf(vs, sizeof(vs), "%u", vid);
			return invarg(r, vs, "the port is not a member");
		} else {
			vlan_port_del(&vc.mbr, vid);
		}
	}
	return dp_port_set_vlan(r->sw->dp, index, &vc);
}

static int do_vlan_add(struct req *r)
{
	return do_vlan_change(r, true);
}

static int do_vlan_del(struct req *r)
{
	return do_vlan_change(r, false);
}

static void put_port_vlans(struct req *r, uint32_t index)
{
	struct dp_port *port = dp_port_get(r->sw->dp, index);
	struct dp_vlan_cfg vc;

	if (!port || dp_port_get_vlan(r->sw->dp, index, &vc))
		return;
	if (!vc.mbr.n_members) {
		/* A port with no VLAN still shows, with an empty list. */
		ctl_put_obj(r->out, "vlan");
		ctl_put_str(r->out, "ifname", port->name);
		return;
	}
	for (uint16_t vid = 1; vid < VLAN_N_VID - 1; vid++) {
		const char *flags[3] = { NULL };
		struct dp_vlan_stats vs;
		int nf = 0;

		if (!vlan_is_member(&vc.mbr, vid))
			continue;
		if (vc.mbr.pvid == vid)
			flags[nf++] = "PVID";
		if (vlan_bit(vc.mbr.untagged, vid))
			flags[nf++] = "Egress Untagged";
		dp_port_get_vlan_stats(r->sw->dp, index, vid, &vs);
		ctl_put_obj(r->out, "vlan");
		ctl_put_str(r->out, "ifname", port->name);
		ctl_put_num(r->out, "vlan", vid);
		ctl_put_list(r->out, "flags", flags);
		ctl_put_num(r->out, "stats.rx_packets", vs.rx_packets);
		ctl_put_num(r->out, "stats.rx_bytes", vs.rx_bytes);
		ctl_put_num(r->out, "stats.tx_packets", vs.tx_packets);
		ctl_put_num(r->out, "stats.tx_bytes", vs.tx_bytes);
	}
}

static int do_vlan_show(struct req *r)
{
	uint32_t idx[DP_MAX_PORTS], index;
	unsigned int n;
	int i = 2, err;

	if (i < r->argc && !strcmp(r->argv[i], "dev")) {
		err = need_arg(r, ++i, "dev");
		if (err)
			return err;
	}
	if (i < r->argc) {
		if (r->argc != i + 1)
			return invarg(r, r->argv[i + 1], "unexpected");
		err = lookup_port(r, r->argv[i], &index);
		if (err)
			return err;
		put_port_vlans(r, index);
		return 0;
	}
	n = dp_port_list(r->sw->dp, idx, DP_MAX_PORTS);
	for (unsigned int k = 0; k < n; k++)
		put_port_vlans(r, idx[k]);
	return 0;
}

/* ---- dispatch ---- */

struct cmd {
	const char *name;
	int (*fn)(struct req *r);
};

/* ---- watching: capture, trace, explain, dump, monitor ---- */

#define CAPTURE_SNAPLEN_DEFAULT 262144	/* as tcpdump's */
#define EXPLAIN_PCAP_MAX 10000		/* frames explained from a file */

/*
 * The words watchers share: dev IFNAME, vlan VID, dir rx|tx|both,
 * count N, and for captures file PATH and snaplen N.  @allowed lists the
 * keywords the command takes.
 */
static int parse_obs_args(struct req *r, int i, const char *const *allowed,
			  struct sw_obs_filter *f, const char **file)
{
	int err = 0;

	memset(f, 0, sizeof(*f));
	f->port = DP_OBS_ANY_PORT;
	snprintf(f->ifname, sizeof(f->ifname), "all");
	f->dirs = DP_DIR_RX | DP_DIR_TX;
	f->snaplen = CAPTURE_SNAPLEN_DEFAULT;
	if (file)
		*file = NULL;
	for (; i < r->argc && !err; i++) {
		const char *w = r->argv[i];
		uint32_t v;
		bool ok = false;

		for (int k = 0; allowed[k]; k++)
			ok |= !strcmp(w, allowed[k]);
		if (!ok)
			return invarg(r, w, "unexpected here");
		if (!strcmp(w, "fdb")) {
			f->fdb = true;
			continue;
		}
		if (!strcmp(w, "port")) {
			f->port_events = true;
			continue;
		}
		err = need_arg(r, ++i, w);
		if (err)
			break;
		if (!strcmp(w, "dev")) {
			err = lookup_port(r, r->argv[i], &f->port);
			if (!err)
				snprintf(f->ifname, sizeof(f->ifname), "%s",
					 r->argv[i]);
		} else if (!strcmp(w, "vlan")) {
			err = parse_vid(r, r->argv[i], &f->vid);
		} else if (!strcmp(w, "dir")) {
			if (!strcmp(r->argv[i], "rx"))
				f->dirs = DP_DIR_RX;
			else if (!strcmp(r->argv[i], "tx"))
				f->dirs = DP_DIR_TX;
			else if (!strcmp(r->argv[i], "both"))
				f->dirs = DP_DIR_RX | DP_DIR_TX;
			else
				err = invarg(r, r->argv[i],
					     "dir is rx, tx or both");
		} else if (!strcmp(w, "count")) {
			if (parse_u32(r->argv[i], UINT32_MAX, &v) || !v)
				err = invarg(r, r->argv[i],
					     "count is 1-4294967295");
			f->count = v;
		} else if (!strcmp(w, "snaplen")) {
			if (parse_u32(r->argv[i], DP_FRAME_MAX, &v) || v < 14)
				err = req_err(r, -EINVAL,
					      "Error: argument \"%s\" is wrong: snaplen is 14-%u",
					      r->argv[i], DP_FRAME_MAX);
			f->snaplen = v;
		} else if (!strcmp(w, "file") && file) {
			if (r->argv[i][0] != '/')
				err = invarg(r, r->argv[i],
					     "the file must be an absolute path");
			*file = r->argv[i];
		}
	}
	return err;
}

static void put_capture(const struct sw_capture_info *c, void *arg)
{
	static const char *const states[] = {
		"running", "done", "stopped", "error",
	};
	FILE *out = arg;

	ctl_put_obj(out, "capture");
	ctl_put_num(out, "id", c->id);
	ctl_put_str(out, "ifname", c->ifname);
	ctl_put_str(out, "dir", c->dirs == (DP_DIR_RX | DP_DIR_TX) ? "both" :
				c->dirs == DP_DIR_RX ? "rx" : "tx");
	if (c->vid)
		ctl_put_num(out, "vlan", c->vid);
	ctl_put_str(out, "file", c->file);
	ctl_put_num(out, "snaplen", c->snaplen);
	ctl_put_num(out, "count", c->count);
	ctl_put_str(out, "state", c->state >= 0 && c->state < 4 ?
				  states[c->state] : "?");
	ctl_put_num(out, "stats.frames", c->frames);
	ctl_put_num(out, "stats.bytes", c->bytes);
	ctl_put_num(out, "stats.dropped", c->dropped);
}

/* `capture show` filtered to one id: what start answers with. */
struct capture_one {
	FILE *out;
	unsigned int id;
};

static void put_capture_if(const struct sw_capture_info *c, void *arg)
{
	struct capture_one *one = arg;

	if (c->id == one->id)
		put_capture(c, one->out);
}

static int do_capture_start(struct req *r)
{
	struct capture_one one;
	static const char *const allowed[] = {
		"dev", "dir", "vlan", "file", "count", "snaplen", NULL
	};
	struct sw_obs_filter f;
	const char *file, *why = "";
	unsigned int id;
	int err;

	err = parse_obs_args(r, 2, allowed, &f, &file);
	if (err)
		return err;
	if (!file)
		return req_err(r, -EINVAL,
			       "Error: capture start needs file PATH");
	err = sw_capture_start_locked(r->sw, &f, file, &id, &why);
	if (err)
		return invarg(r, file, why);
	one.out = r->out;
	one.id = id;
	sw_capture_list_locked(r->sw, put_capture_if, &one);
	return 0;
}

static int do_capture_stop(struct req *r)
{
	uint32_t port = DP_OBS_ANY_PORT, id = 0;
	int i = 2, err;

	while (i < r->argc) {
		const char *w = r->argv[i];

		err = need_arg(r, i + 1, w);
		if (err)
			return err;
		if (!strcmp(w, "dev"))
			err = lookup_port(r, r->argv[i + 1], &port);
		else if (!strcmp(w, "id"))
			err = parse_u32(r->argv[i + 1], UINT32_MAX, &id) ||
			      !id ? invarg(r, r->argv[i + 1],
					   "id is a capture's number") : 0;
		else
			err = invarg(r, w, "unexpected here");
		if (err)
			return err;
		i += 2;
	}
	err = sw_capture_stop_locked(r->sw, port, id, put_capture, r->out);
	if (err == -ENOENT)
		return req_err(r, err, "Error: no such capture");
	return err;
}

static int do_capture_show(struct req *r)
{
	if (r->argc > 2)
		return invarg(r, r->argv[2], "unexpected here");
	sw_capture_list_locked(r->sw, put_capture, r->out);
	return 0;
}

static int do_stream(struct req *r, enum sw_obs_kind kind,
		     const char *const *allowed)
{
	struct sw_obs_filter f;
	int err;

	err = parse_obs_args(r, 1, allowed, &f, NULL);
	if (err)
		return err;
	if (kind == SW_OBS_DUMP && f.port == DP_OBS_ANY_PORT)
		return req_err(r, -EINVAL, "Error: dump needs dev IFNAME");
	if (kind == SW_OBS_MONITOR && !f.fdb && !f.port_events)
		f.fdb = f.port_events = true;
	if (kind == SW_OBS_DUMP)
		f.snaplen = DP_FRAME_MAX;
	err = sw_stream_start_locked(r->sw, kind, &f, r->fd);
	if (err)
		return req_err(r, err, "Error: cannot start: %s",
			       strerror(-err));
	r->handed_off = true;
	return 0;
}

static int do_trace(struct req *r)
{
	static const char *const allowed[] = { "dev", "vlan", "count", NULL };

	return do_stream(r, SW_OBS_TRACE, allowed);
}

static int do_dump(struct req *r)
{
	static const char *const allowed[] = { "dev", "dir", "count", NULL };

	return do_stream(r, SW_OBS_DUMP, allowed);
}

static int do_monitor(struct req *r)
{
	static const char *const allowed[] = {
		"fdb", "port", "count", NULL
	};

	return do_stream(r, SW_OBS_MONITOR, allowed);
}

static int explain_one(struct req *r, uint32_t port, const uint8_t *frame,
		       uint32_t len)
{
	struct dp_trace *tr = malloc(sizeof(*tr));
	int err;

	if (!tr)
		return req_err(r, -ENOMEM, "Error: out of memory");
	err = dp_explain(r->sw->dp, port, frame, len, tr);
	if (!err)
		sw_obs_put_trace(r->sw, r->out, port, tr, 0);
	free(tr);
	return err;
}

static int do_explain(struct req *r)
{
	const char *hex = NULL, *path = NULL;
	uint32_t port = FDB_NO_PORT;
	int i = 1, err;

	while (i < r->argc) {
		const char *w = r->argv[i];

		err = need_arg(r, i + 1, w);
		if (err)
			return err;
		if (!strcmp(w, "dev"))
			err = lookup_port(r, r->argv[i + 1], &port);
		else if (!strcmp(w, "frame"))
			hex = r->argv[i + 1];
		else if (!strcmp(w, "pcap"))
			path = r->argv[i + 1];
		else
			err = invarg(r, w, "unexpected here");
		if (err)
			return err;
		i += 2;
	}
	if (port == FDB_NO_PORT)
		return req_err(r, -EINVAL, "Error: explain needs dev IFNAME");
	if (!hex == !path)
		return req_err(r, -EINVAL,
			       "Error: explain needs frame HEX or pcap PATH");
	if (hex) {
		size_t n = strlen(hex);
		uint8_t frame[CTL_MAX_REQUEST / 2];

		if (n % 2 || n / 2 > sizeof(frame))
			return invarg(r, hex, "not whole bytes in hex");
		for (size_t k = 0; k < n / 2; k++) {
			int hi = hex_digit(hex[2 * k]),
			    lo = hex_digit(hex[2 * k + 1]);

			if (hi < 0 || lo < 0)
				return invarg(r, hex, "not hex digits");
			frame[k] = (uint8_t)(hi << 4 | lo);
		}
		return explain_one(r, port, frame, n / 2);
	}
	{
		char errbuf[PCAP_ERRBUF_SIZE];
		struct pcap_pkthdr *ph;
		const u_char *data;
		unsigned int n = 0;
		pcap_t *p;
		int ret;

		if (path[0] != '/')
			return invarg(r, path,
				      "the file must be an absolute path");
		p = pcap_open_offline(path, errbuf);
		if (!p)
			return invarg(r, path, errbuf);
		if (pcap_datalink(p) != DLT_EN10MB) {
			pcap_close(p);
			return invarg(r, path, "not an Ethernet capture");
		}
		while ((ret = pcap_next_ex(p, &ph, &data)) == 1) {
			if (++n > EXPLAIN_PCAP_MAX) {
				pcap_close(p);
				return req_err(r, -EFBIG,
					       "Error: argument \"%s\" is wrong: more than %u frames; explain a shorter file",
					       path, EXPLAIN_PCAP_MAX);
			}
			err = explain_one(r, port, data, ph->caplen);
			if (err) {
				pcap_close(p);
				return err;
			}
		}
		pcap_close(p);
		if (ret == PCAP_ERROR)
			return invarg(r, path, "a damaged pcap file");
	}
	return 0;
}

static const struct cmd capture_cmds[] = {
	{ "show", do_capture_show },
	{ "start", do_capture_start },
	{ "stop", do_capture_stop },
	{ NULL, NULL },
};


static const struct cmd port_cmds[] = {
	{ "show", do_port_show },
	{ "add", do_port_add },
	{ "del", do_port_del },
	{ "set", do_port_set },
	{ NULL, NULL },
};

static const struct cmd vlan_cmds[] = {
	{ "show", do_vlan_show },
	{ "add", do_vlan_add },
	{ "del", do_vlan_del },
	{ NULL, NULL },
};

static const struct cmd fdb_cmds[] = {
	{ "show", do_fdb_show },
	{ "add", do_fdb_add },
	{ "replace", do_fdb_replace },
	{ "del", do_fdb_del },
	{ "flush", do_fdb_flush },
	{ NULL, NULL },
};

static int dispatch_sub(struct req *r, const struct cmd *cmds)
{
	const char *word = r->argc > 1 ? r->argv[1] : "show";

	for (int i = 0; cmds[i].name; i++)
		if (matches(word, cmds[i].name))
			return cmds[i].fn(r);
	return req_err(r, -EINVAL,
		       "Error: unknown command \"%s\" for \"%s\"; try \"tapswitchctl %s help\"",
		       word, r->argv[0], r->argv[0]);
}

static int dispatch(struct req *r)
{
	const char *obj;

	if (r->argc < 1)
		return req_err(r, -EINVAL, "Error: empty request");
	obj = r->argv[0];
	if (matches(obj, "port") || !strcmp(obj, "link"))
		return dispatch_sub(r, port_cmds);
	if (matches(obj, "fdb"))
		return dispatch_sub(r, fdb_cmds);
	if (matches(obj, "vlan"))
		return dispatch_sub(r, vlan_cmds);
	if (matches(obj, "show"))
		return do_show(r);
	if (matches(obj, "set"))
		return do_set(r);
	if (matches(obj, "capture"))
		return dispatch_sub(r, capture_cmds);
	if (matches(obj, "trace"))
		return do_trace(r);
	if (matches(obj, "explain"))
		return do_explain(r);
	if (matches(obj, "dump"))
		return do_dump(r);
	if (matches(obj, "monitor"))
		return do_monitor(r);
	return req_err(r, -EINVAL,
		       "Error: unknown object \"%s\"; try \"tapswitchctl help\"",
		       obj);
}

/* ---- the socket ---- */

/*
 * Wait until the whole request is in the socket buffer, for at most
 * CTL_REQUEST_MS in all: a client that trickles bytes must not hold the
 * one control thread.  Returns 0 when it is there (or the peer closed).
 */
#define CTL_REQUEST_MS 2000
static int wait_request(int fd)
{
	uint64_t deadline = dp_now_ms() + CTL_REQUEST_MS;
	char peek[CTL_MAX_REQUEST];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = dp_now_ms();
		ssize_t n;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, deadline - now) <= 0)
			continue;
		n = recv(fd, peek, sizeof(peek) - 1, MSG_PEEK | MSG_DONTWAIT);
		if (n <= 0)
			return 0;	/* closed or failed: recv will say */
		peek[n] = '\0';
		if (peek[0] == '\n' || memmem(peek, n, "\n\n", 2) ||
		    n == sizeof(peek) - 1)
			return 0;
		/* Not all there yet: wait for more without spinning. */
		usleep(1000);
	}
}

/* Serve one connection.  Returns false when a stream session took @fd. */
static bool serve_one(struct sw_ctl *ctl, int fd)
{
	char buf[CTL_MAX_REQUEST], *argv[CTL_MAX_WORDS];
	struct timeval tv = { .tv_sec = 2 };
	struct req r = { .sw = ctl->sw, .argv = argv, .fd = fd };
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	int status;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (wait_request(fd)) {
		sw_log(LOG_WARNING, "control: request not complete in %d ms",
		       CTL_REQUEST_MS);
		return true;
	}
	r.argc = ctl_request_recv(fd, buf, sizeof(buf), argv, CTL_MAX_WORDS);
	if (r.argc < 0) {
		sw_log(LOG_WARNING, "control: bad request: %s",
		       strerror(-r.argc));
		return true;
	}
	out = open_memstream(&text, &len);
	if (!out)
		return true;
	r.out = out;

	sw_lock(ctl->sw);
	status = dispatch(&r);
	sw_unlock(ctl->sw);
	if (!status && r.handed_off) {
		/* The stream's session answers from now on. */
		fclose(out);
		free(text);
		return false;
	}

	if (status) {
		/* No partial output: an error discards any records. */
		fclose(out);
		free(text);
		text = NULL;
		out = open_memstream(&text, &len);
		if (!out)
			return true;
		if (!r.error[0])
			snprintf(r.error, sizeof(r.error), "Error: %s",
				 strerror(-status));
	}
	ctl_put_status(out, status, status ? r.error : NULL);
	if (fclose(out) == 0)
		io_write_all(fd, text, len);
	free(text);
	return true;
}

static void *sw_ctl_thread(void *arg)
{
	struct sw_ctl *ctl = arg;
	struct pollfd pfd[2] = {
		{ .fd = ctl->listen_fd, .events = POLLIN },
		{ .fd = ctl->stop_fd, .events = POLLIN },
	};

	rcu_register_thread();
	rcu_offline();
	for (;;) {
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (serve_one(ctl, fd))
			close(fd);
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

/* Make the directory of the default socket path. */
static void make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (!strcmp(dir, "/run/tapswitch"))
		mkdir(dir, 0700);
}

static int ctl_listen(const char *path, int *errp)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*errp = -ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	make_parent_dir(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* A socket left by a daemon that died is stale: replace it; a live
	 * one means another tapswitch owns the path. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		*errp = -EADDRINUSE;
		return -1;
	}
	/* Only ever remove a socket: --ctl must not eat a file. */
	if (errno == ECONNREFUSED) {
		struct stat st;

		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			close(fd);
			*errp = -EEXIST;
			return -1;
		}
		unlink(path);
	}
	old_mask = umask(0177);		/* the socket is born 0600 */
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (err < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0)
		goto fail_close;
	return fd;

fail_close:
	*errp = -errno;
	close(fd);
	return -1;
fail:
	*errp = -errno;
	return -1;
}

struct sw_ctl *sw_ctl_start(struct sw *sw, const char *path, int *err)
{
	struct sw_ctl *ctl = calloc(1, sizeof(*ctl));

	if (!ctl) {
		*err = -ENOMEM;
		return NULL;
	}
	ctl->sw = sw;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->listen_fd = ctl_listen(path, err);
	if (ctl->listen_fd < 0)
		goto out_free;
	ctl->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (ctl->stop_fd < 0) {
		*err = -errno;
		goto out_close_listen;
	}
	*err = -pthread_create(&ctl->thread, NULL, sw_ctl_thread, ctl);
	if (*err)
		goto out_close_stop;
	return ctl;

out_close_stop:
	close(ctl->stop_fd);
out_close_listen:
	close(ctl->listen_fd);
	unlink(ctl->path);
out_free:
	free(ctl);
	return NULL;
}

/* Main thread, offline. */
void sw_ctl_stop(struct sw_ctl *ctl)
{
	uint64_t one = 1;

	if (!ctl)
		return;
	if (write(ctl->stop_fd, &one, sizeof(one)) < 0)
		sw_log(LOG_ERR, "control: cannot signal stop: %m");
	pthread_join(ctl->thread, NULL);
	close(ctl->stop_fd);
	close(ctl->listen_fd);
	unlink(ctl->path);
	free(ctl);
}
