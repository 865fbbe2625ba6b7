// OpenAI tool calls: the request's tools described to the model, and its
// output held to a grammar built from their parameter schemas
// (docs/server.md, "Tool calls"). A call is the JSON object
// {"name": NAME, "arguments": {...}}: with tool_choice "required" or a named
// function the whole output is one; with "auto" an output that begins with
// "{" is one and any other is text; with "none" nothing is constrained.
#ifndef AGM_SERVE_TOOLS_H
#define AGM_SERVE_TOOLS_H

#include <string>
#include <vector>

#include "agm/json.h"

namespace agm_serve {

struct ToolSpec {
    struct Tool {
        std::string name, description;
        std::string parameters;  // the schema as compact JSON
    };
    std::vector<Tool> tools;
    enum class Choice { None, Auto, Required } choice = Choice::Auto;
    std::string forced;  // a named function (choice Required, one tool)
    bool active() const { return !tools.empty() && choice != Choice::None; }
};

// body's "tools" and "tool_choice". false: *error, and *param names the field.
bool parse_tools(const agm::JsonValue& body, ToolSpec* out, std::string* error, const char** param);

// The text that tells the model about the tools (it goes into the system message).
std::string tools_prompt(const ToolSpec& spec);

// The grammar of the output: a call (Required), or a call or text (Auto).
bool tools_grammar(const ToolSpec& spec, std::string* gbnf, std::string* error);

// text as a call: its name and its arguments as compact JSON.
bool parse_tool_call(const std::string& text, std::string* name, std::string* arguments);

}  // namespace agm_serve

#endif
