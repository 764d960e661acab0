#!/usr/bin/env bash
# Install the pickup-point controller on a Debian 12+ / Raspberry Pi OS device, as root:
#
#   sudo scripts/install.sh                 # everything: packages, user, code, units, rules
#   sudo scripts/install.sh --no-start      # the same, but leave the services stopped
#   scripts/install.sh --root DIR --no-packages --no-python --no-start
#                                           # stage every file under DIR (no system change)
#
# What it does, each step idempotent (run it again to upgrade):
#   1. Debian packages (scripts/debian-packages.txt)
#   2. the system user and group "kiosk" (no login), in dialout/gpio/input/video where they exist
#   3. the code in /opt/kiosk/src and a virtualenv /opt/kiosk/.venv with the project installed
#   4. /etc/kiosk/kiosk.toml from config/kiosk.toml when there is none (never overwritten;
#      edit it for the real devices: docs/ and config/examples/), readable by group kiosk only
#   5. systemd units (kioskd.service, kiosk-screen@.service, kiosk-web@.service), udev rules (/dev/kiosk/ names),
#      a journald drop-in (the journal is the log rotation)
#   6. reload systemd, udev and journald; enable and start kioskd and the recipient screen
# scripts/uninstall.sh takes it all away again but the data (/var/lib/kiosk) and the config.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
ROOT=""
PREFIX=/opt/kiosk
PACKAGES=1 PYTHON=1 START=1
while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT=${2%/}; shift ;;
        --prefix) PREFIX=$2; shift ;;
        --no-packages) PACKAGES=0 ;;
        --no-python) PYTHON=0 ;;
        --no-start) START=0 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "install: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
live() { [ -z "$ROOT" ]; }           # changing this system, not staging files
if live && [ "$(id -u)" != 0 ]; then
    echo "install: run as root (or stage with --root DIR)" >&2; exit 1
fi
say() { echo "install: $*"; }

# 1. Debian packages
if [ "$PACKAGES" = 1 ]; then
    mapfile -t pkgs < <(grep -v '^\s*\(#\|$\)' scripts/debian-packages.txt)
    say "Debian packages: ${pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
fi

# 2. the user
if live; then
    getent group kiosk >/dev/null || groupadd --system kiosk
    getent passwd kiosk >/dev/null || useradd --system --gid kiosk --home-dir /var/lib/kiosk --no-create-home \
        --shell /usr/sbin/nologin --comment "pickup-point controller" kiosk
    for g in dialout gpio input video; do
        getent group "$g" >/dev/null && usermod -aG "$g" kiosk
    done
    say "user kiosk: $(id kiosk)"
fi

# 3. the code and its virtualenv
install -d -m 0755 "$ROOT$PREFIX"
rm -rf "$ROOT$PREFIX/src.new"
install -d -m 0755 "$ROOT$PREFIX/src.new"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$SRC" ls-files -z | (cd "$SRC" && xargs -0 cp --parents -t "$ROOT$PREFIX/src.new")
else
    (cd "$SRC" && tar --exclude=.venv --exclude=.git -cf - .) | tar -C "$ROOT$PREFIX/src.new" -xf -
fi
rm -rf "$ROOT$PREFIX/src"
mv "$ROOT$PREFIX/src.new" "$ROOT$PREFIX/src"
say "code in $PREFIX/src"
if [ "$PYTHON" = 1 ]; then
    python3 -m venv "$ROOT$PREFIX/.venv"
    "$ROOT$PREFIX/.venv/bin/python" -m pip install -q --upgrade pip
    "$ROOT$PREFIX/.venv/bin/python" -m pip install -q "$ROOT$PREFIX/src"
    say "the project is installed in $PREFIX/.venv"
fi

# 4. the config (never overwritten)
install -d -m 0750 "$ROOT/etc/kiosk"
if [ ! -e "$ROOT/etc/kiosk/kiosk.toml" ]; then
    # The simulated site's config, with the database where the unit lets kioskd write and
    # the service socket the screens' unit expects.
    sed -e 's|^database = .*|database = "/var/lib/kiosk/kiosk.db"|' config/kiosk.toml > "$ROOT/etc/kiosk/kiosk.toml"
    printf '\n[service]\nsocket = "/run/kiosk/service.sock"\n' >> "$ROOT/etc/kiosk/kiosk.toml"
    chmod 0640 "$ROOT/etc/kiosk/kiosk.toml"
    say "wrote /etc/kiosk/kiosk.toml (the simulated site: edit [devices] for the real ones)"
else
    say "kept /etc/kiosk/kiosk.toml"
fi
live && chgrp -R kiosk /etc/kiosk

# 5. units, udev rules, journald
install -d -m 0755 "$ROOT/etc/systemd/system" "$ROOT/etc/udev/rules.d" "$ROOT/etc/systemd/journald.conf.d"
for unit in systemd/*.service; do
    sed "s|/opt/kiosk|$PREFIX|g" "$unit" > "$ROOT/etc/systemd/system/$(basename "$unit")"
    chmod 0644 "$ROOT/etc/systemd/system/$(basename "$unit")"
done
install -m 0644 deploy/udev/70-kiosk.rules "$ROOT/etc/udev/rules.d/70-kiosk.rules"
install -m 0644 deploy/journald/kiosk.conf "$ROOT/etc/systemd/journald.conf.d/kiosk.conf"
say "units, udev rules and the journald drop-in installed"

# 6. reload and start
if live; then
    systemctl daemon-reload
    if command -v udevadm >/dev/null; then udevadm control --reload-rules && udevadm trigger; fi
    systemctl restart systemd-journald || true
    if [ "$START" = 1 ]; then
        systemctl enable --now kioskd.service kiosk-screen@recipient.service
        say "kioskd and the recipient screen are running: journalctl -u kioskd -f; kiosk doctor --config /etc/kiosk/kiosk.toml"
    else
        say "not started: systemctl enable --now kioskd.service kiosk-screen@recipient.service"
    fi
fi
say "done"
