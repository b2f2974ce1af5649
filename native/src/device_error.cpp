// The context's device error record (engine.h): where kernels report bad data without a host
// synchronisation, and where frl_ctx_synchronize finds it.
#include "engine.h"

namespace frl {

DeviceErrorRecord* device_error_record(frl_ctx* ctx) {
  if (ctx->device_error == nullptr) ctx->device_error = ctx->backend->allocate(sizeof(DeviceErrorRecord));
  return static_cast<DeviceErrorRecord*>(ctx->device_error);
}

void take_device_error(frl_ctx* ctx) {
  if (ctx->device_error == nullptr) return;
  DeviceErrorRecord r;
  ctx->backend->copy_to_host(&r, ctx->device_error, sizeof r);
  if (r.code == kDeviceErrorNone) return;
  ctx->backend->zero(ctx->device_error, sizeof r);
  const char* op = r.code == kDeviceErrorGatherIdx ? "frl_gather_rows" : "frl_scatter_rows";
  throw Error(FRL_ERR_ARGUMENT, format("an earlier %s call on this context: argument 'idx': idx[%lld] = %lld is "
                                       "outside [0, %lld) (the device skipped that row; its outputs are undefined)",
                                       op, r.entry, r.value, r.bound));
}

void release_device_error(frl_ctx* ctx) noexcept {
  if (ctx->device_error != nullptr) ctx->backend->release(ctx->device_error);
  ctx->device_error = nullptr;
}

}  // namespace frl
