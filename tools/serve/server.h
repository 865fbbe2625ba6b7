// agmodel-serve's event loop: one thread, poll(2), non-blocking sockets.
// Connections are read and written while the single inference worker runs
// one request at a time in slices (generation.h); the others wait in a
// bounded queue (beyond it: 503 with Retry-After). Every connection is held
// to limits: its request's head and body sizes (http.h), the time its
// request may take to arrive (a client sending a byte a second is cut off,
// and it never holds the worker: only complete requests are queued), an
// idle keep-alive time, a write stall time and its unsent output.
#ifndef AGM_SERVE_SERVER_H
#define AGM_SERVE_SERVER_H

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "api.h"
#include "generation.h"
#include "http.h"

namespace agm_serve {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;               // 0: a free port (printed at startup)
    size_t queue = 8;              // requests waiting for the worker
    size_t max_connections = 64;   // open connections; beyond: 503 and close
    HttpLimits limits;
    double request_timeout_s = 10;  // from a request's first byte to its last
    double idle_timeout_s = 30;     // keep-alive without a request
    double write_timeout_s = 30;    // unsent output without progress
    size_t max_unsent = 1 << 20;    // output held for a client that does not read
    double slice_ms = 5;            // inference between two polls
    size_t grammar_memory = 8 << 20;  // a request's grammar and matcher (reserved at startup;
                                      // agmodel-serve sizes it by the model)
};

// Bytes a connection reads ahead of the request being served, at most: one
// request's head and body and one read more.
inline size_t read_ahead_cap(const ServerOptions& o) { return o.limits.max_header + o.limits.max_body + 16384; }

class Server {
public:
    Server(const ServerOptions& options, const ApiContext& ctx, agm_session* session);
    ~Server();
    // Binds and listens; false with *error. port() then says where.
    bool listen(std::string* error);
    int port() const { return port_; }
    // Serves until *stop becomes nonzero (a signal handler sets it).
    void run(const volatile int* stop);

private:
    struct Conn;
    void accept_new();
    void on_readable(Conn* c);
    void on_writable(Conn* c);
    void parse_requests(Conn* c);
    void handle(Conn* c, const HttpRequest& req);  // a whole request: a reply, or a job queued
    void measure_end();                             // ends the first request's measure (perf.h), once
    void respond(Conn* c, const Reply& r, bool close);
    void start_next_job();
    void run_job();
    void finish_job(bool cancelled);
    void close_conn(Conn* c);
    void check_timers();
    size_t input_cap() const { return read_ahead_cap(opt_); }

    ServerOptions opt_;
    ApiContext ctx_;
    agm_session* session_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::vector<std::unique_ptr<Conn>> conns_;
    std::deque<Conn*> queue_;
    Conn* running_ = nullptr;  // the connection whose job the worker runs
    GrammarArena arena_;
    int measure_ = 0;  // the first request's time to first token (perf.h): 0 before, 1 during, 2 after
    std::unique_ptr<Generation> gen_;
};

}  // namespace agm_serve

#endif
