/*
 * port_afpacket.c - the afpacket kind: an existing network device (a
 * veth, a NIC, a macvlan) through one AF_PACKET socket.
 *
 * `port add IFNAME type afpacket` attaches to the device, never creates
 * it: the socket is bound to it, receives every frame the device receives
 * (promiscuous while attached, through a packet membership that the
 * kernel drops with the socket) and none that the device sends
 * (PACKET_IGNORE_OUTGOING: our own frames, and the local stack's, are
 * never read back).  The device is brought up if it was down, and put
 * back down when the port goes; it is never deleted.
 *
 * Receive: a TPACKET_V2 ring shared with the kernel.  The kernel copies
 * each frame into a slot in the context that delivered it (on a veth, the
 * sender's system call) and wakes us per frame; the poll thread reads the
 * slots in place, hands the pipeline pointers into them, and gives the
 * slots of one burst back to the kernel at its next rx_burst() - by then
 * the copies of that burst are written (port.h).  V2 rather than V3: a V3
 * block is handed to us when full or when its timer (1 ms at least)
 * fires, and a lone ping would wait for the timer.  A slot holds a frame
 * of the device's MTU; a larger one (a TCP super-frame) leaves a
 * truncated copy in its slot, marked TP_STATUS_COPY, and is queued whole
 * on the socket (PACKET_COPY_THRESH), where we read it with recv() into a
 * buffer of the poll thread's - in order, since both queues are.
 *
 * Offloads, as on a tap: PACKET_VNET_HDR puts a virtio-net header before
 * every frame read and written, so a partial checksum or a TCP/UDP
 * super-frame crosses the switch whole; on the way out the kernel
 * segments or checksums what the device cannot take itself.  A VLAN tag
 * the device's receive path took out of the frame (tp_vlan_tci) is put
 * back in front of the payload, where it was on the wire.
 *
 * Transmit: sendmmsg() of a port's copies, a burst in one system call,
 * past the device's queueing discipline (PACKET_QDISC_BYPASS) as the
 * kernel bridge's forwarding is.
 *
 * A device that goes down or away shows on the socket as ENETDOWN; the
 * port is removed when its index no longer names a device here (deleted,
 * or moved to another namespace).  A rename is followed by index.
 */
#include "dataplane/port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane/netdev.h"
#include "dataplane/offload.h"
#include "lib/atomic.h"

/*
 * The receive ring: AFP_BLOCKS blocks of 1 MiB (a block is physically
 * contiguous kernel memory) of slots big enough for a frame of the
 * device's MTU as it was at attach (2 KiB for 1500): 4 MiB, 2048 slots
 * for a 1500-byte MTU - room for a burst the poll thread is late for.
 */
#define AFP_BLOCK_SIZE		(1u << 20)
#define AFP_BLOCKS		4u
#define AFP_MIN_FRAME_SIZE	2048u
/* Room in a slot before the frame: its header, the link-layer address,
 * the virtio-net header, alignment; and after: a tag put back. */
#define AFP_SLOT_OVERHEAD	(TPACKET_ALIGN(TPACKET2_HDRLEN) + 32 + \
				 DP_VNET_HDR_LEN + VLAN_HLEN)

/* The socket's receive buffer: the super-frames that do not fit a slot
 * wait there. */
#define AFP_RCVBUF		(8 << 20)

/* Frames one rx_burst() takes at most (the poll threads ask for 32). */
#define AFP_MAX_BURST		64

/* Copies sent in one sendmmsg(). */
#define AFP_TX_BATCH		64

/* The socket's send buffer: a burst of super-frames must fit. */
#define AFP_SNDBUF		(4 << 20)

struct afp_port {
	struct dp_port up;
	int fd;
	int ifindex;
	bool brought_up;		/* it was down: we set it up */
	uint8_t *ring;			/* AFP_BLOCKS * AFP_BLOCK_SIZE */
	bool ring_is_test;		/* port_afpacket_on_ring()'s */
	unsigned int frame_size;	/* a slot's */
	unsigned int per_block;		/* slots in a block */
	unsigned int n_frames;		/* slots in the ring */
	/* The poll thread's: the next slot to read, and the slots of the
	 * last burst, still the pipeline's until the next rx_burst(). */
	unsigned int head;
	unsigned int n_held;
	unsigned int held[AFP_MAX_BURST];
};

static struct afp_port *afp_port(struct dp_port *port)
{
	return (struct afp_port *)port;
}

static struct tpacket2_hdr *afp_slot(const struct afp_port *ap,
				     unsigned int i)
{
	return (struct tpacket2_hdr *)(ap->ring +
		(size_t)(i / ap->per_block) * AFP_BLOCK_SIZE +
		(size_t)(i % ap->per_block) * ap->frame_size);
}

