/*
 * port_afxdp.c - the afxdp kind: an existing network device through an
 * AF_XDP socket (libxdp), on its receive queue 0.
 *
 * `port add IFNAME type afxdp` attaches to the device, never creates it.
 * libxdp loads its default program (it redirects what arrives on a queue
 * with a socket to that socket, and passes the rest to the stack), in
 * the driver (native XDP) where the driver has it, in the stack (generic
 * XDP) otherwise; the socket asks for zero-copy and takes copy mode where
 * the driver has none (veth).  port show's io says which:
 * xdp_{native,generic}_{zerocopy,copy}.  The device is held promiscuous
 * (a NIC filters by MAC before XDP sees a frame), brought up if it was
 * down; `port del` and exit delete the socket, which detaches the
 * program, and put the device back as it was.
 *
 * One UMEM a port, AFX_FRAMES frames of AFX_FRAME_SIZE bytes: the first
 * half lent to the kernel for receiving (the fill ring), the second half
 * ours for sending.  Receive: the poll thread peeks the rx ring, hands the
 * pipeline pointers into the UMEM, and returns those frames to the fill
 * ring at its next rx_burst() (by then the copies of the burst are
 * written, port.h).  Transmit: a port's copies are gathered into free
 * frames, put on the tx ring in one go, and the kernel kicked (in copy
 * mode every burst needs a sendto; one moves about 32 descriptors, so a
 * longer run gets a kick per 32); the completion ring gives the frames
 * back.  Several poll threads send to one port: the tx side is under a
 * mutex.
 *
 * No offloads: an XDP frame has no virtio-net header, so the pipeline
 * cuts up super-frames and completes checksums for this port; and a
 * device whose MTU does not fit an AF_XDP frame is refused at port add
 * (no multi-buffer yet).  A device with more than one receive queue is
 * refused too: frames on the other queues would reach the stack, not the
 * switch (`ethtool -L IFNAME combined 1`, or use afpacket).
 */
#include "dataplane/port.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "dataplane/netdev.h"
#include "lib/atomic.h"

#define AFX_FRAME_SIZE		XSK_UMEM__DEFAULT_FRAME_SIZE	/* 4096 */
#define AFX_FRAMES		4096u
#define AFX_RX_FRAMES		(AFX_FRAMES / 2)
#define AFX_TX_FRAMES		(AFX_FRAMES - AFX_RX_FRAMES)
#define AFX_RING_SIZE		2048u
/* The largest frame a UMEM frame takes, past the kernel's headroom. */
#define AFX_MAX_FRAME		(AFX_FRAME_SIZE - XDP_PACKET_HEADROOM)
/* Descriptors one copy-mode kick moves, about. */
#define AFX_KICK_BATCH		32u
/* Frames one rx_burst() takes at most (the poll threads ask for 32). */
#define AFX_MAX_BURST		64u

struct afx_port {
	struct dp_port up;
	int fd;				/* the socket's; -1 in the unit tests */
	int ifindex;
	int promisc_fd;
	bool brought_up;
	void *area;			/* the UMEM, AFX_FRAMES frames */
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	/* The poll thread's: the frames of the last burst, still the
	 * pipeline's until the next rx_burst(). */
	unsigned int n_held;
	uint64_t held[AFX_MAX_BURST];
	struct afx_test_rings *test;	/* port_afxdp_on_rings()'s */
	/* The senders': free tx frames, under tx_lock. */
	pthread_mutex_t tx_lock;
	unsigned int n_free;
	uint64_t free_tx[AFX_TX_FRAMES];
};

/* The rings' memory, when the unit tests play the kernel. */
struct afx_test_rings {
	uint32_t prod[4], cons[4], flags[4];
	uint64_t fill[AFX_RING_SIZE * 2], comp[AFX_RING_SIZE];
	struct xdp_desc rx[AFX_RING_SIZE], tx[AFX_RING_SIZE];
};

static struct afx_port *afx_port(struct dp_port *port)
{
	return (struct afx_port *)port;
}

/* Lend @n frames at @addrs to the kernel for receiving; true if the fill
 * ring took them (it has room for all of them by construction). */
static bool afx_fill(struct afx_port *xp, const uint64_t *addrs,
		     unsigned int n)
{
	uint32_t idx = 0;

	if (!n)
		return true;
	if (xsk_ring_prod__reserve(&xp->fill, n, &idx) != n)
		return false;
	for (unsigned int i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&xp->fill, idx + i) = addrs[i];
	xsk_ring_prod__submit(&xp->fill, n);
	return true;
}

/* The first half of the UMEM to the fill ring, the second half on the
 * free list for sending. */
