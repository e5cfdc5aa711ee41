/*
 * wolfip_posix.h: run an existing POSIX socket program on wolfip.
 *
 * Include it after the system headers. The POSIX names below then call
 * wolfip_* (as Zephyr maps them onto zsock_*). Descriptors that are not
 * wolfip's (files, stdio, host sockets) are passed to the host's libc by
 * the wolfip_* functions, so close/read/write/fcntl/poll/select keep
 * working on them. Bring the stack up first with wolfip_init() and
 * wolfip_tap_attach(). See docs/c-api.md.
 *
 * The names are function-like macros: only calls are renamed, so a struct
 * member called `read` or `close` is left alone.
 */
#ifndef WOLFIP_POSIX_H
#define WOLFIP_POSIX_H

#include <wolfip_bsd.h>

#define socket(...) wolfip_socket(__VA_ARGS__)
#define bind(...) wolfip_bind(__VA_ARGS__)
#define listen(...) wolfip_listen(__VA_ARGS__)
#define accept(...) wolfip_accept(__VA_ARGS__)
#define accept4(...) wolfip_accept4(__VA_ARGS__)
#define connect(...) wolfip_connect(__VA_ARGS__)
#define send(...) wolfip_send(__VA_ARGS__)
#define recv(...) wolfip_recv(__VA_ARGS__)
#define sendto(...) wolfip_sendto(__VA_ARGS__)
#define recvfrom(...) wolfip_recvfrom(__VA_ARGS__)
#define sendmsg(...) wolfip_sendmsg(__VA_ARGS__)
#define recvmsg(...) wolfip_recvmsg(__VA_ARGS__)
#define read(...) wolfip_read(__VA_ARGS__)
#define write(...) wolfip_write(__VA_ARGS__)
#define close(...) wolfip_close(__VA_ARGS__)
#define shutdown(...) wolfip_shutdown(__VA_ARGS__)
#define getsockopt(...) wolfip_getsockopt(__VA_ARGS__)
#define setsockopt(...) wolfip_setsockopt(__VA_ARGS__)
#define getsockname(...) wolfip_getsockname(__VA_ARGS__)
#define getpeername(...) wolfip_getpeername(__VA_ARGS__)
#define fcntl(...) wolfip_fcntl(__VA_ARGS__)
#define poll(...) wolfip_poll(__VA_ARGS__)
#define select(...) wolfip_select(__VA_ARGS__)
/* Name resolution: struct addrinfo and the EAI_* codes are <netdb.h>'s. */
#define getaddrinfo(...) wolfip_getaddrinfo(__VA_ARGS__)
#define freeaddrinfo(...) wolfip_freeaddrinfo(__VA_ARGS__)
#define gai_strerror(...) wolfip_gai_strerror(__VA_ARGS__)

#endif /* WOLFIP_POSIX_H */
