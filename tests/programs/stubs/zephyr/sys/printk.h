/* Host stand-in for Zephyr's printk (see ../kernel.h). */
#ifndef ZEPHYR_PRINTK_STUB_H
#define ZEPHYR_PRINTK_STUB_H

#include <stdio.h>

#define printk printf

#endif
