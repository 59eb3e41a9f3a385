/*
 * mem.h - checked allocation.
 *
 * Every allocation in dmarcd goes through these wrappers.  They return NULL
 * on failure (never abort), so a parser can turn exhaustion into a clean
 * error.  Tests make the N-th allocation fail with mem_fail_after() to prove
 * that every failure path is handled (as expat's alloc_tests.c does).
 */
#ifndef DM_MEM_H
#define DM_MEM_H

#include <stddef.h>

void	*mem_alloc(size_t);
void	*mem_calloc(size_t, size_t);
void	*mem_realloc(void *, size_t);
/* reallocarray semantics: fails on nmemb * size overflow. */
void	*mem_reallocarray(void *, size_t, size_t);
char	*mem_strdup(const char *);
char	*mem_strndup(const char *, size_t);
void	 mem_free(void *);

/*
 * Test hook: after n more successful allocations, every allocation fails
 * until mem_fail_after(-1) restores normal behaviour.  Returns how many
 * allocations have failed since the last call.
 */
long	 mem_fail_after(long n);

#endif
