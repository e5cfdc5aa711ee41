/*
 * echo_server: a TCP and UDP echo server on one port, written with poll()
 * the way a C programmer writes it against Linux.
 *
 *   echo_server <listen-ip> <port> [--max-clients N] [--exit-after N]
 *               [--tap NAME --cidr A.B.C.D/LEN]        (WOLFIP builds only)
 *
 * - one non-blocking TCP listener and one non-blocking UDP socket, both bound
 *   to <listen-ip>:<port> (port 0: the kernel's choice, the same for both);
 * - up to --max-clients (default 64) TCP clients in a pollfd array; while the
 *   table is full, or accept() reports a descriptor/memory shortage, the
 *   listener is left out of poll() and connections wait in the backlog;
 * - whatever a client sends is written back; a partial write keeps the rest
 *   in the client's pending buffer, and the client is then polled for POLLOUT
 *   only (no more reading until the pending bytes are gone: back-pressure);
 * - on EOF the pending bytes are flushed, then the socket is closed;
 * - each UDP datagram is sent back to its sender;
 * - --exit-after N: exit 0 once N TCP clients were served and closed.
 *
 * Prints "listening <ip>:<port>" on stdout (flushed) once ready. Errors go to
 * stderr through perror(). Exit status: 0 after --exit-after, 1 on a fatal
 * error, 2 on a usage error.
 *
 * Built with -DWOLFIP and linked with libwolfip_bsd.a, the same source runs
 * on the wolfip stack: <wolfip_posix.h> maps the socket calls onto wolfip_*()
 * and the program first brings the stack up on a TAP device.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef WOLFIP
#include <wolfip_posix.h> /* maps socket(), poll(), close(), read(), ... onto wolfip_*() */
#endif

#include "bringup.h"

#define MAX_CLIENTS 64
#define BUF_SIZE 16384
#define UDP_MAX 65536
/* Datagrams echoed per wake-up, so TCP clients are not starved by a flood. */
#define UDP_BURST 64
/* How long the listener stays out of poll() after EMFILE/ENFILE/ENOBUFS/ENOMEM. */
#define ACCEPT_BACKOFF_MS 50

struct client {
    int fd;               /* -1: free slot */
    int eof;              /* the peer has shut down its sending side */
    size_t off, len;      /* pending bytes are buf[off .. off+len) */
    unsigned char buf[BUF_SIZE];
};

static struct client clients[MAX_CLIENTS];
static struct pollfd pfds[2 + MAX_CLIENTS];
static int pfd_client[2 + MAX_CLIENTS]; /* pfds[i] -> index into clients[] */
static unsigned char udp_buf[UDP_MAX];

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s <listen-ip> <port> [--max-clients N] [--exit-after N]"
            " [--tap NAME --cidr A.B.C.D/LEN]\n",
            prog);
    exit(2);
}

static long parse_num(const char *prog, const char *what, const char *s, long lo, long hi)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "%s: bad %s '%s' (expected %ld..%ld)\n", prog, what, s, lo, hi);
        exit(2);
    }
    return v;
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);

    if (flags < 0) {
        perror("fcntl(F_GETFL)");
        return -1;
    }
    if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        perror("fcntl(F_SETFL, O_NONBLOCK)");
        return -1;
    }
    return 0;
}

static int open_socket(int type, const struct sockaddr_in *addr)
{
    int one = 1;
    int fd = socket(AF_INET, type, 0);

    if (fd < 0) {
        perror(type == SOCK_STREAM ? "socket(SOCK_STREAM)" : "socket(SOCK_DGRAM)");
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        perror("setsockopt(SO_REUSEADDR)");
        close(fd);
        return -1;
    }
    if (bind(fd, (const struct sockaddr *)addr, sizeof *addr) < 0) {
        perror(type == SOCK_STREAM ? "bind(tcp)" : "bind(udp)");
        close(fd);
        return -1;
    }
    if (set_nonblocking(fd) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Drops a client; returns 1 (one more client served). */
static int drop_client(struct client *c)
{
    if (close(c->fd) < 0)
        perror("close(client)");
    c->fd = -1;
    c->eof = 0;
    c->off = c->len = 0;
    return 1;
}

/*
 * Writes the pending bytes. Returns 0 when the client stays, -1 when it was
 * dropped on an error.
 */
static int flush_pending(struct client *c)
{
    while (c->len > 0) {
        ssize_t n = write(c->fd, c->buf + c->off, c->len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno != EPIPE && errno != ECONNRESET)
                perror("write(client)");
            return -1;
        }
        c->off += (size_t)n;
        c->len -= (size_t)n;
    }
    c->off = 0;
    return 0;
}

/*
 * Handles the events of one client. Returns 1 if the client was closed
 * (served), 0 otherwise.
 */
static int service_client(struct client *c, short revents)
{
    if (c->len > 0 && (revents & (POLLOUT | POLLERR | POLLHUP))) {
        if (flush_pending(c) < 0)
            return drop_client(c);
    }
    if (c->len == 0 && !c->eof && (revents & (POLLIN | POLLERR | POLLHUP))) {
        ssize_t n = read(c->fd, c->buf, sizeof c->buf);

        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno != ECONNRESET)
                perror("read(client)");
            return drop_client(c);
        }
        if (n == 0) {
            c->eof = 1;
        } else {
            c->off = 0;
            c->len = (size_t)n;
            if (flush_pending(c) < 0)
                return drop_client(c);
        }
    }
    /* Clean close: the peer is done sending and everything went back. */
    if (c->eof && c->len == 0)
        return drop_client(c);
    return 0;
}

