/*
 * main.c - tapswitch: options, start-up, signals, shutdown.  The options
 * that configure the switch become operations (ops.h) once it exists:
 * the settings one `set`, each --port a `port add`.
 */
#include "switch/sw.h"
#include "switch/ops.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <urcu-qsbr.h>

#include "lib/rcu.h"

#include "lib/ctl_wire.h"
#include "lib/grammar.h"

#define MAX_CLI_PORTS DP_MAX_PORTS

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tapswitch [OPTIONS]\n"
		"A userspace Ethernet switch on taps and network devices.\n"
		"\n"
		"  --ctl PATH             control socket (default %s)\n"
		"  --port IFNAME[,type=KIND]\n"
		"                         attach IFNAME (repeatable): a tap, created\n"
		"                         if absent, or an existing device; KIND is\n"
		"                         tap or afpacket (default: as the device is)\n"
		"  --ageing-time SEC      FDB ageing time, 0-1000000 (default %d;\n"
		"                         0 disables learning)\n"
		"  --max-learned N        learned entries limit (default %d, 0: none)\n"
		"  --group-fwd-mask MASK  link-local groups to forward (default 0)\n"
		"  --vlan-filtering 0|1   802.1Q VLAN filtering (default 0)\n"
		"  --vlan-protocol P      802.1Q or 802.1ad (default 802.1Q)\n"
		"  --default-pvid VID     VLAN new ports join as PVID, untagged\n"
		"                         (default 1; 0: none)\n"
		"  --io uring|syscall     how poll threads read and write taps:\n"
		"                         batched with io_uring (default, where the\n"
		"                         kernel has it) or a system call a frame\n"
		"  --poll-threads N       N poll threads, port i on thread i %% N\n"
		"                         (default 0: one thread a port)\n"
		"  --busy-poll USEC       keep polling idle ports this long before\n"
		"                         sleeping (default 0: sleep at once)\n"
		"  --pin-cpus LIST        pin poll thread i to the i-th CPU of LIST,\n"
		"                         round robin (e.g. 1 or 0-1 or 0,1)\n"
		"  --max-watchers N       captures, traces, dumps and monitors\n"
		"                         running at once (default %d)\n"
		"  --ctl-group GROUP      the control socket is 0660 to GROUP (a name\n"
		"                         or a number): its members may use\n"
		"                         tapswitchctl without root, but not have\n"
		"                         the daemon open files\n"
		"  --help                 this text\n"
		"  --version              print the version\n"
		"\n"
		"Runs in the foreground until SIGTERM or SIGINT; drive it with\n"
		"tapswitchctl.\n",
		CTL_DEFAULT_PATH, SW_DEFAULT_AGEING_S, SW_DEFAULT_MAX_LEARNED,
		SW_DEFAULT_MAX_WATCHERS);
}

/* "0-2,5" -> cpus[]; each must be one this process may run on. */
static int parse_cpus(const char *arg, struct dp_io_opts *io)
{
	const char *p = arg;
	cpu_set_t allowed;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		CPU_ZERO(&allowed);
	io->n_cpus = 0;
	while (*p) {
		unsigned long lo, hi;
		char *end;

		if (*p < '0' || *p > '9')
			goto bad;
		lo = hi = strtoul(p, &end, 10);
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				goto bad;
			hi = strtoul(p, &end, 10);
		}
		if (hi < lo || hi >= CPU_SETSIZE)
			goto bad;
		for (unsigned long c = lo; c <= hi; c++) {
			if (!CPU_ISSET(c, &allowed)) {
				fprintf(stderr,
					"Error: argument \"%s\" is wrong: CPU %lu is not available\n",
					arg, c);
				return -EINVAL;
			}
			if (io->n_cpus == DP_MAX_PORTS)
				goto bad;
			io->cpus[io->n_cpus++] = (int)c;
		}
		p = end;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			goto bad;
	}
	if (io->n_cpus)
		return 0;
bad:
	fprintf(stderr,
		"Error: argument \"%s\" is wrong: --pin-cpus takes a CPU list such as 0-1 or 0,2\n",
		arg);
	return -EINVAL;
}

