/*
 * port.h - a port kind behind one interface.
 *
 * Design
 * ------
 * A port is something frames come from and go to: a tap device, an
 * in-memory queue for tests, and next a netdev through AF_XDP or
 * AF_PACKET, a VXLAN tunnel.  Each kind is one file that defines its
 * private struct (embedding struct dp_port first), its functions, and one
 * struct port_ops at the bottom, listed in port_kinds.c.  The poll
 * threads, the pipeline and the link monitor call through the ops and
 * never ask which kind they have (as Open vSwitch's netdev_class, the
 * kernel's net_device_ops).
 *
 * Frames in: a port with a pollable file descriptor (poll_fd) gets a poll
 * thread.  The thread hands rx_burst() frame slots whose data buffers are
 * DP_FRAME_MAX bytes, with DP_VNET_HDR_LEN bytes of headroom before them;
 * the kind fills them and their offload state (a virtio-net header: a
 * partial checksum, a GSO super-frame; all zero for an ordinary frame).
 *
 * Frames out: the pipeline queues copies (struct dp_tx: a virtio-net
 * header in iov[0], the frame gathered in iov[1..]) and hands each port
 * its run of them with tx_burst().  A kind that takes no header skips
 * iov[0]; one that takes no offloads never gets a frame that needs them
 * (the pipeline completes checksums and cuts up super-frames first, as
 * its offload_caps say).
 *
 * Batching: a poll thread may own an io_uring (struct dp_io.ring); a kind
 * whose I/O is reads and writes on a file descriptor queues them there
 * (rx_prepare() and tx_burst() with the helpers of dataplane/uring.h), and
 * the thread submits the copies of one burst and the reads of the next in
 * one system call.  A kind that cannot use the ring, or a thread that has
 * none, does its I/O at once in rx_burst() and tx_burst().
 *
 * Thread safety
 * -------------
 * open, set_offload and close run on the control side (under the
 * daemon's configuration lock); link_state too, or on the link monitor
 * without that lock, beside the other control-side operations but never
 * beside close (the daemon waits for it: switch/link.c).  rx_prepare and rx_burst run in the
 * port's poll thread only.  tx_burst runs in any thread that forwards to
 * the port - several poll threads at once - so a kind serialises what it
 * must itself (a tap's writes need nothing: the kernel does it).
 */
#ifndef TAPSWITCH_DP_PORT_H
#define TAPSWITCH_DP_PORT_H

#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vlan/vlan.h"

/* A frame's room: a 64 KiB super-frame, its Ethernet header and tags. */
#define DP_FRAME_MAX	(65536 + 256)
#define DP_VNET_HDR_LEN	((uint32_t)sizeof(struct virtio_net_hdr))

struct dp_port;
struct dp_uring;
struct dp_worker;

/*
 * A received frame.  @vnet is its offload state as a tap's virtio-net
 * header gives it (a partial checksum, a GSO super-frame); all zero for
 * an ordinary frame, which is what callers without offloads pass.
 */
struct dp_frame {
	uint8_t *data;
	uint32_t len;
	struct virtio_net_hdr vnet;
	/* The header as read sits in the DP_VNET_HDR_LEN bytes before
	 * @data: an unchanged copy is written from one buffer. */
	bool vnet_in_buf;
};

/*
 * One frame on its way to one port, as the pipeline hands it to a
 * backend: iov[0] is the virtio-net header (for backends that take one),
 * iov[1..iovcnt-1] the frame, gathered so that a tag is inserted or
 * skipped without copying; @len counts the frame bytes only.
 */
struct dp_tx {
	struct dp_port *port;
	struct virtio_net_hdr vnet;
	uint8_t tag[VLAN_HLEN];
	uint16_t vid;			/* for per-VLAN counters; 0: none */
	uint8_t iovcnt;
	/* Queued on a ring: its outcome comes when the ring has run. */
	bool io_pending;
	/* Its outcome, as the kind's tx_burst() sets it: 0 or -errno. */
	int16_t err;
	uint32_t len;
	struct iovec iov[4];
};

/*
 * Merge the pieces of @iov[0..@n) that follow each other in memory, in
 * place; returns how many are left.  An unchanged frame read with its
 * header is one piece again.  Any thread.
 */
