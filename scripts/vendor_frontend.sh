#!/usr/bin/env bash
# Re-vendor the console's front-end libraries from the npm registry (pinned versions).
#
# Usage (from anywhere; needs npm and tar):   bash scripts/vendor_frontend.sh
#
# Writes into src/govops/web/static/vendor/ the files listed in its README.md. Nothing else is kept:
# the tarballs and their extraction live in a temporary directory that is removed on exit.
# To upgrade, change a version below, run the script, update README.md and check the console.
set -euo pipefail

ECHARTS_VERSION="6.1.0"
HTMX_VERSION="2.0.11"
SWAGGER_UI_VERSION="5.35.0"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo_root/src/govops/web/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# fetch PACKAGE VERSION -> prints the directory holding the extracted package
fetch() {
    local pkg="$1" version="$2" tarball
    tarball="$(cd "$work" && npm pack --silent "$pkg@$version" | tail -n 1)"
    mkdir -p "$work/$pkg"
    tar -xzf "$work/$tarball" -C "$work/$pkg"
    echo "$work/$pkg/package"
}

mkdir -p "$dest"

echarts="$(fetch echarts "$ECHARTS_VERSION")"
install -m 0644 "$echarts/dist/echarts.min.js" "$dest/echarts.min.js"
install -m 0644 "$echarts/LICENSE" "$dest/echarts.LICENSE"
install -m 0644 "$echarts/NOTICE" "$dest/echarts.NOTICE"
install -m 0644 "$echarts/licenses/LICENSE-d3" "$dest/echarts.LICENSE-d3"

htmx="$(fetch htmx.org "$HTMX_VERSION")"
install -m 0644 "$htmx/dist/htmx.min.js" "$dest/htmx.min.js"
install -m 0644 "$htmx/LICENSE" "$dest/htmx.LICENSE"

swagger="$(fetch swagger-ui-dist "$SWAGGER_UI_VERSION")"
mkdir -p "$dest/swagger-ui"
for file in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
    install -m 0644 "$swagger/$file" "$dest/swagger-ui/$file"
done

echo "vendored echarts $ECHARTS_VERSION, htmx.org $HTMX_VERSION and swagger-ui-dist $SWAGGER_UI_VERSION into $dest"
(cd "$dest" && sha256sum echarts.min.js htmx.min.js swagger-ui/swagger-ui-bundle.js swagger-ui/swagger-ui.css)
