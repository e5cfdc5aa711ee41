/* The runner and the shared helpers of the errno conformance suite. */
#include "conformance.h"

long g_ret;
int g_err;

/* ---- names ------------------------------------------------------------ */

const char *errname(int e)
{
    static char buf[4][16];
    static int k;
    switch (e) {
    case 0: return "-";
#define N(x) case x: return #x;
    N(EPERM) N(ENOENT) N(ESRCH) N(EINTR) N(EIO) N(ENXIO) N(E2BIG) N(EBADF)
    N(EAGAIN) N(ENOMEM) N(EACCES) N(EFAULT) N(EBUSY) N(EEXIST) N(ENODEV)
    N(ENOTDIR) N(EISDIR) N(EINVAL) N(ENFILE) N(EMFILE) N(ENOTTY) N(ENOSPC)
    N(ESPIPE) N(EPIPE) N(EDOM) N(ERANGE) N(ENOSYS) N(ENOTSOCK)
    N(EDESTADDRREQ) N(EMSGSIZE) N(EPROTOTYPE) N(ENOPROTOOPT)
    N(EPROTONOSUPPORT) N(ESOCKTNOSUPPORT) N(EOPNOTSUPP) N(EPFNOSUPPORT)
    N(EAFNOSUPPORT) N(EADDRINUSE) N(EADDRNOTAVAIL) N(ENETDOWN)
    N(ENETUNREACH) N(ENETRESET) N(ECONNABORTED) N(ECONNRESET) N(ENOBUFS)
    N(EISCONN) N(ENOTCONN) N(ESHUTDOWN) N(ETIMEDOUT) N(ECONNREFUSED)
    N(EHOSTDOWN) N(EHOSTUNREACH) N(EALREADY) N(EINPROGRESS) N(EOVERFLOW)
#undef N
    default:
        k = (k + 1) % 4;
        snprintf(buf[k], sizeof buf[k], "E#%d", e);
        return buf[k];
    }
}

const char *evname(int ev)
{
    static char buf[8][64];
    static int k;
    static const struct { int bit; const char *name; } tab[] = {
        {POLLIN, "IN"},   {POLLPRI, "PRI"},     {POLLOUT, "OUT"},
        {POLLERR, "ERR"}, {POLLHUP, "HUP"},     {POLLRDHUP, "RDHUP"},
        {POLLNVAL, "NVAL"},
    };
    char *b;
    size_t i;
    k = (k + 1) % 8;
    b = buf[k];
    b[0] = 0;
    if (ev == 0)
        return "0";
    for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (ev & tab[i].bit) {
            if (b[0])
                strcat(b, "|");
            strcat(b, tab[i].name);
            ev &= ~tab[i].bit;
        }
    }
    if (ev)
        snprintf(b + strlen(b), 64 - strlen(b), "%s0x%x", b[0] ? "|" : "", ev);
    return b;
}

const char *flname(long fl)
{
    static char buf[4][64];
    static int k;
    char *b;
    k = (k + 1) % 4;
    b = buf[k];
    if (fl < 0)
        return "-1";
    switch (fl & O_ACCMODE) {
    case O_RDONLY: strcpy(b, "RDONLY"); break;
    case O_WRONLY: strcpy(b, "WRONLY"); break;
    case O_RDWR: strcpy(b, "RDWR"); break;
    default: strcpy(b, "ACC3"); break;
    }
    fl &= ~(long)O_ACCMODE;
    if (fl & O_NONBLOCK) {
        strcat(b, "|NONBLOCK");
        fl &= ~(long)O_NONBLOCK;
    }
    if (fl & O_APPEND) {
        strcat(b, "|APPEND");
        fl &= ~(long)O_APPEND;
    }
    if (fl)
        snprintf(b + strlen(b), 64 - strlen(b), "|0x%lx", fl);
    return b;
}

const char *addrname(const struct sockaddr_in *a)
{
    static char buf[4][64];
    static int k;
    const char *ip;
    char *b;
    k = (k + 1) % 4;
    b = buf[k];
    if (a->sin_family != AF_INET) {
        snprintf(b, 64, "family=%d", a->sin_family);
        return b;
    }
    switch (ntohl(a->sin_addr.s_addr)) {
    case 0: ip = "0.0.0.0"; break;
    case 0x7f000001: ip = "127.0.0.1"; break;
    case 0xc0000201: ip = "192.0.2.1"; break;
    default: ip = "other"; break;
    }
    snprintf(b, 64, "addr=%s port=%s", ip, a->sin_port ? "nonzero" : "zero");
    return b;
}

void fill(void *p, size_t n)
{
    unsigned char *c = p;
    size_t i;
    for (i = 0; i < n; i++)
        c[i] = (unsigned char)('a' + i % 26);
}

const char *dataok(const void *p, long n, long expect)
{
    const unsigned char *c = p;
    long i;
    if (n != expect)
        return "bad";
    for (i = 0; i < n; i++)
        if (c[i] != (unsigned char)('a' + i % 26))
            return "bad";
    return "ok";
}

/* ---- reporting --------------------------------------------------------- */

static void vrep(const char *id, const char *call, const char *ret,
                 const char *fmt, va_list ap)
{
    printf("%s %s ret=%s errno=%s", id, call, ret, errname(g_err));
    if (fmt && fmt[0]) {
        putchar(' ');
        vprintf(fmt, ap);
    }
    putchar('\n');
}

void rep(const char *id, const char *call, const char *fmt, ...)
{
    char ret[32];
    va_list ap;
    snprintf(ret, sizeof ret, "%ld", g_ret);
    va_start(ap, fmt);
    vrep(id, call, ret, fmt, ap);
    va_end(ap);
}

