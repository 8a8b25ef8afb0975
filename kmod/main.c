// SPDX-License-Identifier: GPL-2.0
/*
 * Module load and unload: bring the parts up in order, take them down in
 * reverse, and run the in-module self-tests in the debug build.
 */

#include <net/genetlink.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

#include "ah.h"
#include "crypto.h"
#include "kipsec.h"
#include "mem.h"
#include "netlink.h"
#include "netns.h"
#include "policy.h"
#include "queue.h"
#include "sa.h"

struct workqueue_struct *kipsec_wq __read_mostly;

/*
 * Each SA holds crypto transforms and each policy per-CPU counters:
 * bound what one namespace (possibly owned by an unprivileged user
 * namespace) can pin.
 */
unsigned int kipsec_max_sas __read_mostly = 1000000;
module_param_named(max_sas, kipsec_max_sas, uint, 0644);
MODULE_PARM_DESC(max_sas, "most SAs (larval included) per network namespace");

unsigned int kipsec_max_policies __read_mostly = 1000000;
module_param_named(max_policies, kipsec_max_policies, uint, 0644);
MODULE_PARM_DESC(max_policies, "most policies per network namespace");

atomic_t kipsec_live_sas = ATOMIC_INIT(0);
atomic_t kipsec_live_policies = ATOMIC_INIT(0);

/*
 * Fixed at load (read-only afterwards): the SAD keeps its larval SAs
 * oldest first, which holds only while they all live equally long.
 */
unsigned int kipsec_larval_secs __read_mostly = KIPSEC_LARVAL_SECS;
module_param_named(larval_secs, kipsec_larval_secs, uint, 0444);
MODULE_PARM_DESC(larval_secs,
		 "seconds a larval SA (GETSPI) waits for its update (default 30, at least 1)");

#ifdef KIPSEC_DEBUG
static bool selftest_bench;
module_param(selftest_bench, bool, 0444);
MODULE_PARM_DESC(selftest_bench,
		 "debug build: time SPD lookups with 10 to 100000 policies at load (slow under emulation)");
#endif

static int __init kipsec_init(void)
{
	int err;

	err = kipsec_mem_init();
	if (err)
		return err;
	/* Deferred SA frees (crypto transforms may sleep) and SA timers. */
	kipsec_wq = alloc_workqueue("kipsec", WQ_UNBOUND, 0);
	if (!kipsec_wq) {
		kipsec_mem_exit();
		return -ENOMEM;
	}

#ifdef KIPSEC_DEBUG
	if (!kipsec_mem_selftest() || !kipsec_crypto_selftest() ||
	    !kipsec_ah_selftest() || !kipsec_sa_selftest() ||
	    !kipsec_policy_selftest(selftest_bench) ||
	    !kipsec_queue_selftest()) {
		err = -ENOTRECOVERABLE;
		goto err_selftest;
	}
#endif

	err = kipsec_queue_init();
	if (err)
		goto err_queue;
	err = kipsec_netns_init();
	if (err)
		goto err_netns;
	err = kipsec_genl_init();
	if (err)
		goto err_genl;

	pr_info("IPsec (ESP, AH) " KIPSEC_VERSION " loaded\n");
	return 0;

err_genl:
	kipsec_netns_exit();
err_netns:
	kipsec_queue_exit();
err_queue:
#ifdef KIPSEC_DEBUG
err_selftest:
#endif
	rcu_barrier();
	destroy_workqueue(kipsec_wq);
	kipsec_mem_exit();
	return err;
}

static void __exit kipsec_exit(void)
{
	/* No new request, then no new packet, then no state. */
	kipsec_genl_exit();
	kipsec_netns_exit();
	/* Every namespace waited for its packets: no queue holds any. */
	kipsec_queue_exit();
	/* RCU callbacks queue the last deferred frees; then drain them. */
	rcu_barrier();
	destroy_workqueue(kipsec_wq);
	kipsec_mem_exit();
}

module_init(kipsec_init);
module_exit(kipsec_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("IPsec (ESP, AH) with its own SAD and SPD, over netfilter");
MODULE_AUTHOR("kipsec developers");
MODULE_VERSION(KIPSEC_VERSION);
MODULE_ALIAS_GENL_FAMILY(KIPSEC_GENL_NAME);
