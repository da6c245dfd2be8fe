/*
 * mac.h - Ethernet MAC addresses: the tests the pipeline makes on each
 * frame, and the text form the control interface reads and prints.
 *
 * Thread safety: pure functions.
 */
#ifndef TAPSWITCH_LIB_MAC_H
#define TAPSWITCH_LIB_MAC_H

#include <stdbool.h>
#include <stdint.h>

#define MAC_LEN		6
#define MAC_STR_LEN	18	/* "xx:xx:xx:xx:xx:xx" and its NUL */

static inline bool mac_is_zero(const uint8_t *mac)
{
	return !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

static inline bool mac_is_bcast(const uint8_t *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

/* Multicast, broadcast included: the group bit. */
static inline bool mac_is_mcast(const uint8_t *mac)
{
	return mac[0] & 1;
}

/* 01:80:C2:00:00:0X, the IEEE 802.1 reserved group addresses. */
static inline bool mac_is_link_local(const uint8_t *mac)
{
	return mac[0] == 0x01 && mac[1] == 0x80 && mac[2] == 0xc2 &&
	       mac[3] == 0 && mac[4] == 0 && (mac[5] & 0xf0) == 0;
}

/* Exactly xx:xx:xx:xx:xx:xx, either case.  0 or -EINVAL. */
int mac_parse(const char *text, uint8_t mac[MAC_LEN]);
/* Lower case, colons; returns @buf. */
char *mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STR_LEN]);
/* The value of a hex digit, or -1. */
int hex_digit(char c);

#endif /* TAPSWITCH_LIB_MAC_H */
