/* send/recv and friends on TCP in every state. */
#include "conformance.h"

static void s_unconnected(void)
{
    char buf[8];
    struct sockaddr_in a = sa("127.0.0.1", next_port()), b;
    socklen_t len = sizeof b;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m;
    int fd = tcp(), l = listener(next_port());
    NEED("io.fresh", fd >= 0 && l >= 0);
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    R("io.fresh-recv", "recv", recv(fd, buf, sizeof buf, 0));
    R("io.fresh-recv-dontwait", "recv(DONTWAIT)", recv(fd, buf, sizeof buf, MSG_DONTWAIT));
    R("io.fresh-send", "send", send(fd, "x", 1, 0));
    R("io.fresh-send-nosignal", "send(NOSIGNAL)", send(fd, "x", 1, MSG_NOSIGNAL));
    R("io.fresh-sendto", "sendto(addr)", sendto(fd, "x", 1, 0, SA(&a), sizeof a));
    R("io.fresh-recvfrom", "recvfrom", recvfrom(fd, buf, sizeof buf, 0, SA(&b), &len));
    R("io.fresh-sendmsg", "sendmsg", sendmsg(fd, &m, 0));
    R("io.fresh-recvmsg", "recvmsg", recvmsg(fd, &m, 0));
    R("io.fresh-read", "read", read(fd, buf, sizeof buf));
    R("io.fresh-write", "write", write(fd, "x", 1));
    R("io.fresh-recv-oob", "recv(OOB)", recv(fd, buf, sizeof buf, MSG_OOB));
    R("io.listen-recv", "recv(listening)", recv(l, buf, sizeof buf, 0));
    R("io.listen-send", "send(listening)", send(l, "x", 1, 0));
    R("io.listen-read", "read(listening)", read(l, buf, sizeof buf));
    R("io.listen-write", "write(listening)", write(l, "x", 1));
}

static void s_established(void)
{
    char buf[64], data[64];
    struct sockaddr_in other = sa("127.0.0.1", next_port()), from;
    socklen_t len;
    struct iovec iov[2];
    struct msghdr m;
    int cli, srv;
    NEED("io.est", pair(&cli, &srv) == 0);
    fill(data, sizeof data);
    R("io.est-send", "send(5)", send(cli, data, 5, 0));
    NEED("io.est-recv", wait_ev(srv, POLLIN, 500) == 0);
    CALL(recv(srv, buf, sizeof buf, 0));
    rep("io.est-recv", "recv(64)", "data=%s", dataok(buf, g_ret, 5));
    R("io.est-recv-empty-dontwait", "recv(DONTWAIT)", recv(srv, buf, sizeof buf, MSG_DONTWAIT));
    R("io.est-recv-len0-dontwait", "recv(len=0,DONTWAIT)", recv(srv, buf, 0, MSG_DONTWAIT));
    R("io.est-send-len0", "send(len=0)", send(cli, data, 0, 0));
    R("io.est-write", "write(7)", write(cli, data, 7));
    NEED("io.est-read", wait_ev(srv, POLLIN, 500) == 0);
    R("io.est-recv-len0-data", "recv(len=0,data-waiting)", recv(srv, buf, 0, 0));
    CALL(read(srv, buf, sizeof buf));
    rep("io.est-read", "read(64)", "data=%s", dataok(buf, g_ret, 7));
    NEED("io.est-nonblock", set_nonblock(srv, 1) == 0);
    R("io.est-recv-nonblock", "recv(nonblocking)", recv(srv, buf, sizeof buf, 0));
    R("io.est-read-nonblock", "read(nonblocking)", read(srv, buf, sizeof buf));
    NEED("io.est-nonblock", set_nonblock(srv, 0) == 0);

    /* sendto with another address on connected TCP: the address is ignored. */
    R("io.est-sendto-other", "sendto(other-addr)",
      sendto(cli, data, 3, 0, SA(&other), sizeof other));
    NEED("io.est-recvfrom", wait_ev(srv, POLLIN, 500) == 0);
    len = sizeof from;
    memset(&from, 0, sizeof from);
    CALL(recvfrom(srv, buf, sizeof buf, 0, SA(&from), &len));
    rep("io.est-recvfrom", "recvfrom", "data=%s", dataok(buf, g_ret, 3));

    /* sendmsg / recvmsg with two iovecs. */
    iov[0].iov_base = data;
    iov[0].iov_len = 4;
    iov[1].iov_base = data + 4;
    iov[1].iov_len = 6;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    R("io.est-sendmsg", "sendmsg(4+6)", sendmsg(cli, &m, 0));
    NEED("io.est-recvmsg", wait_ev(srv, POLLIN, 500) == 0);
    memset(buf, 0, sizeof buf);
    iov[0].iov_base = buf;
    iov[0].iov_len = 3;
    iov[1].iov_base = buf + 3;
    iov[1].iov_len = 7;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    CALL(recvmsg(srv, &m, MSG_WAITALL));
    rep("io.est-recvmsg", "recvmsg(3+7,WAITALL)", "data=%s flags=%d", dataok(buf, g_ret, 10),
        m.msg_flags);
    R("io.est-recv-oob-none", "recv(OOB,no-urgent-data)", recv(srv, buf, sizeof buf, MSG_OOB));
    R("io.est-send-dontwait", "send(DONTWAIT)", send(cli, data, 2, MSG_DONTWAIT));
    NEED("io.est-drain", wait_ev(srv, POLLIN, 500) == 0 && recv(srv, buf, sizeof buf, 0) == 2);
    R("io.est-send-nosignal", "send(NOSIGNAL)", send(cli, data, 2, MSG_NOSIGNAL));
}

