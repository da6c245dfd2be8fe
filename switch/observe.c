/*
 * observe.c - watching the switch: pcap captures, live decision traces,
 * hex dumps and the event monitor.
 *
 * Every watcher is a session with a ring (dataplane/obs.h) and a thread.
 * The data path (or, for the monitor, the FDB's event callback and the
 * port code) puts records into the ring and never waits; the session's
 * thread takes them out every few milliseconds and writes them out: to a
 * pcap file with pcap_dump() (capture), or as wire records to the
 * tapswitchctl that asked (trace, dump, monitor: cli/ctl_wire.h,
 * "Streams").  A writer that cannot keep up loses records, counted; the
 * data path forwards on.
 *
 * Lifetimes.  Sessions are listed and published under sw->lock (frame
 * and trace subscriptions in the data path's snapshot, monitors in an
 * RCU-published set the FDB callback reads).  A session ends when its
 * count is reached, its client goes, or it is stopped: its thread marks
 * it finished and exits; the ager (or the next capture command) reaps it
 * under sw->lock - unpublish, wait for a grace period, join, free the
 * ring.  Session threads never take sw->lock, so the control side may
 * join them while holding it.  A finished capture stays listed (capture
 * show) until `capture stop` removes it.
 */
#include "switch/sw.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <urcu-qsbr.h>

#include "lib/ctl_wire.h"
#include "lib/mac.h"
#include "lib/rcu.h"

#define OBS_RING_CAPTURE	(8u << 20)
#define OBS_RING_STREAM		(4u << 20)
#define OBS_RING_MONITOR	(1u << 20)
#define OBS_POLL_MS		10	/* how often a session drains */
#define OBS_FLUSH_MS		100	/* how often a capture is flushed */
#define OBS_MAX_DONE		32	/* finished captures kept listed */
#define OBS_HEX_MAX		2048	/* bytes a dump record shows */
#define OBS_WRITE_WAIT_MS	1000	/* a stream client that does not
					 * read for this long loses records */

enum sw_sess_state {
	SW_SESS_RUNNING,
	SW_SESS_DONE,			/* its count was reached */
	SW_SESS_STOPPED,		/* stopped, or its client went */
	SW_SESS_ERROR,			/* the file could not be written */
};

struct sw_session {
	struct sw_session *next;
	struct sw *sw;
	unsigned int id;
	enum sw_obs_kind kind;
	struct sw_obs_filter f;
	char file[4096];		/* capture */
	int fd;				/* capture file, or the client */
	FILE *out;			/* capture: through obs_cookie_write */
	pcap_t *pcap;
	pcap_dumper_t *dumper;

	struct dp_ring ring;
	uint64_t taken;			/* atomic: records the producers put */
	uint64_t written;		/* atomic: records written out */
	uint64_t bytes;			/* atomic: their frames' bytes */
	uint64_t lost;			/* atomic: taken, never written */
	uint64_t refused;		/* the ring's, kept when it goes */
	bool abandoned;			/* the writer gave up on the file */
	int state;			/* atomic: enum sw_sess_state */
	bool published;			/* control side */

	int stop_fd;			/* eventfd */
	bool stopping;			/* atomic */
	bool port_gone;			/* atomic: stopped as its port went */
	bool finished;			/* atomic: the thread is done */
	bool joined;
	pthread_t thread;
};

/* The monitors, as the FDB callback and port events see them. */
struct sw_mon_set {
	struct rcu_head rcu;
	unsigned int n;
	struct {
		struct dp_ring *ring;
		bool fdb, port;
		uint64_t *taken;
	} m[];
};

struct sw_obs {
	struct sw_session *sessions;	/* under sw->lock */
	unsigned int next_id;
	struct sw_mon_set *mon;		/* RCU-published */
	bool any_finished;		/* atomic */
};

static uint64_t obs_now_ms(void)
{
	return dp_now_ms();
}

static int obs_state(struct sw_session *s)
{
	return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
}

static void obs_set_state(struct sw_session *s, int state)
{
	__atomic_store_n(&s->state, state, __ATOMIC_RELEASE);
}

static bool obs_stopping(struct sw_session *s)
{
	return __atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);
}

/* ---- writing out: capture files ---- */

/*
 * pcap_dump() writes through a FILE whose writes land here: a blocking
 * file or FIFO would hold the writer thread in write() where it could not
 * hear a stop request, so the descriptor is non-blocking and this waits
 * for room, or for the stop.
 */
static ssize_t obs_cookie_write(void *cookie, const char *buf, size_t len)
{
	struct sw_session *s = cookie;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(s->fd, buf + done, len - done);

		if (n > 0) {
			done += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd[2] = {
				{ .fd = s->fd, .events = POLLOUT },
				{ .fd = s->stop_fd, .events = POLLIN },
			};

			if (obs_stopping(s)) {
				/* Stopped with the file stalled: what is
				 * left is lost, and counted so. */
				s->abandoned = true;
				break;
			}
			poll(pfd, 2, 100);
			continue;
		}
		obs_set_state(s, SW_SESS_ERROR);
		break;
	}
	/* What did not go out is lost: stdio must not retry it. */
	return done ? (ssize_t)done : -1;
}

