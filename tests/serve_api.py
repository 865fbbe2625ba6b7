#!/usr/bin/env python3
"""agmodel-serve's API against agmodel-run and itself (ctest serve_api).

    serve_api.py AGMODEL_SERVE AGMODEL_RUN MODEL [EMULATOR...]

Starts the server on a free loopback port (--port 0) and checks, with
http.client and with curl:
  - greedy output through /v1/completions, /v1/chat/completions (plain
    template) and Ollama's /api/generate equals agmodel-run's for the same
    prompt (agmodel-run -n = prompt tokens + max_tokens - 1);
  - a streamed reply (server-sent events by curl -N; Ollama's NDJSON) is
    the whole reply in pieces, ending with data: [DONE], usage included
    when asked;
  - response_format json_object and json_schema, Ollama's format: the
    content parses and validates (python3-jsonschema);
  - prefix reuse: a 3-turn chat's later turns report cached prompt tokens
    and give what a fresh server gives for the same request;
  - /v1/models, /api/tags, /api/show, /api/version.
Every request is bounded in time; the servers are stopped at the end.
"""
import http.client
import json

import jsonschema  # python3-jsonschema (tools/setup.sh)
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from serve_util import start_server

SERVE, RUN, MODEL = sys.argv[1:4]
EMU = sys.argv[4:]
SLOW = 6 if EMU else 1
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok or not detail else ": " + str(detail)[:600]))
    if not ok:
        failures.append(name)


def start(extra=()):
    return start_server(EMU + [SERVE, "--model", MODEL, "--port", "0"] + list(extra), 30 * SLOW)


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=20 * SLOW)
    except subprocess.TimeoutExpired:
        p.kill()
        return "hung"


def request(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120 * SLOW)
    data = json.dumps(body) if body is not None else None
    c.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), raw


def post_json(port, path, body):
    status, _, raw = request(port, "POST", path, body)
    return status, json.loads(raw) if raw else None


def agmodel_run(prompt, steps):
    r = subprocess.run(EMU + [RUN, "-m", MODEL, "-p", prompt, "-n", str(steps)], capture_output=True,
                       timeout=120 * SLOW)
    return r.stdout.decode("utf-8", "replace")


