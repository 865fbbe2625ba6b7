#!/bin/sh
# Rebuilds corpus.txt (the tokenizer conformance corpus) from text shipped by
# Debian and Python on the build machine; see corpus.README.md.
# Usage: tests/data/make_corpus.sh > tests/data/corpus.txt
set -eu
PY=${PYTHON:-python3}
PYTEST=${PYTEST_DIR:-$($PY -c 'import os,test; print(os.path.dirname(test.__file__))')}
# 1. The GNU GPL version 3, verbatim (English, ASCII punctuation, indentation).
cat /usr/share/common-licenses/GPL-3
# 2. Translated messages of GLib (glib20.mo, LGPL-2.1+) and country names of
#    iso-codes (iso_3166-1.mo, LGPL-2.1+), several scripts.
$PY - <<'PYEOF'
import gettext, os
langs = ["de", "fr", "es", "pl", "vi", "tr", "ru", "uk", "el", "ar", "he", "hi", "bn", "ta", "th",
         "ja", "zh_CN", "zh_TW", "ko", "ka", "am", "fa"]
for dom, per in (("glib20", 25), ("iso_3166-1", 12)):
    for lang in langs:
        path = "/usr/share/locale/%s/LC_MESSAGES/%s.mo" % (lang, dom)
        if not os.path.exists(path):
            continue
        cat = gettext.GNUTranslations(open(path, "rb"))._catalog
        n = 0
        for k in sorted(k for k in cat if isinstance(k, str) and k):
            v = cat[k]
            for line in v.replace("\r", "").split("\n"):
                if line.strip() and n < per:
                    print(line)
                    n += 1
PYEOF
# 3. Python's CJK codec test texts (PSF license), UTF-8 versions.
for f in gb2312 big5 euc_jp euc_kr; do
  head -n 12 "$PYTEST/cjkencodings/$f-utf8.txt"
done
# 4. Hand-written lines: emoji, digit runs, tabs, runs of spaces, lookalikes
#    of special pieces.
printf '%s\n' \
  'Emoji: 🚀 😶‍🌫️ ✅ 🦙🦙 👩‍👩‍👧‍👦 🇫🇷 ❤️ 👍🏽' \
  'Digits: 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 1,000,000 0x1F 2024-01-31' \
  '	tab at the start, 	tab	in	the middle, and at the end	' \
  '  two leading spaces and    four inside     and trailing   ' \
  '     ' \
  '	' \
  'a  b   c    d     e      f' \
  '<s> </s> <unk> <0x41> <0xZZ> <pad> [INST] <<SYS>>' \
  '▁ literal lower one eighth block ▁▁ and a trailing one ▁' \
  'Mixed: naïve café, Ærøskøbing, İstanbul, Straße, ﬁ ligature, Ｆｕｌｌｗｉｄｔｈ' \
  "$(printf 'Combining: e\314\201 a\314\212 n\314\203, zero width joiner a\342\200\215b, NBSP a\302\240b')" \
  'Math: ∀x∈ℝ, x² ≥ 0; ∑ᵢ aᵢ = ∞ ≈ π ≠ 3.14' \
  "Quotes: 'single' \"double\" ''''''\`\`\`\`\`\`\"\"\"\"......!!!!!!?????? I've been 'told he's there" \
  'Code: for (int i = 0; i < n; ++i) { x[i] += y[i] * 2; } // comment' \
  'URL: https://www.debian.org/doc/ and e-mail someone@example.org' \
  '------======= ___ *** ### $$$ %%% ^^^ &&& ((())) [[[]]] {{{}}}' \
  'Khmer: ក្រុមហ៊ុនធំៗ Lao: ພາສາລາວ Sinhala: සිංහල Tibetan: བོད་སྐད' \
  'Old scripts: 𐌰𐌱𐌲 𓀀𓀁 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and a CJK extension B char 𠀋'
