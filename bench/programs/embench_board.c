/*
 * Board layer for Embench-IoT under ebnn-sim (bench/embench.py); this project's own code.
 *
 * Embench's support/main.c calls initialise_board(), then start_trigger() and stop_trigger()
 * around its single call of benchmark(). On hardware the triggers start and stop a cycle
 * counter (the baseline's STM32F407 uses DWT->CYCCNT); here they only mark two addresses: the
 * simulator records, in C, the instructions and estimated cycles retired when execution
 * reaches each (Simulator.add_marks), so benchmark() is measured from the first instruction
 * after start_trigger returns to the call of stop_trigger.
 *
 * Both are noinline and hold only a compiler barrier, so the compiler can neither move work
 * across them nor merge them: each costs a call and a return (a few cycles), as on hardware.
 * The exit status is main's: 0 when the benchmark's own verify_benchmark() passed.
 */

void initialise_board(void) __attribute__((noinline, noipa));
void start_trigger(void) __attribute__((noinline, noipa));
void stop_trigger(void) __attribute__((noinline, noipa));

void initialise_board(void)
{
    __asm__ volatile("" ::: "memory");
}

void start_trigger(void)
{
    __asm__ volatile("" ::: "memory");
}

void stop_trigger(void)
{
    __asm__ volatile("" ::: "memory");
}
