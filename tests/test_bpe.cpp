// Byte-level BPE tests that need neither Perl nor a GGUF: the Unicode class
// table, GPT-2's alphabet, the pre-tokenizers on hand-checked splits, hand-made
// vocabularies with known merges, special tokens, invalid UTF-8, a naive
// reference encoder (quadratic, string maps) against the engine on the corpus
// and random strings with a vocabulary trained here, round trips, the section's
// validation against hostile bytes, and the C API on a synthetic model.
// Then llama.cpp's GPT-2 conformance vectors through the GGUF path.
// (tests/bpe_compare.sh checks splits and encodings against Perl.)
#include "doctest.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/synth.h"
#include "agm/tokenizer_section.h"
#include "agm/vocab.h"
#include "agmodel.h"
#include "bpe_test_util.h"
#include "pretokenize.h"
#include "test_util.h"
#include "tokenizer.h"

#ifndef AGM_SOURCE_DIR
#define AGM_SOURCE_DIR "."
#endif
#ifndef AGM_SHARED_DIR
#define AGM_SHARED_DIR "/work/shared"
#endif

namespace {

using agm_test::BpeTok;
using agm_test::read_text;
using V = std::vector<int32_t>;
using S = std::vector<std::string>;

S corpus_records() {
    const std::string c = read_text(std::string(AGM_SOURCE_DIR) + "/tests/data/corpus.txt");
    REQUIRE(!c.empty());
    S out;
    size_t pos = 0;
    while (pos < c.size()) {
        size_t k = c.find('\n', pos);
        if (k == std::string::npos) k = c.size();
        out.push_back(c.substr(pos, k - pos));
        pos = k + 1;
    }
    const std::string adv = read_text(std::string(AGM_SOURCE_DIR) + "/tests/data/bpe_adversarial.txt");
    REQUIRE(!adv.empty());
    pos = 0;
    while (pos < adv.size()) {
        size_t k = adv.find('\n', pos);
        if (k == std::string::npos) k = adv.size();
        const std::string l = adv.substr(pos, k - pos);
        if (!l.empty() && l[0] != '#') out.push_back(agm_test::unescape(l));
        pos = k + 1;
    }
    return out;
}

// GPT-2's spelling of raw bytes.
std::string spell(const std::string& raw) {
    std::string s;
    for (unsigned char b : raw) agm_test::put_utf8(&s, agm::gpt2_byte_to_unicode(b));
    return s;
}

// A vocabulary as a GGUF spells it: 256 byte tokens (id = byte), then merge
// results and special tokens in the order added.
struct Hand {
    S tokens;
    std::vector<uint8_t> types;
    S merges;
    Hand() {
        for (int b = 0; b < 256; b++) {
            tokens.push_back(spell(std::string(1, (char)b)));
            types.push_back(AGM_TOKEN_NORMAL);
        }
    }
    int32_t id(const std::string& spelled) const {
        for (size_t i = 0; i < tokens.size(); i++)
            if (tokens[i] == spelled) return (int32_t)i;
        return -1;
    }
    int32_t merge(const std::string& a, const std::string& b) {  // raw parts
        merges.push_back(spell(a) + " " + spell(b));
        const int32_t have = id(spell(a + b));
        if (have >= 0) return have;
        tokens.push_back(spell(a + b));
        types.push_back(AGM_TOKEN_NORMAL);
        return (int32_t)tokens.size() - 1;
    }
    int32_t add(const std::string& text, uint8_t type) {
        tokens.push_back(type == AGM_TOKEN_NORMAL ? spell(text) : text);
        types.push_back(type);
        return (int32_t)tokens.size() - 1;
    }
    agm::Vocab vocab(uint32_t pre = AGM_PRE_GPT2, uint32_t flags = 0) const {
        agm::Vocab v;
        agm::Error err;
        v.kind = AGM_TOKENIZER_BPE_BYTES;
        REQUIRE_MESSAGE(agm::bpe_vocab_from_strings(tokens, types, merges, &v, &err), err.msg);
        v.pre_tokenizer = pre;
        v.flags = flags;
        return v;
    }
};

struct Built {
    agm::Vocab vocab;
    BpeTok tok;
    V encode(const std::string& s, bool bos = false) const {
        V ids;
        agm::Error err;
        REQUIRE_MESSAGE(tok.encode(s, &ids, &err, bos), err.msg);
        return ids;
    }
};

std::unique_ptr<Built> build(const agm::Vocab& v) {
    std::unique_ptr<Built> b(new Built);
    b->vocab = v;
    agm::Error err;
    REQUIRE_MESSAGE(b->tok.build(v, &err), err.msg);
    return b;
}

V bytes_of(const std::string& s) {
    V ids;
    for (unsigned char c : s) ids.push_back(c);
    return ids;
}

// ---- a vocabulary trained on the corpus, and a naive reference encoder ----

// 256 byte tokens, `n_merges` merges learned from the corpus's GPT-2
// pre-tokens (most frequent pair first, ties to the smallest ids), then a
// control and a user-defined token.
const Hand& trained() {
    const int n_merges = 300;
    static Hand h;
    static bool done = false;
    if (done) return h;
    std::map<std::string, int> words;
    for (const std::string& r : corpus_records())
        for (const std::string& w : agm_test::pretokenize(AGM_PRE_GPT2, r)) words[w]++;
    std::vector<std::pair<V, int>> ws;
    for (auto& w : words) ws.push_back({bytes_of(w.first), w.second});
    std::vector<std::string> raw(256);
    for (int b = 0; b < 256; b++) raw[b] = std::string(1, (char)b);
    for (int m = 0; m < n_merges; m++) {
        std::unordered_map<uint64_t, long> count;
        for (auto& w : ws)
            for (size_t i = 0; i + 1 < w.first.size(); i++)
                count[(uint64_t)w.first[i] << 32 | (uint32_t)w.first[i + 1]] += w.second;
        uint64_t best = 0;
        long best_n = 0;
        for (auto& c : count)
            if (c.second > best_n || (c.second == best_n && c.first < best)) best = c.first, best_n = c.second;
        if (best_n < 2) break;
        const int32_t l = (int32_t)(best >> 32), r = (int32_t)(uint32_t)best;
        const int32_t x = h.merge(raw[l], raw[r]);
        if ((size_t)x >= raw.size()) raw.push_back(raw[l] + raw[r]);
        for (auto& w : ws) {
            V out;
            for (size_t i = 0; i < w.first.size(); i++) {
                if (i + 1 < w.first.size() && w.first[i] == l && w.first[i + 1] == r) out.push_back(x), i++;
                else out.push_back(w.first[i]);
            }
            w.first.swap(out);
        }
    }
    h.add("<|endoftext|>", AGM_TOKEN_CONTROL);
    h.add("<tool>", AGM_TOKEN_USER_DEFINED);
    h.add("tool", AGM_TOKEN_USER_DEFINED);  // shorter, inside the other: longest first
    done = true;
    return h;
}

// The definition, restated plainly: specials cut longest first (ties: lower
// id), pre-tokens from the scanner (checked against Perl elsewhere), then
// "merge the lowest-ranked adjacent pair, leftmost on ties" by string maps.
struct Reference {
    const agm::Vocab& v;
    std::map<std::string, int32_t> normal;                    // raw bytes -> lowest NORMAL id
    std::map<std::pair<std::string, std::string>, int> rank;  // first rank wins
    std::vector<int32_t> special;
    explicit Reference(const agm::Vocab& vocab) : v(vocab) {
        for (size_t i = 0; i < v.pieces.size(); i++) {
            if (v.types[i] == AGM_TOKEN_NORMAL) normal.emplace(v.pieces[i], (int32_t)i);
            if ((v.types[i] == AGM_TOKEN_CONTROL || v.types[i] == AGM_TOKEN_USER_DEFINED) && !v.pieces[i].empty())
                special.push_back((int32_t)i);
        }
        for (size_t r = 0; r < v.merges.size(); r++)
            rank.emplace(std::make_pair(v.pieces[v.merges[r].left], v.pieces[v.merges[r].right]), (int)r);
        std::stable_sort(special.begin(), special.end(),
                         [&](int32_t a, int32_t b) { return v.pieces[a].size() > v.pieces[b].size(); });
    }
    void word(const std::string& w, V* out) const {
        if ((v.flags & AGM_TOK_IGNORE_MERGES) && normal.count(w)) {
            out->push_back(normal.at(w));
            return;
        }
        S sym;
        for (char c : w) sym.push_back(std::string(1, c));
        for (;;) {
            int best = -1;
            size_t at = 0;
            for (size_t i = 0; i + 1 < sym.size(); i++) {
                auto it = rank.find({sym[i], sym[i + 1]});
                if (it != rank.end() && (best < 0 || it->second < best)) best = it->second, at = i;
            }
            if (best < 0) break;
            sym[at] += sym[at + 1];
            sym.erase(sym.begin() + (long)at + 1);
        }
        for (const std::string& s : sym) out->push_back(normal.at(s));
    }
    void part(const std::string& t, size_t k, V* out) const {
        for (size_t j = k; j < special.size(); j++) {
            const size_t i = t.find(v.pieces[special[j]]);
            if (i == std::string::npos) continue;
            part(t.substr(0, i), j + 1, out);
            out->push_back(special[j]);
            part(t.substr(i + v.pieces[special[j]].size()), j, out);
            return;
        }
        for (const std::string& w : agm_test::pretokenize(v.pre_tokenizer, t)) word(w, out);
    }
    V encode(const std::string& t) const {
        V out;
        part(t, 0, &out);
        return out;
    }
};

S random_strings(uint32_t seed, int n) {
    static const char* atoms[] = {" ", "  ", "\n", "\t", "\r\n", "a", "the", "ing", " of", "\xff", "\x80", "\xe6\x97",
                                  "\xe6\x97\xa5", "\xf0\x9f\x9a\x80", "<|endoftext|>", "<tool>", "tool", "'s", "'LL",
                                  "123", "4", "Hello", "\xc3\xa9", "\xc5\xbf", "!", "...", "\xe3\x80\x80", "x"};
    const size_t n_atoms = sizeof atoms / sizeof atoms[0];
    std::mt19937 rng(seed);
    S out;
    for (int i = 0; i < n; i++) {
        std::string l;
        const int reps = rng() % 16 == 0 ? 60 : 1;  // sometimes pre-tokens past 128 bytes
        for (int k = (int)(rng() % 14); k > 0; k--) {
            const char* a = atoms[rng() % n_atoms];
            for (int r = 0; r < reps; r++) l += a;
        }
        if (rng() % 10 == 0) l.push_back('\0');
        out.push_back(l);
    }
    return out;
}

}  // namespace

