#!/bin/sh
# Install the Debian packages luatrace needs to build and test, if any is
# missing. Quick when everything is there (one dpkg-query).
set -e
# `deps.sh vm` adds what the kernel matrix (make test-vm) needs.
PKGS="gcc make pkg-config libbpf-dev libelf-dev zlib1g-dev libzstd-dev
libluajit2-5.1-dev clang llvm bpftool systemtap-sdt-dev linux-libc-dev
binutils util-linux procps libbpf-tools chromium prometheus python3 libedit-dev tmux bpftrace
e2fsprogs coreutils openssl"
if [ "${1:-}" = vm ]; then
	PKGS="qemu-system-x86 busybox-static cpio zstd xz-utils gzip"
elif [ "${1:-}" = bench ]; then
	PKGS="bpftrace python3-bpfcc"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
