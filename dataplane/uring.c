/*
 * uring.c - a poll thread's io_uring (uring.h).
 */
#include "dataplane/uring.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/dp_private.h"

/* SQEs: a full queue of copies, and reads. */
#define DP_URING_ENTRIES 256

/* user_data: a write's slot in writes[], or a read's result slot with
 * bit 0 set (both are at least 4-byte aligned). */
#define DP_UD_READ 1u

/* A write queued: its copy, and the bytes it must take. */
struct dp_uring_write {
	struct dp_tx *tx;
	uint32_t len;
};

struct dp_uring {
	struct io_uring ring;
	/* Writes queued or submitted since the last dp_uring_submit(). */
	unsigned int n_writes;
	struct dp_uring_write writes[DP_URING_ENTRIES];
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

struct dp_uring *dp_uring_create(void)
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

void dp_uring_destroy(struct dp_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}

/* Leave no slot naming memory that may be unmapped and mapped again:
 * plain I/O from now on. */
static void dp_uring_unregister(struct dp_uring *u)
{
	io_uring_unregister_buffers(&u->ring);
	memset(u->reg, 0, sizeof(u->reg));
	memset(u->reg_id, 0, sizeof(u->reg_id));
	u->fixed = false;
	u->n_reg = 0;
}

bool dp_uring_sync_bufs(struct dp_uring *u, struct dp_port *const *ports,
			unsigned int n)
{
	uint8_t *want[DP_MAX_PORTS] = { NULL };
	uint64_t want_id[DP_MAX_PORTS] = { 0 };

	if (u->fixed) {
		for (unsigned int j = 0; j < n; j++) {
			want[ports[j]->index] = ports[j]->rx_bufs;
			want_id[ports[j]->index] = ports[j]->rx_bufs_id;
		}
		for (unsigned int i = 0; i < DP_MAX_PORTS; i++) {
			struct iovec iov = {
				.iov_base = want[i],
				.iov_len = want[i] ? DP_BUFS_USED : 0,
			};
			__u64 tag = 0;

			if (u->reg[i] == want[i] && u->reg_id[i] == want_id[i])
				continue;
			if (io_uring_register_buffers_update_tag(&u->ring, i,
								 &iov, &tag,
								 1) != 1) {
				dp_uring_unregister(u);
				break;
			}
			u->reg[i] = want[i];
			u->reg_id[i] = want_id[i];
		}
	}
	u->n_reg = u->fixed ? n : 0;
	u->last_reg = 0;
	for (unsigned int j = 0; j < n; j++) {
		if (u->fixed)
			u->used[j] = (uint16_t)ports[j]->index;
		__atomic_store_n(&ports[j]->rx_registered, u->fixed,
				 __ATOMIC_RELAXED);
	}
	return u->fixed;
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

int dp_uring_read(struct dp_uring *u, const struct dp_port *port, int fd,
		  void *buf, size_t len, int32_t *res)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	uintptr_t base = (uintptr_t)u->reg[port->index % DP_MAX_PORTS];

	if (!sqe)
		return -ENOSPC;
	if (u->n_reg && base && (uintptr_t)buf >= base &&
	    (uintptr_t)buf - base + len <= DP_BUFS_USED)
		io_uring_prep_read_fixed(sqe, fd, buf, len, (uint64_t)-1,
					 (int)(port->index % DP_MAX_PORTS));
	else
		io_uring_prep_read(sqe, fd, buf, len, (uint64_t)-1);
	/* An empty tap answers -EAGAIN now, rather than parking the read on
	 * a poll. */
	sqe->rw_flags = RWF_NOWAIT;
	sqe->user_data = (uintptr_t)res | DP_UD_READ;
	*res = -EAGAIN;
	return 0;
}

int dp_uring_write(struct dp_uring *u, int fd, struct dp_tx *tx,
		   const struct iovec *iov, int iovcnt)
{
	struct dp_uring_write *slot;
	struct io_uring_sqe *sqe;

	if (u->n_writes == DP_URING_ENTRIES)
		return -ENOSPC;
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return -ENOSPC;
	slot = &u->writes[u->n_writes++];
	slot->tx = tx;
	slot->len = 0;
	for (int i = 0; i < iovcnt; i++)
		slot->len += iov[i].iov_len;
	/* One buffer (header and frame as read): a plain write, without an
	 * iovec to import. */
	if (iovcnt == 1) {
		int b = u->n_reg ? dp_uring_buf_of(u, iov[0].iov_base,
						   iov[0].iov_len) : -1;

		if (b >= 0)
			io_uring_prep_write_fixed(sqe, fd, iov[0].iov_base,
						  iov[0].iov_len, (uint64_t)-1,
						  b);
		else
			io_uring_prep_write(sqe, fd, iov[0].iov_base,
					    iov[0].iov_len, (uint64_t)-1);
	} else {
		io_uring_prep_writev(sqe, fd, iov, iovcnt, (uint64_t)-1);
	}
	sqe->rw_flags = RWF_NOWAIT;
	sqe->user_data = (uintptr_t)slot;
	tx->io_pending = true;
	return 0;
}

/* Deliver every completion there is. */
static void dp_uring_reap(struct dp_uring *u, struct dp_io *io)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uintptr_t ud = (uintptr_t)cqe->user_data;

		n++;
		if (ud & DP_UD_READ) {
			*(int32_t *)(ud & ~(uintptr_t)DP_UD_READ) = cqe->res;
		} else if (ud) {
			struct dp_uring_write *slot = (void *)ud;
			struct dp_tx *tx = slot->tx;

			if (!tx->io_pending)
				continue;
			tx->io_pending = false;
			dp_io_tx_done(io, tx, cqe->res < 0 ? cqe->res :
				      (uint32_t)cqe->res == slot->len ? 0 :
				      -EIO);
		}
	}
	io_uring_cq_advance(&u->ring, n);
}

int dp_uring_submit(struct dp_uring *u, struct dp_io *io)
{
	unsigned int n = io_uring_sq_ready(&u->ring);
	struct io_uring_cqe *cqe;
	int ret = 0;

	if (n) {
		ret = io_uring_submit_and_wait(&u->ring, n);
		/* Every submission completes inline; wait for the stragglers
		 * a signal may have cut off. */
		while ((ret >= 0 || ret == -EINTR) &&
		       io_uring_cq_ready(&u->ring) < n)
			ret = io_uring_wait_cqe_nr(&u->ring, &cqe, n);
		ret = ret < 0 && ret != -EINTR ? ret : 0;
	}
	dp_uring_reap(u, io);
	/* After a failed submission: what never completed is lost, and
	 * counted. */
	for (unsigned int i = 0; i < u->n_writes; i++) {
		struct dp_tx *tx = u->writes[i].tx;

		if (tx->io_pending) {
			tx->io_pending = false;
			dp_io_tx_done(io, tx, -EIO);
		}
	}
	u->n_writes = 0;
	return ret;
}
