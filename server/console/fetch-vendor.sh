#!/bin/sh
# Re-fetch the console's vendored front-end libraries from their npm packages (pinned versions)
# into server/console/static/vendor/, with their licence files. `npm pack` checks each tarball
# against the registry's integrity hash. Run from anywhere; needs npm. To upgrade, change a
# version here, run it, delete the old folder, and update the paths in
# server/console/templates/console/base.html and docs/console.md.
set -eu
HTMX=2.0.11
ECHARTS=6.1.0
here=$(cd "$(dirname "$0")" && pwd)
vendor="$here/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "htmx.org@$HTMX" "echarts@$ECHARTS" >/dev/null
mkdir htmx echarts
tar -xzf "htmx.org-$HTMX.tgz" -C htmx
tar -xzf "echarts-$ECHARTS.tgz" -C echarts
mkdir -p "$vendor/htmx-$HTMX" "$vendor/echarts-$ECHARTS"
cp htmx/package/dist/htmx.min.js htmx/package/LICENSE "$vendor/htmx-$HTMX/"
cp echarts/package/dist/echarts.min.js echarts/package/LICENSE echarts/package/NOTICE \
   "$vendor/echarts-$ECHARTS/"
cp echarts/package/licenses/LICENSE-d3 "$vendor/echarts-$ECHARTS/"
cd "$vendor"
sha256sum "htmx-$HTMX"/* "echarts-$ECHARTS"/* > SHA256SUMS
echo "vendored htmx.org $HTMX and echarts $ECHARTS into $vendor"
