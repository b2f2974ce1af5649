/* FactRL C API: the gae kernel (declared by its owner; see DESIGN.md §3). */
#ifndef FACTRL_GAE_H
#define FACTRL_GAE_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
