/* Register definitions for mps2-an385 (ARM AN385: CMSDK APB UART and timers) and for the
 * Cortex-M3 System Control Space (ARMv7-M Architecture Reference Manual). Written for boardemu
 * from the public documentation; only what the test programs use. */
#ifndef REGS_H
#define REGS_H
#include <stdint.h>

#define REG(a)  (*(volatile uint32_t *)(uintptr_t)(a))
#define REG8(a) (*(volatile uint8_t *)(uintptr_t)(a))

/* ---- CMSDK APB UART0 (RX IRQ 0, TX IRQ 1) ---- */
#define UART0_BASE      0x40004000u
#define UART0_DATA      REG(UART0_BASE + 0x00)
#define UART0_STATE     REG(UART0_BASE + 0x04)
#define UART0_CTRL      REG(UART0_BASE + 0x08)
#define UART0_INTSTATUS REG(UART0_BASE + 0x0C)      /* write: INTCLEAR */
#define UART0_BAUDDIV   REG(UART0_BASE + 0x10)
#define UART_STATE_TXFULL  (1u << 0)
#define UART_STATE_RXFULL  (1u << 1)
#define UART_CTRL_TXEN     (1u << 0)
#define UART_CTRL_RXEN     (1u << 1)

/* ---- CMSDK APB timers: VALUE counts down at the 25 MHz APB clock ---- */
#define TIMER0_BASE     0x40000000u
#define TIMER1_BASE     0x40001000u
#define TIMER_CTRL(b)      REG((b) + 0x00)
#define TIMER_VALUE(b)     REG((b) + 0x04)
#define TIMER_RELOAD(b)    REG((b) + 0x08)
#define TIMER_INTSTATUS(b) REG((b) + 0x0C)          /* write 1: INTCLEAR */
#define TIMER_INTCLEAR(b)  REG((b) + 0x0C)
#define TIMER_EN        (1u << 0)
#define TIMER_IRQEN     (1u << 3)
#define TIMER0_IRQ      8
#define TIMER1_IRQ      9
#define SYSCLK_HZ       25000000u

/* ---- System Control Space: SysTick ---- */
#define SYST_CSR        REG(0xE000E010)
#define SYST_RVR        REG(0xE000E014)
#define SYST_CVR        REG(0xE000E018)
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)                /* 1: processor clock */
#define SYST_CSR_COUNTFLAG (1u << 16)

/* ---- NVIC (first word of each bank: IRQs 0..31, all AN385 has) ---- */
#define NVIC_ISER       REG(0xE000E100)
#define NVIC_ICER       REG(0xE000E180)
#define NVIC_ISPR       REG(0xE000E200)
#define NVIC_ICPR       REG(0xE000E280)
#define NVIC_IABR       REG(0xE000E300)
#define NVIC_IPR(irq)   REG8(0xE000E400 + (irq))   /* one priority byte per IRQ */

/* ---- System Control Block ---- */
#define SCB_ICSR        REG(0xE000ED04)
#define SCB_VTOR        REG(0xE000ED08)
#define SCB_AIRCR       REG(0xE000ED0C)
#define SCB_SCR         REG(0xE000ED10)
#define SCB_SHPR2       REG(0xE000ED1C)             /* SVCall priority: bits 31:24 */
#define SCB_SHPR3       REG(0xE000ED20)             /* PendSV 23:16, SysTick 31:24 */
#define SCB_CFSR        REG(0xE000ED28)
#define SCB_HFSR        REG(0xE000ED2C)
#define SCB_BFAR        REG(0xE000ED38)

#define ICSR_VECTACTIVE_MASK 0x1FFu
#define ICSR_PENDSTSET  (1u << 26)
#define ICSR_PENDSVSET  (1u << 28)
#define AIRCR_VECTKEY   (0x05FAu << 16)
#define AIRCR_SYSRESETREQ (1u << 2)
#define HFSR_FORCED     (1u << 30)
#define CFSR_PRECISERR  (1u << 9)                   /* BusFault status: CFSR bits 15:8 */
#define CFSR_IMPRECISERR (1u << 10)
#define CFSR_BFARVALID  (1u << 15)

/* Exception numbers (IPSR / VECTACTIVE values) */
#define EXC_HARDFAULT   3
#define EXC_SVCALL      11
#define EXC_PENDSV      14
#define EXC_SYSTICK     15
#define EXC_IRQ(n)      (16 + (n))

/* EXC_RETURN values seen in LR on exception entry */
#define EXC_RETURN_HANDLER    0xFFFFFFF1u
#define EXC_RETURN_THREAD_MSP 0xFFFFFFF9u
#define EXC_RETURN_THREAD_PSP 0xFFFFFFFDu

/* ---- core special registers and hints ---- */
static inline uint32_t get_ipsr(void) { uint32_t v; __asm volatile("mrs %0, ipsr" : "=r"(v)); return v; }
static inline uint32_t get_primask(void) { uint32_t v; __asm volatile("mrs %0, primask" : "=r"(v)); return v; }
static inline uint32_t get_basepri(void) { uint32_t v; __asm volatile("mrs %0, basepri" : "=r"(v)); return v; }
static inline uint32_t get_control(void) { uint32_t v; __asm volatile("mrs %0, control" : "=r"(v)); return v; }
static inline void set_basepri(uint32_t v) { __asm volatile("msr basepri, %0\n isb" :: "r"(v) : "memory"); }
static inline void irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
static inline void barrier(void) { __asm volatile("dsb\n isb" ::: "memory"); }
static inline void wfi(void) { __asm volatile("wfi" ::: "memory"); }

/* ---- NVIC helpers ---- */
static inline void nvic_enable(int irq) { NVIC_ISER = 1u << irq; }
static inline void nvic_prio(int irq, uint8_t p) { NVIC_IPR(irq) = p; }
/* Pend, then DSB+ISB: the architecture guarantees the pend is seen only after these. */
static inline void nvic_pend(int irq) { NVIC_ISPR = 1u << irq; barrier(); }
static inline void pendsv_set(void) { SCB_ICSR = ICSR_PENDSVSET; barrier(); }

#endif
