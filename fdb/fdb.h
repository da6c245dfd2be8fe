/*
 * fdb.h - the forwarding table: (VID, MAC) -> port index.
 *
 * Design
 * ------
 * The table is a liburcu lock-free hash table (cds_lfht) keyed by the
 * VLAN ID and the MAC address packed into one 64-bit word, so a key
 * compare is one integer compare.  VID 0 is used while VLAN filtering is
 * off.  The table stores a port *index*, never a pointer to a port: it
 * knows nothing of ports, threads or I/O.  It never logs; it counts
 * (learned, moved, aged, limit misses), and the daemon shows the counters.
 *
 * An entry's key and its static/sticky flags are fixed for its lifetime;
 * a control request that changes them replaces the whole node
 * (cds_lfht_add_replace).  Only the two hot fields, the egress port and the
 * time it was last seen, change in place, with relaxed atomic stores, and
 * only when their value changes, so that a stream of frames from one host
 * does not bounce a cache line between the poll threads.
 *
 * Thread safety
 * -------------
 * The table uses the QSBR flavour of liburcu.  Every thread that calls a
 * function of this module must be a registered QSBR thread.
 *   - fdb_lookup_rcu(), fdb_learn_rcu(): any number of threads at once;
 *     the caller is online and holds rcu_read_lock().
 *   - fdb_age(), fdb_add(), fdb_del(), fdb_flush(), fdb_dump(): may run
 *     concurrently with the readers and learners above and with each
 *     other; each takes its own read-side section, so the caller must be
 *     online and must *not* hold rcu_read_lock() already.
 *   - fdb_create(), fdb_destroy(): one thread, no concurrent user;
 *     fdb_destroy() is called online, outside any read-side section, and
 *     returns online (it goes offline inside, for rcu_barrier()).
 * Freed entries are released through call_rcu(), so whoever destroys the
 * table calls rcu_barrier() first (fdb_destroy() does).
 */
#ifndef TAPSWITCH_FDB_H
#define TAPSWITCH_FDB_H

#include <stdbool.h>
#include <stdint.h>

#define FDB_MAC_LEN 6
#define FDB_NO_PORT UINT32_MAX	/* lookup miss; also "any port" in flush */
#define FDB_ANY_VID UINT16_MAX	/* "any VLAN" in flush */
#define FDB_MIN_BUCKETS 1024
#define FDB_START_BUCKETS 4096
#define FDB_MAX_BUCKETS (1ul << 24)

/* Entry flags: bit numbers in one word. */
enum fdb_flag_bit {
	FDB_STATIC_BIT,		/* never ages; kept by a dynamic flush */
	FDB_STICKY_BIT,		/* never moves to another port, but a frame
				 * from another port still refreshes it */
	FDB_LEARNED_BIT,	/* created by learning: counts toward
				 * max_learned and n_dynamic; an entry added
				 * by hand without FDB_STATIC ages but is not
				 * counted */
};
#define FDB_STATIC  (1u << FDB_STATIC_BIT)
#define FDB_STICKY  (1u << FDB_STICKY_BIT)
#define FDB_LEARNED (1u << FDB_LEARNED_BIT)

/* What fdb_learn_rcu() did. */
enum fdb_learn_result {
	FDB_LEARN_NEW,		/* a new entry was added */
	FDB_LEARN_REFRESHED,	/* known on this port; last-seen updated */
	FDB_LEARN_MOVED,	/* known on another port; moved here */
	FDB_LEARN_STICKY,	/* known on another port, sticky: not moved */
	FDB_LEARN_LIMIT,	/* new, but max_learned reached: not learned */
	FDB_LEARN_NOMEM,	/* new, but no memory: not learned */
};

