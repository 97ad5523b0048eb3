#include "model/packed_weights.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/thread_pool.h"
#include "kernels/quant.h"

namespace r1 {

static_assert(std::endian::native == std::endian::little, "the packed file is little-endian, as this host");

namespace {

constexpr char kMagic[8] = {'R', '1', 'P', 'A', 'C', 'K', '\r', '\n'};
constexpr size_t kHeaderBytes = 64;
constexpr size_t kHashedHeaderBytes = 48;  // the fields before the checksum
constexpr size_t kDataAlign = 4096;
constexpr size_t kTensorAlign = 64;

uint32_t precision_code(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::BF16:
      return 1;
    case WeightPrecision::Q8:
      return 2;
    case WeightPrecision::Q4:
      return 3;
    default:
      fail("a packed weight file holds bf16, q8 or q4 weights, not {}", weight_precision_name(p));
  }
}

uint32_t dtype_code(DType t) {
  switch (t) {
    case DType::F32:
      return 0;
    case DType::BF16:
      return 1;
    case DType::Q8_0:
      return 2;
    case DType::Q4_0:
      return 3;
    default:
      R1_CHECK(false, "packed file: dtype {}", dtype_name(t));
  }
  return 0;
}

size_t round_up(size_t n, size_t a) {
  return (n + a - 1) / a * a;
}

// Reads fields from the header and table, failing (not reading past the end) when the bytes run out.
class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n, const std::string& file) : p_(p), n_(n), file_(file) {}
  template <typename T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_ + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::string bytes(size_t n, const char* what) {
    need(n, what);
    std::string s(reinterpret_cast<const char*>(p_ + at_), n);
    at_ += n;
    return s;
  }
  size_t at() const { return at_; }

 private:
  void need(size_t n, const char* what) {
    if (n > n_ - at_) fail("{}: packed weight table ends inside {} (corrupted file)", file_, what);
  }
  const uint8_t* p_;
  size_t n_, at_ = 0;
  const std::string& file_;
};

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// The whole of `fd` from `offset`, `n` bytes, into `dst`; fails naming the file on a short read.
void read_at(int fd, uint8_t* dst, size_t n, size_t offset, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::pread(fd, dst, std::min<size_t>(n, size_t(1) << 30), off_t(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("{}: read failed: {}", path, std::strerror(errno));
    if (r == 0) fail("{}: truncated (the file ended while reading it)", path);
    dst += r;
    n -= size_t(r);
    offset += size_t(r);
  }
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens the file and reads and checks its header and table.
PackedLayout read_layout(const Fd& f, const std::string& path, const ModelConfig& c) {
  struct stat st;
  if (::fstat(f.fd, &st) != 0) fail("{}: {}", path, std::strerror(errno));
  const size_t size = size_t(st.st_size);
  std::vector<uint8_t> head(std::min<size_t>(size, kHeaderBytes));
  read_at(f.fd, head.data(), head.size(), 0, path);
  if (size >= kHeaderBytes) {
    uint64_t table_bytes;
    std::memcpy(&table_bytes, head.data() + 24, 8);
    // Read the table only when the file holds it; parse_packed_layout says what is wrong otherwise.
    if (table_bytes <= size - kHeaderBytes) {
      head.resize(kHeaderBytes + table_bytes);
      read_at(f.fd, head.data() + kHeaderBytes, table_bytes, kHeaderBytes, path);
    }
  }
  return parse_packed_layout(head.data(), head.size(), size, c, path);
}

void check_precision(const PackedLayout& l, WeightPrecision requested, const std::string& path) {
  if (requested != WeightPrecision::Auto && requested != l.precision)
    fail(
        "{}: the weights are packed as {}; --dtype {} would need them converted again (use --dtype auto or "
        "{}, "
        "or import the model again with --dtype {})",
        path, weight_precision_name(l.precision), weight_precision_name(requested),
        weight_precision_name(l.precision), weight_precision_name(requested));
}

void check_hash(const PackedTensor& t, uint64_t got, const std::string& path) {
  if (got != t.hash)
    fail("{}: tensor \"{}\" fails its checksum (the file is corrupted; import the model again)", path,
         t.spec.name);
}

}  // namespace

PackedLayout parse_packed_layout(const uint8_t* data, size_t size, size_t file_size, const ModelConfig& c,
                                 const std::string& file) {
  if (file_size < kHeaderBytes || size < kHeaderBytes)
    fail("{}: truncated: {} bytes, shorter than the {}-byte header of a packed weight file", file, file_size,
         kHeaderBytes);
  if (std::memcmp(data, kMagic, sizeof kMagic) != 0) fail("{}: not a packed weight file (bad magic)", file);
  Cursor h(data, kHeaderBytes, file);
  h.bytes(8, "the magic");
  const uint32_t version = h.get<uint32_t>("the version");
  if (version != kPackedWeightsVersion)
    fail("{}: packed weight file version {}; this r1serve reads version {} (import the model again)", file,
         version, kPackedWeightsVersion);
  const uint32_t prec = h.get<uint32_t>("the precision");
  const uint64_t n_tensors = h.get<uint64_t>("the tensor count"),
                 table_bytes = h.get<uint64_t>("the table size"),
                 data_offset = h.get<uint64_t>("the data offset"),
                 data_bytes = h.get<uint64_t>("the data size"), hash = h.get<uint64_t>("the checksum"),
                 reserved = h.get<uint64_t>("the header");
  if (table_bytes > file_size - kHeaderBytes || size < kHeaderBytes + table_bytes)
    fail("{}: truncated: {} bytes, too short for its {}-byte tensor table", file, file_size, table_bytes);
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, data, kHashedHeaderBytes);
  XXH3_64bits_update(st, data + kHeaderBytes, table_bytes);
  const uint64_t got = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  if (got != hash || reserved != 0)
    fail("{}: the header or tensor table fails its checksum (the file is corrupted; import the model again)",
         file);
  // From here the header is as written: any mismatch below is a file made for something else.
  if (data_offset % kDataAlign != 0 || data_offset < kHeaderBytes + table_bytes)
    fail("{}: data offset {} is not a 4096-aligned offset after the table", file, data_offset);
  if (data_offset > file_size || data_bytes != file_size - data_offset) {
    if (data_offset <= file_size && data_offset + data_bytes > file_size)
      fail("{}: truncated: {} bytes, the header says {}", file, file_size, data_offset + data_bytes);
    fail("{}: {} bytes, but the header says {} (data at {} + {} bytes)", file, file_size,
         data_offset + data_bytes, data_offset, data_bytes);
  }
  PackedLayout l;
  switch (prec) {
    case 1:
      l.precision = WeightPrecision::BF16;
      break;
    case 2:
      l.precision = WeightPrecision::Q8;
      break;
    case 3:
      l.precision = WeightPrecision::Q4;
      break;
    default:
      fail("{}: unknown precision code {}", file, prec);
  }
  l.data_offset = data_offset;
  l.data_bytes = data_bytes;
  const std::vector<WeightSpec> want = weight_specs(c, l.precision);
  if (n_tensors != want.size())
    fail("{}: holds {} tensors; config.json ({} with {} layers) implies {}: a packed file of another model",
         file, n_tensors, c.architecture, c.n_layers, want.size());
  Cursor t(data + kHeaderBytes, table_bytes, file);
  size_t end = 0;
  for (const WeightSpec& w : want) {
    const uint32_t len = t.get<uint32_t>("a tensor name's length");
    if (len > 4096) fail("{}: a tensor name of {} bytes (corrupted table)", file, len);
    std::string name = t.bytes(round_up(len, 8), "a tensor name");
    name.resize(len);
    PackedTensor pt;
    pt.spec.name = name;
    const uint32_t dt = t.get<uint32_t>("a dtype");
    t.get<uint32_t>("padding");
    pt.spec.rows = t.get<uint64_t>("rows");
    pt.spec.cols = t.get<uint64_t>("cols");
    pt.offset = t.get<uint64_t>("an offset");
    pt.bytes = t.get<uint64_t>("a size");
    pt.hash = t.get<uint64_t>("a checksum");
    if (name != w.name)
      fail("{}: tensor \"{}\" where config.json implies \"{}\": a packed file of another model", file, name,
           w.name);
    if (dt != dtype_code(w.dtype) || pt.spec.rows != w.rows || pt.spec.cols != w.cols)
      fail("{}: tensor \"{}\" is not the [{}, {}] {} that config.json implies at {}", file, name, w.rows,
           w.cols, dtype_name(w.dtype), weight_precision_name(l.precision));
    pt.spec.dtype = w.dtype;
    const size_t want_bytes = kernels::is_quantized(w.dtype) ? kernels::packed_bytes(w.dtype, w.rows, w.cols)
                                                             : dtype_bytes(w.dtype, w.rows * w.cols);
    if (pt.bytes != want_bytes || pt.offset % kTensorAlign != 0 || pt.offset < end ||
        pt.offset > data_bytes || pt.bytes > data_bytes - pt.offset)
      fail("{}: tensor \"{}\": {} bytes at offset {} do not fit the {}-byte data section in order", file,
           name, pt.bytes, pt.offset, data_bytes);
    end = pt.offset + pt.bytes;
    l.tensors.push_back(pt);
  }
  if (t.at() != table_bytes)
    fail("{}: {} bytes after the last tensor's entry (corrupted table)", file, table_bytes - t.at());
  return l;
}

