/*
 * fdb.c - the forwarding table on a liburcu lock-free hash table.
 */
#include "fdb/fdb.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>

#include "lib/atomic.h"
#include "lib/rcu.h"

#define FDB_CACHELINE 64

struct fdb_entry {
	/* Fixed for the entry's lifetime: read by every lookup. */
	struct cds_lfht_node node;
	uint64_t key;			/* vid << 48 | mac */
	uint32_t flags;
	struct rcu_head rcu;

	/*
	 * Hot fields, written by learners with relaxed atomics and only when
	 * they change; on their own cache line so that refreshing them does
	 * not invalidate the line the key and the hash chain live on.
	 */
	uint32_t port __attribute__((aligned(FDB_CACHELINE)));
	uint64_t updated_ms;
};

struct fdb {
	struct cds_lfht *ht;
	uint32_t max_learned;		/* relaxed atomic; 0 = unlimited */
	unsigned long min_buckets;	/* the table never shrinks below */
	unsigned long n_buckets;	/* relaxed atomic; fdb_maintain() */

	/* Counters: relaxed atomics, bumped from any thread. */
	uint64_t n_learned;
	uint64_t n_moved;
	uint64_t n_aged;
	uint64_t n_limit_miss;
	uint64_t n_nomem;
	int64_t n_entries;
	int64_t n_dynamic;		/* entries with FDB_LEARNED */

	/* Bumped whenever a (VID, MAC) stops pointing where it did: read
	 * by every frame, so on a line of its own. */
	uint32_t gen __attribute__((aligned(FDB_CACHELINE)));

	/* The event monitor: read where events happen (rarely per frame:
	 * learning a new MAC, a move). */
	fdb_event_func *event_cb;	/* atomic */
	void *event_arg;
};

uint64_t fdb_key(uint16_t vid, const uint8_t mac[FDB_MAC_LEN])
{
	uint32_t hi;
	uint16_t lo;

	/*
	 * The MAC's six bytes, big-endian, in the low 48 bits.  Two loads
	 * of the sizes they are: six bytes stored into a word and read
	 * back whole would stall on store forwarding, every frame.
	 */
	memcpy(&hi, mac, sizeof(hi));
	memcpy(&lo, mac + 4, sizeof(lo));
	return (uint64_t)vid << 48 | (uint64_t)be32toh(hi) << 16 |
	       be16toh(lo);
}

static void fdb_key_split(uint64_t key, uint16_t *vid,
			  uint8_t mac[FDB_MAC_LEN])
{
	*vid = key >> 48;
	for (int i = 0; i < FDB_MAC_LEN; i++)
		mac[i] = key >> (8 * (5 - i));
}

/* A 64-bit finaliser (murmur3's): every key bit reaches every hash bit. */
static unsigned long fdb_hash(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ULL;
	key ^= key >> 33;
	return key;
}

static int fdb_match(struct cds_lfht_node *node, const void *key)
{
	const struct fdb_entry *e =
		caa_container_of(node, struct fdb_entry, node);

	rcu_tsan_consume(node);
	return e->key == *(const uint64_t *)key;
}

static struct fdb_entry *fdb_find_rcu(struct fdb *fdb, uint64_t key)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	cds_lfht_lookup(fdb->ht, fdb_hash(key), fdb_match, &key, &iter);
	node = cds_lfht_iter_get_node(&iter);
	if (!node)
		return NULL;
	rcu_tsan_consume(node);
	return caa_container_of(node, struct fdb_entry, node);
}

static struct fdb_entry *fdb_entry_new(uint64_t key, uint32_t port,
				       uint32_t flags, uint64_t now_ms)
{
	struct fdb_entry *e;

	if (posix_memalign((void **)&e, FDB_CACHELINE, sizeof(*e)))
		return NULL;
	memset(e, 0, sizeof(*e));
	cds_lfht_node_init(&e->node);
	e->key = key;
	e->flags = flags;
	e->port = port;
	e->updated_ms = now_ms;
	return e;
}

static void fdb_entry_free_rcu(struct rcu_head *head)
{
	rcu_tsan_reclaim();
	free(caa_container_of(head, struct fdb_entry, rcu));
}

static void fdb_info_of(const struct fdb_entry *e,
			struct fdb_entry_info *info)
{
	fdb_key_split(e->key, &info->vid, info->mac);
	info->port = LOAD(&e->port);
	info->flags = e->flags;
	info->updated_ms = LOAD(&e->updated_ms);
}

