/*
 * ctl_watch.c - the commands that watch the switch: capture show, start
 * and stop, trace, explain, dump and monitor (ctl.h).  The sessions
 * themselves are observe.c's; a stream takes the client's socket over.
 */
#include "switch/ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "lib/ctl_wire.h"

#define CAPTURE_SNAPLEN_DEFAULT 262144	/* as tcpdump's */
#define EXPLAIN_PCAP_MAX 10000		/* frames explained from a file */

/*
 * The values watchers share: dev IFNAME, vlan VID, dir rx|tx|both,
 * count N, snaplen N, and the flags fdb and port; which of them a
 * command takes is the grammar's business.
 */
static int obs_filter(struct ctl_req *r, const struct gr_args *a,
		      struct sw_obs_filter *f)
{
	/* The grammar's choices, in its order: rx, tx, both. */
	static const uint8_t dirs[] = {
		DP_DIR_RX, DP_DIR_TX, DP_DIR_RX | DP_DIR_TX,
	};
	int err;

	memset(f, 0, sizeof(*f));
	f->port = DP_OBS_ANY_PORT;
	snprintf(f->ifname, sizeof(f->ifname), "all");
	f->dirs = DP_DIR_RX | DP_DIR_TX;
	f->snaplen = CAPTURE_SNAPLEN_DEFAULT;
	for (unsigned int i = 0; i < a->n; i++) {
		const struct gr_value *v = &a->v[i];
		const char *key = v->arg->key;

		if (!strcmp(key, "dev")) {
			err = ctl_lookup_port(r, v->word, &f->port);
			if (err)
				return err;
			snprintf(f->ifname, sizeof(f->ifname), "%s", v->word);
		} else if (!strcmp(key, "vlan")) {
			f->vid = v->u32;
		} else if (!strcmp(key, "dir")) {
			if (v->choice >= sizeof(dirs))
				return ctl_invarg(r, v->word,
						  "dir is rx, tx or both");
			f->dirs = dirs[v->choice];
		} else if (!strcmp(key, "count")) {
			f->count = v->u32;
		} else if (!strcmp(key, "snaplen")) {
			f->snaplen = v->u32;
		} else if (!strcmp(key, "fdb")) {
			f->fdb = true;
		} else if (!strcmp(key, "port")) {
			f->port_events = true;
		}
	}
	return 0;
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

int ctl_capture_show(struct ctl_req *r, const struct gr_args *a)
{
	(void)a;
	sw_capture_list_locked(r->sw, put_capture, r->out);
	return 0;
}

int ctl_capture_start(struct ctl_req *r, const struct gr_args *a)
{
	const struct gr_value *file = gr_get(a, "file");
	struct sw_obs_filter f;
	struct capture_one one;
	const char *why = "";
	unsigned int id;
	int err;

	err = obs_filter(r, a, &f);
	if (err)
		return err;
	if (!file)
		return ctl_err(r, -EINVAL,
			       "Error: capture start needs file PATH");
	err = sw_capture_start_locked(r->sw, &f, file->word, &id, &why);
	if (err)
		return ctl_invarg(r, file->word, why);
	one.out = r->out;
	one.id = id;
	sw_capture_list_locked(r->sw, put_capture_if, &one);
	return 0;
}

int ctl_capture_stop(struct ctl_req *r, const struct gr_args *a)
{
	const struct gr_value *dev = gr_get(a, "dev");
	const struct gr_value *id = gr_get(a, "id");
	uint32_t port = DP_OBS_ANY_PORT;
	int err;

	if (dev) {
		err = ctl_lookup_port(r, dev->word, &port);
		if (err)
			return err;
	}
	err = sw_capture_stop_locked(r->sw, port, id ? id->u32 : 0,
				     put_capture, r->out);
	if (err == -ENOENT)
		return ctl_err(r, err, "Error: no such capture");
	return err;
}

/* Start a stream of @kind; the session takes the client's socket. */
static int stream(struct ctl_req *r, const struct gr_args *a,
		  enum sw_obs_kind kind)
{
	struct sw_obs_filter f;
	int err;

