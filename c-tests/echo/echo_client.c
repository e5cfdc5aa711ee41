/*
 * echo_client: a blocking TCP client that sends a deterministic byte pattern
 * to an echo server while reading the echo back, and checks every byte.
 *
 *   echo_client <ip> <port> [--bytes N] [--seed S] [--threads]
 *               [--timeout SECONDS] [--tap NAME --cidr A.B.C.D/LEN]
 *
 * The connection is made with a blocking connect(). Then, by default, the
 * socket is switched to O_NONBLOCK and one poll() loop sends (POLLOUT) and
 * receives (POLLIN); with --threads a writer thread does blocking send()s
 * while the main thread does blocking recv()s on the same socket (bounded by
 * SO_SNDTIMEO/SO_RCVTIMEO). Either way neither side can deadlock when both
 * directions' buffers are full. After the last byte the client shuts down its
 * sending side, reads the rest of the echo and then expects EOF (no extra
 * bytes).
 *
 * Prints "ok <bytes>" and exits 0 on success; otherwise prints the error on
 * stderr and exits 1 (2 on a usage error). --timeout (default 60 s) bounds the
 * whole exchange.
 *
 * Built with -DWOLFIP and linked with libwolfip_bsd.a, the same source runs
 * on the wolfip stack (see echo_server.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifdef WOLFIP
#include <wolfip_posix.h> /* maps socket(), poll(), close(), read(), ... onto wolfip_*() */
#endif

#include "bringup.h"

#define CHUNK 16384
/* Longest wait for one blocking call in --threads mode, and for connect(). */
#define STALL_SECONDS 10

static unsigned long long total;    /* bytes to send and to get back */
static unsigned seed;
static double deadline;             /* CLOCK_MONOTONIC seconds */

/* Byte number i of the stream: not periodic at any small power of two. */
static unsigned char pattern(unsigned long long i)
{
    uint32_t x = (uint32_t)i * 2654435761u ^ (uint32_t)(i >> 32) ^ seed;

    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    x ^= x >> 12;
    return (unsigned char)(x ^ (x >> 24));
}

static void fill(unsigned char *buf, unsigned long long off, size_t len)
{
    size_t k;

    for (k = 0; k < len; k++)
        buf[k] = pattern(off + k);
}

/* Returns 0 if buf holds the bytes at off, else prints the mismatch. */
static int verify(const unsigned char *buf, unsigned long long off, size_t len)
{
    size_t k;

    for (k = 0; k < len; k++) {
        unsigned char want = pattern(off + k);

        if (buf[k] != want) {
            fprintf(stderr, "error: echo differs at byte %llu: got 0x%02x, want 0x%02x\n",
                    off + k, buf[k], want);
            return -1;
        }
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s <ip> <port> [--bytes N] [--seed S] [--threads] [--timeout SECONDS]"
            " [--tap NAME --cidr A.B.C.D/LEN]\n",
            prog);
    exit(2);
}

static unsigned long long parse_num(const char *prog, const char *what, const char *s,
                                    unsigned long long lo, unsigned long long hi)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "%s: bad %s '%s' (expected %llu..%llu)\n", prog, what, s, lo, hi);
        exit(2);
    }
    return v;
}

/* ---- one poll() loop over a non-blocking socket ---- */

