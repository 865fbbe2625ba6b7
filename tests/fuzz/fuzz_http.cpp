// libFuzzer target for agmodel-serve's HTTP request parser
// (tools/serve/http.h) and its UTF-8 stream (tools/serve/text.h).
//
// Input: one control byte, then the bytes a client sends. The control byte
// seeds how the bytes are cut into reads (1 to 64 bytes each, or all at
// once). Beyond "no crash, no hang, no undefined behaviour" it checks:
//   - the parse is the same whatever the reads: the same requests (method,
//     target, headers, body) and the same refusal (status and reason);
//   - a refusal has a status of 400-505 and a one-line reason;
//   - Done consumes at least one byte and no more than it was given;
//     pipelined requests are parsed one after another until the bytes end;
//   - a request's body is within the limits, its method and target are
//     printable, its header names lowercase;
//   - the UTF-8 stream turns any bytes, in any pieces, into valid UTF-8
//     equal to what one push of all of them gives.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "http.h"
#include "text.h"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

struct Outcome {
    std::vector<std::string> requests;  // each request flattened
    int status = 0;
    std::string reason;
};

std::string flatten(const agm_serve::HttpRequest& r) {
    std::string s = r.method + " " + r.target + " " + std::to_string(r.minor) + (r.keep_alive ? " k\n" : " c\n");
    for (const auto& h : r.headers) s += h.first + ":" + h.second + "\n";
    return s + "\n" + r.body;
}

// Parses data, handed over in reads of the sizes `cut` gives (0: all at once).
Outcome run(const uint8_t* data, size_t n, uint32_t cut) {
    agm_serve::HttpLimits limits;
    limits.max_header = 512;
    limits.max_body = 2048;
    agm_serve::RequestParser p(limits);
    Outcome o;
    std::string buf;
    size_t given = 0;
    uint32_t rng = cut;
    while (given < n || !buf.empty()) {
        if (given < n) {
            size_t take = n - given;
            if (cut != 0) {
                rng = rng * 1103515245u + 12345u;
                take = 1 + (rng >> 16) % 64;
                if (take > n - given) take = n - given;
            }
            buf.append(reinterpret_cast<const char*>(data) + given, take);
            given += take;
        }
        for (;;) {
            size_t used = 0;
            const agm_serve::ParseStatus st = p.parse(buf.data(), buf.size(), &used);
            if (st == agm_serve::ParseStatus::Incomplete) {
                check(used == 0);
                break;
            }
            if (st == agm_serve::ParseStatus::Error) {
                check(p.status() >= 400 && p.status() <= 505);
                check(!p.reason().empty() && p.reason().find('\n') == std::string::npos);
                o.status = p.status();
                o.reason = p.reason();
                return o;
            }
            const agm_serve::HttpRequest& r = p.request();
            check(used > 0 && used <= buf.size());
            check(r.body.size() <= limits.max_body);
            check(!r.method.empty() && !r.target.empty() && (r.target[0] == '/' || r.target == "*"));
            for (const auto& h : r.headers)
                for (char c : h.first) check(!(c >= 'A' && c <= 'Z'));
            o.requests.push_back(flatten(r));
            buf.erase(0, used);
            p.reset();
            if (buf.empty()) break;
        }
        if (given >= n) break;  // the rest is an incomplete request
    }
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint32_t cut = data[0];
    ++data;
    --size;
    const Outcome whole = run(data, size, 0);
    const Outcome pieces = run(data, size, cut | 1);
    check(whole.requests == pieces.requests);
    check(whole.status == pieces.status && whole.reason == pieces.reason);

    agm_serve::Utf8Stream a, b;
    std::string one, many;
    a.push(reinterpret_cast<const char*>(data), size, &one);
    a.flush(&one);
    for (size_t i = 0; i < size; i += 1 + (cut % 5)) {
        const size_t k = size - i < 1 + (cut % 5) ? size - i : 1 + (cut % 5);
        b.push(reinterpret_cast<const char*>(data) + i, k, &many);
    }
    b.flush(&many);
    check(one == many);
    check(agm_serve::valid_utf8(one));
    return 0;
}
