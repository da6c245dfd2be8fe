/*
 * fuzz_wire.c - libFuzzer target for lib/ctl_wire.c, the control
 * protocol's parsers: what tapswitchctl makes of the daemon's answers
 * (ctl_response_parse, the stream reader ctl_stream_next), and what the
 * daemon makes of a request (ctl_request_end, ctl_request_split,
 * ctl_request_recv), plus the client's path rewriting
 * (ctl_request_abs_paths).
 *
 * The first byte picks what the rest is:
 *   0  an answer as text: parsed whole, and record by record; what
 *      parses prints back (ctl_put_*) to text that parses the same
 *   1  a stream as text: read record by record to its end
 *   2  a request as bytes: ended, split; the words join back to the
 *      bytes; sent and received again over a socket pair
 *   3  words for ctl_request_abs_paths(), the first of them the cwd
 *   4  records to print (ctl_put_*), as an answer and as a stream: they
 *      parse back to what was printed
 *
 * Checked besides (ASan, UBSan): each text sits in a buffer of exactly
 * its length; a parse that fails leaves nothing behind (LSan); an answer
 * parsed whole and one read record by record agree on everything.  Each
 * input is independent: nothing outlives it.
 */
#include "lib/ctl_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz/fuzz_common.h"

#define MAX_RECORDS	16
#define MAX_FIELDS	16

static bool same_response(const struct ctl_response *a,
			  const struct ctl_response *b)
{
	if (a->status != b->status || a->n_records != b->n_records ||
	    !a->error != !b->error || (a->error && strcmp(a->error, b->error)))
		return false;
	for (unsigned int i = 0; i < a->n_records; i++) {
		const struct ctl_record *r = &a->records[i];
		const struct ctl_record *s = &b->records[i];

		if (strcmp(r->kind, s->kind) || r->n_fields != s->n_fields)
			return false;
		for (unsigned int k = 0; k < r->n_fields; k++)
			if (r->fields[k].type != s->fields[k].type ||
			    strcmp(r->fields[k].key, s->fields[k].key) ||
			    strcmp(r->fields[k].value, s->fields[k].value))
				return false;
	}
	return true;
}

/* What a parsed response may hold. */
static void check_shape(const struct ctl_response *r)
{
	fuzz_assert(r->status <= 0 && r->status >= -4095, "status %d",
		    r->status);
	fuzz_assert(!r->n_records || r->records, "records lost");
	for (unsigned int i = 0; i < r->n_records; i++) {
		const struct ctl_record *rec = &r->records[i];

		fuzz_assert(rec->kind && rec->kind[0] &&
			    !strchr(rec->kind, '\n'),
			    "record %u: kind", i);
		for (unsigned int k = 0; k < rec->n_fields; k++) {
			const struct ctl_field *f = &rec->fields[k];

			fuzz_assert(f->key[0] && !strchr(f->key, '=') &&
				    !strchr(f->value, '\n'),
				    "record %u field %u: key \"%s\"", i, k,
				    f->key);
			if (f->type == CTL_NUM)
				fuzz_assert(f->value[0] &&
					    strspn(f->value, "0123456789") ==
						    strlen(f->value) &&
					    strlen(f->value) <= 20,
					    "a number \"%s\"", f->value);
			else if (f->type == CTL_BOOL)
				fuzz_assert(!strcmp(f->value, "0") ||
					    !strcmp(f->value, "1"),
					    "a boolean \"%s\"", f->value);
			else
				fuzz_assert(f->type == CTL_STR ||
					    f->type == CTL_LIST,
					    "field type %c", f->type);
		}
	}
}

/* Print @r as the daemon would (@stream: as a stream's records). */
static char *print(const struct ctl_response *r, bool stream, size_t *len)
{
	char *text = NULL;
	FILE *out = open_memstream(&text, len);

	fuzz_assert(out, "open_memstream");
	if (stream)
		ctl_put_stream(out);
	for (unsigned int i = 0; i < r->n_records; i++) {
		const struct ctl_record *rec = &r->records[i];

		ctl_put_obj(out, rec->kind);
		for (unsigned int k = 0; k < rec->n_fields; k++) {
			const struct ctl_field *f = &rec->fields[k];

			/* The value as is, whatever its type says: it was
			 * checked when it was parsed or made. */
			fprintf(out, "%c %s=%s\n", f->type, f->key, f->value);
		}
		if (stream)
			ctl_put_end(out);
	}
	ctl_put_status(out, r->status, r->error);
	fuzz_assert(!fclose(out), "memstream");
	return text;
}

static int parse(const char *text, size_t len, struct ctl_response *r)
{
	FILE *in = fmemopen((void *)text, len, "r");
	int ret;

	fuzz_assert(in, "fmemopen");
	ret = ctl_response_parse(in, r);
	fclose(in);
	return ret;
}

