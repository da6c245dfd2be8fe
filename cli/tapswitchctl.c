/*
 * tapswitchctl - the control client of tapswitch.
 *
 * Grammar as iproute2's bridge tool: tapswitchctl [OPTIONS] OBJECT
 * {COMMAND | help}.  The daemon parses and validates the words; this
 * program sends them, and formats the data it gets back as text or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/ctl_format.h"
#include "cli/ctl_wire.h"

#define CTL_VERSION "0.1.0"

static const struct {
	const char *object;
	const char *help;
} objects[] = {
	{ "port",
	  "port add IFNAME                create the tap if absent, attach it, bring it up\n"
	  "port del IFNAME                detach it (a tap tapswitch created disappears)\n"
	  "port show [dev IFNAME]         one line per port; -s adds counters\n"
	  "port set IFNAME [learning on|off] [flood on|off]\n"
	  "                [mcast_flood on|off] [bcast_flood on|off]\n" },
	{ "fdb",
	  "fdb show [dev IFNAME] [vlan VID]\n"
	  "fdb add MAC dev IFNAME [vlan VID] [static|dynamic] [sticky]\n"
	  "fdb replace MAC dev IFNAME [vlan VID] [static|dynamic] [sticky]\n"
	  "fdb del MAC dev IFNAME [vlan VID]\n"
	  "fdb flush [dev IFNAME] [vlan VID] [static|dynamic]   (default: both)\n" },
	{ "set",
	  "set ageing_time SEC            0-1000000; 0 disables learning\n"
	  "set max_learned N              0 means no limit\n"
	  "set group_fwd_mask MASK        link-local groups 01:80:c2:00:00:0X to forward\n" },
	{ "show",
	  "show                           switch-wide settings; -s adds counters\n" },
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
		"OBJECT := { port | fdb | set | show }\n\n",
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

/* Whether the command prints data: a show, or an object alone. */
static bool is_show(int argc, char **argv, bool *single)
{
	*single = matches(argv[0], "show");
	if (*single)
		return true;
	if (matches(argv[0], "set"))
		return false;
	return argc == 1 || matches(argv[1], "show");
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
	struct ctl_response resp;
	bool json = false, stats = false, single;
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
	if (argc == 2 && !strcmp(argv[1], "help")) {
		for (size_t i = 0; i < N_OBJECTS; i++) {
			if (matches(argv[0], objects[i].object)) {
				fputs(objects[i].help, stdout);
				return 0;
			}
		}
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

	fd = ctl_connect(path);
	if (fd < 0)
		return 1;
	err = ctl_request_send(fd, argc, argv);
	if (err) {
		fprintf(stderr, "Error: cannot send the request: %s\n",
			err == -EINVAL ? "an argument is empty or too long"
				       : strerror(-err));
		close(fd);
		return 1;
	}
	shutdown(fd, SHUT_WR);
	in = fdopen(fd, "r");
	if (!in) {
		close(fd);
		return 1;
	}
	err = ctl_response_parse(in, &resp);
	fclose(in);
	if (err) {
		fprintf(stderr, "Error: bad answer from tapswitch at %s: %s\n",
			path, strerror(-err));
		return 1;
	}
	if (resp.status) {
		fprintf(stderr, "%s\n",
			resp.error ? resp.error : "Error: request failed");
		ctl_response_free(&resp);
		return 1;
	}
	if (is_show(argc, argv, &single))
		ctl_format(stdout, &resp, json, stats, single);
	ctl_response_free(&resp);
	return fflush(stdout) ? 1 : 0;
}
