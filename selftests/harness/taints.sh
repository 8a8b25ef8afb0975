#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: a kernel taint beyond O|E (here B, as a use-after-free
# under slub_debug leaves it on 6.1) must fail the test although every test
# point passes.
. "$(dirname "$0")/../lib.sh"
t_check "load the test module with taint=1" insmod "$KIPSEC_TESTMOD_KO" taint=1
t_check "unload the test module" rmmod kipsec_testmod
t_done
