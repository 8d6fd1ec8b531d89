// cxx.cc -- C++ through heapkit: new/delete, new[]/delete[], aligned new, nothrow new,
// bad_alloc, and std::vector / std::string / std::map / std::unordered_map /
// std::shared_ptr churn, in the main thread and in std::threads. Prints a deterministic
// digest of everything it computed; cxx.sh compares it between a plain run and runs
// through heapkit (LD_PRELOAD, and linked with libheapkit.a).
// With --expect-heapkit it also checks that the blocks it got are heapkit's.
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

struct alignas(128) Wide {
    unsigned char bytes[200];
};

struct Node {
    std::string name;
    std::vector<int> values;
    std::unique_ptr<Node> next;
};

int failures = 0;

int owned(const void *p)
{
    using fn_t = int (*)(const void *);
    static fn_t fn = reinterpret_cast<fn_t>(dlsym(RTLD_DEFAULT, "hk_is_owned"));
    return fn ? fn(p) : -1;
}

std::uint64_t churn(unsigned seed, int rounds)
{
    std::uint64_t digest = seed;
    std::map<std::string, std::vector<std::string>> m;
    std::unordered_map<int, std::shared_ptr<std::string>> u;
    for (int r = 0; r < rounds; r++) {
        std::string key = "key-" + std::to_string((seed * 31 + static_cast<unsigned>(r)) % 257);
        auto &v = m[key];
        v.push_back(std::string(static_cast<size_t>(r % 300), static_cast<char>('a' + r % 26)));
        if (v.size() > 20)
            v.erase(v.begin(), v.begin() + 10);
        u[r % 500] = std::make_shared<std::string>(key + "/" + std::to_string(r));
        if (r % 7 == 0)
            u.erase((r * 13) % 500);
        int *arr = new int[static_cast<size_t>(r % 1000) + 1];
        arr[r % 1000] = r;
        digest = digest * 1099511628211u + static_cast<std::uint64_t>(arr[r % 1000]);
        delete[] arr;
    }
    for (auto &kv : m) {
        digest = digest * 31 + kv.first.size();
        for (auto &s : kv.second)
            digest = digest * 31 + s.size() + static_cast<unsigned char>(s.empty() ? 0 : s[0]);
    }
    for (auto &kv : u)
        digest += kv.second->size() * static_cast<std::uint64_t>(kv.first);
    return digest;
}

} // namespace

int main(int argc, char **argv)
{
    bool expect = argc > 1 && std::strcmp(argv[1], "--expect-heapkit") == 0;

    // plain new/delete
    auto *i = new int(42);
    auto *s = new std::string(1000, 'x');
    if (expect && (owned(i) != 1 || owned(s) != 1 || owned(s->data()) != 1)) {
        std::fprintf(stderr, "FAIL: new did not go through heapkit\n");
        failures++;
    }
    std::printf("new: %d %zu\n", *i, s->size());
    delete i;
    delete s;

    // new[] / delete[] of objects with destructors
    auto *nodes = new Node[100];
    for (int k = 0; k < 100; k++) {
        nodes[k].name = "node" + std::to_string(k);
        nodes[k].values.assign(static_cast<size_t>(k), k);
        nodes[k].next.reset(new Node{"child", {k}, nullptr});
    }
    size_t total = 0;
    for (int k = 0; k < 100; k++)
        total += nodes[k].name.size() + nodes[k].values.size() + nodes[k].next->values[0];
    std::printf("new[]: %zu\n", total);
    delete[] nodes;

    // aligned new (operator new(size_t, align_val_t) -> aligned_alloc)
    auto *w = new Wide[10];
    auto *w1 = new Wide;
    bool aligned = reinterpret_cast<std::uintptr_t>(w) % 128 == 0 &&
                   reinterpret_cast<std::uintptr_t>(w1) % 128 == 0;
    if (expect && (owned(w1) != 1)) {
        std::fprintf(stderr, "FAIL: aligned new did not go through heapkit\n");
        failures++;
    }
    std::printf("aligned new: %s\n", aligned ? "aligned" : "MISALIGNED");
    failures += !aligned;
    delete[] w;
    delete w1;

    // nothrow new of an absurd size gives nullptr; throwing new gives bad_alloc
    volatile size_t absurd = SIZE_MAX / 4;
    char *none = new (std::nothrow) char[absurd];
    std::printf("nothrow new: %s\n", none ? "NOT NULL" : "nullptr");
    failures += none != nullptr;
    delete[] none;
    try {
        std::vector<char> v(absurd);
        std::printf("bad_alloc: NOT THROWN (%zu)\n", v.size());
        failures++;
    } catch (const std::bad_alloc &) {
        std::printf("bad_alloc: thrown\n");
    }

    // containers, main thread and four threads
    std::printf("churn: %llu\n", static_cast<unsigned long long>(churn(1, 20000)));
    std::uint64_t res[4] = {0, 0, 0, 0};
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < 4; t++)
        ts.emplace_back([t, &res] { res[t] = churn(t + 2, 20000); });
    for (auto &t : ts)
        t.join();
    for (unsigned t = 0; t < 4; t++)
        std::printf("thread %u: %llu\n", t, static_cast<unsigned long long>(res[t]));

    // strings handed between threads and destroyed on the other side
    std::vector<std::unique_ptr<std::string>> handed;
    std::thread producer([&handed] {
        for (int k = 0; k < 5000; k++)
            handed.push_back(std::make_unique<std::string>(static_cast<size_t>(k % 700), 'h'));
    });
    producer.join();
    size_t hsum = 0;
    for (auto &p : handed)
        hsum += p->size();
    handed.clear();
    std::printf("handed: %zu\n", hsum);
    return failures == 0 ? 0 : 1;
}
