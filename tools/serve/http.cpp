// HTTP/1.1 request parsing and response framing (http.h).
#include "http.h"

#include <cstdio>
#include <cstring>

namespace agm_serve {

namespace {

constexpr size_t kMaxTarget = 2048;
constexpr size_t kMaxHeaderLines = 100;
constexpr size_t kMaxChunkLine = 1024;

// RFC 9110 tchar.
bool is_tchar(unsigned char c) {
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    return s;
}

bool iequals(const std::string& a, const char* b) { return lower(a) == b; }

// The comma-separated tokens of a header value contain `token` (lowercase).
bool has_token(const std::string& value, const char* token) {
    size_t i = 0;
    while (i <= value.size()) {
        size_t j = value.find(',', i);
        if (j == std::string::npos) j = value.size();
        size_t a = i, b = j;
        while (a < b && (value[a] == ' ' || value[a] == '\t')) ++a;
        while (b > a && (value[b - 1] == ' ' || value[b - 1] == '\t')) --b;
        if (lower(value.substr(a, b - a)) == token) return true;
        i = j + 1;
    }
    return false;
}

}  // namespace

const std::string* HttpRequest::header(const char* lower_name) const {
    for (const auto& h : headers)
        if (h.first == lower_name) return &h.second;
    return nullptr;
}

void RequestParser::reset() {
    req_ = HttpRequest();
    status_ = 0;
    reason_.clear();
    scanned_ = 0;
    head_len_ = 0;
    chunked_ = false;
    content_length_ = 0;
}

ParseStatus RequestParser::fail(int status, const std::string& reason) {
    status_ = status;
    reason_ = reason;
    return ParseStatus::Error;
}

ParseStatus RequestParser::parse(const char* buf, size_t n, size_t* consumed) {
    *consumed = 0;
    if (status_ != 0) return ParseStatus::Error;
    if (head_len_ == 0) {
        const ParseStatus st = parse_head(buf, n);
        if (st != ParseStatus::Done) return st;
    }
    if (chunked_) return parse_chunked(buf, n, consumed);
    if (n - head_len_ < content_length_) return ParseStatus::Incomplete;
    req_.body.assign(buf + head_len_, (size_t)content_length_);
    *consumed = head_len_ + (size_t)content_length_;
    return ParseStatus::Done;
}

// The request line and the headers, from buf's start (empty lines first
// skipped) to the empty line. Sets head_len_ (bytes through that line).
ParseStatus RequestParser::parse_head(const char* buf, size_t n) {
    size_t lead = 0;  // RFC 9112 2.2: empty lines before a request line are ignored
    while (lead + 1 < n && buf[lead] == '\r' && buf[lead + 1] == '\n') lead += 2;
    if (lead > 64) return fail(400, "too many empty lines before the request line");
    // Find the end of the head, resuming where the last call stopped. Only
    // the first max_header bytes are looked at, so that the outcome does not
    // depend on how the bytes arrived (a bare LF past the limit is not seen
    // either way).
    const size_t limit = lead + limits_.max_header;
    const size_t stop = n < limit ? n : limit;
    size_t from = scanned_ > lead + 3 ? scanned_ - 3 : lead;
    size_t end = 0;
    for (size_t i = from; i < stop; ++i) {
        if (buf[i] != '\n') continue;
        if (i == 0 || buf[i - 1] != '\r') return fail(400, "a line ends in a bare LF (CRLF required)");
        if (i >= lead + 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            end = i + 1;
            break;
        }
    }
    if (end == 0) {
        scanned_ = stop;
        if (n >= limit)
            return fail(431, "the request line and headers are longer than " + std::to_string(limits_.max_header) +
                                 " bytes");
        return ParseStatus::Incomplete;
    }
    // Split into lines (each ends in CRLF; the last one is empty).
    std::vector<std::string> lines;
    for (size_t a = lead; a < end;) {
        const char* nl = static_cast<const char*>(std::memchr(buf + a, '\n', end - a));
        const size_t b = (size_t)(nl - buf);
        lines.emplace_back(buf + a, b - 1 - a);
        a = b + 1;
    }
    lines.pop_back();  // the empty line
    if (lines.empty() || lines[0].empty()) return fail(400, "no request line");
    // Request line.
    const std::string& rl = lines[0];
    size_t i = 0;
    while (i < rl.size() && is_tchar((unsigned char)rl[i])) ++i;
    if (i == 0 || i >= rl.size() || rl[i] != ' ') return fail(400, "a malformed request line (method)");
    req_.method = rl.substr(0, i);
    const size_t t0 = ++i;
    while (i < rl.size() && (unsigned char)rl[i] > 0x20 && (unsigned char)rl[i] < 0x7f) ++i;
    if (i == t0 || i >= rl.size() || rl[i] != ' ') return fail(400, "a malformed request line (target)");
    if (i - t0 > kMaxTarget) return fail(414, "the target is longer than " + std::to_string(kMaxTarget) + " bytes");
    req_.target = rl.substr(t0, i - t0);
    const std::string version = rl.substr(i + 1);
    if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 || version[6] != '.' || version[5] < '0' ||
        version[5] > '9' || version[7] < '0' || version[7] > '9')
        return fail(400, "a malformed request line (version)");
    if (version[5] != '1') return fail(505, "HTTP/" + version.substr(5) + " is not supported (HTTP/1.0 and 1.1 are)");
    req_.minor = version[7] - '0';
    if (req_.target[0] != '/' && req_.target != "*")
        return fail(400, "the target must be an absolute path (origin form)");
    req_.path = req_.target.substr(0, req_.target.find('?'));
    // Headers.
    if (lines.size() - 1 > kMaxHeaderLines)
        return fail(431, "more than " + std::to_string(kMaxHeaderLines) + " header lines");
    bool have_length = false;
    for (size_t k = 1; k < lines.size(); ++k) {
        const std::string& h = lines[k];
        if (h[0] == ' ' || h[0] == '\t') return fail(400, "obsolete line folding in the headers");
        size_t c = 0;
        while (c < h.size() && is_tchar((unsigned char)h[c])) ++c;
        if (c == 0 || c >= h.size() || h[c] != ':') return fail(400, "a malformed header line");
        for (size_t v = c + 1; v < h.size(); ++v) {
            const unsigned char b = (unsigned char)h[v];
            if ((b < 0x20 && b != '\t') || b == 0x7f) return fail(400, "a control byte in a header value");
        }
        size_t a = c + 1, b = h.size();
        while (a < b && (h[a] == ' ' || h[a] == '\t')) ++a;
        while (b > a && (h[b - 1] == ' ' || h[b - 1] == '\t')) --b;
        req_.headers.emplace_back(lower(h.substr(0, c)), h.substr(a, b - a));
        const std::string& name = req_.headers.back().first;
        const std::string& value = req_.headers.back().second;
        if (name == "content-length") {
            if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos)
                return fail(400, "Content-Length is not a decimal number");
            const uint64_t len = std::strtoull(value.c_str(), nullptr, 10);
            if (have_length && len != content_length_) return fail(400, "two different Content-Length values");
            have_length = true;
            content_length_ = len;
        } else if (name == "transfer-encoding") {
            if (!iequals(value, "chunked"))
                return fail(501, "Transfer-Encoding '" + value + "' is not supported (only chunked)");
            chunked_ = true;
        }
    }
    if (chunked_ && have_length) return fail(400, "both Content-Length and Transfer-Encoding");
    if (chunked_ && req_.minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (content_length_ > limits_.max_body)
        return fail(413, "the body is " + std::to_string(content_length_) + " bytes, more than " +
                             std::to_string(limits_.max_body));
    const std::string* conn = req_.header("connection");
    req_.keep_alive = req_.minor == 1 ? !(conn != nullptr && has_token(*conn, "close"))
                                      : (conn != nullptr && has_token(*conn, "keep-alive"));
    head_len_ = end;
    return ParseStatus::Done;
}

