/*
 * micro_fdb.c - the forwarding table alone: lookup and learn cost from 1k
 * to 1M entries, and an ageing scan of 1M entries while another thread
 * keeps looking up.
 *
 * What is measured
 * ----------------
 * Per table size (1Ki, 64Ki, 1Mi entries, learned on port 0, VID 0):
 *   insert         fdb_learn_rcu() of new MACs, growing a new table to the
 *                  size (repeated on fresh tables for small sizes); the
 *                  table resizes only when fdb_maintain() is called, and
 *                  the loop calls it as the daemon's ageing thread would,
 *                  between batches (every 64Ki inserts and once after),
 *                  outside any read-side section, with that time kept
 *                  out of the figure: "maint ms/fill" is what it took per
 *                  table filled (liburcu does large resizes on helper
 *                  threads: wall time, with every CPU allowed);
 *   lookup-hit     fdb_lookup_rcu() of a MAC drawn at random among those
 *                  present;
 *   lookup-miss    fdb_lookup_rcu() of MACs that are not there;
 *   learn-refresh  fdb_learn_rcu() of a present MAC on its own port (the
 *                  steady-state learn of every frame);
 *   learn-move     fdb_learn_rcu() of a present MAC on another port, each
 *                  entry in turn (a permutation), so every call moves;
 *   keygen         the loop with no table call: making the random MAC,
 *                  which every figure above includes.
 * Operations run in bursts of 32 inside one read-side section, with a
 * quiescent state after each burst and the clock read once per burst, as
 * the poll threads do.  ns/op is thread CPU time per operation.
 *
 * Ageing at 1Mi entries, two threads (this machine has two cores):
 * a lookup thread does random lookups of present MACs continuously and
 * times each one with the TSC; the main thread plays the daemon's ageing
 * thread on the full table (filled as above, grown by fdb_maintain()):
 * at each tick fdb_maintain() (nothing to do at 1 entry a bucket) and
 * fdb_age() - first repeatedly with nothing expiring (the scan every
 * ageing tick does), then once with everything expiring, and then one
 * more fdb_maintain(), which shrinks the emptied table back to the
 * 65536 buckets it started with.  The lookup thread's throughput and
 * latency (p50, p99, p99.9, max, and the longest gap between two of its
 * lookups: a stall anywhere in its loop) are kept per phase: before any
 * scan, during the scans that keep everything, during the scan that
 * removes everything, and during the shrink.  Both threads are
 * registered QSBR threads: the lookup thread announces a quiescent state
 * after every burst, the main thread calls fdb_age() and fdb_maintain()
 * online and outside a read-side section (fdb.h) and goes offline
 * whenever it sleeps.
 *
 * The "buckets" row is the hash table's bucket count (fdb_get_stats())
 * of the table the lookups and learns ran on, "resizes/fill" how many
 * times fdb_maintain() resized a table as it filled.  "other CPUs" is what
 * other processes used meanwhile; the ageing figures need both cores and
 * mean little when it is high.
 *
 *   build/bench/micro_fdb [--quick] [--json PATH] [--cpu N|-1]
 */
#include "fdb/fdb.h"

#include <getopt.h>
#include <pthread.h>
#include <urcu-qsbr.h>

#include "bench/micro_common.h"

#define BURST		32
#define N_SIZES		3
#define MAX_SCANS	256

static const uint32_t sizes[N_SIZES] = { 1024, 65536, 1048576 };

/* Index spaces for mc_mac(): present entries, absent ones. */
#define PRESENT_INDEX(i)	((uint64_t)(i))
#define ABSENT_INDEX(i)		((1ull << 38) + (i))

/* A clock in milliseconds, as the pipeline passes it. */
static uint64_t now_ms(void)
{
	return mc_wall_ns() / 1000000;
}

/* ---- filling a table ---- */

/* The CPU the measuring thread is pinned to (-1: none), for
 * mc_maintain() to put back. */
static int pinned_cpu = -1;

/*
 * Learn entries [0, @n) on port 0 at @when, on a table made for it (and
 * @m initialised) by the caller: every one new, or false.  Every 64Ki
 * inserts, and once at the end, the ager's turn: fdb_maintain() when a
 * resize is due, its time summed in @m.
 */
static bool fill(struct fdb *fdb, uint32_t n, uint64_t when,
		 struct mc_maint *m)
{
	uint8_t mac[MC_ETH_ALEN];
	uint64_t bad = 0;

