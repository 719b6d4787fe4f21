// arena's measurement firmware: allocates, bisects and runs one model with real TFLM on an
// emulated Cortex-M, and prints what it measured over semihosting, one fact per line.
//
// Written for arena (Apache-2.0). Built by arena/proofs/emulator/build.py against TFLM's
// libtensorflow-microlite.a and two generated sources: arena_data.c (the model and its seeded
// inputs as C arrays, and the static arena) and arena_resolver.cc (an op resolver holding
// exactly the model's ops). The output
// protocol is parsed by arena/proofs/emulator/protocol.py:
//
//   capacity N                      the static arena this firmware was linked with
//   calibrate ITERATIONS TICKS      SysTick ticks for a 2-instruction loop (ticks per instruction)
//   allocate N ok|fail              AllocateTensors over the first N bytes of the arena
//   arena_used_bytes N              MicroInterpreter::arena_used_bytes() at the capacity
//   head N / tail N                 non-persistent and persistent used bytes of the allocator
//   tensor SUBGRAPH INDEX OFFSET    where a tensor's data is, in bytes from the aligned arena start
//                                   ("-" when it lies outside the arena: a constant in the model)
//   scratch INDEX OFFSET            where each kernel scratch buffer is
//   op INDEX TAG TICKS              SysTick ticks of one op's Invoke
//   invoke ok|fail TICKS            the whole Invoke
//   output INDEX HEX                an output tensor's bytes after Invoke
//   probe N start                   a bisection step begins (a crash leaves this line last)
//   probe N ok|fail TAIL            its result, and the persistent bytes when it succeeded
//   min_arena N                     the smallest N for which AllocateTensors succeeds
//   done
//
// The command line (QEMU -semihosting-config arg=...) chooses what to do: "run" (default) does
// the capacity run and then bisects in [512, capacity]; "bisect LO HI" only bisects, used by the
// driver to resume after a probe that crashed.

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#include "tensorflow/lite/micro/micro_allocator.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_interpreter_graph.h"
#include "tensorflow/lite/micro/micro_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern "C" {
void arena_semihost_write0(const char* text);
int arena_semihost_cmdline(char* buffer, int size);
extern volatile uint32_t arena_systick_wraps;
int arena_main(void);
// Generated per model (arena_data.c).
extern const unsigned char arena_model_data[];
extern const unsigned int arena_model_size;
extern const unsigned char arena_input_data[];
extern const unsigned int arena_input_size;
extern uint8_t arena_buffer[];            // 16-aligned
extern const unsigned int arena_capacity;  // its size, a multiple of 16
}

// Generated per op set (arena_resolver.cc).
const tflite::MicroOpResolver& arena_op_resolver();

