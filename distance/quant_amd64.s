//go:build amd64 && !purego

#include "textflag.h"
#include "hsum_amd64.h"

// Kernels for quantised and narrow rows (quant.go): byte dot / squared L2 /
// L1 (exact integer sums), float32 queries against float16 and uint8 rows,
// float16 conversions, and popcounts of binary codes.
//
// The AVX-512 kernels take any length and finish with one masked step (a
// masked load does not fault on masked-off bytes). The AVX2 kernels take a
// multiple of their block (16 bytes, 8 floats); the Go wrappers in
// quant_amd64.go finish the rest in Go.

DATA qabsmask<>+0(SB)/4, $0x7fffffff
GLOBL qabsmask<>(SB), RODATA|NOPTR, $4

DATA qbias<>+0(SB)/4, $0x80808080
GLOBL qbias<>(SB), RODATA|NOPTR, $4

// shifts8: qword lane p shifts left by p; shifts4: lane p by p mod 4;
// pairs4: VPERMQ index repeating qword 0 four times, then qword 1.
DATA shifts8<>+0(SB)/8, $0
DATA shifts8<>+8(SB)/8, $1
DATA shifts8<>+16(SB)/8, $2
DATA shifts8<>+24(SB)/8, $3
DATA shifts8<>+32(SB)/8, $4
DATA shifts8<>+40(SB)/8, $5
DATA shifts8<>+48(SB)/8, $6
DATA shifts8<>+56(SB)/8, $7
GLOBL shifts8<>(SB), RODATA|NOPTR, $64

DATA shifts4<>+0(SB)/8, $0
DATA shifts4<>+8(SB)/8, $1
DATA shifts4<>+16(SB)/8, $2
DATA shifts4<>+24(SB)/8, $3
DATA shifts4<>+32(SB)/8, $0
DATA shifts4<>+40(SB)/8, $1
DATA shifts4<>+48(SB)/8, $2
DATA shifts4<>+56(SB)/8, $3
GLOBL shifts4<>(SB), RODATA|NOPTR, $64

DATA pairs4<>+0(SB)/8, $0
DATA pairs4<>+8(SB)/8, $0
DATA pairs4<>+16(SB)/8, $0
DATA pairs4<>+24(SB)/8, $0
DATA pairs4<>+32(SB)/8, $1
DATA pairs4<>+40(SB)/8, $1
DATA pairs4<>+48(SB)/8, $1
DATA pairs4<>+56(SB)/8, $1
GLOBL pairs4<>(SB), RODATA|NOPTR, $64

// pqoffs: dword lane j holds j*256, the start of sub-vector j's table
// within a block of 16 tables.
DATA pqoffs<>+0(SB)/4, $0
DATA pqoffs<>+4(SB)/4, $256
DATA pqoffs<>+8(SB)/4, $512
DATA pqoffs<>+12(SB)/4, $768
DATA pqoffs<>+16(SB)/4, $1024
DATA pqoffs<>+20(SB)/4, $1280
DATA pqoffs<>+24(SB)/4, $1536
DATA pqoffs<>+28(SB)/4, $1792
DATA pqoffs<>+32(SB)/4, $2048
DATA pqoffs<>+36(SB)/4, $2304
DATA pqoffs<>+40(SB)/4, $2560
DATA pqoffs<>+44(SB)/4, $2816
DATA pqoffs<>+48(SB)/4, $3072
DATA pqoffs<>+52(SB)/4, $3328
DATA pqoffs<>+56(SB)/4, $3584
DATA pqoffs<>+60(SB)/4, $3840
GLOBL pqoffs<>(SB), RODATA|NOPTR, $64

// REDUCED32 sums the 16 dword lanes of Z0 into AX. Clobbers Z1.
#define REDUCED32 \
	VEXTRACTI64X4 $1, Z0, Y1; \
	VPADDD Y1, Y0, Y0; \
	VEXTRACTI128 $1, Y0, X1; \
	VPADDD X1, X0, X0; \
	VPSHUFD $0x4e, X0, X1; \
	VPADDD X1, X0, X0; \
	VPSHUFD $0xb1, X0, X1; \
	VPADDD X1, X0, X0; \
	VMOVD X0, AX

// REDUCEQ64(Z, Y, X, T, TY, TX, R) sums the 8 qword lanes of Z into R.
#define REDUCEQ64(Z, Y, X, T, TY, TX, R) \
	VEXTRACTI64X4 $1, Z, TY; \
	VPADDQ TY, Y, Y; \
	VEXTRACTI128 $1, Y, TX; \
	VPADDQ TX, X, X; \
	VPSHUFD $0x4e, X, TX; \
	VPADDQ TX, X, X; \
	VMOVQ X, R

// REDUCEF32 sums the 16 float lanes of Z0 into X0 (lane 0). Clobbers Z1.
#define REDUCEF32 \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS Y1, Y0, Y0; \
	HSUMPS8(Y0, X0, X1)

// TAILMASK64 sets K1 to the low CX bits (CX < 64). Clobbers BX.
#define TAILMASK64 \
	MOVQ $1, BX; \
	SHLQ CX, BX; \
	DECQ BX; \
	KMOVQ BX, K1

// REDUCED32Y sums the 8 dword lanes of Y0 into AX. Clobbers Y1.
#define REDUCED32Y \
	VEXTRACTI128 $1, Y0, X1; \
	VPADDD X1, X0, X0; \
	VPSHUFD $0x4e, X0, X1; \
	VPADDD X1, X0, X0; \
	VPSHUFD $0xb1, X0, X1; \
	VPADDD X1, X0, X0; \
	VMOVD X0, AX

