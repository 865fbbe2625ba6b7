// Hostile files: the real model truncated, byte-flipped and given crafted
// headers; corrupt ak42 checkpoints for the reader and the converter. Every
// case must end in a non-OK status with a one-line message, or (for damage the
// format cannot see, with the checksum off) in a model that runs without
// undefined behaviour. Meant to run under AddressSanitizer and UBSan: models
// are opened from exactly-sized heap copies, so any read past the end is
// caught.
//
// Randomised cases use test_seed() (AGM_TEST_SEED overrides it); the seed and
// the position are printed with every failure. The converter cases need the
// agmodel-convert binary: environment variable AGM_CONVERT (else skipped).
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agm/ak42.h"
#include "agm/convert.h"
#include "agm/model_file.h"
#include "agm/model_writer.h"
#include "agm/vocab.h"
#include "agmodel.h"
#include "doctest.h"
#include "hostile_util.h"
#include "test_util.h"

namespace {

using namespace agm_hostile;

// ---- helpers -----------------------------------------------------------

// Rewrites the header's CRC so only the structural checks see the damage.
void fix_crc(Bytes* f) {
    if (f->size() < sizeof(agm_file_header)) return;
    set<uint32_t>(f, offsetof(agm_file_header, checksum), agm::model_file_checksum(f->data(), f->size()));
}

// Where things are in a (valid) model file.
struct Layout {
    agm_section_entry sec[8];
    uint32_t n_sec = 0;
    std::vector<std::pair<std::string, uint64_t>> tensor_at;  // name, entry offset in file
    std::vector<agm_tensor_entry> tensors;
    uint64_t table_off(uint32_t kind) const {
        for (uint32_t i = 0; i < n_sec; ++i)
            if (sec[i].kind == kind) return sizeof(agm_file_header) + i * sizeof(agm_section_entry);
        return 0;
    }
    const agm_section_entry* find(uint32_t kind) const {
        for (uint32_t i = 0; i < n_sec; ++i)
            if (sec[i].kind == kind) return &sec[i];
        return nullptr;
    }
    uint64_t tensor_entry(const std::string& name) const {
        for (const auto& t : tensor_at)
            if (t.first == name) return t.second;
        return 0;
    }
    const agm_tensor_entry* tensor(const std::string& name) const {
        for (const agm_tensor_entry& t : tensors)
            if (name == t.name) return &t;
        return nullptr;
    }
};

Layout layout_of(const Bytes& f) {
    Layout l;
    const agm_file_header h = get<agm_file_header>(f, 0);
    REQUIRE(h.n_sections <= 8);
    l.n_sec = h.n_sections;
    for (uint32_t i = 0; i < h.n_sections; ++i)
        l.sec[i] = get<agm_section_entry>(f, h.section_table + i * sizeof(agm_section_entry));
    const agm_section_entry* ts = l.find(AGM_SECTION_TENSORS);
    REQUIRE(ts != nullptr);
    const uint32_t n = get<uint32_t>(f, ts->offset);
    for (uint32_t i = 0; i < n; ++i) {
        const uint64_t at = ts->offset + sizeof(agm_tensors_header) + i * sizeof(agm_tensor_entry);
        l.tensors.push_back(get<agm_tensor_entry>(f, at));
        l.tensor_at.emplace_back(l.tensors.back().name, at);
    }
    return l;
}

uint64_t config_entry(const Bytes& f, const Layout& l, uint16_t key) {
    const agm_section_entry* cs = l.find(AGM_SECTION_CONFIG);
    for (uint64_t at = cs->offset; at < cs->offset + cs->bytes; at += sizeof(agm_config_entry))
        if (get<uint16_t>(f, at) == key) return at;
    FAIL("config key ", key, " not in the file");
    return 0;
}

}  // namespace

namespace agm_hostile {

// Runs everything a caller can do with an opened model, with small sizes:
// tokenize hostile text, decode every id (and ids out of range), and when
// `run` feed a few tokens and sample. Nothing is asserted beyond sane outputs:
// the point is that ASan/UBSan stay quiet.
void exercise(agm_model* m, bool run) {
    agm_model_info info;
    agm_model_get_info(m, &info);
    REQUIRE(info.vocab_size > 0);
    std::vector<int32_t> prompt;
    static const char* const kTexts[] = {"Once upon a time", "", "   a  b   c ",
                                         "\xff\xfe\x80 caf\xc3\xa9 \xe2\x96\x81<0x41>", "<s></s><unk>"};
    for (const char* t : kTexts) {
        int32_t ids[64];
        size_t n = 0;
        agm_error e{};
        const agm_status st = agm_tokenize(m, t, std::strlen(t), 1, ids, 64, &n, &e);
        if (st == AGM_OK) {
            bool in_range = n <= 64;
            for (size_t i = 0; i < n && i < 64; ++i)
                in_range = in_range && ids[i] >= 0 && (uint32_t)ids[i] < info.vocab_size;
            CHECK(in_range);
            if (prompt.empty()) prompt.assign(ids, ids + (n < 64 ? n : 64));
        } else {
            CHECK(one_line(e.message));
        }
        size_t n1 = 0;  // a buffer too small: refused, the full count reported
        if (agm_tokenize(m, t, std::strlen(t), 1, ids, 1, &n1, &e) != AGM_OK) CHECK(one_line(e.message));
    }
    char buf[64];
    for (int64_t id = -2; id < (int64_t)info.vocab_size + 2; ++id) {
        const size_t n = agm_token_piece(m, info.bos_id, (int32_t)id, AGM_PIECE_PRINTABLE, buf, sizeof buf);
        (void)agm_token_piece(m, (int32_t)id, (int32_t)id, 0, buf, n > 1 ? 1 : 0);
    }
    if (!run) return;
    agm_session_options so;
    agm_session_options_default(&so);
    so.n_ctx = info.max_seq_len < 4 ? info.max_seq_len : 4;
    agm_session* s = nullptr;
    agm_error e{};
    const agm_status st = agm_session_create(m, &so, &s, &e);
    if (st != AGM_OK) {
        CHECK(one_line(e.message));
        return;
    }
    if (prompt.empty()) prompt.push_back(0);
    prompt.resize(1);
    CHECK(agm_session_feed(s, prompt.data(), prompt.size(), &e) == AGM_OK);
    agm_sampler smp;
    agm_sampler_init(&smp, nullptr);
    int32_t tok = -1;
    REQUIRE(agm_session_sample(s, &smp, &tok, &e) == AGM_OK);
    CHECK((tok >= 0 && (uint32_t)tok < info.vocab_size));
    agm_sampler_params p;
    agm_sampler_params_default(&p);
    p.temperature = 0.9f;
    p.top_k = 5;
    p.top_p = 0.9f;
    agm_sampler_init(&smp, &p);
    REQUIRE(agm_session_sample(s, &smp, &tok, &e) == AGM_OK);
    CHECK((tok >= 0 && (uint32_t)tok < info.vocab_size));
    const int32_t last = (int32_t)info.vocab_size - 1;
    CHECK(agm_session_feed(s, &last, 1, &e) == AGM_OK);
    agm_session_free(s);
}

// Opens an exact copy of `f` from memory. Returns the status; on failure the
// message must be one line.
agm_status open_exact(const uint8_t* data, size_t size, bool verify, agm_error* e,
                      bool exercise_if_ok, bool run) {
    ExactBuf buf(data, size);
    agm_open_options o;
    agm_open_options_default(&o);
    o.verify_checksum = verify ? 1 : 0;
    agm_model* m = nullptr;
    *e = agm_error{};
    const agm_status st = agm_model_open_memory(buf.p, buf.n, &o, &m, e);
    if (st == AGM_OK) {
        CHECK(m != nullptr);
        if (exercise_if_ok) exercise(m, run);
        agm_model_close(m);
    } else {
        CHECK(m == nullptr);
        CHECK_MESSAGE(one_line(e->message), "message: '", e->message, "'");
    }
    return st;
}

}  // namespace agm_hostile

