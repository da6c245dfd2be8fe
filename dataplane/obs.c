/*
 * obs.c - the rings that carry what the data path shows its watchers.
 *
 * A record is its length (4 bytes) and then its bytes, written with
 * wrap-around: positions are byte counters taken modulo the size.
 */
#include "dataplane/obs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int dp_ring_init(struct dp_ring *r, size_t size)
{
	memset(r, 0, sizeof(*r));
	if (!size || (size & (size - 1)))
		return -EINVAL;
	r->buf = malloc(size);
	if (!r->buf)
		return -ENOMEM;
	r->size = size;
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

void dp_ring_destroy(struct dp_ring *r)
{
	if (!r->buf)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->buf);
	r->buf = NULL;
}

/* Copy @len bytes in at position @pos, wrapping. */
static void ring_write(struct dp_ring *r, uint64_t pos, const void *src,
		       size_t len)
{
	size_t off = pos & (r->size - 1), first = r->size - off;

	if (first > len)
		first = len;
	memcpy(r->buf + off, src, first);
	memcpy(r->buf, (const uint8_t *)src + first, len - first);
}

static void ring_read(const struct dp_ring *r, uint64_t pos, void *dst,
		      size_t len)
{
	size_t off = pos & (r->size - 1), first = r->size - off;

	if (first > len)
		first = len;
	memcpy(dst, r->buf + off, first);
	memcpy((uint8_t *)dst + first, r->buf, len - first);
}

bool dp_ring_put(struct dp_ring *r, const void *hdr, uint32_t hdr_len,
		 uint32_t stamp_at, const struct iovec *iov, int iovcnt,
		 uint32_t max_data)
{
	uint32_t data_len = 0, rec_len;
	uint64_t pos;

	for (int i = 0; i < iovcnt; i++)
		data_len += iov[i].iov_len;
	if (data_len > max_data)
		data_len = max_data;
	rec_len = hdr_len + data_len;

	pthread_mutex_lock(&r->lock);
	if (r->size - (r->head - r->tail) < sizeof(rec_len) + rec_len) {
		pthread_mutex_unlock(&r->lock);
		__atomic_fetch_add(&r->n_refused, 1, __ATOMIC_RELAXED);
		return false;
	}
	pos = r->head;
	ring_write(r, pos, &rec_len, sizeof(rec_len));
	pos += sizeof(rec_len);
	ring_write(r, pos, hdr, hdr_len);
	if (stamp_at + sizeof(uint64_t) <= hdr_len) {
		struct timespec ts;
		uint64_t ns;

		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		ring_write(r, pos + stamp_at, &ns, sizeof(ns));
	}
	pos += hdr_len;
	for (int i = 0; i < iovcnt && data_len; i++) {
		size_t n = iov[i].iov_len < data_len ? iov[i].iov_len :
						       data_len;

		ring_write(r, pos, iov[i].iov_base, n);
		pos += n;
		data_len -= n;
	}
	r->head = pos;
	pthread_mutex_unlock(&r->lock);
	return true;
}

uint32_t dp_ring_get(struct dp_ring *r, void *out, uint32_t size)
{
	uint32_t rec_len;

	pthread_mutex_lock(&r->lock);
	if (r->head == r->tail) {
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	ring_read(r, r->tail, &rec_len, sizeof(rec_len));
	if (rec_len <= size)
		ring_read(r, r->tail + sizeof(rec_len), out, rec_len);
	/* One too big for @out (the consumer's mistake) is skipped. */
	r->tail += sizeof(rec_len) + rec_len;
	pthread_mutex_unlock(&r->lock);
	return rec_len <= size ? rec_len : 0;
}