/* Switch-wide counters; a consistent-enough snapshot. */
struct fdb_stats {
	uint64_t n_learned;	/* entries created by learning, ever */
	uint64_t n_moved;	/* entries moved to another port */
	uint64_t n_aged;	/* entries removed by ageing */
	uint64_t n_limit_miss;	/* new MACs not learned: max_learned */
	uint64_t n_nomem;	/* new MACs not learned: out of memory */
	uint64_t n_entries;	/* entries in the table now */
	uint64_t n_dynamic;	/* learned entries in the table now */
	uint64_t n_buckets;	/* the hash table's size */
};

/* One entry as fdb_dump() reports it. */
struct fdb_entry_info {
	uint8_t mac[FDB_MAC_LEN];
	uint16_t vid;
	uint32_t port;
	uint32_t flags;		/* FDB_STATIC | FDB_STICKY | FDB_LEARNED */
	uint64_t updated_ms;	/* last seen (learned) or last changed */
};

struct fdb;

/* Control thread.  Returns NULL when out of memory. */
struct fdb *fdb_create(uint32_t max_learned);
/* Control thread, no concurrent user, outside any read-side section. */
void fdb_destroy(struct fdb *fdb);

/*
 * One thread at a time (the ager), online, not in a read-side section.
 * Keep the hash table at about one entry a bucket: grow it when the
 * entries outnumber the buckets, shrink it when they are 16 times fewer
 * (never below the size the limit asked for at creation).
 */
void fdb_maintain(struct fdb *fdb);

/* The key the table uses for (@vid, @mac): VID in bits 48-63, the MAC
 * big-endian below.  Any thread. */
uint64_t fdb_key(uint16_t vid, const uint8_t mac[FDB_MAC_LEN]);

/*
 * Any thread.  A number that changes whenever an entry stops pointing
 * where it did (moved, deleted, aged, flushed, replaced) - not when one
 * is added or refreshed.  A reader that remembered where a key pointed
 * at generation G may keep believing it while fdb_gen() still says G.
 */
uint32_t fdb_gen(const struct fdb *fdb);

/* Any thread.  0 = unlimited.  Applies to new entries from now on. */
void fdb_set_max_learned(struct fdb *fdb, uint32_t max_learned);
uint32_t fdb_get_max_learned(const struct fdb *fdb);

/* Caller holds rcu_read_lock().  Returns the port index or FDB_NO_PORT. */
uint32_t fdb_lookup_rcu(struct fdb *fdb, uint16_t vid,
			const uint8_t mac[FDB_MAC_LEN]);
/* Caller holds rcu_read_lock().  The entry of (@vid, @mac) into *@info:
 * true, or false when there is none. */
bool fdb_get_rcu(struct fdb *fdb, uint16_t vid,
		 const uint8_t mac[FDB_MAC_LEN], struct fdb_entry_info *info);

/*
 * Caller holds rcu_read_lock().  Learn that @mac in @vid was seen on @port
 * at @now_ms.  When the entry moved, *old_port (if not NULL) receives the
 * port it moved from.
 */
enum fdb_learn_result fdb_learn_rcu(struct fdb *fdb, uint16_t vid,
				    const uint8_t mac[FDB_MAC_LEN],
				    uint32_t port, uint64_t now_ms,
				    uint32_t *old_port);

/*
 * Caller holds rcu_read_lock().  What fdb_learn_rcu() would do now, without
 * doing it: FDB_LEARN_NEW (or _LIMIT when the limit is reached),
 * _REFRESHED, _MOVED (*old_port: from where) or _STICKY.
 */
enum fdb_learn_result fdb_learn_peek_rcu(struct fdb *fdb, uint16_t vid,
					 const uint8_t mac[FDB_MAC_LEN],
					 uint32_t port, uint32_t *old_port);

/*
 * Who wants to hear of changes to the table (the event monitor).  The
 * callback runs in the thread that made the change - a poll thread for
 * learned and moved, the ager for aged, the control side for the rest -
 * inside a read-side section or not: it must not block, and must not
 * call back into this module.  One at a time; NULL to stop.  Control
 * thread; a callback set to NULL may still run once in other threads
 * until a grace period has passed.
 */