#define F16LOAD(off, t) \
	VCVTPH2PS off(DI), t

#define F16LOADM(t) \
	VMOVDQU16.Z (DI), K1, Y4; \
	VCVTPH2PS Y4, t

#define U8LOAD(off, t) \
	VPMOVZXBD off(DI), t; \
	VCVTDQ2PS t, t

#define U8LOADM(t) \
	VMOVDQU8.Z (DI), K1, X4; \
	VPMOVZXBD X4, t; \
	VCVTDQ2PS t, t

#define DOTSTEP(src, acc, t) \
	VFMADD231PS src, t, acc

#define L2STEP(src, acc, t) \
	VSUBPS src, t, t; \
	VFMADD231PS t, t, acc

#define L1STEP(src, acc, t) \
	VSUBPS src, t, t; \
	VPANDD Z15, t, t; \
	VADDPS t, acc, acc

#define ROW512(LOAD, LOADM, O1, O2, O3, RB, RB4, STEP) \
	MOVQ q+0(FP), SI; \
	MOVQ row+8(FP), DI; \
	MOVQ n+16(FP), CX; \
	VPBROADCASTD qabsmask<>(SB), Z15; \
	VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	VXORPS Z2, Z2, Z2; \
	VXORPS Z3, Z3, Z3; \
r64: \
	CMPQ CX, $64; \
	JB r16; \
	LOAD(0, Z5); \
	LOAD(O1, Z6); \
	LOAD(O2, Z7); \
	LOAD(O3, Z8); \
	STEP(0(SI), Z0, Z5); \
	STEP(64(SI), Z1, Z6); \
	STEP(128(SI), Z2, Z7); \
	STEP(192(SI), Z3, Z8); \
	ADDQ $256, SI; \
	ADDQ $RB4, DI; \
	SUBQ $64, CX; \
	JMP r64; \
r16: \
	CMPQ CX, $16; \
	JB rtail; \
	LOAD(0, Z5); \
	STEP(0(SI), Z0, Z5); \
	ADDQ $64, SI; \
	ADDQ $RB, DI; \
	SUBQ $16, CX; \
	JMP r16; \
rtail: \
	TESTQ CX, CX; \
	JEQ rsum; \
	MOVL $1, BX; \
	SHLL CX, BX; \
	DECL BX; \
	KMOVW BX, K1; \
	LOADM(Z5); \
	VMOVUPS.Z (SI), K1, Z9; \
	STEP(Z9, Z1, Z5); \
rsum: \
	VADDPS Z1, Z0, Z0; \
	VADDPS Z3, Z2, Z2; \
	VADDPS Z2, Z0, Z0; \
	REDUCEF32; \
	MOVSS X0, ret+24(FP); \
	VZEROUPPER; \
	RET

#define F16LOAD256(off, t) \
	VCVTPH2PS off(DI), t

#define U8LOAD256(off, t) \
	VPMOVZXBD off(DI), t; \
	VCVTDQ2PS t, t

#define DOTSTEP256(src, acc, t) \
	VFMADD231PS src, t, acc

#define L2STEP256(src, acc, t) \
	VSUBPS src, t, t; \
	VFMADD231PS t, t, acc

#define L1STEP256(src, acc, t) \
	VSUBPS src, t, t; \
	VANDPS Y15, t, t; \
	VADDPS t, acc, acc

#define ROW256(LOAD, O1, O2, O3, RB, RB4, STEP) \
	MOVQ q+0(FP), SI; \
	MOVQ row+8(FP), DI; \
	MOVQ n+16(FP), CX; \
	VBROADCASTSS qabsmask<>(SB), Y15; \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
s32: \
	CMPQ CX, $32; \
	JB s8; \
	LOAD(0, Y5); \
	LOAD(O1, Y6); \
	LOAD(O2, Y7); \
	LOAD(O3, Y8); \
	STEP(0(SI), Y0, Y5); \
	STEP(32(SI), Y1, Y6); \
	STEP(64(SI), Y2, Y7); \
	STEP(96(SI), Y3, Y8); \
	ADDQ $128, SI; \
	ADDQ $RB4, DI; \
	SUBQ $32, CX; \
	JMP s32; \
s8: \
	CMPQ CX, $8; \
	JB ssum; \
	LOAD(0, Y5); \
	STEP(0(SI), Y0, Y5); \
	ADDQ $32, SI; \
	ADDQ $RB, DI; \
	SUBQ $8, CX; \
	JMP s8; \
ssum: \
	VADDPS Y1, Y0, Y0; \
	VADDPS Y3, Y2, Y2; \
	VADDPS Y2, Y0, Y0; \
	HSUMPS8(Y0, X0, X1); \
	MOVSS X0, ret+24(FP); \
	VZEROUPPER; \
	RET

#define POPBODY(OP) \
	VPXORQ Z0, Z0, Z0; \
	VPXORQ Z1, Z1, Z1; \
p16: \
	CMPQ CX, $16; \
	JB p8; \
	VMOVDQU64 (SI), Z2; \
	VMOVDQU64 64(SI), Z3; \
	OP (DI), Z2, Z2; \
	OP 64(DI), Z3, Z3; \
	VPOPCNTQ Z2, Z2; \
	VPOPCNTQ Z3, Z3; \
	VPADDQ Z2, Z0, Z0; \
	VPADDQ Z3, Z1, Z1; \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $16, CX; \
	JMP p16; \
p8: \
	CMPQ CX, $8; \
	JB ptail; \
	VMOVDQU64 (SI), Z2; \
	OP (DI), Z2, Z2; \
	VPOPCNTQ Z2, Z2; \
	VPADDQ Z2, Z0, Z0; \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $8, CX; \
