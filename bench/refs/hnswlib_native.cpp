// Reference runner: hnswlib's C++ index, compiled on the benchmark machine.
//
// Reads DIR/base.fvecs and DIR/query.fvecs, builds
// hnswlib::HierarchicalNSW<float> on --threads threads (std::thread workers
// taking point indices from a shared counter), then for every ef runs a
// warm-up pass and --repeat timed passes over the queries, one searchKnn
// call at a time on one thread, timing each, and keeps the fastest pass.
// Writes the labels found at each ef to DIR/labels-ef<ef>.ivecs and prints a
// JSON summary on stdout; recall is scored by the caller.
//
// Cosine data must arrive normalised: the inner-product space is used as is.

#include <hnswlib/hnswlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(const std::string &msg) {
    std::fprintf(stderr, "hnswlib-native: %s\n", msg.c_str());
    std::exit(1);
}

std::vector<float> read_fvecs(const std::string &path, size_t &n, size_t &dim) {
    std::ifstream in(path, std::ios::binary);
    if (!in) die("cannot open " + path);
    std::vector<float> data;
    n = 0;
    dim = 0;
    int32_t d;
    while (in.read(reinterpret_cast<char *>(&d), sizeof d)) {
        if (d <= 0 || (dim != 0 && size_t(d) != dim)) die(path + ": bad dimension");
        dim = size_t(d);
        size_t off = data.size();
        data.resize(off + dim);
        if (!in.read(reinterpret_cast<char *>(data.data() + off), std::streamsize(dim * sizeof(float))))
            die(path + ": truncated");
        n++;
    }
    if (n == 0) die(path + ": empty");
    return data;
}

void write_ivecs(const std::string &path, const std::vector<int32_t> &ids, size_t k) {
    std::ofstream out(path, std::ios::binary);
    if (!out) die("cannot create " + path);
    int32_t kk = int32_t(k);
    for (size_t i = 0; i < ids.size(); i += k) {
        out.write(reinterpret_cast<const char *>(&kk), sizeof kk);
        out.write(reinterpret_cast<const char *>(ids.data() + i), std::streamsize(k * sizeof(int32_t)));
    }
    if (!out) die("cannot write " + path);
}

long long proc_status(const char *field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    size_t len = std::strlen(field);
    while (std::getline(in, line)) {
        if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':')
            return std::atoll(line.c_str() + len + 1) * 1024;
    }
    return 0;
}

double cpu_seconds() {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

double percentile_ms(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    long i = long(double(v.size()) * p + 0.999999) - 1;
    i = std::min(std::max(i, 0L), long(v.size()) - 1);
    return v[size_t(i)] * 1e3;
}

}  // namespace

