/* FactRL C API: the lora kernel (declared by its owner; see DESIGN.md §3). */
#ifndef FACTRL_LORA_H
#define FACTRL_LORA_H
#include "../factrl.h"
#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
