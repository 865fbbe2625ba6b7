// agmodel-grammar: convert JSON Schemas to GBNF grammars and check texts
// against grammars, without a model (docs/structured-output.md).
//
//   agmodel-grammar from-schema SCHEMA [--spaced] [--ignore-unsupported] [-o OUT]
//   agmodel-grammar check GRAMMAR FILE...
//   agmodel-grammar check --schema SCHEMA [--spaced] [--ignore-unsupported] [--canonical] FILE...
//   agmodel-grammar check --json FILE...
//
// check prints one line per file, "accept FILE" or "reject FILE: ..." with
// the byte where the grammar refused it (or "incomplete" when the text is a
// prefix of a sentence only). Exit status 0 when every file was judged,
// whatever the verdicts; 2 when the grammar or schema cannot be compiled or
// is refused, or a file cannot be read (one line on stderr says why).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agm/file_io.h"
#include "agm/json.h"
#include "agm/json_schema.h"
#include "agmodel.h"

namespace {

constexpr uint64_t kMaxInput = (uint64_t)64 << 20;  // schemas, grammars, texts

void usage(FILE* f) {
    std::fprintf(f,
        "usage: agmodel-grammar from-schema SCHEMA [--spaced] [--ignore-unsupported] [-o OUT]\n"
        "       agmodel-grammar check GRAMMAR FILE...\n"
        "       agmodel-grammar check --schema SCHEMA [--spaced] [--ignore-unsupported] [--canonical] FILE...\n"
        "       agmodel-grammar check --json FILE...\n"
        "  from-schema   write the GBNF grammar of a JSON Schema (to stdout or OUT)\n"
        "  check         say for each FILE whether the grammar accepts its whole text\n"
        "  --spaced      one space after ':' and ',' (default: compact JSON)\n"
        "  --ignore-unsupported  drop restricting keywords the converter does not implement\n"
        "                (the grammar then accepts values the schema does not)\n"
        "  --canonical   read each FILE as JSON and check it written in the schema's form\n"
        "                (compact, members in the schema's order)\n"
        "exit status: 0 every FILE judged (accepted or rejected), 2 error\n");
}

bool read_input(const std::string& path, std::vector<uint8_t>* out) {
    agm::Error e;
    if (agm::read_whole_file(path, out, &e, kMaxInput)) return true;
    std::fprintf(stderr, "agmodel-grammar: %s\n", e.msg);
    return false;
}

// Writes `text` to `path` through a temporary file renamed over it, so a
// failure (a full disk) leaves no half-written grammar.
bool write_output(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) {
        std::fprintf(stderr, "agmodel-grammar: cannot write %s: %s\n", tmp.c_str(), std::strerror(errno));
        return false;
    }
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = (std::fflush(f) == 0) && ok;
    ok = (std::fclose(f) == 0) && ok;
    if (ok && std::rename(tmp.c_str(), path.c_str()) != 0) ok = false;
    if (!ok) {
        std::fprintf(stderr, "agmodel-grammar: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
        std::remove(tmp.c_str());
    }
    return ok;
}

// One text through a fresh matcher: "" when accepted, else why not.
std::string judge(agm_matcher* m, const uint8_t* text, size_t n) {
    agm_error e;
    agm_matcher_reset(m, -1);
    if (agm_matcher_accept_bytes(m, reinterpret_cast<const char*>(text), n, &e) != AGM_OK) {
        // Find the first byte refused.
        agm_matcher_reset(m, -1);
        size_t at = 0;
        while (at < n && agm_matcher_accept_bytes(m, reinterpret_cast<const char*>(text) + at, 1, &e) == AGM_OK)
            ++at;
        return "refused at byte " + std::to_string(at);
    }
    if (!agm_matcher_is_complete(m)) return "incomplete (the text ends inside a sentence of the grammar)";
    return "";
}

struct Flags {
    agm::SchemaOptions schema;
    bool canonical = false;
    std::string out, schema_path;
    bool any_json = false;
    std::vector<std::string> args;
};

bool parse_flags(int argc, char** argv, int from, Flags* f) {
    for (int i = from; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--spaced") f->schema.whitespace = agm::SchemaOptions::Whitespace::Spaced;
        else if (a == "--ignore-unsupported") f->schema.ignore_unsupported = true;
        else if (a == "--canonical") f->canonical = true;
        else if (a == "--json") f->any_json = true;
        else if ((a == "-o" || a == "--schema") && i + 1 < argc) (a == "-o" ? f->out : f->schema_path) = argv[++i];
        else if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "agmodel-grammar: %s is not an option (or needs a value)\n", a.c_str());
            return false;
        } else {
            f->args.push_back(a);
        }
    }
    return true;
}

