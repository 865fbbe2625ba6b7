// Whole-file input for the converters and tools (not the runtime: the
// engine maps files in place).
#ifndef AGM_FILE_IO_H
#define AGM_FILE_IO_H

#include <cstdint>
#include <string>
#include <vector>

#include "agm/error.h"

namespace agm {

// Reads a whole file; refuses files larger than max_bytes.
bool read_whole_file(const std::string& path, std::vector<uint8_t>* out, Error* err,
                     uint64_t max_bytes = (uint64_t)4 << 30);

}  // namespace agm

#endif