static bool afx_lend_frames(struct afx_port *xp)
{
	uint64_t addrs[AFX_RX_FRAMES];

	for (unsigned int i = 0; i < AFX_RX_FRAMES; i++)
		addrs[i] = (uint64_t)i * AFX_FRAME_SIZE;
	if (!afx_fill(xp, addrs, AFX_RX_FRAMES))
		return false;
	for (unsigned int i = 0; i < AFX_TX_FRAMES; i++)
		xp->free_tx[xp->n_free++] =
			(uint64_t)(AFX_RX_FRAMES + i) * AFX_FRAME_SIZE;
	return true;
}

static int afx_rx_burst(struct dp_port *port, struct dp_io *io,
			struct dp_frame *frames, unsigned int n)
{
	struct afx_port *xp = afx_port(port);
	uint32_t idx = 0, got;

	(void)io;
	if (afx_fill(xp, xp->held, xp->n_held))
		xp->n_held = 0;
	if (n > AFX_MAX_BURST - xp->n_held)
		n = AFX_MAX_BURST - xp->n_held;
	got = xsk_ring_cons__peek(&xp->rx, n, &idx);
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&xp->rx,
								  idx + i);
		struct dp_frame *f = &frames[i];

		f->data = xsk_umem__get_data(xp->area, d->addr);
		f->len = d->len;
		memset(&f->vnet, 0, sizeof(f->vnet));
		f->vnet_in_buf = false;
		xp->held[xp->n_held++] = xsk_umem__extract_addr(d->addr);
	}
	if (got)
		xsk_ring_cons__release(&xp->rx, got);
	else if (xsk_ring_prod__needs_wakeup(&xp->fill))
		recvfrom(xp->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	if (!got && n && xp->fd >= 0)
		return netdev_fd_gone(xp->fd, xp->ifindex);
	return (int)got;
}

/* Frames the kernel has sent, back on the free list.  Under tx_lock. */
static void afx_reap(struct afx_port *xp)
{
	uint32_t idx = 0, done = xsk_ring_cons__peek(&xp->comp,
						     AFX_TX_FRAMES, &idx);

	for (uint32_t i = 0; i < done; i++)
		xp->free_tx[xp->n_free++] =
			*xsk_ring_cons__comp_addr(&xp->comp, idx + i);
	if (done)
		xsk_ring_cons__release(&xp->comp, done);
}