ptail: \
	TESTQ CX, CX; \
	JEQ psum; \
	MOVL $1, BX; \
	SHLL CX, BX; \
	DECL BX; \
	KMOVW BX, K1; \
	VMOVDQU64.Z (SI), K1, Z2; \
	VMOVDQU64.Z (DI), K1, Z3; \
	OP Z3, Z2, Z2; \
	VPOPCNTQ Z2, Z2; \
	VPADDQ Z2, Z1, Z1; \
psum: \
	VPADDQ Z1, Z0, Z0; \
	REDUCEQ64(Z0, Y0, X0, Z1, Y1, X1, AX)

// U8DOTBODY, U8L2BODY and U8L1BODY are the AVX-512 byte kernels: in SI =
// a, DI = b, CX = n (>= 0); out AX = the exact sum. They clobber BX, CX,
// SI, DI, K1, Z0-Z9, Z30, Z31.
#define U8DOTBODY \
	VPBROADCASTD qbias<>(SB), Z31; \
	VPXORD Z30, Z30, Z30; \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
d128:; \
	CMPQ CX, $128; \
	JB d64; \
	VMOVDQU8 (SI), Z4; \
	VMOVDQU8 64(SI), Z5; \
	VPXORD (DI), Z31, Z6; \
	VPXORD 64(DI), Z31, Z7; \
	VPDPBUSD Z6, Z4, Z0; \
	VPDPBUSD Z7, Z5, Z1; \
	VPSADBW Z30, Z4, Z8; \
	VPSADBW Z30, Z5, Z9; \
	VPADDQ Z8, Z2, Z2; \
	VPADDQ Z9, Z3, Z3; \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $128, CX; \
	JMP d128; \
d64:; \
	CMPQ CX, $64; \
	JB dtail; \
	VMOVDQU8 (SI), Z4; \
	VPXORD (DI), Z31, Z6; \
	VPDPBUSD Z6, Z4, Z0; \
	VPSADBW Z30, Z4, Z8; \
	VPADDQ Z8, Z2, Z2; \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $64, CX; \
dtail:; \
	TESTQ CX, CX; \
	JEQ dsum; \
	TAILMASK64; \
	VMOVDQU8.Z (SI), K1, Z4; \
	VMOVDQU8.Z (DI), K1, Z6; \
	VPXORD Z6, Z31, Z6; \
	VPDPBUSD Z6, Z4, Z1; \
	VPSADBW Z30, Z4, Z8; \
	VPADDQ Z8, Z3, Z3; \
dsum:; \
	VPADDD Z1, Z0, Z0; \
	VPADDQ Z3, Z2, Z2; \
	REDUCED32; \
	REDUCEQ64(Z2, Y2, X2, Z3, Y3, X3, BX); \
	SHLQ $7, BX; \
	ADDL BX, AX

// U8DOT7BODY is U8DOTBODY for b's bytes at most 127: VPDPBUSD takes them
// as signed bytes as they are, with no bias and no correction (a third of
// U8DOTBODY's instructions). Bytes of b above 127 give a wrong sum. Same
// registers as U8DOTBODY.
#define U8DOT7BODY \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
s256:; \
	CMPQ CX, $256; \
	JB s64; \
	VMOVDQU8 (SI), Z4; \
	VMOVDQU8 64(SI), Z5; \
	VMOVDQU8 128(SI), Z6; \
	VMOVDQU8 192(SI), Z7; \
	VPDPBUSD (DI), Z4, Z0; \
	VPDPBUSD 64(DI), Z5, Z1; \
	VPDPBUSD 128(DI), Z6, Z2; \
	VPDPBUSD 192(DI), Z7, Z3; \
	ADDQ $256, SI; \
	ADDQ $256, DI; \
	SUBQ $256, CX; \
	JMP s256; \
s64:; \
	CMPQ CX, $64; \
	JB stail; \
	VMOVDQU8 (SI), Z4; \
	VPDPBUSD (DI), Z4, Z0; \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $64, CX; \
	JMP s64; \
stail:; \
	TESTQ CX, CX; \
	JEQ ssum; \
	TAILMASK64; \
	VMOVDQU8.Z (SI), K1, Z4; \
	VMOVDQU8.Z (DI), K1, Z5; \
	VPDPBUSD Z5, Z4, Z1; \
ssum:; \
	VPADDD Z1, Z0, Z0; \
	VPADDD Z3, Z2, Z2; \
	VPADDD Z2, Z0, Z0; \
	REDUCED32

#define U8L2BODY \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
e64:; \
	CMPQ CX, $64; \
	JB e32; \
	VPMOVZXBW (SI), Z4; \
	VPMOVZXBW 32(SI), Z5; \
	VPMOVZXBW (DI), Z6; \
	VPMOVZXBW 32(DI), Z7; \
	VPSUBW Z6, Z4, Z4; \
	VPSUBW Z7, Z5, Z5; \
	VPDPWSSD Z4, Z4, Z0; \
	VPDPWSSD Z5, Z5, Z1; \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $64, CX; \
	JMP e64; \
e32:; \
	CMPQ CX, $32; \
	JB etail; \
	VPMOVZXBW (SI), Z4; \
	VPMOVZXBW (DI), Z6; \
	VPSUBW Z6, Z4, Z4; \
	VPDPWSSD Z4, Z4, Z0; \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $32, CX; \
