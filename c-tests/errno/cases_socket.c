/* socket() arguments and flags; closed, negative and non-socket
 * descriptors; the full descriptor table. */
#include "conformance.h"

static void s_socket_ok(void)
{
    CALL(track(socket(AF_INET, SOCK_STREAM, 0)));
    rep_fd("socket.stream", "socket(INET,STREAM,0)", NULL);
    CALL(track(socket(AF_INET, SOCK_DGRAM, 0)));
    rep_fd("socket.dgram", "socket(INET,DGRAM,0)", NULL);
    CALL(track(socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)));
    rep_fd("socket.stream-tcp", "socket(INET,STREAM,TCP)", NULL);
    CALL(track(socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)));
    rep_fd("socket.dgram-udp", "socket(INET,DGRAM,UDP)", NULL);
}

static void s_socket_errors(void)
{
    RFD("socket.bad-domain", "socket(12345,STREAM,0)",
        track(socket(12345, SOCK_STREAM, 0)));
    RFD("socket.unspec-domain", "socket(UNSPEC,STREAM,0)",
        track(socket(AF_UNSPEC, SOCK_STREAM, 0)));
    RFD("socket.bad-type", "socket(INET,12345,0)",
        track(socket(AF_INET, 12345, 0)));
    RFD("socket.stream-udp", "socket(INET,STREAM,UDP)",
        track(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)));
    RFD("socket.dgram-tcp", "socket(INET,DGRAM,TCP)",
        track(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP)));
    RFD("socket.stream-bad-proto", "socket(INET,STREAM,200)",
        track(socket(AF_INET, SOCK_STREAM, 200)));
    RFD("socket.bad-flag", "socket(INET,STREAM|0x10000000,0)",
        track(socket(AF_INET, SOCK_STREAM | 0x10000000, 0)));
}

static void s_socket_flags(void)
{
    int fd;
    CALL(fd = track(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)));
    rep_fd("socket.nonblock", "socket(INET,STREAM|NONBLOCK,0)", NULL);
    NEED("socket.nonblock-getfl", fd >= 0);
    CALL(fcntl(fd, F_GETFL));
    printf("socket.nonblock-getfl fcntl(F_GETFL) ret=%s errno=%s\n",
           flname(g_ret), errname(g_err));

    CALL(fd = track(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
    rep_fd("socket.dgram-nonblock-cloexec", "socket(INET,DGRAM|NONBLOCK|CLOEXEC,0)", NULL);
    NEED("socket.dgram-nonblock-getfl", fd >= 0);
    CALL(fcntl(fd, F_GETFL));
    printf("socket.dgram-nonblock-getfl fcntl(F_GETFL) ret=%s errno=%s\n",
           flname(g_ret), errname(g_err));

    CALL(fd = track(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)));
    rep_fd("socket.cloexec", "socket(INET,STREAM|CLOEXEC,0)", NULL);
    NEED("socket.cloexec-getfl", fd >= 0);
    CALL(fcntl(fd, F_GETFL));
    printf("socket.cloexec-getfl fcntl(F_GETFL) ret=%s errno=%s\n",
           flname(g_ret), errname(g_err));
}

/* ---- closed and negative descriptors ----------------------------------- */

