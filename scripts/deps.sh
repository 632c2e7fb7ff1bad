#!/bin/sh
# Installs the Debian packages tally needs to build, test, bench and demo.
# Idempotent and quiet when everything is present; never touches anything
# else. Runs apt-get as root, or through sudo for a developer.
set -eu

PKGS="make gcc pkg-config libc6-dev
libzmq3-dev libprotobuf-c-dev protobuf-c-compiler
libssl-dev openssl libsqlite3-dev sqlite3 libjansson-dev libmicrohttpd-dev
libcmocka-dev clang libclang-rt-14-dev
unzip tcpdump procps psmisc ca-certificates python3"

# Opt-in: the browser test of the broker's status page
# (tests/integration/http_chromium.sh; skipped without chromium).
if [ "${TALLY_BROWSER_TESTS:-0}" = 1 ]; then
	PKGS="$PKGS chromium"
fi

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	"install ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
