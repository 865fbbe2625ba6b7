// Hostile input to the converter: corrupt ak42 checkpoints for the reader
// and agm::convert_ak42, and the agmodel-convert binary's failure modes (an
// existing output untouched, no temporary file left, write failures under a
// file-size limit). The binary comes from the environment variable
// AGM_CONVERT (else those cases are skipped, as in cross builds).
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agm/ak42.h"
#include "agm/convert.h"
#include "agm/model_writer.h"
#include "agm/vocab.h"
#include "agmodel.h"
#include "doctest.h"
#include "hostile_util.h"
#include "run_tool.h"
#include "test_util.h"

using namespace agm_hostile;
using agm_test::Run;
using agm_test::run_convert;

// ---- (d) corrupt ak42 input ------------------------------------------------

namespace {

// A tiny ak42 checkpoint: dim 8, hidden 16, 2 layers, 2 heads, 1 kv head,
// vocab 4, seq 16; codes in {00, 01, 11} only.
Bytes tiny_ak42() {
    const int32_t hdr[9] = {(int32_t)agm::kAk42Magic, 1, 8, 16, 2, 2, 1, 4, 16};
    Bytes b(agm::kAk42HeaderBytes, 0);
    std::memcpy(b.data(), hdr, sizeof hdr);
    Rng rng(11);
    auto put_f = [&](float v) { b.insert(b.end(), (uint8_t*)&v, (uint8_t*)&v + 4); };
    for (int i = 0; i < 8 + 4 * 8; ++i) put_f((float)((int)rng.below(200) - 100) / 100.0f);
    const uint32_t shapes[7][2] = {{8, 8}, {4, 8}, {4, 8}, {8, 8}, {16, 8}, {8, 16}, {16, 8}};
    static const uint8_t codes[3] = {0, 1, 3};
    for (const auto& s : shapes)
        for (int l = 0; l < 2; ++l) {
            put_f(0.5f);
            for (uint32_t i = 0; i < s[0] * s[1] / 4; ++i)
                b.push_back((uint8_t)(codes[rng.below(3)] << 6 | codes[rng.below(3)] << 4 | codes[rng.below(3)] << 2 |
                                      codes[rng.below(3)]));
        }
    return b;
}

// Byte offset of matrix (kind, layer)'s scale in an ak42 image.
uint64_t ak42_matrix_at(const agm::Ak42Model& m, const uint8_t* base, int kind, int layer) {
    return (uint64_t)(m.matrices[(size_t)kind * m.n_layers + layer].codes - base) - 4;
}

// Plants code 10 at (row, col) of a matrix in the given bit order.
void plant_code10(uint8_t* codes, uint32_t cols, uint32_t row, uint32_t col, agm::BitOrder order) {
    const uint64_t idx = (uint64_t)row * cols + col;
    const unsigned slot = (unsigned)(idx % 4);
    const unsigned shift = order == agm::BitOrder::Msb ? 6 - 2 * slot : 2 * slot;
    codes[idx / 4] = (uint8_t)((codes[idx / 4] & ~(3u << shift)) | (2u << shift));
}

bool ak42_refused(const uint8_t* p, size_t n, agm::ErrorKind kind, const char* needle = "ak42") {
    ExactBuf buf(p, n);
    agm::Ak42Model m;
    agm::Error err;
    const bool ok = agm::read_ak42(buf.p, buf.n, &m, &err);
    CHECK_MESSAGE(one_line(err.msg), err.msg);
    CHECK_MESSAGE(contains(err.msg, needle), err.msg);
    return !ok && err.kind == kind;
}

}  // namespace

