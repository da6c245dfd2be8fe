/*
 * port_kinds.c - the port kinds, by name.  A new kind is its own file and
 * one line here.
 */
#include "dataplane/port.h"

#include <string.h>

#include "dataplane/netdev.h"

static const struct port_ops *const port_kinds[] = {
	&port_tap_ops,
	&port_mem_ops,
	&port_afpacket_ops,
	&port_afxdp_ops,
};

const struct port_ops *port_kind_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(port_kinds) / sizeof(port_kinds[0]); i++)
		if (!strcmp(port_kinds[i]->kind, kind))
			return port_kinds[i];
	return NULL;
}

const struct port_ops *port_kind_for(const char *name)
{
	char driver[32];

	/* No such device (the tap kind makes one), or a tap. */
	if (netdev_driver(name, driver, sizeof(driver)) ||
	    !strcmp(driver, "tun"))
		return &port_tap_ops;
	return &port_afpacket_ops;
}