	for (uint32_t i = 0; i < n;) {
		rcu_read_begin();
		for (unsigned int k = 0; k < BURST && i < n; k++, i++) {
			mc_mac(PRESENT_INDEX(i), mac);
			bad += fdb_learn_rcu(fdb, 0, mac, 0, when, NULL) !=
			       FDB_LEARN_NEW;
		}
		rcu_read_end();
		rcu_quiescent_state();
		if ((i & (MC_MAINTAIN_EVERY - 1)) == 0)
			mc_maintain(fdb, pinned_cpu, m);
	}
	mc_maintain(fdb, pinned_cpu, m);
	return !bad;
}

/* A table of @n entries learned at @when, sized by fdb_maintain().  NULL
 * when out of memory or a learn went wrong. */
static struct fdb *full_table(uint32_t n, uint64_t when)
{
	struct fdb *fdb = fdb_create(0);
	struct mc_maint m;

	if (!fdb)
		return NULL;
	mc_maint_init(&m, fdb);
	if (!fill(fdb, n, when, &m)) {
		fdb_destroy(fdb);
		return NULL;
	}
	return fdb;
}

/* ---- the operations ---- */

enum op {
	OP_INSERT,
	OP_LOOKUP_HIT,
	OP_LOOKUP_MISS,
	OP_LEARN_REFRESH,
	OP_LEARN_MOVE,
	OP_KEYGEN,
	N_OPS,
};

static const char *const op_names[N_OPS] = {
	"insert", "lookup-hit", "lookup-miss", "learn-refresh", "learn-move",
	"keygen",
};

struct op_result {
	uint64_t ops;
	struct mc_times t;
	uint64_t wrong;		/* results other than the op's own */
	double ns_per_op;	/* thread CPU */
	double wall_ns_per_op;
};

static void op_finish(struct op_result *r)
{
	r->ns_per_op = r->ops ? (double)r->t.thread_ns / (double)r->ops : 0;
	r->wall_ns_per_op = r->ops ? (double)r->t.wall_ns / (double)r->ops
				   : 0;
}

/*
 * Run @op on the full table of @n entries for @seconds.  The entries are
 * on port 0 (learn-move leaves them elsewhere: it runs last).
 */
static void run_op(struct fdb *fdb, uint32_t n, enum op op, double seconds,
		   struct op_result *r)
{
	uint64_t end, rng = 0x9e3779b97f4a7c15ull ^ n ^ (uint64_t)op << 32;
	uint64_t ops = 0, wrong = 0, sink = 0;
	uint8_t mac[MC_ETH_ALEN];
	struct mc_times t0;

	t0 = mc_times_now();
	end = t0.wall_ns + (uint64_t)(seconds * 1e9);
	do {
		for (unsigned int b = 0; b < 32; b++) {
			uint64_t when = now_ms();

			rcu_read_begin();
			for (unsigned int k = 0; k < BURST; k++, ops++) {
				uint32_t i, port;

				switch (op) {
				case OP_LOOKUP_HIT:
					mc_mac(PRESENT_INDEX(
						mc_rand_below(&rng, n)), mac);
					wrong += fdb_lookup_rcu(fdb, 0, mac) !=
						 0;
					break;
				case OP_LOOKUP_MISS:
					mc_mac(ABSENT_INDEX(
						mc_rand_below(&rng, n)), mac);
					wrong += fdb_lookup_rcu(fdb, 0, mac) !=
						 FDB_NO_PORT;
					break;
				case OP_LEARN_REFRESH:
					mc_mac(PRESENT_INDEX(
						mc_rand_below(&rng, n)), mac);
					wrong += fdb_learn_rcu(fdb, 0, mac, 0,
							       when, NULL) !=
						 FDB_LEARN_REFRESHED;
					break;
				case OP_LEARN_MOVE:
					/* Pass p puts every entry on port
					 * p + 1: each call a move. */
					i = (uint32_t)((ops * 0x9e3779b1u) &
						       (n - 1));
					port = 1 + (uint32_t)(ops / n);
					mc_mac(PRESENT_INDEX(i), mac);
					wrong += fdb_learn_rcu(fdb, 0, mac,
							       port, when,
							       NULL) !=
						 FDB_LEARN_MOVED;
					break;
				case OP_KEYGEN:
				default:
					mc_mac(PRESENT_INDEX(
						mc_rand_below(&rng, n)), mac);
					sink += mac[5];
					break;
				}
			}
			rcu_read_end();
			rcu_quiescent_state();
		}
	} while (mc_wall_ns() < end);
	r->t = mc_times_since(&t0);
	r->ops = ops;
	r->wrong = wrong;
	/* Keep the keygen loop's work alive. */
	__asm__ __volatile__("" : : "r"(sink));
	op_finish(r);
}

