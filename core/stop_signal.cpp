#include "core/stop_signal.hpp"

#include <csignal>

namespace hepgnn {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void record_stop_signal(int signal) {
    if (g_stop_signal == 0) g_stop_signal = signal;
}

}  // namespace

void install_stop_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = record_stop_signal;
    sigemptyset(&action.sa_mask);
    // Restart interrupted system calls: MPI and file I/O keep working, and the
    // loop sees the flag at its next step boundary.
    action.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

int stop_signal_received() {
    return g_stop_signal;
}

const char* stop_signal_name(int signal) {
    switch (signal) {
        case SIGUSR1:
            return "SIGUSR1";
        case SIGTERM:
            return "SIGTERM";
        default:
            return "a stop signal";
    }
}

}  // namespace hepgnn