namespace {

// Smallest arena the bisection tries: below a few hundred bytes MicroAllocator::Create cannot
// place its own objects and the MicroInterpreter constructor would dereference a null allocator.
constexpr size_t kBisectFloor = 512;

alignas(tflite::MicroInterpreter) uint8_t g_interpreter_storage[sizeof(tflite::MicroInterpreter)];

void emit(const char* format, ...) {
  char line[256];
  va_list args;
  va_start(args, format);
  vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  arena_semihost_write0(line);
}

// Private members read through explicit template instantiation, which the standard exempts
// from access checking ([temp.spec]/6): the firmware reports what the allocator holds without
// patching or subclassing TFLM.
template <typename Tag, typename Tag::type Member>
struct Reader {
  friend typename Tag::type get(Tag) { return Member; }
};
struct NonPersistentTag {
  using type = tflite::INonPersistentBufferAllocator* tflite::MicroAllocator::*;
  friend type get(NonPersistentTag);
};
struct PersistentTag {
  using type = tflite::IPersistentBufferAllocator* tflite::MicroAllocator::*;
  friend type get(PersistentTag);
};
struct ScratchCountTag {
  using type = size_t tflite::MicroAllocator::*;
  friend type get(ScratchCountTag);
};
struct GraphTag {
  using type = tflite::MicroInterpreterGraph tflite::MicroInterpreter::*;
  friend type get(GraphTag);
};
struct ScratchHandlesTag {
  using type = tflite::ScratchBufferHandle* tflite::MicroInterpreter::*;
  friend type get(ScratchHandlesTag);
};
template struct Reader<NonPersistentTag, &tflite::MicroAllocator::non_persistent_buffer_allocator_>;
template struct Reader<PersistentTag, &tflite::MicroAllocator::persistent_buffer_allocator_>;
template struct Reader<ScratchCountTag, &tflite::MicroAllocator::scratch_buffer_request_count_>;
template struct Reader<GraphTag, &tflite::MicroInterpreter::graph_>;
template struct Reader<ScratchHandlesTag, &tflite::MicroInterpreter::scratch_buffer_handles_>;

// The interpreter's allocator is reachable through its protected accessor.
class Inspector : public tflite::MicroInterpreter {
 public:
  using tflite::MicroInterpreter::MicroInterpreter;
  const tflite::MicroAllocator& Allocator() const { return allocator(); }
};

// SysTick, clocked by the core clock; with QEMU's -icount shift=0 the virtual clock advances
// 1 ns per instruction, so ticks count instructions at 1e9 / core-clock-Hz per tick.
volatile uint32_t* const kSystCsr = reinterpret_cast<volatile uint32_t*>(0xE000E010u);
volatile uint32_t* const kSystRvr = reinterpret_cast<volatile uint32_t*>(0xE000E014u);
volatile uint32_t* const kSystCvr = reinterpret_cast<volatile uint32_t*>(0xE000E018u);
constexpr uint32_t kSysTickReload = 0x00FFFFFFu;

void StartSysTick() {
  *kSystRvr = kSysTickReload;
  *kSystCvr = 0;
  *kSystCsr = 0x7u;  // ENABLE | TICKINT | CLKSOURCE (processor clock)
}

uint64_t Now() {
  uint32_t wraps_before, value, wraps_after;
  do {
    wraps_before = arena_systick_wraps;
    value = *kSystCvr;
    wraps_after = arena_systick_wraps;
  } while (wraps_before != wraps_after);
  return static_cast<uint64_t>(wraps_before) * (kSysTickReload + 1u) + (kSysTickReload - value);
}

class OpProfiler : public tflite::MicroProfilerInterface {
 public:
  static constexpr uint32_t kMaxEvents = 4096;
  uint32_t BeginEvent(const char* tag) override {
    if (count_ >= kMaxEvents) return kMaxEvents;
    tags_[count_] = tag;
    starts_[count_] = Now();
    ends_[count_] = starts_[count_];
    return count_++;
  }
  void EndEvent(uint32_t handle) override {
    if (handle < kMaxEvents) ends_[handle] = Now();
  }
  void Report() const {
    for (uint32_t i = 0; i < count_; ++i) {
      emit("op %lu %s %llu\n", static_cast<unsigned long>(i), tags_[i] != nullptr ? tags_[i] : "?",
           static_cast<unsigned long long>(ends_[i] - starts_[i]));
    }
  }

