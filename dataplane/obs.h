/*
 * obs.h - watching the data path: frames copied out (capture, dump), the
 * pipeline's decisions (trace, explain), handed to whoever watches.
 *
 * Design
 * ------
 * The watchers live above the data plane (switch/observe.c: pcap writer
 * threads, streams to tapswitchctl); the data plane only copies records
 * into their rings and never blocks, writes a file or logs.  What is
 * watched is a set of subscriptions (struct dp_obs_sub), published in the
 * configuration snapshot like everything else the pipeline reads: with no
 * subscription the pipeline pays one predictable branch per burst; with
 * some, bursts take a second copy of the pipeline, compiled with the
 * hooks in, and only the frames a subscription matches are copied.
 *
 * A ring (struct dp_ring) is a bounded byte ring of records behind a
 * mutex held for one copy: many poll threads put, one consumer gets.
 * When it is full a record is refused and counted, never waited for -
 * a slow writer loses capture, not forwarding.  Consumers poll the ring
 * (every few milliseconds): putting never makes a system call.
 *
 * Thread safety: dp_ring_put() from any thread; dp_ring_get() from one
 * consumer; init/destroy with no other user.  A subscription's ring and
 * counters must outlive its publication by a grace period.
 */
#ifndef TAPSWITCH_OBS_H
#define TAPSWITCH_OBS_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct dp_ring {
	pthread_mutex_t lock;
	uint8_t *buf;
	size_t size;			/* a power of two */
	uint64_t head, tail;		/* bytes put, bytes got */
	uint64_t n_refused;		/* atomic: records that did not fit */
};

int dp_ring_init(struct dp_ring *r, size_t size);
void dp_ring_destroy(struct dp_ring *r);
/*
 * Put one record: @hdr_len bytes of @hdr, then the bytes of @iov (at most
 * @max_data of them).  With @stamp_at below @hdr_len, the 8 bytes there
 * are set to CLOCK_REALTIME in nanoseconds while the ring is held, so
 * that records from many threads are in time order.  Returns false (and
 * counts it) when it does not fit.
 */
#define DP_RING_NO_STAMP UINT32_MAX
bool dp_ring_put(struct dp_ring *r, const void *hdr, uint32_t hdr_len,
		 uint32_t stamp_at, const struct iovec *iov, int iovcnt,
		 uint32_t max_data);
/* Take the oldest record into @out (@size bytes, enough for any record
 * the producers put).  Returns its length, or 0 when the ring is empty. */
uint32_t dp_ring_get(struct dp_ring *r, void *out, uint32_t size);

/* ---- what a record carries ---- */

enum dp_rec_type {
	DP_REC_FRAME = 1,		/* a frame's bytes */
	DP_REC_TRACE,			/* a struct dp_trace */
	DP_REC_EVENT,			/* a struct dp_event (fdb, port) */
};

enum dp_dir {
	DP_DIR_RX = 1,
	DP_DIR_TX = 2,
};

/* Before every record's payload. */
struct dp_rec_hdr {
	uint16_t type;			/* enum dp_rec_type */
	uint16_t dir;			/* DP_REC_FRAME: enum dp_dir */
	uint32_t port;			/* port index */
	uint32_t len;			/* DP_REC_FRAME: the frame's length */
	uint32_t caplen;		/* bytes of payload */
	uint64_t ts_ns;			/* CLOCK_REALTIME */
};

/* The trace of one frame: what pass one and pass two decided. */
enum dp_tr_vlan {
	DP_TR_VLAN_NONE,		/* filtering off */
	DP_TR_VLAN_TAGGED,
	DP_TR_VLAN_PRIORITY,
	DP_TR_VLAN_UNTAGGED,
};

enum dp_tr_learn {
	DP_TR_LEARN_NONE,		/* not reached: dropped before */
	DP_TR_LEARN_NEW,
	DP_TR_LEARN_REFRESHED,
	DP_TR_LEARN_MOVED,
	DP_TR_LEARN_STICKY,
	DP_TR_LEARN_LIMIT,
	DP_TR_LEARN_NOMEM,
	DP_TR_LEARN_OFF,		/* port's learning off, or ageing 0 */
};