static int obs_cookie_close(void *cookie)
{
	struct sw_session *s = cookie;

	return close(s->fd);
}

static const cookie_io_functions_t obs_cookie_io = {
	.write = obs_cookie_write,
	.close = obs_cookie_close,
};

static void obs_capture_record(struct sw_session *s,
			       const struct dp_rec_hdr *hdr,
			       const uint8_t *data)
{
	struct pcap_pkthdr ph;

	ph.ts.tv_sec = hdr->ts_ns / 1000000000;
	/* A nanosecond file: tv_usec holds nanoseconds. */
	ph.ts.tv_usec = hdr->ts_ns % 1000000000;
	ph.caplen = hdr->caplen;
	ph.len = hdr->len;
	pcap_dump((u_char *)s->dumper, &ph, data);
}

/* ---- writing out: streams ---- */

static int obs_write_all(struct sw_session *s, const char *buf, size_t len)
{
	uint64_t deadline = obs_now_ms() + OBS_WRITE_WAIT_MS;

	while (len) {
		ssize_t n = send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			buf += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && obs_now_ms() < deadline &&
		    !obs_stopping(s)) {
			struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };

			poll(&pfd, 1, 10);
			continue;
		}
		return n < 0 && errno != EAGAIN ? -errno : -ETIMEDOUT;
	}
	return 0;
}

static void obs_put_time(FILE *out, uint64_t ts_ns)
{
	time_t sec = ts_ns / 1000000000;
	char buf[32];
	struct tm tm;

	localtime_r(&sec, &tm);
	snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%06u", tm.tm_hour,
		 tm.tm_min, tm.tm_sec,
		 (unsigned int)(ts_ns % 1000000000 / 1000));
	ctl_put_str(out, "time", buf);
}

static void obs_put_mac(FILE *out, const char *key, const uint8_t *mac)
{
	char buf[MAC_STR_LEN];

	ctl_put_str(out, key, mac_format(mac, buf));
}

/* A port's name, or "port N" when it is gone.  Online. */
static void obs_port_name(struct sw *sw, uint32_t index, char *buf,
			  size_t size)
{
	char name[IFNAMSIZ];

	if (dp_port_name(sw->dp, index, name))
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "port%u", index);
}

static const char *const tr_vlan_names[] = {
	[DP_TR_VLAN_TAGGED] = "tagged",
	[DP_TR_VLAN_PRIORITY] = "priority",
	[DP_TR_VLAN_UNTAGGED] = "untagged",
};

static const char *const tr_learn_names[] = {
	[DP_TR_LEARN_NEW] = "new",
	[DP_TR_LEARN_REFRESHED] = "refreshed",
	[DP_TR_LEARN_MOVED] = "moved",
	[DP_TR_LEARN_STICKY] = "sticky",
	[DP_TR_LEARN_LIMIT] = "limit",
	[DP_TR_LEARN_NOMEM] = "nomem",
	[DP_TR_LEARN_OFF] = "off",
};

static const char *const tr_lookup_names[] = {
	[DP_TR_LOOKUP_HIT] = "hit",
	[DP_TR_LOOKUP_MISS] = "miss",
	[DP_TR_LOOKUP_BROADCAST] = "broadcast",
	[DP_TR_LOOKUP_MULTICAST] = "multicast",
	[DP_TR_LOOKUP_LINK_LOCAL] = "link-local",
};

static const char *const tr_verdict_names[] = {
	[DP_TR_FORWARD] = "forward",
	[DP_TR_FLOOD] = "flood",
	[DP_TR_DROP] = "drop",
};

static const char *const tr_drop_names[] = {
	[DP_TR_DROP_RUNT] = "runt",
	[DP_TR_DROP_SOURCE] = "source",
	[DP_TR_DROP_BAD_OFFLOAD] = "bad-offload",
	[DP_TR_DROP_LINK_LOCAL] = "link-local",
	[DP_TR_DROP_BAD_TAG] = "bad-tag",
	[DP_TR_DROP_VLAN] = "vlan",
	[DP_TR_DROP_SAME_PORT] = "same-port",
	[DP_TR_DROP_PORT_DOWN] = "port-down",
	[DP_TR_DROP_EGRESS_VLAN] = "egress-vlan",
	[DP_TR_DROP_EGRESS_DOWN] = "egress-down",
	[DP_TR_DROP_NO_EGRESS] = "no-egress",
};

#define NAME_OF(table, i) \
	((unsigned int)(i) < sizeof(table) / sizeof(table[0]) && table[i] ? \
	 table[i] : "?")