 private:
  const char* tags_[kMaxEvents];
  uint64_t starts_[kMaxEvents];
  uint64_t ends_[kMaxEvents];
  uint32_t count_ = 0;
};

OpProfiler g_profiler;
bool g_quiet = true;

void LogCallback(const char* text) {
  if (!g_quiet) emit("log %s", text);
}

const tflite::Model* TheModel() { return tflite::GetModel(arena_model_data); }

// A fresh interpreter over the first `size` bytes of the arena. The previous one is abandoned,
// not destroyed: after a failed allocation its node array may be incomplete, and everything it
// owned lives in the arena that the new one overwrites.
Inspector* NewInterpreter(size_t size, tflite::MicroProfilerInterface* profiler) {
  return new (g_interpreter_storage) Inspector(TheModel(), arena_op_resolver(), arena_buffer, size, nullptr, profiler);
}

size_t TailBytes(Inspector* interpreter) {
  tflite::MicroAllocator* allocator = const_cast<tflite::MicroAllocator*>(&interpreter->Allocator());
  return (allocator->*get(PersistentTag()))->GetPersistentUsedBytes();
}

// Whether AllocateTensors succeeds in `size` bytes; on success `tail` is the persistent bytes.
bool Allocates(size_t size, size_t* tail) {
  if (size < kBisectFloor) return false;
  Inspector* interpreter = NewInterpreter(size, nullptr);
  bool ok = interpreter->initialization_status() == kTfLiteOk && interpreter->AllocateTensors() == kTfLiteOk;
  if (ok) *tail = TailBytes(interpreter);
  return ok;
}

long Offset(const void* data, size_t head_bytes) {
  const uint8_t* start = arena_buffer;  // 16-aligned, so the allocator's aligned start
  const uint8_t* pointer = static_cast<const uint8_t*>(data);
  if (pointer < start || pointer >= start + arena_capacity) return -1;
  (void)head_bytes;
  return static_cast<long>(pointer - start);
}

void Calibrate() {
  // subs + bne: two instructions per iteration (the branch is taken each time but the last).
  constexpr uint32_t kIterations = 1000000;
  uint64_t start = Now();
  uint32_t counter = kIterations;
  __asm volatile(
      "1:\n"
      "subs %0, %0, #1\n"
      "bne 1b\n"
      : "+l"(counter)
      :
      : "cc");
  uint64_t ticks = Now() - start;
  emit("calibrate %lu %llu\n", static_cast<unsigned long>(kIterations), static_cast<unsigned long long>(ticks));
}

void ReportAllocation(Inspector* interpreter) {
  const tflite::MicroAllocator& allocator = interpreter->Allocator();
  tflite::MicroAllocator* mutable_allocator = const_cast<tflite::MicroAllocator*>(&allocator);
  size_t head = (mutable_allocator->*get(NonPersistentTag()))->GetNonPersistentUsedBytes();
  size_t tail = TailBytes(interpreter);
  emit("arena_used_bytes %lu\n", static_cast<unsigned long>(interpreter->arena_used_bytes()));
  emit("head %lu\n", static_cast<unsigned long>(head));
  emit("tail %lu\n", static_cast<unsigned long>(tail));
  tflite::MicroInterpreterGraph& graph = interpreter->*get(GraphTag());
  tflite::SubgraphAllocations* allocations = graph.GetAllocations();
  const tflite::Model* model = TheModel();
  for (uint32_t sg = 0; sg < model->subgraphs()->size(); ++sg) {
    const auto* tensors = model->subgraphs()->Get(sg)->tensors();
    uint32_t count = tensors == nullptr ? 0 : tensors->size();
    for (uint32_t i = 0; i < count; ++i) {
      const void* data = allocations[sg].tensors[i].data.data;
      long offset = data == nullptr ? -2 : Offset(data, head);
      if (offset >= 0) {
        emit("tensor %lu %lu %ld\n", static_cast<unsigned long>(sg), static_cast<unsigned long>(i), offset);
      } else {
        emit("tensor %lu %lu %s\n", static_cast<unsigned long>(sg), static_cast<unsigned long>(i),
             offset == -1 ? "-" : "null");
      }
    }
  }
  size_t scratch_count = mutable_allocator->*get(ScratchCountTag());
  tflite::ScratchBufferHandle* handles = interpreter->*get(ScratchHandlesTag());
  for (size_t i = 0; handles != nullptr && i < scratch_count; ++i) {
    emit("scratch %lu %ld\n", static_cast<unsigned long>(i), Offset(handles[i].data, head));
  }
}

bool FillInputs(Inspector* interpreter) {
  size_t offset = 0;
  for (size_t i = 0; i < interpreter->inputs_size(); ++i) {
    TfLiteTensor* input = interpreter->input(i);
    if (offset + input->bytes > arena_input_size) return false;
    memcpy(input->data.raw, arena_input_data + offset, input->bytes);
    offset += input->bytes;
  }
  return offset == arena_input_size;
}

void ReportOutputs(Inspector* interpreter) {
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < interpreter->outputs_size(); ++i) {
    TfLiteTensor* output = interpreter->output(i);
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(output->data.raw);
    emit("output %lu ", static_cast<unsigned long>(i));
    char chunk[129];
    size_t used = 0;
    for (size_t b = 0; b < output->bytes; ++b) {
      chunk[used++] = kHex[bytes[b] >> 4];
      chunk[used++] = kHex[bytes[b] & 0xF];
      if (used == 128) {
        chunk[used] = '\0';
        arena_semihost_write0(chunk);
        used = 0;
      }
    }
    chunk[used++] = '\n';
    chunk[used] = '\0';
    arena_semihost_write0(chunk);
  }
}