TEST_CASE("bpe: Unicode classes of sample code points") {
    MESSAGE("class table from Unicode " << std::string(agm::unicode_version()));
    CHECK(std::string(agm::unicode_version()) == "14.0.0");
    struct {
        uint32_t cp;
        int cls;
    } samples[] = {
        {'A', 1}, {'z', 1}, {0xAA, 1}, {0x1C5, 1}, {0x2C6, 1}, {0x4E16, 1}, {0xAC00, 1}, {0x17F, 1}, {0x10400, 1},
        {'0', 2}, {0x663, 2}, {0x216B, 2}, {0xBD, 2}, {0xFF11, 2}, {0x1D7CE, 2},
        {'!', 3}, {'\'', 3}, {0xBF, 3}, {0x2014, 3}, {0x3001, 3}, {'_', 3}, {'-', 3},
        {'\t', 4}, {'\n', 4}, {0x0B, 4}, {'\r', 4}, {' ', 4}, {0x85, 4}, {0xA0, 4}, {0x1680, 4}, {0x2000, 4},
        {0x200A, 4}, {0x2028, 4}, {0x2029, 4}, {0x202F, 4}, {0x205F, 4}, {0x3000, 4},
        {'$', 0}, {'+', 0}, {'<', 0}, {'^', 0}, {'`', 0}, {'|', 0}, {'~', 0}, {0, 0}, {0x7F, 0}, {0x200B, 0},
        {0x180E, 0}, {0xFEFF, 0}, {0x301, 0}, {0x903, 0}, {0x1F600, 0}, {0x378, 0}, {0xE000, 0}, {0xD800, 0},
        {0x10FFFF, 0}, {0x110000, 0}, {0xFFFFFFFF, 0},
    };
    for (auto& s : samples) CHECK_MESSAGE(agm::unicode_class(s.cp) == s.cls, "code point " << s.cp);
    // UTF-8: well-formed sequences only; anything else is one byte at a time.
    auto dec = [](const char* s, size_t n, uint32_t* cp) {
        return agm::utf8_char(reinterpret_cast<const uint8_t*>(s), 0, n, cp);
    };
    uint32_t cp;
    CHECK(dec("\xf0\x9f\x9a\x80", 4, &cp) == 4);
    CHECK(cp == 0x1F680);
    CHECK(dec("\xf4\x8f\xbf\xbf", 4, &cp) == 4);
    CHECK(cp == 0x10FFFF);
    const char* bad[] = {"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80", "\xf0\x80\x80\x80",
                         "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80", "\xff", "\xe6\x97", "\xc3"};
    for (const char* b : bad) {
        CHECK(dec(b, std::strlen(b), &cp) == 1);
        CHECK(cp == agm::kNotUtf8);
    }
}

