//go:build amd64 && !purego

#include "textflag.h"
#include "hsum_amd64.h"

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
//   clobbers: SI, DI, CX, BX, R8 (gather), K1, Z0-Z7 and Z16-Z23 (AVX-512),
//             Y0-Y14 (AVX2)

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
// AVX-512: eight 16-lane accumulators, 128 floats per iteration (skipped, with
// its accumulators, below 128 floats), folded into four; then one 64-float
// block into the four; then up to three 16-float steps into accumulators 0-2;
// then one masked step for the last 0..15 floats into accumulator 3; then a
// tree reduction. Temporaries are Z16-Z23, the L1 abs mask is Z15.

#define DOT512(off, acc, t) \
	VMOVUPS off(SI), t; \
	VFMADD231PS off(DI), t, acc

#define DOT512M(acc) \
	VMOVUPS.Z (SI), K1, Z16; \
	VMOVUPS.Z (DI), K1, Z17; \
	VFMADD231PS Z17, Z16, acc

#define L2512(off, acc, t) \
	VMOVUPS off(SI), t; \
	VSUBPS off(DI), t, t; \
	VFMADD231PS t, t, acc

#define L2512M(acc) \
	VMOVUPS.Z (SI), K1, Z16; \
	VMOVUPS.Z (DI), K1, Z17; \
	VSUBPS Z17, Z16, Z16; \
	VFMADD231PS Z16, Z16, acc

#define L1512(off, acc, t) \
	VMOVUPS off(SI), t; \
	VSUBPS off(DI), t, t; \
	VPANDD Z15, t, t; \
	VADDPS t, acc, acc

#define L1512M(acc) \
	VMOVUPS.Z (SI), K1, Z16; \
	VMOVUPS.Z (DI), K1, Z17; \
	VSUBPS Z17, Z16, Z16; \
	VPANDD Z15, Z16, Z16; \
	VADDPS Z16, acc, acc

// PF512 prefetches the 512 bytes of a later row (cursor R8) at the offset of
// the 512 bytes of the current row being loaded.
#define PF512 \
	PREFETCHT0 (R8); \
	PREFETCHT0 64(R8); \
	PREFETCHT0 128(R8); \
	PREFETCHT0 192(R8); \
	PREFETCHT0 256(R8); \
	PREFETCHT0 320(R8); \
	PREFETCHT0 384(R8); \
	PREFETCHT0 448(R8); \
	ADDQ $512, R8

// PFREST prefetches what is left of the later row after the main loop: the
// lines from R8 up to and including the one holding its last float.
#define PFREST \
	LEAQ -4(R8)(CX*4), BX; \
pfrest: \
	CMPQ R8, BX; \
	JA pfdone; \
	PREFETCHT0 (R8); \
	ADDQ $64, R8; \
	JMP pfrest; \
pfdone: \
	PREFETCHT0 (BX)

#define NOPF

#define BODY512(STEP, STEPM, PF, PFT) \
	CMPQ CX, $128; \
	JB bsmall; \
	VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	VXORPS Z2, Z2, Z2; \
	VXORPS Z3, Z3, Z3; \
	VXORPS Z4, Z4, Z4; \
	VXORPS Z5, Z5, Z5; \
	VXORPS Z6, Z6, Z6; \
	VXORPS Z7, Z7, Z7; \
b128: \
	PF; \
	STEP(0, Z0, Z16); \
	STEP(64, Z1, Z17); \
	STEP(128, Z2, Z18); \
	STEP(192, Z3, Z19); \
	STEP(256, Z4, Z20); \
	STEP(320, Z5, Z21); \
	STEP(384, Z6, Z22); \
	STEP(448, Z7, Z23); \
	ADDQ $512, SI; \
	ADDQ $512, DI; \
	SUBQ $128, CX; \
	CMPQ CX, $128; \
	JAE b128; \
	VADDPS Z4, Z0, Z0; \
	VADDPS Z5, Z1, Z1; \
	VADDPS Z6, Z2, Z2; \
	VADDPS Z7, Z3, Z3; \
	JMP b64; \
