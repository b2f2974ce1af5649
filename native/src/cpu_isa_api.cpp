// Build info: which instruction set the CPU GEMM dispatched to (bin/factrl info prints it).
#include "factrl.h"

#include "cpu/gemm.h"

const char* frl_cpu_isa(void) { return frl::cpu::isa_name(frl::cpu::gemm_isa()); }
