/*
 * ctl_server.c - the control socket: read a request, find its command and
 * lex its words (lib/grammar.h), then run the command's handler (ctl.h)
 * under sw->lock and answer with data (lib/ctl_wire.h).
 *
 * One request per connection; one thread serves every connection from a
 * poll() loop (a slow client waits alone) and runs their requests one at
 * a time.  A request is fully checked before anything changes or is
 * printed: the
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

struct ctl_conn;

struct sw_ctl {
	struct sw *sw;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int stop_fd;
	pthread_t thread;
	struct ctl_conn *conns;		/* [CTL_MAX_CONNS] */
	gid_t gid;			/* --ctl-group; (gid_t)-1: none */
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

/* The prepare step of the commands that have one. */
static ctl_prepare_func *const ctl_preparers[GR_N_CMDS] = {
	[GR_CMD_CAPTURE_START] = ctl_capture_prepare,
	[GR_CMD_EXPLAIN] = ctl_explain_prepare,
};

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

/* ---- running a request ---- */

int ctl_run_as(struct sw *sw, int argc, char *argv[], int fd,
	       bool may_open_files, struct ctl_answer *ans)
{
	struct ctl_req r = {
		.sw = sw,
		.fd = fd,
		.file_fd = -1,
		.may_open_files = may_open_files,
	};
	const struct gr_cmd *cmd;
	struct gr_args args;
	int status;

	memset(ans, 0, sizeof(*ans));
	r.out = open_memstream(&ans->text, &ans->len);
	if (!r.out)
		return -ENOMEM;
	cmd = ctl_parse(&r, argc, argv, &args);
	status = cmd ? 0 : -EINVAL;
	/* Files first, unlocked (ctl.h, ctl_prepare_func). */
	if (!status && ctl_preparers[cmd->id])
		status = ctl_preparers[cmd->id](&r, &args);
	if (!status) {
		sw_lock(sw);
		status = ctl_handlers[cmd->id](&r, &args);
		sw_unlock(sw);
	}
	if (r.file_fd >= 0) {
		struct stat a, b;

		/* Refused after its file was made: no file left behind (if
		 * the name still is ours). */
		if (status && r.file_created && !fstat(r.file_fd, &a) &&
		    !lstat(r.file_created, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			unlink(r.file_created);
		close(r.file_fd);
	}
	free(r.file_data);
	if (!status && r.handed_off) {
		/* The stream's session answers from now on. */
		fclose(r.out);
		free(ans->text);
		ans->text = NULL;
		ans->len = 0;
		ans->handed_off = true;
		return 0;
	}
	if (status) {
		/* No partial output: an error discards any records. */
		fclose(r.out);
		free(ans->text);
		ans->text = NULL;
		r.out = open_memstream(&ans->text, &ans->len);
		if (!r.out)
			return -ENOMEM;
		if (!r.error[0])
			snprintf(r.error, sizeof(r.error), "Error: %s",
				 strerror(-status));
	}
	ctl_put_status(r.out, status, status ? r.error :
				      r.note[0] ? r.note : NULL);
	if (fclose(r.out)) {
		free(ans->text);
		ans->text = NULL;
		return -ENOMEM;
	}
	ans->status = status;
	return 0;
}

int ctl_run(struct sw *sw, int argc, char *argv[], int fd,
	    struct ctl_answer *ans)
{
	return ctl_run_as(sw, argc, argv, fd, true, ans);
}

/* ---- the socket ---- */

/*
 * The control thread serves every connection at once from one poll()
 * loop, so that a client that sends its request slowly, or never, or
 * reads its answer slowly, holds up nobody else: each connection's
 * request is gathered as it comes, without blocking, and run when its
 * empty line is in; its answer is written as the client takes it.  A
 * request must be complete within CTL_REQUEST_MS of the connection, an
 * answer taken within CTL_ANSWER_MS of being ready; past that the
 * connection is dropped.  At most CTL_MAX_CONNS connections are open;
 * one more is told so and closed.
 */
#define CTL_REQUEST_MS	2000
#define CTL_ANSWER_MS	2000
#define CTL_MAX_CONNS	64

struct ctl_conn {
	int fd;				/* -1: a free slot */
	bool may_open_files;		/* the peer is root, or us */
	uint64_t deadline_ms;
	size_t in_len;
	char in[CTL_MAX_REQUEST];
	struct ctl_answer ans;		/* ans.text: being written */
	size_t out_off;
};

static void ctl_conn_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->ans.text);
	c->ans.text = NULL;
}

