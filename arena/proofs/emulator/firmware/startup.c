/* Vector table, reset handler, fault and SysTick handlers for arena's emulator firmware.
 *
 * Written for arena (Apache-2.0). Runs on QEMU's Arm MPS2/MPS3 boards with semihosting: the
 * reset handler copies .data from its load address, zeroes .bss, enables the FPU/MVE
 * coprocessors when the build uses them, runs C++ static constructors and calls main(). A fault
 * prints one "fault ..." line over semihosting and stops the emulator, so a crash is never
 * mistaken for a result. SysTick counts the core clock; its wrap interrupt extends it to 64 bits.
 */
#include <stdint.h>

extern uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__, __StackTop;
extern void __libc_init_array(void);
extern int arena_main(void);
extern void arena_semihost_write0(const char* text);
extern void arena_semihost_exit(int ok);

#define REG32(address) (*(volatile uint32_t*)(address))
#define SCB_CPACR 0xE000ED88u
#define SCB_SHCSR 0xE000ED24u
#define SCB_CFSR 0xE000ED28u
#define SCB_HFSR 0xE000ED2Cu
#define SCB_MMFAR 0xE000ED34u
#define SCB_BFAR 0xE000ED38u

volatile uint32_t arena_systick_wraps;

static void put_hex(char* out, uint32_t value) {
  for (int i = 7; i >= 0; --i) {
    uint32_t nibble = (value >> (4 * (7 - i))) & 0xFu;
    out[i] = (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
  }
}

/* Prints "fault <kind> cfsr=.. hfsr=.. mmfar=.. bfar=.. pc=.." and stops QEMU (exit status 1). */
void arena_fault(uint32_t kind, const uint32_t* frame) {
  char line[] = "fault k cfsr=xxxxxxxx hfsr=xxxxxxxx mmfar=xxxxxxxx bfar=xxxxxxxx pc=xxxxxxxx\n";
  line[6] = (char)('0' + kind);
  put_hex(line + 13, REG32(SCB_CFSR));
  put_hex(line + 27, REG32(SCB_HFSR));
  put_hex(line + 42, REG32(SCB_MMFAR));
  put_hex(line + 56, REG32(SCB_BFAR));
  put_hex(line + 68, frame != 0 ? frame[6] : 0u);
  arena_semihost_write0(line);
  arena_semihost_exit(0);
  for (;;) {
  }
}

/* Each fault handler passes its number and the stacked exception frame (MSP: no RTOS here). */
#define FAULT_HANDLER(name, kind)                  \
  __attribute__((naked)) void name(void) {         \
    __asm volatile("mrs r1, msp\n"                 \
                   "movs r0, #" #kind "\n"         \
                   "ldr r2, =arena_fault\n"        \
                   "bx r2\n");                     \
  }
FAULT_HANDLER(NMI_Handler, 2)
FAULT_HANDLER(HardFault_Handler, 3)
FAULT_HANDLER(MemManage_Handler, 4)
FAULT_HANDLER(BusFault_Handler, 5)
FAULT_HANDLER(UsageFault_Handler, 6)
FAULT_HANDLER(SecureFault_Handler, 7)
FAULT_HANDLER(Default_Handler, 1)

void SysTick_Handler(void) { arena_systick_wraps++; }

#if defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__)
/* PMSAv7: make the first KiB (the vector table at address 0) read-only, so that a kernel writing
 * through a null pointer (an allocation that failed in a too-small arena) faults instead of
 * silently overwriting the vectors, as it would on a board with RAM at address 0. */
static void guard_null_page(void) {
  REG32(0xE000ED98u) = 0;                                   /* MPU_RNR: region 0 */
  REG32(0xE000ED9Cu) = 0;                                   /* MPU_RBAR: base 0 */
  REG32(0xE000EDA0u) = (6u << 24) | (9u << 1) | 1u;         /* RASR: AP=RO, 1 KiB, enable */
  REG32(0xE000ED94u) = (1u << 2) | 1u;                      /* MPU_CTRL: PRIVDEFENA | ENABLE */
  __asm volatile("dsb\nisb" ::: "memory");
}
#elif defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
/* PMSAv8 (Cortex-M33, M55): the same guard. It matters more here: on the AN505/AN547 address 0 is
 * the Non-secure alias of the code memory that holds the vector table at 0x10000000, so a write
 * through a null pointer overwrote the fault vectors and the next fault locked QEMU up ("can't
 * escalate to HardFault") instead of printing a fault line. */
static void guard_null_page(void) {
  REG32(0xE000EDC0u) = 0x44u;                               /* MPU_MAIR0: attr 0 normal, non-cacheable */
  REG32(0xE000ED98u) = 0;                                   /* MPU_RNR: region 0 */
  REG32(0xE000ED9Cu) = 3u << 1;                             /* RBAR: base 0, AP=read-only, executable */
  REG32(0xE000EDA0u) = 0x3E0u | 1u;                         /* RLAR: limit 0x3FF, attr 0, enable */
  REG32(0xE000ED94u) = (1u << 2) | 1u;                      /* MPU_CTRL: PRIVDEFENA | ENABLE */
  __asm volatile("dsb\nisb" ::: "memory");
}
#endif

void Reset_Handler(void) {
  uint32_t* source = &__data_load__;
  for (uint32_t* target = &__data_start__; target < &__data_end__;) *target++ = *source++;
  for (uint32_t* target = &__bss_start__; target < &__bss_end__;) *target++ = 0;
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  REG32(SCB_CPACR) |= 0xFu << 20; /* CP10 and CP11 full access (FPU and Helium) */
  __asm volatile("dsb\nisb" ::: "memory");
#endif
#if !defined(__ARM_ARCH_6M__)
  REG32(SCB_SHCSR) |= (1u << 16) | (1u << 17) | (1u << 18) | (1u << 19); /* own fault handlers */
#endif
#if defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_8M_MAIN__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
  guard_null_page();
#endif
  __libc_init_array();
  arena_semihost_exit(arena_main() == 0);
  for (;;) {
  }
}

typedef void (*Vector)(void);
__attribute__((section(".vectors"), used)) const Vector arena_vectors[16] = {
    (Vector)&__StackTop, Reset_Handler,      NMI_Handler,         HardFault_Handler,
    MemManage_Handler,   BusFault_Handler,   UsageFault_Handler,  SecureFault_Handler,
    0,                   0,                  0,                   Default_Handler,
    Default_Handler,     0,                  Default_Handler,     SysTick_Handler,
};
