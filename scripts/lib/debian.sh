# shellcheck shell=bash
# Shared by the scripts in scripts/ (sourced; defines functions only): running a command as
# root, installing Debian's packages when a tool is missing, and a free local port.

# Runs a command as root: directly, through sudo when available, or not at all.
as_root() {
    if [[ "$(id -u)" == 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo -n "$@"
    else
        echo "need root (or sudo) for: $*" >&2
        return 1
    fi
}

# apt_install PACKAGE...: installs Debian's packages (the package lists are updated first,
# once per shell).
apt_install() {
    echo "installing from Debian: $*" >&2
    if [[ -z "${luukku_apt_updated:-}" ]]; then
        as_root apt-get update -qq || return 1
        luukku_apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Prints a TCP port that is free on 127.0.0.1 now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