/* What one table size measured. */
struct size_result {
	uint32_t n;
	unsigned int insert_rounds;
	unsigned int insert_resizes;	/* per round */
	struct mc_times insert_maint;	/* fdb_maintain(), all rounds */
	unsigned long buckets;		/* the table the other ops ran on */
	double other_cpus;		/* other processes' load meanwhile */
	struct op_result op[N_OPS];
};

/*
 * Insert: grow fresh tables to @n, enough rounds for @min_ops in all (at
 * most 64), the ager's fdb_maintain() calls left out of the time.  Then
 * a full table for the other operations.
 */
static struct fdb *run_insert(struct size_result *sr, uint64_t min_ops)
{
	struct op_result *r = &sr->op[OP_INSERT];
	unsigned int rounds = (unsigned int)(min_ops / sr->n);
	struct fdb *fdb = NULL;

	if (rounds < 1)
		rounds = 1;
	if (rounds > 64)
		rounds = 64;
	memset(r, 0, sizeof(*r));
	memset(&sr->insert_maint, 0, sizeof(sr->insert_maint));
	for (unsigned int k = 0; k < rounds; k++) {
		struct mc_times t0, d;
		struct mc_maint m;
		bool ok;

		fdb = fdb_create(0);
		if (!fdb)
			return NULL;
		mc_maint_init(&m, fdb);
		t0 = mc_times_now();
		ok = fill(fdb, sr->n, now_ms(), &m);
		d = mc_times_since(&t0);
		d = mc_times_sub(&d, &m.spent);
		fdb_destroy(fdb);
		r->wrong += !ok;
		mc_times_add(&r->t, &d);
		mc_times_add(&sr->insert_maint, &m.spent);
		sr->insert_resizes = m.resizes;
		r->ops += sr->n;
	}
	sr->insert_rounds = rounds;
	op_finish(r);
	fdb = full_table(sr->n, now_ms());
	if (fdb)
		sr->buckets = mc_fdb_buckets(fdb);
	return fdb;
}

/* ---- ageing while looking up ---- */

enum phase {
	PH_WARM,
	PH_BASE,		/* lookups alone */
	PH_SCAN_KEEP,		/* fdb_age() scans, nothing expires */
	PH_BASE2,
	PH_SCAN_EXPIRE,		/* fdb_age() removes everything */
	PH_AFTER,		/* the table is empty; frees pending */
	PH_SHRINK,		/* fdb_maintain() shrinks the table */
	PH_DONE,
	N_PHASES,
};

static const char *const phase_names[N_PHASES] = {
	"warm-up", "lookups alone", "during keep-all scans", "lookups alone 2",
	"during expire-all scan", "after expiry", "during shrink",
	"done",
};

struct phase_stats {
	uint64_t ops, hits;
	uint64_t ticks;			/* time spent in the phase */
	uint64_t max_gap;		/* longest time between two lookups */
	struct mc_hist lat;		/* per lookup, in ticks */
};

struct looker {
	struct fdb *fdb;
	uint32_t n;
	int cpu;
	int phase;			/* atomic: set by main */
	bool ready;			/* atomic */
	struct phase_stats st[N_PHASES];
};

static void *looker_main(void *arg)
{
	struct looker *lk = arg;
	uint64_t rng = 0x2545f4914f6cdd1dull, start, prev_end;
	uint8_t mac[MC_ETH_ALEN];
	int cur;

	rcu_register_thread();
	if (mc_pin(lk->cpu))
		fprintf(stderr, "warning: cannot pin the lookup thread\n");
	cur = __atomic_load_n(&lk->phase, __ATOMIC_ACQUIRE);
	__atomic_store_n(&lk->ready, true, __ATOMIC_RELEASE);
	start = prev_end = mc_ticks();
	while (cur != PH_DONE) {
		struct phase_stats *st = &lk->st[cur];
		int ph;

		rcu_read_begin();
		for (unsigned int k = 0; k < BURST; k++) {
			uint64_t t0, t1;
			uint32_t port;

			mc_mac(PRESENT_INDEX(mc_rand_below(&rng, lk->n)), mac);
			t0 = mc_ticks();
			port = fdb_lookup_rcu(lk->fdb, 0, mac);
			t1 = mc_ticks();
			mc_hist_add(&st->lat, t1 - t0);
			if (t0 - prev_end > st->max_gap)
				st->max_gap = t0 - prev_end;
			prev_end = t1;
			st->hits += port != FDB_NO_PORT;
		}
		rcu_read_end();
		st->ops += BURST;
		rcu_quiescent_state();
		ph = __atomic_load_n(&lk->phase, __ATOMIC_ACQUIRE);
		if (ph != cur) {
			uint64_t now = mc_ticks();

			st->ticks += now - start;
			start = now;
			cur = ph;
		}
	}
	rcu_unregister_thread();
	return NULL;
}

