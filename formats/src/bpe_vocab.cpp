// Byte-level BPE vocabularies from the strings their sources store (GGUF,
// tokenizer.json): GPT-2's byte-to-unicode alphabet undone, merges resolved
// to token ids. Converter-side (allocates freely).
#include <string>
#include <unordered_map>
#include <utility>

#include "agm/printable.h"
#include "agm/vocab.h"

namespace agm {
namespace {

// GPT-2 keeps the bytes that are printable in Latin-1 as their own code
// point and moves the other 68 (controls, space, DEL, C1 controls, NBSP,
// soft hyphen) to U+0100.. in byte order, so that every byte is a visible
// character and BPE never sees a space or a control.
bool printable(uint32_t b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

// Decodes one UTF-8 character (well-formed, at most U+FFFF is all the
// alphabet needs, but any scalar value is decoded); 0 on malformed input.
size_t utf8_decode(const std::string& s, size_t i, uint32_t* cp) {
    const uint8_t b = (uint8_t)s[i];
    const size_t n = s.size() - i;
    auto cont = [&](size_t k) { return ((uint8_t)s[i + k] & 0xC0) == 0x80; };
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF && n >= 2 && cont(1)) {
        *cp = ((uint32_t)(b & 0x1F) << 6) | ((uint8_t)s[i + 1] & 0x3F);
        return 2;
    }
    if (b >= 0xE0 && b <= 0xEF && n >= 3 && cont(1) && cont(2)) {
        *cp = ((uint32_t)(b & 0x0F) << 12) | ((uint32_t)((uint8_t)s[i + 1] & 0x3F) << 6) | ((uint8_t)s[i + 2] & 0x3F);
        return *cp >= 0x800 && (*cp < 0xD800 || *cp > 0xDFFF) ? 3 : 0;
    }
    if (b >= 0xF0 && b <= 0xF4 && n >= 4 && cont(1) && cont(2) && cont(3)) {
        *cp = ((uint32_t)(b & 0x07) << 18) | ((uint32_t)((uint8_t)s[i + 1] & 0x3F) << 12) |
              ((uint32_t)((uint8_t)s[i + 2] & 0x3F) << 6) | ((uint8_t)s[i + 3] & 0x3F);
        return *cp >= 0x10000 && *cp <= 0x10FFFF ? 4 : 0;
    }
    return 0;
}

}  // namespace

uint32_t gpt2_byte_to_unicode(uint8_t b) {
    if (printable(b)) return b;
    uint32_t k = 0;
    for (uint32_t c = 0; c < b; c++)
        if (!printable(c)) k++;
    return 0x100 + k;
}

bool gpt2_unicode_to_bytes(const std::string& spelled, std::string* raw) {
    // back[0x144]: the byte each code point of the alphabet spells, -1 elsewhere.
    struct Back {
        int16_t at[0x144];
        Back() {
            for (int16_t& x : at) x = -1;
            for (int b = 0; b < 256; b++) at[gpt2_byte_to_unicode((uint8_t)b)] = (int16_t)b;
        }
    };
    static const Back table;  // initialised once, thread-safe (C++11 statics)
    const int16_t* back = table.at;
    raw->clear();
    for (size_t i = 0; i < spelled.size();) {
        uint32_t cp = 0;
        const size_t k = utf8_decode(spelled, i, &cp);
        if (k == 0 || cp >= 0x144 || back[cp] < 0) return false;
        raw->push_back((char)back[cp]);
        i += k;
    }
    return true;
}

bool bpe_vocab_from_strings(const std::vector<std::string>& tokens, const std::vector<uint8_t>& types,
                            const std::vector<std::string>& merges, Vocab* out, Error* err) {
    const size_t n = tokens.size();
    if (n == 0) return fail(err, "byte-level BPE: no tokens");
    if (types.size() != n) return fail(err, "byte-level BPE: %zu tokens but %zu token types", n, types.size());
    if (n > (size_t)INT32_MAX) return fail(err, "byte-level BPE: %zu tokens is too many", n);
    out->pieces.assign(n, std::string());
    out->types = types;
    out->scores.clear();
    out->merges.clear();
    std::unordered_map<std::string, uint32_t> id_of;  // source spelling -> lowest id
    id_of.reserve(n * 2);
    for (size_t i = 0; i < n; i++) {
        if (types[i] < AGM_TOKEN_NORMAL || types[i] > AGM_TOKEN_BYTE)
            return fail(err, "byte-level BPE: token %zu has type %u", i, (unsigned)types[i]);
        id_of.emplace(tokens[i], (uint32_t)i);
        if (types[i] != AGM_TOKEN_NORMAL) {
            out->pieces[i] = tokens[i];
        } else if (!gpt2_unicode_to_bytes(tokens[i], &out->pieces[i])) {
            return fail(err, "byte-level BPE: normal token %zu '%s' has a character outside GPT-2's byte alphabet",
                        i, printable_text(tokens[i], 40).c_str());
        }
    }
    struct PairHash {
        size_t operator()(const std::pair<uint32_t, uint32_t>& p) const {
            return std::hash<uint64_t>()(((uint64_t)p.first << 32) | p.second);
        }
    };
    std::unordered_map<std::pair<uint32_t, uint32_t>, uint32_t, PairHash> seen;
    seen.reserve(merges.size() * 2);
    out->merges.reserve(merges.size());
    for (size_t r = 0; r < merges.size(); r++) {
        const std::string& s = merges[r];
        const size_t sp = s.size() > 1 ? s.find(' ', 1) : std::string::npos;
        if (sp == std::string::npos)
            return fail(err, "byte-level BPE: merge %zu '%s' is not two tokens separated by a space", r,
                        printable_text(s, 40).c_str());
        const std::string a = s.substr(0, sp), b = s.substr(sp + 1);
        const auto ia = id_of.find(a), ib = id_of.find(b), ix = id_of.find(a + b);
        if (ia == id_of.end() || ib == id_of.end() || ix == id_of.end())
            return fail(err, "byte-level BPE: merge %zu '%s': '%s' is not a token", r, printable_text(s, 40).c_str(),
                        printable_text(ia == id_of.end() ? a : ib == id_of.end() ? b : a + b, 40).c_str());
        const agm_bpe_merge g = {ia->second, ib->second, ix->second};
        if (out->pieces[g.result] != out->pieces[g.left] + out->pieces[g.right])
            return fail(err, "byte-level BPE: merge %zu '%s': the tokens' bytes do not concatenate (types %u, %u, %u)",
                        r, printable_text(s, 40).c_str(), types[g.left], types[g.right], types[g.result]);
        if (out->pieces[g.result].size() > AGM_BPE_MAX_MERGED_BYTES)
            return fail(err, "byte-level BPE: merge %zu makes a token of %zu bytes (at most %u)", r,
                        out->pieces[g.result].size(), AGM_BPE_MAX_MERGED_BYTES);
        if (!seen.emplace(std::make_pair(g.left, g.right), (uint32_t)r).second) continue;  // first rank wins
        out->merges.push_back(g);
    }
    return true;
}

bool bpe_pre_tokenizer_from_name(const std::string& name, uint32_t* pre, uint32_t* flags, Error* err) {
    // llama.cpp's "default" (also what a missing tokenizer.ggml.pre means) is
    // a sequence of four regexes of its own, not GPT-2's: refused below
    // rather than tokenised differently.
    if (name == "gpt-2") {
        *pre = AGM_PRE_GPT2;
        *flags = 0;
    } else if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") {
        *pre = AGM_PRE_LLAMA3;
        *flags = AGM_TOK_IGNORE_MERGES;
    } else if (name == "falcon") {
        *pre = AGM_PRE_FALCON;
        *flags = 0;
    } else {
        return fail_as(err, ErrorKind::Unsupported,
                       "tokenizer.ggml.pre '%.64s' is not supported (gpt-2, llama-bpe, llama3, llama-v3, falcon)",
                       name.c_str());
    }
    return true;
}

}  // namespace agm
