# Sourced by the scripts that install Debian packages: install_packages PKG...
# installs the given packages quietly (with sudo when not root), logging to
# /tmp/earlywarn-apt.log and showing its tail on failure. No-op without packages.
install_packages() {
  (($#)) || return 0
  echo "installing $* (Debian packages)" >&2
  local sudo="" log=/tmp/earlywarn-apt.log
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; return 1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "$@" >>"$log" 2>&1 || { tail -40 "$log" >&2; return 1; }
}