static void s_peek(void)
{
    char buf[16], data[16];
    int cli, srv;
    NEED("io.peek", pair(&cli, &srv) == 0);
    fill(data, sizeof data);
    NEED("io.peek", send(cli, data, 5, 0) == 5 && wait_ev(srv, POLLIN, 500) == 0);
    CALL(recv(srv, buf, sizeof buf, MSG_PEEK));
    rep("io.peek", "recv(PEEK)", "data=%s", dataok(buf, g_ret, 5));
    CALL(recv(srv, buf, 2, MSG_PEEK));
    rep("io.peek-short", "recv(2,PEEK)", "data=%s", dataok(buf, g_ret, 2));
    CALL(recv(srv, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT));
    rep("io.peek-again", "recv(PEEK|DONTWAIT)", "data=%s", dataok(buf, g_ret, 5));
    CALL(recv(srv, buf, sizeof buf, 0));
    rep("io.peek-then-recv", "recv", "data=%s", dataok(buf, g_ret, 5));
    R("io.peek-empty", "recv(PEEK|DONTWAIT)", recv(srv, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT));
}

struct sender {
    int fd, delay_ms, n, parts;
};

static void *sender_main(void *p)
{
    struct sender *s = p;
    char data[64];
    int i;
    fill(data, sizeof data);
    for (i = 0; i < s->parts; i++) {
        msleep(s->delay_ms);
        send(s->fd, data + i * s->n, (size_t)s->n, 0);
    }
    return NULL;
}

