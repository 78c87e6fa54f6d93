// DRATS_PREFETCH(p): a hint to bring the cache line at p into every cache level ahead of use.
// DRATS_PREFETCH_L2(p): the same hint for the second level and beyond only (x86: prefetcht1
// instead of prefetcht0; some older AMD cores treat both alike). Both are nothing where the
// compiler has no such builtin.
#ifndef DRATS_PREFETCH_H_
#define DRATS_PREFETCH_H_

#if defined(__GNUC__) || defined(__clang__)
#define DRATS_PREFETCH(p) __builtin_prefetch(p)
#define DRATS_PREFETCH_L2(p) __builtin_prefetch(p, 0, 2)
#else
#define DRATS_PREFETCH(p) ((void)(p))
#define DRATS_PREFETCH_L2(p) ((void)(p))
#endif

#endif  // DRATS_PREFETCH_H_
