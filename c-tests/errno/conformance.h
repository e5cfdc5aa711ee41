/*
 * The C errno conformance suite: one program, written against POSIX (plus
 * accept4 and POLLRDHUP from Linux), that runs its cases in sequence and
 * prints one line per case:
 *
 *   <case-id> <call> ret=<R> errno=<NAME> [extra fields]
 *
 * R is the return value, a valid descriptor printed as "fd". errno is the
 * symbolic name ("-" when errno is 0; it is reset before every call).
 * Nothing printed depends on descriptor numbers, port numbers, pointers,
 * timings or kernel tuning.
 *
 * Built twice: against Linux, and with -DWOLFIP against the wolfip BSD
 * layer (wolfip_posix.h maps the socket calls onto wolfip_*()). The
 * comparison of the two outputs is c-tests/tests/errno_conformance.rs.
 */
#ifndef CONFORMANCE_H
#define CONFORMANCE_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifdef WOLFIP
#include <wolfip_posix.h> /* maps socket(), poll(), close(), ... onto wolfip_*() */
#endif

/* ---- calling and reporting (main.c) ---------------------------------- */

/* The result of the last CALL: return value and errno right after it. */
extern long g_ret;
extern int g_err;

/* Runs expr with errno reset to 0 and records its result and errno. */
#define CALL(expr) ((void)(errno = 0, g_ret = (long)(expr), g_err = errno))

/* Prints "<id> <call> ret=<g_ret> errno=<g_err>" plus the optional extra
 * fields (printf format). rep_fd prints a non-negative result as "fd". */
void rep(const char *id, const char *call, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rep_fd(const char *id, const char *call, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* CALL + rep / rep_fd without extra fields. */
#define R(id, call, expr) (CALL(expr), rep(id, call, NULL))
#define RFD(id, call, expr) (CALL(expr), rep_fd(id, call, NULL))

/* A scenario could not set itself up: prints "<id> SETUP-FAILED <what>
 * errno=<errno>" (the one line of the scenario) and the scenario returns. */
void setup_failed(const char *id, const char *what);
#define NEED(id, cond)                                                         \
    do {                                                                       \
        if (!(cond)) {                                                         \
            setup_failed(id, #cond);                                           \
            return;                                                            \
        }                                                                      \
    } while (0)

const char *errname(int e);
/* Symbolic poll flags, "IN|OUT|ERR|HUP" in a fixed order, or "0". */
const char *evname(int revents);
/* Symbolic F_GETFL flags ("RDWR|NONBLOCK"); other bits in hex. */
const char *flname(long flags);
/* "addr=127.0.0.1 port=nonzero" (0.0.0.0, 127.0.0.1 and 192.0.2.1 by
 * name, any other address as "other"; "family=N" if not AF_INET). */
const char *addrname(const struct sockaddr_in *a);
/* "ok" when the n bytes at p are the pattern written by fill(), or "bad". */
const char *dataok(const void *p, long n, long expect);
void fill(void *p, size_t n);

/* ---- helpers (main.c) -------------------------------------------------- */

/* A fresh port for every use (from 20000 up), so TIME-WAIT never meets a
 * later case. */
int next_port(void);
struct sockaddr_in sa(const char *ip, int port);
#define SA(p) ((struct sockaddr *)(p))

/* Descriptors opened by helpers are tracked and closed (abortively, so no
 * TIME-WAIT piles up) by cleanup() after every scenario. */
int track(int fd);
void untrack(int fd);
void cleanup(void);
/* close() + untrack; returns close's result (errno kept). */
int xclose(int fd);

int tcp(void);
int udp(void);
int tcp_nb(void);
/* A TCP socket with SO_SNDTIMEO and SO_RCVTIMEO 1 s: the safety net of
 * the blocking calls made to set up a case (connect, accept, recv), so a
 * call that blocks where Linux's does not ends after a second instead of
 * hanging the run. pair() and listener() use them too. */
int tcp_to(void);
/* A TCP listener on 127.0.0.1:port (backlog 8, SO_RCVTIMEO 1 s), or -1. */
int listener(int port);
/* A UDP socket bound to 127.0.0.1:port, or -1. */
int udp_bound(int port);
/* An established loopback pair (client, accepted server side), both with
 * SO_SNDTIMEO and SO_RCVTIMEO 1 s; the listener is closed again. 0 or -1. */
int pair(int *cli, int *srv);
/* A non-blocking socket in SYN_SENT towards 192.0.2.99 (nobody answers). */
int syn_sent(void);
/* Polls fd (IN|OUT|RDHUP|PRI) every few ms until all of want is set, at
 * most ms milliseconds; returns 0 when it is, -1 on timeout. */
int wait_ev(int fd, int want, int ms);
/* Sets SO_LINGER {1,0} and closes: the peer gets a RST. */
int abort_close(int fd);
int set_int(int fd, int level, int name, int val);
int get_int(int fd, int level, int name);
int set_nonblock(int fd, int on);
int set_rcvtimeo(int fd, int ms);
/* SO_SNDTIMEO and SO_RCVTIMEO. */
int set_timeouts(int fd, int ms);
void msleep(int ms);
long now_ms(void);
/* Sets one pollfd and polls it. */
int poll1(int fd, short events, int timeout, short *revents);

/* Runs one scenario function, then cleanup(). */
#define RUN(fn) (fn(), cleanup())

/* ---- the groups ------------------------------------------------------- */
void group_socket(void);
void group_badfd(void);
void group_bind(void);
void group_listen_accept(void);
void group_connect(void);
void group_tcp_io(void);
void group_udp(void);
void group_shutdown(void);
void group_options(void);
void group_names_fcntl(void);
void group_poll(void);
void group_select(void);
void group_threads(void);

#endif