static void s_waitall(void)
{
    char buf[64], data[64];
    pthread_t t;
    struct sender s;
    int cli, srv;
    fill(data, sizeof data);

    NEED("io.waitall-presend", pair(&cli, &srv) == 0);
    NEED("io.waitall-presend", send(cli, data, 3, 0) == 3 && send(cli, data + 3, 3, 0) == 3);
    CALL(recv(srv, buf, 6, MSG_WAITALL));
    rep("io.waitall-presend", "recv(6,WAITALL)", "data=%s", dataok(buf, g_ret, 6));

    s.fd = cli;
    s.delay_ms = 40;
    s.n = 4;
    s.parts = 2;
    NEED("io.waitall-thread", pthread_create(&t, NULL, sender_main, &s) == 0);
    CALL(recv(srv, buf, 8, MSG_WAITALL));
    pthread_join(t, NULL);
    rep("io.waitall-thread", "recv(8,WAITALL,sender-thread)", "data=%s",
        dataok(buf, g_ret, 8));

    NEED("io.waitall-fin", send(cli, data, 3, 0) == 3 && shutdown(cli, SHUT_WR) == 0);
    CALL(recv(srv, buf, 10, MSG_WAITALL));
    rep("io.waitall-fin", "recv(10,WAITALL,3-then-FIN)", "data=%s", dataok(buf, g_ret, 3));

    NEED("io.waitall-timeout", pair(&cli, &srv) == 0 && set_rcvtimeo(srv, 100) == 0);
    NEED("io.waitall-timeout", send(cli, data, 3, 0) == 3 && wait_ev(srv, POLLIN, 500) == 0);
    CALL(recv(srv, buf, 10, MSG_WAITALL));
    rep("io.waitall-timeout", "recv(10,WAITALL,SO_RCVTIMEO=100ms,3-bytes)", "data=%s",
        dataok(buf, g_ret, 3));
    R("io.waitall-dontwait", "recv(10,WAITALL|DONTWAIT,empty)",
      recv(srv, buf, 10, MSG_WAITALL | MSG_DONTWAIT));
}

static void s_rcvtimeo(void)
{
    char buf[8];
    int cli, srv;
    long t0;
    NEED("io.rcvtimeo", pair(&cli, &srv) == 0 && set_rcvtimeo(srv, 100) == 0);
    t0 = now_ms();
    CALL(recv(srv, buf, sizeof buf, 0));
    rep("io.rcvtimeo", "recv(SO_RCVTIMEO=100ms)", "waited=%s", now_ms() - t0 >= 80 ? "yes" : "no");
    CALL(read(srv, buf, sizeof buf));
    rep("io.rcvtimeo-read", "read(SO_RCVTIMEO=100ms)", NULL);
}

static void s_oob(void)
{
    char buf[16], data[16];
    short rev = 0;
    int cli, srv;
    fill(data, sizeof data);
    NEED("io.oob", pair(&cli, &srv) == 0);
    R("io.oob-send", "send(3,OOB)", send(cli, data, 3, MSG_OOB));
    NEED("io.oob", g_ret == 3);
    CALL(poll1(srv, POLLIN | POLLPRI, 500, &rev));
    rep("io.oob-poll", "poll(IN|PRI,500)", "revents=%s", evname(rev));
    CALL(recv(srv, buf, sizeof buf, MSG_OOB));
    rep("io.oob-recv", "recv(OOB)", "byte=%s", g_ret == 1 && buf[0] == data[2] ? "last" : "other");
    CALL(recv(srv, buf, sizeof buf, 0));
    rep("io.oob-recv-inline", "recv", "data=%s", dataok(buf, g_ret, 2));
    R("io.oob-recv-again", "recv(OOB)", recv(srv, buf, sizeof buf, MSG_OOB));
}

static void s_fill(void)
{
    static char big[65536];
    int cli, srv, i;
    long r = 0;
    NEED("io.fill", pair(&cli, &srv) == 0 && set_nonblock(cli, 1) == 0);
    for (i = 0; i < 1024; i++) {
        errno = 0;
        r = send(cli, big, sizeof big, 0);
        if (r < 0)
            break;
    }
    g_err = errno;
    g_ret = r < 0 ? -1 : 0;
    rep("io.fill", "send(nonblocking,until-full)", NULL);
}

/* ---- half-closed and reset connections ----------------------------------- */

static void s_shut_wr(void)
{
    char buf[16];
    int cli, srv;
    NEED("io.shut-wr", pair(&cli, &srv) == 0 && shutdown(cli, SHUT_WR) == 0);
    R("io.shut-wr-send", "send(after-SHUT_WR)", send(cli, "abc", 3, 0));
    R("io.shut-wr-send-nosignal", "send(NOSIGNAL,after-SHUT_WR)", send(cli, "abc", 3, MSG_NOSIGNAL));
    R("io.shut-wr-write", "write(after-SHUT_WR)", write(cli, "abc", 3));
    R("io.shut-wr-peer-recv", "recv(peer)", recv(srv, buf, sizeof buf, 0));
    R("io.shut-wr-peer-send", "send(peer)", send(srv, "abcd", 4, 0));
    NEED("io.shut-wr-recv", wait_ev(cli, POLLIN, 500) == 0);
    R("io.shut-wr-recv", "recv(after-SHUT_WR)", recv(cli, buf, sizeof buf, 0));
}