void sw_obs_put_trace(struct sw *sw, FILE *out, uint32_t port,
		      const struct dp_trace *tr, uint64_t ts_ns)
{
	char name[IFNAMSIZ + 16], buf[8];
	const char **words;

	ctl_put_obj(out, "trace");
	obs_port_name(sw, port, name, sizeof(name));
	ctl_put_str(out, "ifname", name);
	if (ts_ns)
		obs_put_time(out, ts_ns);
	ctl_put_num(out, "len", tr->len);
	if (tr->len >= 12) {
		obs_put_mac(out, "src", tr->src);
		obs_put_mac(out, "dst", tr->dst);
	}
	if (tr->len >= 14) {
		snprintf(buf, sizeof(buf), "0x%04x", tr->ethertype);
		ctl_put_str(out, "ethertype", buf);
	}
	if (tr->vlan_in != DP_TR_VLAN_NONE) {
		ctl_put_str(out, "vlan_in", NAME_OF(tr_vlan_names,
						    tr->vlan_in));
		if (tr->vid)
			ctl_put_num(out, "vlan", tr->vid);
		ctl_put_num(out, "pcp", tr->pcp);
	}
	if (tr->learn != DP_TR_LEARN_NONE) {
		ctl_put_str(out, "learn", NAME_OF(tr_learn_names, tr->learn));
		if (tr->learn == DP_TR_LEARN_MOVED &&
		    tr->learn_from != FDB_NO_PORT) {
			obs_port_name(sw, tr->learn_from, name, sizeof(name));
			ctl_put_str(out, "learn_from", name);
		}
	}
	if (tr->lookup != DP_TR_LOOKUP_NONE) {
		ctl_put_str(out, "lookup",
			    NAME_OF(tr_lookup_names, tr->lookup));
		if (tr->lookup == DP_TR_LOOKUP_HIT) {
			obs_port_name(sw, tr->lookup_port, name,
				      sizeof(name));
			ctl_put_str(out, "lookup_ifname", name);
		}
	}
	words = calloc(tr->n_egress + 1, sizeof(*words));
	if (words) {
		char *text = calloc(tr->n_egress ? tr->n_egress : 1,
				    IFNAMSIZ + 40);

		for (unsigned int i = 0; text && i < tr->n_egress; i++) {
			char *w = text + i * (IFNAMSIZ + 40);

			obs_port_name(sw, tr->egress[i].port, name,
				      sizeof(name));
			snprintf(w, IFNAMSIZ + 40, "%s%s%s", name,
				 !tr->egress[i].filtering ? "" :
				 tr->egress[i].tagged ? ":tagged" :
							":untagged",
				 tr->egress[i].too_big ? ":too-big" : "");
			words[i] = w;
		}
		if (text)
			ctl_put_list(out, "egress", words);
		free(text);
		free(words);
	}
	ctl_put_str(out, "verdict", NAME_OF(tr_verdict_names, tr->verdict));
	if (tr->verdict == DP_TR_DROP)
		ctl_put_str(out, "drop", NAME_OF(tr_drop_names, tr->drop));
}

