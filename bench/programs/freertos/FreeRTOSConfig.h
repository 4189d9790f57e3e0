/* FreeRTOS configuration of the simulator's RTOS benchmark (bench/freertos.py). */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#ifndef CPU_HZ
#define CPU_HZ 32000000
#endif
#ifndef PRIO_BITS
#define PRIO_BITS 3
#endif

#define configCPU_CLOCK_HZ (CPU_HZ)
#define configTICK_RATE_HZ 1000
#define configUSE_PREEMPTION 1
#define configUSE_TIME_SLICING 1
#define configUSE_PORT_OPTIMISED_TASK_SELECTION 0
#define configUSE_TICKLESS_IDLE 0
#define configMAX_PRIORITIES 5
#define configMINIMAL_STACK_SIZE 128
#define configMAX_TASK_NAME_LEN 8
#define configTICK_TYPE_WIDTH_IN_BITS TICK_TYPE_WIDTH_32_BITS
#define configIDLE_SHOULD_YIELD 1
#define configUSE_TASK_NOTIFICATIONS 0
#define configUSE_MUTEXES 0
#define configUSE_RECURSIVE_MUTEXES 0
#define configUSE_COUNTING_SEMAPHORES 0
#define configQUEUE_REGISTRY_SIZE 0
#define configUSE_QUEUE_SETS 0
#define configUSE_NEWLIB_REENTRANT 0
#define configENABLE_BACKWARD_COMPATIBILITY 0
#define configSUPPORT_STATIC_ALLOCATION 1
#define configSUPPORT_DYNAMIC_ALLOCATION 0
#define configKERNEL_PROVIDED_STATIC_MEMORY 0
#define configUSE_IDLE_HOOK 1
#define configUSE_TICK_HOOK 1
#define configCHECK_FOR_STACK_OVERFLOW 0
#define configUSE_MALLOC_FAILED_HOOK 0
#define configUSE_TRACE_FACILITY 0
#define configGENERATE_RUN_TIME_STATS 0
#define configUSE_CO_ROUTINES 0
#define configUSE_TIMERS 0
#define configENABLE_MPU 0
#define configENABLE_FPU 0
#define configENABLE_MVE 0
#define configENABLE_TRUSTZONE 0
#define configRUN_FREERTOS_SECURE_ONLY 0

/* The lowest priority for the kernel's own interrupts; ISRs that call FromISR functions may
 * not be more urgent than configMAX_SYSCALL_INTERRUPT_PRIORITY. */
#define configPRIO_BITS PRIO_BITS
#define configKERNEL_INTERRUPT_PRIORITY (0xFFu)
#define configMAX_SYSCALL_INTERRUPT_PRIORITY (1u << (8 - configPRIO_BITS))

/* The ports' handlers under the vector table's CMSIS names (firmware/irq_startup.c); the
 * ARM_CM0 port defines SVC_Handler, PendSV_Handler and SysTick_Handler itself. */
#define vPortSVCHandler SVC_Handler
#define xPortPendSVHandler PendSV_Handler
#define xPortSysTickHandler SysTick_Handler
#define INCLUDE_vTaskDelay 1
#define INCLUDE_vTaskDelete 1
#define INCLUDE_vTaskSuspend 1
#define INCLUDE_xTaskGetSchedulerState 0
#define INCLUDE_vTaskPrioritySet 0
#define INCLUDE_uxTaskPriorityGet 0
/* STACK_REPORT: the control task prints each task's stack use as FreeRTOS measures it (stacks
 * painted at creation, uxTaskGetStackHighWaterMark), to check the simulator's peaks against */
#ifdef STACK_REPORT
#define INCLUDE_uxTaskGetStackHighWaterMark 1
#define INCLUDE_xTaskGetIdleTaskHandle 1
#endif

#endif
