// Turning an agm::Error into the public status and message.
#ifndef AGM_ENGINE_API_UTIL_H
#define AGM_ENGINE_API_UTIL_H

#include <cstring>

#include "agm/error.h"
#include "agmodel.h"

namespace agm {

inline agm_status status_of(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::Unsupported: return AGM_ERR_UNSUPPORTED;
        case ErrorKind::Io: return AGM_ERR_IO;
        case ErrorKind::NoMemory: return AGM_ERR_NO_MEMORY;
        case ErrorKind::Argument: return AGM_ERR_ARGUMENT;
        case ErrorKind::Format: break;
    }
    return AGM_ERR_FORMAT;
}

inline agm_status report(const Error& err, agm_error* out) {
    if (out != nullptr) {
        static_assert(sizeof out->message == sizeof err.msg, "message buffers match");
        std::memcpy(out->message, err.msg, sizeof err.msg);
    }
    return status_of(err.kind);
}

inline agm_status report_arg(agm_error* out, const char* message,
                             agm_status status = AGM_ERR_ARGUMENT) {
    if (out != nullptr) {
        std::strncpy(out->message, message, sizeof out->message - 1);
        out->message[sizeof out->message - 1] = '\0';
    }
    return status;
}

}  // namespace agm

#endif
