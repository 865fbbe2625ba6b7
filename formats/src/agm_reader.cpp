// Validation of the native model file. Order: header, section table, then
// each section; a failure names what was expected and what the file has.
#include <cmath>
#include <cstring>
#include <initializer_list>

#include "agm/crc32.h"
#include "agm/model_file.h"

namespace agm {
namespace {

// Whether e is a tl5_r4 or tl5_r4s matrix written before its quads were
// rounded up to AGM_TL5_QUAD_ALIGN words (agmodel 0.1 files): ceil(cols / 5)
// words a quad.
bool tl5_unrounded(const agm_tensor_entry& e) {
    if ((e.type != AGM_TYPE_TL5_R4 && e.type != AGM_TYPE_TL5_R4S) || e.n_dims != 2) return false;
    const uint64_t quads = ((uint64_t)e.shape[0] + AGM_TL5_ROWS - 1) / AGM_TL5_ROWS;
    const uint64_t words = ((uint64_t)e.shape[1] + AGM_TL5_GROUP - 1) / AGM_TL5_GROUP;
    return e.bytes == quads * words * AGM_TL5_ROWS + (e.type == AGM_TYPE_TL5_R4S ? quads * AGM_TL5_ROWS * 4 : 0);
}

constexpr TensorTypeInfo kTypes[] = {
    {AGM_TYPE_F32, "f32", false},
    {AGM_TYPE_F16, "f16", false},
    {AGM_TYPE_I8, "i8", true},
    {AGM_TYPE_T2_B128, "t2_b128", true},
    {AGM_TYPE_TL5_R4, "tl5_r4", true},
    {AGM_TYPE_Q4_B32, "q4_b32", false},
    {AGM_TYPE_TL5_R4S, "tl5_r4s", false},
};

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) {
    if (a != 0 && b > UINT64_MAX / a) return true;
    *out = a * b;
    return false;
}

// A [offset, offset+bytes) range that lies inside a file of `size` bytes.
bool in_file(uint64_t offset, uint64_t bytes, uint64_t size) {
    return offset <= size && bytes <= size - offset;
}

const char* section_name(uint32_t kind) {
    switch (kind) {
        case AGM_SECTION_CONFIG: return "config";
        case AGM_SECTION_TOKENIZER: return "tokenizer";
        case AGM_SECTION_TENSORS: return "tensors";
        case AGM_SECTION_DATA: return "data";
        case AGM_SECTION_METADATA: return "metadata";
        case AGM_SECTION_CHAT_TEMPLATE: return "chat template";
        default: return "unknown";
    }
}

struct KeySpec {
    uint16_t key;
    uint32_t type;
    const char* name;
    bool required;
};

constexpr KeySpec kKeys[] = {
    {AGM_KEY_ARCH, AGM_VALUE_U32, "arch", true},
    {AGM_KEY_DIM, AGM_VALUE_U32, "dim", true},
    {AGM_KEY_HIDDEN_DIM, AGM_VALUE_U32, "hidden_dim", true},
    {AGM_KEY_N_LAYERS, AGM_VALUE_U32, "n_layers", true},
    {AGM_KEY_N_HEADS, AGM_VALUE_U32, "n_heads", true},
    {AGM_KEY_N_KV_HEADS, AGM_VALUE_U32, "n_kv_heads", true},
    {AGM_KEY_VOCAB_SIZE, AGM_VALUE_U32, "vocab_size", true},
    {AGM_KEY_MAX_SEQ_LEN, AGM_VALUE_U32, "max_seq_len", true},
    {AGM_KEY_HEAD_DIM, AGM_VALUE_U32, "head_dim", false},
    {AGM_KEY_NORM_INPUT, AGM_VALUE_U32, "norm_input", false},
    {AGM_KEY_NORM_SUB, AGM_VALUE_U32, "norm_sub", false},
    {AGM_KEY_NORM_OUTPUT, AGM_VALUE_U32, "norm_output", false},
    {AGM_KEY_NORM_EPS, AGM_VALUE_F32, "norm_eps", false},
    {AGM_KEY_FFN_ACT, AGM_VALUE_U32, "ffn_act", false},
    {AGM_KEY_ROPE_THETA, AGM_VALUE_F32, "rope_theta", false},
    {AGM_KEY_ROPE_LAYOUT, AGM_VALUE_U32, "rope_layout", false},
    {AGM_KEY_TIED_CLASSIFIER, AGM_VALUE_U32, "tied_classifier", false},
    {AGM_KEY_ACT_QUANT, AGM_VALUE_U32, "act_quant", false},
};

const KeySpec* key_spec(uint32_t key) {
    for (const KeySpec& k : kKeys)
        if (k.key == key) return &k;
    return nullptr;
}

void store_value(ModelConfig* c, uint32_t key, uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, 4);
    switch (key) {
        case AGM_KEY_ARCH: c->arch = bits; break;
        case AGM_KEY_DIM: c->dim = bits; break;
        case AGM_KEY_HIDDEN_DIM: c->hidden_dim = bits; break;
        case AGM_KEY_N_LAYERS: c->n_layers = bits; break;
        case AGM_KEY_N_HEADS: c->n_heads = bits; break;
        case AGM_KEY_N_KV_HEADS: c->n_kv_heads = bits; break;
        case AGM_KEY_VOCAB_SIZE: c->vocab_size = bits; break;
        case AGM_KEY_MAX_SEQ_LEN: c->max_seq_len = bits; break;
        case AGM_KEY_HEAD_DIM: c->head_dim = bits; break;
        case AGM_KEY_NORM_INPUT: c->norm_input = bits; break;
        case AGM_KEY_NORM_SUB: c->norm_sub = bits; break;
        case AGM_KEY_NORM_OUTPUT: c->norm_output = bits; break;
        case AGM_KEY_NORM_EPS: c->norm_eps = f; break;
        case AGM_KEY_FFN_ACT: c->ffn_act = bits; break;
        case AGM_KEY_ROPE_THETA: c->rope_theta = f; break;
        case AGM_KEY_ROPE_LAYOUT: c->rope_layout = bits; break;
        case AGM_KEY_TIED_CLASSIFIER: c->tied_classifier = bits; break;
        case AGM_KEY_ACT_QUANT: c->act_quant = bits; break;
        default: break;
    }
}

