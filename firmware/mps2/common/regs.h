/* Register addresses for mps2-an385 (ARM AN385, CMSDK APB peripherals) and the Cortex-M3
 * System Control Space (ARMv7-M Architecture Reference Manual). Written for boardemu. */
#ifndef REGS_H
#define REGS_H
#include <stdint.h>
#define REG(a) (*(volatile uint32_t *)(a))

/* CMSDK APB UART0 */
#define UART0_DATA   REG(0x40004000)
#define UART0_STATE  REG(0x40004004)
#define UART0_CTRL   REG(0x40004008)
/* CMSDK APB timers */
#define TIMER0_BASE  0x40000000u
#define TIMER1_BASE  0x40001000u
#define TIMER_CTRL(b)      REG((b) + 0x00)
#define TIMER_VALUE(b)     REG((b) + 0x04)
#define TIMER_RELOAD(b)    REG((b) + 0x08)
#define TIMER_INTCLEAR(b)  REG((b) + 0x0C)
#define TIMER_EN     1u
#define TIMER_IRQEN  8u
#define TIMER0_IRQ   8
#define TIMER1_IRQ   9

/* System Control Space */
#define SYST_CSR   REG(0xE000E010)
#define SYST_RVR   REG(0xE000E014)
#define SYST_CVR   REG(0xE000E018)
#define NVIC_ISER  REG(0xE000E100)
#define NVIC_ICER  REG(0xE000E180)
#define NVIC_ISPR  REG(0xE000E200)
#define NVIC_ICPR  REG(0xE000E280)
#define NVIC_IABR  REG(0xE000E300)
#define NVIC_IPR_B ((volatile uint8_t *)0xE000E400)
#define SCB_ICSR   REG(0xE000ED04)
#define SCB_VTOR   REG(0xE000ED08)
#define SCB_AIRCR  REG(0xE000ED0C)
#define SCB_SCR    REG(0xE000ED10)
#define SCB_SHPR2  REG(0xE000ED1C)
#define SCB_SHPR3  REG(0xE000ED20)
#define SCB_CFSR   REG(0xE000ED28)
#define SCB_HFSR   REG(0xE000ED2C)

#define ICSR_PENDSVSET (1u << 28)
#define ICSR_VECTACTIVE_MASK 0x1FFu

static inline uint32_t get_ipsr(void) { uint32_t v; __asm volatile("mrs %0, ipsr" : "=r"(v)); return v; }
static inline uint32_t get_primask(void) { uint32_t v; __asm volatile("mrs %0, primask" : "=r"(v)); return v; }
static inline void irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
static inline void set_basepri(uint32_t v) { __asm volatile("msr basepri, %0\n isb" :: "r"(v) : "memory"); }
static inline void nvic_enable(int irq) { NVIC_ISER = 1u << irq; }
static inline void barrier(void) { __asm volatile("dsb\n isb" ::: "memory"); }
/* pend, then DSB+ISB: the architecture only guarantees the pend is seen after these */
static inline void nvic_pend(int irq) { NVIC_ISPR = 1u << irq; barrier(); }
static inline void nvic_prio(int irq, uint8_t p) { NVIC_IPR_B[irq] = p; }
#endif
