/*
 * sw.h - the tapswitch daemon: one switch instance and its threads.
 *
 * Design
 * ------
 * struct sw wires the parts: the forwarding table (fdb/), the data plane
 * (dataplane/), the control server (ctl_*.c), the link monitor (link.c)
 * and the ageing thread (sw.c).  Every configuration change - from a
 * control request, a link event, or start-up options - is an operation
 * (ops.h) and runs under sw->lock, so the data plane's control functions
 * see one caller at a time.  Forwarding never takes that lock.
 *
 * Thread safety
 * -------------
 * Every thread here registers with liburcu (QSBR) and stays offline
 * except while it works under sw->lock, where it goes online: a thread
 * blocked in poll() or accept() must never hold up a grace period.
 * Functions named sw_*_locked, and the operations, expect sw->lock held
 * and the thread online; sw_assert_locked() checks the first in debug and
 * sanitizer builds.
 */
#ifndef TAPSWITCH_SW_H
#define TAPSWITCH_SW_H

#include <pthread.h>
#include <sys/types.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <syslog.h>

#include "dataplane/dp.h"
#include "fdb/fdb.h"
#include "lib/rcu.h"

#define SW_VERSION "0.1.0"
#define SW_DEFAULT_AGEING_S 300
#define SW_DEFAULT_MAX_LEARNED 65536
#define SW_MAX_AGEING_S 1000000
#define SW_DEFAULT_MAX_WATCHERS 16
#define SW_MAX_WATCHERS 1024

struct sw_link;
struct sw_obs;

struct sw {
	pthread_mutex_t lock;		/* all configuration changes */
	/* The thread holding @lock, for sw_assert_locked(): written with
	 * relaxed atomics by the holder only, and only in builds with
	 * TS_CHECK_CONTEXT (0 otherwise, and while nobody holds it). */
	uintptr_t lock_owner;
	struct fdb *fdb;
	struct dp *dp;
	struct sw_link *link;
	/* Relaxed atomics, written under the lock: the ager and the lock-free
	 * shows (ctl_server.c) read them without it. */
	uint32_t ageing_s;
	/* The kind of a port added without one; NULL: the device says
	 * (port_kind_for()).  The unit tests and fuzzers make it "mem", so
	 * that no device is created. */
	const char *port_kind;
	/* Captures, traces, dumps and monitors that may run at once (a
	 * relaxed atomic, as ageing_s). */
	uint32_t max_watchers;

	pthread_t ager;
	int ager_stop_fd;
	bool ager_running;

	struct sw_obs *obs;		/* observe.c */
};

/*
 * Take sw->lock: offline while waiting for it (a thread that holds it may
 * be in synchronize_rcu()), online once it is held.  sw_unlock() drops it
 * and leaves the thread offline.
 */
void sw_lock(struct sw *sw);
void sw_unlock(struct sw *sw);

/*
 * The calling thread holds sw->lock: a context check, as
 * rcu_assert_reader() (lib/rcu.h).  In debug and sanitizer builds a failed
 * check names the function and aborts; elsewhere it is nothing.
 */
#ifdef TS_CHECK_CONTEXT
bool sw_lock_held(const struct sw *sw);
#define sw_assert_locked(sw)						\
	TS_ASSERT_CONTEXT(sw_lock_held(sw), "caller must hold sw->lock")
#else
#define sw_assert_locked(sw) ((void)(sw))
#endif

/* Start-up, main thread.  0 or -errno.  Ports and settings come
 * afterwards, through the operations (ops.h). */
int sw_init(struct sw *sw, uint32_t max_learned);
int sw_start_ager(struct sw *sw);
/* Main thread, registered and offline; the control server and the link
 * thread are stopped.  Removes every port. */
void sw_fini(struct sw *sw);

/* Logging to stderr; "%s: ..." with the object's name first. */
void sw_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Main thread: from now on, sw_log() only queues (a thread of the log
 * writes), so that a stderr nobody reads holds up no thread; stop
 * writes out what is queued and ends it.  0 or -errno. */
int sw_log_start(void);
void sw_log_stop(void);
/* As sw_log, at most @burst messages per second per call site. */
#define sw_log_ratelimited(level, ...)                                   \
	do {                                                             \
		static uint64_t sw_rl_sec_, sw_rl_n_;                    \
		if (sw_log_allow(&sw_rl_sec_, &sw_rl_n_))                \
			sw_log(level, __VA_ARGS__);                      \
	} while (0)
bool sw_log_allow(uint64_t *sec, uint64_t *n);