/* Tell the monitor, if there is one. */
static void fdb_event(struct fdb *fdb, enum fdb_event ev,
		      const struct fdb_entry *e, uint32_t old_port)
{
	fdb_event_func *cb = __atomic_load_n(&fdb->event_cb,
					     __ATOMIC_ACQUIRE);
	struct fdb_entry_info info;

	if (caa_likely(!cb))
		return;
	fdb_info_of(e, &info);
	cb(ev, &info, old_port, __atomic_load_n(&fdb->event_arg,
						__ATOMIC_RELAXED));
}

void fdb_set_event_cb(struct fdb *fdb, fdb_event_func *cb, void *arg)
{
	/* The argument first: a reader that sees the callback sees it. */
	__atomic_store_n(&fdb->event_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&fdb->event_cb, cb, __ATOMIC_RELEASE);
}

static void fdb_gen_bump(struct fdb *fdb)
{
	__atomic_fetch_add(&fdb->gen, 1, __ATOMIC_RELEASE);
}

uint32_t fdb_gen(const struct fdb *fdb)
{
	return __atomic_load_n(&fdb->gen, __ATOMIC_ACQUIRE);
}

/* Account for an entry that left the table; the caller's del succeeded. */
static void fdb_entry_unlinked(struct fdb *fdb, struct fdb_entry *e)
{
	fdb_gen_bump(fdb);
	ADD(&fdb->n_entries, -1);
	if (e->flags & FDB_LEARNED)
		ADD(&fdb->n_dynamic, -1);
	call_rcu(&e->rcu, fdb_entry_free_rcu);
}

/* The smallest power of two >= @n (and >= FDB_MIN_BUCKETS). */
static unsigned long fdb_pow2(uint64_t n)
{
	unsigned long size = FDB_MIN_BUCKETS;

	while (size < n && size < FDB_MAX_BUCKETS)
		size <<= 1;
	return size;
}

struct fdb *fdb_create(uint32_t max_learned)
{
	struct fdb *fdb;

	if (posix_memalign((void **)&fdb, FDB_CACHELINE, sizeof(*fdb)))
		return NULL;
	memset(fdb, 0, sizeof(*fdb));
	/*
	 * Buckets for the limit, up to FDB_START_BUCKETS (a small table
	 * stays in the caches; 65536 buckets are a megabyte), and no
	 * automatic resizing: liburcu 0.13 grows a table only at 8 entries
	 * a bucket, and can lose a resize request for good when its worker
	 * finishes before the request is marked as launched.
	 * fdb_maintain() resizes from the ager instead, to the size needed
	 * at once.
	 */
	fdb->min_buckets = fdb_pow2(max_learned && max_learned <
					    FDB_START_BUCKETS ?
					    max_learned : FDB_START_BUCKETS);
	fdb->n_buckets = fdb->min_buckets;
	fdb->ht = cds_lfht_new(fdb->min_buckets, FDB_MIN_BUCKETS, 0, 0, NULL);
	if (!fdb->ht) {
		free(fdb);
		return NULL;
	}
	fdb->max_learned = max_learned;
	return fdb;
}

void fdb_maintain(struct fdb *fdb)
{
	uint64_t n = LOAD(&fdb->n_entries) > 0 ? LOAD(&fdb->n_entries) : 0;
	unsigned long size = LOAD(&fdb->n_buckets), want = size;

	/* At most one entry a bucket; shrink when 16 times too big. */
	if (n > size && size < FDB_MAX_BUCKETS)
		want = fdb_pow2(n);
	else if (size > fdb->min_buckets && n * 16 < size)
		want = fdb_pow2(n * 2 > fdb->min_buckets ? n * 2 :
					 fdb->min_buckets);
	if (want == size)
		return;
	/* The resize waits for grace periods, which this thread's own
	 * call_rcu() frees may be waiting on: say so to TSan. */
	rcu_tsan_quiescent();
	cds_lfht_resize(fdb->ht, want);
	STORE(&fdb->n_buckets, want);
}

void fdb_destroy(struct fdb *fdb)
{
	struct cds_lfht_iter iter;
	struct fdb_entry *e;

	if (!fdb)
		return;
	rcu_read_begin();
	cds_lfht_for_each_entry(fdb->ht, &iter, e, node) {
		rcu_tsan_consume(&e->node);
		if (!cds_lfht_del(fdb->ht, &e->node))
			fdb_entry_unlinked(fdb, e);
	}
	rcu_read_end();
	/*
	 * Offline for the rest: rcu_barrier() waits for callbacks that wait
	 * for grace periods, and so does the resize worker that
	 * cds_lfht_destroy() joins; both would wait for us if we stayed
	 * online.
	 */
	rcu_tsan_quiescent();
	rcu_thread_offline();
	rcu_barrier();
	cds_lfht_destroy(fdb->ht, NULL);
	rcu_thread_online();
	free(fdb);
}

