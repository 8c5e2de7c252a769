#!/usr/bin/env bash
# Install Debian packages quietly (apt-get update, then install without recommends),
# through sudo when not root. Prints apt's output only when it fails. Sourced by the
# .ci/*.sh scripts:   . "$(dirname "$0")/apt-install.sh"; apt_install PACKAGE...
as_root() {  # run a command as root: directly when root, else through sudo
    if [ "$(id -u)" -ne 0 ]; then sudo "$@"; else "$@"; fi
}

apt_install() {
    local log
    log=$(mktemp)
    if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
           as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
               --no-install-recommends "$@"; } > "$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}
