/*
 * check_afxdp.c - unit tests of the afxdp kind's ring handling
 * (dataplane/port_afxdp.c), without root or XDP: the rings and the UMEM
 * are plain memory (port_afxdp_on_rings()) and the test plays the
 * kernel's side of each - it takes frames from the fill ring, writes
 * them and posts them on the rx ring; it takes descriptors from the tx
 * ring and posts their frames on the completion ring.
 *
 * Checked: after open the fill ring holds the receive half of the UMEM;
 * received frames come out in order, in place, and go back to the fill
 * ring at the next rx_burst(), not before; copies are gathered from
 * their pieces (a tag pushed between them) into free frames and put on
 * the tx ring, without the virtio-net header; completed frames are free
 * again; a copy too big for a frame, and copies past the free frames,
 * fail with their error and take no descriptor.
 *
 *   sanitizers: CK_FORK=no build-asan/tests/check_afxdp
 */
#include "dataplane/port.h"

#include <errno.h>
#include <linux/if_xdp.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_common.h"

static struct dp_port *port;
static struct port_afxdp_rings r;

static void setup(void)
{
	port = port_afxdp_on_rings(&r);
	ck_assert_ptr_nonnull(port);
}

static void teardown(void)
{
	port->ops->close(port);
	port = NULL;
}

/* The kernel takes the next frame of the fill ring. */
static uint64_t kernel_take_fill(void)
{
	uint32_t c = *r.fill_cons;

	ck_assert_uint_lt(c, *r.fill_prod);
	*r.fill_cons = c + 1;
	return r.fill[c & (2 * r.ring_size - 1)];
}

/* The kernel receives frame @seq (@len bytes) into a fill frame. */
static uint64_t kernel_rx(uint8_t seq, uint32_t len)
{
	uint64_t addr = kernel_take_fill();
	uint32_t p = *r.rx_prod;
	uint8_t *data = r.area + addr;

	memset(data, 0, len);
	memset(data, 0xff, 6);
	data[11] = seq;
	data[20] = seq;
	r.rx[p & (r.ring_size - 1)] = (struct xdp_desc){ .addr = addr,
							 .len = len };
	__atomic_store_n(r.rx_prod, p + 1, __ATOMIC_RELEASE);
	return addr;
}

static struct dp_frame frames[8];

static int rx(unsigned int n)
{
	return port->ops->rx_burst(port, NULL, frames, n);
}

START_TEST(test_fill_ring_after_open)
{
	ck_assert_uint_eq(*r.fill_prod, r.n_frames / 2);
	for (uint32_t i = 0; i < r.n_frames / 2; i++)
		ck_assert_uint_eq(r.fill[i], (uint64_t)i * r.frame_size);
}
END_TEST

START_TEST(test_rx_in_place_lent_back_next_burst)
{
	uint64_t a0, a1;
	uint32_t lent = *r.fill_prod;

	ck_assert_int_eq(rx(4), 0);
	a0 = kernel_rx(1, 60);
	a1 = kernel_rx(2, 1514);
	ck_assert_int_eq(rx(4), 2);
	ck_assert_ptr_eq(frames[0].data, r.area + a0);
	ck_assert_uint_eq(frames[0].len, 60);
	ck_assert_uint_eq(frames[1].len, 1514);
	ck_assert_uint_eq(frames[1].data[20], 2);
	ck_assert_uint_eq(frames[0].vnet.flags, 0);
	ck_assert_uint_eq(frames[0].vnet.gso_type, 0);
	ck_assert(!frames[0].vnet_in_buf);
	ck_assert_uint_eq(*r.rx_cons, 2);
	/* Still the pipeline's. */
	ck_assert_uint_eq(*r.fill_prod, lent);
	ck_assert_int_eq(rx(4), 0);
	ck_assert_uint_eq(*r.fill_prod, lent + 2);
	ck_assert_uint_eq(r.fill[lent & (2 * r.ring_size - 1)], a0);
	ck_assert_uint_eq(r.fill[(lent + 1) & (2 * r.ring_size - 1)], a1);
}
END_TEST

START_TEST(test_rx_burst_takes_no_more_than_asked)
{
	for (uint8_t i = 0; i < 5; i++)
		kernel_rx(i, 60);
	ck_assert_int_eq(rx(3), 3);
	ck_assert_uint_eq(frames[2].data[20], 2);
	ck_assert_int_eq(rx(3), 2);
	ck_assert_uint_eq(frames[0].data[20], 3);
	ck_assert_uint_eq(frames[1].data[20], 4);
}
END_TEST

/* A copy as the pipeline makes one: header, MACs, a tag, the rest. */
static struct dp_tx *mk_tx(uint8_t *frame, uint32_t len)
{
	struct dp_tx *tx = calloc(1, sizeof(*tx));

