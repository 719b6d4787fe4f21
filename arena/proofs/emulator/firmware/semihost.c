/* Arm semihosting calls (the "bkpt 0xAB" convention of M-profile), for arena's emulator firmware.
 *
 * Written for arena (Apache-2.0). Operation numbers from Arm's "Semihosting for AArch32 and
 * AArch64" specification: SYS_WRITE0 0x04, SYS_GET_CMDLINE 0x15, SYS_EXIT 0x18. QEMU implements
 * them in system mode with -semihosting-config enable=on,target=native.
 */
#include <stdint.h>

static uint32_t semihost_call(uint32_t operation, const void* argument) {
  register uint32_t r0 __asm("r0") = operation;
  register const void* r1 __asm("r1") = argument;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void arena_semihost_write0(const char* text) { semihost_call(0x04u, text); }

/* Copies the command line QEMU was given (-semihosting-config arg=...) into buffer; returns its
 * length, or -1 when the host gave none. */
int arena_semihost_cmdline(char* buffer, int size) {
  uint32_t block[2] = {(uint32_t)(uintptr_t)buffer, (uint32_t)size};
  if (semihost_call(0x15u, block) != 0) return -1;
  return (int)block[1];
}

/* Stops the emulator: QEMU exits 0 for ADP_Stopped_ApplicationExit, 1 for any other reason. */
void arena_semihost_exit(int ok) {
  semihost_call(0x18u, (const void*)(uintptr_t)(ok ? 0x20026u : 0x20024u));
  for (;;) {
  }
}

/* -nostartfiles drops crti/crtn; __libc_init_array still calls these. */
void _init(void) {}
void _fini(void) {}

/* crtbegin.o (also dropped by -nostartfiles) defines this for __cxa_atexit's registrations. */
void* __dso_handle = 0;
