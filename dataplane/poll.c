/*
 * poll.c - the poll threads, and how they do their I/O.
 *
 * A poll thread serves a set of ports: by default one thread a port
 * (DESIGN.md), or, with dp_io_opts.n_threads = N, port i on thread i % N -
 * on a small machine one thread for every port keeps a conversation on one
 * core, and a reply that a write produced (an ICMP echo reply, a TCP ack,
 * made by the receiving host's stack inside our write()) is read back in
 * the same loop instead of waking another thread.  It sleeps in poll() on
 * its ports' fds (offline, so that grace periods need not wait for it),
 * then drains the ports that have frames, a burst at a time: receive up
 * to DP_BURST frames, run them through the pipeline, write the copies,
 * announce a quiescent state.
 *
 * Two ways to do the I/O:
 *   - system calls: one read() per frame received, one write() per copy
 *     sent;
 *   - io_uring (the default where the kernel has it, for ports whose
 *     frames are read and written on an fd: taps): the copies of one
 *     burst and the reads of the next go to the kernel in one
 *     io_uring_enter().  Reads carry RWF_NOWAIT, so a read of an empty
 *     tap completes at once with -EAGAIN instead of being parked on a
 *     poll (parked reads on a tap wake all together, and spawn io-wq
 *     workers); once a burst comes back short, the port is drained.  Tap
 *     reads and writes complete inline, so every submission is complete
 *     when io_uring_enter() returns: nothing is in flight across a
 *     quiescent state.
 * Receive buffers come in two sets per port: the copies of burst k, still
 * to be written, point into one set while burst k+1 is read into the
 * other.
 *
 * Which ports a thread serves comes from the configuration snapshot: the
 * thread looks at the snapshot after every quiescent state and wake-up,
 * rebuilds its list when the snapshot changed, and says which one it has
 * seen (seen_gen).  It never keeps a port's pointer past a quiescent state
 * unless the snapshot is still the one it was taken from.  The control
 * side, to remove a port, unpublishes it, kicks the thread and waits until
 * the thread has seen that; a grace period later nothing touches the port.
 *
 * Options: a bounded busy-poll (keep reading idle ports for a few
 * microseconds before sleeping: the wake-up, not the work, is most of a
 * lone frame's latency), and pinning poll threads to CPUs.
 */
#include "dataplane/dp_private.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/rcu.h"

/* One receive buffer: the virtio-net header, then the frame. */
#define DP_BUF_STRIDE (((DP_VNET_HDR_LEN + DP_FRAME_MAX) + 63) & ~63u)
#define DP_RX_SETS 2

/* Reads submitted on a port poll() says is readable; a full burst asks
 * for DP_BURST next; a port we just wrote to gets this many. */
#define DP_URING_FIRST_READS 8
#define DP_AFTER_WRITE_READS 2

/* SQEs: a full queue of copies, and reads. */
#define DP_URING_ENTRIES 256
/* user_data: a copy's index in the worker's queue, or DP_UD_RX + the
 * read's port slot * DP_BURST + its buffer slot. */
#define DP_UD_RX 0x10000u

/* How long the control side waits for a thread to see a new snapshot. */
#define DP_ACK_TIMEOUT_MS 5000

struct dp_uring {
	struct io_uring ring;
	bool tx_pending[DP_TXQ];	/* submitted, no completion yet */
	/*
	 * Receive buffers registered with the ring: slot i holds those of
	 * port i.  A registered buffer is read into and written from
	 * without importing, checking and copying through user pages.
	 */
	bool fixed;			/* the sparse table is there */
	unsigned int n_reg;		/* slots in use, listed in used[] */
	unsigned int last_reg;		/* where in used[] the last write
					 * found its buffer */
	uint16_t used[DP_MAX_PORTS];
	uint8_t *reg[DP_MAX_PORTS];	/* slot: the port's index */
	uint64_t reg_id[DP_MAX_PORTS];	/* rx_bufs_id: an address can
					 * be mapped again */
};

