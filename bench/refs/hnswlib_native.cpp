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
// With --filters FILE (JSON: cases of groups, each group a file of matching
// base ids and a file of the queries that use it, raw little-endian int32),
// the unfiltered runs are followed by the runs of every filter case,
// labelled "case": i. Debian's hnswlib 0.6.2 has no filtered searchKnn
// (BaseFilterFunctor came with hnswlib 0.7), so a group's filter is applied
// through the one exclusion 0.6.2 has: before the group's queries every
// non-matching label is marked deleted (markDelete), and unmarked after
// them, neither timed. hnswlib's search treats a deleted point exactly as
// 0.7 treats a point its filter functor rejects: it is still traversed and
// its distance computed, only kept out of the results, and the search goes
// on until ef admitted points are found. For every ef, each group's queries
// get a warm-up pass and --repeat timed passes, one searchKnn call at a time;
// a pass's time is the sum over the case's groups, the fastest pass is
// reported with the latency percentiles of its queries.
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
#include <utility>
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

// Json is a parsed JSON value; parse_json reads the filter specification.
struct Json {
    enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
    std::string str;
    std::vector<Json> items;
    std::vector<std::pair<std::string, Json>> fields;

    const Json &at(const std::string &key) const {
        for (auto &f : fields)
            if (f.first == key) return f.second;
        die("filters: no field " + key);
    }
};

class JsonParser {
   public:
    explicit JsonParser(const std::string &text) : s_(text) {}

    Json parse() {
        Json v = value();
        ws();
        if (i_ != s_.size()) fail("trailing data");
        return v;
    }

   private:
    const std::string &s_;
    size_t i_ = 0;

    [[noreturn]] void fail(const std::string &what) { die("filters: " + what + " at byte " + std::to_string(i_)); }

    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) i_++;
    }

    bool eat(char c) {
        ws();
        if (i_ < s_.size() && s_[i_] == c) {
            i_++;
            return true;
        }
        return false;
    }

    void expect(char c) {
        if (!eat(c)) fail(std::string("expected '") + c + "'");
    }

    Json value() {
        ws();
        if (i_ >= s_.size()) fail("unexpected end");
        Json v;
        char c = s_[i_];
        if (c == '{') {
            i_++;
            v.kind = Json::Object;
            if (eat('}')) return v;
            do {
                ws();
                std::string key = string();
                expect(':');
                v.fields.emplace_back(std::move(key), value());
            } while (eat(','));
            expect('}');
        } else if (c == '[') {
            i_++;
            v.kind = Json::Array;
            if (eat(']')) return v;
            do v.items.push_back(value());
            while (eat(','));
            expect(']');
        } else if (c == '"') {
            v.kind = Json::String;
            v.str = string();
        } else if (s_.compare(i_, 4, "null") == 0) {
            i_ += 4;
        } else if (s_.compare(i_, 4, "true") == 0 || s_.compare(i_, 5, "false") == 0) {
            v.kind = Json::Bool;
            v.str = s_[i_] == 't' ? "true" : "false";
            i_ += v.str.size();
        } else {
            size_t start = i_;
            while (i_ < s_.size() && std::strchr("+-0123456789.eE", s_[i_])) i_++;
            if (i_ == start) fail("unexpected character");
            v.kind = Json::Number;
            v.str = s_.substr(start, i_ - start);
        }
        return v;
    }

    unsigned hex4() {
        if (i_ + 4 > s_.size()) fail("short \\u escape");
        unsigned u = 0;
        for (int j = 0; j < 4; j++) {
            char c = s_[i_++];
            u <<= 4;
            if (c >= '0' && c <= '9') u |= unsigned(c - '0');
            else if (c >= 'a' && c <= 'f') u |= unsigned(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') u |= unsigned(c - 'A' + 10);
            else fail("bad \\u escape");
        }
        return u;
    }

    std::string string() {
        if (i_ >= s_.size() || s_[i_] != '"') fail("expected a string");
        i_++;
        std::string out;
        for (;;) {
            if (i_ >= s_.size()) fail("unterminated string");
            char c = s_[i_++];
            if (c == '"') return out;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) fail("unterminated string");
            c = s_[i_++];
            switch (c) {
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned u = hex4();
                    if (u >= 0xD800 && u < 0xDC00 && s_.compare(i_, 2, "\\u") == 0) {
                        i_ += 2;
                        unsigned lo = hex4();
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    if (u < 0x80) {
                        out += char(u);
                    } else if (u < 0x800) {
                        out += char(0xC0 | (u >> 6));
                        out += char(0x80 | (u & 0x3F));
                    } else if (u < 0x10000) {
                        out += char(0xE0 | (u >> 12));
                        out += char(0x80 | ((u >> 6) & 0x3F));
                        out += char(0x80 | (u & 0x3F));
                    } else {
                        out += char(0xF0 | (u >> 18));
                        out += char(0x80 | ((u >> 12) & 0x3F));
                        out += char(0x80 | ((u >> 6) & 0x3F));
                        out += char(0x80 | (u & 0x3F));
                    }
                    break;
                }
                default: out += c;  // '"', '\\' and '/'
            }
        }
    }
};

