/*
 * resolve: a wolfip program that takes its address and its DNS server from
 * DHCP, then resolves names with the POSIX calls (getaddrinfo,
 * freeaddrinfo, gai_strerror through <wolfip_posix.h>).
 *
 *   resolve <tap-ifname>
 *
 * Run by c-tests/tests/resolve.rs against dnsmasq on the Linux side of the
 * TAP. The program and the test talk in lines:
 *
 *   out: bound <address>/<netmask> router <r> dns <d> server <s> lease <secs>
 *   out: ok <name> <address> | ok <name> <EAI name> | FAIL <why>
 *   out: kill-dns                 (the test stops dnsmasq, then answers)
 *   in:  killed
 *   out: ok late.test EAI_AGAIN <ms> ms
 *   out: done <failures>
 *
 * Exit status 0 when every check passed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <wolfip_posix.h>

/* The codes come from the system's <netdb.h> at compile time: the library
 * returns glibc's values. */
_Static_assert(EAI_NONAME == -2, "glibc's EAI_NONAME");
_Static_assert(EAI_AGAIN == -3, "glibc's EAI_AGAIN");
_Static_assert(EAI_NODATA == -5, "glibc's EAI_NODATA");

static int failures;

static const char *eai_name(int rc)
{
    switch (rc) {
    case 0: return "0";
    case EAI_NONAME: return "EAI_NONAME";
    case EAI_AGAIN: return "EAI_AGAIN";
    case EAI_FAIL: return "EAI_FAIL";
    case EAI_NODATA: return "EAI_NODATA";
    case EAI_MEMORY: return "EAI_MEMORY";
    case EAI_SERVICE: return "EAI_SERVICE";
    case EAI_SYSTEM: return "EAI_SYSTEM";
    default: return "EAI_?";
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(const char *fmt, const char *a, const char *b)
{
    printf("FAIL ");
    printf(fmt, a, b);
    printf("\n");
    fflush(stdout);
    failures++;
}

/* Resolves `name` for TCP port 80 and expects exactly one address,
 * `want`. */
static void expect_address(const char *name, const char *want)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_CANONNAME;
    int rc = getaddrinfo(name, "80", &hints, &res);
    if (rc != 0) {
        fail("%s: getaddrinfo: %s", name, gai_strerror(rc));
        return;
    }
    char got[INET_ADDRSTRLEN] = "";
    int n = 0;
    for (struct addrinfo *p = res; p != NULL; p = p->ai_next) {
        n++;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)p->ai_addr;
        if (p->ai_family != AF_INET || p->ai_socktype != SOCK_STREAM ||
            p->ai_protocol != IPPROTO_TCP || ntohs(sin->sin_port) != 80)
            fail("%s: unexpected entry%s", name, "");
        inet_ntop(AF_INET, &sin->sin_addr, got, sizeof got);
    }
    if (n != 1)
        fail("%s: %s entries", name, n == 0 ? "no" : "several");
    else if (strcmp(got, want) != 0)
        fail("%s: got %s", name, got);
    else if (res->ai_canonname == NULL || strcmp(res->ai_canonname, name) != 0)
        fail("%s: canonical name %s", name,
             res->ai_canonname ? res->ai_canonname : "(null)");
    else {
        printf("ok %s %s\n", name, got);
        fflush(stdout);
    }
    freeaddrinfo(res);
}

/* Resolves `name` and expects the failure `want`; returns the time it
 * took in milliseconds. */
static long long expect_error(const char *name, int want)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    long long t0 = now_ms();
    int rc = getaddrinfo(name, NULL, &hints, &res);
    long long took = now_ms() - t0;
    if (rc == 0) {
        freeaddrinfo(res);
        fail("%s: resolved, expected %s", name, eai_name(want));
    } else if (rc != want) {
        fail("%s: %s", name, gai_strerror(rc));
    } else {
        printf("ok %s %s (%s) %lld ms\n", name, eai_name(rc), gai_strerror(rc), took);
        fflush(stdout);
    }
    return took;
}

static const char *ip(struct in_addr a, char *buf)
{
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <tap-ifname>\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (wolfip_init() < 0) {
        perror("wolfip_init");
        return 1;
    }
    /* No address: DHCP gives it. */
    int ifindex = wolfip_tap_attach(argv[1], NULL, NULL);
    if (ifindex < 0) {
        perror("wolfip_tap_attach");
        return 1;
    }
    if (wolfip_dhcp_start(ifindex, "wolfip-resolve") < 0) {
        perror("wolfip_dhcp_start");
        return 1;
    }
    struct wolfip_dhcp_lease lease;
    if (wolfip_dhcp_wait(ifindex, 60000, &lease) < 0) {
        printf("FAIL dhcp: %s\n", strerror(errno));
        return 1;
    }
    char a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN],
        s[INET_ADDRSTRLEN];
    printf("bound %s/%s router %s dns %s server %s lease %u\n", ip(lease.address, a),
           ip(lease.netmask, m), ip(lease.router, r), ip(lease.dns[0], d),
           ip(lease.server, s), lease.lease_secs);
    struct wolfip_dhcp_lease again;
    if (wolfip_dhcp_lease(ifindex, &again) < 0 ||
        again.address.s_addr != lease.address.s_addr)
        fail("wolfip_dhcp_lease: %s%s", strerror(errno), "");

    /* A name of the hosts file, a CNAME to another, an unknown name, a
     * name with only an IPv6 address. */
    expect_address("printer.test", "203.0.113.10");
    expect_address("www.test", "203.0.113.11");
    expect_error("nosuch.test", EAI_NONAME);
    expect_error("v6only.test", EAI_NODATA);

    /* Now without a server: the test kills dnsmasq. */
    printf("kill-dns\n");
    fflush(stdout);
    char line[64];
    if (fgets(line, sizeof line, stdin) == NULL || strncmp(line, "killed", 6) != 0) {
        printf("FAIL no `killed` line\n");
        return 1;
    }
    expect_error("late.test", EAI_AGAIN);

    printf("done %d\n", failures);
    return failures == 0 ? 0 : 1;
}
