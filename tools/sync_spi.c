// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec sync-xfrm: the SPIs of kipsec SAs that sync-xfrm did not mirror
 * (added by hand with `kipsec sa add`, or by another program) are reserved
 * in the native XFRM SAD, so that charon never allocates one of them.
 *
 * charon takes its inbound SPIs from the native SAD (XFRM_MSG_ALLOCSPI),
 * which knows nothing of kipsec. For every such kipsec SA, sync-xfrm adds a
 * native placeholder with the same SPI, destination and protocol: no mark,
 * reqid SYNC_REQID, a random key that is thrown away at once, no policy
 * refers to it. xfrm_alloc_spi() skips an SPI for which a state exists.
 * Debian's 6.1 (6.1.0-57) and 6.12 (6.12.118) look it up by SPI and
 * protocol alone, whatever the destination and mark ("xfrm: Duplicate SPI
 * Handling", 2025); kernels before that change by destination, SPI and
 * protocol under the larval state's mark, which an unmarked state matches
 * as well. The placeholder never sees a packet: kipsec takes the ESP and
 * AH of its SAs before the native stack, and without kipsec the random key
 * fails every ICV.
 *
 * Left: an SA added in the instant between charon's ALLOCSPI and its
 * UPDSA. Then the placeholder cannot be added (EEXIST, logged) and the two
 * meet in mirror_sa(), which keeps kipsec's SA and makes charon rekey its
 * own (soft expire), so that keys are never mixed under one SPI.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "kipsec.h"
#include "nl.h"
#include "sync.h"

/* A kipsec SA that sync-xfrm did not mirror. */
struct foreign {
	struct xsa key;		/* SPI, protocol, addresses only */
	bool placed;		/* its placeholder is in the native SAD */
	bool seen;		/* during a rescan */
};

static struct {
	struct foreign *v;
	size_t n, cap;
} f;

static struct foreign *find(const struct xsa *x)
{
	for (size_t i = 0; i < f.n; i++)
		if (f.v[i].key.spi == x->spi && f.v[i].key.proto == x->proto &&
		    f.v[i].key.family == x->family &&
		    !memcmp(f.v[i].key.dst, x->dst, alen(x->family)))
			return &f.v[i];
	return NULL;
}

static struct foreign *add(const struct xsa *x)
{
	struct foreign *e;

	f.v = sync_grow(f.v, &f.cap, f.n, sizeof(*f.v));
	e = &f.v[f.n++];
	memset(e, 0, sizeof(*e));
	e->key.spi = x->spi;
	e->key.proto = x->proto;
	e->key.family = x->family;
	memcpy(e->key.src, x->src, sizeof(e->key.src));
	memcpy(e->key.dst, x->dst, sizeof(e->key.dst));
	return e;
}

static void place(struct foreign *e)
{
	char str[160];
	int err;

	if (e->placed)
		return;
	err = xfrm_add_placeholder(&e->key);
	sa_str(&e->key, str, sizeof(str));
	if (!err) {
		e->placed = true;
		slog(LOG_INFO, "%s: added to kipsec by other means; SPI "
		     "reserved in the native SAD", str);
	} else if (err == -EEXIST) {
		slog(LOG_ERR, "%s: added to kipsec by other means, but the "
		     "native SAD holds this SPI already (charon's?): not "
		     "reserved", str);
	} else {
		slog(LOG_WARN, "%s: SPI not reserved in the native SAD: %s",
		     str, strerror(-err));
	}
}

static void drop(struct foreign *e)
{
	char str[160];

	if (e->placed && !xfrm_del_sa(&e->key))
		slog(LOG_INFO, "%s: gone from kipsec; SPI released",
		     sa_str(&e->key, str, sizeof(str)));
	*e = f.v[--f.n];
}

bool spi_native_seen(const struct xsa *x)
{
	struct foreign *e;

	if (x->reqid != SYNC_REQID)
		return false;
	/* one of ours, maybe left by an instance that was killed */
	e = find(x);
	if (!e)
		e = add(x);
	e->placed = true;
	return true;
}

void spi_native_gone(const struct xsa *x)
{
	struct foreign *e = find(x);

	if (!e)
		return;
	/* our placeholder deleted by someone else, or charon's SA gone */
	if (x->reqid == SYNC_REQID)
		e->placed = false;
	place(e);
}

bool spi_is_foreign(const struct xsa *x)
{
	return !!find(x);
}

/* The key and source of a kipsec SA nest; false if incomplete. */
static bool parse_key(const struct nlattr *nest, struct xsa *x)
{
	const struct nlattr *tb[KIPSEC_SA_A_MAX + 1];
	size_t l;

	nl_parse_nest(nest, &sa_nl_pol, tb);
	if (!tb[KIPSEC_SA_A_SPI] || !tb[KIPSEC_SA_A_DST] || !tb[KIPSEC_SA_A_PROTO])
		return false;
	memset(x, 0, sizeof(*x));
	x->spi = mnl_attr_get_u32(tb[KIPSEC_SA_A_SPI]);
	x->proto = mnl_attr_get_u8(tb[KIPSEC_SA_A_PROTO]);
	l = mnl_attr_get_payload_len(tb[KIPSEC_SA_A_DST]);
	if (l != 4 && l != 16)
		return false;
	x->family = l == 16 ? AF_INET6 : AF_INET;
	memcpy(x->dst, mnl_attr_get_payload(tb[KIPSEC_SA_A_DST]), l);
	if (tb[KIPSEC_SA_A_SRC] &&
	    mnl_attr_get_payload_len(tb[KIPSEC_SA_A_SRC]) == l)
		memcpy(x->src, mnl_attr_get_payload(tb[KIPSEC_SA_A_SRC]), l);
	return true;
}

static const enum mnl_attr_data_type top_types[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_SA] = MNL_TYPE_NESTED,
};

