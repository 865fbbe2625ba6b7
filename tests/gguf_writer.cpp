// GGUF image builder for tests (see gguf_writer.h).
#include "gguf_writer.h"

#include "agm/half.h"  // agm::f32_to_f16

namespace agm_test {

void put_u8(Bytes* b, uint8_t v) { b->push_back(v); }
void put_u16(Bytes* b, uint16_t v) {
    b->push_back((uint8_t)v);
    b->push_back((uint8_t)(v >> 8));
}
void put_u32(Bytes* b, uint32_t v) {
    for (int i = 0; i < 4; i++) b->push_back((uint8_t)(v >> (8 * i)));
}
void put_u64(Bytes* b, uint64_t v) {
    for (int i = 0; i < 8; i++) b->push_back((uint8_t)(v >> (8 * i)));
}
void put_f32(Bytes* b, float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    put_u32(b, u);
}
void put_f64(Bytes* b, double v) {
    uint64_t u;
    std::memcpy(&u, &v, 8);
    put_u64(b, u);
}
void put_str(Bytes* b, const std::string& s) {
    put_u64(b, s.size());
    b->insert(b->end(), s.begin(), s.end());
}

Bytes f32_bytes(const std::vector<float>& v) {
    Bytes b;
    for (float x : v) put_f32(&b, x);
    return b;
}

Bytes f16_bytes(const std::vector<float>& v) {
    Bytes b;
    for (float x : v) put_u16(&b, agm::f32_to_f16(x));
    return b;
}

Bytes bf16_bytes(const std::vector<float>& v) {
    Bytes b;
    for (float x : v) {
        uint32_t u;
        std::memcpy(&u, &x, 4);
        uint16_t h;
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) h = (uint16_t)((u >> 16) | 0x40);  // NaN: keep it quiet
        else h = (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);           // round to nearest even
        put_u16(&b, h);
    }
    return b;
}

void poke_u32(Bytes* b, uint64_t at, uint32_t v) {
    for (int i = 0; i < 4; i++) (*b)[at + i] = (uint8_t)(v >> (8 * i));
}
void poke_u64(Bytes* b, uint64_t at, uint64_t v) {
    for (int i = 0; i < 8; i++) (*b)[at + i] = (uint8_t)(v >> (8 * i));
}

void GgufWriter::add_string(const std::string& k, const std::string& v) {
    Bytes b;
    put_str(&b, v);
    add_raw(k, agm::GGUF_STRING, b);
}

void GgufWriter::add_string_array(const std::string& k, const std::vector<std::string>& vals) {
    Bytes b;
    put_u32(&b, agm::GGUF_STRING);
    put_u64(&b, vals.size());
    for (const std::string& s : vals) put_str(&b, s);
    add_raw(k, agm::GGUF_ARRAY, b);
}

void GgufWriter::set_alignment(uint32_t a) {
    add_u32("general.alignment", a);
    layout_alignment = a;
}

size_t GgufWriter::add_tensor(const std::string& name, uint32_t type, const std::vector<uint64_t>& ne,
                              const Bytes& data) {
    Tensor t;
    t.name = name;
    t.type = type;
    t.ne = ne;
    t.data = data;
    tensors.push_back(t);
    return tensors.size() - 1;
}

size_t GgufWriter::add_tensor_zeros(const std::string& name, uint32_t type, const std::vector<uint64_t>& ne) {
    uint64_t ne4[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < ne.size() && i < 4; i++) ne4[i] = ne[i];
    uint64_t bytes = 0;
    agm::Error err;
    if (!agm::ggml_tensor_bytes(type, ne4, (uint32_t)ne.size(), &bytes, &err)) bytes = 0;
    return add_tensor(name, type, ne, Bytes((size_t)bytes, 0));
}

namespace {

uint32_t bswap32(uint32_t v) { return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24); }
uint64_t bswap64(uint64_t v) { return (uint64_t)bswap32((uint32_t)v) << 32 | bswap32((uint32_t)(v >> 32)); }

uint64_t align_up(uint64_t x, uint64_t a) { return a == 0 ? x : (x + a - 1) / a * a; }

}  // namespace

