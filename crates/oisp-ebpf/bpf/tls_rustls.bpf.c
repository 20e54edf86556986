// SPDX-License-Identifier: Apache-2.0
/*
 * rustls on AWS-LC (aws-lc-rs), linked into an executable (Codex): every TLS record goes through
 * AWS-LC's EVP_AEAD_CTX_seal / EVP_AEAD_CTX_open, located by structure (src/tls/rustls). Both
 * have the signature
 *   int f(const EVP_AEAD_CTX *ctx, uint8_t *out, size_t *out_len, size_t max_out_len,
 *         const uint8_t *nonce, size_t nonce_len, const uint8_t *in, size_t in_len,
 *         const uint8_t *ad, size_t ad_len)
 * whose arguments 7 to 10 are on the stack at entry. The additional data is the record's header:
 * only application-data records are copied — TLS 1.3 (5 bytes 17 03 03 len; the plaintext ends
 * with the inner content type, 0x17 for data, which is not copied) and TLS 1.2 (13 bytes: seq,
 * type 0x17, version, len). Anything else — handshake, alerts, tickets, other uses of the AEAD in
 * the process — is left alone.
 *
 * Sealing copies the plaintext at entry (it is encrypted in place); the session is the sealing
 * context, tied to its socket by the thread's next socket write (tls.bpf.h: note_split_io).
 * Opening copies at return; its records go to the session of the socket the thread read last, so
 * both directions make one connection.
 */
#include "tls.bpf.h"

/* tls_call kinds of an open in flight: which record format. */
#define CALL_AEAD_OPEN13 6
#define CALL_AEAD_OPEN12 7

#define AEAD_TLS13 1
#define AEAD_TLS12 2
/* Longest TLS record plaintext (2^14) plus the inner type and a margin. */
#define AEAD_MAX_RECORD (1 << 15)

struct aead_stack_args {
	__u64 in;
	__u64 in_len;
	__u64 ad;
	__u64 ad_len;
};

/* The record the call's additional data describes: AEAD_TLS13, AEAD_TLS12, or 0 (not an
 * application-data record). */
static __always_inline int aead_record(struct pt_regs *ctx, struct aead_stack_args *a)
{
	if (bpf_probe_read_user(a, sizeof(*a), (void *)(PT_REGS_SP(ctx) + 8)) < 0)
		return 0;
	__u8 ad[13] = {};
	if (a->ad_len == 5) {
		if (bpf_probe_read_user(ad, 5, (void *)a->ad) < 0)
			return 0;
		return ad[0] == 0x17 && ad[1] == 3 && ad[2] == 3 ? AEAD_TLS13 : 0;
	}
	if (a->ad_len == 13) {
		if (bpf_probe_read_user(ad, 13, (void *)a->ad) < 0)
			return 0;
		return ad[8] == 0x17 && ad[9] == 3 ? AEAD_TLS12 : 0;
	}
	return 0;
}

/* The plaintext length without the TLS 1.3 inner content type, or 0 when that type is not
 * application data. */
static __always_inline __u64 aead_data_len(int rec, __u64 buf, __u64 n)
{
	if (n == 0 || n > AEAD_MAX_RECORD)
		return 0;
	if (rec != AEAD_TLS13)
		return n;
	__u8 type = 0;
	if (bpf_probe_read_user(&type, 1, (void *)(buf + n - 1)) < 0 || type != 0x17)
		return 0;
	return n - 1;
}

static __always_inline void split_process_seen(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!bpf_map_lookup_elem(&split_tgids, &tgid)) {
		__u8 one = 1;
		bpf_map_update_elem(&split_tgids, &tgid, &one, BPF_ANY);
		split_used = 1;
	}
}

SEC("uprobe")
int aead_seal_enter(struct pt_regs *ctx)
{
	struct aead_stack_args a;
	int rec = aead_record(ctx, &a);
	if (!rec)
		return 0;
	__u64 n = aead_data_len(rec, a.in, a.in_len);
	if (!n)
		return 0;
	split_process_seen();
	__u64 session = PT_REGS_PARM1(ctx);
	if (tls_skipped(session))
		return 0;
	tls_emit(ctx, session, a.in, n, -1, 1);
	__u64 id = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&seal_wanted, &id, &session, BPF_ANY);
	return 0;
}

/* Returns 1 when the return need not run. */
static __always_inline int aead_open_begin(struct pt_regs *ctx)
{
	struct aead_stack_args a;
	int rec = aead_record(ctx, &a);
	if (!rec)
		return 1;
	split_process_seen();
	__u64 id = bpf_get_current_pid_tgid();
	__u64 session = PT_REGS_PARM1(ctx);
	__s32 fd = -1;
	__s32 *last = bpf_map_lookup_elem(&last_read_fd, &id);
	if (last) {
		fd = *last;
		struct sock_key k = { .tgid = id >> 32, .fd = fd };
		__u64 *s = bpf_map_lookup_elem(&sock_sessions, &k);
		if (s)
			session = *s;
	}
	return tls_call_enter_fd(session, PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx),
				 rec == AEAD_TLS13 ? CALL_AEAD_OPEN13 : CALL_AEAD_OPEN12, fd);
}

static __always_inline void aead_open_end(struct pt_regs *ctx)
{
	struct tls_call call;
	if (!tls_call_take(&call))
		return;
	if ((int)PT_REGS_RC(ctx) != 1 || !call.out_len)
		return;
	__u64 got = 0;
	if (bpf_probe_read_user(&got, sizeof(got), (void *)call.out_len) < 0)
		return;
	__u64 n = aead_data_len(call.kind == CALL_AEAD_OPEN13 ? AEAD_TLS13 : AEAD_TLS12, call.buf, got);
	if (n)
		tls_emit(ctx, call.session, call.buf, n, call.fd, 0);
}

SEC("uprobe")
int aead_open_enter(struct pt_regs *ctx)
{
	aead_open_begin(ctx);
	return 0;
}

SEC("uretprobe")
int aead_open_exit(struct pt_regs *ctx)
{
	aead_open_end(ctx);
	return 0;
}

SEC("uprobe.session")
int aead_open_sess(struct pt_regs *ctx)
{
	if (bpf_session_is_return()) {
		aead_open_end(ctx);
		return 0;
	}
	return aead_open_begin(ctx);
}