TEST_CASE("bpe: GPT-2's byte alphabet") {
    CHECK(agm::gpt2_byte_to_unicode('!') == '!');
    CHECK(agm::gpt2_byte_to_unicode(' ') == 0x120);  // Ġ
    CHECK(agm::gpt2_byte_to_unicode('\n') == 0x10A);  // Ċ
    CHECK(agm::gpt2_byte_to_unicode(0x7F) == 0x121);
    CHECK(agm::gpt2_byte_to_unicode(0xA0) == 0x142);
    CHECK(agm::gpt2_byte_to_unicode(0xAD) == 0x143);
    CHECK(agm::gpt2_byte_to_unicode(0xFF) == 0xFF);
    std::string all, raw;
    for (int b = 0; b < 256; b++) all.push_back((char)b);
    REQUIRE(agm::gpt2_unicode_to_bytes(spell(all), &raw));
    CHECK(raw == all);
    CHECK_FALSE(agm::gpt2_unicode_to_bytes("a b", &raw));          // U+0020 is not in the alphabet
    CHECK_FALSE(agm::gpt2_unicode_to_bytes("\xc5\x84", &raw));     // U+0144, one past it
    CHECK_FALSE(agm::gpt2_unicode_to_bytes("\xc4", &raw));         // malformed UTF-8
}

