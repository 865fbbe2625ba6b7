// Paths and small helpers for the tests. AGM_SOURCE_DIR and AGM_SHARED_DIR
// are absolute host paths (qemu-arm user mode sees the host file system).
#ifndef AGM_TEST_UTIL_H
#define AGM_TEST_UTIL_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace agm_test {

inline std::string source_path(const std::string& rel) { return std::string(AGM_SOURCE_DIR) + "/" + rel; }
inline std::string shared_path(const std::string& rel) { return std::string(AGM_SHARED_DIR) + "/" + rel; }
inline std::string model_3m_dir() { return shared_path("models/bitnet-tinystories-3m"); }
inline std::string bundled_model() { return source_path("models/tinystories-3m.agm"); }

inline bool read_file(const std::string& path, std::vector<uint8_t>* out) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    out->clear();
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
    std::fclose(f);
    return true;
}

// An exactly sized, 64-byte-aligned heap copy of a file image: our reader
// and agm_model_open_memory want AGM_FILE_ALIGN alignment, and the exact size
// lets ASan report a read of any byte at or past p + n. p is null if the
// allocation failed (the open then fails).
struct AlignedCopy {
    uint8_t* p = nullptr;
    size_t n = 0;
    AlignedCopy(const uint8_t* src, size_t size) : n(size) {
        void* v = nullptr;
        if (posix_memalign(&v, 64, size ? size : 1) != 0) return;
        p = static_cast<uint8_t*>(v);
        if (size) std::memcpy(p, src, size);
    }
    explicit AlignedCopy(const std::vector<uint8_t>& b) : AlignedCopy(b.data(), b.size()) {}
    ~AlignedCopy() { std::free(p); }
    AlignedCopy(const AlignedCopy&) = delete;
    AlignedCopy& operator=(const AlignedCopy&) = delete;
    const uint8_t* data() const { return p; }
};

inline bool read_file(const std::string& path, std::string* out) {
    std::vector<uint8_t> b;
    if (!read_file(path, &b)) return false;
    out->assign(b.begin(), b.end());
    return true;
}

inline std::string read_text(const std::string& path) {
    std::vector<uint8_t> b;
    if (!read_file(path, &b)) return std::string();
    return std::string(b.begin(), b.end());
}

// Lines as std::getline sees them: a final line without '\n' still counts.
inline std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < s.size()) {
        size_t k = s.find('\n', pos);
        if (k == std::string::npos) k = s.size();
        out.push_back(s.substr(pos, k - pos));
        pos = k + 1;
    }
    return out;
}

inline std::vector<int32_t> read_ids(const std::string& path) {
    std::vector<int32_t> ids;
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) return ids;
    int v;
    while (std::fscanf(f, "%d", &v) == 1) ids.push_back(v);
    std::fclose(f);
    return ids;
}

// Seed for randomized tests: AGM_TEST_SEED in the environment, else fixed.
inline uint64_t test_seed() {
    const char* s = std::getenv("AGM_TEST_SEED");
    return s ? std::strtoull(s, nullptr, 10) : 20261123ull;
}

}  // namespace agm_test

#endif
