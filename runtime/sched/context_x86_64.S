// Register-swap context switch for x86-64 System V.
//
// go_ctx_switch(void** save_sp, void* new_sp)
//   Pushes the callee-saved registers (rbp rbx r12-r15) plus MXCSR and the x87
//   control word on the current stack, stores the stack pointer in *save_sp,
//   loads new_sp and pops the same frame from there, return address included
//   (jumped to, not returned to: see the end of the function). Everything else is
//   caller-saved in the SysV ABI, so the C++ caller has already spilled it.
//
// go_ctx_trampoline
//   First "return address" of a fresh fiber (see MakeContext in context.h):
//   rbx holds the argument, r12 the entry function. The entry never returns.
#if defined(__x86_64__)
        .text
        .globl  go_ctx_switch
        .type   go_ctx_switch,@function
        .p2align 4
go_ctx_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        // Not `ret`: the return stack buffer predicts a return to the caller
        // of *this* call, which is never where a switch lands, so `ret`
        // mispredicted on every switch. An indirect jump is predicted from
        // this jump's own history instead (the yield round trip went from
        // 24 to 10 ns in isolation; boost.context's jump_fcontext does the same).
        popq    %rcx
        jmpq    *%rcx
        .cfi_endproc
        .size   go_ctx_switch,.-go_ctx_switch

        .globl  go_ctx_trampoline
        .type   go_ctx_trampoline,@function
        .p2align 4
go_ctx_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        movq    %rbx, %rdi
        andq    $-16, %rsp
        callq   *%r12
        ud2
        .cfi_endproc
        .size   go_ctx_trampoline,.-go_ctx_trampoline
#endif
        .section .note.GNU-stack,"",@progbits