namespace {

// ---- the real model --------------------------------------------------------

// Without the committed model, converts the shared checkpoint the way
// agmodel-convert does (enough for these tests: same layout and tensors).
bool build_from_shared(Bytes* out) {
    Bytes ak, tok;
    if (!agm_test::read_file(agm_test::model_3m_dir() + "/model.bin", &ak) ||
        !agm_test::read_file(agm_test::model_3m_dir() + "/tokenizer.bin", &tok))
        return false;
    agm::Error err;
    agm::Ak42Model m;
    agm::Vocab v;
    if (!agm::read_ak42(ak.data(), ak.size(), &m, &err) ||
        !agm::read_llama2c_tokenizer(tok.data(), tok.size(), (uint32_t)m.vocab_size, &v, &err))
        return false;
    const uint32_t dim = (uint32_t)m.dim, vocab = (uint32_t)m.vocab_size;
    agm::ModelWriter w;
    const uint32_t u[][2] = {{AGM_KEY_ARCH, AGM_ARCH_BITNET_LLAMA}, {AGM_KEY_DIM, dim},
                             {AGM_KEY_HIDDEN_DIM, (uint32_t)m.hidden_dim}, {AGM_KEY_N_LAYERS, (uint32_t)m.n_layers},
                             {AGM_KEY_N_HEADS, (uint32_t)m.n_heads}, {AGM_KEY_N_KV_HEADS, (uint32_t)m.n_kv_heads},
                             {AGM_KEY_VOCAB_SIZE, vocab}, {AGM_KEY_MAX_SEQ_LEN, (uint32_t)m.seq_len},
                             {AGM_KEY_NORM_INPUT, AGM_NORM_RMS_DIV_N}, {AGM_KEY_NORM_SUB, AGM_NORM_RMS_DIV_N},
                             {AGM_KEY_TIED_CLASSIFIER, 1}};
    for (const auto& kv : u) w.set_u32((uint16_t)kv[0], kv[1]);
    Bytes emb(m.embedding, m.embedding + (size_t)vocab * dim * 4);
    Bytes norm(reinterpret_cast<const uint8_t*>(m.final_norm), reinterpret_cast<const uint8_t*>(m.final_norm) + dim * 4);
    if (!w.add_tensor("token_embd", AGM_TYPE_F32, {vocab, dim}, 1.0f, emb, &err) ||
        !w.add_tensor("output_norm", AGM_TYPE_F32, {dim}, 1.0f, norm, &err))
        return false;
    static const char* const kNames[7] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_down", "ffn_up"};
    for (int l = 0; l < m.n_layers; ++l)
        for (int k = 0; k < 7; ++k) {
            const agm::Ak42Matrix& mat = m.matrices[(size_t)k * m.n_layers + l];
            const std::string name = "blk." + std::to_string(l) + "." + kNames[k];
            Bytes packed;
            if (!agm::repack_ak42(mat, agm::BitOrder::Msb, AGM_TYPE_T2_B128, name.c_str(), &packed, &err) ||
                !w.add_tensor(name, AGM_TYPE_T2_B128, {mat.rows, mat.cols}, mat.scale, packed, &err))
                return false;
        }
    Bytes section;
    if (!agm::serialize_tokenizer(v, &section, &err)) return false;
    w.set_tokenizer(section);
    w.add_metadata("source", "test_hostile fallback");
    return w.finish(out, &err);
}

const Bytes& real_model() {
    static Bytes file;
    static bool loaded = false;
    if (!loaded) {
#ifdef AGM_TEST_MODEL
        const std::string path = AGM_TEST_MODEL;
#else
        const std::string path = agm_test::bundled_model();
#endif
        if (!agm_test::read_file(path, &file) || file.size() < 64) {
            MESSAGE("no model at ", path, ": converting the shared checkpoint");
            REQUIRE(build_from_shared(&file));
        }
        loaded = true;
        agm_error e;
        REQUIRE_MESSAGE(open_exact(file.data(), file.size(), true, &e) == AGM_OK, e.message);
    }
    return file;
}

// ---- a tiny hand-made model ----------------------------------------------

struct TinyCfg {
    uint32_t dim = 8, hidden = 16, n_layers = 2, n_heads = 2, n_kv_heads = 1, max_seq = 16;
    uint32_t norm_input = AGM_NORM_RMS, norm_sub = AGM_NORM_NONE;
    float emb_poison = 0.0f;  // nonzero: written into token_embd[1][3]
    float norm_poison = 0.0f; // nonzero: written into blk.0.attn_norm[5]
};

agm::Vocab tiny_vocab() {
    agm::Vocab v;
    const char* p[] = {"<unk>", "<s>", "</s>", " ", "a", "b", " a", "ab"};
    for (int i = 0; i < 8; ++i) {
        v.pieces.push_back(p[i]);
        v.scores.push_back(i < 3 ? 0.0f : -(float)i);
        v.types.push_back(i == 0 ? AGM_TOKEN_UNKNOWN : i < 3 ? AGM_TOKEN_CONTROL : AGM_TOKEN_NORMAL);
    }
    v.flags = AGM_TOK_ADD_DUMMY_PREFIX | AGM_TOK_BYTE_FALLBACK;
    v.unk_id = 0;
    v.bos_id = 1;
    v.eos_id = 2;
    return v;
}

Bytes tiny_model(const TinyCfg& c = TinyCfg()) {
    agm::ModelWriter w;
    const uint32_t vocab = 8;
    const uint32_t u[][2] = {{AGM_KEY_ARCH, AGM_ARCH_BITNET_LLAMA}, {AGM_KEY_DIM, c.dim},
                             {AGM_KEY_HIDDEN_DIM, c.hidden}, {AGM_KEY_N_LAYERS, c.n_layers},
                             {AGM_KEY_N_HEADS, c.n_heads}, {AGM_KEY_N_KV_HEADS, c.n_kv_heads},
                             {AGM_KEY_VOCAB_SIZE, vocab}, {AGM_KEY_MAX_SEQ_LEN, c.max_seq},
                             {AGM_KEY_NORM_INPUT, c.norm_input}, {AGM_KEY_NORM_SUB, c.norm_sub},
                             {AGM_KEY_ROPE_LAYOUT, AGM_ROPE_INTERLEAVED}, {AGM_KEY_TIED_CLASSIFIER, 1}};
    for (const auto& kv : u) w.set_u32((uint16_t)kv[0], kv[1]);
    w.set_f32(AGM_KEY_ROPE_THETA, 10000.0f);
    agm::Error err;
    Rng rng(7);
    auto floats = [&](size_t n, float poison_at_val, size_t poison_at) {
        std::vector<float> f(n);
        for (float& x : f) x = (float)((int)rng.below(2001) - 1000) / 1000.0f;
        if (poison_at_val != 0.0f) f[poison_at] = poison_at_val;
        Bytes b(n * 4);
        std::memcpy(b.data(), f.data(), b.size());
        return b;
    };
    auto ternary = [&](uint32_t rows, uint32_t cols) {
        uint64_t rb;
        agm::tensor_row_bytes(AGM_TYPE_T2_B128, cols, &rb);
        Bytes b(rows * rb, 0);
        static const uint8_t codes[3] = {0, 1, 3};
        for (uint32_t r = 0; r < rows; ++r)
            for (uint32_t i = 0; i < cols; ++i)  // weight i: byte i % 32 of block i / 128, pair (i % 128) / 32
                b[r * rb + (i / 128) * 32 + i % 32] |= (uint8_t)(codes[rng.below(3)] << (2 * ((i % 128) / 32)));
        return b;
    };
    const uint32_t hd = c.dim / c.n_heads, q = c.n_heads * hd, kv = c.n_kv_heads * hd;
    REQUIRE(w.add_tensor("token_embd", AGM_TYPE_F32, {vocab, c.dim}, 1.0f, floats(vocab * c.dim, c.emb_poison, c.dim + 3), &err));
    REQUIRE(w.add_tensor("output_norm", AGM_TYPE_F32, {c.dim}, 1.0f, floats(c.dim, 0, 0), &err));
    for (uint32_t l = 0; l < c.n_layers; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        if (c.norm_input == AGM_NORM_RMS) {
            REQUIRE(w.add_tensor(b + "attn_norm", AGM_TYPE_F32, {c.dim}, 1.0f, floats(c.dim, l == 0 ? c.norm_poison : 0, 5), &err));
            REQUIRE(w.add_tensor(b + "ffn_norm", AGM_TYPE_F32, {c.dim}, 1.0f, floats(c.dim, 0, 0), &err));
        }
        const struct { const char* n; uint32_t r, c; } mats[] = {
            {"attn_q", q, c.dim}, {"attn_k", kv, c.dim}, {"attn_v", kv, c.dim}, {"attn_output", c.dim, q},
            {"ffn_gate", c.hidden, c.dim}, {"ffn_down", c.dim, c.hidden}, {"ffn_up", c.hidden, c.dim}};
        for (const auto& m : mats)
            REQUIRE(w.add_tensor(b + m.n, AGM_TYPE_T2_B128, {m.r, m.c}, 0.05f, ternary(m.r, m.c), &err));
    }
    Bytes tok;
    REQUIRE(agm::serialize_tokenizer(tiny_vocab(), &tok, &err));
    w.set_tokenizer(tok);
    w.add_metadata("source", "test_hostile");
    Bytes out;
    REQUIRE(w.finish(&out, &err));
    return out;
}

}  // namespace

