/*
 * check_common.h - what the Check unit tests (tests/check_*.c) share, so
 * that each helper is written once.  Everything here is a macro, a static
 * inline function or a static variable: a test that does not use a
 * helper gets no warning for it, and there is nothing to link.
 *
 * Always there:
 *   check_main()          main() of every test binary
 *   rng_next/rng_below    splitmix64, seedable, one state per thread
 *   test_seed()           a seed from the environment, or a default
 *   mac_str()             aa:bb:cc:dd:ee:ff
 *   put_be16/get_be16     big-endian 16-bit fields
 *   mac_a..mac_mcast      the MAC addresses the frame tests use
 *
 * With CHECK_COMMON_FDB defined before the #include, the table helpers
 * (fdb/fdb.h): lookup_in(), the fdb_stats assertion, dumps.
 *
 * With CHECK_COMMON_DP defined (and FRAME_MAX, the largest test frame),
 * those and the memory-port data plane fixture of check_dataplane.c and
 * check_dp_vlan.c: the table, the data plane and N_PORTS memory ports
 * (mem_setup(), mem_teardown()), frames in (input_burst()), what is
 * pending, the port flags, and the exact port counter assertion.
 */
#ifndef TAPSWITCH_TESTS_CHECK_COMMON_H
#define TAPSWITCH_TESTS_CHECK_COMMON_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

/* ---- every test ---- */

/* Run @s (CK_RUN_SUITE, CK_RUN_CASE, CK_FORK, CK_VERBOSITY from the
 * environment; default verbosity normal): main()'s exit status. */
static inline int check_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int n_failed;

	srunner_run_all(sr, CK_ENV);
	n_failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* splitmix64: small, seedable, and every thread can have its own. */
static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint32_t rng_below(uint64_t *state, uint32_t bound)
{
	return rng_next(state) % bound;
}

/* The seed of a randomized test: environment variable @env (strtoull,
 * base 0: 0x1234 works) if set, else @dflt. */
static inline uint64_t test_seed(const char *env, uint64_t dflt)
{
	const char *s = getenv(env);

	return s ? strtoull(s, NULL, 0) : dflt;
}

/* ---- frames ---- */

#define ETH_ALEN	6