etail:; \
	TESTQ CX, CX; \
	JEQ esum; \
	TAILMASK64; \
	VMOVDQU8.Z (SI), K1, Y4; \
	VMOVDQU8.Z (DI), K1, Y6; \
	VPMOVZXBW Y4, Z4; \
	VPMOVZXBW Y6, Z6; \
	VPSUBW Z6, Z4, Z4; \
	VPDPWSSD Z4, Z4, Z1; \
esum:; \
	VPADDD Z1, Z0, Z0; \
	REDUCED32

#define U8L1BODY \
	VPXORQ Z0, Z0, Z0; \
	VPXORQ Z1, Z1, Z1; \
f128:; \
	CMPQ CX, $128; \
	JB f64; \
	VMOVDQU8 (SI), Z4; \
	VMOVDQU8 64(SI), Z5; \
	VPSADBW (DI), Z4, Z4; \
	VPSADBW 64(DI), Z5, Z5; \
	VPADDQ Z4, Z0, Z0; \
	VPADDQ Z5, Z1, Z1; \
	ADDQ $128, SI; \
	ADDQ $128, DI; \
	SUBQ $128, CX; \
	JMP f128; \
f64:; \
	CMPQ CX, $64; \
	JB ftail; \
	VMOVDQU8 (SI), Z4; \
	VPSADBW (DI), Z4, Z4; \
	VPADDQ Z4, Z0, Z0; \
	ADDQ $64, SI; \
	ADDQ $64, DI; \
	SUBQ $64, CX; \
ftail:; \
	TESTQ CX, CX; \
	JEQ fsum; \
	TAILMASK64; \
	VMOVDQU8.Z (SI), K1, Z4; \
	VMOVDQU8.Z (DI), K1, Z5; \
	VPSADBW Z5, Z4, Z4; \
	VPADDQ Z4, Z1, Z1; \
fsum:; \
	VPADDQ Z1, Z0, Z0; \
	REDUCEQ64(Z0, Y0, X0, Z1, Y1, X1, AX)


// U8GATHER(BODY, SCALE) scores q against the rows named by ids: row id
// starts at rows + id*stride and holds dim elements of SCALE bytes; while
// one is scored, the row two ahead is prefetched (and row 1 before row 0
// is scored, so that only row 0 starts cold). BODY is a byte kernel or
// POPBODY (elements are then uint64 words).
// The caller has checked that every row lies inside rows.
#define GAHEAD 2

#define U8GATHER(BODY, SCALE) \
	MOVQ dst+0(FP), R8; \
	MOVQ q+8(FP), R9; \
	MOVQ rows+16(FP), R10; \
	MOVQ stride+24(FP), R11; \
	MOVQ dim+32(FP), R12; \
	MOVQ ids+40(FP), R13; \
	MOVQ n+48(FP), R14; \
	MOVQ $1, AX; \
gpro: \
	CMPQ AX, R14; \
	JAE gnext; \
	CMPQ AX, $GAHEAD; \
	JAE gnext; \
	MOVL (R13)(AX*4), DX; \
	IMULQ R11, DX; \
	ADDQ R10, DX; \
	LEAQ -1(DX)(R12*SCALE), BX; \
gpf1: \
	CMPQ DX, BX; \
	JA gpf1last; \
	PREFETCHT0 (DX); \
	ADDQ $64, DX; \
	JMP gpf1; \
gpf1last: \
	PREFETCHT0 (BX); \
	INCQ AX; \
	JMP gpro; \
gnext: \
	TESTQ R14, R14; \
	JEQ gdone; \
	CMPQ R14, $GAHEAD; \
	JBE gnopf; \
	MOVL (4*GAHEAD)(R13), DX; \
	IMULQ R11, DX; \
	ADDQ R10, DX; \
	LEAQ -1(DX)(R12*SCALE), BX; \
gpf: \
	CMPQ DX, BX; \
	JA gpflast; \
	PREFETCHT0 (DX); \
	ADDQ $64, DX; \
	JMP gpf; \
gpflast: \
	PREFETCHT0 (BX); \
gnopf: \
	MOVL (R13), DI; \
	IMULQ R11, DI; \
	ADDQ R10, DI; \
	MOVQ R9, SI; \
	MOVQ R12, CX; \
	BODY; \
	MOVL AX, (R8); \
	ADDQ $4, R8; \
	ADDQ $4, R13; \
	DECQ R14; \
	JMP gnext; \
gdone: \
	VZEROUPPER; \
	RET

// ---------------------------------------------------------------------------
// Gathers without AVX-512 (AVX2 and POPCNT).

// GATHER2(BODY) is U8GATHER for the AVX2 and POPCNT bodies: while row i is
// scored, row i+ahead is prefetched whole, stride bytes from its start (so
// that a row's trailer, read after the gather, is in cache too); rows 1 to
// ahead-1 are prefetched before row 0 is scored (ahead >= 1, the caller's
// choice: short rows need more in flight). BODY scores q (SI)
// against the row at DI over CX elements into AX and may clobber BX, DX,
// SI, DI, CX and the vector registers.
#define GATHER2(BODY) \
	MOVQ dst+0(FP), R8; \
	MOVQ q+8(FP), R9; \
	MOVQ rows+16(FP), R10; \
	MOVQ stride+24(FP), R11; \
	MOVQ dim+32(FP), R12; \
	MOVQ ids+40(FP), R13; \
	MOVQ n+48(FP), R14; \
	MOVQ $1, AX; \
hpro: \
	CMPQ AX, R14; \
	JAE hnext; \
	CMPQ AX, ahead+56(FP); \
	JAE hnext; \
	MOVL (R13)(AX*4), DX; \
	IMULQ R11, DX; \
	ADDQ R10, DX; \
	LEAQ -1(DX)(R11*1), BX; \
