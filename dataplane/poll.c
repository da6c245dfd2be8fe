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
 * The thread never does I/O itself: it calls the ports' kinds (port.h).
 * A round is: hand the copies the last burst made to their ports'
 * tx_burst(), ask each port that has frames for its reads (rx_prepare()),
 * run the thread's io_uring if it has one - the copies of one burst and
 * the reads of the next go to the kernel in one io_uring_enter()
 * (uring.h) - announce a quiescent state, collect the frames
 * (rx_burst()), and run them through the pipeline.  A thread without a
 * ring, or a kind that does not use it, does the same I/O at once, one
 * system call a frame.  Once a burst comes back short, the port is
 * drained.  Receive buffers come in two sets per port: the copies of
 * burst k, still to be written, point into one set while burst k+1 is
 * read into the other.
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
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/uring.h"
#include "lib/rcu.h"

/* Reads asked of a port poll() says is readable; a full burst asks for
 * DP_BURST next; a port we just wrote to gets this many. */
#define DP_FIRST_READS 8
#define DP_AFTER_WRITE_READS 2

/* How long port add waits for a thread to see a new snapshot (it will,
 * but the port is read sooner if we wait); port removal waits however
 * long it takes. */
#define DP_ADD_WAIT_MS 5000

/* A port as its poll thread sees it; rebuilt with every snapshot. */
struct dp_rxq {
	uint32_t index;
	struct dp_port *port;		/* valid while the snapshot is */
	unsigned int set;		/* the buffer set reads go to next */
	unsigned int n_reads;		/* reads to ask for; 0: none */
	unsigned int n_frames;
	bool gone;			/* port->rx_gone: not polled any more */
	bool wrote;			/* we sent it something this round */
	struct dp_frame frames[DP_BURST];
};

/* A poll thread's own state. */
struct dp_pthread {
	struct dp_poller *pl;
	struct dp_worker *w;
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
	return q->port->rx_bufs +
	       (size_t)(set * DP_BURST + slot) * DP_BUF_STRIDE;
}

static bool dp_stopping(struct dp_poller *pl)
{
	return __atomic_load_n(&pl->stopping, __ATOMIC_ACQUIRE);
}

uint32_t dp_poll_thread_of(const struct dp *dp, uint32_t index)
{
	return dp->io.n_threads ? index % dp->io.n_threads : index;
}

bool dp_poll_uring(struct dp *dp, uint32_t index)
{
	return __atomic_load_n(&dp->pollers[dp_poll_thread_of(dp, index)].uring,
			       __ATOMIC_RELAXED);
}

/* ---- receive buffers (control thread) ---- */

/*
 * 64 buffers of 64 KiB a port, of which a small frame touches one cache
 * line: on transparent huge pages the set is three TLB entries, not 64.
 */
#define DP_HUGE_PAGE (2u << 20)
#define DP_BUFS_SIZE \
	((DP_BUFS_USED + DP_HUGE_PAGE - 1) & ~(size_t)(DP_HUGE_PAGE - 1))

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

/* ---- the thread's view of its ports ---- */

/* Register the receive buffers of the thread's ports with its ring. */
static void dp_pthread_sync_bufs(struct dp_pthread *t)
{
	struct dp_port *ports[DP_MAX_PORTS];

	if (!t->w->io.ring)
		return;
	for (unsigned int j = 0; j < t->n_rxq; j++)
		ports[j] = t->rxq[j].port;
	dp_uring_sync_bufs(t->w->io.ring, ports, t->n_rxq);
}

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

	conf = rcu_consume(&dp->conf);
	if (conf == t->conf)
		return;
	dp_worker_flush(t->w);
	for (uint32_t k = 0; k < conf->n_active; k++) {
		uint32_t i = conf->active[k];
		struct dp_port *port = conf->port[i];
		struct dp_rxq *q = &t->rxq[n];

		if (port->poll_fd < 0 || !port->rx_bufs ||
		    dp_poll_thread_of(dp, i) != pl->index)
			continue;
		q->index = i;
		q->port = port;
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
		t->pfd[t->n_pfd] = (struct pollfd){
			.fd = t->rxq[j].port->poll_fd,
			.events = POLLIN,
		};
		t->pfd_rxq[t->n_pfd++] = j;
	}
	t->pfd[t->n_pfd] = (struct pollfd){ .fd = pl->stop_fd,
					    .events = POLLIN };
	dp_pthread_sync_bufs(t);
	t->conf = conf;
	__atomic_store_n(&pl->seen_gen, conf->gen, __ATOMIC_RELEASE);
}