/* Write what the client takes of the answer now; true when all of it is
 * gone (or the client is). */
static bool ctl_conn_flush(struct ctl_conn *c)
{
	while (c->out_off < c->ans.len) {
		ssize_t n = send(c->fd, c->ans.text + c->out_off,
				 c->ans.len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return !(n < 0 && errno == EAGAIN);
	}
	return true;
}

/* The request of @c is all in: run it, and start on the answer. */
static void ctl_conn_run(struct sw_ctl *ctl, struct ctl_conn *c,
			 size_t len)
{
	char *argv[CTL_MAX_WORDS];
	int argc, err;

	argc = ctl_request_split(c->in, len, argv, CTL_MAX_WORDS);
	if (argc < 0) {
		sw_log(LOG_WARNING, "control: bad request: %s",
		       strerror(-argc));
		ctl_conn_close(c);
		return;
	}
	err = ctl_run_as(ctl->sw, argc, argv, c->fd, c->may_open_files,
			 &c->ans);
	if (err) {
		sw_log(LOG_WARNING, "control: cannot answer: %s",
		       strerror(-err));
		ctl_conn_close(c);
		return;
	}
	if (c->ans.handed_off) {
		c->fd = -1;		/* the stream's session owns it */
		ctl_conn_close(c);
		return;
	}
	c->out_off = 0;
	c->deadline_ms = dp_now_ms() + CTL_ANSWER_MS;
	if (ctl_conn_flush(c))
		ctl_conn_close(c);
}

/* Read what has come of @c's request; run it once it is all there. */
static void ctl_conn_read(struct sw_ctl *ctl, struct ctl_conn *c)
{
	ssize_t n, end;

	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (c->in_len)
			sw_log(LOG_WARNING, "control: bad request: %s",
			       strerror(EPROTO));
		ctl_conn_close(c);
		return;
	}
	c->in_len += n;
	end = ctl_request_end(c->in, c->in_len);
	if (end >= 0) {
		ctl_conn_run(ctl, c, end);
	} else if (c->in_len == sizeof(c->in)) {
		sw_log(LOG_WARNING, "control: bad request: %s",
		       strerror(EMSGSIZE));
		ctl_conn_close(c);
	}
}

/* A connection refused: one error line and its status, and closed. */
static void ctl_refuse(int fd, const char *error, int status)
{
	char text[256];
	int len;

	len = snprintf(text, sizeof(text), "error %s\nstatus %d\n\n", error,
		       status);
	if (send(fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* Nothing more to do for it. */
	}
	close(fd);
}

/* Whether the process @pid has @gid among its supplementary groups, as
 * /proc says (the peer is still connected: it is there). */
static bool ctl_pid_in_group(pid_t pid, gid_t gid)
{
	char path[64], *line = NULL;
	size_t size = 0;
	bool in = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!in && getline(&line, &size, f) > 0) {
		char *p = line, *end;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (p += 7; *p && *p != '\n'; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			in |= g == gid;
		}
		break;
	}
	free(line);
	fclose(f);
	return in;
}

/*
 * Who may talk to us: root, our own user, and with --ctl-group a member
 * of that group (by its primary or a supplementary group).  The socket's
 * mode already keeps others out; this is the check a file mode cannot
 * make for a descriptor passed on.  *@may_open_files: only root and our
 * own user may have the daemon open, read or write files (a capture file,
 * explain's pcap): they are opened with the daemon's privileges.
 */
static bool ctl_peer_allowed(struct sw_ctl *ctl, int fd, bool *may_open_files)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	*may_open_files = cred.uid == 0 || cred.uid == geteuid();
	if (*may_open_files)
		return true;
	return ctl->gid != (gid_t)-1 &&
	       (cred.gid == ctl->gid || ctl_pid_in_group(cred.pid, ctl->gid));
}

