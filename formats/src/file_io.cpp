#include "agm/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace agm {

bool read_whole_file(const std::string& path, std::vector<uint8_t>* out, Error* err,
                     uint64_t max_bytes) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr)
        return fail_as(err, ErrorKind::Io, "cannot open %s: %s", path.c_str(), std::strerror(errno));
    out->clear();
    uint8_t buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        if (out->size() + n > max_bytes) {
            std::fclose(f);
            return fail_as(err, ErrorKind::Io, "%s is larger than %llu bytes", path.c_str(),
                           (unsigned long long)max_bytes);
        }
        out->insert(out->end(), buf, buf + n);
    }
    const bool bad = std::ferror(f) != 0;
    std::fclose(f);
    if (bad) return fail_as(err, ErrorKind::Io, "cannot read %s", path.c_str());
    return true;
}

}  // namespace agm
