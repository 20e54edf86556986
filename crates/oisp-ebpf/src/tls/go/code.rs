//! What the code of a located Go function must look like before it is probed, and where it
//! returns: the bytes are decoded as x86-64 instructions from the function's first byte to its
//! end (a proper decoder, so a `0xc3` inside another instruction is never taken for a return).
//!
//! Checks: every instruction decodes; the function begins with Go's stack-bound check against
//! the goroutine in R14 (`cmp rsp, [r14+0x10]`, or through R12 for large frames: `lea r12,
//! [rsp-N]; cmp r12, [r14+0x10]`), which only Go ≥ 1.17's register calling convention emits —
//! the convention the BPF programs read arguments with; and it has at least one `ret`.

use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic, OpKind, Register};

/// The addresses of the `ret` instructions of the function whose code `bytes` starts at
/// `start`, or why it is not probed.
pub(crate) fn returns(bytes: &[u8], start: u64) -> Result<Vec<u64>, String> {
    let mut decoder = Decoder::with_ip(64, bytes, start, DecoderOptions::NONE);
    let mut ins = Instruction::default();
    let mut rets = Vec::new();
    let mut index = 0usize;
    let mut stack_check = false;
    while decoder.can_decode() {
        decoder.decode_out(&mut ins);
        if ins.is_invalid() {
            return Err(format!(
                "undecodable instruction at 0x{:x} (+0x{:x})",
                ins.ip(),
                ins.ip() - start
            ));
        }
        if index < 3 && is_stack_check(&ins) {
            stack_check = true;
        }
        if matches!(ins.mnemonic(), Mnemonic::Ret | Mnemonic::Retf) {
            if ins.mnemonic() == Mnemonic::Retf || ins.op_count() != 0 {
                return Err(format!("unexpected return form at 0x{:x}", ins.ip()));
            }
            rets.push(ins.ip());
        }
        index += 1;
    }
    if !stack_check {
        return Err(format!(
            "code at 0x{start:x} does not begin with Go's stack check on R14 (not Go ≥ 1.17 register-ABI code)"
        ));
    }
    if rets.is_empty() {
        return Err(format!("no ret in the function at 0x{start:x}"));
    }
    Ok(rets)
}

/// `cmp rsp|r12, [r14+0x10]`: the goroutine's stack guard compared with the stack pointer.
fn is_stack_check(ins: &Instruction) -> bool {
    ins.mnemonic() == Mnemonic::Cmp
        && ins.op_count() == 2
        && ins.op0_kind() == OpKind::Register
        && matches!(ins.op0_register(), Register::RSP | Register::R12)
        && ins.op1_kind() == OpKind::Memory
        && ins.memory_base() == Register::R14
        && ins.memory_index() == Register::None
        && ins.memory_displacement64() == 0x10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_shaped_code() {
        // cmp rsp,[r14+0x10]; jbe +N; push rbp; mov rbp,rsp; mov eax,0xc3 (a 0xc3 byte that is
        // no return); pop rbp; ret; int3
        let code = [
            0x49, 0x3b, 0x66, 0x10, 0x76, 0x09, 0x55, 0x48, 0x89, 0xe5, 0xb8, 0xc3, 0x00, 0x00,
            0x00, 0x5d, 0xc3, 0xcc,
        ];
        assert_eq!(returns(&code, 0x1000), Ok(vec![0x1010]));
        // A C function (no stack check) is refused.
        let c = [0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3];
        assert!(returns(&c, 0x1000).is_err());
        // No return, or undecodable bytes: refused.
        assert!(returns(&code[..16], 0x1000).is_err());
        let mut bad = code.to_vec();
        bad.truncate(15);
        bad.extend_from_slice(&[0x06, 0xc3]); // push es: invalid in 64-bit mode
        assert!(returns(&bad, 0x1000).is_err());
    }
}
