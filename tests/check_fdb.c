/*
 * check_fdb.c - unit tests for fdb/: learn, move, age, limit,
 * add/del/flush/dump, a randomized differential test against a naive twin,
 * and a multi-threaded stress test.
 *
 * Every test runs in a registered QSBR thread (the checked fixture
 * registers it and creates the table) that stays online.  fdb_*_rcu()
 * calls are wrapped in their own read-side section; the control calls
 * (fdb_add, fdb_insert, fdb_del, fdb_flush, fdb_age, fdb_dump) are made
 * outside one, as fdb.h asks.  A long test announces quiescent states: an
 * online QSBR thread that never does holds up every grace period, so the
 * call_rcu worker that frees deleted entries, and the resize worker of the
 * hash table, would wait on it.  It does so through rcu_quiescent() and
 * rcu_offline() of fdb/rcu_tsan.h, so that TSan sees the edge from a
 * reader's quiescent state to the free of what it read.
 *
 *   one case:     CK_RUN_CASE=differential build/tests/check_fdb
 *   another seed: FDB_TEST_SEED=0x1234 CK_RUN_CASE=differential ...
 *   under TSan:   CK_FORK=no TSAN_OPTIONS=suppressions=tests/tsan.supp ...
 */
#include "fdb/fdb.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <urcu-qsbr.h>

#include "lib/rcu.h"

#define CHECK_COMMON_FDB
#include "check_common.h"

/* The table the checked fixture creates for each test. */
static struct fdb *fx_fdb;

/* Helpers */

static void mac_of(uint8_t mac[FDB_MAC_LEN], uint32_t n)
{
	mac[0] = 0x02;		/* locally administered unicast */
	mac[1] = 0x00;
	mac[2] = n >> 24;
	mac[3] = n >> 16;
	mac[4] = n >> 8;
	mac[5] = n;
}

static enum fdb_learn_result learn(struct fdb *fdb, uint16_t vid,
				   const uint8_t mac[FDB_MAC_LEN],
				   uint32_t port, uint64_t now_ms,
				   uint32_t *old_port)
{
	enum fdb_learn_result res;

	rcu_read_begin();
	res = fdb_learn_rcu(fdb, vid, mac, port, now_ms, old_port);
	rcu_read_end();
	return res;
}

/* Every counter, exactly; the ones not named must be 0. */
#define ck_assert_stats(fdb, ...) ck_assert_fdb_stats_in(fdb, __VA_ARGS__)

/* Fixtures */

static void setup(void)
{
	rcu_register_thread();
	fx_fdb = fdb_create(0);
	ck_assert_ptr_nonnull(fx_fdb);
}

static void setup_limit3(void)
{
	rcu_register_thread();
	fx_fdb = fdb_create(3);
	ck_assert_ptr_nonnull(fx_fdb);
}

/* Online, outside any read-side section, as fdb_destroy() wants. */
static void teardown(void)
{
	fdb_destroy(fx_fdb);
	fx_fdb = NULL;
	rcu_unregister_thread();
}

/* lifecycle */

START_TEST(test_create_destroy)
{
	struct fdb *other = fdb_create(5);

	fdb_destroy(NULL);
	ck_assert_ptr_nonnull(other);
	ck_assert_uint_eq(fdb_get_max_learned(other), 5);
	fdb_set_max_learned(other, 7);
	ck_assert_uint_eq(fdb_get_max_learned(other), 7);
	ck_assert_uint_eq(fdb_get_max_learned(fx_fdb), 0);
	ck_assert_stats(other, .n_entries = 0);
	/* Destroying a table that still holds entries frees them. */
	ck_assert_int_eq(learn(other, 0, (uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 1,
			       0, NULL), FDB_LEARN_NEW);
	ck_assert_int_eq(fdb_add(other, 0, (uint8_t[]){ 2, 0, 0, 0, 0, 2 }, 1,
				 FDB_STATIC, 0), 0);
	fdb_destroy(other);
}
END_TEST

/* learn */

START_TEST(test_learn_new_then_refresh)
{
	uint8_t a[FDB_MAC_LEN], b[FDB_MAC_LEN];

	mac_of(a, 1);
	mac_of(b, 2);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), FDB_NO_PORT);

	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 1000, NULL), FDB_LEARN_NEW);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, b), FDB_NO_PORT);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 1,
			.n_dynamic = 1);

	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 2000, NULL),
			 FDB_LEARN_REFRESHED);
	/* Same clock reading again: still a refresh. */
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 2000, NULL),
			 FDB_LEARN_REFRESHED);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 1,
			.n_dynamic = 1);

	ck_assert_int_eq(learn(fx_fdb, 0, b, 2, 2000, NULL), FDB_LEARN_NEW);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, b), 2);
	ck_assert_stats(fx_fdb, .n_learned = 2, .n_entries = 2,
			.n_dynamic = 2);
}
END_TEST

START_TEST(test_learn_records_time_and_flags)
{
	uint8_t a[FDB_MAC_LEN];
	struct dump *d;

	mac_of(a, 1);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 3, 1000, NULL), FDB_LEARN_NEW);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 3, 4242, NULL),
			 FDB_LEARN_REFRESHED);
	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, 1);
	ck_assert_uint_eq(d->e[0].vid, 0);
	ck_assert_mem_eq(d->e[0].mac, a, FDB_MAC_LEN);
	ck_assert_uint_eq(d->e[0].port, 3);
	ck_assert_uint_eq(d->e[0].flags, FDB_LEARNED);
	ck_assert_uint_eq(d->e[0].updated_ms, 4242);
}
END_TEST

START_TEST(test_learn_vid_is_part_of_key)
{
	static const uint8_t ones[FDB_MAC_LEN] = {
		0xfe, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	uint8_t a[FDB_MAC_LEN];
	uint32_t old_port = 0;
	struct dump *d;

	mac_of(a, 1);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 1000, NULL), FDB_LEARN_NEW);
	ck_assert_int_eq(learn(fx_fdb, 10, a, 2, 1000, NULL), FDB_LEARN_NEW);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 10, a), 2);
	ck_assert_uint_eq(lookup_in(fx_fdb, 11, a), FDB_NO_PORT);
	ck_assert_stats(fx_fdb, .n_learned = 2, .n_entries = 2,
			.n_dynamic = 2);

	/* A move in VID 10 leaves VID 0 alone. */
	ck_assert_int_eq(learn(fx_fdb, 10, a, 3, 2000, &old_port),
			 FDB_LEARN_MOVED);
	ck_assert_uint_eq(old_port, 2);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 10, a), 3);

	/* All-ones bits at both ends of the packed key stay apart. */
	ck_assert_int_eq(learn(fx_fdb, 4095, ones, 4, 3000, NULL),
			 FDB_LEARN_NEW);
	ck_assert_int_eq(learn(fx_fdb, 0, ones, 5, 3000, NULL),
			 FDB_LEARN_NEW);
	ck_assert_uint_eq(lookup_in(fx_fdb, 4095, ones), 4);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, ones), 5);
	ck_assert_uint_eq(lookup_in(fx_fdb, 4094, ones), FDB_NO_PORT);

	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, 4);
	ck_assert_ptr_nonnull(dump_find(d, 0, a));
	ck_assert_uint_eq(dump_find(d, 0, a)->port, 1);
	ck_assert_ptr_nonnull(dump_find(d, 10, a));
	ck_assert_uint_eq(dump_find(d, 10, a)->port, 3);
	ck_assert_ptr_nonnull(dump_find(d, 4095, ones));
	ck_assert_uint_eq(dump_find(d, 4095, ones)->port, 4);
	ck_assert_ptr_nonnull(dump_find(d, 0, ones));
	ck_assert_uint_eq(dump_find(d, 0, ones)->port, 5);
	ck_assert_stats(fx_fdb, .n_learned = 4, .n_moved = 1, .n_entries = 4,
			.n_dynamic = 4);
}
END_TEST

/* move */

START_TEST(test_move_learned)
{
	uint8_t a[FDB_MAC_LEN];
	uint32_t old_port = 77;
	struct dump *d;

	mac_of(a, 1);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 1000, NULL), FDB_LEARN_NEW);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 2, 2000, &old_port),
			 FDB_LEARN_MOVED);
	ck_assert_uint_eq(old_port, 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 2);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_moved = 1, .n_entries = 1,
			.n_dynamic = 1);

	/* Now at home on port 2: a refresh, not another move. */
	ck_assert_int_eq(learn(fx_fdb, 0, a, 2, 3000, NULL),
			 FDB_LEARN_REFRESHED);
	/* A move with no old_port to fill in. */
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 4000, NULL), FDB_LEARN_MOVED);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_moved = 2, .n_entries = 1,
			.n_dynamic = 1);

	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, 1);
	ck_assert_uint_eq(d->e[0].port, 1);
	ck_assert_uint_eq(d->e[0].flags, FDB_LEARNED);
	ck_assert_uint_eq(d->e[0].updated_ms, 4000);
}
END_TEST