/* A port as its poll thread sees it; rebuilt with every snapshot. */
struct dp_rxq {
	uint32_t index;
	struct dp_port *port;		/* valid while the snapshot is */
	int fd;
	uint8_t *bufs;
	int buf_index;			/* registered with the ring; -1: not */
	unsigned int set;		/* the buffer set reads go to next */
	unsigned int n_reads;		/* reads to submit; 0: none */
	unsigned int n_frames;
	bool gone;			/* port->rx_gone: not polled any more */
	bool wrote;			/* we sent it something this round */
	int32_t res[DP_BURST];
	struct dp_frame frames[DP_BURST];
};

/* A poll thread's own state. */
struct dp_pthread {
	struct dp_poller *pl;
	struct dp_worker *w;
	struct dp_uring *u;
	const struct dp_conf *conf;	/* the snapshot rxq was built from */
	unsigned int n_rxq;
	struct dp_rxq *rxq;		/* [DP_MAX_PORTS] */
	struct pollfd *pfd;		/* [n_rxq + 1]: ports, stop_fd */
	uint32_t *pfd_rxq;		/* pfd slot -> rxq slot */
	unsigned int n_pfd;
};

static uint64_t dp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint8_t *dp_rx_buf(const struct dp_rxq *q, unsigned int set,
			  unsigned int slot)
{
	return q->bufs + (size_t)(set * DP_BURST + slot) * DP_BUF_STRIDE;
}

static bool dp_stopping(struct dp_poller *pl)
{
	return __atomic_load_n(&pl->stopping, __ATOMIC_ACQUIRE);
}

uint32_t dp_poll_thread_of(const struct dp *dp, uint32_t index)
{
	return dp->io.n_threads ? index % dp->io.n_threads : index;
}

/* ---- receive buffers (control thread) ---- */

/*
 * 64 buffers of 64 KiB a port, of which a small frame touches one cache
 * line: on transparent huge pages the set is three TLB entries, not 64.
 */
#define DP_HUGE_PAGE (2u << 20)
#define DP_BUFS_SIZE \
	(((size_t)DP_RX_SETS * DP_BURST * DP_BUF_STRIDE + DP_HUGE_PAGE - 1) & \
	 ~(size_t)(DP_HUGE_PAGE - 1))

/* What a port's buffers use of that, and what is registered. */
#define DP_BUFS_USED ((size_t)DP_RX_SETS * DP_BURST * DP_BUF_STRIDE)

static uint64_t dp_bufs_next_id;	/* atomic */

