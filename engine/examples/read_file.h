/*
 * read_file.h: the examples' file reading (what a firmware gets from flash
 * for free): the whole file in one 64-byte aligned block. C99.
 */
#ifndef AGM_EXAMPLES_READ_FILE_H
#define AGM_EXAMPLES_READ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads the whole file into a 64-byte aligned block: *base is what to free.
 * NULL if it cannot be read (or is empty). */
static unsigned char* agm_ex_read_file(const char* path, size_t* size, void** base) {
    FILE* f = fopen(path, "rb");
    long n;
    unsigned char* p;
    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    *base = malloc((size_t)n + 63);
    if (*base == NULL) {
        fclose(f);
        return NULL;
    }
    p = (unsigned char*)(((uintptr_t)*base + 63) & ~(uintptr_t)63);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*base);
        return NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return p;
}

#endif