struct scan {
	double wall_ms, cpu_ms;
	unsigned int removed;
};

struct ageing_result {
	uint32_t n;
	unsigned long buckets;		/* as the scans ran */
	struct mc_maint grow;		/* filling: the ager's resizes */
	double fill_ms;			/* filling, all of it (wall) */
	unsigned long shrink_to;	/* buckets after the shrink */
	unsigned int shrink_resizes;
	double shrink_ms;		/* its fdb_maintain() (wall) */
	double timer_overhead_ns;	/* an empty timed region, median */
	unsigned int n_keep;
	struct scan keep[MAX_SCANS];
	struct scan expire;
	struct mc_times keep_times;	/* the keep-all phase, all threads */
	struct mc_times expire_times;
	struct looker *lk;
};

static void set_phase(struct looker *lk, enum phase ph)
{
	__atomic_store_n(&lk->phase, ph, __ATOMIC_RELEASE);
}

/* Sleep offline: grace periods and the looker need not wait for us. */
static void idle_ms(unsigned int ms)
{
	rcu_thread_offline();
	mc_sleep_ms(ms);
	rcu_thread_online();
}

static struct scan one_scan(struct fdb *fdb, uint64_t now, uint64_t ageing)
{
	uint64_t w0 = mc_wall_ns(), c0 = mc_thread_ns();
	struct scan s;

	s.removed = fdb_age(fdb, now, ageing);
	s.cpu_ms = (mc_thread_ns() - c0) / 1e6;
	s.wall_ms = (mc_wall_ns() - w0) / 1e6;
	return s;
}

static double timer_overhead_ns(void)
{
	struct mc_hist *h = calloc(1, sizeof(*h));
	double ns;

	if (!h)
		return 0;
	for (int i = 0; i < 1000000; i++) {
		uint64_t t0 = mc_ticks();

		mc_hist_add(h, mc_ticks() - t0);
	}
	ns = mc_hist_quantile(h, 0.5) / mc_ticks_per_ns();
	free(h);
	return ns;
}

static int run_ageing(struct ageing_result *ar, uint32_t n, bool quick,
		      int cpu)
{
	const uint64_t t_fill = 1000000;	/* the clock at learning */
	unsigned int base_ms = quick ? 300 : 1000;
	struct looker *lk = calloc(1, sizeof(*lk));
	struct mc_times t0;
	struct mc_maint m;
	pthread_t thread;
	uint64_t w0;
	int err;

	if (!lk)
		return -ENOMEM;
	ar->lk = lk;
	ar->n = n;
	ar->timer_overhead_ns = timer_overhead_ns();
	w0 = mc_wall_ns();
	lk->fdb = fdb_create(0);
	if (!lk->fdb)
		return -ENOMEM;
	mc_maint_init(&ar->grow, lk->fdb);
	if (!fill(lk->fdb, n, t_fill, &ar->grow))
		return -EINVAL;
	ar->fill_ms = (mc_wall_ns() - w0) / 1e6;
	ar->buckets = mc_fdb_buckets(lk->fdb);
	lk->n = n;
	lk->cpu = cpu;

	lk->phase = PH_WARM;
	err = -pthread_create(&thread, NULL, looker_main, lk);
	if (err)
		return err;
	while (!__atomic_load_n(&lk->ready, __ATOMIC_ACQUIRE))
		idle_ms(1);
	idle_ms(100);

	set_phase(lk, PH_BASE);
	idle_ms(base_ms);

	/* Scans that keep everything: now - seen is 1 s, ageing 300 s. */
	mc_maint_init(&m, lk->fdb);
	m.floor = ar->grow.floor;
	set_phase(lk, PH_SCAN_KEEP);
	t0 = mc_times_now();
	w0 = t0.wall_ns;
	do {
		/* The ager's tick: maintain (nothing to do), then scan. */
		mc_maintain(lk->fdb, -1, &m);
		ar->keep[ar->n_keep++] = one_scan(lk->fdb, t_fill + 1000,
						  300000);
		rcu_quiescent_state();
	} while (ar->n_keep < MAX_SCANS &&
		 (mc_wall_ns() - w0 < base_ms * 1000000ull ||
		  ar->n_keep < 3));
	ar->keep_times = mc_times_since(&t0);

	set_phase(lk, PH_BASE2);
	idle_ms(base_ms / 2);

	/* One scan that removes everything: seen 1 s ago, ageing 1 s. */
	set_phase(lk, PH_SCAN_EXPIRE);
	t0 = mc_times_now();
	ar->expire = one_scan(lk->fdb, t_fill + 1000, 1000);
	ar->expire_times = mc_times_since(&t0);
	rcu_quiescent_state();

	set_phase(lk, PH_AFTER);
	idle_ms(300);

	/* The next tick: 16 times too many buckets, shrink. */
	set_phase(lk, PH_SHRINK);
	mc_maint_init(&m, lk->fdb);
	m.floor = ar->grow.floor;
	w0 = mc_wall_ns();
	mc_maintain(lk->fdb, -1, &m);
	ar->shrink_ms = (mc_wall_ns() - w0) / 1e6;
	ar->shrink_resizes = m.resizes;
	ar->shrink_to = mc_fdb_buckets(lk->fdb);
	set_phase(lk, PH_DONE);
	rcu_thread_offline();
	pthread_join(thread, NULL);
	rcu_thread_online();
	fdb_destroy(lk->fdb);
	lk->fdb = NULL;
	return 0;
}