/*
 * Read @text record by record.  Returns what the last ctl_stream_next()
 * returned; the records of a stream are gathered into @all.
 */
static int read_stream(const char *text, size_t len, struct ctl_stream *st,
		       struct ctl_response *all)
{
	FILE *in = fmemopen((void *)text, len, "r");
	int ret;

	fuzz_assert(in, "fmemopen");
	memset(all, 0, sizeof(*all));
	ctl_stream_init(st);
	while ((ret = ctl_stream_next(in, st)) == 1) {
		struct ctl_record *recs;

		fuzz_assert(st->streaming && st->resp.n_records == 1,
			    "a stream record: %u records", st->resp.n_records);
		recs = realloc(all->records,
			       (all->n_records + 1) * sizeof(*recs));
		fuzz_assert(recs, "out of memory");
		all->records = recs;
		/* Taken over: the next call frees what it does not own. */
		recs[all->n_records++] = st->resp.records[0];
		st->resp.n_records = 0;
		free(st->resp.records);
		st->resp.records = NULL;
	}
	if (!ret) {
		fuzz_assert(st->ended, "0 before the end");
		fuzz_assert(ctl_stream_next(in, st) == 0,
			    "after the end, not 0 again");
	}
	fclose(in);
	return ret;
}

static void free_gathered(struct ctl_response *all)
{
	all->error = NULL;
	ctl_response_free(all);
}

/* Mode 0: an answer. */
static void answer_text(const char *text, size_t len)
{
	struct ctl_response r, again, all;
	struct ctl_stream st;
	int ret, sret;
	char *printed;
	size_t plen;

	ret = parse(text, len, &r);
	fuzz_assert(ret == 0 || ret == -EPROTO, "parse returned %d", ret);
	sret = read_stream(text, len, &st, &all);
	if (!st.streaming) {
		/* Not a stream: the two readers are one. */
		fuzz_assert(!ret == !sret, "parse %d, stream reader %d", ret,
			    sret);
		if (!ret)
			fuzz_assert(same_response(&r, &st.resp),
				    "parse and the stream reader differ");
	}
	ctl_stream_free(&st);
	free_gathered(&all);
	if (ret) {
		ctl_response_free(&r);
		return;
	}
	check_shape(&r);
	printed = print(&r, false, &plen);
	fuzz_assert(!parse(printed, plen, &again) && same_response(&r, &again),
		    "an answer printed back parses differently");
	ctl_response_free(&again);
	free(printed);
	ctl_response_free(&r);
}

/* Mode 1: a stream. */
static void stream_text(const char *text, size_t len)
{
	struct ctl_response all, again;
	struct ctl_stream st, st2;
	char *printed;
	size_t plen;
	int ret;

	ret = read_stream(text, len, &st, &all);
	fuzz_assert(ret == 0 || ret == -EPROTO, "stream reader %d", ret);
	if (ret || !st.streaming) {
		ctl_stream_free(&st);
		free_gathered(&all);
		return;
	}
	fuzz_assert(!st.resp.n_records, "records left at a stream's end");
	all.status = st.resp.status;
	all.error = st.resp.error;
	check_shape(&all);
	printed = print(&all, true, &plen);
	fuzz_assert(!read_stream(printed, plen, &st2, &again) &&
		    st2.streaming,
		    "a stream printed back does not read");
	again.status = st2.resp.status;
	again.error = st2.resp.error;
	fuzz_assert(same_response(&all, &again),
		    "a stream printed back reads differently");
	free_gathered(&again);
	ctl_stream_free(&st2);
	free(printed);
	free_gathered(&all);
	ctl_stream_free(&st);
}