static const struct nl_pol top_pol = { KIPSEC_A_MAX, top_types };

static int scan_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KIPSEC_A_MAX + 1];
	struct foreign *e;
	struct xsa x;

	(void)data;
	nl_parse_msg(nlh, &top_pol, tb);
	if (!tb[KIPSEC_A_SA] || !parse_key(tb[KIPSEC_A_SA], &x) ||
	    sync_mirrored(x.spi, x.proto, x.dst, alen(x.family)))
		return 0;
	e = find(&x);
	if (!e)
		e = add(&x);
	e->seen = true;
	return 0;
}

void spi_rescan(void)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	size_t i;

	for (i = 0; i < f.n; i++)
		f.v[i].seen = false;
	if (nl_dump(nl_msg(buf, KIPSEC_CMD_SA_GET, 0), scan_cb, NULL,
		    "sa dump", NULL)) {
		slog(LOG_WARN, "kipsec SA dump failed: SPI reservations not "
		     "checked");
		return;
	}
	for (i = 0; i < f.n;) {
		if (!f.v[i].seen) {
			drop(&f.v[i]);
			continue;
		}
		place(&f.v[i]);
		i++;
	}
}

/* Is the SA still in kipsec? (an event may be read after a later change) */
static bool in_kipsec(const struct xsa *x)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = nl_msg(buf, KIPSEC_CMD_SA_GET, 0);
	struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
	bool quiet = opts.quiet;
	int err;

	mnl_attr_put_u32(nlh, KIPSEC_SA_A_SPI, x->spi);
	mnl_attr_put(nlh, KIPSEC_SA_A_DST, alen(x->family), x->dst);
	mnl_attr_put_u8(nlh, KIPSEC_SA_A_PROTO, x->proto);
	mnl_attr_nest_end(nlh, n);
	opts.quiet = true;
	err = nl_request(nlh, NULL, NULL, "sa get");
	opts.quiet = quiet;
	return !err;
}

void spi_kipsec_event(uint8_t cmd, const struct nlattr *sa, bool hard)
{
	struct foreign *e;
	struct xsa x;

	if (cmd == KIPSEC_CMD_SA_FLUSH) {
		spi_rescan();
		return;
	}
	if (!sa || !parse_key(sa, &x))
		return;
	e = find(&x);
	switch (cmd) {
	case KIPSEC_CMD_SA_NEW:
	case KIPSEC_CMD_SA_UPDATE:
		if (e) {
			place(e);
			return;
		}
		/* sync-xfrm's own additions come back as events too */
		if (sync_mirrored(x.spi, x.proto, x.dst, alen(x.family)) ||
		    !in_kipsec(&x))
			return;
		place(add(&x));
		break;
	case KIPSEC_CMD_SA_DEL:
		if (e)
			drop(e);
		break;
	case KIPSEC_CMD_SA_EXPIRE:
		if (e && hard)
			drop(e);
		break;
	}
}

void spi_cleanup(void)
{
	while (f.n)
		drop(&f.v[0]);
}
