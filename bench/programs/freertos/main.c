/*
 * The RTOS benchmark: FreeRTOS with five tasks on static stacks.
 *   producer  (priority 2) sends 1..5 to a queue, one every 10 ticks (vTaskDelay)
 *   consumer  (priority 2) receives them (blocking) and prints each with the tick
 *   waiter    (priority 3) takes a binary semaphore given from an interrupt handler: the tick
 *             hook pends IRQ0 at ticks 25, 55 and 85, IRQ0's handler gives the semaphore
 *   spinner a, b (priority 1) never block: time slicing shares the CPU between them every tick
 *             (on FPU parts they compute in floating point, so switches save FP frames)
 *   control   (priority 4) stops the spinners at tick 100, lets the idle task sleep in WFI for
 *             20 ticks, prints the summary and exits.
 * Every line is one semihosting call, so lines never interleave. The output depends only on
 * the order of ticks, the same under QEMU.
 */
#include <stdint.h>

#include "FreeRTOS.h"
#include "queue.h"
#include "semphr.h"
#include "task.h"

#include "semihost.h"

#define STACK_WORDS 160
#define NVIC_ISPR0 (*(volatile uint32_t *)0xE000E200u)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_IPR0 (*(volatile uint32_t *)0xE000E400u)

static StaticTask_t tcb_producer, tcb_consumer, tcb_waiter, tcb_spin_a, tcb_spin_b, tcb_control,
    tcb_idle;
StackType_t stack_producer[STACK_WORDS], stack_consumer[STACK_WORDS], stack_waiter[STACK_WORDS],
    stack_spin_a[STACK_WORDS], stack_spin_b[STACK_WORDS], stack_control[STACK_WORDS],
    stack_idle[configMINIMAL_STACK_SIZE];

static StaticQueue_t queue_state;
static uint8_t queue_storage[4 * sizeof(uint32_t)];
static QueueHandle_t queue;
static StaticSemaphore_t sem_state;
static SemaphoreHandle_t sem;
static TaskHandle_t spinner_a, spinner_b, producer_task, consumer_task, waiter_task,
    control_task;

static volatile uint32_t spins[2];
static volatile uint32_t consumed, taken, idle_calls;
static volatile int stop_spinning;

/* "text N at tick T" as one console write */
static void report(const char *text, uint32_t n, int with_n)
{
    char line[64];
    char *p = line;
    for (const char *s = text; *s; s++)
        *p++ = *s;
    uint32_t values[2] = {n, (uint32_t)xTaskGetTickCount()};
    for (int k = with_n ? 0 : 1; k < 2; k++) {
        if (k == 1)
            for (const char *s = " at tick "; *s; s++)
                *p++ = *s;
        else
            *p++ = ' ';
        char digits[12];
        int d = 0;
        uint32_t v = values[k];
        do {
            digits[d++] = (char)('0' + v % 10u);
            v /= 10u;
        } while (v);
        while (d)
            *p++ = digits[--d];
    }
    *p++ = '\n';
    *p = 0;
    sh_write0(line);
}

static void producer(void *arg)
{
    (void)arg;
    for (uint32_t i = 1; i <= 5; i++) {
        vTaskDelay(10);
        xQueueSend(queue, &i, portMAX_DELAY);
    }
    vTaskSuspend(NULL);
}

static void consumer(void *arg)
{
    (void)arg;
    for (;;) {
        uint32_t v;
        xQueueReceive(queue, &v, portMAX_DELAY);
        consumed++;
        report("consumer: got", v, 1);
    }
}

static void waiter(void *arg)
{
    (void)arg;
    for (;;) {
        xSemaphoreTake(sem, portMAX_DELAY);
        taken++;
        report("waiter: semaphore from the ISR", 0, 0);
    }
}

static void spinner(void *arg)
{
    uint32_t which = (uint32_t)(uintptr_t)arg;
#if defined(__ARM_FP)
    volatile float x = 1.0f;
#endif
    while (!stop_spinning) {
        spins[which]++;
#if defined(__ARM_FP)
        x = x * 0.5f + 1.0f;
#endif
    }
    vTaskSuspend(NULL);
}

