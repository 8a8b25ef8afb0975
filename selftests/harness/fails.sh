#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: one passing and one deliberately failing test point.
. "$(dirname "$0")/../lib.sh"
t_ok "this assertion holds"
t_fail "deliberate failure" "the runner must report this test as failed"
t_done