/* Tell the kernel about @n new tx descriptors. */
static void afx_kick(struct afx_port *xp, unsigned int n)
{
	if (!xsk_ring_prod__needs_wakeup(&xp->tx))
		return;
	for (unsigned int k = 0; k < n; k += AFX_KICK_BATCH)
		if (sendto(xp->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			break;
}

static void afx_tx_burst(struct dp_port *port, struct dp_io *io,
			 struct dp_tx *const *txs, unsigned int n)
{
	struct afx_port *xp = afx_port(port);
	unsigned int fit = 0, queued = 0;
	uint32_t idx = 0, room;

	(void)io;
	for (unsigned int i = 0; i < n; i++)
		fit += txs[i]->len <= AFX_MAX_FRAME;
	pthread_mutex_lock(&xp->tx_lock);
	afx_reap(xp);
	room = fit < xp->n_free ? fit : xp->n_free;
	room = xsk_ring_prod__reserve(&xp->tx, room, &idx);
	for (unsigned int i = 0; i < n; i++) {
		struct dp_tx *tx = txs[i];
		struct xdp_desc *d;
		uint64_t addr;
		uint8_t *p;

		if (tx->len > AFX_MAX_FRAME) {
			tx->err = -EMSGSIZE;
			continue;
		}
		if (queued == room) {
			tx->err = -ENOBUFS;	/* no free frame: dropped */
			continue;
		}
		addr = xp->free_tx[--xp->n_free];
		p = xsk_umem__get_data(xp->area, addr);
		/* iov[0] is the virtio-net header: not ours to send. */
		for (unsigned int k = 1; k < tx->iovcnt; k++) {
			memcpy(p, tx->iov[k].iov_base, tx->iov[k].iov_len);
			p += tx->iov[k].iov_len;
		}
		d = xsk_ring_prod__tx_desc(&xp->tx, idx + queued);
		d->addr = addr;
		d->len = tx->len;
		tx->err = 0;
		queued++;
	}
	if (queued) {
		xsk_ring_prod__submit(&xp->tx, queued);
		afx_kick(xp, queued);
	}
	pthread_mutex_unlock(&xp->tx_lock);
}

static int afx_link_state(struct dp_port *port, struct port_link *link)
{
	struct afx_port *xp = afx_port(port);

	return netdev_link_of_index(xp->ifindex, link->ifname, &link->up,
				    &link->mtu);
}

static void afx_free(struct afx_port *xp)
{
	char name[IFNAMSIZ];

	if (xp->test) {
		free(xp->test);
		free(xp->area);
		pthread_mutex_destroy(&xp->tx_lock);
		free(xp);
		return;
	}

	/* The socket first: it holds the UMEM; the last socket of a
	 * device takes libxdp's program off it. */
	if (xp->xsk)
		xsk_socket__delete(xp->xsk);
	if (xp->umem)
		xsk_umem__delete(xp->umem);
	if (xp->area)
		munmap(xp->area, (size_t)AFX_FRAMES * AFX_FRAME_SIZE);
	if (xp->promisc_fd >= 0)
		close(xp->promisc_fd);
	if (xp->brought_up && if_indextoname(xp->ifindex, name))
		netdev_set_up(name, false, NULL);
	pthread_mutex_destroy(&xp->tx_lock);
	free(xp);
}

static void afx_close(struct dp_port *port)
{
	afx_free(afx_port(port));
}

/* libbpf and libxdp print to stderr; the daemon says what failed. */
static int afx_quiet(enum libbpf_print_level level, const char *fmt,
		     va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int afx_quiet_xdp(enum libxdp_print_level level, const char *fmt,
			 va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* The socket on queue 0: native XDP first, then generic; zero-copy
 * first, then copy.  0 or -errno. */
static int afx_socket(struct afx_port *xp, const char *name)
{
	static const struct {
		uint32_t xdp_flags;
		uint16_t bind_flags;
		const char *io;
	} modes[] = {
		{ XDP_FLAGS_DRV_MODE, XDP_ZEROCOPY, "xdp_native_zerocopy" },
		{ XDP_FLAGS_DRV_MODE, XDP_COPY, "xdp_native_copy" },
		{ XDP_FLAGS_SKB_MODE, XDP_COPY, "xdp_generic_copy" },
	};
	int err = -EOPNOTSUPP;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct xsk_socket_config cfg = {
			.rx_size = AFX_RING_SIZE,
			.tx_size = AFX_RING_SIZE,
			.xdp_flags = modes[i].xdp_flags |
				     XDP_FLAGS_UPDATE_IF_NOEXIST,
			.bind_flags = modes[i].bind_flags |
				      XDP_USE_NEED_WAKEUP,
		};

		err = xsk_socket__create(&xp->xsk, name, 0, xp->umem, &xp->rx,
					 &xp->tx, &cfg);
		if (!err) {
			xp->up.io = modes[i].io;
			return 0;
		}
		xp->xsk = NULL;
		if (err == -EBUSY || err == -EEXIST)
			return err;	/* another program or socket there */
	}
	return err;
}

static const char *afx_why(int err)
{
	switch (err) {
	case -EBUSY:
	case -EEXIST:
		return "the device has an XDP program or an AF_XDP socket already";
	case -EPERM:
		return "permission denied (needs CAP_NET_ADMIN, CAP_BPF)";
	case -EOPNOTSUPP:
	case -EINVAL:
		return "no XDP on this device or kernel";
	default:
		return strerror(-err);
	}
}

static int afx_open(const char *name, struct dp_port **port,
		    const char **why)
{
	struct xsk_umem_config ucfg = {
		.fill_size = AFX_RING_SIZE * 2,
		.comp_size = AFX_RING_SIZE,
		.frame_size = AFX_FRAME_SIZE,
		.frame_headroom = 0,
	};
	unsigned int flags, mtu = 0, queues;
	struct afx_port *xp;
	bool was_up = false;
	int err;

	if (!name[0] || strlen(name) >= IFNAMSIZ) {
		*why = "not a valid interface name";
		return -EINVAL;
	}
	xp = calloc(1, sizeof(*xp));
	if (!xp) {
		*why = strerror(ENOMEM);
		return -ENOMEM;
	}
	pthread_mutex_init(&xp->tx_lock, NULL);
	xp->fd = -1;
	xp->promisc_fd = -1;
	xp->ifindex = (int)if_nametoindex(name);
	if (!xp->ifindex) {
		*why = "no such device (this kind attaches, it does not create)";
		err = -ENODEV;
		goto out_free;
	}
	xp->up.ops = &port_afxdp_ops;
	strcpy(xp->up.name, name);
	xp->up.opened_as = "attached to an existing device";
	if (!netdev_get_link(-1, name, &flags, &mtu) &&
	    mtu + ETH_HLEN + VLAN_HLEN > AFX_MAX_FRAME) {
		*why = "its MTU is more than an AF_XDP frame takes (3818 at most; no multi-buffer yet): use type afpacket";
		err = -EMSGSIZE;
		goto out_free;
	}
	xp->up.mtu = mtu;
	queues = netdev_rx_queues(name);
	if (queues > 1) {
		*why = "it has several receive queues and afxdp reads queue 0 only (ethtool -L IFNAME combined 1, or type afpacket)";
		err = -EOPNOTSUPP;
		goto out_free;
	}
	err = netdev_set_up(name, true, &was_up);
	if (err) {
		*why = "cannot bring the device up";
		goto out_free;
	}
	xp->brought_up = !was_up;
	xp->promisc_fd = netdev_promisc_hold(xp->ifindex);
	if (xp->promisc_fd < 0) {
		err = xp->promisc_fd;
		*why = "cannot make the device promiscuous";
		goto out_free;
	}
	xp->area = mmap(NULL, (size_t)AFX_FRAMES * AFX_FRAME_SIZE,
			PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (xp->area == MAP_FAILED) {
		xp->area = NULL;
		err = -ENOMEM;
		*why = strerror(ENOMEM);
		goto out_free;
	}
	libbpf_set_print(afx_quiet);
	libxdp_set_print(afx_quiet_xdp);
	err = xsk_umem__create(&xp->umem, xp->area,
			       (uint64_t)AFX_FRAMES * AFX_FRAME_SIZE,
			       &xp->fill, &xp->comp, &ucfg);
	if (err) {
		xp->umem = NULL;
		*why = err == -ENOMEM || err == -EPERM ?
		       "cannot register the UMEM (locked memory limit?)" :
		       afx_why(err);
		goto out_free;
	}
	err = afx_socket(xp, name);
	if (err) {
		*why = afx_why(err);
		goto out_free;
	}
	if (!afx_lend_frames(xp)) {
		err = -ENOBUFS;
		*why = "cannot fill the receive ring";
		goto out_free;
	}
	xp->fd = xsk_socket__fd(xp->xsk);
	xp->up.poll_fd = xp->fd;
	*port = &xp->up;
	return 0;

out_free:
	afx_free(xp);
	return err;
}

const struct port_ops port_afxdp_ops = {
	.kind = "afxdp",
	.open = afx_open,
	.rx_burst = afx_rx_burst,
	.tx_burst = afx_tx_burst,
	.link_state = afx_link_state,
	.close = afx_close,
};

/* The rings of the unit tests: @n entries at @ring, counters @i of @t;
 * a producer counts its free entries from cached_cons + size. */
static void afx_test_prod(struct xsk_ring_prod *x, struct afx_test_rings *t,
			  int i, void *ring, uint32_t n)
{
	*x = (struct xsk_ring_prod){
		.cached_cons = n, .mask = n - 1, .size = n,
		.producer = &t->prod[i], .consumer = &t->cons[i],
		.ring = ring, .flags = &t->flags[i],
	};
}

static void afx_test_cons(struct xsk_ring_cons *x, struct afx_test_rings *t,
			  int i, void *ring, uint32_t n)
{
	*x = (struct xsk_ring_cons){
		.mask = n - 1, .size = n,
		.producer = &t->prod[i], .consumer = &t->cons[i],
		.ring = ring, .flags = &t->flags[i],
	};
}

struct dp_port *port_afxdp_on_rings(struct port_afxdp_rings *r)
{
	struct afx_port *xp = calloc(1, sizeof(*xp));
	struct afx_test_rings *t;

	if (!xp)
		return NULL;
	pthread_mutex_init(&xp->tx_lock, NULL);
	xp->fd = -1;
	xp->promisc_fd = -1;
	xp->up.ops = &port_afxdp_ops;
	xp->up.poll_fd = -1;
	strcpy(xp->up.name, "rings");
	xp->test = t = calloc(1, sizeof(*t));
	xp->area = calloc(AFX_FRAMES, AFX_FRAME_SIZE);
	if (!t || !xp->area) {
		afx_free(xp);
		return NULL;
	}
	afx_test_prod(&xp->fill, t, 0, t->fill, AFX_RING_SIZE * 2);
	afx_test_cons(&xp->comp, t, 1, t->comp, AFX_RING_SIZE);
	afx_test_cons(&xp->rx, t, 2, t->rx, AFX_RING_SIZE);
	afx_test_prod(&xp->tx, t, 3, t->tx, AFX_RING_SIZE);
	afx_lend_frames(xp);
	*r = (struct port_afxdp_rings){
		.area = xp->area,
		.frame_size = AFX_FRAME_SIZE,
		.n_frames = AFX_FRAMES,
		.ring_size = AFX_RING_SIZE,
		.fill = t->fill, .comp = t->comp, .rx = t->rx, .tx = t->tx,
		.fill_prod = &t->prod[0], .fill_cons = &t->cons[0],
		.comp_prod = &t->prod[1], .comp_cons = &t->cons[1],
		.rx_prod = &t->prod[2], .rx_cons = &t->cons[2],
		.tx_prod = &t->prod[3], .tx_cons = &t->cons[3],
		.tx_flags = &t->flags[3],
	};
	return &xp->up;
}
