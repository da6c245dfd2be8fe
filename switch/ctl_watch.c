/*
 * ctl_watch.c - the commands that watch the switch: capture show, start
 * and stop, trace, explain, dump and monitor (ctl.h).  The sessions
 * themselves are observe.c's; a stream takes the client's socket over.
 */
#include "switch/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "lib/ctl_wire.h"

#define CAPTURE_SNAPLEN_DEFAULT 262144	/* as tcpdump's */
#define EXPLAIN_PCAP_MAX 10000		/* frames explained from a file */
/* The largest pcap file explain reads: 10000 frames of 64 KiB and some. */
#define EXPLAIN_FILE_MAX ((size_t)EXPLAIN_PCAP_MAX * (65536 + 256 + 16) + 24)

/* ---- files, opened before the switch is locked ---- */

static int file_refuse(struct ctl_req *r, const char *path, int err,
		       const char *why)
{
	ctl_invarg(r, path, why);
	return err;
}

/*
 * Open @path to write a capture into, as a daemon running as root must:
 * never through a symbolic link, never a device, a directory or a socket;
 * a FIFO (that has a reader: nothing here waits) or a regular file; an
 * existing regular file only when the client said force (then emptied),
 * a new one created 0600.  The file is checked through an O_PATH
 * descriptor and opened for writing through that same descriptor, so it
 * cannot be swapped in between.
 */
int ctl_capture_prepare(struct ctl_req *r, const struct gr_args *a)
{
	const struct gr_value *file = gr_get(a, "file");
	bool force = gr_get(a, "force") != NULL;
	char self[64];
	struct stat st, st2;
	int pfd, fd, err;

	if (!file)
		return ctl_err(r, -EINVAL,
			       "Error: capture start needs file PATH");
	if (!r->may_open_files)
		return file_refuse(r, file->word, -EPERM,
				   "only root may have the daemon write files; stream with dump or trace instead");
	if (file->word[0] != '/')
		return ctl_invarg(r, file->word,
				  "the file must be an absolute path");
	pfd = open(file->word, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0) {
		if (errno != ENOENT)
			return file_refuse(r, file->word, -errno,
					   strerror(errno));
		/* A new file: nobody else's, and ours alone to read. */
		fd = open(file->word, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				      O_NONBLOCK | O_CLOEXEC, 0600);
		if (fd < 0)
			return file_refuse(r, file->word, -errno,
					   errno == EEXIST ?
					   "created by someone else meanwhile" :
					   strerror(errno));
		r->file_fd = fd;
		r->file_created = file->word;
		return 0;
	}
	err = fstat(pfd, &st) ? -errno : 0;
	if (!err && S_ISLNK(st.st_mode))
		err = file_refuse(r, file->word, -ELOOP,
				  "a symbolic link: name the file itself");
	else if (!err && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
		err = file_refuse(r, file->word, -EINVAL,
				  "not a regular file or a FIFO");
	else if (!err && S_ISREG(st.st_mode) && !force)
		err = file_refuse(r, file->word, -EEXIST,
				  "the file exists: add force to overwrite it");
	if (err) {
		close(pfd);
		return r->error[0] ? err :
		       file_refuse(r, file->word, err, strerror(-err));
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	close(pfd);
	if (err)
		return file_refuse(r, file->word, err,
				   err == -ENXIO ? "cannot open: a FIFO with no reader" :
						   strerror(-err));
	if (fstat(fd, &st2) || st2.st_ino != st.st_ino ||
	    st2.st_dev != st.st_dev ||
	    (S_ISREG(st2.st_mode) && ftruncate(fd, 0))) {
		close(fd);
		return file_refuse(r, file->word, -EIO,
				   "cannot open it for writing");
	}
	r->file_fd = fd;
	return 0;
}

/*
 * Read the pcap file explain was given, whole: a regular file (a FIFO
 * could keep us waiting for ever), at most EXPLAIN_FILE_MAX bytes.
 */
int ctl_explain_prepare(struct ctl_req *r, const struct gr_args *a)
{
	const struct gr_value *pcap = gr_get(a, "pcap");
	size_t got = 0;
	struct stat st;
	int fd;

	if (!pcap)
		return 0;
	if (!r->may_open_files)
		return file_refuse(r, pcap->word, -EPERM,
				   "only root may have the daemon read files; explain frame HEX instead");
	if (pcap->word[0] != '/')
		return ctl_invarg(r, pcap->word,
				  "the file must be an absolute path");
	fd = open(pcap->word, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return file_refuse(r, pcap->word, -errno, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return file_refuse(r, pcap->word, -EINVAL,
				   "not a regular file");
	}
	if ((size_t)st.st_size > EXPLAIN_FILE_MAX) {
		close(fd);
		return ctl_err(r, -EFBIG,
			       "Error: argument \"%s\" is wrong: more than %u frames; explain a shorter file",
			       pcap->word, EXPLAIN_PCAP_MAX);
	}
	r->file_data = malloc(st.st_size ? st.st_size : 1);
	if (!r->file_data) {
		close(fd);
		return ctl_err(r, -ENOMEM, "Error: out of memory");
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, r->file_data + got, st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* shorter than it was: what is there */
		got += n;
	}
	close(fd);
	r->file_len = got;
	return 0;
}

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

/* A watcher refused for the limit (sw->max_watchers). */
static int ctl_watchers_full(struct ctl_req *r)
{
	return ctl_err(r, -EBUSY,
		       "Error: %u watchers are running (max_watchers): stop one, or raise max_watchers",
		       r->sw->max_watchers);
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
	if (!file || r->file_fd < 0)
		return ctl_err(r, -EINVAL,
			       "Error: capture start needs file PATH");
	err = sw_capture_start_locked(r->sw, &f, file->word, r->file_fd, &id,
				      &why);
	if (err)
		return err == -EBUSY ? ctl_watchers_full(r) :
				       ctl_invarg(r, file->word, why);
	r->file_fd = -1;		/* the capture's now */
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
	if (err == -EBUSY)
		return ctl_watchers_full(r);
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

/*
 * Explain each frame of the pcap file @path, at most EXPLAIN_PCAP_MAX:
 * from the copy its prepare step read (r->file_data), so that parsing it
 * under sw->lock touches no file.
 */
static int explain_pcap(struct ctl_req *r, uint32_t port, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *ph;
	const u_char *data;
	unsigned int n = 0;
	FILE *mem;
	pcap_t *p;
	int ret, err = 0;

	mem = r->file_len ? fmemopen(r->file_data, r->file_len, "rb") : NULL;
	if (!mem)
		return ctl_invarg(r, path, r->file_len ? "out of memory" :
					   "an empty file");
	p = pcap_fopen_offline(mem, errbuf);
	if (!p) {
		fclose(mem);
		return ctl_invarg(r, path, errbuf);
	}
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
