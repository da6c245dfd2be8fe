/*
 * ctl_wire.c - the control protocol's encoding and decoding.
 */
#include "lib/ctl_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/grammar.h"
#include "lib/io.h"

int ctl_request_send(int fd, int argc, char *const argv[])
{
	char buf[CTL_MAX_REQUEST];
	size_t len = 0;

	if (argc > CTL_MAX_WORDS)
		return -EINVAL;
	for (int i = 0; i < argc; i++) {
		size_t wlen = strlen(argv[i]);

		if (!wlen || strchr(argv[i], '\n'))
			return -EINVAL;
		if (len + wlen + 2 >= sizeof(buf))
			return -EINVAL;
		memcpy(buf + len, argv[i], wlen);
		len += wlen;
		buf[len++] = '\n';
	}
	buf[len++] = '\n';
	return io_write_all(fd, buf, len);
}

ssize_t ctl_request_end(const char *buf, size_t len)
{
	const char *end;

	if (len && buf[0] == '\n')
		return 1;
	end = memmem(buf, len, "\n\n", 2);
	return end ? end - buf + 2 : -1;
}

int ctl_request_split(char *buf, size_t len, char *argv[], int max_words)
{
	int argc = 0;
	char *word;

	/* Words are text: a NUL byte would end one early. */
	if (!len || buf[len - 1] != '\n' || memchr(buf, '\0', len))
		return -EINVAL;
	if (len == 1) {
		buf[0] = '\0';
		return 0;
	}
	if (len < 2 || buf[len - 2] != '\n')
		return -EINVAL;
	buf[len - 1] = '\0';
	for (word = buf; *word; ) {
		char *nl = strchr(word, '\n');

		if (argc >= max_words)
			return -EMSGSIZE;
		*nl = '\0';
		argv[argc++] = word;
		word = nl + 1;
	}
	return argc;
}

