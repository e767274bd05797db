#!/usr/bin/env bash
# Runs a command (`with-git-token.sh gt sync`) whose git calls authenticate to the GitHub
# server with $GASTOWN_GIT_TOKEN, through the environment only (GIT_CONFIG_COUNT/KEY/VALUE,
# git 2.31+): nothing is written to .git/config, where `actions/checkout` would otherwise
# leave a token that every later process in the job could read. The header value is masked
# in the job's log, as actions/checkout masks its own.
set -euo pipefail
if [ -n "${GASTOWN_GIT_TOKEN:-}" ]; then
  basic=$(printf 'x-access-token:%s' "$GASTOWN_GIT_TOKEN" | base64 | tr -d '\n')
  echo "::add-mask::$basic"
  server=${GITHUB_SERVER_URL:-https://github.com}
  n=${GIT_CONFIG_COUNT:-0}
  export "GIT_CONFIG_KEY_$n=http.${server%/}/.extraheader" "GIT_CONFIG_VALUE_$n=AUTHORIZATION: basic $basic"
  export GIT_CONFIG_COUNT=$((n + 1))
fi
unset GASTOWN_GIT_TOKEN
exec "$@"
