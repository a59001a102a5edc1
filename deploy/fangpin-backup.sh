#!/bin/sh
# Nightly backup (deploy/systemd/fangpin-backup.timer): a new folder per night under
# BACKUP_ROOT, then remove those older than BACKUP_KEEP_DAYS. A backup that finds referenced
# media missing or corrupt exits non-zero (BACKUP_INCOMPLETE): the unit fails and shows in
# `systemctl --failed`; its folder is kept, with the manifest listing what was missing.
set -eu
root="${BACKUP_ROOT:-/var/backups/fangpin}"
keep="${BACKUP_KEEP_DAYS:-14}"
target="$root/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$root"
/opt/fangpin/.venv/bin/fangpin backup "$target"
find "$root" -mindepth 1 -maxdepth 1 -type d -mtime "+$keep" -exec rm -rf {} +
