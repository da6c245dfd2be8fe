/*
 * ctl.h - the control socket's handlers: one per command of the grammar
 * (lib/grammar.h), in files by object: ctl_port.c, ctl_fdb.c,
 * ctl_vlan.c, ctl_switch.c (show, set) and ctl_watch.c (capture, trace,
 * explain, dump, monitor).
 *
 * Design
 * ------
 * ctl_server.c reads a request, finds its command (gr_find_cmd()) and
 * lexes the words after OBJECT [COMMAND] (gr_lex()), then calls the
 * handler the command's id names.  A handler is the only place that sees
 * both the lexed values (struct gr_args) and the request: it turns the
 * values into an operation's arguments (ops.h), calls it, and prints the
 * records the command answers with (lib/ctl_wire.h, ctl_put_*).  What
 * only reads the switch (the shows) reads it here.  What the lexer
 * cannot know - that a port exists, that `set` was given anything - the
 * operation checks, or the handler where there is no operation.
 *
 * A request is answered all or nothing: on an error the records printed
 * so far are thrown away and the client gets the one error line of
 * r->error ("no partial output").
 *
 * Thread safety: handlers run online, outside any read-side section:
 * under sw->lock on the control server's worker thread, or - the shows
 * listed in ctl_lock_free[] (ctl_server.c), which read only what RCU
 * protects - without it, on the server's own thread.
 */
#ifndef TAPSWITCH_SWITCH_CTL_H
#define TAPSWITCH_SWITCH_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/grammar.h"
#include "switch/ops.h"
#include "switch/sw.h"

/* One request being served. */
struct ctl_req {
	struct sw *sw;
	FILE *out;		/* the records of the answer */
	int fd;			/* the client, for a stream to own */
	bool handed_off;	/* a stream session owns @fd now */
	char error[256];	/* the error line, "Error: ..." */
	char note[256];		/* with success: a line for the user */
	/* What a command's prepare step opened or read, before sw->lock
	 * was taken: its handler takes them (file_fd -1 then), or
	 * ctl_run() closes and frees them. */
	int file_fd;
	uint8_t *file_data;
	size_t file_len;
	/* file_fd is a file the prepare step created at this path: a
	 * refused command removes it again. */
	const char *file_created;
	/* The client, as SO_PEERCRED says: root (or the daemon's own user)
	 * may have the daemon open files; a member of --ctl-group may not. */
	bool may_open_files;
};

/* The answer to a request, as ctl_run() makes it. */
struct ctl_answer {
	char *text;		/* the records, error and status; free() it */
	size_t len;
	int status;		/* the request's: 0 or -errno */
	bool handed_off;	/* a stream session answers, on its own */
};

/*
 * Run the request @argv[0..@argc) - lex it, take sw->lock (unless the
 * command is a lock-free show), run its handler - and make its answer in
 * @ans, in the wire format.  @fd is the client's connection, for a
 * stream session to take over (-1: none).
 * Returns 0 (the request's own status is in ans->status), or -ENOMEM.
 * Any registered thread, offline (it leaves it offline), outside
 * sw->lock: the control server's threads, the tests and the fuzzers.
 */
int ctl_run(struct sw *sw, int argc, char *argv[], int fd,
	    struct ctl_answer *ans);
/* As ctl_run(), for a client that may not have the daemon open files
 * (@may_open_files false: a --ctl-group member that is not root). */
int ctl_run_as(struct sw *sw, int argc, char *argv[], int fd,
	       bool may_open_files, struct ctl_answer *ans);

/* A command's handler: 0, or -errno with r->error set (or left empty:
 * then the line is "Error: " and strerror()). */
typedef int ctl_handler_func(struct ctl_req *r, const struct gr_args *a);

/*
 * A command's prepare step, for the few that touch files (capture start,
 * explain pcap): it runs before sw->lock is taken, so that no file is
 * opened, read or written while the switch is locked - a FIFO with no
 * writer, a slow disk, must not hold every other command, the link
 * monitor and shutdown.  It leaves what it opened or read in @r.
 */
typedef int ctl_prepare_func(struct ctl_req *r, const struct gr_args *a);

/* printf into r->error; returns @err. */
int ctl_err(struct ctl_req *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "Error: argument "@word" is wrong: @why"; returns -EINVAL. */
int ctl_invarg(struct ctl_req *r, const char *word, const char *why);
/* An operation's failure @err and its reason: returns @err. */
int ctl_op_err(struct ctl_req *r, int err, const struct sw_why *why);
/* The index of port @name, or -EINVAL ("no such port"). */
int ctl_lookup_port(struct ctl_req *r, const char *name, uint32_t *index);
/* @put each port's records: the one `dev IFNAME` names, or every port
 * (a show's "dev or all").  0, or -EINVAL for no such port. */
int ctl_put_ports(struct ctl_req *r, const struct gr_args *a,
		  void (*put)(struct ctl_req *r, uint32_t index));

/* ctl_port.c */
int ctl_port_show(struct ctl_req *r, const struct gr_args *a);
int ctl_port_add(struct ctl_req *r, const struct gr_args *a);
int ctl_port_del(struct ctl_req *r, const struct gr_args *a);
int ctl_port_set(struct ctl_req *r, const struct gr_args *a);

/* ctl_fdb.c */
int ctl_fdb_show(struct ctl_req *r, const struct gr_args *a);
int ctl_fdb_add(struct ctl_req *r, const struct gr_args *a);
int ctl_fdb_replace(struct ctl_req *r, const struct gr_args *a);
int ctl_fdb_del(struct ctl_req *r, const struct gr_args *a);
int ctl_fdb_flush(struct ctl_req *r, const struct gr_args *a);

/* ctl_vlan.c */
int ctl_vlan_show(struct ctl_req *r, const struct gr_args *a);
int ctl_vlan_add(struct ctl_req *r, const struct gr_args *a);
int ctl_vlan_del(struct ctl_req *r, const struct gr_args *a);

/* ctl_switch.c */
int ctl_show(struct ctl_req *r, const struct gr_args *a);
int ctl_set(struct ctl_req *r, const struct gr_args *a);

/* ctl_watch.c */
int ctl_capture_show(struct ctl_req *r, const struct gr_args *a);
int ctl_capture_start(struct ctl_req *r, const struct gr_args *a);
int ctl_capture_stop(struct ctl_req *r, const struct gr_args *a);
int ctl_trace(struct ctl_req *r, const struct gr_args *a);
int ctl_explain(struct ctl_req *r, const struct gr_args *a);
int ctl_capture_prepare(struct ctl_req *r, const struct gr_args *a);
int ctl_explain_prepare(struct ctl_req *r, const struct gr_args *a);
int ctl_dump(struct ctl_req *r, const struct gr_args *a);
int ctl_monitor(struct ctl_req *r, const struct gr_args *a);

#endif /* TAPSWITCH_SWITCH_CTL_H */