/* Like Linux: a static entry that is not sticky follows its host. */
START_TEST(test_move_static)
{
	uint8_t a[FDB_MAC_LEN];
	uint32_t old_port = 77;
	struct dump *d;

	mac_of(a, 1);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, a, 1, FDB_STATIC, 500), 0);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 2, 1000, &old_port),
			 FDB_LEARN_MOVED);
	ck_assert_uint_eq(old_port, 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 2);
	ck_assert_stats(fx_fdb, .n_moved = 1, .n_entries = 1);

	/* Still static: it moved, it did not become learned. */
	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, 1);
	ck_assert_uint_eq(d->e[0].port, 2);
	ck_assert_uint_eq(d->e[0].flags, FDB_STATIC);
	ck_assert_uint_eq(fdb_age(fx_fdb, 1000000, 1000), 0);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 2);
}
END_TEST

START_TEST(test_move_sticky)
{
	uint8_t a[FDB_MAC_LEN], b[FDB_MAC_LEN];
	uint32_t old_port = 77;
	struct dump *d;

	mac_of(a, 1);
	mac_of(b, 2);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, a, 1, FDB_STATIC | FDB_STICKY,
				 500), 0);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 2, 1000, &old_port),
			 FDB_LEARN_STICKY);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 1000, NULL),
			 FDB_LEARN_REFRESHED);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);

	/* Sticky without static holds its port just the same. */
	ck_assert_int_eq(fdb_add(fx_fdb, 0, b, 3, FDB_STICKY, 500), 0);
	ck_assert_int_eq(learn(fx_fdb, 0, b, 4, 1000, NULL),
			 FDB_LEARN_STICKY);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, b), 3);
	ck_assert_stats(fx_fdb, .n_entries = 2);

	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, 2);
	ck_assert_uint_eq(dump_find(d, 0, a)->port, 1);
	ck_assert_uint_eq(dump_find(d, 0, a)->flags,
			  FDB_STATIC | FDB_STICKY);
	ck_assert_uint_eq(dump_find(d, 0, b)->port, 3);
	ck_assert_uint_eq(dump_find(d, 0, b)->flags, FDB_STICKY);
	/* Not moved, but seen (br_fdb_update refreshes sticky entries). */
	ck_assert_uint_eq(dump_find(d, 0, b)->updated_ms, 1000);
	/* So a sticky entry that is not static does not age while seen. */
	ck_assert_uint_eq(fdb_age(fx_fdb, 1999, 1000), 0);
	ck_assert_uint_eq(fdb_age(fx_fdb, 2000, 1000), 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, b), FDB_NO_PORT);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_stats(fx_fdb, .n_aged = 1, .n_entries = 1);
}
END_TEST

/* age */

START_TEST(test_age_boundary)
{
	uint8_t a[FDB_MAC_LEN];

	mac_of(a, 1);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 1000, NULL), FDB_LEARN_NEW);
	ck_assert_uint_eq(fdb_age(fx_fdb, 300999, 300000), 0);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 1,
			.n_dynamic = 1);

	ck_assert_uint_eq(fdb_age(fx_fdb, 301000, 300000), 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), FDB_NO_PORT);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_aged = 1);
	ck_assert_uint_eq(fdb_age(fx_fdb, 400000, 300000), 0);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_aged = 1);
}
END_TEST

START_TEST(test_age_static_never)
{
	uint8_t a[FDB_MAC_LEN], b[FDB_MAC_LEN];

	mac_of(a, 1);
	mac_of(b, 2);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, a, 1, FDB_STATIC, 0), 0);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, b, 2, FDB_STATIC | FDB_STICKY, 0),
			 0);
	ck_assert_uint_eq(fdb_age(fx_fdb, 301000, 300000), 0);
	ck_assert_uint_eq(fdb_age(fx_fdb, UINT64_MAX, 1), 0);
	ck_assert_uint_eq(fdb_age(fx_fdb, 301000, 0), 0);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, b), 2);
	ck_assert_stats(fx_fdb, .n_entries = 2);
}
END_TEST

START_TEST(test_age_refresh_resets)
{
	uint8_t a[FDB_MAC_LEN];

	mac_of(a, 1);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 1000, NULL), FDB_LEARN_NEW);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 200000, NULL),
			 FDB_LEARN_REFRESHED);
	ck_assert_uint_eq(fdb_age(fx_fdb, 301000, 300000), 0);
	ck_assert_uint_eq(fdb_age(fx_fdb, 499999, 300000), 0);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	/* A move counts as being seen too. */
	ck_assert_int_eq(learn(fx_fdb, 0, a, 2, 450000, NULL),
			 FDB_LEARN_MOVED);
	ck_assert_uint_eq(fdb_age(fx_fdb, 749999, 300000), 0);
	ck_assert_uint_eq(fdb_age(fx_fdb, 750000, 300000), 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), FDB_NO_PORT);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_moved = 1, .n_aged = 1);
}
END_TEST

START_TEST(test_age_counts)
{
	uint8_t mac[FDB_MAC_LEN];

	/* Five seen at t=1000 + i, three of them refreshed at t=5000. */
	for (uint32_t i = 0; i < 5; i++) {
		mac_of(mac, i);
		ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 1000 + i, NULL),
				 FDB_LEARN_NEW);
	}
	for (uint32_t i = 0; i < 3; i++) {
		mac_of(mac, i);
		ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 5000, NULL),
				 FDB_LEARN_REFRESHED);
	}
	ck_assert_uint_eq(fdb_age(fx_fdb, 2003, 1000), 1);	/* 4 stays */
	ck_assert_uint_eq(fdb_age(fx_fdb, 2004, 1000), 1);
	ck_assert_stats(fx_fdb, .n_learned = 5, .n_aged = 2, .n_entries = 3,
			.n_dynamic = 3);
	ck_assert_uint_eq(fdb_age(fx_fdb, 6000, 1000), 3);
	ck_assert_stats(fx_fdb, .n_learned = 5, .n_aged = 5);
}
END_TEST

START_TEST(test_age_zero_removes_all_dynamic)
{
	uint8_t mac[FDB_MAC_LEN];

	for (uint32_t i = 0; i < 5; i++) {
		mac_of(mac, i);
		ck_assert_int_eq(learn(fx_fdb, i % 2 ? 10 : 0, mac, 1 + i,
				       1000 + i, NULL), FDB_LEARN_NEW);
	}
	mac_of(mac, 100);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac, 1, FDB_STATIC, 1000), 0);
	mac_of(mac, 101);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac, 2, FDB_STATIC | FDB_STICKY,
				 1000), 0);
	/* Even the entry seen at this very millisecond goes. */
	ck_assert_uint_eq(fdb_age(fx_fdb, 1004, 0), 5);
	ck_assert_stats(fx_fdb, .n_learned = 5, .n_aged = 5, .n_entries = 2);
	for (uint32_t i = 0; i < 5; i++) {
		mac_of(mac, i);
		ck_assert_uint_eq(lookup_in(fx_fdb, i % 2 ? 10 : 0, mac),
				  FDB_NO_PORT);
	}
	mac_of(mac, 100);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, mac), 1);
}
END_TEST

/* limit (the fixture creates the table with max_learned 3) */

START_TEST(test_limit_fourth_is_refused)
{
	uint8_t mac[FDB_MAC_LEN];
	uint32_t old_port = 77;

	ck_assert_uint_eq(fdb_get_max_learned(fx_fdb), 3);
	for (uint32_t i = 0; i < 3; i++) {
		mac_of(mac, i);
		ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 1000, NULL),
				 FDB_LEARN_NEW);
	}
	mac_of(mac, 3);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 1000, NULL),
			 FDB_LEARN_LIMIT);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, mac), FDB_NO_PORT);
	ck_assert_stats(fx_fdb, .n_learned = 3, .n_limit_miss = 1,
			.n_entries = 3, .n_dynamic = 3);
	/* The limit is per table, not per VLAN. */
	ck_assert_int_eq(learn(fx_fdb, 10, mac, 1, 1000, NULL),
			 FDB_LEARN_LIMIT);
	ck_assert_stats(fx_fdb, .n_learned = 3, .n_limit_miss = 2,
			.n_entries = 3, .n_dynamic = 3);

	/* Known MACs still refresh and move. */
	mac_of(mac, 0);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 2000, NULL),
			 FDB_LEARN_REFRESHED);
	mac_of(mac, 1);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 2, 2000, &old_port),
			 FDB_LEARN_MOVED);
	ck_assert_uint_eq(old_port, 1);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, mac), 2);
	ck_assert_stats(fx_fdb, .n_learned = 3, .n_moved = 1,
			.n_limit_miss = 2, .n_entries = 3, .n_dynamic = 3);
}
END_TEST

