/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kipsec: IPsec (ESP, AH) with its own SAD and SPD, configured over the
 * generic netlink family "kipsec".
 *
 * Documentation
 * =============
 *
 * The family is netns-aware: every command acts on the network namespace of
 * the requesting socket. Commands that change state or reveal key material
 * need CAP_NET_ADMIN in the user namespace that owns that network namespace
 * (GENL_UNS_ADMIN_PERM); so do SA and policy reads, which expose topology.
 * Attribute validation is strict: unknown attributes, wrong lengths and
 * out-of-range values are refused with an extack message naming the
 * attribute.
 *
 * Addresses are binary attributes of 4 bytes (IPv4) or 16 bytes (IPv6) in
 * network byte order; the family follows from the length, and addresses
 * that must agree (SA src/dst, selector src/dst) must have the same length.
 * SPIs are NLA_BE32 (network byte order). Ports, ICMP types and all other
 * integers are in host byte order.
 *
 * KIPSEC_CMD_GET_STATS
 * --------------------
 *
 * Request: no attributes. Reply:
 *
 *    KIPSEC_A_VERSION: NLA_NUL_STRING, the module version
 *    KIPSEC_A_STATS: NLA_NESTED, namespace counters
 *        KIPSEC_STAT_*: NLA_U64, one attribute per counter (type = index)
 *    KIPSEC_A_CONFIG: NLA_NESTED, as for KIPSEC_CMD_SET_CONFIG
 *    KIPSEC_A_SA_COUNT: NLA_U32
 *    KIPSEC_A_POLICY_COUNT: NLA_U32
 *    KIPSEC_A_INFLIGHT: NLA_U32, packets of this namespace inside crypto
 *    KIPSEC_A_LIVE_SAS: NLA_U32, SA objects not yet freed, module-wide
 *        (deleted ones included until their last reference goes); only for
 *        callers with CAP_NET_ADMIN in the initial user namespace
 *    KIPSEC_A_LIVE_POLICIES: NLA_U32, the same for policies
 *
 * The live counts are for leak checks: after a flush of every namespace
 * they return to zero once RCU grace periods and deferred frees are done.
 *
 * KIPSEC_CMD_SET_CONFIG
 * ---------------------
 *
 *    KIPSEC_A_CONFIG: NLA_NESTED
 *        KIPSEC_CONFIG_A_DEFAULT_IN: NLA_U8, enum kipsec_action (bypass|discard)
 *        KIPSEC_CONFIG_A_DEFAULT_OUT: NLA_U8
 *        KIPSEC_CONFIG_A_DEFAULT_FWD: NLA_U8
 *
 * The default action applies to packets no policy matches (bypass unless
 * set otherwise).
 *
 * KIPSEC_CMD_SA_NEW, KIPSEC_CMD_SA_UPDATE
 * ---------------------------------------
 *
 *    KIPSEC_A_SA: NLA_NESTED
 *        KIPSEC_SA_A_SPI: NLA_BE32, 256..0xffffffff          (key, mandatory)
 *        KIPSEC_SA_A_DST: address                            (key, mandatory)
 *        KIPSEC_SA_A_PROTO: NLA_U8, IPPROTO_ESP or IPPROTO_AH (key, mandatory)
 *        KIPSEC_SA_A_SRC: address                            (mandatory)
 *        KIPSEC_SA_A_MODE: NLA_U8, enum kipsec_mode (default transport)
 *        KIPSEC_SA_A_REQID: NLA_U32
 *        KIPSEC_SA_A_ALG_AEAD: NLA_NESTED, struct of KIPSEC_ALG_A_*
 *            KIPSEC_ALG_A_NAME: NLA_NUL_STRING, crypto API name
 *            KIPSEC_ALG_A_KEY: NLA_BINARY, key (+ salt/nonce for AEADs)
 *            KIPSEC_ALG_A_ICV_BITS: NLA_U32, ICV length in bits
 *        KIPSEC_SA_A_ALG_CRYPT: NLA_NESTED (NAME, KEY)
 *        KIPSEC_SA_A_ALG_AUTH: NLA_NESTED (NAME, KEY, optional ICV_BITS:
 *            truncation; default per RFC 4868 / RFC 2404 / RFC 3566)
 *        KIPSEC_SA_A_REPLAY_WINDOW: NLA_U32, 0..4096 packets (0 = no check)
 *        KIPSEC_SA_A_FLAGS: NLA_U32, KIPSEC_SA_F_* (unknown bits refused)
 *        KIPSEC_SA_A_DF: NLA_U8, enum kipsec_df (tunnel mode, default copy)
 *        KIPSEC_SA_A_SEQ_OUT: NLA_U64, next outbound sequence number - 1
 *        KIPSEC_SA_A_SEQ_IN: NLA_U64, highest sequence number seen inbound
 *        KIPSEC_SA_A_LIFETIME_SOFT: NLA_NESTED
 *            KIPSEC_LFT_A_BYTES: NLA_U64 (0 = no limit)
 *            KIPSEC_LFT_A_PACKETS: NLA_U64
 *            KIPSEC_LFT_A_ADD_SECS: NLA_U64, seconds after add
 *            KIPSEC_LFT_A_USE_SECS: NLA_U64, seconds after first use
 *        KIPSEC_SA_A_LIFETIME_HARD: NLA_NESTED, as the soft one
 *        KIPSEC_SA_A_ENCAP: NLA_NESTED
 *            KIPSEC_ENCAP_A_TYPE: NLA_U8, enum kipsec_encap
 *            KIPSEC_ENCAP_A_SPORT: NLA_U16
 *            KIPSEC_ENCAP_A_DPORT: NLA_U16
 *            KIPSEC_ENCAP_A_OADDR: address, the peer's original (pre-NAT)
 *                source address: transport mode checksum fix-up, RFC 3948
 *                3.1.2 (without it the inner checksum is not verified)
 *        KIPSEC_SA_A_SEL: NLA_NESTED, selector (below); traffic the SA
 *            may carry, checked on input (RFC 4301 5.2)
 *
 * Exactly one of ALG_AEAD, or ALG_AUTH with an optional ALG_CRYPT (ESP),
 * is given. AH takes ALG_AUTH, or ALG_AEAD with rfc4543(gcm(aes)).
 * SA_UPDATE finds the SA by its key and replaces the attributes given; it
 * completes a larval SA made by SA_GETSPI. SA_NEW on an existing key fails
 * with EEXIST.
 *
 * KIPSEC_CMD_SA_DEL, KIPSEC_CMD_SA_GET
 * -----------------------------------
 *
 *    KIPSEC_A_SA: NLA_NESTED with SPI, DST, PROTO
 *    KIPSEC_A_FLAGS: NLA_U32, KIPSEC_F_WITH_KEYS to include keys (GET only)
 *
 * SA_GET with NLM_F_DUMP dumps every SA of the namespace (KIPSEC_A_FLAGS
 * may ask for keys). Each reply carries KIPSEC_A_SA with every attribute
 * above that is set, without keys unless asked, plus the read-only:
 *
 *        KIPSEC_SA_A_STATE: NLA_U8, enum kipsec_sa_state
 *        KIPSEC_SA_A_CURLFT: NLA_NESTED
 *            KIPSEC_LFT_A_BYTES, KIPSEC_LFT_A_PACKETS: NLA_U64, used
 *            KIPSEC_LFT_A_ADD_SECS: NLA_U64, seconds since add
 *            KIPSEC_LFT_A_USE_SECS: NLA_U64, seconds since first use (0 if
 *                never used)
 *        KIPSEC_SA_A_STATS: NLA_NESTED, KIPSEC_STAT_* counters of this SA
 *
 * Dumps restart correctly; a dump that raced with a change is marked
 * NLM_F_DUMP_INTR.
 *
 * KIPSEC_CMD_SA_FLUSH
 * -------------------
 *
 *    KIPSEC_A_PROTO: NLA_U8, optional: only SAs of this protocol
 *
 * KIPSEC_CMD_SA_GETSPI
 * --------------------
 *
 *    KIPSEC_A_SA: NLA_NESTED with SRC, DST, PROTO, optional MODE, REQID
 *    KIPSEC_A_SPI_MIN: NLA_U32, at least 256 (default 256)
 *    KIPSEC_A_SPI_MAX: NLA_U32 (default 0xffffffff)
 *
 * Allocates an SPI free for (DST, PROTO) in [min, max] and creates a larval
 * SA that carries no traffic until KIPSEC_CMD_SA_UPDATE completes it. A
 * larval SA is deleted after KIPSEC_LARVAL_SECS (module parameter
 * larval_secs). Reply: KIPSEC_A_SA.
 *
 * KIPSEC_CMD_POLICY_NEW, KIPSEC_CMD_POLICY_UPDATE
 * -----------------------------------------------
 *
 *    KIPSEC_A_POLICY: NLA_NESTED
 *        KIPSEC_POL_A_ID: NLA_U32, assigned by the kernel; UPDATE finds the
 *            policy by ID, or by DIR + SEL + PRIORITY when no ID is given
 *        KIPSEC_POL_A_DIR: NLA_U8, enum kipsec_dir (mandatory)
 *        KIPSEC_POL_A_PRIORITY: NLA_U32, lower wins; ties go to the
 *            policy added first
 *        KIPSEC_POL_A_ACTION: NLA_U8, enum kipsec_action (mandatory)
 *        KIPSEC_POL_A_SEL: NLA_NESTED, selector (mandatory)
 *            KIPSEC_SEL_A_FAMILY: NLA_U16, AF_INET or AF_INET6 (mandatory
 *                unless an address is given)
 *            KIPSEC_SEL_A_SRC: address (default: any)
 *            KIPSEC_SEL_A_SRC_PLEN: NLA_U8, prefix length (default: full)
 *            KIPSEC_SEL_A_DST: address
 *            KIPSEC_SEL_A_DST_PLEN: NLA_U8
 *            KIPSEC_SEL_A_PROTO: NLA_U8, upper-layer protocol (0 = any)
 *            KIPSEC_SEL_A_SPORT_MIN, KIPSEC_SEL_A_SPORT_MAX: NLA_U16
 *            KIPSEC_SEL_A_DPORT_MIN, KIPSEC_SEL_A_DPORT_MAX: NLA_U16
 *                (ports: TCP, UDP, SCTP, UDPLite only; default: any)
 *            KIPSEC_SEL_A_ICMP_TYPE: NLA_U8 (ICMP and ICMPv6 only)
 *            KIPSEC_SEL_A_ICMP_CODE: NLA_U8
 *        KIPSEC_POL_A_TMPLS: NLA_NESTED, for PROTECT (at least one, at most
 *            KIPSEC_MAX_TMPLS), outermost last
 *            KIPSEC_TMPL: NLA_NESTED, one template
 *                KIPSEC_TMPL_A_PROTO: NLA_U8, IPPROTO_ESP or IPPROTO_AH
 *                KIPSEC_TMPL_A_MODE: NLA_U8, enum kipsec_mode
 *                KIPSEC_TMPL_A_SRC, KIPSEC_TMPL_A_DST: address (tunnel mode:
 *                    mandatory, the SA's outer addresses)
 *                KIPSEC_TMPL_A_REQID: NLA_U32 (0 = any)
 *                KIPSEC_TMPL_A_SPI: NLA_BE32 (0 or absent = any)
 *                KIPSEC_TMPL_A_LEVEL: NLA_U8, enum kipsec_level
 *    Reply, only to a request with NLM_F_ECHO: KIPSEC_A_POLICY as added
 *    or updated, with KIPSEC_POL_A_ID (as native XFRM and rtnetlink, no
 *    reply otherwise: the ack alone).
 *
 * KIPSEC_CMD_POLICY_DEL, KIPSEC_CMD_POLICY_GET
 * -------------------------------------------
 *
 *    KIPSEC_A_POLICY: NLA_NESTED with ID, or DIR + SEL (+ PRIORITY)
 *
 * POLICY_GET with NLM_F_DUMP dumps all policies; replies carry every
 * attribute above plus KIPSEC_POL_A_STATS (KIPSEC_STAT_POL_HITS,
 * KIPSEC_STAT_POL_DROPS).
 *
 * KIPSEC_CMD_POLICY_FLUSH
 * -----------------------
 *
 *    KIPSEC_A_DIR: NLA_U8, optional: only policies of this direction
 *
 * KIPSEC_CMD_ALGS
 * ---------------
 *
 * Request: none (dump or do). Reply: one KIPSEC_A_ALG per algorithm:
 *
 *    KIPSEC_A_ALG: NLA_NESTED
 *        KIPSEC_ALGINFO_A_NAME: NLA_NUL_STRING
 *        KIPSEC_ALGINFO_A_KIND: NLA_U8, enum kipsec_alg_kind
 *        KIPSEC_ALGINFO_A_KEY_BITS: NLA_NESTED, NLA_U32 each (accepted key
 *            lengths, salt included)
 *        KIPSEC_ALGINFO_A_ICV_BITS: NLA_NESTED, NLA_U32 each
 *        KIPSEC_ALGINFO_A_DEFAULT_ICV_BITS: NLA_U32
 *        KIPSEC_ALGINFO_A_IV_BYTES: NLA_U32
 *        KIPSEC_ALGINFO_A_BLOCK_BYTES: NLA_U32
 *        KIPSEC_ALGINFO_A_AVAILABLE: NLA_FLAG, the crypto API has it
 *        KIPSEC_ALGINFO_A_AH: NLA_FLAG, usable with AH
 *
 * KIPSEC_CMD_EXPLAIN
 * ------------------
 *
 *    KIPSEC_A_EXPLAIN: NLA_NESTED
 *        KIPSEC_EXPLAIN_A_DIR: NLA_U8, enum kipsec_dir (default out)
 *        KIPSEC_EXPLAIN_A_SRC, KIPSEC_EXPLAIN_A_DST: address (mandatory)
 *        KIPSEC_EXPLAIN_A_PROTO: NLA_U8
 *        KIPSEC_EXPLAIN_A_SPORT, KIPSEC_EXPLAIN_A_DPORT: NLA_U16
 *        KIPSEC_EXPLAIN_A_ICMP_TYPE, KIPSEC_EXPLAIN_A_ICMP_CODE: NLA_U8
 *
 * Runs the packet path's own lookup. Reply: KIPSEC_A_EXPLAIN with
 *        KIPSEC_EXPLAIN_A_VERDICT: NLA_U8, enum kipsec_verdict
 *        KIPSEC_EXPLAIN_A_POLICY: NLA_NESTED, the matching policy, if any
 *        KIPSEC_EXPLAIN_A_SA: NLA_NESTED, the SA that would be used
 *        KIPSEC_EXPLAIN_A_REASON: NLA_NUL_STRING
 *
 * Notifications
 * -------------
 *
 * Multicast group "sa": KIPSEC_CMD_SA_NEW, _UPDATE, _DEL (KIPSEC_A_SA,
 * never keys), and KIPSEC_CMD_SA_EXPIRE (KIPSEC_A_SA, KIPSEC_A_HARD flag
 * for a hard expiry, after which the SA is deleted), KIPSEC_CMD_SA_MAPPING
 * (KIPSEC_A_SA with the SA key, KIPSEC_A_NEW_ADDR, KIPSEC_A_NEW_PORT: the
 * NAT-T peer moved), KIPSEC_CMD_SA_FLUSH (KIPSEC_A_PROTO if the flush was
 * limited to one protocol). A larval SA that times out is reported as a
 * hard KIPSEC_CMD_SA_EXPIRE.
 * Multicast group "policy": KIPSEC_CMD_POLICY_NEW, _UPDATE, _DEL, and
 * KIPSEC_CMD_POLICY_FLUSH (KIPSEC_A_DIR if limited to one direction).
 * Multicast group "acquire": KIPSEC_CMD_ACQUIRE with KIPSEC_A_POLICY (the
 * PROTECT policy, its templates) and KIPSEC_A_EXPLAIN (the packet tuple),
 * sent when outbound traffic found no usable SA (rate-limited per policy).
 */

#ifndef _UAPI_LINUX_KIPSEC_H
#define _UAPI_LINUX_KIPSEC_H

#include <linux/types.h>

#define KIPSEC_GENL_NAME	"kipsec"
#define KIPSEC_GENL_VERSION	1

#define KIPSEC_MCGRP_SA		"sa"
#define KIPSEC_MCGRP_POLICY	"policy"
#define KIPSEC_MCGRP_ACQUIRE	"acquire"

#define KIPSEC_MAX_REPLAY_WINDOW	4096
#define KIPSEC_MAX_TMPLS		4
#define KIPSEC_MAX_ALG_NAME		64
#define KIPSEC_MAX_KEY_BYTES		128
#define KIPSEC_LARVAL_SECS		30
#define KIPSEC_SPI_MIN			256

/**
 * enum kipsec_cmd - generic netlink commands of the kipsec family
 * @KIPSEC_CMD_UNSPEC: unused
 * @KIPSEC_CMD_GET_STATS: version, namespace counters and configuration
 * @KIPSEC_CMD_SET_CONFIG: set namespace configuration (default actions)
 * @KIPSEC_CMD_SA_NEW: add an SA (also a notification)
 * @KIPSEC_CMD_SA_UPDATE: change an SA or complete a larval one
 * @KIPSEC_CMD_SA_DEL: delete an SA (also a notification)
 * @KIPSEC_CMD_SA_GET: get one SA, or dump all with NLM_F_DUMP
 * @KIPSEC_CMD_SA_FLUSH: delete all SAs, optionally of one protocol
 * @KIPSEC_CMD_SA_GETSPI: allocate an SPI and a larval SA
 * @KIPSEC_CMD_SA_EXPIRE: notification: an SA reached a soft or hard limit
 * @KIPSEC_CMD_SA_MAPPING: notification: a NAT-T peer's address changed
 * @KIPSEC_CMD_POLICY_NEW: add a policy (also a notification)
 * @KIPSEC_CMD_POLICY_UPDATE: change a policy
 * @KIPSEC_CMD_POLICY_DEL: delete a policy (also a notification)
 * @KIPSEC_CMD_POLICY_GET: get one policy, or dump all with NLM_F_DUMP
 * @KIPSEC_CMD_POLICY_FLUSH: delete all policies, optionally of one direction
 * @KIPSEC_CMD_ACQUIRE: notification: outbound traffic needs an SA
 * @KIPSEC_CMD_ALGS: list the supported algorithms
 * @KIPSEC_CMD_EXPLAIN: what the datapath would do with a packet tuple
 * @__KIPSEC_CMD_MAX: internal
 */
enum kipsec_cmd {
	KIPSEC_CMD_UNSPEC,
	KIPSEC_CMD_GET_STATS,
	KIPSEC_CMD_SET_CONFIG,
	KIPSEC_CMD_SA_NEW,
	KIPSEC_CMD_SA_UPDATE,
	KIPSEC_CMD_SA_DEL,
	KIPSEC_CMD_SA_GET,
	KIPSEC_CMD_SA_FLUSH,
	KIPSEC_CMD_SA_GETSPI,
	KIPSEC_CMD_SA_EXPIRE,
	KIPSEC_CMD_SA_MAPPING,
	KIPSEC_CMD_POLICY_NEW,
	KIPSEC_CMD_POLICY_UPDATE,
	KIPSEC_CMD_POLICY_DEL,
	KIPSEC_CMD_POLICY_GET,
	KIPSEC_CMD_POLICY_FLUSH,
	KIPSEC_CMD_ACQUIRE,
	KIPSEC_CMD_ALGS,
	KIPSEC_CMD_EXPLAIN,
	__KIPSEC_CMD_MAX
};

#define KIPSEC_CMD_MAX (__KIPSEC_CMD_MAX - 1)

/**
 * enum kipsec_attr - top-level attributes
 * @KIPSEC_A_UNSPEC: unused
 * @KIPSEC_A_VERSION: NLA_NUL_STRING, module version
 * @KIPSEC_A_STATS: NLA_NESTED, KIPSEC_STAT_* counters
 * @KIPSEC_A_CONFIG: NLA_NESTED, enum kipsec_config_attr
 * @KIPSEC_A_SA_COUNT: NLA_U32, SAs in the namespace
 * @KIPSEC_A_POLICY_COUNT: NLA_U32, policies in the namespace
 * @KIPSEC_A_SA: NLA_NESTED, enum kipsec_sa_attr
 * @KIPSEC_A_POLICY: NLA_NESTED, enum kipsec_pol_attr
 * @KIPSEC_A_FLAGS: NLA_U32, KIPSEC_F_* request flags
 * @KIPSEC_A_PROTO: NLA_U8, protocol filter for SA_FLUSH
 * @KIPSEC_A_DIR: NLA_U8, direction filter for POLICY_FLUSH
 * @KIPSEC_A_SPI_MIN: NLA_U32, lower bound for SA_GETSPI
 * @KIPSEC_A_SPI_MAX: NLA_U32, upper bound for SA_GETSPI
 * @KIPSEC_A_HARD: NLA_FLAG, the expiry is hard
 * @KIPSEC_A_ALG: NLA_NESTED, enum kipsec_alginfo_attr
 * @KIPSEC_A_EXPLAIN: NLA_NESTED, enum kipsec_explain_attr
 * @KIPSEC_A_NEW_ADDR: address, NAT-T mapping change
 * @KIPSEC_A_NEW_PORT: NLA_U16, NAT-T mapping change
 * @KIPSEC_A_PAD: padding for 64-bit attributes
 * @KIPSEC_A_INFLIGHT: NLA_U32, packets of the namespace inside crypto
 * @KIPSEC_A_LIVE_SAS: NLA_U32, SA objects allocated and not yet freed
 * @KIPSEC_A_LIVE_POLICIES: NLA_U32, policy objects not yet freed
 * @__KIPSEC_A_MAX: internal
 */
enum kipsec_attr {
	KIPSEC_A_UNSPEC,
	KIPSEC_A_VERSION,
	KIPSEC_A_STATS,
	KIPSEC_A_CONFIG,
	KIPSEC_A_SA_COUNT,
	KIPSEC_A_POLICY_COUNT,
	KIPSEC_A_SA,
	KIPSEC_A_POLICY,
	KIPSEC_A_FLAGS,
	KIPSEC_A_PROTO,
	KIPSEC_A_DIR,
	KIPSEC_A_SPI_MIN,
	KIPSEC_A_SPI_MAX,
	KIPSEC_A_HARD,
	KIPSEC_A_ALG,
	KIPSEC_A_EXPLAIN,
	KIPSEC_A_NEW_ADDR,
	KIPSEC_A_NEW_PORT,
	KIPSEC_A_PAD,
	KIPSEC_A_INFLIGHT,
	KIPSEC_A_LIVE_SAS,
	KIPSEC_A_LIVE_POLICIES,
	__KIPSEC_A_MAX
};

#define KIPSEC_A_MAX (__KIPSEC_A_MAX - 1)

/**
 * enum kipsec_req_flags - KIPSEC_A_FLAGS bits
 * @KIPSEC_F_WITH_KEYS: include key material in SA replies
 * @KIPSEC_F_ALL: mask of all valid flags
 */
enum kipsec_req_flags {
	KIPSEC_F_WITH_KEYS = 1U << 0,
	KIPSEC_F_ALL = KIPSEC_F_WITH_KEYS
};

/**
 * enum kipsec_config_attr - namespace configuration
 * @KIPSEC_CONFIG_A_UNSPEC: unused
 * @KIPSEC_CONFIG_A_DEFAULT_IN: NLA_U8, action for unmatched inbound traffic
 * @KIPSEC_CONFIG_A_DEFAULT_OUT: NLA_U8, action for unmatched outbound traffic
 * @KIPSEC_CONFIG_A_DEFAULT_FWD: NLA_U8, action for unmatched forwarded traffic
 * @__KIPSEC_CONFIG_A_MAX: internal
 */
enum kipsec_config_attr {
	KIPSEC_CONFIG_A_UNSPEC,
	KIPSEC_CONFIG_A_DEFAULT_IN,
	KIPSEC_CONFIG_A_DEFAULT_OUT,
	KIPSEC_CONFIG_A_DEFAULT_FWD,
	__KIPSEC_CONFIG_A_MAX
};

#define KIPSEC_CONFIG_A_MAX (__KIPSEC_CONFIG_A_MAX - 1)

/**
 * enum kipsec_mode - SA and template mode
 * @KIPSEC_MODE_TRANSPORT: transport mode
 * @KIPSEC_MODE_TUNNEL: tunnel mode
 * @__KIPSEC_MODE_MAX: internal
 */
enum kipsec_mode {
	KIPSEC_MODE_TRANSPORT,
	KIPSEC_MODE_TUNNEL,
	__KIPSEC_MODE_MAX
};

#define KIPSEC_MODE_MAX (__KIPSEC_MODE_MAX - 1)

/**
 * enum kipsec_df - outer DF bit in IPv4 tunnel mode
 * @KIPSEC_DF_COPY: copy DF from the inner IPv4 header (set for inner IPv6)
 * @KIPSEC_DF_SET: always set DF
 * @KIPSEC_DF_CLEAR: never set DF; the outer packet may be fragmented, and
 *	an inner packet too big for the tunnel is fragmented after
 *	encapsulation rather than refused with ICMP
 * @__KIPSEC_DF_MAX: internal
 */
enum kipsec_df {
	KIPSEC_DF_COPY,
	KIPSEC_DF_SET,
	KIPSEC_DF_CLEAR,
	__KIPSEC_DF_MAX
};

#define KIPSEC_DF_MAX (__KIPSEC_DF_MAX - 1)

/**
 * enum kipsec_sa_flags - KIPSEC_SA_A_FLAGS bits
 * @KIPSEC_SA_F_ESN: 64-bit extended sequence numbers (RFC 4303 2.2.1)
 * @KIPSEC_SA_F_NO_ECN: tunnel mode: do not propagate ECN (RFC 6040 off)
 * @KIPSEC_SA_F_NO_DSCP_COPY: tunnel mode: outer DSCP is 0, not the inner one
 * @KIPSEC_SA_F_NONSTD_TRUNC: allow an ICV truncation outside the RFC list
 * @KIPSEC_SA_F_ALL: mask of all valid flags
 */
enum kipsec_sa_flags {
	KIPSEC_SA_F_ESN = 1U << 0,
	KIPSEC_SA_F_NO_ECN = 1U << 1,
	KIPSEC_SA_F_NO_DSCP_COPY = 1U << 2,
	KIPSEC_SA_F_NONSTD_TRUNC = 1U << 3,
	KIPSEC_SA_F_ALL = KIPSEC_SA_F_ESN | KIPSEC_SA_F_NO_ECN |
			  KIPSEC_SA_F_NO_DSCP_COPY | KIPSEC_SA_F_NONSTD_TRUNC
};

/**
 * enum kipsec_sa_state - life cycle of an SA
 * @KIPSEC_SA_STATE_LARVAL: SPI reserved by SA_GETSPI, not usable yet
 * @KIPSEC_SA_STATE_VALID: usable
 * @KIPSEC_SA_STATE_DYING: soft limit reached, still usable
 * @KIPSEC_SA_STATE_DEAD: hard limit reached or deleted, not usable
 * @__KIPSEC_SA_STATE_MAX: internal
 */
enum kipsec_sa_state {
	KIPSEC_SA_STATE_LARVAL,
	KIPSEC_SA_STATE_VALID,
	KIPSEC_SA_STATE_DYING,
	KIPSEC_SA_STATE_DEAD,
	__KIPSEC_SA_STATE_MAX
};

/**
 * enum kipsec_encap - NAT traversal encapsulation
 * @KIPSEC_ENCAP_NONE: none
 * @KIPSEC_ENCAP_ESPINUDP: ESP in UDP, RFC 3948
 * @__KIPSEC_ENCAP_MAX: internal
 */
enum kipsec_encap {
	KIPSEC_ENCAP_NONE,
	KIPSEC_ENCAP_ESPINUDP,
	__KIPSEC_ENCAP_MAX
};

#define KIPSEC_ENCAP_MAX (__KIPSEC_ENCAP_MAX - 1)

/**
 * enum kipsec_sa_attr - attributes of an SA (inside KIPSEC_A_SA)
 * @KIPSEC_SA_A_UNSPEC: unused
 * @KIPSEC_SA_A_SPI: NLA_BE32, security parameter index
 * @KIPSEC_SA_A_DST: address, destination (outer, in tunnel mode)
 * @KIPSEC_SA_A_PROTO: NLA_U8, IPPROTO_ESP or IPPROTO_AH
 * @KIPSEC_SA_A_SRC: address, source (outer, in tunnel mode)
 * @KIPSEC_SA_A_MODE: NLA_U8, enum kipsec_mode
 * @KIPSEC_SA_A_REQID: NLA_U32, links the SA to policy templates
 * @KIPSEC_SA_A_ALG_AEAD: NLA_NESTED, enum kipsec_alg_attr
 * @KIPSEC_SA_A_ALG_CRYPT: NLA_NESTED, enum kipsec_alg_attr
 * @KIPSEC_SA_A_ALG_AUTH: NLA_NESTED, enum kipsec_alg_attr
 * @KIPSEC_SA_A_REPLAY_WINDOW: NLA_U32, 0..KIPSEC_MAX_REPLAY_WINDOW
 * @KIPSEC_SA_A_FLAGS: NLA_U32, enum kipsec_sa_flags
 * @KIPSEC_SA_A_DF: NLA_U8, enum kipsec_df
 * @KIPSEC_SA_A_SEQ_OUT: NLA_U64, last outbound sequence number used
 * @KIPSEC_SA_A_SEQ_IN: NLA_U64, highest inbound sequence number seen
 * @KIPSEC_SA_A_LIFETIME_SOFT: NLA_NESTED, enum kipsec_lft_attr
 * @KIPSEC_SA_A_LIFETIME_HARD: NLA_NESTED, enum kipsec_lft_attr
 * @KIPSEC_SA_A_ENCAP: NLA_NESTED, enum kipsec_encap_attr
 * @KIPSEC_SA_A_SEL: NLA_NESTED, enum kipsec_sel_attr
 * @KIPSEC_SA_A_STATE: NLA_U8, enum kipsec_sa_state (read-only)
 * @KIPSEC_SA_A_CURLFT: NLA_NESTED, enum kipsec_lft_attr, usage (read-only)
 * @KIPSEC_SA_A_STATS: NLA_NESTED, KIPSEC_STAT_* counters (read-only)
 * @KIPSEC_SA_A_PAD: padding for 64-bit attributes
 * @KIPSEC_SA_A_PMTU: NLA_U32, the outer path MTU the SA learnt from ICMP
 *	errors about its own packets, present while it lives (read-only)
 * @__KIPSEC_SA_A_MAX: internal
 */
enum kipsec_sa_attr {
	KIPSEC_SA_A_UNSPEC,
	KIPSEC_SA_A_SPI,
	KIPSEC_SA_A_DST,
	KIPSEC_SA_A_PROTO,
	KIPSEC_SA_A_SRC,
	KIPSEC_SA_A_MODE,
	KIPSEC_SA_A_REQID,
	KIPSEC_SA_A_ALG_AEAD,
	KIPSEC_SA_A_ALG_CRYPT,
	KIPSEC_SA_A_ALG_AUTH,
	KIPSEC_SA_A_REPLAY_WINDOW,
	KIPSEC_SA_A_FLAGS,
	KIPSEC_SA_A_DF,
	KIPSEC_SA_A_SEQ_OUT,
	KIPSEC_SA_A_SEQ_IN,
	KIPSEC_SA_A_LIFETIME_SOFT,
	KIPSEC_SA_A_LIFETIME_HARD,
	KIPSEC_SA_A_ENCAP,
	KIPSEC_SA_A_SEL,
	KIPSEC_SA_A_STATE,
	KIPSEC_SA_A_CURLFT,
	KIPSEC_SA_A_STATS,
	KIPSEC_SA_A_PAD,
	KIPSEC_SA_A_PMTU,
	__KIPSEC_SA_A_MAX
};

#define KIPSEC_SA_A_MAX (__KIPSEC_SA_A_MAX - 1)

/**
 * enum kipsec_alg_attr - an algorithm of an SA
 * @KIPSEC_ALG_A_UNSPEC: unused
 * @KIPSEC_ALG_A_NAME: NLA_NUL_STRING, kernel crypto API name
 * @KIPSEC_ALG_A_KEY: NLA_BINARY, key; AEAD keys end with their salt/nonce
 * @KIPSEC_ALG_A_ICV_BITS: NLA_U32, ICV (truncation) length in bits
 * @__KIPSEC_ALG_A_MAX: internal
 */
enum kipsec_alg_attr {
	KIPSEC_ALG_A_UNSPEC,
	KIPSEC_ALG_A_NAME,
	KIPSEC_ALG_A_KEY,
	KIPSEC_ALG_A_ICV_BITS,
	__KIPSEC_ALG_A_MAX
};

#define KIPSEC_ALG_A_MAX (__KIPSEC_ALG_A_MAX - 1)

/**
 * enum kipsec_lft_attr - lifetime limits, or current usage
 * @KIPSEC_LFT_A_UNSPEC: unused
 * @KIPSEC_LFT_A_BYTES: NLA_U64, bytes
 * @KIPSEC_LFT_A_PACKETS: NLA_U64, packets
 * @KIPSEC_LFT_A_ADD_SECS: NLA_U64, seconds since the SA was added
 * @KIPSEC_LFT_A_USE_SECS: NLA_U64, seconds since the SA was first used
 * @KIPSEC_LFT_A_PAD: padding for 64-bit attributes
 * @__KIPSEC_LFT_A_MAX: internal
 */
enum kipsec_lft_attr {
	KIPSEC_LFT_A_UNSPEC,
	KIPSEC_LFT_A_BYTES,
	KIPSEC_LFT_A_PACKETS,
	KIPSEC_LFT_A_ADD_SECS,
	KIPSEC_LFT_A_USE_SECS,
	KIPSEC_LFT_A_PAD,
	__KIPSEC_LFT_A_MAX
};

#define KIPSEC_LFT_A_MAX (__KIPSEC_LFT_A_MAX - 1)

/**
 * enum kipsec_encap_attr - NAT-T encapsulation of an SA
 * @KIPSEC_ENCAP_A_UNSPEC: unused
 * @KIPSEC_ENCAP_A_TYPE: NLA_U8, enum kipsec_encap
 * @KIPSEC_ENCAP_A_SPORT: NLA_U16, UDP source port
 * @KIPSEC_ENCAP_A_DPORT: NLA_U16, UDP destination port
 * @KIPSEC_ENCAP_A_OADDR: address, original address for checksum fix-up
 * @__KIPSEC_ENCAP_A_MAX: internal
 */
enum kipsec_encap_attr {
	KIPSEC_ENCAP_A_UNSPEC,
	KIPSEC_ENCAP_A_TYPE,
	KIPSEC_ENCAP_A_SPORT,
	KIPSEC_ENCAP_A_DPORT,
	KIPSEC_ENCAP_A_OADDR,
	__KIPSEC_ENCAP_A_MAX
};

#define KIPSEC_ENCAP_A_MAX (__KIPSEC_ENCAP_A_MAX - 1)

/**
 * enum kipsec_sel_attr - a traffic selector
 * @KIPSEC_SEL_A_UNSPEC: unused
 * @KIPSEC_SEL_A_FAMILY: NLA_U16, AF_INET or AF_INET6
 * @KIPSEC_SEL_A_SRC: address, source prefix
 * @KIPSEC_SEL_A_SRC_PLEN: NLA_U8, source prefix length
 * @KIPSEC_SEL_A_DST: address, destination prefix
 * @KIPSEC_SEL_A_DST_PLEN: NLA_U8, destination prefix length
 * @KIPSEC_SEL_A_PROTO: NLA_U8, upper-layer protocol, 0 for any
 * @KIPSEC_SEL_A_SPORT_MIN: NLA_U16, lowest source port
 * @KIPSEC_SEL_A_SPORT_MAX: NLA_U16, highest source port
 * @KIPSEC_SEL_A_DPORT_MIN: NLA_U16, lowest destination port
 * @KIPSEC_SEL_A_DPORT_MAX: NLA_U16, highest destination port
 * @KIPSEC_SEL_A_ICMP_TYPE: NLA_U8, ICMP or ICMPv6 type
 * @KIPSEC_SEL_A_ICMP_CODE: NLA_U8, ICMP or ICMPv6 code
 * @__KIPSEC_SEL_A_MAX: internal
 */
enum kipsec_sel_attr {
	KIPSEC_SEL_A_UNSPEC,
	KIPSEC_SEL_A_FAMILY,
	KIPSEC_SEL_A_SRC,
	KIPSEC_SEL_A_SRC_PLEN,
	KIPSEC_SEL_A_DST,
	KIPSEC_SEL_A_DST_PLEN,
	KIPSEC_SEL_A_PROTO,
	KIPSEC_SEL_A_SPORT_MIN,
	KIPSEC_SEL_A_SPORT_MAX,
	KIPSEC_SEL_A_DPORT_MIN,
	KIPSEC_SEL_A_DPORT_MAX,
	KIPSEC_SEL_A_ICMP_TYPE,
	KIPSEC_SEL_A_ICMP_CODE,
	__KIPSEC_SEL_A_MAX
};

#define KIPSEC_SEL_A_MAX (__KIPSEC_SEL_A_MAX - 1)

/**
 * enum kipsec_dir - policy direction
 * @KIPSEC_DIR_IN: inbound, delivered locally (checked after decapsulation)
 * @KIPSEC_DIR_OUT: outbound, local and forwarded traffic
 * @KIPSEC_DIR_FWD: inbound, forwarded (checked after decapsulation)
 * @__KIPSEC_DIR_MAX: internal
 */
enum kipsec_dir {
	KIPSEC_DIR_IN,
	KIPSEC_DIR_OUT,
	KIPSEC_DIR_FWD,
	__KIPSEC_DIR_MAX
};

#define KIPSEC_DIR_MAX (__KIPSEC_DIR_MAX - 1)

/**
 * enum kipsec_action - policy action
 * @KIPSEC_ACTION_BYPASS: let the packet pass without IPsec
 * @KIPSEC_ACTION_DISCARD: drop the packet
 * @KIPSEC_ACTION_PROTECT: apply (out) or require (in, fwd) the templates
 * @__KIPSEC_ACTION_MAX: internal
 */
enum kipsec_action {
	KIPSEC_ACTION_BYPASS,
	KIPSEC_ACTION_DISCARD,
	KIPSEC_ACTION_PROTECT,
	__KIPSEC_ACTION_MAX
};

#define KIPSEC_ACTION_MAX (__KIPSEC_ACTION_MAX - 1)

/**
 * enum kipsec_level - template level
 * @KIPSEC_LEVEL_REQUIRED: the transform must be applied
 * @KIPSEC_LEVEL_USE: applied if an SA exists, otherwise skipped
 * @__KIPSEC_LEVEL_MAX: internal
 */
enum kipsec_level {
	KIPSEC_LEVEL_REQUIRED,
	KIPSEC_LEVEL_USE,
	__KIPSEC_LEVEL_MAX
};

#define KIPSEC_LEVEL_MAX (__KIPSEC_LEVEL_MAX - 1)

/**
 * enum kipsec_pol_attr - attributes of a policy (inside KIPSEC_A_POLICY)
 * @KIPSEC_POL_A_UNSPEC: unused
 * @KIPSEC_POL_A_ID: NLA_U32, kernel-assigned identifier
 * @KIPSEC_POL_A_DIR: NLA_U8, enum kipsec_dir
 * @KIPSEC_POL_A_PRIORITY: NLA_U32, lower wins
 * @KIPSEC_POL_A_ACTION: NLA_U8, enum kipsec_action
 * @KIPSEC_POL_A_SEL: NLA_NESTED, enum kipsec_sel_attr
 * @KIPSEC_POL_A_TMPLS: NLA_NESTED, list of KIPSEC_TMPL
 * @KIPSEC_POL_A_STATS: NLA_NESTED, KIPSEC_STAT_POL_* counters (read-only)
 * @KIPSEC_POL_A_PAD: padding for 64-bit attributes
 * @__KIPSEC_POL_A_MAX: internal
 */
enum kipsec_pol_attr {
	KIPSEC_POL_A_UNSPEC,
	KIPSEC_POL_A_ID,
	KIPSEC_POL_A_DIR,
	KIPSEC_POL_A_PRIORITY,
	KIPSEC_POL_A_ACTION,
	KIPSEC_POL_A_SEL,
	KIPSEC_POL_A_TMPLS,
	KIPSEC_POL_A_STATS,
	KIPSEC_POL_A_PAD,
	__KIPSEC_POL_A_MAX
};

#define KIPSEC_POL_A_MAX (__KIPSEC_POL_A_MAX - 1)

/**
 * enum kipsec_tmpls_attr - entries of KIPSEC_POL_A_TMPLS
 * @KIPSEC_TMPLS_A_UNSPEC: unused
 * @KIPSEC_TMPL: NLA_NESTED, enum kipsec_tmpl_attr, one per template
 * @__KIPSEC_TMPLS_A_MAX: internal
 */
enum kipsec_tmpls_attr {
	KIPSEC_TMPLS_A_UNSPEC,
	KIPSEC_TMPL,
	__KIPSEC_TMPLS_A_MAX
};

#define KIPSEC_TMPLS_A_MAX (__KIPSEC_TMPLS_A_MAX - 1)

/**
 * enum kipsec_tmpl_attr - a policy template
 * @KIPSEC_TMPL_A_UNSPEC: unused
 * @KIPSEC_TMPL_A_PROTO: NLA_U8, IPPROTO_ESP or IPPROTO_AH
 * @KIPSEC_TMPL_A_MODE: NLA_U8, enum kipsec_mode
 * @KIPSEC_TMPL_A_SRC: address, tunnel source
 * @KIPSEC_TMPL_A_DST: address, tunnel destination
 * @KIPSEC_TMPL_A_REQID: NLA_U32, 0 for any
 * @KIPSEC_TMPL_A_SPI: NLA_BE32, 0 for any
 * @KIPSEC_TMPL_A_LEVEL: NLA_U8, enum kipsec_level
 * @__KIPSEC_TMPL_A_MAX: internal
 */
enum kipsec_tmpl_attr {
	KIPSEC_TMPL_A_UNSPEC,
	KIPSEC_TMPL_A_PROTO,
	KIPSEC_TMPL_A_MODE,
	KIPSEC_TMPL_A_SRC,
	KIPSEC_TMPL_A_DST,
	KIPSEC_TMPL_A_REQID,
	KIPSEC_TMPL_A_SPI,
	KIPSEC_TMPL_A_LEVEL,
	__KIPSEC_TMPL_A_MAX
};

#define KIPSEC_TMPL_A_MAX (__KIPSEC_TMPL_A_MAX - 1)

/**
 * enum kipsec_alg_kind - what an algorithm does
 * @KIPSEC_ALG_KIND_AEAD: combined mode (ESP; GMAC also as AH)
 * @KIPSEC_ALG_KIND_CRYPT: cipher (ESP)
 * @KIPSEC_ALG_KIND_AUTH: integrity (ESP, AH)
 * @__KIPSEC_ALG_KIND_MAX: internal
 */
enum kipsec_alg_kind {
	KIPSEC_ALG_KIND_AEAD,
	KIPSEC_ALG_KIND_CRYPT,
	KIPSEC_ALG_KIND_AUTH,
	__KIPSEC_ALG_KIND_MAX
};

/**
 * enum kipsec_alginfo_attr - an entry of KIPSEC_CMD_ALGS
 * @KIPSEC_ALGINFO_A_UNSPEC: unused
 * @KIPSEC_ALGINFO_A_NAME: NLA_NUL_STRING, crypto API name
 * @KIPSEC_ALGINFO_A_KIND: NLA_U8, enum kipsec_alg_kind
 * @KIPSEC_ALGINFO_A_KEY_BITS: NLA_NESTED, accepted key lengths (NLA_U32)
 * @KIPSEC_ALGINFO_A_ICV_BITS: NLA_NESTED, accepted ICV lengths (NLA_U32)
 * @KIPSEC_ALGINFO_A_DEFAULT_ICV_BITS: NLA_U32, ICV length when none given
 * @KIPSEC_ALGINFO_A_IV_BYTES: NLA_U32, IV carried per packet
 * @KIPSEC_ALGINFO_A_BLOCK_BYTES: NLA_U32, padding block
 * @KIPSEC_ALGINFO_A_AVAILABLE: NLA_FLAG, the running kernel has it
 * @KIPSEC_ALGINFO_A_AH: NLA_FLAG, usable with AH
 * @__KIPSEC_ALGINFO_A_MAX: internal
 */
enum kipsec_alginfo_attr {
	KIPSEC_ALGINFO_A_UNSPEC,
	KIPSEC_ALGINFO_A_NAME,
	KIPSEC_ALGINFO_A_KIND,
	KIPSEC_ALGINFO_A_KEY_BITS,
	KIPSEC_ALGINFO_A_ICV_BITS,
	KIPSEC_ALGINFO_A_DEFAULT_ICV_BITS,
	KIPSEC_ALGINFO_A_IV_BYTES,
	KIPSEC_ALGINFO_A_BLOCK_BYTES,
	KIPSEC_ALGINFO_A_AVAILABLE,
	KIPSEC_ALGINFO_A_AH,
	__KIPSEC_ALGINFO_A_MAX
};

#define KIPSEC_ALGINFO_A_MAX (__KIPSEC_ALGINFO_A_MAX - 1)

/**
 * enum kipsec_verdict - what the datapath does with a packet
 * @KIPSEC_VERDICT_BYPASS: passes in clear (policy or default)
 * @KIPSEC_VERDICT_DISCARD: dropped by a DISCARD policy or default
 * @KIPSEC_VERDICT_PROTECT: protected (out) or accepted if protected (in)
 * @KIPSEC_VERDICT_NO_SA: PROTECT but no usable SA: dropped, ACQUIRE sent
 * @__KIPSEC_VERDICT_MAX: internal
 */
enum kipsec_verdict {
	KIPSEC_VERDICT_BYPASS,
	KIPSEC_VERDICT_DISCARD,
	KIPSEC_VERDICT_PROTECT,
	KIPSEC_VERDICT_NO_SA,
	__KIPSEC_VERDICT_MAX
};

/**
 * enum kipsec_explain_attr - a packet tuple and what happens to it
 * @KIPSEC_EXPLAIN_A_UNSPEC: unused
 * @KIPSEC_EXPLAIN_A_DIR: NLA_U8, enum kipsec_dir
 * @KIPSEC_EXPLAIN_A_SRC: address
 * @KIPSEC_EXPLAIN_A_DST: address
 * @KIPSEC_EXPLAIN_A_PROTO: NLA_U8
 * @KIPSEC_EXPLAIN_A_SPORT: NLA_U16
 * @KIPSEC_EXPLAIN_A_DPORT: NLA_U16
 * @KIPSEC_EXPLAIN_A_ICMP_TYPE: NLA_U8
 * @KIPSEC_EXPLAIN_A_ICMP_CODE: NLA_U8
 * @KIPSEC_EXPLAIN_A_VERDICT: NLA_U8, enum kipsec_verdict (reply)
 * @KIPSEC_EXPLAIN_A_POLICY: NLA_NESTED, enum kipsec_pol_attr (reply)
 * @KIPSEC_EXPLAIN_A_SA: NLA_NESTED, enum kipsec_sa_attr (reply)
 * @KIPSEC_EXPLAIN_A_REASON: NLA_NUL_STRING (reply)
 * @__KIPSEC_EXPLAIN_A_MAX: internal
 */
enum kipsec_explain_attr {
	KIPSEC_EXPLAIN_A_UNSPEC,
	KIPSEC_EXPLAIN_A_DIR,
	KIPSEC_EXPLAIN_A_SRC,
	KIPSEC_EXPLAIN_A_DST,
	KIPSEC_EXPLAIN_A_PROTO,
	KIPSEC_EXPLAIN_A_SPORT,
	KIPSEC_EXPLAIN_A_DPORT,
	KIPSEC_EXPLAIN_A_ICMP_TYPE,
	KIPSEC_EXPLAIN_A_ICMP_CODE,
	KIPSEC_EXPLAIN_A_VERDICT,
	KIPSEC_EXPLAIN_A_POLICY,
	KIPSEC_EXPLAIN_A_SA,
	KIPSEC_EXPLAIN_A_REASON,
	__KIPSEC_EXPLAIN_A_MAX
};

#define KIPSEC_EXPLAIN_A_MAX (__KIPSEC_EXPLAIN_A_MAX - 1)

/**
 * enum kipsec_stat - counters; the attribute type inside a STATS nest
 *
 * Namespace counters (KIPSEC_A_STATS) use all of them; SA counters
 * (KIPSEC_SA_A_STATS) those that apply to one SA; policy counters
 * (KIPSEC_POL_A_STATS) KIPSEC_STAT_POL_*. Every dropped packet increments
 * exactly one *_DROP_* or drop-reason counter.
 *
 * @KIPSEC_STAT_UNSPEC: unused
 * @KIPSEC_STAT_IN_PACKETS: packets decapsulated and accepted
 * @KIPSEC_STAT_IN_BYTES: their bytes (inner)
 * @KIPSEC_STAT_OUT_PACKETS: packets encapsulated and sent
 * @KIPSEC_STAT_OUT_BYTES: their bytes (inner)
 * @KIPSEC_STAT_HOOK_IN: packets seen by the inbound hooks
 * @KIPSEC_STAT_HOOK_OUT: packets seen by the outbound hooks
 * @KIPSEC_STAT_IN_NO_SA: dropped: no SA for SPI/dst/proto
 * @KIPSEC_STAT_IN_SA_INVALID: dropped: SA larval, expired or dead
 * @KIPSEC_STAT_IN_TRUNCATED: dropped: too short or malformed header
 * @KIPSEC_STAT_IN_REPLAY: dropped: replayed or too old sequence number
 * @KIPSEC_STAT_IN_AUTH_FAIL: dropped: ICV did not verify
 * @KIPSEC_STAT_IN_BAD_PAD: dropped: padding or pad length invalid
 * @KIPSEC_STAT_IN_BAD_NEXTHDR: dropped: next header not allowed for the mode
 * @KIPSEC_STAT_IN_POLICY_MISMATCH: dropped: inner packet outside the SA's
 *	selectors or no PROTECT policy accepting this SA (RFC 4301 5.2)
 * @KIPSEC_STAT_IN_CLEARTEXT: dropped: cleartext matching a PROTECT in/fwd
 *	policy
 * @KIPSEC_STAT_IN_POLICY_DISCARD: dropped by an inbound DISCARD policy
 * @KIPSEC_STAT_IN_ECN_INVALID: dropped: invalid ECN combination (RFC 6040)
 * @KIPSEC_STAT_IN_BAD_ENCAP: dropped: malformed ESP in UDP (length, UDP
 *	checksum), or the encapsulation (ESP in UDP or not, port) does not
 *	match the SA's
 * @KIPSEC_STAT_IN_UNSUPPORTED: dropped: header kipsec cannot process (e.g.
 *	AH over an unknown routing header type)
 * @KIPSEC_STAT_IN_NOMEM: dropped: allocation failure
 * @KIPSEC_STAT_IN_CRYPTO_ERROR: dropped: crypto API error other than ICV
 * @KIPSEC_STAT_OUT_NO_SA: dropped: PROTECT with no usable SA (fail closed)
 * @KIPSEC_STAT_OUT_POLICY_DISCARD: dropped by an outbound DISCARD policy
 * @KIPSEC_STAT_OUT_SEQ_OVERFLOW: dropped: sequence number space exhausted
 * @KIPSEC_STAT_OUT_SA_EXPIRED: dropped: SA reached its hard limit
 * @KIPSEC_STAT_OUT_NO_ROUTE: dropped: no route to the tunnel endpoint
 * @KIPSEC_STAT_OUT_MTU: dropped: too big, ICMP sent to the inner source
 * @KIPSEC_STAT_OUT_NOMEM: dropped: allocation failure
 * @KIPSEC_STAT_OUT_CRYPTO_ERROR: dropped: crypto API error
 * @KIPSEC_STAT_OUT_GSO_ERROR: dropped: GSO segmentation failed
 * @KIPSEC_STAT_OUT_ERROR: dropped: other output error
 * @KIPSEC_STAT_ACQUIRE_SENT: ACQUIRE notifications sent
 * @KIPSEC_STAT_ACQUIRE_LIMITED: ACQUIRE notifications suppressed by the rate limit
 * @KIPSEC_STAT_ICMP_PMTU: ICMP errors that updated an outer path MTU
 * @KIPSEC_STAT_ICMP_OTHER: other ICMP errors about kipsec's outer packets
 * @KIPSEC_STAT_POL_HITS: packets that matched the policy
 * @KIPSEC_STAT_POL_DROPS: packets the policy caused to be dropped
 * @KIPSEC_STAT_IN_QUEUE_FULL: dropped: the SA already had
 *	KIPSEC_SQUEUE_LEN (1024) inbound packets waiting for parallel crypto
 * @KIPSEC_STAT_OUT_QUEUE_FULL: dropped: the same, outbound
 * @__KIPSEC_STAT_MAX: internal
 */
enum kipsec_stat {
	KIPSEC_STAT_UNSPEC,
	KIPSEC_STAT_IN_PACKETS,
	KIPSEC_STAT_IN_BYTES,
	KIPSEC_STAT_OUT_PACKETS,
	KIPSEC_STAT_OUT_BYTES,
	KIPSEC_STAT_HOOK_IN,
	KIPSEC_STAT_HOOK_OUT,
	KIPSEC_STAT_IN_NO_SA,
	KIPSEC_STAT_IN_SA_INVALID,
	KIPSEC_STAT_IN_TRUNCATED,
	KIPSEC_STAT_IN_REPLAY,
	KIPSEC_STAT_IN_AUTH_FAIL,
	KIPSEC_STAT_IN_BAD_PAD,
	KIPSEC_STAT_IN_BAD_NEXTHDR,
	KIPSEC_STAT_IN_POLICY_MISMATCH,
	KIPSEC_STAT_IN_CLEARTEXT,
	KIPSEC_STAT_IN_POLICY_DISCARD,
	KIPSEC_STAT_IN_ECN_INVALID,
	KIPSEC_STAT_IN_BAD_ENCAP,
	KIPSEC_STAT_IN_UNSUPPORTED,
	KIPSEC_STAT_IN_NOMEM,
	KIPSEC_STAT_IN_CRYPTO_ERROR,
	KIPSEC_STAT_OUT_NO_SA,
	KIPSEC_STAT_OUT_POLICY_DISCARD,
	KIPSEC_STAT_OUT_SEQ_OVERFLOW,
	KIPSEC_STAT_OUT_SA_EXPIRED,
	KIPSEC_STAT_OUT_NO_ROUTE,
	KIPSEC_STAT_OUT_MTU,
	KIPSEC_STAT_OUT_NOMEM,
	KIPSEC_STAT_OUT_CRYPTO_ERROR,
	KIPSEC_STAT_OUT_GSO_ERROR,
	KIPSEC_STAT_OUT_ERROR,
	KIPSEC_STAT_ACQUIRE_SENT,
	KIPSEC_STAT_ACQUIRE_LIMITED,
	KIPSEC_STAT_ICMP_PMTU,
	KIPSEC_STAT_ICMP_OTHER,
	KIPSEC_STAT_POL_HITS,
	KIPSEC_STAT_POL_DROPS,
	KIPSEC_STAT_IN_QUEUE_FULL,
	KIPSEC_STAT_OUT_QUEUE_FULL,
	__KIPSEC_STAT_MAX
};

#define KIPSEC_STAT_MAX (__KIPSEC_STAT_MAX - 1)

#endif /* _UAPI_LINUX_KIPSEC_H */
