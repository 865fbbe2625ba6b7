// Test-side safetensors and checkpoint writer (see safetensors_writer.h).
#include "safetensors_writer.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace agm_test {

namespace {

uint32_t bits_of(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

// JSON string literal (quote, backslash and control bytes escaped).
std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
        const unsigned char c = (unsigned char)ch;
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char u[8];
            std::snprintf(u, sizeof u, "\\u%04x", c);
            out += u;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

void put_le(std::vector<uint8_t>* out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out->push_back((uint8_t)(v >> (8 * i)));
}

}  // namespace

uint16_t f32_to_bf16_rne(float f) {
    const uint32_t u = bits_of(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // quiet NaN
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

uint16_t f32_to_f16_rne(float f) {
    const uint32_t u = bits_of(f);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);  // NaN
    if (a >= 0x47800000u) return (uint16_t)(sign | 0x7c00u);  // >= 2^16 (or inf): inf
    if (a < 0x00800000u) return sign;  // zero, or a float subnormal: rounds to 0
    const int e = (int)(a >> 23) - 127;
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;  // 24-bit significand
    // Normal half: keep 11 bits. Subnormal half: count units of 2^-24.
    const int shift = e >= -14 ? 13 : -e - 1;
    if (shift > 24) return sign;
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) ++q;
    if (e < -14) return (uint16_t)(sign | q);  // q may reach 0x400: the smallest normal
    // q is 1.mmm in 11 bits (or 0x800 after a carry, which bumps the exponent).
    const uint32_t h = ((uint32_t)(e + 15) << 10) + (q - 0x400u);
    return (uint16_t)(sign | (h > 0x7c00u ? 0x7c00u : h));
}

StTensor st_floats(const std::string& name, const std::string& dtype, std::vector<uint64_t> shape,
                   const std::vector<float>& values) {
    StTensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    for (float v : values) {
        if (dtype == "F16") put_le(&t.bytes, f32_to_f16_rne(v), 2);
        else if (dtype == "BF16") put_le(&t.bytes, f32_to_bf16_rne(v), 2);
        else put_le(&t.bytes, bits_of(v), 4);
    }
    return t;
}

StTensor st_raw(const std::string& name, const std::string& dtype, std::vector<uint64_t> shape,
                std::vector<uint8_t> bytes) {
    StTensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.bytes = std::move(bytes);
    return t;
}

// Data layout: each tensor's [begin, end) in the byte buffer, and the buffer.
static void layout(const std::vector<StTensor>& tensors, const StOptions& opt,
                   std::vector<std::pair<uint64_t, uint64_t>>* ranges, std::vector<uint8_t>* buffer) {
    ranges->assign(tensors.size(), {0, 0});
    for (size_t k = 0; k < tensors.size(); ++k) {
        const size_t i = opt.data_reversed ? tensors.size() - 1 - k : k;
        const StTensor& t = tensors[i];
        buffer->insert(buffer->end(), (size_t)t.gap_before, (uint8_t)0);
        (*ranges)[i].first = buffer->size();
        buffer->insert(buffer->end(), t.bytes.begin(), t.bytes.end());
        (*ranges)[i].second = buffer->size();
    }
    buffer->insert(buffer->end(), opt.trailing.begin(), opt.trailing.end());
}

static std::string header_for(const std::vector<StTensor>& tensors, const StOptions& opt,
                              const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
    if (!opt.header_json.empty()) return opt.header_json;
    std::string h = "{";
    bool first = true;
    auto sep = [&]() {
        if (!first) h += ",";
        first = false;
    };
    if (!opt.metadata_json.empty()) {
        sep();
        h += "\"__metadata__\":" + opt.metadata_json;
    } else if (!opt.metadata.empty()) {
        sep();
        h += "\"__metadata__\":{";
        for (size_t i = 0; i < opt.metadata.size(); ++i) {
            if (i) h += ",";
            h += quote(opt.metadata[i].first) + ":" + quote(opt.metadata[i].second);
        }
        h += "}";
    }
    for (size_t i = 0; i < tensors.size(); ++i) {
        const StTensor& t = tensors[i];
        sep();
        h += quote(t.name) + ":";
        if (!t.entry_json.empty()) {
            h += t.entry_json;
            continue;
        }
        h += "{\"dtype\":" + quote(t.dtype) + ",\"shape\":";
        if (!t.shape_json.empty()) {
            h += t.shape_json;
        } else {
            h += "[";
            for (size_t d = 0; d < t.shape.size(); ++d)
                h += (d ? "," : "") + std::to_string(t.shape[d]);
            h += "]";
        }
        h += ",\"data_offsets\":";
        if (!t.offsets_json.empty())
            h += t.offsets_json;
        else
            h += "[" + std::to_string(ranges[i].first) + "," + std::to_string(ranges[i].second) + "]";
        if (!t.extra_json.empty()) h += "," + t.extra_json;
        h += "}";
    }
    if (!opt.extra_members.empty()) {
        sep();
        h += opt.extra_members;
    }
    return h + "}";
}

std::string safetensors_header_json(const std::vector<StTensor>& tensors, const StOptions& opt) {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    std::vector<uint8_t> buffer;
    layout(tensors, opt, &ranges, &buffer);
    return header_for(tensors, opt, ranges);
}

std::vector<uint8_t> build_safetensors(const std::vector<StTensor>& tensors, const StOptions& opt) {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    std::vector<uint8_t> buffer;
    layout(tensors, opt, &ranges, &buffer);
    std::string header = header_for(tensors, opt, ranges);
    if (opt.header_json.empty() && opt.header_align > 1)
        while (header.size() % opt.header_align != 0) header += ' ';
    std::vector<uint8_t> out;
    put_le(&out, opt.set_header_size ? opt.header_size : header.size(), 8);
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), buffer.begin(), buffer.end());
    return out;
}