START_TEST(test_limit_room_after_removal)
{
	uint8_t mac[FDB_MAC_LEN];

	for (uint32_t i = 0; i < 3; i++) {
		mac_of(mac, i);
		ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, i ? 5000 : 1000,
				       NULL), FDB_LEARN_NEW);
	}
	mac_of(mac, 3);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 6000, NULL),
			 FDB_LEARN_LIMIT);

	/* MAC 0 ages out: room for MAC 3, then full again. */
	ck_assert_uint_eq(fdb_age(fx_fdb, 301000, 300000), 1);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 301000, NULL),
			 FDB_LEARN_NEW);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, mac), 1);
	mac_of(mac, 4);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 301000, NULL),
			 FDB_LEARN_LIMIT);

	/* A delete and a flush make room too. */
	mac_of(mac, 1);
	ck_assert_int_eq(fdb_del(fx_fdb, 0, mac, FDB_NO_PORT), 0);
	mac_of(mac, 4);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 2, 302000, NULL),
			 FDB_LEARN_NEW);
	ck_assert_uint_eq(fdb_flush(fx_fdb, 2, FDB_ANY_VID, FDB_FLUSH_ALL), 1);
	mac_of(mac, 5);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 3, 303000, NULL),
			 FDB_LEARN_NEW);
	ck_assert_stats(fx_fdb, .n_learned = 6, .n_aged = 1,
			.n_limit_miss = 2, .n_entries = 3, .n_dynamic = 3);
}
END_TEST

START_TEST(test_limit_static_not_counted)
{
	uint8_t mac[FDB_MAC_LEN];

	/* Static and sticky entries first: they take no learned slot. */
	mac_of(mac, 100);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac, 1, FDB_STATIC, 0), 0);
	mac_of(mac, 101);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac, 1, FDB_STICKY, 0), 0);
	for (uint32_t i = 0; i < 3; i++) {
		mac_of(mac, i);
		ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 1000, NULL),
				 FDB_LEARN_NEW);
	}
	mac_of(mac, 3);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 1000, NULL),
			 FDB_LEARN_LIMIT);
	/* At the limit, the user can still add. */
	mac_of(mac, 102);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac, 1, FDB_STATIC, 0), 0);
	ck_assert_stats(fx_fdb, .n_learned = 3, .n_limit_miss = 1,
			.n_entries = 6, .n_dynamic = 3);

	/* Making a learned entry static frees its learned slot. */
	mac_of(mac, 0);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac, 1, FDB_STATIC, 0), 0);
	ck_assert_stats(fx_fdb, .n_learned = 3, .n_limit_miss = 1,
			.n_entries = 6, .n_dynamic = 2);
	mac_of(mac, 3);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 1000, NULL),
			 FDB_LEARN_NEW);
	ck_assert_stats(fx_fdb, .n_learned = 4, .n_limit_miss = 1,
			.n_entries = 7, .n_dynamic = 3);
}
END_TEST

START_TEST(test_limit_zero_is_unlimited)
{
	uint8_t mac[FDB_MAC_LEN];

	fdb_set_max_learned(fx_fdb, 0);
	ck_assert_uint_eq(fdb_get_max_learned(fx_fdb), 0);
	for (uint32_t i = 0; i < 500; i++) {
		mac_of(mac, i);
		ck_assert_int_eq(learn(fx_fdb, 0, mac, 1 + i % 4, 1000, NULL),
				 FDB_LEARN_NEW);
	}
	ck_assert_stats(fx_fdb, .n_learned = 500, .n_entries = 500,
			.n_dynamic = 500);

	/* A limit below the count refuses new MACs only. */
	fdb_set_max_learned(fx_fdb, 10);
	mac_of(mac, 500);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 2000, NULL),
			 FDB_LEARN_LIMIT);
	mac_of(mac, 7);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 4, 2000, NULL),
			 FDB_LEARN_REFRESHED);
	fdb_set_max_learned(fx_fdb, 0);
	mac_of(mac, 500);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 1, 2000, NULL),
			 FDB_LEARN_NEW);
	ck_assert_stats(fx_fdb, .n_learned = 501, .n_limit_miss = 1,
			.n_entries = 501, .n_dynamic = 501);
}
END_TEST

/* add/del/flush/dump */

/*
 * A small mixed table, entries named by letter (MAC number):
 *   vid 0:  A(1) learned p1 t=100, B(2) learned p2 t=200,
 *           C(3) static p1 t=300, D(4) static|sticky p2 t=400,
 *           E(5) sticky (not static) p3 t=500
 *   vid 10: A(1) learned p1 t=600, F(6) learned p3 t=700,
 *           G(7) static p1 t=800
 * 8 entries, 4 of them learned (A0 B0 A10 F10); 5 without FDB_STATIC.
 */
static const struct {
	uint16_t vid;
	uint32_t mac;
	uint32_t port;
	uint32_t flags;
	uint64_t updated_ms;
} mixed[] = {
	{ 0, 1, 1, FDB_LEARNED, 100 },
	{ 0, 2, 2, FDB_LEARNED, 200 },
	{ 0, 3, 1, FDB_STATIC, 300 },
	{ 0, 4, 2, FDB_STATIC | FDB_STICKY, 400 },
	{ 0, 5, 3, FDB_STICKY, 500 },
	{ 10, 1, 1, FDB_LEARNED, 600 },
	{ 10, 6, 3, FDB_LEARNED, 700 },
	{ 10, 7, 1, FDB_STATIC, 800 },
};
#define N_MIXED (sizeof(mixed) / sizeof(mixed[0]))

static void fill_mixed(void)
{
	uint8_t mac[FDB_MAC_LEN];

	for (size_t i = 0; i < N_MIXED; i++) {
		mac_of(mac, mixed[i].mac);
		if (mixed[i].flags & FDB_LEARNED)
			ck_assert_int_eq(learn(fx_fdb, mixed[i].vid, mac,
					       mixed[i].port,
					       mixed[i].updated_ms, NULL),
					 FDB_LEARN_NEW);
		else
			ck_assert_int_eq(fdb_add(fx_fdb, mixed[i].vid, mac,
						 mixed[i].port, mixed[i].flags,
						 mixed[i].updated_ms), 0);
	}
	ck_assert_stats(fx_fdb, .n_learned = 4, .n_entries = 8,
			.n_dynamic = 4);
}

/* Which of mixed[] are still in the table: a bit per index. */
static void assert_mixed_left(unsigned int left_mask)
{
	uint8_t mac[FDB_MAC_LEN];
	uint64_t n_left = 0, n_learned_left = 0;
	struct fdb_stats stats;

	for (size_t i = 0; i < N_MIXED; i++) {
		bool left = left_mask & (1u << i);
		uint32_t port;

		mac_of(mac, mixed[i].mac);
		port = lookup_in(fx_fdb, mixed[i].vid, mac);
		ck_assert_msg(port == (left ? mixed[i].port : FDB_NO_PORT),
			      "mixed[%zu] (vid %u mac %u): port %u, want %s",
			      i, mixed[i].vid, mixed[i].mac, port,
			      left ? "present" : "absent");
		n_left += left;
		n_learned_left += left && (mixed[i].flags & FDB_LEARNED);
	}
	fdb_get_stats(fx_fdb, &stats);
	ck_assert_uint_eq(stats.n_entries, n_left);
	ck_assert_uint_eq(stats.n_dynamic, n_learned_left);
}

#define MIXED_ALL ((1u << N_MIXED) - 1)
#define M(i) (1u << (i))

START_TEST(test_add_replaces_learned)
{
	uint8_t a[FDB_MAC_LEN];
	struct dump *d;

	mac_of(a, 1);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 1000, NULL), FDB_LEARN_NEW);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 1,
			.n_dynamic = 1);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, a, 2, FDB_STATIC, 2000), 0);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 2);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 1);

	/* Replace static by static|sticky; FDB_LEARNED is ignored. */
	ck_assert_int_eq(fdb_add(fx_fdb, 0, a, 3,
				 FDB_STATIC | FDB_STICKY | FDB_LEARNED, 3000),
			 0);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 3);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 1);
	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, 1);
	ck_assert_uint_eq(d->e[0].port, 3);
	ck_assert_uint_eq(d->e[0].flags, FDB_STATIC | FDB_STICKY);
	ck_assert_uint_eq(d->e[0].updated_ms, 3000);

	/* An add of a new key with FDB_LEARNED alone is a plain entry. */
	mac_of(a, 2);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, a, 4, FDB_LEARNED, 4000), 0);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 2);
	d = dump_table(fx_fdb);
	ck_assert_uint_eq(dump_find(d, 0, a)->flags, 0);
}
END_TEST

