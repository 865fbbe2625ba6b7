/* Compiles agmodel.h as strict C89 (-std=c89 -pedantic-errors): the header
   must stay usable from any C compiler firmware is built with. */
#include "agmodel.h"

int agm_header_c89_check(void) { return (int)AGM_OK; }