bool check_range(uint32_t v, uint32_t lo, uint32_t hi, const char* name, Error* err) {
    if (v < lo || v > hi) return fail(err, "config: %s is %u, must be %u..%u", name, v, lo, hi);
    return true;
}

bool parse_config(const uint8_t* p, uint64_t bytes, ModelConfig* c, Error* err) {
    if (bytes % sizeof(agm_config_entry) != 0)
        return fail(err, "config section is %llu bytes, not a multiple of %zu",
                    (unsigned long long)bytes, sizeof(agm_config_entry));
    const uint64_t n = bytes / sizeof(agm_config_entry);
    uint32_t seen = 0;  // bit per known key < 32
    bool have_head_dim = false;
    for (uint64_t i = 0; i < n; ++i) {
        agm_config_entry e;
        std::memcpy(&e, p + i * sizeof e, sizeof e);
        const KeySpec* spec = key_spec(e.key);
        if (spec == nullptr) {
            if (e.flags & AGM_CONFIG_REQUIRED)
                return fail_as(err, ErrorKind::Unsupported,
                               "config key %u is required by this file but unknown to this build "
                               "(the file needs a newer agmodel)", e.key);
            continue;
        }
        if (e.type != spec->type)
            return fail(err, "config: %s has value type %u, expected %u", spec->name, e.type,
                        spec->type);
        if (seen & (1u << e.key)) return fail(err, "config: %s appears twice", spec->name);
        seen |= 1u << e.key;
        if (e.key == AGM_KEY_HEAD_DIM) have_head_dim = true;
        store_value(c, e.key, e.bits);
    }
    for (const KeySpec& k : kKeys)
        if (k.required && !(seen & (1u << k.key)))
            return fail(err, "config: required key %s is missing", k.name);

    if (c->arch != AGM_ARCH_BITNET_LLAMA)
        return fail_as(err, ErrorKind::Unsupported,
                       "config: architecture %u is unknown to this build (known: 1 bitnet-llama)",
                       c->arch);
    if (!check_range(c->dim, 1, kMaxWidth, "dim", err) ||
        !check_range(c->hidden_dim, 1, kMaxWidth, "hidden_dim", err) ||
        !check_range(c->n_layers, 1, kMaxLayers, "n_layers", err) ||
        !check_range(c->n_heads, 1, 4096, "n_heads", err) ||
        !check_range(c->n_kv_heads, 1, c->n_heads, "n_kv_heads", err) ||
        !check_range(c->vocab_size, 1, kMaxWidth, "vocab_size", err) ||
        !check_range(c->max_seq_len, 1, kMaxSeqLen, "max_seq_len", err))
        return false;
    if (c->n_heads % c->n_kv_heads != 0)
        return fail(err, "config: n_heads %u is not a multiple of n_kv_heads %u", c->n_heads,
                    c->n_kv_heads);
    if (!have_head_dim) {
        if (c->dim % c->n_heads != 0)
            return fail(err, "config: dim %u is not a multiple of n_heads %u", c->dim, c->n_heads);
        c->head_dim = c->dim / c->n_heads;
    }
    if (!check_range(c->head_dim, 2, 4096, "head_dim", err)) return false;
    if (c->head_dim % 2 != 0) return fail(err, "config: head_dim %u is odd", c->head_dim);
    if ((uint64_t)c->n_heads * c->head_dim > kMaxWidth)
        return fail(err, "config: n_heads * head_dim is too large");
    for (uint32_t kind : {c->norm_input, c->norm_sub, c->norm_output})
        if (kind > AGM_NORM_RMS_DIV_N)
            return fail_as(err, ErrorKind::Unsupported, "config: norm kind %u is unknown", kind);
    if (!(c->norm_eps >= 0.0f && c->norm_eps < 1.0f))
        return fail(err, "config: norm_eps must be in [0, 1)");
    if (c->ffn_act != AGM_FFN_SILU_GATED && c->ffn_act != AGM_FFN_RELU2_GATED)
        return fail_as(err, ErrorKind::Unsupported, "config: FFN activation %u is unknown",
                       c->ffn_act);
    if (!(c->rope_theta > 0.0f && std::isfinite(c->rope_theta)))
        return fail(err, "config: rope_theta must be a positive finite number");
    if (c->rope_layout != AGM_ROPE_INTERLEAVED && c->rope_layout != AGM_ROPE_HALVES)
        return fail_as(err, ErrorKind::Unsupported, "config: RoPE layout %u is unknown",
                       c->rope_layout);
    if (c->tied_classifier > 1) return fail(err, "config: tied_classifier must be 0 or 1");
    if (c->act_quant != AGM_ACT_ABSMAX_I8)
        return fail_as(err, ErrorKind::Unsupported,
                       "config: activation quantization %u is unknown", c->act_quant);
    return true;
}

