#!/usr/bin/env bash
# bench/kheaders.sh DIR: kernel headers for BCC, which compiles against them
# at run time. This kernel ships none, so take Debian's current cloud
# kernel headers (apt-get download, never installed) and merge the arch and
# common packages into one tree (what BCC_KERNEL_SOURCE wants). Prints the
# tree's path; cached in DIR.
set -euo pipefail
dir=$1
if [ -f "$dir/tree/include/linux/kconfig.h" ]; then echo "$dir/tree"; exit 0; fi
mkdir -p "$dir" && cd "$dir"
ver=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ {print $2; exit}' | sed 's/^linux-image-//; s/-amd64$//')
[ -n "$ver" ] || { echo "no kernel version found in apt" >&2; exit 1; }
kbuild=linux-kbuild-$(echo "$ver" | cut -d. -f1,2)
rm -rf pkgs tree && mkdir pkgs
(cd pkgs && apt-get download "linux-headers-$ver-cloud-amd64" "linux-headers-$ver-common" "$kbuild" >/dev/null 2>&1) ||
	{ echo "cannot fetch linux-headers-$ver-cloud-amd64" >&2; exit 1; }
for d in pkgs/*.deb; do dpkg -x "$d" root; done
cp -a "root/usr/src/linux-headers-$ver-common" tree
cp -a "root/usr/src/linux-headers-$ver-cloud-amd64/." tree/
rm -f tree/scripts && cp -a "root/usr/lib/$kbuild/scripts" tree/scripts
rm -rf pkgs root
echo "$dir/tree"
