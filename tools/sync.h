/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipsec sync-xfrm: shared declarations of sync.c (the daemon), sync_pol.c
 * (kipsec's policies), sync_spi.c (SPI reservations), xfrm.c (the kernel's
 * XFRM netlink) and vici.c (charon's control socket).
 */
#ifndef KIPSEC_SYNC_H
#define KIPSEC_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct nlattr;

/*
 * The reqid of what sync-xfrm installs for itself and no SA of charon's
 * ever carries (charon counts its reqids up from 1): the template of an
 * on-demand policy (no SA fits it, so traffic makes kipsec send ACQUIRE)
 * and the native placeholders that reserve the SPIs of kipsec SAs added by
 * other means (sync_spi.c).
 */
#define SYNC_REQID 0xfffffff0u

/* Logging of the daemon: "kipsec sync-xfrm: LEVEL: message" on stderr. */
enum { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern int sync_verbosity;
void slog(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- VICI ---------------------------------------------------------------- */

enum vici_kind { VICI_SECTION, VICI_KV, VICI_LIST, VICI_ITEM };

/* A parsed message: sections and lists have children, values are strings. */
struct vici_node {
	enum vici_kind kind;
	char *name;		/* NULL for list items */
	char *value;		/* KV and list items, NUL-terminated */
	struct vici_node *child, *next;
};

struct vici_msg {
	uint8_t *buf;
	size_t len, cap;
};

int vici_connect(const char *path);
/* Message building: sections, lists, key-values (text values). */
void vici_begin_section(struct vici_msg *m, const char *name);
void vici_end_section(struct vici_msg *m);
void vici_kv(struct vici_msg *m, const char *key, const char *value);
void vici_msg_free(struct vici_msg *m);

int vici_register(int fd, const char *event);
/*
 * Sends command cmd with message m (may be NULL); for each event named
 * stream (may be NULL) received before the response, calls cb. The response
 * is returned in *resp (caller frees with vici_free).
 */
typedef void (*vici_event_cb)(const char *name, struct vici_node *msg,
			      void *data);
int vici_command(int fd, const char *cmd, const struct vici_msg *m,
		 const char *stream, vici_event_cb cb, void *data,
		 struct vici_node **resp);
/* Reads one packet; for an event calls cb. 0, or -1 on error/EOF. */
int vici_read_event(int fd, vici_event_cb cb, void *data);

struct vici_node *vici_get(const struct vici_node *sec, const char *name);
const char *vici_str(const struct vici_node *sec, const char *name);
void vici_free(struct vici_node *n);

/* --- XFRM ---------------------------------------------------------------- */

struct xalg {
	bool set;
	char name[65];
	uint8_t key[128];
	unsigned int key_len;	/* bytes */
	unsigned int icv_bits;	/* AEAD ICV or auth truncation, 0 = default */
};

/* One native SA, as charon installed it. */
struct xsa {
	uint32_t spi;		/* network byte order */
	uint8_t proto;
	uint16_t family;
	uint8_t src[16], dst[16];
	uint8_t mode;		/* XFRM_MODE_* */
	uint32_t reqid;
	uint8_t flags;		/* XFRM_STATE_* */
	uint32_t replay_window;
	bool esn;
	uint32_t esn_bmp_len;	/* words, when the kernel keeps an ESN state */
	uint64_t oseq, seq;
	struct xalg aead, crypt, auth;
	uint64_t soft_bytes, soft_packets, hard_bytes, hard_packets;
	bool encap;
	uint16_t encap_type, encap_sport, encap_dport;	/* host order */
	uint8_t encap_oa[16];
	bool has_sel;
	uint16_t sel_family;
	uint8_t sel_src[16], sel_dst[16];
	uint8_t sel_splen, sel_dplen, sel_proto;
	uint16_t sel_sport, sel_sport_mask, sel_dport, sel_dport_mask;
	bool has_mark;
	uint32_t mark_v, mark_m;
	uint64_t add_time;
};

enum xfrm_ev { XEV_NEW, XEV_UPDATE, XEV_DEL, XEV_EXPIRE, XEV_FLUSH };

typedef void (*xfrm_cb)(enum xfrm_ev ev, struct xsa *sa, bool hard,
			void *data);

/* Sockets for events (SA and EXPIRE groups), dumps and requests. */
int xfrm_open(void);
int xfrm_event_fd(void);
/* Reads one buffer of events: 0, -ENOBUFS when events were lost, -errno. */
int xfrm_recv(xfrm_cb cb, void *data);
/* Every SA of the kernel (with keys), as XEV_NEW. */
int xfrm_dump(xfrm_cb cb, void *data);
int xfrm_send_expire(const struct xsa *sa, bool hard);
int xfrm_send_usage(const struct xsa *sa, uint64_t bytes, uint64_t packets,
		    uint64_t use_time, uint64_t oseq, uint64_t seq);

/* An SA's key (SPI, destination, protocol) and source, not its keys. */
int xfrm_add_placeholder(const struct xsa *sa);
int xfrm_del_sa(const struct xsa *sa);

/* --- sync.c: the daemon ---------------------------------------------------- */

int cmd_sync_xfrm(int argc, char **argv);
/* realloc() for a growing array of n elements; exits when out of memory */
void *sync_grow(void *p, size_t *cap, size_t n, size_t size);
/* Did sync-xfrm mirror the kipsec SA with this key? */
bool sync_mirrored(uint32_t spi, uint8_t proto, const uint8_t *dst,
		   unsigned int dlen);
/* "esp spi 0x... SRC -> DST reqid N" */
const char *sa_str(const struct xsa *x, char *buf, size_t len);

static inline unsigned int alen(uint16_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

const char *astr(uint16_t family, const void *a, char *buf, size_t len);

typedef void (*child_fn)(const struct vici_node *ike,
			 const struct vici_node *ch, void *data);
/* For each child of each IKE_SA in msg (list-sa, child-updown, ...). */
void walk_children(const struct vici_node *msg, child_fn fn, void *data);

/* --- sync_pol.c: kipsec policies from charon's children ------------------- */

/* Which configured children that are down get an on-demand policy. */
enum on_demand { ON_DEMAND_TRAP, ON_DEMAND_ALL, ON_DEMAND_NONE };

/*
 * Policies follow charon's children over VICI connection vici: live ones
 * get out/in/fwd PROTECT policies, down ones that are on demand an out
 * policy that makes kipsec send ACQUIRE. except: the uniqueid of a child
 * reported down that list-sas may still show. -1 if VICI failed.
 */
int pol_reconcile(int vici, enum on_demand mode, const char *except);
/* kipsec sent ACQUIRE for policy id: initiate its child if on demand. */
void pol_acquire(int vici, uint32_t id, const char *tuple);
void pol_bypass_install(void);
/* Removes every policy sync-xfrm installed. */
void pol_cleanup(void);
size_t pol_count(void);

/* --- sync_spi.c: SPIs of kipsec SAs added by other means ----------------- */

/* A native SA: if it is one of our placeholders, take note; true if so. */
bool spi_native_seen(const struct xsa *x);
/* A native SA was deleted: a reservation it blocked can be made now. */
void spi_native_gone(const struct xsa *x);
/* Full pass: every kipsec SA sync-xfrm did not mirror gets a placeholder. */
void spi_rescan(void);
/* kipsec event about an SA (SA_NEW, SA_DEL, hard SA_EXPIRE). */
void spi_kipsec_event(uint8_t cmd, const struct nlattr *sa, bool hard);
/* Is this key a kipsec SA added by other means (known to sync_spi.c)? */
bool spi_is_foreign(const struct xsa *x);
/* Removes every placeholder. */
void spi_cleanup(void);

#endif
