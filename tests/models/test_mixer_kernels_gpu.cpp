// The mixers' GPU kernel tables (models/mixers/<name>/kernels_gpu.h) on the
// host emulation of the CUDA runtime, stage by stage against the CPU tables
// (kernels_cpu.cpp), in place where the stage works in place.
#include <gtest/gtest.h>

#include <vector>

#include "backend/gpu_ops_cases.h"
#include "backend/gpu_sim/sim_backend.h"
#include "models/mixers/rad_rwkv6/kernels.h"
#include "models/mixers/rad_rwkv7/kernels.h"

namespace radlads {
namespace {

using test::DevVec;
using test::randn;
using test::rel_err;

constexpr double kTol = 1e-6;

TEST(MixerKernelsGpu, Rwkv6StagesMatchTheCpuTable) {
  const Backend& sim = test::sim_backend();
  const Rwkv6Kernels& g = rwkv6_kernels(sim);
  const Rwkv6Kernels& c = rwkv6_kernels(cpu_backend());
  ASSERT_NE(&g, &c);
  const int T = 5, B = 2;
  const int64_t M = B * T, C = 24, n = M * C;
  const auto xn = randn(size_t(n), 1), shift = randn(size_t(B * C), 2), maa_x = randn(size_t(C), 3);
  {  // token shift, with and without a carried shift
    for (const float* sh : {shift.data(), static_cast<const float*>(nullptr)}) {
      DevVec<float> X(sim, xn), S(sim, shift), MX(sim, maa_x), XP(sim, size_t(n)), D(sim, size_t(n)), XX(sim, size_t(n));
      std::vector<float> xp(n), d(n), xx(n);
      g.token_shift(XP.p, D.p, XX.p, X.p, sh ? S.p : nullptr, MX.p, M, T, C);
      c.token_shift(xp.data(), d.data(), xx.data(), xn.data(), sh, maa_x.data(), M, T, C);
      EXPECT_LT(rel_err(XP.get(), xp), kTol);
      EXPECT_LT(rel_err(D.get(), d), kTol);
      EXPECT_LT(rel_err(XX.get(), xx), kTol);
    }
  }
  const auto delta = randn(size_t(n), 4), m5 = randn(size_t(5 * n), 5);
  std::vector<std::vector<float>> maa(5);
  for (int s = 0; s < 5; s++) maa[s] = randn(size_t(C), uint64_t(10 + s));
  {  // the five mixes
    DevVec<float> X(sim, xn), D(sim, delta), Mm(sim, m5), X5(sim, size_t(5 * n));
    DevVec<float> A0(sim, maa[0]), A1(sim, maa[1]), A2(sim, maa[2]), A3(sim, maa[3]), A4(sim, maa[4]);
    const float* dm[5] = {A0.p, A1.p, A2.p, A3.p, A4.p};
    const float* hm[5] = {maa[0].data(), maa[1].data(), maa[2].data(), maa[3].data(), maa[4].data()};
    std::vector<float> x5(size_t(5 * n));
    g.mix5(X5.p, X.p, D.p, dm, Mm.p, M, C);
    c.mix5(x5.data(), xn.data(), delta.data(), hm, m5.data(), M, C);
    EXPECT_LT(rel_err(X5.get(), x5), kTol);
  }
  for (bool balance : {false, true}) {  // decay and its backward
    const auto dd0 = randn(size_t(n), 20), td = randn(size_t(C), 21), ke = randn(size_t(n), 22);
    DevVec<float> DD(sim, dd0), TD(sim, td), KE(sim, ke), LW(sim, size_t(n)), KB(sim, size_t(n));
    auto dd = dd0;
    std::vector<float> lw(n), kb(n);
    g.decay(DD.p, LW.p, KB.p, TD.p, KE.p, M, C, balance);
    c.decay(dd.data(), lw.data(), kb.data(), td.data(), ke.data(), M, C, balance);
    EXPECT_LT(rel_err(DD.get(), dd), kTol);
    EXPECT_LT(rel_err(LW.get(), lw), kTol);
    EXPECT_LT(rel_err(KB.get(), kb), kTol);
    const auto dkb0 = randn(size_t(n), 23), dlw0 = randn(size_t(n), 24);
    DevVec<float> DKB(sim, dkb0), DLW(sim, dlw0);
    auto dkb = dkb0, dlw = dlw0;
    g.decay_backward(DKB.p, DLW.p, LW.p, KE.p, DD.p, M, C, balance);
    c.decay_backward(dkb.data(), dlw.data(), lw.data(), ke.data(), dd.data(), M, C, balance);
    EXPECT_LT(rel_err(DKB.get(), dkb), kTol);
    EXPECT_LT(rel_err(DLW.get(), dlw), kTol);
  }
  {  // the backwards of the mixes and of the shift
    const auto dx5 = randn(size_t(5 * n), 30), dxxx = randn(size_t(n), 31), dd0 = randn(size_t(n), 32);
    DevVec<float> DX5(sim, dx5), DXXX(sim, dxxx), DD(sim, dd0), D(sim, delta), Mm(sim, m5), MA(sim, maa[1]),
        MX(sim, maa_x), DM(sim, size_t(n)), OUT(sim, size_t(n));
    auto dd = dd0;
    std::vector<float> dm(n), out(n);
    g.mix_backward(DD.p, DM.p, DX5.p + n, MA.p, Mm.p + n, D.p, M, C);
    c.mix_backward(dd.data(), dm.data(), dx5.data() + n, maa[1].data(), m5.data() + n, delta.data(), M, C);
    EXPECT_LT(rel_err(DD.get(), dd), kTol);
    EXPECT_LT(rel_err(DM.get(), dm), kTol);
    g.xxx_backward(DD.p, DM.p, DXXX.p, MX.p, D.p, M, C);
    c.xxx_backward(dd.data(), dm.data(), dxxx.data(), maa_x.data(), delta.data(), M, C);
    EXPECT_LT(rel_err(DD.get(), dd), kTol);
    EXPECT_LT(rel_err(DM.get(), dm), kTol);
    g.sum5(OUT.p, DX5.p, M, C);
    c.sum5(out.data(), dx5.data(), M, C);
    EXPECT_LT(rel_err(OUT.get(), out), kTol);
    g.token_shift_backward(OUT.p, DX5.p, DXXX.p, DD.p, M, T, C);
    c.token_shift_backward(out.data(), dx5.data(), dxxx.data(), dd.data(), M, T, C);
    EXPECT_LT(rel_err(OUT.get(), out), kTol);
  }
}

TEST(MixerKernelsGpu, Rwkv7StagesMatchTheCpuTable) {
  const Backend& sim = test::sim_backend();
  const Rwkv7Kernels& g = rwkv7_kernels(sim);
  const Rwkv7Kernels& c = rwkv7_kernels(cpu_backend());
  ASSERT_NE(&g, &c);
  const int64_t M = 9, A = 32, n = M * A;
  const auto sw0 = randn(size_t(n), 40), a0in = randn(size_t(n), 41), w0 = randn(size_t(A), 42), a0 = randn(size_t(A), 43);
  DevVec<float> SW(sim, sw0), Aa(sim, a0in), W0(sim, w0), A0(sim, a0), W(sim, size_t(n));
  auto sw = sw0, a = a0in;
  std::vector<float> w(n);
  g.decay_iclr(SW.p, W.p, Aa.p, W0.p, A0.p, M, A);
  c.decay_iclr(sw.data(), w.data(), a.data(), w0.data(), a0.data(), M, A);
  EXPECT_LT(rel_err(SW.get(), sw), kTol);
  EXPECT_LT(rel_err(W.get(), w), kTol);
  EXPECT_LT(rel_err(Aa.get(), a), kTol);
  const auto ke = randn(size_t(n), 44), k_k = randn(size_t(A), 45), k_a = randn(size_t(A), 46);
  DevVec<float> KE(sim, ke), KK_(sim, k_k), KA_(sim, k_a);
  for (bool balance : {false, true}) {
    DevVec<float> KK(sim, size_t(n)), KT(sim, size_t(n));
    std::vector<float> kk(n), kt(n);
    g.keys(KK.p, KT.p, KE.p, Aa.p, W.p, KK_.p, KA_.p, M, A, balance);
    c.keys(kk.data(), kt.data(), ke.data(), a.data(), w.data(), k_k.data(), k_a.data(), M, A, balance);
    EXPECT_LT(rel_err(KK.get(), kk), kTol);
    EXPECT_LT(rel_err(KT.get(), kt), kTol);
    const auto dw0 = randn(size_t(n), 47), da0 = randn(size_t(n), 48), dkt0 = randn(size_t(n), 49),
               dkk = randn(size_t(n), 50);
    DevVec<float> DW(sim, dw0), DA(sim, da0), DKT(sim, dkt0), DKK(sim, dkk), R1(sim, size_t(n)), R2(sim, size_t(n));
    auto dw = dw0, da = da0, dkt = dkt0;
    std::vector<float> r1(n), r2(n);
    g.keys_backward(DW.p, DA.p, DKT.p, balance ? nullptr : R1.p, balance ? nullptr : R2.p, DKK.p, KE.p, Aa.p, W.p,
                    KK_.p, KA_.p, M, A, balance);
    c.keys_backward(dw.data(), da.data(), dkt.data(), balance ? nullptr : r1.data(), balance ? nullptr : r2.data(),
                    dkk.data(), ke.data(), a.data(), w.data(), k_k.data(), k_a.data(), M, A, balance);
    EXPECT_LT(rel_err(DW.get(), dw), kTol);
    EXPECT_LT(rel_err(DA.get(), da), kTol);
    EXPECT_LT(rel_err(DKT.get(), dkt), kTol);
    if (!balance) {
      EXPECT_LT(rel_err(R1.get(), r1), kTol);
      EXPECT_LT(rel_err(R2.get(), r2), kTol);
    }
  }
  {  // value residual and ka/kb, with their backwards
    const auto vs0 = randn(size_t(n), 51), ve = randn(size_t(n), 52), vf = randn(size_t(n), 53), v0 = randn(size_t(A), 54);
    DevVec<float> VS(sim, vs0), VE(sim, ve), VF(sim, vf), V0(sim, v0), VM(sim, size_t(n));
    auto vs = vs0;
    std::vector<float> vm(n);
    g.value_residual(VS.p, VM.p, VE.p, VF.p, V0.p, M, A);
    c.value_residual(vs.data(), vm.data(), ve.data(), vf.data(), v0.data(), M, A);
    EXPECT_LT(rel_err(VS.get(), vs), kTol);
    EXPECT_LT(rel_err(VM.get(), vm), kTol);
    const auto dvf0 = randn(size_t(n), 55), dvm0 = randn(size_t(n), 56);
    DevVec<float> DVF(sim, dvf0), DVM(sim, dvm0), DVS(sim, size_t(n));
    auto dvf = dvf0, dvm = dvm0;
    std::vector<float> dvs(n);
    g.value_residual_backward(DVF.p, DVS.p, DVM.p, VS.p, VF.p, VE.p, n);
    c.value_residual_backward(dvf.data(), dvs.data(), dvm.data(), vs.data(), vf.data(), ve.data(), n);
    EXPECT_LT(rel_err(DVF.get(), dvf), kTol);
    EXPECT_LT(rel_err(DVS.get(), dvs), kTol);
    EXPECT_LT(rel_err(DVM.get(), dvm), kTol);
    const auto kappa = randn(size_t(n), 57);
    DevVec<float> KAP(sim, kappa), KA(sim, size_t(n)), KB(sim, size_t(n));
    std::vector<float> ka(n), kb(n);
    g.ka_kb(KA.p, KB.p, KAP.p, Aa.p, n);
    c.ka_kb(ka.data(), kb.data(), kappa.data(), a.data(), n);
    EXPECT_LT(rel_err(KA.get(), ka), kTol);
    EXPECT_LT(rel_err(KB.get(), kb), kTol);
    g.ka_kb_backward(KA.p, KB.p, Aa.p, KAP.p, n);
    c.ka_kb_backward(ka.data(), kb.data(), a.data(), kappa.data(), n);
    EXPECT_LT(rel_err(KA.get(), ka), kTol);
    EXPECT_LT(rel_err(KB.get(), kb), kTol);
    const auto dw0 = randn(size_t(n), 58), da0 = randn(size_t(n), 59);
    DevVec<float> DW(sim, dw0), DA(sim, da0);
    auto dw = dw0, da = da0;
    g.decay_iclr_backward(DW.p, DA.p, SW.p, W.p, Aa.p, n);
    c.decay_iclr_backward(dw.data(), da.data(), sw.data(), w.data(), a.data(), n);
    EXPECT_LT(rel_err(DW.get(), dw), kTol);
    EXPECT_LT(rel_err(DA.get(), da), kTol);
  }
}

}  // namespace
}  // namespace radlads
