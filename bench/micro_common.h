/*
 * micro_common.h - what the two microbenchmarks share: clocks, MAC
 * addresses made from an index, a latency histogram, CPU pinning, the
 * machine's description and a little JSON.
 *
 * Everything is static inline: each microbenchmark is one .c file that
 * includes this, links the data plane and the table, and nothing else.
 * Nothing here looks inside the table or liburcu: the bucket count is
 * fdb_get_stats()'s.
 *
 * Clocks
 * ------
 * Rates are frames (or operations) per second of the measuring thread's
 * CPU time (CLOCK_THREAD_CPUTIME_ID): "per core", unaffected by time the
 * thread spent descheduled.  Wall-clock (CLOCK_MONOTONIC) and the whole
 * process's CPU time are reported beside it, since liburcu does work on
 * its own threads (call_rcu() callbacks, the helper threads of a large
 * hash table resize) that the measuring thread does not pay for.
 */
#ifndef TAPSWITCH_BENCH_MICRO_COMMON_H
#define TAPSWITCH_BENCH_MICRO_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "fdb/fdb.h"
#include "lib/rcu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define MC_HAVE_TSC 1
#else
#define MC_HAVE_TSC 0
#endif

#define MC_ETH_ALEN 6

/* ---- clocks ---- */

static inline uint64_t mc_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t mc_wall_ns(void)
{
	return mc_clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t mc_thread_ns(void)
{
	return mc_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static inline uint64_t mc_process_ns(void)
{
	return mc_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/*
 * CPU time every process on the machine has used, from /proc/stat (user,
 * nice, system, irq, softirq, steal), in ns; 0 if unreadable.  Less what
 * this process used, over the wall time, it tells how busy the machine
 * was with something else while we measured (a 2-core machine shared
 * with a traffic generator gives very different figures).
 */
static inline uint64_t mc_machine_busy_ns(void)
{
	unsigned long long v[8] = { 0 };
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8 || hz <= 0)
		return 0;
	/* user nice system [idle iowait] irq softirq steal */
	return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) *
	       (1000000000ull / (unsigned long long)hz);
}

/* The clocks at one moment, and their differences. */
struct mc_times {
	uint64_t wall_ns;
	uint64_t thread_ns;
	uint64_t process_ns;
	uint64_t machine_busy_ns;	/* every process, see above */
};

static inline struct mc_times mc_times_now(void)
{
	struct mc_times t;

	t.machine_busy_ns = mc_machine_busy_ns();
	t.thread_ns = mc_thread_ns();
	t.process_ns = mc_process_ns();
	t.wall_ns = mc_wall_ns();
	return t;
}

static inline struct mc_times mc_times_since(const struct mc_times *start)
{
	struct mc_times now = mc_times_now(), d;

	d.wall_ns = now.wall_ns - start->wall_ns;
	d.thread_ns = now.thread_ns - start->thread_ns;
	d.process_ns = now.process_ns - start->process_ns;
	d.machine_busy_ns = now.machine_busy_ns - start->machine_busy_ns;
	return d;
}

/* CPUs' worth of time other processes used during @d (tick-granular:
 * +-0.01 s per second of wall time and CPU). */
static inline double mc_other_cpus(const struct mc_times *d)
{
	double other = (double)d->machine_busy_ns - (double)d->process_ns;

	if (!d->wall_ns || !d->machine_busy_ns || other < 0)
		return 0;
	return other / (double)d->wall_ns;
}

/*
 * A cycle counter for timing single operations: the TSC where there is
 * one (this machine's is constant and non-stop), else CLOCK_MONOTONIC.
 * mc_ticks_per_ns() calibrates it against CLOCK_MONOTONIC once.
 */
static inline uint64_t mc_ticks(void)
{
#if MC_HAVE_TSC
	_mm_lfence();
	return __rdtsc();
#else
	return mc_wall_ns();
#endif
}

static inline double mc_ticks_per_ns(void)
{
#if MC_HAVE_TSC
	static double per_ns;

	if (per_ns == 0) {
		uint64_t w0 = mc_wall_ns(), t0 = mc_ticks(), w1, t1;
		struct timespec pause = { 0, 50 * 1000 * 1000 };

		nanosleep(&pause, NULL);
		w1 = mc_wall_ns();
		t1 = mc_ticks();
		per_ns = (double)(t1 - t0) / (double)(w1 - w0);
	}
	return per_ns;
#else
	return 1.0;
#endif
}

static inline void mc_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- MAC addresses from an index ---- */

/*
 * A bijection of the 40-bit integers (odd multiplications and
 * xor-shifts, each invertible mod 2^40): distinct indexes give distinct
 * addresses, and neighbouring indexes look unrelated to the table's hash.
 */
#define MC_MASK40 ((1ull << 40) - 1)

static inline uint64_t mc_mix40(uint64_t x)
{
	x &= MC_MASK40;
	x = (x * 0x9e3779b97f4a7c15ull) & MC_MASK40;
	x ^= x >> 17;
	x = (x * 0xbf58476d1ce4e5b9ull) & MC_MASK40;
	x ^= x >> 19;
	return x;
}

/* 02:xx:xx:xx:xx:xx: locally administered, unicast, from @index. */
static inline void mc_mac(uint64_t index, uint8_t mac[MC_ETH_ALEN])
{
	uint64_t x = mc_mix40(index);

	mac[0] = 0x02;
	mac[1] = x >> 32;
	mac[2] = x >> 24;
	mac[3] = x >> 16;
	mac[4] = x >> 8;
	mac[5] = x;
}

/* xorshift64*: a fast generator for random picks in the timed loops. */
static inline uint64_t mc_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n) for n < 2^32, without a division. */
static inline uint32_t mc_rand_below(uint64_t *state, uint32_t n)
{
	return (uint32_t)(((mc_rand(state) >> 32) * (uint64_t)n) >> 32);
}

