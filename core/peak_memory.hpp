// Peak resident memory of this process, for bench reports and benchmarks.
#pragma once

#include <sys/resource.h>

namespace hepgnn {

/// Peak resident set size of this process so far, in MB (getrusage; Linux reports kB).
inline double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0;
}

}  // namespace hepgnn
