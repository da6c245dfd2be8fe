/*
 * dp.h - the data plane: ports, poll threads, and the per-frame pipeline.
 *
 * Design
 * ------
 * A port is one of several kinds (a tap device, an in-memory queue for
 * tests) behind one interface, struct port_ops (port.h).  Each attached
 * port with a pollable file descriptor gets a poll thread (poll.c), which
 * receives a burst of frames
 * and runs each to completion: sanity checks, link-local rules, learning,
 * lookup, and delivery straight to the egress ports (DESIGN.md, "Data flow
 * of one frame").  The pipeline works in two passes over a burst, as
 * VALE does: first decide every frame's destination with the configuration
 * snapshot and the forwarding table, then deliver.
 *
 * Everything the pipeline reads that the control side can change - the
 * port table, per-port flags, group_fwd_mask, whether learning is on - is
 * one immutable snapshot (struct dp_conf, private), published with
 * rcu_assign_pointer() and freed after a grace period.  A port is known to
 * the forwarding table by its index in that table, never by pointer.
 *
 * Thread safety
 * -------------
 * QSBR flavour of liburcu.  Poll threads are registered readers that go
 * offline around poll() and announce a quiescent state after each burst.
 * Functions marked "Control thread" must be serialised by the caller (the
 * daemon holds one mutex for all configuration changes); the calling
 * thread is registered with liburcu, online, and not in a read-side
 * section (they call fdb/ and synchronize_rcu(), and go offline
 * themselves around anything that blocks).  Counters are relaxed atomics
 * and may be read from any thread.
 */
#ifndef TAPSWITCH_DP_H
#define TAPSWITCH_DP_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "dataplane/obs.h"
#include "dataplane/offload.h"
#include "dataplane/port.h"
#include "fdb/fdb.h"
#include "vlan/vlan.h"

#define DP_MAX_PORTS	256
#define DP_BURST	32
#define DP_ETH_HLEN	14

/* Per-port flags (bit numbers in one word), as `bridge link set` has them. */
enum dp_port_flag_bit {
	DP_PORT_LEARNING_BIT,
	DP_PORT_FLOOD_BIT,		/* unknown unicast */
	DP_PORT_MCAST_FLOOD_BIT,
	DP_PORT_BCAST_FLOOD_BIT,
	DP_PORT_UP_BIT,			/* link up: receives and forwards */
	DP_PORT_REORDER_HDR_BIT,	/* off: keep the tag where untagged */
	DP_PORT_OFFLOAD_BIT,		/* takes (and asks for) what its
					 * backend's offload_caps say */
};
#define DP_PORT_LEARNING	(1u << DP_PORT_LEARNING_BIT)
#define DP_PORT_FLOOD		(1u << DP_PORT_FLOOD_BIT)
#define DP_PORT_MCAST_FLOOD	(1u << DP_PORT_MCAST_FLOOD_BIT)
#define DP_PORT_BCAST_FLOOD	(1u << DP_PORT_BCAST_FLOOD_BIT)
#define DP_PORT_UP		(1u << DP_PORT_UP_BIT)
#define DP_PORT_REORDER_HDR	(1u << DP_PORT_REORDER_HDR_BIT)
#define DP_PORT_OFFLOAD		(1u << DP_PORT_OFFLOAD_BIT)
#define DP_PORT_DEFAULT_FLAGS \
	(DP_PORT_LEARNING | DP_PORT_FLOOD | DP_PORT_MCAST_FLOOD | \
	 DP_PORT_BCAST_FLOOD | DP_PORT_REORDER_HDR | DP_PORT_OFFLOAD)

/* Per port and VLAN, with filtering on: rx on ingress after
 * classification, tx on egress. */
struct dp_vlan_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
};

/* A port's VLAN configuration: membership and PCP maps. */
struct dp_vlan_cfg {
	struct vlan_port mbr;
	struct vlan_qos_map ingress_qos;	/* PCP in -> PCP in the switch */
	struct vlan_qos_map egress_qos;		/* PCP in the switch -> out */
};

struct dp;

/*
 * Called from a poll thread when its port's device disappeared (POLLERR,
 * EBADFD).  The poll thread stops receiving; the callback must not block
 * and must not detach the port itself (the poll thread is still inside
 * it): it should hand the work to the control side.
 */
typedef void dp_port_gone_func(struct dp *dp, uint32_t index, void *arg);

/* Control thread.  NULL when out of memory. */
struct dp *dp_create(struct fdb *fdb);
/* Control thread.  Detaches and destroys every port, then frees.  */
void dp_destroy(struct dp *dp);

void dp_set_port_gone_cb(struct dp *dp, dp_port_gone_func *cb, void *arg);
struct fdb *dp_fdb(const struct dp *dp);