static inline int dp_iov_merge(struct iovec *iov, int n)
{
	int k = 0;

	for (int i = 1; i < n; i++) {
		if ((uint8_t *)iov[k].iov_base + iov[k].iov_len ==
		    (uint8_t *)iov[i].iov_base)
			iov[k].iov_len += iov[i].iov_len;
		else
			iov[++k] = iov[i];
	}
	return n ? k + 1 : 0;
}

/*
 * What the I/O of one poll-thread round goes through.  @ring is the
 * thread's io_uring, NULL when it has none (then every kind does its I/O
 * at once); a kind that finds the ring cannot do what it asked (a kernel
 * without RWF_NOWAIT on its files) says so with dp_io_ring_failed(), and
 * the thread does without it from then on.
 */
struct dp_io {
	struct dp_uring *ring;
	struct dp_worker *w;		/* where tx outcomes are counted */
	bool ring_failed;
};

/* The outcome of one copy whose write was queued on io->ring (0 or
 * -errno): counted in the port's tx_* counters or tx_errors.  The ring
 * helper calls it (uring.c); a kind sets tx->err instead. */
void dp_io_tx_done(struct dp_io *io, const struct dp_tx *tx, int err);

static inline void dp_io_ring_failed(struct dp_io *io)
{
	io->ring_failed = true;
}

/* The state of a port's device, as the link monitor follows it. */
struct port_link {
	char ifname[IFNAMSIZ];		/* the device's name now */
	bool up;			/* administratively up, with carrier */
	uint32_t mtu;			/* its MTU; 0: no limit known */
};

struct port_ops {
	const char *kind;		/* "tap", "mem": port show's kind */

	/*
	 * Control side.  Open the device @name, or attach to it: create it
	 * if the kind does that, and bring it up.  Returns 0 and *@port
	 * (the caller owns it until dp_port_attach() succeeds), or -errno
	 * and *@why, one line for the user.
	 */
	int (*open)(const char *name, struct dp_port **port,
		    const char **why);

	/*
	 * Poll thread, optional.  Queue reads for up to @n frames into the
	 * slots of @frames on io->ring (never called without one); returns
	 * how many were queued.  rx_burst() collects them after the ring
	 * has run.
	 */
	unsigned int (*rx_prepare)(struct dp_port *port, struct dp_io *io,
				   struct dp_frame *frames, unsigned int n);
	/*
	 * Poll thread.  Up to @n received frames into @frames (their data
	 * buffers are DP_FRAME_MAX bytes with DP_VNET_HDR_LEN of headroom;
	 * the kind may point a frame's data elsewhere in its buffer, or
	 * into memory of its own that stays as it is until its next
	 * rx_burst(): by then the copies of this burst are written).
	 * Returns how many (0: nothing ready), or -errno when none came:
	 * -EBADFD when the device is gone.
	 */
	int (*rx_burst)(struct dp_port *port, struct dp_io *io,
			struct dp_frame *frames, unsigned int n);
	/*
	 * Any thread.  Send the @n copies @txs[], all to this port, in
	 * order.  For each,
	 * either set its err (0: sent, or -errno) now, or queue it on
	 * io->ring (dp_uring_write(): its outcome comes when the ring has
	 * run; the copies stay valid until then).  May rewrite their iovecs
	 * (dp_iov_merge()).
	 */
	void (*tx_burst)(struct dp_port *port, struct dp_io *io,
			 struct dp_tx *const *txs, unsigned int n);

	/*
	 * Control side, optional: where the device is and whether it is
	 * up.  Returns 0, -EBADFD when the device was deleted, or another
	 * -errno when it cannot tell now.  A kind without it has a link
	 * that is always as the control side sets it.
	 */
	int (*link_state)(struct dp_port *port, struct port_link *link);
	/* Control side, optional: let the device hand us offloaded frames
	 * (@on) or not. */
	int (*set_offload)(struct dp_port *port, bool on);
	/* Control side, after the port is detached and unreachable, or
	 * never attached: undo what open did, and free it. */
	void (*close)(struct dp_port *port);
};

/* Per-port counters.  rx_* and drop_* are written by the port's own poll
 * thread, tx_* by whichever thread delivers to the port. */
