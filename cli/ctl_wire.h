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
 * Thread safety: none needed; every function works on its own arguments.
 */
#ifndef TAPSWITCH_CTL_WIRE_H
#define TAPSWITCH_CTL_WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

#endif /* TAPSWITCH_CTL_WIRE_H */