bsmall: \
	VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	VXORPS Z2, Z2, Z2; \
	VXORPS Z3, Z3, Z3; \
b64: \
	PFT; \
	CMPQ CX, $64; \
	JB b16; \
	STEP(0, Z0, Z16); \
	STEP(64, Z1, Z17); \
	STEP(128, Z2, Z18); \
	STEP(192, Z3, Z19); \
	ADDQ $256, SI; \
	ADDQ $256, DI; \
	SUBQ $64, CX; \
b16: \
	CMPQ CX, $16; \
	JB btail; \
	STEP(0, Z0, Z16); \
	CMPQ CX, $32; \
	JB b16x1; \
	STEP(64, Z1, Z17); \
	CMPQ CX, $48; \
	JB b16x2; \
	STEP(128, Z2, Z18); \
	ADDQ $192, SI; \
	ADDQ $192, DI; \
	SUBQ $48, CX; \
	JMP btail; \
b16x2: \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
	JMP btail; \
b16x1: \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $16, CX; \
btail: \
	TESTQ CX, CX; \
	JEQ bsum; \
	MOVL $1, BX; \
	SHLL CX, BX; \
	DECL BX; \
	KMOVW BX, K1; \
	STEPM(Z3); \
bsum: \
	VADDPS Z1, Z0, Z0; \
	VADDPS Z3, Z2, Z2; \
	VADDPS Z2, Z0, Z0; \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS Y1, Y0, Y0; \
	HSUMPS8(Y0, X0, X1)

// ---------------------------------------------------------------------------
// AVX2: the same shape at half the width: eight 8-lane accumulators, 64
// floats per iteration, folded into four; one 32-float block; up to three
// 8-float steps; one masked step for the last 0..7 floats (VMASKMOVPS, which
// like the AVX-512 masked loads does not fault on masked-off lanes); a tree
// reduction. Temporaries are Y8-Y13, the tail mask Y14, the L1 abs mask Y15.

#define DOT256(off, acc, t) \
	VMOVUPS off(SI), t; \
	VFMADD231PS off(DI), t, acc

#define DOT256M(acc) \
	VMASKMOVPS (SI), Y14, Y8; \
	VMASKMOVPS (DI), Y14, Y9; \
	VFMADD231PS Y9, Y8, acc

#define L2256(off, acc, t) \
	VMOVUPS off(SI), t; \
	VSUBPS off(DI), t, t; \
	VFMADD231PS t, t, acc

#define L2256M(acc) \
	VMASKMOVPS (SI), Y14, Y8; \
	VMASKMOVPS (DI), Y14, Y9; \
	VSUBPS Y9, Y8, Y8; \
	VFMADD231PS Y8, Y8, acc

#define L1256(off, acc, t) \
	VMOVUPS off(SI), t; \
	VSUBPS off(DI), t, t; \
	VANDPS Y15, t, t; \
	VADDPS t, acc, acc

#define L1256M(acc) \
	VMASKMOVPS (SI), Y14, Y8; \
	VMASKMOVPS (DI), Y14, Y9; \
	VSUBPS Y9, Y8, Y8; \
	VANDPS Y15, Y8, Y8; \
	VADDPS Y8, acc, acc

#define PF256 \
	PREFETCHT0 (R8); \
	PREFETCHT0 64(R8); \
	PREFETCHT0 128(R8); \
	PREFETCHT0 192(R8); \
	ADDQ $256, R8

#define BODY256(STEP, STEPM, PF, PFT) \
	CMPQ CX, $64; \
	JB bsmall; \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
b64: \
	PF; \
	STEP(0, Y0, Y8); \
	STEP(32, Y1, Y9); \
	STEP(64, Y2, Y10); \
	STEP(96, Y3, Y11); \
	STEP(128, Y4, Y12); \
	STEP(160, Y5, Y13); \
	STEP(192, Y6, Y8); \
	STEP(224, Y7, Y9); \
	ADDQ $256, SI; \
	ADDQ $256, DI; \
	SUBQ $64, CX; \
	CMPQ CX, $64; \
	JAE b64; \
	VADDPS Y4, Y0, Y0; \
	VADDPS Y5, Y1, Y1; \
	VADDPS Y6, Y2, Y2; \
	VADDPS Y7, Y3, Y3; \
	JMP b32; \