static int run_poll(int fd)
{
    static unsigned char out[CHUNK], in[CHUNK];
    unsigned long long sent = 0, got = 0;
    size_t out_off = 0, out_len = 0;
    int wr_done = 0;
    int flags = fcntl(fd, F_GETFL, 0);

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        perror("fcntl(O_NONBLOCK)");
        return -1;
    }
    if (total == 0) {
        if (shutdown(fd, SHUT_WR) < 0) {
            perror("shutdown(SHUT_WR)");
            return -1;
        }
        wr_done = 1;
    }

    for (;;) {
        struct pollfd p;
        int n;
        double left = deadline - now();

        if (left <= 0) {
            fprintf(stderr, "error: timed out: sent %llu, received %llu of %llu bytes\n", sent,
                    got, total);
            return -1;
        }
        p.fd = fd;
        p.events = POLLIN | (wr_done ? 0 : POLLOUT);
        p.revents = 0;
        n = poll(&p, 1, left > 1.0 ? 1000 : (int)(left * 1000) + 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("poll");
            return -1;
        }
        if (n == 0)
            continue;
        if (p.revents & POLLNVAL) {
            fprintf(stderr, "error: poll: POLLNVAL\n");
            return -1;
        }

        if (!wr_done && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            for (;;) {
                ssize_t w;

                if (out_len == 0) {
                    unsigned long long rest = total - sent;

                    out_len = rest < CHUNK ? (size_t)rest : CHUNK;
                    out_off = 0;
                    fill(out, sent, out_len);
                }
                w = send(fd, out + out_off, out_len, 0);
                if (w < 0) {
                    if (errno == EINTR)
                        continue;
                    if (errno == EAGAIN || errno == EWOULDBLOCK)
                        break;
                    perror("send");
                    return -1;
                }
                out_off += (size_t)w;
                out_len -= (size_t)w;
                sent += (unsigned long long)w;
                if (sent == total) {
                    if (shutdown(fd, SHUT_WR) < 0) {
                        perror("shutdown(SHUT_WR)");
                        return -1;
                    }
                    wr_done = 1;
                    break;
                }
            }
        }

        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            for (;;) {
                ssize_t r = recv(fd, in, sizeof in, 0);

                if (r < 0) {
                    if (errno == EINTR)
                        continue;
                    if (errno == EAGAIN || errno == EWOULDBLOCK)
                        break;
                    perror("recv");
                    return -1;
                }
                if (r == 0) {
                    if (got < total) {
                        fprintf(stderr, "error: EOF after %llu of %llu echoed bytes\n", got,
                                total);
                        return -1;
                    }
                    return 0; /* everything back, then EOF */
                }
                if (got + (unsigned long long)r > total) {
                    fprintf(stderr, "error: %llu bytes echoed, %llu sent\n",
                            got + (unsigned long long)r, total);
                    return -1;
                }
                if (verify(in, got, (size_t)r) < 0)
                    return -1;
                got += (unsigned long long)r;
            }
        }
    }
}

/* ---- a writer thread and a reader, both blocking ---- */

struct writer {
    int fd;
    int err;                 /* errno of the failing call, 0 if none */
    const char *what;        /* the failing call */
    unsigned long long sent;
};

static void *writer_main(void *arg)
{
    static unsigned char out[CHUNK];
    struct writer *w = arg;

    while (w->sent < total) {
        unsigned long long rest = total - w->sent;
        size_t len = rest < CHUNK ? (size_t)rest : CHUNK, off = 0;

        fill(out, w->sent, len);
        while (off < len) {
            ssize_t n = send(w->fd, out + off, len - off, 0);

            if (n < 0) {
                if (errno == EINTR)
                    continue;
                w->err = errno;
                w->what = "send";
                return NULL;
            }
            off += (size_t)n;
            w->sent += (unsigned long long)n;
        }
    }
    if (shutdown(w->fd, SHUT_WR) < 0) {
        w->err = errno;
        w->what = "shutdown(SHUT_WR)";
    }
    return NULL;
}