static void obs_put_frame(struct sw_session *s, FILE *out,
			  const struct dp_rec_hdr *hdr, const uint8_t *data)
{
	uint32_t n = hdr->caplen < OBS_HEX_MAX ? hdr->caplen : OBS_HEX_MAX;
	char name[IFNAMSIZ + 16], *hex = malloc(2 * n + 1);

	ctl_put_obj(out, "frame");
	obs_port_name(s->sw, hdr->port, name, sizeof(name));
	ctl_put_str(out, "ifname", name);
	ctl_put_str(out, "dir", hdr->dir == DP_DIR_RX ? "rx" : "tx");
	obs_put_time(out, hdr->ts_ns);
	ctl_put_num(out, "len", hdr->len);
	ctl_put_num(out, "caplen", hex ? n : 0);
	if (hex) {
		for (uint32_t i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", data[i]);
		hex[2 * n] = '\0';
		ctl_put_str(out, "hex", hex);
		free(hex);
	}
}

static const char *const ev_names[] = {
	[DP_EV_FDB_LEARNED] = "learned",
	[DP_EV_FDB_MOVED] = "moved",
	[DP_EV_FDB_AGED] = "aged",
	[DP_EV_FDB_DELETED] = "deleted",
	[DP_EV_FDB_FLUSHED] = "flushed",
	[DP_EV_FDB_ADDED] = "added",
	[DP_EV_FDB_REPLACED] = "replaced",
	[DP_EV_PORT_ADDED] = "added",
	[DP_EV_PORT_REMOVED] = "removed",
	[DP_EV_PORT_UP] = "up",
	[DP_EV_PORT_DOWN] = "down",
};

static void obs_put_event(FILE *out, const struct dp_rec_hdr *hdr,
			  const struct dp_event *ev)
{
	bool is_port = ev->kind >= DP_EV_PORT_ADDED;

	ctl_put_obj(out, "event");
	ctl_put_str(out, "object", is_port ? "port" : "fdb");
	ctl_put_str(out, "event", NAME_OF(ev_names, ev->kind));
	obs_put_time(out, hdr->ts_ns);
	if (!is_port) {
		const char *flags[3];
		int n = 0;

		obs_put_mac(out, "mac", ev->mac);
		if (ev->vid)
			ctl_put_num(out, "vlan", ev->vid);
		if (ev->flags & FDB_STATIC)
			flags[n++] = "static";
		if (ev->flags & FDB_STICKY)
			flags[n++] = "sticky";
		flags[n] = NULL;
		ctl_put_list(out, "flags", flags);
	}
	if (ev->ifname[0])
		ctl_put_str(out, "ifname", ev->ifname);
	if (ev->kind == DP_EV_FDB_MOVED && ev->from_name[0])
		ctl_put_str(out, "from", ev->from_name);
}

/* Send one record of a stream, ended by its "." line. */
static int obs_send_record(struct sw_session *s, const struct dp_rec_hdr *hdr,
			   const uint8_t *payload)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int err;

	if (!out)
		return -ENOMEM;
	/* Online to read port names from the snapshot; offline again
	 * before writing, which may wait for the client. */
	rcu_thread_online();
	switch (hdr->type) {
	case DP_REC_TRACE:
		sw_obs_put_trace(s->sw, out, hdr->port,
				 (const struct dp_trace *)payload,
				 hdr->ts_ns);
		break;
	case DP_REC_FRAME:
		obs_put_frame(s, out, hdr, payload);
		break;
	case DP_REC_EVENT:
		obs_put_event(out, hdr, (const struct dp_event *)payload);
		break;
	}
	rcu_offline();
	fputs(".\n", out);
	if (fclose(out)) {
		free(text);
		return -ENOMEM;
	}
	err = obs_write_all(s, text, len);
	free(text);
	return err;
}

static int obs_send_lost(struct sw_session *s, uint64_t n)
{
	char buf[128];

	snprintf(buf, sizeof(buf),
		 "obj event\ns object=monitor\ns event=lost\nn count=%" PRIu64
		 "\n.\n", n);
	return obs_write_all(s, buf, strlen(buf));
}

/* ---- the session thread ---- */

/* The record buffer: the largest frame or trace, after its header. */
#define OBS_REC_MAX \
	(sizeof(struct dp_rec_hdr) + \
	 (DP_FRAME_MAX > sizeof(struct dp_trace) ? DP_FRAME_MAX : \
						   sizeof(struct dp_trace)))

static bool obs_count_reached(struct sw_session *s)
{
	return s->f.count &&
	       __atomic_load_n(&s->written, __ATOMIC_RELAXED) >= s->f.count;
}

/*
 * Take what is in the ring and write it out.  Returns false when the
 * session is over (count reached, client gone, file failed).  Offline:
 * writing may wait for a slow reader, which must not hold up grace
 * periods (a record's formatting goes online for the port names).
 */
static bool obs_drain(struct sw_session *s, uint8_t *rec)
{
	uint32_t len;

	while (!obs_count_reached(s) &&
	       (len = dp_ring_get(&s->ring, rec, OBS_REC_MAX))) {
		const struct dp_rec_hdr *hdr = (const void *)rec;
		const uint8_t *payload = rec + sizeof(*hdr);

		if (len < sizeof(*hdr))
			continue;
		if (s->kind == SW_OBS_CAPTURE) {
			if (s->abandoned)
				return false;
			obs_capture_record(s, hdr, payload);
			if (obs_state(s) == SW_SESS_ERROR)
				return false;
		} else if (obs_send_record(s, hdr, payload)) {
			return false;
		}
		__atomic_fetch_add(&s->written, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&s->bytes, hdr->len, __ATOMIC_RELAXED);
	}
	/* The monitor says what it lost, as it goes. */
	if (s->kind == SW_OBS_MONITOR) {
		uint64_t now = __atomic_load_n(&s->ring.n_refused,
					       __ATOMIC_RELAXED);

		if (now > s->lost) {
			if (obs_send_lost(s, now - s->lost))
				return false;
			s->lost = now;
		}
	}
	return !obs_count_reached(s);
}

/* Whether the stream's client has gone (closed, or sent anything). */
static bool obs_client_gone(short revents)
{
	/* It sends nothing after its request: end of file, or anything
	 * else, means it went away. */
	return revents & (POLLHUP | POLLERR | POLLRDHUP | POLLIN);
}