enum dp_tr_lookup {
	DP_TR_LOOKUP_NONE,		/* not reached */
	DP_TR_LOOKUP_HIT,
	DP_TR_LOOKUP_MISS,
	DP_TR_LOOKUP_BROADCAST,
	DP_TR_LOOKUP_MULTICAST,
	DP_TR_LOOKUP_LINK_LOCAL,	/* a link-local group let through */
};

enum dp_tr_verdict {
	DP_TR_FORWARD,
	DP_TR_FLOOD,
	DP_TR_DROP,
};

enum dp_tr_drop {
	DP_TR_DROP_NONE,
	DP_TR_DROP_RUNT,
	DP_TR_DROP_SOURCE,
	DP_TR_DROP_BAD_OFFLOAD,
	DP_TR_DROP_LINK_LOCAL,
	DP_TR_DROP_BAD_TAG,
	DP_TR_DROP_VLAN,
	DP_TR_DROP_SAME_PORT,
	DP_TR_DROP_PORT_DOWN,
	DP_TR_DROP_EGRESS_VLAN,
	DP_TR_DROP_EGRESS_DOWN,
	DP_TR_DROP_NO_EGRESS,
};

#define DP_TR_MAX_EGRESS 256
struct dp_trace {
	uint32_t len;
	uint8_t dst[6], src[6];
	uint16_t ethertype;		/* the outer one */
	uint8_t vlan_in;		/* enum dp_tr_vlan */
	uint8_t pcp;
	uint16_t vid;
	uint8_t learn;			/* enum dp_tr_learn */
	uint8_t lookup;			/* enum dp_tr_lookup */
	uint8_t verdict;		/* enum dp_tr_verdict */
	uint8_t drop;			/* enum dp_tr_drop */
	uint32_t learn_from;		/* DP_TR_LEARN_MOVED: the old port */
	uint32_t lookup_port;		/* DP_TR_LOOKUP_HIT */
	uint16_t n_egress;
	struct {
		uint16_t port;
		uint8_t tagged;		/* leaves with a tag (filtering on) */
		uint8_t filtering;	/* VLAN filtering was on */
		uint8_t too_big;	/* longer than its MTU: not sent */
	} egress[DP_TR_MAX_EGRESS];
};

/* The size of a trace record's payload: up to its last egress port. */
static inline uint32_t dp_trace_size(const struct dp_trace *tr)
{
	return (uint32_t)(offsetof(struct dp_trace, egress) +
			  tr->n_egress * sizeof(tr->egress[0]));
}

/* An FDB or port event, as the monitor streams it. */
enum dp_event_kind {
	DP_EV_FDB_LEARNED = 1,
	DP_EV_FDB_MOVED,
	DP_EV_FDB_AGED,
	DP_EV_FDB_DELETED,
	DP_EV_FDB_FLUSHED,
	DP_EV_FDB_ADDED,
	DP_EV_FDB_REPLACED,
	DP_EV_PORT_ADDED,
	DP_EV_PORT_REMOVED,
	DP_EV_PORT_UP,
	DP_EV_PORT_DOWN,
};

struct dp_event {
	uint16_t kind;			/* enum dp_event_kind */
	uint16_t vid;
	uint8_t mac[6];
	uint32_t port;			/* FDB_NO_PORT: unknown */
	uint32_t from;			/* DP_EV_FDB_MOVED: the old port */
	uint32_t flags;			/* FDB_STATIC, FDB_STICKY */
	char ifname[IFNAMSIZ];		/* port events, and names known then */
	char from_name[IFNAMSIZ];
};

/* ---- subscriptions ---- */

#define DP_OBS_ANY_PORT UINT32_MAX

/* What a watcher wants, and where it goes. */
struct dp_obs_sub {
	uint32_t port;			/* a port index, or DP_OBS_ANY_PORT */
	uint16_t vid;			/* 0: any VLAN */
	uint8_t dirs;			/* frames: DP_DIR_RX | DP_DIR_TX */
	bool trace;			/* traces rather than frames */
	uint32_t snaplen;		/* frames: bytes kept of each */
	uint64_t limit;			/* records to take; 0: no limit */
	uint64_t *taken;		/* atomic: records taken so far */
	struct dp_ring *ring;
};

#endif /* TAPSWITCH_OBS_H */
