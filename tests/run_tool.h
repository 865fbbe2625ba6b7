// Runs a tool (agmodel-convert) as a child process, for tests that check its
// exit status, its message and what it leaves on disk. Host builds only (the
// tests get the tool's path from the environment, set by ctest).
#ifndef AGM_TESTS_RUN_TOOL_H
#define AGM_TESTS_RUN_TOOL_H

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doctest.h"

namespace agm_test {

struct Run {
    bool exited = false;
    int code = -1, sig = 0;
    std::string err;
};

// Starts exe with args, its standard error into a pipe (returned in
// *err_fd), its standard output to /dev/null; fsize > 0 sets RLIMIT_FSIZE.
inline pid_t spawn_tool(const std::string& exe, const std::vector<std::string>& args, rlim_t fsize, int* err_fd) {
    int pipefd[2];
    REQUIRE(pipe(pipefd) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        const int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 1);
        close(pipefd[0]);
        signal(SIGXFSZ, SIG_DFL);  // the tool itself must ignore it
        if (fsize > 0) {
            struct rlimit rl = {fsize, fsize};
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        std::vector<char*> argv{const_cast<char*>(exe.c_str())};
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(exe.c_str(), argv.data());
        _exit(127);
    }
    close(pipefd[1]);
    *err_fd = pipefd[0];
    return pid;
}

// Waits for pid and fills r's exit status.
inline void wait_tool(pid_t pid, Run* r) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    r->exited = WIFEXITED(status);
    if (r->exited) r->code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r->sig = WTERMSIG(status);
}

// Runs agmodel-convert with args; fsize > 0 sets RLIMIT_FSIZE (bytes).
inline Run run_convert(const std::string& exe, const std::vector<std::string>& args, rlim_t fsize = 0) {
    int err_fd = -1;
    const pid_t pid = spawn_tool(exe, args, fsize, &err_fd);
    Run r;
    char buf[4096];
    ssize_t n;
    while ((n = read(err_fd, buf, sizeof buf)) > 0) r.err.append(buf, (size_t)n);
    close(err_fd);
    wait_tool(pid, &r);
    return r;
}

// Runs a server (agmodel-serve) with args until its standard error shows
// `ready` (then SIGTERM), it exits by itself, or timeout_s passes (then
// SIGKILL, and the test fails). r.err holds what it wrote; r.code its exit
// status (a server stopped by SIGTERM exits 0).
inline Run run_until(const std::string& exe, const std::vector<std::string>& args, const std::string& ready,
                     double timeout_s = 60) {
    int err_fd = -1;
    const pid_t pid = spawn_tool(exe, args, 0, &err_fd);
    Run r;
    const auto t0 = std::chrono::steady_clock::now();
    bool signalled = false, timed_out = false;
    for (;;) {
        const double left =
            timeout_s - std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (left <= 0) {
            kill(pid, SIGKILL);
            timed_out = true;
            break;
        }
        pollfd p{err_fd, POLLIN, 0};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0) continue;
        char buf[4096];
        const ssize_t n = read(err_fd, buf, sizeof buf);
        if (n <= 0) break;  // it exited
        r.err.append(buf, (size_t)n);
        if (!signalled && r.err.find(ready) != std::string::npos) {
            kill(pid, SIGTERM);
            signalled = true;
        }
    }
    close(err_fd);
    wait_tool(pid, &r);
    CHECK_MESSAGE(!timed_out, "the server neither became ready nor exited: " << r.err);
    return r;
}

}  // namespace agm_test

#endif
