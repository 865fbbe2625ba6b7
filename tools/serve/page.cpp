// The page's bytes (page.S: page.html as it is in the source tree).
#include "page.h"

extern "C" const char agm_serve_page[];
extern "C" const char agm_serve_page_end[];

namespace agm_serve {

const std::string& page_html() {
    static const std::string page(agm_serve_page, agm_serve_page_end);
    return page;
}

}  // namespace agm_serve
