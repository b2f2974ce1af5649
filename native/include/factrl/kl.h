/* FactRL C API: the kl kernel (declared by its owner; see DESIGN.md §3). */
#ifndef FACTRL_KL_H
#define FACTRL_KL_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
