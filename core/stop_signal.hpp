// Preemption requests: SLURM sends SIGUSR1 (--signal=B:USR1@120, forwarded to
// the tasks) or SIGTERM before it ends a job. The handler only records the
// signal; the training loop polls it between steps, the ranks agree on it, and
// training stops at a step boundary with a checkpoint (DESIGN: issue #6).
#pragma once

namespace hepgnn {

/// Exit status of a run that stopped on request after writing its checkpoint;
/// scripts/slurm/train.sbatch requeues the job on it (EX_TEMPFAIL).
constexpr int kExitPreempted = 75;

/// Installs handlers for SIGUSR1 and SIGTERM that record the signal (and
/// nothing else: async-signal-safe). Idempotent.
void install_stop_signal_handlers();

/// The number of the first stop signal received, or 0.
int stop_signal_received();

/// "SIGUSR1", "SIGTERM", or "signal N".
const char* stop_signal_name(int signal);

}  // namespace hepgnn
