/*
 * grammar.h - the control commands, declared once.
 *
 * Design
 * ------
 * One table (lib/grammar.c) holds every object, its commands and each
 * command's arguments, with the words help prints.  Everything that knows
 * the command language reads it:
 *   - the daemon's dispatch finds the command, lexes the words against
 *     its arguments (gr_lex(), lib/lex.c) and calls the handler its id
 *     names (switch/ctl_server.c);
 *   - tapswitchctl finds what kind of answer a command gets, which words
 *     are file names to make absolute, and prints --help and
 *     `help OBJECT` from it;
 *   - the bash completion and the command section of the man pages are
 *     generated from it at build time (tools/gen_docs.c).
 *
 * The grammar follows iproute2's bridge tool: OBJECT [COMMAND] then
 * keyword-value pairs, keywords alone (flags), and a few positional
 * values.  Objects and commands may be abbreviated to any unique prefix
 * (matched in table order, so "s" is "show"); keywords may not.
 *
 * Lexing checks everything a word can be checked for on its own: that a
 * keyword belongs to the command, that a value is there and has the right
 * form and range, that required arguments are present and exclusive ones
 * are not both given.  What needs the switch's state (does that port
 * exist, is the port in that VLAN) is for the operation to check.
 *
 * Thread safety: the table is constant; every function works on its own
 * arguments.
 */
#ifndef TAPSWITCH_LIB_GRAMMAR_H
#define TAPSWITCH_LIB_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The port kinds `port add ... type` takes (NULL-terminated). */
extern const char *const gr_port_kinds[];

/* What a value is. */
enum gr_type {
	GR_FLAG,		/* the keyword alone: "static", "pvid" */
	GR_WORD,		/* any word: a name (IFNAME) */
	GR_MAC,			/* xx:xx:xx:xx:xx:xx */
	GR_VID,			/* a VLAN ID, 1-4094 */
	GR_VIDS,		/* VID or VID-VID, low to high */
	GR_ONOFF,		/* on, off, 1 or 0 */
	GR_U32,			/* min..max, decimal or 0x hex */
	GR_CHOICE,		/* one of choices[] */
	GR_PATH,		/* a file name; absolute when it reaches the
				 * daemon (the client makes it so) */
	GR_HEX,			/* bytes in hex, at most GR_HEX_MAX */
	GR_QOS_MAP,		/* one or more FROM:TO words, each 0-7: the
				 * words that follow holding a ':' */
};

/* Argument flags. */
#define GR_REQUIRED	0x01	/* must be given */
#define GR_POSITIONAL	0x02	/* a value given without its keyword, in
				 * the order the table lists positionals */
#define GR_KEY_OPTIONAL	0x04	/* with GR_POSITIONAL: the keyword may come
				 * before it ("port del [dev] IFNAME") */
#define GR_NOCASE	0x08	/* GR_CHOICE: compared ignoring case */
#define GR_HIDDEN	0x10	/* accepted, not shown in help */

#define GR_HEX_MAX	2048	/* bytes */

struct gr_arg {
	const char *key;		/* the keyword */
	const char *alias;		/* another spelling, or NULL */
	enum gr_type type;
	unsigned int flags;		/* GR_* */
	const char *meta;		/* the value's name in help: IFNAME */
	uint32_t min, max;		/* GR_U32 */
	const char *const *choices;	/* GR_CHOICE: NULL-terminated */
	/* Arguments of the same non-zero group exclude each other.  When
	 * they are GR_REQUIRED, exactly one of them must be given: none or
	 * several is an error, the first member's `missing` line. */
	uint8_t group;
	/* The reason after 'argument "VALUE" is wrong: ' when a value is
	 * not what it must be (NULL: the type's own). */
	const char *why;
	/* GR_REQUIRED: the whole error line when it is missing, without
	 * "Error: " (NULL: "usage: " and the command's synopsis). */
	const char *missing;
	const char *help;		/* one line, for --help and man */
};

/* What the client does with a command's answer. */
enum gr_answer {
	GR_ANSWER_LIST,			/* records: text lines, a JSON array */
	GR_ANSWER_SINGLE,		/* one record, a JSON object */
	GR_ANSWER_NONE,			/* nothing to print */
	GR_ANSWER_DATA,			/* records, whatever the command */
	GR_ANSWER_STREAM,		/* records as they happen, until the
					 * count or Ctrl-C */
};

/* The daemon's handler for each command: one id each. */
enum gr_cmd_id {
	GR_CMD_PORT_SHOW,
	GR_CMD_PORT_ADD,
	GR_CMD_PORT_DEL,
	GR_CMD_PORT_SET,
	GR_CMD_FDB_SHOW,
	GR_CMD_FDB_ADD,
	GR_CMD_FDB_REPLACE,
	GR_CMD_FDB_DEL,
	GR_CMD_FDB_FLUSH,
	GR_CMD_VLAN_SHOW,
	GR_CMD_VLAN_ADD,
	GR_CMD_VLAN_DEL,
	GR_CMD_SHOW,
	GR_CMD_SET,
	GR_CMD_CAPTURE_SHOW,
	GR_CMD_CAPTURE_START,
	GR_CMD_CAPTURE_STOP,
	GR_CMD_TRACE,
	GR_CMD_EXPLAIN,		/* frame and pcap: a required group, so
				 * the lexer sees to it that exactly one
				 * is given ("explain needs frame HEX or
				 * pcap PATH" for none and for both) */
	GR_CMD_DUMP,
	GR_CMD_MONITOR,
	GR_N_CMDS
};

