//! Lex + parse throughput on a generated program of about 100,000 lines.
//!
//! Run: `cargo bench -p conv-lang --bench parse`. Figures go to BENCHMARKS.md.

use conv_lang::{FileId, lexer, parse};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

// The same allocator as the `conv` binary, so the figure is what users get.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// About `lines` lines of realistic .conv: services with commands, dependencies and gates,
/// environments, and releases with explicit stages.
fn generate(lines: usize) -> String {
    let mut out = String::from("import std.gates.{latency_p99, max_error_rate, http_ok}\n\n");
    let mut i: usize = 0;
    // Each round adds 14 lines, and 15 more every tenth round.
    while i * 14 + (i / 10) * 15 < lines {
        out.push_str(&format!(
            "/// Service number {i}.\nservice svc_{i} {{\n  run = command {{ argv = [\"demo-app\", \"--port\", \"{{port}}\", \"--version\", \"{{version}}\"] }}\n  version = \"1.{i}.0\"\n  replicas = 3\n  depends_on = [svc_{}]\n  config = {{ \"LOG_LEVEL\" = \"info\", \"SHARD\" = \"${{{i} * 2}}\" }}\n  gates = [\n    latency_p99(under: 250ms, window: 30s),\n    max_error_rate(under: 1%, window: 30s),\n    http_ok(path: \"/healthz\"),\n  ]\n}}\n\n",
            i.saturating_sub(1)
        ));
        if i.is_multiple_of(10) {
            out.push_str(&format!(
                "environment env_{i} {{\n  provider = local {{ instances_per_site = 2 }}\n  sites = [\"site-{i}-a\", \"site-{i}-b\"]\n  after = [env_{}]\n}}\n\nrelease rel_{i} {{\n  services = [svc_{i}]\n  strategy = rollout {{\n    stage canary {{ env = env_{i}, fraction = 10%, bake = 5m }}\n    stage full {{ env = env_{i}, fraction = 100%, bake = 10m, max_parallel = 4 }}\n  }}\n}}\n\n",
                i.saturating_sub(10)
            ));
        }
        i += 1;
    }
    out
}

fn bench(c: &mut Criterion) {
    let src = generate(100_000);
    let lines = src.lines().count();
    assert!(parse(FileId(0), &src).diagnostics.is_empty(), "the generated program is valid");
    let mut group = c.benchmark_group(format!("{lines} lines"));
    group.throughput(Throughput::Bytes(src.len() as u64));
    group.sample_size(20);
    group.bench_function("lex", |b| b.iter(|| black_box(lexer::lex(FileId(0), black_box(&src)).tokens.len())));
    // The tree is freed outside the timing, as `conv check` never frees it; freeing is timed
    // on its own below.
    group.bench_function("lex+parse", |b| b.iter_with_large_drop(|| parse(FileId(0), black_box(&src))));
    group.bench_function("free the tree", |b| {
        b.iter_batched(|| parse(FileId(0), &src), drop, BatchSize::LargeInput);
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
