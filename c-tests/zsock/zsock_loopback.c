/*
 * zsock_loopback: code written against Zephyr's socket API (zsock_*,
 * ZSOCK_POLLIN, struct zsock_pollfd), compiled unchanged against wolfip
 * through <wolfip_zsock.h>. Over 127.0.0.1: a UDP round trip and a TCP
 * connection (listen, connect, accept, send, poll, recv, shutdown); then
 * zsock_getaddrinfo on a literal (struct zsock_addrinfo) and Zephyr's
 * DNS_EAI_* codes.
 * Prints "ok" and exits 0, or names the failing step and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <wolfip_zsock.h>

#define CHECK(cond, what)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("FAILED: %s (errno %d %s)\n", what, errno, strerror(errno)); \
            return 1;                                                          \
        }                                                                      \
    } while (0)

static struct sockaddr_in addr(unsigned short port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    zsock_inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    return a;
}

int main(void)
{
    char buf[64];
    struct sockaddr_in a = addr(7301), b = addr(7302), from;
    socklen_t flen = sizeof from;

    /* UDP */
    int u1 = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    int u2 = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(u1 >= 0 && u2 >= 0, "zsock_socket(UDP)");
    CHECK(zsock_bind(u1, (struct sockaddr *)&a, sizeof a) == 0, "zsock_bind");
    CHECK(zsock_sendto(u2, "ping", 4, 0, (struct sockaddr *)&a, sizeof a) == 4, "zsock_sendto");
    struct zsock_pollfd p = {.fd = u1, .events = ZSOCK_POLLIN};
    CHECK(zsock_poll(&p, 1, 1000) == 1 && (p.revents & ZSOCK_POLLIN), "zsock_poll(UDP)");
    CHECK(zsock_recvfrom(u1, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen) == 4 &&
              memcmp(buf, "ping", 4) == 0,
          "zsock_recvfrom");
    zsock_close(u1);
    zsock_close(u2);

    /* TCP */
    int l = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(l >= 0, "zsock_socket(TCP)");
    int one = 1;
    CHECK(zsock_setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "zsock_setsockopt");
    CHECK(zsock_bind(l, (struct sockaddr *)&b, sizeof b) == 0 && zsock_listen(l, 2) == 0,
          "zsock_listen");
    int c = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    CHECK(zsock_connect(c, (struct sockaddr *)&b, sizeof b) == 0, "zsock_connect");
    int s = zsock_accept(l, NULL, NULL);
    CHECK(s >= 0, "zsock_accept");
    CHECK(zsock_send(c, "hello zephyr", 12, 0) == 12, "zsock_send");
    p.fd = s;
    p.events = ZSOCK_POLLIN;
    CHECK(zsock_poll(&p, 1, 1000) == 1, "zsock_poll(TCP)");
    CHECK(zsock_recv(s, buf, 12, ZSOCK_MSG_WAITALL) == 12 &&
              memcmp(buf, "hello zephyr", 12) == 0,
          "zsock_recv");
    CHECK(zsock_shutdown(c, ZSOCK_SHUT_WR) == 0, "zsock_shutdown");
    CHECK(zsock_recv(s, buf, sizeof buf, 0) == 0, "end of stream");
    zsock_close(s);
    zsock_close(c);
    zsock_close(l);

    /* Name resolution, Zephyr's names. */
    struct zsock_addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    CHECK(zsock_getaddrinfo("127.0.0.1", "7301", &hints, &res) == 0 && res != NULL &&
              res->ai_next == NULL,
          "zsock_getaddrinfo(literal)");
    struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
    CHECK(sin->sin_port == htons(7301) && sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
          "zsock_getaddrinfo address");
    zsock_freeaddrinfo(res);
    hints.ai_flags = AI_NUMERICHOST;
    int rc = zsock_getaddrinfo("printer.test", NULL, &hints, &res);
    CHECK(rc == DNS_EAI_NONAME, "DNS_EAI_NONAME");
    CHECK(strcmp(zsock_gai_strerror(rc), "Name or service not known") == 0, "zsock_gai_strerror");
    hints.ai_flags = 0;
    hints.ai_family = 12345;
    CHECK(zsock_getaddrinfo("127.0.0.1", NULL, &hints, &res) == DNS_EAI_FAMILY, "DNS_EAI_FAMILY");
    CHECK(DNS_EAI_NODATA == -5 && DNS_EAI_ADDRFAMILY == -9 && DNS_EAI_AGAIN == EAI_AGAIN,
          "DNS_EAI_* values");
    printf("ok\n");
    return 0;
}
