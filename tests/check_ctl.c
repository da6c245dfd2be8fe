/*
 * check_ctl.c - unit tests for cli/: the control protocol (requests over
 * a socketpair, responses built with ctl_put_*() into a memory stream and
 * parsed back) and the output of ctl_format(), text and JSON.
 *
 * JSON output is checked twice: byte for byte against what we expect, and
 * by a small strict RFC 8259 validator below, which also runs over
 * randomly built responses.
 *
 *   one case:  CK_RUN_CASE=format_json build/tests/check_ctl
 *   under ASan: CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ...
 */
#include "cli/ctl_format.h"
#include "lib/ctl_wire.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "check_common.h"

/* Helpers */

/* A socketpair: sv[0] for the client, sv[1] for the daemon. */
static int sv[2] = { -1, -1 };

static void setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		sv[i] = -1;
	}
}

static void write_raw(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		ck_assert_int_gt(n, 0);
		buf += n;
		len -= n;
	}
}

/* The client is done sending. */
static void client_done(void)
{
	ck_assert_int_eq(shutdown(sv[0], SHUT_WR), 0);
}

/* Everything the peer sent until EOF; *len gets its length. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 256, n = 0;
	char *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		r = read(fd, buf + n, cap - n - 1);
		ck_assert_int_ge(r, 0);
		if (!r)
			break;
		n += r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* A memory stream for ctl_put_*() or ctl_format(). */
struct mem {
	FILE *f;
	char *buf;
	size_t len;
};

static void mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	ck_assert_ptr_nonnull(m->f);
}

/* Close the stream; the text stays in m->buf for the caller to free. */
static char *mem_close(struct mem *m)
{
	ck_assert_int_eq(fclose(m->f), 0);
	m->f = NULL;
	return m->buf;
}

static int parse_text(const char *text, struct ctl_response *resp)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	int err;

	ck_assert_ptr_nonnull(in);
	err = ctl_response_parse(in, resp);
	fclose(in);
	return err;
}

/*
 * ctl_format() into a static buffer, valid until the next call: nothing
 * to free, so a failing assertion (a longjmp with CK_FORK=no) leaks
 * nothing for LeakSanitizer to report.
 */
static const char *format(const struct ctl_response *resp, bool json,
			  bool stats, bool single)
{
	static char out[1 << 16];
	struct mem m;
	char *text;

	mem_open(&m);
	ctl_format(m.f, resp, json, stats, single);
	text = mem_close(&m);
	ck_assert_uint_lt(m.len, sizeof(out));
	memcpy(out, text, m.len + 1);
	free(text);
	return out;
}

/* Heap copies of @argc words, for the char *const argv[] of a request. */
static char **words_dup(int argc, const char *const *words)
{
	char **argv = calloc(argc + 1, sizeof(*argv));

	ck_assert_ptr_nonnull(argv);
	for (int i = 0; i < argc; i++) {
		argv[i] = strdup(words[i]);
		ck_assert_ptr_nonnull(argv[i]);
	}
	return argv;
}