TEST_CASE("bpe: the three pre-tokenizers on hand-checked text") {
    const std::string t = "Hello, y'all! 12345  x\n";
    CHECK(agm_test::pretokenize(AGM_PRE_GPT2, t) == S{"Hello", ",", " y", "'", "all", "!", " 12345", " ", " x", "\n"});
    CHECK(agm_test::pretokenize(AGM_PRE_LLAMA3, t) ==
          S{"Hello", ",", " y", "'all", "!", " ", "123", "45", " ", " x", "\n"});
    CHECK(agm_test::pretokenize(AGM_PRE_FALCON, t) ==
          S{"Hello", ",", " y", "'", "all", "!", " ", "123", "45", " ", " x", "\n"});
    CHECK(agm_test::pretokenize(AGM_PRE_GPT2, "it's 'S") == S{"it", "'s", " '", "S"});
    CHECK(agm_test::pretokenize(AGM_PRE_LLAMA3, "IT'S 'Ll'\xc5\xbf") == S{"IT", "'S", " '", "Ll", "'\xc5\xbf"});
    CHECK(agm_test::pretokenize(AGM_PRE_LLAMA3, "a \n\n b\t\r\n!") == S{"a", " \n\n", " b", "\t\r\n", "!"});
    CHECK(agm_test::pretokenize(AGM_PRE_GPT2, "a \n\n b") == S{"a", " \n\n", " b"});
    CHECK(agm_test::pretokenize(AGM_PRE_GPT2, "\xff\xfe z\x80") == S{"\xff\xfe", " z", "\x80"});
    CHECK(agm_test::pretokenize(AGM_PRE_FALCON, "a\tb") == S{"a", "\t", "b"});  // a gap of Falcon's second regex
    CHECK(agm_test::pretokenize(AGM_PRE_GPT2, "").empty());
    CHECK(agm_test::pretokenize(99, "whole text") == S{"whole text"});
}

TEST_CASE("bpe: merges by rank, leftmost on ties") {
    Hand h;
    const int32_t ll = h.merge("l", "l"), he = h.merge("h", "e"), hell = h.merge("he", "ll"), hello = h.merge("hell", "o");
    const int32_t aa = h.merge("a", "a"), bc = h.merge("b", "c"), ab = h.merge("a", "b");
    auto b = build(h.vocab());
    CHECK(b->encode("hello") == V{hello});
    CHECK(b->encode("hell") == V{hell});
    CHECK(b->encode("helo") == V{he, 'l', 'o'});
    CHECK(b->encode("llo") == V{ll, 'o'});
    CHECK(b->encode("aaa") == V{aa, 'a'});  // leftmost of equal ranks
    CHECK(b->encode("aaaa") == V{aa, aa});
    CHECK(b->encode("abc") == V{'a', bc});  // the lower rank wins over the leftmost
    CHECK(b->encode("ab") == V{ab});
    CHECK(b->encode(" hello hello") == V{' ', hello, ' ', hello});  // " hello" has no merge for ' '
    CHECK(b->encode("") == V{});
    CHECK(b->tok.view.n_merges == 7);
}

TEST_CASE("bpe: ignore_merges emits a pre-token that is a token whole") {
    Hand h;
    const int32_t ab = h.merge("a", "b");
    const int32_t abc = h.add("abc", AGM_TOKEN_NORMAL);  // no merge makes it
    auto plain = build(h.vocab(AGM_PRE_LLAMA3));
    auto ignore = build(h.vocab(AGM_PRE_LLAMA3, AGM_TOK_IGNORE_MERGES));
    CHECK(plain->encode("abc") == V{ab, 'c'});
    CHECK(ignore->encode("abc") == V{abc});
    CHECK(ignore->encode("abcabc") == V{ab, 'c', ab, 'c'});
    CHECK(ignore->encode("abc abc") == V{abc, ' ', ab, 'c'});  // " abc" is not a token
}

TEST_CASE("bpe: special tokens are cut out first, longest first") {
    Hand h;
    const int32_t eot = h.add("<|endoftext|>", AGM_TOKEN_CONTROL);
    const int32_t abc = h.add("abc", AGM_TOKEN_CONTROL);
    const int32_t xa = h.add("xa", AGM_TOKEN_USER_DEFINED);
    const int32_t c1 = h.add("c1", AGM_TOKEN_USER_DEFINED);
    const int32_t c2 = h.add("1d", AGM_TOKEN_USER_DEFINED);
    h.add("", AGM_TOKEN_CONTROL);  // empty texts never match
    const int32_t norm = h.add("zz", AGM_TOKEN_NORMAL);  // normal tokens are not specials
    (void)norm;
    auto b = build(h.vocab());
    CHECK(b->encode("<|endoftext|>") == V{eot});
    CHECK(b->encode("a<|endoftext|>b") == V{'a', eot, 'b'});
    CHECK(b->encode("<|endoftext|><|endoftext|>") == V{eot, eot});
    CHECK(b->encode("<|endoftext|") == bytes_of("<|endoftext|"));
    CHECK(b->encode("xabc") == V{'x', abc});   // llama.cpp: the longer token first, though xa starts earlier
    CHECK(b->encode("xaxabc") == V{xa, 'x', abc});
    CHECK(b->encode("c1d") == V{c1, 'd'});     // equal lengths: the lower id first
    CHECK(b->encode(" abc ") == V{' ', abc, ' '});  // pre-tokenized around it: no " " joins
    CHECK(b->encode("zz") == V{'z', 'z'});
    CHECK(c2 > c1);
    // Nested deeper than the stack frames kept inline (32): 40 specials of
    // decreasing length, each found inside the text left of the previous one.
    Hand deep;
    V want;
    std::string text;
    for (int i = 0; i < 40; i++) {
        const std::string s = "<" + std::string(60 - i, (char)('A' + i % 26)) + ">";
        deep.add(s, AGM_TOKEN_USER_DEFINED);
    }
    for (int i = 39; i >= 0; i--) {
        text += "<" + std::string(60 - i, (char)('A' + i % 26)) + ">";
        want.push_back(256 + i);
    }
    auto d = build(deep.vocab());
    CHECK(d->encode(text) == want);
}

