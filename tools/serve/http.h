// agmodel-serve's HTTP/1.1 layer: an incremental request parser with hard
// limits, and the response pieces (status line and headers, chunked
// framing). No sockets here: server.cpp feeds bytes in and writes bytes
// out, so the parser can be tested and fuzzed alone (tests/fuzz/fuzz_http.cpp).
//
// What the parser accepts (RFC 9112, strictly where a lenient reading
// would let two parties disagree about where a request ends):
//   - a request line `METHOD SP target SP HTTP/1.x CRLF`; method a token,
//     target printable ASCII without spaces, version 1.0 or 1.1 (else 505);
//     empty lines before it are skipped (RFC 9112 2.2);
//   - header lines `name: value CRLF` (name a token, no space before the
//     colon, value without control bytes but tab; obsolete line folding
//     refused), ended by an empty line; names compared case-insensitively;
//   - a body by Content-Length (digits only; repeated values must agree) or
//     Transfer-Encoding: chunked (the only coding accepted; chunk
//     extensions ignored, trailers read and dropped); both at once is
//     refused (a smuggling vector), as is a bare LF line end;
//   - limits: the request line and headers at most max_header bytes (431),
//     the body at most max_body bytes (413), the target at most 2048
//     bytes (414), at most 100 header lines (431).
// Every refusal has a status and a one-line reason; after one the
// connection is closed (the framing is not trusted any more).
#ifndef AGM_SERVE_HTTP_H
#define AGM_SERVE_HTTP_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace agm_serve {

struct HttpLimits {
    size_t max_header = 8 * 1024;   // request line + headers, bytes
    size_t max_body = 1024 * 1024;  // decoded body, bytes
};

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // as sent: "/v1/models?x=1"
    std::string path;    // the target up to '?'
    int minor = 1;       // HTTP/1.<minor>
    std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, values trimmed
    std::string body;
    bool keep_alive = true;  // 1.1 unless "Connection: close"; 1.0 only with "Connection: keep-alive"

    // The first header of that (lowercase) name, or nullptr.
    const std::string* header(const char* lower_name) const;
};

enum class ParseStatus { Incomplete, Done, Error };

class RequestParser {
public:
    explicit RequestParser(const HttpLimits& limits = HttpLimits()) : limits_(limits) {}

    // Parses from the start of buf[n] (the connection's unread bytes).
    // Done: *consumed bytes formed request(); the rest belongs to the next
    // request (pipelining). Incomplete: nothing consumed yet, call again with
    // more bytes (the same prefix and more). Error: status() and reason().
    ParseStatus parse(const char* buf, size_t n, size_t* consumed);

    const HttpRequest& request() const { return req_; }
    HttpRequest& request() { return req_; }
    int status() const { return status_; }          // the error's HTTP status
    const std::string& reason() const { return reason_; }
    // True once the request line and headers are complete (for timeouts:
    // a client that sent them is waiting on its body).
    bool headers_done() const { return head_len_ != 0; }
    // Forget the last request (Done or Error) before the next one.
    void reset();

private:
    ParseStatus fail(int status, const std::string& reason);
    ParseStatus parse_head(const char* buf, size_t n);
    ParseStatus parse_chunked(const char* buf, size_t n, size_t* consumed);

    HttpLimits limits_;
    HttpRequest req_;
    int status_ = 0;
    std::string reason_;
    size_t scanned_ = 0;    // bytes of buf already searched for the head's end
    size_t head_len_ = 0;   // bytes of the head (request line to the empty line), 0: not yet
    bool chunked_ = false;
    uint64_t content_length_ = 0;
};

// "OK", "Bad Request", ... for the statuses the server sends.
const char* status_text(int status);

// The status line and headers of a response, through the empty line.
// content_length < 0: chunked. extra: more header lines, each "Name: value\r\n".
std::string response_head(int status, const char* content_type, long long content_length, bool keep_alive,
                          const std::string& extra = std::string());

// One chunk of a chunked body (nothing for n == 0: use kLastChunk).
void append_chunk(std::string* out, const char* data, size_t n);
constexpr const char kLastChunk[] = "0\r\n\r\n";

}  // namespace agm_serve

#endif