void write_packed_weights(const std::string& path, const ModelConfig& c, const Weights& w,
                          WeightPrecision precision) {
  const uint32_t prec = precision_code(precision);
  const std::vector<WeightSpec> want = weight_specs(c, precision);
  const auto& placed = w.placed();
  R1_CHECK(placed.size() == want.size(), "packing {} tensors, config implies {}", placed.size(), want.size());
  std::string table;
  size_t offset = 0;
  std::vector<size_t> offsets;
  for (size_t i = 0; i < placed.size(); ++i) {
    const auto& p = placed[i];
    R1_CHECK(p.spec.name == want[i].name && p.spec.dtype == want[i].dtype, "packing {} as {}", p.spec.name,
             dtype_name(p.spec.dtype));
    offset = round_up(offset, kTensorAlign);
    offsets.push_back(offset);
    put<uint32_t>(table, uint32_t(p.spec.name.size()));
    std::string name = p.spec.name;
    name.resize(round_up(name.size(), 8), '\0');
    table += name;
    put<uint32_t>(table, dtype_code(p.spec.dtype));
    put<uint32_t>(table, 0);
    put<uint64_t>(table, p.spec.rows);
    put<uint64_t>(table, p.spec.cols);
    put<uint64_t>(table, offset);
    put<uint64_t>(table, p.bytes);
    put<uint64_t>(table, XXH3_64bits(p.data, p.bytes));
    offset += p.bytes;
  }
  const size_t data_offset = round_up(kHeaderBytes + table.size(), kDataAlign), data_bytes = offset;
  std::string head(kMagic, sizeof kMagic);
  put<uint32_t>(head, kPackedWeightsVersion);
  put<uint32_t>(head, prec);
  put<uint64_t>(head, placed.size());
  put<uint64_t>(head, table.size());
  put<uint64_t>(head, data_offset);
  put<uint64_t>(head, data_bytes);
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, head.data(), kHashedHeaderBytes);
  XXH3_64bits_update(st, table.data(), table.size());
  put<uint64_t>(head, XXH3_64bits_digest(st));
  XXH3_freeState(st);
  put<uint64_t>(head, 0);
  head += table;
  head.resize(data_offset, '\0');

  Fd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (f.fd < 0) fail("{}: cannot create: {}", path, std::strerror(errno));
  auto write_all = [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    while (n > 0) {
      ssize_t r = ::write(f.fd, b, std::min<size_t>(n, size_t(1) << 30));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) fail("{}: write failed: {}", path, std::strerror(errno));
      b += r;
      n -= size_t(r);
    }
  };
  write_all(head.data(), head.size());
  const std::string zeros(kTensorAlign, '\0');
  size_t at = 0;
  for (size_t i = 0; i < placed.size(); ++i) {
    write_all(zeros.data(), offsets[i] - at);
    write_all(placed[i].data, placed[i].bytes);
    at = offsets[i] + placed[i].bytes;
  }
  if (::fsync(f.fd) != 0) fail("{}: fsync failed: {}", path, std::strerror(errno));
}

