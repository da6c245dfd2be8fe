/*
 * tapswitchctl - the control client of tapswitch.
 *
 * Grammar as iproute2's bridge tool: tapswitchctl [OPTIONS] OBJECT
 * {COMMAND | help}, declared once in lib/grammar.c.  The daemon parses and
 * validates the words; this program sends them, knowing from the grammar
 * only what it must (the kind of answer, which words are file names, the
 * help), and formats the data it gets back as text or JSON.
 * A stream (trace, dump, monitor) prints each record as it arrives, until
 * its count is reached or Ctrl-C closes the connection.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/ctl_format.h"
#include "lib/ctl_wire.h"
#include "lib/grammar.h"

#define CTL_VERSION "0.1.0"

/* Help: a command's synopsis, then its help from this column on. */
#define HELP_COLUMN	31
#define HELP_WIDTH	79

/*
 * Print @text, the cursor at column @col, broken at spaces outside
 * brackets so that lines stay within HELP_WIDTH; a continuation line
 * starts at column @indent.  Returns the column the cursor is at.
 */
static int put_wrapped(FILE *f, int col, const char *text, int indent)
{
	const char *p = text;
	bool first = true;

	while (*p) {
		const char *end = p;
		int depth = 0, len;

		/* The next chunk: up to a space outside [] and {}. */
		for (; *end && (*end != ' ' || depth > 0); end++) {
			if (*end == '[' || *end == '{')
				depth++;
			else if ((*end == ']' || *end == '}') && depth > 0)
				depth--;
		}
		len = end - p;
		if (!first && col + 1 + len > HELP_WIDTH && col > indent) {
			col = fprintf(f, "\n%*s", indent, "") - 1;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		col += fprintf(f, "%.*s", len, p);
		first = false;
		p = *end ? end + 1 : end;
	}
	return col;
}

/* Go to column HELP_COLUMN (to the next line if past it, or if
 * @own_line) and print @help there. */
static void put_help(FILE *f, int col, bool own_line, const char *help,
		     const char *alias)
{
	char text[512];

	if (col < HELP_COLUMN - 1 && !own_line)
		fprintf(f, "%*s", HELP_COLUMN - col, "");
	else
		fprintf(f, "\n%*s", HELP_COLUMN, "");
	if (alias)
		snprintf(text, sizeof(text), "%s (also %s)", help, alias);
	else
		snprintf(text, sizeof(text), "%s", help);
	put_wrapped(f, HELP_COLUMN, text, HELP_COLUMN);
	fputc('\n', f);
}

/* One command: its synopsis and help; @args: each argument's too. */
static void put_cmd(FILE *f, const struct gr_cmd *cmd, bool args)
{
	const struct gr_object *obj = gr_object_of(cmd);
	char line[512];
	int indent;

	gr_synopsis(cmd, line, sizeof(line));
	/* Continuation lines start under the first argument. */
	indent = strchr(line, ' ') ? strchr(line, ' ') - line + 1 : 4;
	if (cmd->name && strcmp(cmd->name, obj->name) &&
	    strchr(line + indent, ' '))
		indent = strchr(line + indent, ' ') - line + 1;
	/* A synopsis of several lines is easier to read with its help
	 * apart. */
	put_help(f, put_wrapped(f, 0, line, indent),
		 strlen(line) > HELP_WIDTH, cmd->help, NULL);
	if (!args)
		return;
	for (const struct gr_arg *arg = cmd->args; arg->key; arg++) {
		if (arg->flags & GR_HIDDEN)
			continue;
		gr_arg_synopsis(arg, false, line, sizeof(line));
		put_help(f, fprintf(f, "    %s", line), false, arg->help,
			 arg->alias);
	}
}

/* `tapswitchctl help OBJECT`, `tapswitchctl OBJECT help`. */
static void object_help(FILE *f, const struct gr_object *obj)
{
	fprintf(f, "%s: %s", obj->name, obj->help);
	if (obj->alias)
		fprintf(f, " (also %s)", obj->alias);
	fputs("\n\n", f);
	for (const struct gr_cmd *cmd = obj->cmds; cmd->help; cmd++)
		put_cmd(f, cmd, true);
}

static void usage(FILE *f)
{
	const struct gr_object *obj;
	int col;

	fprintf(f,
		"Usage: tapswitchctl [OPTIONS] OBJECT {COMMAND | help}\n"
		"       tapswitchctl help [OBJECT]\n"
		"OPTIONS: --ctl PATH (default %s)\n"
		"         -j, --json    JSON output\n"
		"         -s, --stats   counters\n"
		"         -V, --version\n"
		"         -h, --help\n",
		CTL_DEFAULT_PATH);
	col = fprintf(f, "OBJECT := {");
	for (obj = gr_objects; obj->name; obj++) {
		int len = strlen(obj->name) + 3;	/* " NAME |" */

		if (col + len > HELP_WIDTH)
			col = fprintf(f, "\n%11s", "") - 1;
		col += fprintf(f, " %s %s", obj->name, obj[1].name ? "|" : "}");
	}
	fputs("\n\n", f);
	for (obj = gr_objects; obj->name; obj++)
		for (const struct gr_cmd *cmd = obj->cmds; cmd->help; cmd++)
			put_cmd(f, cmd, false);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "Error: argument \"%s\" is wrong: path too long\n",
			path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "Error: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	switch (errno) {
	case ENOENT:
		fprintf(stderr,
			"Error: no tapswitch at %s (no such socket); is the daemon running?\n",
			path);
		break;
	case ECONNREFUSED:
		fprintf(stderr,
			"Error: stale socket %s: no tapswitch is listening there\n",
			path);
		break;
	default:
		fprintf(stderr, "Error: cannot connect to %s: %s\n", path,
			strerror(errno));
	}
	close(fd);
	return -1;
}