bool parse_tensors(const uint8_t* file, uint64_t size, const agm_section_entry& sec,
                   const agm_section_entry* data_sec, FileView* out, Error* err) {
    if (sec.bytes < sizeof(agm_tensors_header))
        return fail(err, "tensor index is %llu bytes, too small for its header",
                    (unsigned long long)sec.bytes);
    agm_tensors_header th;
    std::memcpy(&th, file + sec.offset, sizeof th);
    uint64_t need;
    if (mul_overflows(th.n_tensors, sizeof(agm_tensor_entry), &need) ||
        need != sec.bytes - sizeof th)
        return fail(err, "tensor index: %u tensors need %llu bytes, section has %llu", th.n_tensors,
                    (unsigned long long)th.n_tensors * sizeof(agm_tensor_entry),
                    (unsigned long long)(sec.bytes - sizeof th));
    if (th.n_tensors > 0 && data_sec == nullptr)
        return fail(err, "file has tensors but no data section");
    const agm_tensor_entry* t =
        reinterpret_cast<const agm_tensor_entry*>(file + sec.offset + sizeof th);
    for (uint32_t i = 0; i < th.n_tensors; ++i) {
        const agm_tensor_entry& e = t[i];
        if (std::memchr(e.name, 0, sizeof e.name) == nullptr || e.name[0] == 0)
            return fail(err, "tensor #%u: name is empty or not NUL-terminated", i);
        for (uint32_t j = 0; j < i; ++j)
            if (std::strcmp(t[j].name, e.name) == 0)
                return fail(err, "tensor %s appears twice", e.name);
        const TensorTypeInfo* ti = tensor_type_info(e.type);
        if (ti == nullptr)
            return fail_as(err, ErrorKind::Unsupported,
                           "tensor %s has type %u, unknown to this build (the file needs a "
                           "newer agmodel)", e.name, e.type);
        if (e.n_dims < 1 || e.n_dims > AGM_MAX_DIMS)
            return fail(err, "tensor %s: %u dimensions, must be 1..%u", e.name, e.n_dims,
                        AGM_MAX_DIMS);
        for (uint32_t d = 0; d < e.n_dims; ++d)
            if (e.shape[d] == 0 || e.shape[d] > (1u << 30))
                return fail(err, "tensor %s: dimension %u is %u", e.name, d, e.shape[d]);
        uint64_t bytes = 0;
        if (!tensor_bytes(e.type, e.shape, e.n_dims, &bytes))
            return fail(err, "tensor %s: type %s cannot have this shape, or its size overflows 64 bits",
                        e.name, ti->name);
        if (bytes != e.bytes && !tl5_unrounded(e))
            return fail(err, "tensor %s: %llu bytes expected for its type and shape, entry says %llu",
                        e.name, (unsigned long long)bytes, (unsigned long long)e.bytes);
        if (e.offset % AGM_FILE_ALIGN != 0)
            return fail(err, "tensor %s: offset %llu is not %u-byte aligned", e.name,
                        (unsigned long long)e.offset, AGM_FILE_ALIGN);
        if (e.offset < data_sec->offset || !in_file(e.offset, e.bytes, size) ||
            e.offset + e.bytes > data_sec->offset + data_sec->bytes)
            return fail(err, "tensor %s: bytes [%llu, +%llu) lie outside the data section", e.name,
                        (unsigned long long)e.offset, (unsigned long long)e.bytes);
        if (!std::isfinite(e.scale))
            return fail(err, "tensor %s: scale is not a finite number", e.name);
    }
    out->tensors = t;
    out->n_tensors = th.n_tensors;
    return true;
}

}  // namespace

