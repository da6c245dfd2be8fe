/*
 * ctl_format.h - print a control response as text or JSON.
 *
 * One walk over the records serves both outputs: the same keys, in the
 * order the daemon sent them (iproute2's print_* with PRINT_ANY).
 * Text: one line per record of "keyword value" words; "stats.*" fields go
 * on an indented second line, and only with -s.  JSON: an array of
 * objects (a single object for the switch-wide "show"), "stats.x" keys
 * nested as "stats": {"x": ...}, also only with -s.
 *
 * Some kinds have a text format of their own, in ordinary responses and
 * in streams alike:
 *   trace  one line:  TIME IFNAME LEN SRC > DST ethertype 0x0800
 *                     vlan 10 untagged pcp 0 learn moved from tap1
 *                     lookup hit tap2 forward -> tap2:tagged
 *   frame  the seed's hex dump:  TIME IFNAME DIR, "Read Bytes: LEN",
 *                     16 bytes a row ("xx .. xx -- xx .. xx"), an empty line
 *   event  as bridge monitor:  TIME learned MAC dev IFNAME vlan 10
 *                              TIME port down tap0
 * Fields a format does not know are added at the end as "key value".
 */
#ifndef TAPSWITCH_CTL_FORMAT_H
#define TAPSWITCH_CTL_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "lib/ctl_wire.h"

void ctl_format(FILE *out, const struct ctl_response *resp, bool json,
		bool stats, bool single);

/* One record of a stream, as soon as it arrives: one line of JSON (JSON
 * Lines), or its text as in ctl_format(). */
void ctl_format_record(FILE *out, const struct ctl_record *rec, bool json,
		       bool stats);

#endif /* TAPSWITCH_CTL_FORMAT_H */
