#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: a WARN must panic the guest (panic_on_warn=1), end QEMU
# (status 1, once the panic is on the console) and fail the test. Runs
# last: nothing survives it.
. "$(dirname "$0")/../lib.sh"
t_ok "before the warning"
insmod "$KIPSEC_TESTMOD_KO" warn=1
sleep 5
t_ok "after the warning: this line must never be reached"
t_done