static void badfd_calls(const char *pfx, int fd)
{
    char id[64], buf[8] = {0};
    struct sockaddr_in a = sa("127.0.0.1", next_port()), b;
    socklen_t len = sizeof b;
    int v = 1;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
#define B(name, call, expr) (snprintf(id, sizeof id, "%s.%s", pfx, name), R(id, call, expr))
    B("bind", "bind", bind(fd, SA(&a), sizeof a));
    B("listen", "listen", listen(fd, 1));
    B("accept", "accept", accept(fd, NULL, NULL));
    B("accept4", "accept4", accept4(fd, NULL, NULL, SOCK_NONBLOCK));
    B("connect", "connect", connect(fd, SA(&a), sizeof a));
    B("send", "send", send(fd, buf, 1, 0));
    B("recv", "recv", recv(fd, buf, 1, MSG_DONTWAIT));
    B("sendto", "sendto", sendto(fd, buf, 1, 0, SA(&a), sizeof a));
    B("recvfrom", "recvfrom", recvfrom(fd, buf, 1, MSG_DONTWAIT, SA(&b), &len));
    B("sendmsg", "sendmsg", sendmsg(fd, &m, 0));
    B("recvmsg", "recvmsg", recvmsg(fd, &m, MSG_DONTWAIT));
    B("read", "read", read(fd, buf, 1));
    B("write", "write", write(fd, buf, 1));
    B("shutdown", "shutdown(SHUT_RDWR)", shutdown(fd, SHUT_RDWR));
    len = sizeof v;
    B("getsockopt", "getsockopt(SO_TYPE)", getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
    B("setsockopt", "setsockopt(SO_REUSEADDR)",
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    len = sizeof b;
    B("getsockname", "getsockname", getsockname(fd, SA(&b), &len));
    len = sizeof b;
    B("getpeername", "getpeername", getpeername(fd, SA(&b), &len));
    B("fcntl-getfl", "fcntl(F_GETFL)", fcntl(fd, F_GETFL));
    B("fcntl-setfl", "fcntl(F_SETFL,NONBLOCK)", fcntl(fd, F_SETFL, O_NONBLOCK));
    B("close", "close", close(fd));
#undef B
}

static void s_closed_fd(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    NEED("closed.setup", fd >= 0);
    close(fd);
    badfd_calls("closed", fd);
}

static void s_close_twice(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    NEED("closed.close-twice", fd >= 0);
    R("closed.close-first", "close", close(fd));
    R("closed.close-twice", "close", close(fd));
}

static void s_negative_fd(void)
{
    badfd_calls("negfd", -1);
}

/* ---- a descriptor that is not a socket --------------------------------- */

static void s_not_socket(void)
{
    char buf[8] = "abc";
    struct sockaddr_in a = sa("127.0.0.1", next_port()), b;
    socklen_t len = sizeof b;
    int v = 1;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m;
    int fd = track(open("/dev/null", O_RDWR));
    NEED("notsock.setup", fd >= 0);
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    R("notsock.bind", "bind", bind(fd, SA(&a), sizeof a));
    R("notsock.listen", "listen", listen(fd, 1));
    R("notsock.accept", "accept", accept(fd, NULL, NULL));
    R("notsock.accept4", "accept4", accept4(fd, NULL, NULL, 0));
    R("notsock.connect", "connect", connect(fd, SA(&a), sizeof a));
    R("notsock.send", "send", send(fd, buf, 1, 0));
    R("notsock.recv", "recv", recv(fd, buf, 1, 0));
    R("notsock.sendto", "sendto", sendto(fd, buf, 1, 0, SA(&a), sizeof a));
    R("notsock.recvfrom", "recvfrom", recvfrom(fd, buf, 1, 0, SA(&b), &len));
    R("notsock.sendmsg", "sendmsg", sendmsg(fd, &m, 0));
    R("notsock.recvmsg", "recvmsg", recvmsg(fd, &m, 0));
    R("notsock.shutdown", "shutdown(SHUT_RDWR)", shutdown(fd, SHUT_RDWR));
    len = sizeof v;
    R("notsock.getsockopt", "getsockopt(SO_TYPE)",
      getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
    R("notsock.setsockopt", "setsockopt(SO_REUSEADDR)",
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    len = sizeof b;
    R("notsock.getsockname", "getsockname", getsockname(fd, SA(&b), &len));
    len = sizeof b;
    R("notsock.getpeername", "getpeername", getpeername(fd, SA(&b), &len));
    R("notsock.write", "write(3)", write(fd, buf, 3));
    R("notsock.read", "read(8)", read(fd, buf, sizeof buf));
    CALL(fcntl(fd, F_GETFL));
    /* Only the access mode and O_NONBLOCK: the kernel adds O_LARGEFILE,
     * whose value depends on the architecture. */
    printf("notsock.fcntl-getfl fcntl(F_GETFL) ret=%s errno=%s\n",
           flname(g_ret < 0 ? g_ret : (g_ret & (O_ACCMODE | O_NONBLOCK))),
           errname(g_err));
    {
        short rev = 0;
        CALL(poll1(fd, POLLIN | POLLOUT, 0, &rev));
        rep("notsock.poll", "poll", "revents=%s", evname(rev));
    }
    untrack(fd);
    R("notsock.close", "close", close(fd));
}

/* ---- the full descriptor table ------------------------------------------ */

#define FDS_MAX 5000
static int fds[FDS_MAX];

static void s_table_full(void)
{
    struct rlimit old, low;
    int n = 0, fd = -1, e = 0, i, ok;
    /* Linux's limit is RLIMIT_NOFILE: lower it for the case so that the
     * table fills well within the bound, whatever the caller's limit. */
    ok = getrlimit(RLIMIT_NOFILE, &old) == 0;
    if (ok) {
        low = old;
        if (low.rlim_cur == RLIM_INFINITY || low.rlim_cur > 1024)
            low.rlim_cur = 1024;
        setrlimit(RLIMIT_NOFILE, &low);
    }
    while (n < FDS_MAX) {
        errno = 0;
        fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0) {
            e = errno;
            break;
        }
        fds[n++] = fd;
    }
    for (i = 0; i < n; i++)
        close(fds[i]);
    if (ok)
        setrlimit(RLIMIT_NOFILE, &old);
    g_ret = fd < 0 ? -1 : 0;
    g_err = e;
    rep("fdtable.full", "socket(until-failure)", "opened>0=%s", n > 0 ? "yes" : "no");
    RFD("fdtable.after-close", "socket(INET,STREAM,0)", track(socket(AF_INET, SOCK_STREAM, 0)));
}

void group_socket(void)
{
    RUN(s_socket_ok);
    RUN(s_socket_errors);
    RUN(s_socket_flags);
    RUN(s_table_full);
}

void group_badfd(void)
{
    RUN(s_closed_fd);
    RUN(s_close_twice);
    RUN(s_negative_fd);
    RUN(s_not_socket);
}