int main(int argc, char **argv) {
    std::string dir, space = "l2", efs = "10,16,24,32,48,64,96,128";
    size_t m = 16, efc = 100, k = 10, seed = 100, repeat = 1;
    size_t threads = std::max(1u, std::thread::hardware_concurrency());
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string key = argv[i], val = argv[i + 1];
        if (key == "--dir") dir = val;
        else if (key == "--space") space = val;
        else if (key == "--m") m = std::stoul(val);
        else if (key == "--ef-construct") efc = std::stoul(val);
        else if (key == "--ef") efs = val;
        else if (key == "--k") k = std::stoul(val);
        else if (key == "--threads") threads = std::max<size_t>(1, std::stoul(val));
        else if (key == "--seed") seed = std::stoul(val);
        else if (key == "--repeat") repeat = std::max<size_t>(1, std::stoul(val));
        else die("unknown flag " + key);
    }
    if (dir.empty()) die("--dir is required");

    size_t n, dim, nq, qdim;
    std::vector<float> base = read_fvecs(dir + "/base.fvecs", n, dim);
    std::vector<float> queries = read_fvecs(dir + "/query.fvecs", nq, qdim);
    if (qdim != dim) die("queries and base differ in dimension");

    std::unique_ptr<hnswlib::SpaceInterface<float>> sp;
    if (space == "l2") sp.reset(new hnswlib::L2Space(dim));
    else if (space == "ip" || space == "cosine") sp.reset(new hnswlib::InnerProductSpace(dim));
    else die("unknown space " + space);

    using clock = std::chrono::steady_clock;
    long long rss_before = proc_status("VmRSS");
    double cpu0 = cpu_seconds();
    auto t0 = clock::now();
    auto *index = new hnswlib::HierarchicalNSW<float>(sp.get(), n, m, efc, seed);
    index->addPoint(base.data(), 0);
    std::atomic<size_t> next(1);
    std::vector<std::thread> workers;
    for (size_t t = 0; t < std::min(threads, n); t++) {
        workers.emplace_back([&] {
            for (size_t i; (i = next.fetch_add(1)) < n;) index->addPoint(base.data() + i * dim, i);
        });
    }
    for (auto &w : workers) w.join();
    double build_seconds = std::chrono::duration<double>(clock::now() - t0).count();
    double build_cpu_seconds = cpu_seconds() - cpu0;
    long long rss_after = proc_status("VmRSS");
    std::fprintf(stderr, "hnswlib-native: built %zu points in %.2fs\n", n, build_seconds);

    // Links, labels and levels counted from the index layout: level-0 block
    // without the vector copies, upper-level link lists, per-node level.
    long long links = (long long)n * (long long)(index->size_data_per_element_ - index->data_size_);
    for (size_t i = 0; i < n; i++)
        links += (long long)index->element_levels_[i] * (long long)index->size_links_per_element_;
    links += (long long)n * (long long)(sizeof(void *) + sizeof(int));

    std::ostringstream runs;
    std::vector<int32_t> labels(nq * k);
    std::vector<double> lat(nq);
    bool first = true;
    std::stringstream ss(efs);
    for (std::string tok; std::getline(ss, tok, ',');) {
        if (tok.empty()) continue;
        size_t ef = std::stoul(tok);
        index->setEf(ef);
        for (size_t i = 0; i < nq; i++) index->searchKnn(queries.data() + i * dim, k);
        double elapsed = 0, p50 = 0, p99 = 0;
        for (size_t rep = 0; rep < repeat; rep++) {
            auto start = clock::now();
            for (size_t i = 0; i < nq; i++) {
                auto q0 = clock::now();
                auto res = index->searchKnn(queries.data() + i * dim, k);
                lat[i] = std::chrono::duration<double>(clock::now() - q0).count();
                std::fill(labels.begin() + long(i * k), labels.begin() + long((i + 1) * k), -1);
                for (size_t j = res.size(); j > 0; j--) {
                    labels[i * k + j - 1] = int32_t(res.top().second);
                    res.pop();
                }
            }
            double e = std::chrono::duration<double>(clock::now() - start).count();
            if (rep == 0 || e < elapsed) {
                elapsed = e;
                p50 = percentile_ms(lat, 0.50);
                p99 = percentile_ms(lat, 0.99);
            }
        }
        std::string path = dir + "/labels-ef" + tok + ".ivecs";
        write_ivecs(path, labels, k);
        double qps = double(nq) / elapsed;
        std::fprintf(stderr, "hnswlib-native: ef=%zu %.0f qps\n", ef, qps);
        char buf[512];
        std::snprintf(buf, sizeof buf, "%s{\"ef\": %zu, \"qps\": %.6g, \"p50_ms\": %.6g, \"p99_ms\": %.6g, \"labels\": \"%s\"}",
                      first ? "" : ", ", ef, qps, p50, p99, path.c_str());
        runs << buf;
        first = false;
    }

    std::printf("{\"build_seconds\": %.6g, \"build_cpu_seconds\": %.6g, \"graph_bytes\": %lld, \"links_bytes\": %lld, \"rss_bytes\": %lld, "
                "\"query_mode\": \"single\", \"reference\": \"hnswlib-native (C++ headers, g++)\", \"runs\": [%s]}\n",
                build_seconds, build_cpu_seconds, std::max(0LL, rss_after - rss_before - (long long)(n * dim * sizeof(float))), links,
                proc_status("VmHWM"), runs.str().c_str());
    delete index;
    return 0;
}
