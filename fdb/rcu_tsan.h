/*
 * rcu_tsan.h - tell ThreadSanitizer what liburcu guarantees.
 *
 * The Debian liburcu is not TSan-instrumented: its publication
 * (cds_lfht_add_*, a cmpxchg in inline assembly) and its grace periods
 * (futexes and fences) are invisible to TSan, which then reports every
 * RCU-protected object as racy.  Rather than silence our own code, we
 * annotate the two happens-before edges RCU gives:
 *
 *   publish -> consume:  rcu_tsan_publish(obj) before an object is made
 *                        reachable, rcu_tsan_consume(obj) after a reader
 *                        found it;
 *   reader's quiescent state -> reclaim:  rcu_tsan_quiescent() just before
 *                        a reader announces a quiescent state or goes
 *                        offline, rcu_tsan_reclaim() at the top of every
 *                        call_rcu() callback and after synchronize_rcu().
 *
 * The second edge is coarser than RCU's (one token for all readers), so it
 * can hide a free that comes too early; the stress tests under ASan are
 * the check for that.  Outside TSan builds everything here is empty.
 */
#ifndef TAPSWITCH_RCU_TSAN_H
#define TAPSWITCH_RCU_TSAN_H

#include <urcu-qsbr.h>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>

extern char rcu_tsan_token;
#define rcu_tsan_publish(obj)	__tsan_release((void *)(obj))
#define rcu_tsan_consume(obj)	__tsan_acquire((void *)(obj))
#define rcu_tsan_quiescent()	__tsan_release(&rcu_tsan_token)
#define rcu_tsan_reclaim()	__tsan_acquire(&rcu_tsan_token)
#else
#define rcu_tsan_publish(obj)	((void)(obj))
#define rcu_tsan_consume(obj)	((void)(obj))
#define rcu_tsan_quiescent()	((void)0)
#define rcu_tsan_reclaim()	((void)0)
#endif

/* A reader's quiescent state and offline period, annotated. */
static inline void rcu_quiescent(void)
{
	rcu_tsan_quiescent();
	rcu_quiescent_state();
}

static inline void rcu_offline(void)
{
	rcu_tsan_quiescent();
	rcu_thread_offline();
}

#endif /* TAPSWITCH_RCU_TSAN_H */