void fdb_set_max_learned(struct fdb *fdb, uint32_t max_learned)
{
	STORE(&fdb->max_learned, max_learned);
}

uint32_t fdb_get_max_learned(const struct fdb *fdb)
{
	return LOAD(&fdb->max_learned);
}

uint32_t fdb_lookup_rcu(struct fdb *fdb, uint16_t vid,
			const uint8_t mac[FDB_MAC_LEN])
{
	struct fdb_entry *e = fdb_find_rcu(fdb, fdb_key(vid, mac));

	rcu_assert_reader();
	return e ? LOAD(&e->port) : FDB_NO_PORT;
}

bool fdb_get_rcu(struct fdb *fdb, uint16_t vid,
		 const uint8_t mac[FDB_MAC_LEN], struct fdb_entry_info *info)
{
	struct fdb_entry *e = fdb_find_rcu(fdb, fdb_key(vid, mac));

	rcu_assert_reader();
	if (e)
		fdb_info_of(e, info);
	return e != NULL;
}

/* Refresh or move an entry that exists.  Caller holds rcu_read_lock(). */
static enum fdb_learn_result fdb_update_rcu(struct fdb *fdb,
					    struct fdb_entry *e, uint32_t port,
					    uint64_t now_ms, uint32_t *old_port)
{
	uint32_t cur = LOAD(&e->port);

	if (cur != port && (e->flags & FDB_STICKY)) {
		/* Linux moves static entries too; only sticky ones stay,
		 * and are refreshed all the same (br_fdb_update). */
		if (LOAD(&e->updated_ms) != now_ms)
			STORE(&e->updated_ms, now_ms);
		return FDB_LEARN_STICKY;
	}
	if (cur != port) {
		STORE(&e->port, port);
		fdb_gen_bump(fdb);
		ADD(&fdb->n_moved, 1);
		if (old_port)
			*old_port = cur;
		fdb_event(fdb, FDB_EV_MOVED, e, cur);
	}
	/* Write the time only when it changes: most frames of a burst
	 * share one clock reading. */
	if (LOAD(&e->updated_ms) != now_ms)
		STORE(&e->updated_ms, now_ms);
	return cur != port ? FDB_LEARN_MOVED : FDB_LEARN_REFRESHED;
}

enum fdb_learn_result fdb_learn_rcu(struct fdb *fdb, uint16_t vid,
				    const uint8_t mac[FDB_MAC_LEN],
				    uint32_t port, uint64_t now_ms,
				    uint32_t *old_port)
{
	uint64_t key = fdb_key(vid, mac);
	struct fdb_entry *e = fdb_find_rcu(fdb, key), *fresh;
	struct cds_lfht_node *node;
	uint32_t max;

	rcu_assert_reader();
	if (e)
		return fdb_update_rcu(fdb, e, port, now_ms, old_port);

	/* Reserve a place under the limit before publishing anything. */
	max = LOAD(&fdb->max_learned);
	if (max && __atomic_add_fetch(&fdb->n_dynamic, 1, __ATOMIC_RELAXED)
			   > (int64_t)max) {
		ADD(&fdb->n_dynamic, -1);
		ADD(&fdb->n_limit_miss, 1);
		return FDB_LEARN_LIMIT;
	}
	if (!max)
		ADD(&fdb->n_dynamic, 1);

	fresh = fdb_entry_new(key, port, FDB_LEARNED, now_ms);
	if (!fresh) {
		ADD(&fdb->n_dynamic, -1);
		ADD(&fdb->n_nomem, 1);
		return FDB_LEARN_NOMEM;
	}
	rcu_tsan_publish(&fresh->node);
	node = cds_lfht_add_unique(fdb->ht, fdb_hash(key), fdb_match, &key,
				   &fresh->node);
	if (node != &fresh->node) {
		/* Another thread learned it first.  Ours was never
		 * published: free it now and update theirs. */
		free(fresh);
		ADD(&fdb->n_dynamic, -1);
		e = caa_container_of(node, struct fdb_entry, node);
		return fdb_update_rcu(fdb, e, port, now_ms, old_port);
	}
	ADD(&fdb->n_entries, 1);
	ADD(&fdb->n_learned, 1);
	fdb_event(fdb, FDB_EV_LEARNED, fresh, FDB_NO_PORT);
	return FDB_LEARN_NEW;
}

