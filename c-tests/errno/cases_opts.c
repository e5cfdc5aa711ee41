/* shutdown; getsockopt / setsockopt. */
#include "conformance.h"

static void s_shutdown(void)
{
    struct sockaddr_in a = sa("127.0.0.1", next_port());
    int fd = tcp(), cli, srv;
    NEED("shutdown.setup", fd >= 0);
    R("shutdown.fresh", "shutdown(fresh,SHUT_RDWR)", shutdown(fd, SHUT_RDWR));
    R("shutdown.fresh-rd", "shutdown(fresh,SHUT_RD)", shutdown(fd, SHUT_RD));
    NEED("shutdown.bound", bind(fd, SA(&a), sizeof a) == 0);
    R("shutdown.bound", "shutdown(bound,SHUT_WR)", shutdown(fd, SHUT_WR));
    NEED("shutdown.est", pair(&cli, &srv) == 0);
    R("shutdown.bad-how", "shutdown(how=3)", shutdown(cli, 3));
    R("shutdown.bad-how-negative", "shutdown(how=-1)", shutdown(cli, -1));
    R("shutdown.wr", "shutdown(SHUT_WR)", shutdown(cli, SHUT_WR));
    R("shutdown.wr-twice", "shutdown(SHUT_WR)", shutdown(cli, SHUT_WR));
    R("shutdown.rd-after-wr", "shutdown(SHUT_RD)", shutdown(cli, SHUT_RD));
    R("shutdown.rdwr-after", "shutdown(SHUT_RDWR)", shutdown(cli, SHUT_RDWR));
    R("shutdown.rdwr", "shutdown(accepted,SHUT_RDWR)", shutdown(srv, SHUT_RDWR));
    fd = udp();
    R("shutdown.udp-unconnected", "shutdown(udp,SHUT_RDWR)", shutdown(fd, SHUT_RDWR));
    R("shutdown.udp-bound", "shutdown(udp-bound,SHUT_RD)",
      shutdown(udp_bound(next_port()), SHUT_RD));
    a = sa("127.0.0.1", next_port());
    NEED("shutdown.udp-connected", connect(fd, SA(&a), sizeof a) == 0);
    R("shutdown.udp-connected", "shutdown(udp-connected,SHUT_WR)", shutdown(fd, SHUT_WR));
    R("shutdown.udp-connected-send", "send", send(fd, "x", 1, 0));
    R("shutdown.udp-connected-bad-how", "shutdown(udp,how=7)", shutdown(fd, 7));
}

/* ---- options ------------------------------------------------------------ */

static void gi(const char *id, int fd, int level, int name, const char *call)
{
    int v = -12345;
    socklen_t len = sizeof v;
    CALL(getsockopt(fd, level, name, &v, &len));
    rep(id, call, "val=%d len=%d", v, (int)len);
}

/* For values that depend on kernel tuning: only whether it is positive. */
static void gpos(const char *id, int fd, int level, int name, const char *call)
{
    int v = -12345;
    socklen_t len = sizeof v;
    CALL(getsockopt(fd, level, name, &v, &len));
    rep(id, call, "positive=%s len=%d", v > 0 ? "yes" : "no", (int)len);
}

static void si(const char *id, int fd, int level, int name, int v, const char *call)
{
    R(id, call, setsockopt(fd, level, name, &v, sizeof v));
}

