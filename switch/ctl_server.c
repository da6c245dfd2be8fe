/*
 * ctl_server.c - the control socket: read a request, find its command and
 * lex its words (lib/grammar.h), then run the command's handler (ctl.h)
 * under sw->lock and answer with data (lib/ctl_wire.h).
 *
 * One request per connection.  The control thread serves every
 * connection from a poll() loop (a slow client waits alone); it answers
 * the shows that only read what RCU protects itself, without the lock,
 * and hands every other request to the worker thread, which runs them
 * one at a time under sw->lock.  So a command that waits - a port add on
 * the kernel's rtnl lock, a port del on its poll thread - delays the
 * commands queued behind it, never a `port show`.  A request is fully
 * checked before anything changes or is printed: the words by the lexer,
 * before the lock is taken; what needs the switch's state by the
 * operation the handler calls.  An error is one line,
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
#include <sys/resource.h>
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

	/* The worker: requests that take sw->lock, in arrival order.  Each
	 * way a pipe of connection pointers: no lock is shared with the
	 * server thread, so a worker preempted anywhere cannot hold it up.
	 * A NULL on @work_pipe stops the worker. */
	pthread_t worker;
	int work_pipe[2];		/* server -> worker: run this one */
	int done_pipe[2];		/* worker -> server: answer this one */
	bool stopping;			/* atomic: the worker runs no more */
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

int ctl_put_ports(struct ctl_req *r, const struct gr_args *a,
		  void (*put)(struct ctl_req *r, uint32_t index))
{
	const struct gr_value *dev = gr_get(a, "dev");
	uint32_t idx[DP_MAX_PORTS], index;
	unsigned int n;
	int err;

	if (dev) {
		err = ctl_lookup_port(r, dev->word, &index);
		if (err)
			return err;
		put(r, index);
		return 0;
	}
	n = dp_port_list(r->sw->dp, idx, DP_MAX_PORTS);
	for (unsigned int k = 0; k < n; k++)
		put(r, idx[k]);
	return 0;
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
 * The commands that only read what RCU protects (the port table, the
 * settings, counters): they run without sw->lock, online, on whatever
 * thread asks - for the server, its own, while the worker may hold the
 * lock for seconds.  A handler added here must take nothing that only
 * the lock guards.
 */
static const bool ctl_lock_free[GR_N_CMDS] = {
	[GR_CMD_SHOW] = true,
	[GR_CMD_PORT_SHOW] = true,
	[GR_CMD_VLAN_SHOW] = true,
};

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

/*
 * Where an answer is printed: a stdio stream (unbuffered: each record
 * goes straight in) onto a buffer that is kept from one request to the
 * next.  The server has one per connection slot, made at start, so that
 * answering a `port show` allocates nothing: in a sanitizer build every
 * fresh allocation may map memory, and mapping waits for the kernel's
 * mmap lock, which a busy process holds for tens of milliseconds.
 */
struct ctl_buf {
	FILE *f;
	char *text;			/* NUL-terminated */
	size_t len, cap;
	bool failed;			/* out of memory: the answer is lost */
};

/* Past this, a connection's buffer is freed once its answer is gone (an
 * `fdb show` of a million entries is a hundred megabytes). */
#define CTL_BUF_KEEP	(256 * 1024)

static ssize_t ctl_buf_write(void *cookie, const char *data, size_t n)
{
	struct ctl_buf *b = cookie;

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *text;

		while (cap < b->len + n + 1)
			cap *= 2;
		text = realloc(b->text, cap);
		if (!text) {
			b->failed = true;
			return -1;
		}
		b->text = text;
		b->cap = cap;
	}
	memcpy(b->text + b->len, data, n);
	b->len += n;
	b->text[b->len] = '\0';
	return n;
}

static int ctl_buf_open(struct ctl_buf *b)
{
	*b = (struct ctl_buf){ 0 };
	b->f = fopencookie(b, "w", (cookie_io_functions_t){
					   .write = ctl_buf_write,
				   });
	if (!b->f)
		return -ENOMEM;
	setvbuf(b->f, NULL, _IONBF, 0);
	return 0;
}

/* Empty it for the next answer. */
static void ctl_buf_reset(struct ctl_buf *b)
{
	clearerr(b->f);
	b->len = 0;
	b->failed = false;
	if (b->text)
		b->text[0] = '\0';
}

