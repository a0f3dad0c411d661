#!/bin/sh
# The released promobot binaries the GitHub Action (action.yml) may run
# instead of building promobot from source. They are pinned in
# action-binaries.txt, one line each:
#
#   VERSION SOURCE-SHA256 OS/ARCH BINARY-SHA256
#
# The Action runs a release's binary only when its own source is exactly the
# source that release was built from (SOURCE-SHA256, the digest below) and
# the downloaded file's sha256 is BINARY-SHA256. A checksum published next
# to the binary would prove nothing: the pin lives in the commit the user
# pins.
#
#   action-binaries.sh digest               the source digest of this checkout
#   action-binaries.sh lookup OS/ARCH       "VERSION SHA256" of the release built
#                                           from this source for OS/ARCH, or nothing
#   action-binaries.sh sha256 FILE          the sha256 of FILE
#   action-binaries.sh pin VERSION DIR      pin DIR/promobot_VERSION_OS_ARCH as release
#                                           VERSION (make pins, before the tag is pushed)
#   action-binaries.sh check VERSION DIR    fail unless DIR holds exactly the binaries
#                                           pinned for VERSION, built from this source
#
# ACTION_BINARIES_FILE names another pin file (for tests). POSIX sh: it runs
# on the Linux and macOS runners without Go.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
pins=${ACTION_BINARIES_FILE:-$root/action-binaries.txt}

die() {
	echo "action-binaries: $*" >&2
	exit 1
}

# sha256sum on Linux, shasum on macOS: both print "SHA256  NAME".
if command -v sha256sum >/dev/null 2>&1; then
	sha256="sha256sum"
else
	sha256="shasum -a 256"
fi

# file_sha256 prints the sha256 of one file.
file_sha256() {
	[ -f "$1" ] || die "no file $1"
	sum=$($sha256 "$1" | cut -d' ' -f1)
	check_hex "$sum" "sha256 of $1"
	echo "$sum"
}

check_hex() {
	case "$1" in
	*[!0-9a-f]*) die "$2 is not a sha256: '$1'" ;;
	esac
	[ "${#1}" -eq 64 ] || die "$2 is not a sha256: '$1'"
}

check_version() {
	case "$1" in
	v[0-9]*.[0-9]*.[0-9]*) ;;
	*) die "version '$1' is not vMAJOR.MINOR.PATCH" ;;
	esac
	case "$1" in
	*[!0-9A-Za-z.-]*) die "version '$1' holds a character other than letters, digits, '.' and '-'" ;;
	esac
}

# The files `go build ./cmd/promobot` can read from this repository: the
# module files and every file of cmd/, internal/ and schemas/ but tests and
# test data. Their list (sorted bytewise) and contents make the digest, so
# any change to the source, and nothing else, changes it.
sources() {
	cd "$root"
	find go.mod go.sum cmd internal schemas -type f ! -name '*_test.go' ! -path '*/testdata/*' | LC_ALL=C sort
}

digest() {
	list=$(sources)
	[ -n "$list" ] || die "no source files under $root"
	# $sha256 is a command and its arguments: split on purpose.
	# shellcheck disable=SC2086
	sum=$(cd "$root" && echo "$list" | tr '\n' '\0' | xargs -0 $sha256 | $sha256 | cut -d' ' -f1)
	check_hex "$sum" "the source digest"
	echo "$sum"
}

# entries prints the pinned lines, comments and blank lines left out, and
# fails on a line that is not VERSION SOURCE-SHA256 OS/ARCH BINARY-SHA256.
entries() {
	[ -f "$pins" ] || die "no pin file $pins"
	awk -v file="$pins" '
		function hex(s) { return length(s) == 64 && s !~ /[^0-9a-f]/ }
		/^[ \t]*(#|$)/ { next }
		NF != 4 || $1 !~ /^v[0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.-]*$/ || !hex($2) ||
		$3 !~ /^[a-z0-9]+\/[a-z0-9]+$/ || !hex($4) {
			printf "action-binaries: %s:%d: want VERSION SOURCE-SHA256 OS/ARCH BINARY-SHA256, not: %s\n", file, NR, $0 > "/dev/stderr"
			bad = 1
			next
		}
		{ print }
		END { exit bad }
	' "$pins"
}

lookup() {
	platform=$1
	list=$(entries)
	source=$(digest)
	# The last line wins: a version re-tagged from the same source is as
	# good as the first.
	echo "$list" | awk -v source="$source" -v platform="$platform" '
		$2 == source && $3 == platform { version = $1; sum = $4 }
		END { if (version != "") print version, sum }
	'
}

# binaries lists DIR/promobot_VERSION_OS_ARCH, leaving out other files
# (SHA256SUMS, SBOMs).
binaries() {
	for f in "$2"/promobot_"$1"_*; do
		[ -f "$f" ] || continue
		platform=${f##*/promobot_"$1"_}
		case "$platform" in
		*_*_* | *.* | *[!a-z0-9_]*) continue ;;
		*_*) echo "$f ${platform%%_*}/${platform#*_}" ;;
		esac
	done
}