static void s_sol_socket(void)
{
    int fd = tcp(), u = udp(), l = listener(next_port());
    struct linger lg;
    socklen_t len;
    NEED("opt.setup", fd >= 0 && u >= 0 && l >= 0);
    gi("opt.so-error", fd, SOL_SOCKET, SO_ERROR, "getsockopt(SO_ERROR)");
    gi("opt.so-reuseaddr-default", fd, SOL_SOCKET, SO_REUSEADDR, "getsockopt(SO_REUSEADDR)");
    si("opt.so-reuseaddr-set", fd, SOL_SOCKET, SO_REUSEADDR, 7, "setsockopt(SO_REUSEADDR,7)");
    gi("opt.so-reuseaddr-get", fd, SOL_SOCKET, SO_REUSEADDR, "getsockopt(SO_REUSEADDR)");
    gi("opt.so-keepalive-default", fd, SOL_SOCKET, SO_KEEPALIVE, "getsockopt(SO_KEEPALIVE)");
    si("opt.so-keepalive-set", fd, SOL_SOCKET, SO_KEEPALIVE, 5, "setsockopt(SO_KEEPALIVE,5)");
    gi("opt.so-keepalive-get", fd, SOL_SOCKET, SO_KEEPALIVE, "getsockopt(SO_KEEPALIVE)");
    gpos("opt.so-rcvbuf-default", fd, SOL_SOCKET, SO_RCVBUF, "getsockopt(SO_RCVBUF)");
    si("opt.so-rcvbuf-set", fd, SOL_SOCKET, SO_RCVBUF, 4096, "setsockopt(SO_RCVBUF,4096)");
    gi("opt.so-rcvbuf-get", fd, SOL_SOCKET, SO_RCVBUF, "getsockopt(SO_RCVBUF)");
    gpos("opt.so-sndbuf-default", fd, SOL_SOCKET, SO_SNDBUF, "getsockopt(SO_SNDBUF)");
    si("opt.so-sndbuf-set", fd, SOL_SOCKET, SO_SNDBUF, 8192, "setsockopt(SO_SNDBUF,8192)");
    gi("opt.so-sndbuf-get", fd, SOL_SOCKET, SO_SNDBUF, "getsockopt(SO_SNDBUF)");
    gi("opt.so-type-tcp", fd, SOL_SOCKET, SO_TYPE, "getsockopt(SO_TYPE)");
    gi("opt.so-type-udp", u, SOL_SOCKET, SO_TYPE, "getsockopt(udp,SO_TYPE)");
    gi("opt.so-domain", fd, SOL_SOCKET, SO_DOMAIN, "getsockopt(SO_DOMAIN)");
    gi("opt.so-protocol-tcp", fd, SOL_SOCKET, SO_PROTOCOL, "getsockopt(SO_PROTOCOL)");
    gi("opt.so-protocol-udp", u, SOL_SOCKET, SO_PROTOCOL, "getsockopt(udp,SO_PROTOCOL)");
    gi("opt.so-acceptconn-fresh", fd, SOL_SOCKET, SO_ACCEPTCONN, "getsockopt(SO_ACCEPTCONN)");
    gi("opt.so-acceptconn-listen", l, SOL_SOCKET, SO_ACCEPTCONN,
       "getsockopt(listening,SO_ACCEPTCONN)");
    si("opt.so-type-set", fd, SOL_SOCKET, SO_TYPE, SOCK_DGRAM, "setsockopt(SO_TYPE)");
    si("opt.so-reuseaddr-udp", u, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(udp,SO_REUSEADDR,1)");

    len = sizeof lg;
    memset(&lg, 0x55, sizeof lg);
    CALL(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len));
    rep("opt.so-linger-default", "getsockopt(SO_LINGER)", "onoff=%d linger=%d len=%d",
        lg.l_onoff, lg.l_linger, (int)len);
    lg.l_onoff = 1;
    lg.l_linger = 5;
    R("opt.so-linger-set", "setsockopt(SO_LINGER,{1,5})",
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    len = sizeof lg;
    memset(&lg, 0x55, sizeof lg);
    CALL(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len));
    rep("opt.so-linger-get", "getsockopt(SO_LINGER)", "onoff=%d linger=%d", lg.l_onoff,
        lg.l_linger);
    R("opt.so-linger-short", "setsockopt(SO_LINGER,len=4)",
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, 4));
}