/* fdb_insert(): `fdb add` (replace false) as against `fdb replace`. */
START_TEST(test_insert)
{
	uint8_t a[FDB_MAC_LEN], b[FDB_MAC_LEN];
	struct dump *d;

	mac_of(a, 1);
	mac_of(b, 2);
	ck_assert_int_eq(fdb_insert(fx_fdb, 0, a, 1, FDB_STATIC, 100, false),
			 0);
	ck_assert_int_eq(fdb_insert(fx_fdb, 0, a, 2, FDB_STICKY, 200, false),
			 -EEXIST);
	ck_assert_int_eq(learn(fx_fdb, 0, b, 3, 300, NULL), FDB_LEARN_NEW);
	ck_assert_int_eq(fdb_insert(fx_fdb, 0, b, 4, FDB_STATIC, 400, false),
			 -EEXIST);
	/* Neither existing entry changed. */
	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, 2);
	ck_assert_uint_eq(dump_find(d, 0, a)->port, 1);
	ck_assert_uint_eq(dump_find(d, 0, a)->flags, FDB_STATIC);
	ck_assert_uint_eq(dump_find(d, 0, a)->updated_ms, 100);
	ck_assert_uint_eq(dump_find(d, 0, b)->port, 3);
	ck_assert_uint_eq(dump_find(d, 0, b)->flags, FDB_LEARNED);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 2,
			.n_dynamic = 1);

	/* With replace it is fdb_add(). */
	ck_assert_int_eq(fdb_insert(fx_fdb, 0, b, 4, FDB_STATIC | FDB_LEARNED,
				    400, true), 0);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, b), 4);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 2);
	/* Another VID is another key. */
	ck_assert_int_eq(fdb_insert(fx_fdb, 10, a, 5, 0, 500, false), 0);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 3);
}
END_TEST

START_TEST(test_del)
{
	uint8_t a[FDB_MAC_LEN], b[FDB_MAC_LEN];

	mac_of(a, 1);
	mac_of(b, 2);
	ck_assert_int_eq(fdb_del(fx_fdb, 0, a, FDB_NO_PORT), -ENOENT);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 1000, NULL), FDB_LEARN_NEW);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, b, 2, FDB_STATIC, 1000), 0);

	ck_assert_int_eq(fdb_del(fx_fdb, 0, a, 2), -ENOENT);
	ck_assert_int_eq(fdb_del(fx_fdb, 10, a, 1), -ENOENT);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), 1);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 2,
			.n_dynamic = 1);

	ck_assert_int_eq(fdb_del(fx_fdb, 0, a, 1), 0);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, a), FDB_NO_PORT);
	ck_assert_stats(fx_fdb, .n_learned = 1, .n_entries = 1);
	ck_assert_int_eq(fdb_del(fx_fdb, 0, a, 1), -ENOENT);

	ck_assert_int_eq(fdb_del(fx_fdb, 0, b, FDB_NO_PORT), 0);
	ck_assert_uint_eq(lookup_in(fx_fdb, 0, b), FDB_NO_PORT);
	ck_assert_stats(fx_fdb, .n_learned = 1);
	ck_assert_int_eq(fdb_del(fx_fdb, 0, b, FDB_NO_PORT), -ENOENT);
}
END_TEST

START_TEST(test_flush_by_port)
{
	fill_mixed();
	ck_assert_uint_eq(fdb_flush(fx_fdb, 4, FDB_ANY_VID, FDB_FLUSH_ALL), 0);
	assert_mixed_left(MIXED_ALL);
	ck_assert_uint_eq(fdb_flush(fx_fdb, 1, FDB_ANY_VID, FDB_FLUSH_ALL), 4);
	assert_mixed_left(MIXED_ALL & ~(M(0) | M(2) | M(5) | M(7)));
	ck_assert_uint_eq(fdb_flush(fx_fdb, 1, FDB_ANY_VID, FDB_FLUSH_ALL), 0);
	ck_assert_uint_eq(fdb_flush(fx_fdb, 3, FDB_ANY_VID,
				    FDB_FLUSH_DYNAMIC), 2);
	assert_mixed_left(M(1) | M(3));
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, FDB_ANY_VID,
				    FDB_FLUSH_ALL), 2);
	assert_mixed_left(0);
	ck_assert_stats(fx_fdb, .n_learned = 4);
}
END_TEST

START_TEST(test_flush_by_vid)
{
	fill_mixed();
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, 20, FDB_FLUSH_ALL),
			  0);
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, 10, FDB_FLUSH_ALL),
			  3);
	assert_mixed_left(M(0) | M(1) | M(2) | M(3) | M(4));
	/* Port and VID together. */
	ck_assert_uint_eq(fdb_flush(fx_fdb, 2, 0, FDB_FLUSH_STATIC), 1);
	assert_mixed_left(M(0) | M(1) | M(2) | M(4));
	ck_assert_uint_eq(fdb_flush(fx_fdb, 1, 0, FDB_FLUSH_DYNAMIC), 1);
	assert_mixed_left(M(1) | M(2) | M(4));
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, 0, FDB_FLUSH_ALL), 3);
	assert_mixed_left(0);
}
END_TEST

/* Dynamic: everything without FDB_STATIC, the sticky E included. */
START_TEST(test_flush_dynamic)
{
	fill_mixed();
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, FDB_ANY_VID,
				    FDB_FLUSH_DYNAMIC), 5);
	assert_mixed_left(M(2) | M(3) | M(7));
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, FDB_ANY_VID,
				    FDB_FLUSH_DYNAMIC), 0);
	ck_assert_stats(fx_fdb, .n_learned = 4, .n_entries = 3);
}
END_TEST

START_TEST(test_flush_static)
{
	fill_mixed();
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, FDB_ANY_VID,
				    FDB_FLUSH_STATIC), 3);
	assert_mixed_left(M(0) | M(1) | M(4) | M(5) | M(6));
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, FDB_ANY_VID,
				    FDB_FLUSH_STATIC), 0);
	ck_assert_stats(fx_fdb, .n_learned = 4, .n_entries = 5,
			.n_dynamic = 4);
}
END_TEST

START_TEST(test_flush_all)
{
	fill_mixed();
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, FDB_ANY_VID,
				    FDB_FLUSH_ALL), 8);
	assert_mixed_left(0);
	ck_assert_stats(fx_fdb, .n_learned = 4);
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, FDB_ANY_VID,
				    FDB_FLUSH_ALL), 0);
}
END_TEST

START_TEST(test_dump_exact)
{
	uint8_t mac[FDB_MAC_LEN];
	char buf[18];
	struct dump *d;

	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, 0);

	fill_mixed();
	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, N_MIXED);
	for (size_t i = 0; i < N_MIXED; i++) {
		const struct fdb_entry_info *info;

		mac_of(mac, mixed[i].mac);
		info = dump_find(d, mixed[i].vid, mac);
		ck_assert_msg(info, "mixed[%zu]: vid %u %s not dumped", i,
			      mixed[i].vid, mac_str(mac, buf));
		ck_assert_uint_eq(info->port, mixed[i].port);
		ck_assert_uint_eq(info->flags, mixed[i].flags);
		ck_assert_uint_eq(info->updated_ms, mixed[i].updated_ms);
	}
	/* dump_find() takes the first match: check there is no second. */
	for (size_t i = 0; i < d->n; i++)
		for (size_t j = i + 1; j < d->n; j++)
			ck_assert(d->e[i].vid != d->e[j].vid ||
				  memcmp(d->e[i].mac, d->e[j].mac,
					 FDB_MAC_LEN));

	/* After a move, a delete and a replace, the dump follows. */
	mac_of(mac, 2);
	ck_assert_int_eq(learn(fx_fdb, 0, mac, 3, 900, NULL), FDB_LEARN_MOVED);
	mac_of(mac, 6);
	ck_assert_int_eq(fdb_del(fx_fdb, 10, mac, 3), 0);
	mac_of(mac, 1);
	ck_assert_int_eq(fdb_add(fx_fdb, 10, mac, 4, FDB_STATIC, 1000), 0);
	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, N_MIXED - 1);
	mac_of(mac, 2);
	ck_assert_uint_eq(dump_find(d, 0, mac)->port, 3);
	ck_assert_uint_eq(dump_find(d, 0, mac)->updated_ms, 900);
	mac_of(mac, 6);
	ck_assert_ptr_null(dump_find(d, 10, mac));
	mac_of(mac, 1);
	ck_assert_uint_eq(dump_find(d, 10, mac)->port, 4);
	ck_assert_uint_eq(dump_find(d, 10, mac)->flags, FDB_STATIC);
	ck_assert_uint_eq(dump_find(d, 0, mac)->port, 1);
	ck_assert_uint_eq(dump_find(d, 0, mac)->flags, FDB_LEARNED);
}
END_TEST

/*
 * differential: random operations on the fdb and on a deliberately naive
 * twin, a linear array with the semantics of fdb.h written out plainly;
 * every result, and the counters, must agree after every operation, and
 * the whole table at intervals.
 */

#define DIFF_OPS	200000
#define DIFF_POOL	48	/* MACs; with 3 VIDs, 144 keys */
#define DIFF_NPORTS	6
#define DIFF_SEED	0x7a95317c4d1f0b2eULL
#define TWIN_MAX	(DIFF_POOL * 3)

static const uint16_t diff_vids[] = { 0, 10, 4095 };

struct twin_entry {
	uint16_t vid;
	uint8_t mac[FDB_MAC_LEN];
	uint32_t port;
	uint32_t flags;
	uint64_t updated_ms;
};