#ifdef STACK_REPORT
/* "stack_<task> <bytes> at tick T" per task: the bytes below the top of its stack array that
 * were ever written, as FreeRTOS measures it (its free words: those still holding the fill
 * pattern painted at creation, counted from the bottom) */
static void stack_report(void)
{
    const struct {
        const char *name;
        TaskHandle_t task;
        uint32_t words;
    } tasks[] = {{"stack_producer", producer_task, STACK_WORDS},
                 {"stack_consumer", consumer_task, STACK_WORDS},
                 {"stack_waiter", waiter_task, STACK_WORDS},
                 {"stack_spin_a", spinner_a, STACK_WORDS},
                 {"stack_spin_b", spinner_b, STACK_WORDS},
                 {"stack_control", control_task, STACK_WORDS},
                 {"stack_idle", xTaskGetIdleTaskHandle(), configMINIMAL_STACK_SIZE}};
    for (unsigned i = 0; i < sizeof tasks / sizeof tasks[0]; i++) {
        uint32_t free_words = (uint32_t)uxTaskGetStackHighWaterMark(tasks[i].task);
        report(tasks[i].name, 4u * (tasks[i].words - free_words), 1);
    }
}
#endif

static void control(void *arg)
{
    (void)arg;
    vTaskDelay(100);
    stop_spinning = 1;
    vTaskDelay(20); /* the spinners suspend themselves; the idle task sleeps in WFI */
    sh_write0(spins[0] && spins[1] ? "time slicing: both spinners ran\n"
                                   : "time slicing: a spinner starved\n");
    report("items consumed", consumed, 1);
    report("semaphores taken", taken, 1);
    sh_write0(idle_calls ? "idle task ran\n" : "idle task never ran\n");
#ifdef STACK_REPORT
    stack_report();
#endif
    sh_exit(0);
}

void IRQ0_Handler(void)
{
    BaseType_t woken = pdFALSE;
    xSemaphoreGiveFromISR(sem, &woken);
    portYIELD_FROM_ISR(woken);
}

void vApplicationTickHook(void)
{
    if (xTaskGetTickCountFromISR() % 30u == 25u)
        NVIC_ISPR0 = 1u; /* the "device" raises IRQ0 */
}

void vApplicationIdleHook(void)
{
    idle_calls++;
    __asm__ volatile("wfi");
}

void vApplicationGetIdleTaskMemory(StaticTask_t **tcb, StackType_t **stack, configSTACK_DEPTH_TYPE *words)
{
    *tcb = &tcb_idle;
    *stack = stack_idle;
    *words = configMINIMAL_STACK_SIZE;
}

int main(void)
{
    queue = xQueueCreateStatic(4, sizeof(uint32_t), queue_storage, &queue_state);
    sem = xSemaphoreCreateBinaryStatic(&sem_state);
    NVIC_IPR0 = 0xFFu; /* IRQ0 at the kernel's priority: it may call FromISR functions */
    NVIC_ISER0 = 1u;
    producer_task = xTaskCreateStatic(producer, "prod", STACK_WORDS, NULL, 2, stack_producer,
                                      &tcb_producer);
    consumer_task = xTaskCreateStatic(consumer, "cons", STACK_WORDS, NULL, 2, stack_consumer,
                                      &tcb_consumer);
    waiter_task = xTaskCreateStatic(waiter, "wait", STACK_WORDS, NULL, 3, stack_waiter,
                                    &tcb_waiter);
    spinner_a = xTaskCreateStatic(spinner, "spin a", STACK_WORDS, (void *)0, 1, stack_spin_a,
                                  &tcb_spin_a);
    spinner_b = xTaskCreateStatic(spinner, "spin b", STACK_WORDS, (void *)1, 1, stack_spin_b,
                                  &tcb_spin_b);
    control_task = xTaskCreateStatic(control, "ctrl", STACK_WORDS, NULL, 4, stack_control,
                                     &tcb_control);
    sh_write0("starting the scheduler\n");
    vTaskStartScheduler();
    return 1; /* the scheduler does not return */
}
