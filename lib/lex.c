/*
 * lex.c - the words of a request against a command's arguments
 * (lib/grammar.h): which argument each word is, and whether its value
 * has the right form.  Knows nothing of the switch: whether a port or an
 * entry exists is for the operation to find out.
 */
#include "lib/grammar.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/mac.h"

static int lex_err(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int lex_err(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err && err_size) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * A number as iproute2's get_u32() and strtoul()'s base 0 read it:
 * decimal, hex after "0x", octal after a leading 0 ("010" is 8); no
 * sign, no spaces.
 */
static int parse_u32(const char *s, uint32_t *val)
{
	unsigned int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
		s++;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		int d = base == 16 ? hex_digit(*s) :
			*s >= '0' && *s < '0' + (int)base ? *s - '0' : -1;

		if (d < 0)
			return -EINVAL;
		v = v * base + d;
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*val = v;
	return 0;
}

static const char bad_vid[] = "VLAN ID must be 1-4094";

static int parse_vid(const char *s, uint16_t *vid)
{
	uint32_t v;

	if (parse_u32(s, &v) || v < 1 || v > 4094)
		return -EINVAL;
	*vid = v;
	return 0;
}

/* The reason a value is wrong when its argument gives none. */
static int bad_value(const struct gr_arg *arg, const char *key,
		     const char *word, const char *why, char *err,
		     size_t err_size)
{
	char choices[128] = "";
	size_t n = 0;

	if (arg->why)
		why = arg->why;
	if (why)
		return lex_err(err, err_size,
			       "Error: argument \"%s\" is wrong: %s", word, why);
	switch (arg->type) {
	case GR_ONOFF:
		return lex_err(err, err_size,
			       "Error: argument \"%s\" is wrong: %s takes on or off",
			       word, key);
	case GR_U32:
		return lex_err(err, err_size,
			       "Error: argument \"%s\" is wrong: %s is %u-%u",
			       word, arg->key, arg->min, arg->max);
	case GR_CHOICE:
		/* "rx, tx or both" */
		for (int i = 0; arg->choices[i] && n < sizeof(choices); i++)
			n += snprintf(choices + n, sizeof(choices) - n, "%s%s",
				      !i ? "" : arg->choices[i + 1] ? ", " :
				      " or ", arg->choices[i]);
		return lex_err(err, err_size,
			       "Error: argument \"%s\" is wrong: %s is %s",
			       word, arg->key, choices);
	default:
		return lex_err(err, err_size,
			       "Error: argument \"%s\" is wrong: unexpected here",
			       word);
	}
}

/* Check @word as @arg's value and fill @v.  @key: the keyword as typed
 * (the arg's own for a positional). */
static int lex_value(const struct gr_arg *arg, const char *key,
		     const char *word, struct gr_value *v, char *err,
		     size_t err_size)
{
	const char *dash;
	size_t len;

	v->word = word;
	switch (arg->type) {
	case GR_FLAG:
	case GR_WORD:
	case GR_QOS_MAP:	/* lexed by the caller */
		return 0;
	case GR_MAC:
		if (mac_parse(word, v->mac))
			return bad_value(arg, key, word,
					 "not a MAC address (xx:xx:xx:xx:xx:xx)",
					 err, err_size);
		return 0;
	case GR_VID:
		if (parse_u32(word, &v->u32) || v->u32 < 1 || v->u32 > 4094)
			return bad_value(arg, key, word, bad_vid, err,
					 err_size);
		return 0;
	case GR_VIDS: {
		char low[16];

		dash = strchr(word, '-');
		len = dash ? (size_t)(dash - word) : strlen(word);
		if (len >= sizeof(low))
			return bad_value(arg, key, word, bad_vid, err,
					 err_size);
		memcpy(low, word, len);
		low[len] = '\0';
		if (parse_vid(low, &v->vids.lo) ||
		    (dash && parse_vid(dash + 1, &v->vids.hi)))
			return bad_value(arg, key, word, bad_vid, err,
					 err_size);
		if (!dash)
			v->vids.hi = v->vids.lo;
		if (v->vids.hi < v->vids.lo)
			return lex_err(err, err_size,
				       "Error: argument \"%s\" is wrong: a range goes from low to high",
				       word);
		return 0;
	}
	case GR_ONOFF:
		if (!strcmp(word, "on") || !strcmp(word, "1"))
			v->on = true;
		else if (!strcmp(word, "off") || !strcmp(word, "0"))
			v->on = false;
		else
			return bad_value(arg, key, word, NULL, err, err_size);
		return 0;
	case GR_U32:
		if (parse_u32(word, &v->u32) || v->u32 < arg->min ||
		    v->u32 > arg->max)
			return bad_value(arg, key, word, NULL, err, err_size);
		return 0;
	case GR_CHOICE:
		for (unsigned int i = 0; arg->choices[i]; i++) {
			if (arg->flags & GR_NOCASE ?
			    !strcasecmp(word, arg->choices[i]) :
			    !strcmp(word, arg->choices[i])) {
				v->choice = i;
				return 0;
			}
		}
		return bad_value(arg, key, word, NULL, err, err_size);
	case GR_PATH:
		/* The client made it absolute; anything else did not come
		 * through tapswitchctl, and the daemon's directory is not
		 * the sender's. */
		if (word[0] != '/')
			return bad_value(arg, key, word,
					 "the file must be an absolute path",
					 err, err_size);
		return 0;
	case GR_HEX:
		len = strlen(word);
		if (len % 2 || len / 2 > GR_HEX_MAX)
			return bad_value(arg, key, word,
					 "not whole bytes in hex", err,
					 err_size);
		for (size_t i = 0; i < len; i++)
			if (hex_digit(word[i]) < 0)
				return bad_value(arg, key, word,
						 "not hex digits", err,
						 err_size);
		v->hex.text = word;
		v->hex.n_bytes = len / 2;
		return 0;
	}
	return bad_value(arg, key, word, NULL, err, err_size);
}

/* The line when @arg (GR_REQUIRED) is missing. */
static int missing(const struct gr_cmd *cmd, const struct gr_arg *arg,
		   char *err, size_t err_size)
{
	char usage[512];

	if (arg->missing)
		return lex_err(err, err_size, "Error: %s", arg->missing);
	gr_synopsis(cmd, usage, sizeof(usage));
	return lex_err(err, err_size, "Error: usage: %s", usage);
}

/* "static and dynamic", "a, b and c" */
static int exclusive(const struct gr_arg *first, char *err, size_t err_size)
{
	char names[256] = "";
	size_t n = 0;
	int total = 0, i = 0;

	for (const struct gr_arg *a = first; a->key; a++)
		total += a->group == first->group;
	for (const struct gr_arg *a = first; a->key && n < sizeof(names);
	     a++) {
		if (a->group != first->group)
			continue;
		n += snprintf(names + n, sizeof(names) - n, "%s%s",
			      !i ? "" : i == total - 1 ? " and " : ", ",
			      a->key);
		i++;
	}
	return lex_err(err, err_size, "Error: %s exclude each other", names);
}

/* What is required is there; groups hold one member at most, exactly one
 * for a required group.  In table order, so that the first argument
 * missing is the one reported. */
static int check_args(const struct gr_cmd *cmd, uint64_t given, char *err,
		      size_t err_size)
{
	const struct gr_arg *args = cmd->args;

	for (unsigned int k = 0; args[k].key; k++) {
		const struct gr_arg *arg = &args[k];
		unsigned int n = 0;
		bool seen = false;

		if (!arg->group) {
			if ((arg->flags & GR_REQUIRED) && !(given >> k & 1))
				return missing(cmd, arg, err, err_size);
			continue;
		}
		for (unsigned int j = 0; j < k; j++)
			seen |= args[j].group == arg->group;
		if (seen)
			continue;
		for (unsigned int j = k; args[j].key; j++)
			n += args[j].group == arg->group && (given >> j & 1);
		if (arg->flags & GR_REQUIRED) {
			if (n != 1)
				return missing(cmd, arg, err, err_size);
		} else if (n > 1) {
			return exclusive(arg, err, err_size);
		}
	}
	return 0;
}

int gr_lex(const struct gr_cmd *cmd, int argc, char *const argv[],
	   struct gr_args *out, char *err, size_t err_size)
{
	/* Built aside: @out changes only when all of it is right. */
	struct gr_args a = { .cmd = cmd };
	/* The arguments given, a bit each: a command has at most 64
	 * (tests/check_grammar.c sees to it). */
	uint64_t given = 0;
	int i = 0, err_ret;

	while (i < argc) {
		const char *word = argv[i];
		const struct gr_arg *arg = gr_find_keyword(cmd, word);
		struct gr_value *v;

		if (a.n == GR_MAX_VALUES)
			return lex_err(err, err_size,
				       "Error: too many arguments");
		v = &a.v[a.n];
		if (!arg) {
			/* Not a keyword: the next positional's value. */
			for (arg = cmd->args; arg->key; arg++)
				if ((arg->flags & GR_POSITIONAL) &&
				    !(given >> (arg - cmd->args) & 1))
					break;
			if (!arg->key)
				return lex_err(err, err_size,
					       "Error: argument \"%s\" is wrong: %s",
					       word, cmd->unknown_why ?
					       cmd->unknown_why :
					       "unexpected here");
			err_ret = lex_value(arg, arg->key, word, v, err,
					    err_size);
			i++;
		} else if (arg->type == GR_FLAG) {
			err_ret = lex_value(arg, word, word, v, err, err_size);
			i++;
		} else if (arg->type == GR_QOS_MAP) {
			int n = 0;

			/* 1:2 3:4 ..., as ip link's vlan options: the
			 * words that follow holding a ':'. */
			while (i + 1 + n < argc &&
			       strchr(argv[i + 1 + n], ':'))
				n++;
			if (!n)
				return lex_err(err, err_size,
					       "Error: \"%s\" needs FROM:TO words",
					       word);
			for (int k = 0; k < n; k++) {
				const char *w = argv[i + 1 + k];

				if (strlen(w) != 3 || w[1] != ':' ||
				    w[0] < '0' || w[0] > '7' ||
				    w[2] < '0' || w[2] > '7')
					return bad_value(arg, word, w,
							 "a PCP map word is FROM:TO, each 0-7",
							 err, err_size);
			}
			v->word = argv[i + 1];
			v->list.words = argv + i + 1;
			v->list.n = n;
			err_ret = 0;
			i += 1 + n;
		} else {
			if (i + 1 >= argc)
				return lex_err(err, err_size,
					       "Error: \"%s\" needs an argument",
					       word);
			err_ret = lex_value(arg, word, argv[i + 1], v, err,
					    err_size);
			i += 2;
		}
		if (err_ret)
			return err_ret;
		v->arg = arg;
		given |= 1ULL << (arg - cmd->args);
		a.n++;
	}
	err_ret = check_args(cmd, given, err, err_size);
	if (err_ret)
		return err_ret;
	*out = a;
	return 0;
}

const struct gr_value *gr_get(const struct gr_args *a, const char *key)
{
	for (unsigned int i = a->n; i-- > 0;)
		if (!strcmp(a->v[i].arg->key, key))
			return &a->v[i];
	return NULL;
}

uint32_t gr_hex_decode(const struct gr_value *v, uint8_t *buf,
		       uint32_t size)
{
	uint32_t n = v->hex.n_bytes < size ? v->hex.n_bytes : size;

	for (uint32_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(hex_digit(v->hex.text[2 * i]) << 4 |
				   hex_digit(v->hex.text[2 * i + 1]));
	return n;
}
