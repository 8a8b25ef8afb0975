// SPDX-License-Identifier: GPL-2.0
/*
 * icount: a QEMU TCG plugin that counts the guest kernel's instructions,
 * per translation block, and writes the counts out when the guest asks.
 *
 *   qemu-system-x86_64 ... -plugin icount.so,dir=DIR
 *
 * The guest asks by creating DIR/mark.NAME (DIR is shared with it over
 * 9p); within 20 ms the plugin writes DIR/NAME.counts, one line per block
 * executed so far, "VADDR INSNS EXECS" (VADDR in hex, the block's first
 * instruction; INSNS its length in instructions; EXECS how often it ran),
 * and removes the mark. Two snapshots' difference is what ran in between,
 * on every vCPU: selftests/bench/icount_report.py turns it into
 * instructions per function. Only kernel addresses (the upper half) are
 * counted; each block's counter is one inline add, so the guest runs at
 * most a little slower.
 *
 * Written against the plugin API of QEMU 7.2 (Debian 12), version 1.
 */
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

struct block {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t execs;		/* the inline add's target */
	struct block *next;	/* hash chain */
};

#define HASH_BITS	20
#define MAX_BLOCKS	(4u << 20)

/*
 * Blocks live in one array that never moves (the inline adds point into
 * it) and are never freed: a block translated again (after a TB flush)
 * finds its old entry.
 */
static struct block **hash;
static struct block *blocks;
static unsigned int nblocks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char dir[4096];

static unsigned int hash_of(uint64_t vaddr, uint64_t insns)
{
	uint64_t h = (vaddr ^ (insns << 56)) * 0x9e3779b97f4a7c15ull;

	return h >> (64 - HASH_BITS);
}

/* The entry of a block, created if new; NULL once the array is full. */
static struct block *block_get(uint64_t vaddr, uint64_t insns)
{
	unsigned int h = hash_of(vaddr, insns);
	struct block *b;

	for (b = hash[h]; b; b = b->next)
		if (b->vaddr == vaddr && b->insns == insns)
			return b;
	if (nblocks == MAX_BLOCKS)
		return NULL;
	b = &blocks[nblocks++];
	b->vaddr = vaddr;
	b->insns = insns;
	b->next = hash[h];
	hash[h] = b;
	return b;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	struct block *b;

	if (!(vaddr >> 63))
		return;
	pthread_mutex_lock(&lock);
	b = block_get(vaddr, qemu_plugin_tb_n_insns(tb));
	pthread_mutex_unlock(&lock);
	if (b)
		qemu_plugin_register_vcpu_tb_exec_inline(tb,
				QEMU_PLUGIN_INLINE_ADD_U64, &b->execs, 1);
}

/* DIR/NAME.counts, written whole under a temporary name. */
static void snapshot(const char *name)
{
	char tmp[8192], path[8192];
	unsigned int i, n;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/.%s.counts", dir, name);
	snprintf(path, sizeof(path), "%s/%s.counts", dir, name);
	f = fopen(tmp, "w");
	if (!f)
		return;
	pthread_mutex_lock(&lock);
	n = nblocks;
	pthread_mutex_unlock(&lock);
	for (i = 0; i < n; i++)
		if (blocks[i].execs)
			fprintf(f, "%" PRIx64 " %" PRIu64 " %" PRIu64 "\n",
				blocks[i].vaddr, blocks[i].insns,
				__atomic_load_n(&blocks[i].execs,
						__ATOMIC_RELAXED));
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

/* Watches DIR for marks. */
static void *watcher(void *arg)
{
	char path[8192];
	struct dirent *e;
	DIR *d;

	for (;;) {
		d = opendir(dir);
		while (d && (e = readdir(d))) {
			if (strncmp(e->d_name, "mark.", 5) || !e->d_name[5])
				continue;
			snapshot(e->d_name + 5);
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		if (d)
			closedir(d);
		usleep(20000);
	}
	return NULL;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	pthread_t t;
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "dir=", 4))
			snprintf(dir, sizeof(dir), "%s", argv[i] + 4);
	if (!dir[0]) {
		fprintf(stderr, "icount: usage: -plugin icount.so,dir=DIR\n");
		return -1;
	}
	hash = calloc(1u << HASH_BITS, sizeof(*hash));
	blocks = calloc(MAX_BLOCKS, sizeof(*blocks));
	if (!hash || !blocks)
		return -1;
	if (pthread_create(&t, NULL, watcher, NULL))
		return -1;
	pthread_detach(t);
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	return 0;
}
