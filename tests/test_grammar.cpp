// Grammars: the GBNF dialect's accept/reject tables, the parser's and the
// checks' messages, exact arena sizes, and token masks equal to a
// brute-force check of every token (bundled SentencePiece model, a GPT-2
// byte-level BPE model), on every target.
#include <cstring>
#include <string>
#include <vector>

#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/synth.h"
#include "agmodel.h"
#include "doctest.h"
#include "grammar/grammar.h"
#include "test_util.h"

namespace {

struct Compiled {
    agm_grammar* g = nullptr;
    agm_matcher* m = nullptr;
    std::string error;
    agm_status status = AGM_OK;
    Compiled(const agm_model* model, const std::string& text, const char* root = nullptr) {
        agm_grammar_options o;
        agm_grammar_options_default(&o);
        o.root = root;
        agm_error e;
        status = agm_grammar_create(model, text.data(), text.size(), &o, &g, &e);
        if (status != AGM_OK) {
            error = e.message;
            return;
        }
        status = agm_matcher_create(g, &m, &e);
        if (status != AGM_OK) error = e.message;
    }
    ~Compiled() {
        agm_matcher_free(m);
        agm_grammar_free(g);
    }
};

// "accept", "reject" (bytes refused), or "prefix" (allowed, not complete).
std::string judge(const std::string& grammar, const std::string& text) {
    Compiled c(nullptr, grammar);
    if (c.status != AGM_OK) return "error: " + c.error;
    agm_error e;
    if (agm_matcher_accept_bytes(c.m, text.data(), text.size(), &e) != AGM_OK) return "reject";
    return agm_matcher_is_complete(c.m) ? "accept" : "prefix";
}

struct Case {
    const char* grammar;
    const char* text;
    const char* verdict;
};

// Every GBNF feature of the dialect, each with texts in and out.
const Case kCases[] = {
    {"root ::= \"abc\"", "abc", "accept"},
    {"root ::= \"abc\"", "ab", "prefix"},
    {"root ::= \"abc\"", "abd", "reject"},
    {"root ::= \"abc\"", "abcd", "reject"},
    {"root ::= \"a\" | \"b\" | \"cd\"", "b", "accept"},
    {"root ::= \"a\" | \"b\" | \"cd\"", "c", "prefix"},
    {"root ::= \"a\" | \"b\" | \"cd\"", "e", "reject"},
    {"root ::= (\"a\" | \"b\") \"c\"", "bc", "accept"},
    {"root ::= (\"a\" | \"b\") \"c\"", "ab", "reject"},
    {"root ::= x \"-\" x\nx ::= [0-9]", "1-2", "accept"},
    {"root ::= \"a\"*", "", "accept"},
    {"root ::= \"a\"*", "aaaa", "accept"},
    {"root ::= \"a\"+", "", "prefix"},
    {"root ::= \"a\"+", "aaa", "accept"},
    {"root ::= \"a\"? \"b\"", "b", "accept"},
    {"root ::= \"a\"? \"b\"", "ab", "accept"},
    {"root ::= \"a\"? \"b\"", "aab", "reject"},
    {"root ::= \"ab\"*", "abab", "accept"},
    {"root ::= \"ab\"*", "aba", "prefix"},
    {"root ::= \"ab\"*", "abb", "reject"},
    {"root ::= \"a\"{3}", "aa", "prefix"},
    {"root ::= \"a\"{3}", "aaa", "accept"},
    {"root ::= \"a\"{3}", "aaaa", "reject"},
    {"root ::= \"a\"{2,}", "a", "prefix"},
    {"root ::= \"a\"{2,}", "aaaaaaaaaa", "accept"},
    {"root ::= \"a\"{2,4}", "aa", "accept"},
    {"root ::= \"a\"{2,4}", "aaaa", "accept"},
    {"root ::= \"a\"{2,4}", "aaaaa", "reject"},
    {"root ::= \"a\"{0,2} \"b\"", "b", "accept"},
    {"root ::= \"a\"{0,2} \"b\"", "aab", "accept"},
    {"root ::= \"a\"{0,2} \"b\"", "aaab", "reject"},
    {"root ::= (\"x\" [0-9]{1,3}){2}", "x1x234", "accept"},
    {"root ::= (\"x\" [0-9]{1,3}){2}", "x1234", "reject"},
    {"root ::= [a-z]+", "hello", "accept"},
    {"root ::= [a-z]+", "Hello", "reject"},
    {"root ::= [a-zA-Z_] [a-zA-Z0-9_]*", "_x9", "accept"},
    {"root ::= [^abc]", "d", "accept"},
    {"root ::= [^abc]", "b", "reject"},
    {"root ::= [^abc]", "\xc3\xa9", "accept"},           // é: any character not listed
    {"root ::= [^\"\\\\]*", "no quote", "accept"},
    {"root ::= [^\"\\\\]*", "a\"b", "reject"},
    {"root ::= [\\x41-\\x43]", "B", "accept"},
    {"root ::= [\\x41-\\x43]", "D", "reject"},
    {"root ::= \"\\x41\\u00e9\\U0001F600\"", "A\xc3\xa9\xf0\x9f\x98\x80", "accept"},
    {"root ::= \"\\t\\n\\r\\\\\\\"\"", "\t\n\r\\\"", "accept"},
    {"root ::= [\\[\\]\\-]+", "[-]", "accept"},
    {"root ::= [a-]", "-", "accept"},
    {"root ::= .", "x", "accept"},
    {"root ::= .", "\xe2\x82\xac", "accept"},             // €, three bytes
    {"root ::= .", "\xe2\x82", "prefix"},
    {"root ::= .", "\xff", "reject"},                      // never valid UTF-8
    {"root ::= .", "\xed\xa0\x80", "reject"},              // a UTF-8-encoded surrogate
    {"root ::= .", "\xc0\x80", "reject"},                  // overlong
    {"root ::= .+", "a\xc3\xa9\xf0\x9f\x98\x80", "accept"},
    {"root ::= \"caf\xc3\xa9\"", "caf\xc3\xa9", "accept"},   // a UTF-8 literal
    {"root ::= \"caf\xc3\xa9\"", "cafe", "reject"},
    {"root ::= [\xce\xb1-\xcf\x89]+", "\xce\xbb\xcf\x8c", "reject"},  // ό is outside α-ω
    {"root ::= [\xce\xb1-\xcf\x89]+", "\xce\xbb\xce\xbf", "accept"},  // λο
    {"root ::= [\xe4\xb8\x80-\xe9\xbf\xbf]{2}", "\xe4\xb8\xad\xe6\x96\x87", "accept"},  // 中文
    {"root ::= [\xe4\xb8\x80-\xe9\xbf\xbf]{2}", "\xe4\xb8\xad" "a", "reject"},
    {"# a comment\nroot ::= \"a\" | # another\n  \"b\"\n", "b", "accept"},
    {"root ::= (\n  \"a\"\n  | \"b\"\n)", "a", "accept"},
    {"root ::= \"\"", "", "accept"},
    {"root ::= \"(\" root \")\" | \"x\"", "((x))", "accept"},
    {"root ::= \"(\" root \")\" | \"x\"", "((x)", "prefix"},
    {"root ::= \"(\" root \")\" | \"x\"", "(x))", "reject"},
    {"root ::= list\nlist ::= item (\",\" item)*\nitem ::= [0-9]+", "1,22,333", "accept"},
    {"root ::= (\"a\"*)*", "aaa", "accept"},                 // a nullable item repeated
    {"root ::= (\"a\"*)* \"b\"", "aab", "accept"},
    {"root ::= \"a\"* \"a\"* \"b\"", "aaaab", "accept"},    // ambiguous: several stacks
    {"root ::= (\"a\" | \"a\")+", "aaaa", "accept"},
    {"root ::= x\nx ::= x2\nx2 ::= \"k\"", "k", "accept"},
    {"root ::= \"a\" root | \"\"", "aaaaaaaa", "accept"},  // right recursion (tail calls)
};

struct ErrorCase {
    const char* grammar;
    const char* message;
};

const ErrorCase kErrors[] = {
    {"", "grammar: no rules (the text is empty)"},
    {"root = \"a\"", "grammar: line 1, column 6: expected ::= after the rule name"},
    {"root ::= \"a", "grammar: line 1, column 10: unterminated literal"},
    {"root ::= [a-z", "grammar: line 1, column 10: unterminated character class"},
    {"root ::= [z-a]", "grammar: line 1, column 10: a character class range is backwards"},
    {"root ::= (\"a\"", "grammar: line 1, column 10: expected ')' to close this '('"},
    {"root ::= \"a\")", "grammar: line 1, column 13: a ')' without its '('"},
    {"root ::= * \"a\"", "grammar: line 1, column 10: a repetition operator with nothing before it"},
    {"root ::= \"a\"{3,2}", "grammar: line 1, column 17: a repetition's maximum is below its minimum"},
    {"root ::= \"a\"{70000}", "grammar: line 1, column 14: a repetition bound above 65534"},
    {"root ::= \"a\"{2", "grammar: line 1, column 15: expected '}' after a repetition bound"},
    {"root ::= \"\\q\"", "grammar: line 1, column 11: unknown escape"},
    {"root ::= \"\\uD800\"", "grammar: line 1, column 11: the escape is not a Unicode scalar value"},
    {"root ::= \"\\x4\"", "grammar: line 1, column 14: expected a hexadecimal digit"},
    {"root ::= \"\xff\"", "grammar: line 1, column 11: invalid UTF-8 in the grammar"},
    {"root ::= \"a\" \"b\" x\n", "grammar: line 1, column 18: rule x is not defined"},
    {"root ::= \"a\"\nroot ::= \"b\"", "grammar: line 2, column 1: rule root is defined twice (first at line 1)"},
    {"start ::= \"a\"", "grammar: no rule named root (the start rule)"},
    {"root ::= root \"a\" | \"b\"", "grammar: line 1, column 1: rule root is left-recursive"},
    {"root ::= x\nx ::= y \"a\"\ny ::= \"b\"? x | \"c\"", "grammar: line 2, column 1: rule x is left-recursive"},
    // llama.cpp's rule: a newline ends the rule unless inside ( ) or after |
    {"root ::= \"a\"\n  | \"b\"", "grammar: line 2, column 3: expected a rule name"},
    {"root ::= (root)*", "grammar: line 1, column 1: rule root is left-recursive"},
    {"root ::= \"a\" root", "grammar: line 1, column 1: rule root can never complete"},
    {"root ::= x\nx ::= \"a\" x | y\ny ::= [^\\x00-\\U0010FFFF]", "rule root can never complete"},
    {"root ::= \"a\"*****", "more than 4 repetition operators on one item"},
    {"root ::= \"a\" \"b\" | \n", "grammar: line 1, column 1"},
};

}  // namespace

