/*
 * atomic.h - the relaxed atomics counters and hot fields use.
 *
 * Counters and the hot fields of shared objects are read and written by
 * several threads without a lock.  Relaxed atomics are enough: nobody
 * orders other memory by them.  On liburcu 0.13.2 use these, not
 * uatomic_set(): that is a volatile store TSan reports as a race.
 *
 * Thread safety: any thread.
 */
#ifndef TAPSWITCH_LIB_ATOMIC_H
#define TAPSWITCH_LIB_ATOMIC_H

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))
/* A counter only its owner thread writes: no locked instruction needed. */
#define OWN_ADD(p, v) STORE((p), LOAD(p) + (v))

#endif /* TAPSWITCH_LIB_ATOMIC_H */
