/*
 * ctl_format.h - print a control response as text or JSON.
 *
 * One walk over the records serves both outputs: the same keys, in the
 * order the daemon sent them (iproute2's print_* with PRINT_ANY).
 * Text: one line per record of "keyword value" words; "stats.*" fields go
 * on an indented second line, and only with -s.  JSON: an array of
 * objects (a single object for the switch-wide "show"), "stats.x" keys
 * nested as "stats": {"x": ...}, also only with -s.
 */
#ifndef TAPSWITCH_CTL_FORMAT_H
#define TAPSWITCH_CTL_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/ctl_wire.h"

void ctl_format(FILE *out, const struct ctl_response *resp, bool json,
		bool stats, bool single);

#endif /* TAPSWITCH_CTL_FORMAT_H */