static inline const char *mac_str(const uint8_t mac[ETH_ALEN], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static const uint8_t mac_a[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t mac_c[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x0c };
static const uint8_t mac_d[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x0d };
static const uint8_t mac_unknown[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0xee };
static const uint8_t mac_bcast[ETH_ALEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};
static const uint8_t mac_mcast[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0, 0, 0x01 };

#if defined(CHECK_COMMON_DP) && !defined(CHECK_COMMON_FDB)
#define CHECK_COMMON_FDB
#endif

/* ---- the table ---- */

#ifdef CHECK_COMMON_FDB

#include <urcu-qsbr.h>

#include "fdb/fdb.h"
#include "lib/rcu.h"

/* A lookup from a test thread: a read-side section of its own. */
static inline uint32_t lookup_in(struct fdb *fdb, uint16_t vid,
				 const uint8_t mac[FDB_MAC_LEN])
{
	uint32_t port;

	rcu_read_begin();
	port = fdb_lookup_rcu(fdb, vid, mac);
	rcu_read_end();
	return port;
}

/* Every counter of struct fdb_stats but n_buckets, which is the table's
 * size rather than something that happened. */
#define FSTATS_FMT							\
	"learned %" PRIu64 " moved %" PRIu64 " aged %" PRIu64		\
	" limit_miss %" PRIu64 " nomem %" PRIu64 " entries %" PRIu64	\
	" dynamic %" PRIu64
#define FSTATS_ARGS(s)							\
	(s).n_learned, (s).n_moved, (s).n_aged, (s).n_limit_miss,	\
	(s).n_nomem, (s).n_entries, (s).n_dynamic

static inline bool fstats_equal(const struct fdb_stats *a,
				const struct fdb_stats *b)
{
	return a->n_learned == b->n_learned && a->n_moved == b->n_moved &&
	       a->n_aged == b->n_aged && a->n_limit_miss == b->n_limit_miss &&
	       a->n_nomem == b->n_nomem && a->n_entries == b->n_entries &&
	       a->n_dynamic == b->n_dynamic;
}

/* Every counter of @fdb, exactly; the ones not named must be 0. */
#define ck_assert_fdb_stats_in(fdb, ...)				\
	do {								\
		const struct fdb_stats want_ = { __VA_ARGS__ };		\
		struct fdb_stats got_;					\
									\
		fdb_get_stats((fdb), &got_);				\
		ck_assert_msg(fstats_equal(&got_, &want_),		\
			      "fdb stats:\n  got  " FSTATS_FMT		\
			      "\n  want " FSTATS_FMT,			\
			      FSTATS_ARGS(got_), FSTATS_ARGS(want_));	\
	} while (0)

#define DUMP_MAX	2048

/* What fdb_dump() reported: n entries, the first DUMP_MAX of them in e[]. */
struct dump {
	size_t n;
	struct fdb_entry_info e[DUMP_MAX];
};

static inline void dump_collect(const struct fdb_entry_info *info, void *arg)
{
	struct dump *d = arg;

	if (d->n < DUMP_MAX)
		d->e[d->n] = *info;
	d->n++;
}

/*
 * The whole of @fdb, in one buffer the test thread reuses (each call
 * overwrites what the last returned): static, so that a failed assertion
 * (a longjmp with CK_FORK=no) leaks nothing.  Test thread only.
 */
static inline struct dump *dump_table(struct fdb *fdb)
{
	static struct dump dump;
	struct dump *d = &dump;

	memset(d, 0, sizeof(*d));
	fdb_dump(fdb, dump_collect, d);
	ck_assert_msg(d->n <= DUMP_MAX, "dump: %zu entries, more than %d",
		      d->n, DUMP_MAX);
	return d;
}

/* The first entry of @d for (@vid, @mac), or NULL. */
static inline const struct fdb_entry_info *
dump_find(const struct dump *d, uint16_t vid, const uint8_t mac[FDB_MAC_LEN])
{
	for (size_t i = 0; i < d->n; i++)
		if (d->e[i].vid == vid &&
		    !memcmp(d->e[i].mac, mac, FDB_MAC_LEN))
			return &d->e[i];
	return NULL;
}

/* Entries of @fdb on @port (FDB_NO_PORT: any) in @vid (FDB_ANY_VID: any)
 * with all of @flags. */
static inline unsigned int count_entries_in(struct fdb *fdb, uint32_t port,
					    uint16_t vid, uint32_t flags)
{
	struct dump *d = dump_table(fdb);
	unsigned int n = 0;

	for (size_t i = 0; i < d->n; i++)
		if ((port == FDB_NO_PORT || d->e[i].port == port) &&
		    (vid == FDB_ANY_VID || d->e[i].vid == vid) &&
		    (d->e[i].flags & flags) == flags)
			n++;
	return n;
}

#endif /* CHECK_COMMON_FDB */

/* ---- the data plane over memory ports ---- */

#ifdef CHECK_COMMON_DP

#ifndef FRAME_MAX
#error "define FRAME_MAX, the largest test frame, before check_common.h"
#endif

#include "dataplane/dp.h"
#include "lib/rcu.h"

#define N_PORTS		4
#define BIT(i)		(1u << (i))

/* A memory port takes no offloads, so it has no DP_PORT_OFFLOAD. */
#define MEM_DEFAULT_FLAGS (DP_PORT_DEFAULT_FLAGS & ~DP_PORT_OFFLOAD)

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

struct tframe {
	uint32_t len;
	uint8_t data[FRAME_MAX];
};

/* What the checked fixture creates for each test. */
static struct fdb *fx_fdb;
static struct dp *fx_dp;
static struct dp_port *fx_port[N_PORTS];
static uint64_t fx_now;
static uint16_t fx_seq;
/* When set, frames go through this worker (the poll threads' way, with
 * the learning cache) rather than dp_input(). */
static struct dp_worker *fx_worker;

static inline uint32_t port_flags(uint32_t p)
{
	struct dp_port_info info;

	ck_assert_int_eq(dp_port_get_info(fx_dp, p, &info), 0);
	return info.flags;
}

/*
 * The test thread registers with liburcu (QSBR) and stays online; the
 * table, the data plane, and memory ports mem0..mem<N_PORTS - 1>, at
 * indexes 0.., up.
 */
static inline void mem_setup(void)
{
	rcu_register_thread();
	fx_now = 1000;
	fx_seq = 0;
	fx_fdb = fdb_create(65536);
	ck_assert_ptr_nonnull(fx_fdb);
	fx_dp = dp_create(fx_fdb);
	ck_assert_ptr_nonnull(fx_dp);
	for (uint32_t p = 0; p < N_PORTS; p++) {
		char name[IFNAMSIZ];

		snprintf(name, sizeof(name), "mem%u", p);
		fx_port[p] = dp_mem_port_create(name);
		ck_assert_ptr_nonnull(fx_port[p]);
		ck_assert_int_eq(dp_port_attach(fx_dp, fx_port[p], true), p);
		ck_assert_uint_eq(port_flags(p),
				  MEM_DEFAULT_FLAGS | DP_PORT_UP);
	}
}

/* Online, outside any read-side section; the table outlives the dp. */
static inline void mem_teardown(void)
{
	dp_destroy(fx_dp);
	fdb_destroy(fx_fdb);
	fx_dp = NULL;
	fx_fdb = NULL;
	memset(fx_port, 0, sizeof(fx_port));
	rcu_tsan_quiescent();
	rcu_unregister_thread();
}

/*
 * Run @n frames through port @in in one call (dp_input(), or fx_worker's
 * dp_worker_run()).  The pipeline gets copies of exactly f->len bytes
 * each (it may modify them, and a sanitizer sees any read past the end);
 * then a quiescent state, as a poll thread announces.
 */
static inline void input_burst(uint32_t in, const struct tframe *fs,
			       unsigned int n)
{
	struct dp_frame *df = calloc(n ? n : 1, sizeof(*df));

	ck_assert_ptr_nonnull(df);
	for (unsigned int i = 0; i < n; i++) {
		df[i].data = malloc(fs[i].len ? fs[i].len : 1);
		ck_assert_ptr_nonnull(df[i].data);
		memcpy(df[i].data, fs[i].data, fs[i].len);
		df[i].len = fs[i].len;
	}
	if (fx_worker)
		dp_worker_run(fx_worker, in, df, n, fx_now);
	else
		dp_input(fx_dp, in, df, n, fx_now);
	rcu_quiescent();
	for (unsigned int i = 0; i < n; i++)
		free(df[i].data);
	free(df);
}

static inline void input(uint32_t in, const struct tframe *f)
{
	input_burst(in, f, 1);
}

/* Frames queued on port @p's memory port. */
static inline unsigned int pending(uint32_t p)
{
	return fx_port[p] ? dp_mem_port_pending(fx_port[p]) : 0;
}

/*
 * Every field of struct dp_port_stats: a field added there fails the
 * build here until PSTATS_FMT, PSTATS_ARGS and pstats_equal() have it.
 */
_Static_assert(sizeof(struct dp_port_stats) == 20 * sizeof(uint64_t),
	       "struct dp_port_stats changed: update PSTATS_FMT, "
	       "PSTATS_ARGS and pstats_equal()");

#define PSTATS_FMT							\
	"rx %" PRIu64 "/%" PRIu64 "B tx %" PRIu64 "/%" PRIu64 "B "	\
	"flooded %" PRIu64 " runt %" PRIu64 " src %" PRIu64		\
	" link_local %" PRIu64 " same_port %" PRIu64 " port_down %"	\
	PRIu64 " drop_vlan %" PRIu64 " drop_bad_tag %" PRIu64		\
	" drop_bad_offload %" PRIu64 " drop_no_egress %" PRIu64	\
	" tx_errors %" PRIu64						\
	" rx_errors %" PRIu64 " rx_missed %" PRIu64 " tx_sw_csum %" PRIu64 " tx_sw_gso %"	\
	PRIu64 " tx_drop_mtu %" PRIu64
#define PSTATS_ARGS(s)							\
	(s).rx_packets, (s).rx_bytes, (s).tx_packets, (s).tx_bytes,	\
	(s).flooded, (s).drop_runt, (s).drop_src, (s).drop_link_local,	\
	(s).drop_same_port, (s).drop_port_down, (s).drop_vlan,		\
	(s).drop_bad_tag, (s).drop_bad_offload, (s).drop_no_egress,	\
	(s).tx_errors,							\
	(s).rx_errors, (s).rx_missed, (s).tx_sw_csum, (s).tx_sw_gso, (s).tx_drop_mtu

static inline bool pstats_equal(const struct dp_port_stats *a,
				const struct dp_port_stats *b)
{
	return a->rx_packets == b->rx_packets && a->rx_bytes == b->rx_bytes &&
	       a->tx_packets == b->tx_packets && a->tx_bytes == b->tx_bytes &&
	       a->flooded == b->flooded && a->drop_runt == b->drop_runt &&
	       a->drop_src == b->drop_src &&
	       a->drop_link_local == b->drop_link_local &&
	       a->drop_same_port == b->drop_same_port &&
	       a->drop_port_down == b->drop_port_down &&
	       a->drop_vlan == b->drop_vlan &&
	       a->drop_bad_tag == b->drop_bad_tag &&
	       a->drop_bad_offload == b->drop_bad_offload &&
	       a->drop_no_egress == b->drop_no_egress &&
	       a->tx_errors == b->tx_errors && a->rx_errors == b->rx_errors &&
	       a->rx_missed == b->rx_missed &&
	       a->tx_sw_csum == b->tx_sw_csum && a->tx_sw_gso == b->tx_sw_gso &&
	       a->tx_drop_mtu == b->tx_drop_mtu;
}

/* Every counter of port @p, exactly; the ones not named must be 0. */
#define ck_assert_port_stats(p, ...)					\
	do {								\
		const struct dp_port_stats want_ = { __VA_ARGS__ };	\
		struct dp_port_info info_;				\
									\
		ck_assert_int_eq(dp_port_get_info(fx_dp, (p), &info_), 0); \
		ck_assert_msg(pstats_equal(&info_.stats, &want_),	\
			      "port %u stats:\n  got  " PSTATS_FMT	\
			      "\n  want " PSTATS_FMT, (unsigned int)(p), \
			      PSTATS_ARGS(info_.stats), PSTATS_ARGS(want_)); \
	} while (0)

/* An assertion of a differential test: names its seed and how many
 * frames it had sent (the first two arguments after the format). */
#define diff_assert(cond, ...)						\
	ck_assert_msg((cond), "seed %#" PRIx64 ", frame %lu: " __VA_ARGS__)

#endif /* CHECK_COMMON_DP */

#endif /* TAPSWITCH_TESTS_CHECK_COMMON_H */