pin() {
	version=$1 dir=$2
	check_version "$version"
	if command -v git >/dev/null 2>&1 && git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
		untracked=$(cd "$root" && git ls-files --others -- go.mod go.sum cmd internal schemas | { grep -v -e '_test\.go$' -e '/testdata/' || true; })
		[ -z "$untracked" ] || die "files git does not track would be part of the source digest; remove them first:
$untracked"
	fi
	list=$(entries)
	source=$(digest)
	found=$(binaries "$version" "$dir")
	[ -n "$found" ] || die "no binaries promobot_${version}_OS_ARCH in $dir: run make dist VERSION=$version first"
	tmp="$pins.new"
	{
		grep -E '^[[:space:]]*(#|$)' "$pins" || true
		echo "$list" | awk -v version="$version" 'NF && $1 != version'
		echo "$found" | while read -r f platform; do
			echo "$version $source $platform $(file_sha256 "$f")"
		done
	} >"$tmp"
	mv "$tmp" "$pins"
	echo "$found" | while read -r f platform; do
		echo "pinned $version $platform"
	done
}

check() {
	version=$1 dir=$2
	check_version "$version"
	list=$(entries)
	source=$(digest)
	found=$(binaries "$version" "$dir")
	[ -n "$found" ] || die "no binaries promobot_${version}_OS_ARCH in $dir"
	pinned=$(echo "$list" | awk -v version="$version" '$1 == version')
	[ -n "$pinned" ] || die "$pins pins no binaries for $version: run make dist pins VERSION=$version and commit the result before tagging"
	failed=0
	echo "$pinned" | awk '{ print $2, $3, $4 }' | {
		while read -r pinned_source platform sum; do
			f=$dir/promobot_${version}_${platform%/*}_${platform#*/}
			if [ "$pinned_source" != "$source" ]; then
				echo "action-binaries: $version $platform was pinned for source $pinned_source, but this checkout's source is $source" >&2
				failed=1
			elif [ ! -f "$f" ]; then
				echo "action-binaries: $version $platform is pinned, but $f was not built" >&2
				failed=1
			elif [ "$(file_sha256 "$f")" != "$sum" ]; then
				echo "action-binaries: $f has sha256 $(file_sha256 "$f"), but $version $platform is pinned to $sum: the build is not the one pinned" >&2
				failed=1
			else
				echo "ok $version $platform $sum"
			fi
		done
		exit "$failed"
	} || failed=1
	echo "$found" | while read -r f platform; do
		echo "$pinned" | awk -v platform="$platform" '$3 == platform { found = 1 } END { exit !found }' ||
			die "$f is not pinned for $version: the Action would build from source on $platform"
	done || failed=1
	[ "$failed" -eq 0 ] || exit 1
}

case "${1:-}" in
digest) [ $# -eq 1 ] || die "usage: $0 digest"; digest ;;
lookup) [ $# -eq 2 ] || die "usage: $0 lookup OS/ARCH"; lookup "$2" ;;
sha256) [ $# -eq 2 ] || die "usage: $0 sha256 FILE"; file_sha256 "$2" ;;
pin) [ $# -eq 3 ] || die "usage: $0 pin VERSION DIR"; pin "$2" "$3" ;;
check) [ $# -eq 3 ] || die "usage: $0 check VERSION DIR"; check "$2" "$3" ;;
*) die "usage: $0 digest | lookup OS/ARCH | sha256 FILE | pin VERSION DIR | check VERSION DIR" ;;
esac
