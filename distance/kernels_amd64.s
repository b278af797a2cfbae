//go:build amd64 && !purego

#include "textflag.h"

// Float32 kernels for amd64: dot product, squared L2 and L1, each in an
// AVX2+FMA and an AVX-512 flavour, each as a single-pair kernel, a gather
// kernel (rows of a matrix picked by id) and a batch kernel (every row of a
// matrix).
//
// All three forms of one metric and flavour expand the same BODY macro, so they
// perform the same operations in the same order and return bit-identical
// results for the same pair of vectors.
//
// BODY register contract:
//   in:  SI = a, DI = b, CX = element count (>= 0), R8 = prefetch cursor
//        (gather only), Z15/Y15 = abs mask (L1 only)
//   out: X0 = the sum (lane 0)
//   clobbers: SI, DI, CX, BX, R8 (gather), K1, Z0-Z8 / Y0-Y8

// tailmask holds 8 all-ones lanes followed by 8 zero lanes: loading 8 lanes
// from tailmask+32-4r gives a VMASKMOVPS mask selecting the first r lanes.
DATA tailmask<>+0(SB)/4, $0xffffffff
DATA tailmask<>+4(SB)/4, $0xffffffff
DATA tailmask<>+8(SB)/4, $0xffffffff
DATA tailmask<>+12(SB)/4, $0xffffffff
DATA tailmask<>+16(SB)/4, $0xffffffff
DATA tailmask<>+20(SB)/4, $0xffffffff
DATA tailmask<>+24(SB)/4, $0xffffffff
DATA tailmask<>+28(SB)/4, $0xffffffff
DATA tailmask<>+32(SB)/4, $0
DATA tailmask<>+36(SB)/4, $0
DATA tailmask<>+40(SB)/4, $0
DATA tailmask<>+44(SB)/4, $0
DATA tailmask<>+48(SB)/4, $0
DATA tailmask<>+52(SB)/4, $0
DATA tailmask<>+56(SB)/4, $0
DATA tailmask<>+60(SB)/4, $0
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

// absmask clears the sign bit of a float32.
DATA absmask<>+0(SB)/4, $0x7fffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $4

// ---------------------------------------------------------------------------
// AVX-512: four 16-lane accumulators, 64 floats per iteration, then 16 at a
// time into the first accumulator, then one masked step for the last 0..15.

#define DOT512(off, acc, t) \
	VMOVUPS off(SI), t; \
	VFMADD231PS off(DI), t, acc

#define DOT512M(acc) \
	VMOVUPS.Z (SI), K1, Z4; \
	VMOVUPS.Z (DI), K1, Z5; \
	VFMADD231PS Z5, Z4, acc

#define L2512(off, acc, t) \
	VMOVUPS off(SI), t; \
	VSUBPS off(DI), t, t; \
	VFMADD231PS t, t, acc

#define L2512M(acc) \
	VMOVUPS.Z (SI), K1, Z4; \
	VMOVUPS.Z (DI), K1, Z5; \
	VSUBPS Z5, Z4, Z4; \
	VFMADD231PS Z4, Z4, acc

#define L1512(off, acc, t) \
	VMOVUPS off(SI), t; \
	VSUBPS off(DI), t, t; \
	VPANDD Z15, t, t; \
	VADDPS t, acc, acc

#define L1512M(acc) \
	VMOVUPS.Z (SI), K1, Z4; \
	VMOVUPS.Z (DI), K1, Z5; \
	VSUBPS Z5, Z4, Z4; \
	VPANDD Z15, Z4, Z4; \
	VADDPS Z4, acc, acc

// PF512 prefetches the 256 bytes of the next row that match the 256 bytes of
// the current row being loaded, so the whole next row is requested while the
// current one is computed.
#define PF512 \
	PREFETCHT0 (R8); \
	PREFETCHT0 64(R8); \
	PREFETCHT0 128(R8); \
	PREFETCHT0 192(R8); \
	ADDQ $256, R8

#define NOPF

#define BODY512(STEP, STEPM, PF) \
	VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	VXORPS Z2, Z2, Z2; \
	VXORPS Z3, Z3, Z3; \
	CMPQ CX, $64; \
	JB b16; \
b64: \
	PF; \
	STEP(0, Z0, Z4); \
	STEP(64, Z1, Z5); \
	STEP(128, Z2, Z6); \
	STEP(192, Z3, Z7); \
	ADDQ $256, SI; \
	ADDQ $256, DI; \
	SUBQ $64, CX; \
	CMPQ CX, $64; \
	JAE b64; \
b16: \
	CMPQ CX, $16; \
	JB btail; \
	STEP(0, Z0, Z4); \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $16, CX; \
	JMP b16; \
btail: \
	TESTQ CX, CX; \
	JEQ bsum; \
	MOVL $1, BX; \
	SHLL CX, BX; \
	DECL BX; \
	KMOVW BX, K1; \
	STEPM(Z1); \
