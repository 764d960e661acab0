#!/usr/bin/env bash
# Take away what scripts/install.sh put on this device, as root — but never the data
# (/var/lib/kiosk: the database, its backups, the site key) nor the config (/etc/kiosk):
# reinstalling picks up where the site left off.
#
#   sudo scripts/uninstall.sh
#   scripts/uninstall.sh --root DIR        # the same under a staging root
set -euo pipefail
ROOT=""
PREFIX=/opt/kiosk
while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT=${2%/}; shift ;;
        --prefix) PREFIX=$2; shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "uninstall: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
live() { [ -z "$ROOT" ]; }
if live && [ "$(id -u)" != 0 ]; then
    echo "uninstall: run as root (or with --root DIR)" >&2; exit 1
fi
if live; then
    systemctl disable --now 'kiosk-screen@*.service' 'kiosk-web@*.service' kioskd.service 2>/dev/null || true
fi
rm -f "$ROOT/etc/systemd/system/kioskd.service" "$ROOT/etc/systemd/system/kiosk-screen@.service" \
      "$ROOT/etc/systemd/system/kiosk-web@.service" \
      "$ROOT/etc/udev/rules.d/70-kiosk.rules" "$ROOT/etc/systemd/journald.conf.d/kiosk.conf"
rm -rf "$ROOT$PREFIX"
if live; then
    systemctl daemon-reload
    if command -v udevadm >/dev/null; then udevadm control --reload-rules; fi
fi
echo "uninstall: removed the code, units and rules; kept /etc/kiosk and /var/lib/kiosk (the site's data)"
echo "uninstall: to remove those and the user too: rm -rf /etc/kiosk /var/lib/kiosk; userdel kiosk"