TEST_CASE("hostile: ak42 truncated at hundreds of offsets is refused") {
    Bytes ak;
    REQUIRE(agm_test::read_file(agm_test::model_3m_dir() + "/model.bin", &ak));
    agm::Ak42Model m;
    agm::Error err;
    REQUIRE(agm::read_ak42(ak.data(), ak.size(), &m, &err));
    std::set<uint64_t> cuts;
    for (uint64_t i = 0; i <= 300; ++i) cuts.insert(i);
    for (int k = 0; k < 7; ++k)
        for (int l = 0; l < m.n_layers; ++l) {
            const uint64_t at = ak42_matrix_at(m, ak.data(), k, l);
            for (uint64_t d : {at - 1, at, at + 1, at + 4, at + 5}) cuts.insert(d);
        }
    for (uint64_t i = 1; i < 64; ++i) cuts.insert(ak.size() * i / 64);
    cuts.insert(ak.size() - 1);
    REQUIRE(cuts.size() >= 300);
    for (uint64_t cut : cuts) {
        CAPTURE(cut);
        CHECK(ak42_refused(ak.data(), cut, agm::ErrorKind::Format));
    }
    Bytes longer = ak;
    longer.push_back(0);
    CHECK(ak42_refused(longer.data(), longer.size(), agm::ErrorKind::Format, "the file has"));
    MESSAGE((cuts.size() + 1), " ak42 sizes");
}

TEST_CASE("hostile: ak42 header fields zero, negative, huge or inconsistent are refused") {
    const Bytes good = tiny_ak42();
    {
        agm::Ak42Model m;
        agm::Error err;
        REQUIRE(agm::read_ak42(good.data(), good.size(), &m, &err));
    }
    int n = 0;
    for (int field = 2; field <= 8; ++field)
        for (int32_t v : {0, -1, INT32_MIN, INT32_MAX, 1 << 30, 1 << 18, 3}) {
            if (field == 8 && (v == 3 || v == 1 << 18)) continue;  // a valid seq_len
            Bytes b = good;
            set<int32_t>(&b, 4 * field, v);
            CAPTURE(field);
            CAPTURE(v);
            CHECK(ak42_refused(b.data(), b.size(), agm::ErrorKind::Format));
            ++n;
        }
    for (int32_t v : {0, 2, -1}) {
        Bytes b = good;
        set<int32_t>(&b, 4, v);
        CHECK(ak42_refused(b.data(), b.size(), agm::ErrorKind::Unsupported, "version"));
        ++n;
    }
    const int32_t big[7] = {1 << 18, 1 << 18, 1024, 4096, 4096, 1 << 18, 1 << 20};  // in range: sizes near 2^48
    Bytes b = good;
    std::memcpy(b.data() + 8, big, sizeof big);
    CHECK(ak42_refused(b.data(), b.size(), agm::ErrorKind::Format, "truncated"));
    set<int32_t>(&b, 28, -(1 << 18));  // unshared classifier too
    CHECK(ak42_refused(b.data(), b.size(), agm::ErrorKind::Format, "truncated"));
    const int32_t odd[7] = {2, 1, 1, 1, 1, 4, 16};  // a 1x2 matrix: half a byte
    std::memcpy(b.data() + 8, odd, sizeof odd);
    CHECK(ak42_refused(b.data(), b.size(), agm::ErrorKind::Format, "whole number of bytes"));
    const int32_t odd_head[7] = {6, 16, 2, 2, 1, 4, 16};
    std::memcpy(b.data() + 8, odd_head, sizeof odd_head);
    CHECK(ak42_refused(b.data(), b.size(), agm::ErrorKind::Format, "odd"));
    b = good;
    set<int32_t>(&b, 28, -4);  // says unshared, has no classifier
    CHECK(ak42_refused(b.data(), b.size(), agm::ErrorKind::Format, "the file has"));
    b = good;
    set<uint32_t>(&b, 0, 0x32346b61);  // magic byte-swapped
    CHECK(ak42_refused(b.data(), b.size(), agm::ErrorKind::Format, "magic"));
    agm::Ak42Model m;
    agm::Error err;
    REQUIRE(agm::read_ak42(good.data(), good.size(), &m, &err));
    for (uint32_t bits : {0x7FC00000u, 0x7F800000u, 0xBF800000u}) {  // NaN, inf, -1 scales
        b = good;
        set<uint32_t>(&b, ak42_matrix_at(m, good.data(), 5, 1), bits);
        CHECK(ak42_refused(b.data(), b.size(), agm::ErrorKind::Format, "matrix 5 of layer 1"));
    }
    MESSAGE((n + 10), " ak42 headers");
}