bsum: \
	VADDPS Z1, Z0, Z0; \
	VADDPS Z3, Z2, Z2; \
	VADDPS Z2, Z0, Z0; \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS Y1, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	VMOVHLPS X0, X0, X1; \
	VADDPS X1, X0, X0; \
	VMOVSHDUP X0, X1; \
	VADDSS X1, X0, X0

// ---------------------------------------------------------------------------
// AVX2: four 8-lane accumulators, 32 floats per iteration, then 8 at a time
// into the first accumulator, then one masked step for the last 0..7.

#define DOT256(off, acc, t) \
	VMOVUPS off(SI), t; \
	VFMADD231PS off(DI), t, acc

#define DOT256M(acc) \
	VMASKMOVPS (SI), Y8, Y4; \
	VMASKMOVPS (DI), Y8, Y5; \
	VFMADD231PS Y5, Y4, acc

#define L2256(off, acc, t) \
	VMOVUPS off(SI), t; \
	VSUBPS off(DI), t, t; \
	VFMADD231PS t, t, acc

#define L2256M(acc) \
	VMASKMOVPS (SI), Y8, Y4; \
	VMASKMOVPS (DI), Y8, Y5; \
	VSUBPS Y5, Y4, Y4; \
	VFMADD231PS Y4, Y4, acc

#define L1256(off, acc, t) \
	VMOVUPS off(SI), t; \
	VSUBPS off(DI), t, t; \
	VANDPS Y15, t, t; \
	VADDPS t, acc, acc

#define L1256M(acc) \
	VMASKMOVPS (SI), Y8, Y4; \
	VMASKMOVPS (DI), Y8, Y5; \
	VSUBPS Y5, Y4, Y4; \
	VANDPS Y15, Y4, Y4; \
	VADDPS Y4, acc, acc

#define PF256 \
	PREFETCHT0 (R8); \
	PREFETCHT0 64(R8); \
	ADDQ $128, R8

#define BODY256(STEP, STEPM, PF) \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	CMPQ CX, $32; \
	JB b8; \
b32: \
	PF; \
	STEP(0, Y0, Y4); \
	STEP(32, Y1, Y5); \
	STEP(64, Y2, Y6); \
	STEP(96, Y3, Y7); \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	CMPQ CX, $32; \
	JAE b32; \
b8: \
	CMPQ CX, $8; \
	JB btail; \
	STEP(0, Y0, Y4); \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
	JMP b8; \
btail: \
	TESTQ CX, CX; \
	JEQ bsum; \
	LEAQ tailmask<>+32(SB), BX; \
	SHLQ $2, CX; \
	SUBQ CX, BX; \
	VMOVDQU (BX), Y8; \
	STEPM(Y1); \
bsum: \
	VADDPS Y1, Y0, Y0; \
	VADDPS Y3, Y2, Y2; \
	VADDPS Y2, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	VMOVHLPS X0, X0, X1; \
	VADDPS X1, X0, X0; \
	VMOVSHDUP X0, X1; \
	VADDSS X1, X0, X0

// ---------------------------------------------------------------------------
// Function templates.
//
// SINGLE: func name(a, b *float32, n int) float32
// GATHER: func name(dst, q, base *float32, dim int, ids *uint32, n int)
//         dst[i] = kernel(q, base[ids[i]*dim:]) for i < n; while row i is
//         computed, row i+1 is prefetched.
// BATCH:  func name(dst, q, base *float32, dim, rows int)
//         dst[i] = kernel(q, base[i*dim:]) for i < rows.

#define SINGLE(BODY, STEP, STEPM, SETUP) \
	MOVQ a+0(FP), SI; \
	MOVQ b+8(FP), DI; \
	MOVQ n+16(FP), CX; \
	SETUP; \
	BODY(STEP, STEPM, NOPF); \
	VZEROUPPER; \
	MOVSS X0, ret+24(FP); \
	RET

#define GATHER(BODY, STEP, STEPM, SETUP, PF) \
	MOVQ dst+0(FP), R9; \
	MOVQ q+8(FP), R10; \
	MOVQ base+16(FP), R11; \
	MOVQ dim+24(FP), R12; \
	MOVQ ids+32(FP), R13; \
	MOVQ n+40(FP), DX; \
	SETUP; \
	TESTQ DX, DX; \
	JEQ gdone; \
	MOVL (R13), AX; \
	IMULQ R12, AX; \
	LEAQ (R11)(AX*4), AX; \
gloop: \
	MOVQ AX, DI; \
	MOVQ AX, R8; \
	CMPQ DX, $1; \
	JEQ gcompute; \
	MOVL 4(R13), AX; \
	IMULQ R12, AX; \
	LEAQ (R11)(AX*4), AX; \
	MOVQ AX, R8; \
	PREFETCHT0 (R8); \
gcompute: \
	MOVQ R10, SI; \
	MOVQ R12, CX; \
	BODY(STEP, STEPM, PF); \
	MOVSS X0, (R9); \
	ADDQ $4, R9; \
	ADDQ $4, R13; \
	DECQ DX; \
	JNE gloop; \
gdone: \
	VZEROUPPER; \
	RET

