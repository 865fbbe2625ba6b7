// PL011 UART0 of the BCM2835 (the Pi Zero's GPIO 14/15 serial port;
// QEMU's raspi0 serial0). Polled output only, no interrupts.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Sends n bytes as they are: no newline translation (see docs/firmware.md).
void agm_uart_write(const char* s, size_t n);
void agm_uart_puts(const char* s);  // a NUL-terminated string, as it is

#ifdef __cplusplus
}
#endif
