/*
 * port_kinds.c - the port kinds, by name.  A new kind is its own file and
 * one line here.
 */
#include "dataplane/port.h"

#include <string.h>

static const struct port_ops *const port_kinds[] = {
	&port_tap_ops,
	&port_mem_ops,
};

const struct port_ops *port_kind_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(port_kinds) / sizeof(port_kinds[0]); i++)
		if (!strcmp(port_kinds[i]->kind, kind))
			return port_kinds[i];
	return NULL;
}
