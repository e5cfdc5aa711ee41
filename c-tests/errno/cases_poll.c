/* poll and select, per socket state. */
#include "conformance.h"

#define EV (POLLIN | POLLOUT | POLLRDHUP)

static void p1(const char *id, const char *call, int fd, short events, int timeout)
{
    short rev = 0;
    CALL(poll1(fd, events, timeout, &rev));
    rep(id, call, "revents=%s", evname(rev));
}

static void s_poll_states(void)
{
    int fd = tcp(), u = udp(), cli, srv, c2, ss;
    char buf[8];
    struct sockaddr_in a = sa("127.0.0.1", next_port());
    NEED("poll.setup", fd >= 0 && u >= 0);
    p1("poll.fresh-tcp", "poll(IN|OUT|RDHUP,0)", fd, EV, 0);
    p1("poll.fresh-tcp-no-events", "poll(0,0)", fd, 0, 0);
    p1("poll.fresh-udp", "poll(IN|OUT|RDHUP,0)", u, EV, 0);
    NEED("poll.bound", bind(fd, SA(&a), sizeof a) == 0);
    p1("poll.bound-tcp", "poll(IN|OUT|RDHUP,0)", fd, EV, 0);
    NEED("poll.listen", listen(fd, 4) == 0);
    p1("poll.listen-idle", "poll(IN|OUT|RDHUP,0)", fd, EV, 0);
    c2 = tcp_to();
    NEED("poll.listen-pending", c2 >= 0 && connect(c2, SA(&a), sizeof a) == 0);
    p1("poll.listen-pending", "poll(IN|OUT|RDHUP,500)", fd, EV, 500);
    fd = syn_sent();
    NEED("poll.syn-sent", fd >= 0);
    p1("poll.syn-sent", "poll(IN|OUT|RDHUP,0)", fd, EV, 0);
    NEED("poll.est", pair(&cli, &srv) == 0);
    p1("poll.est-idle", "poll(IN|OUT|RDHUP,0)", cli, EV, 0);
    NEED("poll.est-data", send(srv, "abc", 3, 0) == 3 && wait_ev(cli, POLLIN, 500) == 0);
    p1("poll.est-data", "poll(IN|OUT|RDHUP,0)", cli, EV, 0);
    p1("poll.est-data-in-only", "poll(IN,0)", cli, POLLIN, 0);
    p1("poll.est-data-out-only", "poll(OUT,0)", cli, POLLOUT, 0);
    NEED("poll.est-drained", recv(cli, buf, sizeof buf, 0) == 3);
    p1("poll.est-drained", "poll(IN|OUT|RDHUP,0)", cli, EV, 0);
    NEED("poll.shut-wr", shutdown(cli, SHUT_WR) == 0);
    NEED("poll.shut-wr", wait_ev(srv, POLLRDHUP, 500) == 0);
    p1("poll.own-shut-wr", "poll(IN|OUT|RDHUP,0)", cli, EV, 0);
    p1("poll.peer-fin", "poll(IN|OUT|RDHUP,0)", srv, EV, 0);
    p1("poll.peer-fin-no-rdhup", "poll(IN|OUT,0)", srv, POLLIN | POLLOUT, 0);
    NEED("poll.both-fin", shutdown(srv, SHUT_WR) == 0);
    NEED("poll.both-fin", wait_ev(cli, POLLRDHUP, 500) == 0);
    p1("poll.both-fin", "poll(IN|OUT|RDHUP,0)", cli, EV, 0);
    p1("poll.both-fin-peer", "poll(IN|OUT|RDHUP,0)", srv, EV, 0);

    NEED("poll.own-shut-rd", pair(&cli, &srv) == 0 && shutdown(cli, SHUT_RD) == 0);
    p1("poll.own-shut-rd", "poll(IN|OUT|RDHUP,0)", cli, EV, 0);
    NEED("poll.own-shut-rdwr", shutdown(cli, SHUT_RDWR) == 0);
    p1("poll.own-shut-rdwr", "poll(IN|OUT|RDHUP,0)", cli, EV, 0);

    NEED("poll.refused", (ss = tcp_nb()) >= 0);
    a = sa("127.0.0.1", next_port());
    NEED("poll.refused", connect(ss, SA(&a), sizeof a) < 0);
    NEED("poll.refused", wait_ev(ss, POLLERR, 500) == 0);
    p1("poll.refused", "poll(IN|OUT|RDHUP,0)", ss, EV, 0);
}

