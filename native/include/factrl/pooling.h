/* FactRL C API: the pooling kernel (declared by its owner; see DESIGN.md §3). */
#ifndef FACTRL_POOLING_H
#define FACTRL_POOLING_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
