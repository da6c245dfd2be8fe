/*
 * io.h - small I/O helpers.
 *
 * Thread safety: any thread; each call works on its own arguments.
 */
#ifndef TAPSWITCH_LIB_IO_H
#define TAPSWITCH_LIB_IO_H

#include <stddef.h>

/* Write all @len bytes of @buf to @fd, going on after EINTR and short
 * writes.  Returns 0 or -errno.  Blocks if @fd does. */
int io_write_all(int fd, const void *buf, size_t len);

#endif /* TAPSWITCH_LIB_IO_H */
