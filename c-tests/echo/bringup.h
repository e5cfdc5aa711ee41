/*
 * bringup.h: the two lines a program adds to run on wolfip, shared by the
 * echo server and client. With -DWOLFIP: start the stack and attach the TAP
 * given by --tap with the address given by --cidr; without it, refuse those
 * options (a Linux build uses the kernel's sockets).
 *
 * Returns 0 when the program may go on, else the exit status to use.
 */
#ifndef ECHO_BRINGUP_H
#define ECHO_BRINGUP_H

#include <stdio.h>

static int echo_bringup(const char *prog, const char *tap, const char *cidr)
{
#ifdef WOLFIP
    if (tap == NULL || cidr == NULL) {
        fprintf(stderr, "%s: --tap and --cidr are required (wolfip build)\n", prog);
        return 2;
    }
    if (wolfip_init() < 0) {
        perror("wolfip_init");
        return 1;
    }
    if (wolfip_tap_attach(tap, cidr, NULL) < 0) {
        perror("wolfip_tap_attach");
        return 1;
    }
#else
    if (tap != NULL || cidr != NULL) {
        fprintf(stderr, "%s: --tap/--cidr need a wolfip build (-DWOLFIP)\n", prog);
        return 2;
    }
#endif
    return 0;
}

#endif /* ECHO_BRINGUP_H */