// ---- (a) truncation --------------------------------------------------------

TEST_CASE("hostile: the real model truncated at hundreds of offsets is refused") {
    const Bytes& f = real_model();
    const Layout l = layout_of(f);
    std::set<uint64_t> cuts;
    for (uint64_t i = 0; i <= 256; ++i) cuts.insert(i);
    auto around = [&](uint64_t at) {
        for (int d = -1; d <= 1; ++d)
            if (at + d < f.size()) cuts.insert(at + d);
    };
    for (uint32_t i = 0; i < l.n_sec; ++i) {
        around(l.sec[i].offset);
        around(l.sec[i].offset + l.sec[i].bytes);
    }
    for (const agm_tensor_entry& t : l.tensors) {
        around(t.offset);
        around(t.offset + t.bytes);
    }
    for (uint64_t i = 1; i < 100; ++i) cuts.insert(f.size() * i / 100);
    cuts.insert(f.size() - 1);
    REQUIRE(cuts.size() >= 300);
    MESSAGE(cuts.size(), " truncation offsets");
    for (uint64_t cut : cuts) {
        for (bool verify : {true, false}) {
            CAPTURE(cut);
            CAPTURE(verify);
            agm_error e;
            CHECK(open_exact(f.data(), cut, verify, &e) == AGM_ERR_FORMAT);
            CHECK((contains(e.message, "truncated") || contains(e.message, "shorter than")));
        }
        // The header patched to the cut size (CRC fixed): the section table
        // or a section must now lie outside the file.
        if (cut >= sizeof(agm_file_header)) {
            Bytes g(f.begin(), f.begin() + (long)cut);
            set<uint64_t>(&g, offsetof(agm_file_header, file_bytes), cut);
            fix_crc(&g);
            for (bool verify : {true, false}) {
                CAPTURE(cut);
                agm_error e;
                CHECK(open_exact(g.data(), g.size(), verify, &e) == AGM_ERR_FORMAT);
                CHECK(contains(e.message, "outside the file") + contains(e.message, "does not fit") == 1);
            }
        }
    }
}

TEST_CASE("hostile: truncated and padded files opened by path") {
    const Bytes& f = real_model();
    char dir[] = "/tmp/agm_hostile_XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    const std::string path = std::string(dir) + "/m.agm";
    Rng rng(agm_test::test_seed());
    std::vector<uint64_t> cuts = {0, 1, 63, 64, 65, 223, 224, f.size() - 1, f.size() + 1, f.size() + 64};
    for (int i = 0; i < 14; ++i) cuts.push_back(rng.below(f.size()));
    for (uint64_t cut : cuts) {
        CAPTURE(cut);
        Bytes g(f.begin(), f.begin() + (long)std::min<uint64_t>(cut, f.size()));
        g.resize(cut, 0);
        FILE* fp = std::fopen(path.c_str(), "wb");
        REQUIRE(fp != nullptr);
        if (!g.empty()) REQUIRE(std::fwrite(g.data(), 1, g.size(), fp) == g.size());
        std::fclose(fp);
        agm_model* m = nullptr;
        agm_error e{};
        const agm_status st = agm_model_open_file(path.c_str(), nullptr, &m, &e);
        CHECK(st == (cut == 0 ? AGM_ERR_IO : AGM_ERR_FORMAT));
        CHECK(m == nullptr);
        CHECK(one_line(e.message));
        CHECK(contains(e.message, path.c_str()));
    }
    agm_model* m = nullptr;
    agm_error e{};
    CHECK(agm_model_open_file((std::string(dir) + "/absent.agm").c_str(), nullptr, &m, &e) == AGM_ERR_IO);
    CHECK(one_line(e.message));
    std::remove(path.c_str());
    rmdir(dir);
}