Weights load_packed_weights(const std::string& path, const ModelConfig& c, WeightPrecision requested,
                            PackedLoad how) {
  MappedFile file(path);
  PackedLayout l = parse_packed_layout(file.data(), file.size(), file.size(), c, path);
  check_precision(l, requested, path);
  file.will_need(l.data_offset, l.data_bytes);
  const uint8_t* data = file.data() + l.data_offset;  // [data_bytes]: every tensor at its table offset
  // Two threads (or as many as the host has) check the tensors: XXH3 runs at ~19 GB/s a core here, so the
  // page faults that bring the file's pages in (large page-cache folios, one fault per 64 KiB) cost about as
  // much as the hashing. Tensors are split whole between threads (each hash is sequential over one tensor);
  // the embedding and LM head, the two largest, fall to different threads.
  ThreadPool pool(0);
  auto check_all = [&](const uint8_t* base) {
    pool.parallel_for(l.tensors.size(), [&](size_t t0, size_t t1) {
      for (size_t i = t0; i < t1; ++i)
        check_hash(l.tensors[i], XXH3_64bits(base + l.tensors[i].offset, l.tensors[i].bytes), path);
    });
  };
  auto place = [&](const uint8_t* base) {
    std::vector<Weights::Placed> placed;
    for (const auto& t : l.tensors) placed.push_back({t.spec, base + t.offset, t.bytes});
    return placed;
  };
  // In place: no copy, no fresh pages to zero, and the page cache's pages are shared with every other process
  // mapping the file. Locked first, so the pages can never be evicted under the kernels (DESIGN.md); the
  // checksum pass touches every byte, which faults in, and pins, every page before the model is used, so the
  // first token pays no faults. The table's 64-byte tensor offsets from a 4096-aligned data section on a
  // page-aligned mapping give the kernels the same alignment an AlignedBuffer does. The store never rewrites
  // a file in place (import stages, then renames), so the bytes checked are the bytes served.
  if (how == PackedLoad::Map && file.lock_on_fault()) {
    check_all(data);
    auto placed = place(data);
    return Weights::assemble(c, std::move(file), std::move(placed));
  }
  // Not allowed to lock this much memory: copy into anonymous memory, as fast as the kernel allows (fresh 4
  // KiB pages zeroed and filled), in large pieces across threads; the copy is what is checked.
  AlignedBuffer buf(l.data_bytes);  // [data_bytes]
  auto* base = reinterpret_cast<uint8_t*>(buf.data());
  constexpr size_t kPiece = size_t(64) << 20;
  pool.parallel_for((l.data_bytes + kPiece - 1) / kPiece, [&](size_t p0, size_t p1) {
    const size_t begin = p0 * kPiece, end = std::min(l.data_bytes, p1 * kPiece);
    std::memcpy(base + begin, data + begin, end - begin);
  });
  check_all(base);
  auto placed = place(base);
  return Weights::assemble(c, std::move(buf), std::move(placed));
}

WeightPrecision check_packed_weights(const std::string& path, const ModelConfig& c) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) fail("{}: cannot open: {}", path, std::strerror(errno));
  PackedLayout l = read_layout(f, path, c);
  std::vector<uint8_t> chunk(size_t(16) << 20);
  XXH3_state_t* st = XXH3_createState();
  for (const auto& t : l.tensors) {
    XXH3_64bits_reset(st);
    for (size_t done = 0; done < t.bytes;) {
      const size_t n = std::min(chunk.size(), t.bytes - done);
      read_at(f.fd, chunk.data(), n, l.data_offset + t.offset + done, path);
      XXH3_64bits_update(st, chunk.data(), n);
      done += n;
    }
    const uint64_t got = XXH3_64bits_digest(st);
    if (got != t.hash) {
      XXH3_freeState(st);
      check_hash(t, got, path);
    }
  }
  XXH3_freeState(st);
  return l.precision;
}

}  // namespace r1
