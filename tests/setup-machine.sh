#!/usr/bin/env bash
# Installs, as root, the Debian packages twincigo's tests need on a fresh machine:
#   openssh-server  real sshd processes for the SSH transport tests (not started as a service)
#   docker.io       the Docker engine that runs the lab's three node containers
#   debootstrap     builds the lab's Debian base image offline (no container registry here)
#   iproute2        ss, used by the SSH jump host test
#   sudo            the SSH tests of a non-root user with and without passwordless sudo
#   prometheus, prometheus-alertmanager, prometheus-blackbox-exporter   promtool, amtool and the
#                   blackbox exporter's --config.check: the unit tests check and test
#                   the rendered alerting rules and Alertmanager configs (the services are not started)
# It is idempotent: packages already present are not reinstalled.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "setup-machine.sh: run as root (sudo $0)" >&2
  exit 2
fi
PACKAGES=(openssh-server openssh-client sudo docker.io debootstrap iproute2 ca-certificates prometheus prometheus-alertmanager prometheus-blackbox-exporter)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d: keep apt from starting sshd/dockerd as services; tests and the lab start their own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Two unprivileged users for the SSH tests of the non-root path: one with passwordless sudo (twincigo
# then prefixes root commands with `sudo -n`), one without (twincigo must say so clearly).
for u in twincigo-sudo twincigo-nosudo; do
  id -u "$u" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/sh "$u"
  usermod -p "*" "$u" # no password, but not "locked": sshd without PAM refuses locked accounts
done
echo 'twincigo-sudo ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/twincigo-sudo
chmod 0440 /etc/sudoers.d/twincigo-sudo
echo "setup: ok ($(sshd -V 2>&1 | head -1 || true); $(dockerd --version 2>/dev/null || true))"