// ---- (b) byte flips ----------------------------------------------------------

TEST_CASE("hostile: with the checksum verified, every single-byte flip is refused") {
    const Bytes& f = real_model();
    const Layout l = layout_of(f);
    const uint64_t seed = agm_test::test_seed();
    Rng rng(seed);
    std::vector<uint64_t> pos;
    for (uint64_t i = 0; i < 64 + l.n_sec * 32; ++i) pos.push_back(i);  // header and table: all
    for (uint32_t i = 0; i < l.n_sec; ++i)                               // every section: its ends
        for (uint64_t d : {(uint64_t)0, (uint64_t)1, (uint64_t)l.sec[i].bytes / 2, (uint64_t)l.sec[i].bytes - 1})
            if (d < l.sec[i].bytes) pos.push_back(l.sec[i].offset + d);
    for (int i = 0; i < 2000; ++i) pos.push_back(rng.below(f.size()));
    ExactBuf buf(f);  // flipped in place and restored
    agm_open_options o;
    agm_open_options_default(&o);
    for (uint64_t p : pos) {
        const uint8_t x = rng.nonzero_byte();
        buf.p[p] ^= x;
        agm_model* m = nullptr;
        agm_error e{};
        const agm_status st = agm_model_open_memory(buf.p, buf.n, &o, &m, &e);
        buf.p[p] ^= x;
        CAPTURE(seed);
        CAPTURE(p);
        CAPTURE((int)x);
        CHECK((st == AGM_ERR_FORMAT || st == AGM_ERR_UNSUPPORTED));
        CHECK(one_line(e.message));
        if (st == AGM_OK) agm_model_close(m);
    }
    MESSAGE(pos.size(), " flips refused with verification on");
}

TEST_CASE("hostile: without the checksum, flips in the structure are refused or run safely") {
    const Bytes& f = real_model();
    const Layout l = layout_of(f);
    const uint64_t seed = agm_test::test_seed();
    Rng rng(seed);
    struct Flip { uint64_t pos; uint8_t x; };
    std::vector<Flip> flips;
    const uint64_t table_end = 64 + l.n_sec * 32;
    for (uint64_t i = 0; i < table_end; ++i)
        for (uint8_t x : {(uint8_t)0x01, (uint8_t)0x80, (uint8_t)0xFF, rng.nonzero_byte()}) flips.push_back({i, x});
    for (uint32_t kind : {AGM_SECTION_CONFIG, AGM_SECTION_TENSORS, AGM_SECTION_TOKENIZER, AGM_SECTION_METADATA}) {
        const agm_section_entry* s = l.find(kind);
        if (s == nullptr) continue;
        // Config and index: every byte (config twice); tokenizer: its
        // header and the first tokens' arrays, then a sample.
        const uint64_t every = kind == AGM_SECTION_TOKENIZER ? 32 + 64 : kind == AGM_SECTION_METADATA ? 0 : s->bytes;
        for (uint64_t i = 0; i < s->bytes && i < every; ++i) {
            flips.push_back({s->offset + i, rng.nonzero_byte()});
            if (kind == AGM_SECTION_CONFIG) flips.push_back({s->offset + i, (uint8_t)(1u << rng.below(8))});
        }
        if (s->bytes > every)
            for (int i = 0; i < 600; ++i) flips.push_back({s->offset + every + rng.below(s->bytes - every), rng.nonzero_byte()});
    }
    ExactBuf buf(f);
    agm_open_options o;
    agm_open_options_default(&o);
    o.verify_checksum = 0;
    int refused = 0, opened = 0, ran = 0;
    for (const Flip& fl : flips) {
        CAPTURE(seed);
        CAPTURE(fl.pos);
        CAPTURE((int)fl.x);
        buf.p[fl.pos] ^= fl.x;
        agm_model* m = nullptr;
        agm_error e{};
        const agm_status st = agm_model_open_memory(buf.p, buf.n, &o, &m, &e);
        if (st == AGM_OK) {
            ++opened;
            // The forward pass (slow under ASan) for an eighth of the damage in
            // the header, table, config and the index's non-name fields (scale,
            // flags, reserved), and a sample of the rest.
            const agm_section_entry* ts = l.find(AGM_SECTION_TENSORS);
            const uint64_t in_index = fl.pos - ts->offset;
            const bool index_field = fl.pos >= ts->offset && in_index < ts->bytes && in_index >= 8 &&
                                     (in_index - 8) % sizeof(agm_tensor_entry) >= AGM_TENSOR_NAME_BYTES;
            const agm_section_entry* cs = l.find(AGM_SECTION_CONFIG);
            const bool run = ((fl.pos < cs->offset + cs->bytes || index_field) && opened % 8 == 0) ||
                             opened % 64 == 0;
            ran += run;
            exercise(m, run);
            agm_model_close(m);
        } else {
            ++refused;
            CHECK(m == nullptr);
            CHECK((st == AGM_ERR_FORMAT || st == AGM_ERR_UNSUPPORTED));
            CHECK_MESSAGE(one_line(e.message), e.message);
        }
        buf.p[fl.pos] ^= fl.x;
    }
    MESSAGE(flips.size(), " structural flips: ", refused, " refused, ", opened, " opened (", ran, " ran tokens)");
}

TEST_CASE("hostile: without the checksum, damaged tensor data opens and runs without UB") {
    const Bytes& f = real_model();
    const Layout l = layout_of(f);
    const uint64_t seed = agm_test::test_seed();
    Rng rng(seed);
    const agm_section_entry* ds = l.find(AGM_SECTION_DATA);
    REQUIRE(ds != nullptr);
    agm_error e;
    for (int i = 0; i < 120; ++i) {  // random flips across the data
        Bytes g = f;
        const uint64_t p = ds->offset + rng.below(ds->bytes);
        g[p] ^= rng.nonzero_byte();
        CAPTURE(seed);
        CAPTURE(p);
        CHECK(open_exact(g.data(), g.size(), false, &e, true, i % 8 == 0) == AGM_OK);
    }
    // Planted values the format cannot refuse: code 10 everywhere in a matrix,
    // all -1, NaN / inf / huge floats in the embedding rows fed and in the norm.
    const agm_tensor_entry* emb = l.tensor("token_embd");
    const agm_tensor_entry* norm = l.tensor("output_norm");
    const agm_tensor_entry* wq = l.tensor("blk.0.attn_q");
    const agm_tensor_entry* w2 = l.tensor("blk.3.ffn_down");
    REQUIRE((emb && norm && wq && w2));
    const uint32_t dim = emb->shape[1];
    struct Plant { const char* what; uint64_t at, bytes; uint32_t bits; };
    const uint64_t row1 = emb->offset + 1ull * dim * 4;  // token 1 (BOS) is fed first
    const Plant plants[] = {
        {"code 10 in blk.0.attn_q", wq->offset, wq->bytes, 0xAAAAAAAAu},
        {"all -1 in blk.3.ffn_down", w2->offset, w2->bytes, 0xFFFFFFFFu},
        {"NaN embedding row", row1, dim * 4ull, 0x7FC00000u},
        {"one NaN in an embedding row", row1 + 12, 4, 0x7FC00000u},
        {"one inf in an embedding row", row1 + 12, 4, 0x7F800000u},
        {"huge embedding row", row1, dim * 4ull, 0x7F7FFFFFu},
        {"NaN output norm", norm->offset, norm->bytes, 0x7FC00000u},
        {"every embedding -inf", emb->offset, emb->bytes, 0xFF800000u},
    };
    for (const Plant& pl : plants) {
        const std::string what = pl.what;
        CAPTURE(what);
        Bytes g = f;
        for (uint64_t i = 0; i < pl.bytes; i += 4) set<uint32_t>(&g, pl.at + i, pl.bits);
        CHECK(open_exact(g.data(), g.size(), false, &e, true, true) == AGM_OK);
        CHECK(open_exact(g.data(), g.size(), true, &e) == AGM_ERR_FORMAT);  // the CRC sees it
    }
}