/* link.c: the link monitor thread. */
int sw_link_start(struct sw *sw);
/* Main thread, offline: stop the link thread.  sw_link_free() after the
 * data plane is gone (poll threads may still kick it until then). */
void sw_link_stop(struct sw *sw);
void sw_link_free(struct sw *sw);
/* Any thread: ask the link monitor to look at every port now. */
void sw_link_kick(struct sw *sw);
/* Under sw->lock, online: read port @index's device state now (after a
 * port add: the device may not be up after all). */
void sw_link_check_locked(struct sw *sw, uint32_t index);
/* Under sw->lock: wait until the monitor is not asking any port's kind
 * about its device (it does that without the lock); a port may be
 * closed then.  Bounded by the kernel's answer, not by sw->lock. */
void sw_link_wait_idle(struct sw *sw);

/* observe.c: captures, traces, dumps, the event monitor. */
enum sw_obs_kind {
	SW_OBS_CAPTURE,
	SW_OBS_TRACE,
	SW_OBS_DUMP,
	SW_OBS_MONITOR,
};

/* What a watcher wants. */
struct sw_obs_filter {
	uint32_t port;			/* an index, or DP_OBS_ANY_PORT */
	char ifname[IFNAMSIZ];		/* its name, or "all" */
	uint16_t vid;			/* 0: any */
	uint8_t dirs;			/* DP_DIR_RX | DP_DIR_TX */
	uint32_t snaplen;
	uint64_t count;			/* 0: until stopped */
	bool fdb, port_events;		/* monitor */
};

/* A capture, as `capture show` reports it. */
struct sw_capture_info {
	unsigned int id;
	char ifname[IFNAMSIZ];
	uint8_t dirs;
	uint16_t vid;
	char file[4096];
	uint32_t snaplen;
	uint64_t count;
	int state;			/* 0 running, 1 done, 2 stopped, 3 error */
	uint64_t frames, bytes, dropped;
};

struct sw_session;
int sw_obs_init(struct sw *sw);
/* Under sw->lock, online: end every session (streams get their status). */
void sw_obs_fini_locked(struct sw *sw);
/* Any thread but the control one, offline: forget finished sessions. */
void sw_obs_reap(struct sw *sw);
void sw_obs_reap_locked(struct sw *sw);
/* Under sw->lock.  Start a capture into @fd, the file @path opened for
 * writing, non-blocking, by the caller (before it took the lock): on
 * success the capture owns @fd.  0 and *id, or -errno and *why (-EBUSY:
 * max_watchers are running). */
int sw_capture_start_locked(struct sw *sw, const struct sw_obs_filter *f,
			    const char *path, int fd, unsigned int *id,
			    const char **why);
/* Under sw->lock.  Stop the captures of @port (DP_OBS_ANY_PORT: any) or
 * number @id (0: any): flush and close them, report each through @cb,
 * and forget them.  0, or -ENOENT when none matched. */
int sw_capture_stop_locked(struct sw *sw, uint32_t port, unsigned int id,
			   void (*cb)(const struct sw_capture_info *, void *),
			   void *arg);
void sw_capture_list_locked(struct sw *sw,
			    void (*cb)(const struct sw_capture_info *, void *),
			    void *arg);
void sw_capture_info_of(const struct sw_session *s,
			struct sw_capture_info *info);
/* Under sw->lock.  Hand the client's socket @fd to a new stream of
 * @kind: on success the session owns it. */
int sw_stream_start_locked(struct sw *sw, enum sw_obs_kind kind,
			   const struct sw_obs_filter *f, int fd);
/* Under sw->lock, online: port @index is going; the watchers of it end
 * (streams with an error, captures stopped). */
void sw_obs_port_removed_locked(struct sw *sw, uint32_t index);
/* Under sw->lock, online: a port event for the monitor. */
void sw_obs_port_event(struct sw *sw, enum dp_event_kind kind,
		       uint32_t index, const char *ifname);
/* Online: a trace as a wire record (stream and explain share it). */
void sw_obs_put_trace(struct sw *sw, FILE *out, uint32_t port,
		      const struct dp_trace *tr, uint64_t ts_ns);

/* ctl_server.c: the control socket (its handlers: ctl.h). */
struct sw_ctl;
/* Listen on @path, 0600 - or 0660 and owned by group @gid unless it is
 * (gid_t)-1 - and serve it.  NULL and *err on error. */
struct sw_ctl *sw_ctl_start(struct sw *sw, const char *path, gid_t gid,
			    int *err);
void sw_ctl_stop(struct sw_ctl *ctl);

#endif /* TAPSWITCH_SW_H */