static void ctl_accept(struct sw_ctl *ctl)
{
	struct ctl_conn *c = NULL;
	int fd;

	fd = accept4(ctl->listen_fd, NULL, NULL,
		     SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (unsigned int i = 0; i < CTL_MAX_CONNS && !c; i++)
		if (ctl->conns[i].fd < 0)
			c = &ctl->conns[i];
	if (!c) {
		sw_log_ratelimited(LOG_WARNING,
				   "control: %d connections open, one refused",
				   CTL_MAX_CONNS);
		ctl_refuse(fd, "Error: too many control connections; try again",
			   -EBUSY);
		return;
	}
	if (!ctl_peer_allowed(ctl, fd, &c->may_open_files)) {
		sw_log_ratelimited(LOG_WARNING,
				   "control: a client neither root nor in the control group, refused");
		ctl_refuse(fd, "Error: permission denied: not root, and not in the switch's control group",
			   -EACCES);
		return;
	}
	c->fd = fd;
	c->in_len = 0;
	c->ans.text = NULL;
	c->ans.len = 0;
	c->out_off = 0;
	c->deadline_ms = dp_now_ms() + CTL_REQUEST_MS;
}

static void *sw_ctl_thread(void *arg)
{
	struct sw_ctl *ctl = arg;
	struct pollfd pfd[CTL_MAX_CONNS + 2];
	struct ctl_conn *slot[CTL_MAX_CONNS];

	rcu_register_thread();
	rcu_offline();
	for (;;) {
		uint64_t now = dp_now_ms(), next = now + 60000;
		unsigned int n = 2;
		int ret;

		pfd[0] = (struct pollfd){ .fd = ctl->listen_fd,
					  .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = ctl->stop_fd,
					  .events = POLLIN };
		for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
			struct ctl_conn *c = &ctl->conns[i];

			if (c->fd < 0)
				continue;
			if (now >= c->deadline_ms) {
				if (!c->ans.text)
					sw_log(LOG_WARNING,
					       "control: request not complete in %d ms",
					       CTL_REQUEST_MS);
				ctl_conn_close(c);
				continue;
			}
			if (c->deadline_ms < next)
				next = c->deadline_ms;
			slot[n - 2] = c;
			pfd[n++] = (struct pollfd){
				.fd = c->fd,
				.events = c->ans.text ? POLLOUT : POLLIN,
			};
		}
		ret = poll(pfd, n, (int)(next - now));
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		for (unsigned int k = 2; k < n; k++) {
			struct ctl_conn *c = slot[k - 2];

			if (!pfd[k].revents || c->fd < 0)
				continue;
			if (c->ans.text) {
				if (ctl_conn_flush(c))
					ctl_conn_close(c);
			} else {
				ctl_conn_read(ctl, c);
			}
		}
		if (pfd[0].revents)
			ctl_accept(ctl);
	}
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++)
		ctl_conn_close(&ctl->conns[i]);
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

/* Make the directory of the default socket path: ours, and with a
 * control group, the group's to enter. */
static void make_parent_dir(const char *path, gid_t gid)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (strcmp(dir, "/run/tapswitch"))
		return;
	mkdir(dir, 0700);
	if (gid != (gid_t)-1 && !chown(dir, (uid_t)-1, gid))
		chmod(dir, 0750);
}

static int ctl_listen(const char *path, gid_t gid, int *errp)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*errp = -ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	make_parent_dir(path, gid);
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
	if (err < 0)
		goto fail_close;
	/* With a control group, its members may connect (the kernel checks
	 * write permission on the socket file at connect()). */
	if (gid != (gid_t)-1 ?
	    chown(path, (uid_t)-1, gid) < 0 || chmod(path, 0660) < 0 :
	    chmod(path, 0600) < 0)
		goto fail_close;
	if (listen(fd, 16) < 0)
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

struct sw_ctl *sw_ctl_start(struct sw *sw, const char *path, gid_t gid,
			    int *err)
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
	ctl->conns = calloc(CTL_MAX_CONNS, sizeof(*ctl->conns));
	if (!ctl->conns) {
		*err = -ENOMEM;
		goto out_free;
	}
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++)
		ctl->conns[i].fd = -1;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->gid = gid;
	ctl->listen_fd = ctl_listen(path, gid, err);
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
	free(ctl->conns);
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
	free(ctl->conns);
	free(ctl);
}