static uint8_t *dp_bufs_alloc(void)
{
	uint8_t *map = mmap(NULL, DP_BUFS_SIZE + DP_HUGE_PAGE,
			    PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t start;

	if (map == MAP_FAILED)
		return NULL;
	/* Align to a huge page; give back what is before and after. */
	start = ((uintptr_t)map + DP_HUGE_PAGE - 1) &
		~(uintptr_t)(DP_HUGE_PAGE - 1);
	if (start > (uintptr_t)map)
		munmap(map, start - (uintptr_t)map);
	munmap((uint8_t *)start + DP_BUFS_SIZE,
	       (uintptr_t)map + DP_HUGE_PAGE - start);
	/* Best effort: without THP it is still correct. */
	madvise((void *)start, DP_BUFS_SIZE, MADV_HUGEPAGE);
	return (uint8_t *)start;
}

static void dp_bufs_free(uint8_t *bufs)
{
	if (bufs)
		munmap(bufs, DP_BUFS_SIZE);
}

/* ---- io_uring ---- */

static struct dp_uring *dp_uring_create(void)
{
	struct dp_uring *u = calloc(1, sizeof(*u));
	struct io_uring_params p;

	if (!u)
		return NULL;
	memset(&p, 0, sizeof(p));
	/* Only this thread submits; completions need no task-work IPI. */
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
	if (io_uring_queue_init_params(DP_URING_ENTRIES, &u->ring, &p) < 0) {
		memset(&p, 0, sizeof(p));
		if (io_uring_queue_init_params(DP_URING_ENTRIES, &u->ring,
					       &p) < 0) {
			free(u);
			return NULL;
		}
	}
	/* Without it (a kernel older than 5.19): plain reads.  It pins
	 * nothing yet; dp_uring_sync_bufs() does. */
	u->fixed = !io_uring_register_buffers_sparse(&u->ring, DP_MAX_PORTS);
	return u;
}

/*
 * Register the receive buffers of the ports in @t's list, each in the slot
 * of its port's index; unregister what is no longer there.  If the kernel
 * refuses (a locked-memory limit), unregister everything and use plain
 * reads and writes from then on.
 */
static void dp_uring_sync_bufs(struct dp_pthread *t)
{
	struct dp_uring *u = t->u;
	uint8_t *want[DP_MAX_PORTS] = { NULL };
	uint64_t want_id[DP_MAX_PORTS] = { 0 };

	for (unsigned int j = 0; j < t->n_rxq; j++)
		t->rxq[j].buf_index = -1;
	if (!u || !u->fixed)
		return;
	for (unsigned int j = 0; j < t->n_rxq; j++) {
		want[t->rxq[j].index] = t->rxq[j].bufs;
		want_id[t->rxq[j].index] = t->rxq[j].port->rx_bufs_id;
	}
	for (unsigned int i = 0; i < DP_MAX_PORTS; i++) {
		struct iovec iov = {
			.iov_base = want[i],
			.iov_len = want[i] ? DP_BUFS_USED : 0,
		};
		__u64 tag = 0;

		if (u->reg[i] == want[i] && u->reg_id[i] == want_id[i])
			continue;
		if (io_uring_register_buffers_update_tag(&u->ring, i, &iov,
							 &tag, 1) != 1) {
			/* Leave no slot naming memory that may be unmapped
			 * and mapped again: plain I/O from now on. */
			io_uring_unregister_buffers(&u->ring);
			memset(u->reg, 0, sizeof(u->reg));
			memset(u->reg_id, 0, sizeof(u->reg_id));
			u->fixed = false;
			u->n_reg = 0;
			for (unsigned int j = 0; j < t->n_rxq; j++)
				__atomic_store_n(&t->rxq[j].port->rx_registered,
						 false, __ATOMIC_RELAXED);
			return;
		}
		u->reg[i] = want[i];
		u->reg_id[i] = want_id[i];
	}
	for (unsigned int j = 0; j < t->n_rxq; j++) {
		t->rxq[j].buf_index = (int)t->rxq[j].index;
		__atomic_store_n(&t->rxq[j].port->rx_registered, true,
				 __ATOMIC_RELAXED);
		u->used[j] = (uint16_t)t->rxq[j].index;
	}
	u->n_reg = t->n_rxq;
	u->last_reg = 0;
}

/* The registered slot that holds @len bytes at @p, or -1. */
static int dp_uring_buf_of(struct dp_uring *u, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	/* The ports this thread reads; one, or the last one's again,
	 * most of the time. */
	for (unsigned int k = 0; k < u->n_reg; k++) {
		unsigned int at = (u->last_reg + k) % u->n_reg;
		unsigned int j = u->used[at];
		uintptr_t base = (uintptr_t)u->reg[j];

		if (a >= base && a - base + len <= DP_BUFS_USED) {
			u->last_reg = at;
			return (int)j;
		}
	}
	return -1;
}

static void dp_uring_destroy(struct dp_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}

/* Count the copies' results and note the reads' (in @t's queues). */
static void dp_uring_reap(struct dp_worker *w, struct dp_uring *u,
			  struct dp_pthread *t)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint64_t ud = cqe->user_data;

		n++;
		if (ud >= DP_UD_RX) {
			ud -= DP_UD_RX;
			if (t && ud / DP_BURST < t->n_rxq)
				t->rxq[ud / DP_BURST].res[ud % DP_BURST] =
					cqe->res;
		} else if (ud < DP_TXQ && u->tx_pending[ud]) {
			const struct dp_tx *tx = &w->tx[ud];
			uint32_t want = tx->len + tx->port->vnet_hdr_len;
			int err = cqe->res < 0 ? cqe->res :
				  (uint32_t)cqe->res == want ? 0 : -EIO;

			u->tx_pending[ud] = false;
			dp_tx_done(w, tx, err);
		}
	}
	io_uring_cq_advance(&u->ring, n);
	dp_tx_acc_publish(w);
}

/* After a failed submission: what never completed is lost, and counted. */
static void dp_uring_lost(struct dp_worker *w, struct dp_uring *u)
{
	for (unsigned int i = 0; i < DP_TXQ; i++) {
		if (u->tx_pending[i])
			dp_tx_done(w, &w->tx[i], -EIO);
		u->tx_pending[i] = false;
	}
	dp_tx_acc_publish(w);
}

