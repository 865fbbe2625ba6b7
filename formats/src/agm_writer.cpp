#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agm/crc32.h"
#include "agm/model_file.h"
#include "agm/model_writer.h"

namespace agm {
namespace {

uint64_t align_up(uint64_t v) { return (v + AGM_FILE_ALIGN - 1) / AGM_FILE_ALIGN * AGM_FILE_ALIGN; }

template <typename T>
void put(std::vector<uint8_t>* out, uint64_t offset, const T& v) {
    std::memcpy(out->data() + offset, &v, sizeof v);
}

}  // namespace

void ModelWriter::set_u32(uint16_t key, uint32_t value) {
    config_.push_back(agm_config_entry{key, 0, AGM_VALUE_U32, value});
}

void ModelWriter::set_f32(uint16_t key, float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    config_.push_back(agm_config_entry{key, 0, AGM_VALUE_F32, bits});
}

void ModelWriter::set_config(const ModelConfig& c) {
    set_u32(AGM_KEY_ARCH, c.arch);
    set_u32(AGM_KEY_DIM, c.dim);
    set_u32(AGM_KEY_HIDDEN_DIM, c.hidden_dim);
    set_u32(AGM_KEY_N_LAYERS, c.n_layers);
    set_u32(AGM_KEY_N_HEADS, c.n_heads);
    set_u32(AGM_KEY_N_KV_HEADS, c.n_kv_heads);
    set_u32(AGM_KEY_VOCAB_SIZE, c.vocab_size);
    set_u32(AGM_KEY_MAX_SEQ_LEN, c.max_seq_len);
    set_u32(AGM_KEY_HEAD_DIM, c.head_dim);
    set_u32(AGM_KEY_NORM_INPUT, c.norm_input);
    set_u32(AGM_KEY_NORM_SUB, c.norm_sub);
    set_u32(AGM_KEY_NORM_OUTPUT, c.norm_output);
    set_f32(AGM_KEY_NORM_EPS, c.norm_eps);
    set_u32(AGM_KEY_FFN_ACT, c.ffn_act);
    set_f32(AGM_KEY_ROPE_THETA, c.rope_theta);
    set_u32(AGM_KEY_ROPE_LAYOUT, c.rope_layout);
    set_u32(AGM_KEY_TIED_CLASSIFIER, c.tied_classifier);
    set_u32(AGM_KEY_ACT_QUANT, c.act_quant);
}

void ModelWriter::set_tokenizer(std::vector<uint8_t> section) { tokenizer_ = std::move(section); }

void ModelWriter::set_chat_template(const std::string& text) { chat_template_ = text; }

void ModelWriter::add_metadata(const std::string& key, const std::string& value) {
    metadata_ += key + ": " + value + "\n";
}

bool ModelWriter::add_tensor(const std::string& name, uint32_t type, std::vector<uint32_t> shape,
                             float scale, std::vector<uint8_t> data, Error* err) {
    if (name.empty() || name.size() >= AGM_TENSOR_NAME_BYTES)
        return fail(err, "tensor name '%s' must be 1..%u bytes", name.c_str(),
                    AGM_TENSOR_NAME_BYTES - 1);
    uint64_t bytes;
    if (!tensor_bytes(type, shape.data(), (uint32_t)shape.size(), &bytes) || bytes != data.size())
        return fail(err, "tensor %s: %zu bytes given, its type and shape need %llu", name.c_str(),
                    data.size(), (unsigned long long)bytes);
    tensors_.push_back(Tensor{name, type, std::move(shape), scale, std::move(data)});
    return true;
}

bool ModelWriter::finish(std::vector<uint8_t>* out, Error* err) const {
    struct Sec {
        uint32_t kind;
        uint32_t flags;
        uint64_t bytes;
    };
    std::vector<Sec> secs;
    const uint64_t config_bytes = config_.size() * sizeof(agm_config_entry);
    const uint64_t index_bytes = sizeof(agm_tensors_header) + tensors_.size() * sizeof(agm_tensor_entry);
    uint64_t data_bytes = 0;
    for (const Tensor& t : tensors_) data_bytes = align_up(data_bytes) + t.data.size();
    secs.push_back({AGM_SECTION_CONFIG, AGM_SECTION_REQUIRED, config_bytes});
    if (!tokenizer_.empty()) secs.push_back({AGM_SECTION_TOKENIZER, AGM_SECTION_REQUIRED, tokenizer_.size()});
    if (!metadata_.empty()) secs.push_back({AGM_SECTION_METADATA, 0, metadata_.size()});
    if (!chat_template_.empty()) secs.push_back({AGM_SECTION_CHAT_TEMPLATE, 0, chat_template_.size()});
    secs.push_back({AGM_SECTION_TENSORS, AGM_SECTION_REQUIRED, index_bytes});
    secs.push_back({AGM_SECTION_DATA, AGM_SECTION_REQUIRED, data_bytes});

    uint64_t pos = align_up(sizeof(agm_file_header) + secs.size() * sizeof(agm_section_entry));
    std::vector<uint64_t> offsets;
    for (const Sec& s : secs) {
        offsets.push_back(pos);
        pos = align_up(pos + s.bytes);
    }
    const uint64_t file_bytes = offsets.back() + secs.back().bytes;
    if (file_bytes > SIZE_MAX / 2) return fail(err, "model of %llu bytes is too large", (unsigned long long)file_bytes);
    out->assign(file_bytes, 0);

    agm_file_header h{};
    h.magic = AGM_FILE_MAGIC;
    h.version = AGM_FILE_VERSION;
    h.header_bytes = sizeof h;
    h.n_sections = (uint32_t)secs.size();
    h.file_bytes = file_bytes;
    h.section_table = sizeof h;
    h.checksum_kind = AGM_CHECKSUM_CRC32;
    h.alignment = AGM_FILE_ALIGN;
    for (size_t i = 0; i < secs.size(); ++i) {
        agm_section_entry e{secs[i].kind, secs[i].flags, offsets[i], secs[i].bytes, 0};
        put(out, sizeof h + i * sizeof e, e);
        uint8_t* dst = out->data() + offsets[i];
        switch (secs[i].kind) {
            case AGM_SECTION_CONFIG:
                if (!config_.empty()) std::memcpy(dst, config_.data(), config_bytes);
                break;
            case AGM_SECTION_TOKENIZER: std::memcpy(dst, tokenizer_.data(), tokenizer_.size()); break;
            case AGM_SECTION_METADATA: std::memcpy(dst, metadata_.data(), metadata_.size()); break;
            case AGM_SECTION_CHAT_TEMPLATE: std::memcpy(dst, chat_template_.data(), chat_template_.size()); break;
            case AGM_SECTION_TENSORS: {
                agm_tensors_header th{(uint32_t)tensors_.size(), 0};
                std::memcpy(dst, &th, sizeof th);
                const uint64_t data_off = offsets[i + 1];
                uint64_t rel = 0;
                for (size_t k = 0; k < tensors_.size(); ++k) {
                    const Tensor& t = tensors_[k];
                    rel = align_up(rel);
                    agm_tensor_entry te{};
                    std::memcpy(te.name, t.name.data(), t.name.size());
                    te.type = t.type;
                    te.n_dims = (uint32_t)t.shape.size();
                    for (size_t d = 0; d < t.shape.size(); ++d) te.shape[d] = t.shape[d];
                    te.offset = data_off + rel;
                    te.bytes = t.data.size();
                    te.scale = t.scale;
                    std::memcpy(dst + sizeof th + k * sizeof te, &te, sizeof te);
                    if (!t.data.empty()) std::memcpy(out->data() + te.offset, t.data.data(), t.data.size());
                    rel += t.data.size();
                }
                break;
            }
            default: break;
        }
    }
    h.checksum = 0;
    put(out, 0, h);
    h.checksum = model_file_checksum(out->data(), file_bytes);
    put(out, 0, h);
    return true;
}

bool write_file_atomic(const std::string& path, const uint8_t* data, size_t size, Error* err) {
    std::string tmpl = path + ".tmp-XXXXXX";
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    const int fd = mkstemp(name.data());
    if (fd < 0)
        return fail_as(err, ErrorKind::Io, "cannot create a temporary file beside %s: %s",
                       path.c_str(), std::strerror(errno));
    const char* what = nullptr;
    int saved = 0;
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(fd, data + done, size - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            what = "write";
            saved = errno;
            break;
        }
        done += (size_t)n;
    }
    if (what == nullptr && ::fchmod(fd, 0644) != 0) { what = "chmod"; saved = errno; }
    if (what == nullptr && ::fsync(fd) != 0) { what = "fsync"; saved = errno; }
    if (::close(fd) != 0 && what == nullptr) { what = "close"; saved = errno; }
    if (what == nullptr && std::rename(name.data(), path.c_str()) != 0) { what = "rename"; saved = errno; }
    if (what != nullptr) {
        ::unlink(name.data());
        return fail_as(err, ErrorKind::Io, "writing %s failed (%s: %s); nothing was written",
                       path.c_str(), what, std::strerror(saved));
    }
    return true;
}

}  // namespace agm
