// Helpers shared by the byte-level BPE tests (test_bpe.cpp) and the Perl
// comparison tool (tok_bpe_compare.cpp): records, hex, the oracle's text
// dump of a vocabulary, a tokenizer built through the real section.
#ifndef AGM_TESTS_BPE_TEST_UTIL_H
#define AGM_TESTS_BPE_TEST_UTIL_H

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/tokenizer_section.h"
#include "agm/vocab.h"
#include "pretokenize.h"
#include "tokenizer.h"

namespace agm_test {

inline std::string hex(const std::string& s) {
    static const char digits[] = "0123456789abcdef";
    std::string h;
    for (unsigned char c : s) {
        h.push_back(digits[c >> 4]);
        h.push_back(digits[c & 15]);
    }
    return h;
}

inline std::string unhex(const std::string& h) {
    std::string s;
    for (size_t i = 0; i + 1 < h.size(); i += 2) s.push_back((char)std::strtoul(h.substr(i, 2).c_str(), nullptr, 16));
    return s;
}

inline void put_utf8(std::string* s, uint32_t cp) {
    if (cp < 0x80) {
        s->push_back((char)cp);
    } else if (cp < 0x800) {
        s->push_back((char)(0xC0 | (cp >> 6)));
        s->push_back((char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        s->push_back((char)(0xE0 | (cp >> 12)));
        s->push_back((char)(0x80 | ((cp >> 6) & 0x3F)));
        s->push_back((char)(0x80 | (cp & 0x3F)));
    } else {
        s->push_back((char)(0xF0 | (cp >> 18)));
        s->push_back((char)(0x80 | ((cp >> 12) & 0x3F)));
        s->push_back((char)(0x80 | ((cp >> 6) & 0x3F)));
        s->push_back((char)(0x80 | (cp & 0x3F)));
    }
}

// bpe_oracle.pl's escapes: \n \r \t \\ \xHH \u{H..}; anything else is literal.
inline std::string unescape(const std::string& l) {
    std::string s;
    for (size_t i = 0; i < l.size(); i++) {
        if (l[i] != '\\' || i + 1 >= l.size()) {
            s.push_back(l[i]);
            continue;
        }
        const char c = l[i + 1];
        if (c == 'n' || c == 'r' || c == 't' || c == '\\') {
            s.push_back(c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : '\\');
            i++;
        } else if (c == 'x' && i + 3 < l.size() && std::isxdigit((unsigned char)l[i + 2]) &&
                   std::isxdigit((unsigned char)l[i + 3])) {
            s.push_back((char)std::strtoul(l.substr(i + 2, 2).c_str(), nullptr, 16));
            i += 3;
        } else if (c == 'u' && i + 2 < l.size() && l[i + 2] == '{' && l.find('}', i + 3) != std::string::npos) {
            const size_t close = l.find('}', i + 3);
            put_utf8(&s, (uint32_t)std::strtoul(l.substr(i + 3, close - i - 3).c_str(), nullptr, 16));
            i = close;
        } else {
            s.push_back(l[i]);
        }
    }
    return s;
}

inline uint32_t style_from_name(const std::string& n) {
    return n == "gpt2" ? AGM_PRE_GPT2 : n == "llama3" ? AGM_PRE_LLAMA3 : n == "falcon" ? AGM_PRE_FALCON : 0;
}

inline std::vector<std::string> pretokenize(uint32_t style, const std::string& text) {
    std::vector<std::string> out;
    agm::PreTokenizer p(style, reinterpret_cast<const uint8_t*>(text.data()), text.size());
    size_t b, e;
    while (p.next(&b, &e)) out.push_back(text.substr(b, e - b));
    return out;
}

// bpe_oracle.pl's dump: "tokens N", N x "TYPE HEX", "merges M", M x "HEX HEX",
// "bos ID", "eos ID". Fills a BPE_BYTES vocabulary the converter's way
// (pre-tokenizer and flags left to the caller).
inline bool vocab_from_dump(const std::string& dump, agm::Vocab* v, agm::Error* err) {
    std::vector<std::string> tokens, merges;
    std::vector<uint8_t> types;
    size_t pos = 0;
    auto line = [&](std::string* l) {
        if (pos >= dump.size()) return false;
        size_t k = dump.find('\n', pos);
        if (k == std::string::npos) k = dump.size();
        *l = dump.substr(pos, k - pos);
        pos = k + 1;
        return true;
    };
    std::string l;
    if (!line(&l) || l.compare(0, 7, "tokens ") != 0) return agm::fail(err, "dump: no token count");
    const size_t n = std::strtoul(l.c_str() + 7, nullptr, 10);
    for (size_t i = 0; i < n; i++) {
        if (!line(&l) || l.find(' ') == std::string::npos) return agm::fail(err, "dump: token %zu missing", i);
        types.push_back((uint8_t)std::strtoul(l.c_str(), nullptr, 10));
        tokens.push_back(unhex(l.substr(l.find(' ') + 1)));
    }
    if (!line(&l) || l.compare(0, 7, "merges ") != 0) return agm::fail(err, "dump: no merge count");
    const size_t m = std::strtoul(l.c_str() + 7, nullptr, 10);
    for (size_t i = 0; i < m; i++) {
        if (!line(&l) || l.find(' ') == std::string::npos) return agm::fail(err, "dump: merge %zu missing", i);
        merges.push_back(unhex(l.substr(0, l.find(' '))) + " " + unhex(l.substr(l.find(' ') + 1)));
    }
    v->kind = AGM_TOKENIZER_BPE_BYTES;
    if (!agm::bpe_vocab_from_strings(tokens, types, merges, v, err)) return false;
    while (line(&l)) {
        if (l.compare(0, 4, "bos ") == 0) v->bos_id = (int32_t)std::strtol(l.c_str() + 4, nullptr, 10);
        if (l.compare(0, 4, "eos ") == 0) v->eos_id = (int32_t)std::strtol(l.c_str() + 4, nullptr, 10);
    }
    return true;
}

// A vocabulary serialised, parsed in place (uint32 storage: aligned) and indexed.
struct BpeTok {
    std::vector<uint32_t> section;
    size_t bytes = 0;
    agm::TokenizerView view;
    agm::Tokenizer tok;

    bool build(const agm::Vocab& v, agm::Error* err) {
        std::vector<uint8_t> b;
        if (!agm::serialize_tokenizer(v, &b, err)) return false;
        bytes = b.size();
        section.assign((b.size() + 3) / 4, 0);
        std::memcpy(section.data(), b.data(), b.size());
        return agm::parse_tokenizer_section(reinterpret_cast<const uint8_t*>(section.data()), bytes, &view, err) &&
               tok.init(view, err);
    }
    bool encode(const std::string& s, std::vector<int32_t>* ids, agm::Error* err, bool bos = false) const {
        ids->assign(s.size() + 8, 0);
        size_t n = 0;
        if (!tok.encode(s.data(), s.size(), bos, ids->data(), ids->size(), &n, err)) return false;
        ids->resize(n);
        return true;
    }
    std::string decode(const std::vector<int32_t>& ids) const {
        std::string out;
        char buf[64];
        for (size_t i = 0; i < ids.size(); i++) {
            const size_t n = tok.decode(i ? ids[i - 1] : -1, ids[i], buf, sizeof buf);
            if (n <= sizeof buf) {
                out.append(buf, n);
            } else {
                std::string big(n, '\0');
                tok.decode(i ? ids[i - 1] : -1, ids[i], &big[0], n);
                out += big;
            }
        }
        return out;
    }
};

}  // namespace agm_test

#endif