/* ---- output ---- */

static int cmp_scan(const void *a, const void *b)
{
	const struct scan *x = a, *y = b;

	return (x->wall_ms > y->wall_ms) - (x->wall_ms < y->wall_ms);
}

struct phase_view {
	double mops, p50, p99, p999, max, max_gap, hit_ratio;
};

static struct phase_view phase_view(const struct phase_stats *st)
{
	double per_ns = mc_ticks_per_ns();
	struct phase_view v;

	v.mops = st->ticks ? st->ops / (st->ticks / per_ns) * 1e3 : 0;
	v.p50 = mc_hist_quantile(&st->lat, 0.5) / per_ns;
	v.p99 = mc_hist_quantile(&st->lat, 0.99) / per_ns;
	v.p999 = mc_hist_quantile(&st->lat, 0.999) / per_ns;
	v.max = st->lat.max / per_ns;
	v.max_gap = st->max_gap / per_ns;
	v.hit_ratio = st->ops ? (double)st->hits / st->ops : 0;
	return v;
}

/* The ager's fdb_maintain() time, wall, per table filled. */
static double maint_ms_per_fill(const struct size_result *sr)
{
	return sr->insert_rounds ? sr->insert_maint.wall_ns / 1e6 /
				   sr->insert_rounds : 0;
}

static void print_sizes(const struct size_result *res, unsigned int n_res)
{
	printf("%-14s", "ns/op (CPU)");
	for (unsigned int s = 0; s < n_res; s++)
		printf(" %12" PRIu32, res[s].n);
	printf("\n");
	for (unsigned int op = 0; op < N_OPS; op++) {
		printf("%-14s", op_names[op]);
		for (unsigned int s = 0; s < n_res; s++)
			printf(" %12.1f", res[s].op[op].ns_per_op);
		printf("\n");
	}
	printf("%-14s", "Mops/s lookup");
	for (unsigned int s = 0; s < n_res; s++)
		printf(" %12.2f", 1e3 / res[s].op[OP_LOOKUP_HIT].ns_per_op);
	printf("\n%-14s", "buckets");
	for (unsigned int s = 0; s < n_res; s++)
		printf(" %12lu", res[s].buckets);
	printf("\n%-14s", "resizes/fill");
	for (unsigned int s = 0; s < n_res; s++)
		printf(" %12u", res[s].insert_resizes);
	printf("\n%-14s", "maint ms/fill");
	for (unsigned int s = 0; s < n_res; s++)
		printf(" %12.1f", maint_ms_per_fill(&res[s]));
	printf("\n%-14s", "other CPUs");
	for (unsigned int s = 0; s < n_res; s++)
		printf(" %12.2f", res[s].other_cpus);
	printf("\n");
}

