// PrefetchLine: asks the CPU to start loading the cache line holding `p`.
//
// Why not __builtin_prefetch alone: g++ 12 at -O2 silently deletes a
// __builtin_prefetch whose address is computed from a value loaded from
// memory (e.g. `arena + slots[i].offset`) or that sits under a test such as
// `if (!v.empty())` once inlined: the vigil binary carried 2 of its ~15
// intended prefetches. An asm statement is never deleted. The pointer is
// only named as an address; nothing is read through it, so it may point
// anywhere (a prefetch does not fault).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil {

inline void PrefetchLine(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

// PrefetchBytes: every cache line that [p, p + bytes) touches, the last
// one too when p is not at a line's start (stepping 64 bytes from p would
// miss it).
inline void PrefetchBytes(const void* p, size_t bytes) {
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + bytes;
  for (uintptr_t a = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63}; a < end; a += 64) {
    PrefetchLine(reinterpret_cast<const void*>(a));
  }
}

}  // namespace vigil