struct dp_port_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t flooded;		/* received here, flooded */
	uint64_t drop_runt;		/* shorter than an Ethernet header */
	uint64_t drop_src;		/* multicast or all-zero source MAC */
	uint64_t drop_link_local;	/* 01:80:C2:00:00:0X not forwarded */
	uint64_t drop_same_port;	/* known unicast to the ingress port */
	uint64_t drop_port_down;	/* received while the port is down */
	uint64_t drop_vlan;		/* VLAN filter: no PVID, not a member */
	uint64_t drop_bad_tag;		/* truncated 802.1Q/802.1ad header */
	uint64_t drop_bad_offload;	/* a virtio-net header we cannot do */
	uint64_t drop_no_egress;	/* nowhere to go: known unicast to a
					 * port that is down, or a flood that
					 * reaches no port */
	uint64_t tx_errors;		/* egress write failed */
	uint64_t rx_errors;		/* ingress read failed */
	uint64_t rx_missed;		/* the device had frames for us that
					 * our receive ring had no room for */
	uint64_t tx_sw_csum;		/* checksums completed for this port */
	uint64_t tx_sw_gso;		/* super-frames cut up for this port */
	uint64_t tx_drop_mtu;		/* longer than this port's MTU takes:
					 * not sent (is_skb_forwardable) */
};

struct dp_vlan_stats;

/* The part of a port every kind shares.  Kinds embed it first. */
struct dp_port {
	const struct port_ops *ops;
	char name[IFNAMSIZ];
	/* Readable when frames wait; the port's poll thread sleeps on it.
	 * -1: no poll thread (frames come in through dp_input()). */
	int poll_fd;
	uint32_t index;			/* in the port table, when attached */
	uint64_t serial;		/* unique to this port for the life of
					 * the process (set at attach): a
					 * port at the same index and address
					 * later is another */
	uint32_t offload_caps;		/* DP_OFFLOAD_*: what it can take */
	uint32_t mtu;			/* as opened; 0: no limit known (the
					 * data plane follows dp_port_set_mtu()
					 * after attach) */
	const char *opened_as;		/* for the log: "created", ... */
	/* port show's io, for a kind whose I/O is its own rather than the
	 * poll thread's ring or a system call a frame; NULL: that. */
	const char *io;

	/* The poll layer's. */
	uint8_t *rx_bufs;		/* its poll thread's receive buffers */
	uint64_t rx_bufs_id;		/* unique to that allocation */
	bool rx_gone;			/* its poll thread saw it go */
	bool rx_registered;		/* atomic: its receive buffers are
					 * registered with its thread's ring */
	struct dp_port_stats stats;
	struct dp_vlan_stats *vstats;	/* [VLAN_N_VID], while attached */
};

/* The kind called @kind, or NULL. */
const struct port_ops *port_kind_find(const char *kind);

/* The kind that serves the device @name best: tap for a tap or a name no
 * device has (the tap kind creates it), afpacket for any other device. */
const struct port_ops *port_kind_for(const char *name);

/*
 * For the unit tests: an afpacket port on a receive ring in plain memory
 * (*@ring, zeroed: every slot the kernel's), with no socket, so that the
 * ring walk of rx_burst() can be fed slots by hand; close() frees both.
 * And the geometry it chose for @mtu.
 */
struct dp_port *port_afpacket_on_ring(uint32_t mtu, uint8_t **ring);
void port_afpacket_ring_geometry(const struct dp_port *port,
				 unsigned int *frame_size,
				 unsigned int *per_block, unsigned int *n_frames);

/*
 * For the unit tests: an afxdp port on rings and a UMEM in plain memory,
 * with no socket; @r says where everything is, so that the test can play
 * the kernel's side of each ring (fill and tx: consume; rx and comp:
 * produce; a counter is a free-running index, an entry at index & (size
 * - 1)).  The fill ring holds the first half of the UMEM, as after open.
 */
struct xdp_desc;
struct port_afxdp_rings {
	uint8_t *area;
	uint32_t frame_size, n_frames, ring_size;
	uint64_t *fill, *comp;			/* fill: 2 * ring_size */
	struct xdp_desc *rx, *tx;
	uint32_t *fill_prod, *fill_cons, *comp_prod, *comp_cons;
	uint32_t *rx_prod, *rx_cons, *tx_prod, *tx_cons;
	uint32_t *tx_flags;			/* XDP_RING_NEED_WAKEUP */
};
struct dp_port *port_afxdp_on_rings(struct port_afxdp_rings *r);

/* The kinds (port_kinds.c lists them). */
extern const struct port_ops port_tap_ops;
extern const struct port_ops port_mem_ops;
extern const struct port_ops port_afpacket_ops;
extern const struct port_ops port_afxdp_ops;

#endif /* TAPSWITCH_DP_PORT_H */
