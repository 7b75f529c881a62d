#!/usr/bin/env bash
# tests/vm/run.sh: the kernel matrix. Boots Debian's stock kernels in qemu
# (TCG) with an initramfs holding the real luatrace, its libraries, the AOT
# and test objects, the test runner and a compile cache filled on this host
# for each guest kernel (the guest has no clang), and runs tests/vm/cases
# there: kprobes, kretprobes, fentry, fexit for real.
#
# Kernel packages are fetched with apt-get download (never installed) and
# cached in build/vm/kernels with their extracted vmlinux. If a package
# cannot be fetched, that kernel is reported as skipped with the reason.
# Ends with one line "N passed, N failed, N skipped" over all kernels.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
LT=$ROOT/build/luatrace
VM=$ROOT/build/vm
KCACHE=${LUATRACE_VM_KERNELS:-$VM/kernels}
TIMEOUT=${LUATRACE_VM_TIMEOUT:-600}
mkdir -p "$VM" "$KCACHE"

passed=0 failed=0 skipped=0
t_all=$(date +%s)

note() { echo "vm: $*"; }

# The current package names, resolved from apt (no ABI number hard-coded).
resolve_kernels() {
	if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
		apt-get update -qq >/dev/null 2>&1 || true
	fi
	local k61 k612
	k61=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	k612=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1)
	echo "${LUATRACE_VM_PACKAGES:-$k61 $k612}"
}

# fetch PKG -> prints the path of its extracted vmlinux, or fails
fetch_kernel() {
	local pkg=$1 dir=$KCACHE/$1
	if [ -s "$dir/vmlinux" ]; then echo "$dir/vmlinux"; return 0; fi
	mkdir -p "$dir"
	(cd "$dir" && apt-get download "$pkg" >download.log 2>&1) || {
		echo "cannot fetch kernel package $pkg: $(tail -n 1 "$dir/download.log")" >&2
		return 1
	}
	local deb
	deb=$(ls "$dir"/*.deb | head -n 1)
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" ./boot || return 1
	rm -f "$deb"
	"$LT" tests/vm/extract_vmlinux.lua "$dir"/boot/vmlinuz-* "$dir/vmlinux" >&2 || return 1
	echo "$dir/vmlinux"
}

# copy a binary's shared libraries (and the loader) into the staging root
copy_libs() {
	local bin=$1 root=$2
	ldd "$bin" | awk '/=> \// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

build_initramfs() {
	local out=$1 cache=$2 stage
	stage=$(mktemp -d "$VM/stage.XXXXXX")
	mkdir -p "$stage"/{bin,proc,sys,dev,tmp,root,lt/build/tests,lt/build/bpf,lt/tests}
	cp /bin/busybox "$stage/bin/busybox"
	for a in sh mount mkdir cat echo poweroff ip sleep ls uname grep rm; do
		ln -s busybox "$stage/bin/$a"
	done
	cp "$LT" "$stage/lt/build/luatrace"
	cp build/tests/* "$stage/lt/build/tests/"
	cp build/bpf/*.bpf.o "$stage/lt/build/bpf/"
	cp -r tests/run.lua tests/helpers.lua tests/vm "$stage/lt/tests/"
	# Debian's bpftrace tools, run unchanged by cases/bt_tools.lua
	mkdir -p "$stage/usr/sbin" && cp /usr/sbin/*.bt "$stage/usr/sbin/" 2>/dev/null || true
	# Debian's libbpf-tools oomkill, run beside ours by cases/tools_mem.lua
	if [ -x /usr/sbin/oomkill ]; then
		cp /usr/sbin/oomkill "$stage/usr/sbin/" && copy_libs /usr/sbin/oomkill "$stage"
	fi
	copy_libs "$LT" "$stage"
	copy_libs build/tests/lt_target "$stage"
	cp -a "$cache" "$stage/cache"
	chmod 700 "$stage/cache"
	cat >"$stage/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs tracefs /sys/kernel/tracing
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t tmpfs tmpfs /tmp
ip link set lo up
echo "vm-kernel: $(uname -r)"
cd /lt
HOME=/root LUATRACE_CACHE_DIR=/cache LUATRACE_CLANG=/nonexistent/clang \
	./build/luatrace tests/run.lua --vm
echo "vm-exit: $?"
poweroff -f
INIT
	chmod 755 "$stage/init"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$stage"
}

# qemu with KVM only when it can run a stock kernel (not kvm_pvm)
accel() {
	if [ -e /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && grep -qE 'vmx|svm' /proc/cpuinfo; then
		echo "-accel kvm -cpu host"
	else
		echo "-accel tcg -cpu qemu64"
	fi
}

pkgs=$(resolve_kernels)
if [ -z "${pkgs// /}" ]; then
	note "skipped: no kernel package found in apt (apt-cache has no linux-image-amd64)"
	skipped=$((skipped + 1))
fi
for pkg in $pkgs; do
	t0=$(date +%s)
	if ! vmlinux=$(fetch_kernel "$pkg" 2>"$VM/$pkg.fetch.log"); then
		note "$pkg: skipped: $(tail -n 1 "$VM/$pkg.fetch.log")"
		skipped=$((skipped + 1))
		continue
	fi
	work=$VM/$pkg
	rm -rf "$work" && mkdir -p "$work"
	# the guest's programs, compiled here against the guest kernel's BTF
	if ! "$LT" tests/vm/precompile.lua --btf "$vmlinux" --cache "$work/cache" --fentry >"$work/precompile.log" 2>&1; then
		note "$pkg: precompiling failed: $(tail -n 1 "$work/precompile.log")"
		failed=$((failed + 1))
		continue
	fi
	build_initramfs "$work/initramfs.gz" "$work/cache"
	# shellcheck disable=SC2046
	timeout --kill-after=5 "$TIMEOUT" qemu-system-x86_64 $(accel) -m 1G -smp 1 \
		-nodefaults -display none -serial stdio -no-reboot \
		-kernel "$vmlinux" -initrd "$work/initramfs.gz" \
		-append 'console=ttyS0 panic=-1 quiet mitigations=off' \
		</dev/null >"$work/console.log" 2>&1
	qrc=$?
	tr -d '\r' <"$work/console.log" | grep -aE '^(ok|FAIL|skip|      |vm-)' | sed "s/^/  [$pkg] /"
	summary=$(tr -d '\r' <"$work/console.log" | grep -aE '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	secs=$(($(date +%s) - t0))
	if [ -z "$summary" ]; then
		note "$pkg: no result from the guest (qemu exit $qrc, see $work/console.log)"
		failed=$((failed + 1))
		continue
	fi
	note "$pkg: $summary (${secs}s)"
	read -r p f s <<<"$(echo "$summary" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/')"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
done

note "total time $(($(date +%s) - t_all))s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
