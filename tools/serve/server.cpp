// The event loop (server.h).
#include "server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "page.h"
#include "perf.h"

namespace agm_serve {

struct Server::Conn {
    int fd = -1;
    RequestParser parser;
    std::string in;            // bytes read, not yet parsed into a request
    std::string out;           // bytes to send
    size_t out_off = 0;        // of out, already sent
    enum State { Reading, Queued, Running, Closing } state = Reading;
    bool keep_alive = true;    // of the request being served
    bool head = false;         // it is a HEAD request: the reply's body is not sent
    bool continue_sent = false;
    double last_io = 0;        // last read or write that moved bytes (ms)
    double request_start = 0;  // the first byte of the request being read (0: none yet)
    Job job;
    explicit Conn(const HttpLimits& l) : parser(l) {}
};

namespace {

bool set_nonblocking(int fd) {
    const int flags = fcntl(fd, F_GETFL, 0);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

}  // namespace

Server::Server(const ServerOptions& options, const ApiContext& ctx, agm_session* session)
    : opt_(options), ctx_(ctx), session_(session), arena_(options.grammar_memory) {}

Server::~Server() {
    for (auto& c : conns_)
        if (c->fd >= 0) ::close(c->fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool Server::listen(std::string* error) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    // Numeric addresses only: no name service is consulted (the static
    // ARMv6 build carries no NSS modules); "localhost" is 127.0.0.1.
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
    const std::string port = std::to_string(opt_.port);
    const std::string host = opt_.host == "localhost" ? "127.0.0.1" : opt_.host;
    const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
        *error = "--host " + opt_.host + ": " +
                 (rc == EAI_NONAME ? std::string("not a numeric address (127.0.0.1, 0.0.0.0, ::1, ::)")
                                   : std::string(gai_strerror(rc)));
        return false;
    }
    std::string why = "no address";
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
        const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0 && set_nonblocking(fd)) {
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
            port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                                   : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
            listen_fd_ = fd;
            break;
        }
        why = std::strerror(errno);
        ::close(fd);
    }
    freeaddrinfo(res);
    if (listen_fd_ < 0) {
        *error = "cannot listen on " + opt_.host + ":" + port + ": " + why;
        return false;
    }
    return true;
}

void Server::accept_new() {
    for (;;) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN, or out of descriptors: the rest wait in the backlog
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::unique_ptr<Conn> c(new Conn(opt_.limits));
        c->fd = fd;
        c->last_io = now_ms();
        if (conns_.size() >= opt_.max_connections) {
            Reply r = openai_error(503, "too many open connections (" + std::to_string(opt_.max_connections) +
                                            "); try again");
            r.extra_headers = "Retry-After: 1\r\n";
            conns_.push_back(std::move(c));
            respond(conns_.back().get(), r, true);
            continue;
        }
        conns_.push_back(std::move(c));
    }
}

void Server::respond(Conn* c, const Reply& r, bool close) {
    const bool keep = !close && c->keep_alive;
    c->out += response_head(r.status, r.content_type.c_str(), (long long)r.body.size(), keep, r.extra_headers);
    if (!c->head) c->out += r.body;
    if (!keep) c->state = Conn::Closing;
    on_writable(c);
}

