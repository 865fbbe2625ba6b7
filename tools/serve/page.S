/* page.html, linked into agmodel-serve (page.cpp). AGM_SERVE_PAGE is a quoted path. */
    .section .rodata
    .global agm_serve_page
agm_serve_page:
    .incbin AGM_SERVE_PAGE
    .global agm_serve_page_end
agm_serve_page_end:
    .section .note.GNU-stack,"",%progbits