static void words_free(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

/* A response of one record built by hand, for values the wire cannot
 * carry (a newline); ctl_response_free() frees it. */
struct fdef {
	enum ctl_type type;
	const char *key;
	const char *value;
};

static void mkresp(struct ctl_response *resp, const char *kind,
		   const struct fdef *defs, unsigned int n)
{
	struct ctl_record *rec;

	memset(resp, 0, sizeof(*resp));
	rec = calloc(1, sizeof(*rec));
	ck_assert_ptr_nonnull(rec);
	resp->records = rec;
	resp->n_records = 1;
	rec->kind = strdup(kind);
	rec->fields = calloc(n ? n : 1, sizeof(*rec->fields));
	ck_assert_ptr_nonnull(rec->kind);
	ck_assert_ptr_nonnull(rec->fields);
	for (unsigned int i = 0; i < n; i++) {
		rec->fields[i].type = defs[i].type;
		rec->fields[i].key = strdup(defs[i].key);
		rec->fields[i].value = strdup(defs[i].value);
		ck_assert_ptr_nonnull(rec->fields[i].key);
		ck_assert_ptr_nonnull(rec->fields[i].value);
		rec->n_fields++;
	}
}

#define N_DEFS(d) (sizeof(d) / sizeof((d)[0]))

/*
 * A strict JSON validator (RFC 8259): a value, optional whitespace around
 * it, nothing else.  Strings may not hold raw control characters; escapes
 * and numbers must be well formed.
 */
static void j_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static bool j_value(const char **p, int depth);

static bool j_string(const char **p)
{
	if (**p != '"')
		return false;
	(*p)++;
	for (;;) {
		unsigned char c = **p;

		if (c == '"') {
			(*p)++;
			return true;
		}
		if (c < 0x20)		/* the end of the text, too */
			return false;
		(*p)++;
		if (c != '\\')
			continue;
		c = **p;
		if (c && strchr("\"\\/bfnrt", c)) {
			(*p)++;
		} else if (c == 'u') {
			(*p)++;
			for (int i = 0; i < 4; i++, (*p)++)
				if (!isxdigit((unsigned char)**p))
					return false;
		} else {
			return false;
		}
	}
}

static bool j_number(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	*p = s;
	return true;
}

static bool j_word(const char **p, const char *word)
{
	size_t len = strlen(word);

	if (strncmp(*p, word, len))
		return false;
	*p += len;
	return true;
}

static bool j_value(const char **p, int depth)
{
	if (depth > 64)
		return false;
	j_ws(p);
	switch (**p) {
	case '{':
		(*p)++;
		j_ws(p);
		if (**p == '}') {
			(*p)++;
			return true;
		}
		for (;;) {
			j_ws(p);
			if (!j_string(p))
				return false;
			j_ws(p);
			if (**p != ':')
				return false;
			(*p)++;
			if (!j_value(p, depth + 1))
				return false;
			j_ws(p);
			if (**p == '}') {
				(*p)++;
				return true;
			}
			if (**p != ',')
				return false;
			(*p)++;
		}
	case '[':
		(*p)++;
		j_ws(p);
		if (**p == ']') {
			(*p)++;
			return true;
		}
		for (;;) {
			if (!j_value(p, depth + 1))
				return false;
			j_ws(p);
			if (**p == ']') {
				(*p)++;
				return true;
			}
			if (**p != ',')
				return false;
			(*p)++;
		}
	case '"':
		return j_string(p);
	case 't':
		return j_word(p, "true");
	case 'f':
		return j_word(p, "false");
	case 'n':
		return j_word(p, "null");
	default:
		return j_number(p);
	}
}

static bool json_valid(const char *text)
{
	const char *p = text;

	if (!j_value(&p, 0))
		return false;
	j_ws(&p);
	return *p == '\0';
}

/* Responses as the daemon builds them (switch/ctl_server.c). */

static void put_fdb(FILE *out, const char *mac, const char *ifname,
		    unsigned int vlan, const char *const *flags, uint64_t age)
{
	ctl_put_obj(out, "fdb");
	ctl_put_str(out, "mac", mac);
	ctl_put_str(out, "ifname", ifname);
	if (vlan)
		ctl_put_num(out, "vlan", vlan);
	ctl_put_list(out, "flags", flags);
	ctl_put_num(out, "age", age);
}

static const char *const port_stats[] = {
	"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "flooded",
	"drop_runt", "drop_src", "drop_link_local", "drop_same_port",
	"drop_port_down", "tx_errors", "rx_errors",
};
#define N_PORT_STATS (sizeof(port_stats) / sizeof(port_stats[0]))

static void put_port(FILE *out, const char *ifname, bool up)
{
	ctl_put_obj(out, "port");
	ctl_put_str(out, "ifname", ifname);
	ctl_put_str(out, "kind", "tap");
	ctl_put_str(out, "state", up ? "forwarding" : "disabled");
	ctl_put_str(out, "link", up ? "up" : "down");
	ctl_put_bool(out, "learning", true);
	ctl_put_bool(out, "flood", true);
	ctl_put_bool(out, "mcast_flood", false);
	ctl_put_bool(out, "bcast_flood", true);
	for (size_t i = 0; i < N_PORT_STATS; i++) {
		char key[64];

		snprintf(key, sizeof(key), "stats.%s", port_stats[i]);
		ctl_put_num(out, key, i + 1);
	}
}

static void put_switch(FILE *out, unsigned int group_fwd_mask)
{
	ctl_put_obj(out, "switch");
	ctl_put_str(out, "version", "0.1.0");
	ctl_put_num(out, "ageing_time", 300);
	ctl_put_num(out, "max_learned", 0);
	ctl_put_num(out, "group_fwd_mask", group_fwd_mask);
	ctl_put_num(out, "vlan_filtering", 0);
	ctl_put_num(out, "stp_state", 0);
	ctl_put_num(out, "stats.learned", 5);
	ctl_put_num(out, "stats.moved", 1);
	ctl_put_num(out, "stats.aged", 2);
	ctl_put_num(out, "stats.fdb_entries", 3);
}

/* Build with @put, check the wire text is well formed, parse it back. */
static void build_and_parse(void (*put)(FILE *out), struct ctl_response *resp)
{
	struct mem m;
	char *text;

	mem_open(&m);
	put(m.f);
	text = mem_close(&m);
	ck_assert_msg(parse_text(text, resp) == 0, "does not parse:\n%s",
		      text);
	free(text);
}

static const char *const flags_static_sticky[] = { "static", "sticky",
						   NULL };
static const char *const flags_none[] = { NULL };

/* The JSON validator itself */

START_TEST(test_json_validator)
{
	static const char *const good[] = {
		"{}", "[]", "[]\n", " {\"a\":1} ", "[1,-0,2.5e+3,0.1,\"\"]",
		"{\"a\":{\"b\":[true,false,null]}}", "\"\\u00e9\\n\\\"\"",
		"18446744073709551615",
	};
	static const char *const bad[] = {
		"", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}", "01", "1.",
		"-", "\"\x01\"", "\"\\x\"", "\"\\u12\"", "[]]", "tru",
		"{\"a\":1,}", "[1 2]", "abc", "\"\\\"",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(json_valid(good[i]), "valid: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!json_valid(bad[i]), "invalid: %s", bad[i]);
}
END_TEST

/* request */

START_TEST(test_request_roundtrip)
{
	static const char *const w[] = { "fdb", "show", "dev", "tap0" };
	char **argv = words_dup(4, w);
	char buf[CTL_MAX_REQUEST], *words[CTL_MAX_WORDS];
	int n;

	ck_assert_int_eq(ctl_request_send(sv[0], 4, argv), 0);
	n = ctl_request_recv(sv[1], buf, sizeof(buf), words, CTL_MAX_WORDS);
	ck_assert_int_eq(n, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_str_eq(words[i], w[i]);
	words_free(4, argv);
}
END_TEST

START_TEST(test_request_wire_bytes)
{
	static const char *const w[] = { "fdb", "add", "02:00:00:00:00:01",
					 "dev", "tap0", "static" };
	char **argv = words_dup(6, w);
	size_t len;
	char *got;

	ck_assert_int_eq(ctl_request_send(sv[0], 6, argv), 0);
	words_free(6, argv);
	client_done();
	got = read_all(sv[1], &len);
	ck_assert_str_eq(got, "fdb\nadd\n02:00:00:00:00:01\ndev\ntap0\n"
			      "static\n\n");
	ck_assert_uint_eq(len, strlen(got));
	free(got);
}
END_TEST

START_TEST(test_request_no_words)
{
	char buf[64], *words[4];
	size_t len;
	char *got;

	ck_assert_int_eq(ctl_request_send(sv[0], 0, NULL), 0);
	ck_assert_int_eq(ctl_request_recv(sv[1], buf, sizeof(buf), words, 4),
			 0);
	/* Exactly one byte was sent, and recv read no further. */
	client_done();
	got = read_all(sv[1], &len);
	ck_assert_uint_eq(len, 0);
	free(got);
}
END_TEST

/* The request is read up to its empty line and no further. */
START_TEST(test_request_stops_at_empty_line)
{
	static const char raw[] = "port\nshow\n\nnext\n\n";
	char buf[64], *words[4];

	write_raw(sv[0], raw, sizeof(raw) - 1);
	ck_assert_int_eq(ctl_request_recv(sv[1], buf, sizeof(buf), words, 4),
			 2);
	ck_assert_str_eq(words[0], "port");
	ck_assert_str_eq(words[1], "show");
	ck_assert_int_eq(ctl_request_recv(sv[1], buf, sizeof(buf), words, 4),
			 1);
	ck_assert_str_eq(words[0], "next");
}
END_TEST

/* A request the sender refuses leaves nothing on the socket. */
static void check_send_refused(int argc, const char *const words[], int want)
{
	char **argv = words_dup(argc, words);
	size_t len;
	char *got;

	ck_assert_int_eq(ctl_request_send(sv[0], argc, argv), want);
	words_free(argc, argv);
	client_done();
	got = read_all(sv[1], &len);
	ck_assert_msg(len == 0, "%zu bytes were sent: \"%s\"", len, got);
	free(got);
}

START_TEST(test_request_empty_word)
{
	static const char *const argv[] = { "fdb", "", "show" };

	check_send_refused(3, argv, -EINVAL);
}
END_TEST

START_TEST(test_request_newline_in_word)
{
	static const char *const argv[] = { "fdb", "show\ndev", "tap0" };

	check_send_refused(3, argv, -EINVAL);
}
END_TEST

START_TEST(test_request_lone_newline_word)
{
	static const char *const argv[] = { "\n" };

	check_send_refused(1, argv, -EINVAL);
}
END_TEST

START_TEST(test_request_too_many_words_send)
{
	const char *argv[CTL_MAX_WORDS + 1];

	for (int i = 0; i <= CTL_MAX_WORDS; i++)
		argv[i] = "w";
	check_send_refused(CTL_MAX_WORDS + 1, argv, -EINVAL);
}
END_TEST

START_TEST(test_request_max_words)
{
	char *argv[CTL_MAX_WORDS], *words[CTL_MAX_WORDS];
	char buf[CTL_MAX_REQUEST], names[CTL_MAX_WORDS][16];

	for (int i = 0; i < CTL_MAX_WORDS; i++) {
		snprintf(names[i], sizeof(names[i]), "w%d", i);
		argv[i] = names[i];
	}
	ck_assert_int_eq(ctl_request_send(sv[0], CTL_MAX_WORDS, argv), 0);
	ck_assert_int_eq(ctl_request_recv(sv[1], buf, sizeof(buf), words,
					  CTL_MAX_WORDS), CTL_MAX_WORDS);
	for (int i = 0; i < CTL_MAX_WORDS; i++)
		ck_assert_str_eq(words[i], names[i]);
}
END_TEST

START_TEST(test_request_too_many_words_recv)
{
	static const char raw[] = "a\nb\nc\n\n";
	char buf[64], *words[3];

	write_raw(sv[0], raw, sizeof(raw) - 1);
	ck_assert_int_eq(ctl_request_recv(sv[1], buf, sizeof(buf), words, 2),
			 -EMSGSIZE);
}
END_TEST

START_TEST(test_request_too_many_words_recv_default)
{
	char raw[2 * (CTL_MAX_WORDS + 1) + 1], buf[CTL_MAX_REQUEST];
	char *words[CTL_MAX_WORDS];
	size_t n = 0;

	for (int i = 0; i <= CTL_MAX_WORDS; i++) {
		raw[n++] = 'w';
		raw[n++] = '\n';
	}
	raw[n++] = '\n';
	write_raw(sv[0], raw, n);
	ck_assert_int_eq(ctl_request_recv(sv[1], buf, sizeof(buf), words,
					  CTL_MAX_WORDS), -EMSGSIZE);
}
END_TEST

/* The longest request send() accepts fits recv()'s CTL_MAX_REQUEST. */
START_TEST(test_request_longest)
{
	char *word = malloc(CTL_MAX_REQUEST);
	char *argv[1] = { word }, *words[1];
	char buf[CTL_MAX_REQUEST];

	ck_assert_ptr_nonnull(word);
	memset(word, 'x', CTL_MAX_REQUEST - 3);
	word[CTL_MAX_REQUEST - 3] = '\0';
	ck_assert_int_eq(ctl_request_send(sv[0], 1, argv), 0);
	ck_assert_int_eq(ctl_request_recv(sv[1], buf, sizeof(buf), words, 1),
			 1);
	ck_assert_str_eq(words[0], word);
	free(word);
}
END_TEST

START_TEST(test_request_too_long_send)
{
	char *word = malloc(CTL_MAX_REQUEST);
	const char *argv[1] = { word };

	ck_assert_ptr_nonnull(word);
	memset(word, 'x', CTL_MAX_REQUEST - 2);
	word[CTL_MAX_REQUEST - 2] = '\0';
	check_send_refused(1, argv, -EINVAL);
	free(word);
}
END_TEST

START_TEST(test_request_too_long_recv)
{
	static const char raw[] = "abcdefgh\nijklmnop\n\n";
	char buf[16], *words[4];

	write_raw(sv[0], raw, sizeof(raw) - 1);
	ck_assert_int_eq(ctl_request_recv(sv[1], buf, sizeof(buf), words, 4),
			 -EMSGSIZE);
}
END_TEST

/* The connection closes before the empty line. */
static const char *const eof_inputs[] = {
	"", "fdb", "fdb\n", "fdb\nshow\n", "fdb\nshow",
};

START_TEST(test_request_eof)
{
	const char *raw = eof_inputs[_i];
	char buf[64], *words[4];

	write_raw(sv[0], raw, strlen(raw));
	client_done();
	ck_assert_msg(ctl_request_recv(sv[1], buf, sizeof(buf), words, 4) ==
		      -EPROTO, "\"%s\" then EOF: want -EPROTO", raw);
}
END_TEST

/*
 * A NUL byte inside a request.  The daemon reads requests from any local
 * client, so ctl_request_recv() must reject it (any -errno), not crash.
 * Run in a child of our own, so that a crash fails this test only, with
 * CK_FORK=no as well.
 */
static const struct {
	const char *raw;
	size_t len;
} nul_inputs[] = {
	{ "a\0b\n\n", 5 },
	{ "fdb\nsh\0w\n\n", 10 },
	{ "fdb\0\n\n", 6 },
};

START_TEST(test_request_nul_byte)
{
	const char *raw = nul_inputs[_i].raw;
	size_t len = nul_inputs[_i].len;
	int status;
	pid_t pid;

	write_raw(sv[0], raw, len);
	client_done();
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char buf[64], *words[4];
		int n = ctl_request_recv(sv[1], buf, sizeof(buf), words, 4);

		_exit(n < 0 ? 0 : 10 + n);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(!WIFSIGNALED(status), "input %d (%zu bytes with a NUL): "
		      "ctl_request_recv() crashed with signal %d (%s)", _i,
		      len, WTERMSIG(status), strsignal(WTERMSIG(status)));
	ck_assert_msg(!WIFEXITED(status) || WEXITSTATUS(status) < 10,
		      "input %d (%zu bytes with a NUL): accepted as %d "
		      "word(s), want an error", _i, len,
		      WEXITSTATUS(status) - 10);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "input %d (%zu bytes with a NUL): ctl_request_recv() "
		      "died, exit status %d (a sanitizer's report is above)",
		      _i, len, WEXITSTATUS(status));
}
END_TEST

/* response */

static void put_two_records(FILE *out)
{
	ctl_put_obj(out, "fdb");
	ctl_put_str(out, "mac", "02:00:00:00:00:01");
	ctl_put_str(out, "ifname", "tap0");
	ctl_put_num(out, "vlan", 10);
	ctl_put_list(out, "flags", flags_static_sticky);
	ctl_put_num(out, "age", 3);
	ctl_put_bool(out, "on", true);
	ctl_put_bool(out, "off", false);
	ctl_put_num(out, "big", UINT64_MAX);
	ctl_put_obj(out, "port");
	ctl_put_str(out, "ifname", "tap1");
	ctl_put_list(out, "flags", flags_none);
	ctl_put_str(out, "empty", "");
	ctl_put_str(out, "eq", "a=b=c");
	ctl_put_status(out, 0, NULL);
}

START_TEST(test_response_wire_text)
{
	struct mem m;
	char *text;

	mem_open(&m);
	put_two_records(m.f);
	text = mem_close(&m);
	ck_assert_str_eq(text,
			 "obj fdb\n"
			 "s mac=02:00:00:00:00:01\n"
			 "s ifname=tap0\n"
			 "n vlan=10\n"
			 "l flags=static,sticky\n"
			 "n age=3\n"
			 "b on=1\n"
			 "b off=0\n"
			 "n big=18446744073709551615\n"
			 "obj port\n"
			 "s ifname=tap1\n"
			 "l flags=\n"
			 "s empty=\n"
			 "s eq=a=b=c\n"
			 "status 0\n"
			 "\n");
	free(text);
}
END_TEST

#define ck_assert_field(rec, k, t, v)					\
	do {								\
		const struct ctl_field *f_ = ctl_record_get((rec), (k)); \
									\
		ck_assert_msg(f_ != NULL, "no field %s", (k));		\
		ck_assert_int_eq(f_->type, (t));			\
		ck_assert_str_eq(f_->value, (v));			\
	} while (0)

START_TEST(test_response_roundtrip)
{
	struct ctl_response resp;
	const struct ctl_record *r;
	static const char *const keys[] = { "mac", "ifname", "vlan", "flags",
					    "age", "on", "off", "big" };

	build_and_parse(put_two_records, &resp);
	ck_assert_int_eq(resp.status, 0);
	ck_assert_ptr_null(resp.error);
	ck_assert_uint_eq(resp.n_records, 2);

	r = &resp.records[0];
	ck_assert_str_eq(r->kind, "fdb");
	ck_assert_uint_eq(r->n_fields, 8);
	for (unsigned int i = 0; i < 8; i++)	/* in the order sent */
		ck_assert_str_eq(r->fields[i].key, keys[i]);
	ck_assert_field(r, "mac", CTL_STR, "02:00:00:00:00:01");
	ck_assert_field(r, "ifname", CTL_STR, "tap0");
	ck_assert_field(r, "vlan", CTL_NUM, "10");
	ck_assert_field(r, "flags", CTL_LIST, "static,sticky");
	ck_assert_field(r, "age", CTL_NUM, "3");
	ck_assert_field(r, "on", CTL_BOOL, "1");
	ck_assert_field(r, "off", CTL_BOOL, "0");
	ck_assert_field(r, "big", CTL_NUM, "18446744073709551615");
	ck_assert_ptr_null(ctl_record_get(r, "nope"));
	ck_assert_ptr_null(ctl_record_get(r, "mac="));

	r = &resp.records[1];
	ck_assert_str_eq(r->kind, "port");
	ck_assert_uint_eq(r->n_fields, 4);
	ck_assert_field(r, "ifname", CTL_STR, "tap1");
	ck_assert_field(r, "flags", CTL_LIST, "");
	ck_assert_field(r, "empty", CTL_STR, "");
	ck_assert_field(r, "eq", CTL_STR, "a=b=c");
	ck_assert_ptr_null(ctl_record_get(r, "mac"));

	ctl_response_free(&resp);
	ck_assert_uint_eq(resp.n_records, 0);
	ck_assert_ptr_null(resp.records);
	ctl_response_free(&resp);	/* twice is harmless */
}
END_TEST

static void put_error(FILE *out)
{
	ctl_put_status(out, -22, "Error: argument \"tap9\" is wrong: no "
				 "such port\nsecond line");
}

START_TEST(test_response_error_status)
{
	struct ctl_response resp;
	struct mem m;
	char *text;

	mem_open(&m);
	put_error(m.f);
	text = mem_close(&m);
	/* The error stays on one line. */
	ck_assert_str_eq(text, "error Error: argument \"tap9\" is wrong: no "
			       "such port second line\nstatus -22\n\n");
	free(text);

	build_and_parse(put_error, &resp);
	ck_assert_int_eq(resp.status, -22);
	ck_assert_str_eq(resp.error, "Error: argument \"tap9\" is wrong: no "
				     "such port second line");
	ck_assert_uint_eq(resp.n_records, 0);
	ctl_response_free(&resp);
	ck_assert_ptr_null(resp.error);
}
END_TEST

START_TEST(test_response_status_only)
{
	struct ctl_response resp;

	ck_assert_int_eq(parse_text("status 0\n\n", &resp), 0);
	ck_assert_int_eq(resp.status, 0);
	ck_assert_uint_eq(resp.n_records, 0);
	ck_assert_ptr_null(resp.error);
	ctl_response_free(&resp);
	ck_assert_int_eq(parse_text("status -2\n\n", &resp), 0);
	ck_assert_int_eq(resp.status, -2);
	ctl_response_free(&resp);
}
END_TEST

static void put_newlines(FILE *out)
{
	ctl_put_obj(out, "x");
	ctl_put_str(out, "s", "line one\nline two\n");
	ctl_put_status(out, 0, NULL);
}

START_TEST(test_response_newline_in_value)
{
	struct ctl_response resp;

	build_and_parse(put_newlines, &resp);
	ck_assert_uint_eq(resp.n_records, 1);
	ck_assert_field(&resp.records[0], "s", CTL_STR, "line one line two ");
	ctl_response_free(&resp);
}
END_TEST

/* Random string values survive the trip (a newline becomes a space). */
START_TEST(test_response_roundtrip_random)
{
	uint64_t rng = 0xc71;

	for (int round = 0; round < 500; round++) {
		char value[200], want[200];
		struct ctl_response resp;
		struct mem m;
		char *text;
		size_t len;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		len = (rng >> 33) % (sizeof(value) - 1);
		for (size_t i = 0; i < len; i++) {
			rng = rng * 6364136223846793005ULL + 1;
			value[i] = 1 + (rng >> 33) % 255;
			want[i] = value[i] == '\n' ? ' ' : value[i];
		}
		value[len] = want[len] = '\0';
		mem_open(&m);
		ctl_put_obj(m.f, "r");
		ctl_put_str(m.f, "v", value);
		ctl_put_status(m.f, 0, NULL);
		text = mem_close(&m);
		ck_assert_int_eq(parse_text(text, &resp), 0);
		ck_assert_uint_eq(resp.n_records, 1);
		ck_assert_field(&resp.records[0], "v", CTL_STR, want);
		ctl_response_free(&resp);
		free(text);
	}
}
END_TEST

/* Not a well-formed response: -EPROTO, and the result can be freed. */
static const char *const malformed[] = {
	"",
	"\n",
	"status 0\n",				/* no empty line */
	"status 0",
	"status 0\nx\n",
	"status x\n\n",
	"status 0x\n\n",
	"status \n\n",				/* no number */
	"s k=v\nstatus 0\n\n",			/* field before any obj */
	"obj fdb\ns kv\nstatus 0\n\n",		/* no '=' */
	"obj fdb\ns =v\nstatus 0\n\n",		/* empty key */
	"obj fdb\nx k=v\nstatus 0\n\n",		/* unknown type */
	"obj fdb\nsk=v\nstatus 0\n\n",
	"obj fdb\n\nstatus 0\n\n",		/* empty line too early */
	"obj fdb\ngarbage\nstatus 0\n\n",
	"obj fdb\ns k=v\n",			/* EOF before status */
	"obj fdb\ns k=v",
	"obj\nstatus 0\n\n",
	"error oops\n",
	"status 0\nstatus 0\n\n",
};

START_TEST(test_response_malformed)
{
	struct ctl_response resp;
	int err = parse_text(malformed[_i], &resp);

	ck_assert_msg(err == -EPROTO, "input %d \"%s\": got %d, want -EPROTO",
		      _i, malformed[_i], err);
	ctl_response_free(&resp);
}
END_TEST

/*
 * Typed values that do not match their type.  ctl_format() prints a
 * number's text as is into JSON, so a parser that lets these through
 * produces invalid JSON ("age":abc).
 */
static const char *const malformed_values[] = {
	"obj fdb\nn age=abc\nstatus 0\n\n",
	"obj fdb\nn age=\nstatus 0\n\n",
	"obj fdb\nn age=007\nstatus 0\n\n",
	"obj fdb\nb on=yes\nstatus 0\n\n",
	"status 99999999999\n\n",		/* does not fit an int */
};

START_TEST(test_response_malformed_values)
{
	struct ctl_response resp;
	int err = parse_text(malformed_values[_i], &resp);

	if (!err) {
		const char *json = format(&resp, true, false, false);
		int status = resp.status;

		ctl_response_free(&resp);
		ck_assert_msg(0, "input %d \"%s\" parses (status %d), and "
			      "-j prints %s%s", _i, malformed_values[_i],
			      status, json, json_valid(json) ?
			      "" : "(invalid JSON)");
	}
	ck_assert_int_eq(err, -EPROTO);
	ctl_response_free(&resp);
}
END_TEST

/* format: JSON */

static void put_one_fdb(FILE *out)
{
	put_fdb(out, "02:00:00:00:00:01", "tap0", 0, flags_static_sticky, 3);
	ctl_put_status(out, 0, NULL);
}

static void put_two_fdb(FILE *out)
{
	put_fdb(out, "02:00:00:00:00:01", "tap0", 0, flags_static_sticky, 3);
	put_fdb(out, "02:00:00:00:00:02", "tap1", 10, flags_none, 0);
	ctl_put_status(out, 0, NULL);
}

static void put_one_port(FILE *out)
{
	put_port(out, "tap0", true);
	ctl_put_status(out, 0, NULL);
}

static void put_two_ports(FILE *out)
{
	put_port(out, "tap0", true);
	put_port(out, "tap1", false);
	ctl_put_status(out, 0, NULL);
}

static void put_one_switch(FILE *out)
{
	put_switch(out, 1u << 14);
	ctl_put_status(out, 0, NULL);
}

static void put_nothing(FILE *out)
{
	ctl_put_status(out, 0, NULL);
}

#define ck_assert_format(put, json, stats, single, want)		\
	do {								\
		struct ctl_response resp_;				\
		const char *got_;					\
									\
		build_and_parse((put), &resp_);				\
		got_ = format(&resp_, (json), (stats), (single));	\
		ctl_response_free(&resp_);				\
		ck_assert_str_eq(got_, (want));				\
		if (json)						\
			ck_assert_msg(json_valid(got_),			\
				      "invalid JSON: %s", got_);	\
	} while (0)

START_TEST(test_json_fdb)
{
	ck_assert_format(put_one_fdb, true, false, false,
			 "[{\"mac\":\"02:00:00:00:00:01\",\"ifname\":\"tap0\","
			 "\"flags\":[\"static\",\"sticky\"],\"age\":3}]\n");
	/* -s changes nothing for a record without stats. */
	ck_assert_format(put_one_fdb, true, true, false,
			 "[{\"mac\":\"02:00:00:00:00:01\",\"ifname\":\"tap0\","
			 "\"flags\":[\"static\",\"sticky\"],\"age\":3}]\n");
}
END_TEST

START_TEST(test_json_fdb_two)
{
	ck_assert_format(put_two_fdb, true, false, false,
			 "[{\"mac\":\"02:00:00:00:00:01\",\"ifname\":\"tap0\","
			 "\"flags\":[\"static\",\"sticky\"],\"age\":3},"
			 "{\"mac\":\"02:00:00:00:00:02\",\"ifname\":\"tap1\","
			 "\"vlan\":10,\"flags\":[],\"age\":0}]\n");
}
END_TEST

START_TEST(test_json_empty)
{
	ck_assert_format(put_nothing, true, false, false, "[]\n");
	ck_assert_format(put_nothing, true, true, true, "{}\n");
}
END_TEST

#define PORT_STATS_JSON							\
	",\"stats\":{\"rx_packets\":1,\"rx_bytes\":2,\"tx_packets\":3,"	\
	"\"tx_bytes\":4,\"flooded\":5,\"drop_runt\":6,\"drop_src\":7,"	\
	"\"drop_link_local\":8,\"drop_same_port\":9,"			\
	"\"drop_port_down\":10,\"tx_errors\":11,\"rx_errors\":12}"

START_TEST(test_json_port)
{
	struct ctl_response resp;
	const char *got;

	ck_assert_format(put_one_port, true, false, false,
			 "[{\"ifname\":\"tap0\",\"kind\":\"tap\","
			 "\"state\":\"forwarding\",\"link\":\"up\","
			 "\"learning\":true,\"flood\":true,"
			 "\"mcast_flood\":false,\"bcast_flood\":true}]\n");
	ck_assert_format(put_one_port, true, true, false,
			 "[{\"ifname\":\"tap0\",\"kind\":\"tap\","
			 "\"state\":\"forwarding\",\"link\":\"up\","
			 "\"learning\":true,\"flood\":true,"
			 "\"mcast_flood\":false,\"bcast_flood\":true"
			 PORT_STATS_JSON "}]\n");
	/* Without -s no stats at all, not even an empty object. */
	build_and_parse(put_one_port, &resp);
	got = format(&resp, true, false, false);
	ctl_response_free(&resp);
	ck_assert_ptr_null(strstr(got, "stats"));
}
END_TEST

START_TEST(test_json_ports_two_stats)
{
	ck_assert_format(put_two_ports, true, true, false,
			 "[{\"ifname\":\"tap0\",\"kind\":\"tap\","
			 "\"state\":\"forwarding\",\"link\":\"up\","
			 "\"learning\":true,\"flood\":true,"
			 "\"mcast_flood\":false,\"bcast_flood\":true"
			 PORT_STATS_JSON "},"
			 "{\"ifname\":\"tap1\",\"kind\":\"tap\","
			 "\"state\":\"disabled\",\"link\":\"down\","
			 "\"learning\":true,\"flood\":true,"
			 "\"mcast_flood\":false,\"bcast_flood\":true"
			 PORT_STATS_JSON "}]\n");
}
END_TEST

START_TEST(test_json_single)
{
	ck_assert_format(put_one_switch, true, false, true,
			 "{\"version\":\"0.1.0\",\"ageing_time\":300,"
			 "\"max_learned\":0,\"group_fwd_mask\":16384,"
			 "\"vlan_filtering\":0,\"stp_state\":0}\n");
	ck_assert_format(put_one_switch, true, true, true,
			 "{\"version\":\"0.1.0\",\"ageing_time\":300,"
			 "\"max_learned\":0,\"group_fwd_mask\":16384,"
			 "\"vlan_filtering\":0,\"stp_state\":0,"
			 "\"stats\":{\"learned\":5,\"moved\":1,\"aged\":2,"
			 "\"fdb_entries\":3}}\n");
}
END_TEST

/* A group closes before the next plain key; commas stay right. */
START_TEST(test_json_group_then_plain)
{
	static const struct fdef defs[] = {
		{ CTL_NUM, "a", "1" },
		{ CTL_NUM, "stats.x", "2" },
		{ CTL_NUM, "stats.y", "3" },
		{ CTL_NUM, "b", "4" },
		{ CTL_NUM, "stats.z", "5" },
		{ CTL_BOOL, "c", "0" },
	};
	struct ctl_response resp;
	const char *got;

	mkresp(&resp, "r", defs, N_DEFS(defs));
	got = format(&resp, true, true, false);
	ck_assert_str_eq(got, "[{\"a\":1,\"stats\":{\"x\":2,\"y\":3},\"b\":4,"
			      "\"stats\":{\"z\":5},\"c\":false}]\n");
	ck_assert(json_valid(got));
	got = format(&resp, true, false, false);
	ck_assert_str_eq(got, "[{\"a\":1,\"b\":4,\"c\":false}]\n");
	ctl_response_free(&resp);
	/* Only stats. */
	mkresp(&resp, "r", defs + 1, 2);
	got = format(&resp, true, false, true);
	ck_assert_str_eq(got, "{}\n");
	got = format(&resp, true, true, true);
	ck_assert_str_eq(got, "{\"stats\":{\"x\":2,\"y\":3}}\n");
	ctl_response_free(&resp);
}
END_TEST

START_TEST(test_json_escaping)
{
	static const struct fdef defs[] = {
		{ CTL_STR, "q\"k\\", "a\"b\\c\td\x01\x1f\x7f/\xc3\xa9 \n\r" },
		{ CTL_LIST, "l", "q\"x,b\\s,\x02" },
	};
	struct ctl_response resp;
	const char *got;

	mkresp(&resp, "r", defs, N_DEFS(defs));
	got = format(&resp, true, false, true);
	ctl_response_free(&resp);

	ck_assert_str_eq(got, "{\"q\\\"k\\\\\":\"a\\\"b\\\\c\\u0009d\\u0001"
			      "\\u001f\x7f/\xc3\xa9 \\u000a\\u000d\","
			      "\"l\":[\"q\\\"x\",\"b\\\\s\",\"\\u0002\"]}\n");
	ck_assert_msg(json_valid(got), "invalid JSON: %s", got);
}
END_TEST

START_TEST(test_json_escaping_roundtrip)
{
	struct ctl_response resp;
	struct mem m;
	const char *got;
	char *text;
	int err;

	mem_open(&m);
	ctl_put_obj(m.f, "port");
	ctl_put_str(m.f, "ifname", "t\"a\\p\t0");
	ctl_put_status(m.f, 0, NULL);
	text = mem_close(&m);
	err = parse_text(text, &resp);
	free(text);
	ck_assert_int_eq(err, 0);
	got = format(&resp, true, false, false);
	ctl_response_free(&resp);
	ck_assert_str_eq(got, "[{\"ifname\":\"t\\\"a\\\\p\\u00090\"}]\n");
	ck_assert(json_valid(got));
}
END_TEST

START_TEST(test_json_list_edge_words)
{
	static const struct fdef defs[] = {
		{ CTL_LIST, "a", ",x" },
		{ CTL_LIST, "b", "x," },
		{ CTL_LIST, "c", "x,,y" },
		{ CTL_LIST, "d", "" },
	};
	struct ctl_response resp;
	const char *got;

	mkresp(&resp, "r", defs, N_DEFS(defs));
	got = format(&resp, true, false, true);
	ctl_response_free(&resp);

	ck_assert_str_eq(got, "{\"a\":[\"\",\"x\"],\"b\":[\"x\"],"
			      "\"c\":[\"x\",\"\",\"y\"],\"d\":[]}\n");
	ck_assert(json_valid(got));
}
END_TEST

/* A long word of a list is printed whole. */
START_TEST(test_json_list_long_word)
{
	char word[301], want[400];
	struct fdef def = { CTL_LIST, "l", word };
	struct ctl_response resp;
	const char *got;

	memset(word, 'w', 300);
	word[300] = '\0';
	snprintf(want, sizeof(want), "{\"l\":[\"%s\"]}\n", word);
	mkresp(&resp, "r", &def, 1);
	got = format(&resp, true, false, true);
	ctl_response_free(&resp);
	ck_assert_msg(!strcmp(got, want), "a 300-character list word comes "
		      "out as %zu characters", strlen(got) - strlen(
		      "{\"l\":[\"\"]}\n"));
}
END_TEST

/* Any response the daemon can build formats as valid JSON. */
START_TEST(test_json_random_valid)
{
	static const char *const keys[] = { "mac", "ifname", "a", "stats.x",
					    "stats.y", "g.h", "flags", "z" };
	uint64_t rng = 0x15;

	for (int round = 0; round < 400; round++) {
		struct ctl_response resp;
		unsigned int n_rec;
		struct mem m;
		char *text;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		n_rec = (rng >> 40) % 4;
		mem_open(&m);
		for (unsigned int r = 0; r < n_rec; r++) {
			unsigned int n_fields;

			rng = rng * 6364136223846793005ULL + 1;
			n_fields = (rng >> 40) % 9;
			ctl_put_obj(m.f, (rng >> 20) & 1 ? "fdb" : "port");
			for (unsigned int k = 0; k < n_fields; k++) {
				const char *key;
				char value[40];
				const char *words[4] = { "a\"", "b\\c",
							 "\x01", NULL };

				rng = rng * 6364136223846793005ULL + 1;
				key = keys[(rng >> 33) % 8];
				for (int i = 0; i < 39; i++)
					value[i] = 1 + (rng >> (i % 50)) % 127;
				value[(rng >> 27) % 40] = '\0';
				switch ((rng >> 50) % 4) {
				case 0:
					ctl_put_str(m.f, key, value);
					break;
				case 1:
					ctl_put_num(m.f, key, rng >> 7);
					break;
				case 2:
					ctl_put_bool(m.f, key, rng & 256);
					break;
				default:
					words[(rng >> 44) % 4] = NULL;
					ctl_put_list(m.f, key, words);
				}
			}
		}
		ctl_put_status(m.f, 0, NULL);
		text = mem_close(&m);
		ck_assert_msg(parse_text(text, &resp) == 0, "round %d: does "
			      "not parse:\n%s", round, text);
		for (int mode = 0; mode < 4; mode++) {
			const char *got = format(&resp, true, mode & 1, mode & 2);

			ck_assert_msg(json_valid(got), "round %d mode %d: "
				      "invalid JSON: %s\nfrom:\n%s", round,
				      mode, got, text);
		}
		ctl_response_free(&resp);
		free(text);
	}
}
END_TEST

/* format: text */

START_TEST(test_text_fdb)
{
	ck_assert_format(put_one_fdb, false, false, false,
			 "02:00:00:00:00:01 dev tap0 static sticky age 3\n");
	ck_assert_format(put_two_fdb, false, true, false,
			 "02:00:00:00:00:01 dev tap0 static sticky age 3\n"
			 "02:00:00:00:00:02 dev tap1 vlan 10 age 0\n");
}
END_TEST

START_TEST(test_text_empty)
{
	ck_assert_format(put_nothing, false, false, false, "");
	ck_assert_format(put_nothing, false, true, true, "");
}
END_TEST

#define PORT_TEXT_UP							\
	"tap0 kind tap state forwarding link up learning on flood on "	\
	"mcast_flood off bcast_flood on\n"
#define PORT_TEXT_DOWN							\
	"tap1 kind tap state disabled link down learning on flood on "	\
	"mcast_flood off bcast_flood on\n"
#define PORT_STATS_TEXT							\
	"    rx_packets 1 rx_bytes 2 tx_packets 3 tx_bytes 4 flooded 5 "	\
	"drop_runt 6 drop_src 7 drop_link_local 8 drop_same_port 9 "	\
	"drop_port_down 10 tx_errors 11 rx_errors 12\n"

START_TEST(test_text_port)
{
	ck_assert_format(put_one_port, false, false, false, PORT_TEXT_UP);
	ck_assert_format(put_one_port, false, true, false,
			 PORT_TEXT_UP PORT_STATS_TEXT);
	ck_assert_format(put_two_ports, false, true, false,
			 PORT_TEXT_UP PORT_STATS_TEXT
			 PORT_TEXT_DOWN PORT_STATS_TEXT);
}
END_TEST

START_TEST(test_text_switch)
{
	ck_assert_format(put_one_switch, false, false, true,
			 "version 0.1.0 ageing_time 300 max_learned 0 "
			 "group_fwd_mask 0x4000 vlan_filtering 0 "
			 "stp_state 0\n");
	ck_assert_format(put_one_switch, false, true, true,
			 "version 0.1.0 ageing_time 300 max_learned 0 "
			 "group_fwd_mask 0x4000 vlan_filtering 0 "
			 "stp_state 0\n"
			 "    learned 5 moved 1 aged 2 fdb_entries 3\n");
}
END_TEST

static void put_switch_mask0(FILE *out)
{
	put_switch(out, 0);
	ctl_put_status(out, 0, NULL);
}

START_TEST(test_text_group_fwd_mask_zero)
{
	/* Always with its 0x, even 0 (ctl_format.c prints "0x%llx"). */
	ck_assert_format(put_switch_mask0, false, false, true,
			 "version 0.1.0 ageing_time 300 max_learned 0 "
			 "group_fwd_mask 0x0 vlan_filtering 0 stp_state 0\n");
}
END_TEST

/* An empty list prints nothing, and no separator for it either. */
START_TEST(test_text_empty_list_places)
{
	static const struct fdef first[] = {
		{ CTL_LIST, "flags", "" },
		{ CTL_STR, "mac", "02:00:00:00:00:01" },
		{ CTL_STR, "ifname", "tap0" },
	};
	static const struct fdef middle[] = {
		{ CTL_STR, "mac", "02:00:00:00:00:01" },
		{ CTL_LIST, "flags", "" },
		{ CTL_STR, "ifname", "tap0" },
	};
	static const struct fdef last[] = {
		{ CTL_STR, "mac", "02:00:00:00:00:01" },
		{ CTL_STR, "ifname", "tap0" },
		{ CTL_LIST, "flags", "" },
	};
	static const struct fdef *const sets[] = { first, middle, last };
	static const char *const want[] = {
		"02:00:00:00:00:01 dev tap0\n",
		"02:00:00:00:00:01 dev tap0\n",
		"02:00:00:00:00:01 dev tap0\n",
	};
	static const char *const names[] = { "first", "middle", "last" };

	for (int i = 0; i < 3; i++) {
		struct ctl_response resp;
		const char *got;

		mkresp(&resp, "fdb", sets[i], 3);
		got = format(&resp, false, false, false);
		ctl_response_free(&resp);
		ck_assert_msg(!strcmp(got, want[i]), "empty list %s: got "
			      "\"%s\", want \"%s\"", names[i], got, want[i]);
	}
}
END_TEST

START_TEST(test_text_list_words)
{
	static const struct fdef defs[] = {
		{ CTL_STR, "mac", "02:00:00:00:00:01" },
		{ CTL_STR, "ifname", "tap0" },
		{ CTL_LIST, "flags", "static,sticky,extern_learn" },
		{ CTL_NUM, "stats.a", "1" },
		{ CTL_BOOL, "stats.b", "1" },
	};
	struct ctl_response resp;
	const char *got;

	mkresp(&resp, "fdb", defs, N_DEFS(defs));
	got = format(&resp, false, true, false);
	ctl_response_free(&resp);
	ck_assert_str_eq(got, "02:00:00:00:00:01 dev tap0 static sticky "
			      "extern_learn\n    a 1 b on\n");
}
END_TEST

/* streams */

static FILE *open_text(const char *text, size_t len)
{
	FILE *in = fmemopen((void *)text, len, "r");

	ck_assert_ptr_nonnull(in);
	return in;
}

START_TEST(test_stream_records)
{
	static const char text[] =
		"stream\n"
		"obj trace\ns ifname=tap0\nn len=60\nl egress=tap1,tap2\n.\n"
		"obj trace\ns ifname=tap1\n.\n"
		"status 0\n\n";
	FILE *in = open_text(text, strlen(text));
	struct ctl_stream st;
	const struct ctl_record *r;

	ctl_stream_init(&st);
	ck_assert_int_eq(ctl_stream_next(in, &st), 1);
	ck_assert(st.streaming);
	ck_assert_uint_eq(st.resp.n_records, 1);
	r = &st.resp.records[0];
	ck_assert_str_eq(r->kind, "trace");
	ck_assert_uint_eq(r->n_fields, 3);
	ck_assert_field(r, "ifname", CTL_STR, "tap0");
	ck_assert_field(r, "len", CTL_NUM, "60");
	ck_assert_field(r, "egress", CTL_LIST, "tap1,tap2");

	/* The next record replaces the one before. */
	ck_assert_int_eq(ctl_stream_next(in, &st), 1);
	ck_assert_uint_eq(st.resp.n_records, 1);
	r = &st.resp.records[0];
	ck_assert_uint_eq(r->n_fields, 1);
	ck_assert_field(r, "ifname", CTL_STR, "tap1");

	ck_assert_int_eq(ctl_stream_next(in, &st), 0);
	ck_assert(st.streaming);
	ck_assert(st.ended);
	ck_assert_uint_eq(st.resp.n_records, 0);
	ck_assert_int_eq(st.resp.status, 0);
	ck_assert_ptr_null(st.resp.error);
	/* Ended: 0 again, and nothing read. */
	ck_assert_int_eq(ctl_stream_next(in, &st), 0);
	ctl_stream_free(&st);
	ctl_stream_free(&st);	/* twice is harmless */
	fclose(in);
}
END_TEST

START_TEST(test_stream_empty)
{
	static const char text[] = "stream\nstatus 0\n\n";
	FILE *in = open_text(text, strlen(text));
	struct ctl_stream st;

	ctl_stream_init(&st);
	ck_assert_int_eq(ctl_stream_next(in, &st), 0);
	ck_assert(st.streaming);
	ck_assert_uint_eq(st.resp.n_records, 0);
	ctl_stream_free(&st);
	fclose(in);
}
END_TEST

/* The switch stopped: an error and a status after the last record. */
START_TEST(test_stream_error_at_end)
{
	static const char text[] =
		"stream\n"
		"obj event\ns object=port\ns event=up\ns ifname=tap0\n.\n"
		"error Error: the switch stopped\n"
		"status -108\n\n";
	FILE *in = open_text(text, strlen(text));
	struct ctl_stream st;

	ctl_stream_init(&st);
	ck_assert_int_eq(ctl_stream_next(in, &st), 1);
	ck_assert_field(&st.resp.records[0], "event", CTL_STR, "up");
	ck_assert_ptr_null(st.resp.error);
	ck_assert_int_eq(ctl_stream_next(in, &st), 0);
	ck_assert_uint_eq(st.resp.n_records, 0);
	ck_assert_int_eq(st.resp.status, -108);
	ck_assert_str_eq(st.resp.error, "Error: the switch stopped");
	ctl_stream_free(&st);
	fclose(in);
}
END_TEST

/* A refused stream request, and any ordinary response: no "stream"
 * line, all records at the end. */
START_TEST(test_stream_not_a_stream)
{
	static const char refused[] =
		"error Error: argument \"tap9\" is wrong: no such port\n"
		"status -19\n\n";
	static const char ordinary[] =
		"obj capture\nn id=1\ns state=running\n"
		"obj capture\nn id=2\ns state=done\n"
		"status 0\n\n";
	struct ctl_stream st;
	FILE *in;

	in = open_text(refused, strlen(refused));
	ctl_stream_init(&st);
	ck_assert_int_eq(ctl_stream_next(in, &st), 0);
	ck_assert(!st.streaming);
	ck_assert_uint_eq(st.resp.n_records, 0);
	ck_assert_int_eq(st.resp.status, -19);
	ck_assert_str_eq(st.resp.error,
			 "Error: argument \"tap9\" is wrong: no such port");
	ctl_stream_free(&st);
	fclose(in);

	in = open_text(ordinary, strlen(ordinary));
	ctl_stream_init(&st);
	ck_assert_int_eq(ctl_stream_next(in, &st), 0);
	ck_assert(!st.streaming);
	ck_assert_int_eq(st.resp.status, 0);
	ck_assert_uint_eq(st.resp.n_records, 2);
	ck_assert_field(&st.resp.records[0], "id", CTL_NUM, "1");
	ck_assert_field(&st.resp.records[1], "state", CTL_STR, "done");
	ctl_stream_free(&st);
	fclose(in);
}
END_TEST

/* The reader stops at the end of the response and reads no further. */
START_TEST(test_stream_reads_no_further)
{
	static const char text[] = "stream\nobj a\n.\nstatus 0\n\nnext";
	FILE *in = open_text(text, strlen(text));
	struct ctl_stream st;

	ctl_stream_init(&st);
	ck_assert_int_eq(ctl_stream_next(in, &st), 1);
	ck_assert_int_eq(ctl_stream_next(in, &st), 0);
	ck_assert_int_eq(ctl_stream_next(in, &st), 0);
	ck_assert_int_eq(fgetc(in), 'n');
	ctl_stream_free(&st);
	fclose(in);
}
END_TEST

/* What the daemon builds with ctl_put_stream() and ctl_put_end(). */
static void put_stream_two(FILE *out)
{
	static const char *const egress[] = { "tap1:untagged", NULL };

	ctl_put_stream(out);
	ctl_put_obj(out, "trace");
	ctl_put_str(out, "ifname", "tap0");
	ctl_put_list(out, "egress", egress);
	ctl_put_end(out);
	ctl_put_obj(out, "event");
	ctl_put_str(out, "object", "port");
	ctl_put_end(out);
	ctl_put_status(out, 0, NULL);
}

START_TEST(test_stream_wire_roundtrip)
{
	struct ctl_stream st;
	struct mem m;
	char *text;
	FILE *in;

	mem_open(&m);
	put_stream_two(m.f);
	text = mem_close(&m);
	ck_assert_str_eq(text, "stream\n"
			       "obj trace\ns ifname=tap0\n"
			       "l egress=tap1:untagged\n.\n"
			       "obj event\ns object=port\n.\n"
			       "status 0\n\n");
	in = open_text(text, strlen(text));
	ctl_stream_init(&st);
	ck_assert_int_eq(ctl_stream_next(in, &st), 1);
	ck_assert_str_eq(st.resp.records[0].kind, "trace");
	ck_assert_field(&st.resp.records[0], "egress", CTL_LIST,
			"tap1:untagged");
	ck_assert_int_eq(ctl_stream_next(in, &st), 1);
	ck_assert_str_eq(st.resp.records[0].kind, "event");
	ck_assert_int_eq(ctl_stream_next(in, &st), 0);
	ctl_stream_free(&st);
	fclose(in);
	free(text);
}
END_TEST

/*
 * Records arriving in pieces through a pipe, split inside lines, as a
 * socket delivers them.  The writer (a child) waits for our word after
 * each record's dot: ctl_stream_next() must return the record without
 * waiting for more.  If it waited, the child's alarm ends it, the pipe
 * closes and the reader gets -EPROTO instead of hanging.
 */
static const struct {
	const char *text;
	bool wait;		/* for the reader's word after this piece */
} pieces[] = {
	{ "stre", false },
	{ "am\nobj tr", false },
	{ "ace\ns ifname=ta", false },
	{ "p0\nn len=6", false },
	{ "0\nl egress=tap1,", false },
	{ "tap2\n.", false },
	{ "\n", true },
	{ "obj trace\ns ifname=tap1\n", false },
	{ "n len=64\n.\n", true },
	/* A record and the beginning of the end in one piece. */
	{ "obj trace\ns ifname=tap2\n.\nerror Error: the", true },
	{ " switch stopped\nstat", false },
	{ "us 0\n", false },
	{ "\n", false },
};

static void write_pieces(int data_fd, int ack_fd)
{
	alarm(10);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		const char *t = pieces[i].text;
		char ack;

		if (write(data_fd, t, strlen(t)) != (ssize_t)strlen(t))
			_exit(1);
		if (pieces[i].wait) {
			if (read(ack_fd, &ack, 1) != 1)
				_exit(1);
		} else {
			usleep(2000);
		}
	}
	_exit(0);
}

START_TEST(test_stream_pieces)
{
	static const char *const want_ifname[] = { "tap0", "tap1", "tap2" };
	int data[2], ack[2], status;
	struct ctl_stream st;
	pid_t pid;
	FILE *in;

	ck_assert_int_eq(pipe(data), 0);
	ck_assert_int_eq(pipe(ack), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(data[0]);
		close(ack[1]);
		write_pieces(data[1], ack[0]);
	}
	close(data[1]);
	close(ack[0]);
	in = fdopen(data[0], "r");
	ck_assert_ptr_nonnull(in);

	ctl_stream_init(&st);
	for (int i = 0; i < 3; i++) {
		int got = ctl_stream_next(in, &st);

		ck_assert_msg(got == 1, "record %d: got %d, want 1", i, got);
		ck_assert_field(&st.resp.records[0], "ifname", CTL_STR,
				want_ifname[i]);
		if (i == 0)
			ck_assert_field(&st.resp.records[0], "egress",
					CTL_LIST, "tap1,tap2");
		if (i == 1)
			ck_assert_field(&st.resp.records[0], "len", CTL_NUM,
					"64");
		ck_assert_int_eq(write(ack[1], "k", 1), 1);
	}
	ck_assert_int_eq(ctl_stream_next(in, &st), 0);
	ck_assert_int_eq(st.resp.status, 0);
	ck_assert_str_eq(st.resp.error, "Error: the switch stopped");
	ctl_stream_free(&st);
	fclose(in);
	close(ack[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* Not a well-formed stream: -EPROTO, after the good records before. */
static const char *const stream_malformed[] = {
	"",
	"stream\n",				/* EOF */
	"stream",
	"stream\nobj trace\ns a=b\n",		/* EOF inside a record */
	"stream\nobj trace\ns a=b\n.",		/* dot without newline */
	"stream\nobj trace\ns a=b\nstatus 0\n\n",	/* no dot */
	"stream\nobj trace\nobj trace\n.\nstatus 0\n\n",
	"stream\nobj trace\nerror oops\n.\nstatus 0\n\n",
	"stream\n.\nstatus 0\n\n",		/* a dot without a record */
	"stream\nobj a\n.\n.\nstatus 0\n\n",
	"stream\ns a=b\n.\nstatus 0\n\n",	/* a field outside */
	"stream\nobj a\n.\ns a=b\nstatus 0\n\n",
	"stream\nstream\nstatus 0\n\n",
	"stream\nobj a\n.\nstatus 0\n",		/* no empty line */
	"stream\nobj a\n.\nstatus 0\nx\n",
	"stream\nobj a\n.\nstatus 1\n\n",
	"stream\nobj a\n.\nstatus x\n\n",
	"stream\nobj a\nn len=x\n.\nstatus 0\n\n",
	"stream\nobj a\nb on=2\n.\nstatus 0\n\n",
	"stream\nobj a\nx k=v\n.\nstatus 0\n\n",
	"stream\nobj a\n. \nstatus 0\n\n",
	"stream\nobj a\n.x\nstatus 0\n\n",
	"stream\nobj \n.\nstatus 0\n\n",	/* no kind */
	"stream\nobj a\n\n.\nstatus 0\n\n",	/* an empty line inside */
	".\nstatus 0\n\n",			/* a dot outside a stream */
	"obj a\n.\nstatus 0\n\n",
	"Stream\nstatus 0\n\n",
	"obj a\nstream\nstatus 0\n\n",
};

START_TEST(test_stream_malformed)
{
	const char *text = stream_malformed[_i];
	FILE *in = open_text(text, strlen(text));
	struct ctl_stream st;
	int err, n = 0;

	ctl_stream_init(&st);
	while ((err = ctl_stream_next(in, &st)) == 1)
		ck_assert_int_lt(++n, 10);
	ctl_stream_free(&st);
	fclose(in);
	ck_assert_msg(err == -EPROTO, "input %d \"%s\": got %d, want -EPROTO",
		      _i, text, err);
}
END_TEST

/* A NUL byte inside a line: -EPROTO for both readers. */
START_TEST(test_stream_nul_byte)
{
	static const char stream_text[] =
		"stream\nobj tr\0ace\n.\nstatus 0\n\n";
	static const char resp_text[] = "obj fdb\ns mac=a\0b\nstatus 0\n\n";
	struct ctl_response resp;
	struct ctl_stream st;
	FILE *in;

	in = open_text(stream_text, sizeof(stream_text) - 1);
	ctl_stream_init(&st);
	ck_assert_int_eq(ctl_stream_next(in, &st), -EPROTO);
	ctl_stream_free(&st);
	fclose(in);

	in = open_text(resp_text, sizeof(resp_text) - 1);
	ck_assert_int_eq(ctl_response_parse(in, &resp), -EPROTO);
	ctl_response_free(&resp);
	fclose(in);
}
END_TEST

/*
 * Every record of the stream @text through ctl_format_record(), as
 * tapswitchctl prints them; a static buffer, valid until the next call.
 */
static const char *stream_output(const char *text, bool json, bool stats)
{
	static char out[1 << 16];
	FILE *in = open_text(text, strlen(text));
	struct ctl_stream st;
	struct mem m;
	char *got;
	int err;

	mem_open(&m);
	ctl_stream_init(&st);
	while ((err = ctl_stream_next(in, &st)) == 1)
		ctl_format_record(m.f, &st.resp.records[0], json, stats);
	ctl_stream_free(&st);
	fclose(in);
	got = mem_close(&m);
	ck_assert_uint_lt(m.len, sizeof(out));
	memcpy(out, got, m.len + 1);
	free(got);
	ck_assert_msg(err == 0, "the stream ends with %d:\n%s", err, text);
	return out;
}

/* Each line of @text is a valid JSON object: JSON Lines. */
static void ck_assert_json_lines(const char *text, unsigned int n_lines)
{
	const char *line = text;
	unsigned int n = 0;

	while (*line) {
		const char *nl = strchr(line, '\n');
		char one[4096];

		ck_assert_ptr_nonnull(nl);
		ck_assert_uint_lt((size_t)(nl - line), sizeof(one));
		memcpy(one, line, nl - line);
		one[nl - line] = '\0';
		ck_assert_msg(one[0] == '{' && json_valid(one),
			      "line %u is not a JSON object: %s", n, one);
		n++;
		line = nl + 1;
	}
	ck_assert_uint_eq(n, n_lines);
}

/* trace */

#define TRACE_FLOOD							\
	"obj trace\n"							\
	"s ifname=tap0\n"						\
	"s time=12:00:01.000123\n"					\
	"n len=60\n"							\
	"s src=02:00:00:00:00:0a\n"					\
	"s dst=ff:ff:ff:ff:ff:ff\n"					\
	"s ethertype=0x0806\n"						\
	"s vlan_in=untagged\n"						\
	"n vlan=10\n"							\
	"n pcp=0\n"							\
	"s learn=new\n"							\
	"s lookup=broadcast\n"						\
	"l egress=tap1:untagged,tap3:tagged\n"				\
	"s verdict=flood\n"						\
	".\n"
#define TRACE_MOVED							\
	"obj trace\n"							\
	"s ifname=tap2\n"						\
	"s time=12:00:01.000200\n"					\
	"n len=102\n"							\
	"s src=02:00:00:00:00:0a\n"					\
	"s dst=02:00:00:00:00:0b\n"					\
	"s ethertype=0x8100\n"						\
	"s vlan_in=tagged\n"						\
	"n vlan=10\n"							\
	"n pcp=5\n"							\
	"s learn=moved\n"						\
	"s learn_from=tap0\n"						\
	"s lookup=hit\n"						\
	"s lookup_ifname=tap1\n"					\
	"l egress=tap1:tagged\n"					\
	"s verdict=forward\n"						\
	".\n"
/* Explain: no time; dropped at the VLAN filter, before learning. */
#define TRACE_DROP							\
	"obj trace\n"							\
	"s ifname=tap2\n"						\
	"n len=64\n"							\
	"s src=02:00:00:00:00:0b\n"					\
	"s dst=02:00:00:00:00:0a\n"					\
	"s ethertype=0x8100\n"						\
	"s vlan_in=tagged\n"						\
	"n vlan=30\n"							\
	"n pcp=0\n"							\
	"l egress=\n"							\
	"s verdict=drop\n"						\
	"s drop=vlan\n"							\
	".\n"
/* VLAN filtering off: no VLAN fields, egress ports bare. */
#define TRACE_NOFILTER							\
	"obj trace\n"							\
	"s ifname=tap1\n"						\
	"s time=09:30:00.500000\n"					\
	"n len=98\n"							\
	"s src=02:00:00:00:00:0b\n"					\
	"s dst=02:00:00:00:00:0a\n"					\
	"s ethertype=0x0800\n"						\
	"s learn=refreshed\n"						\
	"s lookup=hit\n"						\
	"s lookup_ifname=tap0\n"					\
	"l egress=tap0\n"						\
	"s verdict=forward\n"						\
	".\n"
#define TRACE_RUNT							\
	"obj trace\n"							\
	"s ifname=tap0\n"						\
	"s time=09:30:01.000001\n"					\
	"n len=10\n"							\
	"l egress=\n"							\
	"s verdict=drop\n"						\
	"s drop=runt\n"							\
	".\n"

#define TRACE_FLOOD_TEXT						\
	"12:00:01.000123 tap0 60 02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff "\
	"ethertype 0x0806 vlan 10 untagged pcp 0 learn new lookup "	\
	"broadcast flood -> tap1:untagged tap3:tagged\n"
#define TRACE_DROP_TEXT							\
	"tap2 64 02:00:00:00:00:0b > 02:00:00:00:00:0a ethertype 0x8100 "\
	"vlan 30 tagged pcp 0 drop vlan\n"

START_TEST(test_trace_text_all_fields)
{
	ck_assert_str_eq(stream_output("stream\n" TRACE_FLOOD "status 0\n\n",
				       false, false), TRACE_FLOOD_TEXT);
	ck_assert_str_eq(stream_output("stream\n" TRACE_MOVED "status 0\n\n",
				       false, false),
			 "12:00:01.000200 tap2 102 02:00:00:00:00:0a > "
			 "02:00:00:00:00:0b ethertype 0x8100 vlan 10 tagged "
			 "pcp 5 learn moved from tap0 lookup hit tap1 "
			 "forward -> tap1:tagged\n");
}
END_TEST

START_TEST(test_trace_text_drop)
{
	ck_assert_str_eq(stream_output("stream\n" TRACE_DROP "status 0\n\n",
				       false, false), TRACE_DROP_TEXT);
	ck_assert_str_eq(stream_output("stream\n" TRACE_RUNT "status 0\n\n",
				       false, false),
			 "09:30:01.000001 tap0 10 drop runt\n");
}
END_TEST

START_TEST(test_trace_text_no_filtering)
{
	ck_assert_str_eq(stream_output("stream\n" TRACE_NOFILTER
				       "status 0\n\n", false, false),
			 "09:30:00.500000 tap1 98 02:00:00:00:00:0b > "
			 "02:00:00:00:00:0a ethertype 0x0800 learn refreshed "
			 "lookup hit tap0 forward -> tap0\n");
}
END_TEST

/* Each record printed as it comes; a field the format does not know is
 * shown before the egress list; -s shows no stats in a trace line. */
START_TEST(test_trace_text_stream_unknown)
{
	ck_assert_str_eq(stream_output("stream\n" TRACE_FLOOD TRACE_DROP
				       "status 0\n\n", false, true),
			 TRACE_FLOOD_TEXT TRACE_DROP_TEXT);
	ck_assert_str_eq(stream_output("stream\nobj trace\ns ifname=tap0\n"
				       "n len=60\ns verdict=flood\n"
				       "n stats.x=1\nb new_thing=1\n"
				       "l egress=tap1\n.\nstatus 0\n\n",
				       false, true),
			 "tap0 60 flood new_thing on -> tap1\n");
}
END_TEST

/* explain: an ordinary response of traces, one line each; -j an array. */
START_TEST(test_trace_explain_response)
{
	static const char text[] = TRACE_DROP TRACE_NOFILTER "status 0\n\n";
	char wire[4096];
	struct ctl_response resp;
	const char *got;
	char *dot;

	/* The same records without their dots. */
	snprintf(wire, sizeof(wire), "%s", text);
	while ((dot = strstr(wire, "\n.\n")))
		memmove(dot + 1, dot + 3, strlen(dot + 3) + 1);
	ck_assert_int_eq(parse_text(wire, &resp), 0);
	ck_assert_uint_eq(resp.n_records, 2);
	got = format(&resp, false, false, false);
	ck_assert_str_eq(got, TRACE_DROP_TEXT
			 "09:30:00.500000 tap1 98 02:00:00:00:00:0b > "
			 "02:00:00:00:00:0a ethertype 0x0800 learn refreshed "
			 "lookup hit tap0 forward -> tap0\n");
	got = format(&resp, true, false, false);
	ctl_response_free(&resp);
	ck_assert_str_eq(got,
			 "[{\"ifname\":\"tap2\",\"len\":64,"
			 "\"src\":\"02:00:00:00:00:0b\","
			 "\"dst\":\"02:00:00:00:00:0a\","
			 "\"ethertype\":\"0x8100\",\"vlan_in\":\"tagged\","
			 "\"vlan\":30,\"pcp\":0,\"egress\":[],"
			 "\"verdict\":\"drop\",\"drop\":\"vlan\"},"
			 "{\"ifname\":\"tap1\",\"time\":\"09:30:00.500000\","
			 "\"len\":98,\"src\":\"02:00:00:00:00:0b\","
			 "\"dst\":\"02:00:00:00:00:0a\","
			 "\"ethertype\":\"0x0800\",\"learn\":\"refreshed\","
			 "\"lookup\":\"hit\",\"lookup_ifname\":\"tap0\","
			 "\"egress\":[\"tap0\"],\"verdict\":\"forward\"}]\n");
	ck_assert(json_valid(got));
}
END_TEST

START_TEST(test_trace_json_lines)
{
	const char *got = stream_output("stream\n" TRACE_FLOOD TRACE_DROP
					"status 0\n\n", true, false);

	ck_assert_str_eq(got,
			 "{\"ifname\":\"tap0\",\"time\":\"12:00:01.000123\","
			 "\"len\":60,\"src\":\"02:00:00:00:00:0a\","
			 "\"dst\":\"ff:ff:ff:ff:ff:ff\","
			 "\"ethertype\":\"0x0806\",\"vlan_in\":\"untagged\","
			 "\"vlan\":10,\"pcp\":0,\"learn\":\"new\","
			 "\"lookup\":\"broadcast\","
			 "\"egress\":[\"tap1:untagged\",\"tap3:tagged\"],"
			 "\"verdict\":\"flood\"}\n"
			 "{\"ifname\":\"tap2\",\"len\":64,"
			 "\"src\":\"02:00:00:00:00:0b\","
			 "\"dst\":\"02:00:00:00:00:0a\","
			 "\"ethertype\":\"0x8100\",\"vlan_in\":\"tagged\","
			 "\"vlan\":30,\"pcp\":0,\"egress\":[],"
			 "\"verdict\":\"drop\",\"drop\":\"vlan\"}\n");
	ck_assert_json_lines(got, 2);
}
END_TEST

/* frame */

/* An ARP request, 42 bytes. */
#define ARP_HEX								\
	"ffffffffffff02000000000a08060001"				\
	"08000604000102000000000ac6120001"				\
	"000000000000c6120002"

static char *frame_stream(char *buf, size_t size, const char *hex,
			  unsigned int len, const char *dir)
{
	snprintf(buf, size,
		 "stream\nobj frame\ns ifname=tap0\ns dir=%s\n"
		 "s time=12:00:01.000123\nn len=%u\nn caplen=%zu\n"
		 "s hex=%s\n.\nstatus 0\n\n", dir, len, strlen(hex) / 2, hex);
	return buf;
}

START_TEST(test_frame_text_42)
{
	char wire[2048];

	ck_assert_str_eq(stream_output(frame_stream(wire, sizeof(wire),
						    ARP_HEX, 42, "rx"),
				       false, false),
			 "12:00:01.000123 tap0 rx\n"
			 "Read Bytes: 42\n"
			 "ff ff ff ff ff ff 02 00 -- 00 00 00 0a 08 06 00 01\n"
			 "08 00 06 04 00 01 02 00 -- 00 00 00 0a c6 12 00 01\n"
			 "00 00 00 00 00 00 c6 12 -- 00 02\n"
			 "\n");
}
END_TEST

/* The seed's own frame, 90 bytes, prints as the seed printed it. */
START_TEST(test_frame_text_seed)
{
	static const char hex[] =
		"3333000000164641" "65574e3b86dd6000"
		"0000002400010000" "0000000000000000"
		"000000000000ff02" "0000000000000000"
		"0000000000163a00" "0502000001008f00"
		"20f8000000010400" "0000ff0200000000"
		"000000000001ff57" "4e3b00";
	char wire[2048];

	ck_assert_str_eq(stream_output(frame_stream(wire, sizeof(wire), hex,
						    90, "tx"),
				       false, false),
			 "12:00:01.000123 tap0 tx\n"
			 "Read Bytes: 90\n"
			 "33 33 00 00 00 16 46 41 -- 65 57 4e 3b 86 dd 60 00\n"
			 "00 00 00 24 00 01 00 00 -- 00 00 00 00 00 00 00 00\n"
			 "00 00 00 00 00 00 ff 02 -- 00 00 00 00 00 00 00 00\n"
			 "00 00 00 00 00 16 3a 00 -- 05 02 00 00 01 00 8f 00\n"
			 "20 f8 00 00 00 01 04 00 -- 00 00 ff 02 00 00 00 00\n"
			 "00 00 00 00 00 01 ff 57 -- 4e 3b 00\n"
			 "\n");
}
END_TEST

/* caplen < len: the bytes not captured are counted, not shown. */
START_TEST(test_frame_text_snapped)
{
	char wire[2048];

	ck_assert_str_eq(stream_output(frame_stream(wire, sizeof(wire),
			"ffffffffffff02000000000a08060001" "08000604",
			1514, "rx"), false, false),
			 "12:00:01.000123 tap0 rx\n"
			 "Read Bytes: 1514\n"
			 "ff ff ff ff ff ff 02 00 -- 00 00 00 0a 08 06 00 01\n"
			 "08 00 06 04\n"
			 "(1494 more bytes not shown)\n"
			 "\n");
	/* Row edges: exactly 16 bytes, exactly 8, none. */
	ck_assert_str_eq(stream_output(frame_stream(wire, sizeof(wire),
			"000102030405060708090a0b0c0d0e0f", 16, "rx"),
			false, false),
			 "12:00:01.000123 tap0 rx\n"
			 "Read Bytes: 16\n"
			 "00 01 02 03 04 05 06 07 -- 08 09 0a 0b 0c 0d 0e 0f\n"
			 "\n");
	ck_assert_str_eq(stream_output(frame_stream(wire, sizeof(wire),
			"0001020304050607", 8, "tx"), false, false),
			 "12:00:01.000123 tap0 tx\n"
			 "Read Bytes: 8\n"
			 "00 01 02 03 04 05 06 07\n"
			 "\n");
	ck_assert_str_eq(stream_output(frame_stream(wire, sizeof(wire),
			"", 60, "rx"), false, false),
			 "12:00:01.000123 tap0 rx\n"
			 "Read Bytes: 60\n"
			 "(60 more bytes not shown)\n"
			 "\n");
}
END_TEST

START_TEST(test_frame_json_lines)
{
	char wire[2048];
	const char *got = stream_output(frame_stream(wire, sizeof(wire),
					ARP_HEX, 42, "rx"), true, false);

	ck_assert_str_eq(got,
			 "{\"ifname\":\"tap0\",\"dir\":\"rx\","
			 "\"time\":\"12:00:01.000123\",\"len\":42,"
			 "\"caplen\":42,\"hex\":\"" ARP_HEX "\"}\n");
	ck_assert_json_lines(got, 1);
}
END_TEST

/* event */

#define EV_TIME "s time=12:00:01.000123\n"
#define EVENTS								\
	"stream\n"							\
	"obj event\ns object=fdb\ns event=learned\n" EV_TIME		\
	"s mac=02:00:00:00:00:0a\nn vlan=10\ns ifname=tap0\n"		\
	"l flags=\n.\n"							\
	"obj event\ns object=fdb\ns event=moved\n" EV_TIME		\
	"s mac=02:00:00:00:00:0a\nn vlan=10\ns ifname=tap1\n"		\
	"s from=tap0\nl flags=\n.\n"					\
	"obj event\ns object=fdb\ns event=aged\n" EV_TIME		\
	"s mac=02:00:00:00:00:0b\ns ifname=tap1\nl flags=\n.\n"	\
	"obj event\ns object=fdb\ns event=deleted\n" EV_TIME		\
	"s mac=02:00:00:00:00:0c\nn vlan=20\ns ifname=tap2\n"		\
	"l flags=static\n.\n"						\
	"obj event\ns object=fdb\ns event=flushed\n" EV_TIME		\
	"s mac=02:00:00:00:00:0d\ns ifname=tap2\nl flags=\n.\n"	\
	"obj event\ns object=fdb\ns event=added\n" EV_TIME		\
	"s mac=02:00:00:00:00:01\ns ifname=tap0\nl flags=static\n.\n"	\
	"obj event\ns object=fdb\ns event=replaced\n" EV_TIME		\
	"s mac=02:00:00:00:00:01\ns ifname=tap1\n"			\
	"l flags=static,sticky\n.\n"					\
	"obj event\ns object=port\ns event=added\n" EV_TIME		\
	"s ifname=tap0\n.\n"						\
	"obj event\ns object=port\ns event=up\n" EV_TIME		\
	"s ifname=tap0\n.\n"						\
	"obj event\ns object=port\ns event=down\n" EV_TIME		\
	"s ifname=tap0\n.\n"						\
	"obj event\ns object=port\ns event=removed\n" EV_TIME		\
	"s ifname=tap0\n.\n"						\
	"obj event\ns object=monitor\ns event=lost\n" EV_TIME		\
	"n count=12\n.\n"						\
	"status 0\n\n"

START_TEST(test_event_text)
{
	ck_assert_str_eq(stream_output(EVENTS, false, false),
		"12:00:01.000123 learned 02:00:00:00:00:0a dev tap0 vlan 10\n"
		"12:00:01.000123 moved 02:00:00:00:00:0a dev tap1 vlan 10 "
		"from tap0\n"
		"12:00:01.000123 aged 02:00:00:00:00:0b dev tap1\n"
		"12:00:01.000123 deleted 02:00:00:00:00:0c dev tap2 vlan 20 "
		"static\n"
		"12:00:01.000123 flushed 02:00:00:00:00:0d dev tap2\n"
		"12:00:01.000123 added 02:00:00:00:00:01 dev tap0 static\n"
		"12:00:01.000123 replaced 02:00:00:00:00:01 dev tap1 static "
		"sticky\n"
		"12:00:01.000123 port added tap0\n"
		"12:00:01.000123 port up tap0\n"
		"12:00:01.000123 port down tap0\n"
		"12:00:01.000123 port removed tap0\n"
		"12:00:01.000123 lost 12 events\n");
}
END_TEST

START_TEST(test_event_json_lines)
{
	const char *got = stream_output(EVENTS, true, false);

	ck_assert_json_lines(got, 12);
	ck_assert(!strncmp(got,
			   "{\"object\":\"fdb\",\"event\":\"learned\","
			   "\"time\":\"12:00:01.000123\","
			   "\"mac\":\"02:00:00:00:00:0a\",\"vlan\":10,"
			   "\"ifname\":\"tap0\",\"flags\":[]}\n"
			   "{\"object\":\"fdb\",\"event\":\"moved\",", 150));
	ck_assert_ptr_nonnull(strstr(got,
			   "{\"object\":\"fdb\",\"event\":\"replaced\","
			   "\"time\":\"12:00:01.000123\","
			   "\"mac\":\"02:00:00:00:00:01\","
			   "\"ifname\":\"tap1\","
			   "\"flags\":[\"static\",\"sticky\"]}\n"));
	ck_assert_ptr_nonnull(strstr(got,
			   "{\"object\":\"port\",\"event\":\"down\","
			   "\"time\":\"12:00:01.000123\","
			   "\"ifname\":\"tap0\"}\n"));
	ck_assert(strstr(got, "{\"object\":\"monitor\",\"event\":\"lost\","
			      "\"time\":\"12:00:01.000123\",\"count\":12}\n"
			      ) != NULL);
}
END_TEST

/* capture: the generic format, the port as "dev", stats with -s. */
#define CAPTURE_RESP							\
	"obj capture\nn id=1\ns ifname=all\ns dir=both\n"		\
	"s file=/tmp/all.pcap\nn snaplen=262144\nn count=0\n"		\
	"s state=running\nn stats.frames=10\nn stats.bytes=980\n"	\
	"n stats.dropped=0\n"						\
	"obj capture\nn id=2\ns ifname=tap0\ns dir=rx\nn vlan=10\n"	\
	"s file=/tmp/t.pcap\nn snaplen=96\nn count=5\ns state=done\n"	\
	"n stats.frames=5\nn stats.bytes=300\nn stats.dropped=1\n"	\
	"status 0\n\n"

START_TEST(test_capture_format)
{
	struct ctl_response resp;
	const char *got;

	ck_assert_int_eq(parse_text(CAPTURE_RESP, &resp), 0);
	got = format(&resp, false, false, false);
	ck_assert_str_eq(got,
			 "id 1 dev all dir both file /tmp/all.pcap "
			 "snaplen 262144 count 0 state running\n"
			 "id 2 dev tap0 dir rx vlan 10 file /tmp/t.pcap "
			 "snaplen 96 count 5 state done\n");
	got = format(&resp, false, true, false);
	ck_assert_str_eq(got,
			 "id 1 dev all dir both file /tmp/all.pcap "
			 "snaplen 262144 count 0 state running\n"
			 "    frames 10 bytes 980 dropped 0\n"
			 "id 2 dev tap0 dir rx vlan 10 file /tmp/t.pcap "
			 "snaplen 96 count 5 state done\n"
			 "    frames 5 bytes 300 dropped 1\n");
	got = format(&resp, true, true, false);
	ctl_response_free(&resp);
	ck_assert_str_eq(got,
			 "[{\"id\":1,\"ifname\":\"all\",\"dir\":\"both\","
			 "\"file\":\"/tmp/all.pcap\",\"snaplen\":262144,"
			 "\"count\":0,\"state\":\"running\","
			 "\"stats\":{\"frames\":10,\"bytes\":980,"
			 "\"dropped\":0}},"
			 "{\"id\":2,\"ifname\":\"tap0\",\"dir\":\"rx\","
			 "\"vlan\":10,\"file\":\"/tmp/t.pcap\","
			 "\"snaplen\":96,\"count\":5,\"state\":\"done\","
			 "\"stats\":{\"frames\":5,\"bytes\":300,"
			 "\"dropped\":1}}]\n");
	ck_assert(json_valid(got));
}
END_TEST

/* relative paths */

static char **abs_paths(int argc, const char *const *w, const char *cwd)
{
	char **argv = words_dup(argc, w);
	char **got = ctl_request_abs_paths(argc, argv, cwd);

	words_free(argc, argv);
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_null(got[argc]);
	return got;
}

/* @want: the words expected, @argc of them. */
static void check_abs_paths(int argc, const char *const *w, const char *cwd,
			    const char *const *want)
{
	char **got = abs_paths(argc, w, cwd);

	for (int i = 0; i < argc; i++) {
		if (strcmp(got[i], want[i])) {
			char msg[512];

			snprintf(msg, sizeof(msg), "word %d: got \"%s\", "
				 "want \"%s\"", i, got[i], want[i]);
			ctl_words_free(got);
			ck_abort_msg("%s", msg);
		}
	}
	ctl_words_free(got);
}

START_TEST(test_path_capture)
{
	static const char *const w1[] = { "capture", "start", "dev", "tap0",
					  "file", "x.pcap", "count", "3" };
	static const char *const r1[] = { "capture", "start", "dev", "tap0",
					  "file", "/home/u/x.pcap", "count",
					  "3" };
	static const char *const w2[] = { "capture", "start", "file",
					  "/tmp/x.pcap" };
	static const char *const w3[] = { "capture", "start", "file",
					  "../d/x.pcap", "snaplen", "96" };
	static const char *const r3[] = { "capture", "start", "file",
					  "/home/u/../d/x.pcap", "snaplen",
					  "96" };
	/* "file" as a port's name is not the keyword. */
	static const char *const w4[] = { "capture", "start", "dev", "file",
					  "file", "f" };
	static const char *const r4[] = { "capture", "start", "dev", "file",
					  "file", "/home/u/f" };
	/* A prefix of the object, as the daemon accepts. */
	static const char *const w5[] = { "cap", "st", "file", "x" };
	static const char *const r5[] = { "cap", "st", "file", "/home/u/x" };
	static const char *const w6[] = { "capture", "start", "dev", "tap0",
					  "file" };

	check_abs_paths(8, w1, "/home/u", r1);
	check_abs_paths(4, w2, "/home/u", w2);
	check_abs_paths(6, w3, "/home/u", r3);
	check_abs_paths(6, w4, "/home/u", r4);
	check_abs_paths(4, w5, "/home/u", r5);
	check_abs_paths(5, w6, "/home/u", w6);
	/* The root, or a trailing slash: no double slash. */
	check_abs_paths(8, w1, "/", (const char *const[]){ "capture",
			"start", "dev", "tap0", "file", "/x.pcap", "count",
			"3" });
	check_abs_paths(8, w1, "/home/u/", r1);
}
END_TEST

START_TEST(test_path_explain)
{
	static const char *const w1[] = { "explain", "dev", "tap0", "pcap",
					  "in.pcap" };
	static const char *const r1[] = { "explain", "dev", "tap0", "pcap",
					  "/srv/lab/in.pcap" };
	static const char *const w2[] = { "explain", "dev", "tap0", "frame",
					  "ffffffffffff02000000000a0806" };
	static const char *const w3[] = { "e", "dev", "tap0", "pcap", "a b" };
	static const char *const r3[] = { "e", "dev", "tap0", "pcap",
					  "/srv/lab/a b" };

	check_abs_paths(5, w1, "/srv/lab", r1);
	check_abs_paths(5, w2, "/srv/lab", w2);
	check_abs_paths(5, w3, "/srv/lab", r3);
}
END_TEST

/* Only capture's "file" and explain's "pcap" are paths. */
START_TEST(test_path_others_unchanged)
{
	static const char *const w1[] = { "fdb", "show", "file", "x" };
	static const char *const w2[] = { "explain", "dev", "tap0", "file",
					  "x" };
	static const char *const w3[] = { "capture", "start", "pcap", "x" };
	static const char *const w4[] = { "trace", "dev", "file" };
	static const char *const w5[] = { "capture", "file", "x" };
	char **got;

	check_abs_paths(4, w1, "/d", w1);
	check_abs_paths(5, w2, "/d", w2);
	check_abs_paths(4, w3, "/d", w3);
	check_abs_paths(3, w4, "/d", w4);
	/* The command word is not a keyword's value. */
	check_abs_paths(3, w5, "/d", w5);
	got = ctl_request_abs_paths(0, NULL, "/d");
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_null(got[0]);
	ctl_words_free(got);
	ctl_words_free(NULL);
}
END_TEST

/* The absolute path is what goes on the wire. */
START_TEST(test_path_on_the_wire)
{
	static const char *const w[] = { "capture", "start", "file",
					 "t.pcap" };
	char **got = abs_paths(4, w, "/var/tmp");
	size_t len;
	char *text;
	int err;

	err = ctl_request_send(sv[0], 4, got);
	ctl_words_free(got);
	ck_assert_int_eq(err, 0);
	client_done();
	text = read_all(sv[1], &len);
	ck_assert_str_eq(text, "capture\nstart\nfile\n/var/tmp/t.pcap\n\n");
	free(text);
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc;

	tc = tcase_create("json_validator");
	tcase_add_test(tc, test_json_validator);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_roundtrip);
	tcase_add_test(tc, test_request_wire_bytes);
	tcase_add_test(tc, test_request_no_words);
	tcase_add_test(tc, test_request_stops_at_empty_line);
	tcase_add_test(tc, test_request_empty_word);
	tcase_add_test(tc, test_request_newline_in_word);
	tcase_add_test(tc, test_request_lone_newline_word);
	tcase_add_test(tc, test_request_too_many_words_send);
	tcase_add_test(tc, test_request_max_words);
	tcase_add_test(tc, test_request_too_many_words_recv);
	tcase_add_test(tc, test_request_too_many_words_recv_default);
	tcase_add_test(tc, test_request_longest);
	tcase_add_test(tc, test_request_too_long_send);
	tcase_add_test(tc, test_request_too_long_recv);
	tcase_add_loop_test(tc, test_request_eof, 0,
			    sizeof(eof_inputs) / sizeof(eof_inputs[0]));
	tcase_add_loop_test(tc, test_request_nul_byte, 0,
			    sizeof(nul_inputs) / sizeof(nul_inputs[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_test(tc, test_response_wire_text);
	tcase_add_test(tc, test_response_roundtrip);
	tcase_add_test(tc, test_response_error_status);
	tcase_add_test(tc, test_response_status_only);
	tcase_add_test(tc, test_response_newline_in_value);
	tcase_add_test(tc, test_response_roundtrip_random);
	tcase_add_loop_test(tc, test_response_malformed, 0,
			    sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_loop_test(tc, test_response_malformed_values, 0,
			    sizeof(malformed_values) /
			    sizeof(malformed_values[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("format_json");
	tcase_add_test(tc, test_json_fdb);
	tcase_add_test(tc, test_json_fdb_two);
	tcase_add_test(tc, test_json_empty);
	tcase_add_test(tc, test_json_port);
	tcase_add_test(tc, test_json_ports_two_stats);
	tcase_add_test(tc, test_json_single);
	tcase_add_test(tc, test_json_group_then_plain);
	tcase_add_test(tc, test_json_escaping);
	tcase_add_test(tc, test_json_escaping_roundtrip);
	tcase_add_test(tc, test_json_list_edge_words);
	tcase_add_test(tc, test_json_list_long_word);
	tcase_add_test(tc, test_json_random_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("format_text");
	tcase_add_test(tc, test_text_fdb);
	tcase_add_test(tc, test_text_empty);
	tcase_add_test(tc, test_text_port);
	tcase_add_test(tc, test_text_switch);
	tcase_add_test(tc, test_text_group_fwd_mask_zero);
	tcase_add_test(tc, test_text_empty_list_places);
	tcase_add_test(tc, test_text_list_words);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_add_test(tc, test_stream_records);
	tcase_add_test(tc, test_stream_empty);
	tcase_add_test(tc, test_stream_error_at_end);
	tcase_add_test(tc, test_stream_not_a_stream);
	tcase_add_test(tc, test_stream_reads_no_further);
	tcase_add_test(tc, test_stream_wire_roundtrip);
	tcase_add_test(tc, test_stream_pieces);
	tcase_add_loop_test(tc, test_stream_malformed, 0,
			    sizeof(stream_malformed) /
			    sizeof(stream_malformed[0]));
	tcase_add_test(tc, test_stream_nul_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("format_trace");
	tcase_add_test(tc, test_trace_text_all_fields);
	tcase_add_test(tc, test_trace_text_drop);
	tcase_add_test(tc, test_trace_text_no_filtering);
	tcase_add_test(tc, test_trace_text_stream_unknown);
	tcase_add_test(tc, test_trace_explain_response);
	tcase_add_test(tc, test_trace_json_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("format_frame");
	tcase_add_test(tc, test_frame_text_42);
	tcase_add_test(tc, test_frame_text_seed);
	tcase_add_test(tc, test_frame_text_snapped);
	tcase_add_test(tc, test_frame_json_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("format_event");
	tcase_add_test(tc, test_event_text);
	tcase_add_test(tc, test_event_json_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("format_capture");
	tcase_add_test(tc, test_capture_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("abs_paths");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_path_capture);
	tcase_add_test(tc, test_path_explain);
	tcase_add_test(tc, test_path_others_unchanged);
	tcase_add_test(tc, test_path_on_the_wire);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return check_main(ctl_suite());
}
