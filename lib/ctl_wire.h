/*
 * ctl_wire.h - the control protocol between tapswitch and tapswitchctl.
 *
 * Design
 * ------
 * A plain line protocol over a UNIX stream socket, one request per
 * connection, in the spirit of WireGuard's key=value UAPI:
 *
 *   request:   one word per line, then an empty line
 *              ("fdb\nshow\ndev\ntap0\n\n")
 *   response:  records, then an optional error line, then the status, then
 *              an empty line:
 *                obj fdb              a record of kind "fdb" begins
 *                s mac=02:00:...      a string field
 *                n age=12             an unsigned number
 *                b sticky=1           a boolean
 *                l flags=static,x     a list of words (may be empty)
 *                error Error: ...     one line for the user
 *                status -22           0 or -errno, always last
 *
 * Field names may contain dots ("stats.rx_packets"): the client nests
 * them.  The daemon sends data; the client formats it as text or JSON, so
 * both outputs come from one walk.
 *
 * Streams (trace, dump, monitor) answer as they go:
 *
 *   stream                  the request was accepted: records follow as
 *                           they happen
 *   obj trace ...fields     a record,
 *   .                       ended by a line holding a dot: the client
 *                           prints it at once
 *   ...
 *   status 0                when the count is reached or the switch stops
 *                           (an error line may come before it), then an
 *                           empty line
 *
 * A request the daemon refuses gets an ordinary response (error, status)
 * with no "stream" line.  The client ends a stream early by closing the
 * connection.
 *
 * Thread safety: none needed; every function works on its own arguments.
 */
#ifndef TAPSWITCH_CTL_WIRE_H
#define TAPSWITCH_CTL_WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CTL_MAX_WORDS	64
#define CTL_MAX_REQUEST	4096
#define CTL_DEFAULT_PATH "/run/tapswitch/tapswitch.sock"

/* Send argv as a request.  Returns 0 or -errno (-EINVAL: a word holds a
 * newline or is empty, or the request is too long). */
int ctl_request_send(int fd, int argc, char *const argv[]);

/* Read a request into @buf; fill @argv with pointers into it.  Returns
 * the word count, or -errno (-EMSGSIZE: too long or too many words,
 * -EPROTO: connection closed before the empty line). */
int ctl_request_recv(int fd, char *buf, size_t size, char *argv[],
		     int max_words);
/* Where the request in the @len bytes at @buf ends (just after its empty
 * line), or -1 when it is not all there yet. */
ssize_t ctl_request_end(const char *buf, size_t len);
/* Split the whole request of @len bytes at @buf (ending with its empty
 * line) into words, in place: the word count, or -EINVAL (a NUL byte, no
 * empty line at the end), -EMSGSIZE (more than @max_words). */
int ctl_request_split(char *buf, size_t len, char *argv[], int max_words);

/* Building a response (daemon).  All write into @out and never fail
 * visibly: a memory stream that fails to grow reports it at close. */
void ctl_put_obj(FILE *out, const char *kind);
void ctl_put_str(FILE *out, const char *key, const char *value);
void ctl_put_num(FILE *out, const char *key, uint64_t value);
void ctl_put_bool(FILE *out, const char *key, bool value);
/* @words: NULL-terminated array. */
void ctl_put_list(FILE *out, const char *key, const char *const *words);
void ctl_put_status(FILE *out, int status, const char *error);

/* A parsed response (client). */
enum ctl_type {
	CTL_STR = 's',
	CTL_NUM = 'n',
	CTL_BOOL = 'b',
	CTL_LIST = 'l',
};

struct ctl_field {
	enum ctl_type type;
	char *key;
	char *value;		/* for CTL_LIST: comma-separated words */
};

struct ctl_record {
	char *kind;
	unsigned int n_fields;
	struct ctl_field *fields;
};

struct ctl_response {
	unsigned int n_records;
	struct ctl_record *records;
	int status;
	char *error;		/* NULL when none was sent */
};

/*
 * Parse a whole response from @in.  Returns 0 or -errno (-EPROTO when the
 * text is not a well-formed response).
 */
int ctl_response_parse(FILE *in, struct ctl_response *resp);
void ctl_response_free(struct ctl_response *resp);

/* The field @key of @rec, or NULL. */
const struct ctl_field *ctl_record_get(const struct ctl_record *rec,
				       const char *key);

/* Building a stream (daemon): ctl_put_stream() once, before the first
 * record; ctl_put_end() after each record, and fflush() then, for the
 * client prints a record when its dot arrives; ctl_put_status() last. */
void ctl_put_stream(FILE *out);
void ctl_put_end(FILE *out);

/*
 * Reading a response record by record (client), a stream or not:
 *
 *	struct ctl_stream st;
 *
 *	ctl_stream_init(&st);
 *	while ((err = ctl_stream_next(in, &st)) == 1)
 *		print(&st.resp.records[0]);
 *	if (!err && !st.streaming)
 *		print all of st.resp, an ordinary response;
 *	st.resp.status, st.resp.error;
 *	ctl_stream_free(&st);
 *
 * ctl_stream_next() reads no further than it must: it returns as soon as
 * a record's dot line is in, so @in may be a socket that stays open.
 */
struct ctl_stream {
	bool started;		/* the first line was read */
	bool streaming;		/* ... and it was "stream" */
	bool ended;		/* the status and its empty line were read */
	/* Streaming: the one record just read, then at the end no record;
	 * otherwise the whole response once ended.  status and error hold
	 * the end's in both. */
	struct ctl_response resp;
	char *line;		/* getline()'s buffer */
	size_t line_size;
};

void ctl_stream_init(struct ctl_stream *st);
/*
 * Read on.  Returns 1 when a stream record is complete (st->resp holds it
 * alone, until the next call); 0 at the end of the response: of a stream,
 * or of an ordinary response (st->streaming false) with all its records
 * in st->resp; -errno otherwise: -EPROTO for text that is not a
 * well-formed response or stream (a field outside a record, a record
 * without its dot, a status inside a record, a second "stream", a dot
 * without a record) or a connection closed before the end, -EINTR when
 * a signal interrupted the read (the stream cannot go on then).  After 0,
 * it returns 0 again without reading.
 */
int ctl_stream_next(FILE *in, struct ctl_stream *st);
void ctl_stream_free(struct ctl_stream *st);

/*
 * The request's words, with the file names the daemon opens made
 * absolute, for the daemon has another working directory: the word
 * after "file" in a capture request and after "pcap" in an explain
 * request, when it does not start with '/', gets @cwd and a '/' in
 * front.  Returns a NULL-terminated copy of all @argc words (free it
 * with ctl_words_free()), or NULL when out of memory.
 */
char **ctl_request_abs_paths(int argc, char *const argv[], const char *cwd);
void ctl_words_free(char **words);

#endif /* TAPSWITCH_CTL_WIRE_H */