const TensorTypeInfo* tensor_type_info(uint32_t type) {
    for (const TensorTypeInfo& t : kTypes)
        if (t.type == type) return &t;
    return nullptr;
}

bool tensor_row_bytes(uint32_t type, uint64_t cols, uint64_t* bytes) {
    switch (type) {
        case AGM_TYPE_F32: return !mul_overflows(cols, 4, bytes);
        case AGM_TYPE_F16: return !mul_overflows(cols, 2, bytes);
        case AGM_TYPE_I8: *bytes = cols; return true;
        case AGM_TYPE_T2_B128:
            return !mul_overflows((cols + AGM_T2_BLOCK_WEIGHTS - 1) / AGM_T2_BLOCK_WEIGHTS,
                                  AGM_T2_BLOCK_BYTES, bytes);
        case AGM_TYPE_Q4_B32: {
            const uint64_t nb = (cols + AGM_Q4_BLOCK - 1) / AGM_Q4_BLOCK;  // cols < 2^32: no overflow
            *bytes = 4 + (nb + 3) / 4 * 4 + nb * AGM_Q4_BLOCK_BYTES;
            return true;
        }
        default: return false;
    }
}

uint32_t tl5_quad_words(uint32_t type, uint32_t cols) {
    const uint32_t groups = (uint32_t)(((uint64_t)cols + AGM_TL5_GROUP - 1) / AGM_TL5_GROUP);
    if ((type != AGM_TYPE_TL5_R4 && type != AGM_TYPE_TL5_R4S) || groups < AGM_TL5_QUAD_ALIGN_FROM) return groups;
    return (uint32_t)(((uint64_t)groups + AGM_TL5_QUAD_ALIGN - 1) / AGM_TL5_QUAD_ALIGN * AGM_TL5_QUAD_ALIGN);
}