/* Put the queued copies in the submission queue; a port whose backend
 * does not do fd I/O is written at once.  Returns how many SQEs. */
static unsigned int dp_uring_prep_tx(struct dp_worker *w, struct dp_uring *u)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < w->n_tx; i++) {
		struct dp_tx *tx = &w->tx[i];
		struct dp_port *port = tx->port;
		struct io_uring_sqe *sqe;
		int skip = port->vnet_hdr_len ? 0 : 1, n_iov;

		if (!port->ops->fd_frames) {
			dp_tx_done(w, tx, port->ops->tx(port, tx));
			continue;
		}
		/* DP_URING_ENTRIES >= DP_TXQ + the reads: there is room. */
		sqe = io_uring_get_sqe(&u->ring);
		n_iov = dp_iov_merge(tx->iov + skip, tx->iovcnt - skip);
		/* One buffer (header and frame as read): a plain write,
		 * without an iovec to import. */
		if (n_iov == 1) {
			void *p = tx->iov[skip].iov_base;
			size_t len = tx->iov[skip].iov_len;
			int b = u->n_reg ? dp_uring_buf_of(u, p, len) : -1;

			if (b >= 0)
				io_uring_prep_write_fixed(sqe, port->fd, p,
							  len, (uint64_t)-1,
							  b);
			else
				io_uring_prep_write(sqe, port->fd, p, len,
						    (uint64_t)-1);
		} else
			io_uring_prep_writev(sqe, port->fd, tx->iov + skip,
					     n_iov, (uint64_t)-1);
		sqe->rw_flags = RWF_NOWAIT;
		sqe->user_data = i;
		u->tx_pending[i] = true;
		n++;
	}
	return n;
}

/* Submit and wait for @n completions; every one completes inline. */
static int dp_uring_submit_wait(struct dp_uring *u, unsigned int n)
{
	struct io_uring_cqe *cqe;
	int ret;

	if (!n)
		return 0;
	ret = io_uring_submit_and_wait(&u->ring, n);
	while ((ret >= 0 || ret == -EINTR) &&
	       io_uring_cq_ready(&u->ring) < n)
		ret = io_uring_wait_cqe_nr(&u->ring, &cqe, n);
	return ret < 0 && ret != -EINTR ? ret : 0;
}

void dp_uring_flush(struct dp_worker *w)
{
	struct dp_uring *u = w->uring;
	unsigned int n = dp_uring_prep_tx(w, u);
	int err = dp_uring_submit_wait(u, n);

	dp_uring_reap(w, u, NULL);
	if (err)
		dp_uring_lost(w, u);
	w->n_tx = 0;
}

/* ---- the thread's view of its ports ---- */

/*
 * Look at the snapshot; when it is not the one the list was built from,
 * write what is queued (it may name ports about to go), rebuild the list
 * and the pollfd array, and say so.  Online, outside a read-side section,
 * nothing read and not yet processed.
 */
static void dp_pthread_sync(struct dp_pthread *t)
{
	struct dp_poller *pl = t->pl;
	struct dp *dp = pl->dp;
	const struct dp_conf *conf;
	unsigned int n = 0;

	/* rcu_dereference(), as the acquire load TSan can follow. */
	conf = __atomic_load_n(&dp->conf, __ATOMIC_ACQUIRE);
	if (conf == t->conf)
		return;
	dp_worker_flush(t->w);
	for (uint32_t k = 0; k < conf->n_active; k++) {
		uint32_t i = conf->active[k];
		struct dp_port *port = conf->port[i];
		struct dp_rxq *q = &t->rxq[n];

		if (port->fd < 0 || !port->rx_bufs ||
		    dp_poll_thread_of(dp, i) != pl->index)
			continue;
		q->index = i;
		q->port = port;
		q->fd = port->fd;
		q->bufs = port->rx_bufs;
		q->set = 0;
		q->n_reads = 0;
		q->n_frames = 0;
		q->gone = port->rx_gone;
		q->wrote = false;
		n++;
	}
	t->n_rxq = n;
	t->n_pfd = 0;
	for (unsigned int j = 0; j < n; j++) {
		if (t->rxq[j].gone)
			continue;
		t->pfd[t->n_pfd] = (struct pollfd){ .fd = t->rxq[j].fd,
						    .events = POLLIN };
		t->pfd_rxq[t->n_pfd++] = j;
	}
	t->pfd[t->n_pfd] = (struct pollfd){ .fd = pl->stop_fd,
					    .events = POLLIN };
	dp_uring_sync_bufs(t);
	t->conf = conf;
	__atomic_store_n(&pl->seen_gen, conf->gen, __ATOMIC_RELEASE);
}

