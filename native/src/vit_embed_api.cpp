// C API of the ViT patch embedding (factrl/vit_embed.h): argument checks naming the argument, then
// the CPU reference or the CUDA launcher.
#include "factrl/vit_embed.h"

#include "cpu/vit_embed_cpu.h"
#include "engine.h"
#include "layer_checks.h"
#ifdef FACTRL_WITH_CUDA
#include "vit_embed.cuh"
#endif

using frl::format;

namespace {

bool on_cuda(const frl_ctx* ctx) { return ctx->backend->kind() == FRL_BACKEND_CUDA; }

// The geometry of image-shaped `t` [B, C, H, W] for patch size `patch`: H and W multiples of it.
frl::cpu::PatchGeometry geometry(const frl_tensor* t, const char* name, int patch) {
  FRL_REQUIRE(patch >= 1, FRL_ERR_ARGUMENT, "argument 'patch' must be >= 1, got %d", patch);
  frl::check_shape(t, name, {-1, -1, -1, -1});
  frl::cpu::PatchGeometry g{t->shape[0], t->shape[1], t->shape[2], t->shape[3], patch, {0, 0, 0, 0}};
  FRL_REQUIRE(g.H % patch == 0 && g.W % patch == 0, FRL_ERR_SHAPE,
               "argument '%s' has shape %s: H and W must be multiples of patch = %d", name,
                      frl::shape_string(t).c_str(), patch);
  for (int i = 0; i < 4; i++) g.s[i] = t->strides[i];
  return g;
}

void check_patches(const frl_tensor* t, const char* name, const frl::cpu::PatchGeometry& g, const char* image_name) {
  FRL_REQUIRE(t->ndim == 3 && t->shape[0] == g.B && t->shape[1] == g.P() && t->shape[2] == g.F(), FRL_ERR_SHAPE,
               "argument '%s' has shape %s, expected [%lld, %lld, %lld] ([B, (H/p)·(W/p), C·p·p] of '%s' "
                      "with p = %lld)",
                      name, frl::shape_string(t).c_str(), static_cast<long long>(g.B), static_cast<long long>(g.P()),
                      static_cast<long long>(g.F()), image_name, static_cast<long long>(g.p));
}

// A float tensor of ctx: F32 on the CPU, F32 or BF16 on CUDA; contiguous unless `any_view`.
void check_float(const frl_ctx* ctx, const frl_tensor* t, const char* name, bool any_view = false) {
  frl::check_not_null(t, name);
  if (!any_view) return frl::check_float_storage(ctx, t, name);
  frl::check_view(ctx, t, name);
  if (on_cuda(ctx))
    frl::check_dtype(t, name, {FRL_F32, FRL_BF16});
  else
    frl::check_dtype(t, name, {FRL_F32});
}

}  // namespace

extern "C" {

frl_status frl_patchify(frl_ctx* ctx, const frl_tensor* image, int patch, frl_tensor* patches) {
  return frl::guard("frl_patchify", [&] {
    frl::check_not_null(ctx, "ctx");
    check_float(ctx, image, "image", /*any_view=*/true);
    const frl::cpu::PatchGeometry g = geometry(image, "image", patch);
    check_float(ctx, patches, "patches");
    check_patches(patches, "patches", g, "image");
    frl::check_no_alias({{patches, "patches"}}, {{image, "image"}});
    if (image->numel == 0) return;
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) return frl::cuda::patchify(ctx, image->dtype, image->data, g, patches->dtype, patches->data);
#endif
    frl::cpu::patchify(frl::data_as<float>(image), g, frl::data_as<float>(patches));
  });
}

frl_status frl_patchify_backward(frl_ctx* ctx, const frl_tensor* dpatches, int patch, frl_tensor* dimage, int mode) {
  return frl::guard("frl_patchify_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_grad_mode(mode, "mode");
    check_float(ctx, dimage, "dimage");
    const frl::cpu::PatchGeometry g = geometry(dimage, "dimage", patch);
    check_float(ctx, dpatches, "dpatches");
    check_patches(dpatches, "dpatches", g, "dimage");
    frl::check_no_alias({{dimage, "dimage"}}, {{dpatches, "dpatches"}});
    if (dimage->numel == 0) return;
    const bool accumulate = mode == FRL_GRAD_ACCUMULATE;
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::patchify_backward(ctx, dpatches->dtype, dpatches->data, g, dimage->dtype, dimage->data,
                                          accumulate);
#endif
    frl::cpu::patchify_backward(frl::data_as<float>(dpatches), g, frl::data_as<float>(dimage), accumulate);
  });
}