uint32_t tl5_entry_quad_words(const agm_tensor_entry& e) {
    if (tl5_unrounded(e))
        return (e.shape[1] + AGM_TL5_GROUP - 1) / AGM_TL5_GROUP;
    return tl5_quad_words(e.type, e.shape[1]);
}

bool tensor_bytes(uint32_t type, const uint32_t* shape, uint32_t n_dims, uint64_t* bytes) {
    if (n_dims < 1 || n_dims > AGM_MAX_DIMS) return false;
    if (type == AGM_TYPE_TL5_R4 || type == AGM_TYPE_TL5_R4S) {  // row quads: matrices only
        if (n_dims != 2) return false;
        const uint64_t quads = ((uint64_t)shape[0] + AGM_TL5_ROWS - 1) / AGM_TL5_ROWS;
        const uint64_t groups = tl5_quad_words(type, shape[1]);
        // shape[] < 2^32 each: quads * groups < 2^62, no overflow
        *bytes = quads * groups * AGM_TL5_ROWS + (type == AGM_TYPE_TL5_R4S ? quads * AGM_TL5_ROWS * 4 : 0);
        return true;
    }
    uint64_t rows = 1;
    for (uint32_t d = 0; d + 1 < n_dims; ++d)
        if (mul_overflows(rows, shape[d], &rows)) return false;
    uint64_t row;
    if (!tensor_row_bytes(type, shape[n_dims - 1], &row)) return false;
    return !mul_overflows(rows, row, bytes);
}

uint32_t model_file_checksum(const uint8_t* data, uint64_t size) {
    agm_file_header h;
    std::memcpy(&h, data, sizeof h);
    h.checksum = 0;
    uint32_t crc = crc32_update(0, &h, sizeof h);
    return crc32_update(crc, data + sizeof h, size - sizeof h);
}

const agm_tensor_entry* find_tensor(const FileView& file, const char* name) {
    for (uint32_t i = 0; i < file.n_tensors; ++i)
        if (std::strcmp(file.tensors[i].name, name) == 0) return &file.tensors[i];
    return nullptr;
}

const char* config_key_name(uint32_t key) {
    const KeySpec* k = key_spec(key);
    return k ? k->name : "unknown";
}

