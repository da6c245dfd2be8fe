/*
 * ctl_format.c - text and JSON output for tapswitchctl.
 */
#include "cli/ctl_format.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static bool is_stat(const struct ctl_field *f)
{
	return !strncmp(f->key, "stats.", 6);
}

static void json_string_n(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_string(FILE *out, const char *s)
{
	json_string_n(out, s, strlen(s));
}

static void json_value(FILE *out, const struct ctl_field *f)
{
	switch (f->type) {
	case CTL_NUM:
		fputs(f->value, out);
		break;
	case CTL_BOOL:
		fputs(strcmp(f->value, "0") ? "true" : "false", out);
		break;
	case CTL_LIST: {
		const char *w = f->value;

		fputc('[', out);
		while (*w) {
			size_t len = strcspn(w, ",");

			if (w != f->value)
				fputc(',', out);
			json_string_n(out, w, len);
			w += len;
			if (*w == ',')
				w++;
		}
		fputc(']', out);
		break;
	}
	case CTL_STR:
	default:
		json_string(out, f->value);
	}
}

static void json_record(FILE *out, const struct ctl_record *rec, bool stats)
{
	const char *open_group = NULL;
	size_t group_len = 0;
	bool first = true, first_in_group = true;

	fputc('{', out);
	for (unsigned int i = 0; i < rec->n_fields; i++) {
		const struct ctl_field *f = &rec->fields[i];
		const char *dot = strchr(f->key, '.');
		const char *key = f->key;

		if (is_stat(f) && !stats)
			continue;
		/* Close a group the key does not belong to. */
		if (open_group && (!dot || (size_t)(dot - f->key) != group_len ||
				   strncmp(f->key, open_group, group_len))) {
			fputc('}', out);
			open_group = NULL;
		}
		if (dot && !open_group) {
			char group[64];

			snprintf(group, sizeof(group), "%.*s",
				 (int)(dot - f->key), f->key);
			if (!first)
				fputc(',', out);
			json_string(out, group);
			fputs(":{", out);
			open_group = f->key;
			group_len = dot - f->key;
			first_in_group = true;
			first = false;
		}
		if (dot) {
			key = dot + 1;
			if (!first_in_group)
				fputc(',', out);
			first_in_group = false;
		} else {
			if (!first)
				fputc(',', out);
			first = false;
		}
		json_string(out, key);
		fputc(':', out);
		json_value(out, f);
	}
	if (open_group)
		fputc('}', out);
	fputc('}', out);
}

static void text_field(FILE *out, const struct ctl_record *rec,
		       const struct ctl_field *f, bool *first)
{
	const char *key = is_stat(f) ? f->key + 6 : f->key;

	/* An empty list writes nothing, not even a separator. */
	if (f->type == CTL_LIST && !f->value[0])
		return;
	if (!*first)
		fputc(' ', out);
	*first = false;
	/* The record's name comes bare: the MAC of an entry, the port name
	 * of a port. */
	if (!strcmp(key, "mac") ||
	    (!strcmp(key, "ifname") && strcmp(rec->kind, "fdb") &&
	     strcmp(rec->kind, "capture"))) {
		fputs(f->value, out);
		return;
	}
	if (!strcmp(key, "ifname")) {
		fprintf(out, "dev %s", f->value);
		return;
	}
	switch (f->type) {
	case CTL_LIST: {
		/* Flags print as bare words; other lists after their key. */
		if (strcmp(key, "flags"))
			fprintf(out, "%s ", key);
		for (const char *w = f->value; *w; w++)
			fputc(*w == ',' ? ' ' : *w, out);
		return;
	}
	case CTL_BOOL:
		fprintf(out, "%s %s", key, strcmp(f->value, "0") ? "on" : "off");
		return;
	case CTL_NUM:
		if (!strcmp(key, "group_fwd_mask")) {
			fprintf(out, "%s 0x%llx", key, strtoull(f->value, NULL, 10));
			return;
		}
		/* fall through */
	case CTL_STR:
	default:
		fprintf(out, "%s %s", key, f->value);
	}
}

static void text_record(FILE *out, const struct ctl_record *rec, bool stats)
{
	bool first = true, any_stats = false;

	for (unsigned int i = 0; i < rec->n_fields; i++)
		if (!is_stat(&rec->fields[i]))
			text_field(out, rec, &rec->fields[i], &first);
	fputc('\n', out);
	if (!stats)
		return;
	first = true;
	for (unsigned int i = 0; i < rec->n_fields; i++) {
		if (!is_stat(&rec->fields[i]))
			continue;
		if (!any_stats)
			fputs("    ", out);
		any_stats = true;
		text_field(out, rec, &rec->fields[i], &first);
	}
	if (any_stats)
		fputc('\n', out);
}

static const char *field(const struct ctl_record *rec, const char *key)
{
	const struct ctl_field *f = ctl_record_get(rec, key);

	return f ? f->value : NULL;
}

/* One word (or a few) of a line, a space before all but the first. */
__attribute__((format(printf, 3, 4)))
static void put_word(FILE *out, bool *first, const char *fmt, ...)
{
	va_list ap;

	if (!*first)
		fputc(' ', out);
	*first = false;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

/* A list's words, separated by spaces. */
static void put_list_words(FILE *out, const char *list)
{
	for (; *list; list++)
		fputc(*list == ',' ? ' ' : *list, out);
}

static bool is_known(const char *key, const char *const *known)
{
	for (; *known; known++)
		if (!strcmp(key, *known))
			return true;
	return false;
}

/* The fields a kind's own format does not know, so that text shows all
 * the daemon sent, as "key value". */
static void put_unknown(FILE *out, const struct ctl_record *rec,
			const char *const *known, bool *first)
{
	for (unsigned int i = 0; i < rec->n_fields; i++) {
		const struct ctl_field *f = &rec->fields[i];

		if (!is_stat(f) && !is_known(f->key, known))
			text_field(out, rec, f, first);
	}
}

/*
 * A trace, one line, the fields present in this order:
 *   12:00:01.000123 tap0 60 02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff
 *   ethertype 0x0806 vlan 10 untagged pcp 0 learn new lookup broadcast
 *   flood -> tap1:untagged tap3:tagged
 */
static void trace_text(FILE *out, const struct ctl_record *rec)
{
	static const char *const known[] = {
		"time", "ifname", "len", "src", "dst", "ethertype", "vlan",
		"vlan_in", "pcp", "learn", "learn_from", "lookup",
		"lookup_ifname", "verdict", "drop", "egress", NULL,
	};
	const char *src = field(rec, "src"), *dst = field(rec, "dst");
	const char *verdict = field(rec, "verdict");
	const char *drop = field(rec, "drop");
	const char *egress = field(rec, "egress");
	const char *v;
	bool first = true;

	if ((v = field(rec, "time")))
		put_word(out, &first, "%s", v);
	if ((v = field(rec, "ifname")))
		put_word(out, &first, "%s", v);
	if ((v = field(rec, "len")))
		put_word(out, &first, "%s", v);
	if (src || dst)
		put_word(out, &first, "%s > %s", src ? src : "?",
			 dst ? dst : "?");
	if ((v = field(rec, "ethertype")))
		put_word(out, &first, "ethertype %s", v);
	if ((v = field(rec, "vlan")))
		put_word(out, &first, "vlan %s", v);
	if ((v = field(rec, "vlan_in")))
		put_word(out, &first, "%s", v);
	if ((v = field(rec, "pcp")))
		put_word(out, &first, "pcp %s", v);
	if ((v = field(rec, "learn")))
		put_word(out, &first, "learn %s", v);
	if ((v = field(rec, "learn_from")))
		put_word(out, &first, "from %s", v);
	if ((v = field(rec, "lookup")))
		put_word(out, &first, "lookup %s", v);
	if ((v = field(rec, "lookup_ifname")))
		put_word(out, &first, "%s", v);
	/* The drop reason says the verdict. */
	if (drop)
		put_word(out, &first, "drop %s", drop);
	else if (verdict)
		put_word(out, &first, "%s", verdict);
	put_unknown(out, rec, known, &first);
	if (egress && egress[0]) {
		put_word(out, &first, "->");
		fputc(' ', out);
		put_list_words(out, egress);
	}
	fputc('\n', out);
}

/*
 * A frame, as the seed's program dumps one:
 *   12:00:01.000123 tap0 rx
 *   Read Bytes: 90
 *   33 33 00 00 00 16 46 41 -- 65 57 4e 3b 86 dd 60 00
 *   00 00 00 00 00 01 ff 57 -- 4e 3b 00
 *   (10 more bytes not shown)          only when caplen < len
 *   (an empty line)
 */
static void frame_text(FILE *out, const struct ctl_record *rec)
{
	static const char *const known[] = {
		"time", "ifname", "dir", "len", "caplen", "hex", NULL,
	};
	const char *hex = field(rec, "hex"), *len = field(rec, "len");
	const char *caplen = field(rec, "caplen");
	unsigned long long n_bytes, n_caught;
	const char *v;
	bool first = true;

	if (!hex)
		hex = "";
	n_caught = strlen(hex) / 2;
	if (caplen)
		n_caught = strtoull(caplen, NULL, 10);
	n_bytes = len ? strtoull(len, NULL, 10) : n_caught;

	if ((v = field(rec, "time")))
		put_word(out, &first, "%s", v);
	if ((v = field(rec, "ifname")))
		put_word(out, &first, "%s", v);
	if ((v = field(rec, "dir")))
		put_word(out, &first, "%s", v);
	put_unknown(out, rec, known, &first);
	if (!first)
		fputc('\n', out);
	fprintf(out, "Read Bytes: %llu\n", n_bytes);
	for (size_t i = 0; hex[2 * i] && hex[2 * i + 1]; i++) {
		if (i % 16 == 8)
			fputs(" -- ", out);
		else if (i % 16)
			fputc(' ', out);
		fprintf(out, "%.2s", hex + 2 * i);
		if (i % 16 == 15 || !hex[2 * i + 2] || !hex[2 * i + 3])
			fputc('\n', out);
	}
	if (n_bytes > n_caught)
		fprintf(out, "(%llu more bytes not shown)\n",
			n_bytes - n_caught);
	fputc('\n', out);
}

/*
 * An event, as bridge monitor prints it, after its time:
 *   12:00:01.000123 learned 02:00:00:00:00:0a dev tap0 vlan 10
 *   12:00:01.000123 moved 02:00:00:00:00:0a dev tap1 vlan 10 from tap0
 *   12:00:01.000123 added 02:00:00:00:00:0b dev tap0 static sticky
 *   12:00:01.000123 port down tap0
 *   12:00:01.000123 lost 12 events
 */
static void event_text(FILE *out, const struct ctl_record *rec)
{
	static const char *const fdb_known[] = {
		"object", "event", "time", "mac", "ifname", "vlan", "flags",
		"from", NULL,
	};
	static const char *const other_known[] = {
		"object", "event", "time", "ifname", NULL,
	};
	static const char *const lost_known[] = {
		"object", "event", "time", "count", NULL,
	};
	const char *object = field(rec, "object");
	const char *event = field(rec, "event");
	const char *count = field(rec, "count");
	const char *const *known = other_known;
	const char *v;
	bool first = true;

	if ((v = field(rec, "time")))
		put_word(out, &first, "%s", v);
	if (!object || !strcmp(object, "fdb")) {
		known = fdb_known;
		if (event)
			put_word(out, &first, "%s", event);
		if ((v = field(rec, "mac")))
			put_word(out, &first, "%s", v);
		if ((v = field(rec, "ifname")))
			put_word(out, &first, "dev %s", v);
		if ((v = field(rec, "vlan")))
			put_word(out, &first, "vlan %s", v);
		if ((v = field(rec, "flags")) && v[0]) {
			put_word(out, &first, "%s", "");
			put_list_words(out, v);
		}
		if ((v = field(rec, "from")))
			put_word(out, &first, "from %s", v);
	} else if (!strcmp(object, "monitor") && event &&
		   !strcmp(event, "lost")) {
		known = lost_known;
		put_word(out, &first, "lost %s events",
			 count ? count : "?");
	} else {
		/* port added tap0 */
		put_word(out, &first, "%s", object);
		if (event)
			put_word(out, &first, "%s", event);
		if ((v = field(rec, "ifname")))
			put_word(out, &first, "%s", v);
	}
	put_unknown(out, rec, known, &first);
	fputc('\n', out);
}

static void record_text(FILE *out, const struct ctl_record *rec, bool stats)
{
	if (!strcmp(rec->kind, "trace"))
		trace_text(out, rec);
	else if (!strcmp(rec->kind, "frame"))
		frame_text(out, rec);
	else if (!strcmp(rec->kind, "event"))
		event_text(out, rec);
	else
		text_record(out, rec, stats);
}

void ctl_format_record(FILE *out, const struct ctl_record *rec, bool json,
		       bool stats)
{
	if (json) {
		json_record(out, rec, stats);
		fputc('\n', out);
	} else {
		record_text(out, rec, stats);
	}
}

/*
 * VLAN records come one per (port, VLAN), ports in order; they print
 * grouped by port, as `bridge vlan show` does:
 *   text:  port              vlan-id
 *          tap0              1 PVID Egress Untagged
 *                            10
 *   JSON:  [{"ifname":"tap0","vlans":[{"vlan":1,"flags":["PVID",
 *          "Egress Untagged"]},{"vlan":10}]}]
 */
static void vlan_format(FILE *out, const struct ctl_response *resp,
			bool json, bool stats)
{
	const char *port = NULL;
	bool first_vlan = true;

	if (json)
		fputc('[', out);
	else
		fprintf(out, "%-17s %s\n", "port", "vlan-id");
	for (unsigned int i = 0; i < resp->n_records; i++) {
		const struct ctl_record *rec = &resp->records[i];
		const char *ifname = field(rec, "ifname");
		const char *vid = field(rec, "vlan");
		const char *flags = field(rec, "flags");
		bool new_port = !port || strcmp(port, ifname ? ifname : "");

		if (!ifname)
			continue;
		if (json) {
			if (new_port) {
				if (port)
					fputs("]},", out);
				fputs("{\"ifname\":", out);
				json_string(out, ifname);
				fputs(",\"vlans\":[", out);
				first_vlan = true;
			}
			port = ifname;
			if (!vid)
				continue;
			if (!first_vlan)
				fputc(',', out);
			first_vlan = false;
			fprintf(out, "{\"vlan\":%s", vid);
			if (flags && flags[0]) {
				const struct ctl_field *f =
					ctl_record_get(rec, "flags");

				fputs(",\"flags\":", out);
				json_value(out, f);
			}
			if (stats)
				fprintf(out,
					",\"stats\":{\"rx_packets\":%s,\"rx_bytes\":%s,\"tx_packets\":%s,\"tx_bytes\":%s}",
					field(rec, "stats.rx_packets"),
					field(rec, "stats.rx_bytes"),
					field(rec, "stats.tx_packets"),
					field(rec, "stats.tx_bytes"));
			fputc('}', out);
			continue;
		}
		fprintf(out, "%-17s ", new_port ? ifname : "");
		port = ifname;
		if (!vid) {
			fputs("None\n", out);
			continue;
		}
		fputs(vid, out);
		if (flags && flags[0])
			fputc(' ', out);
		for (const char *w = flags ? flags : ""; *w; w++)
			fputc(*w == ',' ? ' ' : *w, out);
		fputc('\n', out);
		if (stats)
			fprintf(out,
				"%-17s   RX: %s bytes %s packets\n"
				"%-17s   TX: %s bytes %s packets\n",
				"", field(rec, "stats.rx_bytes"),
				field(rec, "stats.rx_packets"), "",
				field(rec, "stats.tx_bytes"),
				field(rec, "stats.tx_packets"));
	}
	if (json)
		fputs(port ? "]}]\n" : "]\n", out);
}

void ctl_format(FILE *out, const struct ctl_response *resp, bool json,
		bool stats, bool single)
{
	if (resp->n_records && !strcmp(resp->records[0].kind, "vlan")) {
		vlan_format(out, resp, json, stats);
		return;
	}
	if (!json) {
		for (unsigned int i = 0; i < resp->n_records; i++)
			record_text(out, &resp->records[i], stats);
		return;
	}
	if (single) {
		if (resp->n_records)
			json_record(out, &resp->records[0], stats);
		else
			fputs("{}", out);
		fputc('\n', out);
		return;
	}
	fputc('[', out);
	for (unsigned int i = 0; i < resp->n_records; i++) {
		if (i)
			fputc(',', out);
		json_record(out, &resp->records[i], stats);
	}
	fputs("]\n", out);
}
