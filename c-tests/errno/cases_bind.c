/* bind, listen, accept and accept4. */
#include "conformance.h"

static void s_bind_basic(void)
{
    int port = next_port();
    struct sockaddr_in a = sa("127.0.0.1", port), b = sa("127.0.0.1", next_port());
    int fd = tcp();
    NEED("bind.setup", fd >= 0);
    R("bind.ok", "bind(127.0.0.1)", bind(fd, SA(&a), sizeof a));
    R("bind.twice", "bind(again)", bind(fd, SA(&b), sizeof b));
    R("bind.twice-same", "bind(same)", bind(fd, SA(&a), sizeof a));
}

static void s_bind_addrs(void)
{
    struct sockaddr_in any = sa("0.0.0.0", next_port());
    struct sockaddr_in ours = sa("192.0.2.1", next_port());
    struct sockaddr_in foreign = sa("192.0.2.77", next_port());
    struct sockaddr_in port0 = sa("127.0.0.1", 0);
    struct sockaddr_in lo2 = sa("127.0.0.2", next_port());
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    int fd;
    R("bind.any", "bind(0.0.0.0)", bind(tcp(), SA(&any), sizeof any));
    R("bind.iface-addr", "bind(192.0.2.1)", bind(tcp(), SA(&ours), sizeof ours));
    R("bind.not-local", "bind(192.0.2.77)", bind(tcp(), SA(&foreign), sizeof foreign));
    R("bind.loopback-net", "bind(127.0.0.2)", bind(tcp(), SA(&lo2), sizeof lo2));
    fd = tcp();
    R("bind.port0", "bind(127.0.0.1:0)", bind(fd, SA(&port0), sizeof port0));
    CALL(getsockname(fd, SA(&got), &len));
    rep("bind.port0-name", "getsockname", "%s", addrname(&got));
}

static void s_bind_args(void)
{
    struct sockaddr_in a = sa("127.0.0.1", next_port());
    struct { struct sockaddr_in in; char pad[12]; } six;
    R("bind.addrlen-short", "bind(len=15)", bind(tcp(), SA(&a), sizeof a - 1));
    R("bind.addrlen-zero", "bind(len=0)", bind(tcp(), SA(&a), 0));
    memset(&six, 0, sizeof six);
    memcpy(&six, &a, sizeof a);
    R("bind.addrlen-long", "bind(len=28)", bind(tcp(), SA(&six), sizeof six));
    a = sa("127.0.0.1", next_port());
    a.sin_family = AF_INET6;
    R("bind.family-inet6", "bind(family=INET6)", bind(tcp(), SA(&a), sizeof a));
    a = sa("127.0.0.1", next_port());
    a.sin_family = 12345;
    R("bind.family-bad", "bind(family=12345)", bind(tcp(), SA(&a), sizeof a));
    a = sa("0.0.0.0", next_port());
    a.sin_family = AF_UNSPEC;
    R("bind.unspec-any", "bind(family=UNSPEC,0.0.0.0)", bind(tcp(), SA(&a), sizeof a));
    a = sa("127.0.0.1", next_port());
    a.sin_family = AF_UNSPEC;
    R("bind.unspec-loopback", "bind(family=UNSPEC,127.0.0.1)",
      bind(tcp(), SA(&a), sizeof a));
    R("bind.null-addr", "bind(NULL)", bind(tcp(), NULL, sizeof a));
    a = sa("127.0.0.1", next_port());
    R("bind.udp-ok", "bind(udp)", bind(udp(), SA(&a), sizeof a));
    a = sa("127.0.0.1", next_port());
    R("bind.udp-addrlen-short", "bind(udp,len=8)", bind(udp(), SA(&a), 8));
}

