// Tokenizer tests: the readers (tokenizer.bin, tokenizer.model), the TOKENIZER
// section round trip and its validation against hostile input, and the
// encoder's exactness (llama.cpp's Llama vectors; a naive llama2.c oracle on
// the corpus; edge cases). The SentencePiece comparison over the corpus is a
// separate test (tok_spm_compare.cpp, run by spm_compare.sh).
#include "doctest.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "agm/tokenizer_section.h"
#include "agm/vocab.h"
#include "tok_util.h"
#include "tokenizer.h"

#ifndef AGM_SHARED_DIR
#define AGM_SHARED_DIR "/work/shared"
#endif
#ifndef AGM_SOURCE_DIR
#define AGM_SOURCE_DIR "."
#endif

namespace {

using agm_test::build;
using agm_test::check_vectors;
using agm_test::ids_str;
using agm_test::split;
using agm_test::Tok;

const std::string kShared = AGM_SHARED_DIR;
const std::string kModel512 = kShared + "/models/bitnet-tinystories-3m/tokenizer.model";
const std::string kBin512 = kShared + "/models/bitnet-tinystories-3m/tokenizer.bin";
const std::string kModel32k = kShared + "/tokenizers/llama2-32k/tokenizer.model";
const std::string kBin32k = kShared + "/tokenizers/llama2-32k/tokenizer.bin";
const std::string kCorpus = std::string(AGM_SOURCE_DIR) + "/tests/data/corpus.txt";

std::string read_file(const std::string& path) {
    std::string s;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return s;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
    return s;
}

std::unique_ptr<Tok> load_model(const std::string& path) {
    std::unique_ptr<Tok> t(new Tok);
    const std::string data = read_file(path);
    REQUIRE_MESSAGE(!data.empty(), path);
    agm::Error err;
    REQUIRE_MESSAGE(agm::read_spm_model(reinterpret_cast<const uint8_t*>(data.data()), data.size(), &t->vocab, &err),
                    err.msg);
    REQUIRE_MESSAGE(build(t.get(), &err), err.msg);
    return t;
}

std::unique_ptr<Tok> load_bin(const std::string& path, uint32_t n) {
    std::unique_ptr<Tok> t(new Tok);
    const std::string data = read_file(path);
    REQUIRE_MESSAGE(!data.empty(), path);
    agm::Error err;
    REQUIRE_MESSAGE(agm::read_llama2c_tokenizer(reinterpret_cast<const uint8_t*>(data.data()), data.size(), n,
                                                &t->vocab, &err),
                    err.msg);
    REQUIRE_MESSAGE(build(t.get(), &err), err.msg);
    return t;
}

// The oracle: llama2.c's encode() restated naively (quadratic rescans, string
// concatenation, a std::map for lookup; byte fallback as the reference's
// "byte + 3"). Independent of the engine's heap and hash table.
std::vector<int32_t> reference_encode(const agm::Vocab& v, const std::map<std::string, int32_t>& lut,
                                      const std::string& text) {
    auto find = [&lut](const std::string& s) {
        auto it = lut.find(s);
        return it == lut.end() ? -1 : it->second;
    };
    std::vector<int32_t> t;
    if (!text.empty()) t.push_back(find(" "));
    for (size_t i = 0; i < text.size();) {
        size_t j = i + 1;
        while (j < text.size() && ((unsigned char)text[j] & 0xC0) == 0x80 && j - i < 4) j++;
        const int32_t id = find(text.substr(i, j - i));
        if (id != -1) {
            t.push_back(id);
        } else {
            for (size_t k = i; k < j; k++) t.push_back((unsigned char)text[k] + 3);
        }
        i = j;
    }
    for (;;) {
        float best = -1e10f;
        int32_t best_id = -1;
        size_t best_i = 0;
        for (size_t i = 0; i + 1 < t.size(); i++) {
            const int32_t id = find(v.pieces[t[i]] + v.pieces[t[i + 1]]);
            if (id != -1 && v.scores[id] > best) {
                best = v.scores[id];
                best_id = id;
                best_i = i;
            }
        }
        if (best_id == -1) break;
        t[best_i] = best_id;
        t.erase(t.begin() + (long)best_i + 1);
    }
    return t;
}

std::map<std::string, int32_t> make_lut(const agm::Vocab& v) {
    std::map<std::string, int32_t> lut;
    for (size_t i = 0; i < v.pieces.size(); i++) lut.emplace(v.pieces[i], (int32_t)i);  // lowest id wins
    return lut;
}

std::vector<std::string> corpus_lines() {
    const std::string c = read_file(kCorpus);
    REQUIRE_MESSAGE(!c.empty(), kCorpus);
    std::vector<std::string> lines = split(c, "\n");
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

void check_oracle(const std::string& bin, uint32_t n, const std::vector<std::string>& extra) {
    std::unique_ptr<Tok> t = load_bin(bin, n);
    const std::map<std::string, int32_t> lut = make_lut(t->vocab);
    std::vector<std::string> lines = corpus_lines();
    lines.insert(lines.end(), extra.begin(), extra.end());
    // Seeded random lines built from awkward atoms (spaces, malformed UTF-8, NUL).
    static const char* atoms[] = {" ", "  ", "\xe2\x96\x81", "a", "the", "ing", "\xff", "\x80", "\xe6\x97",
                                  "\xe6\x97\xa5", "\xf0\x9f\x9a\x80", "\t", "<s>", "Hello", "\xed\xa0\x80", "\xc3\xa9"};
    std::mt19937 rng(12345);
    for (int i = 0; i < 2000; i++) {
        std::string l;
        for (int k = (int)(rng() % 12); k > 0; k--) l += atoms[rng() % 16];
        if (rng() % 8 == 0) l.push_back('\0');
        lines.push_back(l);
    }
    size_t pass = 0, shown = 0;
    for (size_t i = 0; i < lines.size(); i++) {
        const std::vector<int32_t> want = reference_encode(t->vocab, lut, lines[i]);
        const std::vector<int32_t> got = t->encode(lines[i]);
        if (got == want) pass++;
        else if (shown++ < 5)
            FAIL_CHECK(bin << " line " << i + 1 << ": got [" << ids_str(got) << "] want [" << ids_str(want) << "]");
    }
    MESSAGE(bin << ": " << pass << "/" << lines.size() << " lines agree with the llama2.c oracle");
    CHECK(pass == lines.size());
}

// Inputs the oracle must also agree on: malformed UTF-8, NUL, special-piece lookalikes.
const std::vector<std::string> kOdd = {
    std::string("a\x80\x80\x80\x80\x80z", 7), std::string("\xff\xfe", 2), std::string("\xe6\x97", 2),
    std::string("x\xe6\x97y", 4), std::string("\xf0\x9f\x98", 3), std::string("a\0b", 3),
    std::string("\xed\xa0\x80", 3), std::string("\xc0\x80", 2), "<s>", "</s>", "<unk>", "<0x41>",
    "\n<s>\n", "  ", " ", "\t\t", "\n"};

}  // namespace

TEST_CASE("tokenizer: llama.cpp vectors, 32k vocabulary from tokenizer.model") {
    std::unique_ptr<Tok> t = load_model(kModel32k);
    CHECK(t->vocab.pieces.size() == 32000);
    CHECK(t->vocab.flags == (AGM_TOK_ADD_DUMMY_PREFIX | AGM_TOK_ESCAPE_WS | AGM_TOK_BYTE_FALLBACK));
    check_vectors(t.get(), "tokenizer.model");
}

TEST_CASE("tokenizer: llama.cpp vectors, 32k vocabulary from tokenizer.bin") {
    std::unique_ptr<Tok> t = load_bin(kBin32k, 32000);
    check_vectors(t.get(), "tokenizer.bin");
}

TEST_CASE("tokenizer: corpus against the llama2.c oracle (512 tokenizer.bin)") {
    check_oracle(kBin512, 512, kOdd);
}

TEST_CASE("tokenizer: corpus against the llama2.c oracle (32k tokenizer.bin)") {
    check_oracle(kBin32k, 32000, kOdd);
}

TEST_CASE("tokenizer: SentencePiece edge cases (values from spm_encode 0.1.97)") {
    std::unique_ptr<Tok> t32 = load_model(kModel32k);
    std::unique_ptr<Tok> t5 = load_model(kModel512);
    CHECK(t5->vocab.flags == (AGM_TOK_ADD_DUMMY_PREFIX | AGM_TOK_REMOVE_EXTRA_WS | AGM_TOK_ESCAPE_WS |
                              AGM_TOK_BYTE_FALLBACK));
    using V = std::vector<int32_t>;
    CHECK(t32->encode("") == V{});
    CHECK(t32->encode("", true) == V{1});
    CHECK(t5->encode("     ") == V{});
    CHECK(t5->encode(" a  b  ") == V{261, 268});
    CHECK(t32->encode(" a  b  ") == V{29871, 263, 29871, 289, 259});
    CHECK(t32->encode(std::string("a\xff" "b", 3)) == V{263, 30140, 29890});
    CHECK(t32->encode("\xef\xbf\xbd") == V{29871, 30140});  // a real U+FFFD stays one character
    CHECK(t32->encode(std::string("\xe6\x97", 2)) == V{29871, 26308});
    CHECK(t32->encode(std::string("\xed\xa0\x80", 3)) == V{29871, 26308, 30140});
    CHECK(t32->encode(std::string("\xf4\x90\x80\x80", 4)) == V{29871, 26308, 26308});
    CHECK(t5->encode(std::string("\x80\x80", 2)) == V{410, 242, 194, 192, 242, 194, 192});
    CHECK(t32->encode(std::string("a\0b", 3)) == V{263, 3, 29890});
    CHECK(t32->encode("\xe2\x96\x81") == V{259});  // a literal U+2581
    CHECK(t5->encode("\xe2\x96\x81") == V{});      // ... trimmed as trailing whitespace
    CHECK(t5->encode("a\xe2\x96\x81") == V{261});
    CHECK(t5->encode("\t") == V{410, 12});
    CHECK(t5->encode("\xe3\x80\x80x") == V{410, 230, 131, 131, 444});
}

TEST_CASE("tokenizer: a 1 MB input encodes quickly and decodes back") {
    std::unique_ptr<Tok> t = load_model(kModel32k);
    const std::string unit = "Hello world, \xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xe4\xb8\x96\xe7\x95\x8c  \xf0\x9f\x9a\x80 42\t";
    std::string text;
    while (text.size() < (1u << 20)) text += unit;
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int32_t> ids = t->encode(text);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("1 MB: " << ids.size() << " tokens in " << s << " s");
    CHECK(s < 10.0);
    std::string back;
    char buf[64];
    for (size_t i = 0; i < ids.size(); i++) {
        const size_t n = t->tok.decode(i ? ids[i - 1] : -1, ids[i], buf, sizeof buf);
        REQUIRE(n <= sizeof buf);
        back.append(buf, n);
    }
    CHECK(back == " " + text);
    // Also the llama2.c-mode encoder on the same input.
    std::unique_ptr<Tok> b = load_bin(kBin32k, 32000);
    CHECK(b->encode(text).size() > 0);
}

TEST_CASE("tokenizer: output buffer too small") {
    std::unique_ptr<Tok> t = load_model(kModel32k);
    int32_t ids[2];
    size_t n = 0;
    agm::Error err;
    CHECK_FALSE(t->tok.encode("Hello world!", 12, true, ids, 2, &n, &err));
    CHECK(n == 4);
    CHECK(err.kind == agm::ErrorKind::Argument);
    CHECK(std::string(err.msg).find("4 tokens") != std::string::npos);
    CHECK(ids[0] == 1);
    CHECK(ids[1] == 15043);
    CHECK(t->tok.encode("Hello world!", 12, false, nullptr, 0, &n, &err) == false);
    CHECK(n == 3);
}

TEST_CASE("tokenizer: decode") {
    std::unique_ptr<Tok> t = load_model(kModel32k);
    char buf[16];
    CHECK(t->tok.decode(-1, 68, buf, sizeof buf) == 1);  // <0x41>
    CHECK(buf[0] == 'A');
    CHECK(t->tok.decode(1, 15043, buf, sizeof buf) == 5);  // "▁Hello" after BOS
    CHECK(std::string(buf, 5) == "Hello");
    CHECK(t->tok.decode(15043, 15043, buf, sizeof buf) == 6);
    CHECK(std::string(buf, 6) == " Hello");
    CHECK(t->tok.decode(-1, 1, buf, sizeof buf) == 0);      // control
    CHECK(t->tok.decode(-1, 0, buf, sizeof buf) == 0);      // unknown
    CHECK(t->tok.decode(-1, 32000, buf, sizeof buf) == 0);  // out of range
    CHECK(t->tok.decode(-1, -5, buf, sizeof buf) == 0);
    CHECK(t->tok.decode(-1, 15043, buf, 2) == 6);  // truncated, full length returned
    std::unique_ptr<Tok> b = load_bin(kBin512, 512);
    CHECK(b->tok.decode(1, 261, buf, sizeof buf) == 1);  // " a" after BOS
    CHECK(buf[0] == 'a');
    CHECK(b->tok.decode(1, 1, buf, sizeof buf) == 0);
    CHECK(b->tok.memory_bytes() > 0);
}

TEST_CASE("tokenizer: reader refusals and wire-format skipping") {
    auto varint = [](std::string* s, uint64_t v) {
        do {
            uint8_t c = v & 0x7F;
            v >>= 7;
            s->push_back((char)(v ? c | 0x80 : c));
        } while (v);
    };
    auto ld = [&](uint32_t f, const std::string& body) {
        std::string s;
        varint(&s, f << 3 | 2);
        varint(&s, body.size());
        return s + body;
    };
    auto vi = [&](uint32_t f, uint64_t v) {
        std::string s;
        varint(&s, f << 3);
        varint(&s, v);
        return s;
    };
    auto piece = [&](const std::string& p, uint32_t type) { return ld(1, ld(1, p) + vi(3, type)); };
    const std::string pieces = piece("<unk>", 2) + piece("<s>", 3) + piece("</s>", 3) + piece("a", 1);
    std::string junk = vi(9, 12345) + std::string("\x51", 1) + std::string(8, '\x7f') +  // field 10 fixed64
                       std::string("\x5d", 1) + std::string(4, '\x01') +                 // field 11 fixed32
                       ld(12, "skip me") + std::string("\x63", 1) + vi(1, 5) + ld(2, "x") +
                       std::string("\x64", 1);  // field 12 group with content
    agm::Vocab v;
    agm::Error err;
    auto parse = [&](const std::string& m) {
        return agm::read_spm_model(reinterpret_cast<const uint8_t*>(m.data()), m.size(), &v, &err);
    };
    CHECK_MESSAGE(parse(pieces + ld(2, vi(3, 2) + junk) + ld(3, ld(1, "identity") + junk) + junk), err.msg);
    CHECK(v.pieces.size() == 4);
    CHECK(v.flags == (AGM_TOK_ADD_DUMMY_PREFIX | AGM_TOK_REMOVE_EXTRA_WS | AGM_TOK_ESCAPE_WS));
    CHECK(v.pad_id == -1);
    CHECK_FALSE(parse(pieces));  // model_type absent: UNIGRAM
    CHECK(std::string(err.msg).find("only BPE") != std::string::npos);
    CHECK_FALSE(parse(pieces + ld(2, vi(3, 2)) + ld(3, ld(1, "nmt_nfkc") + ld(2, "\x01\x02"))));
    CHECK(std::string(err.msg) == "tokenizer.model uses normalization rule 'nmt_nfkc'; only 'identity' is supported");
    CHECK(err.kind == agm::ErrorKind::Unsupported);
    CHECK_FALSE(parse(pieces + piece("a", 1) + ld(2, vi(3, 2))));  // duplicate
    CHECK_FALSE(parse(pieces + ld(2, vi(3, 2) + vi(41, 7))));      // BOS out of range
    CHECK_FALSE(parse(pieces + ld(2, vi(3, 2) + vi(43, (uint64_t)-2))));
    CHECK_FALSE(parse(pieces + ld(2, vi(3, 2)) + std::string("\x0b", 1)));  // group never closed

    // tokenizer.bin: length past the end, past max_token_length, trailing bytes.
    auto bin = [](std::vector<std::pair<std::string, float>> toks, int32_t maxlen) {
        std::string s((const char*)&maxlen, 4);
        for (auto& t : toks) {
            int32_t n = (int32_t)t.first.size();
            s += std::string((const char*)&t.second, 4) + std::string((const char*)&n, 4) + t.first;
        }
        return s;
    };
    auto rbin = [&](const std::string& s, uint32_t n) {
        return agm::read_llama2c_tokenizer(reinterpret_cast<const uint8_t*>(s.data()), s.size(), n, &v, &err);
    };
    const std::string ok = bin({{"<unk>", 0}, {"<s>", 0}, {"</s>", 0}, {"<0x41>", 0}, {"ab", -1}}, 6);
    CHECK(rbin(ok, 5));
    CHECK(v.types == std::vector<uint8_t>{2, 3, 3, 6, 1});
    CHECK_FALSE(rbin(ok, 4));
    CHECK_FALSE(rbin(ok, 6));
    CHECK_FALSE(rbin(bin({{"<unk>", 0}, {"<s>", 0}, {"</s>", 0}, {"<0x41>", 0}, {"ab", -1}}, 4), 5));
}

TEST_CASE("tokenizer: hostile sections and files fail cleanly") {
    std::mt19937 rng(20240601);
    agm::Error err;
    // Whatever a reader accepts must then serialise, parse, index and encode safely.
    auto use = [&](const agm::Vocab& v) {
        Tok t;
        t.vocab = v;
        if (!build(&t, &err)) return;
        std::vector<int32_t> ids(256);
        size_t n;
        const char* s = "Once upon a time, \xe4\xb8\x96 \xff!";
        t.tok.encode(s, std::strlen(s), true, ids.data(), ids.size(), &n, &err);
        char buf[8];
        for (uint32_t i = 0; i < t.view.n_tokens; i += 7) t.tok.decode(1, (int32_t)i, buf, sizeof buf);
    };
    for (const std::string& path : {kModel512, kBin512}) {
        const std::string file = read_file(path);
        REQUIRE(!file.empty());
        const bool is_bin = path == kBin512;
        auto read = [&](const std::string& d, agm::Vocab* v) {
            const uint8_t* p = reinterpret_cast<const uint8_t*>(d.data());
            return is_bin ? agm::read_llama2c_tokenizer(p, d.size(), 512, v, &err)
                          : agm::read_spm_model(p, d.size(), v, &err);
        };
        size_t accepted = 0;
        for (size_t cut = 0; cut < file.size(); cut++) {
            agm::Vocab v;
            if (read(file.substr(0, cut), &v)) {
                accepted++;
                use(v);
            }
        }
        if (is_bin) CHECK(accepted == 0);
        for (int i = 0; i < 3000; i++) {
            std::string d = file;
            const int flips = 1 + (int)(rng() % 4);
            for (int k = 0; k < flips; k++) d[rng() % d.size()] ^= (char)(1 + rng() % 255);
            agm::Vocab v;
            if (read(d, &v)) use(v);
        }
    }
    // The section itself.
    std::unique_ptr<Tok> t = load_model(kModel512);
    std::vector<uint8_t> sec;
    REQUIRE(agm::serialize_tokenizer(t->vocab, &sec, &err));
    std::vector<uint32_t> buf((sec.size() + 3) / 4 + 1);
    agm::TokenizerView view;
    for (size_t cut = 0; cut < sec.size(); cut++) {
        std::memcpy(buf.data(), sec.data(), cut);
        CHECK_FALSE(agm::parse_tokenizer_section(reinterpret_cast<const uint8_t*>(buf.data()), cut, &view, &err));
    }
    size_t accepted = 0;
    for (int i = 0; i < 20000; i++) {
        std::vector<uint8_t> d = sec;
        const size_t at = i < 4000 ? (size_t)(rng() % 4096) : (size_t)(rng() % d.size());  // header/arrays often
        d[at] ^= (uint8_t)(1 + rng() % 255);
        if (i % 3 == 0) d[rng() % d.size()] = (uint8_t)rng();
        std::memcpy(buf.data(), d.data(), d.size());
        if (!agm::parse_tokenizer_section(reinterpret_cast<const uint8_t*>(buf.data()), d.size(), &view, &err))
            continue;
        accepted++;
        agm::Tokenizer tok;
        if (!tok.init(view, &err)) continue;
        std::vector<int32_t> ids(256);
        size_t n;
        tok.encode("Once upon a time \xe4\xb8\x96", 20, true, ids.data(), ids.size(), &n, &err);
    }
    MESSAGE("flipped sections accepted (still valid): " << accepted << "/20000");
    // Misalignment and header lies.
    std::memcpy(buf.data(), sec.data(), sec.size());
    const uint8_t* base = reinterpret_cast<const uint8_t*>(buf.data());
    CHECK(agm::parse_tokenizer_section(base, sec.size(), &view, &err));
    CHECK_FALSE(agm::parse_tokenizer_section(base + 1, sec.size() - 1, &view, &err));
    uint32_t* h = buf.data();
    const uint32_t saved[8] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]};
    const uint32_t lies[][2] = {{0, 2}, {1, 0}, {1, 0xFFFFFFFFu}, {1, 0x40000000u}, {2, 0x10}, {3, 512},
                                {4, 0xFFFFFFFEu}, {5, 9999}, {7, 0xFFFFFFFFu}, {7, 0}};
    for (auto& l : lies) {
        h[l[0]] = l[1];
        CHECK_FALSE(agm::parse_tokenizer_section(base, sec.size(), &view, &err));
        std::memcpy(h, saved, sizeof saved);
    }
}