hpf1: \
	CMPQ DX, BX; \
	JA hpf1last; \
	PREFETCHT0 (DX); \
	ADDQ $64, DX; \
	JMP hpf1; \
hpf1last: \
	PREFETCHT0 (BX); \
	INCQ AX; \
	JMP hpro; \
hnext: \
	TESTQ R14, R14; \
	JEQ hdone; \
	MOVQ ahead+56(FP), AX; \
	CMPQ R14, AX; \
	JBE hnopf; \
	MOVL (R13)(AX*4), DX; \
	IMULQ R11, DX; \
	ADDQ R10, DX; \
	LEAQ -1(DX)(R11*1), BX; \
hpf: \
	CMPQ DX, BX; \
	JA hpflast; \
	PREFETCHT0 (DX); \
	ADDQ $64, DX; \
	JMP hpf; \
hpflast: \
	PREFETCHT0 (BX); \
hnopf: \
	MOVL (R13), DI; \
	IMULQ R11, DI; \
	ADDQ R10, DI; \
	MOVQ R9, SI; \
	MOVQ R12, CX; \
	BODY; \
	MOVL AX, (R8); \
	ADDQ $4, R8; \
	ADDQ $4, R13; \
	DECQ R14; \
	JMP hnext; \
hdone: \
	VZEROUPPER; \
	RET

// U7DOTBODY2: q (any bytes) · row (bytes at most 127) over CX bytes.
// VPMADDUBSW multiplies the row's bytes, unsigned, by q's biased to signed
// (q XOR 0x80 = q - 128): each pair sums to at most 2·127·128 in magnitude,
// so nothing saturates, and q·r = Σ r·(q-128) + 128·Σr, Σr from VPSADBW
// (qword sums, below 2^32 for any row shorter than 2^24 bytes, added as
// dwords). The last CX mod 16 bytes are summed one at a time.
#define U7DOTBODY2 \
	VPBROADCASTD qbias<>(SB), Y15; \
	MOVL $0x00010001, AX; \
	VMOVD AX, X14; \
	VPBROADCASTD X14, Y14; \
	VPXOR Y13, Y13, Y13; \
	VPXOR Y0, Y0, Y0; \
	VPXOR Y1, Y1, Y1; \
	XORL DX, DX; \
u7b32: \
	CMPQ CX, $32; \
	JB u7b16; \
	VMOVDQU (DI), Y4; \
	VPXOR (SI), Y15, Y5; \
	VPMADDUBSW Y5, Y4, Y6; \
	VPMADDWD Y14, Y6, Y6; \
	VPADDD Y6, Y0, Y0; \
	VPSADBW Y13, Y4, Y7; \
	VPADDQ Y7, Y1, Y1; \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $32, CX; \
	JMP u7b32; \
u7b16: \
	CMPQ CX, $16; \
	JB u7b1; \
	VMOVDQU (DI), X4; \
	VPXOR (SI), X15, X5; \
	VPMADDUBSW X5, X4, X6; \
	VPMADDWD X14, X6, X6; \
	VPADDD Y6, Y0, Y0; \
	VPSADBW X13, X4, X7; \
	VPADDQ Y7, Y1, Y1; \
	ADDQ $16, SI; \
	ADDQ $16, DI; \
	SUBQ $16, CX; \
u7b1: \
	TESTQ CX, CX; \
	JEQ u7sum; \
	MOVBLZX (SI), AX; \
	MOVBLZX (DI), BX; \
	IMULL BX, AX; \
	ADDL AX, DX; \
	INCQ SI; \
	INCQ DI; \
	DECQ CX; \
	JMP u7b1; \
u7sum: \
	VPSLLQ $7, Y1, Y1; \
	VPADDD Y1, Y0, Y0; \
	REDUCED32Y; \
	ADDL DX, AX

// XORPOPBODY2: Σ popcount(q XOR row) over CX uint64 words with POPCNT,
// four words a step in two chains.
#define XORPOPBODY2 \
	XORL AX, AX; \
	XORL DX, DX; \
x4: \
	CMPQ CX, $4; \
	JB x1; \
	MOVQ (SI), BX; \
	XORQ (DI), BX; \
	POPCNTQ BX, BX; \
	ADDQ BX, AX; \
	MOVQ 8(SI), BX; \
	XORQ 8(DI), BX; \
	POPCNTQ BX, BX; \
	ADDQ BX, DX; \
	MOVQ 16(SI), BX; \
	XORQ 16(DI), BX; \
	POPCNTQ BX, BX; \
	ADDQ BX, AX; \
	MOVQ 24(SI), BX; \
	XORQ 24(DI), BX; \
	POPCNTQ BX, BX; \
	ADDQ BX, DX; \
	ADDQ $32, SI; \
	ADDQ $32, DI; \
	SUBQ $4, CX; \
	JMP x4; \
x1: \
	TESTQ CX, CX; \
	JEQ xsum; \
	MOVQ (SI), BX; \
	XORQ (DI), BX; \
	POPCNTQ BX, BX; \
	ADDQ BX, AX; \
	ADDQ $8, SI; \
	ADDQ $8, DI; \
	DECQ CX; \
	JMP x1; \
xsum: \
	ADDQ DX, AX

// ---------------------------------------------------------------------------
// Bytes, AVX-512 (BW + VNNI).

// func dotU8AVX512(a, b *byte, n int) uint32
//
// VPDPBUSD multiplies unsigned bytes by signed bytes; b is biased to signed
// (b XOR 0x80 = b - 128) and a·b = a·(b-128) + 128·Σa, Σa from VPSADBW.
TEXT ·dotU8AVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	U8DOTBODY
	MOVL AX, ret+24(FP)
	VZEROUPPER
	RET