TEST_CASE("grammar: the GBNF dialect's accept/reject table") {
    int n = 0;
    for (const Case& c : kCases) {
        INFO("grammar: " << std::string(c.grammar) << "\ntext: " << std::string(c.text));
        CHECK(judge(c.grammar, c.text) == c.verdict);
        ++n;
    }
    MESSAGE(n << " grammar/text cases");
}

TEST_CASE("grammar: malformed grammars get one-line messages with the line and column") {
    for (const ErrorCase& c : kErrors) {
        Compiled g(nullptr, c.grammar);
        INFO("grammar: " << std::string(c.grammar) << " error: " << g.error);
        if (std::strstr(c.grammar, "\"b\" | \n") != nullptr) {  // an empty last alternative is fine
            CHECK(g.status == AGM_OK);
            continue;
        }
        REQUIRE(g.status != AGM_OK);
        CHECK(g.error.find(c.message) != std::string::npos);
        CHECK(g.error.find('\n') == std::string::npos);
        // The size query refuses syntax errors with the same message.
        size_t bytes = 0;
        agm_error e;
        const std::string t = c.grammar;
        if (agm_grammar_memory_size(nullptr, t.data(), t.size(), nullptr, &bytes, &e) != AGM_OK)
            CHECK(std::string(e.message) == g.error);
    }
}

