/*
 * wolfip_zsock.h: Zephyr's socket API (zsock_*) on wolfip, for code written
 * against Zephyr's <zephyr/net/socket.h>.
 *
 * The zsock_* calls map onto wolfip_*, the ZSOCK_* constants onto the
 * platform's, struct zsock_pollfd onto struct pollfd, struct zsock_addrinfo
 * onto struct addrinfo and Zephyr's DNS_EAI_* codes onto glibc's EAI_*
 * (the values zsock_getaddrinfo returns). Address helpers map onto the
 * host's libc. Behaviour is Linux's (docs/c-api.md lists where
 * Zephyr differs, e.g. shutdown(SHUT_WR) works here).
 */
#ifndef WOLFIP_ZSOCK_H
#define WOLFIP_ZSOCK_H

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <wolfip_bsd.h>

#define zsock_socket(...) wolfip_socket(__VA_ARGS__)
#define zsock_close(...) wolfip_close(__VA_ARGS__)
#define zsock_bind(...) wolfip_bind(__VA_ARGS__)
#define zsock_listen(...) wolfip_listen(__VA_ARGS__)
#define zsock_accept(...) wolfip_accept(__VA_ARGS__)
#define zsock_connect(...) wolfip_connect(__VA_ARGS__)
#define zsock_send(...) wolfip_send(__VA_ARGS__)
#define zsock_recv(...) wolfip_recv(__VA_ARGS__)
#define zsock_sendto(...) wolfip_sendto(__VA_ARGS__)
#define zsock_recvfrom(...) wolfip_recvfrom(__VA_ARGS__)
#define zsock_sendmsg(...) wolfip_sendmsg(__VA_ARGS__)
#define zsock_recvmsg(...) wolfip_recvmsg(__VA_ARGS__)
#define zsock_shutdown(...) wolfip_shutdown(__VA_ARGS__)
#define zsock_getsockopt(...) wolfip_getsockopt(__VA_ARGS__)
#define zsock_setsockopt(...) wolfip_setsockopt(__VA_ARGS__)
#define zsock_getsockname(...) wolfip_getsockname(__VA_ARGS__)
#define zsock_getpeername(...) wolfip_getpeername(__VA_ARGS__)
#define zsock_fcntl(...) wolfip_fcntl(__VA_ARGS__)
#define zsock_poll(...) wolfip_poll(__VA_ARGS__)
#define zsock_select(...) wolfip_select(__VA_ARGS__)
#define zsock_inet_pton(...) inet_pton(__VA_ARGS__)
#define zsock_inet_ntop(...) inet_ntop(__VA_ARGS__)

#define zsock_pollfd pollfd
#define ZSOCK_POLLIN POLLIN
#define ZSOCK_POLLPRI POLLPRI
#define ZSOCK_POLLOUT POLLOUT
#define ZSOCK_POLLERR POLLERR
#define ZSOCK_POLLHUP POLLHUP
#define ZSOCK_POLLNVAL POLLNVAL

#define ZSOCK_MSG_PEEK MSG_PEEK
#define ZSOCK_MSG_TRUNC MSG_TRUNC
#define ZSOCK_MSG_DONTWAIT MSG_DONTWAIT
#define ZSOCK_MSG_WAITALL MSG_WAITALL
#define ZSOCK_SHUT_RD SHUT_RD
#define ZSOCK_SHUT_WR SHUT_WR
#define ZSOCK_SHUT_RDWR SHUT_RDWR

#define zsock_getaddrinfo(...) wolfip_getaddrinfo(__VA_ARGS__)
#define zsock_freeaddrinfo(...) wolfip_freeaddrinfo(__VA_ARGS__)
#define zsock_gai_strerror(...) wolfip_gai_strerror(__VA_ARGS__)
#define zsock_addrinfo addrinfo

#define DNS_EAI_BADFLAGS EAI_BADFLAGS
#define DNS_EAI_NONAME EAI_NONAME
#define DNS_EAI_AGAIN EAI_AGAIN
#define DNS_EAI_FAIL EAI_FAIL
#define DNS_EAI_FAMILY EAI_FAMILY
#define DNS_EAI_SOCKTYPE EAI_SOCKTYPE
#define DNS_EAI_SERVICE EAI_SERVICE
#define DNS_EAI_MEMORY EAI_MEMORY
#define DNS_EAI_SYSTEM EAI_SYSTEM
#define DNS_EAI_OVERFLOW EAI_OVERFLOW
/* <netdb.h> declares these two only with _GNU_SOURCE; the values are
 * glibc's. */
#ifdef EAI_NODATA
#define DNS_EAI_NODATA EAI_NODATA
#else
#define DNS_EAI_NODATA (-5)
#endif
#ifdef EAI_ADDRFAMILY
#define DNS_EAI_ADDRFAMILY EAI_ADDRFAMILY
#else
#define DNS_EAI_ADDRFAMILY (-9)
#endif

#define zsock_fd_set fd_set
#define ZSOCK_FD_ZERO(set) FD_ZERO(set)
#define ZSOCK_FD_SET(fd, set) FD_SET(fd, set)
#define ZSOCK_FD_CLR(fd, set) FD_CLR(fd, set)
#define ZSOCK_FD_ISSET(fd, set) FD_ISSET(fd, set)

#endif /* WOLFIP_ZSOCK_H */