static void print_ageing(const struct ageing_result *ar)
{
	struct scan sorted[MAX_SCANS];
	struct phase_view base, keep, expire, shrink;

	memcpy(sorted, ar->keep, ar->n_keep * sizeof(*sorted));
	qsort(sorted, ar->n_keep, sizeof(*sorted), cmp_scan);
	printf("\nageing at %" PRIu32 " entries (%lu buckets: filled in %.0f "
	       "ms, %u resizes by fdb_maintain() taking %.1f ms), timer "
	       "overhead %.0f ns per timed lookup, other processes %.2f "
	       "CPUs:\n", ar->n, ar->buckets, ar->fill_ms, ar->grow.resizes,
	       ar->grow.spent.wall_ns / 1e6, ar->timer_overhead_ns,
	       mc_other_cpus(&ar->keep_times));
	printf("  keep-all scan: %u scans, %.1f ms median (%.1f-%.1f), "
	       "%.1f ns/entry, CPU %.1f ms median\n", ar->n_keep,
	       sorted[ar->n_keep / 2].wall_ms, sorted[0].wall_ms,
	       sorted[ar->n_keep - 1].wall_ms,
	       sorted[ar->n_keep / 2].wall_ms * 1e6 / ar->n,
	       sorted[ar->n_keep / 2].cpu_ms);
	printf("  expire-all scan: %.1f ms (CPU %.1f ms), %u removed, "
	       "%.1f ns/entry; process CPU %.0f%% of wall in it\n",
	       ar->expire.wall_ms, ar->expire.cpu_ms, ar->expire.removed,
	       ar->expire.wall_ms * 1e6 / ar->n,
	       100.0 * ar->expire_times.process_ns / ar->expire_times.wall_ns);
	printf("  shrink: fdb_maintain() on the emptied table, %lu -> %lu "
	       "buckets, %.1f ms\n", ar->buckets, ar->shrink_to,
	       ar->shrink_ms);
	printf("  %-24s %8s %8s %8s %8s %10s %10s %6s\n", "lookup thread",
	       "Mops/s", "p50 ns", "p99 ns", "p99.9 ns", "max ns", "max gap",
	       "hits");
	for (unsigned int ph = PH_BASE; ph < PH_DONE; ph++) {
		struct phase_view v = phase_view(&ar->lk->st[ph]);

		printf("  %-24s %8.2f %8.0f %8.0f %8.0f %10.0f %10.0f %5.1f%%"
		       "\n", phase_names[ph], v.mops, v.p50, v.p99, v.p999,
		       v.max, v.max_gap, 100 * v.hit_ratio);
	}
	base = phase_view(&ar->lk->st[PH_BASE]);
	keep = phase_view(&ar->lk->st[PH_SCAN_KEEP]);
	expire = phase_view(&ar->lk->st[PH_SCAN_EXPIRE]);
	shrink = phase_view(&ar->lk->st[PH_SHRINK]);
	printf("  during keep-all scans: throughput %.2fx, p99.9 %.2fx, "
	       "max gap %.0f us; during expire-all: throughput %.2fx, max "
	       "gap %.0f us; during the shrink: max gap %.0f us\n",
	       keep.mops / base.mops, keep.p999 / base.p999,
	       keep.max_gap / 1e3, expire.mops / base.mops,
	       expire.max_gap / 1e3, shrink.max_gap / 1e3);
}

static void json_phase(FILE *f, const char *key, const struct phase_stats *st)
{
	struct phase_view v = phase_view(st);

	fprintf(f, "\"%s\":{\"ops\":%" PRIu64 ",\"mops\":%.4f,\"p50_ns\":%.1f,"
		"\"p99_ns\":%.1f,\"p999_ns\":%.1f,\"max_ns\":%.1f,"
		"\"max_gap_ns\":%.1f,\"hit_ratio\":%.6f}", key, st->ops,
		v.mops, v.p50, v.p99, v.p999, v.max, v.max_gap, v.hit_ratio);
}