/* Give its memory back if it grew big. */
static void ctl_buf_trim(struct ctl_buf *b)
{
	if (b->cap > CTL_BUF_KEEP) {
		free(b->text);
		b->text = NULL;
		b->cap = 0;
	}
	ctl_buf_reset(b);
}

static void ctl_buf_close(struct ctl_buf *b)
{
	if (b->f)
		fclose(b->f);
	free(b->text);
	*b = (struct ctl_buf){ 0 };
}

/*
 * ctl_run_as(), printing into @b (reset first).  *@status: the
 * request's; *@handed_off: a stream's session answers (@b is empty).
 * Returns 0, or -ENOMEM when the answer could not be made.
 */
static int ctl_run_buf(struct sw *sw, int argc, char *argv[], int fd,
		       bool may_open_files, struct ctl_buf *b, int *status,
		       bool *handed_off)
{
	struct ctl_req r = {
		.sw = sw,
		.out = b->f,
		.fd = fd,
		.file_fd = -1,
		.may_open_files = may_open_files,
	};
	const struct gr_cmd *cmd;
	struct gr_args args;
	int st;

	ctl_buf_reset(b);
	*handed_off = false;
	cmd = ctl_parse(&r, argc, argv, &args);
	st = cmd ? 0 : -EINVAL;
	/* Files first, unlocked (ctl.h, ctl_prepare_func). */
	if (!st && ctl_preparers[cmd->id])
		st = ctl_preparers[cmd->id](&r, &args);
	if (!st && ctl_lock_free[cmd->id]) {
		rcu_offline();
		rcu_thread_online();
		st = ctl_handlers[cmd->id](&r, &args);
		rcu_offline();
	} else if (!st) {
		sw_lock(sw);
		st = ctl_handlers[cmd->id](&r, &args);
		sw_unlock(sw);
	}
	if (r.file_fd >= 0) {
		struct stat x, y;

		/* Refused after its file was made: no file left behind (if
		 * the name still is ours). */
		if (st && r.file_created && !fstat(r.file_fd, &x) &&
		    !lstat(r.file_created, &y) && x.st_ino == y.st_ino &&
		    x.st_dev == y.st_dev)
			unlink(r.file_created);
		close(r.file_fd);
	}
	free(r.file_data);
	*status = st;
	if (!st && r.handed_off) {
		/* The stream's session answers from now on. */
		ctl_buf_reset(b);
		*handed_off = true;
		return 0;
	}
	if (st) {
		/* No partial output: an error discards any records. */
		ctl_buf_reset(b);
		if (!r.error[0])
			snprintf(r.error, sizeof(r.error), "Error: %s",
				 strerror(-st));
	}
	ctl_put_status(b->f, st, st ? r.error : r.note[0] ? r.note : NULL);
	return b->failed || ferror(b->f) ? -ENOMEM : 0;
}

int ctl_run_as(struct sw *sw, int argc, char *argv[], int fd,
	       bool may_open_files, struct ctl_answer *ans)
{
	struct ctl_buf b;
	int err;

	memset(ans, 0, sizeof(*ans));
	if (ctl_buf_open(&b))
		return -ENOMEM;
	err = ctl_run_buf(sw, argc, argv, fd, may_open_files, &b,
			  &ans->status, &ans->handed_off);
	if (!err && !ans->handed_off) {
		/* The text is the caller's now. */
		ans->text = b.text ? b.text : strdup("");
		ans->len = b.len;
		b.text = NULL;
		if (!ans->text)
			err = -ENOMEM;
	}
	ctl_buf_close(&b);
	return err;
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
 * request must be complete within CTL_REQUEST_MS of the connection, and
 * a client must take some of its answer every CTL_ANSWER_MS (a big `fdb
 * show` takes a slow client longer than that, and is not cut short);
 * past that the connection is dropped.  At most CTL_MAX_CONNS connections are open;
 * one more is told so and closed.
 */
#define CTL_REQUEST_MS	2000
#define CTL_ANSWER_MS	2000
#define CTL_MAX_CONNS	64
/* The server thread's nice value (the poll threads have 0). */
#define CTL_NICE	-10

/*
 * Where a connection is.  The server thread moves it along, but for
 * QUEUED -> DONE, the worker's: between the two the worker owns it and
 * the server neither polls nor touches it.  @state is read and written
 * with acquire and release, so that what the worker wrote (the answer)
 * is the server's to read once it sees DONE.
 */
enum ctl_conn_state {
	CONN_FREE,			/* fd -1 */
	CONN_READING,			/* the request is coming in */
	CONN_QUEUED,			/* the worker's */
	CONN_DONE,			/* the worker answered it */
	CONN_WRITING,			/* the answer is going out */
};

struct ctl_conn {
	int fd;				/* -1: a free slot */
	enum ctl_conn_state state;
	bool may_open_files;		/* the peer is root, or us */
	uint64_t deadline_ms;
	size_t in_len;
	char in[CTL_MAX_REQUEST];
	int argc;			/* the request's words, in @in */
	char *argv[CTL_MAX_WORDS];
	int run_err;			/* ctl_run_buf()'s, for the worker */
	int status;			/* the request's */
	bool handed_off;		/* a stream's session took @fd */
	struct ctl_buf out;		/* the answer, being written */
	size_t out_off;
};

static enum ctl_conn_state ctl_conn_state(const struct ctl_conn *c)
{
	return __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
}

static void ctl_conn_set_state(struct ctl_conn *c, enum ctl_conn_state st)
{
	__atomic_store_n(&c->state, st, __ATOMIC_RELEASE);
}

static void ctl_conn_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	ctl_buf_trim(&c->out);
	ctl_conn_set_state(c, CONN_FREE);
}