// A chunked body from head_len_ on. Re-read from the start on every call
// (the body is at most max_body bytes and arrives in few reads).
ParseStatus RequestParser::parse_chunked(const char* buf, size_t n, size_t* consumed) {
    std::string body;
    size_t at = head_len_;
    for (;;) {
        const char* nl = static_cast<const char*>(std::memchr(buf + at, '\n', n - at));
        if (nl == nullptr) {
            if (n - at > kMaxChunkLine) return fail(400, "a chunk-size line is too long");
            return ParseStatus::Incomplete;
        }
        const size_t e = (size_t)(nl - buf);
        if (e - at > kMaxChunkLine) return fail(400, "a chunk-size line is too long");
        if (e == at || buf[e - 1] != '\r') return fail(400, "a chunk-size line does not end in CRLF");
        size_t j = at;
        uint64_t size = 0;
        while (j < e - 1) {
            const char c = buf[j];
            int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
            if (d < 0) break;
            size = size * 16 + (uint64_t)d;
            if (size > limits_.max_body) return fail(413, "the body is more than " + std::to_string(limits_.max_body) + " bytes");
            ++j;
        }
        if (j == at || (j < e - 1 && buf[j] != ';' && buf[j] != ' ' && buf[j] != '\t'))
            return fail(400, "a malformed chunk size");
        at = e + 1;
        if (size == 0) {
            // Trailer lines, then the empty line.
            for (size_t lines = 0;; ++lines) {
                const char* tl = static_cast<const char*>(std::memchr(buf + at, '\n', n - at));
                if (tl == nullptr) {
                    if (n - at > limits_.max_header) return fail(431, "the trailers are too long");
                    return ParseStatus::Incomplete;
                }
                const size_t te = (size_t)(tl - buf);
                if (te - at > limits_.max_header) return fail(431, "the trailers are too long");
                if (te == at || buf[te - 1] != '\r') return fail(400, "a trailer line does not end in CRLF");
                if (lines > kMaxHeaderLines) return fail(431, "too many trailer lines");
                const bool empty = te == at + 1;
                at = te + 1;
                if (empty) break;
            }
            req_.body = std::move(body);
            *consumed = at;
            return ParseStatus::Done;
        }
        if (body.size() + size > limits_.max_body)
            return fail(413, "the body is more than " + std::to_string(limits_.max_body) + " bytes");
        if (n - at < size + 2) return ParseStatus::Incomplete;
        if (buf[at + size] != '\r' || buf[at + size + 1] != '\n') return fail(400, "a chunk does not end in CRLF");
        body.append(buf + at, (size_t)size);
        at += (size_t)size + 2;
    }
}

const char* status_text(int status) {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

std::string response_head(int status, const char* content_type, long long content_length, bool keep_alive,
                          const std::string& extra) {
    std::string h = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) + "\r\n";
    h += "Server: agmodel-serve\r\n";
    if (content_type != nullptr) h += std::string("Content-Type: ") + content_type + "\r\n";
    if (content_length >= 0) h += "Content-Length: " + std::to_string(content_length) + "\r\n";
    else h += "Transfer-Encoding: chunked\r\n";
    h += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    h += extra;
    h += "\r\n";
    return h;
}

void append_chunk(std::string* out, const char* data, size_t n) {
    if (n == 0) return;
    char size[24];
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    out->append(size);
    out->append(data, n);
    out->append("\r\n");
}

}  // namespace agm_serve