/* ---- latency histogram (log-linear: 32 sub-buckets per power of 2,
 * ~3% resolution), in whatever unit the caller records ---- */

#define MC_HIST_BUCKETS (64 + 58 * 32)

struct mc_hist {
	uint64_t count;
	uint64_t max;
	uint64_t sum;
	uint64_t bucket[MC_HIST_BUCKETS];
};

static inline unsigned int mc_hist_index(uint64_t v)
{
	unsigned int b;

	if (v < 64)
		return (unsigned int)v;
	b = 63 - (unsigned int)__builtin_clzll(v);	/* >= 6 */
	return 64 + (b - 6) * 32 + (unsigned int)((v >> (b - 5)) - 32);
}

/* The largest value that falls in bucket @i. */
static inline uint64_t mc_hist_upper(unsigned int i)
{
	unsigned int b, sub;

	if (i < 64)
		return i;
	b = (i - 64) / 32 + 6;
	sub = (i - 64) % 32 + 32;
	return (((uint64_t)sub + 1) << (b - 5)) - 1;
}

static inline void mc_hist_add(struct mc_hist *h, uint64_t v)
{
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	h->bucket[mc_hist_index(v)]++;
}

/* The value at quantile @q (0..1): the upper bound of its bucket, never
 * more than the largest value seen. */
static inline uint64_t mc_hist_quantile(const struct mc_hist *h, double q)
{
	uint64_t want, seen = 0;

	if (!h->count)
		return 0;
	want = (uint64_t)(q * (double)h->count);
	if (want >= h->count)
		want = h->count - 1;
	for (unsigned int i = 0; i < MC_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen > want) {
			uint64_t up = mc_hist_upper(i);

			return up < h->max ? up : h->max;
		}
	}
	return h->max;
}

/* ---- statistics over repetitions ---- */

static inline int mc_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static inline double mc_median(const double *v, unsigned int n)
{
	double tmp[64];

	if (!n)
		return 0;
	if (n > 64)
		n = 64;
	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), mc_cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* ---- CPU pinning ---- */

static inline int mc_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* Pin the calling thread to @cpu (-1: leave it).  Threads created
 * afterwards by this thread inherit the mask, so callers make liburcu's
 * helper threads exist before they pin. */
static inline int mc_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* ---- the machine ---- */

static inline void mc_cpu_model(char *buf, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, size, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, size, "%s", colon);
		break;
	}
	fclose(f);
}

/* ---- JSON, just enough ---- */

/* @s as a JSON string (the names and descriptions here are ASCII). */
static inline void mc_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* "machine": {...} with the fields every result file carries. */
static inline void mc_json_machine(FILE *f)
{
	struct utsname u;
	char model[128];

	mc_cpu_model(model, sizeof(model));
	if (uname(&u))
		memset(&u, 0, sizeof(u));
	fprintf(f, "\"machine\":{\"cpus\":%d,\"cpu_model\":", mc_ncpus());
	mc_json_str(f, model);
	fprintf(f, ",\"kernel\":");
	mc_json_str(f, u.release);
	fprintf(f, ",\"tsc_ticks_per_ns\":%.4f}", mc_ticks_per_ns());
}

/* A finite number for JSON (NaN and infinities are not JSON). */
static inline double mc_finite(double x)
{
	return x == x && x < 1e300 && x > -1e300 ? x : 0;
}

