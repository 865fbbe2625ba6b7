// agm_tok_spm_compare MODEL CORPUS SPM_IDS
// Encodes every line of CORPUS with our tokenizer built from the SentencePiece
// MODEL and compares it with SPM_IDS, the output of
// `spm_encode --model=MODEL --output_format=id < CORPUS` (one line of ids per
// input line). Prints the first mismatches with line numbers; exit status 0
// only if every line agrees.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

#include "agm/tokenizer_section.h"
#include "agm/vocab.h"
#include "tokenizer.h"

using agm_test::read_file;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s MODEL CORPUS SPM_IDS\n", argv[0]);
        return 2;
    }
    std::string model, corpus, ids;
    if (!read_file(argv[1], &model) || !read_file(argv[2], &corpus) || !read_file(argv[3], &ids)) {
        std::fprintf(stderr, "cannot read an input file\n");
        return 2;
    }
    agm::Vocab vocab;
    agm::Error err;
    std::vector<uint8_t> sec;
    if (!agm::read_spm_model(reinterpret_cast<const uint8_t*>(model.data()), model.size(), &vocab, &err) ||
        !agm::serialize_tokenizer(vocab, &sec, &err)) {
        std::fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    std::vector<uint32_t> aligned((sec.size() + 3) / 4);
    std::memcpy(aligned.data(), sec.data(), sec.size());
    agm::TokenizerView view;
    agm::Tokenizer tok;
    if (!agm::parse_tokenizer_section(reinterpret_cast<const uint8_t*>(aligned.data()), sec.size(), &view, &err) ||
        !tok.init(view, &err)) {
        std::fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    const std::vector<std::string> in = agm_test::split_lines(corpus), want = agm_test::split_lines(ids);
    if (in.size() != want.size()) {
        std::fprintf(stderr, "%zu corpus lines but %zu id lines\n", in.size(), want.size());
        return 1;
    }
    size_t pass = 0, shown = 0;
    std::vector<int32_t> out;
    for (size_t i = 0; i < in.size(); i++) {
        out.resize(in[i].size() * 4 + 8);
        size_t n = 0;
        std::string got;
        if (!tok.encode(in[i].data(), in[i].size(), false, out.data(), out.size(), &n, &err)) {
            got = std::string("error: ") + err.msg;
        } else {
            for (size_t k = 0; k < n; k++) got += (k ? " " : "") + std::to_string(out[k]);
        }
        if (got == want[i]) {
            pass++;
        } else if (shown++ < 10) {
            std::printf("line %zu: ours [%s]\n          spm  [%s]\n", i + 1, got.c_str(), want[i].c_str());
        }
    }
    std::printf("%s: %zu/%zu lines agree with spm_encode\n", argv[1], pass, in.size());
    return pass == in.size() ? 0 : 1;
}
