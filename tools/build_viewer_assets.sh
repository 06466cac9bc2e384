#!/usr/bin/env bash
# The 3D viewer's third-party assets: CesiumJS, pinned in viewer/package-lock.json, fetched
# from the npm registry and copied into src/leosim/viewer_static/vendor/ (git-ignored).
# Only Build/Cesium is copied (its ESM/CJS bundles are left out: the page loads Cesium.js);
# the page then needs nothing from the internet, NaturalEarthII imagery included.
#
# Does nothing when vendor/ was built from the same lock file. Without npm, or when the
# registry cannot be reached, it says so and exits 0 (the rest of leosim works, and
# `leosim view` says how to get the assets) unless LEOSIM_REQUIRE_VIEWER_ASSETS=1 (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
LOCK=viewer/package-lock.json
VENDOR=src/leosim/viewer_static/vendor
CESIUM=viewer/node_modules/cesium

if [ -f "$VENDOR/cesium/Cesium.js" ] && cmp -s "$LOCK" "$VENDOR/.package-lock.json"; then
  touch "$VENDOR/.package-lock.json"  # newer than the lock file: make need not come back
  exit 0
fi

give_up() {
  echo "build_viewer_assets: $1" >&2
  echo "build_viewer_assets: the 3D viewer (leosim view) needs them; everything else works. Retry with: make assets" >&2
  if [ "${LEOSIM_REQUIRE_VIEWER_ASSETS:-0}" = "1" ]; then exit 1; fi
  exit 0
}

command -v npm >/dev/null 2>&1 || give_up "npm is not installed, so CesiumJS cannot be fetched (install Node.js and npm)"
echo "build_viewer_assets: fetching CesiumJS (npm ci in viewer/)" >&2
npm ci --prefix viewer --ignore-scripts --no-audit --no-fund --loglevel=error \
  || give_up "npm ci failed (is the npm registry reachable?)"
[ -f "$CESIUM/Build/Cesium/Cesium.js" ] || give_up "$CESIUM/Build/Cesium/Cesium.js is missing after npm ci"

rm -rf "$VENDOR.tmp"
mkdir -p "$VENDOR.tmp/cesium"
for part in Cesium.js Assets ThirdParty Widgets Workers; do
  cp -R "$CESIUM/Build/Cesium/$part" "$VENDOR.tmp/cesium/"
done
cp "$CESIUM/LICENSE.md" "$CESIUM/ThirdParty.json" "$VENDOR.tmp/cesium/"
version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$CESIUM/package.json" | head -n 1)"
echo "{\"cesium\": \"$version\"}" > "$VENDOR.tmp/versions.json"
cp "$LOCK" "$VENDOR.tmp/.package-lock.json"
rm -rf "$VENDOR"
mv "$VENDOR.tmp" "$VENDOR"
rm -rf viewer/node_modules  # 130 MB of npm packages; npm's cache keeps them for a rebuild
echo "build_viewer_assets: CesiumJS $version in $VENDOR ($(du -sh "$VENDOR" | cut -f1))" >&2