bsmall: \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
b32: \
	PFT; \
	CMPQ CX, $32; \
	JB b8; \
	STEP(0, Y0, Y8); \
	STEP(32, Y1, Y9); \
	STEP(64, Y2, Y10); \
	STEP(96, Y3, Y11); \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $32, CX; \
b8: \
	CMPQ CX, $8; \
	JB btail; \
	STEP(0, Y0, Y8); \
	CMPQ CX, $16; \
	JB b8x1; \
	STEP(32, Y1, Y9); \
	CMPQ CX, $24; \
	JB b8x2; \
	STEP(64, Y2, Y10); \
	ADDQ $96, SI; \
	ADDQ $96, DI; \
	SUBQ $24, CX; \
	JMP btail; \
b8x2: \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $16, CX; \
	JMP btail; \
b8x1: \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $8, CX; \
btail: \
	TESTQ CX, CX; \
	JEQ bsum; \
	LEAQ tailmask<>+32(SB), BX; \
	SHLQ $2, CX; \
	SUBQ CX, BX; \
	VMOVDQU (BX), Y14; \
	STEPM(Y3); \
bsum: \
	VADDPS Y1, Y0, Y0; \
	VADDPS Y3, Y2, Y2; \
	VADDPS Y2, Y0, Y0; \
	HSUMPS8(Y0, X0, X1)

// ---------------------------------------------------------------------------
// Function templates.
//
// SINGLE: func name(a, b *float32, n int) float32
// GATHER: func name(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)
//         dst[i] = kernel(q, base[ids[i]*dim:]) for i < n, after checking
//         that (max id + 1) * dim <= baseLen; if not, it reads nothing and
//         returns false. The caller has checked dim >= 0, len(q) == dim and
//         len(dst) >= n. The check costs nothing extra: the largest id is
//         found in the loop that prefetches the first lines of every row,
//         whose prefetches cannot fault even for an id out of range. Prefetching: the
//         first two lines of every row up front, then rows 0..PFDIST-1 whole,
//         then row i+PFDIST while row i is computed, spread over its main
//         loop. On a 60000x784 matrix this is ~25% faster than no prefetching
//         and ~5% faster than a distance of 1, 3, 4 or 8 rows (KERNELS.md);
//         on rows already in cache it costs nothing measurable.
// BATCH:  func name(dst, q, base *float32, dim, rows int)
//         dst[i] = kernel(q, base[i*dim:]) for i < rows.

#define PFDIST 2

#define SINGLE(BODY, STEP, STEPM, SETUP) \
	MOVQ a+0(FP), SI; \
	MOVQ b+8(FP), DI; \
	MOVQ n+16(FP), CX; \
	SETUP; \
	BODY(STEP, STEPM, NOPF, NOPF); \
	VZEROUPPER; \
	MOVSS X0, ret+24(FP); \
	RET

#define GATHER(BODY, STEP, STEPM, SETUP, PF) \
	MOVQ dst+0(FP), R9; \
	MOVQ q+8(FP), R10; \
	MOVQ base+16(FP), R11; \
	MOVQ dim+32(FP), R12; \
	MOVQ ids+40(FP), R13; \
	MOVQ n+48(FP), DX; \
	MOVB $1, ok+56(FP); \
	TESTQ DX, DX; \
	JEQ gret; \
	SETUP; \
	XORQ CX, CX; \
	XORQ R8, R8; \
gfirst: \
	MOVL (R13)(CX*4), DI; \
	CMPQ DI, R8; \
	CMOVQHI DI, R8; \
	IMULQ R12, DI; \
	LEAQ (R11)(DI*4), DI; \
	PREFETCHT0 (DI); \
	PREFETCHT0 64(DI); \
	INCQ CX; \
	CMPQ CX, DX; \
	JB gfirst; \
	LEAQ 1(R8), AX; \
	IMULQ R12, AX; \
	JOS gbad; \
	CMPQ AX, baseLen+24(FP); \
	JHI gbad; \
	MOVQ DX, AX; \
	CMPQ AX, $PFDIST; \
	JBE gpre; \
	MOVQ $PFDIST, AX; \
