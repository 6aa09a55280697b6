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

namespace vigil {

inline void PrefetchLine(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace vigil
