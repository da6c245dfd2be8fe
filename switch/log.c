/*
 * log.c - the daemon's log: stderr, one line per message, with the time.
 */
#include "switch/sw.h"

#include <stdio.h>
#include <time.h>

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
