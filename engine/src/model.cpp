// Opening a model: map (or borrow) the file, validate it, bind the weights.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

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
            m->n_groups = (cols + AGM_TL5_GROUP - 1) / AGM_TL5_GROUP;
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
    m->n_groups = (cols + AGM_TL5_GROUP - 1) / AGM_TL5_GROUP;
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
    m->layers = static_cast<LayerWeights*>(std::calloc(c.n_layers, sizeof(LayerWeights)));
    if (m->layers == nullptr) return fail_as(err, ErrorKind::NoMemory, "out of memory");
    for (uint32_t l = 0; l < c.n_layers; ++l) {
        LayerWeights& w = m->layers[l];
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

agm_status finish_open(agm_model* m, const agm_open_options* options, agm_model** out,
                       agm_error* error) {
    agm_open_options defaults;
    agm_open_options_default(&defaults);
    if (options == nullptr) options = &defaults;
    Error err;
    const uint8_t* base = m->file.base;
    const uint64_t size = m->file.size;
    if (!agm::parse_model_file(base, size, options->verify_checksum != 0, &m->file, &err) ||
        !agm::bind_weights(m, &err) ||
        (m->file.tokenizer.n_tokens > 0 && !m->tokenizer.init(m->file.tokenizer, &err))) {
        agm_model_close(m);
        return agm::report(err, error);
    }
    m->config = &m->file.config;
    m->has_tokenizer = m->file.tokenizer.n_tokens > 0;
    *out = m;
    return AGM_OK;
}

}  // namespace

extern "C" {

void agm_open_options_default(agm_open_options* options) { options->verify_checksum = 1; }

agm_status agm_model_open_memory(const void* data, size_t size, const agm_open_options* options,
                                 agm_model** out, agm_error* error) {
    if (out == nullptr || data == nullptr)
        return agm::report_arg(error, "agm_model_open_memory: data and out must not be NULL");
    *out = nullptr;
    agm_model* m = new (std::nothrow) agm_model();
    if (m == nullptr) return agm::report_arg(error, "out of memory", AGM_ERR_NO_MEMORY);
    m->file.base = static_cast<const uint8_t*>(data);
    m->file.size = size;
    return finish_open(m, options, out, error);
}

#if !AGM_NO_FILESYSTEM
agm_status agm_model_open_file(const char* path, const agm_open_options* options, agm_model** out,
                               agm_error* error) {
    if (out == nullptr || path == nullptr)
        return agm::report_arg(error, "agm_model_open_file: path and out must not be NULL");
    *out = nullptr;
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
    agm_model* m = new (std::nothrow) agm_model();
    if (m == nullptr) {
        ::munmap(map, size);
        return agm::report_arg(error, "out of memory", AGM_ERR_NO_MEMORY);
    }
    m->mapping = map;
    m->mapping_bytes = size;
    m->file.base = static_cast<const uint8_t*>(map);
    m->file.size = size;
    agm_status st2 = finish_open(m, options, out, error);
    if (st2 != AGM_OK && error != nullptr) {
        char tmp[2 * sizeof error->message];  // cut to the message's size below
        std::snprintf(tmp, sizeof tmp, "%s: %s", path, error->message);
        std::snprintf(error->message, sizeof error->message, "%.*s",
                      (int)(sizeof error->message - 1), tmp);
    }
    return st2;
}

#endif  // !AGM_NO_FILESYSTEM

void agm_model_close(agm_model* m) {
    if (m == nullptr) return;
    std::free(m->layers);
#if !AGM_NO_FILESYSTEM
    if (m->mapping != nullptr) ::munmap(m->mapping, m->mapping_bytes);
#endif
    delete m;
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
    info->model_bytes = m->tokenizer.memory_bytes() + c.n_layers * sizeof(agm::LayerWeights) +
                        sizeof(agm_model);
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
        const bool keep = std::isprint(b) || std::isspace(b) ||
                          (b >= 0x80 && m->tokenizer.kind() == AGM_TOKENIZER_BPE_BYTES);
        if (!keep) return 0;
    }
    if (n <= sizeof local) {
        if (buf != nullptr && cap > 0) std::memcpy(buf, local, n < cap ? n : cap);
        return n;
    }
    return m->tokenizer.decode(prev, token, buf, cap);
}

}  // extern "C"