TEST_CASE("hostile: valid files with non-finite weights run without UB") {
    // With a learned (or no) input norm, a NaN reaches the int8 quantiser next
    // to finite values; the checksum is right, so only the engine can cope.
    TinyCfg a;
    a.norm_input = AGM_NORM_NONE;
    a.emb_poison = NAN;
    TinyCfg b;
    b.norm_poison = NAN;
    TinyCfg c;
    c.norm_input = AGM_NORM_NONE;
    c.emb_poison = INFINITY;
    for (const TinyCfg& cfg : {a, b, c}) {
        const Bytes g = tiny_model(cfg);
        agm_error e;
        CHECK(open_exact(g.data(), g.size(), true, &e, true, true) == AGM_OK);
    }
}

// ---- (c) crafted headers (CRC fixed: only the structure is checked) ----------

namespace {

struct Craft {
    const char* what;
    agm_status status;    // expected through agm_model_open_memory
    const char* message;  // a substring the message must contain ("" for OK)
    void (*edit)(Bytes* f, const Layout& l);
};

template <typename T>
void set_sec(Bytes* f, const Layout& l, uint32_t kind, size_t field, T v) {
    set<T>(f, l.table_off(kind) + field, v);
}
template <typename T>
void set_tensor(Bytes* f, const Layout& l, const char* name, size_t field, T v) {
    set<T>(f, l.tensor_entry(name) + field, v);
}
void set_key(Bytes* f, const Layout& l, uint16_t key, uint32_t bits) {
    set<uint32_t>(f, config_entry(*f, l, key) + offsetof(agm_config_entry, bits), bits);
}
uint64_t tok_at(const Layout& l) { return l.find(AGM_SECTION_TOKENIZER)->offset; }
constexpr size_t kOffsetsAt = sizeof(agm_tokenizer_header) + 8 * 4;  // the tiny vocab: 8 scores
constexpr uint64_t kTop = UINT64_MAX & ~(uint64_t)63;                 // aligned, near 2^64

#define SEC(kind, field) AGM_SECTION_##kind, offsetof(agm_section_entry, field)
#define TEN(name, field) name, offsetof(agm_tensor_entry, field)
#define HDR(field) offsetof(agm_file_header, field)

const Craft kCrafts[] = {
    {"intact", AGM_OK, "", [](Bytes*, const Layout&) {}},
    // header
    {"bad magic", AGM_ERR_FORMAT, "bad magic", [](Bytes* f, const Layout&) { set<uint32_t>(f, 0, 0x46474D41); }},
    {"version 2", AGM_ERR_UNSUPPORTED, "needs a newer agmodel", [](Bytes* f, const Layout&) { set<uint32_t>(f, HDR(version), 2); }},
    {"version 0", AGM_ERR_UNSUPPORTED, "version 0", [](Bytes* f, const Layout&) { set<uint32_t>(f, HDR(version), 0); }},
    {"header_bytes 63", AGM_ERR_FORMAT, "header size", [](Bytes* f, const Layout&) { set<uint32_t>(f, HDR(header_bytes), 63); }},
    {"file_bytes + 1", AGM_ERR_FORMAT, "truncated", [](Bytes* f, const Layout&) { set<uint64_t>(f, HDR(file_bytes), f->size() + 1); }},
    {"file_bytes max", AGM_ERR_FORMAT, "truncated", [](Bytes* f, const Layout&) { set<uint64_t>(f, HDR(file_bytes), UINT64_MAX); }},
    {"alignment 32", AGM_ERR_FORMAT, "alignment", [](Bytes* f, const Layout&) { set<uint32_t>(f, HDR(alignment), 32); }},
    {"checksum kind 2", AGM_ERR_UNSUPPORTED, "checksum kind 2", [](Bytes* f, const Layout&) { set<uint32_t>(f, HDR(checksum_kind), 2); }},
    {"header flags", AGM_ERR_UNSUPPORTED, "flags", [](Bytes* f, const Layout&) { set<uint32_t>(f, HDR(flags), 1); }},
    // section table
    {"n_sections 0", AGM_ERR_FORMAT, "section table", [](Bytes* f, const Layout&) { set<uint32_t>(f, HDR(n_sections), 0); }},
    {"n_sections 65", AGM_ERR_FORMAT, "section table", [](Bytes* f, const Layout&) { set<uint32_t>(f, HDR(n_sections), 65); }},
    {"n_sections max", AGM_ERR_FORMAT, "section table", [](Bytes* f, const Layout&) { set<uint32_t>(f, HDR(n_sections), UINT32_MAX); }},
    {"n_sections 1 more", AGM_ERR_FORMAT, "", [](Bytes* f, const Layout& l) { set<uint32_t>(f, HDR(n_sections), l.n_sec + 1); }},
    {"section table at 0", AGM_ERR_FORMAT, "section table", [](Bytes* f, const Layout&) { set<uint64_t>(f, HDR(section_table), 0); }},
    {"section table near 2^64", AGM_ERR_FORMAT, "section table", [](Bytes* f, const Layout&) { set<uint64_t>(f, HDR(section_table), UINT64_MAX - 7); }},
    {"section offset near 2^64", AGM_ERR_FORMAT, "outside the file", [](Bytes* f, const Layout& l) { set_sec<uint64_t>(f, l, SEC(DATA, offset), kTop); }},
    {"section bytes max", AGM_ERR_FORMAT, "outside the file", [](Bytes* f, const Layout& l) { set_sec<uint64_t>(f, l, SEC(CONFIG, bytes), UINT64_MAX); }},
    {"section offset+bytes wraps", AGM_ERR_FORMAT, "outside the file", [](Bytes* f, const Layout& l) {
         set_sec<uint64_t>(f, l, SEC(TENSORS, bytes), 0 - l.find(AGM_SECTION_TENSORS)->offset + 64); }},
    {"section past the end by 1", AGM_ERR_FORMAT, "outside the file", [](Bytes* f, const Layout& l) {
         set_sec<uint64_t>(f, l, SEC(DATA, bytes), l.find(AGM_SECTION_DATA)->bytes + 1); }},
    {"section overlaps the header", AGM_ERR_FORMAT, "outside the file", [](Bytes* f, const Layout& l) { set_sec<uint64_t>(f, l, SEC(CONFIG, offset), 0); }},
    {"section overlaps the table", AGM_ERR_FORMAT, "outside the file", [](Bytes* f, const Layout& l) { set_sec<uint64_t>(f, l, SEC(TOKENIZER, offset), 64); }},
    {"section misaligned", AGM_ERR_FORMAT, "misaligned", [](Bytes* f, const Layout& l) {
         set_sec<uint64_t>(f, l, SEC(METADATA, offset), l.find(AGM_SECTION_METADATA)->offset + 4); }},
    {"section twice", AGM_ERR_FORMAT, "appears twice", [](Bytes* f, const Layout& l) { set_sec<uint32_t>(f, l, SEC(METADATA, kind), AGM_SECTION_CONFIG); }},
    {"no config", AGM_ERR_FORMAT, "no config", [](Bytes* f, const Layout& l) { set_sec<uint32_t>(f, l, SEC(CONFIG, kind), 9); set_sec<uint32_t>(f, l, SEC(CONFIG, flags), 0); }},
    {"no tensor index", AGM_ERR_FORMAT, "no tensor index", [](Bytes* f, const Layout& l) { set_sec<uint32_t>(f, l, SEC(TENSORS, kind), 9); set_sec<uint32_t>(f, l, SEC(TENSORS, flags), 0); }},
    {"no data section", AGM_ERR_FORMAT, "no data section", [](Bytes* f, const Layout& l) { set_sec<uint32_t>(f, l, SEC(DATA, kind), 9); set_sec<uint32_t>(f, l, SEC(DATA, flags), 0); }},
    {"unknown required section", AGM_ERR_UNSUPPORTED, "section kind 9 is required", [](Bytes* f, const Layout& l) {
         set_sec<uint32_t>(f, l, SEC(METADATA, kind), 9); set_sec<uint32_t>(f, l, SEC(METADATA, flags), AGM_SECTION_REQUIRED); }},
    {"unknown optional section", AGM_OK, "", [](Bytes* f, const Layout& l) { set_sec<uint32_t>(f, l, SEC(METADATA, kind), 0x7FFFFFFF); }},
    {"index read as config", AGM_ERR_FORMAT, "", [](Bytes* f, const Layout& l) {
         set_sec<uint64_t>(f, l, SEC(TENSORS, offset), l.find(AGM_SECTION_CONFIG)->offset); }},
    {"no tokenizer", AGM_OK, "", [](Bytes* f, const Layout& l) { set_sec<uint32_t>(f, l, SEC(TOKENIZER, kind), 0); set_sec<uint32_t>(f, l, SEC(TOKENIZER, flags), 0); }},
    // config
    {"config bytes not 12k", AGM_ERR_FORMAT, "not a multiple of 12", [](Bytes* f, const Layout& l) {
         set_sec<uint64_t>(f, l, SEC(CONFIG, bytes), l.find(AGM_SECTION_CONFIG)->bytes - 1); }},
    {"dim 0", AGM_ERR_FORMAT, "dim is 0", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_DIM, 0); }},
    {"dim huge", AGM_ERR_FORMAT, "dim is", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_DIM, 0x80000000u); }},
    {"n_heads does not divide dim", AGM_ERR_FORMAT, "not a multiple of n_heads", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_N_HEADS, 3); }},
    {"n_kv_heads > n_heads", AGM_ERR_FORMAT, "n_kv_heads", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_N_KV_HEADS, 4); }},
    {"n_kv_heads 0", AGM_ERR_FORMAT, "n_kv_heads", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_N_KV_HEADS, 0); }},
    {"n_layers huge", AGM_ERR_FORMAT, "n_layers", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_N_LAYERS, UINT32_MAX); }},
    {"n_layers 3 (tensors missing)", AGM_ERR_FORMAT, "blk.2", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_N_LAYERS, 3); }},
    {"max_seq_len 0", AGM_ERR_FORMAT, "max_seq_len", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_MAX_SEQ_LEN, 0); }},
    {"max_seq_len huge", AGM_ERR_FORMAT, "max_seq_len", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_MAX_SEQ_LEN, UINT32_MAX); }},
    {"vocab != tokenizer", AGM_ERR_FORMAT, "tokenizer has 8 tokens", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_VOCAB_SIZE, 9); }},
    {"arch 2", AGM_ERR_UNSUPPORTED, "architecture 2", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_ARCH, 2); }},
    {"norm kind 7", AGM_ERR_UNSUPPORTED, "norm kind 7", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_NORM_SUB, 7); }},
    {"rope layout 3", AGM_ERR_UNSUPPORTED, "RoPE layout 3", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_ROPE_LAYOUT, 3); }},
    {"rope theta NaN", AGM_ERR_FORMAT, "rope_theta", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_ROPE_THETA, 0x7FC00000u); }},
    {"rope theta -inf", AGM_ERR_FORMAT, "rope_theta", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_ROPE_THETA, 0xFF800000u); }},
    {"tied_classifier 2", AGM_ERR_FORMAT, "tied_classifier", [](Bytes* f, const Layout& l) { set_key(f, l, AGM_KEY_TIED_CLASSIFIER, 2); }},
    {"value type mismatch", AGM_ERR_FORMAT, "value type", [](Bytes* f, const Layout& l) {
         set<uint32_t>(f, config_entry(*f, l, AGM_KEY_DIM) + offsetof(agm_config_entry, type), AGM_VALUE_F32); }},
    {"key twice", AGM_ERR_FORMAT, "appears twice", [](Bytes* f, const Layout& l) {
         set<uint16_t>(f, config_entry(*f, l, AGM_KEY_ROPE_LAYOUT), AGM_KEY_DIM);
         set<uint32_t>(f, config_entry(*f, l, AGM_KEY_DIM) + 4, AGM_VALUE_U32); }},
    {"required key missing", AGM_ERR_FORMAT, "required key dim", [](Bytes* f, const Layout& l) { set<uint16_t>(f, config_entry(*f, l, AGM_KEY_DIM), 999); }},
    {"unknown required key", AGM_ERR_UNSUPPORTED, "config key 999 is required", [](Bytes* f, const Layout& l) {
         const uint64_t at = config_entry(*f, l, AGM_KEY_ROPE_LAYOUT);
         set<uint16_t>(f, at, 999); set<uint16_t>(f, at + 2, AGM_CONFIG_REQUIRED); }},
    {"unknown optional key", AGM_OK, "", [](Bytes* f, const Layout& l) { set<uint16_t>(f, config_entry(*f, l, AGM_KEY_ROPE_LAYOUT), 999); }},
    {"key 31 (bit mask edge)", AGM_OK, "", [](Bytes* f, const Layout& l) { set<uint16_t>(f, config_entry(*f, l, AGM_KEY_ROPE_LAYOUT), 31); }},
    {"key 65535 required", AGM_ERR_UNSUPPORTED, "65535", [](Bytes* f, const Layout& l) {
         const uint64_t at = config_entry(*f, l, AGM_KEY_ROPE_LAYOUT);
         set<uint16_t>(f, at, 65535); set<uint16_t>(f, at + 2, 0xFFFF); }},
    // tensor index
    {"n_tensors huge", AGM_ERR_FORMAT, "tensor index", [](Bytes* f, const Layout& l) { set<uint32_t>(f, l.find(AGM_SECTION_TENSORS)->offset, UINT32_MAX); }},
    {"n_tensors + 1", AGM_ERR_FORMAT, "tensor index", [](Bytes* f, const Layout& l) { set<uint32_t>(f, l.find(AGM_SECTION_TENSORS)->offset, (uint32_t)l.tensors.size() + 1); }},
    {"index smaller than its header", AGM_ERR_FORMAT, "too small", [](Bytes* f, const Layout& l) { set_sec<uint64_t>(f, l, SEC(TENSORS, bytes), 4); }},
    {"tensor offset before data", AGM_ERR_FORMAT, "outside the data section", [](Bytes* f, const Layout& l) {
         set_tensor<uint64_t>(f, l, TEN("blk.1.ffn_up", offset), l.find(AGM_SECTION_DATA)->offset - 64); }},
    {"tensor offset in the header", AGM_ERR_FORMAT, "outside the data section", [](Bytes* f, const Layout& l) { set_tensor<uint64_t>(f, l, TEN("token_embd", offset), 0); }},
    {"tensor offset near 2^64", AGM_ERR_FORMAT, "outside the data section", [](Bytes* f, const Layout& l) { set_tensor<uint64_t>(f, l, TEN("blk.0.attn_q", offset), kTop); }},
    {"tensor past the data end", AGM_ERR_FORMAT, "outside the data section", [](Bytes* f, const Layout& l) {
         const agm_section_entry* d = l.find(AGM_SECTION_DATA);
         set_tensor<uint64_t>(f, l, TEN("blk.0.attn_q", offset), (d->offset + d->bytes) & ~(uint64_t)63); }},
    {"tensor misaligned", AGM_ERR_FORMAT, "aligned", [](Bytes* f, const Layout& l) {
         set_tensor<uint64_t>(f, l, TEN("output_norm", offset), l.tensor("output_norm")->offset + 4); }},
    {"tensor bytes + 1", AGM_ERR_FORMAT, "bytes expected", [](Bytes* f, const Layout& l) {
         set_tensor<uint64_t>(f, l, TEN("blk.0.attn_k", bytes), l.tensor("blk.0.attn_k")->bytes + 1); }},
    {"tensor bytes max", AGM_ERR_FORMAT, "bytes expected", [](Bytes* f, const Layout& l) { set_tensor<uint64_t>(f, l, TEN("blk.0.attn_k", bytes), UINT64_MAX); }},
    {"shape product overflows 64 bits", AGM_ERR_FORMAT, "size overflows 64 bits", [](Bytes* f, const Layout& l) {
         set_tensor<uint32_t>(f, l, TEN("token_embd", n_dims), 4);
         for (int d = 0; d < 4; ++d) set<uint32_t>(f, l.tensor_entry("token_embd") + offsetof(agm_tensor_entry, shape) + 4 * d, 1u << 30); }},
    {"dimension over 2^30", AGM_ERR_FORMAT, "dimension 0", [](Bytes* f, const Layout& l) { set_tensor<uint32_t>(f, l, TEN("token_embd", shape), 0x80000000u); }},
    {"dimension 0", AGM_ERR_FORMAT, "dimension 1 is 0", [](Bytes* f, const Layout& l) { set<uint32_t>(f, l.tensor_entry("token_embd") + offsetof(agm_tensor_entry, shape) + 4, 0); }},
    {"n_dims 0", AGM_ERR_FORMAT, "0 dimensions", [](Bytes* f, const Layout& l) { set_tensor<uint32_t>(f, l, TEN("output_norm", n_dims), 0); }},
    {"n_dims 5", AGM_ERR_FORMAT, "5 dimensions", [](Bytes* f, const Layout& l) { set_tensor<uint32_t>(f, l, TEN("output_norm", n_dims), 5); }},
    {"tensor type 7", AGM_ERR_UNSUPPORTED, "type 7, unknown", [](Bytes* f, const Layout& l) { set_tensor<uint32_t>(f, l, TEN("blk.1.attn_v", type), 7); }},
    {"tensor type max", AGM_ERR_UNSUPPORTED, "type 4294967295, unknown", [](Bytes* f, const Layout& l) { set_tensor<uint32_t>(f, l, TEN("blk.1.attn_v", type), UINT32_MAX); }},
    {"f32 norm typed f16", AGM_ERR_UNSUPPORTED, "needs f32", [](Bytes* f, const Layout& l) {
         set_tensor<uint32_t>(f, l, TEN("output_norm", type), AGM_TYPE_F16);
         set_tensor<uint64_t>(f, l, TEN("output_norm", bytes), l.tensor("output_norm")->bytes / 2); }},
    {"matrix typed i8", AGM_ERR_UNSUPPORTED, "no matrix kernel", [](Bytes* f, const Layout& l) {
         set_tensor<uint32_t>(f, l, TEN("blk.0.attn_k", type), AGM_TYPE_I8);
         set_tensor<uint64_t>(f, l, TEN("blk.0.attn_k", bytes), 4 * 8); }},
    {"matrix with a wrong shape", AGM_ERR_FORMAT, "shape must be", [](Bytes* f, const Layout& l) {
         set<uint32_t>(f, l.tensor_entry("blk.1.ffn_gate") + offsetof(agm_tensor_entry, shape), 8);
         set_tensor<uint64_t>(f, l, TEN("blk.1.ffn_gate", bytes), 8 * 32); }},
    {"name not terminated", AGM_ERR_FORMAT, "not NUL-terminated", [](Bytes* f, const Layout& l) {
         std::memset(f->data() + l.tensor_entry("blk.0.ffn_up"), 'A', AGM_TENSOR_NAME_BYTES); }},
    {"name empty", AGM_ERR_FORMAT, "name is empty", [](Bytes* f, const Layout& l) { (*f)[l.tensor_entry("blk.0.ffn_up")] = 0; }},
    {"name twice", AGM_ERR_FORMAT, "appears twice", [](Bytes* f, const Layout& l) {
         std::memcpy(f->data() + l.tensor_entry("blk.1.ffn_up"), "blk.0.ffn_up", 13); }},
    {"required tensor renamed", AGM_ERR_FORMAT, "blk.1.attn_output is missing", [](Bytes* f, const Layout& l) {
         (*f)[l.tensor_entry("blk.1.attn_output")] = 'X'; }},
    {"scale NaN", AGM_ERR_FORMAT, "scale is not a finite", [](Bytes* f, const Layout& l) { set_tensor<uint32_t>(f, l, TEN("blk.1.ffn_down", scale), 0x7FC00000u); }},
    {"scale huge (finite)", AGM_OK, "", [](Bytes* f, const Layout& l) { set_tensor<uint32_t>(f, l, TEN("blk.0.attn_q", scale), 0x7F7FFFFFu); }},
    // tokenizer
    {"tokenizer section too small", AGM_ERR_FORMAT, "tokenizer", [](Bytes* f, const Layout& l) { set_sec<uint64_t>(f, l, SEC(TOKENIZER, bytes), 16); }},
    {"tokenizer section 1 short", AGM_ERR_FORMAT, "tokenizer", [](Bytes* f, const Layout& l) {
         set_sec<uint64_t>(f, l, SEC(TOKENIZER, bytes), l.find(AGM_SECTION_TOKENIZER)->bytes - 1); }},
    {"n_tokens huge", AGM_ERR_FORMAT, "tokenizer", [](Bytes* f, const Layout& l) { set<uint32_t>(f, tok_at(l) + 4, UINT32_MAX); }},
    {"n_tokens 0", AGM_ERR_FORMAT, "0 tokens", [](Bytes* f, const Layout& l) { set<uint32_t>(f, tok_at(l) + 4, 0); }},
    {"text_bytes huge", AGM_ERR_FORMAT, "text bytes need", [](Bytes* f, const Layout& l) { set<uint32_t>(f, tok_at(l) + 28, UINT32_MAX); }},
    {"tokenizer kind 3", AGM_ERR_UNSUPPORTED, "kind 3", [](Bytes* f, const Layout& l) { set<uint32_t>(f, tok_at(l), 3); }},  // 2 is byte-level BPE
    {"tokenizer flags", AGM_ERR_UNSUPPORTED, "flags", [](Bytes* f, const Layout& l) { set<uint32_t>(f, tok_at(l) + 8, 0x100); }},
    {"BOS id out of range", AGM_ERR_FORMAT, "BOS id 8", [](Bytes* f, const Layout& l) { set<int32_t>(f, tok_at(l) + 12, 8); }},
    {"unk id -2", AGM_ERR_FORMAT, "unknown id -2", [](Bytes* f, const Layout& l) { set<int32_t>(f, tok_at(l) + 20, -2); }},
    {"score NaN", AGM_ERR_FORMAT, "non-finite score", [](Bytes* f, const Layout& l) { set<uint32_t>(f, tok_at(l) + 32 + 12, 0x7FC00000u); }},
    {"offsets decreasing", AGM_ERR_FORMAT, "spans", [](Bytes* f, const Layout& l) { set<uint32_t>(f, tok_at(l) + kOffsetsAt + 4 * 4, 1); }},
    {"offset past the text", AGM_ERR_FORMAT, "spans", [](Bytes* f, const Layout& l) { set<uint32_t>(f, tok_at(l) + kOffsetsAt + 4 * 4, 0xFFFFFFF0u); }},
    {"first offset not 0", AGM_ERR_FORMAT, "first offset", [](Bytes* f, const Layout& l) { set<uint32_t>(f, tok_at(l) + kOffsetsAt, 1); }},
    {"last offset short", AGM_ERR_FORMAT, "pieces end", [](Bytes* f, const Layout& l) {
         set<uint32_t>(f, tok_at(l) + kOffsetsAt + 8 * 4, get<uint32_t>(*f, tok_at(l) + kOffsetsAt + 8 * 4) - 1); }},
    {"token type 9", AGM_ERR_FORMAT, "type 9", [](Bytes* f, const Layout& l) { (*f)[tok_at(l) + kOffsetsAt + 9 * 4 + 3] = 9; }},
    {"empty pieces", AGM_OK, "", [](Bytes* f, const Layout& l) {  // offsets all 0 but the last
         for (int i = 1; i < 8; ++i) set<uint32_t>(f, tok_at(l) + kOffsetsAt + 4 * i, 0); }},
    {"all pieces 'a'", AGM_OK, "", [](Bytes* f, const Layout& l) {  // duplicate spellings everywhere
         const uint32_t tb = get<uint32_t>(*f, tok_at(l) + 28);
         for (uint32_t i = 1; i <= 8; ++i) set<uint32_t>(f, tok_at(l) + kOffsetsAt + 4 * i, i * tb / 8);
         std::memset(f->data() + tok_at(l) + kOffsetsAt + 9 * 4 + 8, 'a', tb); }},
};

}  // namespace