/* Does @cmd take a file name (that we make absolute)? */
static bool takes_path(const struct gr_cmd *cmd)
{
	for (const struct gr_arg *arg = cmd->args; arg->key; arg++)
		if (arg->type == GR_PATH)
			return true;
	return false;
}

/* Ctrl-C ends a stream, and that is its normal end.  The handler runs
 * while we wait for the daemon, never while a record is half printed. */
static void stop_stream(int sig)
{
	(void)sig;
	_exit(0);
}

static sigset_t sigint_set;

static void catch_sigint(void)
{
	struct sigaction sa = { .sa_handler = stop_stream };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&sigint_set);
	sigaddset(&sigint_set, SIGINT);
}

/*
 * Read the answer, printing stream records as they come.  Returns the
 * exit status.
 */
static int read_answer(FILE *in, const char *path, enum gr_answer answer,
		       bool json, bool stats)
{
	struct ctl_stream st;
	int err, ret = 0;

	ctl_stream_init(&st);
	while ((err = ctl_stream_next(in, &st)) == 1) {
		sigset_t old;
		int flushed;

		sigprocmask(SIG_BLOCK, &sigint_set, &old);
		ctl_format_record(stdout, &st.resp.records[0], json, stats);
		flushed = fflush(stdout);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (flushed) {
			/* Nobody reads any more (SIGPIPE ignored): the end
			 * of a stream, as Ctrl-C is. */
			ret = errno == EPIPE ? 0 : 1;
			goto out;
		}
	}
	if (err) {
		fprintf(stderr, "Error: bad answer from tapswitch at %s: %s\n",
			path, err == -EPROTO && st.streaming ?
			"the stream broke off or is malformed" :
			strerror(-err));
		ret = 1;
		goto out;
	}
	if (st.resp.status) {
		fprintf(stderr, "%s\n", st.resp.error ? st.resp.error :
						       "Error: request failed");
		ret = 1;
		goto out;
	}
	if (st.resp.error)
		fprintf(stderr, "%s\n", st.resp.error);
	if (!st.streaming && answer != GR_ANSWER_NONE)
		ctl_format(stdout, &st.resp, json, stats,
			   answer == GR_ANSWER_SINGLE);
	ret = fflush(stdout) ? 1 : 0;
out:
	ctl_stream_free(&st);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CTL_DEFAULT_PATH;
	char cwd[PATH_MAX] = "", **words;
	bool json = false, stats = false;
	const struct gr_object *obj;
	const struct gr_cmd *cmd;
	enum gr_answer answer;
	int opt, fd, err, first_arg;
	FILE *in;

	/* "+": options stop at the first word, so "fdb show -j" is not
	 * silently taken as an option. */
	while ((opt = getopt_long(argc, argv, "+jshV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 's':
			stats = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tapswitchctl %s\n", CTL_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return 2;
	}
	if (gr_matches(argv[0], "help")) {
		if (argc == 1) {
			usage(stdout);
			return 0;
		}
		obj = gr_find_object(argv[1]);
		if (!obj) {
			fprintf(stderr,
				"Error: unknown object \"%s\"; try \"tapswitchctl help\"\n",
				argv[1]);
			return 2;
		}
		object_help(stdout, obj);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "help") &&
	    (obj = gr_find_object(argv[0]))) {
		object_help(stdout, obj);
		return 0;
	}
	if (argc > CTL_MAX_WORDS) {
		fprintf(stderr, "Error: too many arguments\n");
		return 2;
	}
	/* Refuse what the protocol cannot carry before connecting. */
	for (int i = 0; i < argc; i++) {
		if (!argv[i][0] || strchr(argv[i], '\n')) {
			fprintf(stderr,
				"Error: argument \"%s\" is wrong: empty, or holds a newline\n",
				argv[i]);
			return 2;
		}
	}

	/* An unknown command goes to the daemon all the same: its answer
	 * is the error, whatever we expect. */
	cmd = gr_find_cmd(argc, argv, &first_arg, NULL, 0);
	answer = cmd ? cmd->answer : GR_ANSWER_LIST;
	if (!getcwd(cwd, sizeof(cwd)) && cmd && takes_path(cmd)) {
		fprintf(stderr,
			"Error: cannot find the working directory: %s\n",
			strerror(errno));
		return 1;
	}
	words = ctl_request_abs_paths(argc, argv, cwd);
	if (!words) {
		fprintf(stderr, "Error: %s\n", strerror(ENOMEM));
		return 1;
	}

	fd = ctl_connect(path);
	if (fd < 0) {
		ctl_words_free(words);
		return 1;
	}
	err = ctl_request_send(fd, argc, words);
	ctl_words_free(words);
	if (err) {
		fprintf(stderr, "Error: cannot send the request: %s\n",
			err == -EINVAL ? "an argument is empty or too long"
				       : strerror(-err));
		close(fd);
		return 1;
	}
	/* A stream's end is the client closing the connection: keep our
	 * half open, so that the daemon sees end-of-file only then. */
	if (answer == GR_ANSWER_STREAM)
		catch_sigint();
	else
		shutdown(fd, SHUT_WR);
	in = fdopen(fd, "r");
	if (!in) {
		close(fd);
		return 1;
	}
	err = read_answer(in, path, answer, json, stats);
	fclose(in);
	return err;
}