	err = obs_filter(r, a, &f);
	if (err)
		return err;
	if (kind == SW_OBS_DUMP && f.port == DP_OBS_ANY_PORT)
		return ctl_err(r, -EINVAL, "Error: dump needs dev IFNAME");
	if (kind == SW_OBS_MONITOR && !f.fdb && !f.port_events)
		f.fdb = f.port_events = true;
	if (kind == SW_OBS_DUMP)
		f.snaplen = DP_FRAME_MAX;
	err = sw_stream_start_locked(r->sw, kind, &f, r->fd);
	if (err)
		return ctl_err(r, err, "Error: cannot start: %s",
			       strerror(-err));
	r->handed_off = true;
	return 0;
}

int ctl_trace(struct ctl_req *r, const struct gr_args *a)
{
	return stream(r, a, SW_OBS_TRACE);
}

int ctl_dump(struct ctl_req *r, const struct gr_args *a)
{
	return stream(r, a, SW_OBS_DUMP);
}

int ctl_monitor(struct ctl_req *r, const struct gr_args *a)
{
	return stream(r, a, SW_OBS_MONITOR);
}

static int explain_one(struct ctl_req *r, uint32_t port,
		       const uint8_t *frame, uint32_t len)
{
	struct dp_trace *tr = malloc(sizeof(*tr));
	int err;

	if (!tr)
		return ctl_err(r, -ENOMEM, "Error: out of memory");
	err = dp_explain(r->sw->dp, port, frame, len, tr);
	if (!err)
		sw_obs_put_trace(r->sw, r->out, port, tr, 0);
	free(tr);
	return err;
}

/* Explain each frame of the pcap file @path, at most EXPLAIN_PCAP_MAX. */
static int explain_pcap(struct ctl_req *r, uint32_t port, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	unsigned int n = 0;
	pcap_t *p;
	int ret, err = 0;

	if (path[0] != '/')
		return ctl_invarg(r, path, "the file must be an absolute path");
	p = pcap_open_offline(path, errbuf);
	if (!p)
		return ctl_invarg(r, path, errbuf);
	if (pcap_datalink(p) != DLT_EN10MB) {
		err = ctl_invarg(r, path, "not an Ethernet capture");
		goto out_close;
	}
	while ((ret = pcap_next_ex(p, &ph, &data)) == 1) {
		if (++n > EXPLAIN_PCAP_MAX) {
			err = ctl_err(r, -EFBIG,
				      "Error: argument \"%s\" is wrong: more than %u frames; explain a shorter file",
				      path, EXPLAIN_PCAP_MAX);
			goto out_close;
		}
		err = explain_one(r, port, data, ph->caplen);
		if (err)
			goto out_close;
	}
	if (ret == PCAP_ERROR)
		err = ctl_invarg(r, path, "a damaged pcap file");
out_close:
	pcap_close(p);
	return err;
}

int ctl_explain(struct ctl_req *r, const struct gr_args *a)
{
	const struct gr_value *dev = gr_get(a, "dev");
	const struct gr_value *hex = gr_get(a, "frame");
	const struct gr_value *pcap = gr_get(a, "pcap");
	uint8_t frame[GR_HEX_MAX];
	uint32_t port;
	int err;

	if (!dev)
		return ctl_err(r, -EINVAL, "Error: explain needs dev IFNAME");
	err = ctl_lookup_port(r, dev->word, &port);
	if (err)
		return err;
	if (!hex == !pcap)
		return ctl_err(r, -EINVAL,
			       "Error: explain needs frame HEX or pcap PATH");
	if (pcap)
		return explain_pcap(r, port, pcap->word);
	return explain_one(r, port, frame,
			   gr_hex_decode(hex, frame, sizeof(frame)));
}
