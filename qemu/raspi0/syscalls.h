// The firmware's C runtime glue: semihosting exit and console, memory figures.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void _exit(int status) __attribute__((noreturn));
// Writes a NUL-terminated string to the debugger's console (QEMU: its
// stderr) through semihosting SYS_WRITE0: kept apart from the UART text.
void agm_fw_semihost_puts(const char* s);
size_t agm_fw_heap_peak(void);   // bytes of heap _sbrk handed out, at most
size_t agm_fw_heap_size(void);   // bytes of heap the linker script provides
size_t agm_fw_stack_peak(void);  // bytes of the SVC stack ever written (paint check)
size_t agm_fw_stack_size(void);

#ifdef __cplusplus
}
#endif
