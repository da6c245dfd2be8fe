/*
 * ctl_fdb.c - the fdb commands: show, add, replace, del, flush (ctl.h).
 */
#include "switch/ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ctl_wire.h"
#include "lib/mac.h"

/* The VID of a "vlan" value, or FDB_ANY_VID when none was given. */
static uint16_t arg_vid(const struct gr_args *a)
{
	const struct gr_value *v = gr_get(a, "vlan");

	return v ? (uint16_t)v->u32 : FDB_ANY_VID;
}

static const char *arg_dev(const struct gr_args *a)
{
	const struct gr_value *v = gr_get(a, "dev");

	return v ? v->word : NULL;
}

struct fdb_walk {
	struct fdb_entry_info *v;
	size_t n, cap;
	bool failed;
	uint32_t port;
	uint16_t vid;
};

/* fdb_dump() callback: inside a read-side section, must not block. */
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

int ctl_fdb_show(struct ctl_req *r, const struct gr_args *a)
{
	struct fdb_walk w = { .port = FDB_NO_PORT, .vid = arg_vid(a) };
	const char *dev = arg_dev(a);
	uint64_t now = dp_now_ms();
	int err;

	if (dev) {
		err = ctl_lookup_port(r, dev, &w.port);
		if (err)
			return err;
	}
	fdb_dump(r->sw->fdb, fdb_collect, &w);
	if (w.failed) {
		free(w.v);
		return ctl_err(r, -ENOMEM, "Error: out of memory");
	}
	if (w.n)
		qsort(w.v, w.n, sizeof(*w.v), fdb_info_cmp);
	for (size_t k = 0; k < w.n; k++) {
		const struct fdb_entry_info *e = &w.v[k];
		struct dp_port *port = dp_port_get(r->sw->dp, e->port);
		const char *flags[3] = { NULL };
		int nf = 0;
		char mac[MAC_STR_LEN];

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

/* As `bridge fdb add`: static unless "dynamic"; fails if the MAC is
 * known (learned or not), where replace takes its place. */
static int fdb_add_or_replace(struct ctl_req *r, const struct gr_args *a,
			      bool replace)
{
	const struct gr_value *mac = gr_get(a, "mac");
	struct sw_why why = { "" };
	uint32_t flags;
	int err;

	if (!mac)
		return ctl_err(r, -EINVAL, "Error: a MAC address is needed");
	flags = gr_get(a, "dynamic") ? 0 : FDB_STATIC;
	if (gr_get(a, "sticky"))
		flags |= FDB_STICKY;
	if (replace)
		err = sw_op_fdb_replace(r->sw, mac->mac, arg_dev(a),
					arg_vid(a), flags, &why);
	else
		err = sw_op_fdb_add(r->sw, mac->mac, arg_dev(a), arg_vid(a),
				    flags, &why);
	return err ? ctl_op_err(r, err, &why) : 0;
}

int ctl_fdb_add(struct ctl_req *r, const struct gr_args *a)
{
	return fdb_add_or_replace(r, a, false);
}

int ctl_fdb_replace(struct ctl_req *r, const struct gr_args *a)
{
	return fdb_add_or_replace(r, a, true);
}

int ctl_fdb_del(struct ctl_req *r, const struct gr_args *a)
{
	const struct gr_value *mac = gr_get(a, "mac");
	struct sw_why why = { "" };
	int err;

	if (!mac)
		return ctl_err(r, -EINVAL, "Error: a MAC address is needed");
	err = sw_op_fdb_del(r->sw, mac->mac, arg_dev(a), arg_vid(a), &why);
	return err ? ctl_op_err(r, err, &why) : 0;
}

int ctl_fdb_flush(struct ctl_req *r, const struct gr_args *a)
{
	/* As `bridge fdb flush`: no state word, every state. */
	enum fdb_flush_kind kind = FDB_FLUSH_ALL;
	struct sw_why why = { "" };
	int err;

	if (gr_get(a, "static"))
		kind = FDB_FLUSH_STATIC;
	else if (gr_get(a, "dynamic"))
		kind = FDB_FLUSH_DYNAMIC;
	err = sw_op_fdb_flush(r->sw, arg_dev(a), arg_vid(a), kind, &why);
	return err ? ctl_op_err(r, err, &why) : 0;
}
