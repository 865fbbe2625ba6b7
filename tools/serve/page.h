// The web page agmodel-serve serves at "/": one self-contained HTML file
// (no external script, font or stylesheet: a phone on the board's Wi-Fi has
// no internet), page.html compiled into the binary (page.cpp).
#ifndef AGM_SERVE_PAGE_H
#define AGM_SERVE_PAGE_H

#include <string>

namespace agm_serve {

const std::string& page_html();

}  // namespace agm_serve

#endif