def curl_stream(port, path, body):
    r = subprocess.run(["curl", "-sN", "--max-time", str(120 * SLOW), "-H", "Content-Type: application/json",
                        "-d", json.dumps(body), "http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, timeout=150 * SLOW)
    return r.returncode, r.stdout.decode("utf-8")


def main():
    server, port = start()
    # Greedy equality with agmodel-run.
    for prompt, k in [("Once upon a time", 40), ("The little dog", 25), ("", 20)]:
        st, j = post_json(port, "/v1/completions", {"prompt": prompt, "max_tokens": k, "temperature": 0})
        ok = st == 200
        if ok:
            n_prompt = j["usage"]["prompt_tokens"]
            want = agmodel_run(prompt, n_prompt + k - 1)
            got = prompt + j["choices"][0]["text"] + "\n"
            ok = got == want and j["usage"]["completion_tokens"] == k
            detail = "%r != %r" % (got, want)
        else:
            detail = j
        check("/v1/completions greedy = agmodel-run (%r, %d tokens)" % (prompt, k), ok, detail)
        st, j2 = post_json(port, "/api/generate", {"prompt": prompt, "stream": False,
                                                    "options": {"temperature": 0, "num_predict": k,
                                                                "repeat_penalty": 1}})
        check("/api/generate greedy = /v1/completions (%r)" % prompt,
              st == 200 and j2["response"] == j["choices"][0]["text"] and j2["done"] is True, j2)

    chat = {"messages": [{"role": "system", "content": "You tell stories."},
                         {"role": "user", "content": "A story about a cat"}],
            "max_tokens": 30, "temperature": 0}
    st, whole = post_json(port, "/v1/chat/completions", chat)
    check("/v1/chat/completions", st == 200 and whole["object"] == "chat.completion" and
          whole["choices"][0]["message"]["role"] == "assistant", whole)
    content = whole["choices"][0]["message"]["content"]
    # The plain template (docs/server.md) through agmodel-run.
    templ = "You tell stories.\n\nUser: A story about a cat\nAssistant:"
    want = agmodel_run(templ, whole["usage"]["prompt_tokens"] + 30 - 1)
    check("chat greedy = agmodel-run on the plain template", templ + content + "\n" == want,
          "%r != %r" % (templ + content, want))

    # Streaming, by curl: the pieces make the whole reply.
    rc, out = curl_stream(port, "/v1/chat/completions",
                          dict(chat, stream=True, stream_options={"include_usage": True}))
    events = [e[6:] for e in out.split("\n\n") if e.startswith("data: ")]
    pieces, usage, finish = "", None, None
    for e in events[:-1]:
        j = json.loads(e)
        if j["choices"]:
            pieces += j["choices"][0]["delta"].get("content", "")
            finish = j["choices"][0]["finish_reason"] or finish
        if j.get("usage"):
            usage = j["usage"]
    check("SSE stream by curl: the pieces are the reply, then [DONE]",
          rc == 0 and events and events[-1] == "[DONE]" and pieces == content and finish == "length" and
          usage is not None and usage["completion_tokens"] == 30, out[-500:])
    rc, out = curl_stream(port, "/api/chat", {"messages": chat["messages"],
                                              "options": {"temperature": 0, "num_predict": 30,
                                                                          "repeat_penalty": 1}})
    lines = [json.loads(x) for x in out.splitlines() if x.strip()]
    check("Ollama NDJSON stream by curl: the pieces are the reply",
          rc == 0 and lines and lines[-1]["done"] is True and
          "".join(x["message"]["content"] for x in lines) == content, out[-500:])

    # Structured output.
    st, j = post_json(port, "/v1/chat/completions", dict(chat, max_tokens=200, response_format={"type": "json_object"}))
    # A story model's strings run on: cut by max_tokens the text is an
    # object's beginning (finish_reason "length"); ended, it parses.
    try:
        text, finish = j["choices"][0]["message"]["content"], j["choices"][0]["finish_reason"]
        ok = st == 200 and text.startswith("{") and (finish == "length" or isinstance(json.loads(text), dict))
    except (ValueError, KeyError):
        ok = False
    check("response_format json_object: an object", ok, j)
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20},
                                               "age": {"type": "integer", "minimum": 0, "maximum": 120}},
              "required": ["name", "age"], "additionalProperties": False}
    st, j = post_json(port, "/v1/chat/completions",
                      dict(chat, max_tokens=200, response_format={"type": "json_schema",
                                                                  "json_schema": {"name": "p", "schema": schema,
                                                                                  "strict": True}}))
    try:
        value = json.loads(j["choices"][0]["message"]["content"])
        jsonschema.validate(value, schema)
        ok = st == 200
    except Exception as e:  # noqa: BLE001 (any failure is the test's)
        ok = False
        j = (j, e)
    check("response_format json_schema: valid for the schema", ok, j)
    st, j = post_json(port, "/api/generate", {"prompt": "Report:", "stream": False, "format": schema,
                                               "options": {"temperature": 0, "num_predict": 200}})
    try:
        jsonschema.validate(json.loads(j["response"]), schema)
        ok = st == 200
    except Exception as e:  # noqa: BLE001
        ok = False
        j = (j, e)
    check("Ollama format (a schema): valid for the schema", ok, j)

    # Tool calls: required, a named function, auto; the arguments validate
    # against the tool's schema; streamed, the call comes in one delta.
    params = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20},
                                               "days": {"type": "integer", "minimum": 1, "maximum": 7}},
              "required": ["city", "days"], "additionalProperties": False}
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
                                               "parameters": params}},
             {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {
                 "zone": {"enum": ["UTC", "CET"]}}, "required": ["zone"]}}}]
    ask = {"messages": [{"role": "user", "content": "Weather in Paris?"}], "max_tokens": 120, "temperature": 0,
           "tools": tools}
    for choice in ["required", {"type": "function", "function": {"name": "get_weather"}}]:
        st, j = post_json(port, "/v1/chat/completions", dict(ask, tool_choice=choice))
        try:
            call = j["choices"][0]["message"]["tool_calls"][0]["function"]
            schema_of = {"get_weather": params, "get_time": tools[1]["function"]["parameters"]}[call["name"]]
            jsonschema.validate(json.loads(call["arguments"]), schema_of)
            ok = (st == 200 and j["choices"][0]["finish_reason"] == "tool_calls" and
                  j["choices"][0]["message"]["content"] is None and
                  (isinstance(choice, str) or call["name"] == "get_weather"))
        except Exception as e:  # noqa: BLE001
            ok, j = False, (j, e)
        check("tool_choice %s: a call whose arguments validate" % json.dumps(choice), ok, j)
    rc, out = curl_stream(port, "/v1/chat/completions", dict(ask, tool_choice="required", stream=True))
    events = [json.loads(e[6:]) for e in out.split("\n\n") if e.startswith("data: {")]
    deltas = [e["choices"][0]["delta"] for e in events if e["choices"]]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    check("a streamed tool call", rc == 0 and len(calls) == 1 and events[-1]["choices"][0]["finish_reason"] ==
          "tool_calls" and json.loads(calls[0]["function"]["arguments"]) is not None, out[-600:])
    st, j = post_json(port, "/v1/chat/completions", dict(ask, tool_choice="auto"))
    msg = j["choices"][0]["message"] if st == 200 else {}
    check("tool_choice auto: text or a call", st == 200 and (msg.get("content") or msg.get("tool_calls")), j)
    st, j = post_json(port, "/v1/chat/completions", dict(ask, tool_choice="none"))
    check("tool_choice none: text", st == 200 and j["choices"][0]["message"]["content"] is not None and
          "tool_calls" not in j["choices"][0]["message"], j)
    follow = dict(ask, messages=ask["messages"] + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"days\":1}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 C"}], tool_choice="none")
    st, j = post_json(port, "/v1/chat/completions", follow)
    check("a turn after a tool result", st == 200 and j["choices"][0]["message"]["content"] is not None, j)
    st, j = post_json(port, "/v1/chat/completions", dict(ask, tool_choice={"type": "function",
                                                                           "function": {"name": "nope"}}))
    check("tool_choice naming no tool: 400 naming the field", st == 400 and j["error"]["param"] == "tool_choice", j)

    # Prefix reuse: a chat growing turn by turn.
    turns = ["Tell me about a bird", "What did it eat?", "Where did it sleep?"]
    messages = [{"role": "system", "content": "You tell short stories to children."}]
    replies = []
    for i, t in enumerate(turns):
        messages.append({"role": "user", "content": t})
        st, j = post_json(port, "/v1/chat/completions", {"messages": messages, "max_tokens": 12, "temperature": 0})
        if st != 200:
            check("turn %d" % (i + 1), False, j)
            break
        reply = j["choices"][0]["message"]["content"]
        cached = j["usage"]["prompt_tokens_details"]["cached_tokens"]
        replies.append((list(messages), reply, j["usage"]))
        if i > 0:
            prev = replies[i - 1][2]
            # All of the previous prompt is held, and most of its reply.
            check("turn %d reuses the prefix (cached %d of %d; the previous prompt was %d)" %
                  (i + 1, cached, j["usage"]["prompt_tokens"], prev["prompt_tokens"]),
                  cached >= prev["prompt_tokens"], j["usage"])
        messages.append({"role": "assistant", "content": reply})
    fresh, fport = start()
    for i, (msgs, reply, _) in enumerate(replies):
        st, j = post_json(fport, "/v1/chat/completions", {"messages": msgs, "max_tokens": 12, "temperature": 0})
        check("turn %d on a fresh server: the same reply" % (i + 1),
              st == 200 and j["choices"][0]["message"]["content"] == reply and
              j["usage"]["prompt_tokens_details"]["cached_tokens"] == 0, (j, reply))
        stop(fresh)
        fresh, fport = start()
    stop(fresh)

    # --system-prompt-cache: a snapshot of the system prompt's text (the
    # plain template's), restored at startup; the first request feeds only
    # what follows it, and replies as a server that computed everything.
    with tempfile.TemporaryDirectory() as tmp:
        system_txt = os.path.join(tmp, "system.txt")
        snap = os.path.join(tmp, "system.agms")
        with open(system_txt, "w") as f:
            f.write("You tell stories.\n\n")
        subprocess.run(EMU + [RUN, "-m", MODEL, "-f", system_txt, "-n", "16", "--prompt-cache", snap],
                       capture_output=True, timeout=120 * SLOW, check=True)
        cached_server, cport = start(["--system-prompt-cache", snap])
        st, j = post_json(cport, "/v1/chat/completions", chat)
        check("--system-prompt-cache: the system prompt restored (cached %s), the same reply" %
              (j.get("usage", {}).get("prompt_tokens_details") if j else None),
              st == 200 and j["choices"][0]["message"]["content"] == content and
              j["usage"]["prompt_tokens_details"]["cached_tokens"] >= 5, j)
        stop(cached_server)
        with open(snap, "r+b") as f:  # a damaged snapshot: the server refuses to start, with one line
            f.seek(100)
            f.write(b"\xff")
        r = subprocess.run(EMU + [SERVE, "--model", MODEL, "--port", "0", "--system-prompt-cache", snap],
                           capture_output=True, timeout=60 * SLOW)
        err = r.stderr.decode()
        check("a damaged --system-prompt-cache: exit 1 with one line", r.returncode == 1 and
              err.count("\n") == 1 and "--system-prompt-cache" in err, err)

    # Fixed memory: a grammar larger than --grammar-memory is refused in the
    # API's own error object (and the next request is served); a prompt text
    # longer than the context's tokens could hold is refused unencoded.
    small, sport = start(["--grammar-memory", "50000", "--ctx", "64"])
    st, j = post_json(sport, "/v1/chat/completions",
                      dict(chat, response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": schema}}))
    check("a grammar beyond --grammar-memory: 400 naming it (OpenAI)", st == 400 and
          "--grammar-memory" in j["error"]["message"], j)
    st, j = post_json(sport, "/api/generate", {"prompt": "Report:", "stream": False, "format": schema})
    check("a grammar beyond --grammar-memory: 400 naming it (Ollama's error object)", st == 400 and
          isinstance(j.get("error"), str) and "--grammar-memory" in j["error"], j)
    st, j = post_json(sport, "/v1/completions", {"prompt": "x" * 20000, "max_tokens": 2})
    check("a prompt text no 64-token context can hold: 400 naming its bytes", st == 400 and
          "20000 bytes" in j["error"]["message"], j)
    st, j = post_json(sport, "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 4, "temperature": 0})
    check("then a normal request", st == 200 and j["usage"]["completion_tokens"] == 4, j)
    stop(small)
    for i in range(3):  # the arena reused request after request: the same valid output each time
        st, j = post_json(port, "/api/generate", {"prompt": "Report:", "stream": False, "format": schema,
                                                   "options": {"temperature": 0, "num_predict": 200}})
        check("a schema request again (%d): 200, valid" % (i + 1), st == 200 and
              jsonschema.validate(json.loads(j["response"]), schema) is None, j)

    # --host takes numeric addresses only (no name service: the static ARMv6
    # build has none); a name is refused at startup with one line.
    r = subprocess.run(EMU + [SERVE, "--model", MODEL, "--port", "0", "--host", "board.example"],
                       capture_output=True, timeout=60 * SLOW)
    err = r.stderr.decode()
    check("--host with a name: exit 1, 'not a numeric address'", r.returncode == 1 and
          "not a numeric address" in err, err)

    # The listings.
    st, _, raw = request(port, "GET", "/v1/models")
    check("/v1/models", st == 200 and json.loads(raw)["data"][0]["object"] == "model", raw)
    st, _, raw = request(port, "GET", "/api/tags")
    check("/api/tags", st == 200 and json.loads(raw)["models"][0]["name"], raw)
    st, j = post_json(port, "/api/show", {"model": "x"})
    check("/api/show", st == 200 and "model_info" in j, j)
    st, _, raw = request(port, "GET", "/api/version")
    check("/api/version", st == 200 and "version" in json.loads(raw), raw)
    st, ctype, raw = request(port, "GET", "/")
    check("/ is the page, self-contained", st == 200 and ctype.startswith("text/html") and b"<script" in raw and
          b"src=" not in raw and b"http://" not in raw and b"https://" not in raw, raw[:200])

    check("SIGTERM stops the server", stop(server) == 0)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