/* ---- command line ---- */

static inline bool mc_parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end;
}

static inline bool mc_parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 0);
	return !errno && end != s && !*end;
}

/* Whether @name is in the comma-separated @list (NULL: everything). */
static inline bool mc_selected(const char *list, const char *name)
{
	size_t len = strlen(name);

	if (!list)
		return true;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");

		if (n == len && !strncmp(p, name, len))
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

/* ---- growing the table as the daemon does ---- */

/*
 * The FDB's hash table does not resize itself: fdb_create() sizes it for
 * the limit (65536 buckets when unlimited), and the daemon's ageing
 * thread calls fdb_maintain() at every tick (at most 500 ms apart) to keep
 * it at about one entry a bucket.  A benchmark that grows a table plays
 * that thread between its batches (every 64Ki inserts, and once after
 * filling): on a registered thread, online, outside any read-side
 * section (fdb.h).
 *
 * Two things differ from a thread that only learns, and are handled here:
 *   - liburcu does a large resize on helper threads it creates for it,
 *     and they inherit the caller's CPU mask: a pinned caller would put
 *     them all on its own CPU, where the daemon's (unpinned) ager lets
 *     them spread.  So the call is made with every CPU allowed, and the
 *     pin (@cpu, -1: none) put back afterwards;
 *   - the ager's work is not the learner's: the time it takes is summed
 *     in struct mc_maint, for the caller to report beside, not inside,
 *     its figures.
 * It calls fdb_maintain() only when its entry and bucket counts say a
 * resize is due (the predicate fdb_maintain() applies, with the table's
 * size at creation as its floor: mc_maint_init() right after
 * fdb_create()); the call would be a no-op otherwise, and this spares
 * the affinity changes.
 */
#define MC_MAINTAIN_EVERY	65536	/* inserts between two calls */

struct mc_maint {
	unsigned long floor;		/* the bucket count at creation */
	unsigned int calls;		/* fdb_maintain() calls made */
	unsigned int resizes;		/* of which changed the bucket count */
	struct mc_times spent;		/* summed over the calls */
};

static inline void mc_times_add(struct mc_times *sum, const struct mc_times *d)
{
	sum->wall_ns += d->wall_ns;
	sum->thread_ns += d->thread_ns;
	sum->process_ns += d->process_ns;
	sum->machine_busy_ns += d->machine_busy_ns;
}

/* @a less @b, field by field (never below 0). */
static inline struct mc_times mc_times_sub(const struct mc_times *a,
					   const struct mc_times *b)
{
	struct mc_times d;

#define MC_SUB(f) (a->f > b->f ? a->f - b->f : 0)
	d.wall_ns = MC_SUB(wall_ns);
	d.thread_ns = MC_SUB(thread_ns);
	d.process_ns = MC_SUB(process_ns);
	d.machine_busy_ns = MC_SUB(machine_busy_ns);
#undef MC_SUB
	return d;
}

/* Let the calling thread run on every CPU. */
static inline void mc_unpin(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int c = 0; c < mc_ncpus() && c < CPU_SETSIZE; c++)
		CPU_SET(c, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static inline unsigned long mc_fdb_buckets(const struct fdb *fdb)
{
	struct fdb_stats st;

	fdb_get_stats(fdb, &st);
	return (unsigned long)st.n_buckets;
}

static inline void mc_maint_init(struct mc_maint *m, const struct fdb *fdb)
{
	memset(m, 0, sizeof(*m));
	m->floor = mc_fdb_buckets(fdb);
}

/* fdb_maintain() as the ager calls it (above).  True if it resized. */
static inline bool mc_maintain(struct fdb *fdb, int cpu, struct mc_maint *m)
{
	struct fdb_stats st;
	struct mc_times t0, d;
	uint64_t before;

	fdb_get_stats(fdb, &st);
	if (!(st.n_entries > st.n_buckets && st.n_buckets < FDB_MAX_BUCKETS) &&
	    !(st.n_buckets > m->floor && st.n_entries * 16 < st.n_buckets))
		return false;
	before = st.n_buckets;
	t0 = mc_times_now();
	if (cpu >= 0)
		mc_unpin();
	fdb_maintain(fdb);
	if (cpu >= 0)
		mc_pin(cpu);
	d = mc_times_since(&t0);
	m->calls++;
	mc_times_add(&m->spent, &d);
	if (mc_fdb_buckets(fdb) != before) {
		m->resizes++;
		return true;
	}
	return false;
}

#endif /* TAPSWITCH_BENCH_MICRO_COMMON_H */