void Server::on_readable(Conn* c) {
    char buf[16384];
    // Bytes beyond one request's limits (pipelined while one is served) wait
    // unread in the socket: TCP flow control holds the client back.
    while (c->in.size() < input_cap()) {
        const ssize_t n = ::read(c->fd, buf, sizeof buf);
        if (n > 0) {
            if (c->in.empty() && c->request_start == 0) c->request_start = now_ms();
            c->last_io = now_ms();
            c->in.append(buf, (size_t)n);
            continue;
        }
        if (n == 0) {  // the client is gone (or half-closed: it cannot read a reply either way we care about)
            if (c->state == Conn::Running) finish_job(true);
            c->state = Conn::Closing;
            close_conn(c);
            return;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (c->state == Conn::Running) finish_job(true);
        close_conn(c);
        return;
    }
    if (c->state == Conn::Reading) parse_requests(c);
}

void Server::parse_requests(Conn* c) {
    while (c->state == Conn::Reading && !c->in.empty()) {
        size_t used = 0;
        const ParseStatus st = c->parser.parse(c->in.data(), c->in.size(), &used);
        if (st == ParseStatus::Incomplete) {
            const std::string* expect = c->parser.headers_done() ? c->parser.request().header("expect") : nullptr;
            if (expect != nullptr && !c->continue_sent) {
                c->continue_sent = true;
                c->out += "HTTP/1.1 100 Continue\r\n\r\n";
                on_writable(c);
            }
            return;
        }
        if (st == ParseStatus::Error) {
            c->keep_alive = false;
            c->head = false;  // the refusal has a body, whatever the method
            respond(c, openai_error(c->parser.status(), c->parser.reason()), true);
            c->in.clear();
            return;
        }
        HttpRequest req = std::move(c->parser.request());
        c->in.erase(0, used);
        c->parser.reset();
        c->continue_sent = false;
        c->request_start = c->in.empty() ? 0 : now_ms();
        c->keep_alive = req.keep_alive;
        c->head = req.method == "HEAD";
        const bool first = measure_ == 0;
        if (first) {
            AGM_SERVE_MEASURE_BEGIN();
            measure_ = 1;
        }
        handle(c, req);
        if (first && c->state != Conn::Queued) measure_end();  // a reply without a job
    }
}

void Server::handle(Conn* c, const HttpRequest& req) {
    if (req.path == "/" && (req.method == "GET" || req.method == "HEAD")) {
        Reply r;
        r.content_type = "text/html; charset=utf-8";
        r.body = page_html();
        respond(c, r, false);
        return;
    }
    Reply reply;
    Job job;
    if (!route(ctx_, req, &reply, &job)) {
        respond(c, reply, false);
        return;
    }
    if (queue_.size() >= opt_.queue) {
        Reply busy = req.path.compare(0, 5, "/api/") == 0
                         ? ollama_error(503, "the server is busy (" + std::to_string(opt_.queue) + " requests queued)")
                         : openai_error(503, "the server is busy (" + std::to_string(opt_.queue) +
                                                 " requests queued); try again");
        busy.extra_headers = "Retry-After: 1\r\n";
        respond(c, busy, false);
        return;
    }
    c->job = std::move(job);
    c->state = Conn::Queued;
    queue_.push_back(c);
}

void Server::measure_end() {
    if (measure_ != 1) return;
    AGM_SERVE_MEASURE_END();
    measure_ = 2;
}

void Server::on_writable(Conn* c) {
    while (c->out_off < c->out.size()) {
        const ssize_t n = ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            c->last_io = now_ms();
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (c->state == Conn::Running) finish_job(true);
        c->state = Conn::Closing;
        c->out.clear();
        c->out_off = 0;
        close_conn(c);
        return;
    }
    c->out.clear();
    c->out_off = 0;
    if (c->state == Conn::Closing) close_conn(c);
}

void Server::close_conn(Conn* c) {
    if (c->fd < 0) return;
    if (c->state == Conn::Running) finish_job(true);
    for (auto it = queue_.begin(); it != queue_.end(); ++it)
        if (*it == c) {
            queue_.erase(it);
            break;
        }
    shutdown(c->fd, SHUT_RDWR);
    ::close(c->fd);
    c->fd = -1;  // removed from conns_ by the loop
}

void Server::start_next_job() {
    while (running_ == nullptr && !queue_.empty()) {
        Conn* c = queue_.front();
        queue_.pop_front();
        gen_.reset(new Generation(ctx_.model, session_, &arena_));
        std::string why;
        if (!gen_->start(c->job.params, &why)) {
            c->state = Conn::Reading;
            respond(c, c->job.formatter->failure(400, why), false);
            measure_end();
            c->job = Job();
            gen_.reset();
            parse_requests(c);
            continue;
        }
        running_ = c;
        c->state = Conn::Running;
        Formatter& f = *c->job.formatter;
        if (f.streaming()) {
            c->out += response_head(200, f.content_type(), -1, c->keep_alive,
                                    "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
            const std::string b = f.begin();
            append_chunk(&c->out, b.data(), b.size());
            on_writable(c);
        }
    }
}

void Server::run_job() {
    Conn* c = running_;
    std::string text;
    const bool more = gen_->step(opt_.slice_ms, &text);
    if (gen_->completion_tokens() > 0 || !more) measure_end();  // the first request's first token
    Formatter& f = *c->job.formatter;
    const std::string piece = f.text(text);
    if (f.streaming()) append_chunk(&c->out, piece.data(), piece.size());
    if (!more) {
        finish_job(false);
        return;
    }
    if (c->out.size() - c->out_off > opt_.max_unsent) {  // a client that does not read
        finish_job(true);
        close_conn(c);
        return;
    }
    on_writable(c);
}

void Server::finish_job(bool cancelled) {
    Conn* c = running_;
    if (c == nullptr) return;
    running_ = nullptr;
    if (cancelled) gen_->cancel();
    Formatter& f = *c->job.formatter;
    const bool failed = gen_->finish() == Finish::Error;
    if (!cancelled) {
        if (f.streaming()) {
            const std::string tail = failed ? f.error(gen_->error()) : f.end(*gen_);
            append_chunk(&c->out, tail.data(), tail.size());
            c->out += kLastChunk;
            c->state = c->keep_alive ? Conn::Reading : Conn::Closing;
            on_writable(c);
        } else {
            c->state = Conn::Reading;
            if (failed) {
                respond(c, f.failure(500, gen_->error()), false);
            } else {
                Reply r;
                r.content_type = f.content_type();
                r.body = f.end(*gen_);
                respond(c, r, false);
            }
        }
    }
    gen_.reset();
    c->job = Job();
    if (!cancelled && c->fd >= 0 && c->state == Conn::Reading) parse_requests(c);  // pipelined requests
}

void Server::check_timers() {
    const double t = now_ms();
    for (auto& cp : conns_) {
        Conn* c = cp.get();
        if (c->fd < 0) continue;
        if (c->out_off < c->out.size() && t - c->last_io > opt_.write_timeout_s * 1000) {
            close_conn(c);  // a reader that stopped reading
        } else if (c->state == Conn::Reading && c->request_start != 0 &&
                   t - c->request_start > opt_.request_timeout_s * 1000) {
            c->keep_alive = false;
            c->head = false;  // of an earlier request: this reply has its body
            respond(c, openai_error(408, "the request took more than " + std::to_string((int)opt_.request_timeout_s) +
                                             " s to arrive"), true);
        } else if (c->state == Conn::Reading && c->in.empty() && c->out.empty() &&
                   t - c->last_io > opt_.idle_timeout_s * 1000) {
            close_conn(c);
        }
    }
}

void Server::run(const volatile int* stop) {
    std::vector<pollfd> fds;
    while (*stop == 0) {
        fds.clear();
        fds.push_back({listen_fd_, POLLIN, 0});
        for (auto& c : conns_) {
            short ev = c->in.size() < input_cap() ? POLLIN : 0;  // errors and hangups are reported anyway
            if (c->out_off < c->out.size()) ev |= POLLOUT;
            fds.push_back({c->fd, ev, 0});
        }
        const int timeout = running_ != nullptr ? 0 : 250;
        const int n = poll(fds.data(), fds.size(), timeout);
        if (n < 0 && errno != EINTR) break;
        if (n > 0) {
            for (size_t i = 1; i < fds.size(); ++i) {
                Conn* c = conns_[i - 1].get();
                if (c->fd < 0 || fds[i].revents == 0) continue;
                if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) on_readable(c);
                if (c->fd >= 0 && (fds[i].revents & POLLOUT)) on_writable(c);
            }
            if (fds[0].revents & POLLIN) accept_new();
        }
        check_timers();
        start_next_job();
        if (running_ != nullptr) run_job();
        // Forget closed connections.
        for (size_t i = 0; i < conns_.size();) {
            if (conns_[i]->fd < 0) {
                conns_[i] = std::move(conns_.back());
                conns_.pop_back();
            } else {
                ++i;
            }
        }
    }
    if (running_ != nullptr) finish_job(true);
}

}  // namespace agm_serve
