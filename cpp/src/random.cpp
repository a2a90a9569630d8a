// tapegrad's generator: one seeded stream behind rand, randn, init and dropout.
#include <cmath>
#include <mutex>
#include <random>
#include <sstream>
#include <string>

#include "kernels.h"
#include "tapegrad/ops.h"
#include "tapegrad/registry.h"

namespace tapegrad {

namespace {
std::mutex generator_mutex;
std::mt19937_64& generator() {
  static std::mt19937_64 gen(5489u);
  return gen;
}
// 53 random bits -> [0, 1)
inline double uniform01(std::mt19937_64& g) { return (g() >> 11) * (1.0 / 9007199254740992.0); }
}  // namespace

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(generator_mutex);
  generator().seed(seed);
}

std::string get_rng_state() {
  std::lock_guard<std::mutex> lock(generator_mutex);
  std::ostringstream os;
  os << generator();
  return os.str();
}

void set_rng_state(const std::string& state) {
  std::mt19937_64 restored;
  std::istringstream is(state);
  is >> restored;
  if (is.fail()) throw ValueError("set_rng_state: the state is not one returned by get_rng_state");
  std::lock_guard<std::mutex> lock(generator_mutex);
  generator() = restored;
}

Tensor rand(const Shape& shape, DType dt) {
  if (!is_floating(dt))
    throw TypeError(std::string("rand: expected a floating point dtype, got ") + dtype_name(dt));
  Tensor t = empty(shape, dt);
  std::lock_guard<std::mutex> lock(generator_mutex);
  auto& g = generator();
  dispatch_floating(dt, "rand", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t->data<T>();
    for (int64_t i = 0; i < t->numel; ++i) {
      // float32 rounding can reach 1.0; keep the interval half-open.
      T v = static_cast<T>(uniform01(g));
      p[i] = v < T(1) ? v : std::nextafter(T(1), T(0));
    }
  });
  return t;
}

Tensor randn(const Shape& shape, DType dt) {
  if (!is_floating(dt))
    throw TypeError(std::string("randn: expected a floating point dtype, got ") + dtype_name(dt));
  Tensor t = empty(shape, dt);
  std::lock_guard<std::mutex> lock(generator_mutex);
  auto& g = generator();
  dispatch_floating(dt, "randn", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t->data<T>();
    // Box-Muller, two normals per pair of uniforms.
    for (int64_t i = 0; i < t->numel; i += 2) {
      double u1 = 1.0 - uniform01(g), u2 = uniform01(g);
      double r = std::sqrt(-2.0 * std::log(u1)), th = 2.0 * M_PI * u2;
      p[i] = static_cast<T>(r * std::cos(th));
      if (i + 1 < t->numel) p[i + 1] = static_cast<T>(r * std::sin(th));
    }
  });
  return t;
}

}  // namespace tapegrad