enum dp_wait_result {
	DP_WAIT_READY,			/* some ports have frames (n_reads) */
	DP_WAIT_STOP,
};

/* A port is gone (POLLERR): stop polling it, tell the control side. */
static void dp_rxq_gone(struct dp_pthread *t, struct dp_rxq *q)
{
	struct dp *dp = t->pl->dp;

	if (q->gone)
		return;
	q->gone = true;
	q->port->rx_gone = true;
	q->n_reads = 0;
	/* Rebuild the pollfd array without it at the next look. */
	t->conf = NULL;
	if (dp->gone_cb)
		dp->gone_cb(dp, q->index, dp->gone_arg);
}

/*
 * Nothing is left to read.  With busy-polling, look at every port again
 * until they have been idle for busy_poll_us; then sleep in poll() and
 * mark the ports it says are readable.  Online, outside a read-side
 * section, with nothing queued.
 */
static enum dp_wait_result dp_wait(struct dp_pthread *t,
				   uint64_t *idle_since)
{
	struct dp_poller *pl = t->pl;
	int n;

	for (;;) {
		dp_pthread_sync(t);
		if (dp_stopping(pl))
			return DP_WAIT_STOP;
		if (pl->busy_poll_us && t->n_pfd) {
			uint64_t now = dp_now_us();

			if (!*idle_since)
				*idle_since = now;
			if (now - *idle_since < pl->busy_poll_us) {
				for (unsigned int j = 0; j < t->n_rxq; j++)
					if (!t->rxq[j].gone)
						t->rxq[j].n_reads = 1;
				return DP_WAIT_READY;
			}
		}
		/* Offline while blocked: grace periods need not wait. */
		rcu_offline();
		n = poll(t->pfd, t->n_pfd + 1, -1);
		rcu_thread_online();
		*idle_since = 0;
		if (n < 0) {
			/* EINTR, or ENOMEM: try again, without spinning. */
			if (errno != EINTR)
				usleep(1000);
			continue;
		}
		if (t->pfd[t->n_pfd].revents) {
			uint64_t v;

			/* A kick: the snapshot changed, or stop. */
			if (read(pl->stop_fd, &v, sizeof(v)) < 0) {
				/* EAGAIN: someone else's kick was read */
			}
		}
		/* The fds were polled under the old snapshot: look at the
		 * new one before trusting what they said. */
		if (t->conf != __atomic_load_n(&pl->dp->conf,
					       __ATOMIC_ACQUIRE))
			continue;
		n = 0;
		for (unsigned int s = 0; s < t->n_pfd; s++) {
			struct dp_rxq *q = &t->rxq[t->pfd_rxq[s]];
			short re = t->pfd[s].revents;

			if (re & (POLLERR | POLLHUP | POLLNVAL)) {
				dp_rxq_gone(t, q);
			} else if (re & POLLIN) {
				q->n_reads = DP_URING_FIRST_READS;
				n++;
			}
		}
		if (n)
			return DP_WAIT_READY;
	}
}

/* Mark, for another look, the ports of ours we have just written to: the
 * receiving host may have answered inside the write. */
static bool dp_mark_written(struct dp_pthread *t)
{
	bool any = false;

	for (unsigned int j = 0; j < t->n_rxq; j++) {
		struct dp_rxq *q = &t->rxq[j];

		if (q->wrote && !q->gone && !q->n_reads) {
			q->n_reads = DP_AFTER_WRITE_READS;
			any = true;
		}
		q->wrote = false;
	}
	return any;
}

