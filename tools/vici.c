// SPDX-License-Identifier: GPL-2.0
/*
 * A small client of charon's VICI socket, written from the protocol
 * description in strongSwan's src/libcharon/plugins/vici/README.md.
 *
 * A packet is a 32-bit big-endian length and then a type byte; requests,
 * event registrations and events carry a name (one length byte, then the
 * bytes); requests, responses and events carry a message: a sequence of
 * elements, each a type byte followed by
 *   SECTION_START name | SECTION_END | KEY_VALUE name, u16 length, value |
 *   LIST_START name | LIST_ITEM u16 length, value | LIST_END.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kipsec.h"
#include "sync.h"

enum {
	CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN, EVENT_REGISTER,
	EVENT_UNREGISTER, EVENT_CONFIRM, EVENT_UNKNOWN, EVENT,
};

enum {
	EL_SECTION_START = 1, EL_SECTION_END, EL_KEY_VALUE, EL_LIST_START,
	EL_LIST_ITEM, EL_LIST_END,
};

/* charon refuses larger messages by default */
#define VICI_MAX_PACKET (512 * 1024)

int vici_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void put(struct vici_msg *m, const void *p, size_t n)
{
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		uint8_t *b;

		while (cap < m->len + n)
			cap *= 2;
		b = realloc(m->buf, cap);
		if (!b) {
			slog(LOG_ERR, "vici: out of memory");
			exit(1);
		}
		m->buf = b;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

static void put_u8(struct vici_msg *m, uint8_t v)
{
	put(m, &v, 1);
}

static void put_name(struct vici_msg *m, const char *name)
{
	size_t n = strlen(name);

	if (n > 255)
		n = 255;
	put_u8(m, n);
	put(m, name, n);
}

void vici_begin_section(struct vici_msg *m, const char *name)
{
	put_u8(m, EL_SECTION_START);
	put_name(m, name);
}

void vici_end_section(struct vici_msg *m)
{
	put_u8(m, EL_SECTION_END);
}

void vici_kv(struct vici_msg *m, const char *key, const char *value)
{
	size_t n = strlen(value);
	uint8_t len[2] = { n >> 8, n & 0xff };

	put_u8(m, EL_KEY_VALUE);
	put_name(m, key);
	put(m, len, 2);
	put(m, value, n);
}

void vici_msg_free(struct vici_msg *m)
{
	free(m->buf);
	m->buf = NULL;
	m->len = 0;
	m->cap = 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = ECONNRESET;
		if (r <= 0)
			return -1;
		p += r;
		n -= r;
	}
	return 0;
}

static int send_packet(int fd, uint8_t type, const char *name,
		       const struct vici_msg *body)
{
	struct vici_msg m = { 0 };
	uint8_t hdr[4] = { 0 };
	uint32_t len;
	int ret;

	put(&m, hdr, 4);
	put_u8(&m, type);
	if (name)
		put_name(&m, name);
	if (body && body->len)
		put(&m, body->buf, body->len);
	len = m.len - 4;
	m.buf[0] = len >> 24;
	m.buf[1] = len >> 16;
	m.buf[2] = len >> 8;
	m.buf[3] = len;
	ret = write_all(fd, m.buf, m.len);
	vici_msg_free(&m);
	return ret;
}

/* One packet: its type, name (events) and message body. */
static int recv_packet(int fd, uint8_t *type, char *name, uint8_t **body,
		       size_t *blen)
{
	uint8_t hdr[4], *buf;
	uint32_t len;
	size_t off = 1;

	if (read_all(fd, hdr, 4))
		return -1;
	len = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
	if (len < 1 || len > VICI_MAX_PACKET) {
		errno = EBADMSG;
		return -1;
	}
	buf = malloc(len);
	if (!buf)
		return -1;
	if (read_all(fd, buf, len)) {
		free(buf);
		return -1;
	}
	*type = buf[0];
	name[0] = '\0';
	if (*type == EVENT) {
		if (len < 2 || len < 2u + buf[1]) {
			free(buf);
			errno = EBADMSG;
			return -1;
		}
		memcpy(name, buf + 2, buf[1]);
		name[buf[1]] = '\0';
		off = 2 + buf[1];
	}
	*blen = len - off;
	*body = malloc(*blen + 1);
	if (!*body) {
		free(buf);
		return -1;
	}
	memcpy(*body, buf + off, *blen);
	free(buf);
	return 0;
}

static struct vici_node *node_new(enum vici_kind kind, const uint8_t *name,
				  size_t nlen)
{
	struct vici_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	if (name) {
		n->name = malloc(nlen + 1);
		if (!n->name) {
			free(n);
			return NULL;
		}
		memcpy(n->name, name, nlen);
		n->name[nlen] = '\0';
	}
	return n;
}

void vici_free(struct vici_node *n)
{
	while (n) {
		struct vici_node *next = n->next;

		vici_free(n->child);
		free(n->name);
		free(n->value);
		free(n);
		n = next;
	}
}

/* Appends child to parent's children (kept in message order). */
static void append(struct vici_node *parent, struct vici_node *child)
{
	struct vici_node **p = &parent->child;

	while (*p)
		p = &(*p)->next;
	*p = child;
}

