#!/usr/bin/env bash
# The polecat action's work step. With an app URL, the job's Actions OIDC token is exchanged
# at the Gas Town app for an installation token scoped to this repository (contents and pull
# requests write): pushes and pull requests made with it start the repository's workflows.
# Without one (or when the app is unreachable or refuses), the workflow's GITHUB_TOKEN is used
# and the runner says on the pull request that CI needs a push or a re-run: GitHub starts no
# workflows for events made with GITHUB_TOKEN.
set -uo pipefail
gt="$GITHUB_ACTION_PATH/bin/gt"
token=$WORKFLOW_TOKEN
fallback=
if [ -z "${GASTOWN_APP_URL:-}" ]; then
  fallback="no app-url is set for the action (repository variable GASTOWN_APP_URL)"
else
  err="${RUNNER_TEMP:-/tmp}/gastown-app-token.$$.err"
  if scoped=$("$gt" app-token --app-url "$GASTOWN_APP_URL" --audience "${GASTOWN_AUDIENCE:-gastown}" 2>"$err") && [ -n "$scoped" ]; then
    echo "::add-mask::$scoped"
    token=$scoped
    echo "Gas Town: pushing with an installation token from the app, scoped to this repository (contents, pull requests)"
  else
    # One line, and no workflow command can hide in it.
    fallback=$(head -c 400 "$err" | tr '\n\r' '  ' | sed -e 's/^gt: //' -e 's/::/: /g')
    fallback=${fallback:-the app gave no token}
    echo "::warning title=Gas Town::no scoped token from the app ($fallback); pushing with the workflow's GITHUB_TOKEN, so CI will not start by itself on the pull request"
  fi
  rm -f "$err"
fi
# The script agent reads issues (who last edited them): the app's token cannot, the workflow's can.
if [ "$GASTOWN_AGENT" = script ]; then export GASTOWN_WORKFLOW_TOKEN=$WORKFLOW_TOKEN; fi
unset WORKFLOW_TOKEN
set -- runner --once --bead "$BEAD" --forge github --agent "$GASTOWN_AGENT" --id "gha-$GITHUB_RUN_ID"
if [ -n "${GASTOWN_AGENT_COMMAND:-}" ]; then set -- "$@" --agent-command "$GASTOWN_AGENT_COMMAND"; fi
# How often the working polecat syncs the ledger (heartbeat out; nudges, mail, stop in): default 30 s.
case "${GASTOWN_SYNC_MS:-}" in
  '') ;;
  *[!0-9]*) echo "sync-ms must be a whole number of milliseconds: $GASTOWN_SYNC_MS" >&2; exit 2 ;;
  *) set -- "$@" --sync-ms "$GASTOWN_SYNC_MS" ;;
esac
unset GASTOWN_AGENT_COMMAND GASTOWN_APP_URL GASTOWN_SYNC_MS
GASTOWN_GIT_TOKEN=$token GITHUB_TOKEN=$token GASTOWN_TOKEN_FALLBACK=$fallback "$GITHUB_ACTION_PATH/action/with-git-token.sh" "$gt" "$@"
status=$?
# The scoped token dies with this step instead of living out its hour.
if [ -z "$fallback" ]; then
  GASTOWN_REVOKE_TOKEN=$token "$gt" app-token --revoke || echo "::notice title=Gas Town::the scoped token was not revoked; it expires within the hour"
fi
exit $status