TEST_CASE("bpe: invalid UTF-8 encodes through the byte tokens and decodes back") {
    Hand h;
    h.merge("\xe6", "\x97");
    const int32_t bad_pair = (int32_t)h.tokens.size() - 1;
    auto b = build(h.vocab());
    CHECK(b->encode("\xff\xfe") == V{0xFF, 0xFE});
    CHECK(b->encode("\xe6\x97") == V{bad_pair});
    CHECK(b->encode(std::string("a\0b", 3)) == V{'a', 0, 'b'});
    for (const char* s : {"\xff", "\xc0\x80", "\xed\xa0\x80z", "\xf4\x90\x80\x80", " \x80\x80 x\xe2\x80"})
        CHECK(b->tok.decode(b->encode(s)) == s);
    // A vocabulary without some byte's token: unk if it has one, else an error.
    Hand few;
    few.types[0xFF] = AGM_TOKEN_UNUSED;
    agm::Vocab v = few.vocab();
    auto no_unk = build(v);
    V ids;
    agm::Error err;
    CHECK_FALSE(no_unk->tok.encode("a\xff", &ids, &err));
    CHECK(std::string(err.msg).find("byte 0xFF has no token") != std::string::npos);
    v.unk_id = 0xFF;
    CHECK(build(v)->encode("a\xff") == V{'a', 0xFF});
}

TEST_CASE("bpe: decode, BOS, buffer sizes") {
    Hand h;
    const int32_t hi = h.merge("h", "i");
    const int32_t eot = h.add("<|endoftext|>", AGM_TOKEN_CONTROL);
    const int32_t user = h.add("<tool>", AGM_TOKEN_USER_DEFINED);
    const int32_t unk = h.add("<unk>", AGM_TOKEN_UNKNOWN);
    const int32_t byte = h.add("<0x41>", AGM_TOKEN_BYTE);
    agm::Vocab v = h.vocab();
    v.bos_id = v.eos_id = eot;
    auto b = build(v);
    char buf[16];
    CHECK(b->tok.tok.decode(-1, hi, buf, sizeof buf) == 2);
    CHECK(std::string(buf, 2) == "hi");
    CHECK(b->tok.tok.decode(eot, ' ', buf, sizeof buf) == 1);  // no space dropping after BOS
    CHECK(buf[0] == ' ');
    CHECK(b->tok.tok.decode(-1, eot, buf, sizeof buf) == 0);
    CHECK(b->tok.tok.decode(-1, unk, buf, sizeof buf) == 0);
    CHECK(b->tok.tok.decode(-1, user, buf, sizeof buf) == 6);
    CHECK(b->tok.tok.decode(-1, byte, buf, sizeof buf) == 1);
    CHECK(buf[0] == 'A');
    CHECK(b->tok.tok.decode(-1, user, buf, 2) == 6);  // truncated, full length returned
    CHECK(b->tok.tok.decode(-1, (int32_t)v.pieces.size(), buf, sizeof buf) == 0);
    CHECK(b->tok.tok.decode(-1, -1, buf, sizeof buf) == 0);
    CHECK(b->encode("hi", true) == V{eot, hi});
    int32_t ids[2];
    size_t n = 0;
    agm::Error err;
    CHECK_FALSE(b->tok.tok.encode("hi hi", 5, true, ids, 2, &n, &err));
    CHECK(n == 4);
    CHECK(err.kind == agm::ErrorKind::Argument);
    CHECK(ids[0] == eot);
    CHECK(ids[1] == hi);
    CHECK_FALSE(b->tok.tok.encode("hi", 2, false, nullptr, 0, &n, &err));
    CHECK(n == 1);
    agm::Vocab nobos = h.vocab();
    CHECK_FALSE(build(nobos)->tok.tok.encode("hi", 2, true, ids, 2, &n, &err));
    CHECK(std::string(err.msg).find("no BOS") != std::string::npos);
    CHECK(b->tok.tok.memory_bytes() > 0);
}

