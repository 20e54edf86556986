/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record layout anchor: a map whose value holds every record struct and enum of oisp.h, so
 * that all of them are in the object's BTF and the skeleton generates Rust types for them
 * (record structs that are only written with bpf_ringbuf_reserve would otherwise be missing).
 * src/wire.rs checks its offsets and constants against those types at compile time. Userspace
 * never creates this map (autocreate is turned off before load): it costs no kernel memory.
 */
#ifndef OISP_LAYOUT_BPF_H
#define OISP_LAYOUT_BPF_H

#include "common.bpf.h"

struct oisp_layout {
	struct oisp_hdr hdr;
	struct oisp_tls_data tls_data;
	struct oisp_tls_fd tls_fd;
	struct oisp_tls_free tls_free;
	struct oisp_tls_name tls_name;
	struct oisp_exec exec;
	struct oisp_exit exit;
	struct oisp_fork fork;
	struct oisp_file file;
	struct oisp_connect connect;
	struct oisp_flow flow;
	enum oisp_ev_kind kind;
	enum oisp_dir dir;
	enum oisp_lost_slot lost_slot;
	enum oisp_skip skip;
	enum oisp_origin origin;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oisp_layout);
} layout SEC(".maps");

#endif
