/*
 * poll.c - one poll thread per port, and how it does its I/O.
 *
 * A poll thread sleeps in poll() on its port's fd (offline, so that grace
 * periods need not wait for it), then drains the port a burst at a time:
 * receive up to DP_BURST frames, run them through the pipeline, write the
 * copies, announce a quiescent state.
 *
 * Two ways to do the I/O:
 *   - system calls: one read() per frame received, one writev() per copy
 *     sent;
 *   - io_uring (the default where the kernel has it, for ports whose
 *     frames are read and written on an fd: taps): the copies of one
 *     burst and the reads of the next go to the kernel in one
 *     io_uring_enter().  The fd is non-blocking, so a read of an empty
 *     tap completes at once with -EAGAIN instead of parking in the kernel
 *     (parked reads on a tap wake all together, and spawn io-wq workers);
 *     once a burst comes back short, the port is drained, and the thread
 *     goes back to poll().  Tap reads and writes complete inline, so every
 *     submission is complete when io_uring_enter() returns: nothing is in
 *     flight across a quiescent state, and a port's fd is never used after
 *     a grace period has let the control thread close it.
 * Receive buffers come in two sets: the copies of burst k, still to be
 * written, point into one set while burst k+1 is read into the other.
 *
 * Options: a bounded busy-poll (keep reading an idle port for a few
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
#include <time.h>
#include <unistd.h>

#include "fdb/rcu_tsan.h"

/* A poll thread looks at its stop flag at least this often, in bursts,
 * so that a port under a flood still notices a stop request. */
#define DP_DRAIN_BURSTS 8

/* One receive buffer: the virtio-net header, then the frame. */
#define DP_BUF_STRIDE (((DP_VNET_HDR_LEN + DP_FRAME_MAX) + 63) & ~63u)
#define DP_RX_SETS 2

/* Reads submitted after a wake-up; a full burst asks for DP_BURST. */
#define DP_URING_FIRST_READS 8

/* SQEs: a full queue of copies and a burst of reads. */
#define DP_URING_ENTRIES 128
/* user_data: a copy's index in the worker's queue, or a read's slot. */
#define DP_UD_RX 0x10000u

struct dp_uring {
	struct io_uring ring;
	int32_t rx_res[DP_BURST];
	bool tx_pending[DP_TXQ];	/* submitted, no completion yet */
};

static uint64_t dp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint8_t *dp_rx_buf(struct dp_poller *pl, unsigned int set,
			  unsigned int slot)
{
	return pl->bufs + (size_t)(set * DP_BURST + slot) * DP_BUF_STRIDE;
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
	return u;
}

static void dp_uring_destroy(struct dp_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}

/* Count the copies' results and note the reads'. */
static void dp_uring_reap(struct dp_worker *w, struct dp_uring *u)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint64_t ud = cqe->user_data;

		n++;
		if (ud >= DP_UD_RX) {
			u->rx_res[ud - DP_UD_RX] = cqe->res;
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
		int skip = port->vnet_hdr_len ? 0 : 1;

		if (!port->ops->fd_frames) {
			dp_tx_done(w, tx, port->ops->tx(port, tx));
			continue;
		}
		/* DP_URING_ENTRIES > DP_TXQ + DP_BURST: there is room. */
		sqe = io_uring_get_sqe(&u->ring);
		io_uring_prep_writev(sqe, port->fd, tx->iov + skip,
				     tx->iovcnt - skip, (uint64_t)-1);
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

	dp_uring_reap(w, u);
	if (err) {
		dp_uring_lost(w, u);
		dp_tx_acc_publish(w);
	}
	w->n_tx = 0;
}

/* ---- the poll loop ---- */

/* How a poll loop ended. */
enum dp_loop_end {
	DP_LOOP_STOP,			/* asked to */
	DP_LOOP_GONE,			/* the device is gone */
	DP_LOOP_FALLBACK,		/* io_uring cannot do it: use syscalls */
};

enum dp_wait_result {
	DP_WAIT_READY,			/* poll() says there is a frame */
	DP_WAIT_SPIN,			/* busy-polling: look again */
	DP_WAIT_STOP,
	DP_WAIT_GONE,
};

static bool dp_stopping(struct dp_poller *pl)
{
	return __atomic_load_n(&pl->stopping, __ATOMIC_ACQUIRE);
}

/*
 * The port has nothing more to read.  With busy-polling, say "ready" again
 * until the port has been idle for busy_poll_us; then sleep in poll().
 * Called online, outside a read-side section, with nothing queued.
 */