struct twin {
	struct twin_entry entries[TWIN_MAX];
	unsigned int n_entries;
	uint32_t max_learned;
	uint64_t n_learned, n_moved, n_aged, n_limit_miss;
};

static int twin_find(const struct twin *tw, uint16_t vid,
		     const uint8_t mac[FDB_MAC_LEN])
{
	for (unsigned int i = 0; i < tw->n_entries; i++)
		if (tw->entries[i].vid == vid &&
		    !memcmp(tw->entries[i].mac, mac, FDB_MAC_LEN))
			return i;
	return -1;
}

static void twin_remove(struct twin *tw, unsigned int i)
{
	memmove(&tw->entries[i], &tw->entries[i + 1],
		(tw->n_entries - i - 1) * sizeof(tw->entries[0]));
	tw->n_entries--;
}

static void twin_append(struct twin *tw, uint16_t vid,
			const uint8_t mac[FDB_MAC_LEN], uint32_t port,
			uint32_t flags, uint64_t now_ms)
{
	struct twin_entry *e = &tw->entries[tw->n_entries++];

	e->vid = vid;
	memcpy(e->mac, mac, FDB_MAC_LEN);
	e->port = port;
	e->flags = flags;
	e->updated_ms = now_ms;
}

static unsigned int twin_n_dynamic(const struct twin *tw)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < tw->n_entries; i++)
		if (tw->entries[i].flags & FDB_LEARNED)
			n++;
	return n;
}

static void twin_stats(const struct twin *tw, struct fdb_stats *stats)
{
	stats->n_learned = tw->n_learned;
	stats->n_moved = tw->n_moved;
	stats->n_aged = tw->n_aged;
	stats->n_limit_miss = tw->n_limit_miss;
	stats->n_nomem = 0;
	stats->n_entries = tw->n_entries;
	stats->n_dynamic = twin_n_dynamic(tw);
}

static uint32_t twin_lookup(const struct twin *tw, uint16_t vid,
			    const uint8_t mac[FDB_MAC_LEN])
{
	int i = twin_find(tw, vid, mac);

	return i < 0 ? FDB_NO_PORT : tw->entries[i].port;
}

static enum fdb_learn_result twin_learn(struct twin *tw, uint16_t vid,
					const uint8_t mac[FDB_MAC_LEN],
					uint32_t port, uint64_t now_ms,
					uint32_t *old_port)
{
	int i = twin_find(tw, vid, mac);
	struct twin_entry *e;

	if (i >= 0) {
		e = &tw->entries[i];
		if (e->port == port) {
			e->updated_ms = now_ms;
			return FDB_LEARN_REFRESHED;
		}
		/* Sticky: stays put, but was seen all the same. */
		if (e->flags & FDB_STICKY) {
			e->updated_ms = now_ms;
			return FDB_LEARN_STICKY;
		}
		*old_port = e->port;
		e->port = port;
		e->updated_ms = now_ms;
		tw->n_moved++;
		return FDB_LEARN_MOVED;
	}
	if (tw->max_learned && twin_n_dynamic(tw) >= tw->max_learned) {
		tw->n_limit_miss++;
		return FDB_LEARN_LIMIT;
	}
	twin_append(tw, vid, mac, port, FDB_LEARNED, now_ms);
	tw->n_learned++;
	return FDB_LEARN_NEW;
}

static void twin_add(struct twin *tw, uint16_t vid,
		     const uint8_t mac[FDB_MAC_LEN], uint32_t port,
		     uint32_t flags, uint64_t now_ms)
{
	int i = twin_find(tw, vid, mac);

	if (i >= 0)
		twin_remove(tw, i);
	twin_append(tw, vid, mac, port, flags & (FDB_STATIC | FDB_STICKY),
		    now_ms);
}

static int twin_insert(struct twin *tw, uint16_t vid,
		       const uint8_t mac[FDB_MAC_LEN], uint32_t port,
		       uint32_t flags, uint64_t now_ms)
{
	if (twin_find(tw, vid, mac) >= 0)
		return -EEXIST;
	twin_add(tw, vid, mac, port, flags, now_ms);
	return 0;
}

static int twin_del(struct twin *tw, uint16_t vid,
		    const uint8_t mac[FDB_MAC_LEN], uint32_t port)
{
	int i = twin_find(tw, vid, mac);

	if (i < 0)
		return -ENOENT;
	if (port != FDB_NO_PORT && tw->entries[i].port != port)
		return -ENOENT;
	twin_remove(tw, i);
	return 0;
}

static unsigned int twin_flush(struct twin *tw, uint32_t port, uint16_t vid,
			       enum fdb_flush_kind kind)
{
	unsigned int n = 0, i = 0;

	while (i < tw->n_entries) {
		struct twin_entry *e = &tw->entries[i];
		bool is_static = e->flags & FDB_STATIC;
		bool match = true;

		if (port != FDB_NO_PORT && e->port != port)
			match = false;
		if (vid != FDB_ANY_VID && e->vid != vid)
			match = false;
		if (kind == FDB_FLUSH_DYNAMIC && is_static)
			match = false;
		if (kind == FDB_FLUSH_STATIC && !is_static)
			match = false;
		if (match) {
			twin_remove(tw, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

static unsigned int twin_age(struct twin *tw, uint64_t now_ms,
			     uint64_t ageing_ms)
{
	unsigned int n = 0, i = 0;

	while (i < tw->n_entries) {
		struct twin_entry *e = &tw->entries[i];

		if (!(e->flags & FDB_STATIC) && now_ms >= e->updated_ms &&
		    now_ms - e->updated_ms >= ageing_ms) {
			twin_remove(tw, i);
			n++;
		} else {
			i++;
		}
	}
	tw->n_aged += n;
	return n;
}

/* Compare the whole table with the twin. */
static void diff_check_dump(const struct twin *tw, uint64_t seed,
			    unsigned long op)
{
	bool seen[TWIN_MAX] = { false };
	struct dump *d = dump_table(fx_fdb);
	char buf[18];

	ck_assert_msg(d->n == tw->n_entries,
		      "seed %#" PRIx64 ", op %lu: dump has %zu entries, "
		      "twin %u", seed, op, d->n, tw->n_entries);
	for (size_t j = 0; j < d->n; j++) {
		const struct fdb_entry_info *info = &d->e[j];
		int i = twin_find(tw, info->vid, info->mac);
		const struct twin_entry *e;

		ck_assert_msg(i >= 0, "seed %#" PRIx64 ", op %lu: dump has "
			      "vid %u %s, the twin does not", seed, op,
			      info->vid, mac_str(info->mac, buf));
		e = &tw->entries[i];
		ck_assert_msg(!seen[i], "seed %#" PRIx64 ", op %lu: vid %u %s "
			      "dumped twice", seed, op, info->vid,
			      mac_str(info->mac, buf));
		seen[i] = true;
		ck_assert_msg(info->port == e->port &&
			      info->flags == e->flags &&
			      info->updated_ms == e->updated_ms,
			      "seed %#" PRIx64 ", op %lu: vid %u %s: "
			      "port %u flags %#x updated %" PRIu64 ", twin "
			      "port %u flags %#x updated %" PRIu64, seed, op,
			      info->vid, mac_str(info->mac, buf), info->port,
			      info->flags, info->updated_ms, e->port,
			      e->flags, e->updated_ms);
	}
}

/* A failed comparison names the seed, the operation and its arguments. */
#define diff_assert(cond, fmt, ...)					\
	ck_assert_msg((cond), "seed %#" PRIx64 ", op %lu (%s vid %u %s "\
		      "port %u now %" PRIu64 "): " fmt, seed, op, op_name, \
		      vid, mac_str(mac, buf), port, now_ms, ##__VA_ARGS__)

/* generation, next deadline, table size */

/* The generation moves exactly when a key stops pointing where it did. */
START_TEST(test_gen_changes_when_mapping_changes)
{
	uint8_t a[FDB_MAC_LEN], b[FDB_MAC_LEN];
	uint32_t g;

	mac_of(a, 1);
	mac_of(b, 2);
	g = fdb_gen(fx_fdb);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 1000, NULL), FDB_LEARN_NEW);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 1, 2000, NULL),
			 FDB_LEARN_REFRESHED);
	ck_assert_int_eq(fdb_insert(fx_fdb, 0, b, 3, FDB_STATIC, 2000, false),
			 0);
	ck_assert_uint_eq(fdb_gen(fx_fdb), g);		/* adds, refreshes */

	ck_assert_int_eq(learn(fx_fdb, 0, a, 2, 3000, NULL), FDB_LEARN_MOVED);
	ck_assert_uint_ne(fdb_gen(fx_fdb), g);
	g = fdb_gen(fx_fdb);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, b, 4, FDB_STATIC, 3000), 0);
	ck_assert_uint_ne(fdb_gen(fx_fdb), g);		/* replace */
	g = fdb_gen(fx_fdb);
	ck_assert_int_eq(fdb_del(fx_fdb, 0, b, FDB_NO_PORT), 0);
	ck_assert_uint_ne(fdb_gen(fx_fdb), g);		/* delete */
	g = fdb_gen(fx_fdb);
	ck_assert_uint_eq(fdb_age(fx_fdb, 3000 + 500, 1000), 0);
	ck_assert_uint_eq(fdb_gen(fx_fdb), g);		/* nothing aged */
	ck_assert_uint_eq(fdb_age(fx_fdb, 3000 + 1000, 1000), 1);
	ck_assert_uint_ne(fdb_gen(fx_fdb), g);		/* aged out */
	g = fdb_gen(fx_fdb);
	ck_assert_int_eq(learn(fx_fdb, 0, a, 2, 5000, NULL), FDB_LEARN_NEW);
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, FDB_ANY_VID,
				    FDB_FLUSH_ALL), 1);
	ck_assert_uint_ne(fdb_gen(fx_fdb), g);		/* flush */
}
END_TEST