static void s_poll_udp(void)
{
    int port = next_port();
    struct sockaddr_in to = sa("127.0.0.1", port);
    int rx = udp_bound(port), tx = udp();
    NEED("poll.udp", rx >= 0 && tx >= 0);
    p1("poll.udp-bound-idle", "poll(IN|OUT|RDHUP,0)", rx, EV, 0);
    NEED("poll.udp-data", sendto(tx, "abc", 3, 0, SA(&to), sizeof to) == 3);
    NEED("poll.udp-data", wait_ev(rx, POLLIN, 500) == 0);
    p1("poll.udp-data", "poll(IN|OUT|RDHUP,0)", rx, EV, 0);
    NEED("poll.udp-shut", connect(tx, SA(&to), sizeof to) == 0 && shutdown(tx, SHUT_RDWR) == 0);
    p1("poll.udp-shut-rdwr", "poll(IN|OUT|RDHUP,0)", tx, EV, 0);
}

static void s_poll_sets(void)
{
    struct pollfd p[3];
    int u = udp(), closed = socket(AF_INET, SOCK_DGRAM, 0), l = listener(next_port());
    long t0;
    NEED("poll.sets", u >= 0 && closed >= 0 && l >= 0);
    close(closed);
    memset(p, 0, sizeof p);
    p[0].fd = closed;
    p[0].events = POLLIN;
    p[1].fd = u;
    p[1].events = POLLOUT;
    CALL(poll(p, 2, 0));
    rep("poll.closed-fd", "poll([closed,udp],0)", "revents=%s,%s", evname(p[0].revents),
        evname(p[1].revents));
    p[0].fd = -1;
    p[0].events = POLLIN;
    p[0].revents = POLLIN;
    p[1].revents = 0;
    CALL(poll(p, 2, 0));
    rep("poll.minus-one", "poll([-1,udp],0)", "revents=%s,%s", evname(p[0].revents),
        evname(p[1].revents));
    p[0].fd = -5;
    CALL(poll(p, 2, 0));
    rep("poll.negative-fd", "poll([-5,udp],0)", "revents=%s,%s", evname(p[0].revents),
        evname(p[1].revents));
    p[0].fd = u;
    p[0].events = POLLOUT;
    CALL(poll(p, 2, 0));
    rep("poll.same-fd-twice", "poll([udp,udp],0)", "revents=%s,%s", evname(p[0].revents),
        evname(p[1].revents));
    p[0].fd = l;
    p[0].events = POLLIN;
    p[1].fd = -1;
    t0 = now_ms();
    CALL(poll(p, 2, 100));
    rep("poll.timeout", "poll([listener,-1],100)", "revents=%s waited=%s", evname(p[0].revents),
        now_ms() - t0 >= 80 ? "yes" : "no");
    CALL(poll(p, 1, 0));
    rep("poll.timeout-zero", "poll([listener],0)", "revents=%s", evname(p[0].revents));
    {
        /* volatile: the compiler must not see the NULL. */
        struct pollfd *volatile none = NULL;
        R("poll.null-fds", "poll(NULL,1,0)", poll(none, 1, 0));
    }
    R("poll.null-fds-zero", "poll(NULL,0,0)", poll(NULL, 0, 0));
    t0 = now_ms();
    CALL(poll(NULL, 0, 50));
    rep("poll.nothing-timeout", "poll(NULL,0,50)", "waited=%s", now_ms() - t0 >= 40 ? "yes" : "no");
}

/* ---- select --------------------------------------------------------------- */

static void sel(const char *id, const char *call, int fd, int timeout_ms)
{
    fd_set r, w;
    struct timeval tv;
    tv.tv_sec = 0;
    tv.tv_usec = timeout_ms * 1000;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(fd, &r);
    FD_SET(fd, &w);
    CALL(select(fd + 1, &r, &w, NULL, &tv));
    if (g_ret < 0) /* the sets are undefined then */
        rep(id, call, NULL);
    else
        rep(id, call, "r=%d w=%d", FD_ISSET(fd, &r) ? 1 : 0, FD_ISSET(fd, &w) ? 1 : 0);
}

