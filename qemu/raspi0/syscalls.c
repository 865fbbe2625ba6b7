// newlib's system calls for the bare-metal image, only those the link
// needs: _sbrk (the heap of raspi0.ld), _write (UART), _exit (semihosting),
// __assert_func (newlib's own drags in stdio streams), and posix_memalign, which newlib 3.3 declares but does not implement.
// Also the fatal-exception report of start.S and the memory figures.
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "syscalls.h"
#include "uart.h"

extern char __heap_start[], __heap_end[];
extern char __stack_bottom[], __stack_top[];

// Semihosting (ARM state): r0 = operation, r1 = argument; QEMU with
// -semihosting traps `svc 0x123456` before it reaches the vector table.
// Without a host (a real Pi) the SVC vector just returns (start.S).
static int semihost(int op, const void* arg) {
    register int r0 __asm__("r0") = op;
    register const void* r1 __asm__("r1") = arg;
    __asm__ volatile("svc 0x123456" : "+r"(r0) : "r"(r1) : "memory", "lr");
    return r0;
}
enum {
    kSysWrite0 = 0x04,
    kSysExit = 0x18,
    kSysExitExtended = 0x20,
    kAdpStoppedApplicationExit = 0x20026,
    kAdpStoppedRunTimeErrorUnknown = 0x20023,
};

void agm_fw_semihost_puts(const char* s) { semihost(kSysWrite0, s); }

void _exit(int status) {
    // SYS_EXIT_EXTENDED carries the status (QEMU: the process exit code);
    // plain SYS_EXIT only "ended well" or not, if the host lacks it.
    const uint32_t block[2] = {kAdpStoppedApplicationExit, (uint32_t)status};
    semihost(kSysExitExtended, block);
    semihost(kSysExit, (const void*)(uintptr_t)(status == 0 ? kAdpStoppedApplicationExit
                                                            : kAdpStoppedRunTimeErrorUnknown));
    for (;;) __asm__ volatile("wfi");  // no debugger: stop here
}

static char* heap_top = __heap_start;
static size_t heap_peak;

void* _sbrk(ptrdiff_t incr) {
    char* old = heap_top;
    if (incr > __heap_end - heap_top || incr < __heap_start - heap_top) {
        errno = ENOMEM;
        return (void*)-1;
    }
    heap_top += incr;
    if ((size_t)(heap_top - __heap_start) > heap_peak) heap_peak = (size_t)(heap_top - __heap_start);
    return old;
}

int _write(int fd, const char* buf, int n) {
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    agm_uart_write(buf, (size_t)n);
    return n;
}

int posix_memalign(void** out, size_t alignment, size_t size) {
    void* p = memalign(alignment, size);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

size_t agm_fw_heap_peak(void) { return heap_peak; }
size_t agm_fw_heap_size(void) { return (size_t)(__heap_end - __heap_start); }
size_t agm_fw_stack_size(void) { return (size_t)(__stack_top - __stack_bottom); }

size_t agm_fw_stack_peak(void) {
    const uint32_t* p = (const uint32_t*)__stack_bottom;
    while ((const char*)p < __stack_top && *p == 0xa5a5a5a5u) ++p;
    return (size_t)(__stack_top - (const char*)p);
}

// newlib's assert (dtoa.c has some, behind snprintf's %f): report on the
// UART and stop. Defined here, it also keeps newlib's version, which pulls
// in FILE streams, abort() and the _close/_lseek/_read/_kill stubs, out.
void __assert_func(const char* file, int line, const char* func, const char* expr) {
    char msg[160];
    snprintf(msg, sizeof msg, "\nagm-fw: assertion \"%s\" failed: %s:%d (%s)\n", expr, file, line,
             func ? func : "");
    agm_uart_puts(msg);
    _exit(1);
}

// Called by start.S's exception handlers (on the exception stack).
void agm_fw_fault(int kind, uint32_t address) {
    static const char* const names[] = {"unexpected interrupt", "undefined instruction",
                                        "SVC", "prefetch abort", "data abort"};
    char line[128];
    snprintf(line, sizeof line, "\nagm-fw: %s at 0x%08lx\n", names[kind], (unsigned long)address);
    agm_uart_puts(line);
    _exit(1);
}