static void s_bind_inuse(void)
{
    int port = next_port(), on = 1, a1, b1;
    struct sockaddr_in a = sa("127.0.0.1", port);
    struct sockaddr_in any;

    /* A listener holds the port, even against SO_REUSEADDR. */
    NEED("bind.inuse-listen", listener(port) >= 0);
    b1 = tcp();
    setsockopt(b1, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    R("bind.inuse-listen", "bind(port-of-listener,REUSEADDR)", bind(b1, SA(&a), sizeof a));

    /* A bound socket: without SO_REUSEADDR on both, in use. */
    a = sa("127.0.0.1", port = next_port());
    a1 = tcp();
    NEED("bind.inuse-bound", bind(a1, SA(&a), sizeof a) == 0);
    R("bind.inuse-bound", "bind(port-of-bound)", bind(tcp(), SA(&a), sizeof a));
    b1 = tcp();
    setsockopt(b1, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    R("bind.reuse-new-only", "bind(port-of-bound,REUSEADDR-new-only)",
      bind(b1, SA(&a), sizeof a));

    a = sa("127.0.0.1", port = next_port());
    a1 = tcp();
    setsockopt(a1, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    NEED("bind.reuse-both", bind(a1, SA(&a), sizeof a) == 0);
    b1 = tcp();
    setsockopt(b1, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    R("bind.reuse-both", "bind(port-of-bound,REUSEADDR-both)", bind(b1, SA(&a), sizeof a));
    R("bind.reuse-both-listen", "listen(second)", listen(b1, 1));
    R("bind.reuse-both-listen-first", "listen(first)", listen(a1, 1));

    /* A specific address on a port bound to 0.0.0.0 and the reverse. */
    any = sa("0.0.0.0", port = next_port());
    a = sa("127.0.0.1", port);
    NEED("bind.specific-over-any", bind(tcp(), SA(&any), sizeof any) == 0);
    R("bind.specific-over-any", "bind(127.0.0.1,port-of-any)", bind(tcp(), SA(&a), sizeof a));
    any = sa("0.0.0.0", port = next_port());
    a = sa("127.0.0.1", port);
    NEED("bind.any-over-specific", bind(tcp(), SA(&a), sizeof a) == 0);
    R("bind.any-over-specific", "bind(0.0.0.0,port-of-specific)",
      bind(tcp(), SA(&any), sizeof any));

    /* Different addresses, same port: no conflict. */
    a = sa("127.0.0.1", port = next_port());
    any = sa("192.0.2.1", port);
    NEED("bind.other-addr-same-port", bind(tcp(), SA(&a), sizeof a) == 0);
    R("bind.other-addr-same-port", "bind(192.0.2.1,port-of-127.0.0.1)",
      bind(tcp(), SA(&any), sizeof any));

    /* UDP. */
    port = next_port();
    a = sa("127.0.0.1", port);
    NEED("bind.udp-inuse", udp_bound(port) >= 0);
    R("bind.udp-inuse", "bind(udp,port-of-udp)", bind(udp(), SA(&a), sizeof a));
    R("bind.tcp-on-udp-port", "bind(tcp,port-of-udp)", bind(tcp(), SA(&a), sizeof a));
}

static void s_bind_states(void)
{
    int cli, srv, fd;
    struct sockaddr_in a = sa("127.0.0.1", next_port());
    fd = tcp();
    NEED("bind.after-listen", fd >= 0 && listen(fd, 1) == 0);
    R("bind.after-listen", "bind(listening)", bind(fd, SA(&a), sizeof a));
    NEED("bind.connected", pair(&cli, &srv) == 0);
    a = sa("127.0.0.1", next_port());
    R("bind.connected", "bind(connected)", bind(cli, SA(&a), sizeof a));
    a = sa("127.0.0.1", next_port());
    R("bind.accepted", "bind(accepted)", bind(srv, SA(&a), sizeof a));
    fd = udp_bound(next_port());
    a = sa("127.0.0.1", next_port());
    NEED("bind.udp-twice", fd >= 0);
    R("bind.udp-twice", "bind(udp,again)", bind(fd, SA(&a), sizeof a));
}

/* ---- listen ------------------------------------------------------------- */

static void s_listen(void)
{
    struct sockaddr_in a = sa("127.0.0.1", next_port()), got;
    socklen_t len = sizeof got;
    int fd = tcp(), cli, srv;
    NEED("listen.setup", fd >= 0 && bind(fd, SA(&a), sizeof a) == 0);
    R("listen.bound", "listen(8)", listen(fd, 8));
    R("listen.again", "listen(16)", listen(fd, 16));
    fd = tcp();
    R("listen.unbound", "listen(unbound)", listen(fd, 1));
    CALL(getsockname(fd, SA(&got), &len));
    rep("listen.unbound-name", "getsockname", "%s", addrname(&got));
    a = sa("127.0.0.1", next_port());
    fd = tcp();
    NEED("listen.backlog-negative", bind(fd, SA(&a), sizeof a) == 0);
    R("listen.backlog-negative", "listen(-1)", listen(fd, -1));
    a = sa("127.0.0.1", next_port());
    fd = tcp();
    NEED("listen.backlog-zero", bind(fd, SA(&a), sizeof a) == 0);
    R("listen.backlog-zero", "listen(0)", listen(fd, 0));
    R("listen.udp", "listen(udp)", listen(udp(), 1));
    NEED("listen.connected", pair(&cli, &srv) == 0);
    R("listen.connected", "listen(connected)", listen(cli, 1));
    R("listen.accepted", "listen(accepted)", listen(srv, 1));
    fd = syn_sent();
    NEED("listen.syn-sent", fd >= 0);
    R("listen.syn-sent", "listen(syn-sent)", listen(fd, 1));
}

/* ---- accept ------------------------------------------------------------- */

static void s_accept_errors(void)
{
    struct sockaddr_in a = sa("127.0.0.1", next_port());
    int fd = tcp(), cli, srv, l;
    RFD("accept.fresh", "accept(fresh)", accept(fd, NULL, NULL));
    NEED("accept.bound", bind(fd, SA(&a), sizeof a) == 0);
    RFD("accept.bound", "accept(bound)", accept(fd, NULL, NULL));
    RFD("accept.udp", "accept(udp)", accept(udp(), NULL, NULL));
    RFD("accept.udp-bound", "accept(udp-bound)", accept(udp_bound(next_port()), NULL, NULL));
    NEED("accept.connected", pair(&cli, &srv) == 0);
    RFD("accept.connected", "accept(connected)", accept(cli, NULL, NULL));
    l = listener(next_port());
    NEED("accept.nonblock-empty", l >= 0 && set_nonblock(l, 1) == 0);
    RFD("accept.nonblock-empty", "accept(nonblocking,empty)", accept(l, NULL, NULL));
    RFD("accept4.nonblock-empty", "accept4(nonblocking,empty)", accept4(l, NULL, NULL, 0));
    RFD("accept4.bad-flags", "accept4(flags=1)", accept4(l, NULL, NULL, 1));
    RFD("accept4.bad-flags-nonblock", "accept4(flags=NONBLOCK|0x10)",
        accept4(l, NULL, NULL, SOCK_NONBLOCK | 0x10));
    fd = listener(next_port());
    NEED("accept.rcvtimeo", fd >= 0 && set_rcvtimeo(fd, 100) == 0);
    RFD("accept.rcvtimeo", "accept(SO_RCVTIMEO=100ms,empty)", track(accept(fd, NULL, NULL)));
}

/* A listener with one pending connection from a fresh client. */
static int pending(int *cli)
{
    int port = next_port();
    struct sockaddr_in a = sa("127.0.0.1", port);
    int l = listener(port);
    if (l < 0)
        return -1;
    *cli = tcp_to();
    if (*cli < 0 || connect(*cli, SA(&a), sizeof a) < 0)
        return -1;
    return l;
}

static void s_accept_ok(void)
{
    struct sockaddr_in peer;
    socklen_t len;
    int l, cli, fd;

    l = pending(&cli);
    NEED("accept.pending", l >= 0);
    len = sizeof peer;
    memset(&peer, 0, sizeof peer);
    CALL(fd = track(accept(l, SA(&peer), &len)));
    rep_fd("accept.pending", "accept", "%s len=%d", addrname(&peer), (int)len);
    CALL(fcntl(fd, F_GETFL));
    printf("accept.pending-getfl fcntl(F_GETFL) ret=%s errno=%s\n", flname(g_ret),
           errname(g_err));
    RFD("accept.pending-drained", "accept(nonblocking)", (set_nonblock(l, 1), accept(l, NULL, NULL)));

    /* A non-blocking listener: the accepted socket does not inherit O_NONBLOCK. */
    l = pending(&cli);
    NEED("accept.nonblock-listener", l >= 0 && set_nonblock(l, 1) == 0);
    NEED("accept.nonblock-listener", wait_ev(l, POLLIN, 500) == 0);
    CALL(fd = track(accept(l, NULL, NULL)));
    rep_fd("accept.nonblock-listener", "accept(nonblocking-listener)", NULL);
    CALL(fcntl(fd, F_GETFL));
    printf("accept.nonblock-listener-getfl fcntl(F_GETFL) ret=%s errno=%s\n",
           flname(g_ret), errname(g_err));

    l = pending(&cli);
    NEED("accept.null-addr", l >= 0);
    RFD("accept.null-addr", "accept(NULL,NULL)", track(accept(l, NULL, NULL)));

    l = pending(&cli);
    NEED("accept.addrlen-short", l >= 0);
    len = 4;
    memset(&peer, 0, sizeof peer);
    CALL(track(accept(l, SA(&peer), &len)));
    rep_fd("accept.addrlen-short", "accept(len=4)", "len=%d family=%s", (int)len,
           peer.sin_family == AF_INET ? "INET" : "other");

    l = pending(&cli);
    NEED("accept.addrlen-negative", l >= 0);
    len = (socklen_t)-1;
    RFD("accept.addrlen-negative", "accept(len=-1)", track(accept(l, SA(&peer), &len)));

    l = pending(&cli);
    NEED("accept4.nonblock", l >= 0);
    CALL(fd = track(accept4(l, NULL, NULL, SOCK_NONBLOCK)));
    rep_fd("accept4.nonblock", "accept4(NONBLOCK)", NULL);
    CALL(fcntl(fd, F_GETFL));
    printf("accept4.nonblock-getfl fcntl(F_GETFL) ret=%s errno=%s\n", flname(g_ret),
           errname(g_err));

    l = pending(&cli);
    NEED("accept4.cloexec", l >= 0);
    RFD("accept4.cloexec", "accept4(CLOEXEC)", track(accept4(l, NULL, NULL, SOCK_CLOEXEC)));
}

static void s_accept_shutdown(void)
{
    int l = listener(next_port()), cli;
    NEED("accept.shut-rd", l >= 0);
    R("accept.shut-rd", "shutdown(listener,SHUT_RD)", shutdown(l, SHUT_RD));
    RFD("accept.after-shut-rd", "accept", track(accept(l, NULL, NULL)));
    R("accept.after-shut-rd-listen", "listen(again)", listen(l, 1));

    l = pending(&cli);
    NEED("accept.shut-wr", l >= 0);
    R("accept.shut-wr", "shutdown(listener,SHUT_WR)", shutdown(l, SHUT_WR));
    RFD("accept.after-shut-wr", "accept", track(accept(l, NULL, NULL)));

    /* Closing a listener with a queued connection resets that connection. */
    l = pending(&cli);
    NEED("accept.close-queued", l >= 0 && wait_ev(l, POLLIN, 500) == 0);
    xclose(l);
    NEED("accept.close-queued", wait_ev(cli, POLLERR, 500) == 0);
    R("accept.close-queued", "recv(client-of-closed-listener)",
      recv(cli, &l, sizeof l, MSG_DONTWAIT));
}

void group_bind(void)
{
    RUN(s_bind_basic);
    RUN(s_bind_addrs);
    RUN(s_bind_args);
    RUN(s_bind_inuse);
    RUN(s_bind_states);
}

void group_listen_accept(void)
{
    RUN(s_listen);
    RUN(s_accept_errors);
    RUN(s_accept_ok);
    RUN(s_accept_shutdown);
}
