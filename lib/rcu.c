/*
 * rcu.c - the state behind lib/rcu.h's annotations and checks.
 */
#include "lib/rcu.h"

#include <stdio.h>
#include <stdlib.h>

#if defined(__SANITIZE_THREAD__)
char rcu_tsan_token;
#endif

#ifdef TS_CHECK_CONTEXT
__thread unsigned int rcu_ctx_depth;

void ts_context_fail(const char *func, const char *what)
{
	fprintf(stderr, "tapswitch: context check failed in %s(): %s\n",
		func, what);
	abort();
}
#endif