static void s_shut_rd(void)
{
    char buf[16], data[16];
    int cli, srv;
    fill(data, sizeof data);
    NEED("io.shut-rd", pair(&cli, &srv) == 0 && shutdown(cli, SHUT_RD) == 0);
    R("io.shut-rd-recv", "recv(after-SHUT_RD)", recv(cli, buf, sizeof buf, 0));
    R("io.shut-rd-recv-again", "recv(after-SHUT_RD)", recv(cli, buf, sizeof buf, 0));
    R("io.shut-rd-send", "send(after-SHUT_RD)", send(cli, "abc", 3, 0));

    /* Data that arrived before SHUT_RD is still returned. */
    NEED("io.shut-rd-pending", pair(&cli, &srv) == 0 && send(srv, data, 4, 0) == 4);
    NEED("io.shut-rd-pending", wait_ev(cli, POLLIN, 500) == 0 && shutdown(cli, SHUT_RD) == 0);
    CALL(recv(cli, buf, sizeof buf, 0));
    rep("io.shut-rd-pending", "recv(data-before-SHUT_RD)", "data=%s", dataok(buf, g_ret, 4));
}

static void s_peer_fin(void)
{
    char buf[16];
    int cli, srv;
    NEED("io.peer-fin", pair(&cli, &srv) == 0 && shutdown(srv, SHUT_WR) == 0);
    NEED("io.peer-fin", wait_ev(cli, POLLRDHUP, 500) == 0);
    R("io.peer-fin-recv", "recv", recv(cli, buf, sizeof buf, 0));
    R("io.peer-fin-recv-again", "recv", recv(cli, buf, sizeof buf, 0));
    R("io.peer-fin-recv-dontwait", "recv(DONTWAIT)", recv(cli, buf, sizeof buf, MSG_DONTWAIT));
    R("io.peer-fin-read", "read", read(cli, buf, sizeof buf));
    R("io.peer-fin-send", "send(3)", send(cli, "abc", 3, 0));
    NEED("io.peer-fin-peer-recv", wait_ev(srv, POLLIN, 500) == 0);
    R("io.peer-fin-peer-recv", "recv(peer)", recv(srv, buf, sizeof buf, 0));
    {
        int v = -1;
        socklen_t len = sizeof v;
        CALL(getsockopt(cli, SOL_SOCKET, SO_ERROR, &v, &len));
        rep("io.peer-fin-so-error", "getsockopt(SO_ERROR)", "val=%s", v ? errname(v) : "0");
    }
}

/* The peer closed completely; we send; it answers with a RST. */
static void s_peer_closed_then_send(void)
{
    char buf[16];
    short rev = 0;
    int cli, srv, v = -1;
    socklen_t len = sizeof v;
    NEED("io.peer-closed", pair(&cli, &srv) == 0 && xclose(srv) == 0);
    NEED("io.peer-closed", wait_ev(cli, POLLRDHUP, 500) == 0);
    R("io.peer-closed-send", "send(3)", send(cli, "abc", 3, 0));
    NEED("io.peer-closed-rst", wait_ev(cli, POLLERR | POLLHUP, 500) == 0);
    CALL(poll1(cli, POLLIN | POLLOUT | POLLRDHUP, 0, &rev));
    rep("io.peer-closed-rst-poll", "poll(IN|OUT|RDHUP,0)", "revents=%s", evname(rev));
    CALL(getsockopt(cli, SOL_SOCKET, SO_ERROR, &v, &len));
    rep("io.peer-closed-rst-so-error", "getsockopt(SO_ERROR)", "val=%s", v ? errname(v) : "0");
    R("io.peer-closed-rst-send", "send", send(cli, "abc", 3, 0));
    R("io.peer-closed-rst-recv", "recv", recv(cli, buf, sizeof buf, 0));
}