TEST_CASE("hostile: ak42 code 10 and non-finite floats are refused, naming where") {
    const Bytes good = tiny_ak42();
    for (agm::BitOrder order : {agm::BitOrder::Msb, agm::BitOrder::Lsb}) {
        Bytes b = good;
        agm::Ak42Model m;
        agm::Error err;
        REQUIRE(agm::read_ak42(b.data(), b.size(), &m, &err));
        const agm::Ak42Matrix& wk1 = m.matrices[1 * 2 + 1];
        plant_code10(const_cast<uint8_t*>(wk1.codes), wk1.cols, 2, 5, order);
        Bytes packed;
        CHECK_FALSE(agm::repack_ak42(wk1, order, AGM_TYPE_T2_B128, "blk.1.attn_k", &packed, &err));
        CHECK_MESSAGE(contains(err.msg, "blk.1.attn_k: weight at row 2, column 5 has code 10"), err.msg);
        Bytes out;
        CHECK_FALSE(agm::convert_ak42(b.data(), b.size(), order, AGM_TYPE_T2_B128, AGM_TYPE_F32, nullptr, "", "t", &out, &err));
        CHECK_MESSAGE(contains(err.msg, "blk.1.attn_k: weight at row 2, column 5"), err.msg);
        CHECK(one_line(err.msg));
        // The untouched checkpoint converts and runs.
        REQUIRE(agm::convert_ak42(good.data(), good.size(), order, AGM_TYPE_T2_B128, AGM_TYPE_F32, nullptr, "", "t", &out, &err));
        agm_error e;
        CHECK(open_exact(out.data(), out.size(), true, &e, true, true) == AGM_OK);
    }
    struct { const char* what; uint64_t at; const char* needle; } poison[] = {
        {"embedding", 256 + 8 * 4 + 17 * 4, "token embedding: value 17"},
        {"final norm", 256 + 3 * 4, "final norm: value 3"},
    };
    for (const auto& p : poison)
        for (uint32_t bits : {0x7FC00000u, 0xFF800000u}) {
            const std::string what = p.what;
            CAPTURE(what);
            Bytes b = good;
            set<uint32_t>(&b, p.at, bits);
            Bytes out;
            agm::Error err;
            CHECK_FALSE(agm::convert_ak42(b.data(), b.size(), agm::BitOrder::Msb, AGM_TYPE_T2_B128, AGM_TYPE_F32, nullptr, "", "t", &out, &err));
            CHECK_MESSAGE(contains(err.msg, p.needle), err.msg);
            CHECK(one_line(err.msg));
        }
}

// ---- the converter binary: clean failures, atomic output -------------------

namespace {

std::set<std::string> list_dir(const std::string& dir) {
    std::set<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d))
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.insert(e->d_name);
        closedir(d);
    }
    return names;
}

void write_bytes(const std::string& path, const Bytes& b) {
    FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    if (!b.empty()) REQUIRE(std::fwrite(b.data(), 1, b.size(), f) == b.size());
    std::fclose(f);
}

// A failed conversion: exit status 1, a last stderr line from the tool.
void check_clean_failure(const Run& r, const char* needle) {
    CHECK_MESSAGE(r.exited, "killed by signal ", r.sig, ": ", r.err);
    CHECK(r.code == 1);
    const size_t last = r.err.rfind("agmodel-convert: ");
    CHECK_MESSAGE(last != std::string::npos, r.err);
    if (last != std::string::npos) {
        const std::string line = r.err.substr(last);
        CHECK_MESSAGE(line.find('\n') == line.size() - 1, line);
        CHECK_MESSAGE(line.find(needle) != std::string::npos, line);
    }
}

}  // namespace

