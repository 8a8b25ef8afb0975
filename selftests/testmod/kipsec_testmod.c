// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for the selftest runner: its parameters make the kernel
 * misbehave on purpose so that the runner proves it notices. Built only by
 * the debug test build, never shipped or installed.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/panic.h>

static bool warn;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "fire a WARN at load (panics with panic_on_warn)");

static bool taint;
module_param(taint, bool, 0444);
MODULE_PARM_DESC(taint, "set TAINT_BAD_PAGE at load (the runner must fail)");

static int __init kipsec_testmod_init(void)
{
	WARN(warn, "kipsec_testmod: deliberate warning\n");
	if (taint)
		add_taint(TAINT_BAD_PAGE, LOCKDEP_STILL_OK);
	return 0;
}

static void __exit kipsec_testmod_exit(void)
{
}

module_init(kipsec_testmod_init);
module_exit(kipsec_testmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kipsec selftest runner checks (test only)");