TEST_CASE("hostile: crafted headers give the exact status and a clear message") {
    const Bytes base = tiny_model();
    const Layout l = layout_of(base);
    int n = 0;
    for (const Craft& c : kCrafts) {
        Bytes f = base;
        c.edit(&f, l);
        fix_crc(&f);
        for (bool verify : {true, false}) {
            const std::string what = c.what;
            CAPTURE(what);
            CAPTURE(verify);
            agm_error e;
            const agm_status st = open_exact(f.data(), f.size(), verify, &e, true, true);
            CHECK_MESSAGE(st == c.status, "status ", (int)st, ": ", e.message);
            if (st != AGM_OK) CHECK_MESSAGE(contains(e.message, c.message), "message: ", e.message);
        }
        ++n;
    }
    MESSAGE(n, " crafted files");
}

TEST_CASE("hostile: session sizes of a huge context do not overflow") {
    // 8 layers x 2^20 positions x 128 kv floats x 4 bytes = 2^32 bytes per
    // cache: wraps to 0 in a 32-bit size_t. Only the size is asked for.
    TinyCfg c;
    c.dim = 128;
    c.hidden = 128;
    c.n_layers = 8;
    c.n_heads = 2;
    c.n_kv_heads = 2;
    c.max_seq = 1u << 20;
    const Bytes f = tiny_model(c);
    ExactBuf buf(f);
    agm_model* m = nullptr;
    agm_error e{};
    REQUIRE(agm_model_open_memory(buf.p, buf.n, nullptr, &m, &e) == AGM_OK);
    size_t bytes = 0;
    // Without options the context is capped (4096 tokens): a small session.
    REQUIRE(agm_session_memory_size(m, nullptr, &bytes, &e) == AGM_OK);
    CHECK(bytes < 2ull * 8 * 4096 * 128 * 4 + (1u << 20));
    agm_session_options big;
    agm_session_options_default(&big);
    big.n_ctx = 1u << 20;
    const agm_status st = agm_session_memory_size(m, &big, &bytes, &e);
    if (sizeof(size_t) < 8) {
        CHECK(st == AGM_ERR_NO_MEMORY);  // 2^33 bytes: more than 32 bits address
    }
    if (st == AGM_OK) {
        CHECK((uint64_t)bytes >= 2ull * 8 * (1u << 20) * 128 * 4);
    } else {
        CHECK(one_line(e.message));
    }
    agm_session_options so;
    agm_session_options_default(&so);
    so.n_ctx = 3;
    agm_session* s = nullptr;
    REQUIRE(agm_session_create(m, &so, &s, &e) == AGM_OK);
    const int32_t toks[3] = {1, 4, 7};
    CHECK(agm_session_feed(s, toks, 3, &e) == AGM_OK);
    CHECK(agm_session_feed(s, toks, 1, &e) == AGM_ERR_CONTEXT_FULL);
    CHECK(one_line(e.message));
    agm_session_free(s);
    agm_model_close(m);
}