static void s_peer_rst(void)
{
    char buf[16];
    short rev = 0;
    int cli, srv, v = -1;
    socklen_t len = sizeof v;
    struct sockaddr_in got;

    NEED("io.rst-send", pair(&cli, &srv) == 0 && abort_close(srv) == 0);
    NEED("io.rst-send", wait_ev(cli, POLLERR, 500) == 0);
    CALL(poll1(cli, POLLIN | POLLOUT | POLLRDHUP, 0, &rev));
    rep("io.rst-poll", "poll(IN|OUT|RDHUP,0)", "revents=%s", evname(rev));
    CALL(poll1(cli, 0, 0, &rev));
    rep("io.rst-poll-no-events", "poll(0,0)", "revents=%s", evname(rev));
    R("io.rst-send", "send", send(cli, "abc", 3, 0));
    R("io.rst-send-again", "send", send(cli, "abc", 3, 0));
    R("io.rst-send-recv", "recv", recv(cli, buf, sizeof buf, 0));

    NEED("io.rst-recv", pair(&cli, &srv) == 0 && abort_close(srv) == 0);
    NEED("io.rst-recv", wait_ev(cli, POLLERR, 500) == 0);
    R("io.rst-recv", "recv", recv(cli, buf, sizeof buf, 0));
    R("io.rst-recv-again", "recv", recv(cli, buf, sizeof buf, 0));
    CALL(poll1(cli, POLLIN | POLLOUT | POLLRDHUP, 0, &rev));
    rep("io.rst-recv-poll", "poll(IN|OUT|RDHUP,0)", "revents=%s", evname(rev));
    R("io.rst-recv-send", "send", send(cli, "abc", 3, 0));

    NEED("io.rst-so-error", pair(&cli, &srv) == 0 && abort_close(srv) == 0);
    NEED("io.rst-so-error", wait_ev(cli, POLLERR, 500) == 0);
    CALL(getsockopt(cli, SOL_SOCKET, SO_ERROR, &v, &len));
    rep("io.rst-so-error", "getsockopt(SO_ERROR)", "val=%s", v ? errname(v) : "0");
    CALL(getsockopt(cli, SOL_SOCKET, SO_ERROR, &v, &len));
    rep("io.rst-so-error-again", "getsockopt(SO_ERROR)", "val=%s", v ? errname(v) : "0");
    len = sizeof got;
    R("io.rst-getpeername", "getpeername", getpeername(cli, SA(&got), &len));
    R("io.rst-shutdown", "shutdown(SHUT_RDWR)", shutdown(cli, SHUT_RDWR));
    R("io.rst-connect", "connect(127.0.0.1)", (got = sa("127.0.0.1", next_port()),
      connect(cli, SA(&got), sizeof got)));
}

/* The peer closes with data we sent still unread: it sends a RST. */
static void s_close_unread(void)
{
    char buf[16];
    int cli, srv;
    NEED("io.close-unread", pair(&cli, &srv) == 0 && send(cli, "abcde", 5, 0) == 5);
    NEED("io.close-unread", wait_ev(srv, POLLIN, 500) == 0 && xclose(srv) == 0);
    NEED("io.close-unread", wait_ev(cli, POLLERR, 500) == 0);
    R("io.close-unread", "recv", recv(cli, buf, sizeof buf, 0));
}

void group_tcp_io(void)
{
    RUN(s_unconnected);
    RUN(s_established);
    RUN(s_peek);
    RUN(s_waitall);
    RUN(s_rcvtimeo);
    RUN(s_oob);
    RUN(s_fill);
    RUN(s_shut_wr);
    RUN(s_shut_rd);
    RUN(s_peer_fin);
    RUN(s_peer_closed_then_send);
    RUN(s_peer_rst);
    RUN(s_close_unread);
}