int ctl_request_recv(int fd, char *buf, size_t size, char *argv[],
		     int max_words)
{
	size_t len = 0;

	/* Read until the empty line: "\n\n", or a lone "\n" at the start. */
	for (;;) {
		ssize_t n;

		if (len >= 1 && buf[len - 1] == '\n' &&
		    (len == 1 || buf[len - 2] == '\n'))
			break;
		if (len + 1 >= size)
			return -EMSGSIZE;
		n = read(fd, buf + len, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPROTO;
		/* Words are text: a NUL byte would end one early. */
		if (buf[len] == '\0')
			return -EINVAL;
		len += n;
	}
	return ctl_request_split(buf, len, argv, max_words);
}

void ctl_put_obj(FILE *out, const char *kind)
{
	fprintf(out, "obj %s\n", kind);
}

/* Values must stay on one line. */
static void put_clean(FILE *out, const char *value)
{
	for (; *value; value++)
		fputc(*value == '\n' ? ' ' : *value, out);
	fputc('\n', out);
}

void ctl_put_str(FILE *out, const char *key, const char *value)
{
	fprintf(out, "s %s=", key);
	put_clean(out, value);
}

void ctl_put_num(FILE *out, const char *key, uint64_t value)
{
	fprintf(out, "n %s=%llu\n", key, (unsigned long long)value);
}

void ctl_put_bool(FILE *out, const char *key, bool value)
{
	fprintf(out, "b %s=%d\n", key, value ? 1 : 0);
}

void ctl_put_list(FILE *out, const char *key, const char *const *words)
{
	fprintf(out, "l %s=", key);
	for (int i = 0; words[i]; i++)
		fprintf(out, "%s%s", i ? "," : "", words[i]);
	fputc('\n', out);
}

void ctl_put_status(FILE *out, int status, const char *error)
{
	if (error) {
		fputs("error ", out);
		put_clean(out, error);
	}
	fprintf(out, "status %d\n\n", status);
}

static int resp_add_record(struct ctl_response *resp, const char *kind)
{
	struct ctl_record *recs, *rec;

	recs = realloc(resp->records, (resp->n_records + 1) * sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	resp->records = recs;
	rec = &recs[resp->n_records];
	memset(rec, 0, sizeof(*rec));
	rec->kind = strdup(kind);
	if (!rec->kind)
		return -ENOMEM;
	resp->n_records++;
	return 0;
}

/* A number is digits without a leading zero; a boolean is 0 or 1. */
static bool value_fits(char type, const char *value)
{
	switch (type) {
	case CTL_NUM:
		if (!value[0] || (value[0] == '0' && value[1]) ||
		    strlen(value) > 20)
			return false;
		return strspn(value, "0123456789") == strlen(value);
	case CTL_BOOL:
		return !strcmp(value, "0") || !strcmp(value, "1");
	default:
		return true;
	}
}

static int resp_add_field(struct ctl_response *resp, char type, char *kv)
{
	struct ctl_record *rec;
	struct ctl_field *fields, *f;
	char *eq = strchr(kv, '=');

	if (!resp->n_records || !eq || eq == kv)
		return -EPROTO;
	if (type != CTL_STR && type != CTL_NUM && type != CTL_BOOL &&
	    type != CTL_LIST)
		return -EPROTO;
	if (!value_fits(type, eq + 1))
		return -EPROTO;
	rec = &resp->records[resp->n_records - 1];
	fields = realloc(rec->fields, (rec->n_fields + 1) * sizeof(*fields));
	if (!fields)
		return -ENOMEM;
	rec->fields = fields;
	f = &fields[rec->n_fields];
	*eq = '\0';
	f->type = type;
	f->key = strdup(kv);
	f->value = strdup(eq + 1);
	if (!f->key || !f->value) {
		free(f->key);
		free(f->value);
		return -ENOMEM;
	}
	rec->n_fields++;
	return 0;
}

/*
 * Read one line into *@buf, without its newline.  Returns its length, or
 * -EPROTO when the text ends before a newline (or holds a NUL byte),
 * -EINTR when a signal interrupted the read.
 */
static ssize_t read_line(FILE *in, char **buf, size_t *size)
{
	ssize_t len;

	errno = 0;
	len = getline(buf, size, in);
	if (len < 0)
		return errno == EINTR ? -EINTR : -EPROTO;
	if (!len || (*buf)[len - 1] != '\n')
		return -EPROTO;
	(*buf)[--len] = '\0';
	if (strlen(*buf) != (size_t)len)
		return -EPROTO;
	return len;
}

/*
 * Apply one line of a response (obj, a field, error or status) to @resp.
 * Returns 0, 1 when it was the status and the empty line after it was
 * read too, or -errno.
 */
static int resp_line(FILE *in, struct ctl_response *resp, char **buf,
		     size_t *size)
{
	char *line = *buf;
	size_t len = strlen(line);

	if (!strncmp(line, "obj ", 4)) {
		if (!line[4])
			return -EPROTO;
		return resp_add_record(resp, line + 4);
	}
	if (!strncmp(line, "error ", 6)) {
		free(resp->error);
		resp->error = strdup(line + 6);
		return resp->error ? 0 : -ENOMEM;
	}
	if (!strncmp(line, "status ", 7)) {
		const char *num = line + 7;
		char *end;
		long status;
		ssize_t n;

		errno = 0;
		status = strtol(num, &end, 10);
		if (end == num || *end || errno || status > 0 ||
		    status < -4095)
			return -EPROTO;
		resp->status = status;
		/* The empty line must follow. */
		n = read_line(in, buf, size);
		if (n < 0)
			return n;
		return n == 0 ? 1 : -EPROTO;
	}
	if (len > 2 && line[1] == ' ')
		return resp_add_field(resp, line[0], line + 2);
	return -EPROTO;
}

int ctl_response_parse(FILE *in, struct ctl_response *resp)
{
	char *line = NULL;
	size_t size = 0;
	int err;

	memset(resp, 0, sizeof(*resp));
	do {
		ssize_t len = read_line(in, &line, &size);

		err = len < 0 ? (int)len : resp_line(in, resp, &line, &size);
	} while (!err);
	free(line);
	return err == 1 ? 0 : err;
}

void ctl_response_free(struct ctl_response *resp)
{
	for (unsigned int i = 0; i < resp->n_records; i++) {
		struct ctl_record *rec = &resp->records[i];

		for (unsigned int k = 0; k < rec->n_fields; k++) {
			free(rec->fields[k].key);
			free(rec->fields[k].value);
		}
		free(rec->fields);
		free(rec->kind);
	}
	free(resp->records);
	free(resp->error);
	memset(resp, 0, sizeof(*resp));
}

const struct ctl_field *ctl_record_get(const struct ctl_record *rec,
				       const char *key)
{
	for (unsigned int i = 0; i < rec->n_fields; i++)
		if (!strcmp(rec->fields[i].key, key))
			return &rec->fields[i];
	return NULL;
}

void ctl_put_stream(FILE *out)
{
	fputs("stream\n", out);
}

void ctl_put_end(FILE *out)
{
	fputs(".\n", out);
}

void ctl_stream_init(struct ctl_stream *st)
{
	memset(st, 0, sizeof(*st));
}

/* The record a stream is in the middle of: one with no dot yet. */
static bool record_open(const struct ctl_stream *st)
{
	return st->streaming && st->resp.n_records;
}

int ctl_stream_next(FILE *in, struct ctl_stream *st)
{
	if (st->ended)
		return 0;
	/* The record returned last time has been printed. */
	if (st->streaming) {
		int status = st->resp.status;
		char *error = st->resp.error;

		st->resp.error = NULL;
		ctl_response_free(&st->resp);
		st->resp.status = status;
		st->resp.error = error;
	}
	for (;;) {
		ssize_t len = read_line(in, &st->line, &st->line_size);
		const char *line = st->line;
		int err;

		if (len < 0)
			return len;
		if (!st->started) {
			st->started = true;
			if (!strcmp(line, "stream")) {
				st->streaming = true;
				continue;
			}
			/* An ordinary response: this line is its first. */
		}
		if (st->streaming) {
			if (!strcmp(line, "."))
				return record_open(st) ? 1 : -EPROTO;
			if (!strcmp(line, "stream"))
				return -EPROTO;
			/* A record ends with its dot, not with the next
			 * record or the status. */
			if (record_open(st) && (!strncmp(line, "obj ", 4) ||
						!strncmp(line, "error ", 6) ||
						!strncmp(line, "status ", 7)))
				return -EPROTO;
		}
		err = resp_line(in, &st->resp, &st->line, &st->line_size);
		if (err < 0)
			return err;
		if (err == 1) {
			st->ended = true;
			return 0;
		}
	}
}

void ctl_stream_free(struct ctl_stream *st)
{
	ctl_response_free(&st->resp);
	free(st->line);
	memset(st, 0, sizeof(*st));
}

void ctl_words_free(char **words)
{
	if (!words)
		return;
	for (char **w = words; *w; w++)
		free(*w);
	free(words);
}

/*
 * Mark the words that are file names: walk them as gr_lex() does (a
 * keyword, then its value if its type takes one; any other word the next
 * positional's value), without checking them.  A word that is none of the
 * command's ends the walk: the daemon refuses that request anyway.
 */
static void find_paths(int argc, char *const argv[], bool *is_path)
{
	const struct gr_cmd *cmd;
	uint64_t given = 0;
	int i;

	cmd = gr_find_cmd(argc, argv, &i, NULL, 0);
	if (!cmd)
		return;
	while (i < argc) {
		const struct gr_arg *arg = gr_find_keyword(cmd, argv[i]);

		if (!arg) {
			for (arg = cmd->args; arg->key; arg++)
				if ((arg->flags & GR_POSITIONAL) &&
				    !(given >> (arg - cmd->args) & 1))
					break;
			if (!arg->key)
				return;
			is_path[i++] = arg->type == GR_PATH;
		} else if (arg->type == GR_FLAG) {
			i++;
		} else if (arg->type == GR_QOS_MAP) {
			for (i++; i < argc && strchr(argv[i], ':'); i++)
				;
		} else {
			if (i + 1 < argc)
				is_path[i + 1] = arg->type == GR_PATH;
			i += 2;
		}
		given |= 1ULL << (arg - cmd->args);
	}
}

char **ctl_request_abs_paths(int argc, char *const argv[], const char *cwd)
{
	char **words = calloc(argc + 1, sizeof(*words));
	bool *is_path = calloc(argc + 1, sizeof(*is_path));

	if (!words || !is_path)
		goto out_free;
	find_paths(argc, argv, is_path);
	for (int i = 0; i < argc; i++) {
		const char *word = argv[i];

		if (is_path[i] && word[0] != '/') {
			if (asprintf(&words[i], "%s%s%s", cwd,
				     cwd[0] && cwd[strlen(cwd) - 1] == '/' ?
				     "" : "/", word) < 0)
				words[i] = NULL;
		} else {
			words[i] = strdup(word);
		}
		if (!words[i])
			goto out_free;
	}
	free(is_path);
	return words;

out_free:
	ctl_words_free(words);
	free(is_path);
	return NULL;
}
