/**
 * A classic-BPF seccomp program handed to bubblewrap (`--seccomp FD`), which loads it right
 * before it execs the program. It denies, with EPERM, the syscalls sandboxed code has no use for
 * and that widen the kernel attack surface or cross project boundaries the namespaces do not
 * cover — notably the kernel keyring, which is not namespaced per project (a key added in one
 * project's sandbox could be read in another's: all sandboxes run as the same host uid).
 * Everything else is allowed: this is a deny list on top of the namespaces, not the only wall.
 */

export type SeccompArch = 'x64' | 'arm64';

/** Syscalls denied outright, by name (numbers per architecture below). */
export const DENIED_SYSCALLS = [
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp',
  'mount', 'umount2', 'pivot_root', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'mount_setattr',
  'keyctl', 'add_key', 'request_key',
  'bpf', 'perf_event_open', 'userfaultfd',
  'kexec_load', 'kexec_file_load', 'reboot',
  'init_module', 'finit_module', 'delete_module',
  'setns', 'open_by_handle_at', 'name_to_handle_at',
  'swapon', 'swapoff', 'syslog', 'acct', 'quotactl',
] as const;

export type DeniedSyscall = (typeof DENIED_SYSCALLS)[number];

/** Syscalls allowed unless a flag argument asks for a new user namespace. */
const FLAG_CHECKED = ['clone', 'unshare'] as const;

interface ArchTable {
  auditArch: number;
  /** x86-64 also accepts x32-ABI numbers (nr | 0x40000000), which must not bypass the table. */
  x32Bit: boolean;
  nr: Record<DeniedSyscall | (typeof FLAG_CHECKED)[number] | 'clone3', number>;
}

const ARCHES: Record<SeccompArch, ArchTable> = {
  x64: {
    auditArch: 0xc000003e,
    x32Bit: true,
    nr: {
      ptrace: 101, process_vm_readv: 310, process_vm_writev: 311, kcmp: 312,
      mount: 165, umount2: 166, pivot_root: 155, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, move_mount: 429, open_tree: 428, mount_setattr: 442,
      keyctl: 250, add_key: 248, request_key: 249,
      bpf: 321, perf_event_open: 298, userfaultfd: 323,
      kexec_load: 246, kexec_file_load: 320, reboot: 169,
      init_module: 175, finit_module: 313, delete_module: 176,
      setns: 308, open_by_handle_at: 304, name_to_handle_at: 303,
      swapon: 167, swapoff: 168, syslog: 103, acct: 163, quotactl: 179,
      clone: 56, unshare: 272, clone3: 435,
    },
  },
  arm64: {
    auditArch: 0xc00000b7,
    x32Bit: false,
    nr: {
      ptrace: 117, process_vm_readv: 270, process_vm_writev: 271, kcmp: 272,
      mount: 40, umount2: 39, pivot_root: 41, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, move_mount: 429, open_tree: 428, mount_setattr: 442,
      keyctl: 219, add_key: 217, request_key: 218,
      bpf: 280, perf_event_open: 241, userfaultfd: 282,
      kexec_load: 104, kexec_file_load: 294, reboot: 142,
      init_module: 105, finit_module: 273, delete_module: 106,
      setns: 268, open_by_handle_at: 265, name_to_handle_at: 264,
      swapon: 224, swapoff: 225, syslog: 116, acct: 89, quotactl: 60,
      clone: 220, unshare: 97, clone3: 435,
    },
  },
};

export const CLONE_NEWUSER = 0x10000000;
const EPERM = 1;
const ENOSYS = 38;

// struct seccomp_data: int nr; u32 arch; u64 ip; u64 args[6]  (little-endian: low word first)
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0_LO = 16;

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

type Label = 'deny' | 'enosys' | 'flags' | 'allow' | 'kill';
type Insn = { code: number; k: number; jt?: Label; jf?: Label };

export function seccompArch(arch: string = process.arch): SeccompArch | null {
  return arch === 'x64' || arch === 'arm64' ? arch : null;
}