// func l2U8AVX512(a, b *byte, n int) uint32
//
// Bytes widen to words, the differences (-255..255) are squared and summed
// in pairs into dwords by VPDPWSSD.
TEXT ·l2U8AVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	U8L2BODY
	MOVL AX, ret+24(FP)
	VZEROUPPER
	RET

// func l1U8AVX512(a, b *byte, n int) uint32
TEXT ·l1U8AVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	U8L1BODY
	MOVL AX, ret+24(FP)
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// Bytes, AVX2: n is a multiple of 16.


// func dotU8AVX2(a, b *byte, n int) uint32
TEXT ·dotU8AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
g32:
	CMPQ CX, $32
	JB g16
	VPMOVZXBW (SI), Y4
	VPMOVZXBW 16(SI), Y5
	VPMOVZXBW (DI), Y6
	VPMOVZXBW 16(DI), Y7
	VPMADDWD Y6, Y4, Y4
	VPMADDWD Y7, Y5, Y5
	VPADDD Y4, Y0, Y0
	VPADDD Y5, Y1, Y1
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $32, CX
	JMP g32
g16:
	CMPQ CX, $16
	JB gsum
	VPMOVZXBW (SI), Y4
	VPMOVZXBW (DI), Y6
	VPMADDWD Y6, Y4, Y4
	VPADDD Y4, Y0, Y0
gsum:
	VPADDD Y1, Y0, Y0
	REDUCED32Y
	MOVL AX, ret+24(FP)
	VZEROUPPER
	RET

// func l2U8AVX2(a, b *byte, n int) uint32
TEXT ·l2U8AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
h32:
	CMPQ CX, $32
	JB h16
	VPMOVZXBW (SI), Y4
	VPMOVZXBW 16(SI), Y5
	VPMOVZXBW (DI), Y6
	VPMOVZXBW 16(DI), Y7
	VPSUBW Y6, Y4, Y4
	VPSUBW Y7, Y5, Y5
	VPMADDWD Y4, Y4, Y4
	VPMADDWD Y5, Y5, Y5
	VPADDD Y4, Y0, Y0
	VPADDD Y5, Y1, Y1
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $32, CX
	JMP h32
h16:
	CMPQ CX, $16
	JB hsum
	VPMOVZXBW (SI), Y4
	VPMOVZXBW (DI), Y6
	VPSUBW Y6, Y4, Y4
	VPMADDWD Y4, Y4, Y4
	VPADDD Y4, Y0, Y0
hsum:
	VPADDD Y1, Y0, Y0
	REDUCED32Y
	MOVL AX, ret+24(FP)
	VZEROUPPER
	RET

// func l1U8AVX2(a, b *byte, n int) uint32
TEXT ·l1U8AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
i64:
	CMPQ CX, $64
	JB i32
	VMOVDQU (SI), Y4
	VMOVDQU 32(SI), Y5
	VPSADBW (DI), Y4, Y4
	VPSADBW 32(DI), Y5, Y5
	VPADDQ Y4, Y0, Y0
	VPADDQ Y5, Y1, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $64, CX
	JMP i64
i32:
	CMPQ CX, $32
	JB i16
	VMOVDQU (SI), Y4
	VPSADBW (DI), Y4, Y4
	VPADDQ Y4, Y0, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $32, CX
i16:
	CMPQ CX, $16
	JB isum
	VMOVDQU (SI), X4
	VPSADBW (DI), X4, X4
	VPADDQ Y4, Y1, Y1
isum:
	VPADDQ Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPADDQ X1, X0, X0
	VMOVQ X0, AX
	MOVL AX, ret+24(FP)
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// Float32 query (SI) against narrow rows (DI), AVX-512: four accumulators,
// 64 elements per iteration, then 16-element steps, then one masked step.
// LOAD(off, t) widens 16 row elements at off(DI) into float32 lanes of t;
// LOADM(t) does so for the first CX (< 16) under K1; RB is the row bytes of
// 16 elements. STEP(src, acc, t) folds query lanes src with row lanes t.









// func dotF16AVX512(q *float32, row *uint16, n int) float32
TEXT ·dotF16AVX512(SB), NOSPLIT, $0-28
	ROW512(F16LOAD, F16LOADM, 32, 64, 96, 32, 128, DOTSTEP)

// func l2F16AVX512(q *float32, row *uint16, n int) float32
TEXT ·l2F16AVX512(SB), NOSPLIT, $0-28
	ROW512(F16LOAD, F16LOADM, 32, 64, 96, 32, 128, L2STEP)

// func l1F16AVX512(q *float32, row *uint16, n int) float32
TEXT ·l1F16AVX512(SB), NOSPLIT, $0-28
	ROW512(F16LOAD, F16LOADM, 32, 64, 96, 32, 128, L1STEP)

// func dotU8F32AVX512(q *float32, row *byte, n int) float32
TEXT ·dotU8F32AVX512(SB), NOSPLIT, $0-28
	ROW512(U8LOAD, U8LOADM, 16, 32, 48, 16, 64, DOTSTEP)

// func l2U8F32AVX512(q *float32, row *byte, n int) float32
TEXT ·l2U8F32AVX512(SB), NOSPLIT, $0-28
	ROW512(U8LOAD, U8LOADM, 16, 32, 48, 16, 64, L2STEP)

// func l1U8F32AVX512(q *float32, row *byte, n int) float32
TEXT ·l1U8F32AVX512(SB), NOSPLIT, $0-28
	ROW512(U8LOAD, U8LOADM, 16, 32, 48, 16, 64, L1STEP)

