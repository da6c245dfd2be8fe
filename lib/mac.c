/*
 * mac.c - MAC addresses as text.
 */
#include "lib/mac.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mac_parse(const char *text, uint8_t mac[MAC_LEN])
{
	uint8_t out[MAC_LEN];

	if (strlen(text) != MAC_STR_LEN - 1)
		return -EINVAL;
	for (int i = 0; i < MAC_LEN; i++) {
		int hi = hex_digit(text[i * 3]), lo = hex_digit(text[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < MAC_LEN - 1 && text[i * 3 + 2] != ':'))
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, out, MAC_LEN);
	return 0;
}

char *mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STR_LEN])
{
	snprintf(buf, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