gpre: \
	XORQ CX, CX; \
gpreloop: \
	MOVL (R13)(CX*4), DI; \
	IMULQ R12, DI; \
	LEAQ (R11)(DI*4), DI; \
	LEAQ -4(DI)(R12*4), BX; \
gpreline: \
	PREFETCHT0 (DI); \
	ADDQ $64, DI; \
	CMPQ DI, BX; \
	JBE gpreline; \
	PREFETCHT0 (BX); \
	INCQ CX; \
	CMPQ CX, AX; \
	JB gpreloop; \
gloop: \
	MOVL (R13), DI; \
	IMULQ R12, DI; \
	LEAQ (R11)(DI*4), DI; \
	MOVQ DI, R8; \
	CMPQ DX, $PFDIST; \
	JBE gcompute; \
	MOVL (PFDIST*4)(R13), R8; \
	IMULQ R12, R8; \
	LEAQ (R11)(R8*4), R8; \
gcompute: \
	MOVQ R10, SI; \
	MOVQ R12, CX; \
	BODY(STEP, STEPM, PF, PFREST); \
	MOVSS X0, (R9); \
	ADDQ $4, R9; \
	ADDQ $4, R13; \
	DECQ DX; \
	JNE gloop; \
	VZEROUPPER; \
gret: \
	RET; \
gbad: \
	MOVB $0, ok+56(FP); \
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
	BODY(STEP, STEPM, NOPF, NOPF); \
	MOVSS X0, (R9); \
	ADDQ $4, R9; \
	ADDQ R11, AX; \
	DECQ DX; \
	JNE bloop; \
bdone: \
	VZEROUPPER; \
	RET

// CHUNKS: func name(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)
//         dst[i] = kernel(q, row(ids[i])) for i < n, where the rows live in
//         chunks (chunked storage that grows without moving rows): row(id)
//         is chunks[id>>shift][(id&(1<<shift-1))*dim:], a slice header of 24
//         bytes each. First every id is checked (its chunk below nchunks,
//         its row inside the chunk's length) while the first lines of its
//         row are prefetched; if one fails it reads no row and returns false.
//         The caller has checked dim >= 0, len(q) == dim, len(dst) >= n and
//         shift <= 31. Then the same prefetching as GATHER. OK names the
//         result (ok+64(FP) here), EXIT is code placed after the return
//         (NOLEAVE here; see CHUNKSBELOW).

// CHUNKROW sets out to the address of the row of the id loaded from src
// (which must not use AX, BX or CX). Clobbers AX, BX, CX.
#define CHUNKROW(src, out) \
	MOVL src, out; \
	MOVQ shift+32(FP), CX; \
	MOVQ out, AX; \
	SHRQ CX, AX; \
	MOVQ $1, BX; \
	SHLQ CX, BX; \
	DECQ BX; \
	ANDQ BX, out; \
	IMULQ R12, out; \
	LEAQ (AX)(AX*2), AX; \
	MOVQ (R11)(AX*8), AX; \
	LEAQ (AX)(out*4), out

#define CHUNKS(BODY, STEP, STEPM, SETUP, PF, OK, EXIT) \
	MOVQ dst+0(FP), R9; \
	MOVQ q+8(FP), R10; \
	MOVQ chunks+16(FP), R11; \
	MOVQ dim+40(FP), R12; \
	MOVQ ids+48(FP), R13; \
	MOVQ n+56(FP), DX; \
	MOVB $1, OK; \
	TESTQ DX, DX; \
	JEQ cret; \
	SETUP; \
	MOVQ shift+32(FP), CX; \
	MOVQ $1, R8; \
	SHLQ CX, R8; \
	DECQ R8; \
	XORQ BX, BX; \