static enum dp_wait_result dp_wait(struct dp_poller *pl, struct pollfd *pfd,
				   uint64_t *idle_since)
{
	int n;

	if (pl->busy_poll_us) {
		uint64_t now = dp_now_us();

		if (!*idle_since)
			*idle_since = now;
		if (now - *idle_since < pl->busy_poll_us) {
			rcu_quiescent();
			return dp_stopping(pl) ? DP_WAIT_STOP : DP_WAIT_SPIN;
		}
	}
	for (;;) {
		/* Offline while blocked: grace periods need not wait. */
		rcu_offline();
		n = poll(pfd, 2, -1);
		rcu_thread_online();
		*idle_since = 0;
		if (n < 0) {
			/* EINTR, or ENOMEM: try again, without spinning. */
			if (errno != EINTR)
				usleep(1000);
			continue;
		}
		if (pfd[1].revents || dp_stopping(pl))
			return DP_WAIT_STOP;
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			return DP_WAIT_GONE;
		if (pfd[0].revents & POLLIN)
			return DP_WAIT_READY;
	}
}

/* With system calls: read() per frame, the backend's tx per copy. */
static enum dp_loop_end dp_poll_loop_sync(struct dp_poller *pl,
					  struct dp_worker *w,
					  struct pollfd *pfd)
{
	struct dp_port *port = pl->port;
	struct dp_frame frames[DP_BURST];
	uint64_t idle_since = 0;

	for (unsigned int i = 0; i < DP_BURST; i++)
		frames[i].data = dp_rx_buf(pl, 0, i) + DP_VNET_HDR_LEN;
	for (;;) {
		unsigned int bursts = 0;
		int n;

		switch (dp_wait(pl, pfd, &idle_since)) {
		case DP_WAIT_STOP:
			return DP_LOOP_STOP;
		case DP_WAIT_GONE:
			return DP_LOOP_GONE;
		case DP_WAIT_READY:
		case DP_WAIT_SPIN:
			break;
		}
		/* Drain what is there, a burst at a time. */
		do {
			n = port->ops->rx_burst(port, frames, DP_BURST);
			if (n == -EBADFD)
				return DP_LOOP_GONE;
			if (n < 0) {
				OWN_ADD(&port->stats.rx_errors, 1);
				break;
			}
			if (n > 0) {
				dp_worker_input(w, port->index, frames, n,
						dp_now_ms());
				dp_worker_flush(w);
				idle_since = 0;
			}
			rcu_quiescent();
		} while (n == DP_BURST && ++bursts < DP_DRAIN_BURSTS &&
			 !dp_stopping(pl));
		if (dp_stopping(pl))
			return DP_LOOP_STOP;
	}
}

/* With io_uring: the copies of one burst go with the reads of the next. */
static enum dp_loop_end dp_poll_loop_uring(struct dp_poller *pl,
					   struct dp_worker *w,
					   struct dp_uring *u,
					   struct pollfd *pfd)
{
	struct dp_port *port = pl->port;
	uint32_t hl = port->vnet_hdr_len;
	struct dp_frame frames[DP_BURST];
	unsigned int set = 0, n_reads = 0;
	uint64_t idle_since = 0;

	for (;;) {
		enum dp_loop_end end = DP_LOOP_STOP;
		unsigned int n_tx, n = 0;
		bool ended = false;

		if (!n_reads) {
			switch (dp_wait(pl, pfd, &idle_since)) {
			case DP_WAIT_STOP:
				return DP_LOOP_STOP;
			case DP_WAIT_GONE:
				return DP_LOOP_GONE;
			case DP_WAIT_READY:
				n_reads = DP_URING_FIRST_READS;
				break;
			case DP_WAIT_SPIN:
				n_reads = 1;
				break;
			}
		}

		n_tx = dp_uring_prep_tx(w, u);
		for (unsigned int i = 0; i < n_reads; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

			io_uring_prep_read(sqe, port->fd, dp_rx_buf(pl, set, i),
					   hl + DP_FRAME_MAX, (uint64_t)-1);
			/* An empty tap answers -EAGAIN now; without this,
			 * io_uring would park the read on a poll. */
			sqe->rw_flags = RWF_NOWAIT;
			sqe->user_data = DP_UD_RX + i;
			u->rx_res[i] = -EAGAIN;
		}
		if (dp_uring_submit_wait(u, n_tx + n_reads)) {
			dp_uring_reap(w, u);
			dp_uring_lost(w, u);
			dp_tx_acc_publish(w);
			OWN_ADD(&port->stats.rx_errors, 1);
			usleep(1000);
		} else {
			dp_uring_reap(w, u);
		}
		w->n_tx = 0;
		/* Nothing in flight, nothing queued: a quiescent state. */
		rcu_quiescent();
		if (dp_stopping(pl))
			return DP_LOOP_STOP;

		for (unsigned int i = 0; i < n_reads; i++) {
			int32_t res = u->rx_res[i];
			struct dp_frame *f = &frames[n];

			if (res >= (int32_t)hl) {
				uint8_t *buf = dp_rx_buf(pl, set, i);

				f->data = buf + hl;
				f->len = res - hl;
				if (hl)
					memcpy(&f->vnet, buf, sizeof(f->vnet));
				else
					memset(&f->vnet, 0, sizeof(f->vnet));
				n++;
			} else if (res == -EBADFD) {
				end = DP_LOOP_GONE;
				ended = true;
			} else if (res == -EOPNOTSUPP || res == -EINVAL) {
				/* No RWF_NOWAIT on this kernel's taps. */
				end = DP_LOOP_FALLBACK;
				ended = true;
			} else if (res < 0 && res != -EAGAIN && res != -EINTR) {
				OWN_ADD(&port->stats.rx_errors, 1);
			}
		}
		if (ended)
			return end;
		if (n)
			dp_worker_input(w, port->index, frames, n, dp_now_ms());
		if (n == n_reads) {
			/* Maybe more: read a full burst with these copies. */
			set ^= 1;
			n_reads = DP_BURST;
			idle_since = 0;
			continue;
		}
		/* Drained: write the copies, then wait. */
		dp_uring_flush(w);
		rcu_quiescent();
		if (n)
			idle_since = 0;
		n_reads = 0;
	}
}