/* Write what the client takes of the answer now; true when all of it is
 * gone (or the client is). */
static bool ctl_conn_flush(struct ctl_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.text + c->out_off,
				 c->out.len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += n;
			c->deadline_ms = dp_now_ms() + CTL_ANSWER_MS;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return !(n < 0 && errno == EAGAIN);
	}
	return true;
}

/* @c's request has run (ctl_run_buf() returned @err): start on the
 * answer. */
static void ctl_conn_answered(struct ctl_conn *c, int err)
{
	if (err) {
		sw_log(LOG_WARNING, "control: cannot answer: %s",
		       strerror(-err));
		ctl_conn_close(c);
		return;
	}
	if (c->handed_off) {
		c->fd = -1;		/* the stream's session owns it */
		ctl_conn_close(c);
		return;
	}
	ctl_conn_set_state(c, CONN_WRITING);
	c->out_off = 0;
	c->deadline_ms = dp_now_ms() + CTL_ANSWER_MS;
	if (ctl_conn_flush(c))
		ctl_conn_close(c);
}

/* Whether the server answers @argv itself: a lock-free show, or words
 * that are no command (the error needs no lock either). */
static bool ctl_runs_here(int argc, char *const argv[])
{
	const struct gr_cmd *cmd;
	char error[256];
	int first;

	cmd = gr_find_cmd(argc, argv, &first, error, sizeof(error));
	return !cmd || ctl_lock_free[cmd->id];
}

/* The request of @c is all in: run it, or queue it for the worker. */
static void ctl_conn_run(struct sw_ctl *ctl, struct ctl_conn *c,
			 size_t len)
{
	int argc;

	argc = ctl_request_split(c->in, len, c->argv, CTL_MAX_WORDS);
	if (argc < 0) {
		sw_log(LOG_WARNING, "control: bad request: %s",
		       strerror(-argc));
		ctl_conn_close(c);
		return;
	}
	c->argc = argc;
	if (ctl_runs_here(argc, c->argv)) {
		ctl_conn_answered(c, ctl_run_buf(ctl->sw, argc, c->argv,
						 c->fd, c->may_open_files,
						 &c->out, &c->status,
						 &c->handed_off));
		return;
	}
	/* At most CTL_MAX_CONNS pointers wait in the pipe: it cannot
	 * fill, and each write is whole (under PIPE_BUF). */
	ctl_conn_set_state(c, CONN_QUEUED);
	if (write(ctl->work_pipe[1], &c, sizeof(c)) != sizeof(c)) {
		sw_log(LOG_ERR, "control: cannot queue a request: %m");
		ctl_conn_close(c);
	}
}

/*
 * The worker: runs the queued requests one at a time, each under
 * sw->lock (ctl_run_buf()), and hands each back to the server thread
 * (CONN_DONE, and its pointer on done_pipe) to answer.
 */