cfirst: \
	MOVL (R13)(BX*4), AX; \
	MOVQ AX, DI; \
	SHRQ CX, DI; \
	CMPQ DI, nchunks+24(FP); \
	JAE cbad; \
	ANDQ R8, AX; \
	IMULQ R12, AX; \
	LEAQ (DI)(DI*2), DI; \
	LEAQ (AX)(R12*1), SI; \
	CMPQ SI, 8(R11)(DI*8); \
	JHI cbad; \
	MOVQ (R11)(DI*8), SI; \
	LEAQ (SI)(AX*4), SI; \
	PREFETCHT0 (SI); \
	PREFETCHT0 64(SI); \
	INCQ BX; \
	CMPQ BX, DX; \
	JB cfirst; \
	MOVQ DX, SI; \
	CMPQ SI, $PFDIST; \
	JBE cpre; \
	MOVQ $PFDIST, SI; \
cpre: \
	XORQ R8, R8; \
cpreloop: \
	CHUNKROW((R13)(R8*4), DI); \
	LEAQ -4(DI)(R12*4), BX; \
cpreline: \
	PREFETCHT0 (DI); \
	ADDQ $64, DI; \
	CMPQ DI, BX; \
	JBE cpreline; \
	PREFETCHT0 (BX); \
	INCQ R8; \
	CMPQ R8, SI; \
	JB cpreloop; \
cloop: \
	CHUNKROW((R13), DI); \
	MOVQ DI, R8; \
	CMPQ DX, $PFDIST; \
	JBE ccompute; \
	CHUNKROW((PFDIST*4)(R13), R8); \
ccompute: \
	MOVQ R10, SI; \
	MOVQ R12, CX; \
	BODY(STEP, STEPM, PF, PFREST); \
	MOVSS X0, (R9); \
cnext: \
	ADDQ $4, R9; \
	ADDQ $4, R13; \
	DECQ DX; \
	JNE cloop; \
	VZEROUPPER; \
cret: \
	RET; \
	EXIT; \
cbad: \
	MOVB $0, OK; \
	VZEROUPPER; \
	RET

// CHUNKSBELOW: func name(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int, bound float32) (ok bool)
//         CHUNKS for a caller that keeps only distances below bound (a
//         top-k scan of squared L2 or L1 distances, whose partial sums only
//         grow): at the start of every iteration of the body's main loop
//         (64 floats in AVX2), CHK folds the accumulators into a copy through the same additions,
//         in the same order, as the body's own final reduction. Each
//         accumulator lane only grows (it adds non-negative terms, and
//         rounding to nearest is monotone), and so does each addition of
//         the reduction, so the copy is at most the row's full distance: once
//         it reaches bound, the full distance would too, and the row is left
//         there with dst[i] set to the copy (>= bound), its later lines
//         never read, nor those of the row being prefetched beyond the same
//         offset. A row that is not left has dst[i] bit-identical to CHUNKS.
//         A NaN bound leaves no row.

// CHK256 is the check of the AVX2 body; it clobbers Y8-Y11 (temporaries
// between steps) and the flags.
#define CHK256 \
	VADDPS Y4, Y0, Y8; \
	VADDPS Y5, Y1, Y9; \
	VADDPS Y6, Y2, Y10; \
	VADDPS Y7, Y3, Y11; \
	VADDPS Y9, Y8, Y8; \
	VADDPS Y11, Y10, Y10; \
	VADDPS Y10, Y8, Y8; \
	HSUMPS8(Y8, X8, X9); \
	VUCOMISS bound+64(FP), X8; \
	JAE cleave

#define PF256CHK \
	CHK256; \
	PF256

// CHUNKSBELOW is CHUNKS with the result after bound, and the exit that CHK
// takes from the body: the partial sum X8 stored as the row's result.
#define CHUNKSBELOW(BODY, STEP, STEPM, SETUP, PF) \
	CHUNKS(BODY, STEP, STEPM, SETUP, PF, ok+72(FP), LEAVE)

#define LEAVE \
cleave: \
	MOVSS X8, (R9); \
	JMP cnext

#define NOLEAVE

