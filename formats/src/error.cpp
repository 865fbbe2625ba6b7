#include "agm/error.h"

#include <cstdio>
#include <cstring>

namespace agm {

bool fail(Error* err, const char* fmt, ...) {
    if (err == nullptr) return false;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->kind = ErrorKind::Format;
    return false;
}

bool fail_as(Error* err, ErrorKind kind, const char* fmt, ...) {
    if (err == nullptr) return false;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->kind = kind;
    return false;
}

bool fail_context(Error* err, const char* context) {
    if (err == nullptr) return false;
    char tmp[2 * sizeof err->msg];  // room for both; the result is cut to msg's size
    std::snprintf(tmp, sizeof tmp, "%s: %s", context, err->msg);
    std::snprintf(err->msg, sizeof err->msg, "%.*s", (int)(sizeof err->msg - 1), tmp);
    return false;
}

}  // namespace agm
