#!/usr/bin/env bash
# Shows that a resource kind lives in its own file: for each kind named (by its file in
# src/resource; default: the image lifecycle kinds and the data sources), a scratch copy
# of the committed crate loses that file and its registry lines in src/resource/mod.rs,
# and must still compile. Removing a kind is the reverse of adding it, so a kind that
# passes is added by its file and its registry entry alone, with no change to apply,
# plan, render or state. Prints, per kind, the files the removal changed.
#
#   bash tests/kinds/isolation.sh [kind-file-stem ...]
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
kinds=("$@")
if [ ${#kinds[@]} -eq 0 ]; then
  kinds=(image_copy image_share_permission image_export ecs_image_component pipeline_execution builder_data)
fi
# One target directory for every scratch copy: only imgform itself is compiled again.
target=${CARGO_TARGET_DIR:-$root/target/kind-isolation}
failed=0
for kind in "${kinds[@]}"; do
  scratch=$(mktemp -d)
  git -C "$root" archive HEAD | tar -x -C "$scratch"
  if [ ! -f "$scratch/src/resource/$kind.rs" ]; then
    echo "$kind: no src/resource/$kind.rs" >&2
    exit 2
  fi
  rm "$scratch/src/resource/$kind.rs"
  # The registry: the module line and the KINDS / DATA_KINDS entries naming the module.
  sed -i "/^pub mod $kind;\$/d; /^    &$kind::[A-Za-z]*,\$/d" "$scratch/src/resource/mod.rs"
  changed=$(cd "$scratch" && diff -rq "$root/src" src 2>/dev/null | sed -E "s#^Files $root/(\S+) and .*#\1 (edited)#; s#^Only in $root/([^:]+): (.*)#\1/\2 (removed)#" || true)
  if (cd "$scratch" && CARGO_TARGET_DIR="$target" cargo check --lib --quiet 2>"$scratch/check.log"); then
    echo "$kind: compiles without it; the removal changed:"
  else
    echo "$kind: does NOT compile without it:" >&2
    sed 's/^/    /' "$scratch/check.log" | head -40 >&2
    failed=1
  fi
  echo "$changed" | sed 's/^/    /'
  rm -rf "$scratch"
done
exit $failed
