#include "app/model_commands/training_config.hpp"

#include "models/model_options.hpp"  // header-only here: the size bounds

namespace hepgnn::app {

ConfigSchema training_schema() {
    ConfigSchema s;
    s.required_text("output_dir", "folder for checkpoints/, metrics.jsonl, config.yaml");
    s.required_text("data.train", "training graph file (HDF5 from 'hepgnn prepare')");
    s.text("data.valid", "", {}, "validation graph file; empty = no validation");
    s.integer("data.max_train_graphs", 0, 0, {}, "use only the first N training graphs (0: all)");
    s.integer("data.max_valid_graphs", 0, 0, {}, "use only the first N validation graphs (0: all)");
    s.text("model.name", "interaction_network", {"interaction_network", "agnn"}, "model");
    s.integer("model.hidden_dim", 64, 1, models::kMaxHiddenDim, "hidden size H");
    s.integer("model.n_graph_iters", 8, 1, models::kMaxGraphIters, "message-passing iterations");
    s.integer("model.n_mlp_layers", 2, 1, models::kMaxMlpLayers,
              "blocks of [Linear, LayerNorm, activation] per MLP");
    s.text("model.aggregation", "sum", {"sum", "mean", "max", "sum_max"},
           "interaction network aggregation");
    s.text("model.activation", "relu", {"relu", "tanh", "silu"}, "activation");
    s.flag("model.layer_norm", true, "layer norm in every MLP block");
    s.text("model.edge_features", "none", {"none", "differences"},
           "interaction_network: also feed x_r - x_s (raw node features) to the edge encoder");
    s.flag("model.checkpointing", false, "recompute each iteration in backward (saves memory)");
    s.text("model.message_passing", "sparse", {"sparse", "dense"},
           "agnn: scatter-add (sparse) or incidence matrices (dense)");
    s.integer("training.epochs", 10, 1, 100000, "epochs");
    s.integer("training.seed", 1, 0, {}, "seed of model init and data order");
    s.integer("training.threads", 0, 0, 1024, "intra-op threads per rank (0: torch default)");
    s.integer("training.batch_edges", 200000, 1, {}, "edge budget of one rank's step");
    s.text("training.resume", "auto", {"auto", "never"}, "continue from last.ckpt if present");
    s.real("training.pos_weight", 1.0, 1e-6, 1e6, "weight of true edges in the BCE loss");
    s.real("training.edge_weights.true_high_pt", 1.0, 0.0, 1e6,
           "loss weight of true edges of particles with pT >= edge_weights.pt_threshold");
    s.real("training.edge_weights.true_low_pt", 1.0, 0.0, 1e6,
           "loss weight of true edges of particles below it");
    s.real("training.edge_weights.pt_threshold", 1.0, 0.0, 1e6, "GeV");
    s.real("training.edge_weights.fake", 1.0, 0.0, 1e6,
           "loss weight of fake edges between two particles' hits");
    s.real("training.edge_weights.noise", 1.0, 0.0, 1e6,
           "loss weight of fake edges touching a noise hit");
    s.integer("training.log_every", 10, 1, {}, "steps between metrics.jsonl training lines");
    s.real("training.cut", 0.5, 0.0, 1.0, "score cut for validation efficiency and purity");
    s.text("optimizer.name", "adam", {"adam", "adamw", "sgd"}, "optimizer");
    s.real("optimizer.learning_rate", 1e-3, 0.0, 10.0, "base learning rate (one rank)");
    s.real("optimizer.weight_decay", 0.0, 0.0, 10.0, "weight decay");
    s.real("optimizer.momentum", 0.9, 0.0, 1.0, "sgd momentum");
    s.text("optimizer.lr_scaling", "none", {"none", "linear", "sqrt"},
           "scale the peak rate with the number of ranks");
    s.real("optimizer.warmup_epochs", 0.0, 0.0, 1000.0, "linear warm-up to the peak rate");
    s.text("optimizer.schedule", "constant", {"constant", "step", "cosine"}, "decay after warm-up");
    s.real("optimizer.step_epochs", 10.0, 1e-3, 1e6, "step schedule: epochs between decays");
    s.real("optimizer.gamma", 0.5, 0.0, 1.0, "step schedule: decay factor");
    s.real("optimizer.min_lr_fraction", 0.01, 0.0, 1.0, "cosine: final rate / peak rate");
    s.real("optimizer.grad_clip", 0.0, 0.0, 1e9, "max gradient norm (0: off)");
    s.text("training.device", "cpu", {"cpu", "cuda"},
           "where to train (cuda: one GPU per local rank)");
    s.text("training.precision", "float32", {"float32", "bfloat16", "float16"},
           "cuda: autocast the forward pass (float16 adds loss scaling); cpu: float32 only");
    s.text("distributed.backend", "auto", {"auto", "mpi", "nccl"},
           "gradient allreduce back-end (auto: nccl on cuda, mpi on cpu)");
    s.real("distributed.bucket_mb", 25.0, 0.001, 4096.0, "gradient bucket size (MB)");
    s.real("distributed.first_bucket_mb", 1.0, 0.001, 4096.0,
           "size of the first gradient bucket (MB), small so its allreduce starts early in "
           "backward");
    s.integer("distributed.check_every", 100, 0, {},
              "steps between cross-rank parameter checksums (0: off)");
    s.real("distributed.timeout_s", 300.0, 1.0, 86400.0,
           "s; a collective still waiting this long ends the job, naming the ranks that never "
           "arrived (a stopped or hung rank, a lost node)");
    s.real("distributed.stall_warning_s", 60.0, 0.1, 86400.0,
           "s; a collective still waiting this long prints which ranks have not arrived");
    s.text("store.codec", "lz4", {"lz4", "zstd", "blosclz", "none"},
           "in-memory compression of each rank's graphs");
    s.integer("store.level", 5, 0, 9, "compression level");
    s.text("store.feature_shuffle", "shuffle", {"noshuffle", "shuffle", "bitshuffle"},
           "blosc filter for node features");
    s.text("store.index_shuffle", "shuffle", {"noshuffle", "shuffle", "bitshuffle"},
           "blosc filter for senders/receivers");
    return s;
}

models::ModelConfig model_config(const Config& c) {
    models::ModelConfig m;
    m.name = c.get_string("model.name");
    m.hidden_dim = c.get_int("model.hidden_dim");
    m.n_graph_iters = c.get_int("model.n_graph_iters");
    m.n_mlp_layers = c.get_int("model.n_mlp_layers");
    m.aggregation = c.get_string("model.aggregation");
    m.activation = c.get_string("model.activation");
    m.layer_norm = c.get_bool("model.layer_norm");
    m.edge_features = c.get_string("model.edge_features");
    m.checkpointing = c.get_bool("model.checkpointing");
    m.message_passing = c.get_string("model.message_passing");
    return m;
}

trainer::TrainerConfig trainer_config(const Config& c) {
    trainer::TrainerConfig t;
    t.output_dir = c.get_string("output_dir");
    t.train_file = c.get_string("data.train");
    t.valid_file = c.get_string("data.valid");
    t.max_train_graphs = c.get_int("data.max_train_graphs");
    t.max_valid_graphs = c.get_int("data.max_valid_graphs");
    t.model = model_config(c);
    t.epochs = c.get_int("training.epochs");
    t.seed = static_cast<uint64_t>(c.get_int("training.seed"));
    t.threads = static_cast<int>(c.get_int("training.threads"));
    t.batch_edges = c.get_int("training.batch_edges");
    t.resume = c.get_string("training.resume");
    t.pos_weight = c.get_float("training.pos_weight");
    t.edge_weights.true_high_pt = c.get_float("training.edge_weights.true_high_pt");
    t.edge_weights.true_low_pt = c.get_float("training.edge_weights.true_low_pt");
    t.edge_weights.pt_threshold = c.get_float("training.edge_weights.pt_threshold");
    t.edge_weights.fake = c.get_float("training.edge_weights.fake");
    t.edge_weights.noise = c.get_float("training.edge_weights.noise");
    t.log_every_steps = c.get_int("training.log_every");
    t.cut = c.get_float("training.cut");
    auto& o = t.optimizer;
    o.name = c.get_string("optimizer.name");
    o.learning_rate = c.get_float("optimizer.learning_rate");
    o.weight_decay = c.get_float("optimizer.weight_decay");
    o.momentum = c.get_float("optimizer.momentum");
    o.lr_scaling = c.get_string("optimizer.lr_scaling");
    o.warmup_epochs = c.get_float("optimizer.warmup_epochs");
    o.schedule = c.get_string("optimizer.schedule");
    o.step_epochs = c.get_float("optimizer.step_epochs");
    o.gamma = c.get_float("optimizer.gamma");
    o.min_lr_fraction = c.get_float("optimizer.min_lr_fraction");
    o.grad_clip = c.get_float("optimizer.grad_clip");
    t.device = c.get_string("training.device");
    t.precision = c.get_string("training.precision");
    t.backend = c.get_string("distributed.backend");
    t.reducer.bucket_mb = c.get_float("distributed.bucket_mb");
    t.reducer.first_bucket_mb = c.get_float("distributed.first_bucket_mb");
    t.check_every_steps = c.get_int("distributed.check_every");
    t.deadlines.timeout_s = c.get_float("distributed.timeout_s");
    t.deadlines.stall_warning_s = c.get_float("distributed.stall_warning_s");
    // The reducer's own wait outlasts the collectives' deadline, which ends
    // the job first (Note [Collective deadlines]).
    t.reducer.timeout_s = t.deadlines.timeout_s + 60.0;
    t.store.codec = c.get_string("store.codec");
    t.store.level = static_cast<int>(c.get_int("store.level"));
    t.store.feature_shuffle = c.get_string("store.feature_shuffle");
    t.store.index_shuffle = c.get_string("store.index_shuffle");
    t.config_yaml = c.to_yaml();
    return t;
}

}  // namespace hepgnn::app