static void service_udp(int ufd)
{
    int i;

    for (i = 0; i < UDP_BURST; i++) {
        struct sockaddr_in from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(ufd, udp_buf, sizeof udp_buf, 0, (struct sockaddr *)&from, &fromlen);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED)
                perror("recvfrom");
            return;
        }
        if (sendto(ufd, udp_buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen) < 0) {
            /* UDP is best effort: a datagram we cannot send back is dropped. */
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED)
                perror("sendto");
        }
    }
}

int main(int argc, char **argv)
{
    const char *prog = argv[0];
    const char *ip = NULL, *port_s = NULL, *tap = NULL, *cidr = NULL;
    long max_clients = MAX_CLIENTS, exit_after = 0, served = 0;
    int nclients = 0, backoff = 0;
    struct sockaddr_in addr;
    char ipbuf[INET_ADDRSTRLEN];
    int lfd, ufd, i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--max-clients") == 0 && i + 1 < argc)
            max_clients = parse_num(prog, "--max-clients", argv[++i], 1, MAX_CLIENTS);
        else if (strcmp(argv[i], "--exit-after") == 0 && i + 1 < argc)
            exit_after = parse_num(prog, "--exit-after", argv[++i], 1, 1000000);
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

    {
        int rc = echo_bringup(prog, tap, cidr);
        if (rc != 0)
            return rc;
    }

    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)parse_num(prog, "port", port_s, 0, 65535));
    if (inet_pton(AF_INET, ip, &addr.sin_addr) != 1) {
        fprintf(stderr, "%s: bad IPv4 address '%s'\n", prog, ip);
        return 2;
    }

    /* A client that resets while we write must not kill the server. */
    signal(SIGPIPE, SIG_IGN);

    lfd = open_socket(SOCK_STREAM, &addr);
    if (lfd < 0)
        return 1;
    if (listen(lfd, MAX_CLIENTS) < 0) {
        perror("listen");
        return 1;
    }
    if (addr.sin_port == 0) {
        socklen_t len = sizeof addr;

        if (getsockname(lfd, (struct sockaddr *)&addr, &len) < 0) {
            perror("getsockname");
            return 1;
        }
    }
    ufd = open_socket(SOCK_DGRAM, &addr);
    if (ufd < 0)
        return 1;

    for (i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;

    inet_ntop(AF_INET, &addr.sin_addr, ipbuf, sizeof ipbuf);
    printf("listening %s:%u\n", ipbuf, (unsigned)ntohs(addr.sin_port));
    fflush(stdout);

    for (;;) {
        int npfd = 0, listening, ready, timeout;

        listening = nclients < max_clients && !backoff;
        pfds[npfd].fd = listening ? lfd : -1; /* a negative fd is ignored */
        pfds[npfd].events = POLLIN;
        pfds[npfd].revents = 0;
        npfd++;
        pfds[npfd].fd = ufd;
        pfds[npfd].events = POLLIN;
        pfds[npfd].revents = 0;
        npfd++;
        for (i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].fd < 0)
                continue;
            pfds[npfd].fd = clients[i].fd;
            pfds[npfd].events = clients[i].len > 0 ? POLLOUT : POLLIN;
            pfds[npfd].revents = 0;
            pfd_client[npfd] = i;
            npfd++;
        }

        timeout = backoff ? ACCEPT_BACKOFF_MS : -1;
        ready = poll(pfds, (nfds_t)npfd, timeout);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            perror("poll");
            return 1;
        }
        backoff = 0;

        for (i = 2; i < npfd; i++) {
            struct client *c = &clients[pfd_client[i]];

            if (pfds[i].revents == 0)
                continue;
            if (service_client(c, pfds[i].revents)) {
                nclients--;
                served++;
            }
        }
        if (pfds[1].revents & (POLLIN | POLLERR))
            service_udp(ufd);

        if (pfds[0].revents & POLLIN) {
            /* Accept everything that is waiting, up to the table's size. */
            while (nclients < max_clients) {
                int cfd = accept(lfd, NULL, NULL);

                if (cfd < 0) {
                    if (errno == EINTR || errno == ECONNABORTED)
                        continue;
                    if (errno == EAGAIN || errno == EWOULDBLOCK)
                        break;
                    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                        errno == ENOMEM) {
                        /* Out of descriptors: let the backlog wait a little. */
                        perror("accept");
                        backoff = 1;
                        break;
                    }
                    perror("accept");
                    return 1;
                }
                if (set_nonblocking(cfd) < 0) {
                    close(cfd);
                    continue;
                }
                for (i = 0; i < MAX_CLIENTS && clients[i].fd >= 0; i++)
                    ;
                clients[i].fd = cfd;
                clients[i].eof = 0;
                clients[i].off = clients[i].len = 0;
                nclients++;
            }
        }

        if (exit_after > 0 && served >= exit_after) {
            for (i = 0; i < MAX_CLIENTS; i++)
                if (clients[i].fd >= 0)
                    drop_client(&clients[i]);
            close(ufd);
            close(lfd);
            printf("served %ld\n", served);
            fflush(stdout);
            return 0;
        }
    }
}