static int run_threads(int fd)
{
    static unsigned char in[CHUNK];
    unsigned long long got = 0;
    struct writer w = {fd, 0, NULL, 0};
    struct timeval tv;
    pthread_t th;
    int rc, result = 0;

    /*
     * Bound every blocking call: a peer that stalls for STALL_SECONDS ends
     * in EAGAIN, not a hang; the loop below checks the overall deadline.
     */
    tv.tv_sec = deadline - now() < STALL_SECONDS ? (time_t)(deadline - now()) + 1 : STALL_SECONDS;
    tv.tv_usec = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
        perror("setsockopt(SO_RCVTIMEO/SO_SNDTIMEO)");
        return -1;
    }
    rc = pthread_create(&th, NULL, writer_main, &w);
    if (rc != 0) {
        fprintf(stderr, "error: pthread_create: %s\n", strerror(rc));
        return -1;
    }
    for (;;) {
        ssize_t r;

        if (now() > deadline) {
            fprintf(stderr, "error: timed out after %llu of %llu echoed bytes\n", got, total);
            result = -1;
            break;
        }
        r = recv(fd, in, sizeof in, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                fprintf(stderr, "error: recv timed out after %llu of %llu echoed bytes\n", got,
                        total);
            else
                perror("recv");
            result = -1;
            break;
        }
        if (r == 0) {
            if (got < total) {
                fprintf(stderr, "error: EOF after %llu of %llu echoed bytes\n", got, total);
                result = -1;
            }
            break;
        }
        if (got + (unsigned long long)r > total) {
            fprintf(stderr, "error: %llu bytes echoed, %llu sent\n", got + (unsigned long long)r,
                    total);
            result = -1;
            break;
        }
        if (verify(in, got, (size_t)r) < 0) {
            result = -1;
            break;
        }
        got += (unsigned long long)r;
    }
    if (result < 0) {
        /* Unblock the writer if it is still sending. */
        shutdown(fd, SHUT_RDWR);
    }
    rc = pthread_join(th, NULL);
    if (rc != 0) {
        fprintf(stderr, "error: pthread_join: %s\n", strerror(rc));
        return -1;
    }
    if (result == 0 && w.err != 0) {
        errno = w.err;
        perror(w.what);
        return -1;
    }
    return result;
}

int main(int argc, char **argv)
{
    const char *prog = argv[0];
    const char *ip = NULL, *port_s = NULL, *tap = NULL, *cidr = NULL;
    int threads = 0, fd, i;
    unsigned long long timeout = 60;
    struct sockaddr_in addr;

    total = 1000000;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
            total = parse_num(prog, "--bytes", argv[++i], 0, 1ULL << 40);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = (unsigned)parse_num(prog, "--seed", argv[++i], 0, 0xffffffffULL);
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            timeout = parse_num(prog, "--timeout", argv[++i], 1, 3600);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = 1;
        else if (strcmp(argv[i], "--tap") == 0 && i + 1 < argc)
            tap = argv[++i];
        else if (strcmp(argv[i], "--cidr") == 0 && i + 1 < argc)
            cidr = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] == '-')
            usage(prog);
        else if (ip == NULL)
            ip = argv[i];
        else if (port_s == NULL)
            port_s = argv[i];
        else
            usage(prog);
    }
    if (ip == NULL || port_s == NULL)
        usage(prog);

    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)parse_num(prog, "port", port_s, 1, 65535));
    if (inet_pton(AF_INET, ip, &addr.sin_addr) != 1) {
        fprintf(stderr, "%s: bad IPv4 address '%s'\n", prog, ip);
        return 2;
    }

    {
        int rc = echo_bringup(prog, tap, cidr);
        if (rc != 0)
            return rc;
    }

    signal(SIGPIPE, SIG_IGN);
    deadline = now() + (double)timeout;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    {
        /* On Linux SO_SNDTIMEO bounds a blocking connect() too (EINPROGRESS). */
        struct timeval tv = {timeout < STALL_SECONDS ? (time_t)timeout : STALL_SECONDS, 0};

        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
            perror("setsockopt(SO_SNDTIMEO)");
            close(fd);
            return 1;
        }
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        close(fd);
        return 1;
    }
    if ((threads ? run_threads(fd) : run_poll(fd)) < 0) {
        close(fd);
        return 1;
    }
    if (close(fd) < 0) {
        perror("close");
        return 1;
    }
    printf("ok %llu\n", total);
    fflush(stdout);
    return 0;
}