static void afp_release(struct tpacket2_hdr *h)
{
	__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

/* Give the slots of the last burst back to the kernel. */
static void afp_release_held(struct afp_port *ap)
{
	for (unsigned int k = 0; k < ap->n_held; k++)
		afp_release(afp_slot(ap, ap->held[k]));
	ap->n_held = 0;
}

/*
 * Put back the tag the device's receive path took out (802.1Q unless the
 * kernel says which), moving the MAC addresses 4 bytes forward into the
 * header room before them; offsets in the virtio-net header that count
 * from the frame's start move with it.
 */
static void afp_push_tag(struct dp_frame *f, const struct tpacket2_hdr *h)
{
	uint16_t tpid = h->tp_status & TP_STATUS_VLAN_TPID_VALID ?
			h->tp_vlan_tpid : ETH_P_8021Q;
	uint8_t *mac = f->data - VLAN_HLEN;

	memmove(mac, f->data, 2 * ETH_ALEN);
	mac[12] = (uint8_t)(tpid >> 8);
	mac[13] = (uint8_t)tpid;
	mac[14] = (uint8_t)(h->tp_vlan_tci >> 8);
	mac[15] = (uint8_t)h->tp_vlan_tci;
	f->data = mac;
	f->len += VLAN_HLEN;
	if (f->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		f->vnet.csum_start += VLAN_HLEN;
	if (f->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		f->vnet.hdr_len += VLAN_HLEN;
	f->vnet_in_buf = false;
}

/* The frames the kernel could not give us (the ring was full), since
 * we last asked. */
static void afp_count_missed(struct afp_port *ap)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (!getsockopt(ap->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		OWN_ADD(&ap->up.stats.rx_missed, st.tp_drops);
}

/*
 * The frame of slot @h that did not fit it, whole, from the socket's
 * queue into @f's buffer (the poll thread's).  0, or -1 when it is not
 * there (the kernel could not queue it: our receive buffer was full).
 */
static int afp_recv_copy(struct afp_port *ap, struct dp_frame *f)
{
	uint8_t *buf = f->data - DP_VNET_HDR_LEN;
	ssize_t n;

	n = recv(ap->fd, buf, DP_VNET_HDR_LEN + DP_FRAME_MAX - VLAN_HLEN,
		 MSG_DONTWAIT | MSG_TRUNC);
	if (n < (ssize_t)DP_VNET_HDR_LEN ||
	    n > (ssize_t)(DP_VNET_HDR_LEN + DP_FRAME_MAX - VLAN_HLEN))
		return -1;
	memcpy(&f->vnet, buf, sizeof(f->vnet));
	f->len = (uint32_t)n - DP_VNET_HDR_LEN;
	f->vnet_in_buf = true;
	return 0;
}

static int afp_rx_burst(struct dp_port *port, struct dp_io *io,
			struct dp_frame *frames, unsigned int n)
{
	struct afp_port *ap = afp_port(port);
	unsigned int got = 0;
	bool losing = false;

	(void)io;
	afp_release_held(ap);
	if (n > AFP_MAX_BURST)
		n = AFP_MAX_BURST;
	while (got < n) {
		unsigned int slot = ap->head;
		struct tpacket2_hdr *h = afp_slot(ap, slot);
		uint32_t status = __atomic_load_n(&h->tp_status,
						  __ATOMIC_ACQUIRE);
		struct dp_frame *f = &frames[got];

		if (!(status & TP_STATUS_USER))
			break;
		ap->head = (slot + 1) % ap->n_frames;
		losing |= status & TP_STATUS_LOSING;
		if (status & TP_STATUS_COPY) {
			/* Too big for its slot: whole on the socket. */
			int err = afp_recv_copy(ap, f);

			if (!err && (status & TP_STATUS_VLAN_VALID) &&
			    f->len >= 2 * ETH_ALEN)
				afp_push_tag(f, h);
			afp_release(h);
			if (err) {
				OWN_ADD(&ap->up.stats.rx_missed, 1);
				continue;
			}
			got++;
			continue;
		}
		/* Cut short without a whole copy (the socket's buffer was
		 * full), or no room before it for a tag. */
		if (h->tp_snaplen < h->tp_len ||
		    h->tp_mac < DP_VNET_HDR_LEN + VLAN_HLEN) {
			OWN_ADD(&ap->up.stats.rx_missed, 1);
			afp_release(h);
			continue;
		}
		f->data = (uint8_t *)h + h->tp_mac;
		f->len = h->tp_snaplen;
		memcpy(&f->vnet, f->data - DP_VNET_HDR_LEN, sizeof(f->vnet));
		f->vnet_in_buf = true;
		if ((status & TP_STATUS_VLAN_VALID) && f->len >= 2 * ETH_ALEN)
			afp_push_tag(f, h);
		ap->held[ap->n_held++] = slot;
		got++;
	}
	if (losing)
		afp_count_missed(ap);
	if (!got && n)
		return netdev_fd_gone(ap->fd, ap->ifindex);
	return (int)got;
}

static void afp_tx_burst(struct dp_port *port, struct dp_io *io,
			 struct dp_tx *const *txs, unsigned int n)
{
	struct afp_port *ap = afp_port(port);
	struct mmsghdr msgs[AFP_TX_BATCH];

	(void)io;
	while (n) {
		unsigned int k = n < AFP_TX_BATCH ? n : AFP_TX_BATCH, i = 0;

		memset(msgs, 0, k * sizeof(msgs[0]));
		for (unsigned int j = 0; j < k; j++) {
			struct dp_tx *tx = txs[j];

			msgs[j].msg_hdr.msg_iov = tx->iov;
			msgs[j].msg_hdr.msg_iovlen = dp_iov_merge(tx->iov,
								  tx->iovcnt);
		}
		while (i < k) {
			int sent = sendmmsg(ap->fd, msgs + i, k - i,
					    MSG_DONTWAIT);

			if (sent <= 0) {
				/* The first of them failed: say so, go on
				 * with the next. */
				txs[i]->err = sent < 0 ? (int16_t)-errno
						       : -EIO;
				i++;
				continue;
			}
			for (int s = 0; s < sent; s++, i++)
				txs[i]->err = msgs[i].msg_len ==
					      txs[i]->len + DP_VNET_HDR_LEN ?
					      0 : -EIO;
		}
		txs += k;
		n -= k;
	}
}

static int afp_link_state(struct dp_port *port, struct port_link *link)
{
	struct afp_port *ap = afp_port(port);

	return netdev_link_of_index(ap->ifindex, link->ifname, &link->up,
				    &link->mtu);
}

static void afp_close(struct dp_port *port)
{
	struct afp_port *ap = afp_port(port);
	char name[IFNAMSIZ];

	if (ap->ring_is_test) {
		free(ap->ring);
		free(ap);
		return;
	}

	if (ap->ring)
		munmap(ap->ring, (size_t)AFP_BLOCKS * AFP_BLOCK_SIZE);
	/* The promiscuous membership goes with the socket. */
	close(ap->fd);
	if (ap->brought_up && if_indextoname(ap->ifindex, name))
		netdev_set_up(name, false, NULL);
	free(ap);
}

/* Slots for a frame of the device's MTU, a power of two. */
static void afp_ring_geometry(struct afp_port *ap)
{
	uint32_t need = AFP_SLOT_OVERHEAD + ETH_HLEN + VLAN_HLEN +
			(ap->up.mtu ? ap->up.mtu : 1500);

	ap->frame_size = AFP_MIN_FRAME_SIZE;
	while (ap->frame_size < need && ap->frame_size < AFP_BLOCK_SIZE)
		ap->frame_size *= 2;
	ap->per_block = AFP_BLOCK_SIZE / ap->frame_size;
	ap->n_frames = ap->per_block * AFP_BLOCKS;
}

static int afp_setopt(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val)) ? -errno : 0;
}

/* The socket, its ring, bound to the device; 0 or -errno and *why. */
static int afp_socket(struct afp_port *ap, const char **why)
{
	struct tpacket_req req = {
		.tp_block_size = AFP_BLOCK_SIZE,
		.tp_block_nr = AFP_BLOCKS,
		.tp_frame_size = ap->frame_size,
		.tp_frame_nr = ap->n_frames,
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ap->ifindex,
	};
	struct packet_mreq mr = {
		.mr_ifindex = ap->ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};
	void *ring;
	int err;

	/* Protocol 0: nothing is queued before the ring exists. */
	ap->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ap->fd < 0) {
		*why = errno == EPERM ? "permission denied (needs CAP_NET_RAW)"
				      : "cannot open a packet socket";
		return -errno;
	}
	/* The options a ring cannot be set up without come first. */
	if ((err = afp_setopt(ap->fd, SOL_PACKET, PACKET_VERSION,
			      TPACKET_V2))) {
		*why = "no TPACKET_V2 packet rings on this kernel";
		return err;
	}
	if ((err = afp_setopt(ap->fd, SOL_PACKET, PACKET_VNET_HDR, 1))) {
		*why = "no PACKET_VNET_HDR on this kernel";
		return err;
	}
	if ((err = afp_setopt(ap->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING,
			      1))) {
		*why = "no PACKET_IGNORE_OUTGOING on this kernel (4.20)";
		return err;
	}
	/* A frame larger than a slot: queued whole on the socket too. */
	if ((err = afp_setopt(ap->fd, SOL_PACKET, PACKET_COPY_THRESH, 1))) {
		*why = "no PACKET_COPY_THRESH on this kernel";
		return err;
	}
	/* Best effort: without them it is slower, not wrong. */
	afp_setopt(ap->fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1);
	if (afp_setopt(ap->fd, SOL_SOCKET, SO_SNDBUFFORCE, AFP_SNDBUF))
		afp_setopt(ap->fd, SOL_SOCKET, SO_SNDBUF, AFP_SNDBUF);
	if (afp_setopt(ap->fd, SOL_SOCKET, SO_RCVBUFFORCE, AFP_RCVBUF))
		afp_setopt(ap->fd, SOL_SOCKET, SO_RCVBUF, AFP_RCVBUF);
	if (setsockopt(ap->fd, SOL_PACKET, PACKET_RX_RING, &req,
		       sizeof(req))) {
		*why = "cannot set up the receive ring (out of memory?)";
		return -errno;
	}
	ring = mmap(NULL, (size_t)AFP_BLOCKS * AFP_BLOCK_SIZE,
		    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ap->fd,
		    0);
	if (ring == MAP_FAILED) {
		*why = "cannot map the receive ring";
		return -errno;
	}
	ap->ring = ring;
	if (bind(ap->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		*why = "cannot bind to the device";
		return -errno;
	}
	if (setsockopt(ap->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr))) {
		*why = "cannot make the device promiscuous";
		return -errno;
	}
	return 0;
}

static int afp_open(const char *name, struct dp_port **port,
		    const char **why)
{
	struct afp_port *ap;
	unsigned int flags;
	bool was_up = false;
	int err;

	if (!name[0] || strlen(name) >= IFNAMSIZ) {
		*why = "not a valid interface name";
		return -EINVAL;
	}
	ap = calloc(1, sizeof(*ap));
	if (!ap) {
		*why = strerror(ENOMEM);
		return -ENOMEM;
	}
	ap->fd = -1;
	ap->ifindex = (int)if_nametoindex(name);
	if (!ap->ifindex) {
		*why = "no such device (this kind attaches, it does not create)";
		err = -ENODEV;
		goto out_free;
	}
	ap->up.ops = &port_afpacket_ops;
	strcpy(ap->up.name, name);
	ap->up.opened_as = "attached to an existing device";
	ap->up.io = "packet_ring";
	/* The kernel segments and checksums what the device cannot take. */
	ap->up.offload_caps = DP_OFFLOAD_CSUM | DP_OFFLOAD_TSO4 |
			      DP_OFFLOAD_TSO6 | DP_OFFLOAD_TSO_ECN |
			      DP_OFFLOAD_USO;
	/* Up first: a socket bound to a device that is down starts with
	 * an error to read. */
	err = netdev_set_up(name, true, &was_up);
	if (err) {
		*why = "cannot bring the device up";
		goto out_free;
	}
	ap->brought_up = !was_up;
	if (netdev_get_link(-1, name, &flags, &ap->up.mtu))
		ap->up.mtu = 0;
	afp_ring_geometry(ap);
	err = afp_socket(ap, why);
	if (err)
		goto out_free;
	ap->up.poll_fd = ap->fd;
	*port = &ap->up;
	return 0;

out_free:
	if (ap->ring)
		munmap(ap->ring, (size_t)AFP_BLOCKS * AFP_BLOCK_SIZE);
	if (ap->fd >= 0)
		close(ap->fd);
	if (ap->brought_up)
		netdev_set_up(name, false, NULL);
	free(ap);
	return err;
}

const struct port_ops port_afpacket_ops = {
	.kind = "afpacket",
	.open = afp_open,
	.rx_burst = afp_rx_burst,
	.tx_burst = afp_tx_burst,
	.link_state = afp_link_state,
	.close = afp_close,
};

struct dp_port *port_afpacket_on_ring(uint32_t mtu, uint8_t **ring)
{
	struct afp_port *ap = calloc(1, sizeof(*ap));

	if (!ap)
		return NULL;
	ap->ring = calloc(AFP_BLOCKS, AFP_BLOCK_SIZE);
	if (!ap->ring) {
		free(ap);
		return NULL;
	}
	ap->up.ops = &port_afpacket_ops;
	strcpy(ap->up.name, "ring");
	ap->up.poll_fd = -1;
	ap->up.mtu = mtu;
	ap->fd = -1;
	ap->ring_is_test = true;
	afp_ring_geometry(ap);
	*ring = ap->ring;
	return &ap->up;
}

void port_afpacket_ring_geometry(const struct dp_port *port,
				 unsigned int *frame_size,
				 unsigned int *per_block, unsigned int *n_frames)
{
	const struct afp_port *ap = (const struct afp_port *)port;

	*frame_size = ap->frame_size;
	*per_block = ap->per_block;
	*n_frames = ap->n_frames;
}