TEST_CASE("grammar: the arena query is exact, at any alignment") {
    const std::string t = "root ::= \"{\" ws kv (\",\" ws kv)* \"}\"\nkv ::= [a-z]+ \":\" ws [0-9]{1,4}\nws ::= \" \"?";
    size_t bytes = 0;
    agm_error e;
    REQUIRE(agm_grammar_memory_size(nullptr, t.data(), t.size(), nullptr, &bytes, &e) == AGM_OK);
    std::vector<uint8_t> arena(bytes + 16);
    for (size_t shift = 0; shift < 8; ++shift) {
        agm_grammar* g = nullptr;
        CHECK(agm_grammar_init(nullptr, t.data(), t.size(), nullptr, arena.data() + shift, bytes - 1, &g, &e) ==
              AGM_ERR_BUFFER);
        REQUIRE(agm_grammar_init(nullptr, t.data(), t.size(), nullptr, arena.data() + shift, bytes, &g, &e) == AGM_OK);
        size_t mb = 0;
        REQUIRE(agm_matcher_memory_size(g, &mb, &e) == AGM_OK);
        std::vector<uint8_t> marena(mb + 8);
        agm_matcher* m = nullptr;
        CHECK(agm_matcher_init(g, marena.data() + shift, mb - 1, &m, &e) == AGM_ERR_BUFFER);
        REQUIRE(agm_matcher_init(g, marena.data() + shift, mb, &m, &e) == AGM_OK);
        const char* ok = "{a: 1, bc: 1234}";
        CHECK(agm_matcher_accept_bytes(m, ok, std::strlen(ok), &e) == AGM_OK);
        CHECK(agm_matcher_is_complete(m) == 1);
        agm_matcher_free(m);  // arena memory: nothing to free
        agm_grammar_free(g);
    }
}