enum fdb_event {
	FDB_EV_LEARNED,
	FDB_EV_MOVED,		/* @old_port: where it was */
	FDB_EV_AGED,
	FDB_EV_DELETED,		/* fdb_del() */
	FDB_EV_FLUSHED,		/* fdb_flush(), fdb_flush_match() */
	FDB_EV_ADDED,		/* fdb_insert() of a new entry */
	FDB_EV_REPLACED,	/* fdb_insert() over an existing one */
};
typedef void fdb_event_func(enum fdb_event ev,
			    const struct fdb_entry_info *info,
			    uint32_t old_port, void *arg);
void fdb_set_event_cb(struct fdb *fdb, fdb_event_func *cb, void *arg);

/*
 * Online, not in a read-side section.  Add or replace the entry for
 * (@vid, @mac) with one on @port carrying @flags (FDB_STATIC, FDB_STICKY;
 * FDB_LEARNED is ignored).  Returns 0 or -ENOMEM.
 */
int fdb_add(struct fdb *fdb, uint16_t vid, const uint8_t mac[FDB_MAC_LEN],
	    uint32_t port, uint32_t flags, uint64_t now_ms);

/* As fdb_add(), but with @replace false an existing entry is left alone
 * and -EEXIST returned (iproute2's `fdb add` as against `fdb replace`). */
int fdb_insert(struct fdb *fdb, uint16_t vid, const uint8_t mac[FDB_MAC_LEN],
	       uint32_t port, uint32_t flags, uint64_t now_ms, bool replace);

/*
 * Online, not in a read-side section.  Delete the entry for (@vid, @mac)
 * if it points to @port (any port when @port is FDB_NO_PORT).
 * Returns 0 or -ENOENT.
 */
int fdb_del(struct fdb *fdb, uint16_t vid, const uint8_t mac[FDB_MAC_LEN],
	    uint32_t port);

/* What fdb_flush() removes. */
enum fdb_flush_kind {
	FDB_FLUSH_DYNAMIC,	/* entries without FDB_STATIC */
	FDB_FLUSH_STATIC,	/* entries with FDB_STATIC */
	FDB_FLUSH_ALL,
};

/*
 * Online, not in a read-side section.  Remove the entries of @kind on
 * @port (FDB_NO_PORT: any) in @vid (FDB_ANY_VID: any).  Returns how many
 * were removed.
 */
unsigned int fdb_flush(struct fdb *fdb, uint32_t port, uint16_t vid,
		       enum fdb_flush_kind kind);

/*
 * Online, not in a read-side section.  Remove every entry for which
 * @match returns true; it runs inside a read-side section and must not
 * block.  Returns how many were removed.
 */
unsigned int fdb_flush_match(struct fdb *fdb,
			     bool (*match)(const struct fdb_entry_info *info,
					   void *arg),
			     void *arg);

/*
 * Online, not in a read-side section.  Remove the entries without
 * FDB_STATIC last seen @ageing_ms or more before @now_ms (with @ageing_ms
 * 0: every one last seen at or before @now_ms; an entry a learner
 * refreshed after @now_ms was read stays).  Returns how many were removed.
 */
unsigned int fdb_age(struct fdb *fdb, uint64_t now_ms, uint64_t ageing_ms);
/* The same; *@next_ms receives when the next remaining entry would age
 * out (UINT64_MAX: none can), so the caller can sleep until then. */
unsigned int fdb_age_next(struct fdb *fdb, uint64_t now_ms,
			  uint64_t ageing_ms, uint64_t *next_ms);

/*
 * Online, not in a read-side section.  Call @cb for every entry; the
 * callback runs inside a read-side section and must not block.  Entries
 * added or removed during the walk may or may not be reported.
 */
void fdb_dump(struct fdb *fdb,
	      void (*cb)(const struct fdb_entry_info *info, void *arg),
	      void *arg);

/* Any thread. */
void fdb_get_stats(const struct fdb *fdb, struct fdb_stats *stats);

#endif /* TAPSWITCH_FDB_H */