bool CapacityRun() {
  Inspector* interpreter = NewInterpreter(arena_capacity, &g_profiler);
  bool ok = interpreter->initialization_status() == kTfLiteOk && interpreter->AllocateTensors() == kTfLiteOk;
  emit("allocate %lu %s\n", static_cast<unsigned long>(arena_capacity), ok ? "ok" : "fail");
  if (!ok) return false;
  ReportAllocation(interpreter);
  if (!FillInputs(interpreter)) {
    emit("inputs mismatch %lu\n", static_cast<unsigned long>(arena_input_size));
    return false;
  }
  uint64_t start = Now();
  bool invoked = interpreter->Invoke() == kTfLiteOk;
  uint64_t ticks = Now() - start;
  g_profiler.Report();
  emit("invoke %s %llu\n", invoked ? "ok" : "fail", static_cast<unsigned long long>(ticks));
  if (invoked) ReportOutputs(interpreter);
  return invoked;
}

// Invariant: `low` fails (or is below the floor), `high` succeeds.
void Bisect(size_t low, size_t high) {
  while (high - low > 1) {
    size_t middle = low + (high - low) / 2;
    emit("probe %lu start\n", static_cast<unsigned long>(middle));
    size_t tail = 0;
    bool ok = Allocates(middle, &tail);
    emit("probe %lu %s %lu\n", static_cast<unsigned long>(middle), ok ? "ok" : "fail", static_cast<unsigned long>(tail));
    if (ok) {
      high = middle;
    } else {
      low = middle;
    }
  }
  emit("min_arena %lu\n", static_cast<unsigned long>(high));
}

}  // namespace

int arena_main(void) {
  RegisterDebugLogCallback(LogCallback);
  StartSysTick();
  char command[128] = {0};
  int length = arena_semihost_cmdline(command, sizeof(command) - 1);
  if (length < 0) length = 0;
  command[length] = '\0';
  // QEMU passes argv[0] first; the verb follows it.
  const char* verb = strchr(command, ' ');
  verb = verb == nullptr ? "run" : verb + 1;
  emit("capacity %lu\n", static_cast<unsigned long>(arena_capacity));
  if (strncmp(verb, "bisect", 6) == 0) {
    char* cursor = nullptr;
    unsigned long low = strtoul(verb + 6, &cursor, 10);
    unsigned long high = strtoul(cursor, nullptr, 10);
    Bisect(low, high);
    emit("done\n");
    return 0;
  }
  if (strncmp(verb, "verbose", 7) == 0) g_quiet = false;
  Calibrate();
  bool ok = CapacityRun();
  if (ok) {
    emit("probe %lu start\n", static_cast<unsigned long>(kBisectFloor));
    size_t floor_tail = 0;
    bool floor_ok = Allocates(kBisectFloor, &floor_tail);
    emit("probe %lu %s\n", static_cast<unsigned long>(kBisectFloor), floor_ok ? "ok" : "fail");
    if (!floor_ok) Bisect(kBisectFloor, arena_capacity);
  }
  emit("done\n");
  return ok ? 0 : 1;
}