// The same at 8 lanes (AVX2 + F16C), n a multiple of 8.







// func dotF16AVX2(q *float32, row *uint16, n int) float32
TEXT ·dotF16AVX2(SB), NOSPLIT, $0-28
	ROW256(F16LOAD256, 16, 32, 48, 16, 64, DOTSTEP256)

// func l2F16AVX2(q *float32, row *uint16, n int) float32
TEXT ·l2F16AVX2(SB), NOSPLIT, $0-28
	ROW256(F16LOAD256, 16, 32, 48, 16, 64, L2STEP256)

// func l1F16AVX2(q *float32, row *uint16, n int) float32
TEXT ·l1F16AVX2(SB), NOSPLIT, $0-28
	ROW256(F16LOAD256, 16, 32, 48, 16, 64, L1STEP256)

// func dotU8F32AVX2(q *float32, row *byte, n int) float32
TEXT ·dotU8F32AVX2(SB), NOSPLIT, $0-28
	ROW256(U8LOAD256, 8, 16, 24, 8, 32, DOTSTEP256)

// func l2U8F32AVX2(q *float32, row *byte, n int) float32
TEXT ·l2U8F32AVX2(SB), NOSPLIT, $0-28
	ROW256(U8LOAD256, 8, 16, 24, 8, 32, L2STEP256)

// func l1U8F32AVX2(q *float32, row *byte, n int) float32
TEXT ·l1U8F32AVX2(SB), NOSPLIT, $0-28
	ROW256(U8LOAD256, 8, 16, 24, 8, 32, L1STEP256)

// ---------------------------------------------------------------------------
// Conversions: n is a multiple of 16 (AVX-512) or 8 (AVX2). VCVTPS2PH with
// immediate 0 rounds to nearest even whatever MXCSR says.

// func f16FromF32AVX512(dst *uint16, src *float32, n int)
TEXT ·f16FromF32AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
c16:
	CMPQ CX, $16
	JB cdone
	VMOVUPS (SI), Z0
	VCVTPS2PH $0, Z0, Y1
	VMOVDQU Y1, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	SUBQ $16, CX
	JMP c16
cdone:
	VZEROUPPER
	RET

// func f32FromF16AVX512(dst *float32, src *uint16, n int)
TEXT ·f32FromF16AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
w16:
	CMPQ CX, $16
	JB wdone
	VCVTPH2PS (SI), Z0
	VMOVUPS Z0, (DI)
	ADDQ $32, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP w16
wdone:
	VZEROUPPER
	RET

// func f16FromF32AVX2(dst *uint16, src *float32, n int)
TEXT ·f16FromF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
c8:
	CMPQ CX, $8
	JB c8done
	VMOVUPS (SI), Y0
	VCVTPS2PH $0, Y0, X1
	VMOVDQU X1, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	SUBQ $8, CX
	JMP c8
c8done:
	VZEROUPPER
	RET

// func f32FromF16AVX2(dst *float32, src *uint16, n int)
TEXT ·f32FromF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
w8:
	CMPQ CX, $8
	JB w8done
	VCVTPH2PS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP w8
w8done:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// Popcounts, AVX512_VPOPCNTDQ; n counts uint64 words.


// func xorPopcountAVX512(a, b *uint64, n int) uint32
TEXT ·xorPopcountAVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	POPBODY(VPXORQ)
	MOVL AX, ret+24(FP)
	VZEROUPPER
	RET

// func andPopcountAVX512(a, b *uint64, n int) uint32
TEXT ·andPopcountAVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	POPBODY(VPANDQ)
	MOVL AX, ret+24(FP)
	VZEROUPPER
	RET

// func xorPlanesAVX512(v, q *uint64, n, planes int) uint32
//
// planes 8: each word of v is broadcast to 8 lanes and XORed with its 8
// planes (one zmm); lane p accumulates plane p. planes 4: two words (n is
// even) fill the lanes as v0 x4, v1 x4 against their 8 planes. At the end
// lane p is shifted left by its plane number and the lanes summed.
TEXT ·xorPlanesAVX512(SB), NOSPLIT, $0-36
	MOVQ v+0(FP), SI
	MOVQ q+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ planes+24(FP), DX
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	CMPQ DX, $8
	JNE x4
	VMOVDQU64 shifts8<>(SB), Z7
x8loop:
	CMPQ CX, $2
	JB x8one
	VPBROADCASTQ (SI), Z2
	VPBROADCASTQ 8(SI), Z3
	VPXORQ (DI), Z2, Z2
	VPXORQ 64(DI), Z3, Z3
	VPOPCNTQ Z2, Z2
	VPOPCNTQ Z3, Z3
	VPADDQ Z2, Z0, Z0
	VPADDQ Z3, Z1, Z1
	ADDQ $16, SI
	ADDQ $128, DI
	SUBQ $2, CX
	JMP x8loop
x8one:
	TESTQ CX, CX
	JEQ xsum
	VPBROADCASTQ (SI), Z2
	VPXORQ (DI), Z2, Z2
	VPOPCNTQ Z2, Z2
	VPADDQ Z2, Z0, Z0
	JMP xsum
x4:
	VMOVDQU64 shifts4<>(SB), Z7
	VMOVDQU64 pairs4<>(SB), Z6
x4loop:
	CMPQ CX, $2
	JB xsum
	VMOVDQU (SI), X2
	VPERMQ Z2, Z6, Z2
	VPXORQ (DI), Z2, Z2
	VPOPCNTQ Z2, Z2
	VPADDQ Z2, Z0, Z0
	ADDQ $16, SI
	ADDQ $64, DI
	SUBQ $2, CX
	JMP x4loop
