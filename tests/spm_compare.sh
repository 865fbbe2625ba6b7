#!/bin/sh
# spm_compare.sh TOOL MODEL CORPUS WORKDIR
# Runs SentencePiece's own encoder on CORPUS, then agm_tok_spm_compare to check
# that our tokenizer gives the same ids on every line.
set -eu
tool=$1; model=$2; corpus=$3; work=$4
command -v spm_encode >/dev/null 2>&1 || { echo "spm_encode not found (Debian package sentencepiece)"; exit 77; }
mkdir -p "$work"
out="$work/$(basename "$(dirname "$model")")-$(basename "$model").ids"
spm_encode --model="$model" --output_format=id < "$corpus" > "$out"
exec "$tool" "$model" "$corpus" "$out"
