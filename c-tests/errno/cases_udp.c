/* UDP: unconnected and connected, sizes, truncation, ICMP errors. */
#include "conformance.h"

static void s_unconnected(void)
{
    char buf[64], data[64];
    int port = next_port();
    struct sockaddr_in to = sa("127.0.0.1", port), from, got;
    socklen_t len;
    int rx = udp_bound(port), tx = udp();
    NEED("udp.basic", rx >= 0 && tx >= 0);
    fill(data, sizeof data);
    R("udp.send-no-addr", "send(unconnected)", send(tx, data, 5, 0));
    R("udp.write-no-addr", "write(unconnected)", write(tx, data, 5));
    R("udp.recv-empty", "recv(DONTWAIT)", recv(rx, buf, sizeof buf, MSG_DONTWAIT));
    R("udp.recv-empty-len0", "recv(len=0,DONTWAIT)", recv(rx, buf, 0, MSG_DONTWAIT));
    R("udp.sendto", "sendto(5)", sendto(tx, data, 5, 0, SA(&to), sizeof to));
    len = sizeof got;
    CALL(getsockname(tx, SA(&got), &len));
    rep("udp.sendto-autobind", "getsockname", "%s", addrname(&got));
    NEED("udp.recvfrom", wait_ev(rx, POLLIN, 500) == 0);
    len = sizeof from;
    memset(&from, 0, sizeof from);
    CALL(recvfrom(rx, buf, sizeof buf, 0, SA(&from), &len));
    rep("udp.recvfrom", "recvfrom", "data=%s %s len=%d", dataok(buf, g_ret, 5),
        addrname(&from), (int)len);

    /* A datagram longer than the buffer is truncated, the rest dropped. */
    NEED("udp.truncate", sendto(tx, data, 10, 0, SA(&to), sizeof to) == 10);
    NEED("udp.truncate", wait_ev(rx, POLLIN, 500) == 0);
    CALL(recv(rx, buf, 4, 0));
    rep("udp.truncate", "recv(4,datagram-of-10)", "data=%s", dataok(buf, g_ret, 4));
    R("udp.truncate-rest", "recv(DONTWAIT)", recv(rx, buf, sizeof buf, MSG_DONTWAIT));
    NEED("udp.trunc-flag", sendto(tx, data, 10, 0, SA(&to), sizeof to) == 10);
    NEED("udp.trunc-flag", wait_ev(rx, POLLIN, 500) == 0);
    R("udp.trunc-flag", "recv(4,TRUNC,datagram-of-10)", recv(rx, buf, 4, MSG_TRUNC));
    {
        struct iovec iov = {buf, 4};
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        NEED("udp.recvmsg-trunc", sendto(tx, data, 10, 0, SA(&to), sizeof to) == 10);
        NEED("udp.recvmsg-trunc", wait_ev(rx, POLLIN, 500) == 0);
        CALL(recvmsg(rx, &m, 0));
        rep("udp.recvmsg-trunc", "recvmsg(4,datagram-of-10)", "msg_flags=%s",
            m.msg_flags == MSG_TRUNC ? "TRUNC" : m.msg_flags == 0 ? "0" : "other");
    }

    /* Peek, zero-length datagrams. */
    NEED("udp.peek", sendto(tx, data, 6, 0, SA(&to), sizeof to) == 6);
    NEED("udp.peek", wait_ev(rx, POLLIN, 500) == 0);
    CALL(recv(rx, buf, sizeof buf, MSG_PEEK));
    rep("udp.peek", "recv(PEEK)", "data=%s", dataok(buf, g_ret, 6));
    CALL(recv(rx, buf, sizeof buf, 0));
    rep("udp.peek-then-recv", "recv", "data=%s", dataok(buf, g_ret, 6));
    R("udp.send-empty", "sendto(0)", sendto(tx, data, 0, 0, SA(&to), sizeof to));
    NEED("udp.recv-empty-datagram", wait_ev(rx, POLLIN, 500) == 0);
    R("udp.recv-empty-datagram", "recv", recv(rx, buf, sizeof buf, 0));
    R("udp.recv-after-empty", "recv(DONTWAIT)", recv(rx, buf, sizeof buf, MSG_DONTWAIT));
}