static void *ctl_worker(void *arg)
{
	struct sw_ctl *ctl = arg;
	struct ctl_conn *c;

	rcu_register_thread();
	rcu_offline();
	for (;;) {
		ssize_t n = read(ctl->work_pipe[0], &c, sizeof(c));

		if (n < 0 && errno == EINTR)
			continue;
		/* Stopping: what is still queued is not run. */
		if (n != sizeof(c) || !c ||
		    __atomic_load_n(&ctl->stopping, __ATOMIC_RELAXED))
			break;
		c->run_err = ctl_run_buf(ctl->sw, c->argc, c->argv, c->fd,
					 c->may_open_files, &c->out,
					 &c->status, &c->handed_off);
		ctl_conn_set_state(c, CONN_DONE);
		if (write(ctl->done_pipe[1], &c, sizeof(c)) != sizeof(c))
			sw_log(LOG_ERR, "control: cannot hand an answer back: %m");
	}
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	return NULL;
}

/* Stop the worker once the request it runs is done; those queued behind
 * it are not run. */
static void ctl_worker_stop(struct sw_ctl *ctl)
{
	struct ctl_conn *none = NULL;

	__atomic_store_n(&ctl->stopping, true, __ATOMIC_RELAXED);
	if (write(ctl->work_pipe[1], &none, sizeof(none)) != sizeof(none))
		sw_log(LOG_ERR, "control: cannot stop the worker: %m");
	pthread_join(ctl->worker, NULL);
}