std::vector<int32_t> read_int32s(const std::string &path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) die("cannot open " + path);
    std::streamsize size = in.tellg();
    if (size % std::streamsize(sizeof(int32_t)) != 0) die(path + ": not a file of int32");
    std::vector<int32_t> v(size_t(size) / sizeof(int32_t));
    in.seekg(0);
    if (!in.read(reinterpret_cast<char *>(v.data()), size)) die(path + ": truncated");
    return v;
}

struct FilterGroup {
    std::vector<int32_t> ids, queries;
};

struct FilterCase {
    std::string name;
    std::vector<FilterGroup> groups;
};

std::vector<FilterCase> read_filters(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) die("cannot open " + path);
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str();
    Json spec = JsonParser(text).parse();
    std::vector<FilterCase> cases;
    for (const Json &c : spec.at("cases").items) {
        FilterCase fc;
        fc.name = c.at("name").str;
        for (const Json &g : c.at("groups").items)
            fc.groups.push_back(FilterGroup{read_int32s(g.at("ids").str), read_int32s(g.at("queries").str)});
        cases.push_back(std::move(fc));
    }
    return cases;
}

// json_string quotes s for the JSON summary.
std::string json_string(const std::string &s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
        } else {
            out += char(c);
        }
    }
    return out + "\"";
}

}  // namespace