TEST_CASE("bpe: a trained vocabulary against the naive reference, and round trips") {
    const Hand& h = trained();
    MESSAGE("trained vocabulary: " << h.tokens.size() << " tokens, " << h.merges.size() << " merges");
    S recs = corpus_records();
    const S rnd = random_strings(20240607, 1500);
    recs.insert(recs.end(), rnd.begin(), rnd.end());
    std::string whole;
    for (const std::string& r : recs) whole += r + "\n";
    recs.push_back(whole);
    for (uint32_t pre : {AGM_PRE_GPT2, AGM_PRE_LLAMA3, AGM_PRE_FALCON}) {
        for (uint32_t flags : {0u, (uint32_t)AGM_TOK_IGNORE_MERGES}) {
            auto b = build(h.vocab(pre, flags));
            const Reference ref(b->vocab);
            size_t pass = 0, trips = 0, shown = 0;
            for (size_t i = 0; i < recs.size(); i++) {
                const V got = b->encode(recs[i]);
                if (got == ref.encode(recs[i])) pass++;
                else if (shown++ < 3) FAIL_CHECK("style " << pre << " flags " << flags << " record " << i);
                // Control tokens decode to nothing; everything else to its bytes.
                std::string want = recs[i];
                for (size_t k; (k = want.find("<|endoftext|>")) != std::string::npos;) want.erase(k, 13);
                if (b->tok.decode(got) == want) trips++;
            }
            MESSAGE("style " << pre << std::string(flags ? " +ignore_merges" : "") << ": " << pass << "/" << recs.size()
                             << " agree with the reference, " << trips << " round trips");
            CHECK(pass == recs.size());
            CHECK(trips == recs.size());
        }
    }
}

TEST_CASE("bpe: converter-side refusals") {
    agm::Vocab v;
    agm::Error err;
    Hand h;
    h.merge("a", "b");
    v.kind = AGM_TOKENIZER_BPE_BYTES;
    S toks = h.tokens;
    toks['a'] = "a b";  // a NORMAL token outside the alphabet
    CHECK_FALSE(agm::bpe_vocab_from_strings(toks, h.types, h.merges, &v, &err));
    CHECK(std::string(err.msg).find("token 97") != std::string::npos);
    CHECK_FALSE(agm::bpe_vocab_from_strings(h.tokens, h.types, S{"ab"}, &v, &err));
    CHECK(std::string(err.msg).find("merge 0 'ab'") != std::string::npos);
    CHECK_FALSE(agm::bpe_vocab_from_strings(h.tokens, h.types, S{"a c"}, &v, &err));  // "ac" is no token
    CHECK(std::string(err.msg).find("'ac' is not a token") != std::string::npos);
    CHECK_FALSE(agm::bpe_vocab_from_strings(h.tokens, std::vector<uint8_t>(3, 1), h.merges, &v, &err));
    // A pair merged twice: the first rank is kept.
    REQUIRE(agm::bpe_vocab_from_strings(h.tokens, h.types, S{"a b", "a b"}, &v, &err));
    CHECK(v.merges.size() == 1);
    // serialize_tokenizer re-checks what it writes.
    v.pre_tokenizer = AGM_PRE_GPT2;
    std::vector<uint8_t> out;
    CHECK(agm::serialize_tokenizer(v, &out, &err));
    agm::Vocab w = v;
    w.merges.push_back(w.merges[0]);
    CHECK_FALSE(agm::serialize_tokenizer(w, &out, &err));
    CHECK(std::string(err.msg).find("same pair") != std::string::npos);
    w = v;
    w.merges[0].result = 'c';
    CHECK_FALSE(agm::serialize_tokenizer(w, &out, &err));
    w = v;
    w.scores.assign(w.pieces.size(), 0.0f);
    CHECK_FALSE(agm::serialize_tokenizer(w, &out, &err));
    w = v;
    w.pre_tokenizer = 4;
    CHECK_FALSE(agm::serialize_tokenizer(w, &out, &err));
    w = v;
    w.flags = AGM_TOK_ESCAPE_WS;
    CHECK_FALSE(agm::serialize_tokenizer(w, &out, &err));
    // Pre-tokenizer names.
    uint32_t pre = 0, flags = 0;
    CHECK(agm::bpe_pre_tokenizer_from_name("gpt-2", &pre, &flags, &err));
    CHECK((pre == AGM_PRE_GPT2 && flags == 0));
    CHECK(agm::bpe_pre_tokenizer_from_name("llama-bpe", &pre, &flags, &err));
    CHECK((pre == AGM_PRE_LLAMA3 && flags == AGM_TOK_IGNORE_MERGES));
    CHECK(agm::bpe_pre_tokenizer_from_name("falcon", &pre, &flags, &err));
    CHECK(pre == AGM_PRE_FALCON);
    CHECK_FALSE(agm::bpe_pre_tokenizer_from_name("qwen2", &pre, &flags, &err));
    CHECK(err.kind == agm::ErrorKind::Unsupported);
    CHECK(std::string(err.msg).find("'qwen2'") != std::string::npos);
}