static void s_timeouts(void)
{
    struct timeval tv;
    socklen_t len;
    int fd = tcp();
    NEED("opt.timeo", fd >= 0);
    len = sizeof tv;
    tv.tv_sec = 99;
    CALL(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len));
    rep("opt.rcvtimeo-default", "getsockopt(SO_RCVTIMEO)", "sec=%ld usec=%ld", (long)tv.tv_sec,
        (long)tv.tv_usec);
    tv.tv_sec = 0;
    tv.tv_usec = 300000;
    R("opt.rcvtimeo-set", "setsockopt(SO_RCVTIMEO,0.3s)",
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    len = sizeof tv;
    memset(&tv, 0, sizeof tv);
    CALL(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len));
    rep("opt.rcvtimeo-get", "getsockopt(SO_RCVTIMEO)", "sec=%ld usec=%ld", (long)tv.tv_sec,
        (long)tv.tv_usec);
    tv.tv_sec = 2;
    tv.tv_usec = 0;
    R("opt.sndtimeo-set", "setsockopt(SO_SNDTIMEO,2s)",
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    len = sizeof tv;
    memset(&tv, 0, sizeof tv);
    CALL(getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len));
    rep("opt.sndtimeo-get", "getsockopt(SO_SNDTIMEO)", "sec=%ld usec=%ld", (long)tv.tv_sec,
        (long)tv.tv_usec);
    tv.tv_sec = 0;
    tv.tv_usec = 1000000;
    R("opt.rcvtimeo-usec-big", "setsockopt(SO_RCVTIMEO,usec=1000000)",
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    tv.tv_usec = -1;
    R("opt.rcvtimeo-usec-negative", "setsockopt(SO_RCVTIMEO,usec=-1)",
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    tv.tv_usec = 1000000;
    R("opt.sndtimeo-usec-big", "setsockopt(SO_SNDTIMEO,usec=1000000)",
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    tv.tv_sec = -1;
    tv.tv_usec = 0;
    R("opt.rcvtimeo-sec-negative", "setsockopt(SO_RCVTIMEO,sec=-1)",
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    len = sizeof tv;
    tv.tv_sec = 99;
    CALL(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len));
    rep("opt.rcvtimeo-after-negative", "getsockopt(SO_RCVTIMEO)", "sec=%ld usec=%ld",
        (long)tv.tv_sec, (long)tv.tv_usec);
    R("opt.rcvtimeo-short", "setsockopt(SO_RCVTIMEO,len=4)",
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, 4));
}

static void s_tcp_level(void)
{
    int fd = tcp(), u = udp(), cli, srv;
    char name[32];
    socklen_t len;
    NEED("opt.tcp", fd >= 0 && u >= 0);
    gi("opt.tcp-nodelay-default", fd, IPPROTO_TCP, TCP_NODELAY, "getsockopt(TCP_NODELAY)");
    si("opt.tcp-nodelay-set", fd, IPPROTO_TCP, TCP_NODELAY, 5, "setsockopt(TCP_NODELAY,5)");
    gi("opt.tcp-nodelay-get", fd, IPPROTO_TCP, TCP_NODELAY, "getsockopt(TCP_NODELAY)");
    gpos("opt.tcp-maxseg-fresh", fd, IPPROTO_TCP, TCP_MAXSEG, "getsockopt(TCP_MAXSEG)");
    si("opt.tcp-maxseg-set", fd, IPPROTO_TCP, TCP_MAXSEG, 1000, "setsockopt(TCP_MAXSEG,1000)");
    gi("opt.tcp-maxseg-get", fd, IPPROTO_TCP, TCP_MAXSEG, "getsockopt(TCP_MAXSEG)");
    si("opt.tcp-maxseg-small", fd, IPPROTO_TCP, TCP_MAXSEG, 10, "setsockopt(TCP_MAXSEG,10)");
    si("opt.tcp-maxseg-big", fd, IPPROTO_TCP, TCP_MAXSEG, 70000, "setsockopt(TCP_MAXSEG,70000)");
    si("opt.tcp-keepidle-set", fd, IPPROTO_TCP, TCP_KEEPIDLE, 60, "setsockopt(TCP_KEEPIDLE,60)");
    gi("opt.tcp-keepidle-get", fd, IPPROTO_TCP, TCP_KEEPIDLE, "getsockopt(TCP_KEEPIDLE)");
    si("opt.tcp-keepidle-zero", fd, IPPROTO_TCP, TCP_KEEPIDLE, 0, "setsockopt(TCP_KEEPIDLE,0)");
    si("opt.tcp-keepidle-big", fd, IPPROTO_TCP, TCP_KEEPIDLE, 32768,
       "setsockopt(TCP_KEEPIDLE,32768)");
    si("opt.tcp-keepintvl-set", fd, IPPROTO_TCP, TCP_KEEPINTVL, 10,
       "setsockopt(TCP_KEEPINTVL,10)");
    gi("opt.tcp-keepintvl-get", fd, IPPROTO_TCP, TCP_KEEPINTVL, "getsockopt(TCP_KEEPINTVL)");
    si("opt.tcp-keepintvl-zero", fd, IPPROTO_TCP, TCP_KEEPINTVL, 0,
       "setsockopt(TCP_KEEPINTVL,0)");
    si("opt.tcp-keepcnt-set", fd, IPPROTO_TCP, TCP_KEEPCNT, 5, "setsockopt(TCP_KEEPCNT,5)");
    gi("opt.tcp-keepcnt-get", fd, IPPROTO_TCP, TCP_KEEPCNT, "getsockopt(TCP_KEEPCNT)");
    si("opt.tcp-keepcnt-zero", fd, IPPROTO_TCP, TCP_KEEPCNT, 0, "setsockopt(TCP_KEEPCNT,0)");
    si("opt.tcp-keepcnt-big", fd, IPPROTO_TCP, TCP_KEEPCNT, 128, "setsockopt(TCP_KEEPCNT,128)");
    si("opt.tcp-user-timeout-set", fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1500,
       "setsockopt(TCP_USER_TIMEOUT,1500)");
    gi("opt.tcp-user-timeout-get", fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
       "getsockopt(TCP_USER_TIMEOUT)");
    si("opt.tcp-user-timeout-negative", fd, IPPROTO_TCP, TCP_USER_TIMEOUT, -1,
       "setsockopt(TCP_USER_TIMEOUT,-1)");

    R("opt.tcp-congestion-reno", "setsockopt(TCP_CONGESTION,reno)",
      setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4));
    len = sizeof name;
    memset(name, 0, sizeof name);
    CALL(getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len));
    rep("opt.tcp-congestion-get-reno", "getsockopt(TCP_CONGESTION)", "val=%s", name);
    R("opt.tcp-congestion-cubic", "setsockopt(TCP_CONGESTION,cubic)",
      setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5));
    len = sizeof name;
    memset(name, 0, sizeof name);
    CALL(getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len));
    rep("opt.tcp-congestion-get-cubic", "getsockopt(TCP_CONGESTION)", "val=%s", name);
    R("opt.tcp-congestion-unknown", "setsockopt(TCP_CONGESTION,nosuchcc)",
      setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "nosuchcc", 8));

    NEED("opt.tcp-maxseg-est", pair(&cli, &srv) == 0);
    gpos("opt.tcp-maxseg-est", cli, IPPROTO_TCP, TCP_MAXSEG, "getsockopt(established,TCP_MAXSEG)");
    gi("opt.so-error-est", cli, SOL_SOCKET, SO_ERROR, "getsockopt(established,SO_ERROR)");
    si("opt.tcp-nodelay-est", cli, IPPROTO_TCP, TCP_NODELAY, 1,
       "setsockopt(established,TCP_NODELAY,1)");

    /* TCP options on UDP. */
    gi("opt.tcp-on-udp-get", u, IPPROTO_TCP, TCP_NODELAY, "getsockopt(udp,TCP_NODELAY)");
    si("opt.tcp-on-udp-set", u, IPPROTO_TCP, TCP_NODELAY, 1, "setsockopt(udp,TCP_NODELAY,1)");
}

