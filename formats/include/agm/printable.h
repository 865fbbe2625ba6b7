// Strings from an input file, made safe to put in a one-line message or in
// our METADATA section's "key: value" lines: control bytes (and 0x7F and '\')
// written as \xHH, other bytes (UTF-8 text) kept, cut after max_bytes of input
// with "..." to say so. Converter-side.
#ifndef AGM_PRINTABLE_H
#define AGM_PRINTABLE_H

#include <cstddef>
#include <string>

namespace agm {

std::string printable_text(const std::string& s, size_t max_bytes = 64);

}  // namespace agm

#endif