/* Parses a message body into a tree rooted at an unnamed section. */
static struct vici_node *parse(const uint8_t *b, size_t len)
{
	struct vici_node *stack[32], *root = node_new(VICI_SECTION, NULL, 0);
	unsigned int depth = 0;
	size_t i = 0;

	if (!root)
		return NULL;
	stack[0] = root;
	while (i < len) {
		uint8_t t = b[i++];
		struct vici_node *n;
		size_t nlen = 0, vlen;
		const uint8_t *name = NULL;

		if (t == EL_SECTION_START || t == EL_KEY_VALUE ||
		    t == EL_LIST_START) {
			if (i >= len || i + 1 + b[i] > len)
				goto bad;
			nlen = b[i];
			name = b + i + 1;
			i += 1 + nlen;
		}
		switch (t) {
		case EL_SECTION_START:
		case EL_LIST_START:
			if (depth + 1 >= ARRAY_SIZE(stack))
				goto bad;
			n = node_new(t == EL_SECTION_START ? VICI_SECTION :
				     VICI_LIST, name, nlen);
			if (!n)
				goto bad;
			append(stack[depth], n);
			stack[++depth] = n;
			break;
		case EL_SECTION_END:
		case EL_LIST_END:
			if (!depth)
				goto bad;
			depth--;
			break;
		case EL_KEY_VALUE:
		case EL_LIST_ITEM:
			if (i + 2 > len)
				goto bad;
			vlen = (size_t)b[i] << 8 | b[i + 1];
			i += 2;
			if (i + vlen > len)
				goto bad;
			n = node_new(t == EL_KEY_VALUE ? VICI_KV : VICI_ITEM,
				     name, nlen);
			if (!n)
				goto bad;
			n->value = malloc(vlen + 1);
			if (!n->value) {
				vici_free(n);
				goto bad;
			}
			memcpy(n->value, b + i, vlen);
			n->value[vlen] = '\0';
			i += vlen;
			append(stack[depth], n);
			break;
		default:
			goto bad;
		}
	}
	if (depth)
		goto bad;
	return root;
bad:
	slog(LOG_WARN, "vici: malformed message ignored");
	vici_free(root);
	return NULL;
}

struct vici_node *vici_get(const struct vici_node *sec, const char *name)
{
	struct vici_node *n;

	if (!sec)
		return NULL;
	for (n = sec->child; n; n = n->next)
		if (n->name && !strcmp(n->name, name))
			return n;
	return NULL;
}

const char *vici_str(const struct vici_node *sec, const char *name)
{
	struct vici_node *n = vici_get(sec, name);

	return n && n->kind == VICI_KV ? n->value : NULL;
}

/* Waits for the packet that answers a request, handing events to cb. */
static int wait_answer(int fd, uint8_t *type, vici_event_cb cb, void *data,
		       struct vici_node **resp)
{
	for (;;) {
		char name[256];
		uint8_t *body;
		size_t blen;

		if (recv_packet(fd, type, name, &body, &blen))
			return -1;
		if (*type == EVENT) {
			struct vici_node *msg = parse(body, blen);

			if (msg && cb)
				cb(name, msg, data);
			vici_free(msg);
			free(body);
			continue;
		}
		if (resp && *type == CMD_RESPONSE)
			*resp = parse(body, blen);
		free(body);
		return 0;
	}
}

int vici_register(int fd, const char *event)
{
	uint8_t type;

	if (send_packet(fd, EVENT_REGISTER, event, NULL) ||
	    wait_answer(fd, &type, NULL, NULL, NULL))
		return -1;
	if (type != EVENT_CONFIRM) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static int unregister(int fd, const char *event)
{
	uint8_t type;

	if (send_packet(fd, EVENT_UNREGISTER, event, NULL) ||
	    wait_answer(fd, &type, NULL, NULL, NULL))
		return -1;
	return type == EVENT_CONFIRM ? 0 : -1;
}

int vici_command(int fd, const char *cmd, const struct vici_msg *m,
		 const char *stream, vici_event_cb cb, void *data,
		 struct vici_node **resp)
{
	uint8_t type;
	int ret;

	*resp = NULL;
	if (stream && vici_register(fd, stream))
		return -1;
	ret = send_packet(fd, CMD_REQUEST, cmd, m);
	if (!ret)
		ret = wait_answer(fd, &type, cb, data, resp);
	if (!ret && type != CMD_RESPONSE) {
		errno = type == CMD_UNKNOWN ? EOPNOTSUPP : EBADMSG;
		ret = -1;
	}
	if (!ret && !*resp) {
		errno = EBADMSG;
		ret = -1;
	}
	if (stream && unregister(fd, stream))
		ret = -1;
	return ret;
}

int vici_read_event(int fd, vici_event_cb cb, void *data)
{
	struct vici_node *msg;
	char name[256];
	uint8_t type, *body;
	size_t blen;

	if (recv_packet(fd, &type, name, &body, &blen))
		return -1;
	if (type == EVENT) {
		msg = parse(body, blen);
		if (msg)
			cb(name, msg, data);
		vici_free(msg);
	}
	free(body);
	return 0;
}
