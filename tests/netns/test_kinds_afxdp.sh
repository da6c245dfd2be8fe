#!/bin/bash
#
# test_kinds_afxdp.sh - test_kinds.sh on afxdp ports: the tap suites run
# again on veth pairs attached through AF_XDP (skipped, with the reason,
# where XDP is not there).
#
# ts-timeout: 900
exec env TS_KINDS=afxdp bash "$(dirname "$0")/test_kinds.sh"