/* fdb_age_next() tells when the next remaining entry would expire. */
START_TEST(test_age_next_deadline)
{
	uint8_t mac[FDB_MAC_LEN];
	uint64_t next = 0;

	ck_assert_uint_eq(fdb_age_next(fx_fdb, 1000, 300000, &next), 0);
	ck_assert_uint_eq(next, UINT64_MAX);	/* empty: nothing can */
	for (uint32_t i = 0; i < 5; i++) {
		mac_of(mac, i);
		learn(fx_fdb, 0, mac, 1, 10000 + i * 1000, NULL);
	}
	mac_of(mac, 99);
	ck_assert_int_eq(fdb_add(fx_fdb, 0, mac, 1, FDB_STATIC, 1), 0);
	/* Entries seen at 10 s .. 14 s, ageing 60 s: the first goes at 70 s;
	 * the static one never counts. */
	ck_assert_uint_eq(fdb_age_next(fx_fdb, 20000, 60000, &next), 0);
	ck_assert_uint_eq(next, 70000);
	/* At 71.5 s two have gone, the next is the one seen at 12 s. */
	ck_assert_uint_eq(fdb_age_next(fx_fdb, 71500, 60000, &next), 2);
	ck_assert_uint_eq(next, 72000);
}
END_TEST

/* The table grows to one entry a bucket, shrinks after a flush, and
 * every entry stays reachable across both. */
START_TEST(test_maintain_resizes)
{
	struct fdb_stats st;
	const uint32_t n = 200000;
	uint8_t mac[FDB_MAC_LEN];

	fdb_get_stats(fx_fdb, &st);
	ck_assert_uint_eq(st.n_buckets, FDB_START_BUCKETS);
	for (uint32_t i = 0; i < n; i++) {
		mac_of(mac, i);
		ck_assert_int_eq(learn(fx_fdb, 0, mac, i % 7, 1000, NULL),
				 FDB_LEARN_NEW);
	}
	fdb_maintain(fx_fdb);
	fdb_get_stats(fx_fdb, &st);
	ck_assert_uint_eq(st.n_buckets, 262144);
	for (uint32_t i = 0; i < n; i += 997) {
		mac_of(mac, i);
		ck_assert_uint_eq(lookup_in(fx_fdb, 0, mac), i % 7);
	}
	fdb_maintain(fx_fdb);			/* nothing to do twice */
	fdb_get_stats(fx_fdb, &st);
	ck_assert_uint_eq(st.n_buckets, 262144);
	ck_assert_uint_eq(fdb_flush(fx_fdb, 3, FDB_ANY_VID, FDB_FLUSH_ALL),
			  n / 7 + (n % 7 > 3));
	/* Down to 1000 entries, on port 0: fewer than a sixteenth. */
	for (uint32_t p = 1; p < 7; p++)
		fdb_flush(fx_fdb, p, FDB_ANY_VID, FDB_FLUSH_ALL);
	for (uint32_t i = 7000; i < n; i += 7) {
		mac_of(mac, i);
		ck_assert_int_eq(fdb_del(fx_fdb, 0, mac, 0), 0);
	}
	fdb_get_stats(fx_fdb, &st);
	ck_assert_uint_eq(st.n_entries, 1000);
	fdb_maintain(fx_fdb);
	fdb_get_stats(fx_fdb, &st);
	/* Not below the start, and 16 times too big no more. */
	ck_assert_uint_eq(st.n_buckets, FDB_START_BUCKETS);
	for (uint32_t i = 0; i < n; i += 991) {
		mac_of(mac, i);
		ck_assert_uint_eq(lookup_in(fx_fdb, 0, mac),
				  i % 7 || i >= 7000 ? FDB_NO_PORT : 0);
	}
}
END_TEST

/*
 * Resizing under readers: a reader keeps looking up 100 static entries
 * while the main thread grows the table with 20000 learned ones, flushes
 * them and shrinks it again, over and over.  No lookup may ever miss.
 */
static uint64_t mono_ms(void);

struct resize_reader {
	struct fdb *fdb;
	int stop;
	uint64_t n_lookups, n_missed;
};