struct gr_cmd {
	/* The command word; NULL for an object that is its own command
	 * (set, trace, ...): the words after the object are arguments. */
	const char *name;
	enum gr_cmd_id id;
	enum gr_answer answer;
	const struct gr_arg *args;	/* ended by an entry with key NULL */
	/* The reason for a word that is not one of args (NULL:
	 * "unexpected here"). */
	const char *unknown_why;
	const char *help;		/* one line */
};

struct gr_object {
	const char *name;
	const char *alias;		/* matched whole, never as a prefix */
	const struct gr_cmd *cmds;	/* ended by an entry with help NULL;
					 * the first is the default */
	const char *help;		/* one line */
};

/* Every object, ended by an entry with name NULL. */
extern const struct gr_object gr_objects[];

/* iproute2's matches(): @word is a non-empty prefix of @keyword. */
bool gr_matches(const char *word, const char *keyword);

/* The object @word names (a unique prefix, or the alias), or NULL. */
const struct gr_object *gr_find_object(const char *word);

/*
 * The command of @argv (@argc >= 1 words: OBJECT [COMMAND] ...): the
 * object's default command when no command word is given, and *first_arg
 * receives the index of the first argument word.  NULL when the object or
 * the command is unknown; then @err (NULL allowed) holds the error line.
 */
const struct gr_cmd *gr_find_cmd(int argc, char *const argv[],
				 int *first_arg, char *err, size_t err_size);

/* The argument of @cmd that @word is the keyword of (its key or alias,
 * whole), or NULL.  A positional's key is a keyword only when it may be
 * typed (GR_KEY_OPTIONAL). */
const struct gr_arg *gr_find_keyword(const struct gr_cmd *cmd,
				     const char *word);

/* The object a command belongs to. */
const struct gr_object *gr_object_of(const struct gr_cmd *cmd);

/*
 * "OBJECT COMMAND ARGS" as help shows it, e.g.
 * "fdb add MAC dev IFNAME [vlan VID] [static|dynamic] [sticky]"; a command
 * named as its object is shown as the object alone ("show").
 * Returns the length it needed (as snprintf).
 */
int gr_synopsis(const struct gr_cmd *cmd, char *buf, size_t size);

/*
 * Marks around the words of a synopsis, for a renderer that sets keywords
 * and values' names in their own fonts (tools/gen_docs.c): GR_MARK_KEY or
 * GR_MARK_META before the word, GR_MARK_END after it.
 */
#define GR_MARK_KEY	'\001'
#define GR_MARK_META	'\002'
#define GR_MARK_END	'\003'

/* gr_synopsis() with the marks. */
int gr_synopsis_marked(const struct gr_cmd *cmd, char *buf, size_t size);

/*
 * One argument as help lists it: "dev IFNAME", "[dev] IFNAME", "static"
 * (without the brackets of an optional one); @marked: with the marks.
 * Returns the length it needed (as snprintf).
 */
int gr_arg_synopsis(const struct gr_arg *arg, bool marked, char *buf,
		    size_t size);

/* ---- lexing (lib/lex.c) ---- */

/* One argument as given. */
struct gr_value {
	const struct gr_arg *arg;
	const char *word;		/* the value as typed; for GR_FLAG the
					 * keyword; for GR_QOS_MAP the first
					 * FROM:TO word */
	union {
		uint32_t u32;		/* GR_U32; GR_VID */
		bool on;		/* GR_ONOFF */
		uint8_t mac[6];		/* GR_MAC */
		struct {
			uint16_t lo, hi;
		} vids;			/* GR_VIDS (lo == hi for one VID) */
		unsigned int choice;	/* GR_CHOICE: index in choices[] */
		struct {
			char *const *words;
			unsigned int n;
		} list;			/* GR_QOS_MAP: the FROM:TO words */
		struct {
			const char *text;
			uint32_t n_bytes;
		} hex;			/* GR_HEX: decode with gr_hex_decode() */
	};
};

#define GR_MAX_VALUES 64

struct gr_args {
	const struct gr_cmd *cmd;
	unsigned int n;
	struct gr_value v[GR_MAX_VALUES];	/* in the order given */
};

/*
 * Lex the words @argv[0..@argc) (the arguments, after OBJECT [COMMAND])
 * against @cmd into @out.  Returns 0, or -EINVAL with the one-line error
 * (starting "Error: ") in @err, nothing else changed.  The values point
 * into @argv, which must outlive @out.
 */
int gr_lex(const struct gr_cmd *cmd, int argc, char *const argv[],
	   struct gr_args *out, char *err, size_t err_size);

/* The last value given for @key (NULL: not given). */
const struct gr_value *gr_get(const struct gr_args *a, const char *key);

/* Decode a GR_HEX value into @buf (@size >= value's n_bytes); returns
 * the number of bytes. */
uint32_t gr_hex_decode(const struct gr_value *v, uint8_t *buf,
		       uint32_t size);

#endif /* TAPSWITCH_LIB_GRAMMAR_H */
