// DRATS_PREFETCH(p): a hint to bring the cache line at p in ahead of use; nothing where the
// compiler has no such builtin.
#ifndef DRATS_PREFETCH_H_
#define DRATS_PREFETCH_H_

#if defined(__GNUC__) || defined(__clang__)
#define DRATS_PREFETCH(p) __builtin_prefetch(p)
#else
#define DRATS_PREFETCH(p) ((void)(p))
#endif

#endif  // DRATS_PREFETCH_H_
