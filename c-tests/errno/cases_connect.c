/* connect: refused, in progress (SYN_SENT), established, no route, UDP. */
#include "conformance.h"

static void so_error(const char *id, int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    CALL(getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len));
    rep(id, "getsockopt(SO_ERROR)", "val=%s", v == 0 ? "0" : errname(v));
}

static void s_refused_blocking(void)
{
    struct sockaddr_in a = sa("127.0.0.1", next_port());
    int fd = tcp_to();
    NEED("connect.refused", fd >= 0);
    R("connect.refused", "connect(closed-port)", connect(fd, SA(&a), sizeof a));
    so_error("connect.refused-so-error", fd);
    R("connect.refused-again", "connect(closed-port)", connect(fd, SA(&a), sizeof a));
    {
        struct sockaddr_in got;
        socklen_t len = sizeof got;
        R("connect.refused-getpeername", "getpeername", getpeername(fd, SA(&got), &len));
    }
    R("connect.refused-send", "send", send(fd, "x", 1, 0));
}

static void s_refused_nonblocking(void)
{
    struct sockaddr_in a = sa("127.0.0.1", next_port());
    short rev = 0;
    int fd = tcp_nb();
    NEED("connect.nb-refused", fd >= 0);
    R("connect.nb-refused", "connect(nonblocking,closed-port)", connect(fd, SA(&a), sizeof a));
    CALL(poll1(fd, POLLOUT, 500, &rev));
    rep("connect.nb-refused-poll", "poll(OUT,500)", "revents=%s", evname(rev));
    so_error("connect.nb-refused-so-error", fd);
    so_error("connect.nb-refused-so-error-again", fd);
    R("connect.nb-refused-after-error", "connect(again)", connect(fd, SA(&a), sizeof a));
    R("connect.nb-refused-next", "connect(again)", connect(fd, SA(&a), sizeof a));
    NEED("connect.nb-refused-next-poll", poll1(fd, POLLOUT, 500, &rev) == 1);
    so_error("connect.nb-refused-next-so-error", fd);

    /* The second connect before SO_ERROR was read reports the error. */
    a = sa("127.0.0.1", next_port());
    fd = tcp_nb();
    NEED("connect.nb-refused-unread", fd >= 0);
    connect(fd, SA(&a), sizeof a);
    NEED("connect.nb-refused-unread", poll1(fd, POLLOUT, 500, &rev) == 1);
    R("connect.nb-refused-unread", "connect(before-SO_ERROR)", connect(fd, SA(&a), sizeof a));
    so_error("connect.nb-refused-unread-so-error", fd);
}

static void s_syn_sent(void)
{
    struct sockaddr_in a = sa("192.0.2.99", next_port()), got;
    socklen_t len = sizeof got;
    char buf[4];
    short rev = 0;
    int fd = tcp_nb();
    NEED("connect.syn-sent", fd >= 0);
    R("connect.syn-sent", "connect(nonblocking,silent-peer)", connect(fd, SA(&a), sizeof a));
    R("connect.syn-sent-again", "connect(again)", connect(fd, SA(&a), sizeof a));
    a.sin_port = htons((unsigned short)next_port());
    R("connect.syn-sent-other", "connect(other-port)", connect(fd, SA(&a), sizeof a));
    CALL(poll1(fd, POLLIN | POLLOUT, 0, &rev));
    rep("connect.syn-sent-poll", "poll(IN|OUT,0)", "revents=%s", evname(rev));
    R("connect.syn-sent-send", "send", send(fd, "x", 1, 0));
    R("connect.syn-sent-recv", "recv", recv(fd, buf, sizeof buf, 0));
    R("connect.syn-sent-getpeername", "getpeername", getpeername(fd, SA(&got), &len));
    len = sizeof got;
    CALL(getsockname(fd, SA(&got), &len));
    rep("connect.syn-sent-getsockname", "getsockname", "%s", addrname(&got));
    so_error("connect.syn-sent-so-error", fd);
    RFD("connect.syn-sent-accept", "accept", accept(fd, NULL, NULL));
    R("connect.syn-sent-shutdown", "shutdown(SHUT_RDWR)", shutdown(fd, SHUT_RDWR));
    CALL(poll1(fd, POLLIN | POLLOUT, 0, &rev));
    rep("connect.syn-sent-shutdown-poll", "poll(IN|OUT,0)", "revents=%s", evname(rev));
    R("connect.syn-sent-shutdown-send", "send", send(fd, "x", 1, 0));
}

static void s_syn_sent_blocking(void)
{
    struct sockaddr_in a = sa("192.0.2.99", next_port());
    struct timeval tv = {0, 200000};
    int fd = tcp();
    NEED("connect.sndtimeo", fd >= 0 &&
         setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0);
    R("connect.sndtimeo", "connect(SO_SNDTIMEO=200ms,silent-peer)",
      connect(fd, SA(&a), sizeof a));
    R("connect.sndtimeo-again", "connect(again)", connect(fd, SA(&a), sizeof a));
}

static void s_nb_success(void)
{
    int port = next_port();
    struct sockaddr_in a = sa("127.0.0.1", port);
    short rev = 0;
    int l = listener(port), fd = tcp_nb();
    NEED("connect.nb-ok", l >= 0 && fd >= 0);
    R("connect.nb-ok", "connect(nonblocking,listener)", connect(fd, SA(&a), sizeof a));
    CALL(poll1(fd, POLLOUT, 500, &rev));
    rep("connect.nb-ok-poll", "poll(OUT,500)", "revents=%s", evname(rev));
    so_error("connect.nb-ok-so-error", fd);
    R("connect.nb-ok-again", "connect(again)", connect(fd, SA(&a), sizeof a));
    R("connect.nb-ok-third", "connect(again)", connect(fd, SA(&a), sizeof a));
}

