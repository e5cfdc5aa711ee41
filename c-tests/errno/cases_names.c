/* getsockname / getpeername; fcntl. */
#include "conformance.h"

static void name(const char *id, const char *call, int fd, int peer)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0x55, sizeof a);
    CALL(peer ? getpeername(fd, SA(&a), &len) : getsockname(fd, SA(&a), &len));
    if (g_ret == 0)
        rep(id, call, "%s len=%d", addrname(&a), (int)len);
    else
        rep(id, call, NULL);
}

static void s_names(void)
{
    struct sockaddr_in a = sa("127.0.0.1", next_port());
    int fd = tcp(), u = udp(), l = tcp(), cli, srv;
    NEED("name.setup", fd >= 0 && u >= 0 && l >= 0);
    name("name.fresh", "getsockname(fresh)", fd, 0);
    name("name.fresh-peer", "getpeername(fresh)", fd, 1);
    name("name.udp-fresh", "getsockname(udp)", u, 0);
    name("name.udp-fresh-peer", "getpeername(udp)", u, 1);
    NEED("name.bound", bind(fd, SA(&a), sizeof a) == 0);
    name("name.bound", "getsockname(bound)", fd, 0);
    name("name.bound-peer", "getpeername(bound)", fd, 1);
    a = sa("192.0.2.1", next_port());
    NEED("name.bound-iface", bind(u, SA(&a), sizeof a) == 0);
    name("name.bound-iface", "getsockname(udp,192.0.2.1)", u, 0);
    a = sa("0.0.0.0", next_port());
    NEED("name.listen", bind(l, SA(&a), sizeof a) == 0 && listen(l, 1) == 0);
    name("name.listen", "getsockname(listening,0.0.0.0)", l, 0);
    name("name.listen-peer", "getpeername(listening)", l, 1);
    NEED("name.est", pair(&cli, &srv) == 0);
    name("name.est-cli", "getsockname(client)", cli, 0);
    name("name.est-cli-peer", "getpeername(client)", cli, 1);
    name("name.est-srv", "getsockname(accepted)", srv, 0);
    name("name.est-srv-peer", "getpeername(accepted)", srv, 1);
    NEED("name.peer-fin", shutdown(srv, SHUT_WR) == 0 && wait_ev(cli, POLLRDHUP, 500) == 0);
    name("name.peer-fin-peer", "getpeername(after-peer-FIN)", cli, 1);
    /* Both FINs: the side that closed first is in TIME-WAIT. */
    NEED("name.both-fin", shutdown(cli, SHUT_WR) == 0 && wait_ev(srv, POLLHUP, 500) == 0);
    name("name.both-fin-peer", "getpeername(first-closer,after-both-FIN)", srv, 1);
    name("name.both-fin-name", "getsockname(first-closer,after-both-FIN)", srv, 0);
}

static void s_name_lengths(void)
{
    struct sockaddr_in a;
    socklen_t len;
    int cli, srv;
    NEED("name.len", pair(&cli, &srv) == 0);
    len = 4;
    memset(&a, 0, sizeof a);
    CALL(getsockname(cli, SA(&a), &len));
    rep("name.len-short", "getsockname(len=4)", "len=%d family=%s port=%s", (int)len,
        a.sin_family == AF_INET ? "INET" : "other", a.sin_port ? "nonzero" : "zero");
    len = 0;
    CALL(getsockname(cli, SA(&a), &len));
    rep("name.len-zero", "getsockname(len=0)", "len=%d", (int)len);
    len = (socklen_t)-1;
    R("name.len-negative", "getsockname(len=-1)", getsockname(cli, SA(&a), &len));
    len = 4;
    memset(&a, 0, sizeof a);
    CALL(getpeername(cli, SA(&a), &len));
    rep("name.peer-len-short", "getpeername(len=4)", "len=%d family=%s", (int)len,
        a.sin_family == AF_INET ? "INET" : "other");
    len = (socklen_t)-1;
    R("name.peer-len-negative", "getpeername(len=-1)", getpeername(cli, SA(&a), &len));
    {
        struct { struct sockaddr_in in; char pad[16]; } big;
        len = sizeof big;
        CALL(getsockname(cli, SA(&big), &len));
        rep("name.len-long", "getsockname(len=32)", "len=%d", (int)len);
    }
}

/* ---- fcntl ------------------------------------------------------------- */

static void getfl(const char *id, int fd)
{
    CALL(fcntl(fd, F_GETFL));
    printf("%s fcntl(F_GETFL) ret=%s errno=%s\n", id, flname(g_ret), errname(g_err));
}

static void s_fcntl(void)
{
    int fd = tcp(), u = udp(), cli, srv;
    NEED("fcntl.setup", fd >= 0 && u >= 0);
    getfl("fcntl.getfl-fresh", fd);
    getfl("fcntl.getfl-udp", u);
    R("fcntl.setfl-nonblock", "fcntl(F_SETFL,NONBLOCK)", fcntl(fd, F_SETFL, O_NONBLOCK));
    getfl("fcntl.getfl-nonblock", fd);
    R("fcntl.setfl-zero", "fcntl(F_SETFL,0)", fcntl(fd, F_SETFL, 0));
    getfl("fcntl.getfl-cleared", fd);
    R("fcntl.setfl-rdwr-nonblock", "fcntl(F_SETFL,RDWR|NONBLOCK)",
      fcntl(u, F_SETFL, O_RDWR | O_NONBLOCK));
    getfl("fcntl.getfl-udp-nonblock", u);
    R("fcntl.unknown-cmd", "fcntl(9999)", fcntl(fd, 9999));
    R("fcntl.unknown-cmd-udp", "fcntl(9999,udp)", fcntl(u, 9999, 0));
    R("fcntl.getfd", "fcntl(F_GETFD)", fcntl(fd, F_GETFD));
    R("fcntl.setfd-cloexec", "fcntl(F_SETFD,CLOEXEC)", fcntl(fd, F_SETFD, FD_CLOEXEC));
    R("fcntl.getfd-cloexec", "fcntl(F_GETFD)", fcntl(fd, F_GETFD));
    NEED("fcntl.est", pair(&cli, &srv) == 0);
    getfl("fcntl.getfl-est", cli);
    getfl("fcntl.getfl-accepted", srv);
}

void group_names_fcntl(void)
{
    RUN(s_names);
    RUN(s_name_lengths);
    RUN(s_fcntl);
}