/*
 * Control thread.  Attach @port (flags DP_PORT_DEFAULT_FLAGS | @up) and
 * start its poll thread when port->poll_fd >= 0.  On success the data plane
 * owns the port and returns its index (>= 0); else -errno (-ENOSPC: port
 * table full, -EEXIST: name taken) and the caller still owns it.
 */
int dp_port_attach(struct dp *dp, struct dp_port *port, bool up);

/*
 * Control thread.  Stop the port's poll thread, remove it from the table
 * and every FDB entry pointing to it, wait for a grace period, then
 * close it (port_ops.close).  Returns 0 or -ENOENT.
 */
int dp_port_detach(struct dp *dp, uint32_t index);

/*
 * Control thread.  How long the last dp_port_detach() waited for the
 * port's poll thread to let go of it, in ms: a thread that does not
 * answer (stopped, starved) is waited for however long it takes, and the
 * caller may want to say so.
 */
uint64_t dp_port_detach_waited_ms(struct dp *dp);

/*
 * Control thread.  As dp_port_detach(), but the entries naming the port
 * are left for dp_flush_deferred() to remove - a flush walks the whole
 * table, a second or more at a million entries, and the control side
 * need not wait for it.  Until then they name an index with no port: a
 * lookup that finds one floods, as for a miss, and the index is not
 * given to another port.  0 or -ENOENT.
 */
int dp_port_detach_deferred(struct dp *dp, uint32_t index);
/*
 * Any one thread at a time (the ager), online, outside any read-side
 * section: remove the entries of the ports detached with
 * dp_port_detach_deferred(), and free their indexes.  Returns how many
 * entries went.
 */
unsigned int dp_flush_deferred(struct dp *dp);

/* Control thread.  The port at @index, or NULL. */
struct dp_port *dp_port_get(struct dp *dp, uint32_t index);
/* Control thread.  Port index by name, or -ENOENT. */
int dp_port_lookup(struct dp *dp, const char *name);

/*
 * Control thread.  Set the flags in @mask to the bits in @value.  A port
 * that goes down loses its dynamic FDB entries, as a Linux bridge port
 * does.  DP_PORT_OFFLOAD is passed on to the backend's set_offload().
 * Returns 0, -ENOENT, or the backend's error (nothing changed then).
 */
int dp_port_set_flags(struct dp *dp, uint32_t index, uint32_t mask,
		      uint32_t value);

/*
 * Control thread.  The MTU of port @index's device (0: no limit): a frame
 * without GSO longer than the MTU, its Ethernet header and one tag is not
 * sent there, and is counted in its tx_drop_mtu (the kernel's
 * is_skb_forwardable()).  0, -ENOENT or -ENOMEM.
 */
int dp_port_set_mtu(struct dp *dp, uint32_t index, uint32_t mtu);

/* Control thread.  Snapshot of a port: returns 0 or -ENOENT. */
struct dp_port_info {
	char name[IFNAMSIZ];
	const char *kind;
	uint32_t index;
	uint32_t flags;
	uint32_t mtu;			/* 0: no limit known */
	uint32_t offload_caps;		/* DP_OFFLOAD_* the backend can take */
	/* How its poll thread does its I/O ("uring", "syscall"), and with
	 * a ring, into which buffers ("registered", "plain"); NULL when it
	 * has no poll thread. */
	const char *io;
	const char *io_buffers;
	struct dp_port_stats stats;
};
int dp_port_get_info(struct dp *dp, uint32_t index,
		     struct dp_port_info *info);
/* Control thread.  Indexes of attached ports in ascending order. */
unsigned int dp_port_list(struct dp *dp, uint32_t *indexes,
			  unsigned int max);

/*
 * How poll threads do their I/O.  Control thread, before the first port
 * is attached (ports attached later use what is set then).
 */
struct dp_io_opts {
	bool uring;			/* batch tap reads and writes with
					 * io_uring, when the kernel has it */
	unsigned int n_threads;		/* 0: a poll thread a port; N: port
					 * i on thread i % N */
	uint32_t busy_poll_us;		/* spin this long on an idle port
					 * before sleeping in poll(); 0: never */
	unsigned int n_cpus;		/* pin poll thread i to cpus[i % n]
					 * (thread i serves port i, or ports
					 * i, i + N, ... with n_threads N) */
	int cpus[DP_MAX_PORTS];
};
void dp_set_io_opts(struct dp *dp, const struct dp_io_opts *opts);
void dp_get_io_opts(struct dp *dp, struct dp_io_opts *opts);

/* Control thread.  Switch-wide settings; 0 or -ENOMEM. */
int dp_set_group_fwd_mask(struct dp *dp, uint16_t mask);
uint16_t dp_get_group_fwd_mask(struct dp *dp);
int dp_set_learning(struct dp *dp, bool on);