bool convert(const std::string& path, const agm::SchemaOptions& o, std::string* gbnf, agm::JsonValue* schema) {
    std::vector<uint8_t> text;
    if (!read_input(path, &text)) return false;
    agm::Error e;
    agm::JsonValue local;
    agm::JsonValue* v = schema != nullptr ? schema : &local;
    if (!agm::parse_json(text.data(), text.size(), v, &e)) {
        std::fprintf(stderr, "agmodel-grammar: %s: schema: %s\n", path.c_str(), e.msg);
        return false;
    }
    if (!agm::json_schema_to_gbnf(*v, o, gbnf, &e)) {
        std::fprintf(stderr, "agmodel-grammar: %s: %s\n", path.c_str(), e.msg);
        return false;
    }
    if (o.ignore_unsupported)
        std::fprintf(stderr, "agmodel-grammar: %s: keywords the converter does not implement were ignored; "
                     "the grammar may accept values the schema does not\n", path.c_str());
    return true;
}

int from_schema(const Flags& f) {
    if (f.args.size() != 1) {
        usage(stderr);
        return 2;
    }
    std::string gbnf;
    if (!convert(f.args[0], f.schema, &gbnf, nullptr)) return 2;
    // The grammar must compile: a converter bug shows here, not in the field.
    agm_grammar* g = nullptr;
    agm_error e;
    if (agm_grammar_create(nullptr, gbnf.data(), gbnf.size(), nullptr, &g, &e) != AGM_OK) {
        std::fprintf(stderr, "agmodel-grammar: %s: the converted grammar does not compile: %s\n",
                     f.args[0].c_str(), e.message);
        return 2;
    }
    agm_grammar_free(g);
    if (!f.out.empty()) return write_output(f.out, gbnf) ? 0 : 2;
    if (std::fwrite(gbnf.data(), 1, gbnf.size(), stdout) != gbnf.size() || std::fflush(stdout) != 0) {
        std::fprintf(stderr, "agmodel-grammar: cannot write the grammar: %s\n", std::strerror(errno));
        return 2;
    }
    return 0;
}

int check(Flags f) {
    std::string gbnf, source;
    agm::JsonValue schema;
    if (f.any_json) {
        gbnf = agm::json_any_value_gbnf(f.schema);
        source = "--json";
    } else if (!f.schema_path.empty()) {
        if (!convert(f.schema_path, f.schema, &gbnf, &schema)) return 2;
        source = f.schema_path;
    } else {
        if (f.args.empty()) {
            usage(stderr);
            return 2;
        }
        source = f.args[0];
        f.args.erase(f.args.begin());
        std::vector<uint8_t> text;
        if (!read_input(source, &text)) return 2;
        gbnf.assign(text.begin(), text.end());
    }
    if (f.canonical && f.schema_path.empty()) {
        std::fprintf(stderr, "agmodel-grammar: --canonical needs --schema\n");
        return 2;
    }
    if (f.args.empty()) {
        usage(stderr);
        return 2;
    }
    agm_grammar* g = nullptr;
    agm_matcher* m = nullptr;
    agm_error e;
    agm_status st = agm_grammar_create(nullptr, gbnf.data(), gbnf.size(), nullptr, &g, &e);
    if (st == AGM_OK) st = agm_matcher_create(g, &m, &e);
    if (st != AGM_OK) {
        std::fprintf(stderr, "agmodel-grammar: %s: %s\n", source.c_str(), e.message);
        agm_grammar_free(g);
        return 2;
    }
    int rc = 0;
    for (const std::string& path : f.args) {
        std::vector<uint8_t> text;
        if (!read_input(path, &text)) {
            rc = 2;
            continue;
        }
        std::string why;
        if (f.canonical) {
            agm::JsonValue v;
            agm::Error je;
            if (!agm::parse_json(text.data(), text.size(), &v, &je)) {
                why = std::string("not JSON: ") + je.msg;
            } else {
                std::string s;
                agm::serialize_in_schema_order(v, schema, &s);
                why = judge(m, reinterpret_cast<const uint8_t*>(s.data()), s.size());
            }
        } else {
            why = judge(m, text.data(), text.size());
        }
        if (why.empty()) {
            std::printf("accept %s\n", path.c_str());
        } else {
            std::printf("reject %s: %s\n", path.c_str(), why.c_str());
        }
    }
    agm_matcher_free(m);
    agm_grammar_free(g);
    if (std::fflush(stdout) != 0) return 2;
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const std::string cmd = argv[1];
    if (cmd == "-h" || cmd == "--help") {
        usage(stdout);
        return 0;
    }
    Flags f;
    if (!parse_flags(argc, argv, 2, &f)) return 2;
    if (cmd == "from-schema") return from_schema(f);
    if (cmd == "check") return check(f);
    std::fprintf(stderr, "agmodel-grammar: unknown command %s\n", cmd.c_str());
    usage(stderr);
    return 2;
}
