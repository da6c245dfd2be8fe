/*
 * tapswitchctl - the control client of tapswitch.
 *
 * Grammar as iproute2's bridge tool: tapswitchctl [OPTIONS] OBJECT
 * {COMMAND | help}.  The daemon parses and validates the words; this
 * program sends them, and formats the data it gets back as text or JSON.
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

#define CTL_VERSION "0.1.0"

/* What a command's answer is. */
enum answer {
	ANSWER_SHOW,		/* data for "OBJECT" or "OBJECT show" */
	ANSWER_SINGLE,		/* one object, printed as such in JSON */
	ANSWER_NONE,		/* nothing to print */
	ANSWER_DATA,		/* data, whatever the command */
	ANSWER_STREAM,		/* records as they happen, until Ctrl-C */
};

/* In the daemon's order of matching, so that a prefix means the same
 * object to both ("s" is show). */
static const struct {
	const char *object;
	enum answer answer;
	const char *help;
} objects[] = {
	{ "port", ANSWER_SHOW,
	  "port add IFNAME                create the tap if absent, attach it, bring it up\n"
	  "port del IFNAME                detach it (a tap tapswitch created disappears)\n"
	  "port show [dev IFNAME]         one line per port; -s adds counters\n"
	  "port set IFNAME [learning on|off] [flood on|off]\n"
	  "                [mcast_flood on|off] [bcast_flood on|off]\n"
	  "                [reorder_hdr on|off] [offload on|off]\n"
	  "                [ingress_qos_map FROM:TO...] [egress_qos_map FROM:TO...]\n" },
	{ "fdb", ANSWER_SHOW,
	  "fdb show [dev IFNAME] [vlan VID]\n"
	  "fdb add MAC dev IFNAME [vlan VID] [static|dynamic] [sticky]\n"
	  "fdb replace MAC dev IFNAME [vlan VID] [static|dynamic] [sticky]\n"
	  "fdb del MAC dev IFNAME [vlan VID]\n"
	  "fdb flush [dev IFNAME] [vlan VID] [static|dynamic]   (default: both)\n" },
	{ "vlan", ANSWER_SHOW,
	  "vlan add dev IFNAME vid VID[-VID] [pvid] [untagged]\n"
	  "vlan del dev IFNAME vid VID[-VID]\n"
	  "vlan show [dev IFNAME]         membership; -s adds per-VLAN counters\n" },
	{ "show", ANSWER_SINGLE,
	  "show                           switch-wide settings; -s adds counters\n" },
	{ "set", ANSWER_NONE,
	  "set ageing_time SEC            0-1000000; 0 disables learning\n"
	  "set max_learned N              0 means no limit\n"
	  "set group_fwd_mask MASK        link-local groups 01:80:c2:00:00:0X to forward\n"
	  "set vlan_filtering 0|1         802.1Q VLAN filtering\n"
	  "set vlan_protocol 802.1Q|802.1ad\n"
	  "set default_pvid VID           the PVID of new ports; 0 for none\n" },
	{ "capture", ANSWER_DATA,
	  "capture start [dev IFNAME] [dir rx|tx|both] [vlan VID] file PATH\n"
	  "              [count N] [snaplen N]   into a pcap file; no dev: every port\n"
	  "capture stop [dev IFNAME | id N]\n"
	  "capture show                   running and finished captures; -s adds counters\n" },
	{ "trace", ANSWER_STREAM,
	  "trace [dev IFNAME] [vlan VID] [count N]\n"
	  "                               what the switch decides for each frame, live\n" },
	{ "explain", ANSWER_DATA,
	  "explain dev IFNAME frame HEX   what the switch would do with this frame now\n"
	  "explain dev IFNAME pcap PATH   ... with each frame of a pcap file\n" },
	{ "dump", ANSWER_STREAM,
	  "dump dev IFNAME [dir rx|tx|both] [count N]\n"
	  "                               each frame in hex, live\n" },
	{ "monitor", ANSWER_STREAM,
	  "monitor [fdb] [port] [count N] FDB and port events, live (default: both)\n" },
};

#define N_OBJECTS (sizeof(objects) / sizeof(objects[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tapswitchctl [OPTIONS] OBJECT {COMMAND | help}\n"
		"OPTIONS: --ctl PATH (default %s)\n"
		"         -j, --json    JSON output\n"
		"         -s, --stats   counters\n"
		"         -V, --version\n"
		"OBJECT := { port | fdb | vlan | show | set | capture | trace |\n"
		"            explain | dump | monitor }\n\n",
		CTL_DEFAULT_PATH);
	for (size_t i = 0; i < N_OBJECTS; i++)
		fputs(objects[i].help, f);
}

/* Unique prefixes are accepted, as in iproute2. */
static bool matches(const char *arg, const char *keyword)
{
	size_t len = strlen(arg);

	return len && !strncmp(arg, keyword, len);
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

static int find_object(const char *word)
{
	for (size_t i = 0; i < N_OBJECTS; i++)
		if (matches(word, objects[i].object))
			return i;
	return -1;
}

/* What the command's answer holds. */
static enum answer answer_of(int argc, char **argv)
{
	int obj = find_object(argv[0]);
	enum answer answer = obj < 0 ? ANSWER_SHOW : objects[obj].answer;

	if (answer == ANSWER_SHOW && argc > 1 && !matches(argv[1], "show"))
		return ANSWER_NONE;
	return answer;
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
static int read_answer(FILE *in, const char *path, enum answer answer,
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
	if (!st.streaming && answer != ANSWER_NONE)
		ctl_format(stdout, &st.resp, json, stats,
			   answer == ANSWER_SINGLE);
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
	enum answer answer;
	int opt, fd, err;
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
	if (matches(argv[0], "help")) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "help") &&
	    find_object(argv[0]) >= 0) {
		fputs(objects[find_object(argv[0])].help, stdout);
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

	answer = answer_of(argc, argv);
	if (!getcwd(cwd, sizeof(cwd)) &&
	    (matches(argv[0], "capture") || matches(argv[0], "explain"))) {
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
	if (answer == ANSWER_STREAM)
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