TEST_CASE("hostile: agmodel-convert fails cleanly and never leaves partial output") {
    const char* exe = std::getenv("AGM_CONVERT");
    if (exe == nullptr || exe[0] == '\0') {
        MESSAGE("AGM_CONVERT is not set: converter cases skipped");
        return;
    }
    Bytes ak, tok;
    REQUIRE(agm_test::read_file(agm_test::model_3m_dir() + "/model.bin", &ak));
    const std::string tok_path = agm_test::model_3m_dir() + "/tokenizer.bin";
    char tmpl[] = "/tmp/agm_convert_XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl, in = dir + "/in.bin", out = dir + "/out.agm";
    const Bytes precious = {'p', 'r', 'e', 'c', 'i', 'o', 'u', 's'};

    // A good input converts (the harness works).
    write_bytes(in, ak);
    Run r = run_convert(exe, {in, "--tokenizer", tok_path, "-o", out});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    Bytes converted;
    REQUIRE(agm_test::read_file(out, &converted));
    agm_error e;
    CHECK(open_exact(converted.data(), converted.size(), true, &e) == AGM_OK);

    agm::Ak42Model m;
    agm::Error err;
    REQUIRE(agm::read_ak42(ak.data(), ak.size(), &m, &err));
    struct Bad { const char* what; Bytes bytes; const char* needle; };
    std::vector<Bad> bad;
    bad.push_back({"empty", {}, "not recognised"});
    bad.push_back({"not ak42", Bytes(1000, 0x5A), "not recognised"});
    bad.push_back({"header only", Bytes(ak.begin(), ak.begin() + 256), "ak42"});
    bad.push_back({"truncated", Bytes(ak.begin(), ak.begin() + (long)ak.size() / 2), "truncated"});
    {
        Bytes b = ak;
        const agm::Ak42Matrix& wk = m.matrices[1 * m.n_layers + 2];
        plant_code10(b.data() + (wk.codes - ak.data()), wk.cols, 17, 130, agm::BitOrder::Msb);
        bad.push_back({"code 10", b, "blk.2.attn_k: weight at row 17, column 130 has code 10"});
    }
    {
        Bytes b = ak;
        set<uint32_t>(&b, 256 + (uint64_t)m.dim * 4 + 1000 * 4, 0x7FC00000u);
        bad.push_back({"NaN embedding", b, "token embedding: value 1000 is not a finite number"});
    }
    for (int32_t v : {INT32_MIN, INT32_MAX, 0, -1}) {  // vocab size: read before the header is validated
        Bytes b = ak;
        set<int32_t>(&b, 28, v);
        bad.push_back({"vocab field", b, ""});
    }
    for (const Bad& c : bad) {
        const std::string what = c.what;
        CAPTURE(what);
        write_bytes(in, c.bytes);
        write_bytes(out, precious);
        r = run_convert(exe, {in, "--tokenizer", tok_path, "-o", out});
        check_clean_failure(r, c.needle);
        Bytes after;
        CHECK(agm_test::read_file(out, &after));
        CHECK(after == precious);
        CHECK(list_dir(dir) == std::set<std::string>{"in.bin", "out.agm"});
    }

    // Output into a directory that does not exist: refused, nothing created.
    write_bytes(in, ak);
    r = run_convert(exe, {in, "--tokenizer", tok_path, "-o", dir + "/missing/out.agm"});
    check_clean_failure(r, "missing/out.agm");
    CHECK(list_dir(dir) == std::set<std::string>{"in.bin", "out.agm"});

    // A write that fails midway (file-size limit: EFBIG): no partial output,
    // no temporary, an existing file untouched.
    for (bool existing : {false, true}) {
        CAPTURE(existing);
        std::remove(out.c_str());
        if (existing) write_bytes(out, precious);
        r = run_convert(exe, {in, "--tokenizer", tok_path, "-o", out}, 64 * 1024);
        check_clean_failure(r, "File too large");
        if (existing) {
            Bytes after;
            CHECK(agm_test::read_file(out, &after));
            CHECK(after == precious);
            CHECK(list_dir(dir) == std::set<std::string>{"in.bin", "out.agm"});
        } else {
            CHECK(list_dir(dir) == std::set<std::string>{"in.bin"});
        }
    }
    std::remove(out.c_str());
    std::remove(in.c_str());
    rmdir(dir.c_str());
}
