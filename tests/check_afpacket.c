/*
 * check_afpacket.c - unit tests of the afpacket kind's receive ring walk
 * (dataplane/port_afpacket.c), without root: the ring is plain memory
 * (port_afpacket_on_ring()) and the test plays the kernel, writing slots
 * as tpacket_rcv() does - a tpacket2_hdr, the virtio-net header right
 * before the frame - and handing them over with TP_STATUS_USER.
 *
 * Checked: the slot geometry follows the MTU; frames come out in order,
 * in place, with their offload state; the slots of a burst go back to the
 * kernel at the next rx_burst(), not before; the ring wraps; a tag the
 * device took out is put back in front of the payload, with the
 * virtio-net offsets moved; a slot cut short with no whole copy queued is
 * dropped and counted; a burst never takes more than asked.
 *
 *   sanitizers: CK_FORK=no build-asan/tests/check_afpacket
 */
#include "dataplane/port.h"

#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_common.h"

static struct dp_port *port;
static uint8_t *ring;
static unsigned int frame_size, per_block, n_frames;

/* The poll thread's buffers the slots would be read into (unused by
 * frames the ring holds whole). */
static uint8_t bufs[4][DP_VNET_HDR_LEN + 2048];
static struct dp_frame frames[4];

static void setup(void)
{
	port = port_afpacket_on_ring(1500, &ring);
	ck_assert_ptr_nonnull(port);
	port_afpacket_ring_geometry(port, &frame_size, &per_block, &n_frames);
}

static void teardown(void)
{
	port->ops->close(port);
	port = NULL;
}

static struct tpacket2_hdr *slot(unsigned int i)
{
	return (struct tpacket2_hdr *)(ring + (size_t)(i / per_block) *
				       (1u << 20) +
				       (size_t)(i % per_block) * frame_size);
}

/* The frame offset in a slot, as the kernel puts it (TPACKET2_HDRLEN,
 * aligned, then the virtio-net header right before the frame). */
#define MAC_OFF 96u

/*
 * Play the kernel: frame @seq (60 bytes, its sequence number in byte 20)
 * into slot @i, with @vnet before it, and hand it over with @status.
 */
static void kernel_put(unsigned int i, uint8_t seq, uint32_t status,
		       const struct virtio_net_hdr *vnet)
{
	struct tpacket2_hdr *h = slot(i);
	uint8_t *mac = (uint8_t *)h + MAC_OFF;

	ck_assert_uint_eq(h->tp_status, TP_STATUS_KERNEL);
	memset(mac, 0, 60);
	memset(mac, 0xff, 6);
	mac[6] = 0x02;
	mac[11] = seq;
	mac[12] = 0x88;
	mac[13] = 0xb5;
	mac[20] = seq;
	if (vnet)
		memcpy(mac - DP_VNET_HDR_LEN, vnet, DP_VNET_HDR_LEN);
	else
		memset(mac - DP_VNET_HDR_LEN, 0, DP_VNET_HDR_LEN);
	h->tp_len = 60;
	h->tp_snaplen = 60;
	h->tp_mac = MAC_OFF;
	h->tp_net = MAC_OFF + 14;
	__atomic_store_n(&h->tp_status, TP_STATUS_USER | status,
			 __ATOMIC_RELEASE);
}

static int rx(unsigned int n)
{
	for (unsigned int i = 0; i < n && i < 4; i++)
		frames[i].data = bufs[i] + DP_VNET_HDR_LEN;
	return port->ops->rx_burst(port, NULL, frames, n);
}

START_TEST(test_geometry_follows_mtu)
{
	ck_assert_uint_eq(frame_size, 2048);
	ck_assert_uint_eq(per_block, 512);
	ck_assert_uint_eq(n_frames, 2048);
	port->ops->close(port);
	port = port_afpacket_on_ring(9000, &ring);
	ck_assert_ptr_nonnull(port);
	port_afpacket_ring_geometry(port, &frame_size, &per_block, &n_frames);
	ck_assert_uint_eq(frame_size, 16384);
	ck_assert_uint_eq(n_frames, 4 * 64);
	ck_assert_uint_ge(frame_size, 9000 + 14 + 4 + MAC_OFF);
}
END_TEST

START_TEST(test_in_order_in_place_released_next_burst)
{
	struct virtio_net_hdr csum = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = 34, .csum_offset = 16,
	};

	ck_assert_int_eq(rx(4), 0);
	kernel_put(0, 1, 0, &csum);
	kernel_put(1, 2, 0, NULL);
	ck_assert_int_eq(rx(4), 2);
	ck_assert_ptr_eq(frames[0].data, (uint8_t *)slot(0) + MAC_OFF);
	ck_assert_uint_eq(frames[0].len, 60);
	ck_assert_uint_eq(frames[0].data[20], 1);
	ck_assert_uint_eq(frames[1].data[20], 2);
	ck_assert_uint_eq(frames[0].vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(frames[0].vnet.csum_start, 34);
	ck_assert(frames[0].vnet_in_buf);
	ck_assert_uint_eq(frames[1].vnet.flags, 0);
	/* The pipeline's until the next burst: not given back yet. */
	ck_assert(slot(0)->tp_status & TP_STATUS_USER);
	ck_assert(slot(1)->tp_status & TP_STATUS_USER);
	ck_assert_int_eq(rx(4), 0);
	ck_assert_uint_eq(slot(0)->tp_status, TP_STATUS_KERNEL);
	ck_assert_uint_eq(slot(1)->tp_status, TP_STATUS_KERNEL);
}
END_TEST

