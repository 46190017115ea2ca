// Data-parallel training equals single-process training on the same global
// batches (Note [Global loss normalisation]): every rank also trains a
// reference model alone on the union of all ranks' graphs of each step.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "comm/mpi_communicator.hpp"
#include "trainer/optimization.hpp"
#include "trainer/train_step.hpp"

using namespace hepgnn;

namespace {

data::EventGraph random_graph(int64_t id, std::mt19937& rng) {
    std::uniform_int_distribution<int> size(40, 120);
    std::uniform_real_distribution<float> u(-1, 1);
    data::EventGraph g;
    g.event_id = id;
    g.n_nodes = size(rng);
    g.n_features = 3;
    for (int64_t i = 0; i < g.n_nodes * 3; ++i) g.x.push_back(u(rng));
    std::uniform_int_distribution<int> node(0, static_cast<int>(g.n_nodes) - 1);
    const int n_edges = 3 * static_cast<int>(g.n_nodes);
    for (int e = 0; e < n_edges; ++e) {
        g.senders.push_back(node(rng));
        g.receivers.push_back(e % 4 == 0 ? 0 : node(rng));  // a hub: many edges share a receiver
        g.y.push_back(u(rng) > 0.3f);
    }
    return g;
}

double max_param_diff(models::GnnModel& a, models::GnnModel& b) {
    double m = 0;
    auto pa = a.parameters(), pb = b.parameters();
    for (size_t i = 0; i < pa.size(); ++i)
        m = std::max(m, (pa[i] - pb[i]).abs().max().item<double>());
    return m;
}

void run_equivalence(const std::string& optimizer_name) {
    auto comm = comm::make_mpi_communicator();
    auto local = comm::make_local_communicator();
    const int rank = comm->rank(), size = comm->size();
    torch::set_num_threads(1);

    std::mt19937 rng(7);  // same graphs on every rank
    std::vector<data::EventGraph> graphs;
    for (int i = 0; i < 24; ++i) graphs.push_back(random_graph(i, rng));

    models::ModelConfig mc;
    mc.hidden_dim = 16;
    mc.n_graph_iters = 3;
    torch::manual_seed(3);
    auto distributed = models::make_model(mc);
    torch::manual_seed(3);
    auto reference = models::make_model(mc);
    ASSERT_EQ(max_param_diff(*distributed, *reference), 0.0);

    trainer::OptimizerConfig oc;
    oc.name = optimizer_name;
    oc.learning_rate = 1e-3;
    auto opt_d = trainer::make_optimizer(distributed->parameters(), oc);
    auto opt_r = trainer::make_optimizer(reference->parameters(), oc);
    trainer::TrainStep::Config sc;
    sc.reducer.bucket_mb = 0.004;  // several buckets even for this small model
    sc.reducer.first_bucket_mb = 0.001;
    trainer::TrainStep step_d(*distributed, *opt_d, *comm, sc);
    trainer::TrainStep step_r(*reference, *opt_r, *local, sc);

    StageTimes times;
    for (int step = 0; step < 20; ++step) {
        // Global batch: 6 graphs, dealt to ranks round-robin (a rank may get none).
        std::vector<const data::EventGraph*> all, mine;
        for (int k = 0; k < 6; ++k) {
            const auto* g = &graphs[(step * 5 + k * 7) % graphs.size()];
            all.push_back(g);
            if (k % size == rank) mine.push_back(g);
        }
        const auto rd = step_d.run(mine, 1e-3, times);
        const auto rr = step_r.run(all, 1e-3, times);
        EXPECT_EQ(rd.edges, rr.edges);
        EXPECT_EQ(rd.graphs, 6);
        EXPECT_NEAR(rd.loss, rr.loss, 1e-5) << "step " << step;
    }
    const double diff = max_param_diff(*distributed, *reference);
    EXPECT_LE(diff, 1e-5) << optimizer_name << " after 20 steps on " << size << " ranks";
    // And the ranks agree with each other exactly.
    double first = distributed->parameters()[0].sum().item<double>();
    double lo = first, hi = first;
    comm->allreduce(&lo, 1, comm::ReduceOp::kMin);
    comm->allreduce(&hi, 1, comm::ReduceOp::kMax);
    EXPECT_EQ(lo, hi);
}

}  // namespace

TEST(TrainingEquivalence, AdamOnNRanksEqualsOneProcess) {
    run_equivalence("adam");
}
TEST(TrainingEquivalence, SgdOnNRanksEqualsOneProcess) {
    run_equivalence("sgd");
}
