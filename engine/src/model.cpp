// Opening a model: map (or borrow) the file, validate it, bind the weights.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>  // placement new only (no operator new from the C++ runtime)

#if !AGM_NO_FILESYSTEM  // bare metal (newlib): no open/mmap, no agm_model_open_file
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "api_util.h"
#include "model.h"

namespace agm {
namespace {

bool bind_matrix(const FileView& f, const char* name, uint32_t rows, uint32_t cols, Matrix* m,
                 Error* err) {
    const agm_tensor_entry* t = find_tensor(f, name);
    if (t == nullptr) return fail(err, "tensor %s is missing", name);
    if (t->n_dims != 2 || t->shape[0] != rows || t->shape[1] != cols)
        return fail(err, "tensor %s: shape must be [%u, %u]", name, rows, cols);
    m->data = f.base + t->offset;
    m->type = t->type;
    m->rows = rows;
    m->cols = cols;
    m->scale = t->scale;
    switch (t->type) {
        case AGM_TYPE_T2_B128: {
            uint64_t stride;
            tensor_row_bytes(t->type, cols, &stride);
            m->row_stride = (size_t)stride;
            m->n_blocks = (cols + AGM_T2_BLOCK_WEIGHTS - 1) / AGM_T2_BLOCK_WEIGHTS;
            return true;
        }
        case AGM_TYPE_TL5_R4:
            m->n_quads = (rows + AGM_TL5_ROWS - 1) / AGM_TL5_ROWS;
            m->n_groups = tl5_entry_quad_words(*t);  // the quad's words: rounded up, or an older file's
            return true;
        default:
            return fail_as(err, ErrorKind::Unsupported,
                           "tensor %s: type %s has no matrix kernel in this build (needs t2_b128 "
                           "or tl5_r4)", name, tensor_type_info(t->type)->name);
    }
}

bool bind_f32(const FileView& f, const char* name, uint32_t rows, uint32_t cols, const float** out,
              Error* err) {
    const agm_tensor_entry* t = find_tensor(f, name);
    if (t == nullptr) return fail(err, "tensor %s is missing", name);
    const bool ok = rows == 0 ? (t->n_dims == 1 && t->shape[0] == cols)
                              : (t->n_dims == 2 && t->shape[0] == rows && t->shape[1] == cols);
    if (!ok) return fail(err, "tensor %s: shape must be [%u%s%u]", name, rows ? rows : cols,
                         rows ? ", " : "", rows ? cols : 0);
    if (t->type != AGM_TYPE_F32)
        return fail_as(err, ErrorKind::Unsupported, "tensor %s: type %s, this build needs f32",
                       name, tensor_type_info(t->type)->name);
    *out = reinterpret_cast<const float*>(f.base + t->offset);
    return true;
}

// An embedding or classifier: f32, or q4_b32 of at most kMaxQ4Cols columns
// (the kernels' int32 sums: 258 blocks of at most 32 * 8 * 127 * 255).
constexpr uint32_t kMaxQ4Cols = 8192;

bool bind_rows(const FileView& f, const char* name, uint32_t rows, uint32_t cols, RowMatrix* m,
               Error* err) {
    const agm_tensor_entry* t = find_tensor(f, name);
    if (t == nullptr) return fail(err, "tensor %s is missing", name);
    if (t->n_dims != 2 || t->shape[0] != rows || t->shape[1] != cols)
        return fail(err, "tensor %s: shape must be [%u, %u]", name, rows, cols);
    if (t->type != AGM_TYPE_F32 && t->type != AGM_TYPE_Q4_B32 && t->type != AGM_TYPE_TL5_R4S)
        return fail_as(err, ErrorKind::Unsupported,
                       "tensor %s: type %s, this build needs f32, q4_b32 or tl5_r4s", name,
                       tensor_type_info(t->type)->name);
    if (t->type == AGM_TYPE_Q4_B32 && cols > kMaxQ4Cols)
        return fail_as(err, ErrorKind::Unsupported, "tensor %s: q4_b32 rows of %u columns (at most %u)",
                       name, cols, kMaxQ4Cols);
    uint64_t stride = 0;
    tensor_row_bytes(t->type, cols, &stride);  // 0 for tl5_r4s (rows in quads)
    m->data = f.base + t->offset;
    m->type = t->type;
    m->rows = rows;
    m->cols = cols;
    m->row_stride = (size_t)stride;
    m->n_blocks = (cols + AGM_Q4_BLOCK - 1) / AGM_Q4_BLOCK;
    m->n_quads = (rows + AGM_TL5_ROWS - 1) / AGM_TL5_ROWS;
    m->n_groups = tl5_entry_quad_words(*t);
    if (t->type == AGM_TYPE_TL5_R4S)  // 4-byte aligned: the tensor is 64-aligned, the prefix a multiple of 4
        m->row_scale = reinterpret_cast<const float*>(m->data + (size_t)m->n_quads * m->n_groups * 4);
    return true;
}

// Norm weights exist only for the learned kind.
bool bind_norm(const FileView& f, uint32_t kind, const char* name, uint32_t n, const float** out,
               Error* err) {
    *out = nullptr;
    if (kind != AGM_NORM_RMS) return true;
    return bind_f32(f, name, 0, n, out, err);
}

}  // namespace

bool bind_weights(agm_model* m, Error* err) {
    const FileView& f = m->file;
    const ModelConfig& c = f.config;
    const uint32_t dim = c.dim, q_dim = c.q_dim(), kv_dim = c.kv_dim(), hid = c.hidden_dim;
    if (!bind_rows(f, "token_embd", c.vocab_size, dim, &m->embedding, err)) return false;
    if (!bind_norm(f, c.norm_output, "output_norm", dim, &m->output_norm, err)) return false;
    if (c.tied_classifier) {
        m->classifier = m->embedding;
    } else if (!bind_rows(f, "output", c.vocab_size, dim, &m->classifier, err)) {
        return false;
    }
    for (uint32_t l = 0; l < c.n_layers; ++l) {
        LayerWeights& w = *new (&m->layers[l]) LayerWeights();
        char name[AGM_TENSOR_NAME_BYTES];
        auto nm = [&](const char* suffix) {
            std::snprintf(name, sizeof name, "blk.%u.%s", l, suffix);
            return name;
        };
        if (!bind_norm(f, c.norm_input, nm("attn_norm"), dim, &w.attn_norm, err) ||
            !bind_norm(f, c.norm_sub, nm("attn_sub_norm"), q_dim, &w.attn_sub_norm, err) ||
            !bind_norm(f, c.norm_input, nm("ffn_norm"), dim, &w.ffn_norm, err) ||
            !bind_norm(f, c.norm_sub, nm("ffn_sub_norm"), hid, &w.ffn_sub_norm, err) ||
            !bind_matrix(f, nm("attn_q"), q_dim, dim, &w.wq, err) ||
            !bind_matrix(f, nm("attn_k"), kv_dim, dim, &w.wk, err) ||
            !bind_matrix(f, nm("attn_v"), kv_dim, dim, &w.wv, err) ||
            !bind_matrix(f, nm("attn_output"), dim, q_dim, &w.wo, err) ||
            !bind_matrix(f, nm("ffn_gate"), hid, dim, &w.w1, err) ||
            !bind_matrix(f, nm("ffn_down"), dim, hid, &w.w2, err) ||
            !bind_matrix(f, nm("ffn_up"), hid, dim, &w.w3, err))
            return false;
    }
    return true;
}

}  // namespace agm