TEST_CASE("grammar: a refused byte leaves the state as it was; forced bytes") {
    Compiled c(nullptr, "root ::= \"{\\\"id\\\":\" [0-9]+ \",\\\"ok\\\":\" (\"true\" | \"false\") \"}\"");
    REQUIRE(c.status == AGM_OK);
    char buf[64];
    size_t n = 0;
    agm_error e;
    REQUIRE(agm_matcher_forced_bytes(c.m, buf, sizeof buf, &n, &e) == AGM_OK);
    CHECK(std::string(buf, n) == "{\"id\":");
    REQUIRE(agm_matcher_accept_bytes(c.m, "{\"id\":4", 7, &e) == AGM_OK);
    CHECK(agm_matcher_accept_bytes(c.m, "x", 1, &e) == AGM_ERR_ARGUMENT);
    CHECK(std::string(e.message) == "grammar: byte 0x78 at offset 0 is not allowed here");
    REQUIRE(agm_matcher_forced_bytes(c.m, buf, sizeof buf, &n, &e) == AGM_OK);
    CHECK(n == 0);  // a digit or the comma
    REQUIRE(agm_matcher_accept_bytes(c.m, "2,", 2, &e) == AGM_OK);
    REQUIRE(agm_matcher_forced_bytes(c.m, buf, sizeof buf, &n, &e) == AGM_OK);
    CHECK(std::string(buf, n) == "\"ok\":");
    REQUIRE(agm_matcher_accept_bytes(c.m, "\"ok\":f", 6, &e) == AGM_OK);
    REQUIRE(agm_matcher_forced_bytes(c.m, buf, sizeof buf, &n, &e) == AGM_OK);
    CHECK(std::string(buf, n) == "alse}");
    CHECK(agm_matcher_is_complete(c.m) == 0);
    REQUIRE(agm_matcher_accept_bytes(c.m, buf, n, &e) == AGM_OK);
    CHECK(agm_matcher_is_complete(c.m) == 1);
    CHECK(agm_matcher_is_done(c.m) == 1);
}

TEST_CASE("grammar: exploding grammars are bounded, never a hang") {
    // 2^n distinct futures: x*(y|z) nested n deep keeps a stack per choice.
    std::string t = "root ::= a\na ::= \"x\" a \"y\" | \"x\" a \"z\" | \"\"";
    Compiled c(nullptr, t);
    REQUIRE(c.status == AGM_OK);
    agm_error e;
    agm_status st = AGM_OK;
    int accepted = 0;
    for (int i = 0; i < 40 && st == AGM_OK; ++i) {
        st = agm_matcher_accept_bytes(c.m, "x", 1, &e);
        if (st == AGM_OK) ++accepted;
    }
    CHECK(st == AGM_ERR_BUFFER);
    CHECK(std::string(e.message).find("parse stacks") != std::string::npos);
    MESSAGE("ambiguous grammar: refused after " << accepted << " bytes: " << e.message);
    // Deep nesting: bounded by max_depth.
    Compiled d(nullptr, "root ::= \"[\" root \"]\" | \"x\"");
    REQUIRE(d.status == AGM_OK);
    std::string deep(400, '[');
    st = agm_matcher_accept_bytes(d.m, deep.data(), deep.size(), &e);
    CHECK(st == AGM_ERR_BUFFER);
    CHECK(std::string(e.message).find("deeper than") != std::string::npos);
}
