#!/bin/sh
# bpe_compare.sh PART TOOL TESTS_DIR GGUF WORKDIR
# Runs tests/bpe_oracle.pl (Perl) and agm_tok_bpe_compare on the same input
# and requires identical output, record by record.
#   split:  character classes of all code points; pre-tokens of the corpus
#           (each line, and the whole file as one record) and of the
#           adversarial strings, for the gpt2, llama3 and falcon styles.
#   encode: token ids of the same records with GPT-2's vocabulary and merges
#           under each style (llama3 with ignore_merges, as llama-bpe GGUFs):
#           Perl reads the GGUF itself (into a text dump), we read it with
#           parse_gguf and vocab_from_gguf.
set -eu
part=$1; tool=$2; dir=$3; gguf=$4; work=$5
command -v perl >/dev/null 2>&1 || { echo "perl not found"; exit 77; }
mkdir -p "$work"
oracle="$dir/bpe_oracle.pl"
corpus="$dir/data/corpus.txt"
adv="$dir/data/bpe_adversarial.txt"
status=0
if [ "$part" = split ]; then
    perl "$oracle" classes > "$work/classes.txt"
    "$tool" classes "$work/classes.txt" || status=1
fi
if [ "$part" = encode ]; then
    [ -f "$gguf" ] || { echo "$gguf not found"; exit 77; }
    perl "$oracle" dump "$gguf" > "$work/gpt2.dump"
fi
for style in gpt2 llama3 falcon; do
    for case in "lines $corpus" "whole $corpus" "escaped $adv"; do
        set -- $case
        out="$work/$part-$style-$1-$(basename "$2" .txt).txt"
        if [ "$part" = split ]; then
            perl "$oracle" split "$style" "$1" "$2" > "$out"
            "$tool" split "$style" "$1" "$2" "$out" || status=1
        else
            perl "$oracle" encode "$work/gpt2.dump" "$style" "$1" "$2" > "$out"
            "$tool" encode "$gguf" "$style" "$1" "$2" "$out" || status=1
        fi
    done
done
exit $status
