/* Calls blocked in one thread while another thread acts on the descriptor. */
#include "conformance.h"

enum op { OP_ACCEPT, OP_RECV, OP_POLL };

struct blocked {
    int fd;
    enum op op;
    long ret;
    int err;
    long elapsed_ms;
    short revents;
};

static void *blocked_main(void *p)
{
    struct blocked *b = p;
    char buf[16];
    long t0 = now_ms();
    errno = 0;
    switch (b->op) {
    case OP_ACCEPT:
        b->ret = accept(b->fd, NULL, NULL);
        break;
    case OP_RECV:
        b->ret = recv(b->fd, buf, sizeof buf, 0);
        break;
    case OP_POLL: {
        struct pollfd pf;
        pf.fd = b->fd;
        pf.events = POLLIN;
        pf.revents = 0;
        b->ret = poll(&pf, 1, 500);
        b->revents = pf.revents;
        break;
    }
    }
    b->err = errno;
    b->elapsed_ms = now_ms() - t0;
    return NULL;
}

/* Starts op on fd in a thread (SO_RCVTIMEO 300 ms), waits 100 ms, runs
 * act(fd) in this thread, joins, and reports the blocked call. */
static void blocked_case(const char *id, const char *call, int fd, enum op op,
                         int (*act)(int), const char *act_name)
{
    struct blocked b;
    pthread_t t;
    long r;
    int e;
    char c[96];
    memset(&b, 0, sizeof b);
    b.fd = fd;
    b.op = op;
    NEED(id, set_rcvtimeo(fd, 300) == 0);
    NEED(id, pthread_create(&t, NULL, blocked_main, &b) == 0);
    msleep(100);
    errno = 0;
    r = act(fd);
    e = errno;
    pthread_join(t, NULL);
    g_ret = b.ret;
    g_err = b.err;
    snprintf(c, sizeof c, "%s(blocked,then-%s)", call, act_name);
    if (op == OP_ACCEPT && b.ret >= 0)
        track((int)b.ret);
    if (op == OP_ACCEPT)
        rep_fd(id, c, "early=%s %s=%ld/%s", b.elapsed_ms < 200 ? "yes" : "no", act_name, r,
               errname(e));
    else if (op == OP_POLL)
        rep(id, c, "early=%s revents=%s", b.elapsed_ms < 200 ? "yes" : "no", evname(b.revents));
    else
        rep(id, c, "early=%s %s=%ld/%s", b.elapsed_ms < 200 ? "yes" : "no", act_name, r,
            errname(e));
}

static int act_shut_rd(int fd) { return shutdown(fd, SHUT_RD); }
static int act_shut_rdwr(int fd) { return shutdown(fd, SHUT_RDWR); }
static int act_close(int fd) { return xclose(fd); }

static int peer_fd = -1;
static int act_peer_send(int fd)
{
    (void)fd;
    return (int)send(peer_fd, "abc", 3, 0);
}
static int act_peer_rst(int fd)
{
    (void)fd;
    return abort_close(peer_fd);
}

static int connect_port = -1;
static int act_connect(int fd)
{
    struct sockaddr_in a = sa("127.0.0.1", connect_port);
    int c = tcp_to();
    (void)fd;
    return connect(c, SA(&a), sizeof a);
}

static void s_accept_shutdown(void)
{
    int l = listener(next_port());
    NEED("thread.accept-shut-rd", l >= 0);
    blocked_case("thread.accept-shut-rd", "accept", l, OP_ACCEPT, act_shut_rd, "shutdown");
}

static void s_accept_close(void)
{
    int l = listener(next_port());
    NEED("thread.accept-close", l >= 0);
    blocked_case("thread.accept-close", "accept", l, OP_ACCEPT, act_close, "close");
}

static void s_accept_connect(void)
{
    int port = next_port(), l = listener(port);
    NEED("thread.accept-connect", l >= 0);
    connect_port = port;
    blocked_case("thread.accept-connect", "accept", l, OP_ACCEPT, act_connect, "connect");
}

static void s_recv_shutdown(void)
{
    int cli, srv;
    NEED("thread.recv-shut-rd", pair(&cli, &srv) == 0);
    blocked_case("thread.recv-shut-rd", "recv", cli, OP_RECV, act_shut_rd, "shutdown");
}

static void s_recv_shutdown_rdwr(void)
{
    int cli, srv;
    NEED("thread.recv-shut-rdwr", pair(&cli, &srv) == 0);
    blocked_case("thread.recv-shut-rdwr", "recv", cli, OP_RECV, act_shut_rdwr, "shutdown");
}

static void s_recv_close(void)
{
    int cli, srv;
    NEED("thread.recv-close", pair(&cli, &srv) == 0);
    blocked_case("thread.recv-close", "recv", cli, OP_RECV, act_close, "close");
}

static void s_recv_data(void)
{
    int cli, srv;
    NEED("thread.recv-data", pair(&cli, &srv) == 0);
    peer_fd = srv;
    blocked_case("thread.recv-data", "recv", cli, OP_RECV, act_peer_send, "peer-send");
}

static void s_recv_rst(void)
{
    int cli, srv;
    NEED("thread.recv-rst", pair(&cli, &srv) == 0);
    peer_fd = srv;
    blocked_case("thread.recv-rst", "recv", cli, OP_RECV, act_peer_rst, "peer-rst");
}

static void s_poll_data(void)
{
    int cli, srv;
    NEED("thread.poll-data", pair(&cli, &srv) == 0);
    peer_fd = srv;
    blocked_case("thread.poll-data", "poll", cli, OP_POLL, act_peer_send, "peer-send");
}

void group_threads(void)
{
    RUN(s_accept_shutdown);
    RUN(s_accept_close);
    RUN(s_accept_connect);
    RUN(s_recv_shutdown);
    RUN(s_recv_shutdown_rdwr);
    RUN(s_recv_close);
    RUN(s_recv_data);
    RUN(s_recv_rst);
    RUN(s_poll_data);
}
