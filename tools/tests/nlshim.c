// SPDX-License-Identifier: GPL-2.0
/*
 * Offline test aid: an LD_PRELOAD shim that replaces libmnl's socket calls
 * with a SOCK_SEQPACKET connection to mock_kernel.py ($KIPSEC_MOCK), so the
 * CLI's encoding, parsing, printing and batching run without the module.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct mnl_socket {
	int fd;
};

struct mnl_socket *mnl_socket_open(int bus)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = getenv("KIPSEC_MOCK");
	struct mnl_socket *s;

	(void)bus;
	if (!path) {
		errno = EPROTONOSUPPORT;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	if (s->fd < 0 || connect(s->fd, (void *)&sun, sizeof(sun)) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

int mnl_socket_bind(struct mnl_socket *s, unsigned int groups, int pid)
{
	(void)s; (void)groups; (void)pid;
	return 0;
}

unsigned int mnl_socket_get_portid(const struct mnl_socket *s)
{
	(void)s;
	return 4242;
}

int mnl_socket_get_fd(const struct mnl_socket *s)
{
	return s->fd;
}

int mnl_socket_setsockopt(const struct mnl_socket *s, int type, void *buf,
			  socklen_t len)
{
	(void)s; (void)type; (void)buf; (void)len;
	return 0;
}

ssize_t mnl_socket_sendto(const struct mnl_socket *s, const void *buf,
			  size_t len)
{
	return send(s->fd, buf, len, 0);
}

ssize_t mnl_socket_recvfrom(const struct mnl_socket *s, void *buf,
			    size_t size)
{
	return recv(s->fd, buf, size, 0);
}

int mnl_socket_close(struct mnl_socket *s)
{
	close(s->fd);
	free(s);
	return 0;
}
