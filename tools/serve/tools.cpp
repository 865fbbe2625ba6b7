// Tool calls (tools.h).
#include "tools.h"

#include "agm/json_schema.h"
#include "text.h"

namespace agm_serve {

namespace {

bool valid_name(const std::string& n) {
    if (n.empty() || n.size() > 64) return false;
    for (char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

// The schema of a call to one tool.
std::string call_schema(const ToolSpec::Tool& t) {
    return "{\"type\":\"object\",\"properties\":{\"name\":{\"const\":" + json_string(t.name) +
           "},\"arguments\":" + t.parameters + "},\"required\":[\"name\",\"arguments\"],\"additionalProperties\":false}";
}

}  // namespace

bool parse_tools(const agm::JsonValue& body, ToolSpec* out, std::string* error, const char** param) {
    const agm::JsonValue* tools = body.find("tools");
    *param = "tools";
    if (tools == nullptr || tools->is_null()) return true;
    if (!tools->is_array() || tools->size() > 64) {
        *error = "'tools' must be an array of at most 64 tools";
        return false;
    }
    for (size_t i = 0; i < tools->size(); ++i) {
        const agm::JsonValue& t = tools->at(i);
        const agm::JsonValue* type = t.find("type");
        const agm::JsonValue* fn = t.find("function");
        const agm::JsonValue* name = fn != nullptr ? fn->find("name") : nullptr;
        const std::string where = "tools[" + std::to_string(i) + "]";
        if (type == nullptr || !type->is_string() || type->text() != "function" || fn == nullptr || !fn->is_object() ||
            name == nullptr || !name->is_string() || !valid_name(name->text())) {
            *error = where + " must be {\"type\":\"function\",\"function\":{\"name\": 1-64 of [A-Za-z0-9_-], ...}}";
            return false;
        }
        ToolSpec::Tool tool;
        tool.name = name->text();
        if (const agm::JsonValue* d = fn->find("description"); d != nullptr && d->is_string()) tool.description = d->text();
        const agm::JsonValue* params = fn->find("parameters");
        if (params == nullptr || params->is_null()) {
            tool.parameters = "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}";
        } else if (!params->is_object()) {
            *error = where + ".function.parameters must be a JSON schema object";
            return false;
        } else {
            agm::json_serialize(*params, &tool.parameters);
        }
        for (const ToolSpec::Tool& other : out->tools)
            if (other.name == tool.name) {
                *error = "two tools are named " + tool.name;
                return false;
            }
        out->tools.push_back(std::move(tool));
    }
    const agm::JsonValue* choice = body.find("tool_choice");
    *param = "tool_choice";
    if (choice == nullptr || choice->is_null()) return true;
    if (choice->is_string()) {
        const std::string& c = choice->text();
        if (c == "none") out->choice = ToolSpec::Choice::None;
        else if (c == "auto") out->choice = ToolSpec::Choice::Auto;
        else if (c == "required") out->choice = ToolSpec::Choice::Required;
        else {
            *error = "'tool_choice' must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}";
            return false;
        }
    } else {
        const agm::JsonValue* fn = choice->find("function");
        const agm::JsonValue* name = fn != nullptr ? fn->find("name") : nullptr;
        if (name == nullptr || !name->is_string()) {
            *error = "'tool_choice' must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}";
            return false;
        }
        out->choice = ToolSpec::Choice::Required;
        out->forced = name->text();
        bool found = false;
        for (const ToolSpec::Tool& t : out->tools) found = found || t.name == out->forced;
        if (!found) {
            *error = "'tool_choice' names " + out->forced + ", which is not among the tools";
            return false;
        }
    }
    if (out->choice != ToolSpec::Choice::None && out->tools.empty()) {
        *error = "'tool_choice' asks for a tool call, but there are no tools";
        return false;
    }
    return true;
}

std::string tools_prompt(const ToolSpec& spec) {
    std::string s = "You can call these tools. To call one, answer with only a JSON object "
                    "{\"name\": TOOL, \"arguments\": {...}}.\n";
    for (const ToolSpec::Tool& t : spec.tools) {
        s += "- " + t.name;
        if (!t.description.empty()) s += ": " + t.description;
        s += " Arguments: " + t.parameters + "\n";
    }
    return s;
}

bool tools_grammar(const ToolSpec& spec, std::string* gbnf, std::string* error) {
    std::string schema;
    int n = 0;
    for (const ToolSpec::Tool& t : spec.tools) {
        if (!spec.forced.empty() && t.name != spec.forced) continue;
        schema += (n++ ? "," : "") + call_schema(t);
    }
    schema = n == 1 ? schema : "{\"anyOf\":[" + schema + "]}";
    agm::Error err;
    std::string call;
    if (!agm::json_schema_to_gbnf(reinterpret_cast<const uint8_t*>(schema.data()), schema.size(),
                                  agm::SchemaOptions(), &call, &err)) {
        *error = std::string("the tools' parameters cannot be used: ") + err.msg;
        return false;
    }
    if (spec.choice == ToolSpec::Choice::Required) {
        *gbnf = call;
        return true;
    }
    // Auto: the call's rules with its root renamed, or text that does not begin with "{".
    const size_t at = call.compare(0, 8, "root ::=") == 0 ? 0 : call.find("\nroot ::=");
    if (at == std::string::npos) {
        *error = "internal: the tools' grammar has no root rule";
        return false;
    }
    call.replace(at == 0 ? 0 : at + 1, 4, "agm-tool-call");
    *gbnf = "root ::= agm-tool-call | agm-free-text\nagm-free-text ::= [^{] [^\\x00]*\n" + call;
    return true;
}

bool parse_tool_call(const std::string& text, std::string* name, std::string* arguments) {
    agm::JsonValue v;
    agm::Error err;
    if (!agm::parse_json(reinterpret_cast<const uint8_t*>(text.data()), text.size(), &v, &err) || !v.is_object())
        return false;
    const agm::JsonValue* n = v.find("name");
    const agm::JsonValue* a = v.find("arguments");
    if (n == nullptr || !n->is_string() || a == nullptr) return false;
    *name = n->text();
    arguments->clear();
    agm::json_serialize(*a, arguments);
    return true;
}

}  // namespace agm_serve
