#!/usr/bin/env bash
# Installs the Debian tools that the interoperability tests drive from the
# Linux side (examples/tests/, tap/tests/, c-tests/): ip, ping, socat,
# tshark, tcpdump, nc, and the C toolchain the C tests build with (gcc,
# libc headers, pkg-config), dnsmasq (DHCP and DNS server), the servers
# the Rust clients of embedded-nal-adapter/interop talk to (mosquitto,
# libcoap3-bin, chrony, lighttpd) and the attack tools of the hostile
# tests (nmap, hping3, scapy). Packages already installed are left alone; when everything is present
# nothing is downloaded.
#
#   bash .ci/install-deps.sh           # as root: install what is missing
#   bash .ci/install-deps.sh --check   # anyone: only report what is missing
#
# Exit status: 0 when every tool is (now) present; 1 when something is
# missing and could not be installed (not root, no apt-get, --check).
set -euo pipefail

# Debian package -> a command it provides (how presence is checked when
# dpkg-query cannot tell, e.g. on a non-Debian host).
packages=(iproute2 iputils-ping socat tshark tcpdump netcat-openbsd gcc libc6-dev pkg-config dnsmasq-base
          mosquitto mosquitto-clients libcoap3-bin chrony lighttpd nmap hping3 python3-scapy)
declare -A command_of=(
    [iproute2]=ip
    [iputils-ping]=ping
    [socat]=socat
    [tshark]=tshark
    [tcpdump]=tcpdump
    [netcat-openbsd]=nc
    [gcc]=gcc
    [libc6-dev]=gcc
    [pkg-config]=pkg-config
    [dnsmasq-base]=dnsmasq
    [mosquitto]=mosquitto
    [mosquitto-clients]=mosquitto_pub
    [libcoap3-bin]=coap-client-notls
    [chrony]=chronyd
    [lighttpd]=lighttpd
    [nmap]=nmap
    [hping3]=hping3
)
# Packages that provide no command of their own: a shell command that
# succeeds when the package is usable (Debian's python3-* modules live in
# the system interpreter, /usr/bin/python3, not a pyenv shim on PATH).
declare -A probe_of=(
    [python3-scapy]="/usr/bin/python3 -c 'import scapy'"
)

check_only=false
case "${1:-}" in
    --check) check_only=true ;;
    "") ;;
    *)
        echo "usage: bash .ci/install-deps.sh [--check]" >&2
        exit 2
        ;;
esac

installed() {
    local pkg=$1
    if command -v dpkg-query >/dev/null 2>&1; then
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'
    elif [ -n "${probe_of[$pkg]:-}" ]; then
        sh -c "${probe_of[$pkg]}" >/dev/null 2>&1
    else
        command -v "${command_of[$pkg]}" >/dev/null 2>&1
    fi
}

missing=()
for pkg in "${packages[@]}"; do
    if ! installed "$pkg"; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all present (${packages[*]})"
    exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if $check_only; then
    echo "install-deps: install them with: sudo bash .ci/install-deps.sh"
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: not root; run: sudo bash .ci/install-deps.sh" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: apt-get not found; install the equivalents of: ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# The servers (mosquitto, chrony, lighttpd) must not start as system
# services on the host: the tests start their own, inside namespaces. A
# policy-rc.d that denies every start (exit 101, see invoke-rc.d(8)) is in
# place for the install only, unless the host already has one.
own_policy=false
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=true
fi
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
if $own_policy; then
    rm -f /usr/sbin/policy-rc.d
fi

still=()
for pkg in "${missing[@]}"; do
    if ! installed "$pkg"; then
        still+=("$pkg")
    fi
done
if [ ${#still[@]} -ne 0 ]; then
    echo "install-deps: still missing after apt-get: ${still[*]}" >&2
    exit 1
fi
echo "install-deps: installed ${missing[*]}"
