/*
 * ctl_server.c - the control socket: read a request, find its command and
 * lex its words (lib/grammar.h), then run the command's handler (ctl.h)
 * under sw->lock and answer with data (lib/ctl_wire.h).
 *
 * One request per connection, served one at a time by one thread.  A
 * request is fully checked before anything changes or is printed: the
 * words by the lexer, before the lock is taken; what needs the switch's
 * state by the operation the handler calls.  An error is one line,
 * "Error: argument "X" is wrong: why", and the records printed before it
 * are thrown away.
 */
#include "switch/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "lib/ctl_wire.h"
#include "lib/io.h"
#include "lib/rcu.h"

struct sw_ctl {
	struct sw *sw;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int stop_fd;
	pthread_t thread;
};

/* ---- what the handlers share ---- */

int ctl_err(struct ctl_req *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return err;
}

int ctl_invarg(struct ctl_req *r, const char *word, const char *why)
{
	return ctl_err(r, -EINVAL, "Error: argument \"%s\" is wrong: %s", word,
		       why);
}

int ctl_op_err(struct ctl_req *r, int err, const struct sw_why *why)
{
	snprintf(r->error, sizeof(r->error), "%s", why->msg);
	return err;
}

int ctl_lookup_port(struct ctl_req *r, const char *name, uint32_t *index)
{
	struct sw_why why = { "" };
	int err = sw_port_find(r->sw, name, index, &why);

	return err ? ctl_op_err(r, err, &why) : 0;
}

/* ---- dispatch ---- */

/* The handler of each command of the grammar, by its id. */
static ctl_handler_func *const ctl_handlers[] = {
	[GR_CMD_PORT_SHOW] = ctl_port_show,
	[GR_CMD_PORT_ADD] = ctl_port_add,
	[GR_CMD_PORT_DEL] = ctl_port_del,
	[GR_CMD_PORT_SET] = ctl_port_set,
	[GR_CMD_FDB_SHOW] = ctl_fdb_show,
	[GR_CMD_FDB_ADD] = ctl_fdb_add,
	[GR_CMD_FDB_REPLACE] = ctl_fdb_replace,
	[GR_CMD_FDB_DEL] = ctl_fdb_del,
	[GR_CMD_FDB_FLUSH] = ctl_fdb_flush,
	[GR_CMD_VLAN_SHOW] = ctl_vlan_show,
	[GR_CMD_VLAN_ADD] = ctl_vlan_add,
	[GR_CMD_VLAN_DEL] = ctl_vlan_del,
	[GR_CMD_SHOW] = ctl_show,
	[GR_CMD_SET] = ctl_set,
	[GR_CMD_CAPTURE_SHOW] = ctl_capture_show,
	[GR_CMD_CAPTURE_START] = ctl_capture_start,
	[GR_CMD_CAPTURE_STOP] = ctl_capture_stop,
	[GR_CMD_TRACE] = ctl_trace,
	[GR_CMD_EXPLAIN] = ctl_explain,
	[GR_CMD_DUMP] = ctl_dump,
	[GR_CMD_MONITOR] = ctl_monitor,
};

/* A command added to the grammar after the last one listed here fails
 * the build; one missing in between, ctl_handlers_complete() at start. */
_Static_assert(sizeof(ctl_handlers) / sizeof(ctl_handlers[0]) == GR_N_CMDS,
	       "a command of lib/grammar.h has no handler");

static bool ctl_handlers_complete(void)
{
	for (unsigned int id = 0; id < GR_N_CMDS; id++) {
		if (!ctl_handlers[id]) {
			sw_log(LOG_ERR, "control: command %u has no handler",
			       id);
			return false;
		}
	}
	return true;
}

/*
 * Find the command of @argv and lex its arguments into @a: no state is
 * needed, so the caller does it before taking sw->lock.  Returns the
 * command, or NULL with r->error set.
 */
static const struct gr_cmd *ctl_parse(struct ctl_req *r, int argc,
				      char *const argv[], struct gr_args *a)
{
	const struct gr_cmd *cmd;
	int first;

	cmd = gr_find_cmd(argc, argv, &first, r->error, sizeof(r->error));
	if (!cmd)
		return NULL;
	if (gr_lex(cmd, argc - first, argv + first, a, r->error,
		   sizeof(r->error)))
		return NULL;
	return cmd;
}

/* ---- the socket ---- */

/*
 * Wait until the whole request is in the socket buffer, for at most
 * CTL_REQUEST_MS in all: a client that trickles bytes must not hold the
 * one control thread.  Returns 0 when it is there (or the peer closed).
 */