/* Note which of our ports the queued copies go to. */
static void dp_note_written(struct dp_pthread *t)
{
	struct dp_worker *w = t->w;

	if (t->n_rxq < 2)
		return;		/* the only port never sends to itself */
	for (unsigned int i = 0; i < w->n_tx; i++)
		for (unsigned int j = 0; j < t->n_rxq; j++)
			if (t->rxq[j].port == w->tx[i].port)
				t->rxq[j].wrote = true;
}

/* Run what the ports received through the pipeline; the next round's
 * reads as the counts say.  Returns whether any port wants more. */
static bool dp_process(struct dp_pthread *t)
{
	uint64_t now = dp_now_ms();
	bool more = false;

	for (unsigned int j = 0; j < t->n_rxq; j++) {
		struct dp_rxq *q = &t->rxq[j];
		unsigned int asked = q->n_reads;

		if (!asked)
			continue;
		if (q->n_frames) {
			dp_worker_input(t->w, q->index, q->frames,
					q->n_frames, now);
			q->set ^= 1;
		}
		/* A full burst: maybe more.  Short: drained. */
		q->n_reads = q->n_frames == asked && !q->gone ? DP_BURST : 0;
		more |= q->n_reads != 0;
		q->n_frames = 0;
	}
	dp_note_written(t);
	return more;
}

/* With system calls: read() per frame, the backend's tx per copy. */
static void dp_poll_loop_sync(struct dp_pthread *t)
{
	struct dp_poller *pl = t->pl;
	uint64_t idle_since = 0;
	bool more = false;

	for (;;) {
		if (!more) {
			if (dp_wait(t, &idle_since) == DP_WAIT_STOP)
				return;
		}
		for (unsigned int j = 0; j < t->n_rxq; j++) {
			struct dp_rxq *q = &t->rxq[j];
			int n;

			if (!q->n_reads)
				continue;
			for (unsigned int i = 0; i < DP_BURST; i++)
				q->frames[i].data = dp_rx_buf(q, 0, i) +
						    DP_VNET_HDR_LEN;
			n = q->port->ops->rx_burst(q->port, q->frames,
						   q->n_reads);
			if (n == -EBADFD) {
				dp_rxq_gone(t, q);
				n = 0;
			} else if (n < 0) {
				OWN_ADD(&q->port->stats.rx_errors, 1);
				n = 0;
			}
			q->n_frames = n;
			if (n)
				idle_since = 0;
		}
		more = dp_process(t);
		dp_worker_flush(t->w);
		rcu_quiescent();
		if (dp_stopping(pl))
			return;
		if (!more)
			more = dp_mark_written(t);
		/* A new snapshot: take it before touching a port again. */
		if (t->conf != __atomic_load_n(&pl->dp->conf,
					       __ATOMIC_ACQUIRE)) {
			dp_pthread_sync(t);
			more = false;
		}
	}
}

