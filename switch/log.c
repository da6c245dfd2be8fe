/*
 * log.c - the daemon's log: stderr, one line per message, with the time.
 *
 * Once sw_log_start() has run, a message is only copied into a buffer,
 * and a thread of its own writes the buffer out: stderr may be a pipe
 * nobody reads, and a thread that logs while it holds the switch's lock
 * (or a poll thread) must not wait for it.  What does not fit in the
 * buffer is lost and counted, and the count is said when there is room.
 * Before sw_log_start() (the unit tests), lines go straight to stderr.
 */
#include "switch/sw.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUF_SIZE (64 * 1024)

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stopping;
	size_t len;
	uint64_t lost;
	char buf[LOG_BUF_SIZE];
	char out[LOG_BUF_SIZE];		/* the writer's copy */
} lg = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* How long a stopping log waits for its reader to take what is left. */
#define LOG_STOP_WAIT_MS 1000

static bool log_stopping(void)
{
	return __atomic_load_n(&lg.stopping, __ATOMIC_ACQUIRE);
}

/*
 * Write @len bytes of @buf to stderr, a piece at a time and only when
 * poll() says there is room (a piece of at most PIPE_BUF bytes then goes
 * without blocking on a pipe), so that a stop is heard; once stopping,
 * give the reader LOG_STOP_WAIT_MS, then drop the rest.
 */
static bool log_write(const char *buf, size_t len)
{
	struct timespec stop_at = { 0 };

	while (len) {
		struct pollfd pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
		ssize_t n;

		if (log_stopping()) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (!stop_at.tv_sec) {
				stop_at = now;
				stop_at.tv_sec += LOG_STOP_WAIT_MS / 1000;
			} else if (now.tv_sec > stop_at.tv_sec ||
				   (now.tv_sec == stop_at.tv_sec &&
				    now.tv_nsec >= stop_at.tv_nsec)) {
				return false;
			}
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (pfd.revents & (POLLERR | POLLNVAL))
			return false;	/* nobody to write to */
		n = write(STDERR_FILENO, buf, len < PIPE_BUF ? len : PIPE_BUF);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= n;
	}
	return true;
}

static void *log_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lg.lock);
	for (;;) {
		size_t len;

		while (!lg.len && !lg.lost && !lg.stopping)
			pthread_cond_wait(&lg.cond, &lg.lock);
		if (!lg.len && !lg.lost)
			break;		/* stopping, and all written */
		len = lg.len;
		memcpy(lg.out, lg.buf, len);
		lg.len = 0;
		if (lg.lost && len + 64 <= sizeof(lg.out)) {
			len += snprintf(lg.out + len, 64,
					"tapswitch: %llu log lines lost\n",
					(unsigned long long)lg.lost);
			lg.lost = 0;
		}
		pthread_mutex_unlock(&lg.lock);
		/* Here, and only here, the log waits for its reader: when
		 * stopping, not for long. */
		if (!log_write(lg.out, len) && log_stopping()) {
			pthread_mutex_lock(&lg.lock);
			break;
		}
		pthread_mutex_lock(&lg.lock);
	}
	pthread_mutex_unlock(&lg.lock);
	return NULL;
}

int sw_log_start(void)
{
	int err;

	pthread_mutex_lock(&lg.lock);
	lg.stopping = false;
	err = -pthread_create(&lg.thread, NULL, log_thread, NULL);
	lg.running = !err;
	pthread_mutex_unlock(&lg.lock);
	return err;
}

void sw_log_stop(void)
{
	pthread_mutex_lock(&lg.lock);
	if (!lg.running) {
		pthread_mutex_unlock(&lg.lock);
		return;
	}
	__atomic_store_n(&lg.stopping, true, __ATOMIC_RELEASE);
	pthread_cond_signal(&lg.cond);
	pthread_mutex_unlock(&lg.lock);
	pthread_join(lg.thread, NULL);
	pthread_mutex_lock(&lg.lock);
	lg.running = false;
	pthread_mutex_unlock(&lg.lock);
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void sw_log(int level, const char *fmt, ...)
{
	char line[512];
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&lg.lock);
	if (lg.running) {
		int n = snprintf(lg.buf + lg.len, sizeof(lg.buf) - lg.len,
				 "tapswitch[%lld.%03ld] %s: %s\n",
				 (long long)ts.tv_sec, ts.tv_nsec / 1000000,
				 level_name(level), line);

		if (n > 0 && (size_t)n < sizeof(lg.buf) - lg.len)
			lg.len += n;
		else
			lg.lost++;	/* what was written past len: not ours */
		pthread_cond_signal(&lg.cond);
		pthread_mutex_unlock(&lg.lock);
		return;
	}
	pthread_mutex_unlock(&lg.lock);
	/* One fprintf per line keeps lines whole between threads. */
	fprintf(stderr, "tapswitch[%lld.%03ld] %s: %s\n", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000, level_name(level), line);
}

bool sw_log_allow(uint64_t *sec, uint64_t *n)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec;
	if (__atomic_exchange_n(sec, now, __ATOMIC_RELAXED) != now) {
		__atomic_store_n(n, 1, __ATOMIC_RELAXED);
		return true;
	}
	return __atomic_add_fetch(n, 1, __ATOMIC_RELAXED) <= 10;
}