static int parse_num(const char *opt, const char *arg, unsigned long max,
		     unsigned long *val)
{
	char *end;

	errno = 0;
	if (arg[0] == '-' || arg[0] == '+' || !arg[0])
		goto bad;
	*val = strtoul(arg, &end, 0);
	if (errno || *end || *val > max)
		goto bad;
	return 0;
bad:
	fprintf(stderr,
		"Error: argument \"%s\" is wrong: %s takes 0-%lu\n", arg, opt,
		max);
	return -EINVAL;
}

/* A group by name or number. */
static int parse_group(const char *arg, gid_t *gid)
{
	struct group *gr = getgrnam(arg);
	unsigned long v;
	char *end;

	if (gr) {
		*gid = gr->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (arg[0] >= '0' && arg[0] <= '9' && !*end && !errno &&
	    v < (gid_t)-1) {
		*gid = (gid_t)v;
		return 0;
	}
	fprintf(stderr,
		"Error: argument \"%s\" is wrong: --ctl-group takes a group name or number\n",
		arg);
	return -EINVAL;
}

/* Whether @kind is one `port add ... type` takes. */
static bool port_kind_public(const char *kind)
{
	for (const char *const *k = gr_port_kinds; *k; k++)
		if (!strcmp(*k, kind))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "ageing-time", required_argument, NULL, 'a' },
		{ "max-learned", required_argument, NULL, 'm' },
		{ "group-fwd-mask", required_argument, NULL, 'g' },
		{ "vlan-filtering", required_argument, NULL, 'F' },
		{ "vlan-protocol", required_argument, NULL, 'P' },
		{ "default-pvid", required_argument, NULL, 'D' },
		{ "io", required_argument, NULL, 'I' },
		{ "busy-poll", required_argument, NULL, 'B' },
		{ "poll-threads", required_argument, NULL, 'T' },
		{ "pin-cpus", required_argument, NULL, 'C' },
		{ "max-watchers", required_argument, NULL, 'W' },
		{ "ctl-group", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ctl_path = CTL_DEFAULT_PATH;
	char *ports[MAX_CLI_PORTS];
	unsigned long ageing = SW_DEFAULT_AGEING_S;
	unsigned long max_learned = SW_DEFAULT_MAX_LEARNED, mask = 0;
	unsigned long filtering = 0, default_pvid = 1, busy_us = 0;
	unsigned long n_threads = 0, max_watchers = SW_DEFAULT_MAX_WATCHERS;
	struct dp_io_opts io = { .uring = true };
	gid_t ctl_gid = (gid_t)-1;
	/* All of them, as the defaults or the options say. */
	struct sw_settings settings = { .given = SW_SET_ALL };
	struct sw_why why = { "" };
	uint16_t tpid = VLAN_TPID_8021Q;
	unsigned int n_ports = 0;
	struct sw_ctl *ctl = NULL;
	struct sw sw;
	sigset_t sigs;
	int opt, sig, err, ret = 1;

	while ((opt = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			ctl_path = optarg;
			break;
		case 'p':
			if (n_ports == MAX_CLI_PORTS) {
				fprintf(stderr, "Error: too many ports\n");
				return 1;
			}
			ports[n_ports++] = optarg;
			break;
		case 'a':
			if (parse_num("--ageing-time", optarg, SW_MAX_AGEING_S,
				      &ageing))
				return 1;
			break;
		case 'm':
			if (parse_num("--max-learned", optarg, UINT32_MAX,
				      &max_learned))
				return 1;
			break;
		case 'g':
			/* Bits 0-2 are for the set operation to refuse. */
			if (parse_num("--group-fwd-mask", optarg, 0xffff, &mask))
				return 1;
			break;
		case 'F':
			if (parse_num("--vlan-filtering", optarg, 1, &filtering))
				return 1;
			break;
		case 'P':
			if (!strcasecmp(optarg, "802.1Q")) {
				tpid = VLAN_TPID_8021Q;
			} else if (!strcasecmp(optarg, "802.1ad")) {
				tpid = VLAN_TPID_8021AD;
			} else {
				fprintf(stderr,
					"Error: argument \"%s\" is wrong: --vlan-protocol takes 802.1Q or 802.1ad\n",
					optarg);
				return 1;
			}
			break;
		case 'D':
			if (parse_num("--default-pvid", optarg, 4094,
				      &default_pvid))
				return 1;
			break;
		case 'I':
			if (!strcmp(optarg, "uring")) {
				io.uring = true;
			} else if (!strcmp(optarg, "syscall")) {
				io.uring = false;
			} else {
				fprintf(stderr,
					"Error: argument \"%s\" is wrong: --io takes uring or syscall\n",
					optarg);
				return 1;
			}
			break;
		case 'B':
			if (parse_num("--busy-poll", optarg, 1000000, &busy_us))
				return 1;
			io.busy_poll_us = busy_us;
			break;
		case 'C':
			if (parse_cpus(optarg, &io))
				return 1;
			break;
		case 'T':
			if (parse_num("--poll-threads", optarg, DP_MAX_PORTS,
				      &n_threads))
				return 1;
			io.n_threads = n_threads;
			break;
		case 'W':
			/* The range is for the set operation to refuse. */
			if (parse_num("--max-watchers", optarg, UINT32_MAX,
				      &max_watchers))
				return 1;
			break;
		case 'G':
			if (parse_group(optarg, &ctl_gid))
				return 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tapswitch %s\n", SW_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "Error: argument \"%s\" is wrong: unexpected\n",
			argv[optind]);
		return 1;
	}

	/* Signals go to sigwait() here; no other thread takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (sw_log_start())
		fprintf(stderr, "tapswitch: logging straight to stderr\n");
	rcu_register_thread();
	/* Offline unless working under sw->lock (sw_lock() goes online). */
	rcu_offline();
	err = sw_init(&sw, max_learned);
	if (err) {
		sw_log(LOG_ERR, "cannot start: %s", strerror(-err));
		goto out_unregister;
	}
	settings.ageing_s = ageing;
	settings.max_learned = max_learned;
	settings.group_fwd_mask = mask;
	settings.vlan_filtering = filtering;
	settings.vlan_protocol = tpid;
	settings.default_pvid = default_pvid;
	settings.max_watchers = max_watchers;
	sw_lock(&sw);
	dp_set_io_opts(sw.dp, &io);
	err = sw_op_set(&sw, &settings, &why);
	sw_unlock(&sw);
	if (err == -EINVAL) {
		/* An option the operation refused: its line, as for --port. */
		fprintf(stderr, "%s\n", why.msg);
		goto out_fini;
	}
	if (!err)
		err = sw_start_ager(&sw);
	if (!err)
		err = sw_link_start(&sw);
	if (err) {
		sw_log(LOG_ERR, "cannot start: %s", strerror(-err));
		goto out_fini;
	}
	for (unsigned int i = 0; i < n_ports; i++) {
		/* IFNAME[,type=KIND]: the kind is the operation's to check. */
		char *kind = strchr(ports[i], ',');

		if (kind) {
			*kind++ = '\0';
			if (strncmp(kind, "type=", 5)) {
				fprintf(stderr,
					"Error: argument \"%s\" is wrong: --port takes IFNAME[,type=KIND]\n",
					kind);
				goto out_fini;
			}
			kind += 5;
			if (!port_kind_public(kind)) {
				fprintf(stderr,
					"Error: argument \"%s\" is wrong: unknown port kind\n",
					kind);
				goto out_fini;
			}
		}
		sw_lock(&sw);
		err = sw_op_port_add(&sw, ports[i], kind, &why);
		sw_unlock(&sw);
		if (err) {
			fprintf(stderr, "%s\n", why.msg);
			goto out_fini;
		}
	}
	ctl = sw_ctl_start(&sw, ctl_path, ctl_gid, &err);
	if (!ctl) {
		if (err == -EADDRINUSE)
			fprintf(stderr,
				"Error: argument \"%s\" is wrong: another tapswitch is listening there\n",
				ctl_path);
		else if (err == -EEXIST)
			fprintf(stderr,
				"Error: argument \"%s\" is wrong: exists and is not a socket\n",
				ctl_path);
		else
			fprintf(stderr,
				"Error: argument \"%s\" is wrong: cannot listen: %s\n",
				ctl_path, strerror(-err));
		goto out_fini;
	}
	sw_log(LOG_INFO, "ready: %u port(s), control socket %s", n_ports,
	       ctl_path);

	do {
		err = sigwait(&sigs, &sig);
	} while (err == EINTR);
	sw_log(LOG_INFO, "signal %d: shutting down", sig);
	ret = 0;

	sw_ctl_stop(ctl);
out_fini:
	sw_link_stop(&sw);
	sw_fini(&sw);
	sw_link_free(&sw);
out_unregister:
	rcu_tsan_quiescent();
	rcu_unregister_thread();
	sw_log_stop();
	return ret;
}
