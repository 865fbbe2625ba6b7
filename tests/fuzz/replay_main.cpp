// Replays inputs through a fuzz target's LLVMFuzzerTestOneInput, so that the
// kept corpus (tests/fuzz/corpus/<name>/) runs as an ordinary regression test
// on every build, host or cross (under QEMU), without libFuzzer:
//
//   agm_fuzz_replay_<name> PATH...
//
// Each PATH is a file or a directory (every regular file in it, in name
// order). Each input is passed as an exactly sized heap copy, so a sanitized
// build reports any read past its end. Exits 1 if no input was found or one
// could not be read; a target that misbehaves crashes the process (and fails
// the test). Portable C++17: no libFuzzer, no POSIX.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool read_all(const std::string& path, std::vector<uint8_t>* out) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    out->clear();
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + n);
    const bool ok = !std::ferror(f);
    std::fclose(f);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    std::vector<std::string> files;
    for (int i = 1; i < argc; i++) {
        std::error_code ec;
        if (fs::is_directory(argv[i], ec)) {
            std::vector<std::string> in_dir;
            for (fs::directory_iterator it(argv[i], ec), end; !ec && it != end; it.increment(ec))
                if (it->is_regular_file(ec)) in_dir.push_back(it->path().string());
            if (ec) {
                std::fprintf(stderr, "replay: cannot list %s: %s\n", argv[i], ec.message().c_str());
                return 1;
            }
            std::sort(in_dir.begin(), in_dir.end());
            files.insert(files.end(), in_dir.begin(), in_dir.end());
        } else {
            files.push_back(argv[i]);
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "replay: no inputs (usage: %s FILE-OR-DIRECTORY...)\n", argc > 0 ? argv[0] : "replay");
        return 1;
    }
    uint64_t bytes = 0;
    for (const std::string& path : files) {
        std::vector<uint8_t> data;
        if (!read_all(path, &data)) {
            std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
            return 1;
        }
        std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), data.size());
        // An exact-size copy (a vector's capacity may exceed its size).
        std::vector<uint8_t> exact(data.begin(), data.end());
        exact.shrink_to_fit();
        LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
        bytes += data.size();
    }
    std::printf("replay: %zu inputs, %llu bytes, no failure\n", files.size(), (unsigned long long)bytes);
    return 0;
}