enum fdb_learn_result fdb_learn_peek_rcu(struct fdb *fdb, uint16_t vid,
					 const uint8_t mac[FDB_MAC_LEN],
					 uint32_t port, uint32_t *old_port)
{
	struct fdb_entry *e = fdb_find_rcu(fdb, fdb_key(vid, mac));
	uint32_t max, cur;

	rcu_assert_reader();
	if (!e) {
		max = LOAD(&fdb->max_learned);
		return max && LOAD(&fdb->n_dynamic) >= (int64_t)max ?
			       FDB_LEARN_LIMIT : FDB_LEARN_NEW;
	}
	cur = LOAD(&e->port);
	if (cur == port)
		return FDB_LEARN_REFRESHED;
	if (e->flags & FDB_STICKY)
		return FDB_LEARN_STICKY;
	if (old_port)
		*old_port = cur;
	return FDB_LEARN_MOVED;
}

int fdb_add(struct fdb *fdb, uint16_t vid, const uint8_t mac[FDB_MAC_LEN],
	    uint32_t port, uint32_t flags, uint64_t now_ms)
{
	return fdb_insert(fdb, vid, mac, port, flags, now_ms, true);
}

int fdb_insert(struct fdb *fdb, uint16_t vid, const uint8_t mac[FDB_MAC_LEN],
	       uint32_t port, uint32_t flags, uint64_t now_ms, bool replace)
{
	uint64_t key = fdb_key(vid, mac);
	struct fdb_entry *fresh, *old;
	struct cds_lfht_node *node;

	rcu_assert_not_reader();
	fresh = fdb_entry_new(key, port, flags & (FDB_STATIC | FDB_STICKY),
			      now_ms);
	if (!fresh)
		return -ENOMEM;
	rcu_tsan_publish(&fresh->node);
	rcu_read_begin();
	if (!replace) {
		node = cds_lfht_add_unique(fdb->ht, fdb_hash(key), fdb_match,
					   &key, &fresh->node);
		rcu_read_end();
		if (node != &fresh->node) {
			free(fresh);	/* never published */
			return -EEXIST;
		}
		ADD(&fdb->n_entries, 1);
		rcu_read_begin();
		fdb_event(fdb, FDB_EV_ADDED, fresh, FDB_NO_PORT);
		rcu_read_end();
		return 0;
	}
	node = cds_lfht_add_replace(fdb->ht, fdb_hash(key), fdb_match, &key,
				    &fresh->node);
	ADD(&fdb->n_entries, 1);
	if (node) {
		/* The replaced node is unlinked: ours to free. */
		old = caa_container_of(node, struct fdb_entry, node);
		fdb_event(fdb, FDB_EV_REPLACED, fresh, LOAD(&old->port));
		fdb_entry_unlinked(fdb, old);
	} else {
		fdb_event(fdb, FDB_EV_ADDED, fresh, FDB_NO_PORT);
	}
	rcu_read_end();
	return 0;
}

int fdb_del(struct fdb *fdb, uint16_t vid, const uint8_t mac[FDB_MAC_LEN],
	    uint32_t port)
{
	struct fdb_entry *e;
	int ret = -ENOENT;

	rcu_assert_not_reader();
	rcu_read_begin();
	e = fdb_find_rcu(fdb, fdb_key(vid, mac));
	if (e && (port == FDB_NO_PORT || LOAD(&e->port) == port) &&
	    !cds_lfht_del(fdb->ht, &e->node)) {
		fdb_event(fdb, FDB_EV_DELETED, e, FDB_NO_PORT);
		fdb_entry_unlinked(fdb, e);
		ret = 0;
	}
	rcu_read_end();
	return ret;
}

static bool fdb_kind_matches(uint32_t flags, enum fdb_flush_kind kind)
{
	switch (kind) {
	case FDB_FLUSH_DYNAMIC:
		return !(flags & FDB_STATIC);
	case FDB_FLUSH_STATIC:
		return flags & FDB_STATIC;
	case FDB_FLUSH_ALL:
		break;
	}
	return true;
}

unsigned int fdb_flush(struct fdb *fdb, uint32_t port, uint16_t vid,
		       enum fdb_flush_kind kind)
{
	struct cds_lfht_iter iter;
	struct fdb_entry *e;
	unsigned int n = 0;

