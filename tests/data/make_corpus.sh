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
# 5. Hand-written sensor-log and chat lines of the kind our users feed small
#    models: tab-separated fields, digit runs, units, emoji, runs of spaces.
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
  printf 'field-%02d\t%d.%d°C\t%d%%\t%d hPa\t%s\n' "$i" $((12 + i)) $((i * 7 % 10)) $((40 + i * 3)) $((1000 + i * 2)) \
    "$(printf '%s' '🌧️ 🌤️ ☀️ 🌪️ ❄️ 🌫️ 🌡️ 💧 🌱 🐄 🚜 ⚡' | cut -d' ' -f$((i + 1)))"
done
printf '%s\n' \
  '2026-11-23T04:15:00Z	soil_moisture=31.25	soil_temp=8.5	battery=3.71V	rssi=-97' \
  '2026-11-23T04:30:00Z	soil_moisture=30.75	soil_temp=8.25	battery=3.70V	rssi=-101	⚠️ low signal' \
  'pump #3   OFF   since 06:00    (flow 0.0 l/min)    🔴' \
  'pump #4   ON    since 05:45    (flow 12.5 l/min)   🟢' \
  'Frost warning 🥶: −2 °C expected at 05:00, cover the seedlings 🌱🌱🌱' \
  'Niederschlag 12 mm in 24 h 🌧️, Bodenfeuchte 35 %, Wind 18 km/h aus WSW' \
  'Température du sol : 9,5 °C — humidité 41 % — batterie 87 % 🔋' \
  'Влажность почвы 28 %, температура 7 °C, ветер 5 м/с ❄️' \
  '土壤湿度 33%，气温 15℃，降雨 0.5 毫米 🌦️' \
  '土壌水分 29％、気温 11℃、風速 3m/s 🍃' \
  'Cows in barn: 🐄×42, milked: 38, litres: 1 204.5 🥛' \
  'Tank levels:	A 75%	B 12%	C  3%  ← refill!  💧💧' \
  'GPS 52.5200,13.4050 alt 34 m  hdop 0.9  sats 11 🛰️' \
  'error E042: sensor 7 timeout after 3 retries (last ok 00:42:17) ❌' \
  'ok ✅ ok ✅ ok ✅ fail ❌ ok ✅' \
  '👨‍🌾 Farmer note:	check fence near gate 2,	bring 20 m wire	🪛' \
  '1234567890 12345678901234567890 3.14159265358979 6.022e23 -0.000001' \
  'temp	 	 	tabs and spaces mixed	  	end' \
  '🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂 ten smileys, 🇩🇪🇫🇷🇯🇵 three flags, 👍🏻👍🏼👍🏽👍🏾👍🏿 five tones' \
  '   leading spaces then an emoji 🐝 then digits 007 then tab	done   '
