/*
 * port_mem.c - the memory kind: what is sent to it is queued for a test or
 * a benchmark to read.  It has no poll thread and no device; frames are
 * injected with dp_input(), and its link is as the control side sets it.
 * `port add NAME` through the operations layer with kind "mem" makes one
 * (that is how the operations are unit-tested without root); tests that
 * need one with offloads use dp_mem_port_create_offload().
 */
#include "dataplane/dp.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct mem_frame {
	struct mem_frame *next;
	struct virtio_net_hdr vnet;
	uint32_t len;
	uint8_t data[];
};

struct mem_port {
	struct dp_port up;
	pthread_mutex_t lock;		/* tx comes from any poll thread */
	struct mem_frame *head, **tail;
	unsigned int n_queued;
	int fail_err;
};

static struct mem_port *mem_port(struct dp_port *port)
{
	return (struct mem_port *)port;
}

static int mem_rx_burst(struct dp_port *port, struct dp_io *io,
			struct dp_frame *frames, unsigned int n)
{
	(void)port;
	(void)io;
	(void)frames;
	(void)n;
	return 0;
}

static int mem_tx(struct dp_port *port, const struct dp_tx *tx)
{
	struct mem_port *mp = mem_port(port);
	uint32_t off = 0, len = tx->len;
	struct mem_frame *f;
	int err;

	pthread_mutex_lock(&mp->lock);
	err = mp->fail_err;
	pthread_mutex_unlock(&mp->lock);
	if (err)
		return -err;
	f = malloc(sizeof(*f) + len);
	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->len = len;
	/* A port without offloads gets none: the pipeline saw to that. */
	f->vnet = tx->vnet;
	for (int i = 1; i < tx->iovcnt; i++) {
		memcpy(f->data + off, tx->iov[i].iov_base, tx->iov[i].iov_len);
		off += tx->iov[i].iov_len;
	}
	pthread_mutex_lock(&mp->lock);
	*mp->tail = f;
	mp->tail = &f->next;
	mp->n_queued++;
	pthread_mutex_unlock(&mp->lock);
	return 0;
}

static void mem_tx_burst(struct dp_port *port, struct dp_io *io,
			 struct dp_tx *const *txs, unsigned int n)
{
	(void)io;		/* always at once */
	for (unsigned int i = 0; i < n; i++)
		txs[i]->err = mem_tx(port, txs[i]);
}

static void mem_close(struct dp_port *port)
{
	struct mem_port *mp = mem_port(port);
	struct mem_frame *f, *next;

	for (f = mp->head; f; f = next) {
		next = f->next;
		free(f);
	}
	pthread_mutex_destroy(&mp->lock);
	free(mp);
}

struct dp_port *dp_mem_port_create_offload(const char *name,
					   uint32_t offload_caps)
{
	struct mem_port *mp = calloc(1, sizeof(*mp));

	if (!mp)
		return NULL;
	mp->up.ops = &port_mem_ops;
	mp->up.poll_fd = -1;
	mp->up.opened_as = "created";
	mp->up.offload_caps = offload_caps;
	strncpy(mp->up.name, name, sizeof(mp->up.name) - 1);
	pthread_mutex_init(&mp->lock, NULL);
	mp->tail = &mp->head;
	return &mp->up;
}

struct dp_port *dp_mem_port_create(const char *name)
{
	return dp_mem_port_create_offload(name, 0);
}

int dp_mem_port_pop(struct dp_port *port, uint8_t *buf, uint32_t size)
{
	struct virtio_net_hdr vnet;

	return dp_mem_port_pop_vnet(port, buf, size, &vnet);
}

int dp_mem_port_pop_vnet(struct dp_port *port, uint8_t *buf, uint32_t size,
			 struct virtio_net_hdr *vnet)
{
	struct mem_port *mp = mem_port(port);
	struct mem_frame *f;
	int len;

	pthread_mutex_lock(&mp->lock);
	f = mp->head;
	if (f) {
		mp->head = f->next;
		if (!mp->head)
			mp->tail = &mp->head;
		mp->n_queued--;
	}
	pthread_mutex_unlock(&mp->lock);
	if (!f)
		return -EAGAIN;
	len = f->len;
	*vnet = f->vnet;
	memcpy(buf, f->data, f->len < size ? f->len : size);
	free(f);
	return len;
}

unsigned int dp_mem_port_pending(struct dp_port *port)
{
	struct mem_port *mp = mem_port(port);
	unsigned int n;

	pthread_mutex_lock(&mp->lock);
	n = mp->n_queued;
	pthread_mutex_unlock(&mp->lock);
	return n;
}

void dp_mem_port_fail_tx(struct dp_port *port, int err)
{
	struct mem_port *mp = mem_port(port);

	pthread_mutex_lock(&mp->lock);
	mp->fail_err = err;
	pthread_mutex_unlock(&mp->lock);
}

static int mem_open(const char *name, struct dp_port **port, const char **why)
{
	*port = dp_mem_port_create(name);
	if (!*port) {
		*why = "out of memory";
		return -ENOMEM;
	}
	return 0;
}

const struct port_ops port_mem_ops = {
	.kind = "mem",
	.open = mem_open,
	.rx_burst = mem_rx_burst,
	.tx_burst = mem_tx_burst,
	.close = mem_close,
};