START_TEST(test_burst_takes_no_more_than_asked)
{
	for (unsigned int i = 0; i < 3; i++)
		kernel_put(i, (uint8_t)(10 + i), 0, NULL);
	ck_assert_int_eq(rx(2), 2);
	ck_assert_uint_eq(frames[1].data[20], 11);
	ck_assert_int_eq(rx(2), 1);
	ck_assert_uint_eq(frames[0].data[20], 12);
	/* The first burst's went back when the second began. */
	ck_assert_uint_eq(slot(0)->tp_status, TP_STATUS_KERNEL);
	ck_assert_uint_eq(slot(1)->tp_status, TP_STATUS_KERNEL);
	ck_assert(slot(2)->tp_status & TP_STATUS_USER);
}
END_TEST

START_TEST(test_wraps)
{
	unsigned int seq = 0;

	/* Round the ring once and a bit, two slots a burst. */
	for (unsigned int i = 0; i < n_frames + 6; i += 2) {
		kernel_put(i % n_frames, (uint8_t)seq, 0, NULL);
		kernel_put((i + 1) % n_frames, (uint8_t)(seq + 1), 0, NULL);
		ck_assert_int_eq(rx(4), 2);
		ck_assert_uint_eq(frames[0].data[20], (uint8_t)seq);
		ck_assert_uint_eq(frames[1].data[20], (uint8_t)(seq + 1));
		ck_assert_ptr_eq(frames[0].data,
				 (uint8_t *)slot(i % n_frames) + MAC_OFF);
		seq += 2;
	}
}
END_TEST

START_TEST(test_tag_put_back)
{
	struct virtio_net_hdr gso = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1448,
		.csum_start = 34, .csum_offset = 16,
	};
	struct tpacket2_hdr *h = slot(0);
	const uint8_t *f;

	h->tp_vlan_tci = 0xa00a;	/* PCP 5, VID 10 */
	h->tp_vlan_tpid = 0x88a8;
	kernel_put(0, 7, TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID,
		   &gso);
	ck_assert_int_eq(rx(4), 1);
	f = frames[0].data;
	ck_assert_uint_eq(frames[0].len, 64);
	ck_assert_ptr_eq(f, (uint8_t *)h + MAC_OFF - 4);
	ck_assert_uint_eq(f[0], 0xff);
	ck_assert_uint_eq(f[6], 0x02);
	ck_assert_uint_eq(f[11], 7);
	ck_assert_uint_eq(f[12], 0x88);
	ck_assert_uint_eq(f[13], 0xa8);
	ck_assert_uint_eq(f[14], 0xa0);
	ck_assert_uint_eq(f[15], 0x0a);
	ck_assert_uint_eq(f[16], 0x88);
	ck_assert_uint_eq(f[17], 0xb5);
	ck_assert_uint_eq(f[24], 7);
	ck_assert_uint_eq(frames[0].vnet.csum_start, 38);
	ck_assert_uint_eq(frames[0].vnet.hdr_len, 58);
	ck_assert_uint_eq(frames[0].vnet.gso_size, 1448);
	/* The header in the buffer was written over: not to be reused. */
	ck_assert(!frames[0].vnet_in_buf);
	/* No TPID from the kernel: 802.1Q. */
	h = slot(1);
	h->tp_vlan_tci = 5;
	kernel_put(1, 8, TP_STATUS_VLAN_VALID, NULL);
	ck_assert_int_eq(rx(4), 1);
	ck_assert_uint_eq(frames[0].data[12], 0x81);
	ck_assert_uint_eq(frames[0].data[13], 0x00);
	ck_assert_uint_eq(frames[0].data[15], 5);
	ck_assert_uint_eq(frames[0].vnet.csum_start, 0);
}
END_TEST

START_TEST(test_cut_short_dropped_counted)
{
	struct dp_port_stats *st = &port->stats;

	kernel_put(0, 1, 0, NULL);
	slot(0)->tp_len = 3000;		/* more than the slot held */
	kernel_put(1, 2, 0, NULL);
	/* Too big for a slot, its whole copy not on the socket (there is
	 * no socket here: as when the receive buffer was full). */
	kernel_put(2, 3, TP_STATUS_COPY, NULL);
	kernel_put(3, 4, 0, NULL);
	ck_assert_int_eq(rx(4), 2);
	ck_assert_uint_eq(frames[0].data[20], 2);
	ck_assert_uint_eq(frames[1].data[20], 4);
	ck_assert_uint_eq(st->rx_missed, 2);
	/* Dropped slots went back at once; the kept ones are still ours. */
	ck_assert_uint_eq(slot(0)->tp_status, TP_STATUS_KERNEL);
	ck_assert_uint_eq(slot(2)->tp_status, TP_STATUS_KERNEL);
	ck_assert(slot(1)->tp_status & TP_STATUS_USER);
	ck_assert(slot(3)->tp_status & TP_STATUS_USER);
}
END_TEST

static Suite *afpacket_suite(void)
{
	Suite *s = suite_create("afpacket");
	TCase *tc = tcase_create("ring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_geometry_follows_mtu);
	tcase_add_test(tc, test_in_order_in_place_released_next_burst);
	tcase_add_test(tc, test_burst_takes_no_more_than_asked);
	tcase_add_test(tc, test_wraps);
	tcase_add_test(tc, test_tag_put_back);
	tcase_add_test(tc, test_cut_short_dropped_counted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(afpacket_suite());
}