TEST_CASE("bpe: hostile sections fail cleanly") {
    const Hand& h = trained();
    agm::Vocab v = h.vocab(AGM_PRE_LLAMA3, AGM_TOK_IGNORE_MERGES);
    std::vector<uint8_t> sec;
    agm::Error err;
    REQUIRE(agm::serialize_tokenizer(v, &sec, &err));
    std::vector<uint32_t> buf((sec.size() + 3) / 4 + 1);
    const uint8_t* base = reinterpret_cast<const uint8_t*>(buf.data());
    agm::TokenizerView view;
    for (size_t cut = 0; cut < sec.size(); cut += (cut < 4096 ? 1 : 7)) {
        std::memcpy(buf.data(), sec.data(), cut);
        CHECK_FALSE(agm::parse_tokenizer_section(base, cut, &view, &err));
    }
    // Header and index lies, each alone.
    const size_t n = v.pieces.size(), m = v.merges.size();
    const size_t merges_at = 48 + 4 * (n + 1) + ((n + 3) & ~(size_t)3), by_pair_at = merges_at + 12 * m;
    uint32_t last_pair;  // the merge with the largest pair: first, it breaks the order
    std::memcpy(&last_pair, sec.data() + by_pair_at + 4 * (m - 1), 4);
    struct Lie {
        size_t at;
        uint32_t value;
        const char* says;
    } lies[] = {
        {8, AGM_TOK_ESCAPE_WS, "unknown flags"}, {32, 0, "pre-tokenizer 0"}, {32, 4, "pre-tokenizer 4"},
        {36, 0xFFFFFFFFu, "need"}, {40, 1, "reserved"}, {merges_at, (uint32_t)n, "beyond"},
        {merges_at + 8, 'a', "cannot make"}, {merges_at + 4, 'x', "is not token"},
        {by_pair_at, (uint32_t)m, "names merge"}, {by_pair_at, last_pair, "not strictly increasing"},
    };
    for (const Lie& l : lies) {
        std::memcpy(buf.data(), sec.data(), sec.size());
        std::memcpy(reinterpret_cast<uint8_t*>(buf.data()) + l.at, &l.value, 4);
        CHECK_FALSE(agm::parse_tokenizer_section(base, sec.size(), &view, &err));
        CHECK_MESSAGE(std::string(err.msg).find(l.says) != std::string::npos, err.msg);
    }
    // A merge whose parts concatenate to something else of the right length.
    std::memcpy(buf.data(), sec.data(), sec.size());
    uint32_t left_right[2] = {'b', 'a'};  // "ba" for the first merge's result, if it is 2 bytes
    std::memcpy(reinterpret_cast<uint8_t*>(buf.data()) + merges_at, left_right, 8);
    CHECK_FALSE(agm::parse_tokenizer_section(base, sec.size(), &view, &err));
    // Random flips: whatever is accepted must index and encode safely.
    std::mt19937 rng(777);
    size_t accepted = 0;
    for (int i = 0; i < 6000; i++) {
        std::vector<uint8_t> d = sec;
        const size_t at = i % 2 ? (size_t)(rng() % 64) : (size_t)(rng() % d.size());
        d[at] ^= (uint8_t)(1 + rng() % 255);
        std::memcpy(buf.data(), d.data(), d.size());
        if (!agm::parse_tokenizer_section(base, d.size(), &view, &err)) continue;
        accepted++;
        agm::Tokenizer tok;
        if (!tok.init(view, &err)) continue;
        std::vector<int32_t> ids(256);
        size_t k;
        const char* s = "Once upon a time <tool>\xe4\xb8\x96 \xff!";
        tok.encode(s, std::strlen(s), false, ids.data(), ids.size(), &k, &err);
        char out[8];
        for (uint32_t t = 0; t < view.n_tokens; t += 5) tok.decode(-1, (int32_t)t, out, sizeof out);
    }
    MESSAGE("flipped byte-level BPE sections accepted (still valid): " << accepted << "/6000");
}

TEST_CASE("bpe: the C API on a synthetic model with a byte-level vocabulary") {
    Hand h;
    const int32_t he = h.merge("h", "e");
    h.merge("l", "l");
    const int32_t hell = h.merge("he", "ll");
    const int32_t eot = h.add("<|endoftext|>", AGM_TOKEN_CONTROL);
    agm::Vocab v = h.vocab();
    v.bos_id = v.eos_id = eot;
    agm::SynthConfig c;
    REQUIRE(agm::synth_preset("tiny", &c));
    c.vocab_size = (uint32_t)v.pieces.size();
    std::vector<uint8_t> file;
    agm::Error err;
    REQUIRE_MESSAGE(agm::synth_model(c, &v, &file, &err), err.msg);
    const agm_test::AlignedCopy image(file);
    agm_model* model = nullptr;
    agm_error e;
    REQUIRE_MESSAGE(agm_model_open_memory(image.data(), file.size(), nullptr, &model, &e) == AGM_OK, e.message);
    int32_t ids[16];
    size_t n = 0;
    const char* text = "hello<|endoftext|>\xc3\xa9";
    REQUIRE(agm_tokenize(model, text, std::strlen(text), 1, ids, 16, &n, &e) == AGM_OK);
    CHECK(V(ids, ids + n) == V{eot, hell, 'o', eot, 0xC3, 0xA9});
    char piece[16];
    CHECK(agm_token_piece(model, eot, he, 0, piece, sizeof piece) == 2);
    CHECK(agm_token_piece(model, -1, eot, 0, piece, sizeof piece) == 0);
    CHECK(agm_token_piece(model, -1, 0xC3, AGM_PIECE_PRINTABLE, piece, sizeof piece) == 1);  // part of é: kept
    CHECK(agm_token_piece(model, -1, 0x07, AGM_PIECE_PRINTABLE, piece, sizeof piece) == 0);  // BEL: dropped
    CHECK(agm_token_piece(model, -1, '\n', AGM_PIECE_PRINTABLE, piece, sizeof piece) == 1);
    agm_model_info info;
    agm_model_get_info(model, &info);
    CHECK(info.bos_id == eot);
    agm_model_close(model);
}

