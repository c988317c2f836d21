#!/usr/bin/env bash
# Downloads a Voxtral Realtime checkpoint (consolidated.safetensors, params.json, tekken.json)
# from the Hugging Face hub with curl: progress bar, resumable (re-run to continue).
#   scripts/download-model.sh [REPO_ID] [DEST_DIR]
# REPO_ID defaults to mistralai/Voxtral-Mini-4B-Realtime-2602; DEST_DIR to
# ${VRT_MODELS_DIR:-~/.cache/voxtral-rt/models}/ORG--NAME, where voxtral-rt looks for it.
# Set HF_TOKEN for gated or private repositories. HF_ENDPOINT overrides the hub address.
set -euo pipefail

repo="${1:-mistralai/Voxtral-Mini-4B-Realtime-2602}"
models_dir="${VRT_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/voxtral-rt/models}"
dest="${2:-$models_dir/${repo//\//--}}"
endpoint="${HF_ENDPOINT:-https://huggingface.co}"

command -v curl >/dev/null || { echo "download-model: curl is required (apt-get install curl)" >&2; exit 1; }
mkdir -p "$dest"
auth=()
[[ -n "${HF_TOKEN:-}" ]] && auth=(-H "Authorization: Bearer $HF_TOKEN")

for f in params.json tekken.json consolidated.safetensors; do
  if [[ -s "$dest/$f" ]]; then
    echo "download-model: $dest/$f already present" >&2
    continue
  fi
  echo "download-model: $repo/$f -> $dest/$f" >&2
  if ! curl -L --fail --retry 3 --connect-timeout 20 -C - --progress-bar "${auth[@]}" \
        -o "$dest/$f.part" "$endpoint/$repo/resolve/main/$f"; then
    echo "download-model: could not download $f from $endpoint (no network, no access, or the" >&2
    echo "  repo id is wrong)." >&2
    if [[ -s "$dest/$f.part" ]]; then
      echo "  Re-run to resume; the partial file is kept as $dest/$f.part." >&2
    else
      rm -f "$dest/$f.part"
      rmdir "$dest" 2>/dev/null || true
    fi
    echo "  Or copy consolidated.safetensors, params.json and tekken.json into a directory and pass it as MODEL." >&2
    exit 1
  fi
  mv "$dest/$f.part" "$dest/$f"
done
echo "$dest"