static void s_ip_level(void)
{
    int fd = tcp(), u = udp();
    unsigned char c = 32;
    socklen_t len;
    int v;
    NEED("opt.ip", fd >= 0 && u >= 0);
    gpos("opt.ip-ttl-default", fd, IPPROTO_IP, IP_TTL, "getsockopt(IP_TTL)");
    si("opt.ip-ttl-set", fd, IPPROTO_IP, IP_TTL, 32, "setsockopt(IP_TTL,32)");
    gi("opt.ip-ttl-get", fd, IPPROTO_IP, IP_TTL, "getsockopt(IP_TTL)");
    si("opt.ip-ttl-zero", fd, IPPROTO_IP, IP_TTL, 0, "setsockopt(IP_TTL,0)");
    si("opt.ip-ttl-256", fd, IPPROTO_IP, IP_TTL, 256, "setsockopt(IP_TTL,256)");
    si("opt.ip-ttl-reset", fd, IPPROTO_IP, IP_TTL, -1, "setsockopt(IP_TTL,-1)");
    gpos("opt.ip-ttl-after-reset", fd, IPPROTO_IP, IP_TTL, "getsockopt(IP_TTL)");
    c = 17;
    R("opt.ip-ttl-char", "setsockopt(IP_TTL,len=1)", setsockopt(u, IPPROTO_IP, IP_TTL, &c, 1));
    gi("opt.ip-ttl-char-get", u, IPPROTO_IP, IP_TTL, "getsockopt(udp,IP_TTL)");
    R("opt.ip-ttl-len0", "setsockopt(IP_TTL,len=0)", setsockopt(u, IPPROTO_IP, IP_TTL, &c, 0));
    v = 0;
    len = 2;
    CALL(getsockopt(u, IPPROTO_IP, IP_TTL, &v, &len));
    rep("opt.ip-ttl-get-short", "getsockopt(IP_TTL,len=2)", "val=%d len=%d", v, (int)len);
    si("opt.ip-tos-set", fd, IPPROTO_IP, IP_TOS, 0x10, "setsockopt(IP_TOS,0x10)");
    gi("opt.ip-tos-get", fd, IPPROTO_IP, IP_TOS, "getsockopt(IP_TOS)");
    si("opt.ip-tos-ecn", fd, IPPROTO_IP, IP_TOS, 0x13, "setsockopt(IP_TOS,0x13)");
    gi("opt.ip-tos-ecn-get", fd, IPPROTO_IP, IP_TOS, "getsockopt(IP_TOS)");
    si("opt.ip-tos-udp", u, IPPROTO_IP, IP_TOS, 0x13, "setsockopt(udp,IP_TOS,0x13)");
    gi("opt.ip-tos-udp-get", u, IPPROTO_IP, IP_TOS, "getsockopt(udp,IP_TOS)");
}