/* Mode 2: a request. */
static void request_bytes(const uint8_t *data, size_t len, int max_words)
{
	char *argv[CTL_MAX_WORDS + 1], *got[CTL_MAX_WORDS + 1];
	char *buf, rbuf[CTL_MAX_REQUEST];
	ssize_t end;
	int argc, n, sv[2];
	size_t at = 0;

	end = ctl_request_end((const char *)data, len);
	fuzz_assert(end >= -1 && end <= (ssize_t)len, "request end %zd",
		    end);
	if (end > 0)
		fuzz_assert(data[end - 1] == '\n' &&
			    (end == 1 || data[end - 2] == '\n'),
			    "a request ends at %zd, not after its empty line",
			    end);
	/* The whole input, as if it were one request. */
	buf = malloc(len ? len : 1);
	fuzz_assert(buf, "out of memory");
	memcpy(buf, data, len);
	argc = ctl_request_split(buf, len, argv, max_words);
	if (argc < 0) {
		fuzz_assert(argc == -EINVAL || argc == -EMSGSIZE,
			    "split returned %d", argc);
		free(buf);
		return;
	}
	fuzz_assert(argc <= max_words, "%d words, at most %d", argc,
		    max_words);
	/* The words, joined back, are the request. */
	for (int i = 0; i < argc; i++) {
		size_t wlen = strlen(argv[i]);

		fuzz_assert(at + wlen + 1 <= len &&
			    !memcmp(data + at, argv[i], wlen) &&
			    data[at + wlen] == '\n',
			    "word %d is not the request's", i);
		at += wlen + 1;
	}
	fuzz_assert(at + 1 == len && data[at] == '\n',
		    "the words end at %zu of %zu", at, len);

	/* Sent and received again: the same words. */
	if (argc <= CTL_MAX_WORDS && !socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		if (!ctl_request_send(sv[0], argc, argv)) {
			n = ctl_request_recv(sv[1], rbuf, sizeof(rbuf), got,
					     CTL_MAX_WORDS);
			fuzz_assert(n == argc, "sent %d words, received %d",
				    argc, n);
			for (int i = 0; i < n; i++)
				fuzz_assert(!strcmp(got[i], argv[i]),
					    "word %d received differently", i);
		} else {
			/* Refused only for what cannot be sent. */
			bool bad = len >= CTL_MAX_REQUEST;

			for (int i = 0; i < argc; i++)
				bad |= !argv[i][0];
			fuzz_assert(bad, "a request of %d words not sent",
				    argc);
		}
		close(sv[0]);
		close(sv[1]);
	}
	free(buf);
}

/* Mode 3: the client's absolute paths. */
static void abs_paths(const uint8_t *data, size_t len)
{
	char *text = malloc(len + 1), *argv[CTL_MAX_WORDS], **out, *w;
	int argc = 0;

	fuzz_assert(text, "out of memory");
	memcpy(text, data, len);
	text[len] = '\0';
	for (w = strtok(text, "\n"); w && argc < CTL_MAX_WORDS;
	     w = strtok(NULL, "\n"))
		argv[argc++] = w;
	if (argc < 1) {
		free(text);
		return;
	}
	/* argv[0] is the cwd; the words after it the request. */
	out = ctl_request_abs_paths(argc - 1, argv + 1, argv[0]);
	fuzz_assert(out, "abs_paths failed");
	for (int i = 0; i < argc - 1; i++) {
		const char *in = argv[i + 1], *cwd = argv[0];
		size_t clen = strlen(cwd);

		fuzz_assert(out[i], "word %d lost", i);
		if (!strcmp(out[i], in))
			continue;
		/* Made absolute: the cwd, one slash, the word. */
		fuzz_assert(in[0] != '/' && !strncmp(out[i], cwd, clen),
			    "word %d \"%s\" became \"%s\"", i, in, out[i]);
		fuzz_assert(!strcmp(out[i] + clen +
				    (clen && cwd[clen - 1] == '/' ? 0 : 1),
				    in),
			    "word %d \"%s\" became \"%s\"", i, in, out[i]);
	}
	fuzz_assert(!out[argc - 1], "not NULL-terminated");
	ctl_words_free(out);
	free(text);
}

/* A word of [a-z0-9._] from @in: what keys and kinds are made of. */
static void make_word(struct fz *in, char *buf, size_t size)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789._";
	size_t n = 1 + fz_u8(in) % (size - 1);

	for (size_t i = 0; i < n; i++)
		buf[i] = set[fz_u8(in) % (sizeof(set) - 1)];
	buf[n] = '\0';
}