static void s_sendto_args(void)
{
    struct sockaddr_in to = sa("127.0.0.1", next_port());
    int fd = udp();
    NEED("udp.sendto-args", fd >= 0);
    R("udp.sendto-addrlen-short", "sendto(len=8)", sendto(fd, "x", 1, 0, SA(&to), 8));
    to.sin_family = AF_INET6;
    R("udp.sendto-inet6", "sendto(family=INET6)", sendto(fd, "x", 1, 0, SA(&to), sizeof to));
    to = sa("127.0.0.1", 0);
    R("udp.sendto-port0", "sendto(127.0.0.1:0)", sendto(fd, "x", 1, 0, SA(&to), sizeof to));
    to = sa("127.0.0.1", next_port());
    R("udp.send-oob", "sendto(OOB)", sendto(fd, "x", 1, MSG_OOB, SA(&to), sizeof to));
    {
        char buf[4];
        R("udp.recv-oob", "recv(OOB)", recv(fd, buf, sizeof buf, MSG_OOB | MSG_DONTWAIT));
    }
}

static void s_sizes(void)
{
    static char big[65600];
    int port = next_port();
    struct sockaddr_in to = sa("127.0.0.1", port);
    int rx = udp_bound(port), tx = udp();
    NEED("udp.size", rx >= 0 && tx >= 0);
    fill(big, sizeof big);
    R("udp.size-65507", "sendto(65507)", sendto(tx, big, 65507, 0, SA(&to), sizeof to));
    /* Not NEED: a stack that cannot carry 65507 bytes still runs the
     * cases below. */
    CALL((wait_ev(rx, POLLIN, 500), recv(rx, big, sizeof big, MSG_DONTWAIT)));
    rep("udp.size-65507-recv", "recv", "len=%ld", g_ret);
    R("udp.size-65508", "sendto(65508)", sendto(tx, big, 65508, 0, SA(&to), sizeof to));
    R("udp.size-65536", "sendto(65536)", sendto(tx, big, 65536, 0, SA(&to), sizeof to));
    R("udp.size-65508-recv", "recv(DONTWAIT)", recv(rx, big, sizeof big, MSG_DONTWAIT));
}

static void s_connected(void)
{
    char buf[16];
    int port = next_port();
    struct sockaddr_in to = sa("127.0.0.1", port), other, me;
    socklen_t len = sizeof me;
    int rx = udp_bound(port), tx = udp(), rx2;
    NEED("udp.connected", rx >= 0 && tx >= 0 && connect(tx, SA(&to), sizeof to) == 0);
    R("udp.connected-send", "send(4)", send(tx, "abcd", 4, 0));
    R("udp.connected-write", "write(3)", write(tx, "abc", 3));
    NEED("udp.connected-recv", wait_ev(rx, POLLIN, 500) == 0);
    R("udp.connected-recv", "recv", recv(rx, buf, sizeof buf, 0));
    R("udp.connected-recv2", "recv", (wait_ev(rx, POLLIN, 500), recv(rx, buf, sizeof buf, 0)));
    other = sa("127.0.0.1", port = next_port());
    rx2 = udp_bound(port);
    NEED("udp.connected-sendto-other", rx2 >= 0);
    R("udp.connected-sendto-other", "sendto(other-addr)",
      sendto(tx, "xy", 2, 0, SA(&other), sizeof other));
    NEED("udp.connected-sendto-other-recv", wait_ev(rx2, POLLIN, 500) == 0);
    R("udp.connected-sendto-other-recv", "recv(other)", recv(rx2, buf, sizeof buf, 0));

    /* A connected socket receives only from its peer. */
    NEED("udp.connected-filter", getsockname(tx, SA(&me), &len) == 0);
    NEED("udp.connected-filter", sendto(rx2, "zz", 2, 0, SA(&me), sizeof me) == 2);
    NEED("udp.connected-filter", sendto(rx, "ok", 2, 0, SA(&me), sizeof me) == 2);
    NEED("udp.connected-filter", wait_ev(tx, POLLIN, 500) == 0);
    CALL(recv(tx, buf, sizeof buf, 0));
    rep("udp.connected-filter", "recv(from-peer-only)", "from=%s",
        g_ret == 2 && buf[0] == 'o' ? "peer" : "other");
    R("udp.connected-filter-rest", "recv(DONTWAIT)", recv(tx, buf, sizeof buf, MSG_DONTWAIT));
}