#define CTL_REQUEST_MS 2000
static int wait_request(int fd)
{
	uint64_t deadline = dp_now_ms() + CTL_REQUEST_MS;
	char peek[CTL_MAX_REQUEST];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = dp_now_ms();
		ssize_t n;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, deadline - now) <= 0)
			continue;
		n = recv(fd, peek, sizeof(peek) - 1, MSG_PEEK | MSG_DONTWAIT);
		if (n <= 0)
			return 0;	/* closed or failed: recv will say */
		peek[n] = '\0';
		if (peek[0] == '\n' || memmem(peek, n, "\n\n", 2) ||
		    n == sizeof(peek) - 1)
			return 0;
		/* Not all there yet: wait for more without spinning. */
		usleep(1000);
	}
}

/* Serve one connection.  Returns false when a stream session took @fd. */
static bool serve_one(struct sw_ctl *ctl, int fd)
{
	char buf[CTL_MAX_REQUEST], *argv[CTL_MAX_WORDS];
	struct timeval tv = { .tv_sec = 2 };
	struct ctl_req r = { .sw = ctl->sw, .fd = fd };
	const struct gr_cmd *cmd;
	struct gr_args args;
	char *text = NULL;
	size_t len = 0;
	int argc, status;
	FILE *out;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (wait_request(fd)) {
		sw_log(LOG_WARNING, "control: request not complete in %d ms",
		       CTL_REQUEST_MS);
		return true;
	}
	argc = ctl_request_recv(fd, buf, sizeof(buf), argv, CTL_MAX_WORDS);
	if (argc < 0) {
		sw_log(LOG_WARNING, "control: bad request: %s",
		       strerror(-argc));
		return true;
	}
	out = open_memstream(&text, &len);
	if (!out)
		return true;
	r.out = out;

	cmd = ctl_parse(&r, argc, argv, &args);
	if (cmd) {
		sw_lock(ctl->sw);
		status = ctl_handlers[cmd->id](&r, &args);
		sw_unlock(ctl->sw);
	} else {
		status = -EINVAL;
	}
	if (!status && r.handed_off) {
		/* The stream's session answers from now on. */
		fclose(out);
		free(text);
		return false;
	}

	if (status) {
		/* No partial output: an error discards any records. */
		fclose(out);
		free(text);
		text = NULL;
		out = open_memstream(&text, &len);
		if (!out)
			return true;
		if (!r.error[0])
			snprintf(r.error, sizeof(r.error), "Error: %s",
				 strerror(-status));
	}
	ctl_put_status(out, status, status ? r.error : NULL);
	if (fclose(out) == 0)
		io_write_all(fd, text, len);
	free(text);
	return true;
}

static void *sw_ctl_thread(void *arg)
{
	struct sw_ctl *ctl = arg;
	struct pollfd pfd[2] = {
		{ .fd = ctl->listen_fd, .events = POLLIN },
		{ .fd = ctl->stop_fd, .events = POLLIN },
	};

	rcu_register_thread();
	rcu_offline();
	for (;;) {
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (serve_one(ctl, fd))
			close(fd);
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

/* Make the directory of the default socket path. */
static void make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (!strcmp(dir, "/run/tapswitch"))
		mkdir(dir, 0700);
}

static int ctl_listen(const char *path, int *errp)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*errp = -ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	make_parent_dir(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* A socket left by a daemon that died is stale: replace it; a live
	 * one means another tapswitch owns the path. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		*errp = -EADDRINUSE;
		return -1;
	}
	/* Only ever remove a socket: --ctl must not eat a file. */
	if (errno == ECONNREFUSED) {
		struct stat st;

		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			close(fd);
			*errp = -EEXIST;
			return -1;
		}
		unlink(path);
	}
	old_mask = umask(0177);		/* the socket is born 0600 */
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (err < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0)
		goto fail_close;
	return fd;

fail_close:
	*errp = -errno;
	close(fd);
	return -1;
fail:
	*errp = -errno;
	return -1;
}

struct sw_ctl *sw_ctl_start(struct sw *sw, const char *path, int *err)
{
	struct sw_ctl *ctl;

	if (!ctl_handlers_complete()) {
		*err = -ENOSYS;
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		*err = -ENOMEM;
		return NULL;
	}
	ctl->sw = sw;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->listen_fd = ctl_listen(path, err);
	if (ctl->listen_fd < 0)
		goto out_free;
	ctl->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (ctl->stop_fd < 0) {
		*err = -errno;
		goto out_close_listen;
	}
	*err = -pthread_create(&ctl->thread, NULL, sw_ctl_thread, ctl);
	if (*err)
		goto out_close_stop;
	return ctl;

out_close_stop:
	close(ctl->stop_fd);
out_close_listen:
	close(ctl->listen_fd);
	unlink(ctl->path);
out_free:
	free(ctl);
	return NULL;
}

/* Main thread, offline. */
void sw_ctl_stop(struct sw_ctl *ctl)
{
	uint64_t one = 1;

	if (!ctl)
		return;
	if (write(ctl->stop_fd, &one, sizeof(one)) < 0)
		sw_log(LOG_ERR, "control: cannot signal stop: %m");
	pthread_join(ctl->thread, NULL);
	close(ctl->stop_fd);
	close(ctl->listen_fd);
	unlink(ctl->path);
	free(ctl);
}
