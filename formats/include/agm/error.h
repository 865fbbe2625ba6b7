// Error reporting shared by the readers, the engine and the tools: a
// fixed-size message buffer (no allocation), filled by the first failure.
#ifndef AGM_ERROR_H
#define AGM_ERROR_H

#include <cstdarg>
#include <cstddef>

namespace agm {

// What kind of failure a message describes; lets the public API map a
// reader's failure to its status code.
enum class ErrorKind { Format, Unsupported, Io, NoMemory, Argument };

struct Error {
    char msg[256] = {0};
    ErrorKind kind = ErrorKind::Format;
};

// Formats a message into *err (if err is non-null) and returns false, so that
// validation code reads `if (bad) return fail(err, "...", ...);`.
bool fail(Error* err, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

// As fail(), and records the kind (Unsupported, Io, ...).
bool fail_as(Error* err, ErrorKind kind, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

// Prepends "context: " to an existing message (used when a reader reports
// where in a larger file the failure happened).
bool fail_context(Error* err, const char* context);

}  // namespace agm

#endif