static void *resize_reader_run(void *arg)
{
	struct resize_reader *r = arg;
	uint8_t mac[FDB_MAC_LEN];

	rcu_register_thread();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		rcu_read_begin();
		for (uint32_t i = 0; i < 100; i++) {
			mac_of(mac, 0x10000000 + i);
			if (fdb_lookup_rcu(r->fdb, 5, mac) != i % 8)
				r->n_missed++;
			r->n_lookups++;
		}
		rcu_read_end();
		rcu_quiescent();
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

START_TEST(test_maintain_concurrent)
{
	struct resize_reader r = { .fdb = fdb_create(3) };
	uint64_t end = mono_ms() + 1000;
	unsigned int rounds = 0, grown = 0;
	uint8_t mac[FDB_MAC_LEN];
	struct fdb_stats st;
	pthread_t t;

	ck_assert_ptr_nonnull(r.fdb);
	fdb_set_max_learned(r.fdb, 0);
	for (uint32_t i = 0; i < 100; i++) {
		mac_of(mac, 0x10000000 + i);
		ck_assert_int_eq(fdb_add(r.fdb, 5, mac, i % 8, FDB_STATIC, 1),
				 0);
	}
	ck_assert_int_eq(pthread_create(&t, NULL, resize_reader_run, &r), 0);
	while (mono_ms() < end || rounds < 3) {
		for (uint32_t i = 0; i < 20000; i++) {
			mac_of(mac, i);
			learn(r.fdb, 5, mac, 1, 1000, NULL);
		}
		fdb_maintain(r.fdb);
		fdb_get_stats(r.fdb, &st);
		grown += st.n_buckets >= 16384;
		fdb_flush(r.fdb, FDB_NO_PORT, FDB_ANY_VID, FDB_FLUSH_DYNAMIC);
		fdb_maintain(r.fdb);
		rounds++;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	rcu_offline();
	pthread_join(t, NULL);
	rcu_thread_online();
	fdb_get_stats(r.fdb, &st);
	ck_assert_uint_eq(grown, rounds);
	ck_assert_uint_lt(st.n_buckets, 16384);
	ck_assert_uint_gt(r.n_lookups, 0);
	ck_assert_msg(r.n_missed == 0, "%" PRIu64 " of %" PRIu64
		      " lookups missed during resizes", r.n_missed,
		      r.n_lookups);
	fdb_destroy(r.fdb);
}
END_TEST

/* A limit sizes the table for itself. */
START_TEST(test_limit_sizes_table)
{
	struct fdb *fdb = fdb_create(2000);
	struct fdb_stats st;

	ck_assert_ptr_nonnull(fdb);
	fdb_get_stats(fdb, &st);
	ck_assert_uint_eq(st.n_buckets, 2048);
	fdb_destroy(fdb);
	fdb = fdb_create(100000);
	ck_assert_ptr_nonnull(fdb);
	fdb_get_stats(fdb, &st);
	ck_assert_uint_eq(st.n_buckets, FDB_START_BUCKETS);
	fdb_destroy(fdb);
	fdb = fdb_create(3);
	ck_assert_ptr_nonnull(fdb);
	fdb_get_stats(fdb, &st);
	ck_assert_uint_eq(st.n_buckets, FDB_MIN_BUCKETS);
	fdb_destroy(fdb);
}
END_TEST

START_TEST(test_differential)
{
	static const uint32_t max_choices[] = { 0, 0, 0, 20, 60, 100 };
	static const uint64_t ageing_choices[] = {
		0, 2000, 5000, 10000, 20000, 60000, 300000
	};
	static const uint32_t add_flags[] = {
		0, FDB_STATIC, FDB_STICKY, FDB_STATIC | FDB_STICKY,
		FDB_STATIC | FDB_LEARNED,
	};
	const uint64_t seed = test_seed("FDB_TEST_SEED", DIFF_SEED);
	struct twin *tw = calloc(1, sizeof(*tw));
	unsigned long n_results[FDB_LEARN_NOMEM + 1] = { 0 };
	unsigned long n_aged = 0, n_flushed = 0, n_del_ok = 0, n_del_miss = 0;
	unsigned long n_insert_ok = 0, n_insert_exist = 0;
	uint64_t rng = seed, now_ms = 1000;
	struct fdb_stats got, want;
	char buf[18];

	ck_assert_ptr_nonnull(tw);
	for (unsigned long op = 0; op < DIFF_OPS; op++) {
		uint32_t dice = rng_below(&rng, 1000);
		uint16_t vid = diff_vids[rng_below(&rng, 3)];
		uint32_t port = 1 + rng_below(&rng, DIFF_NPORTS);
		const char *op_name;
		uint8_t mac[FDB_MAC_LEN];

		mac_of(mac, rng_below(&rng, DIFF_POOL));
		/* The clock often stands still: a burst shares a reading. */
		if (rng_below(&rng, 4) == 0)
			now_ms += rng_below(&rng, 200);

		if (dice < 500) {
			enum fdb_learn_result res, twin_res;
			uint32_t old_port = FDB_NO_PORT;
			uint32_t twin_old_port = FDB_NO_PORT;

			op_name = "learn";
			res = learn(fx_fdb, vid, mac, port, now_ms, &old_port);
			twin_res = twin_learn(tw, vid, mac, port, now_ms,
					      &twin_old_port);
			diff_assert(res == twin_res, "result %d, twin %d",
				    res, twin_res);
			if (res == FDB_LEARN_MOVED)
				diff_assert(old_port == twin_old_port,
					    "old port %u, twin %u", old_port,
					    twin_old_port);
			n_results[res]++;
		} else if (dice < 750) {
			uint32_t got_port, twin_port;

			op_name = "lookup";
			got_port = lookup_in(fx_fdb, vid, mac);
			twin_port = twin_lookup(tw, vid, mac);
			diff_assert(got_port == twin_port, "port %u, twin %u",
				    got_port, twin_port);
		} else if (dice < 790) {
			uint32_t flags = add_flags[rng_below(&rng, 5)];

			op_name = "add";
			twin_add(tw, vid, mac, port, flags, now_ms);
			diff_assert(fdb_add(fx_fdb, vid, mac, port, flags,
					    now_ms) == 0, "flags %#x", flags);
		} else if (dice < 810) {
			uint32_t flags = add_flags[rng_below(&rng, 5)];
			int ret, twin_ret;

			op_name = "insert";
			ret = fdb_insert(fx_fdb, vid, mac, port, flags, now_ms,
					 false);
			twin_ret = twin_insert(tw, vid, mac, port, flags,
					       now_ms);
			diff_assert(ret == twin_ret, "flags %#x: returned %d, "
				    "twin %d", flags, ret, twin_ret);
			if (ret)
				n_insert_exist++;
			else
				n_insert_ok++;
		} else if (dice < 880) {
			int ret, twin_ret;

			op_name = "del";
			if (rng_below(&rng, 4) == 0)
				port = FDB_NO_PORT;
			ret = fdb_del(fx_fdb, vid, mac, port);
			twin_ret = twin_del(tw, vid, mac, port);
			diff_assert(ret == twin_ret, "returned %d, twin %d",
				    ret, twin_ret);
			if (ret)
				n_del_miss++;
			else
				n_del_ok++;
		} else if (dice < 910) {
			enum fdb_flush_kind kind = rng_below(&rng, 3);
			unsigned int n, twin_n;

			op_name = "flush";
			if (rng_below(&rng, 3) == 0)
				port = FDB_NO_PORT;
			if (rng_below(&rng, 3) == 0)
				vid = FDB_ANY_VID;
			n = fdb_flush(fx_fdb, port, vid, kind);
			twin_n = twin_flush(tw, port, vid, kind);
			diff_assert(n == twin_n, "kind %d: flushed %u, twin %u",
				    kind, n, twin_n);
			n_flushed += n;
		} else if (dice < 960) {
			uint64_t ageing_ms = ageing_choices[rng_below(&rng, 7)];
			uint64_t age_now = now_ms;
			unsigned int n, twin_n;

			op_name = "age";
			/* Now and then a clock reading older than some
			 * entries, as a racing learner can leave behind. */
			if (rng_below(&rng, 8) == 0)
				age_now -= rng_below(&rng, 2000);
			n = fdb_age(fx_fdb, age_now, ageing_ms);
			twin_n = twin_age(tw, age_now, ageing_ms);
			diff_assert(n == twin_n, "at %" PRIu64 " ageing %"
				    PRIu64 ": aged %u, twin %u", age_now,
				    ageing_ms, n, twin_n);
			n_aged += n;
		} else if (dice < 964) {
			uint32_t max = max_choices[rng_below(&rng, 6)];

			op_name = "set_max_learned";
			fdb_set_max_learned(fx_fdb, max);
			tw->max_learned = max;
			diff_assert(fdb_get_max_learned(fx_fdb) == max,
				    "max %u", max);
		} else {
			uint8_t stranger[FDB_MAC_LEN] = {
				0x02, 0xff, 0, 0, 0, 1
			};

			op_name = "lookup stranger";
			diff_assert(lookup_in(fx_fdb, vid, stranger) ==
				    FDB_NO_PORT, "hit");
		}

		fdb_get_stats(fx_fdb, &got);
		twin_stats(tw, &want);
		diff_assert(fstats_equal(&got, &want),
			    "stats " FSTATS_FMT ", twin " FSTATS_FMT,
			    FSTATS_ARGS(got), FSTATS_ARGS(want));
		if (op % 1000 == 999 || op == DIFF_OPS - 1)
			diff_check_dump(tw, seed, op);
		/* Let grace periods end: the call_rcu worker waits on us. */
		rcu_quiescent();
	}

	/* Make sure the walk went everywhere it was meant to. */
	for (int res = FDB_LEARN_NEW; res <= FDB_LEARN_LIMIT; res++)
		ck_assert_msg(n_results[res] > 0, "seed %#" PRIx64 ": learn "
			      "result %d never happened", seed, res);
	ck_assert_msg(n_aged && n_flushed && n_del_ok && n_del_miss &&
		      n_insert_ok && n_insert_exist,
		      "seed %#" PRIx64 ": aged %lu flushed %lu del %lu/%lu "
		      "insert %lu/%lu", seed, n_aged, n_flushed, n_del_ok,
		      n_del_miss, n_insert_ok, n_insert_exist);
	free(tw);
}
END_TEST

/*
 * stress: readers that look up and learn, a learner that moves every MAC
 * around the ports, and an ager that ages, flushes, adds and deletes, all
 * at once for a bounded time.  Workers cannot use ck_assert: they count
 * impossible results, and the test thread checks after joining them.
 */

#define STRESS_MS		1500
#define STRESS_READERS		3
#define STRESS_NPORTS		8
#define STRESS_POOL		512	/* MACs; with 2 VIDs, 1024 keys */
#define STRESS_MAX_LEARNED	384
#define STRESS_BURST		64

static const uint16_t stress_vids[] = { 0, 10 };

struct stress {
	struct fdb *fdb;
	int stop;			/* relaxed atomic */
};

struct stress_worker {
	pthread_t thread;
	struct stress *st;
	uint64_t rng;
	unsigned long n_ops;
	unsigned long n_bad;		/* impossible results seen */
};

static bool stress_stopped(const struct stress *st)
{
	return __atomic_load_n(&st->stop, __ATOMIC_RELAXED);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stress_key(uint32_t n, uint16_t *vid, uint8_t mac[FDB_MAC_LEN])
{
	*vid = stress_vids[n & 1];
	mac_of(mac, n >> 1);
}

static bool stress_learn_ok(enum fdb_learn_result res, uint32_t old_port)
{
	switch (res) {
	case FDB_LEARN_MOVED:
		return old_port < STRESS_NPORTS;
	case FDB_LEARN_NEW:
	case FDB_LEARN_REFRESHED:
	case FDB_LEARN_STICKY:
	case FDB_LEARN_LIMIT:
		return true;
	case FDB_LEARN_NOMEM:
		break;
	}
	return false;
}

static void *stress_reader(void *arg)
{
	struct stress_worker *w = arg;
	struct fdb *fdb = w->st->fdb;
	uint8_t mac[FDB_MAC_LEN];
	uint16_t vid;

	rcu_register_thread();
	while (!stress_stopped(w->st)) {
		uint64_t now_ms = mono_ms();	/* once per burst */

		rcu_read_begin();
		for (int i = 0; i < STRESS_BURST; i++) {
			uint32_t port, old_port = FDB_NO_PORT;
			enum fdb_learn_result res;

			stress_key(rng_below(&w->rng, 2 * STRESS_POOL), &vid,
				   mac);
			port = fdb_lookup_rcu(fdb, vid, mac);
			if (port != FDB_NO_PORT && port >= STRESS_NPORTS)
				w->n_bad++;
			if (rng_below(&w->rng, 8) == 0) {
				port = rng_below(&w->rng, STRESS_NPORTS);
				res = fdb_learn_rcu(fdb, vid, mac, port,
						    now_ms, &old_port);
				if (!stress_learn_ok(res, old_port))
					w->n_bad++;
			}
			w->n_ops++;
		}
		rcu_read_end();
		rcu_quiescent();
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

/* Learns every key in turn, each round one port further: many moves. */
static void *stress_learner(void *arg)
{
	struct stress_worker *w = arg;
	struct fdb *fdb = w->st->fdb;
	uint8_t mac[FDB_MAC_LEN];
	uint16_t vid;

	rcu_register_thread();
	for (uint32_t round = 0; !stress_stopped(w->st); round++) {
		for (uint32_t n = 0; n < 2 * STRESS_POOL; n += STRESS_BURST) {
			uint64_t now_ms = mono_ms();

			rcu_read_begin();
			for (uint32_t i = n; i < n + STRESS_BURST; i++) {
				uint32_t port = (i + round) % STRESS_NPORTS;
				uint32_t old_port = FDB_NO_PORT;
				enum fdb_learn_result res;

				stress_key(i, &vid, mac);
				res = fdb_learn_rcu(fdb, vid, mac, port,
						    now_ms, &old_port);
				if (!stress_learn_ok(res, old_port))
					w->n_bad++;
				w->n_ops++;
			}
			rcu_read_end();
			rcu_quiescent();
		}
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

/* The control side: ages, flushes, adds, inserts and deletes. */
static void *stress_ager(void *arg)
{
	struct stress_worker *w = arg;
	struct fdb *fdb = w->st->fdb;
	const struct timespec nap = { .tv_nsec = 200 * 1000 };
	uint8_t mac[FDB_MAC_LEN];
	uint16_t vid;
	int ret;

	rcu_register_thread();
	for (uint32_t iter = 0; !stress_stopped(w->st); iter++) {
		uint32_t port = rng_below(&w->rng, STRESS_NPORTS);

		fdb_age(fdb, mono_ms(), 3);
		fdb_flush(fdb, port, FDB_ANY_VID, FDB_FLUSH_DYNAMIC);
		stress_key(rng_below(&w->rng, 2 * STRESS_POOL), &vid, mac);
		switch (iter % 8) {
		case 0:
			fdb_flush(fdb, FDB_NO_PORT, stress_vids[1],
				  FDB_FLUSH_ALL);
			break;
		case 1:
		case 2:
			if (fdb_add(fdb, vid, mac, port, FDB_STATIC,
				    mono_ms()))
				w->n_bad++;
			break;
		case 3:
			if (fdb_add(fdb, vid, mac, port,
				    FDB_STATIC | FDB_STICKY, mono_ms()))
				w->n_bad++;
			break;
		case 4:
			fdb_del(fdb, vid, mac, port);
			break;
		case 5:
			fdb_del(fdb, vid, mac, FDB_NO_PORT);
			break;
		case 6:
			fdb_flush(fdb, FDB_NO_PORT, FDB_ANY_VID,
				  FDB_FLUSH_STATIC);
			break;
		default:
			ret = fdb_insert(fdb, vid, mac, port, FDB_STATIC,
					 mono_ms(), false);
			if (ret && ret != -EEXIST)
				w->n_bad++;
			break;
		}
		w->n_ops++;
		/* Let the learners fill the table back up, offline. */
		rcu_offline();
		nanosleep(&nap, NULL);
		rcu_thread_online();
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

START_TEST(test_stress)
{
	struct stress st = { .fdb = fx_fdb };
	struct stress_worker workers[STRESS_READERS + 2];
	const struct timespec run = {
		.tv_sec = STRESS_MS / 1000,
		.tv_nsec = STRESS_MS % 1000 * 1000000L,
	};
	size_t n_workers = STRESS_READERS + 2, n_learned = 0;
	struct fdb_stats stats;
	struct dump *d;
	char buf[18];

	fdb_set_max_learned(fx_fdb, STRESS_MAX_LEARNED);
	memset(workers, 0, sizeof(workers));
	for (size_t i = 0; i < n_workers; i++) {
		void *(*fn)(void *) = i < STRESS_READERS ? stress_reader :
				      i == STRESS_READERS ? stress_learner :
				      stress_ager;

		workers[i].st = &st;
		workers[i].rng = 0x5eed0000 + i;
		ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, fn,
						&workers[i]), 0);
	}
	/* Offline while we wait, or no grace period could end. */
	rcu_offline();
	nanosleep(&run, NULL);
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELAXED);
	for (size_t i = 0; i < n_workers; i++)
		pthread_join(workers[i].thread, NULL);
	rcu_thread_online();

	for (size_t i = 0; i < n_workers; i++) {
		ck_assert_msg(workers[i].n_ops > 0, "worker %zu never ran", i);
		ck_assert_msg(workers[i].n_bad == 0,
			      "worker %zu: %lu impossible results", i,
			      workers[i].n_bad);
	}

	/* Quiet now: the counters must match the table exactly. */
	fdb_get_stats(fx_fdb, &stats);
	d = dump_table(fx_fdb);
	ck_assert_uint_eq(d->n, stats.n_entries);
	for (size_t i = 0; i < d->n; i++) {
		const struct fdb_entry_info *info = &d->e[i];
		uint32_t flags = info->flags;

		ck_assert_msg(info->port < STRESS_NPORTS, "vid %u %s: port %u",
			      info->vid, mac_str(info->mac, buf), info->port);
		ck_assert_msg(flags == FDB_LEARNED || flags == FDB_STATIC ||
			      flags == (FDB_STATIC | FDB_STICKY),
			      "vid %u %s: flags %#x", info->vid,
			      mac_str(info->mac, buf), flags);
		ck_assert_uint_eq(lookup_in(fx_fdb, info->vid, info->mac),
				  info->port);
		n_learned += flags == FDB_LEARNED;
		for (size_t j = i + 1; j < d->n; j++)
			ck_assert_msg(info->vid != d->e[j].vid ||
				      memcmp(info->mac, d->e[j].mac,
					     FDB_MAC_LEN),
				      "vid %u %s dumped twice", info->vid,
				      mac_str(info->mac, buf));
	}
	ck_assert_uint_eq(n_learned, stats.n_dynamic);
	ck_assert_uint_le(n_learned, STRESS_MAX_LEARNED);
	ck_assert_uint_gt(stats.n_learned, 0);
	ck_assert_uint_gt(stats.n_moved, 0);
	ck_assert_uint_eq(stats.n_nomem, 0);

	/* And a full flush removes exactly what was counted. */
	ck_assert_uint_eq(fdb_flush(fx_fdb, FDB_NO_PORT, FDB_ANY_VID,
				    FDB_FLUSH_ALL), d->n);
	fdb_get_stats(fx_fdb, &stats);
	ck_assert_uint_eq(stats.n_entries, 0);
	ck_assert_uint_eq(stats.n_dynamic, 0);
}
END_TEST

static Suite *fdb_suite(void)
{
	Suite *s = suite_create("fdb");
	TCase *tc;

	tc = tcase_create("lifecycle");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_destroy);
	suite_add_tcase(s, tc);

	tc = tcase_create("learn");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_learn_new_then_refresh);
	tcase_add_test(tc, test_learn_records_time_and_flags);
	tcase_add_test(tc, test_learn_vid_is_part_of_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("move");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_move_learned);
	tcase_add_test(tc, test_move_static);
	tcase_add_test(tc, test_move_sticky);
	suite_add_tcase(s, tc);

	tc = tcase_create("age");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_age_boundary);
	tcase_add_test(tc, test_age_static_never);
	tcase_add_test(tc, test_age_refresh_resets);
	tcase_add_test(tc, test_age_counts);
	tcase_add_test(tc, test_age_zero_removes_all_dynamic);
	suite_add_tcase(s, tc);

	tc = tcase_create("limit");
	tcase_add_checked_fixture(tc, setup_limit3, teardown);
	tcase_add_test(tc, test_limit_fourth_is_refused);
	tcase_add_test(tc, test_limit_room_after_removal);
	tcase_add_test(tc, test_limit_static_not_counted);
	tcase_add_test(tc, test_limit_zero_is_unlimited);
	suite_add_tcase(s, tc);

	tc = tcase_create("add_del_flush");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_add_replaces_learned);
	tcase_add_test(tc, test_insert);
	tcase_add_test(tc, test_del);
	tcase_add_test(tc, test_flush_by_port);
	tcase_add_test(tc, test_flush_by_vid);
	tcase_add_test(tc, test_flush_dynamic);
	tcase_add_test(tc, test_flush_static);
	tcase_add_test(tc, test_flush_all);
	tcase_add_test(tc, test_dump_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("gen_size");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_gen_changes_when_mapping_changes);
	tcase_add_test(tc, test_age_next_deadline);
	tcase_add_test(tc, test_maintain_resizes);
	tcase_add_test(tc, test_limit_sizes_table);
	tcase_add_test(tc, test_maintain_concurrent);
	suite_add_tcase(s, tc);

	tc = tcase_create("differential");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_differential);
	suite_add_tcase(s, tc);

	tc = tcase_create("stress");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stress);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return check_main(fdb_suite());
}