static void s_connected(void)
{
    int cli, srv, port = next_port(), l;
    struct sockaddr_in a = sa("127.0.0.1", port), got;
    socklen_t len = sizeof got;
    NEED("connect.isconn", pair(&cli, &srv) == 0);
    R("connect.isconn", "connect(connected)", connect(cli, SA(&a), sizeof a));
    R("connect.isconn-accepted", "connect(accepted)", connect(srv, SA(&a), sizeof a));
    a.sin_family = AF_UNSPEC;
    R("connect.unspec-tcp", "connect(connected,family=UNSPEC)", connect(cli, SA(&a), sizeof a));
    l = listener(port);
    NEED("connect.on-listener", l >= 0);
    a = sa("127.0.0.1", next_port());
    R("connect.on-listener", "connect(listening)", connect(l, SA(&a), sizeof a));

    /* 0.0.0.0 means this host. */
    l = tcp();
    a = sa("0.0.0.0", port = next_port());
    NEED("connect.any-dest", bind(l, SA(&a), sizeof a) == 0 && listen(l, 1) == 0);
    cli = tcp_to();
    R("connect.any-dest", "connect(0.0.0.0)", connect(cli, SA(&a), sizeof a));
    CALL(getpeername(cli, SA(&got), &len));
    rep("connect.any-dest-peer", "getpeername", "%s", addrname(&got));
}

static void s_args(void)
{
    struct sockaddr_in a = sa("127.0.0.1", next_port());
    R("connect.addrlen-short", "connect(len=15)", connect(tcp(), SA(&a), sizeof a - 1));
    R("connect.addrlen-zero", "connect(len=0)", connect(tcp(), SA(&a), 0));
    a.sin_family = AF_INET6;
    R("connect.family-inet6", "connect(family=INET6)", connect(tcp(), SA(&a), sizeof a));
    a.sin_family = 12345;
    R("connect.family-bad", "connect(family=12345)", connect(tcp(), SA(&a), sizeof a));
    a = sa("127.0.0.1", next_port());
    R("connect.null-addr", "connect(NULL)", connect(tcp(), NULL, sizeof a));
    a = sa("127.0.0.1", 0);
    R("connect.port0", "connect(127.0.0.1:0)", connect(tcp(), SA(&a), sizeof a));
    a = sa("255.255.255.255", next_port());
    R("connect.broadcast", "connect(255.255.255.255)", connect(tcp(), SA(&a), sizeof a));
}

static void s_no_route(void)
{
    struct sockaddr_in a = sa("198.51.100.1", next_port());
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    int fd;
    R("connect.no-route", "connect(198.51.100.1)", connect(tcp(), SA(&a), sizeof a));
    R("connect.no-route-nb", "connect(nonblocking,198.51.100.1)",
      connect(tcp_nb(), SA(&a), sizeof a));
    fd = udp();
    R("connect.no-route-udp", "connect(udp,198.51.100.1)", connect(fd, SA(&a), sizeof a));
    R("connect.no-route-udp-getpeername", "getpeername", getpeername(fd, SA(&got), &len));
    R("connect.no-route-sendto", "sendto(udp,198.51.100.1)",
      sendto(udp(), "x", 1, 0, SA(&a), sizeof a));
}

static void s_udp(void)
{
    struct sockaddr_in a = sa("127.0.0.1", next_port()), b, got;
    socklen_t len = sizeof got;
    int fd = udp();
    NEED("connect.udp", fd >= 0);
    R("connect.udp", "connect(udp,127.0.0.1)", connect(fd, SA(&a), sizeof a));
    CALL(getpeername(fd, SA(&got), &len));
    rep("connect.udp-peer", "getpeername", "%s", addrname(&got));
    len = sizeof got;
    CALL(getsockname(fd, SA(&got), &len));
    rep("connect.udp-name", "getsockname", "%s", addrname(&got));
    b = sa("127.0.0.1", next_port());
    R("connect.udp-again", "connect(udp,other-port)", connect(fd, SA(&b), sizeof b));
    b.sin_family = AF_UNSPEC;
    R("connect.udp-unspec", "connect(udp,family=UNSPEC)", connect(fd, SA(&b), sizeof b));
    len = sizeof got;
    R("connect.udp-unspec-peer", "getpeername", getpeername(fd, SA(&got), &len));
    R("connect.udp-unspec-send", "send", send(fd, "x", 1, 0));
    a.sin_family = AF_INET6;
    R("connect.udp-inet6", "connect(udp,family=INET6)", connect(udp(), SA(&a), sizeof a));
    a = sa("127.0.0.1", next_port());
    R("connect.udp-addrlen-short", "connect(udp,len=8)", connect(udp(), SA(&a), 8));
    a = sa("127.0.0.1", 0);
    R("connect.udp-port0", "connect(udp,127.0.0.1:0)", connect(udp(), SA(&a), sizeof a));
}

void group_connect(void)
{
    RUN(s_refused_blocking);
    RUN(s_refused_nonblocking);
    RUN(s_syn_sent);
    RUN(s_syn_sent_blocking);
    RUN(s_nb_success);
    RUN(s_connected);
    RUN(s_args);
    RUN(s_no_route);
    RUN(s_udp);
}