// ---------------------------------------------------------------------------
// MAXTILE: func name(best *[4]float32, q, base *float32, dim, n int)
//          For each of the n groups of four base rows (rows dim floats apart,
//          n >= 1), scores the four q rows against the group's four rows and
//          folds each q row's best score into best[i] (BEST = VMAXPS for dot
//          products, VMINPS for distances). One pass over the eight rows of a
//          group scores all sixteen pairs: each 16-float chunk is loaded once
//          and feeds four accumulators (Z(4i+r) for q row i, base row r), and
//          the horizontal reduction runs once per four pairs. The last 0..15
//          floats are loaded masked (zeros beyond dim). Used by MaxSim; the
//          sums are not bit-identical to the single-pair kernels' (different
//          association).

#define TDOT(qv, rv, acc) \
	VFMADD231PS rv, qv, acc

#define TL2(qv, rv, acc) \
	VSUBPS rv, qv, Z24; \
	VFMADD231PS Z24, Z24, acc

// TROW loads one base row's chunk into rv and adds its products with the
// four q chunks (Z16-Z19) into a0-a3.
#define TROW(OP, LOAD, src, rv, a0, a1, a2, a3) \
	LOAD(src, rv); \
	OP(Z16, rv, a0); \
	OP(Z17, rv, a1); \
	OP(Z18, rv, a2); \
	OP(Z19, rv, a3)

#define TROWS(OP, LOAD) \
	LOAD((SI)(BX*1), Z16); \
	LOAD((R8)(BX*1), Z17); \
	LOAD((R9)(BX*1), Z18); \
	LOAD((R10)(BX*1), Z19); \
	TROW(OP, LOAD, (DI)(BX*1), Z20, Z0, Z4, Z8, Z12); \
	TROW(OP, LOAD, (R11)(BX*1), Z21, Z1, Z5, Z9, Z13); \
	TROW(OP, LOAD, (R12)(BX*1), Z22, Z2, Z6, Z10, Z14); \
	TROW(OP, LOAD, (R13)(BX*1), Z23, Z3, Z7, Z11, Z15)

#define TLOAD(src, z) VMOVUPS src, z
#define TLOADM(src, z) VMOVUPS.Z src, K1, z

// TRED1 leaves the sum of z's 16 lanes in each of its lanes 0-3.
#define TRED1(z) \
	VSHUFF32X4 $0x4E, z, z, Z24; \
	VADDPS Z24, z, z; \
	VSHUFF32X4 $0xB1, z, z, Z24; \
	VADDPS Z24, z, z

// TRED4 sets xa to the four sums of za, zb, zc, zd.
#define TRED4(za, zb, zc, zd, xa, xb, xc, xd) \
	TRED1(za); \
	TRED1(zb); \
	TRED1(zc); \
	TRED1(zd); \
	VHADDPS xb, xa, xa; \
	VHADDPS xd, xc, xc; \
	VHADDPS xc, xa, xa

#define MAXTILE(OP, BEST) \
	MOVQ best+0(FP), AX; \
	MOVQ q+8(FP), SI; \
	MOVQ base+16(FP), DI; \
	MOVQ dim+24(FP), CX; \
	MOVQ CX, DX; \
	SHLQ $2, DX; \
	LEAQ (SI)(DX*1), R8; \
	LEAQ (R8)(DX*1), R9; \
	LEAQ (R9)(DX*1), R10; \
	ANDQ $15, CX; \
	MOVL $1, BX; \
	SHLL CX, BX; \
	DECL BX; \
	KMOVW BX, K1; \
ttile: \
	LEAQ (DI)(DX*1), R11; \
	LEAQ (R11)(DX*1), R12; \
	LEAQ (R12)(DX*1), R13; \
	VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	VXORPS Z2, Z2, Z2; \
	VXORPS Z3, Z3, Z3; \
	VXORPS Z4, Z4, Z4; \
	VXORPS Z5, Z5, Z5; \
	VXORPS Z6, Z6, Z6; \
	VXORPS Z7, Z7, Z7; \
	VXORPS Z8, Z8, Z8; \
	VXORPS Z9, Z9, Z9; \
	VXORPS Z10, Z10, Z10; \
	VXORPS Z11, Z11, Z11; \
	VXORPS Z12, Z12, Z12; \
	VXORPS Z13, Z13, Z13; \
	VXORPS Z14, Z14, Z14; \
	VXORPS Z15, Z15, Z15; \
	XORQ BX, BX; \
	MOVQ dim+24(FP), CX; \
	SUBQ $16, CX; \
	JLT ttail; \
