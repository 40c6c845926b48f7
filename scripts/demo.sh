#!/usr/bin/env bash
# The crossguard story on the example estate, offline: production account 222222222222
# shares with its build account 111111111111 and an audit vendor 333333333333.
set -euo pipefail
BIN=${1:-target/release/crossguard}
ALLOW=${2:-examples/allowlist.toml}
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m== %s\033[0m\n%s\n\n' "$1" "$2"; }
event() {
  # A violation exits 1: that is the point of the demo, not a failure of it.
  "$BIN" event --allowlist "$ALLOW" "$1" || [ $? -eq 1 ]
}

say "The allowlist" "$("$BIN" allowlist validate "$ALLOW")"

say "1. An approved share" \
    "The build account's CI role reads release artifacts, as pairing SEC-1234 allows."
event examples/events/1-approved-share.json

say "2. An unapproved account slips in" \
    "Someone adds account 999999999999 beside the approved build role. Only it is cut."
event examples/events/2-unapproved-account.json

say "3. A production bucket made public" \
    "prod-* buckets are in remediate mode: the guard deletes the policy (nothing approved is left)."
event examples/events/3-public-bucket.json

say "4. A vendor role trust without ExternalId" \
    "Pairing SEC-2001 lets the vendor in only with sts:ExternalId (confused-deputy protection)."
event examples/events/4-role-trust-no-external-id.json

say "5. A KMS key shared with an outside account" \
    "The outsider is cut; the owner's administration and the approved build account stay."
event examples/events/5-key-policy-outside.json

say "6. The guard's own fix comes back as an event" \
    "Its role matches ignore_actors: recorded, never acted on again."
event examples/events/6-guard-own-fix.json

say "7. A call that failed" "AccessDenied: nothing changed, nothing to do."
event examples/events/7-failed-call.json

say "Checking a policy file before it is applied" \
    "crossguard check works on files, too: a GitHub Actions trust open to every repository."
"$BIN" check --allowlist "$ALLOW" --owner 222222222222 --resource role/deploy \
  examples/policies/github-oidc-open.json || [ $? -eq 1 ]

printf '\nJSON for machines: add --format json. Exit status: 0 compliant/ignored, 1 violation, 2 error.\n'
