#!/usr/bin/env bash
# `npm run package:deb`: builds demo-launcher_<version>_amd64.deb with dpkg-deb: the bundled controller
# (tools/bundle.ts) and a stripped official Node.js 26 under /usr/lib/demo-launcher, /usr/bin/demo-launcher, the
# systemd units, the nginx site, /etc/demo-launcher/config.yaml as a conffile and the maintainer scripts of
# packaging/deb/. No network beyond the registries (Node.js comes from npm, once, scripts/ensure-node.sh).
# --from <commit>: the code of that commit (an earlier release) packed the same way; kept in .cache/deb by commit.
# --previous: --from the last release, the commit README.md names ("Last release: **<version>**, commit `<sha>`").
# --fast: gzip -1 instead of xz (the same files; what the tests install, where compression is no concern).
# Usage: scripts/package-deb.sh [--from <commit> | --previous] [--fast] [--out <dir>]   (prints the path of the .deb)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
source scripts/node-path.sh
from=""
fast=0
out="$root/.cache/deb"
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="${2:?--from needs a commit}"; shift 2 ;;
    --previous) from="$(bash scripts/last-release.sh | cut -d' ' -f2)"; shift ;;
    --fast) fast=1; shift ;;
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    *) echo "package-deb: unknown argument '$1' (allowed: --from <commit>, --previous, --fast, --out <dir>)" >&2; exit 2 ;;
  esac
done
[ "$(dpkg --print-architecture)" = amd64 ] || { echo "package-deb: builds amd64 packages on amd64 only (this is $(dpkg --print-architecture))" >&2; exit 2; }
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

source_root="$root"
if [ -n "$from" ]; then
  commit="$(git rev-parse --verify --quiet "$from^{commit}")" || { echo "package-deb: '$from' is not a commit of this repository" >&2; exit 2; }
  cached="$(ls "$out"/demo-launcher_*+"${commit:0:12}"_amd64.deb 2>/dev/null | head -1 || true)"
  if [ -n "$cached" ]; then echo "$cached"; exit 0; fi
  source_root="$work/source"
  mkdir -p "$source_root"
  git archive "$commit" | tar -x -C "$source_root"
  # The same production dependencies: bundle against ours, else install that release's own.
  if node -e 'const [a, b] = process.argv.slice(1).map((f) => JSON.stringify(require(f).dependencies)); process.exit(a === b ? 0 : 1)' "$root/package.json" "$source_root/package.json"; then
    ln -s "$root/node_modules" "$source_root/node_modules"
  else
    (cd "$source_root" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline >/dev/null)
  fi
fi
version="$(node -p 'require(process.argv[1]).version' "$source_root/package.json")"
# An earlier commit's package carries the commit in its version, so it never passes for a release built here.
[ -n "$from" ] && version="$version+${commit:0:12}"

stage="$work/stage"
lib="$stage/usr/lib/demo-launcher"
npx tsx tools/bundle.ts "$lib" "$source_root"
node_bin="$(bash scripts/ensure-node.sh 26)"
install -d "$lib/bin"
strip -o "$lib/bin/node" "$node_bin/node"
chmod 0755 "$lib/bin/node"
install -D -m 0755 packaging/deb/demo-launcher "$stage/usr/bin/demo-launcher"
# The units and the nginx files of this checkout: an earlier release's code runs under the same ones.
for unit in systemd/*.service; do install -D -m 0644 "$unit" "$stage/lib/systemd/system/$(basename "$unit")"; done
install -D -m 0644 packaging/deb/config.yaml "$stage/etc/demo-launcher/config.yaml"
install -D -m 0644 nginx/site.conf "$stage/etc/nginx/sites-available/demo-launcher"
install -D -m 0644 nginx/locations.conf "$stage/etc/nginx/demo-launcher/locations.conf"
install -D -m 0644 nginx/proxy.conf "$stage/etc/nginx/demo-launcher/proxy.conf"
doc="$stage/usr/share/doc/demo-launcher"
install -D -m 0644 packaging/deb/copyright "$doc/copyright"
install -m 0644 README.md "$doc/README.md"
[ -f CHANGELOG.md ] && gzip -9n <CHANGELOG.md >"$doc/CHANGELOG.md.gz"
printf 'demo-launcher (%s) unstable; urgency=medium\n\n  * Release %s; what changed: /usr/share/doc/demo-launcher/CHANGELOG.md.gz.\n\n -- demo-launcher developers <maintainers@demo-launcher.invalid>  %s\n' \
  "$version" "$version" "$(date -R -d "@$(git log -1 --format=%ct "${commit:-HEAD}")")" | gzip -9n >"$doc/changelog.gz"
install -d "$stage/usr/share/man/man1"
gzip -9n <packaging/deb/demo-launcher.1 >"$stage/usr/share/man/man1/demo-launcher.1.gz"
install -D -m 0644 packaging/deb/lintian-overrides "$stage/usr/share/lintian/overrides/demo-launcher"
find "$stage" -type d -exec chmod 0755 {} +
# Files keep their modes (the examples' scripts are copied into images as they are), minus write for others.
chmod -R go-w,a+rX "$lib"
# /usr/bin/demo-launcher runs the bundle with the packaged Node.js: its `#!/usr/bin/env node` would name another.
sed -i '1{/^#!/d}' "$lib/dist/cli/main.js"
chmod 0644 "$lib/dist/cli/main.js"

install -d "$stage/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$(du -sk --exclude=DEBIAN "$stage" | cut -f1)/" packaging/deb/control >"$stage/DEBIAN/control"
(cd "$stage" && find etc -type f | sed 's|^|/|' | sort) >"$stage/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "packaging/deb/$script" "$stage/DEBIAN/$script"; done
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort | xargs md5sum) >"$stage/DEBIAN/md5sums"
deb="$out/demo-launcher_${version}_amd64.deb"
# Written beside and renamed: a reader (or a second build) never sees half a package.
# An earlier release's package only serves the upgrade test: compressed fast, not small.
if [ -n "$from" ] || [ "$fast" = 1 ]; then compression=(-Zgzip -z1); else compression=(-Zxz -z2); fi
dpkg-deb --root-owner-group "${compression[@]}" --build "$stage" "$work/package.deb" >/dev/null
mv "$work/package.deb" "$deb.tmp-$$" && mv "$deb.tmp-$$" "$deb"
echo "$deb"