	ck_assert_ptr_nonnull(tx);
	tx->tag[0] = 0x81;
	tx->tag[2] = 0x00;
	tx->tag[3] = 10;
	tx->iov[0] = (struct iovec){ &tx->vnet, sizeof(tx->vnet) };
	tx->iov[1] = (struct iovec){ frame, 12 };
	tx->iov[2] = (struct iovec){ tx->tag, 4 };
	tx->iov[3] = (struct iovec){ frame + 12, len - 12 };
	tx->iovcnt = 4;
	tx->len = len + 4;
	tx->err = 99;
	return tx;
}

START_TEST(test_tx_gathered_completed_reused)
{
	static uint8_t frame[1514];
	struct dp_tx *txs[3];
	uint32_t c;

	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	for (int i = 0; i < 3; i++)
		txs[i] = mk_tx(frame, i == 1 ? 60 : 1514);
	port->ops->tx_burst(port, NULL, txs, 3);
	ck_assert_uint_eq(*r.tx_prod, 3);
	for (int i = 0; i < 3; i++) {
		const struct xdp_desc *d = &r.tx[i];
		const uint8_t *p = r.area + d->addr;

		ck_assert_int_eq(txs[i]->err, 0);
		ck_assert_uint_eq(d->len, txs[i]->len);
		/* The UMEM's tx half. */
		ck_assert_uint_ge(d->addr, (uint64_t)r.n_frames / 2 *
				  r.frame_size);
		ck_assert_mem_eq(p, frame, 12);
		ck_assert_uint_eq(p[12], 0x81);
		ck_assert_uint_eq(p[15], 10);
		ck_assert_mem_eq(p + 16, frame + 12, d->len - 16);
	}
	ck_assert_uint_ne(r.tx[0].addr, r.tx[1].addr);
	/* The kernel sends them and completes them. */
	*r.tx_cons = 3;
	for (c = 0; c < 3; c++)
		r.comp[c] = r.tx[c].addr;
	__atomic_store_n(r.comp_prod, 3, __ATOMIC_RELEASE);
	/* All of the tx half is free again: a burst of every frame of it
	 * goes out in pieces of the ring's size. */
	for (int i = 0; i < 3; i++)
		free(txs[i]);
	{
		unsigned int n = r.n_frames / 2;
		struct dp_tx **all = calloc(n, sizeof(*all));

		ck_assert_ptr_nonnull(all);
		for (unsigned int i = 0; i < n; i++)
			all[i] = mk_tx(frame, 60);
		/* The tx ring holds ring_size (== n here) at most. */
		ck_assert_uint_eq(n, r.ring_size);
		*r.tx_cons = *r.tx_prod;	/* the kernel took the first 3 */
		port->ops->tx_burst(port, NULL, all, n);
		for (unsigned int i = 0; i < n; i++) {
			ck_assert_int_eq(all[i]->err, 0);
			free(all[i]);
		}
		ck_assert_uint_eq(*r.tx_prod, 3 + n);
		free(all);
	}
}
END_TEST

START_TEST(test_tx_too_big_and_no_room)
{
	static uint8_t frame[4096];
	struct dp_tx *big = mk_tx(frame, 3900), *ok1 = mk_tx(frame, 60);
	struct dp_tx *txs[2] = { big, ok1 };
	unsigned int n = r.n_frames / 2;
	struct dp_tx **all;

	port->ops->tx_burst(port, NULL, txs, 2);
	ck_assert_int_eq(big->err, -EMSGSIZE);
	ck_assert_int_eq(ok1->err, 0);
	ck_assert_uint_eq(*r.tx_prod, 1);
	ck_assert_uint_eq(r.tx[0].len, 64);
	/* The kernel takes nothing back: n - 1 frames are free; n more
	 * copies, the last fails. */
	*r.tx_cons = 1;
	all = calloc(n, sizeof(*all));
	ck_assert_ptr_nonnull(all);
	for (unsigned int i = 0; i < n; i++)
		all[i] = mk_tx(frame, 60);
	port->ops->tx_burst(port, NULL, all, n);
	for (unsigned int i = 0; i < n - 1; i++)
		ck_assert_int_eq(all[i]->err, 0);
	ck_assert_int_eq(all[n - 1]->err, -ENOBUFS);
	ck_assert_uint_eq(*r.tx_prod, n);
	for (unsigned int i = 0; i < n; i++)
		free(all[i]);
	free(all);
	free(big);
	free(ok1);
}
END_TEST

static Suite *afxdp_suite(void)
{
	Suite *s = suite_create("afxdp");
	TCase *tc = tcase_create("rings");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fill_ring_after_open);
	tcase_add_test(tc, test_rx_in_place_lent_back_next_burst);
	tcase_add_test(tc, test_rx_burst_takes_no_more_than_asked);
	tcase_add_test(tc, test_tx_gathered_completed_reused);
	tcase_add_test(tc, test_tx_too_big_and_no_room);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(afxdp_suite());
}
