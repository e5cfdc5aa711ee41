/*
 * driven_echo: the embedded bring-up of wolfip, run on Linux.
 *
 * No service thread: this program is the "driver task" of a port. It owns a
 * TAP device (standing in for a NIC), registers it with
 * wolfip_driver_register(), hands every received frame to wolfip_input(),
 * gives the time with wolfip_service() and sleeps until the next deadline
 * or frame. In the same loop it serves a UDP echo on port 7 with
 * non-blocking sockets, as a single-threaded firmware would.
 *
 *   driven_echo <tap-ifname> <ipv4/prefix> [--seconds N] [--exit-after K]
 *
 * The TAP interface must exist and be up (the test creates it).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <wolfip_bsd.h>

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int open_tap(const char *name) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The driver's transmit: one frame to the TAP; busy when the kernel says
 * so (the stack keeps the frame and retries). */
static int tap_transmit(void *ctx, const uint8_t *frame, size_t len) {
    int fd = *(int *)ctx;
    ssize_t n = write(fd, frame, len);
    return n == (ssize_t)len ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <tap> <ipv4/prefix> [--seconds N] [--exit-after K]\n", argv[0]);
        return 2;
    }
    int seconds = 20, exit_after = -1;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0)
            seconds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--exit-after") == 0)
            exit_after = atoi(argv[i + 1]);
    }
    static int tap;
    tap = open_tap(argv[1]);
    if (tap < 0) {
        perror("open tap");
        return 1;
    }
    if (wolfip_init_driven() < 0) {
        perror("wolfip_init_driven");
        return 1;
    }
    struct wolfip_driver drv = {
        .ctx = &tap,
        .transmit = tap_transmit,
        .mac = {0x02, 0x00, 0x5e, 0x00, 0x02, 0x02},
        .mtu = 1500,
    };
    int ifindex = wolfip_driver_register(&drv);
    if (ifindex < 0 || wolfip_if_config(ifindex, argv[2], NULL) < 0) {
        perror("driver");
        return 1;
    }
    int udp = wolfip_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(7)};
    if (udp < 0 || wolfip_bind(udp, (struct sockaddr *)&any, sizeof any) < 0) {
        perror("udp");
        return 1;
    }
    printf("ready %s\n", argv[2]);
    fflush(stdout);

    uint64_t end = now_us() + (uint64_t)seconds * 1000000u;
    int echoed = 0;
    static uint8_t frame[2048], data[2048];
    while (now_us() < end && (exit_after < 0 || echoed < exit_after)) {
        /* Receive path: every waiting frame goes to the stack. */
        for (int i = 0; i < 64; i++) {
            ssize_t n = read(tap, frame, sizeof frame);
            if (n <= 0)
                break;
            wolfip_input(ifindex, frame, (size_t)n);
        }
        /* Timers and transmission at our time. */
        int64_t next = wolfip_service(now_us());
        /* The application: echo every datagram. */
        for (;;) {
            struct sockaddr_in from;
            socklen_t flen = sizeof from;
            ssize_t n = wolfip_recvfrom(udp, data, sizeof data, 0, (struct sockaddr *)&from, &flen);
            if (n < 0)
                break;
            if (wolfip_sendto(udp, data, (size_t)n, 0, (struct sockaddr *)&from, flen) == n)
                echoed++;
        }
        next = wolfip_service(now_us());
        /* Sleep until a frame arrives or the stack's next deadline. */
        int timeout = 100;
        if (next >= 0) {
            int64_t left = (next - (int64_t)now_us() + 999) / 1000;
            timeout = left < 0 ? 0 : (left < 100 ? (int)left : 100);
        }
        struct pollfd p = {.fd = tap, .events = POLLIN};
        poll(&p, 1, timeout);
    }
    printf("echoed %d\n", echoed);
    return 0;
}
