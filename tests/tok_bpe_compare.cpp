// agm_tok_bpe_compare: our byte-level BPE pieces against tests/bpe_oracle.pl
// (Perl's regex engine and a plain BPE loop), record by record.
//
//   agm_tok_bpe_compare classes EXPECTED
//   agm_tok_bpe_compare split STYLE MODE INPUT EXPECTED
//   agm_tok_bpe_compare encode VOCAB STYLE MODE INPUT EXPECTED
//
// EXPECTED is the oracle's output for the same arguments (one line per
// record: hex pre-tokens, or token ids). STYLE, MODE and the dump format are
// bpe_oracle.pl's. Prints the first mismatches and "N/N lines agree";
// exit status 0 only if all agree. VOCAB is a GGUF (read by parse_gguf and
// vocab_from_gguf, as the converter does) or an oracle dump
// (bpe_vocab_from_strings); the pre-tokenizer is then set to STYLE (LLaMA-3
// with ignore_merges), serialised, parsed and used in place.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/tokenizer_section.h"
#include "agm/vocab.h"
#include "bpe_test_util.h"
#include "pretokenize.h"
#include "tokenizer.h"

namespace {

using agm_test::hex;
using agm_test::read_file;

bool records(const std::string& mode, const char* path, std::vector<std::string>* out) {
    std::string d;
    if (!read_file(path, &d)) return false;
    if (mode == "whole") {
        out->assign(1, d);
    } else if (mode == "lines") {
        *out = agm_test::split_lines(d);
    } else if (mode == "escaped") {
        out->clear();
        for (const std::string& l : agm_test::split_lines(d))
            if (!l.empty() && l[0] != '#') out->push_back(agm_test::unescape(l));
    } else {
        return false;
    }
    return true;
}

int compare(const std::string& what, const std::vector<std::string>& got, const std::vector<std::string>& want) {
    if (got.size() != want.size()) {
        std::printf("%s: %zu records but the oracle has %zu lines\n", what.c_str(), got.size(), want.size());
        return 1;
    }
    size_t pass = 0, shown = 0;
    for (size_t i = 0; i < got.size(); i++) {
        if (got[i] == want[i]) pass++;
        else if (shown++ < 8)
            std::printf("record %zu:\n  ours [%.600s]\n  perl [%.600s]\n", i + 1, got[i].c_str(), want[i].c_str());
    }
    std::printf("%s: %zu/%zu lines agree\n", what.c_str(), pass, got.size());
    return pass == got.size() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    std::string expected;
    if (cmd == "classes" && argc == 3) {
        if (!read_file(argv[2], &expected)) return 2;
        std::vector<std::string> got;
        int prev = -1;
        for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
            const int c = agm::unicode_class(cp);
            char buf[32];
            std::snprintf(buf, sizeof buf, "%06X %d", (unsigned)cp, c);
            if (c != prev) got.push_back(buf);
            prev = c;
        }
        return compare("character classes, U+0000..U+10FFFF as runs", got, agm_test::split_lines(expected));
    }
    if (cmd == "split" && argc == 6) {
        const uint32_t style = agm_test::style_from_name(argv[2]);
        std::vector<std::string> recs;
        if (style == 0 || !records(argv[3], argv[4], &recs) || !read_file(argv[5], &expected)) {
            std::fprintf(stderr, "bad arguments or unreadable files\n");
            return 2;
        }
        std::vector<std::string> got;
        for (const std::string& r : recs) {
            std::string line;
            for (const std::string& p : agm_test::pretokenize(style, r)) line += (line.empty() ? "" : " ") + hex(p);
            got.push_back(line);
        }
        return compare(std::string("split ") + argv[2] + " " + argv[3] + " " + argv[4], got, agm_test::split_lines(expected));
    }
    if (cmd == "encode" && argc == 7) {
        const uint32_t style = agm_test::style_from_name(argv[3]);
        std::vector<std::string> recs;
        std::string dump;
        if (style == 0 || !read_file(argv[2], &dump) || !records(argv[4], argv[5], &recs) ||
            !read_file(argv[6], &expected)) {
            std::fprintf(stderr, "bad arguments or unreadable files\n");
            return 2;
        }
        agm::Vocab vocab;
        agm::Error err;
        std::string kind;
        agm::GgufFile gguf;
        const bool ok = dump.compare(0, 4, "GGUF") == 0
                            ? agm::parse_gguf(reinterpret_cast<const uint8_t*>(dump.data()), dump.size(), &gguf, &err) &&
                                  agm::vocab_from_gguf(gguf, &vocab, &kind, &err)
                            : agm_test::vocab_from_dump(dump, &vocab, &err);
        if (!ok) {
            std::fprintf(stderr, "%s: %s\n", argv[2], err.msg);
            return 1;
        }
        vocab.pre_tokenizer = style;
        vocab.flags = style == AGM_PRE_LLAMA3 ? AGM_TOK_IGNORE_MERGES : 0;
        agm_test::BpeTok tok;
        if (!tok.build(vocab, &err)) {
            std::fprintf(stderr, "%s: %s\n", argv[2], err.msg);
            return 1;
        }
        std::vector<std::string> got;
        for (const std::string& r : recs) {
            std::vector<int32_t> ids;
            std::string line;
            if (!tok.encode(r, &ids, &err)) {
                line = std::string("error: ") + err.msg;
            } else {
                for (int32_t id : ids) line += (line.empty() ? "" : " ") + std::to_string(id);
            }
            got.push_back(line);
        }
        return compare(std::string("encode ") + argv[3] + " " + argv[4] + " " + argv[5], got, agm_test::split_lines(expected));
    }
    std::fprintf(stderr,
                 "usage: %s classes EXPECTED | split STYLE MODE INPUT EXPECTED | encode VOCAB STYLE MODE INPUT EXPECTED\n",
                 argv[0]);
    return 2;
}