	rcu_assert_not_reader();
	rcu_read_begin();
	cds_lfht_for_each_entry(fdb->ht, &iter, e, node) {
		rcu_tsan_consume(&e->node);
		if (port != FDB_NO_PORT && LOAD(&e->port) != port)
			continue;
		if (vid != FDB_ANY_VID && (e->key >> 48) != vid)
			continue;
		if (!fdb_kind_matches(e->flags, kind))
			continue;
		/* Only the caller whose delete succeeds frees the entry. */
		if (!cds_lfht_del(fdb->ht, &e->node)) {
			fdb_event(fdb, FDB_EV_FLUSHED, e, FDB_NO_PORT);
			fdb_entry_unlinked(fdb, e);
			n++;
		}
	}
	rcu_read_end();
	return n;
}

unsigned int fdb_flush_match(struct fdb *fdb,
			     bool (*match)(const struct fdb_entry_info *info,
					   void *arg),
			     void *arg)
{
	struct fdb_entry_info info;
	struct cds_lfht_iter iter;
	struct fdb_entry *e;
	unsigned int n = 0;

	rcu_assert_not_reader();
	rcu_read_begin();
	cds_lfht_for_each_entry(fdb->ht, &iter, e, node) {
		rcu_tsan_consume(&e->node);
		fdb_key_split(e->key, &info.vid, info.mac);
		info.port = LOAD(&e->port);
		info.flags = e->flags;
		info.updated_ms = LOAD(&e->updated_ms);
		if (match(&info, arg) && !cds_lfht_del(fdb->ht, &e->node)) {
			fdb_event(fdb, FDB_EV_FLUSHED, e, FDB_NO_PORT);
			fdb_entry_unlinked(fdb, e);
			n++;
		}
	}
	rcu_read_end();
	return n;
}

unsigned int fdb_age(struct fdb *fdb, uint64_t now_ms, uint64_t ageing_ms)
{
	return fdb_age_next(fdb, now_ms, ageing_ms, NULL);
}

unsigned int fdb_age_next(struct fdb *fdb, uint64_t now_ms,
			  uint64_t ageing_ms, uint64_t *next_ms)
{
	uint64_t next = UINT64_MAX;
	struct cds_lfht_iter iter;
	struct fdb_entry *e;
	unsigned int n = 0;

	rcu_assert_not_reader();
	rcu_read_begin();
	cds_lfht_for_each_entry(fdb->ht, &iter, e, node) {
		rcu_tsan_consume(&e->node);
		uint64_t seen = LOAD(&e->updated_ms);

		if (e->flags & FDB_STATIC)
			continue;
		/* A learner may have refreshed it after @now_ms was read. */
		if (seen > now_ms || now_ms - seen < ageing_ms) {
			if (seen + ageing_ms < next)
				next = seen + ageing_ms;
			continue;
		}
		if (!cds_lfht_del(fdb->ht, &e->node)) {
			fdb_event(fdb, FDB_EV_AGED, e, FDB_NO_PORT);
			fdb_entry_unlinked(fdb, e);
			n++;
		}
	}
	rcu_read_end();
	ADD(&fdb->n_aged, n);
	if (next_ms)
		*next_ms = next;
	return n;
}

void fdb_dump(struct fdb *fdb,
	      void (*cb)(const struct fdb_entry_info *info, void *arg),
	      void *arg)
{
	struct cds_lfht_iter iter;
	struct fdb_entry *e;
	struct fdb_entry_info info;

	rcu_assert_not_reader();
	rcu_read_begin();
	cds_lfht_for_each_entry(fdb->ht, &iter, e, node) {
		rcu_tsan_consume(&e->node);
		fdb_key_split(e->key, &info.vid, info.mac);
		info.port = LOAD(&e->port);
		info.flags = e->flags;
		info.updated_ms = LOAD(&e->updated_ms);
		cb(&info, arg);
	}
	rcu_read_end();
}

void fdb_get_stats(const struct fdb *fdb, struct fdb_stats *stats)
{
	int64_t n;

	stats->n_learned = LOAD(&fdb->n_learned);
	stats->n_moved = LOAD(&fdb->n_moved);
	stats->n_aged = LOAD(&fdb->n_aged);
	stats->n_limit_miss = LOAD(&fdb->n_limit_miss);
	stats->n_nomem = LOAD(&fdb->n_nomem);
	n = LOAD(&fdb->n_entries);
	stats->n_entries = n > 0 ? n : 0;
	n = LOAD(&fdb->n_dynamic);
	stats->n_dynamic = n > 0 ? n : 0;
	stats->n_buckets = LOAD(&fdb->n_buckets);
}
