/*
 * ctl_format.c - text and JSON output for tapswitchctl.
 */
#include "cli/ctl_format.h"

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
	    (!strcmp(key, "ifname") && strcmp(rec->kind, "fdb"))) {
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
			text_record(out, &resp->records[i], stats);
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