int main(int argc, char **argv) {
    std::string dir, space = "l2", efs = "10,16,24,32,48,64,96,128", filters;
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
        else if (key == "--filters") filters = val;
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

    std::vector<size_t> ef_list;
    std::stringstream ss(efs);
    for (std::string tok; std::getline(ss, tok, ',');)
        if (!tok.empty()) ef_list.push_back(std::stoul(tok));

    std::ostringstream runs;
    bool first = true;
    auto add_run = [&](size_t ef, double qps, double p50, double p99, const std::string &path, long filter_case) {
        char buf[256];
        std::snprintf(buf, sizeof buf, "{\"ef\": %zu, \"qps\": %.6g, \"p50_ms\": %.6g, \"p99_ms\": %.6g, \"case\": %ld, \"labels\": ", ef,
                      qps, p50, p99, filter_case);
        runs << (first ? "" : ", ") << buf << json_string(path) << "}";
        first = false;
    };
    // search_one searches query q and stores its labels (padded with -1) in
    // row q of labels, returning the time searchKnn took.
    auto search_one = [&](size_t q, size_t kk, std::vector<int32_t> &labels) {
        auto q0 = clock::now();
        auto res = index->searchKnn(queries.data() + q * dim, kk);
        double t = std::chrono::duration<double>(clock::now() - q0).count();
        std::fill(labels.begin() + long(q * k), labels.begin() + long((q + 1) * k), -1);
        for (size_t j = res.size(); j > 0; j--) {
            labels[q * k + j - 1] = int32_t(res.top().second);
            res.pop();
        }
        return t;
    };

    std::vector<int32_t> labels(nq * k);
    std::vector<double> lat(nq);
    for (size_t ef : ef_list) {
        index->setEf(ef);
        for (size_t i = 0; i < nq; i++) index->searchKnn(queries.data() + i * dim, k);
        double elapsed = 0, p50 = 0, p99 = 0;
        for (size_t rep = 0; rep < repeat; rep++) {
            auto start = clock::now();
            for (size_t i = 0; i < nq; i++) lat[i] = search_one(i, k, labels);
            double e = std::chrono::duration<double>(clock::now() - start).count();
            if (rep == 0 || e < elapsed) {
                elapsed = e;
                p50 = percentile_ms(lat, 0.50);
                p99 = percentile_ms(lat, 0.99);
            }
        }
        std::string path = dir + "/labels-ef" + std::to_string(ef) + ".ivecs";
        write_ivecs(path, labels, k);
        double qps = double(nq) / elapsed;
        std::fprintf(stderr, "hnswlib-native: ef=%zu %.0f qps\n", ef, qps);
        add_run(ef, qps, p50, p99, path, -1);
    }

    std::vector<FilterCase> cases;
    if (!filters.empty()) cases = read_filters(filters);
    for (size_t ci = 0; ci < cases.size(); ci++) {
        const FilterCase &fc = cases[ci];
        // Per ef: the summed time of each pass, the latencies of each pass's
        // queries and the labels.
        std::vector<std::vector<double>> times(ef_list.size(), std::vector<double>(repeat));
        std::vector<std::vector<std::vector<double>>> lats(ef_list.size(), std::vector<std::vector<double>>(repeat));
        std::vector<std::vector<int32_t>> case_labels(ef_list.size(), std::vector<int32_t>(nq * k, -1));
        std::vector<char> allowed(n);
        for (const FilterGroup &g : fc.groups) {
            size_t kk = std::min(k, g.ids.size());
            if (kk == 0 || g.queries.empty()) continue;  // nothing matches: the labels stay -1
            for (int32_t q : g.queries)
                if (q < 0 || size_t(q) >= nq) die("filters: query index out of range");
            std::fill(allowed.begin(), allowed.end(), 0);
            for (int32_t id : g.ids) {
                if (id < 0 || size_t(id) >= n) die("filters: base id out of range");
                allowed[size_t(id)] = 1;
            }
            for (size_t l = 0; l < n; l++)
                if (!allowed[l]) index->markDelete(l);
            for (size_t e = 0; e < ef_list.size(); e++) {
                index->setEf(ef_list[e]);
                for (int32_t q : g.queries) index->searchKnn(queries.data() + size_t(q) * dim, kk);
                for (size_t rep = 0; rep < repeat; rep++) {
                    auto start = clock::now();
                    for (int32_t q : g.queries) lats[e][rep].push_back(search_one(size_t(q), kk, case_labels[e]));
                    times[e][rep] += std::chrono::duration<double>(clock::now() - start).count();
                }
            }
            for (size_t l = 0; l < n; l++)
                if (!allowed[l]) index->unmarkDelete(l);
        }
        for (size_t e = 0; e < ef_list.size(); e++) {
            size_t best = size_t(std::min_element(times[e].begin(), times[e].end()) - times[e].begin());
            double elapsed = times[e][best];
            double qps = elapsed > 0 ? double(nq) / elapsed : 0;
            std::string path = dir + "/labels-case" + std::to_string(ci) + "-ef" + std::to_string(ef_list[e]) + ".ivecs";
            write_ivecs(path, case_labels[e], k);
            std::fprintf(stderr, "hnswlib-native: %s ef=%zu %.0f qps\n", fc.name.c_str(), ef_list[e], qps);
            add_run(ef_list[e], qps, percentile_ms(lats[e][best], 0.50), percentile_ms(lats[e][best], 0.99), path, long(ci));
        }
    }

    std::printf("{\"build_seconds\": %.6g, \"build_cpu_seconds\": %.6g, \"graph_bytes\": %lld, \"links_bytes\": %lld, \"rss_bytes\": %lld, "
                "\"query_mode\": \"single\", \"reference\": \"hnswlib-native (C++ headers, g++)\", \"runs\": [%s]}\n",
                build_seconds, build_cpu_seconds, std::max(0LL, rss_after - rss_before - (long long)(n * dim * sizeof(float))), links,
                proc_status("VmHWM"), runs.str().c_str());
    delete index;
    return 0;
}