static void *obs_thread(void *arg)
{
	struct sw_session *s = arg;
	uint64_t last_flush = obs_now_ms();
	bool stream = s->kind != SW_OBS_CAPTURE, gone = false;
	uint8_t *rec = malloc(OBS_REC_MAX);

	rcu_register_thread();
	rcu_offline();
	/* A capture's file header, first (it waits for a slow FIFO here,
	 * in the session's thread, where a stop is heard). */
	if (!stream && pcap_dump_flush(s->dumper))
		obs_set_state(s, SW_SESS_ERROR);
	while (rec && obs_state(s) != SW_SESS_ERROR) {
		struct pollfd pfd[2] = {
			{ .fd = s->stop_fd, .events = POLLIN },
			{ .fd = stream ? s->fd : -1,
			  .events = POLLIN | POLLRDHUP },
		};
		bool go_on;

		poll(pfd, 2, OBS_POLL_MS);
		if (stream && obs_client_gone(pfd[1].revents)) {
			gone = true;
			break;
		}
		go_on = obs_drain(s, rec);
		if (!go_on || obs_stopping(s))
			break;
		if (!stream && obs_now_ms() - last_flush >= OBS_FLUSH_MS) {
			pcap_dump_flush(s->dumper);
			last_flush = obs_now_ms();
		}
	}
	if (!rec)
		obs_set_state(s, SW_SESS_ERROR);
	else if (obs_state(s) == SW_SESS_RUNNING)
		obs_set_state(s, obs_count_reached(s) ? SW_SESS_DONE :
						      SW_SESS_STOPPED);
	if (stream) {
		char end[128];

		if (!gone) {
			if (__atomic_load_n(&s->port_gone, __ATOMIC_ACQUIRE))
				snprintf(end, sizeof(end),
					 "error Error: %s was removed\nstatus %d\n\n",
					 s->f.ifname, -ENODEV);
			else
				snprintf(end, sizeof(end), "status 0\n\n");
			obs_write_all(s, end, strlen(end));
		}
		close(s->fd);
		s->fd = -1;
	} else {
		/* Records left when stopped are lost, and counted. */
		s->lost += __atomic_load_n(&s->taken, __ATOMIC_RELAXED) -
			   __atomic_load_n(&s->written, __ATOMIC_RELAXED);
		pcap_dump_close(s->dumper);	/* closes s->out, s->fd */
		s->dumper = NULL;
		s->out = NULL;
		s->fd = -1;
		pcap_close(s->pcap);
		s->pcap = NULL;
	}
	free(rec);
	__atomic_store_n(&s->finished, true, __ATOMIC_RELEASE);
	__atomic_store_n(&s->sw->obs->any_finished, true, __ATOMIC_RELEASE);
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

/* ---- publishing (under sw->lock) ---- */

static void obs_mon_free_rcu(struct rcu_head *head)
{
	rcu_tsan_reclaim();
	free(caa_container_of(head, struct sw_mon_set, rcu));
}

static void obs_fdb_event(enum fdb_event ev, const struct fdb_entry_info *info,
			  uint32_t old_port, void *arg);

/*
 * Publish what the running sessions want: frame and trace subscriptions
 * in the data path's snapshot, monitors in their set.  Under sw->lock.
 */
static int obs_publish_locked(struct sw *sw)
{
	struct sw_obs *obs = sw->obs;
	struct dp_obs_sub *subs;
	struct sw_mon_set *mon, *old_mon = obs->mon;
	unsigned int n = 0, n_mon = 0, i = 0;
	int err;

	sw_assert_locked(sw);
	for (struct sw_session *s = obs->sessions; s; s = s->next) {
		if (!s->published)
			continue;
		if (s->kind == SW_OBS_MONITOR)
			n_mon++;
		else
			n++;
	}
	subs = calloc(n ? n : 1, sizeof(*subs));
	mon = n_mon ? malloc(sizeof(*mon) + n_mon * sizeof(mon->m[0])) : NULL;
	if (!subs || (n_mon && !mon)) {
		free(subs);
		free(mon);
		return -ENOMEM;
	}
	for (struct sw_session *s = obs->sessions; s; s = s->next) {
		struct dp_obs_sub *sub;

		if (!s->published || s->kind == SW_OBS_MONITOR)
			continue;
		sub = &subs[i++];
		sub->port = s->f.port;
		sub->vid = s->f.vid;
		sub->dirs = s->f.dirs;
		sub->trace = s->kind == SW_OBS_TRACE;
		sub->snaplen = s->f.snaplen;
		sub->limit = s->f.count;
		sub->taken = &s->taken;
		sub->ring = &s->ring;
	}
	if (mon) {
		mon->n = 0;
		for (struct sw_session *s = obs->sessions; s; s = s->next) {
			if (!s->published || s->kind != SW_OBS_MONITOR)
				continue;
			mon->m[mon->n].ring = &s->ring;
			mon->m[mon->n].fdb = s->f.fdb;
			mon->m[mon->n].port = s->f.port_events;
			mon->m[mon->n].taken = &s->taken;
			mon->n++;
		}
	}
	err = dp_set_obs(sw->dp, subs, n);
	free(subs);
	if (err) {
		free(mon);
		return err;
	}
	/* rcu_assign_pointer(), as the release store TSan can follow. */
	__atomic_store_n(&obs->mon, mon, __ATOMIC_RELEASE);
	fdb_set_event_cb(sw->fdb, mon ? obs_fdb_event : NULL, sw);
	if (old_mon)
		call_rcu(&old_mon->rcu, obs_mon_free_rcu);
	return 0;
}

/* ---- events ---- */

static void obs_event_put(struct sw *sw, const struct dp_event *ev,
			  bool is_port)
{
	const struct sw_mon_set *mon;
	struct dp_rec_hdr hdr = {
		.type = DP_REC_EVENT,
		.len = sizeof(*ev),
		.caplen = sizeof(*ev),
	};
	struct iovec iov = { (void *)ev, sizeof(*ev) };

	/* rcu_dereference(); every caller is an online reader. */
	mon = __atomic_load_n(&sw->obs->mon, __ATOMIC_ACQUIRE);
	if (!mon)
		return;
	for (unsigned int i = 0; i < mon->n; i++) {
		if (is_port ? !mon->m[i].port : !mon->m[i].fdb)
			continue;
		if (dp_ring_put(mon->m[i].ring, &hdr, sizeof(hdr),
				offsetof(struct dp_rec_hdr, ts_ns), &iov, 1,
				sizeof(*ev)))
			__atomic_fetch_add(mon->m[i].taken, 1,
					   __ATOMIC_RELAXED);
	}
}

static void obs_fdb_event(enum fdb_event fev, const struct fdb_entry_info *info,
			  uint32_t old_port, void *arg)
{
	static const uint16_t kinds[] = {
		[FDB_EV_LEARNED] = DP_EV_FDB_LEARNED,
		[FDB_EV_MOVED] = DP_EV_FDB_MOVED,
		[FDB_EV_AGED] = DP_EV_FDB_AGED,
		[FDB_EV_DELETED] = DP_EV_FDB_DELETED,
		[FDB_EV_FLUSHED] = DP_EV_FDB_FLUSHED,
		[FDB_EV_ADDED] = DP_EV_FDB_ADDED,
		[FDB_EV_REPLACED] = DP_EV_FDB_REPLACED,
	};
	struct sw *sw = arg;
	struct dp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kinds[fev];
	ev.vid = info->vid;
	memcpy(ev.mac, info->mac, sizeof(ev.mac));
	ev.port = info->port;
	ev.from = old_port;
	ev.flags = info->flags & (FDB_STATIC | FDB_STICKY);
	/* The names now: the port may be gone when the record is read. */
	if (!dp_port_name(sw->dp, info->port, ev.ifname))
		ev.ifname[0] = '\0';
	if (old_port == FDB_NO_PORT ||
	    !dp_port_name(sw->dp, old_port, ev.from_name))
		ev.from_name[0] = '\0';
	obs_event_put(sw, &ev, false);
}

void sw_obs_port_event(struct sw *sw, enum dp_event_kind kind,
		       uint32_t index, const char *ifname)
{
	struct dp_event ev;

	if (!sw->obs)
		return;		/* shutting down: no watcher is left */
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.port = index;
	ev.from = FDB_NO_PORT;
	snprintf(ev.ifname, sizeof(ev.ifname), "%s", ifname);
	obs_event_put(sw, &ev, true);
}

/* ---- sessions (under sw->lock) ---- */

/* Stop its thread and wait for it; its producers are gone already. */
static void obs_session_join(struct sw_session *s)
{
	if (s->joined)
		return;
	__atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
	if (write(s->stop_fd, &(uint64_t){ 1 }, sizeof(uint64_t)) < 0) {
		/* an eventfd write fails only on overflow: it is set */
	}
	rcu_offline();
	pthread_join(s->thread, NULL);
	rcu_thread_online();
	s->joined = true;
	s->refused = __atomic_load_n(&s->ring.n_refused, __ATOMIC_RELAXED);
	dp_ring_destroy(&s->ring);
}

/* Unpublish what changed, and wait until no producer can use it. */
static void obs_unpublish_locked(struct sw *sw)
{
	sw_assert_locked(sw);
	obs_publish_locked(sw);
	rcu_sync();
}

static void obs_session_free(struct sw_session *s)
{
	dp_ring_destroy(&s->ring);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

/*
 * Take finished (or, with @all, every) session out of the data path,
 * wait for its producers, join its thread, free its ring.  A finished
 * capture stays listed (the last OBS_MAX_DONE of them) unless @all.
 */
static void obs_retire_locked(struct sw *sw, bool all)
{
	struct sw_obs *obs = sw->obs;
	struct sw_session **pp, *s;
	bool changed = false;
	unsigned int n_done = 0;

	sw_assert_locked(sw);
	__atomic_store_n(&obs->any_finished, false, __ATOMIC_RELAXED);
	for (s = obs->sessions; s; s = s->next) {
		if (s->published &&
		    (all || __atomic_load_n(&s->finished, __ATOMIC_ACQUIRE))) {
			s->published = false;
			changed = true;
		}
	}
	if (changed)
		obs_unpublish_locked(sw);
	for (pp = &obs->sessions; (s = *pp);) {
		if (s->published) {
			pp = &s->next;
			continue;
		}
		obs_session_join(s);
		if (s->kind != SW_OBS_CAPTURE || all ||
		    n_done++ >= OBS_MAX_DONE) {
			*pp = s->next;
			obs_session_free(s);
			continue;
		}
		pp = &s->next;
	}
}

void sw_obs_reap(struct sw *sw)
{
	if (!sw->obs ||
	    !__atomic_load_n(&sw->obs->any_finished, __ATOMIC_ACQUIRE))
		return;
	sw_lock(sw);
	obs_retire_locked(sw, false);
	sw_unlock(sw);
}

void sw_obs_reap_locked(struct sw *sw)
{
	sw_assert_locked(sw);
	if (__atomic_load_n(&sw->obs->any_finished, __ATOMIC_ACQUIRE))
		obs_retire_locked(sw, false);
}

static struct sw_session *obs_session_new(struct sw *sw,
					  enum sw_obs_kind kind,
					  const struct sw_obs_filter *f,
					  size_t ring_size)
{
	struct sw_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->sw = sw;
	s->kind = kind;
	s->f = *f;
	s->fd = -1;
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0 || dp_ring_init(&s->ring, ring_size)) {
		if (s->stop_fd >= 0)
			close(s->stop_fd);
		free(s);
		return NULL;
	}
	s->id = ++sw->obs->next_id;
	return s;
}

/* Start its thread, list and publish it.  On error the caller frees. */
static int obs_session_start_locked(struct sw *sw, struct sw_session *s)
{
	int err = -pthread_create(&s->thread, NULL, obs_thread, s);

	sw_assert_locked(sw);
	if (err)
		return err;
	s->published = true;
	s->next = sw->obs->sessions;
	sw->obs->sessions = s;
	err = obs_publish_locked(sw);
	if (err) {
		/* Never published: stop it, unlist it; the caller frees. */
		s->published = false;
		obs_session_join(s);
		sw->obs->sessions = s->next;
		return err;
	}
	return 0;
}

/* Watchers still running: what max_watchers holds back. */
static unsigned int obs_running_locked(struct sw *sw)
{
	unsigned int n = 0;

	for (struct sw_session *s = sw->obs->sessions; s; s = s->next)
		n += !__atomic_load_n(&s->finished, __ATOMIC_ACQUIRE);
	return n;
}

int sw_capture_start_locked(struct sw *sw, const struct sw_obs_filter *f,
			    const char *path, int fd, unsigned int *id,
			    const char **why)
{
	struct sw_session *s;
	int err;

	sw_assert_locked(sw);
	sw_obs_reap_locked(sw);
	if (obs_running_locked(sw) >= sw->max_watchers) {
		*why = "too many watchers";
		return -EBUSY;
	}
	s = obs_session_new(sw, SW_OBS_CAPTURE, f, OBS_RING_CAPTURE);
	if (!s) {
		*why = "out of memory";
		return -ENOMEM;
	}
	snprintf(s->file, sizeof(s->file), "%s", path);
	/* Opened (non-blocking: a slow FIFO cannot hold the writer where
	 * it would not hear a stop) and checked by the caller, unlocked.
	 * The file header goes out with the first write of the session's
	 * thread: nothing is written here, under the lock. */
	s->fd = fd;
	s->pcap = pcap_open_dead_with_tstamp_precision(
		DLT_EN10MB, (int)f->snaplen, PCAP_TSTAMP_PRECISION_NANO);
	s->out = s->pcap ? fopencookie(s, "w", obs_cookie_io) : NULL;
	s->dumper = s->out ? pcap_dump_fopen(s->pcap, s->out) : NULL;
	if (!s->dumper) {
		*why = "out of memory";
		err = -ENOMEM;
		goto out_free;
	}
	err = obs_session_start_locked(sw, s);
	if (err) {
		*why = strerror(-err);
		goto out_free;
	}
	*id = s->id;
	return 0;

out_free:
	/* The caller still owns fd: what closes it here must not. */
	s->fd = -1;
	if (s->dumper)
		pcap_dump_close(s->dumper);
	else if (s->out)
		fclose(s->out);
	if (s->pcap)
		pcap_close(s->pcap);
	obs_session_free(s);
	return err;
}

static bool obs_capture_matches(const struct sw_session *s, uint32_t port,
				unsigned int id)
{
	return s->kind == SW_OBS_CAPTURE && (!id || s->id == id) &&
	       (port == DP_OBS_ANY_PORT || s->f.port == port);
}

int sw_capture_stop_locked(struct sw *sw, uint32_t port, unsigned int id,
			   void (*cb)(const struct sw_capture_info *, void *),
			   void *arg)
{
	struct sw_session **pp, *s;
	bool any = false, changed = false;

	sw_assert_locked(sw);
	for (s = sw->obs->sessions; s; s = s->next) {
		if (!obs_capture_matches(s, port, id))
			continue;
		any = true;
		/* A writer waiting on a slow file gives up at once. */
		__atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
		if (s->published) {
			s->published = false;
			changed = true;
		}
	}
	if (!any)
		return -ENOENT;
	/* Out of the snapshot, then flushed and closed; then say what
	 * they did, and forget them. */
	if (changed)
		obs_unpublish_locked(sw);
	for (pp = &sw->obs->sessions; (s = *pp);) {
		if (!obs_capture_matches(s, port, id)) {
			pp = &s->next;
			continue;
		}
		obs_session_join(s);
		if (cb) {
			struct sw_capture_info info;

			sw_capture_info_of(s, &info);
			cb(&info, arg);
		}
		*pp = s->next;
		obs_session_free(s);
	}
	return 0;
}

void sw_capture_info_of(const struct sw_session *s, struct sw_capture_info *i)
{
	memset(i, 0, sizeof(*i));
	i->id = s->id;
	snprintf(i->ifname, sizeof(i->ifname), "%s", s->f.ifname);
	i->dirs = s->f.dirs;
	i->vid = s->f.vid;
	snprintf(i->file, sizeof(i->file), "%s", s->file);
	i->snaplen = s->f.snaplen;
	i->count = s->f.count;
	i->state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	i->frames = __atomic_load_n(&s->written, __ATOMIC_RELAXED);
	i->bytes = __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
	/* Refused by a full ring, and taken but never written. */
	i->dropped = s->joined ? s->refused + s->lost :
		__atomic_load_n(&s->ring.n_refused, __ATOMIC_RELAXED);
}

void sw_capture_list_locked(struct sw *sw,
			    void (*cb)(const struct sw_capture_info *, void *),
			    void *arg)
{
	sw_assert_locked(sw);
	sw_obs_reap_locked(sw);
	for (struct sw_session *s = sw->obs->sessions; s; s = s->next) {
		struct sw_capture_info info;

		if (s->kind != SW_OBS_CAPTURE)
			continue;
		sw_capture_info_of(s, &info);
		cb(&info, arg);
	}
}

int sw_stream_start_locked(struct sw *sw, enum sw_obs_kind kind,
			   const struct sw_obs_filter *f, int fd)
{
	struct sw_session *s;
	int err;

	sw_assert_locked(sw);
	sw_obs_reap_locked(sw);
	if (obs_running_locked(sw) >= sw->max_watchers)
		return -EBUSY;
	s = obs_session_new(sw, kind, f, kind == SW_OBS_MONITOR ?
					 OBS_RING_MONITOR : OBS_RING_STREAM);
	if (!s)
		return -ENOMEM;
	/* The "stream" line first: records follow it. */
	if (send(fd, "stream\n", 7, MSG_NOSIGNAL) != 7) {
		obs_session_free(s);
		return -EPIPE;
	}
	s->fd = fd;
	err = obs_session_start_locked(sw, s);
	if (err) {
		s->fd = -1;		/* the caller still owns it */
		obs_session_free(s);
		return err;
	}
	return 0;
}

void sw_obs_port_removed_locked(struct sw *sw, uint32_t index)
{
	struct sw_session *s;
	bool changed = false;

	sw_assert_locked(sw);
	if (!sw->obs)
		return;
	/* Its index may name another port soon: its watchers end now, as
	 * tcpdump does when its interface goes. */
	for (s = sw->obs->sessions; s; s = s->next) {
		if (!s->published || s->f.port != index)
			continue;
		__atomic_store_n(&s->port_gone, true, __ATOMIC_RELEASE);
		__atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
		s->published = false;
		changed = true;
	}
	if (!changed)
		return;
	obs_unpublish_locked(sw);
	for (s = sw->obs->sessions; s; s = s->next)
		if (__atomic_load_n(&s->port_gone, __ATOMIC_ACQUIRE))
			obs_session_join(s);
	/* The streams go; the captures stay listed, stopped. */
	obs_retire_locked(sw, false);
}

int sw_obs_init(struct sw *sw)
{
	sw->obs = calloc(1, sizeof(*sw->obs));
	return sw->obs ? 0 : -ENOMEM;
}

void sw_obs_fini_locked(struct sw *sw)
{
	sw_assert_locked(sw);
	if (!sw->obs)
		return;
	obs_retire_locked(sw, true);
	free(sw->obs->mon);
	free(sw->obs);
	sw->obs = NULL;
}