static void sel_r(const char *id, const char *call, int fd, int timeout_ms)
{
    fd_set r;
    struct timeval tv;
    tv.tv_sec = 0;
    tv.tv_usec = timeout_ms * 1000;
    FD_ZERO(&r);
    FD_SET(fd, &r);
    CALL(select(fd + 1, &r, NULL, NULL, &tv));
    if (g_ret < 0)
        rep(id, call, NULL);
    else
        rep(id, call, "r=%d", FD_ISSET(fd, &r) ? 1 : 0);
}

static void s_select(void)
{
    int fd = tcp(), u = udp(), l, cli, srv, c2, closed, nul, port = next_port();
    struct sockaddr_in a;
    fd_set r;
    struct timeval tv;
    long t0;
    NEED("select.setup", fd >= 0 && u >= 0);
    sel("select.fresh-tcp", "select(r+w,0)", fd, 0);
    sel("select.fresh-udp", "select(r+w,0)", u, 0);
    a = sa("127.0.0.1", port);
    l = listener(port);
    NEED("select.listen", l >= 0);
    sel("select.listen-idle", "select(r+w,0)", l, 0);
    c2 = tcp_to();
    NEED("select.listen-pending", c2 >= 0 && connect(c2, SA(&a), sizeof a) == 0);
    sel_r("select.listen-pending", "select(r,500ms)", l, 500);
    fd = syn_sent();
    NEED("select.syn-sent", fd >= 0);
    sel("select.syn-sent", "select(r+w,0)", fd, 0);
    NEED("select.est", pair(&cli, &srv) == 0);
    sel("select.est-idle", "select(r+w,0)", cli, 0);
    NEED("select.est-data", send(srv, "abc", 3, 0) == 3);
    sel_r("select.est-data", "select(r,500ms)", cli, 500);
    NEED("select.peer-fin", pair(&cli, &srv) == 0 && shutdown(srv, SHUT_WR) == 0);
    sel_r("select.peer-fin", "select(r,500ms)", cli, 500);
    NEED("select.rst", pair(&cli, &srv) == 0 && abort_close(srv) == 0);
    NEED("select.rst", wait_ev(cli, POLLERR, 500) == 0);
    sel("select.rst", "select(r+w,0)", cli, 0);

    nul = track(open("/dev/null", O_RDWR));
    NEED("select.devnull", nul >= 0);
    sel("select.devnull", "select(r+w,0)", nul, 0);

    closed = socket(AF_INET, SOCK_DGRAM, 0);
    NEED("select.closed-fd", closed >= 0);
    close(closed);
    sel("select.closed-fd", "select(r+w,0)", closed, 0);
    FD_ZERO(&r);
    tv.tv_sec = 0;
    tv.tv_usec = 0;
    R("select.nfds-negative", "select(-1)", select(-1, &r, NULL, NULL, &tv));
    tv.tv_usec = 0;
    R("select.nfds-zero", "select(0,0)", select(0, NULL, NULL, NULL, &tv));
    tv.tv_sec = 0;
    tv.tv_usec = -1;
    R("select.bad-timeout", "select(0,usec=-1)", select(0, NULL, NULL, NULL, &tv));
    l = listener(next_port());
    NEED("select.timeout", l >= 0);
    FD_ZERO(&r);
    FD_SET(l, &r);
    tv.tv_sec = 0;
    tv.tv_usec = 100000;
    t0 = now_ms();
    CALL(select(l + 1, &r, NULL, NULL, &tv));
    rep("select.timeout", "select(r,100ms,idle-listener)", "r=%d waited=%s tv=%s",
        FD_ISSET(l, &r) ? 1 : 0, now_ms() - t0 >= 80 ? "yes" : "no",
        tv.tv_sec == 0 && tv.tv_usec == 0 ? "zeroed" : "kept");
}

void group_poll(void)
{
    RUN(s_poll_states);
    RUN(s_poll_udp);
    RUN(s_poll_sets);
}

void group_select(void)
{
    RUN(s_select);
}