bool parse_model_file(const uint8_t* data, uint64_t size, bool verify_checksum, FileView* out,
                      Error* err) {
    *out = FileView();
    if (data == nullptr) return fail_as(err, ErrorKind::Argument, "no model data");
    if (reinterpret_cast<uintptr_t>(data) % AGM_FILE_ALIGN != 0)
        return fail_as(err, ErrorKind::Argument, "model buffer is not %u-byte aligned",
                       AGM_FILE_ALIGN);
    if (size < sizeof(agm_file_header))
        return fail(err, "file is %llu bytes, shorter than the %zu-byte header",
                    (unsigned long long)size, sizeof(agm_file_header));
    agm_file_header h;
    std::memcpy(&h, data, sizeof h);
    if (h.magic != AGM_FILE_MAGIC) return fail(err, "not an agmodel file (bad magic)");
    if (h.version != AGM_FILE_VERSION)
        return fail_as(err, ErrorKind::Unsupported,
                       "file format version %u; this build reads version %u only (%s)",
                       h.version, AGM_FILE_VERSION,
                       h.version > AGM_FILE_VERSION ? "the file needs a newer agmodel"
                                                    : "reconvert the model");
    if (h.header_bytes != sizeof h)
        return fail(err, "header size %u, expected %zu", h.header_bytes, sizeof h);
    if (h.file_bytes != size)
        return fail(err, "file is %llu bytes, header says %llu (truncated or padded)",
                    (unsigned long long)size, (unsigned long long)h.file_bytes);
    if (h.alignment != AGM_FILE_ALIGN)
        return fail(err, "alignment %u, expected %u", h.alignment, AGM_FILE_ALIGN);
    if (h.checksum_kind != AGM_CHECKSUM_CRC32)
        return fail_as(err, ErrorKind::Unsupported, "checksum kind %u is unknown", h.checksum_kind);
    if (h.flags != 0)
        return fail_as(err, ErrorKind::Unsupported, "header flags 0x%x are unknown to this build",
                       h.flags);
    if (verify_checksum) {
        const uint32_t crc = model_file_checksum(data, size);
        if (crc != h.checksum)
            return fail(err, "checksum mismatch: file says %08x, contents give %08x (damaged file)",
                        h.checksum, crc);
        out->checksum_verified = true;
    }
    out->base = data;
    out->size = size;
    out->version = h.version;
    out->checksum = h.checksum;

    uint64_t table_bytes;
    if (h.n_sections == 0 || h.n_sections > 64 ||
        mul_overflows(h.n_sections, sizeof(agm_section_entry), &table_bytes) ||
        h.section_table != sizeof h || !in_file(h.section_table, table_bytes, size))
        return fail(err, "section table (%u entries at %llu) does not fit the file", h.n_sections,
                    (unsigned long long)h.section_table);
    const agm_section_entry* secs = reinterpret_cast<const agm_section_entry*>(data + h.section_table);
    const agm_section_entry* by_kind[AGM_SECTION_CHAT_TEMPLATE + 1] = {nullptr};
    for (uint32_t i = 0; i < h.n_sections; ++i) {
        const agm_section_entry& s = secs[i];
        if (s.offset % AGM_FILE_ALIGN != 0 || s.offset < h.section_table + table_bytes ||
            !in_file(s.offset, s.bytes, size))
            return fail(err, "section #%u (%s): bytes [%llu, +%llu) are misaligned or outside the "
                        "file", i, section_name(s.kind), (unsigned long long)s.offset,
                        (unsigned long long)s.bytes);
        if (s.kind == 0 || s.kind > AGM_SECTION_CHAT_TEMPLATE) {
            if (s.flags & AGM_SECTION_REQUIRED)
                return fail_as(err, ErrorKind::Unsupported,
                               "section kind %u is required by this file but unknown to this "
                               "build (the file needs a newer agmodel)", s.kind);
            continue;
        }
        if (by_kind[s.kind] != nullptr)
            return fail(err, "section %s appears twice", section_name(s.kind));
        by_kind[s.kind] = &s;
    }
    if (by_kind[AGM_SECTION_CONFIG] == nullptr) return fail(err, "file has no config section");
    if (by_kind[AGM_SECTION_TENSORS] == nullptr) return fail(err, "file has no tensor index");

    const agm_section_entry& cs = *by_kind[AGM_SECTION_CONFIG];
    if (!parse_config(data + cs.offset, cs.bytes, &out->config, err)) return false;
    if (!parse_tensors(data, size, *by_kind[AGM_SECTION_TENSORS], by_kind[AGM_SECTION_DATA], out,
                       err))
        return false;
    if (const agm_section_entry* ts = by_kind[AGM_SECTION_TOKENIZER]) {
        if (!parse_tokenizer_section(data + ts->offset, ts->bytes, &out->tokenizer, err))
            return fail_context(err, "tokenizer");
        if (out->tokenizer.n_tokens != out->config.vocab_size)
            return fail(err, "tokenizer has %u tokens, config vocab_size is %u",
                        out->tokenizer.n_tokens, out->config.vocab_size);
    }
    if (const agm_section_entry* ms = by_kind[AGM_SECTION_METADATA]) {
        out->metadata = reinterpret_cast<const char*>(data + ms->offset);
        out->metadata_bytes = ms->bytes;
    }
    if (const agm_section_entry* ct = by_kind[AGM_SECTION_CHAT_TEMPLATE]) {
        out->chat_template = reinterpret_cast<const char*>(data + ct->offset);
        out->chat_template_bytes = ct->bytes;
    }
    return true;
}

}  // namespace agm