static void *dp_poll_thread(void *arg)
{
	struct dp_poller *pl = arg;
	struct dp_port *port = pl->port;
	struct pollfd pfd[2] = {
		{ .fd = port->fd, .events = POLLIN },
		{ .fd = pl->stop_fd, .events = POLLIN },
	};
	enum dp_loop_end end = DP_LOOP_GONE;
	struct dp_uring *u = NULL;
	struct dp_worker *w;

	rcu_register_thread();
	if (pl->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(pl->cpu, &set);
		/* Best effort: the daemon checked the CPU exists. */
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	w = malloc(sizeof(*w));
	if (!w)
		goto out;	/* cannot forward: as a port that is gone */
	if (dp_worker_init(w, pl->dp, true)) {
		free(w);
		goto out;
	}
	/* The ring belongs to the thread that submits to it. */
	if (pl->want_uring && port->ops->fd_frames)
		u = dp_uring_create();
	if (u) {
		w->uring = u;
		__atomic_store_n(&pl->uring, true, __ATOMIC_RELAXED);
		end = dp_poll_loop_uring(pl, w, u, pfd);
		dp_worker_flush(w);
		if (end == DP_LOOP_FALLBACK) {
			w->uring = NULL;
			dp_uring_destroy(u);
			u = NULL;
			__atomic_store_n(&pl->uring, false, __ATOMIC_RELAXED);
		}
	}
	if (!u)
		end = dp_poll_loop_sync(pl, w, pfd);
	dp_worker_flush(w);
	dp_worker_fini(w);
	free(w);
	dp_uring_destroy(u);
out:
	if (end == DP_LOOP_GONE && pl->dp->gone_cb)
		pl->dp->gone_cb(pl->dp, port->index, pl->dp->gone_arg);
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

/* ---- control thread ---- */

int dp_poller_start(struct dp *dp, struct dp_port *port)
{
	struct dp_poller *pl = &dp->pollers[port->index];
	int err;

	pl->dp = dp;
	pl->port = port;
	pl->stopping = false;
	pl->uring = false;
	pl->want_uring = dp->io.uring;
	pl->busy_poll_us = dp->io.busy_poll_us;
	pl->cpu = dp->io.n_cpus ?
		  dp->io.cpus[port->index % dp->io.n_cpus] : -1;
	/* Untouched pages cost nothing: a burst of small frames uses one
	 * page of each buffer. */
	pl->bufs = malloc((size_t)DP_RX_SETS * DP_BURST * DP_BUF_STRIDE);
	if (!pl->bufs)
		return -ENOMEM;
	pl->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pl->stop_fd < 0) {
		err = -errno;
		goto out_free_bufs;
	}
	err = -pthread_create(&pl->thread, NULL, dp_poll_thread, pl);
	if (err)
		goto out_close_stop;
	pl->running = true;
	return 0;

out_close_stop:
	close(pl->stop_fd);
out_free_bufs:
	free(pl->bufs);
	pl->bufs = NULL;
	return err;
}

void dp_poller_stop(struct dp *dp, uint32_t index)
{
	struct dp_poller *pl = &dp->pollers[index];
	uint64_t one = 1;

	if (!pl->running)
		return;
	__atomic_store_n(&pl->stopping, true, __ATOMIC_RELEASE);
	if (write(pl->stop_fd, &one, sizeof(one)) < 0) {
		/* An eventfd write only fails on overflow: it is signalled. */
	}
	/* Joining blocks: go offline so grace periods need not wait. */
	rcu_offline();
	pthread_join(pl->thread, NULL);
	rcu_thread_online();
	close(pl->stop_fd);
	free(pl->bufs);
	pl->bufs = NULL;
	pl->running = false;
	__atomic_store_n(&pl->uring, false, __ATOMIC_RELAXED);
}