tloop: \
	TROWS(OP, TLOAD); \
	ADDQ $64, BX; \
	SUBQ $16, CX; \
	JGE tloop; \
ttail: \
	ADDQ $16, CX; \
	JEQ tred; \
	TROWS(OP, TLOADM); \
tred: \
	TRED4(Z0, Z4, Z8, Z12, X0, X4, X8, X12); \
	TRED4(Z1, Z5, Z9, Z13, X1, X5, X9, X13); \
	TRED4(Z2, Z6, Z10, Z14, X2, X6, X10, X14); \
	TRED4(Z3, Z7, Z11, Z15, X3, X7, X11, X15); \
	BEST X1, X0, X0; \
	BEST X3, X2, X2; \
	BEST X2, X0, X0; \
	VMOVUPS (AX), X1; \
	BEST X1, X0, X0; \
	VMOVUPS X0, (AX); \
	LEAQ (R13)(DX*1), DI; \
	DECQ n+32(FP); \
	JNE ttile; \
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

// func dotGatherAVX512(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)
TEXT ·dotGatherAVX512(SB), NOSPLIT, $0-57
	GATHER(BODY512, DOT512, DOT512M, NOSETUP, PF512)

// func l2GatherAVX512(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)
TEXT ·l2GatherAVX512(SB), NOSPLIT, $0-57
	GATHER(BODY512, L2512, L2512M, NOSETUP, PF512)

// func l1GatherAVX512(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)
TEXT ·l1GatherAVX512(SB), NOSPLIT, $0-57
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

// func dotChunksAVX512(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)
TEXT ·dotChunksAVX512(SB), NOSPLIT, $0-65
	CHUNKS(BODY512, DOT512, DOT512M, NOSETUP, PF512, ok+64(FP), NOLEAVE)

// func l2ChunksAVX512(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)
TEXT ·l2ChunksAVX512(SB), NOSPLIT, $0-65
	CHUNKS(BODY512, L2512, L2512M, NOSETUP, PF512, ok+64(FP), NOLEAVE)

// func l1ChunksAVX512(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)
TEXT ·l1ChunksAVX512(SB), NOSPLIT, $0-65
	CHUNKS(BODY512, L1512, L1512M, ABS512, PF512, ok+64(FP), NOLEAVE)

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

// func dotGatherAVX2(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)
TEXT ·dotGatherAVX2(SB), NOSPLIT, $0-57
	GATHER(BODY256, DOT256, DOT256M, NOSETUP, PF256)

// func l2GatherAVX2(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)
TEXT ·l2GatherAVX2(SB), NOSPLIT, $0-57
	GATHER(BODY256, L2256, L2256M, NOSETUP, PF256)

// func l1GatherAVX2(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)
TEXT ·l1GatherAVX2(SB), NOSPLIT, $0-57
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

// func dotChunksAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)
TEXT ·dotChunksAVX2(SB), NOSPLIT, $0-65
	CHUNKS(BODY256, DOT256, DOT256M, NOSETUP, PF256, ok+64(FP), NOLEAVE)

// func l2ChunksAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)
TEXT ·l2ChunksAVX2(SB), NOSPLIT, $0-65
	CHUNKS(BODY256, L2256, L2256M, NOSETUP, PF256, ok+64(FP), NOLEAVE)

// func l1ChunksAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)
TEXT ·l1ChunksAVX2(SB), NOSPLIT, $0-65
	CHUNKS(BODY256, L1256, L1256M, ABS256, PF256, ok+64(FP), NOLEAVE)

// func l2ChunksBelowAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int, bound float32) (ok bool)
TEXT ·l2ChunksBelowAVX2(SB), NOSPLIT, $0-73
	CHUNKSBELOW(BODY256, L2256, L2256M, NOSETUP, PF256CHK)

