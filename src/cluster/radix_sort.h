#pragma once
// Sorting finite float/double values with their original indices, by LSD
// radix sort on the IEEE bit patterns (16-bit digits, stable, passes with a
// single occupied bucket skipped). The 1-D fast paths sort once per call;
// for a million points this is several times faster than std::sort of pairs.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace msprune::cluster::detail {

struct SortedValues {
  std::vector<double> value;       // ascending (-0.0 sorts before +0.0; they compare equal)
  std::vector<std::size_t> index;  // value[p] == x[index[p]]
};

template <class T>
SortedValues sort_with_index(const T* x, std::size_t n) {
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr int kBits = int(sizeof(U) * 8);
  constexpr U kSign = U(1) << (kBits - 1);
  struct Item {
    U key;
    std::size_t idx;
  };
  std::vector<Item> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    U u;
    std::memcpy(&u, &x[i], sizeof(U));
    a[i] = Item{(u & kSign) ? U(~u) : U(u | kSign), i};  // order-preserving map
  }
  if (n < 4096) {
    std::stable_sort(a.begin(), a.end(), [](const Item& p, const Item& q) { return p.key < q.key; });
  } else {
    std::vector<std::size_t> count(1u << 16);
    for (int shift = 0; shift < kBits; shift += 16) {
      std::fill(count.begin(), count.end(), 0);
      for (const Item& it : a) ++count[std::size_t((it.key >> shift) & 0xffff)];
      if (*std::max_element(count.begin(), count.end()) == n) continue;  // one bucket: no-op
      std::size_t sum = 0;
      for (auto& c : count) {
        const std::size_t t = c;
        c = sum;
        sum += t;
      }
      for (const Item& it : a) b[count[std::size_t((it.key >> shift) & 0xffff)]++] = it;
      a.swap(b);
    }
  }
  SortedValues out;
  out.value.resize(n);
  out.index.resize(n);
  for (std::size_t p = 0; p < n; ++p) {
    out.index[p] = a[p].idx;
    out.value[p] = double(x[a[p].idx]);
  }
  return out;
}

}  // namespace msprune::cluster::detail
