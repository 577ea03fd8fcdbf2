#!/usr/bin/env bash
# Builds the n8n community node package and packs it into docker/n8n/, where docker/n8n/Dockerfile
# installs it into the n8n image (main and queue workers). The tarball is what `npm publish` would
# upload: the image runs exactly this checkout's nodes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

case "${1:-}" in
  -h | --help)
    echo "Usage: scripts/pack-n8n-nodes.sh    (writes docker/n8n/n8n-nodes-crypto-intel-<version>.tgz)"
    exit 0
    ;;
  "") ;;
  *)
    echo "Usage: scripts/pack-n8n-nodes.sh" >&2
    exit 2
    ;;
esac

need npm
cd "$REPO_ROOT"
npm run build:nodes --silent
rm -f docker/n8n/n8n-nodes-crypto-intel-*.tgz
tarball="$(npm pack --silent --pack-destination docker/n8n | tail -n 1)"
echo "docker/n8n/$tarball"
