/*
 * uring.h - a poll thread's io_uring, shared by the port kinds whose I/O
 * is reads and writes on a file descriptor (taps).
 *
 * Design
 * ------
 * One ring per poll thread, created by the thread that submits to it.  In
 * a round, the kinds queue the writes of the copies the last burst made
 * (dp_uring_write()) and the reads of the next burst (dp_uring_read());
 * dp_uring_submit() then hands all of them to the kernel in one
 * io_uring_enter() and waits for every completion.  Reads and writes
 * carry RWF_NOWAIT: a read of an empty tap completes at once with -EAGAIN
 * instead of being parked on a poll (parked reads on a tap wake all
 * together, and spawn io-wq workers), and tap reads and writes complete
 * inline, so nothing is in flight when dp_uring_submit() returns - the
 * caller may announce a quiescent state then.
 *
 * The ports' receive buffers are registered with the ring, each port's in
 * the slot of its index (dp_uring_sync_bufs()): a read into, or a write
 * from, a registered buffer goes through READ_FIXED or WRITE_FIXED, with
 * no user pages to import and check.  Where registering fails (a
 * locked-memory limit), the ring does plain I/O from then on.
 *
 * Thread safety: a ring belongs to its poll thread; only that thread calls
 * these.
 */
#ifndef TAPSWITCH_DP_URING_H
#define TAPSWITCH_DP_URING_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/port.h"

struct dp_uring;

/* NULL when the kernel has no io_uring (or memory is short). */
struct dp_uring *dp_uring_create(void);
void dp_uring_destroy(struct dp_uring *u);

/*
 * Register the receive buffers (port->rx_bufs) of @ports[0..@n), each in
 * the slot of its index, and unregister what is no longer among them;
 * port->rx_registered says how it went.  Returns whether they are
 * registered.
 */
bool dp_uring_sync_bufs(struct dp_uring *u, struct dp_port *const *ports,
			unsigned int n);

/*
 * Queue a read of at most @len bytes from @fd into @buf; *@res receives
 * the result (bytes, or -errno; -EAGAIN until it completes).  @port: the
 * port whose receive buffers hold @buf, for the registered slot.
 * Returns 0, or -ENOSPC when the ring is full (nothing queued).
 */
int dp_uring_read(struct dp_uring *u, const struct dp_port *port, int fd,
		  void *buf, size_t len, int32_t *res);

/*
 * Queue a write of @tx to @fd from @iov[0..@iovcnt) (the write must take
 * all of it to succeed); dp_io_tx_done() reports it when the ring has run.  Returns 0, or
 * -ENOSPC when the ring is full (nothing queued).
 */
int dp_uring_write(struct dp_uring *u, int fd, struct dp_tx *tx,
		   const struct iovec *iov, int iovcnt);

/*
 * Submit what is queued, wait for all of it, and deliver the results:
 * reads' to their *res, writes' to dp_io_tx_done(@io, ...).  Returns 0,
 * or -errno when the submission failed (the writes that did not complete
 * are reported as failed).
 */
int dp_uring_submit(struct dp_uring *u, struct dp_io *io);

#endif /* TAPSWITCH_DP_URING_H */