/* Answer what the worker has run. */
static void ctl_take_done(struct sw_ctl *ctl)
{
	struct ctl_conn *done[CTL_MAX_CONNS];
	ssize_t n;

	n = read(ctl->done_pipe[0], done, sizeof(done));
	for (ssize_t k = 0; k < n / (ssize_t)sizeof(done[0]); k++)
		ctl_conn_answered(done[k], done[k]->run_err);
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

/* Take one connection that is waiting, and what it has sent yet: false
 * when none was waiting. */
static bool ctl_accept(struct sw_ctl *ctl)
{
	struct ctl_conn *c = NULL;
	int fd;

	fd = accept4(ctl->listen_fd, NULL, NULL,
		     SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return false;
	for (unsigned int i = 0; i < CTL_MAX_CONNS && !c; i++)
		if (ctl_conn_state(&ctl->conns[i]) == CONN_FREE)
			c = &ctl->conns[i];
	if (!c) {
		sw_log_ratelimited(LOG_WARNING,
				   "control: %d connections open, one refused",
				   CTL_MAX_CONNS);
		ctl_refuse(fd, "Error: too many control connections; try again",
			   -EBUSY);
		return true;
	}
	if (!ctl_peer_allowed(ctl, fd, &c->may_open_files)) {
		sw_log_ratelimited(LOG_WARNING,
				   "control: a client neither root nor in the control group, refused");
		ctl_refuse(fd, "Error: permission denied: not root, and not in the switch's control group",
			   -EACCES);
		return true;
	}
	c->fd = fd;
	ctl_conn_set_state(c, CONN_READING);
	c->in_len = 0;
	c->handed_off = false;
	ctl_buf_reset(&c->out);
	c->out_off = 0;
	c->deadline_ms = dp_now_ms() + CTL_REQUEST_MS;
	/* A client sends its request as it connects: mostly it is here. */
	ctl_conn_read(ctl, c);
	return true;
}

static void *sw_ctl_thread(void *arg)
{
	struct sw_ctl *ctl = arg;
	struct pollfd pfd[CTL_MAX_CONNS + 3];
	struct ctl_conn *slot[CTL_MAX_CONNS];

	/* Ahead of the poll threads for the CPU: with every core busy
	 * forwarding, a `port show` still gets its answer within
	 * milliseconds.  It sleeps but for that, so it takes nothing from
	 * them.  Without the privilege (CAP_SYS_NICE), as it is. */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), CTL_NICE) < 0)
		sw_log(LOG_DEBUG, "control: cannot raise its priority: %m");
	rcu_register_thread();
	rcu_offline();
	for (;;) {
		uint64_t now = dp_now_ms(), next = now + 60000;
		unsigned int n = 3;
		int ret;

		pfd[0] = (struct pollfd){ .fd = ctl->listen_fd,
					  .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = ctl->stop_fd,
					  .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = ctl->done_pipe[0],
					  .events = POLLIN };
		for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
			struct ctl_conn *c = &ctl->conns[i];
			enum ctl_conn_state st = ctl_conn_state(c);

			/* A queued request has no deadline: it waits its
			 * turn; one done is answered below. */
			if (st != CONN_READING && st != CONN_WRITING)
				continue;
			if (now >= c->deadline_ms) {
				if (st == CONN_READING)
					sw_log(LOG_WARNING,
					       "control: request not complete in %d ms",
					       CTL_REQUEST_MS);
				ctl_conn_close(c);
				continue;
			}
			if (c->deadline_ms < next)
				next = c->deadline_ms;
			slot[n - 3] = c;
			pfd[n++] = (struct pollfd){
				.fd = c->fd,
				.events = st == CONN_WRITING ? POLLOUT : POLLIN,
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
		for (unsigned int k = 3; k < n; k++) {
			struct ctl_conn *c = slot[k - 3];

			if (!pfd[k].revents || c->fd < 0)
				continue;
			if (ctl_conn_state(c) == CONN_WRITING) {
				if (ctl_conn_flush(c))
					ctl_conn_close(c);
			} else {
				ctl_conn_read(ctl, c);
			}
		}
		if (pfd[2].revents)
			ctl_take_done(ctl);
		/* Every connection waiting (a burst of clients must not wait
		 * in the backlog a poll() round each), up to a bound. */
		if (pfd[0].revents)
			for (unsigned int k = 0; k < CTL_MAX_CONNS; k++)
				if (!ctl_accept(ctl))
					break;
	}
	/* sw_ctl_stop() closes the connections, once the worker is out. */
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
	/* Non-blocking: the server takes what waits until none does. */
	if (listen(fd, CTL_MAX_CONNS) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
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

static void ctl_free_conns(struct sw_ctl *ctl)
{
	if (!ctl->conns)
		return;
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++)
		ctl_buf_close(&ctl->conns[i].out);
	free(ctl->conns);
}

static void ctl_close_fds(struct sw_ctl *ctl)
{
	int fds[] = {
		ctl->stop_fd, ctl->work_pipe[0], ctl->work_pipe[1],
		ctl->done_pipe[0], ctl->done_pipe[1], ctl->listen_fd,
	};

	for (unsigned int i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	unlink(ctl->path);
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
	ctl->stop_fd = -1;
	ctl->work_pipe[0] = ctl->work_pipe[1] = -1;
	ctl->done_pipe[0] = ctl->done_pipe[1] = -1;
	ctl->conns = calloc(CTL_MAX_CONNS, sizeof(*ctl->conns));
	if (!ctl->conns) {
		*err = -ENOMEM;
		goto out_free;
	}
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
		ctl->conns[i].fd = -1;
		if (ctl_buf_open(&ctl->conns[i].out)) {
			*err = -ENOMEM;
			goto out_free;
		}
	}
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->gid = gid;
	ctl->listen_fd = ctl_listen(path, gid, err);
	if (ctl->listen_fd < 0)
		goto out_free;
	ctl->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (ctl->stop_fd < 0 || pipe2(ctl->work_pipe, O_CLOEXEC) ||
	    pipe2(ctl->done_pipe, O_CLOEXEC | O_NONBLOCK)) {
		*err = -errno;
		goto out_close;
	}
	/* The worker's end of done_pipe blocks (it never fills). */
	fcntl(ctl->done_pipe[1], F_SETFL, 0);
	*err = -pthread_create(&ctl->worker, NULL, ctl_worker, ctl);
	if (*err)
		goto out_close;
	*err = -pthread_create(&ctl->thread, NULL, sw_ctl_thread, ctl);
	if (*err)
		goto out_stop_worker;
	return ctl;

out_stop_worker:
	ctl_worker_stop(ctl);
out_close:
	ctl_close_fds(ctl);
out_free:
	ctl_free_conns(ctl);
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
	/* The request the worker runs finishes; the queued ones do not
	 * run: their clients see the connection close. */
	ctl_worker_stop(ctl);
	for (unsigned int i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = &ctl->conns[i];

		if (ctl_conn_state(c) == CONN_DONE && c->handed_off)
			c->fd = -1;	/* the stream's session owns it */
		ctl_conn_close(c);
	}
	ctl_close_fds(ctl);
	ctl_free_conns(ctl);
	free(ctl);
}
