/*
 * rcu.h - liburcu (QSBR flavour) as tapswitch uses it: what ThreadSanitizer
 * must be told, publication and consumption of snapshots, and checks of the
 * calling context.
 *
 * TSan annotations
 * ----------------
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
 * the check for that.  Outside TSan builds these are empty.
 *
 * Checked contexts
 * ----------------
 * In QSBR rcu_read_lock() costs nothing and records nothing, so a
 * function documented "caller holds rcu_read_lock()" cannot ask liburcu
 * whether it does.  Our read-side sections go through rcu_read_begin() and
 * rcu_read_end(), which in debug and sanitizer builds (TS_DEBUG, or any
 * -fsanitize) count the nesting per thread; rcu_assert_reader() and
 * rcu_assert_not_reader() then check it, as the kernel's
 * WARN_ON_ONCE(!rcu_read_lock_held()).  A failed check prints the function
 * and aborts.  In other builds they compile to nothing.
 *
 * Thread safety: every function here acts on the calling thread.
 */
#ifndef TAPSWITCH_LIB_RCU_H
#define TAPSWITCH_LIB_RCU_H

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

#if defined(TS_DEBUG) || defined(__SANITIZE_THREAD__) || \
	defined(__SANITIZE_ADDRESS__)
#define TS_CHECK_CONTEXT 1
#endif

#ifdef TS_CHECK_CONTEXT
/* Read-side sections this thread is in. */
extern __thread unsigned int rcu_ctx_depth;
/* Print "@func: @what" and abort. */
void ts_context_fail(const char *func, const char *what)
	__attribute__((noreturn));
#define TS_ASSERT_CONTEXT(cond, what)					\
	do {								\
		if (!(cond))						\
			ts_context_fail(__func__, (what));		\
	} while (0)
#else
#define TS_ASSERT_CONTEXT(cond, what) ((void)0)
#endif

/* rcu_read_lock()/rcu_read_unlock(), seen by the context checks. */
static inline void rcu_read_begin(void)
{
	rcu_read_lock();
#ifdef TS_CHECK_CONTEXT
	/* QSBR: an offline thread's section protects nothing. */
	TS_ASSERT_CONTEXT(rcu_read_ongoing(),
			  "rcu_read_begin() on an offline thread");
	rcu_ctx_depth++;
#endif
}

static inline void rcu_read_end(void)
{
#ifdef TS_CHECK_CONTEXT
	TS_ASSERT_CONTEXT(rcu_ctx_depth, "rcu_read_end() outside a section");
	rcu_ctx_depth--;
#endif
	rcu_read_unlock();
}

/* The caller holds rcu_read_lock() (rcu_read_begin()). */
#define rcu_assert_reader()						\
	TS_ASSERT_CONTEXT(rcu_ctx_depth && rcu_read_ongoing(),		\
			  "caller must hold rcu_read_lock()")
/* The caller is online and outside any read-side section (it may wait for
 * a grace period, or take a section of its own). */
#define rcu_assert_not_reader()						\
	TS_ASSERT_CONTEXT(!rcu_ctx_depth && rcu_read_ongoing(),		\
			  "caller must be online, outside rcu_read_lock()")

/* A reader's quiescent state and offline period, annotated. */
static inline void rcu_quiescent(void)
{
	TS_ASSERT_CONTEXT(!rcu_ctx_depth, "quiescent inside rcu_read_lock()");
	rcu_tsan_quiescent();
	rcu_quiescent_state();
}

static inline void rcu_offline(void)
{
	TS_ASSERT_CONTEXT(!rcu_ctx_depth, "offline inside rcu_read_lock()");
	rcu_tsan_quiescent();
	rcu_thread_offline();
}

/*
 * rcu_assign_pointer() and rcu_dereference(), spelled as the C11 release
 * store and acquire load they are, so that ThreadSanitizer sees them
 * (liburcu 0.13's are volatile accesses behind fences TSan does not
 * understand).
 */
#define rcu_publish(pp, v)	__atomic_store_n((pp), (v), __ATOMIC_RELEASE)
#define rcu_consume(pp)		__atomic_load_n((pp), __ATOMIC_ACQUIRE)

/* synchronize_rcu(), annotated: the caller is online, outside any
 * read-side section, and may free what readers could see before. */
static inline void rcu_sync(void)
{
	rcu_assert_not_reader();
	rcu_tsan_quiescent();
	synchronize_rcu();
	rcu_tsan_reclaim();
}

#endif /* TAPSWITCH_LIB_RCU_H */