/* With io_uring: the copies of one burst go with the reads of the next. */
static enum { DP_LOOP_STOP, DP_LOOP_FALLBACK }
dp_poll_loop_uring(struct dp_pthread *t)
{
	struct dp_poller *pl = t->pl;
	struct dp_worker *w = t->w;
	struct dp_uring *u = t->u;
	uint64_t idle_since = 0;
	bool more = false;

	for (;;) {
		unsigned int n_sqe;
		bool fallback = false;

		if (!more) {
			/* Drained: write the copies, then wait. */
			dp_uring_flush(w);
			rcu_quiescent();
			if (dp_wait(t, &idle_since) == DP_WAIT_STOP)
				return DP_LOOP_STOP;
		}
		n_sqe = dp_uring_prep_tx(w, u);
		for (unsigned int j = 0; j < t->n_rxq; j++) {
			struct dp_rxq *q = &t->rxq[j];
			uint32_t hl = q->port->vnet_hdr_len;

			for (unsigned int i = 0; i < q->n_reads; i++) {
				struct io_uring_sqe *sqe =
					io_uring_get_sqe(&u->ring);

				if (!sqe) {
					/* Full: fewer reads this round. */
					q->n_reads = i;
					break;
				}
				if (q->buf_index >= 0)
					io_uring_prep_read_fixed(
						sqe, q->fd,
						dp_rx_buf(q, q->set, i),
						hl + DP_FRAME_MAX,
						(uint64_t)-1, q->buf_index);
				else
					io_uring_prep_read(
						sqe, q->fd,
						dp_rx_buf(q, q->set, i),
						hl + DP_FRAME_MAX,
						(uint64_t)-1);
				/* An empty tap answers -EAGAIN now, rather
				 * than parking the read on a poll. */
				sqe->rw_flags = RWF_NOWAIT;
				sqe->user_data = DP_UD_RX + j * DP_BURST + i;
				q->res[i] = -EAGAIN;
				n_sqe++;
			}
		}
		if (dp_uring_submit_wait(u, n_sqe)) {
			dp_uring_reap(w, u, t);
			dp_uring_lost(w, u);
			usleep(1000);
		} else {
			dp_uring_reap(w, u, t);
		}
		w->n_tx = 0;
		/* Nothing in flight, nothing queued: a quiescent state. */
		rcu_quiescent();
		if (dp_stopping(pl))
			return DP_LOOP_STOP;

		for (unsigned int j = 0; j < t->n_rxq; j++) {
			struct dp_rxq *q = &t->rxq[j];
			uint32_t hl = q->port->vnet_hdr_len;

			for (unsigned int i = 0; i < q->n_reads; i++) {
				int32_t res = q->res[i];
				struct dp_frame *f = &q->frames[q->n_frames];
				uint8_t *buf = dp_rx_buf(q, q->set, i);

				if (res >= (int32_t)hl) {
					f->data = buf + hl;
					f->len = res - hl;
					if (hl)
						memcpy(&f->vnet, buf,
						       sizeof(f->vnet));
					else
						memset(&f->vnet, 0,
						       sizeof(f->vnet));
					f->vnet_in_buf =
						hl == DP_VNET_HDR_LEN;
					q->n_frames++;
				} else if (res == -EBADFD) {
					dp_rxq_gone(t, q);
				} else if (res == -EOPNOTSUPP ||
					   res == -EINVAL) {
					/* No RWF_NOWAIT on this kernel. */
					fallback = true;
				} else if (res < 0 && res != -EAGAIN &&
					   res != -EINTR) {
					OWN_ADD(&q->port->stats.rx_errors, 1);
				}
			}
			if (q->n_frames)
				idle_since = 0;
		}
		if (fallback) {
			/* Process what came; the syscall loop goes on. */
			dp_process(t);
			dp_uring_flush(w);
			rcu_quiescent();
			return DP_LOOP_FALLBACK;
		}
		more = dp_process(t);
		if (!more) {
			dp_uring_flush(w);
			rcu_quiescent();
			more = dp_mark_written(t);
		}
		if (t->conf != __atomic_load_n(&pl->dp->conf,
					       __ATOMIC_ACQUIRE)) {
			dp_uring_flush(w);
			rcu_quiescent();
			dp_pthread_sync(t);
			more = false;
		}
	}
}