std::string shard_file_name(uint32_t i, uint32_t n) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "model-%05u-of-%05u.safetensors", i, n);
    return buf;
}

bool write_file(const std::string& path, const void* data, size_t size) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return false;
    const bool ok = std::fwrite(data, 1, size, f) == size;
    return std::fclose(f) == 0 && ok;
}

bool write_hf_dir(const std::string& dir, const HfDirSpec& spec, std::string* why) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        *why = "cannot create " + dir + ": " + std::strerror(errno);
        return false;
    }
    auto put = [&](const std::string& name, const void* data, size_t size) {
        if (write_file(dir + "/" + name, data, size)) return true;
        *why = "cannot write " + dir + "/" + name;
        return false;
    };
    if (spec.write_config && !put("config.json", spec.config_json.data(), spec.config_json.size()))
        return false;
    if (!spec.tokenizer_json.empty() &&
        !put("tokenizer.json", spec.tokenizer_json.data(), spec.tokenizer_json.size()))
        return false;
    if (spec.n_shards == 0) {
        const std::vector<uint8_t> img = build_safetensors(spec.tensors, spec.file_options);
        return put("model.safetensors", img.data(), img.size());
    }
    const uint32_t n = spec.n_shards;
    std::vector<uint32_t> shard(spec.tensors.size());
    for (size_t i = 0; i < shard.size(); ++i)
        shard[i] = i < spec.shard_of.size() ? spec.shard_of[i]
                                            : (uint32_t)(i * n / (shard.size() ? shard.size() : 1));
    uint64_t total = 0;
    std::string map;
    for (size_t i = 0; i < spec.tensors.size(); ++i) {
        total += spec.tensors[i].bytes.size();
        bool skip = false;
        for (const std::string& u : spec.unlisted) skip = skip || u == spec.tensors[i].name;
        if (skip) continue;
        map += (map.empty() ? "" : ",") + quote(spec.tensors[i].name) + ":" +
               quote(shard_file_name(shard[i] + 1, n));
    }
    for (const auto& e : spec.extra_weight_map)
        map += (map.empty() ? "" : ",") + quote(e.first) + ":" + quote(e.second);
    for (uint32_t s = 0; s < n; ++s) {
        bool omit = false;
        for (uint32_t o : spec.omit_shards) omit = omit || o == s;
        if (omit) continue;
        std::vector<StTensor> part;
        for (size_t i = 0; i < spec.tensors.size(); ++i)
            if (shard[i] == s) part.push_back(spec.tensors[i]);
        const std::vector<uint8_t> img = build_safetensors(part, spec.file_options);
        if (!put(shard_file_name(s + 1, n), img.data(), img.size())) return false;
    }
    if (!spec.write_index) return true;
    std::string index = spec.index_json;
    if (index.empty()) {
        index = "{\n  \"metadata\": {";
        if (spec.total_size) index += "\"total_size\": " + std::to_string(total);
        index += "},\n  \"weight_map\": {" + map + "}\n}\n";
    }
    return put("model.safetensors.index.json", index.data(), index.size());
}

static int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
    return ::remove(path);
}

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/agm-st-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) != nullptr) path = buf.data();
}

TempDir::~TempDir() {
    if (!path.empty()) ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace agm_test