/** Syscall number of a denied (or flag-checked) syscall on an architecture, for tests. */
export function syscallNumber(name: DeniedSyscall | 'clone' | 'unshare' | 'clone3', arch: SeccompArch): number {
  return ARCHES[arch].nr[name];
}

/**
 * The filter as `struct sock_filter[]` bytes (8 bytes per instruction, host byte order = LE on
 * both supported architectures). A foreign architecture's syscalls (e.g. 32-bit int 0x80 on
 * x86-64, where numbers differ) kill the process: the tables above would not apply to them.
 */
export function buildSeccompFilter(arch: SeccompArch): Buffer {
  const table = ARCHES[arch];
  const body: Insn[] = [
    { code: LD_W_ABS, k: OFF_ARCH },
    { code: JEQ_K, k: table.auditArch, jf: 'kill' },
    { code: LD_W_ABS, k: OFF_NR },
  ];
  if (table.x32Bit) body.push({ code: JGE_K, k: 0x40000000, jt: 'deny' });
  for (const name of DENIED_SYSCALLS) body.push({ code: JEQ_K, k: table.nr[name], jt: 'deny' });
  for (const name of FLAG_CHECKED) body.push({ code: JEQ_K, k: table.nr[name], jt: 'flags' });
  // clone3 passes its flags in a struct a filter cannot read: ENOSYS makes libc fall back to clone.
  body.push({ code: JEQ_K, k: table.nr.clone3, jt: 'enosys' });
  const labels: Partial<Record<Label, number>> = {};
  const at = (label: Label, insns: Insn[]) => {
    labels[label] = body.length;
    body.push(...insns);
  };
  body.push({ code: RET_K, k: SECCOMP_RET_ALLOW });
  at('flags', [
    { code: LD_W_ABS, k: OFF_ARG0_LO },
    { code: JSET_K, k: CLONE_NEWUSER, jt: 'deny', jf: 'allow' },
  ]);
  at('allow', [{ code: RET_K, k: SECCOMP_RET_ALLOW }]);
  at('deny', [{ code: RET_K, k: SECCOMP_RET_ERRNO | EPERM }]);
  at('enosys', [{ code: RET_K, k: SECCOMP_RET_ERRNO | ENOSYS }]);
  at('kill', [{ code: RET_K, k: SECCOMP_RET_KILL_PROCESS }]);

  const out = Buffer.alloc(body.length * 8);
  body.forEach((insn, i) => {
    const jump = (label: Label | undefined): number => {
      if (label === undefined) return 0;
      const offset = labels[label]! - i - 1;
      if (offset < 0 || offset > 255) throw new Error(`seccomp jump out of range: ${label}`);
      return offset;
    };
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(jump(insn.jt), i * 8 + 2);
    out.writeUInt8(jump(insn.jf), i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}

/**
 * Evaluates a filter built above for one syscall (the subset of classic BPF it uses). Lets unit
 * tests check the decision for every syscall without a kernel; the integration tests check the
 * kernel agrees.
 */
export function evaluateSeccompFilter(program: Buffer, data: { nr: number; arch: number; args?: number[] }): number {
  const word = (offset: number): number => {
    if (offset === OFF_NR) return data.nr >>> 0;
    if (offset === OFF_ARCH) return data.arch >>> 0;
    if (offset >= 16 && offset < 64 && offset % 8 === 0) return (data.args?.[(offset - 16) / 8] ?? 0) >>> 0;
    throw new Error(`unexpected load offset ${offset}`);
  };
  let acc = 0;
  for (let pc = 0; pc < program.length / 8;) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case LD_W_ABS: acc = word(k); pc++; break;
      case JEQ_K: pc += 1 + (acc === k ? jt : jf); break;
      case JGE_K: pc += 1 + (acc >= k ? jt : jf); break;
      case JSET_K: pc += 1 + ((acc & k) !== 0 ? jt : jf); break;
      case RET_K: return k;
      default: throw new Error(`unexpected BPF opcode ${code}`);
    }
  }
  throw new Error('filter fell off its end');
}

export function auditArch(arch: SeccompArch): number {
  return ARCHES[arch].auditArch;
}