void rep_fd(const char *id, const char *call, const char *fmt, ...)
{
    char ret[32];
    va_list ap;
    if (g_ret >= 0)
        strcpy(ret, "fd");
    else
        snprintf(ret, sizeof ret, "%ld", g_ret);
    va_start(ap, fmt);
    vrep(id, call, ret, fmt, ap);
    va_end(ap);
}

void setup_failed(const char *id, const char *what)
{
    int e = errno;
    char w[128];
    size_t i;
    /* No spaces in the call field. */
    snprintf(w, sizeof w, "%s", what);
    for (i = 0; w[i]; i++)
        if (w[i] == ' ')
            w[i] = '_';
    printf("%s SETUP-FAILED(%s) errno=%s\n", id, w, errname(e));
    cleanup();
}

/* ---- helpers ----------------------------------------------------------- */

int next_port(void)
{
    static int port = 20000;
    return port++;
}

struct sockaddr_in sa(const char *ip, int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

#define MAX_TRACKED 64
static int tracked[MAX_TRACKED];
static int ntracked;

int track(int fd)
{
    if (fd >= 0 && ntracked < MAX_TRACKED)
        tracked[ntracked++] = fd;
    return fd;
}

void untrack(int fd)
{
    int i;
    for (i = 0; i < ntracked; i++) {
        if (tracked[i] == fd) {
            tracked[i] = tracked[--ntracked];
            return;
        }
    }
}

void cleanup(void)
{
    int e = errno;
    struct linger l = {1, 0};
    while (ntracked > 0) {
        int fd = tracked[--ntracked];
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(fd);
    }
    errno = e;
}

int xclose(int fd)
{
    untrack(fd);
    return close(fd);
}

int tcp(void) { return track(socket(AF_INET, SOCK_STREAM, 0)); }
int udp(void) { return track(socket(AF_INET, SOCK_DGRAM, 0)); }
int tcp_nb(void) { return track(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)); }

int tcp_to(void)
{
    int fd = tcp();
    if (fd >= 0 && set_timeouts(fd, 1000) < 0)
        return -1;
    return fd;
}

int listener(int port)
{
    struct sockaddr_in a = sa("127.0.0.1", port);
    int fd = tcp();
    if (fd < 0)
        return -1;
    if (bind(fd, SA(&a), sizeof a) < 0 || listen(fd, 8) < 0)
        return -1;
    /* The safety net of tcp_to(), for accept. */
    if (set_rcvtimeo(fd, 1000) < 0)
        return -1;
    return fd;
}

int udp_bound(int port)
{
    struct sockaddr_in a = sa("127.0.0.1", port);
    int fd = udp();
    if (fd < 0 || bind(fd, SA(&a), sizeof a) < 0)
        return -1;
    return fd;
}

int pair(int *cli, int *srv)
{
    int port = next_port();
    struct sockaddr_in a = sa("127.0.0.1", port);
    int l = listener(port);
    if (l < 0)
        return -1;
    *cli = tcp_to();
    if (*cli < 0 || connect(*cli, SA(&a), sizeof a) < 0)
        return -1;
    *srv = track(accept(l, NULL, NULL));
    if (*srv < 0)
        return -1;
    xclose(l);
    if (set_timeouts(*srv, 1000) < 0)
        return -1;
    return 0;
}

int syn_sent(void)
{
    struct sockaddr_in a = sa("192.0.2.99", next_port());
    int fd = tcp_nb();
    if (fd < 0)
        return -1;
    if (connect(fd, SA(&a), sizeof a) == 0 || errno != EINPROGRESS)
        return -1;
    return fd;
}

int poll1(int fd, short events, int timeout, short *revents)
{
    struct pollfd p;
    int r;
    p.fd = fd;
    p.events = events;
    p.revents = 0;
    r = poll(&p, 1, timeout);
    if (revents)
        *revents = p.revents;
    return r;
}

int wait_ev(int fd, int want, int ms)
{
    long end = now_ms() + ms;
    short rev = 0;
    for (;;) {
        if (poll1(fd, POLLIN | POLLOUT | POLLRDHUP | POLLPRI, 0, &rev) >= 0 &&
            (rev & want) == want)
            return 0;
        if (now_ms() >= end)
            return -1;
        msleep(2);
    }
}

int abort_close(int fd)
{
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    return xclose(fd);
}

int set_int(int fd, int level, int name, int val)
{
    return setsockopt(fd, level, name, &val, sizeof val);
}

int get_int(int fd, int level, int name)
{
    int v = -12345;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) < 0)
        return -12345;
    return v;
}

int set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

int set_rcvtimeo(int fd, int ms)
{
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

int set_timeouts(int fd, int ms)
{
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        return -1;
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

void msleep(int ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- main -------------------------------------------------------------- */

static void setup(void)
{
#ifdef WOLFIP
    const char *tap = getenv("WOLFIP_TAP");
    if (wolfip_init() < 0) {
        perror("wolfip_init");
        exit(2);
    }
    if (wolfip_tap_attach(tap, "192.0.2.1/24", NULL) < 0) {
        perror("wolfip_tap_attach");
        exit(2);
    }
#endif
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(30); /* a hang ends the run before the test's time limit */
    setup();

    group_socket();
    group_badfd();
    group_bind();
    group_listen_accept();
    group_connect();
    group_tcp_io();
    group_udp();
    group_shutdown();
    group_options();
    group_names_fcntl();
    group_poll();
    group_select();
    group_threads();
    return 0;
}
