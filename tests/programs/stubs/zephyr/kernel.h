/*
 * A host stand-in for the Zephyr kernel APIs the sample exported by `ebnn export-c --layout
 * zephyr` uses, so the tests compile the sample with the host's compiler and run it:
 * K_THREAD_DEFINE(name, ...) defines stub_thread_<name>(), which runs the thread's entry once.
 * Not Zephyr.
 */
#ifndef ZEPHYR_KERNEL_STUB_H
#define ZEPHYR_KERNEL_STUB_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t k_cycle_get_32(void) { return 0; }

#define K_THREAD_DEFINE(name, stack_size, entry, p1, p2, p3, prio, options, delay)             \
    void stub_thread_##name(void);                                                              \
    void stub_thread_##name(void) { entry(p1, p2, p3); }                                        \
    extern int stub_thread_##name##_defined

#endif