using agm::Error;
using agm::ErrorKind;

namespace {

constexpr size_t kAlign = 64;

size_t align_up(size_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

uint8_t* align_ptr(void* p) {
    const uintptr_t u = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<uint8_t*>((u + kAlign - 1) / kAlign * kAlign);
}

// Where the model's runtime state goes in its arena (offsets from the
// arena's first 64-byte boundary): the agm_model, its layer table
// [n_layers], the tokenizer's index, the tokenizer's encode scratch for
// max_text_bytes of text. total counts kAlign - 1 bytes of slack so any
// arena start works.
struct ModelPlan {
    size_t model, layers, index, scratch, scratch_bytes, total;
};

bool plan_model(const agm::FileView& f, uint32_t max_text, ModelPlan* p, Error* err) {
    size_t index_bytes = 0, scratch_bytes = 0;
    if (f.tokenizer.n_tokens > 0) {
        if (!agm::Tokenizer::index_bytes(f.tokenizer, &index_bytes, err)) return false;
        scratch_bytes = agm::Tokenizer::scratch_bytes(f.tokenizer, max_text);
        if (scratch_bytes == (size_t)-1)
            return agm::fail_as(err, ErrorKind::Argument, "max_text_bytes %u is too large", max_text);
    }
    size_t at = 0;
    p->model = at;
    at += align_up(sizeof(agm_model));
    p->layers = at;
    at += align_up((size_t)f.config.n_layers * sizeof(agm::LayerWeights));
    p->index = at;
    at += align_up(index_bytes);
    p->scratch = at;
    p->scratch_bytes = scratch_bytes;
    at += align_up(scratch_bytes);
    p->total = at + kAlign - 1;
    return true;
}

agm_status parse_and_plan(const void* data, size_t size, const agm_open_options* options, bool verify,
                          agm::FileView* f, ModelPlan* plan, agm_error* error) {
    agm_open_options defaults;
    agm_open_options_default(&defaults);
    if (options == nullptr) options = &defaults;
    Error err;
    if (!agm::parse_model_file(static_cast<const uint8_t*>(data), size, verify && options->verify_checksum != 0,
                               f, &err) ||
        !plan_model(*f, options->max_text_bytes, plan, &err))
        return agm::report(err, error);
    return AGM_OK;
}

// Opens the model in data[size] inside arena[arena_bytes]: nothing allocated.
agm_status init_model(const void* data, size_t size, const agm_open_options* options, void* arena,
                      size_t arena_bytes, agm_model** out, agm_error* error) {
    agm::FileView f;
    ModelPlan plan;
    agm_status st = parse_and_plan(data, size, options, true, &f, &plan, error);
    if (st != AGM_OK) return st;
    if (arena_bytes < plan.total) {
        Error err;
        agm::fail_as(&err, ErrorKind::Argument, "the model needs an arena of %zu bytes, got %zu (see "
                     "agm_model_memory_size)", plan.total, arena_bytes);
        agm::report(err, error);
        return AGM_ERR_BUFFER;
    }
    uint8_t* a = align_ptr(arena);
    agm_model* m = new (a + plan.model) agm_model();
    m->file = f;
    m->config = &m->file.config;
    m->layers = reinterpret_cast<agm::LayerWeights*>(a + plan.layers);
    m->arena_bytes = plan.total;
    m->max_text_bytes = options != nullptr ? options->max_text_bytes : 1024;
    Error err;
    if (!agm::bind_weights(m, &err) ||
        (m->file.tokenizer.n_tokens > 0 &&
         !m->tokenizer.init_in(m->file.tokenizer, a + plan.index, a + plan.scratch, plan.scratch_bytes, &err))) {
        m->~agm_model();
        return agm::report(err, error);
    }
    m->has_tokenizer = m->file.tokenizer.n_tokens > 0;
    *out = m;
    return AGM_OK;
}

#if !AGM_NO_FILESYSTEM
// Maps path read-only: *map, *size.
agm_status map_file(const char* path, void** map_out, size_t* size_out, agm_error* error) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    Error err;
    if (fd < 0) {
        agm::fail_as(&err, ErrorKind::Io, "cannot open %s: %s", path, std::strerror(errno));
        return agm::report(err, error);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        ::close(fd);
        agm::fail_as(&err, ErrorKind::Io, "%s is not a readable, non-empty regular file", path);
        return agm::report(err, error);
    }
    const size_t size = (size_t)st.st_size;
    if ((uint64_t)st.st_size != (uint64_t)size) {
        ::close(fd);
        agm::fail_as(&err, ErrorKind::Io, "%s is too large to map on this system", path);
        return agm::report(err, error);
    }
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) {
        agm::fail_as(&err, ErrorKind::Io, "cannot map %s: %s", path, std::strerror(errno));
        return agm::report(err, error);
    }
    *map_out = map;
    *size_out = size;
    return AGM_OK;
}
#endif  // !AGM_NO_FILESYSTEM

}  // namespace

