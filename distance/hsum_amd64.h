// HSUMPS8 adds the 8 float lanes of y into lane 0 of x, the low half of the
// same register, using the xmm register t as scratch.
#define HSUMPS8(y, x, t) \
	VEXTRACTF128 $1, y, t; \
	VADDPS t, x, x; \
	VMOVHLPS x, x, t; \
	VADDPS t, x, x; \
	VMOVSHDUP x, t; \
	VADDSS t, x, x