static void *dp_poll_thread(void *arg)
{
	struct dp_poller *pl = arg;
	struct dp_pthread t = { .pl = pl };

	rcu_register_thread();
	if (pl->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(pl->cpu, &set);
		/* Best effort: the daemon checked the CPU exists. */
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	t.w = dp_worker_create(pl->dp);
	t.rxq = calloc(DP_MAX_PORTS, sizeof(*t.rxq));
	t.pfd = calloc(DP_MAX_PORTS + 1, sizeof(*t.pfd));
	t.pfd_rxq = calloc(DP_MAX_PORTS, sizeof(*t.pfd_rxq));
	if (!t.w || !t.rxq || !t.pfd || !t.pfd_rxq) {
		/* Cannot forward: wait to be stopped. */
		while (!dp_stopping(pl)) {
			rcu_offline();
			usleep(10000);
			rcu_thread_online();
		}
		goto out;
	}
	dp_pthread_sync(&t);
	/* The ring belongs to the thread that submits to it. */
	if (pl->want_uring)
		t.u = dp_uring_create();
	if (t.u) {
		/* The list was built before the ring: register now. */
		dp_uring_sync_bufs(&t);
		t.w->uring = t.u;
		__atomic_store_n(&pl->uring, true, __ATOMIC_RELAXED);
		if (dp_poll_loop_uring(&t) == DP_LOOP_FALLBACK) {
			t.w->uring = NULL;
			dp_uring_destroy(t.u);
			t.u = NULL;
			__atomic_store_n(&pl->uring, false,
					 __ATOMIC_RELAXED);
			for (unsigned int j = 0; j < t.n_rxq; j++)
				__atomic_store_n(&t.rxq[j].port->rx_registered,
						 false, __ATOMIC_RELAXED);
		}
	}
	if (!t.u)
		dp_poll_loop_sync(&t);
	dp_worker_flush(t.w);
out:
	dp_worker_destroy(t.w);
	dp_uring_destroy(t.u);
	free(t.rxq);
	free(t.pfd);
	free(t.pfd_rxq);
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

/* ---- control thread ---- */

static int dp_poller_start(struct dp *dp, uint32_t index)
{
	struct dp_poller *pl = &dp->pollers[index];
	int err;

	pl->dp = dp;
	pl->index = index;
	pl->stopping = false;
	pl->uring = false;
	pl->seen_gen = 0;
	pl->want_uring = dp->io.uring;
	pl->busy_poll_us = dp->io.busy_poll_us;
	pl->cpu = dp->io.n_cpus ? dp->io.cpus[index % dp->io.n_cpus] : -1;
	pl->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pl->stop_fd < 0)
		return -errno;
	err = -pthread_create(&pl->thread, NULL, dp_poll_thread, pl);
	if (err) {
		close(pl->stop_fd);
		return err;
	}
	pl->running = true;
	return 0;
}

static void dp_poller_kick(struct dp_poller *pl)
{
	uint64_t one = 1;

	if (write(pl->stop_fd, &one, sizeof(one)) < 0) {
		/* An eventfd write only fails on overflow: it is signalled. */
	}
}

static void dp_poller_stop(struct dp_poller *pl)
{
	if (!pl->running)
		return;
	__atomic_store_n(&pl->stopping, true, __ATOMIC_RELEASE);
	dp_poller_kick(pl);
	/* Joining blocks: go offline so grace periods need not wait. */
	rcu_offline();
	pthread_join(pl->thread, NULL);
	rcu_thread_online();
	close(pl->stop_fd);
	pl->running = false;
	__atomic_store_n(&pl->uring, false, __ATOMIC_RELAXED);
}

/* Wait until the thread has looked at snapshot @gen (or later). */
static void dp_poller_wait_seen(struct dp_poller *pl, uint64_t gen)
{
	uint64_t deadline = dp_now_ms() + DP_ACK_TIMEOUT_MS;

	dp_poller_kick(pl);
	rcu_offline();
	while (__atomic_load_n(&pl->seen_gen, __ATOMIC_ACQUIRE) < gen &&
	       dp_now_ms() < deadline)
		usleep(50);
	rcu_thread_online();
}

int dp_poll_port_prepare(struct dp *dp, struct dp_port *port)
{
	(void)dp;
	port->rx_bufs = NULL;
	if (port->fd < 0)
		return 0;
	port->rx_bufs = dp_bufs_alloc();
	port->rx_bufs_id = __atomic_add_fetch(&dp_bufs_next_id, 1,
					       __ATOMIC_RELAXED);
	return port->rx_bufs ? 0 : -ENOMEM;
}

int dp_poll_port_added(struct dp *dp, struct dp_port *port)
{
	struct dp_poller *pl;

	if (port->fd < 0)
		return 0;
	pl = &dp->pollers[dp_poll_thread_of(dp, port->index)];
	if (!pl->running)
		return dp_poller_start(dp, dp_poll_thread_of(dp, port->index));
	/* Serving other ports already: it takes this one at its next look. */
	dp_poller_wait_seen(pl, dp->conf->gen);
	return 0;
}

void dp_poll_port_removed(struct dp *dp, uint32_t index, bool last)
{
	struct dp_poller *pl = &dp->pollers[dp_poll_thread_of(dp, index)];

	if (!pl->running)
		return;
	if (last)
		dp_poller_stop(pl);
	else
		dp_poller_wait_seen(pl, dp->conf->gen);
}

void dp_poll_port_release(struct dp_port *port)
{
	dp_bufs_free(port->rx_bufs);
	port->rx_bufs = NULL;
}
