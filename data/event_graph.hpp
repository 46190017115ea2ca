// One event graph (a detector section of one event) as plain buffers: the
// unit that is stored in HDF5, compressed in memory, balanced across ranks and
// handed to the model. No torch here (Note [Torch at the batch boundary]:
// tensors are made from these buffers only when a training step is built).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/feature_info.hpp"

namespace hepgnn::data {

struct EventGraph {
    int64_t event_id = 0;
    int32_t section_id = 0;
    int64_t n_nodes = 0;
    int32_t n_features = 0;

    std::vector<float> x;            // [n_nodes * n_features], row-major, scaled
    std::vector<int32_t> senders;    // [n_edges], local node index (inner layer)
    std::vector<int32_t> receivers;  // [n_edges], local node index (outer layer)
    std::vector<uint8_t> y;          // [n_edges], 1 = true segment

    // Truth per node; empty when a reader skips truth columns.
    std::vector<int64_t> hit_id;
    std::vector<int64_t> particle_id;
    std::vector<float> pt;
    // Detector layer per node (TrackML ids); empty when unknown (files before them).
    std::vector<int32_t> volume_id;
    std::vector<int32_t> layer_id;

    int64_t n_edges() const { return static_cast<int64_t>(senders.size()); }
    /// Bytes held by the buffers (for store and inspect reports).
    int64_t nbytes() const {
        return static_cast<int64_t>(x.size() * sizeof(float) + senders.size() * sizeof(int32_t) +
                                    receivers.size() * sizeof(int32_t) + y.size() +
                                    (hit_id.size() + particle_id.size()) * sizeof(int64_t) +
                                    pt.size() * sizeof(float) +
                                    (volume_id.size() + layer_id.size()) * sizeof(int32_t));
    }
};

}  // namespace hepgnn::data
