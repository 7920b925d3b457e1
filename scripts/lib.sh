# SPDX-License-Identifier: GPL-2.0
# Common paths for the ioasid scripts; sourced, never run.
#
# IOASID_CACHE holds everything built or downloaded outside the repository:
# the resolved kernel version, the extracted Debian packages, the unpacked
# linux-source tree and the project kernels (keyed by version, flavour and
# config hash). Override it to keep several caches side by side.

IOASID_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IOASID_CACHE=${IOASID_CACHE:-/var/cache/ioasid}
IOASID_ENV=$IOASID_CACHE/current.env

die() { echo "ioasid: $*" >&2; exit 1; }
log() { echo "ioasid: $*" >&2; }

# Load what scripts/setup resolved: KVER_DEB (Debian version), KVER (upstream),
# KABI (e.g. 6.12.117+deb12), KREL (uname -r of the stock kernel), STOCK_ROOT,
# STOCK_KDIR, STOCK_IMAGE, STOCK_MODDIR (its lib/modules/<KREL>), KSRC (pristine
# unpacked linux-source).
load_env() {
	[ -r "$IOASID_ENV" ] || die "no $IOASID_ENV: run scripts/setup first"
	# shellcheck disable=SC1090
	. "$IOASID_ENV"
}

# Directory of a project kernel build for a flavour (debug|perf).
kernel_build_dir() {
	local flavour=$1 hash
	hash=$(cat "$IOASID_TOP/scripts/kconfig/base.config" \
		"$IOASID_TOP/scripts/kconfig/$flavour.config" \
		"$IOASID_TOP/scripts/build-kernel" | sha256sum | cut -c1-12)
	echo "$IOASID_CACHE/kernel-$KVER-$flavour-$hash"
}

# Module tree (lib/modules/<release>) of a project kernel build directory.
kernel_modtree() {
	echo "$1/modroot/lib/modules/$(cat "$1/include/config/kernel.release")"
}

# The package names of scripts/packages (with /SUITE where it says so).
pkg_list() {
	sed -e 's/#.*//' "$IOASID_TOP/scripts/packages" | awk 'NF { print $1 }'
}

# Check that every command scripts/packages names is there; name the package
# of each one that is not. Returns non-zero if any is missing.
check_tools() {
	local rc=0 pkg cmd
	file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
		{ log "/bin/busybox (static) is missing: install busybox-static (scripts/setup does)"; rc=1; }
	while read -r pkg cmds; do
		for cmd in $cmds; do
			PATH=$PATH:/sbin:/usr/sbin command -v "$cmd" >/dev/null 2>&1 && continue
			log "$cmd not found: install ${pkg%%/*} (scripts/setup does, as root)"
			rc=1
		done
	done < <(sed -e 's/#.*//' "$IOASID_TOP/scripts/packages" | awk 'NF')
	return $rc
}

# The Debian mirror this machine's apt already uses for bookworm.
debian_mirror() {
	local uri
	uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$uri" ] && echo "$uri"
}