// func l1ChunksBelowAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int, bound float32) (ok bool)
TEXT ·l1ChunksBelowAVX2(SB), NOSPLIT, $0-73
	CHUNKSBELOW(BODY256, L1256, L1256M, ABS256, PF256CHK)

// ---------------------------------------------------------------------------
// Dispatchers: jump to the AVX-512 flavour for lengths >= ·avx512Min and to
// the AVX2 flavour below it (·avx512Min is MaxInt when AVX-512 is not in use).
// The frames match, so a tail jump passes the arguments through unchanged,
// and the Go caller is saved a wrapper frame. Gather and batch dispatch on dim,
// so they pick the same flavour as the single-pair kernel on a row.

#define DISPATCH(LEN, AVX512, AVX2) \
	MOVQ LEN, AX; \
	CMPQ AX, ·avx512Min(SB); \
	JLT avx2; \
	JMP AVX512(SB); \
avx2: \
	JMP AVX2(SB)

// func dotAsm(a, b *float32, n int) float32
TEXT ·dotAsm(SB), NOSPLIT, $0-28
	DISPATCH(n+16(FP), ·dotAVX512, ·dotAVX2)

// func l2Asm(a, b *float32, n int) float32
TEXT ·l2Asm(SB), NOSPLIT, $0-28
	DISPATCH(n+16(FP), ·l2AVX512, ·l2AVX2)

// func l1Asm(a, b *float32, n int) float32
TEXT ·l1Asm(SB), NOSPLIT, $0-28
	DISPATCH(n+16(FP), ·l1AVX512, ·l1AVX2)

// func dotGatherAsm(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)
TEXT ·dotGatherAsm(SB), NOSPLIT, $0-57
	DISPATCH(dim+32(FP), ·dotGatherAVX512, ·dotGatherAVX2)

// func l2GatherAsm(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)
TEXT ·l2GatherAsm(SB), NOSPLIT, $0-57
	DISPATCH(dim+32(FP), ·l2GatherAVX512, ·l2GatherAVX2)

// func l1GatherAsm(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)
TEXT ·l1GatherAsm(SB), NOSPLIT, $0-57
	DISPATCH(dim+32(FP), ·l1GatherAVX512, ·l1GatherAVX2)

// func dotBatchAsm(dst, q, base *float32, dim, rows int)
TEXT ·dotBatchAsm(SB), NOSPLIT, $0-40
	DISPATCH(dim+24(FP), ·dotBatchAVX512, ·dotBatchAVX2)

// func l2BatchAsm(dst, q, base *float32, dim, rows int)
TEXT ·l2BatchAsm(SB), NOSPLIT, $0-40
	DISPATCH(dim+24(FP), ·l2BatchAVX512, ·l2BatchAVX2)

// func l1BatchAsm(dst, q, base *float32, dim, rows int)
TEXT ·l1BatchAsm(SB), NOSPLIT, $0-40
	DISPATCH(dim+24(FP), ·l1BatchAVX512, ·l1BatchAVX2)

// func dotChunksAsm(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)
TEXT ·dotChunksAsm(SB), NOSPLIT, $0-65
	DISPATCH(dim+40(FP), ·dotChunksAVX512, ·dotChunksAVX2)

// func l2ChunksAsm(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)
TEXT ·l2ChunksAsm(SB), NOSPLIT, $0-65
	DISPATCH(dim+40(FP), ·l2ChunksAVX512, ·l2ChunksAVX2)

// func l1ChunksAsm(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)
TEXT ·l1ChunksAsm(SB), NOSPLIT, $0-65
	DISPATCH(dim+40(FP), ·l1ChunksAVX512, ·l1ChunksAVX2)

// func dotMaxTileAVX512(best *[4]float32, q, base *float32, dim, n int)
TEXT ·dotMaxTileAVX512(SB), NOSPLIT, $0-40
	MAXTILE(TDOT, VMAXPS)

// func l2MinTileAVX512(best *[4]float32, q, base *float32, dim, n int)
TEXT ·l2MinTileAVX512(SB), NOSPLIT, $0-40
	MAXTILE(TL2, VMINPS)
