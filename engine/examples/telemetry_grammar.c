/*
 * telemetry_grammar.c: the compiled-in grammar of the constrained examples
 * (engine/examples/telemetry.c, the raspi0 image agm-raspi0-telemetry): a
 * field controller's report, in llama.cpp's GBNF dialect.
 */
#include "constrained.h"

const char agm_ex_telemetry_grammar[] =
    "# A soil probe's report, one JSON object, members in this order.\n"
    "root    ::= (\"{\\\"station\\\":\" station \",\\\"soil\\\":\" level \",\\\"temp_c\\\":\" temp\n"
    "             \",\\\"battery_pct\\\":\" pct \",\\\"action\\\":\" action \",\\\"note\\\":\\\"\" note \"\\\"}\")\n"
    "station ::= [1-9] | [1-5] [0-9] | \"6\" [0-4]\n"
    "level   ::= \"\\\"dry\\\"\" | \"\\\"ok\\\"\" | \"\\\"wet\\\"\"\n"
    "temp    ::= \"-\"? ([0-9] | [1-4] [0-9]) (\".\" [0-9])?\n"
    "pct     ::= [0-9] | [1-9] [0-9] | \"100\"\n"
    "action  ::= \"\\\"none\\\"\" | \"\\\"irrigate(\" [1-9] \")\\\"\" | \"\\\"alert\\\"\"\n"
    "note    ::= [a-zA-Z0-9 ,.]{0,32}\n";