#define BATCH(BODY, STEP, STEPM, SETUP) \
	MOVQ dst+0(FP), R9; \
	MOVQ q+8(FP), R10; \
	MOVQ base+16(FP), AX; \
	MOVQ dim+24(FP), R12; \
	MOVQ rows+32(FP), DX; \
	SETUP; \
	MOVQ R12, R11; \
	SHLQ $2, R11; \
	TESTQ DX, DX; \
	JEQ bdone; \
bloop: \
	MOVQ AX, DI; \
	MOVQ R10, SI; \
	MOVQ R12, CX; \
	BODY(STEP, STEPM, NOPF); \
	MOVSS X0, (R9); \
	ADDQ $4, R9; \
	ADDQ R11, AX; \
	DECQ DX; \
	JNE bloop; \
bdone: \
	VZEROUPPER; \
	RET

#define NOSETUP
#define ABS512 VPBROADCASTD absmask<>(SB), Z15
#define ABS256 VBROADCASTSS absmask<>(SB), Y15

// ---------------------------------------------------------------------------
// AVX-512 entry points.

// func dotAVX512(a, b *float32, n int) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-28
	SINGLE(BODY512, DOT512, DOT512M, NOSETUP)

// func l2AVX512(a, b *float32, n int) float32
TEXT ·l2AVX512(SB), NOSPLIT, $0-28
	SINGLE(BODY512, L2512, L2512M, NOSETUP)

// func l1AVX512(a, b *float32, n int) float32
TEXT ·l1AVX512(SB), NOSPLIT, $0-28
	SINGLE(BODY512, L1512, L1512M, ABS512)

// func dotGatherAVX512(dst, q, base *float32, dim int, ids *uint32, n int)
TEXT ·dotGatherAVX512(SB), NOSPLIT, $0-48
	GATHER(BODY512, DOT512, DOT512M, NOSETUP, PF512)

// func l2GatherAVX512(dst, q, base *float32, dim int, ids *uint32, n int)
TEXT ·l2GatherAVX512(SB), NOSPLIT, $0-48
	GATHER(BODY512, L2512, L2512M, NOSETUP, PF512)

// func l1GatherAVX512(dst, q, base *float32, dim int, ids *uint32, n int)
TEXT ·l1GatherAVX512(SB), NOSPLIT, $0-48
	GATHER(BODY512, L1512, L1512M, ABS512, PF512)

// func dotBatchAVX512(dst, q, base *float32, dim, rows int)
TEXT ·dotBatchAVX512(SB), NOSPLIT, $0-40
	BATCH(BODY512, DOT512, DOT512M, NOSETUP)

// func l2BatchAVX512(dst, q, base *float32, dim, rows int)
TEXT ·l2BatchAVX512(SB), NOSPLIT, $0-40
	BATCH(BODY512, L2512, L2512M, NOSETUP)

// func l1BatchAVX512(dst, q, base *float32, dim, rows int)
TEXT ·l1BatchAVX512(SB), NOSPLIT, $0-40
	BATCH(BODY512, L1512, L1512M, ABS512)

// ---------------------------------------------------------------------------
// AVX2+FMA entry points.

// func dotAVX2(a, b *float32, n int) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	SINGLE(BODY256, DOT256, DOT256M, NOSETUP)

// func l2AVX2(a, b *float32, n int) float32
TEXT ·l2AVX2(SB), NOSPLIT, $0-28
	SINGLE(BODY256, L2256, L2256M, NOSETUP)

// func l1AVX2(a, b *float32, n int) float32
TEXT ·l1AVX2(SB), NOSPLIT, $0-28
	SINGLE(BODY256, L1256, L1256M, ABS256)

// func dotGatherAVX2(dst, q, base *float32, dim int, ids *uint32, n int)
TEXT ·dotGatherAVX2(SB), NOSPLIT, $0-48
	GATHER(BODY256, DOT256, DOT256M, NOSETUP, PF256)

// func l2GatherAVX2(dst, q, base *float32, dim int, ids *uint32, n int)
TEXT ·l2GatherAVX2(SB), NOSPLIT, $0-48
	GATHER(BODY256, L2256, L2256M, NOSETUP, PF256)

// func l1GatherAVX2(dst, q, base *float32, dim int, ids *uint32, n int)
TEXT ·l1GatherAVX2(SB), NOSPLIT, $0-48
	GATHER(BODY256, L1256, L1256M, ABS256, PF256)

// func dotBatchAVX2(dst, q, base *float32, dim, rows int)
TEXT ·dotBatchAVX2(SB), NOSPLIT, $0-40
	BATCH(BODY256, DOT256, DOT256M, NOSETUP)

// func l2BatchAVX2(dst, q, base *float32, dim, rows int)
TEXT ·l2BatchAVX2(SB), NOSPLIT, $0-40
	BATCH(BODY256, L2256, L2256M, NOSETUP)

// func l1BatchAVX2(dst, q, base *float32, dim, rows int)
TEXT ·l1BatchAVX2(SB), NOSPLIT, $0-40
	BATCH(BODY256, L1256, L1256M, ABS256)
