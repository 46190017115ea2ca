// hepgnn: one command, one subcommand per step of the user journey (DESIGN §3.1).
//
// Note [Torch-free front end]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~
// A process that links libtorch spends ~0.7 s in the dynamic loader before main() (relocating
// ~1 GB of libraries), and every rank of `mpirun -np N hepgnn prepare` used to pay it for
// nothing. So `hepgnn` links no torch: it runs the commands that need none (simulate,
// modulemap, prepare, inspect, score) itself, and for any other command line (train, evaluate,
// infer, export, bench, --help, --version, a typo) it replaces itself with
// `../libexec/hepgnn-torch` (from its own folder), which holds every command. exec keeps the
// process id, the environment, the open files and argv (argv[0] included, so help and errors still
// say `hepgnn`), so mpirun, srun and signals see one process either way.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "app/command_line.hpp"

namespace {

/// Replaces the process with hepgnn-torch from ../libexec; returns only on failure.
int exec_torch_commands(char** argv) {
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    const std::filesystem::path full =
        self.parent_path().parent_path() / "libexec" / "hepgnn-torch";
    if (!ec) execv(full.c_str(), argv);
    std::fprintf(stderr,
                 "hepgnn: error: cannot run %s (%s), which holds the commands that use torch; "
                 "build it with scripts/build.sh\n",
                 full.c_str(), ec ? ec.message().c_str() : std::strerror(errno));
    return 127;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace hepgnn::app;
    const Commands commands = torch_free_commands();
    if (argc > 1 && find_command(commands, argv[1])) return run_command_line(argc, argv, commands);
    return exec_torch_commands(argv);
}