xsum:
	VPADDQ Z1, Z0, Z0
	VPSLLVQ Z7, Z0, Z0
	REDUCEQ64(Z0, Y0, X0, Z1, Y1, X1, AX)
	MOVL AX, ret+32(FP)
	VZEROUPPER
	RET

// func cpuidECX1() uint32
TEXT ·cpuidECX1(SB), NOSPLIT, $0-4
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, ret+0(FP)
	RET

// func prefetchAsm(p *byte, n int)
//
// PREFETCHT0 every 64-byte line of [p, p+n), n >= 1; prefetches never fault.
TEXT ·prefetchAsm(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	LEAQ -1(SI)(CX*1), DX
pfloop:
	CMPQ SI, DX
	JA pflast
	PREFETCHT0 (SI)
	ADDQ $64, SI
	JMP pfloop
pflast:
	PREFETCHT0 (DX)
	RET

// func dotU8GatherAVX512(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n int)
TEXT ·dotU8GatherAVX512(SB), NOSPLIT, $0-56
	U8GATHER(U8DOTBODY, 1)

// func dotU7GatherAVX512(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n int)
TEXT ·dotU7GatherAVX512(SB), NOSPLIT, $0-56
	U8GATHER(U8DOT7BODY, 1)

// func l2U8GatherAVX512(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n int)
TEXT ·l2U8GatherAVX512(SB), NOSPLIT, $0-56
	U8GATHER(U8L2BODY, 1)

// func l1U8GatherAVX512(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n int)
TEXT ·l1U8GatherAVX512(SB), NOSPLIT, $0-56
	U8GATHER(U8L1BODY, 1)

// func xorPopcountGatherAVX512(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n int)
TEXT ·xorPopcountGatherAVX512(SB), NOSPLIT, $0-56
	U8GATHER(POPBODY(VPXORQ), 8)

// func pqGatherAVX512(dst *float32, lut *float32, codes *byte, m int, ids *uint32, n int)
//
// For each id: 16 codes at a time widen to dwords, add each lane's table
// start (pqoffs) and gather the 16 table entries (VGATHERDPS), summed in
// one accumulator; the last m mod 16 under a mask. The caller has checked
// that every row lies inside codes and lut holds m*256 floats.
TEXT ·pqGatherAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), R8
	MOVQ lut+8(FP), R9
	MOVQ codes+16(FP), R10
	MOVQ m+24(FP), R11
	MOVQ ids+32(FP), R13
	MOVQ n+40(FP), R14
	VMOVDQU32 pqoffs<>(SB), Z5
qnext:
	TESTQ R14, R14
	JEQ qdone
	MOVL (R13), SI
	IMULQ R11, SI
	ADDQ R10, SI
	MOVQ R9, DI
	MOVQ R11, CX
	VXORPS Z0, Z0, Z0
	VXORPS Z3, Z3, Z3
q16:
	CMPQ CX, $16
	JB qtail
	VPMOVZXBD (SI), Z1
	VPADDD Z5, Z1, Z1
	KXNORW K2, K2, K1
	VGATHERDPS (DI)(Z1*4), K1, Z2
	VADDPS Z2, Z0, Z0
	ADDQ $16, SI
	ADDQ $16384, DI
	SUBQ $16, CX
	JMP q16
qtail:
	TESTQ CX, CX
	JEQ qsum
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K1
	VMOVDQU8.Z (SI), K1, X1
	VPMOVZXBD X1, Z1
	VPADDD Z5, Z1, Z1
	VXORPS Z2, Z2, Z2
	VGATHERDPS (DI)(Z1*4), K1, Z2
	VADDPS Z2, Z3, Z3
qsum:
	VADDPS Z3, Z0, Z0
	REDUCEF32
	MOVSS X0, (R8)
	ADDQ $4, R8
	ADDQ $4, R13
	DECQ R14
	JMP qnext
qdone:
	VZEROUPPER
	RET

// func lutTermsAVX512(dst, col *float32, x float32, n, op int)
//
// n is a multiple of 16. Per op (see LUTTerms): dst += (x-col)², dst +=
// |x-col|, dst += x*col; products and sums rounded separately (no FMA).
TEXT ·lutTermsAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ col+8(FP), SI
	VBROADCASTSS x+16(FP), Z1
	MOVQ n+24(FP), CX
	MOVQ op+32(FP), AX
	CMPQ AX, $1
	JEQ labs
	JA lmul
lsq:
	TESTQ CX, CX
	JEQ ldone
	VMOVUPS (SI), Z2
	VSUBPS Z2, Z1, Z2
	VMULPS Z2, Z2, Z2
	VADDPS (DI), Z2, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP lsq
labs:
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z3
labsloop:
	TESTQ CX, CX
	JEQ ldone
	VMOVUPS (SI), Z2
	VSUBPS Z2, Z1, Z2
	VPANDD Z3, Z2, Z2
	VADDPS (DI), Z2, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP labsloop
lmul:
	TESTQ CX, CX
	JEQ ldone
	VMULPS (SI), Z1, Z2
	VADDPS (DI), Z2, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP lmul
ldone:
	VZEROUPPER
	RET

// func dotU7GatherAVX2(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n, ahead int)
TEXT ·dotU7GatherAVX2(SB), NOSPLIT, $0-64
	GATHER2(U7DOTBODY2)

// func xorPopcountGatherPOPCNT(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n, ahead int)
TEXT ·xorPopcountGatherPOPCNT(SB), NOSPLIT, $0-64
	GATHER2(XORPOPBODY2)