#if !AGM_NO_FILESYSTEM
// Prefixes "path: " to a failing call's message.
static agm_status with_path(agm_status st, const char* path, agm_error* error) {
    if (st != AGM_OK && error != nullptr) {
        char tmp[2 * sizeof error->message];  // cut to the message's size below
        std::snprintf(tmp, sizeof tmp, "%s: %s", path, error->message);
        std::snprintf(error->message, sizeof error->message, "%.*s", (int)(sizeof error->message - 1), tmp);
    }
    return st;
}

// After opening a model on a file's mapping: on failure the mapping is
// unmapped and the message gets the path; on success the model owns it.
static agm_status keep_mapping(agm_status st, void* map, size_t size, const char* path, agm_model** out,
                               agm_error* error) {
    if (st != AGM_OK) {
        ::munmap(map, size);
        return with_path(st, path, error);
    }
    (*out)->mapping = map;
    (*out)->mapping_bytes = size;
    return AGM_OK;
}
#endif  // !AGM_NO_FILESYSTEM

extern "C" {

const char* agm_status_name(agm_status status) {
    switch (status) {
        case AGM_OK: return "ok";
        case AGM_ERR_ARGUMENT: return "invalid argument";
        case AGM_ERR_IO: return "I/O error";
        case AGM_ERR_FORMAT: return "format error";
        case AGM_ERR_UNSUPPORTED: return "unsupported";
        case AGM_ERR_NO_MEMORY: return "out of memory";
        case AGM_ERR_CONTEXT_FULL: return "context full";
        case AGM_ERR_BUFFER: return "buffer too small";
        case AGM_ERR_CANCELLED: return "cancelled";
        case AGM_ERR_BUDGET: return "work budget spent";
    }
    return "unknown status";
}

void agm_open_options_default(agm_open_options* options) {
    options->verify_checksum = 1;
    options->max_text_bytes = 1024;
}

agm_status agm_model_memory_size(const void* data, size_t size, const agm_open_options* options,
                                 size_t* bytes, agm_error* error) {
    if (data == nullptr || bytes == nullptr)
        return agm::report_arg(error, "agm_model_memory_size: data and bytes must not be NULL");
    agm::FileView f;
    ModelPlan plan;
    const agm_status st = parse_and_plan(data, size, options, false, &f, &plan, error);
    if (st == AGM_OK) *bytes = plan.total;
    return st;
}

#if !AGM_NO_FILESYSTEM
agm_status agm_model_memory_size_file(const char* path, const agm_open_options* options, size_t* bytes,
                                      agm_error* error) {
    if (path == nullptr || bytes == nullptr)
        return agm::report_arg(error, "agm_model_memory_size_file: path and bytes must not be NULL");
    void* map;
    size_t size;
    agm_status st = map_file(path, &map, &size, error);
    if (st != AGM_OK) return st;
    st = with_path(agm_model_memory_size(map, size, options, bytes, error), path, error);
    ::munmap(map, size);
    return st;
}
#endif  // !AGM_NO_FILESYSTEM

agm_status agm_model_init(const void* data, size_t size, const agm_open_options* options, void* arena,
                          size_t arena_bytes, agm_model** out, agm_error* error) {
    if (out == nullptr || data == nullptr || arena == nullptr)
        return agm::report_arg(error, "agm_model_init: data, arena and out must not be NULL");
    *out = nullptr;
    return init_model(data, size, options, arena, arena_bytes, out, error);
}

#if !AGM_NO_FILESYSTEM
agm_status agm_model_init_file(const char* path, const agm_open_options* options, void* arena,
                               size_t arena_bytes, agm_model** out, agm_error* error) {
    if (out == nullptr || path == nullptr || arena == nullptr)
        return agm::report_arg(error, "agm_model_init_file: path, arena and out must not be NULL");
    *out = nullptr;
    void* map;
    size_t size;
    agm_status st = map_file(path, &map, &size, error);
    if (st != AGM_OK) return st;
    return keep_mapping(init_model(map, size, options, arena, arena_bytes, out, error), map, size, path, out,
                        error);
}
#endif  // !AGM_NO_FILESYSTEM

agm_status agm_model_open_memory(const void* data, size_t size, const agm_open_options* options,
                                 agm_model** out, agm_error* error) {
    if (out == nullptr || data == nullptr)
        return agm::report_arg(error, "agm_model_open_memory: data and out must not be NULL");
    *out = nullptr;
    size_t bytes;
    agm_status st = agm_model_memory_size(data, size, options, &bytes, error);
    if (st != AGM_OK) return st;
    void* block = std::malloc(bytes);
    if (block == nullptr) return agm::report_arg(error, "out of memory", AGM_ERR_NO_MEMORY);
    st = init_model(data, size, options, block, bytes, out, error);
    if (st != AGM_OK) {
        std::free(block);
        return st;
    }
    (*out)->owned_block = block;
    return AGM_OK;
}

#if !AGM_NO_FILESYSTEM
agm_status agm_model_open_file(const char* path, const agm_open_options* options, agm_model** out,
                               agm_error* error) {
    if (out == nullptr || path == nullptr)
        return agm::report_arg(error, "agm_model_open_file: path and out must not be NULL");
    *out = nullptr;
    void* map;
    size_t size;
    agm_status st = map_file(path, &map, &size, error);
    if (st != AGM_OK) return st;
    return keep_mapping(agm_model_open_memory(map, size, options, out, error), map, size, path, out, error);
}

#endif  // !AGM_NO_FILESYSTEM

void agm_model_close(agm_model* m) {
    if (m == nullptr) return;
    void* map = m->mapping;
    const size_t map_bytes = m->mapping_bytes;
    void* block = m->owned_block;
    m->~agm_model();
    std::free(block);
#if !AGM_NO_FILESYSTEM
    if (map != nullptr) ::munmap(map, map_bytes);
#else
    (void)map;
    (void)map_bytes;
#endif
}

const char* agm_model_chat_template(const agm_model* m, size_t* len) {
    const char* t = m != nullptr ? m->file.chat_template : nullptr;
    if (len != nullptr) *len = t != nullptr ? m->file.chat_template_bytes : 0;
    return t;
}

void agm_model_get_info(const agm_model* m, agm_model_info* info) {
    const agm::ModelConfig& c = m->file.config;
    std::memset(info, 0, sizeof *info);
    info->arch = c.arch;
    info->dim = c.dim;
    info->hidden_dim = c.hidden_dim;
    info->n_layers = c.n_layers;
    info->n_heads = c.n_heads;
    info->n_kv_heads = c.n_kv_heads;
    info->head_dim = c.head_dim;
    info->vocab_size = c.vocab_size;
    info->max_seq_len = c.max_seq_len;
    info->bos_id = m->has_tokenizer ? m->file.tokenizer.bos_id : -1;
    info->add_bos = info->bos_id >= 0 && (m->file.tokenizer.flags & AGM_TOK_NO_BOS) == 0;
    info->eos_id = m->has_tokenizer ? m->file.tokenizer.eos_id : -1;
    info->file_bytes = m->file.size;
    info->model_bytes = m->arena_bytes;
}

agm_status agm_tokenize(const agm_model* m, const char* text, size_t len, int add_bos,
                        int32_t* out, size_t cap, size_t* n_out, agm_error* error) {
    if (m == nullptr || n_out == nullptr || (text == nullptr && len > 0) ||
        (out == nullptr && cap > 0))
        return agm::report_arg(error, "agm_tokenize: NULL argument");
    if (!m->has_tokenizer) {
        Error err;
        agm::fail_as(&err, ErrorKind::Unsupported, "the model file has no tokenizer");
        return agm::report(err, error);
    }
    Error err;
    *n_out = 0;
    if (!m->tokenizer.fits(len)) {
        agm::fail_as(&err, ErrorKind::Argument,
                     "a %zu-byte text is longer than the model's tokenizer scratch allows (opened with "
                     "max_text_bytes %u)", len, m->max_text_bytes);
        agm::report(err, error);
        return AGM_ERR_BUFFER;
    }
    if (!m->tokenizer.encode(text ? text : "", len, add_bos != 0, out, cap, n_out, &err)) {
        const agm_status st = agm::report(err, error);
        return *n_out > cap ? AGM_ERR_BUFFER : st;
    }
    return AGM_OK;
}

size_t agm_token_piece(const agm_model* m, int32_t prev, int32_t token, uint32_t flags, char* buf,
                       size_t cap) {
    if (m == nullptr || !m->has_tokenizer) return 0;
    char local[8];
    const size_t n = m->tokenizer.decode(prev, token, local, sizeof local);
    if ((flags & AGM_PIECE_PRINTABLE) && n == 1) {
        // Byte-level BPE splits multi-byte characters across tokens: only
        // ASCII controls are dropped there, bytes >= 0x80 are kept.
        const unsigned char b = (unsigned char)local[0];
        // isprint/isspace of the C locale, without the C library's locale tables
        const bool keep = (b >= 0x20 && b < 0x7F) || (b >= '\t' && b <= '\r') ||
                          (b >= 0x80 && m->tokenizer.kind() == AGM_TOKENIZER_BPE_BYTES);
        if (!keep) return 0;
    }
    if (n <= sizeof local) {
        if (buf != nullptr && cap > 0) std::memcpy(buf, local, n < cap ? n : cap);
        return n;
    }
    return m->tokenizer.decode(prev, token, buf, cap);
}

agm_status agm_detokenize(const agm_model* m, int32_t prev, int32_t token, uint32_t flags, char* buf,
                          size_t cap, size_t* n_out, agm_error* error) {
    if (m == nullptr || n_out == nullptr || (buf == nullptr && cap > 0))
        return agm::report_arg(error, "agm_detokenize: NULL argument");
    *n_out = 0;
    if (!m->has_tokenizer) return agm::report_arg(error, "the model file has no tokenizer", AGM_ERR_UNSUPPORTED);
    *n_out = agm_token_piece(m, prev, token, flags, buf, cap);
    if (*n_out > cap) {
        Error err;
        agm::fail_as(&err, ErrorKind::Argument, "token %d's piece is %zu bytes, the buffer holds %zu", token,
                     *n_out, cap);
        agm::report(err, error);
        return AGM_ERR_BUFFER;
    }
    return AGM_OK;
}

}  // extern "C"