TEST_CASE("bpe: llama.cpp's GPT-2 vectors through parse_gguf, vocab_from_gguf and the section") {
    const std::string dir = std::string(AGM_SHARED_DIR) + "/tokenizers/gpt2-50k/";
    const std::string g = read_text(dir + "ggml-vocab-gpt-2.gguf");
    REQUIRE(!g.empty());
    agm::GgufFile f;
    agm::Error err;
    REQUIRE_MESSAGE(agm::parse_gguf(reinterpret_cast<const uint8_t*>(g.data()), g.size(), &f, &err), err.msg);
    agm::Vocab v;
    std::string kind;
    REQUIRE_MESSAGE(agm::vocab_from_gguf(f, &v, &kind, &err), err.msg);
    CHECK(kind == "gpt2");
    CHECK(v.kind == AGM_TOKENIZER_BPE_BYTES);
    CHECK(v.pre_tokenizer == AGM_PRE_GPT2);
    CHECK(v.flags == AGM_TOK_NO_BOS);  // no tokenizer.ggml.add_bos_token: GPT-2 takes no BOS
    CHECK(v.pieces.size() == 50257);
    CHECK(v.merges.size() == 50000);
    CHECK(v.bos_id == 50256);
    CHECK(v.eos_id == 50256);
    CHECK(v.types[50256] == AGM_TOKEN_CONTROL);
    CHECK(v.pieces[220] == " ");     // "Ġ", stored raw
    CHECK(v.pieces[198] == "\n");    // "Ċ"
    CHECK(v.pieces[50256] == "<|endoftext|>");
    BpeTok t;
    REQUIRE_MESSAGE(t.build(v, &err), err.msg);
    MESSAGE("GPT-2 section: " << t.bytes << " bytes, index " << t.tok.memory_bytes() << " bytes");

    // Inputs are separated by lines "__ggml_vocab_test__"; one line of ids (no BOS) each.
    const std::string inp = read_text(dir + "vectors.inp"), out = read_text(dir + "vectors.out");
    REQUIRE((!inp.empty() && !out.empty()));
    S inputs, lines;
    const std::string sep = "\n__ggml_vocab_test__\n";
    for (size_t pos = 0;;) {
        const size_t k = inp.find(sep, pos);
        if (k == std::string::npos) {
            CHECK(inp.substr(pos).empty());  // the file ends with a separator
            break;
        }
        inputs.push_back(inp.substr(pos, k - pos));
        pos = k + sep.size();
    }
    for (size_t pos = 0; pos < out.size();) {
        size_t k = out.find('\n', pos);
        if (k == std::string::npos) k = out.size();
        lines.push_back(out.substr(pos, k - pos));
        pos = k + 1;
    }
    size_t separators = 0;
    for (size_t k = 0; (k = inp.find("__ggml_vocab_test__", k)) != std::string::npos; k++) separators++;
    CHECK(inputs.size() == separators);
    REQUIRE(inputs.size() == lines.size());
    size_t pass = 0, trips = 0;
    for (size_t i = 0; i < inputs.size(); i++) {
        V ids;
        REQUIRE_MESSAGE(t.encode(inputs[i], &ids, &err), err.msg);
        std::string got;
        for (int32_t id : ids) got += " " + std::to_string(id);
        if (got == lines[i]) pass++;
        else FAIL_CHECK("vector " << i << ": got [" << got << "] want [" << lines[i] << "]");
        if (t.decode(ids) == inputs[i]) trips++;
    }
    MESSAGE(pass << "/" << inputs.size() << " llama.cpp vectors agree");
    CHECK(pass == inputs.size());
    CHECK(trips == inputs.size());

    // A 1 MB input: time, and the decode gives it back.
    const std::string unit = "Hello world, \xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xe4\xb8\x96\xe7\x95\x8c  "
                             "\xf0\x9f\x9a\x80 42\t'll\n<|endoftext|>";
    std::string text;
    while (text.size() < (1u << 20)) text += unit;
    V ids;
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(t.encode(text, &ids, &err));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("1 MB: " << ids.size() << " tokens in " << secs << " s");
    CHECK(secs < 10.0);
    std::string want = text;
    for (size_t k; (k = want.find("<|endoftext|>")) != std::string::npos;) want.erase(k, 13);
    CHECK(t.decode(ids) == want);
}