/* Whether the snapshot moved on since the list was built. */
static bool dp_pthread_stale(const struct dp_pthread *t)
{
	return t->conf != rcu_consume(&t->pl->dp->conf);
}

enum dp_wait_result {
	DP_WAIT_READY,			/* some ports have frames (n_reads) */
	DP_WAIT_STOP,
};

/* A port is gone (POLLERR, EBADFD): stop polling it, tell the control
 * side. */
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
		if (dp_pthread_stale(t))
			continue;
		n = 0;
		for (unsigned int s = 0; s < t->n_pfd; s++) {
			struct dp_rxq *q = &t->rxq[t->pfd_rxq[s]];
			short re = t->pfd[s].revents;

			if (re & POLLNVAL) {
				dp_rxq_gone(t, q);
			} else if (re & (POLLIN | POLLERR | POLLHUP)) {
				/* An error is the kind's to read: a tap
				 * that is gone (rx_burst() says -EBADFD),
				 * a packet socket whose device went down. */
				q->n_reads = DP_FIRST_READS;
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

/* ---- a round ---- */

/*
 * Point the frame slots of every port that has frames to read at the
 * buffer set reads go to, and let kinds that use the ring queue their
 * reads there (a full ring gets fewer).
 */
static void dp_rx_prepare(struct dp_pthread *t)
{
	struct dp_io *io = &t->w->io;

	for (unsigned int j = 0; j < t->n_rxq; j++) {
		struct dp_rxq *q = &t->rxq[j];
		const struct port_ops *ops = q->port->ops;

		if (!q->n_reads)
			continue;
		for (unsigned int i = 0; i < q->n_reads; i++)
			q->frames[i].data = dp_rx_buf(q, q->set, i) +
					    DP_VNET_HDR_LEN;
		if (io->ring && ops->rx_prepare)
			q->n_reads = ops->rx_prepare(q->port, io, q->frames,
						     q->n_reads);
	}
}

/* Collect what the ports received.  Returns whether any frame came. */
static bool dp_rx_collect(struct dp_pthread *t)
{
	struct dp_io *io = &t->w->io;
	bool any = false;

	for (unsigned int j = 0; j < t->n_rxq; j++) {
		struct dp_rxq *q = &t->rxq[j];
		int n;

		if (!q->n_reads)
			continue;
		n = q->port->ops->rx_burst(q->port, io, q->frames,
					   q->n_reads);
		if (n == -EBADFD) {
			dp_rxq_gone(t, q);
			n = 0;
		} else if (n < 0) {
			OWN_ADD(&q->port->stats.rx_errors, 1);
			n = 0;
		}
		q->n_frames = n;
		any |= n != 0;
	}
	return any;
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

/* Write what is queued and wait for it; then nothing is in flight and
 * nothing queued: a quiescent state. */
static void dp_round_end(struct dp_pthread *t)
{
	dp_worker_flush(t->w);
	rcu_quiescent();
}

/* The ring said it cannot do what a kind asked: do without it. */
static void dp_drop_ring(struct dp_pthread *t)
{
	struct dp_io *io = &t->w->io;

	dp_uring_destroy(io->ring);
	io->ring = NULL;
	io->ring_failed = false;
	__atomic_store_n(&t->pl->uring, false, __ATOMIC_RELAXED);
	for (unsigned int j = 0; j < t->n_rxq; j++)
		__atomic_store_n(&t->rxq[j].port->rx_registered, false,
				 __ATOMIC_RELAXED);
}

static void dp_poll_loop(struct dp_pthread *t)
{
	struct dp_poller *pl = t->pl;
	struct dp_worker *w = t->w;
	uint64_t idle_since = 0;
	bool more = false;

	for (;;) {
		if (!more) {
			/* Drained: write the copies, then wait. */
			dp_round_end(t);
			if (dp_wait(t, &idle_since) == DP_WAIT_STOP)
				return;
		}
		/* The copies of the last burst, and the reads of the next:
		 * with a ring, one system call for all of them. */
		dp_worker_post(w);
		dp_rx_prepare(t);
		if (w->io.ring && dp_uring_submit(w->io.ring, &w->io))
			usleep(1000);	/* what was lost is counted */
		w->n_tx = 0;
		dp_tx_acc_publish(w);
		/* Nothing in flight, nothing queued: a quiescent state. */
		rcu_quiescent();
		if (dp_stopping(pl))
			return;

		if (dp_rx_collect(t))
			idle_since = 0;
		more = dp_process(t);
		if (w->io.ring_failed) {
			dp_round_end(t);
			dp_drop_ring(t);
			more = false;
			continue;
		}
		if (!more) {
			dp_round_end(t);
			more = dp_mark_written(t);
		}
		/* A new snapshot: take it before touching a port again. */
		if (dp_pthread_stale(t)) {
			dp_round_end(t);
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
	/* The ring belongs to the thread that submits to it. */
	if (pl->want_uring)
		t.w->io.ring = dp_uring_create();
	__atomic_store_n(&pl->uring, t.w->io.ring != NULL, __ATOMIC_RELAXED);
	dp_pthread_sync(&t);
	dp_poll_loop(&t);
	dp_worker_flush(t.w);
out:
	if (t.w) {
		dp_uring_destroy(t.w->io.ring);
		t.w->io.ring = NULL;
	}
	dp_worker_destroy(t.w);
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

/* Wait until the thread has looked at snapshot @gen (or later), for at
 * most @max_ms (0: for ever).  Returns how long it waited. */
static uint64_t dp_poller_wait_seen(struct dp_poller *pl, uint64_t gen,
				    uint64_t max_ms)
{
	uint64_t start = dp_now_ms(), now = start;

	dp_poller_kick(pl);
	rcu_offline();
	while (__atomic_load_n(&pl->seen_gen, __ATOMIC_ACQUIRE) < gen &&
	       (!max_ms || now - start < max_ms)) {
		usleep(50);
		now = dp_now_ms();
	}
	rcu_thread_online();
	return dp_now_ms() - start;
}

int dp_poll_port_prepare(struct dp *dp, struct dp_port *port)
{
	(void)dp;
	port->rx_bufs = NULL;
	if (port->poll_fd < 0)
		return 0;
	port->rx_bufs = dp_bufs_alloc();
	port->rx_bufs_id = __atomic_add_fetch(&dp_bufs_next_id, 1,
					       __ATOMIC_RELAXED);
	return port->rx_bufs ? 0 : -ENOMEM;
}

int dp_poll_port_added(struct dp *dp, struct dp_port *port)
{
	struct dp_poller *pl;

	if (port->poll_fd < 0)
		return 0;
	pl = &dp->pollers[dp_poll_thread_of(dp, port->index)];
	if (!pl->running)
		return dp_poller_start(dp, dp_poll_thread_of(dp, port->index));
	/* Serving other ports already: it takes this one at its next look. */
	dp_poller_wait_seen(pl, dp->conf->gen, DP_ADD_WAIT_MS);
	return 0;
}

uint64_t dp_poll_port_removed(struct dp *dp, uint32_t index, bool last)
{
	struct dp_poller *pl = &dp->pollers[dp_poll_thread_of(dp, index)];
	uint64_t start = dp_now_ms();

	if (!pl->running)
		return 0;
	/*
	 * However long it takes: the thread may be between a look at the
	 * old snapshot and its next quiescent state, or offline in the
	 * middle of a kind's call, and only its own acknowledgement (or
	 * its end) says it holds nothing of the port any more.
	 */
	if (last)
		dp_poller_stop(pl);
	else
		dp_poller_wait_seen(pl, dp->conf->gen, 0);
	return dp_now_ms() - start;
}

void dp_poll_port_release(struct dp_port *port)
{
	dp_bufs_free(port->rx_bufs);
	port->rx_bufs = NULL;
}
