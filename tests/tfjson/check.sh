#!/usr/bin/env bash
# A real consumer of Terraform's JSON plan format reads imgform's: terraform-compliance (from
# PyPI) evaluates tests/tfjson/features against `imgform show PLAN --json` of main.hcl and
# must report exactly the violation the policy describes — the image without an owner tag.
# Usage: tests/tfjson/check.sh IMGFORM_BINARY PYTHON_VENV
set -euo pipefail
bin=$(realpath "$1")
venv=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/main.hcl" "$work/"
"$bin" --cloud local -C "$work" plan --out "$work/plan.bin" >/dev/null
"$bin" -C "$work" show "$work/plan.bin" --json > "$work/plan.json"
out=$("$venv/bin/terraform-compliance" --no-ansi -p "$work/plan.json" -f "$here/features" 2>&1 || true)
echo "$out" | tail -6
failures=$(echo "$out" | grep -c 'Failure: alicloud_image' || true)
# Terraform writes an unset attribute as null ("tags": null), and terraform-compliance then
# reports the missing key inside it, as it does on Terraform's own plan of the same shape.
if [ "$failures" != 1 ] || ! echo "$out" | grep -q 'Failure: alicloud_image.untagged (alicloud_image) does not have owner property.'; then
  echo "terraform-compliance did not find exactly the one expected violation" >&2
  exit 1
fi
echo "terraform-compliance read the plan JSON and found exactly the expected violation"