frl_status frl_vit_embed_assemble_forward(frl_ctx* ctx, const frl_tensor* proj, const frl_tensor* cls,
                                          const frl_tensor* pos, frl_tensor* out) {
  return frl::guard("frl_vit_embed_assemble_forward", [&] {
    frl::check_not_null(ctx, "ctx");
    check_float(ctx, proj, "proj");
    frl::check_shape(proj, "proj", {-1, -1, -1});
    const int64_t B = proj->shape[0], P = proj->shape[1], D = proj->shape[2];
    check_float(ctx, cls, "cls");
    frl::check_shape(cls, "cls", {D});
    check_float(ctx, pos, "pos");
    frl::check_shape(pos, "pos", {P + 1, D});
    check_float(ctx, out, "out");
    frl::check_shape(out, "out", {B, P + 1, D});
    frl::check_no_alias({{out, "out"}}, {{proj, "proj"}, {cls, "cls"}, {pos, "pos"}});
    if (out->numel == 0) return;
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx))
      return frl::cuda::vit_embed_assemble_forward(ctx, proj->dtype, proj->data, cls->dtype, cls->data, pos->dtype,
                                                   pos->data, out->dtype, out->data, B, P, D);
#endif
    frl::cpu::vit_embed_assemble_forward(frl::data_as<float>(proj), frl::data_as<float>(cls),
                                         frl::data_as<float>(pos), frl::data_as<float>(out), B, P, D);
  });
}

frl_status frl_vit_embed_assemble_backward(frl_ctx* ctx, const frl_tensor* dout, frl_tensor* dproj, frl_tensor* dcls,
                                           frl_tensor* dpos, int dproj_mode, int dparam_mode) {
  return frl::guard("frl_vit_embed_assemble_backward", [&] {
    frl::check_not_null(ctx, "ctx");
    frl::check_grad_mode(dproj_mode, "dproj_mode");
    frl::check_grad_mode(dparam_mode, "dparam_mode");
    check_float(ctx, dout, "dout");
    frl::check_shape(dout, "dout", {-1, -1, -1});
    FRL_REQUIRE(dout->shape[1] >= 1, FRL_ERR_SHAPE,
                 "argument 'dout' has shape %s, expected [B, P+1, D] (dimension 1 >= 1: the class token)",
                        frl::shape_string(dout).c_str());
    const int64_t B = dout->shape[0], P = dout->shape[1] - 1, D = dout->shape[2];
    if (dproj) {
      check_float(ctx, dproj, "dproj");
      frl::check_shape(dproj, "dproj", {B, P, D});
    }
    if (dcls) {
      check_float(ctx, dcls, "dcls");
      frl::check_shape(dcls, "dcls", {D});
    }
    if (dpos) {
      check_float(ctx, dpos, "dpos");
      frl::check_shape(dpos, "dpos", {P + 1, D});
    }
    frl::check_no_alias({{dproj, "dproj"}, {dcls, "dcls"}, {dpos, "dpos"}}, {{dout, "dout"}});
    const bool acc_proj = dproj_mode == FRL_GRAD_ACCUMULATE, acc_param = dparam_mode == FRL_GRAD_ACCUMULATE;
#ifdef FACTRL_WITH_CUDA
    if (on_cuda(ctx)) {
      frl::cuda::AssembleGrads gr{dproj ? dproj->dtype : FRL_F32, frl::data_as<void>(dproj),
                                  dcls ? dcls->dtype : FRL_F32,   frl::data_as<void>(dcls),
                                  dpos ? dpos->dtype : FRL_F32,   frl::data_as<void>(dpos)};
      return frl::cuda::vit_embed_assemble_backward(ctx, dout->dtype, dout->data, gr, B, P, D, acc_proj, acc_param);
    }
#endif
    frl::cpu::vit_embed_assemble_backward(frl::data_as<float>(dout), frl::data_as<float>(dproj),
                                          frl::data_as<float>(dcls), frl::data_as<float>(dpos), B, P, D, acc_proj,
                                          acc_param);
  });
}

}  // extern "C"