Bytes GgufWriter::build(Layout* layout) const {
    Layout lay;
    Bytes b;
    b.insert(b.end(), magic, magic + 4);
    const uint64_t nt = has_n_tensors_override ? n_tensors_override : tensors.size();
    const uint64_t nk = has_n_kv_override ? n_kv_override : kvs.size();
    put_u32(&b, swap_header ? bswap32(version) : version);
    put_u64(&b, swap_header ? bswap64(nt) : nt);
    put_u64(&b, swap_header ? bswap64(nk) : nk);
    for (const Kv& kv : kvs) {
        Layout::KvAt at;
        at.at = b.size();
        put_str(&b, kv.key);
        at.type_at = b.size();
        put_u32(&b, kv.type);
        at.value_at = b.size();
        b.insert(b.end(), kv.value.begin(), kv.value.end());
        lay.kv.push_back(at);
    }
    uint64_t rel = 0;
    for (const Tensor& t : tensors) {
        Layout::TensorAt at;
        at.at = b.size();
        put_str(&b, t.name);
        at.n_dims_at = b.size();
        put_u32(&b, t.n_dims_override >= 0 ? (uint32_t)t.n_dims_override : (uint32_t)t.ne.size());
        at.dims_at = b.size();
        for (uint64_t d : t.ne) put_u64(&b, d);
        at.type_at = b.size();
        put_u32(&b, t.type);
        at.offset_at = b.size();
        rel = align_up(rel, layout_alignment);
        at.rel_offset = rel;
        put_u64(&b, t.has_offset_override ? t.offset_override : rel);
        rel += t.data.size();
        lay.tensors.push_back(at);
    }
    lay.infos_end = b.size();
    lay.data_offset = align_up(lay.infos_end, layout_alignment);
    for (size_t i = 0; i < tensors.size(); i++) {
        b.resize((size_t)(lay.data_offset + lay.tensors[i].rel_offset), 0);
        b.insert(b.end(), tensors[i].data.begin(), tensors[i].data.end());
    }
    if (pad_end && !tensors.empty()) b.resize((size_t)align_up(b.size(), layout_alignment), 0);
    if (layout) *layout = lay;
    return b;
}

GgufWriter tiny_llama_writer(unsigned n_byte_tokens, bool with_tensors) {
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_string("general.name", "tiny");
    w.add_u32("llama.block_count", 1);
    w.add_u32("llama.embedding_length", 256);
    w.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.add_string("tokenizer.ggml.model", "llama");
    std::vector<std::string> toks = {"<unk>", "<s>", "</s>"};
    std::vector<int32_t> types = {2, 3, 3};
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < n_byte_tokens && i < 256; i++) {
        toks.push_back(std::string("<0x") + hex[i >> 4] + hex[i & 15] + ">");
        types.push_back(6);
    }
    const char* pieces[] = {"\xe2\x96\x81", "a", "b", "\xe2\x96\x81" "a", "ab", "\xe2\x96\x81" "ab", "\xe2\x96\x81" "b"};
    for (const char* p : pieces) {
        toks.push_back(p);
        types.push_back(1);
    }
    std::vector<float> scores;
    for (size_t i = 0; i < toks.size(); i++) scores.push_back(types[i] == 1 ? -(float)i : 0.0f);
    w.add_string_array("tokenizer.ggml.tokens", toks);
    w.add_array("tokenizer.ggml.scores", agm::GGUF_F32, scores);
    w.add_array("tokenizer.ggml.token_type", agm::GGUF_I32, types);
    w.add_u32("tokenizer.ggml.bos_token_id", 1);
    w.add_u32("tokenizer.ggml.eos_token_id", 2);
    w.add_u32("tokenizer.ggml.unknown_token_id", 0);
    w.add_bool("tokenizer.ggml.add_space_prefix", true);
    if (with_tensors) {
        const uint32_t types_[] = {agm::GGML_F32, agm::GGML_F16, agm::GGML_Q8_0, agm::GGML_TQ1_0,
                                   agm::GGML_TQ2_0, agm::GGML_I2_S, agm::GGML_BF16};
        const char* names[] = {"norm.weight", "token_embd.weight", "output.weight", "blk.0.ffn_up.weight",
                               "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.0.attn_norm.weight"};
        const std::vector<uint64_t> shapes[] = {{8}, {8, 2}, {32, 2}, {256, 1}, {256, 1}, {128, 2}, {4}};
        for (int i = 0; i < 7; i++) {
            const size_t k = w.add_tensor_zeros(names[i], types_[i], shapes[i]);
            if (!w.tensors[k].data.empty()) w.tensors[k].data[0] = (uint8_t)(0x10 + i);
        }
    }
    return w;
}

}  // namespace agm_test
