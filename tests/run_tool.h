// Runs a tool (agmodel-convert) as a child process, for tests that check its
// exit status, its message and what it leaves on disk. Host builds only (the
// tests get the tool's path from the environment, set by ctest).
#ifndef AGM_TESTS_RUN_TOOL_H
#define AGM_TESTS_RUN_TOOL_H

#include <csignal>
#include <string>
#include <vector>

#include <fcntl.h>
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

// Runs agmodel-convert with args; fsize > 0 sets RLIMIT_FSIZE (bytes).
inline Run run_convert(const std::string& exe, const std::vector<std::string>& args, rlim_t fsize = 0) {
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
    Run r;
    char buf[4096];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof buf)) > 0) r.err.append(buf, (size_t)n);
    close(pipefd[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    r.exited = WIFEXITED(status);
    if (r.exited) r.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.sig = WTERMSIG(status);
    return r;
}

}  // namespace agm_test

#endif