/* ICMP port unreachable from 127.0.0.1. */
static void s_icmp(void)
{
    char buf[16];
    short rev = 0;
    int v = -1;
    socklen_t len = sizeof v;
    struct sockaddr_in to = sa("127.0.0.1", next_port());
    int fd = udp();
    NEED("udp.refused", fd >= 0 && connect(fd, SA(&to), sizeof to) == 0);
    R("udp.refused-send", "send(closed-port)", send(fd, "abc", 3, 0));
    NEED("udp.refused-poll", wait_ev(fd, POLLERR, 500) == 0);
    CALL(poll1(fd, POLLIN, 0, &rev));
    rep("udp.refused-poll", "poll(IN,0)", "revents=%s", evname(rev));
    R("udp.refused-recv", "recv(DONTWAIT)", recv(fd, buf, sizeof buf, MSG_DONTWAIT));
    R("udp.refused-recv-again", "recv(DONTWAIT)", recv(fd, buf, sizeof buf, MSG_DONTWAIT));
    CALL(poll1(fd, POLLIN | POLLOUT, 0, &rev));
    rep("udp.refused-poll-after", "poll(IN|OUT,0)", "revents=%s", evname(rev));

    to = sa("127.0.0.1", next_port());
    fd = udp();
    NEED("udp.refused-so-error", fd >= 0 && connect(fd, SA(&to), sizeof to) == 0);
    NEED("udp.refused-so-error", send(fd, "abc", 3, 0) == 3);
    NEED("udp.refused-so-error", wait_ev(fd, POLLERR, 500) == 0);
    CALL(getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len));
    rep("udp.refused-so-error", "getsockopt(SO_ERROR)", "val=%s", v ? errname(v) : "0");
    R("udp.refused-so-error-recv", "recv(DONTWAIT)", recv(fd, buf, sizeof buf, MSG_DONTWAIT));

    /* Unconnected: the ICMP error is ignored. */
    to = sa("127.0.0.1", next_port());
    fd = udp();
    NEED("udp.unconnected-icmp", fd >= 0);
    R("udp.unconnected-icmp-send", "sendto(closed-port)",
      sendto(fd, "abc", 3, 0, SA(&to), sizeof to));
    msleep(50);
    CALL(poll1(fd, POLLIN | POLLOUT, 0, &rev));
    rep("udp.unconnected-icmp-poll", "poll(IN|OUT,0)", "revents=%s", evname(rev));
    len = sizeof v;
    v = -1;
    CALL(getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len));
    rep("udp.unconnected-icmp-so-error", "getsockopt(SO_ERROR)", "val=%s", v ? errname(v) : "0");
    R("udp.unconnected-icmp-recv", "recv(DONTWAIT)", recv(fd, buf, sizeof buf, MSG_DONTWAIT));
}

static void s_rcvtimeo(void)
{
    char buf[8];
    int fd = udp_bound(next_port());
    long t0;
    NEED("udp.rcvtimeo", fd >= 0 && set_rcvtimeo(fd, 100) == 0);
    t0 = now_ms();
    CALL(recv(fd, buf, sizeof buf, 0));
    rep("udp.rcvtimeo", "recv(SO_RCVTIMEO=100ms)", "waited=%s", now_ms() - t0 >= 80 ? "yes" : "no");
    NEED("udp.nonblock", set_nonblock(fd, 1) == 0);
    R("udp.nonblock-recv", "recv(nonblocking)", recv(fd, buf, sizeof buf, 0));
    R("udp.nonblock-read", "read(nonblocking)", read(fd, buf, sizeof buf));
}

void group_udp(void)
{
    RUN(s_unconnected);
    RUN(s_sendto_args);
    RUN(s_sizes);
    RUN(s_connected);
    RUN(s_icmp);
    RUN(s_rcvtimeo);
}
