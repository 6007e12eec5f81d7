// Register-swap context switch for AArch64 (AAPCS64), the twin of
// context_x86_64.S.
//
// go_ctx_switch(void** save_sp /* x0 */, void* new_sp /* x1 */)
//   Stores the callee-saved state in a 176-byte frame on the current stack:
//   x19-x28, the frame pointer x29 and the link register x30, the low halves
//   of v8-v15 (d8-d15: AAPCS64 makes only those callee-saved), and FPCR
//   (rounding mode and trap enables, the counterpart of MXCSR + the x87
//   control word). Stores sp in *save_sp, switches sp to new_sp, restores the
//   same frame from there and returns through the restored x30.
//   The stack pointer stays 16-byte aligned throughout, as AArch64 requires.
//
// go_ctx_trampoline
//   The first x30 of a fresh fiber (see MakeContext in context.h): x19 holds
//   the argument, x20 the entry function. The entry never returns.
#if defined(__aarch64__)
        .text
        .globl  go_ctx_switch
        .type   go_ctx_switch,%function
        .p2align 4
go_ctx_switch:
        .cfi_startproc
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldr     x9, [sp, #160]
        msr     fpcr, x9
        ldp     d14, d15, [sp, #144]
        ldp     d12, d13, [sp, #128]
        ldp     d10, d11, [sp, #112]
        ldp     d8, d9, [sp, #96]
        ldp     x29, x30, [sp, #80]
        ldp     x27, x28, [sp, #64]
        ldp     x25, x26, [sp, #48]
        ldp     x23, x24, [sp, #32]
        ldp     x21, x22, [sp, #16]
        ldp     x19, x20, [sp, #0]
        add     sp, sp, #176
        ret
        .cfi_endproc
        .size   go_ctx_switch,.-go_ctx_switch

        .globl  go_ctx_trampoline
        .type   go_ctx_trampoline,%function
        .p2align 4
go_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined x30
        mov     x29, #0
        mov     x30, #0
        mov     x0, x19
        blr     x20
        brk     #0x1
        .cfi_endproc
        .size   go_ctx_trampoline,.-go_ctx_trampoline
#endif
        .section .note.GNU-stack,"",%progbits
