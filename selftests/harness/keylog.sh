#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: bytes of a test key in the kernel log must fail the
# test although every test point passes (keys are never logged).
. "$(dirname "$0")/../lib.sh"
t_check "write test key bytes to the kernel log" \
	bash -c 'echo "kipsec-selfcheck: key 0x0102030405060708090a" >/dev/kmsg'
t_done
