/*
 * fuzz_common.h - what the libFuzzer harnesses (fuzz/fuzz_*.c) share: a
 * failed invariant, reading an input a field at a time, and a checksum
 * written plainly here so that a harness never checks the code it fuzzes
 * with that same code.  Everything is static inline: a harness that does
 * not use a helper gets no warning for it.
 *
 * Thread safety: none; each harness runs one input at a time.
 */
#ifndef TAPSWITCH_FUZZ_COMMON_H
#define TAPSWITCH_FUZZ_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/common_interface_defs.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * An invariant did not hold: say which, then abort(), which libFuzzer
 * reports as a crash and saves the input for (fuzz/run.sh greps the
 * "FUZZ INVARIANT" line).  Said twice: on stderr, and as the sanitizers'
 * error summary, which still shows when the run closed stderr
 * (-close_fd_mask=2, against the daemon's log lines).
 */
static inline void __attribute__((noreturn, format(printf, 4, 5)))
fuzz_fail_at(const char *func, int line, const char *cond,
	     const char *fmt, ...)
{
	char msg[1024];
	size_t n;
	va_list ap;

	n = (size_t)snprintf(msg, sizeof(msg), "FUZZ INVARIANT %s:%d: ", func,
			     line);
	va_start(ap, fmt);
	if (n < sizeof(msg))
		n += (size_t)vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	if (cond && n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, " [%s]", cond);
	fprintf(stderr, "%s\n", msg);
	__sanitizer_report_error_summary(msg);
	abort();
}

#define fuzz_fail(...) fuzz_fail_at(__func__, __LINE__, NULL, __VA_ARGS__)
#define fuzz_assert(cond, ...)						\
	do {								\
		if (!(cond))						\
			fuzz_fail_at(__func__, __LINE__, #cond,		\
				     __VA_ARGS__);			\
	} while (0)

/* The input, read from the front; past its end every read gives 0. */
struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t fz_u16(struct fz *in)
{
	uint16_t hi = fz_u8(in);

	return (uint16_t)(hi << 8 | fz_u8(in));
}

/* Up to @want bytes at the front (fewer when the input ends): returns
 * how many, and *@out points at them. */
static inline size_t fz_take(struct fz *in, size_t want, const uint8_t **out)
{
	size_t n = want < in->n ? want : in->n;

	*out = in->p;
	in->p += n;
	in->n -= n;
	return n;
}

static inline uint16_t fz_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * RFC 1071 the plain way, a byte at a time: the ones' complement sum of
 * @len bytes at @p (big-endian words, an odd last byte padded with a
 * zero) added to @start, folded to 16 bits, not complemented.  A
 * checksummed region verifies when the sum is 0xffff.
 */
static inline uint16_t fuzz_ref_sum(const uint8_t *p, size_t len,
				    uint32_t start)
{
	uint32_t sum = start;

	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	for (size_t i = 0; i < len; i++) {
		sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
		if (sum > 0xffff)
			sum = (sum & 0xffff) + 1;
	}
	return (uint16_t)sum;
}

#endif /* TAPSWITCH_FUZZ_COMMON_H */
