#!/usr/bin/env bash
# The deployment zip of each function `make package` built, against the 3 MB goal.
# Usage: package_sizes.sh TARGET_DIR FUNCTION...
set -euo pipefail
out=$1; shift
printf '| function | bootstrap.zip |\n|---|---:|\n'
for f in "$@"; do
	zip=$out/lambda/$f/bootstrap.zip
	[ -f "$zip" ] || { echo "no $zip: run make package" >&2; exit 2; }
	stat -c %s "$zip" | awk -v f="$f" '{ printf "| %s | %.2f MB |\n", f, $1 / 1e6 }'
done