/* Mode 4: records printed with ctl_put_*, then parsed. */
static void printed_records(struct fz *in)
{
	static char keys[MAX_RECORDS][MAX_FIELDS][16], kinds[MAX_RECORDS][16];
	static char values[MAX_RECORDS][MAX_FIELDS][64];
	static char want[MAX_RECORDS][MAX_FIELDS][64];
	static enum ctl_type types[MAX_RECORDS][MAX_FIELDS];
	unsigned int n_rec = fz_u8(in) % MAX_RECORDS, n_fields[MAX_RECORDS];
	uint8_t flags = fz_u8(in);
	int status = -(int)(fz_u16(in) % 4096);
	char error[64], *text = NULL;
	struct ctl_response r;
	struct ctl_stream st;
	size_t len;
	FILE *out;

	if (!(flags & 1))
		status = 0;
	make_word(in, error, sizeof(error));
	out = open_memstream(&text, &len);
	fuzz_assert(out, "open_memstream");
	if (flags & 2)
		ctl_put_stream(out);
	for (unsigned int i = 0; i < n_rec; i++) {
		make_word(in, kinds[i], sizeof(kinds[i]));
		ctl_put_obj(out, kinds[i]);
		n_fields[i] = fz_u8(in) % MAX_FIELDS;
		for (unsigned int k = 0; k < n_fields[i]; k++) {
			char *v = values[i][k], *wv = want[i][k];
			uint8_t t = fz_u8(in);

			make_word(in, keys[i][k], sizeof(keys[i][k]));
			switch (t % 4) {
			case 0: {
				/* Any bytes but NUL: a newline becomes a
				 * space on the way. */
				size_t n = fz_u8(in) % 63;

				for (size_t b = 0; b < n; b++) {
					v[b] = (char)(fz_u8(in) | 1);
					wv[b] = v[b] == '\n' ? ' ' : v[b];
				}
				v[n] = wv[n] = '\0';
				types[i][k] = CTL_STR;
				ctl_put_str(out, keys[i][k], v);
				break;
			}
			case 1: {
				uint64_t num = (uint64_t)fz_u16(in) << 48 |
					       (uint64_t)fz_u16(in) << 32 |
					       (uint64_t)fz_u16(in) << 16 |
					       fz_u16(in);

				snprintf(wv, 64, "%llu",
					 (unsigned long long)num);
				types[i][k] = CTL_NUM;
				ctl_put_num(out, keys[i][k], num);
				break;
			}
			case 2:
				snprintf(wv, 64, "%d", t >> 7);
				types[i][k] = CTL_BOOL;
				ctl_put_bool(out, keys[i][k], t >> 7);
				break;
			default: {
				char w[3][16];
				const char *list[4] = { NULL };
				unsigned int nw = t >> 6;

				wv[0] = '\0';
				for (unsigned int j = 0; j < nw && j < 3; j++) {
					make_word(in, w[j], sizeof(w[j]));
					list[j] = w[j];
					snprintf(wv + strlen(wv),
						 64 - strlen(wv), "%s%s",
						 j ? "," : "", w[j]);
				}
				types[i][k] = CTL_LIST;
				ctl_put_list(out, keys[i][k], list);
			}
			}
		}
		if (flags & 2)
			ctl_put_end(out);
	}
	ctl_put_status(out, status, status || (flags & 4) ? error : NULL);
	fuzz_assert(!fclose(out), "memstream");

	if (flags & 2) {
		struct ctl_response all;

		fuzz_assert(!read_stream(text, len, &st, &all) && st.streaming,
			    "a printed stream does not read");
		r = all;
		r.status = st.resp.status;
		r.error = st.resp.error;
	} else {
		fuzz_assert(!parse(text, len, &r), "a printed answer: %.*s",
			    (int)len, text);
	}
	fuzz_assert(r.status == status && r.n_records == n_rec,
		    "status %d of %d, %u records of %u", r.status, status,
		    r.n_records, n_rec);
	fuzz_assert(!(status || (flags & 4)) == !r.error &&
		    (!r.error || !strcmp(r.error, error)), "the error line");
	for (unsigned int i = 0; i < n_rec; i++) {
		const struct ctl_record *rec = &r.records[i];

		fuzz_assert(!strcmp(rec->kind, kinds[i]) &&
			    rec->n_fields == n_fields[i],
			    "record %u: %s, %u fields", i, rec->kind,
			    rec->n_fields);
		for (unsigned int k = 0; k < n_fields[i]; k++)
			fuzz_assert(rec->fields[k].type == types[i][k] &&
				    !strcmp(rec->fields[k].key, keys[i][k]) &&
				    !strcmp(rec->fields[k].value, want[i][k]),
				    "record %u field %u: %c %s=%s", i, k,
				    rec->fields[k].type, rec->fields[k].key,
				    rec->fields[k].value);
	}
	if (flags & 2) {
		free_gathered(&r);
		ctl_stream_free(&st);
	} else {
		ctl_response_free(&r);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	uint8_t mode, max_words;
	char *text;

	if (!size)
		return 0;
	mode = fz_u8(&in);
	if (mode % 5 == 4) {
		printed_records(&in);
		return 0;
	}
	if (mode % 5 == 2) {
		max_words = fz_u8(&in);
		request_bytes(in.p, in.n, 1 + max_words % CTL_MAX_WORDS);
		return 0;
	}
	if (mode % 5 == 3) {
		abs_paths(in.p, in.n);
		return 0;
	}
	/* Exactly the text's bytes: ASan sees a read past them. */
	text = malloc(in.n ? in.n : 1);
	fuzz_assert(text, "out of memory");
	memcpy(text, in.p, in.n);
	if (mode % 5 == 0)
		answer_text(text, in.n);
	else
		stream_text(text, in.n);
	free(text);
	return 0;
}
