// PL011 UART0 output, polled. Register map (BCM2835 ARM Peripherals, 13.4):
//   0x20201000 DR  data: a write queues one byte
//   0x20201018 FR  flags: bit 5 TXFF, the transmit FIFO is full
// The GPU firmware has set the baud rate and enabled the UART on a real Pi
// (enable_uart=1 in config.txt); QEMU's model needs no set-up.
#include "uart.h"

#include <stdint.h>

#define AGM_UART0_BASE 0x20201000u
#define AGM_UART_DR (*(volatile uint32_t*)(AGM_UART0_BASE + 0x00))
#define AGM_UART_FR (*(volatile uint32_t*)(AGM_UART0_BASE + 0x18))
#define AGM_UART_FR_TXFF (1u << 5)

void agm_uart_write(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        while (AGM_UART_FR & AGM_UART_FR_TXFF) {
        }
        AGM_UART_DR = (uint8_t)s[i];
    }
}

void agm_uart_puts(const char* s) {
    size_t n = 0;
    while (s[n] != '\0') ++n;
    agm_uart_write(s, n);
}
