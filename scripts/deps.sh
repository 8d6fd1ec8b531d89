#!/bin/sh
# deps.sh PKG... -- makes sure the named Debian packages are installed, installing the
# missing ones with apt-get (as root, or through sudo when it needs no password).
# The build calls it, so a fresh Debian 12 machine needs nothing done by hand.
missing=""
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "heapkit: installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
else
    echo "heapkit: please install:$missing (sudo apt-get install -y$missing)" >&2
    exit 1
fi