/*
 * Control thread.  VLAN filtering on or off.  Learned entries are keyed
 * by VID 0 while it is off and by the frame's VLAN while it is on, so a
 * change forgets the dynamic entries (after a grace period).
 */
int dp_set_vlan_filtering(struct dp *dp, bool on);
bool dp_get_vlan_filtering(struct dp *dp);
/* Control thread.  VLAN_TPID_8021Q or VLAN_TPID_8021AD. */
int dp_set_vlan_protocol(struct dp *dp, uint16_t tpid);
uint16_t dp_get_vlan_protocol(struct dp *dp);
/*
 * Control thread.  The VLAN a new port joins as PVID, egress untagged
 * (0: none).  As Linux does, ports whose PVID is the old default and
 * untagged move to the new one.
 */
int dp_set_default_pvid(struct dp *dp, uint16_t vid);
uint16_t dp_get_default_pvid(struct dp *dp);
/* Control thread.  Copy a port's VLAN configuration out, or replace it
 * (dynamic entries of VLANs the port leaves are flushed). 0, -ENOENT. */
int dp_port_get_vlan(struct dp *dp, uint32_t index, struct dp_vlan_cfg *cfg);
int dp_port_set_vlan(struct dp *dp, uint32_t index,
		     const struct dp_vlan_cfg *cfg);
/* Control thread.  Counters of one VLAN on one port. */
int dp_port_get_vlan_stats(struct dp *dp, uint32_t index, uint16_t vid,
			   struct dp_vlan_stats *stats);

/*
 * Run the pipeline on @n frames received on port @index at @now_ms.  The
 * poll threads call it; unit tests and microbenchmarks call it directly on
 * memory ports.  The caller is a registered, online QSBR thread that is
 * not in a read-side section; it should announce a quiescent state
 * afterwards.  Frames may be modified in place.
 */
void dp_input(struct dp *dp, uint32_t index, struct dp_frame *frames,
	      unsigned int n, uint64_t now_ms);

/*
 * What a poll thread runs the pipeline with: a learning cache (a source
 * refreshed on the same port within 200 ms is not learned
 * again, and destinations are remembered, both for as long as nothing in
 * the table moves or goes), and tx counters added once a burst.  For
 * tests and benchmarks that want the poll threads' behaviour; one worker
 * per thread, used as dp_input() is used.
 */
struct dp_worker;
struct dp_worker *dp_worker_create(struct dp *dp);
void dp_worker_destroy(struct dp_worker *w);
void dp_worker_run(struct dp_worker *w, uint32_t index,
		   struct dp_frame *frames, unsigned int n, uint64_t now_ms);

/*
 * Control thread.  What the data path shows its watchers from now on:
 * @n subscriptions (copied; 0 for none).  A ring or counter a
 * subscription named must outlive it by a grace period: call this without
 * it, then synchronize_rcu(), then free it.  0 or -ENOMEM.
 */
int dp_set_obs(struct dp *dp, const struct dp_obs_sub *subs, unsigned int n);

/*
 * What the pipeline would do with @frame (@len bytes) arriving on port
 * @index now - the trace a watcher would get - without counting,
 * learning or sending anything (as ofproto/trace does).  A registered,
 * online thread outside any read-side section.  0 or -ENOENT.
 */
int dp_explain(struct dp *dp, uint32_t index, const uint8_t *frame,
	       uint32_t len, struct dp_trace *tr);

/* A registered, online thread: port @index's name; false when none. */
bool dp_port_name(struct dp *dp, uint32_t index, char name[IFNAMSIZ]);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t dp_now_ms(void);

/* The memory backend: frames sent to it are queued for the test to read.
 * It takes no offloads unless @offload_caps says so. */
struct dp_port *dp_mem_port_create(const char *name);
struct dp_port *dp_mem_port_create_offload(const char *name,
					   uint32_t offload_caps);
/* Any thread.  Pop the oldest frame sent to @port into @buf (@size bytes).
 * Returns its length, or -EAGAIN when the queue is empty. */
int dp_mem_port_pop(struct dp_port *port, uint8_t *buf, uint32_t size);
/* The same, and the virtio-net header it was sent with into @vnet. */
int dp_mem_port_pop_vnet(struct dp_port *port, uint8_t *buf, uint32_t size,
			 struct virtio_net_hdr *vnet);
/* Any thread.  Frames queued now. */
unsigned int dp_mem_port_pending(struct dp_port *port);
/* Make the next sends fail with @err (0 to stop failing). */
void dp_mem_port_fail_tx(struct dp_port *port, int err);

#endif /* TAPSWITCH_DP_H */