static void s_errors(void)
{
    int fd = tcp(), v = 1;
    socklen_t len;
    NEED("opt.err", fd >= 0);
    gi("opt.unknown-level-get", fd, 12345, 1, "getsockopt(level=12345)");
    si("opt.unknown-level-set", fd, 12345, 1, 1, "setsockopt(level=12345)");
    gi("opt.unknown-sol-socket-get", fd, SOL_SOCKET, 9999, "getsockopt(SOL_SOCKET,9999)");
    si("opt.unknown-sol-socket-set", fd, SOL_SOCKET, 9999, 1, "setsockopt(SOL_SOCKET,9999)");
    gi("opt.unknown-ip-get", fd, IPPROTO_IP, 9999, "getsockopt(IPPROTO_IP,9999)");
    si("opt.unknown-ip-set", fd, IPPROTO_IP, 9999, 1, "setsockopt(IPPROTO_IP,9999)");
    gi("opt.unknown-tcp-get", fd, IPPROTO_TCP, 9999, "getsockopt(IPPROTO_TCP,9999)");
    si("opt.unknown-tcp-set", fd, IPPROTO_TCP, 9999, 1, "setsockopt(IPPROTO_TCP,9999)");
    R("opt.set-short", "setsockopt(SO_REUSEADDR,len=2)",
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, 2));
    R("opt.set-short-tcp", "setsockopt(TCP_NODELAY,len=2)",
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, 2));
    R("opt.set-len0", "setsockopt(SO_KEEPALIVE,len=0)",
      setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, 0));
    len = (socklen_t)-1;
    R("opt.get-len-negative", "getsockopt(SO_TYPE,len=-1)",
      getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
    len = (socklen_t)-1;
    R("opt.get-len-negative-tcp", "getsockopt(TCP_NODELAY,len=-1)",
      getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len));
    v = 0;
    len = 2;
    CALL(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
    rep("opt.get-short", "getsockopt(SO_TYPE,len=2)", "val=%d len=%d", v, (int)len);
    v = 0;
    len = 0;
    CALL(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
    rep("opt.get-len0", "getsockopt(SO_TYPE,len=0)", "val=%d len=%d", v, (int)len);
    {
        int big[4] = {0, 0, 0, 0};
        len = sizeof big;
        CALL(getsockopt(fd, SOL_SOCKET, SO_TYPE, big, &len));
        rep("opt.get-long", "getsockopt(SO_TYPE,len=16)", "val=%d len=%d", big[0], (int)len);
    }
}

void group_shutdown(void)
{
    RUN(s_shutdown);
}

void group_options(void)
{
    RUN(s_sol_socket);
    RUN(s_timeouts);
    RUN(s_tcp_level);
    RUN(s_ip_level);
    RUN(s_errors);
}