static int write_json(const char *path, const struct size_result *res,
		      unsigned int n_res, const struct ageing_result *ar,
		      bool quick, double seconds, int cpu)
{
	FILE *f = fopen(path, "w");
	struct scan sorted[MAX_SCANS];
	static const char *const keys[N_PHASES] = {
		"warm", "base", "keep_scan", "base2", "expire_scan", "after",
		"shrink", "done",
	};

	if (!f) {
		fprintf(stderr, "Error: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "{\"benchmark\":\"micro_fdb\",");
	mc_json_machine(f);
	fprintf(f, ",\"quick\":%s,\"seconds_per_op\":%.3f,\"pinned_cpu\":%d,"
		"\"burst\":%d,\"sizes\":[", quick ? "true" : "false", seconds,
		cpu, BURST);
	for (unsigned int s = 0; s < n_res; s++) {
		fprintf(f, "%s{\"entries\":%" PRIu32 ",\"insert_rounds\":%u,"
			"\"buckets\":%lu,\"insert_resizes_per_fill\":%u,"
			"\"insert_maintain_ms_per_fill\":%.3f,"
			"\"other_cpus\":%.3f,\"ops\":{",
			s ? "," : "", res[s].n, res[s].insert_rounds,
			res[s].buckets, res[s].insert_resizes,
			maint_ms_per_fill(&res[s]), res[s].other_cpus);
		for (unsigned int op = 0; op < N_OPS; op++) {
			const struct op_result *r = &res[s].op[op];

			fprintf(f, "%s\"%s\":{\"ops\":%" PRIu64 ",\"ns_per_op\""
				":%.3f,\"wall_ns_per_op\":%.3f,\"mops\":%.4f,"
				"\"wrong\":%" PRIu64 "}", op ? "," : "",
				op_names[op], r->ops, r->ns_per_op,
				r->wall_ns_per_op,
				mc_finite(1e3 / r->ns_per_op), r->wrong);
		}
		fprintf(f, "}}");
	}
	fprintf(f, "]");
	if (ar && ar->n_keep) {
		memcpy(sorted, ar->keep, ar->n_keep * sizeof(*sorted));
		qsort(sorted, ar->n_keep, sizeof(*sorted), cmp_scan);
		fprintf(f, ",\"ageing\":{\"entries\":%" PRIu32 ",\"buckets\":"
			"%lu,\"fill_ms\":%.3f,\"fill_resizes\":%u,"
			"\"fill_maintain_ms\":%.3f,\"shrink_to_buckets\":%lu,"
			"\"shrink_ms\":%.3f,\"other_cpus_keep\":%.3f,"
			"\"other_cpus_expire\":%.3f", ar->n, ar->buckets,
			ar->fill_ms, ar->grow.resizes,
			ar->grow.spent.wall_ns / 1e6, ar->shrink_to,
			ar->shrink_ms, mc_other_cpus(&ar->keep_times),
			mc_other_cpus(&ar->expire_times));
		fprintf(f, ",\"timer_overhead_ns\":%.1f,\"keep_scans\":%u,"
			"\"keep_scan_ms_median\":%.3f,"
			"\"keep_scan_ms_min\":%.3f,\"keep_scan_ms_max\":%.3f,"
			"\"keep_scan_cpu_ms_median\":%.3f,"
			"\"expire_scan_ms\":%.3f,\"expire_scan_cpu_ms\":%.3f,"
			"\"expire_removed\":%u,\"expire_process_cpu_pct\":%.1f,"
			"\"lookups\":{", ar->timer_overhead_ns, ar->n_keep,
			sorted[ar->n_keep / 2].wall_ms, sorted[0].wall_ms,
			sorted[ar->n_keep - 1].wall_ms,
			sorted[ar->n_keep / 2].cpu_ms, ar->expire.wall_ms,
			ar->expire.cpu_ms, ar->expire.removed,
			100.0 * ar->expire_times.process_ns /
				ar->expire_times.wall_ns);
		for (unsigned int ph = PH_BASE; ph < PH_DONE; ph++) {
			if (ph != PH_BASE)
				fputc(',', f);
			json_phase(f, keys[ph], &ar->lk->st[ph]);
		}
		fprintf(f, "}}");
	}
	fprintf(f, "}\n");
	return fclose(f) ? -1 : 0;
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: micro_fdb [--quick] [--seconds S] [--json PATH] "
		"[--cpu N|-1] [--no-ageing]\n"
		"  --quick      0.25 s per operation and size, shorter ageing "
		"phases\n"
		"  --seconds    time per operation and size (default 1)\n"
		"  --cpu        pin the measuring threads here (default: the "
		"last CPU; -1: don't)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 's' },
		{ "json", required_argument, NULL, 'j' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "no-ageing", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct size_result res[N_SIZES];
	struct ageing_result *ar = NULL;
	const char *json = NULL;
	bool quick = false, ageing = true, ok = true;
	double seconds = -1, dval;
	long cpu = mc_ncpus() - 1, lval;
	struct fdb *keeper;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			quick = true;
			break;
		case 's':
			if (!mc_parse_double(optarg, &dval) || dval <= 0)
				goto bad;
			seconds = dval;
			break;
		case 'j':
			json = optarg;
			break;
		case 'c':
			if (!mc_parse_long(optarg, &lval) || lval < -1 ||
			    lval >= mc_ncpus())
				goto bad;
			cpu = lval;
			break;
		case 'A':
			ageing = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "Error: argument \"%s\" is wrong: unexpected\n",
			argv[optind]);
		return 2;
	}
	if (seconds < 0)
		seconds = quick ? 0.25 : 1.0;

	rcu_register_thread();
	/* As micro_pipeline: liburcu's helper threads exist before we pin,
	 * so that they do not inherit our CPU. */
	keeper = fdb_create(0);
	if (!keeper)
		return 1;
	{
		static const uint8_t mac[MC_ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };

		if (fdb_add(keeper, 0, mac, 0, 0, 0) ||
		    fdb_del(keeper, 0, mac, FDB_NO_PORT))
			return 1;
		synchronize_rcu();
	}
	mc_ticks_per_ns();

	printf("micro_fdb: %.2f s per operation and size, bursts of %d, "
	       "measuring thread on CPU %ld\n\n", seconds, BURST, cpu);
	if (mc_pin((int)cpu)) {
		fprintf(stderr, "warning: cannot pin to CPU %ld\n", cpu);
		cpu = -1;
	}
	pinned_cpu = (int)cpu;
	memset(res, 0, sizeof(res));
	for (unsigned int s = 0; s < N_SIZES; s++) {
		struct size_result *sr = &res[s];
		struct mc_times t0, d;
		struct fdb *fdb;

		sr->n = sizes[s];
		t0 = mc_times_now();
		fdb = run_insert(sr, quick ? 1000000 : 4000000);
		if (!fdb) {
			fprintf(stderr, "Error: out of memory\n");
			return 1;
		}
		for (unsigned int op = OP_LOOKUP_HIT; op < N_OPS; op++)
			run_op(fdb, sr->n, op, seconds, &sr->op[op]);
		d = mc_times_since(&t0);
		sr->other_cpus = mc_other_cpus(&d);
		for (unsigned int op = 0; op < N_OPS; op++)
			if (sr->op[op].wrong) {
				fprintf(stderr, "Error: %s at %" PRIu32 ": %"
					PRIu64 " unexpected results\n",
					op_names[op], sr->n,
					sr->op[op].wrong);
				ok = false;
			}
		/* fdb_maintain() keeps at most one entry a bucket. */
		if (sr->buckets < sr->n) {
			fprintf(stderr, "Error: %lu buckets for %" PRIu32
				" entries after fdb_maintain()\n",
				sr->buckets, sr->n);
			ok = false;
		}
		fdb_destroy(fdb);
	}
	print_sizes(res, N_SIZES);

	if (ageing) {
		/* The main thread ages from wherever the scheduler puts it;
		 * the lookup thread takes the pinned CPU. */
		if (cpu >= 0)
			mc_unpin();
		pinned_cpu = -1;
		ar = calloc(1, sizeof(*ar));
		if (!ar || run_ageing(ar, sizes[N_SIZES - 1], quick,
				      (int)cpu)) {
			fprintf(stderr, "Error: the ageing run failed\n");
			return 1;
		}
		print_ageing(ar);
		if (ar->buckets < ar->n || ar->expire.removed != ar->n ||
		    ar->shrink_to != ar->grow.floor ||
		    ar->lk->st[PH_BASE].hits != ar->lk->st[PH_BASE].ops) {
			fprintf(stderr, "Error: ageing: %lu buckets for %" PRIu32
				" entries, %u expired, shrunk to %lu buckets "
				"(want %lu), %" PRIu64 " of %" PRIu64 " lookups "
				"hit before\n", ar->buckets, ar->n,
				ar->expire.removed, ar->shrink_to,
				ar->grow.floor, ar->lk->st[PH_BASE].hits,
				ar->lk->st[PH_BASE].ops);
			ok = false;
		}
	}
	if (json && write_json(json, res, N_SIZES, ar, quick, seconds,
			       (int)cpu))
		return 1;
	fdb_destroy(keeper);
	rcu_unregister_thread();
	if (ar)
		free(ar->lk);
	free(ar);
	return ok ? 0 : 1;

bad:
	fprintf(stderr, "Error: argument \"%s\" is wrong\n", optarg);
	return 2;
}
