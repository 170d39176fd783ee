#include "models/torch_model.hpp"

#include <torch/script.h>
#include <torch/cuda.h>
#include <ATen/Parallel.h>

#include <filesystem>

namespace infermesh {
namespace {

class torch_model final : public model {
 public:
  torch_model(torch::jit::Module module, torch::Device device, std::size_t classes, int threads)
      : module_(std::move(module)), device_(device), classes_(classes), threads_(threads) {}

  outcome<batch_scores> run(const tensor_batch& batch) override {
    // OpenMP's thread count is a per-thread setting: apply it on the thread that runs the model (the model
    // actor's), not only on the thread that loaded it.
    if (at::get_num_threads() != threads_) at::set_num_threads(threads_);
    try {
      c10::InferenceMode guard;
      std::vector<std::int64_t> shape{static_cast<std::int64_t>(batch.count)};
      shape.insert(shape.end(), batch.item_shape.begin(), batch.item_shape.end());
      // from_blob: the batch's buffer is the input tensor on CPU, no copy.
      auto input = torch::from_blob(const_cast<float*>(batch.data.data()), shape, torch::kFloat32);
      if (device_.is_cuda()) input = input.to(device_);
      auto output = module_.forward({input}).toTensor().to(torch::kCPU, torch::kFloat32).contiguous();
      if (output.dim() != 2 || output.size(0) != static_cast<std::int64_t>(batch.count) ||
          output.size(1) != static_cast<std::int64_t>(classes_))
        return error{error_code::internal, "model output has shape " + shape_string(output) + ", expected [" +
                                               std::to_string(batch.count) + ", " + std::to_string(classes_) + "]"};
      batch_scores scores{batch.count, classes_, {}};
      scores.data.assign(output.data_ptr<float>(), output.data_ptr<float>() + output.numel());
      return scores;
    } catch (const std::exception& e) {
      return error{error_code::internal, std::string("forward failed: ") + e.what()};
    }
  }

 private:
  static std::string shape_string(const torch::Tensor& t) {
    std::string s = "[";
    for (std::int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + "]";
  }

  torch::jit::Module module_;
  torch::Device device_;
  std::size_t classes_;
  int threads_;
};

outcome<torch::Device> parse_device(const std::string& name) {
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      return error{error_code::unavailable, "device '" + name +
                                                "' requested, but this LibTorch build has no CUDA support or sees no GPU"
                                                " (use device: cpu)"};
    try {
      auto index = std::stoi(name.substr(5));
      if (index < 0 || index >= static_cast<int>(torch::cuda::device_count()))
        return error{error_code::unavailable, "device '" + name + "' does not exist: " +
                                                  std::to_string(torch::cuda::device_count()) + " GPU(s) visible"};
      return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    } catch (const std::exception&) {
    }
  }
  return error{error_code::bad_request, "device '" + name + "' is not 'cpu' or 'cuda:N'"};
}

}  // namespace

outcome<std::unique_ptr<model>> load_torch_model(const model_config& config) {
  auto device = parse_device(config.device);
  if (!device) return device.err();
  if (!std::filesystem::is_regular_file(config.path))
    return error{error_code::not_found, "model file '" + config.path + "' does not exist"};
  try {
    auto module = torch::jit::load(config.path, *device);
    module.eval();
    auto loaded = std::make_unique<torch_model>(std::move(module), *device, config.labels.size(), config.threads);
    tensor_batch warmup{1, {3, config.input.height, config.input.width}, {}};
    warmup.data.assign(config.input.tensor_size(), 0.0f);
    auto out = loaded->run(warmup);
    if (!out) return error{error_code::internal, "warm-up of '" + config.name + "' failed: " + out.err().message};
    return std::unique_ptr<model>(std::move(loaded));
  } catch (const std::exception& e) {
    return error{error_code::internal, "cannot load TorchScript '" + config.path + "': " + e.what()};
  }
}

}  // namespace infermesh
